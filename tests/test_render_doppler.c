/* mesosim render --doppler color|power: the B-mode of the perforator case with the Doppler box
 * over the first planned point, as an RGB PNG. Outside the box every pixel is the grey B-mode
 * of the same render without Doppler; the box's outline is drawn; inside, the perforator's
 * flow shows in colour (some cells, from its column only) and where the box holds no vessel
 * almost nothing does; bad options fail in plain words with exit status 2. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cmocka.h>
#include <stb_image.h>

#include "exe_util.h"

#define OUT_DIR MESOSIM_BINARY_DIR "/test_render_doppler"
#define CASE MESOSIM_SOURCE_DIR "/scenarios/perforator.json"
/* The probe centred on the first planned point, over the perforator (x = -12 mm). */
#define RENDER MESOSIM_EXE " render --scenario " CASE " --probe x=-12,y=0"

static bool coloured(const unsigned char *p) { return p[0] != p[1] || p[1] != p[2]; }

static void check_mode(const char *mode)
{
    char js[4096], cmd[1024];
    assert_int_equal(system("mkdir -p " OUT_DIR), 0);
    assert_int_equal(eu_run(RENDER " --out " OUT_DIR "/grey.png", js, sizeof js), 0);
    snprintf(cmd, sizeof cmd, RENDER " --doppler %s --box -4,1,4,9 --prf 4000 --out " OUT_DIR
             "/%s.png", mode, mode);
    assert_int_equal(eu_run(cmd, js, sizeof js), 0);
    int rows = (int)eu_json_num(js, "rows"), cols = (int)eu_json_num(js, "cols");
    double x0 = eu_json_num(js, "x0_mm"), dx = eu_json_num(js, "dx_mm"), dz = eu_json_num(js, "dz_mm");
    int cells = (int)eu_json_num(js, "doppler_cells"), shown = (int)eu_json_num(js, "doppler_shown");
    assert_true(eu_json_num(js, "nyquist_cm_s") > 8.0); /* PRF 4000 Hz at 18 MHz: 8.6 cm/s */
    char want[64];
    snprintf(want, sizeof want, "\"doppler\":\"%s\"", mode);
    assert_non_null(strstr(js, want));

    char path[512];
    snprintf(path, sizeof path, OUT_DIR "/%s.png", mode);
    int w, h, ch, gw, gh, gch;
    unsigned char *rgb = stbi_load(path, &w, &h, &ch, 0);
    unsigned char *grey = stbi_load(OUT_DIR "/grey.png", &gw, &gh, &gch, 1);
    assert_non_null(rgb);
    assert_non_null(grey);
    assert_int_equal(ch, 3);
    assert_true(w == cols && h == rows && gw == cols && gh == rows);
    int outside_changed = 0, in_vessel = 0, in_rest = 0, outline = 0;
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++) {
            const unsigned char *p = &rgb[3 * ((size_t)r * cols + c)];
            double x = x0 + c * dx, z = r * dz;
            bool in_box = x > -4 + dx && x < 4 - dx && z > 1 + dz && z < 9 - dz;
            bool near_edge = x > -4 - dx && x < 4 + dx && z > 1 - dz && z < 9 + dz;
            if (!near_edge)
                outside_changed += p[0] != grey[(size_t)r * cols + c] || coloured(p);
            else if (!in_box)
                outline += p[0] == 200 && !coloured(p);
            else if (coloured(p))
                *(fabs(x) < 0.8 ? &in_vessel : &in_rest) += 1;
        }
    printf("%s: %d of %d cells show flow; coloured pixels %d in the perforator's column, %d "
           "elsewhere in the box; %d outline pixels; %d pixels changed outside\n",
           mode, shown, cells, in_vessel, in_rest, outline, outside_changed);
    assert_int_equal(outside_changed, 0);
    assert_true(outline > 2 * (int)(8 / dx));
    assert_true(shown > 20 && shown < cells / 4);
    assert_true(in_vessel > 1000);
    assert_true(in_rest < in_vessel / 10);
    stbi_image_free(rgb);
    stbi_image_free(grey);
}

static void test_color_over_the_perforator(void **state)
{
    (void)state;
    check_mode("color");
}

static void test_power_over_the_perforator(void **state)
{
    (void)state;
    check_mode("power");
}

/* A box beside the perforator, in the fat and dermis without vessels: (almost) nothing. */
static void test_box_without_a_vessel(void **state)
{
    (void)state;
    char js[4096];
    assert_int_equal(eu_run(RENDER " --doppler power --box 2,1,6,5 --out " OUT_DIR "/empty.png", js,
                            sizeof js), 0);
    int cells = (int)eu_json_num(js, "doppler_cells"), shown = (int)eu_json_num(js, "doppler_shown");
    printf("empty box: %d of %d cells show flow\n", shown, cells);
    assert_true(cells > 100);
    assert_true(shown <= cells / 100);
}

static void test_bad_doppler_options(void **state)
{
    (void)state;
    char js[4096];
    assert_int_equal(eu_run(RENDER " --doppler blue --out " OUT_DIR "/x.png 2>&1", js, sizeof js), 2);
    assert_non_null(strstr(js, "--doppler takes color or power, not 'blue'"));
    assert_int_equal(eu_run(RENDER " --doppler color --box 1,2,3 --out " OUT_DIR "/x.png 2>&1", js,
                            sizeof js), 2);
    assert_non_null(strstr(js, "--box takes four numbers"));
    assert_int_equal(eu_run(RENDER " --doppler color --prf 5 --out " OUT_DIR "/x.png 2>&1", js,
                            sizeof js), 2);
    assert_non_null(strstr(js, "prf_hz"));
    assert_int_equal(eu_run(RENDER " --doppler color --time -1 --out " OUT_DIR "/x.png 2>&1", js,
                            sizeof js), 2);
    assert_non_null(strstr(js, "--time must be within"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_color_over_the_perforator),
        cmocka_unit_test(test_power_over_the_perforator),
        cmocka_unit_test(test_box_without_a_vessel),
        cmocka_unit_test(test_bad_doppler_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
