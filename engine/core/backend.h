/* backend: the seam between model code and a compute device. Model code
 * calls these functions and never sees a device handle. This front checks
 * every shape and argument once, then calls the chosen backend through its
 * interface table (backend_impl.h): Vulkan compute (backends/vulkan/) or
 * native CPU kernels (backends/cpu/). Every function returns 0, or -1 with
 * a message in err. Ops are recorded between wk_begin and wk_end; a
 * device backend runs them all in one submit at wk_end, the CPU backend
 * as they come. */
#ifndef WORLDKV_BACKEND_H
#define WORLDKV_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "tensor.h"

typedef enum wk_act { WK_ACT_NONE = 0, WK_ACT_GELU = 1, WK_ACT_SILU = 2 } wk_act;

typedef struct wk_backend wk_backend;

/* auto: a real Vulkan GPU when there is one, else the CPU backend (also
 * when the only Vulkan device is a CPU implementation such as lavapipe,
 * which reaches about 8% of the same CPU run natively). */
typedef enum wk_backend_kind { WK_BACKEND_AUTO = 0, WK_BACKEND_CPU = 1, WK_BACKEND_VULKAN = 2 } wk_backend_kind;

typedef struct wk_backend_options {
    int validation;       /* Vulkan validation layers (tests turn them on) */
    int profile;          /* time every op */
    const char *device;   /* Vulkan: index or name substring; NULL picks the best */
    wk_backend_kind kind; /* AUTO reads WORLDKV_BACKEND (auto, cpu, vulkan) first */
    int threads;          /* CPU backend: worker threads; 0 is one per core */
} wk_backend_options;

/* "auto", "cpu" or "vulkan" -> kind; -1 for anything else. */
int wk_backend_kind_parse(const char *name);

int wk_backend_create(const wk_backend_options *opt, wk_backend **out, char *err, size_t err_size);
void wk_backend_destroy(wk_backend *be);
/* "cpu" or "vulkan" */
const char *wk_backend_name(const wk_backend *be);
/* Why this backend: "asked for", or what auto found (one line). */
const char *wk_backend_reason(const wk_backend *be);
const char *wk_backend_device_name(const wk_backend *be);
const char *wk_backend_device_type(const wk_backend *be);
uint32_t wk_backend_validation_messages(const wk_backend *be);
/* Validation messages of every Vulkan context this process made, teardown
 * included (0 when Vulkan was never used). */
uint32_t wk_total_validation_messages(void);
/* 1 when ops run as they are recorded (CPU), 0 when wk_end submits them. */
int wk_backend_eager(const wk_backend *be);
/* Prints the Vulkan devices (if any driver answers) and the CPU's kernels. */
void wk_backend_list_devices(void *file);
/* Device memory this backend holds now (bytes in blocks, bytes in use). */
void wk_backend_memory(const wk_backend *be, uint64_t *block_bytes, uint64_t *used_bytes, int *blocks);

/* Profiling: while a label is set, timed ops are summed under it (a stage
 * such as "denoise") instead of their op name; NULL goes back to op names. */
typedef struct wk_profile_entry {
    char name[48];
    uint64_t count;
    double total_ms;
} wk_profile_entry;
void wk_set_label(wk_backend *be, const char *label);
/* The entries so far (owned by the backend, valid until the next call). */
int wk_profile(const wk_backend *be, const wk_profile_entry **entries);
void wk_profile_reset(wk_backend *be);

int wk_tensor_alloc(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                    size_t err_size);
/* An f16-storage tensor (set/get convert from and to f32). Fails with a
 * clear message on devices that cannot read f16 texel buffers. Ops that
 * read through texel buffers (matmul a and w) accept it. */
int wk_tensor_alloc_f16(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                        size_t err_size);
/* A uint32 tensor (index lists, packed int8 slots), uninitialised. */
int wk_tensor_alloc_u32(wk_backend *be, wk_tensor *t, int64_t ne0, int64_t ne1, int64_t ne2, int64_t ne3, char *err,
                        size_t err_size);
void wk_tensor_free(wk_backend *be, wk_tensor *t);
/* A view of count elements of parent from element offset, shaped ne (f32
 * and u32 only). The offset must keep the backend's binding alignment: 64
 * elements (256 bytes, the most a Vulkan device may ask) suit every
 * device; the CPU backend takes any offset. Release it with
 * wk_tensor_view_release before the parent is freed. */
int wk_tensor_view(wk_backend *be, const wk_tensor *parent, int64_t offset, int64_t ne0, int64_t ne1, int64_t ne2,
                   int64_t ne3, wk_tensor *out, char *err, size_t err_size);
void wk_tensor_view_release(wk_backend *be, wk_tensor *view);
int wk_tensor_set(wk_backend *be, wk_tensor *t, const float *data, char *err, size_t err_size);
int wk_tensor_get(wk_backend *be, const wk_tensor *t, float *data, char *err, size_t err_size);
/* Index tensors (attention's key rows and groups) hold uint32. */
int wk_tensor_set_u32(wk_backend *be, wk_tensor *t, const uint32_t *data, char *err, size_t err_size);

int wk_begin(wk_backend *be, char *err, size_t err_size);
int wk_end(wk_backend *be, char *err, size_t err_size);
/* Drops the open batch unrun (after an op failed to record). */
void wk_abort(wk_backend *be);
/* Dispatches recorded in the open (or last) batch. */
uint32_t wk_dispatch_count(const wk_backend *be);

/* out[.., M, N] = res + gate * act(a[.., M, K] . w[N, K]^T + bias[N]).
 * bias, res and gate may be NULL. a's dims 2 and 3 are a batch sharing w;
 * batch item b scales column n by gate[b * gate_stride + gate_off + n]. */
typedef struct wk_gate {
    const wk_tensor *gate;
    int64_t stride, offset;
} wk_gate;
int wk_matmul(wk_backend *be, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias, const wk_tensor *res,
              wk_act act, wk_tensor *out, char *err, size_t err_size);
int wk_matmul_gated(wk_backend *be, const wk_tensor *a, const wk_tensor *w, const wk_tensor *bias,
                    const wk_tensor *res, wk_act act, const wk_gate *gate, wk_tensor *out, char *err, size_t err_size);

/* Normalises each row of x[D, rows]: LayerNorm (mean and variance) or
 * RMSNorm, then the optional affine gamma (and beta, LayerNorm only), then
 * the optional adaLN modulation n * (1 + scale) + shift, where row r reads
 * shift and scale from mod at (r / rows_per_item) * stride + shift_off (or
 * scale_off). */
typedef enum wk_norm_kind { WK_NORM_LAYER = 0, WK_NORM_RMS = 1 } wk_norm_kind;
typedef struct wk_modulation {
    const wk_tensor *mod;
    int64_t rows_per_item, stride, shift_off, scale_off;
} wk_modulation;
int wk_norm(wk_backend *be, wk_norm_kind kind, const wk_tensor *x, const wk_tensor *gamma, const wk_tensor *beta,
            const wk_modulation *mod, float eps, wk_tensor *out, char *err, size_t err_size);

/* Element-wise: a + b and a * b (b repeats when shorter), GELU, SiLU. */
int wk_add(wk_backend *be, const wk_tensor *a, const wk_tensor *b, wk_tensor *out, char *err, size_t err_size);
int wk_mul(wk_backend *be, const wk_tensor *a, const wk_tensor *b, wk_tensor *out, char *err, size_t err_size);
int wk_gelu(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size);
int wk_silu(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size);
int wk_clamp(wk_backend *be, const wk_tensor *a, float lo, float hi, wk_tensor *out, char *err, size_t err_size);
int wk_exp(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size);
/* 1 / (1 + exp(-a)) */
int wk_sigmoid(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size);
/* Sets flag (one element) to 1 if any element of a is NaN or infinite, and
 * leaves it alone otherwise: clear it first. Cheap enough to run on every
 * frame's raw output, before any clamp hides a NaN (clamp(NaN) is lo). */
int wk_flag_nonfinite(wk_backend *be, const wk_tensor *a, wk_tensor *flag, char *err, size_t err_size);
int wk_copy(wk_backend *be, const wk_tensor *a, wk_tensor *out, char *err, size_t err_size);
/* out = alpha * a + beta * b (b repeats when shorter). */
int wk_axpby(wk_backend *be, float alpha, const wk_tensor *a, float beta, const wk_tensor *b, wk_tensor *out,
             char *err, size_t err_size);

/* Rotary embedding of x[dh, heads, tokens] by float positions pos[tokens]. */
int wk_rope(wk_backend *be, const wk_tensor *x, const wk_tensor *pos, float base, wk_tensor *out, char *err,
            size_t err_size);

/* One-pass softmax attention. q[H*dh, N]; k, v[H*dh, R] form a KV arena;
 * rows[S] (u32) lists the arena rows to attend, groups[S] (u32) the source
 * of each, and gemb[H*dh, G] the per-source key offsets added at read
 * time. out[H*dh, N]. dh is a multiple of 4, at most 128; G <= 32. */
int wk_attention(wk_backend *be, const wk_tensor *q, const wk_tensor *k, const wk_tensor *v, const wk_tensor *rows,
                 const wk_tensor *groups, const wk_tensor *gemb, int heads, float scale, wk_tensor *out, char *err,
                 size_t err_size);

/* 2-D convolution (PyTorch semantics) of x[W, H, C] (or, channels_last,
 * x[C, W, H]) by w[k, k, C/groups, Cout], with bias (or NULL), stride,
 * padding and a fused activation. */
typedef struct wk_conv_params {
    int k, stride, pad, groups, channels_last;
    wk_act act;
} wk_conv_params;
int wk_conv2d(wk_backend *be, const wk_tensor *x, const wk_tensor *w, const wk_tensor *bias,
              const wk_conv_params *cp, wk_tensor *out, char *err, size_t err_size);

/* x[W, H, C] to [W*f, H*f, C] (nearest), or [W, H, C*f*f] to [W*f, H*f, C]
 * (pixel shuffle). */
int wk_upsample_nearest(wk_backend *be, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size);
int wk_pixel_shuffle(wk_backend *be, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size);

/* img[W, H, C] <-> tokens[C*P*P, (H/P)*(W/P)], features ordered (c, py, px). */
/* Quantized memory slots, bits 8 or 4 (ops_ref.h: ref_quantize): x [D, N]
 * f32 -> q [D * bits / 32, N] u32 (wk_tensor_alloc_u32), scale [D] f32; and back. */
int wk_quantize(wk_backend *be, int bits, const wk_tensor *x, wk_tensor *q, wk_tensor *scale, char *err,
                size_t err_size);
int wk_dequantize(wk_backend *be, int bits, const wk_tensor *q, const wk_tensor *scale, wk_tensor *out, char *err,
                  size_t err_size);
/* Stored frames, packed (ops_ref.h: ref_pack_frame): img [W, H, 4] f32
 * (RGB planes in [-1, 1], then depth) <-> packed [W * H * 3 / 2] u32. */
int wk_pack_frame(wk_backend *be, const wk_tensor *img, wk_tensor *packed, char *err, size_t err_size);
int wk_unpack_frame(wk_backend *be, const wk_tensor *packed, wk_tensor *img, char *err, size_t err_size);
int wk_patchify(wk_backend *be, const wk_tensor *img, int p, wk_tensor *tokens, char *err, size_t err_size);
int wk_unpatchify(wk_backend *be, const wk_tensor *tokens, int p, wk_tensor *img, char *err, size_t err_size);

/* A camera for the warp: centre, then forward, right and up unit vectors
 * (the session fills it from a pose with engine/geometry's cam_basis_f32). */
typedef struct wk_camera {
    float centre[3], forward[3], right[3], up[3];
} wk_camera;
/* How the warp samples the source colour (warp.py's FILTERS). */
typedef enum wk_warp_filter { WK_WARP_BILINEAR = 0, WK_WARP_CATMULL_ROM = 1 } wk_warp_filter;
/* Reprojects src[W, H, C] with its z-depth[W, H] from camera `from` into
 * camera `to` (focal length in pixels): out[W, H, C+1] is the warped colour
 * and a validity mask (tools/train/warp.py is the reference). */
int wk_warp(wk_backend *be, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
            float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size);

#endif
