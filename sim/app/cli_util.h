/* cli_util: small helpers shared by the subcommands: strict number parsing, an option table,
 * the probe pose option, loading the scenario a command runs on. */
#ifndef MESOSIM_CLI_UTIL_H
#define MESOSIM_CLI_UTIL_H

#include <stdbool.h>
#include <stdio.h>

#include "scenario.h"

/* Whole-string number parsing; false on junk, overflow, NaN. */
bool cli_parse_double(const char *s, double *out);
bool cli_parse_int(const char *s, long lo, long hi, long *out);

/* An option table: a command lists its options once and cli_parse_args reads argv against it,
 * so a missing or bad value is told in the same words by every command ("mesosim bench:
 * --frames needs a whole number from 1 to 1000000"). The table and what `out` points at are the
 * caller's; a CLI_OPT_STRING's value points into argv. */
typedef enum cli_option_kind {
    CLI_OPT_FLAG,   /* takes no value: *(bool *)out = true */
    CLI_OPT_STRING, /* takes the next argument: *(const char **)out */
    CLI_OPT_LONG,   /* takes the next argument, a whole number from lo to hi: *(long *)out */
} cli_option_kind;

typedef struct cli_option {
    const char *name; /* "--frames" */
    cli_option_kind kind;
    void *out;
    long lo, hi; /* CLI_OPT_LONG only */
} cli_option;

/* Table rows; the conditional makes the compiler check what `out` points at. */
#define CLI_FLAG(name_, out_) {.name = (name_), .kind = CLI_OPT_FLAG, .out = (1 ? (out_) : (bool *)0)}
#define CLI_STRING(name_, out_) {.name = (name_), .kind = CLI_OPT_STRING, .out = (1 ? (out_) : (const char **)0)}
#define CLI_LONG(name_, out_, lo_, hi_)                                                                        \
    {.name = (name_), .kind = CLI_OPT_LONG, .out = (1 ? (out_) : (long *)0), .lo = (lo_), .hi = (hi_)}
#define CLI_N_OPTIONS(opts_) ((int)(sizeof(opts_) / sizeof((opts_)[0])))

typedef struct cli_args_def {
    const char *command; /* what every message opens with: "mesosim bench" */
    const cli_option *options;
    int n_options;
    /* -h/--help prints it to stdout (exit 0); an unknown option prints it to stderr after the
     * message. NULL: -h/--help is an unknown option and the message lists the table instead. */
    void (*usage)(FILE *f);
    /* Where the one argument that is not an option goes, and its name in the message when there
     * are two ("one SESSION_ID at a time"); NULL: such an argument is refused. */
    const char **operand;
    const char *operand_name;
    /* An argument passed over: the mode switch ("--sweep") that chose this table. */
    const char *skip;
} cli_args_def;

/* cli_parse_args' answer when the command goes on; otherwise it returns the exit status to
 * return at once: 0 after --help, 2 after bad usage (told on stderr). */
#define CLI_ARGS_CONTINUE (-1)
int cli_parse_args(const cli_args_def *def, int argc, char **argv);

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
