/* commands: the subcommands of the mesosim program, one file each (cmd_*.c).
 *
 * Each takes the arguments from its own name on (argv[0] is "render", "bench", "validate", "run"),
 * prints what it does to stdout, errors to stderr, and returns the process exit status. */
#ifndef MESOSIM_COMMANDS_H
#define MESOSIM_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include "driver.h"
#include "records.h"

int cmd_render(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_format(int argc, char **argv);
/* The trainer window (no command, or options only: --scenario, --bench-frames). */
int cmd_window(int argc, char **argv);
int cmd_run(int argc, char **argv);
/* The scenario editor (cmd_edit.c) and a new case from a preset (cmd_new.c). */
int cmd_edit(int argc, char **argv);
int cmd_new(int argc, char **argv);
/* mesosim bench --sweep (bench_sweep.c). */
int bench_sweep(int argc, char **argv);
/* mesosim cohort --seed N --out DIR: the case report's 20 patients as cases. */
int cmd_cohort(int argc, char **argv);
/* mesosim replay and mesosim history (cmd_records.c). */
int cmd_replay(int argc, char **argv);
int cmd_history(int argc, char **argv);
/* The records database to use: --db's value, else the settings file's db (records_config.h),
 * else the default (records_default_path); false after telling why on stderr. */
bool records_cli_db(const char *given, char *out, size_t cap);
/* Records the driver's session for trainee into db (NULL: the default) through the writer
 * thread (records_recorder.h); false after telling why on stderr. */
bool records_cli_attach(driver *d, const char *db, const char *trainee, const char *device, const char *scen_path,
                        char session_id[RECORDS_ID_LEN]);
/* mesosim bench --driver (bench_driver.c). */
int bench_driver(int argc, char **argv);
/* mesosim bench --haptics and --igtl (bench_haptics.c). */
int bench_haptics(int argc, char **argv);
int bench_igtl(int argc, char **argv);

#endif
