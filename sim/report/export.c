/* export: CSV and xAPI (export.h). */
#include "export.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *const export_csv_columns[] = {
    "kind", "session_id", "trainee", "scenario", "scenario_hash", "started_utc", "finished",
    "blind", "duration_s", "score", "pass", "critical_failed", "injections", "intradermal_rate",
    "injection", "t_s", "verdict", "layer", "tip_depth_mm", "margin_mm", "tip_in_slice",
    "dermis_fraction", "volume_ml", NULL,
};

/* A growing text buffer; on failure it stops growing and says so at the end. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

/* RFC 4180 section 2: fields with a comma, a quote or a line break are quoted, quotes doubled. */
static void csv_field(sbuf *b, const char *s, bool first)
{
    if (!first)
        sb_put(b, ",", 1);
    if (!s)
        return;
    if (!strpbrk(s, ",\"\r\n")) {
        sb_str(b, s);
        return;
    }
    sb_put(b, "\"", 1);
    for (const char *c = s; *c; c++) {
        if (*c == '"')
            sb_put(b, "\"", 1);
        sb_put(b, c, 1);
    }
    sb_put(b, "\"", 1);
}

static void csv_num(sbuf *b, double v)
{
    char t[40];
    snprintf(t, sizeof t, "%.6g", v);
    csv_field(b, t, false);
}

static void fmt_utc(double unix_s, char *out, size_t cap)
{
    out[0] = '\0';
    if (unix_s <= 0)
        return;
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (gmtime_r(&t, &tm))
        strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void csv_session_cells(sbuf *b, const char *kind, const learning_session *s)
{
    char when[32];
    fmt_utc(s->started_unix_s, when, sizeof when);
    csv_field(b, kind, true);
    csv_field(b, s->id, false);
    csv_field(b, s->trainee, false);
    csv_field(b, s->scenario, false);
    csv_field(b, s->scenario_hash, false);
    csv_field(b, when, false);
    csv_field(b, s->finished ? "true" : "false", false);
    csv_field(b, s->blind ? "true" : "false", false);
}

char *export_csv(json_t *const *reports, const learning_meta *meta, int n, char *err,
                 size_t err_len)
{
    sbuf b = {0};
    for (int c = 0; export_csv_columns[c]; c++)
        csv_field(&b, export_csv_columns[c], c == 0);
    sb_str(&b, "\r\n");
    for (int i = 0; i < n; i++) {
        learning_session s;
        char why[160];
        if (!learning_session_read(reports[i], meta ? &meta[i] : NULL, &s, why, sizeof why)) {
            snprintf(err, err_len, "report %d of %d: %s", i + 1, n, why);
            free(b.p);
            return NULL;
        }
        csv_session_cells(&b, "session", &s);
        csv_num(&b, s.duration_s);
        csv_num(&b, s.score);
        csv_field(&b, s.pass ? "true" : "false", false);
        csv_field(&b, s.critical_failed ? "true" : "false", false);
        char cnt[24];
        snprintf(cnt, sizeof cnt, "%d", s.injections);
        csv_field(&b, cnt, false);
        csv_num(&b, s.intradermal_rate);
        for (int k = 0; k < 9; k++)
            csv_field(&b, NULL, false);
        sb_str(&b, "\r\n");
        const json_t *inj = json_object_get(reports[i], "injections");
        for (size_t j = 0; j < json_array_size(inj); j++) {
            const json_t *o = json_array_get(inj, j);
            csv_session_cells(&b, "injection", &s);
            for (int k = 0; k < 6; k++)
                csv_field(&b, NULL, false);
            snprintf(cnt, sizeof cnt, "%zu", j + 1);
            csv_field(&b, cnt, false);
            csv_num(&b, json_number_value(json_object_get(o, "t_s")));
            csv_field(&b, json_string_value(json_object_get(o, "verdict")), false);
            csv_field(&b, json_string_value(json_object_get(o, "layer")), false);
            csv_num(&b, json_number_value(json_object_get(o, "tip_depth_mm")));
            csv_num(&b, json_number_value(json_object_get(o, "margin_mm")));
            csv_field(&b, json_is_true(json_object_get(o, "tip_in_slice")) ? "true" : "false", false);
            csv_num(&b, json_number_value(json_object_get(o, "dermis_fraction")));
            csv_num(&b, json_number_value(json_object_get(o, "volume_ml")));
            sb_str(&b, "\r\n");
        }
    }
    if (b.oom || !b.p) {
        free(b.p);
        snprintf(err, err_len, "out of memory writing the CSV of %d sessions", n);
        return NULL;
    }
    return b.p;
}

export_xapi_def export_xapi_default_def(void)
{
    export_xapi_def d;
    /* .invalid is reserved (RFC 2606): a programme sets its own with --home-page. */
    d.home_page = "https://mesosim.invalid/trainees";
    d.activity_base = "https://mesosim.invalid/cases/";
    d.hash_extension = "https://mesosim.invalid/xapi/extensions/scenario-hash";
    d.platform = NULL;
    return d;
}

static uint64_t fnv1a64(const char *s, uint64_t h)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        h ^= *c;
        h *= 0x100000001b3ull;
    }
    return h;
}

void export_uuid_from(const char *key, char out[37])
{
    uint64_t hi = fnv1a64(key, 0xcbf29ce484222325ull);
    uint64_t lo = fnv1a64(key, hi ^ 0x9E3779B97F4A7C15ull);
    uint8_t b[16];
    for (int i = 0; i < 8; i++) {
        b[i] = (uint8_t)(hi >> (56 - 8 * i));
        b[8 + i] = (uint8_t)(lo >> (56 - 8 * i));
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40); /* version 4 (RFC 4122 4.4) */
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80); /* variant 10 */
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
             b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
             b[14], b[15]);
}

/* RFC 3986 percent-encoding of everything but the unreserved characters. */
static void iri_append(sbuf *b, const char *s)
{
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
            *c == '-' || *c == '.' || *c == '_' || *c == '~') {
            sb_put(b, (const char *)c, 1);
        } else {
            char t[4];
            snprintf(t, sizeof t, "%%%02X", *c);
            sb_put(b, t, 3);
        }
    }
}

/* ISO 8601 duration with at most 0.01 s precision (xAPI 1.0.3 4.6). */
static void iso_duration(double s, char *out, size_t cap)
{
    if (!(s > 0) || !isfinite(s))
        s = 0;
    long cs = lround(s * 100.0);
    long h = cs / 360000, m = (cs / 6000) % 60;
    double sec = (double)(cs % 6000) / 100.0;
    if (h > 0)
        snprintf(out, cap, "PT%ldH%ldM%.2fS", h, m, sec);
    else if (m > 0)
        snprintf(out, cap, "PT%ldM%.2fS", m, sec);
    else
        snprintf(out, cap, "PT%.2fS", sec);
}

static json_t *statement(const export_xapi_def *def, const learning_session *s, const char *verb,
                         const char *activity_id, bool scored, bool completion)
{
    char key[256], uuid[37], dur[48], when[32];
    snprintf(key, sizeof key, "%s/%s/%s", s->id, s->trainee, verb);
    export_uuid_from(key, uuid);
    iso_duration(s->duration_s, dur, sizeof dur);
    const char *who = s->trainee[0] ? s->trainee : "unknown";
    char verb_id[96];
    snprintf(verb_id, sizeof verb_id, "http://adlnet.gov/expapi/verbs/%s", verb);

    json_t *result = json_pack("{s:b, s:s}", "completion", completion, "duration", dur);
    if (scored) {
        double total = s->score < 0 ? 0 : s->score > 100 ? 100 : s->score;
        json_object_set_new(result, "score",
                            json_pack("{s:f, s:f, s:i, s:i}", "scaled", total / 100.0, "raw", total,
                                      "min", 0, "max", 100));
        json_object_set_new(result, "success", json_boolean(s->pass));
    }
    json_t *ext = json_object();
    json_object_set_new(ext, def->hash_extension, json_string(s->scenario_hash));
    json_t *context = json_pack("{s:o}", "extensions", ext);
    if (def->platform)
        json_object_set_new(context, "platform", json_string(def->platform));
    json_t *st = json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:{s:s}}, s:{s:s, s:s, s:{s:{s:s}, s:s}}, "
        "s:o, s:o}",
        "id", uuid, "version", "1.0.3",
        "actor", "objectType", "Agent", "name", who, "account", "homePage", def->home_page,
        "name", who,
        "verb", "id", verb_id, "display", "en-US", verb,
        "object", "objectType", "Activity", "id", activity_id, "definition", "name", "en-US",
        s->scenario[0] ? s->scenario : "unnamed case", "type",
        "http://adlnet.gov/expapi/activities/simulation",
        "result", result, "context", context);
    fmt_utc(s->started_unix_s, when, sizeof when);
    if (st && when[0])
        json_object_set_new(st, "timestamp", json_string(when));
    return st;
}

json_t *export_xapi(const export_xapi_def *def, json_t *const *reports, const learning_meta *meta,
                    int n, char *err, size_t err_len)
{
    json_t *all = json_array();
    bool ok = all != NULL;
    for (int i = 0; i < n && ok; i++) {
        learning_session s;
        char why[160];
        if (!learning_session_read(reports[i], meta ? &meta[i] : NULL, &s, why, sizeof why)) {
            snprintf(err, err_len, "report %d of %d: %s", i + 1, n, why);
            json_decref(all);
            return NULL;
        }
        if (!s.id[0])
            snprintf(s.id, sizeof s.id, "report-%d", i + 1);
        sbuf act = {0};
        sb_str(&act, def->activity_base);
        iri_append(&act, s.scenario[0] ? s.scenario : "unnamed");
        ok = !act.oom;
        const char *verbs[2] = {"attempted", NULL};
        if (s.finished) {
            verbs[0] = "completed";
            verbs[1] = s.pass ? "passed" : "failed";
        }
        for (int v = 0; v < 2 && verbs[v] && ok; v++) {
            bool scored = v == 1;
            json_t *st = statement(def, &s, verbs[v], act.p, scored, s.finished);
            ok = st && json_array_append_new(all, st) == 0;
        }
        free(act.p);
    }
    if (!ok) {
        json_decref(all);
        snprintf(err, err_len, "out of memory writing the xAPI statements of %d sessions", n);
        return NULL;
    }
    return all;
}
