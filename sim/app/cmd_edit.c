/* mesosim edit [FILE]: the scenario editor in the trainer window (screen_editor.h), and its
 * latency benchmark (--bench N): how long a change takes from the key to the rebuilt preview
 * drawn. A build without the window (-DMESOSIM_GUI=OFF) says so. */
#include <stdio.h>

#include "commands.h"

#ifndef MESOSIM_GUI
int cmd_edit(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "mesosim edit: this build has no window (built with -DMESOSIM_GUI=OFF); "
                    "'mesosim new' and 'mesosim format' write cases without it\n");
    return 1;
}
#else
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <SDL.h>

#include "cli_util.h"
#include "screen_editor.h"
#include "trainer.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mesosim edit [FILE] [--size WxH]\n"
               "       mesosim edit --bench N [--json] [FILE]\n"
               "Opens the scenario editor on FILE (a new case from the default one when FILE is\n"
               "missing or does not exist yet): every field by section with its problems, a live\n"
               "B-mode and outside view, undo/redo, Ctrl+S saves the canonical form, an autosave\n"
               "beside the file (.FILE.autosave) keeps unsaved edits through a crash.\n"
               "--bench N: N changes of the dermis thickness on a copy of FILE (default: the\n"
               "bundled adult case), each timed from the key to its preview drawn; prints the\n"
               "median and 95th percentile in ms (--json: median_ms, p95_ms, max_ms, edits).\n"
               "Needs a display: without one, use Xvfb or SDL_VIDEODRIVER=offscreen.\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void push_key(SDL_Keycode k)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = k;
    SDL_PushEvent(&e);
}

/* One frame of the window as the loop runs it: input, then the frame, read back so the time
 * includes the GL work. */
static void step(trainer *t, controls *c, double t_s, uint8_t *buf)
{
    trainer_poll_input(t, 1.0 / 60.0, c);
    trainer_frame(t, t_s, c);
    trainer_read_pixels(t, buf);
    trainer_swap(t);
}

static int bench(trainer *t, const char *src, long edits, bool json)
{
    scenario sc;
    if (!cli_load_scenario(src, &sc))
        return 1;
    char dir[] = "/tmp/mesosim_edit_bench_XXXXXX", path[64], err[1024];
    if (!mkdtemp(dir)) {
        fprintf(stderr, "mesosim edit --bench: cannot make a temporary folder\n");
        return 1;
    }
    snprintf(path, sizeof path, "%s/case.json", dir);
    int rc = 1;
    int w, h;
    trainer_drawable_size(t, &w, &h);
    uint8_t *buf = malloc((size_t)w * (size_t)h * 4);
    double *ms = malloc(sizeof(double) * (size_t)edits);
    controls c = {.zoom_factor = 1.0f};
    if (!buf || !ms || !scenario_save_file(&sc, path, err, sizeof err) ||
        !trainer_open_editor(t, path, err, sizeof err)) {
        fprintf(stderr, "mesosim edit --bench: %s\n", buf && ms ? err : "out of memory");
        goto done;
    }
    /* The dermis thickness: the change an author makes most, and one that rebuilds the layers. */
    int dermis = 0;
    while (dermis + 1 < sc.phantom.n_layers && sc.phantom.layers[dermis].tissue != TISSUE_DERMIS)
        dermis++;
    char target[64];
    snprintf(target, sizeof target, "phantom.layers[%d].thickness_mm", dermis);
    for (int i = 0; i < 400 && strcmp(trainer_editor_selected(t), target); i++) {
        push_key(SDLK_DOWN);
        step(t, &c, 0, buf);
    }
    if (strcmp(trainer_editor_selected(t), target)) {
        fprintf(stderr, "mesosim edit --bench: no field %s\n", target);
        goto done;
    }
    Uint64 freq = SDL_GetPerformanceFrequency();
    for (long i = 0; i < edits; i++) {
        Uint64 t0 = SDL_GetPerformanceCounter();
        push_key(i % 2 ? SDLK_LEFT : SDLK_RIGHT);
        step(t, &c, 0, buf);
        ms[i] = 1000.0 * (double)(SDL_GetPerformanceCounter() - t0) / (double)freq;
    }
    qsort(ms, (size_t)edits, sizeof *ms, cmp_double);
    double med = ms[edits / 2], p95 = ms[(size_t)ceil(0.95 * (double)edits) - 1], mx = ms[edits - 1];
    if (json)
        printf("{\"median_ms\":%.3f,\"p95_ms\":%.3f,\"max_ms\":%.3f,\"edits\":%ld,\"width\":%d,\"height\":%d}\n",
               med, p95, mx, edits, w, h);
    else
        printf("%ld edits of %s at %dx%d, key to preview drawn: median %.2f ms, p95 %.2f ms, max %.2f ms\n",
               edits, target, w, h, med, p95, mx);
    rc = 0;
done:
    free(buf);
    free(ms);
    unlink(path);
    char autosave[96];
    snprintf(autosave, sizeof autosave, "%s/.case.json.autosave", dir);
    unlink(autosave);
    rmdir(dir);
    return rc;
}

int cmd_edit(int argc, char **argv)
{
    const char *file = NULL;
    long edits = 0, width = 1280, height = 800;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = true;
        } else if (!strcmp(a, "--bench") && v) {
            if (!cli_parse_int(argv[++i], 1, 100000, &edits)) {
                fprintf(stderr, "mesosim edit: --bench: an edit count 1..100000\n");
                return 2;
            }
        } else if (!strcmp(a, "--size") && v) {
            if (sscanf(argv[++i], "%ldx%ld", &width, &height) != 2 || width < 960 || height < 600 ||
                width > 16384 || height > 16384) {
                fprintf(stderr, "mesosim edit: --size: WIDTHxHEIGHT, at least 960x600\n");
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "mesosim edit: unknown option '%s' (or it needs a value)\n", a);
            usage(stderr);
            return 2;
        } else if (file) {
            fprintf(stderr, "mesosim edit: one file at a time ('%s' and '%s')\n", file, a);
            return 2;
        } else {
            file = a;
        }
    }
    if (json && !edits) {
        fprintf(stderr, "mesosim edit: --json goes with --bench\n");
        return 2;
    }
    if (edits && !file && !(file = cli_default_scenario_path())) {
        fprintf(stderr, "mesosim edit: the default scenario (scenarios/adult_back.json) is not installed\n");
        return 1;
    }
    trainer_def def = trainer_default_def();
    def.width = (int)width;
    def.height = (int)height;
    if (edits) {
        def.vsync = false;
        def.log_dir = "";
        def.state_path = "";
    }
    char err[2048];
    trainer *t = trainer_create(&def, err, sizeof err);
    if (!t) {
        fprintf(stderr, "mesosim edit: %s\n", err);
        return 1;
    }
    int rc;
    if (edits) {
        rc = bench(t, file, edits, json);
    } else if (!trainer_open_editor(t, file, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        rc = 1;
    } else {
        rc = trainer_run(t, NULL);
    }
    trainer_destroy(t);
    return rc;
}
#endif
