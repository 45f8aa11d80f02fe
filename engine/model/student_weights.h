/* student_weights: the tensors a student checkpoint must hold, named as
 * the PyTorch module tree in tools/train/model.py names them. */
#ifndef WORLDKV_STUDENT_WEIGHTS_H
#define WORLDKV_STUDENT_WEIGHTS_H

#include <stddef.h>

#include "model_config.h"
#include "safetensors.h"

#define STUDENT_IN_CHANNELS 11 /* x_t, warp_prev, mask_prev, warp_mem, mask_mem */
#define STUDENT_MOTION_FEATURES 8
#define STUDENT_SOURCE_FEATURES 11

typedef struct student_weight_spec {
    char name[ST_MAX_NAME];
    int ndim;
    long long shape[4];
} student_weight_spec;

/* Lists every required tensor; returns the count (at most max). */
int student_weight_specs(const model_config *c, student_weight_spec *out, int max);
/* Checks that f holds each (under prefix, e.g. "weights." in golden files)
 * as F32 with the right shape; err names the first tensor that does not. */
int student_check_weights(const st_file *f, const model_config *c, const char *prefix, char *err, size_t err_size);

#endif
