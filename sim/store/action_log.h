/* action_log: the session's action log as a file, a recorder (sim/core/recorder.h).
 *
 * The log is JSON Lines (docs/actions.md): the version-2 header line first, then any comment
 * lines the caller gives (how to replay it), then one action per line, each written and
 * flushed as it happens, so a session that crashes or is killed keeps everything up to its
 * last action and `mesosim run` replays it. When the session ends the report is written to
 * report_path atomically (atomic_file_write): never half a report.
 *
 * alog_create returns a recorder the driver owns (its close frees the sink and, with
 * `background`, first writes what is queued). */
#ifndef MESOSIM_ACTION_LOG_H
#define MESOSIM_ACTION_LOG_H

#include <stdbool.h>
#include <stddef.h>

#include "recorder.h"

typedef struct alog_def {
    const char *log_path;     /* created (or truncated) when the driver attaches the sink */
    const char *report_path;  /* NULL: no report */
    const char *comment;      /* lines written after the header, each to start with "# "; may be NULL */
    /* Actions are written by the sink's own thread, in order, each batch flushed as soon as
     * it is queued: for the window, whose frame must never wait on the disk. A write that
     * fails is told at the next action (and at the end); the report is still written. */
    bool background;
} alog_def;

/* Fills *out. False (message in err) when out of memory; the file opens in begin(). */
bool alog_create(const alog_def *def, recorder *out, char *err, size_t err_len);

#endif
