/* 2-D convolution with groups, stride, padding and fused bias/activation. */
#include "backend_vk_internal.h"

int wk_conv2d(wk_backend *be, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias,
              const wk_conv_params *cp, wk_tensor *out, char *err, size_t err_size)
{
    int64_t cin = cp->channels_last ? x->ne[0] : x->ne[2];
    int64_t wid = cp->channels_last ? x->ne[1] : x->ne[0];
    int64_t hei = cp->channels_last ? x->ne[2] : x->ne[1];
    int64_t cout = w->ne[3];
    int k = cp->k, s = cp->stride, pad = cp->pad, g = cp->groups;
    if (k < 1 || s < 1 || pad < 0 || g < 1 || cin % g || cout % g || w->ne[0] != k || w->ne[1] != k ||
        w->ne[2] != cin / g || (bias && wk_nelements(bias) != cout) || x->ne[3] != 1) {
        snprintf(err, err_size, "conv2d: shapes do not fit (in %lld channels, weight %lldx%lldx%lldx%lld, groups %d)",
                 (long long)cin, (long long)w->ne[3], (long long)w->ne[2], (long long)w->ne[1], (long long)w->ne[0], g);
        return -1;
    }
    int64_t ho = (hei + 2 * pad - k) / s + 1, wo = (wid + 2 * pad - k) / s + 1;
    int64_t want[3] = {cp->channels_last ? cout : wo, cp->channels_last ? wo : ho, cp->channels_last ? ho : cout};
    if (ho < 1 || wo < 1 || out->ne[0] != want[0] || out->ne[1] != want[1] || out->ne[2] != want[2]) {
        snprintf(err, err_size, "conv2d: the output must be %lld x %lld x %lld", (long long)want[0], (long long)want[1],
                 (long long)want[2]);
        return -1;
    }
    /* output channels per invocation: the most (up to 16) that divide a
     * group's channels, so each input value is read once per block */
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
    vkr_buffer *binds[4] = {wk_buf(x), wk_buf(w), bias ? wk_buf(bias) : wk_vk_dummy(be), &out->buf};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(ho * wo, 64), wk_div_up(cout, tco), 1, "conv2d", err,
                          err_size);
}
