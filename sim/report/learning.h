/* learning: a trainee's (or a cohort's) learning curve from their session reports.
 *
 * Built on report JSON objects (driver_report_json's shape, docs/scoring.md) in time order,
 * each with what the report itself does not hold (the session id, the trainee, the start
 * time: a learning_meta, from the records store or from the file name). Per session: the
 * score, the pass and the share of injections judged intradermal; per skill the LC-CUSUM
 * (cusum.h) over the outcomes in order: "placement" counts each injection (a failure: any
 * verdict but intradermal), "session" counts each session (a failure: not passed). And the
 * intradermal rate blind versus guided (issue 13: the case report's claim that guidance makes
 * placement precise, measured per trainee), overall and on the cases done both ways.
 *
 * A learning_curve owns its arrays (learning_curve_free); the reports stay the caller's. */
#ifndef MESOSIM_LEARNING_H
#define MESOSIM_LEARNING_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "cusum.h"

typedef struct learning_meta {
    const char *id;          /* the session id, or the report's file name; may be NULL */
    const char *trainee;     /* may be NULL */
    double started_unix_s;   /* 0 when unknown */
} learning_meta;

typedef struct learning_session {
    char id[64];
    char trainee[128];
    char scenario[128];
    char scenario_hash[17];
    double started_unix_s;
    double duration_s;        /* session.time_s */
    double score;             /* score.total, 0..100 */
    bool pass, critical_failed, finished;
    bool blind;               /* the report says "blind": true (guidance.ultrasound false) */
    int injections, intradermal;
    double intradermal_rate;  /* intradermal / injections; 0 without injections */
} learning_session;

/* The LC-CUSUM of one skill: one outcome per case, the score after each. */
typedef struct learning_skill {
    bool *failed;
    double *cusum;
    int *session_of;          /* the session index each case came from */
    int count;
    int signal;               /* index of the case where proficiency is signalled, -1: none */
} learning_skill;

/* Sessions, their injections and those judged intradermal. */
typedef struct learning_arm {
    int sessions, injections, intradermal;
} learning_arm;

/* intradermal / injections, or -1 when the arm has no injection. */
double learning_arm_rate(const learning_arm *a);

/* A case (a scenario, by name: a blind twin of a guided case is the same file with
 * guidance.ultrasound false) done both blind and guided. */
typedef struct learning_case {
    char scenario[128];
    learning_arm blind, guided;
} learning_case;

typedef struct learning_bvg {
    learning_arm blind, guided;           /* every session */
    learning_arm same_blind, same_guided; /* only the cases in cases[]: the fair comparison */
    learning_case *cases;                 /* done both ways, in the order first seen */
    int n_cases;
} learning_bvg;

typedef struct learning_curve {
    cusum_def cusum;
    learning_session *sessions;
    int count;
    learning_skill placement; /* per injection */
    learning_skill session;   /* per session */
    learning_bvg blind_vs_guided;
} learning_curve;

/* Reads one report's figures into out (false with a plain message when it is not a report). */
bool learning_session_read(const json_t *report, const learning_meta *meta, learning_session *out,
                           char *err, size_t err_len);
/* Builds the curve from n reports in time order (meta may be NULL). Zeroes out first. */
bool learning_curve_build(const cusum_def *def, json_t *const *reports, const learning_meta *meta,
                          int n, learning_curve *out, char *err, size_t err_len);
void learning_curve_free(learning_curve *c);

/* Blind versus guided over the sessions of n curves pooled (one: a trainee's, as in
 * curve->blind_vs_guided; several: a programme's). Zeroes out first; learning_bvg_free. */
bool learning_bvg_build(const learning_curve *const *curves, int n, learning_bvg *out, char *err,
                        size_t err_len);
void learning_bvg_free(learning_bvg *b);

#endif
