/* The controls layer: the bindings model and its file in plain C (defaults written on first
 * run, user remaps read, bad lines reported and the default kept, the comma key spelt Comma,
 * hints read from the bindings), and the keyboard-and-mouse source turning SDL events into
 * intents: key presses into buttons (auto-repeat only for steppers), a drag on the B-mode
 * image into probe motion of the same millimetres, Ctrl and Shift drags into rotation and
 * tilt/rock, a drag on the outside view into orbit, the wheel into depth steps or zoom. Uses
 * SDL's dummy video driver: no display needed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "controls.h"
#include "kbm_sdl.h"

static const kbm_layout k_layout = {.image_x = 100, .image_y = 100, .image_w = 500, .image_h = 600,
                                    .mm_per_px = 0.02, .view_x = 700, .view_y = 50, .view_w = 400,
                                    .view_h = 300, .px_per_point = 1.0f};

static SDL_Event key(SDL_Scancode sc, bool repeat)
{
    SDL_Event e = {.type = SDL_KEYDOWN};
    e.key.keysym.scancode = sc;
    e.key.repeat = repeat;
    return e;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* True when pressing sc (no repeat) in a fresh frame presses b. */
static bool presses(kbm_state *k, SDL_Scancode sc, ctl_button b)
{
    controls c = {0};
    kbm_begin(k, &c);
    SDL_Event e = key(sc, false);
    kbm_event(k, &e, &c);
    return c.pressed[b];
}

static void test_bindings_file(void **state)
{
    (void)state;
    char path[512], where[1024], err[512];
    snprintf(path, sizeof path, "%s/test_controls_bindings.conf", MESOSIM_BINARY_DIR);
    remove(path);
    controls_bindings b, d;
    controls_bindings_load(path, &b, where, sizeof where);
    assert_string_equal(where, path);
    controls_bindings_default(&d);
    assert_memory_equal(&b, &d, sizeof b);
    /* The defaults file: one line per binding for the keys and one for the game controller
     * (pad.NAME), and it reads back to the defaults. */
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    int n = 0;
    bool comma_line = false;
    while (fgets(line, sizeof line, f)) {
        n += line[0] != '#' && line[0] != '\n';
        comma_line |= !strcmp(line, "depth_shallower = Comma\n");
    }
    fclose(f);
    assert_int_equal(n, 2 * (AXIS_COUNT + BTN_COUNT));
    assert_true(comma_line);
    controls_bindings_load(path, &b, NULL, 0);
    assert_memory_equal(&b, &d, sizeof b);

    write_file(path, "# remapped\ninject = J, Keypad 5\nneedle_advance = Nonsense\nno_such_binding = A\ngain_up = =\n");
    controls_bindings_load(path, &b, NULL, 0);
    char keys[128];
    controls_button_keys(&b, BTN_INJECT, keys, sizeof keys);
    assert_string_equal(keys, "J / Keypad 5");
    controls_button_keys(&b, BTN_GAIN_UP, keys, sizeof keys);
    assert_string_equal(keys, "=");
    /* A name the keyboard does not know goes back to the default, in the bindings too. */
    kbm_state *k = kbm_create(&b, err, sizeof err);
    assert_non_null(k);
    assert_non_null(strstr(err, "needle_advance: unknown key name 'Nonsense'"));
    controls_axis_keys(&b, AXIS_NEEDLE_ADVANCE, keys, sizeof keys);
    assert_string_equal(keys, "Space");
    assert_true(presses(k, SDL_SCANCODE_J, BTN_INJECT));
    assert_true(presses(k, SDL_SCANCODE_KP_5, BTN_INJECT));
    assert_false(presses(k, SDL_SCANCODE_I, BTN_INJECT));
    assert_true(presses(k, SDL_SCANCODE_EQUALS, BTN_GAIN_UP));
    kbm_destroy(k);
}

/* The parser on its own: bad lines named by number, the rest taken; never past len. */
static void test_parse(void **state)
{
    (void)state;
    controls_bindings b, d;
    controls_bindings_default(&d);
    b = d;
    char err[512];
    const char *text = "tick_step = K\n"
                       "no equals sign\n"
                       "  # indented comment\n"
                       "inject = A, B, C, D\n"
                       "mark_dermis =   \r\n"
                       "bogus = X\n"
                       "freq_up = ThisKeyNameIsMuchTooLongToBeAnyKeyAtAll\n"
                       "help = F2\n";
    assert_false(controls_bindings_parse(text, strlen(text), &b, err, sizeof err));
    print_message("parse errors:\n%s\n", err);
    assert_non_null(strstr(err, "2: expected NAME = KEYS"));
    assert_non_null(strstr(err, "4: inject: at most 3 keys"));
    assert_non_null(strstr(err, "5: mark_dermis: no key given"));
    assert_non_null(strstr(err, "6: unknown binding 'bogus'"));
    assert_non_null(strstr(err, "7: freq_up: a key name of at most"));
    char keys[128];
    controls_button_keys(&b, BTN_STEP, keys, sizeof keys);
    assert_string_equal(keys, "K");
    controls_button_keys(&b, BTN_HELP, keys, sizeof keys);
    assert_string_equal(keys, "F2");
    controls_button_keys(&b, BTN_INJECT, keys, sizeof keys);
    assert_string_equal(keys, "I"); /* bad line: default kept */
    controls_button_keys(&b, BTN_MARK_DERMIS, keys, sizeof keys);
    assert_string_equal(keys, "M");
    /* len cuts the text: only "tick_step = L" is read, not what follows. */
    b = d;
    const char *cut = "tick_step = LX\nhelp = F3\n";
    assert_true(controls_bindings_parse(cut, 13, &b, err, sizeof err));
    controls_button_keys(&b, BTN_STEP, keys, sizeof keys);
    assert_string_equal(keys, "L");
    controls_button_keys(&b, BTN_HELP, keys, sizeof keys);
    assert_string_equal(keys, "F1 / H");
    /* format and parse are inverses, remaps included. */
    b = d;
    const char *remap = "depth_deeper = Comma, .\nneedle_retract = B\n";
    assert_true(controls_bindings_parse(remap, strlen(remap), &b, err, sizeof err));
    char file[8192];
    size_t need = controls_bindings_format(&b, file, sizeof file);
    assert_true(need < sizeof file && need == strlen(file));
    controls_bindings back = d;
    assert_true(controls_bindings_parse(file, need, &back, err, sizeof err));
    assert_memory_equal(&back, &b, sizeof b);
    assert_int_equal(controls_bindings_format(&b, NULL, 0), need);
}

/* The comma key binds: spelt Comma, or a lone "," as older files have it; its key event
 * presses the binding; the help overlay shows it as ",". */
static void test_comma_key(void **state)
{
    (void)state;
    controls_bindings b;
    char err[512], keys[128];
    controls_bindings_default(&b);
    controls_button_keys(&b, BTN_DEPTH_DOWN, keys, sizeof keys);
    assert_string_equal(keys, ",");
    kbm_state *k = kbm_create(&b, err, sizeof err);
    assert_string_equal(err, "");
    assert_true(presses(k, SDL_SCANCODE_COMMA, BTN_DEPTH_DOWN));
    assert_true(presses(k, SDL_SCANCODE_PERIOD, BTN_DEPTH_UP));
    assert_false(presses(k, SDL_SCANCODE_COMMA, BTN_DEPTH_UP));
    kbm_destroy(k);
    const char *legacy = "depth_shallower = ,\ntick_step = comma, C\n";
    assert_true(controls_bindings_parse(legacy, strlen(legacy), &b, err, sizeof err));
    controls_button_keys(&b, BTN_DEPTH_DOWN, keys, sizeof keys);
    assert_string_equal(keys, ",");
    controls_button_keys(&b, BTN_STEP, keys, sizeof keys);
    assert_string_equal(keys, ", / C");
    k = kbm_create(&b, err, sizeof err);
    assert_string_equal(err, "");
    assert_true(presses(k, SDL_SCANCODE_COMMA, BTN_DEPTH_DOWN));
    assert_true(presses(k, SDL_SCANCODE_COMMA, BTN_STEP));
    assert_true(presses(k, SDL_SCANCODE_C, BTN_STEP));
    kbm_destroy(k);
}

/* Hints name the binding's first key, arrows and Esc as the screens draw them. */
static void test_hints(void **state)
{
    (void)state;
    controls_bindings b;
    controls_bindings_default(&b);
    char h[64], err[256];
    controls_button_hint(&b, BTN_STEP, h, sizeof h);
    assert_string_equal(h, "C");
    controls_button_hint(&b, BTN_MENU_UP, h, sizeof h);
    assert_string_equal(h, "\xe2\x86\x91");
    controls_button_hint(&b, BTN_BACK, h, sizeof h);
    assert_string_equal(h, "Esc");
    controls_axis_hint(&b, AXIS_NEEDLE_RETRACT, h, sizeof h);
    assert_string_equal(h, "Backspace");
    const char *remap = "tick_step = K, C\nneedle_retract = Keypad -\n";
    assert_true(controls_bindings_parse(remap, strlen(remap), &b, err, sizeof err));
    controls_button_hint(&b, BTN_STEP, h, sizeof h);
    assert_string_equal(h, "K");
    controls_axis_hint(&b, AXIS_NEEDLE_RETRACT, h, sizeof h);
    assert_string_equal(h, "Keypad -");
}

static void test_events_to_intents(void **state)
{
    (void)state;
    controls_bindings b;
    controls_bindings_default(&b);
    char err[256];
    kbm_state *cs = kbm_create(&b, err, sizeof err);
    assert_non_null(cs);
    kbm_set_layout(cs, &k_layout);
    controls c;

    /* One-shot buttons ignore auto-repeat; steppers take it. */
    kbm_begin(cs, &c);
    SDL_Event e = key(SDL_SCANCODE_I, true);
    kbm_event(cs, &e, &c);
    e = key(SDL_SCANCODE_EQUALS, true);
    kbm_event(cs, &e, &c);
    e = key(SDL_SCANCODE_T, true);
    kbm_event(cs, &e, &c);
    assert_false(c.pressed[BTN_INJECT]);
    assert_true(c.pressed[BTN_GAIN_UP]);
    assert_true(c.pressed[BTN_TGC_UP]);

    /* Drag on the image: 50 px right, 25 px up = 1 mm along x, 0.5 mm forward. */
    kbm_begin(cs, &c);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONDOWN};
    e.button.button = SDL_BUTTON_LEFT, e.button.x = 300, e.button.y = 300;
    kbm_event(cs, &e, &c);
    assert_true(c.clicked);
    e = (SDL_Event){.type = SDL_MOUSEMOTION};
    e.motion.x = 350, e.motion.y = 275, e.motion.xrel = 50, e.motion.yrel = -25;
    SDL_SetModState(KMOD_NONE);
    kbm_event(cs, &e, &c);
    assert_float_equal(c.probe_dx_mm, 1.0, 1e-9);
    assert_float_equal(c.probe_dy_mm, 0.5, 1e-9);
    /* Ctrl: the same motion rotates; Shift: tilts and rocks. */
    SDL_SetModState(KMOD_LCTRL);
    kbm_event(cs, &e, &c);
    assert_true(c.probe_drot_deg > 0);
    SDL_SetModState(KMOD_LSHIFT);
    kbm_event(cs, &e, &c);
    assert_true(c.probe_dtilt_deg > 0 && c.probe_drock_deg > 0);
    SDL_SetModState(KMOD_NONE);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONUP};
    e.button.button = SDL_BUTTON_LEFT;
    kbm_event(cs, &e, &c);

    /* Drag on the outside view orbits, and leaves the probe alone. */
    kbm_begin(cs, &c);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONDOWN};
    e.button.button = SDL_BUTTON_LEFT, e.button.x = 800, e.button.y = 100;
    kbm_event(cs, &e, &c);
    e = (SDL_Event){.type = SDL_MOUSEMOTION};
    e.motion.x = 810, e.motion.y = 100, e.motion.xrel = 10;
    kbm_event(cs, &e, &c);
    assert_true(c.orbit_dyaw_deg > 0);
    assert_float_equal(c.probe_dx_mm, 0.0, 0.0);
    /* The wheel over the view zooms; over the image it steps the depth (down: deeper). */
    e = (SDL_Event){.type = SDL_MOUSEWHEEL};
    e.wheel.preciseY = 1.0f;
    kbm_event(cs, &e, &c);
    assert_true(c.zoom_factor < 1.0f);
    e = (SDL_Event){.type = SDL_MOUSEBUTTONUP};
    kbm_event(cs, &e, &c);
    e = (SDL_Event){.type = SDL_MOUSEMOTION};
    e.motion.x = 300, e.motion.y = 300;
    kbm_event(cs, &e, &c);
    e = (SDL_Event){.type = SDL_MOUSEWHEEL};
    e.wheel.preciseY = -2.0f;
    kbm_event(cs, &e, &c);
    assert_float_equal(c.depth_steps, 2.0, 1e-9);

    /* Window events. */
    kbm_begin(cs, &c);
    e = (SDL_Event){.type = SDL_WINDOWEVENT};
    e.window.event = SDL_WINDOWEVENT_MINIMIZED;
    kbm_event(cs, &e, &c);
    assert_true(c.minimized);
    e.window.event = SDL_WINDOWEVENT_RESTORED;
    kbm_event(cs, &e, &c);
    assert_false(c.minimized);
    assert_true(c.resized);
    e = (SDL_Event){.type = SDL_QUIT};
    kbm_event(cs, &e, &c);
    assert_true(c.quit);

    /* Nothing held: no motion, no needle speed. */
    kbm_begin(cs, &c);
    kbm_end(cs, 1.0 / 60.0, &c);
    assert_float_equal(c.needle_speed_mm_s, 0.0, 0.0);
    assert_float_equal(c.probe_dx_mm, 0.0, 0.0);
    kbm_destroy(cs);
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
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_comma_key),
        cmocka_unit_test(test_hints),
        cmocka_unit_test(test_events_to_intents),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    SDL_Quit();
    return rc;
}
