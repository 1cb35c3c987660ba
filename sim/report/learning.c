/* learning: learning curves from session reports (learning.h). */
#include "learning.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

bool learning_session_read(const json_t *report, const learning_meta *meta, learning_session *out,
                           char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    const json_t *score = json_object_get(report, "score");
    const json_t *inj = json_object_get(report, "injections");
    if (!json_is_object(report) || !json_is_object(score) || !json_is_array(inj)) {
        snprintf(err, err_len, "not a mesosim session report (it needs \"score\" and \"injections\")");
        return false;
    }
    copy_str(out->scenario, sizeof out->scenario, json_string_value(json_object_get(report, "scenario")));
    copy_str(out->scenario_hash, sizeof out->scenario_hash,
             json_string_value(json_object_get(report, "scenario_hash")));
    if (meta) {
        copy_str(out->id, sizeof out->id, meta->id);
        copy_str(out->trainee, sizeof out->trainee, meta->trainee);
        out->started_unix_s = meta->started_unix_s;
    }
    const json_t *fin = json_object_get(report, "finished");
    out->finished = fin ? json_is_true(fin) : true;
    out->duration_s = json_number_value(json_object_get(json_object_get(report, "session"), "time_s"));
    out->score = json_number_value(json_object_get(score, "total"));
    out->pass = json_is_true(json_object_get(score, "pass"));
    out->critical_failed = json_is_true(json_object_get(score, "critical_failed"));
    out->blind = json_is_true(json_object_get(report, "blind"));
    out->injections = (int)json_array_size(inj);
    for (size_t i = 0; i < json_array_size(inj); i++) {
        const char *v = json_string_value(json_object_get(json_array_get(inj, i), "verdict"));
        if (v && !strcmp(v, "intradermal"))
            out->intradermal++;
    }
    out->intradermal_rate = out->injections > 0 ? (double)out->intradermal / out->injections : 0.0;
    return true;
}

static bool skill_alloc(learning_skill *s, int n)
{
    s->signal = -1;
    s->count = 0;
    size_t k = n > 0 ? (size_t)n : 1;
    s->failed = calloc(k, sizeof *s->failed);
    s->cusum = calloc(k, sizeof *s->cusum);
    s->session_of = calloc(k, sizeof *s->session_of);
    return s->failed && s->cusum && s->session_of;
}

static void skill_free(learning_skill *s)
{
    free(s->failed);
    free(s->cusum);
    free(s->session_of);
    memset(s, 0, sizeof *s);
}

bool learning_curve_build(const cusum_def *def, json_t *const *reports, const learning_meta *meta,
                          int n, learning_curve *out, char *err, size_t err_len)
{
    memset(out, 0, sizeof *out);
    if (!cusum_def_check(def, err, err_len))
        return false;
    out->cusum = *def;
    int injections = 0;
    out->sessions = calloc(n > 0 ? (size_t)n : 1, sizeof *out->sessions);
    if (!out->sessions)
        goto oom;
    for (int i = 0; i < n; i++) {
        char why[160];
        if (!learning_session_read(reports[i], meta ? &meta[i] : NULL, &out->sessions[i], why,
                                   sizeof why)) {
            snprintf(err, err_len, "report %d of %d: %s", i + 1, n, why);
            learning_curve_free(out);
            return false;
        }
        injections += out->sessions[i].injections;
    }
    out->count = n;
    if (!skill_alloc(&out->placement, injections) || !skill_alloc(&out->session, n))
        goto oom;
    for (int i = 0; i < n; i++) {
        const json_t *inj = json_object_get(reports[i], "injections");
        for (size_t j = 0; j < json_array_size(inj); j++) {
            const char *v = json_string_value(json_object_get(json_array_get(inj, j), "verdict"));
            int k = out->placement.count++;
            out->placement.failed[k] = !(v && !strcmp(v, "intradermal"));
            out->placement.session_of[k] = i;
        }
        out->session.failed[i] = !out->sessions[i].pass;
        out->session.session_of[i] = i;
    }
    out->session.count = n;
    out->placement.signal = cusum_lc_run(def, out->placement.failed, out->placement.count,
                                         out->placement.cusum);
    out->session.signal = cusum_lc_run(def, out->session.failed, n, out->session.cusum);
    const learning_curve *self = out;
    if (!learning_bvg_build(&self, 1, &out->blind_vs_guided, err, err_len)) {
        learning_curve_free(out);
        return false;
    }
    return true;
oom:
    learning_curve_free(out);
    snprintf(err, err_len, "out of memory building the learning curve of %d sessions", n);
    return false;
}

void learning_curve_free(learning_curve *c)
{
    free(c->sessions);
    skill_free(&c->placement);
    skill_free(&c->session);
    learning_bvg_free(&c->blind_vs_guided);
    memset(c, 0, sizeof *c);
}

double learning_arm_rate(const learning_arm *a)
{
    return a->injections > 0 ? (double)a->intradermal / a->injections : -1.0;
}

static void arm_add(learning_arm *a, int sessions, int injections, int intradermal)
{
    a->sessions += sessions;
    a->injections += injections;
    a->intradermal += intradermal;
}

bool learning_bvg_build(const learning_curve *const *curves, int n, learning_bvg *out, char *err,
                        size_t err_len)
{
    memset(out, 0, sizeof *out);
    int cap = 0;
    for (int c = 0; c < n; c++)
        for (int i = 0; i < curves[c]->count; i++) {
            const learning_session *s = &curves[c]->sessions[i];
            arm_add(s->blind ? &out->blind : &out->guided, 1, s->injections, s->intradermal);
            int k = 0;
            while (k < out->n_cases && strcmp(out->cases[k].scenario, s->scenario))
                k++;
            if (k == out->n_cases) {
                if (k == cap) {
                    cap = cap ? 2 * cap : 8;
                    learning_case *g = realloc(out->cases, (size_t)cap * sizeof *g);
                    if (!g) {
                        learning_bvg_free(out);
                        snprintf(err, err_len, "out of memory comparing blind and guided sessions");
                        return false;
                    }
                    out->cases = g;
                }
                memset(&out->cases[k], 0, sizeof out->cases[k]);
                copy_str(out->cases[k].scenario, sizeof out->cases[k].scenario, s->scenario);
                out->n_cases++;
            }
            learning_case *lc = &out->cases[k];
            arm_add(s->blind ? &lc->blind : &lc->guided, 1, s->injections, s->intradermal);
        }
    /* Only a case done both ways compares anything. */
    int kept = 0;
    for (int k = 0; k < out->n_cases; k++) {
        const learning_case *lc = &out->cases[k];
        if (lc->blind.sessions == 0 || lc->guided.sessions == 0)
            continue;
        arm_add(&out->same_blind, lc->blind.sessions, lc->blind.injections, lc->blind.intradermal);
        arm_add(&out->same_guided, lc->guided.sessions, lc->guided.injections, lc->guided.intradermal);
        out->cases[kept++] = *lc;
    }
    out->n_cases = kept;
    return true;
}

void learning_bvg_free(learning_bvg *b)
{
    free(b->cases);
    memset(b, 0, sizeof *b);
}
