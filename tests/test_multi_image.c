/* The image of a multi-injector head: every needle of a 5-needle head crossing the slice makes
 * its own bright dot, where the geometry puts it. The head crosses the slice out of plane on the
 * flat adult back (on a prominence the outer needles cross the plane in the skin's first tenth
 * of a millimetre or not at all, tests/test_multi.c); for each needle the point where its shaft (from where it
 * crosses the skin to its tip, needle_head_place) meets the image plane is found in image
 * coordinates, and the echo the needles add there is measured against the same image without
 * a needle (same speckle). A dot counts when the needles add more than 6 dB at its place; the
 * places halfway between neighbours must stay dark (under 3 dB), so the dots are separate. The
 * single needle, pushed the same way, makes the middle dot only. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "needle.h"
#include "physics_util.h"
#include "session.h"

/* 2.5 mm, not test_multi's 4: the 18 MHz probe's image is 12.8 mm wide (128 elements at 0.1 mm),
 * and a 5-needle head 4 mm apart spans 16 mm, its outer needles outside the image. */
#define SPACING_MM 2.5

static void act(session *s, const char *line)
{
    action a;
    char err[256];
    assert_true(action_parse_line(line, strlen(line), -1, &a, err, sizeof err));
    if (!session_apply(s, &a, err, sizeof err))
        print_error("%s: %s\n", line, err);
}

/* The flat adult back, count needles entering at (0, -3) towards +y (the head's
 * line along x, the probe's long axis), pushed push_mm when push_mm > 0; the probe at y. */
static session *start(int count, double push_mm, double probe_y)
{
    scenario s = pu_load_preset("adult_back");
    s.phantom.n_vessels = 0;
    for (int k = 0; k < s.phantom.n_layers; k++)
        s.phantom.layers[k].variation = 0.0;
    s.phantom.n_features = 0;
    s.needle.count = count;
    s.needle.spacing_mm = SPACING_MM;
    char err[256];
    session *ses = session_create(&s, err, sizeof err);
    if (!ses)
        print_error("%s\n", err);
    assert_non_null(ses);
    char line[160];
    snprintf(line, sizeof line, "{\"t\":1,\"do\":\"probe\",\"x_mm\":0,\"y_mm\":%.6f}", probe_y);
    act(ses, line);
    if (push_mm > 0.0) {
        act(ses, "{\"t\":2,\"do\":\"needle_entry\",\"x_mm\":0,\"y_mm\":-3,\"angle_deg\":45,\"azimuth_deg\":90}");
        snprintf(line, sizeof line, "{\"t\":3,\"do\":\"advance\",\"mm\":%.6f}", push_mm);
        act(ses, line);
    }
    return ses;
}

static const bmode_image *render(const session *s)
{
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    session_scene(s, &scene, dyn);
    static bmode_image im;
    char err[256];
    assert_int_equal(bmode_render(pu_bm, &scene, &im, err, sizeof err), 0);
    return &im;
}

static double peak(const bmode_image *im, double x, double z)
{
    double m = 0.0;
    for (int r = pu_row(im, z - 0.25); r <= pu_row(im, z + 0.25); r++)
        for (int c = pu_col(im, x - 0.25); c <= pu_col(im, x + 0.25); c++)
            m = fmax(m, im->envelope[(size_t)r * im->cols + c]);
    return m;
}

/* Where needle k's shaft meets the image plane, image coordinates (x lateral, z depth). */
static bool crossing(const session *s, const needle_head_tip *t, double out[2])
{
    if (t->inserted_mm <= 0.0)
        return false;
    probe_def p = session_probe(s);
    probe_pose pose = session_pose(s);
    probe_frame f = probe_frame_make(session_display(s), &p, &pose);
    double a[3], b[3];
    probe_phantom_to_image(&f, t->entry_mm, a);
    probe_phantom_to_image(&f, t->tip_mm, b);
    if (a[1] * b[1] > 0.0)
        return false;
    double u = a[1] / (a[1] - b[1]);
    out[0] = a[0] + u * (b[0] - a[0]);
    out[1] = a[2] + u * (b[2] - a[2]);
    return true;
}

/* Dots the image of count needles shows at the 5-needle head's crossings; *gaps: how many of
 * the places halfway between neighbouring crossings stay under 3 dB. */
static int dots(int count, int *gaps)
{
    const double push = 4.0;
    /* The plane 1.2 mm before the middle tip along y, crossing every shaft in the skin. */
    session *probe_at = start(5, push, 0.0);
    double e[3], tip[3];
    const needle *nd = session_needle(probe_at);
    needle_entry_mm(nd, e);
    needle_tip_mm(nd, tip);
    double plane_y = tip[1] - 1.2;
    session_destroy(probe_at);

    session *s = start(count, push, plane_y), *bare = start(count, 0.0, plane_y);
    nd = session_needle(s);
    needle_entry_mm(nd, e);
    needle_head_tip tips[NEEDLE_HEAD_MAX];
    char err[256];
    assert_int_equal(needle_head_place(session_anatomy(s), session_pose(s).pressure_n, 5, SPACING_MM, e[0], e[1],
                                       needle_angle_deg(nd), needle_azimuth_deg(nd), needle_inserted_mm(nd), tips,
                                       err, sizeof err),
                     5);
    double at[5][2];
    bool crosses[5];
    for (int k = 0; k < 5; k++)
        crosses[k] = crossing(s, &tips[k], at[k]);
    const bmode_image *im = render(s);
    double with[5], mid_with[4];
    for (int k = 0; k < 5; k++)
        with[k] = crosses[k] ? peak(im, at[k][0], at[k][1]) : 0.0;
    for (int k = 0; k < 4; k++)
        mid_with[k] = peak(im, 0.5 * (at[k][0] + at[k + 1][0]), 0.5 * (at[k][1] + at[k + 1][1]));
    im = render(bare);
    int n = 0;
    *gaps = 0;
    for (int k = 0; k < 5; k++) {
        if (!crosses[k])
            continue;
        double db = 20.0 * log10(with[k] / peak(im, at[k][0], at[k][1]));
        print_message("%d needle%s: needle %d crosses the plane at x %+.2f mm, %.2f mm deep: %+.1f dB\n", count,
                      count == 1 ? "" : "s", k, at[k][0], at[k][1], db);
        n += db > 6.0;
    }
    for (int k = 0; k < 4; k++) {
        double db = 20.0 * log10(mid_with[k] / peak(im, 0.5 * (at[k][0] + at[k + 1][0]),
                                                   0.5 * (at[k][1] + at[k + 1][1])));
        *gaps += db < 3.0;
    }
    for (int k = 0; k < 5; k++)
        assert_true(crosses[k]);
    session_destroy(s);
    session_destroy(bare);
    return n;
}

static void test_five_needles_make_five_dots(void **state)
{
    (void)state;
    int gaps;
    assert_int_equal(dots(5, &gaps), 5);
    assert_int_equal(gaps, 4);
    assert_int_equal(dots(1, &gaps), 1);
    assert_int_equal(gaps, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_five_needles_make_five_dots),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
