/* worldkv-bench return: the long-return benchmark (issue 15). An explorer
 * walks N frames through an unseen world, on to the nearest cell it has not
 * stood in (traj_explore), then straight back along the shortest path to
 * the start spot and turns to the start view. The model's frame there is
 * scored against the true one at the same pose (SSIM, PSNR), with the host
 * memory tier on and off, beside the same model's return after a short
 * out-and-back of 128 frames (the first 64 frames out, retraced). Also:
 * distinct places visited (2 m cells), slots and bytes per tier, and
 * retrieval and fetch time per frame. */
#include "bench_return.h"

#include "bench_json.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "render.h"
#include "trajectory.h"
#include "world.h"

#define PLACE_CELL_M 2.0f /* a "place" is a 2 m square of the floor plan */

/* SSIM over RGB in [0, 1], 7 x 7 box windows (scikit-image's default
 * shape; not eval.py's: compare these figures with each other only). */
static double ssim_rgb8(const uint8_t *a, const uint8_t *b, int size)
{
    const double c1 = 0.01 * 0.01, c2 = 0.03 * 0.03;
    double sum = 0;
    int count = 0;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y + 7 <= size; y++)
            for (int x = 0; x + 7 <= size; x++) {
                double ma = 0, mb = 0, va = 0, vb = 0, cov = 0;
                for (int dy = 0; dy < 7; dy++)
                    for (int dx = 0; dx < 7; dx++) {
                        int i = ((y + dy) * size + x + dx) * 3 + c;
                        ma += a[i] / 255.0, mb += b[i] / 255.0;
                    }
                ma /= 49, mb /= 49;
                for (int dy = 0; dy < 7; dy++)
                    for (int dx = 0; dx < 7; dx++) {
                        int i = ((y + dy) * size + x + dx) * 3 + c;
                        double da = a[i] / 255.0 - ma, db = b[i] / 255.0 - mb;
                        va += da * da, vb += db * db, cov += da * db;
                    }
                va /= 48, vb /= 48, cov /= 48;
                sum += (2 * ma * mb + c1) * (2 * cov + c2) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
                count++;
            }
    return sum / count;
}

static double psnr_rgb8(const uint8_t *a, const uint8_t *b, int n)
{
    double se = 0;
    for (int i = 0; i < n; i++)
        se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return se > 0 ? 10 * log10(255.0 * 255.0 * n / se) : 99.0;
}

typedef struct return_run {
    double ssim, psnr, retrieval_us, fetch_us;
    int host_slots, fetched;
    uint64_t device_bytes, host_bytes;
    int read_count;
    int64_t read_frames[8]; /* the memory slots the return frame read: their source frames */
} return_run;

/* Steps the model along poses[1..n) from poses[0]; scores its last frame against truth. */
static int run(const return_opts *o, const cam_pose *poses, int n, int host_mb, const uint8_t *start,
               const uint8_t *truth_end, int size, return_run *r, char *err, size_t err_size)
{
    worldkv_options wo;
    worldkv_options_init(&wo);
    wo.model_path = o->model;
    wo.start_rgb = start;
    wo.backend = o->backend;
    wo.memory_bits = o->memory_bits;
    wo.memory_host_mb = host_mb;
    float p0[5] = {poses[0].x, poses[0].y, poses[0].z, poses[0].yaw, poses[0].pitch};
    memcpy(wo.start_pose, p0, sizeof p0);
    worldkv_session *s = NULL;
    if (worldkv_session_create(&wo, &s, err, err_size) != 0)
        return -1;
    uint8_t *rgb = malloc((size_t)size * size * 3);
    double retrieval = 0, fetch = 0;
    int steps = 0, fetched = 0, status = rgb ? 0 : -1;
    for (int t = 1; status == 0 && t < n; t++) {
        const cam_pose *p = &poses[t];
        float pose[5] = {p->x, p->y, p->z, p->yaw, p->pitch};
        status = worldkv_session_step_to(s, pose, rgb, err, err_size) != 0 ? -1 : 0;
        worldkv_stats st;
        worldkv_session_get_stats(s, &st);
        int f = 0;
        worldkv_session_host_tier(s, NULL, NULL, NULL, &f, NULL);
        retrieval += st.last_retrieval_us, fetch += st.last_fetch_us, fetched += f, steps++;
        if (o->progress && (t % 100 == 0 || t == n - 1))
            fprintf(stderr, "\r  frame %d / %d", t, n - 1);
    }
    if (o->progress)
        fprintf(stderr, "\n");
    if (status == 0) {
        r->ssim = ssim_rgb8(rgb, truth_end, size);
        r->psnr = psnr_rgb8(rgb, truth_end, size * size * 3);
        r->retrieval_us = retrieval / steps;
        r->fetch_us = fetch / steps;
        r->fetched = fetched;
        worldkv_stats st;
        worldkv_session_get_stats(s, &st);
        r->device_bytes = st.device_bytes;
        r->read_count = st.retrieved_count;
        memcpy(r->read_frames, st.retrieved_frames, sizeof r->read_frames);
        worldkv_session_host_tier(s, &r->host_slots, NULL, &r->host_bytes, NULL, NULL);
    }
    free(rgb);
    worldkv_session_destroy(s);
    return status;
}

/* Distinct 2 m cells of the floor plan that poses[0..n) stand in. */
static int count_places(const cam_pose *poses, int n)
{
    int places = 0;
    int64_t *cells = malloc(sizeof *cells * (size_t)n);
    for (int t = 0; cells && t < n; t++) {
        int64_t c = (int64_t)floorf(poses[t].x / PLACE_CELL_M) * 100000 + (int64_t)floorf(poses[t].z / PLACE_CELL_M);
        int seen = 0;
        for (int i = 0; i < places && !seen; i++)
            seen = cells[i] == c;
        if (!seen)
            cells[places++] = c;
    }
    free(cells);
    return places;
}

static void add_run(cJSON *j, const char *name, const return_run *r)
{
    cJSON *o = cJSON_AddObjectToObject(j, name);
    cJSON_AddNumberToObject(o, "return_ssim", r->ssim);
    cJSON_AddNumberToObject(o, "return_psnr", r->psnr);
    cJSON_AddNumberToObject(o, "device_bytes", (double)r->device_bytes);
    cJSON_AddNumberToObject(o, "host_bytes", (double)r->host_bytes);
    cJSON_AddNumberToObject(o, "host_slots", r->host_slots);
    cJSON_AddNumberToObject(o, "fetches", r->fetched);
    cJSON_AddNumberToObject(o, "retrieval_us_per_frame", r->retrieval_us);
    cJSON_AddNumberToObject(o, "fetch_us_per_frame", r->fetch_us);
    cJSON *read = cJSON_AddArrayToObject(o, "return_read_frames");
    for (int i = 0; i < r->read_count && i < 8; i++)
        cJSON_AddItemToArray(read, cJSON_CreateNumber((double)r->read_frames[i]));
}

int bench_return(const return_opts *o)
{
    char err[512];
    world *w = world_create(o->world_seed, WORLD_DEFAULT_CELLS, err, sizeof err);
    int out = o->frames, max = 4 * o->frames + 1000, n = 0, size = 0;
    cam_pose *poses = malloc(sizeof *poses * (size_t)max), *short_path = malloc(sizeof *poses * 129);
    cam_action *actions = malloc(sizeof *actions * (size_t)max);
    if (!w || !poses || !short_path || !actions ||
        traj_explore(w, o->world_seed * 7919 + 1, out, max, poses, actions, &n) != 0 ||
        worldkv_model_image_size(o->model, &size, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench return: %s\n", w && poses && short_path && actions ? err : "out of memory");
        world_destroy(w), free(poses), free(short_path), free(actions);
        return 1;
    }
    int places = count_places(poses, out + 1), short_out = 64 < out ? 64 : out;
    for (int t = 0; t <= 2 * short_out; t++)
        short_path[t] = poses[t <= short_out ? t : 2 * short_out - t];
    uint8_t *start = malloc((size_t)size * size * 3), *end = malloc((size_t)size * size * 3);
    if (!start || !end) {
        fprintf(stderr, "worldkv-bench return: out of memory\n");
        free(start), free(end), free(poses), free(short_path), free(actions), world_destroy(w);
        return 1;
    }
    world_render(w, poses[0], size, size, start, NULL);
    world_render(w, poses[n - 1], size, size, end, NULL); /* where the walk came home: the start view, give or take */
    cam_pose home = poses[n - 1];
    float home_dist = sqrtf((home.x - poses[0].x) * (home.x - poses[0].x) + (home.z - poses[0].z) * (home.z - poses[0].z));
    return_run on = {0}, off = {0}, short_run = {0};
    if (o->progress)
        fprintf(stderr, "worldkv-bench return: world %llu, %d frames out through %d places, %d home\n",
                (unsigned long long)o->world_seed, out, places, n - 1 - out);
    int rc = run(o, poses, n, o->memory_host_mb, start, end, size, &on, err, sizeof err) ||
             run(o, poses, n, 0, start, end, size, &off, err, sizeof err) ||
             run(o, short_path, 2 * short_out + 1, 0, start, start, size, &short_run, err, sizeof err);
    if (rc)
        fprintf(stderr, "worldkv-bench return: %s\n", err);
    else if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "op", "long_return");
        cJSON_AddNumberToObject(j, "world_seed", (double)o->world_seed);
        cJSON_AddNumberToObject(j, "frames_out", out);
        cJSON_AddNumberToObject(j, "frames_home", n - 1 - out);
        cJSON_AddNumberToObject(j, "places", places);
        cJSON_AddNumberToObject(j, "home_offset_m", home_dist);
        cJSON_AddNumberToObject(j, "memory_host_mb", o->memory_host_mb);
        cJSON_AddNumberToObject(j, "memory_bits", o->memory_bits ? o->memory_bits : 32);
        add_run(j, "tier_on", &on);
        add_run(j, "tier_off", &off);
        add_run(j, "short_128", &short_run);
        bench_print_json(j);
    } else
        printf("long return, world %llu: %d frames out through %d places, %d frames home to the start view\n"
               "  host tier %d MiB: return SSIM %.3f, PSNR %.2f dB (%d host slots, %.1f MiB host, %.1f MiB device;\n"
               "    %d fetches; retrieval %.1f us and fetch %.1f us a frame)\n"
               "  no host tier: return SSIM %.3f, PSNR %.2f dB\n"
               "  short out-and-back (%d + %d frames): return SSIM %.3f, PSNR %.2f dB\n",
               (unsigned long long)o->world_seed, out, places, n - 1 - out, o->memory_host_mb, on.ssim, on.psnr,
               on.host_slots, on.host_bytes / 1048576.0, on.device_bytes / 1048576.0, on.fetched, on.retrieval_us,
               on.fetch_us, off.ssim, off.psnr, short_out, short_out, short_run.ssim, short_run.psnr);
    free(start), free(end), free(poses), free(short_path), free(actions);
    world_destroy(w);
    return rc ? 1 : 0;
}
