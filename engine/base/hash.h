/* hash: FNV-1a 64, for determinism checks, model fingerprints and
 * snapshot checksums (not for security). */
#ifndef WORLDKV_HASH_H
#define WORLDKV_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_SEED 0xCBF29CE484222325ull

/* Continues hash h over n bytes; start with HASH_FNV_SEED. */
static inline uint64_t hash_fnv1a(uint64_t h, const void *data, size_t n)
{
    const uint8_t *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 0x100000001B3ull;
    }
    return h;
}

#endif
