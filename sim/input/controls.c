/* controls: SDL keyboard and mouse to intents; the bindings file. */
#include "controls.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct binding_row {
    const char *name;
    const char *keys; /* defaults, comma separated SDL scancode names */
} binding_row;

static const binding_row k_axes[AXIS_COUNT] = {
    [AXIS_PROBE_LEFT] = {"probe_left", "Left"},
    [AXIS_PROBE_RIGHT] = {"probe_right", "Right"},
    [AXIS_PROBE_FORWARD] = {"probe_forward", "Up"},
    [AXIS_PROBE_BACK] = {"probe_back", "Down"},
    [AXIS_ROTATE_CCW] = {"probe_rotate_ccw", "Q"},
    [AXIS_ROTATE_CW] = {"probe_rotate_cw", "E"},
    [AXIS_TILT_DOWN] = {"probe_tilt_down", "S"},
    [AXIS_TILT_UP] = {"probe_tilt_up", "W"},
    [AXIS_ROCK_LEFT] = {"probe_rock_left", "A"},
    [AXIS_ROCK_RIGHT] = {"probe_rock_right", "D"},
    [AXIS_PRESS_MORE] = {"probe_press_more", "PageDown"},
    [AXIS_PRESS_LESS] = {"probe_press_less", "PageUp"},
    [AXIS_NEEDLE_ADVANCE] = {"needle_advance", "Space"},
    [AXIS_NEEDLE_RETRACT] = {"needle_retract", "Backspace, B"},
};

static const binding_row k_buttons[BTN_COUNT] = {
    [BTN_NEEDLE_ENTRY] = {"needle_entry", "N"},
    [BTN_NEEDLE_WITHDRAW] = {"needle_withdraw", "X"},
    [BTN_INJECT] = {"inject", "I"},
    [BTN_ANGLE_UP] = {"needle_angle_up", "R"},
    [BTN_ANGLE_DOWN] = {"needle_angle_down", "F"},
    [BTN_ENTRY_NEARER] = {"entry_nearer", "U"},
    [BTN_ENTRY_FARTHER] = {"entry_farther", "O"},
    [BTN_STEP] = {"tick_step", "C"},
    [BTN_MARK_DERMIS] = {"mark_dermis", "M"},
    [BTN_FREQ_UP] = {"freq_up", "]"},
    [BTN_FREQ_DOWN] = {"freq_down", "["},
    [BTN_DEPTH_UP] = {"depth_deeper", "."},
    [BTN_DEPTH_DOWN] = {"depth_shallower", ","},
    [BTN_GAIN_UP] = {"gain_up", "=, Keypad +"},
    [BTN_GAIN_DOWN] = {"gain_down", "-, Keypad -"},
    [BTN_DR_UP] = {"dynamic_range_up", "0"},
    [BTN_DR_DOWN] = {"dynamic_range_down", "9"},
    [BTN_TGC_UP] = {"tgc_up", "T"},
    [BTN_TGC_DOWN] = {"tgc_down", "G"},
    [BTN_TOGGLE_3D] = {"toggle_outside_view", "V"},
    [BTN_HELP] = {"help", "F1, H"},
    [BTN_CONFIRM] = {"confirm", "Return, Keypad Enter"},
    [BTN_BACK] = {"back", "Escape"},
    [BTN_END_SESSION] = {"end_session", "End, F10"},
    [BTN_MENU_UP] = {"menu_up", "Up"},
    [BTN_MENU_DOWN] = {"menu_down", "Down"},
};

/* One-shot buttons ignore the keyboard's auto-repeat: holding the inject key injects once. */
static const bool k_repeats[BTN_COUNT] = {
    [BTN_ANGLE_UP] = true, [BTN_ANGLE_DOWN] = true, [BTN_ENTRY_NEARER] = true,
    [BTN_ENTRY_FARTHER] = true, [BTN_FREQ_UP] = true, [BTN_FREQ_DOWN] = true,
    [BTN_DEPTH_UP] = true, [BTN_DEPTH_DOWN] = true, [BTN_GAIN_UP] = true,
    [BTN_GAIN_DOWN] = true, [BTN_DR_UP] = true, [BTN_DR_DOWN] = true, [BTN_TGC_UP] = true, [BTN_TGC_DOWN] = true,
    [BTN_MENU_UP] = true, [BTN_MENU_DOWN] = true,
};

typedef enum drag_kind { DRAG_NONE = 0, DRAG_IMAGE, DRAG_VIEW } drag_kind;

struct controls_state {
    SDL_Scancode axis_keys[AXIS_COUNT][CONTROLS_MAX_KEYS];
    SDL_Scancode button_keys[BTN_COUNT][CONTROLS_MAX_KEYS];
    char path[1024];
    controls_layout layout;
    drag_kind drag;
    double advance_held_s, retract_held_s;
    bool minimized;
};

const char *controls_axis_name(ctl_axis a) { return k_axes[a].name; }
const char *controls_button_name(ctl_button b) { return k_buttons[b].name; }

/* Parses "A, Keypad +" into scancodes; false on an unknown name (named in err). */
static bool parse_keys(const char *text, SDL_Scancode out[CONTROLS_MAX_KEYS], char *err, size_t n)
{
    SDL_Scancode keys[CONTROLS_MAX_KEYS] = {SDL_SCANCODE_UNKNOWN};
    int count = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", text);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ' || *tok == '\t')
            tok++;
        size_t len = strlen(tok);
        while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t' || tok[len - 1] == '\r'))
            tok[--len] = '\0';
        if (!len)
            continue;
        SDL_Scancode sc = SDL_GetScancodeFromName(tok);
        if (sc == SDL_SCANCODE_UNKNOWN) {
            snprintf(err, n, "unknown key name '%s' (names as SDL_GetScancodeName gives them)", tok);
            return false;
        }
        if (count == CONTROLS_MAX_KEYS) {
            snprintf(err, n, "at most %d keys per binding", CONTROLS_MAX_KEYS);
            return false;
        }
        keys[count++] = sc;
    }
    memcpy(out, keys, sizeof keys);
    return true;
}

static void set_defaults(controls_state *cs)
{
    char err[128];
    for (int a = 0; a < AXIS_COUNT; a++)
        parse_keys(k_axes[a].keys, cs->axis_keys[a], err, sizeof err);
    for (int b = 0; b < BTN_COUNT; b++)
        parse_keys(k_buttons[b].keys, cs->button_keys[b], err, sizeof err);
}

static void keys_text(const SDL_Scancode keys[CONTROLS_MAX_KEYS], char *buf, size_t len)
{
    buf[0] = '\0';
    size_t used = 0;
    for (int k = 0; k < CONTROLS_MAX_KEYS && keys[k] != SDL_SCANCODE_UNKNOWN; k++) {
        int w = snprintf(buf + used, len - used, "%s%s", k ? ", " : "", SDL_GetScancodeName(keys[k]));
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

void controls_axis_keys(const controls_state *cs, ctl_axis a, char *buf, size_t len)
{
    keys_text(cs->axis_keys[a], buf, len);
}

void controls_button_keys(const controls_state *cs, ctl_button b, char *buf, size_t len)
{
    keys_text(cs->button_keys[b], buf, len);
}

static void default_path(char *out, size_t len)
{
    const char *xdg = getenv("XDG_CONFIG_HOME");
    const char *home = getenv("HOME");
    if (xdg && xdg[0] == '/')
        snprintf(out, len, "%s/mesosim/bindings.conf", xdg);
    else
        snprintf(out, len, "%s/.config/mesosim/bindings.conf", home && *home ? home : ".");
}

/* mkdir -p of the directory holding path. */
static void make_parent_dirs(const char *path)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return;
    *slash = '\0';
    for (char *p = dir + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            mkdir(dir, 0755);
            *p = '/';
        }
    mkdir(dir, 0755);
}

static void write_defaults(const char *path)
{
    make_parent_dirs(path);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "mesosim: cannot write the default key bindings to %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f, "# mesosim key bindings: NAME = KEY[, KEY...] (up to %d keys).\n"
               "# Key names as SDL writes them: Left, Space, Return, Keypad +, F1, A ...\n"
               "# Delete this file to get the defaults back. The mouse is not bound here:\n"
               "# drag on the image slides the probe, Ctrl+drag rotates, Shift+drag tilts and rocks,\n"
               "# the wheel sets the depth; drag or wheel over the outside view orbits and zooms.\n\n",
            CONTROLS_MAX_KEYS);
    for (int a = 0; a < AXIS_COUNT; a++)
        fprintf(f, "%s = %s\n", k_axes[a].name, k_axes[a].keys);
    for (int b = 0; b < BTN_COUNT; b++)
        fprintf(f, "%s = %s\n", k_buttons[b].name, k_buttons[b].keys);
    fclose(f);
}

/* Returns the number of bad lines. */
static int load_file(controls_state *cs, FILE *f)
{
    int bad = 0;
    char line[512];
    for (int ln = 1; fgets(line, sizeof line, f); ln++) {
        char *s = line;
        while (*s == ' ' || *s == '\t')
            s++;
        if (*s == '#' || *s == '\n' || *s == '\r' || *s == '\0')
            continue;
        line[strcspn(line, "\n")] = '\0';
        char *eq = strchr(s, '=');
        /* "gain_up = =" has the key '=' after the separator: split at the first '='. */
        if (!eq) {
            fprintf(stderr, "%s:%d: expected NAME = KEYS\n", cs->path, ln);
            bad++;
            continue;
        }
        *eq = '\0';
        char *name = s, *end = eq;
        while (end > name && (end[-1] == ' ' || end[-1] == '\t'))
            *--end = '\0';
        char err[160];
        SDL_Scancode *dst = NULL;
        for (int a = 0; a < AXIS_COUNT && !dst; a++)
            if (!strcmp(name, k_axes[a].name))
                dst = cs->axis_keys[a];
        for (int b = 0; b < BTN_COUNT && !dst; b++)
            if (!strcmp(name, k_buttons[b].name))
                dst = cs->button_keys[b];
        if (!dst) {
            fprintf(stderr, "%s:%d: unknown binding '%s' (kept the defaults)\n", cs->path, ln, name);
            bad++;
        } else if (!parse_keys(eq + 1, dst, err, sizeof err)) {
            fprintf(stderr, "%s:%d: %s: %s (kept the default)\n", cs->path, ln, name, err);
            bad++;
        }
    }
    return bad;
}

int controls_parse_bindings(controls_state *cs, const char *text, size_t len)
{
    if (len == 0)
        return 0;
    FILE *f = fmemopen((void *)text, len, "r");
    if (!f)
        return 1;
    int bad = load_file(cs, f);
    fclose(f);
    return bad;
}

controls_state *controls_create(const char *bindings_path)
{
    controls_state *cs = calloc(1, sizeof *cs);
    if (!cs)
        return NULL;
    set_defaults(cs);
    if (bindings_path)
        snprintf(cs->path, sizeof cs->path, "%s", bindings_path);
    else
        default_path(cs->path, sizeof cs->path);
    FILE *f = fopen(cs->path, "r");
    if (f) {
        load_file(cs, f);
        fclose(f);
    } else if (errno == ENOENT) {
        write_defaults(cs->path);
    } else {
        fprintf(stderr, "mesosim: cannot read %s: %s (using the default keys)\n", cs->path, strerror(errno));
    }
    cs->layout.px_per_point = 1.0f;
    return cs;
}

void controls_destroy(controls_state *cs) { free(cs); }

const char *controls_bindings_path(const controls_state *cs) { return cs->path; }

void controls_set_layout(controls_state *cs, const controls_layout *l) { cs->layout = *l; }

void controls_begin(controls_state *cs, controls *out)
{
    float px = out->pointer_x, py = out->pointer_y;
    memset(out, 0, sizeof *out);
    out->pointer_x = px;
    out->pointer_y = py;
    out->zoom_factor = 1.0f;
    out->minimized = cs->minimized;
}

static bool in_rect(float x, float y, float rx, float ry, float rw, float rh)
{
    return rw > 0 && x >= rx && y >= ry && x < rx + rw && y < ry + rh;
}

static bool key_in(const SDL_Scancode keys[CONTROLS_MAX_KEYS], SDL_Scancode sc)
{
    for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
        if (keys[k] == sc && sc != SDL_SCANCODE_UNKNOWN)
            return true;
    return false;
}

void controls_event(controls_state *cs, const SDL_Event *e, controls *out)
{
    const controls_layout *l = &cs->layout;
    float s = l->px_per_point > 0 ? l->px_per_point : 1.0f;
    switch (e->type) {
    case SDL_QUIT:
        out->quit = true;
        break;
    case SDL_WINDOWEVENT:
        switch (e->window.event) {
        case SDL_WINDOWEVENT_SIZE_CHANGED:
        case SDL_WINDOWEVENT_RESIZED:
        case SDL_WINDOWEVENT_DISPLAY_CHANGED:
            out->resized = true;
            break;
        case SDL_WINDOWEVENT_MINIMIZED:
        case SDL_WINDOWEVENT_HIDDEN:
            cs->minimized = true;
            break;
        case SDL_WINDOWEVENT_RESTORED:
        case SDL_WINDOWEVENT_SHOWN:
        case SDL_WINDOWEVENT_MAXIMIZED:
        case SDL_WINDOWEVENT_EXPOSED:
            cs->minimized = false;
            out->resized = true;
            break;
        default:
            break;
        }
        out->minimized = cs->minimized;
        break;
    case SDL_RENDER_DEVICE_RESET:
        out->context_lost = true;
        break;
    case SDL_KEYDOWN:
        for (int b = 0; b < BTN_COUNT; b++)
            if (key_in(cs->button_keys[b], e->key.keysym.scancode) && (!e->key.repeat || k_repeats[b]))
                out->pressed[b] = true;
        break;
    case SDL_MOUSEBUTTONDOWN: {
        float x = e->button.x * s, y = e->button.y * s;
        if (e->button.button == SDL_BUTTON_LEFT) {
            out->clicked = true;
            out->click_x = x;
            out->click_y = y;
            if (in_rect(x, y, l->view_x, l->view_y, l->view_w, l->view_h))
                cs->drag = DRAG_VIEW;
            else if (in_rect(x, y, l->image_x, l->image_y, l->image_w, l->image_h))
                cs->drag = DRAG_IMAGE;
        } else if (e->button.button == SDL_BUTTON_RIGHT) {
            cs->drag = DRAG_VIEW;
        }
        break;
    }
    case SDL_MOUSEBUTTONUP:
        cs->drag = DRAG_NONE;
        break;
    case SDL_MOUSEMOTION: {
        out->pointer_x = e->motion.x * s;
        out->pointer_y = e->motion.y * s;
        float dx = e->motion.xrel * s, dy = e->motion.yrel * s;
        SDL_Keymod mod = SDL_GetModState();
        if (cs->drag == DRAG_VIEW) {
            out->orbit_dyaw_deg += 0.4f * dx;
            out->orbit_dpitch_deg += 0.4f * dy;
        } else if (cs->drag == DRAG_IMAGE) {
            if (mod & KMOD_CTRL) {
                out->probe_drot_deg += 0.25 * dx;
            } else if (mod & KMOD_SHIFT) {
                out->probe_dtilt_deg += -0.08 * dy;
                out->probe_drock_deg += 0.08 * dx;
            } else {
                /* Grab-the-probe: the probe follows the hand, mm for mm of image. */
                out->probe_dx_mm += dx * l->mm_per_px;
                out->probe_dy_mm += -dy * l->mm_per_px;
            }
        }
        break;
    }
    case SDL_MOUSEWHEEL: {
        float y = e->wheel.preciseY;
        if (e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED)
            y = -y;
        if (in_rect(out->pointer_x, out->pointer_y, l->view_x, l->view_y, l->view_w, l->view_h))
            out->zoom_factor *= powf(0.9f, y);
        else
            out->depth_steps -= y;
        break;
    }
    default:
        break;
    }
}

static double held(const Uint8 *ks, const SDL_Scancode keys[CONTROLS_MAX_KEYS])
{
    for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
        if (keys[k] != SDL_SCANCODE_UNKNOWN && ks[keys[k]])
            return 1.0;
    return 0.0;
}

void controls_end(controls_state *cs, double dt_s, controls *out)
{
    const Uint8 *ks = SDL_GetKeyboardState(NULL);
    SDL_Scancode(*k)[CONTROLS_MAX_KEYS] = cs->axis_keys;
    out->probe_dx_mm += CONTROLS_PROBE_MM_S * dt_s * (held(ks, k[AXIS_PROBE_RIGHT]) - held(ks, k[AXIS_PROBE_LEFT]));
    out->probe_dy_mm += CONTROLS_PROBE_MM_S * dt_s * (held(ks, k[AXIS_PROBE_FORWARD]) - held(ks, k[AXIS_PROBE_BACK]));
    out->probe_drot_deg += CONTROLS_ROTATE_DEG_S * dt_s * (held(ks, k[AXIS_ROTATE_CW]) - held(ks, k[AXIS_ROTATE_CCW]));
    out->probe_dtilt_deg += CONTROLS_TILT_DEG_S * dt_s * (held(ks, k[AXIS_TILT_UP]) - held(ks, k[AXIS_TILT_DOWN]));
    out->probe_drock_deg += CONTROLS_TILT_DEG_S * dt_s * (held(ks, k[AXIS_ROCK_RIGHT]) - held(ks, k[AXIS_ROCK_LEFT]));
    out->probe_dpressure_n += CONTROLS_PRESSURE_N_S * dt_s * (held(ks, k[AXIS_PRESS_MORE]) - held(ks, k[AXIS_PRESS_LESS]));
    bool adv = held(ks, k[AXIS_NEEDLE_ADVANCE]) > 0, ret = held(ks, k[AXIS_NEEDLE_RETRACT]) > 0;
    cs->advance_held_s = adv && !ret ? cs->advance_held_s + dt_s : 0.0;
    cs->retract_held_s = ret && !adv ? cs->retract_held_s + dt_s : 0.0;
    double ramp_a = fmin(cs->advance_held_s / CONTROLS_NEEDLE_RAMP_S, 1.0);
    double ramp_r = fmin(cs->retract_held_s / CONTROLS_NEEDLE_RAMP_S, 1.0);
    const double span = CONTROLS_NEEDLE_MAX_MM_S - CONTROLS_NEEDLE_MIN_MM_S;
    if (cs->advance_held_s > 0)
        out->needle_speed_mm_s = CONTROLS_NEEDLE_MIN_MM_S + span * ramp_a;
    else if (cs->retract_held_s > 0)
        out->needle_speed_mm_s = -(CONTROLS_NEEDLE_MIN_MM_S + span * ramp_r);
}
