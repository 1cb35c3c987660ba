/* mesosim validate FILE...: checks scenario files without running them.
 *
 * Every problem prints as one line on stdout, "FILE:LINE:COL: PATH: message", the form
 * compilers use so editors can jump to it; PATH is the JSON path of the offending value, "$"
 * for the file as a whole, and LINE:COL is 0:0 when no position applies (a missing file).
 * A summary goes to stderr. Exit status: 0 when every file is valid, 1 when any is not,
 * 2 on a usage error.
 *
 * A JSON Schema among the files (scenarios/scenario.schema.json sits beside the cases, where
 * editors find it, so validating every .json of scenarios/ meets it) is skipped with a note on
 * stderr: a file whose top-level "$schema" names a json-schema.org meta-schema is a schema,
 * not a case. A scenario's own "$schema" names scenario.schema.json and is validated. */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "commands.h"
#include "scenario.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mesosim validate FILE...\n"
               "Checks scenario files (JSON, version %d; see docs/scenarios.md).\n"
               "Prints each problem as FILE:LINE:COL: PATH: message on stdout and a summary\n"
               "on stderr. A JSON Schema file (scenario.schema.json) is skipped with a note.\n"
               "Exit status: 0 all valid, 1 some invalid, 2 usage error.\n",
            SCENARIO_VERSION);
}

static bool is_json_schema(const char *path)
{
    json_t *root = json_load_file(path, 0, NULL);
    const char *s = json_string_value(json_object_get(root, "$schema"));
    bool yes = s && strstr(s, "://json-schema.org/") != NULL;
    json_decref(root);
    return yes;
}

int cmd_validate(int argc, char **argv)
{
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--") == 0) {
            first++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        fprintf(stderr, "mesosim validate: unknown option %s\n", a);
        usage(stderr);
        return 2;
    }
    if (first >= argc) {
        fprintf(stderr, "mesosim validate: no files given\n");
        usage(stderr);
        return 2;
    }
    int files = 0, invalid = 0, problems = 0, skipped = 0;
    for (int i = first; i < argc; i++) {
        scenario s;
        scenario_diags d = {0};
        if (is_json_schema(argv[i])) {
            fprintf(stderr, "mesosim validate: %s is a JSON Schema, not a scenario: skipped\n", argv[i]);
            skipped++;
            continue;
        }
        files++;
        if (!scenario_load_file(argv[i], &s, &d)) {
            invalid++;
            /* A failed load always says why; the fallback keeps the line count honest. */
            if (d.count == 0)
                printf("%s:0:0: $: invalid scenario\n", argv[i]);
            for (int k = 0; k < d.count; k++) {
                const scenario_diag *g = &d.items[k];
                printf("%s:%d:%d: %s: %s\n", argv[i], g->line, g->col,
                       g->path[0] ? g->path : "$", g->message);
            }
            problems += d.count ? d.count : 1;
        }
        scenario_diags_free(&d);
    }
    fflush(stdout);
    if (invalid)
        fprintf(stderr, "mesosim validate: %d of %d file%s invalid (%d problem%s)\n", invalid,
                files, files == 1 ? "" : "s", problems, problems == 1 ? "" : "s");
    else if (files)
        fprintf(stderr, "mesosim validate: %d file%s valid\n", files, files == 1 ? "" : "s");
    else
        fprintf(stderr, "mesosim validate: no scenario among the %d file%s (all JSON Schemas)\n", skipped,
                skipped == 1 ? "" : "s");
    return invalid ? 1 : 0;
}
