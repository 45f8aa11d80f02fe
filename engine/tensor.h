/* tensor: a shape, a dtype and device memory. ne[0] is the innermost
 * (contiguous) dimension, as in ggml; unused dimensions are 1. */
#ifndef WORLDKV_TENSOR_H
#define WORLDKV_TENSOR_H

#include <stdint.h>

#include "vkr.h"

typedef enum wk_dtype { WK_F32 = 0, WK_U32 = 1 } wk_dtype; /* both 4 bytes an element */

typedef struct wk_tensor {
    int64_t ne[4];
    wk_dtype dtype;
    vkr_buffer buf;
} wk_tensor;

static inline int64_t wk_nelements(const wk_tensor *t)
{
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

static inline int64_t wk_nbytes(const wk_tensor *t)
{
    return wk_nelements(t) * 4;
}

#endif
