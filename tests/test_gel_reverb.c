/* Reverberation in a gel gap: under a probe bridging a dip in the skin, the skin's entry echo
 * bounces between the skin and the probe face, so a copy of it appears at twice the gap's
 * depth (and a weaker one at three times), weaker by BM_FACE_R x R_skin per bounce. A thin
 * dermis over anechoic tissue (fat with no backscatter), a 1 mm dip 3 mm wide under the probe
 * centre, TGC off: the copies are measured on the centre lines against the entry echo. */
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

/* Peak envelope (dB, mean over the centre columns) within depth z0..z1, and its depth. */
static double peak_db(const bmode_image *im, double z0, double z1, double *z_at)
{
    double acc = 0.0, zacc = 0.0;
    int n = 0;
    for (int c = pu_col(im, -0.25); c <= pu_col(im, 0.25); c++) {
        double best = 0.0;
        int br = 0;
        for (int r = pu_row(im, z0); r <= pu_row(im, z1); r++)
            if (im->envelope[(size_t)r * im->cols + c] > best) {
                best = im->envelope[(size_t)r * im->cols + c];
                br = r;
            }
        acc += pu_db((float)best);
        zacc += pu_row_z(im, br);
        n++;
    }
    *z_at = zacc / n;
    return acc / n;
}

static void test_gel_gap_copies_the_entry_echo(void **state)
{
    (void)state;
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 5);
    d.n_layers = 2;
    d.layers[0] = (phantom_layer_def){TISSUE_DERMIS, 0.3, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    d.layers[1] = (phantom_layer_def){TISSUE_FAT, 0.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    d.tissues.t[TISSUE_FAT].backscatter = 0.0;
    d.n_features = 1;
    d.features[0] = (phantom_feature_def){PHANTOM_DEPRESSION, 0.0, 0.0, 1.0, 3.0, 0.0};
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 6.0);
    p.tgc_on = false;
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    /* The gap: the skin under the centre against the face's depth (the frame's origin). */
    probe_frame fr = probe_frame_make(ph, &p, &pose);
    double h[PHANTOM_MAX_LAYERS];
    phantom_interfaces(ph, 0.0, 0.0, 0.0, h);
    double gap = h[0] - fr.origin[2];
    double z1, z2, z3;
    double e1 = peak_db(&im, gap - 0.03, gap + 0.03, &z1);
    double e2 = peak_db(&im, 2.0 * gap - 0.1, 2.0 * gap + 0.1, &z2);
    double e3 = peak_db(&im, 3.0 * gap - 0.1, 3.0 * gap + 0.1, &z3);
    double zb;
    double bg = peak_db(&im, 2.3 * gap, 2.6 * gap, &zb);
    double R = (tissue_impedance_mrayl(&d.tissues.t[TISSUE_DERMIS]) - tissue_impedance_mrayl(&d.tissues.t[TISSUE_GEL])) /
               (tissue_impedance_mrayl(&d.tissues.t[TISSUE_DERMIS]) + tissue_impedance_mrayl(&d.tissues.t[TISSUE_GEL]));
    double model = 20.0 * log10(BM_FACE_R * R);
    printf("gap %.2f mm (echo peak %.2f): entry echo %.1f dB; copy at %.2f mm %+.1f dB, at %.2f mm %+.1f dB (model %+.1f per bounce); "
           "anechoic tissue between %+.1f dB\n",
           gap, z1, e1, z2, e2 - e1, z3, e3 - e1, model, bg - e1);
    assert_true(gap > 0.6 && gap < 1.1);
    assert_true(fabs(z2 - 2.0 * gap) < 0.03);
    assert_true(fabs(z3 - 3.0 * gap) < 0.03);
    /* The entry echo's peak carries the dermis speckle behind it: 3 dB; the copies lie in
     * anechoic tissue: 1.5 dB. */
    assert_true(fabs(e2 - e1 - model) < 3.0);
    assert_true(fabs(e3 - e2 - model) < 1.5);
    assert_true(e2 > bg + 10.0); /* it stands out of the anechoic tissue it falls in */
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gel_gap_copies_the_entry_echo),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
