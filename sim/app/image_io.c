#include "image_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

static void write_cb(void *ctx, void *data, int size)
{
    FILE *f = ctx;
    if (fwrite(data, 1, (size_t)size, f) != (size_t)size)
        (void)0; /* checked with ferror() below */
}

int image_write_png_gray(const char *path, const uint8_t *pixels, int w, int h, char *err, size_t n)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 16);
    if (!tmp) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    snprintf(tmp, len + 16, "%s.tmp", path);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        free(tmp);
        return -1;
    }
    int ok = stbi_write_png_to_func(write_cb, f, w, h, 1, pixels, w);
    int bad = ferror(f);
    if (fclose(f) != 0)
        bad = 1;
    if (!ok || bad) {
        snprintf(err, n, "cannot write %s: write failed", path);
        remove(tmp);
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
