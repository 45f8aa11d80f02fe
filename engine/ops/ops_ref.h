/* ops_ref: scalar C references of every op, accumulating in double. The op
 * tests compare each shader against these. Shapes follow backend.h. */
#ifndef WORLDKV_OPS_REF_H
#define WORLDKV_OPS_REF_H

#include <stdint.h>

float ref_act(double x, int act);
/* out[b, M, N] = act(a[b, M, K] . w[N, K]^T + bias[N]) + res[b, M, N] */
void ref_matmul(const float *a, const float *w, const float *bias, const float *res, int act, int64_t batch,
                int64_t M, int64_t N, int64_t K, float *out);

#endif

void ref_norm(const float *x, int64_t rows, int64_t D, int kind, const float *gamma, const float *beta,
              const float *mod, int64_t rows_per_item, int64_t stride, int64_t shift_off, int64_t scale_off, float eps,
              float *out);
/* op: 0 add, 1 mul (b repeats every nb), 2 gelu, 3 silu, 4 clamp to [lo, hi], 5 exp, 6 copy,
 * 7 lo * a + hi * b, 8 sigmoid, 9 out[0] = 1 if any a[i] is not finite (else out[0] is left) */
void ref_eltwise(int op, const float *a, const float *b, int64_t n, int64_t nb, float lo, float hi, float *out);
void ref_rope(const float *x, const float *pos, int64_t tokens, int64_t heads, int64_t dh, float base, float *out);
void ref_attention(const float *q, const float *k, const float *v, const uint32_t *rows, const uint32_t *groups,
                   const float *gemb, int64_t N, int64_t S, int64_t D, int heads, float scale, float *out);
void ref_conv2d(const float *x, const float *w, const float *bias, int64_t cin, int64_t h, int64_t wid, int64_t cout,
                int k, int stride, int pad, int groups, int channels_last, int act, float *out);
void ref_upsample_nearest(const float *x, int64_t c, int64_t h, int64_t w, int f, float *out);
void ref_pixel_shuffle(const float *x, int64_t c, int64_t h, int64_t w, int f, float *out);
/* Quantized slots, bits 8 or 4 (P = 32 / bits codes a word, Q = 2^(bits-1)
 * - 1: 127 or 7): x [N, D] (D channels innermost, D % P == 0) -> scale[D]
 * = max over the N tokens of |x| / Q, and q [N, D / P] holding P signed
 * two's-complement codes a word (channel P i + j in bits j * bits upward),
 * roundEven(x / scale) clamped to +-Q (0 where a channel is all zero);
 * dequantize reads scale * code. */
void ref_quantize(int bits, const float *x, int64_t tokens, int64_t dim, uint32_t *q, float *scale);
void ref_dequantize(int bits, const uint32_t *q, const float *scale, int64_t tokens, int64_t dim, float *out);
/* A stored frame, packed: img [4, hw] (RGB planes in [-1, 1], then depth)
 * -> packed [hw + hw / 2] words: pixel i's RGB as bytes roundEven((x + 1)
 * * 127.5) clamped to 0..255 in word i, then the depths as binary16 (round
 * to nearest even), pixel 2i in the low half of word hw + i. hw is even.
 * Unpacking gives byte / 127.5 - 1 and the depth's f16 value. */
void ref_pack_frame(const float *img, int64_t hw, uint32_t *packed);
void ref_unpack_frame(const uint32_t *packed, int64_t hw, float *img);
void ref_patchify(const float *img, int64_t c, int64_t h, int64_t w, int p, float *tokens);
void ref_unpatchify(const float *tokens, int64_t c, int64_t h, int64_t w, int p, float *img);
/* cams: centre, forward, right, up (12 floats each) */
void ref_warp(const float *src, const float *depth, int64_t c, int64_t h, int64_t w, const float *from,
              const float *to, float focal, int filter, float *out);
/* Destination rows [y_begin, y_end) only (the CPU backend splits rows over threads). */
void ref_warp_rows(const float *src, const float *depth, int64_t c, int64_t h, int64_t w, const float *from,
                   const float *to, float focal, int filter, int64_t y_begin, int64_t y_end, float *out);
