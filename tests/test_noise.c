/* Noise and clutter: the receiver's electronic noise is added before TGC, gain and detection,
 * so in an echo-free region its displayed level follows the gain dB for dB, and it shows in an
 * anechoic lumen as the gain is turned up; near-field clutter is a band under the probe face
 * that fades within about 2 mm. Both are deterministic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "bmode_model.h"
#include "physics_util.h"

/* Dermis that scatters nothing: what the image shows is the receiver's noise and clutter. */
static phantom *silent_phantom(void)
{
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 3);
    d.tissues.t[TISSUE_DERMIS].backscatter = 0.0;
    return pu_phantom(&d);
}

/* Mean envelope dB over rows z0..z1 mm, all columns. */
static double band_db(const bmode_image *im, double z0, double z1)
{
    pu_region g = {z0, z1, -1e3, 1e3};
    return pu_region_stats(im, g, NULL).db_mean;
}

static void test_noise_follows_gain_in_receiver_terms(void **state)
{
    (void)state;
    phantom *ph = silent_phantom();
    probe_def p = pu_probe(256, 10.0);
    p.tgc_on = false;
    probe_pose pose = probe_default_pose();
    const double gains[3] = {0.0, 20.0, 40.0};
    double lvl[3];
    for (int i = 0; i < 3; i++) {
        p.gain_db = gains[i];
        bmode_image im;
        pu_render(pu_bm, ph, &p, &pose, &im);
        lvl[i] = band_db(&im, 4.0, 9.0);
        printf("echo-free dermis 4-9 mm, TGC off, gain %+.0f dB: noise %.1f dB\n", gains[i], lvl[i]);
    }
    assert_true(fabs(lvl[1] - lvl[0] - 20.0) < 0.5 && fabs(lvl[2] - lvl[1] - 20.0) < 0.5);
    /* Its level at the receiver: BM_NOISE_REL times the field unit (components uniform in
     * +-1, variance 1/3 each: rms sqrt(2/3)), shown at the reference level at gain 0 after
     * unit-energy filtering; the mean dB of a Rayleigh envelope sits 2.51 dB under its rms. */
    double expect = 20.0 * log10(BM_NOISE_REL * sqrt(2.0 / 3.0)) + BM_REF_LEVEL_DB - 2.51;
    printf("noise at gain 0: %.1f dB (expected %.1f)\n", lvl[0], expect);
    assert_true(fabs(lvl[0] - expect) < 0.5);
    /* With TGC on the noise rises with depth as the TGC's gain does. */
    p.gain_db = 0.0;
    p.tgc_on = true;
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double d4 = band_db(&im, 3.5, 4.5), d8 = band_db(&im, 7.5, 8.5);
    double tgc = probe_tgc_db(&p, 8.0) - probe_tgc_db(&p, 4.0);
    printf("TGC on: noise 4 mm %.1f dB, 8 mm %.1f dB (TGC difference %.1f dB)\n", d4, d8, tgc);
    assert_true(fabs(d8 - d4 - tgc) < 1.0);
    phantom_destroy(ph);
}

/* An anechoic cyst (fluid that scatters nothing, 4 mm across, in fat): its centre lies beyond
 * the reach of its walls' PSF (kernels end within 0.35 mm), so without noise it would be
 * black at any gain. It stays black at gain 0 and greys as the gain rises, while the fat
 * around it brightens by the same dB. */
static void test_lumen_greys_with_gain(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_FAT, 5);
    d.tissues.t[TISSUE_FLUID].backscatter = 0.0;
    d.n_inclusions = 1;
    d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_ELLIPSOID, .tissue = TISSUE_FLUID,
                                          .c_mm = {0.0, 0.0, 6.0}, .radii_mm = {2.0, 2.0, 2.0}};
    phantom *ph = pu_phantom(&d);
    probe_pose pose = probe_default_pose();
    const double gains[4] = {0.0, 15.0, 25.0, 35.0};
    double grey[4];
    for (int i = 0; i < 4; i++) {
        probe_def p = pu_probe(256, 10.0);
        p.gain_db = gains[i];
        bmode_image im;
        pu_render(pu_bm, ph, &p, &pose, &im);
        int r0 = pu_row(&im, 5.0), r1 = pu_row(&im, 7.0), c0 = pu_col(&im, -1.0), c1 = pu_col(&im, 1.0);
        double sum = 0;
        int n = 0;
        for (int r = r0; r <= r1; r++)
            for (int c = c0; c <= c1; c++) {
                assert_int_equal(im.labels[(size_t)r * im.cols + c], TISSUE_FLUID);
                sum += im.pixels[(size_t)r * im.cols + c];
                n++;
            }
        grey[i] = sum / n;
        printf("cyst centre (%d px) at gain %+.0f dB: mean grey %.1f\n", n, gains[i], grey[i]);
    }
    assert_true(grey[0] < 3.0);
    for (int i = 2; i < 4; i++)
        assert_true(grey[i] > grey[i - 1] + 10.0);
    phantom_destroy(ph);
}

static void test_near_field_clutter_band_fades(void **state)
{
    (void)state;
    phantom *ph = silent_phantom();
    probe_def p = pu_probe(256, 10.0);
    p.tgc_on = false;
    probe_pose pose = probe_default_pose();
    bmode_image im, again;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double b[8];
    for (int i = 0; i < 8; i++) {
        b[i] = band_db(&im, 0.25 + 0.25 * i, 0.5 + 0.25 * i);
        printf("near field %.2f-%.2f mm: %.1f dB\n", 0.25 + 0.25 * i, 0.5 + 0.25 * i, b[i]);
    }
    double floor_db = band_db(&im, 4.0, 9.0);
    printf("noise floor 4-9 mm: %.1f dB\n", floor_db);
    /* A bright band at the face, falling with depth, gone (within 1 dB of the floor) by 2 mm. */
    assert_true(b[0] > floor_db + 20.0);
    for (int i = 1; i < 8; i++)
        assert_true(b[i] < b[i - 1] + 0.5);
    assert_true(b[0] - b[3] > 6.0);
    assert_true(band_db(&im, 2.0, 2.5) < floor_db + 3.0);
    /* Deterministic: the same scene gives the same bytes. */
    float *env = malloc(sizeof(float) * (size_t)im.rows * im.cols);
    assert_non_null(env);
    memcpy(env, im.envelope, sizeof(float) * (size_t)im.rows * im.cols);
    pu_render(pu_bm, ph, &p, &pose, &again);
    assert_memory_equal(env, again.envelope, sizeof(float) * (size_t)im.rows * im.cols);
    free(env);
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_noise_follows_gain_in_receiver_terms),
        cmocka_unit_test(test_lumen_greys_with_gain),
        cmocka_unit_test(test_near_field_clutter_band_fades),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
