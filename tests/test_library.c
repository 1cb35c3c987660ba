/* The case library (every .json in scenarios/): every case validates, says its level, goals and
 * briefing, renders a B-mode that shows its dermis, and has a scripted expert run
 * (scenarios/sessions/<case>.expert.log) that passes and a novice run (<case>.novice.log) that
 * fails for the reason its "# expect:" line states. A case without both runs fails the test,
 * so a case added to the library comes with its pair. Also the level and goals fields
 * themselves: their checks, setters and the load-save-load round trip. */
#include <dirent.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "actions.h"
#include "physics_util.h"
#include "replay_util.h"
#include "scenario.h"
#include "textfile.h"

#define MAX_CASES 64

typedef struct case_list {
    char names[MAX_CASES][64];
    int n;
} case_list;

static int cmp_names(const void *a, const void *b) { return strcmp(a, b); }

/* Every scenario file in scenarios/ (the schema is no case), sorted by name. */
static case_list list_cases(void)
{
    case_list l = {.n = 0};
    DIR *d = opendir(MESOSIM_SOURCE_DIR "/scenarios");
    assert_non_null(d);
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t n = strlen(e->d_name);
        if (n < 6 || strcmp(e->d_name + n - 5, ".json") != 0 ||
            strcmp(e->d_name, "scenario.schema.json") == 0)
            continue;
        assert_true(l.n < MAX_CASES && n - 5 < sizeof l.names[0]);
        memcpy(l.names[l.n], e->d_name, n - 5);
        l.names[l.n][n - 5] = '\0';
        l.n++;
    }
    closedir(d);
    qsort(l.names, (size_t)l.n, sizeof l.names[0], cmp_names);
    return l;
}

static void case_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/scenarios/%s.json", MESOSIM_SOURCE_DIR, name);
}

static void log_path(char *out, size_t n, const char *name, const char *kind)
{
    snprintf(out, n, "%s/scenarios/sessions/%s.%s.log", MESOSIM_SOURCE_DIR, name, kind);
}

static scenario load_case(const char *name)
{
    char path[512];
    case_path(path, sizeof path, name);
    scenario sc;
    scenario_diags d = {0};
    bool ok = scenario_load_file(path, &sc, &d);
    for (int i = 0; i < d.count; i++)
        print_error("%s:%d:%d: %s: %s\n", path, d.items[i].line, d.items[i].col,
                    d.items[i].path, d.items[i].message);
    scenario_diags_free(&d);
    assert_true(ok);
    return sc;
}

static void test_library_is_a_progression(void **state)
{
    (void)state;
    case_list l = list_cases();
    /* The issue's day-one library: at least twelve cases. */
    assert_true(l.n >= 12);
    bool level_seen[6] = {false};
    for (int i = 0; i < l.n; i++) {
        scenario sc = load_case(l.names[i]);
        scenario_diags d = {0};
        assert_int_equal(scenario_check(&sc, &d), 0);
        scenario_diags_free(&d);
        if (sc.level < 1 || sc.level > 5 || sc.n_goals < 1 || strlen(sc.description) < 80)
            print_error("%s: level %d, %d goals, a briefing of %zu bytes\n", l.names[i],
                        sc.level, sc.n_goals, strlen(sc.description));
        assert_true(sc.level >= 1 && sc.level <= 5);
        assert_true(sc.n_goals >= 1);
        assert_true(strlen(sc.description) >= 80);
        level_seen[sc.level] = true;
        for (int k = 0; k < 2; k++) {
            char p[512];
            log_path(p, sizeof p, l.names[i], k ? "novice" : "expert");
            FILE *f = fopen(p, "rb");
            if (!f)
                print_error("%s has no %s run: %s is missing\n", l.names[i],
                            k ? "novice" : "expert", p);
            assert_non_null(f);
            fclose(f);
        }
    }
    /* A progression: it starts at the guided level and reaches the traps. */
    assert_true(level_seen[1] && level_seen[5]);
}

static void test_every_case_renders_its_dermis(void **state)
{
    (void)state;
    case_list l = list_cases();
    for (int i = 0; i < l.n; i++) {
        scenario sc = load_case(l.names[i]);
        sc.probe.n_lines = 128; /* the geometry as the case has it, at half the lines */
        char err[256];
        phantom *ph = phantom_create(&sc.phantom, err, sizeof err);
        if (!ph)
            print_error("%s: %s\n", l.names[i], err);
        assert_non_null(ph);
        bmode_image im;
        pu_render(pu_bm, ph, &sc.probe, &sc.pose, &im); /* the image is pu_bm's */
        uint8_t *dm = pu_label_mask(&im, TISSUE_DERMIS, 1, 1);
        uint8_t *fm = pu_label_mask(&im, TISSUE_FAT, 1, 1);
        pu_region all = {0, sc.probe.depth_mm, -100, 100};
        pu_stats ds = pu_region_stats(&im, all, dm), fs = pu_region_stats(&im, all, fm);
        print_message("%-22s dermis %6.1f dB (%d px), fat %6.1f dB (%d px)\n", l.names[i],
                      ds.db_mean, ds.n, fs.db_mean, fs.n);
        /* The image shows the dermis as the bright band over darker fat lobules
         * (tissue.md 3: dermis bright, lobules near-anechoic). */
        assert_true(ds.n > 1000 && fs.n > 1000);
        assert_true(ds.db_mean > fs.db_mean + 3.0);
        free(dm);
        free(fm);
        phantom_destroy(ph);
    }
}

/* The cases with bone show it as bone does: with the probe over the apex, the image has bone
 * where the case puts its tip, and a shadow under it at least 10 dB darker than the tissue
 * at the same depths beside the bone (docs/bmode.md, bone). At least one case has bone. */
static void test_bone_cases_show_bone_and_its_shadow(void **state)
{
    (void)state;
    case_list l = list_cases();
    int with_bone = 0;
    for (int i = 0; i < l.n; i++) {
        scenario sc = load_case(l.names[i]);
        for (int b = 0; b < sc.phantom.n_bones; b++) {
            const phantom_bone_def *bd = &sc.phantom.bones[b];
            if (bd->depth_mm + 3.0 > sc.probe.depth_mm)
                continue; /* below the image: nothing to see */
            with_bone++;
            char err[256];
            phantom *ph = phantom_create(&sc.phantom, err, sizeof err);
            assert_non_null(ph);
            probe_pose pose = sc.pose;
            pose.x_mm = bd->x_mm;
            pose.y_mm = bd->y_mm;
            bmode_image im;
            pu_render(pu_bm, ph, &sc.probe, &pose, &im);
            int c = pu_col(&im, 0.0), top = -1;
            for (int r = 0; r < im.rows && top < 0; r++)
                if (im.labels[r * im.cols + c] == TISSUE_BONE)
                    top = r;
            assert_true(top >= 0);
            double apex = pu_row_z(&im, top);
            double z1 = fmin(apex + 6.0, sc.probe.depth_mm - 0.5);
            pu_stats under = pu_region_stats(&im, (pu_region){apex + 2.0, z1, -1.0, 1.0}, NULL);
            double side_x = 0.5 * bd->width_mm + 2.0;
            pu_stats beside = pu_region_stats(&im, (pu_region){apex + 2.0, z1, side_x,
                                                               side_x + 1.5}, NULL);
            print_message("%-22s bone %d: apex %.2f mm in the image (%.2f in the case), shadow "
                          "%.1f dB, beside %.1f dB\n", l.names[i], b, apex, bd->depth_mm,
                          under.db_mean, beside.db_mean);
            assert_true(fabs(apex - bd->depth_mm) < 2.0);
            assert_true(under.db_mean < beside.db_mean - 10.0);
            phantom_destroy(ph);
        }
    }
    assert_true(with_bone >= 1);
}

static json_t *critical_item(json_t *report, const char *name)
{
    json_t *cr = json_object_get(json_object_get(report, "score"), "critical");
    size_t i;
    json_t *c;
    json_array_foreach(cr, i, c)
    {
        if (strcmp(json_string_value(json_object_get(c, "item")), name) == 0)
            return c;
    }
    return NULL;
}

static bool has_verdict(json_t *report, const char *verdict)
{
    size_t i;
    json_t *inj;
    json_array_foreach(json_object_get(report, "injections"), i, inj)
    {
        if (strcmp(json_string_value(json_object_get(inj, "verdict")), verdict) == 0)
            return true;
    }
    return false;
}

static json_t *replay(const char *name, const char *kind, char **log_text)
{
    char sp[512], lp[512], err[512];
    case_path(sp, sizeof sp, name);
    log_path(lp, sizeof lp, name, kind);
    action_list al;
    if (!actions_load_file(lp, &al))
        print_error("%s: %s\n", lp, al.n_errors ? al.errors[0].message : "cannot be read");
    assert_int_equal(al.total_errors, 0);
    char *r = ru_replay_report(sp, &al, err, sizeof err);
    if (!r)
        print_error("%s %s: %s\n", name, kind, err);
    assert_non_null(r);
    actions_free(&al);
    json_error_t je;
    json_t *j = json_loads(r, 0, &je);
    assert_non_null(j);
    free(r);
    size_t len;
    int sys_errno;
    assert_int_equal(textfile_read(lp, 1 << 20, log_text, &len, &sys_errno), TEXTFILE_OK);
    return j;
}

/* A feedback item of the report whose message contains text, NULL when none. */
static json_t *feedback_with(json_t *report, const char *text)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(report, "feedback"), i, f)
    {
        if (strstr(json_string_value(json_object_get(f, "message")), text))
            return f;
    }
    return NULL;
}

/* The novice log's stated failure: "# expect: critical=ITEM verdict=VERDICT
 * doppler_checked=N ..."; each term must hold in the report (doppler_checked: that many
 * planned points looked at with Doppler, fewer than required, and the feedback warns of the
 * skipped check). Returns how many terms were checked. */
static int check_expectations(const char *name, const char *log, json_t *report)
{
    const char *e = strstr(log, "# expect:");
    if (!e)
        print_error("%s.novice.log states no expected failure (# expect: ...)\n", name);
    assert_non_null(e);
    e += strlen("# expect:");
    int terms = 0;
    while (*e && *e != '\n') {
        while (*e == ' ')
            e++;
        size_t n = strcspn(e, " \n");
        if (n == 0)
            break;
        char term[96];
        assert_true(n < sizeof term);
        memcpy(term, e, n);
        term[n] = '\0';
        e += n;
        char *eq = strchr(term, '=');
        assert_non_null(eq);
        *eq = '\0';
        const char *want = eq + 1;
        if (strcmp(term, "critical") == 0) {
            json_t *c = critical_item(report, want);
            assert_non_null(c);
            bool failed = json_is_true(json_object_get(c, "judged")) &&
                          json_is_false(json_object_get(c, "ok"));
            if (!failed)
                print_error("%s novice: critical item %s held, but the log says it fails\n", name,
                            want);
            assert_true(failed);
        } else if (strcmp(term, "verdict") == 0) {
            if (!has_verdict(report, want))
                print_error("%s novice: no %s injection, but the log says there is one\n", name,
                            want);
            assert_true(has_verdict(report, want));
        } else if (strcmp(term, "doppler_checked") == 0) {
            json_t *as = json_object_get(json_object_get(report, "session"), "assessment");
            json_t *got = json_object_get(as, "doppler_points_checked");
            json_t *need = json_object_get(as, "doppler_points_required");
            if (!got || json_integer_value(got) != atoi(want))
                print_error("%s novice: %s planned points checked with Doppler, the log says %s\n",
                            name, got ? "other than" : "no count of", want);
            assert_non_null(got);
            assert_int_equal(json_integer_value(got), atoi(want));
            assert_true(json_integer_value(got) < json_integer_value(need));
            json_t *f = feedback_with(report, "Doppler check:");
            assert_non_null(f);
            assert_string_equal(json_string_value(json_object_get(f, "severity")), "warning");
            assert_non_null(strstr(json_string_value(json_object_get(f, "message")),
                                   "shows only in Doppler"));
        } else {
            print_error("%s.novice.log: unknown expectation \"%s\"\n", name, term);
            fail();
        }
        terms++;
    }
    return terms;
}

static void test_expert_passes_novice_fails_as_stated(void **state)
{
    (void)state;
    case_list l = list_cases();
    for (int i = 0; i < l.n; i++) {
        char *log;
        json_t *ex = replay(l.names[i], "expert", &log);
        free(log);
        json_t *sc = json_object_get(ex, "score");
        bool pass = json_is_true(json_object_get(sc, "pass"));
        double ex_total = json_number_value(json_object_get(sc, "total"));
        if (!pass)
            print_error("%s: the expert run fails (%.1f)\n", l.names[i], ex_total);
        assert_true(pass);
        assert_true(json_is_false(json_object_get(sc, "critical_failed")));
        /* A case that asks for the Doppler check gets it from its expert, at every point. */
        json_t *as = json_object_get(json_object_get(ex, "session"), "assessment");
        json_t *dchk = json_object_get(as, "doppler_points_checked");
        if (dchk)
            assert_int_equal(json_integer_value(dchk),
                             json_integer_value(json_object_get(as, "doppler_points_required")));

        json_t *nv = replay(l.names[i], "novice", &log);
        sc = json_object_get(nv, "score");
        double nv_total = json_number_value(json_object_get(sc, "total"));
        print_message("%-22s expert %5.1f pass, novice %5.1f fail\n", l.names[i], ex_total,
                      nv_total);
        assert_true(json_is_false(json_object_get(sc, "pass")));
        assert_true(check_expectations(l.names[i], log, nv) >= 1);
        free(log);
        json_decref(ex);
        json_decref(nv);
    }
}

static void test_level_and_goals_fields(void **state)
{
    (void)state;
    scenario s = scenario_default();
    assert_int_equal(s.level, 1);
    assert_int_equal(s.n_goals, 0);
    char err[256];
    assert_false(scenario_set_int(&s, "level", 6, err, sizeof err));
    assert_true(scenario_set_int(&s, "level", 4, err, sizeof err));
    assert_true(scenario_set_string(&s, "goals[0]", "Read the dermis", err, sizeof err));
    assert_true(scenario_set_string(&s, "goals[1]", "Inject \"every\" point", err, sizeof err));
    assert_false(scenario_set_string(&s, "goals[3]", "a gap", err, sizeof err));
    assert_int_equal(s.n_goals, 2);

    char *text = scenario_save_string(&s);
    assert_non_null(text);
    scenario b;
    scenario_diags d = {0};
    assert_true(scenario_load_string(text, &b, &d));
    assert_int_equal(b.level, 4);
    assert_int_equal(b.n_goals, 2);
    assert_string_equal(b.goals[1], "Inject \"every\" point");
    char *again = scenario_save_string(&b);
    assert_string_equal(text, again);
    free(text);
    free(again);

    /* Bad values are named by their path. */
    assert_false(scenario_load_string("{\"version\": 1, \"level\": 0, \"goals\": [\"a\", 3]}",
                                      &b, &d));
    bool level = false, goal = false;
    for (int i = 0; i < d.count; i++) {
        level |= strcmp(d.items[i].path, "level") == 0;
        goal |= strcmp(d.items[i].path, "goals[1]") == 0;
    }
    assert_true(level && goal);
    scenario_diags_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_and_goals_fields),
        cmocka_unit_test(test_library_is_a_progression),
        cmocka_unit_test(test_every_case_renders_its_dermis),
        cmocka_unit_test(test_bone_cases_show_bone_and_its_shadow),
        cmocka_unit_test(test_expert_passes_novice_fails_as_stated),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
