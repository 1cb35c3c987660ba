/* limits: the one table of every numeric limit in the simulator.
 *
 * Every number a person can set - in a scenario file, an action log, the window's controls or
 * the command line - has its allowed range here, once: the scenario loader (k_fields in
 * scenario.c), the action parser (actions.c), probe_check, `mesosim render`'s options and the
 * trainer window all read it, so a value one of them accepts the others accept too. A limit
 * says what the quantity is (name), its unit and its closed range min..max (open below when
 * min_exclusive: "any positive advance").
 *
 * The ranges are physical plausibility for the thoracolumbar skin at 10-22 MHz that the
 * simulator teaches, and never wider than what the models accept (phantom_create,
 * probe_check, needle_check, drug_check, score_check). Minimums of sizes are sensible sizes,
 * never just "above zero": a 1e-170 mm bump or layer is no anatomy and only breaks the
 * arithmetic. Where a number is chosen, limit.c says why.
 *
 * The table is static data; nothing here allocates. */
#ifndef MESOSIM_LIMITS_H
#define MESOSIM_LIMITS_H

#include <stdbool.h>

typedef enum limit_id {
    /* The file and the patient. */
    LIM_VERSION,
    LIM_SEED,
    LIM_AGE_YEARS,
    /* The phantom. */
    LIM_PATCH_MM,                 /* width and length of the skin patch */
    LIM_POSITION_MM,              /* any point on or under the patch: features, vessel ends,
                                     inclusion centres, plan points, probe and needle entry */
    LIM_LAYER_THICKNESS_MM,
    LIM_LAYER_VARIATION,
    LIM_LAYER_WAVELENGTH_MM,
    LIM_FEATURE_HEIGHT_MM,
    LIM_FEATURE_WIDTH_MM,
    LIM_ROTATION_DEG,             /* probe rotation, fold direction */
    LIM_VESSEL_RADIUS_MM,
    LIM_VESSEL_WALL_MM,
    LIM_INCLUSION_RADIUS_MM,
    LIM_INCLUSION_AMPLITUDE,
    LIM_TISSUE_SPEED_M_S,
    LIM_TISSUE_DENSITY_KG_M3,
    LIM_TISSUE_ATTEN_DB_CM_MHZ,
    LIM_TISSUE_ATTEN_EXPONENT,
    LIM_TISSUE_BACKSCATTER,
    LIM_FAT_STRAIN_PER_N,
    LIM_FAT_MAX_STRAIN,
    LIM_VEIN_COLLAPSE_N,
    LIM_SEPTA_SPACING_MM,
    LIM_FIBRE_ANGLE_DEG,
    LIM_PENNATION_DEG,
    LIM_PERIMYSIUM_SPACING_MM,
    LIM_BONE_DEPTH_MM,            /* apex of a bone below the skin */
    LIM_BONE_SIZE_MM,             /* width, length and height of a bone */
    LIM_LAYER_BACKSCATTER,        /* per-layer acoustic overrides (0 in a def: the tissue's) */
    LIM_LAYER_SPEED_M_S,
    LIM_LAYER_DENSITY_KG_M3,
    LIM_LAYER_ATTEN_DB_CM_MHZ,
    /* The probe and the scanner. */
    LIM_FREQ_MHZ,
    LIM_BANDWIDTH_FRAC,
    LIM_PITCH_MM,
    LIM_N_ELEMENTS,
    LIM_N_LINES,
    LIM_RX_FNUMBER,
    LIM_FOCUS_MM,                 /* transmit focus and elevation lens focus */
    LIM_ELEV_HEIGHT_MM,
    LIM_DEPTH_MM,
    LIM_GAIN_DB,
    LIM_DYNAMIC_RANGE_DB,
    LIM_TGC_DB_CM_MHZ,
    LIM_TGC_ZONE_DB,
    LIM_TILT_DEG,
    LIM_ROCK_DEG,
    LIM_PRESSURE_N,
    /* The needle. */
    LIM_NEEDLE_GAUGE,
    LIM_NEEDLE_LENGTH_MM,
    LIM_DIMPLE_RESIDUAL_FRAC,
    LIM_HAEMATOMA_RADIUS_MM,
    LIM_HAEMATOMA_GROWTH_S,
    LIM_NEEDLE_COUNT,             /* needles of a multi-injector head */
    LIM_NEEDLE_SPACING_MM,
    LIM_PUNCTURE_N,
    LIM_INTERFACE_STIFFNESS_N_MM,
    LIM_FRICTION_N_MM,
    LIM_CUTTING_N,
    LIM_NEEDLE_ANGLE_DEG,         /* needle angle to the skin, the plan's recommended angle */
    LIM_NEEDLE_AZIMUTH_DEG,
    LIM_NEEDLE_STEP_MM,           /* one advance or retract */
    /* The drug. */
    LIM_DRUG_VOLUME_ML,           /* the planned volume per point */
    LIM_INJECT_ML,                /* one injection action */
    LIM_INJECT_RATE_ML_S,
    LIM_BLEB_REF_ML,
    LIM_BLEB_REF_MM,
    LIM_FRACTION,                 /* a share 0..1 (the wheal's share of the bleb) */
    LIM_FAT_SHEET_MM,
    LIM_GAS_FILL,
    LIM_GAS_FADE_S,
    /* The plan, the marks and the score. */
    LIM_PLAN_SPACING_MM,
    LIM_MARK_DEPTH_MM,            /* the dermis marks, depth below the skin */
    LIM_PASS_MARK,
    LIM_WEIGHT,
    LIM_ASSESSMENT_TOL_MM,
    LIM_DEPTH_SD_TOL_MM,
    LIM_SPACING_TOL_MM,
    LIM_TIME_LIMIT_S,
    LIM_SUPERFICIAL_MARGIN_MM,
    LIM_HINT_INJECTIONS,
    LIM_CASE_LEVEL,               /* a case's place in the library's progression */
    LIM_UNDO_WINDOW_S,            /* how old a step tick undo_step may take back */
    LIM_SWITCH,                   /* 0 off, 1 on (a critical item judged or not) */
    LIM_REQUIRED_POINTS,          /* planned points that must be injected, 0: all */
    LIM_POINT_TOL_MM,             /* how close a tip must come to a planned point */
    LIM_OUTSIDE_DERMIS_TOL_MM,    /* how far outside the dermis an injection may be */
    LIM_CALIPER_X_MM,             /* a caliper point: lateral from the probe centre ... */
    LIM_CALIPER_Z_MM,             /* ... and depth below the probe face */
    LIM_DOPPLER_PRF_HZ,           /* Doppler pulse repetition frequency (velocity scale) */
    LIM_DOPPLER_STEER_DEG,        /* Doppler beam steering in the image plane */
    LIM_DOPPLER_GAIN_DB,          /* colour gain */
    LIM_COUNT
} limit_id;

typedef struct limit {
    const char *name;   /* what it is, for messages: "probe frequency" */
    const char *unit;   /* "MHz", "mm", ...; "" when dimensionless */
    double min, max;    /* inclusive, except min when min_exclusive */
    bool min_exclusive;
} limit;

/* The limit of id; NULL when id is not one. */
const limit *limit_get(limit_id id);
/* x brought into the range (NaN becomes min; an exclusive min gives the next double above
 * it). An unknown id returns x. */
double limit_clamp(limit_id id, double x);
/* Whether x is within the range: false for NaN and infinities and for an unknown id. */
bool limit_ok(limit_id id, double x);

#endif
