/* Blind versus guided (guidance.ultrasound): the key loads, saves and round-trips, only a
 * blind case writes it (so every guided case keeps its text and hash), a wrong type is named
 * in words, and a blind session is scored exactly like a guided one doing the same things,
 * its report marked "blind" where the guided report has no such key. Any case practised blind
 * by option (driver_def.blind: mesosim run --blind, the window's B) gives the guided report
 * but for "blind", with the case file's own scenario_hash; its log's header says "blind" and
 * replays to the identical report with nothing else said. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actions.h"
#include "driver.h"
#include "replay_util.h"
#include "scenario.h"
#include "session.h"
#include "textfile.h"

static char *read_text(const char *path)
{
    char *t;
    size_t n;
    int e;
    assert_int_equal(textfile_read(path, 1 << 22, &t, &n, &e), TEXTFILE_OK);
    return t;
}

static scenario load(const char *text)
{
    scenario s;
    scenario_diags d = {0};
    bool ok = scenario_load_string(text, &s, &d);
    for (int i = 0; i < d.count; i++)
        print_error("%s: %s\n", d.items[i].path, d.items[i].message);
    scenario_diags_free(&d);
    assert_true(ok);
    return s;
}

static void test_key_round_trips_and_only_blind_writes_it(void **state)
{
    (void)state;
    char *text = read_text(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json");
    scenario g = load(text);
    assert_false(g.guidance.blind);
    char *saved = scenario_save_string(&g);
    assert_null(strstr(saved, "ultrasound"));
    assert_string_equal(saved, text); /* the guided case's canonical bytes are unchanged */
    free(saved);
    uint64_t hg = scenario_content_hash(&g);

    scenario b = g;
    char err[256];
    assert_true(scenario_set_bool(&b, "guidance.ultrasound", false, err, sizeof err));
    assert_true(b.guidance.blind);
    saved = scenario_save_string(&b);
    assert_non_null(strstr(saved, "\"ultrasound\": false"));
    scenario back = load(saved);
    assert_true(back.guidance.blind);
    assert_true(scenario_content_hash(&b) != hg);
    free(saved);
    assert_true(scenario_set_string(&b, "guidance.ultrasound", "true", err, sizeof err));
    assert_false(b.guidance.blind);
    assert_false(scenario_set_string(&b, "guidance.ultrasound", "maybe", err, sizeof err));
    assert_non_null(strstr(err, "true or false"));

    /* "ultrasound": "no" is refused with its path and the expected values. */
    json_error_t je;
    json_t *root = json_loads(text, 0, &je);
    assert_non_null(root);
    json_object_set_new(json_object_get(root, "guidance"), "ultrasound", json_string("no"));
    char *bad = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    scenario s;
    scenario_diags d = {0};
    assert_false(scenario_load_string(bad, &s, &d));
    assert_true(d.count >= 1);
    assert_string_equal(d.items[0].path, "guidance.ultrasound");
    assert_non_null(strstr(d.items[0].message, "true"));
    print_message("refused: %s: %s\n", d.items[0].path, d.items[0].message);
    scenario_diags_free(&d);
    free(bad);
    free(text);
}

static json_t *replay_report(const scenario *sc, const char *log)
{
    action_list al;
    assert_true(actions_load_file(log, &al));
    char err[256];
    driver *d = ru_replay(sc, &al, err, sizeof err);
    if (!d)
        print_error("%s\n", err);
    assert_non_null(d);
    char *r = session_report_json(driver_session(d), NULL);
    json_error_t je;
    json_t *j = json_loads(r, 0, &je);
    assert_non_null(j);
    free(r);
    driver_destroy(d);
    actions_free(&al);
    return j;
}

static void test_blind_session_is_scored_like_a_guided_one(void **state)
{
    (void)state;
    char *text = read_text(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json");
    scenario g = load(text), b = g;
    free(text);
    b.guidance.blind = true;
    const char *log = MESOSIM_SOURCE_DIR "/scenarios/sessions/adult_back.expert.log";
    json_t *jg = replay_report(&g, log), *jb = replay_report(&b, log);
    assert_null(json_object_get(jg, "blind"));
    assert_true(json_is_true(json_object_get(jb, "blind")));
    /* Everything else is the same session: score, verdicts, injections, state hash. */
    json_object_del(jb, "blind");
    char *sg = json_dumps(jg, JSON_SORT_KEYS), *sb = json_dumps(jb, JSON_SORT_KEYS);
    assert_string_equal(sg, sb);
    print_message("blind and guided reports equal but for \"blind\" (%zu bytes)\n", strlen(sg));
    free(sg);
    free(sb);
    json_decref(jg);
    json_decref(jb);
}

/* The report with its identity (scenario_hash among them) of the expert run, blind by option or
 * not; *log gets the log as the window writes it (header, then every action), malloc'ed. */
static char *run_report(const scenario *sc, bool blind, const action_list *al, char **log)
{
    driver_def dd = driver_default_def();
    dd.sc = sc;
    dd.simulator_version = "test";
    dd.blind = blind;
    char err[256];
    driver *d = driver_create(&dd, err, sizeof err);
    assert_non_null(d);
    size_t cap = 1 << 20, used = 0;
    *log = malloc(cap);
    assert_non_null(*log);
    used += (size_t)action_format_header(driver_header(d), *log, cap);
    (*log)[used++] = '\n';
    for (int i = 0; i < al->count; i++) {
        assert_true(used + ACTIONS_MAX_LINE < cap);
        used += (size_t)action_format(&al->items[i], *log + used, cap - used);
        (*log)[used++] = '\n';
        if (al->items[i].verb == ACT_END) {
            driver_finish(d, al->items[i].t_s, true);
            break;
        }
        driver_push(d, &al->items[i]);
        driver_step(d, al->items[i].t_s);
    }
    (*log)[used] = '\0';
    assert_true(driver_finished(d));
    char *r = driver_report_json(d);
    driver_destroy(d);
    return r;
}

static void test_any_case_practised_blind_by_option(void **state)
{
    (void)state;
    char *text = read_text(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json");
    scenario g = load(text);
    free(text);
    assert_false(g.guidance.blind);
    action_list al;
    assert_true(actions_load_file(MESOSIM_SOURCE_DIR "/scenarios/sessions/adult_back.expert.log", &al));
    char *glog, *blog;
    char *rg = run_report(&g, false, &al, &glog), *rb = run_report(&g, true, &al, &blog);
    actions_free(&al);

    /* The blind log's header says so and names the case file as loaded; the guided one keeps its bytes. */
    char hash[17];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)scenario_content_hash(&g));
    assert_null(strstr(strtok(glog, "\n"), "blind"));
    char *head = strchr(blog, '\n');
    *head = '\0';
    assert_non_null(strstr(blog, ",\"blind\":true}"));
    assert_non_null(strstr(blog, hash));
    print_message("header: %s\n", blog);
    *head = '\n';

    /* The reports: equal but for "blind", the scenario_hash the file's in both. */
    json_error_t je;
    json_t *jg = json_loads(rg, 0, &je), *jb = json_loads(rb, 0, &je);
    assert_non_null(jg);
    assert_non_null(jb);
    assert_null(json_object_get(jg, "blind"));
    assert_true(json_is_true(json_object_get(jb, "blind")));
    assert_string_equal(json_string_value(json_object_get(jb, "scenario_hash")), hash);
    json_object_del(jb, "blind");
    char *sg = json_dumps(jg, JSON_SORT_KEYS), *sb = json_dumps(jb, JSON_SORT_KEYS);
    assert_string_equal(sg, sb);
    free(sg);
    free(sb);
    json_decref(jg);
    json_decref(jb);

    /* The log replays on the file as it is: blind again, the identical report. */
    action_list back;
    assert_true(actions_load_string(blog, strlen(blog), &back));
    assert_true(back.header.blind);
    assert_true(scenario_hash_matches(&g, back.header.scenario_hash));
    char err[256];
    driver *d = ru_replay(&g, &back, err, sizeof err);
    assert_non_null(d);
    char *again = driver_report_json(d);
    assert_string_equal(again, rb);
    print_message("replayed from its header: the identical report (%zu bytes)\n", strlen(again));
    free(again);
    driver_destroy(d);
    actions_free(&back);
    free(rg);
    free(rb);
    free(glog);
    free(blog);
}

/* The header's key: only true is written, a wrong type is refused in words. */
static void test_header_blind_key(void **state)
{
    (void)state;
    action_log_header h = {.version = 2, .simulator = "0.1.0", .scenario = "Adult back",
                           .scenario_hash = "0123456789abcdef", .seed = 1};
    char line[512], err[200];
    action_format_header(&h, line, sizeof line);
    assert_null(strstr(line, "blind"));
    action_log_header back;
    assert_true(action_parse_header(line, strlen(line), &back, err, sizeof err));
    assert_false(back.blind);
    h.blind = true;
    action_format_header(&h, line, sizeof line);
    assert_true(action_parse_header(line, strlen(line), &back, err, sizeof err));
    assert_true(back.blind);
    const char *bad = "{\"mesosim_log\":2,\"simulator\":\"0.1.0\",\"scenario\":\"A\","
                      "\"scenario_hash\":\"0123456789abcdef\",\"blind\":\"yes\"}";
    assert_false(action_parse_header(bad, strlen(bad), &back, err, sizeof err));
    assert_non_null(strstr(err, "true or false"));
    print_message("refused: %s\n", err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_key_round_trips_and_only_blind_writes_it),
        cmocka_unit_test(test_blind_session_is_scored_like_a_guided_one),
        cmocka_unit_test(test_any_case_practised_blind_by_option),
        cmocka_unit_test(test_header_blind_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
