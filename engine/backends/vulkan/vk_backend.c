/* The Vulkan backend: pipelines made once per (shader, specialisation) and
 * kept, ops recorded into the runtime's batch and run at wk_end. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"
#include "shaders.h"
#include "vk_internal.h"

static void free_retired(wk_vk *be)
{
    while (be->retired_count > 0)
        vk_tensor_free(be, &be->retired[--be->retired_count]);
}

int vk_tensor_alloc_shaped(wk_vk *be, wk_tensor *t, int64_t elements, char *err, size_t err_size)
{
    memset(t, 0, sizeof *t);
    t->ne[0] = elements, t->ne[1] = t->ne[2] = t->ne[3] = 1;
    t->dtype = WK_F32;
    return vkr_alloc(be->vk, (VkDeviceSize)wk_nbytes(t), wk_buf(t), err, err_size);
}

void vk_tensor_free(wk_vk *be, wk_tensor *t)
{
    vkr_free(be->vk, wk_buf(t));
}

static void vk_destroy(void *ctx)
{
    wk_vk *be = ctx;
    if (!be)
        return;
    for (int i = be->variant_count - 1; i >= 0; i--)
        vkr_pipeline_destroy(be->vk, be->variants[i].pipeline);
    if (be->vk) {
        free_retired(be);
        for (int i = 3; i >= 0; i--)
            vk_tensor_free(be, &be->scratch[i]);
        vk_tensor_free(be, &be->dummy);
    }
    vkr_destroy(be->vk);
    free(be);
}

static const char *vk_device_name(const void *ctx)
{
    return vkr_device_name(((const wk_vk *)ctx)->vk);
}

static const char *vk_device_type(const void *ctx)
{
    return vkr_device_type_name(vkr_device_type(((const wk_vk *)ctx)->vk));
}

static uint32_t vk_validation_messages(const void *ctx)
{
    return vkr_validation_messages(((const wk_vk *)ctx)->vk);
}

static void vk_memory(const void *ctx, uint64_t *block_bytes, uint64_t *used_bytes, int *blocks)
{
    (void)ctx;
    vkr_memory_stats_any(block_bytes, used_bytes, blocks);
}

static int vk_supports_dtype(const void *ctx, wk_dtype dtype)
{
    return dtype != WK_F16 || vkr_has_f16_texels(((const wk_vk *)ctx)->vk);
}

static int64_t vk_view_align(const void *ctx)
{
    VkDeviceSize a = vkr_offset_alignment(((const wk_vk *)ctx)->vk);
    return (int64_t)((a + 3) / 4);
}

static int vk_tensor_alloc(void *ctx, wk_tensor *t, char *err, size_t err_size)
{
    wk_vk *be = ctx;
    return vkr_alloc(be->vk, (VkDeviceSize)wk_nbytes(t), wk_buf(t), err, err_size);
}

static void vk_tensor_free_i(void *ctx, wk_tensor *t)
{
    vk_tensor_free(ctx, t);
}

/* Converts f32 to f16 (or back) in chunks, through a small buffer. */
static int transfer_f16(wk_vk *be, const wk_tensor *t, float *data, int upload, char *err, size_t err_size)
{
    enum { CHUNK = 4096 };
    uint16_t tmp[CHUNK];
    int64_t n = wk_nelements(t);
    for (int64_t i = 0; i < n; i += CHUNK) {
        int64_t m = n - i < CHUNK ? n - i : CHUNK;
        if (upload) {
            for (int64_t j = 0; j < m; j++)
                tmp[j] = half_from_float(data[i + j]);
            if (vkr_upload(be->vk, wk_buf(t), (VkDeviceSize)(2 * i), tmp, (size_t)(2 * m), err, err_size) != 0)
                return -1;
        } else {
            if (vkr_download(be->vk, wk_buf(t), (VkDeviceSize)(2 * i), tmp, (size_t)(2 * m), err, err_size) != 0)
                return -1;
            for (int64_t j = 0; j < m; j++)
                data[i + j] = half_to_float(tmp[j]);
        }
    }
    return 0;
}

static int vk_tensor_view(void *ctx, const wk_tensor *parent, int64_t offset, wk_tensor *out, char *err,
                          size_t err_size)
{
    int64_t esize = 4;
    (void)ctx, (void)err, (void)err_size;
    vkr_buffer *b = wk_buf(out);
    *b = *wk_buf(parent);
    b->offset += (VkDeviceSize)(offset * esize);
    b->size = (VkDeviceSize)(wk_nelements(out) * esize);
    b->view_f4 = b->view_f1 = b->view_h4 = b->view_h1 = VK_NULL_HANDLE;
    return 0;
}

/* A view owns only its texel views. */
static void vk_tensor_view_release(void *ctx, wk_tensor *view)
{
    wk_vk *be = ctx;
    vkr_buffer *b = wk_buf(view);
    VkDevice dev = vkr_device(be->vk);
    VkBufferView *views[4] = {&b->view_f4, &b->view_f1, &b->view_h4, &b->view_h1};
    for (int i = 0; i < 4; i++)
        if (*views[i]) {
            vkDestroyBufferView(dev, *views[i], NULL);
            *views[i] = VK_NULL_HANDLE;
        }
}

static int vk_tensor_write(void *ctx, wk_tensor *t, const void *data, char *err, size_t err_size)
{
    wk_vk *be = ctx;
    if (t->dtype == WK_F16)
        return transfer_f16(be, t, (float *)data, 1, err, err_size);
    return vkr_upload(be->vk, wk_buf(t), 0, data, (size_t)wk_nbytes(t), err, err_size);
}

static int vk_tensor_read(void *ctx, const wk_tensor *t, float *data, char *err, size_t err_size)
{
    wk_vk *be = ctx;
    if (t->dtype == WK_F16)
        return transfer_f16(be, t, data, 0, err, err_size);
    return vkr_download(be->vk, wk_buf(t), 0, data, (size_t)wk_nbytes(t), err, err_size);
}

static int vk_begin(void *ctx, char *err, size_t err_size)
{
    wk_vk *be = ctx;
    free_retired(be); /* the batch that used them has finished */
    return vkr_begin(be->vk, err, err_size);
}

static int vk_end(void *ctx, char *err, size_t err_size)
{
    return vkr_submit(((wk_vk *)ctx)->vk, err, err_size);
}

static void vk_abort(void *ctx)
{
    vkr_abort(((wk_vk *)ctx)->vk);
}

static uint32_t vk_dispatch_count(const void *ctx)
{
    return vkr_batch_dispatches(((const wk_vk *)ctx)->vk);
}

static void vk_set_label(void *ctx, const char *label)
{
    vkr_set_label(((wk_vk *)ctx)->vk, label);
}

static int vk_profile(const void *ctx, const wk_profile_entry **entries)
{
    wk_vk *be = (wk_vk *)ctx;
    const vkr_profile_entry *e;
    int n = vkr_profile(be->vk, &e);
    int max = (int)(sizeof be->profile / sizeof be->profile[0]);
    n = n < max ? n : max;
    for (int i = 0; i < n; i++) {
        snprintf(be->profile[i].name, sizeof be->profile[i].name, "%s", e[i].name);
        be->profile[i].count = e[i].count;
        be->profile[i].total_ms = e[i].total_ms;
    }
    *entries = be->profile;
    return n;
}

static void vk_profile_reset(void *ctx)
{
    vkr_profile_reset(((wk_vk *)ctx)->vk);
}

static const wk_backend_i vk_iface = {
    .name = "vulkan",
    .destroy = vk_destroy,
    .device_name = vk_device_name,
    .device_type = vk_device_type,
    .validation_messages = vk_validation_messages,
    .memory = vk_memory,
    .supports_dtype = vk_supports_dtype,
    .view_align = vk_view_align,
    .tensor_alloc = vk_tensor_alloc,
    .tensor_free = vk_tensor_free_i,
    .tensor_view = vk_tensor_view,
    .tensor_view_release = vk_tensor_view_release,
    .tensor_write = vk_tensor_write,
    .tensor_read = vk_tensor_read,
    .begin = vk_begin,
    .end = vk_end,
    .abort = vk_abort,
    .dispatch_count = vk_dispatch_count,
    .set_label = vk_set_label,
    .profile = vk_profile,
    .profile_reset = vk_profile_reset,
    .matmul = vk_matmul,
    .norm = vk_norm,
    .eltwise = vk_eltwise,
    .rope = vk_rope,
    .attention = vk_attention,
    .conv2d = vk_conv2d,
    .resample = vk_resample,
    .quant = vk_quant,
    .frame_pack = vk_frame_pack,
    .patch = vk_patch,
    .warp = vk_warp,
};

int wk_vulkan_backend_create(const wk_backend_options *opt, const wk_backend_i **iface, void **ctx, char *err,
                             size_t err_size)
{
    *ctx = NULL;
    wk_vk *be = calloc(1, sizeof *be);
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
    if (vkr_create(&vo, &be->vk, err, err_size) != 0 || vk_tensor_alloc_shaped(be, &be->dummy, 4, err, err_size) != 0) {
        vk_destroy(be);
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
    *iface = &vk_iface;
    *ctx = be;
    return 0;
}

int wk_vulkan_probe(char *why, size_t why_size)
{
    vkr_device_info devs[VKR_MAX_DEVICES];
    int n = 0;
    char err[256];
    if (vkr_list_devices(devs, VKR_MAX_DEVICES, &n, err, sizeof err) != 0 || n == 0) {
        snprintf(why, why_size, "no Vulkan device (%s)", n == 0 && !err[0] ? "none listed" : err);
        return -1;
    }
    for (int i = 0; i < n; i++)
        if (devs[i].type != VK_PHYSICAL_DEVICE_TYPE_CPU)
            return 1;
    return 0;
}

uint32_t wk_vulkan_total_validation_messages(void)
{
    return vkr_total_validation_messages();
}

void wk_vulkan_list_devices(void *file)
{
    FILE *f = file;
    vkr_device_info devs[VKR_MAX_DEVICES];
    int n = 0;
    char err[256] = "";
    if (vkr_list_devices(devs, VKR_MAX_DEVICES, &n, err, sizeof err) != 0) {
        fprintf(f, "vulkan: %s\n", err);
        return;
    }
    for (int i = 0; i < n; i++)
        fprintf(f, "vulkan %d: %s (%s, Vulkan %u.%u)\n", i, devs[i].name, vkr_device_type_name(devs[i].type),
                VK_API_VERSION_MAJOR(devs[i].api_version), VK_API_VERSION_MINOR(devs[i].api_version));
}

/* The pipeline for a shader and its specialisation, made on first use. */
vkr_pipeline *wk_vk_pipeline(wk_vk *be, const char *shader, const uint32_t *spec, int spec_count,
                                  const vkr_binding_kind *kinds, int binding_count, uint32_t push_bytes, char *err,
                                  size_t err_size)
{
    for (int i = 0; i < be->variant_count; i++) {
        variant *v = &be->variants[i];
        if (!strcmp(v->shader, shader) && v->spec_count == spec_count && v->binding_count == binding_count &&
            (!spec_count || !memcmp(v->spec, spec, sizeof(uint32_t) * (size_t)spec_count)) &&
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
    if (spec_count) /* spec may be NULL with no constants: memcpy(NULL) is undefined even for 0 bytes */
        memcpy(d.spec, spec, sizeof(uint32_t) * (size_t)spec_count);
    variant *v = &be->variants[be->variant_count];
    if (vkr_pipeline_create(be->vk, &d, &v->pipeline, err, err_size) != 0)
        return NULL;
    snprintf(v->shader, sizeof v->shader, "%s", shader);
    if (spec_count)
        memcpy(v->spec, spec, sizeof(uint32_t) * (size_t)spec_count);
    v->spec_count = spec_count;
    memcpy(v->kinds, kinds, sizeof(vkr_binding_kind) * (size_t)binding_count);
    v->binding_count = binding_count;
    be->variant_count++;
    return v->pipeline;
}

vkr_buffer *wk_vk_dummy(wk_vk *be)
{
    return wk_buf(&be->dummy);
}

int wk_vk_is_cpu(const wk_vk *be)
{
    return be->cpu;
}

int wk_vk_matmul_tiled(const wk_vk *be)
{
    return be->matmul_tiled;
}

int wk_vk_conv_direct(const wk_vk *be)
{
    return be->conv_direct;
}

int wk_vk_scratch(wk_vk *be, int slot, int64_t elements, wk_tensor **out, char *err, size_t err_size)
{
    wk_tensor *t = &be->scratch[slot];
    if (wk_buf(t)->block && be->scratch_cap[slot] >= elements) {
        *out = t;
        return 0;
    }
    if (wk_buf(t)->block) {
        /* the old buffer may be bound in the open batch: free it later */
        if (be->retired_count == 8) {
            snprintf(err, err_size, "scratch grew too often in one batch");
            return -1;
        }
        be->retired[be->retired_count++] = *t;
        memset(t, 0, sizeof *t);
    }
    if (vk_tensor_alloc_shaped(be, t, elements, err, err_size) != 0)
        return -1;
    be->scratch_cap[slot] = elements;
    *out = t;
    return 0;
}

int wk_vk_dispatch(wk_vk *be, vkr_pipeline *p, vkr_buffer *const *bindings, const void *push, uint32_t gx,
                   uint32_t gy, uint32_t gz, const char *name, char *err, size_t err_size)
{
    return vkr_dispatch(be->vk, p, bindings, push, gx, gy, gz, name, err, err_size);
}
