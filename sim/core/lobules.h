/* lobules: the fat lobules of the hypodermis as a 3-D cell field fixed in the tissue.
 *
 * Subcutaneous fat is lobules of fat cells wrapped in thin fibrous septa; the septa form a
 * 3-D network that is irregular and polygonal, tighter and rounder in the superficial fat
 * (lobule circularity 0.86) than in the deep fat, whose lobes are large, flat and polygonal
 * with oblique-horizontal septa (circularity 0.47; Lancerotto, Stecco et al. 2011), and whose
 * septa are looser and more widely spaced (Markman & Barton 1987); the retinacula cutis run
 * up to the dermis (Stecco 2011). All in ../shared/reference/anatomy.md section 1. No source
 * gives lobule sizes in mm (anatomy.md, "not found"): the cell sizes are the scenario's
 * septa_spacing_mm (1.5 mm by default) for superficial fat and larger cells for deep fat.
 *
 * The field is a jittered-grid Voronoi (Worley) diagram: one site per cell of a lattice
 * scaled per axis (x, y across the skin, depth below the layer top), hashed from the cell's
 * integer coordinates and a seed, never stored. A point belongs to the lobule of its nearest
 * site; its septum value falls with the distance to the bisector plane of the nearest and
 * second-nearest sites (an exact distance to the lobule border in millimetres).
 *
 * Along a straight segment the squared distances to all sites differ by functions linear in
 * the step, so the nearest pair changes only at computable steps and the border distance is
 * linear in between: lobule_span evaluates a whole run of samples with a few site searches
 * and a flat loop the compiler vectorises. Internal to sim/core; plain data, no allocation
 * (the optional cache is the caller's memory). */
#ifndef MESOSIM_LOBULES_H
#define MESOSIM_LOBULES_H

#include <stdint.h>

typedef struct lobule_field {
    double inv_cell[3];   /* cells per mm along x, y and depth */
    uint32_t seed;
    float septum_gain;    /* septum amplitude over the lobule interior, minus 1 */
    float inv_half_width; /* 1 / septum half width, per mm */
    float norm;           /* scales the multiplier so its mean square over the layer is 1 */
} lobule_field;

/* Cell sizes across the skin (x and y) and in depth, mm; septum half width in mm. */
void lobule_field_init(lobule_field *f, double cell_xy_mm, double cell_z_mm, double half_width_mm,
                       uint32_t seed);

/* The sites around a cell, as a search needs them: the 27 sites of the cell and its
 * neighbours. Internal; in the header only so that a cache can be sized. */
typedef struct lobule_sites {
    int valid;
    uint32_t seed; /* the field's: sites depend on it and the cell only */
    int32_t cell[3];
    double c[3][27];  /* site positions in cell units, by axis (a flat loop over sites) */
    float bright[27]; /* lobule amplitude factor */
    uint32_t id[27];
} lobule_sites;

/* Sites gathered for recent cells, reused: neighbouring beam lines (0.06 mm apart) cross the
 * same cells of a field whose cells are 1.5 mm and more, and hashing 27 sites per cell was a
 * third of the fat's cost. A cache belongs to one thread; it changes only speed, never a
 * value. Zero it (lobule_cache_clear) before first use. */
#define LOBULE_CACHE_ENTRIES 32
typedef struct lobule_cache {
    lobule_sites e[LOBULE_CACHE_ENTRIES];
} lobule_cache;
void lobule_cache_clear(lobule_cache *c);

/* Multiplies amp[0..n) by the backscatter multiplier at q0 + i dq (x, y in the phantom frame,
 * depth below the layer top), mm. cache: the calling thread's, or NULL. */
void lobule_span(const lobule_field *f, const double q0[3], const double dq[3], int n, float *amp,
                 lobule_cache *cache);

/* One point: the multiplier; the lobule's id and the distance to its border (mm) when the
 * pointers are not NULL. */
double lobule_at(const lobule_field *f, const double q[3], uint32_t *lobule_id, double *border_mm);

#endif
