/* backend: the seam between model code and a compute device. Model code
 * calls these functions and never touches Vulkan. Every function returns 0,
 * or -1 with a message in err. Ops are recorded between wk_begin and
 * wk_end, which runs them all in one submit. */
#ifndef WORLDKV_BACKEND_H
#define WORLDKV_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

typedef enum wk_act { WK_ACT_NONE = 0, WK_ACT_GELU = 1, WK_ACT_SILU = 2 } wk_act;

typedef struct wk_backend wk_backend;

typedef struct wk_backend_options {
    int validation;     /* Vulkan validation layers (tests turn them on) */
    int profile;        /* time every op */
    const char *device; /* index or name substring; NULL picks the best */
} wk_backend_options;

int wk_backend_create(const wk_backend_options *opt, wk_backend **out, char *err, size_t err_size);
void wk_backend_destroy(wk_backend *be);
const char *wk_backend_device_name(const wk_backend *be);
const char *wk_backend_device_type(const wk_backend *be);
uint32_t wk_backend_validation_messages(const wk_backend *be);
vkr_context *wk_backend_vkr(wk_backend *be);

int wk_tensor_alloc(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                    size_t err_size);
void wk_tensor_free(wk_backend *be, wk_tensor *t);
int wk_tensor_set(wk_backend *be, wk_tensor *t, const float *data, char *err, size_t err_size);
int wk_tensor_get(wk_backend *be, const wk_tensor *t, float *data, char *err, size_t err_size);

int wk_begin(wk_backend *be, char *err, size_t err_size);
int wk_end(wk_backend *be, char *err, size_t err_size);
/* Dispatches recorded in the open (or last) batch. */
uint32_t wk_dispatch_count(const wk_backend *be);

/* out[.., M, N] = act(a[.., M, K] . w[N, K]^T + bias[N]) + res[.., M, N].
 * bias and res may be NULL; a's dims 2 and 3 are a batch sharing w. */
int wk_matmul(wk_backend *be, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
              wk_act act, wk_tensor *out, char *err, size_t err_size);

#endif
