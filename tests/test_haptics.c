/* The haptics loop: the force it computes on a snapshot is the needle model's axial force along
 * the shaft, plus a lateral spring toward the insertion line that grows with the offset and the
 * inserted length, plus the probe's contact force along the skin normal; the thread runs near
 * its rate; and a whole session with the simulated pen plugin (plugins/sim_pen) gives force
 * feedback: what the plugin's write_force receives rises while the skin is loaded and drops at
 * the pop. A plugin of another ABI version is refused with a message. */
#include <dlfcn.h>
#include <pthread.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "driver.h"
#include "haptics.h"
#include "haptics_seq.h"
#include "needle.h"
#include "phantom.h"
#include "scenario.h"

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

static void set_key(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= 1u << k;
}

static void needle_in(driver *d, double mm)
{
    action a = {.verb = ACT_NEEDLE_ENTRY};
    set_key(&a, AK_X, 0.0), set_key(&a, AK_Y, -2.0), set_key(&a, AK_ANGLE, 30.0), set_key(&a, AK_AZIMUTH, 90.0);
    driver_push(d, &a);
    memset(&a, 0, sizeof a);
    a.verb = ACT_ADVANCE;
    set_key(&a, AK_MM, mm);
    driver_push(d, &a);
    driver_step(d, 0.1);
}

static void test_force_terms(void **state)
{
    (void)state;
    scenario sc;
    driver *d = make_driver(&sc);
    action pr = {.verb = ACT_PROBE};
    set_key(&pr, AK_PRESSURE, 3.0);
    driver_push(d, &pr);
    needle_in(d, 2.5);
    haptics_def def = haptics_default_def();
    const driver_snapshot *s = driver_acquire(d);
    assert_true(needle_in_skin(s->needle));
    double e[3], dir[3];
    needle_entry_mm(s->needle, e);
    needle_dir(s->needle, dir);
    haptics_pose p = {.has_needle = true, .velocity_mm_s = 1.0};
    for (int i = 0; i < 3; i++) {
        p.tip_mm[i] = e[i] + 2.0 * dir[i];
        p.dir[i] = dir[i];
    }
    /* On the line: the axial force only, against the direction of travel. */
    haptics_force f;
    haptics_compute(&def, s, &p, &f);
    double ax = needle_force_n(s->needle, 1.0);
    assert_true(ax > 0.0);
    assert_true(fabs(f.axial_n - ax) < 1e-12);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(f.needle_n[i] + ax * dir[i]) < 1e-9);
    assert_true(f.lateral_n < 1e-9);

    /* 0.4 mm off the line (across it, in the skin plane): a spring back toward it, k x inserted
     * x offset. */
    double across[3] = {dir[1], -dir[0], 0.0}, len = hypot(dir[0], dir[1]);
    for (int i = 0; i < 3; i++)
        p.tip_mm[i] += 0.4 * across[i] / len;
    haptics_compute(&def, s, &p, &f);
    double want = def.lateral_n_mm2 * needle_inserted_mm(s->needle) * 0.4;
    assert_true(fabs(f.lateral_n - want) < 1e-9);
    double back = 0.0;
    for (int i = 0; i < 3; i++)
        back += f.needle_n[i] * across[i] / len;
    assert_true(fabs(back + want) < 1e-9);
    /* Twice as far: twice the spring. */
    for (int i = 0; i < 3; i++)
        p.tip_mm[i] += 0.4 * across[i] / len;
    haptics_force f2;
    haptics_compute(&def, s, &p, &f2);
    assert_true(fabs(f2.lateral_n - 2.0 * want) < 1e-9);

    /* The safety clamp. */
    def.max_force_n = 0.01;
    haptics_compute(&def, s, &p, &f2);
    double m = sqrt(f2.needle_n[0] * f2.needle_n[0] + f2.needle_n[1] * f2.needle_n[1] +
                    f2.needle_n[2] * f2.needle_n[2]);
    assert_true(fabs(m - 0.01) < 1e-9);
    def = haptics_default_def();

    /* No tracked needle: no needle force. A pressed probe: its pressure along the normal. */
    p.has_needle = false;
    p.has_probe = true;
    haptics_compute(&def, s, &p, &f);
    assert_true(fabs(f.needle_n[0]) + fabs(f.needle_n[1]) + fabs(f.needle_n[2]) == 0.0);
    double n[3];
    phantom_surface_normal(s->anatomy, s->pose.x_mm, s->pose.y_mm, n);
    for (int i = 0; i < 3; i++)
        assert_true(fabs(f.probe_n[i] - s->pose.pressure_n * n[i]) < 1e-9);
    assert_true(s->pose.pressure_n > 0.0 && f.probe_n[2] < 0.0); /* pushes the hand up, out */
    driver_release(d, s);
    driver_destroy(d);
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void sleep_s(double v)
{
    struct timespec t = {.tv_sec = (time_t)v, .tv_nsec = (long)((v - floor(v)) * 1e9)};
    nanosleep(&t, NULL);
}

static void test_thread_runs(void **state)
{
    (void)state;
    scenario sc;
    driver *d = make_driver(&sc);
    needle_in(d, 1.0);
    haptics_def def = haptics_default_def();
    def.d = d;
    haptics_tick ticks[2000];
    def.ticks = ticks;
    def.tick_cap = 2000;
    char err[256];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    haptics *h = haptics_create(&def, err, sizeof err);
    assert_non_null(h);
    sleep_s(0.5);
    haptics_stats st = haptics_get_stats(h);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    haptics_destroy(h);
    /* Each tick recorded: deadlines a period apart or more (after a miss it starts again from
     * now), the wake-up never after the force was handed on. */
    long n = st.ticks < 2000 ? (long)st.ticks : 2000;
    assert_true(n > 1);
    for (long i = 0; i < n; i++) {
        assert_true(ticks[i].wake_ms >= 0.0f && ticks[i].wake_ms <= ticks[i].late_ms);
        if (i > 0)
            assert_true(ticks[i].at_s - ticks[i - 1].at_s > 0.999e-3);
    }
    /* It ran, and never faster than its rate: at 1 kHz at most one tick a millisecond of the
     * time it was measured over (the sleep may run long on a loaded machine; how close it gets
     * is the benchmark's business, not a test's). */
    double ran_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
    assert_true(st.ticks > 0 && (double)st.ticks <= ran_ms + 2.0);
    assert_true(st.last.t_s > 0.0); /* it computed forces on the session's snapshots */
    def.rate_hz = 0.0;
    assert_null(haptics_create(&def, err, sizeof err));
    assert_non_null(strstr(err, "rate"));
    driver_destroy(d);
}

/* The sequence lock hands whole values across: a writer stores structs whose fields all hold
 * its counter, as fast as it can; every copy a reader gets is one of them, never two halves,
 * and the counters it sees never go back. (Under the ThreadSanitizer build, also no race.) */
typedef struct seq_value {
    uint64_t a[7];
    uint8_t tail[5]; /* a size that is not a whole number of words */
} seq_value;

typedef struct seq_box {
    uint64_t seq, words[HAPTICS_SEQ_WORDS(seq_value)];
    int stop;
    long long written;
} seq_box;

static void *seq_writer(void *arg)
{
    seq_box *b = arg;
    seq_value v;
    for (uint64_t n = 1; !__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE); n++) {
        for (int i = 0; i < 7; i++)
            v.a[i] = n;
        memset(v.tail, (int)(n & 0xff), sizeof v.tail);
        haptics_seq_write(&b->seq, b->words, &v, sizeof v);
        __atomic_store_n(&b->written, (long long)n, __ATOMIC_RELEASE);
    }
    return NULL;
}

static void test_sequence_lock(void **state)
{
    (void)state;
    seq_box b;
    memset(&b, 0, sizeof b);
    seq_value v;
    /* Before any write: the zero value, version 0. */
    uint64_t ver = 1;
    assert_true(haptics_seq_try_read(&b.seq, b.words, &v, sizeof v, &ver));
    assert_true(ver == 0 && v.a[0] == 0);
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, seq_writer, &b), 0);
    uint64_t last = 0;
    long long reads = 0, torn_tries = 0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do {
        if (!haptics_seq_try_read(&b.seq, b.words, &v, sizeof v, NULL)) {
            torn_tries++;
            continue;
        }
        reads++;
        for (int i = 1; i < 7; i++)
            assert_true(v.a[i] == v.a[0]);
        for (size_t i = 0; i < sizeof v.tail; i++)
            assert_int_equal(v.tail[i], (uint8_t)(v.a[0] & 0xff));
        assert_true(v.a[0] >= last);
        last = v.a[0];
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) * 1e-9 < 0.3);
    __atomic_store_n(&b.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    /* The blocking read after the writer is done: its last value. */
    ver = haptics_seq_read(&b.seq, b.words, &v, sizeof v);
    assert_true(v.a[0] == (uint64_t)b.written && ver == 2 * (uint64_t)b.written);
    print_message("%lld whole reads of values up to %llu (%lld tries met a write)\n", reads,
                  (unsigned long long)last, torn_tries);
    assert_true(reads > 0 && b.written > 0);
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

static void test_plugin_session(void **state)
{
    (void)state;
    char err[512];
    void *lib;
    const haptic_plugin *pl = haptics_plugin_load(SIM_PEN_PATH, &lib, err, sizeof err);
    if (!pl)
        fail_msg("%s", err);
    void *dev = pl->open("speed_mm_s=2,depth_mm=2.5,start_mm=1", err, sizeof err);
    assert_non_null(dev);
    assert_null(pl->open("speed_mm_s=fast", err, sizeof err));
    assert_non_null(strstr(err, "speed_mm_s"));

    scenario sc;
    driver *d = make_driver(&sc);
    haptics_def def = haptics_default_def();
    def.d = d;
    def.plugin = pl;
    def.plugin_dev = dev;
    double t0 = now_s();
    haptics *h = haptics_create(&def, err, sizeof err);
    assert_non_null(h);
    bool popped = false;
    /* The window's part: step at 60 Hz while the pen inserts (1 mm back, 2.5 mm in, 2 mm/s). */
    while (now_s() - t0 < 2.4) {
        int n = driver_step(d, now_s() - t0);
        const session_event *ev = driver_events(d, &n);
        for (int i = 0; i < n; i++)
            popped |= ev[i].kind == SEV_SKIN_POPPED;
        sleep_s(1.0 / 60.0);
    }
    haptics_stats st = haptics_get_stats(h);
    haptics_destroy(h);
    assert_true(popped);
    assert_int_equal(st.tool_entries, 1);
    assert_int_equal(st.plugin_errors, 0);
    assert_true(st.plugin_poses > 1000);
    const driver_snapshot *s = driver_acquire(d);
    assert_true(needle_in_skin(s->needle));
    assert_true(fabs(needle_angle_deg(s->needle) - 30.0) < 0.05);
    driver_release(d, s);

    int (*forces)(const double (**)[4]);
    void *sym = dlsym(lib, "sim_pen_forces");
    assert_non_null(sym);
    memcpy(&forces, &sym, sizeof forces);
    const double(*rows)[4];
    int n = forces(&rows);
    assert_true(n > 1000);
    int peak = 0;
    static double mag[60000];
    assert_true(n <= 60000);
    for (int i = 0; i < n; i++) {
        mag[i] = sqrt(rows[i][1] * rows[i][1] + rows[i][2] * rows[i][2] + rows[i][3] * rows[i][3]);
        if (mag[i] > mag[peak])
            peak = i;
    }
    assert_true(mag[0] < 1e-9);     /* in the air */
    assert_true(mag[peak] > 0.2);   /* the skin resisted */
    int first = 0;
    while (first < peak && mag[first] < 1e-6)
        first++;
    assert_true(rising(mag, first, peak)); /* it rose to the peak */
    double after = 1e9;
    for (int i = peak + 1; i < n && i < peak + 200; i++)
        after = mag[i] < after ? mag[i] : after;
    assert_true(after < 0.5 * mag[peak]); /* and dropped at the pop */
    pl->close(dev);
    haptics_plugin_unload(lib);
    driver_destroy(d);

    /* Another ABI version, or not a plugin: refused with the reason. */
    assert_null(haptics_plugin_load(BAD_ABI_PATH, &lib, err, sizeof err));
    assert_non_null(strstr(err, "another ABI version"));
    assert_null(haptics_plugin_load("/nonexistent/plugin.so", &lib, err, sizeof err));
    assert_non_null(strstr(err, "cannot load"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_force_terms),
        cmocka_unit_test(test_thread_runs),
        cmocka_unit_test(test_sequence_lock),
        cmocka_unit_test(test_plugin_session),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
