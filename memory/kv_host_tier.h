/* kv_host_tier: memory slots kept in host memory, within a byte budget,
 * found by pose through a grid over the floor plan (issue 15's host tier).
 * A slot is its bookkeeping entry plus slot_bytes of opaque data (its keys,
 * values and frame as the device bank stores them).
 *
 * Retention when full, by coverage: the incoming slot and its nearest
 * stored neighbour (position plus yaw / 45 degrees, the device bank's
 * distance) are compared first: closer than KVH_REDUNDANT, they show the
 * same place and the newer of the two is given up. A new place instead
 * displaces the newest view of the place the tier shows most often; when
 * every place is shown once, the newest slot gives way. So each place keeps
 * its first view, the one retrieval prefers and the least drifted (a later
 * view was generated from a longer chain of the model's own frames).
 * kv_memory moves slots between the device bank and this store (kvm_fetch). */
#ifndef WORLDKV_KV_HOST_TIER_H
#define WORLDKV_KV_HOST_TIER_H

#include <stddef.h>
#include <stdint.h>

#include "kv_memory.h"

#define KVH_CELL_M 4.0f      /* grid cells over the floor plan (x, z) */
#define KVH_REDUNDANT 0.75f  /* pose distance under which two slots show the same place */

typedef struct kvh_tier kvh_tier;

/* capacity = budget_bytes / slot_bytes slots (at least one). */
int kvh_create(size_t slot_bytes, uint64_t budget_bytes, kvh_tier **out, char *err, size_t err_size);
void kvh_destroy(kvh_tier *t);
void kvh_clear(kvh_tier *t); /* drops every slot */

int kvh_capacity(const kvh_tier *t);
int kvh_count(const kvh_tier *t);
/* host bytes held: the data of the stored slots (the budget bounds it) */
uint64_t kvh_bytes(const kvh_tier *t);

/* Stores a copy of the slot. When full, gives one up first by the retention
 * rule, which may be the incoming slot itself (then nothing is stored).
 * Returns the new slot's id, or -1 when the incoming slot was given up. */
int kvh_put(kvh_tier *t, const kvm_entry *e, const void *data);
/* Copies slot id's entry and data out and removes it; -1 if id is not stored. */
int kvh_take(kvh_tier *t, int id, kvm_entry *e, void *data);
const kvm_entry *kvh_entry(const kvh_tier *t, int id); /* NULL if id is not stored */
const void *kvh_data(const kvh_tier *t, int id);       /* its slot_bytes of data; NULL if not stored */
size_t kvh_slot_bytes(const kvh_tier *t);
/* For snapshots: the stored ids in an order that, stored again one by one
 * with kvh_put_at into an empty tier, rebuilds this one exactly (the grid's
 * lists in the same order, so kvh_near answers alike). Returns the count. */
int kvh_order(const kvh_tier *t, int *ids, int max);
/* Stores a copy at a given free id (no retention); -1 if id is out of range or taken. */
int kvh_put_at(kvh_tier *t, int id, const kvm_entry *e, const void *data);
/* Ids of the stored slots whose camera lies within range_m of pose's (x, z),
 * from the grid cells the range touches, up to max; returns the count. */
int kvh_near(const kvh_tier *t, const float pose[5], float range_m, int *ids, int max);

#endif
