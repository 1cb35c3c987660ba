/* Scenario files: the bundled presets load, every kind of broken file is refused with the
 * exact JSON path and line of the problem and leaves the output untouched, the schema and docs
 * agree with the loader's range table and defaults, and mutated files never crash the loader
 * (this test runs under ASan/UBSan in CI). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "phantom.h"
#include "scenario.h"

static const char *const k_presets[] = {"adult_back", "adolescent_back", "hyperkeratosis",
                                        "thin_skin", "excess_adipose"};
#define N_PRESETS ((int)(sizeof k_presets / sizeof k_presets[0]))

static void preset_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/scenarios/%s.json", MESOSIM_SOURCE_DIR, name);
}

static char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

static void print_diags(const scenario_diags *d)
{
    for (int i = 0; i < d->count; i++)
        print_message("  %d:%d: %s: %s\n", d->items[i].line, d->items[i].col, d->items[i].path,
                      d->items[i].message);
}

/* ---- presets ------------------------------------------------------------------------------ */

static void test_presets_load(void **state)
{
    (void)state;
    for (int i = 0; i < N_PRESETS; i++) {
        char path[512];
        preset_path(path, sizeof path, k_presets[i]);
        scenario s;
        scenario_diags d = {0};
        bool ok = scenario_load_file(path, &s, &d);
        if (!ok)
            print_diags(&d);
        assert_true(ok);
        assert_int_equal(d.count, 0);
        assert_int_equal(s.version, 1);
        assert_true(s.name[0] != '\0');
        /* The stack the brief asks of every preset: skin down to muscle. */
        static const tissue_id stack[] = {TISSUE_STRATUM_CORNEUM, TISSUE_EPIDERMIS,
                                          TISSUE_DERMIS, TISSUE_FAT, TISSUE_SUPERFICIAL_FASCIA,
                                          TISSUE_DEEP_FAT, TISSUE_DEEP_FASCIA, TISSUE_MUSCLE};
        assert_int_equal(s.phantom.n_layers, 8);
        for (int k = 0; k < 8; k++)
            assert_int_equal(s.phantom.layers[k].tissue, stack[k]);
        assert_true(s.phantom.n_vessels >= 1 && s.phantom.n_vessels <= 2);
        assert_int_equal(s.phantom.seed, s.seed);
        char err[256];
        phantom *ph = phantom_create(&s.phantom, err, sizeof err);
        assert_non_null(ph);
        phantom_destroy(ph);
        assert_null(probe_check(&s.probe));
        scenario_diags_free(&d);
    }
}

static void test_presets_differ_as_described(void **state)
{
    (void)state;
    scenario s[N_PRESETS];
    for (int i = 0; i < N_PRESETS; i++) {
        char path[512];
        scenario_diags d = {0};
        preset_path(path, sizeof path, k_presets[i]);
        assert_true(scenario_load_file(path, &s[i], &d));
        scenario_diags_free(&d);
    }
    const scenario *adult = &s[0], *young = &s[1], *hk = &s[2], *thin = &s[3], *fat = &s[4];
    assert_true(young->patient.age_years >= 14 && young->patient.age_years <= 16);
    assert_true(young->phantom.layers[2].thickness_mm <
                adult->phantom.layers[2].thickness_mm);
    assert_int_equal(young->phantom.n_features, 1);
    assert_true(hk->phantom.layers[0].thickness_mm >= 9 * adult->phantom.layers[0].thickness_mm);
    /* The scale override merges: attenuation raised, speed kept from the default table. */
    tissue_table def = tissue_default_table();
    const tissue_props *sc = &hk->phantom.tissues.t[TISSUE_STRATUM_CORNEUM];
    assert_true(sc->atten_db_cm_mhz > def.t[TISSUE_STRATUM_CORNEUM].atten_db_cm_mhz);
    assert_true(sc->speed_m_s == def.t[TISSUE_STRATUM_CORNEUM].speed_m_s);
    assert_true(thin->phantom.layers[2].thickness_mm < 1.6);
    assert_true(thin->phantom.tissues.t[TISSUE_DERMIS].backscatter >
                def.t[TISSUE_DERMIS].backscatter);
    assert_true(fat->phantom.layers[3].thickness_mm + fat->phantom.layers[5].thickness_mm >= 15);
    assert_true(fat->probe.depth_mm == 25);
}

static void test_minimal_file_is_the_default(void **state)
{
    (void)state;
    scenario s, def = scenario_default();
    scenario_diags d = {0};
    assert_true(scenario_load_string("{\"version\": 1}", &s, &d));
    assert_int_equal(d.count, 0);
    for (int i = 0; i < scenario_range_count(); i++) {
        const char *p = scenario_range_at(i)->path;
        double a, b;
        if (scenario_get_number(&def, p, &a)) {
            assert_true(scenario_get_number(&s, p, &b));
            assert_true(a == b);
        }
    }
    assert_int_equal(s.phantom.n_layers, def.phantom.n_layers);
    assert_string_equal(s.patient.region, def.patient.region);
    assert_true(s.probe.tgc_on);
}

static void test_fields_are_read(void **state)
{
    (void)state;
    const char *text =
        "{\"version\": 1, \"seed\": 77, \"name\": \"n\",\n"
        " \"patient\": {\"age_years\": 30, \"sex\": \"female\", \"skin\": \"thin\"},\n"
        " \"phantom\": {\"width_mm\": 50,\n"
        "   \"layers\": [{\"tissue\": \"gel\", \"thickness_mm\": 1}, {\"tissue\": \"dermis\"}],\n"
        "   \"surface\": [{\"kind\": \"fold\", \"angle_deg\": 30}],\n"
        "   \"vessels\": [{\"a_mm\": [0,0,1], \"b_mm\": [1,0,1], \"kind\": \"vein\"}],\n"
        "   \"inclusions\": [{\"kind\": \"point\", \"c_mm\": [0,0,3], \"amplitude\": 30},\n"
        "                  {\"kind\": \"cyst\", \"c_mm\": [0,0,3], \"radius_mm\": 1.5},\n"
        "                  {\"kind\": \"gas\", \"c_mm\": [0,0,3]},\n"
        "                  {\"kind\": \"ellipsoid\", \"tissue\": \"haematoma\", \"c_mm\": [1,2,3],"
        " \"radii_mm\": [1,2,0.5]}],\n"
        "   \"tissues\": {\"fat\": {\"backscatter\": 0.3}},\n"
        "   \"mechanics\": {\"vein_collapse_n\": 3}, \"texture\": {\"septa_spacing_mm\": 2}},\n"
        " \"probe\": {\"freq_mhz\": 20, \"n_lines\": 128, \"tgc\": \"off\",\n"
        "   \"tgc_db\": [1,2,3,4,5,6,7,8], \"pose\": {\"x_mm\": 3, \"pressure_n\": 1.5}},\n"
        " \"needle\": {\"gauge\": 27, \"tissues\": {\"dermis\": {\"puncture_n\": 0.2}}},\n"
        " \"drug\": {\"kind\": \"saline\"}, \"plan\": {\"points\": [{\"x_mm\": 1, \"y_mm\": 2}]},\n"
        " \"scoring\": {\"pass_mark\": 60, \"weights\": {\"safety\": 20}}}";
    scenario s;
    scenario_diags d = {0};
    bool ok = scenario_load_string(text, &s, &d);
    if (!ok)
        print_diags(&d);
    assert_true(ok);
    assert_int_equal(s.seed, 77);
    assert_int_equal(s.phantom.seed, 77);
    assert_string_equal(s.patient.sex, "female");
    assert_string_equal(s.patient.skin, "thin");
    assert_int_equal(s.needle.gauge, 27);
    assert_true(s.needle.mech[TISSUE_DERMIS].puncture_n == 0.2);
    assert_int_equal(s.drug.kind, DRUG_SALINE);
    assert_int_equal(s.plan.n_points, 1);
    assert_true(s.plan.points_mm[0][1] == 2);
    assert_true(s.scoring.pass_mark == 60);
    assert_true(s.scoring.weights[PART_SAFETY] == 20);
    assert_true(s.phantom.width_mm == 50);
    assert_int_equal(s.phantom.n_layers, 2);
    assert_int_equal(s.phantom.layers[0].tissue, TISSUE_GEL);
    assert_true(s.phantom.layers[0].variation_wavelength_mm == 20);
    assert_int_equal(s.phantom.features[0].kind, PHANTOM_FOLD);
    assert_true(s.phantom.features[0].angle_deg == 30);
    assert_true(s.phantom.vessels[0].is_vein);
    assert_int_equal(s.phantom.n_inclusions, 4);
    assert_int_equal(s.phantom.inclusions[0].kind, PHANTOM_POINT);
    assert_true(s.phantom.inclusions[0].amplitude == 30);
    assert_int_equal(s.phantom.inclusions[1].tissue, TISSUE_FLUID);
    assert_true(s.phantom.inclusions[1].radii_mm[2] == 1.5);
    assert_int_equal(s.phantom.inclusions[2].tissue, TISSUE_GAS);
    assert_int_equal(s.phantom.inclusions[3].tissue, TISSUE_HAEMATOMA);
    assert_true(s.phantom.inclusions[3].radii_mm[1] == 2);
    assert_true(s.phantom.tissues.t[TISSUE_FAT].backscatter == 0.3);
    assert_true(s.phantom.vein_collapse_n == 3);
    assert_true(s.phantom.septa_spacing_mm == 2);
    assert_true(s.probe.freq_mhz == 20);
    assert_int_equal(s.probe.n_lines, 128);
    assert_false(s.probe.tgc_on);
    assert_true(s.probe.tgc_db[7] == 8);
    assert_true(s.pose.x_mm == 3 && s.pose.pressure_n == 1.5);
    double x;
    assert_true(scenario_get_number(&s, "phantom.tissues.fat.backscatter", &x) && x == 0.3);
    assert_true(scenario_get_number(&s, "probe.pose.pressure_n", &x) && x == 1.5);
    assert_true(scenario_get_number(&s, "seed", &x) && x == 77);
    /* Array elements by index, as the file spells them; none past the end. */
    assert_true(scenario_get_number(&s, "phantom.layers[0].thickness_mm", &x) && x == 1);
    assert_true(scenario_get_number(&s, "phantom.vessels[0].b_mm[0]", &x) && x == 1);
    assert_true(scenario_get_number(&s, "phantom.inclusions[1].radius_mm", &x) && x == 1.5);
    assert_true(scenario_get_number(&s, "phantom.inclusions[3].radii_mm[2]", &x) && x == 0.5);
    assert_true(scenario_get_number(&s, "probe.tgc_db[7]", &x) && x == 8);
    assert_true(scenario_get_number(&s, "plan.points[0].y_mm", &x) && x == 2);
    assert_true(scenario_get_number(&s, "needle.tissues.dermis.puncture_n", &x) && x == 0.2);
    assert_false(scenario_get_number(&s, "phantom.layers[2].thickness_mm", &x));
    assert_false(scenario_get_number(&s, "phantom.layers[].thickness_mm", &x));
    assert_false(scenario_get_number(&s, "phantom.layers[0]", &x));
    assert_false(scenario_get_number(&s, "probe.tgc_db[8]", &x));
    assert_false(scenario_get_number(&s, "version", &x));
    assert_false(scenario_get_number(&s, "phantom.tissues.dremis.backscatter", &x));
    assert_false(scenario_get_number(&s, "probe.nothing", &x));
}

/* ---- broken files ------------------------------------------------------------------------- */

typedef struct broken_case {
    const char *what;
    const char *text;
    const char *path;    /* expected JSON path of one diagnostic */
    int line;            /* its line; 0 = expected to carry no position */
    const char *message; /* a substring of its message */
} broken_case;

static const broken_case k_broken[] = {
    {"invalid JSON", "{\n  \"version\": 1,\n  \"probe\": {\"freq_mhz\": 18,}\n}\n", "", 3,
     "invalid JSON"},
    {"truncated JSON", "{\n  \"version\": 1,\n  \"probe\": {\n", "", 4, "invalid JSON"},
    {"top level not an object", "[1, 2]", "", 1, "JSON object"},
    {"wrong type", "{\"version\": 1,\n \"probe\": {\n  \"freq_mhz\": \"18\"}}", "probe.freq_mhz",
     3, "expected a number (MHz), got a string"},
    {"zero thickness",
     "{\"version\": 1, \"phantom\": {\"layers\": [\n {\"tissue\": \"epidermis\", \"thickness_mm\": 0.1},\n"
     " {\"tissue\": \"dermis\", \"thickness_mm\": 0},\n {\"tissue\": \"fat\"}]}}",
     "phantom.layers[1].thickness_mm", 3, "must be within 0.005..50 mm, got 0"},
    /* The sizes' minimums are sizes (limit.c), not just "above zero". */
    {"surface feature 1e-170 mm wide",
     "{\"version\": 1, \"phantom\": {\"surface\": [\n {\"kind\": \"fold\", \"width_mm\": 1e-170}]}}",
     "phantom.surface[0].width_mm", 2, "must be within 0.1..100 mm, got 1e-170"},
    {"tilt beyond the window's 30 degrees",
     "{\"version\": 1, \"probe\": {\"pose\":\n {\"tilt_deg\": 31}}}", "probe.pose.tilt_deg", 2,
     "must be within -30..30 deg, got 31"},
    {"negative thickness",
     "{\"version\": 1, \"phantom\": {\"layers\": [\n {\"tissue\": \"dermis\", \"thickness_mm\": -2},\n"
     " {\"tissue\": \"fat\"}]}}",
     "phantom.layers[0].thickness_mm", 2, "got -2"},
    {"missing thickness",
     "{\"version\": 1, \"phantom\": {\"layers\": [\n {\"tissue\": \"dermis\"},\n {\"tissue\": \"fat\"}]}}",
     "phantom.layers[0]", 2, "thickness_mm"},
    {"frequency 0", "{\"version\": 1,\n\"probe\": {\"freq_mhz\": 0}}", "probe.freq_mhz", 2,
     "10..22 MHz"},
    {"frequency above the band", "{\"version\": 1,\n\"probe\": {\"freq_mhz\": 30}}",
     "probe.freq_mhz", 2, "got 30"},
    {"depth too deep", "{\"version\": 1,\n\"probe\": {\n\"depth_mm\": 41}}", "probe.depth_mm", 3,
     "5..40 mm"},
    {"depth too shallow", "{\"version\": 1,\n\"probe\": {\n\"depth_mm\": 4.9}}", "probe.depth_mm",
     3, "got 4.9"},
    {"unknown key with suggestion",
     "{\"version\": 1, \"phantom\": {\"layers\": [\n {\"tissue\": \"dermis\",\n  \"thicknes_mm\": 2},\n"
     " {\"tissue\": \"fat\"}]}}",
     "phantom.layers[0].thicknes_mm", 3,
     "unknown key \"thicknes_mm\" (did you mean \"thickness_mm\"?)"},
    {"unit left off a key", "{\"version\": 1, \"probe\": {\n \"freq\": 18}}", "probe.freq", 2,
     "did you mean \"freq_mhz\""},
    {"unknown top-level key", "{\"version\": 1,\n \"phantoms\": {}}", "phantoms", 2,
     "did you mean \"phantom\""},
    {"unknown tissue in a layer",
     "{\"version\": 1, \"phantom\": {\"layers\": [\n {\"tissue\": \"dremis\"}]}}",
     "phantom.layers[0].tissue", 2, "unknown tissue \"dremis\" (did you mean \"dermis\"?)"},
    {"unknown tissue override", "{\"version\": 1, \"phantom\": {\"tissues\": {\n \"skin\": {}}}}",
     "phantom.tissues.skin", 2, "unknown tissue \"skin\""},
    {"tissue override out of range",
     "{\"version\": 1, \"phantom\": {\"tissues\": {\"dermis\": {\n \"speed_m_s\": 0}}}}",
     "phantom.tissues.dermis.speed_m_s", 2, "m/s"},
    {"too many layers",
     "{\"version\": 1, \"phantom\": {\n\"layers\": [{\"tissue\": \"dermis\", \"thickness_mm\": 1},"
     "{\"tissue\": \"dermis\", \"thickness_mm\": 1},{\"tissue\": \"dermis\", \"thickness_mm\": 1},"
     "{\"tissue\": \"dermis\", \"thickness_mm\": 1},{\"tissue\": \"dermis\", \"thickness_mm\": 1},"
     "{\"tissue\": \"dermis\", \"thickness_mm\": 1},{\"tissue\": \"dermis\", \"thickness_mm\": 1},"
     "{\"tissue\": \"dermis\", \"thickness_mm\": 1},{\"tissue\": \"dermis\", \"thickness_mm\": 1},"
     "{\"tissue\": \"dermis\", \"thickness_mm\": 1},{\"tissue\": \"dermis\", \"thickness_mm\": 1},"
     "{\"tissue\": \"dermis\", \"thickness_mm\": 1},{\"tissue\": \"muscle\"}]}}",
     "phantom.layers", 2, "too many layers: 13 given, at most 12"},
    {"no layers", "{\"version\": 1, \"phantom\": {\n\"layers\": []}}", "phantom.layers", 2,
     "at least one layer"},
    {"too many vessels",
     "{\"version\": 1, \"phantom\": {\"vessels\": [\n"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]},"
     "{\"a_mm\":[0,0,3],\"b_mm\":[1,0,3]}]}}",
     "phantom.vessels", 1, "at most 16"},
    {"duplicate key", "{\"version\": 1,\n \"probe\": {\"freq_mhz\": 18,\n  \"freq_mhz\": 15}}",
     "probe.freq_mhz", 3, "duplicate key \"freq_mhz\""},
    {"duplicate top-level key", "{\"version\": 1,\n \"version\": 1}", "version", 2,
     "duplicate key"},
    {"missing version", "{\n \"name\": \"x\"}", "version", 1, "missing required key \"version\""},
    {"wrong version", "{\"name\": \"x\",\n \"version\": 2}", "version", 2, "unsupported version 2"},
    {"version as a string", "{\"version\": \"1\"}", "version", 1, "expected the integer 1"},
    {"empty text", "", "", 0, "empty"},
    {"only whitespace", " \n\t\n", "", 0, "empty"},
    {"vessel radius zero",
     "{\"version\": 1, \"phantom\": {\"vessels\": [{\"a_mm\": [0,0,3], \"b_mm\": [5,0,3],\n"
     " \"radius_mm\": 0}]}}",
     "phantom.vessels[0].radius_mm", 2, "must be within 0.05..10 mm, got 0"},
    {"vessel of zero length",
     "{\"version\": 1, \"phantom\": {\"vessels\": [{\"a_mm\": [0,0,3],\n \"b_mm\": [0,0,3]}]}}",
     "phantom.vessels[0].b_mm", 2, "must differ"},
    {"vessel without an end",
     "{\"version\": 1, \"phantom\": {\"vessels\": [\n {\"a_mm\": [0,0,3]}]}}",
     "phantom.vessels[0]", 2, "missing required key \"b_mm\""},
    {"vessel kind", "{\"version\": 1, \"phantom\": {\"vessels\": [{\"a_mm\": [0,0,3],"
                    " \"b_mm\": [1,0,3],\n \"kind\": \"capillary\"}]}}",
     "phantom.vessels[0].kind", 2, "expected one of \"artery\", \"vein\""},
    {"vector of wrong length",
     "{\"version\": 1, \"phantom\": {\"inclusions\": [{\"kind\": \"cyst\",\n \"c_mm\": [0, 3]}]}}",
     "phantom.inclusions[0].c_mm", 2, "expected an array of 3 numbers, got 2"},
    {"vector element out of range",
     "{\"version\": 1, \"phantom\": {\"inclusions\": [{\"kind\": \"cyst\", \"c_mm\": [0,\n 0, 300]}]}}",
     "phantom.inclusions[0].c_mm[2]", 2, "got 300"},
    {"tgc sliders of wrong length",
     "{\"version\": 1, \"probe\": {\n\"tgc_db\": [0, 0, 0, 0, 0, 0, 0]}}", "probe.tgc_db", 2,
     "8 numbers, got 7"},
    {"bad enum", "{\"version\": 1, \"probe\": {\n\"tgc\": \"yes\"}}", "probe.tgc", 2,
     "expected one of \"on\", \"off\""},
    {"surface kind", "{\"version\": 1, \"phantom\": {\"surface\": [\n{\"kind\": \"bump\"}]}}",
     "phantom.surface[0].kind", 2, "unknown value \"bump\""},
    {"key of another inclusion kind",
     "{\"version\": 1, \"phantom\": {\"inclusions\": [{\"kind\": \"point\", \"c_mm\": [0,0,3],\n"
     " \"radius_mm\": 1}]}}",
     "phantom.inclusions[0].radius_mm", 2, "does not apply to a point inclusion"},
    {"ellipsoid without radii",
     "{\"version\": 1, \"phantom\": {\"inclusions\": [\n{\"kind\": \"ellipsoid\", \"tissue\": \"fluid\","
     " \"c_mm\": [0,0,3]}]}}",
     "phantom.inclusions[0]", 2, "missing required key \"radii_mm\""},
    {"needle section not an object", "{\"version\": 1,\n \"needle\": [27]}", "needle", 2,
     "expected an object, got an array"},
    {"needle gauge not made", "{\"version\": 1, \"needle\": {\n \"gauge\": 29}}", "needle.gauge", 2,
     "must be 27, 30 or 32"},
    {"needle key typo", "{\"version\": 1, \"needle\": {\n \"lenght_mm\": 4}}", "needle.lenght_mm", 2,
     "did you mean \"length_mm\""},
    {"drug kind unknown", "{\"version\": 1, \"drug\": {\n \"kind\": \"ozone\"}}", "drug.kind", 2,
     "unknown value"},
    {"plan point off the patch", "{\"version\": 1, \"plan\": {\"points\": [\n{\"x_mm\": 30, \"y_mm\": 0}]}}",
     "plan.points[0]", 2, "outside the 40 x 40 mm patch"},
    {"weights out of range", "{\"version\": 1, \"scoring\": {\"weights\": {\n \"safety\": 101}}}",
     "scoring.weights.safety", 2, "must be within 0..100"},
    {"section not an object", "{\"version\": 1,\n \"probe\": 18}", "probe", 2,
     "expected an object, got a number"},
    {"whole number expected", "{\"version\": 1, \"probe\": {\n \"n_elements\": 127.5}}",
     "probe.n_elements", 2, "whole number"},
    {"seed out of range", "{\"version\": 1,\n \"seed\": -1}", "seed", 2, "0..4294967295"},
    {"probe off the patch", "{\"version\": 1, \"probe\": {\"pose\": {\n \"x_mm\": 30}}}",
     "probe.pose.x_mm", 2, "outside"},
    {"name too long",
     "{\"version\": 1,\n \"name\": \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}",
     "name", 2, "too long"},
    {"null value", "{\"version\": 1, \"patient\": {\n \"age_years\": null}}", "patient.age_years",
     2, "got null"},
    {"not UTF-8", "{\"version\": 1,\n \"name\": \"\xff\"}", "", 2, "UTF-8"},
};
#define N_BROKEN ((int)(sizeof k_broken / sizeof k_broken[0]))

static void test_broken_files(void **state)
{
    (void)state;
    for (int i = 0; i < N_BROKEN; i++) {
        const broken_case *b = &k_broken[i];
        scenario out, before;
        memset(&out, 0xA5, sizeof out);
        memcpy(&before, &out, sizeof out);
        scenario_diags d = {0};
        bool ok = scenario_load_string(b->text, &out, &d);
        print_message("%s:\n", b->what);
        print_diags(&d);
        assert_false(ok);
        assert_true(d.count >= 1);
        assert_memory_equal(&out, &before, sizeof out);
        bool found = false;
        for (int k = 0; k < d.count && !found; k++) {
            const scenario_diag *g = &d.items[k];
            found = strcmp(g->path, b->path) == 0 && g->line == b->line &&
                    strstr(g->message, b->message) != NULL && (b->line == 0) == (g->col == 0);
        }
        if (!found)
            fail_msg("%s: no diagnostic %d: %s: ...%s...", b->what, b->line, b->path,
                     b->message);
        scenario_diags_free(&d);
    }
}

/* Every problem of a file is listed, in file order, each with its own position. */
static void test_collects_every_problem(void **state)
{
    (void)state;
    const char *text = "{\"version\": 1,\n"
                       " \"probe\": {\"freq_mhz\": 0,\n"
                       "   \"depth_mm\": 100},\n"
                       " \"phantom\": {\"layers\": [{\"tissue\": \"bones\", \"thickness_mm\": -1},\n"
                       "                        {\"tissue\": \"muscle\"}],\n"
                       "   \"widht_mm\": 40},\n"
                       " \"colour\": \"red\"}\n";
    scenario out;
    scenario_diags d = {0};
    assert_false(scenario_load_string(text, &out, &d));
    print_diags(&d);
    static const struct {
        int line, col;
        const char *path;
    } want[] = {
        {2, 24, "probe.freq_mhz"},
        {3, 16, "probe.depth_mm"},
        {4, 36, "phantom.layers[0].tissue"},
        {4, 61, "phantom.layers[0].thickness_mm"},
        {6, 4, "phantom.widht_mm"},
        {7, 2, "colour"},
    };
    assert_int_equal(d.count, 6);
    for (int i = 0; i < 6; i++) {
        assert_string_equal(d.items[i].path, want[i].path);
        assert_int_equal(d.items[i].line, want[i].line);
        assert_int_equal(d.items[i].col, want[i].col);
    }
    assert_non_null(strstr(d.items[4].message, "did you mean \"width_mm\""));
    scenario_diags_free(&d);
}

/* Columns count characters, as editors and jansson do, not bytes. */
static void test_columns_count_characters(void **state)
{
    (void)state;
    scenario out;
    scenario_diags d = {0};
    assert_false(scenario_load_string("{\"name\": \"\xc3\xa9\xe2\x82\xac\", \"version\": 1, "
                                      "\"seed\": 1.5}",
                                      &out, &d));
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].path, "seed");
    assert_int_equal(d.items[0].line, 1);
    assert_int_equal(d.items[0].col, 38);
    scenario_diags_free(&d);
}

/* Diagnostics append: a caller may collect several loads into one list. */
static void test_diags_accumulate(void **state)
{
    (void)state;
    scenario out;
    scenario_diags d = {0};
    assert_false(scenario_load_string("{}", &out, &d));
    assert_false(scenario_load_string("{\"version\": 3}", &out, &d));
    assert_int_equal(d.count, 2);
    assert_string_equal(d.items[1].path, "version");
    scenario_diags_free(&d);
    assert_int_equal(d.count, 0);
    assert_null(d.items);
}

/* A problem in a key that jansson decodes from escapes still finds its position. */
static void test_escaped_keys(void **state)
{
    (void)state;
    scenario out;
    scenario_diags d = {0};
    assert_false(scenario_load_string("{\"version\": 1,\n \"pr\\u006fbe\": {\"fr\\u00e9q\": 1}}",
                                      &out, &d));
    assert_int_equal(d.count, 1);
    assert_string_equal(d.items[0].path, "probe.fr\xc3\xa9q");
    assert_int_equal(d.items[0].line, 2);
    assert_int_equal(d.items[0].col, 17);
    scenario_diags_free(&d);
}

/* A flood of problems is cut at 100 lines plus a note, and never grows without bound. */
static void test_many_problems_are_capped(void **state)
{
    (void)state;
    size_t cap = 300 * 16 + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, cap, "{\"version\": 1");
    for (int i = 0; i < 300; i++)
        n += (size_t)snprintf(text + n, cap - n, ",\n\"k%d\": %d", i, i);
    snprintf(text + n, cap - n, "}");
    scenario out;
    scenario_diags d = {0};
    assert_false(scenario_load_string(text, &out, &d));
    assert_int_equal(d.count, 101);
    assert_non_null(strstr(d.items[100].message, "too many problems"));
    scenario_diags_free(&d);
    free(text);
}

/* ---- files -------------------------------------------------------------------------------- */

static void write_file(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static void write_text(const char *path, const char *text)
{
    write_file(path, text, strlen(text));
}

static void expect_file_error(const char *path, int line, const char *message)
{
    scenario out, before;
    memset(&out, 0x5A, sizeof out);
    memcpy(&before, &out, sizeof out);
    scenario_diags d = {0};
    assert_false(scenario_load_file(path, &out, &d));
    print_diags(&d);
    assert_int_equal(d.count, 1);
    assert_int_equal(d.items[0].line, line);
    assert_string_equal(d.items[0].path, "");
    assert_non_null(strstr(d.items[0].message, message));
    assert_memory_equal(&out, &before, sizeof out);
    scenario_diags_free(&d);
}

static void test_file_errors(void **state)
{
    (void)state;
    char dir[] = "/tmp/mesosim_scenario_XXXXXX";
    char path[256];
    assert_non_null(mkdtemp(dir));

    snprintf(path, sizeof path, "%s/missing.json", dir);
    expect_file_error(path, 0, "cannot open");

    expect_file_error(dir, 0, "cannot read");

    snprintf(path, sizeof path, "%s/empty.json", dir);
    write_file(path, "", 0);
    expect_file_error(path, 0, "empty");

    snprintf(path, sizeof path, "%s/latin1.json", dir);
    write_text(path, "{\"version\": 1,\n\"name\": \"Jos\xe9\"}");
    expect_file_error(path, 2, "not valid UTF-8 (byte 0xE9)");

    snprintf(path, sizeof path, "%s/nul.json", dir);
    write_file(path, "{\"version\": 1}\n\0", 16);
    expect_file_error(path, 2, "NUL");

    /* Just over the cap: the whole file is refused before parsing. */
    size_t big = 4u * 1024u * 1024u + 1u;
    char *buf = malloc(big);
    assert_non_null(buf);
    memset(buf, ' ', big);
    memcpy(buf, "{\"version\": 1}", 14);
    snprintf(path, sizeof path, "%s/big.json", dir);
    write_file(path, buf, big);
    expect_file_error(path, 0, "too large");
    /* Exactly at the cap is still read. */
    write_file(path, buf, big - 1);
    scenario s;
    scenario_diags d = {0};
    assert_true(scenario_load_file(path, &s, &d));
    free(buf);

    /* A byte-order mark is skipped and positions stay those an editor shows. */
    snprintf(path, sizeof path, "%s/bom.json", dir);
    write_text(path, "\xEF\xBB\xBF{\"version\": 1,\n \"seed\": -3}");
    assert_false(scenario_load_file(path, &s, &d));
    assert_int_equal(d.count, 1);
    assert_int_equal(d.items[0].line, 2);
    assert_int_equal(d.items[0].col, 10);
    scenario_diags_free(&d);

    static const char *const names[] = {"missing.json", "empty.json", "latin1.json",
                                        "nul.json", "big.json", "bom.json"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        remove(path);
    }
    remove(dir);
}

/* ---- schema and docs agree with the loader ------------------------------------------------ */

static json_t *schema_resolve(json_t *root, json_t *node)
{
    json_t *ref = json_object_get(node, "$ref");
    if (ref && strncmp(json_string_value(ref), "#/$defs/", 8) == 0)
        return json_object_get(json_object_get(root, "$defs"), json_string_value(ref) + 8);
    return node;
}

/* The schema node that describes a range pattern such as "phantom.vessels[].a_mm[]". */
static json_t *schema_node(json_t *root, const char *pattern)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", pattern);
    json_t *node = root;
    for (char *seg = strtok(buf, "."); seg && node; seg = strtok(NULL, ".")) {
        if (strcmp(seg, "*") == 0) {
            node = schema_resolve(root, json_object_get(node, "additionalProperties"));
            continue;
        }
        char *br = strchr(seg, '[');
        int items = 0;
        if (br) {
            for (char *p = br; *p; p++)
                items += *p == '[';
            *br = '\0';
        }
        node = schema_resolve(root, json_object_get(json_object_get(node, "properties"), seg));
        while (node && items-- > 0)
            node = schema_resolve(root, json_object_get(node, "items"));
    }
    return node;
}

static void test_schema_matches_range_table(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/scenario.schema.json", MESOSIM_SOURCE_DIR);
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        fail_msg("%s:%d: %s", path, je.line, je.text);
    scenario def = scenario_default();
    assert_true(scenario_range_count() > 40);
    assert_null(scenario_range_at(-1));
    assert_null(scenario_range_at(scenario_range_count()));
    for (int i = 0; i < scenario_range_count(); i++) {
        const scenario_range *r = scenario_range_at(i);
        json_t *n = schema_node(root, r->path);
        if (!n)
            fail_msg("schema has no node for %s", r->path);
        const limit *l = limit_get(r->limit);
        assert_non_null(l);
        const char *lo_key = l->min_exclusive ? "exclusiveMinimum" : "minimum";
        json_t *lo = json_object_get(n, lo_key), *hi = json_object_get(n, "maximum");
        if (!lo || !hi || json_number_value(lo) != l->min || json_number_value(hi) != l->max)
            fail_msg("%s: schema %s/maximum differ from the loader's %g..%g", r->path, lo_key,
                     l->min, l->max);
        const char *type = json_string_value(json_object_get(n, "type"));
        assert_non_null(type);
        if (strcmp(type, r->integer ? "integer" : "number") != 0)
            fail_msg("%s: schema type %s", r->path, type);
        double x;
        json_t *dv = json_object_get(n, "default");
        if (scenario_get_number(&def, r->path, &x)) {
            if (!dv || json_number_value(dv) != x)
                fail_msg("%s: schema default differs from scenario_default() %g", r->path, x);
        }
    }
    /* The non-numeric defaults. */
    json_t *probe = schema_node(root, "probe");
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_object_get(probe, "properties"), "tgc"),
                            "default")),
                        def.probe.tgc_on ? "on" : "off");
    json_t *patient = json_object_get(schema_node(root, "patient"), "properties");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(patient, "sex"), "default")),
        def.patient.sex);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(patient, "region"), "default")),
        def.patient.region);
    /* The tissue names the schema lists are the loader's. */
    json_t *names = json_object_get(
        json_object_get(json_object_get(root, "$defs"), "tissue_name"), "enum");
    assert_int_equal(json_array_size(names), TISSUE_COUNT);
    for (int t = 0; t < TISSUE_COUNT; t++)
        assert_string_equal(json_string_value(json_array_get(names, (size_t)t)),
                            tissue_name((tissue_id)t));
    json_decref(root);
}

static void test_docs_name_every_field(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/docs/scenarios.md", MESOSIM_SOURCE_DIR);
    char *doc = read_text(path, NULL);
    for (int i = 0; i < scenario_range_count(); i++) {
        const char *p = scenario_range_at(i)->path;
        const char *dot = strrchr(p, '.');
        char key[64];
        snprintf(key, sizeof key, "`%s", dot ? dot + 1 : p);
        char *br = strchr(key, '[');
        if (br)
            *br = '\0';
        if (!strstr(doc, key))
            fail_msg("docs/scenarios.md does not describe %s", p);
        /* Some row naming the key gives its range as the limits table has it. */
        const limit *l = limit_get(scenario_range_at(i)->limit);
        char range[96];
        snprintf(range, sizeof range, "%.10g..%.10g", l->min, l->max);
        bool ranged = false;
        for (const char *at = strstr(doc, key); at && !ranged; at = strstr(at + 1, key)) {
            const char *eol = strchr(at, '\n');
            const char *hit = strstr(at, range);
            ranged = hit && (!eol || hit < eol);
        }
        if (!ranged)
            fail_msg("docs/scenarios.md gives no range %s for %s", range, p);
    }
    /* The limits table at the end lists every limit as limit.c has it. */
    for (int i = 0; i < LIM_COUNT; i++) {
        const limit *l = limit_get((limit_id)i);
        char row[160];
        if (l->min_exclusive)
            snprintf(row, sizeof row, "| %s | > %.10g, ≤ %.10g | %s |", l->name, l->min, l->max,
                     l->unit[0] ? l->unit : "—");
        else
            snprintf(row, sizeof row, "| %s | %.10g..%.10g | %s |", l->name, l->min, l->max,
                     l->unit[0] ? l->unit : "—");
        if (!strstr(doc, row))
            fail_msg("docs/scenarios.md's limits table lacks the row %s", row);
    }
    for (int i = 0; i < N_PRESETS; i++) {
        char name[64];
        snprintf(name, sizeof name, "%s.json", k_presets[i]);
        if (!strstr(doc, name))
            fail_msg("docs/scenarios.md does not list %s", name);
    }
    free(doc);
}

/* ---- mutation fuzz ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    /* xorshift64*: fixed seed, so a failure reproduces. */
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void test_mutation_fuzz(void **state)
{
    (void)state;
    static const char *const tokens[] = {"{", "}", "[", "]", ",", ":", "\"", "\\", "\\u",
                                         "\\ud800", "-", "0", "1e999", "-1e-999", "null",
                                         "true", "\"layers\"", "\"version\"", "\"tissue\"",
                                         "\xc3", "\xff", "\n", "1.5", "99999999999999999999"};
    char path[512];
    size_t n0;
    preset_path(path, sizeof path, "adult_back");
    char *orig = read_text(path, &n0);
    size_t cap = n0 * 2 + 256;
    char *buf = malloc(cap + 1);
    assert_non_null(buf);
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    int loaded = 0;
    for (int iter = 0; iter < 2000; iter++) {
        memcpy(buf, orig, n0);
        size_t n = n0;
        int edits = 1 + (int)(rng_next(&seed) % 4);
        for (int e = 0; e < edits && n > 0; e++) {
            size_t at = (size_t)(rng_next(&seed) % n);
            switch (rng_next(&seed) % 5) {
            case 0: /* flip a byte */
                buf[at] = (char)(rng_next(&seed) & 0xFF);
                break;
            case 1: { /* delete a run */
                size_t len = 1 + (size_t)(rng_next(&seed) % 16);
                if (at + len > n)
                    len = n - at;
                memmove(buf + at, buf + at + len, n - at - len);
                n -= len;
                break;
            }
            case 2: { /* insert a JSON-ish token */
                const char *t = tokens[rng_next(&seed) % (sizeof tokens / sizeof tokens[0])];
                size_t len = strlen(t);
                if (n + len <= cap) {
                    memmove(buf + at + len, buf + at, n - at);
                    memcpy(buf + at, t, len);
                    n += len;
                }
                break;
            }
            case 3: { /* duplicate a chunk (duplicate keys, repeated elements) */
                size_t len = 1 + (size_t)(rng_next(&seed) % 64);
                if (at + len > n)
                    len = n - at;
                if (n + len <= cap) {
                    memmove(buf + at + len, buf + at, n - at);
                    n += len;
                }
                break;
            }
            default: /* change a digit: numbers out of range */
                for (size_t k = at; k < n; k++) {
                    if (buf[k] >= '0' && buf[k] <= '9') {
                        buf[k] = (char)('0' + rng_next(&seed) % 10);
                        break;
                    }
                }
                break;
            }
        }
        buf[n] = '\0';
        scenario out, before;
        memset(&out, 0x3C, sizeof out);
        memcpy(&before, &out, sizeof out);
        scenario_diags d = {0};
        bool ok = scenario_load_string(buf, &out, &d);
        if (ok) {
            loaded++;
            assert_int_equal(d.count, 0);
            char err[256];
            phantom *ph = phantom_create(&out.phantom, err, sizeof err);
            assert_non_null(ph);
            phantom_destroy(ph);
        } else {
            assert_true(d.count >= 1);
            assert_memory_equal(&out, &before, sizeof out);
            for (int k = 0; k < d.count; k++) {
                assert_true(d.items[k].line >= 0 && d.items[k].col >= 0);
                assert_non_null(memchr(d.items[k].path, '\0', sizeof d.items[k].path));
                assert_null(strchr(d.items[k].message, '\n'));
            }
        }
        scenario_diags_free(&d);
    }
    print_message("mutation fuzz: %d of 2000 mutants still valid\n", loaded);
    free(buf);
    free(orig);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_load),
        cmocka_unit_test(test_presets_differ_as_described),
        cmocka_unit_test(test_minimal_file_is_the_default),
        cmocka_unit_test(test_fields_are_read),
        cmocka_unit_test(test_broken_files),
        cmocka_unit_test(test_collects_every_problem),
        cmocka_unit_test(test_columns_count_characters),
        cmocka_unit_test(test_diags_accumulate),
        cmocka_unit_test(test_escaped_keys),
        cmocka_unit_test(test_many_problems_are_capped),
        cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_schema_matches_range_table),
        cmocka_unit_test(test_docs_name_every_field),
        cmocka_unit_test(test_mutation_fuzz),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
