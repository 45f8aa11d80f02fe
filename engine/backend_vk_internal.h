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
