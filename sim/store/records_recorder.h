/* records_recorder: the records store (records.h) as a session's recorder (sim/core/recorder.h),
 * written as the session goes and off the frame thread.
 *
 * The session row is written when the driver attaches the recorder (before the first frame:
 * a session that has begun is in the records). After that the driver's calls (each action,
 * the report) only copy the item onto a queue, a mutex held for a pointer push; a writer
 * thread of this recorder's own commits each one to
 * the store as it comes (one transaction per action: a program killed mid-session keeps every
 * action applied before it, so at most the injection in progress is lost, and the session
 * replays from its actions). Write failures are told once on stderr and counted; the session
 * goes on. close() writes what is queued, then stops the thread and closes the store.
 *
 * The store is opened in records_recorder_create, so a bad path is told before the session
 * starts. The recorder owns it from then on.
 *
 * On a PostgreSQL server (a skills lab) every item is committed first to the station's local
 * SQLite outbox, then sent on. A server that does not answer, at the start or mid-session,
 * costs nothing but a line on stderr: recording goes on into the outbox, the connection is
 * tried again at most once a second, and when it is back everything the outbox holds is sent
 * (idempotent writes keyed by the session's UUID: no duplicate, no loss). A session the server
 * has whole leaves the outbox. When the server is still down at close(), close() returns once
 * everything is in the outbox and the writer thread, detached, goes on trying the server once
 * a second, freeing the recorder when it has sent the outbox (or dying with the program). */
#ifndef MESOSIM_RECORDS_RECORDER_H
#define MESOSIM_RECORDS_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "recorder.h"
#include "records.h"

typedef struct records_recorder_def {
    const char *db;             /* path or URL (records_open) */
    const char *trainee;        /* created when new */
    const char *device;         /* "keyboard", "script", ...; may be NULL */
    const char *scenario_path;  /* kept for replay; may be NULL */
    const char *outbox;         /* with a postgresql:// db: the local outbox (NULL: the default,
                                   records_default_outbox_path) */
} records_recorder_def;

records_recorder_def records_recorder_default_def(void);

/* Fills *out and the new session's id (RECORDS_ID_LEN). False with a message when the store
 * cannot be opened or the trainee's name is refused. */
bool records_recorder_create(const records_recorder_def *def, recorder *out, char *session_id, char *err,
                             size_t err_len);

#endif
