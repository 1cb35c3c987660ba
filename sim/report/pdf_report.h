/* pdf_report: the printed debrief and records, drawn with cairo into a PDF (A4, DejaVu Sans).
 *
 * Three kinds, from what the def holds:
 *   - a session debrief (report set): the patient and case, the score with its parts and
 *     critical items, the feedback, the injections' table, the B-mode snapshot at each
 *     injection with the true tip marked (snapshots.h), the adverse events, the checklist,
 *     then the trainee's learning curve when curve is set;
 *   - a trainee's record (report NULL, curve set): every session in a table, the score and
 *     intradermal-rate curves and the LC-CUSUM charts of both skills;
 *   - a programme's record (cohort set): one line per trainee with their LC-CUSUM outcome,
 *     then each trainee's charts.
 * It draws only what it is given: the records store or report files feed it (cmd_report.c).
 * Nothing is kept: the caller owns everything in the def. */
#ifndef MESOSIM_PDF_REPORT_H
#define MESOSIM_PDF_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "learning.h"
#include "scenario.h"
#include "snapshots.h"

typedef struct pdf_cohort_entry {
    const char *trainee;
    const learning_curve *curve;
} pdf_cohort_entry;

typedef struct pdf_report_def {
    const char *title;                 /* the heading of page 1 */
    const char *subtitle;              /* a line under it (trainee, session id, date); may be NULL */
    const json_t *report;              /* one session's report, or NULL */
    const scenario *sc;                /* its case, for the patient; may be NULL */
    const report_snapshot *snapshots;  /* one per injection, in order; may be NULL */
    int n_snapshots;
    const learning_curve *curve;       /* the trainee's curve; may be NULL */
    const pdf_cohort_entry *cohort;    /* the programme's trainees; may be NULL */
    int n_cohort;
} pdf_report_def;

pdf_report_def pdf_report_default_def(void);

/* Writes the PDF to path; *pages gets the page count (may be NULL). False with a plain
 * message when the def holds nothing to draw or the file cannot be written. */
bool pdf_report_write(const pdf_report_def *def, const char *path, int *pages, char *err,
                      size_t err_len);

#endif
