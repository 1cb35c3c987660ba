/* pad_sdl: an SDL game controller to a controls value, and feedback to its motors. */
#include "pad_sdl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum input_kind { IN_NONE = 0, IN_BUTTON, IN_AXIS_POS, IN_AXIS_NEG, IN_TRIGGER } input_kind;

typedef struct pad_input {
    input_kind kind;
    int index; /* SDL_GameControllerButton or SDL_GameControllerAxis */
} pad_input;

/* How long one motor request lasts: renewed while the level holds, so a pad whose program
 * stops answering goes quiet by itself. SDL ends a request on the wall clock, so the renewal
 * is timed on it too (the cues' lengths are on the frames' clock). */
#define RUMBLE_HOLD_MS 500u
#define RUMBLE_RENEW_MS 100u
/* The force level is rounded to 1/32 of full: a hand feels far coarser steps, and a wireless
 * pad takes one report per request, so a level that changes every frame should not send one
 * every frame. */
#define RUMBLE_LEVELS 32.0

struct pad_state {
    SDL_GameController *gc;
    SDL_JoystickID id;
    char name[128];
    pad_def def;
    pad_input axes[AXIS_COUNT][CONTROLS_MAX_KEYS];
    pad_input buttons[BTN_COUNT][CONTROLS_MAX_KEYS];
    double speed_mm_s;       /* the needle speed this pad asked for last frame */
    double now_s;            /* the pad's own clock, from pad_feedback's dt */
    double pulse_until_s, pulse_high;
    double cue_until_s, cue_low, cue_high;
    Uint16 sent_low, sent_high, sent_rt;
    Uint64 sent_at_ms;
    bool sent_any;
};

pad_def pad_default_def(void)
{
    return (pad_def){.stick_dead_zone = 0.15, .trigger_dead_zone = 0.05, .probe_mm_s = 6.0,
                     .rotate_deg_s = 45.0, .tilt_deg_s = 10.0, .pressure_n_s = 2.0,
                     .needle_max_mm_s = CONTROLS_NEEDLE_MAX_MM_S, .rumble = true, .force_full_n = 1.0,
                     .pop_pulse_ms = 80.0};
}

/* "leftx-" -> an axis direction, "righttrigger" -> a trigger, "a" -> a button. */
static pad_input parse_input(const char *name, bool for_axis)
{
    pad_input in = {IN_NONE, 0};
    size_t n = strlen(name);
    if (!n)
        return in;
    char base[CONTROLS_KEY_NAME_LEN];
    snprintf(base, sizeof base, "%s", name);
    char sign = base[n - 1];
    if (sign == '+' || sign == '-')
        base[n - 1] = '\0';
    SDL_GameControllerAxis ax = SDL_GameControllerGetAxisFromString(base);
    if (ax != SDL_CONTROLLER_AXIS_INVALID) {
        bool trigger = ax == SDL_CONTROLLER_AXIS_TRIGGERLEFT || ax == SDL_CONTROLLER_AXIS_TRIGGERRIGHT;
        if (!for_axis || (trigger && (sign == '+' || sign == '-')) || (!trigger && sign != '+' && sign != '-'))
            return in;
        in.kind = trigger ? IN_TRIGGER : sign == '+' ? IN_AXIS_POS : IN_AXIS_NEG;
        in.index = ax;
        return in;
    }
    if (sign == '+' || sign == '-')
        return in;
    SDL_GameControllerButton bt = SDL_GameControllerGetButtonFromString(base);
    if (bt != SDL_CONTROLLER_BUTTON_INVALID)
        in = (pad_input){IN_BUTTON, bt};
    return in;
}

static bool resolve(char names[CONTROLS_MAX_KEYS][CONTROLS_KEY_NAME_LEN], bool for_axis,
                    pad_input out[CONTROLS_MAX_KEYS], const char **bad)
{
    for (int k = 0; k < CONTROLS_MAX_KEYS; k++) {
        out[k] = (pad_input){IN_NONE, 0};
        if (!names[k][0])
            continue;
        out[k] = parse_input(names[k], for_axis);
        if (out[k].kind == IN_NONE) {
            *bad = names[k];
            return false;
        }
    }
    return true;
}

static void add_line(char *err, size_t n, const char *what, const char *name, bool for_axis)
{
    if (!err || !n)
        return;
    size_t used = strnlen(err, n - 1);
    snprintf(err + used, n - used, "%spad.%s: unknown controller input '%s' (%s; kept the default)",
             used ? "\n" : "", what, name,
             for_axis ? "a button, an axis with a direction such as leftx- or a trigger"
                      : "a button such as a, leftshoulder or dpup");
}

pad_state *pad_open(int index, const pad_def *def, controls_bindings *b, char *err, size_t err_len)
{
    if (err && err_len)
        err[0] = '\0';
    SDL_GameController *gc = SDL_GameControllerOpen(index);
    if (!gc) {
        snprintf(err, err_len, "cannot open game controller %d: %s", index, SDL_GetError());
        return NULL;
    }
    pad_state *p = calloc(1, sizeof *p);
    if (!p) {
        SDL_GameControllerClose(gc);
        snprintf(err, err_len, "out of memory");
        return NULL;
    }
    p->gc = gc;
    p->id = SDL_JoystickInstanceID(SDL_GameControllerGetJoystick(gc));
    const char *name = SDL_GameControllerName(gc);
    snprintf(p->name, sizeof p->name, "%s", name && *name ? name : "game controller");
    p->def = *def;
    const char *bad = NULL;
    for (int a = 0; a < AXIS_COUNT; a++)
        if (!resolve(b->pad_axis[a], true, p->axes[a], &bad)) {
            add_line(err, err_len, controls_axis_name((ctl_axis)a), bad, true);
            controls_pad_axis_reset(b, (ctl_axis)a);
            resolve(b->pad_axis[a], true, p->axes[a], &bad);
        }
    for (int i = 0; i < BTN_COUNT; i++)
        if (!resolve(b->pad_button[i], false, p->buttons[i], &bad)) {
            add_line(err, err_len, controls_button_name((ctl_button)i), bad, false);
            controls_pad_button_reset(b, (ctl_button)i);
            resolve(b->pad_button[i], false, p->buttons[i], &bad);
        }
    return p;
}

void pad_close(pad_state *p)
{
    if (!p)
        return;
    SDL_GameControllerClose(p->gc);
    free(p);
}

SDL_JoystickID pad_instance(const pad_state *p) { return p->id; }
const char *pad_name(const pad_state *p) { return p->name; }

bool pad_event(pad_state *p, const SDL_Event *e, controls *out)
{
    if (e->type != SDL_CONTROLLERBUTTONDOWN || e->cbutton.which != p->id)
        return false;
    bool used = false;
    for (int b = 0; b < BTN_COUNT; b++)
        for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
            if (p->buttons[b][k].kind == IN_BUTTON && p->buttons[b][k].index == e->cbutton.button) {
                out->pressed[b] = true;
                used = true;
            }
    return used;
}

static double axis_raw(const pad_state *p, int ax)
{
    Sint16 v = SDL_GameControllerGetAxis(p->gc, (SDL_GameControllerAxis)ax);
    return v < 0 ? v / 32768.0 : v / 32767.0;
}

/* The stick's deflection along ax, 0 inside the radial dead zone and rescaled to 0..1 beyond,
 * so a diagonal push is not cut more than a straight one. */
static double stick(const pad_state *p, int ax)
{
    bool left = ax == SDL_CONTROLLER_AXIS_LEFTX || ax == SDL_CONTROLLER_AXIS_LEFTY;
    double x = axis_raw(p, left ? SDL_CONTROLLER_AXIS_LEFTX : SDL_CONTROLLER_AXIS_RIGHTX);
    double y = axis_raw(p, left ? SDL_CONTROLLER_AXIS_LEFTY : SDL_CONTROLLER_AXIS_RIGHTY);
    double mag = hypot(x, y), dz = p->def.stick_dead_zone;
    if (mag <= dz || mag <= 0.0)
        return 0.0;
    double scaled = fmin((mag - dz) / (1.0 - dz), 1.0) / mag;
    return (ax == SDL_CONTROLLER_AXIS_LEFTX || ax == SDL_CONTROLLER_AXIS_RIGHTX ? x : y) * scaled;
}

static double input_value(const pad_state *p, const pad_input *in)
{
    switch (in->kind) {
    case IN_BUTTON:
        return SDL_GameControllerGetButton(p->gc, (SDL_GameControllerButton)in->index) ? 1.0 : 0.0;
    case IN_AXIS_POS:
        return fmax(stick(p, in->index), 0.0);
    case IN_AXIS_NEG:
        return fmax(-stick(p, in->index), 0.0);
    case IN_TRIGGER: {
        double v = axis_raw(p, in->index), dz = p->def.trigger_dead_zone;
        return v <= dz ? 0.0 : fmin((v - dz) / (1.0 - dz), 1.0);
    }
    default:
        return 0.0;
    }
}

static double held(const pad_state *p, ctl_axis a)
{
    double v = 0.0;
    for (int k = 0; k < CONTROLS_MAX_KEYS; k++)
        v = fmax(v, input_value(p, &p->axes[a][k]));
    return v;
}

bool pad_end(pad_state *p, double dt_s, controls *out)
{
    double v[AXIS_COUNT];
    bool any = false;
    for (int a = 0; a < AXIS_COUNT; a++) {
        v[a] = held(p, (ctl_axis)a);
        any = any || v[a] > 0.0;
    }
    const pad_def *d = &p->def;
    out->probe_dx_mm += d->probe_mm_s * dt_s * (v[AXIS_PROBE_RIGHT] - v[AXIS_PROBE_LEFT]);
    out->probe_dy_mm += d->probe_mm_s * dt_s * (v[AXIS_PROBE_FORWARD] - v[AXIS_PROBE_BACK]);
    out->probe_drot_deg += d->rotate_deg_s * dt_s * (v[AXIS_ROTATE_CW] - v[AXIS_ROTATE_CCW]);
    out->probe_dtilt_deg += d->tilt_deg_s * dt_s * (v[AXIS_TILT_UP] - v[AXIS_TILT_DOWN]);
    out->probe_drock_deg += d->tilt_deg_s * dt_s * (v[AXIS_ROCK_RIGHT] - v[AXIS_ROCK_LEFT]);
    out->probe_dpressure_n += d->pressure_n_s * dt_s * (v[AXIS_PRESS_MORE] - v[AXIS_PRESS_LESS]);
    p->speed_mm_s = d->needle_max_mm_s * (v[AXIS_NEEDLE_ADVANCE] - v[AXIS_NEEDLE_RETRACT]);
    /* The pad's speed replaces the keyboard's only while a trigger is pulled. */
    if (p->speed_mm_s != 0.0)
        out->needle_speed_mm_s = p->speed_mm_s;
    return any;
}

static Uint16 motor(double v) { return (Uint16)lround(fmin(fmax(v, 0.0), 1.0) * 65535.0); }

void pad_feedback(pad_state *p, const controls_feedback *fb, double dt_s)
{
    if (!p->def.rumble)
        return;
    p->now_s += fmax(dt_s, 0.0);
    double now = p->now_s;
    double force = sqrt(fb->force_n[0] * fb->force_n[0] + fb->force_n[1] * fb->force_n[1] +
                        fb->force_n[2] * fb->force_n[2]);
    double level = p->speed_mm_s > 0.0 && p->def.force_full_n > 0.0 ? fmin(force / p->def.force_full_n, 1.0) : 0.0;
    level = round(level * RUMBLE_LEVELS) / RUMBLE_LEVELS;
    if (fb->pop_count > 0) {
        p->pulse_high = 0.35 + 0.65 * fmin(fmax(fb->pop_strength, 0.0), 1.0);
        p->pulse_until_s = now + p->def.pop_pulse_ms / 1000.0;
    }
    if (fb->rumble_ms > 0.0) {
        p->cue_low = fb->rumble_low;
        p->cue_high = fb->rumble_high;
        p->cue_until_s = now + fb->rumble_ms / 1000.0;
    }
    bool pulse = now < p->pulse_until_s, cue = now < p->cue_until_s;
    Uint16 low = motor(fmax(level, cue ? p->cue_low : 0.0));
    Uint16 high = motor(fmax(pulse ? p->pulse_high : 0.0, cue ? p->cue_high : 0.0));
    /* The resistance in the finger that pulls the advancing trigger; retracting meets none. */
    Uint16 rt = p->speed_mm_s > 0.0 ? motor(level) : 0;
    bool changed = !p->sent_any || low != p->sent_low || high != p->sent_high || rt != p->sent_rt;
    Uint64 wall = SDL_GetTicks64();
    bool renew = (low || high || rt) && wall - p->sent_at_ms > RUMBLE_RENEW_MS;
    if (!changed && !renew)
        return;
    SDL_GameControllerRumble(p->gc, low, high, RUMBLE_HOLD_MS);
    if (SDL_GameControllerHasRumbleTriggers(p->gc))
        SDL_GameControllerRumbleTriggers(p->gc, 0, rt, RUMBLE_HOLD_MS);
    p->sent_low = low, p->sent_high = high, p->sent_rt = rt;
    p->sent_at_ms = wall;
    p->sent_any = true;
}
