/* window_util: grab, read and save the window's pixels. */
#include "window_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>
#include <stb_image_write.h>

shot wu_grab(trainer *t, double t_s, const controls *c)
{
    trainer_frame(t, t_s, c);
    shot s = {NULL, 0, 0};
    trainer_drawable_size(t, &s.w, &s.h);
    s.rgba = malloc((size_t)s.w * (size_t)s.h * 4);
    assert_non_null(s.rgba);
    trainer_read_pixels(t, s.rgba);
    trainer_swap(t);
    return s;
}

const uint8_t *wu_px(const shot *s, int x, int y)
{
    return s->rgba + ((size_t)(s->h - 1 - y) * (size_t)s->w + (size_t)x) * 4;
}

void wu_save(const shot *s, const char *test, const char *gl_driver, const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s_%s_%s.png", MESOSIM_BINARY_DIR, test, gl_driver, name);
    stbi_flip_vertically_on_write(1);
    stbi_write_png(path, s->w, s->h, 4, s->rgba, s->w * 4);
    stbi_flip_vertically_on_write(0);
}
