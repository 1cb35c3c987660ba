/* The case report's cohort (sim/core/cohort): the make-up (10 adolescents 14-16, 5 M 5 F; 10
 * adults, 6 M 4 F), determinism per seed, every generated case validating, and the drawn
 * thickness distributions against the sources' means and spreads within sampling error
 * (2000 patients per group). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cohort.h"
#include "scenario.h"

#define N_DRAWS 2000

static scenario load_base(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/%s.json", MESOSIM_SOURCE_DIR, name);
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(path, &sc, &d));
    scenario_diags_free(&d);
    return sc;
}

static void test_make_up_of_the_case_report(void **state)
{
    (void)state;
    int count[COHORT_GROUP_COUNT] = {0};
    for (int i = 0; i < COHORT_SIZE; i++) {
        cohort_patient p = cohort_patient_draw(7, i);
        assert_int_equal(p.index, i);
        count[p.group]++;
        bool adolescent = p.group == COHORT_ADOLESCENT_MALE || p.group == COHORT_ADOLESCENT_FEMALE;
        if (adolescent) {
            assert_true(p.age_years >= 14 && p.age_years <= 16);
            assert_true(p.age_years == floor(p.age_years));
        } else {
            assert_true(p.age_years >= 18);
        }
    }
    assert_int_equal(count[COHORT_ADOLESCENT_MALE], 5);
    assert_int_equal(count[COHORT_ADOLESCENT_FEMALE], 5);
    assert_int_equal(count[COHORT_ADULT_MALE], 6);
    assert_int_equal(count[COHORT_ADULT_FEMALE], 4);
}

static void test_same_seed_same_patients(void **state)
{
    (void)state;
    int differ = 0;
    for (int i = 0; i < COHORT_SIZE; i++) {
        cohort_patient a = cohort_patient_draw(42, i), b = cohort_patient_draw(42, i),
                       c = cohort_patient_draw(43, i);
        assert_memory_equal(&a, &b, sizeof a);
        differ += a.skin_mm != c.skin_mm;
    }
    assert_true(differ >= COHORT_SIZE - 1);
}

static void test_every_generated_case_validates(void **state)
{
    (void)state;
    scenario adult = load_base("adult_back"), adolescent = load_base("adolescent_back");
    for (uint32_t seed = 0; seed < 50; seed++) {
        for (int i = 0; i < COHORT_SIZE; i++) {
            cohort_patient p = cohort_patient_draw(seed, i);
            bool is_adult = p.group == COHORT_ADULT_MALE || p.group == COHORT_ADULT_FEMALE;
            scenario sc;
            char err[512];
            bool ok = cohort_scenario(&p, is_adult ? &adult : &adolescent, seed, &sc, err,
                                      sizeof err);
            if (!ok)
                print_error("seed %u patient %d: %s\n", seed, i + 1, err);
            assert_true(ok);
            /* The saved text loads back to the same case (what `mesosim cohort` writes). */
            char *text = scenario_save_string(&sc);
            scenario back;
            scenario_diags d = {0};
            assert_true(scenario_load_string(text, &back, &d));
            char *again = scenario_save_string(&back);
            assert_string_equal(text, again);
            free(text);
            free(again);
            /* The skin above the fat is the drawn skin. */
            double skin = 0;
            for (int k = 0; k < back.phantom.n_layers; k++) {
                skin += back.phantom.layers[k].thickness_mm;
                if (back.phantom.layers[k].tissue == TISSUE_DERMIS)
                    break;
            }
            assert_float_equal(skin, p.skin_mm, 1e-9);
            assert_string_equal(back.patient.sex,
                                cohort_group_of(p.group)->female ? "female" : "male");
        }
    }
}

typedef struct moments {
    double mean, sd, se_mean, se_sd, slope_bmi, se_slope;
} moments;

/* Sample mean and SD of a thickness over N_DRAWS patients of group g, their standard errors
 * (the SD's from the sample's fourth moment, so a skewed log-normal gets its wider error),
 * and the least-squares slope on BMI with its error. */
static moments sample(cohort_group g, bool fat)
{
    static double x[N_DRAWS], b[N_DRAWS];
    double sx = 0, sb = 0;
    for (int k = 0; k < N_DRAWS; k++) {
        cohort_patient p = cohort_patient_draw_group(20261201u, g, (uint32_t)k);
        x[k] = fat ? p.fat_mm : p.skin_mm;
        b[k] = p.bmi_kg_m2;
        sx += x[k];
        sb += b[k];
    }
    moments m;
    m.mean = sx / N_DRAWS;
    double mb = sb / N_DRAWS, m2 = 0, m4 = 0, sxb = 0, sbb = 0;
    for (int k = 0; k < N_DRAWS; k++) {
        double d = x[k] - m.mean;
        m2 += d * d;
        m4 += d * d * d * d;
        sxb += d * (b[k] - mb);
        sbb += (b[k] - mb) * (b[k] - mb);
    }
    m2 /= N_DRAWS;
    m4 /= N_DRAWS;
    m.sd = sqrt(m2);
    m.se_mean = m.sd / sqrt(N_DRAWS);
    m.se_sd = sqrt((m4 - m2 * m2) / N_DRAWS) / (2.0 * m.sd);
    m.slope_bmi = sxb / sbb;
    double res = 0;
    for (int k = 0; k < N_DRAWS; k++) {
        double r = x[k] - m.mean - m.slope_bmi * (b[k] - mb);
        res += r * r;
    }
    m.se_slope = sqrt(res / (N_DRAWS - 2) / sbb);
    return m;
}

static void expect(const char *what, moments m, double mean, double sd, double slope)
{
    print_message("%-26s mean %.3f (source %.3f, se %.3f)  sd %.3f (%.3f, se %.3f)  "
                  "slope %.4f (%.4f, se %.4f)\n",
                  what, m.mean, mean, m.se_mean, m.sd, sd, m.se_sd, m.slope_bmi, slope,
                  m.se_slope);
    /* Four standard errors: a correct generator fails this about once in 16 000 runs, and
     * the seed is fixed, so it never flakes. */
    assert_true(fabs(m.mean - mean) < 4 * m.se_mean);
    assert_true(fabs(m.sd - sd) < 4 * m.se_sd);
    assert_true(fabs(m.slope_bmi - slope) < 4 * m.se_slope);
}

static double group_sd(double resid, double slope_bmi, double bmi_sd, double slope_age,
                       double age_var)
{
    return sqrt(resid * resid + slope_bmi * slope_bmi * bmi_sd * bmi_sd +
                slope_age * slope_age * age_var);
}

static void test_thicknesses_follow_the_sources(void **state)
{
    (void)state;
    /* The figures, as the sources give them (cohort.c and docs/authoring.md say where):
     * adult back skin 2.54 mm (Laurent 2007), residual SD 0.37 mm (Sim 2014), +0.02 mm of
     * skin and +0.4 mm of fat per kg/m^2 (Gibney 2010), dermis -6 %/decade (Branchet 1990),
     * adult back fat 7.0 mm (the bundled adult back, under Eur Radiol 2022's 9.4 mm), women
     * +5.1 x 7.0 / 13.9 mm of fat (Gibney), adolescent skin 2.54 x 2.29 / 2.40 (Lo Presti
     * 2012 over Gibney), adolescent fat (9.76 - 2.29) x 7.0 / 15.4, SD 4.38 x 7.0 / 15.4
     * (Lim 2018), BMI 27 +- 4 (men) and 26 +- 5 (women) (Kawchuk 2011, SD assumed), 19.8 and
     * 20.2 +- 3 at 15 y (WHO 2007). Adult ages uniform 25-65 (variance 40^2/12), adolescents
     * 14, 15 or 16 (variance 2/3). */
    const double adult_age_var = 40.0 * 40.0 / 12.0;
    const double teen_skin = 2.54 * 2.29 / 2.40, teen_fat = (9.76 - 2.29) * 7.0 / 15.4,
                 teen_fat_sd = 4.38 * 7.0 / 15.4, female_fat = 7.0 + 5.1 * 7.0 / 13.9;

    expect("adult male skin", sample(COHORT_ADULT_MALE, false), 2.54,
           group_sd(0.37, 0.02, 4.0, -0.006 * 2.54, adult_age_var), 0.02);
    expect("adult female skin", sample(COHORT_ADULT_FEMALE, false), 0.9 * 2.54,
           group_sd(0.37, 0.02, 5.0, -0.006 * 0.9 * 2.54, adult_age_var), 0.02);
    expect("adult male fat", sample(COHORT_ADULT_MALE, true), 7.0,
           group_sd(0.5 * 7.0, 0.4, 4.0, 0, 0), 0.4);
    expect("adult female fat", sample(COHORT_ADULT_FEMALE, true), female_fat,
           group_sd(0.5 * female_fat, 0.4, 5.0, 0, 0), 0.4);
    expect("adolescent male skin", sample(COHORT_ADOLESCENT_MALE, false), teen_skin,
           group_sd(0.125 * teen_skin, 0.02, 3.0, 0, 0), 0.02);
    expect("adolescent female skin", sample(COHORT_ADOLESCENT_FEMALE, false), teen_skin,
           group_sd(0.125 * teen_skin, 0.02, 3.0, 0, 0), 0.02);
    expect("adolescent male fat", sample(COHORT_ADOLESCENT_MALE, true), teen_fat,
           group_sd(teen_fat_sd, 0.4, 3.0, 0, 0), 0.4);
    expect("adolescent female fat", sample(COHORT_ADOLESCENT_FEMALE, true), teen_fat,
           group_sd(teen_fat_sd, 0.4, 3.0, 0, 0), 0.4);

    /* The group tables say the same spreads. */
    const cohort_group_def *am = cohort_group_of(COHORT_ADULT_MALE);
    assert_float_equal(cohort_group_sd_mm(am, &am->skin),
                       group_sd(0.37, 0.02, 4.0, -0.006 * 2.54, adult_age_var), 1e-12);
    const cohort_group_def *tf = cohort_group_of(COHORT_ADOLESCENT_FEMALE);
    assert_float_equal(cohort_group_sd_mm(tf, &tf->fat), group_sd(teen_fat_sd, 0.4, 3.0, 0, 0),
                       1e-12);
}

static void test_bad_base_is_refused(void **state)
{
    (void)state;
    scenario s = scenario_default();
    s.phantom.n_layers = 1;
    cohort_patient p = cohort_patient_draw(1, 12);
    scenario out;
    char err[256] = "";
    assert_false(cohort_scenario(&p, &s, 1, &out, err, sizeof err));
    assert_non_null(strstr(err, "dermis, fat and deep_fat"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_up_of_the_case_report),
        cmocka_unit_test(test_same_seed_same_patients),
        cmocka_unit_test(test_every_generated_case_validates),
        cmocka_unit_test(test_thicknesses_follow_the_sources),
        cmocka_unit_test(test_bad_base_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
