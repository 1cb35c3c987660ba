/* The editor's core (scenario_edit): undo and redo take the scenario back and forth exactly,
 * same-path changes merge into one step, the validation message lands on the field it concerns
 * in the words of `mesosim validate`, saving is canonical and round-trips every bundled case,
 * and an editor killed mid-edit (fork + SIGKILL) leaves an autosave that recovers its edits. */
#include <dirent.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "atomic_file.h"
#include "scenario.h"
#include "scenario_edit.h"
#include "score.h"

static scenario_edit *edit_new(const scenario *s, const char *path)
{
    scenario_edit_def def = scenario_edit_default_def();
    def.write_file = atomic_file_write;
    scenario_edit *e = scenario_edit_create(&def, s, path);
    assert_non_null(e);
    return e;
}

static double num(const scenario_edit *e, const char *path)
{
    double v;
    assert_true(scenario_get_number(scenario_edit_get(e), path, &v));
    return v;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
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

/* Two scenarios are the same case when their canonical texts are equal: struct bytes also
 * hold padding, which a load does not clear. */
static void assert_same_case(const scenario *a, const scenario *b)
{
    char *ta = scenario_save_string(a), *tb = scenario_save_string(b);
    assert_non_null(ta);
    assert_non_null(tb);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);
}

static void temp_dir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/mesosim_edit_XXXXXX");
    assert_non_null(mkdtemp(out));
}

static void test_undo_redo(void **state)
{
    (void)state;
    scenario s0 = scenario_default();
    scenario_edit *e = edit_new(&s0, NULL);
    char err[256];
    assert_false(scenario_edit_can_undo(e));
    assert_false(scenario_edit_dirty(e));
    assert_true(scenario_edit_set_number(e, "probe.freq_mhz", 15, err, sizeof err));
    assert_true(scenario_edit_set_number(e, "phantom.layers[1].thickness_mm", 2.5, err, sizeof err));
    assert_true(scenario_edit_set_string(e, "patient.sex", "male", err, sizeof err));
    scenario after = *scenario_edit_get(e);
    assert_true(scenario_edit_dirty(e));
    /* Three steps back gives the starting scenario, byte for byte. */
    assert_true(scenario_edit_undo(e));
    assert_string_not_equal(scenario_edit_get(e)->patient.sex, "male");
    assert_true(scenario_edit_undo(e));
    assert_float_equal(num(e, "phantom.layers[1].thickness_mm"),
                        s0.phantom.layers[1].thickness_mm, 0);
    assert_true(scenario_edit_undo(e));
    assert_false(scenario_edit_undo(e));
    assert_memory_equal(scenario_edit_get(e), &s0, sizeof s0);
    assert_false(scenario_edit_dirty(e)); /* back to the case as opened */
    /* ... and three forward the edited one. */
    for (int i = 0; i < 3; i++)
        assert_true(scenario_edit_redo(e));
    assert_false(scenario_edit_redo(e));
    assert_memory_equal(scenario_edit_get(e), &after, sizeof after);
    /* A new change after an undo drops the redo steps. */
    assert_true(scenario_edit_undo(e));
    assert_true(scenario_edit_set_number(e, "probe.gain_db", 5, err, sizeof err));
    assert_false(scenario_edit_can_redo(e));
    scenario_edit_destroy(e);
}

static void test_merge_and_refusal(void **state)
{
    (void)state;
    scenario s0 = scenario_default();
    scenario_edit *e = edit_new(&s0, NULL);
    char err[256];
    /* An arrow key held: ten nudges of one value are one step. */
    for (int i = 1; i <= 10; i++)
        assert_true(scenario_edit_set_number(e, "probe.depth_mm", 20 + i, err, sizeof err));
    assert_float_equal(num(e, "probe.depth_mm"), 30, 0);
    assert_true(scenario_edit_undo(e));
    assert_float_equal(num(e, "probe.depth_mm"), s0.probe.depth_mm, 0);
    assert_false(scenario_edit_can_undo(e));
    /* Letting go ends the step: two gestures, two steps. */
    assert_true(scenario_edit_set_number(e, "probe.depth_mm", 25, err, sizeof err));
    scenario_edit_break_merge(e);
    assert_true(scenario_edit_set_number(e, "probe.depth_mm", 26, err, sizeof err));
    assert_true(scenario_edit_undo(e));
    assert_float_equal(num(e, "probe.depth_mm"), 25, 0);
    /* A gesture over two values is one step too. */
    scenario_edit_break_merge(e);
    scenario before = *scenario_edit_get(e);
    scenario_edit_begin_group(e);
    for (int i = 1; i <= 5; i++) {
        assert_true(scenario_edit_set_number(e, "probe.pose.x_mm", i, err, sizeof err));
        assert_true(scenario_edit_set_number(e, "probe.pose.y_mm", -i, err, sizeof err));
    }
    scenario_edit_break_merge(e);
    assert_true(scenario_edit_undo(e));
    assert_memory_equal(scenario_edit_get(e), &before, sizeof before);
    assert_true(scenario_edit_redo(e));
    /* What the loader refuses is refused with its message and changes nothing. */
    unsigned rev = scenario_edit_revision(e);
    assert_false(scenario_edit_set_number(e, "probe.freq_mhz", 30, err, sizeof err));
    assert_non_null(strstr(err, "10..22 MHz"));
    assert_int_equal(scenario_edit_revision(e), rev);
    /* Setting a value to what it is records nothing. */
    assert_true(scenario_edit_set_number(e, "probe.depth_mm", 25, err, sizeof err));
    assert_int_equal(scenario_edit_revision(e), rev);
    scenario_edit_destroy(e);
}

static void test_bounded_stack(void **state)
{
    (void)state;
    scenario s0 = scenario_default();
    scenario_edit_def def = scenario_edit_default_def();
    def.undo_depth = 4;
    scenario_edit *e = scenario_edit_create(&def, &s0, NULL);
    assert_non_null(e);
    char err[256];
    static const char *const paths[] = {"probe.gain_db", "probe.depth_mm", "probe.tx_focus_mm",
                                        "probe.dynamic_range_db", "probe.freq_mhz", "seed"};
    static const double vals[] = {3, 22, 4, 55, 14, 7};
    for (int i = 0; i < 6; i++)
        assert_true(scenario_edit_set_number(e, paths[i], vals[i], err, sizeof err));
    int undone = 0;
    while (scenario_edit_undo(e))
        undone++;
    assert_int_equal(undone, 4);
    /* The two oldest steps fell off: their values stay. */
    assert_float_equal(num(e, "probe.gain_db"), 3, 0);
    assert_float_equal(num(e, "probe.depth_mm"), 22, 0);
    assert_float_equal(num(e, "probe.tx_focus_mm"), s0.probe.tx_focus_mm, 0);
    scenario_edit_destroy(e);
}

static void test_rows(void **state)
{
    (void)state;
    scenario s0 = scenario_default();
    scenario_edit *e = edit_new(&s0, NULL);
    char err[256];
    int layers = scenario_edit_rows(e, "phantom.layers");
    assert_int_equal(layers, s0.phantom.n_layers);
    assert_int_equal(scenario_edit_rows(e, "phantom.nothing"), -1);
    assert_false(scenario_edit_add_row(e, "phantom.nothing", err, sizeof err));
    /* The default rows of every empty list make a scenario that still loads. */
    static const char *const lists[] = {"phantom.surface", "phantom.vessels", "phantom.inclusions",
                                        "plan.points"};
    for (int i = 0; i < 4; i++) {
        int before = scenario_edit_rows(e, lists[i]);
        assert_true(scenario_edit_add_row(e, lists[i], err, sizeof err));
        assert_int_equal(scenario_edit_rows(e, lists[i]), before + 1);
    }
    const scenario_diags *p = scenario_edit_problems(e);
    for (int i = 0; i < p->count; i++)
        fprintf(stderr, "problem: %s: %s\n", p->items[i].path, p->items[i].message);
    assert_int_equal(p->count, 0);
    /* Removing takes the row out; the rows after it move up. */
    assert_true(scenario_edit_set_number(e, "phantom.layers[1].thickness_mm", 3.25, err, sizeof err));
    assert_true(scenario_edit_remove_row(e, "phantom.layers", 0, err, sizeof err));
    assert_float_equal(num(e, "phantom.layers[0].thickness_mm"), 3.25, 0);
    assert_false(scenario_edit_remove_row(e, "phantom.layers", 40, err, sizeof err));
    assert_non_null(strstr(err, "no row 40"));
    while (scenario_edit_rows(e, "phantom.layers") > 1)
        assert_true(scenario_edit_remove_row(e, "phantom.layers", 0, err, sizeof err));
    assert_false(scenario_edit_remove_row(e, "phantom.layers", 0, err, sizeof err));
    assert_non_null(strstr(err, "at least 1"));
    /* A structural change is one undo step like any other. */
    while (scenario_edit_undo(e))
        ;
    assert_memory_equal(scenario_edit_get(e), &s0, sizeof s0);
    scenario_edit_destroy(e);
}

/* A rule between fields: shrinking the patch puts a plan point off it. The message is the one
 * `mesosim validate` prints, on the point's path; other fields have none. */
static void test_validation_on_field(void **state)
{
    (void)state;
    scenario s0 = scenario_default();
    scenario_edit *e = edit_new(&s0, NULL);
    char err[256];
    assert_null(scenario_edit_problem(e, "plan.points[0]"));
    assert_true(scenario_edit_add_row(e, "plan.points", err, sizeof err));
    int last = scenario_edit_rows(e, "plan.points") - 1;
    char px[64], pt[64];
    snprintf(px, sizeof px, "plan.points[%d].x_mm", last);
    snprintf(pt, sizeof pt, "plan.points[%d]", last);
    assert_true(scenario_edit_set_number(e, px, 30, err, sizeof err));
    assert_true(scenario_edit_set_number(e, "phantom.width_mm", 40, err, sizeof err));
    const char *m = scenario_edit_problem(e, px);
    assert_non_null(m);
    assert_non_null(strstr(m, "outside the 40 x"));
    assert_non_null(scenario_edit_problem(e, pt));
    assert_null(scenario_edit_problem(e, "probe.freq_mhz"));
    assert_null(scenario_edit_problem(e, "plan.points[10]"));
    /* The same words as the loader's: the saved file fails `validate` with this message. */
    char *text = scenario_save_string(scenario_edit_get(e));
    assert_non_null(text);
    scenario back;
    scenario_diags d = {0};
    assert_false(scenario_load_string(text, &back, &d));
    bool found = false;
    for (int i = 0; i < d.count; i++)
        found |= strcmp(d.items[i].message, m) == 0 && strcmp(d.items[i].path, pt) == 0;
    assert_true(found);
    scenario_diags_free(&d);
    free(text);
    /* Undo clears it. */
    assert_true(scenario_edit_undo(e));
    assert_null(scenario_edit_problem(e, px));
    scenario_edit_destroy(e);
}

/* Every bundled case: load -> edit session -> save -> the file is the canonical text, and
 * loading it gives the same scenario back. */
static void test_round_trip_bundled(void **state)
{
    (void)state;
    char dir[256], src[1024], dst[1024];
    temp_dir(dir, sizeof dir);
    char sdir[512];
    snprintf(sdir, sizeof sdir, "%s/scenarios", MESOSIM_SOURCE_DIR);
    DIR *d = opendir(sdir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") || strstr(de->d_name, "schema"))
            continue;
        snprintf(src, sizeof src, "%s/%s", sdir, de->d_name);
        scenario s, back;
        scenario_diags dg = {0};
        assert_true(scenario_load_file(src, &s, &dg));
        snprintf(dst, sizeof dst, "%s/%s", dir, de->d_name);
        scenario_edit *e = edit_new(&s, dst);
        char err[256];
        assert_true(scenario_edit_save(e, err, sizeof err));
        assert_false(scenario_edit_dirty(e));
        char *text = read_all(dst), *canon = scenario_save_string(&s);
        assert_string_equal(text, canon);
        assert_true(scenario_load_file(dst, &back, &dg));
        assert_same_case(&back, &s);
        free(text);
        free(canon);
        scenario_edit_destroy(e);
        unlink(dst);
        n++;
    }
    closedir(d);
    assert_true(n >= 5);
    rmdir(dir);
}

static void test_autosave_timing(void **state)
{
    (void)state;
    char dir[256], path[512], auto_path[600];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/case.json", dir);
    assert_true(scenario_edit_autosave_path(path, auto_path, sizeof auto_path));
    char want[600];
    snprintf(want, sizeof want, "%s/.case.json.autosave", dir);
    assert_string_equal(auto_path, want);
    scenario s0 = scenario_default();
    scenario_edit *e = edit_new(&s0, path);
    char err[256];
    assert_false(scenario_edit_tick(e, 0.0, err, sizeof err)); /* clean: nothing to keep */
    assert_true(scenario_edit_set_number(e, "probe.gain_db", 4, err, sizeof err));
    assert_false(scenario_edit_tick(e, 1.0, err, sizeof err)); /* too soon */
    assert_false(scenario_edit_has_autosave(path));
    assert_true(scenario_edit_tick(e, 5.5, err, sizeof err));
    assert_true(scenario_edit_has_autosave(path));
    assert_false(scenario_edit_tick(e, 20.0, err, sizeof err)); /* nothing new */
    /* Undone back to the file: the autosave goes; redone: it comes back at the next interval. */
    assert_true(scenario_edit_undo(e));
    assert_false(scenario_edit_tick(e, 21.0, err, sizeof err));
    assert_false(scenario_edit_has_autosave(path));
    assert_true(scenario_edit_redo(e));
    assert_true(scenario_edit_tick(e, 27.0, err, sizeof err));
    assert_true(scenario_edit_has_autosave(path));
    /* A structural change goes out at the next tick, whatever the clock. */
    assert_true(scenario_edit_add_row(e, "plan.points", err, sizeof err));
    assert_true(scenario_edit_tick(e, 27.1, err, sizeof err));
    scenario r;
    scenario_diags d = {0};
    assert_true(scenario_edit_recover(path, &r, &d));
    assert_same_case(&r, scenario_edit_get(e));
    /* A draft that breaks a rule between fields (the probe off a narrower patch) is kept and
     * recovered all the same, its problems said. */
    assert_true(scenario_edit_set_number(e, "probe.pose.x_mm", 15, err, sizeof err));
    assert_true(scenario_edit_set_number(e, "phantom.width_mm", 20, err, sizeof err));
    assert_true(scenario_edit_problems(e)->count > 0);
    assert_true(scenario_edit_tick(e, 33.0, err, sizeof err));
    assert_true(scenario_edit_recover(path, &r, &d));
    assert_float_equal(r.phantom.width_mm, 20, 0);
    assert_true(d.count > 0);
    scenario_diags_free(&d);
    assert_false(scenario_load_file(auto_path, &r, &d));
    scenario_diags_free(&d);
    /* A save removes it. */
    assert_true(scenario_edit_save(e, err, sizeof err));
    assert_false(scenario_edit_has_autosave(path));
    assert_false(scenario_edit_recover(path, &r, &d));
    assert_true(d.count > 0);
    scenario_diags_free(&d);
    scenario_edit_destroy(e);
    unlink(path);
    rmdir(dir);
}

/* The editor's process dies mid-edit (SIGKILL: no handler runs). What it autosaved comes back
 * on the next open; the file itself is as it was. */
static void test_autosave_survives_kill(void **state)
{
    (void)state;
    char dir[256], path[512];
    temp_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/case.json", dir);
    scenario s0 = scenario_default();
    char err[256];
    assert_true(scenario_save_file(&s0, path, err, sizeof err));
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        scenario_edit *e = edit_new(&s0, path);
        scenario_edit_set_number(e, "probe.freq_mhz", 12.5, err, sizeof err);
        scenario_edit_add_row(e, "phantom.vessels", err, sizeof err);
        scenario_edit_set_number(e, "phantom.vessels[0].radius_mm", 1.75, err, sizeof err);
        scenario_edit_tick(e, 0.0, err, sizeof err);
        scenario_edit_tick(e, 6.0, err, sizeof err);
        if (write(fds[1], "k", 1) != 1)
            _exit(3);
        /* Edits after the last autosave: lost with the process, as the header says. */
        scenario_edit_set_number(e, "probe.gain_db", 9, err, sizeof err);
        for (;;)
            pause();
    }
    close(fds[1]);
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    close(fds[0]);
    kill(pid, SIGKILL);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    assert_true(scenario_edit_has_autosave(path));
    scenario r, file;
    scenario_diags d = {0};
    assert_true(scenario_edit_recover(path, &r, &d));
    assert_float_equal(r.probe.freq_mhz, 12.5, 0);
    assert_int_equal(r.phantom.n_vessels, s0.phantom.n_vessels + 1);
    assert_float_equal(r.phantom.vessels[0].radius_mm, 1.75, 0);
    assert_float_equal(r.probe.gain_db, s0.probe.gain_db, 0);
    assert_true(scenario_load_file(path, &file, &d));
    assert_same_case(&file, &s0);
    /* No temporary file beside it: only the case and its autosave. */
    DIR *dd = opendir(dir);
    int entries = 0;
    struct dirent *de;
    while ((de = readdir(dd)))
        entries += de->d_name[0] != '.' || strcmp(de->d_name, ".case.json.autosave") == 0;
    closedir(dd);
    assert_int_equal(entries, 2);
    scenario_edit_discard_autosave(path);
    assert_false(scenario_edit_has_autosave(path));
    unlink(path);
    rmdir(dir);
}

/* scoring.required_steps and the scoring's yes/no fields: set through the editor (undoable),
 * written only when not the default, read back exactly, refused in plain words when bad, and
 * used by the score: a step the case leaves out neither lowers the procedure part nor fails
 * asepsis. */
static void test_required_steps_and_scoring_flags(void **state)
{
    (void)state;
    scenario sc = scenario_default();
    char *text = scenario_save_string(&sc);
    assert_null(strstr(text, "required_steps"));
    assert_null(strstr(text, "require_doppler_check"));
    free(text);

    scenario_edit *e = edit_new(&sc, NULL);
    char err[300];
    assert_true(scenario_edit_set_bool(e, "scoring.required_steps.sterile_field", false, err,
                                       sizeof err));
    assert_true(scenario_edit_set_bool(e, "scoring.require_doppler_check", true, err, sizeof err));
    assert_true(scenario_edit_set_bool(e, "scoring.measure_dermis", true, err, sizeof err));
    const scenario *cur = scenario_edit_get(e);
    assert_int_equal(cur->scoring.required_steps, SCORE_ALL_STEPS & ~(1u << STEP_STERILE_FIELD));
    assert_true(cur->scoring.require_doppler_check && cur->scoring.measure_dermis);
    assert_false(scenario_edit_set_bool(e, "scoring.required_steps.gloves", false, err,
                                        sizeof err));
    assert_non_null(strstr(err, "no step named \"gloves\""));

    text = scenario_save_string(cur);
    assert_non_null(strstr(text, "\"required_steps\": [\"positioning\", \"disinfection\", "
                                 "\"assessment\", \"injection\", \"spread_check\", \"dressing\"]"));
    scenario back;
    scenario_diags d = {0};
    assert_true(scenario_load_string(text, &back, &d));
    assert_int_equal(back.scoring.required_steps, cur->scoring.required_steps);
    assert_true(back.scoring.require_doppler_check && back.scoring.measure_dermis);
    char *again = scenario_save_string(&back);
    assert_string_equal(text, again);
    free(text);
    free(again);

    /* Undo takes the three changes back one by one. */
    assert_true(scenario_edit_undo(e) && scenario_edit_undo(e) && scenario_edit_undo(e));
    assert_int_equal(scenario_edit_get(e)->scoring.required_steps, SCORE_ALL_STEPS);
    assert_false(scenario_edit_get(e)->scoring.require_doppler_check);

    /* The last step cannot go: a case asks for at least one. */
    for (int k = 0; k < STEP_COUNT - 1; k++) {
        char p[96];
        snprintf(p, sizeof p, "scoring.required_steps.%s", score_step_name((score_step)k));
        assert_true(scenario_edit_set_bool(e, p, false, err, sizeof err));
    }
    assert_false(scenario_edit_set_bool(e, "scoring.required_steps.dressing", false, err,
                                        sizeof err));
    assert_non_null(strstr(err, "at least one step"));
    assert_int_equal(scenario_edit_get(e)->scoring.required_steps, 1u << STEP_DRESSING);
    scenario_edit_destroy(e);

    /* The loader names each bad entry by its path. */
    assert_false(scenario_load_string(
        "{\"version\": 1, \"scoring\": {\"required_steps\": [\"injection\", \"sterile_feild\", "
        "\"injection\", 3]}}", &back, &d));
    bool typo = false, twice = false, type = false;
    for (int i = 0; i < d.count; i++) {
        typo |= !strcmp(d.items[i].path, "scoring.required_steps[1]") &&
                strstr(d.items[i].message, "sterile_field") != NULL;
        twice |= !strcmp(d.items[i].path, "scoring.required_steps[2]") &&
                 strstr(d.items[i].message, "twice") != NULL;
        type |= !strcmp(d.items[i].path, "scoring.required_steps[3]");
    }
    assert_true(typo && twice && type);
    scenario_diags_free(&d);
    assert_false(scenario_load_string("{\"version\": 1, \"scoring\": {\"required_steps\": []}}",
                                      &back, &d));
    assert_string_equal(d.items[0].path, "scoring.required_steps");
    scenario_diags_free(&d);

    /* The score: every step done in order but the sterile field. */
    score_rules r = score_default_rules();
    score_plan plan = score_default_plan();
    static score_session ss;
    memset(&ss, 0, sizeof ss);
    ss.entered = true;
    ss.first_entry_t_s = 30;
    for (int k = 0; k < STEP_COUNT; k++) {
        ss.step_done[k] = k != STEP_STERILE_FIELD;
        ss.step_t_s[k] = k < STEP_INJECTION ? 5.0 * k : 40.0 + 5.0 * k;
    }
    score_result all = score_compute(&r, &plan, &ss);
    assert_true(all.part[PART_PROCEDURE] < 0.9);
    assert_false(all.critical_ok[CRITICAL_ASEPSIS]);
    r.required_steps &= ~(1u << STEP_STERILE_FIELD);
    assert_null(score_check(&r));
    score_result tut = score_compute(&r, &plan, &ss);
    assert_true(tut.part[PART_PROCEDURE] > 0.999);
    assert_true(tut.critical_ok[CRITICAL_ASEPSIS]);
    assert_non_null(strstr(tut.critical_reason[CRITICAL_ASEPSIS], "no sterile field"));
    r.required_steps = 0;
    assert_non_null(score_check(&r));
}

/* The bones and the learning goals are rows like the others: added with a default, copied,
 * removed. */
static void test_bone_and_goal_rows(void **state)
{
    (void)state;
    scenario sc = scenario_default();
    scenario_edit *e = edit_new(&sc, NULL);
    char err[300];
    assert_int_equal(scenario_edit_rows(e, "phantom.bones"), 0);
    assert_true(scenario_edit_add_row(e, "phantom.bones", err, sizeof err));
    const scenario *cur = scenario_edit_get(e);
    assert_int_equal(cur->phantom.n_bones, 1);
    assert_int_equal(cur->phantom.bones[0].kind, PHANTOM_BONE_SPINOUS);
    assert_true(cur->phantom.bones[0].depth_mm < cur->probe.depth_mm);
    scenario_diags d = {0};
    assert_int_equal(scenario_check(cur, &d), 0);
    assert_true(scenario_edit_set_number(e, "phantom.bones[0].x_mm", 3, err, sizeof err));
    assert_true(scenario_edit_add_row(e, "phantom.bones", err, sizeof err));
    assert_true(scenario_get_number(scenario_edit_get(e), "phantom.bones[1].x_mm",
                                    &(double){0}));
    assert_true(num(e, "phantom.bones[1].x_mm") == 3);
    assert_true(scenario_edit_set_string(e, "phantom.bones[1].kind", "rib", err, sizeof err));
    assert_true(scenario_edit_remove_row(e, "phantom.bones", 0, err, sizeof err));
    assert_int_equal(scenario_edit_get(e)->phantom.bones[0].kind, PHANTOM_BONE_RIB);

    assert_true(scenario_edit_add_row(e, "goals", err, sizeof err));
    assert_int_equal(scenario_edit_get(e)->n_goals, 1);
    assert_true(scenario_edit_set_string(e, "goals[0]", "See the bone's shadow", err, sizeof err));
    assert_true(scenario_edit_add_row(e, "goals", err, sizeof err));
    assert_string_equal(scenario_edit_get(e)->goals[1], "See the bone's shadow");
    assert_true(scenario_edit_remove_row(e, "goals", 0, err, sizeof err));
    assert_int_equal(scenario_edit_get(e)->n_goals, 1);
    assert_int_equal(scenario_check(scenario_edit_get(e), &d), 0);
    scenario_diags_free(&d);
    scenario_edit_destroy(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_undo_redo),
        cmocka_unit_test(test_merge_and_refusal),
        cmocka_unit_test(test_bounded_stack),
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_validation_on_field),
        cmocka_unit_test(test_round_trip_bundled),
        cmocka_unit_test(test_autosave_timing),
        cmocka_unit_test(test_autosave_survives_kill),
        cmocka_unit_test(test_required_steps_and_scoring_flags),
        cmocka_unit_test(test_bone_and_goal_rows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
