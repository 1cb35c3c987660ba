/* mesosim: the command-line entry point. Dispatches to the subcommands (commands.h); with no
 * command (no arguments, or only options such as --scenario) it opens the trainer window, or,
 * in a build without one (-DMESOSIM_GUI=OFF), says so. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

#ifdef MESOSIM_GUI
static const char k_window_help[] =
    "With no command, opens the trainer window (a case picker, or the --scenario case);\n"
    "'mesosim --help-window' describes its options.\n";
#else
static const char k_window_help[] = "This build has no trainer window (built with -DMESOSIM_GUI=OFF).\n";
#endif

static void usage(FILE *f)
{
    fprintf(f, "mesosim %s - ultrasound-guided mesotherapy simulator\n\n"
               "usage: mesosim [--scenario FILE] [--bench-frames N [--json]]\n"
               "       mesosim COMMAND [OPTIONS]\n\n"
               "commands:\n"
               "  render    synthesise a B-mode image of a scenario to a PNG\n"
               "  validate  check scenario files\n"
               "  format    rewrite scenario files in the canonical form (--check: list them)\n"
               "  new       start a case from a preset (--list names them)\n"
               "  edit      the scenario editor with a live preview (needs the window)\n"
               "  run       play a session's action log on a scenario and write its report\n"
               "  replay    replay a recorded session from the records to its report\n"
               "  history   a trainee's recorded sessions, or every trainee's progress\n"
               "  report    a PDF debrief, a trainee's record or the programme's (LC-CUSUM)\n"
               "  export    sessions as CSV or xAPI statements (--format csv|xapi)\n"
               "  cohort    write the case report's 20 patients as cases (--seed N --out DIR)\n"
               "  bench     time frame synthesis on the standard frame\n\n"
               "%s"
               "'mesosim COMMAND --help' describes each command.\n"
               "The bundled cases are looked for in %s/scenarios, then\n"
               "%s/scenarios, then ./scenarios.\n",
            MESOSIM_VERSION, k_window_help, MESOSIM_SOURCE_DIR, MESOSIM_INSTALL_DATADIR);
}

int main(int argc, char **argv)
{
    if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "-h") && strcmp(argv[1], "--help") &&
                     strcmp(argv[1], "--version"))) {
        if (argc >= 2 && !strcmp(argv[1], "--help-window")) {
            char *help[] = {"mesosim", "--help", NULL};
            return cmd_window(2, help);
        }
        return cmd_window(argc, argv);
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version")) {
        printf("mesosim %s\n", MESOSIM_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "render"))
        return cmd_render(argc - 1, argv + 1);
    if (!strcmp(cmd, "validate"))
        return cmd_validate(argc - 1, argv + 1);
    if (!strcmp(cmd, "format"))
        return cmd_format(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "new"))
        return cmd_new(argc - 1, argv + 1);
    if (!strcmp(cmd, "edit"))
        return cmd_edit(argc - 1, argv + 1);
    if (!strcmp(cmd, "cohort"))
        return cmd_cohort(argc - 1, argv + 1);
    if (!strcmp(cmd, "replay"))
        return cmd_replay(argc - 1, argv + 1);
    if (!strcmp(cmd, "history"))
        return cmd_history(argc - 1, argv + 1);
    if (!strcmp(cmd, "report"))
        return cmd_report(argc - 1, argv + 1);
    if (!strcmp(cmd, "export"))
        return cmd_export(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "mesosim: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
