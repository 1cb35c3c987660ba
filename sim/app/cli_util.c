#include "cli_util.h"
#include "limit.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool cli_parse_double(const char *s, double *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || errno || !isfinite(v))
        return false;
    *out = v;
    return true;
}

bool cli_parse_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || errno || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

/* The table in a line, for a command without a usage text: "--frames N, --json". */
static void print_options(FILE *f, const cli_args_def *def)
{
    for (int k = 0; k < def->n_options; k++) {
        const cli_option *o = &def->options[k];
        fprintf(f, "%s%s%s", k ? ", " : "", o->name,
                o->kind == CLI_OPT_LONG ? " N" : o->kind == CLI_OPT_STRING ? " VALUE" : "");
    }
}

static int unknown_option(const cli_args_def *def, const char *a)
{
    fprintf(stderr, "%s: %s '%s'", def->command, a[0] == '-' ? "unknown option" : "unexpected argument", a);
    if (def->usage) {
        fputc('\n', stderr);
        def->usage(stderr);
    } else {
        fputs(" (", stderr);
        print_options(stderr, def);
        fputs(")\n", stderr);
    }
    return 2;
}

int cli_parse_args(const cli_args_def *def, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (def->skip && !strcmp(a, def->skip))
            continue;
        if (def->usage && (!strcmp(a, "-h") || !strcmp(a, "--help"))) {
            def->usage(stdout);
            return 0;
        }
        if (a[0] != '-' && def->operand) {
            if (*def->operand) {
                fprintf(stderr, "%s: one %s at a time ('%s' and '%s')\n", def->command, def->operand_name,
                        *def->operand, a);
                return 2;
            }
            *def->operand = a;
            continue;
        }
        const cli_option *o = NULL;
        for (int k = 0; k < def->n_options && !o; k++)
            if (!strcmp(a, def->options[k].name))
                o = &def->options[k];
        if (!o)
            return unknown_option(def, a);
        if (o->kind == CLI_OPT_FLAG) {
            *(bool *)o->out = true;
            continue;
        }
        const char *v = i + 1 < argc ? argv[++i] : NULL;
        if (o->kind == CLI_OPT_STRING) {
            if (!v) {
                fprintf(stderr, "%s: %s needs a value\n", def->command, o->name);
                return 2;
            }
            *(const char **)o->out = v;
        } else if (!cli_parse_int(v, o->lo, o->hi, (long *)o->out)) {
            fprintf(stderr, "%s: %s needs a whole number from %ld to %ld%s%s%s\n", def->command, o->name, o->lo,
                    o->hi, v ? " (got '" : "", v ? v : "", v ? "')" : "");
            return 2;
        }
    }
    return CLI_ARGS_CONTINUE;
}

bool cli_parse_pose(const char *s, probe_pose *pose)
{
    char buf[256];
    if (strlen(s) >= sizeof buf) {
        fprintf(stderr, "mesosim: --probe value too long\n");
        return false;
    }
    strcpy(buf, s);
    for (char *save = NULL, *item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        double v;
        if (!eq || !cli_parse_double(eq + 1, &v)) {
            fprintf(stderr, "mesosim: --probe: expected KEY=NUMBER, got '%s'\n", item);
            return false;
        }
        *eq = '\0';
        /* Each key's range is the one table's (limit.h), as the loader and the action log. */
        static const struct { const char *key; limit_id lim; size_t off; } k_keys[] = {
            {"x", LIM_POSITION_MM, offsetof(probe_pose, x_mm)},
            {"y", LIM_POSITION_MM, offsetof(probe_pose, y_mm)},
            {"rot", LIM_ROTATION_DEG, offsetof(probe_pose, rot_deg)},
            {"tilt", LIM_TILT_DEG, offsetof(probe_pose, tilt_deg)},
            {"rock", LIM_ROCK_DEG, offsetof(probe_pose, rock_deg)},
            {"pressure", LIM_PRESSURE_N, offsetof(probe_pose, pressure_n)},
        };
        size_t k = 0;
        while (k < sizeof k_keys / sizeof k_keys[0] && strcmp(item, k_keys[k].key) != 0)
            k++;
        if (k == sizeof k_keys / sizeof k_keys[0]) {
            fprintf(stderr, "mesosim: --probe: unknown key '%s' (x, y, rot, tilt, rock, pressure)\n", item);
            return false;
        }
        const limit *l = limit_get(k_keys[k].lim);
        if (!limit_ok(k_keys[k].lim, v)) {
            fprintf(stderr, "mesosim: --probe: %s must be within %g..%g%s%s\n", item, l->min, l->max,
                    l->unit[0] ? " " : "", l->unit);
            return false;
        }
        *(double *)((char *)pose + k_keys[k].off) = v;
    }
    return true;
}

bool cli_load_scenario(const char *path, scenario *out)
{
    scenario_diags d = {0};
    bool ok = scenario_load_file(path, out, &d);
    for (int i = 0; i < d.count; i++)
        fprintf(stderr, "%s:%d:%d: %s: %s\n", path, d.items[i].line, d.items[i].col,
                d.items[i].path[0] ? d.items[i].path : "$", d.items[i].message);
    scenario_diags_free(&d);
    return ok;
}

const char *cli_default_scenario_path(void)
{
    static const char *const candidates[] = {
        MESOSIM_SOURCE_DIR "/scenarios/adult_back.json",
        MESOSIM_INSTALL_DATADIR "/scenarios/adult_back.json",
        "scenarios/adult_back.json",
    };
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0]; i++)
        if (access(candidates[i], R_OK) == 0)
            return candidates[i];
    return NULL;
}

void cli_print_json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}
