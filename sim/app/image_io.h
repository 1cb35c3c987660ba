/* image_io: writing images for the command line (PNG through stb_image_write).
 *
 * Files are written atomically (atomic_file.h): an interrupted run never leaves a truncated
 * image where a good one was, nor a temporary file, and a symlink at the path is kept. */
#ifndef MESOSIM_IMAGE_IO_H
#define MESOSIM_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

/* 8-bit grey PNG, w x h, row-major. Returns 0, or -1 with a message in err. */
int image_write_png_gray(const char *path, const uint8_t *pixels, int w, int h, char *err,
                         size_t err_len);
/* 8-bit RGB PNG, w x h, 3 bytes a pixel, row-major. Returns 0, or -1 with a message in err. */
int image_write_png_rgb(const char *path, const uint8_t *pixels, int w, int h, char *err,
                        size_t err_len);

/* Frames for people: a B-mode image (rows x cols, pitches dz_mm deep and dx_mm across, which
 * differ) resampled to square pixels px_mm a side (the finer pitch; no side over
 * IMAGE_MAX_SIDE), so a circle stays a circle in any viewer, with a scale bar in the bottom
 * left corner: image_scale_bar_mm long (white on a black edge, ticks at its ends). out->pixels
 * is malloc'ed (the caller frees). Returns 0, or -1 with a message. */
#define IMAGE_MAX_SIDE 4096
typedef struct image_gray {
    uint8_t *pixels;
    int w, h;
    double px_mm;   /* side of a pixel */
    int bar_px;     /* scale bar length in pixels */
} image_gray;
int image_resample_square(const uint8_t *pixels, int rows, int cols, double dz_mm, double dx_mm,
                          image_gray *out, char *err, size_t err_len);
/* 5 mm, or 1 mm for an image narrower than 10 mm. */
double image_scale_bar_mm(double width_mm);

#endif
