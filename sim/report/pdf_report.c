/* pdf_report: the PDF debrief and records (pdf_report.h). */
#include "pdf_report.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A4 in points (ISO 216: 210 x 297 mm at 72 pt per 25.4 mm). */
#define PAGE_W 595.28
#define PAGE_H 841.89
#define MARGIN 48.0
#define CONTENT_W (PAGE_W - 2.0 * MARGIN)
#define FONT "DejaVu Sans"
#define FULL_TURN 6.283185307179586

typedef struct doc {
    cairo_surface_t *surf;
    cairo_t *cr;
    double y;
    int pages;
} doc;

pdf_report_def pdf_report_default_def(void)
{
    pdf_report_def d;
    memset(&d, 0, sizeof d);
    d.title = "mesosim debrief";
    return d;
}

static void set_font(doc *d, double size, bool bold)
{
    cairo_select_font_face(d->cr, FONT, CAIRO_FONT_SLANT_NORMAL,
                           bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(d->cr, size);
}

static void new_page(doc *d)
{
    if (d->pages > 0)
        cairo_show_page(d->cr);
    d->pages++;
    d->y = MARGIN;
    char foot[48];
    snprintf(foot, sizeof foot, "mesosim  -  page %d", d->pages);
    set_font(d, 8, false);
    cairo_set_source_rgb(d->cr, 0.4, 0.4, 0.4);
    cairo_move_to(d->cr, MARGIN, PAGE_H - MARGIN / 2);
    cairo_show_text(d->cr, foot);
    cairo_set_source_rgb(d->cr, 0, 0, 0);
}

static void need(doc *d, double h)
{
    if (d->y + h > PAGE_H - MARGIN)
        new_page(d);
}

static void text_at(doc *d, double x, double y, const char *s)
{
    cairo_move_to(d->cr, x, y);
    cairo_show_text(d->cr, s);
}

/* One paragraph, wrapped at spaces to width w from x; advances y. */
static void para_at(doc *d, double x, double w, const char *s, double size, bool bold)
{
    set_font(d, size, bold);
    double lh = size * 1.35;
    size_t len = strlen(s);
    char *line = malloc(len + 1);
    if (!line)
        return;
    size_t start = 0;
    while (start < len) {
        size_t best = 0, end = start;
        while (end <= len) {
            if (end == len || s[end] == ' ') {
                memcpy(line, s + start, end - start);
                line[end - start] = '\0';
                cairo_text_extents_t ex;
                cairo_text_extents(d->cr, line, &ex);
                if (ex.x_advance > w && best > 0)
                    break;
                best = end - start;
                if (end == len)
                    break;
            }
            end++;
        }
        if (best == 0)
            best = len - start < 80 ? len - start : 80;
        memcpy(line, s + start, best);
        line[best] = '\0';
        need(d, lh);
        set_font(d, size, bold);
        text_at(d, x, d->y + size, line);
        d->y += lh;
        start += best;
        while (start < len && s[start] == ' ')
            start++;
    }
    free(line);
}

static void para(doc *d, const char *s, double size, bool bold)
{
    para_at(d, MARGIN, CONTENT_W, s, size, bold);
}

static void heading(doc *d, const char *s)
{
    need(d, 40);
    d->y += 8;
    para(d, s, 13, true);
    cairo_set_line_width(d->cr, 0.6);
    cairo_move_to(d->cr, MARGIN, d->y + 1);
    cairo_line_to(d->cr, MARGIN + CONTENT_W, d->y + 1);
    cairo_stroke(d->cr);
    d->y += 6;
}

/* A table row: cells at the given x offsets (fractions of the content width). */
static void row(doc *d, const char *const *cells, const double *at, int n, bool bold)
{
    double size = 8.5, lh = size * 1.5;
    need(d, lh);
    set_font(d, size, bold);
    for (int i = 0; i < n; i++)
        if (cells[i])
            text_at(d, MARGIN + at[i] * CONTENT_W, d->y + size, cells[i]);
    d->y += lh;
}

static const char *jstr(const json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : dflt;
}

static double jnum(const json_t *o, const char *k)
{
    return json_number_value(json_object_get(o, k));
}

static void case_section(doc *d, const pdf_report_def *def)
{
    char t[640];
    heading(d, "Patient and case");
    const json_t *r = def->report;
    snprintf(t, sizeof t, "Case: %s (content hash %s)%s", jstr(r, "scenario", "unnamed"),
             jstr(r, "scenario_hash", "unknown"),
             json_is_false(json_object_get(r, "finished")) ? "; closed before its end" : "");
    para(d, t, 10, false);
    if (def->sc) {
        const scenario_patient *p = &def->sc->patient;
        snprintf(t, sizeof t, "Patient: %.0f years, %s, %s region, %s skin", p->age_years, p->sex,
                 p->region, p->skin);
        para(d, t, 10, false);
        if (def->sc->description[0])
            para(d, def->sc->description, 9, false);
    }
    const json_t *nd = json_object_get(r, "needle");
    snprintf(t, sizeof t, "Needle: %.0f G, %.1f mm; drug: %s", jnum(nd, "gauge"),
             jnum(nd, "length_mm"), jstr(r, "drug", "unknown"));
    para(d, t, 10, false);
}

static void score_section(doc *d, const json_t *r)
{
    char t[400];
    const json_t *sc = json_object_get(r, "score");
    heading(d, "Score");
    snprintf(t, sizeof t, "%.1f / 100: %s (pass mark %.0f)%s", jnum(sc, "total"),
             json_is_true(json_object_get(sc, "pass")) ? "PASSED" : "NOT PASSED",
             jnum(sc, "pass_mark"),
             json_is_true(json_object_get(sc, "critical_failed")) ? "; a critical item failed" : "");
    para(d, t, 12, true);
    static const double at[] = {0.0, 0.35, 0.55, 0.75};
    const char *head[] = {"part", "weight", "value", "points"};
    row(d, head, at, 4, true);
    const char *key;
    const json_t *part;
    json_object_foreach(json_object_get(sc, "parts"), key, part)
    {
        char w[24], v[24], p[24];
        snprintf(w, sizeof w, "%.1f", jnum(part, "weight"));
        snprintf(v, sizeof v, "%.2f", jnum(part, "value"));
        snprintf(p, sizeof p, "%.1f", jnum(part, "points"));
        const char *cells[] = {key, w, v, p};
        row(d, cells, at, 4, false);
    }
    heading(d, "Critical items");
    const json_t *c;
    size_t i;
    json_array_foreach(json_object_get(sc, "critical"), i, c)
    {
        bool judged = json_is_true(json_object_get(c, "judged"));
        snprintf(t, sizeof t, "%s %s%s%s", !judged ? "[not judged]"
                                           : json_is_true(json_object_get(c, "ok")) ? "[holds]"
                                                                                    : "[FAILED]",
                 jstr(c, "item", "?"), json_object_get(c, "reason") ? ": " : "",
                 jstr(c, "reason", ""));
        para(d, t, 9, false);
    }
}

static void feedback_section(doc *d, const json_t *r)
{
    heading(d, "Feedback");
    const json_t *f;
    size_t i;
    json_array_foreach(json_object_get(r, "feedback"), i, f)
    {
        char t[1200];
        snprintf(t, sizeof t, "%s: %s", jstr(f, "severity", "info"), jstr(f, "message", ""));
        para(d, t, 9, false);
        d->y += 2;
    }
}

static void injections_section(doc *d, const json_t *r)
{
    heading(d, "Injections");
    static const double at[] = {0.0, 0.06, 0.16, 0.33, 0.47, 0.61, 0.75, 0.88};
    const char *head[] = {"#", "t (s)", "verdict", "depth (mm)", "margin (mm)", "tip in slice",
                          "volume (mL)", "in dermis"};
    row(d, head, at, 8, true);
    const json_t *o;
    size_t i;
    json_array_foreach(json_object_get(r, "injections"), i, o)
    {
        char n[24], ts[16], dep[16], mar[16], vol[16], der[24];
        snprintf(n, sizeof n, "%zu", i + 1);
        snprintf(ts, sizeof ts, "%.1f", jnum(o, "t_s"));
        snprintf(dep, sizeof dep, "%.2f", jnum(o, "tip_depth_mm"));
        snprintf(mar, sizeof mar, "%+.2f", jnum(o, "margin_mm"));
        snprintf(vol, sizeof vol, "%.3f", jnum(o, "volume_ml"));
        snprintf(der, sizeof der, "%.3f mL", jnum(o, "volume_ml") * jnum(o, "dermis_fraction"));
        const char *cells[] = {n, ts, jstr(o, "verdict", "?"), dep, mar,
                               json_is_true(json_object_get(o, "tip_in_slice")) ? "yes" : "no",
                               vol, der};
        row(d, cells, at, 8, false);
    }
    if (json_array_size(json_object_get(r, "injections")) == 0)
        para(d, "No injection was made.", 9, false);
}

static void events_section(doc *d, const json_t *r)
{
    const json_t *s = json_object_get(r, "session");
    heading(d, "Adverse events");
    const json_t *e;
    size_t i;
    json_array_foreach(json_object_get(s, "adverse_events"), i, e)
    {
        char t[200];
        int inj = (int)json_integer_value(json_object_get(e, "injection"));
        if (inj >= 0)
            snprintf(t, sizeof t, "%s at %.1f s (injection %d)", jstr(e, "kind", "?"), jnum(e, "t_s"),
                     inj + 1);
        else
            snprintf(t, sizeof t, "%s at %.1f s", jstr(e, "kind", "?"), jnum(e, "t_s"));
        para(d, t, 9, false);
    }
    if (json_array_size(json_object_get(s, "adverse_events")) == 0)
        para(d, "None.", 9, false);
    heading(d, "Checklist");
    static const double at[] = {0.0, 0.3, 0.45, 0.6};
    const char *head[] = {"step", "done", "at (s)", "in order"};
    row(d, head, at, 4, true);
    const char *key;
    const json_t *st;
    json_object_foreach(json_object_get(s, "steps"), key, st)
    {
        bool done = json_is_true(json_object_get(st, "done"));
        char ts[16] = "";
        if (done)
            snprintf(ts, sizeof ts, "%.1f", jnum(st, "t_s"));
        const char *cells[] = {key, done ? "yes" : "no", ts,
                               json_is_true(json_object_get(st, "in_order")) ? "yes" : "no"};
        row(d, cells, at, 4, false);
    }
}

/* The snapshots show the image's top SNAP_DEPTH_MM: the 4 mm needle and the dermis it aims
 * for sit there, and the full field (40 mm and more) would shrink them to a few points. */
#define SNAP_DEPTH_MM 12.0

static double snapshot_height(const report_snapshot *s, double w)
{
    double depth = s->rows * s->dz_mm < SNAP_DEPTH_MM ? s->rows * s->dz_mm : SNAP_DEPTH_MM;
    return depth * w / (s->cols * s->dx_mm);
}

static void snapshot_at(doc *d, const report_snapshot *s, int index, const json_t *inj, double x,
                        double y, double w)
{
    double pt_mm = w / (s->cols * s->dx_mm);
    double sx = pt_mm * s->dx_mm, sy = pt_mm * s->dz_mm;
    double h = snapshot_height(s, w);
    cairo_surface_t *img = cairo_image_surface_create(CAIRO_FORMAT_RGB24, s->cols, s->rows);
    if (cairo_surface_status(img) == CAIRO_STATUS_SUCCESS) {
        cairo_surface_flush(img);
        unsigned char *px = cairo_image_surface_get_data(img);
        int stride = cairo_image_surface_get_stride(img);
        for (int r = 0; r < s->rows; r++) {
            uint32_t *line = (uint32_t *)(void *)(px + (size_t)r * (size_t)stride);
            for (int c = 0; c < s->cols; c++) {
                uint32_t g = s->pixels[(size_t)r * (size_t)s->cols + (size_t)c];
                line[c] = (g << 16) | (g << 8) | g;
            }
        }
        cairo_surface_mark_dirty(img);
        cairo_save(d->cr);
        cairo_rectangle(d->cr, x, y, w, h);
        cairo_clip(d->cr);
        cairo_translate(d->cr, x, y);
        cairo_scale(d->cr, sx, sy);
        cairo_set_source_surface(d->cr, img, 0, 0);
        cairo_paint(d->cr);
        cairo_restore(d->cr);
    }
    cairo_surface_destroy(img);
    if (s->tip_in_image) {
        /* The true tip: a ring around it and a cross, in red (the trainee may not have seen it). */
        double tx = x + (s->tip_col + 0.5) * sx, ty = y + (s->tip_row + 0.5) * sy;
        cairo_set_source_rgb(d->cr, 0.95, 0.1, 0.1);
        cairo_set_line_width(d->cr, 1.0);
        cairo_arc(d->cr, tx, ty, 6, 0, FULL_TURN);
        cairo_stroke(d->cr);
        cairo_move_to(d->cr, tx - 10, ty);
        cairo_line_to(d->cr, tx - 7, ty);
        cairo_move_to(d->cr, tx + 7, ty);
        cairo_line_to(d->cr, tx + 10, ty);
        cairo_stroke(d->cr);
        cairo_set_source_rgb(d->cr, 0, 0, 0);
    }
    char t[200];
    snprintf(t, sizeof t, "Injection %d at %.1f s: %s, tip %.2f mm from the plane%s", index + 1,
             s->t_s, jstr(inj, "verdict", "?"), fabs(s->tip_to_plane_mm),
             s->tip_in_image ? "" : " (outside the image)");
    set_font(d, 7.5, false);
    text_at(d, x, y + h + 10, t);

}

static void snapshots_section(doc *d, const pdf_report_def *def)
{
    heading(d, "B-mode at each injection, top 12 mm (red ring: the true tip)");
    const json_t *inj = json_object_get(def->report, "injections");
    double gap = 16, w = (CONTENT_W - gap) / 2;
    for (int i = 0; i < def->n_snapshots; i += 2) {
        const report_snapshot *a = &def->snapshots[i];
        double h = snapshot_height(a, w) + 18;
        need(d, h);
        for (int k = 0; k < 2 && i + k < def->n_snapshots; k++)
            snapshot_at(d, &def->snapshots[i + k], i + k, json_array_get(inj, (size_t)(i + k)),
                        MARGIN + k * (w + gap), d->y, w);
        d->y += h + 6;
    }
    if (def->n_snapshots == 0)
        para(d, "No snapshot: no injection, or the session's actions were not given.", 9, false);
}

/* A line chart of n values against their index (1-based on the axis), with an optional
 * horizontal limit and a marked signal index. */
static void chart(doc *d, const char *title, const double *v, int n, double ymin, double ymax,
                  double limit_h, int signal, const char *xlabel)
{
    double h = 112, top, x0 = MARGIN + 34, w = CONTENT_W - 44;
    need(d, h + 40);
    top = d->y + 14;
    cairo_t *cr = d->cr;
    set_font(d, 10, true);
    text_at(d, MARGIN, d->y + 10, title);
    cairo_set_line_width(cr, 0.6);
    cairo_rectangle(cr, x0, top, w, h);
    cairo_stroke(cr);
    set_font(d, 7.5, false);
    char t[48];
    snprintf(t, sizeof t, "%.3g", ymax);
    text_at(d, MARGIN, top + 7, t);
    snprintf(t, sizeof t, "%.3g", ymin);
    text_at(d, MARGIN, top + h, t);
    snprintf(t, sizeof t, "1");
    text_at(d, x0, top + h + 10, t);
    snprintf(t, sizeof t, "%d %s", n, xlabel);
    cairo_text_extents_t ex;
    cairo_text_extents(cr, t, &ex);
    text_at(d, x0 + w - ex.x_advance, top + h + 10, t);
    double span = ymax > ymin ? ymax - ymin : 1;
#define CX(i) (x0 + (n > 1 ? (double)(i) / (n - 1) : 0.5) * w)
#define CY(val) (top + h - ((val) - ymin) / span * h)
    if (isfinite(limit_h)) {
        double dash[] = {4, 3};
        cairo_set_dash(cr, dash, 2, 0);
        cairo_set_source_rgb(cr, 0.8, 0.3, 0.0);
        cairo_move_to(cr, x0, CY(limit_h));
        cairo_line_to(cr, x0 + w, CY(limit_h));
        cairo_stroke(cr);
        cairo_set_dash(cr, NULL, 0, 0);
        snprintf(t, sizeof t, "h = %.3f", limit_h);
        text_at(d, x0 + 4, CY(limit_h) - 3, t);
    }
    cairo_set_source_rgb(cr, 0.1, 0.3, 0.8);
    cairo_set_line_width(cr, 1.2);
    for (int i = 0; i < n; i++) {
        double y = v[i] < ymin ? ymin : v[i] > ymax ? ymax : v[i];
        if (i == 0)
            cairo_move_to(cr, CX(i), CY(y));
        else
            cairo_line_to(cr, CX(i), CY(y));
    }
    cairo_stroke(cr);
    for (int i = 0; i < n && n <= 60; i++) {
        double y = v[i] < ymin ? ymin : v[i] > ymax ? ymax : v[i];
        cairo_arc(cr, CX(i), CY(y), 1.6, 0, FULL_TURN);
        cairo_fill(cr);
    }
    if (signal >= 0 && signal < n) {
        cairo_set_source_rgb(cr, 0.0, 0.6, 0.2);
        cairo_move_to(cr, CX(signal), top);
        cairo_line_to(cr, CX(signal), top + h);
        cairo_stroke(cr);
        snprintf(t, sizeof t, "proficient at %d", signal + 1);
        text_at(d, CX(signal) + 3, top + 10, t);
    }
#undef CX
#undef CY
    cairo_set_source_rgb(cr, 0, 0, 0);
    d->y = top + h + 20;
}

static double max_of(const double *v, int n, double floor_v)
{
    double m = floor_v;
    for (int i = 0; i < n; i++)
        if (v[i] > m)
            m = v[i];
    return m;
}

static void curve_section(doc *d, const learning_curve *c, const char *who)
{
    char t[300];
    snprintf(t, sizeof t, "Learning curve%s%s", who ? ": " : "", who ? who : "");
    heading(d, t);
    snprintf(t, sizeof t,
             "LC-CUSUM (Biau & Porcher 2010): acceptable failure rate %.0f %%, unacceptable %.0f %% "
             "(the peribulbar-block study, de Oliveira Filho & Beninca 2023); a success adds %.4f, a "
             "failure %.4f, the score stays at or above 0, proficiency when it exceeds h = %.3f.",
             100 * c->cusum.acceptable_failure, 100 * c->cusum.unacceptable_failure,
             cusum_success_step(&c->cusum), cusum_failure_step(&c->cusum), c->cusum.limit_h);
    para(d, t, 8.5, false);
    if (c->count == 0) {
        para(d, "No session yet.", 9, false);
        return;
    }
    double *v = malloc((size_t)c->count * sizeof *v);
    if (!v)
        return;
    for (int i = 0; i < c->count; i++)
        v[i] = c->sessions[i].score;
    chart(d, "Score per session (0-100)", v, c->count, 0, 100, NAN, -1, "sessions");
    for (int i = 0; i < c->count; i++)
        v[i] = 100 * c->sessions[i].intradermal_rate;
    chart(d, "Intradermal injections per session (%)", v, c->count, 0, 100, NAN, -1, "sessions");
    free(v);
    const learning_skill *p = &c->placement;
    chart(d, "LC-CUSUM, intradermal placement (per injection)", p->cusum, p->count, 0,
          max_of(p->cusum, p->count, c->cusum.limit_h * 1.2), c->cusum.limit_h, p->signal,
          "injections");
    const learning_skill *s = &c->session;
    chart(d, "LC-CUSUM, session passed (per session)", s->cusum, s->count, 0,
          max_of(s->cusum, s->count, c->cusum.limit_h * 1.2), c->cusum.limit_h, s->signal,
          "sessions");
}

static void sessions_table(doc *d, const learning_curve *c)
{
    heading(d, "Sessions");
    static const double at[] = {0.0, 0.06, 0.36, 0.52, 0.64, 0.76, 0.88};
    const char *head[] = {"#", "case", "id", "score", "result", "injections", "intradermal"};
    row(d, head, at, 7, true);
    for (int i = 0; i < c->count; i++) {
        const learning_session *s = &c->sessions[i];
        char n[16], id[12], sc[16], inj[12], rate[16];
        snprintf(n, sizeof n, "%d", i + 1);
        snprintf(id, sizeof id, "%.8s", s->id);
        snprintf(sc, sizeof sc, "%.1f", s->score);
        snprintf(inj, sizeof inj, "%d", s->injections);
        snprintf(rate, sizeof rate, "%.0f %%", 100 * s->intradermal_rate);
        const char *cells[] = {n, s->scenario, id, sc, s->pass ? "passed" : "not passed", inj, rate};
        row(d, cells, at, 7, false);
    }
}

/* "3/4 (75 %)", or "-" for an arm without injection. */
static void arm_cell(const learning_arm *a, char *out, size_t cap)
{
    double rate = learning_arm_rate(a);
    if (rate < 0)
        snprintf(out, cap, "-");
    else
        snprintf(out, cap, "%d/%d (%.0f %%)", a->intradermal, a->injections, 100 * rate);
}

/* A row of the comparison: the label, both arms, and their rates as two bars (blind above in
 * orange, guided below in blue) on a 0-100 % scale from x = BAR_AT of the content width. */
#define BAR_AT 0.70
static void bvg_row(doc *d, const char *label, const learning_arm *blind, const learning_arm *guided)
{
    static const double at[] = {0.0, 0.34, 0.52};
    char b[48], g[48];
    arm_cell(blind, b, sizeof b);
    arm_cell(guided, g, sizeof g);
    need(d, 14);
    double y = d->y;
    const char *cells[] = {label, b, g};
    row(d, cells, at, 3, false);
    double x0 = MARGIN + BAR_AT * CONTENT_W, w = (1.0 - BAR_AT) * CONTENT_W;
    double rb = learning_arm_rate(blind), rg = learning_arm_rate(guided);
    cairo_set_source_rgb(d->cr, 0.75, 0.75, 0.75); /* the 0-100 % extent */
    cairo_set_line_width(d->cr, 0.4);
    cairo_rectangle(d->cr, x0, y + 1.0, w, 10.5);
    cairo_stroke(d->cr);
    cairo_set_source_rgb(d->cr, 0.85, 0.45, 0.1);
    if (rb >= 0)
        cairo_rectangle(d->cr, x0, y + 1.5, w * rb, 4.5);
    cairo_fill(d->cr);
    cairo_set_source_rgb(d->cr, 0.1, 0.3, 0.8);
    if (rg >= 0)
        cairo_rectangle(d->cr, x0, y + 6.5, w * rg, 4.5);
    cairo_fill(d->cr);
    cairo_set_source_rgb(d->cr, 0, 0, 0);
}

/* Blind versus guided (issue 13): intradermal injections over injections, every session and
 * the cases done both ways, with the case report's claim it measures. */
static void bvg_section(doc *d, const learning_bvg *b, const char *who)
{
    char t[300];
    snprintf(t, sizeof t, "Blind versus guided%s%s", who ? ": " : "", who ? who : "");
    heading(d, t);
    para(d, "Intradermal injections over injections, with the ultrasound hidden (a blind case: "
            "guidance.ultrasound false) and shown. The case report holds that blind mesotherapy is "
            "empirical and that guidance makes it precise; the cases done both ways compare like "
            "with like.",
         8.5, false);
    if (b->blind.sessions == 0) {
        para(d, "No blind session yet.", 9, false);
        return;
    }
    static const double at[] = {0.0, 0.34, 0.52, BAR_AT};
    const char *head[] = {"sessions", "blind", "guided", "rate: blind (orange), guided (blue)"};
    row(d, head, at, 4, true);
    snprintf(t, sizeof t, "every session (%d blind, %d guided)", b->blind.sessions, b->guided.sessions);
    bvg_row(d, t, &b->blind, &b->guided);
    if (b->n_cases == 0) {
        para(d, "No case done both blind and guided yet.", 9, false);
        return;
    }
    bvg_row(d, "the cases done both ways", &b->same_blind, &b->same_guided);
    for (int i = 0; i < b->n_cases; i++) {
        snprintf(t, sizeof t, "%.34s", b->cases[i].scenario);
        bvg_row(d, t, &b->cases[i].blind, &b->cases[i].guided);
    }
}

/* Each trainee's rates on the cases they did both ways, then the programme's pooled. */
static void cohort_bvg_section(doc *d, const pdf_report_def *def)
{
    const learning_curve **curves = malloc((size_t)def->n_cohort * sizeof *curves);
    if (!curves)
        return;
    for (int i = 0; i < def->n_cohort; i++)
        curves[i] = def->cohort[i].curve;
    learning_bvg all;
    char err[120];
    bool ok = learning_bvg_build(curves, def->n_cohort, &all, err, sizeof err);
    free(curves);
    if (!ok)
        return;
    bvg_section(d, &all, "the programme");
    if (all.blind.sessions > 0) {
        static const double at[] = {0.0, 0.34, 0.52};
        const char *head[] = {"trainee: cases done both ways", "blind", "guided"};
        row(d, head, at, 3, true);
        for (int i = 0; i < def->n_cohort; i++) {
            const learning_bvg *b = &def->cohort[i].curve->blind_vs_guided;
            if (b->n_cases > 0)
                bvg_row(d, def->cohort[i].trainee, &b->same_blind, &b->same_guided);
        }
    }
    learning_bvg_free(&all);
}

static void cohort_section(doc *d, const pdf_report_def *def)
{
    heading(d, "Trainees");
    static const double at[] = {0.0, 0.3, 0.42, 0.54, 0.68, 0.84};
    const char *head[] = {"trainee",   "sessions",    "passed",
                          "mean score", "placement", "session pass"};
    row(d, head, at, 6, true);
    for (int i = 0; i < def->n_cohort; i++) {
        const learning_curve *c = def->cohort[i].curve;
        int passed = 0;
        double sum = 0;
        for (int k = 0; k < c->count; k++) {
            passed += c->sessions[k].pass;
            sum += c->sessions[k].score;
        }
        char n[12], p[12], m[16], pl[40], ss[40];
        snprintf(n, sizeof n, "%d", c->count);
        snprintf(p, sizeof p, "%d", passed);
        snprintf(m, sizeof m, "%.1f", c->count ? sum / c->count : 0.0);
        if (c->placement.signal >= 0)
            snprintf(pl, sizeof pl, "proficient at %d", c->placement.signal + 1);
        else
            snprintf(pl, sizeof pl, "not yet");
        if (c->session.signal >= 0)
            snprintf(ss, sizeof ss, "proficient at %d", c->session.signal + 1);
        else
            snprintf(ss, sizeof ss, "not yet");
        const char *cells[] = {def->cohort[i].trainee, n, p, m, pl, ss};
        row(d, cells, at, 6, false);
    }
    para(d, "Placement: LC-CUSUM over every injection (a failure: not intradermal); session pass: over "
            "every session (a failure: not passed). \"proficient at N\" is the case where it "
            "signalled.",
         8, false);
}

bool pdf_report_write(const pdf_report_def *def, const char *path, int *pages, char *err,
                      size_t err_len)
{
    if (!def->report && !def->curve && !def->cohort) {
        snprintf(err, err_len, "nothing to draw: give a session report, a learning curve or a cohort");
        return false;
    }
    doc d = {0};
    d.surf = cairo_pdf_surface_create(path, PAGE_W, PAGE_H);
    if (cairo_surface_status(d.surf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, err_len, "cannot write %s: %s", path,
                 cairo_status_to_string(cairo_surface_status(d.surf)));
        cairo_surface_destroy(d.surf);
        return false;
    }
    d.cr = cairo_create(d.surf);
    new_page(&d);
    para(&d, def->title ? def->title : "mesosim", 18, true);
    if (def->subtitle)
        para(&d, def->subtitle, 10, false);
    if (def->report) {
        case_section(&d, def);
        score_section(&d, def->report);
        feedback_section(&d, def->report);
        new_page(&d);
        injections_section(&d, def->report);
        events_section(&d, def->report);
        new_page(&d);
        snapshots_section(&d, def);
        if (def->curve) {
            new_page(&d);
            curve_section(&d, def->curve, NULL);
        }
    } else if (def->curve) {
        sessions_table(&d, def->curve);
        bvg_section(&d, &def->curve->blind_vs_guided, NULL);
        new_page(&d);
        curve_section(&d, def->curve, NULL);
    }
    if (def->cohort) {
        cohort_section(&d, def);
        cohort_bvg_section(&d, def);
        for (int i = 0; i < def->n_cohort; i++) {
            new_page(&d);
            curve_section(&d, def->cohort[i].curve, def->cohort[i].trainee);
        }
    }
    cairo_show_page(d.cr);
    cairo_status_t st = cairo_status(d.cr);
    cairo_destroy(d.cr);
    cairo_surface_finish(d.surf);
    if (st == CAIRO_STATUS_SUCCESS)
        st = cairo_surface_status(d.surf);
    cairo_surface_destroy(d.surf);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(err, err_len, "cannot write %s: %s", path, cairo_status_to_string(st));
        return false;
    }
    if (pages)
        *pages = d.pages;
    return true;
}
