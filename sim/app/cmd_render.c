/* mesosim render: one B-mode frame of a scenario to a grey PNG, plus one line of JSON with the
 * image geometry so scripts can map pixels back to millimetres. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmode.h"
#include "cli_util.h"
#include "doppler.h"
#include "commands.h"
#include "image_io.h"
#include "atomic_file.h"
#include "limit.h"
#include "scenario.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: mesosim render [--scenario FILE] [--probe x=MM,y=MM,rot=DEG,tilt=DEG,rock=DEG,pressure=N]\n"
            "                      [--freq MHZ] [--depth MM] [--gain DB] [--dynamic-range DB]\n"
            "                      [--tgc on|off] [--seed N] [--threads N] [--isa auto|base|avx2] [--reference]\n"
            "                      --out FILE.png [--labels FILE.png] [--envelope FILE.npy]\n"
            "                      [--doppler color|power [--box X0,Z0,X1,Z1] [--prf HZ] [--steer DEG]\n"
            "                       [--doppler-gain DB] [--time S]]\n"
            "Synthesises the B-mode image the probe sees and writes it as a grey PNG: one row per\n"
            "depth sample (top row at the skin), one column per image line. Prints one line of\n"
            "JSON with rows, cols, dz_mm, dx_mm, x0_mm, z0_mm, freq_mhz and, with --labels, the\n"
            "grey level of each tissue in the label image. Without --scenario the bundled adult\n"
            "back case is used. --reference uses the plain (slow) implementation; --isa picks the\n"
            "build of the hot loops (all give the same bytes). --envelope writes the linear\n"
            "envelope (after gain and TGC, before log compression) as float32 rows x cols in\n"
            "NumPy's .npy format; grey = 255 * (20 log10(envelope) - full_scale_db + DR) / DR.\n"
            "--doppler writes an RGB PNG instead: the B-mode in grey with colour (velocity, red\n"
            "towards the probe) or power Doppler in the box (image mm: lateral from the probe\n"
            "centre, depth below the face; default -5,1,5,9), its outline drawn, at session time\n"
            "--time (the phase of the heartbeat, default 0 s); the JSON adds the box's cells, the\n"
            "cells that show flow and the velocity scale.\n");
}

/* NumPy .npy version 1.0: magic, version, a little-endian uint16 header length, an ASCII dict
 * padded with spaces to a 64-byte boundary and ended by a newline, then the data, here
 * little-endian float32 in C order (the format: numpy.lib.format, NEP 1). */
static int write_npy_f32(const char *path, const float *v, int rows, int cols, char *err,
                         size_t err_len)
{
    char dict[128];
    int dl = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }",
                      rows, cols);
    size_t hlen = (size_t)dl + 1, pre = 10;
    hlen += (64 - (pre + hlen) % 64) % 64;
    size_t n = (size_t)rows * (size_t)cols, len = pre + hlen + 4 * n;
    unsigned char *b = malloc(len);
    if (!b) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(hlen & 255);
    b[9] = (unsigned char)(hlen >> 8);
    memset(b + pre, ' ', hlen);
    memcpy(b + pre, dict, (size_t)dl);
    b[pre + hlen - 1] = '\n';
    unsigned char *d = b + pre + hlen;
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &v[i], 4);
        d[4 * i] = (unsigned char)(u & 255);
        d[4 * i + 1] = (unsigned char)((u >> 8) & 255);
        d[4 * i + 2] = (unsigned char)((u >> 16) & 255);
        d[4 * i + 3] = (unsigned char)(u >> 24);
    }
    int rc = atomic_file_write(path, b, len, err, err_len);
    free(b);
    return rc;
}

/* Label image grey level for a tissue id: spread over 0..255 so the picture is legible. */
static int label_level(int t) { return t * 17; }

/* The B-mode in grey with the Doppler box over it, as a scanner shows it: each pixel inside a
 * cell that shows flow takes the cell's colour (doppler_colour_rgb), the box's outline is drawn
 * light grey. *shown counts the cells with flow. Returns 0, or -1 with a message in err. */
static int write_doppler_png(const char *path, const bmode_scene *scene,
                             const doppler_settings *ds, double t_s, const bmode_image *img,
                             doppler_image *dimg, int *shown, char *err, size_t n)
{
    doppler_def def = doppler_default_def();
    doppler *d = doppler_create(&def, err, n);
    if (!d)
        return -1;
    int rc = doppler_render(d, scene, ds, t_s, dimg, err, n);
    uint8_t *rgb = rc == 0 ? malloc((size_t)img->rows * img->cols * 3) : NULL;
    if (rc == 0 && !rgb) {
        snprintf(err, n, "out of memory");
        rc = -1;
    }
    *shown = 0;
    for (int i = 0; rc == 0 && i < dimg->rows * dimg->cols; i++)
        *shown += dimg->shown[i] != 0;
    for (int r = 0; rgb && r < img->rows; r++) {
        double z = img->z0_mm + r * img->dz_mm;
        for (int c = 0; c < img->cols; c++) {
            double x = img->x0_mm + c * img->dx_mm;
            uint8_t *o = &rgb[((size_t)r * img->cols + c) * 3];
            uint8_t g = img->pixels[(size_t)r * img->cols + c];
            o[0] = o[1] = o[2] = g;
            int ci = dimg->cols ? (int)lround((x - dimg->x0_mm) / dimg->dx_mm) : -1;
            int ri = dimg->rows ? (int)lround((z - dimg->z0_mm) / dimg->dz_mm) : -1;
            if (ci >= 0 && ci < dimg->cols && ri >= 0 && ri < dimg->rows) {
                size_t k = (size_t)ri * dimg->cols + ci;
                if (dimg->shown[k])
                    doppler_colour_rgb(dimg->mode, dimg->velocity_cm_s[k] / dimg->nyquist_cm_s,
                                       dimg->power_db[k], o);
            }
            bool on_x = fabs(x - ds->box_mm[0]) < 0.5 * img->dx_mm ||
                        fabs(x - ds->box_mm[2]) < 0.5 * img->dx_mm;
            bool on_z = fabs(z - ds->box_mm[1]) < 0.5 * img->dz_mm ||
                        fabs(z - ds->box_mm[3]) < 0.5 * img->dz_mm;
            bool in_x = x >= ds->box_mm[0] && x <= ds->box_mm[2];
            bool in_z = z >= ds->box_mm[1] && z <= ds->box_mm[3];
            if ((on_x && in_z) || (on_z && in_x))
                o[0] = o[1] = o[2] = 200;
        }
    }
    if (rgb && image_write_png_rgb(path, rgb, img->cols, img->rows, err, n) != 0)
        rc = -1;
    free(rgb);
    doppler_destroy(d);
    return rc;
}

int cmd_render(int argc, char **argv)
{
    const char *scen_path = NULL, *out = NULL, *labels = NULL, *probe_opt = NULL, *isa = NULL,
               *envelope = NULL;
    double freq = 0, depth = 0, gain = 0, dr = 0;
    int have_freq = 0, have_depth = 0, have_gain = 0, have_dr = 0, tgc = -1, reference = 0;
    long seed = -1, threads = 0;
    doppler_settings dop = doppler_default_settings();
    double dop_time_s = 0.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VALUE() do { if (!v) { fprintf(stderr, "mesosim render: %s needs a value\n", a); return 2; } i++; } while (0)
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--scenario")) {
            NEED_VALUE();
            scen_path = v;
        } else if (!strcmp(a, "--out")) {
            NEED_VALUE();
            out = v;
        } else if (!strcmp(a, "--labels")) {
            NEED_VALUE();
            labels = v;
        } else if (!strcmp(a, "--envelope")) {
            NEED_VALUE();
            envelope = v;
        } else if (!strcmp(a, "--probe")) {
            NEED_VALUE();
            probe_opt = v;
        } else if (!strcmp(a, "--freq") || !strcmp(a, "--depth") || !strcmp(a, "--gain") ||
                   !strcmp(a, "--dynamic-range")) {
            NEED_VALUE();
            double x;
            if (!cli_parse_double(v, &x)) {
                fprintf(stderr, "mesosim render: %s: '%s' is not a number\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--freq")) freq = x, have_freq = 1;
            else if (!strcmp(a, "--depth")) depth = x, have_depth = 1;
            else if (!strcmp(a, "--gain")) gain = x, have_gain = 1;
            else dr = x, have_dr = 1;
        } else if (!strcmp(a, "--tgc")) {
            NEED_VALUE();
            if (!strcmp(v, "on")) tgc = 1;
            else if (!strcmp(v, "off")) tgc = 0;
            else {
                fprintf(stderr, "mesosim render: --tgc takes on or off, not '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--seed")) {
            NEED_VALUE();
            if (!cli_parse_int(v, 0, 4294967295L, &seed)) {
                fprintf(stderr, "mesosim render: --seed: '%s' is not an integer 0..4294967295\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--threads")) {
            NEED_VALUE();
            if (!cli_parse_int(v, 1, 8, &threads)) {
                fprintf(stderr, "mesosim render: --threads: 1..8\n");
                return 2;
            }
        } else if (!strcmp(a, "--isa")) {
            NEED_VALUE();
            isa = v;
        } else if (!strcmp(a, "--reference")) {
            reference = 1;
        } else if (!strcmp(a, "--doppler")) {
            NEED_VALUE();
            dop.mode = doppler_mode_from_name(v);
            if (dop.mode != DOPPLER_COLOR && dop.mode != DOPPLER_POWER) {
                fprintf(stderr, "mesosim render: --doppler takes color or power, not '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--box")) {
            NEED_VALUE();
            char tail;
            if (sscanf(v, "%lf,%lf,%lf,%lf%c", &dop.box_mm[0], &dop.box_mm[1], &dop.box_mm[2],
                       &dop.box_mm[3], &tail) != 4) {
                fprintf(stderr, "mesosim render: --box takes four numbers X0,Z0,X1,Z1 in mm, not "
                                "'%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--prf") || !strcmp(a, "--steer") || !strcmp(a, "--doppler-gain") ||
                   !strcmp(a, "--time")) {
            NEED_VALUE();
            double x;
            if (!cli_parse_double(v, &x)) {
                fprintf(stderr, "mesosim render: %s: '%s' is not a number\n", a, v);
                return 2;
            }
            if (!strcmp(a, "--prf")) dop.prf_hz = x;
            else if (!strcmp(a, "--steer")) dop.steer_deg = x;
            else if (!strcmp(a, "--doppler-gain")) dop.gain_db = x;
            else if (x >= 0.0 && x <= 3600.0) dop_time_s = x;
            else {
                fprintf(stderr, "mesosim render: --time must be within 0..3600 s, got %g\n", x);
                return 2;
            }
        } else {
            fprintf(stderr, "mesosim render: unknown option '%s'\n", a);
            usage(stderr);
            return 2;
        }
#undef NEED_VALUE
    }
    if (!out) {
        fprintf(stderr, "mesosim render: --out FILE.png is required\n");
        usage(stderr);
        return 2;
    }
    const char *derr = doppler_settings_check(&dop);
    if (derr) {
        fprintf(stderr, "mesosim render: Doppler: %s\n", derr);
        return 2;
    }
    scenario sc;
    if (!scen_path)
        scen_path = cli_default_scenario_path();
    if (scen_path) {
        if (!cli_load_scenario(scen_path, &sc))
            return 1;
    } else {
        sc = scenario_default();
    }
    if (probe_opt && !cli_parse_pose(probe_opt, &sc.pose))
        return 2;
    /* Each option against its row of the limits table, named as the user typed it. */
    const struct {
        const char *opt;
        bool given;
        limit_id lim;
        double v;
    } opts[] = {
        {"--freq", have_freq, LIM_FREQ_MHZ, freq},
        {"--depth", have_depth, LIM_DEPTH_MM, depth},
        {"--gain", have_gain, LIM_GAIN_DB, gain},
        {"--dynamic-range", have_dr, LIM_DYNAMIC_RANGE_DB, dr},
        {"--probe x", probe_opt != NULL, LIM_POSITION_MM, sc.pose.x_mm},
        {"--probe y", probe_opt != NULL, LIM_POSITION_MM, sc.pose.y_mm},
        {"--probe rot", probe_opt != NULL, LIM_ROTATION_DEG, sc.pose.rot_deg},
        {"--probe tilt", probe_opt != NULL, LIM_TILT_DEG, sc.pose.tilt_deg},
        {"--probe rock", probe_opt != NULL, LIM_ROCK_DEG, sc.pose.rock_deg},
        {"--probe pressure", probe_opt != NULL, LIM_PRESSURE_N, sc.pose.pressure_n},
    };
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        const limit *l = limit_get(opts[i].lim);
        if (opts[i].given && !limit_ok(opts[i].lim, opts[i].v)) {
            fprintf(stderr, "mesosim render: %s: %s must be within %g..%g%s%s, got %g\n",
                    opts[i].opt, l->name, l->min, l->max, l->unit[0] ? " " : "", l->unit,
                    opts[i].v);
            return 2;
        }
    }
    /* As validate and run: the probe centre stays on the patch (docs/scenarios.md). */
    if (fabs(sc.pose.x_mm) > 0.5 * sc.phantom.width_mm ||
        fabs(sc.pose.y_mm) > 0.5 * sc.phantom.length_mm) {
        fprintf(stderr, "mesosim render: probe at (%g, %g) mm is off the %g x %g mm patch "
                        "(x within +-%g, y within +-%g mm)\n",
                sc.pose.x_mm, sc.pose.y_mm, sc.phantom.width_mm, sc.phantom.length_mm,
                0.5 * sc.phantom.width_mm, 0.5 * sc.phantom.length_mm);
        return 1;
    }
    if (have_freq) sc.probe.freq_mhz = freq;
    if (have_depth) sc.probe.depth_mm = depth;
    if (have_gain) sc.probe.gain_db = gain;
    if (have_dr) sc.probe.dynamic_range_db = dr;
    if (tgc >= 0) sc.probe.tgc_on = tgc;
    if (seed >= 0) sc.phantom.seed = (uint32_t)seed;
    const char *perr = probe_check(&sc.probe);
    if (perr) {
        fprintf(stderr, "mesosim render: %s\n", perr);
        return 2;
    }
    char err[256];
    phantom *ph = phantom_create(&sc.phantom, err, sizeof err);
    if (!ph) {
        fprintf(stderr, "mesosim render: phantom: %s\n", err);
        return 1;
    }
    bmode_scene scene = {.ph = ph, .probe = sc.probe, .pose = sc.pose};
    bmode_image img;
    bmode *bm = NULL;
    int rc;
    if (reference) {
        rc = bmode_render_reference(&scene, &img, err, sizeof err);
    } else {
        bmode_def def = bmode_default_def();
        def.n_threads = (int)threads;
        def.isa = isa;
        bm = bmode_create(&def);
        if (bm)
            rc = bmode_render(bm, &scene, &img, err, sizeof err);
        else {
            snprintf(err, sizeof err, isa ? "this CPU cannot run --isa %s (use auto, base or avx2)" : "out of memory",
                     isa ? isa : "");
            rc = -1;
        }
    }
    int status = 0;
    doppler_image dimg = {0};
    int dop_shown = 0;
    if (rc != 0) {
        fprintf(stderr, "mesosim render: %s\n", err);
        status = 1;
    } else if (dop.mode != DOPPLER_OFF) {
        if (write_doppler_png(out, &scene, &dop, dop_time_s, &img, &dimg, &dop_shown, err,
                              sizeof err) != 0) {
            fprintf(stderr, "mesosim render: %s\n", err);
            status = 1;
        }
    } else if (image_write_png_gray(out, img.pixels, img.cols, img.rows, err, sizeof err) != 0) {
        fprintf(stderr, "mesosim render: %s\n", err);
        status = 1;
    } else if (labels) {
        uint8_t *lv = malloc((size_t)img.rows * img.cols);
        if (!lv) {
            fprintf(stderr, "mesosim render: out of memory\n");
            status = 1;
        } else {
            for (size_t i = 0; i < (size_t)img.rows * img.cols; i++)
                lv[i] = (uint8_t)label_level(img.labels[i]);
            if (image_write_png_gray(labels, lv, img.cols, img.rows, err, sizeof err) != 0) {
                fprintf(stderr, "mesosim render: %s\n", err);
                status = 1;
            }
            free(lv);
        }
    }
    if (status == 0 && envelope && write_npy_f32(envelope, img.envelope, img.rows, img.cols, err, sizeof err) != 0) {
        fprintf(stderr, "mesosim render: %s\n", err);
        status = 1;
    }
    if (status == 0) {
        printf("{\"out\":");
        cli_print_json_string(stdout, out);
        printf(",\"rows\":%d,\"cols\":%d,\"dz_mm\":%.9g,\"dx_mm\":%.9g,\"x0_mm\":%.9g,"
               "\"z0_mm\":%.9g,\"freq_mhz\":%.9g,\"depth_mm\":%.9g,\"dynamic_range_db\":%.9g,"
               "\"full_scale_db\":%.9g",
               img.rows, img.cols, img.dz_mm, img.dx_mm, img.x0_mm, img.z0_mm, img.freq_mhz,
               sc.probe.depth_mm, sc.probe.dynamic_range_db, img.full_scale_db);
        if (dop.mode != DOPPLER_OFF)
            printf(",\"doppler\":\"%s\",\"doppler_box_mm\":[%.9g,%.9g,%.9g,%.9g],"
                   "\"doppler_cells\":%d,\"doppler_shown\":%d,\"nyquist_cm_s\":%.9g",
                   doppler_mode_name(dop.mode), dop.box_mm[0], dop.box_mm[1], dop.box_mm[2],
                   dop.box_mm[3], dimg.rows * dimg.cols, dop_shown, dimg.nyquist_cm_s);
        if (envelope) {
            printf(",\"envelope_out\":");
            cli_print_json_string(stdout, envelope);
            printf(",\"envelope_dtype\":\"float32\",\"envelope_shape\":[%d,%d]", img.rows, img.cols);
        }
        if (labels) {
            printf(",\"labels_out\":");
            cli_print_json_string(stdout, labels);
            printf(",\"labels\":{");
            for (int t = 0; t < TISSUE_COUNT; t++)
                printf("%s\"%s\":%d", t ? "," : "", tissue_name((tissue_id)t), label_level(t));
            printf("}");
        }
        printf("}\n");
    }
    if (reference && rc == 0)
        bmode_image_free(&img);
    bmode_destroy(bm);
    phantom_destroy(ph);
    return status;
}
