#include "kv_host_tier.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


#define BUCKETS 1024 /* grid cells hash into these; a bucket lists its slots */

typedef struct host_slot {
    kvm_entry e;
    int used;
    int next;      /* the next slot in this slot's bucket, or -1 */
    int neighbours; /* stored slots showing the same place (within KVH_REDUNDANT) */
} host_slot;

struct kvh_tier {
    size_t slot_bytes;
    int capacity, count;
    host_slot *slots;
    uint8_t *data; /* capacity x slot_bytes */
    int buckets[BUCKETS];
};

static int cell_of(float v)
{
    return (int)floorf(v / KVH_CELL_M);
}

static int bucket_of(int cx, int cz)
{
    uint32_t h = (uint32_t)cx * 73856093u ^ (uint32_t)cz * 19349663u;
    return (int)(h % BUCKETS);
}

static int bucket_of_pose(const float *pose)
{
    return bucket_of(cell_of(pose[0]), cell_of(pose[2]));
}

int kvh_create(size_t slot_bytes, uint64_t budget_bytes, kvh_tier **out, char *err, size_t n)
{
    *out = NULL;
    if (slot_bytes == 0) {
        snprintf(err, n, "host tier: slots must hold data");
        return -1;
    }
    uint64_t cap = budget_bytes / slot_bytes;
    if (cap < 1)
        cap = 1;
    if (cap > (1u << 24)) {
        snprintf(err, n, "host tier: a budget of %llu bytes is too large", (unsigned long long)budget_bytes);
        return -1;
    }
    kvh_tier *t = calloc(1, sizeof *t);
    if (t) {
        t->slots = calloc((size_t)cap, sizeof *t->slots);
        t->data = malloc((size_t)cap * slot_bytes);
    }
    if (!t || !t->slots || !t->data) {
        kvh_destroy(t);
        snprintf(err, n, "host tier: out of memory for %llu slots of %zu bytes", (unsigned long long)cap, slot_bytes);
        return -1;
    }
    t->slot_bytes = slot_bytes;
    t->capacity = (int)cap;
    for (int b = 0; b < BUCKETS; b++)
        t->buckets[b] = -1;
    *out = t;
    return 0;
}

void kvh_destroy(kvh_tier *t)
{
    if (!t)
        return;
    free(t->data);
    free(t->slots);
    free(t);
}

void kvh_clear(kvh_tier *t)
{
    for (int id = 0; id < t->capacity; id++)
        t->slots[id].used = 0;
    for (int b = 0; b < BUCKETS; b++)
        t->buckets[b] = -1;
    t->count = 0;
}

int kvh_capacity(const kvh_tier *t)
{
    return t->capacity;
}

int kvh_count(const kvh_tier *t)
{
    return t->count;
}

uint64_t kvh_bytes(const kvh_tier *t)
{
    return (uint64_t)t->count * t->slot_bytes;
}

const kvm_entry *kvh_entry(const kvh_tier *t, int id)
{
    return id >= 0 && id < t->capacity && t->slots[id].used ? &t->slots[id].e : NULL;
}

const void *kvh_data(const kvh_tier *t, int id)
{
    return kvh_entry(t, id) ? t->data + (size_t)id * t->slot_bytes : NULL;
}

size_t kvh_slot_bytes(const kvh_tier *t)
{
    return t->slot_bytes;
}

int kvh_order(const kvh_tier *t, int *ids, int max)
{
    int n = 0;
    for (int b = 0; b < BUCKETS; b++) {
        int first = n;
        for (int id = t->buckets[b]; id >= 0 && n < max; id = t->slots[id].next)
            ids[n++] = id;
        for (int i = first, j = n - 1; i < j; i++, j--) { /* a bucket lists its newest first: reverse it */
            int tmp = ids[i];
            ids[i] = ids[j], ids[j] = tmp;
        }
    }
    return n;
}

/* Stored slots within KVH_REDUNDANT of pose (position plus yaw / 45), but skip. */
static int same_place(const kvh_tier *t, const float *pose, int skip, int *ids, int max);

static void unlink_slot(kvh_tier *t, int id)
{
    int near[256], k = same_place(t, t->slots[id].e.pose, id, near, 256);
    for (int i = 0; i < k; i++)
        t->slots[near[i]].neighbours--;
    int *at = &t->buckets[bucket_of_pose(t->slots[id].e.pose)];
    while (*at != id)
        at = &t->slots[*at].next;
    *at = t->slots[id].next;
    t->slots[id].used = 0;
    t->count--;
}

int kvh_near(const kvh_tier *t, const float pose[5], float range_m, int *ids, int max)
{
    int n = 0, x0 = cell_of(pose[0] - range_m), x1 = cell_of(pose[0] + range_m);
    int z0 = cell_of(pose[2] - range_m), z1 = cell_of(pose[2] + range_m);
    for (int cx = x0; cx <= x1; cx++)
        for (int cz = z0; cz <= z1; cz++)
            for (int id = t->buckets[bucket_of(cx, cz)]; id >= 0; id = t->slots[id].next) {
                const float *p = t->slots[id].e.pose;
                /* buckets are shared by far cells that hash alike: check the cell and the range */
                if (cell_of(p[0]) != cx || cell_of(p[2]) != cz || hypotf(p[0] - pose[0], p[2] - pose[2]) > range_m)
                    continue;
                if (n < max)
                    ids[n] = id;
                n++;
            }
    return n < max ? n : max;
}

static int same_place(const kvh_tier *t, const float *pose, int skip, int *ids, int max)
{
    int near[256], k = kvh_near(t, pose, KVH_REDUNDANT, near, 256), n = 0;
    for (int i = 0; i < k && n < max; i++)
        if (near[i] != skip && kvm_pose_distance(t->slots[near[i]].e.pose, pose) < KVH_REDUNDANT)
            ids[n++] = near[i];
    return n;
}

/* Which slot the retention rule gives up for the incoming entry: a stored id, or -1 for the incoming one. */
static int retention_choice(const kvh_tier *t, const kvm_entry *e)
{
    int near[256];
    int k = same_place(t, e->pose, -1, near, 256), closest = -1;
    float best = KVH_REDUNDANT;
    for (int i = 0; i < k; i++) {
        float d = kvm_pose_distance(t->slots[near[i]].e.pose, e->pose);
        if (d < best)
            best = d, closest = near[i];
    }
    if (closest >= 0) /* the same place twice: the newer view goes */
        return t->slots[closest].e.time > e->time ? closest : -1;
    /* a new place: the newest view of the place shown most often goes, so every place keeps its first
     * view while it can; when every place is shown once, the newest slot gives way */
    int drop = -1;
    for (int id = 0; id < t->capacity; id++) {
        const host_slot *s = &t->slots[id];
        if (s->used && (drop < 0 || s->neighbours > t->slots[drop].neighbours ||
                        (s->neighbours == t->slots[drop].neighbours && s->e.time > t->slots[drop].e.time)))
            drop = id;
    }
    return drop;
}

/* Stores e and data at the free id. */
static void store(kvh_tier *t, int id, const kvm_entry *e, const void *data)
{
    host_slot *s = &t->slots[id];
    int near[256], k = same_place(t, e->pose, -1, near, 256);
    for (int i = 0; i < k; i++)
        t->slots[near[i]].neighbours++;
    s->e = *e;
    s->used = 1;
    s->neighbours = k;
    int b = bucket_of_pose(e->pose);
    s->next = t->buckets[b];
    t->buckets[b] = id;
    t->count++;
    memcpy(t->data + (size_t)id * t->slot_bytes, data, t->slot_bytes);
}

int kvh_put(kvh_tier *t, const kvm_entry *e, const void *data)
{
    if (t->count == t->capacity) {
        int drop = retention_choice(t, e);
        if (drop < 0)
            return -1;
        unlink_slot(t, drop);
    }
    int id = 0;
    while (t->slots[id].used)
        id++;
    store(t, id, e, data);
    return id;
}

int kvh_put_at(kvh_tier *t, int id, const kvm_entry *e, const void *data)
{
    if (id < 0 || id >= t->capacity || t->slots[id].used)
        return -1;
    store(t, id, e, data);
    return 0;
}

int kvh_take(kvh_tier *t, int id, kvm_entry *e, void *data)
{
    if (!kvh_entry(t, id))
        return -1;
    *e = t->slots[id].e;
    memcpy(data, t->data + (size_t)id * t->slot_bytes, t->slot_bytes);
    unlink_slot(t, id);
    return 0;
}
