/* action_log: the file sink of a session's actions and its report. */
#include "action_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"

typedef struct alog {
    char *log_path, *report_path, *comment;
    FILE *f;
} alog;

static char *dup_or_null(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static bool put_line(alog *l, const char *line, char *err, size_t n)
{
    if (!l->f) {
        snprintf(err, n, "%s: not open", l->log_path);
        return false;
    }
    /* One line at a time, flushed: a crash keeps every action up to the last. */
    if (fputs(line, l->f) == EOF || fputc('\n', l->f) == EOF || fflush(l->f) != 0) {
        snprintf(err, n, "%s: %s", l->log_path, strerror(errno));
        return false;
    }
    return true;
}

static bool alog_begin(void *user, const action_log_header *h, char *err, size_t n)
{
    alog *l = user;
    l->f = fopen(l->log_path, "w");
    if (!l->f) {
        snprintf(err, n, "cannot write the session log %s: %s", l->log_path, strerror(errno));
        return false;
    }
    char line[ACTIONS_MAX_LINE];
    action_format_header(h, line, sizeof line);
    if (!put_line(l, line, err, n))
        return false;
    if (l->comment && l->comment[0]) {
        size_t len = strlen(l->comment);
        bool nl = l->comment[len - 1] == '\n';
        if (fputs(l->comment, l->f) == EOF || (!nl && fputc('\n', l->f) == EOF) || fflush(l->f) != 0) {
            snprintf(err, n, "%s: %s", l->log_path, strerror(errno));
            return false;
        }
    }
    return true;
}

static bool alog_action(void *user, const action *a, char *err, size_t n)
{
    char line[ACTIONS_MAX_LINE];
    action_format(a, line, sizeof line);
    return put_line(user, line, err, n);
}

static bool alog_end(void *user, const char *report, bool finished, char *err, size_t n)
{
    (void)finished; /* the report itself says whether the session was finished */
    alog *l = user;
    if (l->f) {
        fclose(l->f);
        l->f = NULL;
    }
    if (!l->report_path)
        return true;
    size_t len = strlen(report);
    char *text = malloc(len + 2);
    if (!text) {
        snprintf(err, n, "out of memory");
        return false;
    }
    memcpy(text, report, len);
    text[len] = '\n';
    bool ok = atomic_file_write(l->report_path, text, len + 1, err, n) == 0;
    free(text);
    return ok;
}

static void alog_close(void *user)
{
    alog *l = user;
    if (l->f)
        fclose(l->f);
    free(l->log_path);
    free(l->report_path);
    free(l->comment);
    free(l);
}

bool alog_create(const alog_def *def, recorder *out, char *err, size_t n)
{
    alog *l = calloc(1, sizeof *l);
    if (l) {
        l->log_path = dup_or_null(def->log_path);
        l->report_path = dup_or_null(def->report_path);
        l->comment = dup_or_null(def->comment);
    }
    if (!l || !l->log_path || (def->report_path && !l->report_path) || (def->comment && !l->comment)) {
        if (l)
            alog_close(l);
        snprintf(err, n, "out of memory");
        return false;
    }
    *out = (recorder){.user = l, .begin = alog_begin, .action = alog_action, .end = alog_end,
                      .close = alog_close};
    return true;
}
