/* score: parts, weights and the pass rule. Every figure is a function of score_session. */
#include "score.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

static const char *const k_verdicts[VERDICT_COUNT] = {"outside", "epidermal", "intradermal",
                                                      "subcutaneous", "intramuscular",
                                                      "intravascular"};
static const char *const k_steps[STEP_COUNT] = {"positioning", "disinfection", "sterile_field",
                                                "assessment", "injection", "spread_check",
                                                "dressing"};
static const char *const k_parts[PART_COUNT] = {"placement", "visibility", "safety",
                                                "procedure", "assessment", "technique"};

static const char *const k_critical[CRITICAL_COUNT] = {"asepsis", "assessment", "plan_points",
                                                       "intravascular", "outside_dermis"};

const char *score_critical_name(score_critical_item c)
{
    return (int)c >= 0 && c < CRITICAL_COUNT ? k_critical[c] : "unknown";
}

const char *score_verdict_name(score_verdict v)
{
    return (int)v >= 0 && v < VERDICT_COUNT ? k_verdicts[v] : "unknown";
}

const char *score_step_name(score_step s)
{
    return (int)s >= 0 && s < STEP_COUNT ? k_steps[s] : "unknown";
}

const char *score_part_name(score_part p)
{
    return (int)p >= 0 && p < PART_COUNT ? k_parts[p] : "unknown";
}

score_verdict score_verdict_of(tissue_id t)
{
    switch (t) {
    case TISSUE_STRATUM_CORNEUM:
    case TISSUE_EPIDERMIS: return VERDICT_EPIDERMAL;
    case TISSUE_DERMIS:
    case TISSUE_VESSEL_WALL: return VERDICT_INTRADERMAL;
    case TISSUE_FAT:
    case TISSUE_SUPERFICIAL_FASCIA:
    case TISSUE_DEEP_FAT:
    case TISSUE_DEEP_FASCIA: return VERDICT_SUBCUTANEOUS;
    case TISSUE_MUSCLE:
    case TISSUE_TENDON: return VERDICT_INTRAMUSCULAR; /* past the subcutis into the muscle-tendon unit */
    case TISSUE_BLOOD: return VERDICT_INTRAVASCULAR;
    default: return VERDICT_OUTSIDE;
    }
}

score_plan score_default_plan(void)
{
    score_plan p;
    memset(&p, 0, sizeof p);
    /* Mammucari 2011 (tissue.md 4b): points 2-3 cm apart, needle at 30-45 deg. */
    p.spacing_mm = 20.0;
    p.angle_deg = 30.0;
    return p;
}

score_rules score_default_rules(void)
{
    score_rules r;
    memset(&r, 0, sizeof r);
    /* Weights: placement first (the purpose of the guidance, Micheels & Goodman 2018: most
     * blind "intradermal" injections land in the hypodermis), then the novice errors of Sites
     * 2007 (needle not seen, missed maldistribution) as visibility and safety, the case
     * report's steps, the initial assessment, and Perk Tutor style efficiency (tissue.md 5). */
    r.weights[PART_PLACEMENT] = 35.0;
    r.weights[PART_VISIBILITY] = 15.0;
    r.weights[PART_SAFETY] = 15.0;
    r.weights[PART_PROCEDURE] = 15.0;
    r.weights[PART_ASSESSMENT] = 10.0;
    r.weights[PART_TECHNIQUE] = 10.0;
    /* LC-CUSUM practice accepts a 10-15 % failure rate (tissue.md 5): a pass is 70/100. */
    r.pass_mark = 70.0;
    /* Half a millimetre is about three axial resolution cells at 18 MHz and a fifth of the
     * adult dermis: a mark off by that much has missed the boundary. */
    r.assessment_tol_mm = 0.5;
    r.depth_sd_tol_mm = 0.5;
    r.spacing_tol_mm = 10.0;
    /* The case report: guidance "does not significantly increase procedure time"; 10 min for
     * a few points is an assumption. */
    r.time_limit_s = 600.0;
    /* Steroid deposits too close to the epidermis risk atrophy and hypopigmentation
     * (tissue.md 6); 0.3 mm (about the papillary dermis) is an assumption. */
    r.superficial_margin_mm = 0.3;
    /* A slip of the finger is taken back within seconds; a step undone minutes later is a
     * step that was not done, and the log must say so. */
    r.undo_window_s = 5.0;
    /* The case report's steps 2-4 (disinfection "ensuring no skin lesions were present", the
     * sterile field, the initial ultrasound assessment) all come before the needle; skipping
     * asepsis risks infection and panniculitis (tissue.md 6: NTM outbreaks, 423 patients).
     * An intravascular dose is the one error that always fails. */
    r.critical.asepsis = 1;
    r.critical.assessment = 1;
    r.critical.intravascular = 1;
    r.critical.min_points = 0;
    /* 5 mm: the 0.1 mL bleb is 8.5 mm across (Barbaud 2020, tissue.md 4b), so a tip within
     * 5 mm puts the wheal over the planned point, and it is a quarter of the 20 mm planned
     * spacing, so one injection never counts for two points. */
    r.critical.point_tol_mm = 5.0;
    /* 0.5 mm: the assessment tolerance, about three axial resolution cells at 18 MHz. A tip
     * this close to the dermis base still leaves part of the bleb in the dermis; 1 mm into
     * the fat is a subcutaneous injection and no wheal forms (Mantoux: no wheal = too deep,
     * tissue.md 4b). */
    r.critical.outside_dermis_tol_mm = 0.5;
    r.required_steps = SCORE_ALL_STEPS;
    return r;
}

const char *score_check(const score_rules *r)
{
    double sum = 0.0;
    for (int i = 0; i < PART_COUNT; i++) {
        if (!(r->weights[i] >= 0.0))
            return "weights: must be >= 0";
        sum += r->weights[i];
    }
    if (!(sum > 0.0))
        return "weights: at least one must be > 0";
    if (!(r->pass_mark >= 0.0 && r->pass_mark <= 100.0))
        return "pass_mark: must be within 0..100";
    if (!(r->assessment_tol_mm > 0.0) || !(r->depth_sd_tol_mm > 0.0) ||
        !(r->spacing_tol_mm > 0.0) || !(r->time_limit_s > 0.0))
        return "tolerances and time_limit_s: must be > 0";
    if (!(r->undo_window_s >= 0.0))
        return "undo_window_s: must be >= 0";
    if (!(r->critical.point_tol_mm > 0.0) || !(r->critical.outside_dermis_tol_mm >= 0.0) ||
        r->critical.min_points < 0)
        return "critical: point_tol_mm must be > 0, outside_dermis_tol_mm and min_points >= 0";
    if ((r->required_steps & SCORE_ALL_STEPS) == 0 || (r->required_steps & ~SCORE_ALL_STEPS) != 0)
        return "required_steps: at least one of the procedure's steps, and only those";
    return NULL;
}

const char *score_adverse_name(score_adverse k)
{
    static const char *const k_names[ADVERSE_COUNT] = {"haematoma", "intravascular",
                                                       "too_superficial", "too_deep"};
    return (unsigned)k < ADVERSE_COUNT ? k_names[k] : "unknown";
}

double score_adverse_harm(score_adverse k)
{
    /* A bleed or an intravascular dose counts double a misplaced deposit. */
    return k == ADVERSE_HAEMATOMA || k == ADVERSE_INTRAVASCULAR ? 0.5 : 0.25;
}

score_injection *score_session_add_injection(score_session *s)
{
    if (!array_grow((void **)&s->inj, &s->cap_inj, s->n_inj + 1, sizeof *s->inj))
        return NULL;
    score_injection *j = &s->inj[s->n_inj++];
    memset(j, 0, sizeof *j);
    return j;
}

score_event *score_session_add_event(score_session *s)
{
    if (!array_grow((void **)&s->events, &s->cap_events, s->n_events + 1, sizeof *s->events))
        return NULL;
    score_event *e = &s->events[s->n_events++];
    memset(e, 0, sizeof *e);
    return e;
}

bool score_session_copy(score_session *dst, const score_session *src)
{
    score_injection *inj = dst->inj;
    score_event *ev = dst->events;
    int ci = dst->cap_inj, ce = dst->cap_events;
    *dst = *src;
    dst->inj = inj, dst->cap_inj = ci;
    dst->events = ev, dst->cap_events = ce;
    if (!array_grow((void **)&dst->inj, &dst->cap_inj, src->n_inj, sizeof *src->inj) ||
        !array_grow((void **)&dst->events, &dst->cap_events, src->n_events, sizeof *src->events)) {
        dst->n_inj = dst->n_events = 0;
        return false;
    }
    if (src->n_inj)
        memcpy(dst->inj, src->inj, (size_t)src->n_inj * sizeof *src->inj);
    if (src->n_events)
        memcpy(dst->events, src->events, (size_t)src->n_events * sizeof *src->events);
    return true;
}

void score_session_free(score_session *s)
{
    free(s->inj);
    free(s->events);
    s->inj = NULL;
    s->events = NULL;
    s->n_inj = s->cap_inj = s->n_events = s->cap_events = 0;
}

static double clamp01(double x) { return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x); }

/* An injection that put drug into the skin (not run onto the surface). */
static bool in_skin(const score_injection *j) { return j->verdict != VERDICT_OUTSIDE; }

static void set_item(score_result *o, score_critical_item k, bool on, bool ok, const char *fmt,
                     ...) __attribute__((format(printf, 5, 6)));

static void set_item(score_result *o, score_critical_item k, bool on, bool ok, const char *fmt,
                     ...)
{
    o->critical_on[k] = on;
    o->critical_ok[k] = !on || ok;
    if (on && !ok)
        o->critical = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->critical_reason[k], sizeof o->critical_reason[k], fmt, ap);
    va_end(ap);
}

/* Whether step k was done no later than the first needle entry. */
static bool done_before_entry(const score_session *s, score_step k)
{
    return s->step_done[k] && (!s->entered || s->step_t_s[k] <= s->first_entry_t_s);
}

static bool step_required(const score_rules *r, score_step k)
{
    return (r->required_steps >> k) & 1u;
}

static void judge_critical(const score_rules *r, const score_plan *plan, const score_session *s,
                           score_result *o)
{
    const score_critical_rules *c = &r->critical;
    /* Asepsis: the steps of it the case asks for (a step it leaves out holds). */
    bool dis = !step_required(r, STEP_DISINFECTION) || done_before_entry(s, STEP_DISINFECTION);
    bool field = !step_required(r, STEP_STERILE_FIELD) || done_before_entry(s, STEP_STERILE_FIELD);
    bool asked = step_required(r, STEP_DISINFECTION) || step_required(r, STEP_STERILE_FIELD);
    if (!c->asepsis || !asked)
        set_item(o, CRITICAL_ASEPSIS, false, true, "not judged in this scenario");
    else if (!s->entered)
        set_item(o, CRITICAL_ASEPSIS, true, true, "no needle entered the skin");
    else if (dis && field && !step_required(r, STEP_STERILE_FIELD))
        set_item(o, CRITICAL_ASEPSIS, true, true,
                 "disinfected with the skin checked at %.0f s, before the first needle entry at "
                 "%.0f s (this case asks for no sterile field)", s->step_t_s[STEP_DISINFECTION],
                 s->first_entry_t_s);
    else if (dis && field && !step_required(r, STEP_DISINFECTION))
        set_item(o, CRITICAL_ASEPSIS, true, true,
                 "sterile field laid at %.0f s, before the first needle entry at %.0f s (this "
                 "case asks for no disinfection)", s->step_t_s[STEP_STERILE_FIELD],
                 s->first_entry_t_s);
    else if (dis && field)
        set_item(o, CRITICAL_ASEPSIS, true, true,
                 "disinfected with the skin checked at %.0f s and sterile field laid at %.0f s, "
                 "before the first needle entry at %.0f s", s->step_t_s[STEP_DISINFECTION],
                 s->step_t_s[STEP_STERILE_FIELD], s->first_entry_t_s);
    else {
        const char *miss_dis = s->step_done[STEP_DISINFECTION] ? "the disinfection came later"
                                                               : "no disinfection with the "
                                                                 "skin checked";
        const char *miss_field = s->step_done[STEP_STERILE_FIELD] ? "the sterile field came later"
                                                                  : "no sterile field";
        set_item(o, CRITICAL_ASEPSIS, true, false,
                 "before the first needle entry at %.0f s: %s%s%s", s->first_entry_t_s,
                 dis ? "" : miss_dis, !dis && !field ? " and " : "", field ? "" : miss_field);
    }
    /* The initial assessment. */
    bool as = done_before_entry(s, STEP_ASSESSMENT);
    if (!c->assessment || !step_required(r, STEP_ASSESSMENT))
        set_item(o, CRITICAL_ASSESSMENT, false, true, "not judged in this scenario");
    else if (!s->entered)
        set_item(o, CRITICAL_ASSESSMENT, true, true, "no needle entered the skin");
    else if (as)
        set_item(o, CRITICAL_ASSESSMENT, true, true,
                 "dermis marked at %.0f s, before the first needle entry at %.0f s",
                 s->step_t_s[STEP_ASSESSMENT], s->first_entry_t_s);
    else
        set_item(o, CRITICAL_ASSESSMENT, true, false,
                 s->step_done[STEP_ASSESSMENT]
                     ? "the dermis was marked only after the first needle entry at %.0f s"
                     : "the dermis was never marked before the first needle entry at %.0f s",
                 s->first_entry_t_s);
    /* The planned points. */
    if (plan->n_points > 0) {
        int got = 0;
        for (int p = 0; p < plan->n_points; p++) {
            for (int i = 0; i < s->n_inj; i++) {
                const score_injection *j = &s->inj[i];
                double d = hypot(j->tip_mm[0] - plan->points_mm[p][0],
                                 j->tip_mm[1] - plan->points_mm[p][1]);
                if (in_skin(j) && d <= c->point_tol_mm) {
                    got++;
                    break;
                }
            }
        }
        int need = c->min_points > 0 && c->min_points < plan->n_points ? c->min_points
                                                                        : plan->n_points;
        o->points_injected = got;
        o->points_required = need;
        set_item(o, CRITICAL_PLAN_POINTS, true, got >= need,
                 "%d of the %d planned points injected (a tip within %.1f mm), %d needed", got,
                 plan->n_points, c->point_tol_mm, need);
    } else {
        int got = 0;
        for (int i = 0; i < s->n_inj; i++)
            got += in_skin(&s->inj[i]);
        int need = c->min_points > 1 ? c->min_points : 1;
        o->points_injected = got;
        o->points_required = need;
        set_item(o, CRITICAL_PLAN_POINTS, true, got >= need,
                 "%d injection%s into the skin, %d needed", got, got == 1 ? "" : "s", need);
    }
    /* Intravascular and outside the dermis: the first offender is named. */
    /* Each needle of a multi-injector head counts as a single needle would: a head with one
     * needle outside the dermis fails the item as that needle alone would. */
    int iv = -1, iv_needle = -1, out = -1;
    double out_margin = 0.0, iv_depth = 0.0;
    bool out_above = false;
    for (int i = 0; i < s->n_inj; i++) {
        const score_injection *j = &s->inj[i];
        if (iv < 0 && j->verdict == VERDICT_INTRAVASCULAR) {
            iv = i;
            iv_depth = j->tip_depth_mm;
        }
        /* An outer needle of a head in a vessel's lumen doses it as a single needle would. */
        for (int k = 0; k < j->n_needles && iv < 0; k++)
            if (j->needles[k].verdict == VERDICT_INTRAVASCULAR) {
                iv = i;
                iv_needle = k;
                iv_depth = j->needles[k].tip_depth_mm;
            }
        if (out < 0 && in_skin(j) && j->margin_mm < -c->outside_dermis_tol_mm) {
            out = i;
            out_margin = j->margin_mm;
            out_above = j->verdict == VERDICT_EPIDERMAL;
        }
        for (int k = 0; k < j->n_needles && out < 0; k++)
            if (j->needles[k].verdict != VERDICT_OUTSIDE &&
                j->needles[k].margin_mm < -c->outside_dermis_tol_mm) {
                out = i;
                out_margin = j->needles[k].margin_mm;
                out_above = j->needles[k].verdict == VERDICT_EPIDERMAL;
            }
    }
    if (!c->intravascular)
        set_item(o, CRITICAL_INTRAVASCULAR, false, true, "not judged in this scenario");
    else if (iv >= 0 && iv_needle >= 0)
        set_item(o, CRITICAL_INTRAVASCULAR, true, false,
                 "injection %d: needle %d of the head went into a vessel's lumen %.1f mm below the skin", iv + 1,
                 iv_needle + 1, iv_depth);
    else if (iv >= 0)
        set_item(o, CRITICAL_INTRAVASCULAR, true, false,
                 "injection %d went into a vessel's lumen %.1f mm below the skin", iv + 1, iv_depth);
    else
        set_item(o, CRITICAL_INTRAVASCULAR, true, true, "no injection into a vessel");
    if (out >= 0)
        set_item(o, CRITICAL_OUTSIDE_DERMIS, true, false,
                 "injection %d was %.1f mm %s the dermis (%.1f mm allowed)", out + 1, -out_margin,
                 out_above ? "above" : "below",
                 c->outside_dermis_tol_mm);
    else
        set_item(o, CRITICAL_OUTSIDE_DERMIS, true, true,
                 "no injection more than %.1f mm outside the dermis", c->outside_dermis_tol_mm);
}

bool score_head_spread(const score_injection *j, double *sd_mm, double *range_mm)
{
    *sd_mm = *range_mm = 0.0;
    int n = j->n_needles;
    if (n <= 1)
        return false;
    double sum = 0.0, lo = 1e9, hi = -1e9;
    for (int k = 0; k < n; k++) {
        double d = j->needles[k].tip_depth_mm;
        sum += d;
        lo = fmin(lo, d);
        hi = fmax(hi, d);
    }
    double mean = sum / n, ss = 0.0;
    for (int k = 0; k < n; k++)
        ss += (j->needles[k].tip_depth_mm - mean) * (j->needles[k].tip_depth_mm - mean);
    *sd_mm = sqrt(ss / (n - 1));
    *range_mm = hi - lo;
    return true;
}

/* Placement of one injection: half for an intradermal verdict, half for the share of the drug
 * in the dermis. A head's injection is judged needle by needle, each on its own share: the
 * share of its needles intradermal and the mean of their dermis fractions. */
static double placement_of(const score_injection *j)
{
    if (j->n_needles <= 1)
        return 0.5 * (j->verdict == VERDICT_INTRADERMAL) + 0.5 * j->dermis_fraction;
    double v = 0.0, f = 0.0;
    for (int k = 0; k < j->n_needles; k++) {
        v += j->needles[k].verdict == VERDICT_INTRADERMAL;
        f += j->needles[k].dermis_fraction;
    }
    return 0.5 * v / j->n_needles + 0.5 * f / j->n_needles;
}

score_result score_compute(const score_rules *r, const score_plan *plan, const score_session *s)
{
    score_result o;
    memset(&o, 0, sizeof o);
    int n = 0, visible = 0;
    double place = 0.0;
    double dsum = 0.0, dsq = 0.0;
    for (int i = 0; i < s->n_inj; i++) {
        const score_injection *j = &s->inj[i];
        n++;
        place += placement_of(j);
        visible += j->tip_in_slice;
        double sd, range;
        if (score_head_spread(j, &sd, &range)) {
            o.head_injections++;
            o.head_sd_mean_mm += sd;
            o.head_range_mean_mm += range;
            o.head_sd_max_mm = fmax(o.head_sd_max_mm, sd);
            o.head_range_max_mm = fmax(o.head_range_max_mm, range);
        }
        dsum += j->tip_depth_mm;
        dsq += j->tip_depth_mm * j->tip_depth_mm;
    }
    o.part[PART_PLACEMENT] = n ? place / n : 0.0;
    o.part[PART_VISIBILITY] = n ? (double)visible / n : 0.0;

    /* Safety: each adverse event takes a share; a bleed or an intravascular dose counts
     * double a misplaced deposit. A session without injections has shown no safe practice:
     * nothing to judge scores 0, not 100 (opening a case and ending at once is no pass). */
    double harm = 0.0;
    for (int i = 0; i < s->n_events; i++)
        harm += score_adverse_harm(s->events[i].kind);
    o.part[PART_SAFETY] = n ? clamp01(1.0 - harm) : 0.0;

    /* Procedure: a step done counts 1 when in order, 0.5 when out of order. The steps out of
     * order are the fewest whose removal leaves the others in the case report's order (the
     * longest chain of done steps whose times do not decrease): a dressing laid first is the
     * one step out of order, not every step after it. A skipped step is only skipped. */
    int chain[STEP_COUNT], prev[STEP_COUNT], last = -1;
    for (int k = 0; k < STEP_COUNT; k++) {
        chain[k] = 0;
        prev[k] = -1;
        if (!s->step_done[k])
            continue;
        chain[k] = 1;
        for (int e = 0; e < k; e++)
            if (s->step_done[e] && s->step_t_s[e] <= s->step_t_s[k] && chain[e] + 1 > chain[k]) {
                chain[k] = chain[e] + 1;
                prev[k] = e;
            }
        if (last < 0 || chain[k] > chain[last])
            last = k;
    }
    for (int k = last; k >= 0; k = prev[k])
        o.step_in_order[k] = true;
    /* Only the steps the case asks for count (scoring.required_steps); the order is still
     * judged over every step done. */
    double proc = 0.0;
    int n_required = 0;
    for (int k = 0; k < STEP_COUNT; k++) {
        if (!step_required(r, (score_step)k))
            continue;
        n_required++;
        if (s->step_done[k])
            proc += o.step_in_order[k] ? 1.0 : 0.5;
    }
    o.part[PART_PROCEDURE] = n_required ? proc / n_required : 0.0;

    if (r->measure_dermis) {
        /* The case asks for the dermis thickness with the calipers. */
        if (s->measured) {
            o.assessment_error_mm = fabs(s->measured_mm - s->true_thickness_mm);
            o.part[PART_ASSESSMENT] = clamp01(1.0 - o.assessment_error_mm / r->assessment_tol_mm);
        }
    } else if (s->marked) {
        o.assessment_error_mm = 0.5 * (fabs(s->mark_top_mm - s->true_top_mm) +
                                       fabs(s->mark_bottom_mm - s->true_bottom_mm));
        o.part[PART_ASSESSMENT] = clamp01(1.0 - o.assessment_error_mm / r->assessment_tol_mm);
    }

    if (r->require_doppler_check) {
        /* The other half of the assessment: a Doppler look under every planned point (a plan
         * without points: Doppler on at all) before the needle first went in. */
        o.doppler_required = plan->n_points > 0 ? plan->n_points : 1;
        o.doppler_checked = 0;
        if (plan->n_points > 0) {
            for (int p = 0; p < plan->n_points; p++)
                o.doppler_checked += (s->doppler_points >> p) & 1u;
        } else {
            o.doppler_checked = s->doppler_before_entry ? 1 : 0;
        }
        o.part[PART_ASSESSMENT] = 0.5 * o.part[PART_ASSESSMENT] +
                                  0.5 * (double)o.doppler_checked / o.doppler_required;
    }

    /* Technique: the mean of passes (one per injection is ideal), redirects, time, depth
     * consistency and spacing. */
    o.passes_score = n ? clamp01((double)n / (s->passes > n ? s->passes : n)) : 0.0;
    /* A pivot with the tip deep counts twice: it bends the needle and cuts the tissue. */
    o.redirect_score = n ? clamp01(1.0 - 0.25 * (s->redirects + s->redirects_without_retract) / n)
                         : 0.0;
    o.time_score = !n ? 0.0 : s->time_s <= r->time_limit_s
                       ? 1.0 : clamp01(2.0 - s->time_s / r->time_limit_s);
    if (n > 0) {
        o.depth_mean_mm = dsum / n;
        double var = dsq / n - o.depth_mean_mm * o.depth_mean_mm;
        o.depth_sd_mm = n > 1 && var > 0.0 ? sqrt(var * n / (n - 1)) : 0.0;
    }
    o.depth_score = n ? clamp01(1.0 - o.depth_sd_mm / r->depth_sd_tol_mm) : 0.0;
    if (plan->n_points > 0 && n > 0) {
        double err = 0.0;
        for (int p = 0; p < plan->n_points; p++) {
            double best = 1e9;
            for (int i = 0; i < s->n_inj; i++) {
                double dx = s->inj[i].tip_mm[0] - plan->points_mm[p][0];
                double dy = s->inj[i].tip_mm[1] - plan->points_mm[p][1];
                double d = sqrt(dx * dx + dy * dy);
                best = d < best ? d : best;
            }
            err += best;
        }
        o.spacing_error_mm = err / plan->n_points;
        o.spacing_score = clamp01(1.0 - o.spacing_error_mm / r->spacing_tol_mm);
    } else if (n > 1) {
        /* No plan points: neighbours (in injection order) against the wanted spacing. */
        double err = 0.0;
        for (int i = 1; i < n; i++) {
            double dx = s->inj[i].tip_mm[0] - s->inj[i - 1].tip_mm[0];
            double dy = s->inj[i].tip_mm[1] - s->inj[i - 1].tip_mm[1];
            err += fabs(sqrt(dx * dx + dy * dy) - plan->spacing_mm);
        }
        o.spacing_error_mm = err / (n - 1);
        o.spacing_score = clamp01(1.0 - o.spacing_error_mm / r->spacing_tol_mm);
    } else {
        o.spacing_score = n ? 1.0 : 0.0;
    }
    /* A multi-injector session adds a sixth term, the uniformity of the heads' depths: the
     * spread that costs depth consistency across a single needle's injections (depth_sd_tol_mm)
     * costs the same within one head's injection. A single-needle session keeps five terms. */
    if (o.head_injections > 0) {
        o.head_sd_mean_mm /= o.head_injections;
        o.head_range_mean_mm /= o.head_injections;
        o.uniformity_score = clamp01(1.0 - o.head_sd_mean_mm / r->depth_sd_tol_mm);
        o.part[PART_TECHNIQUE] = (o.passes_score + o.redirect_score + o.time_score + o.depth_score +
                                  o.spacing_score + o.uniformity_score) / 6.0;
    } else {
        o.part[PART_TECHNIQUE] = (o.passes_score + o.redirect_score + o.time_score + o.depth_score +
                                  o.spacing_score) / 5.0;
    }

    double wsum = 0.0;
    for (int k = 0; k < PART_COUNT; k++)
        wsum += r->weights[k];
    /* Each weight's share first: weights as small as 1e-320 (the loader takes any > 0) lose
     * their digits when multiplied by a part first. No weight at all (score_check refuses it,
     * but rules built in code may skip the check) scores 0, not 0/0. */
    for (int k = 0; k < PART_COUNT; k++) {
        o.points[k] = wsum > 0.0 ? 100.0 * o.part[k] * (r->weights[k] / wsum) : 0.0;
        o.total += o.points[k];
    }
    judge_critical(r, plan, s, &o);
    o.pass = n > 0 && !o.critical && o.total >= r->pass_mark;
    return o;
}

double score_hint_strength(const score_session *s, int hint_injections)
{
    if (hint_injections <= 0)
        return 0.0;
    int good = 0;
    for (int i = 0; i < s->n_inj; i++)
        if (s->inj[i].verdict == VERDICT_INTRADERMAL && s->inj[i].tip_in_slice)
            good++;
    double k = 1.0 - (double)good / hint_injections;
    return k > 0.0 ? k : 0.0;
}
