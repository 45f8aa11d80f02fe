/* Element-wise add, mul (with a repeating second operand), GELU and SiLU. */
#include "backend_vk_internal.h"

static int eltwise(wk_backend *be, int op, const char *name, const wk_tensor *a, const wk_tensor *b, float lo, float hi,
                   wk_tensor *out, char *err, size_t err_size)
{
    int64_t n = wk_nelements(a), nb = b ? wk_nelements(b) : 1;
    if (wk_nelements(out) != n || nb < 1 || n % nb != 0) {
        snprintf(err, err_size, "%s: shapes do not fit (%lld and %lld elements)", name, (long long)n, (long long)nb);
        return -1;
    }
    uint32_t spec[1] = {(uint32_t)op};
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t n, nb;
        float lo, hi;
    } push = {(uint32_t)n, (uint32_t)nb, lo, hi};
    vkr_pipeline *p = wk_vk_pipeline(be, "eltwise", spec, 1, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[3] = {wk_buf(a), b ? wk_buf(b) : wk_vk_dummy(be), &out->buf};
    /* spread over y when one row of groups would exceed the device limit */
    uint32_t groups = wk_div_up(n, 256), gy = wk_div_up(groups, 65535), gx = wk_div_up(groups, gy);
    return wk_vk_dispatch(be, p, binds, &push, gx, gy, 1, name, err, err_size);
}

int wk_add(wk_backend *be, const wk_tensor *a, const wk_tensor *b, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, 0, "add", a, b, 0, 0, out, err, err_size);
}

int wk_mul(wk_backend *be, const wk_tensor *a, const wk_tensor *b, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, 1, "mul", a, b, 0, 0, out, err, err_size);
}

int wk_gelu(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, 2, "gelu", a, NULL, 0, 0, out, err, err_size);
}

int wk_silu(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, 3, "silu", a, NULL, 0, 0, out, err, err_size);
}

int wk_clamp(wk_backend *be, const wk_tensor *a, float lo, float hi, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, 4, "clamp", a, NULL, lo, hi, out, err, err_size);
}

int wk_exp(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, 5, "exp", a, NULL, 0, 0, out, err, err_size);
}

int wk_axpby(wk_backend *be, float alpha, const wk_tensor *a, float beta, const wk_tensor *b, wk_tensor *out,
             char *err, size_t err_size)
{
    return eltwise(be, 7, "axpby", a, b, alpha, beta, out, err, err_size);
}

int wk_copy(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, 6, "copy", a, NULL, 0, 0, out, err, err_size);
}
