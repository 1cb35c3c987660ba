/* The two builds of the fast path's hot loops (sim/core/bmode_kernels.c compiled for the
 * baseline target and again with -mavx2, bmode_kernels_select() choosing at run time) give the
 * same bytes: pixels, labels and envelope of the standard frame of every bundled case (its own
 * probe and pose), and of an oblique frame (rocked, tilted, pressed) that crosses the layers
 * at an angle. bmode_def.isa forces a set. The AVX2 half is skipped, saying so, only on a CPU
 * without AVX2 or a target where that set is not built. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <math.h>

#include <cmocka.h>

#include "physics_util.h"
#include "scenario.h"

#if defined(__x86_64__) || defined(_M_X64)
static bool cpu_has_avx2(void)
{
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
}
#define AVX2_BUILT 1
#else
static bool cpu_has_avx2(void) { return false; }
#define AVX2_BUILT 0
#endif

typedef struct frame {
    int rows, cols;
    uint8_t *pix, *lab;
    float *env;
} frame;

static frame render_with(const char *isa, const phantom *ph, const probe_def *p, const probe_pose *pose)
{
    bmode *bm = bmode_create(&(bmode_def){.n_threads = 2, .isa = isa});
    assert_non_null(bm);
    assert_string_equal(bmode_isa(bm), isa);
    bmode_image im;
    pu_render(bm, ph, p, pose, &im);
    frame f = {.rows = im.rows, .cols = im.cols};
    size_t n = (size_t)im.rows * im.cols;
    f.pix = malloc(n);
    f.lab = malloc(n);
    f.env = malloc(n * sizeof(float));
    assert_true(f.pix && f.lab && f.env);
    memcpy(f.pix, im.pixels, n);
    memcpy(f.lab, im.labels, n);
    memcpy(f.env, im.envelope, n * sizeof(float));
    bmode_destroy(bm);
    return f;
}

static void frame_free(frame *f)
{
    free(f->pix);
    free(f->lab);
    free(f->env);
}

/* Where the two frames first differ, so a failure says more than "not equal". */
static void assert_same_frame(const char *what, const frame *a, const frame *b)
{
    assert_int_equal(a->rows, b->rows);
    assert_int_equal(a->cols, b->cols);
    size_t n = (size_t)a->rows * a->cols;
    for (size_t i = 0; i < n; i++) {
        if (a->pix[i] != b->pix[i] || a->lab[i] != b->lab[i] ||
            memcmp(&a->env[i], &b->env[i], sizeof(float)) != 0)
            fail_msg("%s: base and avx2 differ first at row %zu col %zu: pixel %d vs %d, label %d vs %d, "
                     "envelope %.9g vs %.9g", what, i / (size_t)a->cols, i % (size_t)a->cols, a->pix[i],
                     b->pix[i], a->lab[i], b->lab[i], (double)a->env[i], (double)b->env[i]);
    }
}

/* The bundled cases: every .json file in scenarios/ but the schema, so a new case is covered too. */
static int list_presets(char names[][64], int max)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/scenarios", MESOSIM_SOURCE_DIR);
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) && n < max;) {
        size_t len = strlen(e->d_name);
        if (len < 6 || len >= 64 + 5 || strcmp(e->d_name + len - 5, ".json") || strstr(e->d_name, ".schema."))
            continue;
        memcpy(names[n], e->d_name, len - 5);
        names[n][len - 5] = '\0';
        n++;
    }
    closedir(d);
    return n;
}

static void test_named_sets(void **state)
{
    (void)state;
    bmode *bm = bmode_create(&(bmode_def){.n_threads = 1, .isa = "base"});
    assert_non_null(bm);
    assert_string_equal(bmode_isa(bm), "base");
    bmode_destroy(bm);
    assert_null(bmode_create(&(bmode_def){.n_threads = 1, .isa = "sse9"}));
    bm = bmode_create(&(bmode_def){.n_threads = 1, .isa = "auto"});
    assert_non_null(bm);
    const char *best = AVX2_BUILT && cpu_has_avx2() ? "avx2" : "base";
    assert_string_equal(bmode_isa(bm), best);
    bmode_destroy(bm);
    bm = bmode_create(&(bmode_def){.n_threads = 1});
    assert_non_null(bm);
    assert_string_equal(bmode_isa(bm), best);
    bmode_destroy(bm);
    printf("auto picks %s on this CPU\n", best);
}

static void test_base_and_avx2_same_bytes(void **state)
{
    (void)state;
    if (!AVX2_BUILT || !cpu_has_avx2()) {
        assert_null(bmode_create(&(bmode_def){.n_threads = 1, .isa = "avx2"}));
        printf("SKIP base vs avx2: %s\n", AVX2_BUILT ? "this CPU has no AVX2"
                                                      : "the AVX2 kernels are built only for x86-64");
        skip();
    }
    char names[32][64];
    int n = list_presets(names, 32);
    assert_true(n >= 5);
    size_t pixels = 0;
    for (int i = 0; i < n; i++) {
        scenario s = pu_load_preset(names[i]);
        phantom *ph = pu_phantom(&s.phantom);
        probe_pose oblique = s.pose;
        oblique.rock_deg += 4.0;
        oblique.tilt_deg += 3.0;
        oblique.pressure_n += 1.0;
        const probe_pose *poses[2] = {&s.pose, &oblique};
        for (int k = 0; k < 2; k++) {
            char what[128];
            snprintf(what, sizeof what, "%.63s, %s frame", names[i], k ? "oblique" : "standard");
            frame a = render_with("base", ph, &s.probe, poses[k]);
            frame b = render_with("avx2", ph, &s.probe, poses[k]);
            assert_same_frame(what, &a, &b);
            pixels += (size_t)a.rows * a.cols;
            frame_free(&a);
            frame_free(&b);
        }
        phantom_destroy(ph);
    }
    printf("base and avx2: identical pixels, labels and envelope on %d cases x 2 frames (%zu pixels)\n", n,
           pixels);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_sets),
        cmocka_unit_test(test_base_and_avx2_same_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
