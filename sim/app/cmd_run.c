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
#include "driver.h"
#include "session.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mesosim run --scenario FILE --actions FILE.jsonl --report FILE.json\n"
            "                   [--frames DIR] [--threads N] [--force]\n"
            "Plays a recorded or scripted session (JSON Lines, one timed action per line, see\n"
            "docs/actions.md) on a scenario and writes the report: a verdict per injection and\n"
            "the session score (docs/scoring.md). --frames DIR writes the B-mode image when each\n"
            "injection starts and ends (injection_NN_start.png, injection_NN_end.png).\n"
            "A log that names the scenario it was recorded on (format 2, docs/actions.md) is\n"
            "refused when that scenario has changed since; --force replays it anyway.\n"
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

static int write_frame(const driver_snapshot *snap, bmode *bm, const char *dir, int inj, const char *when)
{
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    driver_snapshot_scene(snap, &scene, dyn);
    bmode_image img;
    char err[256], path[4096];
    if (bmode_render(bm, &scene, &img, err, sizeof err) != 0) {
        fprintf(stderr, "mesosim run: render: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/injection_%02d_%s.png", dir, inj, when);
    /* Square pixels and a scale bar: the frame is looked at, not measured by column. */
    image_gray sq;
    if (image_resample_square(img.pixels, img.rows, img.cols, img.dz_mm, img.dx_mm, &sq, err, sizeof err) != 0 ||
        image_write_png_gray(path, sq.pixels, sq.w, sq.h, err, sizeof err) != 0) {
        free(sq.pixels);
        fprintf(stderr, "mesosim run: %s\n", err);
        return -1;
    }
    free(sq.pixels);
    return 0;
}

/* Frames at the injections' start and end, from the snapshot after a step. */
static int frames_after_step(driver *d, bmode *bm, const char *dir, int *injections)
{
    int n;
    const session_event *ev = driver_events(d, &n);
    for (int i = 0; i < n; i++) {
        if (ev[i].kind != SEV_INJECTION_STARTED)
            continue;
        (*injections)++;
        const driver_snapshot *snap = driver_acquire(d);
        int rc = write_frame(snap, bm, dir, *injections, "start");
        driver_release(d, snap);
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* The first refused action of the last step, as FILE:LINE: reason. */
static bool refused(const driver *d, const char *act_path)
{
    int n;
    const session_event *ev = driver_events(d, &n);
    for (int i = 0; i < n; i++)
        if (ev[i].kind == SEV_ACTION_REFUSED) {
            fprintf(stderr, "%s:%d: %s\n", act_path, ev[i].line, ev[i].message);
            return true;
        }
    return false;
}

/* The log's header names the scenario it was recorded on by its content hash: a log played
 * on another case would score the wrong thing. */
static bool header_matches(const action_list *al, const scenario *sc, const char *act_path,
                           const char *scen_path, bool force)
{
    if (al->header.version < 2)
        return true;
    char now[17];
    snprintf(now, sizeof now, "%016llx", (unsigned long long)scenario_content_hash(sc));
    if (!strcmp(now, al->header.scenario_hash))
        return true;
    fprintf(stderr,
            "%s: this log was recorded on scenario \"%s\" with content hash %s, but %s now hashes to "
            "%s: the case has changed since, and replaying it would score a different case%s\n",
            act_path, al->header.scenario, al->header.scenario_hash, scen_path, now,
            force ? " (replaying anyway: --force)" : ". Pass --force to replay it anyway");
    return force;
}

int cmd_run(int argc, char **argv)
{
    const char *scen_path = NULL, *act_path = NULL, *report = NULL, *frames = NULL;
    long threads = 0;
    bool force = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--force")) {
            force = true;
            continue;
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
    if (!header_matches(&al, &sc, act_path, scen_path, force)) {
        actions_free(&al);
        return 1;
    }
    char err[256];
    driver_def dd = driver_default_def();
    dd.sc = &sc;
    dd.simulator_version = MESOSIM_VERSION;
    driver *d = driver_create(&dd, err, sizeof err);
    if (!d) {
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
            driver_destroy(d);
            actions_free(&al);
            return 1;
        }
    }
    int status = 0, injections = 0;
    for (int i = 0; i < al.count && status == 0; i++) {
        const action *a = &al.items[i];
        /* An injection that finishes before this action: show its end. */
        const driver_snapshot *snap = driver_acquire(d);
        bool ends = snap->injecting && snap->inject_end_s <= a->t_s;
        double end = snap->inject_end_s;
        driver_release(d, snap);
        if (bm && ends) {
            driver_step(d, end);
            snap = driver_acquire(d);
            if (write_frame(snap, bm, frames, injections, "end") != 0)
                status = 1;
            driver_release(d, snap);
        }
        if (status != 0)
            break;
        if (a->verb == ACT_END) {
            driver_finish(d, a->t_s, true);
        } else {
            driver_push(d, a);
            driver_step(d, a->t_s);
        }
        if (refused(d, act_path))
            status = 1;
        else if (bm && frames_after_step(d, bm, frames, &injections) != 0)
            status = 1;
    }
    if (status == 0 && !driver_finished(d)) {
        const driver_snapshot *snap = driver_acquire(d);
        bool was = snap->injecting;
        double t_end = snap->injecting ? snap->inject_end_s : snap->t_s;
        driver_release(d, snap);
        driver_finish(d, t_end, true);
        if (bm && was) {
            snap = driver_acquire(d);
            if (write_frame(snap, bm, frames, injections, "end") != 0)
                status = 1;
            driver_release(d, snap);
        }
    }
    if (status == 0) {
        char *text = driver_report_json(d);
        if (!text || write_report(report, text, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim run: %s\n", text ? err : "out of memory");
            status = 1;
        } else {
            const driver_snapshot *snap = driver_acquire(d);
            printf("{\"report\":");
            cli_print_json_string(stdout, report);
            printf(",\"injections\":%d,\"total\":%.2f,\"pass\":%s}\n", snap->metrics.n_inj,
                   snap->score.total, snap->score.pass ? "true" : "false");
            driver_release(d, snap);
        }
        free(text);
    }
    bmode_destroy(bm);
    driver_destroy(d);
    actions_free(&al);
    return status;
}
