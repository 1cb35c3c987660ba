/* commands: the subcommands of the mesosim program, one file each (cmd_*.c).
 *
 * Each takes the arguments from its own name on (argv[0] is "render", "bench", "validate", "run"),
 * prints what it does to stdout, errors to stderr, and returns the process exit status. */
#ifndef MESOSIM_COMMANDS_H
#define MESOSIM_COMMANDS_H

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
/* mesosim bench --driver (bench_driver.c). */
int bench_driver(int argc, char **argv);
/* mesosim bench --haptics and --igtl (bench_haptics.c). */
int bench_haptics(int argc, char **argv);
int bench_igtl(int argc, char **argv);

#endif
