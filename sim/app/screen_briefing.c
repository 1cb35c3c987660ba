/* screen_briefing: the open case (case_state) and its briefing: patient, drug, needle, plan,
 * whether it is done blind (the case's own guidance.ultrasound, or practised blind with the
 * picker's B or --blind) and the procedure. Return starts the session, Esc goes back to the
 * picker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "trainer_internal.h"

bool trainer_open_case(trainer *t, const char *path, char *err, size_t n)
{
    scenario *sc = malloc(sizeof *sc);
    if (!sc) {
        snprintf(err, n, "out of memory");
        return false;
    }
    if (!picker_load_case(path, sc, err, n)) {
        free(sc);
        return false;
    }
    tsession_close(t);
    t->open.sc = *sc;
    free(sc);
    t->open.have_case = true;
    snprintf(t->open.path, sizeof t->open.path, "%s", path);
    t->screen = SCREEN_BRIEFING;
    return true;
}

void briefing_input(trainer *t, const controls *c)
{
    char err[2048];
    if (c->pressed[BTN_CONFIRM] || c->clicked) {
        if (!trainer_begin_scan(t, err, sizeof err))
            fprintf(stderr, "mesosim: %s: %s\n", t->open.path, err);
    } else if (c->pressed[BTN_BACK]) {
        picker_rescan(t);
        t->screen = SCREEN_PICKER;
    }
}

void briefing_hints(const trainer *t, char *buf, size_t len)
{
    char start[96], back[96];
    snprintf(buf, len, "%s: start scanning   %s: back to the cases", screens_key(t, BTN_CONFIRM, start),
             screens_key(t, BTN_BACK, back));
}

void briefing_draw(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, x = S(t, 32), w = W - 2 * x;
    char hints[256];
    briefing_hints(t, hints, sizeof hints);
    screens_top_bar(t, hints);
    float y = S(t, 56), lh = ui_line_height(u, UI_BODY);
    ui_textf(u, UI_TITLE, x, y, C_TEXT, "Briefing: %s", t->open.sc.name);
    y += S(t, 40);
    if (t->open.blind || t->open.sc.guidance.blind) {
        const char *why = t->open.sc.guidance.blind ? "This case is done blind"
                                                     : "You practise this case blind (B on the case list turns it off)";
        char line[320];
        snprintf(line, sizeof line, "%s: the ultrasound image stays hidden during the session. Place the needle by "
                 "landmarks and feel; the debrief shows what the image would have shown.", why);
        y += screens_wrap(t, UI_BODY, x, y, w, C_WARN, line) + S(t, 6);
    }
    const scenario_patient *p = &t->open.sc.patient;
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Patient: %.0f years, %s. Region: %s. Skin: %s.", p->age_years, p->sex,
             p->region, p->skin);
    y += lh + S(t, 6);
    y += screens_wrap(t, UI_BODY, x, y, w, C_DIM, t->open.sc.description) + S(t, 10);
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Drug: %s, %.2f mL per point at %.3f mL/s.   Needle: %dG, %.0f mm.",
             drug_kind_name(t->open.sc.drug.kind), t->open.sc.drug.volume_ml, t->open.sc.drug.rate_ml_s, t->open.sc.needle.gauge,
             t->open.sc.needle.length_mm);
    y += lh;
    char pts[256] = "";
    size_t used = 0;
    for (int i = 0; i < t->open.sc.plan.n_points && used + 1 < sizeof pts; i++) {
        int n = snprintf(pts + used, sizeof pts - used, "%s(%.0f, %.0f)", i ? ", " : "",
                         t->open.sc.plan.points_mm[i][0], t->open.sc.plan.points_mm[i][1]);
        if (n < 0 || (size_t)n >= sizeof pts - used)
            break;
        used += (size_t)n;
    }
    ui_textf(u, UI_BODY, x, y, C_TEXT, "Plan: %d point%s %s mm, spacing %.0f mm, needle at about %.0f\xc2\xb0 out of plane.",
             t->open.sc.plan.n_points, t->open.sc.plan.n_points == 1 ? "" : "s", pts, t->open.sc.plan.spacing_mm,
             t->open.sc.plan.angle_deg);
    y += lh + S(t, 14);
    ui_text(u, UI_BODY, x, y, C_ACCENT, "The procedure, in order (Ciuffreda et al.):");
    y += lh;
    for (int s = 0; s < STEP_COUNT; s++, y += lh)
        ui_textf(u, UI_BODY, x + S(t, 12), y, C_TEXT, "%d. %s", s + 1, screens_step_label((score_step)s));
    y += S(t, 14);
    char step[96], mark[96], entry[96], advance[96], inject[96], help[96], how[768];
    snprintf(how, sizeof how,
             "Tick the steps you perform with %s. Mark the dermis in the image with %s and two clicks. "
             "Place the needle with %s (out of plane, across the image), advance with %s, watch for the "
             "dot where the shaft crosses the slice, walk the probe toward the tip, inject with %s when the "
             "tip sits in the dermis, and watch the bleb form. %s lists every control.",
             screens_key(t, BTN_STEP, step), screens_key(t, BTN_MARK_DERMIS, mark),
             screens_key(t, BTN_NEEDLE_ENTRY, entry), screens_axis_key(t, AXIS_NEEDLE_ADVANCE, advance),
             screens_key(t, BTN_INJECT, inject), screens_key(t, BTN_HELP, help));
    screens_wrap(t, UI_BODY, x, y, w, C_DIM, how);
}
