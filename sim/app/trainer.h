/* trainer: the trainee's window. One SDL2 window with an OpenGL 3.3 core context, and the
 * screens of a session: case picker, briefing, scanning and injecting, debrief.
 *
 * The world is a core session (sim/core/session.h). Everything the trainee does becomes an
 * action (sim/core/actions.h) that goes through trainer_do: applied to the session and, when
 * it succeeds, appended to the session's action log as a JSON Lines record and flushed at
 * once, so `mesosim run` replays a crashed or finished session to the same report. Logs go
 * to $XDG_DATA_HOME/mesosim/sessions/ (default ~/.local/share/mesosim/sessions/).
 *
 * Each frame: input (sim/input: the keyboard and mouse fill a `controls`) -> the screen's
 * input handling -> actions -> session clock -> B-mode synthesis of the session's scene
 * (display-only) -> draw (sim/render) -> swap. Input read at the start of a frame reaches
 * the screen at that frame's swap: one frame of latency. Every key named on screen is read
 * from the bindings, so a remapped key shows as remapped.
 *
 * Code: trainer.c (window, loop, dispatch), trainer_session.c (the session, its log and
 * report, feedback), screen_picker.c, screen_briefing.c, screen_scan.c, screen_debrief.c
 * (each screen's state, input and drawing), screens.c (drawing they share).
 *
 * Scripted use (tests, --bench-frames): trainer_open_case, trainer_begin_scan, then per frame
 * trainer_frame with a time and a controls value, trainer_read_pixels before trainer_swap.
 *
 * Units: seconds since the session began, mm, degrees. A trainer owns the window, the GL
 * context and everything drawn; create and destroy on the same thread. */
#ifndef MESOSIM_TRAINER_H
#define MESOSIM_TRAINER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions.h"
#include "controls.h"
#include "driver.h"
#include "session.h"

typedef struct trainer_def {
    int width, height;          /* window size in window coordinates (points) */
    const char *bindings_path;  /* NULL: $XDG_CONFIG_HOME/mesosim/bindings.conf */
    const char *log_dir;        /* NULL: the XDG data dir; "" writes no log */
    const char *font_path;      /* NULL: ui_default_font_path() */
    bool vsync;                 /* interactive use; benchmarks and tests run unsynced */
    const char *cases_dir;      /* NULL: none; a folder of the user's cases the picker lists too */
    const char *state_path;     /* NULL: $XDG_CONFIG_HOME/mesosim/window.conf; "" keeps none */
    const char *trainee;        /* NULL: sessions are not kept in the records (sim/store/records.h) */
    const char *records_db;     /* with trainee: the records (NULL: records_default_path) */
    bool ask_trainee;           /* no trainee given: trainer_run opens on the trainee screen, which
                                 * picks or creates one in the records (or records nothing) */
    bool blind;                 /* practise every case blind (mesosim --blind; B on the picker toggles it) */
    /* Tracked tools over OpenIGTLink (docs/devices.md): the server the window hosts. */
    /* Each unset (-1, NULL) takes devices.conf's igtl.port, igtl.bind, igtl.calibration. */
    int igtl_port;              /* -1: devices.conf's (off by default); 0: a free one (trainer_igtl_port says which) */
    const char *igtl_bind;      /* NULL: devices.conf's (127.0.0.1 by default) */
    const char *igtl_calibration_path; /* NULL: devices.conf's, else $XDG_CONFIG_HOME/mesosim/igtl_calibration.json */
} trainer_def;

typedef enum trainer_screen {
    SCREEN_PICKER = 0,
    SCREEN_BRIEFING,
    SCREEN_SCAN,
    SCREEN_DEBRIEF,
    SCREEN_EDITOR,      /* the scenario editor (screen_editor.h) */
    SCREEN_TRAINEE,     /* who is training: picked or typed, before the picker (ask_trainee) */
    SCREEN_INSTRUCTOR   /* everyone's progress, their sessions, a recorded session's replay */
} trainer_screen;

typedef struct trainer trainer;

trainer_def trainer_default_def(void);

/* Opens the window. NULL with a message in err when no display or no GL 3.3 context can be
 * had, or the font or shaders fail. */
trainer *trainer_create(const trainer_def *def, char *err, size_t err_len);
void trainer_destroy(trainer *t);

/* The interactive loop until the window closes; start_scenario (may be NULL) opens that
 * case's briefing instead of the picker. Returns the process exit status. */
int trainer_run(trainer *t, const char *start_scenario);

/* Lists the bundled cases and shows the picker (what trainer_run starts with). Returns how
 * many case files were found. */
int trainer_show_picker(trainer *t);
/* Loads a case and shows its briefing. False with every problem in err. */
bool trainer_open_case(trainer *t, const char *path, char *err, size_t err_len);
/* Starts the session of the open case (clock at 0, a new action log) on the scan screen. */
bool trainer_begin_scan(trainer *t, char *err, size_t err_len);
/* Applies an action at its time and logs it. False (and nothing logged) when the session
 * refuses it, with the reason in err. */
bool trainer_do(trainer *t, const action *a, char *err, size_t err_len);
/* Ends the session (an "end" action at t_s) and shows the debrief. */
void trainer_end_session(trainer *t, double t_s);

/* The frame's input from every device (sim/input/devices.h): SDL's events polled, dt seconds
 * since the last call. On the scan screen, the device driving the session going away pauses
 * it (trainer_paused, with its message); a device plugged in or a key pressed goes on (that
 * key does nothing else). While paused, trainer_frame stops the session clock and ignores
 * the controls; the caller's time runs on. */
void trainer_poll_input(trainer *t, double dt_s, controls *c);
bool trainer_paused(const trainer *t);
const char *trainer_pause_message(const trainer *t); /* "" when not paused */
/* What a window built without OpenIGTLink says to --igtl-port. */
#define TRAINER_NO_IGTL "this build has no OpenIGTLink, so no tracked tools (install libopenigtlink-dev and rebuild)"

/* The hosted OpenIGTLink server's port (-1: none), and the step of the tracker's calibration
 * screen (F9 on the scan screen: 0 point A, 1 point B, 2 the result; -1 when it is closed). */
int trainer_igtl_port(const trainer *t);
int trainer_calibration_step(const trainer *t);
/* The device status line: what is connected, the tracker too ("Devices: ..., tracker: ..."). */
void trainer_device_status(trainer *t, char *buf, size_t len);
/* The device registry, for tests that plug in a fed pen (devices_set_pen). */
struct devices *trainer_devices(trainer *t);

/* One frame at session time t_s with these controls (NULL: none): handles them, synthesises
 * and draws. Does not swap. While paused (trainer_paused) t_s is the caller's time and the
 * session's is t_s less the time spent paused. */
void trainer_frame(trainer *t, double t_s, const controls *c);
void trainer_swap(trainer *t);
/* The drawn frame as RGBA, row 0 at the bottom (glReadPixels); call before trainer_swap.
 * buf holds w*h*4 bytes of trainer_drawable_size. */
void trainer_read_pixels(trainer *t, uint8_t *buf);
void trainer_drawable_size(const trainer *t, int *w, int *h);
/* The trainee whose sessions go into the records (trainer_def.trainee or the one picked on the
 * trainee screen; NULL: none). */
const char *trainer_trainee(const trainer *t);
/* Returns once the session's log (written by its own thread) holds every action so far: for a
 * reader of trainer_log_path mid-session. */
void trainer_flush_log(trainer *t);
/* Time the session's recorders took on this thread in the last frame's step, ms (driver_stats). */
double trainer_record_ms_last(const trainer *t);
/* The trainee screen (the records' trainees, a new name, "no records") and the instructor's
 * view (everyone's progress; I on the picker). */
void trainer_show_trainee(trainer *t);
void trainer_show_instructor(trainer *t);
/* The instructor's list: how many trainees, the i-th's name and sessions (NULL past the end). */
int trainer_instructor_count(const trainer *t);
const char *trainer_instructor_name(const trainer *t, int i, int *sessions);
/* What the trainee or instructor screen says now (a refused name, a changed case; "" none). */
const char *trainer_records_message(const trainer *t);

/* Where the B-mode image is on screen (framebuffer px, origin top left) and its geometry. */
typedef struct trainer_image_rect {
    float x, y, w, h;
    int rows, cols;
    double dz_mm, dx_mm, x0_mm, z0_mm;
} trainer_image_rect;
void trainer_image_rect_get(const trainer *t, trainer_image_rect *out);
/* TGC slider of depth zone k (0..7) on the scan screen: its track's left end x, its centre line
 * y, its width, and the height of its zone (framebuffer px), as out[0..3]. */
void trainer_tgc_slider_rect(const trainer *t, int zone, float out[4]);
/* The outside view's rectangle (w 0 when hidden). */
void trainer_view_rect(const trainer *t, float out[4]);

trainer_screen trainer_get_screen(const trainer *t);
/* The live session, NULL outside one: read-only, on the window's thread, between frames. */
const session *trainer_session(trainer *t);
const char *trainer_log_path(const trainer *t); /* "" when not logging */
/* GL errors seen since the last call. */
int trainer_gl_errors(trainer *t, char *err, size_t err_len);
/* Toggles of the scan screen, for tests and scripted sessions. */
void trainer_show_outside_view(trainer *t, bool on);
void trainer_show_help(trainer *t, bool on);
/* The key hints the current screen draws, from the bindings: the top bar's, and on the scan
 * screen a newline and the bottom bar's. */
void trainer_hints(const trainer *t, char *buf, size_t len);
/* B-mode frames synthesised for the scan screen since the session began (the live image and
 * the injection snapshots); stays 0 in a blind case (guidance.ultrasound false). */
long long trainer_bmode_renders(const trainer *t);
/* The scan screen's message now ("" when none is shown). */
const char *trainer_message(const trainer *t);
/* What the hands should feel from the last frame's session events (zero outside a scan). */
const controls_feedback *trainer_feedback(const trainer *t);

/* The debrief's replay: moves its timeline to t_s (clamped to the session), and where it
 * stands. */
void trainer_debrief_seek(trainer *t, double t_s);
double trainer_debrief_time(const trainer *t);
/* The slowest replay seek so far (ms), and the replay's snapshot now (NULL before a debrief). */
double trainer_debrief_seek_ms_max(const trainer *t);
const driver_snapshot *trainer_debrief_snapshot(const trainer *t);
/* Where the debrief draws (framebuffer px, origin top left, x y w h): the replay's B-mode,
 * its outside view, the skin map and the timeline. */
void trainer_debrief_rects(const trainer *t, float image[4], float view[4], float map[4], float timeline[4]);
/* The skin map's pixel for a point of the skin (phantom x, y mm). */
void trainer_debrief_map_px(const trainer *t, double x_mm, double y_mm, float *px, float *py);
/* The picker's cases: how many, and the path of the i-th (NULL past the end). */
int trainer_case_count(const trainer *t);
const char *trainer_case_path(const trainer *t, int i);
int trainer_case_selected(const trainer *t);
/* Where the replay's needle tip is in the debrief's outside view (false: no needle). */
bool trainer_debrief_tip_px(const trainer *t, float *px, float *py);
/* Where a phantom point is in the debrief's outside view (its last draw). */
bool trainer_debrief_view_px(const trainer *t, const double p_mm[3], float *px, float *py);
/* The sound: clicks queued, tone, volume, mute (tests; sound_sdl.h). */
const struct sound *trainer_sound(const trainer *t);

#endif
