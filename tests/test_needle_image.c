/* The needle in the image, out of plane: the steel dot shows only where the shaft crosses the
 * imaging slice, and a needle pushed past the plane still shows a dot, which is the shaft,
 * shallower than the tip. Measured on rendered labels and pixels. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "bmode.h"
#include "physics_util.h"
#include "scenario.h"
#include "session.h"

typedef struct dot {
    int px;          /* steel-labelled pixels */
    double depth_mm; /* mean image depth of those pixels */
    double deepest_mm; /* deepest of them */
    double grey;     /* mean grey level on them */
} dot;

/* Needle entered 3 mm before the plane (probe at x=-12, y=0), 30 deg, toward +y, pushed
 * travel mm; renders and measures the steel labels. */
static dot render_dot(bmode *bm, double length_mm, double travel, double *tip_depth,
                      double *tip_to_plane)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(path, &sc, &d));
    sc.probe.n_lines = 192;
    sc.probe.depth_mm = 8;
    sc.needle.length_mm = length_mm;
    session *s = session_create(&sc, err, sizeof err);
    action a[3];
    for (int i = 0; i < 3; i++)
        a[i] = (action){.t_s = i + 1};
    a[0].verb = ACT_PROBE, a[0].v[AK_X] = -12, a[0].has = 1u;
    a[1].verb = ACT_NEEDLE_ENTRY, a[1].v[AK_X] = -12, a[1].v[AK_Y] = -3, a[1].v[AK_ANGLE] = 30,
    a[1].v[AK_AZIMUTH] = 90;
    a[2].verb = ACT_ADVANCE, a[2].v[AK_MM] = travel;
    for (int i = 0; i < 3; i++)
        assert_true(session_apply(s, &a[i], err, sizeof err));
    double img[3];
    assert_true(session_tip_image(s, img));
    *tip_depth = img[2];
    *tip_to_plane = img[1];
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    session_scene(s, &scene, dyn);
    bmode_image im;
    assert_int_equal(bmode_render(bm, &scene, &im, err, sizeof err), 0);
    dot o = {0, 0.0, 0.0, 0.0};
    for (int r = 0; r < im.rows; r++)
        for (int c = 0; c < im.cols; c++)
            if (im.labels[(size_t)r * im.cols + c] == TISSUE_STEEL) {
                o.px++;
                o.depth_mm += pu_row_z(&im, r);
                o.deepest_mm = fmax(o.deepest_mm, pu_row_z(&im, r));
                o.grey += im.pixels[(size_t)r * im.cols + c];
            }
    if (o.px) {
        o.depth_mm /= o.px;
        o.grey /= o.px;
    }
    session_destroy(s);
    return o;
}

static void test_oop_dot(void **state)
{
    (void)state;
    bmode_def bd = bmode_default_def();
    bd.n_threads = 2;
    bmode *bm = bmode_create(&bd);
    assert_non_null(bm);
    double tip_z, tip_y;
    /* Short of the plane: the tip is 1.2 mm before it, no dot. */
    dot before = render_dot(bm, 4, 2.5, &tip_z, &tip_y);
    print_message("2.5 mm pushed: tip %.2f mm deep, %.2f mm from the plane: %d steel px\n",
                  tip_z, tip_y, before.px);
    assert_true(tip_y < -0.8);
    assert_int_equal(before.px, 0);
    /* At the plane: a bright dot at the tip's depth. */
    dot at = render_dot(bm, 4, 3.95, &tip_z, &tip_y);
    print_message("3.95 mm pushed: tip %.2f mm deep, %.2f mm from the plane: %d steel px "
                  "%.2f..%.2f mm (mean %.2f), grey %.0f\n", tip_z, tip_y, at.px,
                  2 * at.depth_mm - at.deepest_mm, at.deepest_mm, at.depth_mm, at.grey);
    assert_true(fabs(tip_y) < 0.2);
    assert_true(at.px > 0);
    /* The dot is the shaft inside the elevation beam, smeared up the shaft by the beam's
     * width: its deepest part is the tip. */
    assert_true(fabs(at.deepest_mm - tip_z) < 0.25);
    assert_true(at.grey > 150);
    /* A 6 mm needle pushed to the hub, past the plane: the dot is the shaft where it crosses
     * the slice, the tip 2 mm beyond it and a millimetre deeper. */
    dot past = render_dot(bm, 6, 7.0, &tip_z, &tip_y);
    print_message("6 mm needle at the hub: tip %.2f mm deep, %.2f mm past the plane: dot down "
                  "to %.2f mm (%d px)\n", tip_z, tip_y, past.deepest_mm, past.px);
    assert_true(tip_y > 1.5);
    assert_true(past.px > 0);
    assert_true(tip_z - past.deepest_mm > 0.8);
    bmode_destroy(bm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oop_dot),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
