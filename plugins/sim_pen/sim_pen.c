/* sim_pen: a haptic pen that is not there. It scripts one needle insertion and keeps the forces
 * it is sent, so a whole session with force feedback runs without hardware (tests, demos) and
 * a vendor's plugin has a small complete example to start from (haptic_plugin.h).
 *
 * The script, in the device frame (with the identity calibration: the phantom frame, mm):
 * the tip starts start_mm back from the entry point (0, -2, 0) along the needle's line at
 * 30 degrees to the skin, azimuth 90 (toward +y), moves along it at speed_mm_s until it has
 * gone depth_mm past the entry, and holds there. Time is the monotonic clock since open.
 *
 * open's args: "key=value" pairs separated by ',' : log=PATH (at close, one line per force
 * sample: "t_s fx fy fz"), speed_mm_s=2, depth_mm=3, start_mm=2. Forces are also kept in
 * memory (the last SIM_PEN_MAX_SAMPLES) for sim_pen_forces(). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "haptic_plugin.h"

#define SIM_PEN_MAX_SAMPLES 60000
#define PI 3.14159265358979323846
#define EXPORT __attribute__((visibility("default")))

typedef struct sim_pen {
    struct timespec t0;
    double speed_mm_s, depth_mm, start_mm;
    char log[1024];
} sim_pen;

/* One pen at a time: the force record a test reads back through sim_pen_forces. */
static double g_force[SIM_PEN_MAX_SAMPLES][4];
static int g_n;

static double since(const sim_pen *p)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - p->t0.tv_sec) + (double)(t.tv_nsec - p->t0.tv_nsec) * 1e-9;
}

/* "key=value" in a comma-separated list; false when absent. */
static bool find_arg(const char *args, const char *key, char *out, size_t len)
{
    size_t kl = strlen(key);
    for (const char *p = args; p && *p;) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n > kl && !strncmp(p, key, kl) && p[kl] == '=') {
            size_t vl = n - kl - 1 < len - 1 ? n - kl - 1 : len - 1;
            memcpy(out, p + kl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        p = end ? end + 1 : NULL;
    }
    return false;
}

static bool num_arg(const char *args, const char *key, double lo, double hi, double *v, char *err, size_t err_len)
{
    char buf[64], *end;
    if (!find_arg(args, key, buf, sizeof buf))
        return true;
    double x = strtod(buf, &end);
    if (end == buf || *end || !(x >= lo && x <= hi)) {
        snprintf(err, err_len, "sim_pen: %s=%s: a number %g..%g", key, buf, lo, hi);
        return false;
    }
    *v = x;
    return true;
}

static void *pen_open(const char *args, char *err, size_t err_len)
{
    sim_pen *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_len, "sim_pen: out of memory");
        return NULL;
    }
    p->speed_mm_s = 2.0, p->depth_mm = 3.0, p->start_mm = 2.0;
    if (!num_arg(args, "speed_mm_s", 0.01, 100.0, &p->speed_mm_s, err, err_len) ||
        !num_arg(args, "depth_mm", 0.0, 13.0, &p->depth_mm, err, err_len) ||
        !num_arg(args, "start_mm", 0.0, 50.0, &p->start_mm, err, err_len)) {
        free(p);
        return NULL;
    }
    find_arg(args, "log", p->log, sizeof p->log);
    clock_gettime(CLOCK_MONOTONIC, &p->t0);
    g_n = 0;
    return p;
}

static int pen_read_pose(void *dev, haptic_plugin_pose *out)
{
    sim_pen *p = dev;
    double t = since(p);
    double a = 30.0 * PI / 180.0, dir[3] = {0.0, cos(a), sin(a)}, entry[3] = {0.0, -2.0, 0.0};
    double s = -p->start_mm + p->speed_mm_s * t;
    if (s > p->depth_mm)
        s = p->depth_mm;
    memset(out, 0, sizeof *out);
    out->t_s = t;
    /* Frame columns: x across, y = z x x, z along the needle. */
    double x[3] = {1.0, 0.0, 0.0}, y[3] = {dir[1] * x[2] - dir[2] * x[1], dir[2] * x[0] - dir[0] * x[2],
                                           dir[0] * x[1] - dir[1] * x[0]};
    for (int i = 0; i < 3; i++) {
        out->tip_mm[i] = entry[i] + s * dir[i];
        out->frame[i][0] = x[i];
        out->frame[i][1] = y[i];
        out->frame[i][2] = dir[i];
    }
    return 1;
}

static int pen_write_force(void *dev, const double f[3])
{
    sim_pen *p = dev;
    if (g_n < SIM_PEN_MAX_SAMPLES) {
        g_force[g_n][0] = since(p);
        for (int i = 0; i < 3; i++)
            g_force[g_n][1 + i] = f[i];
        g_n++;
    }
    return 0;
}

static void pen_close(void *dev)
{
    sim_pen *p = dev;
    if (p->log[0]) {
        FILE *f = fopen(p->log, "w");
        if (f) {
            for (int i = 0; i < g_n; i++)
                fprintf(f, "%.6f %.6f %.6f %.6f\n", g_force[i][0], g_force[i][1], g_force[i][2], g_force[i][3]);
            fclose(f);
        }
    }
    free(p);
}

static const haptic_plugin k_pen = {
    .abi_version = HAPTIC_PLUGIN_ABI_VERSION,
    .struct_size = sizeof(haptic_plugin),
    .name = "sim_pen (scripted insertion)",
    .open = pen_open,
    .read_pose = pen_read_pose,
    .write_force = pen_write_force,
    .close = pen_close,
};

EXPORT const haptic_plugin *mesosim_haptic_plugin(void)
{
    return &k_pen;
}

/* For tests: the forces received so far, rows of (t_s, fx, fy, fz). */
EXPORT int sim_pen_forces(const double (**rows)[4])
{
    *rows = (const double(*)[4])g_force;
    return g_n;
}
