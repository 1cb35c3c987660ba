/* export: session reports written for other tools: CSV (spreadsheets, R) and xAPI 1.0.3
 * statements (a learning record store).
 *
 * CSV (RFC 4180: comma-separated, CRLF line ends, a field with a comma, a quote or a line
 * break quoted with its quotes doubled), one header line then one row per session
 * (`kind` = session) followed by one row per injection of it (`kind` = injection); the
 * columns are export_csv_columns, documented in docs/report.md.
 *
 * xAPI: per finished session a "completed" statement and a "passed" or "failed" one (cmi5's
 * order and rules: score only on passed/failed, raw with min and max, duration on both); a
 * session closed before its end gives one "attempted" statement with completion false. The
 * actor is the trainee as an Agent with an account on the programme's home page; the object
 * is the case as an Activity; the scenario's content hash goes in context.extensions.
 * Statement ids are UUID v4 made from the session id and the verb, so exporting twice gives
 * the same ids and an LRS keeps one copy.
 *
 * Pure: strings are malloc'ed and the caller frees them; the reports stay the caller's. */
#ifndef MESOSIM_EXPORT_H
#define MESOSIM_EXPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "learning.h"

/* The CSV header line's columns, in order, NULL-terminated. */
extern const char *const export_csv_columns[];

/* The CSV of n reports (meta[i] names report i; meta may be NULL). NULL with a message on a
 * report that is not one. */
char *export_csv(json_t *const *reports, const learning_meta *meta, int n, char *err,
                 size_t err_len);

typedef struct export_xapi_def {
    const char *home_page;     /* the actor account's homePage, an IRL */
    const char *activity_base; /* activity ids: this + the case name, percent-encoded */
    const char *hash_extension;/* the context extension's IRI that holds the scenario hash */
    const char *platform;      /* context.platform, e.g. "mesosim 1.2.0"; may be NULL */
} export_xapi_def;

export_xapi_def export_xapi_default_def(void);

/* A deterministic UUID v4 text (36 characters and a NUL) from key. */
void export_uuid_from(const char *key, char out[37]);

/* The statements of n reports as a JSON array (a new reference), NULL with a message. A
 * session without a trainee is exported as "unknown". */
json_t *export_xapi(const export_xapi_def *def, json_t *const *reports, const learning_meta *meta,
                    int n, char *err, size_t err_len);

#endif
