/* test_report: learning curves, CSV and xAPI from session reports (sim/report). */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "export.h"
#include "learning.h"

/* A minimal report: the score, the pass and one injection per verdict given. */
static json_t *make_report(const char *scenario, double total, bool pass, const char *verdicts)
{
    json_t *inj = json_array();
    for (const char *v = verdicts; *v; v++)
        json_array_append_new(inj, json_pack("{s:s, s:f, s:f, s:f, s:b, s:f, s:f, s:s}", "verdict",
                                             *v == 'i' ? "intradermal" : "subcutaneous", "t_s",
                                             10.0, "tip_depth_mm", 1.5, "margin_mm", 0.25,
                                             "tip_in_slice", *v == 'i', "dermis_fraction", 0.5,
                                             "volume_ml", 0.1, "layer", "dermis"));
    return json_pack("{s:s, s:s, s:b, s:{s:f}, s:{s:f, s:b, s:b}, s:o}", "scenario", scenario,
                     "scenario_hash", "0123456789abcdef", "finished", true, "session", "time_s",
                     61.5, "score", "total", total, "pass", pass, "critical_failed", !pass,
                     "injections", inj);
}

static void test_curve(void **state)
{
    (void)state;
    /* Three sessions: "iis" (2 of 3 intradermal), "" (none), "iiiiiiiiii" (10 of 10). */
    json_t *r[3] = {make_report("A", 60, false, "iis"), make_report("A", 10, false, ""),
                    make_report("B", 90, true, "iiiiiiiiii")};
    learning_meta m[3] = {{"s1", "ann", 100}, {"s2", "ann", 200}, {"s3", "ann", 300}};
    learning_curve c;
    char err[200];
    cusum_def d = cusum_default_def();
    d.limit_h = 1.0;
    assert_true(learning_curve_build(&d, r, m, 3, &c, err, sizeof err));
    assert_int_equal(c.count, 3);
    assert_true(fabs(c.sessions[0].intradermal_rate - 2.0 / 3.0) < 1e-12);
    assert_true(c.sessions[1].intradermal_rate == 0.0);
    assert_true(c.sessions[2].pass);
    assert_string_equal(c.sessions[2].id, "s3");
    assert_true(c.sessions[0].duration_s == 61.5);
    /* Placement, per injection: S S F then 10 S. Scores 0.117783, 0.235566, 0 (floored), then
     * 0.117783 k: above h = 1 first at k = 9 (8 -> 0.942264, 9 -> 1.060047), case 3 + 9 = 12,
     * index 11; that case came from session 3 (index 2). */
    assert_int_equal(c.placement.count, 13);
    assert_true(c.placement.failed[2]);
    assert_true(c.placement.cusum[2] == 0.0);
    assert_int_equal(c.placement.signal, 11);
    assert_int_equal(c.placement.session_of[11], 2);
    /* Sessions: F F S: 0, 0, 0.117783: no signal. */
    assert_int_equal(c.session.count, 3);
    assert_int_equal(c.session.signal, -1);
    assert_true(fabs(c.session.cusum[2] - 0.117783) < 1e-6);
    learning_curve_free(&c);
    for (int i = 0; i < 3; i++)
        json_decref(r[i]);
}

static void assert_arm(const learning_arm *a, int sessions, int injections, int intradermal)
{
    assert_int_equal(a->sessions, sessions);
    assert_int_equal(a->injections, injections);
    assert_int_equal(a->intradermal, intradermal);
}

/* Blind versus guided: a report's "blind": true puts it in the blind arm; only a case done
 * both ways is compared; two trainees' curves pool into the programme's. */
static void test_blind_vs_guided(void **state)
{
    (void)state;
    json_t *r[5] = {make_report("A", 90, true, "iii"), make_report("A", 40, false, "iss"),
                    make_report("A", 40, false, "sss"), make_report("B", 40, false, "is"),
                    make_report("C", 90, true, "ii")};
    json_object_set_new(r[1], "blind", json_true());
    json_object_set_new(r[2], "blind", json_true());
    json_object_set_new(r[3], "blind", json_true()); /* B: blind only */
    learning_curve c, c2;
    char err[200];
    cusum_def d = cusum_default_def();
    assert_true(learning_curve_build(&d, r, NULL, 5, &c, err, sizeof err));
    assert_true(c.sessions[1].blind && !c.sessions[0].blind);
    const learning_bvg *b = &c.blind_vs_guided;
    assert_arm(&b->blind, 3, 8, 2);
    assert_arm(&b->guided, 2, 5, 5);
    assert_int_equal(b->n_cases, 1);
    assert_string_equal(b->cases[0].scenario, "A");
    assert_arm(&b->same_blind, 2, 6, 1);
    assert_arm(&b->same_guided, 1, 3, 3);
    assert_true(fabs(learning_arm_rate(&b->same_blind) - 1.0 / 6.0) < 1e-12);
    /* A second trainee with B guided: pooled, B is done both ways too. */
    json_t *r2[1] = {make_report("B", 60, false, "ii")};
    assert_true(learning_curve_build(&d, r2, NULL, 1, &c2, err, sizeof err));
    assert_int_equal(c2.blind_vs_guided.n_cases, 0);
    assert_true(learning_arm_rate(&c2.blind_vs_guided.blind) < 0);
    const learning_curve *both[2] = {&c, &c2};
    learning_bvg all;
    assert_true(learning_bvg_build(both, 2, &all, err, sizeof err));
    assert_int_equal(all.n_cases, 2);
    assert_arm(&all.same_blind, 3, 8, 2);
    assert_arm(&all.same_guided, 2, 5, 5);
    learning_bvg_free(&all);
    /* CSV: the blind column, after finished, on both kinds of row. */
    char *csv = export_csv(r, NULL, 2, err, sizeof err);
    assert_non_null(csv);
    assert_non_null(strstr(csv, ",started_utc,finished,blind,duration_s,"));
    assert_non_null(strstr(csv, ",true,false,61.5,90,true,"));
    assert_non_null(strstr(csv, ",true,true,61.5,40,false,"));
    free(csv);
    learning_curve_free(&c);
    learning_curve_free(&c2);
    for (int i = 0; i < 5; i++)
        json_decref(r[i]);
    json_decref(r2[0]);
}

static void test_not_a_report(void **state)
{
    (void)state;
    json_t *bad = json_pack("{s:i}", "score", 3);
    learning_curve c;
    char err[200];
    cusum_def d = cusum_default_def();
    assert_false(learning_curve_build(&d, &bad, NULL, 1, &c, err, sizeof err));
    assert_non_null(strstr(err, "not a mesosim session report"));
    json_decref(bad);
}

static void test_csv_quoting(void **state)
{
    (void)state;
    json_t *r = make_report("Case, \"quoted\"", 75, true, "is");
    learning_meta m = {"id-1", "Dr Ada, \"A\"\nline", 0};
    char err[200];
    char *csv = export_csv(&r, &m, 1, err, sizeof err);
    assert_non_null(csv);
    /* The header, then one session row and two injection rows, each ended by CRLF. */
    assert_true(strncmp(csv, "kind,session_id,trainee,scenario,", 33) == 0);
    int lines = 0;
    for (const char *p = csv; (p = strstr(p, "\r\n")); p += 2)
        lines++;
    /* The trainee's line break is inside a quoted field: 4 records, 4 CRLF, one bare LF. */
    assert_int_equal(lines, 4);
    assert_non_null(strstr(csv, "\r\nsession,id-1,\"Dr Ada, \"\"A\"\"\nline\",\"Case, \"\"quoted\"\"\","));
    assert_non_null(strstr(csv, ",1,10,intradermal,dermis,1.5,0.25,true,0.5,0.1\r\n"));
    assert_non_null(strstr(csv, ",2,10,subcutaneous,dermis,1.5,0.25,false,0.5,0.1\r\n"));
    /* The session row: duration, score, pass, critical, injections, rate, 9 empty cells. */
    assert_non_null(strstr(csv, ",61.5,75,true,false,2,0.5,,,,,,,,,\r\n"));
    free(csv);
    json_decref(r);
}

static void test_uuid(void **state)
{
    (void)state;
    char a[37], b[37], c[37];
    export_uuid_from("session-1/passed", a);
    export_uuid_from("session-1/passed", b);
    export_uuid_from("session-2/passed", c);
    assert_string_equal(a, b);
    assert_string_not_equal(a, c);
    assert_int_equal(strlen(a), 36);
    assert_true(a[8] == '-' && a[13] == '-' && a[18] == '-' && a[23] == '-');
    assert_true(a[14] == '4');                          /* version 4 */
    assert_non_null(strchr("89ab", a[19]));             /* variant 10 */
}

static void test_xapi_statements(void **state)
{
    (void)state;
    json_t *r[2] = {make_report("Adult back", 82.5, true, "i"), make_report("Thin", 40, false, "s")};
    json_object_set_new(r[1], "finished", json_false());
    learning_meta m[2] = {{"s1", "ann", 1700000000}, {"s2", "ann", 1700000100}};
    export_xapi_def d = export_xapi_default_def();
    char err[200];
    json_t *st = export_xapi(&d, r, m, 2, err, sizeof err);
    assert_non_null(st);
    /* Finished: completed then passed; cut short: attempted, not complete. */
    assert_int_equal(json_array_size(st), 3);
    const json_t *passed = json_array_get(st, 1);
    assert_string_equal(json_string_value(json_object_get(json_object_get(passed, "verb"), "id")),
                        "http://adlnet.gov/expapi/verbs/passed");
    const json_t *res = json_object_get(passed, "result");
    assert_true(fabs(json_number_value(json_object_get(json_object_get(res, "score"), "scaled")) -
                     0.825) < 1e-12);
    assert_true(json_is_true(json_object_get(res, "success")));
    assert_string_equal(json_string_value(json_object_get(res, "duration")), "PT1M1.50S");
    assert_string_equal(json_string_value(json_object_get(json_object_get(passed, "object"), "id")),
                        "https://mesosim.invalid/cases/Adult%20back");
    assert_string_equal(json_string_value(json_object_get(passed, "timestamp")),
                        "2023-11-14T22:13:20Z");
    const json_t *ext = json_object_get(json_object_get(passed, "context"), "extensions");
    assert_string_equal(json_string_value(json_object_get(ext, d.hash_extension)),
                        "0123456789abcdef");
    const json_t *att = json_array_get(st, 2);
    assert_string_equal(json_string_value(json_object_get(json_object_get(att, "verb"), "id")),
                        "http://adlnet.gov/expapi/verbs/attempted");
    assert_true(json_is_false(json_object_get(json_object_get(att, "result"), "completion")));
    assert_null(json_object_get(json_object_get(att, "result"), "score"));
    /* Exporting again gives the same ids (an LRS keeps one copy). */
    json_t *again = export_xapi(&d, r, m, 2, err, sizeof err);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_object_get(json_array_get(st, i), "id")),
                            json_string_value(json_object_get(json_array_get(again, i), "id")));
    json_decref(again);
    json_decref(st);
    for (int i = 0; i < 2; i++)
        json_decref(r[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_curve),         cmocka_unit_test(test_not_a_report),
        cmocka_unit_test(test_csv_quoting), cmocka_unit_test(test_blind_vs_guided),   cmocka_unit_test(test_uuid),
        cmocka_unit_test(test_xapi_statements),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
