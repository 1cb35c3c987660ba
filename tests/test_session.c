/* Sessions end to end: the demo procedure passes, replay gives the same report bytes and
 * state hash (also after writing the log back out), the action parser refuses broken lines
 * with their line number and reason and survives mutated files, blebs have the reference
 * sizes (in the state and in the rendered image), gas shadows, a vessel puncture bleeds. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions.h"
#include "bmode.h"
#include "physics_util.h"
#include "replay_util.h"
#include "scenario.h"
#include "session.h"

static char *demo_path(void)
{
    static char p[512];
    snprintf(p, sizeof p, "%s/scenarios/sessions/adult_back_demo.jsonl", MESOSIM_SOURCE_DIR);
    return p;
}

/* Plays a list; returns the report text (malloc'ed) and the hash. */
static char *play(const scenario *sc, const action_list *al, uint64_t *hash)
{
    char err[256];
    driver *d = ru_replay(sc, al, err, sizeof err);
    if (!d)
        fail_msg("%s", err);
    *hash = session_hash(driver_session(d));
    char *r = session_report_json(driver_session(d), NULL);
    assert_non_null(r);
    driver_destroy(d);
    return r;
}

static void test_demo_passes_and_replays(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    action_list al;
    if (!actions_load_file(demo_path(), &al))
        fail_msg("demo: line %d: %s", al.errors[0].line, al.errors[0].message);
    uint64_t h1, h2, h3;
    char *r1 = play(&sc, &al, &h1);
    char *r2 = play(&sc, &al, &h2);
    assert_true(h1 == h2);
    assert_string_equal(r1, r2);
    /* Write the log back out canonically, read it again: same session. */
    size_t cap = (size_t)al.count * 512 + 1, used = 0;
    char *text = malloc(cap);
    for (int i = 0; i < al.count; i++) {
        used += (size_t)action_format(&al.items[i], text + used, cap - used);
        text[used++] = '\n';
    }
    text[used] = '\0';
    action_list back;
    assert_true(actions_load_string(text, used, &back));
    assert_int_equal(back.count, al.count);
    char *r3 = play(&sc, &back, &h3);
    assert_true(h1 == h3);
    assert_string_equal(r1, r3);
    /* A changed action changes the hash. */
    back.items[7].v[AK_MM] += 0.01;
    uint64_t h4;
    char *r4 = play(&sc, &back, &h4);
    assert_true(h4 != h1);

    char err[256];
    session *s = session_create(&sc, err, sizeof err);
    for (int i = 0; i < al.count; i++)
        assert_true(session_apply(s, &al.items[i], err, sizeof err));
    score_result r = session_score(s);
    const score_session *m = session_metrics(s);
    print_message("demo: total %.2f, pass %d, %d injections, %d passes, %d pops; hash %016llx\n",
                  r.total, r.pass, m->n_inj, m->passes, m->pops, (unsigned long long)h1);
    for (int i = 0; i < m->n_inj; i++)
        print_message("  injection %d: %s, depth %.3f mm, margin %.3f mm, to plane %.3f mm, "
                      "dermis fraction %.3f, bleb %.2f mm\n", i,
                      score_verdict_name(m->inj[i].verdict), m->inj[i].tip_depth_mm,
                      m->inj[i].margin_mm, m->inj[i].tip_to_plane_mm,
                      m->inj[i].dermis_fraction, m->inj[i].bleb_mm);
    assert_true(r.pass);
    assert_true(r.total >= 90.0);
    assert_int_equal(m->n_inj, 2);
    for (int k = 0; k < STEP_COUNT; k++)
        assert_true(m->step_done[k] && r.step_in_order[k]);
    for (int i = 0; i < m->n_inj; i++) {
        assert_int_equal(m->inj[i].verdict, VERDICT_INTRADERMAL);
        assert_true(m->inj[i].tip_in_slice && m->inj[i].wheal && m->inj[i].spread_seen);
    }
    assert_non_null(strstr(r1, "\"pass\": true"));
    session_destroy(s);
    free(r1), free(r2), free(r3), free(r4), free(text);
    actions_free(&al);
    actions_free(&back);
}

typedef struct bad_line {
    const char *text;
    const char *reason;
} bad_line;

static void test_parser_refuses(void **state)
{
    (void)state;
    static const bad_line cases[] = {
        {"{\"t\":1,\"do\":\"advance\"}", "needs key \"mm\""},
        {"{\"t\":1,\"do\":\"advnace\",\"mm\":1}", "did you mean \"advance\""},
        {"{\"t\":1,\"do\":\"advance\",\"mm\":-1}", "\"mm\": must be > 0"},
        {"{\"t\":1,\"do\":\"advance\",\"mm\":\"2\"}", "expected a number (mm), got a string"},
        {"{\"t\":1,\"do\":\"advance\",\"ml\":1}", "does not apply to \"advance\""},
        {"{\"t\":1,\"do\":\"probe\",\"x\":1}", "did you mean \"x_mm\""},
        {"{\"t\":1,\"do\":\"probe\",\"tgc_db_cm_mhz\":6}", "must be >= 0 and <= 5 dB/cm/MHz"},
        {"{\"do\":\"end\"}", "missing key \"t\""},
        {"{\"t\":-1,\"do\":\"end\"}", "must be within 0..86400"},
        {"{\"t\":1}", "missing key \"do\""},
        {"[1,2]", "an action is a JSON object"},
        {"{\"t\":1,\"do\":\"inject\",\"ml\":0.1", "invalid JSON"},
        {"{\"t\":1,\"do\":\"step\",\"name\":\"asepsis\"}", "unknown step"},
        {"{\"t\":1,\"do\":\"step\",\"name\":\"dressing\",\"skin_check\":true}", "applies to the step \"disinfection\""},
        {"{\"t\":1,\"do\":\"mark_dermis\",\"top_mm\":2,\"bottom_mm\":1}", "must be deeper"},
        {"{\"t\":1,\"do\":\"needle_entry\",\"x_mm\":0,\"y_mm\":0,\"angle_deg\":0,\"azimuth_deg\":0}", "\"angle_deg\": must be >= 1"},
        {"{\"t\":1,\"t\":2,\"do\":\"end\"}", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        action a;
        char err[200];
        bool ok = action_parse_line(cases[i].text, strlen(cases[i].text), -1, &a, err, sizeof err);
        if (ok || !strstr(err, cases[i].reason))
            fail_msg("%s: got %s \"%s\", wanted \"%s\"", cases[i].text, ok ? "ok" : "error", err,
                     cases[i].reason);
    }
    /* Whole files: every bad line by number; time must not go back; nothing after end. */
    const char *text = "# comment\n"
                       "{\"t\":0,\"do\":\"step\",\"name\":\"positioning\"}\n"
                       "\n"
                       "{\"t\":5,\"do\":\"advance\"}\n"
                       "{\"t\":5,\"do\":\"wait\"}\n"
                       "{\"t\":4,\"do\":\"wait\"}\n"
                       "{\"t\":6,\"do\":\"end\"}\n"
                       "{\"t\":7,\"do\":\"wait\"}\n";
    action_list l;
    assert_false(actions_load_string(text, strlen(text), &l));
    for (int i = 0; i < l.n_errors; i++)
        print_message("  line %d: %s\n", l.errors[i].line, l.errors[i].message);
    assert_int_equal(l.n_errors, 3);
    assert_int_equal(l.errors[0].line, 4);
    assert_int_equal(l.errors[1].line, 6);
    assert_non_null(strstr(l.errors[1].message, "goes back in time"));
    assert_int_equal(l.errors[2].line, 8);
    assert_non_null(strstr(l.errors[2].message, "after \"end\""));
    actions_free(&l);
}

static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

/* Mutated demo files: every outcome is a clean list or errors with line numbers; the valid
 * ones also play without crashing (session errors are reasons, not crashes). */
static void test_parser_fuzz(void **state)
{
    (void)state;
    FILE *f = fopen(demo_path(), "rb");
    assert_non_null(f);
    char src[8192];
    size_t n = fread(src, 1, sizeof src - 1, f);
    fclose(f);
    src[n] = '\0';
    scenario sc = pu_load_preset("adult_back");
    static const char alphabet[] = "{}[]\":,.-0123456789etrufalsn\\ \n#xyz_";
    uint64_t seed = 0x9e3779b97f4a7c15ULL;
    int valid = 0, played_errors = 0;
    char buf[8192];
    for (int iter = 0; iter < 600; iter++) {
        memcpy(buf, src, n + 1);
        size_t len = n;
        int edits = 1 + (int)(rng(&seed) % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = rng(&seed) % len;
            int op = (int)(rng(&seed) % 3);
            if (op == 0)
                buf[at] = alphabet[rng(&seed) % (sizeof alphabet - 1)];
            else if (op == 1 && len > 1) {
                memmove(buf + at, buf + at + 1, len - at);
                len--;
            } else if (len + 1 < sizeof buf) {
                memmove(buf + at + 1, buf + at, len - at + 1);
                buf[at] = alphabet[rng(&seed) % (sizeof alphabet - 1)];
                len++;
            }
        }
        action_list l;
        bool ok = actions_load_string(buf, len, &l);
        if (ok) {
            valid++;
            char err[256];
            session *s = session_create(&sc, err, sizeof err);
            for (int i = 0; i < l.count; i++)
                if (!session_apply(s, &l.items[i], err, sizeof err)) {
                    assert_true(err[0] != '\0');
                    played_errors++;
                }
            session_destroy(s);
        } else {
            assert_true(l.n_errors > 0);
            for (int i = 0; i < l.n_errors; i++)
                assert_true(l.errors[i].line >= 1 && l.errors[i].message[0]);
        }
        actions_free(&l);
    }
    print_message("fuzz: %d of 600 mutants parsed, %d refused actions while playing\n", valid,
                  played_errors);
}

/* A session with one injection of ml at a dermal tip at (x, y), needle withdrawn after. */
static session *one_injection(const scenario *sc, double x, double y, double travel, double ml,
                              double angle)
{
    char err[256];
    session *s = session_create(sc, err, sizeof err);
    assert_non_null(s);
    action a[6];
    memset(a, 0, sizeof a);
    a[0] = (action){.t_s = 1, .verb = ACT_PROBE};
    a[0].v[AK_X] = x, a[0].v[AK_Y] = y, a[0].has = 3u;
    a[1] = (action){.t_s = 2, .verb = ACT_NEEDLE_ENTRY};
    a[1].v[AK_X] = x, a[1].v[AK_Y] = y - travel * 0.8, a[1].v[AK_ANGLE] = angle,
    a[1].v[AK_AZIMUTH] = 90;
    a[2] = (action){.t_s = 3, .verb = ACT_ADVANCE};
    a[2].v[AK_MM] = travel;
    a[3] = (action){.t_s = 4, .verb = ACT_INJECT};
    a[3].v[AK_ML] = ml;
    a[4] = (action){.t_s = 4 + ml / 0.05 + 0.5, .verb = ACT_WITHDRAW};
    for (int i = 0; i < 5; i++)
        if (!session_apply(s, &a[i], err, sizeof err))
            fail_msg("action %d: %s", i, err);
    return s;
}

/* Lateral extent (mm) of the fluid labels on the row at depth z. */
static double fluid_width_mm(const bmode_image *im, double z)
{
    int r = pu_row(im, z), c0 = -1, c1 = -1;
    for (int c = 0; c < im->cols; c++)
        if (im->labels[(size_t)r * im->cols + c] == TISSUE_FLUID) {
            if (c0 < 0)
                c0 = c;
            c1 = c;
        }
    return c0 < 0 ? 0.0 : (c1 - c0 + 1) * im->dx_mm;
}

static void test_bleb_size(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    sc.probe.n_lines = 192;
    bmode_def bd = bmode_default_def();
    bd.n_threads = 2;
    bmode *bm = bmode_create(&bd);
    static const double vols[] = {0.02, 0.05, 0.1, 0.2};
    for (int i = 0; i < 4; i++) {
        session *s = one_injection(&sc, -12, 0, 3.5, vols[i], 30);
        const score_injection *j = &session_metrics(s)->inj[0];
        assert_true(j->done);
        phantom_inclusion dyn[PHANTOM_MAX_INCLUSIONS];
        bmode_scene scene;
        session_scene(s, &scene, dyn);
        bmode_image im;
        char err[256];
        assert_int_equal(bmode_render(bm, &scene, &im, err, sizeof err), 0);
        /* The bleb's widest row in the image: its centre depth in the image frame. */
        double best = 0.0;
        for (double z = 0.2; z < 4.0; z += 0.05)
            best = fmax(best, fluid_width_mm(&im, z));
        print_message("%.2f mL: %s, bleb %.2f mm (image %.2f mm), dermis fraction %.3f, wheal %d\n",
                      vols[i], score_verdict_name(j->verdict), j->bleb_mm, best,
                      j->dermis_fraction, j->wheal);
        assert_int_equal(j->verdict, VERDICT_INTRADERMAL);
        assert_true(j->wheal);
        assert_true(fabs(best - j->bleb_mm) < 0.4);
        /* Barbaud 2020: 0.02 mL median 5 mm (2-10); Mantoux 0.1 mL 6-10 mm. */
        if (vols[i] == 0.02)
            assert_true(j->bleb_mm >= 3.0 && j->bleb_mm <= 6.0);
        if (vols[i] == 0.1)
            assert_true(j->bleb_mm >= 6.0 && j->bleb_mm <= 10.0);
        session_destroy(s);
    }
    /* The same volume in fat: a thin sheet, no wheal. */
    sc.needle.length_mm = 13;
    session *s = one_injection(&sc, -12, 0, 8.0, 0.1, 60);
    const score_injection *j = &session_metrics(s)->inj[0];
    print_message("0.10 mL in fat: %s, depth %.2f mm, wheal %d, dermis fraction %.3f\n",
                  score_verdict_name(j->verdict), j->tip_depth_mm, j->wheal, j->dermis_fraction);
    assert_int_equal(j->verdict, VERDICT_SUBCUTANEOUS);
    assert_false(j->wheal);
    assert_true(j->dermis_fraction < 0.2);
    session_destroy(s);
    bmode_destroy(bm);
}

static void test_gas_shadow(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    sc.drug.kind = DRUG_OXYGEN_OZONE;
    sc.probe.n_lines = 192;
    bmode_def bd = bmode_default_def();
    bd.n_threads = 2;
    bmode *bm = bmode_create(&bd);
    session *s = one_injection(&sc, -12, 0, 3.5, 0.05, 30);
    phantom_inclusion dyn[PHANTOM_MAX_INCLUSIONS];
    bmode_scene scene;
    session_scene(s, &scene, dyn);
    bmode_image im;
    char err[256];
    assert_int_equal(bmode_render(bm, &scene, &im, err, sizeof err), 0);
    /* Below the gas (6-9 mm deep) against the same depths beyond the foci's lateral reach. */
    const drug_deposit *d = session_deposit(s, 0);
    phantom_inclusion sh[DRUG_MAX_SHAPES];
    int n = drug_shapes(&sc.drug, d, session_time_s(s), sh, DRUG_MAX_SHAPES);
    assert_true(n > 0);
    double r = sh[0].radii_mm[0];
    pu_stats under = pu_region_stats(&im, (pu_region){6, 9, -0.3 * r, 0.3 * r}, NULL);
    double half = 0.5 * probe_fov_mm(&sc.probe);
    pu_stats side = pu_region_stats(&im, (pu_region){6, 9, half - 1.0, half}, NULL);
    print_message("gas foci radius %.2f mm; under the gas %.1f dB, beside %.1f dB (%d, %d px)\n",
                  r, under.db_mean, side.db_mean, under.n, side.n);
    assert_true(side.n > 0 && under.n > 0);
    assert_true(under.db_mean < side.db_mean - 10.0);
    /* Gas fades: after 10 minutes the foci are smaller. */
    action w = {.t_s = 620, .verb = ACT_WAIT};
    assert_true(session_apply(s, &w, err, sizeof err));
    phantom_inclusion sh2[DRUG_MAX_SHAPES];
    drug_shapes(&sc.drug, d, session_time_s(s), sh2, DRUG_MAX_SHAPES);
    print_message("after 10 min the main focus is %.2f mm\n", sh2[0].radii_mm[0]);
    assert_true(sh2[0].radii_mm[0] < 0.6 * r);
    session_destroy(s);
    bmode_destroy(bm);
}

static void test_haematoma(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    sc.needle.length_mm = 13;
    sc.probe.n_lines = 192;
    char err[256];
    session *s = session_create(&sc, err, sizeof err);
    /* The adult's vein runs along y at x = 5, 3.05 mm deep: cross it at 30 deg. */
    action a[5];
    memset(a, 0, sizeof a);
    a[0] = (action){.t_s = 1, .verb = ACT_PROBE};
    a[0].v[AK_X] = 5, a[0].has = 1u;
    a[1] = (action){.t_s = 2, .verb = ACT_NEEDLE_ENTRY};
    a[1].v[AK_X] = 5 - 3.05 / tan(30 * 3.14159265358979 / 180), a[1].v[AK_Y] = 0;
    a[1].v[AK_ANGLE] = 30, a[1].v[AK_AZIMUTH] = 0;
    a[2] = (action){.t_s = 3, .verb = ACT_ADVANCE};
    a[2].v[AK_MM] = 7.0;
    a[3] = (action){.t_s = 4, .verb = ACT_WITHDRAW};
    a[4] = (action){.t_s = 64, .verb = ACT_WAIT};
    for (int i = 0; i < 5; i++)
        assert_true(session_apply(s, &a[i], err, sizeof err));
    const score_session *m = session_metrics(s);
    print_message("vessel punctures %d, bleeds %d, events %d (%s)\n", m->vessel_punctures,
                  session_bleed_count(s), m->n_events, m->n_events ? score_adverse_name(m->events[0].kind) : "-");
    assert_true(m->vessel_punctures >= 1);
    assert_int_equal(session_bleed_count(s), 1);
    assert_int_equal(m->events[0].kind, ADVERSE_HAEMATOMA);
    bmode_def bd = bmode_default_def();
    bd.n_threads = 2;
    bmode *bm = bmode_create(&bd);
    phantom_inclusion dyn[PHANTOM_MAX_INCLUSIONS];
    bmode_scene scene;
    session_scene(s, &scene, dyn);
    bmode_image im;
    assert_int_equal(bmode_render(bm, &scene, &im, err, sizeof err), 0);
    uint8_t *mask = pu_label_mask(&im, TISSUE_HAEMATOMA, 0, 0);
    int px = pu_mask_count(&im, mask);
    free(mask);
    /* Its inside, eroded like the fat's so the boundary echoes stay out. */
    mask = pu_label_mask(&im, TISSUE_HAEMATOMA, 2, 2);
    pu_stats hs = pu_region_stats(&im, (pu_region){0, 15, -20, 20}, mask);
    uint8_t *fat = pu_label_mask(&im, TISSUE_FAT, 2, 2);
    pu_stats fs = pu_region_stats(&im, (pu_region){2.7, 4.5, -20, 20}, fat);
    /* Compared by the mean envelope, not the mean of its dB: the fat's echo is in its septa
     * (bright lines over dark lobules), which a log mean discounts. */
    print_message("haematoma: %d px (%.2f mm^2), mean envelope %.1f dB vs fat %.1f dB (log means %.1f / %.1f)\n",
                  px, px * im.dx_mm * im.dz_mm, pu_db((float)hs.env_mean), pu_db((float)fs.env_mean), hs.db_mean,
                  fs.db_mean);
    assert_true(px * im.dx_mm * im.dz_mm > 3.0);
    assert_true(hs.env_mean < fs.env_mean);
    free(mask);
    free(fat);
    session_destroy(s);
    bmode_destroy(bm);
}

/* Guidance hints fade with each intradermal injection in view: off when the case allows none,
 * 1 before the first good injection, down by a third after each of three, and an injection
 * outside the dermis or out of view does not count. */
static void test_hint_strength(void **state)
{
    (void)state;
    score_session m;
    memset(&m, 0, sizeof m);
    assert_true(score_hint_strength(&m, 0) == 0.0);
    assert_true(score_hint_strength(&m, 3) == 1.0);
    *score_session_add_injection(&m) = (score_injection){.verdict = VERDICT_INTRADERMAL, .tip_in_slice = true};
    assert_true(fabs(score_hint_strength(&m, 3) - 2.0 / 3.0) < 1e-12);
    *score_session_add_injection(&m) = (score_injection){.verdict = VERDICT_SUBCUTANEOUS, .tip_in_slice = true};
    *score_session_add_injection(&m) = (score_injection){.verdict = VERDICT_INTRADERMAL, .tip_in_slice = false};
    assert_true(fabs(score_hint_strength(&m, 3) - 2.0 / 3.0) < 1e-12);
    for (int i = 0; i < 3; i++)
        *score_session_add_injection(&m) = (score_injection){.verdict = VERDICT_INTRADERMAL, .tip_in_slice = true};
    assert_true(score_hint_strength(&m, 3) == 0.0);
    score_session_free(&m);
    /* The adult back case allows hints over three injections (scenarios/adult_back.json). */
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", &sc, &d));
    assert_int_equal(sc.guidance.hint_injections, 3);
    scenario_diags_free(&d);
}

/* A probe action sets the TGC slope the image is drawn with (test_attenuation measures what the
 * slope does to the image); keys it leaves out keep their value. */
static void test_probe_tgc_action(void **state)
{
    (void)state;
    scenario sc;
    scenario_diags d = {0};
    assert_true(scenario_load_file(MESOSIM_SOURCE_DIR "/scenarios/adult_back.json", &sc, &d));
    scenario_diags_free(&d);
    char err[200];
    session *s = session_create(&sc, err, sizeof err);
    assert_non_null(s);
    action a;
    const char *line = "{\"t\":1,\"do\":\"probe\",\"tgc_db_cm_mhz\":0}";
    assert_true(action_parse_line(line, strlen(line), -1, &a, err, sizeof err));
    assert_true(session_apply(s, &a, err, sizeof err));
    assert_true(session_probe(s).tgc_db_cm_mhz == 0.0);
    assert_true(session_probe(s).freq_mhz == sc.probe.freq_mhz); /* keys left out keep their value */
    session_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_demo_passes_and_replays),
        cmocka_unit_test(test_parser_refuses),
        cmocka_unit_test(test_parser_fuzz),
        cmocka_unit_test(test_bleb_size),
        cmocka_unit_test(test_gas_shadow),
        cmocka_unit_test(test_haematoma),
        cmocka_unit_test(test_hint_strength),
        cmocka_unit_test(test_probe_tgc_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
