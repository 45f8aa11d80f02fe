/* student_weights: the student's parameters as the PyTorch module tree in
 * tools/train/model.py names them. The structs' field names are the
 * checkpoint's names (blocks[i].fc1.weight is "blocks.i.fc1.weight"), and
 * one declaration table (student_weights.c) drives the check of a file,
 * the upload and the freeing. */
#ifndef WORLDKV_STUDENT_WEIGHTS_H
#define WORLDKV_STUDENT_WEIGHTS_H

#include <stddef.h>

#include "backend.h"
#include "model_config.h"
#include "safetensors.h"

#define STUDENT_IN_CHANNELS 11 /* x_t, warp_prev, mask_prev, warp_mem, mask_mem */
#define STUDENT_MOTION_FEATURES 8
#define STUDENT_SOURCE_FEATURES 11

/* nn.Linear(in, out): weight [out, in] in the file, ne (in, out) here. */
typedef struct nn_linear {
    wk_tensor weight, bias;
} nn_linear;

/* nn.Conv2d(in, out, k, groups): weight [out, in / groups, k, k]. */
typedef struct nn_conv2d {
    wk_tensor weight, bias;
} nn_conv2d;

/* model.Block. qkv is split in three at upload (rows [0, D), [D, 2D),
 * [2D, 3D) of qkv.weight): q, k and v are three products, so keys and
 * values land straight in the KV arenas. */
typedef struct student_block {
    nn_linear ada;
    nn_linear qkv[3];
    nn_linear proj, src_embed, fc1, fc2;
    nn_conv2d comp_k, comp_v;
} student_block;

/* model.HeadUNet (head_unet 1) */
typedef struct head_unet {
    nn_conv2d down1, down2, mid, up2, up1;
} head_unet;

/* model.Student */
typedef struct student_weights {
    nn_linear embed;
    wk_tensor pos;
    nn_linear t_embed1, t_embed2, cam_embed;
    student_block *blocks; /* cfg->depth of them */
    nn_linear final_ada, rgb_proj;
    nn_conv2d rgb_conv1, rgb_conv2;
    head_unet unet; /* zeroed without head_unet */
    nn_linear depth_proj;
    nn_conv2d depth_conv1, depth_conv2;
} student_weights;

typedef struct student_weight_spec {
    char name[ST_MAX_NAME];
    int ndim;
    long long shape[4];
} student_weight_spec;

/* Lists every required tensor (file names and shapes); returns the count
 * (at most max are written). */
int student_weight_specs(const model_config *c, student_weight_spec *out, int max);
/* Checks that f holds each (under prefix, e.g. "weights." in golden files)
 * as F32 with the right shape; err names the first tensor that does not. */
int student_check_weights(const st_file *f, const model_config *c, const char *prefix, char *err, size_t err_size);
/* Uploads every parameter into w (which it allocates). f must have passed
 * student_check_weights: the check (shapes, and a scan of every float for
 * NaN) runs once, where the caller can tell a damaged file from a device
 * failure. A tensor too short for its upload is still refused here. */
int student_weights_load(wk_backend *be, const st_file *f, const model_config *c, const char *prefix,
                         student_weights *w, char *err, size_t err_size);
/* Frees what load allocated (also after a failed load). */
void student_weights_free(wk_backend *be, const model_config *c, student_weights *w);

#endif
