/* feedback: the debrief in plain words, from the score figures.
 *
 * What happened, why it matters clinically and what to do next time: one item per injection
 * (where the tip was, the adverse events on it, whether the tip was in view) and for the
 * session (critical items failed, steps skipped or out of order, redirects without retracting,
 * the assessment, the verdict). The report (session_report_json) writes them as "feedback"; the
 * window's debrief can show the same items. Messages carry the numbers and no identifiers: a
 * trainee reads "in the fat", never "too_deep".
 *
 * Plain data: the caller gives the array (FEEDBACK_MAX items is always enough for
 * SCORE_MAX_PLAN_POINTS-sized sessions; a longer session's items past cap are counted, not
 * written). Nothing is allocated. */
#ifndef MESOSIM_FEEDBACK_H
#define MESOSIM_FEEDBACK_H

#include "score.h"

typedef enum feedback_severity {
    FEEDBACK_CRITICAL = 0, /* fails the session (a critical item) */
    FEEDBACK_WARNING,      /* harmed or would harm, or lost points */
    FEEDBACK_INFO,         /* worth knowing */
    FEEDBACK_GOOD,         /* done well: keep doing it */
    FEEDBACK_SEVERITY_COUNT
} feedback_severity;

/* "critical", "warning", "info", "good". */
const char *feedback_severity_name(feedback_severity s);

typedef struct feedback_item {
    feedback_severity severity;
    char topic[24];        /* what it is about: "asepsis", "placement", "vessel", "steps", ... */
    int injection;         /* index, -1 for the session */
    char message[400];
} feedback_item;

/* Items for a session without injections, plus room per injection. */
#define FEEDBACK_MAX 64

/* Writes up to cap items (session items first, then per injection in order) and returns how
 * many there are (may exceed cap). r is score_compute(rules, plan, m). */
int feedback_generate(const score_rules *rules, const score_plan *plan, const score_session *m,
                      const score_result *r, feedback_item *out, int cap);

#endif
