/* Determinism (DESIGN.md: same scenario, seed and actions give the same frames bit for bit):
 * the fast path gives the same bytes whatever its thread count, and it implements the same
 * model as the plain reference path (bmode_render_reference), up to float rounding and the
 * fast path's interpolated layer heights and approximate log. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"
#include "scenario.h"

/* The adult back case with its vessels, rocked and tilted a little so the lines cross the
 * layers obliquely (the node interpolation of the fast path is exercised). */
static void scene_of(scenario *s, phantom **ph)
{
    char path[512];
    snprintf(path, sizeof path, "%s/scenarios/adult_back.json", MESOSIM_SOURCE_DIR);
    scenario_diags diags = {0};
    bool ok = scenario_load_file(path, s, &diags);
    scenario_diags_free(&diags);
    assert_true(ok);
    *ph = pu_phantom(&s->phantom);
}

static void test_same_bytes_any_thread_count(void **state)
{
    (void)state;
    scenario s;
    phantom *ph;
    scene_of(&s, &ph);
    s.probe.n_lines = 128;
    s.probe.depth_mm = 10.0;
    s.pose.rock_deg = 4.0;
    s.pose.tilt_deg = 3.0;
    s.pose.pressure_n = 1.0;
    uint8_t *pix[3] = {0}, *lab[3] = {0};
    float *env[3] = {0};
    size_t n = 0;
    for (int t = 1; t <= 3; t++) {
        bmode *bm = bmode_create(&(bmode_def){.n_threads = t});
        assert_non_null(bm);
        assert_int_equal(bmode_threads(bm), t);
        bmode_image im;
        pu_render(bm, ph, &s.probe, &s.pose, &im);
        n = (size_t)im.rows * im.cols;
        pix[t - 1] = malloc(n);
        lab[t - 1] = malloc(n);
        env[t - 1] = malloc(n * sizeof(float));
        assert_true(pix[t - 1] && lab[t - 1] && env[t - 1]);
        memcpy(pix[t - 1], im.pixels, n);
        memcpy(lab[t - 1], im.labels, n);
        memcpy(env[t - 1], im.envelope, n * sizeof(float));
        bmode_destroy(bm);
    }
    for (int t = 1; t < 3; t++) {
        assert_memory_equal(pix[0], pix[t], n);
        assert_memory_equal(lab[0], lab[t], n);
        assert_memory_equal(env[0], env[t], n * sizeof(float));
    }
    printf("1, 2 and 3 threads: identical pixels, labels and envelope (%zu pixels)\n", n);
    for (int t = 0; t < 3; t++) {
        free(pix[t]);
        free(lab[t]);
        free(env[t]);
    }
    phantom_destroy(ph);
}

/* Fast path against the reference on the default scene (adult back, default probe and pose,
 * 128 lines to keep the reference quick under sanitizers): mean |difference| under one grey
 * level and 99 % of the pixels within 3 levels; the labels are the same tissue map. */
static void test_fast_path_matches_reference(void **state)
{
    (void)state;
    scenario s;
    phantom *ph;
    scene_of(&s, &ph);
    s.probe.n_lines = 128;
    bmode_scene sc = {.ph = ph, .probe = s.probe, .pose = s.pose};
    bmode_image ref;
    char err[256] = "";
    if (bmode_render_reference(&sc, &ref, err, sizeof err) != 0)
        fail_msg("bmode_render_reference: %s", err);
    bmode *bm = bmode_create(&(bmode_def){.n_threads = 2});
    assert_non_null(bm);
    bmode_image im;
    pu_render(bm, ph, &s.probe, &s.pose, &im);
    assert_int_equal(im.rows, ref.rows);
    assert_int_equal(im.cols, ref.cols);
    size_t n = (size_t)im.rows * im.cols, within = 0, label_diff = 0;
    double sum = 0;
    int worst = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)im.pixels[i] - (int)ref.pixels[i]);
        sum += d;
        within += d <= 3;
        worst = d > worst ? d : worst;
        label_diff += im.labels[i] != ref.labels[i];
    }
    printf("fast vs reference (%d x %d): mean |dpixel| %.3f, %.2f %% within 3 levels, worst %d, "
           "labels differing %.3f %%\n", im.rows, im.cols, sum / n, 100.0 * within / n, worst,
           100.0 * label_diff / n);
    assert_true(sum / n < 1.0);
    assert_true(within >= 0.99 * n);
    assert_true(label_diff <= n / 1000);
    bmode_image_free(&ref);
    bmode_destroy(bm);
    phantom_destroy(ph);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_same_bytes_any_thread_count),
        cmocka_unit_test(test_fast_path_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
