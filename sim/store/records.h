/* records: the trainees' records, one store interface over two engines.
 *
 * An embedded SQLite file (the default, $XDG_DATA_HOME/mesosim/records.db) or a PostgreSQL
 * server for a skills lab ("postgresql://user@host:port/db", the password from PGPASSFILE,
 * PGPASSWORD or a 0600 config file, never from the URL in a message: records_redact). Both
 * hold the same schema (docs/records.md), versioned in a schema_version table and upgraded by
 * the same migrations when an older store is opened:
 *   trainees     name, created
 *   sessions     a UUID (so a station's outbox can send a session twice without a duplicate),
 *                trainee, scenario name, its content hash and file, device, start and end,
 *                finished, score total, pass, critical failed, number of injections and
 *                (once ended) of actions, of intradermal injections, and whether it was blind
 *   reports      the whole report JSON of each ended session, as text
 *   actions      the session's action log, one canonical line per action, numbered
 *   injections   every scored figure of each injection (verdict, depth, margin, slice, ...)
 *   feedback     the report's feedback lines
 * Writes are idempotent (INSERT ... ON CONFLICT DO NOTHING): replaying a write is harmless.
 *
 * A records value is used by one thread at a time. Strings and arrays it returns are malloc'ed
 * and the caller frees them (free, records_sessions_free). Every function that can fail
 * returns false (or NULL) with a plain message in err. */
#ifndef MESOSIM_RECORDS_H
#define MESOSIM_RECORDS_H

#include <stdbool.h>
#include <stddef.h>

#include "actions.h"

#define RECORDS_SCHEMA_VERSION 4
#define RECORDS_ID_LEN 37          /* a UUID and its NUL */
#define RECORDS_NAME_MAX 128
#define RECORDS_PATH_MAX 1024      /* a longer scenario path is not kept (replay needs --scenario) */

typedef struct records records;

/* A path (SQLite, created with its folder when missing) or a postgresql:// or postgres://
 * URL. The store is upgraded to RECORDS_SCHEMA_VERSION; one newer than this program is
 * refused. */
records *records_open(const char *path_or_url, char *err, size_t err_len);
void records_close(records *r);
/* "sqlite" or "postgresql". */
const char *records_engine(const records *r);
int records_schema_version(records *r, char *err, size_t err_len);
/* SQLite: PRAGMA integrity_check says "ok"; PostgreSQL: the server answers. */
bool records_check(records *r, char *err, size_t err_len);

/* The default SQLite path: $XDG_DATA_HOME/mesosim/records.db, else ~/.local/share/... */
bool records_default_path(char *out, size_t cap);
/* Copies text with the password of a URL replaced by "***" (out always NUL-terminated). */
void records_redact(const char *path_or_url, char *out, size_t cap);
/* A fresh random UUID (version 4) in out[RECORDS_ID_LEN]. */
bool records_new_id(char out[RECORDS_ID_LEN], char *err, size_t err_len);

/* ---- trainees ------------------------------------------------------------------------------ */

/* Creates the trainee when new (a name of 1..127 printable characters); an existing one is fine. */
bool records_trainee_create(records *r, const char *name, char *err, size_t err_len);

typedef struct records_trainee {
    char name[RECORDS_NAME_MAX];
    int sessions, passed;
    double best_score, last_score;  /* -1: no scored session */
} records_trainee;

/* Every trainee, by name, with their progress. */
bool records_list_trainees(records *r, records_trainee **out, int *count, char *err, size_t err_len);

/* ---- sessions ------------------------------------------------------------------------------ */

typedef struct records_session_def {
    const char *id;                 /* records_new_id */
    const char *trainee;            /* created when new */
    const action_log_header *header;
    const char *scenario_path;      /* the file it was played on, for replay; may be NULL */
    const char *device;             /* "keyboard", "script", "igtl", ...; may be NULL */
    double started_unix_s;
} records_session_def;

bool records_session_begin(records *r, const records_session_def *def, char *err, size_t err_len);
/* One action: seq counts from 1, line is action_format's canonical line. */
bool records_session_action(records *r, const char *id, int seq, const char *line, char *err,
                            size_t err_len);
/* Stores the report (every injection, the score and the feedback taken from it). */
bool records_session_end(records *r, const char *id, const char *report_json, bool finished,
                         double ended_unix_s, char *err, size_t err_len);

typedef struct records_session {
    char id[RECORDS_ID_LEN];
    char trainee[RECORDS_NAME_MAX];
    char scenario[128];
    char scenario_hash[17];
    char scenario_path[RECORDS_PATH_MAX];
    char device[32];
    double started_unix_s, ended_unix_s;  /* ended: 0 while not ended */
    bool ended;                           /* a report was stored */
    bool finished;                        /* the session ran to its end */
    double score;                         /* -1 when not ended */
    bool pass;
    int injections, actions;
    int intradermal;                      /* injections judged intradermal */
    bool blind;                           /* the report says "blind": true (false until ended) */
} records_session;

/* One session by its id or a unique prefix of it (at least 4 characters). */
bool records_get_session(records *r, const char *id_or_prefix, records_session *out, char *err,
                         size_t err_len);
/* Sessions of one trainee (or everyone's: NULL), oldest first. */
bool records_list_sessions(records *r, const char *trainee, records_session **out, int *count,
                           char *err, size_t err_len);
void records_sessions_free(records_session *s);
/* The same sessions one at a time, without a list: s is valid during the call only; fn
 * returns false to stop early (that is no failure). For a long history streamed out. */
typedef bool (*records_session_fn)(void *ctx, const records_session *s);
bool records_each_session(records *r, const char *trainee, records_session_fn fn, void *ctx, char *err,
                          size_t err_len);
/* The stored report (NULL with a message when the session has none: it was cut short). */
char *records_session_report_json(records *r, const char *id, char *err, size_t err_len);
/* The action log as JSON Lines: the version-2 header line, then every stored action in order. */
char *records_session_log(records *r, const char *id, char *err, size_t err_len);
/* Removes a session and all it holds (an outbox's, once the server has it). */
bool records_session_delete(records *r, const char *id, char *err, size_t err_len);

/* ---- blind versus guided ------------------------------------------------------------------ */

/* Issue 13: the case report's claim that guidance makes placement precise, measured per
 * trainee. An arm counts ended sessions, their injections and those judged intradermal. */
typedef struct records_arm {
    int sessions, injections, intradermal;
} records_arm;

/* intradermal / injections, or -1 when the arm has no injection. */
double records_arm_rate(const records_arm *a);

/* One case (a scenario, by name: a blind twin of a guided case is the same file with
 * guidance.ultrasound false) the trainee has done both ways. */
typedef struct records_bvg_case {
    char scenario[128];
    records_arm blind, guided;
} records_bvg_case;

typedef struct records_bvg {
    records_arm blind, guided;               /* every ended session */
    records_arm same_blind, same_guided;     /* only the cases in cases[]: the fair comparison */
    records_bvg_case *cases;                 /* done both ways, by name */
    int n_cases;
} records_bvg;

/* One trainee's (or, trainee NULL, the whole programme's) comparison. Sessions not yet ended
 * count in neither arm. out is zeroed first; free it with records_bvg_free. */
bool records_blind_vs_guided(records *r, const char *trainee, records_bvg *out, char *err, size_t err_len);
void records_bvg_free(records_bvg *b);

/* ---- a station's outbox -------------------------------------------------------------------- */

/* The default outbox: records_default_path's folder, outbox.db. */
bool records_default_outbox_path(char *out, size_t cap);
/* Sends one session of from to to: the session row, the actions after the first *sent_actions
 * (-1: ask to), the report when from has it. Idempotent. Updates *sent_actions. */
bool records_sync_session(records *from, records *to, const char *id, int *sent_actions, char *err,
                          size_t err_len);
/* Sends every session from holds to to and removes those that ended from from. Returns how
 * many were sent, -1 on failure (what was sent before stays sent). */
int records_flush_outbox(records *from, records *to, char *err, size_t err_len);

#endif
