/* doppler_view: the colour / power Doppler overlay over the B-mode image in the window.
 *
 * Draws the cells of a doppler_image that show flow as filled rectangles in the colour map of
 * doppler_colour_rgb (red towards the probe, blue away, power orange), the box's outline, and
 * a colour bar at the box's right edge with the velocity scale (+/- Nyquist in cm/s) or the
 * power range. Everything goes through the ui batch (ui.h), so it lies over the image drawn
 * before and under the text drawn after. The caller maps image millimetres to screen pixels:
 * x_px = x_off + x_mm * x_scale, y_px = y_off + z_mm * z_scale, clipped to the clip rectangle
 * (the image as shown, which may be a zoomed box of it). Nothing is owned. */
#ifndef MESOSIM_DOPPLER_VIEW_H
#define MESOSIM_DOPPLER_VIEW_H

#include "doppler.h"
#include "ui.h"

typedef struct doppler_view_map {
    float x_off, x_scale, y_off, z_scale;    /* screen px = off + mm * scale */
    float clip_x, clip_y, clip_w, clip_h;    /* the image rectangle on screen */
    float ui_scale;                          /* the window's text scale (line widths, bar width) */
} doppler_view_map;

void doppler_view_draw(ui *u, const doppler_image *img, const doppler_settings *s,
                       const doppler_view_map *m);

#endif
