/* bmode_reference: the same model as bmode.c written the plain way, one thread, no SIMD
 * (built with -fno-tree-vectorize): exact layer heights and slopes at every sample, the
 * elevation weights from exp() at every sample, a direct 2-D convolution with the full PSF,
 * libm's log10 for the display. It is the yardstick of `mesosim bench` and the tests check the
 * fast path against it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bmode.h"
#include "bmode_model.h"
#include "hash.h"


void bmode_image_free(bmode_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    free(img->envelope);
    free(img->labels);
    img->pixels = NULL;
    img->envelope = NULL;
    img->labels = NULL;
}

int bmode_render_reference(const bmode_scene *scene, bmode_image *out, char *err, size_t err_len)
{
    bm_setup s;
    if (bm_setup_init(&s, scene, err, err_len) != 0)
        return -1;
    const int rows = s.rows, cols = s.cols, lines = s.lines;
    double *F_re = calloc((size_t)lines * rows, sizeof(double));
    double *F_im = calloc((size_t)lines * rows, sizeof(double));
    uint8_t *pixels = malloc((size_t)rows * cols);
    uint8_t *labels = malloc((size_t)rows * cols);
    float *env = malloc(sizeof(float) * (size_t)rows * cols);
    bm_line line;
    bm_nodes nodes;
    memset(&nodes, 0, sizeof nodes);
    int ok = F_re && F_im && pixels && labels && env && bm_line_alloc(&line, rows) == 0;
    if (!ok) {
        free(F_re);
        free(F_im);
        free(pixels);
        free(labels);
        free(env);
        bm_setup_free(&s);
        if (err)
            snprintf(err, err_len, "out of memory");
        return -1;
    }
    const uint32_t seed = hash_mix32(s.d->seed ^ 0x9e3779b9U);
    const int E = bm_elev_planes(&s);

    for (int li = 0; li < lines; li++) {
        if (bm_nodes_fill(&s, li, 1, &nodes) != 0) {
            ok = 0;
            break;
        }
        bm_classify_line(&s, li, &nodes, &line);
        double *fre = F_re + (size_t)li * rows, *fim = F_im + (size_t)li * rows;
        for (int r = 0; r < rows; r++) {
            double z = r * s.dz, p[3];
            bm_line_point(&s, li, z, p);
            double o[3];
            bm_line_point(&s, li, 0.0, o);
            double acc_re = 0, acc_im = 0;
            for (int e = -E; e <= E; e++) {
                double y = e * BM_ELEV_STEP_MM;
                double q[3] = {p[0] + y * s.fr.v[0], p[1] + y * s.fr.v[1], p[2] + y * s.fr.v[2]};
                /* Offset to positive, so truncation is floor. */
                int32_t ix = (int32_t)(q[0] * BM_VOX_PER_MM_XY + BM_VOX_BIAS + BM_VOX_OFFSET);
                int32_t iy = (int32_t)(q[1] * BM_VOX_PER_MM_XY + BM_VOX_BIAS + BM_VOX_OFFSET);
                int32_t iz = (int32_t)(q[2] * BM_VOX_PER_MM_Z + BM_VOX_BIAS + BM_VOX_OFFSET);
                double c[3];
                bm_voxel_centre(ix, iy, iz, c);
                double d = (c[0] - o[0]) * s.fr.v[0] + (c[1] - o[1]) * s.fr.v[1] + (c[2] - o[2]) * s.fr.v[2];
                double w = bm_elev_voxel_weight(&s, r, bm_elev_k(d));
                if (w == 0.0)
                    continue;
                uint32_t h = hash_voxel(ix, iy, iz, seed);
                acc_re += w * (double)(int16_t)(h & 0xFFFFU);
                acc_im += w * (double)(int16_t)(h >> 16);
            }
            fre[r] = acc_re * line.amp[r] / 32768.0;
            fim[r] = acc_im * line.amp[r] / 32768.0;
        }
        float *tre = malloc(sizeof(float) * (size_t)rows), *tim = malloc(sizeof(float) * (size_t)rows);
        if (!tre || !tim) {
            free(tre);
            free(tim);
            ok = 0;
            break;
        }
        memset(tre, 0, sizeof(float) * (size_t)rows);
        memset(tim, 0, sizeof(float) * (size_t)rows);
        for (int i = 0; i < line.n_ev; i++)
            bm_splat(&s, &line.ev[i], tre, tim);
        bm_add_noise(&s, li, tre, tim);
        for (int r = 0; r < rows; r++) {
            fre[r] += tre[r];
            fim[r] += tim[r];
        }
        free(tre);
        free(tim);
        int c = li - s.margin;
        if (c >= 0 && c < cols)
            for (int r = 0; r < rows; r++)
                labels[(size_t)r * cols + c] = line.tissue[r];
    }

    /* Direct 2-D convolution: output row r uses the PSF of depth r, the outer product of the
     * axial pulse and that depth's lateral beam. */
    const int nl = 2 * s.kl + 1;
    for (int c = 0; ok && c < cols; c++) {
        for (int r = 0; r < rows; r++) {
            double acc_re = 0, acc_im = 0;
            for (int k = -s.kl; k <= s.kl; k++) {
                int li = c + s.margin + k;
                for (int m = -s.ka; m <= s.ka; m++) {
                    int rr = r + m;
                    if (rr < 0 || rr >= rows)
                        continue;
                    double kern = s.h_lat[(size_t)r * nl + k + s.kl] * s.g_ax[m + s.ka];
                    acc_re += kern * F_re[(size_t)li * rows + rr];
                    acc_im += kern * F_im[(size_t)li * rows + rr];
                }
            }
            double e = sqrt(acc_re * acc_re + acc_im * acc_im + 1e-30) * pow(10.0, s.gain_db[r] / 20.0);
            double db = 20.0 * log10(e);
            double v = (db + s.p.dynamic_range_db) * 255.0 / s.p.dynamic_range_db + 0.5;
            v = v < 0 ? 0 : (v > 255 ? 255 : v);
            pixels[(size_t)r * cols + c] = (uint8_t)v;
            env[(size_t)r * cols + c] = (float)e;
        }
    }
    free(F_re);
    free(F_im);
    bm_line_free(&line);
    bm_nodes_free(&nodes);
    if (!ok) {
        free(pixels);
        free(labels);
        free(env);
        bm_setup_free(&s);
        if (err)
            snprintf(err, err_len, "out of memory");
        return -1;
    }
    out->rows = rows;
    out->cols = cols;
    out->dz_mm = s.dz;
    out->dx_mm = s.dx;
    out->x0_mm = s.x0;
    out->z0_mm = 0.0;
    out->freq_mhz = s.p.freq_mhz;
    out->pixels = pixels;
    out->envelope = env;
    out->labels = labels;
    out->full_scale_db = 0.0;
    bm_setup_free(&s);
    return 0;
}
