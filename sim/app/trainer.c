/* trainer: the window, the GL context, the frame loop, and dispatch to the screens
 * (trainer_internal.h says which module does what). */
#include "trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef MESOSIM_SANITIZE
#include <dlfcn.h>
#endif

#include <epoxy/gl.h>

#include "gl_util.h"
#include "trainer_internal.h"

trainer_def trainer_default_def(void)
{
    return (trainer_def){.width = 1280, .height = 800, .vsync = true, .igtl_port = -1};
}

/* ---- window ---------------------------------------------------------------------------- */

/* Under LeakSanitizer, Mesa's software driver is unloaded before the leak report and its
 * allocations show as leaks of unknown origin (shared/reference/stack.md); keeping it loaded
 * lets the report name them, and the suppressions file (tests/lsan.supp) drop them. */
static void pin_gl_driver(void)
{
#ifdef MESOSIM_SANITIZE
    static const char *const k_paths[] = {"/usr/lib/x86_64-linux-gnu/dri/swrast_dri.so",
                                          "/usr/lib/aarch64-linux-gnu/dri/swrast_dri.so"};
    for (size_t i = 0; i < sizeof k_paths / sizeof k_paths[0]; i++)
        if (dlopen(k_paths[i], RTLD_NOW | RTLD_NODELETE))
            break;
#endif
}

static void update_sizes(trainer *t)
{
    SDL_GetWindowSize(t->win, &t->win_w, &t->win_h);
    SDL_GL_GetDrawableSize(t->win, &t->fb_w, &t->fb_h);
    float s = t->win_w > 0 ? (float)t->fb_w / (float)t->win_w : 1.0f;
    /* Small windows shrink the text with them so the layout still fits. */
    float fit = fminf((float)t->win_w / 1280.0f, (float)t->win_h / 800.0f);
    if (fit < 0.75f)
        s *= fmaxf(fit / 0.75f, 0.6f);
    t->scale = s;
    char err[160];
    if (t->ui && !ui_set_scale(t->ui, s, err, sizeof err))
        fprintf(stderr, "mesosim: %s\n", err);
    scan_layout(t);
}

static bool video_init(char *err, size_t n)
{
    if (SDL_WasInit(SDL_INIT_VIDEO))
        return true;
    if (SDL_Init(SDL_INIT_VIDEO) == 0) {
        /* With no display SDL may fall back to a driver that shows nothing: a window nobody
         * sees is no trainer. Those drivers only when asked for by name (tests, benchmarks). */
        const char *drv = SDL_GetCurrentVideoDriver(), *asked = getenv("SDL_VIDEODRIVER");
        if (drv && (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy")) && !(asked && *asked)) {
            snprintf(err, n, "cannot open a display (no X11 or Wayland session found). Without a screen, "
                             "run under Xvfb (xvfb-run -a -s \"-screen 0 1280x800x24\" mesosim) or set "
                             "SDL_VIDEODRIVER=offscreen");
            SDL_Quit();
            return false;
        }
        return true;
    }
    snprintf(err, n,
             "cannot open a display (%s). Without a screen, run under Xvfb "
             "(xvfb-run -a -s \"-screen 0 1280x800x24\" mesosim) or with SDL_VIDEODRIVER=offscreen",
             SDL_GetError());
    return false;
}

trainer *trainer_create(const trainer_def *def, char *err, size_t n)
{
    pin_gl_driver();
    if (!video_init(err, n))
        return NULL;
    trainer *t = calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, n, "out of memory");
        SDL_Quit();
        return NULL;
    }
    t->def = *def;
    t->open.blind = def->blind;
    t->scan.show_view = true;
    t->scan.cam = outside_default_camera();
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 3);
    SDL_GL_SetAttribute(SDL_GL_CONTEXT_PROFILE_MASK, SDL_GL_CONTEXT_PROFILE_CORE);
    SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
    SDL_GL_SetAttribute(SDL_GL_DEPTH_SIZE, 24);
    t->win = SDL_CreateWindow("mesosim - ultrasound-guided mesotherapy trainer", SDL_WINDOWPOS_CENTERED,
                              SDL_WINDOWPOS_CENTERED, def->width, def->height,
                              SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    if (!t->win) {
        snprintf(err, n, "cannot open a window: %s (without a screen, run under Xvfb or with "
                         "SDL_VIDEODRIVER=offscreen)", SDL_GetError());
        trainer_destroy(t);
        return NULL;
    }
    /* The smallest size the scan screen's layout holds at full text size (docs/window.md). */
    SDL_SetWindowMinimumSize(t->win, 960, 600);
    t->gl = SDL_GL_CreateContext(t->win);
    if (!t->gl) {
        snprintf(err, n, "no OpenGL 3.3 core context: %s", SDL_GetError());
        trainer_destroy(t);
        return NULL;
    }
    if (epoxy_gl_version() < 33) {
        snprintf(err, n, "OpenGL %d.%d found, 3.3 core needed", epoxy_gl_version() / 10,
                 epoxy_gl_version() % 10);
        trainer_destroy(t);
        return NULL;
    }
    if (def->vsync && SDL_GL_SetSwapInterval(-1) != 0)
        SDL_GL_SetSwapInterval(1);
    if (!def->vsync)
        SDL_GL_SetSwapInterval(0);
    SDL_GetWindowSize(t->win, &t->win_w, &t->win_h);
    SDL_GL_GetDrawableSize(t->win, &t->fb_w, &t->fb_h);
    t->ui = ui_create(def->font_path, (float)t->fb_w / (float)(t->win_w > 0 ? t->win_w : 1), err, n);
    if (!t->ui) {
        trainer_destroy(t);
        return NULL;
    }
    t->iv = image_view_create(err, n);
    t->ov = t->iv ? outside_view_create(err, n) : NULL;
    if (!t->ov) {
        trainer_destroy(t);
        return NULL;
    }
    bmode_def bd = bmode_default_def();
    bd.display_only = true;
    t->bm = bmode_create(&bd);
    controls_bindings_load(def->bindings_path, &t->bindings, t->bindings_path, sizeof t->bindings_path);
    devices_def dd = devices_default_def();
    dd.bindings = &t->bindings;
    t->dev = devices_create(&dd);
    t->snd = sound_create(true);
    trainer_state_load(t);
    if (!t->bm || !t->dev || !t->snd) {
        snprintf(err, n, "out of memory");
        trainer_destroy(t);
        return NULL;
    }
    if (!trainer_tracker_settings(t, err, n)) {
        trainer_destroy(t);
        return NULL;
    }
#ifdef MESOSIM_IGTL
    if (t->def.igtl_port >= 0 && !tracker_start(t, err, n)) {
        trainer_destroy(t);
        return NULL;
    }
#endif
    update_sizes(t);
    trainer_gl_errors(t, NULL, 0);
    return t;
}

void trainer_destroy(trainer *t)
{
    if (!t)
        return;
    tsession_close(t);
#ifdef MESOSIM_IGTL
    tracker_stop(t);
#endif
    tsession_clear_snapshots(t);
    replay_tape_free(&t->run.tape);
    debrief_free(t);
    editor_free(t);
    trainee_free(t);
    instructor_free(t);
    picker_free(t);
    sound_destroy(t->snd);
    if (t->gl) {
        image_tex_destroy(&t->scan.live);
        ui_destroy(t->ui);
        image_view_destroy(t->iv);
        outside_view_destroy(t->ov);
        SDL_GL_DeleteContext(t->gl);
    }
    bmode_destroy(t->bm);
    scan_cine_free(&t->scan.cine);
    free(t->scan.crop);
    doppler_destroy(t->scan.dop);
    devices_destroy(t->dev);
    if (t->win)
        SDL_DestroyWindow(t->win);
    free(t);
    SDL_Quit();
}

void trainer_device_status(trainer *t, char *buf, size_t len)
{
    devices_status(t->dev, buf, len);
#ifdef MESOSIM_IGTL
    size_t k = strlen(buf);
    if (t->tracker && k + 3 < len) {
        snprintf(buf + k, len - k, ", ");
        tracker_status(t, buf + k + 2, len - k - 2);
    }
#endif
}

/* The connected devices in a small line above the bottom bar, and the pause banner. */
static void draw_devices(trainer *t)
{
    char status[560];
    trainer_device_status(t, status, sizeof status);
    float W = (float)t->fb_w, H = (float)t->fb_h;
    ui_text(t->ui, UI_SMALL, W - S(t, 12) - ui_text_width(t->ui, UI_SMALL, status), H - S(t, 46), C_DIM, status);
    if (!t->pause.on || t->screen != SCREEN_SCAN)
        return;
    float w = fminf(W - S(t, 80), S(t, 760)), x = 0.5f * (W - w), y = 0.4f * H;
    ui_rect(t->ui, x, y, w, S(t, 64), C_PANEL);
    ui_frame(t->ui, x, y, w, S(t, 64), S(t, 2), C_WARN);
    screens_wrap(t, UI_BODY, x + S(t, 16), y + S(t, 12), w - S(t, 32), C_WARN, t->pause.msg);
}

void trainer_frame(trainer *t, double t_s, const controls *c)
{
    static const controls k_none = {.zoom_factor = 1.0f};
    if (!c)
        c = &k_none;
    if (c->resized)
        update_sizes(t);
    if (c->pressed[BTN_HELP])
        t->show_help = !t->show_help;
    double frame_dt = fmax(t_s - t->last_frame_t_s, 0.0);
    t->last_frame_t_s = t_s;
    if (c->pressed[BTN_MUTE] || c->pressed[BTN_VOLUME_UP] || c->pressed[BTN_VOLUME_DOWN]) {
        if (c->pressed[BTN_MUTE])
            sound_set_muted(t->snd, !sound_muted(t->snd));
        double vol = sound_volume(t->snd) + 0.1 * (c->pressed[BTN_VOLUME_UP] - c->pressed[BTN_VOLUME_DOWN]);
        sound_set_volume(t->snd, round(vol * 10) / 10);
        trainer_state_save(t);
    }
    bool calibrating = false;
#ifdef MESOSIM_IGTL
    calibrating = t->tracker && t->tracker->calib.on;
#endif
    if (t->screen == SCREEN_SCAN && t->run.s) {
        /* Paused for a lost device or calibrating: the caller's clock runs on, the session's
         * stands still. */
        if (t->pause.on || calibrating)
            t->pause.offset_s += fmax(t_s - t->pause.last_t_s, 0.0);
        t->pause.last_t_s = t_s;
        /* The user's holds (pause, help, the End question) come on top. */
        double st = scan_clock(t, t_s - t->pause.offset_s);
        if (!t->pause.on)
            tsession_follow_needle_pose(t, c, st);
        t->scan.prev_t = t->scan.t;
        t->scan.t = tsession_advance_to(t, st);
#ifdef MESOSIM_IGTL
        if (calibrating)
            calib_input(t, c);
        else if (!t->pause.on && c->pressed[BTN_CALIBRATE])
            calib_enter(t);
        else
#else
        if (!t->pause.on && c->pressed[BTN_CALIBRATE])
            scan_say(t, C_WARN, "Tracked tools are not in this build: it was built without OpenIGTLink "
                     "(install libopenigtlink-dev and rebuild).");
        else
#endif
        if (!t->pause.on)
            scan_input(t, c, t->scan.t - t->scan.prev_t);
    } else {
        t->scan.t = t_s;
        if (t->screen == SCREEN_PICKER)
            picker_input(t, c);
        else if (t->screen == SCREEN_BRIEFING)
            briefing_input(t, c);
        else if (t->screen == SCREEN_DEBRIEF)
            debrief_input(t, c);
        else if (t->screen == SCREEN_EDITOR)
            editor_input(t, t_s);
    }
    if (t->screen == SCREEN_SCAN && t->run.s)
        scan_update(t);
    sound_set_tone(t->snd, t->screen == SCREEN_SCAN && t->run.s && tsession_view(t)->injecting);
    glViewport(0, 0, t->fb_w, t->fb_h);
    glClearColor(0.06f, 0.07f, 0.09f, 1.0f);
    /* Only the outside view tests depth, and it clears its own rectangle: no full-screen
     * depth clear (a whole pass on a software rasteriser). */
    glClear(GL_COLOR_BUFFER_BIT);
    ui_begin(t->ui, t->fb_w, t->fb_h);
    switch (t->screen) {
    case SCREEN_PICKER: picker_draw(t); break;
    case SCREEN_BRIEFING: briefing_draw(t); break;
    case SCREEN_SCAN: scan_draw(t); break;
    case SCREEN_DEBRIEF: debrief_draw(t); break;
    case SCREEN_EDITOR: editor_draw(t); break;
    case SCREEN_TRAINEE: trainee_draw(t); break;
    case SCREEN_INSTRUCTOR: instructor_draw(t); break;
    }
#ifdef MESOSIM_IGTL
    if (calibrating && t->tracker->calib.on)
        calib_draw(t);
#endif
    draw_devices(t);
    if (t->show_help)
        screens_help(t); /* over everything, the device line too */
    ui_flush(t->ui);
    devices_feedback(t->dev, trainer_feedback(t), frame_dt);

    char err[160];
    int n = gl_errors("frame", err, sizeof err);
    if (n && !t->gl_errors)
        snprintf(t->gl_err, sizeof t->gl_err, "%s", err);
    t->gl_errors += n;
}

void trainer_swap(trainer *t) { SDL_GL_SwapWindow(t->win); }

void trainer_read_pixels(trainer *t, uint8_t *buf)
{
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    glReadBuffer(GL_BACK);
    glReadPixels(0, 0, t->fb_w, t->fb_h, GL_RGBA, GL_UNSIGNED_BYTE, buf);
}

void trainer_drawable_size(const trainer *t, int *w, int *h)
{
    *w = t->fb_w;
    *h = t->fb_h;
}

const char *trainer_trainee(const trainer *t)
{
    return t->def.trainee;
}

void trainer_flush_log(trainer *t)
{
    if (t->run.d)
        driver_flush_recorders(t->run.d);
}

double trainer_record_ms_last(const trainer *t)
{
    return t->run.d ? driver_get_stats(t->run.d).record_ms_last : 0.0;
}

void trainer_image_rect_get(const trainer *t, trainer_image_rect *out) { *out = t->scan.ir; }
void trainer_view_rect(const trainer *t, float out[4]) { memcpy(out, t->scan.view, sizeof t->scan.view); }
trainer_screen trainer_get_screen(const trainer *t) { return t->screen; }
const session *trainer_session(trainer *t) { return t->run.s; }
const char *trainer_log_path(const trainer *t) { return t->run.log_path; }

void trainer_show_outside_view(trainer *t, bool on)
{
    t->scan.show_view = on;
    scan_layout(t);
}

void trainer_show_help(trainer *t, bool on) { t->show_help = on; }

void trainer_hints(const trainer *t, char *buf, size_t len)
{
    char top[256], bottom[512];
    switch (t->screen) {
    case SCREEN_PICKER: picker_hints(t, buf, len); break;
    case SCREEN_BRIEFING: briefing_hints(t, buf, len); break;
    case SCREEN_DEBRIEF: debrief_hints(t, buf, len); break;
    case SCREEN_EDITOR: editor_hints(t, buf, len); break;
    case SCREEN_TRAINEE: trainee_hints(t, buf, len); break;
    case SCREEN_INSTRUCTOR: instructor_hints(t, buf, len); break;
    case SCREEN_SCAN:
        scan_hints(t, top, sizeof top, bottom, sizeof bottom);
        snprintf(buf, len, "%s\n%s", top, bottom);
        break;
    }
}

const char *trainer_message(const trainer *t)
{
    return t->screen == SCREEN_SCAN && t->scan.msg[0] && t->scan.t < t->scan.msg_until_s ? t->scan.msg : "";
}

const controls_feedback *trainer_feedback(const trainer *t)
{
    static const controls_feedback k_none;
    return t->screen == SCREEN_SCAN && t->run.s ? &t->run.fb : &k_none;
}

const struct sound *trainer_sound(const trainer *t) { return t->snd; }
int trainer_case_count(const trainer *t) { return t->picker.n_cases; }
int trainer_case_selected(const trainer *t) { return t->picker.sel; }
const char *trainer_case_path(const trainer *t, int i)
{
    return i >= 0 && i < t->picker.n_cases ? t->picker.cases[i].path : NULL;
}

int trainer_gl_errors(trainer *t, char *err, size_t n)
{
    int k = t->gl_errors + gl_errors("trainer", NULL, 0);
    if (err && n)
        snprintf(err, n, "%s", t->gl_err);
    t->gl_errors = 0;
    t->gl_err[0] = '\0';
    return k;
}

void trainer_poll_input(trainer *t, double dt_s, controls *c)
{
    /* The outside view to orbit: the scan's, or the debrief replay's. */
    const float *vr = t->screen == SCREEN_DEBRIEF ? t->debrief.view_r : t->scan.view;
    kbm_layout l = {.image_x = t->scan.ir.x, .image_y = t->scan.ir.y, .image_w = t->scan.ir.w,
                    .image_h = t->scan.ir.h, .view_x = vr[0], .view_y = vr[1], .view_w = vr[2], .view_h = vr[3],
                    .mm_per_px = t->scan.ir.w > 0 ? t->scan.ir.cols * t->scan.ir.dx_mm / t->scan.ir.w : 0};
    /* Points are window coordinates; the layout scale is framebuffer px per point. */
    l.px_per_point = t->win_w > 0 ? (float)t->fb_w / (float)t->win_w : 1.0f;
    devices_set_layout(t->dev, &l);
    pen_skin skin = {0};
    if (t->screen == SCREEN_SCAN && t->run.s) {
        const driver_snapshot *v = tsession_view(t);
        skin = (pen_skin){v->pose.x_mm, v->pose.y_mm, v->pose.rot_deg, probe_fov_mm(&v->probe)};
    }
    devices_set_skin(t->dev, &skin);
    devices_begin(t->dev, c);
    SDL_Event e;
    while (SDL_PollEvent(&e))
        if (!(t->screen == SCREEN_EDITOR ? editor_event(t, &e) :
              t->screen == SCREEN_TRAINEE ? trainee_event(t, &e) :
              t->screen == SCREEN_INSTRUCTOR ? instructor_event(t, &e) :
              t->screen == SCREEN_PICKER && picker_event(t, &e)))
            devices_event(t->dev, &e, c);
    devices_end(t->dev, dt_s, c);
    devices_news nw = devices_take_news(t->dev);
    if (t->screen != SCREEN_SCAN || !t->run.s)
        return;
#ifdef MESOSIM_IGTL
    bool tracker_lost = false, tracker_back = false;
    tracker_news(t, &tracker_lost, &tracker_back);
    if (tracker_lost && !nw.lost) {
        nw.lost = true;
        snprintf(nw.lost_message, sizeof nw.lost_message, "Tracker disconnected: the session is paused; "
                 "reconnect it or press a key to continue with the keyboard");
    }
    nw.device_added = nw.device_added || tracker_back;
#endif
    if (nw.lost && !t->pause.on) {
        t->pause.on = true;
        snprintf(t->pause.msg, sizeof t->pause.msg, "%s", nw.lost_message);
        scan_say(t, C_WARN, "%s", nw.lost_message);
        fprintf(stderr, "mesosim: %s\n", nw.lost_message);
    } else if (t->pause.on && (nw.device_added || nw.key_pressed)) {
        t->pause.on = false;
        scan_say(t, C_GOOD, nw.device_added ? "Device connected: the session goes on." :
                                              "The session goes on with the keyboard.");
        /* The key that ended the pause presses nothing else. */
        memset(c->pressed, 0, sizeof c->pressed);
    }
}

bool trainer_paused(const trainer *t) { return t->pause.on; }
#ifdef MESOSIM_IGTL
int trainer_igtl_port(const trainer *t) { return t->tracker ? igtl_server_port(t->tracker->srv) : -1; }
int trainer_calibration_step(const trainer *t) { return t->tracker && t->tracker->calib.on ? t->tracker->calib.step : -1; }
#else
int trainer_igtl_port(const trainer *t) { (void)t; return -1; }
int trainer_calibration_step(const trainer *t) { (void)t; return -1; }
#endif
const char *trainer_pause_message(const trainer *t) { return t->pause.on ? t->pause.msg : ""; }
struct devices *trainer_devices(trainer *t) { return t->dev; }

int trainer_run(trainer *t, const char *start_scenario)
{
    picker_rescan(t);
    char err[2048];
    if (start_scenario && !trainer_open_case(t, start_scenario, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (!start_scenario && t->picker.n_cases == 0)
        fprintf(stderr, "mesosim: no scenarios found (looked for scenarios/*.json beside the program)\n");
    if (t->def.ask_trainee && !t->def.trainee) {
        /* Who is training first (a bad --scenario has failed already); the case asked for
         * opens once that is answered. */
        snprintf(t->trainee.start_case, sizeof t->trainee.start_case, "%s", start_scenario ? start_scenario : "");
        trainee_show(t);
    }
    Uint64 freq = SDL_GetPerformanceFrequency(), t0 = SDL_GetPerformanceCounter(), last = t0;
    double scan_t0 = 0;
    trainer_screen prev_screen = t->screen;
    controls c = {.zoom_factor = 1.0f};
    for (;;) {
        Uint64 now = SDL_GetPerformanceCounter();
        double dt = (double)(now - last) / (double)freq;
        last = now;
        trainer_poll_input(t, dt, &c);
        if (c.quit && t->screen == SCREEN_SCAN && t->run.s) {
            scan_ask_close(t); /* the scan screen asks first */
            c.quit = t->scan.quit_now;
        }
        if (c.quit && t->screen == SCREEN_EDITOR)
            c.quit = editor_ask_close(t); /* asks first when there are unsaved changes */
        if (c.quit || (c.pressed[BTN_BACK] && (t->screen == SCREEN_PICKER || t->screen == SCREEN_DEBRIEF ||
                                               t->screen == SCREEN_TRAINEE))) {
            /* Closing the window mid-session keeps the log and writes a report marked
             * unfinished: it is not scored as a completed session. */
            if (t->screen == SCREEN_SCAN)
                tsession_close(t);
            break;
        }
        if (c.context_lost) {
            fprintf(stderr, "mesosim: the OpenGL context was lost; the session log %s holds everything "
                            "up to now (replay it with mesosim run)\n", t->run.log_path[0] ? t->run.log_path : "(none)");
            return 1;
        }
        if (c.minimized) {
            /* Nothing to draw; keep the session clock running but sleep. */
            SDL_Delay(50);
            if (t->screen == SCREEN_SCAN && t->run.s)
                tsession_advance_to(t, scan_clock(t, (double)(now - t0) / (double)freq - scan_t0 - t->pause.offset_s));
            continue;
        }
        double abs_t = (double)(now - t0) / (double)freq;
        trainer_frame(t, t->screen == SCREEN_SCAN ? abs_t - scan_t0 : abs_t, &c);
        if (t->screen != prev_screen && t->screen == SCREEN_SCAN) {
            /* The session clock starts at 0 when scanning begins. */
            scan_t0 = abs_t;
        }
        prev_screen = t->screen;
        trainer_swap(t);
        if (t->scan.quit_now || t->editor_quit)
            break;
        if (SDL_GL_GetCurrentContext() != t->gl) {
            fprintf(stderr, "mesosim: the OpenGL context is gone; the session log %s holds everything "
                            "up to now\n", t->run.log_path[0] ? t->run.log_path : "(none)");
            return 1;
        }
    }
    return 0;
}
