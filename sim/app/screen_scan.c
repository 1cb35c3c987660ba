/* screen_scan: scanning and injecting. The frame's controls become actions (probe slides
 * along the probe's own axes, needle entry out of plane, advance at the hand's speed,
 * injection, the declared steps, the dermis mark from two clicks), each through trainer_do
 * (trainer_session.c); then the session's scene is synthesised (display-only) and drawn with
 * the settings, scales, the outside view, the checklist and the messages. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "limits.h"
#include "trainer_internal.h"

#define PI 3.14159265358979323846

void scan_say(trainer *t, ui_color c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->scan.msg, sizeof t->scan.msg, fmt, ap);
    va_end(ap);
    t->scan.msg_color = c;
    t->scan.msg_until_s = t->scan.t + 4.0;
}

void scan_layout(trainer *t)
{
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float top = S(t, 36), bottom = S(t, 28);
    float left_w = t->scan.show_view ? floorf(W * 0.6f) : W - S(t, 360);
    int rows = 0, cols = 0;
    double dz = 0, dx = 0, x0 = 0;
    if (t->run.s) {
        probe_def p = tsession_view(t)->probe;
        bmode_geometry(&p, &rows, &cols, &dz, &dx, &x0);
    }
    if (t->scan.have_img) {
        rows = t->scan.img.rows, cols = t->scan.img.cols, dz = t->scan.img.dz_mm, dx = t->scan.img.dx_mm, x0 = t->scan.img.x0_mm;
    }
    trainer_image_rect *r = &t->scan.ir;
    memset(r, 0, sizeof *r);
    if (rows > 0 && cols > 0) {
        float px = S(t, 64), py = top + S(t, 36), pw = left_w - px - S(t, 28), ph = H - py - bottom - S(t, 30);
        double w_mm = cols * dx, h_mm = rows * dz;
        double sc = fmin(pw / w_mm, ph / h_mm);
        r->w = (float)(w_mm * sc);
        r->h = (float)(h_mm * sc);
        r->x = floorf(px + 0.5f * (pw - r->w));
        r->y = floorf(py);
        r->rows = rows, r->cols = cols, r->dz_mm = dz, r->dx_mm = dx, r->x0_mm = x0;
        r->z0_mm = t->scan.have_img ? t->scan.img.z0_mm : 0.0;
    }
    if (t->scan.show_view && t->screen == SCREEN_SCAN) {
        t->scan.view[0] = left_w + S(t, 8);
        t->scan.view[1] = top + S(t, 8);
        t->scan.view[2] = W - left_w - S(t, 16);
        t->scan.view[3] = floorf((H - top - bottom) * 0.46f);
    } else {
        memset(t->scan.view, 0, sizeof t->scan.view);
    }
}

static void do_or_say(trainer *t, action *a)
{
    char err[256];
    if (!trainer_do(t, a, err, sizeof err))
        scan_say(t, 0xffb0a0ff, "%s: %s", action_verb_name(a->verb), err);
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

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
    double steps_depth = c->depth_steps + (c->pressed[BTN_DEPTH_UP] ? 1 : 0) - (c->pressed[BTN_DEPTH_DOWN] ? 1 : 0);
    if (steps_depth != 0)
        trainer_set_key(&a, AK_DEPTH, limit_clamp(LIM_DEPTH_MM, round(d.depth_mm + steps_depth)));
    if (c->pressed[BTN_FREQ_UP] || c->pressed[BTN_FREQ_DOWN])
        trainer_set_key(&a, AK_FREQ, limit_clamp(LIM_FREQ_MHZ, d.freq_mhz + (c->pressed[BTN_FREQ_UP] ? 1 : -1)));
    if (c->pressed[BTN_GAIN_UP] || c->pressed[BTN_GAIN_DOWN])
        trainer_set_key(&a, AK_GAIN, limit_clamp(LIM_GAIN_DB, d.gain_db + (c->pressed[BTN_GAIN_UP] ? 2 : -2)));
    if (c->pressed[BTN_DR_UP] || c->pressed[BTN_DR_DOWN])
        trainer_set_key(&a, AK_DR, limit_clamp(LIM_DYNAMIC_RANGE_DB, d.dynamic_range_db + (c->pressed[BTN_DR_UP] ? 5 : -5)));
    /* TGC: the slope of depth gain, in steps of 0.1 dB/cm/MHz (0: none, raw attenuation). */
    if (c->pressed[BTN_TGC_UP] || c->pressed[BTN_TGC_DOWN])
        trainer_set_key(&a, AK_TGC, limit_clamp(LIM_TGC_DB_CM_MHZ, round(10.0 * d.tgc_db_cm_mhz + (c->pressed[BTN_TGC_UP] ? 1 : -1)) / 10.0));
    /* Only what changed goes into the log; an unchanged clamp is no action at all. */
    bool changed = false;
    for (int k = 0; k < AK_COUNT; k++) {
        if (!action_has(&a, (action_key)k))
            continue;
        double old = k == AK_X ? p.x_mm : k == AK_Y ? p.y_mm : k == AK_ROT ? p.rot_deg
                   : k == AK_TILT ? p.tilt_deg : k == AK_ROCK ? p.rock_deg
                   : k == AK_PRESSURE ? p.pressure_n : k == AK_DEPTH ? d.depth_mm
                   : k == AK_FREQ ? d.freq_mhz : k == AK_GAIN ? d.gain_db
                   : k == AK_TGC ? d.tgc_db_cm_mhz : d.dynamic_range_db;
        if (a.v[k] != old)
            changed = true;
        else
            a.has &= ~((uint64_t)1 << k);
    }
    if (changed)
        do_or_say(t, &a);
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

/* The declared steps of the case report, in order; C ticks the next one not yet done. */
static void tick_step(trainer *t)
{
    const score_session *m = &tsession_view(t)->metrics;
    static const score_step k_order[] = {STEP_POSITIONING, STEP_DISINFECTION, STEP_STERILE_FIELD,
                                         STEP_DRESSING};
    for (size_t i = 0; i < sizeof k_order / sizeof k_order[0]; i++) {
        score_step s = k_order[i];
        if (m->step_done[s])
            continue;
        action a = trainer_make_action(ACT_STEP, t->scan.t);
        snprintf(a.name, sizeof a.name, "%s", score_step_name(s));
        if (s == STEP_DISINFECTION)
            a.skin_check = a.has_skin_check = true;
        char err[256];
        if (trainer_do(t, &a, err, sizeof err))
            scan_say(t, 0xb0ffb0ff, "Done: %s", score_step_name(s));
        else
            scan_say(t, 0xffb0a0ff, "step: %s", err);
        return;
    }
    char key[96];
    scan_say(t, 0xffd080ff, "All declared steps are done; %s closes the session.", screens_key(t, BTN_END_SESSION, key));
}

static void mark_controls(trainer *t, const controls *c)
{
    if (c->pressed[BTN_MARK_DERMIS]) {
        t->scan.mark_stage = t->scan.mark_stage ? 0 : 1;
        if (t->scan.mark_stage)
            scan_say(t, 0xc8e6ffff, "Click the top of the dermis in the image, then its bottom.");
    }
    if (!t->scan.mark_stage || !c->clicked)
        return;
    const trainer_image_rect *r = &t->scan.ir;
    if (c->click_x < r->x || c->click_x > r->x + r->w || c->click_y < r->y || c->click_y > r->y + r->h)
        return;
    double z = r->z0_mm + (c->click_y - r->y) / r->h * r->rows * r->dz_mm;
    if (t->scan.mark_stage == 1) {
        t->scan.mark_top_mm = z;
        t->scan.mark_stage = 2;
        return;
    }
    action a = trainer_make_action(ACT_MARK_DERMIS, t->scan.t);
    trainer_set_key(&a, AK_TOP, limit_clamp(LIM_MARK_DEPTH_MM, fmin(t->scan.mark_top_mm, z)));
    trainer_set_key(&a, AK_BOTTOM, limit_clamp(LIM_MARK_DEPTH_MM, fmax(t->scan.mark_top_mm, z)));
    char err[256];
    if (trainer_do(t, &a, err, sizeof err))
        scan_say(t, 0xb0ffb0ff, "Dermis marked %.2f-%.2f mm.", a.v[AK_TOP], a.v[AK_BOTTOM]);
    else
        scan_say(t, 0xffb0a0ff, "mark: %s", err);
    t->scan.mark_stage = 0;
}

void scan_input(trainer *t, const controls *c, double dt)
{
    if (c->pressed[BTN_TOGGLE_3D]) {
        t->scan.show_view = !t->scan.show_view;
        scan_layout(t);
    }
    if (c->orbit_dyaw_deg != 0 || c->orbit_dpitch_deg != 0 || c->zoom_factor != 1.0f)
        outside_camera_orbit(&t->scan.cam, c->orbit_dyaw_deg, c->orbit_dpitch_deg, c->zoom_factor);
    probe_controls(t, c);
    needle_controls(t, c, dt);
    if (c->pressed[BTN_STEP])
        tick_step(t);
    mark_controls(t, c);
    if (c->pressed[BTN_END_SESSION])
        trainer_end_session(t, t->scan.t);
}

/* The image is drawn from the driver's snapshot, as any renderer on any thread would. */
static void synthesise(trainer *t)
{
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    driver_snapshot_scene(tsession_view(t), &scene, dyn);
    char err[256];
    if (bmode_render(t->bm, &scene, &t->scan.img, err, sizeof err) != 0) {
        scan_say(t, 0xff8080ff, "B-mode: %s", err);
        return;
    }
    t->scan.have_img = true;
    image_tex_upload(&t->scan.live, t->scan.img.pixels, t->scan.img.cols, t->scan.img.rows);
}

static void draw_bmode(trainer *t)
{
    const trainer_image_rect *r = &t->scan.ir;
    if (!t->scan.have_img || r->w <= 0)
        return;
    image_view_draw(t->iv, &t->scan.live, r->x, r->y, r->w, r->h, t->fb_w, t->fb_h);
    probe_def p = tsession_view(t)->probe;
    ui *u = t->ui;
    ui_frame(u, r->x - 1, r->y - 1, r->w + 2, r->h + 2, 1, 0x3a4450ff);
    /* Settings line above the image, as a scanner shows them. */
    char tgc[32];
    if (p.tgc_on && p.tgc_db_cm_mhz > 0.0)
        snprintf(tgc, sizeof tgc, "%.1f dB/cm/MHz", p.tgc_db_cm_mhz);
    else
        snprintf(tgc, sizeof tgc, "off");
    ui_textf(u, UI_BODY, r->x, r->y - S(t, 26), C_TEXT,
             "%.0f MHz   Depth %.0f mm   Gain %+.0f dB   DR %.0f dB   TGC %s   Focus %.1f mm",
             p.freq_mhz, p.depth_mm, p.gain_db, p.dynamic_range_db, tgc,
             p.tx_focus_mm);
    /* Depth scale: a tick per mm (per 5 mm beyond 20 mm deep), labels every 5 (or 2) mm. */
    double depth = r->rows * r->dz_mm, px_mm = r->h / depth;
    double step = depth > 20 ? 5 : 1, label = depth > 20 ? 10 : depth > 10 ? 5 : 2;
    for (double z = 0; z <= depth + 1e-9; z += step) {
        float y = r->y + (float)((z - r->z0_mm) * px_mm);
        bool major = fmod(z + 1e-9, label) < 1e-6;
        ui_rect(u, r->x - S(t, major ? 12 : 7), y - 0.5f * S(t, 1), S(t, major ? 12 : 7), S(t, 1), C_TEXT);
        if (major) {
            char s[16];
            snprintf(s, sizeof s, "%.0f", z);
            ui_text(u, UI_SMALL, r->x - S(t, 16) - ui_text_width(u, UI_SMALL, s), y - S(t, 7), C_TEXT, s);
        }
    }
    ui_text(u, UI_SMALL, r->x - S(t, 40), r->y + r->h + S(t, 4), C_DIM, "mm");
    /* Lateral ticks every mm under the image. */
    double w_mm = r->cols * r->dx_mm;
    for (int k = (int)ceil(-0.5 * w_mm); k <= (int)floor(0.5 * w_mm); k++) {
        float x = r->x + (float)((k - r->x0_mm) / w_mm * r->w);
        float len = S(t, k % 5 == 0 ? 8 : 4);
        ui_rect(u, x, r->y + r->h + 1, S(t, 1), len, C_DIM);
    }
    /* Transmit focus: a triangle pointing at the focal depth on the right edge. */
    float fy = r->y + (float)(p.tx_focus_mm * px_mm);
    if (p.tx_focus_mm <= depth)
        ui_triangle(u, r->x + r->w + S(t, 3), fy, r->x + r->w + S(t, 13), fy - S(t, 6),
                    r->x + r->w + S(t, 13), fy + S(t, 6), C_WARN);
    /* Orientation mark: the image side of the probe's marked edge (its -x end, the green
     * ridge on the probe in the outside view). */
    ui_disc(u, r->x + S(t, 10), r->y + S(t, 10), S(t, 5), 0x60e060ff);
    if (t->scan.mark_stage) {
        if (t->scan.mark_stage == 2) {
            float ty = r->y + (float)((t->scan.mark_top_mm - r->z0_mm) * px_mm);
            ui_rect(u, r->x, ty, r->w, S(t, 1), 0x60e0ffff);
        }
        ui_textf(u, UI_BODY, r->x + S(t, 24), r->y + S(t, 4), 0x60e0ffff,
                 t->scan.mark_stage == 1 ? "Mark: click the top of the dermis" : "Mark: click the bottom of the dermis");
    }
    const score_session *m = &tsession_view(t)->metrics;
    if (m->marked) {
        for (int k = 0; k < 2; k++) {
            float y = r->y + (float)(((k ? m->mark_bottom_mm : m->mark_top_mm) - r->z0_mm) * px_mm);
            for (float x = r->x; x < r->x + r->w; x += S(t, 10))
                ui_rect(u, x, y, S(t, 5), S(t, 1), 0x60e0ffc0);
        }
    }
}

static void draw_side_panel(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float x = t->scan.show_view ? floorf(W * 0.6f) + S(t, 12) : W - S(t, 348);
    float y = t->scan.view[3] > 0 ? t->scan.view[1] + t->scan.view[3] + S(t, 10) : S(t, 48);
    float lh = ui_line_height(u, UI_BODY);
    char key[96];
    if (t->scan.view[3] > 0)
        ui_textf(u, UI_SMALL, t->scan.view[0] + S(t, 6), t->scan.view[1] + S(t, 4), C_DIM,
                 "Outside view (%s hides, drag to orbit, wheel to zoom)", screens_key(t, BTN_TOGGLE_3D, key));
    const score_session *m = &tsession_view(t)->metrics;
    ui_text(u, UI_BODY, x, y, C_ACCENT, "Procedure (case report)");
    y += lh + S(t, 2);
    for (int s = 0; s < STEP_COUNT; s++) {
        bool done = m->step_done[s];
        ui_text(u, UI_BODY, x, y, done ? C_GOOD : C_DIM, done ? "\xe2\x9c\x93" : "\xe2\x80\xa2");
        ui_text(u, UI_BODY, x + S(t, 20), y, done ? C_TEXT : C_DIM, screens_step_label((score_step)s));
        y += lh;
    }
    y += S(t, 8);
    const needle *nd = tsession_view(t)->needle;
    const needle_def *nd_def = needle_get_def(nd);
    ui_textf(u, UI_BODY, x, y, C_ACCENT, "Needle %dG %.0f mm", nd_def->gauge, nd_def->length_mm);
    y += lh;
    if (!needle_placed(nd)) {
        ui_textf(u, UI_BODY, x, y, C_TEXT, "Aim: %.0f\xc2\xb0 to the skin, entry %.1f mm from the plane",
                 t->scan.aim_angle_deg, t->scan.aim_dist_mm);
    } else {
        ui_textf(u, UI_BODY, x, y, C_TEXT, "%s: inserted %.2f mm at %.0f\xc2\xb0, force %.2f N",
                 needle_in_skin(nd) ? "In the skin" : "On the skin", needle_inserted_mm(nd),
                 needle_angle_deg(nd), needle_force_n(nd, t->scan.needle_speed_mm_s));
    }
    y += lh;
    /* Guidance hints, only where the case allows them (scenario "guidance"), fading with each
     * injection the trainee places intradermally in view: the tip's depth and layer, read
     * from the anatomy, which the B-mode image never labels. */
    double hint = score_hint_strength(m, t->open.sc.guidance.hint_injections);
    if (hint > 0.0 && needle_in_skin(nd)) {
        double tip[3];
        needle_tip_mm(nd, tip);
        phantom_sample ps = phantom_at(tsession_view(t)->anatomy, tip, tsession_view(t)->pose.pressure_n, NULL, 0);
        ui_color c = (C_WARN & 0xffffff00u) | (ui_color)(40 + 215 * hint);
        ui_textf(u, UI_BODY, x, y, c, "Hint: tip %.2f mm below the skin, in the %s", ps.depth_mm,
                 tissue_name(ps.tissue));
        y += lh;
    }
    y += S(t, 8);
    ui_textf(u, UI_BODY, x, y, C_ACCENT, "Drug: %s %.2f mL per point", drug_kind_name(t->open.sc.drug.kind),
             t->open.sc.drug.volume_ml);
    y += lh;
    double end;
    if (tsession_view(t)->injecting && m->n_inj > 0) {
        end = tsession_view(t)->inject_end_s;
        const score_injection *in = &m->inj[m->n_inj - 1];
        double frac = fmin(fmax((t->scan.t - in->t_s) / fmax(end - in->t_s, 1e-6), 0), 1);
        float bw = S(t, 200);
        ui_rect(u, x, y + S(t, 3), bw, S(t, 10), 0x303844ff);
        ui_rect(u, x, y + S(t, 3), bw * (float)frac, S(t, 10), 0x4890e0ff);
        ui_textf(u, UI_BODY, x + bw + S(t, 8), y, C_TEXT, "injecting %.0f%%", 100 * frac);
        y += lh;
    }
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Injections %d   passes %d   redirects %d", m->n_inj, m->passes,
             m->redirects);
    y += lh;
    if (t->scan.msg[0] && t->scan.t < t->scan.msg_until_s)
        screens_wrap(t, UI_BODY, x, y + S(t, 6), W - x - S(t, 12), t->scan.msg_color, t->scan.msg);
    (void)H;
}

void scan_draw(trainer *t)
{
    char right[256], bottom[512];
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
        const needle *nd = snap->needle;
        if (needle_placed(nd)) {
            os.needle_shown = true;
            needle_tip_mm(nd, os.tip_mm);
            needle_dir(nd, os.dir);
            os.needle_length_mm = needle_get_def(nd)->length_mm;
            os.needle_od_mm = needle_gauge_od_mm(needle_get_def(nd)->gauge);
        }
        outside_view_draw(t->ov, &os, &t->scan.cam, (int)t->scan.view[0], (int)t->scan.view[1], (int)t->scan.view[2],
                          (int)t->scan.view[3], t->fb_w, t->fb_h);
    }
    draw_bmode(t);
    screens_top_bar(t, right);
    draw_side_panel(t);
    float H = (float)t->fb_h;
    ui_rect(t->ui, 0, H - S(t, 28), (float)t->fb_w, S(t, 28), C_BAR);
    ui_text(t->ui, UI_SMALL, S(t, 12), H - S(t, 21), C_DIM, bottom);
}

void scan_reset(trainer *t)
{
    t->scan.t = t->scan.prev_t = 0.0;
    t->scan.aim_angle_deg = t->open.sc.plan.angle_deg > 0 ? t->open.sc.plan.angle_deg : 30.0;
    t->scan.aim_dist_mm = 3.0;
    t->scan.mark_stage = 0;
    t->scan.msg[0] = '\0';
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
    char step[96], mark[96];
    scan_say(t, 0xc8e6ffff, "Session started: tick the first steps (%s), scan, mark the dermis (%s).",
             screens_key(t, BTN_STEP, step), screens_key(t, BTN_MARK_DERMIS, mark));
    return true;
}

void scan_update(trainer *t)
{
    tsession_feedback(t);
    synthesise(t);
    scan_layout(t);
}

void scan_hints(const trainer *t, char *top, size_t top_len, char *bottom, size_t bottom_len)
{
    char k[12][96];
    snprintf(top, top_len, "t %.1f s    %s help    %s: finish", t->scan.t, screens_key(t, BTN_HELP, k[0]),
             screens_key(t, BTN_END_SESSION, k[1]));
    snprintf(bottom, bottom_len,
             "Drag: slide   Ctrl/Shift+drag: rotate/tilt   Wheel: depth   %s: next step   %s: mark dermis   "
             "%s: needle in   %s/%s: angle   %s/%s: advance/retract   %s: inject   %s: withdraw   %s: 3-D",
             screens_key(t, BTN_STEP, k[2]), screens_key(t, BTN_MARK_DERMIS, k[3]),
             screens_key(t, BTN_NEEDLE_ENTRY, k[4]), screens_key(t, BTN_ANGLE_UP, k[5]),
             screens_key(t, BTN_ANGLE_DOWN, k[6]), screens_axis_key(t, AXIS_NEEDLE_ADVANCE, k[7]),
             screens_axis_key(t, AXIS_NEEDLE_RETRACT, k[8]), screens_key(t, BTN_INJECT, k[9]),
             screens_key(t, BTN_NEEDLE_WITHDRAW, k[10]), screens_key(t, BTN_TOGGLE_3D, k[11]));
}
