/* records_recorder: a queue and a writer thread in front of the records store. */
#include "records_recorder.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum item_kind { ITEM_BEGIN, ITEM_ACTION, ITEM_END } item_kind;

typedef struct item {
    struct item *next;
    item_kind kind;
    int seq;
    bool finished;
    double unix_s;
    action_log_header header;
    char text[]; /* the action line or the report */
} item;

typedef struct rrec {
    records *store;
    char id[RECORDS_ID_LEN];
    char *trainee, *device, *scenario_path;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    item *head, *tail;
    bool stop;
    int seq;
    long long failures;
} rrec;

static double unix_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void write_item(rrec *w, const item *it)
{
    char err[400];
    bool ok;
    switch (it->kind) {
    case ITEM_BEGIN:
        ok = records_session_begin(w->store,
                                   &(records_session_def){.id = w->id, .trainee = w->trainee, .header = &it->header,
                                                          .scenario_path = w->scenario_path, .device = w->device,
                                                          .started_unix_s = it->unix_s},
                                   err, sizeof err);
        break;
    case ITEM_ACTION:
        ok = records_session_action(w->store, w->id, it->seq, it->text, err, sizeof err);
        break;
    default:
        ok = records_session_end(w->store, w->id, it->text, it->finished, it->unix_s, err, sizeof err);
        break;
    }
    if (!ok && w->failures++ == 0)
        fprintf(stderr, "mesosim: recording session %s: %s (the session goes on; later failures are not told)\n",
                w->id, err);
}

static void *writer(void *arg)
{
    rrec *w = arg;
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            pthread_cond_wait(&w->wake, &w->lock);
        item *it = w->head;
        if (!it)
            break; /* stopped and drained */
        w->head = it->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        write_item(w, it);
        free(it);
        pthread_mutex_lock(&w->lock);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

static bool enqueue(rrec *w, item *it, char *err, size_t n)
{
    if (!it) {
        snprintf(err, n, "out of memory (an action was not recorded)");
        return false;
    }
    it->next = NULL;
    pthread_mutex_lock(&w->lock);
    if (w->tail)
        w->tail->next = it;
    else
        w->head = it;
    w->tail = it;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    return true;
}

static item *new_item(item_kind kind, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    item *it = calloc(1, sizeof *it + len + 1);
    if (it) {
        it->kind = kind;
        if (text)
            memcpy(it->text, text, len + 1);
    }
    return it;
}

static bool rr_begin(void *user, const action_log_header *h, char *err, size_t n)
{
    item *it = new_item(ITEM_BEGIN, NULL);
    if (it) {
        it->header = *h;
        it->unix_s = unix_now();
    }
    return enqueue(user, it, err, n);
}

static bool rr_action(void *user, const action *a, char *err, size_t n)
{
    rrec *w = user;
    char line[ACTIONS_MAX_LINE];
    action_format(a, line, sizeof line);
    item *it = new_item(ITEM_ACTION, line);
    if (it)
        it->seq = ++w->seq;
    return enqueue(w, it, err, n);
}

static bool rr_end(void *user, const char *report, bool finished, char *err, size_t n)
{
    item *it = new_item(ITEM_END, report);
    if (it) {
        it->finished = finished;
        it->unix_s = unix_now();
    }
    return enqueue(user, it, err, n);
}

static void rr_close(void *user)
{
    rrec *w = user;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    records_close(w->store);
    free(w->trainee);
    free(w->device);
    free(w->scenario_path);
    free(w);
}

records_recorder_def records_recorder_default_def(void)
{
    return (records_recorder_def){.device = "keyboard"};
}

bool records_recorder_create(const records_recorder_def *def, recorder *out, char *session_id, char *err, size_t n)
{
    if (!def->trainee || !def->trainee[0]) {
        snprintf(err, n, "recording needs a trainee's name (--trainee NAME)");
        return false;
    }
    rrec *w = calloc(1, sizeof *w);
    if (!w) {
        snprintf(err, n, "out of memory");
        return false;
    }
    if (!records_new_id(w->id, err, n)) {
        free(w);
        return false;
    }
    w->store = records_open(def->db, err, n);
    if (!w->store) {
        free(w);
        return false;
    }
    /* Refuse a bad name now, not on the writer thread after the session has begun. */
    if (!records_trainee_create(w->store, def->trainee, err, n)) {
        records_close(w->store);
        free(w);
        return false;
    }
    w->trainee = strdup(def->trainee);
    w->device = dup_or_null(def->device);
    w->scenario_path = dup_or_null(def->scenario_path);
    if (!w->trainee || (def->device && !w->device) || (def->scenario_path && !w->scenario_path) ||
        pthread_mutex_init(&w->lock, NULL) != 0) {
        records_close(w->store);
        free(w->trainee);
        free(w->device);
        free(w->scenario_path);
        free(w);
        snprintf(err, n, "out of memory");
        return false;
    }
    pthread_cond_init(&w->wake, NULL);
    if (pthread_create(&w->thread, NULL, writer, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        records_close(w->store);
        free(w->trainee);
        free(w->device);
        free(w->scenario_path);
        free(w);
        snprintf(err, n, "cannot start the records writer thread");
        return false;
    }
    memcpy(session_id, w->id, RECORDS_ID_LEN);
    *out = (recorder){.user = w, .begin = rr_begin, .action = rr_action, .end = rr_end, .close = rr_close};
    return true;
}
