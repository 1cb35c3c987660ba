/* screen_instructor: everyone's progress from the records (I on the case picker).
 *
 * The first list is every trainee with their sessions, last score, pass rate and a sparkline of
 * their scores (the newest INSTRUCTOR_SPARK_MAX, 0..100). Enter lists that trainee's sessions
 * (scenario, date, score, pass); Enter on one replays it in the debrief, its timeline too: the
 * stored actions go through the window's own session (no log, no records: a replay is not a
 * new session), so the debrief shows what it shows after a live one. A session whose case file
 * now hashes differently (scenario_content_hash) would replay a different case: the screen says
 * so and replays only after a second Enter. Escape goes back a level, then to the picker. */
#include "trainer_internal.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

void instructor_free(trainer *t)
{
    instructor_state *s = &t->instr;
    free(s->rows);
    records_sessions_free(s->sessions);
    s->rows = NULL;
    s->sessions = NULL;
    s->n = s->n_sessions = 0;
}

static records *open_store(trainer *t, char *err, size_t n)
{
    char db[RECORDS_PATH_MAX];
    if (!trainee_db_path(t, db, sizeof db)) {
        snprintf(err, n, "there is no folder for the records (set XDG_DATA_HOME or HOME)");
        return NULL;
    }
    return records_open(db, err, n);
}

void instructor_show(trainer *t)
{
    instructor_state *s = &t->instr;
    instructor_free(t);
    s->sel = s->sel_session = 0;
    s->in_sessions = false;
    s->confirm_changed = -1;
    s->msg[0] = '\0';
    t->screen = SCREEN_INSTRUCTOR;
    char err[320];
    records *r = open_store(t, err, sizeof err);
    records_trainee *tr = NULL;
    int n = 0;
    if (!r || !records_list_trainees(r, &tr, &n, err, sizeof err)) {
        snprintf(s->msg, sizeof s->msg, "The records cannot be read: %s", err);
        records_close(r);
        return;
    }
    s->rows = calloc(n > 0 ? (size_t)n : 1, sizeof *s->rows);
    for (int i = 0; s->rows && i < n; i++) {
        instructor_row *row = &s->rows[i];
        row->tr = tr[i];
        records_session *ss = NULL;
        int k = 0;
        if (!records_list_sessions(r, tr[i].name, &ss, &k, err, sizeof err))
            snprintf(s->msg, sizeof s->msg, "%s", err);
        for (int j = 0; j < k; j++) {
            if (ss[j].score < 0)
                continue;
            if (row->n_scores == INSTRUCTOR_SPARK_MAX) {
                memmove(row->scores, row->scores + 1, sizeof row->scores[0] * (INSTRUCTOR_SPARK_MAX - 1));
                row->n_scores--;
            }
            row->scores[row->n_scores++] = ss[j].score;
        }
        records_sessions_free(ss);
    }
    s->n = s->rows ? n : 0;
    free(tr);
    records_close(r);
}

void trainer_show_instructor(trainer *t) { instructor_show(t); }
int trainer_instructor_count(const trainer *t) { return t->instr.n; }

const char *trainer_instructor_name(const trainer *t, int i, int *sessions)
{
    if (i < 0 || i >= t->instr.n)
        return NULL;
    if (sessions)
        *sessions = t->instr.rows[i].tr.sessions;
    return t->instr.rows[i].tr.name;
}

const char *trainer_records_message(const trainer *t)
{
    return t->screen == SCREEN_TRAINEE ? t->trainee.msg : t->screen == SCREEN_INSTRUCTOR ? t->instr.msg : "";
}

static void open_sessions(trainer *t)
{
    instructor_state *s = &t->instr;
    if (s->n == 0)
        return;
    char err[320];
    records *r = open_store(t, err, sizeof err);
    records_sessions_free(s->sessions);
    s->sessions = NULL;
    s->n_sessions = 0;
    if (!r || !records_list_sessions(r, s->rows[s->sel].tr.name, &s->sessions, &s->n_sessions, err, sizeof err))
        snprintf(s->msg, sizeof s->msg, "The sessions cannot be read: %s", err);
    records_close(r);
    s->in_sessions = true;
    s->sel_session = s->n_sessions > 0 ? s->n_sessions - 1 : 0; /* the newest */
    s->confirm_changed = -1;
}

/* Plays the stored actions through a session of the window that keeps no log and no records. */
static void replay_stored(trainer *t, const records_session *rs, const scenario *sc, const action_list *al)
{
    instructor_state *s = &t->instr;
    char err[2048];
    const char *keep_log = t->def.log_dir, *keep_trainee = t->def.trainee;
    bool keep_blind = t->open.blind;
    t->def.log_dir = "";
    t->def.trainee = NULL;
    tsession_close(t);
    t->open.sc = *sc;
    t->open.blind = al->header.blind; /* practised blind by option: replayed blind */
    t->open.have_case = true;
    snprintf(t->open.path, sizeof t->open.path, "%s", rs->scenario_path);
    bool ok = trainer_begin_scan(t, err, sizeof err);
    double end_s = 0;
    for (int i = 0; ok && i < al->count; i++) {
        end_s = al->items[i].t_s;
        if (al->items[i].verb != ACT_END && !trainer_do(t, &al->items[i], err, sizeof err))
            fprintf(stderr, "mesosim: replaying session %s, action %d: %s\n", rs->id, i + 1, err);
    }
    t->def.log_dir = keep_log;
    t->def.trainee = keep_trainee;
    t->open.blind = keep_blind;
    if (!ok) {
        snprintf(s->msg, sizeof s->msg, "The session cannot be replayed: %.300s", err);
        t->screen = SCREEN_INSTRUCTOR;
        return;
    }
    trainer_end_session(t, end_s);
}

static void open_session(trainer *t)
{
    instructor_state *s = &t->instr;
    if (s->n_sessions == 0)
        return;
    const records_session *rs = &s->sessions[s->sel_session];
    char err[2048];
    if (!rs->scenario_path[0]) {
        snprintf(s->msg, sizeof s->msg, "Session %.8s does not say which case file it was played on: replay it "
                 "with mesosim replay --scenario FILE.", rs->id);
        return;
    }
    scenario *sc = malloc(sizeof *sc); /* large: not on the stack */
    if (!sc || !picker_load_case(rs->scenario_path, sc, err, sizeof err)) {
        snprintf(s->msg, sizeof s->msg, "The case of this session cannot be loaded: %.300s", sc ? err : "out of memory");
        free(sc);
        return;
    }
    char now[17];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_content_hash(sc));
    if (!scenario_hash_matches(sc, rs->scenario_hash) && s->confirm_changed != s->sel_session) {
        snprintf(s->msg, sizeof s->msg, "The case \"%s\" has changed since this session was recorded (content hash "
                 "%s, now %s): the replay would show a different case. Enter again to replay it anyway.",
                 rs->scenario, rs->scenario_hash, now);
        s->confirm_changed = s->sel_session;
        free(sc);
        return;
    }
    records *r = open_store(t, err, sizeof err);
    char *log = r ? records_session_log(r, rs->id, err, sizeof err) : NULL;
    records_close(r);
    action_list al;
    if (!log || !actions_load_string(log, strlen(log), &al)) {
        snprintf(s->msg, sizeof s->msg, "The session's actions cannot be read: %.300s",
                 log ? "the stored log does not parse" : err);
        free(log);
        free(sc);
        return;
    }
    free(log);
    s->msg[0] = '\0';
    replay_stored(t, rs, sc, &al);
    free(sc);
    actions_free(&al);
}

bool instructor_event(trainer *t, const SDL_Event *e)
{
    instructor_state *s = &t->instr;
    if (e->type != SDL_KEYDOWN)
        return false;
    int *sel = s->in_sessions ? &s->sel_session : &s->sel;
    int rows = s->in_sessions ? s->n_sessions : s->n;
    switch (e->key.keysym.sym) {
    case SDLK_UP:
        if (rows > 0)
            *sel = (*sel + rows - 1) % rows;
        s->confirm_changed = -1;
        break;
    case SDLK_DOWN:
        if (rows > 0)
            *sel = (*sel + 1) % rows;
        s->confirm_changed = -1;
        break;
    case SDLK_RETURN:
    case SDLK_KP_ENTER:
        if (s->in_sessions)
            open_session(t);
        else
            open_sessions(t);
        break;
    case SDLK_ESCAPE:
        s->msg[0] = '\0';
        if (s->in_sessions)
            s->in_sessions = false;
        else
            trainer_show_picker(t);
        break;
    case SDLK_F1: return false;
    default: break;
    }
    return true;
}

void instructor_hints(const trainer *t, char *buf, size_t len)
{
    snprintf(buf, len, "Up/Down choose   Enter %s   Esc back",
             t->instr.in_sessions ? "replay the session" : "their sessions");
}

static void sparkline(trainer *t, const instructor_row *row, float x, float y, float w, float h)
{
    ui_rect(t->ui, x, y, w, h, 0x0e1218ff);
    if (row->n_scores == 1)
        ui_disc(t->ui, x + w * 0.5f, y + h * (1.0f - (float)row->scores[0] / 100.0f), S(t, 2), C_ACCENT);
    for (int i = 1; i < row->n_scores; i++) {
        float x0 = x + w * (float)(i - 1) / (float)(row->n_scores - 1), x1 = x + w * (float)i / (float)(row->n_scores - 1);
        float y0 = y + h * (1.0f - (float)fmin(fmax(row->scores[i - 1], 0), 100) / 100.0f);
        float y1 = y + h * (1.0f - (float)fmin(fmax(row->scores[i], 0), 100) / 100.0f);
        ui_line(t->ui, x0, y0, x1, y1, S(t, 1.5f), C_ACCENT);
    }
}

/* Issue 13: the trainee's intradermal rate blind and guided over their ended sessions (the
 * list already holds both counts), once they have a blind one; mesosim history and the PDF
 * give it per case. */
static void blind_vs_guided_line(trainer *t, float x, float y)
{
    const instructor_state *s = &t->instr;
    int n[2] = {0, 0}, inj[2] = {0, 0}, id[2] = {0, 0};
    for (int i = 0; i < s->n_sessions; i++) {
        const records_session *rs = &s->sessions[i];
        if (!rs->ended)
            continue;
        n[rs->blind]++;
        inj[rs->blind] += rs->injections;
        id[rs->blind] += rs->intradermal;
    }
    if (n[1] == 0)
        return;
    char arm[2][64];
    for (int k = 0; k < 2; k++)
        if (inj[k] > 0)
            snprintf(arm[k], sizeof arm[k], "%d/%d (%.0f %%)", id[k], inj[k], 100.0 * id[k] / inj[k]);
        else
            snprintf(arm[k], sizeof arm[k], "no injection");
    ui_textf(t->ui, UI_SMALL, x, y, C_TEXT, "Intradermal: blind %s in %d, guided %s in %d", arm[1], n[1], arm[0],
             n[0]);
}

void instructor_draw(trainer *t)
{
    ui *u = t->ui;
    const instructor_state *s = &t->instr;
    char hints[256];
    instructor_hints(t, hints, sizeof hints);
    screens_top_bar(t, hints);
    float x = S(t, 24), y = S(t, 100), w = (float)t->fb_w - S(t, 48);
    int fit = (int)(((float)t->fb_h - y - S(t, 140)) / S(t, 36));
    if (!s->in_sessions) {
        ui_text(u, UI_TITLE, x, S(t, 52), C_TEXT, "Trainees and their progress");
        if (s->n == 0 && !s->msg[0])
            ui_text(u, UI_BODY, x, y, C_DIM, "No trainee in the records yet.");
        int first = s->sel >= fit ? s->sel - fit + 1 : 0;
        for (int i = first; i < s->n && i - first < fit; i++, y += S(t, 36)) {
            const instructor_row *row = &s->rows[i];
            ui_rect(u, x, y, w, S(t, 32), i == s->sel ? 0x2a3c52ff : C_PANEL);
            ui_text(u, UI_BODY, x + S(t, 12), y + S(t, 4), C_TEXT, row->tr.name);
            char last[32] = "-";
            if (row->tr.last_score >= 0)
                snprintf(last, sizeof last, "%.0f", row->tr.last_score);
            ui_textf(u, UI_SMALL, x + w * 0.3f, y + S(t, 8), C_DIM, "%d sessions   last %s   passed %.0f %%",
                     row->tr.sessions, last,
                     row->tr.sessions > 0 ? 100.0 * row->tr.passed / row->tr.sessions : 0.0);
            sparkline(t, row, x + w * 0.7f, y + S(t, 4), w * 0.28f, S(t, 24));
        }
    } else {
        ui_textf(u, UI_TITLE, x, S(t, 52), C_TEXT, "Sessions of %s", s->rows[s->sel].tr.name);
        blind_vs_guided_line(t, x + w * 0.45f, S(t, 60));
        if (s->n_sessions == 0)
            ui_text(u, UI_BODY, x, y, C_DIM, "No session recorded.");
        int first = s->sel_session >= fit ? s->sel_session - fit + 1 : 0;
        for (int i = first; i < s->n_sessions && i - first < fit; i++, y += S(t, 36)) {
            const records_session *rs = &s->sessions[i];
            ui_rect(u, x, y, w, S(t, 32), i == s->sel_session ? 0x2a3c52ff : C_PANEL);
            char when[32] = "?";
            time_t tt = (time_t)rs->started_unix_s;
            struct tm tm;
            if (gmtime_r(&tt, &tm))
                strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
            ui_textf(u, UI_BODY, x + S(t, 12), y + S(t, 4), C_TEXT, "%s%s", rs->scenario,
                     rs->ended && rs->blind ? "   (blind)" : "");
            if (rs->score >= 0)
                ui_textf(u, UI_SMALL, x + w * 0.45f, y + S(t, 8), rs->pass ? C_GOOD : C_BAD, "%s   score %.0f   %s",
                         when, rs->score, rs->pass ? "pass" : "fail");
            else
                ui_textf(u, UI_SMALL, x + w * 0.45f, y + S(t, 8), C_WARN, "%s   cut short (no score)", when);
        }
    }
    if (s->msg[0])
        screens_wrap(t, UI_BODY, x, (float)t->fb_h - S(t, 130), w, C_WARN, s->msg);
}
