/* mesosim bench: frame-synthesis speed on the standard frame.
 *
 * Standard frame (issue "Foundation"): the adult back preset, 18 MHz, 15 mm deep, 12.8 mm wide,
 * 256 lines x 702 samples, the probe moving a little every frame so nothing can be reused.
 * Times the fast path over N frames and the plain reference implementation of the same model
 * over a few frames in the same run, and reports median, p95, fps and the speedup. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "bmode.h"
#include "cli_util.h"
#include "commands.h"
#include "doppler.h"
#include "scenario.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: mesosim bench [--frames N] [--reference-frames N] [--threads N] [--isa auto|base|avx2]\n"
               "                     [--with-analysis] [--scenario FILE] [--json]\n"
               "Times B-mode synthesis of the standard frame (adult back, 18 MHz, 15 mm, 256 lines)\n"
               "with the probe moving every frame. Prints median and p95 ms per frame, frames per\n"
               "second, and the speedup over the plain reference implementation measured in the\n"
               "same run, the CPU time per frame of all threads together, and whether the goals\n"
               "(median <= 4 ms, speedup >= 20x, Doppler box <= 3 ms) are met. The fast path makes\n"
               "the 8-bit display image, as the trainer window does; --with-analysis also makes the\n"
               "float envelope and the label image. Defaults: 200 frames, 3 reference frames, one\n"
               "thread per core.\n"
               "\n"
               "mesosim bench --sweep [--frames N] [--threads N] [--json]\n"
               "Frame cost against image lines x depth (128..1024 lines, 10..40 mm) and against the\n"
               "number of dynamic objects in view (0..200 deposits): median ms of N frames (30) each.\n"
               "\n"
               "mesosim bench --driver [--presses N] [--motion-seconds N] [--json]\n"
               "Times the session driver instead: the snapshot built per step, the steps that change the\n"
               "probe pressure (the needle's track is rebuilt), the longest a 1 kHz reader thread waits\n"
               "for a snapshot meanwhile, and the action log's size for N s (600) of 1 kHz probe motion.\n"
               "\n"
               "mesosim bench --haptics [--seconds N] [--json]\n"
               "Runs the 1 kHz haptics loop for N s (60) while the main thread renders the standard frame\n"
               "without pause: the loop's rate, tick time p50/p99/max and missed deadlines.\n"
               "\n"
               "mesosim bench --igtl [--seconds N] [--json]\n"
               "OpenIGTLink on 127.0.0.1: one client sending 1000 TRANSFORMs a second for N s (10), how many\n"
               "arrived; then the IMAGE stream of the standard frame to one client, frames per second.\n");
}

/* The goals of issue 9 ("Speed"): the standard frame with everything on, the Doppler box on top. */
#define GOAL_MEDIAN_MS 4.0
#define GOAL_SPEEDUP 20.0
#define GOAL_DOPPLER_MS 3.0

/* CPU time of the whole process (all threads), ms: unlike the wall clock it does not grow
 * when other programs share the cores. */
static double cpu_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static const char *verdict(int met) { return met ? "met" : "NOT met"; }

/* A slow scan: a few tenths of a millimetre and degrees per frame. */
static probe_pose pose_at(int frame)
{
    probe_pose p = probe_default_pose();
    p.x_mm = 2.0 * sin(frame * 0.05);
    p.y_mm = 1.0 * sin(frame * 0.031);
    p.rot_deg = 3.0 * sin(frame * 0.02);
    return p;
}

int cmd_bench(int argc, char **argv)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--driver"))
            return bench_driver(argc, argv);
        else if (!strcmp(argv[i], "--sweep"))
            return bench_sweep(argc, argv);
        else if (!strcmp(argv[i], "--haptics"))
            return bench_haptics(argc, argv);
        else if (!strcmp(argv[i], "--igtl"))
            return bench_igtl(argc, argv);
    long frames = 200, ref_frames = 3, threads = 0;
    bool json = false, with_analysis = false;
    const char *scen_path = NULL, *isa = NULL;
    const cli_option opts[] = {
        CLI_LONG("--frames", &frames, 1, 1000000),
        CLI_LONG("--reference-frames", &ref_frames, 0, 1000),
        CLI_LONG("--threads", &threads, 1, 8),
        CLI_STRING("--isa", &isa),
        CLI_STRING("--scenario", &scen_path),
        CLI_FLAG("--with-analysis", &with_analysis),
        CLI_FLAG("--json", &json),
    };
    int parsed = cli_parse_args(&(cli_args_def){.command = "mesosim bench", .options = opts,
                                                .n_options = CLI_N_OPTIONS(opts), .usage = usage},
                                argc, argv);
    if (parsed != CLI_ARGS_CONTINUE)
        return parsed;
    bool display_only = !with_analysis;
    scenario sc = scenario_default();
    if (!scen_path)
        scen_path = cli_default_scenario_path();
    if (scen_path && !cli_load_scenario(scen_path, &sc))
        return 1;
    /* The standard frame's probe, whatever the scenario says. */
    sc.probe = probe_default_def();
    char err[256];
    phantom *ph = phantom_create(&sc.phantom, err, sizeof err);
    if (!ph) {
        fprintf(stderr, "mesosim bench: %s\n", err);
        return 1;
    }
    bmode_def def = bmode_default_def();
    def.n_threads = (int)threads;
    def.isa = isa;
    def.display_only = display_only;
    bmode *bm = bmode_create(&def);
    if (!bm && isa) {
        fprintf(stderr, "mesosim bench: this CPU cannot run --isa %s (use auto, base or avx2)\n", isa);
        return 2;
    }
    double *t = malloc(sizeof(double) * (size_t)frames);
    double *td = malloc(sizeof(double) * (size_t)frames);
    double *tr = malloc(sizeof(double) * (size_t)(ref_frames > 0 ? ref_frames : 1));
    doppler_def ddef = doppler_default_def();
    doppler *dop = doppler_create(&ddef, err, sizeof err);
    if (!bm || !t || !td || !tr || !dop) {
        fprintf(stderr, "mesosim bench: out of memory\n");
        return 1;
    }
    bmode_scene scene = {.ph = ph, .probe = sc.probe};
    bmode_image img = {0};
    int status = 0;
    double cpu0 = 0.0;
    for (int f = -3; f < frames && status == 0; f++) { /* 3 warm-up frames */
        if (f == 0)
            cpu0 = cpu_now_ms();
        scene.pose = pose_at(f + 3);
        double t0 = bench_now_ms();
        if (bmode_render(bm, &scene, &img, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim bench: %s\n", err);
            status = 1;
        }
        if (f >= 0)
            t[f] = bench_now_ms() - t0;
    }
    double cpu_ms = (cpu_now_ms() - cpu0) / (double)frames;
    /* The Doppler box on top of the frame: the default colour box (10 x 8 mm from 1 mm deep,
     * over the adult back's perforator), timed on its own, at 15 colour frames a second. */
    doppler_settings ds = doppler_default_settings();
    ds.mode = DOPPLER_COLOR;
    doppler_image dimg = {0};
    for (int f = -3; f < frames && status == 0; f++) {
        scene.pose = pose_at(f + 3);
        double t0 = bench_now_ms();
        if (doppler_render(dop, &scene, &ds, (f + 3) / 15.0, &dimg, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim bench: %s\n", err);
            status = 1;
        }
        if (f >= 0)
            td[f] = bench_now_ms() - t0;
    }
    for (int f = 0; f < ref_frames && status == 0; f++) {
        scene.pose = pose_at(f);
        bmode_image ri;
        double t0 = bench_now_ms();
        if (bmode_render_reference(&scene, &ri, err, sizeof err) != 0) {
            fprintf(stderr, "mesosim bench: %s\n", err);
            status = 1;
            break;
        }
        tr[f] = bench_now_ms() - t0;
        bmode_image_free(&ri);
        if (!json)
            fprintf(stderr, "reference frame %d/%ld: %.1f ms\n", f + 1, ref_frames, tr[f]);
    }
    if (status == 0) {
        double med = bench_percentile(t, (int)frames, 0.5), p95 = bench_percentile(t, (int)frames, 0.95);
        double rmed = ref_frames > 0 ? bench_percentile(tr, (int)ref_frames, 0.5) : 0.0;
        double speed = ref_frames > 0 ? rmed / med : 0.0;
        double dmed = bench_percentile(td, (int)frames, 0.5);
        int med_ok = med <= GOAL_MEDIAN_MS, speed_ok = ref_frames > 0 && speed >= GOAL_SPEEDUP,
            dop_ok = dmed <= GOAL_DOPPLER_MS;
        if (json) {
            printf("{\"median_ms\":%.4f,\"p95_ms\":%.4f,\"fps\":%.2f,\"rows\":%d,\"cols\":%d,\"threads\":%d,"
                   "\"isa\":\"%s\",\"analysis_outputs\":%s,\"frames\":%ld,\"reference_median_ms\":%.3f,\"reference_frames\":%ld,"
                   "\"speedup_vs_reference\":%.2f,\"doppler_median_ms\":%.4f,\"doppler_cells\":%d,"
                   "\"cpu_ms_per_frame\":%.4f,\"goal_median_met\":%s,\"goal_speedup_met\":%s,\"goal_doppler_met\":%s}\n",
                   med, p95, 1000.0 / med, img.rows, img.cols, bmode_threads(bm), bmode_isa(bm),
                   display_only ? "false" : "true", frames, rmed,
                   ref_frames, speed, dmed, dimg.rows * dimg.cols, cpu_ms, med_ok ? "true" : "false",
                   ref_frames > 0 ? (speed_ok ? "true" : "false") : "null", dop_ok ? "true" : "false");
        } else {
            printf("standard frame: %d rows x %d lines, 18 MHz, 15 mm, adult back, %d threads, %s loops\n",
                   img.rows, img.cols, bmode_threads(bm), bmode_isa(bm));
            printf("fast path:  median %.3f ms, p95 %.3f ms, %.1f fps over %ld frames\n", med, p95, 1000.0 / med,
                   frames);
            printf("cpu time:   %.3f ms per frame, %d threads together (the wall median on idle cores is\n"
                   "            near this / threads; on busy cores it grows, this does not)\n",
                   cpu_ms, bmode_threads(bm));
            printf("doppler:    median %.3f ms added: colour box %d x %d cells (10 x 8 mm)\n", dmed,
                   dimg.cols, dimg.rows);
            if (ref_frames > 0)
                printf("reference:  median %.1f ms over %ld frames; speedup %.1fx\n", rmed, ref_frames, speed);
            printf("goals:      median %.2f <= %.0f ms %s; ", med, GOAL_MEDIAN_MS, verdict(med_ok));
            if (ref_frames > 0)
                printf("speedup %.1fx >= %.0fx %s; ", speed, GOAL_SPEEDUP, verdict(speed_ok));
            else
                printf("speedup not measured (--reference-frames 0); ");
            printf("doppler %.2f <= %.0f ms %s\n", dmed, GOAL_DOPPLER_MS, verdict(dop_ok));
        }
    }
    free(t);
    free(td);
    free(tr);
    doppler_destroy(dop);
    bmode_destroy(bm);
    phantom_destroy(ph);
    return status;
}
