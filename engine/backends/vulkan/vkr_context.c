#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "vkr_internal.h"

#define LAVAPIPE_HINT "install the CPU Vulkan driver (lavapipe) with: apt-get install mesa-vulkan-drivers"

const char *vkr_result_name(VkResult r)
{
    switch (r) {
#define NAME(x) case x: return #x;
    NAME(VK_SUCCESS) NAME(VK_NOT_READY) NAME(VK_TIMEOUT) NAME(VK_INCOMPLETE)
    NAME(VK_ERROR_OUT_OF_HOST_MEMORY) NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY) NAME(VK_ERROR_INITIALIZATION_FAILED)
    NAME(VK_ERROR_DEVICE_LOST) NAME(VK_ERROR_MEMORY_MAP_FAILED) NAME(VK_ERROR_LAYER_NOT_PRESENT)
    NAME(VK_ERROR_EXTENSION_NOT_PRESENT) NAME(VK_ERROR_FEATURE_NOT_PRESENT) NAME(VK_ERROR_INCOMPATIBLE_DRIVER)
    NAME(VK_ERROR_TOO_MANY_OBJECTS) NAME(VK_ERROR_FORMAT_NOT_SUPPORTED) NAME(VK_ERROR_FRAGMENTED_POOL)
    NAME(VK_ERROR_OUT_OF_POOL_MEMORY) NAME(VK_ERROR_INVALID_SHADER_NV) NAME(VK_ERROR_UNKNOWN)
#undef NAME
    default: return "VK_ERROR_(unlisted)";
    }
}

const char *vkr_device_type_name(VkPhysicalDeviceType type)
{
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return "discrete GPU";
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return "integrated GPU";
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return "virtual GPU";
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return "CPU";
    default: return "other";
    }
}

static int type_rank(VkPhysicalDeviceType t)
{
    switch (t) {
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return 4;
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return 3;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return 2;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return 1;
    default: return 0;
    }
}

/* Every validation message of every context, including those printed
 * while a context is torn down (objects never destroyed). */
static _Atomic uint32_t g_validation_messages;

uint32_t vkr_total_validation_messages(void)
{
    return g_validation_messages;
}

static VKAPI_ATTR VkBool32 VKAPI_CALL on_debug_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                       VkDebugUtilsMessageTypeFlagsEXT types,
                                                       const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    (void)types;
    vkr_context *ctx = user;
    if (severity >= VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT) {
        ctx->validation_messages++;
        g_validation_messages++;
        fprintf(stderr, "vulkan validation: %s\n", data->pMessage);
    }
    return VK_FALSE;
}

static int make_instance(VkInstance *out, int validation, char *err, size_t err_size)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO};
    app.pApplicationName = "worldkv";
    app.pEngineName = "worldkv";
    app.apiVersion = VK_API_VERSION_1_2;
    const char *layers[] = {"VK_LAYER_KHRONOS_validation"};
    const char *exts[] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO};
    ci.pApplicationInfo = &app;
    if (validation) {
        ci.enabledLayerCount = 1;
        ci.ppEnabledLayerNames = layers;
        ci.enabledExtensionCount = 1;
        ci.ppEnabledExtensionNames = exts;
    }
    VkResult r = vkCreateInstance(&ci, NULL, out);
    if (r == VK_ERROR_LAYER_NOT_PRESENT) {
        snprintf(err, err_size, "the Vulkan validation layer is missing; apt-get install vulkan-validationlayers");
        return -1;
    }
    if (r == VK_ERROR_INCOMPATIBLE_DRIVER) {
        snprintf(err, err_size, "no Vulkan driver found; " LAVAPIPE_HINT);
        return -1;
    }
    if (r != VK_SUCCESS) {
        snprintf(err, err_size, "vkCreateInstance failed: %s", vkr_result_name(r));
        return -1;
    }
    return 0;
}

int vkr_list_devices(vkr_device_info *out, int max, int *count, char *err, size_t err_size)
{
    VkInstance instance = VK_NULL_HANDLE;
    VkPhysicalDevice devs[VKR_MAX_DEVICES];
    uint32_t n = VKR_MAX_DEVICES;
    *count = 0;
    if (make_instance(&instance, 0, err, err_size) != 0)
        return -1;
    VkResult r = vkEnumeratePhysicalDevices(instance, &n, devs);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        snprintf(err, err_size, "vkEnumeratePhysicalDevices failed: %s", vkr_result_name(r));
        vkDestroyInstance(instance, NULL);
        return -1;
    }
    for (uint32_t i = 0; i < n && (int)i < max; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devs[i], &p);
        memcpy(out[i].name, p.deviceName, sizeof out[i].name);
        out[i].type = p.deviceType;
        out[i].api_version = p.apiVersion;
        (*count)++;
    }
    vkDestroyInstance(instance, NULL);
    return 0;
}

/* Picks by $WORLDKV_DEVICE / the option (an index or a name substring),
 * else the best type: discrete, integrated, virtual, CPU. */
static int pick_device(vkr_context *ctx, const char *want, char *err, size_t err_size)
{
    VkPhysicalDevice devs[VKR_MAX_DEVICES];
    uint32_t n = VKR_MAX_DEVICES;
    VkResult r = vkEnumeratePhysicalDevices(ctx->instance, &n, devs);
    if (r != VK_SUCCESS && r != VK_INCOMPLETE) {
        snprintf(err, err_size, "vkEnumeratePhysicalDevices failed: %s", vkr_result_name(r));
        return -1;
    }
    if (n == 0) {
        snprintf(err, err_size, "no Vulkan device found; " LAVAPIPE_HINT);
        return -1;
    }
    int best = -1, best_rank = -1;
    for (uint32_t i = 0; i < n; i++) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devs[i], &p);
        if (want && *want) {
            char *end;
            long idx = strtol(want, &end, 10);
            if ((*end == 0 && idx == (long)i) || (*end != 0 && strstr(p.deviceName, want))) {
                best = (int)i;
                break;
            }
            continue;
        }
        if (type_rank(p.deviceType) > best_rank) {
            best_rank = type_rank(p.deviceType);
            best = (int)i;
        }
    }
    if (best < 0) {
        snprintf(err, err_size, "no Vulkan device matches '%s' (see worldkv-bench devices)", want);
        return -1;
    }
    ctx->physical = devs[best];
    vkGetPhysicalDeviceProperties(ctx->physical, &ctx->props);
    vkGetPhysicalDeviceMemoryProperties(ctx->physical, &ctx->mem_props);
    uint32_t qn = 16;
    VkQueueFamilyProperties qf[16];
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical, &qn, qf);
    ctx->queue_family = UINT32_MAX;
    for (uint32_t i = 0; i < qn; i++)
        if (qf[i].queueFlags & VK_QUEUE_COMPUTE_BIT) {
            /* a compute-only family first: on GPUs it runs beside graphics */
            if (ctx->queue_family == UINT32_MAX || !(qf[i].queueFlags & VK_QUEUE_GRAPHICS_BIT))
                ctx->queue_family = i;
        }
    if (ctx->queue_family == UINT32_MAX) {
        snprintf(err, err_size, "%s has no compute queue", ctx->props.deviceName);
        return -1;
    }
    if (qf[ctx->queue_family].timestampValidBits == 0)
        ctx->profile = 0;
    return 0;
}

static int find_memory_type(const vkr_context *ctx, VkMemoryPropertyFlags want, VkMemoryPropertyFlags avoid)
{
    for (uint32_t i = 0; i < ctx->mem_props.memoryTypeCount; i++) {
        VkMemoryPropertyFlags f = ctx->mem_props.memoryTypes[i].propertyFlags;
        if ((f & want) == want && !(f & avoid))
            return (int)i;
    }
    return -1;
}

static void cache_path(vkr_context *ctx, const char *dir)
{
    const char *env = getenv("WORLDKV_CACHE_DIR"), *home = getenv("HOME");
    if (dir && *dir)
        snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s/pipeline-cache.bin", dir);
    else if (env && *env)
        snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s/pipeline-cache.bin", env);
    else if (home && *home)
        snprintf(ctx->cache_path, sizeof ctx->cache_path, "%s/.cache/worldkv-pipeline-cache.bin", home);
    else
        ctx->cache_path[0] = 0;
}

/* Reads the cache file if there is one; a bad or foreign file is ignored
 * (the driver checks its header). */
static void *read_cache(const char *path, size_t *size)
{
    *size = 0;
    if (!path[0])
        return NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    void *data = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        if (n > 0 && n < (64L << 20) && fseek(f, 0, SEEK_SET) == 0 && (data = malloc((size_t)n))) {
            if (fread(data, 1, (size_t)n, f) == (size_t)n)
                *size = (size_t)n;
            else {
                free(data);
                data = NULL;
            }
        }
    }
    fclose(f);
    return data;
}

int vkr_create(const vkr_options *opt, vkr_context **out, char *err, size_t err_size)
{
    vkr_options none = {0};
    if (!opt)
        opt = &none;
    *out = NULL;
    vkr_context *ctx = calloc(1, sizeof *ctx);
    void *cache_data = NULL;
    if (!ctx) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    ctx->profile = opt->profile;
    if (make_instance(&ctx->instance, opt->validation, err, err_size) != 0)
        goto fail;
    if (opt->validation) {
        VkDebugUtilsMessengerCreateInfoEXT mi = {.sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT};
        mi.messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT;
        mi.messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT | VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                         VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT;
        mi.pfnUserCallback = on_debug_message;
        mi.pUserData = ctx;
        PFN_vkCreateDebugUtilsMessengerEXT create =
            (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(ctx->instance, "vkCreateDebugUtilsMessengerEXT");
        if (!create) {
            snprintf(err, err_size, "VK_EXT_debug_utils is not available");
            goto fail;
        }
        VKR_CHECK(create(ctx->instance, &mi, NULL, &ctx->messenger));
    }
    const char *want = opt->device ? opt->device : getenv("WORLDKV_DEVICE");
    if (pick_device(ctx, want, err, err_size) != 0)
        goto fail;
    ctx->timestamp_period_ns = ctx->props.limits.timestampPeriod;
    VkFormatProperties h4, h1;
    vkGetPhysicalDeviceFormatProperties(ctx->physical, VK_FORMAT_R16G16B16A16_SFLOAT, &h4);
    vkGetPhysicalDeviceFormatProperties(ctx->physical, VK_FORMAT_R16_SFLOAT, &h1);
    ctx->f16_texels = (h4.bufferFeatures & h1.bufferFeatures & VK_FORMAT_FEATURE_UNIFORM_TEXEL_BUFFER_BIT) != 0;

    float priority = 1.0f;
    VkDeviceQueueCreateInfo qi = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO};
    qi.queueFamilyIndex = ctx->queue_family;
    qi.queueCount = 1;
    qi.pQueuePriorities = &priority;
    VkDeviceCreateInfo di = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO};
    di.queueCreateInfoCount = 1;
    di.pQueueCreateInfos = &qi;
    VKR_CHECK(vkCreateDevice(ctx->physical, &di, NULL, &ctx->device));
    vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);

    int dev_type = find_memory_type(ctx, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT | VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                             VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    ctx->device_is_host_visible = dev_type >= 0; /* unified memory (lavapipe, many iGPUs): no staging copies */
    if (dev_type < 0)
        dev_type = find_memory_type(ctx, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
    int staging = find_memory_type(ctx, VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT, 0);
    if (dev_type < 0 || staging < 0) {
        snprintf(err, err_size, "%s offers no usable memory type", ctx->props.deviceName);
        goto fail;
    }
    ctx->device_memory_type = (uint32_t)dev_type;
    ctx->staging_memory_type = (uint32_t)staging;

    cache_path(ctx, opt->cache_dir);
    size_t cache_size;
    cache_data = read_cache(ctx->cache_path, &cache_size);
    VkPipelineCacheCreateInfo pci = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO};
    pci.initialDataSize = cache_size;
    pci.pInitialData = cache_data;
    if (vkCreatePipelineCache(ctx->device, &pci, NULL, &ctx->pipeline_cache) != VK_SUCCESS) {
        pci.initialDataSize = 0; /* a stale cache: start empty */
        pci.pInitialData = NULL;
        VKR_CHECK(vkCreatePipelineCache(ctx->device, &pci, NULL, &ctx->pipeline_cache));
    }
    free(cache_data);
    cache_data = NULL;

    VkCommandPoolCreateInfo cpi = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    cpi.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    cpi.queueFamilyIndex = ctx->queue_family;
    VKR_CHECK(vkCreateCommandPool(ctx->device, &cpi, NULL, &ctx->cmd_pool));
    VkCommandBufferAllocateInfo cai = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
    cai.commandPool = ctx->cmd_pool;
    cai.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
    cai.commandBufferCount = 1;
    VKR_CHECK(vkAllocateCommandBuffers(ctx->device, &cai, &ctx->cmd));
    VkFenceCreateInfo fi = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VKR_CHECK(vkCreateFence(ctx->device, &fi, NULL, &ctx->fence));
    if (ctx->profile) {
        VkQueryPoolCreateInfo qpi = {.sType = VK_STRUCTURE_TYPE_QUERY_POOL_CREATE_INFO};
        qpi.queryType = VK_QUERY_TYPE_TIMESTAMP;
        qpi.queryCount = VKR_MAX_QUERIES;
        VKR_CHECK(vkCreateQueryPool(ctx->device, &qpi, NULL, &ctx->queries));
    }
    *out = ctx;
    return 0;
fail:
    free(cache_data);
    vkr_destroy(ctx);
    return -1;
}

void vkr_destroy(vkr_context *ctx)
{
    if (!ctx)
        return;
    if (ctx->device) {
        vkDeviceWaitIdle(ctx->device);
        char ignored[64];
        vkr_save_pipeline_cache(ctx, ignored, sizeof ignored);
        vkr_free_blocks(ctx);
        if (ctx->queries)
            vkDestroyQueryPool(ctx->device, ctx->queries, NULL);
        for (int i = 0; i < ctx->pool_count; i++)
            vkDestroyDescriptorPool(ctx->device, ctx->pools[i], NULL);
        if (ctx->fence)
            vkDestroyFence(ctx->device, ctx->fence, NULL);
        if (ctx->cmd_pool)
            vkDestroyCommandPool(ctx->device, ctx->cmd_pool, NULL);
        if (ctx->pipeline_cache)
            vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
        vkDestroyDevice(ctx->device, NULL);
    }
    if (ctx->messenger) {
        PFN_vkDestroyDebugUtilsMessengerEXT destroy =
            (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
        if (destroy)
            destroy(ctx->instance, ctx->messenger, NULL);
    }
    if (ctx->instance)
        vkDestroyInstance(ctx->instance, NULL);
    free(ctx);
}

VkDeviceSize vkr_offset_alignment(const vkr_context *ctx)
{
    VkDeviceSize a = ctx->props.limits.minStorageBufferOffsetAlignment;
    VkDeviceSize t = ctx->props.limits.minTexelBufferOffsetAlignment;
    return a > t ? a : t;
}

VkDevice vkr_device(const vkr_context *ctx)
{
    return ctx->device;
}

const char *vkr_device_name(const vkr_context *ctx)
{
    return ctx->props.deviceName;
}

VkPhysicalDeviceType vkr_device_type(const vkr_context *ctx)
{
    return ctx->props.deviceType;
}

int vkr_has_f16_texels(const vkr_context *ctx)
{
    return ctx->f16_texels;
}

uint32_t vkr_validation_messages(const vkr_context *ctx)
{
    return ctx->validation_messages;
}
