/* The records store (sim/store/records.h) on its SQLite engine: a session written through
 * the store reads back (the report byte for byte, the action log replayable, every injection
 * figure and feedback line in its table); writes sent twice leave no duplicate (what a
 * station's outbox relies on); session ids by prefix; bad names, ids and files give plain
 * errors; a store newer than the program is refused; the writer-thread recorder on a real
 * driver session stores the driver's own report and the actions that replay to it; and blind
 * and guided sessions of one case compare by the reports' own verdicts, also after an upgrade
 * from schema 3. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "actions.h"
#include "driver.h"
#include "records.h"
#include "records_recorder.h"
#include "replay_util.h"
#include "scenario.h"

static const char *demo_path(void) { return MESOSIM_SOURCE_DIR "/scenarios/sessions/adult_back_demo.jsonl"; }
static const char *scen_path(void) { return MESOSIM_SOURCE_DIR "/scenarios/adult_back.json"; }

static char g_dir[256];

static void db_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", g_dir, name);
}

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof g_dir, "%s/mesosim_records.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static int count_rows(const char *path, const char *sql)
{
    sqlite3 *db;
    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return n;
}

/* The demo replayed: its actions (canonical lines) and its report with the identity keys. */
typedef struct demo {
    scenario sc;
    action_list al;
    char *report;
    action_log_header header;
} demo;

static void demo_load(demo *d)
{
    scenario_diags dg = {0};
    assert_true(scenario_load_file(scen_path(), &d->sc, &dg));
    scenario_diags_free(&dg);
    assert_true(actions_load_file(demo_path(), &d->al));
    char err[300];
    driver *drv = ru_replay(&d->sc, &d->al, err, sizeof err);
    assert_non_null(drv);
    d->report = driver_report_json(drv);
    d->header = *driver_header(drv);
    driver_destroy(drv);
    assert_non_null(d->report);
}

static void demo_free(demo *d)
{
    actions_free(&d->al);
    free(d->report);
}

/* Writes the demo as a session through the store's calls, n_actions of them (-1: all, and the end). */
static void write_session(records *r, const demo *d, const char *id, const char *trainee, int n_actions)
{
    char err[400];
    records_session_def sd = {.id = id, .trainee = trainee, .header = &d->header, .scenario_path = scen_path(),
                              .device = "script", .started_unix_s = 1.0e9};
    assert_true(records_session_begin(r, &sd, err, sizeof err));
    int n = n_actions < 0 ? d->al.count : n_actions;
    for (int i = 0; i < n; i++) {
        char line[ACTIONS_MAX_LINE];
        action_format(&d->al.items[i], line, sizeof line);
        assert_true(records_session_action(r, id, i + 1, line, err, sizeof err));
    }
    if (n_actions < 0)
        assert_true(records_session_end(r, id, d->report, true, 1.0e9 + 80, err, sizeof err));
}

static void test_session_round_trip(void **state)
{
    (void)state;
    demo d;
    demo_load(&d);
    char path[400], err[400], id[RECORDS_ID_LEN];
    db_path(path, sizeof path, "round.db");
    records *r = records_open(path, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(records_engine(r), "sqlite");
    assert_int_equal(records_schema_version(r, err, sizeof err), RECORDS_SCHEMA_VERSION);
    assert_true(records_new_id(id, err, sizeof err));
    assert_int_equal(strlen(id), 36);
    assert_int_equal(id[14], '4');
    write_session(r, &d, id, "Dr Ada", -1);

    char *rep = records_session_report_json(r, id, err, sizeof err);
    assert_non_null(rep);
    assert_string_equal(rep, d.report);
    free(rep);

    /* The stored log reads back to the same actions (and the header names the case). */
    char *log = records_session_log(r, id, err, sizeof err);
    assert_non_null(log);
    action_list back;
    assert_true(actions_load_string(log, strlen(log), &back));
    free(log);
    assert_int_equal(back.header.version, 2);
    assert_string_equal(back.header.scenario_hash, d.header.scenario_hash);
    assert_int_equal(back.count, d.al.count);
    char rerr[300];
    char *again = ru_replay_report(scen_path(), &back, rerr, sizeof rerr);
    char *orig = ru_replay_report(scen_path(), &d.al, rerr, sizeof rerr);
    assert_non_null(again);
    assert_non_null(orig);
    assert_string_equal(again, orig);
    free(again);
    free(orig);
    actions_free(&back);

    records_session s;
    assert_true(records_get_session(r, id, &s, err, sizeof err));
    assert_string_equal(s.trainee, "Dr Ada");
    assert_string_equal(s.scenario, "Adult back");
    assert_string_equal(s.device, "script");
    assert_true(s.ended && s.finished && s.pass);
    assert_true(s.score > 90.0 && s.score <= 100.0);
    assert_int_equal(s.injections, 2);
    assert_int_equal(s.actions, d.al.count);
    records_close(r);

    /* Every scored figure in the injections table, the feedback in its own. */
    assert_int_equal(count_rows(path, "SELECT count(*) FROM injections WHERE verdict = 'intradermal' AND "
                                      "tip_depth_mm > 1.5 AND tip_depth_mm < 2.0 AND tip_in_slice = 1 AND "
                                      "margin_mm > 0 AND dermis_fraction > 0.5 AND approach = 'out_of_plane'"),
                     2);
    assert_true(count_rows(path, "SELECT count(*) FROM feedback WHERE message LIKE 'Passed:%'") == 1);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM schema_version"), 1);
    demo_free(&d);
}

static void test_resend_no_duplicate(void **state)
{
    (void)state;
    demo d;
    demo_load(&d);
    char path[400], err[400], id[RECORDS_ID_LEN];
    db_path(path, sizeof path, "twice.db");
    records *r = records_open(path, err, sizeof err);
    assert_non_null(r);
    assert_true(records_new_id(id, err, sizeof err));
    write_session(r, &d, id, "Dr Ada", -1);
    write_session(r, &d, id, "Dr Ada", -1);
    records_session *list;
    int n;
    assert_true(records_list_sessions(r, "Dr Ada", &list, &n, err, sizeof err));
    assert_int_equal(n, 1);
    assert_int_equal(list[0].actions, d.al.count);
    assert_int_equal(list[0].injections, 2);
    records_sessions_free(list);
    records_close(r);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM injections"), 2);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM trainees"), 1);
    demo_free(&d);
}

typedef struct each_seen {
    const records_session *list;
    int count, stop_after;
} each_seen;

static bool each_check(void *ctx, const records_session *s)
{
    each_seen *e = ctx;
    assert_string_equal(s->id, e->list[e->count].id);
    assert_int_equal(s->actions, e->list[e->count].actions);
    return ++e->count < e->stop_after;
}

static void test_lists_and_prefixes(void **state)
{
    (void)state;
    demo d;
    demo_load(&d);
    char path[400], err[400];
    db_path(path, sizeof path, "lists.db");
    records *r = records_open(path, err, sizeof err);
    assert_non_null(r);
    write_session(r, &d, "aaaa0000-0000-4000-8000-000000000001", "Bea", -1);
    write_session(r, &d, "aaaa0000-0000-4000-8000-000000000002", "Bea", 5);
    write_session(r, &d, "bbbb0000-0000-4000-8000-000000000003", "Cal", -1);
    assert_true(records_trainee_create(r, "Dee", err, sizeof err));

    records_session *list;
    int n;
    assert_true(records_list_sessions(r, "Bea", &list, &n, err, sizeof err));
    assert_int_equal(n, 2);
    assert_false(list[1].ended);
    assert_int_equal(list[1].actions, 5);
    assert_true(list[1].score < 0);
    records_sessions_free(list);
    assert_true(records_list_sessions(r, NULL, &list, &n, err, sizeof err));
    assert_int_equal(n, 3);
    /* Streamed: the same rows in the same order, and a stop after two is no failure. */
    each_seen seen = {.list = list, .stop_after = 99};
    assert_true(records_each_session(r, NULL, each_check, &seen, err, sizeof err));
    assert_int_equal(seen.count, 3);
    seen = (each_seen){.list = list, .stop_after = 2};
    assert_true(records_each_session(r, NULL, each_check, &seen, err, sizeof err));
    assert_int_equal(seen.count, 2);
    /* An ended session's count of actions is kept in its row (schema 3): every action. */
    assert_true(list[0].ended);
    assert_int_equal(list[0].actions, d.al.count);
    records_sessions_free(list);

    records_trainee *t;
    assert_true(records_list_trainees(r, &t, &n, err, sizeof err));
    assert_int_equal(n, 3);
    assert_string_equal(t[0].name, "Bea");
    assert_int_equal(t[0].sessions, 2);
    assert_int_equal(t[0].passed, 1);
    assert_string_equal(t[2].name, "Dee");
    assert_int_equal(t[2].sessions, 0);
    assert_true(t[2].best_score < 0);
    free(t);

    records_session s;
    assert_true(records_get_session(r, "bbbb", &s, err, sizeof err));
    assert_string_equal(s.trainee, "Cal");
    assert_false(records_get_session(r, "aaaa", &s, err, sizeof err));
    assert_non_null(strstr(err, "more than one session"));
    assert_false(records_get_session(r, "cccc", &s, err, sizeof err));
    assert_non_null(strstr(err, "no session cccc"));
    assert_false(records_get_session(r, "a%'; --", &s, err, sizeof err));
    assert_non_null(strstr(err, "no session id"));
    assert_null(records_session_report_json(r, "aaaa0000-0000-4000-8000-000000000002", err, sizeof err));
    assert_non_null(strstr(err, "cut short"));

    assert_false(records_trainee_create(r, "", err, sizeof err));
    assert_non_null(strstr(err, "1 to 127"));
    assert_false(records_trainee_create(r, "tab\there", err, sizeof err));
    assert_non_null(strstr(err, "control characters"));
    records_close(r);
    demo_free(&d);
}

static void test_bad_files(void **state)
{
    (void)state;
    char path[400], err[400];
    db_path(path, sizeof path, "junk.db");
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    for (int i = 0; i < 2000; i++)
        fputs("this is no database ", f);
    fclose(f);
    assert_null(records_open(path, err, sizeof err));
    assert_non_null(strstr(err, "not a usable records database"));

    assert_null(records_open("", err, sizeof err));
    assert_non_null(strstr(err, "no records database"));
    assert_null(records_open("/proc/no/such/records.db", err, sizeof err));
    assert_true(err[0] != '\0');

    /* A store from a newer program is refused, untouched. */
    db_path(path, sizeof path, "newer.db");
    records *r = records_open(path, err, sizeof err);
    assert_non_null(r);
    records_close(r);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "UPDATE schema_version SET version = 99", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    assert_null(records_open(path, err, sizeof err));
    assert_non_null(strstr(err, "newer than this program"));

    /* A password in a URL is refused before any connection, and never repeated. */
    assert_null(records_open("postgresql://ada:s3cret@127.0.0.1:1/lab", err, sizeof err));
    assert_null(strstr(err, "s3cret"));
    assert_non_null(strstr(err, "PGPASSFILE"));
    char shown[200];
    records_redact("postgresql://ada:s3cret@host/db", shown, sizeof shown);
    assert_string_equal(shown, "postgresql://ada:***@host/db");
    records_redact("/home/ada/records.db", shown, sizeof shown);
    assert_string_equal(shown, "/home/ada/records.db");
    /* A server that is not there: a plain message, no crash. */
    assert_null(records_open("postgresql://127.0.0.1:1/lab", err, sizeof err));
    assert_non_null(strstr(err, "cannot connect to postgresql://127.0.0.1:1/lab"));
}

static void test_recorder_on_driver(void **state)
{
    (void)state;
    demo d;
    demo_load(&d);
    char path[400], err[400], id[RECORDS_ID_LEN];
    db_path(path, sizeof path, "recorder.db");
    driver_def dd = driver_default_def();
    dd.sc = &d.sc;
    dd.simulator_version = "test";
    driver *drv = driver_create(&dd, err, sizeof err);
    assert_non_null(drv);
    records_recorder_def rd = records_recorder_default_def();
    rd.db = path;
    rd.trainee = "Eve";
    rd.scenario_path = scen_path();
    recorder rec;
    assert_true(records_recorder_create(&rd, &rec, id, err, sizeof err));
    assert_true(driver_add_recorder(drv, &rec, err, sizeof err));
    for (int i = 0; i < d.al.count; i++) {
        const action *a = &d.al.items[i];
        if (a->verb == ACT_END) {
            driver_finish(drv, a->t_s, true);
            break;
        }
        driver_push(drv, a);
        driver_step(drv, a->t_s);
    }
    if (!driver_finished(drv)) {
        const driver_snapshot *snap = driver_acquire(drv);
        double t_end = snap->injecting ? snap->inject_end_s : snap->t_s;
        driver_release(drv, snap);
        driver_finish(drv, t_end, true);
    }
    char *report = driver_report_json(drv);
    driver_stats st = driver_get_stats(drv);
    assert_int_equal(st.record_failures, 0);
    driver_destroy(drv); /* closes the recorder: the queue is written first */

    records *r = records_open(path, err, sizeof err);
    assert_non_null(r);
    char *stored = records_session_report_json(r, id, err, sizeof err);
    assert_non_null(stored);
    assert_string_equal(stored, report);
    records_session s;
    assert_true(records_get_session(r, id, &s, err, sizeof err));
    assert_string_equal(s.device, "keyboard");
    assert_string_equal(s.trainee, "Eve");
    assert_true(s.actions > 0);
    assert_true(records_check(r, err, sizeof err));
    free(stored);
    free(report);
    records_close(r);

    rd.trainee = "";
    assert_false(records_recorder_create(&rd, &rec, id, err, sizeof err));
    assert_non_null(strstr(err, "--trainee"));
    demo_free(&d);
}

/* The demo's actions replayed on its case made blind (guidance.ultrasound false): a real blind
 * report of the same case ("Adult back", by name). */
static char *blind_report(const demo *d)
{
    scenario sc = d->sc;
    sc.guidance.blind = true;
    char err[300];
    driver *drv = ru_replay(&sc, &d->al, err, sizeof err);
    assert_non_null(drv);
    char *rep = driver_report_json(drv);
    driver_destroy(drv);
    assert_non_null(rep);
    assert_non_null(strstr(rep, "\"blind\": true"));
    return rep;
}

/* A report's injections and those judged intradermal, counted from its text. */
static void count_verdicts(const char *report, int *injections, int *intradermal)
{
    *injections = *intradermal = 0;
    for (const char *p = report; (p = strstr(p, "\"verdict\": \"")); p++) {
        (*injections)++;
        *intradermal += !strncmp(p + 12, "intradermal\"", 12);
    }
}

static void assert_arm(const records_arm *a, int sessions, int injections, int intradermal)
{
    assert_int_equal(a->sessions, sessions);
    assert_int_equal(a->injections, injections);
    assert_int_equal(a->intradermal, intradermal);
}

/* Blind versus guided (issue 13): the blind column comes from the report, the arms count the
 * reports' own verdicts, only a case done both ways is compared; a schema-3 store upgrades
 * to the same figures, blind derived from the reports it kept. */
static void test_blind_vs_guided(void **state)
{
    (void)state;
    demo d;
    demo_load(&d);
    char *guided = d.report, *blind = blind_report(&d);
    int gi, gd, bi, bd;
    count_verdicts(guided, &gi, &gd);
    count_verdicts(blind, &bi, &bd);
    assert_true(gi > 0 && bi == gi);
    char path[400], err[400];
    db_path(path, sizeof path, "bvg.db");
    records *r = records_open(path, err, sizeof err);
    assert_non_null(r);
    write_session(r, &d, "cccc0000-0000-4000-8000-000000000001", "Bea", -1);
    write_session(r, &d, "cccc0000-0000-4000-8000-000000000002", "Bea", -1);
    d.report = blind;
    write_session(r, &d, "cccc0000-0000-4000-8000-000000000003", "Bea", -1);
    write_session(r, &d, "cccc0000-0000-4000-8000-000000000004", "Bea", 3); /* not ended: in no arm */
    write_session(r, &d, "cccc0000-0000-4000-8000-000000000005", "Cal", -1); /* blind only */
    d.report = guided;
    /* Practised blind by option (the header says so) and cut short: blind from its start, so
     * its replay runs blind; with no report it is still in no arm. */
    d.header.blind = true;
    write_session(r, &d, "cccc0000-0000-4000-8000-000000000006", "Bea", 3);
    d.header.blind = false;
    records_session cut;
    assert_true(records_get_session(r, "cccc0000-0000-4000-8000-000000000006", &cut, err, sizeof err));
    assert_true(cut.blind);
    assert_false(cut.ended);
    char *cut_log = records_session_log(r, "cccc0000-0000-4000-8000-000000000006", err, sizeof err);
    assert_non_null(cut_log);
    action_list cut_al;
    assert_true(actions_load_string(cut_log, strlen(cut_log), &cut_al));
    assert_true(cut_al.header.blind);
    assert_int_equal(cut_al.count, 3);
    actions_free(&cut_al);
    free(cut_log);

    records_session s;
    assert_true(records_get_session(r, "cccc0000-0000-4000-8000-000000000003", &s, err, sizeof err));
    assert_true(s.blind);
    assert_int_equal(s.intradermal, bd);
    assert_true(records_get_session(r, "cccc0000-0000-4000-8000-000000000001", &s, err, sizeof err));
    assert_false(s.blind);
    assert_int_equal(s.intradermal, gd);

    records_bvg b;
    assert_true(records_blind_vs_guided(r, "Bea", &b, err, sizeof err));
    assert_arm(&b.guided, 2, 2 * gi, 2 * gd);
    assert_arm(&b.blind, 1, bi, bd);
    assert_int_equal(b.n_cases, 1);
    assert_string_equal(b.cases[0].scenario, "Adult back");
    assert_arm(&b.cases[0].guided, 2, 2 * gi, 2 * gd);
    assert_arm(&b.same_blind, 1, bi, bd);
    assert_true(fabs(records_arm_rate(&b.guided) - (double)gd / gi) < 1e-12);
    records_bvg_free(&b);
    assert_true(records_blind_vs_guided(r, "Cal", &b, err, sizeof err));
    assert_arm(&b.blind, 1, bi, bd);
    assert_arm(&b.guided, 0, 0, 0);
    assert_int_equal(b.n_cases, 0); /* nothing guided to compare with */
    assert_true(records_arm_rate(&b.guided) < 0);
    records_bvg_free(&b);
    assert_true(records_blind_vs_guided(r, NULL, &b, err, sizeof err)); /* the programme */
    assert_arm(&b.blind, 2, 2 * bi, 2 * bd);
    assert_arm(&b.same_guided, 2, 2 * gi, 2 * gd);
    records_bvg_free(&b);
    records_close(r);

    /* The same store as schema 3 had it: no blind, no intradermal. */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "ALTER TABLE sessions DROP COLUMN blind; ALTER TABLE sessions DROP COLUMN "
                                      "intradermal; UPDATE schema_version SET version = 3",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(db);
    r = records_open(path, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(records_schema_version(r, err, sizeof err), 4);
    assert_true(records_blind_vs_guided(r, "Bea", &b, err, sizeof err));
    assert_arm(&b.guided, 2, 2 * gi, 2 * gd);
    assert_arm(&b.blind, 1, bi, bd);
    assert_int_equal(b.n_cases, 1);
    records_bvg_free(&b);
    records_close(r);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM sessions WHERE blind = 1"), 2);
    assert_int_equal(count_rows(path, "SELECT count(*) FROM sessions WHERE blind IS NULL"), 2);
    free(blind);
    demo_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_session_round_trip), cmocka_unit_test(test_resend_no_duplicate),
        cmocka_unit_test(test_lists_and_prefixes), cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_recorder_on_driver), cmocka_unit_test(test_blind_vs_guided),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
