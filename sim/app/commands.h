/* commands: the subcommands of the mesosim program, one file each (cmd_*.c).
 *
 * Each takes the arguments from its own name on (argv[0] is "render", "bench", "validate", "run"),
 * prints what it does to stdout, errors to stderr, and returns the process exit status. */
#ifndef MESOSIM_COMMANDS_H
#define MESOSIM_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "cusum.h"
#include "driver.h"
#include "learning.h"
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
/* mesosim report (cmd_report.c) and mesosim export (cmd_export.c), docs/report.md. */
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
/* Session reports loaded for them, oldest first, each with its id and trainee (meta points
 * into ids and trainees). */
typedef struct report_cli_set {
    json_t **reports;
    learning_meta *meta;
    char (*ids)[64];
    char (*trainees)[RECORDS_NAME_MAX];
    int count, cap;
} report_cli_set;
void report_cli_set_free(report_cli_set *s);
/* Report files (the id is the file name); false after telling why on stderr. */
bool report_cli_load_files(const char *cmd, char **paths, int n, const char *trainee,
                           report_cli_set *out);
/* The ended sessions of one trainee (NULL: everyone) from the records. */
bool report_cli_load_db(const char *cmd, records *db, const char *trainee, report_cli_set *out);
/* The records at --db's value (NULL: the default), NULL after telling why. */
records *report_cli_open_db(const char *cmd, const char *given);
/* --p0, --p1, --h: *matched says whether opt was one of them; false after telling why. */
bool report_cli_cusum_option(const char *cmd, const char *opt, const char *val, cusum_def *def,
                             bool *matched);
/* mesosim bench --driver (bench_driver.c). */
int bench_driver(int argc, char **argv);
/* mesosim bench --haptics and --igtl (bench_haptics.c). */
int bench_haptics(int argc, char **argv);
int bench_igtl(int argc, char **argv);

#endif
