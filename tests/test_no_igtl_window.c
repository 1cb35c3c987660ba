/* A window built without OpenIGTLink (-DMESOSIM_IGTL=OFF): asked for a tracker server
 * (trainer_def.igtl_port, the window's --igtl-port) it refuses in plain words; a devices.conf that
 * asks for one (a file shared with a build that has it) is only a note, and the window opens;
 * F9 on the scan screen says that tracked tools are not in this build, and changes nothing else. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <SDL.h>

#include "session.h"
#include "trainer.h"

static trainer *g_t;
static double g_time;

static void frame(void)
{
    controls c;
    g_time += 1.0 / 60.0;
    trainer_poll_input(g_t, 1.0 / 60.0, &c);
    trainer_frame(g_t, g_time, &c);
    trainer_swap(g_t);
}

static void key(SDL_Scancode sc)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.scancode = sc;
    e.key.keysym.sym = SDL_GetKeyFromScancode(sc);
    SDL_PushEvent(&e);
    frame();
    e.type = SDL_KEYUP;
    SDL_PushEvent(&e);
    frame();
}

static void test_f9_says_no_tracker(void **state)
{
    (void)state;
    char err[2048], path[1024];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    if (!trainer_open_case(g_t, path, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    assert_int_equal(trainer_igtl_port(g_t), -1);
    frame();
    const session *ss = trainer_session(g_t);
    double t0 = session_time_s(ss);
    key(SDL_SCANCODE_F9);
    print_message("F9: %s\n", trainer_message(g_t));
    assert_non_null(strstr(trainer_message(g_t), "Tracked tools are not in this build"));
    assert_int_equal(trainer_calibration_step(g_t), -1);
    assert_false(trainer_paused(g_t));
    /* The session goes on: F9 opened nothing that holds its clock. */
    for (int i = 0; i < 30; i++)
        frame();
    assert_true(session_time_s(ss) - t0 > 0.4);
}

int main(void)
{
    char err[1024];
    const char *cfg = MESOSIM_BINARY_DIR "/test_no_igtl_window_config";
    setenv("XDG_CONFIG_HOME", cfg, 1);
    mkdir(cfg, 0755);
    mkdir(MESOSIM_BINARY_DIR "/test_no_igtl_window_config/mesosim", 0755);
    FILE *f = fopen(MESOSIM_BINARY_DIR "/test_no_igtl_window_config/mesosim/devices.conf", "w");
    if (!f || fputs("igtl.port = 18944\n", f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "test_no_igtl_window: cannot write devices.conf\n");
        return 1;
    }
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = "";
    def.state_path = "";
    def.igtl_port = 0;
    g_t = trainer_create(&def, err, sizeof err);
    if (g_t) {
        fprintf(stderr, "test_no_igtl_window: --igtl-port was accepted by a build without OpenIGTLink\n");
        return 1;
    }
    fprintf(stderr, "--igtl-port: %s\n", err);
    if (!strstr(err, "no OpenIGTLink")) /* no GL window here: skipped */
        return 77;
    def.igtl_port = -1;
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_no_igtl_window: %s\n", err);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_f9_says_no_tracker),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
