/* devices: every input device the window polls, behind one `controls` and one
 * `controls_feedback`.
 *
 * A registry of sources: the keyboard and mouse (kbm_sdl.h), every game controller SDL sees
 * (pad_sdl.h, opened and closed as they are plugged in and pulled out), and a tablet pen
 * (pen_evdev.h, found under /dev/input and looked for again every few seconds while there is
 * none). Each frame the window calls devices_begin, devices_event for each SDL event and
 * devices_end: every device adds to the same controls value. devices_feedback hands the
 * frame's feedback to every device that can render it (the pads' motors).
 *
 * The device that gave the latest input drives the session. When it goes away, devices_take_news
 * says so once (`lost`, with the message the window shows while it pauses the session); a
 * controller plugged in or a key pressed is news too (the window goes on). devices_status
 * is the one-line list of what is connected, for the window's status line.
 *
 * Settings (docs/devices.md): dead zones, rates, rumble and pen calibration live in
 * $XDG_CONFIG_HOME/mesosim/devices.conf (default ~/.config/mesosim/devices.conf), written
 * with the defaults on first run: `pad.stick_dead_zone = 0.15`, `pen.device = auto`, ...;
 * a bad line is reported and that setting keeps its default. The window's tracker server
 * (igtl.port, igtl.bind, igtl.calibration) is set there too. Controller mappings beyond SDL's
 * own database come from $XDG_CONFIG_HOME/mesosim/gamecontrollerdb.txt (SDL's format), read
 * before any controller is opened, with each line's GUID CRC (hex characters 4-7) zeroed, as
 * SDL 2.26 only matches such GUIDs. Bindings come from the bindings file (controls.h).
 *
 * A devices registry owns its sources; SDL must be initialised with video. */
#ifndef MESOSIM_DEVICES_H
#define MESOSIM_DEVICES_H

#include <stdbool.h>
#include <stddef.h>

#include <SDL.h>

#include "controls.h"
#include "kbm_sdl.h"
#include "pad_sdl.h"
#include "pen_evdev.h"

#define DEVICES_MAX_PADS 4

/* What the settings file holds. */
typedef struct devices_settings {
    pad_def pad;
    pen_def pen;
    char pen_device[256]; /* "auto": look under /dev/input; "off": no pen; else an evdev path */
    /* The window's OpenIGTLink server (docs/devices.md); its --igtl-* options override these. */
    int igtl_port;              /* -1 (`off`): no server; 0: a free port; else the TCP port */
    char igtl_bind[64];         /* an IPv4 address, "127.0.0.1" by default */
    char igtl_calibration[1024]; /* "" (`default`): $XDG_CONFIG_HOME/mesosim/igtl_calibration.json */
} devices_settings;

void devices_settings_default(devices_settings *out);
/* Parses a settings file's text over out (filled first by the caller); false when any line
 * was bad, with one "LINE: message" per bad line in err. */
bool devices_settings_parse(const char *text, size_t len, devices_settings *out, char *err, size_t err_len);
/* The file text for s; returns the length it needs, like snprintf. */
size_t devices_settings_format(const devices_settings *s, char *buf, size_t len);
/* Defaults, then the file at path (NULL: the XDG location) over them; writes the defaults
 * there when there is no file. Problems go to stderr as "PATH:LINE: message". */
void devices_settings_load(const char *path, devices_settings *out, char *path_out, size_t path_len);

typedef enum devices_kind { DEVICES_KBM = 0, DEVICES_PAD, DEVICES_PEN } devices_kind;

typedef struct devices_def {
    controls_bindings *bindings; /* names a device cannot use go back to their defaults here */
    const char *config_dir;      /* NULL: $XDG_CONFIG_HOME/mesosim (or ~/.config/mesosim) */
    bool find_pen;               /* look for a tablet under /dev/input (pen.device = auto) */
} devices_def;

devices_def devices_default_def(void);

/* What changed since the last devices_take_news. */
typedef struct devices_news {
    bool lost;                 /* the device driving the session went away */
    char lost_message[200];    /* "Controller disconnected: the session is paused; ..." */
    bool device_added;         /* a controller or a pen came */
    bool key_pressed;          /* a key went down */
} devices_news;

typedef struct devices devices;

/* Problems with the settings, the controller mappings or the bindings go to stderr. NULL only
 * when out of memory. */
devices *devices_create(const devices_def *def);
void devices_destroy(devices *d);

void devices_set_layout(devices *d, const kbm_layout *l);
void devices_set_skin(devices *d, const pen_skin *s);

void devices_begin(devices *d, controls *out);
void devices_event(devices *d, const SDL_Event *e, controls *out);
void devices_end(devices *d, double dt_s, controls *out);
void devices_feedback(devices *d, const controls_feedback *fb, double dt_s);

/* The news since the last call, cleared. */
devices_news devices_take_news(devices *d);
devices_kind devices_driving(const devices *d);
int devices_pad_count(const devices *d);
/* "Devices: keyboard and mouse, Xbox Controller (driving), pen: no tablet pen found". */
void devices_status(const devices *d, char *buf, size_t len);

/* The settings the registry was created with (devices.conf). */
const devices_settings *devices_get_settings(const devices *d);
/* Where they were read from. */
const char *devices_settings_path(const devices *d);

/* Takes a pen (fed, or opened by the caller) in place of the one found; NULL removes it as an
 * unplug would. The registry owns it. */
void devices_set_pen(devices *d, pen_state *p);

#endif
