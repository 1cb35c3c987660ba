/* bmode_kernels: see bmode_kernels.h. Compiled once per instruction set with BMK_SUFFIX naming
 * the variant (base, avx2); only the base build defines bmode_kernels_select. Plain loops over
 * arrays, written for the vectoriser. */
#include "bmode_kernels.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#include "hash.h"

#define BMK_CAT2(a, b) a##_##b
#define BMK_CAT(a, b) BMK_CAT2(a, b)
#define BMK(name) BMK_CAT(name, BMK_SUFFIX)

static void BMK(scatter)(const float *restrict wq, int rows, int kmax, float inv_dq, int r0, int r1,
                         const int32_t base[3], const float frac[3], const float step[3], float d0,
                         const float dd[3], uint32_t seed, float *restrict re, float *restrict im)
{
    const float fx = frac[0], fy = frac[1], fz = frac[2], sx = step[0], sy = step[1], sz = step[2];
    const float ddx = dd[0], ddy = dd[1], ddz = dd[2];
    for (int r = r0; r < r1; r++) {
        float fr = (float)r;
        int32_t rx = (int32_t)(fx + sx * fr) - BMK_FRAC_OFFSET;
        int32_t ry = (int32_t)(fy + sy * fr) - BMK_FRAC_OFFSET;
        int32_t rz = (int32_t)(fz + sz * fr) - BMK_FRAC_OFFSET;
        float d = d0 + ddx * (float)rx + ddy * (float)ry + ddz * (float)rz;
        int32_t k = (int32_t)((d < 0.0f ? -d : d) * inv_dq + 0.5f);
        k = k < kmax ? k : kmax;
        float w = wq[k * rows + r];
        uint32_t h = hash_voxel(base[0] + rx, base[1] + ry, base[2] + rz, seed);
        float a = (float)((int32_t)(h << 16) >> 16);
        float b = (float)((int32_t)h >> 16);
        re[r] += w * a;
        im[r] += w * b;
    }
}

static void BMK(scatter_vertical)(const float *restrict w, int r0, int r1, uint32_t hxy,
                                  const uint32_t *restrict hz, float *restrict re, float *restrict im)
{
    for (int r = r0; r < r1; r++) {
        uint32_t h = hash_mix32(hxy ^ hz[r]);
        float a = (float)((int32_t)(h << 16) >> 16);
        float b = (float)((int32_t)h >> 16);
        re[r] += w[r] * a;
        im[r] += w[r] * b;
    }
}

/* Rows are taken BMK_BLOCK at a time with the sums held in registers across the taps: each
 * output row still adds its taps in order from a zero start (the same bytes as one pass per
 * tap), but the partial sums are no longer loaded and stored once per tap. A block is eight
 * vector registers of sums, enough independent additions to hide the adder's latency. */
#ifdef __AVX__
#define BMK_BLOCK 64
#else
#define BMK_BLOCK 32
#endif

static void BMK(axial_conv)(const float *restrict g, int ka, const float *restrict f, int rows, float *restrict out)
{
    const int nk = 2 * ka + 1;
    int r = 0;
    for (; r + BMK_BLOCK <= rows; r += BMK_BLOCK) {
        float acc[BMK_BLOCK] = {0};
        for (int k = 0; k < nk; k++) {
            const float gk = g[k];
            const float *src = f + r + k;
            for (int j = 0; j < BMK_BLOCK; j++)
                acc[j] += gk * src[j];
        }
        for (int j = 0; j < BMK_BLOCK; j++)
            out[r + j] = acc[j];
    }
    for (; r < rows; r++) {
        float acc = 0.0f;
        for (int k = 0; k < nk; k++)
            acc += g[k] * f[r + k];
        out[r] = acc;
    }
}

static void BMK(lateral_conv)(const float *restrict h, int taps, const float *restrict gre,
                              const float *restrict gim, int rows, float *restrict are, float *restrict aim)
{
    const size_t n = (size_t)rows;
    int r = 0;
    for (; r + BMK_BLOCK / 2 <= rows; r += BMK_BLOCK / 2) {
        float sr[BMK_BLOCK / 2] = {0}, si[BMK_BLOCK / 2] = {0};
        for (int k = 0; k < taps; k++) {
            const float *hk = h + k * n + r, *pr = gre + k * n + r, *pi = gim + k * n + r;
            for (int j = 0; j < BMK_BLOCK / 2; j++) {
                sr[j] += hk[j] * pr[j];
                si[j] += hk[j] * pi[j];
            }
        }
        for (int j = 0; j < BMK_BLOCK / 2; j++) {
            are[r + j] = sr[j];
            aim[r + j] = si[j];
        }
    }
    for (; r < rows; r++) {
        float sr = 0.0f, si = 0.0f;
        for (int k = 0; k < taps; k++) {
            sr += h[k * n + r] * gre[k * n + r];
            si += h[k * n + r] * gim[k * n + r];
        }
        are[r] = sr;
        aim[r] = si;
    }
}

static void BMK(add_noise)(const float *restrict amp, int rows, uint32_t hline, float *restrict re,
                           float *restrict im)
{
    for (int r = 0; r < rows; r++) {
        uint32_t h = hash_mix32(hline ^ ((uint32_t)r * 0xd8163841U));
        float a = amp[r] * (1.0f / 32768.0f);
        re[r] += a * (float)(int16_t)(h & 0xFFFFU);
        im[r] += a * (float)(int16_t)(h >> 16);
    }
}

/* log2 for positive normal floats without libm, so the loop vectorises: exponent from the
 * bits, mantissa m in [0.75, 1.5), ln m = 2 atanh(t) with t = (m-1)/(m+1), |t| <= 1/5, by its
 * series to t^7 (truncation error < 2e-7, below float rounding). */
static inline float fast_log2(float x)
{
    union { float f; uint32_t u; } v = {x};
    float e = (float)((int32_t)((v.u >> 23) & 255) - 127);
    v.u = (v.u & 0x007FFFFFU) | 0x3F800000U; /* m in [1, 2) */
    float m = v.f;
    float big = m > 1.5f ? 1.0f : 0.0f; /* arithmetic, not a branch */
    m *= 1.0f - 0.5f * big;
    e += big;
    float t = (m - 1.0f) / (m + 1.0f), t2 = t * t;
    float ln = 2.0f * t * (1.0f + t2 * (1.0f / 3.0f + t2 * (1.0f / 5.0f + t2 * (1.0f / 7.0f))));
    return e + ln * 1.44269504f;
}

static inline uint8_t to_grey(float I, float gain_db, float dr_db, float scale)
{
    float db = 3.0102999566f * fast_log2(I) + gain_db;
    float v = (db + dr_db) * scale + 0.5f;
    v = v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v);
    return (uint8_t)v;
}

/* env may be NULL (display only): two loops rather than a test per row, so both vectorise. */
static void BMK(envelope)(const float *restrict are, const float *restrict aim, int rows,
                          const float *restrict gain_db, const float *restrict gain_lin, float dr_db, int cols,
                          int c, uint8_t *restrict pix, float *restrict env)
{
    const float scale = 255.0f / dr_db;
    if (env) {
        for (int r = 0; r < rows; r++) {
            float I = are[r] * are[r] + aim[r] * aim[r] + 1e-30f;
            pix[(size_t)r * cols + c] = to_grey(I, gain_db[r], dr_db, scale);
            env[(size_t)r * cols + c] = sqrtf(I) * gain_lin[r];
        }
    } else {
        for (int r = 0; r < rows; r++) {
            float I = are[r] * are[r] + aim[r] * aim[r] + 1e-30f;
            pix[(size_t)r * cols + c] = to_grey(I, gain_db[r], dr_db, scale);
        }
    }
}

const bmk_ops BMK(bmk_ops) = {
    .name = BMK_NAME,
    .scatter = BMK(scatter),
    .scatter_vertical = BMK(scatter_vertical),
    .axial_conv = BMK(axial_conv),
    .lateral_conv = BMK(lateral_conv),
    .add_noise = BMK(add_noise),
    .envelope = BMK(envelope),
};

#ifdef BMK_SELECT
#if defined(MESOSIM_HAVE_AVX2_KERNELS)
extern const bmk_ops bmk_ops_avx2;
#endif

const bmk_ops *bmode_kernels_select(const char *name)
{
    int want_auto = !name || strcmp(name, "auto") == 0;
#if defined(MESOSIM_HAVE_AVX2_KERNELS)
    __builtin_cpu_init();
    int avx2 = __builtin_cpu_supports("avx2");
    if ((want_auto && avx2) || (name && strcmp(name, "avx2") == 0))
        return avx2 ? &bmk_ops_avx2 : NULL;
#endif
    if (want_auto || strcmp(name, "base") == 0)
        return &BMK(bmk_ops);
    return NULL;
}
#endif
