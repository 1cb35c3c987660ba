/* Deposits and scale in the image: a dermal bleb has an irregular border and posterior
 * enhancement; a hyperkeratotic scale shadows the dermis.
 *
 * A fresh liquid deposit is anechoic with posterior reinforcement (Urdiales-Galvez 2021,
 * anatomy.md 7): the fluid attenuates far less than the dermis it replaces. Hyperkeratotic
 * plaques show a widened entry echo and dorsal shadows below the markedly hyperkeratotic
 * areas (el Gammal et al., Acta Derm Venereol Suppl 186, 50 MHz; anatomy.md 6). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "drug.h"
#include "physics_util.h"

static void render_with(const phantom *ph, const probe_def *p, const phantom_inclusion *dyn, int n_dyn,
                        bmode_image *out)
{
    bmode_scene sc = {.ph = ph, .probe = *p, .pose = probe_default_pose(), .dyn = dyn, .n_dyn = n_dyn};
    char err[256] = "";
    if (bmode_render(pu_bm, &sc, out, err, sizeof err) != 0)
        fail_msg("bmode_render: %s", err);
}

/* A 0.1 mL bleb of lidocaine in the adult back's dermis under the probe centre. */
static phantom_inclusion dermal_bleb(void)
{
    drug_def dd = drug_default_def();
    drug_deposit dep = {.kind = DRUG_LIDOCAINE, .site = DRUG_SITE_DERMIS, .c_mm = {0.0, 0.0, 1.3},
                        .volume_ml = 0.1, .t_start_s = 0.0, .t_end_s = 2.0};
    phantom_inclusion b[DRUG_MAX_SHAPES];
    int n = drug_shapes(&dd, &dep, 2.0, b, DRUG_MAX_SHAPES);
    assert_int_equal(n, 1);
    return b[0];
}

/* The bleb's outline in the label image: for each column its half height h(x). An ellipse
 * has h^2 = A - B x^2 exactly; the residual of that straight-line fit, against the largest
 * h^2, says how far the border strays from an ellipse. */
static double ellipse_misfit(const bmode_image *im)
{
    double xs[1024], hs[1024];
    int n = 0;
    for (int c = 0; c < im->cols && n < 1024; c++) {
        int top = -1, bot = -1;
        for (int r = 0; r < im->rows; r++)
            if (im->labels[(size_t)r * im->cols + c] == TISSUE_FLUID) {
                if (top < 0)
                    top = r;
                bot = r;
            }
        if (top < 0 || bot - top < 4)
            continue;
        double h = 0.5 * (bot - top + 1) * im->dz_mm;
        xs[n] = pu_col_x(im, c) * pu_col_x(im, c);
        hs[n++] = h * h;
    }
    assert_true(n > 20);
    double slope, icpt, hmax = 0, ss = 0;
    pu_linfit(xs, hs, 0, n, &slope, &icpt);
    for (int i = 0; i < n; i++) {
        double e = hs[i] - (icpt + slope * xs[i]);
        ss += e * e;
        hmax = hs[i] > hmax ? hs[i] : hmax;
    }
    return sqrt(ss / n) / hmax;
}

static void test_bleb_border_irregular(void **state)
{
    (void)state;
    phantom_def d = phantom_default_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 6.0);
    phantom_inclusion b = dermal_bleb();
    assert_true(b.border_irregularity > 0.0);
    bmode_image im;
    render_with(ph, &p, &b, 1, &im);
    double irregular = ellipse_misfit(&im);
    phantom_inclusion e = b;
    e.border_irregularity = 0.0;
    render_with(ph, &p, &e, 1, &im);
    double plain = ellipse_misfit(&im);
    /* The border factor keeps the volume: its mean square around the bleb is 1. */
    double msq = 0;
    for (int k = 0; k < 360; k++) {
        double a = k * 3.14159265358979 / 180.0;
        double q[3] = {b.c_mm[0] + b.radii_mm[0] * cos(a), b.c_mm[1] + b.radii_mm[1] * sin(a), b.c_mm[2]};
        double f = phantom_inclusion_border_scale(&b, q);
        msq += f * f / 360.0;
    }
    printf("bleb outline against the best ellipse: rms misfit %.3f (plain ellipsoid %.3f); border "
           "factor mean square %.4f\n", irregular, plain, msq);
    assert_true(irregular > 3.0 * plain);
    assert_true(irregular > 0.02);
    assert_true(fabs(msq - 1.0) < 0.01);
    phantom_destroy(ph);
}

/* Mean dB of an image box. */
static double box_db(const bmode_image *im, pu_region g) { return pu_region_stats(im, g, NULL).db_mean; }

static void test_bleb_posterior_enhancement(void **state)
{
    (void)state;
    phantom_def d = phantom_default_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 8.0);
    phantom_inclusion b = dermal_bleb();
    bmode_image with, without;
    render_with(ph, &p, &b, 1, &with);
    float *env = malloc(sizeof(float) * (size_t)with.rows * with.cols);
    memcpy(env, with.envelope, sizeof(float) * (size_t)with.rows * with.cols);
    render_with(ph, &p, NULL, 0, &without);
    bmode_image w = with;
    w.envelope = env;
    double below = b.c_mm[2] + b.radii_mm[2] + 0.3;
    pu_region under = {below, below + 2.5, -1.5, 1.5};
    pu_region aside = {below, below + 2.5, -6.3, -5.0};
    double enh = (box_db(&w, under) - box_db(&without, under)) - (box_db(&w, aside) - box_db(&without, aside));
    printf("posterior enhancement below a 0.1 mL dermal bleb (%.2f mm thick): %+.1f dB\n", 2 * b.radii_mm[2], enh);
    /* The fluid's path replaces dermis losing 2 x 1.06 dB/cm/MHz x 18 MHz, 3.8 dB per mm. */
    assert_true(enh > 2.0);
    free(env);
    phantom_destroy(ph);
}

/* Per column, the depth of the shallowest liquid pixel; returns the std over the columns that
 * have one and the liquid's pixel count. */
static double liquid_top_spread(const bmode_image *im, int *px)
{
    double s = 0, ss = 0;
    int n = 0;
    *px = 0;
    for (int c = 0; c < im->cols; c++) {
        int top = -1;
        for (int r = 0; r < im->rows; r++)
            if (im->labels[(size_t)r * im->cols + c] == TISSUE_FLUID) {
                if (top < 0)
                    top = r;
                (*px)++;
            }
        if (top >= 0) {
            double z = top * im->dz_mm;
            s += z;
            ss += z * z;
            n++;
        }
    }
    return n > 1 ? sqrt(ss / n - (s / n) * (s / n)) : 0.0;
}

/* 0.1 mL of liquid in the superficial fat: it tracks the lobule borders, so its upper edge is
 * not one straight line across the image, and about as much liquid shows as the plain sheet. */
static void test_liquid_in_fat_follows_lobules(void **state)
{
    (void)state;
    phantom_def d = phantom_default_def();
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 8.0);
    drug_def dd = drug_default_def();
    drug_deposit dep = {.kind = DRUG_LIDOCAINE, .site = DRUG_SITE_FAT, .c_mm = {0.0, 0.0, 4.0},
                        .volume_ml = 0.1, .t_start_s = 0.0, .t_end_s = 2.0};
    phantom_inclusion b[DRUG_MAX_SHAPES];
    assert_int_equal(drug_shapes(&dd, &dep, 2.0, b, DRUG_MAX_SHAPES), 1);
    assert_true(b[0].follows_lobules);
    bmode_image im;
    render_with(ph, &p, b, 1, &im);
    int px, px_plain;
    double spread = liquid_top_spread(&im, &px);
    b[0].follows_lobules = false;
    render_with(ph, &p, b, 1, &im);
    double plain = liquid_top_spread(&im, &px_plain);
    printf("liquid in fat: upper edge std %.3f mm over the columns (plain sheet %.3f mm), %d px (sheet %d)\n",
           spread, plain, px, px_plain);
    assert_true(spread > 0.1 && spread > 3.0 * plain);
    assert_true(px > px_plain / 3 && px < 3 * px_plain);
    phantom_destroy(ph);
}

/* The hyperkeratosis case against the same case with normal scale (15 um, default stratum
 * corneum): the dermis is darker below the scale, and unevenly so (patchy dorsal shadows). */
static void test_hyperkeratosis_scale_shadow(void **state)
{
    (void)state;
    scenario s = pu_load_preset("hyperkeratosis");
    scenario n = s;
    tissue_table def = tissue_default_table();
    n.phantom.layers[0].thickness_mm = 0.015;
    n.phantom.tissues.t[TISSUE_STRATUM_CORNEUM] = def.t[TISSUE_STRATUM_CORNEUM];
    assert_int_equal(s.phantom.layers[0].tissue, TISSUE_STRATUM_CORNEUM);
    phantom *hk = pu_phantom(&s.phantom), *nm = pu_phantom(&n.phantom);
    bmode_image a, b;
    pu_render(pu_bm, hk, &s.probe, &s.pose, &a);
    size_t np = (size_t)a.rows * a.cols;
    float *env = malloc(sizeof(float) * np);
    uint8_t *lab = malloc(np);
    memcpy(env, a.envelope, sizeof(float) * np);
    memcpy(lab, a.labels, np);
    a.envelope = env;
    a.labels = lab;
    pu_render(pu_bm, nm, &n.probe, &n.pose, &b);
    /* Dermis columns: the mean dB of each column's dermis (eroded), under scale and not. */
    uint8_t *ma = pu_label_mask(&a, TISSUE_DERMIS, 6, 0), *mb = pu_label_mask(&b, TISSUE_DERMIS, 6, 0);
    double diff[2048];
    int nc = 0;
    double mean = 0;
    for (int c = 0; c < a.cols && nc < 2048; c++) {
        double sa = 0, sb = 0;
        int ka = 0, kb = 0;
        for (int r = 0; r < a.rows; r++) {
            size_t i = (size_t)r * a.cols + c;
            if (ma[i]) {
                sa += pu_db(a.envelope[i]);
                ka++;
            }
            if (mb[i]) {
                sb += pu_db(b.envelope[i]);
                kb++;
            }
        }
        if (ka > 20 && kb > 20) {
            diff[nc] = sb / kb - sa / ka;
            mean += diff[nc++];
        }
    }
    assert_true(nc > 100);
    mean /= nc;
    /* Patchiness: the spread of the darkening over 0.5 mm wide strips. */
    int strip = (int)(0.5 / a.dx_mm);
    double lo = 1e9, hi = -1e9;
    for (int c0 = 0; c0 + strip <= nc; c0 += strip) {
        double m = 0;
        for (int c = c0; c < c0 + strip; c++)
            m += diff[c] / strip;
        lo = m < lo ? m : lo;
        hi = m > hi ? m : hi;
    }
    printf("dermis under hyperkeratotic scale: %.1f dB darker than under normal skin on average, "
           "%.1f to %.1f dB over 0.5 mm strips\n", mean, lo, hi);
    assert_true(mean > 3.0);
    assert_true(hi - lo > 3.0);
    free(ma);
    free(mb);
    free(env);
    free(lab);
    phantom_destroy(hk);
    phantom_destroy(nm);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bleb_border_irregular),
        cmocka_unit_test(test_bleb_posterior_enhancement),
        cmocka_unit_test(test_liquid_in_fat_follows_lobules),
        cmocka_unit_test(test_hyperkeratosis_scale_shadow),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
