/* bmode_kernels: the hot loops of the fast B-mode path, built twice from one source
 * (bmode_kernels.c): once for the baseline x86-64 (or any) target and once with AVX2, chosen
 * at run time by bmode_kernels_select(). Both builds do the same IEEE operations in the same
 * order (no FMA contraction), so they give the same bytes. Internal to sim/core. */
#ifndef MESOSIM_BMODE_KERNELS_H
#define MESOSIM_BMODE_KERNELS_H

#include <stdint.h>

typedef struct bmk_ops {
    const char *name;
    /* One elevation plane's scatterers along rows [r0, r1): voxel index = base + floor(frac +
     * step * row) per axis (frac offset by BMK_FRAC_OFFSET so it stays positive); the voxel's
     * distance from the image plane is d0 + dd . (index - base), its weight wq[k * rows + row]
     * with k = round(|d| / dq) capped at kmax (a row of zeros). */
    void (*scatter)(const float *wq, int rows, int kmax, float inv_dq, int r0, int r1, const int32_t base[3],
                    const float frac[3], const float step[3], float d0, const float dd[3], uint32_t seed,
                    float *re, float *im);
    /* The same on a line straight down: hash = mix(hxy ^ hz[row]). */
    void (*scatter_vertical)(const float *w, int r0, int r1, uint32_t hxy, const uint32_t *hz,
                             float *re, float *im);
    /* out[r] = sum_k g[k] f[r + k], f padded by ka on each side. */
    void (*axial_conv)(const float *g, int ka, const float *f, int rows, float *out);
    /* a[r] = sum_k h[k rows + r] g[k rows + r] over taps k, for re and im, the taps summed in
     * order from zero. */
    void (*lateral_conv)(const float *h, int taps, const float *gre, const float *gim, int rows, float *are,
                         float *aim);
    /* The receiver's noise on one line: re, im += amp[r] / 32768 * the two signed 16-bit halves
     * of hash_voxel(line, r, 0, seed), given hline = line * 0x8da6b343 ^ seed. */
    void (*add_noise)(const float *amp, int rows, uint32_t hline, float *re, float *im);
    /* Envelope, gain, log compression to 8 bits for one image column (row-major output). */
    void (*envelope)(const float *are, const float *aim, int rows, const float *gain_db,
                     const float *gain_lin, float dr_db, int cols, int c, uint8_t *pix, float *env);
} bmk_ops;

#define BMK_FRAC_OFFSET 1024

/* The set named ("base", "avx2"), or the fastest this CPU runs for NULL or "auto"; NULL when
 * the named set is unknown or this CPU cannot run it. */
const bmk_ops *bmode_kernels_select(const char *name);

#endif
