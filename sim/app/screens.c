/* screens: layout and drawing of the trainer's screens (picker, briefing, scan, debrief).
 * Reads the trainer and its session; changes nothing but the layout rectangles. All sizes in
 * framebuffer pixels, scaled by the display scale so the layout holds on high-DPI screens. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "trainer_internal.h"

#define C_TEXT 0xe8ecf0ffu
#define C_DIM 0x9aa4b0ffu
#define C_ACCENT 0x78c8ffffu
#define C_GOOD 0x90ff90ffu
#define C_BAD 0xff8a80ffu
#define C_WARN 0xffd080ffu
#define C_PANEL 0x1b2028ffu
#define C_BAR 0x12161cffu

static float S(const trainer *t, float v) { return v * t->scale; }

/* Draws text wrapped to width w; returns the height used. */
static float wrap(trainer *t, ui_font f, float x, float y, float w, ui_color c, const char *text)
{
    char line[512];
    float lh = ui_line_height(t->ui, f), used = 0;
    const char *p = text;
    while (*p) {
        size_t best = 0, n = 0;
        while (p[n] && p[n] != '\n') {
            size_t m = n;
            while (p[m] && p[m] != ' ' && p[m] != '\n')
                m++;
            if (m >= sizeof line)
                m = sizeof line - 1;
            memcpy(line, p, m);
            line[m] = '\0';
            if (best && ui_text_width(t->ui, f, line) > w)
                break;
            best = m;
            n = m;
            if (p[n] == ' ')
                n++;
            if (m == sizeof line - 1)
                break;
        }
        if (!best)
            best = n ? n : 1;
        memcpy(line, p, best);
        line[best] = '\0';
        ui_text(t->ui, f, x, y + used, c, line);
        used += lh;
        p += best;
        while (*p == ' ' || *p == '\n')
            p++;
    }
    return used;
}

/* ---- layout ---------------------------------------------------------------------------- */

void screens_layout(trainer *t)
{
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float top = S(t, 36), bottom = S(t, 28);
    float left_w = t->show_view ? floorf(W * 0.6f) : W - S(t, 360);
    int rows = 0, cols = 0;
    double dz = 0, dx = 0, x0 = 0;
    if (t->s) {
        probe_def p = session_probe(t->s);
        bmode_geometry(&p, &rows, &cols, &dz, &dx, &x0);
    }
    if (t->have_img) {
        rows = t->img.rows, cols = t->img.cols, dz = t->img.dz_mm, dx = t->img.dx_mm, x0 = t->img.x0_mm;
    }
    trainer_image_rect *r = &t->ir;
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
        r->z0_mm = t->have_img ? t->img.z0_mm : 0.0;
    }
    if (t->show_view && t->screen == SCREEN_SCAN) {
        t->view[0] = left_w + S(t, 8);
        t->view[1] = top + S(t, 8);
        t->view[2] = W - left_w - S(t, 16);
        t->view[3] = floorf((H - top - bottom) * 0.46f);
    } else {
        memset(t->view, 0, sizeof t->view);
    }
}

/* ---- scan screen ----------------------------------------------------------------------- */

static void draw_top_bar(trainer *t, const char *right)
{
    float W = (float)t->fb_w;
    ui_rect(t->ui, 0, 0, W, S(t, 36), C_BAR);
    float x = S(t, 12), y = S(t, 9);
    x += ui_text(t->ui, UI_BODY, x, y, C_ACCENT, "mesosim");
    if (t->have_case) {
        const scenario_patient *p = &t->sc.patient;
        ui_textf(t->ui, UI_BODY, x + S(t, 14), y, C_TEXT, "%s  \xe2\x80\x94  %.0f y %s, %s, %s skin", t->sc.name,
                 p->age_years, p->sex, p->region, p->skin);
    }
    if (right)
        ui_text(t->ui, UI_BODY, W - S(t, 12) - ui_text_width(t->ui, UI_BODY, right), y, C_DIM, right);
}

static void draw_bmode(trainer *t)
{
    const trainer_image_rect *r = &t->ir;
    if (!t->have_img || r->w <= 0)
        return;
    image_view_draw(t->iv, &t->live, r->x, r->y, r->w, r->h, t->fb_w, t->fb_h);
    probe_def p = session_probe(t->s);
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
    if (t->mark_stage) {
        if (t->mark_stage == 2) {
            float ty = r->y + (float)((t->mark_top_mm - r->z0_mm) * px_mm);
            ui_rect(u, r->x, ty, r->w, S(t, 1), 0x60e0ffff);
        }
        ui_textf(u, UI_BODY, r->x + S(t, 24), r->y + S(t, 4), 0x60e0ffff,
                 t->mark_stage == 1 ? "Mark: click the top of the dermis" : "Mark: click the bottom of the dermis");
    }
    const score_session *m = session_metrics(t->s);
    if (m->marked) {
        for (int k = 0; k < 2; k++) {
            float y = r->y + (float)(((k ? m->mark_bottom_mm : m->mark_top_mm) - r->z0_mm) * px_mm);
            for (float x = r->x; x < r->x + r->w; x += S(t, 10))
                ui_rect(u, x, y, S(t, 5), S(t, 1), 0x60e0ffc0);
        }
    }
}

static const char *step_label(score_step s)
{
    switch (s) {
    case STEP_POSITIONING: return "Patient positioning";
    case STEP_DISINFECTION: return "Disinfection, skin checked for lesions";
    case STEP_STERILE_FIELD: return "Sterile field";
    case STEP_ASSESSMENT: return "Initial ultrasound assessment (mark dermis)";
    case STEP_INJECTION: return "Out-of-plane guided injection, tip in view";
    case STEP_SPREAD_CHECK: return "Real-time check of the spread";
    case STEP_DRESSING: return "Sterile dressing";
    default: return "?";
    }
}

static void draw_side_panel(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float x = t->show_view ? floorf(W * 0.6f) + S(t, 12) : W - S(t, 348);
    float y = t->view[3] > 0 ? t->view[1] + t->view[3] + S(t, 10) : S(t, 48);
    float lh = ui_line_height(u, UI_BODY);
    if (t->view[3] > 0)
        ui_text(u, UI_SMALL, t->view[0] + S(t, 6), t->view[1] + S(t, 4), C_DIM,
                "Outside view (V hides, drag to orbit, wheel to zoom)");
    const score_session *m = session_metrics(t->s);
    ui_text(u, UI_BODY, x, y, C_ACCENT, "Procedure (case report)");
    y += lh + S(t, 2);
    for (int s = 0; s < STEP_COUNT; s++) {
        bool done = m->step_done[s];
        ui_text(u, UI_BODY, x, y, done ? C_GOOD : C_DIM, done ? "\xe2\x9c\x93" : "\xe2\x80\xa2");
        ui_text(u, UI_BODY, x + S(t, 20), y, done ? C_TEXT : C_DIM, step_label((score_step)s));
        y += lh;
    }
    y += S(t, 8);
    const needle *nd = session_needle(t->s);
    const needle_def *nd_def = needle_get_def(nd);
    ui_textf(u, UI_BODY, x, y, C_ACCENT, "Needle %dG %.0f mm", nd_def->gauge, nd_def->length_mm);
    y += lh;
    if (!needle_placed(nd)) {
        ui_textf(u, UI_BODY, x, y, C_TEXT, "Aim: %.0f\xc2\xb0 to the skin, entry %.1f mm from the plane",
                 t->aim_angle_deg, t->aim_dist_mm);
    } else {
        ui_textf(u, UI_BODY, x, y, C_TEXT, "%s: inserted %.2f mm at %.0f\xc2\xb0, force %.2f N",
                 needle_in_skin(nd) ? "In the skin" : "On the skin", needle_inserted_mm(nd),
                 needle_angle_deg(nd), needle_force_n(nd, t->needle_speed_mm_s));
    }
    y += lh;
    /* Guidance hints, only where the case allows them (scenario "guidance"), fading with each
     * injection the trainee places intradermally in view: the tip's depth and layer, read
     * from the anatomy, which the B-mode image never labels. */
    double hint = score_hint_strength(m, t->sc.guidance.hint_injections);
    if (hint > 0.0 && needle_in_skin(nd)) {
        double tip[3];
        needle_tip_mm(nd, tip);
        phantom_sample ps = phantom_at(session_anatomy(t->s), tip, session_pose(t->s).pressure_n, NULL, 0);
        ui_color c = (C_WARN & 0xffffff00u) | (ui_color)(40 + 215 * hint);
        ui_textf(u, UI_BODY, x, y, c, "Hint: tip %.2f mm below the skin, in the %s", ps.depth_mm,
                 tissue_name(ps.tissue));
        y += lh;
    }
    y += S(t, 8);
    ui_textf(u, UI_BODY, x, y, C_ACCENT, "Drug: %s %.2f mL per point", drug_kind_name(t->sc.drug.kind),
             t->sc.drug.volume_ml);
    y += lh;
    double end;
    if (session_injecting(t->s, &end) && m->n_inj > 0) {
        const score_injection *in = &m->inj[m->n_inj - 1];
        double frac = fmin(fmax((t->t - in->t_s) / fmax(end - in->t_s, 1e-6), 0), 1);
        float bw = S(t, 200);
        ui_rect(u, x, y + S(t, 3), bw, S(t, 10), 0x303844ff);
        ui_rect(u, x, y + S(t, 3), bw * (float)frac, S(t, 10), 0x4890e0ff);
        ui_textf(u, UI_BODY, x + bw + S(t, 8), y, C_TEXT, "injecting %.0f%%", 100 * frac);
        y += lh;
    }
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Injections %d   passes %d   redirects %d", m->n_inj, m->passes,
             m->redirects);
    y += lh;
    if (t->msg[0] && t->t < t->msg_until_s)
        wrap(t, UI_BODY, x, y + S(t, 6), W - x - S(t, 12), t->msg_color, t->msg);
    (void)H;
}

static void draw_help(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float lh = ui_line_height(u, UI_SMALL);
    int rows = BTN_COUNT > 6 + AXIS_COUNT ? BTN_COUNT : 6 + AXIS_COUNT;
    float w = S(t, 760), h = S(t, 90) + rows * lh, x = 0.5f * (W - w), y = 0.5f * (H - h);
    ui_rect(u, x, y, w, h, 0x0c0f14f0);
    ui_frame(u, x, y, w, h, S(t, 1), C_ACCENT);
    ui_text(u, UI_TITLE, x + S(t, 16), y + S(t, 10), C_TEXT, "Controls");
    float cy = y + S(t, 48), col = x + S(t, 16);
    char keys[128];
    const char *mouse[] = {"drag on image: slide probe", "Ctrl+drag: rotate probe",
                           "Shift+drag: tilt (vertical) / rock (horizontal)", "wheel: image depth",
                           "drag / wheel on outside view: orbit / zoom"};
    for (size_t i = 0; i < sizeof mouse / sizeof mouse[0]; i++, cy += lh)
        ui_text(u, UI_SMALL, col, cy, C_ACCENT, mouse[i]);
    cy += S(t, 6);
    float start = cy;
    for (int a = 0; a < AXIS_COUNT; a++, cy += lh) {
        controls_axis_keys(t->cs, (ctl_axis)a, keys, sizeof keys);
        ui_text(u, UI_SMALL, col, cy, C_DIM, controls_axis_name((ctl_axis)a));
        ui_text(u, UI_SMALL, col + S(t, 170), cy, C_TEXT, keys);
    }
    cy = start - S(t, 6) - 5 * lh;
    col = x + S(t, 400);
    for (int b = 0; b < BTN_COUNT; b++, cy += lh) {
        controls_button_keys(t->cs, (ctl_button)b, keys, sizeof keys);
        ui_text(u, UI_SMALL, col, cy, C_DIM, controls_button_name((ctl_button)b));
        ui_text(u, UI_SMALL, col + S(t, 170), cy, C_TEXT, keys);
    }
    ui_textf(u, UI_SMALL, x + S(t, 16), y + h - S(t, 24), C_DIM, "Bindings: %s", controls_bindings_path(t->cs));
}

static void draw_scan(trainer *t)
{
    char right[96];
    snprintf(right, sizeof right, "t %.1f s    F1 help    End: finish", t->t);
    if (t->view[2] > 0) {
        outside_scene os = {.ph = NULL};
        phantom_inclusion dyn[BMODE_MAX_DYN];
        bmode_scene scene;
        session_scene(t->s, &scene, dyn);
        os.ph = scene.ph;
        os.probe = scene.probe;
        os.pose = scene.pose;
        os.frame = probe_frame_make(scene.ph, &scene.probe, &scene.pose);
        os.dyn = scene.dyn;
        os.n_dyn = scene.n_dyn;
        const needle *nd = session_needle(t->s);
        if (needle_placed(nd)) {
            os.needle_shown = true;
            needle_tip_mm(nd, os.tip_mm);
            needle_dir(nd, os.dir);
            os.needle_length_mm = needle_get_def(nd)->length_mm;
            os.needle_od_mm = needle_gauge_od_mm(needle_get_def(nd)->gauge);
        }
        outside_view_draw(t->ov, &os, &t->cam, (int)t->view[0], (int)t->view[1], (int)t->view[2],
                          (int)t->view[3], t->fb_w, t->fb_h);
    }
    draw_bmode(t);
    draw_top_bar(t, right);
    draw_side_panel(t);
    float H = (float)t->fb_h;
    ui_rect(t->ui, 0, H - S(t, 28), (float)t->fb_w, S(t, 28), C_BAR);
    ui_text(t->ui, UI_SMALL, S(t, 12), H - S(t, 21), C_DIM,
            "Drag: slide   Ctrl/Shift+drag: rotate/tilt   Wheel: depth   C: next step   M: mark dermis   "
            "N: needle in   R/F: angle   Space/Backspace: advance/retract   I: inject   X: withdraw   V: 3-D");
}

/* ---- picker, briefing, debrief --------------------------------------------------------- */

static float picker_row_y(const trainer *t, int i) { return S(t, 100) + i * S(t, 54); }

int screens_picker_hit(const trainer *t, float x, float y)
{
    for (int i = 0; i < t->n_cases; i++) {
        float ry = picker_row_y(t, i);
        if (x >= S(t, 24) && x < (float)t->fb_w * 0.55f && y >= ry && y < ry + S(t, 50))
            return i;
    }
    return -1;
}

static void draw_picker(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w;
    draw_top_bar(t, "\xe2\x86\x91/\xe2\x86\x93 choose   Return open   Esc quit   F1 controls");
    ui_text(u, UI_TITLE, S(t, 24), S(t, 52), C_TEXT, "Choose a case");
    if (t->n_cases == 0)
        ui_text(u, UI_BODY, S(t, 24), S(t, 100), C_BAD, "No scenario files found (scenarios/*.json).");
    for (int i = 0; i < t->n_cases; i++) {
        const trainer_case *c = &t->cases[i];
        float y = picker_row_y(t, i), w = W * 0.55f - S(t, 24);
        ui_rect(u, S(t, 24), y, w, S(t, 50), i == t->sel ? 0x2a3c52ff : C_PANEL);
        const char *base = strrchr(c->path, '/');
        if (c->ok) {
            ui_text(u, UI_BODY, S(t, 36), y + S(t, 6), C_TEXT, c->sc->name);
            ui_textf(u, UI_SMALL, S(t, 36), y + S(t, 28), C_DIM, "%.0f y %s, %s  \xe2\x80\x94  skin: %s",
                     c->sc->patient.age_years, c->sc->patient.sex, c->sc->patient.region, c->sc->patient.skin);
        } else {
            ui_textf(u, UI_BODY, S(t, 36), y + S(t, 6), C_BAD, "%s (cannot be used)", base ? base + 1 : c->path);
        }
    }
    if (t->n_cases > 0) {
        const trainer_case *c = &t->cases[t->sel];
        float x = W * 0.55f + S(t, 24), w = W - x - S(t, 24);
        if (c->ok) {
            ui_text(u, UI_TITLE, x, S(t, 100), C_TEXT, c->sc->name);
            wrap(t, UI_BODY, x, S(t, 140), w, C_TEXT, c->sc->description);
        } else {
            wrap(t, UI_SMALL, x, S(t, 100), w, C_BAD, c->error);
        }
    }
}

static void draw_briefing(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, x = S(t, 32), w = W - 2 * x;
    draw_top_bar(t, "Return: start scanning   Esc: back to the cases");
    float y = S(t, 56), lh = ui_line_height(u, UI_BODY);
    ui_textf(u, UI_TITLE, x, y, C_TEXT, "Briefing: %s", t->sc.name);
    y += S(t, 40);
    const scenario_patient *p = &t->sc.patient;
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Patient: %.0f years, %s. Region: %s. Skin: %s.", p->age_years, p->sex,
             p->region, p->skin);
    y += lh + S(t, 6);
    y += wrap(t, UI_BODY, x, y, w, C_DIM, t->sc.description) + S(t, 10);
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Drug: %s, %.2f mL per point at %.3f mL/s.   Needle: %dG, %.0f mm.",
             drug_kind_name(t->sc.drug.kind), t->sc.drug.volume_ml, t->sc.drug.rate_ml_s, t->sc.needle.gauge,
             t->sc.needle.length_mm);
    y += lh;
    char pts[256] = "";
    size_t used = 0;
    for (int i = 0; i < t->sc.plan.n_points && used + 1 < sizeof pts; i++) {
        int n = snprintf(pts + used, sizeof pts - used, "%s(%.0f, %.0f)", i ? ", " : "",
                         t->sc.plan.points_mm[i][0], t->sc.plan.points_mm[i][1]);
        if (n < 0 || (size_t)n >= sizeof pts - used)
            break;
        used += (size_t)n;
    }
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Plan: %d point%s %s mm, spacing %.0f mm, needle at about %.0f\xc2\xb0 out of plane.",
             t->sc.plan.n_points, t->sc.plan.n_points == 1 ? "" : "s", pts, t->sc.plan.spacing_mm,
             t->sc.plan.angle_deg);
    y += lh + S(t, 14);
    ui_text(u, UI_BODY, x, y, C_ACCENT, "The procedure, in order (Ciuffreda et al.):");
    y += lh;
    for (int s = 0; s < STEP_COUNT; s++, y += lh)
        ui_textf(u, UI_BODY, x + S(t, 12), y, C_TEXT, "%d. %s", s + 1, step_label((score_step)s));
    y += S(t, 14);
    wrap(t, UI_BODY, x, y, w, C_DIM,
         "Tick the steps you perform with C. Mark the dermis in the image with M and two clicks. "
         "Place the needle with N (out of plane, across the image), advance with Space, watch for the "
         "dot where the shaft crosses the slice, walk the probe toward the tip, inject with I when the "
         "tip sits in the dermis, and watch the bleb form. F1 lists every control.");
}

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

static void draw_debrief(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h, x = S(t, 28);
    draw_top_bar(t, "Return: another case   Esc: quit");
    const score_result *r = &t->result;
    float y = S(t, 50), lh = ui_line_height(u, UI_BODY), sl = ui_line_height(u, UI_SMALL);
    ui_textf(u, UI_TITLE, x, y, r->pass ? C_GOOD : C_BAD, "Score %.1f / 100  \xe2\x80\x94  %s%s", r->total,
             r->pass ? "PASS" : "FAIL", r->critical ? " (intravascular injection)" : "");
    y += S(t, 40);
    for (int p = 0; p < PART_COUNT; p++, y += lh) {
        ui_text(u, UI_BODY, x, y, C_TEXT, part_label((score_part)p));
        float bx = x + S(t, 330), bw = S(t, 160);
        ui_rect(u, bx, y + S(t, 4), bw, S(t, 10), 0x303844ff);
        ui_rect(u, bx, y + S(t, 4), bw * (float)r->part[p], S(t, 10), 0x4890e0ff);
        ui_textf(u, UI_BODY, bx + bw + S(t, 10), y, C_TEXT, "%3.0f%%   %.1f pts", 100 * r->part[p], r->points[p]);
    }
    y += S(t, 10);
    const score_session *m = session_metrics(t->s);
    static const char *const k_cols[] = {"#", "verdict", "depth mm", "margin mm", "in slice", "to plane mm",
                                         "in dermis", "wheal", "vessel"};
    float cw[] = {30, 120, 80, 85, 70, 95, 80, 60, 60};
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
    y += S(t, 4);
    ui_textf(u, UI_SMALL, x, y, C_DIM, "Passes %d, redirects %d, time %.0f s, depth SD %.2f mm, adverse events %d",
             m->passes, m->redirects, m->time_s, r->depth_sd_mm, m->n_events);
    y += sl + S(t, 10);
    /* Snapshots at each injection, the true tip ringed. */
    float th = H - y - S(t, 60), tx = x;
    for (int i = 0; i < t->n_snaps && th > S(t, 60); i++) {
        const trainer_snapshot *s = &t->snaps[i];
        if (!s->tex.id)
            continue;
        double w_mm = s->cols * s->dx_mm, h_mm = s->rows * s->dz_mm;
        float tw = (float)(th * w_mm / h_mm);
        if (tx + tw > W - S(t, 10))
            break;
        image_view_draw(t->iv, &s->tex, tx, y, tw, th, t->fb_w, t->fb_h);
        if (s->tip_ok) {
            float px = tx + (float)((s->tip_img_mm[0] - s->x0_mm) / w_mm * tw);
            float py = y + (float)((s->tip_img_mm[2] - s->z0_mm) / h_mm * th);
            ui_ring(u, px, py, S(t, 7), S(t, 1.5f), 0xff5050ff);
            ui_line(u, px - S(t, 11), py, px + S(t, 11), py, S(t, 1), 0xff5050ff);
        }
        ui_textf(u, UI_SMALL, tx, y + th + S(t, 2), C_TEXT, "#%d true tip %s, %.2f mm from the plane", i + 1,
                 s->tip_ok ? "ringed" : "not placed", s->tip_ok ? fabs(s->tip_img_mm[1]) : 0.0);
        tx += tw + S(t, 14);
    }
    if (t->log_path[0])
        ui_textf(u, UI_SMALL, x, H - S(t, 40), C_DIM, "Action log: %s", t->log_path);
    if (t->report_path[0])
        ui_textf(u, UI_SMALL, x, H - S(t, 24), C_DIM, "Report: %s", t->report_path);
}

void screens_draw(trainer *t)
{
    ui_begin(t->ui, t->fb_w, t->fb_h);
    switch (t->screen) {
    case SCREEN_PICKER: draw_picker(t); break;
    case SCREEN_BRIEFING: draw_briefing(t); break;
    case SCREEN_SCAN: draw_scan(t); break;
    case SCREEN_DEBRIEF: draw_debrief(t); break;
    }
    if (t->show_help)
        draw_help(t);
    ui_flush(t->ui);
}
