/* A blind case in the window (guidance.ultrasound false), under a real GL context (run_gl.sh):
 * the scripted expert run of scenarios/blind_back.json is played through the window frame by
 * frame; the B-mode panel stays a plain dark panel with no speckle, the window synthesises no
 * B-mode frame during the whole session (trainer_bmode_renders), and the session scores
 * exactly as the same case with the ultrasound shown does for the same actions. The debrief
 * then replays the truth. Any case practised blind with the picker's B key is the same: no
 * B-mode frame, the guided score, a log whose header says "blind" with the case file's hash;
 * B again gives the image back. Exits 77 only when no GL context can be had. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions.h"
#include "replay_util.h"
#include "scenario.h"
#include "session.h"
#include "trainer.h"
#include "window_util.h"

static trainer *g_t;
static const char *g_driver = "gl";

#define CASE MESOSIM_SOURCE_DIR "/scenarios/blind_back.json"
#define LOG MESOSIM_SOURCE_DIR "/scenarios/sessions/blind_back.expert.log"

/* Grey-level spread (max - min) over the B-mode rectangle, inset by 4 px. */
static int panel_spread(const shot *s)
{
    trainer_image_rect r;
    trainer_image_rect_get(g_t, &r);
    int lo = 255, hi = 0;
    for (int y = (int)r.y + 4; y < (int)(r.y + r.h) - 4; y += 3)
        for (int x = (int)r.x + 4; x < (int)(r.x + r.w) - 4; x += 3) {
            const uint8_t *p = wu_px(s, x, y);
            /* The centred caption is text: skip the middle band. */
            if (fabsf((float)y - (r.y + 0.5f * r.h)) < 30.0f)
                continue;
            lo = p[1] < lo ? p[1] : lo;
            hi = p[1] > hi ? p[1] : hi;
        }
    return hi - lo;
}

static void test_blind_session_in_the_window(void **state)
{
    (void)state;
    char err[2048];
    /* The counter counts: the guided back synthesises its image on the first frame. */
    if (!trainer_open_case(g_t, MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", err, sizeof err) ||
        !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    shot g = wu_grab(g_t, 0.1, NULL);
    assert_true(trainer_bmode_renders(g_t) > 0);
    assert_true(panel_spread(&g) > 60);
    free(g.rgba);
    trainer_end_session(g_t, 0.2);
    if (!trainer_open_case(g_t, CASE, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    action_list al;
    assert_true(actions_load_file(LOG, &al));
    int worst = 0;
    shot last = {0};
    for (int i = 0; i < al.count; i++) {
        if (al.items[i].verb == ACT_END)
            break;
        if (!trainer_do(g_t, &al.items[i], err, sizeof err))
            fail_msg("action %d refused: %s", i, err);
        free(last.rgba);
        last = wu_grab(g_t, al.items[i].t_s + 0.05, NULL);
        int sp = panel_spread(&last);
        worst = sp > worst ? sp : worst;
    }
    wu_save(&last, "test_window_blind", g_driver, "scan");
    free(last.rgba);
    long long renders = trainer_bmode_renders(g_t);
    print_message("blind session: %d actions, %lld B-mode frames synthesised, panel grey spread %d\n", al.count,
                  renders, worst);
    assert_int_equal(renders, 0);
    /* Speckle spans most of the grey range; the blind panel is one flat colour. */
    assert_true(worst <= 8);

    score_result live = session_score(trainer_session(g_t));
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(CASE, &sc, &d));
    scenario_diags_free(&d);
    sc.guidance.blind = false;
    driver *dr = ru_replay(&sc, &al, err, sizeof err);
    assert_non_null(dr);
    score_result guided = session_score(driver_session(dr));
    print_message("score blind (window) %.2f, guided (same actions) %.2f\n", live.total, guided.total);
    assert_float_equal(live.total, guided.total, 1e-9);
    assert_int_equal(live.pass, guided.pass);
    driver_destroy(dr);
    actions_free(&al);

    trainer_end_session(g_t, 80.0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
    shot db = wu_grab(g_t, 81.0, NULL);
    wu_save(&db, "test_window_blind", g_driver, "debrief");
    free(db.rgba);
    assert_non_null(trainer_debrief_snapshot(g_t));
}

static void assert_hints_say(const char *what)
{
    char hints[512];
    trainer_hints(g_t, hints, sizeof hints);
    if (!strstr(hints, what))
        fail_msg("hints \"%s\" do not say \"%s\"", hints, what);
}

#define GUIDED_CASE MESOSIM_SOURCE_DIR "/scenarios/adult_back.json"

static void test_any_case_practised_blind_in_the_window(void **state)
{
    (void)state;
    char err[2048];
    double clock_s = 0.0;
    trainer_show_picker(g_t);
    assert_hints_say("B blind: off");
    wu_key(g_t, &clock_s, SDL_SCANCODE_B);
    assert_hints_say("B blind: on");
    if (!trainer_open_case(g_t, GUIDED_CASE, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    char log_path[1200];
    trainer_flush_log(g_t); /* the log is written by its own thread */
    snprintf(log_path, sizeof log_path, "%s", trainer_log_path(g_t));
    assert_true(log_path[0] != '\0');
    action_list al;
    assert_true(actions_load_file(MESOSIM_SOURCE_DIR "/scenarios/sessions/adult_back.expert.log", &al));
    int worst = 0;
    for (int i = 0; i < al.count && al.items[i].verb != ACT_END; i++) {
        if (!trainer_do(g_t, &al.items[i], err, sizeof err))
            fail_msg("action %d refused: %s", i, err);
        shot s = wu_grab(g_t, al.items[i].t_s + 0.05, NULL);
        int sp = panel_spread(&s);
        worst = sp > worst ? sp : worst;
        free(s.rgba);
    }
    long long renders = trainer_bmode_renders(g_t);
    print_message("adult back practised blind (B): %lld B-mode frames synthesised, panel grey spread %d\n", renders,
                  worst);
    assert_int_equal(renders, 0);
    assert_true(worst <= 8);
    score_result live = session_score(trainer_session(g_t));
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(GUIDED_CASE, &sc, &d));
    scenario_diags_free(&d);
    driver *dr = ru_replay(&sc, &al, err, sizeof err);
    assert_non_null(dr);
    score_result guided = session_score(driver_session(dr));
    assert_float_equal(live.total, guided.total, 1e-9);
    assert_int_equal(live.pass, guided.pass);
    driver_destroy(dr);
    actions_free(&al);
    trainer_end_session(g_t, 80.0);

    /* B again: the next session is guided, its image synthesised (opening the case closes the
     * blind session, so its log is whole). */
    trainer_show_picker(g_t);
    wu_key(g_t, &clock_s, SDL_SCANCODE_B);
    assert_hints_say("B blind: off");
    if (!trainer_open_case(g_t, GUIDED_CASE, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    shot g = wu_grab(g_t, 0.1, NULL);
    assert_true(trainer_bmode_renders(g_t) > 0);
    assert_true(panel_spread(&g) > 60);
    free(g.rgba);
    trainer_end_session(g_t, 0.2);

    /* The blind session's log: its header says blind and names the case file as loaded. */
    action_list back;
    assert_true(actions_load_file(log_path, &back));
    assert_true(back.header.blind);
    assert_true(scenario_hash_matches(&sc, back.header.scenario_hash));
    dr = ru_replay(&sc, &back, err, sizeof err);
    assert_non_null(dr);
    assert_float_equal(session_score(driver_session(dr)).total, live.total, 1e-9);
    print_message("its log (%s) replays blind: score %.2f\n", log_path, live.total);
    driver_destroy(dr);
    actions_free(&back);
}

int main(void)
{
    char err[1024];
    setenv("XDG_CONFIG_HOME", MESOSIM_BINARY_DIR "/test_window_blind_config", 1);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = MESOSIM_BINARY_DIR "/test_window_blind_sessions";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_window_blind: no GL window: %s\n", err);
        return 77;
    }
    const char *drv = getenv("SDL_VIDEODRIVER");
    g_driver = drv && *drv ? drv : "x11";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blind_session_in_the_window),
        cmocka_unit_test(test_any_case_practised_blind_in_the_window),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
