/* screen_calib: the tracker's guided two-point calibration, over the scan screen.
 *
 * A tracker reports its tool in its own frame; igtl_calibration_two_point (sim/net/igtl_calib.h)
 * turns two points touched with the tool, and where they are on the phantom, into the map the
 * server applies. The trainee touches two marks on the skin with the tracked needle's tip:
 * A at (-CALIB_MARK_X_MM, 0) and B at (+CALIB_MARK_X_MM, 0), on the skin surface (its depth at
 * each mark, from the anatomy), pressing Enter at each; the screen then shows the scale, the
 * offset, the rotation and the residual, and Enter saves it (atomically, igtl_calibration_save)
 * to the calibration file and hands it to the server at once. Esc at any step leaves with
 * nothing changed. Meanwhile the session's clock stands still and the tracker drives nothing
 * (the points touched on the skin must not become needle entries). */
#include <math.h>

#include "trainer_internal.h"

/* 30 mm apart along the probe's usual axis: far enough that a 1 mm touching error is a 3 %
 * scale error, near enough to lie on the smallest bundled patch. */
#define CALIB_MARK_X_MM 15.0

static void leave(trainer *t)
{
    t->tracker->calib.on = false;
    tracker_attach(t, t->run.d);
}

void calib_enter(trainer *t)
{
    if (!t->tracker) {
        scan_say(t, C_WARN, "No tracker: start mesosim with --igtl-port PORT to calibrate one (docs/devices.md).");
        return;
    }
    calib_state *cs = &t->tracker->calib;
    memset(cs, 0, sizeof *cs);
    cs->on = true;
    igtl_raw_pose raw;
    igtl_server_latest_raw(t->tracker->srv, IGTL_TOOL_NEEDLE, &raw);
    cs->count_at_enter = raw.count;
    const phantom *an = tsession_view(t)->anatomy;
    for (int k = 0; k < 2; k++) {
        cs->ph[k][0] = k == 0 ? -CALIB_MARK_X_MM : CALIB_MARK_X_MM;
        cs->ph[k][1] = 0.0;
        cs->ph[k][2] = phantom_surface_mm(an, cs->ph[k][0], cs->ph[k][1]);
    }
    tracker_attach(t, NULL);
}

/* The turn of a rotation matrix, degrees. */
static double rotation_deg(const double r[3][3])
{
    double c = 0.5 * (r[0][0] + r[1][1] + r[2][2] - 1.0);
    return acos(fmin(fmax(c, -1.0), 1.0)) * 180.0 / M_PI;
}

static void take_point(trainer *t, calib_state *cs)
{
    igtl_raw_pose raw;
    if (!igtl_server_latest_raw(t->tracker->srv, IGTL_TOOL_NEEDLE, &raw) || raw.count <= cs->count_at_enter) {
        snprintf(cs->msg, sizeof cs->msg, "No pose from the tracked needle since this screen opened: is the "
                 "tracker sending TRANSFORMs named as the needle?");
        return;
    }
    memcpy(cs->dev[cs->step], raw.p, sizeof raw.p);
    cs->msg[0] = '\0';
    if (cs->step == 0) {
        cs->step = 1;
        return;
    }
    char err[200];
    if (!igtl_calibration_two_point(cs->dev[0], cs->ph[0], cs->dev[1], cs->ph[1], &cs->result, err, sizeof err)) {
        snprintf(cs->msg, sizeof cs->msg, "%s: touch point B again.", err);
        return;
    }
    cs->residual_mm = 0.0;
    for (int k = 0; k < 2; k++) {
        double p[3];
        igtl_calibration_point(&cs->result, cs->dev[k], p);
        cs->residual_mm = fmax(cs->residual_mm, hypot(hypot(p[0] - cs->ph[k][0], p[1] - cs->ph[k][1]),
                                                      p[2] - cs->ph[k][2]));
    }
    cs->step = 2;
}

static void save(trainer *t, calib_state *cs)
{
    char err[4400];
    if (!igtl_calibration_save(t->tracker->calib_path, &cs->result, err, sizeof err)) {
        snprintf(cs->msg, sizeof cs->msg, "Not saved: %s", err);
        return;
    }
    if (!igtl_server_set_calibration(t->tracker->srv, &cs->result, err, sizeof err)) {
        snprintf(cs->msg, sizeof cs->msg, "Saved, but the tracker refused it: %s", err);
        return;
    }
    leave(t);
    scan_say(t, C_GOOD, "Tracker calibrated (scale %.4g, residual %.2f mm), saved to %s.", cs->result.scale,
             cs->residual_mm, t->tracker->calib_path);
}

void calib_input(trainer *t, const controls *c)
{
    calib_state *cs = &t->tracker->calib;
    if (c->pressed[BTN_BACK]) {
        leave(t);
        scan_say(t, C_DIM, "Calibration cancelled: nothing changed.");
    } else if (c->pressed[BTN_CONFIRM]) {
        if (cs->step < 2)
            take_point(t, cs);
        else
            save(t, cs);
    }
}

void calib_draw(trainer *t)
{
    const calib_state *cs = &t->tracker->calib;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float w = fminf(W - S(t, 80), S(t, 760)), h = S(t, 300), x = 0.5f * (W - w), y = 0.5f * (H - h);
    float pad = S(t, 16), tw = w - 2 * pad;
    ui_rect(t->ui, x, y, w, h, C_PANEL);
    ui_frame(t->ui, x, y, w, h, S(t, 2), C_ACCENT);
    ui_text(t->ui, UI_TITLE, x + pad, y + S(t, 10), C_TEXT, "Tracker calibration (two points)");
    float cy = y + S(t, 50);
    char line[4800];
    if (cs->step < 2) {
        snprintf(line, sizeof line, "Step %d of 2: touch point %c, the mark at x = %+.0f mm, y = 0 on the skin, with "
                 "the tracked needle's tip; hold it still and press Enter. Esc cancels with nothing changed.",
                 cs->step + 1, cs->step == 0 ? 'A' : 'B', cs->ph[cs->step][0]);
        cy += screens_wrap(t, UI_BODY, x + pad, cy, tw, C_TEXT, line) + S(t, 10);
        igtl_raw_pose raw;
        if (igtl_server_latest_raw(t->tracker->srv, IGTL_TOOL_NEEDLE, &raw) && raw.count > cs->count_at_enter)
            snprintf(line, sizeof line, "Needle tip (device units): %.2f, %.2f, %.2f (%lld poses)", raw.p[0], raw.p[1],
                     raw.p[2], raw.count - cs->count_at_enter);
        else
            snprintf(line, sizeof line, "Waiting for the tracked needle's poses...");
        cy += screens_wrap(t, UI_BODY, x + pad, cy, tw, C_DIM, line) + S(t, 6);
        if (cs->step == 1) {
            snprintf(line, sizeof line, "Point A: %.2f, %.2f, %.2f", cs->dev[0][0], cs->dev[0][1], cs->dev[0][2]);
            cy += screens_wrap(t, UI_BODY, x + pad, cy, tw, C_DIM, line) + S(t, 6);
        }
    } else {
        const igtl_calibration *r = &cs->result;
        snprintf(line, sizeof line, "Scale %.5g mm per device unit, offset %.2f, %.2f, %.2f mm, rotation %.1f deg, "
                 "residual at the marks %.3f mm. A turn about the line A-B cannot be seen by two points and is "
                 "taken as none.", r->scale, r->offset_mm[0], r->offset_mm[1], r->offset_mm[2],
                 rotation_deg(r->rotation), cs->residual_mm);
        cy += screens_wrap(t, UI_BODY, x + pad, cy, tw, C_TEXT, line) + S(t, 10);
        snprintf(line, sizeof line, "Enter saves it to %s and the tracker uses it at once; Esc discards it.",
                 t->tracker->calib_path);
        cy += screens_wrap(t, UI_BODY, x + pad, cy, tw, C_ACCENT, line) + S(t, 6);
    }
    if (cs->msg[0])
        screens_wrap(t, UI_BODY, x + pad, cy, tw, C_WARN, cs->msg);
}
