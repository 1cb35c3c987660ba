/* Phantom and probe geometry: layer interfaces, surface features, probe pressure on fat and
 * veins, definition checks, point queries, the image/phantom frame round trip and the beam
 * widths the synthesis is calibrated on (ultrasound.md sections 2 and 3). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "phantom.h"
#include "probe.h"

#define EPS 1e-9

/* The adult back with no thickness variation and no surface features: flat layers. */
static phantom_def flat_def(void)
{
    phantom_def d = phantom_default_def();
    for (int i = 0; i < d.n_layers; i++)
        d.layers[i].variation = 0.0;
    d.n_features = 0;
    d.n_vessels = 0;
    d.n_inclusions = 0;
    return d;
}

static phantom *make(const phantom_def *d)
{
    char err[256] = "";
    phantom *ph = phantom_create(d, err, sizeof err);
    if (!ph)
        fail_msg("phantom_create: %s", err);
    return ph;
}

static void test_flat_interfaces_are_cumulative_thicknesses(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    phantom *ph = make(&d);
    const double xs[] = {-7.0, 0.0, 3.3}, ys[] = {5.0, 0.0, -2.0};
    for (int k = 0; k < 3; k++) {
        double h[PHANTOM_MAX_LAYERS];
        assert_int_equal(phantom_interfaces(ph, xs[k], ys[k], 0.0, h), d.n_layers);
        double z = 0.0;
        for (int i = 0; i < d.n_layers; i++) {
            assert_true(fabs(h[i] - z) < EPS);
            z += d.layers[i].thickness_mm;
        }
    }
    phantom_destroy(ph);
}

/* A bony prominence raises the skin by its height at its centre (z is down, so -height), the
 * bump is a Gaussian of sigma width_mm; the skin layers move with the surface and the fat
 * over the apex is thinner (bone close under the skin), so the layers under the fat rise more. */
static void test_prominence_raises_surface_and_layers(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    phantom *flat = make(&d);
    d.n_features = 1;
    d.features[0] = (phantom_feature_def){PHANTOM_PROMINENCE, 4.0, 1.0, 0.8, 3.0, 0.0};
    phantom *ph = make(&d);
    assert_true(fabs(phantom_surface_mm(ph, 4.0, 1.0) + 0.8) < 1e-9);
    assert_true(fabs(phantom_surface_mm(ph, 7.0, 1.0) + 0.8 * exp(-0.5)) < 1e-9);
    assert_true(fabs(phantom_surface_mm(ph, -16.0, 1.0)) < 1e-6);
    double h0[PHANTOM_MAX_LAYERS], h1[PHANTOM_MAX_LAYERS];
    phantom_interfaces(flat, 4.0, 1.0, 0.0, h0);
    phantom_interfaces(ph, 4.0, 1.0, 0.0, h1);
    double fat0 = 0.0, fat1 = 0.0;
    for (int i = 0; i < d.n_layers; i++) {
        if (i <= 3) /* stratum corneum, epidermis, dermis and the fat's top */
            assert_true(fabs(h1[i] - (h0[i] - 0.8)) < 1e-9);
        else
            assert_true(h1[i] < h0[i] - 0.8 - 0.1);
        if (i + 1 < d.n_layers && (d.layers[i].tissue == TISSUE_FAT || d.layers[i].tissue == TISSUE_DEEP_FAT)) {
            fat0 += h0[i + 1] - h0[i];
            fat1 += h1[i + 1] - h1[i];
        }
    }
    print_message("fat over the apex %.2f mm, away %.2f mm\n", fat1, fat0);
    assert_true(fat1 < 0.6 * fat0 && fat1 > 0.4 * fat0);
    /* The surface normal points out of the body and leans away from the bump's top. */
    double n[3];
    phantom_surface_normal(ph, 7.0, 1.0, n);
    assert_true(n[2] < 0.0 && n[0] > 0.0);
    phantom_destroy(flat);
    phantom_destroy(ph);
}

/* Probe force: fat (and deep fat) thin by fat_strain_per_n per newton up to fat_max_strain;
 * dermis and fascia do not. */
static void test_fat_compresses_with_pressure(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    phantom *ph = make(&d);
    double h0[PHANTOM_MAX_LAYERS], h2[PHANTOM_MAX_LAYERS], h50[PHANTOM_MAX_LAYERS];
    phantom_interfaces(ph, 0, 0, 0.0, h0);
    phantom_interfaces(ph, 0, 0, 2.0, h2);
    phantom_interfaces(ph, 0, 0, 50.0, h50);
    for (int i = 0; i + 1 < d.n_layers; i++) {
        double t0 = h0[i + 1] - h0[i], t2 = h2[i + 1] - h2[i], t50 = h50[i + 1] - h50[i];
        if (d.layers[i].tissue == TISSUE_FAT || d.layers[i].tissue == TISSUE_DEEP_FAT) {
            assert_true(fabs(t2 - t0 * (1.0 - 2.0 * d.fat_strain_per_n)) < 1e-9);
            assert_true(fabs(t50 - t0 * (1.0 - d.fat_max_strain)) < 1e-9);
        } else {
            assert_true(fabs(t2 - t0) < 1e-9);
        }
    }
    printf("fat 3.0 mm under 0 / 2 / 50 N: %.3f / %.3f / %.3f mm\n", h0[4] - h0[3], h2[4] - h2[3],
           h50[4] - h50[3]);
    phantom_destroy(ph);
}

/* Veins flatten under the probe (their vertical semi-axis shrinks), arteries keep their
 * lumen; a point inside the vein at rest leaves its lumen under pressure. */
static void test_vein_collapses_artery_does_not(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    d.n_vessels = 2;
    d.vessels[0] = (phantom_vessel_def){{-20, 2, 3.5}, {20, 2, 3.5}, 0.3, 0.04, true};
    d.vessels[1] = (phantom_vessel_def){{-20, -2, 3.5}, {20, -2, 3.5}, 0.3, 0.04, false};
    phantom *ph = make(&d);
    double r0 = phantom_vessel_vertical_radius(ph, 0, 0.0);
    double r1 = phantom_vessel_vertical_radius(ph, 0, 1.0);
    double r3 = phantom_vessel_vertical_radius(ph, 0, 3.0);
    printf("vein vertical radius at 0 / 1 / 3 N: %.3f / %.3f / %.3f mm\n", r0, r1, r3);
    assert_true(fabs(r0 - 0.3) < EPS);
    assert_true(r1 < r0 && r3 < r1 && r3 > 0.0);
    for (double f = 0.0; f <= 3.0; f += 0.5)
        assert_true(fabs(phantom_vessel_vertical_radius(ph, 1, f) - 0.3) < EPS);
    double in_vein[3] = {0.0, 2.0, 3.5 + 0.2}, in_artery[3] = {0.0, -2.0, 3.5 + 0.2};
    assert_int_equal(phantom_vessel_region(ph, 0, in_vein, 0.0), 2);
    assert_int_not_equal(phantom_vessel_region(ph, 0, in_vein, 1.5), 2);
    assert_int_equal(phantom_vessel_region(ph, 1, in_artery, 1.5), 2);
    phantom_destroy(ph);
}

static void expect_rejected(const phantom_def *d, const char *needle)
{
    char err[256] = "";
    phantom *ph = phantom_create(d, err, sizeof err);
    if (ph) {
        phantom_destroy(ph);
        fail_msg("accepted a definition that should fail on %s", needle);
    }
    if (!strstr(err, needle))
        fail_msg("message \"%s\" does not name %s", err, needle);
}

static void test_create_rejects_bad_sizes(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    d.layers[2].thickness_mm = 0.0;
    expect_rejected(&d, "layers[2].thickness_mm");
    d = flat_def();
    d.layers[3].thickness_mm = -1.0;
    expect_rejected(&d, "layers[3].thickness_mm");
    d = flat_def();
    d.n_vessels = 1;
    d.vessels[0] = (phantom_vessel_def){{-5, 0, 3}, {5, 0, 3}, 0.0, 0.05, false};
    expect_rejected(&d, "vessels[0].radius_mm");
    d = flat_def();
    d.n_inclusions = 1;
    d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_ELLIPSOID, .tissue = TISSUE_FLUID,
                                          .c_mm = {0, 0, 3}, .radii_mm = {0.5, 0.0, 0.5}};
    expect_rejected(&d, "inclusions[0].radii_mm");
    d = flat_def();
    d.n_inclusions = 1;
    d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_CAPSULE, .tissue = TISSUE_STEEL,
                                          .a_mm = {0, 0, 1}, .b_mm = {0, 0, 3}, .radius_mm = 0.0};
    expect_rejected(&d, "inclusions[0].radius_mm");
    d = flat_def();
    d.n_layers = 0;
    expect_rejected(&d, "layers");
    /* The bottom layer's thickness is ignored: zero there is fine. */
    d = flat_def();
    d.layers[d.n_layers - 1].thickness_mm = 0.0;
    phantom *ph = make(&d);
    phantom_destroy(ph);
}

/* Known points of the flat adult back: gel above the skin, then each layer; a vessel's lumen
 * and wall; an inclusion overrides what is around it. */
static void test_phantom_at_known_points(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    d.n_vessels = 1;
    d.vessels[0] = (phantom_vessel_def){{-20, 0, 4.0}, {20, 0, 4.0}, 0.3, 0.05, false};
    d.n_inclusions = 1;
    d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_ELLIPSOID, .tissue = TISSUE_FLUID,
                                          .c_mm = {3, 3, 4}, .radii_mm = {0.5, 0.5, 0.5}};
    phantom *ph = make(&d);
    struct { double p[3]; tissue_id t; int layer; } k[] = {
        {{0, 2, -0.5}, TISSUE_GEL, -1},
        {{0, 2, 0.01}, TISSUE_STRATUM_CORNEUM, 0},
        {{0, 2, 0.05}, TISSUE_EPIDERMIS, 1},
        {{0, 2, 1.0}, TISSUE_DERMIS, 2},
        {{0, 2, 3.0}, TISSUE_FAT, 3},
        {{0, 2, 5.7}, TISSUE_SUPERFICIAL_FASCIA, 4},
        {{0, 2, 8.0}, TISSUE_DEEP_FAT, 5},
        {{0, 2, 10.2}, TISSUE_DEEP_FASCIA, 6},
        {{0, 2, 12.0}, TISSUE_MUSCLE, 7},
        {{1, 0, 4.0}, TISSUE_BLOOD, 3},
        {{1, 0, 4.33}, TISSUE_VESSEL_WALL, 3},
        {{3, 3, 4.2}, TISSUE_FLUID, 3},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        phantom_sample s = phantom_at(ph, k[i].p, 0.0, NULL, 0);
        if (s.tissue != k[i].t || s.layer != k[i].layer)
            fail_msg("at (%g, %g, %g): %s in layer %d, expected %s in layer %d", k[i].p[0],
                     k[i].p[1], k[i].p[2], tissue_name(s.tissue), s.layer, tissue_name(k[i].t),
                     k[i].layer);
    }
    phantom_sample s = phantom_at(ph, (double[3]){0, 2, 1.0}, 0.0, NULL, 0);
    assert_true(fabs(s.depth_mm - 1.0) < 1e-9);
    assert_int_equal(phantom_at(ph, (double[3]){1, 0, 4.0}, 0.0, NULL, 0).vessel, 0);
    /* A dynamic inclusion (injected drug) is checked after the static ones. */
    phantom_inclusion drug = {.kind = PHANTOM_ELLIPSOID, .tissue = TISSUE_FLUID,
                              .c_mm = {0, 2, 1.0}, .radii_mm = {0.3, 0.3, 0.3}};
    s = phantom_at(ph, (double[3]){0, 2, 1.0}, 0.0, &drug, 1);
    assert_int_equal(s.tissue, TISSUE_FLUID);
    assert_int_equal(s.inclusion, 1);
    phantom_destroy(ph);
}

/* probe_frame: orthonormal axes, w the beam; image -> phantom -> image is the identity for any
 * pose; an untilted probe's image depth is phantom depth below the skin at its centre. */
static void test_probe_frame_round_trip(void **state)
{
    (void)state;
    phantom_def d = flat_def();
    d.n_features = 1;
    d.features[0] = (phantom_feature_def){PHANTOM_PROMINENCE, 2.0, 0.0, 0.5, 4.0, 0.0};
    phantom *ph = make(&d);
    probe_pose pose = {.x_mm = 1.5, .y_mm = -2.0, .rot_deg = 30.0, .tilt_deg = 12.0,
                       .rock_deg = -7.0, .pressure_n = 1.0};
    probe_frame f = probe_frame_make(ph, NULL, &pose);
    const double *ax[3] = {f.u, f.v, f.w};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double dot = ax[i][0] * ax[j][0] + ax[i][1] * ax[j][1] + ax[i][2] * ax[j][2];
            assert_true(fabs(dot - (i == j ? 1.0 : 0.0)) < 1e-12);
        }
    assert_true(fabs(f.origin[2] - phantom_surface_mm(ph, 1.5, -2.0)) < 1e-12);
    const double pts[3][3] = {{0, 0, 0}, {-4.2, 0.3, 7.5}, {6.1, -0.8, 2.2}};
    for (int i = 0; i < 3; i++) {
        double p[3], q[3];
        probe_image_to_phantom(&f, pts[i][0], pts[i][1], pts[i][2], p);
        probe_phantom_to_image(&f, p, q);
        for (int k = 0; k < 3; k++)
            assert_true(fabs(q[k] - pts[i][k]) < 1e-12);
    }
    probe_pose flat_pose = probe_default_pose();
    flat_pose.x_mm = 1.0;
    f = probe_frame_make(ph, NULL, &flat_pose);
    double p[3];
    probe_image_to_phantom(&f, 0.5, 0.0, 3.0, p);
    assert_true(fabs(p[0] - 1.5) < 1e-12 && fabs(p[1]) < 1e-12);
    assert_true(fabs(p[2] - (phantom_surface_mm(ph, 1.0, 0.0) + 3.0)) < 1e-12);
    phantom_destroy(ph);
}

/* Beam widths of the default (L22-14v-like) probe against the reference run (ultrasound.md
 * section 2: 130 um axial, 154 um lateral at 3 mm) and the slice thickness lambda z_f / h
 * (section 3: 0.43 mm at 18 MHz at the 8 mm lens focus), wider towards the skin. */
static void test_probe_beam_widths(void **state)
{
    (void)state;
    probe_def p = probe_default_def();
    assert_null(probe_check(&p));
    double ax = probe_axial_fwhm_mm(&p), lat = probe_lateral_fwhm_mm(&p, 3.0);
    double el8 = probe_elevation_fwhm_mm(&p, 8.0), el2 = probe_elevation_fwhm_mm(&p, 2.0);
    printf("default probe: axial %.3f mm, lateral at 3 mm %.3f mm, elevation at 8 / 2 mm %.3f / "
           "%.3f mm, wavelength %.4f mm\n", ax, lat, el8, el2, probe_wavelength_mm(&p));
    assert_true(fabs(ax / 0.130 - 1.0) <= 0.20);
    assert_true(fabs(lat / 0.154 - 1.0) <= 0.20);
    assert_true(fabs(el8 / 0.43 - 1.0) <= 0.05);
    assert_true(el2 > el8);
    assert_true(fabs(probe_wavelength_mm(&p) - 0.0856) < 0.0005);
    /* Higher frequency: every width shrinks. */
    probe_def q = p;
    q.freq_mhz = 22.0;
    assert_true(probe_axial_fwhm_mm(&q) < ax);
    assert_true(probe_lateral_fwhm_mm(&q, 3.0) < lat);
    assert_true(probe_elevation_fwhm_mm(&q, 8.0) < el8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_interfaces_are_cumulative_thicknesses),
        cmocka_unit_test(test_prominence_raises_surface_and_layers),
        cmocka_unit_test(test_fat_compresses_with_pressure),
        cmocka_unit_test(test_vein_collapses_artery_does_not),
        cmocka_unit_test(test_create_rejects_bad_sizes),
        cmocka_unit_test(test_phantom_at_known_points),
        cmocka_unit_test(test_probe_frame_round_trip),
        cmocka_unit_test(test_probe_beam_widths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
