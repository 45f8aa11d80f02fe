#include "app_start.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asset_path.h"
#include "render.h"

static const char *model_path(const char *model, char *buf, size_t buf_size)
{
    if (model)
        return model;
    if (getenv("WORLDKV_MODEL"))
        return getenv("WORLDKV_MODEL");
    return asset_path("models/student.safetensors", buf, buf_size);
}

int app_start_prepare(const char *model, const char *image, uint64_t world_seed, app_start *st, worldkv_options *opt,
                      char *err, size_t err_size)
{
    memset(st, 0, sizeof *st);
    char buf[sizeof st->model];
    snprintf(st->model, sizeof st->model, "%s", model_path(model, buf, sizeof buf));
    opt->model_path = st->model;
    if (worldkv_model_image_size(st->model, &st->size, err, err_size) != 0)
        return -1;
    cam_pose p0 = {0, CAM_EYE_HEIGHT, 0, 0, 0};
    if (image) {
        opt->start_image = image;
    } else {
        st->world = world_create(world_seed, WORLD_DEFAULT_CELLS, err, err_size);
        if (!st->world)
            return -1;
        p0 = world_default_start(st->world);
        st->rgb = malloc((size_t)st->size * (size_t)st->size * 3);
        if (!st->rgb || world_render(st->world, p0, st->size, st->size, st->rgb, NULL) != 0) {
            snprintf(err, err_size, "cannot render world %llu's start at %d pixels", (unsigned long long)world_seed,
                     st->size);
            app_start_free(st);
            return -1;
        }
        opt->start_rgb = st->rgb;
    }
    float pose[5] = {p0.x, p0.y, p0.z, p0.yaw, p0.pitch};
    memcpy(opt->start_pose, pose, sizeof pose);
    return 0;
}

void app_start_free(app_start *st)
{
    world_destroy(st->world);
    free(st->rgb);
    st->world = NULL;
    st->rgb = NULL;
}
