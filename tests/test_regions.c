/* Regions (sim/core/region.h): every preset is complete and cited, the library's region cases
 * hold their preset's layers, and in a rendered image of each region (adults, and adolescents
 * where a preset exists) the dermis-fat junction and the top of the deep fascia are found
 * where the region's table puts them. The tendon of the elbow and knee is bright with the
 * probe square to it and loses that brightness when the probe rocks (Crass et al. 1988:
 * isoechoic at 2-7 deg, hypoechoic beyond), while the fat above does not. The cohort draws
 * patients for a region with that region's skin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "cohort.h"
#include "physics_util.h"
#include "region.h"
#include "scenario.h"

static const char *const k_cases[][2] = {
    {"neck_trapezius", "neck"},
    {"shoulder_deltoid", "shoulder"},
    {"lateral_elbow", "lateral_elbow"},
    {"knee_peripatellar", "knee"},
};

static void test_presets_are_complete_and_cited(void **state)
{
    (void)state;
    int n_adolescent = 0;
    for (int i = 0; i < REGION_COUNT; i++) {
        region_id back;
        assert_true(region_from_name(region_name((region_id)i), &back));
        assert_int_equal(back, i);
        for (int a = 0; a < 2; a++) {
            const region_preset *r = region_preset_get((region_id)i, a);
            if (!r) {
                assert_true(a == 1); /* every region has an adult preset */
                continue;
            }
            n_adolescent += a;
            assert_true(r->n_layers >= 6 && r->n_layers <= PHANTOM_MAX_LAYERS);
            assert_int_equal(r->layers[2].tissue, TISSUE_DERMIS);
            for (int k = 0; k < r->n_layers; k++) {
                assert_non_null(r->layers[k].source);
                assert_true(strlen(r->layers[k].source) > 20);
                if (k < r->n_layers - 1)
                    assert_true(r->layers[k].thickness_mm > 0.0);
            }
            /* Skin within the published range of every site measured (0.79 foot to 2.54 mm
             * suprascapular, anatomy.md 2). */
            double skin = region_skin_mm(r);
            assert_true(skin > 0.79 && skin <= 2.6);
            print_message("%-14s %-10s skin %.2f mm, fat %.2f mm, %d layers, %d bones\n", r->key,
                          a ? "adolescent" : "adult", skin, region_fat_mm(r), r->n_layers, r->n_bones);
        }
    }
    assert_true(n_adolescent >= 3);
    assert_null(region_preset_get(REGION_COUNT, false));
    region_id x;
    assert_false(region_from_name("elbow_left", &x));
    /* Bone close under the skin at the elbow and knee, tendons there. */
    for (int i = REGION_ELBOW; i <= REGION_KNEE; i++) {
        const region_preset *r = region_preset_get((region_id)i, false);
        assert_true(r->n_bones == 1 && r->bones[0].depth_mm < 10.0);
        bool tendon = false;
        for (int k = 0; k < r->n_layers; k++)
            tendon |= r->layers[k].tissue == TISSUE_TENDON;
        assert_true(tendon);
    }
}

static void test_library_cases_hold_their_preset(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof k_cases / sizeof k_cases[0]; i++) {
        scenario s = pu_load_preset(k_cases[i][0]);
        region_id id;
        assert_true(region_from_name(s.patient.region, &id));
        assert_string_equal(region_name(id), k_cases[i][1]);
        const region_preset *r = region_preset_get(id, s.patient.age_years < 18);
        assert_int_equal(s.phantom.n_layers, r->n_layers);
        for (int k = 0; k < r->n_layers; k++) {
            assert_int_equal(s.phantom.layers[k].tissue, r->layers[k].tissue);
            if (k < r->n_layers - 1)
                assert_float_equal(s.phantom.layers[k].thickness_mm, r->layers[k].thickness_mm, 1e-9);
            assert_string_equal(s.layer_source[k], r->layers[k].source);
        }
        assert_int_equal(s.phantom.n_bones, r->n_bones);
        for (int k = 0; k < r->n_bones; k++) {
            const phantom_bone_def *a = &s.phantom.bones[k], *b = &r->bones[k];
            assert_int_equal(a->kind, b->kind);
            assert_true(a->x_mm == b->x_mm && a->y_mm == b->y_mm && a->depth_mm == b->depth_mm &&
                        a->width_mm == b->width_mm && a->length_mm == b->length_mm &&
                        a->height_mm == b->height_mm && a->angle_deg == b->angle_deg);
        }
    }
}

/* The adult back case carrying preset r (the probe, plan and seed of the back, no vessels,
 * no surface features). */
static scenario region_scenario(const region_preset *r)
{
    scenario s = pu_load_preset("adult_back");
    region_apply(r, &s);
    s.phantom.n_vessels = 0;
    s.phantom.n_features = 0;
    /* Flat layers, so the table's depths are the truth under every line. */
    for (int k = 0; k < s.phantom.n_layers; k++)
        s.phantom.layers[k].variation = 0.0;
    s.probe.n_lines = 128;
    return s;
}

static int layer_of(const region_preset *r, tissue_id t)
{
    for (int k = 0; k < r->n_layers; k++)
        if (r->layers[k].tissue == t)
            return k;
    return -1;
}

static void smooth(const double *in, double *out, int n, int half)
{
    for (int r = 0; r < n; r++) {
        double a = 0;
        int m = 0;
        for (int k = -half; k <= half; k++)
            if (r + k >= 0 && r + k < n) {
                a += in[r + k];
                m++;
            }
        out[r] = a / m;
    }
}

static double median_of(double *v, int n)
{
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1];
            v[j - 1] = t;
        }
    return v[n / 2];
}

/* In blocks of 16 lines (those with no bone above the fascia): the dermis-fat junction is the first row
 * below the entry echo where the smoothed profile falls 6 dB under the dermis's level (its
 * median between 0.4 mm and the table's junction less half a millimetre) and stays there for
 * three rows; the deep fascia's top is the first row, going down from the deep fat, where
 * the profile stays 12 dB over the deep fat's median for 0.3 mm. Each median over the blocks must lie within one
 * axial resolution cell of the table. */
static void check_region_image(const region_preset *r)
{
    scenario s = region_scenario(r);
    phantom *ph = pu_phantom(&s.phantom);
    bmode_image im;
    pu_render(pu_bm, ph, &s.probe, &s.pose, &im);
    double cell = probe_axial_fwhm_mm(&s.probe);
    int fat = layer_of(r, TISSUE_FAT), sf = layer_of(r, TISSUE_SUPERFICIAL_FASCIA),
        df = layer_of(r, TISSUE_DEEP_FASCIA);
    assert_true(fat > 0 && sf > fat && df > sf);
    double z_fat = region_layer_top_mm(r, fat), z_df = region_layer_top_mm(r, df),
           z_sf_bottom = region_layer_top_mm(r, sf + 1);
    double *prof = malloc(sizeof(double) * (size_t)im.rows), *sm = malloc(sizeof(double) * (size_t)im.rows);
    assert_non_null(prof);
    assert_non_null(sm);
    double e_j[64], e_f[64];
    int n = 0;
    int half = (int)lround(0.25 * cell / im.dz_mm);
    for (int c0 = 0; c0 + 16 <= im.cols; c0 += 16) {
        bool bone = false; /* a bone shallower than the fascia hides what is under it */
        for (int rr = 0; rr <= pu_row(&im, z_df + 1.0) && !bone; rr++)
            for (int c = c0; c < c0 + 16; c++)
                bone |= im.labels[(size_t)rr * im.cols + c] == TISSUE_BONE;
        if (bone)
            continue;
        pu_db_profile(&im, c0, c0 + 15, prof);
        smooth(prof, sm, im.rows, half);
        int a = pu_row(&im, 0.4), b = pu_row(&im, z_fat - 0.5);
        double lv[512];
        int m = 0;
        for (int k = a; k <= b && m < 512; k++)
            lv[m++] = sm[k];
        double dermis = median_of(lv, m);
        int k = pu_row(&im, z_fat - 0.7);
        while (k + 3 < im.rows && !(sm[k + 1] < dermis - 6 && sm[k + 2] < dermis - 6 && sm[k + 3] < dermis - 6))
            k++;
        double junction = pu_row_z(&im, k + 1);
        a = pu_row(&im, z_sf_bottom + 0.3);
        b = pu_row(&im, z_df - 0.3);
        m = 0;
        for (int q = a; q <= b && m < 512; q++)
            lv[m++] = sm[q];
        double deep_fat = median_of(lv, m > 0 ? m : 1);
        /* The fascia is a sheet of 0.5-1.3 mm: bright over 0.3 mm, where a septum of the deep
         * fat is a line the PSF spreads over about one cell. */
        int run = (int)lround(0.3 / im.dz_mm);
        k = a;
        for (;;) {
            int q = 0;
            while (q < run && k + q < im.rows && sm[k + q] >= deep_fat + 12)
                q++;
            if (q == run || k + run >= im.rows)
                break;
            k++;
        }
        double fascia = pu_row_z(&im, k);
        e_j[n] = junction - z_fat;
        e_f[n] = fascia - z_df;
        n++;
    }
    assert_true(n >= 3);
    double mj = median_of(e_j, n), mf = median_of(e_f, n);
    print_message("%-14s %-10s dermis-fat %.3f mm: found %+.3f; deep fascia %.3f mm: found %+.3f "
                  "(median over %d blocks; cell %.3f mm)\n",
                  r->key, r->adolescent ? "adolescent" : "adult", z_fat, mj, z_df, mf, n, cell);
    assert_true(fabs(mj) <= cell);
    assert_true(fabs(mf) <= cell);
    free(prof);
    free(sm);
    phantom_destroy(ph);
}

static void test_layer_boundaries_in_each_region(void **state)
{
    (void)state;
    for (int i = 0; i < REGION_COUNT; i++)
        for (int a = 0; a < 2; a++) {
            const region_preset *r = region_preset_get((region_id)i, a);
            if (r)
                check_region_image(r);
        }
}

/* Mean dB of the pixels labelled t (eroded by 2 rows and columns). */
static double tissue_db(const bmode_image *im, tissue_id t)
{
    uint8_t *m = pu_label_mask(im, t, 2, 2);
    pu_stats st = pu_region_stats(im, (pu_region){-1e3, 1e3, -1e3, 1e3}, m);
    free(m);
    assert_true(st.n > 200);
    return st.db_mean;
}

static void test_tendon_is_bright_square_on_and_anisotropic(void **state)
{
    (void)state;
    for (int i = REGION_ELBOW; i <= REGION_KNEE; i++) {
        scenario s = region_scenario(region_preset_get((region_id)i, false));
        /* Off the bone (the knee's patella lies to the right): the probe centred at x -6. */
        s.pose.x_mm = -6.0;
        phantom *ph = pu_phantom(&s.phantom);
        bmode_image im;
        pu_render(pu_bm, ph, &s.probe, &s.pose, &im);
        double t0 = tissue_db(&im, TISSUE_TENDON), f0 = tissue_db(&im, TISSUE_FAT);
        s.pose.rock_deg = 12.0;
        pu_render(pu_bm, ph, &s.probe, &s.pose, &im);
        double t1 = tissue_db(&im, TISSUE_TENDON), f1 = tissue_db(&im, TISSUE_FAT);
        print_message("%s: tendon %.1f dB square on, %.1f dB rocked 12 deg; fat above %.1f / %.1f dB\n",
                      region_name((region_id)i), t0, t1, f0, f1);
        /* Square on: brighter than the fat above it by more than 6 dB, "clearly more
         * echogenic". Rocked past 7 deg: the specular excess gone, its contrast to the same
         * fat down by more than 8 dB (the fat itself has no specular part). */
        assert_true(t0 > f0 + 6.0);
        assert_true((t0 - f0) - (t1 - f1) > 8.0);
        phantom_destroy(ph);
    }
}

static void test_cohort_draws_for_a_region(void **state)
{
    (void)state;
    const region_preset *back = region_preset_get(REGION_LUMBAR, false), *elbow = region_preset_get(REGION_ELBOW, false);
    double sum_back = 0, sum_elbow = 0;
    for (int i = 10; i < 20; i++) {
        cohort_patient p = cohort_patient_draw(7, i), q = cohort_patient_in_region(&p, REGION_ELBOW);
        sum_back += p.skin_mm;
        sum_elbow += q.skin_mm;
        assert_float_equal(q.skin_mm / p.skin_mm, region_skin_mm(elbow) / region_skin_mm(back), 1e-12);
        assert_float_equal(q.fat_mm / p.fat_mm, region_fat_mm(elbow) / region_fat_mm(back), 1e-12);
        cohort_patient same = cohort_patient_in_region(&p, REGION_LUMBAR);
        assert_float_equal(same.skin_mm, p.skin_mm, 0.0);
        scenario base = pu_load_preset("adult_back"), sc;
        region_apply(elbow, &base);
        char err[256];
        if (!cohort_scenario(&q, &base, 7, &sc, err, sizeof err))
            print_error("patient %d: %s\n", i, err);
        assert_true(scenario_check(&sc, &(scenario_diags){0}) == 0);
        assert_string_equal(sc.patient.region, "lateral_elbow");
        assert_non_null(strstr(sc.description, "epicondylitis"));
        double skin = 0;
        for (int k = 0; k < 3; k++)
            skin += sc.phantom.layers[k].thickness_mm;
        assert_float_equal(skin, q.skin_mm, 1e-9);
    }
    print_message("adult cohort (seed 7): mean skin %.2f mm on the back, %.2f mm at the lateral elbow\n",
                  sum_back / 10, sum_elbow / 10);
    assert_true(sum_elbow < 0.7 * sum_back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_presets_are_complete_and_cited),
        cmocka_unit_test(test_library_cases_hold_their_preset),
        cmocka_unit_test(test_layer_boundaries_in_each_region),
        cmocka_unit_test(test_tendon_is_bright_square_on_and_anisotropic),
        cmocka_unit_test(test_cohort_draws_for_a_region),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
