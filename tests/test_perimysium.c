/* Perimysium anisotropy: the perimysium sheets between muscle fascicles are specular like
 * fascia, so muscle's striated texture fades as the beam leaves the sheets' normal. Muscle
 * with horizontal sheets (pennation 0), no attenuation, TGC off; the probe fanned (tilt)
 * 0..25 degrees; muscle's mean intensity against tilt 0, measured on the images, against the
 * model: texture multiplier C0 + C1 * lobe(theta) * sheet (bmode_model.c, texture_math.h),
 * whose mean square over a period is C0^2 + 2 C0 C1 L <s> + C1^2 L^2 <s^2>. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>

#include <cmocka.h>

#include "bmode_model.h"
#include "physics_util.h"
#include "texture_math.h"

/* Mean intensity of muscle (linear, envelope squared) 2..6 mm deep, in dB. */
static double muscle_db(const phantom *ph, double tilt_deg)
{
    probe_def p = pu_probe(256, 8.0);
    p.tgc_on = false;
    probe_pose pose = probe_default_pose();
    pose.tilt_deg = tilt_deg;
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    double acc = 0.0;
    long n = 0;
    for (int r = pu_row(&im, 2.0); r <= pu_row(&im, 6.0); r++)
        for (int c = 0; c < im.cols; c++) {
            double e = im.envelope[(size_t)r * im.cols + c];
            acc += e * e;
            n++;
        }
    return 10.0 * log10(acc / n);
}

/* Mean square of the texture multiplier with the sheets' share scaled by L, over one period
 * (numerically, the sheet profile of texture_math.h). */
static double texture_ms(double L, double inv_half_width)
{
    double acc = 0.0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        double m = TEX_MUSCLE_C0 + TEX_MUSCLE_C1 * L * tex_sheet((float)((i + 0.5) / n), (float)inv_half_width);
        acc += m * m;
    }
    return acc / n;
}

static void test_perimysium_dims_with_incidence(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_MUSCLE, 11);
    d.muscle_pennation_deg = 0.0;
    for (int t = 0; t < TISSUE_COUNT; t++)
        d.tissues.t[t].atten_db_cm_mhz = 0.0;
    phantom *ph = pu_phantom(&d);
    double ihw = d.perimysium_spacing_mm / 0.05;
    double m0 = muscle_db(ph, 0.0), prev = 0.0;
    for (int a = 5; a <= 25; a += 5) {
        double th = a / BM_SPEC_THETA0_DEG;
        double L = BM_FASCIA_FLOOR + (1.0 - BM_FASCIA_FLOOR) * exp(-th * th);
        double model = 10.0 * log10(texture_ms(L, ihw) / texture_ms(1.0, ihw));
        double got = muscle_db(ph, a) - m0;
        printf("tilt %2d deg: muscle %+.2f dB (model %+.2f)\n", a, got, model);
        assert_true(fabs(got - model) <= 0.6);
        assert_true(got < prev - (a <= 15 ? 0.2 : -0.3));
        prev = got;
    }
    /* Fanned 25 degrees the sheets give up most of their share: muscle loses about 2 dB. */
    assert_true(prev < -1.5);
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_perimysium_dims_with_incidence),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
