/* mesosim: the command-line entry point. Dispatches to the subcommands (commands.h). Until the
 * trainer window exists, running it with no arguments renders the default case to a PNG. */
#include <stdio.h>
#include <string.h>

#include "commands.h"

static void usage(FILE *f)
{
    fprintf(f, "mesosim %s - ultrasound-guided mesotherapy simulator\n\n"
               "usage: mesosim [COMMAND] [OPTIONS]\n\n"
               "commands:\n"
               "  render    synthesise a B-mode image of a scenario to a PNG\n"
               "  validate  check scenario files\n"
               "  run       play a session's action log on a scenario and write its report\n"
               "  bench     time frame synthesis on the standard frame\n\n"
               "With no command, renders the default scenario (adult back) to mesosim-default.png.\n"
               "'mesosim COMMAND --help' describes each command.\n",
            MESOSIM_VERSION);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        char *args[] = {"render", "--out", "mesosim-default.png", "--labels", "mesosim-default-labels.png", NULL};
        int rc = cmd_render(5, args);
        if (rc == 0)
            fprintf(stderr, "mesosim: wrote the default case's B-mode image to mesosim-default.png "
                            "(tissue labels: mesosim-default-labels.png)\n");
        return rc;
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
    if (!strcmp(cmd, "run"))
        return cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    fprintf(stderr, "mesosim: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}
