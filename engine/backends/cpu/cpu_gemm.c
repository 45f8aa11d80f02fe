/* cpu_gemm: packed-panel GEMM. B is packed per panel of NR columns into
 * k-major order ([K][NR]), so the micro-kernel reads one aligned vector
 * pair a step and broadcasts MR values of A against it, keeping an
 * MR x NR tile of sums in registers. The epilogue (bias, activation,
 * gate, residual) is applied to the tile before it is stored. */
#include "cpu_gemm.h"

#include <math.h>
#include <string.h>

#include "backend.h"

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define WK_X86 1
#include <immintrin.h>
#endif

enum { MR = 6, NR_MAX = 32 };

typedef void (*tile_fn)(int64_t mr, int64_t nr, int64_t K, const float *a, int64_t lda, const float *pack, float *c,
                        int64_t ldc, const cpu_epilogue *ep, int64_t n0, int64_t m0);

static int g_nr = 8;              /* panel width of the chosen kernel */
static tile_fn g_tile;            /* set by choose() */
static const char *g_name;

float cpu_act(float x, int act)
{
    if (act == WK_ACT_GELU)
        return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
    if (act == WK_ACT_SILU)
        return x / (1.0f + expf(-x));
    return x;
}

/* The tile's epilogue, scalar; `sum` holds mr rows of nr sums (row stride NR_MAX). */
static void store_tile(int64_t mr, int64_t nr, const float *sum, float *c, int64_t ldc, const cpu_epilogue *ep,
                       int64_t n0, int64_t m0)
{
    for (int64_t r = 0; r < mr; r++) {
        float *crow = c + r * ldc;
        for (int64_t j = 0; j < nr; j++) {
            float v = ep->alpha * sum[r * NR_MAX + j];
            if (ep->bias)
                v += ep->bias_rows ? ep->bias[m0 + r] : ep->bias[n0 + j];
            v = cpu_act(v, ep->act);
            if (ep->gate)
                v *= ep->gate[n0 + j];
            if (ep->res)
                v += ep->res[r * ldc + j];
            crow[j] = v;
        }
    }
}

/* -- portable ---------------------------------------------------------- */
static void tile_portable(int64_t mr, int64_t nr, int64_t K, const float *a, int64_t lda, const float *pack, float *c,
                          int64_t ldc, const cpu_epilogue *ep, int64_t n0, int64_t m0)
{
    float sum[MR * NR_MAX];
    memset(sum, 0, sizeof sum);
    for (int64_t k = 0; k < K; k++) {
        const float *bp = pack + k * 8;
        for (int64_t r = 0; r < mr; r++) {
            float av = a[r * lda + k];
            for (int j = 0; j < 8; j++)
                sum[r * NR_MAX + j] += av * bp[j];
        }
    }
    store_tile(mr, nr, sum, c, ldc, ep, n0, m0);
}

#ifdef WK_X86
/* -- AVX2 + FMA: 6 x 16 tiles ------------------------------------------- */
/* e^x as exp512 below; AVX2 has no scalef, so 2^n goes into the exponent
 * bits (n stays within [-126, 127] on the clamped range). Why vector: the
 * scalar tanhf/expf epilogue and softmax took 37% of a frame here. */
__attribute__((target("avx2,fma"))) static inline __m256 exp256(__m256 x)
{
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-87.3f)), _mm256_set1_ps(88.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

/* GELU (tanh form) and SiLU, 8 lanes; the same formulas as act512. */
__attribute__((target("avx2,fma"))) static inline __m256 act256(__m256 x, int act)
{
    if (act == WK_ACT_GELU) {
        __m256 u = _mm256_mul_ps(_mm256_set1_ps(0.7978845608028654f),
                                 _mm256_fmadd_ps(_mm256_mul_ps(_mm256_set1_ps(0.044715f), x), _mm256_mul_ps(x, x), x));
        __m256 e = exp256(_mm256_add_ps(u, u));
        __m256 t = _mm256_sub_ps(_mm256_set1_ps(1.0f),
                                 _mm256_div_ps(_mm256_set1_ps(2.0f), _mm256_add_ps(e, _mm256_set1_ps(1.0f))));
        return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), t));
    }
    if (act == WK_ACT_SILU)
        return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), exp256(_mm256_sub_ps(_mm256_setzero_ps(), x))));
    return x;
}

__attribute__((target("avx2,fma"))) static inline float hmax256(__m256 v)
{
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_movehdup_ps(m));
    return _mm_cvtss_f32(m);
}

__attribute__((target("avx2,fma"))) static inline float hsum256(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Softmax of one row in place, 8 lanes at a time. */
__attribute__((target("avx2,fma"))) static void softmax_avx2(float *row, int64_t n)
{
    __m256 mx = _mm256_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        mx = _mm256_max_ps(mx, _mm256_loadu_ps(row + i));
    float m = hmax256(mx);
    for (; i < n; i++)
        m = row[i] > m ? row[i] : m;
    __m256 vm = _mm256_set1_ps(m), sum = _mm256_setzero_ps();
    for (i = 0; i + 8 <= n; i += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(row + i), vm));
        _mm256_storeu_ps(row + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    float s = hsum256(sum);
    for (; i < n; i++) {
        row[i] = expf(row[i] - m);
        s += row[i];
    }
    __m256 inv = _mm256_set1_ps(1.0f / s);
    for (i = 0; i + 8 <= n; i += 8)
        _mm256_storeu_ps(row + i, _mm256_mul_ps(_mm256_loadu_ps(row + i), inv));
    for (; i < n; i++)
        row[i] *= 1.0f / s;
}

/* lanes [0, count) of 8 on, as maskload/maskstore want them */
__attribute__((target("avx2,fma"))) static inline __m256i lanes256(int64_t count)
{
    int64_t c = count < 0 ? 0 : count > 8 ? 8 : count;
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)c), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target("avx2,fma"))) static inline void tile_avx2_body(int64_t mr, int64_t nr, int64_t K,
                                                                       const float *a, int64_t lda,
                                                                       const float *pack, float *c, int64_t ldc,
                                                                       const cpu_epilogue *ep, int64_t n0, int64_t m0)
{
    __m256 acc[MR][2];
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        __m256 b0 = _mm256_load_ps(pack + k * 16), b1 = _mm256_load_ps(pack + k * 16 + 8);
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                __m256 av = _mm256_broadcast_ss(a + r * lda + k);
                acc[r][0] = _mm256_fmadd_ps(av, b0, acc[r][0]);
                acc[r][1] = _mm256_fmadd_ps(av, b1, acc[r][1]);
            }
        }
    }
    __m256i m0k = lanes256(nr), m1k = lanes256(nr - 8);
    __m256 alpha = _mm256_set1_ps(ep->alpha);
    __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps(), g0 = _mm256_set1_ps(1.0f), g1 = g0;
    if (ep->bias && !ep->bias_rows) {
        b0 = _mm256_maskload_ps(ep->bias + n0, m0k);
        b1 = _mm256_maskload_ps(ep->bias + n0 + 8, m1k);
    }
    if (ep->gate) {
        g0 = _mm256_maskload_ps(ep->gate + n0, m0k);
        g1 = _mm256_maskload_ps(ep->gate + n0 + 8, m1k);
    }
    for (int r = 0; r < MR; r++) {
        if (r >= mr)
            break;
        __m256 v0 = _mm256_mul_ps(acc[r][0], alpha), v1 = _mm256_mul_ps(acc[r][1], alpha);
        if (ep->bias && ep->bias_rows) {
            __m256 br = _mm256_set1_ps(ep->bias[m0 + r]);
            v0 = _mm256_add_ps(v0, br), v1 = _mm256_add_ps(v1, br);
        } else {
            v0 = _mm256_add_ps(v0, b0), v1 = _mm256_add_ps(v1, b1);
        }
        v0 = act256(v0, ep->act), v1 = act256(v1, ep->act);
        v0 = _mm256_mul_ps(v0, g0), v1 = _mm256_mul_ps(v1, g1);
        if (ep->res) {
            v0 = _mm256_add_ps(v0, _mm256_maskload_ps(ep->res + r * ldc, m0k));
            v1 = _mm256_add_ps(v1, _mm256_maskload_ps(ep->res + r * ldc + 8, m1k));
        }
        _mm256_maskstore_ps(c + r * ldc, m0k, v0);
        _mm256_maskstore_ps(c + r * ldc + 8, m1k, v1);
    }
}

__attribute__((target("avx2,fma"))) static void tile_avx2(int64_t mr, int64_t nr, int64_t K, const float *a,
                                                          int64_t lda, const float *pack, float *c, int64_t ldc,
                                                          const cpu_epilogue *ep, int64_t n0, int64_t m0)
{
    /* constant row counts let the compiler keep the tile in registers */
    switch (mr) {
    case 6: tile_avx2_body(6, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 5: tile_avx2_body(5, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 4: tile_avx2_body(4, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 3: tile_avx2_body(3, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 2: tile_avx2_body(2, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    default: tile_avx2_body(1, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    }
}

/* -- AVX-512: 6 x 32 tiles ---------------------------------------------- */
/* e^x: x = n ln 2 + r, a degree-6 polynomial for e^r (Cephes' expf
 * coefficients, relative error about 1e-7), then 2^n by scalef. */
__attribute__((target("avx512f"))) static inline __m512 exp512(__m512 x)
{
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.3f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.9875691500e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
    p = _mm512_fmadd_ps(p, _mm512_mul_ps(r, r), _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
    return _mm512_scalef_ps(p, n);
}

/* GELU (tanh form, tanh u = 1 - 2 / (e^2u + 1)) and SiLU, 16 lanes. */
__attribute__((target("avx512f"))) static inline __m512 act512(__m512 x, int act)
{
    if (act == WK_ACT_GELU) {
        __m512 u = _mm512_mul_ps(_mm512_set1_ps(0.7978845608028654f),
                                 _mm512_fmadd_ps(_mm512_mul_ps(_mm512_set1_ps(0.044715f), x), _mm512_mul_ps(x, x), x));
        __m512 e = exp512(_mm512_add_ps(u, u));
        __m512 t = _mm512_sub_ps(_mm512_set1_ps(1.0f),
                                 _mm512_div_ps(_mm512_set1_ps(2.0f), _mm512_add_ps(e, _mm512_set1_ps(1.0f))));
        return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
    }
    if (act == WK_ACT_SILU)
        return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), exp512(_mm512_sub_ps(_mm512_setzero_ps(), x))));
    return x;
}

/* Softmax of one row in place, 16 lanes at a time. */
__attribute__((target("avx512f"))) static void softmax_avx512(float *row, int64_t n)
{
    __m512 mx = _mm512_set1_ps(-INFINITY);
    int64_t i = 0;
    for (; i + 16 <= n; i += 16)
        mx = _mm512_max_ps(mx, _mm512_loadu_ps(row + i));
    float m = _mm512_reduce_max_ps(mx);
    for (; i < n; i++)
        m = row[i] > m ? row[i] : m;
    __m512 vm = _mm512_set1_ps(m), sum = _mm512_setzero_ps();
    for (i = 0; i + 16 <= n; i += 16) {
        __m512 e = exp512(_mm512_sub_ps(_mm512_loadu_ps(row + i), vm));
        _mm512_storeu_ps(row + i, e);
        sum = _mm512_add_ps(sum, e);
    }
    float s = _mm512_reduce_add_ps(sum);
    for (; i < n; i++) {
        row[i] = expf(row[i] - m);
        s += row[i];
    }
    __m512 inv = _mm512_set1_ps(1.0f / s);
    for (i = 0; i + 16 <= n; i += 16)
        _mm512_storeu_ps(row + i, _mm512_mul_ps(_mm512_loadu_ps(row + i), inv));
    for (; i < n; i++)
        row[i] *= 1.0f / s;
}
__attribute__((target("avx512f"))) static inline void tile_avx512_body(int64_t mr, int64_t nr, int64_t K,
                                                                        const float *a, int64_t lda,
                                                                        const float *pack, float *c, int64_t ldc,
                                                                        const cpu_epilogue *ep, int64_t n0, int64_t m0)
{
    __m512 acc[MR][2];
    for (int r = 0; r < MR; r++)
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    for (int64_t k = 0; k < K; k++) {
        __m512 b0 = _mm512_load_ps(pack + k * 32), b1 = _mm512_load_ps(pack + k * 32 + 16);
        for (int r = 0; r < MR; r++) {
            if (r < mr) {
                __m512 av = _mm512_set1_ps(a[r * lda + k]);
                acc[r][0] = _mm512_fmadd_ps(av, b0, acc[r][0]);
                acc[r][1] = _mm512_fmadd_ps(av, b1, acc[r][1]);
            }
        }
    }
    __mmask16 m0k = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    __mmask16 m1k = nr >= 32 ? (__mmask16)0xFFFF : nr > 16 ? (__mmask16)((1u << (nr - 16)) - 1) : (__mmask16)0;
    __m512 alpha = _mm512_set1_ps(ep->alpha);
    __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps(), g0 = _mm512_set1_ps(1.0f), g1 = g0;
    if (ep->bias && !ep->bias_rows) {
        b0 = _mm512_maskz_loadu_ps(m0k, ep->bias + n0);
        b1 = _mm512_maskz_loadu_ps(m1k, ep->bias + n0 + 16);
    }
    if (ep->gate) {
        g0 = _mm512_maskz_loadu_ps(m0k, ep->gate + n0);
        g1 = _mm512_maskz_loadu_ps(m1k, ep->gate + n0 + 16);
    }
    for (int r = 0; r < MR; r++) {
        if (r >= mr)
            break;
        __m512 v0 = _mm512_mul_ps(acc[r][0], alpha), v1 = _mm512_mul_ps(acc[r][1], alpha);
        if (ep->bias && ep->bias_rows) {
            __m512 br = _mm512_set1_ps(ep->bias[m0 + r]);
            v0 = _mm512_add_ps(v0, br), v1 = _mm512_add_ps(v1, br);
        } else {
            v0 = _mm512_add_ps(v0, b0), v1 = _mm512_add_ps(v1, b1);
        }
        v0 = act512(v0, ep->act), v1 = act512(v1, ep->act);
        v0 = _mm512_mul_ps(v0, g0), v1 = _mm512_mul_ps(v1, g1);
        if (ep->res) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0k, ep->res + r * ldc));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1k, ep->res + r * ldc + 16));
        }
        _mm512_mask_storeu_ps(c + r * ldc, m0k, v0);
        _mm512_mask_storeu_ps(c + r * ldc + 16, m1k, v1);
    }
}

__attribute__((target("avx512f"))) static void tile_avx512(int64_t mr, int64_t nr, int64_t K, const float *a,
                                                           int64_t lda, const float *pack, float *c, int64_t ldc,
                                                           const cpu_epilogue *ep, int64_t n0, int64_t m0)
{
    switch (mr) {
    case 6: tile_avx512_body(6, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 5: tile_avx512_body(5, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 4: tile_avx512_body(4, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 3: tile_avx512_body(3, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    case 2: tile_avx512_body(2, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    default: tile_avx512_body(1, nr, K, a, lda, pack, c, ldc, ep, n0, m0); break;
    }
}
#endif

static int has(const char *name)
{
#ifdef WK_X86
    __builtin_cpu_init();
    if (!strcmp(name, "avx512"))
        return __builtin_cpu_supports("avx512f");
    if (!strcmp(name, "avx2"))
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    return !strcmp(name, "portable");
}

int cpu_gemm_force(const char *name)
{
    if (!has(name))
        return -1;
#ifdef WK_X86
    if (!strcmp(name, "avx512")) {
        g_tile = tile_avx512, g_nr = 32, g_name = "avx512";
        return 0;
    }
    if (!strcmp(name, "avx2")) {
        g_tile = tile_avx2, g_nr = 16, g_name = "avx2";
        return 0;
    }
#endif
    g_tile = tile_portable, g_nr = 8, g_name = "portable";
    return 0;
}

static void choose(void)
{
    if (g_tile)
        return;
    if (cpu_gemm_force("avx512") && cpu_gemm_force("avx2"))
        cpu_gemm_force("portable");
}

const char *cpu_gemm_kernel_name(void)
{
    choose();
    return g_name;
}

int64_t cpu_gemm_pack_floats(int64_t K)
{
    return K * NR_MAX;
}

/* packed[k * nr_pad + j] = B(k, n0 + j), zero past N */
static void pack_panel(int64_t N, int64_t K, const float *b, int64_t ldb, int b_rows_are_n, int64_t n0, int nr_pad,
                       float *pack)
{
    int64_t nr = N - n0 < nr_pad ? N - n0 : nr_pad;
    if (b_rows_are_n) {
        for (int64_t j = 0; j < nr; j++) {
            const float *row = b + (n0 + j) * ldb;
            for (int64_t k = 0; k < K; k++)
                pack[k * nr_pad + j] = row[k];
        }
        for (int64_t j = nr; j < nr_pad; j++)
            for (int64_t k = 0; k < K; k++)
                pack[k * nr_pad + j] = 0.0f;
    } else {
        for (int64_t k = 0; k < K; k++) {
            const float *row = b + k * ldb + n0;
            float *dst = pack + k * nr_pad;
            int64_t j = 0;
            for (; j < nr; j++)
                dst[j] = row[j];
            for (; j < nr_pad; j++)
                dst[j] = 0.0f;
        }
    }
}

/* Columns [n_begin, n_end) (panel-aligned) and rows [m_begin, m_end). B's
 * panels come from `prepacked` (cpu_gemm_prepack) or are packed here. */
static void gemm_block(int64_t m_begin, int64_t m_end, int64_t n_begin, int64_t n_end, int64_t N, int64_t K,
                       const float *a, int64_t lda, const float *b, int64_t ldb, int b_rows_are_n,
                       const float *prepacked, float *c, int64_t ldc, const cpu_epilogue *ep, float *pack)
{
    choose();
    for (int64_t n0 = n_begin; n0 < n_end; n0 += g_nr) {
        int64_t nr = N - n0 < g_nr ? N - n0 : g_nr;
        const float *panel = pack;
        if (prepacked)
            panel = prepacked + (n0 / g_nr) * K * g_nr;
        else
            pack_panel(N, K, b, ldb, b_rows_are_n, n0, g_nr, pack);
        for (int64_t m0 = m_begin; m0 < m_end; m0 += MR) {
            int64_t mr = m_end - m0 < MR ? m_end - m0 : MR;
            cpu_epilogue e = *ep;
            /* the residual tile: read before the same tile of c is written, so it may be c */
            e.res = ep->res ? ep->res + m0 * ldc + n0 : NULL;
            g_tile(mr, nr, K, a + m0 * lda, lda, panel, c + m0 * ldc + n0, ldc, &e, n0, m0);
        }
    }
}

int64_t cpu_gemm_packed_floats(int64_t N, int64_t K)
{
    choose();
    return (N + g_nr - 1) / g_nr * g_nr * K;
}

void cpu_gemm_prepack(int64_t N, int64_t K, const float *b, int64_t ldb, float *packed)
{
    choose();
    for (int64_t n0 = 0; n0 < N; n0 += g_nr)
        pack_panel(N, K, b, ldb, 1, n0, g_nr, packed + (n0 / g_nr) * K * g_nr);
}

void cpu_softmax_row(float *row, int64_t n)
{
    choose();
#ifdef WK_X86
    if (g_tile == tile_avx512) {
        softmax_avx512(row, n);
        return;
    }
    if (g_tile == tile_avx2) {
        softmax_avx2(row, n);
        return;
    }
#endif
    float m = -INFINITY, sum = 0.0f;
    for (int64_t i = 0; i < n; i++)
        m = row[i] > m ? row[i] : m;
    for (int64_t i = 0; i < n; i++) {
        row[i] = expf(row[i] - m);
        sum += row[i];
    }
    float inv = 1.0f / sum;
    for (int64_t i = 0; i < n; i++)
        row[i] *= inv;
}

void cpu_gemm_serial(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,
                     int b_rows_are_n, float *c, int64_t ldc, const cpu_epilogue *ep, float *pack)
{
    gemm_block(0, M, 0, N, N, K, a, lda, b, ldb, b_rows_are_n, NULL, c, ldc, ep, pack);
}

typedef struct gemm_job {
    int64_t M, N, K, lda, ldb, ldc;
    const float *a, *b, *prepacked;
    float *c;
    int b_rows_are_n, by_rows;
    const cpu_epilogue *ep;
    cpu_pool *pool;
} gemm_job;

static void gemm_task(void *arg, int64_t begin, int64_t end, int tid)
{
    gemm_job *j = arg;
    float *pack = cpu_pool_scratch(j->pool, tid, (size_t)cpu_gemm_pack_floats(j->K) * sizeof(float));
    if (j->by_rows)
        gemm_block(begin, end, 0, j->N, j->N, j->K, j->a, j->lda, j->b, j->ldb, j->b_rows_are_n, j->prepacked, j->c,
                   j->ldc, j->ep, pack);
    else
        gemm_block(0, j->M, begin * g_nr, end * g_nr < j->N ? end * g_nr : j->N, j->N, j->K, j->a, j->lda, j->b,
                   j->ldb, j->b_rows_are_n, j->prepacked, j->c, j->ldc, j->ep, pack);
}

int cpu_gemm(cpu_pool *pool, int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b,
             int64_t ldb, int b_rows_are_n, const float *prepacked, float *c, int64_t ldc, const cpu_epilogue *ep)
{
    choose();
    /* grown here, before any thread runs: the tasks only read them */
    for (int t = 0; t < cpu_pool_threads(pool); t++)
        if (!cpu_pool_scratch(pool, t, (size_t)cpu_gemm_pack_floats(K) * sizeof(float)))
            return -1;
    int64_t panels = (N + g_nr - 1) / g_nr;
    int threads = cpu_pool_threads(pool);
    gemm_job j = {M, N, K, lda, ldb, ldc, a, b, prepacked, c, b_rows_are_n, panels < 2 * threads, ep, pool};
    /* enough work per thread to pay for the hand-off (about 2 MFLOP) */
    if (2.0 * (double)M * (double)N * (double)K < 2e6) {
        gemm_task(&j, 0, j.by_rows ? M : panels, 0);
        return 0;
    }
    if (j.by_rows)
        cpu_pool_run(pool, M, MR, gemm_task, &j);
    else
        cpu_pool_run(pool, panels, 1, gemm_task, &j);
    return 0;
}
