/* haptics: see haptics.h. */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include "haptics.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "haptics_seq.h"
#include "needle.h"
#include "phantom.h"

haptics_def haptics_default_def(void)
{
    return (haptics_def){
        .rate_hz = 1000.0,
        .lateral_n_mm2 = 0.05,
        .max_force_n = 8.0,
        .realtime = true,
        .pin_cpu = true,
        .spin_us = 50.0,
        .plugin_calib = igtl_calibration_identity(),
        .tool = haptics_tool_default_def(),
    };
}

/* The sanitizers reserve terabytes of shadow address space: nothing to lock under them. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SANITIZED 1
#else
#define SANITIZED 0
#endif

static void clamp_vec(double v[3], double max_n)
{
    double n = sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
    if (n > max_n && n > 0.0)
        for (int i = 0; i < 3; i++)
            v[i] *= max_n / n;
}

void haptics_compute(const haptics_def *def, const driver_snapshot *s, const haptics_pose *p, haptics_force *out)
{
    memset(out, 0, sizeof *out);
    out->t_s = s->t_s;
    const needle *n = s->needle;
    if (p->has_needle && needle_placed(n)) {
        double d[3];
        needle_dir(n, d);
        double f = needle_force_n(n, p->velocity_mm_s);
        out->axial_n = f;
        for (int i = 0; i < 3; i++)
            out->needle_n[i] = -f * d[i];
        if (needle_in_skin(n)) {
            double e[3], r[3], along = 0.0;
            needle_entry_mm(n, e);
            for (int i = 0; i < 3; i++) {
                r[i] = p->tip_mm[i] - e[i];
                along += r[i] * d[i];
            }
            double k = def->lateral_n_mm2 * needle_inserted_mm(n), lat[3], m = 0.0;
            for (int i = 0; i < 3; i++) {
                lat[i] = -k * (r[i] - along * d[i]);
                m += lat[i] * lat[i];
            }
            out->lateral_n = sqrt(m);
            for (int i = 0; i < 3; i++)
                out->needle_n[i] += lat[i];
        }
        clamp_vec(out->needle_n, def->max_force_n);
    }
    if (p->has_probe && s->pose.pressure_n > 0.0) {
        double nrm[3];
        phantom_surface_normal(s->anatomy, s->pose.x_mm, s->pose.y_mm, nrm);
        for (int i = 0; i < 3; i++)
            out->probe_n[i] = s->pose.pressure_n * nrm[i];
        clamp_vec(out->probe_n, def->max_force_n);
    }
}

/* Touched once before the first tick: the deepest a tick's calls go is a few kB (needle_force_n,
 * the plugin's functions), so a page fault never lands in a tick (with mlockall they stay). */
#define HAPTICS_STACK_PREFAULT_BYTES (64 * 1024)
/* A pose being written when the loop reads it: it tries again this often, then keeps the last. */
#define HAPTICS_POSE_TRIES 4

struct haptics {
    haptics_def def;
    pthread_t thread;
    int stop;
    /* The pose: writers (the network thread, the plugin on the loop) take pose_write_lock among
     * themselves; the loop reads it by sequence, never waiting. */
    pthread_mutex_t pose_write_lock;
    uint64_t pose_seq, pose_words[HAPTICS_SEQ_WORDS(haptics_pose)];
    haptics_pose last_pose;      /* the loop's: the newest whole pose it read */
    /* The statistics: the loop's own copy, published each tick by sequence for any reader. */
    haptics_stats stats;
    uint64_t stats_seq, stats_words[HAPTICS_SEQ_WORDS(haptics_stats)];
    bool memory_locked;
    struct timespec t0;
    haptics_tool tool;
    uint32_t buttons;
};

static double mono_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double session_now(haptics *h)
{
    if (h->def.clock_s)
        return h->def.clock_s(h->def.clock_ctx);
    return mono_s() - ((double)h->t0.tv_sec + (double)h->t0.tv_nsec * 1e-9);
}

void haptics_set_pose(haptics *h, const haptics_pose *p)
{
    pthread_mutex_lock(&h->pose_write_lock);
    haptics_seq_write(&h->pose_seq, h->pose_words, p, sizeof *p);
    pthread_mutex_unlock(&h->pose_write_lock);
}

/* The newest whole pose; a writer preempted halfway leaves the one before (a millisecond old). */
static void read_pose(haptics *h, haptics_pose *out)
{
    haptics_pose p;
    for (int k = 0; k < HAPTICS_POSE_TRIES; k++)
        if (haptics_seq_try_read(&h->pose_seq, h->pose_words, &p, sizeof p, NULL)) {
            h->last_pose = p;
            break;
        }
    *out = h->last_pose;
}

static void publish_stats(haptics *h)
{
    haptics_seq_write(&h->stats_seq, h->stats_words, &h->stats, sizeof h->stats);
}

/* The device's pose through the calibration into the plugin's tool. */
static void plugin_read(haptics *h, double t_s)
{
    haptic_plugin_pose pp;
    int rc = h->def.plugin->read_pose(h->def.plugin_dev, &pp);
    if (rc < 0) {
        h->stats.plugin_errors++;
        return;
    }
    if (rc == 0)
        return;
    double tip[3], axis_dev[3] = {pp.frame[0][2], pp.frame[1][2], pp.frame[2][2]}, axis[3];
    igtl_calibration_point(&h->def.plugin_calib, pp.tip_mm, tip);
    igtl_calibration_dir(&h->def.plugin_calib, axis_dev, axis);
    haptics_tool_needle(&h->tool, h->def.d, t_s, tip, axis);
    if ((pp.buttons & HAPTIC_BUTTON_INJECT) && !(h->buttons & HAPTIC_BUTTON_INJECT)) {
        action a = {.t_s = t_s, .verb = ACT_INJECT};
        a.v[AK_ML] = 0.1;
        a.has = 1u << AK_ML;
        driver_push(h->def.d, &a);
    }
    h->buttons = pp.buttons;
    /* Never waits for a tracker's thread writing a pose too: this tick keeps the slot's pose,
     * the next one publishes the plugin's. */
    if (pthread_mutex_trylock(&h->pose_write_lock) == 0) {
        haptics_seq_write(&h->pose_seq, h->pose_words, &h->tool.pose, sizeof h->tool.pose);
        pthread_mutex_unlock(&h->pose_write_lock);
    }
    h->stats.plugin_poses++;
    h->stats.tool_entries = h->tool.entries;
}

static void plugin_write(haptics *h, const haptics_force *f)
{
    /* Back into the device's frame: the transpose of the calibration's rotation. */
    double dev[3];
    const igtl_calibration *c = &h->def.plugin_calib;
    for (int i = 0; i < 3; i++)
        dev[i] = c->rotation[0][i] * f->needle_n[0] + c->rotation[1][i] * f->needle_n[1] +
                 c->rotation[2][i] * f->needle_n[2];
    if (h->def.plugin->write_force(h->def.plugin_dev, dev) != 0)
        h->stats.plugin_errors++;
}

static void add_ns(struct timespec *t, long ns)
{
    t->tv_nsec += ns;
    while (t->tv_nsec >= 1000000000L) {
        t->tv_nsec -= 1000000000L;
        t->tv_sec++;
    }
}

static bool after(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec > b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec > b->tv_nsec);
}

/* A servo loop wants the CPU when its deadline comes: a real-time FIFO priority when the
 * system allows it (root, or CAP_SYS_NICE / an rtprio limit), else it stays an ordinary thread. */
static bool try_realtime(void)
{
    struct sched_param sp = {.sched_priority = 50};
    return pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
}

/* The last online core, for the loop alone when there are two or more; -1 when it cannot be
 * had (one core, or the affinity refused). */
static int pin_last_cpu(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t allowed;
    if (n < 2 || pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed) != 0)
        return -1;
    for (int c = (int)(n < CPU_SETSIZE ? n : CPU_SETSIZE) - 1; c > 0; c--) {
        if (!CPU_ISSET(c, &allowed))
            continue;
        cpu_set_t one;
        CPU_ZERO(&one);
        CPU_SET(c, &one);
        return pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0 ? c : -1;
    }
    return -1;
}

static double ns_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) * 1e9 + (double)(b->tv_nsec - a->tv_nsec);
}

/* Sleeps to spin_ns before the deadline, then spins on the clock: clock_nanosleep alone wakes
 * tens of microseconds late (timer slack, the scheduler's wake-up). */
static void wait_until(const struct timespec *deadline, long spin_ns)
{
    struct timespec early = *deadline;
    early.tv_nsec -= spin_ns;
    while (early.tv_nsec < 0) {
        early.tv_nsec += 1000000000L;
        early.tv_sec--;
    }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, spin_ns > 0 ? &early : deadline, NULL) == EINTR)
        ;
    struct timespec now;
    do
        clock_gettime(CLOCK_MONOTONIC, &now);
    while (spin_ns > 0 && ns_between(&now, deadline) > 0);
}

/* Writes to every page of the stack below this frame that a tick may use. */
static void prefault_stack(void)
{
    unsigned char buf[HAPTICS_STACK_PREFAULT_BYTES];
    volatile unsigned char *p = buf; /* the stores must happen */
    for (size_t i = 0; i < sizeof buf; i += 4096)
        p[i] = 0;
    p[sizeof buf - 1] = 0;
}

static double since_s(const struct timespec *t0, const struct timespec *t)
{
    return (double)(t->tv_sec - t0->tv_sec) + (double)(t->tv_nsec - t0->tv_nsec) * 1e-9;
}

static void *loop(void *arg)
{
    haptics *h = arg;
    bool rt = h->def.realtime && try_realtime();
    int cpu = h->def.pin_cpu ? pin_last_cpu() : -1;
    /* The default 50 us slack lets the kernel wake the loop that late to batch timers. */
    bool slack = prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL) == 0;
    prefault_stack();
    h->stats.realtime = rt;
    h->stats.cpu = cpu;
    h->stats.timer_slack = slack;
    publish_stats(h);
    long period_ns = (long)(1e9 / h->def.rate_hz);
    long spin_ns = (long)(fmin(fmax(h->def.spin_us, 0.0), 0.5e6 / h->def.rate_hz) * 1e3);
    struct timespec next;
    clock_gettime(CLOCK_MONOTONIC, &next);
    long long tick = 0;
    while (!__atomic_load_n(&h->stop, __ATOMIC_ACQUIRE)) {
        add_ns(&next, period_ns);
        wait_until(&next, spin_ns);
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        double t_s = session_now(h);
        if (h->def.plugin)
            plugin_read(h, t_s);
        haptics_pose p;
        read_pose(h, &p);
        const driver_snapshot *s = driver_acquire(h->def.d);
        haptics_force f;
        haptics_compute(&h->def, s, &p, &f);
        driver_release(h->def.d, s);
        if (h->def.send)
            h->def.send(h->def.send_ctx, &f);
        if (h->def.plugin)
            plugin_write(h, &f);
        clock_gettime(CLOCK_MONOTONIC, &b);
        double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) * 1e-6;
        /* From the deadline to the force handed on: the wake-up's lateness and the work. */
        double late_ms = (double)(b.tv_sec - next.tv_sec) * 1e3 + (double)(b.tv_nsec - next.tv_nsec) * 1e-6;
        if (h->def.ticks && tick < h->def.tick_cap) {
            haptics_tick *r = &h->def.ticks[tick];
            r->at_s = since_s(&h->t0, &next);
            r->wake_ms = (float)(ns_between(&next, &a) * 1e-6);
            r->late_ms = (float)late_ms;
        }
        tick++;
        struct timespec due = next;
        add_ns(&due, period_ns);
        bool missed = after(&b, &due);
        h->stats.ticks = tick;
        h->stats.last = f;
        if (ms > h->stats.max_tick_ms)
            h->stats.max_tick_ms = ms;
        if (late_ms > h->stats.max_late_ms)
            h->stats.max_late_ms = late_ms;
        if (missed)
            h->stats.missed_deadlines++;
        publish_stats(h);
        if (missed)
            clock_gettime(CLOCK_MONOTONIC, &next); /* start again from now, no burst of late ticks */
    }
    return NULL;
}

haptics *haptics_create(const haptics_def *def, char *err, size_t err_len)
{
    if (!def->d || !(def->rate_hz >= 10.0 && def->rate_hz <= 10000.0) || !(def->max_force_n > 0.0) ||
        !(def->lateral_n_mm2 >= 0.0)) {
        snprintf(err, err_len, "haptics: needs a driver, a rate of 10..10000 Hz, max_force_n > 0 and "
                               "lateral_n_mm2 >= 0");
        return NULL;
    }
    const char *bad = igtl_calibration_check(&def->plugin_calib);
    if (def->plugin && bad) {
        snprintf(err, err_len, "haptics: plugin calibration: %s", bad);
        return NULL;
    }
    haptics *h = calloc(1, sizeof *h);
    if (!h) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    h->def = *def;
    h->stats.cpu = -1;
    /* mlockall is the process's: asked for only where the memlock limit cannot bite (root has
     * CAP_IPC_LOCK; an unlimited limit), since under a limit MCL_FUTURE fails later allocations. */
    struct rlimit ml;
    if (def->lock_memory && !SANITIZED && (geteuid() == 0 || (getrlimit(RLIMIT_MEMLOCK, &ml) == 0 && ml.rlim_cur == RLIM_INFINITY)))
        h->memory_locked = mlockall(MCL_CURRENT | MCL_FUTURE) == 0;
    h->stats.memory_locked = h->memory_locked;
    publish_stats(h);
    pthread_mutex_init(&h->pose_write_lock, NULL);
    clock_gettime(CLOCK_MONOTONIC, &h->t0);
    haptics_tool_init(&h->tool, &def->tool);
    int rc = pthread_create(&h->thread, NULL, loop, h);
    if (rc != 0) {
        snprintf(err, err_len, "haptics: cannot start the thread: %s", strerror(rc));
        if (h->memory_locked)
            munlockall();
        pthread_mutex_destroy(&h->pose_write_lock);
        free(h);
        return NULL;
    }
    return h;
}

void haptics_destroy(haptics *h)
{
    if (!h)
        return;
    __atomic_store_n(&h->stop, 1, __ATOMIC_RELEASE);
    pthread_join(h->thread, NULL);
    if (h->memory_locked)
        munlockall();
    pthread_mutex_destroy(&h->pose_write_lock);
    free(h);
}

haptics_stats haptics_get_stats(haptics *h)
{
    haptics_stats s;
    haptics_seq_read(&h->stats_seq, h->stats_words, &s, sizeof s);
    return s;
}

const haptic_plugin *haptics_plugin_load(const char *path, void **handle, char *err, size_t err_len)
{
    *handle = NULL;
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, err_len, "cannot load the haptic plugin %s: %s", path, dlerror());
        return NULL;
    }
    haptic_plugin_entry_fn entry;
    void *sym = dlsym(lib, HAPTIC_PLUGIN_ENTRY);
    memcpy(&entry, &sym, sizeof entry); /* ISO C has no object-to-function pointer cast */
    const haptic_plugin *p = sym ? entry() : NULL;
    const char *why = NULL;
    if (!sym)
        why = "it exports no " HAPTIC_PLUGIN_ENTRY "() function";
    else if (!p)
        why = HAPTIC_PLUGIN_ENTRY "() returned NULL";
    else if (p->abi_version != HAPTIC_PLUGIN_ABI_VERSION)
        why = "it was built for another ABI version";
    else if (p->struct_size < sizeof(haptic_plugin))
        why = "its function table is smaller than this ABI's";
    else if (!p->open || !p->read_pose || !p->write_force || !p->close)
        why = "its function table has a NULL entry";
    if (why) {
        snprintf(err, err_len, "haptic plugin %s: %s (this program speaks ABI version %u)", path, why,
                 HAPTIC_PLUGIN_ABI_VERSION);
        dlclose(lib);
        return NULL;
    }
    *handle = lib;
    return p;
}

void haptics_plugin_unload(void *handle)
{
    if (handle)
        dlclose(handle);
}
