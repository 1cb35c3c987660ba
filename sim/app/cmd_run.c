/* mesosim run: a scripted session, headless. Reads a scenario and a JSON Lines action log
 * (docs/actions.md), plays it through the session, writes the report (docs/scoring.md)
 * atomically and, with --frames, the B-mode image when each injection starts and ends. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "actions.h"
#include "atomic_file.h"
#include "bmode.h"
#include "cli_util.h"
#include "commands.h"
#include "image_io.h"
#include "scenario.h"
#include "session.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mesosim run --scenario FILE --actions FILE.jsonl --report FILE.json\n"
            "                   [--frames DIR] [--threads N]\n"
            "Plays a recorded or scripted session (JSON Lines, one timed action per line, see\n"
            "docs/actions.md) on a scenario and writes the report: a verdict per injection and\n"
            "the session score (docs/scoring.md). --frames DIR writes the B-mode image when each\n"
            "injection starts and ends (injection_NN_start.png, injection_NN_end.png).\n"
            "Exit status: 0 done (pass or fail is in the report), 1 a bad scenario, action\n"
            "file or action, 2 bad usage.\n");
}

/* The report and a final newline, written atomically (atomic_file.h). */
static int write_report(const char *path, const char *text, char *err, size_t n)
{
    size_t len = strlen(text);
    char *buf = malloc(len + 1);
    if (!buf) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    memcpy(buf, text, len);
    buf[len] = '\n';
    int rc = atomic_file_write(path, buf, len + 1, err, n);
    free(buf);
    return rc;
}

static int write_frame(session *s, bmode *bm, const char *dir, int inj, const char *when)
{
    phantom_inclusion dyn[PHANTOM_MAX_INCLUSIONS];
    bmode_scene scene;
    session_scene(s, &scene, dyn);
    bmode_image img;
    char err[256], path[4096];
    if (bmode_render(bm, &scene, &img, err, sizeof err) != 0) {
        fprintf(stderr, "mesosim run: render: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/injection_%02d_%s.png", dir, inj, when);
    if (image_write_png_gray(path, img.pixels, img.cols, img.rows, err, sizeof err) != 0) {
        fprintf(stderr, "mesosim run: %s\n", err);
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    const char *scen_path = NULL, *act_path = NULL, *report = NULL, *frames = NULL;
    long threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            fprintf(stderr, "mesosim run: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        i++;
        if (!strcmp(a, "--scenario"))
            scen_path = v;
        else if (!strcmp(a, "--actions"))
            act_path = v;
        else if (!strcmp(a, "--report"))
            report = v;
        else if (!strcmp(a, "--frames"))
            frames = v;
        else if (!strcmp(a, "--threads")) {
            if (!cli_parse_int(v, 1, 8, &threads)) {
                fprintf(stderr, "mesosim run: --threads: 1..8\n");
                return 2;
            }
        } else {
            fprintf(stderr, "mesosim run: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!scen_path || !act_path || !report) {
        fprintf(stderr, "mesosim run: --scenario, --actions and --report are required\n");
        usage(stderr);
        return 2;
    }
    if (frames) {
        struct stat st;
        if (stat(frames, &st) != 0 && mkdir(frames, 0777) != 0) {
            fprintf(stderr, "mesosim run: --frames %s: %s\n", frames, strerror(errno));
            return 1;
        }
    }
    scenario sc;
    if (!cli_load_scenario(scen_path, &sc))
        return 1;
    action_list al;
    if (!actions_load_file(act_path, &al)) {
        for (int i = 0; i < al.n_errors; i++)
            fprintf(stderr, "%s:%d: %s\n", act_path, al.errors[i].line, al.errors[i].message);
        if (al.total_errors > al.n_errors)
            fprintf(stderr, "%s: %d more problems not listed\n", act_path,
                    al.total_errors - al.n_errors);
        actions_free(&al);
        return 1;
    }
    char err[256];
    session *s = session_create(&sc, err, sizeof err);
    if (!s) {
        fprintf(stderr, "mesosim run: %s: %s\n", scen_path, err);
        actions_free(&al);
        return 1;
    }
    bmode *bm = NULL;
    if (frames) {
        bmode_def def = bmode_default_def();
        def.n_threads = (int)threads;
        bm = bmode_create(&def);
        if (!bm) {
            fprintf(stderr, "mesosim run: out of memory\n");
            session_destroy(s);
            actions_free(&al);
            return 1;
        }
    }
    int status = 0, injections = 0;
    for (int i = 0; i < al.count && status == 0; i++) {
        const action *a = &al.items[i];
        double end;
        /* An injection that finishes before this action: show its end. */
        if (bm && session_injecting(s, &end) && end <= a->t_s) {
            session_advance_to(s, end);
            if (write_frame(s, bm, frames, injections, "end") != 0)
                status = 1;
        }
        if (status == 0 && !session_apply(s, a, err, sizeof err)) {
            fprintf(stderr, "%s:%d: %s\n", act_path, a->line, err);
            status = 1;
        }
        if (status == 0 && a->verb == ACT_INJECT) {
            injections++;
            if (bm && write_frame(s, bm, frames, injections, "start") != 0)
                status = 1;
        }
    }
    if (status == 0) {
        double end;
        bool was = session_injecting(s, &end);
        session_finish(s);
        if (bm && was && write_frame(s, bm, frames, injections, "end") != 0)
            status = 1;
    }
    if (status == 0) {
        char *text = session_report_json(s);
        if (!text || write_report(report, text, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim run: %s\n", text ? err : "out of memory");
            status = 1;
        } else {
            score_result r = session_score(s);
            printf("{\"report\":");
            cli_print_json_string(stdout, report);
            printf(",\"injections\":%d,\"total\":%.2f,\"pass\":%s}\n",
                   session_metrics(s)->n_inj, r.total, r.pass ? "true" : "false");
        }
        free(text);
    }
    bmode_destroy(bm);
    session_destroy(s);
    actions_free(&al);
    return status;
}
