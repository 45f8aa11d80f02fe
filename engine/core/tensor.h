/* tensor: a shape, a dtype and backend-owned storage. ne[0] is the
 * innermost (contiguous) dimension, as in ggml; unused dimensions are 1.
 * The storage handle is opaque bytes: only the backend that allocated the
 * tensor reads them, so nothing above the backends sees a device type. */
#ifndef WORLDKV_TENSOR_H
#define WORLDKV_TENSOR_H

#include <stdint.h>

/* f16 is storage only (math stays f32). */
typedef enum wk_dtype { WK_F32 = 0, WK_U32 = 1, WK_F16 = 2 } wk_dtype;

#define WK_TENSOR_IMPL_BYTES 80

typedef struct wk_tensor {
    int64_t ne[4];
    wk_dtype dtype;
    _Alignas(16) unsigned char impl[WK_TENSOR_IMPL_BYTES];
} wk_tensor;

static inline int64_t wk_nelements(const wk_tensor *t)
{
    return t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3];
}

static inline int64_t wk_nbytes(const wk_tensor *t)
{
    return wk_nelements(t) * (t->dtype == WK_F16 ? 2 : 4);
}

#endif
