/* dataset: episodes of frames, poses and actions for training, written in
 * shards of .npy arrays plus an index.json (layout in docs/formats.md). */
#ifndef WORLDKV_DATASET_H
#define WORLDKV_DATASET_H

#include <stddef.h>
#include <stdint.h>

#define DATASET_FORMAT_VERSION 1

typedef struct dataset_params {
    const char *out_dir;
    int episodes;
    int frames;             /* per episode */
    int size;               /* square frames, RENDER_MIN_SIZE..RENDER_MAX_SIZE */
    uint64_t seed;
    int episodes_per_world; /* consecutive episodes that share one world */
    int has_world_seed;     /* every episode in the world world_seed */
    uint64_t world_seed;
    int world_cells;
    int shard_episodes;     /* episodes per shard */
    int threads;            /* 0: one per core */
    int force;              /* overwrite an existing dataset */
    int depth;              /* also write per-pixel depth (float16 metres) */
    int quiet;              /* no progress bar */
} dataset_params;

typedef struct dataset_stats {
    double seconds;
    int64_t frames_written;
    int episodes_long_revisit; /* episodes with a revisit gap > REVISIT_LONG_GAP */
    int threads_used;
} dataset_stats;

void dataset_default_params(dataset_params *p);
/* Refuses to write into a non-empty folder unless force is set. Returns 0,
 * or -1 with a message naming the path and the cause (no permission, a
 * full disk). index.json is written last: a folder without it is not a
 * finished dataset. */
int dataset_write(const dataset_params *p, dataset_stats *stats, char *err, size_t err_size);

/* The world seed of an episode, and the trajectory seed. */
uint64_t dataset_world_seed(const dataset_params *p, int episode);
uint64_t dataset_episode_seed(const dataset_params *p, int episode);

#endif
