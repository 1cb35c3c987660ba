/* PSF: the point-spread function derived from the pulse and the aperture (probe.c), measured on
 * the rendered image of a point reflector alone and held against the physics reference run's
 * profile (tests/data/pymust_psf_L22-14V_profiles.csv: PyMUST SIMUS, L22-14v-like probe, point
 * at 3 mm; ultrasound.md section 2). The main lobe's full widths at -6, -12 and -20 dB must be
 * within 10 % of the reference's, and the first side lobes must be there, near the
 * reference's level and offset; the speckle grain must be the one the reference PSF implies.
 * Then the settings that shape it: receive f-number and transmit focus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"

#define POINT_DEPTH_MM 3.0
#define REF_CSV MESOSIM_SOURCE_DIR "/tests/data/pymust_psf_L22-14V_profiles.csv"
#define MAX_REF 512

typedef struct profile {
    double off[MAX_REF], db[MAX_REF];
    int n;
} profile;

/* The reference's axial or lateral cut, offsets from its peak, envelope in dB. */
static void load_reference(const char *axis, profile *p)
{
    FILE *f = fopen(REF_CSV, "r");
    assert_non_null(f);
    char line[256];
    p->n = 0;
    size_t la = strlen(axis);
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || strncmp(line, axis, la) != 0 || line[la] != ',')
            continue;
        double o, d;
        assert_int_equal(sscanf(line + la + 1, "%lf,%lf", &o, &d), 2);
        assert_true(p->n < MAX_REF);
        p->off[p->n] = o;
        p->db[p->n] = d;
        p->n++;
    }
    fclose(f);
    assert_true(p->n > 50);
}

/* Full width of the main lobe at level db_down below the peak: walking out from the peak
 * sample to the first sample below it on each side, interpolated linearly in dB. */
static double width_at(const profile *p, double db_down)
{
    int im = 0;
    for (int i = 1; i < p->n; i++)
        if (p->db[i] > p->db[im])
            im = i;
    double lvl = p->db[im] - db_down;
    int i = im, j = im;
    while (i > 0 && p->db[i - 1] >= lvl)
        i--;
    while (j < p->n - 1 && p->db[j + 1] >= lvl)
        j++;
    assert_true(i > 0 && j < p->n - 1);
    double l = p->off[i - 1] + (lvl - p->db[i - 1]) / (p->db[i] - p->db[i - 1]) * (p->off[i] - p->off[i - 1]);
    double r = p->off[j] + (p->db[j] - lvl) / (p->db[j] - p->db[j + 1]) * (p->off[j + 1] - p->off[j]);
    return r - l;
}

/* First side lobe on the side of increasing offset: past the first null, the next maximum.
 * Returns its level below the peak (dB, negative) and its offset from the peak. */
static double first_lobe(const profile *p, double *at)
{
    int im = 0;
    for (int i = 1; i < p->n; i++)
        if (p->db[i] > p->db[im])
            im = i;
    int k = im;
    while (k + 1 < p->n && p->db[k + 1] < p->db[k])
        k++;
    while (k + 1 < p->n && p->db[k + 1] >= p->db[k])
        k++;
    assert_true(k + 1 < p->n);
    *at = p->off[k] - p->off[im];
    return p->db[k] - p->db[im];
}

/* Speckle grain the reference PSF implies: the envelope of Rayleigh speckle decorrelates as
 * the squared magnitude of the field's autocorrelation, the PSF's autocorrelation (Wagner et
 * al., IEEE SU 1983), so its autocovariance halves where |R| = 1/sqrt 2. The reference cut is
 * an envelope; the baseband PSF it comes from is real and changes sign at each null. */
static double reference_grain_mm(const profile *p)
{
    double s[MAX_REF];
    int im = 0;
    for (int i = 1; i < p->n; i++)
        if (p->db[i] > p->db[im])
            im = i;
    for (int i = 0; i < p->n; i++)
        s[i] = pow(10.0, p->db[i] / 20.0);
    for (int side = -1; side <= 1; side += 2) {
        double sign = 1.0;
        for (int i = im + side; i >= 0 && i < p->n; i += side) {
            int j = i + side;
            double here = fabs(s[i]);
            if (j >= 0 && j < p->n && here < fabs(s[i - side]) && here < s[j])
                sign = -sign;
            s[i] *= sign;
        }
    }
    double r0 = 0.0, prev = 1.0;
    for (int i = 0; i < p->n; i++)
        r0 += s[i] * s[i];
    for (int lag = 1; lag < p->n; lag++) {
        double r = 0.0;
        for (int i = 0; i + lag < p->n; i++)
            r += s[i] * s[i + lag];
        r /= r0;
        if (r * r < 0.5) {
            double t = (prev * prev - 0.5) / (prev * prev - r * r);
            return 2.0 * (lag - 1 + t) * (p->off[1] - p->off[0]);
        }
        prev = r;
    }
    fail_msg("reference profile too short for its grain");
    return 0.0;
}

/* Speckle of homogeneous dermis on the standard 256-line image: its grain (autocovariance
 * FWHM of the envelope) against the grain the reference PSF implies, within 10 %. */
static void test_speckle_grain_matches_reference(void **state)
{
    (void)state;
    profile rax, rlat;
    load_reference("axial", &rax);
    load_reference("lateral", &rlat);
    double gax = reference_grain_mm(&rax), glat = reference_grain_mm(&rlat);
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 7);
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 5.0);
    p.tgc_db_cm_mhz = d.tissues.t[TISSUE_DERMIS].atten_db_cm_mhz;
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    pu_region g = {1.5, 4.5, -5.5, 5.5};
    double ax = pu_acf_fwhm_axial_mm(&im, g), lat = pu_acf_fwhm_lateral_mm(&im, g);
    printf("speckle grain at 1.5-4.5 mm: axial %.3f mm (reference PSF implies %.3f, %+.1f %%), "
           "lateral %.3f mm (%.3f, %+.1f %%)\n", ax, gax, 100.0 * (ax / gax - 1.0), lat, glat,
           100.0 * (lat / glat - 1.0));
    assert_true(fabs(ax / gax - 1.0) <= 0.10 && fabs(lat / glat - 1.0) <= 0.10);
    phantom_destroy(ph);
}

/* Dermis with no backscatter (no speckle, no interfaces) holding one point reflector. */
static phantom *point_phantom(double x, double z)
{
    phantom_def d = pu_uniform_def(TISSUE_DERMIS, 1);
    d.tissues.t[TISSUE_DERMIS].backscatter = 0.0;
    d.n_inclusions = 1;
    d.inclusions[0] = (phantom_inclusion){.kind = PHANTOM_POINT, .tissue = TISSUE_DERMIS,
                                          .c_mm = {x, 0.0, z}, .amplitude = 100.0};
    return pu_phantom(&d);
}

/* Renders a point at depth z on the centre line of probe p; its axial and lateral cuts through
 * the envelope's peak. */
static void render_point(const probe_def *p, double z, profile *ax, profile *lat)
{
    double dx, x0;
    bmode_geometry(p, NULL, NULL, NULL, &dx, &x0);
    int mid = p->n_lines / 2;
    phantom *ph = point_phantom(x0 + mid * dx, z);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, p, &pose, &im);
    int pr = 0, pc = 0;
    float best = -1;
    for (int r = 0; r < im.rows; r++)
        for (int c = 0; c < im.cols; c++)
            if (im.envelope[(size_t)r * im.cols + c] > best) {
                best = im.envelope[(size_t)r * im.cols + c];
                pr = r;
                pc = c;
            }
    assert_int_equal(pc, mid);
    assert_true(fabs(pu_row_z(&im, pr) - z) < 2 * im.dz_mm);
    int ha = (int)(0.3 / im.dz_mm), hl = (int)(0.45 / im.dx_mm);
    assert_true(pr - ha >= 0 && pr + ha < im.rows && pc - hl >= 0 && pc + hl < im.cols);
    assert_true(2 * ha + 1 <= MAX_REF && 2 * hl + 1 <= MAX_REF);
    ax->n = lat->n = 0;
    for (int r = pr - ha; r <= pr + ha; r++) {
        ax->off[ax->n] = (r - pr) * im.dz_mm;
        ax->db[ax->n++] = 20.0 * log10(im.envelope[(size_t)r * im.cols + pc] / best + 1e-9);
    }
    for (int c = pc - hl; c <= pc + hl; c++) {
        lat->off[lat->n] = (c - pc) * im.dx_mm;
        lat->db[lat->n++] = 20.0 * log10(im.envelope[(size_t)pr * im.cols + c] / best + 1e-9);
    }
    phantom_destroy(ph);
}

/* 1024 lines (dx 0.0125 mm) so the lateral cut is sampled finely enough to read -20 dB. */
static void test_point_profile_matches_reference(void **state)
{
    (void)state;
    profile rax, rlat, ax, lat;
    load_reference("axial", &rax);
    load_reference("lateral", &rlat);
    probe_def p = pu_probe(1024, 5.0);
    render_point(&p, POINT_DEPTH_MM, &ax, &lat);
    const double lv[3] = {6.0, 12.0, 20.0};
    for (int i = 0; i < 3; i++) {
        double wa = width_at(&ax, lv[i]), ra = width_at(&rax, lv[i]);
        double wl = width_at(&lat, lv[i]), rl = width_at(&rlat, lv[i]);
        printf("-%2.0f dB full width: axial %.3f mm (reference %.3f, %+.1f %%), lateral %.3f mm "
               "(reference %.3f, %+.1f %%)\n", lv[i], wa, ra, 100.0 * (wa / ra - 1.0), wl, rl,
               100.0 * (wl / rl - 1.0));
        assert_true(fabs(wa / ra - 1.0) <= 0.10);
        assert_true(fabs(wl / rl - 1.0) <= 0.10);
    }
    double at_a, at_ra, at_l, at_rl;
    double la = first_lobe(&ax, &at_a), lra = first_lobe(&rax, &at_ra);
    double ll = first_lobe(&lat, &at_l), lrl = first_lobe(&rlat, &at_rl);
    printf("first side lobe: axial %.1f dB at %.3f mm (reference %.1f dB at %.3f), lateral %.1f dB "
           "at %.3f mm (reference %.1f dB at %.3f)\n", la, at_a, lra, at_ra, ll, at_l, lrl, at_rl);
    /* Side lobes exist (a Gaussian PSF has none: its cut falls monotonically past -40 dB) at
     * the reference's level within 4 dB and its offset within 20 %. */
    assert_true(fabs(la - lra) <= 4.0 && fabs(ll - lrl) <= 4.0);
    assert_true(fabs(at_a / at_ra - 1.0) <= 0.20 && fabs(at_l / at_rl - 1.0) <= 0.20);
}

/* The model's lateral profile follows the settings: a smaller receive f-number opens the
 * aperture (narrower at a depth where the array does not cap it), and at a depth where the
 * receive aperture is capped by the array the transmit focus narrows the beam at its depth. */
static void test_settings_shape_the_beam(void **state)
{
    (void)state;
    probe_def p = probe_default_def();
    double w135 = probe_lateral_fwhm_mm(&p, 3.0);
    p.rx_fnumber = 2.7;
    double w27 = probe_lateral_fwhm_mm(&p, 3.0);
    printf("lateral -6 dB at 3 mm: %.3f mm at F# 1.35, %.3f mm at F# 2.7\n", w135, w27);
    assert_true(w27 / w135 > 1.7 && w27 / w135 < 2.3);
    p = probe_default_def();
    p.depth_mm = 30.0;
    p.tx_focus_mm = 25.0;
    double at_focus = probe_lateral_fwhm_mm(&p, 25.0);
    p.tx_focus_mm = 8.0;
    double off_focus = probe_lateral_fwhm_mm(&p, 25.0);
    printf("lateral -6 dB at 25 mm: %.3f mm with the transmit focus there, %.3f mm focused at 8 mm\n",
           at_focus, off_focus);
    assert_true(at_focus < 0.85 * off_focus);
    /* And the rendered image follows the model: widths measured on it. */
    profile ax, lat;
    p = pu_probe(1024, 5.0);
    p.rx_fnumber = 2.7;
    render_point(&p, POINT_DEPTH_MM, &ax, &lat);
    double wl = width_at(&lat, 6.0);
    printf("rendered at F# 2.7: lateral -6 dB %.3f mm (model %.3f)\n", wl, w27);
    assert_true(fabs(wl / w27 - 1.0) <= 0.10);
    p = pu_probe(1024, 5.0);
    p.tx_focus_mm = POINT_DEPTH_MM;
    double wf = probe_lateral_fwhm_mm(&p, POINT_DEPTH_MM);
    render_point(&p, POINT_DEPTH_MM, &ax, &lat);
    wl = width_at(&lat, 6.0);
    printf("rendered with the transmit focus at the point: lateral -6 dB %.3f mm (model %.3f, "
           "%.3f focused at 8 mm)\n", wl, wf, w135);
    assert_true(fabs(wl / wf - 1.0) <= 0.10 && wf < 0.95 * w135);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_point_profile_matches_reference),
        cmocka_unit_test(test_settings_shape_the_beam),
        cmocka_unit_test(test_speckle_grain_matches_reference),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
