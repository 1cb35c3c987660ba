/* screen_scan: scanning and injecting. The frame's controls become actions (probe slides
 * along the probe's own axes, the scanner's settings: depth, gain, dynamic range, frequency,
 * TGC slope and 8 sliders, transmit focus, presets; needle entry out of plane, advance at the
 * hand's speed, injection; the declared steps the trainee selects, their undo; the dermis mark
 * and the calipers from clicks on the image), each through trainer_do (trainer_session.c);
 * then the session's scene is synthesised (display-only), kept in the cine loop, and drawn
 * with the settings, scales, the TGC sliders, readouts of where the probe and the needle are,
 * the outside view, the checklist and the last messages.
 *
 * Freeze holds the image (display only: the session, its clock and the probe go on, as on a
 * scanner with the probe still on the patient); while frozen the cine keys and the wheel over
 * the image scroll back through the last 10 s. Pause stops the session clock and the keys;
 * the help overlay and the end/close question hold the clock too. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "doppler_view.h"
#include "limit.h"
#include "trainer_internal.h"

#define PI 3.14159265358979323846
/* A tick can be undone this long after it was made (the core's undo_step allows a few s). */
#define UNDO_WINDOW_S 5.0
/* Messages stay 10 s, fading over the last 3. */
#define MSG_LIFE_S 10.0
#define MSG_FADE_S 3.0
/* The TGC sliders span +-20 dB (the limit allows +-40: the outer half is never useful on
 * skin and would make each pixel of the slider coarser). */
#define TGC_SLIDER_DB 20.0

void scan_say(trainer *t, ui_color c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->scan.msg, sizeof t->scan.msg, fmt, ap);
    va_end(ap);
    t->scan.msg_color = c;
    t->scan.msg_until_s = t->scan.t + MSG_LIFE_S;
    int n = (int)(sizeof t->scan.msgs / sizeof t->scan.msgs[0]);
    if (t->scan.n_msgs == n) {
        memmove(t->scan.msgs, t->scan.msgs + 1, (size_t)(n - 1) * sizeof t->scan.msgs[0]);
        t->scan.n_msgs--;
    }
    struct scan_msg *m = &t->scan.msgs[t->scan.n_msgs++];
    snprintf(m->text, sizeof m->text, "%s", t->scan.msg);
    m->color = c;
    m->t_s = t->scan.t;
}

double scan_clock(trainer *t, double t_s)
{
    scan_state *s = &t->scan;
    s->raw_t = t_s;
    bool hold = s->paused || t->show_help || s->confirm;
    if (hold && !s->held) {
        s->held = true;
        s->hold_from_s = t_s;
    } else if (!hold && s->held) {
        s->held = false;
        s->held_total_s += t_s - s->hold_from_s;
    }
    return (s->held ? s->hold_from_s : t_s) - s->held_total_s;
}

void scan_ask_close(trainer *t)
{
    if (t->run.d && !driver_finished(t->run.d))
        t->scan.confirm = 2;
    else
        t->scan.quit_now = true;
}

/* The geometry of the image on screen: what synthesise last showed (the cine frame while
 * frozen, the live image, a box of either when zoomed), else what the probe will give. */
static void shown_geometry(trainer *t, trainer_image_rect *g)
{
    memset(g, 0, sizeof *g);
    if (t->scan.have_img && t->scan.disp.rows > 0) {
        *g = t->scan.disp;
    } else if (t->run.s) {
        probe_def p = tsession_view(t)->probe;
        bmode_geometry(&p, &g->rows, &g->cols, &g->dz_mm, &g->dx_mm, &g->x0_mm);
    }
}

static float left_width(const trainer *t)
{
    float W = (float)t->fb_w;
    return t->scan.show_view ? floorf(W * 0.6f) : W - S(t, 360);
}

/* Room above the image (two lines of settings), right of it (focus marker and TGC sliders)
 * and below it (lateral scale and labels, three lines of readouts). */
#define ABOVE_PX 46
#define RIGHT_PX 100
#define BELOW_PX 86

void scan_layout(trainer *t)
{
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float top = S(t, 36), bottom = S(t, 28);
    float left_w = left_width(t);
    trainer_image_rect g;
    shown_geometry(t, &g);
    trainer_image_rect *r = &t->scan.ir;
    memset(r, 0, sizeof *r);
    if (g.rows > 0 && g.cols > 0) {
        float px = S(t, 64), py = top + S(t, ABOVE_PX), pw = left_w - px - S(t, RIGHT_PX),
              ph = H - py - bottom - S(t, BELOW_PX);
        double w_mm = g.cols * g.dx_mm, h_mm = g.rows * g.dz_mm;
        double sc = fmax(fmin(pw / w_mm, ph / h_mm), 1.0);
        *r = g;
        r->w = (float)(w_mm * sc);
        r->h = (float)(h_mm * sc);
        r->x = floorf(px + 0.5f * fmaxf(pw - r->w, 0.0f));
        r->y = floorf(py);
    }
    if (t->scan.show_view && t->screen == SCREEN_SCAN) {
        t->scan.view[0] = left_w + S(t, 8);
        t->scan.view[1] = top + S(t, 8);
        t->scan.view[2] = W - left_w - S(t, 16);
        t->scan.view[3] = floorf((H - top - bottom) * 0.42f);
    } else {
        memset(t->scan.view, 0, sizeof t->scan.view);
    }
}

/* Image mm of a screen point, and back: column j is centred at x0 + j dx, so the image's
 * left edge is x0 - dx/2; row i starts at z0 + i dz. */
static double left_edge_mm(const trainer_image_rect *r) { return r->x0_mm - 0.5 * r->dx_mm; }
static double screen_to_x_mm(const trainer_image_rect *r, float sx)
{
    return left_edge_mm(r) + (sx - r->x) / r->w * r->cols * r->dx_mm;
}
static double screen_to_z_mm(const trainer_image_rect *r, float sy)
{
    return r->z0_mm + (sy - r->y) / r->h * r->rows * r->dz_mm;
}
static float x_mm_to_screen(const trainer_image_rect *r, double x)
{
    return r->x + (float)((x - left_edge_mm(r)) / (r->cols * r->dx_mm) * r->w);
}
static float z_mm_to_screen(const trainer_image_rect *r, double z)
{
    return r->y + (float)((z - r->z0_mm) / (r->rows * r->dz_mm) * r->h);
}
static bool in_image(const trainer_image_rect *r, float x, float y)
{
    return r->w > 0 && x >= r->x && x <= r->x + r->w && y >= r->y && y <= r->y + r->h;
}

/* What a refused action was meant to do, in words. */
static const char *verb_words(action_verb v)
{
    switch (v) {
    case ACT_PROBE: return "move the probe or change the settings";
    case ACT_NEEDLE_ENTRY: return "put the needle in";
    case ACT_ADVANCE: return "advance the needle";
    case ACT_RETRACT: return "pull the needle back";
    case ACT_WITHDRAW: return "withdraw the needle";
    case ACT_REDIRECT: return "redirect the needle";
    case ACT_INJECT: return "inject";
    case ACT_STEP: return "tick the step";
    case ACT_MARK_DERMIS: return "mark the dermis";
    case ACT_MEASURE: return "measure";
    default: return "do that";
    }
}

static bool do_or_say(trainer *t, action *a)
{
    char err[256];
    if (trainer_do(t, a, err, sizeof err))
        return true;
    scan_say(t, 0xffb0a0ff, "Could not %s: %s", verb_words(a->verb), err);
    return false;
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

/* The probe setting or pose value an action key sets, to log only what changed. */
static double probe_value(const probe_pose *p, const probe_def *d, action_key k)
{
    switch (k) {
    case AK_X: return p->x_mm;
    case AK_Y: return p->y_mm;
    case AK_ROT: return p->rot_deg;
    case AK_TILT: return p->tilt_deg;
    case AK_ROCK: return p->rock_deg;
    case AK_PRESSURE: return p->pressure_n;
    case AK_FREQ: return d->freq_mhz;
    case AK_DEPTH: return d->depth_mm;
    case AK_GAIN: return d->gain_db;
    case AK_DR: return d->dynamic_range_db;
    case AK_TGC: return d->tgc_db_cm_mhz;
    case AK_FOCUS: return d->tx_focus_mm;
    case AK_RX_FNUMBER: return d->rx_fnumber;
    default:
        if (k >= AK_TGC0 && k <= AK_TGC7)
            return d->tgc_db[k - AK_TGC0];
        return NAN;
    }
}

/* Slider k's track on screen: beside the image at the depth of its zone's centre. */
static void tgc_slider(const trainer *t, int k, float *x, float *y, float *w, float *zone_h)
{
    const trainer_image_rect *r = &t->scan.ir;
    *x = r->x + r->w + S(t, 22);
    *w = S(t, 58);
    *zone_h = r->h / PROBE_TGC_ZONES;
    *y = r->y + (k + 0.5f) * *zone_h;
}

void trainer_tgc_slider_rect(const trainer *t, int zone, float out[4])
{
    tgc_slider(t, zone, &out[0], &out[1], &out[2], &out[3]);
}

/* The slider under a press (pointer x, y), -1 none. */
static int tgc_hit(const trainer *t, float px, float py)
{
    for (int k = 0; k < PROBE_TGC_ZONES; k++) {
        float x, y, w, zh;
        tgc_slider(t, k, &x, &y, &w, &zh);
        if (px >= x - S(t, 6) && px <= x + w + S(t, 6) && fabsf(py - y) <= fminf(0.5f * zh, S(t, 10)))
            return k;
    }
    return -1;
}

/* The presets: one action each, frequency, depth and focus for a target, the gains back to
 * neutral. Skin: the epidermis and dermis only; superficial: through the fat to the fascia;
 * deep: down to the muscle. */
typedef struct scan_preset {
    const char *name;
    double freq_mhz, depth_mm, focus_mm;
} scan_preset;
static const scan_preset k_presets[3] = {
    {"Skin", 22.0, 6.0, 2.0},
    {"Superficial", 18.0, 10.0, 5.0},
    {"Deep", 12.0, 25.0, 12.0},
};

static void preset(trainer *t, int i)
{
    const scan_preset *p = &k_presets[i];
    action a = trainer_make_action(ACT_PROBE, t->scan.t);
    trainer_set_key(&a, AK_FREQ, p->freq_mhz);
    trainer_set_key(&a, AK_DEPTH, p->depth_mm);
    trainer_set_key(&a, AK_FOCUS, p->focus_mm);
    trainer_set_key(&a, AK_GAIN, 0.0);
    for (int k = 0; k < PROBE_TGC_ZONES; k++)
        trainer_set_key(&a, (action_key)(AK_TGC0 + k), 0.0);
    if (do_or_say(t, &a))
        scan_say(t, 0xc8e6ffff, "Preset %s: %.0f MHz, %.0f mm deep, focus at %.0f mm.", p->name, p->freq_mhz,
                 p->depth_mm, p->focus_mm);
}

static void probe_controls(trainer *t, const controls *c)
{
    probe_pose p = tsession_view(t)->pose;
    probe_def d = tsession_view(t)->probe;
    const phantom_def *ph = phantom_get_def(tsession_view(t)->anatomy);
    double lim_x = 0.5 * ph->width_mm - 0.5 * probe_fov_mm(&d) - 1.0, lim_y = 0.5 * ph->length_mm - 4.0;
    /* Slides follow the probe's own axes, so "right" is along the image after a rotation. */
    double r = p.rot_deg * PI / 180.0;
    double dx = c->probe_dx_mm * cos(r) - c->probe_dy_mm * sin(r);
    double dy = c->probe_dx_mm * sin(r) + c->probe_dy_mm * cos(r);
    action a = trainer_make_action(ACT_PROBE, t->scan.t);
    double x = clampd(p.x_mm + dx, -fmax(lim_x, 0), fmax(lim_x, 0));
    double y = clampd(p.y_mm + dy, -lim_y, lim_y);
    if (x != p.x_mm)
        trainer_set_key(&a, AK_X, x);
    if (y != p.y_mm)
        trainer_set_key(&a, AK_Y, y);
    if (c->probe_drot_deg != 0) {
        double rot = fmod(p.rot_deg + c->probe_drot_deg, 360.0);
        trainer_set_key(&a, AK_ROT, rot > 180 ? rot - 360 : rot < -180 ? rot + 360 : rot);
    }
    if (c->probe_dtilt_deg != 0)
        trainer_set_key(&a, AK_TILT, limit_clamp(LIM_TILT_DEG, p.tilt_deg + c->probe_dtilt_deg));
    if (c->probe_drock_deg != 0)
        trainer_set_key(&a, AK_ROCK, limit_clamp(LIM_ROCK_DEG, p.rock_deg + c->probe_drock_deg));
    if (c->probe_dpressure_n != 0)
        trainer_set_key(&a, AK_PRESSURE, limit_clamp(LIM_PRESSURE_N, p.pressure_n + c->probe_dpressure_n));
    /* While frozen the wheel scrolls the cine loop instead (cine_controls). */
    double steps_depth = (t->scan.frozen ? 0 : c->depth_steps) + (c->pressed[BTN_DEPTH_UP] ? 1 : 0) -
                         (c->pressed[BTN_DEPTH_DOWN] ? 1 : 0);
    double depth = d.depth_mm;
    if (steps_depth != 0) {
        depth = limit_clamp(LIM_DEPTH_MM, round(d.depth_mm + steps_depth));
        trainer_set_key(&a, AK_DEPTH, depth);
    }
    if (c->pressed[BTN_FREQ_UP] || c->pressed[BTN_FREQ_DOWN])
        trainer_set_key(&a, AK_FREQ, limit_clamp(LIM_FREQ_MHZ, d.freq_mhz + (c->pressed[BTN_FREQ_UP] ? 1 : -1)));
    if (c->pressed[BTN_GAIN_UP] || c->pressed[BTN_GAIN_DOWN])
        trainer_set_key(&a, AK_GAIN, limit_clamp(LIM_GAIN_DB, d.gain_db + (c->pressed[BTN_GAIN_UP] ? 2 : -2)));
    if (c->pressed[BTN_DR_UP] || c->pressed[BTN_DR_DOWN])
        trainer_set_key(&a, AK_DR, limit_clamp(LIM_DYNAMIC_RANGE_DB, d.dynamic_range_db + (c->pressed[BTN_DR_UP] ? 5 : -5)));
    /* TGC: the slope of depth gain, in steps of 0.1 dB/cm/MHz (0: none, raw attenuation). */
    if (c->pressed[BTN_TGC_UP] || c->pressed[BTN_TGC_DOWN])
        trainer_set_key(&a, AK_TGC, limit_clamp(LIM_TGC_DB_CM_MHZ, round(10.0 * d.tgc_db_cm_mhz + (c->pressed[BTN_TGC_UP] ? 1 : -1)) / 10.0));
    /* Transmit focus in 0.5 mm steps, kept inside the image (a shallower image pulls it up). */
    double focus = d.tx_focus_mm;
    if (c->pressed[BTN_FOCUS_SHALLOWER] || c->pressed[BTN_FOCUS_DEEPER])
        focus = round(2.0 * (focus + (c->pressed[BTN_FOCUS_DEEPER] ? 0.5 : -0.5))) / 2.0;
    focus = limit_clamp(LIM_FOCUS_MM, fmin(focus, depth));
    if (focus != d.tx_focus_mm)
        trainer_set_key(&a, AK_FOCUS, focus);
    /* Receive F-number in steps of 0.25: lower opens the aperture and narrows the beam across. */
    if (c->pressed[BTN_FNUMBER_DOWN] || c->pressed[BTN_FNUMBER_UP])
        trainer_set_key(&a, AK_RX_FNUMBER,
                        limit_clamp(LIM_RX_FNUMBER, round(4.0 * (d.rx_fnumber + (c->pressed[BTN_FNUMBER_UP] ? 0.25 : -0.25))) / 4.0));
    /* The TGC sliders: a press on one takes it, the drag sets its zone's gain in 1 dB steps. */
    float px = c->clicked ? c->click_x : c->pointer_x, py = c->clicked ? c->click_y : c->pointer_y;
    if (c->clicked)
        t->scan.tgc_drag = tgc_hit(t, px, py);
    if (!c->pointer_down && !c->clicked)
        t->scan.tgc_drag = -1;
    if (t->scan.tgc_drag >= 0) {
        float sx, sy, sw, zh;
        tgc_slider(t, t->scan.tgc_drag, &sx, &sy, &sw, &zh);
        double db = round(clampd(((px - sx) / sw * 2.0 - 1.0) * TGC_SLIDER_DB, -TGC_SLIDER_DB, TGC_SLIDER_DB));
        trainer_set_key(&a, (action_key)(AK_TGC0 + t->scan.tgc_drag), db);
    }
    /* Only what changed goes into the log; an unchanged clamp is no action at all. */
    bool changed = false;
    for (int k = 0; k < AK_COUNT; k++) {
        if (!action_has(&a, (action_key)k))
            continue;
        if (a.v[k] != probe_value(&p, &d, (action_key)k))
            changed = true;
        else
            a.has &= ~((uint64_t)1 << k);
    }
    if (changed)
        do_or_say(t, &a);
    for (int i = 0; i < 3; i++)
        if (c->pressed[BTN_PRESET_SKIN + i])
            preset(t, i);
}

/* Out-of-plane entry: aim_dist_mm from the image plane on the probe's -elevation side,
 * pointing across the plane, at the image centre line. */
static void needle_entry(trainer *t)
{
    probe_pose p = tsession_view(t)->pose;
    double r = p.rot_deg * PI / 180.0;
    double vx = -sin(r), vy = cos(r);
    action a = trainer_make_action(ACT_NEEDLE_ENTRY, t->scan.t);
    trainer_set_key(&a, AK_X, p.x_mm - t->scan.aim_dist_mm * vx);
    trainer_set_key(&a, AK_Y, p.y_mm - t->scan.aim_dist_mm * vy);
    trainer_set_key(&a, AK_ANGLE, t->scan.aim_angle_deg);
    double az = 90.0 + p.rot_deg;
    trainer_set_key(&a, AK_AZIMUTH, az > 360 ? az - 360 : az < -360 ? az + 360 : az);
    do_or_say(t, &a);
}

static void needle_controls(trainer *t, const controls *c, double dt)
{
    const needle *nd = tsession_view(t)->needle;
    bool placed = needle_placed(nd);
    if (c->pressed[BTN_NEEDLE_ENTRY]) {
        char key[96];
        if (placed)
            scan_say(t, 0xffd080ff, "The needle is already on the skin: withdraw it (%s) first.",
                     screens_key(t, BTN_NEEDLE_WITHDRAW, key));
        else
            needle_entry(t);
    }
    if (c->pressed[BTN_ANGLE_UP] || c->pressed[BTN_ANGLE_DOWN]) {
        double ang = clampd((placed ? needle_angle_deg(nd) : t->scan.aim_angle_deg) +
                                (c->pressed[BTN_ANGLE_UP] ? 2.0 : -2.0), 5, 85);
        if (placed && needle_in_skin(nd)) {
            action a = trainer_make_action(ACT_REDIRECT, t->scan.t);
            trainer_set_key(&a, AK_ANGLE, ang);
            trainer_set_key(&a, AK_AZIMUTH, needle_azimuth_deg(nd));
            do_or_say(t, &a);
        }
        t->scan.aim_angle_deg = ang;
    }
    if (!placed && (c->pressed[BTN_ENTRY_NEARER] || c->pressed[BTN_ENTRY_FARTHER]))
        t->scan.aim_dist_mm = clampd(t->scan.aim_dist_mm + (c->pressed[BTN_ENTRY_FARTHER] ? 0.5 : -0.5), 0.5, 10);
    t->scan.needle_speed_mm_s = c->needle_speed_mm_s;
    double mm = c->needle_speed_mm_s * dt;
    if (placed && fabs(mm) > 1e-6) {
        action a = trainer_make_action(mm > 0 ? ACT_ADVANCE : ACT_RETRACT, t->scan.t);
        trainer_set_key(&a, AK_MM, fmin(fabs(mm), 2.0));
        do_or_say(t, &a);
    }
    if (c->pressed[BTN_NEEDLE_WITHDRAW] && placed) {
        action a = trainer_make_action(ACT_WITHDRAW, t->scan.t);
        do_or_say(t, &a);
    }
    if (c->pressed[BTN_INJECT]) {
        if (tsession_view(t)->injecting) {
            scan_say(t, 0xffd080ff, "Injection under way.");
        } else {
            action a = trainer_make_action(ACT_INJECT, t->scan.t);
            trainer_set_key(&a, AK_ML, t->open.sc.drug.volume_ml);
            trainer_set_key(&a, AK_RATE, t->open.sc.drug.rate_ml_s);
            do_or_say(t, &a);
        }
    }
}

/* The declared steps of the case report and their keys; the other rows of the checklist are
 * scored from what the trainee does. */
static const struct {
    score_step step;
    ctl_button key;
} k_declared[] = {{STEP_POSITIONING, BTN_STEP_POSITIONING},
                  {STEP_DISINFECTION, BTN_STEP_DISINFECTION},
                  {STEP_STERILE_FIELD, BTN_STEP_STERILE_FIELD},
                  {STEP_DRESSING, BTN_STEP_DRESSING}};
#define N_DECLARED ((int)(sizeof k_declared / sizeof k_declared[0]))

static int declared_index(score_step s)
{
    for (int i = 0; i < N_DECLARED; i++)
        if (k_declared[i].step == s)
            return i;
    return -1;
}

/* Ticks the step the trainee named (a key, a click on its row, or the tick key over it). */
static void tick(trainer *t, score_step s)
{
    char key[96];
    if (declared_index(s) < 0) {
        scan_say(t, 0xffd080ff, "\"%s\" is scored from what you do%s.", screens_step_label(s),
                 s == STEP_ASSESSMENT ? " (mark the dermis or measure it)" : ", not ticked");
        return;
    }
    const score_session *m = &tsession_view(t)->metrics;
    if (m->step_done[s]) {
        scan_say(t, 0xffd080ff, "\"%s\" is already ticked.", screens_step_label(s));
        return;
    }
    action a = trainer_make_action(ACT_STEP, t->scan.t);
    snprintf(a.name, sizeof a.name, "%s", score_step_name(s));
    if (s == STEP_DISINFECTION)
        a.skin_check = a.has_skin_check = true;
    if (!do_or_say(t, &a))
        return;
    snprintf(t->scan.undo_name, sizeof t->scan.undo_name, "%s", a.name);
    t->scan.undo_until_s = t->scan.t + UNDO_WINDOW_S;
    screens_key(t, BTN_UNDO_STEP, key);
    if (s == STEP_DRESSING && m->n_inj == 0)
        scan_say(t, 0xffd080ff, "Dressing ticked before any injection. %s undoes it.", key);
    else
        scan_say(t, 0xb0ffb0ff, "Done: %s (%s undoes it for %.0f s).", screens_step_label(s), key, UNDO_WINDOW_S);
}

/* Sends undo_step for the last tick. The verb is read from its text, so a core that does not
 * know it yet refuses it in words and nothing else changes. */
static void undo(trainer *t)
{
    if (!t->scan.undo_name[0] || t->scan.t > t->scan.undo_until_s) {
        scan_say(t, 0xffd080ff, "Nothing to undo: a tick can be undone for %.0f s.", UNDO_WINDOW_S);
        return;
    }
    char line[160], err[256];
    snprintf(line, sizeof line, "{\"t\":%.17g,\"do\":\"undo_step\",\"name\":\"%s\"}", t->scan.t, t->scan.undo_name);
    action a;
    if (!action_parse_line(line, strlen(line), -1, &a, err, sizeof err)) {
        scan_say(t, 0xffb0a0ff, "Undo is not available in this version of the simulator: the tick stays.");
        return;
    }
    if (!trainer_do(t, &a, err, sizeof err)) {
        scan_say(t, 0xffb0a0ff, "Could not undo: %s", err);
        return;
    }
    for (int s = 0; s < STEP_COUNT; s++)
        if (!strcmp(score_step_name((score_step)s), t->scan.undo_name))
            scan_say(t, 0xc8e6ffff, "Undone: %s.", screens_step_label((score_step)s));
    t->scan.undo_name[0] = '\0';
}

static void step_controls(trainer *t, const controls *c)
{
    t->scan.hover_step = -1;
    float x = t->scan.step_rows_x, w = t->scan.step_rows_w;
    for (int s = 0; s < STEP_COUNT && w > 0; s++)
        if (c->pointer_x >= x && c->pointer_x < x + w && c->pointer_y >= t->scan.step_rows_y[s] &&
            c->pointer_y < t->scan.step_rows_y[s + 1])
            t->scan.hover_step = s;
    for (int i = 0; i < N_DECLARED; i++)
        if (c->pressed[k_declared[i].key])
            tick(t, k_declared[i].step);
    if (c->clicked && w > 0 && c->click_x >= x && c->click_x < x + w)
        for (int s = 0; s < STEP_COUNT; s++)
            if (c->click_y >= t->scan.step_rows_y[s] && c->click_y < t->scan.step_rows_y[s + 1])
                tick(t, (score_step)s);
    if (c->pressed[BTN_STEP]) {
        if (t->scan.hover_step >= 0) {
            tick(t, (score_step)t->scan.hover_step);
        } else {
            /* No pointer over the list (a game controller, a pen): the chooser names the step
             * before anything is ticked, starting at the first one not done. */
            int first = 0;
            while (first < N_DECLARED - 1 && tsession_view(t)->metrics.step_done[k_declared[first].step])
                first++;
            t->scan.step_menu = first;
            char k[96];
            scan_say(t, 0xc8e6ffff, "Which step is done? %s again ticks \"%s\"; up and down choose; %s closes.",
                     screens_key(t, BTN_STEP, k), screens_step_label(k_declared[first].step),
                     screens_key(t, BTN_BACK, k));
        }
    }
    if (c->pressed[BTN_UNDO_STEP])
        undo(t);
}

/* The step chooser is open: only it takes input (the D-pad moves it, not the depth). */
static void step_menu_controls(trainer *t, const controls *c)
{
    scan_state *s = &t->scan;
    int up = c->pressed[BTN_MENU_UP] || c->pressed[BTN_DEPTH_DOWN];
    int down = c->pressed[BTN_MENU_DOWN] || c->pressed[BTN_DEPTH_UP];
    s->step_menu = (s->step_menu + N_DECLARED + down - up) % N_DECLARED;
    if (c->pressed[BTN_STEP] || c->pressed[BTN_CONFIRM]) {
        score_step k = k_declared[s->step_menu].step;
        s->step_menu = -1;
        tick(t, k);
    } else if (c->pressed[BTN_BACK]) {
        s->step_menu = -1;
    }
}

static void mark_controls(trainer *t, const controls *c)
{
    if (c->pressed[BTN_MARK_DERMIS]) {
        t->scan.mark_stage = t->scan.mark_stage ? 0 : 1;
        t->scan.caliper_stage = 0;
        if (t->scan.mark_stage)
            scan_say(t, 0xc8e6ffff, "Click the top of the dermis in the image, then its bottom.");
    }
    if (!t->scan.mark_stage || !c->clicked)
        return;
    const trainer_image_rect *r = &t->scan.ir;
    if (!in_image(r, c->click_x, c->click_y))
        return;
    double z = screen_to_z_mm(r, c->click_y);
    if (t->scan.mark_stage == 1) {
        t->scan.mark_top_mm = z;
        t->scan.mark_stage = 2;
        return;
    }
    action a = trainer_make_action(ACT_MARK_DERMIS, t->scan.t);
    trainer_set_key(&a, AK_TOP, limit_clamp(LIM_MARK_DEPTH_MM, fmin(t->scan.mark_top_mm, z)));
    trainer_set_key(&a, AK_BOTTOM, limit_clamp(LIM_MARK_DEPTH_MM, fmax(t->scan.mark_top_mm, z)));
    if (do_or_say(t, &a))
        scan_say(t, 0xb0ffb0ff, "Dermis marked from %.2f to %.2f mm deep.", a.v[AK_TOP], a.v[AK_BOTTOM]);
    t->scan.mark_stage = 0;
}

/* Calipers: two clicks on the image, live or frozen; the distance is logged (measure). */
static void caliper_controls(trainer *t, const controls *c)
{
    if (c->pressed[BTN_CALIPERS]) {
        t->scan.caliper_stage = t->scan.caliper_stage ? 0 : 1;
        t->scan.mark_stage = 0;
        if (t->scan.caliper_stage)
            scan_say(t, 0xc8e6ffff, "Calipers: click the first point in the image, then the second.");
    }
    if (!t->scan.caliper_stage || !c->clicked)
        return;
    const trainer_image_rect *r = &t->scan.ir;
    if (!in_image(r, c->click_x, c->click_y))
        return;
    double x = limit_clamp(LIM_CALIPER_X_MM, screen_to_x_mm(r, c->click_x));
    double z = limit_clamp(LIM_CALIPER_Z_MM, screen_to_z_mm(r, c->click_y));
    if (t->scan.caliper_stage == 1) {
        t->scan.cal_mm[0] = x, t->scan.cal_mm[1] = z;
        t->scan.cal_shown = false;
        t->scan.caliper_stage = 2;
        return;
    }
    t->scan.cal_mm[2] = x, t->scan.cal_mm[3] = z;
    t->scan.caliper_stage = 0;
    action a = trainer_make_action(ACT_MEASURE, t->scan.t);
    trainer_set_key(&a, AK_X0, t->scan.cal_mm[0]);
    trainer_set_key(&a, AK_Z0, t->scan.cal_mm[1]);
    trainer_set_key(&a, AK_X1, x);
    trainer_set_key(&a, AK_Z1, z);
    if (do_or_say(t, &a)) {
        t->scan.cal_shown = true;
        scan_say(t, 0xb0ffb0ff, "Measured %.2f mm.", hypot(x - t->scan.cal_mm[0], z - t->scan.cal_mm[1]));
    }
}

/* Colour / power Doppler: each key is one "doppler" action (logged, replayed). The PRF steps
 * through the scales a scanner offers; steering cycles -20, 0, +20 degrees (a linear array's
 * usual steps); the box is two clicks on the image, like the calipers. */
static const double k_prfs[] = {250, 500, 750, 1000, 1500, 2000, 3000, 4000, 6000, 8000, 10000, 15000, 20000};
#define N_PRFS ((int)(sizeof k_prfs / sizeof k_prfs[0]))

static void doppler_say(trainer *t, const doppler_settings *d)
{
    probe_def p = tsession_view(t)->probe;
    if (d->mode == DOPPLER_OFF)
        scan_say(t, 0xc8e6ffff, "Doppler off.");
    else
        scan_say(t, 0xc8e6ffff, "%s Doppler: scale %.1f cm/s (PRF %.0f Hz), steer %+.0f deg, gain %+.0f dB.",
                 d->mode == DOPPLER_COLOR ? "Colour" : "Power", doppler_nyquist_cm_s(d, &p), d->prf_hz,
                 d->steer_deg, d->gain_db);
}

static void doppler_controls(trainer *t, const controls *c)
{
    scan_state *s = &t->scan;
    doppler_settings d = tsession_view(t)->doppler;
    action a = trainer_make_action(ACT_DOPPLER, s->t);
    bool send = false;
    if (c->pressed[BTN_DOPPLER_MODE]) {
        a.mode = (int)((d.mode + 1) % DOPPLER_MODE_COUNT);
        a.has_mode = true;
        send = true;
    }
    if (c->pressed[BTN_DOPPLER_PRF_DOWN] || c->pressed[BTN_DOPPLER_PRF_UP]) {
        int i = 0;
        while (i < N_PRFS - 1 && k_prfs[i] < d.prf_hz)
            i++;
        i += c->pressed[BTN_DOPPLER_PRF_UP] ? 1 : -1;
        trainer_set_key(&a, AK_PRF, k_prfs[(int)clampd(i, 0, N_PRFS - 1)]);
        send = true;
    }
    if (c->pressed[BTN_DOPPLER_STEER]) {
        trainer_set_key(&a, AK_STEER, d.steer_deg < -10.0 ? 0.0 : d.steer_deg < 10.0 ? 20.0 : -20.0);
        send = true;
    }
    if (c->pressed[BTN_DOPPLER_GAIN_DOWN] || c->pressed[BTN_DOPPLER_GAIN_UP]) {
        double g = d.gain_db + (c->pressed[BTN_DOPPLER_GAIN_UP] ? 2.0 : -2.0);
        trainer_set_key(&a, AK_GAIN, limit_clamp(LIM_DOPPLER_GAIN_DB, g));
        send = true;
    }
    if (c->pressed[BTN_DOPPLER_BOX]) {
        s->dop_box_stage = s->dop_box_stage ? 0 : 1;
        s->caliper_stage = s->mark_stage = 0;
        if (s->dop_box_stage)
            scan_say(t, 0xc8e6ffff, "Doppler box: click one corner in the image, then the opposite one.");
    }
    if (s->dop_box_stage && c->clicked && in_image(&s->ir, c->click_x, c->click_y)) {
        double x = limit_clamp(LIM_CALIPER_X_MM, screen_to_x_mm(&s->ir, c->click_x));
        double z = limit_clamp(LIM_CALIPER_Z_MM, screen_to_z_mm(&s->ir, c->click_y));
        if (s->dop_box_stage == 1) {
            s->dop_corner_mm[0] = x, s->dop_corner_mm[1] = z;
            s->dop_box_stage = 2;
        } else {
            s->dop_box_stage = 0;
            double x0 = fmin(x, s->dop_corner_mm[0]), x1 = fmax(x, s->dop_corner_mm[0]);
            double z0 = fmin(z, s->dop_corner_mm[1]), z1 = fmax(z, s->dop_corner_mm[1]);
            if (x1 - x0 < 0.5 || z1 - z0 < 0.5) {
                scan_say(t, 0xffd080ff, "The Doppler box must be at least 0.5 mm wide and deep.");
            } else {
                trainer_set_key(&a, AK_X0, x0);
                trainer_set_key(&a, AK_Z0, z0);
                trainer_set_key(&a, AK_X1, x1);
                trainer_set_key(&a, AK_Z1, z1);
                if (!a.has_mode && d.mode == DOPPLER_OFF) {
                    a.mode = DOPPLER_COLOR; /* placing a box means looking for flow */
                    a.has_mode = true;
                }
                send = true;
            }
        }
    }
    if (send && do_or_say(t, &a)) {
        if (a.has_mode)
            d.mode = (doppler_mode)a.mode;
        if (action_has(&a, AK_PRF))
            d.prf_hz = a.v[AK_PRF];
        if (action_has(&a, AK_STEER))
            d.steer_deg = a.v[AK_STEER];
        if (action_has(&a, AK_GAIN))
            d.gain_db = a.v[AK_GAIN];
        doppler_say(t, &d);
    }
}

/* Write zoom: the image lines go up by the zoom (a probe action, logged: the synthesis is
 * redone at the finer lateral sampling; depth is sampled at a quarter wavelength, already
 * finer than the screen) and the screen shows the box of 1/zoom of the depth and width
 * around the pointer (the image centre when the pointer is not on it). */
static const double k_zooms[] = {1.0, 1.5, 2.0, 3.0, 4.0};
#define N_ZOOMS ((int)(sizeof k_zooms / sizeof k_zooms[0]))

static void zoom_controls(trainer *t, const controls *c)
{
    scan_state *s = &t->scan;
    int dir = (c->pressed[BTN_ZOOM_IN] ? 1 : 0) - (c->pressed[BTN_ZOOM_OUT] ? 1 : 0);
    if (dir == 0)
        return;
    int level = 0;
    for (int i = 0; i < N_ZOOMS; i++)
        if (fabs(k_zooms[i] - s->zoom) < 1e-9)
            level = i;
    level = (int)clampd(level + dir, 0, N_ZOOMS - 1);
    probe_def d = tsession_view(t)->probe;
    if (s->zoom <= 1.0)
        s->base_lines = d.n_lines;
    const trainer_image_rect *r = &s->ir;
    if (dir > 0 && in_image(r, c->pointer_x, c->pointer_y)) {
        s->zoom_x_mm = screen_to_x_mm(r, c->pointer_x);
        s->zoom_z_mm = screen_to_z_mm(r, c->pointer_y);
    } else if (s->zoom <= 1.0) {
        s->zoom_x_mm = 0.0;
        s->zoom_z_mm = 0.5 * d.depth_mm;
    }
    double lines = limit_clamp(LIM_N_LINES, round(s->base_lines * k_zooms[level]));
    if (lines != d.n_lines) {
        action a = trainer_make_action(ACT_PROBE, s->t);
        trainer_set_key(&a, AK_LINES, lines);
        if (!do_or_say(t, &a))
            return;
    }
    s->zoom = k_zooms[level];
    if (s->zoom > 1.0)
        scan_say(t, 0xc8e6ffff, "Zoom %.1fx around %.1f mm lateral, %.1f mm deep.", s->zoom, s->zoom_x_mm, s->zoom_z_mm);
    else
        scan_say(t, 0xc8e6ffff, "Zoom off: the whole image.");
}

static void cine_controls(trainer *t, const controls *c)
{
    if (c->pressed[BTN_FREEZE]) {
        t->scan.frozen = !t->scan.frozen;
        t->scan.cine_back = 0;
        if (!t->scan.frozen)
            t->scan.cal_shown = false; /* the measured image is gone */
        char k1[96], k2[96];
        if (t->scan.frozen)
            scan_say(t, 0xc8e6ffff, "Frozen: %s / %s or the wheel scroll back through the last %.0f s.",
                     screens_key(t, BTN_CINE_BACK, k1), screens_key(t, BTN_CINE_FORWARD, k2), SCAN_CINE_SECONDS);
    }
    if (!t->scan.frozen)
        return;
    int step = (c->pressed[BTN_CINE_BACK] ? 1 : 0) - (c->pressed[BTN_CINE_FORWARD] ? 1 : 0) + (int)lround(c->depth_steps);
    if (step != 0)
        t->scan.cine_back = (int)clampd(t->scan.cine_back + step, 0, fmax(t->scan.cine.count - 1, 0));
}

void scan_input(trainer *t, const controls *c, double dt)
{
    scan_state *s = &t->scan;
    if (s->confirm) {
        if (c->pressed[BTN_CONFIRM]) {
            bool close = s->confirm == 2;
            s->confirm = 0;
            trainer_end_session(t, s->t);
            s->quit_now = close;
        } else if (c->pressed[BTN_BACK]) {
            s->confirm = 0;
            scan_say(t, 0xc8e6ffff, "The session goes on.");
        }
        return;
    }
    if (t->show_help)
        return;
    if (c->pressed[BTN_PAUSE]) {
        s->paused = !s->paused;
        char k[96];
        scan_say(t, 0xc8e6ffff, s->paused ? "Paused: the clock stops; %s goes on." : "Going on (%s pauses).",
                 screens_key(t, BTN_PAUSE, k));
    }
    if (s->paused)
        return;
    if (s->step_menu >= 0) {
        step_menu_controls(t, c);
        return;
    }
    if (c->pressed[BTN_BACK]) {
        if (s->mark_stage || s->caliper_stage || s->dop_box_stage)
            scan_say(t, 0xc8e6ffff, "%s cancelled.",
                     s->mark_stage ? "Marking" : s->caliper_stage ? "Measuring" : "Placing the Doppler box");
        s->mark_stage = s->caliper_stage = s->dop_box_stage = 0;
    }
    if (c->pressed[BTN_TOGGLE_3D]) {
        s->show_view = !s->show_view;
        scan_layout(t);
    }
    if (c->orbit_dyaw_deg != 0 || c->orbit_dpitch_deg != 0 || c->zoom_factor != 1.0f)
        outside_camera_orbit(&s->cam, c->orbit_dyaw_deg, c->orbit_dpitch_deg, c->zoom_factor);
    cine_controls(t, c);
    zoom_controls(t, c);
    probe_controls(t, c);
    needle_controls(t, c, dt);
    step_controls(t, c);
    mark_controls(t, c);
    caliper_controls(t, c);
    doppler_controls(t, c);
    if (c->pressed[BTN_END_SESSION])
        s->confirm = 1;
}

/* Uploads an image, or with zoom the box of it around the zoom centre (1/zoom of its depth
 * and width; the probe's lines went up by the zoom, so the box is sampled as finely as the
 * whole image was), and keeps the geometry of what is shown. */
static void show(trainer *t, const uint8_t *pixels, int rows, int cols, double dz, double dx, double x0, double z0)
{
    scan_state *s = &t->scan;
    double zoom = s->zoom > 1.0 ? s->zoom : 1.0;
    int cr = (int)clampd(ceil(rows / zoom), 1, rows), cc = (int)clampd(ceil(cols / zoom), 1, cols);
    int r0 = (int)clampd(lround((s->zoom_z_mm - z0) / dz - 0.5 * cr), 0, rows - cr);
    int c0 = (int)clampd(lround((s->zoom_x_mm - x0) / dx - 0.5 * cc), 0, cols - cc);
    const uint8_t *up = pixels;
    if (cr < rows || cc < cols) {
        size_t need = (size_t)cr * (size_t)cc;
        if (need > s->crop_cap) {
            uint8_t *p = realloc(s->crop, need);
            if (!p) {
                cr = rows, cc = cols, r0 = c0 = 0; /* out of memory: the whole image */
            } else {
                s->crop = p;
                s->crop_cap = need;
            }
        }
        if (cr < rows || cc < cols) {
            for (int r = 0; r < cr; r++)
                memcpy(s->crop + (size_t)r * cc, pixels + (size_t)(r0 + r) * cols + c0, (size_t)cc);
            up = s->crop;
        }
    }
    image_tex_upload(&s->live, up, cc, cr);
    memset(&s->disp, 0, sizeof s->disp);
    s->disp.rows = cr, s->disp.cols = cc, s->disp.dz_mm = dz, s->disp.dx_mm = dx;
    s->disp.x0_mm = x0 + c0 * dx, s->disp.z0_mm = z0 + r0 * dz;
}

/* The image is drawn from the driver's snapshot, as any renderer on any thread would; each
 * new frame goes into the cine loop. Frozen, nothing is synthesised: the cine frame shows. */
static void synthesise(trainer *t)
{
    t->scan.have_dop = false;
    if (t->scan.frozen) {
        const scan_frame *f = scan_cine_get(&t->scan.cine, t->scan.cine_back);
        if (f)
            show(t, f->pixels, f->rows, f->cols, f->dz_mm, f->dx_mm, f->x0_mm, f->z0_mm);
        return;
    }
    /* A blind case (guidance.ultrasound false): no image while the trainee works, by
     * landmarks and feel; the debrief's replay shows the truth. */
    if (t->open.sc.guidance.blind) {
        t->scan.have_img = false;
        return;
    }
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    const driver_snapshot *snap = tsession_view(t);
    driver_snapshot_scene(snap, &scene, dyn);
    char err[256];
    if (bmode_render(t->bm, &scene, &t->scan.img, err, sizeof err) != 0) {
        scan_say(t, 0xff8080ff, "The image could not be made: %s", err);
        return;
    }
    if (snap->doppler.mode != DOPPLER_OFF) {
        if (!t->scan.dop) {
            doppler_def dd = doppler_default_def();
            dd.seed = t->open.sc.seed;
            t->scan.dop = doppler_create(&dd, err, sizeof err);
        }
        if (!t->scan.dop)
            scan_say(t, 0xff8080ff, "Doppler is not available: %s", err);
        else if (doppler_render(t->scan.dop, &scene, &snap->doppler, t->scan.t, &t->scan.dimg, err, sizeof err) != 0)
            scan_say(t, 0xff8080ff, "The Doppler box could not be made: %s", err);
        else
            t->scan.have_dop = true;
    }
    t->scan.have_img = true;
    t->scan.bmode_renders++;
    const bmode_image *im = &t->scan.img;
    scan_cine_push(&t->scan.cine, im->pixels, im->rows, im->cols, im->dz_mm, im->dx_mm, im->x0_mm, im->z0_mm,
                   t->scan.t);
    show(t, im->pixels, im->rows, im->cols, im->dz_mm, im->dx_mm, im->x0_mm, im->z0_mm);
}

/* Text on a dark backing, readable over the image. */
static void backed_text(trainer *t, ui_font f, float x, float y, ui_color c, const char *s)
{
    ui *u = t->ui;
    float w = ui_text_width(u, f, s), h = ui_line_height(u, f);
    ui_rect(u, x - S(t, 4), y - S(t, 1), w + S(t, 8), h + S(t, 2), 0x000000b8u);
    ui_text(u, f, x, y, c, s);
}

static void draw_settings(trainer *t, const probe_def *p)
{
    ui *u = t->ui;
    float lh = ui_line_height(u, UI_SMALL);
    float y = S(t, 36) + S(t, 4);
    char tgc[48];
    if (p->tgc_on && p->tgc_db_cm_mhz > 0.0)
        snprintf(tgc, sizeof tgc, "TGC slope %.1f dB/cm/MHz", p->tgc_db_cm_mhz);
    else
        snprintf(tgc, sizeof tgc, "TGC slope off");
    float x = S(t, 12);
    ui_textf(u, UI_SMALL, x, y, C_TEXT, "%.0f MHz   Depth %.0f mm   Gain %+.0f dB   Dynamic range %.0f dB", p->freq_mhz,
             p->depth_mm, p->gain_db, p->dynamic_range_db);
    char zoom[32] = "";
    if (t->scan.zoom > 1.0)
        snprintf(zoom, sizeof zoom, "   Zoom %.1fx", t->scan.zoom);
    ui_textf(u, UI_SMALL, x, y + lh, C_TEXT, "Focus %.1f mm   F# %.2f   %s%s", p->tx_focus_mm, p->rx_fnumber, tgc, zoom);
}

static void draw_scales(trainer *t, const trainer_image_rect *r, const probe_def *p)
{
    ui *u = t->ui;
    /* Depth scale: a tick per mm (per 5 mm beyond 20 mm deep), labels every 2, 5 or 10 mm. */
    double depth = r->rows * r->dz_mm;
    double step = depth > 20 ? 5 : 1, label = depth > 20 ? 10 : depth > 10 ? 5 : 2;
    for (double z = 0; z <= r->z0_mm + depth + 1e-9; z += step) {
        if (z < r->z0_mm - 1e-9)
            continue;
        float y = z_mm_to_screen(r, z);
        bool major = fmod(z + 1e-9, label) < 1e-6;
        ui_rect(u, r->x - S(t, major ? 12 : 7), y - 0.5f * S(t, 1), S(t, major ? 12 : 7), S(t, 1), C_TEXT);
        if (major) {
            char s[16];
            snprintf(s, sizeof s, "%.0f", z);
            ui_text(u, UI_SMALL, r->x - S(t, 16) - ui_text_width(u, UI_SMALL, s), y - S(t, 7), C_TEXT, s);
        }
    }
    ui_text(u, UI_SMALL, r->x - S(t, 40), r->y + r->h + S(t, 4), C_DIM, "mm");
    /* Lateral ticks every mm under the image, numbered every 5 (2 on a narrow image) mm from
     * the probe centre. */
    double w_mm = r->cols * r->dx_mm, lx = left_edge_mm(r);
    int every = w_mm > 12 ? 5 : 2;
    for (int k = (int)ceil(lx); k <= (int)floor(lx + w_mm); k++) {
        float x = x_mm_to_screen(r, k);
        bool major = k % every == 0;
        ui_rect(u, x, r->y + r->h + 1, S(t, 1), S(t, major ? 8 : 4), C_DIM);
        if (major) {
            char s[16];
            snprintf(s, sizeof s, "%d", k);
            ui_text(u, UI_SMALL, x - 0.5f * ui_text_width(u, UI_SMALL, s), r->y + r->h + S(t, 10), C_DIM, s);
        }
    }
    /* Transmit focus: a triangle pointing at the focal depth on the right edge. */
    if (p->tx_focus_mm >= r->z0_mm && p->tx_focus_mm <= r->z0_mm + depth) {
        float fy = z_mm_to_screen(r, p->tx_focus_mm);
        ui_triangle(u, r->x + r->w + S(t, 3), fy, r->x + r->w + S(t, 15), fy - S(t, 6), r->x + r->w + S(t, 15),
                    fy + S(t, 6), C_WARN);
    }
    /* TGC sliders: one per depth zone, beside it; the knob's offset is the zone's gain. */
    for (int k = 0; k < PROBE_TGC_ZONES; k++) {
        float x, y, w, zh;
        tgc_slider(t, k, &x, &y, &w, &zh);
        ui_rect(u, x, y - 0.5f * S(t, 2), w, S(t, 2), 0x56606cffu);
        ui_rect(u, x + 0.5f * w - 0.5f * S(t, 1), y - S(t, 4), S(t, 1), S(t, 8), 0x56606cffu);
        float kx = x + (float)((p->tgc_db[k] / TGC_SLIDER_DB + 1.0) * 0.5) * w;
        ui_rect(u, kx - S(t, 4), y - S(t, 6), S(t, 8), S(t, 12), t->scan.tgc_drag == k ? C_ACCENT : C_TEXT);
        if (p->tgc_db[k] != 0.0)
            ui_textf(u, UI_SMALL, x + w + S(t, 4), y - S(t, 7), C_DIM, "%+.0f", p->tgc_db[k]);
    }
    float sx, sy, sw, zh;
    tgc_slider(t, 0, &sx, &sy, &sw, &zh);
    ui_text(u, UI_SMALL, sx + 0.5f * sw - 0.5f * ui_text_width(u, UI_SMALL, "TGC"), r->y - S(t, 16), C_DIM, "TGC");
}

static void draw_calipers(trainer *t, const trainer_image_rect *r)
{
    ui *u = t->ui;
    const double *c = t->scan.cal_mm;
    bool show_a = t->scan.caliper_stage == 2 || t->scan.cal_shown, show_b = t->scan.cal_shown && t->scan.caliper_stage != 2;
    if (!show_a)
        return;
    float ax = x_mm_to_screen(r, c[0]), ay = z_mm_to_screen(r, c[1]);
    const ui_color col = 0xffe040ffu;
    float k = S(t, 5);
    ui_line(u, ax - k, ay, ax + k, ay, S(t, 1.5f), col);
    ui_line(u, ax, ay - k, ax, ay + k, S(t, 1.5f), col);
    if (!show_b)
        return;
    float bx = x_mm_to_screen(r, c[2]), by = z_mm_to_screen(r, c[3]);
    ui_line(u, bx - k, by, bx + k, by, S(t, 1.5f), col);
    ui_line(u, bx, by - k, bx, by + k, S(t, 1.5f), col);
    ui_line(u, ax, ay, bx, by, S(t, 1), col);
    char s[32];
    snprintf(s, sizeof s, "%.2f mm", hypot(c[2] - c[0], c[3] - c[1]));
    backed_text(t, UI_SMALL, 0.5f * (ax + bx) + S(t, 8), 0.5f * (ay + by) - S(t, 8), col, s);
}

/* The last messages over the bottom of the image, newest lowest, fading with age; never over
 * its upper half, where the skin and the needle are. */
static void draw_messages(trainer *t, const trainer_image_rect *r)
{
    ui *u = t->ui;
    float lh = ui_line_height(u, UI_SMALL), y = r->y + r->h - S(t, 6);
    float maxw = r->w - S(t, 16);
    for (int i = t->scan.n_msgs - 1; i >= 0; i--) {
        const struct scan_msg *m = &t->scan.msgs[i];
        double age = t->scan.t - m->t_s;
        if (age > MSG_LIFE_S || age < 0)
            continue;
        double a = age < MSG_LIFE_S - MSG_FADE_S ? 1.0 : (MSG_LIFE_S - age) / MSG_FADE_S;
        ui_color c = (m->color & 0xffffff00u) | (ui_color)(60 + 195 * a);
        /* Split into lines that fit the image's width, then draw them bottom up. */
        char lines[4][256];
        int n = 0;
        const char *p = m->text;
        while (*p && n < 4) {
            size_t best = 0, k = 0;
            while (p[k]) {
                size_t e = k;
                while (p[e] && p[e] != ' ')
                    e++;
                char tmp[256];
                size_t len = e < sizeof tmp - 1 ? e : sizeof tmp - 1;
                memcpy(tmp, p, len);
                tmp[len] = '\0';
                if (best && ui_text_width(u, UI_SMALL, tmp) > maxw)
                    break;
                best = len;
                k = p[e] == ' ' ? e + 1 : e;
                if (len == sizeof tmp - 1)
                    break;
            }
            if (!best)
                best = strlen(p) < 255 ? strlen(p) : 255;
            memcpy(lines[n], p, best);
            lines[n][best] = '\0';
            n++;
            p += best;
            while (*p == ' ')
                p++;
        }
        for (int l = n - 1; l >= 0; l--) {
            y -= lh + S(t, 2);
            if (y < r->y + 0.55f * r->h)
                return;
            ui_rect(u, r->x + S(t, 4), y - S(t, 1), fminf(ui_text_width(u, UI_SMALL, lines[l]) + S(t, 8), r->w - S(t, 8)),
                    lh + S(t, 2), (ui_color)(0x00000000u | (ui_color)(150 * a + 30)));
            ui_text(u, UI_SMALL, r->x + S(t, 8), y, c, lines[l]);
        }
    }
}

/* Where the probe and the needle are, and the next planned point from the probe. */
static void draw_readouts(trainer *t, const trainer_image_rect *r)
{
    ui *u = t->ui;
    const driver_snapshot *v = tsession_view(t);
    float lh = ui_line_height(u, UI_SMALL), x = S(t, 12), y = r->y + r->h + S(t, 28);
    const probe_pose *p = &v->pose;
    ui_textf(u, UI_SMALL, x, y, C_TEXT,
             "Probe at (%.1f, %.1f) mm   rotation %.0f\xc2\xb0   tilt %.1f\xc2\xb0   rock %.1f\xc2\xb0   pressure %.1f N",
             p->x_mm, p->y_mm, p->rot_deg, p->tilt_deg, p->rock_deg, p->pressure_n);
    const needle *nd = v->needle;
    if (needle_placed(nd)) {
        double e[3];
        needle_entry_mm(nd, e);
        ui_textf(u, UI_SMALL, x, y + lh, C_TEXT, "Needle enters at (%.1f, %.1f) mm, %.0f\xc2\xb0 to the skin, heading %.0f\xc2\xb0",
                 e[0], e[1], needle_angle_deg(nd), needle_azimuth_deg(nd));
    } else {
        ui_textf(u, UI_SMALL, x, y + lh, C_DIM, "Needle not placed: aim %.0f\xc2\xb0 to the skin, entry %.1f mm behind the image plane",
                 t->scan.aim_angle_deg, t->scan.aim_dist_mm);
    }
    const score_plan *plan = &t->open.sc.plan;
    int next = v->metrics.n_inj;
    if (plan->n_points > 0 && next < plan->n_points) {
        /* Along the image (+: to the image's right) and across it (+: ahead, away from the
         * side the needle enters on). */
        double rr = p->rot_deg * PI / 180.0;
        double dx = plan->points_mm[next][0] - p->x_mm, dy = plan->points_mm[next][1] - p->y_mm;
        double along = dx * cos(rr) + dy * sin(rr), across = -dx * sin(rr) + dy * cos(rr);
        ui_textf(u, UI_SMALL, x, y + 2 * lh, C_ACCENT, "Next planned point (%d of %d): %.1f mm %s and %.1f mm %s the probe centre",
                 next + 1, plan->n_points, fabs(along), along < 0 ? "left" : "right", fabs(across),
                 across < 0 ? "behind" : "ahead of");
    } else if (plan->n_points > 0) {
        ui_text(u, UI_SMALL, x, y + 2 * lh, C_GOOD, "Every planned point has had its injection.");
    }
}

static void draw_bmode(trainer *t)
{
    const trainer_image_rect *r = &t->scan.ir;
    if (t->open.sc.guidance.blind && r->w > 0) {
        ui_rect(t->ui, r->x, r->y, r->w, r->h, 0x101418ff);
        ui_frame(t->ui, r->x - 1, r->y - 1, r->w + 2, r->h + 2, 1, 0x3a4450ff);
        const char *msg = "blind: landmarks and feel only";
        ui_text(t->ui, UI_BODY, r->x + 0.5f * (r->w - ui_text_width(t->ui, UI_BODY, msg)), r->y + 0.5f * r->h, C_DIM, msg);
        return;
    }
    if (!t->scan.have_img || r->w <= 0)
        return;
    image_view_draw(t->iv, &t->scan.live, r->x, r->y, r->w, r->h, t->fb_w, t->fb_h);
    probe_def p = tsession_view(t)->probe;
    ui *u = t->ui;
    if (t->scan.have_dop) {
        double w_mm = r->cols * r->dx_mm, h_mm = r->rows * r->dz_mm;
        doppler_view_map m = {.x_scale = (float)(r->w / w_mm), .z_scale = (float)(r->h / h_mm),
                              .clip_x = r->x, .clip_y = r->y, .clip_w = r->w, .clip_h = r->h,
                              .ui_scale = S(t, 1)};
        m.x_off = r->x - (float)left_edge_mm(r) * m.x_scale;
        m.y_off = r->y - (float)r->z0_mm * m.z_scale;
        doppler_view_draw(u, &t->scan.dimg, &tsession_view(t)->doppler, &m);
    }
    ui_frame(u, r->x - 1, r->y - 1, r->w + 2, r->h + 2, 1, t->scan.frozen ? C_WARN : 0x3a4450ff);
    draw_settings(t, &p);
    draw_scales(t, r, &p);
    /* Orientation mark: the image side of the probe's marked edge (its -x end, the green
     * ridge on the probe in the outside view). */
    ui_disc(u, r->x + S(t, 10), r->y + S(t, 10), S(t, 5), 0x60e060ff);
    float bx = r->x + S(t, 24), by = r->y + S(t, 4);
    if (t->scan.frozen) {
        const scan_frame *f = scan_cine_get(&t->scan.cine, t->scan.cine_back);
        char s[96];
        snprintf(s, sizeof s, "FROZEN   %.1f s ago   frame %d of %d", f ? t->scan.t - f->t_s : 0.0,
                 t->scan.cine.count - t->scan.cine_back, t->scan.cine.count);
        backed_text(t, UI_BODY, bx, by, C_WARN, s);
        by += ui_line_height(u, UI_BODY) + S(t, 4);
    }
    if (t->scan.mark_stage)
        backed_text(t, UI_BODY, bx, by, 0x60e0ffff,
                    t->scan.mark_stage == 1 ? "Mark: click the top of the dermis" : "Mark: click the bottom of the dermis");
    else if (t->scan.caliper_stage)
        backed_text(t, UI_BODY, bx, by, 0xffe040ff,
                    t->scan.caliper_stage == 1 ? "Calipers: click the first point" : "Calipers: click the second point");
    else if (t->scan.dop_box_stage)
        backed_text(t, UI_BODY, bx, by, 0xffe040ff,
                    t->scan.dop_box_stage == 1 ? "Doppler box: click one corner" : "Doppler box: click the opposite corner");
    if (t->scan.mark_stage == 2)
        ui_rect(u, r->x, z_mm_to_screen(r, t->scan.mark_top_mm), r->w, S(t, 1), 0x60e0ffff);
    const score_session *m = &tsession_view(t)->metrics;
    if (m->marked) {
        for (int k = 0; k < 2; k++) {
            float y = z_mm_to_screen(r, k ? m->mark_bottom_mm : m->mark_top_mm);
            for (float x = r->x; x < r->x + r->w; x += S(t, 10))
                ui_rect(u, x, y, S(t, 5), S(t, 1), 0x60e0ffc0);
        }
    }
    draw_calipers(t, r);
    draw_messages(t, r);
    draw_readouts(t, r);
}

static void draw_side_panel(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float x = left_width(t) + S(t, 12), w = W - x - S(t, 12);
    float y = t->scan.view[3] > 0 ? t->scan.view[1] + t->scan.view[3] + S(t, 10) : S(t, 48);
    char key[96];
    if (t->scan.view[3] > 0)
        backed_text(t, UI_SMALL, t->scan.view[0] + S(t, 8), t->scan.view[1] + S(t, 4), C_DIM,
                    "Outside view (drag to orbit, wheel to zoom)");
    /* The body font where the panel has the room for its 18 lines, the small one where not. */
    ui_font f = (H - S(t, 28) - y) >= 18 * ui_line_height(u, UI_BODY) ? UI_BODY : UI_SMALL;
    float lh = ui_line_height(u, f);
    const driver_snapshot *v = tsession_view(t);
    const score_session *m = &v->metrics;
    ui_text(u, f, x, y, C_ACCENT, "Procedure: click a step, or press its key, when done");
    y += lh + S(t, 2);
    t->scan.step_rows_x = x;
    t->scan.step_rows_w = w;
    for (int s = 0; s < STEP_COUNT; s++) {
        t->scan.step_rows_y[s] = y;
        bool done = m->step_done[s];
        if (t->scan.hover_step == s || (t->scan.step_menu >= 0 && k_declared[t->scan.step_menu].step == (score_step)s))
            ui_rect(u, x - S(t, 4), y, w, lh, 0x2a3442ffu);
        ui_text(u, f, x, y, done ? C_GOOD : C_DIM, done ? "\xe2\x9c\x93" : "\xe2\x80\xa2");
        int di = declared_index((score_step)s);
        char label[160];
        if (di >= 0)
            snprintf(label, sizeof label, "%s  %s", screens_key(t, k_declared[di].key, key),
                     screens_step_label((score_step)s));
        else
            snprintf(label, sizeof label, "    %s", screens_step_label((score_step)s));
        ui_text(u, f, x + S(t, 18), y, done ? C_TEXT : C_DIM, label);
        y += lh;
    }
    t->scan.step_rows_y[STEP_COUNT] = y;
    if (t->scan.undo_name[0] && t->scan.t <= t->scan.undo_until_s) {
        const char *label = t->scan.undo_name;
        for (int s = 0; s < STEP_COUNT; s++)
            if (!strcmp(score_step_name((score_step)s), t->scan.undo_name))
                label = screens_step_label((score_step)s);
        ui_textf(u, f, x + S(t, 18), y, C_WARN, "Undo (%s): %s   %.0f s", screens_key(t, BTN_UNDO_STEP, key), label,
                 ceil(t->scan.undo_until_s - t->scan.t));
    }
    y += lh + S(t, 4);
    const needle *nd = v->needle;
    const needle_def *nd_def = needle_get_def(nd);
    ui_textf(u, f, x, y, C_ACCENT, "Needle %dG %.0f mm", nd_def->gauge, nd_def->length_mm);
    y += lh;
    char line[200];
    if (!needle_placed(nd))
        snprintf(line, sizeof line, "Aim: %.0f\xc2\xb0 to the skin, entry %.1f mm from the plane", t->scan.aim_angle_deg,
                 t->scan.aim_dist_mm);
    else
        snprintf(line, sizeof line, "%s: inserted %.2f mm at %.0f\xc2\xb0, force %.2f N",
                 needle_in_skin(nd) ? "In the skin" : "On the skin", needle_inserted_mm(nd), needle_angle_deg(nd),
                 needle_force_n(nd, t->scan.needle_speed_mm_s));
    y += screens_wrap(t, f, x, y, w, C_TEXT, line);
    /* Guidance hints, only where the case allows them (scenario "guidance"), fading with each
     * injection the trainee places intradermally in view: the tip's depth and layer, read
     * from the anatomy, which the B-mode image never labels. */
    double hint = t->open.sc.guidance.blind ? 0.0 : score_hint_strength(m, t->open.sc.guidance.hint_injections);
    if (hint > 0.0 && needle_in_skin(nd)) {
        double tip[3];
        needle_tip_mm(nd, tip);
        phantom_sample ps = phantom_at(v->anatomy, tip, v->pose.pressure_n, NULL, 0);
        ui_color c = (C_WARN & 0xffffff00u) | (ui_color)(40 + 215 * hint);
        char tn[64];
        snprintf(line, sizeof line, "Hint: tip %.2f mm below the skin, in the %s", ps.depth_mm,
                 scan_words_tissue(ps.tissue, tn, sizeof tn));
        y += screens_wrap(t, f, x, y, w, c, line);
    }
    y += S(t, 4);
    ui_textf(u, f, x, y, C_ACCENT, "Drug: %s %.2f mL per point", scan_words_drug(t->open.sc.drug.kind),
             t->open.sc.drug.volume_ml);
    y += lh;
    if (v->injecting && m->n_inj > 0) {
        double end = v->inject_end_s;
        const score_injection *in = &m->inj[m->n_inj - 1];
        double frac = fmin(fmax((t->scan.t - in->t_s) / fmax(end - in->t_s, 1e-6), 0), 1);
        float bw = fminf(S(t, 200), 0.5f * w);
        ui_rect(u, x, y + S(t, 3), bw, S(t, 10), 0x303844ff);
        ui_rect(u, x, y + S(t, 3), bw * (float)frac, S(t, 10), 0x4890e0ff);
        ui_textf(u, f, x + bw + S(t, 8), y, C_TEXT, "injecting %.0f%%", 100 * frac);
        y += lh;
    }
    ui_textf(u, f, x, y, C_TEXT, "Injections %d   passes %d   redirects %d", m->n_inj, m->passes, m->redirects);
}

/* A question or a notice over everything, centred. */
static void draw_overlay(trainer *t, const char *title, const char *text)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float w = fminf(S(t, 560), W - S(t, 40)), h = S(t, 120), x = 0.5f * (W - w), y = 0.5f * (H - h);
    ui_rect(u, x, y, w, h, 0x0c0f14f0);
    ui_frame(u, x, y, w, h, S(t, 1), C_ACCENT);
    ui_text(u, UI_TITLE, x + S(t, 16), y + S(t, 12), C_TEXT, title);
    screens_wrap(t, UI_BODY, x + S(t, 16), y + S(t, 52), w - S(t, 32), C_TEXT, text);
}

void scan_draw(trainer *t)
{
    char right[256], bottom[1024];
    scan_hints(t, right, sizeof right, bottom, sizeof bottom);
    if (t->scan.view[2] > 0) {
        outside_scene os = {.ph = NULL};
        /* Every dynamic object, not only those the image slab reaches. */
        const driver_snapshot *snap = tsession_view(t);
        os.ph = snap->display;
        os.probe = snap->probe;
        os.pose = snap->pose;
        os.frame = probe_frame_make(snap->display, &snap->probe, &snap->pose);
        os.dyn = snap->dyn;
        os.n_dyn = snap->n_dyn;
        /* The plan on the skin, as the instructor marked it. */
        os.plan_mm = (const double(*)[2])t->open.sc.plan.points_mm;
        os.n_plan = t->open.sc.plan.n_points;
        const needle *nd = snap->needle;
        if (needle_placed(nd)) {
            os.needle_shown = true;
            needle_tip_mm(nd, os.tip_mm);
            needle_dir(nd, os.dir);
            os.needle_length_mm = needle_get_def(nd)->length_mm;
            os.needle_od_mm = needle_gauge_od_mm(needle_get_def(nd)->gauge);
            outside_scene_set_head(&os, needle_get_def(nd)->count, needle_get_def(nd)->spacing_mm,
                                   needle_azimuth_deg(nd));
        }
        outside_view_draw(t->ov, &os, &t->scan.cam, (int)t->scan.view[0], (int)t->scan.view[1], (int)t->scan.view[2],
                          (int)t->scan.view[3], t->fb_w, t->fb_h);
    }
    draw_bmode(t);
    screens_top_bar(t, right);
    draw_side_panel(t);
    /* The bottom bar: as many of the hints as fit, whole ones only (F1 lists them all). */
    float H = (float)t->fb_h, W = (float)t->fb_w;
    ui_rect(t->ui, 0, H - S(t, 28), W, S(t, 28), C_BAR);
    char shown[1024] = "";
    size_t n = 0;
    for (char *save = NULL, *item = strtok_r(bottom, "|", &save); item; item = strtok_r(NULL, "|", &save)) {
        char trial[1024];
        snprintf(trial, sizeof trial, "%s%s%s", shown, n ? "   " : "", item);
        if (ui_text_width(t->ui, UI_SMALL, trial) > W - S(t, 24))
            break;
        snprintf(shown, sizeof shown, "%s", trial);
        n++;
    }
    ui_text(t->ui, UI_SMALL, S(t, 12), H - S(t, 21), C_DIM, shown);
    char k1[96], k2[96];
    if (t->scan.confirm) {
        char text[256];
        snprintf(text, sizeof text, "%s %s, %s goes on with the session. The clock is stopped while you decide.",
                 screens_key(t, BTN_CONFIRM, k1), t->scan.confirm == 2 ? "ends it and closes the window" : "ends it",
                 screens_key(t, BTN_BACK, k2));
        draw_overlay(t, t->scan.confirm == 2 ? "Close the window and end the session?" : "End the session?", text);
    } else if (t->scan.paused) {
        char text[200];
        snprintf(text, sizeof text, "The clock is stopped and the keys do nothing. %s goes on.",
                 screens_key(t, BTN_PAUSE, k1));
        draw_overlay(t, "Paused", text);
    }
}

void scan_reset(trainer *t)
{
    scan_state *s = &t->scan;
    s->t = s->prev_t = 0.0;
    s->aim_angle_deg = t->open.sc.plan.angle_deg > 0 ? t->open.sc.plan.angle_deg : 30.0;
    s->aim_dist_mm = 3.0;
    s->mark_stage = s->caliper_stage = s->dop_box_stage = 0;
    s->have_dop = false;
    s->msg[0] = '\0';
    s->n_msgs = 0;
    s->hover_step = s->tgc_drag = s->step_menu = -1;
    s->undo_name[0] = '\0';
    s->frozen = s->cal_shown = s->paused = s->held = s->quit_now = false;
    s->cine_back = s->confirm = 0;
    s->bmode_renders = 0;
    s->zoom = 1.0;
    memset(&s->disp, 0, sizeof s->disp);
    s->raw_t = s->hold_from_s = s->held_total_s = 0.0;
    scan_cine_clear(&s->cine);
}

bool trainer_begin_scan(trainer *t, char *err, size_t n)
{
    if (!t->open.have_case) {
        snprintf(err, n, "no case is open");
        return false;
    }
    if (!tsession_begin(t, err, n))
        return false;
    scan_reset(t);
    t->screen = SCREEN_SCAN;
    scan_layout(t);
    char k1[96], k4[96], mark[96];
    scan_say(t, 0xc8e6ffff, "Session started: tick each step as you do it (%s to %s), scan, mark the dermis (%s).",
             screens_key(t, BTN_STEP_POSITIONING, k1), screens_key(t, BTN_STEP_DRESSING, k4),
             screens_key(t, BTN_MARK_DERMIS, mark));
    return true;
}

long long trainer_bmode_renders(const trainer *t) { return t->scan.bmode_renders; }

void scan_update(trainer *t)
{
    tsession_feedback(t);
    synthesise(t);
    scan_layout(t);
}

/* The bottom bar's hints, '|' between items (scan_draw shows those that fit). */
void scan_hints(const trainer *t, char *top, size_t top_len, char *bottom, size_t bottom_len)
{
    char k[21][96];
    snprintf(top, top_len, "t %.1f s%s    %s pause    %s help    %s: finish", t->scan.t, t->scan.paused ? " (paused)" : "",
             screens_key(t, BTN_PAUSE, k[13]), screens_key(t, BTN_HELP, k[0]), screens_key(t, BTN_END_SESSION, k[1]));
    snprintf(bottom, bottom_len,
             "%s-%s: steps done|%s: undo|%s: mark dermis|%s: calipers|%s: freeze|%s/%s: focus|%s/%s/%s: presets|"
             "%s: needle in|%s/%s: angle|%s/%s: advance/retract|%s: inject|%s: withdraw|Drag: slide|Wheel: depth",
             screens_key(t, BTN_STEP_POSITIONING, k[2]), screens_key(t, BTN_STEP_DRESSING, k[3]),
             screens_key(t, BTN_UNDO_STEP, k[4]), screens_key(t, BTN_MARK_DERMIS, k[5]), screens_key(t, BTN_CALIPERS, k[6]),
             screens_key(t, BTN_FREEZE, k[7]), screens_key(t, BTN_FOCUS_SHALLOWER, k[8]),
             screens_key(t, BTN_FOCUS_DEEPER, k[9]), screens_key(t, BTN_PRESET_SKIN, k[10]),
             screens_key(t, BTN_PRESET_SUPERFICIAL, k[11]), screens_key(t, BTN_PRESET_DEEP, k[12]),
             screens_key(t, BTN_NEEDLE_ENTRY, k[14]), screens_key(t, BTN_ANGLE_UP, k[15]),
             screens_key(t, BTN_ANGLE_DOWN, k[16]), screens_axis_key(t, AXIS_NEEDLE_ADVANCE, k[17]),
             screens_axis_key(t, AXIS_NEEDLE_RETRACT, k[18]), screens_key(t, BTN_INJECT, k[19]),
             screens_key(t, BTN_NEEDLE_WITHDRAW, k[20]));
}
