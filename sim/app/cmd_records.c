/* mesosim replay and mesosim history: the trainees' records (sim/store/records.h) from the
 * command line, and the recording options `mesosim run` shares (records_cli_attach).
 *
 * replay plays a recorded session's actions again, headless, on the scenario file it was
 * recorded on (or --scenario), and writes the report: the same bytes as the one recorded. A
 * scenario whose content hash has changed since is refused in plain words (--force replays
 * anyway). history lists a trainee's sessions (score, pass) and their intradermal rate blind
 * versus guided (records_blind_vs_guided) or, with no --trainee, everyone with their
 * progress: the instructor's view. */
#define _XOPEN_SOURCE 700 /* realpath */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions.h"
#include "atomic_file.h"
#include "cli_util.h"
#include "commands.h"
#include "driver.h"
#include "records.h"
#include "records_config.h"
#include "records_recorder.h"
#include "scenario.h"

bool records_cli_db(const char *given, char *out, size_t cap)
{
    if (given) {
        if (snprintf(out, cap, "%s", given) >= (int)cap) {
            fprintf(stderr, "mesosim: --db: too long\n");
            return false;
        }
        return true;
    }
    records_config c;
    char err[600];
    if (!records_config_load(NULL, &c, err, sizeof err)) {
        fprintf(stderr, "mesosim: %s\n", err);
        return false;
    }
    if (c.db[0]) {
        if (snprintf(out, cap, "%s", c.db) >= (int)cap) {
            fprintf(stderr, "mesosim: %s: the db is too long\n", c.path);
            return false;
        }
        return true;
    }
    if (!records_default_path(out, cap)) {
        fprintf(stderr, "mesosim: no records database: set XDG_DATA_HOME or HOME, or pass --db PATH\n");
        return false;
    }
    return true;
}

bool records_cli_attach(driver *d, const char *db, const char *trainee, const char *device, const char *scen_path,
                        char session_id[RECORDS_ID_LEN])
{
    char path[4096], err[600];
    if (!records_cli_db(db, path, sizeof path))
        return false;
    records_recorder_def rd = records_recorder_default_def();
    rd.db = path;
    rd.trainee = trainee;
    rd.device = device;
    char abs[4096];
    rd.scenario_path = scen_path && realpath(scen_path, abs) ? abs : scen_path;
    recorder rec;
    if (!records_recorder_create(&rd, &rec, session_id, err, sizeof err)) {
        fprintf(stderr, "mesosim: %s\n", err);
        return false;
    }
    if (!driver_add_recorder(d, &rec, err, sizeof err)) {
        rec.close(rec.user);
        fprintf(stderr, "mesosim: %s\n", err);
        return false;
    }
    return true;
}

/* ---- replay ----------------------------------------------------------------------------- */

static void replay_usage(FILE *f)
{
    fprintf(f, "usage: mesosim replay SESSION_ID --report FILE.json [--db PATH|URL] [--scenario FILE] [--force]\n"
               "Replays a recorded session headless from its stored actions and writes its report, the\n"
               "same as the one recorded. SESSION_ID is the id 'mesosim history' shows, or its first\n"
               "characters (at least 4). The scenario is the file the session was recorded on, or\n"
               "--scenario; one whose content has changed since is refused (--force: replay anyway).\n"
               "--db: the records (default $XDG_DATA_HOME/mesosim/records.db; docs/records.md).\n"
               "Exit status: 0 replayed, 1 no such session, a changed case, a report that differs from\n"
               "the recorded one (without --force) or a bad store, 2 bad usage.\n");
}

/* The session's report, replayed; NULL after telling why. */
static char *replay_report(const scenario *sc, const action_list *al, bool finished, const char *id)
{
    char err[300];
    driver_def dd = driver_default_def();
    dd.sc = sc;
    dd.simulator_version = MESOSIM_VERSION;
    dd.blind = al->header.blind; /* practised blind by option: replayed blind */
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d) {
        fprintf(stderr, "mesosim replay: %s\n", err);
        return NULL;
    }
    for (int i = 0; i < al->count && !driver_finished(d); i++) {
        const action *a = &al->items[i];
        if (a->verb == ACT_END) {
            driver_finish(d, a->t_s, finished);
            continue;
        }
        driver_push(d, a);
        driver_step(d, a->t_s);
        int n;
        const session_event *ev = driver_events(d, &n);
        for (int k = 0; k < n; k++)
            if (ev[k].kind == SEV_ACTION_REFUSED) {
                fprintf(stderr, "mesosim replay: session %s, action %d: %s\n", id, i + 1, ev[k].message);
                driver_destroy(d);
                return NULL;
            }
    }
    if (!driver_finished(d)) {
        /* Cut short (the program was killed): end it where its last injection would have. */
        const driver_snapshot *snap = driver_acquire(d);
        double t_end = snap->injecting ? snap->inject_end_s : snap->t_s;
        driver_release(d, snap);
        driver_finish(d, t_end, true);
    }
    char *text = driver_report_json(d);
    driver_destroy(d);
    if (!text)
        fprintf(stderr, "mesosim replay: out of memory\n");
    return text;
}

int cmd_replay(int argc, char **argv)
{
    const char *id = NULL, *db = NULL, *report = NULL, *scen_path = NULL;
    bool force = false;
    const cli_option opts[] = {
        CLI_STRING("--report", &report),
        CLI_STRING("--db", &db),
        CLI_STRING("--scenario", &scen_path),
        CLI_FLAG("--force", &force),
    };
    int parsed = cli_parse_args(&(cli_args_def){.command = "mesosim replay", .options = opts,
                                                .n_options = CLI_N_OPTIONS(opts), .usage = replay_usage,
                                                .operand = &id, .operand_name = "session"},
                                argc, argv);
    if (parsed != CLI_ARGS_CONTINUE)
        return parsed;
    if (!id || !report) {
        fprintf(stderr, "mesosim replay: a SESSION_ID and --report are required\n");
        replay_usage(stderr);
        return 2;
    }
    char path[4096], err[600];
    if (!records_cli_db(db, path, sizeof path))
        return 1;
    records *r = records_open(path, err, sizeof err);
    if (!r) {
        fprintf(stderr, "mesosim replay: %s\n", err);
        return 1;
    }
    records_session s;
    char *log = NULL, *stored = NULL;
    int status = 1;
    if (!records_get_session(r, id, &s, err, sizeof err) || !(log = records_session_log(r, s.id, err, sizeof err))) {
        fprintf(stderr, "mesosim replay: %s\n", err);
        goto done;
    }
    if (s.ended)
        stored = records_session_report_json(r, s.id, err, sizeof err);
    if (!scen_path)
        scen_path = s.scenario_path[0] ? s.scenario_path : NULL;
    if (!scen_path) {
        fprintf(stderr, "mesosim replay: session %s does not say which scenario file it was played on: pass "
                        "--scenario FILE (its case is \"%s\")\n", s.id, s.scenario);
        goto done;
    }
    scenario sc;
    if (!cli_load_scenario(scen_path, &sc))
        goto done;
    char now[17];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_content_hash(&sc));
    if (!scenario_hash_matches(&sc, s.scenario_hash)) {
        fprintf(stderr,
                "mesosim replay: session %s was recorded on scenario \"%s\" with content hash %s, but %s now "
                "hashes to %s: the case has changed since, and replaying it would score a different case%s\n",
                s.id, s.scenario, s.scenario_hash, scen_path, now,
                force ? " (replaying anyway: --force)" : ". Pass --force to replay it anyway");
        if (!force)
            goto done;
    }
    action_list al;
    if (!actions_load_string(log, strlen(log), &al)) {
        fprintf(stderr, "mesosim replay: session %s: its stored actions do not read back (%s)\n", s.id,
                al.n_errors ? al.errors[0].message : "no reason given");
        actions_free(&al);
        goto done;
    }
    char *text = replay_report(&sc, &al, s.ended ? s.finished : true, s.id);
    actions_free(&al);
    if (!text)
        goto done;
    size_t len = strlen(text);
    char *buf = malloc(len + 2);
    if (buf) {
        memcpy(buf, text, len);
        buf[len] = '\n';
    }
    if (!buf || atomic_file_write(report, buf, len + 1, err, sizeof err) != 0) {
        fprintf(stderr, "mesosim replay: %s\n", buf ? err : "out of memory");
    } else {
        printf("{\"session\":\"%s\",\"report\":", s.id);
        cli_print_json_string(stdout, report);
        printf(",\"actions\":%d,\"recorded_report\":%s}\n", s.actions,
               !stored ? "\"none: the session was cut short\"" : !strcmp(stored, text) ? "\"identical\"" : "\"differs\"");
        bool differs = stored && strcmp(stored, text) != 0;
        status = differs && !force ? 1 : 0;
        if (differs)
            fprintf(stderr, "mesosim replay: the replayed report differs from the one recorded\n");
    }
    free(buf);
    free(text);
done:
    free(log);
    free(stored);
    records_close(r);
    return status;
}

/* ---- history ------------------------------------------------------------------------------ */

static void history_usage(FILE *f)
{
    fprintf(f, "usage: mesosim history [--trainee NAME] [--db PATH|URL] [--json]\n"
               "With --trainee: that trainee's sessions, oldest first (date, id, scenario, score, pass),\n"
               "then their intradermal rate blind and guided, overall and on the cases done both ways.\n"
               "Without: every trainee with their progress (sessions, passed, best and last score).\n"
               "--json: {\"trainee\":..., \"sessions\":[{\"id\",\"scenario\",\"score\",\"pass\",...}],\n"
               "\"blind_vs_guided\":{\"blind\",\"guided\",\"same_cases\",\"cases\"}} or\n"
               "{\"trainees\":[...]}. --db: the records (default $XDG_DATA_HOME/mesosim/records.db).\n");
}

static void fmt_date(double unix_s, char *out, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A number as jansson writes it with JSON_REAL_PRECISION(6) (%.6g, ".0" on a whole one), so
 * the streamed history reads like the rest of mesosim's JSON. */
static void print_real(FILE *f, double v)
{
    char buf[40];
    snprintf(buf, sizeof buf, "%.6g", v);
    fputs(buf, f);
    if (!strpbrk(buf, ".eEn"))
        fputs(".0", f);
}

typedef struct history_out {
    FILE *f;
    bool json;
    int count;
} history_out;

/* One session straight to stdout: 10 000 of them in well under 0.2 s (issue 12) means no
 * list and no JSON tree in between. */
static bool history_row(void *ctx, const records_session *s)
{
    history_out *o = ctx;
    FILE *f = o->f;
    char date[32];
    fmt_date(s->started_unix_s, date, sizeof date);
    if (o->json) {
        fputs(o->count ? ",\n    {\n      \"id\": " : "\n    {\n      \"id\": ", f);
        cli_print_json_string(f, s->id);
        fputs(",\n      \"scenario\": ", f);
        cli_print_json_string(f, s->scenario);
        fprintf(f, ",\n      \"started\": \"%s\",\n      \"device\": ", date);
        cli_print_json_string(f, s->device);
        fprintf(f, ",\n      \"ended\": %s,\n      \"finished\": %s,\n      \"injections\": %d,\n      \"actions\": %d,\n"
                   "      \"intradermal\": %d,\n      \"blind\": %s,\n      \"score\": ",
                s->ended ? "true" : "false", s->finished ? "true" : "false", s->injections, s->actions,
                s->intradermal, !s->ended ? "null" : s->blind ? "true" : "false");
        if (s->ended)
            print_real(f, s->score);
        else
            fputs("null", f);
        fprintf(f, ",\n      \"pass\": %s\n    }", !s->ended ? "null" : s->pass ? "true" : "false");
    } else if (s->ended) {
        fprintf(f, "  %s  %.8s  %-24s %6.1f  %s%s\n", date, s->id, s->scenario, s->score, s->pass ? "pass" : "fail",
                s->blind ? "  blind" : "");
    } else {
        fprintf(f, "  %s  %.8s  %-24s      -  cut short after %d actions\n", date, s->id, s->scenario, s->actions);
    }
    o->count++;
    return true;
}

static json_t *arm_json(const records_arm *a)
{
    double rate = records_arm_rate(a);
    json_t *o = json_pack("{s:i,s:i,s:i}", "sessions", a->sessions, "injections", a->injections, "intradermal",
                          a->intradermal);
    json_object_set_new(o, "rate", rate >= 0 ? json_real(rate) : json_null());
    return o;
}

/* The "blind_vs_guided" object of history --json (docs/records.md). */
static json_t *bvg_json(const records_bvg *b)
{
    json_t *cases = json_array();
    for (int i = 0; i < b->n_cases; i++)
        json_array_append_new(cases, json_pack("{s:s,s:o,s:o}", "scenario", b->cases[i].scenario, "blind",
                                               arm_json(&b->cases[i].blind), "guided",
                                               arm_json(&b->cases[i].guided)));
    return json_pack("{s:o,s:o,s:{s:o,s:o},s:o}", "blind", arm_json(&b->blind), "guided", arm_json(&b->guided),
                     "same_cases", "blind", arm_json(&b->same_blind), "guided", arm_json(&b->same_guided), "cases",
                     cases);
}

/* "3/4 (75 %) in 2 sessions", or "no injection in 0 sessions". */
static void arm_text(const records_arm *a, char *out, size_t cap)
{
    double rate = records_arm_rate(a);
    if (rate < 0)
        snprintf(out, cap, "no injection in %d session%s", a->sessions, a->sessions == 1 ? "" : "s");
    else
        snprintf(out, cap, "%d/%d (%.0f %%) in %d session%s", a->intradermal, a->injections, 100 * rate,
                 a->sessions, a->sessions == 1 ? "" : "s");
}

static void bvg_text(FILE *f, const records_bvg *b)
{
    if (b->blind.sessions == 0) {
        fputs("blind versus guided: no blind session yet (a case with guidance.ultrasound false)\n", f);
        return;
    }
    char bl[80], gu[80];
    fputs("blind versus guided, intradermal injections / injections:\n", f);
    arm_text(&b->blind, bl, sizeof bl);
    arm_text(&b->guided, gu, sizeof gu);
    fprintf(f, "  %-28s blind %-30s guided %s\n", "every session", bl, gu);
    if (b->n_cases == 0) {
        fputs("  no case done both blind and guided yet\n", f);
        return;
    }
    arm_text(&b->same_blind, bl, sizeof bl);
    arm_text(&b->same_guided, gu, sizeof gu);
    fprintf(f, "  %-28s blind %-30s guided %s\n", "the cases done both ways", bl, gu);
    for (int i = 0; i < b->n_cases; i++) {
        arm_text(&b->cases[i].blind, bl, sizeof bl);
        arm_text(&b->cases[i].guided, gu, sizeof gu);
        fprintf(f, "  %-28.28s blind %-30s guided %s\n", b->cases[i].scenario, bl, gu);
    }
}

/* The comparison after the sessions: one grouped query, not a pass over the reports. */
static bool history_bvg(records *r, const char *trainee, bool as_json)
{
    records_bvg b;
    char err[600];
    if (!records_blind_vs_guided(r, trainee, &b, err, sizeof err)) {
        fflush(stdout);
        fprintf(stderr, "mesosim history: %s\n", err);
        return false;
    }
    if (as_json) {
        json_t *o = bvg_json(&b);
        char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        json_decref(o);
        if (!text) {
            records_bvg_free(&b);
            fprintf(stderr, "mesosim history: out of memory\n");
            return false;
        }
        fputs(",\n  \"blind_vs_guided\": ", stdout);
        for (const char *c = text; *c; c++) /* indented one level, inside the history object */
            if (*c == '\n')
                fputs("\n  ", stdout);
            else
                putchar(*c);
        free(text);
    } else {
        bvg_text(stdout, &b);
    }
    records_bvg_free(&b);
    return true;
}

static int history_sessions(records *r, const char *trainee, bool as_json)
{
    char err[600];
    /* The text form opens with the count: ask for it first (one indexed query). */
    records_trainee *t = NULL;
    int nt = 0, sessions = 0;
    if (!as_json) {
        if (!records_list_trainees(r, &t, &nt, err, sizeof err)) {
            fprintf(stderr, "mesosim history: %s\n", err);
            return 1;
        }
        for (int i = 0; i < nt; i++)
            if (!strcmp(t[i].name, trainee))
                sessions = t[i].sessions;
        free(t);
        printf("%s: %d session%s\n", trainee, sessions, sessions == 1 ? "" : "s");
    } else {
        fputs("{\n  \"trainee\": ", stdout);
        cli_print_json_string(stdout, trainee);
        fputs(",\n  \"sessions\": [", stdout);
    }
    history_out o = {.f = stdout, .json = as_json};
    if (!records_each_session(r, trainee, history_row, &o, err, sizeof err)) {
        fflush(stdout);
        fprintf(stderr, "mesosim history: %s\n", err);
        return 1;
    }
    if (as_json)
        fputs(o.count ? "\n  ]" : "]", stdout);
    if (!history_bvg(r, trainee, as_json))
        return 1;
    if (as_json)
        fputs("\n}\n", stdout);
    return 0;
}

static int history_trainees(records *r, bool as_json)
{
    records_trainee *t = NULL;
    int n = 0;
    char err[600];
    if (!records_list_trainees(r, &t, &n, err, sizeof err)) {
        fprintf(stderr, "mesosim history: %s\n", err);
        return 1;
    }
    if (as_json) {
        json_t *arr = json_array();
        for (int i = 0; i < n; i++) {
            json_t *o = json_pack("{s:s,s:i,s:i}", "name", t[i].name, "sessions", t[i].sessions, "passed",
                                  t[i].passed);
            json_object_set_new(o, "best_score", t[i].best_score >= 0 ? json_real(t[i].best_score) : json_null());
            json_object_set_new(o, "last_score", t[i].last_score >= 0 ? json_real(t[i].last_score) : json_null());
            json_array_append_new(arr, o);
        }
        json_t *root = json_pack("{s:o}", "trainees", arr);
        json_dumpf(root, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
        fputc('\n', stdout);
        json_decref(root);
    } else {
        printf("%-32s %8s %7s %6s %6s\n", "trainee", "sessions", "passed", "best", "last");
        for (int i = 0; i < n; i++)
            printf("%-32s %8d %7d %6.1f %6.1f\n", t[i].name, t[i].sessions, t[i].passed,
                   t[i].best_score >= 0 ? t[i].best_score : 0.0, t[i].last_score >= 0 ? t[i].last_score : 0.0);
    }
    free(t);
    return 0;
}

int cmd_history(int argc, char **argv)
{
    const char *trainee = NULL, *db = NULL;
    bool as_json = false;
    const cli_option opts[] = {
        CLI_STRING("--trainee", &trainee),
        CLI_STRING("--db", &db),
        CLI_FLAG("--json", &as_json),
    };
    int parsed = cli_parse_args(&(cli_args_def){.command = "mesosim history", .options = opts,
                                                .n_options = CLI_N_OPTIONS(opts), .usage = history_usage},
                                argc, argv);
    if (parsed != CLI_ARGS_CONTINUE)
        return parsed;
    char path[4096], err[600];
    if (!records_cli_db(db, path, sizeof path))
        return 1;
    records *r = records_open(path, err, sizeof err);
    if (!r) {
        fprintf(stderr, "mesosim history: %s\n", err);
        return 1;
    }
    int rc = trainee ? history_sessions(r, trainee, as_json) : history_trainees(r, as_json);
    records_close(r);
    return rc;
}
