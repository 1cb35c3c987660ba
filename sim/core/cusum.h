/* cusum: the LC-CUSUM learning-curve test of Biau & Porcher for one skill of one trainee.
 *
 * LC-CUSUM starts from the null hypothesis that the trainee is not yet competent (failure
 * rate at the unacceptable p1) and signals when the record shows the acceptable p0 instead
 * (Biau DJ, Porcher R, Stat Med 2010, doi:10.1002/sim.3947). Per case, with x = 1 for a
 * failure: W = ln[p0^x (1-p0)^(1-x) / (p1^x (1-p1)^(1-x))], so a success adds
 * ln((1-p0)/(1-p1)) > 0 and a failure adds ln(p0/p1) < 0; S = max(0, S + W); proficiency is
 * signalled at the first case where S > h (increments as in /work/shared/reference/training.md
 * section 1.1). Defaults p0 = 10 %, p1 = 20 %, as in the peribulbar-block LC-CUSUM study (de
 * Oliveira Filho & Benincá, Braz J Anesthesiol 2023). The decision limit h defaults to the
 * Wald bound ln((1-beta)/alpha) for alpha = beta = 0.10, ln 9 = 2.197: that study set h by
 * simulation and its value was not retrieved; cusum_lc_signal_rate simulates any h
 * deterministically so the chosen limit's error rates can be checked (docs/report.md gives
 * them).
 *
 * Pure and deterministic: no allocation, no global state; the caller owns every array. */
#ifndef MESOSIM_CUSUM_H
#define MESOSIM_CUSUM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cusum_def {
    double acceptable_failure;   /* p0: a competent trainee's failure rate, 0 < p0 < p1 */
    double unacceptable_failure; /* p1: the failure rate that is not acceptable, p1 < 1 */
    double limit_h;              /* decision limit: proficiency once the score exceeds it */
} cusum_def;

/* p0 = 0.10, p1 = 0.20, h = ln(0.9 / 0.1) (the Wald bound for alpha = beta = 0.10). */
cusum_def cusum_default_def(void);
/* The Wald bound ln((1 - beta) / alpha) for type I error alpha and type II error beta. */
double cusum_wald_limit(double alpha, double beta);
/* False with a plain message when the rates or the limit are out of range. */
bool cusum_def_check(const cusum_def *def, char *err, size_t err_len);
/* What one success adds, ln((1-p0)/(1-p1)), and one failure, ln(p0/p1). */
double cusum_success_step(const cusum_def *def);
double cusum_failure_step(const cusum_def *def);

/* Runs the LC-CUSUM over n outcomes (failed[i]: case i failed), writing the score after each
 * case to score_out[i] (may be NULL). Returns the 0-based index of the case where proficiency
 * is first signalled (S > h), or -1 when it is not within the n cases. */
int cusum_lc_run(const cusum_def *def, const bool *failed, int n, double *score_out);

/* The share of `trials` simulated trainees with a true failure rate p_true that LC-CUSUM
 * declares proficient within max_cases, from a fixed seed (splitmix64): at p_true = p1 it is
 * the type I error, at p_true = p0 one minus the type II error, for that horizon. */
double cusum_lc_signal_rate(const cusum_def *def, double p_true, int max_cases, int trials,
                            uint64_t seed);

#endif
