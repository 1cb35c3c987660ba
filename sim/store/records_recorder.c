/* records_recorder: a queue and a writer thread in front of the records store. */
#define _GNU_SOURCE /* SCHED_BATCH */
#include "records_recorder.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "writer_wait.h"

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
    records *store;             /* the database, or with a server the outbox */
    char *url;                  /* the server (NULL: none) */
    records *remote;            /* NULL while the server does not answer */
    int remote_sent;            /* actions the server holds; -1: to ask */
    double retry_at_s;          /* monotonic: the next try to reach the server */
    bool told_down;
    char last_error[400];       /* why the server was last not reached */
    char id[RECORDS_ID_LEN];
    char *trainee, *device, *scenario_path;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    item *head, *tail;
    bool stop;
    bool drained;               /* the queue is written: close() may return */
    bool lingering;             /* the server is down at the end: the thread goes on alone */
    bool released;              /* close() has returned: a lingering thread owns everything */
    int seq;
    long long failures;
} rrec;

static double unix_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static double mono_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

static void free_rrec(rrec *w)
{
    pthread_mutex_destroy(&w->lock);
    pthread_cond_destroy(&w->wake);
    records_close(w->remote);
    records_close(w->store);
    free(w->url);
    free(w->trainee);
    free(w->device);
    free(w->scenario_path);
    free(w);
}

static void server_lost(rrec *w, const char *why)
{
    snprintf(w->last_error, sizeof w->last_error, "%s", why);
    records_close(w->remote);
    w->remote = NULL;
    w->retry_at_s = mono_now() + 1.0;
    if (!w->told_down) {
        char shown[512];
        records_redact(w->url, shown, sizeof shown);
        fprintf(stderr, "mesosim: the records server %s is not answering (%s): recording goes on in the station's "
                        "outbox and is sent when the server is back\n", shown, why);
        w->told_down = true;
    }
}

/* Reaches the server when due and sends what the outbox holds (this session too). */
static void reach_server(rrec *w)
{
    if (w->remote || mono_now() < w->retry_at_s)
        return;
    char err[400];
    w->remote = records_open(w->url, err, sizeof err);
    if (!w->remote) {
        server_lost(w, err);
        return;
    }
    int sent = records_flush_outbox(w->store, w->remote, err, sizeof err);
    if (sent < 0) {
        server_lost(w, err);
        return;
    }
    w->remote_sent = -1;
    if (w->told_down)
        fprintf(stderr, "mesosim: the records server is back: %d session%s sent from the outbox\n", sent,
                sent == 1 ? "" : "s");
    w->told_down = false;
}

/* The item, already in the outbox, to the server. */
static void send_item(rrec *w, const item *it)
{
    reach_server(w);
    if (!w->remote)
        return;
    char err[400];
    bool ok;
    if (it->kind == ITEM_ACTION && w->remote_sent == it->seq - 1) {
        ok = records_session_action(w->remote, w->id, it->seq, it->text, err, sizeof err);
        if (ok)
            w->remote_sent = it->seq;
    } else {
        ok = records_sync_session(w->store, w->remote, w->id, &w->remote_sent, err, sizeof err);
    }
    /* The server has the whole session: it leaves the outbox. */
    if (ok && it->kind == ITEM_END)
        ok = records_session_delete(w->store, w->id, err, sizeof err);
    if (!ok)
        server_lost(w, err);
}

static void write_item(rrec *w, const item *it)
{
    char err[400];
    bool ok;
    switch (it->kind) {
    case ITEM_BEGIN:
        ok = true; /* written by rr_begin on the owner thread; here only to send on */
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
    if (ok && w->url)
        send_item(w, it);
}

/* How often the writer looks for queued actions: a SIGKILL loses at most this much of the
 * session beyond what the database has (the injection in progress is longer). */
#define RECORDS_POLL_MS 20

static void *writer(void *arg)
{
    rrec *w = arg;
#ifdef SCHED_BATCH
    /* The frame thread must not lose its core to this one: a batch thread is not favoured
     * when it wakes; it still runs as soon as a core is free. */
    const struct sched_param batch = {.sched_priority = 0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch);
#endif
    pthread_mutex_lock(&w->lock);
    for (;;) {
        while (!w->head && !w->stop)
            writer_wait(&w->wake, &w->lock, RECORDS_POLL_MS);
        item *it = w->head;
        if (!it)
            break; /* stopped and drained (the lock is held) */
        w->head = it->next;
        if (!w->head)
            w->tail = NULL;
        pthread_mutex_unlock(&w->lock);
        write_item(w, it);
        free(it);
        pthread_mutex_lock(&w->lock);
    }
    /* A last try, whatever the back-off says: the server may be back for the end. */
    if (w->url && !w->remote) {
        w->retry_at_s = 0.0;
        reach_server(w);
    }
    w->lingering = w->url && !w->remote;
    if (w->lingering)
        fprintf(stderr, "mesosim: session %s is kept in the station's outbox (%s); it is sent when the server is "
                        "back, while mesosim runs or with the next session recorded\n", w->id, w->last_error);
    w->drained = true;
    pthread_cond_broadcast(&w->wake);
    if (!w->lingering) {
        pthread_mutex_unlock(&w->lock);
        return NULL;
    }
    /* Everything is in the outbox and close() returns; this thread, detached, owns the
     * recorder now and tries the server once a second for as long as the program runs, so a
     * session that ended while the server was down reaches it as soon as it is back, not only
     * with the next session. Killed with the program, it loses nothing: the outbox has it. */
    while (!w->released)
        pthread_cond_wait(&w->wake, &w->lock);
    pthread_mutex_unlock(&w->lock);
    const struct timespec second = {.tv_sec = 1};
    while (!w->remote) {
        nanosleep(&second, NULL);
        reach_server(w);
    }
    free_rrec(w);
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
    /* An action is not worth a system call on the frame thread (waking the writer cost the
     * frame up to 13 ms at p99 on a loaded machine, measured with driver_stats.record_ms_*):
     * the writer looks every RECORDS_POLL_MS; the session's start and end wake it. */
    if (it->kind != ITEM_ACTION)
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

/* The session row is written here, before the session's first frame (the writer thread is
 * idle: nothing is queued yet), so a session that has begun is in the records, however soon
 * it is killed. With a server, the thread sends it on. */
static bool rr_begin(void *user, const action_log_header *h, char *err, size_t n)
{
    rrec *w = user;
    item *it = new_item(ITEM_BEGIN, NULL);
    if (!it) {
        snprintf(err, n, "out of memory");
        return false;
    }
    it->header = *h;
    it->unix_s = unix_now();
    records_session_def sd = {.id = w->id, .trainee = w->trainee, .header = h, .scenario_path = w->scenario_path,
                              .device = w->device, .started_unix_s = it->unix_s};
    if (!records_session_begin(w->store, &sd, err, n)) {
        free(it);
        return false;
    }
    return enqueue(w, it, err, n);
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
    pthread_cond_broadcast(&w->wake);
    while (!w->drained)
        pthread_cond_wait(&w->wake, &w->lock);
    bool lingering = w->lingering;
    pthread_t thread = w->thread;
    w->released = true;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->lock);
    if (lingering) {
        pthread_detach(thread); /* it frees w once the server has the outbox */
        return;
    }
    pthread_join(thread, NULL);
    free_rrec(w);
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
    if (!def->db || !def->db[0]) {
        snprintf(err, n, "no records database given");
        free(w);
        return false;
    }
    bool server = !strncmp(def->db, "postgresql://", 13) || !strncmp(def->db, "postgres://", 11);
    char outbox[4096];
    if (server) {
        char shown[512];
        records_redact(def->db, shown, sizeof shown);
        if (strcmp(shown, def->db) != 0) {
            snprintf(err, n, "%s: a password in the URL would show in the process list; put it in PGPASSFILE "
                             "(~/.pgpass, mode 0600) or PGPASSWORD instead", shown);
            free(w);
            return false;
        }
        if (def->outbox)
            snprintf(outbox, sizeof outbox, "%s", def->outbox);
        else if (!records_default_outbox_path(outbox, sizeof outbox)) {
            snprintf(err, n, "no folder for the station's outbox: set XDG_DATA_HOME or HOME");
            free(w);
            return false;
        }
        w->url = strdup(def->db);
        w->remote_sent = -1;
    }
    w->store = records_open(server ? outbox : def->db, err, n);
    if (!w->store || (server && !w->url)) {
        records_close(w->store);
        free(w->url);
        free(w);
        return false;
    }
    /* Refuse a bad name now, not on the writer thread after the session has begun. */
    if (!records_trainee_create(w->store, def->trainee, err, n)) {
        records_close(w->store);
        free(w->url);
        free(w);
        return false;
    }
    w->trainee = strdup(def->trainee);
    w->device = dup_or_null(def->device);
    w->scenario_path = dup_or_null(def->scenario_path);
    if (!w->trainee || (def->device && !w->device) || (def->scenario_path && !w->scenario_path) ||
        pthread_mutex_init(&w->lock, NULL) != 0) {
        records_close(w->store);
        free(w->url);
        free(w->trainee);
        free(w->device);
        free(w->scenario_path);
        free(w);
        snprintf(err, n, "out of memory");
        return false;
    }
    writer_wait_init(&w->wake);
    if (pthread_create(&w->thread, NULL, writer, w) != 0) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->wake);
        records_close(w->store);
        free(w->url);
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
