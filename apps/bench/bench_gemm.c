/* bench_gemm: the CPU backend's GEMM against OpenBLAS's cblas_sgemm on the
 * student's shapes, alternating, both on all cores.
 *
 *   build/apps/worldkv-bench-gemm [--seconds T]
 *
 * OpenBLAS is loaded at run time (dlopen of libopenblas.so.0, Debian's
 * libopenblas0-pthread), so nothing in worldkv links it. For each shape:
 * our kernel with the weights packed once (what matmul does after the
 * first frame), our kernel packing on every call, and sgemm (row-major,
 * B transposed: out = a . w^T, as wk_matmul). */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_args.h"
#include "cli_number.h"
#include "cpu_gemm.h"
#include "cpu_pool.h"
#include "worldkv.h"

typedef void (*sgemm_fn)(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                         const float *b, int ldb, float beta, float *c, int ldc);
enum { ROW_MAJOR = 101, NO_TRANS = 111, TRANS = 112 };

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

typedef struct shape {
    const char *what;
    int M, N, K;
} shape;

static double per_call_ms(int mode, cpu_pool *pool, sgemm_fn sgemm, const shape *s, const float *a, const float *w,
                          const float *packed, float *c, double seconds)
{
    cpu_epilogue ep = {1.0f, NULL, 0, 0, NULL, NULL};
    int calls = 0;
    double t0 = now_s(), t = t0;
    while (t - t0 < seconds || calls < 3) {
        if (mode == 0)
            cpu_gemm(pool, s->M, s->N, s->K, a, s->K, w, s->K, 1, packed, c, s->N, &ep);
        else if (mode == 1)
            cpu_gemm(pool, s->M, s->N, s->K, a, s->K, w, s->K, 1, NULL, c, s->N, &ep);
        else
            sgemm(ROW_MAJOR, NO_TRANS, TRANS, s->M, s->N, s->K, 1.0f, a, s->K, w, s->K, 0.0f, c, s->N);
        calls++;
        t = now_s();
    }
    return 1000.0 * (t - t0) / calls;
}

int main(int argc, char **argv)
{
    static const cli_option options[] = {{"--help", 'h', 0}, {"--version", 0, 0}, {"--seconds", 0, 1}};
    double seconds = 0.5;
    cli_args args;
    cli_args_init(&args, "worldkv-bench-gemm", argc, argv, 1, options, 3);
    const char *name, *v;
    int more;
    while ((more = cli_args_next_named(&args, &name, &v)) != 0) {
        if (more < 0)
            return 2;
        if (!strcmp(name, "--seconds")) {
            if (cli_real("worldkv-bench-gemm", name, v, 0.001, 60, &seconds) != 0)
                return 2;
        } else if (!strcmp(name, "--version")) {
            printf("worldkv-bench-gemm %s\n", WORLDKV_VERSION_STRING);
            return 0;
        } else {
            printf("usage: worldkv-bench-gemm [--seconds T]\n\n"
                   "Times the CPU backend's GEMM against OpenBLAS (loaded at run time) on the model's shapes.\n");
            return 0;
        }
    }
    void *lib = dlopen("libopenblas.so.0", RTLD_NOW);
    sgemm_fn sgemm = NULL;
    if (lib) { /* POSIX's way to take a function from dlsym without a pedantic cast */
        void *sym = dlsym(lib, "cblas_sgemm");
        memcpy(&sgemm, &sym, sizeof sgemm);
    }
    if (!sgemm)
        fprintf(stderr, "worldkv-bench-gemm: OpenBLAS not found (apt-get install libopenblas0-pthread); "
                        "timing our kernels only\n");
    char err[256];
    cpu_pool *pool = NULL;
    if (cpu_pool_create(0, &pool, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench-gemm: %s\n", err);
        return 1;
    }
    static const shape shapes[] = {
        {"qkv", 64, 768, 256},   {"proj", 64, 256, 256},  {"fc1", 64, 1024, 256},    {"fc2", 64, 256, 1024},
        {"ada", 1, 1536, 256},   {"embed", 64, 256, 704}, {"rgb_proj", 64, 1024, 256}, {"1024^3", 1024, 1024, 1024},
    };
    printf("kernel %s, %d threads; ms per call (GFLOP/s), modes alternating\n", cpu_gemm_kernel_name(),
           cpu_pool_threads(pool));
    printf("%-10s %-16s %18s %18s %18s\n", "product", "M x N x K", "ours, packed once", "ours, packing", "OpenBLAS");
    int status = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const shape *s = &shapes[i];
        float *a = malloc(sizeof(float) * (size_t)s->M * s->K), *w = malloc(sizeof(float) * (size_t)s->N * s->K);
        float *c = malloc(sizeof(float) * (size_t)s->M * s->N);
        float *packed = NULL;
        if (!a || !w || !c || posix_memalign((void **)&packed, 64, sizeof(float) * (size_t)cpu_gemm_packed_floats(s->N, s->K))) {
            fprintf(stderr, "worldkv-bench-gemm: out of memory\n");
            status = 1;
            free(a), free(w), free(c);
            break;
        }
        for (long j = 0; j < (long)s->M * s->K; j++)
            a[j] = (float)((j * 7919) % 2001) / 1000.0f - 1.0f;
        for (long j = 0; j < (long)s->N * s->K; j++)
            w[j] = (float)((j * 104729) % 2001) / 1000.0f - 1.0f;
        cpu_gemm_prepack(s->N, s->K, w, s->K, packed);
        double ms[3] = {0, 0, 0};
        for (int round = 0; round < 2; round++) /* alternating, best of two */
            for (int mode = 0; mode < 3; mode++) {
                if (mode == 2 && !sgemm)
                    continue;
                double t = per_call_ms(mode, pool, sgemm, s, a, w, packed, c, seconds / 2);
                ms[mode] = round == 0 || t < ms[mode] ? t : ms[mode];
            }
        double gf = 2.0 * s->M * s->N * s->K / 1e6;
        char dims[32], col[3][32];
        snprintf(dims, sizeof dims, "%dx%dx%d", s->M, s->N, s->K);
        for (int mode = 0; mode < 3; mode++)
            if (ms[mode] > 0)
                snprintf(col[mode], sizeof col[mode], "%.4f (%.0f)", ms[mode], gf / ms[mode]);
            else
                snprintf(col[mode], sizeof col[mode], "-");
        printf("%-10s %-16s %18s %18s %18s\n", s->what, dims, col[0], col[1], col[2]);
        free(a), free(w), free(c), free(packed);
    }
    cpu_pool_destroy(pool);
    if (lib)
        dlclose(lib);
    return status;
}
