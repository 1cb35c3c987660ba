/* records_sqlite: the embedded engine of the records store (records_internal.h), libsqlite3.
 *
 * WAL mode with synchronous=NORMAL: each committed write survives the program being killed
 * (the WAL is on disk before the commit returns; only a power cut may lose the last ones) and
 * a reader (mesosim history) never waits for the writer. busy_timeout lets two processes on
 * one file take turns instead of failing. */
#include <errno.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "records_internal.h"

static bool sq_exec(void *db, const char *sql, int np, const char *const *params, records_row_fn fn, void *ctx,
                    char *err, size_t n)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
        snprintf(err, n, "records database: %s", sqlite3_errmsg(db));
        return false;
    }
    for (int i = 0; i < np; i++) {
        char name[16];
        snprintf(name, sizeof name, "$%d", i + 1);
        int k = sqlite3_bind_parameter_index(st, name);
        if (k > 0 && params[i])
            sqlite3_bind_text(st, k, params[i], -1, SQLITE_STATIC);
    }
    const char *vals[32];
    int rc;
    bool go = true;
    while (go && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        int nc = sqlite3_column_count(st);
        if (nc > 32)
            nc = 32;
        for (int c = 0; c < nc; c++)
            vals[c] = (const char *)sqlite3_column_text(st, c);
        if (fn)
            go = fn(ctx, nc, vals);
    }
    if (go && rc != SQLITE_DONE) {
        snprintf(err, n, "records database: %s", sqlite3_errmsg(db));
        sqlite3_finalize(st);
        return false;
    }
    sqlite3_finalize(st);
    return true;
}

static bool integrity_row(void *ctx, int ncol, const char *const *vals)
{
    char *msg = ctx;
    if (ncol > 0 && vals[0] && strcmp(vals[0], "ok") && !msg[0])
        snprintf(msg, 200, "%s", vals[0]);
    return true;
}

static bool sq_check(void *db, char *err, size_t n)
{
    char msg[200] = "";
    if (!sq_exec(db, "PRAGMA integrity_check", 0, NULL, integrity_row, msg, err, n))
        return false;
    if (msg[0]) {
        snprintf(err, n, "records database is damaged: %s", msg);
        return false;
    }
    return true;
}

static void sq_close(void *db)
{
    sqlite3_close(db);
}

static const records_engine_ops k_sqlite = {.name = "sqlite", .exec = sq_exec, .check = sq_check, .close = sq_close};

/* Creates the folders above path (0700: the records are personal data). */
static bool make_parents(const char *path, char *err, size_t n)
{
    char dir[4096];
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        snprintf(err, n, "records database path too long");
        return false;
    }
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
            snprintf(err, n, "cannot create the folder %s for the records: %s", dir, strerror(errno));
            return false;
        }
        *p = '/';
    }
    return true;
}

bool records_sqlite_open(const char *path, const records_engine_ops **eng, void **out, char *err, size_t n)
{
    if (!make_parents(path, err, n))
        return false;
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, n, "cannot open the records database %s: %s", path, db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return false;
    }
    sqlite3_busy_timeout(db, 5000);
    char e[300];
    /* journal_mode reads the header: a file that is no database fails here, in plain words. */
    if (!sq_exec(db, "PRAGMA journal_mode=WAL", 0, NULL, NULL, NULL, e, sizeof e) ||
        !sq_exec(db, "PRAGMA synchronous=NORMAL", 0, NULL, NULL, NULL, e, sizeof e) ||
        !sq_exec(db, "PRAGMA foreign_keys=ON", 0, NULL, NULL, NULL, e, sizeof e)) {
        snprintf(err, n, "%s is not a usable records database (%s)", path, e);
        sqlite3_close(db);
        return false;
    }
    *eng = &k_sqlite;
    *out = db;
    return true;
}
