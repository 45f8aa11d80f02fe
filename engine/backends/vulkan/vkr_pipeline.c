#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vkr_internal.h"

static VkDescriptorType descriptor_type(vkr_binding_kind k)
{
    return k == VKR_BIND_STORAGE ? VK_DESCRIPTOR_TYPE_STORAGE_BUFFER : VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
}

int vkr_pipeline_create(vkr_context *ctx, const vkr_pipeline_desc *desc, vkr_pipeline **out, char *err,
                        size_t err_size)
{
    *out = NULL;
    VkShaderModule module = VK_NULL_HANDLE;
    vkr_pipeline *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    if (desc->binding_count < 0 || desc->binding_count > VKR_MAX_BINDINGS || desc->spec_count < 0 ||
        desc->spec_count > VKR_MAX_SPEC || desc->push_bytes > ctx->props.limits.maxPushConstantsSize ||
        desc->push_bytes % 4) {
        snprintf(err, err_size, "pipeline %s: bad bindings, specialisation or push-constant size", desc->name);
        goto fail;
    }
    /* SPIR-V is a stream of 32-bit words starting with the magic number. */
    if (!desc->spirv || desc->spirv_bytes < 20 || desc->spirv_bytes % 4 || desc->spirv[0] != 0x07230203u) {
        snprintf(err, err_size, "pipeline %s: the shader is not SPIR-V", desc->name);
        goto fail;
    }
    snprintf(p->name, sizeof p->name, "%s", desc->name);
    p->binding_count = desc->binding_count;
    memcpy(p->kinds, desc->kinds, sizeof p->kinds);
    p->push_bytes = desc->push_bytes;

    VkDescriptorSetLayoutBinding binds[VKR_MAX_BINDINGS];
    for (int i = 0; i < desc->binding_count; i++) {
        binds[i] = (VkDescriptorSetLayoutBinding){(uint32_t)i, descriptor_type(desc->kinds[i]), 1,
                                                  VK_SHADER_STAGE_COMPUTE_BIT, NULL};
    }
    VkDescriptorSetLayoutCreateInfo li = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
    li.bindingCount = (uint32_t)desc->binding_count;
    li.pBindings = binds;
    VKR_CHECK(vkCreateDescriptorSetLayout(ctx->device, &li, NULL, &p->set_layout));
    VkPushConstantRange range = {VK_SHADER_STAGE_COMPUTE_BIT, 0, desc->push_bytes};
    VkPipelineLayoutCreateInfo pli = {.sType = VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
    pli.setLayoutCount = 1;
    pli.pSetLayouts = &p->set_layout;
    pli.pushConstantRangeCount = desc->push_bytes ? 1 : 0;
    pli.pPushConstantRanges = &range;
    VKR_CHECK(vkCreatePipelineLayout(ctx->device, &pli, NULL, &p->layout));

    VkShaderModuleCreateInfo smi = {.sType = VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
    smi.codeSize = desc->spirv_bytes;
    smi.pCode = desc->spirv;
    VKR_CHECK(vkCreateShaderModule(ctx->device, &smi, NULL, &module));
    VkSpecializationMapEntry entries[VKR_MAX_SPEC];
    for (int i = 0; i < desc->spec_count; i++)
        entries[i] = (VkSpecializationMapEntry){(uint32_t)i, (uint32_t)(4 * i), 4};
    VkSpecializationInfo spec = {(uint32_t)desc->spec_count, entries, (size_t)desc->spec_count * 4, desc->spec};
    VkComputePipelineCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_COMPUTE_PIPELINE_CREATE_INFO};
    ci.stage.sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO;
    ci.stage.stage = VK_SHADER_STAGE_COMPUTE_BIT;
    ci.stage.module = module;
    ci.stage.pName = "main";
    ci.stage.pSpecializationInfo = desc->spec_count ? &spec : NULL;
    ci.layout = p->layout;
    VKR_CHECK(vkCreateComputePipelines(ctx->device, ctx->pipeline_cache, 1, &ci, NULL, &p->pipeline));
    vkDestroyShaderModule(ctx->device, module, NULL);
    *out = p;
    return 0;
fail:
    if (module)
        vkDestroyShaderModule(ctx->device, module, NULL);
    vkr_pipeline_destroy(ctx, p);
    return -1;
}

void vkr_pipeline_destroy(vkr_context *ctx, vkr_pipeline *p)
{
    if (!p)
        return;
    if (p->pipeline)
        vkDestroyPipeline(ctx->device, p->pipeline, NULL);
    if (p->layout)
        vkDestroyPipelineLayout(ctx->device, p->layout, NULL);
    if (p->set_layout)
        vkDestroyDescriptorSetLayout(ctx->device, p->set_layout, NULL);
    free(p);
}

int vkr_save_pipeline_cache(vkr_context *ctx, char *err, size_t err_size)
{
    if (!ctx->pipeline_cache || !ctx->cache_path[0])
        return 0;
    size_t size = 0;
    void *data = NULL;
    FILE *f = NULL;
    char tmp[600];
    VKR_CHECK(vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, NULL));
    if (size == 0 || !(data = malloc(size)))
        return 0;
    VKR_CHECK(vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &size, data));
    /* write then rename, so that a crash never leaves half a cache */
    snprintf(tmp, sizeof tmp, "%s.tmp", ctx->cache_path);
    f = fopen(tmp, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0 || rename(tmp, ctx->cache_path) != 0) {
        snprintf(err, err_size, "cannot write the pipeline cache %s: %s", ctx->cache_path, strerror(errno));
        if (f)
            remove(tmp);
        free(data);
        return -1;
    }
    free(data);
    return 0;
fail:
    free(data);
    return -1;
}
