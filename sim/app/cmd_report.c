/* cmd_report: mesosim report, the printed debrief and records (docs/report.md), and the
 * loading of session reports that mesosim export shares (commands.h, report_cli_*). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "commands.h"
#include "cusum.h"
#include "learning.h"
#include "pdf_report.h"
#include "records.h"
#include "snapshots.h"

void report_cli_set_free(report_cli_set *s)
{
    for (int i = 0; i < s->count; i++)
        json_decref(s->reports[i]);
    free(s->reports);
    free(s->meta);
    free(s->ids);
    free(s->trainees);
    memset(s, 0, sizeof *s);
}

static bool set_push(report_cli_set *s, json_t *report, const char *id, const char *trainee,
                     double started)
{
    if (s->count == s->cap) {
        int cap = s->cap ? s->cap * 2 : 16;
        json_t **r = realloc(s->reports, (size_t)cap * sizeof *r);
        if (r)
            s->reports = r;
        learning_meta *m = realloc(s->meta, (size_t)cap * sizeof *m);
        if (m)
            s->meta = m;
        char(*ids)[64] = realloc(s->ids, (size_t)cap * sizeof *ids);
        if (ids)
            s->ids = ids;
        char(*tr)[RECORDS_NAME_MAX] = realloc(s->trainees, (size_t)cap * sizeof *tr);
        if (tr)
            s->trainees = tr;
        if (!r || !m || !ids || !tr) {
            json_decref(report);
            return false;
        }
        s->cap = cap;
    }
    int k = s->count++;
    s->reports[k] = report;
    snprintf(s->ids[k], sizeof s->ids[k], "%s", id ? id : "");
    snprintf(s->trainees[k], sizeof s->trainees[k], "%s", trainee ? trainee : "");
    s->meta[k].started_unix_s = started;
    /* The meta's strings point into the arrays, which may move: set_fix points them. */
    return true;
}

static void set_fix(report_cli_set *s)
{
    for (int i = 0; i < s->count; i++) {
        s->meta[i].id = s->ids[i];
        s->meta[i].trainee = s->trainees[i][0] ? s->trainees[i] : NULL;
    }
}

bool report_cli_load_files(const char *cmd, char **paths, int n, const char *trainee,
                           report_cli_set *out)
{
    for (int i = 0; i < n; i++) {
        json_error_t je;
        json_t *r = json_load_file(paths[i], 0, &je);
        if (!r) {
            if (je.line > 0)
                fprintf(stderr, "mesosim %s: %s: not a readable JSON report (%s, line %d)\n", cmd,
                        paths[i], je.text, je.line);
            else
                fprintf(stderr, "mesosim %s: %s: cannot be read (%s)\n", cmd, paths[i], je.text);
            return false;
        }
        const char *base = strrchr(paths[i], '/');
        if (!set_push(out, r, base ? base + 1 : paths[i], trainee, 0)) {
            fprintf(stderr, "mesosim %s: out of memory\n", cmd);
            return false;
        }
    }
    set_fix(out);
    return true;
}

bool report_cli_load_db(const char *cmd, records *db, const char *trainee, report_cli_set *out)
{
    char err[300];
    records_session *ss = NULL;
    int n = 0;
    if (!records_list_sessions(db, trainee, &ss, &n, err, sizeof err)) {
        fprintf(stderr, "mesosim %s: %s\n", cmd, err);
        return false;
    }
    bool ok = true;
    for (int i = 0; i < n && ok; i++) {
        if (!ss[i].ended)
            continue; /* cut short: no report to draw from (mesosim replay makes one) */
        char *text = records_session_report_json(db, ss[i].id, err, sizeof err);
        json_error_t je;
        json_t *r = text ? json_loads(text, 0, &je) : NULL;
        free(text);
        if (!r) {
            fprintf(stderr, "mesosim %s: session %s: its stored report does not read back\n", cmd,
                    ss[i].id);
            ok = false;
        } else if (!set_push(out, r, ss[i].id, ss[i].trainee, ss[i].started_unix_s)) {
            fprintf(stderr, "mesosim %s: out of memory\n", cmd);
            ok = false;
        }
    }
    records_sessions_free(ss);
    set_fix(out);
    return ok;
}

records *report_cli_open_db(const char *cmd, const char *given)
{
    char path[RECORDS_PATH_MAX], err[300];
    if (!records_cli_db(given, path, sizeof path))
        return NULL;
    records *r = records_open(path, err, sizeof err);
    if (!r)
        fprintf(stderr, "mesosim %s: %s\n", cmd, err);
    return r;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mesosim report --session ID --out FILE.pdf [--db PATH|URL] [--scenario FILE] [--log FILE]\n"
            "       mesosim report --trainee NAME --out FILE.pdf [--db PATH|URL]\n"
            "       mesosim report --cohort --out FILE.pdf [--db PATH|URL]\n"
            "       mesosim report --from REPORT.json... --out FILE.pdf [--log FILE --scenario FILE]\n"
            "                      [--trainee NAME]\n"
            "       LC-CUSUM: [--p0 RATE] [--p1 RATE] [--h LIMIT] (defaults 0.10, 0.20, ln 9 = 2.197)\n"
            "       mesosim report --cusum-check CASES [--p0 RATE] [--p1 RATE] [--h LIMIT]\n"
            "Prints a PDF (docs/report.md). --session: one session's debrief with the B-mode at each\n"
            "injection (its actions replayed from the records, or --log), then the trainee's learning\n"
            "curve. --trainee: the trainee's whole record. --cohort: the programme's, every trainee.\n"
            "--from: report files (mesosim run --report), oldest first: one file, or any with --log,\n"
            "gives the debrief of the last one, several the record they make.\n"
            "--cusum-check: simulates 100 000 trainees (fixed seed) and prints the share that LC-CUSUM\n"
            "declares proficient within CASES cases at the unacceptable rate (the type I error) and at\n"
            "the acceptable one (the power), to choose h.\n"
            "Exit status: 0 written, 1 no such session or trainee, a bad file or store, 2 bad usage.\n");
}

typedef struct report_opts {
    const char *session, *trainee, *db, *out, *scenario, *log;
    bool cohort;
    long check_cases;
    char **from;
    int n_from;
    cusum_def cusum;
} report_opts;

static bool curve_of(const report_cli_set *set, const cusum_def *def, const char *trainee,
                     learning_curve *out)
{
    char err[300];
    json_t **r = malloc((size_t)(set->count ? set->count : 1) * sizeof *r);
    learning_meta *m = malloc((size_t)(set->count ? set->count : 1) * sizeof *m);
    int n = 0;
    bool ok = r && m;
    for (int i = 0; ok && i < set->count; i++)
        if (!trainee || !strcmp(set->trainees[i], trainee)) {
            r[n] = set->reports[i];
            m[n++] = set->meta[i];
        }
    if (ok && !learning_curve_build(def, r, m, n, out, err, sizeof err)) {
        fprintf(stderr, "mesosim report: %s\n", err);
        ok = false;
    }
    free(r);
    free(m);
    return ok;
}

static bool snapshots_of(const char *log_text, const char *log_path, const char *scen_path,
                         report_snapshot **shots, int *n)
{
    char err[300];
    if (!scen_path) {
        fprintf(stderr, "mesosim report: the snapshots need the scenario the session was played on: "
                        "pass --scenario FILE\n");
        return false;
    }
    scenario sc;
    if (!cli_load_scenario(scen_path, &sc))
        return false;
    action_list al;
    bool read = log_text ? actions_load_string(log_text, strlen(log_text), &al)
                         : actions_load_file(log_path, &al);
    if (!read) {
        fprintf(stderr, "mesosim report: the session's actions do not read back (%s)\n",
                al.n_errors ? al.errors[0].message : "no reason given");
        actions_free(&al);
        return false;
    }
    char now[17];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_content_hash(&sc));
    if (al.header.version >= 2 && !scenario_hash_matches(&sc, al.header.scenario_hash)) {
        fprintf(stderr,
                "mesosim report: the session was recorded on a scenario with content hash %s, but %s "
                "hashes to %s: its snapshots would show a different case\n",
                al.header.scenario_hash, scen_path, now);
        actions_free(&al);
        return false;
    }
    bool ok = report_snapshots_render(&sc, &al, 64, shots, n, err, sizeof err);
    if (!ok)
        fprintf(stderr, "mesosim report: %s\n", err);
    actions_free(&al);
    return ok;
}

static void fmt_day(double unix_s, char *out, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    out[0] = '\0';
    if (unix_s > 0 && gmtime_r(&t, &tm))
        strftime(out, cap, "%Y-%m-%d %H:%M UTC", &tm);
}

static int write_pdf(const pdf_report_def *def, const char *out)
{
    char err[300];
    int pages = 0;
    if (!pdf_report_write(def, out, &pages, err, sizeof err)) {
        fprintf(stderr, "mesosim report: %s\n", err);
        return 1;
    }
    printf("{\"pdf\":");
    cli_print_json_string(stdout, out);
    printf(",\"pages\":%d,\"injection_snapshots\":%d}\n", pages, def->n_snapshots);
    return 0;
}

static int report_session(const report_opts *o)
{
    char err[300], sub[400], day[40];
    records *db = report_cli_open_db("report", o->db);
    if (!db)
        return 1;
    int status = 1;
    char *text = NULL, *log = NULL;
    json_t *rep = NULL;
    report_snapshot *shots = NULL;
    int n_shots = 0;
    report_cli_set set = {0};
    learning_curve curve = {0};
    records_session s;
    if (!records_get_session(db, o->session, &s, err, sizeof err) ||
        !(text = records_session_report_json(db, s.id, err, sizeof err))) {
        fprintf(stderr, "mesosim report: %s\n", err);
        goto done;
    }
    json_error_t je;
    if (!(rep = json_loads(text, 0, &je))) {
        fprintf(stderr, "mesosim report: session %s: its stored report does not read back\n", s.id);
        goto done;
    }
    if (!o->log && !(log = records_session_log(db, s.id, err, sizeof err))) {
        fprintf(stderr, "mesosim report: %s\n", err);
        goto done;
    }
    const char *scen = o->scenario ? o->scenario : s.scenario_path[0] ? s.scenario_path : NULL;
    if (!snapshots_of(log, o->log, scen, &shots, &n_shots))
        goto done;
    if (!report_cli_load_db("report", db, s.trainee, &set) ||
        !curve_of(&set, &o->cusum, NULL, &curve))
        goto done;
    scenario sc;
    bool have_sc = cli_load_scenario(scen, &sc);
    fmt_day(s.started_unix_s, day, sizeof day);
    snprintf(sub, sizeof sub, "Trainee %s, session %s, %s", s.trainee, s.id, day);
    pdf_report_def def = pdf_report_default_def();
    def.title = "Debrief";
    def.subtitle = sub;
    def.report = rep;
    def.sc = have_sc ? &sc : NULL;
    def.snapshots = shots;
    def.n_snapshots = n_shots;
    def.curve = &curve;
    status = write_pdf(&def, o->out);
done:
    learning_curve_free(&curve);
    report_cli_set_free(&set);
    report_snapshots_free(shots, n_shots);
    json_decref(rep);
    free(text);
    free(log);
    records_close(db);
    return status;
}

static int report_record(const report_opts *o)
{
    report_cli_set set = {0};
    learning_curve curve = {0};
    report_snapshot *shots = NULL;
    int n_shots = 0, status = 1;
    records *db = NULL;
    pdf_report_def def = pdf_report_default_def();
    pdf_cohort_entry *cohort = NULL;
    learning_curve *curves = NULL;
    records_trainee *tr = NULL;
    int n_tr = 0;
    char sub[300];
    scenario sc;
    if (o->n_from > 0) {
        if (!report_cli_load_files("report", o->from, o->n_from, o->trainee, &set))
            goto done;
    } else {
        if (!(db = report_cli_open_db("report", o->db)))
            goto done;
        if (!report_cli_load_db("report", db, o->cohort ? NULL : o->trainee, &set))
            goto done;
        if (!o->cohort && set.count == 0) {
            fprintf(stderr, "mesosim report: trainee \"%s\" has no ended session in the records\n",
                    o->trainee);
            goto done;
        }
    }
    if (o->cohort) {
        char err[300];
        if (!records_list_trainees(db, &tr, &n_tr, err, sizeof err)) {
            fprintf(stderr, "mesosim report: %s\n", err);
            goto done;
        }
        cohort = calloc((size_t)(n_tr ? n_tr : 1), sizeof *cohort);
        curves = calloc((size_t)(n_tr ? n_tr : 1), sizeof *curves);
        if (!cohort || !curves) {
            fprintf(stderr, "mesosim report: out of memory\n");
            goto done;
        }
        for (int i = 0; i < n_tr; i++) {
            if (!curve_of(&set, &o->cusum, tr[i].name, &curves[i]))
                goto done;
            cohort[i].trainee = tr[i].name;
            cohort[i].curve = &curves[i];
        }
        def.title = "Programme record";
        snprintf(sub, sizeof sub, "%d trainees, %d sessions", n_tr, set.count);
        def.subtitle = sub;
        def.cohort = cohort;
        def.n_cohort = n_tr;
        status = write_pdf(&def, o->out);
        goto done;
    }
    if (!curve_of(&set, &o->cusum, NULL, &curve))
        goto done;
    def.curve = &curve;
    bool debrief = o->n_from > 0 && (o->n_from == 1 || o->log);
    if (debrief) {
        def.title = "Debrief";
        def.report = set.reports[set.count - 1];
        if (o->log) {
            if (!snapshots_of(NULL, o->log, o->scenario, &shots, &n_shots))
                goto done;
            def.snapshots = shots;
            def.n_snapshots = n_shots;
        }
        if (o->scenario && cli_load_scenario(o->scenario, &sc))
            def.sc = &sc;
        snprintf(sub, sizeof sub, "%s%s%s", o->trainee ? "Trainee " : "",
                 o->trainee ? o->trainee : "", o->trainee ? ", " : "");
        snprintf(sub + strlen(sub), sizeof sub - strlen(sub), "report %s", set.ids[set.count - 1]);
    } else {
        def.title = "Trainee record";
        snprintf(sub, sizeof sub, "%s, %d sessions", o->trainee ? o->trainee : "report files",
                 set.count);
    }
    def.subtitle = sub;
    status = write_pdf(&def, o->out);
done:
    for (int i = 0; curves && i < n_tr; i++)
        learning_curve_free(&curves[i]);
    free(curves);
    free(cohort);
    free(tr);
    learning_curve_free(&curve);
    report_snapshots_free(shots, n_shots);
    report_cli_set_free(&set);
    records_close(db);
    return status;
}

bool report_cli_cusum_option(const char *cmd, const char *opt, const char *val, cusum_def *def,
                             bool *matched)
{
    double *dst = !strcmp(opt, "--p0")  ? &def->acceptable_failure
                  : !strcmp(opt, "--p1") ? &def->unacceptable_failure
                  : !strcmp(opt, "--h")  ? &def->limit_h
                                         : NULL;
    *matched = dst != NULL;
    if (!dst)
        return true;
    if (!val || !cli_parse_double(val, dst)) {
        fprintf(stderr, "mesosim %s: %s needs a number\n", cmd, opt);
        return false;
    }
    return true;
}

int cmd_report(int argc, char **argv)
{
    report_opts o = {0};
    o.cusum = cusum_default_def();
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool matched;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!report_cli_cusum_option("report", a, v, &o.cusum, &matched))
            return 2;
        if (matched) {
            i++;
            continue;
        }
        if (!strcmp(a, "--cusum-check")) {
            if (!v || !cli_parse_int(v, 1, 100000, &o.check_cases)) {
                fprintf(stderr, "mesosim report: --cusum-check needs a number of cases, 1..100000\n");
                return 2;
            }
            i++;
            continue;
        }
        if (!strcmp(a, "--cohort")) {
            o.cohort = true;
            continue;
        }
        if (!strcmp(a, "--from")) {
            o.from = argv + i + 1;
            while (i + 1 < argc && strncmp(argv[i + 1], "--", 2))
                i++, o.n_from++;
            continue;
        }
        const char **dst = !strcmp(a, "--session")    ? &o.session
                           : !strcmp(a, "--trainee")  ? &o.trainee
                           : !strcmp(a, "--db")       ? &o.db
                           : !strcmp(a, "--out")      ? &o.out
                           : !strcmp(a, "--scenario") ? &o.scenario
                           : !strcmp(a, "--log")      ? &o.log
                                                      : NULL;
        if (!dst) {
            fprintf(stderr, "mesosim report: unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (!v) {
            fprintf(stderr, "mesosim report: %s needs a value\n", a);
            return 2;
        }
        *dst = v;
        i++;
    }
    char err[300];
    if (o.check_cases > 0) {
        if (!cusum_def_check(&o.cusum, err, sizeof err)) {
            fprintf(stderr, "mesosim report: LC-CUSUM: %s\n", err);
            return 2;
        }
        int n = (int)o.check_cases;
        printf("{\"p0\":%g,\"p1\":%g,\"h\":%.6f,\"cases\":%d,\"trials\":100000,"
               "\"signal_at_p1\":%.4f,\"signal_at_p0\":%.4f}\n",
               o.cusum.acceptable_failure, o.cusum.unacceptable_failure, o.cusum.limit_h, n,
               cusum_lc_signal_rate(&o.cusum, o.cusum.unacceptable_failure, n, 100000, 1),
               cusum_lc_signal_rate(&o.cusum, o.cusum.acceptable_failure, n, 100000, 1));
        return 0;
    }
    int sources = (o.session != NULL) + o.cohort + (o.n_from > 0) +
                  (o.trainee != NULL && o.n_from == 0);
    if (sources != 1 || !o.out) {
        fprintf(stderr, "mesosim report: give --out FILE.pdf and one of --session ID, --trainee NAME, "
                        "--cohort or --from REPORT.json...\n");
        usage(stderr);
        return 2;
    }
    if (!cusum_def_check(&o.cusum, err, sizeof err)) {
        fprintf(stderr, "mesosim report: LC-CUSUM: %s\n", err);
        return 2;
    }
    if (o.log && !o.session && o.n_from == 0) {
        fprintf(stderr, "mesosim report: --log goes with --session or --from\n");
        return 2;
    }
    return o.session ? report_session(&o) : report_record(&o);
}
