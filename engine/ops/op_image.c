/* Image-shaped ops: upsampling, patchify/unpatchify and the reprojection warp. */
#include <math.h>
#include <string.h>

#include "backend_vk_internal.h"

static int resample(wk_backend *be, int mode, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    int64_t w = x->ne[0], h = x->ne[1], c = mode ? x->ne[2] / ((int64_t)f * f) : x->ne[2];
    if (f < 1 || (mode && x->ne[2] % ((int64_t)f * f)) || out->ne[0] != w * f || out->ne[1] != h * f ||
        out->ne[2] != c) {
        snprintf(err, err_size, "%s: shapes do not fit", mode ? "pixel_shuffle" : "upsample");
        return -1;
    }
    uint32_t spec[1] = {(uint32_t)mode};
    vkr_binding_kind kinds[2] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t c, h, w, f;
    } push = {(uint32_t)c, (uint32_t)h, (uint32_t)w, (uint32_t)f};
    vkr_pipeline *p = wk_vk_pipeline(be, "resample", spec, 1, kinds, 2, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[2] = {wk_buf(x), &out->buf};
    return wk_vk_dispatch(be, p, binds, &push, wk_div_up(wk_nelements(out), 256), 1, 1,
                          mode ? "pixel_shuffle" : "upsample", err, err_size);
}

int wk_upsample_nearest(wk_backend *be, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    return resample(be, 0, x, f, out, err, err_size);
}

int wk_pixel_shuffle(wk_backend *be, const wk_tensor *x, int f, wk_tensor *out, char *err, size_t err_size)
{
    return resample(be, 1, x, f, out, err, err_size);
}

static int patch(wk_backend *be, int unpatch, const wk_tensor *img, int p, const wk_tensor *tokens, char *err,
                 size_t err_size)
{
    int64_t w = img->ne[0], h = img->ne[1], c = img->ne[2];
    if (p < 1 || w % p || h % p || tokens->ne[0] != c * p * p || tokens->ne[1] != (w / p) * (h / p)) {
        snprintf(err, err_size, "%s: shapes do not fit (image %lldx%lldx%lld, patch %d)",
                 unpatch ? "unpatchify" : "patchify", (long long)w, (long long)h, (long long)c, p);
        return -1;
    }
    uint32_t spec[1] = {(uint32_t)unpatch};
    vkr_binding_kind kinds[2] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    struct {
        uint32_t c, h, w, p;
    } push = {(uint32_t)c, (uint32_t)h, (uint32_t)w, (uint32_t)p};
    vkr_pipeline *pl = wk_vk_pipeline(be, "patch", spec, 1, kinds, 2, sizeof push, err, err_size);
    if (!pl)
        return -1;
    vkr_buffer *binds[2] = {unpatch ? wk_buf(tokens) : wk_buf(img), unpatch ? wk_buf(img) : wk_buf(tokens)};
    return wk_vk_dispatch(be, pl, binds, &push, wk_div_up(w * h * c, 256), 1, 1, unpatch ? "unpatchify" : "patchify",
                          err, err_size);
}

int wk_patchify(wk_backend *be, const wk_tensor *img, int p, wk_tensor *tokens, char *err, size_t err_size)
{
    return patch(be, 0, img, p, tokens, err, err_size);
}

int wk_unpatchify(wk_backend *be, const wk_tensor *tokens, int p, wk_tensor *img, char *err, size_t err_size)
{
    return patch(be, 1, img, p, tokens, err, err_size);
}

int wk_warp(wk_backend *be, const wk_tensor *src, const wk_tensor *depth, const wk_camera *from, const wk_camera *to,
            float focal_px, wk_warp_filter filter, wk_tensor *out, char *err, size_t err_size)
{
    int64_t w = src->ne[0], h = src->ne[1], c = src->ne[2];
    if (filter != WK_WARP_BILINEAR && filter != WK_WARP_CATMULL_ROM) {
        snprintf(err, err_size, "warp: unknown filter %d", (int)filter);
        return -1;
    }
    if (w < 2 || h < 2 || depth->ne[0] != w || depth->ne[1] != h || wk_nelements(depth) != w * h ||
        out->ne[0] != w || out->ne[1] != h || out->ne[2] != c + 1 || focal_px <= 0) {
        snprintf(err, err_size, "warp: shapes do not fit (the output is [W, H, C + 1])");
        return -1;
    }
    /* centres and bases as vec4s; W, H, C and the focal length ride in .w */
    float push[32];
    const wk_camera *cams[2] = {from, to};
    for (int i = 0; i < 2; i++) {
        const float *vecs[4] = {cams[i]->centre, cams[i]->forward, cams[i]->right, cams[i]->up};
        for (int j = 0; j < 4; j++) {
            memcpy(&push[16 * i + 4 * j], vecs[j], 3 * sizeof(float));
            push[16 * i + 4 * j + 3] = 0.0f;
        }
    }
    push[3] = (float)w;
    push[7] = (float)h;
    push[11] = (float)c;
    push[15] = focal_px;
    uint32_t spec[2] = {3, (uint32_t)filter};
    vkr_binding_kind kinds[3] = {VKR_BIND_STORAGE, VKR_BIND_STORAGE, VKR_BIND_STORAGE};
    vkr_pipeline *p = wk_vk_pipeline(be, "warp", spec, 2, kinds, 3, sizeof push, err, err_size);
    if (!p)
        return -1;
    vkr_buffer *binds[3] = {wk_buf(src), wk_buf(depth), &out->buf};
    return wk_vk_dispatch(be, p, binds, push, wk_div_up(w * h, 64), 1, 1, "warp", err, err_size);
}

wk_camera wk_camera_from_pose(const float pose[5])
{
    float y = pose[3] * 0.017453292519943295f, t = pose[4] * 0.017453292519943295f;
    wk_camera c = {{pose[0], pose[1], pose[2]},
                   {sinf(y) * cosf(t), sinf(t), -cosf(y) * cosf(t)},
                   {cosf(y), 0.0f, sinf(y)},
                   {-sinf(y) * sinf(t), cosf(t), cosf(y) * sinf(t)}};
    return c;
}
