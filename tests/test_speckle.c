/* Speckle: the statistics, grain size and motion of the tissue-fixed scatterer field.
 *
 * Fully developed speckle (many random scatterers per resolution cell, complex sum) has a
 * Rayleigh-distributed envelope whose mean/std is sqrt(pi / (4 - pi)) = 1.91
 * (ultrasound.md section 2; PyMUST measured 1.80-1.83). The grain is the PSF: its
 * autocorrelation width shrinks as the frequency (and so the bandwidth and the beam) grows.
 * The scatterers live in the tissue frame (DESIGN.md "Frames and units"): a still probe shows
 * the same speckle, sliding it in-plane carries the speckle along, moving it in elevation
 * replaces the speckle over about the slice thickness. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"

#define RAYLEIGH_SNR 1.913 /* sqrt(pi / (4 - pi)) */
#define SNR_TOL 0.15

/* Homogeneous dermis (no texture, no interfaces), TGC slope set to dermis attenuation so the
 * mean level is flat with depth: every window away from the skin shows Rayleigh speckle. */
static void test_envelope_snr_homogeneous(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 7);
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(128, 8.0);
    p.tgc_db_cm_mhz = d.tissues.t[TISSUE_DERMIS].atten_db_cm_mhz;
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    const double z0[] = {1.0, 3.0, 5.5};
    for (int i = 0; i < 3; i++) {
        pu_region g = {z0[i], z0[i] + 1.5, -5.5, 5.5};
        pu_stats st = pu_region_stats(&im, g, NULL);
        double snr = st.env_mean / st.env_std;
        printf("homogeneous dermis, z %.1f-%.1f mm: envelope SNR %.3f (Rayleigh %.3f), n %d\n",
               g.z0_mm, g.z1_mm, snr, RAYLEIGH_SNR, st.n);
        assert_true(fabs(snr - RAYLEIGH_SNR) <= SNR_TOL);
    }
    phantom_destroy(ph);
}

/* The default adult back: the dermis band (0.09-2.54 mm) between the entry echo and the
 * dermis-fat junction, default probe and TGC. */
static void test_envelope_snr_adult_dermis(void **state)
{
    (void)state;
    phantom_def d = phantom_default_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = probe_default_def();
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    uint8_t *mask = pu_label_mask(&im, TISSUE_DERMIS, 10, 2);
    pu_region g = {0.5, 2.1, -6.0, 6.0};
    pu_stats st = pu_region_stats(&im, g, mask);
    double snr = st.env_mean / st.env_std;
    printf("adult back dermis z 0.5-2.1 mm: envelope SNR %.3f (Rayleigh %.3f), n %d\n", snr,
           RAYLEIGH_SNR, st.n);
    assert_true(st.n > 5000);
    assert_true(fabs(snr - RAYLEIGH_SNR) <= SNR_TOL);
    free(mask);
    phantom_destroy(ph);
}

/* Grain size: autocorrelation FWHM of the envelope in homogeneous dermis at 12, 18 and 22 MHz.
 * Axial grain ~ pulse length ~ 1 / bandwidth (bandwidth is a fixed fraction of f); lateral
 * grain ~ lambda * F#. Both must shrink strictly as f rises. For a Gaussian PSF the
 * intensity autocorrelation has the PSF's own -6 dB width, so the axial grain is also checked
 * against probe_axial_fwhm_mm (within 30 %: the envelope, not the intensity, is correlated,
 * and the scatterer voxels are not infinitely fine). */
static void test_speckle_grain_shrinks_with_frequency(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 11);
    phantom *ph = pu_phantom(&d);
    const double f[] = {12.0, 18.0, 22.0};
    double ax[3], lat[3];
    for (int i = 0; i < 3; i++) {
        probe_def p = pu_probe(256, 5.0);
        p.freq_mhz = f[i];
        p.tgc_db_cm_mhz = d.tissues.t[TISSUE_DERMIS].atten_db_cm_mhz;
        probe_pose pose = probe_default_pose();
        bmode_image im;
        pu_render(pu_bm, ph, &p, &pose, &im);
        pu_region g = {1.0, 4.5, -5.5, 5.5};
        ax[i] = pu_acf_fwhm_axial_mm(&im, g);
        lat[i] = pu_acf_fwhm_lateral_mm(&im, g);
        double psf_ax = probe_axial_fwhm_mm(&p), psf_lat = probe_lateral_fwhm_mm(&p, 2.75);
        printf("%4.0f MHz: speckle ACF FWHM axial %.3f mm (PSF %.3f, ratio %.2f), lateral %.3f mm "
               "(PSF %.3f, ratio %.2f)\n",
               f[i], ax[i], psf_ax, ax[i] / psf_ax, lat[i], psf_lat, lat[i] / psf_lat);
        assert_true(fabs(ax[i] / psf_ax - 1.0) <= 0.30);
    }
    assert_true(ax[0] > ax[1] && ax[1] > ax[2]);
    assert_true(lat[0] > lat[1] && lat[1] > lat[2]);
    phantom_destroy(ph);
}

/* A probe that does not move shows exactly the same image: same bytes, also after rendering
 * another pose in between (the context keeps no state that leaks into the next frame). */
static void test_still_probe_same_bytes(void **state)
{
    (void)state;
    phantom_def d = phantom_default_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(128, 8.0);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    size_t n = (size_t)im.rows * im.cols;
    uint8_t *first = malloc(n);
    assert_non_null(first);
    memcpy(first, im.pixels, n);
    pu_render(pu_bm, ph, &p, &pose, &im);
    assert_memory_equal(first, im.pixels, n);
    probe_pose moved = pose;
    moved.y_mm = 1.0;
    moved.tilt_deg = 5.0;
    pu_render(pu_bm, ph, &p, &moved, &im);
    assert_memory_not_equal(first, im.pixels, n);
    pu_render(pu_bm, ph, &p, &pose, &im);
    assert_memory_equal(first, im.pixels, n);
    free(first);
    phantom_destroy(ph);
}

/* Sliding the probe 10 columns (0.5 mm at 256 lines) along x: the speckle stays with the
 * tissue, so the new image equals the old one read 10 columns further right (correlation
 * > 0.9), while at the same columns it is unrelated (0.5 mm is ~3 lateral grains). Measured in
 * the dermis band so the layer pattern does not add correlation of its own. */
static void test_speckle_slides_with_probe(void **state)
{
    (void)state;
    phantom_def d = phantom_default_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 5.0);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    size_t n = (size_t)im.rows * im.cols;
    bmode_image a = im;
    a.envelope = malloc(sizeof(float) * n);
    assert_non_null(a.envelope);
    memcpy(a.envelope, im.envelope, sizeof(float) * n);
    const int k = 10;
    probe_pose slid = pose;
    slid.x_mm = k * im.dx_mm;
    bmode_image b;
    pu_render(pu_bm, ph, &p, &slid, &b);
    pu_region g = {0.4, 2.3, -5.5, 5.0};
    double with = pu_correlation(&b, &a, g, k, false);
    double without = pu_correlation(&b, &a, g, 0, false);
    printf("probe slid %d columns (%.2f mm): correlation with the tissue shift %.3f, at the same "
           "columns %.3f\n", k, slid.x_mm, with, without);
    assert_true(with > 0.9);
    assert_true(fabs(without) < 0.2);
    free(a.envelope);
    phantom_destroy(ph);
}

/* Elevation distance at which the intensity correlation with the y = 0 image falls to 0.5,
 * interpolated on a 0.05 mm grid of probe positions. */
static double decorrelation_distance(const phantom *ph, const probe_def *p, pu_region g)
{
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, p, &pose, &im);
    size_t n = (size_t)im.rows * im.cols;
    bmode_image a = im;
    a.envelope = malloc(sizeof(float) * n);
    assert_non_null(a.envelope);
    memcpy(a.envelope, im.envelope, sizeof(float) * n);
    double prev_c = 1.0, prev_y = 0.0, d50 = -1.0;
    printf("  z %.1f-%.1f mm: corr(dy)", g.z0_mm, g.z1_mm);
    for (int i = 1; i <= 40 && d50 < 0; i++) {
        pose.y_mm = 0.05 * i;
        bmode_image b;
        pu_render(pu_bm, ph, p, &pose, &b);
        double c = pu_correlation(&a, &b, g, 0, true);
        printf(" %.2f:%.2f", pose.y_mm, c);
        if (c < 0.5)
            d50 = prev_y + (prev_c - 0.5) / (prev_c - c) * (pose.y_mm - prev_y);
        prev_c = c;
        prev_y = pose.y_mm;
    }
    printf("\n");
    free(a.envelope);
    assert_true(d50 > 0);
    return d50;
}

/* Moving the probe in elevation (y) decorrelates the speckle. The elevation profile is a
 * Gaussian of amplitude FWHM W (probe_elevation_fwhm_mm); the complex field correlation at a
 * shift dy is exp(-dy^2 / 4 sigma^2), the intensity correlation its square, which is 0.5 at
 * dy = W / 2. Checked near the elevation focus (8 mm, W ~ 0.43 mm) and shallow (2 mm,
 * W ~ 1.3 mm), where the slice is thicker and the speckle must survive a larger move. */
static void test_elevation_decorrelation(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 5);
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(128, 9.0);
    p.tgc_db_cm_mhz = d.tissues.t[TISSUE_DERMIS].atten_db_cm_mhz;
    const double zc[2] = {2.0, 8.0};
    double d50[2];
    for (int i = 0; i < 2; i++) {
        pu_region g = {zc[i] - 0.5, zc[i] + 0.5, -6.0, 6.0};
        d50[i] = decorrelation_distance(ph, &p, g);
        double w = probe_elevation_fwhm_mm(&p, zc[i]);
        printf("elevation at z %.1f mm: 50 %% decorrelation at dy %.3f mm; slice FWHM %.3f mm "
               "(ratio %.2f, Gaussian-beam theory 0.50)\n", zc[i], d50[i], w, d50[i] / w);
        assert_true(d50[i] / (0.5 * w) >= 0.7 && d50[i] / (0.5 * w) <= 1.4);
    }
    assert_true(d50[0] > d50[1]);
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_snr_homogeneous),
        cmocka_unit_test(test_envelope_snr_adult_dermis),
        cmocka_unit_test(test_speckle_grain_shrinks_with_frequency),
        cmocka_unit_test(test_still_probe_same_bytes),
        cmocka_unit_test(test_speckle_slides_with_probe),
        cmocka_unit_test(test_elevation_decorrelation),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
