/* tissue: the materials of the phantom and their acoustic properties.
 *
 * Every material the B-mode synthesis can meet has an id and a tissue_props record: speed of
 * sound, density (so acoustic impedance), frequency-dependent attenuation alpha0 * f^b and a
 * relative backscatter amplitude (dermis = 1). Defaults come from
 * shared/reference/tissue.md (sources cited next to each value in tissue.c); a scenario may
 * override any field of any tissue.
 *
 * Units: m/s, kg/m^3, dB/cm/MHz^b, linear amplitude. Pure data, no allocation. */
#ifndef MESOSIM_TISSUE_H
#define MESOSIM_TISSUE_H

#include <stdbool.h>

typedef enum tissue_id {
    TISSUE_GEL = 0,          /* coupling gel above the skin */
    TISSUE_STRATUM_CORNEUM,
    TISSUE_EPIDERMIS,        /* viable epidermis */
    TISSUE_DERMIS,
    TISSUE_FAT,              /* hypodermis: fat lobules (septa are a texture of this tissue) */
    TISSUE_SUPERFICIAL_FASCIA,
    TISSUE_DEEP_FAT,
    TISSUE_DEEP_FASCIA,      /* thoracolumbar fascia */
    TISSUE_MUSCLE,
    TISSUE_BLOOD,            /* vessel lumen */
    TISSUE_VESSEL_WALL,
    TISSUE_FLUID,            /* cyst content, injected liquid (saline, lidocaine) */
    TISSUE_GAS,              /* gas pocket, oxygen-ozone */
    TISSUE_STEEL,            /* needle */
    TISSUE_HAEMATOMA,
    TISSUE_BONE,             /* cortical bone: spinous and transverse processes, ribs */
    TISSUE_TENDON,           /* tendon: parallel collagen fascicles (rotator cuff, common
                                extensor, patellar tendon); fibrillar and anisotropic */
    TISSUE_COUNT
} tissue_id;

typedef struct tissue_props {
    double speed_m_s;
    double density_kg_m3;
    double atten_db_cm_mhz;   /* alpha0 in alpha = alpha0 * f^b, one way */
    double atten_exponent;    /* b */
    double backscatter;       /* diffuse scattering amplitude relative to dermis (1.0) */
} tissue_props;

/* Table of all tissues' properties, indexed by tissue_id. */
typedef struct tissue_table {
    tissue_props t[TISSUE_COUNT];
} tissue_table;

tissue_table tissue_default_table(void);

/* Stable lower-case key ("dermis", "deep_fascia", ...) used in scenario files and reports. */
const char *tissue_name(tissue_id id);
/* Returns false when name is not a tissue key. */
bool tissue_from_name(const char *name, tissue_id *out);

/* Acoustic impedance in MRayl. */
double tissue_impedance_mrayl(const tissue_props *p);
/* One-way attenuation in dB per mm at freq_mhz. */
double tissue_atten_db_mm(const tissue_props *p, double freq_mhz);

#endif
