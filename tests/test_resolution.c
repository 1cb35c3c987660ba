/* Resolution: the point-spread function measured on the image of a point reflector alone
 * (no background scatter), against the physics reference run (ultrasound.md section 2,
 * L22-14v-like probe at 18 MHz, point at 3 mm: -6 dB widths 130 um axial, 154 um lateral)
 * and the elevation slice (section 3: lambda z_f / h). A -6 dB width is where the envelope
 * falls to half its peak, the crossings interpolated between samples. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"

#define POINT_DEPTH_MM 3.0
#define REF_AXIAL_MM 0.130
#define REF_LATERAL_MM 0.154

/* Dermis with no backscatter (so no speckle, no interfaces) holding one point reflector. */
static phantom *point_phantom(double x, double y, double z)
{
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 1);
    d.tissues.t[TISSUE_DERMIS].backscatter = 0.0;
    d.n_inclusions = 1;
    d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_POINT, .tissue = TISSUE_DERMIS,
                                          .c_mm = {x, y, z}, .amplitude = 100.0};
    return pu_phantom(&d);
}

/* Peak of the envelope: its row and column. */
static float peak(const bmode_image *im, int *pr, int *pc)
{
    float best = -1;
    for (int r = 0; r < im->rows; r++)
        for (int c = 0; c < im->cols; c++)
            if (im->envelope[(size_t)r * im->cols + c] > best) {
                best = im->envelope[(size_t)r * im->cols + c];
                *pr = r;
                *pc = c;
            }
    return best;
}

/* Default 18 MHz probe, 256 lines (dx 0.05 mm): the point sits on line 127. */
static void test_point_target_widths(void **state)
{
    (void)state;
    probe_def p = pu_probe(256, 5.0);
    double dx;
    bmode_geometry(&p, NULL, NULL, NULL, &dx, NULL);
    double x_line = -0.5 * (p.n_lines - 1) * dx + 127 * dx;
    phantom *ph = point_phantom(x_line, 0.0, POINT_DEPTH_MM);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    int pr = 0, pc = 0;
    peak(&im, &pr, &pc);
    assert_int_equal(pc, 127);
    assert_true(fabs(pu_row_z(&im, pr) - POINT_DEPTH_MM) < 2 * im.dz_mm);
    double ax[61], lat[41];
    for (int i = 0; i < 61; i++) {
        int r = pr - 30 + i;
        ax[i] = im.envelope[(size_t)r * im.cols + pc];
    }
    for (int i = 0; i < 41; i++) {
        int c = pc - 20 + i;
        lat[i] = im.envelope[(size_t)pr * im.cols + c];
    }
    double w_ax = pu_fwhm_1d(ax, 61, im.dz_mm), w_lat = pu_fwhm_1d(lat, 41, im.dx_mm);
    printf("point at %.1f mm, 18 MHz: -6 dB axial %.3f mm (reference %.3f, model %.3f), lateral "
           "%.3f mm (reference %.3f, model %.3f)\n", POINT_DEPTH_MM, w_ax, REF_AXIAL_MM,
           probe_axial_fwhm_mm(&p), w_lat, REF_LATERAL_MM,
           probe_lateral_fwhm_mm(&p, POINT_DEPTH_MM));
    assert_true(fabs(w_ax / REF_AXIAL_MM - 1.0) <= 0.20);
    assert_true(fabs(w_lat / REF_LATERAL_MM - 1.0) <= 0.20);
    phantom_destroy(ph);
}

/* The elevation profile weights a reflector by its distance from the slice centre: moved by
 * half the slice FWHM (probe_elevation_fwhm_mm at its depth) its echo halves. */
static void test_point_elevation_half_width_halves_echo(void **state)
{
    (void)state;
    probe_def p = pu_probe(128, 5.0);
    double half = 0.5 * probe_elevation_fwhm_mm(&p, POINT_DEPTH_MM);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    int pr = 0, pc = 0;
    phantom *ph = point_phantom(0.05, 0.0, POINT_DEPTH_MM);
    pu_render(pu_bm, ph, &p, &pose, &im);
    double a0 = peak(&im, &pr, &pc);
    phantom_destroy(ph);
    ph = point_phantom(0.05, half, POINT_DEPTH_MM);
    pu_render(pu_bm, ph, &p, &pose, &im);
    double a1 = peak(&im, &pr, &pc);
    phantom_destroy(ph);
    printf("point %.3f mm off the slice centre (half the %.3f mm slice at %.1f mm): echo ratio "
           "%.3f (expected 0.5)\n", half, 2 * half, POINT_DEPTH_MM, a1 / a0);
    assert_true(fabs(a1 / a0 - 0.5) <= 0.125);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_point_target_widths),
        cmocka_unit_test(test_point_elevation_half_width_halves_echo),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
