/* Skin that meets the probe: the face pressed on a curved patch deforms the soft tissue
 * (phantom_interfaces_contact), measured on rendered images and on the anatomy the needle's
 * verdicts read; surface features that fade with depth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "needle.h"
#include "physics_util.h"

/* The adult back, flat, with a 3 mm prominence of 4 mm sigma under the probe centre. */
static phantom_def bump_def(void)
{
    phantom_def d = phantom_default_def();
    for (int i = 0; i < d.n_layers; i++)
        d.layers[i].variation = 0.0;
    d.n_features = 1;
    d.features[0] = (phantom_feature_def){PHANTOM_PROMINENCE, 0.0, 0.0, 3.0, 4.0, 0.0};
    return d;
}

/* Depth (image frame) of the first non-gel label in column c. */
static double skin_depth_in_image(const bmode_image *im, int c)
{
    for (int r = 0; r < im->rows; r++)
        if (im->labels[r * im->cols + c] != TISSUE_GEL)
            return pu_row_z(im, r);
    return INFINITY;
}

static void test_gel_gap_closes_under_pressure(void **state)
{
    (void)state;
    phantom_def d = bump_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 15.0);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    double gap[3];
    const double force[3] = {0.0, 1.0, 2.0};
    for (int k = 0; k < 3; k++) {
        pose.pressure_n = force[k];
        pu_render(pu_bm, ph, &p, &pose, &im);
        double a = skin_depth_in_image(&im, 2), b = skin_depth_in_image(&im, im.cols - 3);
        gap[k] = 0.5 * (a + b);
    }
    printf("gel gap at the image edges on a 3 mm prominence: %.2f / %.2f / %.2f mm at 0 / 1 / 2 N\n",
           gap[0], gap[1], gap[2]);
    assert_true(gap[0] > 2.0);
    assert_true(gap[1] < gap[0] - 1.0);
    assert_true(gap[2] < 0.1);
    phantom_destroy(ph);
}

static void test_layers_compress_by_stiffness(void **state)
{
    (void)state;
    phantom_def d = bump_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 15.0);
    probe_pose pose = probe_default_pose();
    pose.pressure_n = 2.0;
    probe_frame f = probe_frame_make(ph, &p, &pose);
    assert_true(f.contact.on);
    double h0[PHANTOM_MAX_LAYERS], h1[PHANTOM_MAX_LAYERS];
    phantom_interfaces(ph, 0.0, 0.0, pose.pressure_n, h0);
    phantom_interfaces_contact(ph, 0.0, 0.0, pose.pressure_n, &f.contact, h1);
    /* Layers: 2 dermis, 3 fat, 5 deep fat. */
    double dermis = (h1[3] - h1[2]) / (h0[3] - h0[2]), fat = (h1[4] - h1[3]) / (h0[4] - h0[3]);
    printf("under the apex at 2 N: skin down %.2f mm, dermis x%.3f, fat x%.3f; deep fascia moved %.4f mm\n",
           h1[0] - h0[0], dermis, fat, h1[6] - h0[6]);
    assert_true(h1[0] - h0[0] > 1.5);
    assert_true(fat < dermis - 0.2);
    assert_true(dermis > 0.9 && dermis < 1.0);
    assert_true(fabs(h1[6] - h0[6]) < 1e-9);
    for (int i = 0; i + 1 < d.n_layers; i++)
        assert_true(h1[i + 1] >= h1[i]);
    /* The skin meets the face: its depth in the image frame is ~0 at the centre. */
    double q[3];
    probe_phantom_to_image(&f, (double[3]){0.0, 0.0, h1[0]}, q);
    assert_true(fabs(q[2]) < 0.05);
    phantom_destroy(ph);
}

/* Bone close under the apex stops the face: the gap at the edges stays. */
static void test_bony_step_keeps_a_gap(void **state)
{
    (void)state;
    phantom_def d = bump_def();
    d.n_bones = 1;
    d.bones[0] = (phantom_bone_def){PHANTOM_BONE_SPINOUS, 0.0, 0.0, 1.0, 4.0, 20.0, 8.0, 90.0};
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 15.0);
    probe_pose pose = probe_default_pose();
    pose.pressure_n = 5.0;
    probe_frame f = probe_frame_make(ph, &p, &pose);
    double x = 0.5 * probe_fov_mm(&p) - 0.1, h[PHANTOM_MAX_LAYERS], q[3];
    phantom_interfaces_contact(ph, x, 0.0, pose.pressure_n, &f.contact, h);
    probe_phantom_to_image(&f, (double[3]){x, 0.0, h[0]}, q);
    printf("bone 1 mm under the apex at 5 N: face sank %.2f mm, gap at the edge %.2f mm\n",
           f.origin[2] - phantom_surface_mm(ph, 0.0, 0.0), q[2]);
    assert_true(q[2] > 1.0);
    phantom_destroy(ph);
}

/* The tissue the needle's verdicts read under the pressed face is what the image shows. */
static void test_verdicts_read_the_deformed_anatomy(void **state)
{
    (void)state;
    phantom_def d = bump_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 15.0);
    probe_pose pose = probe_default_pose();
    pose.pressure_n = 2.0;
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    probe_frame f = probe_frame_make(ph, &p, &pose);
    int agree = 0, n = 0, agree_rest = 0;
    for (double x = -6.0; x <= 6.0; x += 1.0)
        for (double z = 0.2; z < 10.0; z += 0.1) {
            double w[3];
            probe_image_to_phantom(&f, x, 0.0, z, w);
            tissue_id t = phantom_at_contact(ph, w, pose.pressure_n, &f.contact, NULL, 0).tissue;
            tissue_id t0 = phantom_at(ph, w, pose.pressure_n, NULL, 0).tissue;
            tissue_id shown = (tissue_id)im.labels[pu_row(&im, z) * im.cols + pu_col(&im, x)];
            n++;
            agree += t == shown;
            agree_rest += t0 == shown;
        }
    printf("image labels match the deformed anatomy at %d of %d points (the undeformed at %d)\n", agree, n,
           agree_rest);
    assert_true(agree >= 0.97 * n);
    assert_true(agree_rest < agree - n / 20);
    /* The needle's track is read in the same anatomy: entering beside the centre, its tissue at
     * every point matches phantom_at_contact there. */
    needle_def nd = needle_default_def();
    needle *nl = needle_create(&nd);
    char err[128];
    needle_set_contact(nl, &f.contact);
    assert_true(needle_enter(nl, ph, pose.pressure_n, 3.0, 0.0, 60.0, 0.0, err, sizeof err));
    int same = 0, m = 0;
    for (double s = 0.05; s < 4.0; s += 0.05) {
        double q[3];
        needle_point_mm(nl, s, q);
        m++;
        same += needle_tissue_at(nl, s, NULL, NULL) == phantom_at_contact(ph, q, pose.pressure_n, &f.contact, NULL, 0).tissue;
    }
    assert_int_equal(same, m);
    needle_destroy(nl);
    phantom_destroy(ph);
}

/* A 0.6 mm crease of 1 mm sigma dents the skin and dies out with depth: nothing of it at the
 * deep fascia 7 mm down. */
static void test_crease_fades_with_depth(void **state)
{
    (void)state;
    phantom_def d = phantom_default_def();
    for (int i = 0; i < d.n_layers; i++)
        d.layers[i].variation = 0.0;
    phantom *flat = pu_phantom(&d);
    d.n_features = 1;
    d.features[0] = (phantom_feature_def){PHANTOM_FOLD, 0.0, 0.0, 0.6, 1.0, 90.0};
    phantom *ph = pu_phantom(&d);
    double h0[PHANTOM_MAX_LAYERS], h1[PHANTOM_MAX_LAYERS];
    phantom_interfaces(flat, 0.0, 0.0, 0.0, h0);
    phantom_interfaces(ph, 0.0, 0.0, 0.0, h1);
    printf("crease 0.6 mm: skin %.3f, dermis-fat %.3f, superficial fascia %.4f, deep fascia %.6f mm\n",
           h1[0] - h0[0], h1[3] - h0[3], h1[4] - h0[4], h1[6] - h0[6]);
    assert_true(fabs(h1[0] - h0[0] - 0.6) < 1e-9);
    assert_true(h1[3] - h0[3] < 0.1 * 0.6);
    assert_true(fabs(h1[6] - h0[6]) < 1e-3);
    for (int i = 0; i + 1 < d.n_layers; i++)
        assert_true(h1[i + 1] >= h1[i]);
    phantom_destroy(ph);
    phantom_destroy(flat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gel_gap_closes_under_pressure),
        cmocka_unit_test(test_layers_compress_by_stiffness),
        cmocka_unit_test(test_bony_step_keeps_a_gap),
        cmocka_unit_test(test_verdicts_read_the_deformed_anatomy),
        cmocka_unit_test(test_crease_fades_with_depth),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
