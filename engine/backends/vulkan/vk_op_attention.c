/* Rotary embedding and one-pass multi-source attention. */
#include "vk_internal.h"

int vk_rope(void *ctx, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
            size_t err_size)
{
    int64_t dh = x->ne[0], heads = x->ne[1], tokens = x->ne[2] * x->ne[3];
    wk_vk *be = ctx;
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t tokens, heads, dh;
        float base;
    } push = {(uint32_t)tokens, (uint32_t)heads, (uint32_t)dh, base};
    vkr_pipeline *p = wk_vk_pipeline(be, "rope", NULL, 0, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[3] = {wk_buf(x), wk_buf(pos), wk_buf(out)};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(tokens * heads * dh / 2, 64), 1, 1, "rope", err, err_size);
}

int vk_attention(void *ctx, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                 const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out, char *err,
                 size_t err_size)
{
    int64_t D = q->ne[0], N = wk_nelements(q) / D;
    int64_t S = wk_nelements(rows), G = wk_nelements(gemb) / D;
    int64_t dh = D / heads;
    wk_vk *be = ctx;
    uint32_t spec[2] = {(uint32_t)(dh / 4), 32};
    vkr_binding_kind kinds[7] = {VKR_BIND_TEXEL_F4, VKR_BIND_TEXEL_F4, VKR_BIND_TEXEL_F4, VKR_BIND_STORAGE,
                                 VKR_BIND_STORAGE,  VKR_BIND_TEXEL_F4, VKR_BIND_STORAGE};
    struct {
        uint32_t N, S, H, G;
        float scale;
    } push = {(uint32_t)N, (uint32_t)S, (uint32_t)heads, (uint32_t)G, scale};
    vkr_pipeline *p = wk_vk_pipeline(be, "attention", spec, 2, kinds, 7, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[7] = {wk_buf(q), wk_buf(k), wk_buf(v), wk_buf(rows), wk_buf(groups), wk_buf(gemb), wk_buf(out)};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(N, 64), (uint32_t)heads, 1, "attention", err, err_size);
}
