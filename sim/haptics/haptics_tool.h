/* haptics_tool: a tracked tool's pose turned into session input.
 *
 * Trackers and haptic pens report where a tool is (phantom frame, after calibration); the
 * session wants actions (docs/actions.md). This module is the rule book between them, the same
 * for every source (the OpenIGTLink server, a haptic plugin):
 *
 * Needle (tip position and unit direction from hub to tip; z grows into the body):
 *   - out of the skin, pointing into the body (more than 1 degree below the skin plane): when
 *     the tip reaches the skin surface (z >= the surface's z at its x, y) a `needle_entry` is
 *     pushed there, at the tool's angle to the skin plane (clamped to 1..90 degrees) and its
 *     azimuth (from +x toward +y); what the tip is already past the surface goes on as travel;
 *   - in: the travel along the entry's axis, s = (tip - entry) . axis, is the hand's push;
 *     each change of s goes to driver_push_needle_motion (advance > 0, retract < 0: the dent,
 *     the pops and the hub stop all come from the needle model), from the first sample after
 *     the session has applied the entry (what came before is in that first change);
 *   - the direction turning more than redirect_tol_deg from the axis (at most every
 *     redirect_min_s) pushes a `redirect` about the entry point, which becomes the new axis;
 *   - s falling below -lift_off_mm (the tip back above its entry) pushes a `withdraw`; so does
 *     the session's needle being out (a refused entry, a full retract) after half a second:
 *     the next time the tip reaches the skin is a new pass.
 * Probe (the face centre and its frame: column 0 the long axis, column 2 the beam, into the
 * body): x, y from the face centre; rot_deg from the long axis in the skin plane; tilt_deg
 * (elevation) and rock_deg (in the image plane) from the beam, clamped to the actions' +-30;
 * pressure_n = skin_stiffness_n_mm x how far the face is below the skin surface (0..50 N).
 * All six go to driver_push_probe_pose; the driver decimates (docs/driver.md).
 *
 * The tool keeps its latest pose and the travel velocity (for the haptic force) in `pose`.
 * Not thread-safe: one tool per source thread. */
#ifndef MESOSIM_HAPTICS_TOOL_H
#define MESOSIM_HAPTICS_TOOL_H

#include <stdbool.h>

#include "driver.h"

typedef struct haptics_tool_def {
    double skin_stiffness_n_mm; /* probe face indentation to contact force: 2 N/mm (see .c) */
    double redirect_tol_deg;    /* 3 */
    double redirect_min_s;      /* 0.1 */
    double lift_off_mm;         /* 0.5 */
    double velocity_tau_s;      /* low-pass of the travel velocity: 0.01 s */
} haptics_tool_def;

haptics_tool_def haptics_tool_default_def(void);

/* What the haptics loop needs of the hand: the latest pose, phantom frame. */
typedef struct haptics_pose {
    double t_s;
    bool has_needle;
    double tip_mm[3], dir[3];
    double velocity_mm_s;       /* along the needle's axis, > 0 advancing */
    bool has_probe;
    double probe_mm[3];
} haptics_pose;

typedef struct haptics_tool {
    haptics_tool_def def;
    bool entered;
    double entry_mm[3], axis[3];
    double entered_t_s, last_redirect_t_s;
    double s_mm;                /* travel pushed so far */
    double last_t_s, last_s_mm;
    bool have_last;
    long long entries, redirects, withdraws;
    haptics_pose pose;
} haptics_tool;

void haptics_tool_init(haptics_tool *t, const haptics_tool_def *def);
/* A needle sample: tip (mm) and direction (any length > 0), phantom frame. */
void haptics_tool_needle(haptics_tool *t, driver *d, double t_s, const double tip_mm[3], const double dir[3]);
/* A probe sample: face centre (mm) and frame r[row][col] (columns: long axis, elevation, beam). */
void haptics_tool_probe(haptics_tool *t, driver *d, double t_s, const double face_mm[3], const double r[3][3]);

#endif
