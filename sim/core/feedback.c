/* feedback: the rules that turn score figures into sentences. Clinical reasons: tissue.md 4b
 * (no wheal means too deep; 30-45 deg, Mammucari 2011), tissue.md 6 (adverse events),
 * training.md 2.1 (Sites 2007 novice errors, critical items), the case report's steps
 * (shared/seed-case-report.txt). */
#include "feedback.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *feedback_severity_name(feedback_severity s)
{
    static const char *const k[FEEDBACK_SEVERITY_COUNT] = {"critical", "warning", "info", "good"};
    return (unsigned)s < FEEDBACK_SEVERITY_COUNT ? k[s] : "unknown";
}

typedef struct sink {
    feedback_item *out;
    int cap, n;
} sink;

static void add(sink *k, feedback_severity sev, const char *topic, int inj, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void add(sink *k, feedback_severity sev, const char *topic, int inj, const char *fmt, ...)
{
    if (k->n < k->cap) {
        feedback_item *it = &k->out[k->n];
        memset(it, 0, sizeof *it);
        it->severity = sev;
        it->injection = inj;
        snprintf(it->topic, sizeof it->topic, "%s", topic);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(it->message, sizeof it->message, fmt, ap);
        va_end(ap);
    }
    k->n++;
}

/* A step as a trainee says it: "sterile field", not the identifier. */
static const char *step_words(score_step s)
{
    static const char *const k[STEP_COUNT] = {"positioning", "disinfection", "sterile field",
                                              "initial assessment", "guided injection",
                                              "spread check", "dressing"};
    return (unsigned)s < STEP_COUNT ? k[s] : "a step";
}

static const char *critical_words(score_critical_item c)
{
    static const char *const k[CRITICAL_COUNT] = {"asepsis", "initial assessment",
                                                  "planned points", "intravascular injection",
                                                  "injection outside the dermis"};
    return (unsigned)c < CRITICAL_COUNT ? k[c] : "an item";
}

/* Why each critical item matters and what to do, after the item's own reason. */
static const char *critical_advice(score_critical_item c)
{
    switch (c) {
    case CRITICAL_ASEPSIS:
        /* tissue.md 6: mycobacterial infections after mesotherapy, 423 patients, scarring. */
        return "Without disinfection and a sterile field the needle carries skin flora in: "
               "mesotherapy infections scar. Disinfect, check the skin for lesions and lay the "
               "sterile field before the needle touches the skin.";
    case CRITICAL_ASSESSMENT:
        return "The first scan measures the dermis you aim for; without it the depth of every "
               "injection is a guess. Scan first and mark the top and bottom of the dermis.";
    case CRITICAL_PLAN_POINTS:
        return "A planned point left out is skin left untreated. Inject every point of the "
               "plan.";
    case CRITICAL_INTRAVASCULAR:
        return "Drug in a vessel goes to the whole body instead of the skin, and a particulate "
               "or gas bolus can embolise. Find the vessels (dark round lumens) in the image "
               "before you enter and keep the tip away from them.";
    case CRITICAL_OUTSIDE_DERMIS:
        /* Mantoux and Barbaud 2020 (tissue.md 4b): no wheal means too deep. */
        return "A deposit outside the dermis misses the target layer and raises no wheal. Stop "
               "the tip in the dermis before you inject.";
    default: return "";
    }
}

/* An event of this kind at the injection's own tip (a multi-injector head's other needles
 * raise theirs at their own tips). */
static bool has_adverse(const score_session *m, int inj, score_adverse kind)
{
    const double *tip = m->inj[inj].tip_mm;
    for (int i = 0; i < m->n_events; i++) {
        const score_event *e = &m->events[i];
        if (e->injection == inj && e->kind == kind && e->p_mm[0] == tip[0] && e->p_mm[1] == tip[1] &&
            e->p_mm[2] == tip[2])
            return true;
    }
    return false;
}

static const char *count_words(int c)
{
    static const char *const k[] = {"none", "one", "two", "three", "four", "five"};
    return c >= 0 && c <= 5 ? k[c] : "several";
}

/* A multi-injector head's needles one by one: how far their depths spread and which left the
 * dermis, in words ("two were epidermal and one subcutaneous (needles 1, 2 and 5)"). */
static void head_item(sink *k, const score_rules *rules, const score_injection *j, int i)
{
    double sd, range;
    if (!score_head_spread(j, &sd, &range))
        return;
    static const char *const where[VERDICT_COUNT] = {"not through the skin", "epidermal", "intradermal",
                                                     "subcutaneous", "in the muscle", "in a vessel"};
    int per[VERDICT_COUNT] = {0};
    for (int q = 0; q < j->n_needles; q++)
        per[j->needles[q].verdict]++;
    int off = j->n_needles - per[VERDICT_INTRADERMAL];
    if (off == 0) {
        /* In the dermis, but spread as wide as the depth consistency tolerates across a whole
         * session: the drug still lies at uneven depths. */
        double lo = 1e9;
        for (int q = 0; q < j->n_needles; q++)
            lo = fmin(lo, j->needles[q].tip_depth_mm);
        if (sd < 0.5 * rules->depth_sd_tol_mm)
            add(k, FEEDBACK_GOOD, "uniformity", i,
                "Injection %d: the %d-needle head's tips spread over %.1f mm of depth and all "
                "stayed in the dermis.", i + 1, j->n_needles, range);
        else
            add(k, FEEDBACK_INFO, "uniformity", i,
                "Injection %d: the %d-needle head's tips all stayed in the dermis, but spread over "
                "%.1f mm of depth (%.1f to %.1f mm below the skin), so the drug lies unevenly. On "
                "curved skin a single needle puts every point at the same depth.",
                i + 1, j->n_needles, range, lo, lo + range);
        return;
    }
    char what[160] = "", which[64] = "";
    size_t w = 0, h = 0;
    int listed = 0, kinds = 0;
    for (int v = 0; v < VERDICT_COUNT; v++)
        kinds += v != VERDICT_INTRADERMAL && per[v] > 0;
    for (int v = 0; v < VERDICT_COUNT; v++) {
        if (v == VERDICT_INTRADERMAL || per[v] == 0)
            continue;
        listed++;
        w += (size_t)snprintf(what + w, sizeof what - w, "%s%s%s %s",
                              listed == 1 ? "" : listed == kinds ? " and " : ", ", count_words(per[v]),
                              listed == 1 ? (per[v] == 1 ? " was" : " were") : "", where[v]);
        if (w >= sizeof what)
            w = sizeof what - 1;
    }
    int named = 0;
    for (int q = 0; q < j->n_needles; q++) {
        if (j->needles[q].verdict == VERDICT_INTRADERMAL)
            continue;
        named++;
        h += (size_t)snprintf(which + h, sizeof which - h, "%s%d",
                              named == 1 ? "" : named == off ? " and " : ", ", q + 1);
        if (h >= sizeof which)
            h = sizeof which - 1;
    }
    add(k, FEEDBACK_WARNING, "uniformity", i,
        "Injection %d: the %d-needle head's tips spread over %.1f mm of depth on the curved skin: "
        "%s (needle%s %s from one end), %s intradermal. A rigid head cannot follow a curve, so "
        "its needles cannot all reach the dermis: on a prominence or a fold use a single "
        "needle, each point at its own depth.",
        i + 1, j->n_needles, range, what, off == 1 ? "" : "s", which, count_words(per[VERDICT_INTRADERMAL]));
}

static void injection_items(sink *k, const score_rules *rules, const score_plan *plan,
                            const score_session *m, int i)
{
    const score_injection *j = &m->inj[i];
    int n = i + 1;
    double tol = rules->critical.outside_dermis_tol_mm;
    double angle = plan->angle_deg;
    switch (j->verdict) {
    case VERDICT_OUTSIDE:
        add(k, FEEDBACK_WARNING, "placement", i,
            "Injection %d: the needle was not through the skin, so the drug ran onto the "
            "surface. Advance until the skin gives way (the pop) before you inject.", n);
        break;
    case VERDICT_EPIDERMAL:
        add(k, -j->margin_mm > tol ? FEEDBACK_CRITICAL : FEEDBACK_WARNING, "placement", i,
            "Injection %d: tip %.1f mm above the dermis, in the epidermis: the drug leaks back "
            "out and, with a steroid, a deposit this shallow risks atrophy and "
            "hypopigmentation. Advance about 1 mm more at %.0f degrees, past the pop into the "
            "dermis.", n, -j->margin_mm, angle);
        break;
    case VERDICT_SUBCUTANEOUS:
    case VERDICT_INTRAMUSCULAR:
        add(k, -j->margin_mm > tol ? FEEDBACK_CRITICAL : FEEDBACK_WARNING, "placement", i,
            "Injection %d: tip %.1f mm below the dermis, in the %s: the drug misses its target "
            "and no wheal forms. Aim shallower: at %.0f degrees, stop about 1 mm after the pop "
            "into the dermis.", n, -j->margin_mm,
            j->verdict == VERDICT_INTRAMUSCULAR ? "muscle" : "fat", angle);
        break;
    case VERDICT_INTRAVASCULAR:
        add(k, rules->critical.intravascular ? FEEDBACK_CRITICAL : FEEDBACK_WARNING,
            "placement", i,
            "Injection %d: tip in the lumen of a vessel %.1f mm below the skin: the drug went "
            "into the blood. Look for the dark round vessel in the image and pull back or "
            "redirect before you press the plunger.", n, j->tip_depth_mm);
        break;
    case VERDICT_INTRADERMAL:
        if (has_adverse(m, i, ADVERSE_TOO_SUPERFICIAL))
            /* tissue.md 6: steroid deposits too superficial cause hypopigmentation. */
            add(k, FEEDBACK_WARNING, "placement", i,
                "Injection %d: intradermal but only %.2f mm below the top of the dermis "
                "(at least %.1f mm wanted): with a steroid a deposit this shallow risks atrophy and "
                "hypopigmentation. Aim for the middle of the dermis.", n, j->margin_mm,
                rules->superficial_margin_mm);
        else if (j->wheal)
            add(k, FEEDBACK_GOOD, "placement", i,
                "Injection %d: intradermal, %.1f mm below the skin and %.1f mm inside the "
                "dermis; a wheal %.1f mm across rose.", n, j->tip_depth_mm, j->margin_mm,
                j->bleb_mm);
        else
            add(k, FEEDBACK_GOOD, "placement", i,
                "Injection %d: intradermal, %.1f mm below the skin and %.1f mm inside the "
                "dermis.", n, j->tip_depth_mm, j->margin_mm);
        break;
    default: break;
    }
    head_item(k, rules, j, i);
    if (j->verdict == VERDICT_OUTSIDE)
        return;
    /* Sites 2007 (training.md 2.1): not seeing the needle is the commonest novice error. */
    if (!j->tip_in_slice)
        add(k, FEEDBACK_WARNING, "visibility", i,
            "Injection %d: the tip was %.1f mm from the image plane, where its echo no longer "
            "shows (it shows within %.1f mm): you injected without seeing the tip. Slide or "
            "tilt the probe until the tip's bright dot is in the image, then inject.", n,
            j->tip_to_plane_mm, j->slice_half_mm);
    if (j->done && !j->spread_seen)
        add(k, FEEDBACK_INFO, "spread", i,
            "Injection %d: the deposit was not in the image when the injection ended: watch "
            "the spread as you inject, a misplaced deposit is seen only then.", n);
}

int feedback_generate(const score_rules *rules, const score_plan *plan, const score_session *m,
                      const score_result *r, feedback_item *out, int cap)
{
    sink k = {out, cap, 0};
    /* The verdict first. */
    int failed = 0;
    char names[200] = "";
    size_t used = 0;
    for (int c = 0; c < CRITICAL_COUNT; c++) {
        if (r->critical_ok[c])
            continue;
        failed++;
        used += (size_t)snprintf(names + used, used < sizeof names ? sizeof names - used : 0,
                                 "%s%s", failed > 1 ? ", " : "",
                                 critical_words((score_critical_item)c));
        if (used >= sizeof names)
            used = sizeof names;
    }
    if (r->pass)
        add(&k, FEEDBACK_GOOD, "result", -1, "Passed: %.1f of 100 (pass mark %.0f), every "
            "critical item held.", r->total, rules->pass_mark);
    else if (failed)
        add(&k, FEEDBACK_CRITICAL, "result", -1, "Failed: %d critical item%s failed (%s), which "
            "fails the session whatever the total (%.1f of 100).", failed, failed == 1 ? "" : "s",
            names, r->total);
    else
        add(&k, FEEDBACK_WARNING, "result", -1, "Failed: %.1f of 100, below the pass mark %.0f.",
            r->total, rules->pass_mark);
    if (m->n_inj == 0)
        add(&k, FEEDBACK_WARNING, "result", -1, "No injection was made: with nothing to judge, "
            "placement, view, safety and technique score 0.");
    for (int c = 0; c < CRITICAL_COUNT; c++)
        if (!r->critical_ok[c])
            add(&k, FEEDBACK_CRITICAL, score_critical_name((score_critical_item)c), -1,
                "%c%s: %s. %s", toupper((unsigned char)critical_words((score_critical_item)c)[0]),
                critical_words((score_critical_item)c) + 1, r->critical_reason[c],
                critical_advice((score_critical_item)c));
    /* Adverse events that are not an injection's own verdict: the vessels punctured. */
    for (int e = 0; e < m->n_events; e++) {
        const score_event *ev = &m->events[e];
        if (ev->kind != ADVERSE_HAEMATOMA)
            continue;
        /* tissue.md 6: bruising and haematoma from the dermal-fat plexus and septal vessels. */
        add(&k, FEEDBACK_WARNING, "vessel", ev->injection,
            "Punctured %s at %.1f mm below the skin (at %.0f s): a haematoma grows there. Scan "
            "the vessels before you choose the entry and steer the needle around them.",
            ev->vein ? "a vein" : "an artery", ev->depth_mm, ev->t_s);
    }
    /* Steps of the case report: skipped, then out of order. */
    char list[240];
    used = 0;
    int skipped = 0, required = 0;
    list[0] = '\0';
    for (int s = 0; s < STEP_COUNT; s++)
        required += (rules->required_steps >> s) & 1u;
    for (int s = 0; s < STEP_COUNT; s++)
        if (!m->step_done[s] && ((rules->required_steps >> s) & 1u)) {
            used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
                                     "%s%s", skipped++ ? ", " : "", step_words((score_step)s));
            if (used >= sizeof list)
                used = sizeof list;
        }
    if (skipped)
        add(&k, FEEDBACK_WARNING, "steps", -1,
            "%d of the %d steps of the procedure not done: %s. Each protects the patient or "
            "checks the result; follow the case report's order every time.", skipped,
            required, list);
    used = 0;
    int late = 0;
    list[0] = '\0';
    for (int s = 0; s < STEP_COUNT; s++)
        if (m->step_done[s] && !r->step_in_order[s]) {
            used += (size_t)snprintf(list + used, used < sizeof list ? sizeof list - used : 0,
                                     "%s%s (at %.0f s)", late++ ? ", " : "",
                                     step_words((score_step)s), m->step_t_s[s]);
            if (used >= sizeof list)
                used = sizeof list;
        }
    if (late)
        add(&k, FEEDBACK_WARNING, "steps", -1,
            "%d step%s done out of order: %s. The order is positioning, disinfection, sterile "
            "field, assessment, guided injection, spread check, dressing.", late,
            late == 1 ? "" : "s", list);
    if (m->redirects_without_retract > 0)
        add(&k, FEEDBACK_WARNING, "redirect", -1,
            "%d redirect%s with more than half the needle in and no retraction first: pivoting "
            "a deep needle bends it and its shaft cuts through the tissue. Pull back to just "
            "under the skin, then change the angle.", m->redirects_without_retract,
            m->redirects_without_retract == 1 ? "" : "s");
    if (m->marked) {
        bool good = r->assessment_error_mm <= 0.5 * rules->assessment_tol_mm;
        add(&k, good ? FEEDBACK_GOOD : FEEDBACK_INFO, "assessment", -1,
            "Dermis marked %.2f mm from the true boundaries on average (%.2f mm scores 0)%s",
            r->assessment_error_mm, rules->assessment_tol_mm,
            good ? "." : ": read the entry echo and the dermis-fat boundary again, where the "
                         "bright dermis gives way to the darker fat.");
    }
    if (rules->require_doppler_check) {
        bool all = r->doppler_checked >= r->doppler_required;
        if (plan->n_points > 0)
            add(&k, all ? FEEDBACK_GOOD : FEEDBACK_WARNING, "assessment", -1,
                "Doppler check: %d of %d planned points looked at with colour or power Doppler "
                "before the first needle entry%s", r->doppler_checked, r->doppler_required,
                all ? "." : ". A perforator in the fat under a point is dark on B-mode and shows "
                            "only in Doppler: put the box over each point (down to the fat) before "
                            "needling, without pressing (veins collapse).");
        else
            add(&k, all ? FEEDBACK_GOOD : FEEDBACK_WARNING, "assessment", -1, "%s",
                all ? "Doppler check done before the first needle entry."
                    : "No Doppler check before the first needle entry: look for vessels with "
                      "colour or power Doppler where you will inject, without pressing.");
    }
    for (int i = 0; i < m->n_inj; i++)
        injection_items(&k, rules, plan, m, i);
    return k.n;
}
