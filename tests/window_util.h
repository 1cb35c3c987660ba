/* window_util: what the GL tests (test_window*, test_igtl_window, test_no_igtl_window) share:
 * screenshots of the trainer window, frames driven by the SDL events a test pushes, and the
 * window's start-up in a private config folder. */
#ifndef MESOSIM_TEST_WINDOW_UTIL_H
#define MESOSIM_TEST_WINDOW_UTIL_H

#include <stdbool.h>
#include <stdint.h>

#include <SDL.h>

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

/* One frame 1/60 s after *t_s (advanced), with the input the window polls itself: the SDL
 * events the test pushed. */
void wu_step(trainer *t, double *t_s);
/* Key sc pressed and released, a frame after each. */
void wu_key(trainer *t, double *t_s, SDL_Scancode sc);

/* $XDG_CONFIG_HOME set to dir, and dir/mesosim/devices.conf written with text; false after
 * saying why on stderr. */
bool wu_devices_conf(const char *dir, const char *text);
/* The trainer_def of a test window: no vsync, no session logs, no saved state. */
trainer_def wu_test_def(void);

#endif
