/* Every op on every backend against its scalar C reference, in the style
 * of ggml's test-backend-ops: seeded uniform [-1, 1] inputs, shapes that
 * are not tile multiples, batches of one, and a normalised-MSE plus
 * max-abs-or-rel tolerance stated per op. The suite runs on the Vulkan
 * device (validation layers on: any message fails the run, its forced
 * kernel variants too) and on the CPU backend with each kernel this CPU
 * can run (AVX-512, AVX2, portable). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test_util.h"
#include "backend.h"
#include "half.h"
#include "ops_ref.h"

static wk_backend *g_be;
static uint64_t g_rng = 12345;

static float urand(void)
{
    g_rng = g_rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((g_rng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static float *rand_array(int64_t n)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; i < n; i++)
        x[i] = urand();
    return x;
}

/* Normalised MSE (sum (x - y)^2 / sum y^2) and worst abs-or-rel error. */
static int compare(const char *what, const float *got, const float *want, int64_t n, double max_nmse, double max_err)
{
    double se = 0, sy = 0, worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)got[i] - (double)want[i];
        se += d * d;
        sy += (double)want[i] * want[i];
        double e = fabs(d) / (fabs(want[i]) > 1.0 ? fabs(want[i]) : 1.0);
        if (!(e <= worst)) /* also catches NaN */
            worst = e;
    }
    double nmse = sy > 0 ? se / sy : se;
    int ok = nmse <= max_nmse && worst <= max_err;
    printf("  %-44s nmse %.2e (max %.0e)  err %.2e (max %.0e)  %s\n", what, nmse, max_nmse, worst, max_err,
           ok ? "ok" : "FAIL");
    CHECK(ok);
    return ok;
}

static void upload(wk_tensor *t, const float *x, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3)
{
    char err[256];
    CHECK(wk_tensor_alloc(g_be, t, ne0, ne1, ne2, ne3, err, sizeof err) == 0);
    if (x)
        CHECK(wk_tensor_set(g_be, t, x, err, sizeof err) == 0);
}

static void run_matmul(int64_t batch, int64_t M, int64_t N, int64_t K, int use_bias, int use_res, int act)
{
    char err[256], name[96];
    float *a = rand_array(batch * M * K), *w = rand_array(N * K), *bias = rand_array(N), *res = rand_array(batch * M * N);
    float *want = malloc(sizeof(float) * (size_t)(batch * M * N)), *got = malloc(sizeof(float) * (size_t)(batch * M * N));
    ref_matmul(a, w, use_bias ? bias : NULL, use_res ? res : NULL, act, batch, M, N, K, want);
    wk_tensor ta, tw, tb, tr, to;
    upload(&ta, a, K, M, batch, 1);
    upload(&tw, w, K, N, 1, 1);
    upload(&tb, bias, N, 1, 1, 1);
    upload(&tr, res, N, M, batch, 1);
    upload(&to, NULL, N, M, batch, 1);
    int ok = wk_begin(g_be, err, sizeof err) == 0 &&
             wk_matmul(g_be, &ta, &tw, use_bias ? &tb : NULL, use_res ? &tr : NULL, (wk_act)act, &to, err, sizeof err) == 0 &&
             wk_end(g_be, err, sizeof err) == 0 && wk_tensor_get(g_be, &to, got, err, sizeof err) == 0;
    if (!ok)
        fprintf(stderr, "matmul failed: %s\n", err);
    CHECK(ok);
    snprintf(name, sizeof name, "matmul b%lld M%lld N%lld K%lld%s%s act%d", (long long)batch, (long long)M, (long long)N,
             (long long)K, use_bias ? " +bias" : "", use_res ? " +res" : "", act);
    /* fp32 sums of K products: error grows like sqrt(K) * eps */
    compare(name, got, want, batch * M * N, 1e-10, 1e-4);
    wk_tensor_free(g_be, &to);
    wk_tensor_free(g_be, &tr);
    wk_tensor_free(g_be, &tb);
    wk_tensor_free(g_be, &tw);
    wk_tensor_free(g_be, &ta);
    free(a), free(w), free(bias), free(res), free(want), free(got);
}

static int run_and_get(int recorded, wk_tensor *out, float *got, const char *what);
static int begin(void);
static void test_matmul_gated(void);

/* f16 storage: weights (and activations) as halves, maths in f32. The
 * reference sees the same rounded values, so only summation order differs. */
static void test_matmul_f16(void)
{
    char err[256];
    int64_t M = 21, N = 40, K = 36;
    float *a = rand_array(M * K), *w = rand_array(N * K), *bias = rand_array(N);
    float *want = malloc(sizeof(float) * (size_t)(M * N)), *got = malloc(sizeof(float) * (size_t)(M * N));
    for (int64_t i = 0; i < N * K; i++)
        w[i] = half_to_float(half_from_float(w[i]));
    for (int64_t i = 0; i < M * K; i++)
        a[i] = half_to_float(half_from_float(a[i]));
    ref_matmul(a, w, bias, NULL, 0, 1, M, N, K, want);
    wk_tensor ta, tw, tb, to;
    if (!strcmp(wk_backend_name(g_be), "cpu")) {
        /* the CPU backend holds no f16: a clear refusal, not a wrong result */
        CHECK(wk_tensor_alloc_f16(g_be, &ta, K, M, 1, 1, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "cannot hold f16");
        free(a), free(w), free(bias), free(want), free(got);
        return;
    }
    CHECK(wk_tensor_alloc_f16(g_be, &ta, K, M, 1, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc_f16(g_be, &tw, K, N, 1, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_set(g_be, &ta, a, err, sizeof err) == 0);
    CHECK(wk_tensor_set(g_be, &tw, w, err, sizeof err) == 0);
    upload(&tb, bias, N, 1, 1, 1);
    upload(&to, NULL, N, M, 1, 1);
    int rec = begin() && wk_matmul(g_be, &ta, &tw, &tb, NULL, WK_ACT_NONE, &to, err, sizeof err) == 0;
    if (run_and_get(rec, &to, got, "matmul f16"))
        compare("matmul f16 a and w, M21 N40 K36 +bias", got, want, M * N, 1e-10, 1e-4);
    float *back = malloc(sizeof(float) * (size_t)(N * K));
    CHECK(wk_tensor_get(g_be, &tw, back, err, sizeof err) == 0);
    compare("f16 tensor set/get round trip", back, w, N * K, 0, 0);
    wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tb), wk_tensor_free(g_be, &tw), wk_tensor_free(g_be, &ta);
    free(a), free(w), free(bias), free(want), free(got), free(back);
    /* the conversions themselves, at the edges of the format */
    CHECK(half_to_float(half_from_float(65504.0f)) == 65504.0f);
    CHECK(isinf(half_to_float(half_from_float(1e6f))));
    CHECK(half_to_float(half_from_float(5.9604645e-8f)) == 5.9604645e-8f); /* smallest subnormal */
    CHECK(half_to_float(half_from_float(-0.333251953125f)) == -0.333251953125f);
    CHECK(half_from_float(1.0f + 1.0f / 4096.0f) == half_from_float(1.0f)); /* ties go to even */
}

static void test_matmul(void)
{
    run_matmul(1, 1, 1, 1, 0, 0, 0);
    run_matmul(1, 64, 64, 64, 0, 0, 0);
    run_matmul(1, 37, 53, 68, 1, 0, 0);   /* not tile multiples, K % 4 == 0 */
    run_matmul(1, 29, 70, 33, 1, 1, 1);   /* K % 4 != 0: the scalar path */
    run_matmul(3, 17, 45, 24, 1, 1, 2);   /* a batch sharing w */
    run_matmul(1, 64, 768, 256, 1, 0, 1); /* a transformer MLP layer */
    run_matmul(2, 9, 7, 5, 0, 1, 0);
}

static void test_errors(void)
{
    char err[256] = "";
    wk_tensor a, w, o;
    upload(&a, NULL, 8, 4, 1, 1);
    upload(&w, NULL, 7, 4, 1, 1);
    upload(&o, NULL, 4, 4, 1, 1);
    CHECK(wk_begin(g_be, err, sizeof err) == 0);
    CHECK(wk_matmul(g_be, &a, &w, NULL, NULL, WK_ACT_NONE, &o, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "shapes do not fit");
    CHECK(wk_end(g_be, err, sizeof err) == 0);
    wk_tensor big;
    CHECK(wk_tensor_alloc(g_be, &big, (int64_t)1 << 40, 1, 1, 1, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "larger than");
    CHECK(wk_tensor_alloc(g_be, &big, 0, 1, 1, 1, err, sizeof err) == -1);
    wk_tensor_free(g_be, &o);
    wk_tensor_free(g_be, &w);
    wk_tensor_free(g_be, &a);
}


/* Runs the recorded ops and reads `out` back into got. */
static int run_and_get(int recorded, wk_tensor *out, float *got, const char *what)
{
    char err[256] = "";
    int ok = recorded && wk_end(g_be, err, sizeof err) == 0 && wk_tensor_get(g_be, out, got, err, sizeof err) == 0;
    if (!ok)
        fprintf(stderr, "%s failed: %s\n", what, err);
    CHECK(ok);
    return ok;
}

static int begin(void)
{
    char err[256];
    return wk_begin(g_be, err, sizeof err) == 0;
}

static void test_matmul_gated(void)
{
    char err[256];
    int64_t batch = 3, M = 11, N = 20, K = 16;
    float *a = rand_array(batch * M * K), *w = rand_array(N * K), *res = rand_array(batch * M * N);
    float *gate = rand_array(batch * 3 * N + 5);
    float *want = malloc(sizeof(float) * (size_t)(batch * M * N)), *got = malloc(sizeof(float) * (size_t)(batch * M * N));
    ref_matmul(a, w, NULL, NULL, 1, batch, M, N, K, want);
    for (int64_t b = 0; b < batch; b++)
        for (int64_t i = 0; i < M * N; i++)
            want[b * M * N + i] = res[b * M * N + i] + gate[b * 3 * N + 5 + i % N] * want[b * M * N + i];
    wk_tensor ta, tw, tr, tg, to;
    upload(&ta, a, K, M, batch, 1);
    upload(&tw, w, K, N, 1, 1);
    upload(&tr, res, N, M, batch, 1);
    upload(&tg, gate, batch * 3 * N + 5, 1, 1, 1);
    upload(&to, NULL, N, M, batch, 1);
    wk_gate g = {&tg, 3 * N, 5};
    int rec = begin() && wk_matmul_gated(g_be, &ta, &tw, NULL, &tr, WK_ACT_GELU, &g, &to, err, sizeof err) == 0;
    if (run_and_get(rec, &to, got, "matmul_gated"))
        compare("matmul gated b3 M11 N20 K16 +res gelu", got, want, batch * M * N, 1e-10, 1e-4);
    wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tg), wk_tensor_free(g_be, &tr);
    wk_tensor_free(g_be, &tw), wk_tensor_free(g_be, &ta);
    free(a), free(w), free(res), free(gate), free(want), free(got);
}

static void run_norm(wk_norm_kind kind, int64_t rows, int64_t D, int affine, int modulate)
{
    char err[256], name[96];
    int64_t rpi = 7, items = (rows + rpi - 1) / rpi, stride = 6 * D;
    float *x = rand_array(rows * D), *gamma = rand_array(D), *beta = rand_array(D), *mod = rand_array(items * stride);
    for (int64_t i = 0; i < rows * D; i++)
        x[i] = x[i] * 3.0f + 0.5f; /* a non-zero mean */
    float *want = malloc(sizeof(float) * (size_t)(rows * D)), *got = malloc(sizeof(float) * (size_t)(rows * D));
    ref_norm(x, rows, D, kind, affine ? gamma : NULL, affine ? beta : NULL, modulate ? mod : NULL, rpi, stride, D,
             4 * D, 1e-6f, want);
    wk_tensor tx, tgm, tb, tm, to;
    upload(&tx, x, D, rows, 1, 1);
    upload(&tgm, gamma, D, 1, 1, 1);
    upload(&tb, beta, D, 1, 1, 1);
    upload(&tm, mod, stride, items, 1, 1);
    upload(&to, NULL, D, rows, 1, 1);
    wk_modulation m = {&tm, rpi, stride, D, 4 * D};
    int rec = begin() && wk_norm(g_be, kind, &tx, affine ? &tgm : NULL, affine && kind == WK_NORM_LAYER ? &tb : NULL,
                                 modulate ? &m : NULL, 1e-6f, &to, err, sizeof err) == 0;
    snprintf(name, sizeof name, "%s rows%lld D%lld%s%s", kind == WK_NORM_LAYER ? "layernorm" : "rmsnorm",
             (long long)rows, (long long)D, affine ? " affine" : "", modulate ? " adaLN" : "");
    if (run_and_get(rec, &to, got, name))
        compare(name, got, want, rows * D, 1e-11, 1e-4);
    wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tm), wk_tensor_free(g_be, &tb);
    wk_tensor_free(g_be, &tgm), wk_tensor_free(g_be, &tx);
    free(x), free(gamma), free(beta), free(mod), free(want), free(got);
}

static void run_eltwise(int op, int64_t n, int64_t nb)
{
    static const char *names[] = {"add", "mul", "gelu", "silu", "clamp", "exp", "copy", "axpby", "sigmoid"};
    char err[256], name[64];
    float *a = rand_array(n), *b = rand_array(nb);
    for (int64_t i = 0; i < n; i++)
        a[i] *= 4.0f; /* reach the tails of gelu and silu */
    if (op == 8)
        a[0] = -100.0f, a[1] = 100.0f; /* exp(-a) overflows: sigmoid must still give 0 and 1 */
    float *want = malloc(sizeof(float) * (size_t)n), *got = malloc(sizeof(float) * (size_t)n);
    ref_eltwise(op, a, b, n, nb, -0.5f, 0.7f, want);
    wk_tensor ta, tb, to;
    upload(&ta, a, n, 1, 1, 1);
    upload(&tb, b, nb, 1, 1, 1);
    upload(&to, NULL, n, 1, 1, 1);
    int rec = begin();
    if (op == 0)
        rec = rec && wk_add(g_be, &ta, &tb, &to, err, sizeof err) == 0;
    else if (op == 1)
        rec = rec && wk_mul(g_be, &ta, &tb, &to, err, sizeof err) == 0;
    else if (op == 2)
        rec = rec && wk_gelu(g_be, &ta, &to, err, sizeof err) == 0;
    else if (op == 3)
        rec = rec && wk_silu(g_be, &ta, &to, err, sizeof err) == 0;
    else if (op == 4)
        rec = rec && wk_clamp(g_be, &ta, -0.5f, 0.7f, &to, err, sizeof err) == 0;
    else if (op == 5)
        rec = rec && wk_exp(g_be, &ta, &to, err, sizeof err) == 0;
    else if (op == 6)
        rec = rec && wk_copy(g_be, &ta, &to, err, sizeof err) == 0;
    else if (op == 7)
        rec = rec && wk_axpby(g_be, -0.5f, &ta, 0.7f, &tb, &to, err, sizeof err) == 0;
    else
        rec = rec && wk_sigmoid(g_be, &ta, &to, err, sizeof err) == 0;
    snprintf(name, sizeof name, "%s n%lld nb%lld", names[op], (long long)n, (long long)nb);
    if (run_and_get(rec, &to, got, name))
        compare(name, got, want, n, 1e-12, 1e-5);
    wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tb), wk_tensor_free(g_be, &ta);
    free(a), free(b), free(want), free(got);
}

/* The non-finite flag: set by one NaN or infinity anywhere (first, last, a
 * lone one in the middle of an odd count), left alone by finite data,
 * including the largest floats. */
static void test_flag_nonfinite(void)
{
    char err[256], name[64];
    const int64_t n = 12289;
    const int64_t where[] = {0, 6144, n - 1};
    const float bad[] = {NAN, INFINITY, -INFINITY};
    for (int case_i = 0; case_i < 10; case_i++) {
        float *a = rand_array(n);
        a[1] = FLT_MAX, a[2] = -FLT_MAX;
        int want = case_i < 9;
        if (want)
            a[where[case_i % 3]] = bad[case_i / 3];
        float flag = 0.0f, got = -1.0f, ref = 0.0f;
        ref_eltwise(9, a, NULL, n, 1, 0, 0, &ref);
        wk_tensor ta, tf;
        upload(&ta, a, n, 1, 1, 1);
        upload(&tf, &flag, 1, 1, 1, 1);
        int rec = begin() && wk_flag_nonfinite(g_be, &ta, &tf, err, sizeof err) == 0;
        snprintf(name, sizeof name, "flag_nonfinite case %d", case_i);
        if (run_and_get(rec, &tf, &got, name)) {
            CHECK(got == (want ? 1.0f : 0.0f));
            CHECK(ref == got);
        }
        wk_tensor_free(g_be, &tf), wk_tensor_free(g_be, &ta);
        free(a);
    }
    /* a flag already set stays set */
    float *a = rand_array(65), one = 1.0f, got = 0.0f;
    wk_tensor ta, tf;
    upload(&ta, a, 65, 1, 1, 1);
    upload(&tf, &one, 1, 1, 1, 1);
    int rec = begin() && wk_flag_nonfinite(g_be, &ta, &tf, err, sizeof err) == 0;
    if (run_and_get(rec, &tf, &got, "flag_nonfinite keeps a set flag"))
        CHECK(got == 1.0f);
    wk_tensor_free(g_be, &tf), wk_tensor_free(g_be, &ta);
    free(a);
}

/* Ops write through views into a bigger tensor and leave the rest alone. */
static void test_views(void)
{
    char err[256];
    float *a = rand_array(64), *big = rand_array(256), *got = malloc(sizeof(float) * 256);
    wk_tensor ta, tbig, view;
    upload(&ta, a, 64, 1, 1, 1);
    upload(&tbig, big, 256, 1, 1, 1);
    CHECK(wk_tensor_view(g_be, &tbig, 128, 64, 1, 1, 1, &view, err, sizeof err) == 0);
    int rec = begin() && wk_copy(g_be, &ta, &view, err, sizeof err) == 0;
    if (run_and_get(rec, &tbig, got, "view")) {
        compare("copy into a view: the view", got + 128, a, 64, 0, 0);
        compare("copy into a view: the rest before", got, big, 128, 0, 0);
        compare("copy into a view: the rest after", got + 192, big + 192, 64, 0, 0);
    }
    wk_tensor bad;
    CHECK(wk_tensor_view(g_be, &tbig, 200, 64, 1, 1, 1, &bad, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "does not fit");
    if (!strcmp(wk_backend_name(g_be), "cpu")) {
        /* host memory has no binding alignment: any offset is a view */
        CHECK(wk_tensor_view(g_be, &tbig, 1, 4, 1, 1, 1, &bad, err, sizeof err) == 0);
        wk_tensor_view_release(g_be, &bad);
    } else {
        CHECK(wk_tensor_view(g_be, &tbig, 1, 4, 1, 1, 1, &bad, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "alignment");
    }
    wk_tensor_view_release(g_be, &view);
    wk_tensor_free(g_be, &tbig), wk_tensor_free(g_be, &ta);
    free(a), free(big), free(got);
}

static void test_rope(void)
{
    char err[256];
    int64_t tokens = 13, heads = 3, dh = 10;
    float *x = rand_array(tokens * heads * dh), *pos = rand_array(tokens);
    for (int64_t t = 0; t < tokens; t++)
        pos[t] = (float)t * 1.5f - 4.0f; /* negative and fractional positions */
    float *want = malloc(sizeof(float) * (size_t)(tokens * heads * dh)), *got = malloc(sizeof(float) * (size_t)(tokens * heads * dh));
    ref_rope(x, pos, tokens, heads, dh, 100.0f, want);
    wk_tensor tx, tp, to;
    upload(&tx, x, dh, heads, tokens, 1);
    upload(&tp, pos, tokens, 1, 1, 1);
    upload(&to, NULL, dh, heads, tokens, 1);
    int rec = begin() && wk_rope(g_be, &tx, &tp, 100.0f, &to, err, sizeof err) == 0;
    if (run_and_get(rec, &to, got, "rope"))
        compare("rope tokens13 heads3 dh10", got, want, tokens * heads * dh, 1e-11, 1e-5);
    wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tp), wk_tensor_free(g_be, &tx);
    free(x), free(pos), free(want), free(got);
}

static void run_attention(int64_t N, int64_t R, int64_t S, int heads, int64_t dh, int64_t G)
{
    char err[256], name[96];
    int64_t D = heads * dh;
    float *q = rand_array(N * D), *k = rand_array(R * D), *v = rand_array(R * D), *e = rand_array(G * D);
    uint32_t *rows = malloc(sizeof(uint32_t) * (size_t)S), *groups = malloc(sizeof(uint32_t) * (size_t)S);
    for (int64_t s = 0; s < S; s++) {
        rows[s] = (uint32_t)((s * 7 + 3) % R); /* a scattered gather, repeats allowed */
        groups[s] = (uint32_t)(s % G);
    }
    float *want = malloc(sizeof(float) * (size_t)(N * D)), *got = malloc(sizeof(float) * (size_t)(N * D));
    float scale = 1.0f / sqrtf((float)dh) * 3.0f; /* sharper than usual */
    ref_attention(q, k, v, rows, groups, e, N, S, D, heads, scale, want);
    wk_tensor tq, tk, tv, tr, tg, te, to;
    upload(&tq, q, D, N, 1, 1);
    upload(&tk, k, D, R, 1, 1);
    upload(&tv, v, D, R, 1, 1);
    upload(&te, e, D, G, 1, 1);
    upload(&tr, NULL, S, 1, 1, 1);
    upload(&tg, NULL, S, 1, 1, 1);
    CHECK(wk_tensor_set_u32(g_be, &tr, rows, err, sizeof err) == 0);
    CHECK(wk_tensor_set_u32(g_be, &tg, groups, err, sizeof err) == 0);
    upload(&to, NULL, D, N, 1, 1);
    int rec = begin() && wk_attention(g_be, &tq, &tk, &tv, &tr, &tg, &te, heads, scale, &to, err, sizeof err) == 0;
    snprintf(name, sizeof name, "attention N%lld S%lld heads%d dh%lld G%lld", (long long)N, (long long)S, heads,
             (long long)dh, (long long)G);
    if (run_and_get(rec, &to, got, name))
        compare(name, got, want, N * D, 1e-10, 1e-4);
    wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tg), wk_tensor_free(g_be, &tr), wk_tensor_free(g_be, &te);
    wk_tensor_free(g_be, &tv), wk_tensor_free(g_be, &tk), wk_tensor_free(g_be, &tq);
    free(q), free(k), free(v), free(e), free(rows), free(groups), free(want), free(got);
}

static void run_conv(int64_t cin, int64_t h, int64_t w, int64_t cout, int k, int stride, int pad, int groups,
                     int channels_last, int act, int use_bias)
{
    char err[256], name[128];
    int64_t ho = (h + 2 * pad - k) / stride + 1, wo = (w + 2 * pad - k) / stride + 1;
    float *x = rand_array(cin * h * w), *wt = rand_array(cout * (cin / groups) * k * k), *b = rand_array(cout);
    float *want = malloc(sizeof(float) * (size_t)(cout * ho * wo)), *got = malloc(sizeof(float) * (size_t)(cout * ho * wo));
    ref_conv2d(x, wt, use_bias ? b : NULL, cin, h, w, cout, k, stride, pad, groups, channels_last, act, want);
    wk_tensor tx, tw, tb, to;
    if (channels_last) {
        upload(&tx, x, cin, w, h, 1);
        upload(&to, NULL, cout, wo, ho, 1);
    } else {
        upload(&tx, x, w, h, cin, 1);
        upload(&to, NULL, wo, ho, cout, 1);
    }
    upload(&tw, wt, k, k, cin / groups, cout);
    upload(&tb, b, cout, 1, 1, 1);
    wk_conv_params cp = {k, stride, pad, groups, channels_last, (wk_act)act};
    int rec = begin() && wk_conv2d(g_be, &tx, &tw, use_bias ? &tb : NULL, &cp, &to, err, sizeof err) == 0;
    snprintf(name, sizeof name, "conv2d %lldx%lldx%lld->%lld k%d s%d p%d g%d%s act%d", (long long)cin, (long long)h,
             (long long)w, (long long)cout, k, stride, pad, groups, channels_last ? " cl" : "", act);
    if (run_and_get(rec, &to, got, name))
        compare(name, got, want, cout * ho * wo, 1e-11, 1e-4);
    wk_tensor_free(g_be, &tb), wk_tensor_free(g_be, &tw), wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tx);
    free(x), free(wt), free(b), free(want), free(got);
}

static void test_resample_and_patch(void)
{
    char err[256];
    int64_t c = 3, h = 5, w = 7, f = 3;
    float *x = rand_array(c * f * f * h * w);
    float *want = malloc(sizeof(float) * (size_t)(c * f * f * h * w)), *got = malloc(sizeof(float) * (size_t)(c * f * f * h * w));
    wk_tensor tx, to, tps, tpo;
    upload(&tx, x, w, h, c, 1);
    upload(&to, NULL, w * f, h * f, c, 1);
    ref_upsample_nearest(x, c, h, w, (int)f, want);
    int rec = begin() && wk_upsample_nearest(g_be, &tx, (int)f, &to, err, sizeof err) == 0;
    if (run_and_get(rec, &to, got, "upsample"))
        compare("upsample nearest 3x5x7 by 3", got, want, c * h * w * f * f, 0, 0);
    upload(&tps, x, w, h, c * f * f, 1);
    upload(&tpo, NULL, w * f, h * f, c, 1);
    ref_pixel_shuffle(x, c, h, w, (int)f, want);
    rec = begin() && wk_pixel_shuffle(g_be, &tps, (int)f, &tpo, err, sizeof err) == 0;
    if (run_and_get(rec, &tpo, got, "pixel_shuffle"))
        compare("pixel shuffle 27x5x7 by 3", got, want, c * h * w * f * f, 0, 0);
    wk_tensor_free(g_be, &tpo), wk_tensor_free(g_be, &tps), wk_tensor_free(g_be, &to), wk_tensor_free(g_be, &tx);

    int64_t pc = 3, ph = 24, pw = 16, p = 8, tokens = (ph / p) * (pw / p);
    float *img = rand_array(pc * ph * pw);
    float *tok_want = malloc(sizeof(float) * (size_t)(pc * ph * pw)), *tok_got = malloc(sizeof(float) * (size_t)(pc * ph * pw));
    wk_tensor ti, tt, tback;
    upload(&ti, img, pw, ph, pc, 1);
    upload(&tt, NULL, pc * p * p, tokens, 1, 1);
    upload(&tback, NULL, pw, ph, pc, 1);
    ref_patchify(img, pc, ph, pw, (int)p, tok_want);
    rec = begin() && wk_patchify(g_be, &ti, (int)p, &tt, err, sizeof err) == 0 &&
          wk_unpatchify(g_be, &tt, (int)p, &tback, err, sizeof err) == 0;
    if (run_and_get(rec, &tt, tok_got, "patchify")) {
        compare("patchify 3x24x16 p8", tok_got, tok_want, pc * ph * pw, 0, 0);
        CHECK(wk_tensor_get(g_be, &tback, tok_got, err, sizeof err) == 0);
        compare("unpatchify(patchify(x)) == x", tok_got, img, pc * ph * pw, 0, 0);
    }
    wk_tensor_free(g_be, &tback), wk_tensor_free(g_be, &tt), wk_tensor_free(g_be, &ti);
    free(x), free(want), free(got), free(img), free(tok_want), free(tok_got);
}

/* A camera at (x, 1.6, z) with the given yaw and pitch, as the world has it. */
static wk_camera camera(float x, float z, float yaw_deg, float pitch_deg)
{
    double y = yaw_deg * M_PI / 180.0, p = pitch_deg * M_PI / 180.0;
    wk_camera c = {{x, 1.6f, z},
                   {(float)(sin(y) * cos(p)), (float)sin(p), (float)(-cos(y) * cos(p))},
                   {(float)cos(y), 0.0f, (float)sin(y)},
                   {(float)(-sin(y) * sin(p)), (float)cos(p), (float)(cos(y) * sin(p))}};
    return c;
}

static void test_warp(wk_warp_filter filter)
{
    char err[256];
    int64_t c = 3, h = 36, w = 44;
    float *src = rand_array(c * h * w), *depth = rand_array(h * w);
    for (int64_t y = 0; y < h; y++)
        for (int64_t x = 0; x < w; x++) /* a slanted wall with a box in front of it */
            depth[y * w + x] = (x > 15 && x < 25 && y > 10 && y < 20) ? 2.0f : 4.0f + 0.05f * (float)x;
    wk_camera from = camera(3.0f, 4.0f, 10.0f, 0.0f), to = camera(3.1f, 3.9f, 14.5f, 3.0f);
    float focal = 0.5f * (float)w / tanf(33.0f * (float)M_PI / 180.0f);
    float *want = malloc(sizeof(float) * (size_t)((c + 1) * h * w)), *got = malloc(sizeof(float) * (size_t)((c + 1) * h * w));
    ref_warp(src, depth, c, h, w, &from.centre[0], &to.centre[0], focal, (int)filter, want);
    wk_tensor ts, td, to_t;
    upload(&ts, src, w, h, c, 1);
    upload(&td, depth, w, h, 1, 1);
    upload(&to_t, NULL, w, h, c + 1, 1);
    int rec = begin() && wk_warp(g_be, &ts, &td, &from, &to, focal, filter, &to_t, err, sizeof err) == 0;
    if (run_and_get(rec, &to_t, got, "warp")) {
        /* GPU and C round the same float steps slightly differently; a pixel
         * whose nearest-depth lookup lands on a tie can flip, so allow 1%. */
        int64_t n = (c + 1) * h * w, off = 0, valid = 0;
        for (int64_t i = 0; i < n; i++)
            off += fabsf(got[i] - want[i]) > 1e-3f;
        for (int64_t i = c * h * w; i < n; i++)
            valid += want[i] > 0.5f;
        printf("  warp 3x36x44 move+turn+tilt, %s: %lld of %lld values differ, %lld valid pixels\n",
               filter ? "Catmull-Rom" : "bilinear", (long long)off, (long long)n, (long long)valid);
        CHECK(off <= n / 100);
        CHECK(valid > h * w / 2 && valid < h * w); /* something moved out of view or was hidden */
    }
    wk_tensor_free(g_be, &to_t), wk_tensor_free(g_be, &td), wk_tensor_free(g_be, &ts);
    free(src), free(depth), free(want), free(got);
}

/* Decodes code i of q (bits 8 or 4), sign-extended. */
static int code_at(const uint32_t *q, int bits, int64_t i)
{
    int per = 32 / bits;
    uint32_t field = q[i / per] >> (bits * (i % per)) & ((1u << bits) - 1u);
    return field >> (bits - 1) ? (int)field - (1 << bits) : (int)field;
}

/* Quantized slots, int8 and int4: scales to 1e-6 relative; codes equal to
 * the reference's (a device's division may be off by its 2.5-ulp
 * allowance, which can move a value sitting on a half step: at most one
 * code in a thousand may differ, by one); dequantize of the device's codes
 * matches the reference exactly and each value is within half a step of
 * the input. Channel magnitudes spread 100x, and one channel is all zero. */
static void run_quant(int bits, int64_t tokens, int64_t dim)
{
    char err[256], name[96];
    int64_t per = 32 / bits, words = tokens * dim / per;
    float *x = rand_array(tokens * dim), *scale_want = malloc(sizeof(float) * (size_t)dim);
    float *scale_got = malloc(sizeof(float) * (size_t)dim), *back = malloc(sizeof(float) * (size_t)(tokens * dim));
    float *back_want = malloc(sizeof(float) * (size_t)(tokens * dim));
    uint32_t *q_want = malloc(sizeof(uint32_t) * (size_t)words), *q_got = malloc(sizeof(uint32_t) * (size_t)words);
    for (int64_t n = 0; n < tokens; n++)
        for (int64_t c = 0; c < dim; c++)
            x[n * dim + c] *= c == dim / 2 ? 0.0f : 0.05f + 5.0f * (float)c / (float)dim;
    ref_quantize(bits, x, tokens, dim, q_want, scale_want);
    wk_tensor tx, tq, ts, tb;
    upload(&tx, x, dim, tokens, 1, 1);
    CHECK(wk_tensor_alloc_u32(g_be, &tq, dim / per, tokens, 1, 1, err, sizeof err) == 0);
    upload(&ts, NULL, dim, 1, 1, 1);
    upload(&tb, NULL, dim, tokens, 1, 1);
    int rec = begin() && wk_quantize(g_be, bits, &tx, &tq, &ts, err, sizeof err) == 0 &&
              wk_dequantize(g_be, bits, &tq, &ts, &tb, err, sizeof err) == 0;
    snprintf(name, sizeof name, "quantize int%d %lld tokens x %lld", bits, (long long)tokens, (long long)dim);
    if (run_and_get(rec, &tb, back, name) && wk_tensor_get(g_be, &ts, scale_got, err, sizeof err) == 0 &&
        wk_tensor_get(g_be, &tq, (float *)(void *)q_got, err, sizeof err) == 0) {
        compare(name, scale_got, scale_want, dim, 1e-12, 1e-6);
        int64_t differ = 0, far = 0, loose = 0, qmax = (1 << (bits - 1)) - 1, out_of_range = 0;
        for (int64_t i = 0; i < tokens * dim; i++) {
            int a = code_at(q_got, bits, i), b = code_at(q_want, bits, i);
            differ += a != b;
            far += abs(a - b) > 1;
            out_of_range += a > qmax || a < -qmax;
            loose += fabsf(back[i] - x[i]) > 0.5f * scale_want[i % dim] * (1.0f + 1e-5f) + 1e-12f;
        }
        ref_dequantize(bits, q_got, scale_got, tokens, dim, back_want);
        printf("  %-44s codes differing %lld of %lld, off by more than 1: %lld, beyond half a step: %lld\n", name,
               (long long)differ, (long long)(tokens * dim), (long long)far, (long long)loose);
        CHECK(far == 0 && differ * 1000 <= tokens * dim && loose <= differ && out_of_range == 0);
        compare("dequantize of the device's codes", back, back_want, tokens * dim, 0, 0);
    }
    wk_tensor_free(g_be, &tb), wk_tensor_free(g_be, &ts), wk_tensor_free(g_be, &tq), wk_tensor_free(g_be, &tx);
    free(x), free(scale_want), free(scale_got), free(back), free(back_want), free(q_want), free(q_got);
}

/* The codes' layout, by hand: int4 packs channel 8i + j in bits 4j upward,
 * two's complement; int8 channel 4i + j in byte j. A mistake in either
 * shift would pass the round trip above but not this. */
static void test_quant_layout(void)
{
    float x[8] = {7, -7, 1, -1, 0, 3.5f, -2, 6}, scale4[8], scale8[8];
    uint32_t q4[1], q8[2];
    ref_quantize(4, x, 1, 8, q4, scale4); /* one token: every scale is |x| / 7, so codes are +-7 or 0 */
    CHECK(q4[0] == (0x7u | 0x9u << 4 | 0x7u << 8 | 0x9u << 12 | 0x0u << 16 | 0x7u << 20 | 0x9u << 24 | 0x7u << 28));
    ref_quantize(8, x, 1, 8, q8, scale8);
    CHECK(q8[0] == (0x7fu | 0x81u << 8 | 0x7fu << 16 | 0x81u << 24));
    float back[8];
    ref_dequantize(4, q4, scale4, 1, 8, back);
    for (int i = 0; i < 8; i++)
        CHECK_NEAR(back[i], x[i], 1e-6);
}

/* Packed frames (RGB8 and binary16 depth): the words match the reference
 * (at most one in a thousand may differ by a rounding step: a device's
 * arithmetic is not bound to IEEE division), and unpacking the device's
 * words matches the reference to 1e-6. Colours beyond [-1, 1] clamp. */
static void run_frame_pack(int64_t w, int64_t h)
{
    char err[256], name[96];
    int64_t hw = w * h, words = hw + hw / 2;
    float *img = rand_array(4 * hw), *back = malloc(sizeof(float) * (size_t)(4 * hw));
    float *back_want = malloc(sizeof(float) * (size_t)(4 * hw));
    uint32_t *want = malloc(sizeof(uint32_t) * (size_t)words), *got = malloc(sizeof(uint32_t) * (size_t)words);
    for (int64_t i = 0; i < 3 * hw; i++)
        img[i] *= 1.2f;
    for (int64_t i = 3 * hw; i < 4 * hw; i++)
        img[i] = 0.1f + 50.0f * (img[i] + 1.0f);
    ref_pack_frame(img, hw, want);
    wk_tensor ti, tp, tb;
    upload(&ti, img, w, h, 4, 1);
    CHECK(wk_tensor_alloc_u32(g_be, &tp, words, 1, 1, 1, err, sizeof err) == 0);
    upload(&tb, NULL, w, h, 4, 1);
    int rec = begin() && wk_pack_frame(g_be, &ti, &tp, err, sizeof err) == 0 &&
              wk_unpack_frame(g_be, &tp, &tb, err, sizeof err) == 0;
    snprintf(name, sizeof name, "pack_frame %lldx%lld", (long long)w, (long long)h);
    if (run_and_get(rec, &tb, back, name) && wk_tensor_get(g_be, &tp, (float *)(void *)got, err, sizeof err) == 0) {
        int64_t differ = 0;
        for (int64_t i = 0; i < words; i++)
            differ += got[i] != want[i];
        printf("  %-44s words differing %lld of %lld\n", name, (long long)differ, (long long)words);
        CHECK(differ * 1000 <= words);
        ref_unpack_frame(got, hw, back_want);
        compare("unpack_frame of the device's words", back, back_want, 4 * hw, 1e-12, 1e-6);
    }
    wk_tensor_free(g_be, &tb), wk_tensor_free(g_be, &tp), wk_tensor_free(g_be, &ti);
    free(img), free(back), free(back_want), free(want), free(got);
}

static void test_ops_more(void)
{
    test_matmul_gated();
    run_norm(WK_NORM_LAYER, 1, 1, 0, 0);
    run_norm(WK_NORM_LAYER, 37, 100, 1, 0);
    run_norm(WK_NORM_LAYER, 64, 256, 0, 1);
    run_norm(WK_NORM_RMS, 19, 33, 1, 1);
    run_eltwise(0, 1001, 7);
    run_eltwise(1, 999, 999);
    run_eltwise(2, 4097, 1);
    run_eltwise(3, 77, 1);
    run_eltwise(4, 300, 1);
    run_eltwise(5, 301, 1);
    run_eltwise(6, 302, 1);
    run_eltwise(7, 303, 101);
    run_eltwise(8, 305, 1);
    test_flag_nonfinite();
    test_views();
    test_rope();
    run_attention(1, 1, 1, 1, 4, 1);
    run_attention(64, 500, 448, 4, 64, 8);   /* the student: self + sink + window + memory */
    run_attention(9, 31, 23, 3, 12, 5);      /* odd heads and dh */
    run_attention(5, 20, 40, 1, 128, 32);    /* the largest head, the most groups */
    run_conv(3, 9, 11, 5, 3, 1, 1, 1, 0, 0, 1);
    run_conv(20, 16, 16, 32, 3, 1, 1, 1, 0, 1, 1);  /* the student's output head */
    run_conv(16, 8, 8, 16, 2, 2, 0, 4, 1, 0, 1);    /* ConvKV: 2x2 stride 2, groups = heads, token grid */
    run_conv(6, 7, 5, 9, 3, 2, 1, 3, 0, 2, 0);
    run_conv(32, 13, 9, 48, 3, 2, 1, 1, 0, 1, 1);   /* the head U-Net's way down: stride 2, odd sides */
    test_resample_and_patch();
    test_quant_layout();
    run_quant(8, 1, 4);
    run_quant(8, 7, 12);
    run_quant(8, 16, 256);   /* a slot of the student: 16 compressed tokens of 256 channels */
    run_quant(8, 33, 260);
    run_quant(4, 1, 8);
    run_quant(4, 7, 24);
    run_quant(4, 16, 256);
    run_quant(4, 33, 264);
    run_frame_pack(2, 1);
    run_frame_pack(7, 6);
    run_frame_pack(64, 64);  /* a stored frame of the student */
    test_warp(WK_WARP_BILINEAR);
    test_warp(WK_WARP_CATMULL_ROM);
}

/* No driver at all, and a device name that matches nothing: clear errors
 * when Vulkan is asked for; auto falls back to the CPU and says why. */
static void test_device_errors(void)
{
    char err[512] = "";
    wk_backend *be = NULL;
    wk_backend_options want = {0, 0, "no-such-gpu", WK_BACKEND_VULKAN, 0};
    CHECK(wk_backend_create(&want, &be, err, sizeof err) == -1 && be == NULL);
    CHECK_CONTAINS(err, "no Vulkan device matches 'no-such-gpu'");
    const char *old = getenv("VK_ICD_FILENAMES");
    char saved[1024] = "";
    if (old)
        snprintf(saved, sizeof saved, "%s", old);
    setenv("VK_ICD_FILENAMES", "/nonexistent/icd.json", 1); /* the loader finds no driver */
    err[0] = 0;
    wk_backend_options vulkan = {0, 0, NULL, WK_BACKEND_VULKAN, 0};
    CHECK(wk_backend_create(&vulkan, &be, err, sizeof err) == -1 && be == NULL);
    CHECK_CONTAINS(err, "apt-get install mesa-vulkan-drivers");
    CHECK(wk_backend_create(NULL, &be, err, sizeof err) == 0 && be != NULL);
    if (be) {
        CHECK(!strcmp(wk_backend_name(be), "cpu"));
        CHECK_CONTAINS(wk_backend_reason(be), "no Vulkan");
        wk_backend_destroy(be);
    }
    if (old)
        setenv("VK_ICD_FILENAMES", saved, 1);
    else
        unsetenv("VK_ICD_FILENAMES");
}

static void suite(void)
{
    printf("backend %s: %s (%s)\n", wk_backend_name(g_be), wk_backend_device_name(g_be), wk_backend_device_type(g_be));
    test_matmul();
    test_matmul_f16();
    test_ops_more();
    test_errors();
}

int main(void)
{
    char err[512];
    /* the CPU backend, with every kernel this CPU can run */
    static const char *const kernels[] = {"avx512", "avx2", "portable"};
    for (int i = 0; i < 3; i++) {
        setenv("WORLDKV_CPU_KERNEL", kernels[i], 1);
        wk_backend_options cpu = {0, 0, NULL, WK_BACKEND_CPU, 0};
        if (wk_backend_create(&cpu, &g_be, err, sizeof err) != 0) {
            printf("cpu kernel %s: not on this CPU (%s)\n", kernels[i], err);
            continue;
        }
        suite();
        wk_backend_destroy(g_be);
    }
    unsetenv("WORLDKV_CPU_KERNEL");
    wk_backend_options opt = {1, 0, NULL, WK_BACKEND_VULKAN, 0};
    if (wk_backend_create(&opt, &g_be, err, sizeof err) != 0) {
        fprintf(stderr, "test_ops: %s\n", err);
        return 1;
    }
    suite();
    wk_backend_destroy(g_be);
    /* the GPU's tiled matmul and the direct conv loop, forced here so that
     * CI checks them too */
    setenv("WORLDKV_MATMUL", "tiled", 1);
    setenv("WORLDKV_CONV", "direct", 1);
    if (wk_backend_create(&opt, &g_be, err, sizeof err) == 0) {
        printf("forced: shared-memory tiled matmul, direct conv\n");
        test_matmul();
        test_matmul_f16();
        test_matmul_gated();
        run_conv(3, 9, 11, 5, 3, 1, 1, 1, 0, 0, 1);
        run_conv(20, 16, 16, 32, 3, 1, 1, 1, 0, 1, 1);
        wk_backend_destroy(g_be);
    } else {
        CHECK(!"backend with the tiled matmul");
    }
    unsetenv("WORLDKV_MATMUL");
    unsetenv("WORLDKV_CONV");
    test_device_errors();
    uint32_t messages = wk_total_validation_messages(); /* teardown included */
    printf("validation messages: %u\n", messages);
    CHECK(messages == 0);
    return test_finish("test_ops");
}
