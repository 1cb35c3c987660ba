/* doppler_view: Doppler cells, box and colour bar through the ui batch. */
#include "doppler_view.h"

#include <math.h>
#include <stdio.h>

static ui_color rgba(const uint8_t rgb[3], uint8_t a)
{
    return ((ui_color)rgb[0] << 24) | ((ui_color)rgb[1] << 16) | ((ui_color)rgb[2] << 8) | a;
}

void doppler_view_draw(ui *u, const doppler_image *img, const doppler_settings *s,
                       const doppler_view_map *m)
{
    if (s->mode == DOPPLER_OFF)
        return;
    float cx0 = m->clip_x, cy0 = m->clip_y, cx1 = m->clip_x + m->clip_w, cy1 = m->clip_y + m->clip_h;
    double vn = img->nyquist_cm_s > 0.0 ? img->nyquist_cm_s : 1.0;
    for (int r = 0; r < img->rows; r++) {
        float y0 = m->y_off + (float)(img->z0_mm + (r - 0.5) * img->dz_mm) * m->z_scale;
        float y1 = y0 + (float)img->dz_mm * m->z_scale;
        if (y1 <= cy0 || y0 >= cy1)
            continue;
        y0 = fmaxf(y0, cy0), y1 = fminf(y1, cy1);
        for (int c = 0; c < img->cols; c++) {
            size_t k = (size_t)r * img->cols + c;
            if (!img->shown[k])
                continue;
            float x0 = m->x_off + (float)(img->x0_mm + (c - 0.5) * img->dx_mm) * m->x_scale;
            float x1 = x0 + (float)img->dx_mm * m->x_scale;
            if (x1 <= cx0 || x0 >= cx1)
                continue;
            x0 = fmaxf(x0, cx0), x1 = fminf(x1, cx1);
            uint8_t rgb[3];
            doppler_colour_rgb(s->mode, img->velocity_cm_s[k] / vn, img->power_db[k], rgb);
            ui_rect(u, x0, y0, x1 - x0, y1 - y0, rgba(rgb, 0xe8));
        }
    }
    /* The box as set (it may reach beyond the image). */
    float bx0 = fmaxf(m->x_off + (float)s->box_mm[0] * m->x_scale, cx0);
    float bx1 = fminf(m->x_off + (float)s->box_mm[2] * m->x_scale, cx1);
    float by0 = fmaxf(m->y_off + (float)s->box_mm[1] * m->z_scale, cy0);
    float by1 = fminf(m->y_off + (float)s->box_mm[3] * m->z_scale, cy1);
    if (bx1 <= bx0 || by1 <= by0)
        return;
    float lw = fmaxf(1.0f, m->ui_scale);
    ui_frame(u, bx0, by0, bx1 - bx0, by1 - by0, lw, 0xd0d0d0c0u);
    /* Colour bar inside the box's right edge: top +Nyquist (red), bottom -Nyquist (blue);
     * power: bright at the top. */
    float bw = 8.0f * m->ui_scale, bh = fminf(by1 - by0 - 4.0f * lw, 120.0f * m->ui_scale);
    float x = bx1 - bw - 2.0f * lw, y = by0 + 2.0f * lw;
    if (bh < 10.0f || x < bx0)
        return;
    int steps = 32;
    for (int i = 0; i < steps; i++) {
        double f = 1.0 - (i + 0.5) / steps; /* 1 at the top */
        uint8_t rgb[3];
        if (s->mode == DOPPLER_POWER)
            doppler_colour_rgb(DOPPLER_POWER, 0.0, 30.0 * f, rgb);
        else
            doppler_colour_rgb(DOPPLER_COLOR, 2.0 * f - 1.0, 0.0, rgb);
        ui_rect(u, x, y + bh * (float)i / steps, bw, bh / steps + 0.5f, rgba(rgb, 0xff));
    }
    ui_frame(u, x, y, bw, bh, lw, 0x000000ffu);
    char top[32], bottom[32];
    if (s->mode == DOPPLER_POWER) {
        snprintf(top, sizeof top, "power");
        bottom[0] = '\0';
    } else {
        snprintf(top, sizeof top, "+%.1f cm/s", vn);
        snprintf(bottom, sizeof bottom, "-%.1f", vn);
    }
    float tw = ui_text_width(u, UI_SMALL, top);
    ui_rect(u, x - tw - 6.0f * lw, y - lw, tw + 4.0f * lw, ui_line_height(u, UI_SMALL) + 2.0f * lw, 0x000000b8u);
    ui_text(u, UI_SMALL, x - tw - 4.0f * lw, y, 0xffffffffu, top);
    if (bottom[0]) {
        float bw2 = ui_text_width(u, UI_SMALL, bottom), ly = y + bh - ui_line_height(u, UI_SMALL);
        ui_rect(u, x - bw2 - 6.0f * lw, ly - lw, bw2 + 4.0f * lw, ui_line_height(u, UI_SMALL) + 2.0f * lw,
                0x000000b8u);
        ui_text(u, UI_SMALL, x - bw2 - 4.0f * lw, ly, 0xffffffffu, bottom);
    }
}
