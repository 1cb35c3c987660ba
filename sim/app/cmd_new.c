/* mesosim new --preset NAME --out FILE [--force]: starts a case from a preset.
 *
 * A preset is one of the bundled cases that each stand for a skin (docs/editor.md): the new
 * file is that case in the canonical form (scenario_save_string), named after the file, ready
 * for `mesosim edit`. An existing file is never overwritten without --force. --list prints the
 * presets. Exit status: 0 written, 1 not written (the preset is missing or broken, the file
 * exists, cannot be written), 2 usage error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cli_util.h"
#include "commands.h"
#include "scenario.h"

typedef struct preset {
    const char *name, *file, *what;
} preset;

static const preset k_presets[] = {
    {"normal", "adult_back.json", "adult thoracolumbar back, normal skin (the default case)"},
    {"adult", "adult_back.json", "the same: the case report's adult"},
    {"adolescent", "adolescent_back.json", "adolescent back: thinner dermis and fat"},
    {"hyperkeratosis", "hyperkeratosis.json", "thickened bright epidermis that shadows"},
    {"thin_skin", "thin_skin.json", "thin dermis: little room for an intradermal bleb"},
    {"excess_adipose", "excess_adipose.json", "deep subcutaneous fat"},
};
#define N_PRESETS ((int)(sizeof k_presets / sizeof k_presets[0]))

static void usage(FILE *f)
{
    fprintf(f, "usage: mesosim new --preset NAME --out FILE [--force]\n"
               "       mesosim new --list\n"
               "Writes a new case from a preset in the canonical form, named after FILE,\n"
               "to edit with 'mesosim edit FILE'. An existing FILE is kept unless --force.\n"
               "Presets:\n");
    for (int i = 0; i < N_PRESETS; i++)
        fprintf(f, "  %-15s %s\n", k_presets[i].name, k_presets[i].what);
    fprintf(f, "Exit status: 0 written, 1 not written, 2 usage error.\n");
}

static const preset *find_preset(const char *name)
{
    for (int i = 0; i < N_PRESETS; i++)
        if (strcmp(k_presets[i].name, name) == 0)
            return &k_presets[i];
    return NULL;
}

/* The bundled cases lie beside the default one (cli_default_scenario_path). */
static bool preset_path(const preset *p, char *out, size_t n)
{
    const char *def = cli_default_scenario_path();
    if (!def)
        return false;
    const char *slash = strrchr(def, '/');
    int dir = slash ? (int)(slash - def + 1) : 0;
    int k = snprintf(out, n, "%.*s%s", dir, def, p->file);
    return k > 0 && (size_t)k < n;
}

/* The case's name: the file's name without folder and ".json". */
static void name_from_path(const char *path, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".json") == 0)
        len -= 5;
    snprintf(out, n, "%.*s", (int)len, base);
}

int cmd_new(int argc, char **argv)
{
    const char *preset_name = NULL, *out = NULL;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--list")) {
            for (int k = 0; k < N_PRESETS; k++)
                printf("%-15s %s\n", k_presets[k].name, k_presets[k].what);
            return 0;
        }
        if (!strcmp(a, "--force")) {
            force = true;
        } else if ((!strcmp(a, "--preset") || !strcmp(a, "--out")) && i + 1 < argc) {
            *(a[2] == 'p' ? &preset_name : &out) = argv[++i];
        } else {
            fprintf(stderr, "mesosim new: %s %s\n", a,
                    a[0] == '-' && strcmp(a, "--preset") && strcmp(a, "--out") ? "is not an option"
                                                                               : "needs a value");
            usage(stderr);
            return 2;
        }
    }
    if (!preset_name || !out || !out[0]) {
        fprintf(stderr, "mesosim new: both --preset NAME and --out FILE are needed\n");
        usage(stderr);
        return 2;
    }
    const preset *p = find_preset(preset_name);
    if (!p) {
        fprintf(stderr, "mesosim new: no preset '%s'; the presets are:", preset_name);
        for (int k = 0; k < N_PRESETS; k++)
            fprintf(stderr, " %s", k_presets[k].name);
        fprintf(stderr, "\n");
        return 2;
    }
    if (!force && access(out, F_OK) == 0) {
        fprintf(stderr, "mesosim new: %s exists; it is kept (--force replaces it)\n", out);
        return 1;
    }
    char src[1024];
    if (!preset_path(p, src, sizeof src)) {
        fprintf(stderr, "mesosim new: the bundled cases are not found (looked for scenarios/%s "
                        "beside the program)\n", p->file);
        return 1;
    }
    scenario s;
    if (!cli_load_scenario(src, &s))
        return 1;
    /* A file name the loader would refuse as a name (bytes that are not UTF-8) keeps the
     * preset's. */
    char name[sizeof s.name], err[1200];
    name_from_path(out, name, sizeof name);
    scenario_set_string(&s, "name", name, err, sizeof err);
    char *text = scenario_save_string(&s);
    if (!text) {
        fprintf(stderr, "mesosim new: out of memory\n");
        return 1;
    }
    int rc = atomic_file_write(out, text, strlen(text), err, sizeof err);
    free(text);
    if (rc != 0) {
        fprintf(stderr, "mesosim new: %s\n", err);
        return 1;
    }
    printf("%s: a new case from the %s preset (edit it with 'mesosim edit %s')\n", out, p->name, out);
    return 0;
}
