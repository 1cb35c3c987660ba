/* sound_sdl: the trainer's sounds, generated as it plays (no sample files): a short click on
 * each puncture pop, louder for a stronger pop, and a soft tone while the drug goes in.
 *
 * The mixing (sound_render) is plain arithmetic on the queued events, called by SDL's audio
 * callback; tests call it directly. Where SDL has no audio device (a test machine, a server)
 * the sound opens with none and stays silent: the trainer never fails for want of audio.
 * SDL_AUDIODRIVER=dummy gives a device that plays nothing, for tests.
 *
 * Volume 0..1 and mute are the trainer's settings (kept with the last case, screen_picker.c).
 * A sound owns its audio device; create and destroy on one thread, after SDL_Init. */
#ifndef MESOSIM_SOUND_SDL_H
#define MESOSIM_SOUND_SDL_H

#include <stdbool.h>

#define SOUND_RATE_HZ 48000
#define SOUND_MAX_CLICKS 8   /* clicks sounding at once; more in one frame are merged */

typedef struct sound sound;

/* Never NULL but when out of memory. open_device: open SDL's audio device when there is one
 * (false: a sound only sound_render plays, for tests). */
sound *sound_create(bool open_device);
void sound_destroy(sound *s);
bool sound_has_device(const sound *s);

/* A pop: a click of strength 0..1 (below 0.2 still clicks, at 0.2). */
void sound_click(sound *s, double strength);
/* The injection tone on or off (faded over 20 ms, no pop of its own). */
void sound_set_tone(sound *s, bool on);
void sound_set_volume(sound *s, double volume);
void sound_set_muted(sound *s, bool muted);
double sound_volume(const sound *s);
bool sound_muted(const sound *s);
/* Clicks queued since create, whether or not a device plays them (tests). */
int sound_clicks_queued(const sound *s);
bool sound_tone_on(const sound *s);

/* Mixes the next n mono samples (-1..1) into out: what the audio callback plays. */
void sound_render(sound *s, float *out, int n);

#endif
