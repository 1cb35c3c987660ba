/* screens: drawing shared by the trainer's screens: wrapped text, the top bar, the help
 * overlay, the procedure's step labels, and key hints read from the bindings. All sizes in
 * framebuffer pixels, scaled by the display scale so the layout holds on high-DPI screens. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "trainer_internal.h"

/* Draws text wrapped to width w; returns the height used. */
float screens_wrap(trainer *t, ui_font f, float x, float y, float w, ui_color c, const char *text)
{
    char line[512];
    float lh = ui_line_height(t->ui, f), used = 0;
    const char *p = text;
    while (*p) {
        size_t best = 0, n = 0;
        while (p[n] && p[n] != '\n') {
            size_t m = n;
            while (p[m] && p[m] != ' ' && p[m] != '\n')
                m++;
            if (m >= sizeof line)
                m = sizeof line - 1;
            memcpy(line, p, m);
            line[m] = '\0';
            if (best && ui_text_width(t->ui, f, line) > w)
                break;
            best = m;
            n = m;
            if (p[n] == ' ')
                n++;
            if (m == sizeof line - 1)
                break;
        }
        if (!best)
            best = n ? n : 1;
        memcpy(line, p, best);
        line[best] = '\0';
        ui_text(t->ui, f, x, y + used, c, line);
        used += lh;
        p += best;
        while (*p == ' ' || *p == '\n')
            p++;
    }
    return used;
}

void screens_top_bar(trainer *t, const char *right)
{
    float W = (float)t->fb_w;
    ui_rect(t->ui, 0, 0, W, S(t, 36), C_BAR);
    float x = S(t, 12), y = S(t, 9);
    x += ui_text(t->ui, UI_BODY, x, y, C_ACCENT, "mesosim");
    if (t->open.have_case) {
        const scenario_patient *p = &t->open.sc.patient;
        ui_textf(t->ui, UI_BODY, x + S(t, 14), y, C_TEXT, "%s  \xe2\x80\x94  %.0f y %s, %s, %s skin", t->open.sc.name,
                 p->age_years, p->sex, p->region, p->skin);
    }
    if (right)
        ui_text(t->ui, UI_BODY, W - S(t, 12) - ui_text_width(t->ui, UI_BODY, right), y, C_DIM, right);
}

const char *screens_step_label(score_step s)
{
    switch (s) {
    case STEP_POSITIONING: return "Patient positioning";
    case STEP_DISINFECTION: return "Disinfection, skin checked for lesions";
    case STEP_STERILE_FIELD: return "Sterile field";
    case STEP_ASSESSMENT: return "Initial ultrasound assessment (mark dermis)";
    case STEP_INJECTION: return "Out-of-plane guided injection, tip in view";
    case STEP_SPREAD_CHECK: return "Real-time check of the spread";
    case STEP_DRESSING: return "Sterile dressing";
    default: return "?";
    }
}

void screens_help(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float lh = ui_line_height(u, UI_SMALL);
    int rows = BTN_COUNT > 6 + AXIS_COUNT ? BTN_COUNT : 6 + AXIS_COUNT;
    float w = S(t, 760), h = S(t, 108) + rows * lh, x = 0.5f * (W - w), y = 0.5f * (H - h);
    ui_rect(u, x, y, w, h, 0x0c0f14f0);
    ui_frame(u, x, y, w, h, S(t, 1), C_ACCENT);
    ui_text(u, UI_TITLE, x + S(t, 16), y + S(t, 10), C_TEXT, "Controls");
    float cy = y + S(t, 48), col = x + S(t, 16);
    char keys[128];
    const char *mouse[] = {"drag on image: slide probe", "Ctrl+drag: rotate probe",
                           "Shift+drag: tilt (vertical) / rock (horizontal)", "wheel: image depth",
                           "drag / wheel on outside view: orbit / zoom"};
    for (size_t i = 0; i < sizeof mouse / sizeof mouse[0]; i++, cy += lh)
        ui_text(u, UI_SMALL, col, cy, C_ACCENT, mouse[i]);
    cy += S(t, 6);
    float start = cy;
    for (int a = 0; a < AXIS_COUNT; a++, cy += lh) {
        controls_axis_keys(&t->bindings, (ctl_axis)a, keys, sizeof keys);
        ui_text(u, UI_SMALL, col, cy, C_DIM, controls_axis_name((ctl_axis)a));
        ui_text(u, UI_SMALL, col + S(t, 170), cy, C_TEXT, keys);
    }
    cy = start - S(t, 6) - 5 * lh;
    col = x + S(t, 400);
    for (int b = 0; b < BTN_COUNT; b++, cy += lh) {
        controls_button_keys(&t->bindings, (ctl_button)b, keys, sizeof keys);
        ui_text(u, UI_SMALL, col, cy, C_DIM, controls_button_name((ctl_button)b));
        ui_text(u, UI_SMALL, col + S(t, 170), cy, C_TEXT, keys);
    }
    char mute[96], down[96], up[96];
    ui_textf(u, UI_SMALL, x + S(t, 16), y + h - S(t, 42), C_DIM, "Sound: %s, volume %.0f %% (%s mutes, %s / %s)%s",
             sound_muted(t->snd) ? "muted" : "on", 100 * sound_volume(t->snd), screens_key(t, BTN_MUTE, mute),
             screens_key(t, BTN_VOLUME_DOWN, down), screens_key(t, BTN_VOLUME_UP, up),
             sound_has_device(t->snd) ? "" : "; no audio device here");
    ui_textf(u, UI_SMALL, x + S(t, 16), y + h - S(t, 24), C_DIM, "Bindings: %s", t->bindings_path);
}

const char *screens_key(const trainer *t, ctl_button b, char buf[CONTROLS_KEY_NAME_LEN * 3])
{
    controls_button_hint(&t->bindings, b, buf, CONTROLS_KEY_NAME_LEN * 3);
    return buf;
}

const char *screens_axis_key(const trainer *t, ctl_axis a, char buf[CONTROLS_KEY_NAME_LEN * 3])
{
    controls_axis_hint(&t->bindings, a, buf, CONTROLS_KEY_NAME_LEN * 3);
    return buf;
}
