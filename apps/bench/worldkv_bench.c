/* worldkv-bench: measured numbers for the device worldkv runs on.
 *   worldkv-bench devices        list the Vulkan devices and the one chosen
 *   worldkv-bench ops [--json]   GFLOP/s and GB/s per op and shape
 * Tables by default; --json prints one object per line with op, shape, ms,
 * gflops and device, the convention every worldkv benchmark follows. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"

typedef struct bench_opts {
    int json;
    const char *device;
    double seconds;
} bench_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: worldkv-bench devices\n"
                 "       worldkv-bench ops [--json] [--device NAME|INDEX] [--seconds T]\n"
                 "\n"
                 "  devices        list the Vulkan devices, best first, and which one worldkv picks\n"
                 "  ops            time each op on representative shapes (matmul at 1024^3, layer\n"
                 "                 shapes, the per-dispatch overhead) and print GFLOP/s and GB/s\n"
                 "  --json         one JSON object per line: op, shape, ms, gflops, gbps, device\n"
                 "  --device X     a device index or name substring (default: $WORLDKV_DEVICE, else best)\n"
                 "  --seconds T    time spent on each case (default 1.0)\n");
}

static int cmd_devices(void)
{
    vkr_device_info devs[VKR_MAX_DEVICES];
    int n;
    char err[512];
    if (vkr_list_devices(devs, VKR_MAX_DEVICES, &n, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench: %s\n", err);
        return 1;
    }
    for (int i = 0; i < n; i++)
        printf("%d: %s (%s, Vulkan %u.%u)\n", i, devs[i].name, vkr_device_type_name(devs[i].type),
               VK_API_VERSION_MAJOR(devs[i].api_version), VK_API_VERSION_MINOR(devs[i].api_version));
    wk_backend *be;
    if (wk_backend_create(NULL, &be, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench: %s\n", err);
        return 1;
    }
    printf("chosen: %s\n", wk_backend_device_name(be));
    wk_backend_destroy(be);
    return 0;
}

static void report(const bench_opts *o, const wk_backend *be, const char *op, const char *shape, double ms,
                   double flops, double bytes)
{
    double gflops = flops / (ms * 1e6), gbps = bytes / (ms * 1e6);
    if (o->json)
        printf("{\"op\": \"%s\", \"shape\": \"%s\", \"ms\": %.5f, \"gflops\": %.3f, \"gbps\": %.3f, \"device\": \"%s\"}\n",
               op, shape, ms, gflops, gbps, wk_backend_device_name(be));
    else
        printf("%-22s %-22s %10.4f %10.2f %10.2f\n", op, shape, ms, gflops, gbps);
    fflush(stdout);
}

static int fill(wk_backend *be, wk_tensor *t, char *err, size_t n)
{
    int64_t count = wk_nelements(t);
    float *x = malloc(sizeof(float) * (size_t)count);
    if (!x)
        return -1;
    for (int64_t i = 0; i < count; i++)
        x[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    int rc = wk_tensor_set(be, t, x, err, n);
    free(x);
    return rc;
}

/* Runs `reps` matmuls per batch until `seconds` pass; returns ms per op. */
static double time_matmul(wk_backend *be, int64_t M, int64_t N, int64_t K, int f16_weights, int reps, double seconds,
                          char *err, size_t n)
{
    wk_tensor a, w, b, o;
    double ms = -1;
    int ok = wk_tensor_alloc(be, &a, K, M, 1, 1, err, n) == 0 &&
             (f16_weights ? wk_tensor_alloc_f16(be, &w, K, N, 1, 1, err, n)
                          : wk_tensor_alloc(be, &w, K, N, 1, 1, err, n)) == 0 &&
             wk_tensor_alloc(be, &b, N, 1, 1, 1, err, n) == 0 && wk_tensor_alloc(be, &o, N, M, 1, 1, err, n) == 0 &&
             fill(be, &a, err, n) == 0 && fill(be, &w, err, n) == 0 && fill(be, &b, err, n) == 0;
    if (ok) {
        int total = 0;
        double t0 = 0;
        for (int round = 0; ok; round++) {
            if (round == 1) /* the first round pays for pipeline creation */
                t0 = now_s(), total = 0;
            ok = wk_begin(be, err, n) == 0;
            for (int r = 0; ok && r < reps; r++)
                ok = wk_matmul(be, &a, &w, &b, NULL, WK_ACT_NONE, &o, err, n) == 0;
            ok = ok && wk_end(be, err, n) == 0;
            total += reps;
            if (round >= 1 && now_s() - t0 >= seconds)
                break;
        }
        if (ok)
            ms = 1000.0 * (now_s() - t0) / total;
    }
    wk_tensor_free(be, &o);
    wk_tensor_free(be, &b);
    wk_tensor_free(be, &w);
    wk_tensor_free(be, &a);
    return ms;
}

static int cmd_ops(const bench_opts *o)
{
    char err[512];
    wk_backend *be;
    wk_backend_options bo = {0, 0, o->device};
    if (wk_backend_create(&bo, &be, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench: %s\n", err);
        return 1;
    }
    if (!o->json)
        printf("device: %s (%s), matmul kernel: %s\n%-22s %-22s %10s %10s %10s\n", wk_backend_device_name(be), wk_backend_device_type(be),
               getenv("WORLDKV_MATMUL") && *getenv("WORLDKV_MATMUL") ? getenv("WORLDKV_MATMUL") : "default for the device",
               "op", "shape (MxNxK)", "ms", "GFLOP/s", "GB/s");
    /* M x N x K, and whether the weights are stored as f16 */
    static const int64_t shapes[][4] = {
        {1024, 1024, 1024, 0}, {4096, 256, 256, 0}, {64, 768, 256, 0}, {64, 256, 768, 0},
        {64, 256, 256, 0},     {64, 768, 704, 0},   {1024, 1024, 1024, 1}, {64, 768, 256, 1},
    };
    int status = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int64_t M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        int f16 = (int)shapes[i][3];
        double ms = time_matmul(be, M, N, K, f16, M * N * K >= (1 << 26) ? 4 : 64, o->seconds, err, sizeof err);
        if (ms < 0) {
            fprintf(stderr, "worldkv-bench: %s\n", err);
            status = 1;
            break;
        }
        char shape[64];
        snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)M, (long long)N, (long long)K);
        report(o, be, f16 ? "matmul_f16_weights" : "matmul", shape, ms, 2.0 * (double)M * N * K,
               4.0 * (double)(M * K + M * N) + (f16 ? 2.0 : 4.0) * (double)(N * K));
    }
    if (status == 0) {
        /* the fixed cost of one dispatch: 1000 tiny matmuls in one submit */
        double ms = time_matmul(be, 1, 4, 4, 0, 1000, o->seconds, err, sizeof err);
        if (ms >= 0)
            report(o, be, "dispatch_overhead", "1x4x4", ms, 32.0, 96.0);
        else
            status = 1;
    }
    wk_backend_destroy(be);
    return status;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    bench_opts o = {0, NULL, 1.0};
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json"))
            o.json = 1;
        else if (!strcmp(argv[i], "--device") && i + 1 < argc)
            o.device = argv[++i];
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            o.seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "worldkv-bench: unknown option '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    if (o.seconds <= 0 || o.seconds > 600) {
        fprintf(stderr, "worldkv-bench: --seconds must be in (0, 600]\n");
        return 2;
    }
    if (!strcmp(argv[1], "devices"))
        return cmd_devices();
    if (!strcmp(argv[1], "ops"))
        return cmd_ops(&o);
    fprintf(stderr, "worldkv-bench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
