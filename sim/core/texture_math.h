/* texture_math: the texture profile of muscle perimysium, as small inline float
 * functions shared by phantom.c (exact queries) and the synthesis (a vectorised pass over a
 * line), so both draw the same texture. Internal to sim/core. */
#ifndef MESOSIM_TEXTURE_MATH_H
#define MESOSIM_TEXTURE_MATH_H

#include <math.h>

/* Bright thin sheet: 1 on the sheet (integer phase), 0 beyond inv_half_width^-1 periods. */
static inline float tex_sheet(float phase, float inv_half_width)
{
    float f = phase - floorf(phase);
    float g = 1.0f - f;
    float dist = f < g ? f : g;
    float a = dist * inv_half_width;
    float v = 1.0f - a * a;
    return v > 0.0f ? v : 0.0f; /* plain compares, not fmaxf: they vectorise without libm */
}

/* Backscatter multiplier c0 + c1 * max(sheet, wall): perimysium sheets give muscle the
 * striated long-axis look (Rumack ch. 23). (Fat lobules: sim/core/lobules.h.) */
#define TEX_MUSCLE_C0 0.8f
#define TEX_MUSCLE_C1 1.8f

static inline float tex_multiplier(float c0, float c1, float phase, float inv_half_width, float wall)
{
    float s = tex_sheet(phase, inv_half_width);
    return c0 + c1 * (s > wall ? s : wall);
}

/* Tendon fibrils (fascicle borders): one bright line every TEX_TENDON_FIBRIL_MM in depth,
 * each a fifth of the period wide. Fascicle sizes were not retrieved (anatomy.md 3); 0.2 mm
 * keeps the lines apart at the 18 MHz axial resolution (~0.1 mm), an assumption. The mean
 * multiplier is 1 (0.76 + 1.8 x the sheet's mean 2/15), so the tissue table sets the level. */
#define TEX_TENDON_FIBRIL_MM 0.2
#define TEX_TENDON_C0 0.76f
#define TEX_TENDON_C1 1.8f
#define TEX_TENDON_INV_HALF_WIDTH 10.0f

#endif
