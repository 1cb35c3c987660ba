/* screen_debrief: what happened, and the session again.
 *
 * Left: the score and pass mark, the weighted parts, the adverse events in plain words ("the
 * needle punctured a vein 1.6 mm below the skin: a haematoma"), one row per injection, and the
 * skin map: the patch seen from above with the planned points, where the needle went in and
 * where each injection was made, with a mm scale. Right: the replay, the session played
 * through a fresh driver (replay_session.h): its B-mode with the true tip ringed and the
 * trainee's dermis marks against the true boundaries, its outside view, and a timeline with
 * a mark per injection: drag on it or Left/Right to scrub, P to play or pause, Up/Down to jump
 * between injections. Return picks another case, Esc quits (trainer_run). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feedback.h"
#include "trainer_internal.h"

#define SCRUB_STEP_S 0.5       /* Left/Right */
#define C_PLAN 0xff40ffffu     /* planned points, here and on the outside view's skin */
#define C_TRUE 0xffd040ffu     /* true dermis boundaries */
#define C_MARK 0x60e0ffffu     /* the trainee's marks */

/* ---- the replay ------------------------------------------------------------------------- */

static void render_replay(trainer *t)
{
    debrief_state *d = &t->debrief;
    if (!d->rs)
        return;
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    driver_snapshot_scene(d->rs, &scene, dyn);
    bmode_image img;
    char err[256];
    if (bmode_render(t->bm, &scene, &img, err, sizeof err) != 0) {
        snprintf(d->replay_err, sizeof d->replay_err, "replay image: %.180s", err);
        d->have_img = false;
        return;
    }
    image_tex_upload(&d->tex, img.pixels, img.cols, img.rows);
    d->have_img = true;
    d->rows = img.rows, d->cols = img.cols;
    d->dz_mm = img.dz_mm, d->dx_mm = img.dx_mm, d->x0_mm = img.x0_mm, d->z0_mm = img.z0_mm;
}

static void seek(trainer *t, double t_s)
{
    debrief_state *d = &t->debrief;
    if (!d->rp)
        return;
    d->t_s = fmin(fmax(t_s, 0.0), d->end_s);
    d->rs = replay_seek(d->rp, d->t_s);
    d->seek_ms_max = fmax(d->seek_ms_max, replay_seek_ms(d->rp, NULL));
    if (!d->rs)
        snprintf(d->replay_err, sizeof d->replay_err, "the replay stopped (out of memory)");
    render_replay(t);
}

void debrief_free(trainer *t)
{
    debrief_state *d = &t->debrief;
    replay_destroy(d->rp);
    d->rp = NULL;
    d->rs = NULL;
    if (t->gl)
        image_tex_destroy(&d->tex);
    d->have_img = false;
}

void debrief_enter(trainer *t)
{
    debrief_state *d = &t->debrief;
    debrief_free(t);
    d->result = tsession_view(t)->score;
    d->end_s = fmax(replay_tape_end_s(&t->run.tape), tsession_view(t)->t_s);
    d->playing = d->scrubbing = false;
    d->seek_ms_max = 0.0;
    d->replay_err[0] = '\0';
    d->cam = outside_default_camera();
    for (int i = 0; i < t->run.n_snaps; i++) {
        trainer_snapshot *s = &t->run.snaps[i];
        if (s->pixels)
            image_tex_upload(&s->tex, s->pixels, s->cols, s->rows);
    }
    d->rp = replay_create(&t->open.sc, &t->run.tape, d->replay_err, sizeof d->replay_err);
    d->prev_clock_s = t->scan.t;
    /* The first injection is what the trainee most wants to see again; else the end. */
    const score_session *m = &tsession_view(t)->metrics;
    seek(t, m->n_inj > 0 ? m->inj[0].t_s : d->end_s);
    t->screen = SCREEN_DEBRIEF;
}

static bool in_rect(const float r[4], float x, float y)
{
    return x >= r[0] && x < r[0] + r[2] && y >= r[1] && y < r[1] + r[3];
}

static double timeline_time(const trainer *t, float x)
{
    const float *r = t->debrief.timeline_r;
    return r[2] > 0 ? t->debrief.end_s * fmin(fmax((x - r[0]) / r[2], 0.0f), 1.0f) : 0.0;
}

/* The injection before (dir < 0) or after t, or t itself when there is none. */
static double injection_near(trainer *t, double now, int dir)
{
    const score_session *m = &tsession_view(t)->metrics;
    double best = now;
    for (int i = 0; i < m->n_inj; i++) {
        double ti = m->inj[i].t_s;
        if (dir > 0 && ti > now + 1e-6 && (best == now || ti < best))
            best = ti;
        if (dir < 0 && ti < now - 1e-6 && (best == now || ti > best))
            best = ti;
    }
    return best;
}

void debrief_input(trainer *t, const controls *c)
{
    debrief_state *d = &t->debrief;
    double clock = t->scan.t, dt = fmax(clock - d->prev_clock_s, 0.0);
    d->prev_clock_s = clock;
    if (c->pressed[BTN_CONFIRM]) {
        picker_rescan(t);
        t->screen = SCREEN_PICKER;
        return;
    }
    if (c->clicked && in_rect(d->play_r, c->click_x, c->click_y))
        d->playing = !d->playing;
    if (c->pressed[BTN_PLAY_PAUSE])
        d->playing = !d->playing;
    if (c->clicked && in_rect(d->timeline_r, c->click_x, c->click_y))
        d->scrubbing = true;
    if (!c->pointer_down)
        d->scrubbing = false;
    double target = d->t_s;
    if (d->playing) {
        target += dt;
        if (target >= d->end_s)
            d->playing = false;
    }
    if (d->scrubbing) {
        target = timeline_time(t, c->pointer_x);
        d->playing = false;
    }
    if (c->pressed[BTN_SEEK_BACK])
        target -= SCRUB_STEP_S, d->playing = false;
    if (c->pressed[BTN_SEEK_FORWARD])
        target += SCRUB_STEP_S, d->playing = false;
    if (c->pressed[BTN_MENU_UP])
        target = injection_near(t, d->t_s, -1), d->playing = false;
    if (c->pressed[BTN_MENU_DOWN])
        target = injection_near(t, d->t_s, +1), d->playing = false;
    const score_session *m = &tsession_view(t)->metrics;
    for (int i = 0; i < d->n_thumbs && i < m->n_inj; i++)
        if (c->clicked && in_rect(d->thumb_r[i], c->click_x, c->click_y))
            target = m->inj[i].t_s, d->playing = false;
    outside_camera_orbit(&d->cam, c->orbit_dyaw_deg, c->orbit_dpitch_deg, c->zoom_factor);
    if (fabs(target - d->t_s) > 1e-9)
        seek(t, target);
}

void debrief_hints(const trainer *t, char *buf, size_t len)
{
    char again[96], quit[96];
    snprintf(buf, len, "%s: another case   %s: quit", screens_key(t, BTN_CONFIRM, again),
             screens_key(t, BTN_BACK, quit));
}

/* ---- what happened, in words -------------------------------------------------------------- */

static const char *part_label(score_part p)
{
    switch (p) {
    case PART_PLACEMENT: return "Placement (intradermal, dermis fraction)";
    case PART_VISIBILITY: return "Tip in view when injecting";
    case PART_SAFETY: return "Safety (adverse events)";
    case PART_PROCEDURE: return "Procedure steps in order";
    case PART_ASSESSMENT: return "Initial assessment (dermis marks)";
    case PART_TECHNIQUE: return "Technique (passes, time, depth, spacing)";
    default: return "?";
    }
}

/* Distance from p to the segment a..b. */
static double seg_dist(const double p[3], const double a[3], const double b[3])
{
    double ab[3], ap[3], l2 = 0, t = 0;
    for (int i = 0; i < 3; i++) {
        ab[i] = b[i] - a[i], ap[i] = p[i] - a[i];
        l2 += ab[i] * ab[i], t += ab[i] * ap[i];
    }
    t = l2 > 0 ? fmin(fmax(t / l2, 0), 1) : 0;
    double d2 = 0;
    for (int i = 0; i < 3; i++)
        d2 += (ap[i] - t * ab[i]) * (ap[i] - t * ab[i]);
    return sqrt(d2);
}

/* "a vein" or "an artery": the vessel nearest the event. */
static const char *vessel_word(const phantom *ph, const double p[3])
{
    const phantom_def *def = phantom_get_def(ph);
    int best = -1;
    double bd = 1e30;
    for (int i = 0; i < def->n_vessels; i++) {
        double dd = seg_dist(p, def->vessels[i].a_mm, def->vessels[i].b_mm);
        if (dd < bd)
            bd = dd, best = i;
    }
    return best < 0 ? "a vessel" : def->vessels[best].is_vein ? "a vein" : "an artery";
}

/* One adverse event in plain words, with its depth below the skin and its consequence. */
static void adverse_words(const phantom *anatomy, const score_event *e, const score_session *m, char *buf,
                          size_t n)
{
    double depth = e->p_mm[2] - phantom_surface_mm(anatomy, e->p_mm[0], e->p_mm[1]);
    char who[32] = "";
    if (e->injection >= 0)
        snprintf(who, sizeof who, "injection %d: ", e->injection + 1);
    switch (e->kind) {
    case ADVERSE_HAEMATOMA:
        snprintf(buf, n, "%.0f s: %sthe needle punctured %s %.1f mm below the skin: a haematoma grows", e->t_s,
                 who, vessel_word(anatomy, e->p_mm), depth);
        break;
    case ADVERSE_INTRAVASCULAR:
        snprintf(buf, n, "%.0f s: %sthe drug went into %s %.1f mm deep: intravascular injection (a fail)",
                 e->t_s, who, vessel_word(anatomy, e->p_mm), depth);
        break;
    case ADVERSE_TOO_SUPERFICIAL:
        snprintf(buf, n, "%.0f s: %stoo superficial, the tip %.1f mm deep, too near the epidermis: risk of "
                         "skin atrophy and a visible bleb",
                 e->t_s, who, depth);
        break;
    case ADVERSE_TOO_DEEP: {
        const score_injection *in = e->injection >= 0 && e->injection < m->n_inj ? &m->inj[e->injection] : NULL;
        snprintf(buf, n, "%.0f s: %stoo deep, the tip %.1f mm below the skin in the %s: the drug missed the "
                         "dermis",
                 e->t_s, who, depth, in ? tissue_name(in->tissue) : "tissue under it");
        break;
    }
    default:
        snprintf(buf, n, "%.0f s: %s", e->t_s, score_adverse_name(e->kind));
        break;
    }
}

float debrief_draw_lines(trainer *t, float x, float y, float w, const debrief_line *lines, int n)
{
    float used = 0;
    for (int i = 0; i < n; i++) {
        ui_color c = lines[i].severity == DEBRIEF_BAD ? C_BAD : lines[i].severity == DEBRIEF_WARN ? C_WARN : C_TEXT;
        ui_disc(t->ui, x + S(t, 4), y + used + S(t, 8), S(t, 3), c);
        used += screens_wrap(t, UI_SMALL, x + S(t, 14), y + used, w - S(t, 14), c, lines[i].text);
    }
    return used;
}

/* ---- the skin map --------------------------------------------------------------------------- */

static void map_px(const trainer *t, double x_mm, double y_mm, float *px, float *py)
{
    const float *r = t->debrief.map_r;
    const phantom_def *def = phantom_get_def(tsession_view((trainer *)t)->anatomy);
    /* Seen from above the patient: +x to the right, +y up the screen. */
    *px = r[0] + (float)((x_mm / def->width_mm + 0.5) * r[2]);
    *py = r[1] + (float)((0.5 - y_mm / def->length_mm) * r[3]);
}

static void draw_skin_map(trainer *t)
{
    ui *u = t->ui;
    const float *r = t->debrief.map_r;
    const driver_snapshot *v = tsession_view(t);
    const phantom_def *def = phantom_get_def(v->anatomy);
    ui_rect(u, r[0], r[1], r[2], r[3], 0x3a2e2cff);
    ui_frame(u, r[0], r[1], r[2], r[3], S(t, 1), C_DIM);
    /* A grid line every 5 mm. */
    for (double g = -0.5 * def->width_mm; g <= 0.5 * def->width_mm + 1e-9; g += 5) {
        float px, py;
        map_px(t, g, 0, &px, &py);
        ui_rect(u, px, r[1], S(t, 1), r[3], 0x4a3c3aff);
    }
    for (double g = -0.5 * def->length_mm; g <= 0.5 * def->length_mm + 1e-9; g += 5) {
        float px, py;
        map_px(t, 0, g, &px, &py);
        ui_rect(u, r[0], py, r[2], S(t, 1), 0x4a3c3aff);
    }
    float mm = r[2] / (float)def->width_mm;
    /* The probe at the replay's time: its footprint along its long axis. */
    if (t->debrief.rs) {
        const driver_snapshot *rs = t->debrief.rs;
        double a = rs->pose.rot_deg * 3.14159265358979 / 180.0, h = 0.5 * probe_fov_mm(&rs->probe);
        float x0, y0, x1, y1;
        map_px(t, rs->pose.x_mm - h * cos(a), rs->pose.y_mm - h * sin(a), &x0, &y0);
        map_px(t, rs->pose.x_mm + h * cos(a), rs->pose.y_mm + h * sin(a), &x1, &y1);
        ui_line(u, x0, y0, x1, y1, fmaxf(S(t, 3), (float)rs->probe.elev_height_mm * mm), 0x8090a8c0);
        ui_disc(u, x0, y0, S(t, 3), 0x40ff40ff);
    }
    /* Where the needle went in: the entries of the session's actions. */
    const replay_tape *tape = &t->run.tape;
    for (int i = 0; i < tape->count; i++) {
        const action *a = &tape->items[i];
        if (a->verb != ACT_NEEDLE_ENTRY || !(a->has & (1u << AK_X)) || !(a->has & (1u << AK_Y)))
            continue;
        float px, py;
        map_px(t, a->v[AK_X], a->v[AK_Y], &px, &py);
        ui_ring(u, px, py, S(t, 4), S(t, 1.5f), C_ACCENT);
    }
    const score_session *m = &v->metrics;
    for (int i = 0; i < m->n_inj; i++) {
        const score_injection *in = &m->inj[i];
        float px, py;
        map_px(t, in->tip_mm[0], in->tip_mm[1], &px, &py);
        ui_color c = in->verdict == VERDICT_INTRADERMAL ? C_GOOD : C_BAD;
        if (in->bleb_mm > 0)
            ui_ring(u, px, py, fmaxf(0.5f * (float)in->bleb_mm * mm, S(t, 3)), S(t, 1), c);
        ui_disc(u, px, py, S(t, 3), c);
        ui_textf(u, UI_SMALL, px + S(t, 5), py - S(t, 16), c, "%d", i + 1);
    }
    /* The plan on top: the reference the rest is read against. */
    const score_plan *plan = &t->open.sc.plan;
    for (int i = 0; i < plan->n_points; i++) {
        float px, py, k = S(t, 6);
        map_px(t, plan->points_mm[i][0], plan->points_mm[i][1], &px, &py);
        ui_rect(u, px - k, py - S(t, 1), 2 * k, S(t, 2), C_PLAN);
        ui_rect(u, px - S(t, 1), py - k, S(t, 2), 2 * k, C_PLAN);
    }
    ui_text(u, UI_BODY, r[0], r[1] - S(t, 24), C_ACCENT, "Skin map (from above)");
    /* A 10 mm scale bar under the map. */
    float sy = r[1] + r[3] + S(t, 8);
    ui_rect(u, r[0], sy, 10 * mm, S(t, 3), C_TEXT);
    ui_rect(u, r[0], sy - S(t, 3), S(t, 1), S(t, 9), C_TEXT);
    ui_rect(u, r[0] + 10 * mm, sy - S(t, 3), S(t, 1), S(t, 9), C_TEXT);
    ui_text(u, UI_SMALL, r[0] + 10 * mm + S(t, 6), sy - S(t, 6), C_TEXT, "10 mm");
    ui_text(u, UI_SMALL, r[0] + 10 * mm + S(t, 56), sy - S(t, 6), C_DIM, "+ plan   o entry   \xe2\x80\xa2 injection");
}

/* ---- the replay's views --------------------------------------------------------------------- */

static void draw_replay(trainer *t)
{
    ui *u = t->ui;
    debrief_state *d = &t->debrief;
    const float *b = d->bmode_r, *v = d->view_r, *tl = d->timeline_r, *pl = d->play_r;
    if (d->have_img) {
        image_view_draw(t->iv, &d->tex, b[0], b[1], b[2], b[3], t->fb_w, t->fb_h);
        double w_mm = d->cols * d->dx_mm, h_mm = d->rows * d->dz_mm;
        /* The orientation dot, as on the scan screen. */
        ui_disc(u, b[0] + S(t, 8), b[1] + S(t, 8), S(t, 4), 0x60e060ff);
        if (d->rs && d->rs->tip_in_image) {
            float px = b[0] + (float)((d->rs->tip_img_mm[0] - d->x0_mm) / w_mm * b[2]);
            float py = b[1] + (float)((d->rs->tip_img_mm[2] - d->z0_mm) / h_mm * b[3]);
            ui_ring(u, px, py, S(t, 7), S(t, 1.5f), 0xff5050ff);
        }
        /* The trainee's dermis marks (dashed) against the true boundaries (solid) there. */
        const score_session *m = d->rs ? &d->rs->metrics : NULL;
        if (m && m->marked) {
            double zs[4] = {m->mark_top_mm, m->mark_bottom_mm, m->true_top_mm, m->true_bottom_mm};
            for (int k = 0; k < 4; k++) {
                float y = b[1] + (float)((zs[k] - d->z0_mm) / h_mm * b[3]);
                if (y < b[1] || y > b[1] + b[3])
                    continue;
                if (k >= 2)
                    ui_rect(u, b[0], y, b[2], S(t, 1), C_TRUE);
                else
                    for (float x = b[0]; x < b[0] + b[2]; x += S(t, 10))
                        ui_rect(u, x, y, S(t, 5), S(t, 2), C_MARK);
            }
            ui_textf(u, UI_SMALL, b[0], b[1] + b[3] + S(t, 2), C_DIM, "marks: dashed (yours), solid (true): %+.2f / %+.2f mm",
                     m->mark_top_mm - m->true_top_mm, m->mark_bottom_mm - m->true_bottom_mm);
        }
    }
    if (d->rs) {
        outside_scene os = {.ph = d->rs->display};
        os.probe = d->rs->probe;
        os.pose = d->rs->pose;
        os.frame = probe_frame_make(d->rs->display, &d->rs->probe, &d->rs->pose);
        os.dyn = d->rs->dyn;
        os.n_dyn = d->rs->n_dyn;
        os.plan_mm = (const double(*)[2])t->open.sc.plan.points_mm;
        os.n_plan = t->open.sc.plan.n_points;
        const needle *nd = d->rs->needle;
        if (needle_placed(nd)) {
            os.needle_shown = true;
            needle_tip_mm(nd, os.tip_mm);
            needle_dir(nd, os.dir);
            os.needle_length_mm = needle_get_def(nd)->length_mm;
            os.needle_od_mm = needle_gauge_od_mm(needle_get_def(nd)->gauge);
            outside_scene_set_head(&os, needle_get_def(nd)->count, needle_get_def(nd)->spacing_mm,
                                   needle_azimuth_deg(nd));
        }
        outside_view_draw(t->ov, &os, &d->cam, (int)v[0], (int)v[1], (int)v[2], (int)v[3], t->fb_w, t->fb_h);
        ui_textf(u, UI_SMALL, v[0] + S(t, 4), v[1] + S(t, 2), C_DIM, "tip %s the slab",
                 !os.needle_shown ? "not placed: outside" : outside_tip_in_slab(&os) ? "inside" : "outside");
    }
    /* Timeline: the session, a mark per injection, the playhead. */
    ui_rect(u, tl[0], tl[1] + 0.4f * tl[3], tl[2], 0.2f * tl[3], 0x303844ff);
    const score_session *m = &tsession_view(t)->metrics;
    for (int i = 0; i < m->n_inj && d->end_s > 0; i++) {
        float x = tl[0] + (float)(m->inj[i].t_s / d->end_s) * tl[2];
        ui_rect(u, x - S(t, 1), tl[1], S(t, 3), tl[3], m->inj[i].verdict == VERDICT_INTRADERMAL ? C_GOOD : C_BAD);
    }
    float hx = tl[0] + (d->end_s > 0 ? (float)(d->t_s / d->end_s) : 0.0f) * tl[2];
    ui_triangle(u, hx - S(t, 6), tl[1] - S(t, 2), hx + S(t, 6), tl[1] - S(t, 2), hx, tl[1] + S(t, 8), C_TEXT);
    ui_rect(u, hx - S(t, 1), tl[1], S(t, 2), tl[3], C_TEXT);
    ui_rect(u, pl[0], pl[1], pl[2], pl[3], C_PANEL);
    ui_frame(u, pl[0], pl[1], pl[2], pl[3], S(t, 1), C_DIM);
    if (d->playing) {
        ui_rect(u, pl[0] + 0.3f * pl[2], pl[1] + 0.25f * pl[3], 0.14f * pl[2], 0.5f * pl[3], C_TEXT);
        ui_rect(u, pl[0] + 0.56f * pl[2], pl[1] + 0.25f * pl[3], 0.14f * pl[2], 0.5f * pl[3], C_TEXT);
    } else {
        ui_triangle(u, pl[0] + 0.32f * pl[2], pl[1] + 0.22f * pl[3], pl[0] + 0.32f * pl[2], pl[1] + 0.78f * pl[3],
                    pl[0] + 0.74f * pl[2], pl[1] + 0.5f * pl[3], C_TEXT);
    }
    char play[96], back[96], fwd[96], up[96], down[96];
    ui_textf(u, UI_SMALL, tl[0], tl[1] + tl[3] + S(t, 2), C_TEXT,
             "%.1f / %.1f s  (seek %.1f ms)   %s play  %s/%s or drag: scrub  %s/%s: injections", d->t_s, d->end_s,
             d->rp ? replay_seek_ms(d->rp, NULL) : 0.0, screens_key(t, BTN_PLAY_PAUSE, play),
             screens_key(t, BTN_SEEK_BACK, back), screens_key(t, BTN_SEEK_FORWARD, fwd),
             screens_key(t, BTN_MENU_UP, up), screens_key(t, BTN_MENU_DOWN, down));
    if (d->replay_err[0])
        ui_text(u, UI_SMALL, tl[0], tl[1] + tl[3] + S(t, 18), C_BAD, d->replay_err);
}

/* What the trainee saw when each injection started, kept live (trainer_session.c), the true
 * tip ringed: a row of thumbnails under the timeline; a click jumps the replay there. */
static void draw_thumbs(trainer *t)
{
    ui *u = t->ui;
    debrief_state *d = &t->debrief;
    const float *tl = d->timeline_r;
    float y = tl[1] + tl[3] + S(t, 40), th = (float)t->fb_h - y - S(t, 70), tx = d->play_r[0];
    d->n_thumbs = 0;
    if (th < S(t, 50) || t->run.n_snaps == 0)
        return;
    ui_text(u, UI_SMALL, tx, y - S(t, 18), C_DIM, "What you saw as each injection started (click to replay it):");
    for (int i = 0; i < t->run.n_snaps && i < DEBRIEF_MAX_THUMBS; i++) {
        const trainer_snapshot *s = &t->run.snaps[i];
        if (!s->tex.id)
            continue;
        double w_mm = s->cols * s->dx_mm, h_mm = s->rows * s->dz_mm;
        float tw = (float)(th * w_mm / h_mm);
        if (tx + tw > (float)t->fb_w - S(t, 10))
            break;
        image_view_draw(t->iv, &s->tex, tx, y, tw, th, t->fb_w, t->fb_h);
        if (s->tip_ok) {
            float px = tx + (float)((s->tip_img_mm[0] - s->x0_mm) / w_mm * tw);
            float py = y + (float)((s->tip_img_mm[2] - s->z0_mm) / h_mm * th);
            ui_ring(u, px, py, S(t, 6), S(t, 1.5f), 0xff5050ff);
        }
        ui_textf(u, UI_SMALL, tx, y + th + S(t, 2), C_TEXT, "#%d %s", i + 1,
                 s->tip_ok ? "true tip ringed" : "tip not placed");
        float *r = d->thumb_r[d->n_thumbs++];
        r[0] = tx, r[1] = y, r[2] = tw, r[3] = th;
        tx += tw + S(t, 12);
    }
}

/* The rectangles: the text and the skin map on the left, the replay on the right. */
static void layout(trainer *t)
{
    debrief_state *d = &t->debrief;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float rx = floorf(W * 0.45f), rw = W - rx - S(t, 16), top = S(t, 48), gap = S(t, 12);
    double aspect = d->have_img && d->rows ? d->cols * d->dx_mm / (d->rows * d->dz_mm) : 12.8 / 15.0;
    float bw = rw * 0.48f, bh = bw / (float)aspect;
    if (bh > H - top - S(t, 120))
        bh = H - top - S(t, 120), bw = bh * (float)aspect;
    d->bmode_r[0] = rx, d->bmode_r[1] = top, d->bmode_r[2] = bw, d->bmode_r[3] = bh;
    d->view_r[0] = rx + bw + gap, d->view_r[1] = top, d->view_r[2] = fmaxf(rw - bw - gap, S(t, 40)), d->view_r[3] = bh;
    float ty = top + bh + S(t, 30);
    d->play_r[0] = rx, d->play_r[1] = ty, d->play_r[2] = S(t, 28), d->play_r[3] = S(t, 24);
    d->timeline_r[0] = rx + S(t, 40), d->timeline_r[1] = ty, d->timeline_r[2] = rw - S(t, 40), d->timeline_r[3] = S(t, 24);
    const phantom_def *def = phantom_get_def(tsession_view(t)->anatomy);
    float my = floorf(H * 0.46f), msz = fminf(H - my - S(t, 84), rx - S(t, 60));
    float mh = msz, mw = msz * (float)(def->width_mm / def->length_mm);
    if (mw > rx - S(t, 60))
        mw = rx - S(t, 60), mh = mw * (float)(def->length_mm / def->width_mm);
    /* Below the score, the teaching points and the table as last drawn, shrunk to what is left. */
    float room = H - S(t, 84) - d->map_min_top;
    if (my < d->map_min_top && room > S(t, 40)) {
        float k = fminf(room / mh, 1.0f);
        my = d->map_min_top, mw *= k, mh *= k;
    }
    d->map_r[0] = S(t, 28), d->map_r[1] = my, d->map_r[2] = mw, d->map_r[3] = mh;
}

/* The core's teaching points (sim/core/feedback.h, the report's "feedback"): what failed the
 * session and what cost points first, then the rest as room allows; the report has them all. */
static float draw_feedback(trainer *t, float x, float y, float w)
{
    enum { SHOWN = 4 };
    const driver_snapshot *v = tsession_view(t);
    const scenario *sc = &t->open.sc;
    feedback_item *items = malloc(FEEDBACK_MAX * sizeof *items);
    if (!items)
        return 0.0f;
    int n = feedback_generate(&sc->scoring, &sc->plan, &v->metrics, &v->score, items, FEEDBACK_MAX);
    n = n < FEEDBACK_MAX ? n : FEEDBACK_MAX;
    debrief_line lines[SHOWN];
    int k = 0;
    for (int pass = 0; pass < FEEDBACK_SEVERITY_COUNT && k < SHOWN; pass++)
        for (int i = 0; i < n && k < SHOWN; i++)
            if ((int)items[i].severity == pass)
                lines[k++] = (debrief_line){items[i].severity == FEEDBACK_CRITICAL ? DEBRIEF_BAD
                                            : items[i].severity == FEEDBACK_WARNING ? DEBRIEF_WARN
                                                                                    : DEBRIEF_INFO,
                                            items[i].message};
    float h = 0.0f;
    if (k > 0) {
        ui_text(t->ui, UI_BODY, x, y, C_ACCENT, "What to do next time");
        h = ui_line_height(t->ui, UI_BODY);
        h += debrief_draw_lines(t, x, y + h, w, lines, k);
    }
    free(items);
    return h;
}

void debrief_draw(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h, x = S(t, 28);
    layout(t);
    char hints[320];
    debrief_hints(t, hints, sizeof hints);
    screens_top_bar(t, hints);
    const score_result *r = &t->debrief.result;
    float y = S(t, 50), lh = ui_line_height(u, UI_BODY), sl = ui_line_height(u, UI_SMALL);
    float lw = t->debrief.bmode_r[0] - x - S(t, 20);
    ui_textf(u, UI_TITLE, x, y, r->pass ? C_GOOD : C_BAD, "Score %.1f / 100  \xe2\x80\x94  %s%s", r->total,
             r->pass ? "PASS" : "FAIL", r->critical ? " (a critical item failed)" : "");
    y += S(t, 40);
    for (int p = 0; p < PART_COUNT; p++, y += lh) {
        ui_text(u, UI_SMALL, x, y, C_TEXT, part_label((score_part)p));
        float bx = x + S(t, 290), bw = S(t, 120);
        ui_rect(u, bx, y + S(t, 4), bw, S(t, 10), 0x303844ff);
        ui_rect(u, bx, y + S(t, 4), bw * (float)r->part[p], S(t, 10), 0x4890e0ff);
        ui_textf(u, UI_SMALL, bx + bw + S(t, 10), y, C_TEXT, "%3.0f%%  %.1f pts", 100 * r->part[p], r->points[p]);
    }
    y += S(t, 8);
    const driver_snapshot *v = tsession_view(t);
    const score_session *m = &v->metrics;
    ui_text(u, UI_BODY, x, y, C_ACCENT, "What happened");
    y += lh;
    enum { MAX_LINES = 6 };
    char words[MAX_LINES][256];
    debrief_line lines[MAX_LINES];
    int n = 0;
    for (int i = 0; i < m->n_events && n < MAX_LINES; i++, n++) {
        adverse_words(v->anatomy, &m->events[i], m, words[n], sizeof words[n]);
        lines[n] = (debrief_line){m->events[i].kind == ADVERSE_TOO_SUPERFICIAL ? DEBRIEF_WARN : DEBRIEF_BAD, words[n]};
    }
    if (n == 0) {
        snprintf(words[0], sizeof words[0], "No adverse event: no vessel punctured, every injection in the dermis.");
        lines[n++] = (debrief_line){DEBRIEF_INFO, words[0]};
    }
    y += debrief_draw_lines(t, x, y, lw, lines, n) + S(t, 8);
    y += draw_feedback(t, x, y, lw) + S(t, 8);
    static const char *const k_cols[] = {"#", "verdict", "depth", "margin", "slice", "to plane", "dermis", "wheal",
                                         "vessel"};
    float cw[] = {24, 100, 56, 62, 46, 66, 56, 50, 50};
    float cx = x;
    for (int k = 0; k < 9; k++) {
        ui_text(u, UI_SMALL, cx, y, C_ACCENT, k_cols[k]);
        cx += S(t, cw[k]);
    }
    y += sl;
    for (int i = 0; i < m->n_inj && i < 8; i++, y += sl) {
        const score_injection *in = &m->inj[i];
        char cells[9][32];
        snprintf(cells[0], 32, "%d", i + 1);
        snprintf(cells[1], 32, "%s", score_verdict_name(in->verdict));
        snprintf(cells[2], 32, "%.2f", in->tip_depth_mm);
        snprintf(cells[3], 32, "%+.2f", in->margin_mm);
        snprintf(cells[4], 32, "%s", in->tip_in_slice ? "yes" : "no");
        snprintf(cells[5], 32, "%.2f", in->tip_to_plane_mm);
        snprintf(cells[6], 32, "%.0f%%", 100 * in->dermis_fraction);
        snprintf(cells[7], 32, "%s", in->wheal ? "yes" : "no");
        snprintf(cells[8], 32, "%s", in->vessel_punctured ? "hit" : "-");
        cx = x;
        for (int k = 0; k < 9; k++) {
            ui_text(u, UI_SMALL, cx, y, k == 1 ? (in->verdict == VERDICT_INTRADERMAL ? C_GOOD : C_BAD) : C_TEXT,
                    cells[k]);
            cx += S(t, cw[k]);
        }
    }
    if (m->n_inj == 0)
        ui_text(u, UI_SMALL, x, y, C_DIM, "No injection was made."), y += sl;
    ui_text(u, UI_SMALL, x, y, C_DIM, "(depth, margin to the dermis and distance to the plane in mm)");
    y += sl + S(t, 4);
    ui_textf(u, UI_SMALL, x, y, C_DIM, "Passes %d, redirects %d, time %.0f s, depth SD %.2f mm, plan error %.1f mm",
             m->passes, m->redirects, m->time_s, r->depth_sd_mm, r->spacing_error_mm);
    /* The skin map goes below whatever the teaching points needed (layout reads this). */
    if (t->debrief.map_min_top != y + sl + S(t, 28)) {
        t->debrief.map_min_top = y + sl + S(t, 28);
        layout(t);
    }
    draw_replay(t);
    draw_thumbs(t);
    draw_skin_map(t);
    if (t->run.log_path[0])
        ui_textf(u, UI_SMALL, x, H - S(t, 40), C_DIM, "Action log: %s", t->run.log_path);
    if (t->run.report_path[0])
        ui_textf(u, UI_SMALL, x, H - S(t, 24), C_DIM, "Report: %s", t->run.report_path);
    (void)W;
}

/* ---- scripted use --------------------------------------------------------------------------- */

void trainer_debrief_seek(trainer *t, double t_s)
{
    t->debrief.playing = false;
    seek(t, t_s);
}

double trainer_debrief_time(const trainer *t) { return t->debrief.t_s; }
double trainer_debrief_seek_ms_max(const trainer *t) { return t->debrief.seek_ms_max; }
const driver_snapshot *trainer_debrief_snapshot(const trainer *t) { return t->debrief.rs; }

void trainer_debrief_rects(const trainer *t, float image[4], float view[4], float map[4], float timeline[4])
{
    layout((trainer *)t);
    memcpy(image, t->debrief.bmode_r, sizeof t->debrief.bmode_r);
    memcpy(view, t->debrief.view_r, sizeof t->debrief.view_r);
    memcpy(map, t->debrief.map_r, sizeof t->debrief.map_r);
    memcpy(timeline, t->debrief.timeline_r, sizeof t->debrief.timeline_r);
}

bool trainer_debrief_view_px(const trainer *t, const double p_mm[3], float *px, float *py)
{
    return outside_view_project(t->ov, p_mm, px, py);
}

bool trainer_debrief_tip_px(const trainer *t, float *px, float *py)
{
    const driver_snapshot *rs = t->debrief.rs;
    if (!rs || !needle_placed(rs->needle))
        return false;
    double tip[3];
    needle_tip_mm(rs->needle, tip);
    return outside_view_project(t->ov, tip, px, py);
}

void trainer_debrief_map_px(const trainer *t, double x_mm, double y_mm, float *px, float *py)
{
    layout((trainer *)t);
    map_px(t, x_mm, y_mm, px, py);
}
