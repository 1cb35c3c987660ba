/* controls: keyboard and mouse (through SDL2) turned into one struct of intents per frame.
 *
 * This is the only module that knows about devices. The rest of the program sees a
 * `controls` value: probe motion this frame (mm, degrees, newtons), the needle's speed along
 * its axis (mm/s, from how long the advance or retract key has been held), camera orbit for
 * the outside view, and buttons that went down this frame. Game controllers and pens will
 * add their own sources here and fill the same struct.
 *
 * Bindings live in a text file the user can edit, $XDG_CONFIG_HOME/mesosim/bindings.conf
 * (default ~/.config/mesosim/bindings.conf), written with the defaults on first run:
 *     # comment
 *     needle_advance = Space
 *     gain_up = =, Keypad +
 * Key names are SDL's scancode names (SDL_GetScancodeName); up to CONTROLS_MAX_KEYS per
 * binding. A bad line is reported and that binding keeps its default.
 *
 * Mouse (fixed; shown in the help overlay): left-drag on the B-mode image slides the probe
 * (horizontal: along its long axis, vertical: across it), Ctrl+drag rotates it, Shift+drag
 * tilts (vertical) and rocks (horizontal); the wheel changes the image depth; dragging or
 * wheeling over the outside view orbits and zooms it. The caller says where those regions
 * are (controls_set_layout) and how many mm one pixel of the B-mode image spans.
 *
 * A controls_state owns nothing but itself; SDL must be initialised with video. */
#ifndef MESOSIM_CONTROLS_H
#define MESOSIM_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

#define CONTROLS_MAX_KEYS 3

/* Held bindings: their effect lasts as long as the key is down. */
typedef enum ctl_axis {
    AXIS_PROBE_LEFT = 0, AXIS_PROBE_RIGHT, AXIS_PROBE_FORWARD, AXIS_PROBE_BACK,
    AXIS_ROTATE_CCW, AXIS_ROTATE_CW, AXIS_TILT_DOWN, AXIS_TILT_UP, AXIS_ROCK_LEFT, AXIS_ROCK_RIGHT,
    AXIS_PRESS_MORE, AXIS_PRESS_LESS, AXIS_NEEDLE_ADVANCE, AXIS_NEEDLE_RETRACT,
    AXIS_COUNT
} ctl_axis;

/* Buttons: one event per key press (held steppers repeat at the keyboard's rate). */
typedef enum ctl_button {
    BTN_NEEDLE_ENTRY = 0, BTN_NEEDLE_WITHDRAW, BTN_INJECT, BTN_ANGLE_UP, BTN_ANGLE_DOWN,
    BTN_ENTRY_NEARER, BTN_ENTRY_FARTHER, BTN_STEP, BTN_MARK_DERMIS,
    BTN_FREQ_UP, BTN_FREQ_DOWN, BTN_DEPTH_UP, BTN_DEPTH_DOWN, BTN_GAIN_UP, BTN_GAIN_DOWN,
    BTN_DR_UP, BTN_DR_DOWN, BTN_TGC_UP, BTN_TGC_DOWN, BTN_TOGGLE_3D, BTN_HELP, BTN_CONFIRM, BTN_BACK, BTN_END_SESSION,
    BTN_MENU_UP, BTN_MENU_DOWN,
    BTN_COUNT
} ctl_button;

typedef struct controls {
    /* Probe motion this frame (keys at their rates times dt, plus mouse drags). */
    double probe_dx_mm, probe_dy_mm, probe_drot_deg, probe_dtilt_deg, probe_drock_deg;
    double probe_dpressure_n;
    double depth_steps;        /* wheel notches over the image: + deeper */
    double needle_speed_mm_s;  /* > 0 advancing, < 0 retracting, 0 still */
    float orbit_dyaw_deg, orbit_dpitch_deg, zoom_factor; /* zoom 1 = unchanged */
    bool pressed[BTN_COUNT];
    bool clicked;              /* left button went down this frame ... */
    float click_x, click_y;    /* ... here, framebuffer pixels, origin top left */
    float pointer_x, pointer_y;
    bool quit;                 /* window closed */
    bool resized;              /* window size or display scale changed */
    bool minimized;            /* hidden or minimised: nothing to draw */
    bool context_lost;         /* the GL context reported a reset (render targets gone) */
} controls;

typedef struct controls_layout {
    float image_x, image_y, image_w, image_h; /* B-mode image rectangle, framebuffer px */
    double mm_per_px;                         /* B-mode image scale */
    float view_x, view_y, view_w, view_h;     /* outside view rectangle (w 0: hidden) */
    float px_per_point;                       /* framebuffer pixels per window coordinate */
} controls_layout;

typedef struct controls_state controls_state;

/* Loads the bindings (writes the defaults file when there is none); problems go to stderr.
 * bindings_path NULL: the XDG location. */
controls_state *controls_create(const char *bindings_path);
void controls_destroy(controls_state *cs);
const char *controls_bindings_path(const controls_state *cs);
/* Reads bindings text (the file's format, len bytes, no NUL needed) over cs's bindings, as
 * controls_create reads the file; problems go to stderr. Returns the number of bad lines. */
int controls_parse_bindings(controls_state *cs, const char *text, size_t len);

void controls_set_layout(controls_state *cs, const controls_layout *l);

/* Starts a frame: clears the per-frame fields of out. */
void controls_begin(controls_state *cs, controls *out);
/* Feeds one SDL event. */
void controls_event(controls_state *cs, const SDL_Event *e, controls *out);
/* Ends the frame: adds the held keys' effect over dt seconds. */
void controls_end(controls_state *cs, double dt_s, controls *out);

/* Text for the help overlay: the binding's name and its keys ("Space", "= / Keypad +"). */
const char *controls_axis_name(ctl_axis a);
const char *controls_button_name(ctl_button b);
void controls_axis_keys(const controls_state *cs, ctl_axis a, char *buf, size_t len);
void controls_button_keys(const controls_state *cs, ctl_button b, char *buf, size_t len);

/* Rates of the held keys. */
#define CONTROLS_PROBE_MM_S 4.0
#define CONTROLS_ROTATE_DEG_S 30.0
#define CONTROLS_TILT_DEG_S 8.0
#define CONTROLS_PRESSURE_N_S 2.0
/* Needle speed ramps with the hold time from slow (fine placement) to fast (approach). */
#define CONTROLS_NEEDLE_MIN_MM_S 0.4
#define CONTROLS_NEEDLE_MAX_MM_S 2.5
#define CONTROLS_NEEDLE_RAMP_S 1.5

#endif
