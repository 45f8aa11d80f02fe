/* The native CPU backend: tensors in host memory, ops run as they are
 * recorded (a batch is only a profiling and counting scope), matrix work on
 * cpu_gemm's kernels over a small thread pool. Scratch grows to the largest
 * op and is kept, so a frame allocates nothing. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend_impl.h"
#include "cpu_gemm.h"
#include "cpu_internal.h"

_Static_assert(sizeof(cpu_buf) <= WK_TENSOR_IMPL_BYTES, "a cpu_buf must fit a tensor's storage bytes");

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

void cpu_profile_add(cpu_ctx *c, const char *op, double t0)
{
    if (!c->profile)
        return;
    double ms = now_ms() - t0;
    const char *name = c->label ? c->label : op;
    int i = 0;
    while (i < c->profile_count && strcmp(c->entries[i].name, name))
        i++;
    if (i == c->profile_count) {
        if (c->profile_count == CPU_MAX_PROFILE)
            return;
        snprintf(c->entries[i].name, sizeof c->entries[i].name, "%s", name);
        c->entries[i].count = 0;
        c->entries[i].total_ms = 0;
        c->profile_count++;
    }
    c->entries[i].count++;
    c->entries[i].total_ms += ms;
}

double cpu_profile_start(const cpu_ctx *c)
{
    return c->profile ? now_ms() : 0.0;
}

static void cpu_destroy(void *ctx)
{
    cpu_ctx *c = ctx;
    if (!c)
        return;
    for (int i = CPU_SCRATCH_SLOTS - 1; i >= 0; i--)
        free(c->scratch[i]);
    cpu_pool_destroy(c->pool);
    free(c);
}

static const char *cpu_device_name(const void *ctx)
{
    return ((const cpu_ctx *)ctx)->name;
}

static const char *cpu_device_type(const void *ctx)
{
    (void)ctx;
    return "cpu";
}

static uint32_t cpu_validation_messages(const void *ctx)
{
    (void)ctx;
    return 0;
}

static void cpu_memory(const void *ctx, uint64_t *block_bytes, uint64_t *used_bytes, int *blocks)
{
    const cpu_ctx *c = ctx;
    *block_bytes = c->bytes + c->scratch_total;
    *used_bytes = c->bytes;
    *blocks = (int)c->allocations;
}

static int cpu_supports_dtype(const void *ctx, wk_dtype dtype)
{
    (void)ctx;
    return dtype == WK_F32 || dtype == WK_U32;
}

static int64_t cpu_view_align(const void *ctx)
{
    (void)ctx;
    return 1;
}

static int cpu_tensor_alloc(void *ctx, wk_tensor *t, char *err, size_t err_size)
{
    cpu_ctx *c = ctx;
    size_t bytes = (size_t)wk_nbytes(t);
    double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
    if (phys > 0 && (double)bytes > phys) {
        snprintf(err, err_size, "a %.1f MiB tensor is larger than this machine's memory (%.1f MiB)",
                 (double)bytes / (1 << 20), phys / (1 << 20));
        return -1;
    }
    void *mem = NULL;
    cpu_alloc *al = calloc(1, sizeof *al);
    if (!al || posix_memalign(&mem, 64, (bytes + 63) / 64 * 64) != 0) {
        free(al);
        snprintf(err, err_size, "out of memory for a %zu-byte tensor", bytes);
        return -1;
    }
    memset(mem, 0, bytes);
    al->mem = mem;
    al->bytes = bytes;
    cpu_buf *b = cpu_b(t);
    b->data = mem;
    b->alloc = al;
    b->owner = 1;
    b->bytes = bytes;
    c->bytes += bytes;
    c->allocations++;
    return 0;
}

static void cpu_tensor_free(void *ctx, wk_tensor *t)
{
    cpu_ctx *c = ctx;
    cpu_buf *b = cpu_b(t);
    if (b->owner && b->alloc) {
        c->bytes -= b->alloc->bytes;
        c->scratch_total -= b->alloc->packed_bytes;
        c->allocations--;
        free(b->alloc->packed);
        free(b->alloc->mem);
        free(b->alloc);
    }
    memset(b, 0, sizeof *b);
}

static int cpu_tensor_view(void *ctx, const wk_tensor *parent, int64_t offset, wk_tensor *out, char *err,
                           size_t err_size)
{
    (void)ctx, (void)err, (void)err_size;
    cpu_buf *b = cpu_b(out);
    b->data = (char *)cpu_b(parent)->data + offset * 4;
    b->alloc = cpu_b(parent)->alloc;
    b->owner = 0;
    b->bytes = (size_t)wk_nbytes(out);
    return 0;
}

static void cpu_tensor_view_release(void *ctx, wk_tensor *view)
{
    (void)ctx;
    memset(cpu_b(view), 0, sizeof(cpu_buf));
}

static int cpu_tensor_write(void *ctx, wk_tensor *t, const void *data, char *err, size_t err_size)
{
    (void)ctx, (void)err, (void)err_size;
    memcpy(cpu_b(t)->data, data, (size_t)wk_nbytes(t));
    cpu_touch(t);
    return 0;
}

static int cpu_tensor_read(void *ctx, const wk_tensor *t, float *data, char *err, size_t err_size)
{
    (void)ctx, (void)err, (void)err_size;
    memcpy(data, cpu_b(t)->data, (size_t)wk_nbytes(t));
    return 0;
}

static int cpu_begin(void *ctx, char *err, size_t err_size)
{
    (void)err, (void)err_size;
    ((cpu_ctx *)ctx)->ops_in_batch = 0;
    return 0;
}

static int cpu_end(void *ctx, char *err, size_t err_size)
{
    (void)ctx, (void)err, (void)err_size;
    return 0;
}

static void cpu_abort(void *ctx)
{
    (void)ctx;
}

static uint32_t cpu_dispatch_count(const void *ctx)
{
    return ((const cpu_ctx *)ctx)->ops_in_batch;
}

static void cpu_set_label(void *ctx, const char *label)
{
    ((cpu_ctx *)ctx)->label = label;
}

static int cpu_profile(const void *ctx, const wk_profile_entry **entries)
{
    const cpu_ctx *c = ctx;
    *entries = c->entries;
    return c->profile_count;
}

static void cpu_profile_reset(void *ctx)
{
    ((cpu_ctx *)ctx)->profile_count = 0;
}

float *cpu_scratch(cpu_ctx *c, int slot, int64_t floats, char *err, size_t err_size)
{
    size_t bytes = (size_t)(floats > 0 ? floats : 1) * sizeof(float);
    if (c->scratch_bytes[slot] >= bytes)
        return c->scratch[slot];
    void *mem = NULL;
    if (posix_memalign(&mem, 64, (bytes + 63) / 64 * 64) != 0) {
        snprintf(err, err_size, "out of memory for %zu bytes of CPU scratch", bytes);
        return NULL;
    }
    c->scratch_total += bytes - c->scratch_bytes[slot];
    free(c->scratch[slot]);
    c->scratch[slot] = mem;
    c->scratch_bytes[slot] = bytes;
    return mem;
}

const float *cpu_packed_weight(cpu_ctx *c, const wk_tensor *w)
{
    cpu_alloc *al = cpu_b(w)->alloc;
    int64_t K = w->ne[0], N = w->ne[1];
    if (al->packed && al->packed_data == cpu_b(w)->data && al->packed_n == N && al->packed_k == K &&
        al->packed_version == al->version)
        return al->packed;
    size_t bytes = (size_t)cpu_gemm_packed_floats(N, K) * sizeof(float);
    if (bytes != al->packed_bytes) {
        void *mem = NULL;
        if (posix_memalign(&mem, 64, bytes) != 0)
            return NULL;
        free(al->packed);
        c->scratch_total += bytes - al->packed_bytes;
        al->packed = mem;
        al->packed_bytes = bytes;
    }
    cpu_gemm_prepack(N, K, cpu_f(w), K, al->packed);
    al->packed_data = cpu_b(w)->data;
    al->packed_n = N, al->packed_k = K;
    al->packed_version = al->version;
    return al->packed;
}

static const wk_backend_i cpu_iface = {
    .name = "cpu",
    .eager = 1,
    .destroy = cpu_destroy,
    .device_name = cpu_device_name,
    .device_type = cpu_device_type,
    .validation_messages = cpu_validation_messages,
    .memory = cpu_memory,
    .supports_dtype = cpu_supports_dtype,
    .view_align = cpu_view_align,
    .tensor_alloc = cpu_tensor_alloc,
    .tensor_free = cpu_tensor_free,
    .tensor_view = cpu_tensor_view,
    .tensor_view_release = cpu_tensor_view_release,
    .tensor_write = cpu_tensor_write,
    .tensor_read = cpu_tensor_read,
    .begin = cpu_begin,
    .end = cpu_end,
    .abort = cpu_abort,
    .dispatch_count = cpu_dispatch_count,
    .set_label = cpu_set_label,
    .profile = cpu_profile,
    .profile_reset = cpu_profile_reset,
    .matmul = cpu_op_matmul,
    .norm = cpu_op_norm,
    .eltwise = cpu_op_eltwise,
    .rope = cpu_op_rope,
    .attention = cpu_op_attention,
    .conv2d = cpu_op_conv2d,
    .resample = cpu_op_resample,
    .quant = cpu_op_quant,
    .frame_pack = cpu_op_frame_pack,
    .patch = cpu_op_patch,
    .warp = cpu_op_warp,
};

int wk_cpu_backend_create(const wk_backend_options *opt, const wk_backend_i **iface, void **ctx, char *err,
                          size_t err_size)
{
    *ctx = NULL;
    cpu_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    const char *force = getenv("WORLDKV_CPU_KERNEL");
    if (force && *force && cpu_gemm_force(force) != 0) {
        snprintf(err, err_size, "WORLDKV_CPU_KERNEL=%s: this CPU cannot run it (avx512, avx2 or portable)", force);
        free(c);
        return -1;
    }
    if (cpu_pool_create(opt ? opt->threads : 0, &c->pool, err, err_size) != 0) {
        free(c);
        return -1;
    }
    c->profile = opt && opt->profile;
    snprintf(c->name, sizeof c->name, "CPU, %d threads, %s kernels", cpu_pool_threads(c->pool),
             cpu_gemm_kernel_name());
    *iface = &cpu_iface;
    *ctx = c;
    return 0;
}
