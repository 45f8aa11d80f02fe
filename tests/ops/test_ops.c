/* Every op on the Vulkan device against its scalar C reference, in the
 * style of ggml's test-backend-ops: seeded uniform [-1, 1] inputs, shapes
 * that are not tile multiples, batches of one, and a normalised-MSE plus
 * max-abs-or-rel tolerance stated per op. Validation layers are on, and any
 * message they print fails the run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test_util.h"
#include "backend.h"
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
    vkr_pipeline *p = NULL;
    static const uint32_t not_spirv[8] = {0xdeadbeef, 1, 2, 3, 4, 5, 6, 7};
    vkr_pipeline_desc d = {0};
    d.name = "bogus";
    d.spirv = not_spirv;
    d.spirv_bytes = sizeof not_spirv;
    CHECK(vkr_pipeline_create(wk_backend_vkr(g_be), &d, &p, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not SPIR-V");
    wk_tensor_free(g_be, &o);
    wk_tensor_free(g_be, &w);
    wk_tensor_free(g_be, &a);
}

int main(void)
{
    char err[512];
    wk_backend_options opt = {1, 0, NULL};
    if (wk_backend_create(&opt, &g_be, err, sizeof err) != 0) {
        fprintf(stderr, "test_ops: %s\n", err);
        return 1;
    }
    printf("device: %s (%s)\n", wk_backend_device_name(g_be), wk_backend_device_type(g_be));
    test_matmul();
    test_errors();
    uint32_t messages = wk_backend_validation_messages(g_be);
    wk_backend_destroy(g_be);
    printf("validation messages: %u\n", messages);
    CHECK(messages == 0);
    return test_finish("test_ops");
}
