/* The outside (teaching) view draws a multi-injector head: every needle of the 5-needle head
 * of scenarios/multi_head.json and the bar that holds their hubs, where the single needle of
 * multi_single.json draws one. Measured on the window's screenshots: the pixels of the outside
 * view the needle changes, against the same view before the needle went in (same probe, same
 * camera). Screenshots (test_window_multi_*.png) land in the build dir.
 * Exits 77 only when no GL context can be had. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "session.h"
#include "trainer.h"
#include "window_util.h"

static trainer *g_t;
static const char *g_driver = "gl";
static double g_time;

static controls none(void)
{
    controls c;
    memset(&c, 0, sizeof c);
    c.zoom_factor = 1.0f;
    return c;
}

static shot frame(const controls *c)
{
    g_time += 1.0 / 60.0;
    return wu_grab(g_t, g_time, c);
}

/* Pixels of the outside view that differ (by more than 40 in some channel) between two shots. */
static int changed_px(const shot *a, const shot *b)
{
    float v[4];
    trainer_view_rect(g_t, v);
    int n = 0;
    for (int y = (int)v[1]; y < (int)(v[1] + v[3]); y++)
        for (int x = (int)v[0]; x < (int)(v[0] + v[2]); x++) {
            const uint8_t *p = wu_px(a, x, y), *q = wu_px(b, x, y);
            n += abs(p[0] - q[0]) > 40 || abs(p[1] - q[1]) > 40 || abs(p[2] - q[2]) > 40;
        }
    return n;
}

/* The pixels of the outside view the case's needle changes once it is in the skin. */
static int added_px(const char *file)
{
    char path[1024], err[2048];
    snprintf(path, sizeof path, "%s/scenarios/%s", MESOSIM_SOURCE_DIR, file);
    if (!trainer_open_case(g_t, path, err, sizeof err))
        fail_msg("%s", err);
    if (!trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    g_time = 0;
    trainer_show_outside_view(g_t, true);
    controls c = none();
    for (int i = 0; i < 3; i++)
        free(frame(&c).rgba);
    shot before = frame(&c);
    c.pressed[BTN_NEEDLE_ENTRY] = true;
    free(frame(&c).rgba);
    c = none();
    for (int i = 0; i < 60; i++) {
        c.needle_speed_mm_s = 1.5;
        free(frame(&c).rgba);
    }
    c = none();
    shot after = frame(&c);
    const session *ss = trainer_session(g_t);
    assert_true(needle_in_skin(session_needle(ss)));
    int n = changed_px(&before, &after);
    wu_save(&after, "test_window_multi", g_driver, file);
    free(before.rgba);
    free(after.rgba);
    print_message("%s: the needle changes %d px of the outside view\n", file, n);
    return n;
}

static void test_outside_view_draws_the_head(void **state)
{
    (void)state;
    int one = added_px("multi_single.json"), five = added_px("multi_head.json");
    assert_true(one > 50);
    /* Four more shafts and a hub bar 16 mm long (measured: about twice the single needle's
     * pixels, 2099 against 1026 under Xvfb); the middle needle alone would give the same. */
    assert_true(2 * five > 3 * one);
}

int main(void)
{
    char err[1024];
    setenv("XDG_CONFIG_HOME", MESOSIM_BINARY_DIR "/test_window_multi_config", 1);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = MESOSIM_BINARY_DIR "/test_window_multi_sessions";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_window_multi: no GL window: %s\n", err);
        return 77;
    }
    const char *drv = getenv("SDL_VIDEODRIVER");
    g_driver = drv && *drv ? drv : "x11";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_outside_view_draws_the_head),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
