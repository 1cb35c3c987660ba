/* screen_editor: the scenario editor screen (screen_editor.h): input, the live preview, drawing. */
#include "screen_editor.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"
#include "editor_fields.h"
#include "trainer_internal.h"

#define C_PLAN 0xff40ffffu   /* plan points, as the outside view marks them */
#define C_VESSEL 0xff6060ffu
#define C_VEIN 0x6090ffffu
#define C_BONE 0xe8e0c8a0u
#define C_SEL 0x2a3442ffu

typedef enum editor_drag { DRAG_NONE = 0, DRAG_VALUE, DRAG_PROBE, DRAG_MAP } editor_drag;

struct editor_state {
    scenario_edit *ed;
    editor_fields fields;
    unsigned fields_rev;      /* the revision the table was built for */
    int sel, top;             /* selected field, first line shown */
    bool typing;
    bool typing_path;         /* typing the file name to save an untitled case to */
    char typed[512];
    size_t cursor;            /* the text cursor: a byte offset into typed, on a character start */
    char msg[300];
    ui_color msg_color;
    int asking;               /* 1 recover the autosave?, 2 unsaved changes on leaving, 3 a new
                                 case: which preset? */
    int preset;               /* asking 3: the picker's case it would start from */
    scenario recovered;
    bool back_to_picker;      /* opened from the picker: leaving goes back there */
    bool new_case;            /* started from a preset and not saved yet: named after its file */
    /* The preview. */
    phantom *ph;
    unsigned preview_rev;
    bool have_preview;
    probe_pose pose;          /* the preview probe: moved like the trainee's, never saved */
    bool pose_moved;
    image_tex tex;
    int rows, cols;
    double dz_mm, dx_mm;
    char preview_err[300];
    outside_camera cam;
    float list_r[4], image_r[4], view_r[4], map_r[4];
    float line_h;
    int lines_shown;
    /* Dragging. */
    editor_drag drag;
    float drag_x;             /* where the value drag started (fb px) */
    char drag_path[2][96];    /* the map handle's x and y paths */
    bool drag_pose;           /* the map drag moves the preview probe */
};

static editor_state *es(trainer *t) { return t->editor; }

static void say(trainer *t, ui_color c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(trainer *t, ui_color c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->editor->msg, sizeof t->editor->msg, fmt, ap);
    va_end(ap);
    t->editor->msg_color = c;
}

void editor_free(trainer *t)
{
    editor_state *s = t->editor;
    if (!s)
        return;
    scenario_edit_destroy(s->ed);
    editor_fields_free(&s->fields);
    phantom_destroy(s->ph);
    if (t->gl)
        image_tex_destroy(&s->tex);
    free(s);
    t->editor = NULL;
}

static scenario_edit *new_session(const scenario *sc, const char *path)
{
    scenario_edit_def def = scenario_edit_default_def();
    def.write_file = atomic_file_write;
    return scenario_edit_create(&def, sc, path);
}

bool trainer_open_editor(trainer *t, const char *path, char *err, size_t n)
{
    scenario sc = scenario_default();
    bool exists = path && access(path, F_OK) == 0;
    if (exists && !picker_load_case(path, &sc, err, n))
        return false;
    editor_free(t);
    editor_state *s = calloc(1, sizeof *s);
    if (!s || !(s->ed = new_session(&sc, path))) {
        free(s);
        snprintf(err, n, "out of memory");
        return false;
    }
    t->editor = s;
    s->pose = sc.pose;
    s->cam = outside_default_camera();
    s->fields_rev = scenario_edit_revision(s->ed) - 1;
    s->preview_rev = s->fields_rev;
    s->back_to_picker = t->screen == SCREEN_PICKER;
    if (path && scenario_edit_has_autosave(path)) {
        scenario_diags d = {0};
        if (scenario_edit_recover(path, &s->recovered, &d))
            s->asking = 1;
        else
            say(t, C_WARN, "An autosave of this case is left but does not load (%s): kept beside the file.",
                d.count ? d.items[0].message : "unreadable");
        scenario_diags_free(&d);
    }
    if (!s->asking && exists)
        say(t, C_DIM, "Editing %s.", path);
    else if (!s->asking)
        say(t, C_DIM, "A new case%s%s: Ctrl+S saves it.", path ? " for " : "", path ? path : "");
    t->screen = SCREEN_EDITOR;
    return true;
}

bool trainer_new_case(trainer *t, char *err, size_t n)
{
    if (!trainer_open_editor(t, NULL, err, n))
        return false;
    editor_state *s = es(t);
    s->preset = trainer_case_count(t) > 0 && trainer_case_selected(t) >= 0 ? trainer_case_selected(t) : 0;
    s->asking = 3;
    return true;
}

const scenario_edit *trainer_editor(const trainer *t)
{
    return t->screen == SCREEN_EDITOR && t->editor ? t->editor->ed : NULL;
}

void trainer_editor_rects(const trainer *t, float image[4], float map[4])
{
    static const float k_none[4];
    const editor_state *s = t->editor;
    memcpy(image, s ? s->image_r : k_none, sizeof s->image_r);
    memcpy(map, s ? s->map_r : k_none, sizeof s->map_r);
}

const char *trainer_editor_selected(const trainer *t)
{
    const editor_state *s = t->editor;
    return s && s->sel >= 0 && s->sel < s->fields.count ? s->fields.items[s->sel].path : "";
}

int trainer_editor_asking(const trainer *t) { return t->editor ? t->editor->asking : 0; }

/* ---- the field table ---------------------------------------------------------------------- */

static void refresh_fields(trainer *t)
{
    editor_state *s = es(t);
    unsigned rev = scenario_edit_revision(s->ed);
    if (rev == s->fields_rev)
        return;
    char keep[96] = "";
    if (s->sel < s->fields.count)
        snprintf(keep, sizeof keep, "%s", s->fields.items[s->sel].path);
    if (!editor_fields_build(&s->fields, scenario_edit_get(s->ed))) {
        say(t, C_BAD, "out of memory");
        return;
    }
    s->fields_rev = rev;
    /* The same field stays selected when it still exists (rows added or removed above). */
    for (int i = 0; i < s->fields.count; i++)
        if (!strcmp(s->fields.items[i].path, keep)) {
            s->sel = i;
            break;
        }
    if (s->sel >= s->fields.count)
        s->sel = s->fields.count - 1;
    if (s->sel < 0)
        s->sel = 0;
}

static const editor_field *selected(trainer *t)
{
    editor_state *s = es(t);
    return s->sel >= 0 && s->sel < s->fields.count ? &s->fields.items[s->sel] : NULL;
}

/* ---- the preview --------------------------------------------------------------------------- */

/* The phantom again when the case changed, and the B-mode when the case or the probe did: the
 * same synthesis as the scan screen, so the author sees what the resident will. */
static void refresh_preview(trainer *t)
{
    editor_state *s = es(t);
    unsigned rev = scenario_edit_revision(s->ed);
    if (rev == s->preview_rev && !s->pose_moved)
        return;
    const scenario *sc = scenario_edit_get(s->ed);
    if (rev != s->preview_rev) {
        char err[256] = "";
        phantom *ph = phantom_create(&sc->phantom, err, sizeof err);
        s->preview_rev = rev;
        if (!ph) {
            snprintf(s->preview_err, sizeof s->preview_err, "No preview: %s", err);
            return;
        }
        phantom_destroy(s->ph);
        s->ph = ph;
        /* The probe stays where the author put it, kept on the patch. */
        double hw = 0.5 * sc->phantom.width_mm, hl = 0.5 * sc->phantom.length_mm;
        s->pose.x_mm = fmin(fmax(s->pose.x_mm, -hw), hw);
        s->pose.y_mm = fmin(fmax(s->pose.y_mm, -hl), hl);
    }
    s->pose_moved = false;
    bmode_scene scene = {.ph = s->ph, .probe = sc->probe, .pose = s->pose};
    bmode_image img;
    char err[256];
    if (bmode_render(t->bm, &scene, &img, err, sizeof err) != 0) {
        snprintf(s->preview_err, sizeof s->preview_err, "No preview: %s", err);
        return;
    }
    image_tex_upload(&s->tex, img.pixels, img.cols, img.rows);
    s->rows = img.rows, s->cols = img.cols, s->dz_mm = img.dz_mm, s->dx_mm = img.dx_mm;
    s->have_preview = true;
    s->preview_err[0] = '\0';
}

/* ---- changes --------------------------------------------------------------------------------- */

static void report_change(trainer *t, bool ok, const char *err)
{
    if (!ok)
        say(t, C_BAD, "%s", err);
    else
        es(t)->msg[0] = '\0';
}

static void nudge(trainer *t, int dir, bool coarse)
{
    const editor_field *f = selected(t);
    char err[300];
    if (f)
        report_change(t, editor_field_nudge(f, es(t)->ed, dir, coarse, err, sizeof err), err);
}

/* The text cursor moves by whole UTF-8 characters (continuation bytes are 10xxxxxx). */
static size_t char_before(const char *text, size_t c)
{
    while (c > 0 && ((unsigned char)text[--c] & 0xc0) == 0x80)
        ;
    return c;
}

static size_t char_after(const char *text, size_t c)
{
    size_t n = strlen(text);
    if (c >= n)
        return n;
    c++;
    while (c < n && ((unsigned char)text[c] & 0xc0) == 0x80)
        c++;
    return c;
}

/* "name.json" from the last part of a path, for a new case's name (as mesosim new names it). */
static void name_of_file(const char *path, char *out, size_t n)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len > 5 && strcmp(base + len - 5, ".json") == 0)
        len -= 5;
    snprintf(out, n, "%.*s", (int)len, base);
}

static void do_save(trainer *t)
{
    editor_state *s = es(t);
    if (!scenario_edit_path(s->ed)[0]) {
        s->typing = s->typing_path = true;
        snprintf(s->typed, sizeof s->typed, "untitled.json");
        s->cursor = strlen(s->typed);
        SDL_StartTextInput();
        say(t, C_ACCENT, "Save as: type the file name, Enter saves.");
        return;
    }
    char err[600];
    if (!scenario_edit_save(s->ed, err, sizeof err)) {
        say(t, C_BAD, "Not saved: %s", err);
        return;
    }
    int np = scenario_edit_problems(s->ed)->count;
    if (np)
        say(t, C_WARN, "Saved %s, with %d problem%s: 'mesosim validate' refuses it until they are fixed.",
            scenario_edit_path(s->ed), np, np == 1 ? "" : "s");
    else
        say(t, C_GOOD, "Saved %s (canonical form).", scenario_edit_path(s->ed));
}

static void start_typing(trainer *t)
{
    editor_state *s = es(t);
    const editor_field *f = selected(t);
    if (!f)
        return;
    if (f->kind == EF_ADD_ROW) {
        char err[200];
        report_change(t, scenario_edit_add_row(s->ed, f->list, err, sizeof err), err);
        return;
    }
    s->typing = true;
    s->typing_path = false;
    editor_field_raw(f, scenario_edit_get(s->ed), s->typed, sizeof s->typed);
    s->cursor = strlen(s->typed);
    SDL_StartTextInput();
}

static void finish_typing(trainer *t, bool commit)
{
    editor_state *s = es(t);
    s->typing = false;
    SDL_StopTextInput();
    if (!commit)
        return;
    char err[600];
    if (s->typing_path) {
        if (s->new_case) {
            char name[sizeof ((scenario *)0)->name];
            name_of_file(s->typed, name, sizeof name);
            if (name[0])
                scenario_edit_set_string(s->ed, "name", name, err, sizeof err);
        }
        if (!scenario_edit_save_as(s->ed, s->typed, err, sizeof err))
            say(t, C_BAD, "Not saved: %s", err);
        else {
            say(t, C_GOOD, "Saved %s (canonical form).", s->typed);
            s->new_case = false;
        }
        return;
    }
    const editor_field *f = selected(t);
    if (f) {
        report_change(t, editor_field_enter(f, s->ed, s->typed, err, sizeof err), err);
        scenario_edit_break_merge(s->ed);
    }
}

static void leave(trainer *t)
{
    editor_state *s = es(t);
    /* The author has decided: nothing left to recover. */
    if (scenario_edit_path(s->ed)[0] && !scenario_edit_dirty(s->ed))
        scenario_edit_discard_autosave(scenario_edit_path(s->ed));
    if (s->back_to_picker) {
        editor_free(t);
        trainer_show_picker(t);
    } else {
        s->asking = 0;
        t->editor_quit = true;
    }
}

bool editor_ask_close(trainer *t)
{
    editor_state *s = es(t);
    if (!s || !scenario_edit_dirty(s->ed)) {
        if (s)
            leave(t);
        return true;
    }
    s->asking = 2;
    return false;
}

/* ---- events ---------------------------------------------------------------------------------- */

static float fb_scale(const trainer *t) { return t->win_w > 0 ? (float)t->fb_w / (float)t->win_w : 1.0f; }

static bool inside(const float r[4], float x, float y)
{
    return x >= r[0] && y >= r[1] && x < r[0] + r[2] && y < r[1] + r[3];
}

/* The skin map: phantom (x, y) mm to px and back, the patch fitted into map_r. */
static float map_scale(const editor_state *s, const scenario *sc)
{
    return fminf(s->map_r[2] / (float)sc->phantom.width_mm, s->map_r[3] / (float)sc->phantom.length_mm);
}

static void map_px(const editor_state *s, const scenario *sc, double x, double y, float *px, float *py)
{
    float k = map_scale(s, sc);
    *px = s->map_r[0] + 0.5f * s->map_r[2] + (float)x * k;
    *py = s->map_r[1] + 0.5f * s->map_r[3] + (float)y * k;
}

/* The handle under (px, py) on the map: a vessel end, a bone's apex or a plan point, as its x
 * and y paths. */
static bool map_handle(const editor_state *s, const scenario *sc, float px, float py, float r,
                       char xp[96], char yp[96])
{
    float best = r * r, hx, hy;
    bool found = false;
    for (int i = 0; i < sc->phantom.n_vessels; i++)
        for (int end = 0; end < 2; end++) {
            const double *p = end ? sc->phantom.vessels[i].b_mm : sc->phantom.vessels[i].a_mm;
            map_px(s, sc, p[0], p[1], &hx, &hy);
            float d = (hx - px) * (hx - px) + (hy - py) * (hy - py);
            if (d < best) {
                best = d, found = true;
                snprintf(xp, 96, "phantom.vessels[%d].%s_mm[0]", i, end ? "b" : "a");
                snprintf(yp, 96, "phantom.vessels[%d].%s_mm[1]", i, end ? "b" : "a");
            }
        }
    for (int i = 0; i < sc->phantom.n_bones; i++) {
        map_px(s, sc, sc->phantom.bones[i].x_mm, sc->phantom.bones[i].y_mm, &hx, &hy);
        float d = (hx - px) * (hx - px) + (hy - py) * (hy - py);
        if (d < best) {
            best = d, found = true;
            snprintf(xp, 96, "phantom.bones[%d].x_mm", i);
            snprintf(yp, 96, "phantom.bones[%d].y_mm", i);
        }
    }
    for (int i = 0; i < sc->plan.n_points; i++) {
        map_px(s, sc, sc->plan.points_mm[i][0], sc->plan.points_mm[i][1], &hx, &hy);
        float d = (hx - px) * (hx - px) + (hy - py) * (hy - py);
        if (d < best) {
            best = d, found = true;
            snprintf(xp, 96, "plan.points[%d].x_mm", i);
            snprintf(yp, 96, "plan.points[%d].y_mm", i);
        }
    }
    return found;
}

static void map_drag_to(trainer *t, float px, float py)
{
    editor_state *s = es(t);
    const scenario *sc = scenario_edit_get(s->ed);
    float k = map_scale(s, sc);
    double x = (px - s->map_r[0] - 0.5f * s->map_r[2]) / k, y = (py - s->map_r[1] - 0.5f * s->map_r[3]) / k;
    double hw = 0.5 * sc->phantom.width_mm, hl = 0.5 * sc->phantom.length_mm;
    x = round(10 * fmin(fmax(x, -hw), hw)) / 10;
    y = round(10 * fmin(fmax(y, -hl), hl)) / 10;
    if (s->drag_pose) {
        s->pose.x_mm = x, s->pose.y_mm = y, s->pose_moved = true;
        return;
    }
    char err[300];
    bool ok = scenario_edit_set_number(s->ed, s->drag_path[0], x, err, sizeof err) &&
              scenario_edit_set_number(s->ed, s->drag_path[1], y, err, sizeof err);
    report_change(t, ok, err);
}

static int field_at(const editor_state *s, float y);

static void mouse_down(trainer *t, float x, float y)
{
    editor_state *s = es(t);
    const scenario *sc = scenario_edit_get(s->ed);
    if (inside(s->list_r, x, y)) {
        int i = field_at(s, y);
        if (i < 0)
            return;
        if (s->typing)
            finish_typing(t, true);
        s->sel = i;
        const editor_field *f = selected(t);
        if (f && (f->kind == EF_NUMBER || f->kind == EF_INT) && x > s->list_r[0] + 0.55f * s->list_r[2]) {
            s->drag = DRAG_VALUE;
            s->drag_x = x;
            scenario_edit_break_merge(s->ed);
        }
    } else if (inside(s->image_r, x, y)) {
        s->drag = DRAG_PROBE;
        s->drag_x = x;
    } else if (inside(s->map_r, x, y)) {
        s->drag = DRAG_MAP;
        s->drag_pose = !map_handle(s, sc, x, y, S(t, 10), s->drag_path[0], s->drag_path[1]);
        scenario_edit_begin_group(s->ed);
        /* A click off the handles puts the probe there; a handle moves only when dragged. */
        if (s->drag_pose)
            map_drag_to(t, x, y);
    }
}

static void mouse_move(trainer *t, float x, float y, float dx, float dy, bool shift)
{
    editor_state *s = es(t);
    if (s->drag == DRAG_VALUE) {
        /* One step per 6 px of travel. */
        int steps = (int)((x - s->drag_x) / S(t, 6));
        if (steps) {
            s->drag_x += (float)steps * S(t, 6);
            for (int i = 0; i < abs(steps); i++)
                nudge(t, steps, shift);
        }
    } else if (s->drag == DRAG_PROBE && s->cols > 0 && s->image_r[2] > 0) {
        /* Slide as the scan screen does: the image follows the hand; Shift slides along y. */
        double mm = (double)s->cols * s->dx_mm / s->image_r[2];
        const scenario *sc = scenario_edit_get(s->ed);
        double hw = 0.5 * sc->phantom.width_mm, hl = 0.5 * sc->phantom.length_mm;
        if (shift)
            s->pose.y_mm = fmin(fmax(s->pose.y_mm + dy * mm, -hl), hl);
        else
            s->pose.x_mm = fmin(fmax(s->pose.x_mm - dx * mm, -hw), hw);
        s->pose_moved = true;
    } else if (s->drag == DRAG_MAP) {
        map_drag_to(t, x, y);
    } else if (inside(s->view_r, x, y) && (SDL_GetMouseState(NULL, NULL) & SDL_BUTTON_LMASK)) {
        outside_camera_orbit(&s->cam, 0.4f * dx / fb_scale(t), 0.4f * dy / fb_scale(t), 1.0f);
    }
}

/* Asking 3, a new case: Up/Down choose the case of the library it starts from, Enter takes it
 * and asks for the file name, Esc starts from the built-in default instead. */
static void preset_key(trainer *t, SDL_Keycode sym)
{
    editor_state *s = es(t);
    int n = trainer_case_count(t);
    if (sym == SDLK_UP || sym == SDLK_LEFT)
        s->preset = s->preset > 0 ? s->preset - 1 : 0;
    else if (sym == SDLK_DOWN || sym == SDLK_RIGHT)
        s->preset = s->preset + 1 < n ? s->preset + 1 : s->preset;
    else if (sym == SDLK_RETURN || sym == SDLK_KP_ENTER || sym == SDLK_ESCAPE) {
        scenario sc = scenario_default();
        char err[2048];
        const char *from = sym == SDLK_ESCAPE ? NULL : trainer_case_path(t, s->preset);
        if (from && !picker_load_case(from, &sc, err, sizeof err)) {
            say(t, C_BAD, "That case does not load: %s", err);
            return;
        }
        scenario_edit *ed = new_session(&sc, NULL);
        if (!ed) {
            say(t, C_BAD, "Out of memory.");
            return;
        }
        scenario_edit_destroy(s->ed);
        s->ed = ed;
        s->pose = sc.pose;
        s->fields_rev = scenario_edit_revision(s->ed) - 1;
        s->preview_rev = s->fields_rev;
        s->sel = s->top = 0;
        s->asking = 0;
        s->typing = s->typing_path = true;
        s->new_case = true;
        snprintf(s->typed, sizeof s->typed, "new_case.json");
        s->cursor = strlen(s->typed);
        SDL_StartTextInput();
        say(t, C_ACCENT, "A new case from %s: type its file name, Enter saves it there.",
            from ? from : "the built-in default");
    }
}

static void key_down(trainer *t, const SDL_KeyboardEvent *k)
{
    editor_state *s = es(t);
    SDL_Keycode sym = k->keysym.sym;
    bool ctrl = (k->keysym.mod & KMOD_CTRL) != 0, shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    if (s->asking == 1) {
        if (sym == SDLK_y || sym == SDLK_RETURN) {
            /* One step over the file as saved: undo shows what the crash had not saved. */
            scenario_edit_replace(s->ed, &s->recovered);
            s->pose = s->recovered.pose;
            say(t, C_GOOD, "Recovered the autosave (unsaved until Ctrl+S; Ctrl+Z shows the file as saved).");
            s->asking = 0;
        } else if (sym == SDLK_n || sym == SDLK_ESCAPE) {
            scenario_edit_discard_autosave(scenario_edit_path(s->ed));
            say(t, C_DIM, "The autosave was discarded.");
            s->asking = 0;
        }
        return;
    }
    if (s->asking == 2) {
        if (sym == SDLK_s) {
            do_save(t);
            if (!scenario_edit_dirty(s->ed))
                leave(t);
        } else if (sym == SDLK_d) {
            scenario_edit_discard_autosave(scenario_edit_path(s->ed));
            leave(t);
        } else if (sym == SDLK_ESCAPE) {
            s->asking = 0;
        }
        return;
    }
    if (s->asking == 3) {
        preset_key(t, sym);
        return;
    }
    if (s->typing) {
        size_t n = strlen(s->typed), c = s->cursor > n ? n : s->cursor;
        if (sym == SDLK_RETURN || sym == SDLK_KP_ENTER)
            finish_typing(t, true);
        else if (sym == SDLK_ESCAPE)
            finish_typing(t, false);
        else if (sym == SDLK_LEFT)
            s->cursor = char_before(s->typed, c);
        else if (sym == SDLK_RIGHT)
            s->cursor = char_after(s->typed, c);
        else if (sym == SDLK_HOME)
            s->cursor = 0;
        else if (sym == SDLK_END)
            s->cursor = n;
        else if (sym == SDLK_BACKSPACE && c > 0) {
            size_t b = char_before(s->typed, c);
            memmove(s->typed + b, s->typed + c, n - c + 1);
            s->cursor = b;
        } else if (sym == SDLK_DELETE && c < n) {
            size_t a = char_after(s->typed, c);
            memmove(s->typed + c, s->typed + a, n - a + 1);
        }
        return;
    }
    if (ctrl && (sym == SDLK_z || sym == SDLK_y)) {
        bool redo = sym == SDLK_y || shift;
        if (!(redo ? scenario_edit_redo(s->ed) : scenario_edit_undo(s->ed)))
            say(t, C_DIM, "Nothing to %s.", redo ? "redo" : "undo");
        else
            s->msg[0] = '\0';
        return;
    }
    if (ctrl && sym == SDLK_s) {
        do_save(t);
        return;
    }
    int page = s->lines_shown > 2 ? s->lines_shown - 2 : 1;
    char err[200];
    const editor_field *f = selected(t);
    switch (sym) {
    case SDLK_UP: s->sel = s->sel > 0 ? s->sel - 1 : 0; scenario_edit_break_merge(s->ed); break;
    case SDLK_DOWN:
        s->sel = s->sel + 1 < s->fields.count ? s->sel + 1 : s->sel;
        scenario_edit_break_merge(s->ed);
        break;
    case SDLK_PAGEUP: s->sel = s->sel > page ? s->sel - page : 0; break;
    case SDLK_PAGEDOWN: s->sel = s->sel + page < s->fields.count ? s->sel + page : s->fields.count - 1; break;
    case SDLK_LEFT: nudge(t, -1, shift); break;
    case SDLK_RIGHT: nudge(t, 1, shift); break;
    case SDLK_RETURN:
    case SDLK_KP_ENTER: start_typing(t); break;
    case SDLK_INSERT:
        if (f && f->list[0])
            report_change(t, scenario_edit_add_row(s->ed, f->list, err, sizeof err), err);
        break;
    case SDLK_DELETE:
        if (f && f->list[0] && f->row >= 0 && f->kind != EF_ADD_ROW)
            report_change(t, scenario_edit_remove_row(s->ed, f->list, f->row, err, sizeof err), err);
        break;
    case SDLK_ESCAPE: editor_ask_close(t); break;
    default: break;
    }
}

bool editor_event(trainer *t, const SDL_Event *e)
{
    editor_state *s = es(t);
    if (!s)
        return false;
    float k = fb_scale(t);
    bool shift = (SDL_GetModState() & KMOD_SHIFT) != 0;
    switch (e->type) {
    case SDL_KEYDOWN: key_down(t, &e->key); return true;
    case SDL_KEYUP: return true;
    case SDL_TEXTINPUT:
        if (s->typing) {
            size_t n = strlen(s->typed), add = strlen(e->text.text), c = s->cursor > n ? n : s->cursor;
            if (n + add < sizeof s->typed) {
                memmove(s->typed + c + add, s->typed + c, n - c + 1);
                memcpy(s->typed + c, e->text.text, add);
                s->cursor = c + add;
            }
        }
        return true;
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.button == SDL_BUTTON_LEFT && !s->asking)
            mouse_down(t, (float)e->button.x * k, (float)e->button.y * k);
        return true;
    case SDL_MOUSEBUTTONUP:
        if (s->drag != DRAG_NONE)
            scenario_edit_break_merge(s->ed);
        s->drag = DRAG_NONE;
        return true;
    case SDL_MOUSEMOTION:
        if (!s->asking)
            mouse_move(t, (float)e->motion.x * k, (float)e->motion.y * k, (float)e->motion.xrel * k,
                       (float)e->motion.yrel * k, shift);
        return true;
    case SDL_MOUSEWHEEL: {
        int mx, my;
        SDL_GetMouseState(&mx, &my);
        if (inside(s->view_r, (float)mx * k, (float)my * k))
            outside_camera_orbit(&s->cam, 0, 0, e->wheel.y > 0 ? 0.9f : 1.1f);
        else
            s->top = s->top - 3 * e->wheel.y < 0 ? 0 : s->top - 3 * e->wheel.y;
        return true;
    }
    default: return false;
    }
}

void editor_input(trainer *t, double t_s)
{
    editor_state *s = es(t);
    if (!s)
        return;
    char err[600];
    if (scenario_edit_tick(s->ed, t_s, err, sizeof err) == false && err[0] && scenario_edit_dirty(s->ed) &&
        strstr(err, "autosave"))
        say(t, C_WARN, "%s", err);
    refresh_fields(t);
    refresh_preview(t);
}

/* ---- drawing --------------------------------------------------------------------------------- */

/* The list as lines: a section's title before its first field, a problem under its field. */
typedef struct list_line {
    int field;        /* -1: a section title */
    const char *text; /* the title, or the problem */
    bool problem;
} list_line;

static int list_lines(const editor_state *s, list_line *out, int cap)
{
    int n = 0;
    const char *sec = NULL;
    for (int i = 0; i < s->fields.count && n + 3 < cap; i++) {
        const editor_field *f = &s->fields.items[i];
        if (f->section != sec) {
            sec = f->section;
            out[n++] = (list_line){-1, sec, false};
        }
        out[n++] = (list_line){i, NULL, false};
        const char *p = f->kind == EF_ADD_ROW ? NULL : scenario_edit_problem(s->ed, f->path);
        if (p)
            out[n++] = (list_line){i, p, true};
    }
    return n;
}

#define MAX_LINES 4096

static int field_at(const editor_state *s, float y)
{
    static list_line lines[MAX_LINES];
    int n = list_lines(s, lines, MAX_LINES);
    int li = s->top + (int)((y - s->list_r[1]) / s->line_h);
    return li >= 0 && li < n ? lines[li].field : -1;
}

static void layout(trainer *t)
{
    editor_state *s = es(t);
    float W = (float)t->fb_w, H = (float)t->fb_h, top = S(t, 44), bottom = H - S(t, 64);
    float lw = fminf(S(t, 560), 0.45f * W);
    s->list_r[0] = S(t, 10), s->list_r[1] = top, s->list_r[2] = lw, s->list_r[3] = bottom - top;
    float rx = lw + S(t, 24), rw = W - rx - S(t, 12);
    const scenario *sc = scenario_edit_get(s->ed);
    double img_w = s->cols * s->dx_mm, img_h = s->rows * s->dz_mm;
    float ih = 0.55f * (bottom - top), iw = img_h > 0 ? (float)(ih * img_w / img_h) : rw;
    if (iw > rw)
        iw = rw, ih = img_w > 0 ? (float)(iw * img_h / img_w) : ih;
    s->image_r[0] = rx + 0.5f * (rw - iw), s->image_r[1] = top + S(t, 18), s->image_r[2] = iw, s->image_r[3] = ih;
    float by = s->image_r[1] + ih + S(t, 26), bh = bottom - by;
    s->view_r[0] = rx, s->view_r[1] = by, s->view_r[2] = 0.5f * rw - S(t, 6), s->view_r[3] = bh;
    float mw = 0.5f * rw - S(t, 6), k = fminf(mw / (float)sc->phantom.width_mm, bh / (float)sc->phantom.length_mm);
    s->map_r[2] = k * (float)sc->phantom.width_mm, s->map_r[3] = k * (float)sc->phantom.length_mm;
    s->map_r[0] = rx + 0.5f * rw + S(t, 6) + 0.5f * (mw - s->map_r[2]), s->map_r[1] = by + 0.5f * (bh - s->map_r[3]);
    s->line_h = ui_line_height(t->ui, UI_SMALL) + S(t, 3);
    s->lines_shown = (int)(s->list_r[3] / s->line_h);
}

static void draw_list(trainer *t)
{
    editor_state *s = es(t);
    ui *u = t->ui;
    static list_line lines[MAX_LINES];
    int n = list_lines(s, lines, MAX_LINES);
    /* Keep the selected field (and its problem line) in view. */
    int sel_line = 0;
    for (int i = 0; i < n; i++)
        if (lines[i].field == s->sel && !lines[i].problem) {
            sel_line = i;
            break;
        }
    if (sel_line < s->top + 1)
        s->top = sel_line > 0 ? sel_line - 1 : 0;
    if (sel_line + 2 > s->top + s->lines_shown)
        s->top = sel_line + 2 - s->lines_shown;
    if (s->top > n - 1)
        s->top = n > 0 ? n - 1 : 0;
    const float *r = s->list_r;
    ui_rect(u, r[0], r[1], r[2], r[3], C_PANEL);
    const scenario *sc = scenario_edit_get(s->ed);
    float vx = r[0] + 0.55f * r[2];
    for (int li = s->top; li < n && li < s->top + s->lines_shown; li++) {
        float y = r[1] + (float)(li - s->top) * s->line_h;
        const list_line *l = &lines[li];
        if (l->field < 0) {
            ui_text(u, UI_SMALL, r[0] + S(t, 4), y + S(t, 1), C_ACCENT, l->text);
            continue;
        }
        const editor_field *f = &s->fields.items[l->field];
        if (l->problem) {
            ui_text(u, UI_SMALL, r[0] + S(t, 22), y + S(t, 1), C_BAD, l->text);
            continue;
        }
        bool is_sel = l->field == s->sel;
        if (is_sel)
            ui_rect(u, r[0], y, r[2], s->line_h, C_SEL);
        bool bad = f->kind != EF_ADD_ROW && scenario_edit_problem(s->ed, f->path);
        ui_text(u, UI_SMALL, r[0] + S(t, 14), y + S(t, 1), f->kind == EF_ADD_ROW ? C_DIM : C_TEXT, f->path);
        char val[600];
        if (is_sel && s->typing && !s->typing_path) {
            /* The caret where the cursor is, the text scrolled to keep it in view. */
            size_t c = s->cursor, from = c > 30 ? char_before(s->typed, c - 29) : 0;
            snprintf(val, sizeof val, "%s%.*s|%s", from ? "..." : "", (int)(c - from),
                     s->typed + from, s->typed + c);
        } else {
            editor_field_format(f, sc, val, sizeof val);
        }
        if (strlen(val) > 40) {
            size_t cut = 37;
            while (cut > 0 && ((unsigned char)val[cut] & 0xc0) == 0x80)
                cut--;
            memcpy(val + cut, "...", 4);
        }
        ui_text(u, UI_SMALL, vx, y + S(t, 1), is_sel && s->typing ? C_WARN : bad ? C_BAD : C_TEXT, val);
    }
}

static void draw_map(trainer *t)
{
    editor_state *s = es(t);
    ui *u = t->ui;
    const scenario *sc = scenario_edit_get(s->ed);
    const float *m = s->map_r;
    ui_rect(u, m[0], m[1], m[2], m[3], 0x3a2c28ff);
    ui_frame(u, m[0], m[1], m[2], m[3], S(t, 1), C_DIM);
    ui_text(u, UI_SMALL, m[0], m[1] - S(t, 16), C_DIM, "skin map (drag the points, bones, the probe)");
    float ax, ay, bx, by;
    for (int i = 0; i < sc->phantom.n_features; i++) {
        const phantom_feature_def *f = &sc->phantom.features[i];
        map_px(s, sc, f->x_mm, f->y_mm, &ax, &ay);
        ui_ring(u, ax, ay, fmaxf(S(t, 4), (float)f->width_mm * map_scale(s, sc)), S(t, 1), C_WARN);
    }
    for (int i = 0; i < sc->phantom.n_vessels; i++) {
        const phantom_vessel_def *v = &sc->phantom.vessels[i];
        map_px(s, sc, v->a_mm[0], v->a_mm[1], &ax, &ay);
        map_px(s, sc, v->b_mm[0], v->b_mm[1], &bx, &by);
        ui_color c = v->is_vein ? C_VEIN : C_VESSEL;
        ui_line(u, ax, ay, bx, by, fmaxf(S(t, 2), 2 * (float)v->radius_mm * map_scale(s, sc)), c);
        ui_disc(u, ax, ay, S(t, 4), c);
        ui_disc(u, bx, by, S(t, 4), c);
    }
    /* A bone: its outline in the skin plane (the ridge along its axis) and the apex handle. */
    for (int i = 0; i < sc->phantom.n_bones; i++) {
        const phantom_bone_def *b = &sc->phantom.bones[i];
        double ca = cos(b->angle_deg * M_PI / 180), sa = sin(b->angle_deg * M_PI / 180);
        map_px(s, sc, b->x_mm - 0.5 * b->length_mm * ca, b->y_mm - 0.5 * b->length_mm * sa, &ax, &ay);
        map_px(s, sc, b->x_mm + 0.5 * b->length_mm * ca, b->y_mm + 0.5 * b->length_mm * sa, &bx, &by);
        ui_line(u, ax, ay, bx, by, fmaxf(S(t, 2), (float)b->width_mm * map_scale(s, sc)), C_BONE);
        map_px(s, sc, b->x_mm, b->y_mm, &ax, &ay);
        ui_disc(u, ax, ay, S(t, 4), C_TEXT);
    }
    for (int i = 0; i < sc->plan.n_points; i++) {
        map_px(s, sc, sc->plan.points_mm[i][0], sc->plan.points_mm[i][1], &ax, &ay);
        ui_disc(u, ax, ay, S(t, 4), C_PLAN);
    }
    /* The preview probe's footprint: its aperture along its rotation. */
    double half = 0.5 * probe_fov_mm(&sc->probe), c = cos(s->pose.rot_deg * M_PI / 180),
           sn = sin(s->pose.rot_deg * M_PI / 180);
    map_px(s, sc, s->pose.x_mm - half * c, s->pose.y_mm - half * sn, &ax, &ay);
    map_px(s, sc, s->pose.x_mm + half * c, s->pose.y_mm + half * sn, &bx, &by);
    ui_line(u, ax, ay, bx, by, S(t, 4), C_GOOD);
}

static void draw_preview(trainer *t)
{
    editor_state *s = es(t);
    ui *u = t->ui;
    const scenario *sc = scenario_edit_get(s->ed);
    const float *r = s->image_r;
    ui_textf(u, UI_SMALL, r[0], r[1] - S(t, 16), C_DIM, "preview at x %.1f, y %.1f mm (drag to slide, Shift: along y)",
             s->pose.x_mm, s->pose.y_mm);
    if (s->preview_err[0])
        screens_wrap(t, UI_SMALL, r[0], r[1] + r[3] + S(t, 4), r[2], C_BAD, s->preview_err);
    if (!s->have_preview || !s->ph)
        return;
    ui_flush(u); /* the overlays drawn so far go under the image */
    image_view_draw(t->iv, &s->tex, r[0], r[1], r[2], r[3], t->fb_w, t->fb_h);
    outside_scene os = {.ph = s->ph, .probe = sc->probe, .pose = s->pose};
    os.frame = probe_frame_make(s->ph, &sc->probe, &s->pose);
    os.plan_mm = (const double(*)[2])sc->plan.points_mm;
    os.n_plan = sc->plan.n_points;
    outside_view_draw(t->ov, &os, &s->cam, (int)s->view_r[0], (int)s->view_r[1], (int)s->view_r[2],
                      (int)s->view_r[3], t->fb_w, t->fb_h);
    ui_begin(u, t->fb_w, t->fb_h);
}

static void draw_question(trainer *t, const char *text)
{
    float W = (float)t->fb_w, w = fminf(W - S(t, 80), S(t, 720)), x = 0.5f * (W - w), y = 0.4f * (float)t->fb_h;
    ui_rect(t->ui, x, y, w, S(t, 70), C_PANEL);
    ui_frame(t->ui, x, y, w, S(t, 70), S(t, 2), C_WARN);
    screens_wrap(t, UI_BODY, x + S(t, 16), y + S(t, 12), w - S(t, 32), C_WARN, text);
}

void editor_draw(trainer *t)
{
    editor_state *s = es(t);
    if (!s)
        return;
    layout(t);
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    draw_preview(t);
    ui_rect(u, 0, 0, W, S(t, 36), C_BAR);
    const char *path = scenario_edit_path(s->ed);
    int np = scenario_edit_problems(s->ed)->count;
    float x = S(t, 12);
    x += ui_text(u, UI_BODY, x, S(t, 9), C_ACCENT, "mesosim editor");
    ui_textf(u, UI_BODY, x + S(t, 14), S(t, 9), C_TEXT, "%s%s  \xe2\x80\x94  %s", path[0] ? path : "(untitled)",
             scenario_edit_dirty(s->ed) ? " *" : "", scenario_edit_get(s->ed)->name);
    char right[64];
    snprintf(right, sizeof right, np ? "%d problem%s" : "valid", np, np == 1 ? "" : "s");
    ui_text(u, UI_BODY, W - S(t, 12) - ui_text_width(u, UI_BODY, right), S(t, 9), np ? C_BAD : C_GOOD, right);
    draw_list(t);
    draw_map(t);
    ui_rect(u, 0, H - S(t, 60), W, S(t, 60), C_BAR);
    if (s->typing_path && s->typing)
        ui_textf(u, UI_BODY, S(t, 12), H - S(t, 54), C_WARN, "Save as: %.*s|%s", (int)s->cursor,
                 s->typed, s->typed + s->cursor);
    else if (s->msg[0])
        screens_wrap(t, UI_SMALL, S(t, 12), H - S(t, 54), W - S(t, 24), s->msg_color, s->msg);
    else if (np) {
        /* The first problem in words, wherever its field is in the list. */
        const scenario_diag *g = &scenario_edit_problems(s->ed)->items[0];
        char line[420];
        snprintf(line, sizeof line, "%s: %s", g->path[0] ? g->path : "$", g->message);
        screens_wrap(t, UI_SMALL, S(t, 12), H - S(t, 54), W - S(t, 24), C_BAD, line);
    }
    char hints[400];
    editor_hints(t, hints, sizeof hints);
    ui_text(u, UI_SMALL, S(t, 12), H - S(t, 22), C_DIM, hints);
    if (s->asking == 1)
        draw_question(t, "An autosave of this case from an editor that did not close is left. Recover it? "
                         "Y: recover its edits, N: discard it and open the file as saved.");
    else if (s->asking == 2)
        draw_question(t, "There are unsaved changes. S: save and leave, D: discard them and leave, Esc: stay.");
    else if (s->asking == 3) {
        const trainer_case *c = s->preset < t->picker.n_cases ? &t->picker.cases[s->preset] : NULL;
        const char *file = c ? strrchr(c->path, '/') : NULL;
        char label[1400], q[1800];
        if (c && c->ok)
            snprintf(label, sizeof label, "%s, level %d (%s)", c->sc->name, c->sc->level,
                     file ? file + 1 : c->path);
        else
            snprintf(label, sizeof label, "%s", c ? c->path : "none");
        snprintf(q, sizeof q, "A new case: start from which case of the library? Up/Down: %s, %d of %d. "
                              "Enter: take it, then name the file. Esc: the built-in default.",
                 label, s->preset + 1, trainer_case_count(t));
        draw_question(t, q);
    }
}

void editor_hints(const trainer *t, char *buf, size_t len)
{
    (void)t;
    snprintf(buf, len, "Up/Down field  Left/Right change (Shift x10)  Enter type  Ins/Del row  "
                       "Ctrl+Z undo  Ctrl+Shift+Z/Ctrl+Y redo  Ctrl+S save  Esc leave");
}
