/* bench_return: worldkv-bench's long-return benchmark (bench_return.c). */
#ifndef WORLDKV_BENCH_RETURN_H
#define WORLDKV_BENCH_RETURN_H

#include <stdint.h>

#include "worldkv.h"

typedef struct return_opts {
    const char *model, *backend;
    uint64_t world_seed;
    int frames; /* out; the same back */
    int memory_host_mb, memory_bits, json;
    int progress;    /* frame counts on stderr */
    const char *png; /* if set: the start view and the three returns to it, side by side */
} return_opts;

int bench_return(const return_opts *o);

#endif
