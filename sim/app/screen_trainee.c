/* screen_trainee: who is training, asked before the case picker when the window records and no
 * trainee was given (trainer_def.ask_trainee; `mesosim` without --trainee or --no-record).
 *
 * The rows are the trainees already in the records (by name, with their sessions and last
 * score), then "New trainee" with the name being typed, then "No records" for a throwaway
 * session. A new name goes through records_trainee_create, which says in plain words why a
 * name is refused (empty, too long, not printable); the screen shows that and stays. The store
 * is opened only while the screen reads or writes it: the session's recorder opens its own.
 *
 * Keys are the screen's own (Up/Down, Enter, Backspace, typing), like the editor's fields:
 * letters typed into a name must not also mute the sound or open the help. */
#include "trainer_internal.h"

#include <stdlib.h>

bool trainee_db_path(const trainer *t, char *out, size_t cap)
{
    if (t->def.records_db) {
        snprintf(out, cap, "%s", t->def.records_db);
        return out[0] != '\0';
    }
    return records_default_path(out, cap);
}

void trainee_free(trainer *t)
{
    free(t->trainee.list);
    t->trainee.list = NULL;
    t->trainee.n = 0;
}

void trainee_show(trainer *t)
{
    trainee_state *s = &t->trainee;
    trainee_free(t);
    s->sel = 0;
    s->msg[0] = '\0';
    char err[320];
    if (!trainee_db_path(t, s->db, sizeof s->db)) {
        snprintf(s->msg, sizeof s->msg, "No folder for the records (set XDG_DATA_HOME or HOME): choose \"No records\".");
    } else {
        records *r = records_open(s->db, err, sizeof err);
        if (!r || !records_list_trainees(r, &s->list, &s->n, err, sizeof err))
            snprintf(s->msg, sizeof s->msg, "The records cannot be read: %.250s", err);
        records_close(r);
    }
    if (s->n == 0)
        s->sel = s->n; /* straight to typing a name */
    t->screen = SCREEN_TRAINEE;
    SDL_StartTextInput();
}

void trainer_show_trainee(trainer *t) { trainee_show(t); }

/* Once chosen (name, or NULL for no records): the picker, or the case asked for on the
 * command line. */
static void chosen(trainer *t, const char *name)
{
    trainee_state *s = &t->trainee;
    if (name) {
        snprintf(s->name, sizeof s->name, "%s", name);
        t->def.trainee = s->name;
    } else {
        t->def.trainee = NULL;
    }
    char err[2048];
    if (s->start_case[0]) {
        picker_rescan(t);
        if (trainer_open_case(t, s->start_case, err, sizeof err))
            return;
        fprintf(stderr, "%s\n", err);
    }
    trainer_show_picker(t);
}

static void confirm(trainer *t)
{
    trainee_state *s = &t->trainee;
    if (s->sel < s->n) {
        chosen(t, s->list[s->sel].name);
        return;
    }
    if (s->sel == s->n + 1) {
        chosen(t, NULL);
        return;
    }
    char err[320];
    records *r = s->db[0] ? records_open(s->db, err, sizeof err) : NULL;
    if (!s->db[0])
        snprintf(err, sizeof err, "there is no folder for the records");
    bool ok = r && records_trainee_create(r, s->typed, err, sizeof err);
    records_close(r);
    if (!ok) {
        snprintf(s->msg, sizeof s->msg, "That name cannot be used: %.250s", err);
        return;
    }
    chosen(t, s->typed);
}

bool trainee_event(trainer *t, const SDL_Event *e)
{
    trainee_state *s = &t->trainee;
    int rows = s->n + 2;
    if (e->type == SDL_TEXTINPUT) {
        if (s->sel != s->n)
            return true;
        size_t k = strlen(s->typed), add = strlen(e->text.text);
        if (k + add < sizeof s->typed)
            memcpy(s->typed + k, e->text.text, add + 1);
        s->msg[0] = '\0';
        return true;
    }
    if (e->type != SDL_KEYDOWN)
        return false;
    switch (e->key.keysym.sym) {
    case SDLK_UP: s->sel = (s->sel + rows - 1) % rows; break;
    case SDLK_DOWN: s->sel = (s->sel + 1) % rows; break;
    case SDLK_RETURN:
    case SDLK_KP_ENTER: confirm(t); break;
    case SDLK_BACKSPACE:
        if (s->sel == s->n) {
            size_t k = strlen(s->typed);
            while (k > 0 && ((unsigned char)s->typed[k - 1] & 0xc0) == 0x80)
                k--; /* a whole UTF-8 character */
            if (k > 0)
                s->typed[k - 1] = '\0';
        }
        break;
    case SDLK_ESCAPE: return false; /* the window's own: quit */
    case SDLK_F1: return false;     /* the help */
    default: break;
    }
    return true;
}

void trainee_hints(const trainer *t, char *buf, size_t len)
{
    char quit[96];
    snprintf(buf, len, "Up/Down choose   type a new name   Enter go on   %s quit", screens_key(t, BTN_BACK, quit));
}

void trainee_draw(trainer *t)
{
    ui *u = t->ui;
    const trainee_state *s = &t->trainee;
    char hints[256];
    trainee_hints(t, hints, sizeof hints);
    screens_top_bar(t, hints);
    ui_text(u, UI_TITLE, S(t, 24), S(t, 52), C_TEXT, "Who is training?");
    char shown[RECORDS_PATH_MAX];
    records_redact(s->db, shown, sizeof shown);
    ui_textf(u, UI_SMALL, S(t, 280), S(t, 60), C_DIM, "Sessions are recorded in %s", shown[0] ? shown : "(nowhere)");
    float y = S(t, 100), w = (float)t->fb_w * 0.6f;
    int fit = (int)(((float)t->fb_h - y - S(t, 160)) / S(t, 40));
    int first = s->sel >= fit && s->sel < s->n ? s->sel - fit + 1 : 0;
    for (int i = first; i < s->n && i - first < fit; i++, y += S(t, 40)) {
        const records_trainee *r = &s->list[i];
        ui_rect(u, S(t, 24), y, w, S(t, 36), i == s->sel ? 0x2a3c52ff : C_PANEL);
        float nw = ui_text(u, UI_BODY, S(t, 36), y + S(t, 6), C_TEXT, r->name);
        if (r->last_score >= 0)
            ui_textf(u, UI_SMALL, S(t, 56) + nw, y + S(t, 10), C_DIM, "%d session%s, last score %.0f", r->sessions,
                     r->sessions == 1 ? "" : "s", r->last_score);
        else
            ui_textf(u, UI_SMALL, S(t, 56) + nw, y + S(t, 10), C_DIM, "%d session%s", r->sessions,
                     r->sessions == 1 ? "" : "s");
    }
    y += S(t, 8);
    ui_rect(u, S(t, 24), y, w, S(t, 36), s->sel == s->n ? 0x2a3c52ff : C_PANEL);
    float lw = ui_text(u, UI_BODY, S(t, 36), y + S(t, 6), C_ACCENT, "New trainee:");
    float tw = ui_text(u, UI_BODY, S(t, 48) + lw, y + S(t, 6), C_TEXT, s->typed);
    if (s->sel == s->n)
        ui_rect(u, S(t, 50) + lw + tw, y + S(t, 8), S(t, 2), S(t, 20), C_TEXT);
    y += S(t, 40);
    ui_rect(u, S(t, 24), y, w, S(t, 36), s->sel == s->n + 1 ? 0x2a3c52ff : C_PANEL);
    ui_text(u, UI_BODY, S(t, 36), y + S(t, 6), C_TEXT, "No records (a throwaway session)");
    if (s->msg[0])
        screens_wrap(t, UI_BODY, S(t, 24), y + S(t, 52), w, C_BAD, s->msg);
}
