/* editor_fields: the editor's field table, built from the scenario's range table
 * (editor_fields.h). */
#include "editor_fields.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


typedef struct section {
    const char *name;
    const char *prefix;       /* the paths it holds start with this */
    const char *list;         /* a list field: one group of rows per element; NULL otherwise */
    const char *const *extra; /* its text and choice fields ("[]": the row), NULL-terminated */
} section;

static const char *const k_case_extra[] = {"name", "description", NULL};
static const char *const k_patient_extra[] = {"patient.sex", "patient.region", "patient.skin", NULL};
static const char *const k_layer_extra[] = {"phantom.layers[].tissue", "phantom.layers[].source",
                                            "phantom.layers[].acoustic.texture", NULL};
static const char *const k_surface_extra[] = {"phantom.surface[].kind", NULL};
static const char *const k_vessel_extra[] = {"phantom.vessels[].kind", NULL};
static const char *const k_inclusion_extra[] = {"phantom.inclusions[].kind",
                                                "phantom.inclusions[].tissue", NULL};
static const char *const k_probe_extra[] = {"probe.tgc", NULL};
static const char *const k_needle_extra[] = {"needle.bevel", NULL};
static const char *const k_drug_extra[] = {"drug.kind", NULL};
static const char *const k_bone_extra[] = {"phantom.bones[].kind", NULL};
static const char *const k_goal_extra[] = {"goals[]", NULL};
/* The yes/no choices of the scoring: the two assessment modes and each procedure step. */
static const char *const k_scoring_extra[] = {
    "scoring.measure_dermis",
    "scoring.require_doppler_check",
    "scoring.required_steps.positioning",
    "scoring.required_steps.disinfection",
    "scoring.required_steps.sterile_field",
    "scoring.required_steps.assessment",
    "scoring.required_steps.injection",
    "scoring.required_steps.spread_check",
    "scoring.required_steps.dressing",
    NULL};

/* In the order an author reads a case. A path belongs to the first section whose prefix it
 * starts with ("seed" falls to the case itself). */
static const section k_sections[] = {
    {"Learning goals", "goals[", "goals", k_goal_extra},
    {"Patient", "patient.", NULL, k_patient_extra},
    {"Skin layers", "phantom.layers[", "phantom.layers", k_layer_extra},
    {"Surface features", "phantom.surface[", "phantom.surface", k_surface_extra},
    {"Vessels", "phantom.vessels[", "phantom.vessels", k_vessel_extra},
    {"Inclusions", "phantom.inclusions[", "phantom.inclusions", k_inclusion_extra},
    {"Bones", "phantom.bones[", "phantom.bones", k_bone_extra},
    {"Tissue overrides", "phantom.tissues.", NULL, NULL},
    {"Phantom", "phantom.", NULL, NULL},
    {"Probe defaults", "probe.", NULL, k_probe_extra},
    {"Needle per tissue", "needle.tissues.", NULL, NULL},
    {"Needle", "needle.", NULL, k_needle_extra},
    {"Drug and volume", "drug.", NULL, k_drug_extra},
    {"Plan points", "plan.points[", "plan.points", NULL},
    {"Plan", "plan.", NULL, NULL},
    {"Scoring", "scoring.", NULL, k_scoring_extra},
    {"Guidance", "guidance.", NULL, NULL},
    {"Case and briefing", "", NULL, k_case_extra},
};
#define N_SECTIONS ((int)(sizeof k_sections / sizeof k_sections[0]))

static int section_of(const char *path)
{
    for (int i = 0; i < N_SECTIONS; i++)
        if (strncmp(path, k_sections[i].prefix, strlen(k_sections[i].prefix)) == 0)
            return i;
    return N_SECTIONS - 1;
}

static int list_rows(const scenario *s, const char *list)
{
    if (!strcmp(list, "phantom.layers"))
        return s->phantom.n_layers;
    if (!strcmp(list, "phantom.surface"))
        return s->phantom.n_features;
    if (!strcmp(list, "phantom.vessels"))
        return s->phantom.n_vessels;
    if (!strcmp(list, "phantom.inclusions"))
        return s->phantom.n_inclusions;
    if (!strcmp(list, "phantom.bones"))
        return s->phantom.n_bones;
    if (!strcmp(list, "goals"))
        return s->n_goals;
    return s->plan.n_points;
}

static bool push(editor_fields *f, const char *path, const section *sec, editor_field_kind kind,
                 limit_id lim, int row)
{
    if (f->count == f->cap) {
        int cap = f->cap ? 2 * f->cap : 256;
        editor_field *n = realloc(f->items, (size_t)cap * sizeof *n);
        if (!n)
            return false;
        f->items = n;
        f->cap = cap;
    }
    editor_field *e = &f->items[f->count++];
    memset(e, 0, sizeof *e);
    snprintf(e->path, sizeof e->path, "%s", path);
    e->section = sec->name;
    e->kind = kind;
    e->limit = lim;
    snprintf(e->list, sizeof e->list, "%s", sec->list ? sec->list : "");
    e->row = sec->list ? row : -1;
    return true;
}

/* "a[]b" with the first "[]" as "[i]". */
static void put_index(char *out, size_t n, const char *pat, int i)
{
    const char *b = strstr(pat, "[]");
    snprintf(out, n, "%.*s[%d]%s", (int)(b - pat), pat, i, b + 2);
}

/* Every path a pattern names in s: "*" over the tissues, "[]" over the elements while they
 * name values (the vector components, the TGC zones). */
static bool expand(editor_fields *f, const scenario *s, const char *pat, const scenario_range *r,
                   const section *sec, int row)
{
    char p[96];
    const char *b = strstr(pat, "[]"), *star = strchr(pat, '*');
    if (star && (!b || star < b)) {
        for (int t = 0; t < TISSUE_COUNT; t++) {
            snprintf(p, sizeof p, "%.*s%s%s", (int)(star - pat), pat, tissue_name((tissue_id)t),
                     star + 1);
            if (!expand(f, s, p, r, sec, row))
                return false;
        }
        return true;
    }
    if (b) {
        for (int i = 0; i < 64; i++) {
            int before = f->count;
            put_index(p, sizeof p, pat, i);
            if (!expand(f, s, p, r, sec, row))
                return false;
            if (f->count == before)
                break;
        }
        return true;
    }
    double v;
    if (!scenario_get_number(s, pat, &v))
        return true;
    return push(f, pat, sec, r->integer ? EF_INT : EF_NUMBER, r->limit, row);
}

static bool is_choice(const char *path);

static bool add_section(editor_fields *f, const scenario *s, int k)
{
    const section *sec = &k_sections[k];
    int rows = sec->list ? list_rows(s, sec->list) : 1;
    char p[96];
    for (int i = 0; i < rows; i++) {
        for (const char *const *x = sec->extra; x && *x; x++) {
            if (sec->list)
                put_index(p, sizeof p, *x, i);
            else
                snprintf(p, sizeof p, "%s", *x);
            if (!push(f, p, sec, is_choice(p) ? EF_CHOICE : EF_TEXT, LIM_COUNT, i))
                return false;
        }
        for (int j = 0; j < scenario_range_count(); j++) {
            const scenario_range *r = scenario_range_at(j);
            if (section_of(r->path) != k || !strcmp(r->path, "version"))
                continue;
            if (sec->list)
                put_index(p, sizeof p, r->path, i);
            else
                snprintf(p, sizeof p, "%s", r->path);
            if (!expand(f, s, p, r, sec, i))
                return false;
        }
    }
    if (sec->list) {
        snprintf(p, sizeof p, "+ add a row to %s", sec->list);
        return push(f, p, sec, EF_ADD_ROW, LIM_COUNT, rows);
    }
    return true;
}

bool editor_fields_build(editor_fields *f, const scenario *s)
{
    f->count = 0;
    /* The case and its briefing first: what the author names before anything else. */
    if (!add_section(f, s, N_SECTIONS - 1))
        return false;
    for (int k = 0; k < N_SECTIONS - 1; k++)
        if (!add_section(f, s, k))
            return false;
    return true;
}

void editor_fields_free(editor_fields *f)
{
    free(f->items);
    memset(f, 0, sizeof *f);
}

/* ---- choices and text -------------------------------------------------------------------- */

#define MAX_CHOICES 32

/* The choices of a choice field and the index of the current one (-1: none fits). Returns the
 * number of choices, 0 when path is no choice. */
/* The yes/no fields (scenario_set_bool's scoring paths) and their value in s. */
static bool bool_of(const char *path, const scenario *s, bool *v)
{
    static const char steps[] = "scoring.required_steps.";
    if (!strcmp(path, "scoring.measure_dermis"))
        return (*v = s->scoring.measure_dermis), true;
    if (!strcmp(path, "scoring.require_doppler_check"))
        return (*v = s->scoring.require_doppler_check), true;
    int li, used = 0;
    /* A layer's texture: on unless the file turned it off (scenario_set_bool). */
    if (sscanf(path, "phantom.layers[%d].acoustic.texture%n", &li, &used) == 1 && !path[used] &&
        li >= 0 && li < s->phantom.n_layers)
        return (*v = s->phantom.layers[li].acoustic.texture != PHANTOM_TEXTURE_OFF), true;
    if (strncmp(path, steps, sizeof steps - 1) == 0)
        for (int k = 0; k < STEP_COUNT; k++)
            if (!strcmp(path + sizeof steps - 1, score_step_name((score_step)k)))
                return (*v = (s->scoring.required_steps >> k) & 1u), true;
    return false;
}

static int choices(const char *path, const scenario *s, const char *out[MAX_CHOICES], int *cur)
{
    static const char *const sexes[] = {"female", "male", "unspecified"};
    static const char *const features[] = {"prominence", "depression", "fold"};
    static const char *const bones[] = {"spinous_process", "transverse_process", "rib"};
    int i, n = 0;
    char rest[32];
    bool yes;
    *cur = -1;
    if (bool_of(path, s, &yes)) {
        out[0] = "yes", out[1] = "no", n = 2, *cur = yes ? 0 : 1;
    } else if (!strcmp(path, "patient.sex")) {
        for (n = 0; n < 3; n++) {
            out[n] = sexes[n];
            if (!strcmp(s->patient.sex, sexes[n]))
                *cur = n;
        }
    } else if (!strcmp(path, "probe.tgc")) {
        out[0] = "on", out[1] = "off", n = 2, *cur = s->probe.tgc_on ? 0 : 1;
    } else if (!strcmp(path, "needle.bevel")) {
        out[0] = "up", out[1] = "down", n = 2, *cur = s->needle.bevel_up ? 0 : 1;
    } else if (!strcmp(path, "drug.kind")) {
        for (n = 0; n < DRUG_KIND_COUNT && n < MAX_CHOICES; n++)
            out[n] = drug_kind_name((drug_kind)n);
        *cur = (int)s->drug.kind;
    } else if (sscanf(path, "phantom.layers[%d].%31s", &i, rest) == 2 && !strcmp(rest, "tissue") &&
               i >= 0 && i < s->phantom.n_layers) {
        for (n = 0; n < TISSUE_COUNT && n < MAX_CHOICES; n++)
            out[n] = tissue_name((tissue_id)n);
        *cur = (int)s->phantom.layers[i].tissue;
    } else if (sscanf(path, "phantom.surface[%d].%31s", &i, rest) == 2 && !strcmp(rest, "kind") &&
               i >= 0 && i < s->phantom.n_features) {
        for (n = 0; n < 3; n++)
            out[n] = features[n];
        *cur = (int)s->phantom.features[i].kind;
    } else if (sscanf(path, "phantom.bones[%d].%31s", &i, rest) == 2 && !strcmp(rest, "kind") &&
               i >= 0 && i < s->phantom.n_bones) {
        for (n = 0; n < 3; n++)
            out[n] = bones[n];
        *cur = (int)s->phantom.bones[i].kind;
    } else if (sscanf(path, "phantom.vessels[%d].%31s", &i, rest) == 2 && !strcmp(rest, "kind") &&
               i >= 0 && i < s->phantom.n_vessels) {
        out[0] = "artery", out[1] = "vein", n = 2, *cur = s->phantom.vessels[i].is_vein ? 1 : 0;
    } else if (sscanf(path, "phantom.inclusions[%d].%31s", &i, rest) == 2 && i >= 0 &&
               i < s->phantom.n_inclusions) {
        const phantom_inclusion *inc = &s->phantom.inclusions[i];
        if (!strcmp(rest, "tissue")) {
            for (n = 0; n < TISSUE_COUNT && n < MAX_CHOICES; n++)
                out[n] = tissue_name((tissue_id)n);
            *cur = (int)inc->tissue;
        } else if (!strcmp(rest, "kind")) {
            out[0] = "point", out[1] = "cyst", out[2] = "gas", out[3] = "ellipsoid", n = 4;
            bool sphere = inc->radii_mm[0] == inc->radii_mm[1] && inc->radii_mm[1] == inc->radii_mm[2];
            *cur = inc->kind == PHANTOM_POINT                         ? 0
                   : sphere && inc->tissue == TISSUE_FLUID             ? 1
                   : sphere && inc->tissue == TISSUE_GAS               ? 2
                                                                       : 3;
        }
    }
    return n;
}

static bool ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && strcmp(s + n - k, tail) == 0;
}

/* The choice fields: the few named ones and every row's kind and tissue. */
static bool is_choice(const char *path)
{
    return !strcmp(path, "patient.sex") || !strcmp(path, "probe.tgc") ||
           !strncmp(path, "scoring.", 8) ||
           !strcmp(path, "needle.bevel") || !strcmp(path, "drug.kind") || ends_with(path, "].kind") ||
           ends_with(path, "].tissue");
}

static const char *text_of(const char *path, const scenario *s)
{
    int i;
    char rest[32];
    if (!strcmp(path, "name"))
        return s->name;
    if (!strcmp(path, "description"))
        return s->description;
    if (!strcmp(path, "patient.region"))
        return s->patient.region;
    if (!strcmp(path, "patient.skin"))
        return s->patient.skin;
    if (sscanf(path, "goals[%d]", &i) == 1 && i >= 0 && i < s->n_goals)
        return s->goals[i];
    if (sscanf(path, "phantom.layers[%d].%31s", &i, rest) == 2 && !strcmp(rest, "source") && i >= 0 &&
        i < PHANTOM_MAX_LAYERS)
        return s->layer_source[i];
    return "";
}

void editor_field_raw(const editor_field *f, const scenario *s, char *out, size_t n)
{
    double v = 0;
    const char *o[MAX_CHOICES];
    int cur;
    switch (f->kind) {
    case EF_NUMBER:
        scenario_get_number(s, f->path, &v);
        snprintf(out, n, "%.10g", v);
        break;
    case EF_INT:
        scenario_get_number(s, f->path, &v);
        snprintf(out, n, "%.0f", v);
        break;
    case EF_CHOICE:
        snprintf(out, n, "%s", choices(f->path, s, o, &cur) > 0 && cur >= 0 ? o[cur] : "?");
        break;
    case EF_TEXT: snprintf(out, n, "%s", text_of(f->path, s)); break;
    case EF_ADD_ROW: snprintf(out, n, "(Enter)"); break;
    }
}

void editor_field_format(const editor_field *f, const scenario *s, char *out, size_t n)
{
    char raw[600];
    editor_field_raw(f, s, raw, sizeof raw);
    const limit *l = limit_get(f->limit);
    if ((f->kind == EF_NUMBER || f->kind == EF_INT) && l && l->unit[0])
        snprintf(out, n, "%s %s", raw, l->unit);
    else
        snprintf(out, n, "%s", raw);
}

/* A step a tenth of the value's leading digit (2.5 mm: 0.1 mm; 15 MHz: 1 MHz), so a nudge is
 * a visible change at any scale; 0.1 from zero. */
static double step_of(double v)
{
    double a = fabs(v);
    return a > 0 ? pow(10.0, floor(log10(a)) - 1.0) : 0.1;
}

bool editor_field_nudge(const editor_field *f, scenario_edit *e, int dir, bool coarse, char *err,
                        size_t n)
{
    const scenario *s = scenario_edit_get(e);
    if (f->kind == EF_NUMBER || f->kind == EF_INT) {
        double v = 0;
        if (!scenario_get_number(s, f->path, &v)) {
            snprintf(err, n, "%s names no value", f->path);
            return false;
        }
        double st = f->kind == EF_INT ? 1.0 : step_of(v);
        double next = v + (dir > 0 ? 1 : -1) * st * (coarse ? 10 : 1);
        if (f->kind == EF_NUMBER)
            next = round(next / st) * st;
        next = limit_clamp(f->limit, next);
        if (f->kind == EF_INT)
            return scenario_edit_set_int(e, f->path, (long long)llround(next), err, n);
        return scenario_edit_set_number(e, f->path, next, err, n);
    }
    bool yes;
    if (f->kind == EF_CHOICE && bool_of(f->path, s, &yes))
        return scenario_edit_set_bool(e, f->path, !yes, err, n);
    if (f->kind == EF_CHOICE) {
        const char *o[MAX_CHOICES];
        int cur, k = choices(f->path, s, o, &cur);
        /* Some choices are refused where they are (a layer of steel): try the next. */
        for (int tries = 1; tries <= k; tries++) {
            int i = ((cur < 0 ? 0 : cur) + (dir > 0 ? tries : -tries) % k + k) % k;
            if (scenario_edit_set_string(e, f->path, o[i], err, n))
                return true;
        }
        return false;
    }
    snprintf(err, n, f->kind == EF_ADD_ROW ? "Enter or Insert adds a row" : "type a new text (Enter)");
    return false;
}

bool editor_field_enter(const editor_field *f, scenario_edit *e, const char *text, char *err,
                        size_t n)
{
    if (f->kind == EF_NUMBER || f->kind == EF_INT) {
        char *end;
        double v = strtod(text, &end);
        while (end > text && *end == ' ')
            end++;
        if (end == text || *end != '\0' || !isfinite(v)) {
            snprintf(err, n, "'%.40s' is not a number", text);
            return false;
        }
        if (f->kind == EF_INT) {
            if (v != floor(v) || fabs(v) > 9e15) {
                snprintf(err, n, "a whole number is needed, got %.40s", text);
                return false;
            }
            return scenario_edit_set_int(e, f->path, (long long)v, err, n);
        }
        return scenario_edit_set_number(e, f->path, v, err, n);
    }
    bool yes;
    if (f->kind == EF_CHOICE && bool_of(f->path, scenario_edit_get(e), &yes)) {
        if (strcmp(text, "yes") && strcmp(text, "no")) {
            snprintf(err, n, "'%.40s': type yes or no", text);
            return false;
        }
        return scenario_edit_set_bool(e, f->path, !strcmp(text, "yes"), err, n);
    }
    return scenario_edit_set_string(e, f->path, text, err, n);
}
