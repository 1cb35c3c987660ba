/* The scenario editor under a real GL context (run_gl.sh): opened on a copy of the adult case,
 * a field changed with synthetic key events (typed entry and arrow nudges) changes the preview
 * drawn, undo brings back the very pixels of before and redo the change, Ctrl+S writes the
 * canonical text of the edited case (it validates), leaving with unsaved changes asks, and an
 * autosave left behind is offered and recovered on the next open; typed entry has a text
 * cursor; the scoring's yes/no fields and bone rows are editable; the picker's N starts a new
 * case from a case of the library and a file name. Screenshots
 * (test_window_editor_*.png) land in the build dir. Exits 77 only when no GL context can be had. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <SDL.h>

#include "scenario.h"
#include "scenario_edit.h"
#include "screen_editor.h"
#include "trainer.h"
#include "window_util.h"

static trainer *g_t;
static const char *g_driver = "gl";
static double g_time;
static char g_case[1024];
static scenario g_orig;
static const char *k_dermis = "phantom.layers[2].thickness_mm";

static shot frame(void)
{
    controls c;
    memset(&c, 0, sizeof c);
    c.zoom_factor = 1.0f;
    trainer_poll_input(g_t, 1.0 / 60.0, &c);
    g_time += 1.0 / 60.0;
    return wu_grab(g_t, g_time, &c);
}

static void step(void) { free(frame().rgba); }

static void key(SDL_Keycode k, Uint16 mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.sym = k;
    e.key.keysym.mod = mod;
    SDL_PushEvent(&e);
    step();
}

/* Text as SDL delivers it: in events of at most 31 bytes (here 16, ASCII beyond the first). */
static void type(const char *text)
{
    size_t n = strlen(text);
    for (size_t at = 0; at < n || at == 0; at += 16) {
        SDL_Event e;
        memset(&e, 0, sizeof e);
        e.type = SDL_TEXTINPUT;
        memcpy(e.text.text, text + at, n - at < 16 ? n - at : 16);
        SDL_PushEvent(&e);
        step();
        if (n == 0)
            break;
    }
}

static double value(const char *path)
{
    double v = 0;
    assert_true(scenario_get_number(scenario_edit_get(trainer_editor(g_t)), path, &v));
    return v;
}

static void select_field(const char *path)
{
    for (int i = 0; i < 2000 && strcmp(trainer_editor_selected(g_t), path); i++)
        key(SDLK_DOWN, 0);
    assert_string_equal(trainer_editor_selected(g_t), path);
}

/* Mean absolute difference of the preview's pixels between two frames. */
static double preview_diff(const shot *a, const shot *b)
{
    float r[4], m[4];
    trainer_editor_rects(g_t, r, m);
    double sum = 0;
    long n = 0;
    for (int y = (int)r[1]; y < (int)(r[1] + r[3]); y++)
        for (int x = (int)r[0]; x < (int)(r[0] + r[2]); x++, n++)
            sum += abs((int)wu_px(a, x, y)[0] - (int)wu_px(b, x, y)[0]);
    assert_true(n > 10000);
    return sum / (double)n;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void test_edit_preview_undo_save(void **state)
{
    (void)state;
    char err[2048];
    assert_true(trainer_open_editor(g_t, g_case, err, sizeof err));
    assert_int_equal(trainer_get_screen(g_t), SCREEN_EDITOR);
    select_field(k_dermis);
    shot before = frame();
    wu_save(&before, "test_window_editor", g_driver, "before");
    /* Typed entry: Enter, the digits, Enter. */
    key(SDLK_RETURN, 0);
    for (int i = 0; i < 8; i++)
        key(SDLK_BACKSPACE, 0);
    type("1.2");
    key(SDLK_RETURN, 0);
    assert_float_equal(value(k_dermis), 1.2, 0);
    assert_true(scenario_edit_dirty(trainer_editor(g_t)));
    shot thin = frame();
    wu_save(&thin, "test_window_editor", g_driver, "thin_dermis");
    /* A dermis half as thick moves the dermis-fat boundary up: the image changes. */
    double d = preview_diff(&before, &thin);
    assert_true(d > 2.0);
    /* Undo: the same case, so the same synthesis and the same pixels. */
    key(SDLK_z, KMOD_LCTRL);
    assert_float_equal(value(k_dermis), g_orig.phantom.layers[2].thickness_mm, 0);
    shot undone = frame();
    assert_float_equal(preview_diff(&before, &undone), 0.0, 0);
    /* Redo (Ctrl+Shift+Z), then Ctrl+Y has nothing left. */
    key(SDLK_z, KMOD_LCTRL | KMOD_LSHIFT);
    assert_float_equal(value(k_dermis), 1.2, 0);
    key(SDLK_y, KMOD_LCTRL);
    assert_float_equal(value(k_dermis), 1.2, 0);
    /* Arrow nudges: a tenth of the leading digit per step. */
    key(SDLK_RIGHT, 0);
    key(SDLK_RIGHT, 0);
    assert_float_equal(value(k_dermis), 1.4, 1e-12);
    key(SDLK_LEFT, 0);
    assert_float_equal(value(k_dermis), 1.3, 1e-12);
    /* Save: the file is the canonical text of the case with that one change, and validates. */
    key(SDLK_s, KMOD_LCTRL);
    assert_false(scenario_edit_dirty(trainer_editor(g_t)));
    scenario want = g_orig, got;
    assert_true(scenario_set_number(&want, k_dermis, 1.3, err, sizeof err));
    char *canon = scenario_save_string(&want), *text = read_all(g_case);
    assert_string_equal(text, canon);
    free(canon);
    free(text);
    scenario_diags dg = {0};
    assert_true(scenario_load_file(g_case, &got, &dg));
    scenario_diags_free(&dg);
    free(before.rgba);
    free(thin.rgba);
    free(undone.rgba);
}

static void test_problem_and_leave_asks(void **state)
{
    (void)state;
    char err[2048];
    assert_true(trainer_open_editor(g_t, g_case, err, sizeof err));
    /* A patch too narrow for the probe's pose and plan: the problem is named, in the top bar. */
    select_field("phantom.width_mm");
    key(SDLK_RETURN, 0);
    for (int i = 0; i < 8; i++)
        key(SDLK_BACKSPACE, 0);
    type("20");
    key(SDLK_RETURN, 0);
    const scenario_edit *e = trainer_editor(g_t);
    assert_true(scenario_edit_problems(e)->count > 0);
    shot s = frame();
    wu_save(&s, "test_window_editor", g_driver, "problem");
    free(s.rgba);
    /* Esc asks; Esc again stays. */
    key(SDLK_ESCAPE, 0);
    assert_int_equal(trainer_editor_asking(g_t), 2);
    key(SDLK_ESCAPE, 0);
    assert_int_equal(trainer_editor_asking(g_t), 0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_EDITOR);
    /* Let time pass: the autosave is written beside the file. */
    for (int i = 0; i < 6 * 60 / 10; i++) {
        g_time += 10.0 / 60.0;
        step();
    }
    assert_true(scenario_edit_has_autosave(g_case));
}

static void mouse(Uint32 type, int x, int y)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = type;
    if (type == SDL_MOUSEMOTION) {
        e.motion.x = x, e.motion.y = y, e.motion.state = SDL_BUTTON_LMASK;
    } else {
        e.button.button = SDL_BUTTON_LEFT;
        e.button.x = x, e.button.y = y;
        e.button.state = type == SDL_MOUSEBUTTONDOWN ? SDL_PRESSED : SDL_RELEASED;
    }
    SDL_PushEvent(&e);
    step();
}

/* A plan point dragged on the skin map moves by the drag in mm, and the drag is one undo step. */
static void test_map_drag(void **state)
{
    (void)state;
    char err[2048];
    assert_true(trainer_open_editor(g_t, g_case, err, sizeof err));
    step();
    const scenario *sc = scenario_edit_get(trainer_editor(g_t));
    assert_true(sc->plan.n_points > 0);
    float img[4], map[4];
    trainer_editor_rects(g_t, img, map);
    int w, h, ww, wh;
    trainer_drawable_size(g_t, &w, &h);
    SDL_GetWindowSize(SDL_GL_GetCurrentWindow(), &ww, &wh);
    float pt = ww > 0 ? (float)ww / (float)w : 1.0f; /* window points per framebuffer px */
    double k = map[2] / sc->phantom.width_mm, x0 = sc->plan.points_mm[0][0], y0 = sc->plan.points_mm[0][1];
    int px = (int)((map[0] + 0.5f * map[2] + (float)(x0 * k)) * pt), py = (int)((map[1] + 0.5f * map[3] + (float)(y0 * k)) * pt);
    mouse(SDL_MOUSEBUTTONDOWN, px, py);
    assert_float_equal(value("plan.points[0].x_mm"), x0, 0); /* a click alone moves nothing */
    for (int i = 1; i <= 5; i++)
        mouse(SDL_MOUSEMOTION, px + 6 * i, py + 2 * i);
    mouse(SDL_MOUSEBUTTONUP, px + 30, py + 10);
    double dx = value("plan.points[0].x_mm") - x0, dy = value("plan.points[0].y_mm") - y0;
    assert_float_equal(dx, 30 / pt / k, 0.15 + 1 / k);
    assert_float_equal(dy, 10 / pt / k, 0.15 + 1 / k);
    key(SDLK_z, KMOD_LCTRL);
    assert_float_equal(value("plan.points[0].x_mm"), x0, 0);
    assert_float_equal(value("plan.points[0].y_mm"), y0, 0);
    assert_false(scenario_edit_can_undo(trainer_editor(g_t)));
}

/* The editor of the last test never closed (as after a crash): opening the file again offers
 * the autosave; Y takes its edits back, unsaved. */
static void test_recovery(void **state)
{
    (void)state;
    char err[2048];
    assert_true(scenario_edit_has_autosave(g_case));
    assert_true(trainer_open_editor(g_t, g_case, err, sizeof err));
    assert_int_equal(trainer_editor_asking(g_t), 1);
    step();
    shot s = frame();
    wu_save(&s, "test_window_editor", g_driver, "recover");
    free(s.rgba);
    key(SDLK_y, 0);
    assert_int_equal(trainer_editor_asking(g_t), 0);
    assert_float_equal(value("phantom.width_mm"), 20, 0);
    assert_true(scenario_edit_dirty(trainer_editor(g_t)));
    /* Undo shows the file as saved. */
    key(SDLK_z, KMOD_LCTRL);
    assert_float_equal(value("phantom.width_mm"), g_orig.phantom.width_mm, 0);
    /* Leaving, discarding the changes, drops the autosave. */
    key(SDLK_z, KMOD_LCTRL | KMOD_LSHIFT);
    key(SDLK_ESCAPE, 0);
    assert_int_equal(trainer_editor_asking(g_t), 2);
    key(SDLK_d, 0);
    assert_false(scenario_edit_has_autosave(g_case));
}

/* E on the picker opens the selected case in the editor; Esc with nothing changed goes back. */
static void test_from_picker(void **state)
{
    (void)state;
    assert_true(trainer_show_picker(g_t) > 0);
    step();
    int sel = trainer_case_selected(g_t);
    char want[1024];
    snprintf(want, sizeof want, "%s", trainer_case_path(g_t, sel));
    key(SDLK_e, 0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_EDITOR);
    assert_string_equal(scenario_edit_path(trainer_editor(g_t)), want);
    assert_false(scenario_edit_dirty(trainer_editor(g_t)));
    key(SDLK_ESCAPE, 0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_PICKER);
    assert_int_equal(trainer_editor_asking(g_t), 0);
}

/* The text cursor of typed entry: Home, End, Left and Right move it by whole characters,
 * typing inserts where it is, Backspace and Delete take the character before and under it. */
static void test_text_cursor(void **state)
{
    (void)state;
    char err[2048];
    assert_true(trainer_open_editor(g_t, g_case, err, sizeof err));
    select_field("name");
    key(SDLK_RETURN, 0);
    key(SDLK_HOME, 0);
    type("A ");
    key(SDLK_END, 0);
    type("!");
    key(SDLK_LEFT, 0);
    type("?");
    shot s = frame();
    wu_save(&s, "test_window_editor", g_driver, "cursor");
    free(s.rgba);
    key(SDLK_HOME, 0);
    key(SDLK_RIGHT, 0);
    key(SDLK_DELETE, 0);  /* the space */
    key(SDLK_BACKSPACE, 0); /* the A */
    key(SDLK_END, 0);
    type("\xc3\xa9"); /* one character of two bytes */
    key(SDLK_LEFT, 0);
    type("x");
    key(SDLK_RETURN, 0);
    char want[300];
    snprintf(want, sizeof want, "%s?!x\xc3\xa9", g_orig.name);
    assert_string_equal(scenario_edit_get(trainer_editor(g_t))->name, want);
    /* The edit is one undo step. */
    key(SDLK_z, KMOD_LCTRL);
    assert_string_equal(scenario_edit_get(trainer_editor(g_t))->name, g_orig.name);
}

/* The fields the editor lacked: the scoring's yes/no choices and the bones as rows (a bone
 * added under the centre shows in the preview). */
static void test_scoring_fields_and_bone_row(void **state)
{
    (void)state;
    select_field("scoring.require_doppler_check");
    key(SDLK_RIGHT, 0);
    assert_true(scenario_edit_get(trainer_editor(g_t))->scoring.require_doppler_check);
    select_field("scoring.required_steps.sterile_field");
    key(SDLK_RIGHT, 0);
    assert_false((scenario_edit_get(trainer_editor(g_t))->scoring.required_steps >> 2) & 1u);
    key(SDLK_z, KMOD_LCTRL);
    assert_true((scenario_edit_get(trainer_editor(g_t))->scoring.required_steps >> 2) & 1u);
    key(SDLK_UP, 0);
    key(SDLK_UP, 0);
    key(SDLK_UP, 0);
    key(SDLK_UP, 0);
    for (int i = 0; i < 2000 && strcmp(trainer_editor_selected(g_t), "+ add a row to phantom.bones"); i++)
        key(SDLK_UP, 0);
    assert_string_equal(trainer_editor_selected(g_t), "+ add a row to phantom.bones");
    shot before = frame();
    key(SDLK_RETURN, 0);
    assert_int_equal(scenario_edit_get(trainer_editor(g_t))->phantom.n_bones, 1);
    step();
    shot bone = frame();
    wu_save(&bone, "test_window_editor", g_driver, "bone");
    assert_true(preview_diff(&before, &bone) > 1.0);
    free(before.rgba);
    free(bone.rgba);
    /* The bone's apex dragged on the skin map moves the bone by the drag in mm. */
    const scenario *sc = scenario_edit_get(trainer_editor(g_t));
    float img[4], map[4];
    trainer_editor_rects(g_t, img, map);
    int w, h, ww, wh;
    trainer_drawable_size(g_t, &w, &h);
    SDL_GetWindowSize(SDL_GL_GetCurrentWindow(), &ww, &wh);
    float pt = ww > 0 ? (float)ww / (float)w : 1.0f;
    double k = map[2] / sc->phantom.width_mm, bx = sc->phantom.bones[0].x_mm,
           by = sc->phantom.bones[0].y_mm;
    int px = (int)((map[0] + 0.5f * map[2] + (float)(bx * k)) * pt),
        py = (int)((map[1] + 0.5f * map[3] + (float)(by * k)) * pt);
    mouse(SDL_MOUSEBUTTONDOWN, px, py);
    for (int i = 1; i <= 4; i++)
        mouse(SDL_MOUSEMOTION, px + 5 * i, py - 2 * i);
    mouse(SDL_MOUSEBUTTONUP, px + 20, py - 8);
    assert_float_equal(value("phantom.bones[0].x_mm") - bx, 20 / pt / k, 0.15 + 1 / k);
    assert_float_equal(value("phantom.bones[0].y_mm") - by, -8 / pt / k, 0.15 + 1 / k);
    key(SDLK_ESCAPE, 0);
    assert_int_equal(trainer_editor_asking(g_t), 2);
    key(SDLK_d, 0);
    scenario_edit_discard_autosave(g_case);
}

/* N on the picker: a new case asks which case it starts from and the file name, and the file
 * written is that case, named after the file. */
static void test_new_case_from_picker(void **state)
{
    (void)state;
    char path[1024], err[2048];
    snprintf(path, sizeof path, "%s/test_window_editor_new.json", MESOSIM_BINARY_DIR);
    unlink(path);
    assert_true(trainer_show_picker(g_t) > 0);
    step();
    int n = trainer_case_count(g_t), sel = trainer_case_selected(g_t);
    key(SDLK_n, 0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_EDITOR);
    assert_int_equal(trainer_editor_asking(g_t), 3);
    key(SDLK_DOWN, 0);
    int want_i = sel + 1 < n ? sel + 1 : sel;
    shot q = frame();
    wu_save(&q, "test_window_editor", g_driver, "new_case");
    free(q.rgba);
    scenario want;
    scenario_diags d = {0};
    assert_true(scenario_load_file(trainer_case_path(g_t, want_i), &want, &d));
    key(SDLK_RETURN, 0);
    assert_int_equal(trainer_editor_asking(g_t), 0);
    assert_string_equal(scenario_edit_path(trainer_editor(g_t)), "");
    /* The file name is asked for, "new_case.json" offered: replace it. */
    key(SDLK_HOME, 0);
    for (int i = 0; i < 20; i++)
        key(SDLK_DELETE, 0);
    type(path);
    key(SDLK_RETURN, 0);
    assert_string_equal(scenario_edit_path(trainer_editor(g_t)), path);
    assert_false(scenario_edit_dirty(trainer_editor(g_t)));
    assert_true(scenario_set_string(&want, "name", "test_window_editor_new", err, sizeof err));
    char *canon = scenario_save_string(&want), *text = read_all(path);
    assert_string_equal(text, canon);
    free(canon);
    free(text);
    key(SDLK_ESCAPE, 0);
    assert_int_equal(trainer_get_screen(g_t), SCREEN_PICKER);
    scenario_edit_discard_autosave(path);
    unlink(path);
}

int main(void)
{
    char err[1024];
    setenv("XDG_CONFIG_HOME", MESOSIM_BINARY_DIR "/test_window_editor_config", 1);
    snprintf(g_case, sizeof g_case, "%s/test_window_editor_case.json", MESOSIM_BINARY_DIR);
    scenario_diags d = {0};
    if (!scenario_load_file(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", &g_orig, &d) ||
        !scenario_save_file(&g_orig, g_case, err, sizeof err)) {
        fprintf(stderr, "test_window_editor: cannot copy the adult case\n");
        return 1;
    }
    scenario_edit_discard_autosave(g_case);
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = "";
    def.state_path = "";
    g_t = trainer_create(&def, err, sizeof err);
    if (!g_t) {
        fprintf(stderr, "test_window_editor: no GL window: %s\n", err);
        return 77;
    }
    const char *drv = getenv("SDL_VIDEODRIVER");
    g_driver = drv && *drv ? drv : "x11";
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edit_preview_undo_save),
        cmocka_unit_test(test_map_drag),
        cmocka_unit_test(test_problem_and_leave_asks),
        cmocka_unit_test(test_recovery),
        cmocka_unit_test(test_from_picker),
        cmocka_unit_test(test_text_cursor),
        cmocka_unit_test(test_scoring_fields_and_bone_row),
        cmocka_unit_test(test_new_case_from_picker),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    trainer_destroy(g_t);
    unlink(g_case);
    scenario_edit_discard_autosave(g_case);
    return rc;
}
