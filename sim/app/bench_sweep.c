/* mesosim bench --sweep: how the fast path's frame cost grows with the image and with the
 * scene. Two sweeps on the adult back case with the probe moving every frame: image lines x
 * depth (128..1024 lines, 10..40 mm; rows follow the depth at lambda/4), then the number of
 * dynamic objects in view (0..200 liquid deposits, 0.5 mm blebs spread over the image at
 * 1-8 mm deep, each one ellipsoid). Median ms per frame of N frames per point. No timed
 * tests: a benchmark only. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_util.h"
#include "bmode.h"
#include "cli_util.h"
#include "commands.h"
#include "scenario.h"

static probe_pose sweep_pose(int frame)
{
    probe_pose p = probe_default_pose();
    p.x_mm = 2.0 * sin(frame * 0.05);
    p.y_mm = 0.2 * sin(frame * 0.031);
    return p;
}

/* Median ms per frame over frames renders (after 2 warm-up frames). */
static int time_scene(bmode *bm, bmode_scene *scene, int frames, double *t, double *median_ms, int *rows)
{
    char err[256];
    bmode_image img;
    for (int f = -2; f < frames; f++) {
        scene->pose = sweep_pose(f + 2);
        double t0 = bench_now_ms();
        if (bmode_render(bm, scene, &img, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim bench: %s\n", err);
            return -1;
        }
        if (f >= 0)
            t[f] = bench_now_ms() - t0;
    }
    *median_ms = bench_percentile(t, frames, 0.5);
    *rows = img.rows;
    return 0;
}

int bench_sweep(int argc, char **argv)
{
    long frames = 30, threads = 0;
    bool json = false;
    const cli_option opts[] = {
        CLI_LONG("--frames", &frames, 1, 100000),
        CLI_LONG("--threads", &threads, 1, 8),
        CLI_FLAG("--json", &json),
    };
    int parsed = cli_parse_args(&(cli_args_def){.command = "mesosim bench --sweep", .options = opts,
                                                .n_options = CLI_N_OPTIONS(opts), .skip = "--sweep"},
                                argc, argv);
    if (parsed != CLI_ARGS_CONTINUE)
        return parsed;
    scenario sc = scenario_default();
    const char *path = cli_default_scenario_path();
    if (path && !cli_load_scenario(path, &sc))
        return 1;
    char err[256];
    phantom *ph = phantom_create(&sc.phantom, err, sizeof err);
    bmode_def def = bmode_default_def();
    def.n_threads = (int)threads;
    def.display_only = true;
    bmode *bm = bmode_create(&def);
    double *t = malloc(sizeof(double) * (size_t)frames);
    phantom_inclusion *dyn = malloc(sizeof(phantom_inclusion) * 200);
    if (!ph || !bm || !t || !dyn) {
        fprintf(stderr, "mesosim bench: %s\n", ph ? "out of memory" : err);
        phantom_destroy(ph);
        bmode_destroy(bm);
        free(t);
        free(dyn);
        return 1;
    }
    int status = 0;
    const int lines[4] = {128, 256, 512, 1024};
    const double depths[4] = {10.0, 20.0, 30.0, 40.0};
    const int n_dyn[5] = {0, 25, 50, 100, 200};
    if (json)
        printf("{\"threads\":%d,\"isa\":\"%s\",\"frames\":%ld,\"lines_x_depth\":[", bmode_threads(bm), bmode_isa(bm),
               frames);
    else
        printf("frame cost, adult back, 18 MHz, %d threads, %s loops, median of %ld frames\n", bmode_threads(bm),
               bmode_isa(bm), frames);
    int first = 1;
    for (int i = 0; i < 4 && status == 0; i++)
        for (int j = 0; j < 4 && status == 0; j++) {
            bmode_scene scene = {.ph = ph, .probe = probe_default_def()};
            scene.probe.n_lines = lines[i];
            scene.probe.depth_mm = depths[j];
            double med;
            int rows;
            status = time_scene(bm, &scene, (int)frames, t, &med, &rows);
            if (status)
                break;
            if (json)
                printf("%s{\"lines\":%d,\"depth_mm\":%g,\"rows\":%d,\"median_ms\":%.4f}", first ? "" : ",", lines[i],
                       depths[j], rows, med);
            else
                printf("  %4d lines x %4d rows (%2.0f mm): %8.3f ms\n", lines[i], rows, depths[j], med);
            first = 0;
        }
    if (json && status == 0)
        printf("],\"dynamic_objects\":[");
    first = 1;
    for (int k = 0; k < 5 && status == 0; k++) {
        for (int i = 0; i < n_dyn[k]; i++) {
            /* Spread over 10 mm across and 1-8 mm deep, on the slice (golden-ratio steps). */
            double u = fmod(i * 0.6180339887, 1.0), v = fmod(i * 0.7548776662, 1.0);
            dyn[i] = (phantom_inclusion){.kind = PHANTOM_ELLIPSOID, .tissue = TISSUE_FLUID,
                                         .c_mm = {-5.0 + 10.0 * u, 0.0, 1.0 + 7.0 * v},
                                         .radii_mm = {0.5, 0.5, 0.5}};
        }
        bmode_scene scene = {.ph = ph, .probe = probe_default_def(), .dyn = dyn, .n_dyn = n_dyn[k]};
        double med;
        int rows;
        status = time_scene(bm, &scene, (int)frames, t, &med, &rows);
        if (status)
            break;
        if (json)
            printf("%s{\"deposits\":%d,\"median_ms\":%.4f}", first ? "" : ",", n_dyn[k], med);
        else
            printf("  standard frame with %3d deposits: %8.3f ms\n", n_dyn[k], med);
        first = 0;
    }
    if (json && status == 0)
        printf("]}\n");
    free(t);
    free(dyn);
    bmode_destroy(bm);
    phantom_destroy(ph);
    return status;
}
