/* replay_session: see replay_session.h. */
#include "replay_session.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool tape_begin(void *user, const action_log_header *h, char *err, size_t n)
{
    (void)h, (void)err, (void)n;
    replay_tape *t = user;
    t->count = 0;
    t->oom = false;
    return true;
}

static bool tape_action(void *user, const action *a, char *err, size_t n)
{
    replay_tape *t = user;
    if (t->oom)
        return true;
    if (t->count == t->cap) {
        int cap = t->cap ? 2 * t->cap : 256;
        action *p = realloc(t->items, (size_t)cap * sizeof *p);
        if (!p) {
            t->oom = true;
            snprintf(err, n, "out of memory keeping the replay (it stops at %.1f s)", a->t_s);
            return false;
        }
        t->items = p;
        t->cap = cap;
    }
    t->items[t->count++] = *a;
    return true;
}

recorder replay_tape_recorder(replay_tape *tape)
{
    return (recorder){.user = tape, .begin = tape_begin, .action = tape_action};
}

void replay_tape_free(replay_tape *tape)
{
    free(tape->items);
    memset(tape, 0, sizeof *tape);
}

double replay_tape_end_s(const replay_tape *tape)
{
    return tape->count ? tape->items[tape->count - 1].t_s : 0.0;
}

struct replay {
    scenario sc;
    const replay_tape *tape;
    driver *d;
    const driver_snapshot *snap;
    int next;            /* first action not yet applied */
    double t_s;
    double seek_ms;
    bool rewound;
    int rewinds;
};

static bool restart(replay *r, char *err, size_t n)
{
    if (r->snap)
        driver_release(r->d, r->snap);
    r->snap = NULL;
    driver_destroy(r->d);
    driver_def dd = driver_default_def();
    dd.sc = &r->sc;
    dd.simulator_version = MESOSIM_VERSION;
    r->d = driver_create(&dd, err, n);
    r->next = 0;
    r->t_s = 0.0;
    return r->d != NULL;
}

replay *replay_create(const scenario *sc, const replay_tape *tape, char *err, size_t err_len)
{
    replay *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    r->sc = *sc;
    r->tape = tape;
    if (!restart(r, err, err_len)) {
        free(r);
        return NULL;
    }
    r->snap = driver_acquire(r->d);
    return r;
}

void replay_destroy(replay *r)
{
    if (!r)
        return;
    if (r->snap)
        driver_release(r->d, r->snap);
    driver_destroy(r->d);
    free(r);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return 1e3 * (double)ts.tv_sec + 1e-6 * (double)ts.tv_nsec;
}

const driver_snapshot *replay_seek(replay *r, double t_s)
{
    if (!r->d)
        return NULL;
    double t0 = now_ms();
    t_s = fmin(fmax(t_s, 0.0), replay_tape_end_s(r->tape));
    r->rewound = false;
    if (t_s < r->t_s) {
        char err[256];
        r->rewound = true;
        r->rewinds++;
        if (!restart(r, err, sizeof err))
            return NULL; /* the scenario made a session once: only memory can fail here */
    }
    if (r->snap)
        driver_release(r->d, r->snap);
    r->snap = NULL;
    /* Each action at its own time, as the window applied it and mesosim run replays it. */
    while (r->next < r->tape->count && r->tape->items[r->next].t_s <= t_s && !driver_finished(r->d)) {
        const action *a = &r->tape->items[r->next++];
        if (a->verb == ACT_END) {
            driver_finish(r->d, a->t_s, true);
        } else {
            driver_push(r->d, a);
            driver_step(r->d, a->t_s);
        }
    }
    if (!driver_finished(r->d))
        driver_step(r->d, t_s);
    r->t_s = t_s;
    r->snap = driver_acquire(r->d);
    r->seek_ms = now_ms() - t0;
    return r->snap;
}

double replay_seek_ms(const replay *r, bool *rewound)
{
    if (rewound)
        *rewound = r->rewound;
    return r->seek_ms;
}

int replay_rewinds(const replay *r) { return r->rewinds; }
