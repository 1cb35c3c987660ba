/* ui: overlays and text for the window, drawn as one batch of triangles per frame.
 *
 * Rectangles, lines, rings and text (UTF-8, DejaVu Sans through stb_truetype) are queued in
 * framebuffer pixels (origin top left, y down) and drawn by ui_flush with one shader and one
 * texture: the font atlas, whose white texel also fills solid shapes. Glyphs are baked at the
 * pixel size they are shown at (three sizes times the display scale), so text stays crisp on
 * any window and on high-DPI screens; ui_set_scale rebakes when the scale changes.
 *
 * Colours are 0xRRGGBBAA. A ui owns its GL objects, the font file bytes and the vertex
 * queue; create it with a current GL 3.3 context and destroy it before the context goes. */
#ifndef MESOSIM_UI_H
#define MESOSIM_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint32_t ui_color;

typedef enum ui_font {
    UI_SMALL = 0, /* 12 px at scale 1: scales, table cells */
    UI_BODY,      /* 15 px: most text */
    UI_TITLE,     /* 24 px: screen titles, verdicts */
    UI_FONT_COUNT
} ui_font;

typedef struct ui ui;

/* Fonts searched when font_path is NULL: $MESOSIM_FONT, then Debian's fonts-dejavu-core. */
const char *ui_default_font_path(void);

/* NULL with a message in err when the font cannot be read or the shaders fail. */
ui *ui_create(const char *font_path, float scale, char *err, size_t err_len);
void ui_destroy(ui *u);
/* Display scale (framebuffer pixels per window point, times any user zoom). */
bool ui_set_scale(ui *u, float scale, char *err, size_t err_len);
float ui_scale(const ui *u);

/* Starts a frame's batch for a framebuffer of fb_w x fb_h pixels. */
void ui_begin(ui *u, int fb_w, int fb_h);
void ui_rect(ui *u, float x, float y, float w, float h, ui_color c);
void ui_frame(ui *u, float x, float y, float w, float h, float width, ui_color c);
void ui_line(ui *u, float x0, float y0, float x1, float y1, float width, ui_color c);
void ui_ring(ui *u, float cx, float cy, float r, float width, ui_color c);
void ui_disc(ui *u, float cx, float cy, float r, ui_color c);
void ui_triangle(ui *u, float x0, float y0, float x1, float y1, float x2, float y2, ui_color c);
/* Text with its top-left corner at (x, y); returns the advance width in pixels. */
float ui_text(ui *u, ui_font f, float x, float y, ui_color c, const char *utf8);
float ui_textf(ui *u, ui_font f, float x, float y, ui_color c, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
float ui_text_width(const ui *u, ui_font f, const char *utf8);
/* Distance from one line's top to the next. */
float ui_line_height(const ui *u, ui_font f);
/* Draws the queue (blending on, depth test off) and empties it. */
void ui_flush(ui *u);

#endif
