/* bench_util: the clock and the order statistics every `mesosim bench` mode reports. */
#ifndef MESOSIM_BENCH_UTIL_H
#define MESOSIM_BENCH_UTIL_H

/* Monotonic wall clock, ms. */
double bench_now_ms(void);
/* The q-quantile (0..1; 1 is the maximum) of n values, nearest rank; sorts v in place. 0 when
 * n is 0. */
double bench_percentile(double *v, long n, double q);

#endif
