/* needle: the mesotherapy needle, physics-lite: pose, insertion, tissue tracking, axial force.
 *
 * A rigid straight needle (a 4 mm 27-32G needle bends less than 0.1 mm, tissue.md section 4)
 * enters the skin at a point, at an angle to the local skin surface and an azimuth in the skin
 * plane (from +x toward +y). The trainee advances and retracts it along its axis, withdraws
 * it, or redirects it about the entry point. The needle keeps, for the track it is on, the
 * tissue met every NEEDLE_TRACK_STEP_MM along the axis, so where the tip and every point of
 * the shaft lie, and the force, are table look-ups.
 *
 * Insertion is split three ways (all along the axis, mm):
 *   travel   = how far the hand has pushed the needle since the tip touched the skin;
 *   dimple   = skin indentation: the surface gives before it is punctured, and part of the
 *              dent stays, held by friction, after the pop (dimple_residual_frac);
 *   load     = compression of the next interface ahead of the tip inside the body;
 *   inserted = travel - dimple - load: the shaft length inside tissue, which places the tip
 *              in tissue coordinates (the static phantom frame).
 * So at the moment of puncture the tip is shallower than the hand's travel suggests.
 *
 * Axial force (three-term model of Okamura, Simone & O'Leary 2004, tissue.md section 4):
 * stiffness of the loaded interface (linear spring up to the tissue's puncture threshold),
 * friction per mm of shaft in each tissue, cutting force at the tip while advancing. Each
 * entry into a new layer (or a vessel) through uncut tissue is a "pop": the load is released
 * and the tip jumps forward by it.
 *
 * Units: mm, N, degrees at this edge. A needle owns its track table; create/destroy pair. */
#ifndef MESOSIM_NEEDLE_H
#define MESOSIM_NEEDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "phantom.h"
#include "tissue.h"

#define NEEDLE_TRACK_STEP_MM 0.005
#define NEEDLE_MAX_LENGTH_MM 13.0

typedef struct needle_tissue_mech {
    double puncture_n;     /* axial force at which the tip breaks into this tissue */
    double stiffness_n_mm; /* spring of the interface ahead of the tip before puncture */
    double friction_n_mm;  /* kinetic friction per mm of shaft inside this tissue */
    double cutting_n;      /* force to cut through this tissue while advancing */
} needle_tissue_mech;

typedef struct needle_def {
    int gauge;                   /* 27, 30 or 32 */
    double length_mm;            /* 4, 6 or 13: the hub stops insertion at this length */
    bool bevel_up;
    double dimple_residual_frac; /* share of the skin dent that stays after the pop, 0..1 */
    double haematoma_radius_mm;  /* final radius of the bleed after a vessel puncture */
    double haematoma_growth_s;   /* time constant of its growth */
    /* A multi-injector head (needle_head_place): 1 (a single needle), 3 or 5 needles in a
     * rigid line spacing_mm apart across the azimuth. */
    int count;
    double spacing_mm;
    needle_tissue_mech mech[TISSUE_COUNT];
} needle_def;

/* 4 mm 30G needle, bevel up; mechanics in needle.c with their sources and assumptions. */
needle_def needle_default_def(void);
/* Outer / inner diameter of a gauge (tissue.md section 4); 0 for an unknown gauge. */
double needle_gauge_od_mm(int gauge);
double needle_gauge_id_mm(int gauge);
/* NULL when valid, else a static message naming the bad field. */
const char *needle_check(const needle_def *d);

typedef enum needle_event_kind {
    NEEDLE_EV_POP = 0, /* the tip broke into a new layer or vessel */
    NEEDLE_EV_VESSEL,  /* the tip entered a vessel wall or lumen */
    NEEDLE_EV_HUB,     /* the hub reached the skin: insertion stopped */
    NEEDLE_EV_BONE     /* the tip met bone: it cannot advance, insertion stopped */
} needle_event_kind;

typedef struct needle_event {
    needle_event_kind kind;
    int layer;        /* layer entered (POP), else the tip's layer */
    int vessel;       /* vessel index, -1 when none */
    tissue_id tissue; /* tissue entered */
    double travel_mm, inserted_mm;
    double force_n;   /* stiffness force at the pop */
    double p_mm[3];   /* tip, tissue coordinates */
} needle_event;

typedef struct needle needle;

needle *needle_create(const needle_def *def);
void needle_destroy(needle *n);
/* An independent copy (for snapshots read on other threads); NULL when out of memory. */
needle *needle_clone(const needle *n);
const needle_def *needle_get_def(const needle *n);

/* Places the tip on the skin at (x, y) with the given angle to the surface (1..90 deg) and
 * azimuth. Fails (returns false, message in err) when the needle is already in the skin. */
bool needle_enter(needle *n, const phantom *ph, double pressure_n, double x_mm, double y_mm,
                  double angle_deg, double azimuth_deg, char *err, size_t err_len);
/* Pivots the needle about its entry point to a new angle and azimuth, keeping the inserted
 * length; the shaft sweeps the tissue of the new track up to the tip (cut, no pops). */
bool needle_redirect(needle *n, const phantom *ph, double pressure_n, double angle_deg,
                     double azimuth_deg, char *err, size_t err_len);
/* Rebuilds the track table (call when probe pressure moves the layers). */
void needle_retrack(needle *n, const phantom *ph, double pressure_n);
/* The probe face the track is read under (phantom_at_contact), so the needle meets the
 * anatomy the image shows; NULL or off: no face. Takes effect at the next (re)track. */
void needle_set_contact(needle *n, const phantom_contact *c);
/* Pushes the needle mm along its axis. Writes up to max_ev events; returns how many
 * happened (may exceed max_ev). */
int needle_advance(needle *n, double mm, needle_event *ev, int max_ev);
/* Pulls back mm; out of the skin when the inserted length reaches 0. */
void needle_retract(needle *n, double mm);
void needle_withdraw(needle *n);

bool needle_placed(const needle *n);   /* tip on or in the skin */
bool needle_in_skin(const needle *n);  /* skin punctured and shaft inside */
double needle_travel_mm(const needle *n);
double needle_inserted_mm(const needle *n);
double needle_dimple_mm(const needle *n);
double needle_load_mm(const needle *n);
void needle_entry_mm(const needle *n, double out[3]);
void needle_dir(const needle *n, double out[3]);
double needle_angle_deg(const needle *n);
double needle_azimuth_deg(const needle *n);
/* Point of the shaft s mm from the entry along the axis, tissue coordinates. */
void needle_point_mm(const needle *n, double s_mm, double out[3]);
void needle_tip_mm(const needle *n, double out[3]);
/* Tissue, layer, vessel at shaft position s (from the track table). */
tissue_id needle_tissue_at(const needle *n, double s_mm, int *layer, int *vessel);
/* Shaft length in each layer (out[PHANTOM_MAX_LAYERS]) and in vessels (*in_vessel_mm). */
void needle_layer_lengths(const needle *n, double *out_mm, double *in_vessel_mm);

/* Axial force resisting the hand (N, > 0 pushes back) at this state, moving at velocity
 * (mm/s, > 0 advancing). O(1): for haptics at 1 kHz. */
double needle_force_n(const needle *n, double velocity_mm_s);

/* The shaft inside tissue as a steel capsule (tissue coordinates); false when not in skin. */
bool needle_shaft(const needle *n, phantom_inclusion *out);

/* A multi-injector head: count needles (1..NEEDLE_HEAD_MAX) parallel in a rigid line across
 * the needle's azimuth, spacing_mm apart, pushed together. The case report: multi-injectors
 * "with 3 or 5 needles arranged in a line ... may fail to ensure uniform needle depth"
 * (seed-case-report.txt). Their spacing was not found (shared/reference/training.md 4): it is
 * the caller's (an assumption). The middle needle enters the skin at (x, y) at angle_deg to
 * the skin there and azimuth_deg, as needle_enter; the head being rigid, every needle has that
 * direction and its tip lies inserted_mm along it from the head's line through the middle
 * entry. On curved skin the outer needles meet the skin sooner or later than the middle one,
 * so their tips lie at other depths below their own skin, and some stay above it.
 *
 * Geometry only, at rest (no dimple or load, under probe force pressure_n): what the head
 * puts where, for the verdicts of a head against the single needle. The session places the
 * head this way at each injection of a case with needle.count > 1 (the report's `needles`). */
#define NEEDLE_HEAD_MAX 5

typedef struct needle_head_tip {
    double offset_mm;     /* along the line across the azimuth, from the middle needle */
    double entry_mm[3];   /* where this needle crosses the skin (the tip when it never does) */
    double tip_mm[3];
    double inserted_mm;   /* shaft length under the skin; <= 0: the needle is not in the skin */
    double depth_mm;      /* tip below the skin straight above it (negative: above the skin) */
    phantom_sample at;    /* what is at the tip */
} needle_head_tip;

/* Fills out[0..count) from one side of the line to the other. Returns count, or 0 with a
 * message in err for a count outside 1..NEEDLE_HEAD_MAX, a spacing <= 0 or > 20 mm, an angle
 * outside 1..90 deg or an inserted length outside 0..NEEDLE_MAX_LENGTH_MM. */
int needle_head_place(const phantom *ph, double pressure_n, int count, double spacing_mm, double x_mm,
                      double y_mm, double angle_deg, double azimuth_deg, double inserted_mm,
                      needle_head_tip *out, char *err, size_t err_len);

#endif
