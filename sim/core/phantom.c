/* phantom: geometry of the layered skin patch and what lies at a point. */
#include "phantom.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "limit.h"
#include "lobules.h"
#include "texture_math.h"

#define PI 3.14159265358979323846
/* Noise lattice coordinates wrap here (a power of two, so the int32 index and index + 1 fit). */
#define NOISE_WRAP 1073741824.0

/* A prominence is bone close under the skin: the superficial fascia of the back adheres to
 * the deep layers along the spinous processes (shared/reference/anatomy.md section 1), so the
 * fat over the apex is thinner. How much: an assumption, half at the apex. */
#define PROMINENCE_FAT_THINNING 0.5
/* Compression the face can impose on a layer, as the strain of its compliance weight 1
 * (fat); stiffer layers give in proportion to their weight. Assumption: soft fat can be
 * flattened to 40 % under a firm press, dermis barely (weights below). */
#define CONTACT_MAX_STRAIN 0.6

struct phantom {
    phantom_def def;
    phantom_texture_params tex;
    lobule_field fat, deep_fat;
    int has_wheals;
    phantom_bone_shape bones[PHANTOM_MAX_BONES];
};

phantom_def phantom_default_def(void)
{
    phantom_def d;
    memset(&d, 0, sizeof d);
    /* Adult thoracolumbar back. tissue.md has no separate epidermis/dermis means for the adult
     * back (its "Gaps" note); the closest figures are used:
     *  - stratum corneum 15 um, viable epidermis 75 um: Sandby-Moller, Poulsen & Wulf 2003
     *    (shoulder / buttock 11-15 um and 70-81 um);
     *  - dermis 2.45 mm: suprascapular skin 2.54 mm at 20 MHz (Laurent et al. 2007) less the
     *    epidermis;
     *  - superficial + deep fat 7 mm: dorsal subcutaneous fat at L1-2 below the 8.45 / 9.4 mm
     *    thresholds linked to low back pain (Eur Radiol 2022), split by the superficial fascia
     *    (Stecco review);
     *  - thoracolumbar fascia 0.8 mm: 0.37-0.68 mm reported, deep fasciae 0.71-1.62 mm
     *    (Stecco group 2016). */
    const phantom_layer_def layers[] = {
        {TISSUE_STRATUM_CORNEUM, 0.015, 0.0, 20.0, PHANTOM_NO_OVERRIDES},
        {TISSUE_EPIDERMIS, 0.075, 0.0, 20.0, PHANTOM_NO_OVERRIDES},
        {TISSUE_DERMIS, 2.45, 0.05, 25.0, PHANTOM_NO_OVERRIDES},
        {TISSUE_FAT, 3.0, 0.10, 20.0, PHANTOM_NO_OVERRIDES},
        {TISSUE_SUPERFICIAL_FASCIA, 0.3, 0.0, 20.0, PHANTOM_NO_OVERRIDES},
        {TISSUE_DEEP_FAT, 4.0, 0.10, 30.0, PHANTOM_NO_OVERRIDES},
        {TISSUE_DEEP_FASCIA, 0.8, 0.0, 20.0, PHANTOM_NO_OVERRIDES},
        {TISSUE_MUSCLE, 0.0, 0.0, 20.0, PHANTOM_NO_OVERRIDES},
    };
    d.n_layers = (int)(sizeof layers / sizeof layers[0]);
    memcpy(d.layers, layers, sizeof layers);
    d.tissues = tissue_default_table();
    d.width_mm = 40.0;
    d.length_mm = 40.0;
    /* No reference figure for fat compression under a probe: an assumption that a firm 5 N
     * press flattens subcutaneous fat by 25 %, capped at 40 %. Tunable per scenario. */
    d.fat_strain_per_n = 0.05;
    d.fat_max_strain = 0.4;
    /* Veins collapse under modest probe pressure (ecocutanea "Ten tips": no probe pressure or
     * vessels collapse); 2 N to flatten is an assumption. */
    d.vein_collapse_n = 2.0;
    /* Superficial fat lobules in cells of 1.5 mm: an assumption, as no source gives lobule
     * sizes in mm (anatomy.md 1); about the spacing of the septa in HFUS images of the back. */
    d.septa_spacing_mm = 1.5;
    d.muscle_fibre_angle_deg = 0.0;
    d.muscle_pennation_deg = 8.0;
    d.perimysium_spacing_mm = 0.6;
    d.seed = 1;
    return d;
}

static int check_def(const phantom_def *d, char *err, size_t n)
{
#define FAIL(...) do { if (err) snprintf(err, n, __VA_ARGS__); return -1; } while (0)
    if (d->n_layers < 1 || d->n_layers > PHANTOM_MAX_LAYERS)
        FAIL("layers: need 1 to %d layers, got %d", PHANTOM_MAX_LAYERS, d->n_layers);
    for (int i = 0; i < d->n_layers; i++) {
        const phantom_layer_def *l = &d->layers[i];
        if ((int)l->tissue < 0 || l->tissue >= TISSUE_COUNT)
            FAIL("layers[%d].tissue: unknown tissue", i);
        if (i + 1 < d->n_layers && !(l->thickness_mm > 0.0 && l->thickness_mm < 100.0))
            FAIL("layers[%d].thickness_mm: must be > 0 and < 100 mm, got %g", i, l->thickness_mm);
        if (!(l->variation >= 0.0 && l->variation <= 0.5))
            FAIL("layers[%d].variation: must be within 0..0.5, got %g", i, l->variation);
        if (!(l->variation_wavelength_mm > 0.0))
            FAIL("layers[%d].variation_wavelength_mm: must be > 0", i);
        /* The same physical bounds as the tissue table; 0 keeps the tissue's value. */
        const phantom_layer_acoustic *a = &l->acoustic;
        if (!(a->backscatter >= 0.0 && a->backscatter <= 100.0))
            FAIL("layers[%d].acoustic.backscatter: must be within 0..100, got %g", i, a->backscatter);
        if (!(a->speed_m_s == 0.0 || (a->speed_m_s > 100.0 && a->speed_m_s < 10000.0)))
            FAIL("layers[%d].acoustic.speed_m_s: must be within 100..10000, got %g", i, a->speed_m_s);
        if (!(a->density_kg_m3 >= 0.0 && a->density_kg_m3 <= 20000.0))
            FAIL("layers[%d].acoustic.density_kg_m3: must be within 0..20000, got %g", i, a->density_kg_m3);
        if (!(a->atten_db_cm_mhz >= 0.0 && a->atten_db_cm_mhz <= 50.0))
            FAIL("layers[%d].acoustic.atten_db_cm_mhz: must be within 0..50, got %g", i, a->atten_db_cm_mhz);
        if ((int)a->texture < 0 || a->texture > PHANTOM_TEXTURE_OFF)
            FAIL("layers[%d].acoustic.texture: unknown texture choice", i);
    }
    for (int i = 0; i < d->n_features; i++) {
        const phantom_feature_def *f = &d->features[i];
        if (!(f->height_mm > 0.0 && f->height_mm <= 20.0))
            FAIL("surface[%d].height_mm: must be > 0 and <= 20 mm, got %g", i, f->height_mm);
        if (!(f->width_mm > 0.0))
            FAIL("surface[%d].width_mm: must be > 0, got %g", i, f->width_mm);
    }
    if (d->n_features < 0 || d->n_features > PHANTOM_MAX_FEATURES)
        FAIL("surface: at most %d features", PHANTOM_MAX_FEATURES);
    if (d->n_bones < 0 || d->n_bones > PHANTOM_MAX_BONES)
        FAIL("bones: at most %d bones", PHANTOM_MAX_BONES);
    for (int i = 0; i < d->n_bones; i++) {
        const phantom_bone_def *b = &d->bones[i];
        if ((int)b->kind < PHANTOM_BONE_SPINOUS || b->kind > PHANTOM_BONE_RIB)
            FAIL("bones[%d].kind: unknown kind", i);
        if (!limit_ok(LIM_BONE_DEPTH_MM, b->depth_mm))
            FAIL("bones[%d].depth_mm: must be within %g..%g mm, got %g", i, limit_get(LIM_BONE_DEPTH_MM)->min,
                 limit_get(LIM_BONE_DEPTH_MM)->max, b->depth_mm);
        if (!limit_ok(LIM_BONE_SIZE_MM, b->width_mm) || !limit_ok(LIM_BONE_SIZE_MM, b->length_mm) ||
            !limit_ok(LIM_BONE_SIZE_MM, b->height_mm))
            FAIL("bones[%d]: width_mm, length_mm and height_mm must be within %g..%g mm", i,
                 limit_get(LIM_BONE_SIZE_MM)->min, limit_get(LIM_BONE_SIZE_MM)->max);
        if (!(fabs(b->x_mm) <= 100.0 && fabs(b->y_mm) <= 100.0) || !isfinite(b->angle_deg))
            FAIL("bones[%d]: x_mm and y_mm within -100..100 mm, angle_deg finite", i);
    }
    if (d->n_vessels < 0 || d->n_vessels > PHANTOM_MAX_VESSELS)
        FAIL("vessels: at most %d vessels", PHANTOM_MAX_VESSELS);
    for (int i = 0; i < d->n_vessels; i++) {
        const phantom_vessel_def *v = &d->vessels[i];
        double len2 = 0;
        for (int k = 0; k < 3; k++)
            len2 += (v->b_mm[k] - v->a_mm[k]) * (v->b_mm[k] - v->a_mm[k]);
        if (!(len2 > 1e-6))
            FAIL("vessels[%d]: a_mm and b_mm must differ", i);
        if (!(v->radius_mm > 0.0 && v->radius_mm < 20.0))
            FAIL("vessels[%d].radius_mm: must be > 0 and < 20 mm, got %g", i, v->radius_mm);
        if (!(v->wall_mm >= 0.0 && v->wall_mm < 5.0))
            FAIL("vessels[%d].wall_mm: must be within 0..5 mm, got %g", i, v->wall_mm);
    }
    if (d->n_inclusions < 0 || d->n_inclusions > PHANTOM_MAX_INCLUSIONS)
        FAIL("inclusions: at most %d inclusions", PHANTOM_MAX_INCLUSIONS);
    for (int i = 0; i < d->n_inclusions; i++) {
        const phantom_inclusion *c = &d->inclusions[i];
        if (c->kind == PHANTOM_ELLIPSOID) {
            for (int k = 0; k < 3; k++)
                if (!(c->radii_mm[k] > 0.0 && c->radii_mm[k] < 50.0))
                    FAIL("inclusions[%d].radii_mm: must be > 0 and < 50 mm", i);
        } else if (c->kind == PHANTOM_CAPSULE) {
            if (!(c->radius_mm > 0.0))
                FAIL("inclusions[%d].radius_mm: must be > 0", i);
        } else if (c->kind == PHANTOM_POINT) {
            if (!(c->amplitude > 0.0 && c->amplitude < 1e6))
                FAIL("inclusions[%d].amplitude: must be > 0", i);
        } else {
            FAIL("inclusions[%d].kind: unknown kind", i);
        }
        if ((int)c->tissue < 0 || c->tissue >= TISSUE_COUNT)
            FAIL("inclusions[%d].tissue: unknown tissue", i);
    }
    for (int t = 0; t < TISSUE_COUNT; t++) {
        const tissue_props *p = &d->tissues.t[t];
        if (!(p->speed_m_s > 100.0 && p->speed_m_s < 10000.0))
            FAIL("tissues.%s.speed_m_s: must be within 100..10000, got %g", tissue_name(t), p->speed_m_s);
        if (!(p->density_kg_m3 > 0.1 && p->density_kg_m3 < 30000.0))
            FAIL("tissues.%s.density_kg_m3: must be within 0.1..30000, got %g", tissue_name(t), p->density_kg_m3);
        if (!(p->atten_db_cm_mhz >= 0.0 && p->atten_db_cm_mhz <= 50.0))
            FAIL("tissues.%s.atten_db_cm_mhz: must be within 0..50, got %g", tissue_name(t), p->atten_db_cm_mhz);
        if (!(p->atten_exponent >= 0.5 && p->atten_exponent <= 2.5))
            FAIL("tissues.%s.atten_exponent: must be within 0.5..2.5, got %g", tissue_name(t), p->atten_exponent);
        if (!(p->backscatter >= 0.0 && p->backscatter <= 100.0))
            FAIL("tissues.%s.backscatter: must be within 0..100, got %g", tissue_name(t), p->backscatter);
    }
    if (!(d->width_mm >= 10.0 && d->width_mm <= 200.0) || !(d->length_mm >= 10.0 && d->length_mm <= 200.0))
        FAIL("width_mm/length_mm: patch must be 10..200 mm each way");
    if (!(d->fat_strain_per_n >= 0.0 && d->fat_strain_per_n <= 1.0))
        FAIL("mechanics.fat_strain_per_n: must be within 0..1");
    if (!(d->fat_max_strain >= 0.0 && d->fat_max_strain <= 0.9))
        FAIL("mechanics.fat_max_strain: must be within 0..0.9");
    if (!(d->vein_collapse_n > 0.0))
        FAIL("mechanics.vein_collapse_n: must be > 0");
    if (!(d->septa_spacing_mm > 0.1) || !(d->perimysium_spacing_mm > 0.05))
        FAIL("texture: septa_spacing_mm must be > 0.1 and perimysium_spacing_mm > 0.05");
    return 0;
#undef FAIL
}

phantom *phantom_create(const phantom_def *def, char *err, size_t err_len)
{
    if (!def) {
        if (err)
            snprintf(err, err_len, "no phantom definition");
        return NULL;
    }
    if (check_def(def, err, err_len) != 0)
        return NULL;
    phantom *ph = calloc(1, sizeof *ph);
    if (!ph) {
        if (err)
            snprintf(err, err_len, "out of memory");
        return NULL;
    }
    ph->def = *def;
    for (int i = 0; i < def->n_features; i++)
        if (def->features[i].kind == PHANTOM_WHEAL)
            ph->has_wheals = 1;
    for (int i = 0; i < def->n_bones; i++) {
        const phantom_bone_def *b = &def->bones[i];
        phantom_bone_shape *sh = &ph->bones[i];
        double a = b->angle_deg * PI / 180.0;
        double semi[3] = {0.5 * b->length_mm, 0.5 * b->width_mm, 0.5 * b->height_mm};
        double ax[3][3] = {{cos(a), sin(a), 0.0}, {-sin(a), cos(a), 0.0}, {0.0, 0.0, 1.0}};
        sh->c_mm[0] = b->x_mm;
        sh->c_mm[1] = b->y_mm;
        sh->c_mm[2] = phantom_surface_mm(ph, b->x_mm, b->y_mm) + b->depth_mm + semi[2];
        for (int k = 0; k < 3; k++) {
            sh->semi_mm[k] = semi[k];
            for (int j = 0; j < 3; j++)
                sh->axes[k][j] = ax[k][j] / semi[k];
        }
    }
    /* Perimysium ~0.1 mm thick sheets (half width below). */
    ph->tex.cos_fibre = cos(def->muscle_fibre_angle_deg * PI / 180.0);
    ph->tex.sin_fibre = sin(def->muscle_fibre_angle_deg * PI / 180.0);
    ph->tex.cos_pen = cos(def->muscle_pennation_deg * PI / 180.0);
    ph->tex.sin_pen = sin(def->muscle_pennation_deg * PI / 180.0);
    ph->tex.inv_perimysium_mm = 1.0 / def->perimysium_spacing_mm;
    ph->tex.perimysium_inv_half_width = def->perimysium_spacing_mm / 0.05;
    /* Septa 0.07 mm thick (half width 0.035 mm; no normal thickness in mm is published,
     * anatomy.md 1, so as thin as the 18 MHz image can show). Superficial fat: near-round
     * cells of septa_spacing_mm (circularity 0.86, Lancerotto 2011). Deep fat: larger, flat
     * lobes (circularity 0.47, Lancerotto 2011; more widely spaced septa, Markman & Barton
     * 1987): cells 2.2x as wide and 1.1x as tall, an aspect of 2 that with the polygon's
     * corners gives a circularity near the published one. */
    double c = def->septa_spacing_mm;
    lobule_field_init(&ph->fat, c, c, 0.035, def->seed ^ 0x5e97aU);
    lobule_field_init(&ph->deep_fat, 2.2 * c, 1.1 * c, 0.035, def->seed ^ 0xd33bfa7U);
    return ph;
}

void phantom_destroy(phantom *ph) { free(ph); }

phantom *phantom_clone(const phantom *ph)
{
    /* Plain data with no pointers inside: a copy is one block. */
    phantom *c = malloc(sizeof *c);
    if (c)
        memcpy(c, ph, sizeof *c);
    return c;
}

const phantom_def *phantom_get_def(const phantom *ph) { return &ph->def; }

/* Smooth value noise in [-1, 1]: hashed lattice values, smoothstep interpolation. */
static double noise2(uint32_t seed, double x, double y)
{
    /* The lattice index is an int32: coordinates beyond 2^30 (a variation wavelength of
     * 1e-300 mm makes them) wrap onto the lattice instead of overflowing the cast, and a
     * non-finite one reads the noise at 0. Values the cast holds keep their noise. */
    if (!(fabs(x) < NOISE_WRAP))
        x = isfinite(x) ? fmod(x, NOISE_WRAP) : 0.0;
    if (!(fabs(y) < NOISE_WRAP))
        y = isfinite(y) ? fmod(y, NOISE_WRAP) : 0.0;
    double fx = floor(x), fy = floor(y);
    int32_t ix = (int32_t)fx, iy = (int32_t)fy;
    double ux = x - fx, uy = y - fy;
    double tx = ux * ux * (3.0 - 2.0 * ux), ty = uy * uy * (3.0 - 2.0 * uy);
    double v00 = hash_unit(hash_voxel(ix, iy, 0, seed));
    double v10 = hash_unit(hash_voxel(ix + 1, iy, 0, seed));
    double v01 = hash_unit(hash_voxel(ix, iy + 1, 0, seed));
    double v11 = hash_unit(hash_voxel(ix + 1, iy + 1, 0, seed));
    double a = v00 + (v10 - v00) * tx;
    double b = v01 + (v11 - v01) * tx;
    return a + (b - a) * ty;
}

/* Gaussian profile (0..1) of feature f at (x, y). */
static double feature_profile(const phantom_feature_def *f, double x, double y)
{
    double dx = x - f->x_mm, dy = y - f->y_mm;
    double d2;
    if (f->kind == PHANTOM_FOLD) {
        double a = f->angle_deg * PI / 180.0;
        double d = -dx * sin(a) + dy * cos(a);
        d2 = d * d;
    } else {
        d2 = dx * dx + dy * dy;
    }
    /* A width whose square underflows (1e-170 mm passes the loader) would make 0/0 at the
     * centre: such a feature is a spike of its height at the centre and 0 elsewhere. */
    double w2 = f->width_mm * f->width_mm;
    double q = w2 > 0.0 ? d2 / w2 : (d2 > 0.0 ? INFINITY : 0.0);
    return exp(-0.5 * q);
}

/* Surface displacement (+z down) of the features of one class at (x, y): wheals or the rest. */
static double features_mm(const phantom *ph, double x, double y, int wheals)
{
    double h = 0.0;
    for (int i = 0; i < ph->def.n_features; i++) {
        const phantom_feature_def *f = &ph->def.features[i];
        if ((f->kind == PHANTOM_WHEAL) != wheals)
            continue;
        double g = f->height_mm * feature_profile(f, x, y);
        /* +z is into the body: a prominence or a wheal raises the surface (negative z). */
        h += (f->kind == PHANTOM_PROMINENCE || f->kind == PHANTOM_WHEAL) ? -g : g;
    }
    return h;
}

double phantom_surface_mm(const phantom *ph, double x, double y)
{
    return features_mm(ph, x, y, 0) + features_mm(ph, x, y, 1);
}

static int is_skin_tissue(tissue_id t)
{
    return t == TISSUE_STRATUM_CORNEUM || t == TISSUE_EPIDERMIS || t == TISSUE_DERMIS;
}

void phantom_surface_normal(const phantom *ph, double x, double y, double n_out[3])
{
    const double e = 0.01;
    double gx = (phantom_surface_mm(ph, x + e, y) - phantom_surface_mm(ph, x - e, y)) / (2 * e);
    double gy = (phantom_surface_mm(ph, x, y + e) - phantom_surface_mm(ph, x, y - e)) / (2 * e);
    /* Surface z = h(x, y); outward (towards -z) normal is (gx, gy, -1) normalised. */
    double inv = 1.0 / sqrt(gx * gx + gy * gy + 1.0);
    n_out[0] = gx * inv;
    n_out[1] = gy * inv;
    n_out[2] = -inv;
}

static double fat_strain(const phantom *ph, double pressure_n)
{
    double s = ph->def.fat_strain_per_n * (pressure_n > 0 ? pressure_n : 0.0);
    return s < ph->def.fat_max_strain ? s : ph->def.fat_max_strain;
}

/* The resting layer tops: features shape the column, fat strain from the probe force. */
static void rest_interfaces(const phantom *ph, double x, double y, double pressure_n, double *out)
{
    const phantom_def *d = &ph->def;
    double strain = fat_strain(ph, pressure_n);
    double wheal = ph->has_wheals ? features_mm(ph, x, y, 1) : 0.0;
    /* Prominences lift the whole column (bone under it) and thin the fat over the apex;
     * depressions and folds push the interfaces down by g exp(-depth / width): a surface
     * displacement of lateral scale w dies out within about w in an elastic half-space (the
     * harmonic solution decays as exp(-k z) for wavenumber k ~ 1 / w). */
    double lift = 0.0, thin = 0.0;
    int n_dip = 0;
    double dip_g[PHANTOM_MAX_FEATURES], dip_w[PHANTOM_MAX_FEATURES];
    for (int i = 0; i < d->n_features; i++) {
        const phantom_feature_def *f = &d->features[i];
        if (f->kind == PHANTOM_WHEAL)
            continue;
        double g = feature_profile(f, x, y);
        if (f->kind == PHANTOM_PROMINENCE) {
            lift += f->height_mm * g;
            thin = thin > g ? thin : g;
        } else {
            dip_g[n_dip] = f->height_mm * g;
            dip_w[n_dip++] = f->width_mm;
        }
    }
    double rest = 0.0; /* depth of the interface below the undisplaced skin */
    double h = wheal - lift;
    for (int k = 0; k < n_dip; k++)
        h += dip_g[k];
    out[0] = h;
    double above = -lift;
    for (int i = 0; i + 1 < d->n_layers; i++) {
        const phantom_layer_def *l = &d->layers[i];
        double t = l->thickness_mm;
        if (l->variation > 0.0) {
            double s = 1.0 / l->variation_wavelength_mm;
            t *= 1.0 + l->variation * noise2(d->seed * 7919U + (uint32_t)i * 104729U, x * s, y * s);
        }
        rest += t;
        if (l->tissue == TISSUE_FAT || l->tissue == TISSUE_DEEP_FAT)
            t *= (1.0 - strain) * (1.0 - PROMINENCE_FAT_THINNING * thin);
        above += t;
        /* Below the skin layers the wheal's lift ends: the fluid thickened the dermis. */
        if (wheal != 0.0 && is_skin_tissue(l->tissue) && !is_skin_tissue(d->layers[i + 1].tissue))
            wheal = 0.0;
        double z = above + wheal;
        for (int k = 0; k < n_dip; k++)
            z += dip_g[k] * exp(-rest / dip_w[k]);
        /* Thicknesses stay >= 0 whatever the features do. */
        out[i + 1] = z > out[i] ? z : out[i];
    }
}

int phantom_interfaces(const phantom *ph, double x, double y, double pressure_n, double *out)
{
    rest_interfaces(ph, x, y, pressure_n, out);
    return ph->def.n_layers;
}

/* Compliance weight of a layer tissue under the probe face (fat 1). Assumptions: dermis
 * stiffer than fat by an order of magnitude, fasciae and the epidermis stiffer still; the
 * deep fascia and what lies under it do not give (the face stops on them). */
static double compliance(tissue_id t)
{
    switch (t) {
    case TISSUE_FAT:
    case TISSUE_DEEP_FAT:
        return 1.0;
    case TISSUE_DERMIS:
        return 0.1;
    case TISSUE_SUPERFICIAL_FASCIA:
        return 0.2;
    case TISSUE_STRATUM_CORNEUM:
    case TISSUE_EPIDERMIS:
        return 0.05;
    default:
        return 0.0;
    }
}

double phantom_bone_top_mm(const phantom *ph, double x, double y)
{
    double top = INFINITY;
    for (int i = 0; i < ph->def.n_bones; i++) {
        const phantom_bone_shape *b = &ph->bones[i];
        double dx = x - b->c_mm[0], dy = y - b->c_mm[1];
        double s0 = b->axes[0][0] * dx + b->axes[0][1] * dy, s1 = b->axes[1][0] * dx + b->axes[1][1] * dy;
        double r = 1.0 - s0 * s0 - s1 * s1;
        if (r <= 0.0)
            continue;
        double z = b->c_mm[2] - b->semi_mm[2] * sqrt(r);
        if (z < top)
            top = z;
    }
    return top;
}

/* Weighted soft thickness above the bone top or the first stiff layer (what the face can
 * compress, in units of fat) for the resting tops h. */
static double compressible_weighted(const phantom *ph, double x, double y, const double *h, double *wsum)
{
    const phantom_def *d = &ph->def;
    double bone = phantom_bone_top_mm(ph, x, y);
    double cap = 0.0, ws = 0.0;
    for (int i = 0; i + 1 < d->n_layers; i++) {
        double w = compliance(d->layers[i].tissue);
        if (w <= 0.0)
            break;
        double top = h[i], bot = h[i + 1] < bone ? h[i + 1] : bone;
        if (bot <= top)
            break;
        cap += w * (bot - top);
        ws += w * (h[i + 1] - h[i]);
    }
    if (wsum)
        *wsum = ws;
    return cap;
}

double phantom_compressible_mm(const phantom *ph, double x, double y, double pressure_n)
{
    double h[PHANTOM_MAX_LAYERS];
    rest_interfaces(ph, x, y, pressure_n, h);
    return CONTACT_MAX_STRAIN * compressible_weighted(ph, x, y, h, NULL);
}

int phantom_interfaces_contact(const phantom *ph, double x, double y, double pressure_n,
                               const phantom_contact *c, double *out)
{
    const phantom_def *d = &ph->def;
    rest_interfaces(ph, x, y, pressure_n, out);
    if (!c || !c->on || !(c->n[2] > 1e-6))
        return d->n_layers;
    double dx = x - c->c_mm[0], dy = y - c->c_mm[1];
    if (fabs(dx * c->u[0] + dy * c->u[1]) > c->half_len_mm || fabs(dx * c->v[0] + dy * c->v[1]) > c->half_wid_mm)
        return d->n_layers;
    /* The face plane n . (p - c) = 0 at (x, y); skin above it comes down to it as far as the
     * soft tissue can give, each layer by its share of the compliance. */
    double face = c->c_mm[2] - (c->n[0] * dx + c->n[1] * dy) / c->n[2];
    double want = face - out[0];
    if (!(want > 0.0))
        return d->n_layers;
    double ws = 0.0;
    double cap = CONTACT_MAX_STRAIN * compressible_weighted(ph, x, y, out, &ws);
    double push = want < cap ? want : cap;
    if (!(push > 0.0) || !(ws > 0.0))
        return d->n_layers;
    /* Every compliant layer loses the same fraction of its weighted thickness; below them
     * nothing moves (the deep fascia and bone hold). */
    double k = push / ws, shift = push;
    for (int i = 0; i + 1 < d->n_layers && shift > 0.0; i++) {
        double lost = k * compliance(d->layers[i].tissue) * (out[i + 1] - out[i]);
        out[i] += shift;
        shift -= lost < shift ? lost : shift;
    }
    return d->n_layers;
}

const phantom_bone_shape *phantom_bone_get_shape(const phantom *ph, int bone) { return &ph->bones[bone]; }

bool phantom_bone_contains(const phantom_bone_shape *b, const double p[3])
{
    double d[3] = {p[0] - b->c_mm[0], p[1] - b->c_mm[1], p[2] - b->c_mm[2]};
    double r = 0.0;
    for (int k = 0; k < 3; k++) {
        double s = b->axes[k][0] * d[0] + b->axes[k][1] * d[1] + b->axes[k][2] * d[2];
        r += s * s;
    }
    return r <= 1.0;
}

phantom_texture_cell phantom_texture_cell_at(const phantom *ph, double x, double y)
{
    phantom_texture_cell c;
    c.fibre_offset = 0.35 * noise2(ph->def.seed ^ 0x71b3U, x / 2.0, y / 2.0);
    return c;
}

phantom_texture_params phantom_get_texture_params(const phantom *ph) { return ph->tex; }

bool phantom_is_fat(tissue_id t) { return t == TISSUE_FAT || t == TISSUE_DEEP_FAT; }

tissue_props phantom_layer_props(const tissue_table *tissues, const phantom_layer_def *l)
{
    tissue_props p = tissues->t[l->tissue];
    const phantom_layer_acoustic *a = &l->acoustic;
    if (a->backscatter > 0.0)
        p.backscatter = a->backscatter;
    if (a->speed_m_s > 0.0)
        p.speed_m_s = a->speed_m_s;
    if (a->density_kg_m3 > 0.0)
        p.density_kg_m3 = a->density_kg_m3;
    if (a->atten_db_cm_mhz > 0.0)
        p.atten_db_cm_mhz = a->atten_db_cm_mhz;
    return p;
}

static const lobule_field *fat_field(const phantom *ph, tissue_id t)
{
    return t == TISSUE_DEEP_FAT ? &ph->deep_fat : &ph->fat;
}

void phantom_fat_texture_span(const phantom *ph, tissue_id t, const double q0[3], const double dq[3], int n,
                              float *amp, struct lobule_cache *cache)
{
    lobule_span(fat_field(ph, t), q0, dq, n, amp, cache);
}

uint32_t phantom_fat_lobule(const phantom *ph, tissue_id t, const double q[3], double *border_mm)
{
    uint32_t id = 0;
    lobule_at(fat_field(ph, t), q, &id, border_mm);
    return id;
}

double phantom_texture_eval(const phantom *ph, const phantom_texture_cell *c, tissue_id t,
                            const double p[3], double depth_in_layer)
{
    const phantom_texture_params *x = &ph->tex;
    if (phantom_is_fat(t)) {
        double q[3] = {p[0], p[1], depth_in_layer};
        return lobule_at(fat_field(ph, t), q, NULL, NULL);
    }
    if (t == TISSUE_MUSCLE) {
        double along = p[0] * x->cos_fibre + p[1] * x->sin_fibre;
        double phase = (depth_in_layer * x->cos_pen + along * x->sin_pen) * x->inv_perimysium_mm + c->fibre_offset;
        return tex_multiplier(TEX_MUSCLE_C0, TEX_MUSCLE_C1, (float)phase, (float)x->perimysium_inv_half_width, 0.0f);
    }
    if (t == TISSUE_TENDON) {
        /* Fibrils: bright thin lines parallel to the tendon's top, the fibrillar echotexture
         * of a tendon in long axis (Crass et al. 1988; anatomy.md 3), wavy by the same jitter
         * as the perimysium. */
        double phase = depth_in_layer / TEX_TENDON_FIBRIL_MM + c->fibre_offset;
        return tex_multiplier(TEX_TENDON_C0, TEX_TENDON_C1, (float)phase, TEX_TENDON_INV_HALF_WIDTH, 0.0f);
    }
    return 1.0;
}

double phantom_texture(const phantom *ph, tissue_id t, const double p[3], double depth_in_layer)
{
    phantom_texture_cell c = phantom_texture_cell_at(ph, p[0], p[1]);
    return phantom_texture_eval(ph, &c, t, p, depth_in_layer);
}

double phantom_scale_transmission(const phantom *ph, double x, double y, double sc_thickness_mm)
{
    /* Normal stratum corneum is 11-18 um (Sandby-Moller 2003, tissue.md 1a): no shadow. */
    double excess = sc_thickness_mm - 0.02;
    if (!(excess > 0.0))
        return 1.0;
    /* The published shadows have no dB figure (anatomy.md 6, "not found"). Assumption: a loss
     * of up to 96 dB per mm of excess scale (12 dB two-way under the worst patches of the
     * hyperkeratosis case's 140 um, about 3 dB on average), in patches about 0.4 mm across
     * where the lamellae crack and trap air (value noise squared: mostly mild, some dark). */
    double n = 0.5 + 0.5 * noise2(ph->def.seed ^ 0x4b1d5U, x / 0.4, y / 0.4);
    double loss_db = 96.0 * (excess < 1.0 ? excess : 1.0) * n * n;
    return pow(10.0, -loss_db / 20.0);
}

double phantom_vessel_vertical_radius(const phantom *ph, int vessel, double pressure_n)
{
    const phantom_vessel_def *v = &ph->def.vessels[vessel];
    if (!v->is_vein || pressure_n <= 0.0)
        return v->radius_mm;
    double k = 1.0 - pressure_n / ph->def.vein_collapse_n;
    /* A collapsed vein keeps a slit of 5 % of its radius. */
    return v->radius_mm * (k > 0.05 ? k : 0.05);
}

static double seg_closest(const double a[3], const double b[3], const double p[3], double q[3])
{
    double ab[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    double ap[3] = {p[0] - a[0], p[1] - a[1], p[2] - a[2]};
    double l2 = ab[0] * ab[0] + ab[1] * ab[1] + ab[2] * ab[2];
    double t = l2 > 0 ? (ap[0] * ab[0] + ap[1] * ab[1] + ap[2] * ab[2]) / l2 : 0.0;
    t = t < 0 ? 0 : (t > 1 ? 1 : t);
    for (int k = 0; k < 3; k++)
        q[k] = p[k] - (a[k] + t * ab[k]);
    return t;
}

/* 0 outside, 1 in the wall, 2 in the lumen. The vessel is a tube from a to b with flat capped
 * ends: the lumen stops at the end planes and the wall closes them (wall_mm thick), so a
 * vessel ends where the scenario says. (Projecting the offset from the clamped end onto the
 * cross-section, as before, let the lumen run on along the axis past both ends: the adult
 * back's artery climbed out of the fat through the dermis.) */
int phantom_vessel_region(const phantom *ph, int i, const double p[3], double pressure_n)
{
    const phantom_vessel_def *v = &ph->def.vessels[i];
    double q[3];
    double t = seg_closest(v->a_mm, v->b_mm, p, q);
    double dir[3] = {v->b_mm[0] - v->a_mm[0], v->b_mm[1] - v->a_mm[1], v->b_mm[2] - v->a_mm[2]};
    double dl = sqrt(dir[0] * dir[0] + dir[1] * dir[1] + dir[2] * dir[2]);
    for (int k = 0; k < 3; k++)
        dir[k] /= dl;
    /* Beyond an end plane (t clamped): how far along the axis. */
    double beyond = 0.0;
    if (t <= 0.0 || t >= 1.0) {
        const double *e = t <= 0.0 ? v->a_mm : v->b_mm;
        double sgn = t <= 0.0 ? -1.0 : 1.0;
        beyond = sgn * ((p[0] - e[0]) * dir[0] + (p[1] - e[1]) * dir[1] + (p[2] - e[2]) * dir[2]);
    }
    if (beyond > v->wall_mm)
        return 0;
    /* Cross-section axes: ev is "vertical" (z with the axis component removed), eh = dir x ev. */
    double ev[3] = {-dir[2] * dir[0], -dir[2] * dir[1], 1.0 - dir[2] * dir[2]};
    double evl = sqrt(ev[0] * ev[0] + ev[1] * ev[1] + ev[2] * ev[2]);
    double qv, qh;
    if (evl < 1e-9) { /* vertical vessel: no preferred squash direction */
        qv = q[0];
        qh = q[1];
    } else {
        for (int k = 0; k < 3; k++)
            ev[k] /= evl;
        double eh[3] = {dir[1] * ev[2] - dir[2] * ev[1], dir[2] * ev[0] - dir[0] * ev[2],
                        dir[0] * ev[1] - dir[1] * ev[0]};
        qv = q[0] * ev[0] + q[1] * ev[1] + q[2] * ev[2];
        qh = q[0] * eh[0] + q[1] * eh[1] + q[2] * eh[2];
    }
    double rh = v->radius_mm, rv = phantom_vessel_vertical_radius(ph, i, pressure_n);
    double lumen = (qh / rh) * (qh / rh) + (qv / rv) * (qv / rv);
    if (lumen <= 1.0)
        return beyond > 0.0 ? 1 : 2;
    double wh = rh + v->wall_mm, wv = rv + v->wall_mm;
    double wall = (qh / wh) * (qh / wh) + (qv / wv) * (qv / wv);
    return wall <= 1.0 ? 1 : 0;
}

/* Coefficients of the border's harmonics 2..4 (about 1/k each, signs and phases from the
 * seed): irregular, lobed outlines without sharp corners, like a bleb whose fluid dissects
 * the collagen bundles unevenly (an assumption: no published bleb outline, anatomy.md 7). */
static void border_harmonics(const phantom_inclusion *c, double cs[3], double sn[3], double *norm)
{
    double msq = 1.0;
    for (int k = 0; k < 3; k++) {
        uint32_t h = hash_mix32(c->border_seed * 0x9E3779B1U + (uint32_t)k * 0x85EBCA77U + 1U);
        cs[k] = c->border_irregularity * hash_unit(h) / (k + 2) * 2.0;
        sn[k] = c->border_irregularity * hash_unit(hash_mix32(h)) / (k + 2) * 2.0;
        msq += 0.5 * (cs[k] * cs[k] + sn[k] * sn[k]);
    }
    /* Radii across the skin scale by rho: the volume goes with the mean of rho^2. */
    *norm = 1.0 / sqrt(msq);
}

double phantom_inclusion_border_scale(const phantom_inclusion *c, const double p[3])
{
    if (c->kind != PHANTOM_ELLIPSOID || !(c->border_irregularity > 0.0))
        return 1.0;
    double cs[3], sn[3], norm;
    border_harmonics(c, cs, sn, &norm);
    double th = atan2((p[1] - c->c_mm[1]) / c->radii_mm[1], (p[0] - c->c_mm[0]) / c->radii_mm[0]);
    double rho = 1.0;
    for (int k = 0; k < 3; k++)
        rho += cs[k] * cos((k + 2) * th) + sn[k] * sin((k + 2) * th);
    rho *= norm;
    return rho > 0.2 ? rho : 0.2;
}

double phantom_inclusion_border_max(const phantom_inclusion *c)
{
    if (c->kind != PHANTOM_ELLIPSOID || !(c->border_irregularity > 0.0))
        return 1.0;
    double cs[3], sn[3], norm, sum = 1.0;
    border_harmonics(c, cs, sn, &norm);
    for (int k = 0; k < 3; k++)
        sum += sqrt(cs[k] * cs[k] + sn[k] * sn[k]);
    return sum * norm > 1.0 ? sum * norm : 1.0;
}

bool phantom_inclusion_contains(const phantom_inclusion *c, const double p[3])
{
    if (c->kind == PHANTOM_ELLIPSOID) {
        double s = 0;
        for (int k = 0; k < 3; k++) {
            double d = (p[k] - c->c_mm[k]) / c->radii_mm[k];
            s += d * d;
        }
        return s <= 1.0;
    }
    if (c->kind == PHANTOM_CAPSULE) {
        double q[3];
        seg_closest(c->a_mm, c->b_mm, p, q);
        return q[0] * q[0] + q[1] * q[1] + q[2] * q[2] <= c->radius_mm * c->radius_mm;
    }
    return false;
}

phantom_sample phantom_at_contact(const phantom *ph, const double p[3], double pressure_n,
                                  const phantom_contact *ct, const phantom_inclusion *dyn, int n_dyn)
{
    const phantom_def *d = &ph->def;
    phantom_sample s = {TISSUE_GEL, -1, -1, -1, 0.0, 0.0, -1};
    double h[PHANTOM_MAX_LAYERS];
    int n = phantom_interfaces_contact(ph, p[0], p[1], pressure_n, ct, h);
    for (int i = 0; i < n; i++)
        if (p[2] >= h[i])
            s.layer = i;
    double nrm[3];
    phantom_surface_normal(ph, p[0], p[1], nrm);
    s.depth_mm = (p[2] - h[0]) * (-nrm[2]);
    if (s.layer >= 0) {
        s.tissue = d->layers[s.layer].tissue;
        s.backscatter = d->tissues.t[s.tissue].backscatter *
                        phantom_texture(ph, s.tissue, p, p[2] - h[s.layer]);
        for (int i = 0; i < d->n_vessels; i++) {
            int r = phantom_vessel_region(ph, i, p, pressure_n);
            if (r) {
                s.tissue = r == 2 ? TISSUE_BLOOD : TISSUE_VESSEL_WALL;
                s.vessel = i;
                s.backscatter = d->tissues.t[s.tissue].backscatter;
                break;
            }
        }
        /* Bone is rigid and lies under the soft tissue: it wins over layers and vessels. */
        for (int i = 0; i < d->n_bones; i++)
            if (phantom_bone_contains(&ph->bones[i], p)) {
                s.tissue = TISSUE_BONE;
                s.bone = i;
                s.vessel = -1;
                s.backscatter = d->tissues.t[TISSUE_BONE].backscatter;
                break;
            }
    } else {
        s.backscatter = d->tissues.t[TISSUE_GEL].backscatter;
    }
    for (int i = 0; i < d->n_inclusions + n_dyn; i++) {
        const phantom_inclusion *c = i < d->n_inclusions ? &d->inclusions[i] : &dyn[i - d->n_inclusions];
        if (phantom_inclusion_contains(c, p)) {
            s.tissue = c->tissue;
            s.inclusion = i;
            s.backscatter = d->tissues.t[c->tissue].backscatter;
        }
    }
    return s;
}

phantom_sample phantom_at(const phantom *ph, const double p[3], double pressure_n,
                          const phantom_inclusion *dyn, int n_dyn)
{
    return phantom_at_contact(ph, p, pressure_n, NULL, dyn, n_dyn);
}
