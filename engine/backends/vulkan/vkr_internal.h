/* The runtime's shared state and its one check macro (private to engine/vk). */
#ifndef WORLDKV_VKR_INTERNAL_H
#define WORLDKV_VKR_INTERNAL_H

#include <stdio.h>

#include "vkr.h"

/* Checks a VkResult: on failure writes "call: RESULT (file:line)" to err
 * and jumps to the function's `fail` label. */
#define VKR_CHECK(call)                                                                                                \
    do {                                                                                                               \
        VkResult vkr_r_ = (call);                                                                                      \
        if (vkr_r_ != VK_SUCCESS) {                                                                                    \
            snprintf(err, err_size, "%s failed: %s (%s:%d)", #call, vkr_result_name(vkr_r_), __FILE__, __LINE__);     \
            goto fail;                                                                                                 \
        }                                                                                                              \
    } while (0)

struct vkr_block {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize size, used;
    int live;          /* slices handed out and not yet freed */
    void *mapped;      /* when the memory is host visible */
    struct vkr_block *next;
};

struct vkr_pipeline {
    char name[48];
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    int binding_count;
    vkr_binding_kind kinds[VKR_MAX_BINDINGS];
    uint32_t push_bytes;
};

#define VKR_MAX_POOLS 64
#define VKR_SETS_PER_POOL 1024
#define VKR_MAX_QUERIES 8192

struct vkr_context {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical;
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties mem_props;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    VkPipelineCache pipeline_cache;
    char cache_path[512];
    VkCommandPool cmd_pool;
    VkCommandBuffer cmd;
    VkFence fence;
    VkDescriptorPool pools[VKR_MAX_POOLS];
    int pool_count, pool_current;
    uint32_t sets_in_pool;
    VkQueryPool queries;
    int profile;
    float timestamp_period_ns;
    uint32_t dispatches;        /* in the open batch */
    const char *query_names[VKR_MAX_QUERIES / 2];
    uint64_t stamps[VKR_MAX_QUERIES];
    int recording;
    uint32_t validation_messages;
    vkr_block *blocks;
    uint32_t device_memory_type, staging_memory_type;
    int device_is_host_visible;
    int f16_texels;
    uint64_t used_bytes;
    vkr_profile_entry profile_entries[VKR_PROFILE_NAMES];
    int profile_count;
    const char *label;
};

/* Frees every memory block (vkr_destroy). */
void vkr_free_blocks(vkr_context *ctx);

#endif
