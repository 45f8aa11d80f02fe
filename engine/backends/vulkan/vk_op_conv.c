/* 2-D convolution with groups, stride, padding and fused bias/activation. */
#include "vk_internal.h"

int vk_conv2d(void *ctx, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias,
              const wk_conv_params *cp, wk_tensor *out, char *err, size_t err_size)
{
    wk_vk *be = ctx;
    int64_t cin = cp->channels_last ? x->ne[0] : x->ne[2];
    int64_t wid = cp->channels_last ? x->ne[1] : x->ne[0];
    int64_t hei = cp->channels_last ? x->ne[2] : x->ne[1];
    int64_t cout = w->ne[3];
    int k = cp->k, s = cp->stride, pad = cp->pad, g = cp->groups;
    int64_t ho = (hei + 2 * pad - k) / s + 1, wo = (wid + 2 * pad - k) / s + 1;
    /* output channels per invocation: the most (up to 16) that divide a
     * group's channels, so each input value is read once per block */
    /* k x k, stride 1, "same" padding, no groups, channel-major: an im2col
     * and one texel matmul, several times faster than the direct loop */
    if (k % 2 == 1 && s == 1 && pad == k / 2 && g == 1 && !cp->channels_last && !wk_vk_conv_direct(be) && bias) {
        int64_t kk = cin * k * k, k4 = (kk + 1 + 3) / 4 * 4, pixels = ho * wo;
        wk_tensor *col, *wpack;
        if (wk_vk_scratch(be, 0, pixels * k4, &col, err, err_size) ||
            wk_vk_scratch(be, 1, cout * k4, &wpack, err, err_size))
            return -1;
        col->ne[0] = k4, col->ne[1] = pixels, col->ne[2] = col->ne[3] = 1;
        wpack->ne[0] = k4, wpack->ne[1] = cout, wpack->ne[2] = wpack->ne[3] = 1;
        wk_tensor outv = *out; /* the same memory read as [Cout, pixels] */
        outv.ne[0] = pixels, outv.ne[1] = cout, outv.ne[2] = outv.ne[3] = 1;
        vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
        struct {
            uint32_t c, h, w, k, k4, rows;
        } push = {(uint32_t)cin, (uint32_t)hei, (uint32_t)wid, (uint32_t)k, (uint32_t)k4, (uint32_t)pixels};
        uint32_t unfold = 0, pack = 1;
        vkr_pipeline *pu = wk_vk_pipeline(be, "im2col", &unfold, 1, kinds, 3, sizeof push, err, err_size);
        vkr_pipeline *pw = wk_vk_pipeline(be, "im2col", &pack, 1, kinds, 3, sizeof push, err, err_size);
        if (!pu || !pw)
            return -1;
        vkr_buffer *bu[3] = {wk_buf(x), wk_buf(bias), wk_buf(col)};
        vkr_buffer *bw[3] = {wk_buf(w), wk_buf(bias), wk_buf(wpack)};
        int rc = wk_vk_dispatch(be, pu, bu, &push, wk_div_up(pixels, 64), 1, 1, "conv2d", err, err_size);
        push.rows = (uint32_t)cout;
        rc = rc || wk_vk_dispatch(be, pw, bw, &push, wk_div_up(cout, 64), 1, 1, "conv2d", err, err_size) ||
             vk_matmul(be, wpack, col, NULL, NULL, cp->act, NULL, &outv, err, err_size);
        return rc ? -1 : 0;
    }
    uint32_t tco = 1;
    static const uint32_t blocks[] = {16, 8, 4, 3, 2};
    for (size_t i = 0; i < sizeof blocks / sizeof blocks[0]; i++)
        if ((cout / g) % blocks[i] == 0) {
            tco = blocks[i];
            break;
        }
    uint32_t spec[4] = {tco, (uint32_t)cp->act, bias != NULL, (uint32_t)cp->channels_last};
    vkr_binding_kind kinds[4] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t cin, h, w, cout, ho, wo, k, stride, pad, groups;
    } push = {(uint32_t)cin, (uint32_t)hei, (uint32_t)wid, (uint32_t)cout, (uint32_t)ho,
              (uint32_t)wo,  (uint32_t)k,   (uint32_t)s,   (uint32_t)pad,  (uint32_t)g};
    vkr_pipeline *p = wk_vk_pipeline(be, "conv2d", spec, 4, kinds, 4, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[4] = {wk_buf(x), wk_buf(w), bias ? wk_buf(bias) : wk_vk_dummy(be), wk_buf(out)};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(ho * wo, 64), wk_div_up(cout, tco), 1, "conv2d", err,
                          err_size);
}
