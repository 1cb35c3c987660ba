/* bmode_model: the parts of the B-mode model that the fast path (bmode.c) and the plain
 * reference (bmode_reference.c) share, so both implement exactly one model:
 *  - per-frame set-up: image geometry, PSF kernels, elevation profile, gains;
 *  - line classification: tissue, diffuse amplitude (backscatter x texture x attenuation x
 *    transmission) and the echo events (specular interfaces, point reflectors, needle shaft
 *    samples, reverberation) of one image line, given the layer heights along it.
 * Internal to sim/core. */
#ifndef MESOSIM_BMODE_MODEL_H
#define MESOSIM_BMODE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bmode.h"
#include "phantom.h"
#include "probe.h"

/* Scatterer voxel pitch in the tissue frame. Axially ~lambda/4 at 18 MHz; 0.1 mm across so
 * that the elevation sum stays affordable. Scatterer amplitudes are complex and independent,
 * so the envelope stays Rayleigh whatever the density (ultrasound.md section 4, item 1). */
/* Objects one line can meet: vessels, the scenario's inclusions, the world's dynamic ones. */
#define BM_MAX_OBJECTS (PHANTOM_MAX_VESSELS + PHANTOM_MAX_INCLUSIONS + BMODE_MAX_DYN + PHANTOM_MAX_BONES)
#define BM_MAX_CAPSULES (PHANTOM_MAX_INCLUSIONS + BMODE_MAX_DYN)

#define BM_VOX_XY_MM 0.1
#define BM_VOX_Z_MM 0.02
/* Voxels per mm, exact in binary, so both paths scale coordinates by multiplication. */
#define BM_VOX_PER_MM_XY 10.0
#define BM_VOX_PER_MM_Z 50.0
/* Elevation samples are taken one voxel apart, out to 2 sigma of the elevation profile
 * (beyond it less than 0.5 % of the profile's energy). Each sampled voxel is weighted by the
 * profile at its own centre's distance from the image plane (quantised to 5 um), not at the
 * sample's, so speckle changes continuously as the probe moves in elevation. */
#define BM_ELEV_STEP_MM BM_VOX_XY_MM
#define BM_ELEV_DQ_MM 0.005
/* The voxel grid is shifted by an odd fraction of a voxel so that round positions (whole and
 * half columns, whole mm, elevation samples at multiples of the voxel pitch) never sit exactly
 * on a voxel edge, where float and double arithmetic could pick different voxels. Indices are offset to stay
 * positive (|coordinate| / 0.02 mm < 16384 inside the 200 mm patch limit). */
#define BM_VOX_BIAS 0.2371
#define BM_VOX_OFFSET 16384
#define BM_ELEV_SIGMAS 2.0
/* Display: the envelope dB level drawn at full scale is 0; the model's unit-backscatter
 * (dermis) speckle sits ~20 dB below it at gain 0 (assumption, a display choice). */
#define BM_REF_LEVEL_DB (-17.0)
/* Specular echo of a flat interface at normal incidence = SPEC_GAIN * R times the mean dermis
 * speckle amplitude: R = 0.13 (dermis/fat, tissue.md 2b) shows about 6 dB over the dermis.
 * Calibrated so the fascia line sits ~+12 dB as in the reference run (ultrasound.md 2). */
#define BM_SPEC_GAIN 15.0
/* Specular lobe: echoes return to the aperture while the incidence is within ~10 degrees
 * (half the receive aperture's angle at F# 1.35, since reflection doubles the angle); a rough
 * floor keeps oblique interfaces faintly visible. Steel scatters more off-specular. */
#define BM_SPEC_THETA0_DEG 10.0
#define BM_SPEC_FLOOR 0.1
/* Specular anisotropy of fascia: its diffuse brightness follows the same specular lobe as
 * interface echoes (BM_SPEC_THETA0_DEG), down to a floor of 0.3 in amplitude (-10.5 dB), where
 * its 3-4x backscatter falls to about the dermis's: the excess is the aligned collagen
 * sheets' specular return (assumption; ultrasound.md section 4 item 3 asks for angle-dependent
 * specular layers, tendon and fascia anisotropy being the classic artefact). */
#define BM_FASCIA_FLOOR 0.3
/* Specular anisotropy of tendon (Crass, van de Vegte & Harkavy 1988, Radiology 167:499;
 * anatomy.md 3): brighter than muscle with the fibres square to the beam, isoechoic at 2-7 deg
 * of tilt, hypoechoic beyond. With backscatter 2.0 against muscle's 0.5, a lobe of 3 deg and
 * a floor of 0.15 put isoechoic at 4.5 deg (the range's middle) and leave 0.3, -4.4 dB under
 * muscle, at large tilts [derived]. No dB-per-degree figure was found. */
#define BM_TENDON_THETA0_DEG 3.0
#define BM_TENDON_FLOOR 0.15
/* Cortical bone is rough on the scale of the wavelength: its surface echo stays bright off
 * the specular angle ("very hyperechoic", shared/reference/anatomy.md section 1). Assumption:
 * half the normal-incidence echo at any angle. */
#define BM_BONE_FLOOR 0.5
/* The cortex is the brightest line of a musculoskeletal image, above any fascia: the curved
 * apex spreads SPEC_GAIN * R over a few lines only, so it gets 4x (+12 dB) on top. A
 * calibration against that appearance, not a measured figure. */
#define BM_BONE_ECHO_GAIN 4.0
/* Steel's off-specular (rough-surface) echo per unit length, relative to its specular echo at
 * normal incidence. Assumption, set so an oblique shaft reads about 10 dB over dermis and an
 * out-of-plane dot about 20 dB, clearly hyperechoic as needles are in clinical images
 * (tissue.md section 3, needle rows); an in-plane shaft near perpendicular to the beam adds
 * its specular echo on top. */
#define BM_STEEL_DIFFUSE 2.0
/* Strong reflectors (|R| > 0.5: gas, steel) ring down: copies below the echo. Hollow-needle
 * reverberation repeats at the shaft diameter (Toronto PIE); gas ring-down spacing 0.2 mm and
 * the decay 0.45 per copy are assumptions. */
#define BM_RINGDOWN_COPIES 6
#define BM_RINGDOWN_DECAY 0.45
#define BM_GAS_RINGDOWN_MM 0.2
/* Needle shaft sampled every 0.01 mm along its axis, from the tip (capsule end b), so the
 * samples move with the needle. Each sample echoes specularly (coherent, phase from its depth,
 * the cylinder's specular lobe) and diffusely (steel's off-specular scattering, a phase fixed
 * to that point of the shaft, adding incoherently): a steep shaft is seen by the diffuse part. */
#define BM_SHAFT_STEP_MM 0.01

/* Electronic noise, added to the received field before TGC, gain and detection, so its level
 * is fixed at the receiver's input: it rises with gain and with the TGC's depth gain, and
 * shows first in anechoic lumens and deep shadows as the gain is turned up. Level relative to
 * the unattenuated dermis speckle: -74 dB (assumption, set so that at gain 0 it stays under
 * the 60 dB display floor down to about 10 mm at 18 MHz and shows in a lumen at 5 mm from
 * about +15 dB of gain). Near-field clutter (reverberation in the lens, gel and epidermis,
 * ultrasound.md section 2 notes the top 0.3 mm ring-down of the reference run) adds
 * -22 dB at the face, its amplitude falling e-fold every 0.3 mm (under the noise by 2 mm). Both are fixed to the image
 * (line, row) and the scenario seed, so a frame is deterministic. */
/* Reverberation in a gel gap: the skin's entry echo bounces off the probe face and back off
 * the skin, so copies of it appear at 2, 3, ... times the gap's depth, each weaker by
 * BM_FACE_R x R (the skin's reflection with its specular lobe). The face's reflection is
 * the lens against the stiff matching layers behind it; 0.5 is an assumption (no figure for
 * this probe). The copies travel in gel only: no tissue losses. Gaps under two samples put
 * the copies on the entry echo itself (the near-field clutter covers that case). */
#define BM_FACE_R 0.5
#define BM_GEL_REVERB_COPIES 4
#define BM_NOISE_REL 2.0e-4
#define BM_CLUTTER_REL 0.08
#define BM_CLUTTER_MM 0.3
/* Liquid in fat (phantom_inclusion.follows_lobules) is drawn where it dissects the fat: in a
 * band BM_LOBULE_BAND_MM either side of the lobule borders, within an ellipsoid
 * BM_LOBULE_SPREAD times as thick as the deposit's sheet. With 1.5 mm lobules the band fills
 * about half of that ellipsoid, so the drawn liquid is about the deposit's volume
 * (assumption; oedema bands in fat reach 3 mm, Rettenbacher, anatomy.md 7). */
#define BM_LOBULE_BAND_MM 0.15
#define BM_LOBULE_SPREAD 2.0

typedef struct bm_event {
    double z_mm;       /* depth along the line */
    double amp;        /* signed real amplitude in field units (phase added at splat time) */
    double weight;     /* lateral weight for this line (tent), 1 for full-line echoes */
    double phase_rad;  /* extra phase (rough-surface scattering), 0 for specular echoes */
} bm_event;

typedef struct bm_capsule {
    double a[3], b[3];  /* axis in image coordinates (lateral, elevation, depth) */
    double radius;
    double len;
} bm_capsule;

typedef struct bm_setup {
    const phantom *ph;
    const phantom_def *d;
    probe_def p;
    probe_pose pose;
    probe_frame fr;
    const phantom_inclusion *dyn;
    int n_dyn;

    int rows, cols, margin, lines; /* lines = cols + 2 * margin (margin lines feed the PSF) */
    double dz, dx, x0;
    double k2;                     /* two-way wavenumber 4 pi / lambda, rad/mm */
    int ka;                        /* axial kernel half-width, samples */
    double *g_ax;                  /* 2ka+1 taps, unit energy */
    int kl;                        /* lateral kernel half-width, columns */
    double *h_lat;                 /* rows x (2kl+1), unit energy per row */
    double *sig_el;                /* rows: elevation profile sigma, mm */
    double *elev_norm;             /* rows: 1 / sqrt(energy of the nominal elevation weights) */
    double *spec_norm;             /* rows: scale for a full-line specular impulse */
    double *gain_db;               /* rows: gain + TGC + reference level */
    float *noise_amp;              /* rows: noise + near-field clutter amplitude (field units) */
    double att_db[TISSUE_COUNT];   /* one-way attenuation per sample, dB */
    double att_step[TISSUE_COUNT]; /* two-way amplitude factor per sample */
    double att_ln[TISSUE_COUNT];   /* its logarithm, to mix tissues in one sample */
    double sig_el_max;             /* widest elevation sigma over the image, mm */
    double z_mrayl[TISSUE_COUNT];
    double bs[TISSUE_COUNT];
    int n_layers;
    tissue_id layer_tissue[PHANTOM_MAX_LAYERS];
    /* Per layer, the tissue's values with the layer's acoustic overrides applied. */
    double layer_att_step[PHANTOM_MAX_LAYERS];
    double layer_att_ln[PHANTOM_MAX_LAYERS];
    double layer_z_mrayl[PHANTOM_MAX_LAYERS];
    double layer_bs[PHANTOM_MAX_LAYERS];
    bool layer_textured[PHANTOM_MAX_LAYERS]; /* fat lobules, muscle fibres, tendon fascicles */
    bm_capsule caps[BM_MAX_CAPSULES];
    int n_caps;
    /* Per vessel, what its chord along the elevation line needs that is the same for every
     * point of the frame (the elevation direction is the frame's): the vessel's start, axis
     * and length, its cross-section axes, and per tube (0: wall, 1: lumen) the across-axis
     * coordinates' rate along the elevation line, in radii. */
    struct bm_vessel_chord {
        double a[3], dir[3], eh[3], ev[3], len;
        double rh[2], rv[2];
        double h1[2], v1[2], s1, qa[2];
    } vchord[PHANTOM_MAX_VESSELS];
} bm_setup;

int bm_setup_init(bm_setup *s, const bmode_scene *scene, char *err, size_t err_len);
/* For a context that renders frame after frame: keeps the probe's per-row tables when the
 * probe and its settings are unchanged (*probe_changed false), and always redoes the scene's
 * part. have: s holds a set-up from an earlier call. On failure s is freed. */
int bm_setup_update(bm_setup *s, int have, const bmode_scene *scene, bool *probe_changed, char *err,
                    size_t err_len);
void bm_setup_free(bm_setup *s);

/* Elevation profile weight (amplitude, two-way) at elevation offset y for row r. */
double bm_elev_weight(const bm_setup *s, int row, double y_mm);

/* The scatterer field's elevation sum: planes e = -n..n (n from bm_elev_planes) sampled at
 * e * BM_ELEV_STEP_MM from the image plane; the voxel a sample falls in is weighted by
 * bm_elev_voxel_weight(row, k) with k its centre's quantised distance from the plane
 * (bm_elev_k). The weights have unit energy per row over the nominal planes. */
int bm_elev_planes(const bm_setup *s);
int bm_elev_k(double d_mm);
double bm_elev_voxel_weight(const bm_setup *s, int row, int k);
/* Centre of voxel (ix, iy, iz) (indices as hashed, offset included) in the phantom frame. */
void bm_voxel_centre(int32_t ix, int32_t iy, int32_t iz, double c_mm[3]);

#define BM_OBJ_NONE (-1)
#define BM_OBJ_UNSET (-2)
#define BM_OBJ_INCL 1000
#define BM_OBJ_BONE 2000 /* + bone index; above every inclusion id */

typedef struct bm_line {
    uint8_t *tissue;  /* rows */
    float *amp;       /* rows: diffuse amplitude incl. two-way losses */
    float *loss;      /* rows: two-way attenuation x transmission down to the sample */
    int8_t *layer;    /* rows: layer index, -1 above the skin */
    float *htop;      /* rows: depth of that layer's top at the sample */
    int16_t *objid;   /* rows: 2 vessel + (1 lumen, 0 wall), BM_OBJ_INCL + inclusion, or
                         BM_OBJ_NONE */
    float *frac;      /* rows: share of the elevation beam's energy inside that object */
    bm_event *ev;
    int n_ev, cap_ev;
    struct shaft_hit *hits; /* scratch for needle-shaft samples */
    int cap_hits;
    struct lobule_cache *lobules; /* the fat's sites, kept from line to line (lobules.h) */
} bm_line;

/* Layer heights, their slopes and the texture cell along one line, at nodes in depth: one node
 * for a line that stays at one (x, y), a node every 0.5 mm for a tilted line (linear in
 * between; layers vary over millimetres), or one per row (the reference path). */
typedef struct bm_nodes {
    int k;
    int per_row;
    double dz_node;
    int n;                       /* layers */
    double *h, *gx, *gy;         /* k x n */
    phantom_texture_cell *cell;  /* k */
    int cap;
} bm_nodes;

/* Fills the node table of line li (grows its arrays). Returns -1 when out of memory. */
int bm_nodes_fill(const bm_setup *s, int li, int per_row, bm_nodes *nd);
void bm_nodes_free(bm_nodes *nd);

int bm_line_alloc(bm_line *l, int rows);
void bm_line_free(bm_line *l);

/* Classifies line li (0..lines-1; the first margin lines lie left of the image) from its node
 * table: tissue, diffuse amplitude and losses per row, and the echo events. */
void bm_classify_line(const bm_setup *s, int li, const bm_nodes *nd, bm_line *out);

/* Phantom-frame point of line li at depth z. */
void bm_line_point(const bm_setup *s, int li, double z_mm, double out[3]);

/* Adds the receiver noise and near-field clutter of line li (BM_NOISE_REL) to its field. */
void bm_add_noise(const bm_setup *s, int li, float *re, float *im);

/* Adds an event's splat (sub-sample position, baseband phase) into a complex line buffer. */
void bm_splat(const bm_setup *s, const bm_event *e, float *re, float *im);

#endif
