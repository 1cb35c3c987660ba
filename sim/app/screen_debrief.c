/* screen_debrief: the score and pass mark, the weighted parts, one row per injection, and the
 * B-mode frame from the instant each injection started with the true tip ringed. Return picks
 * another case, Esc quits (trainer_run). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "trainer_internal.h"

void debrief_enter(trainer *t)
{
    t->debrief.result = tsession_view(t)->score;
    for (int i = 0; i < t->run.n_snaps; i++) {
        trainer_snapshot *s = &t->run.snaps[i];
        if (s->pixels)
            image_tex_upload(&s->tex, s->pixels, s->cols, s->rows);
    }
    t->screen = SCREEN_DEBRIEF;
}

void debrief_input(trainer *t, const controls *c)
{
    if (c->pressed[BTN_CONFIRM]) {
        picker_rescan(t);
        t->screen = SCREEN_PICKER;
    }
}

void debrief_hints(const trainer *t, char *buf, size_t len)
{
    char again[96], quit[96];
    snprintf(buf, len, "%s: another case   %s: quit", screens_key(t, BTN_CONFIRM, again),
             screens_key(t, BTN_BACK, quit));
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

void debrief_draw(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h, x = S(t, 28);
    char hints[256];
    debrief_hints(t, hints, sizeof hints);
    screens_top_bar(t, hints);
    const score_result *r = &t->debrief.result;
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
    const score_session *m = &tsession_view(t)->metrics;
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
    for (int i = 0; i < t->run.n_snaps && th > S(t, 60); i++) {
        const trainer_snapshot *s = &t->run.snaps[i];
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
    if (t->run.log_path[0])
        ui_textf(u, UI_SMALL, x, H - S(t, 40), C_DIM, "Action log: %s", t->run.log_path);
    if (t->run.report_path[0])
        ui_textf(u, UI_SMALL, x, H - S(t, 24), C_DIM, "Report: %s", t->run.report_path);
}
