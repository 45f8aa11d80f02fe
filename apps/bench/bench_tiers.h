/* bench_tiers: worldkv-bench's soak of the memory tiers (bench_tiers.c). */
#ifndef WORLDKV_BENCH_TIERS_H
#define WORLDKV_BENCH_TIERS_H

#include <stdint.h>

typedef struct tiers_opts {
    const char *backend; /* NULL: auto */
    uint64_t world_seed;
    int frames, every; /* frames in all; a record every N */
    int bits, host_mb, json;
} tiers_opts;

int bench_tiers(const tiers_opts *o);

#endif
