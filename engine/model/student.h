/* student: the world-model student's forward pass on the backend, its
 * weights named as the PyTorch module tree (tools/train/model.py) names
 * them. One pass runs the network over one frame against a context of
 * sources whose keys and values sit in caller-owned per-layer KV arenas
 * ([D, rows]); the pass writes the frame's own keys and values into arena
 * rows [0, tokens). */
#ifndef WORLDKV_STUDENT_H
#define WORLDKV_STUDENT_H

#include "backend.h"
#include "conditioning.h"
#include "model_config.h"
#include "safetensors.h"

#define STUDENT_MAX_SOURCES 31   /* plus the frame itself: 32 groups */
/* The input image's channels: x_t, then the conditioning the caller
 * writes (the previous frame warped into this view and its mask, the best
 * memory slot warped the same way and its mask). */
#define STUDENT_CH_XT 0
#define STUDENT_CH_WARP_PREV 3
#define STUDENT_CH_WARP_MEM 7
#define STUDENT_SLOTS 8          /* passes one batch can hold */

typedef struct student student;

typedef struct student_source {
    float pose[5];
    cond_source type;
    int64_t row, rows; /* its keys' rows in the arenas */
} student_source;

typedef enum student_head { STUDENT_HEAD_RGB, STUDENT_HEAD_DEPTH } student_head;

typedef struct student_pass_in {
    const wk_tensor *image; /* [W, H, 11]: x_t, warp_prev, mask_prev, warp_mem, mask_mem */
    float t;                /* noise level; 0 for the clean pass */
    float motion[COND_MOTION_FEATURES];
    float pose[5];
    const student_source *sources;
    int source_count;
    student_head head;
    wk_tensor *out; /* rgb: x0 [W, H, 3]; depth: log depth [W, H, 1] */
} student_pass_in;

/* Uploads the weights from f (names under prefix), which must have passed
 * student_check_weights (the session checks first, once).
 * With trace, every pass also keeps its embedding, conditioning and block
 * outputs for student_trace (golden-vector tests). */
int student_create(wk_backend *be, const st_file *f, const model_config *cfg, const char *prefix, int trace,
                   student **out, char *err, size_t err_size);
void student_destroy(student *s);
/* Starts a new batch of passes (reuses the per-pass input slots). */
void student_begin(student *s);
/* Records one pass (inside wk_begin / wk_end). k_arena and v_arena hold
 * cfg->depth tensors each. */
int student_pass(student *s, const student_pass_in *in, wk_tensor *const *k_arena, wk_tensor *const *v_arena,
                 char *err, size_t err_size);
/* Traced values of the last pass: "embed" [D, N], "cond" [D],
 * "block0".."blockL" [D, N]; NULL when tracing is off or the name is unknown. */
const wk_tensor *student_trace(const student *s, const char *name);
/* ConvKV: compresses one frame's keys and values of one layer ([D, tokens]
 * on the token grid) into [D, tokens / compress^2], with the layer's
 * learned grouped conv. ctx is the student (a kvm_compress_fn). */
int student_compress(void *ctx, int index, const wk_tensor *k, const wk_tensor *v, wk_tensor *k_out,
                     wk_tensor *v_out, char *err, size_t err_size);
/* One frame, as the session asks for it: the sampler over the schedule's
 * first `steps` noise levels (x0 prediction on the straight path
 * x_t = (1 - t) x0 + t eps, clamped to [-1, 1], re-noised with noise[i + 1]
 * between steps), then the clean pass on the result (student_clean). At
 * entry the image holds noise[0] as x_t and the conditioning; on return x0c
 * holds the frame, the image's x_t channels hold it too, log_depth its depth
 * and the arenas' rows [0, N) its keys and values. x0 is scratch. */
typedef struct student_frame_in {
    wk_tensor *image;
    const wk_tensor *noise; /* steps tensors [W, H, 3] */
    int steps;
    float motion[COND_MOTION_FEATURES];
    float pose[5];
    const student_source *sources;
    int source_count;
    wk_tensor *x0, *x0c, *log_depth;
} student_frame_in;
int student_generate(student *s, const student_frame_in *in, wk_tensor *const *k_arena, wk_tensor *const *v_arena,
                     char *err, size_t err_size);
/* The clean pass (t = 0) over the frame in the image's x_t channels: writes
 * its keys and values into the arenas' rows [0, N) and its log depth. */
int student_clean(student *s, const student_frame_in *in, wk_tensor *const *k_arena, wk_tensor *const *v_arena,
                  char *err, size_t err_size);
const model_config *student_config(const student *s);
/* GFLOP of one frame at `steps` denoising steps: the passes, the clean pass
 * and the ConvKV compression (as tools/train/export.py counts them). */
double student_gflop_per_frame(const model_config *c, int steps);

#endif
