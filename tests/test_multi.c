/* The multi-injector head (needle_head_place): on a bony prominence the needles of a rigid
 * 5-needle line meet the skin at different heights, so their tips lie at different depths
 * below their own skin and the outer ones leave the dermis, where a single needle placed at
 * each point would not. Each needle's depth and verdict are checked against the geometry:
 * the prominence's Gaussian profile (docs/scenarios.md, phantom.surface) and the layer tops
 * under each tip (phantom_interfaces). The single-needle head gives the depth sin(angle) x
 * inserted length. The spacing (4 mm) is an assumption: no source gives a multi-injector's
 * (training.md 4). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "needle.h"
#include "session.h"
#include "scenario.h"
#include "score.h"

#define HEIGHT_MM 1.5
#define WIDTH_MM 4.0
#define SPACING_MM 4.0
#define ANGLE_DEG 30.0

/* The adult back with no vessels, flat layers and one bony prominence at the origin. */
static scenario prominence_case(void)
{
    scenario s;
    scenario_diags d = {0};
    assert_true(scenario_load_file(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", &s, &d));
    scenario_diags_free(&d);
    s.phantom.n_vessels = 0;
    for (int k = 0; k < s.phantom.n_layers; k++)
        s.phantom.layers[k].variation = 0.0;
    s.phantom.n_features = 1;
    s.phantom.features[0] = (phantom_feature_def){PHANTOM_PROMINENCE, 0.0, 0.0, HEIGHT_MM, WIDTH_MM, 0.0};
    return s;
}

static phantom *prominence_back(void)
{
    scenario s = prominence_case();
    char err[256];
    phantom *ph = phantom_create(&s.phantom, err, sizeof err);
    if (!ph)
        print_error("%s\n", err);
    assert_non_null(ph);
    return ph;
}

/* The verdict of a tip from the layer tops under it. */
static score_verdict verdict_from_layers(const phantom *ph, const double tip[3])
{
    double h[PHANTOM_MAX_LAYERS];
    int n = phantom_interfaces(ph, tip[0], tip[1], 0.0, h);
    if (tip[2] < h[0])
        return VERDICT_OUTSIDE;
    int layer = n - 1;
    for (int i = 0; i + 1 < n; i++)
        if (tip[2] < h[i + 1]) {
            layer = i;
            break;
        }
    return score_verdict_of(phantom_get_def(ph)->layers[layer].tissue);
}

static void test_five_needles_on_a_prominence(void **state)
{
    (void)state;
    phantom *ph = prominence_back();
    /* Aimed at mid-dermis (1.31 mm, the adult back's) at the apex. */
    double inserted = 1.31 / sin(ANGLE_DEG * 3.14159265358979323846 / 180.0);
    needle_head_tip tips[NEEDLE_HEAD_MAX];
    char err[256];
    assert_int_equal(needle_head_place(ph, 0.0, 5, SPACING_MM, 0.0, 0.0, ANGLE_DEG, 90.0, inserted, tips, err, sizeof err), 5);
    double dmin = 1e9, dmax = -1e9;
    int intradermal = 0;
    for (int k = 0; k < 5; k++) {
        const needle_head_tip *t = &tips[k];
        /* Geometry: the tips lie level with the middle one (a rigid head, the apex's normal
         * vertical), so each depth is the middle's less how far its skin lies lower. */
        double x = t->tip_mm[0], y = t->tip_mm[1];
        double drop = HEIGHT_MM * (1.0 - exp(-(x * x + y * y) / (2.0 * WIDTH_MM * WIDTH_MM)));
        double expect = 1.31 - drop;
        score_verdict v = score_verdict_of(t->at.tissue), vg = verdict_from_layers(ph, t->tip_mm);
        print_message("needle %d at %+.0f mm: tip %.3f mm below its skin (geometry %.3f), %s the skin, %s\n", k,
                      t->offset_mm, t->depth_mm, expect, t->inserted_mm > 0 ? "in" : "not in",
                      score_verdict_name(v));
        assert_float_equal(t->depth_mm, expect, 0.02);
        assert_int_equal(v, vg);
        intradermal += v == VERDICT_INTRADERMAL;
        dmin = fmin(dmin, t->depth_mm);
        dmax = fmax(dmax, t->depth_mm);
    }
    /* The middle three stay in the dermis; the outer two, 8 mm out where the skin lies
     * 1.30 mm lower, do not. */
    assert_int_equal(score_verdict_of(tips[2].at.tissue), VERDICT_INTRADERMAL);
    assert_int_equal(intradermal, 3);
    assert_true(score_verdict_of(tips[0].at.tissue) != VERDICT_INTRADERMAL);
    print_message("5-needle head, %.0f mm apart, on a %.1f mm prominence: depth spread %.2f mm\n", SPACING_MM,
                  HEIGHT_MM, dmax - dmin);
    assert_true(dmax - dmin > 1.0);

    /* A single needle placed at each of those points at the same angle and length: every one
     * 1.31 mm below its own skin, a spread of 0 (within the skin's slope). */
    double smin = 1e9, smax = -1e9;
    for (int k = 0; k < 5; k++) {
        needle_head_tip one;
        assert_int_equal(needle_head_place(ph, 0.0, 1, SPACING_MM, tips[k].offset_mm * -1.0, 0.0, ANGLE_DEG, 90.0,
                                           inserted, &one, err, sizeof err),
                         1);
        smin = fmin(smin, one.depth_mm);
        smax = fmax(smax, one.depth_mm);
        assert_int_equal(score_verdict_of(one.at.tissue), VERDICT_INTRADERMAL);
    }
    print_message("single needles at the same points: depth spread %.2f mm\n", smax - smin);
    assert_true(smax - smin < 0.35);
    phantom_destroy(ph);
}

static void test_bad_heads_are_refused_in_words(void **state)
{
    (void)state;
    phantom *ph = prominence_back();
    needle_head_tip tips[NEEDLE_HEAD_MAX];
    char err[256];
    assert_int_equal(needle_head_place(ph, 0.0, 6, 4.0, 0, 0, 30, 90, 2, tips, err, sizeof err), 0);
    assert_non_null(strstr(err, "1 to 5 needles"));
    assert_int_equal(needle_head_place(ph, 0.0, 3, 0.0, 0, 0, 30, 90, 2, tips, err, sizeof err), 0);
    assert_non_null(strstr(err, "spacing"));
    assert_int_equal(needle_head_place(ph, 0.0, 3, 4.0, 0, 0, 0.5, 90, 2, tips, err, sizeof err), 0);
    assert_non_null(strstr(err, "angle"));
    assert_int_equal(needle_head_place(ph, 0.0, 3, 4.0, 0, 0, 30, 90, NAN, tips, err, sizeof err), 0);
    assert_non_null(strstr(err, "inserted"));
    phantom_destroy(ph);
}

/* A session with a 5-needle head on the prominence: each needle's verdict in the metrics is
 * the one the layer tops under its tip give. */
static void test_session_head_verdicts_match_geometry(void **state)
{
    (void)state;
    scenario s = prominence_case();
    s.needle.count = 5;
    char err[256];
    session *ses = session_create(&s, err, sizeof err);
    if (!ses)
        print_error("%s\n", err);
    assert_non_null(ses);
    const char *lines[] = {"{\"t\":1,\"do\":\"needle_entry\",\"x_mm\":0,\"y_mm\":0,\"angle_deg\":30,\"azimuth_deg\":90}",
                           "{\"t\":2,\"do\":\"advance\",\"mm\":3.2}", "{\"t\":3,\"do\":\"inject\",\"ml\":0.05}"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        action a;
        assert_true(action_parse_line(lines[i], strlen(lines[i]), -1, &a, err, sizeof err));
        if (!session_apply(ses, &a, err, sizeof err))
            print_error("%s\n", err);
    }
    const score_session *m = session_metrics(ses);
    assert_true(m->n_inj >= 1);
    const score_injection *j = &m->inj[0];
    assert_int_equal(j->n_needles, 5);
    phantom *ph = phantom_create(&s.phantom, err, sizeof err);
    assert_non_null(ph);
    int agree = 0;
    for (int k = 0; k < 5; k++) {
        const score_needle *q = &j->needles[k];
        print_message("session needle %d: %.3f mm, %s\n", k, q->tip_depth_mm, score_verdict_name(q->verdict));
        agree += q->verdict == VERDICT_OUTSIDE || q->verdict == verdict_from_layers(ph, q->tip_mm);
    }
    assert_int_equal(agree, 5);
    assert_true(fabs(j->needles[0].tip_depth_mm - j->needles[2].tip_depth_mm) > 0.5);
    phantom_destroy(ph);
    session_destroy(ses);
}

/* The scenario of test_session_head_verdicts_match_geometry with count needles, the same
 * entry, push and injection, run to the end. */
static session *head_session(int count)
{
    scenario s = prominence_case();
    s.needle.count = count;
    s.needle.spacing_mm = SPACING_MM;
    char err[256];
    session *ses = session_create(&s, err, sizeof err);
    if (!ses)
        print_error("%s\n", err);
    assert_non_null(ses);
    const char *lines[] = {"{\"t\":1,\"do\":\"needle_entry\",\"x_mm\":0,\"y_mm\":0,\"angle_deg\":30,\"azimuth_deg\":90}",
                           "{\"t\":2,\"do\":\"advance\",\"mm\":3.2}", "{\"t\":3,\"do\":\"inject\",\"ml\":0.05}",
                           "{\"t\":20,\"do\":\"end\"}"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        action a;
        assert_true(action_parse_line(lines[i], strlen(lines[i]), -1, &a, err, sizeof err));
        if (!session_apply(ses, &a, err, sizeof err))
            print_error("%s\n", err);
    }
    return ses;
}

/* Depth uniformity: the SD and range of the needles' depths, by hand against score_head_spread
 * and the report; the technique part's sixth term; the feedback in words. */
static void test_head_uniformity_scored(void **state)
{
    (void)state;
    session *ses = head_session(5);
    const score_injection *j = &session_metrics(ses)->inj[0];
    double sum = 0.0, lo = 1e9, hi = -1e9;
    for (int k = 0; k < 5; k++) {
        sum += j->needles[k].tip_depth_mm;
        lo = fmin(lo, j->needles[k].tip_depth_mm);
        hi = fmax(hi, j->needles[k].tip_depth_mm);
    }
    double ss = 0.0;
    for (int k = 0; k < 5; k++)
        ss += pow(j->needles[k].tip_depth_mm - sum / 5, 2);
    double sd_hand = sqrt(ss / 4), sd, range;
    assert_true(score_head_spread(j, &sd, &range));
    print_message("5-needle head on the %.1f mm prominence: depth SD %.3f mm, range %.3f mm\n", HEIGHT_MM, sd, range);
    assert_float_equal(sd, sd_hand, 1e-9);
    assert_float_equal(range, hi - lo, 1e-9);
    assert_true(range > 1.0);

    score_result r = session_score(ses);
    assert_int_equal(r.head_injections, 1);
    assert_float_equal(r.head_range_max_mm, range, 1e-9);
    double tol = session_scenario(ses)->scoring.depth_sd_tol_mm;
    assert_float_equal(r.uniformity_score, fmax(0.0, 1.0 - sd / tol), 1e-9);
    assert_float_equal(r.part[PART_TECHNIQUE],
                       (r.passes_score + r.redirect_score + r.time_score + r.depth_score + r.spacing_score +
                        r.uniformity_score) / 6.0,
                       1e-9);
    /* Placement needle by needle: the share intradermal and the mean dermis fraction. */
    double v = 0.0, f = 0.0;
    for (int k = 0; k < 5; k++) {
        v += j->needles[k].verdict == VERDICT_INTRADERMAL;
        f += j->needles[k].dermis_fraction;
    }
    assert_float_equal(r.part[PART_PLACEMENT], 0.5 * v / 5 + 0.5 * f / 5, 1e-9);

    char *rep = session_report_json(ses, NULL);
    assert_non_null(rep);
    char want[96];
    snprintf(want, sizeof want, "\"depth_range_mm\": %.6g", round(range * 1e6) / 1e6);
    assert_non_null(strstr(rep, "\"uniformity\""));
    assert_non_null(strstr(rep, want));
    const char *fb = strstr(rep, "the 5-needle head's tips spread over");
    if (!fb)
        print_error("%s\n", rep);
    assert_non_null(fb);
    assert_non_null(strstr(fb, "use a single needle"));
    /* The outer needles' too-shallow events are theirs: the middle one, 1.0 mm inside the
     * dermis, is not told it was too superficial. */
    assert_null(strstr(rep, "intradermal but only"));
    free(rep);
    session_destroy(ses);

    /* The single needle: no uniformity key, five technique terms, no head feedback. */
    ses = head_session(1);
    r = session_score(ses);
    assert_int_equal(r.head_injections, 0);
    assert_float_equal(r.part[PART_TECHNIQUE],
                       (r.passes_score + r.redirect_score + r.time_score + r.depth_score + r.spacing_score) / 5.0,
                       1e-9);
    rep = session_report_json(ses, NULL);
    assert_null(strstr(rep, "uniformity"));
    assert_null(strstr(rep, "head's tips"));
    free(rep);
    session_destroy(ses);
}

/* A head whose middle needle is intradermal but whose end needle is in a vessel's lumen doses
 * the vessel: the intravascular item fails and names that needle, as for a single needle. */
static void test_outer_needle_in_a_vessel_fails(void **state)
{
    (void)state;
    score_injection inj;
    memset(&inj, 0, sizeof inj);
    inj.verdict = VERDICT_INTRADERMAL;
    inj.tissue = TISSUE_DERMIS;
    inj.tip_depth_mm = 1.0;
    inj.margin_mm = 0.5;
    inj.volume_ml = 0.1;
    inj.n_needles = 5;
    for (int k = 0; k < 5; k++) {
        inj.needles[k].verdict = VERDICT_INTRADERMAL;
        inj.needles[k].tissue = TISSUE_DERMIS;
        inj.needles[k].tip_depth_mm = 1.0;
        inj.needles[k].margin_mm = 0.5;
        inj.needles[k].dermis_fraction = 1.0;
    }
    score_session ses;
    memset(&ses, 0, sizeof ses);
    ses.inj = &inj;
    ses.n_inj = 1;
    score_rules rules = score_default_rules();
    score_plan plan = score_default_plan();
    score_result ok = score_compute(&rules, &plan, &ses);
    assert_true(ok.critical_ok[CRITICAL_INTRAVASCULAR]);
    inj.needles[4].verdict = VERDICT_INTRAVASCULAR;
    inj.needles[4].tissue = TISSUE_BLOOD;
    inj.needles[4].tip_depth_mm = 1.8;
    score_result bad = score_compute(&rules, &plan, &ses);
    print_message("outer needle in a vessel: %s\n", bad.critical_reason[CRITICAL_INTRAVASCULAR]);
    assert_false(bad.critical_ok[CRITICAL_INTRAVASCULAR]);
    assert_false(bad.pass);
    assert_non_null(strstr(bad.critical_reason[CRITICAL_INTRAVASCULAR], "needle 5"));
    assert_non_null(strstr(bad.critical_reason[CRITICAL_INTRAVASCULAR], "1.8 mm"));
}

/* Each needle deposits its share at its own tip: a drug shape under every needle that is in the
 * skin, the dermis fraction of each share follows its own tip's tissue, and a needle too shallow
 * is an adverse event of its own. */
static void test_each_needle_has_its_deposit(void **state)
{
    (void)state;
    session *ses = head_session(5);
    const score_injection *j = &session_metrics(ses)->inj[0];
    int n = session_dynamic(ses, NULL, 0);
    phantom_inclusion *dyn = malloc((size_t)n * sizeof *dyn);
    assert_non_null(dyn);
    assert_int_equal(session_dynamic(ses, dyn, n), n);
    double fsum = 0.0;
    for (int k = 0; k < 5; k++) {
        const score_needle *q = &j->needles[k];
        int under = 0;
        for (int i = 0; i < n; i++)
            under += dyn[i].kind == PHANTOM_ELLIPSOID && fabs(dyn[i].c_mm[0] - q->tip_mm[0]) < 0.5 &&
                     fabs(dyn[i].c_mm[1] - q->tip_mm[1]) < 1.5;
        print_message("needle %d (%s): %d drug shapes at its tip, dermis fraction %.2f\n", k,
                      score_verdict_name(q->verdict), under, q->dermis_fraction);
        if (q->verdict != VERDICT_OUTSIDE)
            assert_true(under >= 1);
        if (q->verdict == VERDICT_INTRADERMAL)
            assert_true(q->dermis_fraction > 0.5);
        else
            assert_true(q->dermis_fraction < 0.5);
        fsum += q->dermis_fraction;
    }
    assert_float_equal(j->dermis_fraction, fsum / 5, 1e-9);
    free(dyn);

    /* The outer two are epidermal: each raises its own too-shallow event at its tip; the
     * middle three are intradermal (the +-4 mm ones 0.5 mm under the dermis top) and raise none. */
    const score_session *m = session_metrics(ses);
    int shallow = 0, deep = 0;
    for (int e = 0; e < m->n_events; e++) {
        const score_event *ev = &m->events[e];
        if (ev->injection != 0)
            continue;
        deep += ev->kind == ADVERSE_TOO_DEEP;
        if (ev->kind != ADVERSE_TOO_SUPERFICIAL)
            continue;
        shallow++;
        bool at_outer = false;
        for (int k = 0; k < 5; k += 4)
            at_outer = at_outer || (fabs(ev->p_mm[0] - j->needles[k].tip_mm[0]) < 1e-9 &&
                                    fabs(ev->p_mm[1] - j->needles[k].tip_mm[1]) < 1e-9);
        assert_true(at_outer);
    }
    assert_int_equal(j->needles[0].verdict, VERDICT_EPIDERMAL);
    assert_int_equal(j->needles[4].verdict, VERDICT_EPIDERMAL);
    assert_int_equal(shallow, 2);
    assert_int_equal(deep, 0);
    session_destroy(ses);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_five_needles_on_a_prominence),
        cmocka_unit_test(test_bad_heads_are_refused_in_words),
        cmocka_unit_test(test_session_head_verdicts_match_geometry),
        cmocka_unit_test(test_head_uniformity_scored),
        cmocka_unit_test(test_each_needle_has_its_deposit),
        cmocka_unit_test(test_outer_needle_in_a_vessel_fails),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
