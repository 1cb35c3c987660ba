/* mesosim bench --haptics and --igtl: what the device paths cost, measured, never asserted in a
 * test (docs/devices.md has the figures).
 *
 * --haptics: the 1 kHz loop (haptics.h) on a session with the needle in the dermis, a tracked
 * pose moving along it, while the main thread renders the standard frame back to back (the
 * window's worst case); every tick's time is kept. A missed deadline is a tick that ended after
 * the next one was due. The worst wake-ups are listed with their times, the system's part apart
 * from the tick's work, so a run on a quiet machine can tell an OS stall from the loop's own.
 * --igtl: one client on 127.0.0.1 sends TRANSFORMs at 1000 per second (absolute deadlines) for
 * N s; the server's count of poses received against what was sent. Then one client reads the
 * IMAGE stream while the main thread renders and sends the standard frame as fast as it can. */
#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "bmode.h"
#include "cli_util.h"
#include "commands.h"
#include "driver.h"
#include "haptics.h"
#ifdef MESOSIM_IGTL
#include "igtl_msg.h"
#include "igtl_server.h"
#endif

static double now_s(void) { return bench_now_ms() * 1e-3; }


/* The options of --haptics and --igtl; CLI_ARGS_CONTINUE or the exit status. */
static int parse_opts(int argc, char **argv, const char *mode, long *seconds, bool *json)
{
    const cli_option opts[] = {
        CLI_LONG("--seconds", seconds, 1, 3600),
        CLI_FLAG("--json", json),
    };
    char command[32];
    snprintf(command, sizeof command, "mesosim bench %s", mode);
    return cli_parse_args(&(cli_args_def){.command = command, .options = opts, .n_options = CLI_N_OPTIONS(opts),
                                          .skip = mode},
                          argc, argv);
}

static void set_key(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= 1u << k;
}

/* The standard frame's session: the default case, the standard probe, the needle in the dermis. */
static driver *bench_session(scenario *sc)
{
    const char *path = cli_default_scenario_path();
    if (!path || !cli_load_scenario(path, sc))
        return NULL;
    sc->probe = probe_default_def();
    driver_def dd = driver_default_def();
    dd.sc = sc;
    dd.simulator_version = MESOSIM_VERSION;
    char err[256];
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mesosim bench: %s\n", err);
        return NULL;
    }
    action a = {.verb = ACT_NEEDLE_ENTRY};
    set_key(&a, AK_X, 0.0), set_key(&a, AK_Y, -2.0), set_key(&a, AK_ANGLE, 30.0), set_key(&a, AK_AZIMUTH, 90.0);
    driver_push(d, &a);
    memset(&a, 0, sizeof a);
    a.verb = ACT_ADVANCE;
    set_key(&a, AK_MM, 2.5);
    driver_push(d, &a);
    driver_step(d, 0.0);
    return d;
}

/* One standard frame from the newest snapshot; returns its time in ms. */
static double render_once(driver *d, bmode *bm)
{
    double t0 = now_s();
    const driver_snapshot *s = driver_acquire(d);
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    driver_snapshot_scene(s, &scene, dyn);
    bmode_image img;
    char err[256];
    bmode_render(bm, &scene, &img, err, sizeof err);
    driver_release(d, s);
    return (now_s() - t0) * 1e3;
}

/* The latest wake-ups: a late wake-up with little work is the system's stall (another task on
 * the core, an interrupt, the container's CPU quota), a slow tick on time is the loop's own.
 * Their times let a run be set beside what else the machine did then. */
#define WORST_WAKEUPS 10

typedef struct worst {
    long at[WORST_WAKEUPS]; /* tick indexes, latest wake-up first */
    int n;
    long over_half_ms;
} worst;

static void worst_wakeups(const haptics_tick *t, long n, worst *w)
{
    memset(w, 0, sizeof *w);
    for (long i = 0; i < n; i++) {
        if (t[i].wake_ms > 0.5f)
            w->over_half_ms++;
        int k;
        if (w->n < WORST_WAKEUPS)
            k = w->n++;
        else if (t[w->at[WORST_WAKEUPS - 1]].wake_ms < t[i].wake_ms)
            k = WORST_WAKEUPS - 1; /* the last one makes room */
        else
            continue;
        for (; k > 0 && t[w->at[k - 1]].wake_ms < t[i].wake_ms; k--)
            w->at[k] = w->at[k - 1];
        w->at[k] = i;
    }
}

int bench_haptics(int argc, char **argv)
{
    long seconds = 60;
    bool json = false;
    int parsed = parse_opts(argc, argv, "--haptics", &seconds, &json);
    if (parsed != CLI_ARGS_CONTINUE)
        return parsed;
    scenario sc;
    driver *d = bench_session(&sc);
    bmode_def bd = bmode_default_def();
    bd.display_only = 1;
    bmode *bm = d ? bmode_create(&bd) : NULL;
    long cap = seconds * 1000 + 1000;
    haptics_tick *ticks = malloc((size_t)cap * sizeof *ticks);
    double *late = malloc((size_t)cap * sizeof *late);
    if (!d || !bm || !ticks || !late) {
        fprintf(stderr, "mesosim bench: cannot set up the session\n");
        return 1;
    }
    haptics_def hd = haptics_default_def();
    hd.d = d;
    hd.ticks = ticks;
    hd.tick_cap = cap;
    hd.lock_memory = true;
    char err[256];
    haptics *h = haptics_create(&hd, err, sizeof err);
    if (!h) {
        fprintf(stderr, "mesosim bench: %s\n", err);
        return 1;
    }
    const driver_snapshot *s0 = driver_acquire(d);
    double e[3], dir[3];
    needle_entry_mm(s0->needle, e);
    needle_dir(s0->needle, dir);
    driver_release(d, s0);
    double t0 = now_s(), t = 0.0;
    long frames = 0;
    double frame_ms = 0.0;
    while ((t = now_s() - t0) < (double)seconds) {
        /* The hand wobbles a little about the needle's line: the lateral spring works too. */
        haptics_pose p = {.t_s = t, .has_needle = true, .velocity_mm_s = 0.5 * sin(t)};
        for (int i = 0; i < 3; i++) {
            p.tip_mm[i] = e[i] + 2.0 * dir[i];
            p.dir[i] = dir[i];
        }
        p.tip_mm[0] += 0.2 * sin(3.0 * t);
        haptics_set_pose(h, &p);
        frame_ms += render_once(d, bm);
        frames++;
        driver_step(d, t);
    }
    double elapsed = now_s() - t0;
    haptics_stats st = haptics_get_stats(h);
    haptics_destroy(h);
    long n = st.ticks < cap ? (long)st.ticks : cap;
    worst w;
    worst_wakeups(ticks, n, &w);
    for (long i = 0; i < n; i++)
        late[i] = ticks[i].late_ms;
    double p50 = bench_percentile(late, n, 0.5), p99 = bench_percentile(late, n, 0.99), mx = bench_percentile(late, n, 1.0);
    double rate = (double)st.ticks / elapsed;
    char cpu[32];
    snprintf(cpu, sizeof cpu, st.cpu >= 0 ? "core %d" : "not pinned", st.cpu);
    if (json) {
        printf("{\"rate_hz\":%.1f,\"p50_ms\":%.4f,\"p99_ms\":%.4f,\"max_ms\":%.4f,\"missed_deadlines\":%lld,"
               "\"work_max_ms\":%.4f,\"realtime\":%s,\"memory_locked\":%s,\"cpu\":%d,\"timer_slack_1ns\":%s,"
               "\"spin_us\":%.0f,\"ticks\":%lld,\"seconds\":%.1f,\"frames_rendered\":%ld,\"frame_ms_mean\":%.2f,"
               "\"wakeups_over_0_5ms\":%ld,\"worst_wakeups\":[",
               rate, p50, p99, mx, st.missed_deadlines, st.max_tick_ms, st.realtime ? "true" : "false",
               st.memory_locked ? "true" : "false", st.cpu, st.timer_slack ? "true" : "false", hd.spin_us, st.ticks,
               elapsed, frames, frame_ms / (double)frames, w.over_half_ms);
        for (int k = 0; k < w.n; k++)
            printf("%s{\"at_s\":%.4f,\"wake_ms\":%.4f,\"work_ms\":%.4f}", k ? "," : "", ticks[w.at[k]].at_s,
                   ticks[w.at[k]].wake_ms, ticks[w.at[k]].late_ms - ticks[w.at[k]].wake_ms);
        printf("]}\n");
    } else {
        printf("haptics loop (%s, memory %s, %s, timer slack %s, last %.0f us spun): %.1f Hz over %.1f s "
               "(%lld ticks); deadline to force p50 %.4f ms, p99 %.4f ms, max %.4f ms; %lld missed deadlines; "
               "the work itself at most %.4f ms\n"
               "meanwhile %ld standard frames rendered, %.2f ms each\n",
               st.realtime ? "SCHED_FIFO" : "ordinary thread", st.memory_locked ? "locked" : "not locked", cpu,
               st.timer_slack ? "1 ns" : "default", hd.spin_us, rate, elapsed, st.ticks, p50, p99, mx,
               st.missed_deadlines, st.max_tick_ms, frames, frame_ms / (double)frames);
        printf("wake-ups later than 0.5 ms: %ld; the worst (the system's part, then the tick's own work):\n",
               w.over_half_ms);
        for (int k = 0; k < w.n; k++)
            printf("  at %8.3f s: woke %.3f ms late, then %.3f ms of work\n", ticks[w.at[k]].at_s,
                   ticks[w.at[k]].wake_ms, ticks[w.at[k]].late_ms - ticks[w.at[k]].wake_ms);
    }
    free(late);
    free(ticks);
    bmode_destroy(bm);
    driver_destroy(d);
    return 0;
}

#ifdef MESOSIM_IGTL
static void sleep_s(double s)
{
    struct timespec t = {.tv_sec = (time_t)s, .tv_nsec = (long)((s - floor(s)) * 1e9)};
    nanosleep(&t, NULL);
}

typedef struct sender {
    int port;
    long seconds;
    long long sent;
    int failed;
} sender;

static int connect_local(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const uint8_t *b, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        b += w, n -= (size_t)w;
    }
    return true;
}

/* 1000 TRANSFORMs a second to absolute deadlines: a needle sliding in and out along its line. */
static void *send_loop(void *arg)
{
    sender *s = arg;
    int fd = connect_local(s->port);
    if (fd < 0) {
        s->failed = 1;
        return NULL;
    }
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    double r[3][3] = {{1, 0, 0}, {0, 0.8660254, -0.5}, {0, 0.5, 0.8660254}};
    for (long k = 0; k < s->seconds * 1000; k++) {
        double depth = 1.5 + 1.0 * sin((double)k * 0.002);
        double t[3] = {0.0, -2.0 + depth * 0.8660254, depth * 0.5};
        uint8_t buf[128];
        size_t n = igtl_msg_pack_transform(buf, sizeof buf, "Needle", igtl_msg_timestamp((double)k * 1e-3), (const double(*)[3])r, t);
        if (!send_all(fd, buf, n)) {
            s->failed = 1;
            break;
        }
        s->sent++;
        next.tv_nsec += 1000000L;
        if (next.tv_nsec >= 1000000000L)
            next.tv_nsec -= 1000000000L, next.tv_sec++;
        clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
    }
    /* Let the server read the last ones before the count is taken. */
    sleep_s(0.2);
    close(fd);
    return NULL;
}

typedef struct receiver {
    int fd;
    int stop;
    long long images, bytes;
} receiver;

/* Counts whole IMAGE messages in the stream (header, then the body skipped). */
static void *recv_loop(void *arg)
{
    receiver *r = arg;
    uint8_t buf[65536];
    uint64_t need = IGTL_MSG_HEADER_BYTES, have = 0;
    uint8_t hdr[IGTL_MSG_HEADER_BYTES];
    bool in_body = false;
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
        ssize_t n = recv(r->fd, buf, sizeof buf, 0);
        if (n <= 0)
            continue;
        r->bytes += n;
        for (ssize_t i = 0; i < n;) {
            uint64_t k = need - have < (uint64_t)(n - i) ? need - have : (uint64_t)(n - i);
            if (!in_body)
                memcpy(hdr + have, buf + i, (size_t)k);
            have += k, i += (ssize_t)k;
            if (have < need)
                continue;
            if (!in_body) {
                uint64_t body = 0;
                for (int b = 0; b < 8; b++)
                    body = body << 8 | hdr[42 + b];
                if (!memcmp(hdr + 2, "IMAGE", 6))
                    r->images++;
                need = body, have = 0, in_body = body > 0;
            } else {
                need = IGTL_MSG_HEADER_BYTES, have = 0, in_body = false;
            }
        }
    }
    return NULL;
}

int bench_igtl(int argc, char **argv)
{
    long seconds = 10;
    bool json = false;
    int parsed = parse_opts(argc, argv, "--igtl", &seconds, &json);
    if (parsed != CLI_ARGS_CONTINUE)
        return parsed;
    scenario sc;
    driver *d = bench_session(&sc);
    if (!d)
        return 1;
    igtl_server_def sd = igtl_server_default_def();
    sd.d = d;
    sd.port = 0;
    char err[256];
    igtl_server *srv = igtl_server_create(&sd, err, sizeof err);
    if (!srv) {
        fprintf(stderr, "mesosim bench: %s\n", err);
        return 1;
    }
    /* Transforms in: the owner steps the session at 60 Hz meanwhile, as the window would. */
    sender snd = {.port = igtl_server_port(srv), .seconds = seconds};
    pthread_t th;
    pthread_create(&th, NULL, send_loop, &snd);
    double t0 = now_s();
    while (now_s() - t0 < (double)seconds + 0.3) {
        driver_step(d, now_s() - t0);
        sleep_s(0.016667);
    }
    pthread_join(th, NULL);
    igtl_server_stats st = igtl_server_get_stats(srv);
    long long received = st.received;
    double tf_rate = (double)snd.sent / (double)seconds;

    /* Images out: render and send back to back for the same time. */
    bmode_def bd = bmode_default_def();
    bd.display_only = 1;
    bmode *bm = bmode_create(&bd);
    receiver rcv = {.fd = connect_local(igtl_server_port(srv))};
    if (!bm || rcv.fd < 0) {
        fprintf(stderr, "mesosim bench: cannot set up the image stream\n");
        return 1;
    }
    sleep_s(0.1);
    pthread_create(&th, NULL, recv_loop, &rcv);
    long long images_before = igtl_server_get_stats(srv).images_sent;
    t0 = now_s();
    long frames = 0;
    int cols = 0, rows = 0;
    while (now_s() - t0 < (double)seconds) {
        const driver_snapshot *s = driver_acquire(d);
        phantom_inclusion dyn[BMODE_MAX_DYN];
        bmode_scene scene;
        driver_snapshot_scene(s, &scene, dyn);
        bmode_image img;
        if (bmode_render(bm, &scene, &img, err, sizeof err) == 0) {
            igtl_image_geometry g = {.spacing_mm = {img.dx_mm, img.dz_mm}, .u = {1, 0, 0}, .v = {0, 1, 0},
                                     .w = {0, 0, 1}};
            igtl_server_send_image(srv, img.pixels, img.cols, img.rows, &g);
            cols = img.cols, rows = img.rows;
            frames++;
        }
        driver_release(d, s);
    }
    double img_s = now_s() - t0;
    sleep_s(0.3);
    __atomic_store_n(&rcv.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    close(rcv.fd);
    st = igtl_server_get_stats(srv);
    double fps = (double)rcv.images / img_s;
    if (json)
        printf("{\"transforms_sent\":%lld,\"transforms_received\":%lld,\"transforms_lost\":%lld,"
               "\"transform_rate_hz\":%.1f,\"sender_failed\":%s,\"image_fps\":%.1f,\"images_rendered\":%ld,"
               "\"images_received\":%lld,\"images_dropped_slow_client\":%lld,\"image_cols\":%d,\"image_rows\":%d}\n",
               snd.sent, received, snd.sent - received, tf_rate, snd.failed ? "true" : "false", fps, frames,
               rcv.images, st.send_dropped, cols, rows);
    else
        printf("TRANSFORM in: %lld sent (%.1f/s), %lld received, %lld lost%s\n"
               "IMAGE out (%d x %d): %ld rendered and sent, %lld received in %.1f s: %.1f fps "
               "(%lld queued past a full client, %lld images packed)\n",
               snd.sent, tf_rate, received, snd.sent - received, snd.failed ? " (the sender failed)" : "", cols,
               rows, frames, rcv.images, img_s, fps, st.send_dropped, st.images_sent - images_before);
    igtl_server_destroy(srv);
    bmode_destroy(bm);
    driver_destroy(d);
    return 0;
}
#else
int bench_igtl(int argc, char **argv)
{
    (void)argc, (void)argv;
    fprintf(stderr, "mesosim bench --igtl: this build has no OpenIGTLink (install libopenigtlink-dev)\n");
    return 2;
}
#endif
