/* bench_util: monotonic time and nearest-rank percentiles. */
#include "bench_util.h"

#include <math.h>
#include <stdlib.h>
#include <time.h>

double bench_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

double bench_percentile(double *v, long n, double q)
{
    if (n <= 0)
        return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    long i = (long)ceil(q * (double)n) - 1;
    return v[i < 0 ? 0 : (i >= n ? n - 1 : i)];
}
