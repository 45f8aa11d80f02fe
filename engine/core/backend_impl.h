/* backend_impl: what a backend provides, one table of functions per
 * backend (in the spirit of ggml-backend's ggml_backend_i). The front
 * (backend.c) has checked every shape and argument before an op reaches
 * the table, so backends only compute. Only backends include this. */
#ifndef WORLDKV_BACKEND_IMPL_H
#define WORLDKV_BACKEND_IMPL_H

#include "backend.h"

typedef enum wk_eltwise_op {
    WK_ELT_ADD = 0,
    WK_ELT_MUL = 1,
    WK_ELT_GELU = 2,
    WK_ELT_SILU = 3,
    WK_ELT_CLAMP = 4,
    WK_ELT_EXP = 5,
    WK_ELT_COPY = 6,
    WK_ELT_AXPBY = 7,
    WK_ELT_SIGMOID = 8,
    WK_ELT_FLAG_NONFINITE = 9 /* out[0] = 1 if any a[i] is NaN or infinite, else left alone */
} wk_eltwise_op;

typedef struct wk_backend_i {
    const char *name;
    int eager; /* ops run as they are recorded (wk_end only closes the batch) */
    void (*destroy)(void *ctx);
    const char *(*device_name)(const void *ctx);
    const char *(*device_type)(const void *ctx);
    uint32_t (*validation_messages)(const void *ctx);
    void (*memory)(const void *ctx, uint64_t *block_bytes, uint64_t *used_bytes, int *blocks);
    /* does this backend hold tensors of this dtype (f16 is optional) */
    int (*supports_dtype)(const void *ctx, wk_dtype dtype);
    /* views must start at a multiple of this many elements */
    int64_t (*view_align)(const void *ctx);

    /* tensors: ne and dtype are set by the front; the backend fills impl */
    int (*tensor_alloc)(void *ctx, wk_tensor *t, char *err, size_t err_size);
    void (*tensor_free)(void *ctx, wk_tensor *t);
    /* out->ne is set; offset in elements, checked to fit */
    int (*tensor_view)(void *ctx, const wk_tensor *parent, int64_t offset, wk_tensor *out, char *err,
                       size_t err_size);
    void (*tensor_view_release)(void *ctx, wk_tensor *view);
    /* f32 values (converted for f16 tensors), or raw u32 for u32 tensors */
    int (*tensor_write)(void *ctx, wk_tensor *t, const void *data, char *err, size_t err_size);
    int (*tensor_read)(void *ctx, const wk_tensor *t, float *data, char *err, size_t err_size);

    /* batches and profiling */
    int (*begin)(void *ctx, char *err, size_t err_size);
    int (*end)(void *ctx, char *err, size_t err_size);
    void (*abort)(void *ctx);
    uint32_t (*dispatch_count)(const void *ctx);
    void (*set_label)(void *ctx, const char *label);
    int (*profile)(const void *ctx, const wk_profile_entry **entries);
    void (*profile_reset)(void *ctx);

    /* ops (semantics in backend.h) */
    int (*matmul)(void *ctx, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
                  wk_act act, const wk_gate *gate, wk_tensor *out, char *err, size_t err_size);
    int (*norm)(void *ctx, wk_norm_kind kind, const wk_tensor *x, const wk_tensor *gamma, const wk_tensor *beta,
                const wk_modulation *mod, float eps, wk_tensor *out, char *err, size_t err_size);
    /* b repeats when shorter; lo, hi are clamp bounds or axpby's alpha, beta */
    int (*eltwise)(void *ctx, wk_eltwise_op op, const wk_tensor *a, const wk_tensor *b, float lo, float hi,
                   wk_tensor *out, char *err, size_t err_size);
    int (*rope)(void *ctx, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
                size_t err_size);
    int (*attention)(void *ctx, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                     const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out,
                     char *err, size_t err_size);
    int (*conv2d)(void *ctx, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias,
                  const wk_conv_params *cp, wk_tensor *out, char *err, size_t err_size);
    /* pixel_shuffle 0: nearest upsampling */
    int (*resample)(void *ctx, int pixel_shuffle, const wk_tensor *x, int f, wk_tensor *out, char *err,
                    size_t err_size);
    /* bits 8 or 4; dequant 0: x -> q, scale; 1: q, scale -> x (the f32 side is always x) */
    int (*quant)(void *ctx, int bits, int dequant, const wk_tensor *x, const wk_tensor *q, const wk_tensor *scale,
                 char *err, size_t err_size);
    /* unpack 0: img -> packed; 1: packed -> img */
    int (*frame_pack)(void *ctx, int unpack, const wk_tensor *img, const wk_tensor *packed, char *err,
                      size_t err_size);
    /* unpatch 0: img -> tokens; 1: tokens -> img */
    int (*patch)(void *ctx, int unpatch, const wk_tensor *img, int p, const wk_tensor *tokens, char *err,
                 size_t err_size);
    int (*warp)(void *ctx, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
                float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size);
} wk_backend_i;

/* Backend constructors: 0 and a context, or -1 with a message. */
int wk_vulkan_backend_create(const wk_backend_options *opt, const wk_backend_i **iface, void **ctx, char *err,
                             size_t err_size);
int wk_cpu_backend_create(const wk_backend_options *opt, const wk_backend_i **iface, void **ctx, char *err,
                          size_t err_size);
/* Auto's probe: 1 if a Vulkan device that is not a CPU implementation
 * exists, 0 if only CPU implementations do, -1 (reason in why) if no
 * driver answers. */
int wk_vulkan_probe(char *why, size_t why_size);
void wk_vulkan_list_devices(void *file);
uint32_t wk_vulkan_total_validation_messages(void);

#endif
