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

/* The help: what to do, in order, in words (with the keys from the bindings), then every
 * binding in three columns. */
void screens_help(trainer *t)
{
    ui *u = t->ui;
    float W = (float)t->fb_w, H = (float)t->fb_h;
    float lh = ui_line_height(u, UI_SMALL);
    float w = fminf(S(t, 1000), W - S(t, 24)), x = 0.5f * (W - w);
    int per_col = (AXIS_COUNT + BTN_COUNT + 2) / 3;
    char k[35][CONTROLS_KEY_NAME_LEN * 3]; /* one per key named: all are formatted at once */
    char flow[8192];
    snprintf(flow, sizeof flow,
             "1. Prepare: position the patient (%s), disinfect and check the skin (%s), lay the sterile field (%s); "
             "tick each as you do it (%s undoes a tick for a few seconds).\n"
             "2. Scan: drag on the image or use the arrows to slide the probe; set the depth (wheel), the focus (%s/%s) "
             "to the dermis, the receive F-number (%s/%s: lower opens the aperture, finer across), the gain and the TGC "
             "sliders beside the image; presets %s/%s/%s; zoom %s/%s.\n"
             "3. Assess: mark the dermis (%s, click its top then its bottom) or measure it with the calipers (%s); "
             "look for vessels under the planned points with colour Doppler (%s cycles colour, power, off; %s places "
             "the box; %s/%s the velocity scale, %s steers, %s/%s the colour gain). "
             "Freeze (%s) holds the image; %s/%s scroll back through the last 10 s.\n"
             "4. Inject at each planned point: set the angle (%s/%s), put the needle in (%s), advance (%s) until the tip "
             "shows in the dermis, inject (%s), watch the spread, withdraw (%s).\n"
             "5. Finish: the dressing (%s), then %s; it asks first. %s pauses the clock at any time.\n"
             "A tracked tool (mesosim --igtl-port): %s calibrates it, touching two marks on the skin.\n"
             "Instructor: I on the case picker lists every trainee's progress; Enter shows their sessions, Enter on "
             "one replays it in the debrief.",
             screens_key(t, BTN_STEP_POSITIONING, k[0]), screens_key(t, BTN_STEP_DISINFECTION, k[1]),
             screens_key(t, BTN_STEP_STERILE_FIELD, k[2]), screens_key(t, BTN_UNDO_STEP, k[3]),
             screens_key(t, BTN_FOCUS_SHALLOWER, k[4]), screens_key(t, BTN_FOCUS_DEEPER, k[5]),
             screens_key(t, BTN_FNUMBER_DOWN, k[33]), screens_key(t, BTN_FNUMBER_UP, k[34]),
             screens_key(t, BTN_PRESET_SKIN, k[6]), screens_key(t, BTN_PRESET_SUPERFICIAL, k[7]),
             screens_key(t, BTN_PRESET_DEEP, k[8]), screens_key(t, BTN_ZOOM_IN, k[23]),
             screens_key(t, BTN_ZOOM_OUT, k[24]), screens_key(t, BTN_MARK_DERMIS, k[9]),
             screens_key(t, BTN_CALIPERS, k[10]), screens_key(t, BTN_DOPPLER_MODE, k[25]),
             screens_key(t, BTN_DOPPLER_BOX, k[26]), screens_key(t, BTN_DOPPLER_PRF_DOWN, k[27]),
             screens_key(t, BTN_DOPPLER_PRF_UP, k[28]), screens_key(t, BTN_DOPPLER_STEER, k[29]),
             screens_key(t, BTN_DOPPLER_GAIN_DOWN, k[30]), screens_key(t, BTN_DOPPLER_GAIN_UP, k[31]),
             screens_key(t, BTN_FREEZE, k[11]),
             screens_key(t, BTN_CINE_BACK, k[12]), screens_key(t, BTN_CINE_FORWARD, k[13]),
             screens_key(t, BTN_ANGLE_UP, k[14]), screens_key(t, BTN_ANGLE_DOWN, k[15]),
             screens_key(t, BTN_NEEDLE_ENTRY, k[16]), screens_axis_key(t, AXIS_NEEDLE_ADVANCE, k[17]),
             screens_key(t, BTN_INJECT, k[18]), screens_key(t, BTN_NEEDLE_WITHDRAW, k[19]),
             screens_key(t, BTN_STEP_DRESSING, k[20]), screens_key(t, BTN_END_SESSION, k[21]),
             screens_key(t, BTN_PAUSE, k[22]), screens_key(t, BTN_CALIBRATE, k[32]));
    float h = H - S(t, 16), y = S(t, 8);
    ui_rect(u, x, y, w, h, 0x0c0f14f0);
    ui_frame(u, x, y, w, h, S(t, 1), C_ACCENT);
    ui_text(u, UI_TITLE, x + S(t, 16), y + S(t, 10), C_TEXT, "What to do");
    float cy = y + S(t, 44);
    cy += screens_wrap(t, UI_SMALL, x + S(t, 16), cy, w - S(t, 32), C_TEXT, flow) + S(t, 6);
    cy += screens_wrap(t, UI_SMALL, x + S(t, 16), cy, w - S(t, 32), C_ACCENT,
            "Mouse: drag on the image slides the probe, Ctrl+drag rotates, Shift+drag tilts (vertical) and rocks "
            "(horizontal), the wheel sets the depth; drag the TGC sliders; click a checklist step when done; "
            "drag or wheel on the outside view orbits and zooms.");
    cy += S(t, 8);
    float colw = (w - S(t, 32)) / 3, name_w = 0.55f * colw;
    char keys[128];
    for (int i = 0; i < AXIS_COUNT + BTN_COUNT; i++) {
        float cx = x + S(t, 16) + (float)(i / per_col) * colw, ry = cy + (float)(i % per_col) * lh;
        if (i < AXIS_COUNT) {
            controls_axis_keys(&t->bindings, (ctl_axis)i, keys, sizeof keys);
            ui_text(u, UI_SMALL, cx, ry, C_DIM, controls_axis_name((ctl_axis)i));
        } else {
            controls_button_keys(&t->bindings, (ctl_button)(i - AXIS_COUNT), keys, sizeof keys);
            ui_text(u, UI_SMALL, cx, ry, C_DIM, controls_button_name((ctl_button)(i - AXIS_COUNT)));
        }
        ui_text(u, UI_SMALL, cx + name_w, ry, C_TEXT, keys);
    }
    char mute[96], down[96], up[96];
    ui_textf(u, UI_SMALL, x + S(t, 16), y + h - S(t, 38), C_DIM, "Sound: %s, volume %.0f %% (%s mutes, %s / %s)%s",
             sound_muted(t->snd) ? "muted" : "on", 100 * sound_volume(t->snd), screens_key(t, BTN_MUTE, mute),
             screens_key(t, BTN_VOLUME_DOWN, down), screens_key(t, BTN_VOLUME_UP, up),
             sound_has_device(t->snd) ? "" : "; no audio device here");
    ui_textf(u, UI_SMALL, x + S(t, 16), y + h - S(t, 20), C_DIM, "Bindings: %s", t->bindings_path);
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
