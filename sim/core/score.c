/* score: parts, weights and the pass rule. Every figure is a function of score_session. */
#include "score.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const k_verdicts[VERDICT_COUNT] = {"outside", "epidermal", "intradermal",
                                                      "subcutaneous", "intramuscular",
                                                      "intravascular"};
static const char *const k_steps[STEP_COUNT] = {"positioning", "disinfection", "sterile_field",
                                                "assessment", "injection", "spread_check",
                                                "dressing"};
static const char *const k_parts[PART_COUNT] = {"placement", "visibility", "safety",
                                                "procedure", "assessment", "technique"};

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
    case TISSUE_MUSCLE: return VERDICT_INTRAMUSCULAR;
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

/* Grows an array of elem-sized items to hold one more; doubling keeps appends O(1). */
static bool grow(void **items, int *cap, int need, size_t elem)
{
    if (need <= *cap)
        return true;
    int c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *p = realloc(*items, (size_t)c * elem);
    if (!p)
        return false;
    *items = p;
    *cap = c;
    return true;
}

score_injection *score_session_add_injection(score_session *s)
{
    if (!grow((void **)&s->inj, &s->cap_inj, s->n_inj + 1, sizeof *s->inj))
        return NULL;
    score_injection *j = &s->inj[s->n_inj++];
    memset(j, 0, sizeof *j);
    return j;
}

score_event *score_session_add_event(score_session *s)
{
    if (!grow((void **)&s->events, &s->cap_events, s->n_events + 1, sizeof *s->events))
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
    if (!grow((void **)&dst->inj, &dst->cap_inj, src->n_inj, sizeof *src->inj) ||
        !grow((void **)&dst->events, &dst->cap_events, src->n_events, sizeof *src->events)) {
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
        place += 0.5 * (j->verdict == VERDICT_INTRADERMAL) + 0.5 * j->dermis_fraction;
        visible += j->tip_in_slice;
        dsum += j->tip_depth_mm;
        dsq += j->tip_depth_mm * j->tip_depth_mm;
        if (j->verdict == VERDICT_INTRAVASCULAR)
            o.critical = true;
    }
    o.part[PART_PLACEMENT] = n ? place / n : 0.0;
    o.part[PART_VISIBILITY] = n ? (double)visible / n : 0.0;

    /* Safety: each adverse event takes a share; a bleed or an intravascular dose counts
     * double a misplaced deposit. */
    double harm = 0.0;
    for (int i = 0; i < s->n_events; i++)
        harm += score_adverse_harm(s->events[i].kind);
    o.part[PART_SAFETY] = clamp01(1.0 - harm);

    /* Procedure: a step done counts 1 when every earlier step was done before it, else 0.5. */
    double proc = 0.0;
    for (int k = 0; k < STEP_COUNT; k++) {
        if (!s->step_done[k])
            continue;
        bool order = true;
        for (int e = 0; e < k; e++)
            if (!s->step_done[e] || s->step_t_s[e] > s->step_t_s[k])
                order = false;
        for (int e = k + 1; e < STEP_COUNT; e++)
            if (s->step_done[e] && s->step_t_s[e] < s->step_t_s[k])
                order = false;
        o.step_in_order[k] = order;
        proc += order ? 1.0 : 0.5;
    }
    o.part[PART_PROCEDURE] = proc / STEP_COUNT;

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

    /* Technique: the mean of passes (one per injection is ideal), redirects, time, depth
     * consistency and spacing. */
    o.passes_score = n ? clamp01((double)n / (s->passes > n ? s->passes : n)) : 0.0;
    o.redirect_score = clamp01(1.0 - 0.25 * s->redirects / (n > 0 ? n : 1));
    o.time_score = s->time_s <= r->time_limit_s
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
    o.part[PART_TECHNIQUE] = (o.passes_score + o.redirect_score + o.time_score + o.depth_score +
                              o.spacing_score) / 5.0;

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
