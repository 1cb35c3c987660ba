/* cohort: the case report's patients as scenarios, drawn from published skin and fat
 * thickness figures.
 *
 * The case report treated 10 adolescents aged 14-16 (5 male, 5 female) and 10 adults
 * (6 male, 4 female) for thoracolumbar muscle pain (seed-case-report.txt). cohort_patient_draw
 * gives patient i of that make-up for a seed: age, sex, body-mass index, and the skin
 * (epidermis + dermis, as high-frequency ultrasound measures it) and subcutaneous fat
 * thicknesses of the thoracolumbar back, each a group mean plus a linear BMI (and, for the
 * adult dermis, age) term plus a log-normal residual, so that the group's mean and spread are
 * the ones cohort_group_of states. The figures and their sources are in cohort.c and
 * docs/authoring.md ("Sources"). cohort_scenario turns a patient into a case by setting the
 * dermis and fat layers of a bundled base case (adult_back or adolescent_back).
 *
 * Pure and deterministic: same seed, same patients, on every machine. Plain data; nothing
 * here allocates. */
#ifndef MESOSIM_COHORT_H
#define MESOSIM_COHORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "region.h"
#include "scenario.h"

#define COHORT_SIZE 20
#define COHORT_ADOLESCENTS 10 /* patients 0..9; 0..4 male, 5..9 female */
#define COHORT_ADULT_MALES 6  /* patients 10..15 male, 16..19 female */

typedef enum cohort_group {
    COHORT_ADOLESCENT_MALE = 0,
    COHORT_ADOLESCENT_FEMALE,
    COHORT_ADULT_MALE,
    COHORT_ADULT_FEMALE,
    COHORT_GROUP_COUNT
} cohort_group;

/* A group's distributions. Each thickness is mean + slope_bmi (BMI - bmi_mean)
 * + slope_age (age - the group's mean age) + a residual of mean 0 and SD resid_sd (log-normal
 * about the patient's own mean), so over the group its mean is mean_mm and its SD
 * sqrt(resid_sd^2 + slope_bmi^2 bmi_sd^2 + slope_age^2 var(age)). */
typedef struct cohort_thickness {
    double mean_mm;
    double resid_sd_mm;
    double slope_bmi_mm;   /* per kg/m^2 */
    double slope_age_mm;   /* per year */
} cohort_thickness;

typedef struct cohort_group_def {
    const char *name;           /* "adolescent male", ... */
    bool female;
    double age_min_years, age_max_years; /* uniform; adolescents whole years 14..16 */
    double bmi_mean, bmi_sd;    /* kg/m^2, log-normal */
    cohort_thickness skin;      /* epidermis + dermis */
    cohort_thickness fat;       /* all subcutaneous fat, above the deep fascia */
} cohort_group_def;

const cohort_group_def *cohort_group_of(cohort_group g);
/* The group of patient i (0..COHORT_SIZE-1), as the case report's make-up orders them. */
cohort_group cohort_group_at(int i);
/* The group's SD of a thickness over its patients (the formula above). */
double cohort_group_sd_mm(const cohort_group_def *g, const cohort_thickness *t);

typedef struct cohort_patient {
    int index;                 /* 0..COHORT_SIZE-1 */
    cohort_group group;
    double age_years;
    double bmi_kg_m2;
    double skin_mm;            /* epidermis + dermis */
    double fat_mm;             /* subcutaneous fat, superficial and deep together */
} cohort_patient;

/* Patient i of the cohort for this seed; i outside 0..COHORT_SIZE-1 is taken modulo. Any
 * index and seed give a patient (draws for statistics may use indices beyond the 20 through
 * cohort_patient_draw_group). */
cohort_patient cohort_patient_draw(uint32_t seed, int i);
/* A patient of group g, draw number k of the stream for seed. */
cohort_patient cohort_patient_draw_group(uint32_t seed, cohort_group g, uint32_t k);

/* Patient p as a patient of region r: the skin and fat drawn for the thoracolumbar back,
 * each scaled by the ratio of region r's preset to the lumbar preset of the patient's age
 * group (region.h), so the patient keeps their place in the group's spread. Adolescents use
 * the adolescent presets where a source gives them, elsewhere the adult ratio (assumption:
 * no regional adolescent figure was found). REGION_LUMBAR returns p unchanged. */
cohort_patient cohort_patient_in_region(const cohort_patient *p, region_id r);

/* The case for patient p: base (adult_back for adults, adolescent_back for adolescents) with
 * the patient's age, sex, name, briefing and seed, the dermis set so that the skin above the
 * fat is p->skin_mm, the fat layers scaled to p->fat_mm in the base's proportions, and
 * vessels moved with the dermis-fat junction. A base whose patient.region is a region key
 * other than the back's names that region's indication in the briefing. False with the first problem in err when the
 * result does not pass scenario_check (then *out is unspecified). */
bool cohort_scenario(const cohort_patient *p, const scenario *base, uint32_t seed,
                     scenario *out, char *err, size_t err_len);

#endif
