/* window_util: grab, read and save the window's pixels; frames, keys and start-up. */
#include "window_util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

void wu_step(trainer *t, double *t_s)
{
    controls c;
    *t_s += 1.0 / 60.0;
    trainer_poll_input(t, 1.0 / 60.0, &c);
    trainer_frame(t, *t_s, &c);
    trainer_swap(t);
}

void wu_key(trainer *t, double *t_s, SDL_Scancode sc)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.keysym.scancode = sc;
    e.key.keysym.sym = SDL_GetKeyFromScancode(sc);
    SDL_PushEvent(&e);
    wu_step(t, t_s);
    e.type = SDL_KEYUP;
    SDL_PushEvent(&e);
    wu_step(t, t_s);
}

bool wu_devices_conf(const char *dir, const char *text)
{
    char path[1024];
    setenv("XDG_CONFIG_HOME", dir, 1);
    snprintf(path, sizeof path, "%s/mesosim", dir);
    mkdir(dir, 0755);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/mesosim/devices.conf", dir);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        return false;
    }
    return true;
}

trainer_def wu_test_def(void)
{
    trainer_def def = trainer_default_def();
    def.vsync = false;
    def.log_dir = "";
    def.state_path = "";
    return def;
}
