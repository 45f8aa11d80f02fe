/* The backend front: backend choice, then every shape and argument check,
 * once for all backends, before the call goes through the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_impl.h"

struct wk_backend {
    const wk_backend_i *i;
    void *ctx;
    char reason[160];
};

#define FAIL(...)                                                                                                     \
    do {                                                                                                              \
        snprintf(err, err_size, __VA_ARGS__);                                                                         \
        return -1;                                                                                                    \
    } while (0)

int wk_backend_kind_parse(const char *name)
{
    if (!name || !strcmp(name, "auto"))
        return WK_BACKEND_AUTO;
    if (!strcmp(name, "cpu"))
        return WK_BACKEND_CPU;
    if (!strcmp(name, "vulkan"))
        return WK_BACKEND_VULKAN;
    return -1;
}

int wk_backend_create(const wk_backend_options *opt, wk_backend **out, char *err, size_t err_size)
{
    *out = NULL;
    wk_backend_options o = {0};
    if (opt)
        o = *opt;
    const char *env = getenv("WORLDKV_BACKEND");
    int kind = o.kind;
    const char *why = "asked for";
    if (kind == WK_BACKEND_AUTO && env && *env) {
        kind = wk_backend_kind_parse(env);
        if (kind < 0)
            FAIL("WORLDKV_BACKEND=%s: use auto, cpu or vulkan", env);
        why = "WORLDKV_BACKEND";
    }
    wk_backend *be = calloc(1, sizeof *be);
    if (!be)
        FAIL("out of memory");
    if (kind == WK_BACKEND_AUTO) {
        char probe[128] = "";
        int gpu = o.device ? 1 : wk_vulkan_probe(probe, sizeof probe);
        if (gpu == 1) {
            kind = WK_BACKEND_VULKAN;
            snprintf(be->reason, sizeof be->reason, "auto: %s", o.device ? "a Vulkan device was named" :
                                                                              "a Vulkan GPU is present");
        } else {
            kind = WK_BACKEND_CPU;
            snprintf(be->reason, sizeof be->reason, "auto: %s",
                     gpu == 0 ? "the only Vulkan device is a CPU implementation; native CPU kernels are faster"
                              : probe[0] ? probe : "no Vulkan driver");
        }
    } else {
        snprintf(be->reason, sizeof be->reason, "%s", why);
    }
    int rc = kind == WK_BACKEND_VULKAN ? wk_vulkan_backend_create(&o, &be->i, &be->ctx, err, err_size)
                                       : wk_cpu_backend_create(&o, &be->i, &be->ctx, err, err_size);
    if (rc != 0) {
        free(be);
        return -1;
    }
    *out = be;
    return 0;
}

void wk_backend_destroy(wk_backend *be)
{
    if (!be)
        return;
    be->i->destroy(be->ctx);
    free(be);
}

const char *wk_backend_name(const wk_backend *be)
{
    return be->i->name;
}

const char *wk_backend_reason(const wk_backend *be)
{
    return be->reason;
}

const char *wk_backend_device_name(const wk_backend *be)
{
    return be->i->device_name(be->ctx);
}

const char *wk_backend_device_type(const wk_backend *be)
{
    return be->i->device_type(be->ctx);
}

uint32_t wk_backend_validation_messages(const wk_backend *be)
{
    return be->i->validation_messages(be->ctx);
}

int wk_backend_eager(const wk_backend *be)
{
    return be->i->eager;
}

uint32_t wk_total_validation_messages(void)
{
    return wk_vulkan_total_validation_messages();
}

void wk_backend_list_devices(void *file)
{
    wk_vulkan_list_devices(file);
}

void wk_backend_memory(const wk_backend *be, uint64_t *block_bytes, uint64_t *used_bytes, int *blocks)
{
    be->i->memory(be->ctx, block_bytes, used_bytes, blocks);
}

void wk_set_label(wk_backend *be, const char *label)
{
    be->i->set_label(be->ctx, label);
}

int wk_profile(const wk_backend *be, const wk_profile_entry **entries)
{
    return be->i->profile(be->ctx, entries);
}

void wk_profile_reset(wk_backend *be)
{
    be->i->profile_reset(be->ctx);
}

/* -- tensors ----------------------------------------------------------- */
static int tensor_alloc(wk_backend *be, wk_tensor *t, wk_dtype dtype, int64_t ne0, int64_t ne1, int64_t ne2,
                        int64_t ne3, char *err, size_t err_size)
{
    memset(t, 0, sizeof *t);
    if (ne0 < 1 || ne1 < 1 || ne2 < 1 || ne3 < 1)
        FAIL("tensor shape [%lld, %lld, %lld, %lld] has an empty dimension", (long long)ne0, (long long)ne1,
             (long long)ne2, (long long)ne3);
    if (!be->i->supports_dtype(be->ctx, dtype))
        FAIL("%s cannot hold f16 tensors; use f32", be->i->device_name(be->ctx));
    t->ne[0] = ne0, t->ne[1] = ne1, t->ne[2] = ne2, t->ne[3] = ne3;
    t->dtype = dtype;
    return be->i->tensor_alloc(be->ctx, t, err, err_size);
}

int wk_tensor_alloc(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                    size_t err_size)
{
    return tensor_alloc(be, t, WK_F32, ne0, ne1, ne2, ne3, err, err_size);
}

int wk_tensor_alloc_f16(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                        size_t err_size)
{
    return tensor_alloc(be, t, WK_F16, ne0, ne1, ne2, ne3, err, err_size);
}

int wk_tensor_alloc_u32(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                        size_t err_size)
{
    return tensor_alloc(be, t, WK_U32, ne0, ne1, ne2, ne3, err, err_size);
}

void wk_tensor_free(wk_backend *be, wk_tensor *t)
{
    be->i->tensor_free(be->ctx, t);
    memset(t, 0, sizeof *t);
}

int wk_tensor_view(wk_backend *be, const wk_tensor *parent, int64_t offset, int64_t ne0, int64_t ne1, int64_t ne2,
                   int64_t ne3, wk_tensor *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    int64_t count = ne0 * ne1 * ne2 * ne3;
    if (ne0 < 1 || ne1 < 1 || ne2 < 1 || ne3 < 1 || offset < 0 || offset + count > wk_nelements(parent) ||
        parent->dtype == WK_F16)
        FAIL("view of %lld elements at %lld does not fit a tensor of %lld", (long long)count, (long long)offset,
             (long long)wk_nelements(parent));
    int64_t align = be->i->view_align(be->ctx);
    if (offset % align != 0)
        FAIL("a view at element %lld breaks the %lld-byte offset alignment of %s", (long long)offset,
             (long long)(4 * align), be->i->device_name(be->ctx));
    out->ne[0] = ne0, out->ne[1] = ne1, out->ne[2] = ne2, out->ne[3] = ne3;
    out->dtype = parent->dtype;
    return be->i->tensor_view(be->ctx, parent, offset, out, err, err_size);
}

void wk_tensor_view_release(wk_backend *be, wk_tensor *view)
{
    be->i->tensor_view_release(be->ctx, view);
    memset(view, 0, sizeof *view);
}

int wk_tensor_set(wk_backend *be, wk_tensor *t, const float *data, char *err, size_t err_size)
{
    return be->i->tensor_write(be->ctx, t, data, err, err_size);
}

int wk_tensor_set_u32(wk_backend *be, wk_tensor *t, const uint32_t *data, char *err, size_t err_size)
{
    if (t->dtype == WK_F16)
        FAIL("an f16 tensor cannot hold u32 indices");
    t->dtype = WK_U32;
    return be->i->tensor_write(be->ctx, t, data, err, err_size);
}

int wk_tensor_get(wk_backend *be, const wk_tensor *t, float *data, char *err, size_t err_size)
{
    return be->i->tensor_read(be->ctx, t, data, err, err_size);
}

/* -- batches ----------------------------------------------------------- */
int wk_begin(wk_backend *be, char *err, size_t err_size)
{
    return be->i->begin(be->ctx, err, err_size);
}

int wk_end(wk_backend *be, char *err, size_t err_size)
{
    return be->i->end(be->ctx, err, err_size);
}

void wk_abort(wk_backend *be)
{
    be->i->abort(be->ctx);
}

uint32_t wk_dispatch_count(const wk_backend *be)
{
    return be->i->dispatch_count(be->ctx);
}

/* -- ops: checks, then the backend ------------------------------------- */
int wk_matmul(wk_backend *be, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
              wk_act act, wk_tensor *out, char *err, size_t err_size)
{
    return wk_matmul_gated(be, a, w, bias, res, act, NULL, out, err, err_size);
}

int wk_matmul_gated(wk_backend *be, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias,
                    const wk_tensor *res, wk_act act, const wk_gate *gate, wk_tensor *out, char *err, size_t err_size)
{
    int64_t K = a->ne[0], M = a->ne[1], N = w->ne[1], batch = a->ne[2] * a->ne[3];
    if (w->ne[0] != K || w->ne[2] * w->ne[3] != 1 || out->ne[0] != N || out->ne[1] != M ||
        out->ne[2] * out->ne[3] != batch || (bias && wk_nelements(bias) != N) ||
        (res && wk_nelements(res) != wk_nelements(out)) ||
        (gate && (gate->offset < 0 || gate->stride < 0 ||
                  (batch - 1) * gate->stride + gate->offset + N > wk_nelements(gate->gate))))
        FAIL("matmul: shapes do not fit (a %lldx%lld, w %lldx%lld, out %lldx%lld)", (long long)M, (long long)K,
             (long long)N, (long long)w->ne[0], (long long)out->ne[1], (long long)out->ne[0]);
    if ((int)act < WK_ACT_NONE || (int)act > WK_ACT_SILU)
        FAIL("matmul: unknown activation %d", (int)act);
    return be->i->matmul(be->ctx, a, w, bias, res, act, gate, out, err, err_size);
}

int wk_norm(wk_backend *be, wk_norm_kind kind, const wk_tensor *x, const wk_tensor *gamma, const wk_tensor *beta,
            const wk_modulation *mod, float eps, wk_tensor *out, char *err, size_t err_size)
{
    int64_t D = x->ne[0], rows = wk_nelements(x) / D;
    if (wk_nelements(out) != wk_nelements(x) || (gamma && wk_nelements(gamma) != D) ||
        (beta && (wk_nelements(beta) != D || !gamma)) || (kind != WK_NORM_LAYER && kind != WK_NORM_RMS))
        FAIL("norm: shapes do not fit (x %lld x %lld)", (long long)rows, (long long)D);
    if (mod) {
        int64_t items = (rows + mod->rows_per_item - 1) / (mod->rows_per_item > 0 ? mod->rows_per_item : 1);
        int64_t need = (items - 1) * mod->stride + (mod->shift_off > mod->scale_off ? mod->shift_off : mod->scale_off) + D;
        if (mod->rows_per_item < 1 || mod->shift_off < 0 || mod->scale_off < 0 || need > wk_nelements(mod->mod))
            FAIL("norm: the modulation vector is too short for %lld rows", (long long)rows);
    }
    return be->i->norm(be->ctx, kind, x, gamma, beta, mod, eps, out, err, err_size);
}

static int eltwise(wk_backend *be, wk_eltwise_op op, const char *name, const wk_tensor *a, const wk_tensor *b,
                   float lo, float hi, wk_tensor *out, char *err, size_t err_size)
{
    int64_t n = wk_nelements(a), nb = b ? wk_nelements(b) : 1;
    if (wk_nelements(out) != n || nb < 1 || n % nb != 0)
        FAIL("%s: shapes do not fit (%lld and %lld elements)", name, (long long)n, (long long)nb);
    return be->i->eltwise(be->ctx, op, a, b, lo, hi, out, err, err_size);
}

int wk_add(wk_backend *be, const wk_tensor *a, const wk_tensor *b, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_ADD, "add", a, b, 0, 0, out, err, err_size);
}

int wk_mul(wk_backend *be, const wk_tensor *a, const wk_tensor *b, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_MUL, "mul", a, b, 0, 0, out, err, err_size);
}

int wk_gelu(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_GELU, "gelu", a, NULL, 0, 0, out, err, err_size);
}

int wk_silu(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_SILU, "silu", a, NULL, 0, 0, out, err, err_size);
}

int wk_clamp(wk_backend *be, const wk_tensor *a, float lo, float hi, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_CLAMP, "clamp", a, NULL, lo, hi, out, err, err_size);
}

int wk_exp(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_EXP, "exp", a, NULL, 0, 0, out, err, err_size);
}

int wk_sigmoid(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_SIGMOID, "sigmoid", a, NULL, 0, 0, out, err, err_size);
}

int wk_flag_nonfinite(wk_backend *be, const wk_tensor *a, wk_tensor *flag, char *err, size_t err_size)
{
    if (wk_nelements(flag) != 1 || a->dtype != WK_F32 || flag->dtype != WK_F32)
        FAIL("flag_nonfinite: the flag must be one f32 element and the input f32");
    return be->i->eltwise(be->ctx, WK_ELT_FLAG_NONFINITE, a, NULL, 0, 0, flag, err, err_size);
}

int wk_copy(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_COPY, "copy", a, NULL, 0, 0, out, err, err_size);
}

int wk_axpby(wk_backend *be, float alpha, const wk_tensor *a, float beta, const wk_tensor *b, wk_tensor *out,
             char *err, size_t err_size)
{
    return eltwise(be, WK_ELT_AXPBY, "axpby", a, b, alpha, beta, out, err, err_size);
}

int wk_rope(wk_backend *be, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
            size_t err_size)
{
    int64_t dh = x->ne[0], tokens = x->ne[2] * x->ne[3];
    if (dh % 2 || wk_nelements(pos) != tokens || wk_nelements(out) != wk_nelements(x))
        FAIL("rope: shapes do not fit (dh %lld must be even, %lld positions)", (long long)dh, (long long)tokens);
    return be->i->rope(be->ctx, x, pos, base, out, err, err_size);
}

int wk_attention(wk_backend *be, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                 const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out, char *err,
                 size_t err_size)
{
    int64_t D = q->ne[0], R = wk_nelements(k) / (k->ne[0] ? k->ne[0] : 1);
    int64_t S = wk_nelements(rows), G = wk_nelements(gemb) / D;
    int64_t dh = heads > 0 ? D / heads : 0;
    if (heads < 1 || D % heads || dh % 4 || dh > 128 || k->ne[0] != D || v->ne[0] != D ||
        wk_nelements(v) != wk_nelements(k) || wk_nelements(groups) != S || gemb->ne[0] != D || G < 1 || G > 32 ||
        wk_nelements(out) != wk_nelements(q) || R < 1)
        FAIL("attention: shapes do not fit (D %lld, heads %d, dh %lld: a multiple of 4 up to 128, %lld groups: 1 to "
             "32)", (long long)D, heads, (long long)dh, (long long)G);
    if (rows->dtype != WK_U32 || groups->dtype != WK_U32)
        FAIL("attention: rows and groups must be u32 tensors (wk_tensor_set_u32)");
    return be->i->attention(be->ctx, q, k, v, rows, groups, gemb, heads, scale, out, err, err_size);
}

int wk_conv2d(wk_backend *be, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias,
              const wk_conv_params *cp, wk_tensor *out, char *err, size_t err_size)
{
    int64_t cin = cp->channels_last ? x->ne[0] : x->ne[2];
    int64_t wid = cp->channels_last ? x->ne[1] : x->ne[0];
    int64_t hei = cp->channels_last ? x->ne[2] : x->ne[1];
    int64_t cout = w->ne[3];
    int k = cp->k, s = cp->stride, pad = cp->pad, g = cp->groups;
    if (k < 1 || s < 1 || pad < 0 || g < 1 || cin % g || cout % g || w->ne[0] != k || w->ne[1] != k ||
        w->ne[2] != cin / g || (bias && wk_nelements(bias) != cout) || x->ne[3] != 1)
        FAIL("conv2d: shapes do not fit (in %lld channels, weight %lldx%lldx%lldx%lld, groups %d)", (long long)cin,
             (long long)w->ne[3], (long long)w->ne[2], (long long)w->ne[1], (long long)w->ne[0], g);
    int64_t ho = (hei + 2 * pad - k) / s + 1, wo = (wid + 2 * pad - k) / s + 1;
    int64_t want[3] = {cp->channels_last ? cout : wo, cp->channels_last ? wo : ho, cp->channels_last ? ho : cout};
    if (ho < 1 || wo < 1 || out->ne[0] != want[0] || out->ne[1] != want[1] || out->ne[2] != want[2])
        FAIL("conv2d: the output must be %lld x %lld x %lld", (long long)want[0], (long long)want[1],
             (long long)want[2]);
    return be->i->conv2d(be->ctx, x, w, bias, cp, out, err, err_size);
}

static int resample(wk_backend *be, int mode, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    int64_t w = x->ne[0], h = x->ne[1], c = mode && f > 0 ? x->ne[2] / ((int64_t)f * f) : x->ne[2];
    if (f < 1 || (mode && x->ne[2] % ((int64_t)f * f)) || out->ne[0] != w * f || out->ne[1] != h * f ||
        out->ne[2] != c)
        FAIL("%s: shapes do not fit", mode ? "pixel_shuffle" : "upsample");
    return be->i->resample(be->ctx, mode, x, f, out, err, err_size);
}

static int quant(wk_backend *be, int bits, int dequant, const wk_tensor *x, const wk_tensor *q,
                 const wk_tensor *scale, char *err, size_t err_size)
{
    const char *name = dequant ? "dequantize" : "quantize";
    if (bits != 8 && bits != 4)
        FAIL("%s: bits must be 8 or 4, not %d", name, bits);
    int64_t d = x->ne[0], n = x->ne[1] * x->ne[2] * x->ne[3], per = 32 / bits;
    if (d % per || q->dtype != WK_U32 || x->dtype != WK_F32 || scale->dtype != WK_F32 || q->ne[0] != d / per ||
        q->ne[1] * q->ne[2] * q->ne[3] != n || wk_nelements(scale) != d)
        FAIL("%s: x [D, N] with D a multiple of %lld, q [D / %lld, N] u32, scale [D]", name, (long long)per,
             (long long)per);
    return be->i->quant(be->ctx, bits, dequant, x, q, scale, err, err_size);
}

int wk_quantize(wk_backend *be, int bits, const wk_tensor *x, wk_tensor *q, wk_tensor *scale, char *err,
                size_t err_size)
{
    return quant(be, bits, 0, x, q, scale, err, err_size);
}

int wk_dequantize(wk_backend *be, int bits, const wk_tensor *q, const wk_tensor *scale, wk_tensor *out, char *err,
                  size_t err_size)
{
    return quant(be, bits, 1, out, q, scale, err, err_size);
}

static int frame_pack(wk_backend *be, int unpack, const wk_tensor *img, const wk_tensor *packed, char *err,
                      size_t err_size)
{
    int64_t hw = img->ne[0] * img->ne[1];
    if (img->dtype != WK_F32 || packed->dtype != WK_U32 || img->ne[2] != 4 || img->ne[3] != 1 || hw % 2 ||
        wk_nelements(packed) != hw + hw / 2)
        FAIL("%s: img [W, H, 4] f32 with W * H even, packed [W * H * 3 / 2] u32", unpack ? "unpack_frame" : "pack_frame");
    return be->i->frame_pack(be->ctx, unpack, img, packed, err, err_size);
}

int wk_pack_frame(wk_backend *be, const wk_tensor *img, wk_tensor *packed, char *err, size_t err_size)
{
    return frame_pack(be, 0, img, packed, err, err_size);
}

int wk_unpack_frame(wk_backend *be, const wk_tensor *packed, wk_tensor *img, char *err, size_t err_size)
{
    return frame_pack(be, 1, img, packed, err, err_size);
}

int wk_upsample_nearest(wk_backend *be, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    return resample(be, 0, x, f, out, err, err_size);
}

int wk_pixel_shuffle(wk_backend *be, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    return resample(be, 1, x, f, out, err, err_size);
}

static int patch(wk_backend *be, int unpatch, const wk_tensor *img, int p, const wk_tensor *tokens, char *err,
                 size_t err_size)
{
    int64_t w = img->ne[0], h = img->ne[1], c = img->ne[2];
    if (p < 1 || w % p || h % p || tokens->ne[0] != c * p * p || tokens->ne[1] != (w / p) * (h / p))
        FAIL("%s: shapes do not fit (image %lldx%lldx%lld, patch %d)", unpatch ? "unpatchify" : "patchify",
             (long long)w, (long long)h, (long long)c, p);
    return be->i->patch(be->ctx, unpatch, img, p, tokens, err, err_size);
}

int wk_patchify(wk_backend *be, const wk_tensor *img, int p, wk_tensor *tokens, char *err, size_t err_size)
{
    return patch(be, 0, img, p, tokens, err, err_size);
}

int wk_unpatchify(wk_backend *be, const wk_tensor *tokens, int p, wk_tensor *img, char *err, size_t err_size)
{
    return patch(be, 1, img, p, tokens, err, err_size);
}

int wk_warp(wk_backend *be, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
            float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size)
{
    int64_t w = src->ne[0], h = src->ne[1], c = src->ne[2];
    if (filter != WK_WARP_BILINEAR && filter != WK_WARP_CATMULL_ROM)
        FAIL("warp: unknown filter %d", (int)filter);
    if (w < 2 || h < 2 || depth->ne[0] != w || depth->ne[1] != h || wk_nelements(depth) != w * h ||
        out->ne[0] != w || out->ne[1] != h || out->ne[2] != c + 1 || !(focal_px > 0))
        FAIL("warp: shapes do not fit (the output is [W, H, C + 1])");
    return be->i->warp(be->ctx, src, depth, from, to, focal_px, filter, out, err, err_size);
}
