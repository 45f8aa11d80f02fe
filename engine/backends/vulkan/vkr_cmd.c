#include <stdlib.h>
#include <string.h>

#include "vkr_internal.h"

static int new_pool(vkr_context *ctx, char *err, size_t err_size)
{
    if (ctx->pool_current + 1 < ctx->pool_count) {
        ctx->pool_current++;
        ctx->sets_in_pool = 0;
        return 0;
    }
    if (ctx->pool_count == VKR_MAX_POOLS) {
        snprintf(err, err_size, "more than %d dispatches in one batch", VKR_MAX_POOLS * VKR_SETS_PER_POOL);
        return -1;
    }
    VkDescriptorPoolSize sizes[2] = {{VK_DESCRIPTOR_TYPE_STORAGE_BUFFER, VKR_SETS_PER_POOL * VKR_MAX_BINDINGS},
                                     {VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER, VKR_SETS_PER_POOL * VKR_MAX_BINDINGS}};
    VkDescriptorPoolCreateInfo pi = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
    pi.maxSets = VKR_SETS_PER_POOL;
    pi.poolSizeCount = 2;
    pi.pPoolSizes = sizes;
    VKR_CHECK(vkCreateDescriptorPool(ctx->device, &pi, NULL, &ctx->pools[ctx->pool_count]));
    ctx->pool_current = ctx->pool_count++;
    ctx->sets_in_pool = 0;
    return 0;
fail:
    return -1;
}

int vkr_begin(vkr_context *ctx, char *err, size_t err_size)
{
    if (ctx->recording) {
        snprintf(err, err_size, "a batch is already being recorded");
        return -1;
    }
    for (int i = 0; i < ctx->pool_count; i++)
        VKR_CHECK(vkResetDescriptorPool(ctx->device, ctx->pools[i], 0));
    ctx->pool_current = -1;
    if (new_pool(ctx, err, err_size) != 0)
        return -1;
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    VKR_CHECK(vkResetCommandBuffer(ctx->cmd, 0));
    VKR_CHECK(vkBeginCommandBuffer(ctx->cmd, &bi));
    if (ctx->profile)
        vkCmdResetQueryPool(ctx->cmd, ctx->queries, 0, VKR_MAX_QUERIES);
    ctx->dispatches = 0;
    ctx->recording = 1;
    return 0;
fail:
    return -1;
}

static int texel_view(vkr_context *ctx, vkr_buffer *b, vkr_binding_kind kind, VkBufferView *out, char *err,
                      size_t err_size)
{
    static const VkFormat formats[] = {VK_FORMAT_UNDEFINED, VK_FORMAT_R32G32B32A32_SFLOAT, VK_FORMAT_R32_SFLOAT,
                                       VK_FORMAT_R16G16B16A16_SFLOAT, VK_FORMAT_R16_SFLOAT};
    static const VkDeviceSize sizes[] = {0, 16, 4, 8, 2};
    VkBufferView *slots[] = {NULL, &b->view_f4, &b->view_f1, &b->view_h4, &b->view_h1};
    VkBufferView *slot = slots[kind];
    if (kind >= VKR_BIND_TEXEL_H4 && !ctx->f16_texels) {
        snprintf(err, err_size, "%s cannot read f16 texel buffers", ctx->props.deviceName);
        return -1;
    }
    if (!*slot) {
        VkDeviceSize elem = sizes[kind];
        VkDeviceSize range = b->size / elem * elem;
        if (range == 0 || range / elem > ctx->props.limits.maxTexelBufferElements) {
            snprintf(err, err_size, "a %llu-byte tensor cannot be read as a texel buffer", (unsigned long long)b->size);
            return -1;
        }
        VkBufferViewCreateInfo vi = {.sType = VK_STRUCTURE_TYPE_BUFFER_VIEW_CREATE_INFO};
        vi.buffer = b->buffer;
        vi.format = formats[kind];
        vi.offset = b->offset;
        vi.range = range;
        VKR_CHECK(vkCreateBufferView(ctx->device, &vi, NULL, slot));
    }
    *out = *slot;
    return 0;
fail:
    return -1;
}

int vkr_dispatch(vkr_context *ctx, vkr_pipeline *p, vkr_buffer *const *bindings, const void *push, uint32_t gx,
                 uint32_t gy, uint32_t gz, const char *name, char *err, size_t err_size)
{
    if (!ctx->recording) {
        snprintf(err, err_size, "vkr_dispatch outside vkr_begin/vkr_submit");
        return -1;
    }
    uint32_t max_groups = ctx->props.limits.maxComputeWorkGroupCount[0];
    if (gx == 0 || gy == 0 || gz == 0 || gx > max_groups || gy > ctx->props.limits.maxComputeWorkGroupCount[1] ||
        gz > ctx->props.limits.maxComputeWorkGroupCount[2]) {
        snprintf(err, err_size, "%s: %u x %u x %u workgroups is outside the device's limits", p->name, gx, gy, gz);
        return -1;
    }
    if (ctx->sets_in_pool == VKR_SETS_PER_POOL && new_pool(ctx, err, err_size) != 0)
        return -1;
    VkDescriptorSetAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
    ai.descriptorPool = ctx->pools[ctx->pool_current];
    ai.descriptorSetCount = 1;
    ai.pSetLayouts = &p->set_layout;
    VkDescriptorSet set;
    VKR_CHECK(vkAllocateDescriptorSets(ctx->device, &ai, &set));
    ctx->sets_in_pool++;

    VkWriteDescriptorSet writes[VKR_MAX_BINDINGS];
    VkDescriptorBufferInfo infos[VKR_MAX_BINDINGS];
    VkBufferView views[VKR_MAX_BINDINGS];
    for (int i = 0; i < p->binding_count; i++) {
        vkr_buffer *b = bindings[i];
        writes[i] = (VkWriteDescriptorSet){.sType = VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
        writes[i].dstSet = set;
        writes[i].dstBinding = (uint32_t)i;
        writes[i].descriptorCount = 1;
        if (p->kinds[i] == VKR_BIND_STORAGE) {
            infos[i] = (VkDescriptorBufferInfo){b->buffer, b->offset, b->size};
            writes[i].descriptorType = VK_DESCRIPTOR_TYPE_STORAGE_BUFFER;
            writes[i].pBufferInfo = &infos[i];
        } else {
            if (texel_view(ctx, b, p->kinds[i], &views[i], err, err_size) != 0)
                return -1;
            writes[i].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_TEXEL_BUFFER;
            writes[i].pTexelBufferView = &views[i];
        }
    }
    vkUpdateDescriptorSets(ctx->device, (uint32_t)p->binding_count, writes, 0, NULL);

    /* Order after the previous dispatch: its writes become visible here. */
    if (ctx->dispatches > 0) {
        VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER};
        mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
        mb.dstAccessMask = VK_ACCESS_SHADER_READ_BIT | VK_ACCESS_SHADER_WRITE_BIT;
        vkCmdPipelineBarrier(ctx->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, 0, 1,
                             &mb, 0, NULL, 0, NULL);
    }
    int timed = ctx->profile && ctx->dispatches < VKR_MAX_QUERIES / 2;
    if (timed)
        vkCmdWriteTimestamp(ctx->cmd, VK_PIPELINE_STAGE_TOP_OF_PIPE_BIT, ctx->queries, 2 * ctx->dispatches);
    vkCmdBindPipeline(ctx->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->pipeline);
    vkCmdBindDescriptorSets(ctx->cmd, VK_PIPELINE_BIND_POINT_COMPUTE, p->layout, 0, 1, &set, 0, NULL);
    if (p->push_bytes)
        vkCmdPushConstants(ctx->cmd, p->layout, VK_SHADER_STAGE_COMPUTE_BIT, 0, p->push_bytes, push);
    vkCmdDispatch(ctx->cmd, gx, gy, gz);
    if (timed) {
        vkCmdWriteTimestamp(ctx->cmd, VK_PIPELINE_STAGE_BOTTOM_OF_PIPE_BIT, ctx->queries, 2 * ctx->dispatches + 1);
        ctx->query_names[ctx->dispatches] = ctx->label ? ctx->label : (name ? name : p->name);
    }
    ctx->dispatches++;
    return 0;
fail:
    return -1;
}

static void add_profile(vkr_context *ctx, const char *name, double ms)
{
    int i = 0;
    for (; i < ctx->profile_count; i++)
        if (strcmp(ctx->profile_entries[i].name, name) == 0)
            break;
    if (i == ctx->profile_count) {
        if (i == VKR_PROFILE_NAMES)
            return;
        ctx->profile_count++;
        snprintf(ctx->profile_entries[i].name, sizeof ctx->profile_entries[i].name, "%s", name);
        ctx->profile_entries[i].count = 0;
        ctx->profile_entries[i].total_ms = 0;
    }
    ctx->profile_entries[i].count++;
    ctx->profile_entries[i].total_ms += ms;
}

int vkr_submit(vkr_context *ctx, char *err, size_t err_size)
{
    if (!ctx->recording) {
        snprintf(err, err_size, "vkr_submit without vkr_begin");
        return -1;
    }
    ctx->recording = 0;
    /* make the results visible to host reads of mapped memory */
    VkMemoryBarrier mb = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER};
    mb.srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT;
    mb.dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT;
    vkCmdPipelineBarrier(ctx->cmd, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                         VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1, &mb, 0, NULL, 0, NULL);
    VKR_CHECK(vkEndCommandBuffer(ctx->cmd));
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO};
    si.commandBufferCount = 1;
    si.pCommandBuffers = &ctx->cmd;
    VKR_CHECK(vkQueueSubmit(ctx->queue, 1, &si, ctx->fence));
    VKR_CHECK(vkWaitForFences(ctx->device, 1, &ctx->fence, VK_TRUE, UINT64_MAX));
    VKR_CHECK(vkResetFences(ctx->device, 1, &ctx->fence));
    uint32_t timed = ctx->dispatches < VKR_MAX_QUERIES / 2 ? ctx->dispatches : VKR_MAX_QUERIES / 2;
    if (ctx->profile && timed > 0) {
        uint64_t *stamps = ctx->stamps;
        VKR_CHECK(vkGetQueryPoolResults(ctx->device, ctx->queries, 0, 2 * timed, sizeof(uint64_t) * 2 * timed, stamps,
                                        sizeof(uint64_t), VK_QUERY_RESULT_64_BIT | VK_QUERY_RESULT_WAIT_BIT));
        for (uint32_t i = 0; i < timed; i++)
            add_profile(ctx, ctx->query_names[i],
                        (double)(stamps[2 * i + 1] - stamps[2 * i]) * ctx->timestamp_period_ns * 1e-6);
    }
    return 0;
fail:
    return -1;
}

void vkr_abort(vkr_context *ctx)
{
    if (!ctx->recording)
        return;
    ctx->recording = 0;
    /* the buffer is reset by the next vkr_begin; its result does not matter */
    (void)vkEndCommandBuffer(ctx->cmd);
}

uint32_t vkr_batch_dispatches(const vkr_context *ctx)
{
    return ctx->dispatches;
}

int vkr_profile(const vkr_context *ctx, const vkr_profile_entry **entries)
{
    *entries = ctx->profile_entries;
    return ctx->profile_count;
}

void vkr_profile_reset(vkr_context *ctx)
{
    ctx->profile_count = 0;
}

void vkr_set_label(vkr_context *ctx, const char *label)
{
    /* WORLDKV_PROFILE_OPS=1 keeps op names, to see inside the stages */
    static int by_op = -1;
    if (by_op < 0)
        by_op = getenv("WORLDKV_PROFILE_OPS") && *getenv("WORLDKV_PROFILE_OPS") == '1';
    ctx->label = by_op ? NULL : label;
}
