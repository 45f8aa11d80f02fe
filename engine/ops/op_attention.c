/* Rotary embedding and one-pass multi-source attention. */
#include "backend_vk_internal.h"

int wk_rope(wk_backend *be, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
            size_t err_size)
{
    int64_t dh = x->ne[0], heads = x->ne[1], tokens = x->ne[2] * x->ne[3];
    if (dh % 2 || wk_nelements(pos) != tokens || wk_nelements(out) != wk_nelements(x)) {
        snprintf(err, err_size, "rope: shapes do not fit (dh %lld must be even, %lld positions)", (long long)dh,
                 (long long)tokens);
        return -1;
    }
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t tokens, heads, dh;
        float base;
    } push = {(uint32_t)tokens, (uint32_t)heads, (uint32_t)dh, base};
    vkr_pipeline *p = wk_vk_pipeline(be, "rope", NULL, 0, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[3] = {wk_buf(x), wk_buf(pos), &out->buf};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(tokens * heads * dh / 2, 64), 1, 1, "rope", err, err_size);
}

int wk_attention(wk_backend *be, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                 const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out, char *err,
                 size_t err_size)
{
    int64_t D = q->ne[0], N = wk_nelements(q) / D, R = wk_nelements(k) / (k->ne[0] ? k->ne[0] : 1);
    int64_t S = wk_nelements(rows), G = wk_nelements(gemb) / D;
    int64_t dh = heads > 0 ? D / heads : 0;
    if (heads < 1 || D % heads || dh % 4 || dh > 128 || k->ne[0] != D || v->ne[0] != D ||
        wk_nelements(v) != wk_nelements(k) || wk_nelements(groups) != S || gemb->ne[0] != D || G < 1 || G > 32 ||
        wk_nelements(out) != wk_nelements(q) || R < 1) {
        snprintf(err, err_size, "attention: shapes do not fit (D %lld, heads %d, dh %lld: a multiple of 4 up to 128, "
                 "%lld groups: 1 to 32)", (long long)D, heads, (long long)dh, (long long)G);
        return -1;
    }
    if (rows->dtype != WK_U32 || groups->dtype != WK_U32) {
        snprintf(err, err_size, "attention: rows and groups must be u32 tensors (wk_tensor_set_u32)");
        return -1;
    }
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
    vkr_buffer *binds[7] = {wk_buf(q), wk_buf(k), wk_buf(v), wk_buf(rows), wk_buf(groups), wk_buf(gemb), &out->buf};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(N, 64), (uint32_t)heads, 1, "attention", err, err_size);
}
