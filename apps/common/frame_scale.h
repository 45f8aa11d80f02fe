/* frame_scale: model frames enlarged for video and screens, nearest
 * neighbour (the pixels stay the model's). */
#ifndef WORLDKV_FRAME_SCALE_H
#define WORLDKV_FRAME_SCALE_H

#include <stdint.h>

/* Writes a size x size RGB8 frame, enlarged scale times, into dst (an RGB8
 * picture dst_width pixels wide, at least size * scale tall) from column col. */
void frame_blit_nearest(uint8_t *dst, int dst_width, int col, const uint8_t *src, int size, int scale);

#endif
