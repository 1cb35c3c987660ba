/* image_view: 8-bit grey images (the B-mode frame, debrief snapshots) as GL textures drawn
 * into a rectangle of the window.
 *
 * The B-mode image is uploaded as it comes from bmode_render (row 0 at the probe face, one
 * byte per pixel) into an R8 texture and drawn with row 0 at the top of the rectangle; the
 * caller picks the rectangle so that it keeps the image's millimetre aspect (cols * dx_mm
 * wide, rows * dz_mm deep). Linear filtering: the image is resampled to screen pixels.
 *
 * An image_view owns its program and quad buffer; an image_tex its texture. Both need the
 * GL context that created them. */
#ifndef MESOSIM_IMAGE_VIEW_H
#define MESOSIM_IMAGE_VIEW_H

#include <stddef.h>
#include <stdint.h>

typedef struct image_view image_view;

typedef struct image_tex {
    unsigned int id; /* GL texture name, 0 when empty */
    int w, h;
} image_tex;

image_view *image_view_create(char *err, size_t err_len);
void image_view_destroy(image_view *v);

/* Replaces the texture's content with w x h bytes, row-major, row 0 first (reallocates only
 * when the size changes). */
void image_tex_upload(image_tex *t, const uint8_t *pixels, int w, int h);
void image_tex_destroy(image_tex *t);

/* Draws t into the pixel rectangle (x, y, w, h), origin top left, of an fb_w x fb_h
 * framebuffer. */
void image_view_draw(image_view *v, const image_tex *t, float x, float y, float w, float h,
                     int fb_w, int fb_h);

#endif
