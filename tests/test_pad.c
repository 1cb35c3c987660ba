/* The game controller, without hardware: SDL's virtual joystick (type GAMECONTROLLER, 6 axes,
 * 15 buttons, rumble callbacks) plugged into the trainer window drives a whole scored session
 * through trainer_poll_input, as the interactive loop does: the menus (A opens, B goes back,
 * Start begins), the declared steps (Y), a probe slide (left stick, through its dead zone),
 * the needle's entry (A), an advance by the right trigger until the tip is in the dermis (read
 * from the anatomy), the injection (X) and the end (Start). The verdict is intradermal, the
 * log replays to the same report, the motors get a pulse at each pop and a level
 * proportional to the needle's force while advancing, with the strengths pad_sdl.h gives.
 * Pulling the pad out mid-session pauses it (the clock stops, the message shows); plugging it
 * back in goes on; so does a key press after another unplug. Runs under run_gl.sh. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>
#include <SDL.h>
#include <stb_image_write.h>

#include "actions.h"
#include "devices.h"
#include "pad_sdl.h"
#include "replay_util.h"
#include "scenario.h"
#include "session.h"
#include "trainer.h"

static trainer *g_t;
static double g_time;

/* What the virtual pad's motors were last asked for, and how often. */
typedef struct rumble_log {
    Uint16 low, high, left, right;
    int calls, trigger_calls;
} rumble_log;
static rumble_log g_rumble;

static int on_rumble(void *user, Uint16 low, Uint16 high)
{
    (void)user;
    g_rumble.low = low, g_rumble.high = high;
    g_rumble.calls++;
    return 0;
}

static int on_rumble_triggers(void *user, Uint16 left, Uint16 right)
{
    (void)user;
    g_rumble.left = left, g_rumble.right = right;
    g_rumble.trigger_calls++;
    return 0;
}

static int g_index = -1;   /* the virtual pad's device index */
static SDL_Joystick *g_js; /* our handle on it, to set its inputs */

static SDL_VirtualJoystickDesc pad_desc(void)
{
    SDL_VirtualJoystickDesc desc;
    memset(&desc, 0, sizeof desc);
    desc.version = SDL_VIRTUAL_JOYSTICK_DESC_VERSION;
    desc.type = SDL_JOYSTICK_TYPE_GAMECONTROLLER;
    desc.naxes = SDL_CONTROLLER_AXIS_MAX;
    desc.nbuttons = 15;
    desc.name = "mesosim test pad";
    desc.Rumble = on_rumble;
    desc.RumbleTriggers = on_rumble_triggers;
    return desc;
}

static void plug(void)
{
    SDL_VirtualJoystickDesc desc = pad_desc();
    g_index = SDL_JoystickAttachVirtualEx(&desc);
    if (g_index < 0)
        fail_msg("SDL_JoystickAttachVirtualEx: %s", SDL_GetError());
    g_js = SDL_JoystickOpen(g_index);
    assert_non_null(g_js);
}

static void unplug(void)
{
    assert_int_equal(SDL_JoystickDetachVirtual(g_index), 0);
    SDL_JoystickClose(g_js);
    g_js = NULL;
}

static void stick(SDL_GameControllerAxis ax, double v)
{
    SDL_JoystickSetVirtualAxis(g_js, ax, (Sint16)lround(v >= 0 ? v * 32767 : v * 32768));
}

static void trigger(SDL_GameControllerAxis ax, double pull)
{
    /* The full raw range is the trigger's travel: the axis minimum is released (SDL's
     * virtual pads start there). */
    SDL_JoystickSetVirtualAxis(g_js, ax, (Sint16)lround(-32768 + pull * 65535));
}

/* One frame at 60 Hz, input polled from the devices. */
static controls frame(void)
{
    controls c;
    g_time += 1.0 / 60.0;
    trainer_poll_input(g_t, 1.0 / 60.0, &c);
    trainer_frame(g_t, g_time, &c);
    trainer_swap(g_t);
    return c;
}

static void press(SDL_GameControllerButton b)
{
    SDL_JoystickSetVirtualButton(g_js, b, 1);
    frame();
    SDL_JoystickSetVirtualButton(g_js, b, 0);
    frame();
}

static Uint16 motor(double v) { return (Uint16)lround(fmin(fmax(v, 0.0), 1.0) * 65535.0); }

static double tip_depth(const session *ss, tissue_id *tissue)
{
    double tip[3];
    needle_tip_mm(session_needle(ss), tip);
    phantom_sample ps = phantom_at(session_anatomy(ss), tip, session_pose(ss).pressure_n, NULL, 0);
    *tissue = ps.tissue;
    return ps.depth_mm;
}

static void test_pad_drives_a_session(void **state)
{
    (void)state;
    plug();
    frame();
    char status[400];
    devices_status(trainer_devices(g_t), status, sizeof status);
    print_message("%s\n", status);
    /* The user's mapping file named it: its GUID, copied with SDL's CRC in it, matched. */
    assert_non_null(strstr(status, "mesosim test pad (user mapping)"));
    assert_int_equal(devices_pad_count(trainer_devices(g_t)), 1);

    /* The menus: A opens the selected case, B goes back, and Start begins the session. */
    assert_true(trainer_show_picker(g_t) > 0);
    press(SDL_CONTROLLER_BUTTON_A);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_BRIEFING);
    press(SDL_CONTROLLER_BUTTON_B);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_PICKER);
    char path[1024], err[2048];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    if (!trainer_open_case(g_t, path, err, sizeof err))
        fail_msg("%s", err);
    press(SDL_CONTROLLER_BUTTON_START);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_SCAN);
    const session *ss = trainer_session(g_t);
    const score_session *m = session_metrics(ss);
    devices_status(trainer_devices(g_t), status, sizeof status);
    assert_non_null(strstr(status, "mesosim test pad (user mapping) (driving)"));
    assert_int_equal(devices_driving(trainer_devices(g_t)), DEVICES_PAD);

    /* Y opens the step chooser on the first step not done, Y again ticks it: the trainee sees
     * which step is ticked before it is (never "whichever comes next" blind). */
    press(SDL_CONTROLLER_BUTTON_Y);
    assert_false(m->step_done[STEP_POSITIONING]);
    press(SDL_CONTROLLER_BUTTON_Y);
    assert_true(m->step_done[STEP_POSITIONING]);
    for (int i = 0; i < 2; i++) {
        press(SDL_CONTROLLER_BUTTON_Y);
        press(SDL_CONTROLLER_BUTTON_Y);
    }
    assert_true(m->step_done[STEP_POSITIONING] && m->step_done[STEP_DISINFECTION] && m->step_done[STEP_STERILE_FIELD]);

    /* Inside the dead zone the probe stays; a full push slides it at pad.probe_mm_s. */
    pad_def pd = pad_default_def();
    stick(SDL_CONTROLLER_AXIS_LEFTX, 0.5 * pd.stick_dead_zone);
    for (int i = 0; i < 10; i++)
        frame();
    assert_true(session_pose(ss).x_mm == 0.0);
    stick(SDL_CONTROLLER_AXIS_LEFTX, 1.0);
    for (int i = 0; i < 30; i++)
        frame();
    stick(SDL_CONTROLLER_AXIS_LEFTX, 0.0);
    frame();
    double x = session_pose(ss).x_mm;
    print_message("probe slid %.3f mm in 30 frames at full deflection\n", x);
    assert_true(fabs(x - 30 * pd.probe_mm_s / 60.0) < 0.05);

    /* A: the needle enters out of plane across the probe's centre line. */
    press(SDL_CONTROLLER_BUTTON_A);
    const needle *nd = session_needle(ss);
    assert_true(needle_placed(nd));
    double entry[3];
    needle_entry_mm(nd, entry);
    assert_true(fabs(entry[0] - x) < 1e-9);

    /* The right trigger half pulled advances at a speed proportional to the pull, until the tip
     * is in the dermis a millimetre below the skin. */
    trigger(SDL_CONTROLLER_AXIS_TRIGGERRIGHT, 0.5);
    int frames = 0, pulses = 0, levels = 0, pops_felt = 0;
    tissue_id tissue = TISSUE_GEL;
    double before = needle_travel_mm(nd);
    for (; frames < 600; frames++) {
        int calls = g_rumble.calls;
        frame();
        const controls_feedback *fb = trainer_feedback(g_t);
        pops_felt += fb->pop_count;
        if (fb->pop_count > 0) {
            /* The pulse: 0.35 + 0.65 * strength on the high-frequency motor. */
            assert_true(g_rumble.calls > calls);
            assert_int_equal(g_rumble.high, motor(0.35 + 0.65 * fb->pop_strength));
            pulses++;
        }
        double f = sqrt(fb->force_n[0] * fb->force_n[0] + fb->force_n[1] * fb->force_n[1] +
                        fb->force_n[2] * fb->force_n[2]);
        if (fb->rumble_ms == 0.0) {
            /* While advancing, the low motor and the right trigger follow the force: 1 N is
             * full, in steps of 1/32. */
            double level = round(fmin(f / pd.force_full_n, 1.0) * 32.0) / 32.0;
            assert_int_equal(g_rumble.low, motor(level));
            assert_int_equal(g_rumble.right, motor(level));
            levels += f > 0.0;
        }
        if (frames == 10) {
            double speed = (needle_travel_mm(nd) - before) / (11.0 / 60.0);
            double want = pd.needle_max_mm_s * (0.5 - pd.trigger_dead_zone) / (1.0 - pd.trigger_dead_zone);
            print_message("needle speed at half pull %.3f mm/s (asked %.3f)\n", speed, want);
            assert_true(fabs(speed - want) < 0.1 * want);
        }
        if (tip_depth(ss, &tissue) >= 1.0 && tissue == TISSUE_DERMIS)
            break;
    }
    trigger(SDL_CONTROLLER_AXIS_TRIGGERRIGHT, 0.0);
    frame();
    double depth = tip_depth(ss, &tissue);
    print_message("tip %.2f mm below the skin in %s after %d frames; %d pops felt, %d frames with a pulse, %d force levels, "
                  "%d rumble requests\n", depth, tissue_name(tissue), frames, pops_felt, pulses, levels, g_rumble.calls);
    assert_int_equal(tissue, TISSUE_DERMIS);
    /* Every pop reaches the feedback; pops in one frame (the layers of the skin at once) are
     * one pulse. */
    assert_true(m->pops > 0 && pops_felt == m->pops && pulses > 0 && pulses <= pops_felt);
    assert_true(levels > 10);
    assert_true(g_rumble.trigger_calls > 0);
    /* Released: the level goes away once the pop's pulse is over. */
    for (int i = 0; i < 10; i++)
        frame();
    assert_int_equal(g_rumble.low, 0);
    assert_int_equal(g_rumble.right, 0);

    /* Pulled out mid-session: paused, the clock stands still, the message says what to do. */
    double t_before = session_time_s(ss);
    unplug();
    frame();
    assert_true(trainer_paused(g_t));
    print_message("paused: %s\n", trainer_pause_message(g_t));
    assert_non_null(strstr(trainer_pause_message(g_t), "Controller disconnected: the session is paused"));
    for (int i = 0; i < 30; i++)
        frame();
    assert_true(session_time_s(ss) == t_before);
    /* The banner is drawn: its frame in the warning colour across the middle of the window. */
    int w, h;
    trainer_drawable_size(g_t, &w, &h);
    uint8_t *rgba = malloc((size_t)w * h * 4);
    assert_non_null(rgba);
    controls none = {.zoom_factor = 1.0f};
    trainer_frame(g_t, g_time, &none);
    trainer_read_pixels(g_t, rgba);
    trainer_swap(g_t);
    stbi_flip_vertically_on_write(1);
    stbi_write_png(MESOSIM_BINARY_DIR "/test_pad_paused.png", w, h, 4, rgba, w * 4);
    int warm = 0;
    for (int px = w / 4; px < 3 * w / 4; px++) {
        const uint8_t *q = rgba + ((size_t)(h - 1 - (int)(0.4 * h + 1)) * w + px) * 4;
        warm += q[0] == 0xff && q[1] == 0xd0 && q[2] == 0x80;
    }
    free(rgba);
    print_message("banner border: %d warning-coloured pixels along its top\n", warm);
    assert_true(warm > w / 3);
    devices_status(trainer_devices(g_t), status, sizeof status);
    assert_non_null(strstr(status, "no controller"));
    assert_int_equal(devices_driving(trainer_devices(g_t)), DEVICES_KBM);
    /* Plugged back in: it goes on from where it stood. */
    plug();
    frame();
    assert_false(trainer_paused(g_t));
    frame();
    assert_true(session_time_s(ss) > t_before && session_time_s(ss) < t_before + 0.1);

    /* X injects; the verdict is intradermal, as the geometry says it should be. */
    press(SDL_CONTROLLER_BUTTON_X);
    assert_int_equal(m->n_inj, 1);
    print_message("injection: %s, tip %.2f mm deep, margin %.2f mm\n", score_verdict_name(m->inj[0].verdict),
                  m->inj[0].tip_depth_mm, m->inj[0].margin_mm);
    assert_int_equal(m->inj[0].verdict, VERDICT_INTRADERMAL);
    assert_true(fabs(m->inj[0].tip_depth_mm - depth) < 0.05);
    for (int i = 0; i < 150; i++)
        frame();

    /* Unplugged again: a key press goes on with the keyboard (and does nothing else). */
    unplug();
    frame();
    assert_true(trainer_paused(g_t));
    SDL_Event key;
    memset(&key, 0, sizeof key);
    key.type = SDL_KEYDOWN;
    key.key.keysym.scancode = SDL_SCANCODE_I;
    SDL_PushEvent(&key);
    frame();
    assert_false(trainer_paused(g_t));
    assert_int_equal(m->n_inj, 1);
    plug();
    frame();

    /* Start asks before ending, Start again ends; the log replays to the same report. */
    press(SDL_CONTROLLER_BUTTON_START);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_SCAN);
    press(SDL_CONTROLLER_BUTTON_START);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_DEBRIEF);
    char *live = session_report_json(ss, NULL);
    action_list al;
    trainer_flush_log(g_t); /* the log is written by its own thread */
    assert_true(actions_load_file(trainer_log_path(g_t), &al));
    char *replay = ru_replay_report(path, &al, err, sizeof err);
    if (!replay)
        fail_msg("replay: %s", err);
    assert_string_equal(replay, live);
    free(replay);
    free(live);
    actions_free(&al);
    unplug();
}

/* The pad on its own: remapped bindings, a name SDL does not know put back to its default,
 * and the rumble cues of the feedback (hub, adverse, pop) reaching the motors and ending. */
static void test_bindings_and_cues(void **state)
{
    (void)state;
    plug();
    controls_bindings b;
    controls_bindings_default(&b);
    const char *text = "pad.inject = y, leftstick\npad.needle_advance = nonsense\npad.needle_entry =\n";
    char err[1024];
    assert_true(controls_bindings_parse(text, strlen(text), &b, err, sizeof err));
    pad_def pd = pad_default_def();
    pad_state *p = pad_open(g_index, &pd, &b, err, sizeof err);
    assert_non_null(p);
    print_message("pad_open: %s\n", err);
    assert_non_null(strstr(err, "pad.needle_advance: unknown controller input 'nonsense'"));
    assert_string_equal(b.pad_axis[AXIS_NEEDLE_ADVANCE][0], "righttrigger");
    SDL_Event e;
    controls c;
    memset(&c, 0, sizeof c);
    SDL_JoystickSetVirtualButton(g_js, SDL_CONTROLLER_BUTTON_Y, 1);
    SDL_JoystickSetVirtualButton(g_js, SDL_CONTROLLER_BUTTON_A, 1);
    while (SDL_PollEvent(&e))
        pad_event(p, &e, &c);
    assert_true(c.pressed[BTN_INJECT]);
    assert_false(c.pressed[BTN_NEEDLE_ENTRY]); /* unbound */
    assert_true(c.pressed[BTN_CONFIRM]);
    SDL_JoystickSetVirtualButton(g_js, SDL_CONTROLLER_BUTTON_Y, 0);
    SDL_JoystickSetVirtualButton(g_js, SDL_CONTROLLER_BUTTON_A, 0);
    trigger(SDL_CONTROLLER_AXIS_TRIGGERRIGHT, 1.0);
    while (SDL_PollEvent(&e))
        pad_event(p, &e, &c);
    memset(&c, 0, sizeof c);
    assert_true(pad_end(p, 0.1, &c));
    assert_true(fabs(c.needle_speed_mm_s - pd.needle_max_mm_s) < 1e-9);
    /* The hub on the skin: the low motor at rumble_low for rumble_ms, then quiet. */
    controls_feedback fb = {.rumble_low = 0.8, .rumble_ms = 150};
    pad_feedback(p, &fb, 0.0);
    assert_int_equal(g_rumble.low, motor(0.8));
    controls_feedback none = {0};
    pad_feedback(p, &none, 0.1);
    assert_int_equal(g_rumble.low, motor(0.8));
    pad_feedback(p, &none, 0.1);
    assert_int_equal(g_rumble.low, 0);
    /* An adverse event on the high motor, a pop's pulse over it while it lasts. */
    fb = (controls_feedback){.rumble_high = 0.6, .rumble_ms = 400, .pop_count = 1, .pop_strength = 0.9};
    pad_feedback(p, &fb, 0.0);
    assert_int_equal(g_rumble.high, motor(0.35 + 0.65 * 0.9));
    pad_feedback(p, &none, pd.pop_pulse_ms / 1000.0 + 0.01);
    assert_int_equal(g_rumble.high, motor(0.6));
    pad_feedback(p, &none, 0.4);
    assert_int_equal(g_rumble.high, 0);
    /* With rumble off, nothing is asked of the motors. */
    pad_close(p);
    pd.rumble = false;
    p = pad_open(g_index, &pd, &b, err, sizeof err);
    int calls = g_rumble.calls;
    fb = (controls_feedback){.rumble_low = 1, .rumble_ms = 100};
    pad_feedback(p, &fb, 0.0);
    assert_int_equal(g_rumble.calls, calls);
    pad_close(p);
    trigger(SDL_CONTROLLER_AXIS_TRIGGERRIGHT, 0.0);
    unplug();
    frame();
}

/* A mapping line for the virtual pad as a user would copy it: the GUID as SDL prints it, CRC
 * and all, which SDL 2.26 never matches unless devices.c zeroes it. */
static void write_user_mapping(void)
{
    if (SDL_InitSubSystem(SDL_INIT_JOYSTICK) != 0)
        fail_msg("SDL joystick: %s", SDL_GetError());
    SDL_VirtualJoystickDesc desc = pad_desc();
    int idx = SDL_JoystickAttachVirtualEx(&desc);
    char guid[64];
    SDL_JoystickGetGUIDString(SDL_JoystickGetDeviceGUID(idx), guid, sizeof guid);
    SDL_JoystickDetachVirtual(idx);
    SDL_QuitSubSystem(SDL_INIT_JOYSTICK);
    assert_true(strncmp(guid + 4, "0000", 4) != 0); /* the trap is there to be avoided */
    char dir[1024], path[1100];
    snprintf(dir, sizeof dir, "%s/test_pad_config/mesosim", MESOSIM_BINARY_DIR);
    snprintf(path, sizeof path, "%s/gamecontrollerdb.txt", dir);
    mkdir(MESOSIM_BINARY_DIR "/test_pad_config", 0755);
    mkdir(dir, 0755);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# a user's mappings\n%s,mesosim test pad (user mapping),a:b0,b:b1,x:b2,y:b3,back:b4,guide:b5,"
               "start:b6,leftstick:b7,rightstick:b8,leftshoulder:b9,rightshoulder:b10,dpup:b11,dpdown:b12,"
               "dpleft:b13,dpright:b14,leftx:a0,lefty:a1,rightx:a2,righty:a3,lefttrigger:a4,righttrigger:a5,\n"
               "not a mapping\n", guid);
    fclose(f);
}

int main(void)
{
    char err[1024];
    setenv("XDG_CONFIG_HOME", MESOSIM_BINARY_DIR "/test_pad_config", 1);
    /* SDL drops controller input while no window of the program has the focus; an offscreen
     * window never gets it. */
    SDL_SetHint(SDL_HINT_JOYSTICK_ALLOW_BACKGROUND_EVENTS, "1");
    write_user_mapping();
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = MESOSIM_BINARY_DIR "/test_pad_sessions";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_pad: no GL window: %s\n", err);
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pad_drives_a_session),
        cmocka_unit_test(test_bindings_and_cues),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    return rc;
}
