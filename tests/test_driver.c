/* The session driver: the demo's report is pinned (a change that re-scores stored sessions
 * must change GOLDEN_* on purpose, with the reason in the commit); typed events match the
 * geometry they report; a reader thread takes snapshots while the owner applies actions and
 * presses the probe (run under ThreadSanitizer in CI) and never waits long; continuous device
 * motion is decimated and its log replays to the same report; the log file sink writes the
 * version-2 header and replays; dynamic objects are not capped. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "action_log.h"
#include "actions.h"
#include "driver.h"
#include "physics_util.h"
#include "scenario.h"

#define PI 3.14159265358979323846

/* The demo session's report (docs/scoring.md) with its simulator_version line removed, FNV-1a
 * 64, and its state hash. Pinned as Box2D pins EXPECTED_HASH: change only on purpose. */
#define GOLDEN_REPORT_FNV 0x296ff326d86a9b6cULL
#define GOLDEN_STATE_HASH "a1f5237eb2aa0883"

static const char *demo_path(void) { return MESOSIM_SOURCE_DIR "/scenarios/sessions/adult_back_demo.jsonl"; }

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static driver *make_driver(const scenario *sc)
{
    driver_def dd = driver_default_def();
    dd.sc = sc;
    dd.simulator_version = "test";
    char err[256];
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d)
        fail_msg("driver_create: %s", err);
    return d;
}

/* Plays a list through a driver the way `mesosim run` does; returns the report. */
static char *play(const scenario *sc, const action_list *al, driver **keep)
{
    driver *d = make_driver(sc);
    for (int i = 0; i < al->count; i++) {
        if (al->items[i].verb == ACT_END) {
            driver_finish(d, al->items[i].t_s, true);
            break;
        }
        assert_true(driver_push(d, &al->items[i]));
        driver_step(d, al->items[i].t_s);
        int n;
        const session_event *ev = driver_events(d, &n);
        for (int k = 0; k < n; k++)
            if (ev[k].kind == SEV_ACTION_REFUSED)
                fail_msg("line %d refused: %s", ev[k].line, ev[k].message);
    }
    driver_finish(d, session_time_s(driver_session(d)), true);
    char *r = driver_report_json(d);
    assert_non_null(r);
    if (keep)
        *keep = d;
    else
        driver_destroy(d);
    return r;
}

static uint64_t fnv_without_version(const char *text)
{
    uint64_t h = 1469598103934665603ULL;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
        if (!strstr(p, "\"simulator_version\"") || (nl && strstr(p, "\"simulator_version\"") > nl))
            for (size_t i = 0; i < len; i++) {
                h ^= (unsigned char)p[i];
                h *= 1099511628211ULL;
            }
        p += len;
    }
    return h;
}

static void test_golden_demo(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    action_list al;
    assert_true(actions_load_file(demo_path(), &al));
    assert_int_equal(al.header.version, 1); /* the demo is a version-1 log: it still replays */
    char *r = play(&sc, &al, NULL);
    uint64_t h = fnv_without_version(r);
    const char *st = strstr(r, "\"state_hash\": \"");
    assert_non_null(st);
    char state_hash[17];
    memcpy(state_hash, st + 15, 16);
    state_hash[16] = '\0';
    printf("demo report: fnv %016llx (pinned %016llx), state hash %s (pinned %s)\n",
           (unsigned long long)h, (unsigned long long)GOLDEN_REPORT_FNV, state_hash, GOLDEN_STATE_HASH);
    assert_string_equal(state_hash, GOLDEN_STATE_HASH);
    assert_true(h == GOLDEN_REPORT_FNV);
    assert_non_null(strstr(r, "\"pass\": true"));
    free(r);
    actions_free(&al);
}

/* Every event of the demo against the world it describes. */
static void test_events_typed(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    action_list al;
    assert_true(actions_load_file(demo_path(), &al));
    driver *d = make_driver(&sc);
    int count[SEV_COUNT] = {0}, popped = 0;
    phantom *anat = phantom_create(&sc.phantom, NULL, 0);
    assert_non_null(anat);
    for (int i = 0; i <= al.count; i++) {
        if (i == al.count || al.items[i].verb == ACT_END) {
            driver_finish(d, i < al.count ? al.items[i].t_s : 1e3, true);
        } else {
            driver_push(d, &al.items[i]);
            driver_step(d, al.items[i].t_s);
        }
        int n;
        const session_event *ev = driver_events(d, &n);
        for (int k = 0; k < n; k++) {
            const session_event *e = &ev[k];
            count[e->kind]++;
            popped += e->kind == SEV_LAYER_ENTERED && e->value > 0;
            if (e->kind == SEV_LAYER_ENTERED) {
                /* The layer named is the layer at the point named (static anatomy, the probe's
                 * pressure of the moment). */
                const driver_snapshot *s = driver_acquire(d);
                phantom_sample ps = phantom_at(anat, e->p_mm, s->pose.pressure_n, NULL, 0);
                driver_release(d, s);
                assert_int_equal(ps.layer, e->layer);
                assert_int_equal(ps.tissue, e->tissue);
            }
            if (e->kind == SEV_INJECTION_STARTED || e->kind == SEV_INJECTION_ENDED)
                assert_int_equal(e->verdict, VERDICT_INTRADERMAL);
            if (e->kind == SEV_INJECTION_ENDED)
                assert_true(fabs(e->value - sc.drug.volume_ml) < 1e-9);
            if (driver_finished(d))
                break;
        }
        if (driver_finished(d))
            break;
    }
    for (int k = 0; k < SEV_COUNT; k++)
        printf("  %-18s %d\n", session_event_name((session_event_kind)k), count[k]);
    assert_int_equal(count[SEV_INJECTION_STARTED], 2);
    assert_int_equal(count[SEV_INJECTION_ENDED], 2);
    assert_int_equal(count[SEV_NEEDLE_PLACED], count[SEV_SKIN_POPPED]);
    assert_true(count[SEV_SKIN_DENTED] >= 1);
    assert_true(count[SEV_LAYER_ENTERED] >= 2); /* epidermis, dermis at least */
    assert_int_equal(count[SEV_STEP_DONE], STEP_COUNT);
    assert_int_equal(count[SEV_SESSION_ENDED], 1);
    assert_int_equal(count[SEV_ADVERSE], 0);
    assert_int_equal(count[SEV_ACTION_REFUSED], 0);
    const driver_snapshot *s = driver_acquire(d);
    /* Every pop the metrics count is one layer_entered event that says it broke in. */
    assert_true(s->metrics.pops > 0);
    assert_int_equal(s->metrics.pops, popped);
    driver_release(d, s);
    /* A refused action is an event with its reason and line, not a silent no-op. */
    phantom_destroy(anat);
    driver_destroy(d);
    d = make_driver(&sc);
    action a = {.t_s = 1.0, .verb = ACT_ADVANCE, .line = 7};
    a.v[AK_MM] = 1.0;
    a.has = 1u << AK_MM;
    driver_push(d, &a);
    driver_step(d, 1.0);
    int n;
    const session_event *ev = driver_events(d, &n);
    assert_int_equal(n, 1);
    assert_int_equal(ev[0].kind, SEV_ACTION_REFUSED);
    assert_int_equal(ev[0].line, 7);
    assert_non_null(strstr(ev[0].message, "needle"));
    action off = {.t_s = 1.5, .verb = ACT_PROBE};
    off.v[AK_X] = 90.0;
    off.has = 1u << AK_X;
    driver_push(d, &off);
    driver_step(d, 1.5);
    ev = driver_events(d, &n);
    assert_int_equal(n, 2);
    assert_int_equal(ev[0].kind, SEV_PROBE_OFF_PATCH);
    assert_int_equal(ev[1].kind, SEV_ACTION_REFUSED);
    driver_destroy(d);
    actions_free(&al);
}

typedef struct reader_ctx {
    driver *d;
    volatile int stop;
    long long reads;
    double max_wait_ms;
    uint64_t last_seq;
    int bad;
} reader_ctx;

/* What a haptics thread or a renderer does: take the newest snapshot, use it, give it back. */
static void *reader(void *arg)
{
    reader_ctx *c = arg;
    while (!__atomic_load_n(&c->stop, __ATOMIC_ACQUIRE)) {
        double t0 = now_ms();
        const driver_snapshot *s = driver_acquire(c->d);
        double w = now_ms() - t0;
        if (w > c->max_wait_ms)
            c->max_wait_ms = w;
        if (s->seq < c->last_seq)
            c->bad++;
        c->last_seq = s->seq;
        double f = needle_force_n(s->needle, 1.0);
        double z = phantom_surface_mm(s->display, s->pose.x_mm, s->pose.y_mm);
        if (!isfinite(f) || !isfinite(z) || s->metrics.n_inj != s->n_deposits)
            c->bad++;
        for (int i = 0; i < s->n_dyn; i++)
            if (!isfinite(s->dyn[i].c_mm[0]))
                c->bad++;
        driver_release(c->d, s);
        c->reads++;
        /* A haptics loop reads at 1 kHz, not flat out. */
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return NULL;
}

static void test_snapshot_reader_thread(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    action_list al;
    assert_true(actions_load_file(demo_path(), &al));
    driver *d = make_driver(&sc);
    reader_ctx c = {.d = d};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, reader, &c), 0);
    double t = 0.0, step_max_ms = 0.0;
    /* The demo, then the probe pressed and released with the needle in: each press rebuilds the
     * needle's track inside the step. */
    for (int i = 0; i < al.count && al.items[i].verb != ACT_END; i++) {
        driver_push(d, &al.items[i]);
        driver_step(d, al.items[i].t_s);
        t = al.items[i].t_s;
    }
    action adv = {.verb = ACT_NEEDLE_ENTRY};
    const driver_snapshot *s0 = driver_acquire(d);
    bool placed = needle_placed(s0->needle);
    driver_release(d, s0);
    if (!placed) {
        adv.t_s = t;
        adv.v[AK_X] = 0, adv.v[AK_Y] = -2, adv.v[AK_ANGLE] = 30, adv.v[AK_AZIMUTH] = 90;
        adv.has = (1u << AK_X) | (1u << AK_Y) | (1u << AK_ANGLE) | (1u << AK_AZIMUTH);
        driver_push(d, &adv);
        memset(&adv, 0, sizeof adv);
        adv.verb = ACT_ADVANCE, adv.t_s = t, adv.v[AK_MM] = 2.0, adv.has = 1u << AK_MM;
        driver_push(d, &adv);
        driver_step(d, t);
    }
    for (int k = 0; k < 1000; k++) {
        t += 0.02;
        action p = {.verb = ACT_PROBE, .t_s = t};
        p.v[AK_PRESSURE] = (k % 2) ? 6.0 : 1.0;
        p.has = 1u << AK_PRESSURE;
        driver_push(d, &p);
        double t0 = now_ms();
        driver_step(d, t);
        double ms = now_ms() - t0;
        step_max_ms = ms > step_max_ms ? ms : step_max_ms;
    }
    __atomic_store_n(&c.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    driver_stats st = driver_get_stats(d);
    printf("reader: %lld snapshots read, longest wait %.4f ms; owner: longest step with a "
           "pressure change %.3f ms, snapshot build %.4f ms last, %.4f ms max\n",
           c.reads, c.max_wait_ms, step_max_ms, st.snapshot_ms_last, st.snapshot_ms_max);
    /* Every snapshot was whole and newer than the last; the times are figures to read, not to
     * assert (mesosim bench --driver measures them). */
    assert_int_equal(c.bad, 0);
    assert_true(c.reads > 0);
    driver_destroy(d);
    actions_free(&al);
}

/* Ten minutes of a 1 kHz tracked probe sweeping the patch: the log keeps at most 60 poses a
 * second, and replaying it gives the live session's report. */
static void test_motion_decimated(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    char dir[] = "/tmp/mesosim_driver_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char log_path[256], rep_path[256];
    snprintf(log_path, sizeof log_path, "%s/motion.jsonl", dir);
    snprintf(rep_path, sizeof rep_path, "%s/motion.report.json", dir);
    driver *d = make_driver(&sc);
    recorder rec;
    char err[256];
    assert_true(alog_create(&(alog_def){.log_path = log_path, .report_path = rep_path,
                                        .comment = "# replay: mesosim run ..."}, &rec, err, sizeof err));
    assert_true(driver_add_recorder(d, &rec, err, sizeof err));
    const double seconds = 600.0;
    for (long i = 0; i <= (long)(seconds * 1000); i++) {
        double t = i / 1000.0;
        probe_pose p = sc.pose;
        p.x_mm = 12.0 * sin(2 * PI * t / 7.0);        /* a slow sweep, 11 mm/s at most */
        p.y_mm = 8.0 * sin(2 * PI * t / 23.0);
        p.rot_deg = 10.0 * sin(2 * PI * t / 31.0);
        p.pressure_n = 2.0 + 1.0 * sin(2 * PI * t / 5.0);
        driver_push_probe_pose(d, t, &p, (1u << AK_X) | (1u << AK_Y) | (1u << AK_ROT) | (1u << AK_PRESSURE));
        if (i % 16 == 0) /* the frame loop steps at about 60 Hz */
            driver_step(d, t);
    }
    driver_finish(d, seconds, true);
    driver_stats st = driver_get_stats(d);
    char *live = driver_report_json(d);
    driver_destroy(d);
    struct stat sb;
    assert_int_equal(stat(log_path, &sb), 0);
    printf("10 min of 1 kHz probe motion: %lld samples -> %lld actions, log %.2f MB (%.1f bytes/s)\n",
           st.motion_samples, st.motion_actions, sb.st_size / 1e6, sb.st_size / seconds);
    assert_true(st.motion_actions <= (long long)(seconds * 60.0) + 2);
    assert_true(st.motion_actions > (long long)(seconds * 30.0)); /* it did follow the motion */
    action_list al;
    assert_true(actions_load_file(log_path, &al));
    assert_int_equal(al.header.version, 2);
    assert_string_equal(al.header.simulator, "test");
    char hx[17];
    snprintf(hx, sizeof hx, "%016llx", (unsigned long long)scenario_content_hash(&sc));
    assert_string_equal(al.header.scenario_hash, hx);
    char *replay = play(&sc, &al, NULL);
    assert_string_equal(live, replay);
    /* The report the sink wrote is the live one. */
    FILE *f = fopen(rep_path, "r");
    assert_non_null(f);
    char *buf = calloc(1, strlen(live) + 16);
    size_t got = fread(buf, 1, strlen(live) + 8, f);
    fclose(f);
    assert_int_equal(got, strlen(live) + 1);
    assert_memory_equal(buf, live, strlen(live));
    free(buf);
    free(live);
    free(replay);
    actions_free(&al);
    unlink(log_path);
    unlink(rep_path);
    rmdir(dir);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = calloc(1, (size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    return b;
}

/* The window's log is written by the sink's own thread: the same bytes as one written in
 * place, every action in order; a log on a full disk is told as a recording failure (the
 * session goes on) and the report is still written. */
static void test_background_log(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    char dir[] = "/tmp/mesosim_bglog_XXXXXX";
    assert_non_null(mkdtemp(dir));
    char fg_log[256], bg_log[256], fg_rep[256], bg_rep[256], full_rep[256];
    snprintf(fg_log, sizeof fg_log, "%s/fg.jsonl", dir);
    snprintf(bg_log, sizeof bg_log, "%s/bg.jsonl", dir);
    snprintf(fg_rep, sizeof fg_rep, "%s/fg.report.json", dir);
    snprintf(bg_rep, sizeof bg_rep, "%s/bg.report.json", dir);
    snprintf(full_rep, sizeof full_rep, "%s/full.report.json", dir);
    driver *d = make_driver(&sc);
    recorder fg, bg;
    char err[256];
    assert_true(alog_create(&(alog_def){.log_path = fg_log, .report_path = fg_rep, .comment = "# test"}, &fg, err,
                            sizeof err));
    assert_true(alog_create(&(alog_def){.log_path = bg_log, .report_path = bg_rep, .comment = "# test",
                                        .background = true}, &bg, err, sizeof err));
    assert_true(driver_add_recorder(d, &fg, err, sizeof err));
    assert_true(driver_add_recorder(d, &bg, err, sizeof err));
    for (long i = 0; i <= 20000; i++) { /* 20 s of 1 kHz probe motion, stepped at 62.5 Hz */
        double t = i / 1000.0;
        probe_pose p = sc.pose;
        p.x_mm = 10.0 * sin(2 * PI * t / 3.0);
        p.rot_deg = 8.0 * sin(2 * PI * t / 5.0);
        driver_push_probe_pose(d, t, &p, (1u << AK_X) | (1u << AK_ROT));
        if (i % 16 == 0)
            driver_step(d, t);
        if (i == 10000) {
            /* Mid-session, flushed: the background file holds every action so far. */
            driver_flush_recorders(d);
            char *ma = slurp(fg_log), *mb = slurp(bg_log);
            assert_non_null(ma);
            assert_non_null(mb);
            assert_true(strlen(ma) > 1000);
            assert_string_equal(ma, mb);
            free(ma);
            free(mb);
        }
    }
    driver_finish(d, 20.0, true);
    driver_stats st = driver_get_stats(d);
    assert_int_equal(st.record_failures, 0);
    driver_destroy(d);
    char *a = slurp(fg_log), *b = slurp(bg_log), *ra = slurp(fg_rep), *rb = slurp(bg_rep);
    assert_non_null(a);
    assert_non_null(b);
    assert_non_null(ra);
    assert_non_null(rb);
    size_t lines = 0;
    for (const char *c = a; *c; c++)
        lines += *c == '\n';
    printf("background log: %zu lines, %zu bytes, identical to the in-place log\n", lines, strlen(a));
    assert_true(lines > 500);
    assert_string_equal(a, b);
    assert_string_equal(ra, rb);
    free(a);
    free(b);
    free(ra);
    free(rb);

    /* A disk that fills mid-session: the file-size limit stops the log at 8 kB (the header
     * fits) while the session goes on. */
    char full_log[256];
    snprintf(full_log, sizeof full_log, "%s/full.jsonl", dir);
    d = make_driver(&sc);
    recorder full;
    assert_true(alog_create(&(alog_def){.log_path = full_log, .report_path = full_rep, .background = true}, &full,
                            err, sizeof err));
    assert_true(driver_add_recorder(d, &full, err, sizeof err));
    struct rlimit old;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_IGN); /* a write past the limit fails with EFBIG instead */
    struct rlimit lim = {.rlim_cur = 8192, .rlim_max = old.rlim_max};
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    double t = 0.0;
    for (int i = 0; i < 200000 && driver_get_stats(d).record_failures == 0; i++) {
        t = i / 1000.0;
        probe_pose p = sc.pose;
        p.x_mm = 10.0 * sin(2 * PI * t / 3.0);
        driver_push_probe_pose(d, t, &p, 1u << AK_X);
        if (i % 16 == 0)
            driver_step(d, t);
        if (i % 1000 == 0)
            nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL); /* the writer runs */
    }
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, SIG_DFL);
    driver_finish(d, t + 1.0, true);
    st = driver_get_stats(d);
    printf("log past the file-size limit at %.1f s: %lld recording failures, first: %s\n", t, st.record_failures,
           st.record_error);
    assert_true(st.record_failures > 0);
    assert_non_null(strstr(st.record_error, "full.jsonl"));
    char *rep = slurp(full_rep);
    assert_non_null(rep); /* the report is still written */
    assert_non_null(strstr(rep, "\"score\""));
    free(rep);
    struct stat sb;
    assert_int_equal(stat(full_log, &sb), 0);
    assert_true(sb.st_size <= 8192);
    unlink(full_log);
    driver_destroy(d);
    unlink(fg_log);
    unlink(bg_log);
    unlink(fg_rep);
    unlink(bg_rep);
    unlink(full_rep);
    rmdir(dir);
}

/* 50 gas injections along the patch: all scored, each one seen when the probe is over it
 * (before, the 33rd object on vanished). */
static void test_no_silent_caps(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    sc.drug.kind = DRUG_OXYGEN_OZONE;
    driver *d = make_driver(&sc);
    double t = 0.0;
    const int n = 50;
    for (int i = 0; i < n; i++) {
        double x = -18.375 + 0.75 * i; /* 0.75 mm apart along the 40 mm patch */
        action a = {.verb = ACT_PROBE, .t_s = t};
        a.v[AK_X] = x;
        a.has = 1u << AK_X;
        driver_push(d, &a);
        action e = {.verb = ACT_NEEDLE_ENTRY, .t_s = t};
        e.v[AK_X] = x, e.v[AK_Y] = -2.0, e.v[AK_ANGLE] = 30, e.v[AK_AZIMUTH] = 90;
        e.has = (1u << AK_X) | (1u << AK_Y) | (1u << AK_ANGLE) | (1u << AK_AZIMUTH);
        driver_push(d, &e);
        action v = {.verb = ACT_ADVANCE, .t_s = t};
        v.v[AK_MM] = 2.6, v.has = 1u << AK_MM;
        driver_push(d, &v);
        action j = {.verb = ACT_INJECT, .t_s = t};
        j.v[AK_ML] = 0.02, j.has = 1u << AK_ML;
        driver_push(d, &j);
        t += 1.0;
        action w = {.verb = ACT_WITHDRAW, .t_s = t};
        driver_push(d, &w);
        driver_step(d, t);
        int ne;
        const session_event *ev = driver_events(d, &ne);
        for (int k = 0; k < ne; k++)
            if (ev[k].kind == SEV_ACTION_REFUSED)
                fail_msg("injection %d: %s refused: %s", i, action_verb_name(ev[k].verb), ev[k].message);
    }
    const driver_snapshot *s = driver_acquire(d);
    assert_int_equal(s->metrics.n_inj, n);
    assert_int_equal(s->n_deposits, n);
    /* Every deposit's shapes are in the snapshot, and the scene over the first one holds it. */
    int gas = 0;
    for (int i = 0; i < s->n_dyn; i++)
        gas += s->dyn[i].tissue == TISSUE_GAS;
    assert_true(gas >= n);
    driver_release(d, s);
    action back = {.verb = ACT_PROBE, .t_s = t};
    back.v[AK_X] = -18.375, back.has = 1u << AK_X;
    driver_push(d, &back);
    driver_step(d, t);
    s = driver_acquire(d);
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    int hidden = driver_snapshot_scene(s, &scene, dyn);
    assert_int_equal(hidden, 0);
    double first[3];
    memcpy(first, s->deposits[0].c_mm, sizeof first);
    bool found = false;
    for (int i = 0; i < scene.n_dyn; i++)
        if (scene.dyn[i].tissue == TISSUE_GAS && fabs(scene.dyn[i].c_mm[0] - first[0]) < 1.0)
            found = true;
    assert_true(found);
    driver_release(d, s);
    char *r = driver_report_json(d);
    int count = 0;
    for (const char *p = r; (p = strstr(p, "\"verdict\"")); p++)
        count++;
    assert_int_equal(count, n);
    free(r);
    driver_destroy(d);
}

/* A session closed before its end (the window shut mid-session) is kept and marked so. */
static void test_unfinished(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    driver *d = make_driver(&sc);
    action a = {.t_s = 2.0, .verb = ACT_STEP};
    snprintf(a.name, sizeof a.name, "positioning");
    driver_push(d, &a);
    driver_step(d, 2.0);
    driver_finish(d, 3.0, false);
    char *r = driver_report_json(d);
    assert_non_null(strstr(r, "\"finished\": false"));
    const driver_snapshot *s = driver_acquire(d);
    assert_true(s->ended && !s->finished);
    driver_release(d, s);
    free(r);
    driver_destroy(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_demo),
        cmocka_unit_test(test_events_typed),
        cmocka_unit_test(test_snapshot_reader_thread),
        cmocka_unit_test(test_motion_decimated),
        cmocka_unit_test(test_background_log),
        cmocka_unit_test(test_no_silent_caps),
        cmocka_unit_test(test_unfinished),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
