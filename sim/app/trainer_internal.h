/* trainer_internal: the trainer's state, shared by trainer.c (window, session, actions, log,
 * controls) and screens.c (drawing the screens). Not for other modules. */
#ifndef MESOSIM_TRAINER_INTERNAL_H
#define MESOSIM_TRAINER_INTERNAL_H

#include <stdio.h>

#include <SDL.h>

#include "bmode.h"
#include "image_view.h"
#include "outside_view.h"
#include "scenario.h"
#include "trainer.h"
#include "ui.h"

#define TRAINER_MAX_CASES 64

typedef struct trainer_case {
    char path[1024];
    bool ok;
    char error[320];     /* first problem when !ok */
    scenario *sc;        /* loaded case (owned) when ok */
} trainer_case;

/* The B-mode frame when an injection started, with the true tip, for the debrief. */
typedef struct trainer_snapshot {
    uint8_t *pixels;     /* rows*cols, owned */
    int rows, cols;
    double dz_mm, dx_mm, x0_mm, z0_mm;
    bool tip_ok;
    double tip_img_mm[3]; /* lateral, elevation (distance from the plane), depth */
    image_tex tex;
} trainer_snapshot;

struct trainer {
    trainer_def def;
    SDL_Window *win;
    SDL_GLContext gl;
    int fb_w, fb_h, win_w, win_h;
    float scale;                 /* framebuffer px per window point */
    ui *ui;
    image_view *iv;
    outside_view *ov;
    controls_state *cs;
    bmode *bm;
    trainer_screen screen;
    bool quit;

    trainer_case cases[TRAINER_MAX_CASES];
    int n_cases, sel;
    char cases_dir[1024];

    bool have_case;
    char case_path[1024];
    scenario sc;

    session *s;
    FILE *log;
    char log_path[1100];
    char report_path[1100];
    double t, prev_t;
    bmode_image img;
    bool have_img;
    image_tex live;
    outside_camera cam;
    bool show_view, show_help;

    double needle_speed_mm_s;          /* hand speed this frame: the force shown depends on it */
    double aim_angle_deg, aim_dist_mm; /* needle entry: angle to the skin, distance from the plane */
    int mark_stage;                    /* 0 off, 1 waiting for the top click, 2 the bottom */
    double mark_top_mm;

    char msg[256];
    double msg_until_s;
    ui_color msg_color;
    int seen_pops, seen_events, seen_hubs, seen_done;

    trainer_snapshot snaps[SESSION_MAX_INJECTIONS];
    int n_snaps;

    score_result result;
    trainer_image_rect ir;
    float view[4];
    int gl_errors;
    char gl_err[160];
};

/* screens.c */
void screens_layout(trainer *t);
void screens_draw(trainer *t);
/* Picker row under a click (framebuffer px), -1 when none. */
int screens_picker_hit(const trainer *t, float x, float y);

/* trainer.c: a message shown for a few seconds on the scan screen. */
void trainer_say(trainer *t, ui_color c, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
