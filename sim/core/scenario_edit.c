/* scenario_edit: undo/redo, inline validation and autosave over a scenario being edited
 * (scenario_edit.h). Undo keeps whole copies of the scenario: it is plain data of a few tens of
 * kB, so a copy per step is simpler and surer than recording inverse operations, and 200 steps
 * cost a few MB. */
#include "scenario_edit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#define EDIT_PATH_CAP 1024

struct scenario_edit {
    scenario_edit_def def;
    scenario cur;
    scenario saved;         /* as last saved (or opened): undoing back to it is clean again */
    scenario *undo, *redo;  /* def.undo_depth each; undo[n_undo - 1] is the newest */
    int n_undo, n_redo;
    char merge_path[128];   /* the value the last change set: the next same-path change merges */
    bool group, group_pushed; /* a gesture (scenario_edit_begin_group): all merge into one step */
    char path[EDIT_PATH_CAP];
    bool dirty;
    bool autosave_due_now;  /* a structural change: the next tick writes whatever the clock */
    bool changed_since_autosave;
    bool autosave_written;  /* an autosave of this session's edits is on disk */
    double last_autosave_s;
    bool have_clock;
    unsigned revision;
    scenario_diags problems;
};

scenario_edit_def scenario_edit_default_def(void)
{
    return (scenario_edit_def){.undo_depth = 200, .autosave_interval_s = 5.0};
}

static void recheck(scenario_edit *e)
{
    e->problems.count = 0;
    scenario_check(&e->cur, &e->problems);
}

scenario_edit *scenario_edit_create(const scenario_edit_def *def, const scenario *s,
                                    const char *path)
{
    scenario_edit *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->def = def ? *def : scenario_edit_default_def();
    if (e->def.undo_depth < 1)
        e->def.undo_depth = scenario_edit_default_def().undo_depth;
    if (!(e->def.autosave_interval_s > 0))
        e->def.autosave_interval_s = scenario_edit_default_def().autosave_interval_s;
    e->undo = malloc((size_t)e->def.undo_depth * sizeof *e->undo);
    e->redo = malloc((size_t)e->def.undo_depth * sizeof *e->redo);
    if (!e->undo || !e->redo || (path && strlen(path) >= sizeof e->path)) {
        scenario_edit_destroy(e);
        return NULL;
    }
    e->cur = *s;
    e->saved = *s;
    snprintf(e->path, sizeof e->path, "%s", path ? path : "");
    recheck(e);
    return e;
}

void scenario_edit_destroy(scenario_edit *e)
{
    if (!e)
        return;
    free(e->undo);
    free(e->redo);
    scenario_diags_free(&e->problems);
    free(e);
}

const scenario *scenario_edit_get(const scenario_edit *e) { return &e->cur; }
const char *scenario_edit_path(const scenario_edit *e) { return e->path; }
bool scenario_edit_dirty(const scenario_edit *e) { return e->dirty; }
unsigned scenario_edit_revision(const scenario_edit *e) { return e->revision; }
bool scenario_edit_can_undo(const scenario_edit *e) { return e->n_undo > 0; }
bool scenario_edit_can_redo(const scenario_edit *e) { return e->n_redo > 0; }
void scenario_edit_break_merge(scenario_edit *e)
{
    e->merge_path[0] = '\0';
    e->group = false;
}

void scenario_edit_begin_group(scenario_edit *e)
{
    scenario_edit_break_merge(e);
    e->group = true;
    e->group_pushed = false;
}

static void changed(scenario_edit *e)
{
    e->dirty = memcmp(&e->cur, &e->saved, sizeof e->cur) != 0;
    e->changed_since_autosave = true;
    e->revision++;
    recheck(e);
}

/* Records `before` as an undo step unless this change merges with the last one (same path),
 * and drops the redo steps. path NULL: a structural change, never merged. */
static void push_undo(scenario_edit *e, const scenario *before, const char *path)
{
    e->n_redo = 0;
    if (e->group && e->group_pushed)
        return;
    e->group_pushed = e->group;
    if (path && !e->group && e->n_undo > 0 && strcmp(path, e->merge_path) == 0)
        return;
    if (e->n_undo == e->def.undo_depth) {
        memmove(e->undo, e->undo + 1, (size_t)(e->n_undo - 1) * sizeof *e->undo);
        e->n_undo--;
    }
    e->undo[e->n_undo++] = *before;
    snprintf(e->merge_path, sizeof e->merge_path, "%s", path ? path : "");
}

/* A setter applied to a scratch copy, so a refusal leaves everything as it was and a value
 * set to what it was records no step. */
typedef enum set_kind { SET_NUMBER, SET_INT, SET_STRING, SET_BOOL } set_kind;

static bool apply_set(scenario_edit *e, set_kind k, const char *path, double num, long long i,
                      const char *str, bool b, char *err, size_t n)
{
    scenario next = e->cur;
    bool ok = false;
    switch (k) {
    case SET_NUMBER: ok = scenario_set_number(&next, path, num, err, n); break;
    case SET_INT: ok = scenario_set_int(&next, path, i, err, n); break;
    case SET_STRING: ok = scenario_set_string(&next, path, str, err, n); break;
    case SET_BOOL: ok = scenario_set_bool(&next, path, b, err, n); break;
    }
    if (!ok)
        return false;
    if (memcmp(&next, &e->cur, sizeof next) == 0)
        return true;
    push_undo(e, &e->cur, path);
    e->cur = next;
    changed(e);
    return true;
}

bool scenario_edit_set_number(scenario_edit *e, const char *path, double v, char *err, size_t n)
{
    return apply_set(e, SET_NUMBER, path, v, 0, NULL, false, err, n);
}

bool scenario_edit_set_int(scenario_edit *e, const char *path, long long v, char *err, size_t n)
{
    return apply_set(e, SET_INT, path, 0, v, NULL, false, err, n);
}

bool scenario_edit_set_string(scenario_edit *e, const char *path, const char *v, char *err,
                              size_t n)
{
    return apply_set(e, SET_STRING, path, 0, 0, v, false, err, n);
}

bool scenario_edit_set_bool(scenario_edit *e, const char *path, bool v, char *err, size_t n)
{
    return apply_set(e, SET_BOOL, path, 0, 0, NULL, v, err, n);
}

/* ---- rows ------------------------------------------------------------------------------ */

typedef enum list_id {
    L_LAYERS, L_SURFACE, L_VESSELS, L_INCLUSIONS, L_POINTS, L_BONES, L_GOALS, L_NONE
} list_id;

static list_id list_of(const char *list)
{
    static const char *const k_names[] = {"phantom.layers", "phantom.surface", "phantom.vessels",
                                          "phantom.inclusions", "plan.points", "phantom.bones",
                                          "goals"};
    for (int i = 0; i < L_NONE; i++)
        if (list && strcmp(list, k_names[i]) == 0)
            return (list_id)i;
    return L_NONE;
}

/* The count, the capacity and the minimum of a list (layers: a phantom has at least one). */
static int *list_count(scenario *s, list_id l, int *cap, int *min)
{
    *min = 0;
    switch (l) {
    case L_LAYERS: *cap = PHANTOM_MAX_LAYERS; *min = 1; return &s->phantom.n_layers;
    case L_SURFACE: *cap = PHANTOM_MAX_FEATURES; return &s->phantom.n_features;
    case L_VESSELS: *cap = PHANTOM_MAX_VESSELS; return &s->phantom.n_vessels;
    case L_INCLUSIONS: *cap = PHANTOM_MAX_INCLUSIONS; return &s->phantom.n_inclusions;
    case L_POINTS: *cap = SCORE_MAX_PLAN_POINTS; return &s->plan.n_points;
    case L_BONES: *cap = PHANTOM_MAX_BONES; return &s->phantom.n_bones;
    case L_GOALS: *cap = SCENARIO_MAX_GOALS; return &s->n_goals;
    default: *cap = 0; return NULL;
    }
}

int scenario_edit_rows(const scenario_edit *e, const char *list)
{
    int cap, min;
    const int *c = list_count((scenario *)&e->cur, list_of(list), &cap, &min);
    return c ? *c : -1;
}

/* The row an empty list starts with: what an author most often adds first. The vessel is a
 * subcutaneous vein across the patch at 8 mm, the depth of the dorsal perforator veins'
 * course in the fat (docs/scenarios.md's bundled cases). */
static void default_row(scenario *s, list_id l)
{
    phantom_def *ph = &s->phantom;
    switch (l) {
    case L_LAYERS:
        ph->layers[0] = (phantom_layer_def){.tissue = TISSUE_DERMIS, .thickness_mm = 2.0,
                                            .variation_wavelength_mm = 20.0};
        s->layer_source[0][0] = '\0';
        break;
    case L_SURFACE:
        ph->features[0] = (phantom_feature_def){.kind = PHANTOM_PROMINENCE, .height_mm = 2.0,
                                                .width_mm = 6.0};
        break;
    case L_VESSELS:
        ph->vessels[0] = (phantom_vessel_def){.a_mm = {-0.4 * ph->width_mm, 0, 8},
                                              .b_mm = {0.4 * ph->width_mm, 0, 8},
                                              .radius_mm = 1.0, .wall_mm = 0.2, .is_vein = true};
        break;
    case L_INCLUSIONS:
        ph->inclusions[0] = (phantom_inclusion){.kind = PHANTOM_POINT, .tissue = TISSUE_STEEL,
                                                .c_mm = {0, 0, 5}, .amplitude = 10.0};
        break;
    case L_POINTS:
        s->plan.points_mm[0][0] = s->plan.points_mm[0][1] = 0.0;
        break;
    case L_BONES:
        /* A spinous process under the centre, its tip 10 mm down: inside the default 15 mm
         * image, as under a bony prominence (scenarios/prominence_fold.json). */
        ph->bones[0] = (phantom_bone_def){.kind = PHANTOM_BONE_SPINOUS, .depth_mm = 10.0,
                                          .width_mm = 6.0, .length_mm = 20.0, .height_mm = 10.0,
                                          .angle_deg = 90.0};
        break;
    case L_GOALS: snprintf(s->goals[0], sizeof s->goals[0], "A learning goal"); break;
    default: break;
    }
}

static void copy_row(scenario *s, list_id l, int to, int from)
{
    switch (l) {
    case L_LAYERS:
        s->phantom.layers[to] = s->phantom.layers[from];
        memcpy(s->layer_source[to], s->layer_source[from], sizeof s->layer_source[to]);
        break;
    case L_SURFACE: s->phantom.features[to] = s->phantom.features[from]; break;
    case L_VESSELS: s->phantom.vessels[to] = s->phantom.vessels[from]; break;
    case L_INCLUSIONS: s->phantom.inclusions[to] = s->phantom.inclusions[from]; break;
    case L_POINTS:
        memcpy(s->plan.points_mm[to], s->plan.points_mm[from], sizeof s->plan.points_mm[to]);
        break;
    case L_BONES: s->phantom.bones[to] = s->phantom.bones[from]; break;
    case L_GOALS: memcpy(s->goals[to], s->goals[from], sizeof s->goals[to]); break;
    default: break;
    }
}

static void structural(scenario_edit *e, const scenario *next)
{
    push_undo(e, &e->cur, NULL);
    e->cur = *next;
    e->autosave_due_now = true;
    changed(e);
}

void scenario_edit_replace(scenario_edit *e, const scenario *s)
{
    structural(e, s);
}

bool scenario_edit_add_row(scenario_edit *e, const char *list, char *err, size_t n)
{
    scenario next = e->cur;
    list_id l = list_of(list);
    int cap, min, *c = list_count(&next, l, &cap, &min);
    if (!c) {
        snprintf(err, n, "%s is not a list of rows", list ? list : "(null)");
        return false;
    }
    if (*c >= cap) {
        snprintf(err, n, "%s is full: at most %d rows", list, cap);
        return false;
    }
    if (*c == 0)
        default_row(&next, l);
    else
        copy_row(&next, l, *c, *c - 1);
    (*c)++;
    structural(e, &next);
    return true;
}

bool scenario_edit_remove_row(scenario_edit *e, const char *list, int i, char *err, size_t n)
{
    scenario next = e->cur;
    list_id l = list_of(list);
    int cap, min, *c = list_count(&next, l, &cap, &min);
    if (!c) {
        snprintf(err, n, "%s is not a list of rows", list ? list : "(null)");
        return false;
    }
    if (i < 0 || i >= *c) {
        snprintf(err, n, "%s has no row %d (it has %d)", list, i, *c);
        return false;
    }
    if (*c <= min) {
        snprintf(err, n, "%s needs at least %d row%s", list, min, min == 1 ? "" : "s");
        return false;
    }
    for (int k = i; k + 1 < *c; k++)
        copy_row(&next, l, k, k + 1);
    (*c)--;
    structural(e, &next);
    return true;
}

/* ---- undo ------------------------------------------------------------------------------ */

bool scenario_edit_undo(scenario_edit *e)
{
    if (e->n_undo == 0)
        return false;
    e->redo[e->n_redo++] = e->cur;
    e->cur = e->undo[--e->n_undo];
    scenario_edit_break_merge(e);
    changed(e);
    return true;
}

bool scenario_edit_redo(scenario_edit *e)
{
    if (e->n_redo == 0)
        return false;
    e->undo[e->n_undo++] = e->cur;
    e->cur = e->redo[--e->n_redo];
    scenario_edit_break_merge(e);
    changed(e);
    return true;
}

/* ---- problems -------------------------------------------------------------------------- */

const scenario_diags *scenario_edit_problems(const scenario_edit *e) { return &e->problems; }

/* Whether a is b or a path inside b: "x.y[1].z" is inside "x.y[1]" and "x", not "x.y[10]". */
static bool path_within(const char *a, const char *b)
{
    size_t n = strlen(b);
    return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '.' || a[n] == '[');
}

const char *scenario_edit_problem(const scenario_edit *e, const char *path)
{
    for (int i = 0; i < e->problems.count; i++) {
        const char *p = e->problems.items[i].path;
        if (path_within(path, p) || path_within(p, path))
            return e->problems.items[i].message;
    }
    return NULL;
}

/* ---- files ----------------------------------------------------------------------------- */

bool scenario_edit_autosave_path(const char *path, char *out, size_t out_len)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path + 1) : 0;
    int k = snprintf(out, out_len, "%.*s.%s.autosave", (int)dir, path, path + dir);
    return k > 0 && (size_t)k < out_len && path[dir] != '\0';
}

/* The autosave's name, malloc'ed (it always fits); NULL when out of memory or path has no
 * file name. */
static char *autosave_name(const char *path)
{
    size_t cap = strlen(path) + 16;
    char *a = malloc(cap);
    if (a && !scenario_edit_autosave_path(path, a, cap)) {
        free(a);
        a = NULL;
    }
    return a;
}

bool scenario_edit_has_autosave(const char *path)
{
    char *a = autosave_name(path);
    bool yes = a && access(a, F_OK) == 0;
    free(a);
    return yes;
}

void scenario_edit_discard_autosave(const char *path)
{
    char *a = autosave_name(path);
    if (a)
        unlink(a);
    free(a);
}

bool scenario_edit_recover(const char *path, scenario *out, scenario_diags *diags)
{
    char *a = autosave_name(path);
    /* Out of memory goes through the loader too (a file that cannot be read), so the problem
     * lands in diags like every other. */
    bool ok = scenario_load_draft_file(a ? a : "", out, diags);
    free(a);
    return ok;
}

static bool write_text(scenario_edit *e, const char *path, char *err, size_t n)
{
    if (!e->def.write_file) {
        snprintf(err, n, "this editor has no file writer");
        return false;
    }
    char *text = scenario_save_string(&e->cur);
    if (!text) {
        snprintf(err, n, "out of memory");
        return false;
    }
    int rc = e->def.write_file(path, text, strlen(text), err, n);
    free(text);
    return rc == 0;
}

bool scenario_edit_save_as(scenario_edit *e, const char *path, char *err, size_t n)
{
    if (!path || !path[0] || strlen(path) >= sizeof e->path) {
        snprintf(err, n, "no file name to save to");
        return false;
    }
    if (!write_text(e, path, err, n))
        return false;
    /* The autosave beside the old name belongs to the old name. */
    if (e->path[0])
        scenario_edit_discard_autosave(e->path);
    snprintf(e->path, sizeof e->path, "%s", path);
    scenario_edit_discard_autosave(e->path);
    e->saved = e->cur;
    e->autosave_written = false;
    e->dirty = false;
    e->changed_since_autosave = false;
    e->autosave_due_now = false;
    e->autosave_written = true;
    return true;
}

bool scenario_edit_save(scenario_edit *e, char *err, size_t n)
{
    char path[EDIT_PATH_CAP];
    snprintf(path, sizeof path, "%s", e->path);
    return scenario_edit_save_as(e, path, err, n);
}

bool scenario_edit_tick(scenario_edit *e, double now_s, char *err, size_t n)
{
    if (!e->have_clock) {
        e->have_clock = true;
        e->last_autosave_s = now_s;
    }
    if (e->path[0] && !e->dirty && e->autosave_written) {
        /* Undone back to the file as saved: an autosave would offer edits nobody wants. */
        scenario_edit_discard_autosave(e->path);
        e->autosave_written = false;
    }
    if (!e->path[0] || !e->dirty || !e->changed_since_autosave)
        return false;
    if (!e->autosave_due_now && now_s - e->last_autosave_s < e->def.autosave_interval_s)
        return false;
    char *a = autosave_name(e->path);
    if (!a) {
        snprintf(err, n, "out of memory");
        return false;
    }
    e->last_autosave_s = now_s;
    bool ok = write_text(e, a, err, n);
    free(a);
    if (!ok)
        return false;
    e->changed_since_autosave = false;
    e->autosave_due_now = false;
    e->autosave_written = true;
    return true;
}
