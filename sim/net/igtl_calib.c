/* igtl_calib: see igtl_calib.h. */
#include "igtl_calib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "atomic_file.h"

igtl_calibration igtl_calibration_identity(void)
{
    return (igtl_calibration){.scale = 1.0, .rotation = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}}};
}

const char *igtl_calibration_check(const igtl_calibration *c)
{
    if (!isfinite(c->scale) || !(c->scale > 0.0) || c->scale > 1e6)
        return "scale must be a finite number > 0";
    for (int i = 0; i < 3; i++) {
        if (!isfinite(c->offset_mm[i]) || fabs(c->offset_mm[i]) > 1e6)
            return "offset_mm must be three finite numbers";
        for (int j = 0; j < 3; j++) {
            double dot = 0.0;
            for (int k = 0; k < 3; k++)
                dot += c->rotation[i][k] * c->rotation[j][k];
            if (!isfinite(dot) || fabs(dot - (i == j ? 1.0 : 0.0)) > 1e-3)
                return "rotation must be an orthonormal 3x3 matrix (rows of unit length, at right angles)";
        }
    }
    double det = c->rotation[0][0] * (c->rotation[1][1] * c->rotation[2][2] - c->rotation[1][2] * c->rotation[2][1]) -
                 c->rotation[0][1] * (c->rotation[1][0] * c->rotation[2][2] - c->rotation[1][2] * c->rotation[2][0]) +
                 c->rotation[0][2] * (c->rotation[1][0] * c->rotation[2][1] - c->rotation[1][1] * c->rotation[2][0]);
    if (det < 0.0)
        return "rotation must be a rotation (determinant +1), not a mirror";
    return NULL;
}

void igtl_calibration_dir(const igtl_calibration *c, const double dev[3], double out[3])
{
    double r[3];
    for (int i = 0; i < 3; i++)
        r[i] = c->rotation[i][0] * dev[0] + c->rotation[i][1] * dev[1] + c->rotation[i][2] * dev[2];
    memcpy(out, r, sizeof r);
}

void igtl_calibration_point(const igtl_calibration *c, const double dev[3], double out_mm[3])
{
    double r[3];
    igtl_calibration_dir(c, dev, r);
    for (int i = 0; i < 3; i++)
        out_mm[i] = c->scale * r[i] + c->offset_mm[i];
}

static double norm3(const double v[3])
{
    return sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
}

/* Rodrigues: the rotation by the angle between unit vectors a and b about a x b. */
static void rotation_between(const double a[3], const double b[3], double r[3][3])
{
    double v[3] = {a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0]};
    double c = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    double s = norm3(v);
    double id[3][3] = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
    if (s < 1e-12 && c > 0.0) {
        memcpy(r, id, sizeof id);
        return;
    }
    if (s < 1e-12) {
        /* Opposite: half a turn about any axis at right angles to a. */
        double axis[3] = {0, 0, 0};
        int k = fabs(a[0]) < 0.9 ? 0 : 1;
        double e[3] = {k == 0, k == 1, 0};
        axis[0] = a[1] * e[2] - a[2] * e[1], axis[1] = a[2] * e[0] - a[0] * e[2], axis[2] = a[0] * e[1] - a[1] * e[0];
        double n = norm3(axis);
        for (int i = 0; i < 3; i++)
            axis[i] /= n;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                r[i][j] = 2.0 * axis[i] * axis[j] - id[i][j];
        return;
    }
    double vx[3][3] = {{0, -v[2], v[1]}, {v[2], 0, -v[0]}, {-v[1], v[0], 0}};
    double k = (1.0 - c) / (s * s);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double vx2 = 0.0;
            for (int m = 0; m < 3; m++)
                vx2 += vx[i][m] * vx[m][j];
            r[i][j] = id[i][j] + vx[i][j] + k * vx2;
        }
}

bool igtl_calibration_two_point(const double dev_a[3], const double ph_a[3], const double dev_b[3],
                                const double ph_b[3], igtl_calibration *out, char *err, size_t err_len)
{
    double dd[3], dp[3];
    for (int i = 0; i < 3; i++)
        dd[i] = dev_b[i] - dev_a[i], dp[i] = ph_b[i] - ph_a[i];
    double ld = norm3(dd), lp = norm3(dp);
    if (!isfinite(ld) || !isfinite(lp) || ld < 1e-9 || lp < 1e-9) {
        snprintf(err, err_len, "the two calibration points must differ in both the device and the phantom frame "
                               "(they are %.3g and %.3g apart)", ld, lp);
        return false;
    }
    for (int i = 0; i < 3; i++)
        dd[i] /= ld, dp[i] /= lp;
    igtl_calibration c = igtl_calibration_identity();
    c.scale = lp / ld;
    rotation_between(dd, dp, c.rotation);
    double ra[3];
    igtl_calibration_dir(&c, dev_a, ra);
    for (int i = 0; i < 3; i++)
        c.offset_mm[i] = ph_a[i] - c.scale * ra[i];
    *out = c;
    return true;
}

bool igtl_calibration_default_path(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && xdg[0])
        n = snprintf(out, len, "%s/mesosim/igtl_calibration.json", xdg);
    else if (home && home[0])
        n = snprintf(out, len, "%s/.config/mesosim/igtl_calibration.json", home);
    else
        return false;
    return n > 0 && (size_t)n < len;
}

static bool read_vec(json_t *v, double *out, int n)
{
    if (!json_is_array(v) || (int)json_array_size(v) != n)
        return false;
    for (int i = 0; i < n; i++) {
        json_t *x = json_array_get(v, (size_t)i);
        if (!json_is_number(x))
            return false;
        out[i] = json_number_value(x);
    }
    return true;
}

bool igtl_calibration_load(const char *path, igtl_calibration *out, char *err, size_t err_len)
{
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        snprintf(err, err_len, "%s:%d:%d: %s", path, je.line, je.column, je.text);
        return false;
    }
    igtl_calibration c = igtl_calibration_identity();
    const char *bad = NULL;
    json_t *v;
    if (!json_is_object(root))
        bad = "the file must hold one JSON object";
    else if ((v = json_object_get(root, "scale")) && !json_is_number(v))
        bad = "scale must be a number";
    else {
        if (v)
            c.scale = json_number_value(v);
        if ((v = json_object_get(root, "offset_mm")) && !read_vec(v, c.offset_mm, 3))
            bad = "offset_mm must be an array of 3 numbers";
        else if ((v = json_object_get(root, "rotation"))) {
            if (!json_is_array(v) || json_array_size(v) != 3)
                bad = "rotation must be 3 rows of 3 numbers";
            for (int i = 0; !bad && i < 3; i++)
                if (!read_vec(json_array_get(v, (size_t)i), c.rotation[i], 3))
                    bad = "rotation must be 3 rows of 3 numbers";
        }
    }
    json_decref(root);
    if (!bad)
        bad = igtl_calibration_check(&c);
    if (bad) {
        snprintf(err, err_len, "%s: %s", path, bad);
        return false;
    }
    *out = c;
    return true;
}

static void make_parent_dirs(const char *path)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir)
        return;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    mkdir(dir, 0755);
}

bool igtl_calibration_save(const char *path, const igtl_calibration *c, char *err, size_t err_len)
{
    const char *bad = igtl_calibration_check(c);
    if (bad) {
        snprintf(err, err_len, "not saved: %s", bad);
        return false;
    }
    char text[1024];
    int n = snprintf(text, sizeof text,
                     "{\n  \"scale\": %.17g,\n  \"offset_mm\": [%.17g, %.17g, %.17g],\n  \"rotation\": [\n"
                     "    [%.17g, %.17g, %.17g],\n    [%.17g, %.17g, %.17g],\n    [%.17g, %.17g, %.17g]\n  ]\n}\n",
                     c->scale, c->offset_mm[0], c->offset_mm[1], c->offset_mm[2], c->rotation[0][0],
                     c->rotation[0][1], c->rotation[0][2], c->rotation[1][0], c->rotation[1][1], c->rotation[1][2],
                     c->rotation[2][0], c->rotation[2][1], c->rotation[2][2]);
    make_parent_dirs(path);
    return atomic_file_write(path, text, (size_t)n, err, err_len) == 0;
}
