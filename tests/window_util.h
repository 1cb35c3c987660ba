/* window_util: screenshots of the trainer window for the GL tests (test_window*). */
#ifndef MESOSIM_TEST_WINDOW_UTIL_H
#define MESOSIM_TEST_WINDOW_UTIL_H

#include <stdint.h>

#include "trainer.h"

typedef struct shot {
    uint8_t *rgba; /* w * h * 4, row 0 at the bottom (glReadPixels); free it */
    int w, h;
} shot;

/* One frame at t_s with these controls (NULL: none), read back before the swap. */
shot wu_grab(trainer *t, double t_s, const controls *c);
/* Pixel at (x, y) with y from the top, as the layout measures it. */
const uint8_t *wu_px(const shot *s, int x, int y);
/* build/<test>_<driver>_<name>.png, top row first. */
void wu_save(const shot *s, const char *test, const char *gl_driver, const char *name);

#endif
