/* driver: the spine. One session, one queue of timed actions from every source, typed events
 * and const snapshots out to every sink.
 *
 * Sources (the window's keyboard and mouse, a game controller, a pen, a network tool, a log
 * being replayed) push actions, or continuous device motion, from any thread. The owner thread
 * calls driver_step(t) once per frame (or per replayed action): the queued actions whose time
 * has come are applied in time order (ties in the order pushed), continuous motion is turned
 * into actions at most motion_max_hz and only when it moved more than a tolerance (quantised
 * first, so what is applied is exactly what is logged and replay gives the same report), and
 * then:
 *   - driver_events gives what happened in that step as a typed array (session_event), valid
 *     until the next step, in the style of Box2D's b2World_GetContactEvents;
 *   - a new snapshot is published: plain data (probe, needle copy, deposits, bleeds, dynamic
 *     objects, metrics and score, the display phantom copy) that any thread may read through
 *     driver_acquire/driver_release while the owner steps on. A reader never waits for a step:
 *     the lock guards a pointer swap and a count, never the work (a probe-pressure change
 *     rebuilds the needle's track inside the step, before the swap).
 * Recorders (recorder.h) see the log header when added, every action the session applied,
 * and the report at the end: the action-log file, and later the records database and the
 * network, are sinks, and nobody else writes session files.
 *
 * The driver "does not create threads" (Box2D's rule): the caller owns them. Units: s, mm,
 * degrees, N. driver_create/driver_destroy own the session, the queue and the snapshots. */
#ifndef MESOSIM_DRIVER_H
#define MESOSIM_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "recorder.h"
#include "session.h"

/* Queued actions not yet applied; a source pushing more is told so (false) and counted. */
#define DRIVER_QUEUE_MAX 4096
#define DRIVER_MAX_RECORDERS 4

typedef struct driver_def {
    const scenario *sc;            /* copied */
    const char *simulator_version; /* for the log header and the report */
    /* Practise the case blind whatever its file says (mesosim run --blind, the window's --blind
     * or B; a replayed log whose header says "blind"): the session runs with guidance.blind set,
     * while the header's and the report's scenario_hash stay the case file's as loaded, so a
     * replay finds the case unchanged, and the header says "blind": true. */
    bool blind;
    /* Continuous device motion (driver_push_probe_pose, driver_push_needle_motion). */
    double motion_max_hz;          /* at most this many motion actions per second: 60 */
    double pose_tol_mm;            /* a pose is applied when it moved more than these ... */
    double pose_tol_deg;
    double pose_tol_n;
    double needle_tol_mm;          /* ... and the needle when it travelled this far */
    double quantum_mm;             /* device values are rounded to these first, so the log */
    double quantum_deg;            /* stays short and replays exactly */
    double quantum_n;
} driver_def;

driver_def driver_default_def(void);

typedef struct driver driver;

/* NULL with a message in err when the scenario cannot make a session. */
driver *driver_create(const driver_def *def, char *err, size_t err_len);
/* Destroys without a report: recorders are closed as they are (an unfinished log stays). */
void driver_destroy(driver *d);

/* ---- sources (any thread) ---------------------------------------------------------------- */

/* Queues an action for its time (a time before the session's clock is moved up to it). False
 * when the queue is full (counted in driver_stats). */
bool driver_push(driver *d, const action *a);
/* A device's absolute probe pose sample; mask says which fields it gives (bit k of
 * AK_X..AK_PRESSURE). Only the latest sample counts. */
void driver_push_probe_pose(driver *d, double t_s, const probe_pose *p, uint32_t mask);
/* A device's continuous needle travel since its last sample (mm, > 0 advancing). */
void driver_push_needle_motion(driver *d, double t_s, double mm);

/* ---- the owner thread -------------------------------------------------------------------- */

/* Applies what is due up to t_s, advances the clock to t_s (never backwards) and publishes a
 * snapshot. Returns the number of events of this step. */
int driver_step(driver *d, double t_s);
/* Events of the last step (or finish), valid until the next call of either. */
const session_event *driver_events(const driver *d, int *count);
/* Applies what is queued, ends the session at t_s (an "end" action, logged), hands the report
 * to the recorders and publishes the last snapshot. finished false: the session was closed
 * before its end (the report says so). Idempotent. */
void driver_finish(driver *d, double t_s, bool finished);
bool driver_finished(const driver *d);
/* The live session, for the owner thread only (report, hash); never for other threads. */
const session *driver_session(const driver *d);
/* The report with the identity (simulator version, scenario hash, finished), malloc'ed. */
char *driver_report_json(const driver *d);
/* The log header of this session (version 2). */
const action_log_header *driver_header(const driver *d);

/* Adds a sink: begin() is called at once with the header. False when the sink refused (its
 * message in err) or DRIVER_MAX_RECORDERS are attached. The driver calls r->close at destroy. */
bool driver_add_recorder(driver *d, const recorder *r, char *err, size_t err_len);
/* Owner thread: waits until every sink that writes from its own thread has written what it
 * was given (recorder.flush); a failure is counted like any sink's. */
void driver_flush_recorders(driver *d);

typedef struct driver_stats {
    long long steps, actions_applied, actions_refused, motion_actions;
    long long motion_samples;   /* device samples pushed (before decimation) */
    long long queue_full;       /* pushes refused because the queue was full */
    long long record_failures;  /* sink calls that failed (the first message kept) */
    char record_error[200];
    double snapshot_ms_last, snapshot_ms_max; /* building and publishing a snapshot */
    /* Time the recorders' calls took on the owner thread in the last step (or finish), and
     * the most in one: what recording adds to a frame (sinks that write should hand the work
     * to their own thread, as the records recorder does). */
    double record_ms_last, record_ms_max;
} driver_stats;
/* Owner thread. */
driver_stats driver_get_stats(const driver *d);

/* ---- snapshots (any thread) -------------------------------------------------------------- */

typedef struct driver_snapshot {
    uint64_t seq;                  /* step number it was published after */
    double t_s;
    bool ended, finished;
    bool injecting;
    double inject_end_s;
    probe_def probe;
    probe_pose pose;
    doppler_settings doppler;      /* colour / power Doppler settings */
    const phantom *display;        /* the display phantom (wheals raised), owned by the snapshot */
    const phantom *anatomy;        /* the static anatomy: never changes, valid while the driver lives */
    const needle *needle;          /* a copy: needle_force_n etc. work on it */
    bool tip_in_image;             /* placed, and tip_img_mm holds its image coordinates */
    double tip_img_mm[3];          /* lateral, elevation (distance from the plane), depth */
    double tip_mm[3];              /* tissue frame */
    const drug_deposit *deposits;
    int n_deposits;
    const drug_bleed *bleeds;
    int n_bleeds;
    const phantom_inclusion *dyn;  /* every dynamic object, display frame */
    int n_dyn;
    score_session metrics;         /* a copy with its own arrays */
    score_result score;
    int wheals_hidden;
} driver_snapshot;

/* The newest snapshot, held until driver_release. Never NULL after driver_create. */
const driver_snapshot *driver_acquire(driver *d);
void driver_release(driver *d, const driver_snapshot *s);

/* The B-mode scene of a snapshot: dyn must hold BMODE_MAX_DYN; returns how many objects were
 * left out (more than BMODE_MAX_DYN reach the imaged slab). */
int driver_snapshot_scene(const driver_snapshot *s, bmode_scene *scene, phantom_inclusion *dyn);

#endif
