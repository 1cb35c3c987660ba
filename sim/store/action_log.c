/* action_log: the file sink of a session's actions and its report. */
#include "action_log.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"
#include "writer_wait.h"

/* A line waiting for the background writer. */
typedef struct pending {
    struct pending *next;
    char text[];
} pending;

typedef struct alog {
    char *log_path, *report_path, *comment;
    FILE *f;
    /* Background writing (alog_def.background): lines queue here and a thread writes them. */
    bool background, started, stop, failed;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake, written; /* written: the writer finished a batch */
    pending *head, *tail;
    unsigned long n_queued, n_written; /* lines, for alog_flush */
    char error[300]; /* the first write that failed, told at the next call */
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

/* How often the background writer looks for queued lines: a crash loses at most this much. */
#define ALOG_POLL_MS 20

/* The background writer: takes what is queued, writes and flushes it, so a write that waits
 * on the disk (the filesystem journal, while another program or the records database
 * syncs) waits here and never in a frame. */
static void *writer(void *arg)
{
    alog *l = arg;
    pthread_mutex_lock(&l->lock);
    for (;;) {
        while (!l->head && !l->stop)
            writer_wait(&l->wake, &l->lock, ALOG_POLL_MS);
        pending *batch = l->head;
        if (!batch)
            break;
        l->head = l->tail = NULL;
        pthread_mutex_unlock(&l->lock);
        char err[300] = "";
        bool ok = true;
        unsigned long lines = 0;
        while (batch) {
            pending *next = batch->next;
            lines++;
            if (ok && fputs(batch->text, l->f) == EOF) {
                snprintf(err, sizeof err, "%s: %s", l->log_path, strerror(errno));
                ok = false;
            }
            free(batch);
            batch = next;
        }
        if (ok && fflush(l->f) != 0)
            snprintf(err, sizeof err, "%s: %s", l->log_path, strerror(errno)), ok = false;
        pthread_mutex_lock(&l->lock);
        if (!ok && !l->failed) {
            l->failed = true;
            snprintf(l->error, sizeof l->error, "%s", err);
        }
        l->n_written += lines;
        pthread_cond_broadcast(&l->written);
    }
    pthread_mutex_unlock(&l->lock);
    return NULL;
}

/* Queues text (one or more whole lines) for the writer; false with the first failure seen. */
static bool queue_text(alog *l, const char *text, char *err, size_t n)
{
    size_t len = strlen(text);
    pending *p = malloc(sizeof *p + len + 1);
    pthread_mutex_lock(&l->lock);
    bool failed = l->failed;
    if (failed)
        snprintf(err, n, "%s", l->error);
    if (p && !failed) {
        memcpy(p->text, text, len + 1);
        p->next = NULL;
        /* No wake-up: a system call on the frame thread is what this sink exists to avoid;
         * the writer looks every ALOG_POLL_MS. */
        if (l->tail)
            l->tail->next = p;
        else
            l->head = p;
        l->tail = p;
        l->n_queued++;
        p = NULL;
    }
    pthread_mutex_unlock(&l->lock);
    if (p) {
        free(p);
        if (!failed)
            snprintf(err, n, "out of memory (an action was not logged)");
        return false;
    }
    return !failed;
}

/* The recorder's flush: everything queued so far is in the file when it returns. */
static bool alog_flush(void *user, char *err, size_t n)
{
    alog *l = user;
    if (!l->started)
        return true; /* written in place */
    pthread_mutex_lock(&l->lock);
    unsigned long want = l->n_queued;
    pthread_cond_signal(&l->wake);
    while (l->n_written < want)
        pthread_cond_wait(&l->written, &l->lock);
    bool ok = !l->failed;
    if (!ok)
        snprintf(err, n, "%s", l->error);
    pthread_mutex_unlock(&l->lock);
    return ok;
}

/* Waits until the writer has written everything queued, then stops it. */
static void stop_writer(alog *l)
{
    if (!l->started)
        return;
    pthread_mutex_lock(&l->lock);
    l->stop = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->lock);
    pthread_join(l->thread, NULL);
    l->started = false;
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
    /* The header is on disk before the first frame; actions from here on go through the
     * writer when asked. */
    if (l->background) {
        if (pthread_create(&l->thread, NULL, writer, l) != 0) {
            l->background = false; /* written in place, as without the option */
            return true;
        }
        l->started = true;
    }
    return true;
}

static bool alog_action(void *user, const action *a, char *err, size_t n)
{
    alog *l = user;
    char line[ACTIONS_MAX_LINE + 1];
    action_format(a, line, ACTIONS_MAX_LINE);
    if (!l->started)
        return put_line(l, line, err, n);
    size_t len = strlen(line);
    line[len] = '\n';
    line[len + 1] = '\0';
    return queue_text(l, line, err, n);
}

static bool alog_end(void *user, const char *report, bool finished, char *err, size_t n)
{
    (void)finished; /* the report itself says whether the session was finished */
    alog *l = user;
    stop_writer(l);
    if (l->f) {
        fclose(l->f);
        l->f = NULL;
    }
    /* A log that could not be written still gets its report: the report is what the
     * debrief and the records read. */
    if (l->failed)
        snprintf(err, n, "%s", l->error);
    if (!l->report_path)
        return !l->failed;
    size_t len = strlen(report);
    char *text = malloc(len + 2);
    if (!text) {
        snprintf(err, n, "out of memory");
        return false;
    }
    memcpy(text, report, len);
    text[len] = '\n';
    char werr[300];
    bool ok = atomic_file_write(l->report_path, text, len + 1, werr, sizeof werr) == 0;
    free(text);
    if (!ok && !l->failed)
        snprintf(err, n, "%s", werr);
    return ok && !l->failed;
}

static void alog_close(void *user)
{
    alog *l = user;
    stop_writer(l);
    pthread_mutex_destroy(&l->lock);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->written);
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
        l->background = def->background;
        pthread_mutex_init(&l->lock, NULL);
        writer_wait_init(&l->wake);
        pthread_cond_init(&l->written, NULL);
    }
    if (!l || !l->log_path || (def->report_path && !l->report_path) || (def->comment && !l->comment)) {
        if (l)
            alog_close(l);
        snprintf(err, n, "out of memory");
        return false;
    }
    *out = (recorder){.user = l, .begin = alog_begin, .action = alog_action, .end = alog_end,
                      .flush = alog_flush, .close = alog_close};
    return true;
}
