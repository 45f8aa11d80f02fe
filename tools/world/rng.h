/* rng: a small seeded generator (splitmix64). Integer-only, so every
 * machine draws the same sequence. */
#ifndef WORLDKV_RNG_H
#define WORLDKV_RNG_H

#include <stdint.h>

typedef struct rng_state {
    uint64_t s;
} rng_state;

static inline uint64_t rng_next(rng_state *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/* Uniform integer in [0, n), n > 0. */
static inline uint32_t rng_below(rng_state *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform float in [0, 1), from 24 random bits. */
static inline float rng_unit(rng_state *r)
{
    return (float)(rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* A seed for stream `index` of `base`, so sub-streams never overlap. */
static inline uint64_t rng_derive(uint64_t base, uint64_t index)
{
    rng_state r = {base ^ (index * 0xD1B54A32D192ED03ull)};
    rng_next(&r);
    return rng_next(&r);
}

#endif
