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

#endif
