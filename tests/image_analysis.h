/* image_analysis: measurements of structure on a rendered envelope, for the tests that check
 * what the image shows rather than the model that made it (tests/test_fat.c,
 * tests/test_lobule_image.c).
 *
 * Images are float arrays of rows x cols (row = depth, column = line), row-major, with the
 * pixel spacing in millimetres passed alongside. Everything the functions return is the
 * caller's; arrays they allocate are malloc'ed and freed by the caller. */
#ifndef MESOSIM_TESTS_IMAGE_ANALYSIS_H
#define MESOSIM_TESTS_IMAGE_ANALYSIS_H

#include <stddef.h>
#include <stdint.h>

/* Isotropic Gaussian blur of sigma_mm, in place (separable, edges clamped); dz_mm and dx_mm
 * are the row and column spacings. */
void ia_blur_mm(float *img, int rows, int cols, double dz_mm, double dx_mm, double sigma_mm);

/* The q-quantile (0..1) of v[0..n), by sorting a copy. */
double ia_quantile(const float *v, size_t n, double q);

/* Labels the 4-connected regions of equal nonzero key: label[i] is the region's index
 * (0 .. count-1) or -1 where key[i] is 0. Returns the count. */
int ia_label_regions(const uint32_t *key, int rows, int cols, int32_t *label);

/* A labelled region: its pixel count and bounding box (rows r0..r1, columns c0..c1). */
typedef struct ia_region {
    int area;
    int r0, r1, c0, c1;
} ia_region;

/* The n regions of label (as ia_label_regions made them); malloc'ed array of n. */
ia_region *ia_regions(const int32_t *label, int rows, int cols, int n);

#endif
