/* records_pg: the skills-lab engine of the records store (records_internal.h), libpq.
 *
 * The password never travels on the command line, where the process list shows it: a URL
 * that holds one is refused, and libpq takes it from PGPASSWORD or the PGPASSFILE (~/.pgpass,
 * which libpq ignores unless it is 0600). Messages name the server by its redacted URL. */
#include <libpq-fe.h>
#include <stdio.h>
#include <string.h>

#include "records.h"
#include "records_internal.h"

static void pg_error(PGconn *c, const char *what, char *err, size_t n)
{
    char msg[300];
    snprintf(msg, sizeof msg, "%s", PQerrorMessage(c));
    size_t len = strlen(msg);
    while (len > 0 && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
        msg[--len] = '\0';
    snprintf(err, n, "records server: %s: %s", what, msg[0] ? msg : "no answer");
}

static bool pg_exec(void *db, const char *sql, int np, const char *const *params, records_row_fn fn, void *ctx,
                    char *err, size_t n)
{
    PGconn *c = db;
    PGresult *res = PQexecParams(c, sql, np, NULL, params, NULL, NULL, 0);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        if (res && PQresultErrorMessage(res)[0]) {
            char msg[300];
            snprintf(msg, sizeof msg, "%s", PQresultErrorMessage(res));
            size_t len = strlen(msg);
            while (len > 0 && msg[len - 1] == '\n')
                msg[--len] = '\0';
            snprintf(err, n, "records server: %s", msg);
        } else {
            pg_error(c, "the query failed", err, n);
        }
        PQclear(res);
        return false;
    }
    int rows = PQntuples(res), cols = PQnfields(res);
    if (cols > 32)
        cols = 32;
    const char *vals[32];
    for (int i = 0; fn && i < rows; i++) {
        for (int k = 0; k < cols; k++)
            vals[k] = PQgetisnull(res, i, k) ? NULL : PQgetvalue(res, i, k);
        if (!fn(ctx, cols, vals))
            break;
    }
    PQclear(res);
    return true;
}

static bool pg_check(void *db, char *err, size_t n)
{
    return pg_exec(db, "SELECT 1", 0, NULL, NULL, NULL, err, n);
}

static void pg_close(void *db)
{
    PQfinish(db);
}

static const records_engine_ops k_pg = {.name = "postgresql", .exec = pg_exec, .check = pg_check, .close = pg_close};

static void quiet_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* "relation already exists, skipping" and the like: not the trainee's business */
}

bool records_pg_open(const char *url, const records_engine_ops **eng, void **out, char *err, size_t n)
{
    char shown[512];
    records_redact(url, shown, sizeof shown);
    if (strcmp(shown, url) != 0) {
        snprintf(err, n, "%s: a password in the URL would show in the process list; put it in PGPASSFILE "
                         "(~/.pgpass, mode 0600) or PGPASSWORD instead", shown);
        return false;
    }
    const char *keys[] = {"dbname", "connect_timeout", "application_name", NULL};
    const char *vals[] = {url, "5", "mesosim", NULL};
    PGconn *c = PQconnectdbParams(keys, vals, 1);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char what[600];
        snprintf(what, sizeof what, "cannot connect to %s", shown);
        if (c)
            pg_error(c, what, err, n);
        else
            snprintf(err, n, "records server: %s: out of memory", what);
        PQfinish(c);
        return false;
    }
    PQsetNoticeProcessor(c, quiet_notice, NULL);
    *eng = &k_pg;
    *out = c;
    return true;
}
