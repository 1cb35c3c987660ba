/* outside_view: the 3-D view from outside the patient, a teaching aid a real scanner lacks.
 *
 * Shows the skin patch as a block whose sides are cut to show the layers (coloured by
 * tissue) under a translucent skin surface (with any wheal), so the needle and the deposits
 * (bleb, gas, haematoma, at the drug module's sizes) show where they are under it; a linear
 * probe (footprint = aperture x element height plus a rim, a handle, a green ridge on its
 * marked end: the side of the image's orientation dot) resting on it; the imaging slab, as
 * thick at each depth as the elevation beam (probe_elevation_fwhm_mm); the needle with its
 * hub and a tip marker that is green inside the slab and orange outside; and the planned
 * points as marks on the skin. The trainee orbits it (yaw, pitch) and zooms (distance).
 * The probe's shape comes from assets/probe_mesh.txt (embedded at build time).
 *
 * It reads world state given as plain data and changes none. The mesh is rebuilt every
 * frame from the phantom's height fields (a few thousand surface queries). World frame: the
 * phantom frame turned so that +y is up, out of the body: (x, y, z)_phantom -> (x, -z, y).
 *
 * Units: mm, degrees. An outside_view owns its GL objects and vertex array; it needs the GL
 * context it was created with, and a depth buffer in the default framebuffer. */
#ifndef MESOSIM_OUTSIDE_VIEW_H
#define MESOSIM_OUTSIDE_VIEW_H

#include <stdbool.h>
#include <stddef.h>

#include "phantom.h"
#include "probe.h"

typedef struct outside_scene {
    const phantom *ph;              /* display phantom (skin with wheals) */
    probe_def probe;
    probe_pose pose;
    probe_frame frame;              /* image plane of the probe in the phantom frame */
    const phantom_inclusion *dyn;   /* needle shaft, deposits, bleeds (may be NULL), drawn at their size */
    int n_dyn;
    bool needle_shown;              /* needle placed: draw it from tip back to its hub */
    double tip_mm[3], dir[3];       /* tip and unit direction (towards the tip) */
    double needle_length_mm, needle_od_mm;
    /* A multi-injector head (needle.count 3 or 5; 0 or 1: a single needle): head_count
     * parallel needles, each head_step_mm from the next across the line, the needle above
     * the middle one; their hubs sit on one rigid bar. */
    int head_count;
    double head_step_mm[3];
    const double (*plan_mm)[2];     /* planned injection points (x, y) on the skin, may be NULL */
    int n_plan;
} outside_scene;

/* Sets the head of a needle with this count, spacing and azimuth (deg, needle_head_place's
 * line across it in the skin plane); count 1: a single needle. */
void outside_scene_set_head(outside_scene *s, int count, double spacing_mm, double azimuth_deg);

/* Whether the tip is inside the imaging slab: in the image's depth and width, and within
 * half the elevation beam width at its depth of the plane. What the tip marker shows. */
bool outside_tip_in_slab(const outside_scene *s);

/* Colours of the tip marker (RGB), for tests reading pixels. */
#define OUTSIDE_TIP_IN_RGB 0x30e060u
#define OUTSIDE_TIP_OUT_RGB 0xff8c20u
#define OUTSIDE_RIDGE_RGB 0x40ff40u
#define OUTSIDE_PLAN_RGB 0xff40ffu

typedef struct outside_camera {
    float yaw_deg, pitch_deg, dist_mm;
} outside_camera;

outside_camera outside_default_camera(void);
/* Turns and zooms the camera, keeping pitch and distance in useful ranges. */
void outside_camera_orbit(outside_camera *c, float dyaw_deg, float dpitch_deg, float zoom_factor);

typedef struct outside_view outside_view;

/* NULL with a message when the shaders or the probe mesh parameters are bad. */
outside_view *outside_view_create(char *err, size_t err_len);
void outside_view_destroy(outside_view *v);

/* Draws into the pixel rectangle (x, y, w, h), origin top left, of an fb_w x fb_h
 * framebuffer; clears that rectangle first. Leaves the viewport set to the whole
 * framebuffer. */
void outside_view_draw(outside_view *v, const outside_scene *s, const outside_camera *cam,
                       int x, int y, int w, int h, int fb_w, int fb_h);

/* Where a phantom-frame point fell in the last draw (framebuffer px, origin top left); false
 * when behind the camera or before any draw. For labels and tests. */
bool outside_view_project(const outside_view *v, const double p_mm[3], float *px, float *py);

#endif
