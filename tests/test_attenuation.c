/* Attenuation and TGC: with TGC off, the mean echo level of a homogeneous tissue falls
 * linearly with depth at the two-way attenuation 2 * alpha(f) (dB/mm), alpha = alpha0 * f^b
 * from the tissue table (tissue.md 2a: dermis 1.06 dB/cm/MHz); TGC set to the tissue's alpha
 * takes the slope away. The level is the mean over all lines of 20 log10(envelope) per row;
 * its offset from the mean intensity (Rayleigh: -2.5 dB) is constant, so the slope is the
 * attenuation. The first millimetre is left out of the fit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"

/* Slope (dB/mm) of the column-averaged dB profile between 1 mm and depth - 0.5 mm. */
static double level_slope(const phantom *ph, const probe_def *p)
{
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, p, &pose, &im);
    double *prof = malloc(sizeof(double) * (size_t)im.rows);
    double *z = malloc(sizeof(double) * (size_t)im.rows);
    assert_non_null(prof);
    assert_non_null(z);
    pu_db_profile(&im, 0, im.cols - 1, prof);
    for (int r = 0; r < im.rows; r++)
        z[r] = pu_row_z(&im, r);
    double slope;
    pu_linfit(z, prof, pu_row(&im, 1.0), pu_row(&im, p->depth_mm - 0.5), &slope, NULL);
    free(prof);
    free(z);
    return slope;
}

static void check_slope(tissue_id t, double alpha0, double freq_mhz)
{
    phantom_def d = pu_uniform_def(t, 3);
    d.tissues.t[t].atten_db_cm_mhz = alpha0;
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(64, 10.0);
    p.freq_mhz = freq_mhz;
    p.tgc_on = false;
    double expect = -2.0 * tissue_atten_db_mm(&d.tissues.t[t], freq_mhz);
    double slope = level_slope(ph, &p);
    printf("%s alpha %.2f dB/cm/MHz at %.0f MHz, TGC off: slope %.3f dB/mm, expected %.3f "
           "(error %+.1f %%)\n", tissue_name(t), alpha0, freq_mhz, slope, expect,
           100.0 * (slope / expect - 1.0));
    assert_true(fabs(slope / expect - 1.0) <= 0.15);
    phantom_destroy(ph);
}

static void test_attenuation_slope_dermis_12mhz(void **state)
{
    (void)state;
    check_slope(TISSUE_DERMIS, tissue_default_table().t[TISSUE_DERMIS].atten_db_cm_mhz, 12.0);
}

static void test_attenuation_slope_dermis_18mhz(void **state)
{
    (void)state;
    check_slope(TISSUE_DERMIS, tissue_default_table().t[TISSUE_DERMIS].atten_db_cm_mhz, 18.0);
}

/* The slope follows the table, not a built-in constant: halve the dermis alpha. */
static void test_attenuation_slope_follows_table(void **state)
{
    (void)state;
    check_slope(TISSUE_DERMIS, 0.5, 18.0);
}

/* Automatic TGC compensates 2 * tgc_db_cm_mhz * f per cm: set to the tissue's alpha, the mean
 * level is flat with depth (|slope| under 5 % of the uncompensated 3.8 dB/mm at 18 MHz). */
static void test_tgc_flattens_matched_tissue(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 3);
    phantom *ph = pu_phantom(&d);
    const double f[] = {12.0, 18.0};
    for (int i = 0; i < 2; i++) {
        probe_def p = pu_probe(64, 10.0);
        p.freq_mhz = f[i];
        p.tgc_db_cm_mhz = d.tissues.t[TISSUE_DERMIS].atten_db_cm_mhz;
        double raw = 2.0 * tissue_atten_db_mm(&d.tissues.t[TISSUE_DERMIS], f[i]);
        double slope = level_slope(ph, &p);
        printf("dermis at %.0f MHz, TGC %.2f dB/cm/MHz: residual slope %+.3f dB/mm (%.1f %% of %.2f)\n",
               f[i], p.tgc_db_cm_mhz, slope, 100.0 * fabs(slope) / raw, raw);
        assert_true(fabs(slope) <= 0.05 * raw);
    }
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_attenuation_slope_dermis_12mhz),
        cmocka_unit_test(test_attenuation_slope_dermis_18mhz),
        cmocka_unit_test(test_attenuation_slope_follows_table),
        cmocka_unit_test(test_tgc_flattens_matched_tissue),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
