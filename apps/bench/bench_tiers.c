/* worldkv-bench tiers: the memory tiers on their own, at the student's
 * sizes, for as many frames as asked (100,000 in well under an hour here).
 * Each frame does what a session's step does to its memory, with the model
 * left out: kvm_fetch (rank the bank and the host slots near the camera,
 * swap the chosen ones in, spill the one the commit gives up), kvm_sources
 * (the bank's slots to read), kvm_stage (dequantize them) and kvm_commit
 * (the frame leaving the window is compressed into the bank: here a copy of
 * its first rows stands in for ConvKV, the conv whose cost belongs to the
 * model). The camera follows the explorer's path through a world
 * (traj_explore: every cell, then wandering on). Reported: device bytes
 * (the backend's blocks) at every record, host tier bytes against the
 * budget, retrieval and fetch time per frame (mean, 99th percentile, worst,
 * and how many frames took over 1 ms). */
#include "bench_tiers.h"

#include "bench_json.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "backend.h"
#include "kv_memory.h"
#include "proc_memory.h"
#include "trajectory.h"
#include "world.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + 1e-3 * (double)ts.tv_nsec;
}

#define HIST_BUCKET_US 10 /* a histogram of retrieval + fetch times, for the percentile */
#define HIST_BUCKETS 2000 /* up to 20 ms; slower frames land in the last bucket */

typedef struct soak_totals {
    double sum_us, max_us, fetch_sum_us, retrieval_sum_us;
    int64_t frames, fetched, spilled, over_1ms;
    int64_t hist[HIST_BUCKETS];
    uint64_t device_first, device_min, device_max, host_max;
} soak_totals;

/* The upper edge of the bucket holding the 99th percentile frame. */
static double percentile_99_us(const soak_totals *t)
{
    int64_t want = t->frames - t->frames / 100, seen = 0;
    for (int b = 0; b < HIST_BUCKETS; b++)
        if ((seen += t->hist[b]) >= want)
            return (double)(b + 1) * HIST_BUCKET_US;
    return (double)HIST_BUCKETS * HIST_BUCKET_US;
}

static void record(const tiers_opts *o, int64_t frame, wk_backend *be, kv_memory *m, const soak_totals *t,
                   double interval_us, double interval_max, int64_t interval_frames)
{
    kvm_stats st;
    kvm_get_stats(m, &st);
    uint64_t blocks, used;
    int nblocks;
    wk_backend_memory(be, &blocks, &used, &nblocks);
    long rss, peak;
    proc_memory_kb(&rss, &peak);
    double mean = interval_frames ? interval_us / (double)interval_frames : 0.0;
    if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "op", "tiers");
        cJSON_AddNumberToObject(j, "frame", (double)frame);
        cJSON_AddNumberToObject(j, "device_bytes", (double)blocks);
        cJSON_AddNumberToObject(j, "bank_slots", st.slots_used);
        cJSON_AddNumberToObject(j, "host_slots", st.host_slots);
        cJSON_AddNumberToObject(j, "host_bytes", (double)st.host_bytes);
        cJSON_AddNumberToObject(j, "host_budget_bytes", (double)((uint64_t)o->host_mb << 20));
        cJSON_AddNumberToObject(j, "host_rss_kb", (double)rss);
        cJSON_AddNumberToObject(j, "fetched", (double)t->fetched);
        cJSON_AddNumberToObject(j, "spilled", (double)t->spilled);
        cJSON_AddNumberToObject(j, "retrieval_fetch_us_mean", mean);
        cJSON_AddNumberToObject(j, "retrieval_fetch_us_max", interval_max);
        bench_print_json(j);
    } else
        printf("frame %7lld: device %.2f MiB, bank %d slots, host tier %d slots %.2f of %d MiB, RSS %.1f MiB, "
               "retrieval + fetch %.0f us (max %.0f)\n",
               (long long)frame, (double)blocks / 1048576.0, st.slots_used, st.host_slots,
               (double)st.host_bytes / 1048576.0, o->host_mb, (double)rss / 1024.0, mean, interval_max);
    fflush(stdout);
}

int bench_tiers(const tiers_opts *o)
{
    char err[512];
    wk_backend_options bo = {0, 0, NULL, WK_BACKEND_AUTO, 0};
    if (o->backend && (bo.kind = (wk_backend_kind)wk_backend_kind_parse(o->backend)) == (wk_backend_kind)-1) {
        fprintf(stderr, "worldkv-bench tiers: unknown backend '%s'\n", o->backend);
        return 2;
    }
    wk_backend *be = NULL;
    if (wk_backend_create(&bo, &be, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench tiers: %s\n", err);
        return 1;
    }
    /* the student's memory: 4 layers of 256 channels, 64 tokens a frame and 16 a slot, a window of 4,
     * a bank of 32 read 4 at a time, 64 x 64 frames */
    kvm_params p = {4, 256, 64, 16, 4, 32, 4, 64, o->bits, (uint64_t)o->host_mb << 20};
    kv_memory *m = NULL;
    world *w = world_create(o->world_seed, WORLD_DEFAULT_CELLS, err, sizeof err);
    cam_pose *path = malloc(sizeof *path * (size_t)(o->frames + 2));
    cam_action *actions = malloc(sizeof *actions * (size_t)(o->frames + 2));
    int used = 0, rc = 1;
    wk_tensor rgb = {0}, depth = {0};
    if (!w || !path || !actions) {
        fprintf(stderr, "worldkv-bench tiers: %s\n", w ? "out of memory" : err);
        goto done;
    }
    if (traj_explore(w, o->world_seed * 7919 + 1, o->frames + 1, o->frames + 2, path, actions, &used) != 0 ||
        kvm_create(be, &p, &m, err, sizeof err) != 0 ||
        wk_tensor_alloc(be, &rgb, 64, 64, 3, 1, err, sizeof err) != 0 ||
        wk_tensor_alloc(be, &depth, 64, 64, 1, 1, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-bench tiers: %s\n", m ? err : "cannot set up the memory");
        goto done;
    }
    if (!o->json)
        printf("memory tiers at the student's sizes: %d-bit slots, bank of 32, host tier %d MiB, %s backend, "
               "world %llu, %d frames\n",
               o->bits ? o->bits : 32, o->host_mb, wk_backend_name(be), (unsigned long long)o->world_seed, o->frames);
    soak_totals t = {0};
    double interval_us = 0, interval_max = 0;
    int64_t interval_frames = 0;
    rc = 0;
    for (int64_t f = 0; f < o->frames && rc == 0; f++) {
        float pose[5] = {path[f].x, path[f].y, path[f].z, path[f].yaw, path[f].pitch};
        kvm_source src[KVM_MAX_WINDOW + KVM_MAX_RETRIEVE + 1];
        double t0 = now_us();
        rc = kvm_fetch(m, pose, f, err, sizeof err);
        double t1 = now_us();
        kvm_sources(m, pose, f, src, (int)(sizeof src / sizeof src[0]));
        double t2 = now_us();
        rc = rc || wk_begin(be, err, sizeof err) || kvm_stage(m, err, sizeof err) ||
             kvm_commit(m, pose, f, f, &rgb, &depth, kvm_compress_first_rows, be, err, sizeof err) || wk_end(be, err, sizeof err);
        kvm_stats st;
        kvm_get_stats(m, &st);
        double us = t2 - t0;
        t.sum_us += us, t.fetch_sum_us += t1 - t0, t.retrieval_sum_us += t2 - t1, t.frames++;
        t.max_us = us > t.max_us ? us : t.max_us;
        t.over_1ms += us > 1000.0;
        int bucket = (int)(us / HIST_BUCKET_US);
        t.hist[bucket < HIST_BUCKETS ? bucket : HIST_BUCKETS - 1]++;
        t.fetched += st.fetched, t.spilled += st.spilled;
        t.host_max = st.host_bytes > t.host_max ? st.host_bytes : t.host_max;
        interval_us += us, interval_frames++;
        interval_max = us > interval_max ? us : interval_max;
        uint64_t blocks, in_use;
        int nblocks;
        wk_backend_memory(be, &blocks, &in_use, &nblocks);
        if (f == 0)
            t.device_first = t.device_min = t.device_max = blocks;
        t.device_min = blocks < t.device_min ? blocks : t.device_min;
        t.device_max = blocks > t.device_max ? blocks : t.device_max;
        int64_t n = f + 1;
        if (n == 1 || n % o->every == 0 || n == o->frames) {
            record(o, n, be, m, &t, interval_us, interval_max, interval_frames);
            interval_us = interval_max = 0, interval_frames = 0;
        }
    }
    if (rc) {
        fprintf(stderr, "worldkv-bench tiers: %s\n", err);
    } else if (o->json) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "op", "tiers_summary");
        cJSON_AddNumberToObject(j, "frames", (double)t.frames);
        cJSON_AddNumberToObject(j, "memory_bits", o->bits ? o->bits : 32);
        cJSON_AddNumberToObject(j, "world_seed", (double)o->world_seed);
        cJSON_AddNumberToObject(j, "device_bytes_min", (double)t.device_min);
        cJSON_AddNumberToObject(j, "device_bytes_max", (double)t.device_max);
        cJSON_AddNumberToObject(j, "host_bytes_max", (double)t.host_max);
        cJSON_AddNumberToObject(j, "host_budget_bytes", (double)((uint64_t)o->host_mb << 20));
        cJSON_AddNumberToObject(j, "fetched", (double)t.fetched);
        cJSON_AddNumberToObject(j, "spilled", (double)t.spilled);
        cJSON_AddNumberToObject(j, "retrieval_us_mean", t.retrieval_sum_us / (double)t.frames);
        cJSON_AddNumberToObject(j, "fetch_us_mean", t.fetch_sum_us / (double)t.frames);
        cJSON_AddNumberToObject(j, "retrieval_fetch_us_p99", percentile_99_us(&t));
        cJSON_AddNumberToObject(j, "retrieval_fetch_us_max", t.max_us);
        cJSON_AddNumberToObject(j, "frames_over_1ms", (double)t.over_1ms);
        cJSON_AddStringToObject(j, "backend", wk_backend_name(be));
        bench_print_json(j);
    } else
        printf("%lld frames: device %llu to %llu bytes (constant: %s), host tier at most %.2f of %d MiB, %lld "
               "fetched and %lld spilled;\n  retrieval %.1f us + fetch %.1f us a frame on average, the two at most "
               "%.0f us (99%% of frames within %.0f us; %lld frames over 1 ms)\n",
               (long long)t.frames, (unsigned long long)t.device_min, (unsigned long long)t.device_max,
               t.device_min == t.device_max ? "yes" : "no", (double)t.host_max / 1048576.0, o->host_mb,
               (long long)t.fetched, (long long)t.spilled, t.retrieval_sum_us / (double)t.frames,
               t.fetch_sum_us / (double)t.frames, t.max_us, percentile_99_us(&t), (long long)t.over_1ms);
done:
    if (depth.ne[0])
        wk_tensor_free(be, &depth);
    if (rgb.ne[0])
        wk_tensor_free(be, &rgb);
    kvm_destroy(m);
    free(actions);
    free(path);
    world_destroy(w);
    wk_backend_destroy(be);
    return rc ? 1 : 0;
}
