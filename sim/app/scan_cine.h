/* scan_cine: the scan screen's cine loop and the plain words it shows.
 *
 * The cine loop keeps the last SCAN_CINE_SECONDS of displayed B-mode frames (8-bit grey,
 * with their geometry and session time) in a ring, so a frozen image can be scrolled back
 * as on a scanner. Frames are display only: nothing in the session or its log depends on
 * them. Memory is bounded twice: at most SCAN_CINE_MAX_FRAMES frames and SCAN_CINE_MAX_BYTES
 * of pixels (a 40 mm image at 22 MHz is about 0.6 MB a frame); the oldest go first.
 *
 * The words: the core names things for files ("too_deep", "oxygen_ozone", "stratum_corneum");
 * a trainee reads "too deep", "oxygen-ozone", "stratum corneum".
 *
 * Plain C, no GL. A scan_cine owns its frames; scan_cine_free releases them. */
#ifndef MESOSIM_SCAN_CINE_H
#define MESOSIM_SCAN_CINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "drug.h"
#include "score.h"
#include "tissue.h"

#define SCAN_CINE_SECONDS 10.0
#define SCAN_CINE_HZ 30.0                   /* frames kept per second (display runs faster) */
#define SCAN_CINE_MAX_FRAMES 300            /* 10 s at 30 frames a second */
#define SCAN_CINE_MAX_BYTES (96u << 20)

typedef struct scan_frame {
    uint8_t *pixels;   /* rows*cols, owned */
    size_t cap;        /* bytes allocated */
    int rows, cols;
    double dz_mm, dx_mm, x0_mm, z0_mm;
    double t_s;        /* session time it was made */
} scan_frame;

typedef struct scan_cine {
    scan_frame frames[SCAN_CINE_MAX_FRAMES];
    int head;          /* index of the newest frame */
    int count;         /* frames held */
    size_t bytes;      /* pixel bytes held */
} scan_cine;

/* Adds a frame (copied) made at t_s. Frames are kept 1/SCAN_CINE_HZ apart: the new one takes
 * the newest's place while that is closer than that to the one before it, so the newest is
 * always the frame last shown. Frames older than SCAN_CINE_SECONDS before it, and the
 * oldest beyond the bounds, are dropped. False when out of memory (the newest frame may be gone). */
bool scan_cine_push(scan_cine *c, const uint8_t *pixels, int rows, int cols, double dz_mm,
                    double dx_mm, double x0_mm, double z0_mm, double t_s);
/* The frame `back` frames before the newest (0: the newest); NULL when there is none. */
const scan_frame *scan_cine_get(const scan_cine *c, int back);
void scan_cine_clear(scan_cine *c);
void scan_cine_free(scan_cine *c);

/* Plain words for the core's names. */
const char *scan_words_verdict(score_verdict v);
const char *scan_words_adverse(score_adverse k);
const char *scan_words_drug(drug_kind k);
/* The tissue's name with spaces ("superficial fascia"), in buf. */
const char *scan_words_tissue(tissue_id id, char *buf, size_t len);

#endif
