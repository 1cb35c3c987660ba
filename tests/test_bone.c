/* Bone: the cortical echo, the reverberation under it and the full acoustic shadow measured
 * on rendered images; the needle stopping on bone; bones loaded from a scenario. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "actions.h"
#include "needle.h"
#include "session.h"
#include "physics_util.h"
#include "scenario.h"

/* The adult back, flat, with one spinous process under the image centre: apex depth_mm below
 * the skin, 6 mm wide across the image, running along y. */
static phantom_def bone_def(double depth_mm)
{
    phantom_def d = phantom_default_def();
    for (int i = 0; i < d.n_layers; i++)
        d.layers[i].variation = 0.0;
    d.n_bones = 1;
    d.bones[0] = (phantom_bone_def){PHANTOM_BONE_SPINOUS, 0.0, 0.0, depth_mm, 6.0, 20.0, 6.0, 90.0};
    return d;
}

static void test_cortical_echo_and_shadow(void **state)
{
    (void)state;
    phantom_def d = bone_def(8.0);
    phantom *ph = pu_phantom(&d);
    probe_def p = pu_probe(256, 15.0);
    probe_pose pose = probe_default_pose();
    bmode_image im;
    pu_render(pu_bm, ph, &p, &pose, &im);
    /* The label under the apex is bone, beside it soft tissue. */
    assert_int_equal(im.labels[pu_row(&im, 9.0) * im.cols + pu_col(&im, 0.0)], TISSUE_BONE);
    assert_int_not_equal(im.labels[pu_row(&im, 9.0) * im.cols + pu_col(&im, 5.0)], TISSUE_BONE);
    /* Cortical echo: the brightest row of the band around the apex, over the bone and at
     * the same depths away from it. */
    double *prof_b = malloc(sizeof(double) * (size_t)im.rows), *prof_s = malloc(sizeof(double) * (size_t)im.rows);
    pu_db_profile(&im, pu_col(&im, -1.0), pu_col(&im, 1.0), prof_b);
    pu_db_profile(&im, pu_col(&im, 4.5), pu_col(&im, 6.0), prof_s);
    double peak_b = -1e9, peak_s = -1e9, z_peak = 0.0;
    for (int r = pu_row(&im, 7.0); r <= pu_row(&im, 9.0); r++) {
        if (prof_b[r] > peak_b) {
            peak_b = prof_b[r];
            z_peak = pu_row_z(&im, r);
        }
        peak_s = prof_s[r] > peak_s ? prof_s[r] : peak_s;
    }
    /* Reverberation: the ringdown just under the cortex; shadow: the depths well below. */
    pu_stats rev = pu_region_stats(&im, (pu_region){z_peak + 0.15, z_peak + 0.7, -1.0, 1.0}, NULL);
    pu_stats deep = pu_region_stats(&im, (pu_region){11.0, 14.5, -1.0, 1.0}, NULL);
    pu_stats side = pu_region_stats(&im, (pu_region){11.0, 14.5, 4.5, 6.0}, NULL);
    printf("cortical echo %.1f dB at %.2f mm (soft tissue beside %.1f dB); reverberation %.1f dB; "
           "shadow %.1f dB against %.1f dB beside\n",
           peak_b, z_peak, peak_s, rev.db_mean, deep.db_mean, side.db_mean);
    /* The cortex is the apex: within an axial cell of 8 mm. */
    assert_true(fabs(z_peak - 8.0) < 0.2);
    /* Bone against fat reflects R = 0.66 of the amplitude, a fat septum a few per cent. */
    assert_true(peak_b > peak_s + 15.0);
    /* The brightest line of the image: above the superficial fascia's. */
    double fascia = -1e9;
    for (int r = pu_row(&im, 5.3); r <= pu_row(&im, 6.0); r++)
        fascia = prof_s[r] > fascia ? prof_s[r] : fascia;
    printf("superficial fascia %.1f dB\n", fascia);
    assert_true(peak_b > fascia);
    assert_true(rev.db_mean > deep.db_mean + 10.0);
    /* A full shadow: 27 dB/mm one way through cortex at 18 MHz leaves no echo, only the
     * receiver's noise floor (bmode_model.h BM_NOISE_REL), about 25 dB under the deep fat here. */
    assert_true(deep.db_mean < side.db_mean - 20.0);
    free(prof_b);
    free(prof_s);
    phantom_destroy(ph);
}

static void test_needle_stops_on_bone(void **state)
{
    (void)state;
    phantom_def d = bone_def(2.0);
    phantom *ph = pu_phantom(&d);
    needle_def nd = needle_default_def();
    needle *n = needle_create(&nd);
    char err[128];
    assert_true(needle_enter(n, ph, 0.0, 0.0, 0.0, 90.0, 0.0, err, sizeof err));
    needle_event ev[32];
    int k = needle_advance(n, 4.0, ev, 32);
    bool bone = false;
    for (int i = 0; i < k && i < 32; i++)
        bone = bone || ev[i].kind == NEEDLE_EV_BONE;
    double tip[3];
    needle_tip_mm(n, tip);
    printf("needle stopped at %.3f mm on a bone apex at 2 mm (%d events)\n", tip[2], k);
    assert_true(bone);
    assert_true(tip[2] < 2.0 && tip[2] > 1.9);
    /* Pushing again moves nothing and says why. */
    double before = needle_travel_mm(n);
    k = needle_advance(n, 1.0, ev, 32);
    assert_true(k >= 1 && ev[0].kind == NEEDLE_EV_BONE);
    assert_true(needle_travel_mm(n) == before);
    /* Beside the bone the same push reaches the hub. */
    needle_withdraw(n);
    assert_true(needle_enter(n, ph, 0.0, 6.0, 0.0, 90.0, 0.0, err, sizeof err));
    k = needle_advance(n, 6.0, ev, 32);
    assert_true(needle_inserted_mm(n) > 3.9);
    needle_destroy(n);
    phantom_destroy(ph);
}

static bool act(session *s, const char *line, char *err, size_t n)
{
    action a;
    assert_true(action_parse_line(line, strlen(line), -1, &a, err, n));
    return session_apply(s, &a, err, n);
}

/* In a session the push onto bone is refused with the reason, and the tip stays on it. */
static void test_session_refuses_push_into_bone(void **state)
{
    (void)state;
    scenario sc = pu_load_preset("adult_back");
    sc.phantom.n_bones = 1;
    sc.phantom.bones[0] = (phantom_bone_def){PHANTOM_BONE_SPINOUS, 0.0, 0.0, 2.0, 6.0, 20.0, 6.0, 90.0};
    char err[256] = "";
    session *s = session_create(&sc, err, sizeof err);
    assert_non_null(s);
    assert_true(act(s, "{\"t\":1,\"do\":\"needle_entry\",\"x_mm\":0,\"y_mm\":0,\"angle_deg\":90,\"azimuth_deg\":0}",
                    err, sizeof err));
    assert_true(act(s, "{\"t\":2,\"do\":\"advance\",\"mm\":3}", err, sizeof err));
    assert_false(act(s, "{\"t\":3,\"do\":\"advance\",\"mm\":1}", err, sizeof err));
    printf("refused: %s\n", err);
    assert_non_null(strstr(err, "bone"));
    session_destroy(s);
}

static void test_scenario_bones(void **state)
{
    (void)state;
    const char *text = "{\"version\": 1, \"phantom\": {\"bones\": ["
                       "{\"kind\": \"rib\", \"x_mm\": 2, \"depth_mm\": 12},"
                       "{\"kind\": \"spinous_process\", \"depth_mm\": 8, \"width_mm\": 5}]}}";
    scenario sc;
    scenario_diags dg = {0};
    assert_true(scenario_load_string(text, &sc, &dg));
    assert_int_equal(sc.phantom.n_bones, 2);
    assert_int_equal(sc.phantom.bones[0].kind, PHANTOM_BONE_RIB);
    assert_true(sc.phantom.bones[0].x_mm == 2.0 && sc.phantom.bones[0].depth_mm == 12.0);
    assert_true(sc.phantom.bones[0].length_mm == 60.0); /* the rib's default */
    assert_true(sc.phantom.bones[1].width_mm == 5.0 && sc.phantom.bones[1].angle_deg == 90.0);
    scenario_diags_free(&dg);
    /* Written out and read back, the same bones. */
    char *out = scenario_save_string(&sc);
    assert_non_null(out);
    scenario back;
    scenario_diags d1 = {0};
    assert_true(scenario_load_string(out, &back, &d1));
    assert_int_equal(back.phantom.n_bones, 2);
    for (int i = 0; i < 2; i++) {
        const phantom_bone_def *a = &sc.phantom.bones[i], *b = &back.phantom.bones[i];
        assert_int_equal(a->kind, b->kind);
        assert_true(a->x_mm == b->x_mm && a->y_mm == b->y_mm && a->depth_mm == b->depth_mm &&
                    a->width_mm == b->width_mm && a->length_mm == b->length_mm &&
                    a->height_mm == b->height_mm && a->angle_deg == b->angle_deg);
    }
    scenario_diags_free(&d1);
    free(out);

    const char *bad = "{\"version\": 1, \"phantom\": {\"bones\": ["
                      "{\"kind\": \"femur\", \"depth_mm\": 8}, {\"kind\": \"rib\", \"depth_mm\": 0.1}]}}";
    scenario_diags d2 = {0};
    assert_false(scenario_load_string(bad, &sc, &d2));
    bool kind = false, depth = false;
    for (int i = 0; i < d2.count; i++) {
        printf("  %s: %s\n", d2.items[i].path, d2.items[i].message);
        kind = kind || strcmp(d2.items[i].path, "phantom.bones[0].kind") == 0;
        depth = depth || strcmp(d2.items[i].path, "phantom.bones[1].depth_mm") == 0;
    }
    assert_true(kind && depth);
    scenario_diags_free(&d2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cortical_echo_and_shadow),
        cmocka_unit_test(test_needle_stops_on_bone),
        cmocka_unit_test(test_session_refuses_push_into_bone),
        cmocka_unit_test(test_scenario_bones),
    };
    return cmocka_run_group_tests(tests, pu_group_setup, pu_group_teardown);
}
