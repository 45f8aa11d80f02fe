/* vkr: the Vulkan compute runtime. Straight-line setup, one check macro,
 * a create/destroy pair for every object, and errors returned as text.
 *
 *   vkr_context  instance, chosen device, queue, pipeline cache, profiler
 *   vkr_buffer   a slice of a large device block (sub-allocated)
 *   vkr_pipeline a compute pipeline from embedded SPIR-V
 *   batches      vkr_begin, many vkr_dispatch, one vkr_submit
 */
#ifndef WORLDKV_VKR_H
#define WORLDKV_VKR_H

#include <stddef.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#define VKR_MAX_BINDINGS 8
#define VKR_MAX_SPEC 16
#define VKR_MAX_DEVICES 16
#define VKR_PROFILE_NAMES 128

typedef struct vkr_context vkr_context;
typedef struct vkr_pipeline vkr_pipeline;
typedef struct vkr_block vkr_block;

typedef struct vkr_options {
    int validation;      /* enable VK_LAYER_KHRONOS_validation and debug utils */
    const char *device;  /* index or name substring; NULL: $WORLDKV_DEVICE, else best */
    int profile;         /* time every dispatch with timestamp queries */
    const char *cache_dir; /* pipeline cache folder; NULL: $WORLDKV_CACHE_DIR or ~/.cache/worldkv */
} vkr_options;

typedef struct vkr_device_info {
    char name[VK_MAX_PHYSICAL_DEVICE_NAME_SIZE];
    VkPhysicalDeviceType type;
    uint32_t api_version;
} vkr_device_info;

/* A range of device memory. Texel views are made on first use and kept. */
typedef struct vkr_buffer {
    VkBuffer buffer;
    VkDeviceSize offset, size;
    vkr_block *block;
    VkBufferView view_f4; /* R32G32B32A32_SFLOAT over the range */
    VkBufferView view_f1; /* R32_SFLOAT over the range */
    VkBufferView view_h4; /* R16G16B16A16_SFLOAT */
    VkBufferView view_h1; /* R16_SFLOAT */
} vkr_buffer;

/* Texel kinds read the same samplerBuffer in GLSL; the view format decides
 * whether memory holds f32 or f16, 4 lanes or 1. */
typedef enum vkr_binding_kind {
    VKR_BIND_STORAGE,
    VKR_BIND_TEXEL_F4,
    VKR_BIND_TEXEL_F1,
    VKR_BIND_TEXEL_H4,
    VKR_BIND_TEXEL_H1
} vkr_binding_kind;

typedef struct vkr_pipeline_desc {
    const char *name;
    const uint32_t *spirv;
    size_t spirv_bytes;
    int binding_count;
    vkr_binding_kind kinds[VKR_MAX_BINDINGS];
    uint32_t push_bytes;
    int spec_count;            /* constant_id 0..spec_count-1 */
    uint32_t spec[VKR_MAX_SPEC];
} vkr_pipeline_desc;

typedef struct vkr_profile_entry {
    char name[48];
    uint64_t count;
    double total_ms;
} vkr_profile_entry;

/* -- context ---------------------------------------------------------- */
int vkr_list_devices(vkr_device_info *out, int max, int *count, char *err, size_t err_size);
int vkr_create(const vkr_options *opt, vkr_context **out, char *err, size_t err_size);
void vkr_destroy(vkr_context *ctx);
const char *vkr_device_name(const vkr_context *ctx);
VkDevice vkr_device(const vkr_context *ctx);
/* The byte alignment a binding's offset needs (storage and texel). */
VkDeviceSize vkr_offset_alignment(const vkr_context *ctx);
VkPhysicalDeviceType vkr_device_type(const vkr_context *ctx);
/* Whether f16 texel buffers can be read (f16 tensor storage). */
int vkr_has_f16_texels(const vkr_context *ctx);
const char *vkr_device_type_name(VkPhysicalDeviceType type);
/* Validation-layer warnings and errors seen so far (0 when validation is off). */
uint32_t vkr_validation_messages(const vkr_context *ctx);
/* All contexts' messages so far, counting teardown (undestroyed objects). */
uint32_t vkr_total_validation_messages(void);
const char *vkr_result_name(VkResult r);

/* -- memory ------------------------------------------------------------ */
/* Sub-allocates bytes (rounded up to 256) from a large block; a new block
 * (64 MiB, or bigger for a bigger request) is made when none has room. */
int vkr_alloc(vkr_context *ctx, VkDeviceSize bytes, vkr_buffer *out, char *err, size_t err_size);
void vkr_free(vkr_context *ctx, vkr_buffer *buf);
int vkr_upload(vkr_context *ctx, const vkr_buffer *dst, VkDeviceSize offset, const void *src, size_t bytes, char *err,
               size_t err_size);
int vkr_download(vkr_context *ctx, const vkr_buffer *src, VkDeviceSize offset, void *dst, size_t bytes, char *err,
                 size_t err_size);
/* Bytes of device memory held in blocks, and in live slices. */
void vkr_memory_stats(const vkr_context *ctx, uint64_t *block_bytes, uint64_t *used_bytes, int *blocks);
/* The same, summed over every live context (benchmarks see only the API). */
void vkr_memory_stats_any(uint64_t *block_bytes, uint64_t *used_bytes, int *blocks);

/* -- pipelines --------------------------------------------------------- */
int vkr_pipeline_create(vkr_context *ctx, const vkr_pipeline_desc *desc, vkr_pipeline **out, char *err,
                        size_t err_size);
void vkr_pipeline_destroy(vkr_context *ctx, vkr_pipeline *p);
/* Writes the pipeline cache to disk (also done by vkr_destroy). */
int vkr_save_pipeline_cache(vkr_context *ctx, char *err, size_t err_size);

/* -- command batches --------------------------------------------------- */
int vkr_begin(vkr_context *ctx, char *err, size_t err_size);
/* Records one dispatch; a barrier orders it after the previous one. The
 * name labels its time in the profile. */
int vkr_dispatch(vkr_context *ctx, vkr_pipeline *p, vkr_buffer *const *bindings, const void *push, uint32_t gx,
                 uint32_t gy, uint32_t gz, const char *name, char *err, size_t err_size);
int vkr_submit(vkr_context *ctx, char *err, size_t err_size);
/* Ends an open batch without running it (after a failed dispatch). */
void vkr_abort(vkr_context *ctx);
uint32_t vkr_batch_dispatches(const vkr_context *ctx);
int vkr_profile(const vkr_context *ctx, const vkr_profile_entry **entries);
void vkr_profile_reset(vkr_context *ctx);
/* While set, profiled dispatches are summed under this label (a stage such
 * as "denoise") instead of their op name. NULL goes back to op names. */
void vkr_set_label(vkr_context *ctx, const char *label);

#endif
