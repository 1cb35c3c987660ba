/* Echoes beyond speckle: specular reflection at interfaces and what strong or weak
 * attenuators do to the tissue below them.
 *  - A flat interface reflects like a mirror: its echo returns to the aperture only near
 *    normal incidence (tissue.md 2b gives R at normal incidence), so tilting the beam 15
 *    degrees must weaken it (the receive aperture at F# 1.35 accepts ~10 degrees).
 *  - Gas reflects > 99.9 % (R ~ -1, tissue.md 2b): a bright echo at its top and a shadow
 *    below it (tissue.md 3: "bright punctiform foci with dirty shadowing").
 *  - A fluid cyst barely attenuates (water 0.0022 dB/cm/MHz against fat 0.8): the tissue
 *    below it is brighter than beside it (posterior enhancement, ultrasound.md section 4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"

/* Two layers: top (2 mm) over bottom. */
static phantom_def two_layer_def(tissue_id top, tissue_id bottom)
{
    phantom_def d = pu_uniform_def(top, 9);
    d.n_layers = 2;
    d.layers[0] = (phantom_layer_def){top, 2.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    d.layers[1] = (phantom_layer_def){bottom, 0.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    return d;
}

/* Peak of the column-averaged dB profile within depth z0..z1. */
static double profile_peak_db(const bmode_image *im, double z0, double z1)
{
    double *prof = malloc(sizeof(double) * (size_t)im->rows);
    assert_non_null(prof);
    pu_db_profile(im, 0, im->cols - 1, prof);
    double best = -1e9;
    for (int r = pu_row(im, z0); r <= pu_row(im, z1); r++)
        if (prof[r] > best)
            best = prof[r];
    free(prof);
    return best;
}

/* Echo of the flat interface at depth 2 mm, per line: the brightest sample within 0.4 mm of
 * where the line meets the interface (lines of a rocked probe meet it at different depths
 * along the beam), averaged in dB over the central lines. */
static double interface_peak_db(const phantom *ph, double tilt_deg, double rock_deg)
{
    probe_def p = pu_probe(64, 5.0);
    probe_pose pose = probe_default_pose();
    pose.tilt_deg = tilt_deg;
    pose.rock_deg = rock_deg;
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    const double deg = 3.14159265358979323846 / 180.0;
    double ct = cos(tilt_deg * deg), sk = sin(rock_deg * deg), ck = cos(rock_deg * deg);
    double sum = 0;
    int n = 0;
    for (int c = pu_col(&im, -4.0); c <= pu_col(&im, 4.0); c++) {
        /* Line c starts at depth -x cos(tilt) sin(rock) and descends cos(tilt) cos(rock) per mm. */
        double t = (2.0 + pu_col_x(&im, c) * ct * sk) / (ct * ck);
        double best = -1e9;
        for (int r = pu_row(&im, t - 0.4); r <= pu_row(&im, t + 0.4); r++)
            best = fmax(best, pu_db(im.envelope[(size_t)r * im.cols + c]));
        sum += best;
        n++;
    }
    return sum / n;
}

/* Specular echo alone: dermis over thoracolumbar fascia (R = +0.076) with the backscatter of
 * both set to 0, so the interface echo is the only signal. Oblique by 15 degrees, in
 * elevation (tilt) or in plane (rock), it must lose at least 4 dB. */
static void test_specular_echo_weaker_when_oblique(void **state)
{
    (void)state;
    phantom_def d = two_layer_def(TISSUE_DERMIS, TISSUE_DEEP_FASCIA);
    d.tissues.t[TISSUE_DERMIS].backscatter = 0.0;
    d.tissues.t[TISSUE_DEEP_FASCIA].backscatter = 0.0;
    phantom *ph = pu_phantom(&d);
    double normal = interface_peak_db(ph, 0.0, 0.0);
    double tilt = interface_peak_db(ph, 15.0, 0.0);
    double rock = interface_peak_db(ph, 0.0, 15.0);
    printf("dermis/deep fascia interface echo: tilt 15 deg %+.1f dB, rock 15 deg %+.1f dB against "
           "normal incidence\n", tilt - normal, rock - normal);
    assert_true(normal - tilt >= 4.0);
    assert_true(normal - rock >= 4.0);
    phantom_destroy(ph);
}

/* The same with real tissue: the dermis-fat junction (R = -0.13) is a bright line over dark
 * fat; fanning the probe 15 degrees dims the line by at least 4 dB. */
static void test_dermis_fat_line_dims_when_oblique(void **state)
{
    (void)state;
    phantom_def d = two_layer_def(TISSUE_DERMIS, TISSUE_FAT);
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(64, 5.0);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double normal = profile_peak_db(&im, 1.6, 2.6);
    pose.tilt_deg = 15.0;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double tilt = profile_peak_db(&im, 1.6, 2.6);
    printf("dermis/fat junction line: %+.1f dB at tilt 15 deg against normal incidence\n",
           tilt - normal);
    assert_true(normal - tilt >= 4.0);
    phantom_destroy(ph);
}

static phantom *with_sphere(tissue_id t, double radius, double depth)
{
    phantom_def d = phantom_default_def();
    d.n_inclusions = 1;
    d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_ELLIPSOID, .tissue = t,
                                          .c_mm = {0.0, 0.0, depth},
                                          .radii_mm = {radius, radius, radius}};
    return pu_phantom(&d);
}

/* Mean dB of rows z0..z1 under the object (|x| <= half) against the same rows beside it
 * (2 <= |x| <= 5.5 mm, both sides). */
static double below_minus_beside_db(const bmode_image *im, double z0, double z1, double half)
{
    pu_stats under = pu_region_stats(im, (pu_region){z0, z1, -half, half}, NULL);
    pu_stats left = pu_region_stats(im, (pu_region){z0, z1, -5.5, -2.0}, NULL);
    pu_stats right = pu_region_stats(im, (pu_region){z0, z1, 2.0, 5.5}, NULL);
    double beside = (left.db_mean * left.n + right.db_mean * right.n) / (left.n + right.n);
    return under.db_mean - beside;
}

/* A 0.5 mm gas bubble at 4 mm in the adult back's fat: 1-4 mm below it the image is at least
 * 20 dB darker than beside it, and its top is a bright echo, at least 10 dB over the fat at
 * that depth beside it. (The bubble is seen by partial volume: its curved crown enters the
 * ~0.9 mm thick slice over several rows whose echoes partly cancel, as the Fresnel zones of a
 * small sphere do, so it is bright but not a flat mirror's +30 dB.) */
static void test_gas_bubble_shadows(void **state)
{
    (void)state;
    phantom *ph = with_sphere(TISSUE_GAS, 0.5, 4.0);
    probe_def p = pu_probe(128, 9.0);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double shadow = below_minus_beside_db(&im, 5.5, 8.5, 0.25);
    /* Top echo: the brightest pixel over the bubble's crown against the mean beside it. */
    double top = -1e9;
    for (int r = pu_row(&im, 3.3); r <= pu_row(&im, 3.7); r++)
        for (int c = pu_col(&im, -0.2); c <= pu_col(&im, 0.2); c++)
            top = fmax(top, pu_db(im.envelope[(size_t)r * im.cols + c]));
    pu_stats beside = pu_region_stats(&im, (pu_region){3.3, 3.7, 2.0, 5.5}, NULL);
    printf("gas bubble r 0.5 mm at 4 mm: region 1-4 mm below %+.1f dB against beside; top echo "
           "%+.1f dB over the fat beside\n", shadow, top - beside.db_mean);
    assert_true(shadow <= -20.0);
    assert_true(top - beside.db_mean >= 10.0);
    phantom_destroy(ph);
}

/* Mean echo power (dB) in a box, for the difference a bubble makes to the same speckle. */
static double box_power_db(const bmode_image *im, double z0, double z1, double x0, double x1)
{
    double sum = 0;
    int n = 0;
    for (int r = pu_row(im, z0); r <= pu_row(im, z1); r++)
        for (int c = pu_col(im, x0); c <= pu_col(im, x1); c++, n++)
            sum += (double)im->envelope[(size_t)r * im->cols + c] * im->envelope[(size_t)r * im->cols + c];
    return 10.0 * log10(sum / n + 1e-300);
}

/* Partial volume: a 0.3 mm gas bubble at 4 mm is seen while it lies inside the slice (about
 * 0.9 mm thick there), centred or 0.3 mm off the plane, weaker off it, and shadows the tissue
 * below it in proportion; 2 mm off the plane it is gone, echo and shadow. Each figure is the
 * bubble's scene against the same scene without it (same speckle), as mean power in a box
 * over its crown (0.3 mm deep, 0.2 mm wide) and over 3 mm below it. */
static void test_gas_bubble_partial_volume(void **state)
{
    (void)state;
    phantom *with = with_sphere(TISSUE_GAS, 0.3, 4.0);
    phantom_def d = phantom_default_def();
    phantom *without = pu_phantom(&d);
    probe_def p = pu_probe(128, 9.0);
    const double offsets[3] = {0.0, 0.3, 2.0};
    double echo[3], shadow[3];
    for (int k = 0; k < 3; k++) {
        probe_pose pose = probe_default_pose();
        pose.y_mm = offsets[k];
        bmode_image a, b;
        pu_render(pu_bm, without, &p, &pose, &b);
        double crown_b = box_power_db(&b, 3.6, 3.9, -0.1, 0.1), below_b = box_power_db(&b, 5.0, 8.0, -0.1, 0.1);
        pu_render(pu_bm, with, &p, &pose, &a);
        echo[k] = box_power_db(&a, 3.6, 3.9, -0.1, 0.1) - crown_b;
        shadow[k] = box_power_db(&a, 5.0, 8.0, -0.1, 0.1) - below_b;
        printf("gas bubble r 0.3 mm, %.1f mm off the plane: crown %+.1f dB, region below %+.1f dB against no bubble\n",
               offsets[k], echo[k], shadow[k]);
    }
    assert_true(echo[0] >= 6.0);
    assert_true(echo[1] >= 1.0 && echo[1] < echo[0]);
    assert_true(shadow[0] <= -6.0);
    assert_true(shadow[1] < -1.0 && shadow[1] > shadow[0]);
    assert_true(fabs(echo[2]) < 1.0);
    assert_true(fabs(shadow[2]) < 1.0);
    phantom_destroy(with);
    phantom_destroy(without);
}

/* A 1 mm fluid cyst at 4 mm in fat: its content is anechoic (at least 15 dB under the fat
 * beside it) and the tissue 0.5-3 mm below it is brighter than beside it by more than 2 dB
 * (two-way fat attenuation over the ~1.9 mm mean chord: 2 x 1.44 dB/mm x 1.9 = 5.5 dB). */
static void test_cyst_posterior_enhancement(void **state)
{
    (void)state;
    phantom *ph = with_sphere(TISSUE_FLUID, 1.0, 4.0);
    probe_def p = pu_probe(128, 9.0);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double inside = below_minus_beside_db(&im, 3.6, 4.4, 0.4);
    double below = below_minus_beside_db(&im, 5.5, 8.0, 0.5);
    printf("fluid cyst r 1 mm at 4 mm: content %+.1f dB against the fat beside; region 0.5-3 mm "
           "below %+.1f dB against beside\n", inside, below);
    assert_true(inside <= -15.0);
    assert_true(below > 2.0);
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_specular_echo_weaker_when_oblique),
        cmocka_unit_test(test_dermis_fat_line_dims_when_oblique),
        cmocka_unit_test(test_gas_bubble_shadows),
        cmocka_unit_test(test_gas_bubble_partial_volume),
        cmocka_unit_test(test_cyst_posterior_enhancement),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
