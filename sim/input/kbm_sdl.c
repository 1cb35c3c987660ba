/* kbm_sdl: SDL keyboard and mouse events to a controls value. */
#include "kbm_sdl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One-shot buttons ignore the keyboard's auto-repeat: holding the inject key injects once. */
static const bool k_repeats[BTN_COUNT] = {
    [BTN_ANGLE_UP] = true, [BTN_ANGLE_DOWN] = true, [BTN_ENTRY_NEARER] = true,
    [BTN_ENTRY_FARTHER] = true, [BTN_FREQ_UP] = true, [BTN_FREQ_DOWN] = true,
    [BTN_DEPTH_UP] = true, [BTN_DEPTH_DOWN] = true, [BTN_GAIN_UP] = true,
    [BTN_GAIN_DOWN] = true, [BTN_DR_UP] = true, [BTN_DR_DOWN] = true, [BTN_TGC_UP] = true, [BTN_TGC_DOWN] = true,
    [BTN_MENU_UP] = true, [BTN_MENU_DOWN] = true, [BTN_SEEK_BACK] = true, [BTN_SEEK_FORWARD] = true,
    [BTN_VOLUME_DOWN] = true, [BTN_VOLUME_UP] = true,
};

typedef enum drag_kind { DRAG_NONE = 0, DRAG_IMAGE, DRAG_VIEW } drag_kind;

struct kbm_state {
    SDL_Scancode axis_keys[AXIS_COUNT][CONTROLS_MAX_KEYS];
    SDL_Scancode button_keys[BTN_COUNT][CONTROLS_MAX_KEYS];
    kbm_layout layout;
    drag_kind drag;
    double advance_held_s, retract_held_s;
    bool minimized;
    bool left_down;
};

/* The scancodes of a binding's names; false naming the first one SDL does not know. */
static bool resolve(char names[CONTROLS_MAX_KEYS][CONTROLS_KEY_NAME_LEN], SDL_Scancode out[CONTROLS_MAX_KEYS],
                    const char **bad)
{
    for (int k = 0; k < CONTROLS_MAX_KEYS; k++) {
        out[k] = SDL_SCANCODE_UNKNOWN;
        if (!names[k][0])
            continue;
        out[k] = SDL_GetScancodeFromName(names[k]);
        if (out[k] == SDL_SCANCODE_UNKNOWN) {
            *bad = names[k];
            return false;
        }
    }
    return true;
}

static void add_line(char *err, size_t n, const char *what, const char *name)
{
    if (!err || !n)
        return;
    size_t used = strnlen(err, n - 1);
    snprintf(err + used, n - used, "%s%s: unknown key name '%s' (names as SDL_GetScancodeName gives them; "
                                   "kept the default)", used ? "\n" : "", what, name);
}

kbm_state *kbm_create(controls_bindings *b, char *err, size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    kbm_state *k = calloc(1, sizeof *k);
    if (!k)
        return NULL;
    const char *bad = NULL;
    for (int a = 0; a < AXIS_COUNT; a++)
        if (!resolve(b->axis_keys[a], k->axis_keys[a], &bad)) {
            add_line(err, err_len, controls_axis_name((ctl_axis)a), bad);
            controls_axis_reset(b, (ctl_axis)a);
            resolve(b->axis_keys[a], k->axis_keys[a], &bad);
        }
    for (int i = 0; i < BTN_COUNT; i++)
        if (!resolve(b->button_keys[i], k->button_keys[i], &bad)) {
            add_line(err, err_len, controls_button_name((ctl_button)i), bad);
            controls_button_reset(b, (ctl_button)i);
            resolve(b->button_keys[i], k->button_keys[i], &bad);
        }
    k->layout.px_per_point = 1.0f;
    return k;
}

void kbm_destroy(kbm_state *k) { free(k); }

void kbm_set_layout(kbm_state *k, const kbm_layout *l) { k->layout = *l; }

void kbm_begin(kbm_state *k, controls *out)
{
    float px = out->pointer_x, py = out->pointer_y;
    memset(out, 0, sizeof *out);
    out->pointer_x = px;
    out->pointer_y = py;
    out->zoom_factor = 1.0f;
    out->minimized = k->minimized;
}

static bool in_rect(float x, float y, float rx, float ry, float rw, float rh)
{
    return rw > 0 && x >= rx && y >= ry && x < rx + rw && y < ry + rh;
}

static bool key_in(const SDL_Scancode keys[CONTROLS_MAX_KEYS], SDL_Scancode sc)
{
    for (int i = 0; i < CONTROLS_MAX_KEYS; i++)
        if (keys[i] == sc && sc != SDL_SCANCODE_UNKNOWN)
            return true;
    return false;
}

static void window_event(kbm_state *k, const SDL_WindowEvent *w, controls *out)
{
    switch (w->event) {
    case SDL_WINDOWEVENT_SIZE_CHANGED:
    case SDL_WINDOWEVENT_RESIZED:
    case SDL_WINDOWEVENT_DISPLAY_CHANGED:
        out->resized = true;
        break;
    case SDL_WINDOWEVENT_MINIMIZED:
    case SDL_WINDOWEVENT_HIDDEN:
        k->minimized = true;
        break;
    case SDL_WINDOWEVENT_RESTORED:
    case SDL_WINDOWEVENT_SHOWN:
    case SDL_WINDOWEVENT_MAXIMIZED:
    case SDL_WINDOWEVENT_EXPOSED:
        k->minimized = false;
        out->resized = true;
        break;
    default:
        break;
    }
    out->minimized = k->minimized;
}

static void mouse_motion(kbm_state *k, const SDL_MouseMotionEvent *m, float s, controls *out)
{
    const kbm_layout *l = &k->layout;
    out->pointer_x = m->x * s;
    out->pointer_y = m->y * s;
    float dx = m->xrel * s, dy = m->yrel * s;
    SDL_Keymod mod = SDL_GetModState();
    if (k->drag == DRAG_VIEW) {
        out->orbit_dyaw_deg += 0.4f * dx;
        out->orbit_dpitch_deg += 0.4f * dy;
    } else if (k->drag == DRAG_IMAGE) {
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
}

void kbm_event(kbm_state *k, const SDL_Event *e, controls *out)
{
    const kbm_layout *l = &k->layout;
    float s = l->px_per_point > 0 ? l->px_per_point : 1.0f;
    switch (e->type) {
    case SDL_QUIT:
        out->quit = true;
        break;
    case SDL_WINDOWEVENT:
        window_event(k, &e->window, out);
        break;
    case SDL_RENDER_DEVICE_RESET:
        out->context_lost = true;
        break;
    case SDL_KEYDOWN:
        for (int b = 0; b < BTN_COUNT; b++)
            if (key_in(k->button_keys[b], e->key.keysym.scancode) && (!e->key.repeat || k_repeats[b]))
                out->pressed[b] = true;
        break;
    case SDL_MOUSEBUTTONDOWN: {
        float x = e->button.x * s, y = e->button.y * s;
        if (e->button.button == SDL_BUTTON_LEFT) {
            k->left_down = true;
            out->clicked = true;
            out->click_x = x;
            out->click_y = y;
            if (in_rect(x, y, l->view_x, l->view_y, l->view_w, l->view_h))
                k->drag = DRAG_VIEW;
            else if (in_rect(x, y, l->image_x, l->image_y, l->image_w, l->image_h))
                k->drag = DRAG_IMAGE;
        } else if (e->button.button == SDL_BUTTON_RIGHT) {
            k->drag = DRAG_VIEW;
        }
        break;
    }
    case SDL_MOUSEBUTTONUP:
        k->drag = DRAG_NONE;
        if (e->button.button == SDL_BUTTON_LEFT)
            k->left_down = false;
        break;
    case SDL_MOUSEMOTION:
        mouse_motion(k, &e->motion, s, out);
        break;
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
    for (int i = 0; i < CONTROLS_MAX_KEYS; i++)
        if (keys[i] != SDL_SCANCODE_UNKNOWN && ks[keys[i]])
            return 1.0;
    return 0.0;
}

void kbm_end(kbm_state *kb, double dt_s, controls *out)
{
    const Uint8 *ks = SDL_GetKeyboardState(NULL);
    SDL_Scancode(*k)[CONTROLS_MAX_KEYS] = kb->axis_keys;
    out->pointer_held = kb->left_down;
    out->probe_dx_mm += CONTROLS_PROBE_MM_S * dt_s * (held(ks, k[AXIS_PROBE_RIGHT]) - held(ks, k[AXIS_PROBE_LEFT]));
    out->probe_dy_mm += CONTROLS_PROBE_MM_S * dt_s * (held(ks, k[AXIS_PROBE_FORWARD]) - held(ks, k[AXIS_PROBE_BACK]));
    out->probe_drot_deg += CONTROLS_ROTATE_DEG_S * dt_s * (held(ks, k[AXIS_ROTATE_CW]) - held(ks, k[AXIS_ROTATE_CCW]));
    out->probe_dtilt_deg += CONTROLS_TILT_DEG_S * dt_s * (held(ks, k[AXIS_TILT_UP]) - held(ks, k[AXIS_TILT_DOWN]));
    out->probe_drock_deg += CONTROLS_TILT_DEG_S * dt_s * (held(ks, k[AXIS_ROCK_RIGHT]) - held(ks, k[AXIS_ROCK_LEFT]));
    out->probe_dpressure_n += CONTROLS_PRESSURE_N_S * dt_s * (held(ks, k[AXIS_PRESS_MORE]) - held(ks, k[AXIS_PRESS_LESS]));
    bool adv = held(ks, k[AXIS_NEEDLE_ADVANCE]) > 0, ret = held(ks, k[AXIS_NEEDLE_RETRACT]) > 0;
    kb->advance_held_s = adv && !ret ? kb->advance_held_s + dt_s : 0.0;
    kb->retract_held_s = ret && !adv ? kb->retract_held_s + dt_s : 0.0;
    double ramp_a = fmin(kb->advance_held_s / CONTROLS_NEEDLE_RAMP_S, 1.0);
    double ramp_r = fmin(kb->retract_held_s / CONTROLS_NEEDLE_RAMP_S, 1.0);
    const double span = CONTROLS_NEEDLE_MAX_MM_S - CONTROLS_NEEDLE_MIN_MM_S;
    if (kb->advance_held_s > 0)
        out->needle_speed_mm_s = CONTROLS_NEEDLE_MIN_MM_S + span * ramp_a;
    else if (kb->retract_held_s > 0)
        out->needle_speed_mm_s = -(CONTROLS_NEEDLE_MIN_MM_S + span * ramp_r);
}
