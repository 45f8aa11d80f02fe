/* The session: one frame per submit. Warp the previous frame (and the best
 * memory slot) into the new view, denoise from seeded noise through the
 * schedule, run the clean pass that writes the frame's keys, values and
 * depth, and commit it to the memory. Mirrors tools/train/infer.py. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "camera.h"
#include "image_io.h"
#include "kv_host_tier.h"
#include "kv_memory.h"
#include "model_config.h"
#include "safetensors.h"
#include "student.h"
#include "student_weights.h"
#include "session_internal.h"
#include "worldkv.h"

#define DEFAULT_SLOTS 32
#define POSE_LIMIT 1e6f /* metres and degrees: far beyond any world, well inside float precision */

int session_fail(int status, char *err, size_t err_size, const char *fmt, ...)
{
    if (err && err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, err_size, fmt, ap);
        va_end(ap);
    }
    return status;
}

int session_check_pose(const float pose[5], const char *what, char *err, size_t n)
{
    static const char *names[5] = {"x", "y", "z", "yaw", "pitch"};
    for (int i = 0; i < 5; i++)
        if (!isfinite(pose[i]) || fabsf(pose[i]) > POSE_LIMIT)
            return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "%s: %s is %g; it must be finite and at most %g", what,
                                names[i], (double)pose[i], (double)POSE_LIMIT);
    if (fabsf(pose[4]) > CAM_PITCH_LIMIT + 1e-3f)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "%s: pitch %g is outside [-%g, %g] degrees", what,
                            (double)pose[4], (double)CAM_PITCH_LIMIT, (double)CAM_PITCH_LIMIT);
    return WORLDKV_OK;
}

const char *worldkv_version(void)
{
    return WORLDKV_VERSION_STRING;
}

int worldkv_version_number(void)
{
    return WORLDKV_VERSION_NUMBER;
}

const char *worldkv_status_name(int status)
{
    switch (status) {
    case WORLDKV_OK: return "ok";
    case WORLDKV_ERR_ARGUMENT: return "bad argument";
    case WORLDKV_ERR_FILE: return "bad file";
    case WORLDKV_ERR_DEVICE: return "device failure";
    case WORLDKV_ERR_MEMORY: return "out of memory";
    case WORLDKV_ERR_IO: return "write failed";
    case WORLDKV_ERR_NONFINITE: return "non-finite output";
    case WORLDKV_ERR_STATE: return "session unusable";
    }
    return "unknown";
}

void worldkv_options_init(worldkv_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->struct_size = sizeof *opt;
}

static wk_camera warp_camera(const float pose[5])
{
    wk_camera c = {{pose[0], pose[1], pose[2]}, {0}, {0}, {0}};
    cam_basis_f32(pose, c.forward, c.right, c.up);
    return c;
}

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Gaussian noise by Box-Muller on the seeded stream. */
static void fill_noise(worldkv_session *s, int step, float *out, size_t n)
{
    if (s->noise_fn) {
        s->noise_fn(s->noise_user, s->time, step, out, n);
        return;
    }
    for (size_t i = 0; i < n; i += 2) {
        double u1 = ((double)(splitmix(&s->rng) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
        double u2 = (double)(splitmix(&s->rng) >> 11) * (1.0 / 9007199254740992.0);
        double r = sqrt(-2.0 * log(u1));
        out[i] = (float)(r * cos(6.283185307179586 * u2));
        if (i + 1 < n)
            out[i + 1] = (float)(r * sin(6.283185307179586 * u2));
    }
}

static int view(worldkv_session *s, const wk_tensor *t, int64_t channel, int64_t channels, wk_tensor *out, char *err,
                size_t n)
{
    int64_t h = s->cfg.image;
    return wk_tensor_view(s->be, t, channel * h * h, h, h, channels, 1, out, err, n);
}

/* Warps an image-store entry into `pose` (4 channels at `dst`). */
static int warp_entry(worldkv_session *s, int entry, const float *from, const float *to, const wk_tensor *dst,
                      char *err, size_t n)
{
    wk_tensor img, rgb, d;
    int64_t h = s->cfg.image;
    int rc = kvm_image(s->mem, entry, &img, err, n) ||
             wk_tensor_view(s->be, &img, 0, h, h, 3, 1, &rgb, err, n) ||
             wk_tensor_view(s->be, &img, 3 * h * h, h, h, 1, 1, &d, err, n);
    wk_camera a = warp_camera(from), b = warp_camera(to);
    rc = rc || wk_warp(s->be, &rgb, &d, &a, &b, cam_focal_px((int)h), (wk_warp_filter)s->cfg.warp_filter,
                       (wk_tensor *)dst, err, n);
    wk_tensor_view_release(s->be, &d), wk_tensor_view_release(s->be, &rgb), wk_tensor_view_release(s->be, &img);
    return rc ? -1 : 0;
}

/* The frame just made (in the image's x_t channels, its log depth in logd)
 * goes into the memory: its depth, its RGB, its keys and values. */
static int commit_frame(worldkv_session *s, char *err, size_t n)
{
    wk_tensor rgb;
    wk_set_label(s->be, "memory");
    int rc = wk_exp(s->be, &s->logd, &s->depth, err, n) || view(s, &s->image, STUDENT_CH_XT, 3, &rgb, err, n) ||
             kvm_commit(s->mem, s->pose, s->time, s->time, &rgb, &s->depth, student_compress, s->net, err, n);
    wk_set_label(s->be, NULL);
    wk_tensor_view_release(s->be, &rgb);
    return rc ? -1 : 0;
}

/* The model's inputs for one frame (the image, noises and outputs are the session's). */
static student_frame_in frame_in(worldkv_session *s, const float *motion, const student_source *src, int nsrc)
{
    student_frame_in in = {&s->image, s->noise, s->steps, {0}, {0}, src, nsrc, &s->x0, &s->x0c, &s->logd};
    memcpy(in.motion, motion, sizeof in.motion);
    memcpy(in.pose, s->pose, sizeof in.pose);
    return in;
}

/* Reads the frame and its non-finite flag back (one transfer) and converts
 * the frame to RGB8. */
static int finish(worldkv_session *s, uint8_t *rgb, char *err, size_t n)
{
    int64_t count = 3 * (int64_t)s->cfg.image * s->cfg.image;
    if (wk_tensor_get(s->be, &s->readout, s->host, err, n) != 0)
        return WORLDKV_ERR_DEVICE;
    if (s->host[count] != 0.0f)
        return session_fail(WORLDKV_ERR_NONFINITE, err, n,
                            "the model produced NaN or infinite values at frame %lld (damaged or unsuitable weights)",
                            (long long)s->stats.frames);
    if (rgb) { /* [3, H, W] in [-1, 1] to interleaved RGB8 */
        int64_t hw = count / 3;
        for (int64_t i = 0; i < hw; i++)
            for (int c = 0; c < 3; c++) {
                float v = (s->host[c * hw + i] + 1.0f) * 127.5f + 0.5f;
                rgb[i * 3 + c] = (uint8_t)(v < 0.0f ? 0.0f : (v > 255.0f ? 255.0f : v));
            }
    }
    return 0;
}

int worldkv_model_image_size(const char *model_path, int *size, char *err, size_t n)
{
    if (!model_path || !size)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_model_image_size needs a path and an int to fill");
    st_file *f = NULL;
    model_config c;
    int rc = st_open(model_path, &f, err, n) || model_config_parse(st_metadata(f, "config"), model_path, &c, err, n);
    st_close(f);
    *size = rc ? 0 : c.image;
    return rc ? WORLDKV_ERR_FILE : WORLDKV_OK;
}

/* The caller's options, copied into this library's layout: a caller built
 * against an older header passes fewer bytes, and the rest stay zero. */
static int copy_options(const worldkv_options *given, worldkv_options *opt, char *err, size_t n)
{
    memset(opt, 0, sizeof *opt);
    if (!given)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_create needs options");
    if (given->struct_size == 0)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n,
                            "the options' struct_size is 0: fill them with worldkv_options_init first");
    if (given->struct_size > sizeof *opt)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n,
                            "the options are %zu bytes, from a newer worldkv than this one (%s, %zu bytes)",
                            given->struct_size, WORLDKV_VERSION_STRING, sizeof *opt);
    memcpy(opt, given, given->struct_size);
    return WORLDKV_OK;
}

int worldkv_session_create(const worldkv_options *given, worldkv_session **out, char *err, size_t n)
{
    if (!out)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_create needs a session pointer to fill");
    *out = NULL;
    worldkv_options options, *opt = &options;
    int status = copy_options(given, opt, err, n);
    if (status)
        return status;
    if (!opt->model_path || (!opt->start_rgb && !opt->start_chw && !opt->start_image))
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "a session needs a model path and a start image");
    if ((status = session_check_pose(opt->start_pose, "the start pose", err, n)) != 0)
        return status;
    if (opt->steps < 0 || opt->memory_slots < 0 || opt->threads < 0)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "steps, memory_slots and threads must not be negative");
    if (opt->memory_host_mb < 0 || opt->memory_host_mb > 1 << 20)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "memory_host_mb must be 0 to %d, not %d", 1 << 20,
                            opt->memory_host_mb);
    if (opt->memory_bits && opt->memory_bits != 4 && opt->memory_bits != 8 && opt->memory_bits != 32)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "memory_bits must be 0 or 32 (float), 8 or 4, not %d",
                            opt->memory_bits);
    int kind = wk_backend_kind_parse(opt->backend);
    if (kind < 0)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "unknown backend '%s': use auto, cpu or vulkan",
                            opt->backend);
    worldkv_session *s = calloc(1, sizeof *s);
    if (!s)
        return session_fail(WORLDKV_ERR_MEMORY, err, n, "out of memory");
    wk_backend_options bo = {opt->validation, opt->profile, opt->device, (wk_backend_kind)kind, opt->threads};
    const char *prefix = opt->weights_prefix ? opt->weights_prefix : "";
    status = WORLDKV_ERR_FILE;
    if (st_open(opt->model_path, &s->file, err, n) ||
        model_config_parse(st_metadata(s->file, "config"), opt->model_path, &s->cfg, err, n) ||
        student_check_weights(s->file, &s->cfg, prefix, err, n))
        goto fail;
    status = WORLDKV_ERR_DEVICE;
    if (wk_backend_create(&bo, &s->be, err, n))
        goto fail;
    status = WORLDKV_ERR_MEMORY;
    if (student_create(s->be, s->file, &s->cfg, prefix, 0, &s->net, err, n))
        goto fail;
    const model_config *c = &s->cfg;
    if (opt->steps > c->steps) {
        status = session_fail(WORLDKV_ERR_ARGUMENT, err, n, "steps must be between 1 and %d for this model (0: all)",
                              c->steps);
        goto fail;
    }
    s->steps = opt->steps ? opt->steps : c->steps;
    s->model_fingerprint = st_fingerprint(s->file);
    s->memory_off = opt->memory_off;
    s->rng = opt->seed ^ 0x776f726c646b76ull;
    s->noise_fn = opt->noise_fn;
    s->noise_user = opt->noise_user;
    int64_t h = c->image;
    kvm_params mp = {c->depth, c->dim, c->tokens, c->tokens / (c->compress * c->compress),
                     c->window, opt->memory_off ? 0 : (opt->memory_slots ? opt->memory_slots : DEFAULT_SLOTS),
                     opt->memory_off ? 0 : c->memory_k, c->image, opt->memory_bits,
                     opt->memory_off ? 0 : (uint64_t)opt->memory_host_mb << 20};
    /* the readout's flag sits after the frame at an offset every device can bind (64 floats) */
    int64_t flag_at = (3 * h * h + 63) / 64 * 64;
    if (kvm_create(s->be, &mp, &s->mem, err, n) || wk_tensor_alloc(s->be, &s->image, h, h, 11, 1, err, n) ||
        wk_tensor_alloc(s->be, &s->x0, h, h, 3, 1, err, n) ||
        wk_tensor_alloc(s->be, &s->readout, flag_at + 1, 1, 1, 1, err, n) ||
        wk_tensor_view(s->be, &s->readout, 0, h, h, 3, 1, &s->x0c, err, n) ||
        wk_tensor_view(s->be, &s->readout, flag_at, 1, 1, 1, 1, &s->flag, err, n) ||
        wk_tensor_alloc(s->be, &s->logd, h, h, 1, 1, err, n) || wk_tensor_alloc(s->be, &s->depth, h, h, 1, 1, err, n) ||
        wk_tensor_alloc(s->be, &s->zeros4, h, h, 4, 1, err, n) ||
        wk_tensor_view(s->be, &s->zeros4, 0, 1, 1, 1, 1, &s->zero1, err, n))
        goto fail;
    for (int i = 0; i < s->steps; i++)
        if (wk_tensor_alloc(s->be, &s->noise[i], h, h, 3, 1, err, n))
            goto fail;
    s->host = calloc((size_t)(11 * h * h), sizeof(float));
    uint8_t *decoded = NULL;
    if (!s->host || (opt->start_image && !(decoded = malloc((size_t)(3 * h * h))))) {
        snprintf(err, n, "out of memory");
        goto fail;
    }
    if (decoded && image_read_rgb(opt->start_image, (int)h, (int)h, decoded, err, n) != 0) {
        free(decoded);
        status = WORLDKV_ERR_FILE;
        goto fail;
    }
    status = WORLDKV_ERR_DEVICE;
    const uint8_t *start_rgb = decoded ? decoded : opt->start_rgb;
    /* the start frame: its clean pass makes the sink and predicts its depth */
    for (int64_t i = 0; i < h * h; i++)
        for (int ch = 0; ch < 3; ch++)
            s->host[ch * h * h + i] =
                opt->start_chw ? opt->start_chw[ch * h * h + i] : (float)start_rgb[i * 3 + ch] / 127.5f - 1.0f;
    free(decoded);
    if (wk_tensor_set(s->be, &s->image, s->host, err, n) || wk_tensor_set(s->be, &s->zeros4, s->host + STUDENT_CH_WARP_MEM * h * h, err, n))
        goto fail;
    memcpy(s->pose, opt->start_pose, sizeof s->pose);
    float motion[COND_MOTION_FEATURES] = {0};
    student_begin(s->net);
    wk_tensor start;
    student_frame_in fi = frame_in(s, motion, NULL, 0);
    wk_set_label(s->be, "kv_pass");
    int rc = view(s, &s->image, STUDENT_CH_XT, 3, &start, err, n) || wk_begin(s->be, err, n) ||
             wk_copy(s->be, &s->zero1, &s->flag, err, n) ||
             student_clean(s->net, &fi, kvm_k_arenas(s->mem), kvm_v_arenas(s->mem), err, n) ||
             commit_frame(s, err, n) || wk_copy(s->be, &start, &s->x0c, err, n);
    wk_tensor_view_release(s->be, &start);
    if (rc) {
        wk_abort(s->be);
        goto fail;
    }
    if (wk_end(s->be, err, n))
        goto fail;
    s->time = 1;
    s->stats.frames = 1;
    /* a test hook: fail from frame N on, as a lost device would, so that the
     * apps' error paths can be tested without breaking a driver */
    const char *fault = getenv("WORLDKV_FAULT_AT_FRAME");
    s->fault_at_frame = fault ? strtoll(fault, NULL, 10) : 0;
    *out = s;
    return WORLDKV_OK;
fail:
    worldkv_session_destroy(s);
    return status;
}

void worldkv_session_destroy(worldkv_session *s)
{
    if (!s)
        return;
    if (s->be) {
        for (int i = MODEL_MAX_STEPS - 1; i >= 0; i--)
            wk_tensor_free(s->be, &s->noise[i]);
        wk_tensor_view_release(s->be, &s->zero1);
        wk_tensor_view_release(s->be, &s->flag);
        wk_tensor_view_release(s->be, &s->x0c);
        wk_tensor *t[] = {&s->zeros4, &s->depth, &s->logd, &s->readout, &s->x0, &s->image};
        for (size_t i = 0; i < sizeof t / sizeof t[0]; i++)
            wk_tensor_free(s->be, t[i]);
    }
    kvm_destroy(s->mem);
    student_destroy(s->net);
    wk_backend_destroy(s->be);
    st_close(s->file);
    free(s->host);
    free(s);
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* The profiler sums since its last reset; a step's share is the growth. */
static void note_stage_times(worldkv_session *s)
{
    const wk_profile_entry *e;
    int n = wk_profile(s->be, &e);
    s->stage_count = n < WORLDKV_MAX_STAGES ? n : WORLDKV_MAX_STAGES;
    for (int i = 0; i < s->stage_count; i++) {
        snprintf(s->stages[i].name, sizeof s->stages[i].name, "%s", e[i].name);
        s->stages[i].ms = e[i].total_ms - s->stage_seen_ms[i];
        s->stage_seen_ms[i] = e[i].total_ms;
    }
}

int worldkv_session_stage_times(const worldkv_session *s, worldkv_stage_time *out, int max)
{
    int n = s->stage_count < max ? s->stage_count : max;
    memcpy(out, s->stages, (size_t)n * sizeof *out);
    return n;
}

/* The step itself; the caller restores the pose and noise state when it fails. */
static int step_frame(worldkv_session *s, const float pose[5], uint8_t *rgb, char *err, size_t n);

int worldkv_session_step_to(worldkv_session *s, const float pose[5], uint8_t *rgb, char *err, size_t n)
{
    if (!s || !pose)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_step_to needs a session and a pose");
    int status = session_check_pose(pose, "step_to", err, n);
    if (status)
        return status;
    if (s->broken)
        return session_fail(WORLDKV_ERR_STATE, err, n,
                            "an earlier step failed (%s); load a snapshot into the session or create a new one",
                            worldkv_status_name(s->broken));
    if (s->fault_at_frame > 0 && s->stats.frames >= s->fault_at_frame)
        return session_fail(WORLDKV_ERR_DEVICE, err, n,
                            "the Vulkan device was lost (simulated: WORLDKV_FAULT_AT_FRAME=%lld)",
                            (long long)s->fault_at_frame);
    /* what the step changes on the host before its device work can fail */
    float pose_before[5];
    memcpy(pose_before, s->pose, sizeof pose_before);
    uint64_t rng_before = s->rng;
    status = step_frame(s, pose, rgb, err, n);
    if (status) {
        memcpy(s->pose, pose_before, sizeof s->pose);
        s->rng = rng_before;
        /* the memory may hold half of this frame (the batch ran, or part of it did) */
        s->broken = status;
    }
    return status;
}

static int step_frame(worldkv_session *s, const float pose[5], uint8_t *rgb, char *err, size_t n)
{
    const model_config *c = &s->cfg;
    const int64_t h = c->image, hw = h * h;
    double t0 = now_ms();
    float prev_pose[5], motion[COND_MOTION_FEATURES];
    memcpy(prev_pose, s->pose, sizeof prev_pose);
    memcpy(s->pose, pose, sizeof s->pose);
    cond_motion(prev_pose, s->pose, motion);

    /* what this frame reads: sink, window (newest first), retrieved slots */
    kvm_source ks[KVM_MAX_WINDOW + KVM_MAX_RETRIEVE + 1];
    double tf = now_ms();
    /* with a host tier, the slots to read come into the bank first (and the one given up goes out) */
    if (kvm_fetch(s->mem, s->pose, s->time, err, n) != 0)
        return WORLDKV_ERR_DEVICE;
    double tr = now_ms();
    int nks = kvm_sources(s->mem, s->pose, s->time, ks, (int)(sizeof ks / sizeof ks[0]));
    s->stats.last_fetch_us = kvm_host_tier(s->mem) ? 1000.0 * (tr - tf) : 0.0;
    s->stats.last_retrieval_us = 1000.0 * (now_ms() - tr);
    student_source src[STUDENT_MAX_SOURCES];
    int nsrc = 0, newest = 0, best_memory = -1;
    float newest_pose[5], memory_pose[5];
    for (int i = 0; i < nks && nsrc < STUDENT_MAX_SOURCES; i++) {
        src[nsrc] = (student_source){{0}, (cond_source)ks[i].kind, ks[i].row, ks[i].rows};
        memcpy(src[nsrc++].pose, ks[i].pose, sizeof ks[i].pose);
        if ((ks[i].kind == 1 && i == 0) || (ks[i].kind == 2 && i == 1)) { /* the newest frame */
            newest = ks[i].image;
            memcpy(newest_pose, ks[i].pose, sizeof newest_pose);
        }
        if (ks[i].kind == 3 && best_memory < 0) {
            best_memory = ks[i].image;
            memcpy(memory_pose, ks[i].pose, sizeof memory_pose);
        }
    }
    /* host inputs: every step's noise, the first straight into x_t */
    for (int i = 0; i < s->steps; i++) {
        fill_noise(s, i, s->host, (size_t)(3 * hw));
        if (wk_tensor_set(s->be, &s->noise[i], s->host, err, n))
            return WORLDKV_ERR_DEVICE;
    }
    wk_tensor xt, wprev, wmem;
    int rc = view(s, &s->image, STUDENT_CH_XT, 3, &xt, err, n) ||
             view(s, &s->image, STUDENT_CH_WARP_PREV, 4, &wprev, err, n) ||
             view(s, &s->image, STUDENT_CH_WARP_MEM, 4, &wmem, err, n);
    student_begin(s->net);
    double t_record = now_ms();
    wk_set_label(s->be, "warp");
    rc = rc || wk_begin(s->be, err, n) || kvm_stage(s->mem, err, n) || wk_copy(s->be, &s->zero1, &s->flag, err, n) ||
         wk_copy(s->be, &s->noise[0], &xt, err, n) ||
         warp_entry(s, newest, newest_pose, s->pose, &wprev, err, n) ||
         (best_memory >= 0 ? warp_entry(s, best_memory, memory_pose, s->pose, &wmem, err, n)
                           : wk_copy(s->be, &s->zeros4, &wmem, err, n));
    student_frame_in fi = frame_in(s, motion, src, nsrc);
    /* the raw output, before the clamp that turns NaN into -1 */
    rc = rc || student_generate(s->net, &fi, kvm_k_arenas(s->mem), kvm_v_arenas(s->mem), err, n) ||
         wk_flag_nonfinite(s->be, &s->x0, &s->flag, err, n) || commit_frame(s, err, n);
    wk_set_label(s->be, NULL);
    wk_tensor_view_release(s->be, &xt), wk_tensor_view_release(s->be, &wprev), wk_tensor_view_release(s->be, &wmem);
    if (rc) {
        wk_abort(s->be);
        return WORLDKV_ERR_DEVICE;
    }
    s->stats.dispatches = wk_dispatch_count(s->be);
    double ts = now_ms();
    if (wk_end(s->be, err, n))
        return WORLDKV_ERR_DEVICE;
    double tb = now_ms();
    /* an eager backend computed while the batch was recorded */
    s->stats.last_submit_ms = tb - (wk_backend_eager(s->be) ? t_record : ts);
    int status = finish(s, rgb, err, n);
    if (status)
        return status;
    s->stats.last_readback_ms = now_ms() - tb;
    note_stage_times(s);
    kvm_stats ms;
    kvm_get_stats(s->mem, &ms);
    s->stats.retrieved_count = ms.retrieved_count;
    for (int i = 0; i < ms.retrieved_count && i < 8; i++)
        s->stats.retrieved_frames[i] = ms.retrieved_frames[i];
    s->stats.last_step_ms = now_ms() - t0;
    s->time++;
    s->stats.frames++;
    return WORLDKV_OK;
}

int worldkv_session_step(worldkv_session *s, const float action[5], uint8_t *rgb, float pose[5], char *err, size_t n)
{
    if (!s || !action)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_step needs a session and an action");
    for (int i = 0; i < WORLDKV_ACTION_DIM; i++)
        if (!isfinite(action[i]))
            return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "action component %d is %g; it must be finite", i,
                                (double)action[i]);
    cam_pose p = {s->pose[0], s->pose[1], s->pose[2], s->pose[3], s->pose[4]};
    cam_action a = {action[0], action[1], action[2], action[3], action[4]};
    p = cam_step(p, a, CAM_FRAME_DT, NULL);
    float next[5] = {p.x, p.y, p.z, p.yaw, p.pitch};
    int status = worldkv_session_step_to(s, next, rgb, err, n);
    if (status)
        return status;
    if (pose)
        memcpy(pose, next, sizeof next);
    return WORLDKV_OK;
}

int worldkv_session_last_rgb(worldkv_session *s, uint8_t *rgb, char *err, size_t n)
{
    if (!s || !rgb)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_last_rgb needs a session and a buffer");
    return finish(s, rgb, err, n);
}

int worldkv_session_last_frame(worldkv_session *s, float *chw, float *depth, char *err, size_t n)
{
    if (!s)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_last_frame needs a session");
    if (chw && wk_tensor_get(s->be, &s->x0c, chw, err, n) != 0)
        return WORLDKV_ERR_DEVICE;
    if (depth && wk_tensor_get(s->be, &s->depth, depth, err, n) != 0)
        return WORLDKV_ERR_DEVICE;
    return WORLDKV_OK;
}

int session_refresh_last_frame(worldkv_session *s, char *err, size_t n)
{
    wk_tensor img, rgb;
    int64_t h = s->cfg.image;
    int rc = kvm_image(s->mem, kvm_newest_image(s->mem), &img, err, n) ||
             wk_tensor_view(s->be, &img, 0, h, h, 3, 1, &rgb, err, n);
    rc = rc || wk_begin(s->be, err, n);
    if (!rc && (wk_copy(s->be, &s->zero1, &s->flag, err, n) || wk_copy(s->be, &rgb, &s->x0c, err, n))) {
        wk_abort(s->be);
        rc = 1;
    } else if (!rc) {
        rc = wk_end(s->be, err, n);
    }
    wk_tensor_view_release(s->be, &rgb), wk_tensor_view_release(s->be, &img);
    return rc ? WORLDKV_ERR_DEVICE : WORLDKV_OK;
}

void worldkv_session_get_stats(const worldkv_session *s, worldkv_stats *out)
{
    *out = s->stats;
    kvm_stats ms;
    kvm_get_stats(s->mem, &ms);
    out->image_size = s->cfg.image;
    out->memory_slots_used = ms.slots_used;
    out->memory_slots = ms.slots;
    out->memory_bytes = ms.arena_bytes + ms.image_bytes;
    uint64_t used;
    wk_backend_memory(s->be, &out->device_bytes, &used, &out->device_blocks);
}

void worldkv_session_get_pose(const worldkv_session *s, float pose[5])
{
    memcpy(pose, s->pose, sizeof s->pose);
}

void worldkv_session_host_tier(const worldkv_session *s, int *slots, int *capacity, uint64_t *bytes, int *fetched,
                               int *spilled)
{
    kvm_stats ms;
    kvm_get_stats(s->mem, &ms);
    if (slots)
        *slots = ms.host_slots;
    if (capacity)
        *capacity = ms.host_capacity;
    if (bytes)
        *bytes = ms.host_bytes;
    if (fetched)
        *fetched = ms.fetched;
    if (spilled)
        *spilled = ms.spilled;
}

int worldkv_session_memory_map(const worldkv_session *s, worldkv_slot *out, int max)
{
    int n = 0;
    for (int i = 0; i < kvm_slot_count(s->mem) && n < max; i++) {
        const kvm_entry *e = kvm_bank_entry(s->mem, i);
        if (!e || !e->valid)
            continue;
        memcpy(out[n].pose, e->pose, sizeof out[n].pose);
        out[n].frame = e->frame;
        out[n].retrieved = 0;
        out[n].tier = WORLDKV_TIER_DEVICE;
        for (int j = 0; j < s->stats.retrieved_count && j < 8; j++)
            out[n].retrieved |= s->stats.retrieved_frames[j] == e->frame;
        n++;
    }
    kvh_tier *host = kvm_host_tier(s->mem);
    for (int id = 0; host && id < kvh_capacity(host) && n < max; id++) {
        const kvm_entry *e = kvh_entry(host, id);
        if (!e)
            continue;
        memcpy(out[n].pose, e->pose, sizeof out[n].pose);
        out[n].frame = e->frame;
        out[n].retrieved = 0; /* a frame reads only bank slots */
        out[n++].tier = WORLDKV_TIER_HOST;
    }
    return n;
}

void worldkv_session_print_profile(worldkv_session *s, FILE *out, int64_t frames)
{
    const wk_profile_entry *e;
    int n = wk_profile(s->be, &e);
    double total = 0;
    for (int i = 0; i < n; i++)
        total += e[i].total_ms;
    fprintf(out, "%-16s %10s %10s %8s\n", "op", "ms/frame", "calls", "share");
    for (int i = 0; i < n; i++)
        fprintf(out, "%-16s %10.3f %10.1f %7.1f%%\n", e[i].name, e[i].total_ms / (double)frames,
                (double)e[i].count / (double)frames, 100.0 * e[i].total_ms / (total > 0 ? total : 1));
    fprintf(out, "%-16s %10.3f\n", "all ops", total / (double)frames);
    wk_profile_reset(s->be);
    memset(s->stage_seen_ms, 0, sizeof s->stage_seen_ms);
}

int worldkv_backend_name_valid(const char *name)
{
    return name && wk_backend_kind_parse(name) >= 0;
}

const char *worldkv_session_backend_name(const worldkv_session *s)
{
    return wk_backend_name(s->be);
}

const char *worldkv_session_backend_reason(const worldkv_session *s)
{
    return wk_backend_reason(s->be);
}

const char *worldkv_session_device_name(const worldkv_session *s)
{
    return wk_backend_device_name(s->be);
}

double worldkv_session_gflop_per_frame(const worldkv_session *s)
{
    return student_gflop_per_frame(&s->cfg, s->steps);
}

int worldkv_session_image_size(const worldkv_session *s)
{
    return s->cfg.image;
}
