/* pad_sdl: one game controller, through SDL2's GameController API, as a controls source, and
 * its rumble as the hands' feedback.
 *
 * Fills the same `controls` as the keyboard (sim/input/controls.h) from the pad bindings
 * (`pad.NAME = INPUT` in the bindings file; defaults and the mapping in docs/devices.md):
 * buttons bound to a binding press it once per press; a held binding takes the largest of its
 * inputs, 0..1: a button held, an axis direction past the dead zone ("leftx+") or a trigger
 * ("righttrigger"), which scales the rate, so the needle's speed is proportional to the pull.
 * The sticks have a radial dead zone (the deflection inside it is none, the rest rescaled to
 * 0..1), the triggers a linear one.
 *
 * Rumble (pad_feedback, from controls_feedback each frame): while the needle advances, a low
 * level on the low-frequency motor proportional to the force on the hand (|force_n| scaled so
 * that force_full_n is full, in steps of 1/32); a short high-frequency pulse at each pop, strength
 * 0.35 + 0.65 * pop_strength (any pop is felt, a clean release more); the hub and adverse cues
 * as the feedback asks (rumble_low/high for rumble_ms); the same force level on the advancing
 * (right, by default) trigger's motor, where the pad has trigger motors (SDL_GameControllerRumbleTriggers). A
 * request goes out only when the strengths change or the last one is about to run out.
 *
 * A pad_state owns its SDL_GameController; SDL must be initialised with GAMECONTROLLER. */
#ifndef MESOSIM_PAD_SDL_H
#define MESOSIM_PAD_SDL_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

#include "controls.h"

typedef struct pad_def {
    double stick_dead_zone;     /* fraction of full deflection ignored around the centre: 0.15 */
    double trigger_dead_zone;   /* fraction of the pull ignored: 0.05 */
    double probe_mm_s;          /* slide at full deflection: 6 */
    double rotate_deg_s;        /* 45 */
    double tilt_deg_s;          /* tilt and rock: 10 */
    double pressure_n_s;        /* 2 */
    double needle_max_mm_s;     /* needle speed at a full pull: 2.5 (CONTROLS_NEEDLE_MAX_MM_S) */
    bool rumble;                /* false: no motor requests at all */
    double force_full_n;        /* needle force felt as full rumble: 1 N */
    double pop_pulse_ms;        /* 80 */
} pad_def;

pad_def pad_default_def(void);

typedef struct pad_state pad_state;

/* Opens the controller at SDL joystick device index `index` with bindings b: an input name SDL
 * does not know puts that binding's pad inputs back to their defaults, in b too, with one line
 * per such binding in err ("" when all are good). NULL with the reason in err when SDL cannot
 * open it. */
pad_state *pad_open(int index, const pad_def *def, controls_bindings *b, char *err, size_t err_len);
void pad_close(pad_state *p);

SDL_JoystickID pad_instance(const pad_state *p);
const char *pad_name(const pad_state *p);

/* Feeds one SDL event (those of other controllers are ignored). True when it was input from
 * this pad (a button press). */
bool pad_event(pad_state *p, const SDL_Event *e, controls *out);
/* Ends the frame: adds the held bindings' effect over dt seconds. True when any of them was
 * held. */
bool pad_end(pad_state *p, double dt_s, controls *out);
/* Rumble for this frame's feedback, dt seconds after the last call. */
void pad_feedback(pad_state *p, const controls_feedback *fb, double dt_s);

#endif
