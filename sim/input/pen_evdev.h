/* pen_evdev: a pen on a graphics tablet as a needle, the way a stylus is held.
 *
 * SDL2 has no pen pressure or tilt (tablets arrive as a mouse, and as a mouse the keyboard-
 * and-mouse source already uses them). On Linux the tablet's evdev node (/dev/input/eventN,
 * read with libevdev; the user needs the `input` group) gives the pressure and the tilt:
 * pen_find looks for a device with ABS_PRESSURE and BTN_TOOL_PEN and says in plain words why
 * there is none. Decoding is separate from reading: pen_feed takes the project's own
 * `pen_event` (type, code, value, time: what a kernel `struct input_event` holds), so tests
 * feed sequences without a tablet (no uinput on the build machines).
 *
 * Mapping (pen_end; docs/devices.md): the tablet is the skin around the probe. Left to right
 * across the tablet is the B-mode image's lateral axis (its field of view, centred on the
 * probe); top to bottom is the entry's distance from the imaging plane (dist_min_mm at the
 * top edge to dist_max_mm at the bottom), on the probe's near side, pointing across the plane
 * as the keyboard's out-of-plane entry does. Touching (pressure past pressure_touch) puts the
 * needle on the skin there; the pen's tilt from the vertical sets the needle's angle to the
 * skin at that moment (90 - tilt: a pen laid at 60 degrees from the vertical enters at 30);
 * pressure beyond the touch is the needle's travel along its axis, pressure_full giving
 * insert_max_mm. Lifting the pen withdraws the needle. The lower barrel button injects, the
 * upper one ticks the next declared step. Out: `has_needle_pose` in controls (entry, angle,
 * azimuth, inserted_mm as the travel), which the window follows.
 *
 * A pen_state owns its file descriptor and libevdev handle (none for a fed one). */
#ifndef MESOSIM_PEN_EVDEV_H
#define MESOSIM_PEN_EVDEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "controls.h"

/* One input event, as the kernel's struct input_event carries it (codes from
 * linux/input-event-codes.h: EV_SYN, EV_KEY, EV_ABS; ABS_X, ABS_PRESSURE, BTN_TOOL_PEN ...). */
typedef struct pen_event {
    uint16_t type, code;
    int32_t value;
    double time_s;
} pen_event;

/* An absolute axis of the tablet, as EVIOCGABS gives it; present false when it has none. */
typedef struct pen_range {
    bool present;
    int32_t min, max;
    int32_t resolution; /* tilt: units per radian, as the kernel gives it (0: the range is -64..64 degrees) */
} pen_range;

typedef struct pen_axes {
    pen_range x, y, pressure, tilt_x, tilt_y;
} pen_axes;

typedef struct pen_def {
    double pressure_touch;    /* fraction of the pressure range that is a touch: 0.05 */
    double pressure_full;     /* fraction that gives the deepest travel: 0.9 */
    double insert_max_mm;     /* travel at pressure_full: 4 */
    double dist_min_mm, dist_max_mm; /* entry distance from the plane, top and bottom edge: 0.5, 10 */
    double angle_no_tilt_deg; /* the angle when the tablet reports no tilt: 30 */
} pen_def;

pen_def pen_default_def(void);

/* The probe the tablet is laid around, set by the window each frame. */
typedef struct pen_skin {
    double probe_x_mm, probe_y_mm, probe_rot_deg;
    double fov_mm; /* the image's lateral width */
} pen_skin;

typedef struct pen_state pen_state;

/* A pen fed by pen_feed only (tests, or any other reader of the events). NULL when out of memory. */
pen_state *pen_create(const pen_def *def, const pen_axes *axes, const char *name);
/* Opens one evdev node; NULL with the reason in err (no permission, not a pen). */
pen_state *pen_open_evdev(const pen_def *def, const char *path, char *err, size_t err_len);
/* The first tablet pen under /dev/input (event*); NULL with a plain message in why (none found,
 * or the devices are not readable and the user should join the input group). */
pen_state *pen_find(const pen_def *def, char *why, size_t why_len);
void pen_destroy(pen_state *p);

const char *pen_name(const pen_state *p);
/* Whether it reports tilt (else the angle is angle_no_tilt_deg). */
bool pen_has_tilt(const pen_state *p);

/* Decodes events (a frame is complete at EV_SYN/SYN_REPORT). */
void pen_feed(pen_state *p, const pen_event *ev, int n);
/* Reads what the evdev node has (never blocks). Returns the events read, 0 for a fed pen,
 * -1 when the device is gone (unplugged). */
int pen_poll(pen_state *p);

/* Ends the frame: the pen's needle pose and its barrel buttons into out. True when the pen
 * was touching or a button went down. */
bool pen_end(pen_state *p, const pen_skin *skin, controls *out);

#endif
