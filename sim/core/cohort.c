/* cohort: the case report's 20 patients, drawn from published thickness figures.
 *
 * Sources (the full list with what each gives is in docs/authoring.md "Sources"):
 *  - Laurent et al. 2007, Vaccine 25:6423 (n=342 adults, 20 MHz): suprascapular skin
 *    (epidermis + dermis) 2.54 mm, the closest published site to the thoracolumbar back.
 *  - Sim et al. 2014, Diabetes Metab J 38:120: skin 2.29 +- 0.37 mm (abdomen), the adult
 *    residual spread; subcutaneous fat CV 0.49-0.64 (arm 5.50 +- 2.68, abdomen 10.15 +- 6.54).
 *  - Gibney et al. 2010, Curr Med Res Opin 26:1519 (n=388): +10 kg/m^2 BMI adds about 0.2 mm
 *    of skin and 4 mm of subcutaneous fat; women +5.1 mm of fat; adult buttock skin 2.4 mm
 *    and abdominal fat 13.9 mm.
 *  - Lo Presti et al. 2012, Pediatr Diabetes 13:525: skin 2.29 mm at the buttock at 14-17 y.
 *  - Van Mulder et al. (children's skin for intradermal injection): SDs 0.14-0.25 mm on
 *    1.0-1.3 mm means (CV 12-19 %), rising with BMI, no sex effect.
 *  - Lim et al. 2018, J Clin Transl Endocrinol 12:26: skin + fat 9.76 +- 4.38 mm at the
 *    buttock at 13-18 y.
 *  - Branchet et al. 1990, Gerontology 36:28: dermis about -6 % per decade.
 *  - Kawchuk et al. 2011, Man Ther 16:384: adults referred for lumbar MRI, mean BMI about 27.
 *  - WHO growth reference 2007 (de Onis et al., Bull World Health Organ 85:660): median BMI
 *    at 15 y about 19.8 (boys) and 20.2 kg/m^2 (girls).
 *  - Eur Radiol 2022;32:6504: dorsal fat at L1-2 over 9.4 mm (men) / 8.45 mm (women) goes
 *    with low back pain; the bundled adult back's 7 mm sits under it.
 * Where a figure is derived or assumed, the table says how. */
#include "cohort.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "hash.h"

/* Adolescent back skin: the adult back's 2.54 mm scaled by the adolescent-to-adult ratio at
 * the buttock, 2.29 / 2.40 (Lo Presti 2012 over Gibney 2010). */
#define ADOLESCENT_SKIN_MM (2.54 * 2.29 / 2.40)
/* Adolescent back fat: Lim 2018's buttock skin + fat at 13-18 y less the skin (9.76 - 2.29),
 * scaled by the adult back-to-buttock fat ratio (7.0 / 15.4, Gibney's buttock fat 15.4 mm);
 * the SD scaled alike (4.38 x 7.0 / 15.4). */
#define BACK_PER_BUTTOCK_FAT (7.0 / 15.4)
#define ADOLESCENT_FAT_MM ((9.76 - 2.29) * BACK_PER_BUTTOCK_FAT)
#define ADOLESCENT_FAT_SD_MM (4.38 * BACK_PER_BUTTOCK_FAT)
/* Women's extra fat: Gibney's +5.1 mm at limb and abdominal sites, scaled to the back by the
 * adult back-to-abdomen ratio 7.0 / 13.9. */
#define FEMALE_EXTRA_FAT_MM (5.1 * 7.0 / 13.9)

static const cohort_group_def k_groups[COHORT_GROUP_COUNT] = {
    [COHORT_ADOLESCENT_MALE] =
        {"adolescent male", false, 14, 16, 19.8, 3.0,
         /* Residual 12.5 % of the mean (Van Mulder's CV 12-19 %); Gibney's BMI slope; no
          * age term over three years. */
         {ADOLESCENT_SKIN_MM, 0.125 * ADOLESCENT_SKIN_MM, 0.02, 0.0},
         /* No sex term for adolescents: no back figure by sex was found (assumption). */
         {ADOLESCENT_FAT_MM, ADOLESCENT_FAT_SD_MM, 0.4, 0.0}},
    [COHORT_ADOLESCENT_FEMALE] =
        {"adolescent female", true, 14, 16, 20.2, 3.0,
         {ADOLESCENT_SKIN_MM, 0.125 * ADOLESCENT_SKIN_MM, 0.02, 0.0},
         {ADOLESCENT_FAT_MM, ADOLESCENT_FAT_SD_MM, 0.4, 0.0}},
    /* Adults: ages 25-65 (the case report gives none: assumption), BMI SD assumed 4 (men) and
     * 5 (women) about Kawchuk's mean 27; the dermis thins 6 % per decade (Branchet) of the
     * group mean: 0.006 x mean per year. */
    [COHORT_ADULT_MALE] = {"adult male", false, 25, 65, 27.0, 4.0,
                           {2.54, 0.37, 0.02, -0.006 * 2.54},
                           /* Residual CV 0.5, the low end of Sim 2014's 0.49-0.64. */
                           {7.0, 0.5 * 7.0, 0.4, 0.0}},
    /* Women's skin 10 % thinner (assumption: Olsen 1995 finds women's thinner, Krackowizer
     * 2008 men up to 1.43x thicker). */
    [COHORT_ADULT_FEMALE] = {"adult female", true, 25, 65, 26.0, 5.0,
                             {0.9 * 2.54, 0.37, 0.02, -0.006 * 0.9 * 2.54},
                             {7.0 + FEMALE_EXTRA_FAT_MM, 0.5 * (7.0 + FEMALE_EXTRA_FAT_MM), 0.4,
                              0.0}},
};

const cohort_group_def *cohort_group_of(cohort_group g)
{
    return (int)g >= 0 && g < COHORT_GROUP_COUNT ? &k_groups[g] : NULL;
}

cohort_group cohort_group_at(int i)
{
    i = ((i % COHORT_SIZE) + COHORT_SIZE) % COHORT_SIZE;
    if (i < COHORT_ADOLESCENTS)
        return i < COHORT_ADOLESCENTS / 2 ? COHORT_ADOLESCENT_MALE : COHORT_ADOLESCENT_FEMALE;
    return i < COHORT_ADOLESCENTS + COHORT_ADULT_MALES ? COHORT_ADULT_MALE : COHORT_ADULT_FEMALE;
}

/* Adolescents are drawn in whole years (14, 15 or 16, as the case report counts them). */
static bool whole_years(const cohort_group_def *g)
{
    return g->age_max_years - g->age_min_years < 5;
}

static double age_mean(const cohort_group_def *g)
{
    return 0.5 * (g->age_min_years + g->age_max_years);
}

static double age_var(const cohort_group_def *g)
{
    double w = g->age_max_years - g->age_min_years;
    if (whole_years(g)) { /* discrete uniform over w + 1 whole years */
        double n = w + 1.0;
        return (n * n - 1.0) / 12.0;
    }
    return w * w / 12.0;
}

double cohort_group_sd_mm(const cohort_group_def *g, const cohort_thickness *t)
{
    return sqrt(t->resid_sd_mm * t->resid_sd_mm +
                t->slope_bmi_mm * t->slope_bmi_mm * g->bmi_sd * g->bmi_sd +
                t->slope_age_mm * t->slope_age_mm * age_var(g));
}

/* Uniform in (0, 1) from draw k's j-th number for the seed and group. */
static double uniform(uint32_t seed, cohort_group g, uint32_t k, uint32_t j)
{
    uint32_t h = hash_mix32(seed ^ hash_mix32(k * 0x9e3779b9U ^ hash_mix32((uint32_t)g * 16u + j)));
    return ((double)(h >> 8) + 0.5) * (1.0 / 16777216.0);
}

static double normal(uint32_t seed, cohort_group g, uint32_t k, uint32_t j)
{
    double u1 = uniform(seed, g, k, j), u2 = uniform(seed, g, k, j + 1);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

/* Log-normal of mean m and SD s from a standard normal z. */
static double lognormal(double m, double s, double z)
{
    double s2 = log(1.0 + (s * s) / (m * m));
    return exp(log(m) - 0.5 * s2 + sqrt(s2) * z);
}

static double thickness(const cohort_thickness *t, const cohort_group_def *g, double bmi,
                        double age, double z)
{
    double m = t->mean_mm + t->slope_bmi_mm * (bmi - g->bmi_mean) +
               t->slope_age_mm * (age - age_mean(g));
    /* A patient far out on BMI could make the mean non-positive; a tenth of the group mean
     * is no less plausible a skin and keeps the draw defined (it shifts the group's mean by
     * far less than its sampling error: such BMIs are beyond 5 SD). */
    if (m < 0.1 * t->mean_mm)
        m = 0.1 * t->mean_mm;
    return lognormal(m, t->resid_sd_mm, z);
}

cohort_patient cohort_patient_draw_group(uint32_t seed, cohort_group g, uint32_t k)
{
    const cohort_group_def *d = cohort_group_of(g);
    cohort_patient p = {.index = -1, .group = g};
    double u = uniform(seed, g, k, 0);
    if (whole_years(d))
        p.age_years = d->age_min_years +
                      floor(u * (d->age_max_years - d->age_min_years + 1.0));
    else
        p.age_years = d->age_min_years + u * (d->age_max_years - d->age_min_years);
    p.bmi_kg_m2 = lognormal(d->bmi_mean, d->bmi_sd, normal(seed, g, k, 1));
    p.skin_mm = thickness(&d->skin, d, p.bmi_kg_m2, p.age_years, normal(seed, g, k, 3));
    p.fat_mm = thickness(&d->fat, d, p.bmi_kg_m2, p.age_years, normal(seed, g, k, 5));
    return p;
}

cohort_patient cohort_patient_draw(uint32_t seed, int i)
{
    i = ((i % COHORT_SIZE) + COHORT_SIZE) % COHORT_SIZE;
    cohort_patient p = cohort_patient_draw_group(seed, cohort_group_at(i), (uint32_t)i);
    p.index = i;
    return p;
}

cohort_patient cohort_patient_in_region(const cohort_patient *p, region_id r)
{
    cohort_patient q = *p;
    bool adolescent = p->group == COHORT_ADOLESCENT_MALE || p->group == COHORT_ADOLESCENT_FEMALE;
    const region_preset *reg = region_preset_get(r, adolescent), *back = region_preset_get(REGION_LUMBAR, adolescent);
    if (!reg) {
        reg = region_preset_get(r, false);
        back = region_preset_get(REGION_LUMBAR, false);
    }
    if (!reg || r == REGION_LUMBAR)
        return q;
    q.skin_mm *= region_skin_mm(reg) / region_skin_mm(back);
    q.fat_mm *= region_fat_mm(reg) / region_fat_mm(back);
    return q;
}

static int find_layer(const phantom_def *ph, tissue_id t)
{
    for (int i = 0; i < ph->n_layers; i++)
        if (ph->layers[i].tissue == t)
            return i;
    return -1;
}

/* A depth under the old layers mapped to the new: the dermis keeps its depths, the
 * hypodermis (fat, superficial fascia, deep fat) stretches by f, deeper tissue moves by the
 * total change. */
static double map_depth(double z, double old_bottom, double new_bottom, double old_hypo,
                        double new_hypo)
{
    if (z <= old_bottom)
        return z;
    if (z <= old_bottom + old_hypo)
        return new_bottom + (z - old_bottom) * new_hypo / old_hypo;
    return z + (new_bottom - old_bottom) + (new_hypo - old_hypo);
}

bool cohort_scenario(const cohort_patient *p, const scenario *base, uint32_t seed,
                     scenario *out, char *err, size_t n)
{
    const cohort_group_def *g = cohort_group_of(p->group);
    if (!g) {
        snprintf(err, n, "no such cohort group %d", (int)p->group);
        return false;
    }
    *out = *base;
    phantom_def *ph = &out->phantom;
    int de = find_layer(ph, TISSUE_DERMIS), fa = find_layer(ph, TISSUE_FAT),
        sf = find_layer(ph, TISSUE_SUPERFICIAL_FASCIA), df = find_layer(ph, TISSUE_DEEP_FAT);
    if (de < 0 || fa < 0 || df < 0 || df == ph->n_layers - 1 || fa == ph->n_layers - 1) {
        snprintf(err, n,
                 "the base case needs dermis, fat and deep_fat layers above the bottom one");
        return false;
    }
    double above = 0.0;
    for (int i = 0; i < de; i++)
        above += ph->layers[i].thickness_mm;
    double old_bottom = above + ph->layers[de].thickness_mm;
    double fascia = sf >= 0 ? ph->layers[sf].thickness_mm : 0.0;
    double old_fat = ph->layers[fa].thickness_mm + ph->layers[df].thickness_mm;
    double dermis = p->skin_mm - above;
    if (dermis < 0.2) {
        snprintf(err, n, "a skin of %.2f mm leaves no dermis under the %.2f mm epidermis",
                 p->skin_mm, above);
        return false;
    }
    ph->layers[de].thickness_mm = dermis;
    double f = p->fat_mm / old_fat;
    ph->layers[fa].thickness_mm *= f;
    ph->layers[df].thickness_mm *= f;
    double new_bottom = above + dermis;
    for (int v = 0; v < ph->n_vessels; v++) {
        phantom_vessel_def *vs = &ph->vessels[v];
        vs->a_mm[2] = map_depth(vs->a_mm[2], old_bottom, new_bottom, old_fat + fascia,
                                p->fat_mm + fascia);
        vs->b_mm[2] = map_depth(vs->b_mm[2], old_bottom, new_bottom, old_fat + fascia,
                                p->fat_mm + fascia);
    }

    bool adult = p->group == COHORT_ADULT_MALE || p->group == COHORT_ADULT_FEMALE;
    region_id rid;
    const region_preset *reg =
        region_from_name(base->patient.region, &rid) && rid != REGION_LUMBAR ? region_preset_get(rid, false) : NULL;
    out->patient.age_years = p->age_years;
    snprintf(out->patient.sex, sizeof out->patient.sex, "%s", g->female ? "female" : "male");
    snprintf(out->patient.skin, sizeof out->patient.skin, "normal");
    snprintf(out->name, sizeof out->name, "Cohort %02d: %s, %.0f y, BMI %.1f", p->index + 1,
             g->name, p->age_years, p->bmi_kg_m2);
    snprintf(out->description, sizeof out->description,
             "Patient %d of the case report's cohort (seed %u): %s of %.0f years, BMI %.1f "
             "kg/m2, treated for %s. Skin %.2f mm, subcutaneous fat %.1f "
             "mm, drawn from published figures by age, sex and BMI. Read this patient's dermis "
             "before choosing the angle and the advance.",
             p->index + 1, seed, g->name, p->age_years, p->bmi_kg_m2,
             reg ? reg->indication : "thoracolumbar muscle pain", p->skin_mm, p->fat_mm);
    out->level = 3;
    out->n_goals = 2;
    snprintf(out->goals[0], sizeof out->goals[0],
             "Fit the angle and the advance to this patient's skin thickness");
    snprintf(out->goals[1], sizeof out->goals[1],
             "Practise across the population the technique was reported on");
    out->seed = seed * 97u + (uint32_t)p->index + 1u;
    out->phantom.seed = out->seed;
    snprintf(out->layer_source[de], sizeof out->layer_source[de],
             "cohort draw: skin %.3f mm less the epidermis; %s (sim/core/cohort.c, "
             "docs/authoring.md Sources)",
             p->skin_mm, adult ? "Laurent 2007, Sim 2014, Gibney 2010, Branchet 1990"
                               : "Laurent 2007 x Lo Presti 2012 / Gibney 2010, Van Mulder");
    snprintf(out->layer_source[fa], sizeof out->layer_source[fa],
             "cohort draw: %.2f mm of fat in all, split as the base case; %s", p->fat_mm,
             adult ? "Gibney 2010, Sim 2014, Eur Radiol 2022;32:6504" : "Lim 2018, Gibney 2010");
    memcpy(out->layer_source[df], out->layer_source[fa], sizeof out->layer_source[df]);

    scenario_diags d = {0};
    int k = scenario_check(out, &d);
    if (k > 0)
        snprintf(err, n, "%s: %s", d.count ? d.items[0].path : "",
                 d.count ? d.items[0].message : "does not check");
    scenario_diags_free(&d);
    return k == 0;
}
