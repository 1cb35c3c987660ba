/* The controls layer: the bindings file (defaults written on first run, user remaps read,
 * bad lines reported and the default kept) and SDL events turned into intents: key presses
 * into buttons (auto-repeat only for steppers), a drag on the B-mode image into probe motion
 * of the same millimetres, Ctrl and Shift drags into rotation and tilt/rock, a drag on the
 * outside view into orbit, the wheel into depth steps or zoom. Uses SDL's dummy video
 * driver: no display needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controls.h"

static const controls_layout k_layout = {.image_x = 100, .image_y = 100, .image_w = 500, .image_h = 600,
                                         .mm_per_px = 0.02, .view_x = 700, .view_y = 50, .view_w = 400,
                                         .view_h = 300, .px_per_point = 1.0f};

static SDL_Event key(SDL_Scancode sc, bool repeat)
{
    SDL_Event e = {.type = SDL_KEYDOWN};
    e.key.keysym.scancode = sc;
    e.key.repeat = repeat;
    return e;
}

static void test_bindings_file(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/test_controls_bindings.conf", MESOSIM_BINARY_DIR);
    remove(path);
    controls_state *cs = controls_create(path);
    assert_non_null(cs);
    controls_destroy(cs);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += line[0] != '#' && line[0] != '\n';
    fclose(f);
    assert_int_equal(n, AXIS_COUNT + BTN_COUNT);

    f = fopen(path, "w");
    fputs("# remapped\ninject = J, Keypad 5\nneedle_advance = Nonsense\nno_such_binding = A\ngain_up = =\n", f);
    fclose(f);
    cs = controls_create(path);
    char keys[64];
    controls_button_keys(cs, BTN_INJECT, keys, sizeof keys);
    assert_string_equal(keys, "J, Keypad 5");
    controls_axis_keys(cs, AXIS_NEEDLE_ADVANCE, keys, sizeof keys);
    assert_string_equal(keys, "Space"); /* bad key name: default kept */
    controls_button_keys(cs, BTN_GAIN_UP, keys, sizeof keys);
    assert_string_equal(keys, "=");
    controls c;
    controls_begin(cs, &c);
    SDL_Event e = key(SDL_SCANCODE_J, false);
    controls_event(cs, &e, &c);
    assert_true(c.pressed[BTN_INJECT]);
    controls_begin(cs, &c);
    e = key(SDL_SCANCODE_I, false);
    controls_event(cs, &e, &c);
    assert_false(c.pressed[BTN_INJECT]);
    controls_destroy(cs);
}

static void test_events_to_intents(void **state)
{
    (void)state;
    char path[512];
    snprintf(path, sizeof path, "%s/test_controls_defaults.conf", MESOSIM_BINARY_DIR);
    remove(path);
    controls_state *cs = controls_create(path);
    controls_set_layout(cs, &k_layout);
    controls c;

    /* One-shot buttons ignore auto-repeat; steppers take it. */
    controls_begin(cs, &c);
    SDL_Event e = key(SDL_SCANCODE_I, true);
    controls_event(cs, &e, &c);
    e = key(SDL_SCANCODE_EQUALS, true);
    controls_event(cs, &e, &c);
    e = key(SDL_SCANCODE_T, true);
    controls_event(cs, &e, &c);
    assert_false(c.pressed[BTN_INJECT]);
    assert_true(c.pressed[BTN_GAIN_UP]);
    assert_true(c.pressed[BTN_TGC_UP]);

    /* Drag on the image: 50 px right, 25 px up = 1 mm along x, 0.5 mm forward. */
    controls_begin(cs, &c);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONDOWN};
    e.button.button = SDL_BUTTON_LEFT, e.button.x = 300, e.button.y = 300;
    controls_event(cs, &e, &c);
    assert_true(c.clicked);
    e = (SDL_Event){.type = SDL_MOUSEMOTION};
    e.motion.x = 350, e.motion.y = 275, e.motion.xrel = 50, e.motion.yrel = -25;
    SDL_SetModState(KMOD_NONE);
    controls_event(cs, &e, &c);
    assert_float_equal(c.probe_dx_mm, 1.0, 1e-9);
    assert_float_equal(c.probe_dy_mm, 0.5, 1e-9);
    /* Ctrl: the same motion rotates; Shift: tilts and rocks. */
    SDL_SetModState(KMOD_LCTRL);
    controls_event(cs, &e, &c);
    assert_true(c.probe_drot_deg > 0);
    SDL_SetModState(KMOD_LSHIFT);
    controls_event(cs, &e, &c);
    assert_true(c.probe_dtilt_deg > 0 && c.probe_drock_deg > 0);
    SDL_SetModState(KMOD_NONE);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONUP};
    e.button.button = SDL_BUTTON_LEFT;
    controls_event(cs, &e, &c);

    /* Drag on the outside view orbits, and leaves the probe alone. */
    controls_begin(cs, &c);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONDOWN};
    e.button.button = SDL_BUTTON_LEFT, e.button.x = 800, e.button.y = 100;
    controls_event(cs, &e, &c);
    e = (SDL_Event){.type = SDL_MOUSEMOTION};
    e.motion.x = 810, e.motion.y = 100, e.motion.xrel = 10;
    controls_event(cs, &e, &c);
    assert_true(c.orbit_dyaw_deg > 0);
    assert_float_equal(c.probe_dx_mm, 0.0, 0.0);
    /* The wheel over the view zooms; over the image it steps the depth (down: deeper). */
    e = (SDL_Event){.type = SDL_MOUSEWHEEL};
    e.wheel.preciseY = 1.0f;
    controls_event(cs, &e, &c);
    assert_true(c.zoom_factor < 1.0f);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONUP};
    controls_event(cs, &e, &c);
    e = (SDL_Event){.type = SDL_MOUSEMOTION};
    e.motion.x = 300, e.motion.y = 300;
    controls_event(cs, &e, &c);
    e = (SDL_Event){.type = SDL_MOUSEWHEEL};
    e.wheel.preciseY = -2.0f;
    controls_event(cs, &e, &c);
    assert_float_equal(c.depth_steps, 2.0, 1e-9);

    /* Window events. */
    controls_begin(cs, &c);
    e = (SDL_Event){.type = SDL_WINDOWEVENT};
    e.window.event = SDL_WINDOWEVENT_MINIMIZED;
    controls_event(cs, &e, &c);
    assert_true(c.minimized);
    e.window.event = SDL_WINDOWEVENT_RESTORED;
    controls_event(cs, &e, &c);
    assert_false(c.minimized);
    assert_true(c.resized);
    e = (SDL_Event){.type = SDL_QUIT};
    controls_event(cs, &e, &c);
    assert_true(c.quit);

    /* Nothing held: no motion, no needle speed. */
    controls_begin(cs, &c);
    controls_end(cs, 1.0 / 60.0, &c);
    assert_float_equal(c.needle_speed_mm_s, 0.0, 0.0);
    assert_float_equal(c.probe_dx_mm, 0.0, 0.0);
    controls_destroy(cs);
}

int main(void)
{
    setenv("SDL_VIDEODRIVER", "dummy", 1);
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "SDL_Init (dummy video): %s\n", SDL_GetError());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bindings_file),
        cmocka_unit_test(test_events_to_intents),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    SDL_Quit();
    return rc;
}
