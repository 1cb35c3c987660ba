/* drug: deposit shapes from volume and site; dermis fraction on a grid. */
#include "drug.h"
#include "hash.h"

#include <math.h>
#include <string.h>

#define PI 3.14159265358979323846
/* Grid points per axis when measuring the dermis fraction: 16^3 samples put it within about
 * 1 % for the smooth shapes here. */
#define FRACTION_GRID 16

static const char *const k_names[DRUG_KIND_COUNT] = {"lidocaine", "dexamethasone", "saline",
                                                     "oxygen_ozone"};

const char *drug_kind_name(drug_kind k)
{
    return (int)k >= 0 && k < DRUG_KIND_COUNT ? k_names[k] : "unknown";
}

bool drug_kind_from_name(const char *name, drug_kind *out)
{
    for (int i = 0; i < DRUG_KIND_COUNT; i++) {
        if (strcmp(name, k_names[i]) == 0) {
            *out = (drug_kind)i;
            return true;
        }
    }
    return false;
}

bool drug_is_gas(drug_kind k) { return k == DRUG_OXYGEN_OZONE; }

drug_def drug_default_def(void)
{
    drug_def d;
    memset(&d, 0, sizeof d);
    d.kind = DRUG_LIDOCAINE;
    /* Mammucari 2011 (tissue.md 4b): 0.10-0.20 mL per point. */
    d.volume_ml = 0.1;
    /* Assumption: a Mantoux-like 0.1 mL given over about 2 s. */
    d.rate_ml_s = 0.05;
    /* Barbaud 2020 (ENDA): 0.02 mL gives a 5 mm median bleb; the cube-root growth then gives
     * 8.5 mm for 0.1 mL, inside the Mantoux 6-10 mm (tissue.md 4b). */
    d.bleb_ref_ml = 0.02;
    d.bleb_ref_mm = 5.0;
    /* Serup 1984 via tissue.md 4b: real wheals are lower than the lens bound because the fluid
     * also expands the dermis; half the bleb's thickness lifting the skin is an assumption. */
    d.wheal_frac = 0.5;
    /* Liquid in fat first spreads laterally, parallel to the skin, between the fat cells: 50 uL
     * reaches a median 5.7 mm from the needle (quartiles 5.0-7.1 mm; Leuenberger Jockel et al.
     * 2013, anatomy.md 7). An oblate sheet 0.75 mm thick gives that reach (5.6 mm), and 16 mm
     * across for 0.1 mL (the 0.5 mm sheet used before drew it 20 mm wide). */
    d.fat_sheet_mm = 0.75;
    /* Assumption: gas fills half of the cluster of foci it dissects; oxygen-ozone is absorbed
     * over minutes (tissue.md 4b practice figures), time constant 5 min. */
    d.gas_fill = 0.5;
    d.gas_fade_s = 300.0;
    return d;
}

const char *drug_check(const drug_def *d)
{
    if ((int)d->kind < 0 || d->kind >= DRUG_KIND_COUNT)
        return "kind: unknown drug";
    if (!(d->volume_ml > 0.0) || !(d->rate_ml_s > 0.0))
        return "volume_ml and rate_ml_s: must be > 0";
    if (!(d->bleb_ref_ml > 0.0) || !(d->bleb_ref_mm > 0.0))
        return "bleb_ref_ml and bleb_ref_mm: must be > 0";
    if (!(d->wheal_frac >= 0.0 && d->wheal_frac <= 1.0))
        return "wheal_frac: must be within 0..1";
    if (!(d->fat_sheet_mm > 0.0) || !(d->gas_fill > 0.0 && d->gas_fill <= 1.0) ||
        !(d->gas_fade_s > 0.0))
        return "fat_sheet_mm, gas_fill (0..1] and gas_fade_s: must be > 0";
    return NULL;
}

drug_site drug_site_of(tissue_id t)
{
    switch (t) {
    case TISSUE_STRATUM_CORNEUM:
    case TISSUE_EPIDERMIS: return DRUG_SITE_EPIDERMIS;
    case TISSUE_DERMIS: return DRUG_SITE_DERMIS;
    case TISSUE_FAT:
    case TISSUE_DEEP_FAT:
    case TISSUE_SUPERFICIAL_FASCIA:
    case TISSUE_DEEP_FASCIA: return DRUG_SITE_FAT;
    case TISSUE_MUSCLE:
    case TISSUE_TENDON: return DRUG_SITE_MUSCLE; /* a deep deposit, as in muscle */
    case TISSUE_BLOOD: return DRUG_SITE_VESSEL;
    case TISSUE_VESSEL_WALL: return DRUG_SITE_DERMIS;
    default: return DRUG_SITE_NONE;
    }
}

/* Semi-axes stay within 1 pm .. 100 mm (half the largest patch): the loader takes reference
 * sizes as small as 1e-320, whose quotients overflow to inf (a report figure jansson drops, an
 * ellipsoid the renderer cannot place) or underflow to 0. Real blebs are far inside. */
static double radius_bound(double r)
{
    return r > 1e-9 ? (r < 100.0 ? r : 100.0) : 1e-9;
}

void drug_liquid_radii(const drug_def *d, drug_site site, double volume_ml, double out[3])
{
    double v = volume_ml * 1000.0; /* mm^3 */
    out[0] = out[1] = out[2] = 0.0;
    if (!(v > 0.0))
        return;
    if (site == DRUG_SITE_DERMIS || site == DRUG_SITE_EPIDERMIS) {
        /* Diameter grows with the cube root of volume from the reference bleb; the thickness
         * follows from the ellipsoid volume 4/3 pi a^2 c. */
        double a = radius_bound(0.5 * d->bleb_ref_mm * cbrt(volume_ml / d->bleb_ref_ml));
        out[0] = out[1] = a;
        out[2] = radius_bound(3.0 * v / (4.0 * PI * a * a));
    } else if (site == DRUG_SITE_FAT) {
        double c = radius_bound(0.5 * d->fat_sheet_mm);
        out[0] = out[1] = radius_bound(sqrt(3.0 * v / (4.0 * PI * c)));
        out[2] = c;
    } else if (site == DRUG_SITE_MUSCLE) {
        /* Dispersed between fibres: twice as long along them, 0.4 mm thick. */
        double c = 0.2;
        double s = sqrt(3.0 * v / (8.0 * PI * c));
        out[0] = 2.0 * s;
        out[1] = s;
        out[2] = c;
    }
}

double drug_bleb_diameter_mm(const drug_def *d, const drug_deposit *dep)
{
    if (drug_is_gas(dep->kind))
        return 0.0;
    if (dep->site != DRUG_SITE_DERMIS && dep->site != DRUG_SITE_EPIDERMIS)
        return 0.0;
    double r[3];
    drug_liquid_radii(d, dep->site, dep->volume_ml, r);
    return 2.0 * r[0];
}

bool drug_wheal(const drug_def *d, const drug_deposit *dep, double *height_mm, double *sigma_mm)
{
    double dia = drug_bleb_diameter_mm(d, dep);
    if (!(dia > 0.0))
        return false;
    double r[3];
    drug_liquid_radii(d, dep->site, dep->volume_ml, r);
    *height_mm = 2.0 * r[2] * d->wheal_frac;
    /* A Gaussian whose +-2 sigma spans the bleb. */
    *sigma_mm = 0.25 * dia;
    return *height_mm > 0.0;
}

static double gas_scale(const drug_def *d, const drug_deposit *dep, double t_s)
{
    if (t_s <= dep->t_end_s)
        return 1.0;
    return exp(-(t_s - dep->t_end_s) / d->gas_fade_s);
}

int drug_shapes(const drug_def *d, const drug_deposit *dep, double t_s, phantom_inclusion *out,
                int max)
{
    if (max <= 0 || !(dep->volume_ml > 0.0))
        return 0;
    if (drug_is_gas(dep->kind)) {
        if (dep->site == DRUG_SITE_NONE || dep->site == DRUG_SITE_VESSEL)
            return 0;
        /* Three flat foci (radii r, r, r/4) around the tip holding the gas at gas_fill. */
        double v = dep->volume_ml * 1000.0 * gas_scale(d, dep, t_s) / d->gas_fill;
        double r = cbrt(v / 3.0 / (4.0 / 3.0 * PI * 0.25));
        if (r < 0.05)
            return 0;
        static const double off[3][3] = {{0.0, 0.0, 0.0}, {0.9, 0.5, 0.15}, {-0.8, -0.6, -0.1}};
        static const double size[3] = {1.0, 0.7, 0.6};
        int n = 0;
        for (int i = 0; i < 3 && n < max; i++) {
            phantom_inclusion *g = &out[n++];
            memset(g, 0, sizeof *g);
            g->kind = PHANTOM_ELLIPSOID;
            g->tissue = TISSUE_GAS;
            double ri = r * size[i] / cbrt(size[0] * size[0] * size[0] + size[1] * size[1] *
                                           size[1] + size[2] * size[2] * size[2]) * cbrt(3.0);
            for (int k = 0; k < 3; k++)
                g->c_mm[k] = dep->c_mm[k] + off[i][k] * r;
            g->radii_mm[0] = g->radii_mm[1] = ri;
            g->radii_mm[2] = 0.25 * ri;
            g->amplitude = 1.0;
        }
        return n;
    }
    double r[3];
    drug_liquid_radii(d, dep->site, dep->volume_ml, r);
    if (!(r[0] > 0.0))
        return 0;
    phantom_inclusion *b = &out[0];
    memset(b, 0, sizeof *b);
    b->kind = PHANTOM_ELLIPSOID;
    b->tissue = TISSUE_FLUID;
    memcpy(b->c_mm, dep->c_mm, sizeof b->c_mm);
    memcpy(b->radii_mm, r, sizeof b->radii_mm);
    b->amplitude = 1.0;
    if (dep->site == DRUG_SITE_DERMIS || dep->site == DRUG_SITE_EPIDERMIS) {
        /* A dermal bleb dissects the collagen bundles unevenly: an irregular, lobed border
         * (+-12 % of the radius; an assumption, anatomy.md 7 has no outline figure), fixed by
         * where it was injected so it keeps its shape as it grows. Volume unchanged. */
        b->border_irregularity = 0.12;
        b->border_seed = hash_voxel((int32_t)floor(dep->c_mm[0] * 100.0), (int32_t)floor(dep->c_mm[1] * 100.0),
                                    (int32_t)floor(dep->c_mm[2] * 100.0), 0xb1ebU);
    }
    /* Liquid in fat runs between the lobules (Leuenberger Jockel 2013: between the fat
     * cells; oedema fluid lies between lobules, Rettenbacher, anatomy.md 7). */
    b->follows_lobules = dep->site == DRUG_SITE_FAT;
    return 1;
}

double drug_dermis_fraction(const drug_def *d, const drug_deposit *dep, const phantom *ph,
                            double pressure_n)
{
    phantom_inclusion sh[DRUG_MAX_SHAPES];
    int n = drug_shapes(d, dep, dep->t_end_s, sh, DRUG_MAX_SHAPES);
    if (n == 0)
        return 0.0;
    double inside = 0.0, dermis = 0.0;
    for (int s = 0; s < n; s++) {
        const phantom_inclusion *e = &sh[s];
        /* Cell volume weights each shape's samples by its size. */
        double cell = 1.0;
        for (int k = 0; k < 3; k++)
            cell *= 2.0 * e->radii_mm[k] / FRACTION_GRID;
        for (int i = 0; i < FRACTION_GRID; i++)
            for (int j = 0; j < FRACTION_GRID; j++)
                for (int k = 0; k < FRACTION_GRID; k++) {
                    int idx[3] = {i, j, k};
                    double p[3];
                    for (int a = 0; a < 3; a++)
                        p[a] = e->c_mm[a] +
                               e->radii_mm[a] * (-1.0 + (2.0 * idx[a] + 1.0) / FRACTION_GRID);
                    if (!phantom_inclusion_contains(e, p))
                        continue;
                    inside += cell;
                    phantom_sample q = phantom_at(ph, p, pressure_n, NULL, 0);
                    if (q.tissue == TISSUE_DERMIS)
                        dermis += cell;
                }
    }
    return inside > 0.0 ? dermis / inside : 0.0;
}

double drug_bleed_radius_mm(const drug_bleed *b, double radius_mm, double growth_s, double t_s)
{
    if (t_s <= b->t_start_s)
        return 0.0;
    return radius_mm * (1.0 - exp(-(t_s - b->t_start_s) / growth_s));
}
