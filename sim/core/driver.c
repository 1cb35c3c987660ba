/* driver: the session's one queue, its events and its published snapshots. */
#include "driver.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "array.h"

/* A snapshot and how many hold it (the driver's own reference counts as one). */
typedef struct snap_block {
    driver_snapshot s;
    int refs;
    phantom *display;
    needle *nd;
    drug_deposit *dep;
    drug_bleed *bleed;
    phantom_inclusion *dyn;
} snap_block;

typedef struct queued {
    action a;
    long long order; /* push order: ties in time keep it */
} queued;

struct driver {
    driver_def def;
    scenario sc;
    session *s;
    action_log_header header;
    char hash_hex[17];
    char version[32];

    /* queue: sources on any thread push, the owner pops */
    pthread_mutex_t qlock;
    queued *q;
    int nq, cap_q;
    long long pushed;
    /* continuous motion, latest sample (under qlock) */
    bool pose_pending;
    double pose_t_s;
    probe_pose pose;
    uint32_t pose_mask;
    double needle_acc_mm, needle_t_s;
    bool needle_pending;

    /* owner-thread state */
    double motion_last_t_s;       /* when the last motion action was applied */
    bool motion_applied;
    queued *work;                 /* the due actions of this step */
    int cap_work;
    session_event *ev;            /* this step's events */
    int n_ev, cap_ev;
    bool finished;
    bool finished_complete;
    recorder rec[DRIVER_MAX_RECORDERS];
    int n_rec;
    driver_stats stats;
    uint64_t seq;

    /* snapshot publication */
    pthread_mutex_t slock;
    snap_block *current;
};

driver_def driver_default_def(void)
{
    /* 60 Hz is the display's rate: a pose the trainee never saw needs no replay. The
     * tolerances sit under what the image resolves (lateral cell 0.15 mm at 18 MHz,
     * ultrasound.md section 2) and what a hand feels (0.05 N). */
    return (driver_def){.motion_max_hz = 60.0,
                        .pose_tol_mm = 0.02,
                        .pose_tol_deg = 0.1,
                        .pose_tol_n = 0.05,
                        .needle_tol_mm = 0.005,
                        .quantum_mm = 0.001,
                        .quantum_deg = 0.01,
                        .quantum_n = 0.001};
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- snapshots ------------------------------------------------------------------------------ */

static void snap_free(snap_block *b)
{
    if (!b)
        return;
    phantom_destroy(b->display);
    needle_destroy(b->nd);
    free(b->dep);
    free(b->bleed);
    free(b->dyn);
    score_session_free(&b->s.metrics);
    free(b);
}

static snap_block *snap_build(const driver *d)
{
    const session *s = d->s;
    snap_block *b = calloc(1, sizeof *b);
    if (!b)
        return NULL;
    driver_snapshot *o = &b->s;
    o->seq = d->seq;
    o->t_s = session_time_s(s);
    o->ended = session_ended(s);
    o->finished = d->finished && d->finished_complete;
    o->injecting = session_injecting(s, &o->inject_end_s);
    o->probe = session_probe(s);
    o->pose = session_pose(s);
    o->doppler = session_doppler(s);
    b->display = phantom_clone(session_display(s));
    b->nd = needle_clone(session_needle(s));
    int nd = session_deposit_count(s), nb = session_bleed_count(s);
    /* At most the shafts, one ellipsoid per bleed and DRUG_MAX_SHAPES per deposit (one per
     * needle of a multi-injector head): one pass. */
    int heads = needle_get_def(session_needle(s))->count;
    heads = heads > 1 ? heads : 1;
    int cap_dyn = heads + nb + nd * heads * DRUG_MAX_SHAPES;
    b->dep = nd ? malloc((size_t)nd * sizeof *b->dep) : NULL;
    b->bleed = nb ? malloc((size_t)nb * sizeof *b->bleed) : NULL;
    b->dyn = malloc((size_t)cap_dyn * sizeof *b->dyn);
    if (!b->display || !b->nd || (nd && !b->dep) || (nb && !b->bleed) || !b->dyn ||
        !score_session_copy(&o->metrics, session_metrics(s))) {
        snap_free(b);
        return NULL;
    }
    for (int i = 0; i < nd; i++)
        b->dep[i] = *session_deposit(s, i);
    for (int i = 0; i < nb; i++)
        b->bleed[i] = *session_bleed(s, i);
    int ny = session_dynamic(s, b->dyn, cap_dyn);
    ny = ny < cap_dyn ? ny : cap_dyn; /* the bound holds; never read past what was written */
    o->display = b->display;
    o->anatomy = session_anatomy(s);
    o->needle = b->nd;
    o->deposits = b->dep, o->n_deposits = nd;
    o->bleeds = b->bleed, o->n_bleeds = nb;
    o->dyn = b->dyn, o->n_dyn = ny;
    o->tip_in_image = session_tip_image(s, o->tip_img_mm);
    if (needle_placed(b->nd))
        needle_tip_mm(b->nd, o->tip_mm);
    o->score = session_score(s);
    o->wheals_hidden = session_wheals_hidden(s);
    return b;
}

static void publish(driver *d)
{
    double t0 = now_ms();
    snap_block *b = snap_build(d);
    if (!b)
        return; /* out of memory: readers keep the last snapshot */
    b->refs = 1;
    pthread_mutex_lock(&d->slock);
    snap_block *old = d->current;
    d->current = b;
    bool free_old = old && --old->refs == 0;
    pthread_mutex_unlock(&d->slock);
    if (free_old)
        snap_free(old);
    double ms = now_ms() - t0;
    d->stats.snapshot_ms_last = ms;
    if (ms > d->stats.snapshot_ms_max)
        d->stats.snapshot_ms_max = ms;
}

const driver_snapshot *driver_acquire(driver *d)
{
    pthread_mutex_lock(&d->slock);
    snap_block *b = d->current;
    b->refs++;
    pthread_mutex_unlock(&d->slock);
    return &b->s;
}

void driver_release(driver *d, const driver_snapshot *s)
{
    if (!s)
        return;
    snap_block *b = (snap_block *)((char *)s - offsetof(snap_block, s));
    pthread_mutex_lock(&d->slock);
    bool last = --b->refs == 0;
    pthread_mutex_unlock(&d->slock);
    if (last)
        snap_free(b);
}

int driver_snapshot_scene(const driver_snapshot *s, bmode_scene *scene, phantom_inclusion *dyn)
{
    scene->ph = s->display;
    scene->probe = s->probe;
    scene->pose = s->pose;
    return session_cull_dynamic(scene, s->dyn, s->n_dyn, dyn);
}

/* ---- create / destroy ----------------------------------------------------------------------- */

driver *driver_create(const driver_def *def, char *err, size_t n)
{
    if (!def || !def->sc) {
        snprintf(err, n, "no scenario");
        return NULL;
    }
    driver *d = calloc(1, sizeof *d);
    if (!d) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    d->def = *def;
    d->sc = *def->sc;
    d->def.sc = &d->sc;
    if (!(d->def.motion_max_hz > 0))
        d->def.motion_max_hz = 60.0;
    snprintf(d->version, sizeof d->version, "%s", def->simulator_version ? def->simulator_version : "");
    pthread_mutex_init(&d->qlock, NULL);
    pthread_mutex_init(&d->slock, NULL);
    /* The hash of the case as loaded, before the blind option: the same case practised blind. */
    uint64_t h = scenario_content_hash(&d->sc);
    if (h == 0) {
        snprintf(err, n, "out of memory");
        driver_destroy(d);
        return NULL;
    }
    if (def->blind)
        d->sc.guidance.blind = true;
    d->s = session_create(&d->sc, err, n);
    if (!d->s) {
        driver_destroy(d);
        return NULL;
    }
    snprintf(d->hash_hex, sizeof d->hash_hex, "%016llx", (unsigned long long)h);
    d->header.version = ACTIONS_LOG_VERSION;
    snprintf(d->header.simulator, sizeof d->header.simulator, "%s", d->version);
    snprintf(d->header.scenario, sizeof d->header.scenario, "%s", d->sc.name);
    memcpy(d->header.scenario_hash, d->hash_hex, sizeof d->hash_hex);
    d->header.seed = d->sc.seed;
    d->header.blind = def->blind;
    publish(d);
    if (!d->current) {
        snprintf(err, n, "out of memory");
        driver_destroy(d);
        return NULL;
    }
    return d;
}

void driver_destroy(driver *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->n_rec; i++)
        if (d->rec[i].close)
            d->rec[i].close(d->rec[i].user);
    snap_free(d->current);
    session_destroy(d->s);
    free(d->q);
    free(d->work);
    free(d->ev);
    pthread_mutex_destroy(&d->qlock);
    pthread_mutex_destroy(&d->slock);
    free(d);
}

/* ---- recorders ------------------------------------------------------------------------------ */

static void record_failed(driver *d, const char *what, const char *msg)
{
    if (d->stats.record_failures++ == 0)
        snprintf(d->stats.record_error, sizeof d->stats.record_error, "%s: %.160s", what, msg);
}

bool driver_add_recorder(driver *d, const recorder *r, char *err, size_t n)
{
    if (d->n_rec >= DRIVER_MAX_RECORDERS) {
        snprintf(err, n, "at most %d recorders", DRIVER_MAX_RECORDERS);
        return false;
    }
    if (r->begin && !r->begin(r->user, &d->header, err, n))
        return false;
    d->rec[d->n_rec++] = *r;
    return true;
}

void driver_flush_recorders(driver *d)
{
    char err[200];
    for (int i = 0; i < d->n_rec; i++)
        if (d->rec[i].flush && !d->rec[i].flush(d->rec[i].user, err, sizeof err))
            record_failed(d, "action log", err);
}

/* Time the sinks take on the owner thread, summed over a step (driver_stats.record_ms_*). */
static void record_time(driver *d, double t0_ms)
{
    d->stats.record_ms_last += now_ms() - t0_ms;
    if (d->stats.record_ms_last > d->stats.record_ms_max)
        d->stats.record_ms_max = d->stats.record_ms_last;
}

static void record_action(driver *d, const action *a)
{
    char err[200];
    double t0 = d->n_rec ? now_ms() : 0.0;
    for (int i = 0; i < d->n_rec; i++)
        if (d->rec[i].action && !d->rec[i].action(d->rec[i].user, a, err, sizeof err))
            record_failed(d, "action log", err);
    if (d->n_rec)
        record_time(d, t0);
}

/* ---- sources -------------------------------------------------------------------------------- */

bool driver_push(driver *d, const action *a)
{
    pthread_mutex_lock(&d->qlock);
    bool ok = d->nq < DRIVER_QUEUE_MAX && array_grow((void **)&d->q, &d->cap_q, d->nq + 1, sizeof *d->q);
    if (ok)
        d->q[d->nq++] = (queued){*a, d->pushed++};
    else
        d->stats.queue_full++;
    pthread_mutex_unlock(&d->qlock);
    return ok;
}

static double quant(double v, double q) { return q > 0 ? round(v / q) * q : v; }

void driver_push_probe_pose(driver *d, double t_s, const probe_pose *p, uint32_t mask)
{
    pthread_mutex_lock(&d->qlock);
    d->stats.motion_samples++;
    d->pose_pending = true;
    d->pose_t_s = t_s;
    d->pose = *p;
    d->pose_mask |= mask & ((1u << (AK_PRESSURE + 1)) - 1u);
    pthread_mutex_unlock(&d->qlock);
}

void driver_push_needle_motion(driver *d, double t_s, double mm)
{
    pthread_mutex_lock(&d->qlock);
    d->stats.motion_samples++;
    d->needle_acc_mm += mm;
    d->needle_t_s = t_s;
    d->needle_pending = true;
    pthread_mutex_unlock(&d->qlock);
}

/* ---- stepping ------------------------------------------------------------------------------- */

static void collect_events(driver *d)
{
    int n;
    const session_event *ev = session_events(d->s, &n);
    if (n > 0 && array_grow((void **)&d->ev, &d->cap_ev, d->n_ev + n, sizeof *d->ev)) {
        memcpy(d->ev + d->n_ev, ev, (size_t)n * sizeof *ev);
        d->n_ev += n;
    }
    session_clear_events(d->s);
}

static void apply(driver *d, action *a)
{
    if (a->t_s < session_time_s(d->s))
        a->t_s = session_time_s(d->s);
    char err[160];
    if (session_apply(d->s, a, err, sizeof err)) {
        d->stats.actions_applied++;
        record_action(d, a);
    } else {
        d->stats.actions_refused++;
    }
    collect_events(d);
}

static void set_key(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= 1u << k;
}

/* The latest device pose as a probe action, when it moved enough (or force: at all). */
static void flush_pose(driver *d, bool force, double t_s)
{
    pthread_mutex_lock(&d->qlock);
    bool have = d->pose_pending;
    probe_pose p = d->pose;
    uint32_t mask = d->pose_mask;
    double ts = d->pose_t_s;
    pthread_mutex_unlock(&d->qlock);
    if (!have)
        return;
    if (!force && d->motion_applied && ts - d->motion_last_t_s < 1.0 / d->def.motion_max_hz)
        return;
    probe_pose cur = session_pose(d->s);
    const double *nv[] = {&p.x_mm, &p.y_mm, &p.rot_deg, &p.tilt_deg, &p.rock_deg, &p.pressure_n};
    const double *cv[] = {&cur.x_mm, &cur.y_mm, &cur.rot_deg, &cur.tilt_deg, &cur.rock_deg,
                          &cur.pressure_n};
    action a;
    memset(&a, 0, sizeof a);
    a.verb = ACT_PROBE;
    a.t_s = fmin(ts, t_s);
    bool moved = false;
    for (int k = AK_X; k <= AK_PRESSURE; k++) {
        if (!(mask & (1u << k)))
            continue;
        double q = k <= AK_Y ? d->def.quantum_mm : k == AK_PRESSURE ? d->def.quantum_n : d->def.quantum_deg;
        double tol = k <= AK_Y ? d->def.pose_tol_mm : k == AK_PRESSURE ? d->def.pose_tol_n : d->def.pose_tol_deg;
        double v = quant(*nv[k - AK_X], q);
        double delta = fabs(v - *cv[k - AK_X]);
        if (delta > 0.0)
            set_key(&a, (action_key)k, v);
        moved = moved || delta > tol || (force && delta > 0.0);
    }
    if (!moved)
        return;
    pthread_mutex_lock(&d->qlock);
    if (d->pose_t_s == ts)
        d->pose_pending = false, d->pose_mask = 0;
    pthread_mutex_unlock(&d->qlock);
    d->stats.motion_actions++;
    d->motion_applied = true;
    d->motion_last_t_s = ts;
    apply(d, &a);
}

/* Accumulated device needle travel as one advance or retract. */
static void flush_needle(driver *d, bool force, double t_s)
{
    pthread_mutex_lock(&d->qlock);
    bool have = d->needle_pending;
    double acc = d->needle_acc_mm, ts = d->needle_t_s;
    pthread_mutex_unlock(&d->qlock);
    if (!have || !needle_placed(session_needle(d->s)))
        return;
    if (!force && d->motion_applied && ts - d->motion_last_t_s < 1.0 / d->def.motion_max_hz)
        return;
    double mm = quant(acc, d->def.quantum_mm);
    if (fabs(mm) < (force ? d->def.quantum_mm * 0.5 : d->def.needle_tol_mm) || fabs(mm) == 0.0)
        return;
    pthread_mutex_lock(&d->qlock);
    d->needle_acc_mm -= mm; /* the remainder waits for the next flush */
    d->needle_pending = fabs(d->needle_acc_mm) > 0.0;
    pthread_mutex_unlock(&d->qlock);
    action a;
    memset(&a, 0, sizeof a);
    a.verb = mm > 0 ? ACT_ADVANCE : ACT_RETRACT;
    a.t_s = fmin(ts, t_s);
    /* One action moves at most 20 mm (actions.c): longer travel goes in pieces. */
    double left = fabs(mm);
    while (left > 0.0) {
        double piece = left > 20.0 ? 20.0 : left;
        set_key(&a, AK_MM, piece);
        d->stats.motion_actions++;
        apply(d, &a);
        left -= piece;
    }
    d->motion_applied = true;
    d->motion_last_t_s = ts;
}

static int cmp_queued(const void *x, const void *y)
{
    const queued *a = x, *b = y;
    if (a->a.t_s != b->a.t_s)
        return a->a.t_s < b->a.t_s ? -1 : 1;
    return a->order < b->order ? -1 : a->order > b->order;
}

/* Takes the queued actions due by t_s, in time order. */
static int take_due(driver *d, double t_s)
{
    pthread_mutex_lock(&d->qlock);
    int n = 0;
    if (d->nq > 0 && array_grow((void **)&d->work, &d->cap_work, d->nq, sizeof *d->work)) {
        int keep = 0;
        for (int i = 0; i < d->nq; i++) {
            if (d->q[i].a.t_s <= t_s)
                d->work[n++] = d->q[i];
            else
                d->q[keep++] = d->q[i];
        }
        d->nq = keep;
    }
    pthread_mutex_unlock(&d->qlock);
    if (n > 1) /* d->work is NULL until the first action: qsort must not see it */
        qsort(d->work, (size_t)n, sizeof *d->work, cmp_queued);
    return n;
}

static void run_due(driver *d, double t_s)
{
    int n = take_due(d, t_s);
    for (int i = 0; i < n && !session_ended(d->s); i++) {
        /* A discrete action sees the pose and the needle the trainee saw. */
        flush_pose(d, true, d->work[i].a.t_s);
        flush_needle(d, true, d->work[i].a.t_s);
        apply(d, &d->work[i].a);
    }
}

int driver_step(driver *d, double t_s)
{
    d->n_ev = 0;
    d->stats.record_ms_last = 0.0;
    if (!d->finished) {
        run_due(d, t_s);
        if (!session_ended(d->s)) {
            flush_pose(d, false, t_s);
            flush_needle(d, false, t_s);
            session_advance_to(d->s, t_s);
            collect_events(d);
        }
    }
    d->seq++;
    d->stats.steps++;
    publish(d);
    return d->n_ev;
}

const session_event *driver_events(const driver *d, int *count)
{
    *count = d->n_ev;
    return d->ev;
}

void driver_finish(driver *d, double t_s, bool finished)
{
    if (d->finished)
        return;
    d->n_ev = 0;
    d->stats.record_ms_last = 0.0;
    run_due(d, t_s);
    if (!session_ended(d->s)) {
        flush_pose(d, true, t_s);
        flush_needle(d, true, t_s);
        action a;
        memset(&a, 0, sizeof a);
        a.verb = ACT_END;
        a.t_s = t_s;
        apply(d, &a);
    }
    session_finish(d->s);
    collect_events(d);
    d->finished = true;
    d->finished_complete = finished;
    char *report = driver_report_json(d);
    char err[200];
    double t0 = now_ms();
    for (int i = 0; i < d->n_rec; i++)
        if (d->rec[i].end && (!report || !d->rec[i].end(d->rec[i].user, report, finished, err, sizeof err)))
            record_failed(d, "report", report ? err : "out of memory");
    record_time(d, t0);
    free(report);
    d->seq++;
    publish(d);
}

bool driver_finished(const driver *d) { return d->finished; }
const session *driver_session(const driver *d) { return d->s; }
const action_log_header *driver_header(const driver *d) { return &d->header; }
driver_stats driver_get_stats(const driver *d)
{
    /* The push counters change on the sources' threads, under the queue lock. */
    pthread_mutex_t *m = (pthread_mutex_t *)&d->qlock;
    pthread_mutex_lock(m);
    driver_stats st = d->stats;
    pthread_mutex_unlock(m);
    return st;
}

char *driver_report_json(const driver *d)
{
    session_identity id = {.simulator_version = d->version, .scenario_hash = d->hash_hex,
                           .finished = !d->finished || d->finished_complete};
    return session_report_json(d->s, &id);
}
