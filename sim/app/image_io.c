#include "image_io.h"

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

int image_write_png_gray(const char *path, const uint8_t *pixels, int w, int h, char *err, size_t n)
{
    png_buf b = {0};
    int ok = stbi_write_png_to_func(write_cb, &b, w, h, 1, pixels, w);
    int rc = -1;
    if (!ok || b.failed)
        snprintf(err, n, "cannot write %s: out of memory encoding the PNG", path);
    else if (atomic_file_write(path, b.data, b.len, err, n) == 0)
        rc = 0;
    free(b.data);
    return rc;
}
