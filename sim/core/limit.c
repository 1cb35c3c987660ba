/* limits: the table. Sources are shared/reference/tissue.md and ultrasound.md unless said. */
#include "limit.h"

#include <math.h>
#include <stddef.h>

#define L(id, name, unit, lo, hi) [id] = {name, unit, lo, hi, false}
#define L_OPEN(id, name, unit, lo, hi) [id] = {name, unit, lo, hi, true}

static const limit k_limits[LIM_COUNT] = {
    L(LIM_VERSION, "scenario version", "", 1, 1),
    L(LIM_SEED, "seed", "", 0, 4294967295.0),
    L(LIM_AGE_YEARS, "patient age", "years", 0, 120),

    L(LIM_PATCH_MM, "patch size", "mm", 10, 200),
    /* The patch is at most 200 mm across, so every point on it is within +-100 mm. */
    L(LIM_POSITION_MM, "position", "mm", -100, 100),
    /* 5 um: half the thinnest stratum corneum measured on the back (11 um at the shoulder,
     * Sandby-Moller 2003, tissue.md section 1a); a thinner layer is below any image's pixel. */
    L(LIM_LAYER_THICKNESS_MM, "layer thickness", "mm", 0.005, 50),
    L(LIM_LAYER_VARIATION, "layer thickness variation", "", 0, 0.5),
    /* An undulation shorter than 1 mm is finer than the lateral resolution (0.15 mm) only
     * by a few cells and reads as noise, not as a thickness change. */
    L(LIM_LAYER_WAVELENGTH_MM, "layer variation wavelength", "mm", 1, 1000),
    /* 10 um: a fifth of an image row (0.02 mm); less moves no pixel. */
    L(LIM_FEATURE_HEIGHT_MM, "surface feature height", "mm", 0.01, 20),
    /* A bump's sigma of 0.1 mm is already two image lines (0.05 mm apart); narrower is a
     * spike the surface model cannot carry. */
    L(LIM_FEATURE_WIDTH_MM, "surface feature width", "mm", 0.1, 100),
    L(LIM_ROTATION_DEG, "rotation", "deg", -360, 360),
    /* Dermal and subcutaneous vessels of the back: perforators 0.7 +- 0.24 mm across, lumbar
     * perforator bundles up to 5 mm (tissue.md section 7). A lumen under 0.1 mm across is
     * below the axial resolution (0.13 mm) and shows nothing. */
    L(LIM_VESSEL_RADIUS_MM, "vessel radius", "mm", 0.05, 10),
    L(LIM_VESSEL_WALL_MM, "vessel wall", "mm", 0, 2),
    L(LIM_INCLUSION_RADIUS_MM, "inclusion radius", "mm", 0.05, 25),
    L(LIM_INCLUSION_AMPLITUDE, "point reflector amplitude", "", 0.001, 1000),
    /* Gas (336 m/s, 1.26 kg/m3) to steel (5790 m/s, 7910 kg/m3), tissue.md section 2a. */
    L(LIM_TISSUE_SPEED_M_S, "speed of sound", "m/s", 200, 7000),
    L(LIM_TISSUE_DENSITY_KG_M3, "density", "kg/m^3", 0.5, 20000),
    L(LIM_TISSUE_ATTEN_DB_CM_MHZ, "attenuation", "dB/cm/MHz^b", 0, 50),
    L(LIM_TISSUE_ATTEN_EXPONENT, "attenuation exponent", "", 0.5, 2.5),
    L(LIM_TISSUE_BACKSCATTER, "backscatter", "", 0, 100),
    L(LIM_FAT_STRAIN_PER_N, "fat strain per newton", "1/N", 0, 1),
    L(LIM_FAT_MAX_STRAIN, "fat maximum strain", "", 0, 0.9),
    /* A vein that flattens under less than 0.1 N would be flat under the probe's own
     * weight. */
    L(LIM_VEIN_COLLAPSE_N, "vein collapse force", "N", 0.1, 50),
    L(LIM_SEPTA_SPACING_MM, "septa spacing", "mm", 0.2, 20),
    L(LIM_FIBRE_ANGLE_DEG, "muscle fibre angle", "deg", -180, 180),
    L(LIM_PENNATION_DEG, "muscle pennation", "deg", 0, 60),
    L(LIM_PERIMYSIUM_SPACING_MM, "perimysium spacing", "mm", 0.1, 10),
    /* Bone apexes from just under a thin skin (a prominence: 1 mm) to the lumbar transverse
     * processes at ~69 mm (Kawchuk 2011, shared/reference/anatomy.md section 2), past any
     * image depth; sizes from a 1 mm process tip to a 100 mm stretch of rib. */
    L(LIM_BONE_DEPTH_MM, "bone depth", "mm", 1, 80),
    L(LIM_BONE_SIZE_MM, "bone size", "mm", 1, 100),
    /* Per-layer overrides describe soft tissue: fat 1430 to tendon 1650 m/s and 920 to
     * 1120 kg/m3 (tissue.md section 2a), widened for what-if phantoms. Backscatter down to
     * -40 dB of dermis (0.01) and attenuation above 0, because 0 in a layer's def means "the
     * tissue's own"; a file that wants none leaves the key out or picks another tissue. */
    L(LIM_LAYER_BACKSCATTER, "layer backscatter", "", 0.01, 100),
    L(LIM_LAYER_SPEED_M_S, "layer speed of sound", "m/s", 1000, 2500),
    L(LIM_LAYER_DENSITY_KG_M3, "layer density", "kg/m^3", 800, 2000),
    L(LIM_LAYER_ATTEN_DB_CM_MHZ, "layer attenuation", "dB/cm/MHz^b", 0.01, 20),

    /* Dermatologic work at 10-22 MHz and 5-40 mm (ultrasound.md sections 1-2). */
    L(LIM_FREQ_MHZ, "probe frequency", "MHz", 10, 22),
    L(LIM_BANDWIDTH_FRAC, "fractional bandwidth", "", 0.2, 1.2),
    L(LIM_PITCH_MM, "element pitch", "mm", 0.03, 0.5),
    L(LIM_N_ELEMENTS, "element count", "", 16, 512),
    L(LIM_N_LINES, "image line count", "", 16, 1024),
    L(LIM_RX_FNUMBER, "receive f-number", "", 0.5, 5),
    L(LIM_FOCUS_MM, "focus depth", "mm", 1, 60),
    L(LIM_ELEV_HEIGHT_MM, "elevation height", "mm", 0.2, 10),
    L(LIM_DEPTH_MM, "image depth", "mm", 5, 40),
    L(LIM_GAIN_DB, "gain", "dB", -40, 60),
    L(LIM_DYNAMIC_RANGE_DB, "dynamic range", "dB", 20, 100),
    L(LIM_TGC_DB_CM_MHZ, "TGC slope", "dB/cm/MHz", 0, 5),
    L(LIM_TGC_ZONE_DB, "TGC zone gain", "dB", -40, 40),
    /* +-30 deg, where the window has always stopped, rather than the +-45 files allowed:
     * a flat linear face tilted further rests on its edge with a wedge of gel under it, and
     * fascia and tendon already turn hypoechoic beyond a few degrees of tilt (anisotropy,
     * Crass 1988, anatomy.md), so no case teaches anything at 45 that 30 does not; the
     * bundled cases and sessions stay within 15. Rock (heel-toe) as tilt, for the same
     * reason. */
    L(LIM_TILT_DEG, "probe tilt", "deg", -30, 30),
    L(LIM_ROCK_DEG, "probe rock", "deg", -30, 30),
    L(LIM_PRESSURE_N, "probe pressure", "N", 0, 50),

    /* Gauges 27/30/32 and lengths 4/6/13 mm (tissue.md 4, 4b; needle_check names the allowed
     * values). Puncture forces up to the 19.2 N top of the literature range (tissue.md 4). */
    L(LIM_NEEDLE_GAUGE, "needle gauge", "", 27, 32),
    L(LIM_NEEDLE_LENGTH_MM, "needle length", "mm", 4, 13),
    L(LIM_DIMPLE_RESIDUAL_FRAC, "dimple residual", "", 0, 1),
    L(LIM_HAEMATOMA_RADIUS_MM, "haematoma radius", "mm", 0.1, 10),
    L(LIM_HAEMATOMA_GROWTH_S, "haematoma growth time", "s", 0.1, 600),
    /* The case report's multi-injectors have 3 or 5 needles in a line (needle_check names the
     * allowed counts); their spacing was not found (training.md 4): up to the 20 mm that
     * needle_head_place accepts, from 0.5 mm, a little over two 27G shafts side by side. */
    L(LIM_NEEDLE_COUNT, "needle count", "", 1, 5),
    L(LIM_NEEDLE_SPACING_MM, "needle spacing", "mm", 0.5, 20),
    L(LIM_PUNCTURE_N, "puncture force", "N", 0, 20),
    /* A stiffness under 0.01 N/mm would dent the skin metres before a puncture. */
    L(LIM_INTERFACE_STIFFNESS_N_MM, "interface stiffness", "N/mm", 0.01, 100),
    L(LIM_FRICTION_N_MM, "shaft friction", "N/mm", 0, 5),
    L(LIM_CUTTING_N, "cutting force", "N", 0, 10),
    L(LIM_NEEDLE_ANGLE_DEG, "needle angle", "deg", 1, 90),
    L(LIM_NEEDLE_AZIMUTH_DEG, "needle azimuth", "deg", -360, 360),
    /* Any positive step up to a 13 mm needle plus margin. */
    L_OPEN(LIM_NEEDLE_STEP_MM, "needle step", "mm", 0, 20),

    /* Up to 5 mL per point (gas included); 1 uL is far below any intradermal bolus and the
     * drug model's volume step. */
    L(LIM_DRUG_VOLUME_ML, "volume per point", "mL", 0.001, 5),
    L_OPEN(LIM_INJECT_ML, "injected volume", "mL", 0, 5),
    L(LIM_INJECT_RATE_ML_S, "injection rate", "mL/s", 0.001, 1),
    L(LIM_BLEB_REF_ML, "reference bleb volume", "mL", 0.001, 1),
    L(LIM_BLEB_REF_MM, "reference bleb width", "mm", 0.1, 30),
    L(LIM_FRACTION, "fraction", "", 0, 1),
    L(LIM_FAT_SHEET_MM, "fat sheet thickness", "mm", 0.01, 5),
    L(LIM_GAS_FILL, "gas fill", "", 0.05, 1),
    L(LIM_GAS_FADE_S, "gas fade time", "s", 1, 36000),

    L(LIM_PLAN_SPACING_MM, "planned spacing", "mm", 0.5, 100),
    L(LIM_MARK_DEPTH_MM, "mark depth", "mm", 0, 20),
    L(LIM_PASS_MARK, "pass mark", "", 0, 100),
    L(LIM_WEIGHT, "score weight", "", 0, 100),
    L(LIM_ASSESSMENT_TOL_MM, "assessment tolerance", "mm", 0.01, 10),
    L(LIM_DEPTH_SD_TOL_MM, "depth spread tolerance", "mm", 0.01, 10),
    L(LIM_SPACING_TOL_MM, "spacing tolerance", "mm", 0.1, 100),
    L(LIM_TIME_LIMIT_S, "time limit", "s", 1, 86400),
    L(LIM_SUPERFICIAL_MARGIN_MM, "superficial margin", "mm", 0, 2),
    L(LIM_HINT_INJECTIONS, "hinted injections", "", 0, 50),
    /* Five steps from the guided first session (1) to the traps an experienced resident
     * should still catch (5): docs/authoring.md "level". */
    L(LIM_CASE_LEVEL, "difficulty level", "", 1, 5),
    /* A minute: longer is no slip of the finger but a step taken back after the fact. */
    L(LIM_UNDO_WINDOW_S, "undo window", "s", 0, 60),
    L(LIM_SWITCH, "switch", "", 0, 1),
    /* The plan holds at most 16 points (SCORE_MAX_PLAN_POINTS). */
    L(LIM_REQUIRED_POINTS, "required points", "", 0, 16),
    /* From half a millimetre (a needle's width of aim) to 50 mm, twice the widest spacing of
     * Mammucari 2011 (2-3 cm), beyond which "near the point" means nothing. */
    L(LIM_POINT_TOL_MM, "plan point tolerance", "mm", 0.5, 50),
    /* 20 mm is deeper than any needle reaches below the dermis: the item is then off. */
    L(LIM_OUTSIDE_DERMIS_TOL_MM, "outside-dermis tolerance", "mm", 0, 20),
    /* Calipers measure on the image: within half the widest field of view (512 elements of
     * 0.5 mm, LIM_N_ELEMENTS and LIM_PITCH_MM) and the deepest image (LIM_DEPTH_MM). */
    L(LIM_CALIPER_X_MM, "caliper lateral position", "mm", -128, 128),
    L(LIM_CALIPER_Z_MM, "caliper depth", "mm", 0, 40),
    /* Skin and perforator Doppler runs at 500-1000 Hz (anatomy.md section 5); 20 kHz is a
     * 40 cm/s scale at 18 MHz, beyond the fastest perforator. Linear arrays steer colour
     * beams up to about 20-30 degrees. */
    L(LIM_DOPPLER_PRF_HZ, "Doppler PRF", "Hz", 100, 20000),
    L(LIM_DOPPLER_STEER_DEG, "Doppler steering", "deg", -30, 30),
    L(LIM_DOPPLER_GAIN_DB, "colour gain", "dB", -30, 30),
};

const limit *limit_get(limit_id id)
{
    return (int)id >= 0 && id < LIM_COUNT ? &k_limits[id] : NULL;
}

bool limit_ok(limit_id id, double x)
{
    const limit *l = limit_get(id);
    if (!l || !isfinite(x))
        return false;
    bool low = l->min_exclusive ? !(x > l->min) : !(x >= l->min);
    return !low && x <= l->max;
}

double limit_clamp(limit_id id, double x)
{
    const limit *l = limit_get(id);
    if (!l)
        return x;
    double lo = l->min_exclusive ? nextafter(l->min, l->max) : l->min;
    if (!(x >= lo))
        return lo;
    return x > l->max ? l->max : x;
}
