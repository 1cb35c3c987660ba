/* region: the presets. Every thickness names its source (shared/reference/tissue.md and
 * anatomy.md, the rows quoted) or says it is an assumption where the references record the
 * figure as not found (anatomy.md section 2: neck, lateral elbow and peri-patellar knee skin
 * and fat; tendon thicknesses). docs/authoring.md "Regions" tabulates the same. */
#include "region.h"

#include <stdio.h>
#include <string.h>

#define SC_SHOULDER "Sandby-Moller, Poulsen & Wulf 2003, Acta Derm Venereol 83:410: stratum corneum 11.0 um at the shoulder"
#define EPI_SHOULDER "Sandby-Moller et al. 2003: cellular epidermis 70.3 um at the shoulder, no age correlation"
#define SF_BACK "Stecco review (Fascia, Padova): superficial fascia splits the hypodermis; 0.3 mm assumed below the deep fasciae's 0.71-1.62 mm"
#define DF_STECCO "Stecco group, Ital J Anat Embryol 2016: deep fasciae 0.71-1.62 mm"

static const region_preset k_adult[REGION_COUNT] = {
    [REGION_THORACIC] = {
        REGION_THORACIC, false, "thoracic", "Thoracic back",
        "muscle pain of the upper back (the case report's thoracolumbar patients)",
        {{TISSUE_STRATUM_CORNEUM, 0.011, SC_SHOULDER},
         {TISSUE_EPIDERMIS, 0.070, EPI_SHOULDER},
         {TISSUE_DERMIS, 2.46, "Laurent et al. 2007, Vaccine 25:6423: suprascapular skin 2.54 mm at 20 MHz, less the epidermis"},
         {TISSUE_FAT, 3.0, "thoracic fat not found: as the lumbar back (Eur Radiol 2022;32:6504, 7 mm under the 8.45 / 9.4 mm thresholds), superficial share"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.3, SF_BACK},
         {TISSUE_DEEP_FAT, 4.0, "as the lumbar back, deep share of the 7 mm (assumption for the thoracic level)"},
         {TISSUE_DEEP_FASCIA, 0.8, DF_STECCO},
         {TISSUE_MUSCLE, 0.0, "trapezius 4.9 +- 1.0 mm in men over the interscapular region (Hung et al. 2011, J Clin Ultrasound 39:78), bottom layer"}},
        8, {{0}}, 0, NULL},
    [REGION_LUMBAR] = {
        REGION_LUMBAR, false, "lumbar", "Lumbar back",
        "low back pain and paravertebral muscle pain (the case report's patients)",
        {{TISSUE_STRATUM_CORNEUM, 0.015, "Sandby-Moller et al. 2003: shoulder 11.0 and buttock 14.9 um"},
         {TISSUE_EPIDERMIS, 0.075, "Sandby-Moller et al. 2003: cellular epidermis shoulder 70.3, buttock 81.5 um"},
         {TISSUE_DERMIS, 2.45, "Laurent et al. 2007, Vaccine 25:6423: suprascapular skin 2.54 mm at 20 MHz, less the epidermis (the back's nearest measured site)"},
         {TISSUE_FAT, 3.0, "Eur Radiol 2022;32:6504: dorsal subcutaneous fat at L1-2 under the 8.45 / 9.4 mm thresholds; superficial share"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.3, SF_BACK},
         {TISSUE_DEEP_FAT, 4.0, "Eur Radiol 2022;32:6504: total dorsal fat 7 mm"},
         {TISSUE_DEEP_FASCIA, 0.8, "Stecco group 2016: thoracolumbar fascia 0.37-0.68 mm, deep fasciae 0.71-1.62 mm"},
         {TISSUE_MUSCLE, 0.0, "erector spinae, bottom layer; spinous tips 22.8 mm (L1) to 36.7 mm (L5) deep, under the image (Kawchuk et al. 2011, Man Ther 16:384)"}},
        8, {{0}}, 0, NULL},
    [REGION_NECK] = {
        REGION_NECK, false, "neck", "Posterior neck and upper trapezius",
        "tension-type headache and neck muscle pain",
        {{TISSUE_STRATUM_CORNEUM, 0.011, SC_SHOULDER " (nearest site)"},
         {TISSUE_EPIDERMIS, 0.070, EPI_SHOULDER " (nearest site)"},
         {TISSUE_DERMIS, 1.45, "Lee & Hwang 2002, Surg Radiol Anat 24:183: anterior neck dermis within 1.318-1.586 mm (histology), the middle; posterior neck not retrieved"},
         {TISSUE_FAT, 1.8, "assumption: neck fat not found (anatomy.md 2); a lean neck, 3.4 mm of fat in all"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.3, SF_BACK},
         {TISSUE_DEEP_FAT, 1.6, "assumption: deep share of the 3.4 mm"},
         {TISSUE_DEEP_FASCIA, 1.26, "Salavati et al. 2017, J Chiropr Med 16:316: upper trapezius fascia 1.23-1.29 mm"},
         {TISSUE_MUSCLE, 0.0, "upper trapezius 11.6-11.9 mm (Salavati et al. 2017), bottom layer"}},
        8, {{0}}, 0, NULL},
    [REGION_SHOULDER] = {
        REGION_SHOULDER, false, "shoulder", "Lateral shoulder over the deltoid",
        "rotator cuff tendinopathy and subacromial bursitis",
        {{TISSUE_STRATUM_CORNEUM, 0.011, SC_SHOULDER},
         {TISSUE_EPIDERMIS, 0.070, EPI_SHOULDER},
         {TISSUE_DERMIS, 1.94, "Laurent et al. 2007, Vaccine 25:6423: deltoid skin 2.02 mm at 20 MHz, less the epidermis"},
         {TISSUE_FAT, 2.6, "Poland et al. 1997, JAMA 277:1709: deltoid fat pad (skin to muscle) 8.3 mm in men, less the skin: 5.75 mm of fat in all, superficial share"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.53, "Pirri et al. 2022, Diagnostics 12:1884: superficial fascia of the posterior arm 0.53 +- 0.10 mm"},
         {TISSUE_DEEP_FAT, 2.62, "Poland et al. 1997: deep share of the 5.75 mm"},
         {TISSUE_DEEP_FASCIA, 0.8, DF_STECCO " (assumption within the range)"},
         {TISSUE_MUSCLE, 0.0, "deltoid, bottom layer; the cuff tendons lie under it, skin to bone 22.5-25.4 mm (Nakayama et al. 2022, Healthcare 10:800), under the image"}},
        8, {{0}}, 0, NULL},
    [REGION_ELBOW] = {
        REGION_ELBOW, false, "lateral_elbow", "Lateral elbow",
        "lateral epicondylitis: the common extensor tendon on the lateral epicondyle",
        {{TISSUE_STRATUM_CORNEUM, 0.018, "Sandby-Moller et al. 2003: stratum corneum 18.3 um on the dorsal forearm"},
         {TISSUE_EPIDERMIS, 0.070, EPI_SHOULDER " (no forearm figure)"},
         {TISSUE_DERMIS, 1.35, "Antwerp HFUS study (researchportal.be 2450488): proximal dorsal forearm skin 1.44 (0.78-1.84) mm, less the epidermis"},
         {TISSUE_FAT, 1.0, "assumption: elbow fat not found (anatomy.md 2); thin skin over bone, 1.8 mm of fat in all"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.41, "Pirri et al. 2022, Diagnostics 12:1884: superficial fascia of the posterior forearm 0.41 +- 0.10 mm"},
         {TISSUE_DEEP_FAT, 0.8, "assumption: deep share of the 1.8 mm"},
         {TISSUE_DEEP_FASCIA, 0.71, DF_STECCO " (the thinnest)"},
         {TISSUE_TENDON, 4.0, "assumption: common extensor origin thickness not retrieved (anatomy.md 3)"},
         {TISSUE_MUSCLE, 0.0, "extensor muscles beside the epicondyle, bottom layer"}},
        9,
        {{PHANTOM_BONE_RIB, 0.0, 0.0, 8.35, 16.0, 60.0, 12.0, 0.0}},
        1, "lateral epicondyle under the tendon's origin: apex at the tendon's bottom (8.35 mm), a rounded bar 16 mm across (assumption)"},
    [REGION_KNEE] = {
        REGION_KNEE, false, "knee", "Peri-patellar knee",
        "knee osteoarthritis (Tseveendorj et al. 2023, the case report's reference 4) and patellar tendinopathy",
        {{TISSUE_STRATUM_CORNEUM, 0.015, "Sandby-Moller et al. 2003: 11.0-18.3 um over shoulder, buttock and forearm (no knee figure)"},
         {TISSUE_EPIDERMIS, 0.075, "Sandby-Moller et al. 2003: cellular epidermis 70.3-81.5 um (no knee figure)"},
         {TISSUE_DERMIS, 1.46, "Laurent et al. 2007, Vaccine 25:6423: thigh skin 1.55 mm, the nearest measured site, less the epidermis"},
         {TISSUE_FAT, 1.6, "assumption: peri-patellar fat not found (anatomy.md 2); 2.6 mm of fat in all over the tendon"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.4, "Pirri et al. 2022, Diagnostics 12:1884: superficial fascia of the limbs 0.40-0.53 mm"},
         {TISSUE_DEEP_FAT, 1.0, "assumption: deep share of the 2.6 mm"},
         {TISSUE_DEEP_FASCIA, 0.71, DF_STECCO " (the thinnest)"},
         {TISSUE_TENDON, 4.5, "assumption: patellar tendon thickness not retrieved (anatomy.md 3)"},
         {TISSUE_DEEP_FAT, 0.0, "infrapatellar (Hoffa) fat pad under the tendon, bottom layer"}},
        9,
        {{PHANTOM_BONE_RIB, 9.0, 0.0, 3.8, 14.0, 60.0, 10.0, 90.0}},
        1, "lower pole of the patella beside the tendon, 3.8 mm under the skin (assumption; the peri-patellar points sit on its border)"},
};

static const region_preset k_adolescent[REGION_COUNT] = {
    [REGION_THORACIC] = {
        REGION_THORACIC, true, "thoracic", "Thoracic back",
        "muscle pain of the upper back (the case report's adolescents)",
        {{TISSUE_STRATUM_CORNEUM, 0.015, "Sandby-Moller et al. 2003: shoulder 11.0 and buttock 14.9 um"},
         {TISSUE_EPIDERMIS, 0.075, "Sandby-Moller et al. 2003: cellular epidermis 70-81 um, no correlation with age"},
         {TISSUE_DERMIS, 2.23, "the lumbar adolescent's 2.1 mm x 1.06: upper back 1.39 vs lumbar 1.31 mm in children (Vaccine 2011;29:8438)"},
         {TISSUE_FAT, 2.0, "assumption: lean adolescent, two thirds of the adult's superficial fat"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.25, "Stecco review (Fascia, Padova); thinner than the adult's assumed 0.3 mm"},
         {TISSUE_DEEP_FAT, 2.5, "assumption: total dorsal fat 4.5 mm, under the adult thresholds (Eur Radiol 2022;32:6504)"},
         {TISSUE_DEEP_FASCIA, 0.5, "Stecco group 2016: thoracolumbar fascia 0.37-0.68 mm; thickens with age (Wilke et al. 2019, J Anat 234:43)"},
         {TISSUE_MUSCLE, 0.0, "trapezius, bottom layer"}},
        8, {{0}}, 0, NULL},
    [REGION_LUMBAR] = {
        REGION_LUMBAR, true, "lumbar", "Lumbar back",
        "low back pain and paravertebral muscle pain (the case report's adolescents)",
        {{TISSUE_STRATUM_CORNEUM, 0.015, "Sandby-Moller et al. 2003: shoulder 11.0 and buttock 14.9 um"},
         {TISSUE_EPIDERMIS, 0.075, "Sandby-Moller et al. 2003: cellular epidermis 70-81 um, no correlation with age"},
         {TISSUE_DERMIS, 2.1, "Lo Presti et al. 2012, Pediatr Diabetes 13:525: skin of 14-17 year olds up to 2.29 mm (buttock), less the epidermis"},
         {TISSUE_FAT, 2.0, "assumption: lean adolescent, two thirds of the adult's 3 mm superficial fat"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.25, "Stecco review (Fascia, Padova); thinner than the adult's assumed 0.3 mm"},
         {TISSUE_DEEP_FAT, 2.5, "assumption: total dorsal fat 4.5 mm, under the adult thresholds (Eur Radiol 2022;32:6504)"},
         {TISSUE_DEEP_FASCIA, 0.5, "Stecco group 2016: thoracolumbar fascia 0.37-0.68 mm; thickens with age (Wilke et al. 2019)"},
         {TISSUE_MUSCLE, 0.0, "erector spinae, bottom layer"}},
        8, {{0}}, 0, NULL},
    [REGION_SHOULDER] = {
        REGION_SHOULDER, true, "shoulder", "Lateral shoulder over the deltoid",
        "rotator cuff tendinopathy and subacromial bursitis",
        {{TISSUE_STRATUM_CORNEUM, 0.011, SC_SHOULDER},
         {TISSUE_EPIDERMIS, 0.070, EPI_SHOULDER},
         {TISSUE_DERMIS, 1.62, "skin 1.7 mm: between the children's deltoid 1.32 mm (Van Mulder et al., 8 weeks-18 y) and the adult's 2.02 mm (Laurent 2007), skin rising with age; less the epidermis"},
         {TISSUE_FAT, 2.9, "Lim et al. 2018, J Clin Transl Endocrinol 12:26: arm skin + fat 8.42 mm at 13-18 y, less the skin: 6.72 mm in all, superficial share"},
         {TISSUE_SUPERFICIAL_FASCIA, 0.4, "Pirri et al. 2022: superficial fascia of the arm 0.40-0.53 mm (adults), the thinner"},
         {TISSUE_DEEP_FAT, 3.42, "Lim et al. 2018: deep share of the 6.72 mm"},
         {TISSUE_DEEP_FASCIA, 0.71, DF_STECCO " (the thinnest)"},
         {TISSUE_MUSCLE, 0.0, "deltoid, bottom layer"}},
        8, {{0}}, 0, NULL},
};

static const char *const k_keys[REGION_COUNT] = {"thoracic", "lumbar", "neck", "shoulder", "lateral_elbow", "knee"};

const region_preset *region_preset_get(region_id id, bool adolescent)
{
    if ((int)id < 0 || id >= REGION_COUNT)
        return NULL;
    const region_preset *r = adolescent ? &k_adolescent[id] : &k_adult[id];
    return r->n_layers > 0 ? r : NULL;
}

const char *region_name(region_id id)
{
    return (int)id >= 0 && id < REGION_COUNT ? k_keys[id] : "unknown";
}

bool region_from_name(const char *name, region_id *out)
{
    for (int i = 0; name && i < REGION_COUNT; i++) {
        if (strcmp(name, k_keys[i]) == 0) {
            *out = (region_id)i;
            return true;
        }
    }
    return false;
}

double region_layer_top_mm(const region_preset *r, int i)
{
    double z = 0.0;
    for (int k = 0; k < i && k < r->n_layers - 1; k++)
        z += r->layers[k].thickness_mm;
    return z;
}

double region_skin_mm(const region_preset *r)
{
    double s = 0.0;
    for (int k = 0; k < r->n_layers - 1; k++)
        if (r->layers[k].tissue == TISSUE_STRATUM_CORNEUM || r->layers[k].tissue == TISSUE_EPIDERMIS ||
            r->layers[k].tissue == TISSUE_DERMIS)
            s += r->layers[k].thickness_mm;
    return s;
}

double region_fat_mm(const region_preset *r)
{
    double s = 0.0;
    for (int k = 0; k < r->n_layers - 1; k++)
        if (r->layers[k].tissue == TISSUE_FAT || r->layers[k].tissue == TISSUE_DEEP_FAT)
            s += r->layers[k].thickness_mm;
    return s;
}

void region_apply(const region_preset *r, scenario *s)
{
    phantom_def *ph = &s->phantom;
    memset(ph->layers, 0, sizeof ph->layers);
    memset(s->layer_source, 0, sizeof s->layer_source);
    ph->n_layers = r->n_layers;
    for (int i = 0; i < r->n_layers; i++) {
        const region_layer *l = &r->layers[i];
        phantom_layer_def *d = &ph->layers[i];
        d->tissue = l->tissue;
        d->thickness_mm = i < r->n_layers - 1 ? l->thickness_mm : 0.0;
        /* The slow variation of the bundled back cases: dermis 5 % over 25 mm, fat 10 % over
         * 20-30 mm, none in the thin layers (an assumption, no regional figure). */
        bool last = i == r->n_layers - 1;
        d->variation = last ? 0.0 : (l->tissue == TISSUE_DERMIS ? 0.05 : (phantom_is_fat(l->tissue) ? 0.1 : 0.0));
        d->variation_wavelength_mm = l->tissue == TISSUE_DERMIS ? 25.0 : (l->tissue == TISSUE_DEEP_FAT && !last ? 30.0 : 20.0);
        snprintf(s->layer_source[i], sizeof s->layer_source[i], "%s", l->source);
    }
    memset(ph->bones, 0, sizeof ph->bones);
    ph->n_bones = r->n_bones;
    for (int i = 0; i < r->n_bones; i++)
        ph->bones[i] = r->bones[i];
    snprintf(s->patient.region, sizeof s->patient.region, "%s", r->key);
}
