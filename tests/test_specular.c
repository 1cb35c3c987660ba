/* Specular anisotropy: fascia is a specular layer, so its brightness falls as the beam leaves
 * its normal. A flat deep fascia under dermis, no attenuation, TGC off; the probe fanned
 * (tilt) 0..25 degrees; the fascia's mean dB against tilt 0, measured on the images, against
 * the model's lobe (bmode_model.h: BM_FASCIA_FLOOR + (1 - floor) exp(-(theta / 10 deg)^2)). */
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

static double fascia_db(const phantom *ph, double tilt_deg)
{
    probe_def p = pu_probe(256, 8.0);
    p.tgc_on = false;
    probe_pose pose = probe_default_pose();
    pose.tilt_deg = tilt_deg;
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    uint8_t *m = pu_label_mask(&im, TISSUE_DEEP_FASCIA, 3, 2);
    pu_stats st = pu_region_stats(&im, (pu_region){-1e3, 1e3, -1e3, 1e3}, m);
    free(m);
    assert_true(st.n > 1000);
    return st.db_mean;
}

static void test_fascia_dims_with_incidence(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 9);
    d.n_layers = 3;
    d.layers[0] = (phantom_layer_def){TISSUE_DERMIS, 3.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    d.layers[1] = (phantom_layer_def){TISSUE_DEEP_FASCIA, 0.4, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    d.layers[2] = (phantom_layer_def){TISSUE_MUSCLE, 0.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    for (int t = 0; t < TISSUE_COUNT; t++)
        d.tissues.t[t].atten_db_cm_mhz = 0.0;
    phantom *ph = pu_phantom(&d);
    double f0 = fascia_db(ph, 0.0), prev = 0.0;
    for (int a = 5; a <= 25; a += 5) {
        double th = a / BM_SPEC_THETA0_DEG;
        double model = 20.0 * log10(BM_FASCIA_FLOOR + (1.0 - BM_FASCIA_FLOOR) * exp(-th * th));
        double got = fascia_db(ph, a) - f0;
        printf("tilt %2d deg: fascia %+.1f dB (model %+.1f)\n", a, got, model);
        assert_true(fabs(got - model) <= 1.5);
        assert_true(got < prev - (a <= 15 ? 0.5 : -0.5));
        prev = got;
    }
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fascia_dims_with_incidence),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
