/* sound_sdl: see sound_sdl.h. The click is a 2.5 kHz burst decaying over about a millisecond
 * (a needle pop is heard as a tick, not a note); the tone is a quiet 330 Hz sine. */
#include "sound_sdl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <SDL.h>

#define PI 3.14159265358979
#define CLICK_HZ 2500.0
#define CLICK_DECAY_S 0.0012
#define CLICK_LEN_S 0.008
#define TONE_HZ 330.0
#define TONE_LEVEL 0.12
#define TONE_FADE_S 0.02

typedef struct click {
    double age_s, amp; /* age < 0: not started */
    bool live;
} click;

struct sound {
    SDL_AudioDeviceID dev;
    click clicks[SOUND_MAX_CLICKS];
    int queued;
    bool tone_on, muted;
    double tone_gain, tone_phase, volume;
};

static void callback(void *user, Uint8 *stream, int len)
{
    sound_render(user, (float *)(void *)stream, len / (int)sizeof(float));
}

sound *sound_create(bool open_device)
{
    sound *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->volume = 0.7;
    if (!open_device)
        return s;
    if (!SDL_WasInit(SDL_INIT_AUDIO) && SDL_InitSubSystem(SDL_INIT_AUDIO) != 0)
        return s; /* no audio here: silent */
    SDL_AudioSpec want = {.freq = SOUND_RATE_HZ, .format = AUDIO_F32SYS, .channels = 1, .samples = 512,
                          .callback = callback, .userdata = s},
                  have;
    s->dev = SDL_OpenAudioDevice(NULL, 0, &want, &have, 0);
    if (s->dev)
        SDL_PauseAudioDevice(s->dev, 0);
    return s;
}

void sound_destroy(sound *s)
{
    if (!s)
        return;
    if (s->dev)
        SDL_CloseAudioDevice(s->dev);
    free(s);
}

bool sound_has_device(const sound *s) { return s->dev != 0; }

static void lock(sound *s)
{
    if (s->dev)
        SDL_LockAudioDevice(s->dev);
}

static void unlock(sound *s)
{
    if (s->dev)
        SDL_UnlockAudioDevice(s->dev);
}

void sound_click(sound *s, double strength)
{
    double amp = fmin(fmax(strength, 0.2), 1.0);
    lock(s);
    s->queued++;
    /* A free slot, or the oldest click when all sound. */
    int k = 0;
    for (int i = 0; i < SOUND_MAX_CLICKS; i++) {
        if (!s->clicks[i].live) {
            k = i;
            break;
        }
        if (s->clicks[i].age_s > s->clicks[k].age_s)
            k = i;
    }
    s->clicks[k] = (click){.age_s = 0.0, .amp = amp, .live = true};
    unlock(s);
}

void sound_set_tone(sound *s, bool on)
{
    lock(s);
    s->tone_on = on;
    unlock(s);
}

void sound_set_volume(sound *s, double volume)
{
    lock(s);
    s->volume = fmin(fmax(volume, 0.0), 1.0);
    unlock(s);
}

void sound_set_muted(sound *s, bool muted)
{
    lock(s);
    s->muted = muted;
    unlock(s);
}

double sound_volume(const sound *s) { return s->volume; }
bool sound_muted(const sound *s) { return s->muted; }
int sound_clicks_queued(const sound *s) { return s->queued; }
bool sound_tone_on(const sound *s) { return s->tone_on; }

void sound_render(sound *s, float *out, int n)
{
    const double dt = 1.0 / SOUND_RATE_HZ;
    double gain = s->muted ? 0.0 : s->volume;
    for (int i = 0; i < n; i++) {
        double v = 0.0;
        for (int k = 0; k < SOUND_MAX_CLICKS; k++) {
            click *c = &s->clicks[k];
            if (!c->live)
                continue;
            v += c->amp * exp(-c->age_s / CLICK_DECAY_S) * sin(2 * PI * CLICK_HZ * c->age_s);
            c->age_s += dt;
            c->live = c->age_s < CLICK_LEN_S;
        }
        double target = s->tone_on ? 1.0 : 0.0;
        s->tone_gain += fmin(fmax(target - s->tone_gain, -dt / TONE_FADE_S), dt / TONE_FADE_S);
        v += TONE_LEVEL * s->tone_gain * sin(s->tone_phase);
        s->tone_phase = fmod(s->tone_phase + 2 * PI * TONE_HZ * dt, 2 * PI);
        out[i] = (float)fmin(fmax(gain * v, -1.0), 1.0);
    }
}
