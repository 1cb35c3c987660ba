/* recorder: a sink of a session's record, called by the driver (driver.h) on its owner
 * thread: the log header when the sink is attached, every action the session applied, in
 * order, and the report when the session ends. The action-log file is one (sim/store/
 * action_log.h); the records database and the network will be others. A sink that fails
 * returns false with its message; the driver counts it and goes on (the session is never
 * stopped by a full disk), so a sink should keep what it has written valid.
 *
 * The driver owns the recorder value it is given; `close` frees the sink's user data. */
#ifndef MESOSIM_RECORDER_H
#define MESOSIM_RECORDER_H

#include <stdbool.h>
#include <stddef.h>

#include "actions.h"

typedef struct recorder {
    void *user;
    bool (*begin)(void *user, const action_log_header *h, char *err, size_t err_len);
    bool (*action)(void *user, const action *a, char *err, size_t err_len);
    /* finished false: the session was closed before its end. */
    bool (*end)(void *user, const char *report_json, bool finished, char *err, size_t err_len);
    /* Optional, for a sink that writes from its own thread: returns once everything given so
     * far is written (driver_flush_recorders; a reader of the log mid-session). */
    bool (*flush)(void *user, char *err, size_t err_len);
    void (*close)(void *user);
} recorder;

#endif
