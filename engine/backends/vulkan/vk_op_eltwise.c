/* Element-wise ops (eltwise.comp): add, mul and axpby with a repeating second
 * operand; GELU, SiLU, clamp, exp, copy, sigmoid. */
#include "vk_internal.h"

static const char *const names[] = {"add", "mul", "gelu", "silu", "clamp", "exp", "copy", "axpby", "sigmoid", "flag_nonfinite"};

int vk_eltwise(void *ctx, wk_eltwise_op op, const wk_tensor *a, const wk_tensor *b, float lo, float hi,
               wk_tensor *out, char *err, size_t err_size)
{
    wk_vk *be = ctx;
    const char *name = names[op];
    int64_t n = wk_nelements(a), nb = b ? wk_nelements(b) : 1;
    uint32_t spec[1] = {(uint32_t)op};
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t n, nb;
        float lo, hi;
    } push = {(uint32_t)n, (uint32_t)nb, lo, hi};
    vkr_pipeline *p = wk_vk_pipeline(be, "eltwise", spec, 1, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[3] = {wk_buf(a), b ? wk_buf(b) : wk_vk_dummy(be), wk_buf(out)};
    /* spread over y when one row of groups would exceed the device limit */
    uint32_t groups = wk_div_up(n, 256), gy = wk_div_up(groups, 65535), gx = wk_div_up(groups, gy);
    return wk_vk_dispatch(be, p, binds, &push, gx, gy, 1, name, err, err_size);
}
