#include "frame_scale.h"

#include <stddef.h>
#include <string.h>

void frame_blit_nearest(uint8_t *dst, int dst_width, int col, const uint8_t *src, int size, int scale)
{
    for (int y = 0; y < size * scale; y++)
        for (int x = 0; x < size * scale; x++)
            memcpy(dst + ((size_t)y * (size_t)dst_width + (size_t)(col + x)) * 3,
                   src + ((size_t)(y / scale) * (size_t)size + (size_t)(x / scale)) * 3, 3);
}
