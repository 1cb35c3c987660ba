/* score: verdicts per injection, session metrics and the weighted total, from world state.
 *
 * The session (session.h) fills one score_injection per injection with what was true when
 * the plunger moved (tip layer, depth, margin, slice) and where the drug went, and the
 * session-wide counts (passes, redirects, steps, marks). score_compute turns those into parts
 * in 0..1, weights them to a total 0..100, judges the critical items (each must hold to pass,
 * whatever the total) and applies the pass mark. Rules and thresholds
 * come from the scenario's "plan" and "scoring" sections (defaults below, sources in score.c
 * and docs/scoring.md). Plain data, no allocation. */
#ifndef MESOSIM_SCORE_H
#define MESOSIM_SCORE_H

#include <stdbool.h>
#include <stdint.h>

#include "tissue.h"

#define SCORE_MAX_PLAN_POINTS 16

typedef enum score_verdict {
    VERDICT_OUTSIDE = 0, /* tip not in the skin: the drug ran onto the surface */
    VERDICT_EPIDERMAL,
    VERDICT_INTRADERMAL,
    VERDICT_SUBCUTANEOUS,
    VERDICT_INTRAMUSCULAR,
    VERDICT_INTRAVASCULAR,
    VERDICT_COUNT
} score_verdict;

const char *score_verdict_name(score_verdict v);
/* Verdict for the tissue at the tip (vessel lumen: intravascular). */
score_verdict score_verdict_of(tissue_id t);

/* The procedure steps of the case report, in order. */
typedef enum score_step {
    STEP_POSITIONING = 0,
    STEP_DISINFECTION,   /* with the skin checked for lesions */
    STEP_STERILE_FIELD,
    STEP_ASSESSMENT,     /* initial ultrasound assessment: mark_dermis */
    STEP_INJECTION,      /* out-of-plane guided injection with the tip in view */
    STEP_SPREAD_CHECK,   /* the spread seen in the image when an injection ends */
    STEP_DRESSING,
    STEP_COUNT
} score_step;

const char *score_step_name(score_step s);

typedef enum score_part {
    PART_PLACEMENT = 0, /* intradermal verdicts and dermis fraction */
    PART_VISIBILITY,    /* tip inside the slice when injecting */
    PART_SAFETY,        /* adverse events */
    PART_PROCEDURE,     /* the case report's steps, in order */
    PART_ASSESSMENT,    /* marked dermis boundaries against the truth */
    PART_TECHNIQUE,     /* passes, redirects, time, depth consistency, spacing */
    PART_COUNT
} score_part;

const char *score_part_name(score_part p);

typedef struct score_plan {
    double points_mm[SCORE_MAX_PLAN_POINTS][2]; /* planned injection points (x, y) */
    int n_points;
    double spacing_mm;   /* wanted distance between neighbouring injections */
    double angle_deg;    /* recommended needle angle (shown, not scored) */
} score_plan;

/* Critical items: a session passes only when every one that is on holds, whatever the total
 * (proficiency-based progression classes some errors as critical, training.md 2.1: "the
 * participant needed to complete all critical actions to pass"). */
typedef enum score_critical_item {
    CRITICAL_ASEPSIS = 0,     /* disinfection with the skin check and the sterile field before
                                 the first needle entry */
    CRITICAL_ASSESSMENT,      /* the initial assessment (mark_dermis) before the first entry */
    CRITICAL_PLAN_POINTS,     /* every planned point injected, or the scenario's minimum */
    CRITICAL_INTRAVASCULAR,   /* no injection into a vessel's lumen */
    CRITICAL_OUTSIDE_DERMIS,  /* no injection further than a tolerance outside the dermis */
    CRITICAL_COUNT
} score_critical_item;

/* "asepsis", "assessment", "plan_points", "intravascular", "outside_dermis". */
const char *score_critical_name(score_critical_item c);

typedef struct score_critical_rules {
    int asepsis;                 /* 1: the item is judged, 0: off */
    int assessment;              /* 1: judged, 0: off */
    int intravascular;           /* 1: judged, 0: off */
    int min_points;              /* 0: every plan point; N: at least N of them (without plan
                                    points: at least N injections, and at least 1 always) */
    double point_tol_mm;         /* a plan point is injected when a tip in the skin came this
                                    close to it on the skin */
    double outside_dermis_tol_mm;/* margin_mm below -tol fails (tol 20: off) */
} score_critical_rules;

typedef struct score_rules {
    double weights[PART_COUNT];
    double pass_mark;            /* 0..100 */
    double assessment_tol_mm;    /* mean mark error that scores 0 */
    double depth_sd_tol_mm;      /* depth SD across points that scores 0 */
    double spacing_tol_mm;       /* mean plan point distance that scores 0 */
    double time_limit_s;         /* beyond it the time score falls, 0 at twice it */
    double superficial_margin_mm;/* intradermal with less margin than this to the top:
                                    too superficial (steroid atrophy risk) */
    double undo_window_s;        /* undo_step takes back a tick at most this old */
    score_critical_rules critical;
    bool measure_dermis;         /* the assessment is the caliper measurement of the dermis
                                    thickness at the probe centre, not the marks */
    bool require_doppler_check;  /* half the assessment is looking for vessels with colour or
                                    power Doppler over each planned point before needling */
    uint32_t required_steps;     /* bit (1 << score_step) per step the case asks for (default
                                    all): the procedure part counts only these, and a step left
                                    out (a tutorial without the sterile field) is no critical
                                    item either */
} score_rules;

/* All the steps, the default of score_rules.required_steps. */
#define SCORE_ALL_STEPS ((1u << STEP_COUNT) - 1u)

score_plan score_default_plan(void);
score_rules score_default_rules(void);
/* NULL when valid, else a static message naming the bad field. */
const char *score_check(const score_rules *r);

/* One needle of a multi-injector head at an injection (needle.count > 1). */
typedef struct score_needle {
    double tip_mm[3];
    double tip_depth_mm;      /* below its own skin */
    double margin_mm;         /* to the nearest dermis boundary, as the injection's */
    score_verdict verdict;
    tissue_id tissue;         /* at the tip */
    double dermis_fraction;   /* of its share, volume / count */
} score_needle;

#define SCORE_MAX_NEEDLES 5

typedef struct score_injection {
    double t_s, end_s;
    double volume_ml;
    int drug;                 /* drug_kind */
    score_verdict verdict;
    tissue_id tissue;
    int layer;
    double tip_mm[3];         /* tissue coordinates */
    double tip_depth_mm;      /* below the local skin surface */
    double margin_mm;         /* to the nearest dermis boundary: > 0 inside, < 0 outside */
    bool tip_in_slice;
    double tip_to_plane_mm;
    double slice_half_mm;     /* the tip's echo shows within this distance of the plane */
    bool out_of_plane;        /* needle axis crossing the image plane (> 45 deg to it) */
    double dermis_fraction;
    bool wheal;
    double bleb_mm;
    bool vessel_punctured;    /* on this pass */
    bool spread_seen;         /* deposit inside the slice when the injection ended */
    bool done;                /* delivery finished */
    int n_needles;            /* 0: a single needle; else the head's, from one side */
    score_needle needles[SCORE_MAX_NEEDLES];
} score_injection;

/* Depth uniformity of a multi-injector head at one injection: the sample SD and the range
 * (deepest less shallowest) of its needles' tip depths below their own skin, mm. False (and
 * both 0) for a single needle. The case report: multi-injectors "may fail to ensure uniform
 * needle depth" (seed-case-report.txt). */
bool score_head_spread(const score_injection *j, double *sd_mm, double *range_mm);

/* Adverse events: what harmed, or would harm, the patient. The report writes their names. */
typedef enum score_adverse {
    ADVERSE_HAEMATOMA = 0,    /* a vessel punctured: a bleed grows */
    ADVERSE_INTRAVASCULAR,    /* the drug went into a vessel */
    ADVERSE_TOO_SUPERFICIAL,  /* epidermal, or intradermal with too little margin to the top */
    ADVERSE_TOO_DEEP,         /* subcutaneous or intramuscular: the drug missed the dermis */
    ADVERSE_COUNT
} score_adverse;

/* "haematoma", "intravascular", "too_superficial", "too_deep". */
const char *score_adverse_name(score_adverse k);
/* Share of the safety part one event of this kind takes. */
double score_adverse_harm(score_adverse k);

typedef struct score_event {
    double t_s;
    score_adverse kind;
    double p_mm[3];
    int injection;            /* index or -1 */
    double depth_mm;          /* below the local skin surface */
    bool vein;                /* haematoma: the vessel was a vein (else an artery) */
} score_event;

/* Session figures. inj and events grow with the session (the session owns them); a copy
 * made with score_session_copy owns its own arrays (score_session_free). */
typedef struct score_session {
    score_injection *inj;
    int n_inj, cap_inj;
    score_event *events;
    int n_events, cap_events;
    int passes, redirects, pops, hub_stops, vessel_punctures;
    int redirects_without_retract; /* pivots with the tip deep and no retract since the advance */
    bool entered;                  /* a needle_entry happened; first_entry_t_s its time */
    double first_entry_t_s;
    double time_s;
    bool step_done[STEP_COUNT];
    double step_t_s[STEP_COUNT];
    bool skin_checked;
    bool marked;
    double mark_top_mm, mark_bottom_mm, true_top_mm, true_bottom_mm;
    bool measured;                /* a caliper measurement was taken (the last one counts) */
    double measured_mm, true_thickness_mm; /* it, and the dermis thickness under the probe then */
    bool doppler_before_entry;    /* Doppler was on before the first needle entry */
    uint32_t doppler_points;      /* plan points (bit each) under the Doppler box before it */
} score_session;

typedef struct score_result {
    double part[PART_COUNT];      /* 0..1 */
    double points[PART_COUNT];    /* part * weight, scaled so the weights sum to 100 */
    double total;                 /* 0..100 */
    bool pass;                    /* every critical item holds and total >= pass_mark */
    bool critical;                /* some critical item failed: fails whatever the total */
    bool critical_on[CRITICAL_COUNT];
    bool critical_ok[CRITICAL_COUNT];     /* true also for an item that is off */
    char critical_reason[CRITICAL_COUNT][200]; /* plain words, with the numbers */
    int points_injected, points_required; /* CRITICAL_PLAN_POINTS's figures */
    bool step_in_order[STEP_COUNT];
    double depth_mean_mm, depth_sd_mm;
    double spacing_error_mm;      /* mean distance from plan points (or spacing) */
    double assessment_error_mm;
    int doppler_checked, doppler_required; /* require_doppler_check: plan points (or 1 without
                                              a plan) looked at with Doppler before needling */
    double time_score, passes_score, redirect_score, depth_score, spacing_score;
    /* Multi-injector heads (score_head_spread per injection; all 0 without one): how many
     * injections had a head, the mean and largest of their depth SDs and ranges, and the
     * uniformity term of technique, 1 - mean SD / depth_sd_tol_mm. */
    int head_injections;
    double head_sd_mean_mm, head_sd_max_mm, head_range_mean_mm, head_range_max_mm;
    double uniformity_score;
} score_result;

/* Deep copy of src into dst (dst's old arrays are reused or freed). False when out of memory
 * (dst then holds no injections or events). */
bool score_session_copy(score_session *dst, const score_session *src);
void score_session_free(score_session *s);
/* Appends one zeroed injection / event; NULL when out of memory. */
score_injection *score_session_add_injection(score_session *s);
score_event *score_session_add_event(score_session *s);

score_result score_compute(const score_rules *r, const score_plan *plan, const score_session *s);

/* How strongly guidance hints show (0..1): 1 before the first good injection (intradermal,
 * tip in view), less by 1/hint_injections after each, 0 from the hint_injections-th on, and
 * always 0 when hint_injections is 0 (hints off). */
double score_hint_strength(const score_session *s, int hint_injections);

#endif
