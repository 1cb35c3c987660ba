/* The tracker in the window: the trainer hosts the OpenIGTLink server (trainer_def.igtl_port)
 * and a TCP client of our own (the message code of sim/net/igtl_msg) plays a tracker whose
 * frame is a known similarity of the phantom's (0.1 mm units, turned 90 degrees, shifted). On
 * the scan screen F9 opens the guided calibration; the client touches mark A, Enter, mark B,
 * Enter, and Enter saves: the file in $XDG_CONFIG_HOME/mesosim/ holds the map the two points
 * imply (the tracker's own), and a needle TRANSFORM sent afterwards enters the skin where that
 * map puts it. Esc cancels with nothing saved. The status line names the tracker; the tracker
 * hanging up pauses the scan, and a tracker coming back goes on. Runs under run_gl.sh. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <SDL.h>

#include "devices.h"
#include "igtl_calib.h"
#include "igtl_msg.h"
#include "needle.h"
#include "pen_evdev.h"
#include "phantom.h"
#include "session.h"
#include "trainer.h"
#include "window_util.h"

/* Last: the kernel names some buttons as controls.h does (BTN_BACK), as macros. */
#include <linux/input-event-codes.h>

static trainer *g_t;
static double g_time;
static char g_calib_path[1024];

/* The tracker's frame: p_phantom = S * R * p_device + T, R a quarter turn about u. */
#define TRUE_SCALE 0.1
static const double k_offset[3] = {5.0, -3.0, 2.0};
static double g_rot[3][3];

static void frame(void) { wu_step(g_t, &g_time); }
static void key(SDL_Scancode sc) { wu_key(g_t, &g_time, sc); }

static void sleep_ms(int ms)
{
    struct timespec ts = {0, ms * 1000000L};
    nanosleep(&ts, NULL);
}

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return fd;
}

/* A needle TRANSFORM whose tip and direction are these phantom ones in the tracker's frame. */
static void send_needle(int fd, const double tip_ph[3], const double dir_ph[3])
{
    double dev[3], d[3], r[3][3];
    for (int i = 0; i < 3; i++) {
        dev[i] = d[i] = 0.0;
        for (int k = 0; k < 3; k++) {
            dev[i] += g_rot[k][i] * (tip_ph[k] - k_offset[k]) / TRUE_SCALE; /* R^T */
            d[i] += g_rot[k][i] * dir_ph[k];
        }
    }
    /* Any frame whose third column is the needle: (d x a, d x (d x a) ... ) from a helper axis. */
    double a[3] = {0, 1, 0}, x[3], y[3];
    x[0] = a[1] * d[2] - a[2] * d[1], x[1] = a[2] * d[0] - a[0] * d[2], x[2] = a[0] * d[1] - a[1] * d[0];
    double xn = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    for (int i = 0; i < 3; i++)
        x[i] /= xn;
    y[0] = d[1] * x[2] - d[2] * x[1], y[1] = d[2] * x[0] - d[0] * x[2], y[2] = d[0] * x[1] - d[1] * x[0];
    for (int i = 0; i < 3; i++)
        r[i][0] = x[i], r[i][1] = y[i], r[i][2] = d[i];
    uint8_t buf[256];
    size_t n = igtl_msg_pack_transform(buf, sizeof buf, "Needle", 0, (const double(*)[3])r, dev);
    assert_true(n > 0);
    assert_int_equal(send(fd, buf, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Enter until the screen takes the point (the pose may still be on its way). */
static void confirm_until_step(int step)
{
    for (int i = 0; i < 200 && trainer_calibration_step(g_t) != step; i++) {
        sleep_ms(5);
        key(SDL_SCANCODE_RETURN);
    }
    assert_int_equal(trainer_calibration_step(g_t), step);
}

static void mark(const phantom *an, double x_mm, double out[3])
{
    out[0] = x_mm, out[1] = 0.0, out[2] = phantom_surface_mm(an, x_mm, 0.0);
}

static void test_calibrate_in_the_window(void **state)
{
    (void)state;
    char err[2048], path[1024];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    if (!trainer_open_case(g_t, path, err, sizeof err) || !trainer_begin_scan(g_t, err, sizeof err))
        fail_msg("%s", err);
    const session *ss = trainer_session(g_t);
    const phantom *an = session_anatomy(ss);
    double a_ph[3], b_ph[3];
    mark(an, -15.0, a_ph);
    mark(an, 15.0, b_ph);
    /* The turn: a quarter about an axis across the line A-B, which two points can see. */
    double ab[3] = {b_ph[0] - a_ph[0], b_ph[1] - a_ph[1], b_ph[2] - a_ph[2]};
    double u[3] = {-ab[2], 0.0, ab[0]}, un = hypot(u[0], u[2]);
    u[0] /= un, u[2] /= un;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 3; k++) {
            static const int eps[3][3][3] = {{{0, 0, 0}, {0, 0, 1}, {0, -1, 0}},
                                             {{0, 0, -1}, {0, 0, 0}, {1, 0, 0}},
                                             {{0, 1, 0}, {-1, 0, 0}, {0, 0, 0}}};
            double cross = 0.0; /* [u]x */
            for (int j = 0; j < 3; j++)
                cross -= eps[i][k][j] * u[j];
            g_rot[i][k] = u[i] * u[k] + cross; /* cos 90 = 0, sin 90 = 1 */
        }

    int port = trainer_igtl_port(g_t);
    assert_true(port > 0);
    char status[600];
    trainer_device_status(g_t, status, sizeof status);
    assert_non_null(strstr(status, "tracker: waiting on OpenIGTLink"));
    int fd = connect_to(port);

    /* Esc at the first step leaves with nothing saved. */
    key(SDL_SCANCODE_F9);
    assert_int_equal(trainer_calibration_step(g_t), 0);
    key(SDL_SCANCODE_ESCAPE);
    assert_int_equal(trainer_calibration_step(g_t), -1);
    assert_int_not_equal(access(g_calib_path, F_OK), 0);

    /* A, Enter; B, Enter; the figures; Enter saves. */
    double down[3] = {0.0, 0.0, 1.0};
    key(SDL_SCANCODE_F9);
    double t_cal = session_time_s(ss);
    send_needle(fd, a_ph, down);
    confirm_until_step(1);
    send_needle(fd, b_ph, down);
    confirm_until_step(2);
    /* The session's clock stood still, and the points touched on the skin entered nothing. */
    assert_true(session_time_s(ss) - t_cal < 1e-9);
    assert_false(needle_placed(session_needle(ss)));
    key(SDL_SCANCODE_RETURN);
    assert_int_equal(trainer_calibration_step(g_t), -1);
    igtl_calibration c;
    if (!igtl_calibration_load(g_calib_path, &c, err, sizeof err))
        fail_msg("%s", err);
    print_message("saved: scale %.6f, offset %.4f %.4f %.4f\n", c.scale, c.offset_mm[0], c.offset_mm[1],
                  c.offset_mm[2]);
    /* TRANSFORM carries float32: ~1e-7 of the ~1500 device units of the points. */
    assert_true(fabs(c.scale - TRUE_SCALE) < 1e-6);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(c.offset_mm[i] - k_offset[i]) < 1e-3);
        for (int k = 0; k < 3; k++)
            assert_true(fabs(c.rotation[i][k] - g_rot[i][k]) < 1e-5);
    }

    /* The status line names the tracker; a needle sent now enters where the map puts it. */
    trainer_device_status(g_t, status, sizeof status);
    assert_non_null(strstr(status, "tracker: connected"));
    double entry[3] = {2.0, -3.0, 0.0}, dir[3] = {cos(0.78539816339744831), 0.0, sin(0.78539816339744831)};
    entry[2] = phantom_surface_mm(an, entry[0], entry[1]) + 0.01;
    for (int i = 0; i < 300 && !needle_placed(session_needle(ss)); i++) {
        send_needle(fd, entry, dir);
        sleep_ms(2);
        frame();
    }
    const needle *nd = session_needle(ss);
    assert_true(needle_placed(nd));
    double e[3];
    needle_entry_mm(nd, e);
    print_message("needle entered at %.3f, %.3f mm, %.2f deg\n", e[0], e[1], needle_angle_deg(nd));
    assert_true(fabs(e[0] - 2.0) < 0.05 && fabs(e[1] + 3.0) < 0.05);
    assert_true(fabs(needle_angle_deg(nd) - 45.0) < 0.5);

    /* The tracker hangs up: the scan pauses with a message; one coming back goes on. */
    close(fd);
    for (int i = 0; i < 200 && !trainer_paused(g_t); i++) {
        sleep_ms(5);
        frame();
    }
    assert_true(trainer_paused(g_t));
    assert_non_null(strstr(trainer_pause_message(g_t), "Tracker disconnected"));
    trainer_device_status(g_t, status, sizeof status);
    assert_non_null(strstr(status, "tracker: disconnected"));
    fd = connect_to(port);
    for (int i = 0; i < 200 && trainer_paused(g_t); i++) {
        send_needle(fd, entry, dir);
        sleep_ms(5);
        frame();
    }
    assert_false(trainer_paused(g_t));

    /* A tablet pen in the same session, beside the tracker: used, it drives; pulled out, it
     * pauses the session although the tracker is still there; plugged in again, it goes on. */
    double entry_before[3], inserted_before = needle_inserted_mm(nd);
    needle_entry_mm(nd, entry_before);
    static const pen_axes axes = {
        .x = {true, 0, 20000, 100}, .y = {true, 0, 12000, 100}, .pressure = {true, 0, 2047, 0},
    };
    pen_def pd = pen_default_def();
    pen_state *pen = pen_create(&pd, &axes, "test tablet");
    assert_non_null(pen);
    devices_set_pen(trainer_devices(g_t), pen);
    const score_session *m = session_metrics(ss);
    /* The upper barrel button, twice: the step chooser opens, then ticks the first step. */
    for (int i = 0; i < 2; i++)
        for (int v = 1; v >= 0; v--) {
            pen_event pe[2] = {{EV_KEY, BTN_STYLUS2, v, 0.0}, {EV_SYN, SYN_REPORT, 0, 0.0}};
            pen_feed(pen, pe, 2);
            frame();
        }
    assert_true(m->step_done[STEP_POSITIONING]);
    assert_int_equal(devices_driving(trainer_devices(g_t)), DEVICES_PEN);
    trainer_device_status(g_t, status, sizeof status);
    print_message("%s\n", status);
    assert_non_null(strstr(status, "pen test tablet (no tilt) (driving)"));
    assert_non_null(strstr(status, "tracker: connected"));
    devices_set_pen(trainer_devices(g_t), NULL);
    frame();
    assert_true(trainer_paused(g_t));
    assert_non_null(strstr(trainer_pause_message(g_t), "Pen disconnected: the session is paused"));
    double t_paused = session_time_s(ss);
    for (int i = 0; i < 20; i++) {
        send_needle(fd, entry, dir); /* the tracker's poses meanwhile move nothing */
        frame();
    }
    /* (To rounding: the pause's offset grows by each frame's dt, the caller's clock too.) */
    assert_true(fabs(session_time_s(ss) - t_paused) < 1e-9);
    devices_set_pen(trainer_devices(g_t), pen_create(&pd, &axes, "test tablet"));
    frame();
    assert_false(trainer_paused(g_t));

    /* Then the tracker goes (paused again) and comes back (goes on): nothing was lost, the
     * needle it placed is where it was, as deep, with the step the pen ticked. */
    close(fd);
    for (int i = 0; i < 200 && !trainer_paused(g_t); i++) {
        sleep_ms(5);
        frame();
    }
    assert_true(trainer_paused(g_t));
    assert_non_null(strstr(trainer_pause_message(g_t), "Tracker disconnected"));
    t_paused = session_time_s(ss);
    frame();
    assert_true(fabs(session_time_s(ss) - t_paused) < 1e-9);
    fd = connect_to(port);
    for (int i = 0; i < 200 && trainer_paused(g_t); i++) {
        send_needle(fd, entry, dir);
        sleep_ms(5);
        frame();
    }
    assert_false(trainer_paused(g_t));
    for (int i = 0; i < 10; i++)
        frame();
    assert_true(session_time_s(ss) > t_paused);
    double e_after[3];
    needle_entry_mm(nd, e_after);
    print_message("after the pen and the tracker came back: entry %.3f, %.3f mm, %.3f mm in (was %.3f)\n",
                  e_after[0], e_after[1], needle_inserted_mm(nd), inserted_before);
    assert_true(needle_placed(nd));
    for (int i = 0; i < 3; i++)
        assert_true(fabs(e_after[i] - entry_before[i]) < 1e-9);
    assert_true(fabs(needle_inserted_mm(nd) - inserted_before) < 0.05);
    assert_true(m->step_done[STEP_POSITIONING]);
    close(fd);
}

int main(void)
{
    char err[1024];
    const char *cfg = MESOSIM_BINARY_DIR "/test_igtl_window_config";
    snprintf(g_calib_path, sizeof g_calib_path, "%s/mesosim/tracker_calibration.json", cfg);
    unlink(g_calib_path);
    /* The server as devices.conf sets it up: a free port, the calibration file named there; an
     * address this machine has not (TEST-NET-3), which the window's --igtl-bind overrides (a
     * server on it could not start). */
    char text[1400];
    snprintf(text, sizeof text, "igtl.port = 0\nigtl.bind = 203.0.113.7\nigtl.calibration = %s\n", g_calib_path);
    if (!wu_devices_conf(cfg, text))
        return 1;
    trainer_def def = wu_test_def();
    def.igtl_bind = "127.0.0.1";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_igtl_window: %s\n", err);
        return strstr(err, "OpenIGTLink") ? 1 : 77; /* no GL window: skipped; no server: failed */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_calibrate_in_the_window),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
