/* physics_util: shared helpers of the physics tests (tests/test_speckle.c, test_resolution.c,
 * test_echoes.c, test_attenuation.c, test_determinism.c, test_layers.c).
 *
 * Phantoms built in code, a render that fails the test on error, and the measurements the
 * tests make on a rendered image: region statistics of the linear envelope and of its dB
 * (20 log10), depth profiles, autocorrelation widths, image correlation, -6 dB widths with
 * interpolation. Image regions are given in millimetres (depth z from the probe face, lateral
 * x from the probe centre) and turned into rows and columns with the image's own geometry. */
#ifndef MESOSIM_TESTS_PHYSICS_UTIL_H
#define MESOSIM_TESTS_PHYSICS_UTIL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>

#include "bmode.h"
#include "phantom.h"
#include "probe.h"
#include "scenario.h"
#include "tissue.h"

/* The B-mode context of a test program (two threads), made and freed by the cmocka group
 * set-up and tear-down. */
extern bmode *pu_bm;
int pu_group_setup(void **state);
int pu_group_teardown(void **state);

/* A bundled scenario (scenarios/NAME.json); prints its problems and fails the test when it
 * does not load. */
scenario pu_load_preset(const char *name);

/* A rectangle of the image in millimetres: depth z0..z1, lateral x0..x1 (both inclusive of
 * the pixels whose centres fall inside). */
typedef struct pu_region {
    double z0_mm, z1_mm, x0_mm, x1_mm;
} pu_region;

/* Statistics of the pixels of an image region that pass a mask (mask may be NULL). */
typedef struct pu_stats {
    int n;
    double env_mean, env_std; /* linear envelope */
    double db_mean;           /* mean of 20 log10(envelope) */
} pu_stats;

/* One layer of tissue t filling the whole patch (no interfaces, no texture unless t is fat
 * or muscle), default tissue table, given seed. */
phantom_def pu_uniform_def(tissue_id t, uint32_t seed);
/* The control the lobule measures must fail: d's layers become fat without texture cut by
 * horizontal bright sheets every 1.5 mm (a 0.07 mm layer of backscatter 1 between plain 1.43 mm
 * ones, thickness varying slowly like the old sine septa), the old "brick wall". */
void pu_fat_sheets(phantom_def *d);
/* phantom_create that fails the test with the message on error. */
phantom *pu_phantom(const phantom_def *d);
/* Default probe with n_lines lines and depth_mm depth. */
probe_def pu_probe(int n_lines, double depth_mm);

/* Renders with bm (fast path); fails the test on error. The image belongs to bm. */
void pu_render(bmode *bm, const phantom *ph, const probe_def *p, const probe_pose *pose,
               bmode_image *out);

int pu_row(const bmode_image *im, double z_mm);  /* nearest row, clamped */
int pu_col(const bmode_image *im, double x_mm);  /* nearest column, clamped */
double pu_row_z(const bmode_image *im, int r);
double pu_col_x(const bmode_image *im, int c);
static inline double pu_db(float env) { return 20.0 * log10((double)env + 1e-30); }

/* Region statistics; mask (rows*cols, nonzero = use) may be NULL. */
pu_stats pu_region_stats(const bmode_image *im, pu_region g, const uint8_t *mask);

/* Mask of the pixels labelled t, eroded by er_rows rows and er_cols columns (a pixel stays
 * only when its whole (2er_rows+1) x (2er_cols+1) neighbourhood is labelled t). malloc'ed. */
uint8_t *pu_label_mask(const bmode_image *im, tissue_id t, int er_rows, int er_cols);
/* Number of nonzero entries. */
int pu_mask_count(const bmode_image *im, const uint8_t *mask);

/* Mean dB (20 log10 envelope) over columns c0..c1 for each row: out has im->rows entries. */
void pu_db_profile(const bmode_image *im, int c0, int c1, double *out);
/* Least-squares slope and intercept of y over x[i0..i1). */
void pu_linfit(const double *x, const double *y, int i0, int i1, double *slope, double *icpt);

/* Speckle grain: full width at half maximum (mm) of the normalised autocovariance of the
 * linear envelope in region g, along depth (axial) or across lines (lateral), averaged over
 * the region; the half-maximum lag is interpolated linearly. */
double pu_acf_fwhm_axial_mm(const bmode_image *im, pu_region g);
double pu_acf_fwhm_lateral_mm(const bmode_image *im, pu_region g);

/* Pearson correlation of the envelopes of a and b over region g of a, with b read
 * shift_cols columns to the right (b column = a column + shift_cols). Both images must have
 * the same geometry. use_intensity correlates envelope squared. */
double pu_correlation(const bmode_image *a, const bmode_image *b, pu_region g, int shift_cols,
                      bool use_intensity);

/* Full width at half of the peak value of samples v[0..n) spaced step_mm apart, around the
 * maximum; the crossings are interpolated linearly. */
double pu_fwhm_1d(const double *v, int n, double step_mm);

#endif
