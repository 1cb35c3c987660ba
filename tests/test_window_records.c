/* The window's records screens under a real GL 3.3 context (run_gl.sh), driven by synthetic SDL
 * key and text events, with a temporary XDG data dir and records file:
 *   - the trainee screen refuses an empty name in plain words and stays, then creates a typed
 *     one; the picker then records for that trainee;
 *   - a short session played in the window is in the store (records_list_sessions) with its
 *     score, and the instructor's view (I on the picker) lists the trainee with that session;
 *   - Enter on the trainee and on the session replays it in the debrief to the same score;
 *   - a session whose case file changed since says so and replays only on a second Enter;
 *   - "No records" goes to the picker with no trainee.
 * Exits 77 (CTest skip) only when no GL context can be had. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <SDL.h>
#include <cmocka.h>

#include "actions.h"
#include "records.h"
#include "session.h"
#include "trainer.h"
#include "window_util.h"

#define TMP MESOSIM_BINARY_DIR "/test_window_records_tmp"
#define DB TMP "/records.db"

static trainer *g_t;
static double g_clock;

/* Polls the queued events through the window's input, as trainer_run does, and draws a frame. */
static void pump(void)
{
    controls c = {.zoom_factor = 1.0f};
    trainer_poll_input(g_t, 1.0 / 60, &c);
    g_clock += 1.0 / 60;
    trainer_frame(g_t, g_clock, &c);
    trainer_swap(g_t);
}

static void key(SDL_Keycode sym)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = sym;
    e.key.keysym.scancode = SDL_GetScancodeFromKey(sym);
    e.key.state = SDL_PRESSED;
    SDL_PushEvent(&e);
    e.type = SDL_KEYUP;
    e.key.state = SDL_RELEASED;
    SDL_PushEvent(&e);
    pump();
}

static void type(const char *text)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_TEXTINPUT;
    snprintf(e.text.text, sizeof e.text.text, "%s", text);
    SDL_PushEvent(&e);
    pump();
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

/* A short session on a case file, ended: the debrief. */
static void play(const char *path)
{
    char err[2048];
    if (!trainer_open_case(g_t, path, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    act("{\"t\":0.5,\"do\":\"step\",\"name\":\"positioning\"}");
    act("{\"t\":3,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":0}");
    act("{\"t\":4,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":-3,\"angle_deg\":30,\"azimuth_deg\":90}");
    act("{\"t\":5,\"do\":\"advance\",\"mm\":3.5}");
    act("{\"t\":8,\"do\":\"inject\",\"ml\":0.1,\"rate_ml_s\":0.05}");
    trainer_end_session(g_t, 12.0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
}

static records_session *sessions_of(const char *trainee, int *n)
{
    char err[320];
    records *r = records_open(DB, err, sizeof err);
    if (!r)
        fail_msg("%s", err);
    records_session *s = NULL;
    if (!records_list_sessions(r, trainee, &s, n, err, sizeof err))
        fail_msg("%s", err);
    records_close(r);
    return s;
}

static void test_trainee_session_instructor(void **state)
{
    (void)state;
    trainer_show_trainee(g_t);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_TRAINEE);
    /* No trainee yet: the name row is selected; an empty name is refused in words. */
    key(SDLK_RETURN);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_TRAINEE);
    assert_true(strstr(trainer_records_message(g_t), "cannot be used") != NULL);
    type("Dr ");
    type("Ann");
    key(SDLK_BACKSPACE);
    type("n");
    key(SDLK_RETURN);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_PICKER);
    assert_string_equal(trainer_trainee(g_t), "Dr Ann");

    play(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json");
    trainer_show_picker(g_t); /* closes the session: its recorder has written everything */
    int n = 0;
    records_session *s = sessions_of("Dr Ann", &n);
    assert_int_equal(n, 1);
    assert_true(s[0].ended);
    assert_true(s[0].score >= 0);
    double score = s[0].score;
    records_sessions_free(s);

    key(SDLK_i);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_INSTRUCTOR);
    assert_int_equal(trainer_instructor_count(g_t), 1);
    int ns = 0;
    assert_string_equal(trainer_instructor_name(g_t, 0, &ns), "Dr Ann");
    assert_int_equal(ns, 1);
    assert_null(trainer_instructor_name(g_t, 1, NULL));
    /* Its sessions, then the newest replayed in the debrief to the recorded score. */
    key(SDLK_RETURN);
    key(SDLK_RETURN);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
    const driver_snapshot *d = trainer_debrief_snapshot(g_t);
    assert_non_null(d);
    assert_true(trainer_debrief_time(g_t) > 0);
    assert_non_null(trainer_session(g_t));
    assert_float_equal(session_score(trainer_session(g_t)).total, score, 1e-6);
    /* The replay wrote no new session. */
    trainer_show_picker(g_t);
    s = sessions_of(NULL, &n);
    records_sessions_free(s);
    assert_int_equal(n, 1);
}

static void copy_file(const char *from, const char *to, const char *old, const char *new_text)
{
    FILE *f = fopen(from, "rb");
    assert_non_null(f);
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    FILE *g = fopen(to, "wb");
    assert_non_null(g);
    char *at = old ? strstr(buf, old) : NULL;
    if (old)
        assert_non_null(at);
    if (at) {
        fwrite(buf, 1, (size_t)(at - buf), g);
        fputs(new_text, g);
        fputs(at + strlen(old), g);
    } else {
        fwrite(buf, 1, n, g);
    }
    fclose(g);
}

static void test_changed_case_asks(void **state)
{
    (void)state;
    const char *src = MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", *mine = TMP "/changed.json";
    copy_file(src, mine, NULL, NULL);
    trainer_show_trainee(g_t);
    /* Dr Ann is listed first and selected. */
    key(SDLK_RETURN);
    assert_string_equal(trainer_trainee(g_t), "Dr Ann");
    play(mine);
    trainer_show_picker(g_t);
    copy_file(src, mine, "\"age_years\": 45", "\"age_years\": 46");
    key(SDLK_i);
    key(SDLK_RETURN); /* Dr Ann's sessions, the newest selected: the changed case */
    key(SDLK_RETURN);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_INSTRUCTOR);
    assert_true(strstr(trainer_records_message(g_t), "has changed") != NULL);
    key(SDLK_RETURN); /* asked: replay anyway */
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
    trainer_show_picker(g_t);
}

static void test_no_records(void **state)
{
    (void)state;
    trainer_show_trainee(g_t);
    key(SDLK_UP); /* from the first trainee up to the last row */
    key(SDLK_RETURN);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_PICKER);
    assert_null(trainer_trainee(g_t));
    /* Escape on the instructor's view goes back to the picker. */
    key(SDLK_i);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_INSTRUCTOR);
    key(SDLK_ESCAPE);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_PICKER);
}

int main(void)
{
    char err[1024];
    setenv("SDL_AUDIODRIVER", "dummy", 0);
    if (system("rm -rf " TMP) != 0)
        fprintf(stderr, "test_window_records: could not clear %s\n", TMP);
    mkdir(TMP, 0755);
    setenv("XDG_CONFIG_HOME", TMP "/config", 1);
    setenv("XDG_DATA_HOME", TMP "/data", 1);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = TMP "/sessions";
    def.records_db = DB;
    def.ask_trainee = true;
    def.state_path = "";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_window_records: no GL window: %s\n", err);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trainee_session_instructor),
        cmocka_unit_test(test_changed_case_asks),
        cmocka_unit_test(test_no_records),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
