#include "ops_ref.h"

#include "half.h"

#include <math.h>
#include <stdlib.h>

float ref_act(double x, int act)
{
    if (act == 1)
        return (float)(0.5 * x * (1.0 + tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))));
    if (act == 2)
        return (float)(x / (1.0 + exp(-x)));
    return (float)x;
}

void ref_matmul(const float *a, const float *w, const float *bias, const float *res, int act, int64_t batch,
                int64_t M, int64_t N, int64_t K, float *out)
{
    for (int64_t b = 0; b < batch; b++)
        for (int64_t m = 0; m < M; m++)
            for (int64_t n = 0; n < N; n++) {
                double s = bias ? bias[n] : 0.0;
                for (int64_t k = 0; k < K; k++)
                    s += (double)a[(b * M + m) * K + k] * (double)w[n * K + k];
                double v = ref_act(s, act);
                if (res)
                    v += res[(b * M + m) * N + n];
                out[(b * M + m) * N + n] = (float)v;
            }
}

void ref_norm(const float *x, int64_t rows, int64_t D, int kind, const float *gamma, const float *beta,
              const float *mod, int64_t rows_per_item, int64_t stride, int64_t shift_off, int64_t scale_off, float eps,
              float *out)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *row = x + r * D;
        double mean = 0, var = 0;
        if (kind == 0) {
            for (int64_t c = 0; c < D; c++)
                mean += row[c];
            mean /= (double)D;
        }
        for (int64_t c = 0; c < D; c++)
            var += (row[c] - mean) * (row[c] - mean);
        double inv = 1.0 / sqrt(var / (double)D + eps);
        const float *m = mod ? mod + (r / rows_per_item) * stride : NULL;
        for (int64_t c = 0; c < D; c++) {
            double v = (row[c] - mean) * inv;
            if (gamma) {
                v *= gamma[c];
                if (beta && kind == 0)
                    v += beta[c];
            }
            if (m)
                v = v * (1.0 + m[scale_off + c]) + m[shift_off + c];
            out[r * D + c] = (float)v;
        }
    }
}

void ref_eltwise(int op, const float *a, const float *b, int64_t n, int64_t nb, float lo, float hi, float *out)
{
    for (int64_t i = 0; i < n; i++) {
        if (op == 0)
            out[i] = (float)((double)a[i] + b[i % nb]);
        else if (op == 1)
            out[i] = (float)((double)a[i] * b[i % nb]);
        else if (op == 2 || op == 3)
            out[i] = ref_act(a[i], op == 2 ? 1 : 2);
        else if (op == 4)
            out[i] = a[i] < lo ? lo : (a[i] > hi ? hi : a[i]);
        else if (op == 5)
            out[i] = (float)exp((double)a[i]);
        else if (op == 7)
            out[i] = (float)((double)lo * a[i] + (double)hi * b[i % nb]);
        else if (op == 8)
            out[i] = (float)(1.0 / (1.0 + exp(-(double)a[i])));
        else if (op == 9) {
            if (!isfinite(a[i]))
                out[0] = 1.0f;
        }
        else
            out[i] = a[i];
    }
}

void ref_rope(const float *x, const float *pos, int64_t tokens, int64_t heads, int64_t dh, float base, float *out)
{
    for (int64_t t = 0; t < tokens; t++)
        for (int64_t h = 0; h < heads; h++)
            for (int64_t i = 0; i < dh / 2; i++) {
                double ang = pos[t] * pow(base, -2.0 * (double)i / (double)dh);
                int64_t idx = (t * heads + h) * dh + 2 * i;
                double x0 = x[idx], x1 = x[idx + 1];
                out[idx] = (float)(x0 * cos(ang) - x1 * sin(ang));
                out[idx + 1] = (float)(x0 * sin(ang) + x1 * cos(ang));
            }
}

void ref_attention(const float *q, const float *k, const float *v, const uint32_t *rows, const uint32_t *groups,
                   const float *gemb, int64_t N, int64_t S, int64_t D, int heads, float scale, float *out)
{
    int64_t dh = D / heads;
    double *scores = malloc(sizeof(double) * (size_t)(S > 0 ? S : 1));
    if (!scores)
        return;
    for (int64_t n = 0; n < N; n++)
        for (int h = 0; h < heads; h++) {
            const float *qh = q + n * D + h * dh;
            double mx = -1e300, sum = 0;
            for (int64_t s = 0; s < S; s++) {
                const float *kh = k + (int64_t)rows[s] * D + h * dh, *eh = gemb + (int64_t)groups[s] * D + h * dh;
                double d = 0;
                for (int64_t i = 0; i < dh; i++)
                    d += (double)qh[i] * ((double)kh[i] + eh[i]);
                scores[s] = d * scale;
                mx = scores[s] > mx ? scores[s] : mx;
            }
            for (int64_t s = 0; s < S; s++)
                sum += exp(scores[s] - mx);
            for (int64_t i = 0; i < dh; i++) {
                double acc = 0;
                for (int64_t s = 0; s < S; s++)
                    acc += exp(scores[s] - mx) / sum * v[(int64_t)rows[s] * D + h * dh + i];
                out[n * D + h * dh + i] = (float)acc;
            }
        }
    free(scores);
}

void ref_conv2d(const float *x, const float *w, const float *bias, int64_t cin, int64_t h, int64_t wid, int64_t cout,
                int k, int stride, int pad, int groups, int channels_last, int act, float *out)
{
    int64_t ho = (h + 2 * pad - k) / stride + 1, wo = (wid + 2 * pad - k) / stride + 1;
    int64_t cin_g = cin / groups, cout_g = cout / groups;
    for (int64_t co = 0; co < cout; co++)
        for (int64_t oy = 0; oy < ho; oy++)
            for (int64_t ox = 0; ox < wo; ox++) {
                int64_t g = co / cout_g;
                double s = bias ? bias[co] : 0.0;
                for (int64_t ci = 0; ci < cin_g; ci++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++) {
                            int64_t iy = oy * stride + ky - pad, ix = ox * stride + kx - pad;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= wid)
                                continue;
                            int64_t c = g * cin_g + ci;
                            double xv = channels_last ? x[(iy * wid + ix) * cin + c] : x[(c * h + iy) * wid + ix];
                            s += xv * w[((co * cin_g + ci) * k + ky) * k + kx];
                        }
                float v = ref_act(s, act);
                if (channels_last)
                    out[(oy * wo + ox) * cout + co] = v;
                else
                    out[(co * ho + oy) * wo + ox] = v;
            }
}

void ref_upsample_nearest(const float *x, int64_t c, int64_t h, int64_t w, int f, float *out)
{
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = 0; y < h * f; y++)
            for (int64_t xx = 0; xx < w * f; xx++)
                out[(ch * h * f + y) * w * f + xx] = x[(ch * h + y / f) * w + xx / f];
}

void ref_pixel_shuffle(const float *x, int64_t c, int64_t h, int64_t w, int f, float *out)
{
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = 0; y < h * f; y++)
            for (int64_t xx = 0; xx < w * f; xx++)
                out[(ch * h * f + y) * w * f + xx] = x[((ch * f * f + (y % f) * f + xx % f) * h + y / f) * w + xx / f];
}

void ref_patchify(const float *img, int64_t c, int64_t h, int64_t w, int p, float *tokens)
{
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t xx = 0; xx < w; xx++) {
                int64_t token = (y / p) * (w / p) + xx / p, feat = (ch * p + y % p) * p + xx % p;
                tokens[token * c * p * p + feat] = img[(ch * h + y) * w + xx];
            }
}

void ref_unpatchify(const float *tokens, int64_t c, int64_t h, int64_t w, int p, float *img)
{
    for (int64_t ch = 0; ch < c; ch++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t xx = 0; xx < w; xx++) {
                int64_t token = (y / p) * (w / p) + xx / p, feat = (ch * p + y % p) * p + xx % p;
                img[(ch * h + y) * w + xx] = tokens[token * c * p * p + feat];
            }
}

static float dot3(const float *a, const float *b)
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

static float nearest_depth(const float *depth, float px, float py, int64_t w, int64_t h)
{
    int64_t ix = (int64_t)floorf(px + 0.5f), iy = (int64_t)floorf(py + 0.5f);
    ix = ix < 0 ? 0 : (ix > w - 1 ? w - 1 : ix);
    iy = iy < 0 ? 0 : (iy > h - 1 ? h - 1 : iy);
    return depth[iy * w + ix];
}

/* The same float arithmetic as shaders/warp.comp and tools/train/warp.py. */
static void catmull_rom(float t, float wt[4])
{
    float t2 = t * t, t3 = t2 * t;
    wt[0] = (-t3 + 2.0f * t2 - t) * 0.5f;
    wt[1] = (3.0f * t3 - 5.0f * t2 + 2.0f) * 0.5f;
    wt[2] = (-3.0f * t3 + 4.0f * t2 + t) * 0.5f;
    wt[3] = (t3 - t2) * 0.5f;
}

/* Clamp-to-edge Catmull-Rom of one channel, taps summed in warp.py's order. */
static float sample_catmull_rom(const float *b, int64_t w, int64_t h, float cx, float cy)
{
    float x0 = floorf(cx), y0 = floorf(cy), wx[4], wy[4];
    catmull_rom(cx - x0, wx);
    catmull_rom(cy - y0, wy);
    double acc = 0;
    for (int j = 0; j < 4; j++) {
        int64_t yy = (int64_t)y0 + j - 1;
        yy = yy < 0 ? 0 : yy > h - 1 ? h - 1 : yy;
        double row = 0;
        for (int i = 0; i < 4; i++) {
            int64_t xx = (int64_t)x0 + i - 1;
            xx = xx < 0 ? 0 : xx > w - 1 ? w - 1 : xx;
            row += (double)b[yy * w + xx] * wx[i];
        }
        acc += row * wy[j];
    }
    return (float)acc;
}

void ref_warp(const float *src, const float *depth, int64_t c, int64_t h, int64_t w, const float *from,
              const float *to, float focal, int filter, float *out)
{
    ref_warp_rows(src, depth, c, h, w, from, to, focal, filter, 0, h, out);
}

void ref_warp_rows(const float *src, const float *depth, int64_t c, int64_t h, int64_t w, const float *from,
                   const float *to, float focal, int filter, int64_t y_begin, int64_t y_end, float *out)
{
    const float *cs = from, *fs = from + 3, *rs = from + 6, *us = from + 9;
    const float *cd = to, *fd = to + 3, *rd = to + 6, *ud = to + 9;
    for (int64_t y = y_begin; y < y_end; y++)
        for (int64_t x = 0; x < w; x++) {
            float u = ((float)x + 0.5f - (float)w / 2.0f) / focal, v = ((float)h / 2.0f - (float)y - 0.5f) / focal;
            float ray[3];
            for (int i = 0; i < 3; i++)
                ray[i] = fd[i] + rd[i] * u + ud[i] * v;
            float zs = dot3(ray, fs);
            float sx = dot3(ray, rs) / fmaxf(zs, 1e-6f), sy = dot3(ray, us) / fmaxf(zs, 1e-6f);
            for (int s = 0; s < 3; s++) {
                float px = sx * focal + (float)w / 2.0f - 0.5f, py = (float)h / 2.0f - 0.5f - sy * focal;
                float d = nearest_depth(depth, px, py, w, h);
                float point[3], rel[3], xs[3];
                for (int i = 0; i < 3; i++)
                    point[i] = cs[i] + d * (fs[i] + rs[i] * sx + us[i] * sy);
                for (int i = 0; i < 3; i++)
                    rel[i] = point[i] - cd[i];
                float zd = fmaxf(dot3(rel, fd), 0.05f);
                for (int i = 0; i < 3; i++)
                    xs[i] = cd[i] + zd * ray[i] - cs[i];
                zs = dot3(xs, fs);
                float safe = fmaxf(zs, 1e-6f);
                sx = dot3(xs, rs) / safe;
                sy = dot3(xs, us) / safe;
            }
            float px = sx * focal + (float)w / 2.0f - 0.5f, py = (float)h / 2.0f - 0.5f - sy * focal;
            float d = nearest_depth(depth, px, py, w, h);
            int inside = px > -0.5f && px < (float)w - 0.5f && py > -0.5f && py < (float)h - 0.5f && zs > 0.05f;
            int agree = fabsf(d - zs) <= 0.08f * zs + 0.05f;
            float valid = inside && agree ? 1.0f : 0.0f;
            float cx = fminf(fmaxf(px, 0.0f), (float)(w - 1)), cy = fminf(fmaxf(py, 0.0f), (float)(h - 1));
            if (filter == 1) { /* WK_WARP_CATMULL_ROM */
                for (int64_t ch = 0; ch < c; ch++)
                    out[ch * w * h + y * w + x] = sample_catmull_rom(src + ch * w * h, w, h, cx, cy) * valid;
                out[c * w * h + y * w + x] = valid;
                continue;
            }
            int64_t x0 = (int64_t)floorf(cx), y0 = (int64_t)floorf(cy);
            x0 = x0 > w - 2 ? w - 2 : x0;
            y0 = y0 > h - 2 ? h - 2 : y0;
            float fx = cx - (float)x0, fy = cy - (float)y0;
            for (int64_t ch = 0; ch < c; ch++) {
                const float *b = src + ch * w * h;
                float t = b[y0 * w + x0] * (1 - fx) + b[y0 * w + x0 + 1] * fx;
                float bt = b[(y0 + 1) * w + x0] * (1 - fx) + b[(y0 + 1) * w + x0 + 1] * fx;
                out[ch * w * h + y * w + x] = (t * (1 - fy) + bt * fy) * valid;
            }
            out[c * w * h + y * w + x] = valid;
        }
}

void ref_quantize(int bits, const float *x, int64_t tokens, int64_t dim, uint32_t *q, float *scale)
{
    const int per = 32 / bits;
    const float qmax = (float)((1 << (bits - 1)) - 1);
    const uint32_t mask = (1u << bits) - 1u;
    for (int64_t c = 0; c < dim; c++) {
        float amax = 0.0f;
        for (int64_t n = 0; n < tokens; n++)
            amax = fmaxf(amax, fabsf(x[n * dim + c]));
        scale[c] = amax / qmax;
    }
    for (int64_t n = 0; n < tokens; n++)
        for (int64_t w = 0; w < dim / per; w++) {
            uint32_t word = 0;
            for (int j = 0; j < per; j++) {
                int64_t c = per * w + j;
                /* nearbyintf rounds half to even, as torch.round and GLSL roundEven */
                float r = scale[c] > 0.0f ? nearbyintf(x[n * dim + c] / scale[c]) : 0.0f;
                int v = (int)fminf(qmax, fmaxf(-qmax, r));
                word |= ((uint32_t)v & mask) << (bits * j);
            }
            q[n * (dim / per) + w] = word;
        }
}

void ref_dequantize(int bits, const uint32_t *q, const float *scale, int64_t tokens, int64_t dim, float *out)
{
    const int per = 32 / bits;
    for (int64_t n = 0; n < tokens; n++)
        for (int64_t c = 0; c < dim; c++) {
            uint32_t field = q[n * (dim / per) + c / per] >> (bits * (c % per)) & ((1u << bits) - 1u);
            int v = field >> (bits - 1) ? (int)field - (1 << bits) : (int)field; /* sign-extend */
            out[n * dim + c] = scale[c] * (float)v;
        }
}

static uint32_t colour_byte(float x)
{
    return (uint32_t)fminf(255.0f, fmaxf(0.0f, nearbyintf((x + 1.0f) * 127.5f)));
}

void ref_pack_frame(const float *img, int64_t hw, uint32_t *packed)
{
    for (int64_t i = 0; i < hw; i++)
        packed[i] = colour_byte(img[i]) | colour_byte(img[hw + i]) << 8 | colour_byte(img[2 * hw + i]) << 16;
    for (int64_t i = 0; i < hw / 2; i++)
        packed[hw + i] = (uint32_t)half_from_float(img[3 * hw + 2 * i]) |
                         (uint32_t)half_from_float(img[3 * hw + 2 * i + 1]) << 16;
}

void ref_unpack_frame(const uint32_t *packed, int64_t hw, float *img)
{
    for (int64_t i = 0; i < hw; i++)
        for (int c = 0; c < 3; c++)
            img[c * hw + i] = (float)(packed[i] >> (8 * c) & 0xffu) / 127.5f - 1.0f;
    for (int64_t i = 0; i < hw; i++)
        img[3 * hw + i] = half_to_float((uint16_t)(packed[hw + i / 2] >> (16 * (i % 2))));
}
