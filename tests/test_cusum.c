/* test_cusum: LC-CUSUM increments, scores and signal index against values worked by hand. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cusum.h"

#define TOL 1e-6

static void test_increments_by_hand(void **state)
{
    (void)state;
    cusum_def d = cusum_default_def();
    /* p0 = 0.10, p1 = 0.20: success ln(0.9/0.8) = ln 1.125 = 0.117783; failure ln(0.1/0.2) =
     * ln 0.5 = -0.693147; h = ln((1 - 0.1) / 0.1) = ln 9 = 2.197225. */
    assert_true(fabs(cusum_success_step(&d) - 0.117783) < TOL);
    assert_true(fabs(cusum_failure_step(&d) - -0.693147) < TOL);
    assert_true(fabs(d.limit_h - 2.197225) < TOL);
    /* alpha = 0.05, beta = 0.20: ln(0.8 / 0.05) = ln 16 = 2.772589. */
    assert_true(fabs(cusum_wald_limit(0.05, 0.20) - 2.772589) < TOL);
    /* p0 = 0.20, p1 = 0.30: ln(0.8/0.7) = 0.133531; ln(0.2/0.3) = -0.405465. */
    cusum_def e = {0.20, 0.30, 1.0};
    assert_true(fabs(cusum_success_step(&e) - 0.133531) < TOL);
    assert_true(fabs(cusum_failure_step(&e) - -0.405465) < TOL);
}

static void test_sequence_with_floor(void **state)
{
    (void)state;
    cusum_def d = cusum_default_def();
    /* S S S F, then 19 successes. Scores: 0.117783, 0.235566, 0.353349; the failure gives
     * 0.353349 - 0.693147 < 0, floored to 0; then 0.117783 k after k successes. The first
     * k with 0.117783 k > 2.197225 is k = 19 (18 -> 2.120094, 19 -> 2.237877), at case
     * 4 + 19 = 23, index 22. */
    bool failed[23] = {false, false, false, true};
    double s[23];
    int at = cusum_lc_run(&d, failed, 23, s);
    assert_true(fabs(s[0] - 0.117783) < TOL);
    assert_true(fabs(s[1] - 0.235566) < TOL);
    assert_true(fabs(s[2] - 0.353349) < TOL);
    assert_true(s[3] == 0.0);
    assert_true(fabs(s[21] - 2.120094) < TOL);
    assert_true(fabs(s[22] - 2.237877) < TOL);
    assert_int_equal(at, 22);
    /* One case short of it: no signal. */
    assert_int_equal(cusum_lc_run(&d, failed, 22, NULL), -1);
}

static void test_failure_pulls_back(void **state)
{
    (void)state;
    cusum_def d = cusum_default_def();
    /* 10 successes: 1.177830; a failure: 1.177830 - 0.693147 = 0.484683; a success:
     * 0.602466. */
    bool failed[12] = {0};
    failed[10] = true;
    double s[12];
    assert_int_equal(cusum_lc_run(&d, failed, 12, s), -1);
    assert_true(fabs(s[9] - 1.177830) < TOL);
    assert_true(fabs(s[10] - 0.484683) < TOL);
    assert_true(fabs(s[11] - 0.602466) < TOL);
}

static void test_lower_limit_signals_sooner(void **state)
{
    (void)state;
    /* h = 1.5 (inside the 1.41..1.53 the peribulbar study's 13-block fastest signal implies):
     * 0.117783 k > 1.5 first at k = 13 (12 -> 1.413396, 13 -> 1.531179), index 12. */
    cusum_def d = cusum_default_def();
    d.limit_h = 1.5;
    bool failed[13] = {0};
    assert_int_equal(cusum_lc_run(&d, failed, 13, NULL), 12);
    assert_int_equal(cusum_lc_run(&d, failed, 12, NULL), -1);
}

static void test_bad_parameters(void **state)
{
    (void)state;
    char err[160];
    cusum_def d = cusum_default_def();
    assert_true(cusum_def_check(&d, err, sizeof err));
    cusum_def swapped = {0.3, 0.2, 2.0};
    assert_false(cusum_def_check(&swapped, err, sizeof err));
    assert_non_null(strstr(err, "below"));
    cusum_def zero = {0.0, 0.2, 2.0};
    assert_false(cusum_def_check(&zero, err, sizeof err));
    cusum_def no_h = {0.1, 0.2, -1.0};
    assert_false(cusum_def_check(&no_h, err, sizeof err));
}

static void test_simulated_signal_rate(void **state)
{
    (void)state;
    cusum_def d = cusum_default_def();
    /* A trainee who never fails signals at the 19th case exactly (see above): every one of
     * the simulated trainees within 19 cases, none within 18. */
    assert_true(cusum_lc_signal_rate(&d, 0.0, 19, 500, 1) == 1.0);
    assert_true(cusum_lc_signal_rate(&d, 0.0, 18, 500, 1) == 0.0);
    /* Within 19 cases only 19 straight successes signal: probability 0.9^19 = 0.135085 at
     * p0 and 0.8^19 = 0.014412 at p1; 100 000 trials give them within 0.005 (4 sd). */
    assert_true(fabs(cusum_lc_signal_rate(&d, 0.10, 19, 100000, 3) - 0.135085) < 0.005);
    assert_true(fabs(cusum_lc_signal_rate(&d, 0.20, 19, 100000, 3) - 0.014412) < 0.002);
    /* Always failing never signals. */
    assert_true(cusum_lc_signal_rate(&d, 1.0, 200, 500, 1) == 0.0);
    /* Same seed, same answer; a competent trainee (p0) signals more often than an
     * incompetent one (p1). */
    double a = cusum_lc_signal_rate(&d, 0.10, 100, 4000, 7);
    double b = cusum_lc_signal_rate(&d, 0.10, 100, 4000, 7);
    double c = cusum_lc_signal_rate(&d, 0.20, 100, 4000, 7);
    assert_true(a == b);
    assert_true(a > c + 0.2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_increments_by_hand),
        cmocka_unit_test(test_sequence_with_floor),
        cmocka_unit_test(test_failure_pulls_back),
        cmocka_unit_test(test_lower_limit_signals_sooner),
        cmocka_unit_test(test_bad_parameters),
        cmocka_unit_test(test_simulated_signal_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
