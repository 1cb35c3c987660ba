/* OpenIGTLink: the message parser against the library's own packing (round trips, a wrong
 * CRC, wrong sizes, unknown types, over-long bodies, broken headers, bytes in any pieces); the
 * two-point calibration's math and its file; the tool rules (a tracked needle enters where
 * its tip reaches the skin, advances, redirects and withdraws; a tracked probe moves and
 * presses); and the server on 127.0.0.1 with a client of our own: TRANSFORMs drive the needle
 * and the SENSOR force stream rises as the needle loads the skin and drops at the pop; floods
 * of garbage, vanishing clients and too many clients are counted, never fatal. */
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
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <igtl_header.h>
#include <igtl_sensor.h>

#include "driver.h"
#include "haptics.h"
#include "haptics_tool.h"
#include "igtl_calib.h"
#include "igtl_msg.h"
#include "igtl_server.h"
#include "needle.h"
#include "phantom.h"
#include "scenario.h"

#define PI 3.14159265358979323846

static const double k_rot30[3][3] = {{1, 0, 0}, {0, 0.86602540378, -0.5}, {0, 0.5, 0.86602540378}};

static void sleep_ms(double ms)
{
    struct timespec t = {.tv_sec = (time_t)(ms / 1e3), .tv_nsec = (long)(fmod(ms, 1e3) * 1e6)};
    nanosleep(&t, NULL);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static driver *make_driver(scenario *sc)
{
    scenario_diags diags;
    if (!scenario_load_file(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", sc, &diags))
        fail_msg("cannot load the adult back");
    driver_def dd = driver_default_def();
    dd.sc = sc;
    dd.simulator_version = "test";
    char err[256];
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d)
        fail_msg("driver_create: %s", err);
    return d;
}

/* ---- the parser ---------------------------------------------------------------------------- */

typedef struct got {
    igtl_msg m[16];
    int n;
} got;

static void collect(void *ctx, const igtl_msg *m)
{
    got *g = ctx;
    if (g->n < 16)
        g->m[g->n] = *m;
    g->n++;
}

static size_t pack_tf(uint8_t *buf, const char *dev, double x, double y, double z)
{
    double t[3] = {x, y, z};
    return igtl_msg_pack_transform(buf, 256, dev, igtl_msg_timestamp(12.5), k_rot30, t);
}

static void test_transform_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256];
    size_t n = pack_tf(buf, "Needle", 1.5, -2.25, 3.0);
    assert_int_equal(n, 58 + 48);
    igtl_msg m;
    uint64_t used;
    assert_int_equal(igtl_msg_parse(buf, n, &m, &used), IGTL_PARSE_OK);
    assert_int_equal(used, n);
    assert_int_equal(m.kind, IGTL_MSG_TRANSFORM);
    assert_string_equal(m.device, "Needle");
    assert_string_equal(m.type, "TRANSFORM");
    assert_true(fabs(m.t[0] - 1.5) < 1e-6 && fabs(m.t[1] + 2.25) < 1e-6 && fabs(m.t[2] - 3.0) < 1e-6);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            assert_true(fabs(m.r[i][j] - k_rot30[i][j]) < 1e-6);
    assert_int_equal(m.timestamp >> 32, 12);
    /* One byte short is "more", never a half-read pose. */
    assert_int_equal(igtl_msg_parse(buf, n - 1, &m, &used), IGTL_PARSE_NEED_MORE);
    /* A 20-character name fills the field with no NUL. */
    n = pack_tf(buf, "ABCDEFGHIJKLMNOPQRSTUVWXYZ", 0, 0, 0);
    assert_int_equal(igtl_msg_parse(buf, n, &m, &used), IGTL_PARSE_OK);
    assert_string_equal(m.device, "ABCDEFGHIJKLMNOPQRST");
}

static void test_position_round_trip(void **state)
{
    (void)state;
    uint8_t buf[256];
    double p[3] = {4, 5, 6}, q[4] = {0, 0, sin(PI / 4), cos(PI / 4)}; /* 90 degrees about z */
    size_t n = igtl_msg_pack_position(buf, sizeof buf, "Probe", 0, p, q);
    igtl_msg m;
    uint64_t used;
    assert_int_equal(igtl_msg_parse(buf, n, &m, &used), IGTL_PARSE_OK);
    assert_int_equal(m.kind, IGTL_MSG_POSITION);
    assert_true(fabs(m.t[2] - 6.0) < 1e-6);
    assert_true(fabs(m.r[1][0] - 1.0) < 1e-6 && fabs(m.r[0][1] + 1.0) < 1e-6 && fabs(m.r[2][2] - 1.0) < 1e-6);
}

static void test_bad_messages_dropped(void **state)
{
    (void)state;
    uint8_t buf[256];
    igtl_msg m;
    uint64_t used;
    size_t n = pack_tf(buf, "Needle", 1, 2, 3);
    buf[n - 1] ^= 0x40; /* a flipped bit in the body */
    assert_int_equal(igtl_msg_parse(buf, n, &m, &used), IGTL_PARSE_BAD_CRC);
    assert_int_equal(used, n);

    /* A TRANSFORM of 44 bytes, with a right CRC: the wrong size for its type. */
    n = pack_tf(buf, "Needle", 1, 2, 3);
    igtl_header h;
    memcpy(&h, buf, 58);
    igtl_header_convert_byte_order(&h);
    h.body_size = 44;
    h.crc = crc64(buf + 58, 44, 0);
    igtl_header_convert_byte_order(&h);
    memcpy(buf, &h, 58);
    assert_int_equal(igtl_msg_parse(buf, 58 + 44, &m, &used), IGTL_PARSE_BAD_SIZE);
    assert_int_equal(used, 58 + 44);

    /* NaN in a pose, properly packed. */
    double t[3] = {NAN, 0, 0};
    n = igtl_msg_pack_transform(buf, sizeof buf, "Needle", 0, k_rot30, t);
    assert_int_equal(igtl_msg_parse(buf, n, &m, &used), IGTL_PARSE_BAD_VALUE);

    /* A header of version 7 cannot be framed. */
    n = pack_tf(buf, "Needle", 1, 2, 3);
    buf[1] = 7;
    assert_int_equal(igtl_msg_parse(buf, n, &m, &used), IGTL_PARSE_BROKEN);
}

static void test_stream_pieces_and_skips(void **state)
{
    (void)state;
    /* good, SENSOR (unknown to us: skipped), good with a bad CRC, a huge STRING body (skipped as
     * it streams, never kept), good: fed one byte at a time. */
    static uint8_t stream[4096 + 3000];
    size_t len = 0;
    len += pack_tf(stream + len, "Needle", 1, 0, 0);
    double f[3] = {1, 2, 3};
    len += igtl_msg_pack_sensor_newton(stream + len, 256, "Force", 0, f, 3);
    size_t bad_at = len;
    len += pack_tf(stream + len, "Needle", 2, 0, 0);
    stream[bad_at + 70] ^= 1;
    igtl_header h;
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.name, "STRING", 6);
    memcpy(h.device_name, "Big", 3);
    h.body_size = 3000;
    igtl_header_convert_byte_order(&h);
    memcpy(stream + len, &h, 58);
    len += 58;
    memset(stream + len, 'x', 3000);
    len += 3000;
    len += pack_tf(stream + len, "Needle", 3, 0, 0);

    igtl_stream s;
    igtl_stream_init(&s);
    got g = {0};
    for (size_t i = 0; i < len; i++)
        assert_true(igtl_stream_feed(&s, stream + i, 1, collect, &g));
    assert_int_equal(g.n, 2);
    assert_true(fabs(g.m[0].t[0] - 1.0) < 1e-6 && fabs(g.m[1].t[0] - 3.0) < 1e-6);
    assert_int_equal(s.stats.received, 2);
    assert_int_equal(s.stats.bad_crc, 1);
    assert_int_equal(s.stats.unknown, 2);
    assert_int_equal(s.stats.dropped, 3);

    /* The same bytes in one piece give the same. */
    igtl_stream_init(&s);
    memset(&g, 0, sizeof g);
    assert_true(igtl_stream_feed(&s, stream, len, collect, &g));
    assert_int_equal(g.n, 2);
    assert_int_equal(s.stats.dropped, 3);

    /* A TRANSFORM header announcing a 1 MiB body: skipped as too long, the stream goes on. */
    igtl_stream_init(&s);
    memset(&g, 0, sizeof g);
    memset(&h, 0, sizeof h);
    h.version = 1;
    memcpy(h.name, "TRANSFORM", 9);
    h.body_size = 1u << 20;
    igtl_header_convert_byte_order(&h);
    assert_true(igtl_stream_feed(&s, (uint8_t *)&h, 58, collect, &g));
    static uint8_t junk[1u << 20];
    assert_true(igtl_stream_feed(&s, junk, sizeof junk, collect, &g));
    uint8_t one[256];
    size_t n1 = pack_tf(one, "Needle", 9, 0, 0);
    assert_true(igtl_stream_feed(&s, one, n1, collect, &g));
    assert_int_equal(s.stats.too_long, 1);
    assert_int_equal(g.n, 1);

    /* Garbage where a header should be: broken, no more bytes taken. */
    igtl_stream_init(&s);
    uint8_t garbage[100];
    memset(garbage, 0xA5, sizeof garbage);
    assert_false(igtl_stream_feed(&s, garbage, sizeof garbage, collect, &g));
    assert_true(s.broken);
}

/* ---- calibration --------------------------------------------------------------------------- */

static void test_two_point_calibration(void **state)
{
    (void)state;
    /* A known similarity: scale 0.1 (a tracker in 1/10 mm), 90 degrees about z, an offset.
     * Two points on a line along the device's x: the rotation about that line is the one thing
     * two points cannot see, so the line is chosen with none. */
    igtl_calibration truth = {.scale = 0.1, .offset_mm = {5, -3, 2}, .rotation = {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}};
    double da[3] = {10, 20, 30}, db[3] = {110, 20, 30}, pa[3], pb[3];
    igtl_calibration_point(&truth, da, pa);
    igtl_calibration_point(&truth, db, pb);
    igtl_calibration c;
    char err[256];
    assert_true(igtl_calibration_two_point(da, pa, db, pb, &c, err, sizeof err));
    assert_null(igtl_calibration_check(&c));
    assert_true(fabs(c.scale - 0.1) < 1e-12);
    double qa[3], qb[3], mid_d[3] = {60, 20, 30}, mid_t[3], mid_c[3];
    igtl_calibration_point(&c, da, qa);
    igtl_calibration_point(&c, db, qb);
    igtl_calibration_point(&truth, mid_d, mid_t);
    igtl_calibration_point(&c, mid_d, mid_c);
    for (int i = 0; i < 3; i++) {
        assert_true(fabs(qa[i] - pa[i]) < 1e-9);
        assert_true(fabs(qb[i] - pb[i]) < 1e-9);
        assert_true(fabs(mid_c[i] - mid_t[i]) < 1e-9);
    }
    /* The device x axis turns onto the phantom's y. */
    double ex[3] = {1, 0, 0}, r[3];
    igtl_calibration_dir(&c, ex, r);
    assert_true(fabs(r[1] - 1.0) < 1e-9);

    /* Opposite directions (half a turn) still give a rotation, not a mirror. */
    double pb2[3] = {pa[0], pa[1] - 10.0, pa[2]}, pa2[3] = {pa[0], pa[1], pa[2]};
    double db2[3] = {10, 120, 30};
    assert_true(igtl_calibration_two_point(da, pa2, db2, pb2, &c, err, sizeof err));
    assert_null(igtl_calibration_check(&c));
    igtl_calibration_point(&c, db2, qb);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(qb[i] - pb2[i]) < 1e-9);

    /* The same point twice: refused, with a reason. */
    assert_false(igtl_calibration_two_point(da, pa, da, pb, &c, err, sizeof err));
    assert_non_null(strstr(err, "must differ"));
}

static void test_calibration_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/mesosim_calib_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/sub/igtl_calibration.json", dir);
    igtl_calibration c = {.scale = 0.25, .offset_mm = {1, 2, 3}, .rotation = {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}};
    char err[512];
    assert_true(igtl_calibration_save(path, &c, err, sizeof err));
    igtl_calibration back;
    assert_true(igtl_calibration_load(path, &back, err, sizeof err));
    assert_memory_equal(&back, &c, sizeof c);

    /* A mirror, a zero scale and broken JSON are refused with the field named. */
    FILE *f = fopen(path, "w");
    fputs("{\"scale\": 1, \"rotation\": [[-1,0,0],[0,1,0],[0,0,1]]}", f);
    fclose(f);
    assert_false(igtl_calibration_load(path, &back, err, sizeof err));
    assert_non_null(strstr(err, "mirror"));
    f = fopen(path, "w");
    fputs("{\"scale\": 0}", f);
    fclose(f);
    assert_false(igtl_calibration_load(path, &back, err, sizeof err));
    assert_non_null(strstr(err, "scale"));
    f = fopen(path, "w");
    fputs("{\"scale\": ", f);
    fclose(f);
    assert_false(igtl_calibration_load(path, &back, err, sizeof err));
    assert_non_null(strstr(err, path));

    setenv("XDG_CONFIG_HOME", dir, 1);
    assert_true(igtl_calibration_default_path(path, sizeof path));
    char want[256];
    snprintf(want, sizeof want, "%s/mesosim/igtl_calibration.json", dir);
    assert_string_equal(path, want);
    snprintf(path, sizeof path, "%s/sub/igtl_calibration.json", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/sub", dir);
    rmdir(path);
    rmdir(dir);
}

/* ---- the tool rules ------------------------------------------------------------------------ */

static void test_tracked_needle_rules(void **state)
{
    (void)state;
    scenario sc;
    driver *d = make_driver(&sc);
    const driver_snapshot *s = driver_acquire(d);
    double surf = phantom_surface_mm(s->anatomy, 1.0, -2.0);
    driver_release(d, s);
    haptics_tool t;
    haptics_tool_init(&t, NULL);
    double a = 30.0 * PI / 180.0, dir[3] = {0, cos(a), sin(a)}, entry[3] = {1.0, -2.0, surf};
    double time = 0.0;
    /* From 2 mm back along the line to 2.5 mm past the skin, 0.01 mm a sample. */
    for (double sv = -2.0; sv <= 2.5 + 1e-9; sv += 0.01) {
        double tip[3];
        for (int i = 0; i < 3; i++)
            tip[i] = entry[i] + sv * dir[i];
        haptics_tool_needle(&t, d, time, tip, dir);
        if (sv < -0.05) {
            assert_false(t.entered); /* above the skin: nothing yet */
        }
        time += 0.005;
        driver_step(d, time);
    }
    assert_int_equal(t.entries, 1);
    s = driver_acquire(d);
    assert_true(needle_in_skin(s->needle));
    double e[3];
    needle_entry_mm(s->needle, e);
    assert_true(fabs(e[0] - 1.0) < 0.02 && fabs(e[1] + 2.0) < 0.02);
    assert_true(fabs(needle_angle_deg(s->needle) - 30.0) < 0.05);
    assert_true(fabs(needle_azimuth_deg(s->needle) - 90.0) < 0.05);
    /* The hand pushed 2.5 mm past the skin: that is the needle's travel (the dent and the load
     * take their share of it inside the model). */
    assert_true(fabs(needle_travel_mm(s->needle) - 2.5) < 0.02);
    driver_release(d, s);
    assert_true(t.pose.velocity_mm_s > 1.0); /* 0.01 mm per 5 ms = 2 mm/s */

    /* Turning the tool 10 degrees steeper: a redirect about the entry. */
    double b = 40.0 * PI / 180.0, dir2[3] = {0, cos(b), sin(b)}, tip[3];
    for (int i = 0; i < 3; i++)
        tip[i] = entry[i] + 2.5 * dir2[i];
    haptics_tool_needle(&t, d, time, tip, dir2);
    time += 0.2;
    driver_step(d, time);
    assert_int_equal(t.redirects, 1);
    s = driver_acquire(d);
    assert_true(fabs(needle_angle_deg(s->needle) - 40.0) < 0.05);
    driver_release(d, s);

    /* Lifted back above its entry: withdrawn; then a new pass where the tip next touches. */
    for (int i = 0; i < 3; i++)
        tip[i] = entry[i] - 1.0 * dir2[i];
    haptics_tool_needle(&t, d, time, tip, dir2);
    time += 0.1;
    driver_step(d, time);
    assert_false(t.entered);
    s = driver_acquire(d);
    assert_false(needle_placed(s->needle));
    driver_release(d, s);
    double e2[3] = {3.0, -2.0, 0.0};
    e2[2] = phantom_surface_mm(s->anatomy, 3.0, -2.0) + 0.01;
    haptics_tool_needle(&t, d, time, e2, dir);
    driver_step(d, time + 0.1);
    assert_int_equal(t.entries, 2);
    s = driver_acquire(d);
    assert_true(needle_placed(s->needle));
    needle_entry_mm(s->needle, e);
    assert_true(fabs(e[0] - 3.0) < 0.02);
    driver_release(d, s);
    driver_destroy(d);
}

static void test_tracked_probe_rules(void **state)
{
    (void)state;
    scenario sc;
    driver *d = make_driver(&sc);
    const driver_snapshot *s = driver_acquire(d);
    double surf = phantom_surface_mm(s->anatomy, 3.0, 4.0);
    driver_release(d, s);
    haptics_tool t;
    haptics_tool_init(&t, NULL);
    /* Long axis along +y (rot 90), beam straight down, the face 5 mm into the skin. */
    double r[3][3] = {{0, -1, 0}, {1, 0, 0}, {0, 0, 1}}, face[3] = {3.0, 4.0, surf + 5.0};
    haptics_tool_probe(&t, d, 0.5, face, (const double(*)[3])r);
    driver_step(d, 1.0);
    s = driver_acquire(d);
    assert_true(fabs(s->pose.x_mm - 3.0) < 0.01 && fabs(s->pose.y_mm - 4.0) < 0.01);
    assert_true(fabs(s->pose.rot_deg - 90.0) < 0.05);
    assert_true(fabs(s->pose.tilt_deg) < 0.05 && fabs(s->pose.rock_deg) < 0.05);
    assert_true(fabs(s->pose.pressure_n - 5.0 * haptics_tool_default_def().skin_stiffness_n_mm) < 0.01);
    driver_release(d, s);
    driver_destroy(d);
}

/* ---- the server on 127.0.0.1 --------------------------------------------------------------- */

static int connect_to(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    assert_true(fd >= 0);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    struct timeval tv = {.tv_sec = 0, .tv_usec = 2000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void send_all(int fd, const void *b, size_t n)
{
    const uint8_t *p = b;
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        assert_true(w > 0);
        p += w, n -= (size_t)w;
    }
}

/* SENSOR "NeedleForce" messages out of a byte stream: the magnitudes, in order. */
typedef struct sensor_reader {
    uint8_t buf[1 << 16];
    size_t len;
    double mag[20000];
    int n;
    int bad;
} sensor_reader;

/* Reads what has arrived (never waits: the stream comes at 2 kHz and would keep it reading). */
static void read_sensors(int fd, sensor_reader *r)
{
    for (int turn = 0; turn < 64; turn++) {
        ssize_t k = recv(fd, r->buf + r->len, sizeof r->buf - r->len, MSG_DONTWAIT);
        if (k <= 0)
            break;
        r->len += (size_t)k;
        size_t off = 0;
        while (r->len - off >= 58) {
            igtl_header h;
            memcpy(&h, r->buf + off, 58);
            igtl_header_convert_byte_order(&h);
            if (r->len - off < 58 + h.body_size)
                break;
            uint8_t *body = r->buf + off + 58;
            if (crc64(body, h.body_size, 0) != h.crc || strncmp(h.name, "SENSOR", 12) != 0 ||
                h.body_size != 10 + 24)
                r->bad++;
            else if (!strncmp(h.device_name, "NeedleForce", 20) && r->n < 20000) {
                igtl_sensor_header sh;
                igtl_float64 v[3];
                memcpy(&sh, body, 10);
                memcpy(v, body + 10, 24);
                igtl_sensor_convert_byte_order(&sh, v);
                if (sh.larray != 3)
                    r->bad++;
                r->mag[r->n++] = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
            }
            off += 58 + (size_t)h.body_size;
        }
        memmove(r->buf, r->buf + off, r->len - off);
        r->len -= off;
    }
}

typedef struct clock_ctx {
    double t0;
} clock_ctx;

static double ctx_now(void *ctx)
{
    return now_s() - ((clock_ctx *)ctx)->t0;
}

/* The force climbed from first to peak: through at least one level between a tenth and nine
 * tenths of the peak, never falling by more than a tenth of it on the way (samples come from
 * snapshots at the session's rate, so the climb is in steps on a loaded machine). */
static bool rising(const double *m, int first, int peak)
{
    bool between = false;
    double hi = 0.0;
    for (int i = first; i < peak; i++) {
        between |= m[i] > 0.1 * m[peak] && m[i] < 0.9 * m[peak];
        if (m[i] < hi - 0.1 * m[peak])
            return false;
        hi = m[i] > hi ? m[i] : hi;
    }
    return between;
}

/* Steps the session; true when the skin popped in that step. */
static bool step_pops(driver *d, double t)
{
    int n = driver_step(d, t);
    const session_event *ev = driver_events(d, &n);
    bool popped = false;
    for (int i = 0; i < n; i++)
        popped |= ev[i].kind == SEV_SKIN_POPPED;
    return popped;
}

static void test_server_drives_needle_and_streams_force(void **state)
{
    (void)state;
    scenario sc;
    driver *d = make_driver(&sc);
    clock_ctx clk = {now_s()};
    igtl_server_def sd = igtl_server_default_def();
    sd.d = d;
    sd.port = 0;
    sd.clock_s = ctx_now;
    sd.clock_ctx = &clk;
    char err[256];
    igtl_server *srv = igtl_server_create(&sd, err, sizeof err);
    assert_non_null(srv);
    haptics_def hd = haptics_default_def();
    hd.d = d;
    hd.send = igtl_server_force_sink;
    hd.send_ctx = srv;
    hd.clock_s = ctx_now;
    hd.clock_ctx = &clk;
    haptics *h = haptics_create(&hd, err, sizeof err);
    assert_non_null(h);
    igtl_server_attach_haptics(srv, h);

    int fd = connect_to(igtl_server_port(srv));
    const driver_snapshot *s = driver_acquire(d);
    double surf = phantom_surface_mm(s->anatomy, 0.0, -2.0);
    driver_release(d, s);
    double a = 30.0 * PI / 180.0, dir[3] = {0, cos(a), sin(a)}, entry[3] = {0.0, -2.0, surf};
    static sensor_reader rd;
    memset(&rd, 0, sizeof rd);
    /* 1 mm back to 3 mm in at 2 mm/s, a pose every 2 ms; the owner steps at ~60 Hz. */
    double t0 = now_s();
    int k = 0;
    double last_step = 0.0;
    bool popped = false;
    for (bool last = false; !last;) {
        double t = now_s() - t0, sv = -1.0 + 2.0 * t;
        if (sv >= 3.0) /* the last pose exactly 3 mm in, however late the loop runs */
            sv = 3.0, last = true;
        double tip[3];
        for (int i = 0; i < 3; i++)
            tip[i] = entry[i] + sv * dir[i];
        uint8_t buf[128];
        /* The tool's z axis (the third column) is the needle: (0, cos 30, sin 30). */
        double r[3][3] = {{1, 0, 0}, {0, dir[2], dir[1]}, {0, -dir[1], dir[2]}};
        size_t n = igtl_msg_pack_transform(buf, sizeof buf, "Needle", 0, (const double(*)[3])r, tip);
        send_all(fd, buf, n);
        k++;
        if (t - last_step > 1.0 / 60.0) {
            popped |= step_pops(d, ctx_now(&clk));
            last_step = t;
        }
        read_sensors(fd, &rd);
        sleep_ms(2.0);
    }
    /* On a loaded machine the network thread may lag: wait until it has taken every pose, then
     * step past the driver's motion decimation so the last one is applied. */
    for (int i = 0; i < 500 && igtl_server_get_stats(srv).received < k; i++) {
        sleep_ms(10);
        popped |= step_pops(d, ctx_now(&clk));
    }
    sleep_ms(100);
    popped |= step_pops(d, ctx_now(&clk));
    read_sensors(fd, &rd);
    igtl_server_attach_haptics(srv, NULL);
    haptics_destroy(h);
    igtl_server_stats st = igtl_server_get_stats(srv);
    assert_int_equal(st.received, k);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.needle_poses, k);
    assert_true(st.sent > 100);
    assert_true(popped);
    s = driver_acquire(d);
    assert_true(needle_in_skin(s->needle));
    /* 3 mm, less what the tip was already past the skin at the first sample inside (the entry is
     * taken there): a few hundredths at 2 ms a sample, more when the machine is loaded. */
    assert_true(fabs(needle_travel_mm(s->needle) - 3.0) < 0.15);
    assert_true(k > 500); /* a pose every 2 ms or so for 2 s */
    driver_release(d, s);

    /* The force stream: zero in the air, rising while the skin is loaded, a drop at the pop. */
    assert_int_equal(rd.bad, 0);
    assert_true(rd.n > 200);
    int peak = 0;
    for (int i = 0; i < rd.n; i++)
        if (rd.mag[i] > rd.mag[peak])
            peak = i;
    assert_true(rd.mag[0] < 1e-9);
    assert_true(rd.mag[peak] > 0.2);
    /* Before the peak it climbed: a quarter of the way back it was well below. */
    int first_load = 0;
    while (first_load < peak && rd.mag[first_load] < 1e-6)
        first_load++;
    assert_true(first_load < peak);
    assert_true(rising(rd.mag, first_load, peak));
    /* Just after it, the force fell to less than half: the pop. */
    double after = 1e9;
    for (int i = peak + 1; i < rd.n && i < peak + 200; i++)
        if (rd.mag[i] < after)
            after = rd.mag[i];
    assert_true(after < 0.5 * rd.mag[peak]);
    close(fd);
    igtl_server_destroy(srv);
    driver_destroy(d);
}

static void test_server_survives_the_network(void **state)
{
    (void)state;
    scenario sc;
    driver *d = make_driver(&sc);
    igtl_server_def sd = igtl_server_default_def();
    sd.d = d;
    sd.port = 0;
    char err[256];
    igtl_server *srv = igtl_server_create(&sd, err, sizeof err);
    assert_non_null(srv);
    int port = igtl_server_port(srv);

    /* A client sending wrong CRCs, a wrong size, an unknown type and an unknown device, then
     * one good pose: all counted, the good one taken. */
    int fd = connect_to(port);
    uint8_t buf[256];
    size_t n = pack_tf(buf, "Needle", 0, 0, -5);
    buf[80] ^= 0xff;
    for (int i = 0; i < 50; i++)
        send_all(fd, buf, n);
    double f[3] = {0, 0, 0};
    n = igtl_msg_pack_sensor_newton(buf, sizeof buf, "X", 0, f, 3);
    send_all(fd, buf, n);
    n = pack_tf(buf, "Stranger", 0, 0, -5);
    send_all(fd, buf, n);
    n = pack_tf(buf, "Needle", 0, 0, -5);
    send_all(fd, buf, n);
    sleep_ms(200);
    igtl_server_stats st = igtl_server_get_stats(srv);
    assert_int_equal(st.bad_crc, 50);
    assert_int_equal(st.unknown_type, 1);
    assert_int_equal(st.unknown_device, 1);
    assert_int_equal(st.received, 1);
    assert_int_equal(st.dropped, 52);

    /* Garbage where a header belongs: that connection is closed, the server goes on. */
    int bad = connect_to(port);
    memset(buf, 0x5a, sizeof buf);
    send_all(bad, buf, sizeof buf);
    sleep_ms(200);
    char c;
    assert_int_equal(recv(bad, &c, 1, 0), 0); /* closed by the server */
    close(bad);
    st = igtl_server_get_stats(srv);
    assert_int_equal(st.broken_streams, 1);

    /* Clients that vanish mid-message, and a ninth client when eight are in. */
    for (int i = 0; i < 5; i++) {
        int v = connect_to(port);
        send_all(v, buf, 20);
        close(v);
    }
    sleep_ms(200);
    int many[8];
    many[0] = fd;
    for (int i = 1; i < 8; i++)
        many[i] = connect_to(port);
    sleep_ms(200);
    int ninth = connect_to(port);
    sleep_ms(200);
    assert_int_equal(recv(ninth, &c, 1, 0), 0);
    close(ninth);
    st = igtl_server_get_stats(srv);
    assert_int_equal(st.clients_now, 8);
    assert_true(st.clients_refused >= 1);
    /* Still serving: a pose on the last of them is taken. */
    n = pack_tf(buf, "Needle", 0, 0, -5);
    send_all(many[7], buf, n);
    sleep_ms(200);
    assert_int_equal(igtl_server_get_stats(srv).received, 2);

    /* A flood: 20000 poses as fast as they go, none lost. */
    static uint8_t flood[20000 * 106];
    size_t fl = 0;
    for (int i = 0; i < 20000; i++)
        fl += pack_tf(flood + fl, "Needle", 0, 0, -5.0 - 0.0001 * i);
    send_all(many[3], flood, fl);
    for (int i = 0; i < 50 && igtl_server_get_stats(srv).received < 20002; i++)
        sleep_ms(50);
    assert_int_equal(igtl_server_get_stats(srv).received, 20002);
    for (int i = 0; i < 8; i++)
        close(many[i]);
    sleep_ms(200);

    /* A client that never reads: the image stream to it is dropped and counted, the sender
     * never waits, memory stays at its queue. */
    int slow = connect_to(port);
    int rcv = 4096;
    setsockopt(slow, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof rcv);
    sleep_ms(100);
    static uint8_t px[256 * 702];
    igtl_image_geometry g = {.spacing_mm = {0.05, 0.02}, .u = {1, 0, 0}, .v = {0, 1, 0}, .w = {0, 0, 1}};
    double t0 = now_s();
    for (int i = 0; i < 200; i++) {
        assert_true(igtl_server_send_image(srv, px, 256, 702, &g));
        sleep_ms(1);
    }
    assert_true(now_s() - t0 < 5.0);
    sleep_ms(200);
    st = igtl_server_get_stats(srv);
    assert_true(st.send_dropped > 0);
    close(slow);

    /* A port in use is a plain error. */
    sd.port = port;
    igtl_server *again = igtl_server_create(&sd, err, sizeof err);
    assert_null(again);
    assert_non_null(strstr(err, "cannot listen"));
    sd.port = 0;
    sd.bind_addr = "not-an-address";
    assert_null(igtl_server_create(&sd, err, sizeof err));
    assert_non_null(strstr(err, "not an IPv4 address"));
    igtl_server_destroy(srv);
    driver_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transform_round_trip),
        cmocka_unit_test(test_position_round_trip),
        cmocka_unit_test(test_bad_messages_dropped),
        cmocka_unit_test(test_stream_pieces_and_skips),
        cmocka_unit_test(test_two_point_calibration),
        cmocka_unit_test(test_calibration_file),
        cmocka_unit_test(test_tracked_needle_rules),
        cmocka_unit_test(test_tracked_probe_rules),
        cmocka_unit_test(test_server_drives_needle_and_streams_force),
        cmocka_unit_test(test_server_survives_the_network),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
