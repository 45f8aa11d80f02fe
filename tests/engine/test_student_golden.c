/* The engine's student against the PyTorch reference, pass by pass, with the
 * tiny model's golden vectors (assets/golden/tiny.safetensors, written by
 * tools/train/export.py): the start frame's clean pass (depth head), then
 * frame 1's first denoising step reading the start frame as its sink, and
 * the warp of the start frame into frame 1's view. Validation layers on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test_util.h"
#include "backend.h"
#include "camera.h"
#include "model_config.h"
#include "safetensors.h"
#include "student.h"
#include "student_weights.h"

static wk_backend *g_be;
static st_file *g_golden;

static const float *golden(const char *name, int64_t count)
{
    const st_tensor *t = st_find(g_golden, name);
    CHECK(t != NULL && st_nelements(t) == count);
    if (!t || st_nelements(t) != count) {
        fprintf(stderr, "golden tensor %s missing or of the wrong size\n", name);
        return NULL;
    }
    return t->data;
}

/* Compares a device tensor with a golden one: worst abs-or-rel error. */
static void expect_close(const char *name, const wk_tensor *t, double tol)
{
    char err[256];
    int64_t n = wk_nelements(t);
    const float *want = golden(name, n);
    float *got = malloc(sizeof(float) * (size_t)n);
    if (!want || wk_tensor_get(g_be, t, got, err, sizeof err) != 0) {
        CHECK(!"readable");
        free(got);
        return;
    }
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        double e = fabs((double)got[i] - want[i]) / (fabs(want[i]) > 1.0 ? fabs(want[i]) : 1.0);
        if (!(e <= worst))
            worst = e;
    }
    printf("  %-24s %8lld values, worst error %.2e (max %.0e)  %s\n", name, (long long)n, worst, tol,
           worst <= tol ? "ok" : "FAIL");
    CHECK(worst <= tol);
    free(got);
}

/* A pass's traced embedding, conditioning and block outputs against the
 * golden values named TAG.embed, TAG.cond, TAG.block0... */
static void expect_traces(const student *s, const char *tag, int depth, double tol)
{
    char name[64], block[16];
    snprintf(name, sizeof name, "%s.embed", tag);
    expect_close(name, student_trace(s, "embed"), tol);
    snprintf(name, sizeof name, "%s.cond", tag);
    expect_close(name, student_trace(s, "cond"), tol);
    for (int l = 0; l < depth; l++) {
        snprintf(name, sizeof name, "%s.block%d", tag, l);
        snprintf(block, sizeof block, "block%d", l);
        expect_close(name, student_trace(s, block), tol);
    }
}

int main(int argc, char **argv)
{
    char err[512];
    if (argc < 2) {
        fprintf(stderr, "usage: test_student_golden TINY.safetensors\n");
        return 2;
    }
    if (st_open(argv[1], &g_golden, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    model_config cfg;
    wk_backend_options opt = {1, 0, NULL, WK_BACKEND_AUTO, 0};
    student *s = NULL;
    if (model_config_parse(st_metadata(g_golden, "config"), "tiny", &cfg, err, sizeof err) != 0 ||
        student_check_weights(g_golden, &cfg, "weights.", err, sizeof err) != 0 ||
        wk_backend_create(&opt, &g_be, err, sizeof err) != 0 ||
        student_create(g_be, g_golden, &cfg, "weights.", 1, &s, err, sizeof err) != 0) {
        fprintf(stderr, "setup: %s\n", err);
        return 1;
    }
    const int64_t D = cfg.dim, N = cfg.tokens, H = cfg.image, HW = H * H;
    const double tol = 2e-4; /* float32 in a different summation order */
    wk_tensor k_arena[16], v_arena[16], *ka[16], *va[16], image, out_depth, out_rgb, sink_src, sink_dst;
    for (int l = 0; l < cfg.depth; l++) {
        CHECK(wk_tensor_alloc(g_be, &k_arena[l], D, 2 * N, 1, 1, err, sizeof err) == 0);
        CHECK(wk_tensor_alloc(g_be, &v_arena[l], D, 2 * N, 1, 1, err, sizeof err) == 0);
        ka[l] = &k_arena[l];
        va[l] = &v_arena[l];
    }
    CHECK(wk_tensor_alloc(g_be, &image, H, H, 11, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(g_be, &out_depth, H, H, 1, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(g_be, &out_rgb, H, H, 3, 1, err, sizeof err) == 0);
    const float *poses = golden("input.poses", 4 * 5);
    float *img = calloc((size_t)(11 * HW), sizeof(float));

    /* frame 0: the clean pass over the start frame, with no context */
    printf("f0.clean (start frame, depth head)\n");
    memcpy(img, golden("input.start_rgb", 3 * HW), sizeof(float) * (size_t)(3 * HW));
    CHECK(wk_tensor_set(g_be, &image, img, err, sizeof err) == 0);
    student_pass_in p0 = {&image, 0.0f, {0}, {0}, NULL, 0, STUDENT_HEAD_DEPTH, &out_depth};
    memcpy(p0.pose, poses, sizeof p0.pose);
    student_begin(s);
    int ok = wk_begin(g_be, err, sizeof err) == 0 && student_pass(s, &p0, ka, va, err, sizeof err) == 0 &&
             wk_end(g_be, err, sizeof err) == 0;
    if (!ok) {
        fprintf(stderr, "f0 pass: %s\n", err);
        wk_abort(g_be);
    }
    CHECK(ok);
    expect_traces(s, "f0.clean", cfg.depth, tol);
    expect_close("f0.clean.out", &out_depth, tol);

    /* the start frame becomes the sink: its keys and values move to rows [N, 2N) */
    ok = wk_begin(g_be, err, sizeof err) == 0;
    for (int l = 0; ok && l < cfg.depth; l++) {
        wk_tensor *arenas[2] = {&k_arena[l], &v_arena[l]};
        for (int a = 0; ok && a < 2; a++) {
            ok = wk_tensor_view(g_be, arenas[a], 0, D, N, 1, 1, &sink_src, err, sizeof err) == 0 &&
                 wk_tensor_view(g_be, arenas[a], D * N, D, N, 1, 1, &sink_dst, err, sizeof err) == 0 &&
                 wk_copy(g_be, &sink_src, &sink_dst, err, sizeof err) == 0;
            wk_tensor_view_release(g_be, &sink_src);
            wk_tensor_view_release(g_be, &sink_dst);
        }
    }
    ok = ok && wk_end(g_be, err, sizeof err) == 0;
    CHECK(ok);

    /* the warp of the start frame (with its predicted depth) into frame 1 */
    printf("f1.warp_prev (reprojection by predicted depth)\n");
    wk_tensor src_rgb, depth, warped;
    float *d = malloc(sizeof(float) * (size_t)HW);
    const float *g_depth = golden("f0.depth", HW);
    for (int64_t i = 0; i < HW; i++)
        d[i] = g_depth[i];
    wk_camera c0 = {{poses[0], poses[1], poses[2]}, {0}, {0}, {0}}, c1 = {{poses[5], poses[6], poses[7]}, {0}, {0}, {0}};
    cam_basis_f32(poses, c0.forward, c0.right, c0.up);
    cam_basis_f32(poses + 5, c1.forward, c1.right, c1.up);
    float focal = 0.5f * (float)H / tanf(33.0f * 0.017453292519943295f);
    CHECK(wk_tensor_alloc(g_be, &src_rgb, H, H, 3, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(g_be, &depth, H, H, 1, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(g_be, &warped, H, H, 4, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_set(g_be, &src_rgb, img, err, sizeof err) == 0);
    CHECK(wk_tensor_set(g_be, &depth, d, err, sizeof err) == 0);
    ok = wk_begin(g_be, err, sizeof err) == 0 &&
         wk_warp(g_be, &src_rgb, &depth, &c0, &c1, focal, (wk_warp_filter)cfg.warp_filter, &warped, err, sizeof err) == 0 &&
         wk_end(g_be, err, sizeof err) == 0;
    CHECK(ok);
    expect_close("f1.warp_prev", &warped, 1e-3);

    /* frame 1, first denoising step: noise, the golden warps, the sink */
    printf("f1.step0 (denoising, reading the sink)\n");
    memcpy(img, golden("f1.noise0", 3 * HW), sizeof(float) * (size_t)(3 * HW));
    memcpy(img + 3 * HW, golden("f1.warp_prev", 4 * HW), sizeof(float) * (size_t)(4 * HW));
    memcpy(img + 7 * HW, golden("f1.warp_mem", 4 * HW), sizeof(float) * (size_t)(4 * HW));
    CHECK(wk_tensor_set(g_be, &image, img, err, sizeof err) == 0);
    student_source sink = {{0}, COND_SRC_SINK, N, N};
    memcpy(sink.pose, poses, sizeof sink.pose);
    student_pass_in p1 = {&image, cfg.schedule[0], {0}, {0}, &sink, 1, STUDENT_HEAD_RGB, &out_rgb};
    memcpy(p1.pose, poses + 5, sizeof p1.pose);
    cond_motion(poses, poses + 5, p1.motion);
    student_begin(s);
    ok = wk_begin(g_be, err, sizeof err) == 0 && student_pass(s, &p1, ka, va, err, sizeof err) == 0 &&
         wk_end(g_be, err, sizeof err) == 0;
    if (!ok) {
        fprintf(stderr, "f1 pass: %s\n", err);
        wk_abort(g_be);
    }
    CHECK(ok);
    expect_traces(s, "f1.step0", cfg.depth, tol);
    expect_close("f1.step0.out", &out_rgb, tol);

    wk_tensor_free(g_be, &warped), wk_tensor_free(g_be, &depth), wk_tensor_free(g_be, &src_rgb);
    wk_tensor_free(g_be, &out_rgb), wk_tensor_free(g_be, &out_depth), wk_tensor_free(g_be, &image);
    for (int l = 0; l < cfg.depth; l++)
        wk_tensor_free(g_be, &k_arena[l]), wk_tensor_free(g_be, &v_arena[l]);
    student_destroy(s);
    uint32_t messages = wk_backend_validation_messages(g_be);
    wk_backend_destroy(g_be);
    st_close(g_golden);
    free(img);
    free(d);
    printf("validation messages: %u\n", messages);
    CHECK(messages == 0);
    return test_finish("test_student_golden");
}
