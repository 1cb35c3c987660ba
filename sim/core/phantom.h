/* phantom: the layered 3D skin patch in the tissue (phantom) frame.
 *
 * Frame (DESIGN.md): origin on the skin surface at the centre of the patch, x lateral, y
 * elevational, z depth into the body (+z down). Millimetres throughout.
 *
 * The skin surface is a smooth height field h0(x, y) (0 at rest, raised by a bony prominence,
 * lowered by a depression or a fold). Each layer below has a thickness that may vary slowly
 * across the patch; layer i occupies h_i(x,y) <= z < h_{i+1}(x,y) with h_{i+1} = h_i + t_i.
 * The last layer extends to the bottom. Vessels are straight tubes; inclusions are point
 * reflectors, spheres/ellipsoids of any tissue (cysts, gas pockets, injected drug, haematoma)
 * and capsules (a needle shaft). Bones (spinous and transverse processes, ribs) are ellipsoid
 * ridges of cortical bone under the layers. Probe pressure compresses fat and collapses veins.
 *
 * Surface features shape the skin and the fat under it: a depression or a fold moves each
 * interface by its displacement times exp(-depth / width), so a shallow crease dies out
 * before the deep fascia; a prominence is bone close under the skin, lifting the column with
 * the fat thinned over its apex. A probe face (phantom_contact) deforms the soft tissue to
 * meet it: the layers above bone compress by their compliance (fat most, dermis little), and
 * gel gaps stay only where the face cannot reach.
 *
 * phantom_def is plain data with fixed-size arrays (copyable, zero-allocation); a phantom is a
 * checked, immutable copy of it made by phantom_create and freed by phantom_destroy. Every
 * query is a pure function of the phantom and its arguments. */
#ifndef MESOSIM_PHANTOM_H
#define MESOSIM_PHANTOM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tissue.h"

#define PHANTOM_MAX_LAYERS 12
#define PHANTOM_MAX_FEATURES 8
#define PHANTOM_MAX_VESSELS 16
#define PHANTOM_MAX_INCLUSIONS 32
#define PHANTOM_MAX_BONES 8

/* Texture override of one layer: the tissue's own (fat lobules, muscle fibres, tendon
 * fascicles where it has one), or plain speckle. */
typedef enum phantom_layer_texture {
    PHANTOM_TEXTURE_TISSUE = 0, /* not overridden: as the tissue has it */
    PHANTOM_TEXTURE_ON,         /* set on in the file: the tissue's texture */
    PHANTOM_TEXTURE_OFF         /* plain speckle at the layer's backscatter */
} phantom_layer_texture;

/* Acoustic overrides of one layer (issue 9, for the people who check the physics): a value
 * of 0 keeps the layer tissue's own. They change the B-mode only; the tissue still names what
 * the needle is in, so verdicts never depend on them. */
typedef struct phantom_layer_acoustic {
    double backscatter;           /* relative to dermis (1), like tissue_props.backscatter */
    double speed_m_s;             /* with density: the impedance at the layer's interfaces */
    double density_kg_m3;
    double atten_db_cm_mhz;       /* alpha0, one way; the tissue's exponent b is kept */
    phantom_layer_texture texture;
} phantom_layer_acoustic;

/* A layer that keeps its tissue's acoustics, for positional initialisers of a layer def. */
#define PHANTOM_NO_OVERRIDES {0.0, 0.0, 0.0, 0.0, PHANTOM_TEXTURE_TISSUE}

typedef struct phantom_layer_def {
    tissue_id tissue;
    double thickness_mm;            /* mean thickness; ignored for the last (bottom) layer */
    double variation;               /* slow fractional thickness variation, 0 .. 0.5 */
    double variation_wavelength_mm; /* spatial scale of that variation (default 20 mm) */
    phantom_layer_acoustic acoustic;
} phantom_layer_def;

/* The layer's tissue properties with its overrides applied. */
tissue_props phantom_layer_props(const tissue_table *tissues, const phantom_layer_def *l);

typedef enum phantom_feature_kind {
    PHANTOM_PROMINENCE = 0, /* bony prominence: a smooth bump that raises the surface */
    PHANTOM_DEPRESSION,     /* a smooth dip */
    PHANTOM_FOLD,           /* a crease along a line through (x, y) at angle_deg from +x */
    PHANTOM_WHEAL           /* a bump raised by fluid in the skin: lifts the skin layers only,
                               the dermis thickens and the layers below stay put */
} phantom_feature_kind;

typedef struct phantom_feature_def {
    phantom_feature_kind kind;
    double x_mm, y_mm;
    double height_mm; /* how far the surface moves (always > 0) */
    double width_mm;  /* Gaussian sigma of the bump, dip or crease profile */
    double angle_deg; /* fold direction */
} phantom_feature_def;

typedef struct phantom_vessel_def {
    double a_mm[3], b_mm[3]; /* straight centreline from a to b, phantom frame */
    double radius_mm;        /* lumen radius */
    double wall_mm;          /* wall thickness */
    bool is_vein;            /* veins collapse under probe pressure */
} phantom_vessel_def;

typedef enum phantom_inclusion_kind {
    PHANTOM_POINT = 0,   /* point reflector: amplitude only, no volume */
    PHANTOM_ELLIPSOID,   /* axis-aligned ellipsoid (a sphere when radii are equal) */
    PHANTOM_CAPSULE      /* segment a..b with radius: a needle shaft */
} phantom_inclusion_kind;

typedef struct phantom_inclusion {
    phantom_inclusion_kind kind;
    tissue_id tissue;      /* content (FLUID for a cyst, GAS, STEEL, HAEMATOMA, ...) */
    double c_mm[3];        /* point / ellipsoid centre */
    double radii_mm[3];    /* ellipsoid semi-axes */
    double a_mm[3], b_mm[3];
    double radius_mm;      /* capsule radius */
    double amplitude;      /* point reflector strength relative to a dermis resolution cell */
    /* Ellipsoids only: how far the border strays from the ellipse across the skin plane
     * (0: a plain ellipsoid; 0.1: about +-10 % of the radius, in 2 to 4 lobes around it, drawn
     * from border_seed). The volume stays the ellipsoid's. Drawn by the B-mode only: inside
     * tests (phantom_inclusion_contains, the verdicts) use the plain ellipsoid. */
    double border_irregularity;
    uint32_t border_seed;
    /* Ellipsoids of liquid in fat: the B-mode draws the liquid where it dissects the fat,
     * along the septa and lobule borders within twice the ellipsoid's thickness, instead of
     * a solid sheet. Inside tests use the plain ellipsoid. */
    bool follows_lobules;
} phantom_inclusion;

typedef enum phantom_bone_kind {
    PHANTOM_BONE_SPINOUS = 0, /* spinous process: a narrow ridge along the spine */
    PHANTOM_BONE_TRANSVERSE,  /* transverse process: a ridge across the spine */
    PHANTOM_BONE_RIB          /* rib: a long rounded bar */
} phantom_bone_kind;

/* A bone is an ellipsoid ridge: its apex (top) at depth_mm below the resting skin surface at
 * (x, y), width_mm across its axis, length_mm along it (axis at angle_deg from +x in the skin
 * plane) and height_mm from the apex down. */
typedef struct phantom_bone_def {
    phantom_bone_kind kind;
    double x_mm, y_mm;
    double depth_mm;
    double width_mm, length_mm, height_mm;
    double angle_deg;
} phantom_bone_def;

typedef struct phantom_def {
    phantom_layer_def layers[PHANTOM_MAX_LAYERS];
    int n_layers;
    phantom_feature_def features[PHANTOM_MAX_FEATURES];
    int n_features;
    phantom_vessel_def vessels[PHANTOM_MAX_VESSELS];
    int n_vessels;
    phantom_inclusion inclusions[PHANTOM_MAX_INCLUSIONS];
    int n_inclusions;
    tissue_table tissues;

    double width_mm, length_mm;   /* patch extent in x and y (the probe must stay inside) */
    double fat_strain_per_n;      /* fractional fat compression per newton of probe force */
    double fat_max_strain;        /* cap on that compression */
    double vein_collapse_n;       /* probe force at which a vein lumen is flat */
    double septa_spacing_mm;      /* lobule cell size in superficial fat (deep fat: larger) */
    double muscle_fibre_angle_deg;/* fibre direction in the skin plane, from +x */
    double muscle_pennation_deg;  /* fibre angle to the skin plane */
    double perimysium_spacing_mm; /* spacing of the bright perimysium sheets */
    uint32_t seed;                /* scatterer and texture seed */
    phantom_bone_def bones[PHANTOM_MAX_BONES];
    int n_bones;
} phantom_def;

typedef struct phantom phantom;

/* Adult thoracolumbar back (the case report's adults), sources in phantom.c. */
phantom_def phantom_default_def(void);

/* Checks def; on a problem returns NULL and writes one message to err (may be NULL). */
phantom *phantom_create(const phantom_def *def, char *err, size_t err_len);
void phantom_destroy(phantom *ph);
/* An independent copy (for snapshots read on other threads); NULL when out of memory. */
phantom *phantom_clone(const phantom *ph);
const phantom_def *phantom_get_def(const phantom *ph);

/* Skin surface depth z at (x, y) (negative where raised). */
double phantom_surface_mm(const phantom *ph, double x_mm, double y_mm);

/* Depths of the tops of all layers at (x, y) under probe force pressure_n: out[0] is the
 * skin surface, out[i] the top of layer i. Returns n_layers. out needs PHANTOM_MAX_LAYERS. */
int phantom_interfaces(const phantom *ph, double x_mm, double y_mm, double pressure_n,
                       double *out_mm);

/* A flat probe face pressed on the skin: a rectangle centred on c_mm with long axis u and
 * short axis v (unit, in the face plane) and n the unit normal into the body; half_len_mm and
 * half_wid_mm its half sides. Made by probe_frame_make; on = false means no probe. */
typedef struct phantom_contact {
    bool on;
    double c_mm[3];
    double u[3], v[3], n[3];
    double half_len_mm, half_wid_mm;
} phantom_contact;

/* phantom_interfaces with the tissue deformed by the probe face c (NULL or c->on false: as
 * phantom_interfaces). Under the face the skin comes down to it where the soft tissue above
 * bone can give; out[0] is then the deformed skin. A pure function of its arguments. */
int phantom_interfaces_contact(const phantom *ph, double x_mm, double y_mm, double pressure_n,
                               const phantom_contact *c, double *out_mm);

/* How far (mm, >= 0) the skin at (x, y) can come down under a face: the compressible soft
 * tissue above the deep fascia or the top of a bone, whichever is shallower. */
double phantom_compressible_mm(const phantom *ph, double x_mm, double y_mm, double pressure_n);

/* Depth of the top of the highest bone under (x, y); INFINITY when there is none. */
double phantom_bone_top_mm(const phantom *ph, double x_mm, double y_mm);

/* Bone i as an ellipsoid: p is inside when |s| <= 1 with s_k = axes[k] . (p - c_mm). */
typedef struct phantom_bone_shape {
    double c_mm[3];
    double axes[3][3]; /* unit axes divided by their semi-axis (1/mm) */
    double semi_mm[3]; /* along, across, vertical */
} phantom_bone_shape;
const phantom_bone_shape *phantom_bone_get_shape(const phantom *ph, int bone);
bool phantom_bone_contains(const phantom_bone_shape *b, const double p_mm[3]);

/* Surface normal (unit, pointing out of the body, i.e. towards -z) at (x, y). */
void phantom_surface_normal(const phantom *ph, double x_mm, double y_mm, double n_out[3]);

typedef struct phantom_sample {
    tissue_id tissue;
    int layer;               /* layer index, -1 above the skin (gel) */
    int vessel;              /* vessel index when in lumen or wall, else -1 */
    int inclusion;           /* inclusion index (static first, then dynamic), else -1 */
    double depth_mm;         /* depth below the local skin surface along its normal */
    double backscatter;      /* diffuse amplitude including texture (septa, perimysium) */
    int bone;                /* bone index when inside one, else -1 */
} phantom_sample;

/* What is at point p (phantom frame) under probe force pressure_n, with the world's dynamic
 * inclusions (needle, drug, haematoma; may be NULL) checked after the static ones. */
phantom_sample phantom_at(const phantom *ph, const double p_mm[3], double pressure_n,
                          const phantom_inclusion *dyn, int n_dyn);
/* phantom_at in the anatomy deformed by the probe face c (NULL: no probe), the anatomy the
 * image shows. */
phantom_sample phantom_at_contact(const phantom *ph, const double p_mm[3], double pressure_n,
                                  const phantom_contact *c, const phantom_inclusion *dyn, int n_dyn);

/* Texture of the layer tissues.
 *
 * Fat (FAT and DEEP_FAT) is lobules in 3-D (sim/core/lobules.h): an irregular polygonal cell
 * field fixed in the tissue, evaluated at (x, y, depth below the layer top), with bright thin
 * septa on the lobule borders; superficial fat has cells of septa_spacing_mm, deep fat larger
 * and flatter ones. The multiplier's mean square over the layer is 1: the septa take their
 * energy from the lobules, so the layer's mean backscatter stays the tissue table's.
 *
 * Muscle has bright perimysium sheets tilted by the pennation angle. Split so the synthesis
 * evaluates the slowly varying part rarely: phantom_texture_cell_at depends on (x, y) only,
 * phantom_texture_eval combines it at the point. phantom_texture does all. */
typedef struct phantom_texture_cell {
    double fibre_offset;   /* jitter of the perimysium sheets, in periods */
} phantom_texture_cell;

phantom_texture_cell phantom_texture_cell_at(const phantom *ph, double x_mm, double y_mm);

/* Constants of the muscle texture profile, for code that evaluates many samples at once. */
typedef struct phantom_texture_params {
    double inv_perimysium_mm, perimysium_inv_half_width;
    double cos_fibre, sin_fibre, cos_pen, sin_pen;
} phantom_texture_params;
phantom_texture_params phantom_get_texture_params(const phantom *ph);

/* True for the tissues textured as fat lobules. */
bool phantom_is_fat(tissue_id t);
/* Multiplies amp[0..n) by the fat texture of tissue t at the points q0 + i dq, where a point
 * is (x_mm, y_mm, depth below its layer top in mm). A straight run costs a few searches of
 * the cell field, whatever n. cache: the calling thread's lobule cache (lobules.h), or NULL;
 * it changes only the speed. */
struct lobule_cache;
void phantom_fat_texture_span(const phantom *ph, tissue_id t, const double q0_mm[3], const double dq_mm[3],
                              int n, float *amp, struct lobule_cache *cache);
/* The lobule of fat tissue t at q (as above): an id that differs between neighbouring
 * lobules, and the distance from q to the lobule's border (mm) when border_mm is not NULL. */
uint32_t phantom_fat_lobule(const phantom *ph, tissue_id t, const double q_mm[3], double *border_mm);

/* Multiplier (>= 0) of the tissue's backscatter at p; depth_in_layer_mm is the depth of p
 * below the top of its layer. 1 for tissues without texture. */
double phantom_texture_eval(const phantom *ph, const phantom_texture_cell *cell, tissue_id t,
                            const double p_mm[3], double depth_in_layer_mm);
double phantom_texture(const phantom *ph, tissue_id t, const double p_mm[3],
                       double depth_in_layer_mm);

/* Two-way amplitude transmission (0..1] through the scale of a stratum corneum
 * sc_thickness_mm thick at (x, y): 1 for normal skin (<= 20 um); a hyperkeratotic scale's
 * stacked, cracked lamellae cast patchy dorsal shadows on the dermis (el Gammal et al., Acta
 * Derm Venereol Suppl 186; anatomy.md 6), deeper where the scale is thicker. */
double phantom_scale_transmission(const phantom *ph, double x_mm, double y_mm, double sc_thickness_mm);

/* Vessel lumen semi-axes under pressure: horizontal stays radius, vertical shrinks for veins. */
double phantom_vessel_vertical_radius(const phantom *ph, int vessel, double pressure_n);

/* Where p lies relative to vessel i: 0 outside, 1 in the wall, 2 in the lumen. */
int phantom_vessel_region(const phantom *ph, int vessel, const double p_mm[3], double pressure_n);

/* Factor (> 0) on an ellipsoid's radii across the skin plane at the azimuth of p around its
 * centre: 1 for a plain ellipsoid; for an irregular one a low-order radial perturbation whose
 * mean square is 1 (so the volume is kept). */
double phantom_inclusion_border_scale(const phantom_inclusion *inc, const double p_mm[3]);
/* The largest that factor can be. */
double phantom_inclusion_border_max(const phantom_inclusion *inc);

/* Inside test for one inclusion (a point reflector has no inside). */
bool phantom_inclusion_contains(const phantom_inclusion *inc, const double p_mm[3]);

#endif
