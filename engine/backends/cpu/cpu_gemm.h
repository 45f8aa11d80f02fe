/* cpu_gemm: single-precision matrix products with the matmul's fused
 * epilogue, in AVX-512, AVX2+FMA or portable C, chosen once at run time
 * from what the CPU reports. */
#ifndef WORLDKV_CPU_GEMM_H
#define WORLDKV_CPU_GEMM_H

#include <stdint.h>

#include "cpu_pool.h"

/* c = res + gate * act(alpha * (a . b) + bias), per element of c. */
typedef struct cpu_epilogue {
    float alpha;       /* 1 unless a caller scales the product */
    const float *bias; /* [N] (or [M] with bias_rows) or NULL */
    int bias_rows;     /* the bias is per row of c, not per column */
    int act;           /* wk_act */
    const float *gate; /* [N] or NULL */
    const float *res;  /* shaped like c (stride ldc) or NULL; may equal c */
} cpu_epilogue;

/* "avx512", "avx2" or "portable": the kernel this CPU runs. */
const char *cpu_gemm_kernel_name(void);
/* Forces a kernel by name (tests check each one the CPU has); -1 if this
 * CPU cannot run it. */
int cpu_gemm_force(const char *name);

/* c[m * ldc + n] for m < M, n < N = epilogue(sum_k a[m * lda + k] * B(k, n)),
 * where B(k, n) = b[n * ldb + k] when b_rows_are_n (weights stored [N, K])
 * and b[k * ldb + n] otherwise. Runs on the calling thread; pack is scratch
 * of cpu_gemm_pack_floats(K) floats, 64-byte aligned. */
void cpu_gemm_serial(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b, int64_t ldb,
                     int b_rows_are_n, float *c, int64_t ldc, const cpu_epilogue *ep, float *pack);
int64_t cpu_gemm_pack_floats(int64_t K);
/* The same over all of the pool's threads (split by column panels, or by
 * rows when there are few panels); -1 when its scratch cannot be had. */
int cpu_gemm(cpu_pool *pool, int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b,
             int64_t ldb, int b_rows_are_n, const float *prepacked, float *c, int64_t ldc, const cpu_epilogue *ep);
/* B = b ([N, K] rows, stride ldb) packed once into the kernel's panels, for
 * weights that many products read: pass it as cpu_gemm's `prepacked`. */
int64_t cpu_gemm_packed_floats(int64_t N, int64_t K);
void cpu_gemm_prepack(int64_t N, int64_t K, const float *b, int64_t ldb, float *packed);
/* Softmax of one row in place (vectorised where the kernel is). */
void cpu_softmax_row(float *row, int64_t n);

/* The activations, as the epilogue applies them (scalar). */
float cpu_act(float x, int act);

#endif
