/* physics_util: helpers shared by the physics tests (see physics_util.h). */
#include "physics_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

bmode *pu_bm;

int pu_group_setup(void **state)
{
    (void)state;
    pu_bm = bmode_create(&(bmode_def){.n_threads = 2});
    return pu_bm ? 0 : -1;
}

scenario pu_load_preset(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s.json", MESOSIM_SOURCE_DIR, name);
    scenario s;
    scenario_diags diags = {0};
    bool ok = scenario_load_file(path, &s, &diags);
    for (int i = 0; i < diags.count; i++)
        printf("  %s:%d:%d: %s: %s\n", name, diags.items[i].line, diags.items[i].col,
               diags.items[i].path, diags.items[i].message);
    scenario_diags_free(&diags);
    assert_true(ok);
    return s;
}

int pu_group_teardown(void **state)
{
    (void)state;
    bmode_destroy(pu_bm);
    pu_bm = NULL;
    return 0;
}

void pu_fat_sheets(phantom_def *d)
{
    d->n_layers = 0;
    for (int k = 0; k < 5; k++) {
        phantom_layer_def plain = {TISSUE_FAT, 1.43, 0.05, 20.0, PHANTOM_NO_OVERRIDES};
        plain.acoustic.texture = PHANTOM_TEXTURE_OFF;
        phantom_layer_def sheet = plain;
        sheet.thickness_mm = 0.07;
        sheet.acoustic.backscatter = 1.0;
        d->layers[d->n_layers++] = plain;
        d->layers[d->n_layers++] = sheet;
    }
    d->layers[d->n_layers] = d->layers[0];
    d->n_layers++;
}

phantom_def pu_uniform_def(tissue_id t, uint32_t seed)
{
    phantom_def d = phantom_default_def();
    d.n_layers = 1;
    d.layers[0] = (phantom_layer_def){t, 0.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES};
    d.n_features = 0;
    d.n_vessels = 0;
    d.n_inclusions = 0;
    d.seed = seed;
    return d;
}

phantom *pu_phantom(const phantom_def *d)
{
    char err[256] = "";
    phantom *ph = phantom_create(d, err, sizeof err);
    if (!ph)
        fail_msg("phantom_create: %s", err);
    return ph;
}

probe_def pu_probe(int n_lines, double depth_mm)
{
    probe_def p = probe_default_def();
    p.n_lines = n_lines;
    p.depth_mm = depth_mm;
    return p;
}

void pu_render(bmode *bm, const phantom *ph, const probe_def *p, const probe_pose *pose,
               bmode_image *out)
{
    bmode_scene sc = {.ph = ph, .probe = *p, .pose = *pose, .dyn = NULL, .n_dyn = 0};
    char err[256] = "";
    if (bmode_render(bm, &sc, out, err, sizeof err) != 0)
        fail_msg("bmode_render: %s", err);
}

int pu_row(const bmode_image *im, double z)
{
    int r = (int)lround((z - im->z0_mm) / im->dz_mm);
    return r < 0 ? 0 : (r >= im->rows ? im->rows - 1 : r);
}

int pu_col(const bmode_image *im, double x)
{
    int c = (int)lround((x - im->x0_mm) / im->dx_mm);
    return c < 0 ? 0 : (c >= im->cols ? im->cols - 1 : c);
}

double pu_row_z(const bmode_image *im, int r) { return im->z0_mm + r * im->dz_mm; }
double pu_col_x(const bmode_image *im, int c) { return im->x0_mm + c * im->dx_mm; }

static void region_rc(const bmode_image *im, pu_region g, int *r0, int *r1, int *c0, int *c1)
{
    *r0 = (int)ceil((g.z0_mm - im->z0_mm) / im->dz_mm - 1e-9);
    *r1 = (int)floor((g.z1_mm - im->z0_mm) / im->dz_mm + 1e-9);
    *c0 = (int)ceil((g.x0_mm - im->x0_mm) / im->dx_mm - 1e-9);
    *c1 = (int)floor((g.x1_mm - im->x0_mm) / im->dx_mm + 1e-9);
    if (*r0 < 0) *r0 = 0;
    if (*c0 < 0) *c0 = 0;
    if (*r1 > im->rows - 1) *r1 = im->rows - 1;
    if (*c1 > im->cols - 1) *c1 = im->cols - 1;
}

pu_stats pu_region_stats(const bmode_image *im, pu_region g, const uint8_t *mask)
{
    int r0, r1, c0, c1;
    region_rc(im, g, &r0, &r1, &c0, &c1);
    double s = 0, s2 = 0, sdb = 0;
    int n = 0;
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) {
            size_t i = (size_t)r * im->cols + c;
            if (mask && !mask[i])
                continue;
            double e = im->envelope[i];
            s += e;
            s2 += e * e;
            sdb += pu_db(im->envelope[i]);
            n++;
        }
    pu_stats st = {n, 0, 0, 0};
    if (n > 1) {
        st.env_mean = s / n;
        st.env_std = sqrt((s2 - s * s / n) / (n - 1));
        st.db_mean = sdb / n;
    }
    return st;
}

uint8_t *pu_label_mask(const bmode_image *im, tissue_id t, int er, int ec)
{
    uint8_t *m = calloc((size_t)im->rows * im->cols, 1);
    assert_non_null(m);
    for (int r = er; r < im->rows - er; r++)
        for (int c = ec; c < im->cols - ec; c++) {
            int ok = 1;
            for (int i = -er; ok && i <= er; i++)
                for (int j = -ec; ok && j <= ec; j++)
                    ok = im->labels[(size_t)(r + i) * im->cols + c + j] == (uint8_t)t;
            m[(size_t)r * im->cols + c] = (uint8_t)ok;
        }
    return m;
}

int pu_mask_count(const bmode_image *im, const uint8_t *mask)
{
    int n = 0;
    for (size_t i = 0; i < (size_t)im->rows * im->cols; i++)
        n += mask[i] != 0;
    return n;
}

void pu_db_profile(const bmode_image *im, int c0, int c1, double *out)
{
    for (int r = 0; r < im->rows; r++) {
        double s = 0;
        for (int c = c0; c <= c1; c++)
            s += pu_db(im->envelope[(size_t)r * im->cols + c]);
        out[r] = s / (c1 - c0 + 1);
    }
}

void pu_linfit(const double *x, const double *y, int i0, int i1, double *slope, double *icpt)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0;
    int n = i1 - i0;
    for (int i = i0; i < i1; i++) {
        sx += x[i];
        sy += y[i];
        sxx += x[i] * x[i];
        sxy += x[i] * y[i];
    }
    double b = (n * sxy - sx * sy) / (n * sxx - sx * sx);
    *slope = b;
    if (icpt)
        *icpt = (sy - b * sx) / n;
}

/* Half-maximum crossing of a normalised autocorrelation acf[0..n) (acf[0] = 1), in lags. */
static double half_lag(const double *acf, int n)
{
    for (int k = 1; k < n; k++)
        if (acf[k] < 0.5)
            return (k - 1) + (acf[k - 1] - 0.5) / (acf[k - 1] - acf[k]);
    return n;
}

#define ACF_MAX_LAG 64

/* Autocovariance of the envelope along rows (axial = 1) or columns, lag 0..max, normalised
 * per line by its own mean and variance and then averaged. */
static double acf_fwhm(const bmode_image *im, pu_region g, int axial)
{
    int r0, r1, c0, c1;
    region_rc(im, g, &r0, &r1, &c0, &c1);
    int nl = axial ? c1 - c0 + 1 : r1 - r0 + 1;  /* independent lines */
    int len = axial ? r1 - r0 + 1 : c1 - c0 + 1; /* samples per line */
    int maxlag = len / 3 < ACF_MAX_LAG ? len / 3 : ACF_MAX_LAG;
    double acc[ACF_MAX_LAG + 1] = {0};
    double *v = malloc(sizeof(double) * (size_t)len);
    assert_non_null(v);
    for (int l = 0; l < nl; l++) {
        double m = 0;
        for (int i = 0; i < len; i++) {
            int r = axial ? r0 + i : r0 + l, c = axial ? c0 + l : c0 + i;
            v[i] = im->envelope[(size_t)r * im->cols + c];
            m += v[i];
        }
        m /= len;
        double var = 0;
        for (int i = 0; i < len; i++) {
            v[i] -= m;
            var += v[i] * v[i];
        }
        var /= len;
        for (int k = 0; k <= maxlag; k++) {
            double s = 0;
            for (int i = 0; i + k < len; i++)
                s += v[i] * v[i + k];
            acc[k] += s / (len - k) / var;
        }
    }
    free(v);
    for (int k = 0; k <= maxlag; k++)
        acc[k] /= nl;
    double step = axial ? im->dz_mm : im->dx_mm;
    return 2.0 * half_lag(acc, maxlag + 1) * step;
}

double pu_acf_fwhm_axial_mm(const bmode_image *im, pu_region g) { return acf_fwhm(im, g, 1); }
double pu_acf_fwhm_lateral_mm(const bmode_image *im, pu_region g) { return acf_fwhm(im, g, 0); }

double pu_correlation(const bmode_image *a, const bmode_image *b, pu_region g, int shift,
                      bool use_intensity)
{
    int r0, r1, c0, c1;
    region_rc(a, g, &r0, &r1, &c0, &c1);
    double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0;
    int n = 0;
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) {
            int cb = c + shift;
            if (cb < 0 || cb >= b->cols)
                continue;
            double x = a->envelope[(size_t)r * a->cols + c];
            double y = b->envelope[(size_t)r * b->cols + cb];
            if (use_intensity) {
                x *= x;
                y *= y;
            }
            sa += x;
            sb += y;
            saa += x * x;
            sbb += y * y;
            sab += x * y;
            n++;
        }
    assert_true(n > 10);
    double cov = sab - sa * sb / n, va = saa - sa * sa / n, vb = sbb - sb * sb / n;
    return cov / sqrt(va * vb);
}

double pu_fwhm_1d(const double *v, int n, double step)
{
    int im = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[im])
            im = i;
    double half = 0.5 * v[im];
    int i = im;
    while (i > 0 && v[i - 1] >= half)
        i--;
    double left = i > 0 ? (i - 1) + (half - v[i - 1]) / (v[i] - v[i - 1]) : 0.0;
    int j = im;
    while (j < n - 1 && v[j + 1] >= half)
        j++;
    double right = j < n - 1 ? j + (v[j] - half) / (v[j] - v[j + 1]) : n - 1.0;
    return (right - left) * step;
}
