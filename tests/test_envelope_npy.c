/* mesosim render --envelope FILE.npy: the linear envelope as float32 in NumPy's .npy format.
 * Runs the program on the bundled adult back case, parses the .npy header here (magic, version
 * 1.0, header length, dict with descr, fortran_order and shape, 64-byte alignment), checks the
 * shape against the JSON line and every pixel of the grey PNG against the envelope through the
 * documented log compression; then that bad paths fail in plain words. */
#include <setjmp.h>
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

#define OUT_DIR MESOSIM_BINARY_DIR "/test_envelope_npy"

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void test_envelope_matches_grey_image(void **state)
{
    (void)state;
    char js[4096];
    assert_int_equal(system("mkdir -p " OUT_DIR), 0);
    int rc = eu_run(MESOSIM_EXE " render --out " OUT_DIR "/b.png --envelope " OUT_DIR "/b.npy", js, sizeof js);
    assert_int_equal(rc, 0);
    int rows = (int)eu_json_num(js, "rows"), cols = (int)eu_json_num(js, "cols");
    double fs = eu_json_num(js, "full_scale_db"), dr = eu_json_num(js, "dynamic_range_db");
    assert_non_null(strstr(js, "\"envelope_dtype\":\"float32\""));

    size_t len;
    unsigned char *b = (unsigned char *)slurp(OUT_DIR "/b.npy", &len);
    assert_true(len > 10 && memcmp(b, "\x93NUMPY", 6) == 0);
    assert_int_equal(b[6], 1);
    assert_int_equal(b[7], 0);
    size_t hlen = (size_t)b[8] | ((size_t)b[9] << 8);
    assert_int_equal((10 + hlen) % 64, 0);
    assert_int_equal(b[10 + hlen - 1], '\n');
    char hdr[256];
    assert_true(hlen < sizeof hdr);
    memcpy(hdr, b + 10, hlen);
    hdr[hlen] = 0;
    assert_non_null(strstr(hdr, "'descr': '<f4'"));
    assert_non_null(strstr(hdr, "'fortran_order': False"));
    int hr = 0, hc = 0;
    const char *sh = strstr(hdr, "'shape': (");
    assert_non_null(sh);
    assert_int_equal(sscanf(sh, "'shape': (%d, %d)", &hr, &hc), 2);
    assert_int_equal(hr, rows);
    assert_int_equal(hc, cols);
    assert_int_equal(len, 10 + hlen + 4 * (size_t)rows * cols);

    int w, h, ch;
    unsigned char *png = stbi_load(OUT_DIR "/b.png", &w, &h, &ch, 1);
    assert_non_null(png);
    assert_int_equal(w, cols);
    assert_int_equal(h, rows);
    const unsigned char *d = b + 10 + hlen;
    int off = 0, lit = 0;
    for (size_t i = 0; i < (size_t)rows * cols; i++) {
        uint32_t u = (uint32_t)d[4 * i] | ((uint32_t)d[4 * i + 1] << 8) | ((uint32_t)d[4 * i + 2] << 16) |
                     ((uint32_t)d[4 * i + 3] << 24);
        float e;
        memcpy(&e, &u, 4);
        assert_true(e >= 0.0f && isfinite(e));
        double g = 255.0 * (20.0 * log10((double)e + 1e-30) - fs + dr) / dr;
        g = g < 0 ? 0 : (g > 255 ? 255 : g);
        if (fabs(g - png[i]) > 1.0)
            off++;
        lit += png[i] > 0;
    }
    printf("%d x %d envelope: %d of %d pixels more than 1 grey level from the PNG (%d lit)\n", rows,
           cols, off, rows * cols, lit);
    assert_true(lit > rows * cols / 2);
    assert_int_equal(off, 0);
    stbi_image_free(png);
    free(b);
}

static void test_bad_envelope_path_fails_plainly(void **state)
{
    (void)state;
    char js[4096];
    int rc = eu_run(MESOSIM_EXE " render --out " OUT_DIR "/c.png --envelope /nonexistent/dir/e.npy 2>&1", js,
                    sizeof js);
    printf("%s", js);
    assert_int_equal(rc, 1);
    assert_non_null(strstr(js, "mesosim render:"));
    assert_non_null(strstr(js, "/nonexistent/dir/e.npy"));
    rc = eu_run(MESOSIM_EXE " render --out " OUT_DIR "/c.png --envelope 2>&1", js, sizeof js);
    assert_int_equal(rc, 2);
    assert_non_null(strstr(js, "--envelope needs a value"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envelope_matches_grey_image),
        cmocka_unit_test(test_bad_envelope_path_fails_plainly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
