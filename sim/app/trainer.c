/* trainer: the window, the session it drives, the action log, and the controls of each screen. */
#include "trainer.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#ifdef MESOSIM_SANITIZE
#include <dlfcn.h>
#endif

#include <epoxy/gl.h>

#include "gl_util.h"
#include "trainer_internal.h"

#define PI 3.14159265358979323846

trainer_def trainer_default_def(void)
{
    return (trainer_def){.width = 1280, .height = 800, .vsync = true};
}

void trainer_say(trainer *t, ui_color c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->msg, sizeof t->msg, fmt, ap);
    va_end(ap);
    t->msg_color = c;
    t->msg_until_s = t->t + 4.0;
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
    screens_layout(t);
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
    t->show_view = true;
    t->cam = outside_default_camera();
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
    SDL_SetWindowMinimumSize(t->win, 640, 400);
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
    t->cs = controls_create(def->bindings_path);
    if (!t->bm || !t->cs) {
        snprintf(err, n, "out of memory");
        trainer_destroy(t);
        return NULL;
    }
    update_sizes(t);
    trainer_gl_errors(t, NULL, 0);
    return t;
}

static void free_cases(trainer *t)
{
    for (int i = 0; i < t->n_cases; i++)
        free(t->cases[i].sc);
    t->n_cases = 0;
}

static void clear_snapshots(trainer *t)
{
    for (int i = 0; i < t->n_snaps; i++) {
        free(t->snaps[i].pixels);
        if (t->gl)
            image_tex_destroy(&t->snaps[i].tex);
    }
    memset(t->snaps, 0, sizeof t->snaps);
    t->n_snaps = 0;
}

static void close_session(trainer *t)
{
    if (t->log) {
        fclose(t->log);
        t->log = NULL;
    }
    session_destroy(t->s);
    t->s = NULL;
    t->have_img = false;
}

void trainer_destroy(trainer *t)
{
    if (!t)
        return;
    close_session(t);
    clear_snapshots(t);
    free_cases(t);
    if (t->gl) {
        image_tex_destroy(&t->live);
        ui_destroy(t->ui);
        image_view_destroy(t->iv);
        outside_view_destroy(t->ov);
        SDL_GL_DeleteContext(t->gl);
    }
    bmode_destroy(t->bm);
    controls_destroy(t->cs);
    if (t->win)
        SDL_DestroyWindow(t->win);
    free(t);
    SDL_Quit();
}

/* ---- cases ----------------------------------------------------------------------------- */

static int cmp_case(const void *a, const void *b)
{
    return strcmp(((const trainer_case *)a)->path, ((const trainer_case *)b)->path);
}

static bool load_case(const char *path, scenario *out, char *err, size_t n)
{
    scenario_diags d = {0};
    bool ok = scenario_load_file(path, out, &d);
    if (!ok) {
        size_t used = 0;
        err[0] = '\0';
        for (int i = 0; i < d.count && used + 1 < n; i++) {
            int w = snprintf(err + used, n - used, "%s%s:%d:%d: %s: %s", i ? "\n" : "", path,
                             d.items[i].line, d.items[i].col,
                             d.items[i].path[0] ? d.items[i].path : "$", d.items[i].message);
            if (w < 0)
                break;
            used += (size_t)w < n - used ? (size_t)w : n - used - 1;
        }
        if (d.count == 0)
            snprintf(err, n, "%s: cannot be loaded", path);
    }
    scenario_diags_free(&d);
    return ok;
}

/* The bundled scenarios: beside the source tree, the install prefix, or the working dir. */
static void scan_cases(trainer *t)
{
    free_cases(t);
    static const char *const k_dirs[] = {MESOSIM_SOURCE_DIR "/scenarios",
                                         MESOSIM_INSTALL_DATADIR "/scenarios", "scenarios"};
    DIR *d = NULL;
    for (size_t i = 0; i < sizeof k_dirs / sizeof k_dirs[0] && !d; i++)
        if ((d = opendir(k_dirs[i])))
            snprintf(t->cases_dir, sizeof t->cases_dir, "%s", k_dirs[i]);
    if (!d) {
        t->cases_dir[0] = '\0';
        return;
    }
    for (struct dirent *e; (e = readdir(d)) && t->n_cases < TRAINER_MAX_CASES;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") || strstr(e->d_name, ".schema."))
            continue;
        trainer_case *c = &t->cases[t->n_cases++];
        memset(c, 0, sizeof *c);
        if (snprintf(c->path, sizeof c->path, "%s/%s", t->cases_dir, e->d_name) >= (int)sizeof c->path)
            t->n_cases--; /* a path too long to open is no case */
    }
    closedir(d);
    qsort(t->cases, (size_t)t->n_cases, sizeof t->cases[0], cmp_case);
    for (int i = 0; i < t->n_cases; i++) {
        trainer_case *c = &t->cases[i];
        c->sc = malloc(sizeof *c->sc);
        c->ok = c->sc && load_case(c->path, c->sc, c->error, sizeof c->error);
        if (!c->ok) {
            free(c->sc);
            c->sc = NULL;
        }
    }
    /* The default case first in the selection. */
    t->sel = 0;
    for (int i = 0; i < t->n_cases; i++)
        if (strstr(t->cases[i].path, "/adult_back.json"))
            t->sel = i;
}

int trainer_show_picker(trainer *t)
{
    close_session(t);
    scan_cases(t);
    t->screen = SCREEN_PICKER;
    return t->n_cases;
}

bool trainer_open_case(trainer *t, const char *path, char *err, size_t n)
{
    scenario *sc = malloc(sizeof *sc);
    if (!sc) {
        snprintf(err, n, "out of memory");
        return false;
    }
    if (!load_case(path, sc, err, n)) {
        free(sc);
        return false;
    }
    close_session(t);
    t->sc = *sc;
    free(sc);
    t->have_case = true;
    snprintf(t->case_path, sizeof t->case_path, "%s", path);
    t->screen = SCREEN_BRIEFING;
    return true;
}

/* ---- the session and its log ----------------------------------------------------------- */

static void make_dirs(const char *dir)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(buf, 0755);
            *p = '/';
        }
    mkdir(buf, 0755);
}

static void open_log(trainer *t)
{
    t->log_path[0] = t->report_path[0] = '\0';
    char dir[1024];
    if (t->def.log_dir && !t->def.log_dir[0])
        return;
    if (t->def.log_dir) {
        snprintf(dir, sizeof dir, "%s", t->def.log_dir);
    } else {
        const char *xdg = getenv("XDG_DATA_HOME"), *home = getenv("HOME");
        if (xdg && xdg[0] == '/')
            snprintf(dir, sizeof dir, "%s/mesosim/sessions", xdg);
        else
            snprintf(dir, sizeof dir, "%s/.local/share/mesosim/sessions", home && *home ? home : ".");
    }
    make_dirs(dir);
    const char *base = strrchr(t->case_path, '/');
    base = base ? base + 1 : t->case_path;
    char stem[128];
    if (snprintf(stem, sizeof stem, "%s", base) >= (int)sizeof stem)
        stem[sizeof stem - 1] = '\0'; /* a long case name is cut in the log's file name only */
    char *dot = strrchr(stem, '.');
    if (dot)
        *dot = '\0';
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    /* A second session in the same second gets its own file. */
    for (int k = 0; k < 100; k++) {
        int w = k == 0 ? snprintf(t->log_path, sizeof t->log_path, "%s/%s-%s.jsonl", dir, stem, stamp)
                       : snprintf(t->log_path, sizeof t->log_path, "%s/%s-%s-%d.jsonl", dir, stem, stamp, k);
        if (w >= (int)sizeof t->log_path) {
            fprintf(stderr, "mesosim: the session log path under %s is too long (the session is not recorded)\n", dir);
            t->log_path[0] = '\0';
            return;
        }
        if (access(t->log_path, F_OK) != 0)
            break;
    }
    t->log = fopen(t->log_path, "w");
    if (!t->log) {
        fprintf(stderr, "mesosim: cannot write the session log %s: %s (the session is not recorded)\n",
                t->log_path, strerror(errno));
        t->log_path[0] = '\0';
        return;
    }
    char abs[4096];
    const char *scen = realpath(t->case_path, abs) ? abs : t->case_path;
    snprintf(t->report_path, sizeof t->report_path, "%.*s.report.json",
             (int)(strlen(t->log_path) - 6), t->log_path);
    fprintf(t->log, "# mesosim %s session log (docs/actions.md), written as it happens.\n"
                    "# scenario: %s\n"
                    "# replay: mesosim run --scenario %s --actions %s --report REPORT.json\n",
            MESOSIM_VERSION, scen, scen, t->log_path);
    fflush(t->log);
}

bool trainer_begin_scan(trainer *t, char *err, size_t n)
{
    if (!t->have_case) {
        snprintf(err, n, "no case is open");
        return false;
    }
    close_session(t);
    clear_snapshots(t);
    t->s = session_create(&t->sc, err, n);
    if (!t->s)
        return false;
    t->t = t->prev_t = 0.0;
    t->aim_angle_deg = t->sc.plan.angle_deg > 0 ? t->sc.plan.angle_deg : 30.0;
    t->aim_dist_mm = 3.0;
    t->mark_stage = 0;
    t->seen_pops = t->seen_events = t->seen_hubs = t->seen_done = 0;
    t->msg[0] = '\0';
    t->screen = SCREEN_SCAN;
    open_log(t);
    screens_layout(t);
    trainer_say(t, 0xc8e6ffff, "Session started: tick the first steps (C), scan, mark the dermis (M).");
    return true;
}

/* The B-mode image the instant an injection starts, and where the tip truly is: the debrief
 * shows what the trainee saw against the truth. One extra synthesis per injection. */
static void snapshot(trainer *t, trainer_snapshot *s)
{
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    session_scene(t->s, &scene, dyn);
    bmode_image img;
    char err[256];
    if (bmode_render(t->bm, &scene, &img, err, sizeof err) != 0)
        return;
    size_t n = (size_t)img.rows * (size_t)img.cols;
    s->pixels = malloc(n);
    if (!s->pixels)
        return;
    memcpy(s->pixels, img.pixels, n);
    s->rows = img.rows, s->cols = img.cols;
    s->dz_mm = img.dz_mm, s->dx_mm = img.dx_mm;
    s->x0_mm = img.x0_mm, s->z0_mm = img.z0_mm;
    s->tip_ok = session_tip_image(t->s, s->tip_img_mm);
}

bool trainer_do(trainer *t, const action *a, char *err, size_t n)
{
    if (!t->s) {
        snprintf(err, n, "no session");
        return false;
    }
    action b = *a;
    if (b.t_s < session_time_s(t->s))
        b.t_s = session_time_s(t->s);
    if (!session_apply(t->s, &b, err, n))
        return false;
    if (t->log) {
        char line[ACTIONS_MAX_LINE];
        action_format(&b, line, sizeof line);
        fprintf(t->log, "%s\n", line);
        fflush(t->log);
    }
    if (b.verb == ACT_INJECT && t->n_snaps < SESSION_MAX_INJECTIONS)
        snapshot(t, &t->snaps[t->n_snaps++]);
    return true;
}

static action make_action(action_verb v, double t_s)
{
    action a;
    memset(&a, 0, sizeof a);
    a.verb = v;
    a.t_s = t_s;
    return a;
}

static void set_key(action *a, action_key k, double v)
{
    a->v[k] = v;
    a->has |= 1u << k;
}

void trainer_end_session(trainer *t, double t_s)
{
    if (!t->s)
        return;
    char err[256];
    action a = make_action(ACT_END, t_s);
    if (!trainer_do(t, &a, err, sizeof err))
        fprintf(stderr, "mesosim: end: %s\n", err);
    session_finish(t->s);
    t->result = session_score(t->s);
    if (t->log) {
        fclose(t->log);
        t->log = NULL;
    }
    if (t->report_path[0]) {
        char *text = session_report_json(t->s, NULL);
        FILE *f = text ? fopen(t->report_path, "w") : NULL;
        if (f) {
            fprintf(f, "%s\n", text);
            fclose(f);
        } else {
            fprintf(stderr, "mesosim: cannot write the report %s\n", t->report_path);
            t->report_path[0] = '\0';
        }
        free(text);
    }
    for (int i = 0; i < t->n_snaps; i++)
        if (t->snaps[i].pixels)
            image_tex_upload(&t->snaps[i].tex, t->snaps[i].pixels, t->snaps[i].cols, t->snaps[i].rows);
    t->screen = SCREEN_DEBRIEF;
}

/* ---- scan screen controls -------------------------------------------------------------- */

static void do_or_say(trainer *t, action *a)
{
    char err[256];
    if (!trainer_do(t, a, err, sizeof err))
        trainer_say(t, 0xffb0a0ff, "%s: %s", action_verb_name(a->verb), err);
}

static double clampd(double v, double lo, double hi) { return v < lo ? lo : v > hi ? hi : v; }

static void probe_controls(trainer *t, const controls *c)
{
    probe_pose p = session_pose(t->s);
    probe_def d = session_probe(t->s);
    const phantom_def *ph = phantom_get_def(session_anatomy(t->s));
    double lim_x = 0.5 * ph->width_mm - 0.5 * probe_fov_mm(&d) - 1.0, lim_y = 0.5 * ph->length_mm - 4.0;
    /* Slides follow the probe's own axes, so "right" is along the image after a rotation. */
    double r = p.rot_deg * PI / 180.0;
    double dx = c->probe_dx_mm * cos(r) - c->probe_dy_mm * sin(r);
    double dy = c->probe_dx_mm * sin(r) + c->probe_dy_mm * cos(r);
    action a = make_action(ACT_PROBE, t->t);
    double x = clampd(p.x_mm + dx, -fmax(lim_x, 0), fmax(lim_x, 0));
    double y = clampd(p.y_mm + dy, -lim_y, lim_y);
    if (x != p.x_mm)
        set_key(&a, AK_X, x);
    if (y != p.y_mm)
        set_key(&a, AK_Y, y);
    if (c->probe_drot_deg != 0) {
        double rot = fmod(p.rot_deg + c->probe_drot_deg, 360.0);
        set_key(&a, AK_ROT, rot > 180 ? rot - 360 : rot < -180 ? rot + 360 : rot);
    }
    if (c->probe_dtilt_deg != 0)
        set_key(&a, AK_TILT, clampd(p.tilt_deg + c->probe_dtilt_deg, -30, 30));
    if (c->probe_drock_deg != 0)
        set_key(&a, AK_ROCK, clampd(p.rock_deg + c->probe_drock_deg, -30, 30));
    if (c->probe_dpressure_n != 0)
        set_key(&a, AK_PRESSURE, clampd(p.pressure_n + c->probe_dpressure_n, 0, 20));
    double steps_depth = c->depth_steps + (c->pressed[BTN_DEPTH_UP] ? 1 : 0) - (c->pressed[BTN_DEPTH_DOWN] ? 1 : 0);
    if (steps_depth != 0)
        set_key(&a, AK_DEPTH, clampd(round(d.depth_mm + steps_depth), 5, 40));
    if (c->pressed[BTN_FREQ_UP] || c->pressed[BTN_FREQ_DOWN])
        set_key(&a, AK_FREQ, clampd(d.freq_mhz + (c->pressed[BTN_FREQ_UP] ? 1 : -1), 10, 22));
    if (c->pressed[BTN_GAIN_UP] || c->pressed[BTN_GAIN_DOWN])
        set_key(&a, AK_GAIN, clampd(d.gain_db + (c->pressed[BTN_GAIN_UP] ? 2 : -2), -40, 60));
    if (c->pressed[BTN_DR_UP] || c->pressed[BTN_DR_DOWN])
        set_key(&a, AK_DR, clampd(d.dynamic_range_db + (c->pressed[BTN_DR_UP] ? 5 : -5), 20, 100));
    /* TGC: the slope of depth gain, in steps of 0.1 dB/cm/MHz (0: none, raw attenuation). */
    if (c->pressed[BTN_TGC_UP] || c->pressed[BTN_TGC_DOWN])
        set_key(&a, AK_TGC, clampd(round(10.0 * d.tgc_db_cm_mhz + (c->pressed[BTN_TGC_UP] ? 1 : -1)) / 10.0, 0, 5));
    /* Only what changed goes into the log; an unchanged clamp is no action at all. */
    bool changed = false;
    for (int k = 0; k < AK_COUNT; k++) {
        if (!action_has(&a, (action_key)k))
            continue;
        double old = k == AK_X ? p.x_mm : k == AK_Y ? p.y_mm : k == AK_ROT ? p.rot_deg
                   : k == AK_TILT ? p.tilt_deg : k == AK_ROCK ? p.rock_deg
                   : k == AK_PRESSURE ? p.pressure_n : k == AK_DEPTH ? d.depth_mm
                   : k == AK_FREQ ? d.freq_mhz : k == AK_GAIN ? d.gain_db
                   : k == AK_TGC ? d.tgc_db_cm_mhz : d.dynamic_range_db;
        if (a.v[k] != old)
            changed = true;
        else
            a.has &= ~(1u << k);
    }
    if (changed)
        do_or_say(t, &a);
}

/* Out-of-plane entry: aim_dist_mm from the image plane on the probe's -elevation side,
 * pointing across the plane, at the image centre line. */
static void needle_entry(trainer *t)
{
    probe_pose p = session_pose(t->s);
    double r = p.rot_deg * PI / 180.0;
    double vx = -sin(r), vy = cos(r);
    action a = make_action(ACT_NEEDLE_ENTRY, t->t);
    set_key(&a, AK_X, p.x_mm - t->aim_dist_mm * vx);
    set_key(&a, AK_Y, p.y_mm - t->aim_dist_mm * vy);
    set_key(&a, AK_ANGLE, t->aim_angle_deg);
    double az = 90.0 + p.rot_deg;
    set_key(&a, AK_AZIMUTH, az > 360 ? az - 360 : az < -360 ? az + 360 : az);
    do_or_say(t, &a);
}

static void needle_controls(trainer *t, const controls *c, double dt)
{
    const needle *nd = session_needle(t->s);
    bool placed = needle_placed(nd);
    if (c->pressed[BTN_NEEDLE_ENTRY]) {
        if (placed)
            trainer_say(t, 0xffd080ff, "The needle is already on the skin: withdraw it (X) first.");
        else
            needle_entry(t);
    }
    if (c->pressed[BTN_ANGLE_UP] || c->pressed[BTN_ANGLE_DOWN]) {
        double ang = clampd((placed ? needle_angle_deg(nd) : t->aim_angle_deg) +
                                (c->pressed[BTN_ANGLE_UP] ? 2.0 : -2.0), 5, 85);
        if (placed && needle_in_skin(nd)) {
            action a = make_action(ACT_REDIRECT, t->t);
            set_key(&a, AK_ANGLE, ang);
            set_key(&a, AK_AZIMUTH, needle_azimuth_deg(nd));
            do_or_say(t, &a);
        }
        t->aim_angle_deg = ang;
    }
    if (!placed && (c->pressed[BTN_ENTRY_NEARER] || c->pressed[BTN_ENTRY_FARTHER]))
        t->aim_dist_mm = clampd(t->aim_dist_mm + (c->pressed[BTN_ENTRY_FARTHER] ? 0.5 : -0.5), 0.5, 10);
    t->needle_speed_mm_s = c->needle_speed_mm_s;
    double mm = c->needle_speed_mm_s * dt;
    if (placed && fabs(mm) > 1e-6) {
        action a = make_action(mm > 0 ? ACT_ADVANCE : ACT_RETRACT, t->t);
        set_key(&a, AK_MM, fmin(fabs(mm), 2.0));
        do_or_say(t, &a);
    }
    if (c->pressed[BTN_NEEDLE_WITHDRAW] && placed) {
        action a = make_action(ACT_WITHDRAW, t->t);
        do_or_say(t, &a);
    }
    if (c->pressed[BTN_INJECT]) {
        if (session_injecting(t->s, NULL)) {
            trainer_say(t, 0xffd080ff, "Injection under way.");
        } else {
            action a = make_action(ACT_INJECT, t->t);
            set_key(&a, AK_ML, t->sc.drug.volume_ml);
            set_key(&a, AK_RATE, t->sc.drug.rate_ml_s);
            do_or_say(t, &a);
        }
    }
}

/* The declared steps of the case report, in order; C ticks the next one not yet done. */
static void tick_step(trainer *t)
{
    const score_session *m = session_metrics(t->s);
    static const score_step k_order[] = {STEP_POSITIONING, STEP_DISINFECTION, STEP_STERILE_FIELD,
                                         STEP_DRESSING};
    for (size_t i = 0; i < sizeof k_order / sizeof k_order[0]; i++) {
        score_step s = k_order[i];
        if (m->step_done[s])
            continue;
        action a = make_action(ACT_STEP, t->t);
        snprintf(a.name, sizeof a.name, "%s", score_step_name(s));
        if (s == STEP_DISINFECTION)
            a.skin_check = a.has_skin_check = true;
        char err[256];
        if (trainer_do(t, &a, err, sizeof err))
            trainer_say(t, 0xb0ffb0ff, "Done: %s", score_step_name(s));
        else
            trainer_say(t, 0xffb0a0ff, "step: %s", err);
        return;
    }
    trainer_say(t, 0xffd080ff, "All declared steps are done; End closes the session.");
}

static void mark_controls(trainer *t, const controls *c)
{
    if (c->pressed[BTN_MARK_DERMIS]) {
        t->mark_stage = t->mark_stage ? 0 : 1;
        if (t->mark_stage)
            trainer_say(t, 0xc8e6ffff, "Click the top of the dermis in the image, then its bottom.");
    }
    if (!t->mark_stage || !c->clicked)
        return;
    const trainer_image_rect *r = &t->ir;
    if (c->click_x < r->x || c->click_x > r->x + r->w || c->click_y < r->y || c->click_y > r->y + r->h)
        return;
    double z = r->z0_mm + (c->click_y - r->y) / r->h * r->rows * r->dz_mm;
    if (t->mark_stage == 1) {
        t->mark_top_mm = z;
        t->mark_stage = 2;
        return;
    }
    action a = make_action(ACT_MARK_DERMIS, t->t);
    set_key(&a, AK_TOP, clampd(fmin(t->mark_top_mm, z), 0, 20));
    set_key(&a, AK_BOTTOM, clampd(fmax(t->mark_top_mm, z), 0, 20));
    char err[256];
    if (trainer_do(t, &a, err, sizeof err))
        trainer_say(t, 0xb0ffb0ff, "Dermis marked %.2f-%.2f mm.", a.v[AK_TOP], a.v[AK_BOTTOM]);
    else
        trainer_say(t, 0xffb0a0ff, "mark: %s", err);
    t->mark_stage = 0;
}

/* Pops, hub stops, verdicts and adverse events, as they happen. */
static void feedback(trainer *t)
{
    const score_session *m = session_metrics(t->s);
    if (m->pops > t->seen_pops)
        trainer_say(t, 0xffffffff, "Pop: the tip broke into the %s.",
                    tissue_name(needle_tissue_at(session_needle(t->s), needle_inserted_mm(session_needle(t->s)), NULL, NULL)));
    if (m->hub_stops > t->seen_hubs)
        trainer_say(t, 0xffd080ff, "Hub on the skin: the needle is fully inserted.");
    for (int i = t->seen_done; i < m->n_inj; i++) {
        const score_injection *in = &m->inj[i];
        trainer_say(t, in->verdict == VERDICT_INTRADERMAL ? 0x90ff90ff : 0xffa080ff,
                    "Injection %d: %s, tip %.2f mm deep%s", i + 1, score_verdict_name(in->verdict),
                    in->tip_depth_mm, in->tip_in_slice ? "" : ", tip NOT in the image slice");
    }
    for (int i = t->seen_events; i < m->n_events; i++)
        trainer_say(t, 0xff8080ff, "Adverse event: %s", score_adverse_name(m->events[i].kind));
    t->seen_pops = m->pops;
    t->seen_hubs = m->hub_stops;
    t->seen_done = m->n_inj;
    t->seen_events = m->n_events;
}

static void scan_controls(trainer *t, const controls *c, double dt)
{
    if (c->pressed[BTN_TOGGLE_3D]) {
        t->show_view = !t->show_view;
        screens_layout(t);
    }
    if (c->orbit_dyaw_deg != 0 || c->orbit_dpitch_deg != 0 || c->zoom_factor != 1.0f)
        outside_camera_orbit(&t->cam, c->orbit_dyaw_deg, c->orbit_dpitch_deg, c->zoom_factor);
    probe_controls(t, c);
    needle_controls(t, c, dt);
    if (c->pressed[BTN_STEP])
        tick_step(t);
    mark_controls(t, c);
    if (c->pressed[BTN_END_SESSION])
        trainer_end_session(t, t->t);
}

static void menu_controls(trainer *t, const controls *c)
{
    char err[2048];
    if (t->screen == SCREEN_PICKER) {
        if (t->n_cases == 0)
            return;
        if (c->pressed[BTN_MENU_UP])
            t->sel = (t->sel + t->n_cases - 1) % t->n_cases;
        if (c->pressed[BTN_MENU_DOWN])
            t->sel = (t->sel + 1) % t->n_cases;
        bool open = c->pressed[BTN_CONFIRM];
        if (c->clicked) {
            int hit = screens_picker_hit(t, c->click_x, c->click_y);
            if (hit >= 0) {
                open = hit == t->sel;
                t->sel = hit;
            }
        }
        if (open) {
            trainer_case *k = &t->cases[t->sel];
            if (!k->ok)
                return;
            if (!trainer_open_case(t, k->path, err, sizeof err)) {
                k->ok = false;
                if (snprintf(k->error, sizeof k->error, "%s", err) >= (int)sizeof k->error)
                    fprintf(stderr, "%s\n", err); /* the whole list, where the screen has no room */
            }
        }
    } else if (t->screen == SCREEN_BRIEFING) {
        if (c->pressed[BTN_CONFIRM] || c->clicked) {
            if (!trainer_begin_scan(t, err, sizeof err))
                fprintf(stderr, "mesosim: %s: %s\n", t->case_path, err);
        } else if (c->pressed[BTN_BACK]) {
            scan_cases(t);
            t->screen = SCREEN_PICKER;
        }
    } else if (t->screen == SCREEN_DEBRIEF) {
        if (c->pressed[BTN_CONFIRM]) {
            scan_cases(t);
            t->screen = SCREEN_PICKER;
        }
    }
}

/* ---- frames ---------------------------------------------------------------------------- */

static void synthesise(trainer *t)
{
    phantom_inclusion dyn[BMODE_MAX_DYN];
    bmode_scene scene;
    session_scene(t->s, &scene, dyn);
    char err[256];
    if (bmode_render(t->bm, &scene, &t->img, err, sizeof err) != 0) {
        trainer_say(t, 0xff8080ff, "B-mode: %s", err);
        return;
    }
    t->have_img = true;
    image_tex_upload(&t->live, t->img.pixels, t->img.cols, t->img.rows);
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
    if (t->screen == SCREEN_SCAN && t->s) {
        t->prev_t = t->t;
        t->t = fmax(t_s, session_time_s(t->s));
        session_advance_to(t->s, t->t);
        scan_controls(t, c, t->t - t->prev_t);
    } else {
        t->t = t_s;
        menu_controls(t, c);
    }
    if (t->screen == SCREEN_SCAN && t->s) {
        feedback(t);
        synthesise(t);
        screens_layout(t);
    }
    glViewport(0, 0, t->fb_w, t->fb_h);
    glClearColor(0.06f, 0.07f, 0.09f, 1.0f);
    /* Only the outside view tests depth, and it clears its own rectangle: no full-screen
     * depth clear (a whole pass on a software rasteriser). */
    glClear(GL_COLOR_BUFFER_BIT);
    screens_draw(t);

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

void trainer_image_rect_get(const trainer *t, trainer_image_rect *out) { *out = t->ir; }
void trainer_view_rect(const trainer *t, float out[4]) { memcpy(out, t->view, sizeof t->view); }
trainer_screen trainer_get_screen(const trainer *t) { return t->screen; }
session *trainer_session(trainer *t) { return t->s; }
const char *trainer_log_path(const trainer *t) { return t->log_path; }

void trainer_show_outside_view(trainer *t, bool on)
{
    t->show_view = on;
    screens_layout(t);
}

void trainer_show_help(trainer *t, bool on) { t->show_help = on; }

int trainer_gl_errors(trainer *t, char *err, size_t n)
{
    int k = t->gl_errors + gl_errors("trainer", NULL, 0);
    if (err && n)
        snprintf(err, n, "%s", t->gl_err);
    t->gl_errors = 0;
    t->gl_err[0] = '\0';
    return k;
}

int trainer_run(trainer *t, const char *start_scenario)
{
    scan_cases(t);
    char err[2048];
    if (start_scenario && !trainer_open_case(t, start_scenario, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    if (!start_scenario && t->n_cases == 0)
        fprintf(stderr, "mesosim: no scenarios found (looked for scenarios/*.json beside the program)\n");
    Uint64 freq = SDL_GetPerformanceFrequency(), t0 = SDL_GetPerformanceCounter(), last = t0;
    double scan_t0 = 0;
    trainer_screen prev_screen = t->screen;
    controls c = {.zoom_factor = 1.0f};
    while (!t->quit) {
        controls_layout l = {.image_x = t->ir.x, .image_y = t->ir.y, .image_w = t->ir.w,
                             .image_h = t->ir.h, .view_x = t->view[0], .view_y = t->view[1],
                             .view_w = t->view[2], .view_h = t->view[3], .px_per_point = t->scale,
                             .mm_per_px = t->ir.w > 0 ? t->ir.cols * t->ir.dx_mm / t->ir.w : 0};
        /* Points are window coordinates; the layout scale is framebuffer px per point. */
        l.px_per_point = t->win_w > 0 ? (float)t->fb_w / (float)t->win_w : 1.0f;
        controls_set_layout(t->cs, &l);
        controls_begin(t->cs, &c);
        SDL_Event e;
        while (SDL_PollEvent(&e))
            controls_event(t->cs, &e, &c);
        Uint64 now = SDL_GetPerformanceCounter();
        double dt = (double)(now - last) / (double)freq;
        last = now;
        controls_end(t->cs, dt, &c);
        if (c.quit || (c.pressed[BTN_BACK] && (t->screen == SCREEN_PICKER || t->screen == SCREEN_DEBRIEF))) {
            if (t->screen == SCREEN_SCAN)
                trainer_end_session(t, (double)(now - t0) / (double)freq - scan_t0);
            break;
        }
        if (c.context_lost) {
            fprintf(stderr, "mesosim: the OpenGL context was lost; the session log %s holds everything "
                            "up to now (replay it with mesosim run)\n", t->log_path[0] ? t->log_path : "(none)");
            return 1;
        }
        if (c.minimized) {
            /* Nothing to draw; keep the session clock running but sleep. */
            SDL_Delay(50);
            if (t->screen == SCREEN_SCAN && t->s)
                session_advance_to(t->s, (double)(now - t0) / (double)freq - scan_t0);
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
        if (SDL_GL_GetCurrentContext() != t->gl) {
            fprintf(stderr, "mesosim: the OpenGL context is gone; the session log %s holds everything "
                            "up to now\n", t->log_path[0] ? t->log_path : "(none)");
            return 1;
        }
    }
    return 0;
}
