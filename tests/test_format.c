/* The canonical form and the editor's API: every bundled case survives load -> save -> load
 * unchanged (struct bytes), saving is idempotent byte for byte, the saved case renders the
 * identical image; scenario_check gives JSON paths and the loader's messages; the setters
 * refuse what the loader refuses, with its words; the limits table answers NaN and
 * infinities; the atomic save keeps the file's mode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "limit.h"
#include "physics_util.h"
#include "scenario.h"

static const char *const k_presets[] = {"adult_back", "adolescent_back", "hyperkeratosis",
                                        "thin_skin", "excess_adipose"};
#define N_PRESETS ((int)(sizeof k_presets / sizeof k_presets[0]))

static scenario load_text(const char *text)
{
    scenario s;
    scenario_diags d = {0};
    bool ok = scenario_load_string(text, &s, &d);
    for (int i = 0; i < d.count; i++)
        print_message("  %d:%d: %s: %s\n", d.items[i].line, d.items[i].col, d.items[i].path,
                      d.items[i].message);
    assert_true(ok);
    scenario_diags_free(&d);
    return s;
}

/* Field by field: structs carry padding whose bytes no assignment promises to copy, so
 * memcmp of two equal scenarios may differ (it does under ASan's Debug build). */
static void same(const void *x, const void *y, size_t n, const char *what, const char *field)
{
    if (memcmp(x, y, n) != 0)
        fail_msg("%s: %s differs", what, field);
}
#define SAME(field) same(&a->field, &b->field, sizeof a->field, what, #field)
static void assert_same_scenario(const scenario *a, const scenario *b, const char *what)
{
    SAME(version), SAME(schema), SAME(name), SAME(description), SAME(seed);
    SAME(patient.age_years), SAME(patient.sex), SAME(patient.region), SAME(patient.skin);
    const phantom_def *pa = &a->phantom;
    SAME(phantom.n_layers), SAME(phantom.n_features), SAME(phantom.n_vessels);
    SAME(phantom.n_inclusions), SAME(phantom.tissues), SAME(phantom.width_mm);
    SAME(phantom.length_mm), SAME(phantom.fat_strain_per_n), SAME(phantom.fat_max_strain);
    SAME(phantom.vein_collapse_n), SAME(phantom.septa_spacing_mm);
    SAME(phantom.muscle_fibre_angle_deg), SAME(phantom.muscle_pennation_deg);
    SAME(phantom.perimysium_spacing_mm), SAME(phantom.seed);
    for (int i = 0; i < pa->n_layers; i++) {
        SAME(phantom.layers[i].tissue), SAME(phantom.layers[i].thickness_mm);
        SAME(phantom.layers[i].variation), SAME(phantom.layers[i].variation_wavelength_mm);
        SAME(layer_source[i]);
    }
    for (int i = 0; i < pa->n_features; i++) {
        SAME(phantom.features[i].kind), SAME(phantom.features[i].x_mm);
        SAME(phantom.features[i].y_mm), SAME(phantom.features[i].height_mm);
        SAME(phantom.features[i].width_mm), SAME(phantom.features[i].angle_deg);
    }
    for (int i = 0; i < pa->n_vessels; i++) {
        SAME(phantom.vessels[i].a_mm), SAME(phantom.vessels[i].b_mm);
        SAME(phantom.vessels[i].radius_mm), SAME(phantom.vessels[i].wall_mm);
        SAME(phantom.vessels[i].is_vein);
    }
    for (int i = 0; i < pa->n_inclusions; i++)
        SAME(phantom.inclusions[i]); /* two enums then doubles: no padding */
    SAME(probe.freq_mhz), SAME(probe.bandwidth_frac), SAME(probe.pitch_mm);
    SAME(probe.n_elements), SAME(probe.n_lines), SAME(probe.rx_fnumber);
    SAME(probe.tx_focus_mm), SAME(probe.elev_focus_mm), SAME(probe.elev_height_mm);
    SAME(probe.depth_mm), SAME(probe.gain_db), SAME(probe.dynamic_range_db);
    SAME(probe.tgc_on), SAME(probe.tgc_db_cm_mhz), SAME(probe.tgc_db), SAME(pose);
    SAME(needle.gauge), SAME(needle.length_mm), SAME(needle.bevel_up);
    SAME(needle.dimple_residual_frac), SAME(needle.haematoma_radius_mm);
    SAME(needle.haematoma_growth_s), SAME(needle.mech);
    SAME(drug.kind), SAME(drug.volume_ml), SAME(drug.rate_ml_s), SAME(drug.bleb_ref_ml);
    SAME(drug.bleb_ref_mm), SAME(drug.wheal_frac), SAME(drug.fat_sheet_mm);
    SAME(drug.gas_fill), SAME(drug.gas_fade_s);
    SAME(plan.n_points), SAME(plan.spacing_mm), SAME(plan.angle_deg);
    for (int i = 0; i < a->plan.n_points; i++)
        SAME(plan.points_mm[i]);
    SAME(scoring), SAME(guidance); /* all doubles; one int */
}
#undef SAME

static void render(const scenario *s, bmode_image *out)
{
    phantom *ph = pu_phantom(&s->phantom);
    pu_render(pu_bm, ph, &s->probe, &s->pose, out);
    phantom_destroy(ph);
}

static void test_presets_round_trip(void **state)
{
    (void)state;
    for (int i = 0; i < N_PRESETS; i++) {
        scenario a = pu_load_preset(k_presets[i]);
        char *t1 = scenario_save_string(&a);
        assert_non_null(t1);
        scenario b = load_text(t1);
        assert_same_scenario(&a, &b, k_presets[i]);
        char *t2 = scenario_save_string(&b);
        assert_string_equal(t1, t2);
        assert_true(scenario_content_hash(&a) == scenario_content_hash(&b));
        /* The citations and the schema link survive. */
        assert_non_null(strstr(t1, "\"source\": \""));
        assert_non_null(strstr(t1, "\"$schema\": \"scenario.schema.json\""));
        /* The form: 2-space indent, a trailing newline, no exponents, no long tails. */
        assert_true(strncmp(t1, "{\n  \"$schema\"", 13) == 0);
        size_t n = strlen(t1);
        assert_true(t1[n - 1] == '\n' && t1[n - 2] == '}');
        assert_null(strstr(t1, "e+"));
        assert_null(strstr(t1, "0000000"));

        bmode_image ia, ib;
        render(&a, &ia);
        size_t px = (size_t)ia.rows * (size_t)ia.cols;
        uint8_t *first = malloc(px);
        assert_non_null(first);
        memcpy(first, ia.pixels, px);
        int rows = ia.rows, cols = ia.cols;
        render(&b, &ib);
        assert_int_equal(ib.rows, rows);
        assert_int_equal(ib.cols, cols);
        assert_memory_equal(ib.pixels, first, px);
        free(first);
        free(t1);
        free(t2);
    }
}

static void test_hash_sees_every_change(void **state)
{
    (void)state;
    scenario a = pu_load_preset("adult_back"), b = a;
    uint64_t h = scenario_content_hash(&a);
    char err[256];
    assert_true(scenario_set_number(&b, "phantom.layers[2].thickness_mm", nextafter(2.45, 3),
                                    err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
    b = a;
    assert_true(scenario_set_string(&b, "phantom.layers[0].source", "another", err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
}

static void test_numbers_shortest_exact(void **state)
{
    (void)state;
    /* Values that need all 17 digits, tiny and large ones, and -0. */
    scenario s = scenario_default();
    char err[256];
    const struct {
        const char *path;
        double v;
        const char *text;
    } k[] = {
        {"probe.freq_mhz", 18.000000000000004, "\"freq_mhz\": 18.000000000000004"},
        {"phantom.layers[0].thickness_mm", 0.015, "\"thickness_mm\": 0.015"},
        {"phantom.tissues.dermis.density_kg_m3", 12345.678, "\"density_kg_m3\": 12345.678"},
        {"seed", 4294967295.0, "\"seed\": 4294967295"},
        {"probe.tgc_db[3]", -0.0, "-0.0"},
        {"drug.rate_ml_s", 0.001, "\"rate_ml_s\": 0.001"},
        {"probe.gain_db", 1.0 / 3.0, "\"gain_db\": 0.3333333333333333"},
    };
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        assert_true(scenario_set_number(&s, k[i].path, k[i].v, err, sizeof err));
    char *t = scenario_save_string(&s);
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strstr(t, k[i].text))
            fail_msg("no %s in\n%s", k[i].text, t);
    scenario b = load_text(t);
    assert_same_scenario(&s, &b, "numbers");
    free(t);
}

static void expect_refusal(scenario *s, const char *path, double v, const char *message)
{
    scenario before = *s;
    char err[256] = "";
    assert_false(scenario_set_number(s, path, v, err, sizeof err));
    if (!strstr(err, message))
        fail_msg("%s = %g: \"%s\", expected \"%s\"", path, v, err, message);
    assert_same_scenario(s, &before, path);
}

static void test_setters_refuse_as_the_loader(void **state)
{
    (void)state;
    scenario s = pu_load_preset("adult_back");
    char err[256];
    expect_refusal(&s, "probe.freq_mhz", 30, "must be within 10..22 MHz, got 30");
    expect_refusal(&s, "probe.freq_mhz", NAN, "must be within 10..22 MHz");
    expect_refusal(&s, "probe.depth_mm", INFINITY, "must be within 5..40 mm");
    expect_refusal(&s, "phantom.surface[0].width_mm", 1e-170, "must be within 0.1..100 mm");
    expect_refusal(&s, "probe.pose.tilt_deg", 31, "must be within -30..30 deg, got 31");
    expect_refusal(&s, "probe.n_elements", 127.5, "must be a whole number, got 127.5");
    expect_refusal(&s, "phantom.layers[8].thickness_mm", 1, "no layer 8: there are 8");
    expect_refusal(&s, "phantom.vessels[0].a_mm[3]", 1, "no coordinate 3");
    expect_refusal(&s, "probe.nothing", 1, "no number at probe.nothing");
    expect_refusal(&s, "phantom.tissues.dremis.backscatter", 1, "no number at");
    expect_refusal(&s, "phantom.layers[].thickness_mm", 1, "no number at");

    /* The loader's own message for the same value, from a file. */
    scenario_diags d = {0};
    scenario out;
    assert_false(scenario_load_string("{\"version\": 1, \"probe\": {\"freq_mhz\": 30}}", &out, &d));
    assert_int_equal(d.count, 1);
    assert_false(scenario_set_number(&s, "probe.freq_mhz", 30, err, sizeof err));
    assert_string_equal(err, d.items[0].message);
    scenario_diags_free(&d);

    /* Accepted values land where the loader would put them. */
    assert_true(scenario_set_number(&s, "phantom.inclusions[0].radius_mm", 1, err, sizeof err) ==
                (s.phantom.n_inclusions > 0));
    assert_true(scenario_set_number(&s, "phantom.vessels[1].b_mm[2]", 3.25, err, sizeof err));
    assert_true(s.phantom.vessels[1].b_mm[2] == 3.25);
    assert_true(scenario_set_int(&s, "needle.gauge", 27, err, sizeof err));
    assert_int_equal(s.needle.gauge, 27);
    assert_false(scenario_set_int(&s, "probe.freq_mhz", 18, err, sizeof err));
    assert_true(scenario_set_number(&s, "seed", 9, err, sizeof err));
    assert_true(s.seed == 9 && s.phantom.seed == 9);
    double x;
    assert_true(scenario_get_number(&s, "phantom.vessels[1].b_mm[2]", &x) && x == 3.25);

    /* Text and choices. */
    assert_false(scenario_set_string(&s, "probe.tgc", "yes", err, sizeof err));
    assert_string_equal(err, "unknown value \"yes\"; expected one of \"on\", \"off\"");
    assert_true(scenario_set_bool(&s, "probe.tgc", false, err, sizeof err));
    assert_false(s.probe.tgc_on);
    assert_false(scenario_set_string(&s, "phantom.layers[2].tissue", "dremis", err, sizeof err));
    assert_non_null(strstr(err, "did you mean \"dermis\"?"));
    assert_true(scenario_set_string(&s, "phantom.layers[2].tissue", "fat", err, sizeof err));
    assert_int_equal(s.phantom.layers[2].tissue, TISSUE_FAT);
    char big[600];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    assert_false(scenario_set_string(&s, "description", big, err, sizeof err));
    assert_string_equal(err, "too long: 599 bytes, at most 511");
    assert_false(scenario_set_string(&s, "name", "\xC3(", err, sizeof err));
    assert_false(scenario_set_string(&s, "phantom.nothing", "x", err, sizeof err));
    assert_true(scenario_set_string(&s, "drug.kind", "saline", err, sizeof err));
    assert_int_equal(s.drug.kind, DRUG_SALINE);
}

static bool has_diag(const scenario_diags *d, const char *path, const char *message)
{
    for (int i = 0; i < d->count; i++)
        if (strcmp(d->items[i].path, path) == 0 && strstr(d->items[i].message, message) &&
            d->items[i].line == 0)
            return true;
    return false;
}

static void test_check_gives_paths(void **state)
{
    (void)state;
    scenario s = pu_load_preset("adult_back");
    scenario_diags d = {0};
    assert_int_equal(scenario_check(&s, &d), 0);
    s.phantom.layers[2].thickness_mm = -1;
    s.phantom.features[0].width_mm = 1e-170;
    s.phantom.vessels[1].b_mm[1] = 500;
    s.phantom.tissues.t[TISSUE_DERMIS].backscatter = NAN;
    s.needle.mech[TISSUE_FAT].stiffness_n_mm = 0;
    s.probe.tgc_db[5] = 41;
    s.pose.x_mm = 30;
    s.plan.points_mm[1][1] = 99;
    s.needle.length_mm = 5;
    s.phantom.layers[7].tissue = (tissue_id)99;
    int n = scenario_check(&s, &d);
    for (int i = 0; i < d.count; i++)
        print_message("  %s: %s\n", d.items[i].path, d.items[i].message);
    assert_int_equal(n, 10);
    assert_true(has_diag(&d, "phantom.layers[2].thickness_mm", "must be within 0.005..50 mm, got -1"));
    assert_true(has_diag(&d, "phantom.surface[0].width_mm", "must be within 0.1..100 mm"));
    assert_true(has_diag(&d, "phantom.vessels[1].b_mm[1]", "must be within -100..100 mm, got 500"));
    assert_true(has_diag(&d, "phantom.tissues.dermis.backscatter", "must be within 0..100"));
    assert_true(has_diag(&d, "needle.tissues.fat.stiffness_n_mm", "must be within 0.01..100 N/mm"));
    assert_true(has_diag(&d, "probe.tgc_db[5]", "must be within -40..40 dB, got 41"));
    assert_true(has_diag(&d, "probe.pose.x_mm", "outside the 40 mm wide patch"));
    assert_true(has_diag(&d, "plan.points[1]", "outside the 40 x 40 mm patch"));
    assert_true(has_diag(&d, "needle.length_mm", "must be 4, 6 or 13 mm, got 5"));
    assert_true(has_diag(&d, "phantom.layers[7].tissue", "unknown tissue"));
    scenario_diags_free(&d);

    /* The same words as the loader's for the same value in a file. */
    scenario t = scenario_default(), out;
    t.phantom.layers[1].thickness_mm = 0;
    assert_int_equal(scenario_check(&t, &d), 1);
    scenario_diags ld = {0};
    assert_false(scenario_load_string(
        "{\"version\": 1, \"phantom\": {\"layers\": [{\"tissue\": \"epidermis\", "
        "\"thickness_mm\": 0.1},\n {\"tissue\": \"dermis\", \"thickness_mm\": 0}, "
        "{\"tissue\": \"fat\"}]}}", &out, &ld));
    assert_int_equal(ld.count, 1);
    assert_string_equal(d.items[0].path, "phantom.layers[1].thickness_mm");
    assert_string_equal(ld.items[0].path, d.items[0].path);
    assert_string_equal(ld.items[0].message, d.items[0].message);
    assert_int_equal(ld.items[0].line, 2);
    scenario_diags_free(&ld);
    scenario_diags_free(&d);
}

static void test_limits_table(void **state)
{
    (void)state;
    for (int i = 0; i < LIM_COUNT; i++) {
        const limit *l = limit_get((limit_id)i);
        assert_non_null(l);
        assert_non_null(l->name);
        assert_non_null(l->unit);
        assert_true(l->min <= l->max);
        assert_false(limit_ok((limit_id)i, NAN));
        assert_false(limit_ok((limit_id)i, INFINITY));
        assert_false(limit_ok((limit_id)i, -INFINITY));
        assert_true(limit_ok((limit_id)i, l->max));
        assert_true(limit_ok((limit_id)i, limit_clamp((limit_id)i, -1e300)));
        assert_true(limit_ok((limit_id)i, limit_clamp((limit_id)i, 1e300)));
        assert_true(limit_ok((limit_id)i, limit_clamp((limit_id)i, NAN)));
        assert_true(limit_ok((limit_id)i, limit_clamp((limit_id)i, -INFINITY)));
    }
    assert_null(limit_get(LIM_COUNT));
    assert_null(limit_get((limit_id)-1));
    assert_false(limit_ok(LIM_COUNT, 0));
    assert_true(limit_clamp(LIM_TILT_DEG, 45) == 30);
    assert_true(limit_clamp(LIM_TILT_DEG, -45) == -30);
    assert_true(limit_clamp(LIM_FREQ_MHZ, 18) == 18);
    assert_false(limit_ok(LIM_NEEDLE_STEP_MM, 0));
    assert_true(limit_clamp(LIM_NEEDLE_STEP_MM, 0) > 0);
    /* The window and the files agree on tilt: the loader refuses what the window cannot do. */
    assert_false(limit_ok(LIM_TILT_DEG, 30.5));
    assert_true(limit_ok(LIM_FEATURE_WIDTH_MM, 0.1) && !limit_ok(LIM_FEATURE_WIDTH_MM, 1e-170));
}

static void test_save_file_atomic(void **state)
{
    (void)state;
    char dir[512], path[600], tmpl[600];
    snprintf(dir, sizeof dir, "%s/test_format_tmp", MESOSIM_BINARY_DIR);
    mkdir(dir, 0755);
    snprintf(path, sizeof path, "%s/case.json", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("old", f);
    fclose(f);
    chmod(path, 0640);
    scenario s = pu_load_preset("thin_skin");
    char err[256];
    assert_true(scenario_save_file(&s, path, err, sizeof err));
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0640);
    scenario_diags d = {0};
    scenario back;
    assert_true(scenario_load_file(path, &back, &d));
    assert_same_scenario(&back, &s, "saved file");
    /* No temporary left beside it. */
    snprintf(tmpl, sizeof tmpl, "%s/case.json.tmp", dir);
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -c tmp >/dev/null", dir);
    assert_int_not_equal(system(cmd), 0);
    /* A folder that does not exist: a message, no crash. */
    snprintf(path, sizeof path, "%s/no/such/dir/case.json", dir);
    assert_false(scenario_save_file(&s, path, err, sizeof err));
    assert_non_null(strstr(err, "cannot create"));
    scenario_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_round_trip),
        cmocka_unit_test(test_hash_sees_every_change),
        cmocka_unit_test(test_numbers_shortest_exact),
        cmocka_unit_test(test_setters_refuse_as_the_loader),
        cmocka_unit_test(test_check_gives_paths),
        cmocka_unit_test(test_limits_table),
        cmocka_unit_test(test_save_file_atomic),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
