/* matmul with a fused bias, activation, gate and residual epilogue. */
#include "vk_internal.h"

int vk_matmul(void *ctx, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
              wk_act act, const wk_gate *gate, wk_tensor *out, char *err, size_t err_size)
{
    wk_vk *be = ctx;
    int64_t K = a->ne[0], M = a->ne[1], N = w->ne[1], batch = a->ne[2] * a->ne[3];
    int tiled = wk_vk_matmul_tiled(be);
    int vec4 = K % 4 == 0 && !tiled;
    /* register-blocked on CPU devices (lavapipe): 8 x 16 blocks, 8 lanes a
     * group; on a GPU forced to it: 4 x 4 blocks in 16 x 16 groups */
    uint32_t tm = wk_vk_is_cpu(be) ? 8 : 4, tn = wk_vk_is_cpu(be) ? 16 : 4;
    uint32_t lx = wk_vk_is_cpu(be) ? 8 : 16, ly = wk_vk_is_cpu(be) ? 1 : 16;
    uint32_t spec[9] = {lx, ly, tm, tn, (uint32_t)act, bias != NULL, res != NULL, (uint32_t)vec4, gate != NULL};
    /* f32 or f16 storage: the shader is the same, the view format differs */
    vkr_binding_kind ka = a->dtype == WK_F16 ? (vec4 ? VKR_BIND_TEXEL_H4 : VKR_BIND_TEXEL_H1)
                                             : (vec4 ? VKR_BIND_TEXEL_F4 : VKR_BIND_TEXEL_F1);
    vkr_binding_kind kw = w->dtype == WK_F16 ? (vec4 ? VKR_BIND_TEXEL_H4 : VKR_BIND_TEXEL_H1)
                                             : (vec4 ? VKR_BIND_TEXEL_F4 : VKR_BIND_TEXEL_F1);
    vkr_binding_kind kinds[6] = {ka, kw, VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t M, N, K, stride_a, stride_c, gate_stride, gate_off;
    } push = {(uint32_t)M,
              (uint32_t)N,
              (uint32_t)K,
              (uint32_t)(M * K),
              (uint32_t)(M * N),
              gate ? (uint32_t)gate->stride : 0,
              gate ? (uint32_t)gate->offset : 0};
    vkr_pipeline *p = wk_vk_pipeline(be, tiled ? "matmul_tiled" : "matmul", spec, 9, kinds, 6, sizeof push, err,
                                     err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[6] = {wk_buf(a), wk_buf(w), bias ? wk_buf(bias) : wk_vk_dummy(be),
                            res ? wk_buf(res) : wk_vk_dummy(be), wk_buf(out),
                            gate ? wk_buf(gate->gate) : wk_vk_dummy(be)};
    if (tiled)
        return wk_vk_dispatch(be, p, binds, &push, wk_div_up(N, 64), wk_div_up(M, 64), (uint32_t)batch, "matmul", err,
                              err_size);
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(wk_div_up(N, tn), lx), wk_div_up(wk_div_up(M, tm), ly),
                          (uint32_t)batch, "matmul", err, err_size);
}
