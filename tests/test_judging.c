/* Judging: the pass rules (critical items gate the pass, nothing to judge scores 0), undo_step,
 * redirect counting, vessels that end where the scenario says, the tip-in-slice verdict against
 * the rendered image, and the feedback sentences. Sessions are played through session_apply
 * from JSON lines, as `mesosim run` plays a log. */
#include <ctype.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "bmode.h"
#include "feedback.h"
#include "physics_util.h"
#include "scenario.h"
#include "session.h"

static scenario load(const char *preset)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s.json", MESOSIM_SOURCE_DIR, preset);
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(path, &sc, &d));
    sc.probe.n_lines = 192;
    sc.probe.depth_mm = 8;
    return sc;
}

static session *start_sc(const scenario *sc)
{
    char err[256];
    session *s = session_create(sc, err, sizeof err);
    if (!s)
        fail_msg("session_create: %s", err);
    return s;
}

static session *start(const char *preset)
{
    scenario sc = load(preset);
    return start_sc(&sc);
}

/* Applies one JSON line; refused is a failure unless want_ok is false (err then gets why). */
static bool try_act(session *s, const char *line, char *err, size_t n)
{
    action a;
    if (!action_parse_line(line, strlen(line), -1.0, &a, err, n))
        fail_msg("%s: %s", line, err);
    return session_apply(s, &a, err, n);
}

static void act(session *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void act(session *s, const char *fmt, ...)
{
    char line[512], err[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (!try_act(s, line, err, sizeof err))
        fail_msg("%s: refused: %s", line, err);
}

/* The steps of the case report before the needle, done well (demo timing). */
static void prepare(session *s)
{
    act(s, "{\"t\":0,\"do\":\"step\",\"name\":\"positioning\"}");
    act(s, "{\"t\":5,\"do\":\"step\",\"name\":\"disinfection\",\"skin_check\":true}");
    act(s, "{\"t\":12,\"do\":\"step\",\"name\":\"sterile_field\"}");
    act(s, "{\"t\":20,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":0}");
    act(s, "{\"t\":26,\"do\":\"mark_dermis\",\"top_mm\":0.1,\"bottom_mm\":2.5}");
}

/* The demo's injection at plan point (x, y): entry 3 mm before it, the probe walking with the
 * tip, 0.1 mL with the tip at the plane (scenarios/sessions/adult_back_demo.jsonl). */
static void inject_demo(session *s, double t, double x, double y)
{
    act(s, "{\"t\":%g,\"do\":\"probe\",\"x_mm\":%g,\"y_mm\":%g}", t, x, y - 1.5);
    act(s, "{\"t\":%g,\"do\":\"needle_entry\",\"x_mm\":%g,\"y_mm\":%g,\"angle_deg\":30,"
           "\"azimuth_deg\":90}", t + 2, x, y - 3);
    act(s, "{\"t\":%g,\"do\":\"advance\",\"mm\":4}", t + 3);
    act(s, "{\"t\":%g,\"do\":\"probe\",\"y_mm\":%g}", t + 8, y);
    act(s, "{\"t\":%g,\"do\":\"inject\",\"ml\":0.1,\"rate_ml_s\":0.05}", t + 9);
    act(s, "{\"t\":%g,\"do\":\"withdraw\"}", t + 13);
}

/* A vertical needle at (x, y) pushed in 0.02 mm steps until stop(s) holds. */
static void push_until(session *s, double t, double x, double y,
                       bool (*stop)(const session *s, void *ud), void *ud)
{
    act(s, "{\"t\":%g,\"do\":\"probe\",\"x_mm\":%g,\"y_mm\":%g}", t, x, y);
    act(s, "{\"t\":%g,\"do\":\"needle_entry\",\"x_mm\":%g,\"y_mm\":%g,\"angle_deg\":90,"
           "\"azimuth_deg\":0}", t + 1, x, y);
    for (int i = 0; i < 400 && !stop(s, ud); i++)
        act(s, "{\"t\":%g,\"do\":\"advance\",\"mm\":0.02}", t + 2);
    if (!stop(s, ud)) {
        double tip[3];
        needle_tip_mm(session_needle(s), tip);
        fail_msg("the tip stopped at (%.2f, %.2f, %.2f) mm, in the skin %d", tip[0], tip[1],
                 tip[2], needle_in_skin(session_needle(s)));
    }
}

static bool tip_in_blood(const session *s, void *ud)
{
    (void)ud;
    const needle *n = session_needle(s);
    return needle_in_skin(n) &&
           needle_tissue_at(n, needle_inserted_mm(n), NULL, NULL) == TISSUE_BLOOD;
}

/* The tip at least *(double *)ud below the dermis base. */
static bool tip_below_dermis(const session *s, void *ud)
{
    double tip[3], h[PHANTOM_MAX_LAYERS];
    needle_tip_mm(session_needle(s), tip);
    int n = phantom_interfaces(session_anatomy(s), tip[0], tip[1], 0.0, h);
    const phantom_def *d = phantom_get_def(session_anatomy(s));
    for (int k = 0; k + 1 < n; k++)
        if (d->layers[k].tissue == TISSUE_DERMIS)
            return tip[2] >= h[k + 1] + *(const double *)ud;
    return false;
}

/* The tip at least *(double *)ud below the dermis top. */
static bool tip_into_dermis(const session *s, void *ud)
{
    double tip[3], h[PHANTOM_MAX_LAYERS];
    needle_tip_mm(session_needle(s), tip);
    int n = phantom_interfaces(session_anatomy(s), tip[0], tip[1], 0.0, h);
    const phantom_def *d = phantom_get_def(session_anatomy(s));
    for (int k = 0; k + 1 < n; k++)
        if (d->layers[k].tissue == TISSUE_DERMIS)
            return needle_in_skin(session_needle(s)) && tip[2] >= h[k] + *(const double *)ud;
    return false;
}

static bool tip_at_z(const session *s, void *ud)
{
    double tip[3];
    needle_tip_mm(session_needle(s), tip);
    return needle_in_skin(session_needle(s)) && tip[2] >= *(const double *)ud;
}

/* The feedback items of a session, and the first with topic (NULL when none). */
typedef struct fb_list {
    feedback_item it[FEEDBACK_MAX];
    int n;
} fb_list;

static void feedback_of(const session *s, fb_list *f)
{
    score_result r = session_score(s);
    const scenario *sc = session_scenario(s);
    f->n = feedback_generate(&sc->scoring, &sc->plan, session_metrics(s), &r, f->it, FEEDBACK_MAX);
    assert_true(f->n <= FEEDBACK_MAX);
    for (int i = 0; i < f->n; i++) {
        /* Plain words: no identifier (a word joined by '_') in any message. */
        if (strchr(f->it[i].message, '_'))
            fail_msg("feedback with an identifier: %s", f->it[i].message);
        print_message("  [%s/%s] %s\n", feedback_severity_name(f->it[i].severity),
                      f->it[i].topic, f->it[i].message);
    }
}

static const feedback_item *find_fb(const fb_list *f, const char *topic, const char *has)
{
    for (int i = 0; i < f->n; i++)
        if (!strcmp(f->it[i].topic, topic) && (!has || strstr(f->it[i].message, has)))
            return &f->it[i];
    return NULL;
}

static void expect_fb(const fb_list *f, const char *topic, const char *has,
                      feedback_severity sev)
{
    const feedback_item *it = find_fb(f, topic, has);
    if (!it)
        fail_msg("no feedback on %s saying \"%s\"", topic, has ? has : "");
    assert_int_equal(it->severity, sev);
}

/* ---- pass rules -------------------------------------------------------------------------- */

/* The issue's session: on the excess-adipose case, no positioning, disinfection, sterile
 * field, marking or dressing, one of the two planned points. It scored 70.04, PASS. */
static void test_skipping_everything_fails(void **state)
{
    (void)state;
    session *s = start("excess_adipose");
    inject_demo(s, 20, -12, 0);
    act(s, "{\"t\":60,\"do\":\"end\"}");
    score_result r = session_score(s);
    print_message("skip everything: total %.2f pass %d\n", r.total, r.pass);
    assert_false(r.pass);
    assert_true(r.critical);
    assert_false(r.critical_ok[CRITICAL_ASEPSIS]);
    assert_non_null(strstr(r.critical_reason[CRITICAL_ASEPSIS], "no disinfection"));
    assert_non_null(strstr(r.critical_reason[CRITICAL_ASEPSIS], "no sterile field"));
    assert_non_null(strstr(r.critical_reason[CRITICAL_ASEPSIS], "22 s"));
    assert_false(r.critical_ok[CRITICAL_ASSESSMENT]);
    assert_false(r.critical_ok[CRITICAL_PLAN_POINTS]);
    assert_int_equal(r.points_injected, 1);
    assert_int_equal(r.points_required, 2);
    assert_non_null(strstr(r.critical_reason[CRITICAL_PLAN_POINTS], "1 of the 2"));
    assert_true(r.critical_ok[CRITICAL_INTRAVASCULAR]);
    fb_list f;
    feedback_of(s, &f);
    expect_fb(&f, "result", "3 critical items failed", FEEDBACK_CRITICAL);
    expect_fb(&f, "asepsis", "22 s", FEEDBACK_CRITICAL);
    expect_fb(&f, "assessment", "never marked", FEEDBACK_CRITICAL);
    expect_fb(&f, "plan_points", "1 of the 2", FEEDBACK_CRITICAL);
    expect_fb(&f, "steps", "5 of the 7 steps", FEEDBACK_WARNING);
    expect_fb(&f, "steps", "sterile field", FEEDBACK_WARNING);

    /* The report lists each item with ok and the reason, and the steps skipped. */
    char *rep = session_report_json(s, NULL);
    json_error_t je;
    json_t *root = json_loads(rep, 0, &je);
    assert_non_null(root);
    json_t *crit = json_object_get(json_object_get(root, "score"), "critical");
    assert_int_equal(json_array_size(crit), CRITICAL_COUNT);
    json_t *as = json_array_get(crit, CRITICAL_ASEPSIS);
    assert_string_equal(json_string_value(json_object_get(as, "item")), "asepsis");
    assert_true(json_is_false(json_object_get(as, "ok")));
    assert_true(json_is_true(json_object_get(json_object_get(root, "score"), "critical_failed")));
    json_t *skipped = json_object_get(json_object_get(root, "session"), "steps_skipped");
    assert_int_equal(json_array_size(skipped), 5);
    assert_string_equal(json_string_value(json_array_get(skipped, 0)), "positioning");
    assert_true(json_array_size(json_object_get(root, "feedback")) >= 6);
    json_decref(root);
    free(rep);
    session_destroy(s);

    /* The scenario can switch items off and lower the count: then only the total decides. */
    scenario sc = load("excess_adipose");
    sc.scoring.critical.asepsis = 0;
    sc.scoring.critical.assessment = 0;
    sc.scoring.critical.min_points = 1;
    s = start_sc(&sc);
    inject_demo(s, 20, -12, 0);
    act(s, "{\"t\":60,\"do\":\"end\"}");
    r = session_score(s);
    assert_false(r.critical);
    assert_false(r.critical_on[CRITICAL_ASEPSIS]);
    assert_true(r.critical_ok[CRITICAL_PLAN_POINTS]);
    assert_int_equal(r.pass, r.total >= sc.scoring.pass_mark);
    session_destroy(s);
}

/* The whole procedure on the excess-adipose case passes: the rules are not impossible. */
static void test_good_session_passes(void **state)
{
    (void)state;
    session *s = start("excess_adipose");
    prepare(s);
    inject_demo(s, 30, -12, 0);
    inject_demo(s, 48, 8, -6);
    act(s, "{\"t\":70,\"do\":\"step\",\"name\":\"dressing\"}");
    act(s, "{\"t\":75,\"do\":\"end\"}");
    score_result r = session_score(s);
    print_message("good session: total %.2f\n", r.total);
    for (int k = 0; k < CRITICAL_COUNT; k++)
        if (!r.critical_ok[k])
            fail_msg("%s: %s", score_critical_name((score_critical_item)k), r.critical_reason[k]);
    assert_true(r.pass);
    session_destroy(s);
}

static void test_empty_session_scores_near_zero(void **state)
{
    (void)state;
    session *s = start("adult_back");
    act(s, "{\"t\":1,\"do\":\"end\"}");
    score_result r = session_score(s);
    print_message("empty: total %.3f\n", r.total);
    assert_true(r.total < 1.0);
    assert_true(r.part[PART_SAFETY] == 0.0);
    assert_true(r.part[PART_VISIBILITY] == 0.0);
    assert_true(r.part[PART_PLACEMENT] == 0.0);
    assert_true(r.part[PART_TECHNIQUE] == 0.0);
    assert_false(r.pass);
    assert_false(r.critical_ok[CRITICAL_PLAN_POINTS]);
    fb_list f;
    feedback_of(s, &f);
    expect_fb(&f, "result", "No injection", FEEDBACK_WARNING);
    session_destroy(s);
}

static void test_intravascular_fails(void **state)
{
    (void)state;
    session *s = start("adult_back");
    prepare(s);
    inject_demo(s, 30, -12, 0);
    /* The subdermal vein runs along y at x = 5, 3 mm deep: straight down onto it. */
    push_until(s, 50, 5, -6, tip_in_blood, NULL);
    act(s, "{\"t\":53,\"do\":\"inject\",\"ml\":0.1}");
    act(s, "{\"t\":60,\"do\":\"end\"}");
    score_result r = session_score(s);
    const score_session *m = session_metrics(s);
    assert_int_equal(m->inj[1].verdict, VERDICT_INTRAVASCULAR);
    assert_false(r.critical_ok[CRITICAL_INTRAVASCULAR]);
    assert_non_null(strstr(r.critical_reason[CRITICAL_INTRAVASCULAR], "injection 2"));
    assert_true(r.critical_ok[CRITICAL_ASEPSIS]);
    assert_true(r.critical_ok[CRITICAL_ASSESSMENT]);
    assert_false(r.pass);
    fb_list f;
    feedback_of(s, &f);
    char depth[32];
    snprintf(depth, sizeof depth, "%.1f mm", m->inj[1].tip_depth_mm);
    expect_fb(&f, "intravascular", "injection 2", FEEDBACK_CRITICAL);
    expect_fb(&f, "placement", depth, FEEDBACK_CRITICAL);
    /* The puncture on the way in is named, with its depth. */
    assert_true(m->vessel_punctures >= 1);
    const score_event *bleed = NULL;
    for (int i = 0; i < m->n_events; i++)
        if (m->events[i].kind == ADVERSE_HAEMATOMA)
            bleed = &m->events[i];
    assert_non_null(bleed);
    assert_true(bleed->vein);
    snprintf(depth, sizeof depth, "a vein at %.1f mm", bleed->depth_mm);
    expect_fb(&f, "vessel", depth, FEEDBACK_WARNING);
    session_destroy(s);
}

static void test_deep_in_fat_fails_outside_dermis(void **state)
{
    (void)state;
    session *s = start("adult_back");
    prepare(s);
    inject_demo(s, 30, -12, 0);
    double below = 1.0;
    push_until(s, 50, 8, -6, tip_below_dermis, &below);
    act(s, "{\"t\":53,\"do\":\"inject\",\"ml\":0.1}");
    act(s, "{\"t\":60,\"do\":\"end\"}");
    score_result r = session_score(s);
    const score_injection *j = &session_metrics(s)->inj[1];
    print_message("deep: margin %.3f mm, verdict %s\n", j->margin_mm, score_verdict_name(j->verdict));
    assert_int_equal(j->verdict, VERDICT_SUBCUTANEOUS);
    assert_true(j->margin_mm <= -1.0 && j->margin_mm > -1.05);
    assert_false(r.critical_ok[CRITICAL_OUTSIDE_DERMIS]);
    assert_non_null(strstr(r.critical_reason[CRITICAL_OUTSIDE_DERMIS], "1.0 mm below"));
    /* Both planned points were injected: only the depth fails the session. */
    assert_true(r.critical_ok[CRITICAL_PLAN_POINTS]);
    assert_false(r.pass);
    fb_list f;
    feedback_of(s, &f);
    expect_fb(&f, "placement", "Injection 2: tip 1.0 mm below the dermis, in the fat",
              FEEDBACK_CRITICAL);
    expect_fb(&f, "outside_dermis", "1.0 mm below", FEEDBACK_CRITICAL);
    /* Within the tolerance: a warning, not a failure. */
    session_destroy(s);
    s = start("adult_back");
    prepare(s);
    inject_demo(s, 30, -12, 0);
    below = 0.2;
    push_until(s, 50, 8, -6, tip_below_dermis, &below);
    act(s, "{\"t\":53,\"do\":\"inject\",\"ml\":0.1}");
    r = session_score(s);
    assert_true(r.critical_ok[CRITICAL_OUTSIDE_DERMIS]);
    feedback_of(s, &f);
    expect_fb(&f, "placement", "0.2 mm below the dermis", FEEDBACK_WARNING);
    session_destroy(s);
}

/* Just under the dermis top: intradermal, but too superficial (a warning with the margin). */
static void test_feedback_too_superficial(void **state)
{
    (void)state;
    session *s = start("adult_back");
    prepare(s);
    double into = 0.1, back = 0.2;
    push_until(s, 30, -12, 0, tip_into_dermis, &into);
    /* The pop carries the tip deeper: pull back to just under the dermis top. */
    for (int i = 0; i < 200 && tip_into_dermis(s, &back); i++)
        act(s, "{\"t\":33,\"do\":\"retract\",\"mm\":0.02}");
    assert_true(tip_into_dermis(s, &into));
    act(s, "{\"t\":34,\"do\":\"inject\",\"ml\":0.1}");
    const score_injection *j = &session_metrics(s)->inj[0];
    assert_int_equal(j->verdict, VERDICT_INTRADERMAL);
    assert_true(j->margin_mm < 0.3);
    fb_list f;
    feedback_of(s, &f);
    char want[64];
    snprintf(want, sizeof want, "only %.2f mm below the top of the dermis", j->margin_mm);
    expect_fb(&f, "placement", want, FEEDBACK_WARNING);
    session_destroy(s);
}

/* ---- steps ------------------------------------------------------------------------------- */

static int count_events(const session *s, session_event_kind k)
{
    int n, c = 0;
    const session_event *e = session_events(s, &n);
    for (int i = 0; i < n; i++)
        c += e[i].kind == k;
    return c;
}

static void test_undo_step(void **state)
{
    (void)state;
    char err[256];
    session *s = start("adult_back");
    /* Nothing to take back. */
    assert_false(try_act(s, "{\"t\":1,\"do\":\"undo_step\",\"name\":\"positioning\"}", err, sizeof err));
    assert_non_null(strstr(err, "no step"));
    act(s, "{\"t\":2,\"do\":\"step\",\"name\":\"positioning\"}");
    act(s, "{\"t\":3,\"do\":\"step\",\"name\":\"disinfection\",\"skin_check\":true}");
    /* Only the last tick. */
    assert_false(try_act(s, "{\"t\":4,\"do\":\"undo_step\",\"name\":\"positioning\"}", err, sizeof err));
    assert_non_null(strstr(err, "last step ticked was \"disinfection\""));
    /* Within the window (5 s): taken back, and the step can be ticked again. */
    act(s, "{\"t\":7.5,\"do\":\"undo_step\",\"name\":\"disinfection\"}");
    assert_false(session_metrics(s)->step_done[STEP_DISINFECTION]);
    assert_false(session_metrics(s)->skin_checked);
    assert_int_equal(count_events(s, SEV_STEP_UNDONE), 1);
    /* Then positioning is the last tick again, but 5.5 s old: refused with the numbers. */
    assert_false(try_act(s, "{\"t\":7.5,\"do\":\"undo_step\",\"name\":\"positioning\"}", err, sizeof err));
    assert_non_null(strstr(err, "5.5 s ago"));
    assert_non_null(strstr(err, "within 5 s"));
    assert_true(session_metrics(s)->step_done[STEP_POSITIONING]);
    act(s, "{\"t\":9,\"do\":\"step\",\"name\":\"disinfection\",\"skin_check\":true}");
    assert_true(session_metrics(s)->step_done[STEP_DISINFECTION]);
    assert_true(session_metrics(s)->step_t_s[STEP_DISINFECTION] == 9.0);
    session_destroy(s);

    /* The parser: a name is required, skin_check belongs to "step", the line round-trips. */
    action a;
    const char *l1 = "{\"t\":1,\"do\":\"undo_step\"}";
    assert_false(action_parse_line(l1, strlen(l1), -1, &a, err, sizeof err));
    assert_string_equal(err, "\"undo_step\" needs key \"name\"");
    const char *l2 = "{\"t\":1,\"do\":\"undo_step\",\"name\":\"disinfection\",\"skin_check\":true}";
    assert_false(action_parse_line(l2, strlen(l2), -1, &a, err, sizeof err));
    assert_non_null(strstr(err, "unknown key \"skin_check\""));
    const char *l3 = "{\"t\":1,\"do\":\"undo_step\",\"name\":\"sterile_field\"}";
    assert_true(action_parse_line(l3, strlen(l3), -1, &a, err, sizeof err));
    char buf[256];
    action_format(&a, buf, sizeof buf);
    assert_string_equal(buf, l3);
}

static void test_steps_out_of_order_listed(void **state)
{
    (void)state;
    session *s = start("adult_back");
    act(s, "{\"t\":0,\"do\":\"step\",\"name\":\"dressing\"}");
    prepare(s);
    inject_demo(s, 30, -12, 0);
    char *rep = session_report_json(s, NULL);
    json_t *root = json_loads(rep, 0, NULL);
    json_t *late = json_object_get(json_object_get(root, "session"), "steps_out_of_order");
    /* The dressing was moved; the steps after it are in order among themselves. */
    assert_int_equal(json_array_size(late), 1);
    assert_string_equal(json_string_value(json_array_get(late, 0)), "dressing");
    score_result r = session_score(s);
    assert_false(r.step_in_order[STEP_DRESSING]);
    assert_true(r.step_in_order[STEP_POSITIONING] && r.step_in_order[STEP_ASSESSMENT]);
    json_decref(root);
    free(rep);
    fb_list f;
    feedback_of(s, &f);
    expect_fb(&f, "steps", "dressing (at 0 s)", FEEDBACK_WARNING);
    session_destroy(s);
}

/* ---- redirects --------------------------------------------------------------------------- */

static double last_redirect_value(const session *s)
{
    int n;
    const session_event *e = session_events(s, &n);
    for (int i = n - 1; i >= 0; i--)
        if (e[i].kind == SEV_REDIRECTED)
            return e[i].value;
    return -1.0;
}

static void test_redirect_counting(void **state)
{
    (void)state;
    session *s = start("adult_back");
    const score_session *m = session_metrics(s);
    act(s, "{\"t\":1,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":-3,\"angle_deg\":30,\"azimuth_deg\":90}");
    /* Over the skin: aiming, not a redirect. */
    act(s, "{\"t\":2,\"do\":\"redirect\",\"angle_deg\":40,\"azimuth_deg\":90}");
    assert_int_equal(m->redirects, 0);
    assert_true(last_redirect_value(s) == 0.0);
    act(s, "{\"t\":3,\"do\":\"advance\",\"mm\":1.2}");
    assert_true(needle_in_skin(session_needle(s)));
    /* In the skin, one continuous change in three pivots: one redirect. */
    act(s, "{\"t\":4,\"do\":\"redirect\",\"angle_deg\":35,\"azimuth_deg\":90}");
    act(s, "{\"t\":4.2,\"do\":\"redirect\",\"angle_deg\":32,\"azimuth_deg\":90}");
    act(s, "{\"t\":4.4,\"do\":\"redirect\",\"angle_deg\":30,\"azimuth_deg\":85}");
    assert_int_equal(m->redirects, 1);
    assert_true(last_redirect_value(s) == 0.0);
    /* An advance between: the next pivot is a new redirect; 1.7 of 4 mm in: not deep. */
    act(s, "{\"t\":5,\"do\":\"advance\",\"mm\":0.5}");
    act(s, "{\"t\":6,\"do\":\"redirect\",\"angle_deg\":30,\"azimuth_deg\":90}");
    assert_int_equal(m->redirects, 2);
    assert_int_equal(m->redirects_without_retract, 0);
    assert_true(last_redirect_value(s) == 1.0);
    /* Deep (3.2 of 4 mm) with no retract since the advance: flagged. */
    act(s, "{\"t\":7,\"do\":\"advance\",\"mm\":1.5}");
    assert_true(needle_inserted_mm(session_needle(s)) > 2.0);
    act(s, "{\"t\":8,\"do\":\"redirect\",\"angle_deg\":35,\"azimuth_deg\":90}");
    assert_int_equal(m->redirects, 3);
    assert_int_equal(m->redirects_without_retract, 1);
    assert_true(last_redirect_value(s) == 2.0);
    /* Retract first, as taught: a redirect, not flagged, even though still deep. */
    act(s, "{\"t\":9,\"do\":\"retract\",\"mm\":0.5}");
    assert_true(needle_inserted_mm(session_needle(s)) > 2.0);
    act(s, "{\"t\":10,\"do\":\"redirect\",\"angle_deg\":30,\"azimuth_deg\":90}");
    assert_int_equal(m->redirects, 4);
    assert_int_equal(m->redirects_without_retract, 1);
    act(s, "{\"t\":11,\"do\":\"inject\",\"ml\":0.05}");
    act(s, "{\"t\":20,\"do\":\"end\"}");
    char *rep = session_report_json(s, NULL);
    json_t *root = json_loads(rep, 0, NULL);
    json_t *ses = json_object_get(root, "session");
    assert_int_equal(json_integer_value(json_object_get(ses, "redirects")), 4);
    assert_int_equal(json_integer_value(json_object_get(ses, "redirects_without_retract")), 1);
    json_decref(root);
    free(rep);
    fb_list f;
    feedback_of(s, &f);
    expect_fb(&f, "redirect", "1 redirect with more than half the needle in", FEEDBACK_WARNING);
    session_destroy(s);
}

/* ---- vessels end where the scenario says --------------------------------------------------- */

/* The adult back's artery runs from (-6, -3, 9) to (-2, 3, 3.5) and ends in the fat; its axis
 * carried on would reach the dermis at y = 5 (x = -0.67, z = 1.67). */
static int blood_px(bmode *bm, double x, double y)
{
    scenario sc = load("adult_back");
    sc.probe.depth_mm = 12;
    session *s = start_sc(&sc);
    act(s, "{\"t\":1,\"do\":\"probe\",\"x_mm\":%g,\"y_mm\":%g}", x, y);
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    session_scene(s, &scene, dyn);
    bmode_image im;
    char err[256];
    assert_int_equal(bmode_render(bm, &scene, &im, err, sizeof err), 0);
    int n = 0;
    /* The artery only: the vein runs at x = 5, off these images' left half. */
    for (int r = 0; r < im.rows; r++)
        for (int c = 0; c < im.cols; c++)
            n += im.labels[(size_t)r * im.cols + c] == TISSUE_BLOOD && pu_col_x(&im, c) + x < 3.0;
    session_destroy(s);
    return n;
}

static void test_vessels_end(void **state)
{
    (void)state;
    bmode_def bd = bmode_default_def();
    bd.n_threads = 2;
    bmode *bm = bmode_create(&bd);
    assert_non_null(bm);
    int inside = blood_px(bm, -4, 0);
    print_message("artery lumen px: y=0 %d, y=2.9 %d, y=3.5 %d, y=5 %d, y=6.5 %d\n", inside,
                  blood_px(bm, -2, 2.9), blood_px(bm, -2, 3.5), blood_px(bm, -0.7, 5),
                  blood_px(bm, -0.2, 6.5));
    assert_true(inside > 20);
    assert_true(blood_px(bm, -2, 2.9) > 0);
    assert_int_equal(blood_px(bm, -2, 3.5), 0);
    assert_int_equal(blood_px(bm, -0.7, 5), 0);
    assert_int_equal(blood_px(bm, -0.2, 6.5), 0);
    bmode_destroy(bm);

    /* A needle in the dermis where the axis would run on: no puncture, no haematoma. */
    session *s = start("adult_back");
    double z = 1.67;
    push_until(s, 1, -0.67, 5, tip_at_z, &z);
    act(s, "{\"t\":5,\"do\":\"inject\",\"ml\":0.05}");
    const score_session *m = session_metrics(s);
    assert_int_equal(m->vessel_punctures, 0);
    assert_int_equal(session_bleed_count(s), 0);
    assert_int_equal(m->inj[0].verdict, VERDICT_INTRADERMAL);
    session_destroy(s);
    /* Inside its length the artery is still there: straight down onto it near its end
     * (t = 0.95 along it: (-2.2, 2.7, 3.78)). */
    s = start("adult_back");
    push_until(s, 1, -2.2, 2.7, tip_in_blood, NULL);
    assert_true(session_metrics(s)->vessel_punctures >= 1);
    session_destroy(s);
}

/* ---- the tip in the slice ------------------------------------------------------------------ */

static double peak_env(const bmode_image *im, pu_region g)
{
    double m = 0.0;
    for (int r = pu_row(im, g.z0_mm); r <= pu_row(im, g.z1_mm); r++)
        for (int c = pu_col(im, g.x0_mm); c <= pu_col(im, g.x1_mm); c++)
            m = fmax(m, im->envelope[(size_t)r * im->cols + c]);
    return m;
}

static void render(bmode *bm, const session *s, bmode_image *im)
{
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    session_scene(s, &scene, dyn);
    char err[256];
    assert_int_equal(bmode_render(bm, &scene, im, err, sizeof err), 0);
}

typedef struct tip_view {
    double echo_db;   /* what the needle adds to the echo at the tip */
    double fwhm_mm;   /* elevation FWHM at the tip's depth */
    double z_mm;
    bool in_slice;    /* the verdict of an injection there */
} tip_view;

/* Needle at angle, pushed travel mm, the plane d_fwhm elevation FWHMs ahead of the tip (< 0:
 * behind it, the tip past the plane). The echo the needle adds at the tip: the peak envelope
 * around the tip's image position against the same image without the needle (same speckle). */
static tip_view view_tip(bmode *bm, double travel, double angle, double d_fwhm)
{
    session *s = start("adult_back"), *bare = start("adult_back");
    act(s, "{\"t\":1,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":-3,\"angle_deg\":%g,"
           "\"azimuth_deg\":90}", angle);
    act(s, "{\"t\":2,\"do\":\"advance\",\"mm\":%g}", travel);
    double tip[3], img[3];
    needle_tip_mm(session_needle(s), tip);
    act(s, "{\"t\":3,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":%.6f}", tip[1]);
    assert_true(session_tip_image(s, img));
    probe_def p = session_probe(s);
    tip_view v = {0.0, probe_elevation_fwhm_mm(&p, img[2]), img[2], false};
    double y = tip[1] + d_fwhm * v.fwhm_mm;
    act(s, "{\"t\":4,\"do\":\"probe\",\"y_mm\":%.6f}", y);
    act(bare, "{\"t\":4,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":%.6f}", y);
    assert_true(session_tip_image(s, img));
    bmode_image im;
    pu_region w = {img[2] - 0.2, img[2] + 0.1, img[0] - 0.2, img[0] + 0.2};
    render(bm, s, &im);
    double with = peak_env(&im, w);
    render(bm, bare, &im);
    v.echo_db = 20.0 * log10(with / peak_env(&im, w));
    act(s, "{\"t\":5,\"do\":\"inject\",\"ml\":0.01}");
    v.in_slice = session_metrics(s)->inj[0].tip_in_slice;
    session_destroy(s);
    session_destroy(bare);
    return v;
}

/* The verdict agrees with the image: the tip reads "in the slice" exactly when its echo is
 * within 6 dB of the echo with the tip on the plane. Distances away from the rule's edges
 * (0.5 FWHM short of the plane, 0.7 past it; session.c has the measured spread). */
static void test_in_slice_matches_image(void **state)
{
    (void)state;
    bmode_def bd = bmode_default_def();
    bd.n_threads = 2;
    bmode *bm = bmode_create(&bd);
    assert_non_null(bm);
    const double cfg[][2] = {{3.0, 30}, {4.0, 30}, {3.0, 60}, {4.0, 60}};
    const double d[] = {-1.0, -0.45, 0.25, 0.85};
    for (int c = 0; c < 4; c++) {
        tip_view on = view_tip(bm, cfg[c][0], cfg[c][1], 0.0);
        assert_true(on.in_slice);
        assert_true(on.echo_db > 6.0);
        for (int i = 0; i < 4; i++) {
            tip_view v = view_tip(bm, cfg[c][0], cfg[c][1], d[i]);
            bool visible = v.echo_db >= on.echo_db - 6.0;
            print_message("tip %.2f mm deep, plane %+.2f FWHM (%.2f mm): echo %+.1f dB "
                          "(on the plane %+.1f): visible %d, in slice %d\n", v.z_mm, d[i],
                          d[i] * v.fwhm_mm, v.echo_db, on.echo_db, visible, v.in_slice);
            assert_int_equal(v.in_slice, visible);
        }
    }
    bmode_destroy(bm);
}

/* Out of view: the feedback says how far the tip was and how near it must be. */
static void test_feedback_tip_not_in_view(void **state)
{
    (void)state;
    session *s = start("adult_back");
    prepare(s);
    act(s, "{\"t\":30,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":3}");
    act(s, "{\"t\":32,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":-3,\"angle_deg\":30,\"azimuth_deg\":90}");
    act(s, "{\"t\":33,\"do\":\"advance\",\"mm\":4}");
    act(s, "{\"t\":39,\"do\":\"inject\",\"ml\":0.1}");
    act(s, "{\"t\":45,\"do\":\"end\"}");
    const score_injection *j = &session_metrics(s)->inj[0];
    assert_false(j->tip_in_slice);
    fb_list f;
    feedback_of(s, &f);
    char want[64];
    snprintf(want, sizeof want, "%.1f mm from the image plane", j->tip_to_plane_mm);
    expect_fb(&f, "visibility", want, FEEDBACK_WARNING);
    snprintf(want, sizeof want, "within %.1f mm", j->slice_half_mm);
    expect_fb(&f, "visibility", want, FEEDBACK_WARNING);
    session_destroy(s);
}

/* The scoring.critical keys and undo_window_s load, save and are range-checked. */
static void test_critical_keys_load(void **state)
{
    (void)state;
    const char *ok = "{\"version\":1,\"scoring\":{\"undo_window_s\":2,\"critical\":"
                     "{\"asepsis\":0,\"min_points\":1,\"point_tol_mm\":3,"
                     "\"outside_dermis_tol_mm\":1.5}}}";
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_string(ok, &sc, &d));
    assert_int_equal(sc.scoring.critical.asepsis, 0);
    assert_int_equal(sc.scoring.critical.assessment, 1);
    assert_int_equal(sc.scoring.critical.min_points, 1);
    assert_true(sc.scoring.critical.point_tol_mm == 3.0);
    assert_true(sc.scoring.critical.outside_dermis_tol_mm == 1.5);
    assert_true(sc.scoring.undo_window_s == 2.0);
    char *text = scenario_save_string(&sc);
    assert_non_null(strstr(text, "\"outside_dermis_tol_mm\": 1.5"));
    scenario back;
    assert_true(scenario_load_string(text, &back, &d));
    assert_int_equal(back.scoring.critical.min_points, 1);
    free(text);
    const char *bad = "{\"version\":1,\"scoring\":{\"critical\":{\"asepsis\":2}}}";
    assert_false(scenario_load_string(bad, &sc, &d));
    assert_true(d.count >= 1);
    print_message("%s\n", d.items[0].message);
    assert_non_null(strstr(d.items[0].path, "scoring.critical.asepsis"));
    scenario_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skipping_everything_fails),
        cmocka_unit_test(test_good_session_passes),
        cmocka_unit_test(test_empty_session_scores_near_zero),
        cmocka_unit_test(test_intravascular_fails),
        cmocka_unit_test(test_deep_in_fat_fails_outside_dermis),
        cmocka_unit_test(test_feedback_too_superficial),
        cmocka_unit_test(test_undo_step),
        cmocka_unit_test(test_steps_out_of_order_listed),
        cmocka_unit_test(test_redirect_counting),
        cmocka_unit_test(test_vessels_end),
        cmocka_unit_test(test_in_slice_matches_image),
        cmocka_unit_test(test_feedback_tip_not_in_view),
        cmocka_unit_test(test_critical_keys_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
