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

#include <cmocka.h>
#include <SDL.h>

#include "session.h"
#include "trainer.h"
#include "window_util.h"

static trainer *g_t;
static double g_time;

static void frame(void) { wu_step(g_t, &g_time); }
static void key(SDL_Scancode sc) { wu_key(g_t, &g_time, sc); }

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
    if (!wu_devices_conf(MESOSIM_BINARY_DIR "/test_no_igtl_window_config", "igtl.port = 18944\n"))
        return 1;
    trainer_def def = wu_test_def();
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
