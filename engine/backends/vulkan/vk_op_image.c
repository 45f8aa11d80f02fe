/* Image-shaped ops: upsampling, patchify/unpatchify and the reprojection warp. */
#include <math.h>
#include <string.h>

#include "vk_internal.h"

int vk_resample(void *ctx, int mode, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    int64_t w = x->ne[0], h = x->ne[1], c = mode ? x->ne[2] / ((int64_t)f * f) : x->ne[2];
    wk_vk *be = ctx;
    uint32_t spec[1] = {(uint32_t)mode};
    vkr_binding_kind kinds[2] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t c, h, w, f;
    } push = {(uint32_t)c, (uint32_t)h, (uint32_t)w, (uint32_t)f};
    vkr_pipeline *p = wk_vk_pipeline(be, "resample", spec, 1, kinds, 2, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[2] = {wk_buf(x), wk_buf(out)};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(wk_nelements(out), 256), 1, 1,
                          mode ? "pixel_shuffle" : "upsample", err, err_size);
}

int vk_quant(void *ctx, int bits, int dequant, const wk_tensor *x, const wk_tensor *q, const wk_tensor *scale,
             char *err, size_t err_size)
{
    int64_t d = x->ne[0], n = wk_nelements(x) / d;
    wk_vk *be = ctx;
    uint32_t spec[2] = {(uint32_t)dequant, (uint32_t)bits};
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t tokens, dim;
    } push = {(uint32_t)n, (uint32_t)d};
    vkr_pipeline *p = wk_vk_pipeline(be, "quant", spec, 2, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[3] = {wk_buf(x), wk_buf(q), wk_buf(scale)};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(dequant ? n * d : d / (32 / bits), 64), 1, 1,
                          dequant ? "dequantize" : "quantize", err, err_size);
}

int vk_frame_pack(void *ctx, int unpack, const wk_tensor *img, const wk_tensor *packed, char *err, size_t err_size)
{
    int64_t hw = img->ne[0] * img->ne[1];
    wk_vk *be = ctx;
    uint32_t spec[2] = {unpack ? 3u : 2u, 8u};
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t tokens, dim;
    } push = {(uint32_t)hw, 0};
    vkr_pipeline *p = wk_vk_pipeline(be, "quant", spec, 2, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    /* the shader's third binding (scales) is unused here: bind the frame again */
    vkr_buffer *binds[3] = {wk_buf(img), wk_buf(packed), wk_buf(img)};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(hw / 2, 64), 1, 1, unpack ? "unpack_frame" : "pack_frame",
                          err, err_size);
}

int vk_patch(void *ctx, int unpatch, const wk_tensor *img, int p, const wk_tensor *tokens, char *err,
                 size_t err_size)
{
    int64_t w = img->ne[0], h = img->ne[1], c = img->ne[2];
    wk_vk *be = ctx;
    uint32_t spec[1] = {(uint32_t)unpatch};
    vkr_binding_kind kinds[2] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t c, h, w, p;
    } push = {(uint32_t)c, (uint32_t)h, (uint32_t)w, (uint32_t)p};
    vkr_pipeline *pl = wk_vk_pipeline(be, "patch", spec, 1, kinds, 2, sizeof push, err, err_size);
    if (!pl)
        return -1;
    vkr_buffer *binds[2] = {unpatch ? wk_buf(tokens) : wk_buf(img), unpatch ? wk_buf(img) : wk_buf(tokens)};
    return wk_vk_dispatch(be, pl, binds, &push, wk_div_up(w * h * c, 256), 1, 1, unpatch ? "unpatchify" : "patchify",
                          err, err_size);
}

int vk_warp(void *ctx, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
            float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size)
{
    int64_t w = src->ne[0], h = src->ne[1], c = src->ne[2];
    wk_vk *be = ctx;
    /* centres and bases as vec4s; W, H, C and the focal length ride in .w */
    float push[32];
    const wk_camera *cams[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        const float *vecs[4] = {cams[i]->centre, cams[i]->forward, cams[i]->right, cams[i]->up};
        for (int j = 0; j < 4; j++) {
            memcpy(&push[16 * i + 4 * j], vecs[j], 3 * sizeof(float));
            push[16 * i + 4 * j + 3] = 0.0f;
        }
    }
    push[3] = (float)w;
    push[7] = (float)h;
    push[11] = (float)c;
    push[15] = focal_px;
    uint32_t spec[2] = {3, (uint32_t)filter};
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    vkr_pipeline *p = wk_vk_pipeline(be, "warp", spec, 2, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[3] = {wk_buf(src), wk_buf(depth), wk_buf(out)};
    return wk_vk_dispatch(be, p, binds, push, wk_div_up(w * h, 64), 1, 1, "warp", err, err_size);
}
