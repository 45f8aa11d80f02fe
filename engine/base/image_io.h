/* image_io: still images through FFmpeg's libraries (shared by the apps
 * and the tools, so there is one copy of this code). */
#ifndef WORLDKV_IMAGE_IO_H
#define WORLDKV_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>

/* Encodes width x height RGB8 as PNG into path. Returns 0, or -1 with a
 * message in err (an unwritable path, a full disk, an encoder failure). */
int image_write_png(const char *path, const uint8_t *rgb, int width, int height, char *err, size_t err_size);

/* Decodes the first frame of any image (or video) FFmpeg reads and scales
 * it to width x height RGB8 (bilinear when the size differs). rgb holds
 * width * height * 3 bytes. Returns 0, or -1 with err (a missing file, not
 * an image). */
int image_read_rgb(const char *path, int width, int height, uint8_t *rgb, char *err, size_t err_size);

/* Encodes to PNG in memory; *out is av_malloc'd (free with av_free). */
int image_encode_png(const uint8_t *rgb, int width, int height, uint8_t **out, size_t *out_size, char *err,
                     size_t err_size);

#endif
