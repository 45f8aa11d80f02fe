/* The CPU backend's ops. Matrix work (matmul, attention, convolution) runs
 * on cpu_gemm over the pool; the small image and vector ops (norm,
 * element-wise, rope, resampling, patches, the warp) run the scalar
 * references, which cost microseconds at these sizes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cpu_gemm.h"
#include "cpu_internal.h"
#include "ops_ref.h"

#define OP_BEGIN(c) double t0_ = cpu_profile_start(c); (c)->ops_in_batch++
#define OP_END(c, name, out) cpu_touch(out), cpu_profile_add((c), (name), t0_)

int cpu_op_matmul(void *ctx, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
                  wk_act act, const wk_gate *gate, wk_tensor *out, char *err, size_t err_size)
{
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t K = a->ne[0], M = a->ne[1], N = w->ne[1], batch = a->ne[2] * a->ne[3];
    const float *packed = cpu_packed_weight(c, w);
    if (!packed) {
        snprintf(err, err_size, "matmul: out of memory for the packed weights");
        return -1;
    }
    for (int64_t b = 0; b < batch; b++) {
        cpu_epilogue ep = {1.0f, cpu_f(bias), 0, (int)act, gate ? cpu_f(gate->gate) + b * gate->stride + gate->offset : NULL,
                           res ? cpu_f(res) + b * M * N : NULL};
        if (cpu_gemm(c->pool, M, N, K, cpu_f(a) + b * M * K, K, cpu_f(w), K, 1, packed, cpu_f(out) + b * M * N, N,
                     &ep) != 0) {
            snprintf(err, err_size, "matmul: out of memory for the CPU kernels' scratch");
            return -1;
        }
    }
    OP_END(c, "matmul", out);
    return 0;
}

int cpu_op_norm(void *ctx, wk_norm_kind kind, const wk_tensor *x, const wk_tensor *gamma, const wk_tensor *beta,
                const wk_modulation *mod, float eps, wk_tensor *out, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t D = x->ne[0], rows = wk_nelements(x) / D;
    ref_norm(cpu_f(x), rows, D, (int)kind, cpu_f(gamma), cpu_f(beta), mod ? cpu_f(mod->mod) : NULL,
             mod ? mod->rows_per_item : 1, mod ? mod->stride : 0, mod ? mod->shift_off : 0, mod ? mod->scale_off : 0,
             eps, cpu_f(out));
    OP_END(c, kind == WK_NORM_LAYER ? "layernorm" : "rmsnorm", out);
    return 0;
}

int cpu_op_eltwise(void *ctx, wk_eltwise_op op, const wk_tensor *a, const wk_tensor *b, float lo, float hi,
                   wk_tensor *out, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t n = wk_nelements(a), nb = b ? wk_nelements(b) : 1;
    const float *x = cpu_f(a), *y = cpu_f(b);
    float *o = cpu_f(out);
    switch (op) {
    case WK_ELT_ADD:
        for (int64_t i = 0; i < n; i++)
            o[i] = x[i] + y[i % nb];
        break;
    case WK_ELT_MUL:
        for (int64_t i = 0; i < n; i++)
            o[i] = x[i] * y[i % nb];
        break;
    case WK_ELT_AXPBY:
        for (int64_t i = 0; i < n; i++)
            o[i] = lo * x[i] + hi * y[i % nb];
        break;
    case WK_ELT_GELU:
        for (int64_t i = 0; i < n; i++)
            o[i] = cpu_act(x[i], WK_ACT_GELU);
        break;
    case WK_ELT_SILU:
        for (int64_t i = 0; i < n; i++)
            o[i] = cpu_act(x[i], WK_ACT_SILU);
        break;
    case WK_ELT_CLAMP:
        /* min(max(x, lo), hi) as the shader does: NaN comes out as lo on both backends */
        for (int64_t i = 0; i < n; i++)
            o[i] = fminf(fmaxf(x[i], lo), hi);
        break;
    case WK_ELT_EXP:
        for (int64_t i = 0; i < n; i++)
            o[i] = expf(x[i]);
        break;
    case WK_ELT_SIGMOID:
        for (int64_t i = 0; i < n; i++)
            o[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case WK_ELT_FLAG_NONFINITE:
        for (int64_t i = 0; i < n; i++)
            if (!isfinite(x[i])) {
                o[0] = 1.0f;
                break;
            }
        break;
    case WK_ELT_COPY:
        memmove(o, x, (size_t)n * sizeof(float));
        break;
    }
    OP_END(c, "eltwise", out);
    return 0;
}

int cpu_op_rope(void *ctx, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
                size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    ref_rope(cpu_f(x), cpu_f(pos), x->ne[2] * x->ne[3], x->ne[1], x->ne[0], base, cpu_f(out));
    OP_END(c, "rope", out);
    return 0;
}

/* -- attention ------------------------------------------------------------ */
typedef struct attn_job {
    const float *q, *k, *v, *gemb;
    const uint32_t *rows, *groups;
    float *out;
    int64_t N, S, D, dh;
    float scale;
    cpu_pool *pool;
} attn_job;

static int64_t attn_scratch_floats(int64_t N, int64_t S, int64_t dh)
{
    int64_t kmax = S > dh ? S : dh;
    return cpu_gemm_pack_floats(kmax) + 2 * S * dh + N * S + 64;
}

/* One head: gather its keys (with the per-source offsets folded in) and
 * values, scores = q K^T * scale, softmax by row, out = P V. */
static void attn_head(void *arg, int64_t h0, int64_t h1, int tid)
{
    attn_job *j = arg;
    int64_t N = j->N, S = j->S, D = j->D, dh = j->dh;
    float *pack = cpu_pool_scratch(j->pool, tid, 0);
    float *kg = pack + cpu_gemm_pack_floats(S > dh ? S : dh), *vg = kg + S * dh, *p = vg + S * dh;
    for (int64_t h = h0; h < h1; h++) {
        for (int64_t s = 0; s < S; s++) {
            const float *kr = j->k + (int64_t)j->rows[s] * D + h * dh, *er = j->gemb + (int64_t)j->groups[s] * D + h * dh;
            const float *vr = j->v + (int64_t)j->rows[s] * D + h * dh;
            for (int64_t i = 0; i < dh; i++) {
                kg[s * dh + i] = kr[i] + er[i];
                vg[s * dh + i] = vr[i];
            }
        }
        cpu_epilogue sc = {j->scale, NULL, 0, 0, NULL, NULL};
        cpu_gemm_serial(N, S, dh, j->q + h * dh, D, kg, dh, 1, p, S, &sc, pack);
        for (int64_t n = 0; n < N; n++)
            cpu_softmax_row(p + n * S, S);
        cpu_epilogue plain = {1.0f, NULL, 0, 0, NULL, NULL};
        cpu_gemm_serial(N, dh, S, p, S, vg, dh, 0, j->out + h * dh, D, &plain, pack);
    }
}

int cpu_op_attention(void *ctx, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                     const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out,
                     char *err, size_t err_size)
{
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t D = q->ne[0], N = wk_nelements(q) / D, S = wk_nelements(rows), dh = D / heads;
    int64_t R = wk_nelements(k) / D;
    const uint32_t *r = (const uint32_t *)cpu_b(rows)->data, *g = (const uint32_t *)cpu_b(groups)->data;
    int64_t G = wk_nelements(gemb) / D;
    for (int64_t s = 0; s < S; s++)
        if (r[s] >= R || g[s] >= G) {
            snprintf(err, err_size, "attention: key %lld reads row %u of %lld or group %u of %lld", (long long)s, r[s],
                     (long long)R, g[s], (long long)G);
            return -1;
        }
    size_t bytes = (size_t)attn_scratch_floats(N, S, dh) * sizeof(float);
    for (int t = 0; t < cpu_pool_threads(c->pool); t++)
        if (!cpu_pool_scratch(c->pool, t, bytes)) {
            snprintf(err, err_size, "attention: out of memory for scratch");
            return -1;
        }
    attn_job j = {cpu_f(q), cpu_f(k), cpu_f(v), cpu_f(gemb), r, g, cpu_f(out), N, S, D, dh, scale, c->pool};
    cpu_pool_run(c->pool, heads, 1, attn_head, &j);
    OP_END(c, "attention", out);
    return 0;
}

/* -- convolution: im2col per group, then a GEMM ------------------------------ */
typedef struct im2col_job {
    const float *x;
    float *col;
    int64_t cin, h, w, ho, wo, cin_g, c0;
    int k, stride, pad, channels_last, transposed;
} im2col_job;

/* Rows kk = (ci * k + ky) * k + kx of one group's patches, matching the
 * weight layout [cout][cin_g][k][k]: col[kk][pixel], or col[pixel][kk]
 * when transposed. */
static void im2col_rows(void *arg, int64_t kk0, int64_t kk1, int tid)
{
    (void)tid;
    im2col_job *j = arg;
    int64_t pixels = j->ho * j->wo, kks = j->cin_g * j->k * j->k;
    if (!j->channels_last && !j->transposed && j->stride == 1) {
        /* the common case (the heads' 3 x 3 convs): each output row is a
         * shifted copy of an input row, zero past the edges */
        for (int64_t kk = kk0; kk < kk1; kk++) {
            int64_t ci = kk / (j->k * j->k), ky = kk / j->k % j->k, kx = kk % j->k, ch = j->c0 + ci;
            int64_t lo = j->pad - kx > 0 ? j->pad - kx : 0, hi = j->w - kx + j->pad < j->wo ? j->w - kx + j->pad : j->wo;
            for (int64_t oy = 0; oy < j->ho; oy++) {
                int64_t iy = oy + ky - j->pad;
                float *dst = j->col + kk * pixels + oy * j->wo;
                if (iy < 0 || iy >= j->h || hi <= lo) {
                    memset(dst, 0, (size_t)j->wo * sizeof(float));
                    continue;
                }
                memset(dst, 0, (size_t)lo * sizeof(float));
                memcpy(dst + lo, j->x + (ch * j->h + iy) * j->w + lo + kx - j->pad, (size_t)(hi - lo) * sizeof(float));
                memset(dst + hi, 0, (size_t)(j->wo - hi) * sizeof(float));
            }
        }
        return;
    }
    for (int64_t kk = kk0; kk < kk1; kk++) {
        int64_t ci = kk / (j->k * j->k), ky = kk / j->k % j->k, kx = kk % j->k, ch = j->c0 + ci;
        for (int64_t oy = 0; oy < j->ho; oy++) {
            int64_t iy = oy * j->stride + ky - j->pad;
            for (int64_t ox = 0; ox < j->wo; ox++) {
                int64_t ix = ox * j->stride + kx - j->pad, px = oy * j->wo + ox;
                float v = 0.0f;
                if (iy >= 0 && iy < j->h && ix >= 0 && ix < j->w)
                    v = j->channels_last ? j->x[(iy * j->w + ix) * j->cin + ch] : j->x[(ch * j->h + iy) * j->w + ix];
                if (j->transposed)
                    j->col[px * kks + kk] = v;
                else
                    j->col[kk * pixels + px] = v;
            }
        }
    }
}

int cpu_op_conv2d(void *ctx, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias, const wk_conv_params *cp,
                  wk_tensor *out, char *err, size_t err_size)
{
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t cin = cp->channels_last ? x->ne[0] : x->ne[2];
    int64_t wid = cp->channels_last ? x->ne[1] : x->ne[0];
    int64_t hei = cp->channels_last ? x->ne[2] : x->ne[1];
    int64_t cout = w->ne[3];
    int k = cp->k, g = cp->groups;
    int64_t ho = (hei + 2 * cp->pad - k) / cp->stride + 1, wo = (wid + 2 * cp->pad - k) / cp->stride + 1;
    int64_t pixels = ho * wo, cin_g = cin / g, cout_g = cout / g, kks = cin_g * k * k;
    float *col = cpu_scratch(c, 0, kks * pixels, err, err_size);
    if (!col)
        return -1;
    for (int64_t gi = 0; gi < g; gi++) {
        im2col_job ij = {cpu_f(x), col, cin, hei, wid, ho, wo, cin_g, gi * cin_g, k, cp->stride, cp->pad,
                         cp->channels_last, cp->channels_last};
        cpu_pool_run(c->pool, kks, kks / (2 * cpu_pool_threads(c->pool)) + 1, im2col_rows, &ij);
        const float *wg = cpu_f(w) + gi * cout_g * kks;
        const float *bg = bias ? cpu_f(bias) + gi * cout_g : NULL;
        int rc;
        if (cp->channels_last) {
            /* rows are pixels, columns this group's output channels */
            cpu_epilogue ep = {1.0f, bg, 0, (int)cp->act, NULL, NULL};
            rc = cpu_gemm(c->pool, pixels, cout_g, kks, col, kks, wg, kks, 1, NULL, cpu_f(out) + gi * cout_g, cout,
                          &ep);
        } else {
            /* rows are output channels (bias per row), columns pixels */
            cpu_epilogue ep = {1.0f, bg, 1, (int)cp->act, NULL, NULL};
            rc = cpu_gemm(c->pool, cout_g, pixels, kks, wg, kks, col, pixels, 0, NULL, cpu_f(out) + gi * cout_g * pixels,
                          pixels, &ep);
        }
        if (rc != 0) {
            snprintf(err, err_size, "conv2d: out of memory for the CPU kernels' scratch");
            return -1;
        }
    }
    OP_END(c, "conv2d", out);
    return 0;
}

int cpu_op_resample(void *ctx, int mode, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t w = x->ne[0], h = x->ne[1];
    if (mode)
        ref_pixel_shuffle(cpu_f(x), x->ne[2] / ((int64_t)f * f), h, w, f, cpu_f(out));
    else
        ref_upsample_nearest(cpu_f(x), x->ne[2], h, w, f, cpu_f(out));
    OP_END(c, mode ? "pixel_shuffle" : "upsample", out);
    return 0;
}

int cpu_op_patch(void *ctx, int unpatch, const wk_tensor *img, int p, const wk_tensor *tokens, char *err,
                 size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    if (unpatch)
        ref_unpatchify(cpu_f(tokens), img->ne[2], img->ne[1], img->ne[0], p, cpu_f(img));
    else
        ref_patchify(cpu_f(img), img->ne[2], img->ne[1], img->ne[0], p, cpu_f(tokens));
    OP_END(c, unpatch ? "unpatchify" : "patchify", unpatch ? img : tokens);
    return 0;
}

typedef struct warp_job {
    const float *src, *depth, *from, *to;
    int64_t c, h, w;
    float focal;
    int filter;
    float *out;
} warp_job;

static void warp_rows(void *arg, int64_t y0, int64_t y1, int tid)
{
    (void)tid;
    warp_job *j = arg;
    ref_warp_rows(j->src, j->depth, j->c, j->h, j->w, j->from, j->to, j->focal, j->filter, y0, y1, j->out);
}

int cpu_op_warp(void *ctx, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
                float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    float cams[2][12];
    const wk_camera *cc[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        memcpy(cams[i], cc[i]->centre, 3 * sizeof(float));
        memcpy(cams[i] + 3, cc[i]->forward, 3 * sizeof(float));
        memcpy(cams[i] + 6, cc[i]->right, 3 * sizeof(float));
        memcpy(cams[i] + 9, cc[i]->up, 3 * sizeof(float));
    }
    warp_job j = {cpu_f(src), cpu_f(depth), cams[0], cams[1], src->ne[2], src->ne[1], src->ne[0], focal_px, (int)filter,
                  cpu_f(out)};
    cpu_pool_run(c->pool, src->ne[1], 4, warp_rows, &j);
    OP_END(c, "warp", out);
    return 0;
}

int cpu_op_quant(void *ctx, int bits, int dequant, const wk_tensor *x, const wk_tensor *q, const wk_tensor *scale,
                 char *err, size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t d = x->ne[0], n = wk_nelements(x) / d;
    uint32_t *words = (uint32_t *)(void *)cpu_f(q); /* the storage is 4-byte words whatever its dtype */
    if (dequant)
        ref_dequantize(bits, words, cpu_f(scale), n, d, cpu_f(x));
    else
        ref_quantize(bits, cpu_f(x), n, d, words, cpu_f(scale)), cpu_touch(q);
    OP_END(c, dequant ? "dequantize" : "quantize", dequant ? x : scale);
    return 0;
}

int cpu_op_frame_pack(void *ctx, int unpack, const wk_tensor *img, const wk_tensor *packed, char *err,
                      size_t err_size)
{
    (void)err, (void)err_size;
    cpu_ctx *c = ctx;
    OP_BEGIN(c);
    int64_t hw = img->ne[0] * img->ne[1];
    uint32_t *words = (uint32_t *)(void *)cpu_f(packed);
    if (unpack)
        ref_unpack_frame(words, hw, cpu_f(img));
    else
        ref_pack_frame(cpu_f(img), hw, words);
    OP_END(c, unpack ? "unpack_frame" : "pack_frame", unpack ? img : packed);
    return 0;
}
