/* learning: a trainee's (or a cohort's) learning curve from their session reports.
 *
 * Built on report JSON objects (driver_report_json's shape, docs/scoring.md) in time order,
 * each with what the report itself does not hold (the session id, the trainee, the start
 * time: a learning_meta, from the records store or from the file name). Per session: the
 * score, the pass and the share of injections judged intradermal; per skill the LC-CUSUM
 * (cusum.h) over the outcomes in order: "placement" counts each injection (a failure: any
 * verdict but intradermal), "session" counts each session (a failure: not passed).
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

typedef struct learning_curve {
    cusum_def cusum;
    learning_session *sessions;
    int count;
    learning_skill placement; /* per injection */
    learning_skill session;   /* per session */
} learning_curve;

/* Reads one report's figures into out (false with a plain message when it is not a report). */
bool learning_session_read(const json_t *report, const learning_meta *meta, learning_session *out,
                           char *err, size_t err_len);
/* Builds the curve from n reports in time order (meta may be NULL). Zeroes out first. */
bool learning_curve_build(const cusum_def *def, json_t *const *reports, const learning_meta *meta,
                          int n, learning_curve *out, char *err, size_t err_len);
void learning_curve_free(learning_curve *c);

#endif
