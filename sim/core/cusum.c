/* cusum: LC-CUSUM (cusum.h). */
#include "cusum.h"

#include <math.h>
#include <stdio.h>

cusum_def cusum_default_def(void)
{
    cusum_def d;
    d.acceptable_failure = 0.10;
    d.unacceptable_failure = 0.20;
    d.limit_h = cusum_wald_limit(0.10, 0.10);
    return d;
}

double cusum_wald_limit(double alpha, double beta)
{
    return log((1.0 - beta) / alpha);
}

bool cusum_def_check(const cusum_def *def, char *err, size_t err_len)
{
    double p0 = def->acceptable_failure, p1 = def->unacceptable_failure;
    if (!(p0 > 0.0 && p0 < 1.0) || !(p1 > 0.0 && p1 < 1.0)) {
        snprintf(err, err_len, "the failure rates must lie strictly between 0 and 1 (got %g and %g)",
                 p0, p1);
        return false;
    }
    if (!(p0 < p1)) {
        snprintf(err, err_len,
                 "the acceptable failure rate (%g) must be below the unacceptable one (%g)", p0, p1);
        return false;
    }
    if (!(def->limit_h > 0.0) || !isfinite(def->limit_h)) {
        snprintf(err, err_len, "the decision limit h must be a positive number (got %g)",
                 def->limit_h);
        return false;
    }
    return true;
}

double cusum_success_step(const cusum_def *def)
{
    return log((1.0 - def->acceptable_failure) / (1.0 - def->unacceptable_failure));
}

double cusum_failure_step(const cusum_def *def)
{
    return log(def->acceptable_failure / def->unacceptable_failure);
}

int cusum_lc_run(const cusum_def *def, const bool *failed, int n, double *score_out)
{
    double up = cusum_success_step(def), down = cusum_failure_step(def);
    double s = 0.0;
    int signal = -1;
    for (int i = 0; i < n; i++) {
        s += failed[i] ? down : up;
        if (s < 0.0)
            s = 0.0;
        if (score_out)
            score_out[i] = s;
        if (signal < 0 && s > def->limit_h)
            signal = i;
    }
    return signal;
}

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double cusum_lc_signal_rate(const cusum_def *def, double p_true, int max_cases, int trials,
                            uint64_t seed)
{
    if (trials <= 0 || max_cases <= 0)
        return 0.0;
    double up = cusum_success_step(def), down = cusum_failure_step(def);
    uint64_t state = seed;
    int signalled = 0;
    for (int t = 0; t < trials; t++) {
        double s = 0.0;
        for (int i = 0; i < max_cases; i++) {
            /* 53 random bits as a uniform double in [0, 1). */
            double u = (double)(splitmix64(&state) >> 11) * (1.0 / 9007199254740992.0);
            s += u < p_true ? down : up;
            if (s < 0.0)
                s = 0.0;
            if (s > def->limit_h) {
                signalled++;
                break;
            }
        }
    }
    return (double)signalled / (double)trials;
}
