/* worldkv-bench: measured numbers for the device worldkv runs on.
 *   worldkv-bench devices        list the Vulkan devices and the one chosen
 *   worldkv-bench ops [--json]   GFLOP/s and GB/s per op and shape
 * Tables by default; --json prints one object per line with op, shape, ms,
 * gflops and device, the convention every worldkv benchmark follows. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "asset_path.h"
#include "backend.h"
#include "bench_json.h"
#include "bench_return.h"
#include "bench_tiers.h"
#include "cli_args.h"
#include "cli_number.h"
#include "proc_memory.h"
#include "render.h"
#include "trajectory.h"
#include "world.h"
#include "worldkv.h"

typedef struct bench_opts {
    int json;
    const char *device;
    double seconds;
    const char *model;
    int frames, steps, profile;
    int memory_every; /* a memory record every N frames (0: at frames 100, 1,000, 10,000 and the last) */
    const char *backend; /* auto (NULL), cpu or vulkan */
    int memory_bits;     /* 0 float, 8 int8 slots */
    int memory_host_mb;  /* 0: no host tier */
    uint64_t world_seed; /* return, and generate with world_given: the world */
    int frames_given, world_given;
    const char *png; /* return: the return frames as a picture */
} bench_opts;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: worldkv-bench devices\n"
                 "       worldkv-bench ops [--backend B] [--json] [--device NAME|INDEX] [--seconds T]\n"
                 "       worldkv-bench generate [--model FILE] [--backend B] [--frames N] [--steps S] [--profile]\n"
                 "                              [--memory-every N] [--memory-bits 4|8|32] [--memory-host-mb N]\n"
                 "                              [--world-seed S] [--json]\n"
                 "       worldkv-bench return [--model FILE] [--world-seed S] [--frames N] [--memory-host-mb N]\n"
                 "                            [--memory-bits 4|8|32] [--backend B] [--png FILE] [--json]\n"
                 "       worldkv-bench tiers [--frames N] [--memory-every N] [--memory-bits 4|8|32]\n"
                 "                           [--memory-host-mb N] [--world-seed S] [--backend B] [--json]\n"
                 "\n"
                 "  devices        list the Vulkan devices and which backend and device worldkv picks, and why\n"
                 "  ops            time each op on representative shapes (matmul at 1024^3, layer\n"
                 "                 shapes, the per-dispatch overhead) and print GFLOP/s and GB/s\n"
                 "  generate       generate N frames (default 40) with a model while walking and turning;\n"
                 "                 frames/s with and without readback, device ms per stage (--profile),\n"
                 "                 retrieval time, dispatches, GFLOP/s, host and device memory at frames\n"
                 "                 100, 1000, 10000 and the last (or every N frames: --memory-every N);\n"
                 "                 every frame's raw output is checked for NaN and infinity on the device;\n"
                 "                 with --world-seed S, along an explorer's path through world S from its\n"
                 "                 true first view instead (host tier slots, retrieval and fetch time)\n"
                 "  return         the long return: an explorer walks N frames (default 3000) through world S\n"
                 "                 (default 9001) to cells it has not seen, then home to the start view; SSIM\n"
                 "                 and PSNR there with the host tier (--memory-host-mb, default 64) and\n"
                 "                 without, beside a 128-frame out-and-back from the same start; places\n"
                 "                 visited, bytes per tier, retrieval and fetch time per frame; --png FILE:\n"
                 "                 the start view and the three returns to it side by side\n"
                 "  tiers          the memory tiers alone at the student's sizes, for N frames (default\n"
                 "                 100000) along an explorer's path through world S, the model left out:\n"
                 "                 device bytes, host tier bytes against its budget (default 64 MiB),\n"
                 "                 retrieval and fetch time per frame, every N frames (default 10000)\n"
                 "  --json         one JSON object per line: op, shape, ms, gflops, gbps, device\n"
                 "  --model FILE   the model (default: the shipped assets/models/student.safetensors)\n"
                 "  --backend B    auto, cpu or vulkan (default: $WORLDKV_BACKEND, else auto)\n"
                 "  --device X     a device index or name substring (default: $WORLDKV_DEVICE, else best)\n"
                 "  --seconds T    time spent on each case (default 1.0)\n");
}

static int cmd_devices(void)
{
    char err[512];
    wk_backend_list_devices(stdout);
    wk_backend *be;
    if (wk_backend_create(NULL, &be, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench: %s\n", err);
        return 1;
    }
    printf("chosen: %s backend, %s (%s)\n", wk_backend_name(be), wk_backend_device_name(be), wk_backend_reason(be));
    wk_backend_destroy(be);
    return 0;
}

static void report(const bench_opts *o, const wk_backend *be, const char *op, const char *shape, double ms,
                   double flops, double bytes)
{
    double gflops = flops / (ms * 1e6), gbps = bytes / (ms * 1e6);
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "op", op);
        cJSON_AddStringToObject(j, "shape", shape);
        bench_add_finite(j, "ms", ms);
        bench_add_finite(j, "gflops", gflops);
        bench_add_finite(j, "gbps", gbps);
        cJSON_AddStringToObject(j, "backend", wk_backend_name(be));
        cJSON_AddStringToObject(j, "device", wk_backend_device_name(be));
        bench_print_json(j);
    } else
        printf("%-22s %-22s %10.4f %10.2f %10.2f\n", op, shape, ms, gflops, gbps);
    fflush(stdout);
}

static int fill(wk_backend *be, wk_tensor *t, char *err, size_t n)
{
    int64_t count = wk_nelements(t);
    float *x = malloc(sizeof(float) * (size_t)count);
    if (!x)
        return -1;
    for (int64_t i = 0; i < count; i++)
        x[i] = (float)((i * 7919) % 2001) / 1000.0f - 1.0f;
    int rc = wk_tensor_set(be, t, x, err, n);
    free(x);
    return rc;
}

/* Runs `reps` matmuls per batch until `seconds` pass; returns ms per op. */
static double time_matmul(wk_backend *be, int64_t M, int64_t N, int64_t K, int f16_weights, int reps, double seconds,
                          char *err, size_t n)
{
    wk_tensor a, w, b, o;
    double ms = -1;
    int ok = wk_tensor_alloc(be, &a, K, M, 1, 1, err, n) == 0 &&
             (f16_weights ? wk_tensor_alloc_f16(be, &w, K, N, 1, 1, err, n)
                          : wk_tensor_alloc(be, &w, K, N, 1, 1, err, n)) == 0 &&
             wk_tensor_alloc(be, &b, N, 1, 1, 1, err, n) == 0 && wk_tensor_alloc(be, &o, N, M, 1, 1, err, n) == 0 &&
             fill(be, &a, err, n) == 0 && fill(be, &w, err, n) == 0 && fill(be, &b, err, n) == 0;
    if (ok) {
        int total = 0;
        double t0 = 0;
        for (int round = 0; ok; round++) {
            if (round == 1) /* the first round pays for pipeline creation */
                t0 = now_s(), total = 0;
            ok = wk_begin(be, err, n) == 0;
            for (int r = 0; ok && r < reps; r++)
                ok = wk_matmul(be, &a, &w, &b, NULL, WK_ACT_NONE, &o, err, n) == 0;
            ok = ok && wk_end(be, err, n) == 0;
            total += reps;
            if (round >= 1 && now_s() - t0 >= seconds)
                break;
        }
        if (ok)
            ms = 1000.0 * (now_s() - t0) / total;
    }
    wk_tensor_free(be, &o);
    wk_tensor_free(be, &b);
    wk_tensor_free(be, &w);
    wk_tensor_free(be, &a);
    return ms;
}

static int cmd_ops(const bench_opts *o)
{
    char err[512];
    wk_backend *be;
    wk_backend_options bo = {0, 0, o->device, (wk_backend_kind)wk_backend_kind_parse(o->backend), 0};
    if (wk_backend_create(&bo, &be, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench: %s\n", err);
        return 1;
    }
    if (!o->json)
        printf("%s backend: %s (%s), matmul kernel: %s\n%-22s %-22s %10s %10s %10s\n", wk_backend_name(be),
               wk_backend_device_name(be), wk_backend_device_type(be),
               getenv("WORLDKV_MATMUL") && *getenv("WORLDKV_MATMUL") ? getenv("WORLDKV_MATMUL") : "default for the device",
               "op", "shape (MxNxK)", "ms", "GFLOP/s", "GB/s");
    /* M x N x K, and whether the weights are stored as f16 */
    static const int64_t shapes[][4] = {
        {1024, 1024, 1024, 0}, {4096, 256, 256, 0}, {64, 768, 256, 0}, {64, 256, 768, 0},
        {64, 256, 256, 0},     {64, 768, 704, 0},   {1024, 1024, 1024, 1}, {64, 768, 256, 1},
    };
    int status = 0;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        int64_t M = shapes[i][0], N = shapes[i][1], K = shapes[i][2];
        int f16 = (int)shapes[i][3];
        if (f16 && !strcmp(wk_backend_name(be), "cpu"))
            continue; /* the CPU backend keeps weights in f32 */
        double ms = time_matmul(be, M, N, K, f16, M * N * K >= (1 << 26) ? 4 : 64, o->seconds, err, sizeof err);
        if (ms < 0) {
            fprintf(stderr, "worldkv-bench: %s\n", err);
            status = 1;
            break;
        }
        char shape[64];
        snprintf(shape, sizeof shape, "%lldx%lldx%lld", (long long)M, (long long)N, (long long)K);
        report(o, be, f16 ? "matmul_f16_weights" : "matmul", shape, ms, 2.0 * (double)M * N * K,
               4.0 * (double)(M * K + M * N) + (f16 ? 2.0 : 4.0) * (double)(N * K));
    }
    if (status == 0) {
        /* the fixed cost of one dispatch: 1000 tiny matmuls in one submit */
        double ms = time_matmul(be, 1, 4, 4, 0, 1000, o->seconds, err, sizeof err);
        if (ms >= 0)
            report(o, be, "dispatch_overhead", "1x4x4", ms, 32.0, 96.0);
        else
            status = 1;
    }
    wk_backend_destroy(be);
    return status;
}

/* The explorer's path through world `seed` (traj_explore), frames + 1
 * poses, and the true view at its first pose, size x size, for the start. */
static int load_explorer_path(uint64_t seed, int frames, int size, cam_pose **out, uint8_t *start)
{
    char err[256];
    *out = NULL;
    world *w = world_create(seed, WORLD_DEFAULT_CELLS, err, sizeof err);
    cam_pose *poses = malloc(sizeof *poses * (size_t)(frames + 2));
    cam_action *actions = malloc(sizeof *actions * (size_t)(frames + 2));
    int used = 0;
    if (!w || !poses || !actions || traj_explore(w, seed * 7919 + 1, frames + 1, frames + 2, poses, actions, &used)) {
        fprintf(stderr, "worldkv-bench: %s\n", w ? "out of memory" : err);
        world_destroy(w), free(poses), free(actions);
        return -1;
    }
    world_render(w, poses[0], size, size, start, NULL);
    world_destroy(w);
    free(actions);
    *out = poses;
    return 0;
}

/* Whole frames through the public API: the numbers a user sees. */
static int cmd_generate(const bench_opts *o)
{
    char err[512];
    static uint8_t start[512 * 512 * 3], rgb[512 * 512 * 3];
    for (size_t i = 0; i < sizeof start; i++)
        start[i] = (uint8_t)(96 + (i / 3 / 64) % 64);
    worldkv_options wo;
    worldkv_options_init(&wo);
    wo.model_path = o->model;
    wo.start_rgb = start;
    wo.steps = o->steps;
    wo.device = o->device;
    wo.backend = o->backend;
    wo.start_pose[1] = 1.6f;
    wo.profile = o->profile;
    wo.memory_bits = o->memory_bits;
    wo.memory_host_mb = o->memory_host_mb;
    cam_pose *path = NULL;
    if (o->world_given) {
        int size = 0;
        if (worldkv_model_image_size(o->model, &size, err, sizeof err) != 0 || size > 512) {
            fprintf(stderr, "worldkv-bench: %s\n", size > 512 ? "frames over 512 x 512" : err);
            return 1;
        }
        if (load_explorer_path(o->world_seed, o->frames, size, &path, start) != 0)
            return 1;
        float p0[5] = {path[0].x, path[0].y, path[0].z, path[0].yaw, path[0].pitch};
        memcpy(wo.start_pose, p0, sizeof p0);
    }
    worldkv_session *s = NULL;
    double t0 = now_s();
    if (worldkv_session_create(&wo, &s, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench: %s\n", err);
        free(path);
        return 1;
    }
    double setup = now_s() - t0;
    /* walk and turn: the memory bank fills and retrieval has work; with a world, the explorer's path
     * through it (it goes on to every cell, then wanders), so a host tier fills with distinct places */
    static const float walk[5] = {0.6f, 0.0f, 0.4f, 0.0f, 0.0f};
    double first = 0, step_sum = 0, submit_sum = 0, retrieval_sum = 0, readback_sum = 0, fetch_sum = 0;
    double interval_tier_us = 0, interval_tier_max = 0, tier_max = 0;
    int interval_frames = 0;
    /* the session checks every frame's raw output: a non-finite frame ends the run with an error, so a
     * report below always says 0 of them */
    int timed = 0;
    worldkv_stats st;
    for (int i = 0; i < o->frames; i++) {
        double t = now_s();
        int status;
        if (path) {
            float pose[5] = {path[i + 1].x, path[i + 1].y, path[i + 1].z, path[i + 1].yaw, path[i + 1].pitch};
            status = worldkv_session_step_to(s, pose, rgb, err, sizeof err);
        } else
            status = worldkv_session_step(s, walk, rgb, NULL, err, sizeof err);
        if (status != 0) {
            fprintf(stderr, "worldkv-bench: frame %d: %s (%s)\n", i + 1, err, worldkv_status_name(status));
            free(path);
            worldkv_session_destroy(s);
            return 1;
        }
        double dt = now_s() - t;
        worldkv_session_get_stats(s, &st);
        if (i == 0) {
            first = dt; /* pays for pipeline compilation */
        } else {
            step_sum += dt;
            submit_sum += st.last_submit_ms;
            retrieval_sum += st.last_retrieval_us;
            fetch_sum += st.last_fetch_us;
            readback_sum += st.last_readback_ms;
            timed++;
            double tier_us = st.last_retrieval_us + st.last_fetch_us;
            interval_tier_us += tier_us, interval_frames++;
            interval_tier_max = tier_us > interval_tier_max ? tier_us : interval_tier_max;
            tier_max = tier_us > tier_max ? tier_us : tier_max;
        }
        int n = i + 1;
        int record = o->memory_every ? (n % o->memory_every == 0 || n == 1)
                                     : (n == 100 || n == 1000 || n == 10000 || n == o->frames);
        if (record) {
            long rss, peak;
            proc_memory_kb(&rss, &peak);
            uint64_t dev_blocks = st.device_bytes, host_bytes;
            int blocks = st.device_blocks, host_slots, host_capacity;
            worldkv_session_host_tier(s, &host_slots, &host_capacity, &host_bytes, NULL, NULL);
            if (o->json) {
                cJSON *j = cJSON_CreateObject();
                cJSON_AddStringToObject(j, "op", "memory");
                cJSON_AddNumberToObject(j, "frame", n);
                cJSON_AddNumberToObject(j, "host_rss_kb", (double)rss);
                cJSON_AddNumberToObject(j, "host_peak_kb", (double)peak);
                cJSON_AddNumberToObject(j, "device_bytes", (double)dev_blocks);
                cJSON_AddNumberToObject(j, "kv_memory_bytes", (double)st.memory_bytes);
                cJSON_AddNumberToObject(j, "slots_used", st.memory_slots_used);
                cJSON_AddNumberToObject(j, "host_tier_slots", host_slots);
                cJSON_AddNumberToObject(j, "host_tier_bytes", (double)host_bytes);
                cJSON_AddNumberToObject(j, "host_tier_budget_bytes", (double)((uint64_t)o->memory_host_mb << 20));
                bench_add_finite(j, "retrieval_fetch_us_mean", interval_frames ? interval_tier_us / interval_frames : 0.0);
                bench_add_finite(j, "retrieval_fetch_us_max", interval_tier_max);
                cJSON_AddNumberToObject(j, "nonfinite_frames", 0);
                bench_add_finite(j, "ms_per_frame_so_far", timed ? 1000.0 * step_sum / timed : 0.0);
                bench_print_json(j);
            } else
                printf("frame %5d: host RSS %ld kB (peak %ld kB), device %.2f MiB in %d blocks, KV memory %.2f MiB, "
                       "%d/%d slots, host tier %d/%d slots (%.2f MiB), retrieval + fetch %.0f us (max %.0f)\n",
                       n, rss, peak, (double)dev_blocks / (1 << 20), blocks, (double)st.memory_bytes / (1 << 20),
                       st.memory_slots_used, st.memory_slots, host_slots, host_capacity, (double)host_bytes / (1 << 20),
                       interval_frames ? interval_tier_us / interval_frames : 0.0, interval_tier_max);
            fflush(stdout);
            interval_tier_us = interval_tier_max = 0, interval_frames = 0;
        }
    }
    free(path);
    double ms = timed ? 1000.0 * step_sum / timed : 1000.0 * first;
    double device_ms = timed ? submit_sum / timed : 0;
    double gflop = worldkv_session_gflop_per_frame(s);
    if (o->profile && !o->json)
        worldkv_session_print_profile(s, stdout, o->frames);
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        char shape[32];
        snprintf(shape, sizeof shape, "%dx%d", st.image_size, st.image_size);
        cJSON_AddStringToObject(j, "op", "generate");
        cJSON_AddStringToObject(j, "shape", shape);
        cJSON_AddNumberToObject(j, "frames", o->frames);
        bench_add_finite(j, "ms", ms);
        bench_add_finite(j, "fps", 1000.0 / ms);
        bench_add_finite(j, "device_ms", device_ms);
        bench_add_finite(j, "fps_without_readback", device_ms > 0 ? 1000.0 / device_ms : 0.0);
        bench_add_finite(j, "retrieval_us", timed ? retrieval_sum / timed : 0.0);
        bench_add_finite(j, "fetch_us", timed ? fetch_sum / timed : 0.0);
        bench_add_finite(j, "retrieval_fetch_us_max", tier_max);
        cJSON_AddNumberToObject(j, "memory_host_mb", o->memory_host_mb);
        bench_add_finite(j, "readback_ms", timed ? readback_sum / timed : 0.0);
        bench_add_finite(j, "first_frame_ms", 1000.0 * first);
        bench_add_finite(j, "setup_s", setup);
        cJSON_AddNumberToObject(j, "dispatches", st.dispatches);
        bench_add_finite(j, "gflop_per_frame", gflop);
        bench_add_finite(j, "gflops", gflop / (ms / 1000.0));
        cJSON_AddNumberToObject(j, "nan_frames", 0);
        cJSON_AddNumberToObject(j, "memory_bits", o->memory_bits ? o->memory_bits : 32);
        cJSON_AddStringToObject(j, "backend", worldkv_session_backend_name(s));
        cJSON_AddStringToObject(j, "backend_reason", worldkv_session_backend_reason(s));
        cJSON_AddStringToObject(j, "device", worldkv_session_device_name(s));
        bench_print_json(j);
    }
    else
        printf("model %s on the %s backend, %s: %dx%d frames, %d generated, %d-bit memory slots\n"
               "  setup %.2f s, first frame %.1f ms\n"
               "  %.2f ms/frame end to end: %.2f frames/s (readback and RGB8 included)\n"
               "  %.2f ms/frame on the device: %.2f frames/s without readback\n"
               "  retrieval %.1f us, host tier fetch %.1f us (the two at most %.0f us), readback %.3f ms;\n"
               "  %u dispatches in one submit a frame\n"
               "  %.3f GFLOP a frame: %.2f GFLOP/s achieved; NaN frames: 0\n",
               o->model, worldkv_session_backend_name(s), worldkv_session_device_name(s), st.image_size,
               st.image_size, o->frames, o->memory_bits ? o->memory_bits : 32, setup,
               1000.0 * first, ms, 1000.0 / ms, device_ms, device_ms > 0 ? 1000.0 / device_ms : 0.0,
               timed ? retrieval_sum / timed : 0.0, timed ? fetch_sum / timed : 0.0, tier_max,
               timed ? readback_sum / timed : 0.0, st.dispatches, gflop,
               gflop / (ms / 1000.0));
    worldkv_session_destroy(s);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("worldkv-bench %s\n", WORLDKV_VERSION_STRING);
        return 0;
    }
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    char model_default[1024];
    bench_opts o = {0, NULL, 1.0, asset_path("models/student.safetensors", model_default, sizeof model_default),
                    40, 0, 0, 0, NULL, 0, 0, 9001, 0, 0, NULL};
    static const cli_option options[] = {
        {"--help", 'h', 0},  {"--json", 0, 0},  {"--profile", 0, 0},      {"--device", 0, 1},
        {"--seconds", 0, 1}, {"--model", 0, 1}, {"--backend", 0, 1},      {"--memory-every", 0, 1},
        {"--frames", 0, 1},  {"--steps", 0, 1},   {"--memory-bits", 0, 1},  {"--memory-host-mb", 0, 1},
        {"--world-seed", 0, 1}, {"--png", 0, 1},
    };
    char prog[64];
    snprintf(prog, sizeof prog, "worldkv-bench %.32s", argv[1]);
    cli_args args;
    cli_args_init(&args, prog, argc, argv, 2, options, (int)(sizeof options / sizeof options[0]));
    const char *a, *v;
    int more;
    while ((more = cli_args_next_named(&args, &a, &v)) != 0) {
        long long x;
        if (more < 0)
            return 2;
        if (!strcmp(a, "--json"))
            o.json = 1;
        else if (!strcmp(a, "--profile"))
            o.profile = 1;
        else if (!strcmp(a, "--device"))
            o.device = v;
        else if (!strcmp(a, "--model"))
            o.model = v;
        else if (!strcmp(a, "--png"))
            o.png = v;
        else if (!strcmp(a, "--seconds")) {
            if (cli_real(prog, a, v, 0.001, 600, &o.seconds) != 0)
                return 2;
        } else if (!strcmp(a, "--backend")) {
            o.backend = v;
            if (!worldkv_backend_name_valid(v)) {
                fprintf(stderr, "%s: --backend expects auto, cpu or vulkan, got '%s'\n", prog, v);
                return 2;
            }
        } else if (!strcmp(a, "--memory-every")) {
            if (cli_whole(prog, a, v, 1, 100000, &x) != 0)
                return 2;
            o.memory_every = (int)x;
        } else if (!strcmp(a, "--frames") || !strcmp(a, "--steps")) {
            int frames = !strcmp(a, "--frames");
            if (cli_whole(prog, a, v, frames ? 1 : 0, frames ? 10000000 : 8, &x) != 0)
                return 2;
            *(frames ? &o.frames : &o.steps) = (int)x;
            o.frames_given |= frames;
        } else if (!strcmp(a, "--world-seed")) {
            if (cli_whole(prog, a, v, 0, 1000000000000LL, &x) != 0)
                return 2;
            o.world_seed = (uint64_t)x;
            o.world_given = 1;
        } else if (!strcmp(a, "--memory-host-mb")) {
            if (cli_whole(prog, a, v, 0, 1 << 20, &x) != 0)
                return 2;
            o.memory_host_mb = (int)x;
        } else if (!strcmp(a, "--memory-bits")) {
            if (cli_memory_bits(prog, v, &o.memory_bits) != 0)
                return 2;
        } else if (!strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
    }
    if (!strcmp(argv[1], "devices"))
        return cmd_devices();
    if (!strcmp(argv[1], "ops"))
        return cmd_ops(&o);
    if (!strcmp(argv[1], "return")) {
        return_opts r = {o.model, o.backend, o.world_seed, o.frames_given ? o.frames : 3000,
                         o.memory_host_mb ? o.memory_host_mb : 64, o.memory_bits, o.json, !o.json, o.png};
        return bench_return(&r);
    }
    if (!strcmp(argv[1], "tiers")) {
        tiers_opts t = {o.backend, o.world_seed, o.frames_given ? o.frames : 100000,
                        o.memory_every ? o.memory_every : 10000, o.memory_bits,
                        o.memory_host_mb ? o.memory_host_mb : 64, o.json};
        return bench_tiers(&t);
    }
    if (!strcmp(argv[1], "generate")) {
        return cmd_generate(&o);
    }
    fprintf(stderr, "worldkv-bench: unknown command '%s'\n", argv[1]);
    usage(stderr);
    return 2;
}
