/* drug: what is injected and where it goes: blebs, thin sheets in fat, gas foci, haematomas.
 *
 * A deposit is made where the tip is when the plunger moves and grows with the volume
 * delivered so far. Its shape depends on the tissue at the tip (physics-lite, no flow solve):
 *   - liquid in the dermis (or epidermis): a compact oblate bleb whose diameter follows the
 *     reference bleb sizes (0.02 mL about 5 mm, 0.1 mL 6-10 mm, tissue.md 4b) and raises a
 *     wheal on the skin;
 *   - liquid in fat: a thin sheet spreading along the lobules, no wheal;
 *   - liquid in muscle: dispersed along the fibres, thin and faint;
 *   - liquid into a vessel: carried away, nothing to see (intravascular);
 *   - gas (oxygen-ozone): a cluster of bright foci that fades over minutes.
 * Shapes are phantom inclusions (FLUID, GAS, HAEMATOMA ellipsoids) the B-mode renders.
 *
 * Units: mL, mm, s. Plain data; no allocation. */
#ifndef MESOSIM_DRUG_H
#define MESOSIM_DRUG_H

#include <stdbool.h>

#include "phantom.h"

typedef enum drug_kind {
    DRUG_LIDOCAINE = 0,
    DRUG_DEXAMETHASONE,
    DRUG_SALINE,
    DRUG_OXYGEN_OZONE,
    DRUG_KIND_COUNT
} drug_kind;

const char *drug_kind_name(drug_kind k);
bool drug_kind_from_name(const char *name, drug_kind *out);
bool drug_is_gas(drug_kind k);

typedef struct drug_def {
    drug_kind kind;
    double volume_ml;        /* planned volume per point */
    double rate_ml_s;        /* plunger rate */
    double bleb_ref_ml;      /* reference bleb: this volume ... */
    double bleb_ref_mm;      /* ... makes a bleb this wide in the dermis */
    double wheal_frac;       /* share of the bleb's thickness that lifts the skin */
    double fat_sheet_mm;     /* thickness of the sheet a liquid spreads into in fat */
    double gas_fill;         /* share of the foci cluster's volume that is gas */
    double gas_fade_s;       /* time constant of the gas volume's decay */
} drug_def;

drug_def drug_default_def(void);
/* NULL when valid, else a static message naming the bad field. */
const char *drug_check(const drug_def *d);

typedef enum drug_site {
    DRUG_SITE_NONE = 0, /* tip outside the skin: the drug is lost on the skin */
    DRUG_SITE_EPIDERMIS,
    DRUG_SITE_DERMIS,
    DRUG_SITE_FAT,
    DRUG_SITE_MUSCLE,
    DRUG_SITE_VESSEL
} drug_site;

/* The site a tissue at the tip makes. */
drug_site drug_site_of(tissue_id t);

typedef struct drug_deposit {
    drug_kind kind;
    drug_site site;
    double c_mm[3];      /* tip when injection began, tissue coordinates */
    double volume_ml;    /* delivered so far */
    double t_start_s;    /* when the plunger first moved */
    double t_end_s;      /* when delivery ended (gas starts fading then) */
    double fibre_deg;    /* muscle fibre direction (dispersion axis) */
} drug_deposit;

/* Semi-axes (x, y, z, mm) of a liquid deposit of volume_ml at its site; zeros when there is
 * nothing to see (vessel, none, gas). */
void drug_liquid_radii(const drug_def *d, drug_site site, double volume_ml, double out[3]);
/* Bleb diameter across the skin plane (mm), 0 when no bleb. */
double drug_bleb_diameter_mm(const drug_def *d, const drug_deposit *dep);
/* Wheal: true (with its height and Gaussian sigma) for a liquid bleb in the epidermis/dermis. */
bool drug_wheal(const drug_def *d, const drug_deposit *dep, double *height_mm, double *sigma_mm);
/* Shapes of the deposit at time t_s; writes up to max inclusions, returns how many. */
int drug_shapes(const drug_def *d, const drug_deposit *dep, double t_s, phantom_inclusion *out,
                int max);
#define DRUG_MAX_SHAPES 3

/* Fraction of the deposit's volume inside the dermis layer, measured on a grid over its
 * shapes against the static phantom (liquid at the end of delivery; gas at delivery). */
double drug_dermis_fraction(const drug_def *d, const drug_deposit *dep, const phantom *ph,
                            double pressure_n);

/* A bleed at a vessel puncture: a haematoma ellipsoid growing to radius_mm. */
typedef struct drug_bleed {
    double c_mm[3];
    double t_start_s;
    int vessel;
} drug_bleed;

double drug_bleed_radius_mm(const drug_bleed *b, double radius_mm, double growth_s, double t_s);

#endif
