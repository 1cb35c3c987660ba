/* records_internal: what an engine of the records store (records.h) provides. The schema,
 * the migrations and every query live once in records.c, written in the SQL both engines
 * speak ($1.. parameters, ON CONFLICT DO NOTHING, TEXT / INTEGER / DOUBLE PRECISION columns);
 * an engine only runs a statement with text parameters and hands back rows of text. */
#ifndef MESOSIM_RECORDS_INTERNAL_H
#define MESOSIM_RECORDS_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>

/* One row: ncol values, NULL for SQL NULL. Return false to stop early. */
typedef bool (*records_row_fn)(void *ctx, int ncol, const char *const *vals);

typedef struct records_engine_ops {
    const char *name;
    /* params: np text values (NULL: SQL NULL) for $1..$np; fn may be NULL. */
    bool (*exec)(void *db, const char *sql, int np, const char *const *params, records_row_fn fn, void *ctx,
                 char *err, size_t err_len);
    bool (*check)(void *db, char *err, size_t err_len);
    void (*close)(void *db);
} records_engine_ops;

/* Opens the engine's connection into *db, or false with a message (the URL already redacted). */
bool records_sqlite_open(const char *path, const records_engine_ops **eng, void **db, char *err, size_t err_len);
bool records_pg_open(const char *url, const records_engine_ops **eng, void **db, char *err, size_t err_len);

#endif
