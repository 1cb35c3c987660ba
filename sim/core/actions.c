/* actions: JSON Lines action log, parsed line by line with jansson, written canonically. */
#include "actions.h"
#include "doppler.h"
#include "limit.h"
#include "suggest.h"
#include "textfile.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* A session is minutes long; a day bounds t against typos like 1e9. */
#define MAX_T_S 86400.0
/* An hour of continuous device motion, decimated to 60 Hz, is about 13 MB. */
#define MAX_FILE_BYTES (64u * 1024u * 1024u)

typedef struct key_row {
    const char *name;
    limit_id lim; /* the range, from the one limits table (limit.h) */
} key_row;

/* Ranges as the scenario's: positions on the patch, probe pose and settings as probe_check,
 * needle angle 1..90 deg, any positive advance up to a 13 mm needle plus margin, any positive
 * volume up to 5 mL per point (gas included). */
static const key_row k_keys[AK_COUNT] = {
    [AK_X] = {"x_mm", LIM_POSITION_MM},
    [AK_Y] = {"y_mm", LIM_POSITION_MM},
    [AK_ROT] = {"rot_deg", LIM_ROTATION_DEG},
    [AK_TILT] = {"tilt_deg", LIM_TILT_DEG},
    [AK_ROCK] = {"rock_deg", LIM_ROCK_DEG},
    [AK_PRESSURE] = {"pressure_n", LIM_PRESSURE_N},
    [AK_FREQ] = {"freq_mhz", LIM_FREQ_MHZ},
    [AK_DEPTH] = {"depth_mm", LIM_DEPTH_MM},
    [AK_GAIN] = {"gain_db", LIM_GAIN_DB},
    [AK_DR] = {"dynamic_range_db", LIM_DYNAMIC_RANGE_DB},
    [AK_TGC] = {"tgc_db_cm_mhz", LIM_TGC_DB_CM_MHZ},
    [AK_ANGLE] = {"angle_deg", LIM_NEEDLE_ANGLE_DEG},
    [AK_AZIMUTH] = {"azimuth_deg", LIM_NEEDLE_AZIMUTH_DEG},
    [AK_MM] = {"mm", LIM_NEEDLE_STEP_MM},
    [AK_ML] = {"ml", LIM_INJECT_ML},
    [AK_RATE] = {"rate_ml_s", LIM_INJECT_RATE_ML_S},
    [AK_TOP] = {"top_mm", LIM_MARK_DEPTH_MM},
    [AK_BOTTOM] = {"bottom_mm", LIM_MARK_DEPTH_MM},
    [AK_FOCUS] = {"focus_mm", LIM_FOCUS_MM},
    [AK_TGC0] = {"tgc0_db", LIM_TGC_ZONE_DB},
    [AK_TGC1] = {"tgc1_db", LIM_TGC_ZONE_DB},
    [AK_TGC2] = {"tgc2_db", LIM_TGC_ZONE_DB},
    [AK_TGC3] = {"tgc3_db", LIM_TGC_ZONE_DB},
    [AK_TGC4] = {"tgc4_db", LIM_TGC_ZONE_DB},
    [AK_TGC5] = {"tgc5_db", LIM_TGC_ZONE_DB},
    [AK_TGC6] = {"tgc6_db", LIM_TGC_ZONE_DB},
    [AK_TGC7] = {"tgc7_db", LIM_TGC_ZONE_DB},
    [AK_X0] = {"x0_mm", LIM_CALIPER_X_MM},
    [AK_Z0] = {"z0_mm", LIM_CALIPER_Z_MM},
    [AK_X1] = {"x1_mm", LIM_CALIPER_X_MM},
    [AK_Z1] = {"z1_mm", LIM_CALIPER_Z_MM},
    [AK_LINES] = {"lines", LIM_N_LINES},
    [AK_PRF] = {"prf_hz", LIM_DOPPLER_PRF_HZ},
    [AK_STEER] = {"steer_deg", LIM_DOPPLER_STEER_DEG},
    [AK_RX_FNUMBER] = {"rx_fnumber", LIM_RX_FNUMBER},
};

#define B(k) ((uint64_t)1 << (k))
typedef struct verb_row {
    const char *name;
    uint64_t allowed, required;
    bool name_key; /* takes "name" (and, for "step", "skin_check") */
} verb_row;

static const verb_row k_verbs[ACT_VERB_COUNT] = {
    [ACT_PROBE] = {"probe", B(AK_X) | B(AK_Y) | B(AK_ROT) | B(AK_TILT) | B(AK_ROCK) |
                   B(AK_PRESSURE) | B(AK_FREQ) | B(AK_DEPTH) | B(AK_GAIN) | B(AK_DR) |
                   B(AK_TGC) | B(AK_FOCUS) | B(AK_RX_FNUMBER) | B(AK_TGC0) | B(AK_TGC1) | B(AK_TGC2) |
                   B(AK_TGC3) | B(AK_TGC4) | B(AK_TGC5) | B(AK_TGC6) | B(AK_TGC7) | B(AK_LINES), 0, false},
    [ACT_NEEDLE_ENTRY] = {"needle_entry", B(AK_X) | B(AK_Y) | B(AK_ANGLE) | B(AK_AZIMUTH),
                          B(AK_X) | B(AK_Y) | B(AK_ANGLE) | B(AK_AZIMUTH), false},
    [ACT_ADVANCE] = {"advance", B(AK_MM), B(AK_MM), false},
    [ACT_RETRACT] = {"retract", B(AK_MM), B(AK_MM), false},
    [ACT_WITHDRAW] = {"withdraw", 0, 0, false},
    [ACT_REDIRECT] = {"redirect", B(AK_ANGLE) | B(AK_AZIMUTH), B(AK_ANGLE) | B(AK_AZIMUTH), false},
    [ACT_INJECT] = {"inject", B(AK_ML) | B(AK_RATE), B(AK_ML), false},
    [ACT_STEP] = {"step", 0, 0, true},
    [ACT_MARK_DERMIS] = {"mark_dermis", B(AK_TOP) | B(AK_BOTTOM), B(AK_TOP) | B(AK_BOTTOM), false},
    [ACT_MEASURE] = {"measure", B(AK_X0) | B(AK_Z0) | B(AK_X1) | B(AK_Z1),
                     B(AK_X0) | B(AK_Z0) | B(AK_X1) | B(AK_Z1), false},
    [ACT_WAIT] = {"wait", 0, 0, false},
    [ACT_END] = {"end", 0, 0, false},
    [ACT_UNDO_STEP] = {"undo_step", 0, 0, true},
    [ACT_DOPPLER] = {"doppler", B(AK_X0) | B(AK_Z0) | B(AK_X1) | B(AK_Z1) | B(AK_PRF) |
                     B(AK_STEER) | B(AK_GAIN), 0, false},
};

/* The case report's steps a trainee declares; the assessment, the guided injection and the
 * spread check are scored from what the trainee did (mark_dermis, the image), not declared. */
static const char *const k_steps[] = {"positioning", "disinfection", "sterile_field", "dressing"};
#define N_STEPS ((int)(sizeof k_steps / sizeof k_steps[0]))

const char *action_verb_name(action_verb v)
{
    return (int)v >= 0 && v < ACT_VERB_COUNT ? k_verbs[v].name : "unknown";
}

const char *action_key_name(action_key k)
{
    return (int)k >= 0 && k < AK_COUNT ? k_keys[k].name : "unknown";
}

int action_step_count(void) { return N_STEPS; }

const char *action_step_name(int i) { return i >= 0 && i < N_STEPS ? k_steps[i] : NULL; }

/* " (did you mean "x"?)" for the name the word plausibly meant (suggest.h), or "". */
static void hint(char *out, size_t cap, const char *word, const char *const *names, int n)
{
    const char *best = suggest_closest(word, names, n);
    if (best)
        snprintf(out, cap, " (did you mean \"%s\"?)", best);
    else
        out[0] = '\0';
}

/* A key or value quoted for a message, short and free of control characters. */
static void clean(char *out, size_t cap, const char *s)
{
    size_t o = 0;
    for (; *s && o + 4 < cap; s++)
        out[o++] = ((unsigned char)*s < 0x20 || *s == 0x7f) ? '?' : *s;
    if (*s)
        out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o] = '\0';
}


static bool parse_obj(json_t *root, double prev_t, action *a, char *err, size_t n)
{
    char q[64], h[96];
    json_t *t = json_object_get(root, "t"), *verb = json_object_get(root, "do");
    if (!t) {
        snprintf(err, n, "missing key \"t\" (seconds since the session began)");
        return false;
    }
    if (!json_is_number(t)) {
        snprintf(err, n, "\"t\": expected a number (s), got %s", suggest_json_type(t));
        return false;
    }
    double tv = json_number_value(t);
    if (!(tv >= 0.0 && tv <= MAX_T_S)) {
        snprintf(err, n, "\"t\": must be within 0..%g s, got %.10g", MAX_T_S, tv);
        return false;
    }
    if (prev_t >= 0.0 && tv < prev_t) {
        snprintf(err, n, "\"t\": %.10g s goes back in time (previous action at %.10g s)", tv,
                 prev_t);
        return false;
    }
    if (!verb) {
        snprintf(err, n, "missing key \"do\" (the verb)");
        return false;
    }
    if (!json_is_string(verb)) {
        snprintf(err, n, "\"do\": expected a verb string, got %s", suggest_json_type(verb));
        return false;
    }
    const char *vs = json_string_value(verb);
    int vi = -1;
    const char *vnames[ACT_VERB_COUNT];
    for (int i = 0; i < ACT_VERB_COUNT; i++) {
        vnames[i] = k_verbs[i].name;
        if (strcmp(vs, vnames[i]) == 0)
            vi = i;
    }
    if (vi < 0) {
        clean(q, sizeof q, vs);
        hint(h, sizeof h, vs, vnames, ACT_VERB_COUNT);
        snprintf(err, n, "unknown verb \"%s\"%s", q, h);
        return false;
    }
    const verb_row *vr = &k_verbs[vi];
    memset(a, 0, sizeof *a);
    a->t_s = tv;
    a->verb = (action_verb)vi;
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (!strcmp(key, "t") || !strcmp(key, "do"))
            continue;
        int ki = -1;
        for (int k = 0; k < AK_COUNT; k++)
            if (!strcmp(key, k_keys[k].name))
                ki = k;
        clean(q, sizeof q, key);
        if (vr->name_key && (!strcmp(key, "name") ||
                             (a->verb == ACT_STEP && !strcmp(key, "skin_check")))) {
            if (!strcmp(key, "name")) {
                if (!json_is_string(v)) {
                    snprintf(err, n, "\"name\": expected a step name string, got %s", suggest_json_type(v));
                    return false;
                }
                const char *s = json_string_value(v);
                int si = -1;
                for (int i = 0; i < N_STEPS; i++)
                    if (!strcmp(s, k_steps[i]))
                        si = i;
                if (si < 0) {
                    char sq[64];
                    clean(sq, sizeof sq, s);
                    hint(h, sizeof h, s, k_steps, N_STEPS);
                    snprintf(err, n, "unknown step \"%s\"%s; expected positioning, disinfection, "
                             "sterile_field or dressing", sq, h);
                    return false;
                }
                snprintf(a->name, sizeof a->name, "%s", k_steps[si]);
            } else {
                if (!json_is_boolean(v)) {
                    snprintf(err, n, "\"skin_check\": expected true or false, got %s", suggest_json_type(v));
                    return false;
                }
                a->skin_check = json_is_true(v);
                a->has_skin_check = true;
            }
            continue;
        }
        if (a->verb == ACT_DOPPLER && !strcmp(key, "mode")) {
            const char *ms = json_is_string(v) ? json_string_value(v) : NULL;
            doppler_mode m = doppler_mode_from_name(ms);
            if (m == DOPPLER_MODE_COUNT) {
                char mq[64] = "";
                if (ms)
                    clean(mq, sizeof mq, ms);
                snprintf(err, n, "\"mode\": expected \"off\", \"color\" or \"power\", got %s%s%s",
                         ms ? "\"" : suggest_json_type(v), mq, ms ? "\"" : "");
                return false;
            }
            a->mode = (int)m;
            a->has_mode = true;
            continue;
        }
        if (ki < 0 || !(vr->allowed & B(ki))) {
            const char *cands[AK_COUNT + 2];
            int nc = 0;
            for (int k = 0; k < AK_COUNT; k++)
                if (vr->allowed & B(k))
                    cands[nc++] = k_keys[k].name;
            if (vr->name_key)
                cands[nc++] = "name";
            if (a->verb == ACT_STEP)
                cands[nc++] = "skin_check";
            if (a->verb == ACT_DOPPLER)
                cands[nc++] = "mode";
            hint(h, sizeof h, key, cands, nc);
            if (ki >= 0)
                snprintf(err, n, "key \"%s\" does not apply to \"%s\"%s", q, vr->name, h);
            else
                snprintf(err, n, "unknown key \"%s\" for \"%s\"%s", q, vr->name, h);
            return false;
        }
        const key_row *kr = &k_keys[ki];
        /* In the doppler verb gain_db is the colour gain, with its own range. */
        limit_id lid = a->verb == ACT_DOPPLER && ki == AK_GAIN ? LIM_DOPPLER_GAIN_DB : kr->lim;
        const limit *lim = limit_get(lid);
        if (!json_is_number(v)) {
            snprintf(err, n, "\"%s\": expected a number (%s), got %s", kr->name, lim->unit,
                     suggest_json_type(v));
            return false;
        }
        double x = json_number_value(v);
        if (!limit_ok(lid, x)) {
            snprintf(err, n, "\"%s\": must be %s %g and <= %g %s, got %.10g", kr->name,
                     lim->min_exclusive ? ">" : ">=", lim->min, lim->max, lim->unit, x);
            return false;
        }
        a->v[ki] = x;
        a->has |= B(ki);
    }
    uint64_t missing = vr->required & ~a->has;
    if (missing) {
        for (int k = 0; k < AK_COUNT; k++)
            if (missing & B(k)) {
                snprintf(err, n, "\"%s\" needs key \"%s\" (%s)", vr->name, k_keys[k].name,
                         limit_get(k_keys[k].lim)->unit);
                return false;
            }
    }
    if (vr->name_key && !a->name[0]) {
        snprintf(err, n, "\"%s\" needs key \"name\"", vr->name);
        return false;
    }
    if (a->has_skin_check && strcmp(a->name, "disinfection") != 0) {
        snprintf(err, n, "\"skin_check\" applies to the step \"disinfection\" only");
        return false;
    }
    if (a->verb == ACT_DOPPLER) {
        uint64_t box = B(AK_X0) | B(AK_Z0) | B(AK_X1) | B(AK_Z1);
        if ((a->has & box) && (a->has & box) != box) {
            snprintf(err, n, "\"doppler\": the box needs all four corners x0_mm, z0_mm, x1_mm, z1_mm");
            return false;
        }
        if ((a->has & box) && !(a->v[AK_X1] - a->v[AK_X0] >= 0.5 && a->v[AK_Z1] - a->v[AK_Z0] >= 0.5)) {
            snprintf(err, n, "\"doppler\": the box must be at least 0.5 mm wide and deep "
                     "(x1_mm > x0_mm, z1_mm > z0_mm), got %g..%g x %g..%g mm", a->v[AK_X0],
                     a->v[AK_X1], a->v[AK_Z0], a->v[AK_Z1]);
            return false;
        }
        if (!a->has && !a->has_mode) {
            snprintf(err, n, "\"doppler\" needs at least one of mode, x0_mm..z1_mm, prf_hz, "
                     "steer_deg, gain_db");
            return false;
        }
    }
    if (action_has(a, AK_LINES) && a->v[AK_LINES] != floor(a->v[AK_LINES])) {
        snprintf(err, n, "\"lines\": must be a whole number, got %.10g", a->v[AK_LINES]);
        return false;
    }
    if (a->verb == ACT_MARK_DERMIS && !(a->v[AK_BOTTOM] > a->v[AK_TOP])) {
        snprintf(err, n, "\"bottom_mm\" (%g) must be deeper than \"top_mm\" (%g)",
                 a->v[AK_BOTTOM], a->v[AK_TOP]);
        return false;
    }
    return true;
}

bool action_parse_line(const char *line, size_t len, double prev_t, action *out, char *err,
                       size_t err_len)
{
    err[0] = '\0';
    size_t i = 0;
    while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
        i++;
    if (i == len || line[i] == '#')
        return false;
    if (len > ACTIONS_MAX_LINE) {
        snprintf(err, err_len, "line too long: %zu bytes, at most %d", len, ACTIONS_MAX_LINE);
        return false;
    }
    if (memchr(line, '\0', len)) {
        snprintf(err, err_len, "contains a NUL byte: not a text line");
        return false;
    }
    json_error_t je;
    json_t *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, err_len, "invalid JSON at column %d: %s", je.column, je.text);
        return false;
    }
    bool ok;
    action a;
    if (!json_is_object(root)) {
        snprintf(err, err_len, "an action is a JSON object, got %s", suggest_json_type(root));
        ok = false;
    } else {
        ok = parse_obj(root, prev_t, &a, err, err_len);
    }
    json_decref(root);
    if (ok)
        *out = a;
    return ok;
}

static void add_error(action_list *l, int line, const char *msg)
{
    l->total_errors++;
    if (l->n_errors < ACTIONS_MAX_ERRORS) {
        action_error *e = &l->errors[l->n_errors++];
        e->line = line;
        snprintf(e->message, sizeof e->message, "%s", msg);
    }
}

static bool blank_or_comment(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r'))
        i++;
    return i == n || p[i] == '#';
}

int action_format_header(const action_log_header *h, char *buf, size_t cap)
{
    json_t *o = json_object();
    json_object_set_new(o, "mesosim_log", json_integer(ACTIONS_LOG_VERSION));
    json_object_set_new(o, "simulator", json_string(h->simulator));
    json_object_set_new(o, "scenario", json_string(h->scenario));
    json_object_set_new(o, "scenario_hash", json_string(h->scenario_hash));
    json_object_set_new(o, "seed", json_integer(h->seed));
    if (h->blind) /* only then: a guided session's header keeps its bytes */
        json_object_set_new(o, "blind", json_true());
    char *t = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    int w = snprintf(buf, cap, "%s", t ? t : "");
    free(t);
    return w;
}

bool action_parse_header(const char *line, size_t len, action_log_header *out, char *err,
                         size_t err_len)
{
    err[0] = '\0';
    static const char k_key[] = "\"mesosim_log\"";
    bool found = false;
    for (size_t i = 0; !found && i + sizeof k_key - 1 <= len; i++)
        found = !memcmp(line + i, k_key, sizeof k_key - 1);
    if (blank_or_comment(line, len) || !found)
        return false;
    json_error_t je;
    json_t *o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(o) || !json_object_get(o, "mesosim_log")) {
        json_decref(o);
        return false;
    }
    memset(out, 0, sizeof *out);
    bool ok = false;
    json_t *v = json_object_get(o, "mesosim_log");
    const char *sim = json_string_value(json_object_get(o, "simulator"));
    const char *name = json_string_value(json_object_get(o, "scenario"));
    const char *hash = json_string_value(json_object_get(o, "scenario_hash"));
    json_t *seed = json_object_get(o, "seed");
    json_t *blind = json_object_get(o, "blind");
    if (!json_is_integer(v) || json_integer_value(v) < 2) {
        snprintf(err, err_len, "header: \"mesosim_log\" must be a format version (2)");
    } else if (json_integer_value(v) > ACTIONS_LOG_VERSION) {
        snprintf(err, err_len, "header: log format %lld is newer than this simulator reads (%d): "
                 "replay it with a newer mesosim", (long long)json_integer_value(v), ACTIONS_LOG_VERSION);
    } else if (!sim || !name || !hash || strlen(hash) != 16 || strspn(hash, "0123456789abcdef") != 16) {
        snprintf(err, err_len, "header: needs \"simulator\", \"scenario\" and a 16-hex-digit "
                 "\"scenario_hash\"");
    } else if (seed && (!json_is_integer(seed) || json_integer_value(seed) < 0 ||
                        json_integer_value(seed) > 0xffffffffLL)) {
        snprintf(err, err_len, "header: \"seed\" must be a whole number 0..4294967295");
    } else if (blind && !json_is_boolean(blind)) {
        snprintf(err, err_len, "header: \"blind\" must be true or false (whether the session was run blind)");
    } else {
        out->version = (int)json_integer_value(v);
        snprintf(out->simulator, sizeof out->simulator, "%s", sim);
        snprintf(out->scenario, sizeof out->scenario, "%s", name);
        memcpy(out->scenario_hash, hash, 17);
        out->seed = seed ? (uint32_t)json_integer_value(seed) : 0;
        out->blind = json_is_true(blind);
        ok = true;
    }
    json_decref(o);
    return ok;
}

bool actions_load_string(const char *text, size_t len, action_list *out)
{
    memset(out, 0, sizeof *out);
    out->header.version = 1;
    int cap = 0, line = 0;
    double prev_t = -1.0;
    size_t pos = 0;
    bool ended = false, content = false;
    while (pos < len) {
        /* A line ends at LF, CRLF or a bare CR (old Mac editors, some loggers): a log with CR
         * ends must not read as one line that a leading comment swallows whole. */
        size_t end = pos;
        while (end < len && text[end] != '\n' && text[end] != '\r')
            end++;
        size_t next = end + (end < len && text[end] == '\r' && end + 1 < len && text[end + 1] == '\n' ? 2 : 1);
        line++;
        action a;
        char err[200];
        /* The header, when there is one, is the first line that is not blank or a comment. */
        if (!content && !blank_or_comment(text + pos, end - pos)) {
            content = true;
            if (action_parse_header(text + pos, end - pos, &out->header, err, sizeof err) || err[0]) {
                if (err[0])
                    add_error(out, line, err);
                pos = end + 1;
                continue;
            }
        }
        if (action_parse_line(text + pos, end - pos, prev_t, &a, err, sizeof err)) {
            a.line = line;
            if (ended) {
                add_error(out, line, "action after \"end\"");
            } else {
                if (out->count == cap) {
                    int nc = cap ? cap * 2 : 64;
                    action *items = realloc(out->items, (size_t)nc * sizeof *items);
                    if (!items) {
                        add_error(out, line, "out of memory");
                        break;
                    }
                    out->items = items;
                    cap = nc;
                }
                out->items[out->count++] = a;
                prev_t = a.t_s;
                ended = a.verb == ACT_END;
            }
        } else if (err[0]) {
            add_error(out, line, err);
        }
        pos = next;
    }
    if (out->total_errors == 0)
        return true;
    /* All or nothing: a log with a bad line plays no part of itself. */
    free(out->items);
    out->items = NULL;
    out->count = 0;
    return false;
}

bool actions_load_file(const char *path, action_list *out)
{
    memset(out, 0, sizeof *out);
    char *buf, msg[200];
    size_t n;
    int e;
    switch (textfile_read(path, MAX_FILE_BYTES, &buf, &n, &e)) {
    case TEXTFILE_OK: {
        bool ok = actions_load_string(buf, n, out);
        free(buf);
        return ok;
    }
    case TEXTFILE_OPEN: snprintf(msg, sizeof msg, "cannot open: %s", strerror(e)); break;
    case TEXTFILE_READ: snprintf(msg, sizeof msg, "cannot read the file"); break;
    case TEXTFILE_NOMEM: snprintf(msg, sizeof msg, "cannot read: out of memory"); break;
    default: snprintf(msg, sizeof msg, "too large: over 64 MiB"); break;
    }
    add_error(out, 0, msg);
    return false;
}

void actions_free(action_list *l)
{
    if (!l)
        return;
    free(l->items);
    l->items = NULL;
    l->count = 0;
}

/* Shortest %g form that reads back to the same double. */
static void fmt_num(char *out, size_t cap, double x)
{
    for (int p = 6; p <= 17; p++) {
        snprintf(out, cap, "%.*g", p, x);
        if (strtod(out, NULL) == x)
            return;
    }
}

int action_format(const action *a, char *buf, size_t cap)
{
    char num[40];
    fmt_num(num, sizeof num, a->t_s);
    int n = snprintf(buf, cap, "{\"t\":%s,\"do\":\"%s\"", num, action_verb_name(a->verb));
    for (int k = 0; k < AK_COUNT; k++) {
        if (!action_has(a, (action_key)k))
            continue;
        fmt_num(num, sizeof num, a->v[k]);
        n += snprintf(buf + (n < (int)cap ? n : (int)cap), cap > (size_t)n ? cap - (size_t)n : 0,
                      ",\"%s\":%s", k_keys[k].name, num);
    }
    if (a->verb == ACT_STEP || a->verb == ACT_UNDO_STEP) {
        n += snprintf(buf + (n < (int)cap ? n : (int)cap), cap > (size_t)n ? cap - (size_t)n : 0,
                      ",\"name\":\"%s\"", a->name);
        if (a->has_skin_check)
            n += snprintf(buf + (n < (int)cap ? n : (int)cap),
                          cap > (size_t)n ? cap - (size_t)n : 0, ",\"skin_check\":%s",
                          a->skin_check ? "true" : "false");
    }
    if (a->verb == ACT_DOPPLER && a->has_mode)
        n += snprintf(buf + (n < (int)cap ? n : (int)cap), cap > (size_t)n ? cap - (size_t)n : 0,
                      ",\"mode\":\"%s\"", doppler_mode_name((doppler_mode)a->mode));
    n += snprintf(buf + (n < (int)cap ? n : (int)cap), cap > (size_t)n ? cap - (size_t)n : 0, "}");
    return n;
}
