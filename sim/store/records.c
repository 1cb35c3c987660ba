/* records: the store's schema, migrations and queries, once for both engines. */
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "array.h"
#include "records_internal.h"

struct records {
    const records_engine_ops *eng;
    void *db;
};

/* ---- schema ------------------------------------------------------------------------------- */

/* Version 1, the first schema (tests/data/records_v1.db holds one): never edit it, add a
 * migration instead. */
static const char *const k_v1[] = {
    "CREATE TABLE schema_version (version INTEGER NOT NULL)",
    "CREATE TABLE trainees (name TEXT PRIMARY KEY, created_unix_s DOUBLE PRECISION NOT NULL)",
    "CREATE TABLE sessions (id TEXT PRIMARY KEY, trainee TEXT NOT NULL REFERENCES trainees(name),"
    " scenario TEXT NOT NULL, scenario_hash TEXT NOT NULL, simulator TEXT NOT NULL, seed INTEGER NOT NULL,"
    " started_unix_s DOUBLE PRECISION NOT NULL, ended_unix_s DOUBLE PRECISION, finished INTEGER NOT NULL DEFAULT 0,"
    " score DOUBLE PRECISION, pass INTEGER, critical_failed INTEGER, report_json TEXT)",
    "CREATE TABLE actions (session_id TEXT NOT NULL REFERENCES sessions(id), seq INTEGER NOT NULL,"
    " line TEXT NOT NULL, PRIMARY KEY (session_id, seq))",
    "CREATE TABLE injections (session_id TEXT NOT NULL REFERENCES sessions(id), idx INTEGER NOT NULL,"
    " t_s DOUBLE PRECISION, end_s DOUBLE PRECISION, volume_ml DOUBLE PRECISION, verdict TEXT, layer TEXT,"
    " tip_depth_mm DOUBLE PRECISION, margin_mm DOUBLE PRECISION, tip_in_slice INTEGER,"
    " tip_to_plane_mm DOUBLE PRECISION, dermis_fraction DOUBLE PRECISION, wheal INTEGER,"
    " vessel_punctured INTEGER, PRIMARY KEY (session_id, idx))",
    "INSERT INTO schema_version (version) VALUES (1)",
    NULL};

/* Version 2: the device and the scenario file of a session (replay finds the case), the rest
 * of each injection's figures, the feedback, and an index for a trainee's history. The report
 * moves to a table of its own: kept in the session row, its 5 kB spill onto overflow pages
 * that every history query had to walk to reach the columns after it (8x slower). */
static const char *const k_v2[] = {
    "CREATE TABLE reports (session_id TEXT PRIMARY KEY REFERENCES sessions(id), report_json TEXT NOT NULL)",
    "INSERT INTO reports (session_id, report_json) SELECT id, report_json FROM sessions WHERE report_json IS NOT NULL",
    "ALTER TABLE sessions DROP COLUMN report_json",
    "ALTER TABLE sessions ADD COLUMN device TEXT",
    "ALTER TABLE sessions ADD COLUMN scenario_path TEXT",
    "ALTER TABLE sessions ADD COLUMN injections INTEGER",
    "ALTER TABLE injections ADD COLUMN approach TEXT",
    "ALTER TABLE injections ADD COLUMN bleb_mm DOUBLE PRECISION",
    "ALTER TABLE injections ADD COLUMN spread_seen INTEGER",
    "CREATE TABLE feedback (session_id TEXT NOT NULL REFERENCES sessions(id), idx INTEGER NOT NULL,"
    " severity TEXT NOT NULL, topic TEXT NOT NULL, injection INTEGER, message TEXT NOT NULL,"
    " PRIMARY KEY (session_id, idx))",
    "CREATE INDEX sessions_by_trainee ON sessions (trainee, started_unix_s)",
    "UPDATE schema_version SET version = 2",
    NULL};

/* Version 3: an ended session keeps its count of actions. Counting them per row (max(seq)
 * through the actions index) was two thirds of a 10 000-session history: the index of
 * 270 000 actions read from disk for one number each. A session not yet ended still counts
 * them (its actions are still coming). */
static const char *const k_v3[] = {
    "ALTER TABLE sessions ADD COLUMN actions INTEGER",
    "UPDATE sessions SET actions = (SELECT max(a.seq) FROM actions a WHERE a.session_id = sessions.id)"
    " WHERE ended_unix_s IS NOT NULL",
    "UPDATE schema_version SET version = 3",
    NULL};

/* Version 4: whether the session was blind (guidance.ultrasound false: the report says
 * "blind": true) and how many of its injections were intradermal, so a trainee's rate blind
 * and guided (issue 13) is one grouped query over their rows, not a walk through every
 * report. migrate fills both from the reports already kept (report_summary_of); a session
 * with no report yet keeps NULL (it is not known until its end). */
static const char *const k_v4[] = {
    "ALTER TABLE sessions ADD COLUMN blind INTEGER",
    "ALTER TABLE sessions ADD COLUMN intradermal INTEGER",
    "UPDATE schema_version SET version = 4",
    NULL};

static const char *const *const k_migrations[RECORDS_SCHEMA_VERSION] = {k_v1, k_v2, k_v3, k_v4};

/* ---- small helpers ------------------------------------------------------------------------ */

static bool ex(records *r, const char *sql, int np, const char *const *p, records_row_fn fn, void *ctx, char *err,
               size_t n)
{
    return r->eng->exec(r->db, sql, np, p, fn, ctx, err, n);
}

static bool ex0(records *r, const char *sql, char *err, size_t n)
{
    return ex(r, sql, 0, NULL, NULL, NULL, err, n);
}

static void rollback(records *r)
{
    char e[200];
    ex0(r, "ROLLBACK", e, sizeof e);
}

static bool first_text(void *ctx, int ncol, const char *const *vals)
{
    char **out = ctx;
    if (ncol > 0 && vals[0] && !*out) {
        size_t len = strlen(vals[0]) + 1;
        *out = malloc(len);
        if (*out)
            memcpy(*out, vals[0], len);
    }
    return false;
}

static void fmt_num(char *buf, size_t cap, double v)
{
    snprintf(buf, cap, "%.17g", v);
}

static double num_or(const char *s, double dflt)
{
    return s ? strtod(s, NULL) : dflt;
}

/* Called for every column of every row of a history: no printf machinery. */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t len = src ? strlen(src) : 0;
    if (len >= cap)
        len = cap - 1;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

/* ---- open and migrate --------------------------------------------------------------------- */

static bool is_url(const char *s)
{
    return !strncmp(s, "postgresql://", 13) || !strncmp(s, "postgres://", 11);
}

void records_redact(const char *s, char *out, size_t cap)
{
    if (!cap)
        return;
    const char *scheme = s ? strstr(s, "://") : NULL;
    const char *at = scheme ? strchr(scheme + 3, '@') : NULL;
    const char *colon = NULL;
    if (at)
        for (const char *p = scheme + 3; p < at; p++)
            if (*p == ':') {
                colon = p;
                break;
            }
    if (!colon) {
        snprintf(out, cap, "%s", s ? s : "");
        return;
    }
    snprintf(out, cap, "%.*s:***%s", (int)(colon - s), s, at);
}

static bool version_row(void *ctx, int ncol, const char *const *vals)
{
    *(int *)ctx = ncol > 0 && vals[0] ? atoi(vals[0]) : 0;
    return false;
}

int records_schema_version(records *r, char *err, size_t n)
{
    int present = 0;
    const char *name = "schema_version";
    const char *sql = strcmp(r->eng->name, "sqlite")
                          ? "SELECT count(*) FROM information_schema.tables WHERE table_name = $1"
                          : "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = $1";
    if (!ex(r, sql, 1, &name, version_row, &present, err, n))
        return -1;
    if (!present)
        return 0;
    int v = 0;
    if (!ex(r, "SELECT version FROM schema_version", 0, NULL, version_row, &v, err, n))
        return -1;
    return v;
}

static bool store_report_parts(records *r, const char *id, const char *report, char *err, size_t n);

static bool report_row(void *ctx, int ncol, const char *const *vals)
{
    /* ctx: a NULL-terminated list of id, report, id, report, ... */
    char ***list = ctx;
    if (ncol < 2 || !vals[0] || !vals[1])
        return true;
    size_t k = 0;
    while ((*list)[k])
        k++;
    char **grown = realloc(*list, (k + 3) * sizeof *grown);
    if (!grown)
        return false;
    *list = grown;
    grown[k] = strdup(vals[0]);
    grown[k + 1] = strdup(vals[1]);
    grown[k + 2] = NULL;
    return grown[k] && grown[k + 1];
}

typedef bool (*report_fn)(records *r, const char *id, const char *report, char *err, size_t n);

/* fn on every report the store holds: a migration's backfill of what it adds from what the
 * older schema already kept, so an upgraded store holds what a new one would. */
static bool backfill(records *r, report_fn fn, char *err, size_t n)
{
    char **list = calloc(1, sizeof *list);
    if (!list) {
        snprintf(err, n, "out of memory");
        return false;
    }
    bool ok = ex(r, "SELECT session_id, report_json FROM reports", 0, NULL, report_row, &list, err, n);
    for (size_t k = 0; ok && list[k]; k += 2)
        ok = list[k + 1] && fn(r, list[k], list[k + 1], err, n);
    for (size_t k = 0; list[k]; k++)
        free(list[k]);
    free(list);
    return ok;
}

/* Version 4's blind and intradermal, set from one report (also at every session's end). */
static bool report_summary_of(records *r, const char *id, const char *report, char *err, size_t n);

static bool migrate(records *r, char *err, size_t n)
{
    int v = records_schema_version(r, err, n);
    if (v < 0)
        return false;
    if (v > RECORDS_SCHEMA_VERSION) {
        snprintf(err, n, "this records store has schema version %d, newer than this program understands (%d): "
                         "use a newer mesosim", v, RECORDS_SCHEMA_VERSION);
        return false;
    }
    for (; v < RECORDS_SCHEMA_VERSION; v++) {
        if (!ex0(r, "BEGIN", err, n))
            return false;
        bool ok = true;
        for (const char *const *s = k_migrations[v]; ok && *s; s++)
            ok = ex0(r, *s, err, n);
        /* Version 2 keeps feedback and more figures per injection, version 4 blind and the
         * intradermal count (a report without "blind": true is a guided session). */
        if (ok && v + 1 == 2)
            ok = backfill(r, store_report_parts, err, n);
        if (ok && v + 1 == 4)
            ok = backfill(r, report_summary_of, err, n);
        if (!ok || !ex0(r, "COMMIT", err, n)) {
            rollback(r);
            char e[300];
            snprintf(e, sizeof e, "%s", err);
            snprintf(err, n, "upgrading the records store to schema version %d failed (nothing changed): %s", v + 1, e);
            return false;
        }
    }
    return true;
}

records *records_open(const char *path_or_url, char *err, size_t n)
{
    if (!path_or_url || !path_or_url[0]) {
        snprintf(err, n, "no records database given");
        return NULL;
    }
    records *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, n, "out of memory");
        return NULL;
    }
    bool ok = is_url(path_or_url) ? records_pg_open(path_or_url, &r->eng, &r->db, err, n)
                                  : records_sqlite_open(path_or_url, &r->eng, &r->db, err, n);
    if (!ok) {
        free(r);
        return NULL;
    }
    if (!migrate(r, err, n)) {
        records_close(r);
        return NULL;
    }
    return r;
}

void records_close(records *r)
{
    if (!r)
        return;
    r->eng->close(r->db);
    free(r);
}

const char *records_engine(const records *r)
{
    return r->eng->name;
}

bool records_check(records *r, char *err, size_t n)
{
    return r->eng->check(r->db, err, n);
}

bool records_default_path(char *out, size_t cap)
{
    const char *xdg = getenv("XDG_DATA_HOME");
    const char *home = getenv("HOME");
    int w;
    if (xdg && xdg[0] == '/')
        w = snprintf(out, cap, "%s/mesosim/records.db", xdg);
    else if (home && home[0])
        w = snprintf(out, cap, "%s/.local/share/mesosim/records.db", home);
    else
        return false;
    return w > 0 && (size_t)w < cap;
}

bool records_new_id(char out[RECORDS_ID_LEN], char *err, size_t n)
{
    unsigned char b[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t got = fd >= 0 ? read(fd, b, sizeof b) : -1;
    if (fd >= 0)
        close(fd);
    if (got != (ssize_t)sizeof b) {
        snprintf(err, n, "cannot read /dev/urandom for a session id: %s", strerror(errno));
        return false;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* RFC 4122 version 4, variant 1 */
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, RECORDS_ID_LEN, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
    return true;
}

/* ---- trainees ----------------------------------------------------------------------------- */

static bool valid_name(const char *name, char *err, size_t n)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len >= RECORDS_NAME_MAX) {
        snprintf(err, n, "a trainee's name has 1 to %d characters", RECORDS_NAME_MAX - 1);
        return false;
    }
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f) {
            snprintf(err, n, "a trainee's name cannot hold control characters");
            return false;
        }
    return true;
}

static double now_unix_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

bool records_trainee_create(records *r, const char *name, char *err, size_t n)
{
    if (!valid_name(name, err, n))
        return false;
    char t[32];
    fmt_num(t, sizeof t, now_unix_s());
    const char *p[] = {name, t};
    return ex(r, "INSERT INTO trainees (name, created_unix_s) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, p, NULL,
              NULL, err, n);
}

typedef struct trainee_list {
    records_trainee *items;
    int count, cap;
    bool oom;
} trainee_list;

static bool trainee_row(void *ctx, int ncol, const char *const *v)
{
    trainee_list *l = ctx;
    if (ncol < 5)
        return true;
    if (!array_grow((void **)&l->items, &l->cap, l->count + 1, sizeof *l->items)) {
        l->oom = true;
        return false;
    }
    records_trainee *t = &l->items[l->count++];
    copy_str(t->name, sizeof t->name, v[0]);
    t->sessions = v[1] ? atoi(v[1]) : 0;
    t->passed = v[2] ? atoi(v[2]) : 0;
    t->best_score = num_or(v[3], -1.0);
    t->last_score = num_or(v[4], -1.0);
    return true;
}

bool records_list_trainees(records *r, records_trainee **out, int *count, char *err, size_t n)
{
    trainee_list l = {0};
    bool ok = ex(r,
                 "SELECT t.name, count(s.id), sum(CASE WHEN s.pass = 1 THEN 1 ELSE 0 END), max(s.score),"
                 " (SELECT s2.score FROM sessions s2 WHERE s2.trainee = t.name AND s2.score IS NOT NULL"
                 "  ORDER BY s2.started_unix_s DESC LIMIT 1)"
                 " FROM trainees t LEFT JOIN sessions s ON s.trainee = t.name GROUP BY t.name ORDER BY t.name",
                 0, NULL, trainee_row, &l, err, n);
    if (l.oom) {
        snprintf(err, n, "out of memory");
        ok = false;
    }
    if (!ok) {
        free(l.items);
        return false;
    }
    *out = l.items;
    *count = l.count;
    return true;
}

/* ---- sessions ----------------------------------------------------------------------------- */

static bool valid_id(const char *id, size_t min_len, char *err, size_t n)
{
    size_t len = id ? strlen(id) : 0;
    bool ok = len >= min_len && len < RECORDS_ID_LEN;
    for (size_t i = 0; ok && i < len; i++)
        ok = (id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f') || id[i] == '-';
    if (!ok)
        snprintf(err, n, "'%.40s' is no session id (a UUID such as 3f2a9c1e-..., or at least its first %zu characters)",
                 id ? id : "", min_len);
    return ok;
}

bool records_session_begin(records *r, const records_session_def *d, char *err, size_t n)
{
    if (!valid_id(d->id, RECORDS_ID_LEN - 1, err, n) || !valid_name(d->trainee, err, n))
        return false;
    char seed[16], t[32];
    snprintf(seed, sizeof seed, "%u", (unsigned)d->header->seed);
    fmt_num(t, sizeof t, d->started_unix_s);
    const char *path = d->scenario_path && strlen(d->scenario_path) < RECORDS_PATH_MAX ? d->scenario_path : NULL;
    /* A session practised blind by option says so from its start (the log header), so a
     * session cut short replays blind; otherwise blind is known from the report at the end. */
    const char *p[] = {d->id, d->trainee, d->header->scenario, d->header->scenario_hash, d->header->simulator,
                       seed, t, d->device, path, d->header->blind ? "1" : NULL};
    if (!ex0(r, "BEGIN", err, n))
        return false;
    bool ok = records_trainee_create(r, d->trainee, err, n) &&
              ex(r,
                 "INSERT INTO sessions (id, trainee, scenario, scenario_hash, simulator, seed, started_unix_s,"
                 " device, scenario_path, blind) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
                 " ON CONFLICT DO NOTHING",
                 10, p, NULL, NULL, err, n) &&
              ex0(r, "COMMIT", err, n);
    if (!ok)
        rollback(r);
    return ok;
}

bool records_session_action(records *r, const char *id, int seq, const char *line, char *err, size_t n)
{
    char s[16];
    snprintf(s, sizeof s, "%d", seq);
    const char *p[] = {id, s, line};
    return ex(r, "INSERT INTO actions (session_id, seq, line) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING", 3, p, NULL,
              NULL, err, n);
}

static const char *jstr(const json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* A number or boolean member as text (NULL when absent), in buf. */
static const char *jnum(const json_t *o, const char *k, char *buf, size_t cap)
{
    const json_t *v = json_object_get(o, k);
    if (json_is_boolean(v))
        return json_is_true(v) ? "1" : "0";
    if (!json_is_number(v))
        return NULL;
    fmt_num(buf, cap, json_number_value(v));
    return buf;
}

/* The injections and feedback of a report into their tables, and its score onto the session
 * row. An injection already there (a resend, or one the first schema kept) gets the figures
 * version 2 added. */
static bool store_report_parts(records *r, const char *id, const char *report, char *err, size_t n)
{
    json_error_t je;
    json_t *root = json_loads(report, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, n, "the session's report is no JSON object (line %d: %s)", je.line, je.text);
        return false;
    }
    bool ok = true;
    const json_t *inj = json_object_get(root, "injections");
    for (size_t i = 0; ok && i < json_array_size(inj); i++) {
        const json_t *o = json_array_get(inj, i);
        char idx[24], b[12][32];
        snprintf(idx, sizeof idx, "%zu", i);
        const char *p[] = {id, idx,
                           jnum(o, "t_s", b[0], 32), jnum(o, "end_s", b[1], 32), jnum(o, "volume_ml", b[2], 32),
                           jstr(o, "verdict"), jstr(o, "layer"), jnum(o, "tip_depth_mm", b[3], 32),
                           jnum(o, "margin_mm", b[4], 32), jnum(o, "tip_in_slice", b[5], 32),
                           jnum(o, "tip_to_plane_mm", b[6], 32), jnum(o, "dermis_fraction", b[7], 32),
                           jnum(o, "wheal", b[8], 32), jnum(o, "vessel_punctured", b[9], 32), jstr(o, "approach"),
                           jnum(o, "bleb_mm", b[10], 32), jnum(o, "spread_seen", b[11], 32)};
        ok = ex(r,
                "INSERT INTO injections (session_id, idx, t_s, end_s, volume_ml, verdict, layer, tip_depth_mm,"
                " margin_mm, tip_in_slice, tip_to_plane_mm, dermis_fraction, wheal, vessel_punctured, approach,"
                " bleb_mm, spread_seen) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
                " $16, $17) ON CONFLICT (session_id, idx) DO UPDATE SET approach = excluded.approach,"
                " bleb_mm = excluded.bleb_mm, spread_seen = excluded.spread_seen",
                17, p, NULL, NULL, err, n);
    }
    const json_t *fb = json_object_get(root, "feedback");
    for (size_t i = 0; ok && i < json_array_size(fb); i++) {
        const json_t *o = json_array_get(fb, i);
        char idx[24], b[32];
        snprintf(idx, sizeof idx, "%zu", i);
        const char *sev = jstr(o, "severity"), *topic = jstr(o, "topic"), *msg = jstr(o, "message");
        const char *p[] = {id, idx, sev ? sev : "", topic ? topic : "", jnum(o, "injection", b, sizeof b),
                           msg ? msg : ""};
        ok = ex(r,
                "INSERT INTO feedback (session_id, idx, severity, topic, injection, message)"
                " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
                6, p, NULL, NULL, err, n);
    }
    char bt[32], bp[32], bc[32], ni[24];
    const json_t *score = json_object_get(root, "score");
    snprintf(ni, sizeof ni, "%zu", json_array_size(inj));
    const char *p[] = {id, jnum(score, "total", bt, sizeof bt), jnum(score, "pass", bp, sizeof bp),
                       jnum(score, "critical_failed", bc, sizeof bc), ni};
    if (ok)
        ok = ex(r, "UPDATE sessions SET score = $2, pass = $3, critical_failed = $4, injections = $5 WHERE id = $1", 5,
                p, NULL, NULL, err, n);
    json_decref(root);
    return ok;
}

/* Whether the session was blind and how many injections were intradermal (verdict
 * "intradermal", as the learning curve counts them: sim/report/learning.c), onto its row. */
static bool report_summary_of(records *r, const char *id, const char *report, char *err, size_t n)
{
    json_error_t je;
    json_t *root = json_loads(report, 0, &je);
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, n, "the session's report is no JSON object (line %d: %s)", je.line, je.text);
        return false;
    }
    const json_t *inj = json_object_get(root, "injections");
    size_t intradermal = 0;
    for (size_t i = 0; i < json_array_size(inj); i++) {
        const char *v = jstr(json_array_get(inj, i), "verdict");
        intradermal += v && !strcmp(v, "intradermal");
    }
    char ni[24];
    snprintf(ni, sizeof ni, "%zu", intradermal);
    const char *p[] = {id, json_is_true(json_object_get(root, "blind")) ? "1" : "0", ni};
    json_decref(root);
    return ex(r, "UPDATE sessions SET blind = $2, intradermal = $3 WHERE id = $1", 3, p, NULL, NULL, err, n);
}

bool records_session_end(records *r, const char *id, const char *report, bool finished, double ended_unix_s,
                         char *err, size_t n)
{
    if (!valid_id(id, RECORDS_ID_LEN - 1, err, n))
        return false;
    char t[32];
    fmt_num(t, sizeof t, ended_unix_s);
    const char *p[] = {id, finished ? "1" : "0", t};
    const char *pr[] = {id, report};
    if (!ex0(r, "BEGIN", err, n))
        return false;
    /* A session already ended (a resend from the outbox) keeps what it has. */
    bool ok = ex(r,
                 "UPDATE sessions SET finished = $2, ended_unix_s = $3,"
                 " actions = (SELECT max(a.seq) FROM actions a WHERE a.session_id = $1)"
                 " WHERE id = $1 AND ended_unix_s IS NULL",
                 3, p, NULL, NULL, err, n) &&
              ex(r, "INSERT INTO reports (session_id, report_json) VALUES ($1, $2) ON CONFLICT DO NOTHING", 2, pr,
                 NULL, NULL, err, n) &&
              store_report_parts(r, id, report, err, n) && report_summary_of(r, id, report, err, n) &&
              ex0(r, "COMMIT", err, n);
    if (!ok)
        rollback(r);
    return ok;
}

typedef struct session_list {
    records_session *items;
    int count, cap;
    bool oom;
} session_list;

#define SESSION_COLUMNS                                                                                           \
    "SELECT s.id, s.trainee, s.scenario, s.scenario_hash, s.scenario_path, s.device, s.started_unix_s,"          \
    " s.ended_unix_s, s.finished, s.score, s.pass, s.injections,"                                                 \
    " coalesce(s.actions, (SELECT max(a.seq) FROM actions a WHERE a.session_id = s.id)),"                         \
    " CASE WHEN s.ended_unix_s IS NULL THEN 0 ELSE 1 END, s.blind, s.intradermal FROM sessions s "

static void fill_session(records_session *s, const char *const *v)
{
    copy_str(s->id, sizeof s->id, v[0]);
    copy_str(s->trainee, sizeof s->trainee, v[1]);
    copy_str(s->scenario, sizeof s->scenario, v[2]);
    copy_str(s->scenario_hash, sizeof s->scenario_hash, v[3]);
    copy_str(s->scenario_path, sizeof s->scenario_path, v[4]);
    copy_str(s->device, sizeof s->device, v[5]);
    s->started_unix_s = num_or(v[6], 0.0);
    s->ended_unix_s = num_or(v[7], 0.0);
    s->finished = v[8] && atoi(v[8]) != 0;
    s->score = num_or(v[9], -1.0);
    s->pass = v[10] && atoi(v[10]) != 0;
    s->injections = v[11] ? atoi(v[11]) : 0;
    s->actions = v[12] ? atoi(v[12]) : 0;
    s->ended = v[13] && atoi(v[13]) != 0;
    s->blind = v[14] && atoi(v[14]) != 0;
    s->intradermal = v[15] ? atoi(v[15]) : 0;
}

static bool session_row(void *ctx, int ncol, const char *const *v)
{
    session_list *l = ctx;
    if (ncol < 16)
        return true;
    if (!array_grow((void **)&l->items, &l->cap, l->count + 1, sizeof *l->items)) {
        l->oom = true;
        return false;
    }
    fill_session(&l->items[l->count++], v);
    return true;
}

static bool list_query(records *r, const char *sql, int np, const char *const *p, session_list *l, char *err,
                       size_t n)
{
    bool ok = ex(r, sql, np, p, session_row, l, err, n);
    if (l->oom) {
        snprintf(err, n, "out of memory");
        ok = false;
    }
    if (!ok) {
        free(l->items);
        l->items = NULL;
    }
    return ok;
}

bool records_list_sessions(records *r, const char *trainee, records_session **out, int *count, char *err, size_t n)
{
    session_list l = {0};
    bool ok = trainee ? list_query(r, SESSION_COLUMNS "WHERE s.trainee = $1 ORDER BY s.started_unix_s, s.id", 1,
                                   &trainee, &l, err, n)
                      : list_query(r, SESSION_COLUMNS "ORDER BY s.started_unix_s, s.id", 0, NULL, &l, err, n);
    if (!ok)
        return false;
    *out = l.items;
    *count = l.count;
    return true;
}

typedef struct each_ctx {
    records_session_fn fn;
    void *ctx;
    records_session s; /* one row at a time: 1.4 kB, not 14 MB for a history of 10 000 */
} each_ctx;

static bool each_row(void *ctx, int ncol, const char *const *v)
{
    each_ctx *e = ctx;
    if (ncol < 16)
        return true;
    fill_session(&e->s, v);
    return e->fn(e->ctx, &e->s);
}

bool records_each_session(records *r, const char *trainee, records_session_fn fn, void *ctx, char *err, size_t n)
{
    each_ctx *e = malloc(sizeof *e);
    if (!e) {
        snprintf(err, n, "out of memory");
        return false;
    }
    e->fn = fn;
    e->ctx = ctx;
    bool ok = trainee ? ex(r, SESSION_COLUMNS "WHERE s.trainee = $1 ORDER BY s.started_unix_s, s.id", 1, &trainee,
                           each_row, e, err, n)
                      : ex(r, SESSION_COLUMNS "ORDER BY s.started_unix_s, s.id", 0, NULL, each_row, e, err, n);
    free(e);
    return ok;
}

void records_sessions_free(records_session *s)
{
    free(s);
}

bool records_get_session(records *r, const char *id, records_session *out, char *err, size_t n)
{
    if (!valid_id(id, 4, err, n))
        return false;
    char like[RECORDS_ID_LEN + 1];
    snprintf(like, sizeof like, "%s%%", id);
    const char *p[] = {like};
    session_list l = {0};
    if (!list_query(r, SESSION_COLUMNS "WHERE s.id LIKE $1 ORDER BY s.id LIMIT 2", 1, p, &l, err, n))
        return false;
    bool ok = l.count == 1;
    if (l.count == 0)
        snprintf(err, n, "no session %s in the records", id);
    else if (l.count > 1)
        snprintf(err, n, "more than one session starts with %s: give more of its id", id);
    else
        *out = l.items[0];
    free(l.items);
    return ok;
}

char *records_session_report_json(records *r, const char *id, char *err, size_t n)
{
    records_session s;
    if (!records_get_session(r, id, &s, err, n))
        return NULL;
    char *text = NULL;
    const char *p[] = {s.id};
    if (!ex(r, "SELECT report_json FROM reports WHERE session_id = $1", 1, p, first_text, &text, err, n))
        return NULL;
    if (!text)
        snprintf(err, n, "session %s has no report: it was cut short before its end (replay it from its actions)",
                 s.id);
    return text;
}

typedef struct text_buf {
    char *s;
    size_t len, cap;
    bool oom;
} text_buf;

static bool append(text_buf *b, const char *s)
{
    size_t len = strlen(s);
    if (b->len + len + 2 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len + 2)
            cap *= 2;
        char *g = realloc(b->s, cap);
        if (!g) {
            b->oom = true;
            return false;
        }
        b->s = g;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, len);
    b->len += len;
    b->s[b->len++] = '\n';
    b->s[b->len] = '\0';
    return true;
}

static bool line_row(void *ctx, int ncol, const char *const *v)
{
    return ncol < 1 || !v[0] || append(ctx, v[0]);
}

static bool header_row(void *ctx, int ncol, const char *const *v)
{
    action_log_header *h = ctx;
    if (ncol < 4)
        return false;
    h->version = ACTIONS_LOG_VERSION;
    copy_str(h->simulator, sizeof h->simulator, v[0]);
    copy_str(h->scenario, sizeof h->scenario, v[1]);
    copy_str(h->scenario_hash, sizeof h->scenario_hash, v[2]);
    h->seed = v[3] ? (uint32_t)strtoul(v[3], NULL, 10) : 0;
    /* The header's "blind" (practised blind by option) is not kept apart from the report's:
     * a session that ran blind replays blind, which a blind case file does anyway. */
    h->blind = ncol > 4 && v[4] && atoi(v[4]) != 0;
    return false;
}

char *records_session_log(records *r, const char *id, char *err, size_t n)
{
    records_session s;
    if (!records_get_session(r, id, &s, err, n))
        return NULL;
    action_log_header h = {0};
    const char *p[] = {s.id};
    if (!ex(r, "SELECT simulator, scenario, scenario_hash, seed, blind FROM sessions WHERE id = $1", 1, p, header_row,
            &h, err, n))
        return NULL;
    char line[ACTIONS_MAX_LINE];
    action_format_header(&h, line, sizeof line);
    text_buf b = {0};
    append(&b, line);
    if (!ex(r, "SELECT line FROM actions WHERE session_id = $1 ORDER BY seq", 1, p, line_row, &b, err, n) ||
        b.oom) {
        if (b.oom)
            snprintf(err, n, "out of memory");
        free(b.s);
        return NULL;
    }
    return b.s;
}

bool records_session_delete(records *r, const char *id, char *err, size_t n)
{
    if (!valid_id(id, RECORDS_ID_LEN - 1, err, n))
        return false;
    const char *p[] = {id};
    if (!ex0(r, "BEGIN", err, n))
        return false;
    bool ok = ex(r, "DELETE FROM feedback WHERE session_id = $1", 1, p, NULL, NULL, err, n) &&
              ex(r, "DELETE FROM injections WHERE session_id = $1", 1, p, NULL, NULL, err, n) &&
              ex(r, "DELETE FROM actions WHERE session_id = $1", 1, p, NULL, NULL, err, n) &&
              ex(r, "DELETE FROM reports WHERE session_id = $1", 1, p, NULL, NULL, err, n) &&
              ex(r, "DELETE FROM sessions WHERE id = $1", 1, p, NULL, NULL, err, n) && ex0(r, "COMMIT", err, n);
    if (!ok)
        rollback(r);
    return ok;
}

double records_arm_rate(const records_arm *a)
{
    return a->injections > 0 ? (double)a->intradermal / a->injections : -1.0;
}

typedef struct bvg_rows {
    records_bvg *b;
    int cap;
    bool oom;
} bvg_rows;

/* One (scenario, blind) group, in scenario order: the blind row comes after the guided one. */
static bool bvg_row(void *ctx, int ncol, const char *const *v)
{
    bvg_rows *g = ctx;
    records_bvg *b = g->b;
    if (ncol < 5 || !v[0])
        return true;
    bool blind = v[1] && atoi(v[1]) != 0;
    records_arm a = {v[2] ? atoi(v[2]) : 0, v[3] ? atoi(v[3]) : 0, v[4] ? atoi(v[4]) : 0};
    records_arm *total = blind ? &b->blind : &b->guided;
    total->sessions += a.sessions;
    total->injections += a.injections;
    total->intradermal += a.intradermal;
    records_bvg_case *last = b->n_cases ? &b->cases[b->n_cases - 1] : NULL;
    if (last && !strcmp(last->scenario, v[0])) {
        last->blind = a;
        return true;
    }
    if (blind)
        return true; /* done blind only: nothing guided to compare with */
    if (!array_grow((void **)&b->cases, &g->cap, b->n_cases + 1, sizeof *b->cases)) {
        g->oom = true;
        return false;
    }
    records_bvg_case *c = &b->cases[b->n_cases++];
    memset(c, 0, sizeof *c);
    copy_str(c->scenario, sizeof c->scenario, v[0]);
    c->guided = a;
    return true;
}

bool records_blind_vs_guided(records *r, const char *trainee, records_bvg *out, char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    bvg_rows g = {.b = out};
    /* A session whose intradermal count is NULL has no report yet: it is in neither arm. */
#define BVG_SQL(where)                                                                                            \
    "SELECT scenario, blind, count(*), coalesce(sum(injections), 0), coalesce(sum(intradermal), 0)"              \
    " FROM sessions WHERE intradermal IS NOT NULL" where " GROUP BY scenario, blind ORDER BY scenario, blind"
    bool ok = trainee ? ex(r, BVG_SQL(" AND trainee = $1"), 1, &trainee, bvg_row, &g, err, n)
                      : ex(r, BVG_SQL(""), 0, NULL, bvg_row, &g, err, n);
#undef BVG_SQL
    if (g.oom) {
        snprintf(err, n, "out of memory");
        ok = false;
    }
    /* A case seen guided only has a zero blind arm: it is no comparison. */
    int k = 0;
    for (int i = 0; ok && i < out->n_cases; i++)
        if (out->cases[i].blind.sessions > 0)
            out->cases[k++] = out->cases[i];
    out->n_cases = k;
    for (int i = 0; ok && i < k; i++) {
        const records_bvg_case *c = &out->cases[i];
        out->same_blind.sessions += c->blind.sessions;
        out->same_blind.injections += c->blind.injections;
        out->same_blind.intradermal += c->blind.intradermal;
        out->same_guided.sessions += c->guided.sessions;
        out->same_guided.injections += c->guided.injections;
        out->same_guided.intradermal += c->guided.intradermal;
    }
    if (!ok)
        records_bvg_free(out);
    return ok;
}

void records_bvg_free(records_bvg *b)
{
    free(b->cases);
    memset(b, 0, sizeof *b);
}

bool records_default_outbox_path(char *out, size_t cap)
{
    if (!records_default_path(out, cap))
        return false;
    char *slash = strrchr(out, '/');
    size_t head = (size_t)(slash - out) + 1;
    return snprintf(out + head, cap - head, "outbox.db") < (int)(cap - head);
}

bool records_sync_session(records *from, records *to, const char *id, int *sent, char *err, size_t n)
{
    records_session s;
    if (!records_get_session(from, id, &s, err, n))
        return false;
    char *log = records_session_log(from, s.id, err, n);
    if (!log)
        return false;
    char *nl = strchr(log, '\n');
    action_log_header h;
    char herr[200];
    bool ok = nl && action_parse_header(log, (size_t)(nl - log), &h, herr, sizeof herr);
    if (!ok)
        snprintf(err, n, "session %s: its stored header does not read back", s.id);
    records_session_def sd = {.id = s.id, .trainee = s.trainee, .header = &h,
                              .scenario_path = s.scenario_path[0] ? s.scenario_path : NULL,
                              .device = s.device[0] ? s.device : NULL, .started_unix_s = s.started_unix_s};
    ok = ok && records_session_begin(to, &sd, err, n);
    if (ok && *sent < 0) {
        records_session there;
        ok = records_get_session(to, s.id, &there, err, n);
        *sent = ok ? there.actions : -1;
    }
    int seq = 0;
    for (char *line = nl ? nl + 1 : NULL; ok && line && *line; seq++) {
        char *end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (seq + 1 > *sent) {
            ok = records_session_action(to, s.id, seq + 1, line, err, n);
            if (ok)
                *sent = seq + 1;
        }
        line = end ? end + 1 : NULL;
    }
    free(log);
    if (ok && s.ended) {
        char *report = records_session_report_json(from, s.id, err, n);
        ok = report && records_session_end(to, s.id, report, s.finished, s.ended_unix_s, err, n);
        free(report);
    }
    return ok;
}

int records_flush_outbox(records *from, records *to, char *err, size_t n)
{
    records_session *list;
    int count;
    if (!records_list_sessions(from, NULL, &list, &count, err, n))
        return -1;
    int sent = 0;
    for (int i = 0; i < count; i++) {
        int k = -1;
        records_session still;
        char e[300];
        /* Another station process (a session still waiting for the server) may have sent it
         * and taken it out of the outbox meanwhile: that is no failure. */
        if (!records_get_session(from, list[i].id, &still, e, sizeof e))
            continue;
        if (!records_sync_session(from, to, list[i].id, &k, err, n) ||
            (list[i].ended && !records_session_delete(from, list[i].id, err, n))) {
            records_sessions_free(list);
            return -1;
        }
        sent++;
    }
    records_sessions_free(list);
    return sent;
}
