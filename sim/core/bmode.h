/* bmode: physics-lite B-mode synthesis (convolution model, complex baseband).
 *
 * For each image line the phantom is classified along the beam; a complex scatterer field
 * fixed in tissue coordinates (hashed from the tissue-frame voxel, never regenerated) is
 * summed over the elevation beam profile, weighted by each tissue's backscatter and texture
 * and by the two-way attenuation and transmission losses, and given specular echoes at
 * interfaces (impedance mismatch, incidence angle) and point reflectors. That field is
 * convolved with the depth-dependent PSF (separable: axial pulse, lateral beam), then TGC,
 * gain, envelope, log compression to the dynamic range, 8 bits.
 *
 * A bmode context owns its work buffers, a few worker threads and the output image; the
 * image stays valid until the next render or bmode_destroy. The same scene gives the same
 * bytes whatever the thread count. bmode_render_reference is the plain single-threaded
 * implementation of the same model (direct 2-D convolution, per-sample exact functions) that
 * the benchmark measures the fast path against and the tests compare it with. */
#ifndef MESOSIM_BMODE_H
#define MESOSIM_BMODE_H

#include <stdbool.h>
#include <stdint.h>

#include "phantom.h"
#include "probe.h"

typedef struct bmode_def {
    int n_threads;   /* worker threads; 0 = one per online core, capped at 8 */
    const char *isa; /* hot-loop build: NULL or "auto" = best this CPU runs, "base", "avx2";
                        all give the same bytes */
    bool display_only; /* skip the analysis outputs (envelope, labels: left NULL) when only the
                          8-bit image is wanted, as the trainer window does */
} bmode_def;

/* Dynamic objects one frame renders. A session holds any number; the scene it hands out
 * keeps those that reach the imaged slab, nearest the image plane first, so this bounds only
 * what can be seen at once (256 shapes: 85 gas injections in view at once, each 3 foci). */
#define BMODE_MAX_DYN 256

typedef struct bmode_scene {
    const phantom *ph;
    probe_def probe;
    probe_pose pose;
    const phantom_inclusion *dyn; /* world objects: needle, drug, haematoma (may be NULL) */
    int n_dyn;
} bmode_scene;

typedef struct bmode_image {
    int rows, cols;          /* rows: depth samples (row 0 at the probe face); cols: lines */
    double dz_mm, dx_mm;     /* depth per row, lateral per column */
    double x0_mm, z0_mm;     /* lateral position of column 0 from the probe centre; depth of row 0 */
    double freq_mhz;
    uint8_t *pixels;         /* rows*cols grey levels, row-major */
    float *envelope;         /* rows*cols linear envelope after gain and TGC: 20log10 -> dB
                                (NULL with bmode_def.display_only) */
    uint8_t *labels;         /* rows*cols tissue_id on the image plane (NULL likewise) */
    double full_scale_db;    /* envelope dB shown as 255 (255 * (dB - fs + DR) / DR) */
} bmode_image;

typedef struct bmode bmode;

bmode_def bmode_default_def(void);
/* NULL when out of memory, or when def->isa names a build this CPU cannot run. */
bmode *bmode_create(const bmode_def *def);
void bmode_destroy(bmode *bm);
int bmode_threads(const bmode *bm);
/* Name of the hot-loop build in use ("base", "avx2"). */
const char *bmode_isa(const bmode *bm);

/* Image geometry for a probe, without rendering. */
void bmode_geometry(const probe_def *p, int *rows, int *cols, double *dz_mm, double *dx_mm,
                    double *x0_mm);

/* Renders the scene. Returns 0, or -1 with a message in err when the scene is invalid.
 * out's arrays belong to bm. */
int bmode_render(bmode *bm, const bmode_scene *scene, bmode_image *out, char *err,
                 size_t err_len);

/* Plain reference implementation of the same model; out's arrays are malloc'ed and freed
 * with bmode_image_free. */
int bmode_render_reference(const bmode_scene *scene, bmode_image *out, char *err,
                           size_t err_len);
void bmode_image_free(bmode_image *img);

#endif
