#include "image_io.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

#include "atomic_file.h"

/* The encoded PNG, gathered in memory so it can be written atomically. */
typedef struct png_buf {
    unsigned char *data;
    size_t len, cap;
    int failed;
} png_buf;

static void write_cb(void *ctx, void *data, int size)
{
    png_buf *b = ctx;
    if (b->failed || size <= 0)
        return;
    if (b->len + (size_t)size > b->cap) {
        size_t cap = b->cap ? b->cap : 64 * 1024;
        while (cap < b->len + (size_t)size)
            cap *= 2;
        unsigned char *more = realloc(b->data, cap);
        if (!more) {
            b->failed = 1;
            return;
        }
        b->data = more;
        b->cap = cap;
    }
    memcpy(b->data + b->len, data, (size_t)size);
    b->len += (size_t)size;
}

static int write_png(const char *path, const uint8_t *pixels, int w, int h, int comp, char *err,
                     size_t n)
{
    png_buf b = {0};
    int ok = stbi_write_png_to_func(write_cb, &b, w, h, comp, pixels, w * comp);
    int rc = -1;
    if (!ok || b.failed)
        snprintf(err, n, "cannot write %s: out of memory encoding the PNG", path);
    else if (atomic_file_write(path, b.data, b.len, err, n) == 0)
        rc = 0;
    free(b.data);
    return rc;
}

int image_write_png_gray(const char *path, const uint8_t *pixels, int w, int h, char *err, size_t n)
{
    return write_png(path, pixels, w, h, 1, err, n);
}

int image_write_png_rgb(const char *path, const uint8_t *pixels, int w, int h, char *err, size_t n)
{
    return write_png(path, pixels, w, h, 3, err, n);
}

/* Bilinear sample of a rows x cols image at fractional (row, col). */
static double sample(const uint8_t *p, int rows, int cols, double r, double c)
{
    r = fmin(fmax(r, 0.0), rows - 1.0);
    c = fmin(fmax(c, 0.0), cols - 1.0);
    int r0 = (int)r, c0 = (int)c, r1 = r0 + 1 < rows ? r0 + 1 : r0, c1 = c0 + 1 < cols ? c0 + 1 : c0;
    double fr = r - r0, fc = c - c0;
    double top = p[(size_t)r0 * cols + c0] * (1 - fc) + p[(size_t)r0 * cols + c1] * fc;
    double bot = p[(size_t)r1 * cols + c0] * (1 - fc) + p[(size_t)r1 * cols + c1] * fc;
    return top * (1 - fr) + bot * fr;
}

double image_scale_bar_mm(double width_mm) { return width_mm >= 10.0 ? 5.0 : 1.0; }

int image_resample_square(const uint8_t *pixels, int rows, int cols, double dz_mm, double dx_mm,
                          image_gray *out, char *err, size_t n)
{
    memset(out, 0, sizeof *out);
    if (rows < 1 || cols < 1 || !(dz_mm > 0) || !(dx_mm > 0)) {
        snprintf(err, n, "no image to write (%d x %d pixels)", cols, rows);
        return -1;
    }
    double w_mm = cols * dx_mm, h_mm = rows * dz_mm;
    /* The finer of the two pitches, so no detail is lost; capped so a file stays sane. */
    double p = fmin(dx_mm, dz_mm);
    p = fmax(p, fmax(w_mm, h_mm) / IMAGE_MAX_SIDE);
    int w = (int)lround(w_mm / p), h = (int)lround(h_mm / p);
    w = w < 1 ? 1 : w, h = h < 1 ? 1 : h;
    uint8_t *q = malloc((size_t)w * (size_t)h);
    if (!q) {
        snprintf(err, n, "out of memory resampling the image");
        return -1;
    }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            q[(size_t)y * w + x] = (uint8_t)lround(sample(pixels, rows, cols, (y + 0.5) * p / dz_mm - 0.5,
                                                          (x + 0.5) * p / dx_mm - 0.5));
    /* The scale bar: white on a black edge, bottom left, image_scale_bar_mm long, with end ticks. */
    int len = (int)lround(image_scale_bar_mm(w_mm) / p), x0 = 6, yb = h - 8;
    for (int y = yb - 5; y <= yb + 2; y++)
        for (int x = x0 - 1; x <= x0 + len + 1; x++) {
            if (y < 0 || y >= h || x < 0 || x >= w)
                continue;
            bool bar = y >= yb - 1 && y <= yb + 1 && x >= x0 && x <= x0 + len;
            bool tick = (x == x0 || x == x0 + len) && y >= yb - 4;
            bool edge = y == yb - 2 || y == yb + 2 || x == x0 - 1 || x == x0 + len + 1;
            if (bar || tick)
                q[(size_t)y * w + x] = 255;
            else if (edge && y >= yb - 2)
                q[(size_t)y * w + x] = 0;
        }
    *out = (image_gray){.pixels = q, .w = w, .h = h, .px_mm = p, .bar_px = len};
    return 0;
}
