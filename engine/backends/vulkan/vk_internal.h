/* Shared by the Vulkan backend's files: its state, its pipeline-variant
 * cache and the op hosts' entry points. Nothing outside backends/vulkan/
 * includes this (or vulkan.h). */
#ifndef WORLDKV_VK_INTERNAL_H
#define WORLDKV_VK_INTERNAL_H

#include <stdio.h>

#include "backend_impl.h"
#include "vkr.h"

#define MAX_VARIANTS 128

typedef struct variant {
    char shader[32];
    uint32_t spec[VKR_MAX_SPEC];
    int spec_count;
    vkr_binding_kind kinds[VKR_MAX_BINDINGS]; /* texel view formats differ per kind */
    int binding_count;
    vkr_pipeline *pipeline;
} variant;

typedef struct wk_vk wk_vk;

struct wk_vk {
    vkr_context *vk;
    variant variants[MAX_VARIANTS];
    int variant_count;
    wk_tensor dummy; /* bound where an optional input is absent */
    int cpu;          /* lavapipe-style device: prefer large register blocks */
    int matmul_tiled; /* shared-memory tiled matmul (GPUs; WORLDKV_MATMUL overrides) */
    int conv_direct;  /* WORLDKV_CONV=direct: never take the im2col + matmul path */
    wk_tensor scratch[4];       /* op scratch, grown to the largest use and kept */
    int64_t scratch_cap[4];     /* elements allocated (ops reshape ne per use) */
    wk_tensor retired[8];       /* outgrown scratch, freed when the batch that used it is done */
    int retired_count;
    wk_profile_entry profile[64]; /* the runtime's entries, copied for wk_profile */
};

/* The pipeline for a shader and its specialisation, made on first use. */
vkr_pipeline *wk_vk_pipeline(wk_vk *be, const char *shader, const uint32_t *spec, int spec_count,
                             const vkr_binding_kind *kinds, int binding_count, uint32_t push_bytes, char *err,
                             size_t err_size);
int wk_vk_dispatch(wk_vk *be, vkr_pipeline *p, vkr_buffer *const *bindings, const void *push, uint32_t gx,
                   uint32_t gy, uint32_t gz, const char *name, char *err, size_t err_size);
/* A small buffer bound where an optional input is absent. */
vkr_buffer *wk_vk_dummy(wk_vk *be);
int wk_vk_is_cpu(const wk_vk *be);
int wk_vk_matmul_tiled(const wk_vk *be);
int wk_vk_conv_direct(const wk_vk *be);
/* A scratch tensor of at least `elements` floats (slot 0..3), reused by
 * later calls: it grows only until the largest shape has been seen. The op
 * sets its ne for each use (the buffer, and the texel views it caches,
 * keep the full size). Dispatches in one batch run in order, so reusing a
 * slot within a batch is safe. */
int wk_vk_scratch(wk_vk *be, int slot, int64_t elements, wk_tensor **out, char *err, size_t err_size);

static inline uint32_t wk_div_up(int64_t a, int64_t b)
{
    return (uint32_t)((a + b - 1) / b);
}

/* The buffer of a tensor, kept in its opaque storage bytes, for a binding
 * list (the runtime never writes through an input binding; the cast only
 * drops const). */
_Static_assert(sizeof(vkr_buffer) <= WK_TENSOR_IMPL_BYTES, "a vkr_buffer must fit a tensor's storage bytes");
static inline vkr_buffer *wk_buf(const wk_tensor *t)
{
    return (vkr_buffer *)(void *)t->impl;
}

int vk_tensor_alloc_shaped(wk_vk *be, wk_tensor *t, int64_t elements, char *err, size_t err_size);
void vk_tensor_free(wk_vk *be, wk_tensor *t);

/* The op hosts (vk_op_*.c); arguments were checked by the front. */
int vk_matmul(void *ctx, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
              wk_act act, const wk_gate *gate, wk_tensor *out, char *err, size_t err_size);
int vk_norm(void *ctx, wk_norm_kind kind, const wk_tensor *x, const wk_tensor *gamma, const wk_tensor *beta,
            const wk_modulation *mod, float eps, wk_tensor *out, char *err, size_t err_size);
int vk_eltwise(void *ctx, wk_eltwise_op op, const wk_tensor *a, const wk_tensor *b, float lo, float hi,
               wk_tensor *out, char *err, size_t err_size);
int vk_rope(void *ctx, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
            size_t err_size);
int vk_attention(void *ctx, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                 const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out, char *err,
                 size_t err_size);
int vk_conv2d(void *ctx, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias, const wk_conv_params *cp,
              wk_tensor *out, char *err, size_t err_size);
int vk_quant(void *ctx, int bits, int dequant, const wk_tensor *x, const wk_tensor *q, const wk_tensor *scale,
             char *err, size_t err_size);
int vk_frame_pack(void *ctx, int unpack, const wk_tensor *img, const wk_tensor *packed, char *err, size_t err_size);
int vk_resample(void *ctx, int mode, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size);
int vk_patch(void *ctx, int unpatch, const wk_tensor *img, int p, const wk_tensor *tokens, char *err,
             size_t err_size);
int vk_warp(void *ctx, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
            float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size);

#endif
