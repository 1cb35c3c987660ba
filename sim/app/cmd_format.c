/* mesosim format FILE... [--check]: rewrites scenario files in the canonical form.
 *
 * Like gofmt: one written form for every case (scenario_save_string: stable key order,
 * shortest exact numbers, 2-space indent), so files from many hands and from the editor diff
 * cleanly. A file with problems is never rewritten; its problems print as validate prints
 * them, "FILE:LINE:COL: PATH: message". --check writes nothing and lists the files that are
 * not canonical. Exit status: 0 when every file is (or now is) canonical, 1 when any is not
 * (--check) or is invalid or cannot be written, 2 on a usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "scenario.h"
#include "textfile.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mesosim format [--check] FILE...\n"
               "Rewrites scenario files in the canonical form (docs/scenarios.md, \"The\n"
               "canonical form\"): keys in a fixed order, every value spelled out, numbers in\n"
               "their shortest exact form, 2-space indent. Invalid files are left alone and\n"
               "their problems printed as FILE:LINE:COL: PATH: message.\n"
               "  --check  write nothing; list the files that are not canonical\n"
               "Exit status: 0 all canonical, 1 some not canonical (--check), invalid or not\n"
               "written, 2 usage error.\n");
}

/* 1 when the file differs from its canonical text, 0 when it is canonical, -1 on a problem
 * (already printed). */
static int format_one(const char *path, bool check)
{
    scenario s;
    scenario_diags d = {0};
    if (!scenario_load_file(path, &s, &d)) {
        if (d.count == 0)
            printf("%s:0:0: $: invalid scenario\n", path);
        for (int k = 0; k < d.count; k++)
            printf("%s:%d:%d: %s: %s\n", path, d.items[k].line, d.items[k].col,
                   d.items[k].path[0] ? d.items[k].path : "$", d.items[k].message);
        scenario_diags_free(&d);
        return -1;
    }
    scenario_diags_free(&d);
    char *canon = scenario_save_string(&s), *text = NULL;
    size_t n = 0;
    int e = 0;
    if (!canon) {
        fprintf(stderr, "mesosim format: %s: out of memory\n", path);
        return -1;
    }
    /* The loader has just read it, so this read only fails if the file changed meanwhile. */
    int differs = 1;
    if (textfile_read(path, 4u * 1024u * 1024u, &text, &n, &e) == TEXTFILE_OK)
        differs = n != strlen(canon) || memcmp(text, canon, n) != 0;
    free(text);
    free(canon);
    if (!differs)
        return 0;
    if (check) {
        printf("%s\n", path);
        return 1;
    }
    char err[512];
    if (!scenario_save_file(&s, path, err, sizeof err)) {
        fprintf(stderr, "mesosim format: %s\n", err);
        return -1;
    }
    fprintf(stderr, "mesosim format: %s: rewritten\n", path);
    return 1;
}

int cmd_format(int argc, char **argv)
{
    bool check = false;
    int first = 1;
    for (; first < argc; first++) {
        const char *a = argv[first];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--check") == 0) {
            check = true;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            first++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0')
            break;
        fprintf(stderr, "mesosim format: unknown option %s\n", a);
        usage(stderr);
        return 2;
    }
    /* --check may also follow the files. */
    int nfiles = 0;
    for (int i = first; i < argc; i++)
        if (strcmp(argv[i], "--check") == 0)
            check = true;
        else
            nfiles++;
    if (nfiles == 0) {
        fprintf(stderr, "mesosim format: no files given\n");
        usage(stderr);
        return 2;
    }
    int invalid = 0, differ = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0)
            continue;
        int r = format_one(argv[i], check);
        invalid += r < 0;
        differ += r > 0;
    }
    fflush(stdout);
    if (check && differ)
        fprintf(stderr, "mesosim format: %d of %d file%s not canonical\n", differ, nfiles,
                nfiles == 1 ? "" : "s");
    if (invalid)
        fprintf(stderr, "mesosim format: %d of %d file%s invalid or not written\n", invalid,
                nfiles, nfiles == 1 ? "" : "s");
    return invalid || (check && differ) ? 1 : 0;
}
