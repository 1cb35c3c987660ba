/* image_analysis: structure measured on rendered envelopes (see image_analysis.h). */
#include "image_analysis.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void ia_blur_mm(float *img, int rows, int cols, double dz_mm, double dx_mm, double sigma_mm)
{
    float *tmp = malloc(sizeof(float) * (size_t)rows * cols);
    const double step[2] = {dx_mm, dz_mm};
    for (int pass = 0; pass < 2; pass++) {
        int kh = (int)ceil(3.0 * sigma_mm / step[pass]);
        double wsum = 0.0, *wk = malloc(sizeof(double) * (size_t)(2 * kh + 1));
        for (int k = -kh; k <= kh; k++) {
            double u = k * step[pass] / sigma_mm;
            wsum += wk[k + kh] = exp(-0.5 * u * u);
        }
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) {
                double acc = 0.0;
                for (int k = -kh; k <= kh; k++) {
                    int rr = pass ? r + k : r, cc = pass ? c : c + k;
                    rr = rr < 0 ? 0 : (rr >= rows ? rows - 1 : rr);
                    cc = cc < 0 ? 0 : (cc >= cols ? cols - 1 : cc);
                    acc += wk[k + kh] * img[(size_t)rr * cols + cc];
                }
                tmp[(size_t)r * cols + c] = (float)(acc / wsum);
            }
        memcpy(img, tmp, sizeof(float) * (size_t)rows * cols);
        free(wk);
    }
    free(tmp);
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : (x > y ? 1 : 0);
}

double ia_quantile(const float *v, size_t n, double q)
{
    float *s = malloc(sizeof(float) * n);
    memcpy(s, v, sizeof(float) * n);
    qsort(s, n, sizeof(float), cmp_float);
    size_t i = (size_t)(q * (double)(n - 1) + 0.5);
    double out = s[i];
    free(s);
    return out;
}

int ia_label_regions(const uint32_t *key, int rows, int cols, int32_t *label)
{
    size_t npix = (size_t)rows * cols;
    for (size_t i = 0; i < npix; i++)
        label[i] = -1;
    /* Flood fill with an explicit stack: regions can hold most of the image, too deep for
     * recursion. */
    size_t *stack = malloc(sizeof(size_t) * npix);
    int n = 0;
    for (size_t s = 0; s < npix; s++) {
        if (!key[s] || label[s] >= 0)
            continue;
        size_t top = 0;
        stack[top++] = s;
        label[s] = n;
        while (top) {
            size_t i = stack[--top];
            int r = (int)(i / (size_t)cols), c = (int)(i % (size_t)cols);
            const int nr[4] = {r - 1, r + 1, r, r}, nc[4] = {c, c, c - 1, c + 1};
            for (int k = 0; k < 4; k++) {
                if (nr[k] < 0 || nr[k] >= rows || nc[k] < 0 || nc[k] >= cols)
                    continue;
                size_t j = (size_t)nr[k] * cols + nc[k];
                if (label[j] < 0 && key[j] == key[s]) {
                    label[j] = n;
                    stack[top++] = j;
                }
            }
        }
        n++;
    }
    free(stack);
    return n;
}

ia_region *ia_regions(const int32_t *label, int rows, int cols, int n)
{
    ia_region *g = malloc(sizeof(ia_region) * (size_t)(n > 0 ? n : 1));
    for (int k = 0; k < n; k++)
        g[k] = (ia_region){0, rows, -1, cols, -1};
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            int32_t l = label[(size_t)r * cols + c];
            if (l < 0)
                continue;
            ia_region *x = &g[l];
            x->area++;
            x->r0 = r < x->r0 ? r : x->r0;
            x->r1 = r > x->r1 ? r : x->r1;
            x->c0 = c < x->c0 ? c : x->c0;
            x->c1 = c > x->c1 ? c : x->c1;
        }
    return g;
}
