/* mesosim bench --driver: what the session driver costs its readers and its log.
 *
 * Three figures the spine issue asks for, measured, never asserted in a test:
 *   - the cost of building and publishing a snapshot per step (the demo session, then 1000
 *     probe-pressure changes with the needle in, each rebuilding the needle's track);
 *   - the longest a reader waits for a snapshot meanwhile: a reader thread at 1 kHz, as a
 *     haptics loop would run, times each driver_acquire;
 *   - the size of the action log for 10 minutes of continuous 1 kHz probe motion. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "action_log.h"
#include "bench_util.h"
#include "cli_util.h"
#include "commands.h"
#include "driver.h"

#define PI 3.14159265358979323846

#define MAX_READS 200000

typedef struct reader {
    driver *d;
    int stop;
    double *wait_ms;
    int n;
} reader;

static void *read_loop(void *arg)
{
    reader *r = arg;
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE) && r->n < MAX_READS) {
        double t0 = bench_now_ms();
        const driver_snapshot *s = driver_acquire(r->d);
        r->wait_ms[r->n++] = bench_now_ms() - t0;
        volatile double f = needle_force_n(s->needle, 1.0);
        (void)f;
        driver_release(r->d, s);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    return NULL;
}

static void set_key(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= 1u << k;
}

int bench_driver(int argc, char **argv)
{
    bool json = false;
    long presses = 1000, motion_s = 600;
    const cli_option opts[] = {
        CLI_LONG("--presses", &presses, 1, 1000000),
        CLI_LONG("--motion-seconds", &motion_s, 1, 86400),
        CLI_FLAG("--json", &json),
    };
    int parsed = cli_parse_args(&(cli_args_def){.command = "mesosim bench --driver", .options = opts,
                                                .n_options = CLI_N_OPTIONS(opts), .skip = "--driver"},
                                argc, argv);
    if (parsed != CLI_ARGS_CONTINUE)
        return parsed;
    const char *path = cli_default_scenario_path();
    scenario sc;
    if (!path || !cli_load_scenario(path, &sc))
        return 1;
    driver_def dd = driver_default_def();
    dd.sc = &sc;
    dd.simulator_version = MESOSIM_VERSION;
    char err[256];
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mesosim bench: %s\n", err);
        return 1;
    }
    /* The needle in the dermis, then the probe pressed and released. */
    action a = {.verb = ACT_NEEDLE_ENTRY};
    set_key(&a, AK_X, 0.0), set_key(&a, AK_Y, -2.0), set_key(&a, AK_ANGLE, 30.0), set_key(&a, AK_AZIMUTH, 90.0);
    driver_push(d, &a);
    memset(&a, 0, sizeof a);
    a.verb = ACT_ADVANCE;
    set_key(&a, AK_MM, 2.5);
    driver_push(d, &a);
    driver_step(d, 0.0);
    reader r = {.d = d, .wait_ms = malloc(MAX_READS * sizeof(double))};
    double *step_ms = malloc((size_t)presses * sizeof(double)), *snap_ms = malloc((size_t)presses * sizeof(double));
    if (!r.wait_ms || !step_ms || !snap_ms) {
        fprintf(stderr, "mesosim bench: out of memory\n");
        return 1;
    }
    pthread_t th;
    pthread_create(&th, NULL, read_loop, &r);
    for (long k = 0; k < presses; k++) {
        double t = 0.02 * (double)(k + 1);
        memset(&a, 0, sizeof a);
        a.verb = ACT_PROBE;
        a.t_s = t;
        set_key(&a, AK_PRESSURE, (k % 2) ? 6.0 : 1.0);
        driver_push(d, &a);
        double t0 = bench_now_ms();
        driver_step(d, t);
        step_ms[k] = bench_now_ms() - t0;
        snap_ms[k] = driver_get_stats(d).snapshot_ms_last;
    }
    __atomic_store_n(&r.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    driver_destroy(d);

    /* Ten minutes (by default) of a 1 kHz tracked probe sweeping the patch, logged. */
    char dir[] = "/tmp/mesosim_bench_XXXXXX", log[64];
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mesosim bench: cannot make a temporary directory\n");
        return 1;
    }
    snprintf(log, sizeof log, "%s/motion.jsonl", dir);
    d = driver_create(&dd, err, sizeof err);
    recorder rec;
    if (!d || !alog_create(&(alog_def){.log_path = log}, &rec, err, sizeof err) ||
        !driver_add_recorder(d, &rec, err, sizeof err)) {
        fprintf(stderr, "mesosim bench: %s\n", err);
        return 1;
    }
    for (long i = 0; i <= motion_s * 1000; i++) {
        double t = (double)i / 1000.0;
        probe_pose p = sc.pose;
        p.x_mm = 12.0 * sin(2 * PI * t / 7.0);
        p.y_mm = 8.0 * sin(2 * PI * t / 23.0);
        p.rot_deg = 10.0 * sin(2 * PI * t / 31.0);
        p.pressure_n = 2.0 + sin(2 * PI * t / 5.0);
        driver_push_probe_pose(d, t, &p, (1u << AK_X) | (1u << AK_Y) | (1u << AK_ROT) | (1u << AK_PRESSURE));
        if (i % 16 == 0)
            driver_step(d, t);
    }
    driver_finish(d, (double)motion_s, true);
    driver_stats st = driver_get_stats(d);
    driver_destroy(d);
    struct stat sb;
    long long bytes = stat(log, &sb) == 0 ? (long long)sb.st_size : -1;
    unlink(log);
    rmdir(dir);

    int nr = r.n;
    double rw_max = bench_percentile(r.wait_ms, nr, 1.0), rw_p99 = bench_percentile(r.wait_ms, nr, 0.99), rw_p50 = bench_percentile(r.wait_ms, nr, 0.5);
    double st_med = bench_percentile(step_ms, (int)presses, 0.5), st_max = bench_percentile(step_ms, (int)presses, 1.0);
    double sn_med = bench_percentile(snap_ms, (int)presses, 0.5), sn_max = bench_percentile(snap_ms, (int)presses, 1.0);
    if (json)
        printf("{\"snapshot_ms_median\":%.4f,\"snapshot_ms_max\":%.4f,\"pressure_step_ms_median\":%.3f,"
               "\"pressure_step_ms_max\":%.3f,\"reader_wait_ms_p50\":%.4f,\"reader_wait_ms_p99\":%.4f,"
               "\"reader_wait_ms_max\":%.4f,\"reads\":%d,\"motion_seconds\":%ld,\"motion_samples\":%lld,"
               "\"motion_actions\":%lld,\"log_bytes\":%lld}\n",
               sn_med, sn_max, st_med, st_max, rw_p50, rw_p99, rw_max, nr, motion_s, st.motion_samples,
               st.motion_actions, bytes);
    else
        printf("snapshot per step: median %.4f ms, max %.4f ms\n"
               "step with a probe-pressure change: median %.3f ms, max %.3f ms\n"
               "reader (1 kHz) wait for a snapshot meanwhile: p50 %.4f ms, p99 %.4f ms, max %.4f ms (%d reads)\n"
               "%ld s of 1 kHz probe motion: %lld samples -> %lld logged actions, log %.2f MB\n",
               sn_med, sn_max, st_med, st_max, rw_p50, rw_p99, rw_max, nr, motion_s, st.motion_samples,
               st.motion_actions, (double)bytes / 1e6);
    free(r.wait_ms);
    free(step_ms);
    free(snap_ms);
    return 0;
}
