/* LayerNorm / RMSNorm with optional affine and adaLN modulation. */
#include "vk_internal.h"

int vk_norm(void *ctx, wk_norm_kind kind, const wk_tensor *x, const wk_tensor *gamma, const wk_tensor *beta,
            const wk_modulation *mod, float eps, wk_tensor *out, char *err, size_t err_size)
{
    int64_t D = x->ne[0], rows = wk_nelements(x) / D;
    wk_vk *be = ctx;
    uint32_t spec[3] = {(uint32_t)kind, gamma != NULL, mod != NULL};
    vkr_binding_kind kinds[5] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE,
                                 VKR_BIND_STORAGE};
    struct {
        uint32_t rows, D, rows_per_item, stride, shift_off, scale_off;
        float eps;
    } push = {(uint32_t)rows,
              (uint32_t)D,
              mod ? (uint32_t)mod->rows_per_item : 1,
              mod ? (uint32_t)mod->stride : 0,
              mod ? (uint32_t)mod->shift_off : 0,
              mod ? (uint32_t)mod->scale_off : 0,
              eps};
    vkr_pipeline *p = wk_vk_pipeline(be, "norm", spec, 3, kinds, 5, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *dummy = wk_vk_dummy(be);
    vkr_buffer *binds[5] = {wk_buf(x), gamma ? wk_buf(gamma) : dummy, beta ? wk_buf(beta) : dummy,
                            mod ? wk_buf(mod->mod) : dummy, wk_buf(out)};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(rows, 64), 1, 1, kind == WK_NORM_LAYER ? "layernorm" : "rmsnorm",
                          err, err_size);
}
