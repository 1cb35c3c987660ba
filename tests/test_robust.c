/* test_robust: bad and degenerate input. Values the loader accepts never break the renderer;
 * degenerate sessions give reports with every key and finite numbers; action logs with CR or
 * CRLF line ends read as lines.
 *
 * The renderer part: Each case sets one field of
 * the adult back case to an extreme its range allows (or past what the loader's table allows
 * today: the phantom must hold even if the table widens), and the frame must render with a
 * finite envelope and known tissue labels in every pixel; under ASan+UBSan any wild index or
 * NaN-to-int cast stops the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include <jansson.h>

#include "actions.h"
#include "bmode.h"
#include "phantom.h"
#include "scenario.h"
#include "session.h"

#define TINY 4.9406564584124654e-324 /* the smallest double above 0: every "> 0" accepts it */

static scenario load_adult_back(void)
{
    scenario sc;
    scenario_diags d = {0};
    bool ok = scenario_load_file(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", &sc, &d);
    scenario_diags_free(&d);
    assert_true(ok);
    /* Fewer lines keep the sanitizer build quick; the per-line code is the same. */
    sc.probe.n_lines = 64;
    return sc;
}

/* Renders sc and checks every pixel; false when the phantom refuses the values (a clear
 * refusal is also robust). */
static bool render_ok(const scenario *sc, const char *what)
{
    char err[256];
    phantom *ph = phantom_create(&sc->phantom, err, sizeof err);
    if (!ph) {
        print_message("  %s: refused: %s\n", what, err);
        return false;
    }
    bmode_def def = bmode_default_def();
    def.n_threads = 1;
    bmode *bm = bmode_create(&def);
    assert_non_null(bm);
    bmode_scene scene = {.ph = ph, .probe = sc->probe, .pose = sc->pose};
    bmode_image img;
    assert_int_equal(bmode_render(bm, &scene, &img, err, sizeof err), 0);
    assert_true(img.rows > 0 && img.cols > 0);
    size_t n = (size_t)img.rows * (size_t)img.cols, bad = 0;
    for (size_t i = 0; i < n; i++)
        bad += !isfinite(img.envelope[i]) || img.envelope[i] < 0.0f || img.labels[i] >= TISSUE_COUNT;
    if (bad)
        print_message("  %s: %zu of %zu pixels undefined\n", what, bad, n);
    assert_int_equal(bad, 0);
    bmode_destroy(bm);
    phantom_destroy(ph);
    return true;
}

/* The crash this test was written for: a bump 1e-170 mm wide under the probe. */
static void test_tiny_feature_width_renders(void **st)
{
    (void)st;
    static const double widths[] = {1e-170, 1e-160, TINY, 1e-300, 1e-10};
    for (size_t i = 0; i < sizeof widths / sizeof widths[0]; i++) {
        scenario sc = load_adult_back();
        sc.phantom.features[0].width_mm = widths[i];
        sc.phantom.features[0].x_mm = sc.pose.x_mm;
        sc.phantom.features[0].y_mm = sc.pose.y_mm;
        char what[64];
        snprintf(what, sizeof what, "width %g", widths[i]);
        assert_true(render_ok(&sc, what));
        phantom *ph = phantom_create(&sc.phantom, NULL, 0);
        double h[PHANTOM_MAX_LAYERS];
        int nl = phantom_interfaces(ph, sc.pose.x_mm, sc.pose.y_mm, 0.0, h);
        for (int k = 0; k < nl; k++)
            assert_true(isfinite(h[k]));
        phantom_destroy(ph);
    }
}

/* The same file through the loader (so the value is one a user can hand the program). */
static void test_tiny_feature_width_loaded(void **st)
{
    (void)st;
    scenario sc;
    scenario_diags d = {0};
    bool ok = scenario_load_file(MESOSIM_SOURCE_DIR "/tests/fuzz/corpus/scenario/surface_width_1e-170.json",
                                 &sc, &d);
    for (int i = 0; i < d.count; i++)
        print_message("  %s: %s\n", d.items[i].path, d.items[i].message);
    scenario_diags_free(&d);
    if (ok)
        assert_true(render_ok(&sc, "loaded width 1e-170"));
}

typedef enum { F_WIDTH, F_HEIGHT, F_THICK, F_WAVELENGTH, F_VARIATION, F_VESSEL_R, F_WALL,
               F_SEPTA, F_PERIMYSIUM, F_STRAIN, F_PRESSURE, F_SPEED, F_DENSITY, F_ATTEN,
               F_BACKSCATTER, F_DEPTH, F_FREQ } field;

typedef struct extreme {
    field f;
    double v;
    const char *name;
} extreme;

static void apply(scenario *sc, const extreme *e, int layer)
{
    phantom_def *p = &sc->phantom;
    switch (e->f) {
    case F_WIDTH: p->features[0].width_mm = e->v; p->features[0].x_mm = sc->pose.x_mm; break;
    case F_HEIGHT: p->features[0].height_mm = e->v; p->features[0].x_mm = sc->pose.x_mm; break;
    case F_THICK: p->layers[layer].thickness_mm = e->v; break;
    case F_WAVELENGTH: p->layers[layer].variation = 0.5; p->layers[layer].variation_wavelength_mm = e->v; break;
    case F_VARIATION: p->layers[layer].variation = e->v; break;
    case F_VESSEL_R: for (int i = 0; i < p->n_vessels; i++) p->vessels[i].radius_mm = e->v; break;
    case F_WALL: for (int i = 0; i < p->n_vessels; i++) p->vessels[i].wall_mm = e->v; break;
    case F_SEPTA: p->septa_spacing_mm = e->v; break;
    case F_PERIMYSIUM: p->perimysium_spacing_mm = e->v; break;
    case F_STRAIN: p->fat_strain_per_n = 1.0; p->fat_max_strain = e->v; sc->pose.pressure_n = 50.0; break;
    case F_PRESSURE: sc->pose.pressure_n = e->v; break;
    case F_SPEED: for (int t = 0; t < TISSUE_COUNT; t++) p->tissues.t[t].speed_m_s = e->v; break;
    case F_DENSITY: for (int t = 0; t < TISSUE_COUNT; t++) p->tissues.t[t].density_kg_m3 = e->v; break;
    case F_ATTEN: for (int t = 0; t < TISSUE_COUNT; t++) p->tissues.t[t].atten_db_cm_mhz = e->v; break;
    case F_BACKSCATTER: for (int t = 0; t < TISSUE_COUNT; t++) p->tissues.t[t].backscatter = e->v; break;
    case F_DEPTH: sc->probe.depth_mm = e->v; break;
    case F_FREQ: sc->probe.freq_mhz = e->v; break;
    }
}

/* Every field at the ends of its range (scenario.c's table), each layer in turn where the
 * field is per layer. */
static void test_extreme_values_render(void **st)
{
    (void)st;
    static const extreme cases[] = {
        {F_WIDTH, TINY, "surface width tiny"}, {F_WIDTH, 100, "surface width 100"},
        {F_HEIGHT, TINY, "surface height tiny"}, {F_HEIGHT, 20, "surface height 20"},
        {F_THICK, TINY, "thickness tiny"}, {F_THICK, 50, "thickness 50"},
        {F_WAVELENGTH, TINY, "variation wavelength tiny"}, {F_WAVELENGTH, 1000, "variation wavelength 1000"},
        {F_VARIATION, 0.5, "variation 0.5"},
        {F_VESSEL_R, TINY, "vessel radius tiny"}, {F_VESSEL_R, 10, "vessel radius 10"},
        {F_WALL, 0, "vessel wall 0"}, {F_WALL, 2, "vessel wall 2"},
        {F_SEPTA, 0.2, "septa 0.2"}, {F_SEPTA, 20, "septa 20"},
        {F_PERIMYSIUM, 0.1, "perimysium 0.1"}, {F_PERIMYSIUM, 10, "perimysium 10"},
        {F_STRAIN, 0.9, "fat strain 0.9"}, {F_PRESSURE, 50, "pressure 50"},
        {F_SPEED, 200, "speed 200"}, {F_SPEED, 7000, "speed 7000"},
        {F_DENSITY, 0.5, "density 0.5"}, {F_DENSITY, 20000, "density 20000"},
        {F_ATTEN, 0, "attenuation 0"}, {F_ATTEN, 50, "attenuation 50"},
        {F_BACKSCATTER, 0, "backscatter 0"}, {F_BACKSCATTER, 100, "backscatter 100"},
        {F_DEPTH, 5, "depth 5"}, {F_DEPTH, 40, "depth 40"},
        {F_FREQ, 10, "freq 10"}, {F_FREQ, 22, "freq 22"},
    };
    int rendered = 0, tried = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const extreme *e = &cases[i];
        bool per_layer = e->f == F_THICK || e->f == F_WAVELENGTH || e->f == F_VARIATION;
        scenario base = load_adult_back();
        int layers = per_layer ? base.phantom.n_layers - 1 : 1;
        for (int l = 0; l < layers; l++) {
            scenario sc = base;
            apply(&sc, e, l);
            char what[96];
            snprintf(what, sizeof what, "%s (layer %d)", e->name, l);
            tried++;
            rendered += render_ok(&sc, what);
        }
    }
    print_message("  %d of %d extreme cases rendered\n", rendered, tried);
    /* Every value above is inside the loader's table: the phantom must take them all. */
    assert_int_equal(rendered, tried);
}

/* ---- reports of degenerate sessions ---------------------------------------------------------- */

static const char *const k_inj_keys[] = {"t_s", "end_s", "volume_ml", "verdict", "layer", "tip_mm",
    "tip_depth_mm", "margin_mm", "tip_in_slice", "tip_to_plane_mm", "approach", "dermis_fraction",
    "wheal", "bleb_mm", "vessel_punctured", "spread_seen", NULL};
static const char *const k_session_keys[] = {"time_s", "passes", "redirects", "pops", "hub_stops",
    "vessel_punctures", "depth_mean_mm", "depth_sd_mm", "spacing_error_mm", "plan_points",
    "adverse_events", "steps", "assessment", NULL};
static const char *const k_part_keys[] = {"weight", "value", "points", NULL};
static const char *const k_technique_keys[] = {"passes", "redirects", "time", "depth_consistency",
    "spacing", NULL};

static void has_keys(const json_t *o, const char *const *keys, const char *where)
{
    assert_true(json_is_object(o));
    for (int i = 0; keys[i]; i++) {
        if (!json_object_get(o, keys[i]))
            print_message("  %s: no \"%s\"\n", where, keys[i]);
        assert_non_null(json_object_get(o, keys[i]));
    }
}

/* Every number in the tree is finite (jansson holds no NaN, but a reader of the text might). */
static void all_finite(const json_t *v)
{
    if (json_is_real(v))
        assert_true(isfinite(json_real_value(v)));
    if (json_is_object(v)) {
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x)
            all_finite(x);
    }
    if (json_is_array(v))
        for (size_t i = 0; i < json_array_size(v); i++)
            all_finite(json_array_get(v, i));
}

/* Plays log on sc and checks the report's shape; returns the number of injections. */
static int check_report(const scenario *sc, const char *log)
{
    action_list al;
    assert_true(actions_load_string(log, strlen(log), &al));
    char err[256];
    session *s = session_create(sc, err, sizeof err);
    assert_non_null(s);
    for (int i = 0; i < al.count; i++)
        assert_true(session_apply(s, &al.items[i], err, sizeof err));
    session_finish(s);
    char *text = session_report_json(s, NULL);
    assert_non_null(text);
    /* A bare nan or inf in the text is not JSON: the parse refuses it. */
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    if (!root)
        print_message("  report: %s at line %d\n", je.text, je.line);
    assert_non_null(root);
    static const char *const top[] = {"mesosim_report", "scenario", "state_hash", "needle", "drug",
                                      "injections", "session", "score", NULL};
    has_keys(root, top, "report");
    static const char *const needle_keys[] = {"gauge", "length_mm", "od_mm", NULL};
    has_keys(json_object_get(root, "needle"), needle_keys, "needle");
    const json_t *inj = json_object_get(root, "injections");
    for (size_t i = 0; i < json_array_size(inj); i++)
        has_keys(json_array_get(inj, i), k_inj_keys, "injection");
    const json_t *ses = json_object_get(root, "session");
    has_keys(ses, k_session_keys, "session");
    for (int k = 0; k < STEP_COUNT; k++)
        assert_non_null(json_object_get(json_object_get(json_object_get(ses, "steps"),
                                                        score_step_name((score_step)k)), "done"));
    const json_t *score = json_object_get(root, "score");
    static const char *const score_keys[] = {"total", "pass", "pass_mark", "critical", "parts", NULL};
    has_keys(score, score_keys, "score");
    const json_t *parts = json_object_get(score, "parts");
    for (int k = 0; k < PART_COUNT; k++)
        has_keys(json_object_get(parts, score_part_name((score_part)k)), k_part_keys, "part");
    has_keys(json_object_get(parts, "technique"), k_technique_keys, "technique");
    all_finite(root);
    int n = (int)json_array_size(inj);
    json_decref(root);
    free(text);
    session_destroy(s);
    actions_free(&al);
    return n;
}

static const char k_one_injection[] =
    "{\"t\":0,\"do\":\"step\",\"name\":\"positioning\"}\n"
    "{\"t\":20,\"do\":\"probe\",\"x_mm\":-12,\"y_mm\":0,\"rot_deg\":0,\"tilt_deg\":0,\"pressure_n\":0}\n"
    "{\"t\":32,\"do\":\"needle_entry\",\"x_mm\":-12,\"y_mm\":-3,\"angle_deg\":30,\"azimuth_deg\":90}\n"
    "{\"t\":33,\"do\":\"advance\",\"mm\":4}\n"
    "{\"t\":39,\"do\":\"inject\",\"ml\":0.1,\"rate_ml_s\":0.05}\n"
    "{\"t\":43,\"do\":\"withdraw\"}\n";

static void test_degenerate_reports(void **st)
{
    (void)st;
    scenario sc = load_adult_back();
    assert_int_equal(check_report(&sc, ""), 0);
    assert_int_equal(check_report(&sc, "{\"t\":0,\"do\":\"end\"}\n"), 0);
    assert_int_equal(check_report(&sc, k_one_injection), 1);
    /* All weights but one zero, that one as small as the loader takes. */
    for (int p = 0; p < PART_COUNT; p++) {
        scenario w = sc;
        for (int k = 0; k < PART_COUNT; k++)
            w.scoring.weights[k] = k == p ? TINY : 0.0;
        assert_int_equal(check_report(&w, k_one_injection), 1);
        assert_int_equal(check_report(&w, ""), 0);
    }
    /* Reference sizes at their smallest: the bleb's size must stay a number. */
    scenario b = sc;
    b.drug.bleb_ref_ml = TINY;
    assert_int_equal(check_report(&b, k_one_injection), 1);
    b = sc;
    b.drug.bleb_ref_mm = TINY;
    b.drug.fat_sheet_mm = TINY;
    assert_int_equal(check_report(&b, k_one_injection), 1);
}

/* A tiny weight scores as its share, not as the rounding of a denormal product. */
static void test_tiny_weight_scores_like_a_large_one(void **st)
{
    (void)st;
    score_rules r = score_default_rules();
    score_plan plan = score_default_plan();
    score_session m;
    memset(&m, 0, sizeof m);
    score_injection *j = score_session_add_injection(&m);
    assert_non_null(j);
    j->verdict = VERDICT_INTRADERMAL;
    j->dermis_fraction = 0.37;
    for (int k = 0; k < PART_COUNT; k++)
        r.weights[k] = k == PART_PLACEMENT ? 100.0 : 0.0;
    double big = score_compute(&r, &plan, &m).total;
    r.weights[PART_PLACEMENT] = TINY;
    double tiny = score_compute(&r, &plan, &m).total;
    assert_true(fabs(big - 68.5) < 1e-9);
    assert_true(fabs(tiny - big) < 1e-9);
    /* No weight at all (rules built in code, not checked): 0, not NaN. */
    r.weights[PART_PLACEMENT] = 0.0;
    assert_true(score_compute(&r, &plan, &m).total == 0.0);
    score_session_free(&m);
}

/* ---- action logs with CR and CRLF line ends ------------------------------------------------ */

static void test_cr_line_ends(void **st)
{
    (void)st;
    static const char *const ends[] = {"\n", "\r\n", "\r"};
    for (int e = 0; e < 3; e++) {
        char text[512];
        snprintf(text, sizeof text, "# a comment first%s{\"t\":0,\"do\":\"step\",\"name\":\"positioning\"}%s"
                 "%s{\"t\":1,\"do\":\"wait\"}%s{\"t\":2,\"do\":\"end\"}", ends[e], ends[e], ends[e],
                 ends[e]);
        action_list l;
        assert_true(actions_load_string(text, strlen(text), &l));
        assert_int_equal(l.count, 3);
        assert_int_equal(l.items[0].verb, ACT_STEP);
        assert_int_equal(l.items[0].line, 2);
        assert_int_equal(l.items[1].line, 4);
        assert_int_equal(l.items[2].verb, ACT_END);
        actions_free(&l);
        /* A bad line is found on its own line number, and nothing of the log is kept. */
        snprintf(text, sizeof text, "{\"t\":0,\"do\":\"wait\"}%s{\"t\":1,\"do\":\"fly\"}%s", ends[e], ends[e]);
        assert_false(actions_load_string(text, strlen(text), &l));
        assert_int_equal(l.n_errors, 1);
        assert_int_equal(l.errors[0].line, 2);
        assert_int_equal(l.count, 0);
        assert_null(l.items);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_degenerate_reports),
        cmocka_unit_test(test_tiny_weight_scores_like_a_large_one),
        cmocka_unit_test(test_cr_line_ends),
        cmocka_unit_test(test_tiny_feature_width_renders),
        cmocka_unit_test(test_tiny_feature_width_loaded),
        cmocka_unit_test(test_extreme_values_render),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
