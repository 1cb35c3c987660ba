/* replay_util: plays an action log through a fresh driver the way `mesosim run` does, for the
 * tests that check a recorded session replays to the same report. */
#ifndef MESOSIM_TEST_REPLAY_UTIL_H
#define MESOSIM_TEST_REPLAY_UTIL_H

#include "actions.h"
#include "driver.h"
#include "scenario.h"

/* The finished driver (the caller destroys it); NULL with the refused line and its reason in
 * err when an action is refused. */
driver *ru_replay(const scenario *sc, const action_list *al, char *err, size_t err_len);

/* The scenario file loaded and the log replayed through ru_replay: the report (without the
 * identity keys, as session_report_json(s, NULL)), malloc'ed; NULL with the reason in err. */
char *ru_replay_report(const char *scenario_path, const action_list *al, char *err, size_t err_len);

#endif
