/* The Vulkan backend: pipelines made once per (shader, specialisation) and
 * kept, ops recorded into the runtime's batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_vk_internal.h"
#include "half.h"
#include "shaders.h"

static void free_retired(wk_backend *be)
{
    while (be->retired_count > 0)
        wk_tensor_free(be, &be->retired[--be->retired_count]);
}

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
    /* GPUs get the shared-memory tiled matmul, CPU devices the register-
     * blocked one; WORLDKV_MATMUL=tiled|regblock forces either (tests use it
     * to check both kernels on one device). */
    const char *mm = getenv("WORLDKV_MATMUL");
    be->matmul_tiled = mm && *mm ? strcmp(mm, "tiled") == 0 : !be->cpu;
    const char *conv = getenv("WORLDKV_CONV");
    be->conv_direct = conv && !strcmp(conv, "direct");
    *out = be;
    return 0;
}

void wk_backend_destroy(wk_backend *be)
{
    if (!be)
        return;
    for (int i = be->variant_count - 1; i >= 0; i--)
        vkr_pipeline_destroy(be->vk, be->variants[i].pipeline);
    if (be->vk) {
        free_retired(be);
        for (int i = 3; i >= 0; i--)
            wk_tensor_free(be, &be->scratch[i]);
        wk_tensor_free(be, &be->dummy);
    }
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

static int tensor_alloc(wk_backend *be, wk_tensor *t, wk_dtype dtype, int64_t ne0, int64_t ne1, int64_t ne2,
                        int64_t ne3, char *err, size_t err_size)
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
    t->dtype = dtype;
    return vkr_alloc(be->vk, (VkDeviceSize)wk_nbytes(t), &t->buf, err, err_size);
}

int wk_tensor_alloc(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                    size_t err_size)
{
    return tensor_alloc(be, t, WK_F32, ne0, ne1, ne2, ne3, err, err_size);
}

int wk_tensor_alloc_f16(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                        size_t err_size)
{
    if (!vkr_has_f16_texels(be->vk)) {
        memset(t, 0, sizeof *t);
        snprintf(err, err_size, "%s cannot read f16 tensors; use f32", vkr_device_name(be->vk));
        return -1;
    }
    return tensor_alloc(be, t, WK_F16, ne0, ne1, ne2, ne3, err, err_size);
}

/* Converts f32 to f16 (or back) in chunks, through a small buffer. */
static int transfer_f16(wk_backend *be, const wk_tensor *t, float *data, int upload, char *err, size_t err_size)
{
    enum { CHUNK = 4096 };
    uint16_t tmp[CHUNK];
    int64_t n = wk_nelements(t);
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        if (upload) {
            for (int64_t j = 0; j < m; j++)
                tmp[j] = half_from_float(data[i + j]);
            if (vkr_upload(be->vk, &t->buf, (VkDeviceSize)(2 * i), tmp, (size_t)(2 * m), err, err_size) != 0)
                return -1;
        } else {
            if (vkr_download(be->vk, &t->buf, (VkDeviceSize)(2 * i), tmp, (size_t)(2 * m), err, err_size) != 0)
                return -1;
            for (int64_t j = 0; j < m; j++)
                data[i + j] = half_to_float(tmp[j]);
        }
    }
    return 0;
}

void wk_tensor_free(wk_backend *be, wk_tensor *t)
{
    vkr_free(be->vk, &t->buf);
}

int wk_tensor_view(wk_backend *be, const wk_tensor *parent, int64_t offset, int64_t ne0, int64_t ne1, int64_t ne2,
                   int64_t ne3, wk_tensor *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    int64_t count = ne0 * ne1 * ne2 * ne3, esize = parent->dtype == WK_F16 ? 2 : 4;
    if (ne0 < 1 || ne1 < 1 || ne2 < 1 || ne3 < 1 || offset < 0 || offset + count > wk_nelements(parent) ||
        parent->dtype == WK_F16) {
        snprintf(err, err_size, "view of %lld elements at %lld does not fit a tensor of %lld", (long long)count,
                 (long long)offset, (long long)wk_nelements(parent));
        return -1;
    }
    VkDeviceSize align = vkr_offset_alignment(be->vk);
    if ((VkDeviceSize)(offset * esize) % align != 0) {
        snprintf(err, err_size, "a view at element %lld breaks the %llu-byte offset alignment of %s", (long long)offset,
                 (unsigned long long)align, vkr_device_name(be->vk));
        return -1;
    }
    *out = *parent;
    out->ne[0] = ne0, out->ne[1] = ne1, out->ne[2] = ne2, out->ne[3] = ne3;
    out->buf.offset += (VkDeviceSize)(offset * esize);
    out->buf.size = (VkDeviceSize)(count * esize);
    out->buf.view_f4 = out->buf.view_f1 = out->buf.view_h4 = out->buf.view_h1 = VK_NULL_HANDLE;
    return 0;
}

void wk_tensor_view_release(wk_backend *be, wk_tensor *view)
{
    vkr_buffer *b = &view->buf;
    VkDevice dev = vkr_device(be->vk);
    VkBufferView *views[4] = {&b->view_f4, &b->view_f1, &b->view_h4, &b->view_h1};
    for (int i = 0; i < 4; i++)
        if (*views[i]) {
            vkDestroyBufferView(dev, *views[i], NULL);
            *views[i] = VK_NULL_HANDLE;
        }
    memset(view, 0, sizeof *view);
}

int wk_tensor_set(wk_backend *be, wk_tensor *t, const float *data, char *err, size_t err_size)
{
    if (t->dtype == WK_F16)
        return transfer_f16(be, t, (float *)data, 1, err, err_size);
    return vkr_upload(be->vk, &t->buf, 0, data, (size_t)wk_nbytes(t), err, err_size);
}

int wk_tensor_set_u32(wk_backend *be, wk_tensor *t, const uint32_t *data, char *err, size_t err_size)
{
    t->dtype = WK_U32;
    return vkr_upload(be->vk, &t->buf, 0, data, (size_t)wk_nbytes(t), err, err_size);
}

int wk_tensor_get(wk_backend *be, const wk_tensor *t, float *data, char *err, size_t err_size)
{
    if (t->dtype == WK_F16)
        return transfer_f16(be, t, data, 0, err, err_size);
    return vkr_download(be->vk, &t->buf, 0, data, (size_t)wk_nbytes(t), err, err_size);
}

int wk_begin(wk_backend *be, char *err, size_t err_size)
{
    free_retired(be); /* the batch that used them has finished */
    return vkr_begin(be->vk, err, err_size);
}

int wk_end(wk_backend *be, char *err, size_t err_size)
{
    return vkr_submit(be->vk, err, err_size);
}

void wk_abort(wk_backend *be)
{
    vkr_abort(be->vk);
}

uint32_t wk_dispatch_count(const wk_backend *be)
{
    return vkr_batch_dispatches(be->vk);
}

/* The pipeline for a shader and its specialisation, made on first use. */
vkr_pipeline *wk_vk_pipeline(wk_backend *be, const char *shader, const uint32_t *spec, int spec_count,
                                  const vkr_binding_kind *kinds, int binding_count, uint32_t push_bytes, char *err,
                                  size_t err_size)
{
    for (int i = 0; i < be->variant_count; i++) {
        variant *v = &be->variants[i];
        if (!strcmp(v->shader, shader) && v->spec_count == spec_count && v->binding_count == binding_count &&
            !memcmp(v->spec, spec, sizeof(uint32_t) * (size_t)spec_count) &&
            !memcmp(v->kinds, kinds, sizeof(vkr_binding_kind) * (size_t)binding_count))
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
    memcpy(v->kinds, kinds, sizeof(vkr_binding_kind) * (size_t)binding_count);
    v->binding_count = binding_count;
    be->variant_count++;
    return v->pipeline;
}

vkr_buffer *wk_vk_dummy(wk_backend *be)
{
    return &be->dummy.buf;
}

int wk_vk_is_cpu(const wk_backend *be)
{
    return be->cpu;
}

int wk_vk_matmul_tiled(const wk_backend *be)
{
    return be->matmul_tiled;
}

int wk_vk_conv_direct(const wk_backend *be)
{
    return be->conv_direct;
}

int wk_vk_scratch(wk_backend *be, int slot, int64_t elements, wk_tensor **out, char *err, size_t err_size)
{
    wk_tensor *t = &be->scratch[slot];
    if (t->buf.block && be->scratch_cap[slot] >= elements) {
        *out = t;
        return 0;
    }
    if (t->buf.block) {
        /* the old buffer may be bound in the open batch: free it later */
        if (be->retired_count == 8) {
            snprintf(err, err_size, "scratch grew too often in one batch");
            return -1;
        }
        be->retired[be->retired_count++] = *t;
        memset(t, 0, sizeof *t);
    }
    if (wk_tensor_alloc(be, t, elements, 1, 1, 1, err, err_size) != 0)
        return -1;
    be->scratch_cap[slot] = elements;
    *out = t;
    return 0;
}

int wk_vk_dispatch(wk_backend *be, vkr_pipeline *p, vkr_buffer *const *bindings, const void *push, uint32_t gx,
                   uint32_t gy, uint32_t gz, const char *name, char *err, size_t err_size)
{
    return vkr_dispatch(be->vk, p, bindings, push, gx, gy, gz, name, err, err_size);
}
