/* The scenario's content hash: it reads what the case means, so a key written at its default
 * (what a format that grew that key would write into every older case) leaves it as it was;
 * any meaningful change moves it; the hash text leaves nothing out that loading cannot put
 * back; and the logs made under the hash's first definition (tests/fixtures) still match their
 * unchanged cases while a changed case is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions.h"
#include "physics_util.h"
#include "scenario.h"

static const char *const k_cases[] = {
    "adolescent_back", "adolescent_six_mm", "adult_back",       "blind_back",
    "excess_adipose",  "hyperkeratosis",    "knee_peripatellar", "lateral_elbow",
    "neck_trapezius",  "ozone_liquid",      "paraspinal_line",  "perforator",
    "prominence_fold", "shoulder_deltoid",  "steep_trap",       "thin_skin",
    "tutorial"};
#define N_CASES ((int)(sizeof k_cases / sizeof k_cases[0]))

static scenario load_text(const char *text)
{
    scenario s;
    scenario_diags d = {0};
    bool ok = scenario_load_string(text, &s, &d);
    for (int i = 0; i < d.count; i++)
        print_message("  %d:%d: %s: %s\n", d.items[i].line, d.items[i].col, d.items[i].path,
                      d.items[i].message);
    scenario_diags_free(&d);
    assert_true(ok);
    return s;
}

static char *read_case_text(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s.json", MESOSIM_SOURCE_DIR, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char *buf = malloc(1 << 20);
    assert_non_null(buf);
    size_t n = fread(buf, 1, (1 << 20) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* text with insert put in just after the first occurrence of after (which must be there). */
static char *insert_after(const char *text, const char *after, const char *insert)
{
    const char *at = strstr(text, after);
    assert_non_null(at);
    size_t head = (size_t)(at - text) + strlen(after);
    char *out = malloc(strlen(text) + strlen(insert) + 1);
    assert_non_null(out);
    memcpy(out, text, head);
    strcpy(out + head, insert);
    strcat(out, text + head);
    return out;
}

static uint64_t hash_of_text(const char *text)
{
    scenario s = load_text(text);
    return scenario_content_hash(&s);
}

/* A case that predates keys (a file without level, goals, heads, bones, blind) and the same
 * case with every one of them written at its default: what a grown canonical writer would put
 * into it. One case, one hash; the legacy definition told them apart. */
static void test_defaults_written_do_not_count(void **state)
{
    (void)state;
    const char *old = "{\"version\": 1, \"name\": \"Hash case\", \"seed\": 7}";
    const char *grown =
        "{\"version\": 1, \"name\": \"Hash case\", \"seed\": 7, \"level\": 1, \"goals\": [],"
        " \"description\": \"\","
        " \"patient\": {\"age_years\": 45, \"sex\": \"unspecified\", \"skin\": \"normal\"},"
        " \"phantom\": {\"surface\": [], \"vessels\": [], \"inclusions\": [], \"bones\": [],"
        "   \"tissues\": {}, \"mechanics\": {}},"
        " \"needle\": {\"count\": 1, \"bevel\": \"up\"},"
        " \"plan\": {\"points\": []},"
        " \"scoring\": {\"measure_dermis\": false, \"require_doppler_check\": false,"
        "   \"weights\": {}},"
        " \"guidance\": {\"ultrasound\": true, \"hint_injections\": 0}}";
    scenario a = load_text(old), b = load_text(grown);
    assert_true(scenario_content_hash(&a) == scenario_content_hash(&b));
    char *t = scenario_hash_string(&b);
    assert_non_null(t);
    /* Only what differs from the defaults: the version, the name and the seed. */
    assert_string_equal(t, "{\n  \"version\": 1,\n  \"name\": \"Hash case\",\n  \"seed\": 7\n}\n");
    free(t);

    /* The same on a real case: the adult back with defaults a newer format might write. */
    char *text = read_case_text("adult_back");
    char *more = insert_after(text, "\"guidance\": {", "\n    \"ultrasound\": true,");
    char *more2 = insert_after(more, "\"needle\": {", "\n    \"count\": 1,");
    char *more3 = insert_after(more2, "\"scoring\": {", "\n    \"measure_dermis\": false,");
    uint64_t h = hash_of_text(text);
    assert_true(hash_of_text(more3) == h);
    /* A value off its default in the same place is a different case. */
    char *blind = insert_after(text, "\"guidance\": {", "\n    \"ultrasound\": false,");
    assert_true(hash_of_text(blind) != h);
    free(blind);
    free(more3);
    free(more2);
    free(more);
    free(text);
}

/* Every change of value moves the hash, to a default value as well as away from one. */
static void test_meaningful_changes_count(void **state)
{
    (void)state;
    scenario a = pu_load_preset("adult_back"), b = a;
    uint64_t h = scenario_content_hash(&a);
    char err[256];
    assert_int_equal(a.level, 2);
    assert_true(scenario_set_int(&b, "level", 1, err, sizeof err)); /* the default */
    assert_true(scenario_content_hash(&b) != h);
    b = a;
    assert_true(scenario_set_int(&b, "seed", (int)a.seed + 1, err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
    b = a;
    assert_true(scenario_set_number(&b, "phantom.layers[2].thickness_mm", 2.5, err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
    b = a;
    assert_true(scenario_set_number(&b, "phantom.vessels[0].radius_mm", 0.3, err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
    b = a;
    assert_true(scenario_set_bool(&b, "needle.bevel", !a.needle.bevel_up, err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
    b = a;
    assert_true(scenario_set_string(&b, "patient.sex", "unspecified", err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
    b = a;
    assert_true(scenario_set_string(&b, "goals[0]", "another goal", err, sizeof err));
    assert_true(scenario_content_hash(&b) != h);
    /* Where a file points editors is no part of the case. */
    b = a;
    snprintf(b.schema, sizeof b.schema, "elsewhere.schema.json");
    assert_true(scenario_content_hash(&b) == h);
}

/* What the hash leaves out, loading puts back: the hash text of every bundled case loads to
 * the same case (its canonical text, byte for byte), so two cases that differ never share one
 * hash text. It holds no empty sections or arrays, and it is shorter than the file. */
static void test_hash_text_is_the_case(void **state)
{
    (void)state;
    for (int i = 0; i < N_CASES; i++) {
        scenario a = pu_load_preset(k_cases[i]);
        char *full = scenario_save_string(&a), *ht = scenario_hash_string(&a);
        assert_non_null(full);
        assert_non_null(ht);
        scenario b = load_text(ht);
        memcpy(b.schema, a.schema, sizeof b.schema); /* the one key the hash drops on purpose */
        char *back = scenario_save_string(&b), *ht2 = scenario_hash_string(&b);
        if (strcmp(back, full))
            print_message("%s: the hash text does not load back to the case\n", k_cases[i]);
        assert_string_equal(back, full);
        assert_string_equal(ht2, ht);
        assert_null(strstr(ht, "{}"));
        assert_null(strstr(ht, "[]"));
        assert_null(strstr(ht, "$schema"));
        assert_true(strlen(ht) < strlen(full));
        free(full);
        free(ht);
        free(back);
        free(ht2);
    }
}

/* The fixtures carry the hashes the first definition gave the adult back and the knee (made
 * before the change, never edited): they still match the unchanged cases, through the legacy
 * definition, and a changed case matches neither definition. */
static void test_legacy_logs_match(void **state)
{
    (void)state;
    static const char *const fixtures[][2] = {{"adult_back", "adult_back_hash1.jsonl"},
                                              {"knee_peripatellar", "knee_peripatellar_hash1.jsonl"}};
    for (int i = 0; i < 2; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/tests/fixtures/%s", MESOSIM_SOURCE_DIR, fixtures[i][1]);
        action_list al;
        assert_true(actions_load_file(path, &al));
        assert_int_equal(al.header.version, 2);
        scenario s = pu_load_preset(fixtures[i][0]);
        char now[17], legacy[17];
        snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_content_hash(&s));
        snprintf(legacy, sizeof legacy, "%016llx", (unsigned long long)scenario_legacy_hash(&s));
        assert_string_not_equal(now, al.header.scenario_hash); /* the definition did change */
        assert_string_equal(legacy, al.header.scenario_hash);
        assert_true(scenario_hash_matches(&s, al.header.scenario_hash));
        assert_true(scenario_hash_matches(&s, now));
        char err[256];
        assert_true(scenario_set_int(&s, "seed", (int)s.seed + 1, err, sizeof err));
        assert_false(scenario_hash_matches(&s, al.header.scenario_hash));
        assert_false(scenario_hash_matches(&s, now));
        actions_free(&al);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_written_do_not_count),
        cmocka_unit_test(test_meaningful_changes_count),
        cmocka_unit_test(test_hash_text_is_the_case),
        cmocka_unit_test(test_legacy_logs_match),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
