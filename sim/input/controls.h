/* controls: what the trainee's hands ask for, one struct per frame, whatever the device.
 *
 * Plain C, no SDL: device sources (keyboard and mouse in kbm_sdl.h; game controllers, pens and
 * trackers later) fill a `controls` value each frame, and the window reads only that. It holds
 * relative intents (probe motion this frame in mm, degrees and newtons, the needle's speed along
 * its axis in mm/s, camera orbit for the outside view, buttons that went down this frame, the
 * pointer and its click) and, for tracked devices, absolute poses (`has_probe_pose`,
 * `has_needle_pose`). Going the other way, `controls_feedback` carries what the hands should
 * feel (rumble, a force, puncture pops), filled from session events by the application and
 * consumed by sources that can render it; the keyboard and mouse ignore it.
 *
 * Bindings (name -> keys) are plain data here too: `controls_bindings` holds, for every axis
 * and button, up to CONTROLS_MAX_KEYS key names as SDL writes them ("Left", "Space",
 * "Keypad +"). The file the user edits, $XDG_CONFIG_HOME/mesosim/bindings.conf (default
 * ~/.config/mesosim/bindings.conf), is written with the defaults on first run:
 *     # comment
 *     needle_advance = Space
 *     gain_up = =, Keypad +
 *     depth_shallower = Comma
 * Keys are separated by commas, so the comma key is spelt `Comma` (a value that is a lone ","
 * is read as the comma key too, which older versions wrote). A bad line is reported and that
 * binding keeps its default. Whether a key name exists on the device is the source's business
 * (kbm_create checks names against SDL's keyboard).
 *
 * The same file binds the game controller (docs/devices.md): a line `pad.NAME = INPUT[, INPUT]`
 * gives binding NAME the controller inputs as SDL's game-controller API names them: buttons
 * ("a", "leftshoulder", "dpup", "start"), and for held bindings also an axis direction
 * ("leftx-", "righty+") or a trigger ("righttrigger"), whose deflection scales the rate. An
 * empty value (`pad.probe_rock_left =`) unbinds. pad_open checks the names against SDL.
 *
 * Nothing here allocates; every function works on caller-owned structs. */
#ifndef MESOSIM_CONTROLS_H
#define MESOSIM_CONTROLS_H

#include <stdbool.h>
#include <stddef.h>

#define CONTROLS_MAX_KEYS 3
#define CONTROLS_KEY_NAME_LEN 32 /* longest SDL scancode name is "AudioFastForward" (16) */

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
    BTN_PLAY_PAUSE, BTN_SEEK_BACK, BTN_SEEK_FORWARD, BTN_MUTE, BTN_VOLUME_DOWN, BTN_VOLUME_UP, BTN_RELOAD,
    /* The scan screen: the trainee says which declared step is done, one key each. */
    BTN_STEP_POSITIONING, BTN_STEP_DISINFECTION, BTN_STEP_STERILE_FIELD, BTN_STEP_DRESSING,
    BTN_UNDO_STEP,
    /* A scanner's own controls. */
    BTN_FOCUS_SHALLOWER, BTN_FOCUS_DEEPER, BTN_PRESET_SKIN, BTN_PRESET_SUPERFICIAL, BTN_PRESET_DEEP,
    BTN_FREEZE, BTN_CINE_BACK, BTN_CINE_FORWARD, BTN_CALIPERS, BTN_PAUSE, BTN_ZOOM_IN, BTN_ZOOM_OUT,
    /* Colour / power Doppler: the mode, the box (two clicks), PRF, steering, colour gain. */
    BTN_DOPPLER_MODE, BTN_DOPPLER_BOX, BTN_DOPPLER_PRF_DOWN, BTN_DOPPLER_PRF_UP, BTN_DOPPLER_STEER,
    BTN_DOPPLER_GAIN_DOWN, BTN_DOPPLER_GAIN_UP,
    BTN_CALIBRATE, /* the tracker's two-point calibration (screen_calib.c) */
    BTN_FNUMBER_DOWN, BTN_FNUMBER_UP, /* receive F-number: wider aperture (finer across) or narrower */
    BTN_COUNT
} ctl_button;

/* A tracked probe's absolute pose, in the phantom frame (the fields of core's probe_pose). */
typedef struct controls_probe_pose {
    double x_mm, y_mm, rot_deg, tilt_deg, rock_deg, pressure_n;
} controls_probe_pose;

/* A tracked needle: where it enters the skin, its direction, how deep it is in. */
typedef struct controls_needle_pose {
    double entry_x_mm, entry_y_mm;
    double angle_deg;   /* to the skin surface */
    double azimuth_deg; /* direction of travel in the skin plane */
    double inserted_mm; /* length of shaft past the entry point */
} controls_needle_pose;

typedef struct controls {
    /* Probe motion this frame (keys at their rates times dt, plus mouse drags). */
    double probe_dx_mm, probe_dy_mm, probe_drot_deg, probe_dtilt_deg, probe_drock_deg;
    double probe_dpressure_n;
    double depth_steps;        /* wheel notches over the image: + deeper */
    double needle_speed_mm_s;  /* > 0 advancing, < 0 retracting, 0 still */
    float orbit_dyaw_deg, orbit_dpitch_deg, zoom_factor; /* zoom 1 = unchanged */
    bool pressed[BTN_COUNT];
    bool clicked;              /* left button went down this frame ... */
    bool pointer_down;         /* the left button is held (dragging a slider, the debrief's timeline) */
    float click_x, click_y;    /* ... here, framebuffer pixels, origin top left */
    float pointer_x, pointer_y;
    /* Tracked devices: absolute poses that replace the relative motion above. */
    bool has_probe_pose;
    controls_probe_pose probe_pose;
    bool has_needle_pose;
    controls_needle_pose needle_pose;
    bool quit;                 /* window closed */
    bool resized;              /* window size or display scale changed */
    bool minimized;            /* hidden or minimised: nothing to draw */
    bool context_lost;         /* the GL context reported a reset (render targets gone) */
} controls;

/* What the hands should feel, from the session's events of a frame; zero is "nothing". */
typedef struct controls_feedback {
    double rumble_low, rumble_high; /* motor strengths 0..1 */
    double rumble_ms;               /* how long, from now */
    double force_n[3];              /* force on the hand holding the needle, phantom frame */
    int pop_count;                  /* puncture pops since the last frame */
    double pop_strength;            /* 0..1, the strongest of them */
} controls_feedback;

/* Bindings: key names per axis and button, "" where a slot is empty. */
typedef struct controls_bindings {
    char axis_keys[AXIS_COUNT][CONTROLS_MAX_KEYS][CONTROLS_KEY_NAME_LEN];
    char button_keys[BTN_COUNT][CONTROLS_MAX_KEYS][CONTROLS_KEY_NAME_LEN];
    /* Game-controller inputs ("righttrigger", "leftx-", "a"), "" where a slot is empty. */
    char pad_axis[AXIS_COUNT][CONTROLS_MAX_KEYS][CONTROLS_KEY_NAME_LEN];
    char pad_button[BTN_COUNT][CONTROLS_MAX_KEYS][CONTROLS_KEY_NAME_LEN];
} controls_bindings;

/* The binding's name in the file and the help overlay ("needle_advance"). */
const char *controls_axis_name(ctl_axis a);
const char *controls_button_name(ctl_button b);

/* The default keys. */
void controls_bindings_default(controls_bindings *out);
/* Copies one binding's default keys into b (a source that cannot use a name falls back). */
void controls_axis_reset(controls_bindings *b, ctl_axis a);
void controls_button_reset(controls_bindings *b, ctl_button bt);
/* The same for the game-controller inputs of a binding. */
void controls_pad_axis_reset(controls_bindings *b, ctl_axis a);
void controls_pad_button_reset(controls_bindings *b, ctl_button bt);

/* Parses the text of a bindings file (len bytes, no terminator needed) over out, which the
 * caller fills first (usually with controls_bindings_default): each good line replaces its
 * binding's keys, each bad one is skipped. Returns false when any line was bad, with one
 * "LINE: message" per bad line in err (newline separated, cut at err_len). Never reads past
 * len; any bytes are accepted. */
bool controls_bindings_parse(const char *text, size_t len, controls_bindings *out, char *err, size_t err_len);
/* The file text for b, the format controls_bindings_parse reads (with a header comment).
 * Returns the length it needs, like snprintf. */
size_t controls_bindings_format(const controls_bindings *b, char *buf, size_t len);
/* The user's bindings: defaults, then path (NULL: the XDG location) over them; writes the
 * defaults there when there is no file. Problems go to stderr as "PATH:LINE: message". */
void controls_bindings_load(const char *path, controls_bindings *out, char *path_out, size_t path_len);

/* Text for the help overlay: all of a binding's keys ("Space", "= / Keypad +"). */
void controls_axis_keys(const controls_bindings *b, ctl_axis a, char *buf, size_t len);
void controls_button_keys(const controls_bindings *b, ctl_button bt, char *buf, size_t len);
/* Text for an on-screen hint: the binding's first key, arrows as arrows, Escape as Esc
 * ("C", "\u2191", "Esc"). */
void controls_axis_hint(const controls_bindings *b, ctl_axis a, char *buf, size_t len);
void controls_button_hint(const controls_bindings *b, ctl_button bt, char *buf, size_t len);

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
