/* session: the world of one training session and its clock.
 *
 * A session holds the scenario's phantom, the probe, the needle, the drug deposits, bleeds,
 * and the score figures, and moves them forward in time. Actions (actions.h) are applied in
 * time order: session_apply first advances the clock to the action's time (injections
 * deliver, haematomas grow, gas fades: all closed-form in time, so the result does not
 * depend on how the clock is stepped), then does the action. Everything is deterministic: the
 * same scenario and actions give the same state hash and the same report bytes.
 *
 * What happened is handed out as typed events (session_events), appended by every apply,
 * advance and finish until the caller clears them: pops, layers, hub, injections with their
 * verdicts, adverse events, steps, refused actions. Nobody needs to diff counters.
 *
 * Two phantoms: the anatomy (static, what the needle and the verdicts are measured against)
 * and the display copy, which adds the wheals raised by intradermal blebs as skin prominences;
 * the dynamic objects are shifted with the raised skin so they keep their place in the layers.
 * The display copy is rebuilt inside apply/advance/finish, never by a getter: every const
 * function below only reads, so readers may share a session that nobody is stepping.
 *
 * Most applications do not step a session themselves: the driver (driver.h) owns one, takes
 * actions from every source through one queue and hands out events and snapshots.
 *
 * Units: mm, s, mL, N. session_create/session_destroy own everything inside; deposits,
 * bleeds, injections and events grow as needed (SESSION_MAX_INJECTIONS is the one guard,
 * refused with a message). The report string is malloc'ed for the caller. */
#ifndef MESOSIM_SESSION_H
#define MESOSIM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "bmode.h"
#include "doppler.h"
#include "drug.h"
#include "needle.h"
#include "scenario.h"
#include "score.h"

/* A guard against runaway scripts, not a teaching limit: a real session has a few tens. */
#define SESSION_MAX_INJECTIONS 1000

typedef enum session_event_kind {
    SEV_ACTION_REFUSED = 0, /* the action could not be done now: message, verb, line */
    SEV_PROBE_OFF_PATCH,    /* a probe pose off the patch was refused (with ACTION_REFUSED) */
    SEV_NEEDLE_PLACED,      /* the tip touches the skin at the entry point */
    SEV_SKIN_DENTED,        /* the skin gives under the tip before it is punctured */
    SEV_SKIN_POPPED,        /* the skin is punctured: the tip is inside */
    SEV_LAYER_ENTERED,      /* the tip reached another layer: layer, tissue, p_mm; value 1 when it
                               broke in (a pop, one event each), 0 along a cut track */
    SEV_VESSEL_ENTERED,     /* the tip entered a vessel: vessel */
    SEV_HUB_ON_SKIN,        /* the hub reached the skin: fully inserted */
    SEV_NEEDLE_OUT,         /* the needle left the skin (retracted out or withdrawn) */
    SEV_REDIRECTED,         /* the needle pivoted about its entry point: value 1 when it counts
                               as a new redirect, 2 when it does and the tip was deep with no
                               retract first, 0 when it continues the last one or the tip was
                               not in the skin */
    SEV_INJECTION_STARTED,  /* injection: index, verdict, tissue, p_mm (tip) */
    SEV_INJECTION_ENDED,    /* injection: index, verdict, value (volume delivered, mL) */
    SEV_ADVERSE,            /* adverse: kind, injection (or -1), p_mm */
    SEV_STEP_DONE,          /* step: the case report's step ticked */
    SEV_DERMIS_MARKED,      /* the trainee marked the dermis: value (mean error, mm) */
    SEV_SESSION_ENDED,
    SEV_STEP_UNDONE,        /* step: the last tick taken back (undo_step) */
    SEV_COUNT
} session_event_kind;

const char *session_event_name(session_event_kind k);

typedef struct session_event {
    session_event_kind kind;
    double t_s;
    int injection;          /* index, -1 when none */
    int layer;              /* -1 when none */
    int vessel;             /* -1 when none */
    tissue_id tissue;
    score_verdict verdict;
    score_adverse adverse;
    score_step step;
    double p_mm[3];         /* tissue coordinates */
    double value;           /* see the kind */
    action_verb verb;       /* ACTION_REFUSED: the verb, and its line in the log (0 if none) */
    int line;
    char message[160];      /* ACTION_REFUSED: why, in plain words */
} session_event;

typedef struct session session;

/* NULL with a message in err when the scenario's needle, drug or scoring is invalid. */
session *session_create(const scenario *sc, char *err, size_t err_len);
void session_destroy(session *s);

/* Advances the clock to a->t_s, then applies the action. False (message in err, an
 * ACTION_REFUSED event, state unchanged apart from the clock) when the action cannot be done
 * now, e.g. advancing a needle that is not placed. */
bool session_apply(session *s, const action *a, char *err, size_t err_len);
/* Advances the clock (never backwards). */
void session_advance_to(session *s, double t_s);
/* Finishes the session: the clock runs on until the injection under way has ended. */
void session_finish(session *s);

/* Events since the last session_clear_events, in the order they happened. */
const session_event *session_events(const session *s, int *count);
void session_clear_events(session *s);

const scenario *session_scenario(const session *s);
double session_time_s(const session *s);
bool session_ended(const session *s);
/* True while an injection delivers; *end_s when it will have delivered all. */
bool session_injecting(const session *s, double *end_s);

const phantom *session_anatomy(const session *s);
/* The display phantom: the anatomy with the wheals raised. */
const phantom *session_display(const session *s);
const needle *session_needle(const session *s);
const score_session *session_metrics(const session *s);
const drug_deposit *session_deposit(const session *s, int i);
int session_deposit_count(const session *s);
int session_bleed_count(const session *s);
const drug_bleed *session_bleed(const session *s, int i);
/* Blebs whose wheal the display phantom has no room for (PHANTOM_MAX_FEATURES), reported. */
int session_wheals_hidden(const session *s);
/* A caliper measurement (the "measure" verb): two points on the image, lateral x from the
 * probe centre and depth z below the probe face, at session time t_s. */
typedef struct session_measurement {
    double t_s;
    double x0_mm, z0_mm, x1_mm, z1_mm;
    double distance_mm;
} session_measurement;
/* The measurements in the order taken; *count gets how many (the array lives as long as s). */
const session_measurement *session_measurements(const session *s, int *count);
probe_pose session_pose(const session *s);
probe_def session_probe(const session *s);
/* Colour / power Doppler as the "doppler" actions left it (doppler_default_settings at first). */
doppler_settings session_doppler(const session *s);

/* The world's dynamic objects in the display frame (needle shaft, haematomas, a multi-injector
 * head's other shafts, drug shapes, newest deposits first; a head's injection has a deposit at
 * every needle's tip), written up to cap; returns how many there are (may exceed cap). There
 * are never more than count + bleeds + DRUG_MAX_SHAPES * count * deposits, count being the
 * head's needles (needle.count, 1 for a single needle). */
int session_dynamic(const session *s, phantom_inclusion *out, int cap);
/* The scene the B-mode renders now: display phantom, probe, and the dynamic objects that
 * reach the imaged slab, nearest the plane first, at most BMODE_MAX_DYN. dyn must hold
 * BMODE_MAX_DYN; the scene points into s and dyn. Returns how many objects were left out
 * because more than BMODE_MAX_DYN reach the slab. */
int session_scene(const session *s, bmode_scene *scene, phantom_inclusion *dyn);
/* The same choice for any list of dynamic objects (a snapshot's): fills scene->dyn (dyn, which
 * holds BMODE_MAX_DYN) and scene->n_dyn from all[0..n) for the probe and phantom already in
 * scene; returns how many were left out. */
int session_cull_dynamic(bmode_scene *scene, const phantom_inclusion *all, int n,
                         phantom_inclusion *dyn);
/* Tip in the display frame (what the image shows), and its image coordinates (lateral,
 * elevation distance from the plane, depth). False when the needle is not placed. */
bool session_tip_image(const session *s, double img_mm[3]);

score_result session_score(const session *s);
uint64_t session_hash(const session *s);

/* Who made the session, for the report: the simulator version and the scenario's content
 * hash (16 hex digits). Both NULL: the report leaves them out. */
typedef struct session_identity {
    const char *simulator_version;
    const char *scenario_hash;
    bool finished;           /* false: the session was closed before its end */
} session_identity;

/* The report (docs/scoring.md) as JSON text, malloc'ed; NULL when out of memory. id may be
 * NULL (no identity keys, finished). */
char *session_report_json(const session *s, const session_identity *id);

#endif
