/* The Vulkan backend: pipelines made once per (shader, specialisation) and
 * kept, ops recorded into the runtime's batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "shaders.h"

#define MAX_VARIANTS 128

typedef struct variant {
    char shader[32];
    uint32_t spec[VKR_MAX_SPEC];
    int spec_count;
    vkr_pipeline *pipeline;
} variant;

struct wk_backend {
    vkr_context *vk;
    variant variants[MAX_VARIANTS];
    int variant_count;
    wk_tensor dummy; /* bound where an optional input is absent */
    int cpu;         /* lavapipe-style device: prefer large register blocks */
};

int wk_backend_create(const wk_backend_options *opt, wk_backend **out, char *err, size_t err_size)
{
    *out = NULL;
    wk_backend *be = calloc(1, sizeof *be);
    if (!be) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    vkr_options vo = {0};
    if (opt) {
        vo.validation = opt->validation;
        vo.profile = opt->profile;
        vo.device = opt->device;
    }
    if (vkr_create(&vo, &be->vk, err, err_size) != 0 ||
        wk_tensor_alloc(be, &be->dummy, 4, 1, 1, 1, err, err_size) != 0) {
        wk_backend_destroy(be);
        return -1;
    }
    be->cpu = vkr_device_type(be->vk) == VK_PHYSICAL_DEVICE_TYPE_CPU;
    *out = be;
    return 0;
}

void wk_backend_destroy(wk_backend *be)
{
    if (!be)
        return;
    for (int i = be->variant_count - 1; i >= 0; i--)
        vkr_pipeline_destroy(be->vk, be->variants[i].pipeline);
    if (be->vk)
        wk_tensor_free(be, &be->dummy);
    vkr_destroy(be->vk);
    free(be);
}

const char *wk_backend_device_name(const wk_backend *be)
{
    return vkr_device_name(be->vk);
}

const char *wk_backend_device_type(const wk_backend *be)
{
    return vkr_device_type_name(vkr_device_type(be->vk));
}

uint32_t wk_backend_validation_messages(const wk_backend *be)
{
    return vkr_validation_messages(be->vk);
}

vkr_context *wk_backend_vkr(wk_backend *be)
{
    return be->vk;
}

int wk_tensor_alloc(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                    size_t err_size)
{
    memset(t, 0, sizeof *t);
    if (ne0 < 1 || ne1 < 1 || ne2 < 1 || ne3 < 1) {
        snprintf(err, err_size, "tensor shape [%lld, %lld, %lld, %lld] has an empty dimension", (long long)ne0,
                 (long long)ne1, (long long)ne2, (long long)ne3);
        return -1;
    }
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    t->ne[2] = ne2;
    t->ne[3] = ne3;
    t->dtype = WK_F32;
    return vkr_alloc(be->vk, (VkDeviceSize)wk_nbytes(t), &t->buf, err, err_size);
}

void wk_tensor_free(wk_backend *be, wk_tensor *t)
{
    vkr_free(be->vk, &t->buf);
}

int wk_tensor_set(wk_backend *be, wk_tensor *t, const float *data, char *err, size_t err_size)
{
    return vkr_upload(be->vk, &t->buf, 0, data, (size_t)wk_nbytes(t), err, err_size);
}

int wk_tensor_get(wk_backend *be, const wk_tensor *t, float *data, char *err, size_t err_size)
{
    return vkr_download(be->vk, &t->buf, 0, data, (size_t)wk_nbytes(t), err, err_size);
}

int wk_begin(wk_backend *be, char *err, size_t err_size)
{
    return vkr_begin(be->vk, err, err_size);
}

int wk_end(wk_backend *be, char *err, size_t err_size)
{
    return vkr_submit(be->vk, err, err_size);
}

uint32_t wk_dispatch_count(const wk_backend *be)
{
    return vkr_batch_dispatches(be->vk);
}

/* The pipeline for a shader and its specialisation, made on first use. */
static vkr_pipeline *get_pipeline(wk_backend *be, const char *shader, const uint32_t *spec, int spec_count,
                                  const vkr_binding_kind *kinds, int binding_count, uint32_t push_bytes, char *err,
                                  size_t err_size)
{
    for (int i = 0; i < be->variant_count; i++) {
        variant *v = &be->variants[i];
        if (!strcmp(v->shader, shader) && v->spec_count == spec_count &&
            !memcmp(v->spec, spec, sizeof(uint32_t) * (size_t)spec_count))
            return v->pipeline;
    }
    if (be->variant_count == MAX_VARIANTS) {
        snprintf(err, err_size, "more than %d pipeline variants", MAX_VARIANTS);
        return NULL;
    }
    const shader_blob *blob = shader_find(shader);
    if (!blob) {
        snprintf(err, err_size, "no shader named %s is built in", shader);
        return NULL;
    }
    vkr_pipeline_desc d = {0};
    d.name = shader;
    d.spirv = blob->code;
    d.spirv_bytes = blob->bytes;
    d.binding_count = binding_count;
    memcpy(d.kinds, kinds, sizeof(vkr_binding_kind) * (size_t)binding_count);
    d.push_bytes = push_bytes;
    d.spec_count = spec_count;
    memcpy(d.spec, spec, sizeof(uint32_t) * (size_t)spec_count);
    variant *v = &be->variants[be->variant_count];
    if (vkr_pipeline_create(be->vk, &d, &v->pipeline, err, err_size) != 0)
        return NULL;
    snprintf(v->shader, sizeof v->shader, "%s", shader);
    memcpy(v->spec, spec, sizeof(uint32_t) * (size_t)spec_count);
    v->spec_count = spec_count;
    be->variant_count++;
    return v->pipeline;
}

static uint32_t div_up(int64_t a, int64_t b)
{
    return (uint32_t)((a + b - 1) / b);
}

int wk_matmul(wk_backend *be, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
              wk_act act, wk_tensor *out, char *err, size_t err_size)
{
    int64_t K = a->ne[0], M = a->ne[1], N = w->ne[1], batch = a->ne[2] * a->ne[3];
    if (w->ne[0] != K || w->ne[2] * w->ne[3] != 1 || out->ne[0] != N || out->ne[1] != M ||
        out->ne[2] * out->ne[3] != batch || (bias && wk_nelements(bias) != N) ||
        (res && wk_nelements(res) != wk_nelements(out))) {
        snprintf(err, err_size, "matmul: shapes do not fit (a %lldx%lld, w %lldx%lld, out %lldx%lld)", (long long)M,
                 (long long)K, (long long)N, (long long)w->ne[0], (long long)out->ne[1], (long long)out->ne[0]);
        return -1;
    }
    int vec4 = K % 4 == 0;
    /* CPU devices (lavapipe): 8 x 16 register blocks, 8 lanes a group;
     * GPUs: smaller blocks, 256 invocations a group, for occupancy. */
    uint32_t tm = be->cpu ? 8 : 4, tn = be->cpu ? 16 : 4, lx = be->cpu ? 8 : 16, ly = be->cpu ? 1 : 16;
    uint32_t spec[8] = {lx, ly, tm, tn, (uint32_t)act, bias != NULL, res != NULL, (uint32_t)vec4};
    vkr_binding_kind tk = vec4 ? VKR_BIND_TEXEL_F4 : VKR_BIND_TEXEL_F1;
    vkr_binding_kind kinds[5] = {tk, tk, VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t M, N, K, stride_a, stride_c;
    } push = {(uint32_t)M, (uint32_t)N, (uint32_t)K, (uint32_t)(M * K), (uint32_t)(M * N)};
    vkr_pipeline *p = get_pipeline(be, "matmul", spec, 8, kinds, 5, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[5] = {(vkr_buffer *)&a->buf, (vkr_buffer *)&w->buf,
                            (vkr_buffer *)(bias ? &bias->buf : &be->dummy.buf),
                            (vkr_buffer *)(res ? &res->buf : &be->dummy.buf), &out->buf};
    return vkr_dispatch(be->vk, p, binds, &push, div_up(div_up(N, tn), lx), div_up(div_up(M, tm), ly),
                        (uint32_t)batch, "matmul", err, err_size);
}
