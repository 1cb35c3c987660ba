/* session: the world of one training session and its clock.
 *
 * A session holds the scenario's phantom, the probe, the needle, the drug deposits, bleeds,
 * and the score figures, and moves them forward in time. Actions (actions.h) are applied in
 * time order: session_apply first advances the clock to the action's time (injections
 * deliver, haematomas grow, gas fades: all closed-form in time, so the result does not
 * depend on how the clock is stepped), then does the action. Everything is deterministic: the
 * same scenario and actions give the same state hash and the same report bytes.
 *
 * Two phantoms: the anatomy (static, what the needle and the verdicts are measured against)
 * and the display copy, which adds the wheals raised by intradermal blebs as skin prominences;
 * the dynamic objects are shifted with the raised skin so they keep their place in the layers.
 *
 * Units: mm, s, mL, N. session_create/session_destroy own everything inside; the report
 * string is malloc'ed for the caller. */
#ifndef MESOSIM_SESSION_H
#define MESOSIM_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "bmode.h"
#include "drug.h"
#include "needle.h"
#include "scenario.h"
#include "score.h"

#define SESSION_MAX_DEPOSITS SCORE_MAX_INJECTIONS
#define SESSION_MAX_BLEEDS 8

typedef struct session session;

/* NULL with a message in err when the scenario's needle, drug or scoring is invalid. */
session *session_create(const scenario *sc, char *err, size_t err_len);
void session_destroy(session *s);

/* Advances the clock to a->t_s, then applies the action. False (message in err, state
 * unchanged apart from the clock) when the action cannot be done now, e.g. advancing a
 * needle that is not placed. */
bool session_apply(session *s, const action *a, char *err, size_t err_len);
/* Advances the clock (never backwards). */
void session_advance_to(session *s, double t_s);
/* Finishes the session: the clock runs on until the injection under way has ended. */
void session_finish(session *s);

double session_time_s(const session *s);
bool session_ended(const session *s);
/* True while an injection delivers; *end_s when it will have delivered all. */
bool session_injecting(const session *s, double *end_s);

const phantom *session_anatomy(const session *s);
const needle *session_needle(const session *s);
const score_session *session_metrics(const session *s);
const drug_deposit *session_deposit(const session *s, int i);
int session_deposit_count(const session *s);
int session_bleed_count(const session *s);
probe_pose session_pose(const session *s);
probe_def session_probe(const session *s);

/* The scene the B-mode renders now: display phantom, probe, needle, drug, bleeds. dyn must
 * hold PHANTOM_MAX_INCLUSIONS; the scene points into s and dyn. */
void session_scene(session *s, bmode_scene *scene, phantom_inclusion *dyn);
/* Tip in the display frame (what the image shows), and its image coordinates (lateral,
 * elevation distance from the plane, depth). False when the needle is not placed. */
bool session_tip_image(session *s, double img_mm[3]);

score_result session_score(const session *s);
uint64_t session_hash(const session *s);
/* The report (docs/scoring.md) as JSON text, malloc'ed; NULL when out of memory. */
char *session_report_json(const session *s);

#endif
