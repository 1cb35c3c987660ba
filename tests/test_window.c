/* The trainer window under a real GL 3.3 context (Xvfb or SDL's offscreen EGL driver, see
 * run_gl.sh): every bundled case opens and its B-mode view shows the layer bands where the
 * phantom has them; a scripted session through the action format puts the needle's dot where
 * the shaft crosses the slice; the overlays (settings, depth scale, outside view, checklist)
 * are drawn; the screen matches reference screenshots within a tolerance; the action log the
 * window wrote replays headless to the same state and report; no GL errors anywhere.
 *
 * Screenshots are read with glReadPixels before the swap (row 0 at the bottom) and written to
 * the build dir (test_window_*.png) for a person to look at. Exits 77 (CTest skip) only when
 * no GL context can be had at all. MESOSIM_UPDATE_REFERENCE=1 rewrites the references. */
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
#include <stb_image.h>
#include <stb_image_write.h>

#include "actions.h"
#include "scenario.h"
#include "session.h"
#include "replay_util.h"
#include "trainer.h"
#include "window_util.h"

static trainer *g_t;
static const char *g_driver = "gl";
static int g_w, g_h;


static shot grab(double t_s) { return wu_grab(g_t, t_s, NULL); }

static const uint8_t *px(const shot *s, int x, int y) { return wu_px(s, x, y); }

static void save(const shot *s, const char *name) { wu_save(s, "test_window", g_driver, name); }

static void open_scan(const char *file)
{
    char path[1024], err[2048];
    snprintf(path, sizeof path, "%s/scenarios/%s", MESOSIM_SOURCE_DIR, file);
    if (!trainer_open_case(g_t, path, err, sizeof err))
        fail_msg("%s", err);
    if (!trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_SCAN);
}

static void act(const char *json)
{
    action a;
    char err[256];
    if (!action_parse_line(json, strlen(json), -1, &a, err, sizeof err))
        fail_msg("bad test action %s: %s", json, err);
    if (!trainer_do(g_t, &a, err, sizeof err))
        fail_msg("%s refused: %s", json, err);
}

/* Mean grey of the screenshot over the image rows covering depths z0..z1 (mm, image frame)
 * in the middle third of the image's width. */
static double band_mean(const shot *s, const trainer_image_rect *r, double z0, double z1)
{
    double px_mm = r->h / (r->rows * r->dz_mm), sum = 0;
    int n = 0;
    int y0 = (int)ceil(r->y + (z0 - r->z0_mm) * px_mm), y1 = (int)floor(r->y + (z1 - r->z0_mm) * px_mm);
    for (int y = y0; y <= y1; y++)
        for (int x = (int)(r->x + r->w / 3); x < (int)(r->x + 2 * r->w / 3); x++, n++)
            sum += px(s, x, y)[0];
    return n ? sum / n : -1;
}

/* Depth in the image (below the probe face) of the top of each layer under the probe centre. */
static int layer_depths(const session *ss, double *depth_mm, tissue_id *tissue)
{
    const phantom *ph = session_anatomy(ss);
    probe_def p = session_probe(ss);
    probe_pose pose = session_pose(ss);
    probe_frame f = probe_frame_make(ph, &p, &pose);
    double ifc[PHANTOM_MAX_LAYERS];
    int n = phantom_interfaces(ph, pose.x_mm, pose.y_mm, pose.pressure_n, ifc);
    for (int i = 0; i < n; i++) {
        double q[3] = {pose.x_mm, pose.y_mm, ifc[i]}, img[3];
        probe_phantom_to_image(&f, q, img);
        depth_mm[i] = img[2];
        tissue[i] = phantom_get_def(ph)->layers[i].tissue;
    }
    return n;
}

static void test_every_case_shows_its_layers(void **state)
{
    (void)state;
    static const char *const k_cases[] = {"adult_back.json", "adolescent_back.json", "hyperkeratosis.json",
                                          "thin_skin.json", "excess_adipose.json"};
    for (size_t c = 0; c < sizeof k_cases / sizeof k_cases[0]; c++) {
        open_scan(k_cases[c]);
        shot s = grab(0.05);
        char name[64];
        snprintf(name, sizeof name, "case_%.*s", (int)(strlen(k_cases[c]) - 5), k_cases[c]);
        save(&s, name);
        trainer_image_rect r;
        trainer_image_rect_get(g_t, &r);
        assert_true(r.w > 200 && r.h > 200);
        /* The view keeps the image's millimetre aspect. */
        double aspect_mm = (r.cols * r.dx_mm) / (r.rows * r.dz_mm);
        assert_true(fabs(r.w / r.h - aspect_mm) < 0.01 * aspect_mm);
        double d[PHANTOM_MAX_LAYERS];
        tissue_id tis[PHANTOM_MAX_LAYERS];
        int n = layer_depths(trainer_session(g_t), d, tis);
        int di = -1;
        for (int i = 0; i < n; i++)
            if (tis[i] == TISSUE_DERMIS)
                di = i;
        assert_true(di >= 0 && di + 1 < n && tis[di + 1] == TISSUE_FAT);
        /* Middle 60 % of each band, so the boundary echoes and the blur stay out. */
        double top = d[di], mid = d[di + 1], bot = d[di + 2];
        double dermis = band_mean(&s, &r, top + 0.2 * (mid - top), mid - 0.2 * (mid - top));
        double fat = band_mean(&s, &r, mid + 0.2 * (bot - mid), bot - 0.2 * (bot - mid));
        print_message("%s: dermis %.2f-%.2f mm grey %.1f, fat to %.2f mm grey %.1f\n", k_cases[c], top, mid,
                      dermis, bot, fat);
        /* Bright dermis over dark fat lobules (docs/bmode.md): well apart in grey levels. */
        assert_true(dermis > fat + 30);
        free(s.rgba);
        char err[160];
        assert_int_equal(trainer_gl_errors(g_t, err, sizeof err), 0);
    }
}

/* Mean of the red channel over a (2k+1)^2 box. */
static double box(const shot *s, int x, int y, int k)
{
    double sum = 0;
    for (int j = -k; j <= k; j++)
        for (int i = -k; i <= k; i++)
            sum += px(s, x + i, y + j)[0];
    return sum / ((2 * k + 1) * (2 * k + 1));
}

static void test_needle_dot_and_overlays(void **state)
{
    (void)state;
    open_scan("adult_back.json");
    act("{\"t\":0.5,\"do\":\"step\",\"name\":\"positioning\"}");
    shot before = grab(1.0);
    act("{\"t\":1.0,\"do\":\"needle_entry\",\"x_mm\":0,\"y_mm\":-3,\"angle_deg\":30,\"azimuth_deg\":90}");
    for (int i = 0; i < 8; i++) {
        char line[128];
        snprintf(line, sizeof line, "{\"t\":%.2f,\"do\":\"advance\",\"mm\":0.45}", 1.1 + 0.1 * i);
        act(line);
    }
    shot after = grab(2.0);
    save(&before, "before_needle");
    save(&after, "needle_in");
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    /* Where the shaft crosses the slice: from the session's own needle, in the image frame. */
    const session *ss = trainer_session(g_t);
    const needle *nd = session_needle(ss);
    double entry[3], dir[3];
    needle_entry_mm(nd, entry);
    needle_dir(nd, dir);
    double s_cross = (0.0 - entry[1]) / dir[1], cross[3], img[3];
    for (int i = 0; i < 3; i++)
        cross[i] = entry[i] + s_cross * dir[i];
    probe_pose pose = session_pose(ss);
    probe_def pd = session_probe(ss);
    probe_frame f = probe_frame_make(session_anatomy(ss), &pd, &pose);
    probe_phantom_to_image(&f, cross, img);
    double px_mm = r.w / (r.cols * r.dx_mm);
    float ex = r.x + (float)((img[0] - r.x0_mm) * px_mm), ey = r.y + (float)((img[2] - r.z0_mm) * px_mm);
    /* The largest brightening in the image is the needle's echo, at the crossing (the upper
     * half: the messages are drawn over the lower one). */
    double best = -1;
    int bx = 0, by = 0;
    for (int y = (int)r.y + 4; y < (int)(r.y + 0.5f * r.h); y += 2)
        for (int x = (int)r.x + 4; x < (int)(r.x + r.w) - 4; x += 2) {
            double d = box(&after, x, y, 3) - box(&before, x, y, 3);
            if (d > best)
                best = d, bx = x, by = y;
        }
    double off_mm = hypot(bx - ex, by - ey) / px_mm;
    print_message("needle dot: expected (%.0f, %.0f) px, brightest change %.0f grey at (%d, %d), %.2f mm away\n",
                  ex, ey, best, bx, by, off_mm);
    assert_true(best > 60);
    assert_true(off_mm < 1.0);

    /* Overlays: text on the top bar, a depth scale tick at each labelled depth, the outside
     * view with skin and the probe in it, the checklist's tick for the declared step. */
    int bright = 0;
    for (int y = 2; y < 30; y++)
        for (int x = 0; x < g_w / 2; x++)
            bright += px(&after, x, y)[0] > 150;
    assert_true(bright > 200);
    double z_px = r.h / (r.rows * r.dz_mm);
    for (int z = 0; z <= 10; z += 5) {
        int y = (int)(r.y + z * z_px), x = (int)r.x - 8;
        bool tick = false;
        for (int dy = -2; dy <= 2; dy++)
            tick = tick || px(&after, x, y + dy)[0] > 180;
        assert_true(tick);
    }
    float v[4];
    trainer_view_rect(g_t, v);
    assert_true(v[2] > 100 && v[3] > 100);
    int skin = 0, steel = 0;
    for (int y = (int)v[1]; y < (int)(v[1] + v[3]); y++)
        for (int x = (int)v[0]; x < (int)(v[0] + v[2]); x++) {
            const uint8_t *p = px(&after, x, y);
            skin += p[0] > 150 && p[0] > p[1] + 25 && p[1] > p[2];
            steel += p[0] > 30 && p[0] < 150 && p[2] > p[0] + 15 && p[2] > p[1]; /* probe grey-blue */
        }
    print_message("outside view: %d skin pixels, %d probe pixels\n", skin, steel);
    assert_true(skin > 2000);
    assert_true(steel > 100);
    /* The adult back allows guidance hints: once the tip is in the skin the side panel shows
     * its depth and layer in amber (scenario guidance.hint_injections), not before. */
    int amber_before = 0, amber_after = 0;
    for (int y = (int)(v[1] + v[3]); y < g_h; y++)
        for (int x = (int)v[0]; x < g_w; x++) {
            const uint8_t *a = px(&after, x, y), *b = px(&before, x, y);
            amber_after += a[0] > 180 && a[1] > 140 && a[2] < 150 && a[1] < a[0] && a[2] + 40 < a[1];
            amber_before += b[0] > 180 && b[1] > 140 && b[2] < 150 && b[1] < b[0] && b[2] + 40 < b[1];
        }
    print_message("guidance hint: %d amber pixels with the tip in, %d before\n", amber_after, amber_before);
    assert_true(amber_after > 60);
    assert_true(amber_before < 10);
    free(before.rgba);
    free(after.rgba);
    char err[160];
    assert_int_equal(trainer_gl_errors(g_t, err, sizeof err), 0);
}

/* Downsampled 4x to keep the reference files small; RGB. */
static void compare_reference(const shot *s, const char *name, double tol_mean)
{
    int w = g_w / 4, h = g_h / 4;
    uint8_t *small = malloc((size_t)w * h * 3);
    assert_non_null(small);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++) {
                int sum = 0;
                for (int j = 0; j < 4; j++)
                    for (int i = 0; i < 4; i++)
                        sum += px(s, 4 * x + i, 4 * y + j)[c];
                small[((size_t)y * w + x) * 3 + c] = (uint8_t)((sum + 8) / 16);
            }
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/data/window_%s.png", MESOSIM_SOURCE_DIR, name);
    const char *upd = getenv("MESOSIM_UPDATE_REFERENCE");
    if (upd && *upd == '1') {
        stbi_write_png(path, w, h, 3, small, w * 3);
        print_message("wrote %s\n", path);
    }
    int rw, rh, rc;
    uint8_t *ref = stbi_load(path, &rw, &rh, &rc, 3);
    if (!ref)
        fail_msg("no reference %s (MESOSIM_UPDATE_REFERENCE=1 writes it)", path);
    assert_int_equal(rw, w);
    assert_int_equal(rh, h);
    double sum = 0;
    int big = 0;
    for (size_t i = 0; i < (size_t)w * h * 3; i++) {
        int d = abs((int)small[i] - (int)ref[i]);
        sum += d;
        big += d > 48;
    }
    double mean = sum / ((double)w * h * 3);
    print_message("reference %s: mean difference %.2f grey levels, %d values off by more than 48\n", name, mean, big);
    assert_true(mean <= tol_mean);
    assert_true(big < w * h * 3 / 100);
    stbi_image_free(ref);
    free(small);
}

static void test_session_matches_reference_and_replays(void **state)
{
    (void)state;
    open_scan("adult_back.json");
    const char *script[] = {
        "{\"t\":0.5,\"do\":\"step\",\"name\":\"positioning\"}",
        "{\"t\":1,\"do\":\"step\",\"name\":\"disinfection\",\"skin_check\":true}",
        "{\"t\":1.5,\"do\":\"step\",\"name\":\"sterile_field\"}",
        "{\"t\":2,\"do\":\"mark_dermis\",\"top_mm\":0.1,\"bottom_mm\":2.5}",
        "{\"t\":3,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":0}",
        "{\"t\":4,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":-3,\"angle_deg\":30,\"azimuth_deg\":90}",
        "{\"t\":5,\"do\":\"advance\",\"mm\":2.5}",
        "{\"t\":6,\"do\":\"advance\",\"mm\":1.0}",
        "{\"t\":7,\"do\":\"advance\",\"mm\":0.5}",
        "{\"t\":8,\"do\":\"inject\",\"ml\":0.1,\"rate_ml_s\":0.05}",
    };
    for (size_t i = 0; i < sizeof script / sizeof script[0]; i++)
        act(script[i]);
    shot s = grab(10.0);
    save(&s, "injected");
    compare_reference(&s, "injected", 3.0);
    free(s.rgba);
    /* Help overlay on top of the same frame. */
    trainer_show_help(g_t, true);
    s = grab(10.5);
    save(&s, "help");
    trainer_show_help(g_t, false);
    free(s.rgba);

    const session *ss = trainer_session(g_t);
    uint64_t live_hash;
    trainer_end_session(g_t, 12.0);
    live_hash = session_hash(ss);
    char *live_report = session_report_json(ss, NULL);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
    s = grab(12.5);
    save(&s, "debrief");
    compare_reference(&s, "debrief", 3.0);
    free(s.rgba);

    /* The log on disk, replayed headless as mesosim run does. */
    trainer_flush_log(g_t); /* the log is written by its own thread */
    const char *log = trainer_log_path(g_t);
    assert_true(log[0] != '\0');
    action_list al;
    if (!actions_load_file(log, &al))
        fail_msg("%s does not load: line %d: %s", log, al.n_errors ? al.errors[0].line : 0,
                 al.n_errors ? al.errors[0].message : "");
    assert_int_equal(al.count, (int)(sizeof script / sizeof script[0]) + 1);
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(path, &sc, &d));
    scenario_diags_free(&d);
    /* The window's log is a version-2 log naming this scenario. */
    assert_int_equal(al.header.version, 2);
    char hx[17];
    snprintf(hx, sizeof hx, "%016llx", (unsigned long long)scenario_content_hash(&sc));
    assert_string_equal(al.header.scenario_hash, hx);
    driver *rd = ru_replay(&sc, &al, err, sizeof err);
    if (!rd)
        fail_msg("replay: %s", err);
    const session *rs = driver_session(rd);
    char *replay_report = session_report_json(rs, NULL);
    assert_true(session_hash(rs) == live_hash);
    assert_string_equal(replay_report, live_report);
    free(replay_report);
    free(live_report);
    driver_destroy(rd);
    actions_free(&al);
    assert_int_equal(trainer_gl_errors(g_t, err, sizeof err), 0);
}

/* The picker lists the bundled cases with their patients; the briefing names the drug and
 * the procedure steps. Text is checked as drawn pixels in the places it should be. */
static void test_picker_and_briefing(void **state)
{
    (void)state;
    assert_true(trainer_show_picker(g_t) >= 5);
    shot s = grab(0.0);
    save(&s, "picker");
    int text_rows = 0;
    for (int y = 100; y < 100 + 5 * 54; y++) {
        int bright = 0;
        for (int x = 30; x < g_w / 2; x++)
            bright += px(&s, x, y)[0] > 180;
        text_rows += bright > 10;
    }
    free(s.rgba);
    print_message("picker: %d rows with text in the case list\n", text_rows);
    assert_true(text_rows >= 5 * 5); /* a name and a patient line per case */
    char path[1024], err[2048];
    snprintf(path, sizeof path, "%s/scenarios/thin_skin.json", MESOSIM_SOURCE_DIR);
    assert_true(trainer_open_case(g_t, path, err, sizeof err));
    assert_int_equal(trainer_get_screen(g_t), SCREEN_BRIEFING);
    s = grab(0.0);
    save(&s, "briefing");
    free(s.rgba);
    assert_int_equal(trainer_gl_errors(g_t, err, sizeof err), 0);
    /* A broken case is refused with its problems, and the window stays where it was. */
    snprintf(path, sizeof path, "%s/test_window_bad.json", MESOSIM_BINARY_DIR);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"version\": 1, \"phantom\": {\"layers\": 7}}\n", f);
    fclose(f);
    assert_false(trainer_open_case(g_t, path, err, sizeof err));
    assert_non_null(strstr(err, "test_window_bad.json:1:"));
    assert_int_equal(trainer_get_screen(g_t), SCREEN_BRIEFING);
}

/* The scan screen's controls, as the input layer delivers them, become the right actions:
 * ticked steps, a dermis mark from two clicks, a probe slide, an out-of-plane entry on the
 * probe's near side, an advance at the held speed, an injection, the end; and the log of
 * them replays to the same report. */
static void test_controls_drive_a_session(void **state)
{
    (void)state;
    open_scan("adult_back.json");
    double t = 0;
    controls c;
#define FRAME(setup)                    \
    do {                                \
        memset(&c, 0, sizeof c);        \
        c.zoom_factor = 1.0f;           \
        setup;                          \
        t += 1.0 / 60.0;                \
        trainer_frame(g_t, t, &c);      \
        trainer_swap(g_t);              \
    } while (0)
    FRAME(c.pressed[BTN_STEP_POSITIONING] = true);
    FRAME(c.pressed[BTN_STEP_DISINFECTION] = true);
    FRAME(c.pressed[BTN_STEP_STERILE_FIELD] = true);
    const session *ss = trainer_session(g_t);
    const score_session *m = session_metrics(ss);
    assert_true(m->step_done[STEP_POSITIONING] && m->step_done[STEP_DISINFECTION] &&
                m->step_done[STEP_STERILE_FIELD] && m->skin_checked);
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    double px_mm = r.h / (r.rows * r.dz_mm);
    FRAME(c.pressed[BTN_MARK_DERMIS] = true);
    FRAME(c.clicked = true; c.click_x = r.x + r.w / 2; c.click_y = r.y + (float)(0.3 * px_mm));
    FRAME(c.clicked = true; c.click_x = r.x + r.w / 2; c.click_y = r.y + (float)(2.6 * px_mm));
    assert_true(m->marked);
    assert_true(fabs(m->mark_top_mm - 0.3) < 2 / px_mm && fabs(m->mark_bottom_mm - 2.6) < 2 / px_mm);
    FRAME(c.probe_dx_mm = 1.0);
    assert_true(fabs(session_pose(ss).x_mm - 1.0) < 1e-9);
    FRAME(c.pressed[BTN_NEEDLE_ENTRY] = true);
    const needle *nd = session_needle(ss);
    assert_true(needle_placed(nd));
    double entry[3];
    needle_entry_mm(nd, entry);
    assert_true(fabs(entry[0] - 1.0) < 1e-9 && fabs(entry[1] + 3.0) < 1e-9);
    int felt_pops = 0;
    double push_back = 0;
    for (int i = 0; i < 120; i++) {
        FRAME(c.needle_speed_mm_s = 1.75);
        const controls_feedback *fb = trainer_feedback(g_t);
        felt_pops += fb->pop_count;
        assert_true(fb->pop_strength >= 0 && fb->pop_strength <= 1);
        double dir[3];
        needle_dir(nd, dir);
        push_back = -(fb->force_n[0] * dir[0] + fb->force_n[1] * dir[1] + fb->force_n[2] * dir[2]);
    }
    /* Every pop the session counted reaches the feedback once; the tissue pushes back along the shaft. */
    print_message("feedback: %d pops felt of %d, last force %.2f N against the travel\n", felt_pops, m->pops, push_back);
    assert_true(m->pops > 0);
    assert_int_equal(felt_pops, m->pops);
    assert_true(push_back > 0);
    print_message("after 2 s at 1.75 mm/s: travel %.2f mm, inserted %.2f mm\n", needle_travel_mm(nd),
                  needle_inserted_mm(nd));
    assert_true(needle_travel_mm(nd) > 3.0 && needle_in_skin(nd));
    FRAME(c.pressed[BTN_INJECT] = true);
    assert_int_equal(m->n_inj, 1);
    for (int i = 0; i < 30; i++)
        FRAME((void)0);
    FRAME(c.pressed[BTN_END_SESSION] = true);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_SCAN); /* it asks first */
    FRAME(c.pressed[BTN_CONFIRM] = true);
#undef FRAME
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
    char *live = session_report_json(ss, NULL);
    action_list al;
    trainer_flush_log(g_t); /* the log is written by its own thread */
    assert_true(actions_load_file(trainer_log_path(g_t), &al));
    int verbs[ACT_VERB_COUNT] = {0};
    for (int i = 0; i < al.count; i++)
        verbs[al.items[i].verb]++;
    assert_int_equal(verbs[ACT_STEP], 3);
    assert_int_equal(verbs[ACT_MARK_DERMIS], 1);
    assert_int_equal(verbs[ACT_PROBE], 1);
    assert_int_equal(verbs[ACT_NEEDLE_ENTRY], 1);
    assert_true(verbs[ACT_ADVANCE] >= 100);
    assert_int_equal(verbs[ACT_INJECT], 1);
    assert_int_equal(verbs[ACT_END], 1);
    char path[1024], err[256];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    char *replay = ru_replay_report(path, &al, err, sizeof err);
    if (!replay)
        fail_msg("replay: %s", err);
    assert_string_equal(replay, live);
    free(replay);
    free(live);
    actions_free(&al);
}

/* Resizing: the window shrinks to its minimum, 960 x 600, and back; each time the layout follows the new
 * drawable (the image inside it, the B-mode still drawn), and GL reports no error. Under X11
 * the drawable must take the new size; SDL's offscreen driver may keep its surface, and there
 * the test checks the same layout and errors on whatever size it reports. */
static void test_resize(void **state)
{
    (void)state;
    open_scan("thin_skin.json");
    SDL_Window *win = SDL_GL_GetCurrentWindow();
    assert_non_null(win);
    const int sizes[2][2] = {{960, 600}, {g_w, g_h}};
    for (int k = 0; k < 2; k++) {
        SDL_SetWindowSize(win, sizes[k][0], sizes[k][1]);
        SDL_PumpEvents();
        controls c;
        memset(&c, 0, sizeof c);
        c.zoom_factor = 1.0f;
        c.resized = true;
        trainer_frame(g_t, 1.0 + k, &c);
        int fw, fh;
        trainer_drawable_size(g_t, &fw, &fh);
        if (!strcmp(g_driver, "x11")) {
            assert_int_equal(fw, sizes[k][0]);
            assert_int_equal(fh, sizes[k][1]);
        }
        trainer_image_rect r;
        trainer_image_rect_get(g_t, &r);
        print_message("resized to %dx%d: image %.0fx%.0f at (%.0f, %.0f)\n", fw, fh, r.w, r.h, r.x, r.y);
        assert_true(r.x >= 0 && r.y >= 0 && r.w > 100 && r.h > 100);
        assert_true(r.x + r.w <= fw && r.y + r.h <= fh);
        uint8_t *buf = malloc((size_t)fw * fh * 4);
        assert_non_null(buf);
        trainer_read_pixels(g_t, buf);
        trainer_swap(g_t);
        double sum = 0;
        int n = 0;
        for (int y = (int)(r.y + r.h / 4); y < (int)(r.y + 3 * r.h / 4); y += 3)
            for (int x = (int)(r.x + r.w / 4); x < (int)(r.x + 3 * r.w / 4); x += 3, n++)
                sum += buf[((size_t)(fh - 1 - y) * fw + x) * 4];
        free(buf);
        assert_true(sum / n > 30.0); /* the B-mode is drawn, not a blank frame */
        char err[160];
        assert_int_equal(trainer_gl_errors(g_t, err, sizeof err), 0);
    }
}

/* With the default keys the hints read as they always have (the reference screenshots hold
 * them): every one comes from the bindings. */
static void test_default_hints(void **state)
{
    (void)state;
    char h[1024];
    assert_true(trainer_show_picker(g_t) > 0);
    trainer_hints(g_t, h, sizeof h);
    assert_string_equal(h, "\xe2\x86\x91/\xe2\x86\x93 choose   Return open   E edit   N new case   B blind: off   Esc quit   F1 controls");
    open_scan("adult_back.json");
    assert_string_equal(trainer_message(g_t),
                        "Session started: tick each step as you do it (1 to 4), scan, mark the dermis (M).");
    trainer_hints(g_t, h, sizeof h);
    assert_string_equal(h, "t 0.0 s    P pause    F1 help    End: finish\n"
                           "1-4: steps done|Z: undo|M: mark dermis|/: calipers|Tab: freeze|K/L: focus|F2/F3/F4: presets|"
                           "N: needle in|R/F: angle|Space/Backspace: advance/retract|I: inject|X: withdraw|Drag: slide|"
                           "Wheel: depth");
    trainer_end_session(g_t, 1.0);
    trainer_hints(g_t, h, sizeof h);
    assert_string_equal(h, "Return: another case   Esc: quit");
}

/* Remapped keys in the bindings file: the window's hints and messages name the new keys. Runs
 * last: it reopens the window with other bindings. */
static void test_remapped_hints(void **state)
{
    (void)state;
    char path[1024], err[1024], h[1024];
    snprintf(path, sizeof path, "%s/test_window_remapped.conf", MESOSIM_BINARY_DIR);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("step_positioning = K\nmark_dermis = J, M\nhelp = F2\nneedle_retract = Comma\nback = Q\n", f);
    fclose(f);
    trainer_destroy(g_t);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = "";
    def.bindings_path = path;
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t)
        fail_msg("no GL window the second time: %s", err);
    assert_true(trainer_show_picker(g_t) > 0);
    trainer_hints(g_t, h, sizeof h);
    assert_string_equal(h, "\xe2\x86\x91/\xe2\x86\x93 choose   Return open   E edit   N new case   B blind: off   Q quit   F2 controls");
    open_scan("adult_back.json");
    assert_string_equal(trainer_message(g_t),
                        "Session started: tick each step as you do it (K to 4), scan, mark the dermis (J).");
    trainer_hints(g_t, h, sizeof h);
    print_message("remapped scan hints: %s\n", h);
    assert_non_null(strstr(h, "F2 help"));
    assert_non_null(strstr(h, "K-4: steps done|Z: undo|J: mark dermis"));
    assert_non_null(strstr(h, "Space/,: advance/retract"));
    assert_null(strstr(h, "1-4: steps done"));
    shot s = grab(0.5);
    save(&s, "remapped");
    free(s.rgba);
    assert_int_equal(trainer_gl_errors(g_t, err, sizeof err), 0);
}

int main(void)
{
    char err[1024];
    setenv("XDG_CONFIG_HOME", MESOSIM_BINARY_DIR "/test_window_config", 1);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = MESOSIM_BINARY_DIR "/test_window_sessions";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_window: no GL window: %s\n", err);
        return 77;
    }
    const char *drv = getenv("SDL_VIDEODRIVER");
    g_driver = drv && *drv ? drv : "x11";
    trainer_drawable_size(g_t, &g_w, &g_h);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_picker_and_briefing),
        cmocka_unit_test(test_every_case_shows_its_layers),
        cmocka_unit_test(test_needle_dot_and_overlays),
        cmocka_unit_test(test_session_matches_reference_and_replays),
        cmocka_unit_test(test_controls_drive_a_session),
        cmocka_unit_test(test_resize),
        cmocka_unit_test(test_default_hints),
        cmocka_unit_test(test_remapped_hints),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
