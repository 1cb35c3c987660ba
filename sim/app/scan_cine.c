/* scan_cine: the cine ring and the plain words (scan_cine.h). */
#include "scan_cine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void drop_oldest(scan_cine *c)
{
    if (c->count == 0)
        return;
    int oldest = (c->head - c->count + 1 + SCAN_CINE_MAX_FRAMES) % SCAN_CINE_MAX_FRAMES;
    scan_frame *f = &c->frames[oldest];
    c->bytes -= (size_t)f->rows * (size_t)f->cols;
    c->count--;
}

bool scan_cine_push(scan_cine *c, const uint8_t *pixels, int rows, int cols, double dz_mm,
                    double dx_mm, double x0_mm, double z0_mm, double t_s)
{
    size_t n = (size_t)rows * (size_t)cols;
    if (!pixels || rows <= 0 || cols <= 0 || n > SCAN_CINE_MAX_BYTES)
        return false;
    /* The newest frame is always the last one shown (freeze holds exactly it); it replaces
     * the newest while that is less than 1/SCAN_CINE_HZ after the one before it. */
    const scan_frame *prev = scan_cine_get(c, 1), *h = scan_cine_get(c, 0);
    if (prev && h->t_s >= prev->t_s && h->t_s - prev->t_s < 1.0 / SCAN_CINE_HZ) {
        c->bytes -= (size_t)h->rows * (size_t)h->cols;
        c->count--;
        c->head = (c->head - 1 + SCAN_CINE_MAX_FRAMES) % SCAN_CINE_MAX_FRAMES;
    }
    /* The slot the new frame takes is the oldest one once the ring is full. */
    if (c->count == SCAN_CINE_MAX_FRAMES)
        drop_oldest(c);
    while (c->count > 0 && c->bytes + n > SCAN_CINE_MAX_BYTES)
        drop_oldest(c);
    int slot = (c->head + 1) % SCAN_CINE_MAX_FRAMES;
    scan_frame *f = &c->frames[slot];
    if (f->cap < n) {
        uint8_t *p = realloc(f->pixels, n);
        if (!p)
            return false;
        f->pixels = p;
        f->cap = n;
    }
    memcpy(f->pixels, pixels, n);
    f->rows = rows, f->cols = cols;
    f->dz_mm = dz_mm, f->dx_mm = dx_mm, f->x0_mm = x0_mm, f->z0_mm = z0_mm;
    f->t_s = t_s;
    c->head = slot;
    c->count++;
    c->bytes += n;
    while (c->count > 1 && scan_cine_get(c, c->count - 1)->t_s < t_s - SCAN_CINE_SECONDS)
        drop_oldest(c);
    return true;
}

const scan_frame *scan_cine_get(const scan_cine *c, int back)
{
    if (back < 0 || back >= c->count)
        return NULL;
    return &c->frames[(c->head - back + SCAN_CINE_MAX_FRAMES) % SCAN_CINE_MAX_FRAMES];
}

void scan_cine_clear(scan_cine *c)
{
    c->count = 0;
    c->bytes = 0;
}

void scan_cine_free(scan_cine *c)
{
    for (int i = 0; i < SCAN_CINE_MAX_FRAMES; i++) {
        free(c->frames[i].pixels);
        c->frames[i].pixels = NULL;
        c->frames[i].cap = 0;
    }
    scan_cine_clear(c);
}

const char *scan_words_verdict(score_verdict v)
{
    switch (v) {
    case VERDICT_OUTSIDE: return "outside the skin (the drug ran onto the surface)";
    case VERDICT_EPIDERMAL: return "in the epidermis (too shallow)";
    case VERDICT_INTRADERMAL: return "in the dermis (intradermal)";
    case VERDICT_SUBCUTANEOUS: return "under the skin, in the fat (too deep)";
    case VERDICT_INTRAMUSCULAR: return "in the muscle (far too deep)";
    case VERDICT_INTRAVASCULAR: return "into a blood vessel";
    default: return "not judged";
    }
}

const char *scan_words_adverse(score_adverse k)
{
    switch (k) {
    case ADVERSE_HAEMATOMA: return "a vessel was punctured: a bruise is forming";
    case ADVERSE_INTRAVASCULAR: return "the drug went into a blood vessel";
    case ADVERSE_TOO_SUPERFICIAL: return "too shallow: risk of skin atrophy";
    case ADVERSE_TOO_DEEP: return "too deep: the drug missed the dermis";
    default: return "something went wrong";
    }
}

const char *scan_words_drug(drug_kind k)
{
    switch (k) {
    case DRUG_LIDOCAINE: return "Lidocaine";
    case DRUG_DEXAMETHASONE: return "Dexamethasone";
    case DRUG_SALINE: return "Saline";
    case DRUG_OXYGEN_OZONE: return "Oxygen-ozone";
    default: return "Drug";
    }
}

const char *scan_words_tissue(tissue_id id, char *buf, size_t len)
{
    snprintf(buf, len, "%s", tissue_name(id));
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = ' ';
    return buf;
}
