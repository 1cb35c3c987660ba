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
 * and a flat loop the compiler vectorises. Internal to sim/core; plain data, no allocation. */
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

/* Multiplies amp[0..n) by the backscatter multiplier at q0 + i dq (x, y in the phantom frame,
 * depth below the layer top), mm. */
void lobule_span(const lobule_field *f, const double q0[3], const double dq[3], int n, float *amp);

/* One point: the multiplier; the lobule's id and the distance to its border (mm) when the
 * pointers are not NULL. */
double lobule_at(const lobule_field *f, const double q[3], uint32_t *lobule_id, double *border_mm);

#endif
