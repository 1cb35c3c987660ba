/* replay_session: a finished session played back, for the debrief's timeline.
 *
 * A replay_tape keeps every action the window's driver applied, in order, through a
 * recorder (recorder.h) the session attaches when it begins: the same actions the log on
 * disk holds, without reading the file back (a session run with no log is replayable too).
 *
 * A replay runs those actions through a fresh driver (driver.h) on the same scenario, the way
 * `mesosim run` replays a log (each action pushed and stepped at its own time; "end" ends
 * it), so what it shows at time T is what the session was at T. Seeking forward steps on from
 * where it is; seeking backward re-runs from the start, because a driver cannot be copied.
 * On the build machine a full re-run of a scripted session costs well under a frame (the
 * figure is in docs/window.md; replay_seek_ms gives the last one), so no checkpoints are kept.
 *
 * Units: seconds of session time. A replay owns its driver; the tape is the caller's and must
 * outlive the replay. Owner thread only. */
#ifndef MESOSIM_REPLAY_SESSION_H
#define MESOSIM_REPLAY_SESSION_H

#include <stdbool.h>
#include <stddef.h>

#include "driver.h"

typedef struct replay_tape {
    action *items;
    int count, cap;
    bool oom;            /* an action could not be kept: the replay stops before it */
} replay_tape;

/* A recorder that appends to tape (cleared first when it begins). The tape is not freed by
 * the recorder's close. */
recorder replay_tape_recorder(replay_tape *tape);
void replay_tape_free(replay_tape *tape);
/* The time of the last action (0 when empty). */
double replay_tape_end_s(const replay_tape *tape);

typedef struct replay replay;

/* NULL with a message when the scenario makes no session. */
replay *replay_create(const scenario *sc, const replay_tape *tape, char *err, size_t err_len);
void replay_destroy(replay *r);
/* The session at t_s (clamped to 0..the end): valid until the next seek or destroy. */
const driver_snapshot *replay_seek(replay *r, double t_s);
/* Milliseconds the last seek took, and whether it re-ran from the start. */
double replay_seek_ms(const replay *r, bool *rewound);
/* How many times it re-ran from the start (tests: a step forward must not). */
int replay_rewinds(const replay *r);

#endif
