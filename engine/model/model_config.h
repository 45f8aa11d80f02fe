/* model_config: the student's hyperparameters and sampler, read from the
 * JSON config an exported .safetensors carries in __metadata__["config"]
 * (written by tools/train/export.py). */
#ifndef WORLDKV_MODEL_CONFIG_H
#define WORLDKV_MODEL_CONFIG_H

#include <stddef.h>

#define MODEL_MAX_STEPS 8
#define MODEL_FORMAT_VERSION 1
#define MODEL_CAMERA_VERSION 1

typedef struct model_config {
    int image, patch, dim, depth, heads, mlp_ratio, head_channels;
    int window, memory_k, compress, t_freq;
    int steps;
    float schedule[MODEL_MAX_STEPS]; /* noise level of each sampling step */
    int tokens;                      /* (image / patch)^2 */
    int warp_filter;                 /* wk_warp_filter: 0 bilinear, 1 Catmull-Rom */
    int head_cond;                   /* conditioning channels the rgb conv head reads: 4 or 8 (+ memory warp) */
    int head_gates;                  /* 0, or 2: per-pixel gates towards the previous-frame and memory warps */
    int head_unet;                   /* 0, or 1: a small U-Net between the rgb head's convs (model.HeadUNet) */
} model_config;

/* Parses and checks the config (every field present, sizes consistent,
 * versions this engine knows). name labels messages. */
int model_config_parse(const char *json, const char *name, model_config *out, char *err, size_t err_size);

#endif
