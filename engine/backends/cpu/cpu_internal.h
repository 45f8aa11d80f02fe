/* Shared by the CPU backend's files: its state, a tensor's storage and the
 * op entry points. */
#ifndef WORLDKV_CPU_INTERNAL_H
#define WORLDKV_CPU_INTERNAL_H

#include "backend_impl.h"
#include "cpu_pool.h"

enum { CPU_MAX_PROFILE = 64, CPU_SCRATCH_SLOTS = 4 };

/* One allocation, shared by a tensor and its views. `version` changes
 * whenever anything writes it, so a packed copy of a weight (made once for
 * the GEMM kernels) is known to be current. */
typedef struct cpu_alloc {
    void *mem;
    size_t bytes;
    uint64_t version;
    float *packed;             /* the GEMM's panels of the [N, K] matrix at packed_data */
    const void *packed_data;
    int64_t packed_n, packed_k;
    uint64_t packed_version;
    size_t packed_bytes;
} cpu_alloc;

typedef struct cpu_buf {
    void *data;       /* first element */
    cpu_alloc *alloc; /* shared with views */
    int owner;        /* 0 for a view */
    size_t bytes;
} cpu_buf;

typedef struct cpu_ctx {
    cpu_pool *pool;
    char name[96];
    int profile;
    const char *label;
    wk_profile_entry entries[CPU_MAX_PROFILE];
    int profile_count;
    uint32_t ops_in_batch;
    uint64_t bytes, allocations, scratch_total;
    void *scratch[CPU_SCRATCH_SLOTS];
    size_t scratch_bytes[CPU_SCRATCH_SLOTS];
} cpu_ctx;

static inline cpu_buf *cpu_b(const wk_tensor *t)
{
    return (cpu_buf *)(void *)t->impl;
}

static inline float *cpu_f(const wk_tensor *t)
{
    return t ? (float *)cpu_b(t)->data : NULL;
}

/* An op wrote this tensor: packed copies of it are stale. */
static inline void cpu_touch(const wk_tensor *t)
{
    cpu_b(t)->alloc->version++;
}

/* Op-level scratch (slot 0..3), grown and kept. */
float *cpu_scratch(cpu_ctx *c, int slot, int64_t floats, char *err, size_t err_size);
double cpu_profile_start(const cpu_ctx *c);
/* The GEMM panels of the weight w ([N, K] rows), packed on first use and
 * kept while w is unchanged; NULL when out of memory. */
const float *cpu_packed_weight(cpu_ctx *c, const wk_tensor *w);
void cpu_profile_add(cpu_ctx *c, const char *op, double t0);

int cpu_op_matmul(void *ctx, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
                  wk_act act, const wk_gate *gate, wk_tensor *out, char *err, size_t err_size);
int cpu_op_norm(void *ctx, wk_norm_kind kind, const wk_tensor *x, const wk_tensor *gamma, const wk_tensor *beta,
                const wk_modulation *mod, float eps, wk_tensor *out, char *err, size_t err_size);
int cpu_op_eltwise(void *ctx, wk_eltwise_op op, const wk_tensor *a, const wk_tensor *b, float lo, float hi,
                   wk_tensor *out, char *err, size_t err_size);
int cpu_op_rope(void *ctx, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
                size_t err_size);
int cpu_op_attention(void *ctx, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                     const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out,
                     char *err, size_t err_size);
int cpu_op_conv2d(void *ctx, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias, const wk_conv_params *cp,
                  wk_tensor *out, char *err, size_t err_size);
int cpu_op_quant(void *ctx, int bits, int dequant, const wk_tensor *x, const wk_tensor *q, const wk_tensor *scale,
                 char *err, size_t err_size);
int cpu_op_frame_pack(void *ctx, int unpack, const wk_tensor *img, const wk_tensor *packed, char *err,
                      size_t err_size);
int cpu_op_resample(void *ctx, int mode, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size);
int cpu_op_patch(void *ctx, int unpatch, const wk_tensor *img, int p, const wk_tensor *tokens, char *err,
                 size_t err_size);
int cpu_op_warp(void *ctx, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
                float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size);

#endif
