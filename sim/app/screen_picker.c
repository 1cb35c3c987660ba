/* screen_picker: the case picker. Lists the bundled scenarios, then the user's own
 * ($XDG_DATA_HOME/mesosim/scenarios and `mesosim --cases DIR`), each loaded or its first
 * problem shown, each folder in the library's progression (by level, then file name), each row
 * with its level and the chosen case with what it teaches; the list scrolls to keep the
 * selection in view. The last case opened is selected first (the state file, which also keeps
 * the sound's volume and mute). Up/Down or a click to choose, Return or a second click to open,
 * F5 to read the folders again, B to practise the cases blind or guided (issue 13: any case, so
 * the records compare the trainee blind and guided on the same cases). */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "screen_editor.h"
#include "trainer_internal.h"

void picker_free(trainer *t)
{
    for (int i = 0; i < t->picker.n_cases; i++)
        free(t->picker.cases[i].sc);
    t->picker.n_cases = 0;
}

/* A folder's cases in the library's progression: by level, then by file name; a case that
 * cannot be used comes last, where its error is read without hiding the others. */
static int cmp_case(const void *a, const void *b)
{
    const trainer_case *x = a, *y = b;
    int lx = x->ok ? x->sc->level : 99, ly = y->ok ? y->sc->level : 99;
    if (lx != ly)
        return lx < ly ? -1 : 1;
    return strcmp(x->path, y->path);
}

static void load_case(trainer_case *c)
{
    c->sc = malloc(sizeof *c->sc);
    c->ok = c->sc && picker_load_case(c->path, c->sc, c->error, sizeof c->error);
    if (!c->ok) {
        free(c->sc);
        c->sc = NULL;
    }
}

bool picker_load_case(const char *path, scenario *out, char *err, size_t n)
{
    scenario_diags d = {0};
    bool ok = scenario_load_file(path, out, &d);
    if (!ok) {
        size_t used = 0;
        err[0] = '\0';
        for (int i = 0; i < d.count && used + 1 < n; i++) {
            int w = snprintf(err + used, n - used, "%s%s:%d:%d: %s: %s", i ? "\n" : "", path,
                             d.items[i].line, d.items[i].col,
                             d.items[i].path[0] ? d.items[i].path : "$", d.items[i].message);
            if (w < 0)
                break;
            used += (size_t)w < n - used ? (size_t)w : n - used - 1;
        }
        if (d.count == 0)
            snprintf(err, n, "%s: cannot be loaded", path);
    }
    scenario_diags_free(&d);
    return ok;
}

/* Adds the *.json of dir (a JSON Schema, *.schema.json, is no case); false when dir cannot
 * be read. */
static bool add_dir(picker_state *p, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return false;
    int first = p->n_cases;
    for (struct dirent *e; (e = readdir(d)) && p->n_cases < TRAINER_MAX_CASES;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") || strstr(e->d_name, ".schema."))
            continue;
        trainer_case *c = &p->cases[p->n_cases++];
        memset(c, 0, sizeof *c);
        if (snprintf(c->path, sizeof c->path, "%s/%s", dir, e->d_name) >= (int)sizeof c->path)
            p->n_cases--; /* a path too long to open is no case */
    }
    closedir(d);
    for (int i = first; i < p->n_cases; i++)
        load_case(&p->cases[i]);
    qsort(p->cases + first, (size_t)(p->n_cases - first), sizeof p->cases[0], cmp_case);
    return true;
}

/* The bundled scenarios (beside the source tree, the install prefix, or the working dir),
 * then the user's folder and --cases. */
void picker_rescan(trainer *t)
{
    picker_state *p = &t->picker;
    picker_free(t);
    static const char *const k_dirs[] = {MESOSIM_SOURCE_DIR "/scenarios",
                                         MESOSIM_INSTALL_DATADIR "/scenarios", "scenarios"};
    p->cases_dir[0] = '\0';
    for (size_t i = 0; i < sizeof k_dirs / sizeof k_dirs[0] && !p->cases_dir[0]; i++)
        if (add_dir(p, k_dirs[i]))
            snprintf(p->cases_dir, sizeof p->cases_dir, "%s", k_dirs[i]);
    const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(p->user_dir, sizeof p->user_dir, "%s/mesosim/scenarios", xdg);
    else
        snprintf(p->user_dir, sizeof p->user_dir, "%s/.local/share/mesosim/scenarios", home && *home ? home : ".");
    add_dir(p, p->user_dir);
    if (t->def.cases_dir && !add_dir(p, t->def.cases_dir))
        fprintf(stderr, "mesosim: --cases %s: %s\n", t->def.cases_dir, strerror(errno));
    /* The last case opened first in the selection, else the default case. */
    p->sel = 0;
    for (int i = 0; i < p->n_cases; i++)
        if (strstr(p->cases[i].path, "/adult_back.json"))
            p->sel = i;
    for (int i = 0; i < p->n_cases; i++)
        if (p->last_case[0] && !strcmp(p->cases[i].path, p->last_case))
            p->sel = i;
}

/* ---- the state file ------------------------------------------------------------------------ */

static bool state_path(trainer *t)
{
    if (t->def.state_path) {
        snprintf(t->state_path, sizeof t->state_path, "%s", t->def.state_path);
        return t->state_path[0] != '\0';
    }
    /* Beside bindings.conf: one folder holds what the user set. */
    const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(t->state_path, sizeof t->state_path, "%s/mesosim/window.conf", xdg);
    else
        snprintf(t->state_path, sizeof t->state_path, "%s/.config/mesosim/window.conf", home && *home ? home : ".");
    return true;
}

void trainer_state_load(trainer *t)
{
    if (!state_path(t))
        return;
    FILE *f = fopen(t->state_path, "r");
    if (!f)
        return;
    char line[1200];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        double v;
        if (!strncmp(line, "last_case = ", 12))
            snprintf(t->picker.last_case, sizeof t->picker.last_case, "%.1000s", line + 12);
        else if (sscanf(line, "volume = %lf", &v) == 1)
            sound_set_volume(t->snd, v);
        else if (sscanf(line, "muted = %lf", &v) == 1)
            sound_set_muted(t->snd, v != 0);
    }
    fclose(f);
}

void trainer_state_save(trainer *t)
{
    if (!t->state_path[0])
        return;
    char dir[1100];
    snprintf(dir, sizeof dir, "%s", t->state_path);
    for (char *q = dir + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            mkdir(dir, 0755);
            *q = '/';
        }
    FILE *f = fopen(t->state_path, "w");
    if (!f) {
        fprintf(stderr, "mesosim: cannot keep the settings in %s: %s\n", t->state_path, strerror(errno));
        return;
    }
    fprintf(f, "# mesosim window state (the last case, the sound); delete it to forget\n"
               "last_case = %s\nvolume = %.1f\nmuted = %d\n",
            t->picker.last_case, sound_volume(t->snd), sound_muted(t->snd));
    fclose(f);
}

int trainer_show_picker(trainer *t)
{
    tsession_close(t);
    picker_rescan(t);
    t->screen = SCREEN_PICKER;
    return t->picker.n_cases;
}

/* The rows that fit under the title; the list scrolls so that the selection stays in view
 * (the library has more cases than a 720-line window shows). */
static int picker_first_row(const trainer *t)
{
    int fit = (int)(((float)t->fb_h - S(t, 100) - S(t, 8)) / S(t, 54));
    if (fit < 1)
        fit = 1;
    return t->picker.sel >= fit ? t->picker.sel - fit + 1 : 0;
}

static bool picker_row_shown(const trainer *t, int i)
{
    int first = picker_first_row(t);
    return i >= first && (float)(S(t, 100) + (i - first + 1) * S(t, 54)) <= (float)t->fb_h;
}

static float picker_row_y(const trainer *t, int i)
{
    return S(t, 100) + (i - picker_first_row(t)) * S(t, 54);
}

static int picker_hit(const trainer *t, float x, float y)
{
    for (int i = 0; i < t->picker.n_cases; i++) {
        if (!picker_row_shown(t, i))
            continue;
        float ry = picker_row_y(t, i);
        if (x >= S(t, 24) && x < (float)t->fb_w * 0.55f && y >= ry && y < ry + S(t, 50))
            return i;
    }
    return -1;
}

void picker_draw(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w;
    char hints[256];
    picker_hints(t, hints, sizeof hints);
    screens_top_bar(t, hints);
    ui_text(u, UI_TITLE, S(t, 24), S(t, 52), C_TEXT, "Choose a case");
    char reload[96];
    float cw = ui_textf(u, UI_SMALL, S(t, 200), S(t, 60), C_DIM, "Your cases: %s (and --cases DIR); %s reads them again",
                        t->picker.user_dir, screens_key(t, BTN_RELOAD, reload));
    if (t->def.trainee)
        ui_textf(u, UI_SMALL, S(t, 216) + cw, S(t, 60), C_ACCENT, "Trainee: %s", t->def.trainee);
    if (t->picker.n_cases == 0)
        ui_text(u, UI_BODY, S(t, 24), S(t, 100), C_BAD, "No scenario files found (scenarios/*.json).");
    for (int i = 0; i < t->picker.n_cases; i++) {
        if (!picker_row_shown(t, i))
            continue;
        const trainer_case *c = &t->picker.cases[i];
        float y = picker_row_y(t, i), w = W * 0.55f - S(t, 24);
        ui_rect(u, S(t, 24), y, w, S(t, 50), i == t->picker.sel ? 0x2a3c52ff : C_PANEL);
        const char *base = strrchr(c->path, '/');
        bool yours = !t->picker.cases_dir[0] || strncmp(c->path, t->picker.cases_dir, strlen(t->picker.cases_dir));
        if (c->ok) {
            float nw = ui_text(u, UI_BODY, S(t, 36), y + S(t, 6), C_TEXT, c->sc->name);
            if (yours)
                ui_text(u, UI_SMALL, S(t, 44) + nw, y + S(t, 8), C_ACCENT, "your case");
            ui_textf(u, UI_SMALL, S(t, 36), y + S(t, 28), C_DIM,
                     "Level %d  \xe2\x80\x94  %.0f y %s, %s  \xe2\x80\x94  skin: %s", c->sc->level,
                     c->sc->patient.age_years, c->sc->patient.sex, c->sc->patient.region, c->sc->patient.skin);
        } else {
            ui_textf(u, UI_BODY, S(t, 36), y + S(t, 6), C_BAD, "%s (cannot be used)", base ? base + 1 : c->path);
        }
    }
    if (t->picker.n_cases > 0) {
        const trainer_case *c = &t->picker.cases[t->picker.sel];
        float x = W * 0.55f + S(t, 24), w = W - x - S(t, 24);
        if (c->ok) {
            ui_text(u, UI_TITLE, x, S(t, 100), C_TEXT, c->sc->name);
            float gy = S(t, 140) + screens_wrap(t, UI_BODY, x, S(t, 140), w, C_TEXT, c->sc->description);
            /* What the case teaches, under its place in the progression (docs/authoring.md). */
            if (c->sc->n_goals > 0) {
                ui_textf(u, UI_SMALL, x, gy + S(t, 12), C_ACCENT, "Level %d of 5  \xe2\x80\x94  what this case teaches:",
                         c->sc->level);
                gy += S(t, 34);
                for (int g = 0; g < c->sc->n_goals; g++) {
                    char line[SCENARIO_GOAL_CAP + 8];
                    snprintf(line, sizeof line, "\xe2\x80\xa2 %s", c->sc->goals[g]);
                    gy += screens_wrap(t, UI_SMALL, x, gy, w, C_DIM, line) + S(t, 4);
                }
            }
        } else {
            screens_wrap(t, UI_SMALL, x, S(t, 100), w, C_BAD, c->error);
        }
    }
}

void picker_hints(const trainer *t, char *buf, size_t len)
{
    char up[96], down[96], open[96], quit[96], help[96];
    snprintf(buf, len, "%s/%s choose   %s open   E edit   N new case   B blind: %s   %s quit   %s controls",
             screens_key(t, BTN_MENU_UP, up), screens_key(t, BTN_MENU_DOWN, down), screens_key(t, BTN_CONFIRM, open),
             t->open.blind ? "on" : "off", screens_key(t, BTN_BACK, quit), screens_key(t, BTN_HELP, help));
}

bool picker_event(trainer *t, const SDL_Event *e)
{
    picker_state *p = &t->picker;
    if (e->type == SDL_KEYDOWN && e->key.keysym.sym == SDLK_i && !(e->key.keysym.mod & (KMOD_CTRL | KMOD_ALT))) {
        instructor_show(t); /* everyone's progress, from the records */
        return true;
    }
    if (e->type != SDL_KEYDOWN || (e->key.keysym.mod & (KMOD_CTRL | KMOD_ALT)))
        return false;
    char err[2048];
    if (e->key.keysym.sym == SDLK_b) {
        t->open.blind = !t->open.blind; /* for the next session; the briefing says so */
        return true;
    }
    if (e->key.keysym.sym == SDLK_n) {
        if (!trainer_new_case(t, err, sizeof err))
            fprintf(stderr, "mesosim: %s\n", err);
        return true;
    }
    if (e->key.keysym.sym != SDLK_e || p->n_cases == 0)
        return false;
    if (!trainer_open_editor(t, p->cases[p->sel].path, err, sizeof err))
        fprintf(stderr, "mesosim: %s\n", err);
    return true;
}

void picker_input(trainer *t, const controls *c)
{
    picker_state *p = &t->picker;
    if (c->pressed[BTN_RELOAD]) {
        char keep[1024];
        snprintf(keep, sizeof keep, "%s", p->n_cases ? p->cases[p->sel].path : "");
        picker_rescan(t);
        for (int i = 0; i < p->n_cases; i++)
            if (!strcmp(p->cases[i].path, keep))
                p->sel = i;
    }
    if (p->n_cases == 0)
        return;
    if (c->pressed[BTN_MENU_UP])
        p->sel = (p->sel + p->n_cases - 1) % p->n_cases;
    if (c->pressed[BTN_MENU_DOWN])
        p->sel = (p->sel + 1) % p->n_cases;
    bool open = c->pressed[BTN_CONFIRM];
    if (c->clicked) {
        int hit = picker_hit(t, c->click_x, c->click_y);
        if (hit >= 0) {
            open = hit == p->sel;
            p->sel = hit;
        }
    }
    if (!open)
        return;
    trainer_case *k = &p->cases[p->sel];
    if (!k->ok)
        return;
    char err[2048];
    if (trainer_open_case(t, k->path, err, sizeof err)) {
        snprintf(p->last_case, sizeof p->last_case, "%s", k->path);
        trainer_state_save(t);
    } else {
        k->ok = false;
        if (snprintf(k->error, sizeof k->error, "%s", err) >= (int)sizeof k->error)
            fprintf(stderr, "%s\n", err); /* the whole list, where the screen has no room */
    }
}
