/* cli_util: small helpers shared by the subcommands: strict number parsing, the probe pose
 * option, loading the scenario a command runs on. */
#ifndef MESOSIM_CLI_UTIL_H
#define MESOSIM_CLI_UTIL_H

#include <stdbool.h>
#include <stdio.h>

#include "scenario.h"

/* Whole-string number parsing; false on junk, overflow, NaN. */
bool cli_parse_double(const char *s, double *out);
bool cli_parse_int(const char *s, long lo, long hi, long *out);

/* "x=MM,y=MM,rot=DEG,tilt=DEG,rock=DEG,pressure=N" (any subset) onto pose; prints the problem
 * to stderr and returns false on a bad item. */
bool cli_parse_pose(const char *s, probe_pose *pose);

/* Loads a scenario file, printing every problem as FILE:LINE:COL: PATH: message on stderr. */
bool cli_load_scenario(const char *path, scenario *out);

/* The bundled default scenario (scenarios/adult_back.json), searched beside the executable's
 * source tree and install prefix; NULL when not found. */
const char *cli_default_scenario_path(void);

/* Writes s as a JSON string literal (quoted, escaped). */
void cli_print_json_string(FILE *f, const char *s);

#endif
