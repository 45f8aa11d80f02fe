#include "model_config.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

static int get_int(const cJSON *obj, const char *key, int lo, int hi, int *out, const char *name, char *err,
                   size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    /* range first: converting a double outside int's range is undefined behaviour */
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi) ||
        v->valuedouble != floor(v->valuedouble)) {
        snprintf(err, n, "%s: config field '%s' must be a whole number from %d to %d", name, key, lo, hi);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

/* An optional key that holds one of two values, fallback when absent. */
static int get_choice(const cJSON *obj, const char *key, int a, int b, int fallback, int *out, const char *name,
                      char *err, size_t n)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    *out = fallback;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || (v->valuedouble != a && v->valuedouble != b)) {
        snprintf(err, n, "%s: %s must be %d or %d", name, key, a, b);
        return -1;
    }
    *out = (int)v->valuedouble;
    return 0;
}

int model_config_parse(const char *json, const char *name, model_config *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (!json) {
        snprintf(err, err_size, "%s: no config in the file's metadata (was it written by tools/train/export.py?)", name);
        return -1;
    }
    cJSON *root = cJSON_Parse(json);
    int status = -1, version = 0, camera = 0;
    if (!cJSON_IsObject(root)) {
        snprintf(err, err_size, "%s: the config is not a JSON object", name);
        goto done;
    }
    if (get_int(root, "format_version", 1, 1000, &version, name, err, err_size) != 0)
        goto done;
    if (version != MODEL_FORMAT_VERSION) {
        snprintf(err, err_size, "%s: model format version %d, this engine reads version %d", name, version,
                 MODEL_FORMAT_VERSION);
        goto done;
    }
    const cJSON *cam = cJSON_GetObjectItemCaseSensitive(root, "camera");
    if (!cJSON_IsObject(cam) || get_int(cam, "version", 1, 1000, &camera, name, err, err_size) != 0)
        goto done;
    if (camera != MODEL_CAMERA_VERSION) {
        snprintf(err, err_size, "%s: camera model version %d, this engine has version %d", name, camera,
                 MODEL_CAMERA_VERSION);
        goto done;
    }
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(root, "model");
    if (!cJSON_IsObject(m)) {
        snprintf(err, err_size, "%s: the config has no 'model' object", name);
        goto done;
    }
    if (get_int(m, "image", 16, 1024, &out->image, name, err, err_size) ||
        get_int(m, "patch", 1, 64, &out->patch, name, err, err_size) ||
        get_int(m, "dim", 4, 8192, &out->dim, name, err, err_size) ||
        get_int(m, "depth", 1, 256, &out->depth, name, err, err_size) ||
        get_int(m, "heads", 1, 256, &out->heads, name, err, err_size) ||
        get_int(m, "mlp_ratio", 1, 16, &out->mlp_ratio, name, err, err_size) ||
        get_int(m, "head_channels", 1, 1024, &out->head_channels, name, err, err_size) ||
        get_int(m, "window", 1, 64, &out->window, name, err, err_size) ||
        get_int(m, "memory_k", 0, 14, &out->memory_k, name, err, err_size) ||
        get_int(m, "compress", 1, 8, &out->compress, name, err, err_size) ||
        get_int(m, "t_freq", 2, 4096, &out->t_freq, name, err, err_size))
        goto done;
    const cJSON *sched = cJSON_GetObjectItemCaseSensitive(m, "schedule");
    int steps = cJSON_IsArray(sched) ? cJSON_GetArraySize(sched) : 0;
    if (steps < 1 || steps > MODEL_MAX_STEPS) {
        snprintf(err, err_size, "%s: the schedule must list 1 to %d noise levels", name, MODEL_MAX_STEPS);
        goto done;
    }
    for (int i = 0; i < steps; i++) {
        const cJSON *t = cJSON_GetArrayItem(sched, i);
        if (!cJSON_IsNumber(t) || t->valuedouble <= 0.0 || t->valuedouble > 1.0 ||
            (i > 0 && t->valuedouble >= out->schedule[i - 1])) {
            snprintf(err, err_size, "%s: schedule[%d] must be in (0, 1] and below the level before it", name, i);
            goto done;
        }
        out->schedule[i] = (float)t->valuedouble;
    }
    out->steps = steps;
    /* files from before the key existed were trained with bilinear warps */
    const cJSON *filter = cJSON_GetObjectItemCaseSensitive(m, "warp_filter");
    out->warp_filter = 0;
    if (filter && !(cJSON_IsString(filter) && (!strcmp(filter->valuestring, "bilinear") ||
                                               !strcmp(filter->valuestring, "catmull_rom")))) {
        snprintf(err, err_size, "%s: warp_filter must be \"bilinear\" or \"catmull_rom\"", name);
        goto done;
    }
    if (filter && !strcmp(filter->valuestring, "catmull_rom"))
        out->warp_filter = 1;
    /* keys newer than the format: files from before them mean 4 (the head read the previous-frame warp
     * only) and 0 (no gates) */
    if (get_choice(m, "head_cond", 4, 8, 4, &out->head_cond, name, err, err_size) != 0 ||
        get_choice(m, "head_gates", 0, 2, 0, &out->head_gates, name, err, err_size) != 0 ||
        get_choice(m, "head_unet", 0, 1, 0, &out->head_unet, name, err, err_size) != 0)
        goto done;
    if (out->head_unet && out->image % 4) {
        snprintf(err, err_size, "%s: head_unet needs an image size that is a multiple of 4 (it halves it twice)",
                 name);
        goto done;
    }
    if (out->head_gates && out->head_cond != 8) {
        snprintf(err, err_size, "%s: head_gates needs head_cond 8 (the gates blend towards the memory warp)", name);
        goto done;
    }
    int side = out->patch ? out->image / out->patch : 0;
    if (out->image % out->patch || out->dim % out->heads || (out->dim / out->heads) % 4 ||
        out->dim / out->heads > 128 || side % out->compress || out->t_freq % 2) {
        snprintf(err, err_size,
                 "%s: inconsistent sizes (image %d must be a multiple of patch %d; dim %d a multiple of heads %d "
                 "with a head size that is a multiple of 4, at most 128; the token grid a multiple of compress %d)",
                 name, out->image, out->patch, out->dim, out->heads, out->compress);
        goto done;
    }
    out->tokens = side * side;
    status = 0;
done:
    cJSON_Delete(root);
    return status;
}
