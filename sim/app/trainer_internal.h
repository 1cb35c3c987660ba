/* trainer_internal: what the trainer's modules share. Not for other modules.
 *
 *   trainer.c          the window, the GL context, the frame loop, dispatch to the screens
 *   trainer_session.c  the scan's session: its clock, session_apply, the action log, the report, the
 *                      snapshots at each injection, and the feedback from what happened
 *                      (messages, controls_feedback): the one place that talks to the core
 *                      session while it runs, so a session driver and a recorder can take
 *                      its place in one step
 *   screen_picker.c    the case list (picker_state): input and drawing
 *   screen_briefing.c  the open case and its briefing
 *   screen_scan.c      scanning and injecting (scan_state): controls to actions (the probe,
 *                      the scanner's settings, focus, TGC sliders, presets, zoom, the needle,
 *                      the steps and their undo, marks, calipers, freeze, pause), synthesis,
 *                      layout and drawing
 *   screen_debrief.c   the score, what happened in words, the table, the skin map and the
 *                      replay's view (debrief_state)
 *   replay_session.c   the session's actions kept in memory and played through a fresh driver
 *   sound_sdl.c        clicks on pops and the injection tone
 *   screen_calib.c     the tracker's guided two-point calibration, over the scan screen
 *   scan_cine.c        the cine loop of the last 10 s, and the plain words for the core's names
 *   screen_editor.c    the scenario editor (editor_state): its field table (editor_fields.c),
 *                      the live preview, undo, save and autosave through sim/core/scenario_edit
 *   screens.c          drawing shared by the screens: colours, wrapped text, the top bar,
 *                      the help overlay, the procedure step labels
 *
 * Each screen has <screen>_input (the frame's controls), <screen>_draw and <screen>_hints (the
 * keys it names, read from the bindings). */
#ifndef MESOSIM_TRAINER_INTERNAL_H
#define MESOSIM_TRAINER_INTERNAL_H

#include <stdio.h>
#include <string.h>

#include <SDL.h>

#include "bmode.h"
#include "devices.h"
#include "driver.h"
#include "image_view.h"
#include "kbm_sdl.h"
#include "outside_view.h"
#include "records.h"
#include "replay_session.h"
#include "scan_cine.h"
#include "scenario.h"
#include "sound_sdl.h"
#include "trainer.h"
#include "ui.h"

#define TRAINER_MAX_CASES 64

typedef struct trainer_case {
    char path[1024];
    bool ok;
    char error[320];     /* first problem when !ok */
    scenario *sc;        /* loaded case (owned) when ok */
} trainer_case;

typedef struct picker_state {
    trainer_case cases[TRAINER_MAX_CASES];
    int n_cases, sel;
    char cases_dir[1024];
    char user_dir[1024];         /* $XDG_DATA_HOME/mesosim/scenarios, listed too when it exists */
    char last_case[1024];        /* from the state file: selected first */
} picker_state;

/* The open case (the briefing shows it; the scan runs it). */
typedef struct case_state {
    bool have_case;
    char path[1024];
    scenario sc;                 /* as loaded; the session's begin sets guidance.blind when blind */
    bool blind;                  /* practise it blind (--blind, B on the picker): the next session's
                                  * driver_def.blind, so the log's header says so (docs/actions.md) */
} case_state;

/* The B-mode frame when an injection started, with the true tip, for the debrief. */
typedef struct trainer_snapshot {
    uint8_t *pixels;     /* rows*cols, owned */
    int rows, cols;
    double dz_mm, dx_mm, x0_mm, z0_mm;
    bool tip_ok;
    double tip_img_mm[3]; /* lateral, elevation (distance from the plane), depth */
    image_tex tex;
} trainer_snapshot;

/* trainer_session.c: the running session and what it records. */
typedef struct tsession_state {
    driver *d;                    /* owns the session; the window is its owner thread */
    const session *s;             /* driver_session(d): for the clock only; screens read the view */
    const driver_snapshot *view;  /* the newest snapshot the screens read (tsession_view) */
    bool view_stale;              /* the driver stepped since view was taken */
    char log_path[1100];
    char report_path[1100];
    session_event *ev;            /* events of the steps since the last feedback */
    int n_ev, cap_ev;
    controls_feedback fb;         /* this frame's, for the device sources */
    double last_force_n;          /* axial needle force at the last frame */
    trainer_snapshot *snaps;      /* one per injection, grows */
    int n_snaps, cap_snaps;
    bool pose_needle;             /* a tracked needle (a pen) put the needle in and moves it */
    double pose_pushed_mm;        /* the travel asked of the driver since its entry */
    replay_tape tape;             /* every applied action, for the debrief's replay */
} tsession_state;

/* The scan paused because the device driving it went away (trainer.c). */
typedef struct device_pause {
    bool on;
    char msg[200];
    double offset_s;              /* caller time spent paused, not session time */
    double last_t_s;              /* caller time at the last scan frame */
} device_pause;

typedef struct scan_state {
    double t, prev_t;             /* session time now and at the last frame */
    bmode_image img;
    bool have_img;
    long long bmode_renders;      /* B-mode frames synthesised this session (none in a blind case) */
    image_tex live;
    outside_camera cam;
    bool show_view;
    double needle_speed_mm_s;          /* hand speed this frame: the force shown depends on it */
    double aim_angle_deg, aim_dist_mm; /* needle entry: angle to the skin, distance from the plane */
    int mark_stage;                    /* 0 off, 1 waiting for the top click, 2 the bottom */
    double mark_top_mm;
    char msg[256];
    double msg_until_s;
    ui_color msg_color;
    trainer_image_rect ir;
    float view[4];
    /* The scan screen's controls (screen_scan.c). */
    int step_menu;                /* the step chooser's row (index into the declared steps), -1 closed */
    int hover_step;                    /* checklist row under the pointer, -1 none */
    float step_rows_y[STEP_COUNT + 1]; /* the checklist rows' tops and the bottom, drawn last */
    float step_rows_x, step_rows_w;
    char undo_name[32];                /* the step ticked last, undoable until undo_until_s */
    double undo_until_s;
    bool frozen;                       /* the image is held; cine_back frames before the newest */
    int cine_back;
    scan_cine cine;
    int caliper_stage;                 /* 0 off, 1 waiting for the first point, 2 the second */
    double cal_mm[4];                  /* x0, z0, x1, z1 of the caliper points, image mm */
    bool cal_shown;                    /* the last measurement is drawn */
    int tgc_drag;                      /* TGC slider being dragged, -1 none */
    double zoom;                       /* write zoom: 1 is the whole image */
    double zoom_x_mm, zoom_z_mm;       /* the zoomed box's centre, image mm */
    int base_lines;                    /* the probe's lines at zoom 1 */
    trainer_image_rect disp;           /* geometry of the pixels shown (a box of the image when zoomed) */
    uint8_t *crop;                     /* the zoomed box's pixels, owned */
    size_t crop_cap;
    bool paused;                       /* the trainee paused: the clock stops */
    bool held;                         /* the clock is held (paused, help shown, asking) */
    double raw_t, hold_from_s, held_total_s; /* the clock before holds, and the holds */
    int confirm;                       /* 0 none, 1 asking to end, 2 asking to close */
    bool quit_now;                     /* the close was confirmed: leave the loop */
    struct scan_msg {
        char text[256];
        ui_color color;
        double t_s;
    } msgs[5];                         /* the newest last */
    int n_msgs;
    /* Colour / power Doppler (screen_scan.c): made on first use, drawn over the live image. */
    doppler *dop;
    doppler_image dimg;
    bool have_dop;                     /* dimg is of the frame shown */
    int dop_box_stage;                 /* 0 off, 1 waiting for the first corner, 2 the second */
    double dop_corner_mm[2];           /* the first corner, image mm */
} scan_state;

typedef struct debrief_state {
    score_result result;
    replay *rp;                   /* the session replayed through a fresh driver */
    const driver_snapshot *rs;    /* the replay at t_s */
    double t_s, end_s, prev_clock_s;
    bool playing, scrubbing;
    image_tex tex;                /* the replay's B-mode at t_s */
    bool have_img;
    int rows, cols;
    double dz_mm, dx_mm, x0_mm, z0_mm;
    outside_camera cam;
    float bmode_r[4], view_r[4], map_r[4], timeline_r[4], play_r[4]; /* x y w h, fb px */
    float map_min_top;            /* the skin map starts no higher (what the left column used) */
    double seek_ms_max;           /* the slowest seek so far */
#define DEBRIEF_MAX_THUMBS 16
    float thumb_r[DEBRIEF_MAX_THUMBS][4]; /* the injection frames' thumbnails, as drawn */
    int n_thumbs;
    char replay_err[200];
} debrief_state;

/* screen_trainee.c: who is training, asked first when the window records (trainer_def.ask_trainee). */
typedef struct trainee_state {
    records_trainee *list;        /* the trainees in the records, owned */
    int n, sel;                   /* rows: the trainees, then "new trainee", then "no records" */
    char typed[RECORDS_NAME_MAX]; /* the new trainee's name as typed */
    char name[RECORDS_NAME_MAX];  /* the chosen one: trainer_def.trainee points here */
    char msg[320];                /* why a name was refused, or why the records cannot be read */
    char db[RECORDS_PATH_MAX];    /* the records the list comes from */
    char start_case[1024];        /* trainer_run's start scenario, opened once a trainee is chosen */
} trainee_state;

/* screen_instructor.c: everyone's progress, a trainee's sessions, a recorded session's replay. */
#define INSTRUCTOR_SPARK_MAX 40
typedef struct instructor_row {
    records_trainee tr;
    double scores[INSTRUCTOR_SPARK_MAX]; /* the newest scored sessions, oldest first */
    int n_scores;
} instructor_row;
typedef struct instructor_state {
    instructor_row *rows;         /* owned */
    int n, sel;
    records_session *sessions;    /* the chosen trainee's, owned (records_sessions_free) */
    int n_sessions, sel_session;
    bool in_sessions;             /* listing one trainee's sessions */
    int confirm_changed;          /* the session (index) whose case changed, asked to replay anyway; -1 none */
    char msg[400];
} instructor_state;

typedef struct editor_state editor_state; /* screen_editor.c */
#ifdef MESOSIM_IGTL
#include "igtl_server.h"

/* screen_calib.c: the guided two-point calibration, over the scan screen (the session's clock
 * stands still meanwhile and the tracker drives nothing). */
typedef struct calib_state {
    bool on;
    int step;                     /* 0 point A, 1 point B, 2 the result, asking to save */
    long long count_at_enter;     /* the needle's raw pose count when the screen opened */
    double dev[2][3], ph[2][3];   /* the points touched (device units) and the marks (mm) */
    igtl_calibration result;
    double residual_mm;           /* the marks against where the result puts the points touched */
    char msg[4800];               /* may name the calibration file */
} calib_state;

/* trainer_session.c: the OpenIGTLink server the window hosts (trainer_def.igtl_port). It lives
 * with the window; each scan session lends it its driver. */
typedef struct tracker_state {
    igtl_server *srv;
    char calib_path[4096];        /* where the calibration is read from and saved to */
    uint64_t clock_bits;          /* the session time the poses are stamped with (a double, atomic) */
    long long seen_lost;          /* tool_clients_lost when last looked at */
    bool had_tool;                /* a tracker sent poses during this scan */
    calib_state calib;
} tracker_state;
#endif

struct trainer {
    trainer_def def;
    struct tracker_state *tracker; /* NULL without --igtl-port */
    SDL_Window *win;
    SDL_GLContext gl;
    int fb_w, fb_h, win_w, win_h;
    float scale;                 /* framebuffer px per window point */
    ui *ui;
    image_view *iv;
    outside_view *ov;
    controls_bindings bindings;  /* what the keys are, for the hints on every screen */
    char bindings_path[1024];
    devices *dev;                /* every input device: keyboard and mouse, controllers, pen */
    device_pause pause;
    double last_frame_t_s;       /* caller time of the last frame, for the feedback's dt */
    bmode *bm;
    trainer_screen screen;
    bool show_help;
    sound *snd;                  /* never NULL once created: silent without a device */
    char state_path[1100];       /* the last case, volume and mute (screen_picker.c) */
    int gl_errors;
    char gl_err[160];

    picker_state picker;
    case_state open;
    tsession_state run;
    scan_state scan;
    debrief_state debrief;
    trainee_state trainee;
    instructor_state instr;
    editor_state *editor;        /* the editor's session, NULL when none is open */
    bool editor_quit;            /* the editor opened by `mesosim edit` was left: close the window */
};

/* screens.c */
#define C_TEXT 0xe8ecf0ffu
#define C_DIM 0x9aa4b0ffu
#define C_ACCENT 0x78c8ffffu
#define C_GOOD 0x90ff90ffu
#define C_BAD 0xff8a80ffu
#define C_WARN 0xffd080ffu
#define C_PANEL 0x1b2028ffu
#define C_BAR 0x12161cffu
static inline float S(const trainer *t, float v) { return v * t->scale; }
/* Draws text wrapped to width w; returns the height used. */
float screens_wrap(trainer *t, ui_font f, float x, float y, float w, ui_color c, const char *text);
void screens_top_bar(trainer *t, const char *right);
void screens_help(trainer *t);
const char *screens_step_label(score_step s);
/* The first key of a binding, for hints ("C"). */
const char *screens_key(const trainer *t, ctl_button b, char buf[CONTROLS_KEY_NAME_LEN * 3]);
const char *screens_axis_key(const trainer *t, ctl_axis a, char buf[CONTROLS_KEY_NAME_LEN * 3]);

/* screen_picker.c */
void picker_rescan(trainer *t);
void picker_free(trainer *t);
void picker_input(trainer *t, const controls *c);
void picker_draw(trainer *t);
void picker_hints(const trainer *t, char *buf, size_t len);
/* E on the picker opens the selected case in the editor (screen_editor.h); true when taken. */
bool picker_event(trainer *t, const SDL_Event *e);
/* Loads a case file, every problem in err. */
bool picker_load_case(const char *path, scenario *out, char *err, size_t n);
/* The state file ($XDG_CONFIG_HOME/mesosim/window.conf, else ~/.config/mesosim/window.conf,
 * beside bindings.conf): the last case opened, the sound's volume and mute. A missing or bad
 * file gives the defaults. */
void trainer_state_load(trainer *t);
void trainer_state_save(trainer *t);

/* screen_trainee.c: the list is read again each time it is shown. */
void trainee_show(trainer *t);
void trainee_free(trainer *t);
/* Keys and typed text of the trainee screen: true when taken. */
bool trainee_event(trainer *t, const SDL_Event *e);
void trainee_draw(trainer *t);
void trainee_hints(const trainer *t, char *buf, size_t len);
/* The records the window writes to: def.records_db, else the default path. False: none. */
bool trainee_db_path(const trainer *t, char *out, size_t cap);

/* screen_instructor.c */
void instructor_show(trainer *t);
void instructor_free(trainer *t);
bool instructor_event(trainer *t, const SDL_Event *e);
void instructor_draw(trainer *t);
void instructor_hints(const trainer *t, char *buf, size_t len);

/* screen_briefing.c */
void briefing_input(trainer *t, const controls *c);
void briefing_draw(trainer *t);
void briefing_hints(const trainer *t, char *buf, size_t len);

/* screen_editor.c */
/* A raw SDL event on the editor screen: true when the editor took it (keys, text, mouse), so
 * the devices do not see it as a trainee's control. */
bool editor_event(trainer *t, const SDL_Event *e);
/* Per frame: the autosave's clock, the field table and the preview after a change. */
void editor_input(trainer *t, double t_s);
void editor_draw(trainer *t);
void editor_hints(const trainer *t, char *buf, size_t len);
void editor_free(trainer *t);
/* The window's close: true when it may close now (nothing unsaved), else asks first. */
bool editor_ask_close(trainer *t);

/* An action of verb v at t_s with no keys; keys set one by one. */
static inline action trainer_make_action(action_verb v, double t_s)
{
    action a;
    memset(&a, 0, sizeof a);
    a.verb = v;
    a.t_s = t_s;
    return a;
}
static inline void trainer_set_key(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= (uint64_t)1 << k;
}

/* trainer_session.c */
bool tsession_begin(trainer *t, char *err, size_t n);
void tsession_close(trainer *t);
void tsession_clear_snapshots(trainer *t);
/* The newest snapshot of the running session: what the scan screen reads and draws. */
const driver_snapshot *tsession_view(trainer *t);
/* Runs the session clock to t_s (never backwards); returns the session's time. */
double tsession_advance_to(trainer *t, double t_s);
/* Pops, hub stops, verdicts and adverse events since the last call: messages and feedback. */
void tsession_feedback(trainer *t);
/* A tracked needle's pose (a pen) to actions: entry when it appears, its travel as continuous
 * needle motion, a withdrawal when it goes. Call before the frame's tsession_advance_to. */
void tsession_follow_needle_pose(trainer *t, const controls *c, double t_s);

/* trainer_session.c: the tracker server's port, address and calibration: trainer_def's (the
 * --igtl-* options) over devices.conf's igtl.* keys. False with a message where --igtl-port asks
 * for a server this build has not (a devices.conf key only gets a note on stderr). */
bool trainer_tracker_settings(trainer *t, char *err, size_t n);

#ifdef MESOSIM_IGTL
/* trainer_session.c: the hosted OpenIGTLink server. */
bool tracker_start(trainer *t, char *err, size_t n);
void tracker_stop(trainer *t);
/* The poses drive this session's driver (NULL: none, while calibrating or between sessions). */
void tracker_attach(trainer *t, driver *d);
/* Since the last call: a tracker that drove this scan went away (lost), or one came (back). */
void tracker_news(trainer *t, bool *lost, bool *back);
void tracker_status(trainer *t, char *buf, size_t n);

/* screen_calib.c */
void calib_enter(trainer *t);
void calib_input(trainer *t, const controls *c);
void calib_draw(trainer *t);
#endif

/* screen_scan.c */
void scan_reset(trainer *t);
void scan_layout(trainer *t);
void scan_input(trainer *t, const controls *c, double dt);
/* After the frame's input: feedback, synthesis of the new scene, layout. */
void scan_update(trainer *t);
void scan_draw(trainer *t);
void scan_hints(const trainer *t, char *top, size_t top_len, char *bottom, size_t bottom_len);
/* A message shown for a few seconds on the scan screen. */
void scan_say(trainer *t, ui_color c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The session time for the loop's clock t_s: held while paused, while the help covers the
 * image and while a question is asked. */
double scan_clock(trainer *t, double t_s);
/* The window's close button on the scan screen: asks first. */
void scan_ask_close(trainer *t);

/* screen_debrief.c */
void debrief_enter(trainer *t);
void debrief_input(trainer *t, const controls *c);
void debrief_draw(trainer *t);
void debrief_hints(const trainer *t, char *buf, size_t len);
void debrief_free(trainer *t);
/* Severity of a debrief line: what colour it is drawn in. */
typedef enum debrief_severity { DEBRIEF_INFO = 0, DEBRIEF_WARN, DEBRIEF_BAD } debrief_severity;
typedef struct debrief_line {
    debrief_severity severity;
    const char *text;
} debrief_line;
/* Draws lines (wrapped to w) from (x, y) in their severity's colour; returns the height used.
 * The adverse events use it; so can any list of teaching points (core feedback). */
float debrief_draw_lines(trainer *t, float x, float y, float w, const debrief_line *lines, int n);

#endif
