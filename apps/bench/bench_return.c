/* worldkv-bench return: the long-return benchmark (issue 15). A walker's
 * exploration path of N frames through an unseen world (tools/world's
 * trajectories), then the same path retraced back to the start view: 2N
 * frames. The model's frame at the return is scored against the true one
 * (SSIM, PSNR), with the host memory tier on and off, beside the same
 * model's return after a short out-and-back of 128 frames from the same
 * start. Also: distinct places visited, host tier slots, retrieval plus
 * fetch time per frame. */
#include "bench_return.h"

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
    double ssim, psnr, retrieval_us;
    int host_slots, fetched;
} return_run;

/* Out along poses[0..out], back along poses[out-1..0]: the model's frame at the return against truth. */
static int run(const return_opts *o, const cam_pose *poses, int out, int host_mb, const uint8_t *start,
               const uint8_t *truth_end, int size, return_run *r, char *err, size_t n)
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
    if (worldkv_session_create(&wo, &s, err, n) != 0)
        return -1;
    uint8_t *rgb = malloc((size_t)size * size * 3);
    double retrieval = 0;
    int steps = 0, fetched = 0, status = rgb ? 0 : -1;
    for (int t = 1; status == 0 && t <= 2 * out; t++) {
        const cam_pose *p = &poses[t <= out ? t : 2 * out - t];
        float pose[5] = {p->x, p->y, p->z, p->yaw, p->pitch};
        status = worldkv_session_step_to(s, pose, rgb, err, n) != 0 ? -1 : 0;
        worldkv_stats st;
        worldkv_session_get_stats(s, &st);
        int f = 0;
        worldkv_session_host_tier(s, NULL, NULL, NULL, &f, NULL);
        retrieval += st.last_retrieval_us, fetched += f, steps++;
    }
    if (status == 0) {
        r->ssim = ssim_rgb8(rgb, truth_end, size);
        r->psnr = psnr_rgb8(rgb, truth_end, size * size * 3);
        r->retrieval_us = retrieval / steps;
        r->fetched = fetched;
        worldkv_session_host_tier(s, &r->host_slots, NULL, NULL, NULL, NULL);
    }
    free(rgb);
    worldkv_session_destroy(s);
    return status;
}

int bench_return(const return_opts *o)
{
    char err[512];
    world *w = world_create(o->world_seed, WORLD_DEFAULT_CELLS, err, sizeof err);
    int out = o->frames, size = 0;
    cam_pose *poses = malloc(sizeof *poses * (size_t)(out + 1));
    cam_action *actions = malloc(sizeof *actions * (size_t)(out + 1));
    if (!w || !poses || !actions || traj_generate(w, o->world_seed * 7919 + 1, out + 1, poses, actions) != 0 ||
        worldkv_model_image_size(o->model, &size, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench return: %s\n", w && poses && actions ? err : "out of memory");
        world_destroy(w), free(poses), free(actions);
        return 1;
    }
    /* distinct places on the way out */
    int places = 0, cap = out + 1;
    int64_t *cells = malloc(sizeof *cells * (size_t)cap);
    for (int t = 0; cells && t <= out; t++) {
        int64_t c = (int64_t)floorf(poses[t].x / PLACE_CELL_M) * 100000 + (int64_t)floorf(poses[t].z / PLACE_CELL_M);
        int seen = 0;
        for (int i = 0; i < places && !seen; i++)
            seen = cells[i] == c;
        if (!seen)
            cells[places++] = c;
    }
    free(cells);
    uint8_t *start = malloc((size_t)size * size * 3), *end = malloc((size_t)size * size * 3);
    world_render(w, poses[0], size, size, start, NULL);
    memcpy(end, start, (size_t)size * size * 3); /* the return view is the start view */
    return_run on = {0}, off = {0}, short_run = {0};
    int short_out = 64 < out ? 64 : out;
    fprintf(stderr, "worldkv-bench return: world %llu, %d frames out through %d places, %d back\n",
            (unsigned long long)o->world_seed, out, places, out);
    int rc = run(o, poses, out, o->memory_host_mb, start, end, size, &on, err, sizeof err) ||
             run(o, poses, out, 0, start, end, size, &off, err, sizeof err) ||
             run(o, poses, short_out, 0, start, end, size, &short_run, err, sizeof err);
    if (rc)
        fprintf(stderr, "worldkv-bench return: %s\n", err);
    else if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "op", "long_return");
        cJSON_AddNumberToObject(j, "world_seed", (double)o->world_seed);
        cJSON_AddNumberToObject(j, "frames_out", out);
        cJSON_AddNumberToObject(j, "places", places);
        cJSON_AddNumberToObject(j, "memory_host_mb", o->memory_host_mb);
        cJSON_AddNumberToObject(j, "memory_bits", o->memory_bits ? o->memory_bits : 32);
        cJSON_AddNumberToObject(j, "return_ssim_tier_on", on.ssim);
        cJSON_AddNumberToObject(j, "return_ssim_tier_off", off.ssim);
        cJSON_AddNumberToObject(j, "return_ssim_short_128", short_run.ssim);
        cJSON_AddNumberToObject(j, "return_psnr_tier_on", on.psnr);
        cJSON_AddNumberToObject(j, "return_psnr_tier_off", off.psnr);
        cJSON_AddNumberToObject(j, "return_psnr_short_128", short_run.psnr);
        cJSON_AddNumberToObject(j, "host_tier_slots", on.host_slots);
        cJSON_AddNumberToObject(j, "fetches", on.fetched);
        cJSON_AddNumberToObject(j, "retrieval_and_fetch_us_per_frame", on.retrieval_us);
        char *text = cJSON_PrintUnformatted(j);
        if (text)
            puts(text);
        cJSON_free(text);
        cJSON_Delete(j);
    } else
        printf("long return, world %llu: %d frames out through %d places and %d back to the start view\n"
               "  host tier %d MiB: return SSIM %.3f, PSNR %.2f dB (%d host slots at the end, %d fetches, retrieval "
               "and fetch %.1f us a frame)\n"
               "  no host tier: return SSIM %.3f, PSNR %.2f dB\n"
               "  short out-and-back (%d + %d frames): return SSIM %.3f, PSNR %.2f dB\n",
               (unsigned long long)o->world_seed, out, places, out, o->memory_host_mb, on.ssim, on.psnr,
               on.host_slots, on.fetched, on.retrieval_us, off.ssim, off.psnr, short_out, short_out, short_run.ssim,
               short_run.psnr);
    free(start), free(end), free(poses), free(actions);
    world_destroy(w);
    return rc ? 1 : 0;
}
