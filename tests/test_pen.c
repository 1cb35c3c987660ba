/* The tablet pen, without a tablet (no uinput here): pen_event sequences as the kernel sends
 * them (pen in range, touch with a pressure ramp and a tilt, barrel buttons, a dropped frame)
 * decode to the needle pose pen_evdev.h promises; finding a pen where there is none, or a file
 * that is none, gives a plain message; the device settings file reads, reports bad lines and
 * writes its defaults. Then a fed pen plugged into the trainer window drives a whole scored
 * session (steps by the upper barrel button, entry by touching, travel by pressure until the
 * tip is in the dermis, injection by the lower button, withdrawal by lifting): the verdict is
 * intradermal, the log replays to the same report; pulling the pen out pauses the session.
 * Runs under run_gl.sh. */
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
#include "devices.h"
#include "pen_evdev.h"
#include "replay_util.h"
#include "scenario.h"
#include "session.h"
#include "trainer.h"
/* Last: the kernel names some buttons as controls.h does (BTN_BACK), as macros. */
#include <linux/input-event-codes.h>

#define PI 3.14159265358979323846

/* A tablet like a Wacom Intuos: 0..20000 by 0..12000, 2048 pressure levels, tilt in units of
 * 1/100 degree (5729.58 units per radian). */
static const pen_axes k_axes = {
    .x = {true, 0, 20000, 100}, .y = {true, 0, 12000, 100}, .pressure = {true, 0, 2047, 0},
    .tilt_x = {true, -6400, 6400, 5730}, .tilt_y = {true, -6400, 6400, 5730},
};

static int g_n;
static pen_event g_ev[64];

static void ev(uint16_t type, uint16_t code, int32_t value) { g_ev[g_n++] = (pen_event){type, code, value, 0.0}; }
static void syn(void) { ev(EV_SYN, SYN_REPORT, 0); }
static void flush(pen_state *p)
{
    pen_feed(p, g_ev, g_n);
    g_n = 0;
}

static controls end_frame(pen_state *p, const pen_skin *skin)
{
    controls c;
    memset(&c, 0, sizeof c);
    pen_end(p, skin, &c);
    return c;
}

static void test_decoding(void **state)
{
    (void)state;
    pen_def d = pen_default_def();
    pen_state *p = pen_create(&d, &k_axes, "test tablet");
    assert_non_null(p);
    assert_true(pen_has_tilt(p));
    pen_skin skin = {.probe_x_mm = 2.0, .probe_y_mm = -1.0, .probe_rot_deg = 0.0, .fov_mm = 38.4};
    /* In range, above the tablet: no needle. */
    ev(EV_KEY, BTN_TOOL_PEN, 1), ev(EV_ABS, ABS_X, 15000), ev(EV_ABS, ABS_Y, 3000);
    ev(EV_ABS, ABS_TILT_X, 6000), ev(EV_ABS, ABS_TILT_Y, 0), syn();
    flush(p);
    controls c = end_frame(p, &skin);
    assert_false(c.has_needle_pose);
    /* Touching lightly: on the skin, three quarters across the image, a quarter of the way
     * from the plane, at 90 - 60 degrees. A frame is complete only at its SYN_REPORT. */
    ev(EV_KEY, BTN_TOUCH, 1), ev(EV_ABS, ABS_PRESSURE, 300);
    flush(p);
    assert_false(end_frame(p, &skin).has_needle_pose);
    syn();
    flush(p);
    c = end_frame(p, &skin);
    assert_true(c.has_needle_pose);
    const controls_needle_pose *np = &c.needle_pose;
    double lateral = (15000.0 / 20000.0 - 0.5) * skin.fov_mm, dist = d.dist_min_mm + 0.25 * (d.dist_max_mm - d.dist_min_mm);
    print_message("entry %.3f, %.3f mm, angle %.2f, azimuth %.1f, travel %.3f mm\n", np->entry_x_mm, np->entry_y_mm,
                  np->angle_deg, np->azimuth_deg, np->inserted_mm);
    assert_true(fabs(np->entry_x_mm - (skin.probe_x_mm + lateral)) < 1e-9);
    assert_true(fabs(np->entry_y_mm - (skin.probe_y_mm - dist)) < 1e-9);
    assert_true(fabs(np->angle_deg - 30.0) < 0.05);
    assert_true(fabs(np->azimuth_deg - 90.0) < 1e-9);
    double frac0 = 300.0 / 2047.0;
    assert_true(fabs(np->inserted_mm - (frac0 - d.pressure_touch) / (d.pressure_full - d.pressure_touch) * d.insert_max_mm) < 1e-9);
    /* A pressure ramp is a growing travel, capped at insert_max_mm; the tilt in both axes adds
     * up (hypot) and the rotation of the probe turns the tablet with it. */
    skin.probe_rot_deg = 90.0;
    double last = np->inserted_mm;
    for (int k = 1; k <= 10; k++) {
        ev(EV_ABS, ABS_PRESSURE, 300 + 100 * k), ev(EV_ABS, ABS_TILT_Y, 3000), syn();
        flush(p);
        c = end_frame(p, &skin);
        assert_true(c.has_needle_pose && c.needle_pose.inserted_mm > last);
        last = c.needle_pose.inserted_mm;
    }
    assert_true(fabs(c.needle_pose.angle_deg - (90.0 - hypot(60.0, 30.0) * 5729.58 / 5730.0)) < 0.05);
    assert_true(fabs(c.needle_pose.entry_x_mm - (skin.probe_x_mm + dist)) < 1e-9);
    assert_true(fabs(c.needle_pose.entry_y_mm - (skin.probe_y_mm + lateral)) < 1e-9);
    assert_true(fabs(c.needle_pose.azimuth_deg - 180.0) < 1e-9);
    ev(EV_ABS, ABS_PRESSURE, 2047), syn();
    flush(p);
    assert_true(end_frame(p, &skin).needle_pose.inserted_mm == d.insert_max_mm);
    /* The barrel buttons: one press each, held or not. */
    ev(EV_KEY, BTN_STYLUS, 1), syn(), ev(EV_KEY, BTN_STYLUS, 2), syn();
    flush(p);
    c = end_frame(p, &skin);
    assert_true(c.pressed[BTN_INJECT] && !c.pressed[BTN_STEP]);
    assert_false(end_frame(p, &skin).pressed[BTN_INJECT]);
    ev(EV_KEY, BTN_STYLUS, 0), ev(EV_KEY, BTN_STYLUS2, 1), syn();
    flush(p);
    c = end_frame(p, &skin);
    assert_true(c.pressed[BTN_STEP] && !c.pressed[BTN_INJECT]);
    /* A dropped frame is not used: the pressure before the drop stands. */
    double before = end_frame(p, &skin).needle_pose.inserted_mm;
    ev(EV_ABS, ABS_PRESSURE, 400), ev(EV_SYN, SYN_DROPPED, 0), ev(EV_ABS, ABS_X, 0), syn();
    flush(p);
    assert_true(end_frame(p, &skin).needle_pose.inserted_mm == before);
    /* Lifted: no needle. */
    ev(EV_ABS, ABS_PRESSURE, 0), ev(EV_KEY, BTN_TOUCH, 0), ev(EV_KEY, BTN_TOOL_PEN, 0), syn();
    flush(p);
    assert_false(end_frame(p, &skin).has_needle_pose);
    pen_destroy(p);

    /* A tablet without tilt: the angle is angle_no_tilt_deg. */
    pen_axes flat = k_axes;
    flat.tilt_x.present = flat.tilt_y.present = false;
    d.angle_no_tilt_deg = 25.0;
    p = pen_create(&d, &flat, NULL);
    assert_false(pen_has_tilt(p));
    ev(EV_KEY, BTN_TOOL_PEN, 1), ev(EV_ABS, ABS_PRESSURE, 1000), ev(EV_ABS, ABS_TILT_X, 6000), syn();
    flush(p);
    c = end_frame(p, &skin);
    assert_true(c.has_needle_pose && c.needle_pose.angle_deg == 25.0);
    assert_string_equal(pen_name(p), "pen");
    pen_destroy(p);
}

static void test_finding(void **state)
{
    (void)state;
    pen_def d = pen_default_def();
    char why[300];
    pen_state *p = pen_find(&d, why, sizeof why);
    /* Whatever this machine has: a pen, or a plain reason. */
    if (p) {
        print_message("found %s\n", pen_name(p));
        pen_destroy(p);
    } else {
        print_message("no pen: %s\n", why);
        assert_true(strlen(why) > 5);
    }
    assert_null(pen_open_evdev(&d, "/nonexistent/event0", why, sizeof why));
    assert_non_null(strstr(why, "/nonexistent/event0: No such file"));
    assert_null(pen_open_evdev(&d, "/dev/null", why, sizeof why));
    print_message("/dev/null: %s\n", why);
    assert_non_null(strstr(why, "not an input device"));
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_settings_file(void **state)
{
    (void)state;
    devices_settings s, d;
    devices_settings_default(&d);
    char err[1024];
    const char *text = "# mine\n"
                       "pad.stick_dead_zone = 0.25   # a worn stick\n"
                       "pad.rumble = off\n"
                       "pen.device = /dev/input/event7\n"
                       "pad.trigger_dead_zone = lots\n"
                       "pad.probe_mm_s = 900\n"
                       "no_such = 1\n"
                       "pen.insert_max_mm\n"
                       "igtl.port = 18944\n"
                       "igtl.bind = 0.0.0.0\n"
                       "igtl.calibration = /tmp/lab calibration.json  # the skills lab's\n"
                       "igtl.port = 70000\n"
                       "igtl.bind = localhost\n"
                       "igtl.calibration =\n"
                       "pen.pressure_touch = 0.6\n"
                       "pen.pressure_full = 0.5\n";
    s = d;
    assert_false(devices_settings_parse(text, strlen(text), &s, err, sizeof err));
    print_message("settings errors:\n%s\n", err);
    assert_true(s.pad.stick_dead_zone == 0.25 && !s.pad.rumble);
    assert_string_equal(s.pen_device, "/dev/input/event7");
    assert_true(s.pad.trigger_dead_zone == d.pad.trigger_dead_zone && s.pad.probe_mm_s == d.pad.probe_mm_s);
    assert_non_null(strstr(err, "5: pad.trigger_dead_zone: expected a number (kept the default)"));
    assert_non_null(strstr(err, "6: pad.probe_mm_s: 900 is outside 0..50"));
    assert_non_null(strstr(err, "7: unknown setting 'no_such'"));
    assert_non_null(strstr(err, "8: expected NAME = VALUE"));
    /* The window's tracker server: a later bad line keeps what the good one set. */
    assert_int_equal(s.igtl_port, 18944);
    assert_string_equal(s.igtl_bind, "0.0.0.0");
    assert_string_equal(s.igtl_calibration, "/tmp/lab calibration.json");
    assert_non_null(strstr(err, "12: igtl.port: expected off or a port 0..65535"));
    assert_non_null(strstr(err, "13: igtl.bind: 'localhost' is not an IPv4 address"));
    assert_non_null(strstr(err, "14: igtl.calibration: empty"));
    /* A touch at more pressure than the full travel: both back to their defaults. */
    assert_non_null(strstr(err, "16: pen.pressure_touch must be below pen.pressure_full"));
    assert_true(s.pen.pressure_touch == d.pen.pressure_touch && s.pen.pressure_full == d.pen.pressure_full);
    assert_int_equal(d.igtl_port, -1);
    assert_string_equal(d.igtl_bind, "127.0.0.1");
    assert_string_equal(d.igtl_calibration, "");
    /* The file written reads back to what it was written from. */
    char buf[4096];
    size_t n = devices_settings_format(&s, buf, sizeof buf);
    assert_true(n < sizeof buf);
    devices_settings back = d;
    assert_true(devices_settings_parse(buf, n, &back, err, sizeof err));
    char again[4096];
    devices_settings_format(&back, again, sizeof again);
    assert_string_equal(again, buf);
    assert_true(back.pad.stick_dead_zone == 0.25 && !back.pad.rumble);
    assert_true(back.igtl_port == 18944 && !strcmp(back.igtl_calibration, "/tmp/lab calibration.json"));
    assert_non_null(strstr(buf, "igtl.calibration = /tmp/lab calibration.json"));
    /* The defaults' file says off and default, and reads back to them. */
    size_t dn = devices_settings_format(&d, again, sizeof again);
    assert_non_null(strstr(again, "igtl.port = off"));
    assert_non_null(strstr(again, "igtl.calibration = default"));
    back = d;
    back.igtl_port = 5;
    assert_true(devices_settings_parse(again, dn, &back, err, sizeof err));
    assert_true(back.igtl_port == -1 && back.igtl_calibration[0] == '\0');
    /* First run: the defaults are written. */
    char path[1024], where[1100];
    snprintf(path, sizeof path, "%s/test_pen_devices.conf", MESOSIM_BINARY_DIR);
    remove(path);
    devices_settings_load(path, &s, where, sizeof where);
    assert_string_equal(where, path);
    char defaults[4096];
    devices_settings_format(&d, defaults, sizeof defaults);
    devices_settings_format(&s, buf, sizeof buf);
    assert_string_equal(buf, defaults);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    fclose(f);
    write_file(path, "pen.pressure_full = 0.5\n");
    devices_settings_load(path, &s, NULL, 0);
    assert_true(s.pen.pressure_full == 0.5);
}

/* ---- a whole session in the window ------------------------------------------------------------ */

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

static void pen_frame(pen_state *p)
{
    flush(p);
    frame();
}

static double tip_depth(const session *ss, tissue_id *tissue)
{
    double tip[3];
    needle_tip_mm(session_needle(ss), tip);
    phantom_sample ps = phantom_at(session_anatomy(ss), tip, session_pose(ss).pressure_n, NULL, 0);
    *tissue = ps.tissue;
    return ps.depth_mm;
}

static void test_pen_drives_a_session(void **state)
{
    (void)state;
    char err[2048], path[1024];
    setenv("XDG_CONFIG_HOME", MESOSIM_BINARY_DIR "/test_pen_config", 1);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = MESOSIM_BINARY_DIR "/test_pen_sessions";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t)
        skip();
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    if (!trainer_open_case(g_t, path, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    pen_def pd = pen_default_def();
    pen_state *pen = pen_create(&pd, &k_axes, "test tablet");
    devices_set_pen(trainer_devices(g_t), pen);
    frame();
    const session *ss = trainer_session(g_t);
    const score_session *m = session_metrics(ss);
    /* The upper barrel button opens the step chooser and, pressed again, ticks the step it
     * names. */
    for (int i = 0; i < 6; i++) {
        ev(EV_KEY, BTN_STYLUS2, 1), syn();
        pen_frame(pen);
        ev(EV_KEY, BTN_STYLUS2, 0), syn();
        pen_frame(pen);
    }
    assert_true(m->step_done[STEP_POSITIONING] && m->step_done[STEP_DISINFECTION] && m->step_done[STEP_STERILE_FIELD]);
    char status[400];
    devices_status(trainer_devices(g_t), status, sizeof status);
    print_message("%s\n", status);
    assert_non_null(strstr(status, "pen test tablet (driving)"));
    assert_int_equal(devices_driving(trainer_devices(g_t)), DEVICES_PEN);
    /* Touch at the middle of the tablet's width, 3 mm from the plane, the pen 60 degrees from
     * the vertical: the needle enters there at 30 degrees. */
    int y = (int)lround((3.0 - pd.dist_min_mm) / (pd.dist_max_mm - pd.dist_min_mm) * 12000);
    ev(EV_KEY, BTN_TOOL_PEN, 1), ev(EV_ABS, ABS_X, 10000), ev(EV_ABS, ABS_Y, y), ev(EV_ABS, ABS_TILT_X, 6000);
    ev(EV_KEY, BTN_TOUCH, 1), ev(EV_ABS, ABS_PRESSURE, (int)ceil(pd.pressure_touch * 2047)), syn();
    pen_frame(pen);
    const needle *nd = session_needle(ss);
    assert_true(needle_placed(nd));
    double entry[3];
    needle_entry_mm(nd, entry);
    print_message("entry %.3f, %.3f mm at %.2f degrees\n", entry[0], entry[1], needle_angle_deg(nd));
    assert_true(fabs(entry[0]) < 0.01 && fabs(entry[1] + 3.0) < 0.01);
    assert_true(fabs(needle_angle_deg(nd) - 30.0) < 0.1);
    /* Pressing harder, slowly: the needle goes in until the tip is a millimetre into the dermis. */
    tissue_id tissue = TISSUE_GEL;
    int pressure = (int)ceil(pd.pressure_touch * 2047), frames = 0;
    for (; frames < 600 && !(tip_depth(ss, &tissue) >= 1.0 && tissue == TISSUE_DERMIS); frames++) {
        pressure += 5;
        ev(EV_ABS, ABS_PRESSURE, pressure), syn();
        pen_frame(pen);
    }
    double depth = tip_depth(ss, &tissue);
    print_message("tip %.2f mm deep in %s at pressure %d/2047 after %d frames, travel %.2f mm, %d pops\n", depth,
                  tissue_name(tissue), pressure, frames, needle_travel_mm(nd), m->pops);
    assert_int_equal(tissue, TISSUE_DERMIS);
    /* The travel is the pressure's, to the driver's quantum. */
    double want = ((double)pressure / 2047 - pd.pressure_touch) / (pd.pressure_full - pd.pressure_touch) * pd.insert_max_mm;
    assert_true(fabs(needle_travel_mm(nd) - want) < 0.05);
    /* Pulled out: paused; back: goes on. */
    double t_before = session_time_s(ss);
    devices_set_pen(trainer_devices(g_t), NULL);
    frame();
    assert_true(trainer_paused(g_t));
    assert_non_null(strstr(trainer_pause_message(g_t), "Pen disconnected: the session is paused"));
    for (int i = 0; i < 10; i++)
        frame();
    assert_true(session_time_s(ss) == t_before);
    pen = pen_create(&pd, &k_axes, "test tablet");
    devices_set_pen(trainer_devices(g_t), pen);
    /* The new pen reports the held state it wakes up in. */
    ev(EV_KEY, BTN_TOOL_PEN, 1), ev(EV_ABS, ABS_X, 10000), ev(EV_ABS, ABS_Y, y), ev(EV_ABS, ABS_TILT_X, 6000);
    ev(EV_KEY, BTN_TOUCH, 1), ev(EV_ABS, ABS_PRESSURE, pressure), syn();
    pen_frame(pen);
    assert_false(trainer_paused(g_t));
    /* The lower barrel button injects; held still until the drug is in. */
    ev(EV_KEY, BTN_STYLUS, 1), syn();
    pen_frame(pen);
    ev(EV_KEY, BTN_STYLUS, 0), syn();
    pen_frame(pen);
    assert_int_equal(m->n_inj, 1);
    print_message("injection: %s, tip %.2f mm deep\n", score_verdict_name(m->inj[0].verdict), m->inj[0].tip_depth_mm);
    assert_int_equal(m->inj[0].verdict, VERDICT_INTRADERMAL);
    assert_true(fabs(m->inj[0].tip_depth_mm - depth) < 0.05);
    for (int i = 0; i < 150; i++)
        frame();
    /* Lifted: withdrawn. */
    ev(EV_ABS, ABS_PRESSURE, 0), ev(EV_KEY, BTN_TOUCH, 0), ev(EV_KEY, BTN_TOOL_PEN, 0), syn();
    pen_frame(pen);
    assert_false(needle_placed(nd));
    /* The End key asks, Return ends; the log replays to the same report. */
    SDL_Event key;
    memset(&key, 0, sizeof key);
    key.type = SDL_KEYDOWN;
    key.key.keysym.scancode = SDL_SCANCODE_END;
    SDL_PushEvent(&key);
    frame();
    assert_int_equal(trainer_get_screen(g_t), SCREEN_SCAN);
    key.key.keysym.scancode = SDL_SCANCODE_RETURN;
    SDL_PushEvent(&key);
    frame();
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
    char *live = session_report_json(ss, NULL);
    action_list al;
    trainer_flush_log(g_t); /* the log is written by its own thread */
    assert_true(actions_load_file(trainer_log_path(g_t), &al));
    int verbs[ACT_VERB_COUNT] = {0};
    for (int i = 0; i < al.count; i++)
        verbs[al.items[i].verb]++;
    print_message("log: %d actions, %d advances\n", al.count, verbs[ACT_ADVANCE]);
    assert_int_equal(verbs[ACT_NEEDLE_ENTRY], 1);
    assert_true(verbs[ACT_ADVANCE] > 10);
    assert_int_equal(verbs[ACT_INJECT], 1);
    assert_int_equal(verbs[ACT_WITHDRAW], 1);
    char *replay = ru_replay_report(path, &al, err, sizeof err);
    if (!replay)
        fail_msg("replay: %s", err);
    assert_string_equal(replay, live);
    free(replay);
    free(live);
    actions_free(&al);
    trainer_destroy(g_t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decoding),
        cmocka_unit_test(test_finding),
        cmocka_unit_test(test_settings_file),
        cmocka_unit_test(test_pen_drives_a_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
