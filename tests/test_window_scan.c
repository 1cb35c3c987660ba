/* The scan screen's scanner controls and workflow under a real GL context (Xvfb or SDL's
 * offscreen EGL driver, see run_gl.sh). Each control, as the input layer delivers it, becomes
 * the right action in the session's log, and its effect is measured on the image drawn:
 * a shallower transmit focus narrows a point target at that depth (on screen and in the beam
 * model's envelope), a TGC slider brightens its own depth zone only, a preset sets its
 * frequency, depth and focus, freeze holds the image while the probe moves and the cine loop
 * scrolls back to the frame shown earlier, the calipers read the distance between two point
 * targets a known distance apart, pause stops the clock and the keys, End and the close
 * button ask first, Esc leaves the marking mode, a tick can be undone (or is refused in words
 * by a core without undo_step), messages are in words. Screenshots (test_window_scan_*.png)
 * land in the build dir. Exits 77 only when no GL context can be had. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <SDL.h>

#include "actions.h"
#include "bmode.h"
#include "scenario.h"
#include "session.h"
#include "trainer.h"
#include "window_util.h"

static trainer *g_t;
static const char *g_driver = "gl";
static int g_w, g_h;
static double g_time;
static char g_points[1024];


static void save(const shot *s, const char *name) { wu_save(s, "test_window_scan", g_driver, name); }

static const uint8_t *px(const shot *s, int x, int y) { return wu_px(s, x, y); }

static controls none(void)
{
    controls c;
    memset(&c, 0, sizeof c);
    c.zoom_factor = 1.0f;
    return c;
}

/* One frame 1/60 s later with these controls; a screenshot when s is given. */
static void frame(const controls *c, shot *s)
{
    g_time += 1.0 / 60.0;
    shot got = wu_grab(g_t, g_time, c);
    if (s)
        *s = got;
    else
        free(got.rgba);
}

static void press(ctl_button b)
{
    controls c = none();
    c.pressed[b] = true;
    frame(&c, NULL);
}

static void idle(int n)
{
    controls c = none();
    for (int i = 0; i < n; i++)
        frame(&c, NULL);
}

static void open_case(const char *path)
{
    char err[2048];
    if (!trainer_open_case(g_t, path, err, sizeof err))
        fail_msg("%s", err);
    if (!trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    g_time = 0;
    trainer_show_outside_view(g_t, true);
    idle(2);
}

static void open_bundled(const char *file)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/scenarios/%s", MESOSIM_SOURCE_DIR, file);
    open_case(path);
}

/* The log the window wrote so far, as actions; the caller frees it. */
static action_list load_log(void)
{
    action_list al;
    trainer_flush_log(g_t); /* the log is written by its own thread */
    if (!actions_load_file(trainer_log_path(g_t), &al))
        fail_msg("the window's log does not load: %s", al.n_errors ? al.errors[0].message : "?");
    return al;
}

static const action *last_of(const action_list *al, action_verb v)
{
    for (int i = al->count - 1; i >= 0; i--)
        if (al->items[i].verb == v)
            return &al->items[i];
    return NULL;
}

/* Mean red of the image between depths z0 and z1 mm over the middle half of its width. */
static double band(const shot *s, const trainer_image_rect *r, double z0, double z1)
{
    double px_mm = r->h / (r->rows * r->dz_mm), sum = 0;
    int n = 0;
    for (int y = (int)(r->y + (z0 - r->z0_mm) * px_mm); y < (int)(r->y + (z1 - r->z0_mm) * px_mm); y++)
        for (int x = (int)(r->x + 0.25f * r->w); x < (int)(r->x + 0.75f * r->w); x++, n++)
            sum += px(s, x, y)[0];
    return n ? sum / n : 0;
}

/* The brightest pixel of the image within the given depth band (mm) and lateral half-width
 * around x_mm. */
static void peak(const shot *s, const trainer_image_rect *r, double z0, double z1, double xc, double half,
                 int *bx, int *by)
{
    double px_mm = r->h / (r->rows * r->dz_mm);
    float left = r->x + (float)((xc - half - (r->x0_mm - 0.5 * r->dx_mm)) * px_mm);
    int best = -1;
    for (int y = (int)(r->y + (z0 - r->z0_mm) * px_mm); y < (int)(r->y + (z1 - r->z0_mm) * px_mm); y++)
        for (int x = (int)left; x < (int)(left + 2 * half * px_mm); x++)
            if (x >= r->x && x < r->x + r->w && px(s, x, y)[0] > best)
                best = px(s, x, y)[0], *bx = x, *by = y;
}

/* -6 dB width (mm) on screen of the point target whose peak is at (bx, by): where the grey
 * falls 6/DR of the display range below the peak, interpolated, along the row. */
static double screen_width_mm(const shot *s, const trainer_image_rect *r, int bx, int by, double dr_db)
{
    double px_mm = r->w / (r->cols * r->dx_mm), pk = px(s, bx, by)[0], lvl = pk - 255.0 * 6.0 / dr_db;
    double edge[2];
    for (int side = 0; side < 2; side++) {
        int d = side ? 1 : -1, x = bx;
        while (px(s, x + d, by)[0] > lvl && abs(x + d - bx) < 200)
            x += d;
        double a = px(s, x, by)[0], b = px(s, x + d, by)[0];
        edge[side] = x + d * (a - lvl) / fmax(a - b, 1e-9);
    }
    return (edge[1] - edge[0]) / px_mm;
}

/* The point-target case open on the bare image (no outside view), settled: its image rectangle. */
static void open_points(trainer_image_rect *r)
{
    open_case(g_points);
    trainer_show_outside_view(g_t, false);
    idle(2);
    trainer_image_rect_get(g_t, r);
}

/* A screenshot into s (the caller frees it) and the -6 dB width on screen (mm) of the point
 * target at (-2, 3) mm, whose brightest pixel is (bx, by). */
static double point_width_mm(const trainer_image_rect *r, double dr_db, shot *s, int *bx, int *by)
{
    controls c = none();
    frame(&c, s);
    peak(s, r, 2.5, 3.5, -2.0, 1.0, bx, by);
    return screen_width_mm(s, r, *bx, *by, dr_db);
}

/* -6 dB lateral width (mm) of the envelope of the session's own scene, rendered by the beam
 * model with the given probe, along the row of the peak near depth z_mm. */
static double envelope_width_mm(const probe_def *p, double z_mm)
{
    const session *ss = trainer_session(g_t);
    bmode_def bd = bmode_default_def();
    bmode *bm = bmode_create(&bd);
    assert_non_null(bm);
    bmode_scene scene;
    phantom_inclusion dyn[BMODE_MAX_DYN];
    session_scene(ss, &scene, dyn);
    scene.probe = *p;
    bmode_image im;
    char err[256];
    if (bmode_render(bm, &scene, &im, err, sizeof err) != 0)
        fail_msg("%s", err);
    /* The whole row span: the target at z_mm is the brightest thing there (the search used
     * to cover only the centre +-0.5 mm, which held speckle, not the target at x = -2 mm). */
    int r0 = (int)((z_mm - 0.4) / im.dz_mm), r1 = (int)((z_mm + 0.4) / im.dz_mm), br = r0, bc = im.cols / 2;
    for (int r = r0; r <= r1; r++)
        for (int c = 1; c < im.cols - 1; c++)
            if (im.envelope[(size_t)r * im.cols + c] > im.envelope[(size_t)br * im.cols + bc])
                br = r, bc = c;
    const float *row = im.envelope + (size_t)br * im.cols;
    double half = 0.5 * row[bc], edge[2];
    for (int side = 0; side < 2; side++) {
        int d = side ? 1 : -1, c = bc;
        while (c + d > 0 && c + d < im.cols - 1 && row[c + d] > half)
            c += d;
        edge[side] = c + d * (row[c] - half) / fmax(row[c] - row[c + d], 1e-12);
    }
    double w = (edge[1] - edge[0]) * im.dx_mm;
    bmode_destroy(bm);
    return w;
}

/* The point target at 3 mm measured, b pressed `presses` times, measured again: its -6 dB
 * width on screen and in the envelope before [0] and after [1], the beam model's ratio after /
 * before, and the two screenshots (the caller frees them). */
typedef struct point_change {
    double screen_mm[2], envelope_mm[2], model_ratio;
    shot shots[2];
    int bx, by; /* the target's brightest pixel before */
} point_change;

static point_change press_and_measure(const trainer_image_rect *r, ctl_button b, int presses)
{
    const session *ss = trainer_session(g_t);
    double dr = session_probe(ss).dynamic_range_db;
    point_change pc;
    probe_def p[2];
    int bx, by;
    for (int k = 0; k < 2; k++) {
        for (int i = 0; k == 1 && i < presses; i++)
            press(b);
        pc.screen_mm[k] = point_width_mm(r, dr, &pc.shots[k], &bx, &by);
        if (k == 0)
            pc.bx = bx, pc.by = by;
        p[k] = session_probe(ss);
        pc.envelope_mm[k] = envelope_width_mm(&p[k], 3.0);
    }
    pc.model_ratio = probe_lateral_fwhm_mm(&p[1], 3.0) / probe_lateral_fwhm_mm(&p[0], 3.0);
    return pc;
}

/* The action log's last probe action holds key k at value v. */
static void assert_last_probe_key(action_key k, double v)
{
    action_list al = load_log();
    const action *a = last_of(&al, ACT_PROBE);
    assert_non_null(a);
    assert_true(action_has(a, k) && fabs(a->v[k] - v) < 1e-9);
    actions_free(&al);
}

static void test_focus_narrows_the_point(void **state)
{
    (void)state;
    trainer_image_rect r;
    open_points(&r);
    const session *ss = trainer_session(g_t);
    assert_true(fabs(session_probe(ss).tx_focus_mm - 8.0) < 1e-9);
    /* Ten presses of the focus key: 8 mm up to 3 mm, the target's depth. */
    point_change pc = press_and_measure(&r, BTN_FOCUS_SHALLOWER, 10);
    const shot *deep = &pc.shots[0], *near = &pc.shots[1];
    print_message("point target peak %d grey at (%d, %d)\n", px(deep, pc.bx, pc.by)[0], pc.bx, pc.by);
    assert_true(px(deep, pc.bx, pc.by)[0] < 250); /* not clipped: its -6 dB width can be read */
    assert_true(fabs(session_probe(ss).tx_focus_mm - 3.0) < 1e-9);
    print_message("point at 3 mm: on screen %.3f -> %.3f mm, envelope %.3f -> %.3f mm (model ratio %.2f)\n",
                  pc.screen_mm[0], pc.screen_mm[1], pc.envelope_mm[0], pc.envelope_mm[1], pc.model_ratio);
    assert_true(pc.model_ratio < 0.9);
    assert_true(pc.envelope_mm[1] < pc.envelope_mm[0] * 0.92);
    assert_true(pc.screen_mm[1] < pc.screen_mm[0] * 0.95);
    /* The marker moved: a triangle right of the image at 3 mm, none left at 8 mm. */
    double px_mm = r.h / (r.rows * r.dz_mm);
    int ty = (int)(r.y + 3.0 * px_mm), oy = (int)(r.y + 8.0 * px_mm), tx = (int)(r.x + r.w + 10);
    assert_true(px(near, tx, ty)[0] > 200 && px(near, tx, ty)[1] > 150);
    assert_true(px(near, tx, oy)[0] < 100);
    save(near, "focus");
    free(pc.shots[0].rgba);
    free(pc.shots[1].rgba);
    assert_last_probe_key(AK_FOCUS, 3.0);
}

/* The receive F-number key: a higher F-number closes the receive aperture at a given depth,
 * so the beam widens across and a point target broadens, on screen and in the beam model. */
static void test_fnumber_widens_the_point(void **state)
{
    (void)state;
    trainer_image_rect r;
    open_points(&r);
    const session *ss = trainer_session(g_t);
    assert_true(fabs(session_probe(ss).rx_fnumber - 1.35) < 1e-9);
    /* Five presses: 1.35 -> 1.5 (rounded to the 0.25 grid) -> 2.5. */
    point_change pc = press_and_measure(&r, BTN_FNUMBER_UP, 5);
    assert_true(fabs(session_probe(ss).rx_fnumber - 2.5) < 1e-9);
    print_message("point at 3 mm, F# 1.35 -> 2.5: on screen %.3f -> %.3f mm, envelope %.3f -> %.3f mm (model ratio "
                  "%.2f)\n", pc.screen_mm[0], pc.screen_mm[1], pc.envelope_mm[0], pc.envelope_mm[1], pc.model_ratio);
    assert_true(pc.model_ratio > 1.2);
    assert_true(pc.envelope_mm[1] > pc.envelope_mm[0] * 1.15);
    assert_true(pc.screen_mm[1] > pc.screen_mm[0] * 1.1);
    /* And back down: Insert opens it again. */
    press(BTN_FNUMBER_DOWN);
    assert_true(fabs(session_probe(ss).rx_fnumber - 2.25) < 1e-9);
    free(pc.shots[0].rgba);
    free(pc.shots[1].rgba);
    assert_last_probe_key(AK_RX_FNUMBER, 2.25);
}

static void test_tgc_slider_raises_its_zone(void **state)
{
    (void)state;
    open_bundled("adult_back.json");
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    controls c = none();
    shot a, b;
    frame(&c, &a);
    /* Drag slider 2 from its centre (0 dB) to 3/4 of its track: +10 dB. */
    float s[4];
    trainer_tgc_slider_rect(g_t, 2, s);
    c.clicked = c.pointer_down = true;
    c.click_x = c.pointer_x = s[0] + 0.5f * s[2];
    c.click_y = c.pointer_y = s[1];
    frame(&c, NULL);
    c.clicked = false;
    c.pointer_x = s[0] + 0.75f * s[2];
    frame(&c, NULL);
    c = none();
    frame(&c, &b);
    const session *ss = trainer_session(g_t);
    assert_true(fabs(session_probe(ss).tgc_db[2] - 10.0) < 1e-9);
    double depth = r.rows * r.dz_mm, zone = depth / 8;
    /* Zone 2 is at full slider gain at its centre, falling to its neighbours' centres; beyond
     * them (above 1.5 zones, below 3.5) nothing changes. */
    double a2 = band(&a, &r, 2.3 * zone, 2.7 * zone), b2 = band(&b, &r, 2.3 * zone, 2.7 * zone);
    double a0 = band(&a, &r, 0.3 * zone, 1.4 * zone), b0 = band(&b, &r, 0.3 * zone, 1.4 * zone);
    double a6 = band(&a, &r, 3.6 * zone, 7.5 * zone), b6 = band(&b, &r, 3.6 * zone, 7.5 * zone);
    print_message("TGC slider 2 at +10 dB: zone 2 grey %.1f -> %.1f, above %.1f -> %.1f, below %.1f -> %.1f\n", a2, b2,
                  a0, b0, a6, b6);
    assert_true(b2 > a2 + 25);
    assert_true(fabs(b0 - a0) < 1.0 && fabs(b6 - a6) < 1.0);
    save(&b, "tgc");
    free(a.rgba);
    free(b.rgba);
    action_list al = load_log();
    const action *p = last_of(&al, ACT_PROBE);
    assert_non_null(p);
    assert_true(action_has(p, AK_TGC2) && p->v[AK_TGC2] == 10.0);
    actions_free(&al);
}

static void test_presets(void **state)
{
    (void)state;
    open_bundled("thin_skin.json");
    press(BTN_PRESET_SKIN);
    idle(1);
    const session *ss = trainer_session(g_t);
    probe_def p = session_probe(ss);
    assert_true(p.freq_mhz == 22.0 && p.depth_mm == 6.0 && p.tx_focus_mm == 2.0);
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    assert_true(fabs(r.rows * r.dz_mm - 6.0) < r.dz_mm);
    press(BTN_PRESET_DEEP);
    idle(1);
    p = session_probe(ss);
    assert_true(p.freq_mhz == 12.0 && p.depth_mm == 25.0 && p.tx_focus_mm == 12.0);
    trainer_image_rect_get(g_t, &r);
    assert_true(fabs(r.rows * r.dz_mm - 25.0) < r.dz_mm);
    action_list al = load_log();
    int n = 0;
    for (int i = 0; i < al.count; i++)
        n += al.items[i].verb == ACT_PROBE;
    assert_int_equal(n, 2); /* one action each */
    actions_free(&al);
}

/* Write zoom: the lines double (a logged probe action), the screen shows half the depth and
 * half the width around the pointer at half the lateral spacing, and back. */
static void test_zoom(void **state)
{
    (void)state;
    open_bundled("adult_back.json");
    trainer_image_rect r0, r1;
    trainer_image_rect_get(g_t, &r0);
    controls c = none();
    c.pressed[BTN_ZOOM_IN] = true;
    c.pointer_x = r0.x + 0.5f * r0.w; /* lateral 0, 4 mm deep */
    c.pointer_y = r0.y + (float)(4.0 / (r0.rows * r0.dz_mm)) * r0.h;
    frame(&c, NULL);
    press(BTN_ZOOM_IN); /* 1.5x, then 2x */
    idle(1);
    trainer_image_rect_get(g_t, &r1);
    const session *ss = trainer_session(g_t);
    print_message("zoom 2x: %d lines, dx %.4f -> %.4f mm, depth %.2f..%.2f mm, lateral %.2f..%.2f mm\n",
                  session_probe(ss).n_lines, r0.dx_mm, r1.dx_mm, r1.z0_mm, r1.z0_mm + r1.rows * r1.dz_mm,
                  r1.x0_mm, r1.x0_mm + r1.cols * r1.dx_mm);
    assert_int_equal(session_probe(ss).n_lines, 2 * r0.cols);
    assert_true(fabs(r1.dx_mm - 0.5 * r0.dx_mm) < 1e-9);
    assert_true(fabs(r1.rows * r1.dz_mm - 0.5 * r0.rows * r0.dz_mm) < 2 * r0.dz_mm);
    assert_true(fabs(r1.cols * r1.dx_mm - 0.5 * r0.cols * r0.dx_mm) < 2 * r0.dx_mm);
    assert_true(fabs(r1.z0_mm + 0.5 * r1.rows * r1.dz_mm - 4.0) < 0.1); /* centred on the pointer */
    assert_true(fabs(r1.x0_mm + 0.5 * r1.cols * r1.dx_mm) < 0.1);
    shot s;
    c = none();
    frame(&c, &s);
    save(&s, "zoom");
    free(s.rgba);
    press(BTN_ZOOM_OUT);
    press(BTN_ZOOM_OUT);
    idle(1);
    trainer_image_rect_get(g_t, &r1);
    assert_int_equal(session_probe(ss).n_lines, r0.cols);
    assert_true(r1.rows == r0.rows && r1.cols == r0.cols && r1.z0_mm == 0.0);
    action_list al = load_log();
    int n = 0;
    for (int i = 0; i < al.count; i++)
        n += al.items[i].verb == ACT_PROBE && action_has(&al.items[i], AK_LINES);
    assert_int_equal(n, 4);
    actions_free(&al);
}

/* Mean absolute difference of the image's middle (away from the banner and the messages). */
static double image_diff(const shot *a, const shot *b, const trainer_image_rect *r)
{
    double sum = 0;
    int n = 0;
    for (int y = (int)(r->y + 0.15f * r->h); y < (int)(r->y + 0.5f * r->h); y++)
        for (int x = (int)(r->x + 0.2f * r->w); x < (int)(r->x + 0.8f * r->w); x++, n++)
            sum += abs(px(a, x, y)[0] - px(b, x, y)[0]);
    return sum / n;
}

static void test_freeze_and_cine(void **state)
{
    (void)state;
    open_bundled("adult_back.json");
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    /* 40 live frames, the probe sliding 0.1 mm each; keep the screenshots. */
    enum { N = 40 };
    shot live[N];
    controls c = none();
    for (int i = 0; i < N; i++) {
        c.probe_dx_mm = 0.1;
        frame(&c, &live[i]);
    }
    press(BTN_FREEZE);
    shot frozen;
    c = none();
    frame(&c, &frozen);
    double x_frozen = session_pose(trainer_session(g_t)).x_mm;
    assert_true(image_diff(&frozen, &live[N - 1], &r) < 0.5);
    /* The probe goes on moving; the image stays. */
    for (int i = 0; i < 20; i++) {
        c.probe_dx_mm = 0.1;
        frame(&c, NULL);
    }
    shot still;
    c = none();
    frame(&c, &still);
    double moved = session_pose(trainer_session(g_t)).x_mm - x_frozen;
    print_message("frozen: probe moved %.2f mm, image change %.2f grey\n", moved, image_diff(&still, &frozen, &r));
    assert_true(moved > 1.5);
    assert_true(image_diff(&still, &frozen, &r) < 0.5);
    save(&still, "frozen");
    /* Cine: 10 frames back (kept 30 a second) is one of the live frames of about 1/3 s
     * before, drawn again exactly. */
    for (int i = 0; i < 10; i++)
        press(BTN_CINE_BACK);
    shot back;
    frame(&c, &back);
    int best = -1;
    double d_best = 1e9;
    for (int i = 0; i < N; i++) {
        double d = image_diff(&back, &live[i], &r);
        if (d < d_best)
            d_best = d, best = i;
    }
    double d_last = image_diff(&back, &live[N - 1], &r);
    print_message("cine 10 back: live frame %d of %d drawn again (%.2f grey), %.2f grey from the last\n", best + 1,
                  N, d_best, d_last);
    assert_true(d_best < 0.5);
    assert_true(best >= N - 1 - 24 && best <= N - 1 - 16);
    assert_true(d_last > 3.0);
    save(&back, "cine");
    /* Unfrozen, the image is live again, at the probe's new place. */
    press(BTN_FREEZE);
    shot again;
    frame(&c, &again);
    assert_true(image_diff(&again, &still, &r) > 3.0);
    for (int i = 0; i < N; i++)
        free(live[i].rgba);
    free(frozen.rgba);
    free(still.rgba);
    free(back.rgba);
    free(again.rgba);
}

static void test_calipers_measure_known_targets(void **state)
{
    (void)state;
    trainer_image_rect r;
    open_points(&r);
    controls c = none();
    shot s;
    frame(&c, &s);
    /* The two point targets of the case: (-2, 3) and (2, 5) mm, 4.47 mm apart. */
    int ax = 0, ay = 0, bx = 0, by = 0;
    peak(&s, &r, 2.5, 3.5, -2.0, 1.0, &ax, &ay);
    peak(&s, &r, 4.5, 5.5, 2.0, 1.0, &bx, &by);
    free(s.rgba);
    press(BTN_FREEZE);
    press(BTN_CALIPERS);
    c.clicked = true;
    c.click_x = (float)ax + 0.5f, c.click_y = (float)ay + 0.5f;
    frame(&c, NULL);
    c.click_x = (float)bx + 0.5f, c.click_y = (float)by + 0.5f;
    frame(&c, NULL);
    c = none();
    shot m;
    frame(&c, &m);
    save(&m, "calipers");
    free(m.rgba);
    int n;
    const session_measurement *me = session_measurements(trainer_session(g_t), &n);
    assert_int_equal(n, 1);
    double truth = hypot(4.0, 2.0), px_mm = r.w / (r.cols * r.dx_mm);
    print_message("calipers: %.3f mm between the targets (true %.3f), at (%.2f, %.2f) and (%.2f, %.2f)\n",
                  me->distance_mm, truth, me->x0_mm, me->z0_mm, me->x1_mm, me->z1_mm);
    /* Within a resolution cell plus a screen pixel at each end. */
    assert_true(fabs(me->distance_mm - truth) < 0.1 + 2.0 / px_mm);
    assert_true(fabs(me->x0_mm + 2.0) < 0.15 && fabs(me->z0_mm - 3.0) < 0.15);
    assert_true(strstr(trainer_message(g_t), "Measured") != NULL);
    /* The report lists it, and the log replays to the same report. */
    trainer_end_session(g_t, g_time);
    char *live = session_report_json(trainer_session(g_t), NULL);
    assert_non_null(strstr(live, "\"measurements\""));
    action_list al = load_log();
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(g_points, &sc, &d));
    scenario_diags_free(&d);
    char err[256];
    session *rs = session_create(&sc, err, sizeof err);
    assert_non_null(rs);
    for (int i = 0; i < al.count; i++)
        if (!session_apply(rs, &al.items[i], err, sizeof err))
            fail_msg("replay line %d: %s", al.items[i].line, err);
    session_finish(rs);
    char *replay = session_report_json(rs, NULL);
    assert_string_equal(replay, live);
    free(replay);
    free(live);
    session_destroy(rs);
    actions_free(&al);
}

/* A case with scoring.measure_dermis: the assessment is the caliper reading of the dermis
 * thickness under the probe centre; a wrong one scores 0, the true one nearly 1. Without it a
 * measurement leaves the assessment alone. */
static void caliper(const trainer_image_rect *r, double x0, double z0, double x1, double z1)
{
    double px_mm = r->w / (r->cols * r->dx_mm), left = r->x0_mm - 0.5 * r->dx_mm;
    press(BTN_CALIPERS);
    controls c = none();
    c.clicked = true;
    c.click_x = r->x + (float)((x0 - left) * px_mm), c.click_y = r->y + (float)((z0 - r->z0_mm) * px_mm);
    frame(&c, NULL);
    c.click_x = r->x + (float)((x1 - left) * px_mm), c.click_y = r->y + (float)((z1 - r->z0_mm) * px_mm);
    frame(&c, NULL);
}

static void test_measure_dermis_scores_the_assessment(void **state)
{
    (void)state;
    char path[1024];
    snprintf(path, sizeof path, "%s/test_window_scan_measure.json", MESOSIM_BINARY_DIR);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"version\": 1, \"name\": \"Measure the dermis\", \"scoring\": {\"measure_dermis\": true}}\n", f);
    fclose(f);
    open_case(path);
    const session *ss = trainer_session(g_t);
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    caliper(&r, 0, 0.5, 0, 8.5);
    const score_session *m = session_metrics(ss);
    assert_true(m->measured && m->step_done[STEP_ASSESSMENT]);
    double truth = m->true_thickness_mm;
    print_message("measure_dermis: true thickness %.3f mm, 8 mm measured scores %.2f\n", truth,
                  session_score(ss).part[PART_ASSESSMENT]);
    assert_true(truth > 0.5 && truth < 4.0);
    assert_true(fabs(m->measured_mm - 8.0) < 0.1);
    assert_true(session_score(ss).part[PART_ASSESSMENT] == 0.0);
    caliper(&r, 0, 1.0, 0, 1.0 + truth);
    score_result sr = session_score(ss);
    print_message("measure_dermis: %.3f mm measured scores %.2f\n", m->measured_mm, sr.part[PART_ASSESSMENT]);
    assert_true(sr.part[PART_ASSESSMENT] > 0.8);
    char *rep = session_report_json(ss, NULL);
    assert_non_null(strstr(rep, "\"true_thickness_mm\""));
    free(rep);
    /* The default back has no measure_dermis: the calipers do not assess. */
    open_bundled("adult_back.json");
    ss = trainer_session(g_t);
    caliper(&r, 0, 1.0, 0, 1.0 + truth);
    assert_false(session_metrics(ss)->step_done[STEP_ASSESSMENT]);
    assert_true(session_score(ss).part[PART_ASSESSMENT] == 0.0);
}

static void test_pause_stops_the_clock_and_keys(void **state)
{
    (void)state;
    open_bundled("adult_back.json");
    const session *ss = trainer_session(g_t);
    double t0 = session_time_s(ss);
    press(BTN_PAUSE);
    idle(120); /* 2 s */
    press(BTN_STEP_POSITIONING);
    assert_false(session_metrics(ss)->step_done[STEP_POSITIONING]);
    print_message("paused 2 s: the clock went from %.3f to %.3f s\n", t0, session_time_s(ss));
    assert_true(session_time_s(ss) - t0 < 0.05);
    press(BTN_PAUSE);
    idle(60);
    assert_true(fabs(session_time_s(ss) - t0 - 1.0) < 0.1);
    press(BTN_STEP_POSITIONING);
    assert_true(session_metrics(ss)->step_done[STEP_POSITIONING]);
    /* The help overlay holds the clock too. */
    double t1 = session_time_s(ss);
    trainer_show_help(g_t, true);
    idle(60);
    assert_true(session_time_s(ss) - t1 < 0.05);
    trainer_show_help(g_t, false);
}

static void test_end_and_close_ask_first(void **state)
{
    (void)state;
    open_bundled("adult_back.json");
    press(BTN_END_SESSION);
    shot s;
    controls c = none();
    frame(&c, &s);
    save(&s, "end_asks");
    /* The question box is drawn over the middle of the window. */
    int box = 0;
    for (int x = g_w / 2 - 200; x < g_w / 2 + 200; x++)
        box += px(&s, x, g_h / 2 + 50)[0] < 20;
    free(s.rgba);
    assert_true(box > 300);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_SCAN);
    assert_false(session_ended(trainer_session(g_t)));
    press(BTN_BACK);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_SCAN);
    assert_string_equal(trainer_message(g_t), "The session goes on.");
    press(BTN_END_SESSION);
    press(BTN_CONFIRM);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
}

static void test_marking_steps_and_words(void **state)
{
    (void)state;
    open_bundled("adult_back.json");
    const session *ss = trainer_session(g_t);
    /* Esc leaves the marking mode: the clicks after it mark nothing. */
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    press(BTN_MARK_DERMIS);
    press(BTN_BACK);
    controls c = none();
    c.clicked = true;
    c.click_x = r.x + r.w / 2, c.click_y = r.y + r.h / 10;
    frame(&c, NULL);
    c.click_y = r.y + r.h / 4;
    frame(&c, NULL);
    assert_false(session_metrics(ss)->marked);
    /* The tick key ticks only the step under the pointer; with none it opens the chooser,
     * which names the step before anything is ticked (never a later step such as the
     * dressing); Esc closes it with nothing ticked. */
    c = none();
    c.pressed[BTN_STEP] = true;
    frame(&c, NULL);
    for (int s = 0; s < STEP_COUNT; s++)
        assert_false(session_metrics(ss)->step_done[s]);
    assert_non_null(strstr(trainer_message(g_t), "Which step is done?"));
    assert_non_null(strstr(trainer_message(g_t), "Patient positioning"));
    press(BTN_BACK);
    for (int s = 0; s < STEP_COUNT; s++)
        assert_false(session_metrics(ss)->step_done[s]);
    /* A step's own key ticks it; the undo key sends undo_step, which this core either applies
     * or refuses in words. */
    press(BTN_STEP_STERILE_FIELD);
    assert_true(session_metrics(ss)->step_done[STEP_STERILE_FIELD]);
    assert_false(session_metrics(ss)->step_done[STEP_POSITIONING]);
    press(BTN_UNDO_STEP);
    action probe;
    char err[256];
    const char *line = "{\"t\":0,\"do\":\"undo_step\",\"name\":\"sterile_field\"}";
    bool core_has_undo = action_parse_line(line, strlen(line), -1, &probe, err, sizeof err);
    print_message("undo: %s\n", trainer_message(g_t));
    if (core_has_undo) {
        assert_false(session_metrics(ss)->step_done[STEP_STERILE_FIELD]);
    } else {
        assert_true(session_metrics(ss)->step_done[STEP_STERILE_FIELD]);
        assert_non_null(strstr(trainer_message(g_t), "Undo is not available"));
    }
    /* A needle through the layers: every message is in words, no file names of things. */
    press(BTN_NEEDLE_ENTRY);
    c = none();
    for (int i = 0; i < 100; i++) {
        c.needle_speed_mm_s = 1.5;
        frame(&c, NULL);
        if (strchr(trainer_message(g_t), '_'))
            fail_msg("a name, not words: %s", trainer_message(g_t));
    }
    press(BTN_INJECT);
    idle(5);
    print_message("after the injection: %s\n", trainer_message(g_t));
    assert_null(strchr(trainer_message(g_t), '_'));
    assert_non_null(strstr(trainer_message(g_t), "Injection 1: "));
}

/* At the minimum window size the image, its scales and sliders, the readouts and the outside
 * view keep apart. Under X11 the window takes the size; SDL's offscreen driver may not. */
static void test_minimum_size_layout(void **state)
{
    (void)state;
    SDL_Window *win = SDL_GL_GetCurrentWindow();
    assert_non_null(win);
    SDL_SetWindowSize(win, 800, 500); /* below the minimum: held at 960 x 600 */
    SDL_PumpEvents();
    open_bundled("adult_back.json");
    press(BTN_PRESET_DEEP); /* the widest settings line */
    controls c = none();
    c.resized = true;
    frame(&c, NULL);
    int fw, fh;
    trainer_drawable_size(g_t, &fw, &fh);
    if (!strcmp(g_driver, "x11")) {
        assert_int_equal(fw, 960);
        assert_int_equal(fh, 600);
    }
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    float v[4], s[4];
    trainer_view_rect(g_t, v);
    trainer_tgc_slider_rect(g_t, 0, s);
    print_message("%dx%d: image %.0fx%.0f at (%.0f, %.0f), sliders to %.0f, view at %.0f\n", fw, fh, r.w, r.h, r.x,
                  r.y, s[0] + s[2], v[0]);
    assert_true(s[0] + s[2] + 8 <= v[0]);
    assert_true(r.y + r.h + 80 <= fh - 28);
    int dw = fw, dh = fh;
    uint8_t *buf = malloc((size_t)dw * dh * 4);
    assert_non_null(buf);
    trainer_frame(g_t, g_time + 0.02, &c);
    trainer_read_pixels(g_t, buf);
    trainer_swap(g_t);
    shot sh = {buf, dw, dh};
    save(&sh, "min_size");
    free(buf);
    SDL_SetWindowSize(win, g_w, g_h);
    SDL_PumpEvents();
    c.resized = true;
    frame(&c, NULL);
    char err[160];
    assert_int_equal(trainer_gl_errors(g_t, err, sizeof err), 0);
}

/* Pixels of a screenshot rectangle in the overlay's colours: saturated red (towards the
 * probe), blue (away), orange (power). */
typedef struct colour_count {
    int red, blue, orange;
} colour_count;

static colour_count count_colours(const shot *s, float x0, float y0, float x1, float y1)
{
    colour_count n = {0, 0, 0};
    for (int y = (int)y0; y < (int)y1; y++)
        for (int x = (int)x0; x < (int)x1; x++) {
            const uint8_t *p = px(s, x, y);
            n.red += p[0] > 100 && p[1] < 60 && p[2] < 40;
            n.blue += p[2] > 100 && p[0] < 40 && p[1] < 60;
            n.orange += p[0] > 130 && p[1] > 45 && p[1] < 210 && p[2] < 60 && p[0] > p[1] + 40;
        }
    return n;
}

/* Colour Doppler over the adult back's perforator (it crosses the image plane at x -4 mm,
 * 6.25 mm deep, climbing towards +x: flow towards the probe): the mode key turns colour on,
 * the PRF keys raise the scale to fit its systolic speed, two clicks place the box around it;
 * the screenshot shows red at the vessel and no colour outside the box; power shows orange;
 * off shows none. Each key is a logged "doppler" action. */
static void test_doppler_overlay(void **state)
{
    (void)state;
    open_bundled("adult_back.json");
    trainer_show_outside_view(g_t, false);
    idle(2);
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    double px_mm = r.w / (r.cols * r.dx_mm), left = r.x0_mm - 0.5 * r.dx_mm;
    press(BTN_DOPPLER_MODE);
    assert_int_equal(session_doppler(trainer_session(g_t)).mode, DOPPLER_COLOR);
    for (int i = 0; i < 6; i++)
        press(BTN_DOPPLER_PRF_UP);
    press(BTN_DOPPLER_BOX);
    controls c = none();
    c.clicked = true;
    const double box[4] = {-6.0, 4.0, -1.5, 8.5};
    c.click_x = r.x + (float)((box[0] - left) * px_mm), c.click_y = r.y + (float)((box[1] - r.z0_mm) * px_mm);
    frame(&c, NULL);
    c.click_x = r.x + (float)((box[2] - left) * px_mm), c.click_y = r.y + (float)((box[3] - r.z0_mm) * px_mm);
    frame(&c, NULL);
    idle(6); /* into systole at 70 bpm */
    c = none();
    shot s;
    frame(&c, &s);
    save(&s, "doppler_colour");
    float vx0 = r.x + (float)((-5.0 - left) * px_mm), vx1 = r.x + (float)((-3.0 - left) * px_mm);
    float vy0 = r.y + (float)((5.25 - r.z0_mm) * px_mm), vy1 = r.y + (float)((7.25 - r.z0_mm) * px_mm);
    colour_count at = count_colours(&s, vx0, vy0, vx1, vy1);
    /* The right half of the image, outside the box. */
    float ox0 = r.x + (float)((0.5 - left) * px_mm);
    colour_count out = count_colours(&s, ox0, r.y, r.x + r.w, r.y + r.h);
    print_message("doppler overlay: %d red, %d blue px at the perforator; %d red, %d blue outside the box\n",
                  at.red, at.blue, out.red, out.blue);
    free(s.rgba);
    assert_true(at.red > 100);
    assert_true(at.blue < at.red / 10);
    assert_int_equal(out.red + out.blue, 0);

    press(BTN_DOPPLER_MODE);
    assert_int_equal(session_doppler(trainer_session(g_t)).mode, DOPPLER_POWER);
    frame(&c, &s);
    save(&s, "doppler_power");
    colour_count pw = count_colours(&s, vx0, vy0, vx1, vy1);
    free(s.rgba);
    print_message("power doppler: %d orange px at the perforator\n", pw.orange);
    assert_true(pw.orange > 100);
    press(BTN_DOPPLER_MODE);
    frame(&c, &s);
    colour_count off = count_colours(&s, vx0, vy0, vx1, vy1);
    free(s.rgba);
    assert_int_equal(off.red + off.blue + off.orange, 0);

    action_list al = load_log();
    const action *a = last_of(&al, ACT_DOPPLER);
    assert_non_null(a);
    assert_true(a->has_mode && a->mode == DOPPLER_OFF);
    int n_box = 0;
    for (int i = 0; i < al.count; i++)
        n_box += al.items[i].verb == ACT_DOPPLER && action_has(&al.items[i], AK_X0);
    assert_int_equal(n_box, 1);
    actions_free(&al);
    trainer_end_session(g_t, g_time);
}

int main(void)
{
    char err[1024];
    setenv("XDG_CONFIG_HOME", MESOSIM_BINARY_DIR "/test_window_scan_config", 1);
    /* Two point targets in the fat of the default back, 4 mm apart laterally, 2 mm in depth. */
    snprintf(g_points, sizeof g_points, "%s/test_window_scan_points.json", MESOSIM_BINARY_DIR);
    FILE *f = fopen(g_points, "w");
    if (!f) {
        fprintf(stderr, "test_window_scan: cannot write %s\n", g_points);
        return 1;
    }
    fputs("{\"version\": 1, \"name\": \"Two point targets\",\n"
          " \"phantom\": {\"inclusions\": [{\"kind\": \"point\", \"c_mm\": [-2, 0, 3], \"amplitude\": 60},\n"
          "                               {\"kind\": \"point\", \"c_mm\": [2, 0, 5], \"amplitude\": 60}]},\n"
          " \"probe\": {\"depth_mm\": 8, \"gain_db\": -12}}\n", f);
    fclose(f);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = MESOSIM_BINARY_DIR "/test_window_scan_sessions";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_window_scan: no GL window: %s\n", err);
        return 77;
    }
    const char *drv = getenv("SDL_VIDEODRIVER");
    g_driver = drv && *drv ? drv : "x11";
    trainer_drawable_size(g_t, &g_w, &g_h);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_focus_narrows_the_point),
        cmocka_unit_test(test_fnumber_widens_the_point),
        cmocka_unit_test(test_tgc_slider_raises_its_zone),
        cmocka_unit_test(test_presets),
        cmocka_unit_test(test_freeze_and_cine),
        cmocka_unit_test(test_zoom),
        cmocka_unit_test(test_calipers_measure_known_targets),
        cmocka_unit_test(test_doppler_overlay),
        cmocka_unit_test(test_measure_dermis_scores_the_assessment),
        cmocka_unit_test(test_pause_stops_the_clock_and_keys),
        cmocka_unit_test(test_end_and_close_ask_first),
        cmocka_unit_test(test_marking_steps_and_words),
        cmocka_unit_test(test_minimum_size_layout),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
