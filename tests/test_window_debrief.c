/* The debrief, the teaching outside view, the picker, the sound and the frames, under a real GL
 * 3.3 context (Xvfb or SDL's offscreen EGL driver, see run_gl.sh), read from pixels:
 *   - the replay at two times shows the needle in two places (B-mode and outside view differ,
 *     the tip marker moves) and the tip marker is orange outside the imaging slab, green in it;
 *   - the probe's ridge is on the side of the image's orientation dot, and the image's left
 *     end (-u) projects to the left of the screen (the view is not mirrored);
 *   - the planned points are on the skin map (where trainer_debrief_map_px says) and on the
 *     outside view's skin;
 *   - the picker lists a case from $XDG_DATA_HOME/mesosim/scenarios and one from --cases, and
 *     selects the last case opened when it lists them again;
 *   - pops queue clicks and injecting sounds the tone (SDL's dummy audio driver); the mixer
 *     clicks, stops, and is silent when muted;
 *   - `mesosim validate` on every .json of scenarios/ skips the schema with a note and succeeds;
 *   - `mesosim run --frames` writes square pixels with a scale bar.
 * Screenshots land in the build dir as test_window_debrief_*.png. Exits 77 (CTest skip) only
 * when no GL context can be had. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <stb_image.h>

#include "actions.h"
#include "image_io.h"
#include "needle.h"
#include "session.h"
#include "sound_sdl.h"
#include "trainer.h"
#include "window_util.h"

#define TMP MESOSIM_BINARY_DIR "/test_window_debrief_tmp"

static trainer *g_t;
static const char *g_driver = "gl";
static int g_w, g_h;
static double g_live_inserted_mm[2]; /* the live session's needle at 4.5 s and 7.5 s */


static shot grab(double t_s) { return wu_grab(g_t, t_s, NULL); }

static const uint8_t *px(const shot *s, int x, int y) { return wu_px(s, x, y); }

static void save(const shot *s, const char *name) { wu_save(s, "test_window_debrief", g_driver, name); }

static void act(const char *json)
{
    action a;
    char err[256];
    if (!action_parse_line(json, strlen(json), -1, &a, err, sizeof err))
        fail_msg("bad test action %s: %s", json, err);
    if (!trainer_do(g_t, &a, err, sizeof err))
        fail_msg("%s refused: %s", json, err);
}

static void frame(double t_s) { shot s = grab(t_s); free(s.rgba); }

/* Where the middle of the tip marker (0.4 mm back from the tip) is in the debrief's view. */
static void marker_px(float *x, float *y)
{
    const needle *nd = trainer_debrief_snapshot(g_t)->needle;
    double tip[3], dir[3], p[3];
    needle_tip_mm(nd, tip);
    needle_dir(nd, dir);
    for (int i = 0; i < 3; i++)
        p[i] = tip[i] - 0.4 * dir[i];
    assert_true(trainer_debrief_view_px(g_t, p, x, y));
}

/* Mean of (G - R) over a (2k+1)^2 window: > 0 greenish, < 0 reddish/orange. */
static double green_minus_red(const shot *s, float fx, float fy, int k)
{
    int x0 = (int)lroundf(fx), y0 = (int)lroundf(fy);
    double sum = 0;
    int n = 0;
    for (int y = y0 - k; y <= y0 + k; y++)
        for (int x = x0 - k; x <= x0 + k; x++)
            if (x >= 0 && y >= 0 && x < g_w && y < g_h) {
                const uint8_t *p = px(s, x, y);
                sum += (double)p[1] - p[0];
                n++;
            }
    return n ? sum / n : 0;
}

/* Pixels of rectangle r whose grey level changed by more than 60 between two shots. */
static long changed(const shot *a, const shot *b, const float r[4])
{
    long n = 0;
    for (int y = (int)r[1]; y < (int)(r[1] + r[3]); y++)
        for (int x = (int)r[0]; x < (int)(r[0] + r[2]); x++) {
            int d = 0;
            for (int c = 0; c < 3; c++)
                d += abs((int)px(a, x, y)[c] - (int)px(b, x, y)[c]);
            n += d > 180;
        }
    return n;
}

/* ---- the session the debrief replays ---------------------------------------------------- */

static void run_session(void)
{
    char path[1024], err[2048];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    if (!trainer_open_case(g_t, path, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    const sound *snd = trainer_sound(g_t);
    act("{\"t\":0.5,\"do\":\"step\",\"name\":\"positioning\"}");
    act("{\"t\":2,\"do\":\"mark_dermis\",\"top_mm\":0.1,\"bottom_mm\":2.5}");
    act("{\"t\":3,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":0}");
    act("{\"t\":4,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":-3,\"angle_deg\":30,\"azimuth_deg\":90}");
    frame(4.5);
    g_live_inserted_mm[0] = needle_inserted_mm(session_needle(trainer_session(g_t)));
    int clicks0 = sound_clicks_queued(snd);
    act("{\"t\":5,\"do\":\"advance\",\"mm\":2.5}");
    frame(5.1);
    /* The advance broke into the dermis: a pop, a click. */
    assert_true(sound_clicks_queued(snd) > clicks0);
    act("{\"t\":6,\"do\":\"advance\",\"mm\":1.0}");
    frame(7.5);
    g_live_inserted_mm[1] = needle_inserted_mm(session_needle(trainer_session(g_t)));
    act("{\"t\":8,\"do\":\"inject\",\"ml\":0.1,\"rate_ml_s\":0.05}");
    frame(8.5);
    assert_true(sound_tone_on(snd));
    frame(11.0);
    assert_false(sound_tone_on(snd));
    trainer_end_session(g_t, 12.0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
}

static void test_replay_two_times(void **state)
{
    (void)state;
    run_session();
    float b[4], v[4], m[4], tl[4];
    trainer_debrief_seek(g_t, 4.5);
    shot a = grab(20.0);
    trainer_debrief_rects(g_t, b, v, m, tl);
    double ins_a = needle_inserted_mm(trainer_debrief_snapshot(g_t)->needle);
    float ax, ay, bx, by;
    assert_true(trainer_debrief_tip_px(g_t, &ax, &ay));
    float max_, may_, mcx, mcy;
    marker_px(&max_, &may_);
    save(&a, "t4_5");
    trainer_debrief_seek(g_t, 7.5);
    shot c = grab(20.1);
    double ins_c = needle_inserted_mm(trainer_debrief_snapshot(g_t)->needle);
    assert_true(trainer_debrief_tip_px(g_t, &bx, &by));
    marker_px(&mcx, &mcy);
    save(&c, "t7_5");
    print_message("replay: inserted %.2f mm at 4.5 s, %.2f mm at 7.5 s; tip at (%.0f, %.0f) then (%.0f, %.0f); "
                  "slowest seek %.2f ms\n",
                  ins_a, ins_c, ax, ay, bx, by, trainer_debrief_seek_ms_max(g_t));
    /* The replay is the session: the same needle at the same times, and it moved. */
    assert_true(fabs(ins_a - g_live_inserted_mm[0]) < 1e-9 && fabs(ins_c - g_live_inserted_mm[1]) < 1e-9);
    assert_true(ins_c - ins_a > 2.0);
    /* The tip moved on screen and both views changed. */
    assert_true(hypotf(bx - ax, by - ay) > 4.0f);
    long nb = changed(&a, &c, b), nv = changed(&a, &c, v);
    print_message("changed: %ld px of the B-mode, %ld of the outside view\n", nb, nv);
    assert_true(nb > 30);
    assert_true(nv > 30);
    /* The marker: orange at the skin, 3 mm from the plane; green with the tip in the slab. */
    double gr_a = green_minus_red(&a, max_, may_, 1), gr_c = green_minus_red(&c, mcx, mcy, 1);
    print_message("tip colour G-R: %.1f outside the slab, %.1f inside\n", gr_a, gr_c);
    assert_true(gr_a < -10.0);
    assert_true(gr_c > 10.0);
    /* Going back re-runs the log and lands on the same state. */
    trainer_debrief_seek(g_t, 4.5);
    assert_true(fabs(needle_inserted_mm(trainer_debrief_snapshot(g_t)->needle) - ins_a) < 1e-9);
    /* The seek's cost is a figure (printed above, shown in the debrief), not a test: it depends on
     * the machine and the build (ASan makes it ten times slower). */
    assert_int_equal(trainer_gl_errors(g_t, NULL, 0), 0);
    free(a.rgba);
    free(c.rgba);
}

/* The ridge and the image's dot on one side: the image's left (-u, the first column) is on
 * the screen's left in the outside view, and the green ridge is left of the probe's centre. */
static void test_ridge_on_dot_side(void **state)
{
    (void)state;
    trainer_debrief_seek(g_t, 3.5); /* probe placed, no needle yet */
    shot s = grab(21.0);
    save(&s, "ridge");
    float b[4], v[4], m[4], tl[4];
    trainer_debrief_rects(g_t, b, v, m, tl);
    const driver_snapshot *rs = trainer_debrief_snapshot(g_t);
    probe_frame f = probe_frame_make(rs->display, &rs->probe, &rs->pose);
    double h = 0.5 * probe_fov_mm(&rs->probe), left[3], right[3];
    probe_image_to_phantom(&f, -h, 0, 0, left);
    probe_image_to_phantom(&f, h, 0, 0, right);
    float lx, ly, rx, ry, cx, cy;
    assert_true(trainer_debrief_view_px(g_t, left, &lx, &ly));
    assert_true(trainer_debrief_view_px(g_t, right, &rx, &ry));
    assert_true(trainer_debrief_view_px(g_t, f.origin, &cx, &cy));
    assert_true(lx < rx);
    double sx = 0;
    long n = 0;
    for (int y = (int)v[1]; y < (int)(v[1] + v[3]); y++)
        for (int x = (int)v[0]; x < (int)(v[0] + v[2]); x++) {
            const uint8_t *p = px(&s, x, y);
            if (p[1] > 110 && p[1] > 1.8 * p[0] && p[1] > 1.8 * p[2])
                sx += x, n++;
        }
    assert_true(n > 20);
    print_message("ridge: %ld px centred at x %.0f, probe centre %.0f; image left end %.0f, right end %.0f\n", n,
                  sx / n, cx, lx, rx);
    assert_true(sx / n < cx - 3);
    /* The image's dot: green, in the left part of the B-mode. */
    double dx = 0;
    long dn = 0;
    for (int y = (int)b[1]; y < (int)(b[1] + 20); y++)
        for (int x = (int)b[0]; x < (int)(b[0] + b[2]); x++) {
            const uint8_t *p = px(&s, x, y);
            if (p[1] > 180 && p[0] < 130 && p[2] < 130)
                dx += x, dn++;
        }
    assert_true(dn > 5);
    assert_true(dx / dn < b[0] + 0.25 * b[2]);
    free(s.rgba);
}

static void test_plan_marks(void **state)
{
    (void)state;
    shot s = grab(22.0);
    save(&s, "plan");
    const driver_snapshot *rs = trainer_debrief_snapshot(g_t);
    (void)rs;
    char path[1024];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(path, &sc, &d));
    scenario_diags_free(&d);
    assert_true(sc.plan.n_points > 0);
    for (int i = 0; i < sc.plan.n_points; i++) {
        float mx, my;
        trainer_debrief_map_px(g_t, sc.plan.points_mm[i][0], sc.plan.points_mm[i][1], &mx, &my);
        const uint8_t *p = px(&s, (int)lroundf(mx), (int)lroundf(my));
        assert_true(p[0] > 230 && p[1] < 90 && p[2] > 230);
    }
    /* On the skin in the outside view: magenta marks (lit, so only the hue is checked). */
    float b[4], v[4], m[4], tl[4];
    trainer_debrief_rects(g_t, b, v, m, tl);
    long n = 0;
    for (int y = (int)v[1]; y < (int)(v[1] + v[3]); y++)
        for (int x = (int)v[0]; x < (int)(v[0] + v[2]); x++) {
            const uint8_t *p = px(&s, x, y);
            if (p[0] > 110 && p[2] > 110 && p[1] < 0.55 * p[0] && p[1] < 0.55 * p[2])
                n++;
        }
    print_message("plan marks: %ld magenta px on the outside view\n", n);
    assert_true(n > 8);
    free(s.rgba);
}

/* Drag on the timeline, the arrow keys and the play button move the replay. */
static void test_timeline_input(void **state)
{
    (void)state;
    float b[4], v[4], m[4], tl[4];
    trainer_debrief_rects(g_t, b, v, m, tl);
    const double end = 12.0;
    controls c;
    memset(&c, 0, sizeof c);
    c.zoom_factor = 1.0f;
    c.clicked = c.pointer_down = true;
    c.click_x = c.pointer_x = tl[0] + 0.25f * tl[2];
    c.click_y = c.pointer_y = tl[1] + 0.5f * tl[3];
    trainer_frame(g_t, 40.0, &c);
    trainer_swap(g_t);
    assert_true(fabs(trainer_debrief_time(g_t) - 0.25 * end) < 0.1);
    c.clicked = false; /* dragging on */
    c.pointer_x = tl[0] + 0.75f * tl[2];
    trainer_frame(g_t, 40.1, &c);
    trainer_swap(g_t);
    assert_true(fabs(trainer_debrief_time(g_t) - 0.75 * end) < 0.1);
    memset(&c, 0, sizeof c);
    c.zoom_factor = 1.0f;
    c.pressed[BTN_SEEK_BACK] = true;
    trainer_frame(g_t, 40.2, &c);
    trainer_swap(g_t);
    assert_true(fabs(trainer_debrief_time(g_t) - (0.75 * end - 0.5)) < 0.1);
    /* Up: the previous injection (at 8 s); play runs on with the frame clock. */
    c.pressed[BTN_SEEK_BACK] = false;
    c.pressed[BTN_MENU_UP] = true;
    trainer_frame(g_t, 40.3, &c);
    trainer_swap(g_t);
    assert_true(fabs(trainer_debrief_time(g_t) - 8.0) < 1e-9);
    c.pressed[BTN_MENU_UP] = false;
    c.pressed[BTN_PLAY_PAUSE] = true;
    trainer_frame(g_t, 40.4, &c);
    trainer_swap(g_t);
    c.pressed[BTN_PLAY_PAUSE] = false;
    trainer_frame(g_t, 41.4, &c);
    trainer_swap(g_t);
    assert_true(fabs(trainer_debrief_time(g_t) - 9.1) < 0.05); /* 0.1 s of the frame it started, then 1 s */
    c.pressed[BTN_PLAY_PAUSE] = true;
    trainer_frame(g_t, 41.5, &c);
    trainer_swap(g_t);
    c.pressed[BTN_PLAY_PAUSE] = false;
    trainer_frame(g_t, 43.0, &c);
    trainer_swap(g_t);
    assert_true(fabs(trainer_debrief_time(g_t) - 9.1) < 0.05); /* paused */
}

/* ---- picker ------------------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

static int find_case(const char *suffix)
{
    for (int i = 0; i < trainer_case_count(g_t); i++) {
        const char *p = trainer_case_path(g_t, i);
        size_t lp = strlen(p), ls = strlen(suffix);
        if (lp >= ls && !strcmp(p + lp - ls, suffix))
            return i;
    }
    return -1;
}

static void test_picker_user_cases(void **state)
{
    (void)state;
    trainer_show_picker(g_t);
    int mine = find_case("/data/mesosim/scenarios/my_case.json");
    int other = find_case("/cases/other_case.json");
    assert_true(find_case("/adult_back.json") >= 0);
    assert_true(mine >= 0);
    assert_true(other >= 0);
    assert_int_equal(find_case("scenario.schema.json"), -1);
    /* Choose the user's case with the keys and open it: it is remembered. */
    controls c;
    memset(&c, 0, sizeof c);
    c.zoom_factor = 1.0f;
    for (int k = 0; k < 64 && trainer_case_selected(g_t) != mine; k++) {
        c.pressed[BTN_MENU_DOWN] = true;
        trainer_frame(g_t, 30.0, &c);
        trainer_swap(g_t);
    }
    assert_int_equal(trainer_case_selected(g_t), mine);
    c.pressed[BTN_MENU_DOWN] = false;
    c.pressed[BTN_CONFIRM] = true;
    trainer_frame(g_t, 30.1, &c);
    trainer_swap(g_t);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_BRIEFING);
    FILE *f = fopen(TMP "/config/mesosim/window.conf", "r");
    assert_non_null(f);
    char text[4096] = "";
    size_t n = fread(text, 1, sizeof text - 1, f);
    text[n] = '\0';
    fclose(f);
    assert_non_null(strstr(text, "my_case.json"));
    trainer_show_picker(g_t);
    assert_int_equal(trainer_case_selected(g_t), find_case("/data/mesosim/scenarios/my_case.json"));
    /* A new case in the folder shows after the reload key. */
    copy_file(MESOSIM_SOURCE_DIR "/scenarios/thin_skin.json", TMP "/cases/new_case.json");
    assert_int_equal(find_case("/cases/new_case.json"), -1);
    memset(c.pressed, 0, sizeof c.pressed);
    c.pressed[BTN_RELOAD] = true;
    trainer_frame(g_t, 30.2, &c);
    trainer_swap(g_t);
    assert_true(find_case("/cases/new_case.json") >= 0);
    assert_int_equal(trainer_case_selected(g_t), find_case("/data/mesosim/scenarios/my_case.json"));
    shot s = grab(30.3);
    save(&s, "picker");
    free(s.rgba);
}

/* ---- sound ------------------------------------------------------------------------------- */

static double peak(const float *x, int n)
{
    double m = 0;
    for (int i = 0; i < n; i++)
        m = fmax(m, fabs(x[i]));
    return m;
}

static void test_sound_mixer(void **state)
{
    (void)state;
    sound *s = sound_create(false);
    assert_non_null(s);
    float buf[4800];
    sound_render(s, buf, 480);
    assert_true(peak(buf, 480) == 0.0);
    sound_click(s, 1.0);
    assert_int_equal(sound_clicks_queued(s), 1);
    sound_render(s, buf, 480);
    assert_true(peak(buf, 480) > 0.2);
    sound_render(s, buf, 480); /* 10 ms later the click is over */
    assert_true(peak(buf, 480) < 1e-6);
    sound_set_tone(s, true);
    sound_render(s, buf, 4800);
    double loud = peak(buf + 2400, 2400);
    assert_true(loud > 0.03 && loud < 0.2); /* soft */
    sound_set_muted(s, true);
    sound_click(s, 1.0);
    sound_render(s, buf, 480);
    assert_true(peak(buf, 480) == 0.0);
    sound_set_muted(s, false);
    sound_set_volume(s, 0.35);
    sound_render(s, buf, 2400);
    assert_true(fabs(peak(buf + 1200, 1200) - loud * 0.5) < 0.01);
    sound_destroy(s);
}

/* ---- the command line ---------------------------------------------------------------------- */

static int run_cmd(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    size_t k = fread(out, 1, n - 1, p);
    out[k] = '\0';
    return pclose(p);
}

static void test_validate_skips_schema(void **state)
{
    (void)state;
    char out[8192];
    int rc = run_cmd("cd " MESOSIM_SOURCE_DIR " && " MESOSIM_EXE " validate scenarios/*.json 2>&1", out, sizeof out);
    print_message("%s", out);
    assert_int_equal(rc, 0);
    assert_non_null(strstr(out, "scenarios/scenario.schema.json is a JSON Schema, not a scenario: skipped"));
    /* The bundled library, however many cases it holds now. */
    char n_cases[64], want[96];
    assert_int_equal(run_cmd("cd " MESOSIM_SOURCE_DIR " && ls scenarios/*.json | grep -vc schema", n_cases, sizeof n_cases), 0);
    snprintf(want, sizeof want, "%d files valid", atoi(n_cases));
    assert_non_null(strstr(out, want));
    /* A broken case next to it still fails. */
    FILE *f = fopen(TMP "/broken.json", "w");
    assert_non_null(f);
    fputs("{\"version\": 1, \"probe\": {\"freq_mhz\": -3}}\n", f);
    fclose(f);
    rc = run_cmd(MESOSIM_EXE " validate " MESOSIM_SOURCE_DIR "/scenarios/scenario.schema.json " TMP
                 "/broken.json 2>&1",
                 out, sizeof out);
    assert_int_not_equal(rc, 0);
    assert_non_null(strstr(out, "broken.json:"));
}

static void test_square_frames(void **state)
{
    (void)state;
    /* 10 rows 0.1 mm deep by 40 columns 0.025 mm wide: 1 x 1 mm, so a square image. */
    uint8_t img[10 * 40];
    for (int i = 0; i < 400; i++)
        img[i] = (uint8_t)(i % 40 < 20 ? 40 : 120);
    image_gray g;
    char err[256];
    assert_int_equal(image_resample_square(img, 10, 40, 0.1, 0.025, &g, err, sizeof err), 0);
    assert_int_equal(g.w, 40);
    assert_int_equal(g.h, 40);
    assert_true(fabs(g.px_mm - 0.025) < 1e-12);
    assert_int_equal(g.bar_px, 40); /* 1 mm for an image narrower than 10 mm */
    free(g.pixels);
    /* The demo session's frames: width / height is the image's mm aspect, and the bar is there. */
    char out[8192];
    int rc = run_cmd(MESOSIM_EXE " run --scenario " MESOSIM_SOURCE_DIR "/scenarios/adult_back.json --actions " MESOSIM_SOURCE_DIR
                     "/scenarios/sessions/adult_back_demo.jsonl --report " TMP "/r.json --frames " TMP "/frames 2>&1",
                     out, sizeof out);
    assert_int_equal(rc, 0);
    int w, h, ch;
    uint8_t *p = stbi_load(TMP "/frames/injection_01_start.png", &w, &h, &ch, 1);
    assert_non_null(p);
    probe_def pd = probe_default_def();
    double want = probe_fov_mm(&pd) / pd.depth_mm;
    print_message("frame %d x %d: aspect %.4f, want %.4f\n", w, h, (double)w / h, want);
    assert_true(fabs((double)w / h - want) < 0.01);
    /* The bar: 5 mm of white on row h - 8 from x = 6. */
    int len = (int)lround(5.0 / (probe_fov_mm(&pd) / w));
    for (int x = 6; x <= 6 + len - 2; x += 7)
        assert_int_equal(p[(size_t)(h - 8) * w + x], 255);
    stbi_image_free(p);
}

int main(void)
{
    char err[1024];
    setenv("SDL_AUDIODRIVER", "dummy", 0);
    if (system("rm -rf " TMP) != 0)
        fprintf(stderr, "test_window_debrief: could not clear %s\n", TMP);
    mkdir(TMP, 0755);
    mkdir(TMP "/data", 0755);
    mkdir(TMP "/data/mesosim", 0755);
    mkdir(TMP "/data/mesosim/scenarios", 0755);
    mkdir(TMP "/cases", 0755);
    setenv("XDG_CONFIG_HOME", TMP "/config", 1);
    setenv("XDG_DATA_HOME", TMP "/data", 1);
    FILE *a = fopen(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", "rb");
    if (a) {
        fclose(a);
        const char *pairs[][2] = {{MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", TMP "/data/mesosim/scenarios/my_case.json"},
                                  {MESOSIM_SOURCE_DIR "/scenarios/thin_skin.json", TMP "/cases/other_case.json"}};
        for (int i = 0; i < 2; i++) {
            FILE *f = fopen(pairs[i][0], "rb"), *g = fopen(pairs[i][1], "wb");
            char buf[8192];
            size_t n;
            while (f && g && (n = fread(buf, 1, sizeof buf, f)) > 0)
                fwrite(buf, 1, n, g);
            if (f)
                fclose(f);
            if (g)
                fclose(g);
        }
    }
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = TMP "/sessions";
    def.cases_dir = TMP "/cases";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_window_debrief: no GL window: %s\n", err);
        return 77;
    }
    const char *drv = getenv("SDL_VIDEODRIVER");
    g_driver = drv && *drv ? drv : "x11";
    trainer_drawable_size(g_t, &g_w, &g_h);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay_two_times),
        cmocka_unit_test(test_ridge_on_dot_side),
        cmocka_unit_test(test_plan_marks),
        cmocka_unit_test(test_timeline_input),
        cmocka_unit_test(test_picker_user_cases),
        cmocka_unit_test(test_sound_mixer),
        cmocka_unit_test(test_validate_skips_schema),
        cmocka_unit_test(test_square_frames),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
