/* Shared by the Vulkan op files (engine/ops/op_*.c): the backend's state
 * and its pipeline-variant cache. Not for model code. */
#ifndef WORLDKV_BACKEND_VK_INTERNAL_H
#define WORLDKV_BACKEND_VK_INTERNAL_H

#include <stdio.h>

#include "backend.h"

#define MAX_VARIANTS 128

typedef struct variant {
    char shader[32];
    uint32_t spec[VKR_MAX_SPEC];
    int spec_count;
    vkr_binding_kind kinds[VKR_MAX_BINDINGS]; /* texel view formats differ per kind */
    int binding_count;
    vkr_pipeline *pipeline;
} variant;

struct wk_backend {
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
};

/* The pipeline for a shader and its specialisation, made on first use. */
vkr_pipeline *wk_vk_pipeline(wk_backend *be, const char *shader, const uint32_t *spec, int spec_count,
                             const vkr_binding_kind *kinds, int binding_count, uint32_t push_bytes, char *err,
                             size_t err_size);
int wk_vk_dispatch(wk_backend *be, vkr_pipeline *p, vkr_buffer *const *bindings, const void *push, uint32_t gx,
                   uint32_t gy, uint32_t gz, const char *name, char *err, size_t err_size);
/* A small buffer bound where an optional input is absent. */
vkr_buffer *wk_vk_dummy(wk_backend *be);
int wk_vk_is_cpu(const wk_backend *be);
int wk_vk_matmul_tiled(const wk_backend *be);
int wk_vk_conv_direct(const wk_backend *be);
/* A scratch tensor of at least `elements` floats (slot 0..3), reused by
 * later calls: it grows only until the largest shape has been seen. The op
 * sets its ne for each use (the buffer, and the texel views it caches,
 * keep the full size). Dispatches in one batch run in order, so reusing a
 * slot within a batch is safe. */
int wk_vk_scratch(wk_backend *be, int slot, int64_t elements, wk_tensor **out, char *err, size_t err_size);

static inline uint32_t wk_div_up(int64_t a, int64_t b)
{
    return (uint32_t)((a + b - 1) / b);
}

/* The buffer of a tensor, for a binding list (the runtime never writes
 * through an input binding; the cast only drops const). */
static inline vkr_buffer *wk_buf(const wk_tensor *t)
{
    return (vkr_buffer *)&t->buf;
}

#endif
