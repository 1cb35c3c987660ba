/* kbm_sdl: the keyboard and mouse, through SDL2, as a controls source.
 *
 * Turns SDL events into a `controls` value (sim/input/controls.h) with the user's bindings:
 * key presses into buttons (auto-repeat only for steppers), held keys into probe motion at
 * the CONTROLS_* rates and into a needle speed that ramps with the hold time, window events
 * into quit/resized/minimized/context_lost. The feedback struct is ignored: a keyboard has no
 * motors.
 *
 * Mouse (fixed; shown in the help overlay): left-drag on the B-mode image slides the probe
 * (horizontal: along its long axis, vertical: across it), Ctrl+drag rotates it, Shift+drag
 * tilts (vertical) and rocks (horizontal); the wheel changes the image depth; dragging or
 * wheeling over the outside view orbits and zooms it. The caller says where those regions
 * are (kbm_set_layout) and how many mm one pixel of the B-mode image spans.
 *
 * A kbm_state owns nothing but itself; SDL must be initialised with video. */
#ifndef MESOSIM_KBM_SDL_H
#define MESOSIM_KBM_SDL_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

#include "controls.h"

typedef struct kbm_layout {
    float image_x, image_y, image_w, image_h; /* B-mode image rectangle, framebuffer px */
    double mm_per_px;                         /* B-mode image scale */
    float view_x, view_y, view_w, view_h;     /* outside view rectangle (w 0: hidden) */
    float px_per_point;                       /* framebuffer pixels per window coordinate */
} kbm_layout;

typedef struct kbm_state kbm_state;

/* Takes the bindings for the keyboard: a key name SDL does not know puts that binding back to
 * its default, in b too (so the hints on screen name keys that work), with one line per such
 * binding in err ("" when all are good). NULL only when out of memory. */
kbm_state *kbm_create(controls_bindings *b, char *err, size_t err_len);
void kbm_destroy(kbm_state *k);

void kbm_set_layout(kbm_state *k, const kbm_layout *l);

/* Starts a frame: clears the per-frame fields of out (the pointer stays where it was). */
void kbm_begin(kbm_state *k, controls *out);
/* Feeds one SDL event. */
void kbm_event(kbm_state *k, const SDL_Event *e, controls *out);
/* Ends the frame: adds the held keys' effect over dt seconds. */
void kbm_end(kbm_state *k, double dt_s, controls *out);

#endif
