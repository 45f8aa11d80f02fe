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

#include "file_util.h"
#include "image_io.h"
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
    double home_ssim, home_psnr; /* at the walk's own last pose (a step's rounding off the start view) */
    int host_slots, fetched;
    uint64_t device_bytes, host_bytes;
    int read_count;
    int64_t read_frames[8]; /* the memory slots the return frame read: their source frames */
    uint8_t *last;          /* the return frame, RGB8, when a picture is asked for (else NULL) */
} return_run;

/* Which frames a run scores: the return to the exact start view, and the one at the long walk's home pose. */
typedef struct return_scoring {
    int exact_at, home_at;
    const uint8_t *exact_truth, *home_truth;
} return_scoring;

/* Steps the model along poses[1..n) from poses[0]; scores the frames sc names. */
static int run(const return_opts *o, const cam_pose *poses, int n, int host_mb, const uint8_t *start,
               const return_scoring *sc, int size, return_run *r, char *err, size_t err_size)
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
        if (status == 0 && t == sc->home_at) {
            r->home_ssim = ssim_rgb8(rgb, sc->home_truth, size);
            r->home_psnr = psnr_rgb8(rgb, sc->home_truth, size * size * 3);
        }
        if (status == 0 && t == sc->exact_at) {
            r->ssim = ssim_rgb8(rgb, sc->exact_truth, size);
            r->psnr = psnr_rgb8(rgb, sc->exact_truth, size * size * 3);
            if (o->png && (r->last = malloc((size_t)size * size * 3)) != NULL)
                memcpy(r->last, rgb, (size_t)size * size * 3);
            r->device_bytes = st.device_bytes;
            r->read_count = st.retrieved_count;
            memcpy(r->read_frames, st.retrieved_frames, sizeof r->read_frames);
            worldkv_session_host_tier(s, &r->host_slots, NULL, &r->host_bytes, NULL, NULL);
        }
    }
    if (o->progress)
        fprintf(stderr, "\n");
    if (status == 0) {
        r->retrieval_us = retrieval / steps;
        r->fetch_us = fetch / steps;
        r->fetched = fetched;
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
    cJSON_AddNumberToObject(o, "home_pose_ssim", r->home_ssim);
    cJSON_AddNumberToObject(o, "home_pose_psnr", r->home_psnr);
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

/* The return frames side by side, to look at: the start view (the truth there), then the long return
 * with the tier on and off and the short out-and-back's (a frame that could not be kept is left black). */
static int write_picture(const char *path, const uint8_t *truth, const return_run *on, const return_run *off,
                         const return_run *short_run, int size)
{
    const uint8_t *tiles[4] = {truth, on->last, off->last, short_run->last};
    int width = 4 * size;
    uint8_t *img = calloc((size_t)width * size, 3);
    char err[512];
    if (!img) {
        fprintf(stderr, "worldkv-bench return: out of memory for %s\n", path);
        return -1;
    }
    for (int i = 0; i < 4; i++)
        for (int y = 0; tiles[i] && y < size; y++)
            memcpy(img + ((size_t)y * width + (size_t)i * size) * 3, tiles[i] + (size_t)y * size * 3, (size_t)size * 3);
    int rc = image_write_png(path, img, width, size, err, sizeof err);
    if (rc)
        fprintf(stderr, "worldkv-bench return: %s\n", err);
    free(img);
    return rc;
}

int bench_return(const return_opts *o)
{
    char err[512];
    if (o->png && file_check_writable(o->png, err, sizeof err) != 0) { /* before the long walk, not after */
        fprintf(stderr, "worldkv-bench return: %s\n", err);
        return 1;
    }
    world *w = world_create(o->world_seed, WORLD_DEFAULT_CELLS, err, sizeof err);
    int out = o->frames, max = 4 * o->frames + 1000, n = 0, size = 0;
    cam_pose *poses = malloc(sizeof *poses * (size_t)(max + 1)), *short_path = malloc(sizeof *poses * 130);
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
    /* The walk comes home to within a step's rounding of the start view (world 9001: 1.4 cm and 0.36
     * degrees), which at 64 pixels is a pixel of shift and costs 0.19 of SSIM against the start frame. A
     * last frame steps exactly onto the start pose, so the long return is scored on the very view the
     * short out-and-back (a retrace) comes back to. */
    cam_pose home = poses[n - 1];
    float home_dist = sqrtf((home.x - poses[0].x) * (home.x - poses[0].x) + (home.z - poses[0].z) * (home.z - poses[0].z));
    float home_yaw = remainderf(home.yaw - poses[0].yaw, 360.0f), home_pitch = home.pitch - poses[0].pitch;
    int snapped = memcmp(&home, &poses[0], sizeof home) != 0;
    if (snapped)
        poses[n++] = poses[0];
    world_render(w, poses[0], size, size, start, NULL);
    world_render(w, home, size, size, end, NULL); /* the truth at the walk's own home pose */
    /* both returns are also scored at that home pose: the short one steps onto it after its retrace */
    int short_n = 2 * short_out + 1;
    short_path[short_n++] = home;
    return_scoring long_sc = {n - 1, snapped ? n - 2 : n - 1, start, end}, short_sc = {short_n - 2, short_n - 1, start, end};
    return_run on = {0}, off = {0}, short_run = {0};
    if (o->progress)
        fprintf(stderr, "worldkv-bench return: world %llu, %d frames out through %d places, %d home\n",
                (unsigned long long)o->world_seed, out, places, n - 1 - out);
    int rc = run(o, poses, n, o->memory_host_mb, start, &long_sc, size, &on, err, sizeof err) ||
             run(o, poses, n, 0, start, &long_sc, size, &off, err, sizeof err) ||
             run(o, short_path, short_n, 0, start, &short_sc, size, &short_run, err, sizeof err);
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
        cJSON_AddNumberToObject(j, "home_yaw_offset_deg", home_yaw);
        cJSON_AddNumberToObject(j, "home_pitch_offset_deg", home_pitch);
        cJSON_AddNumberToObject(j, "memory_host_mb", o->memory_host_mb);
        cJSON_AddNumberToObject(j, "memory_bits", o->memory_bits ? o->memory_bits : 32);
        add_run(j, "tier_on", &on);
        add_run(j, "tier_off", &off);
        add_run(j, "short_128", &short_run);
        bench_print_json(j);
    } else
        printf("long return, world %llu: %d frames out through %d places, %d frames home to the start view\n"
               "  (the walk came home %.3f m and %.2f degrees off it; a last frame steps onto it)\n"
               "  host tier %d MiB: return SSIM %.3f, PSNR %.2f dB (%d host slots, %.1f MiB host, %.1f MiB device;\n"
               "    %d fetches; retrieval %.1f us and fetch %.1f us a frame)\n"
               "  no host tier: return SSIM %.3f, PSNR %.2f dB\n"
               "  short out-and-back (%d + %d frames): return SSIM %.3f, PSNR %.2f dB\n"
               "  at the walk's own home pose: SSIM %.3f (tier on), %.3f (off), %.3f (short, one step on)\n",
               (unsigned long long)o->world_seed, out, places, n - 1 - out, home_dist, home_yaw, o->memory_host_mb,
               on.ssim, on.psnr, on.host_slots, on.host_bytes / 1048576.0, on.device_bytes / 1048576.0, on.fetched,
               on.retrieval_us, on.fetch_us, off.ssim, off.psnr, short_out, short_out, short_run.ssim, short_run.psnr,
               on.home_ssim, off.home_ssim, short_run.home_ssim);
    if (!rc && o->png && write_picture(o->png, start, &on, &off, &short_run, size) != 0)
        rc = 1;
    free(on.last), free(off.last), free(short_run.last);
    free(start), free(end), free(poses), free(short_path), free(actions);
    world_destroy(w);
    return rc ? 1 : 0;
}
