#include <stdlib.h>
#include <stdatomic.h>
#include <string.h>

#include "vkr_internal.h"

#define BLOCK_BYTES ((VkDeviceSize)64 << 20)
#define SLICE_ALIGN 256 /* covers every device's storage and texel offset alignment we know */

/* Process-wide totals, kept by every block made and freed. */
static _Atomic uint64_t g_block_bytes;
static _Atomic int g_blocks;

static int make_block(vkr_context *ctx, VkDeviceSize size, uint32_t memory_type, int map, vkr_block **out,
                      char *err, size_t err_size)
{
    vkr_block *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    VkBufferCreateInfo bi = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
    bi.size = size;
    bi.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
               VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    bi.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
    VkMemoryRequirements req;
    VkMemoryAllocateInfo ai = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
    VKR_CHECK(vkCreateBuffer(ctx->device, &bi, NULL, &b->buffer));
    vkGetBufferMemoryRequirements(ctx->device, b->buffer, &req);
    if (!(req.memoryTypeBits & (1u << memory_type))) {
        snprintf(err, err_size, "buffer memory type %u is not allowed for storage buffers", memory_type);
        goto fail;
    }
    ai.allocationSize = req.size;
    ai.memoryTypeIndex = memory_type;
    VkResult r = vkAllocateMemory(ctx->device, &ai, NULL, &b->memory);
    if (r != VK_SUCCESS) {
        snprintf(err, err_size, "cannot allocate %.1f MiB of device memory on %s: %s", (double)size / (1 << 20),
                 ctx->props.deviceName, vkr_result_name(r));
        goto fail;
    }
    VKR_CHECK(vkBindBufferMemory(ctx->device, b->buffer, b->memory, 0));
    if (map)
        VKR_CHECK(vkMapMemory(ctx->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped));
    b->size = size;
    g_block_bytes += size;
    g_blocks++;
    *out = b;
    return 0;
fail:
    if (b->memory)
        vkFreeMemory(ctx->device, b->memory, NULL);
    if (b->buffer)
        vkDestroyBuffer(ctx->device, b->buffer, NULL);
    free(b);
    return -1;
}

static void free_block(vkr_context *ctx, vkr_block *b)
{
    g_block_bytes -= b->size;
    g_blocks--;
    if (b->mapped)
        vkUnmapMemory(ctx->device, b->memory);
    vkDestroyBuffer(ctx->device, b->buffer, NULL);
    vkFreeMemory(ctx->device, b->memory, NULL);
    free(b);
}

void vkr_free_blocks(vkr_context *ctx)
{
    while (ctx->blocks) {
        vkr_block *b = ctx->blocks;
        ctx->blocks = b->next;
        free_block(ctx, b);
    }
}

int vkr_alloc(vkr_context *ctx, VkDeviceSize bytes, vkr_buffer *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (bytes == 0)
        bytes = 4;
    if (bytes > ctx->props.limits.maxStorageBufferRange) {
        snprintf(err, err_size, "a %.1f MiB tensor is larger than %s allows in one binding (%.1f MiB)",
                 (double)bytes / (1 << 20), ctx->props.deviceName,
                 (double)ctx->props.limits.maxStorageBufferRange / (1 << 20));
        return -1;
    }
    VkDeviceSize size = (bytes + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN;
    vkr_block *b = ctx->blocks;
    for (; b; b = b->next)
        if (b->size - b->used >= size)
            break;
    if (!b) {
        VkDeviceSize block_size = size > BLOCK_BYTES ? size : BLOCK_BYTES;
        if (make_block(ctx, block_size, ctx->device_memory_type, ctx->device_is_host_visible, &b, err, err_size) != 0)
            return -1;
        b->next = ctx->blocks;
        ctx->blocks = b;
    }
    out->buffer = b->buffer;
    out->offset = b->used;
    out->size = bytes;
    out->block = b;
    b->used += size;
    b->live++;
    ctx->used_bytes += size;
    return 0;
}

void vkr_free(vkr_context *ctx, vkr_buffer *buf)
{
    if (!ctx || !buf || !buf->block)
        return;
    if (buf->view_f4)
        vkDestroyBufferView(ctx->device, buf->view_f4, NULL);
    if (buf->view_f1)
        vkDestroyBufferView(ctx->device, buf->view_f1, NULL);
    if (buf->view_h4)
        vkDestroyBufferView(ctx->device, buf->view_h4, NULL);
    if (buf->view_h1)
        vkDestroyBufferView(ctx->device, buf->view_h1, NULL);
    vkr_block *b = buf->block;
    ctx->used_bytes -= (buf->size + SLICE_ALIGN - 1) / SLICE_ALIGN * SLICE_ALIGN;
    if (--b->live == 0)
        b->used = 0; /* an empty block is reused from its start */
    memset(buf, 0, sizeof *buf);
}

void vkr_memory_stats_any(uint64_t *block_bytes, uint64_t *used_bytes, int *blocks)
{
    *block_bytes = g_block_bytes;
    *used_bytes = 0;
    *blocks = g_blocks;
}

void vkr_memory_stats(const vkr_context *ctx, uint64_t *block_bytes, uint64_t *used_bytes, int *blocks)
{
    *block_bytes = 0;
    *blocks = 0;
    for (const vkr_block *b = ctx->blocks; b; b = b->next) {
        *block_bytes += b->size;
        (*blocks)++;
    }
    *used_bytes = ctx->used_bytes;
}

/* Copies between a staging block and a device range with a one-off
 * command buffer (only for devices whose memory the host cannot map). */
static int staged_copy(vkr_context *ctx, const vkr_buffer *dev, VkDeviceSize offset, void *host, size_t bytes,
                       int upload, char *err, size_t err_size)
{
    vkr_block *staging = NULL;
    if (ctx->recording) {
        snprintf(err, err_size, "cannot copy to or from the device while a batch is being recorded");
        return -1;
    }
    if (make_block(ctx, bytes, ctx->staging_memory_type, 1, &staging, err, err_size) != 0)
        return -1;
    if (upload)
        memcpy(staging->mapped, host, bytes);
    VkCommandBufferBeginInfo bi = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    bi.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    VkBufferCopy region = {0, 0, bytes};
    VkSubmitInfo si = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO};
    VKR_CHECK(vkResetCommandBuffer(ctx->cmd, 0));
    VKR_CHECK(vkBeginCommandBuffer(ctx->cmd, &bi));
    if (upload) {
        region.dstOffset = dev->offset + offset;
        vkCmdCopyBuffer(ctx->cmd, staging->buffer, dev->buffer, 1, &region);
    } else {
        region.srcOffset = dev->offset + offset;
        vkCmdCopyBuffer(ctx->cmd, dev->buffer, staging->buffer, 1, &region);
    }
    VKR_CHECK(vkEndCommandBuffer(ctx->cmd));
    si.commandBufferCount = 1;
    si.pCommandBuffers = &ctx->cmd;
    VKR_CHECK(vkQueueSubmit(ctx->queue, 1, &si, ctx->fence));
    VKR_CHECK(vkWaitForFences(ctx->device, 1, &ctx->fence, VK_TRUE, UINT64_MAX));
    VKR_CHECK(vkResetFences(ctx->device, 1, &ctx->fence));
    if (!upload)
        memcpy(host, staging->mapped, bytes);
    free_block(ctx, staging);
    return 0;
fail:
    free_block(ctx, staging);
    return -1;
}

static int check_range(const vkr_buffer *b, VkDeviceSize offset, size_t bytes, char *err, size_t err_size)
{
    if (!b->block || offset + bytes > b->size) {
        snprintf(err, err_size, "copy of %zu bytes at %llu is outside a %llu-byte buffer", bytes,
                 (unsigned long long)offset, (unsigned long long)b->size);
        return -1;
    }
    return 0;
}

int vkr_upload(vkr_context *ctx, const vkr_buffer *dst, VkDeviceSize offset, const void *src, size_t bytes, char *err,
               size_t err_size)
{
    if (check_range(dst, offset, bytes, err, err_size) != 0)
        return -1;
    if (dst->block->mapped) {
        memcpy((char *)dst->block->mapped + dst->offset + offset, src, bytes);
        return 0;
    }
    return staged_copy(ctx, dst, offset, (void *)src, bytes, 1, err, err_size);
}

int vkr_download(vkr_context *ctx, const vkr_buffer *src, VkDeviceSize offset, void *dst, size_t bytes, char *err,
                 size_t err_size)
{
    if (check_range(src, offset, bytes, err, err_size) != 0)
        return -1;
    if (src->block->mapped) {
        memcpy(dst, (const char *)src->block->mapped + src->offset + offset, bytes);
        return 0;
    }
    return staged_copy(ctx, src, offset, dst, bytes, 0, err, err_size);
}
