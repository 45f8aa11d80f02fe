/* Session snapshots (worldkv_session_save / _load). Every field is written
 * explicitly, little-endian and fixed-width (no raw structs, so no padding
 * and no ABI in the file), in this order:
 *   header   "WKVSNAP3", u32 version, u32 image, dim, layers, window, slots,
 *            tokens, u64 model fingerprint, u64 tensor bytes
 *   host     f32 pose[5], i64 time, i64 frames, u64 rng state;
 *            the memory: entry sink, entry window[window], entry bank[slots],
 *            i32 window head, i32 window count, i64 evictions
 *            (entry: f32 pose[5], i64 time, i64 frame, u32 valid)
 *   tensors  each device tensor of the memory, as 32-bit words (f32 IEEE 754,
 *            or the int8 slots' packed codes)
 *   tier     the host memory tier: u32 count, u64 slot bytes (0 without a
 *            tier), then per slot u32 id, entry, its slot bytes as 32-bit
 *            words; in the order that rebuilds the tier exactly (kvh_order)
 *   trailer  u64 FNV-1a 64 of every byte before it
 * Format 2 (WKVSNAP2, before host tiers) is format 3 without the tier part,
 * and still loads. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "hash.h"
#include "kv_host_tier.h"
#include "kv_memory.h"
#include "session_internal.h"

#define SNAP_MAGIC "WKVSNAP3"
#define SNAP_VERSION 3
#define SNAP_TIER_HEAD_BYTES (4 + 8)
#define SNAP_HEADER_BYTES (8 + 4 + 6 * 4 + 8 + 8)
#define SNAP_ENTRY_BYTES (5 * 4 + 8 + 8 + 4)

typedef struct snap_header {
    uint32_t version;
    uint32_t image, dim, layers, window, slots, tokens;
    uint64_t model_fingerprint;
    uint64_t tensor_bytes;
} snap_header;

/* -- little-endian fields into and out of a byte buffer ---------------------- */
typedef struct bytes {
    uint8_t *p;
    size_t at, size;
    int short_read; /* a read past the end */
} bytes;

static void put_u32(bytes *b, uint32_t v)
{
    for (int i = 0; i < 4 && b->at < b->size; i++)
        b->p[b->at++] = (uint8_t)(v >> (8 * i));
}

static void put_u64(bytes *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(bytes *b, float v)
{
    uint32_t u;
    memcpy(&u, &v, sizeof u);
    put_u32(b, u);
}

static uint32_t get_u32(bytes *b)
{
    if (b->at + 4 > b->size) {
        b->short_read = 1;
        return 0;
    }
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)b->p[b->at++] << (8 * i);
    return v;
}

static uint64_t get_u64(bytes *b)
{
    uint64_t lo = get_u32(b);
    return lo | (uint64_t)get_u32(b) << 32;
}

static float get_f32(bytes *b)
{
    uint32_t u = get_u32(b);
    float v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static void put_entry(bytes *b, const kvm_entry *e)
{
    for (int i = 0; i < 5; i++)
        put_f32(b, e->pose[i]);
    put_u64(b, (uint64_t)e->time);
    put_u64(b, (uint64_t)e->frame);
    put_u32(b, e->valid ? 1u : 0u);
}

static void get_entry(bytes *b, kvm_entry *e)
{
    for (int i = 0; i < 5; i++)
        e->pose[i] = get_f32(b);
    e->time = (int64_t)get_u64(b);
    e->frame = (int64_t)get_u64(b);
    e->valid = get_u32(b) != 0;
}

/* Tensor floats as little-endian bytes: a no-op on little-endian hosts. */
static void floats_le(void *data, size_t count)
{
    const uint32_t probe = 1;
    uint8_t first;
    memcpy(&first, &probe, 1);
    if (first == 1)
        return;
    uint8_t *p = data;
    for (size_t i = 0; i < count; i++, p += 4) {
        uint8_t t = p[0];
        p[0] = p[3], p[3] = t, t = p[1], p[1] = p[2], p[2] = t;
    }
}

/* -- the session's parts --------------------------------------------------------- */
static uint64_t tensor_bytes(kv_memory *m)
{
    uint64_t total = 0;
    for (int i = 0; i < kvm_tensor_count(m); i++)
        total += (uint64_t)wk_nbytes(kvm_tensor(m, i));
    return total;
}

static void fill_header(worldkv_session *s, snap_header *h)
{
    memset(h, 0, sizeof *h);
    h->version = SNAP_VERSION;
    h->image = (uint32_t)s->cfg.image;
    h->dim = (uint32_t)s->cfg.dim;
    h->layers = (uint32_t)s->cfg.depth;
    h->window = (uint32_t)s->cfg.window;
    h->slots = (uint32_t)kvm_slot_count(s->mem);
    h->tokens = (uint32_t)s->cfg.tokens;
    h->model_fingerprint = s->model_fingerprint;
    h->tensor_bytes = tensor_bytes(s->mem);
}

static size_t host_bytes(const snap_header *h)
{
    return 5 * 4 + 8 + 8 + 8 + (1 + (size_t)h->window + (size_t)h->slots) * SNAP_ENTRY_BYTES + 4 + 4 + 8;
}

static void put_header(bytes *b, const snap_header *h)
{
    memcpy(b->p + b->at, SNAP_MAGIC, 8);
    b->at += 8;
    uint32_t fields[7] = {h->version, h->image, h->dim, h->layers, h->window, h->slots, h->tokens};
    for (int i = 0; i < 7; i++)
        put_u32(b, fields[i]);
    put_u64(b, h->model_fingerprint);
    put_u64(b, h->tensor_bytes);
}

/* The header, or -1 when the magic is not ours. */
static int get_header(bytes *b, snap_header *h)
{
    if (b->size < 8 || memcmp(b->p, SNAP_MAGIC, 7) != 0)
        return -1;
    b->at = 8;
    uint32_t *fields[7] = {&h->version, &h->image, &h->dim, &h->layers, &h->window, &h->slots, &h->tokens};
    for (int i = 0; i < 7; i++)
        *fields[i] = get_u32(b);
    h->model_fingerprint = get_u64(b);
    h->tensor_bytes = get_u64(b);
    return 0;
}

static void put_host(bytes *b, const worldkv_session *s, const kvm_host_state *m, const snap_header *h)
{
    for (int i = 0; i < 5; i++)
        put_f32(b, s->pose[i]);
    put_u64(b, (uint64_t)s->time);
    put_u64(b, (uint64_t)s->stats.frames);
    put_u64(b, s->rng);
    put_entry(b, &m->sink);
    for (uint32_t i = 0; i < h->window; i++)
        put_entry(b, &m->window[i]);
    for (uint32_t j = 0; j < h->slots; j++)
        put_entry(b, &m->bank[j]);
    put_u32(b, (uint32_t)m->window_head);
    put_u32(b, (uint32_t)m->window_count);
    put_u64(b, (uint64_t)m->evictions);
}

typedef struct snap_host {
    float pose[5];
    int64_t time, frames;
    uint64_t rng;
    kvm_host_state memory;
} snap_host;

static void get_host(bytes *b, snap_host *out, const snap_header *h)
{
    memset(out, 0, sizeof *out);
    for (int i = 0; i < 5; i++)
        out->pose[i] = get_f32(b);
    out->time = (int64_t)get_u64(b);
    out->frames = (int64_t)get_u64(b);
    out->rng = get_u64(b);
    get_entry(b, &out->memory.sink);
    for (uint32_t i = 0; i < h->window; i++)
        get_entry(b, &out->memory.window[i]);
    for (uint32_t j = 0; j < h->slots; j++)
        get_entry(b, &out->memory.bank[j]);
    out->memory.window_head = (int32_t)get_u32(b);
    out->memory.window_count = (int32_t)get_u32(b);
    out->memory.evictions = (int64_t)get_u64(b);
}

/* -- the host tier part ------------------------------------------------------------ */
/* Writes the tier part and folds it into *sum; nonzero after a write error (err filled). */
static int write_tier(worldkv_session *s, FILE *f, const char *tmp, uint64_t *sum, char *err, size_t n)
{
    kvh_tier *t = kvm_host_tier(s->mem);
    int count = t ? kvh_count(t) : 0;
    size_t slot_bytes = t ? kvh_slot_bytes(t) : 0;
    int *ids = count ? malloc(sizeof *ids * (size_t)count) : NULL;
    size_t rec = 4 + SNAP_ENTRY_BYTES + slot_bytes;
    uint8_t *buf = malloc(rec > SNAP_TIER_HEAD_BYTES ? rec : SNAP_TIER_HEAD_BYTES);
    if ((count && !ids) || !buf) {
        free(ids), free(buf);
        snprintf(err, n, "out of memory saving the host memory tier");
        return 1;
    }
    if (count)
        count = kvh_order(t, ids, count);
    bytes head = {buf, 0, SNAP_TIER_HEAD_BYTES, 0};
    put_u32(&head, (uint32_t)count);
    put_u64(&head, (uint64_t)slot_bytes);
    *sum = hash_fnv1a(*sum, buf, head.size);
    int rc = file_write(f, tmp, buf, head.size, err, n);
    for (int i = 0; !rc && i < count; i++) {
        bytes b = {buf, 0, rec, 0};
        put_u32(&b, (uint32_t)ids[i]);
        put_entry(&b, kvh_entry(t, ids[i]));
        memcpy(buf + b.at, kvh_data(t, ids[i]), slot_bytes);
        floats_le(buf + b.at, slot_bytes / 4);
        *sum = hash_fnv1a(*sum, buf, rec);
        rc = file_write(f, tmp, buf, rec, err, n);
    }
    free(ids), free(buf);
    return rc;
}

/* The tier part as read and checked, before it replaces the session's tier. */
typedef struct snap_tier {
    uint32_t count;
    uint64_t slot_bytes;
    uint8_t *records; /* count x (u32 id, entry, slot bytes), words in host order */
} snap_tier;

/* Reads the tier part (format 3) into *out and folds it into *sum; -1 with err on a bad or unfit tier. */
static int read_tier(worldkv_session *s, FILE *f, const char *path, uint64_t *sum, snap_tier *out, char *err,
                     size_t n)
{
    memset(out, 0, sizeof *out);
    uint8_t head_bytes[SNAP_TIER_HEAD_BYTES];
    if (fread(head_bytes, 1, sizeof head_bytes, f) != sizeof head_bytes) {
        snprintf(err, n, "%s is truncated", path);
        return -1;
    }
    *sum = hash_fnv1a(*sum, head_bytes, sizeof head_bytes);
    bytes hb = {head_bytes, 0, sizeof head_bytes, 0};
    out->count = get_u32(&hb);
    out->slot_bytes = get_u64(&hb);
    if (out->count == 0)
        return 0;
    kvh_tier *t = kvm_host_tier(s->mem);
    if (!t) {
        snprintf(err, n, "%s holds a host memory tier of %u slots; this session has none (load it with "
                 "--memory-host-mb, at least %llu)", path, out->count,
                 (unsigned long long)((out->count * out->slot_bytes + (1u << 20) - 1) >> 20));
        return -1;
    }
    if (out->slot_bytes != kvh_slot_bytes(t)) {
        snprintf(err, n, "%s keeps its host tier's slots in another form than this session (%llu bytes a slot, "
                 "here %zu): use the --memory-bits it was saved with", path, (unsigned long long)out->slot_bytes,
                 kvh_slot_bytes(t));
        return -1;
    }
    if (out->count > (uint32_t)kvh_capacity(t)) {
        snprintf(err, n, "%s holds %u host tier slots; this session's budget fits %d (load it with "
                 "--memory-host-mb %llu or more)", path, out->count, kvh_capacity(t),
                 (unsigned long long)((out->count * out->slot_bytes + (1u << 20) - 1) >> 20));
        return -1;
    }
    size_t rec = 4 + SNAP_ENTRY_BYTES + (size_t)out->slot_bytes;
    out->records = malloc(rec * out->count);
    uint8_t *taken = calloc((size_t)kvh_capacity(t), 1);
    if (!out->records || !taken) {
        free(out->records), free(taken);
        out->records = NULL;
        snprintf(err, n, "out of memory reading %s", path);
        return -1;
    }
    int bad = 0;
    for (uint32_t i = 0; i < out->count && !bad; i++) {
        uint8_t *r = out->records + i * rec;
        if (fread(r, 1, rec, f) != rec) {
            snprintf(err, n, "%s is truncated", path);
            bad = 1;
            break;
        }
        *sum = hash_fnv1a(*sum, r, rec);
        bytes b = {r, 0, rec, 0};
        uint32_t id = get_u32(&b);
        kvm_entry e;
        get_entry(&b, &e);
        floats_le(r + b.at, (size_t)(out->slot_bytes / 4));
        char why[256];
        /* ids past the budget, twice, an impossible entry or non-finite floats: not a tier this session can hold */
        if (id >= (uint32_t)kvh_capacity(t) || taken[id] || !e.valid || e.time < 0 || e.frame < 0 ||
            session_check_pose(e.pose, "a host tier slot's pose", why, sizeof why) != 0 ||
            !kvm_slot_data_finite(s->mem, r + b.at)) {
            snprintf(err, n, "%s holds an impossible host memory tier (slot %u)", path, i);
            bad = 1;
        } else
            taken[id] = 1;
    }
    free(taken);
    if (bad) {
        free(out->records);
        out->records = NULL;
        return -1;
    }
    return 0;
}

/* Replaces the session's host tier with the one read (no tier part: an empty tier). */
static void restore_tier(worldkv_session *s, const snap_tier *in)
{
    kvh_tier *t = kvm_host_tier(s->mem);
    if (!t)
        return;
    kvh_clear(t);
    size_t rec = 4 + SNAP_ENTRY_BYTES + (size_t)in->slot_bytes;
    for (uint32_t i = 0; i < in->count; i++) {
        bytes b = {in->records + i * rec, 0, rec, 0};
        uint32_t id = get_u32(&b);
        kvm_entry e;
        get_entry(&b, &e);
        kvh_put_at(t, (int)id, &e, b.p + b.at); /* ids were checked free and in range */
    }
}

int worldkv_session_save(worldkv_session *s, const char *path, char *err, size_t n)
{
    char tmp[1100];
    if (!s || !path)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_save needs a session and a path");
    if (strlen(path) > 1000)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "snapshot path is too long");
    if (s->broken)
        return session_fail(WORLDKV_ERR_STATE, err, n, "an earlier step failed (%s): its memory is not worth saving",
                            worldkv_status_name(s->broken));
    snap_header h;
    fill_header(s, &h);
    kvm_host_state mem;
    kvm_save_host(s->mem, &mem);
    size_t head_size = SNAP_HEADER_BYTES + host_bytes(&h);
    bytes head = {calloc(1, head_size), 0, head_size, 0};
    if (!head.p)
        return session_fail(WORLDKV_ERR_MEMORY, err, n, "out of memory");
    put_header(&head, &h);
    put_host(&head, s, &mem, &h);
    /* a temporary name of its own: two processes saving to one path never collide */
    FILE *f = file_create_temp(path, tmp, sizeof tmp, err, n);
    if (!f) {
        free(head.p);
        return WORLDKV_ERR_IO;
    }
    uint64_t sum = hash_fnv1a(HASH_FNV_SEED, head.p, head.size);
    int rc = file_write(f, tmp, head.p, head.size, err, n);
    free(head.p);
    float *buf = NULL;
    for (int i = 0; !rc && i < kvm_tensor_count(s->mem); i++) {
        wk_tensor *t = kvm_tensor(s->mem, i);
        free(buf);
        buf = malloc((size_t)wk_nbytes(t));
        rc = !buf || wk_tensor_get(s->be, t, buf, err, n);
        if (!rc) {
            floats_le(buf, (size_t)wk_nelements(t));
            sum = hash_fnv1a(sum, buf, (size_t)wk_nbytes(t));
            rc = file_write(f, tmp, buf, (size_t)wk_nbytes(t), err, n);
        }
    }
    free(buf);
    if (!rc)
        rc = write_tier(s, f, tmp, &sum, err, n);
    uint8_t trailer[8];
    bytes tb = {trailer, 0, sizeof trailer, 0};
    put_u64(&tb, sum);
    rc = rc || file_write(f, tmp, trailer, sizeof trailer, err, n);
    errno = 0;
    if (fclose(f) != 0 && !rc) {
        file_errno_message(err, n, "write", tmp, errno ? errno : EIO);
        rc = 1;
    }
    if (!rc && rename(tmp, path) != 0) {
        file_errno_message(err, n, "rename the snapshot to", path, errno);
        rc = 1;
    }
    if (rc)
        remove(tmp);
    return rc ? WORLDKV_ERR_IO : WORLDKV_OK;
}

/* Reads and checks the whole file (header, host, tensors, tier). */
static int read_snapshot(worldkv_session *s, FILE *f, const char *path, snap_header *h, snap_host *host,
                         snap_tier *tier, uint8_t **tensors, char *err, size_t n)
{
    snap_header want;
    fill_header(s, &want);
    uint8_t head_bytes[SNAP_HEADER_BYTES];
    size_t got = fread(head_bytes, 1, sizeof head_bytes, f);
    bytes hb = {head_bytes, 0, got, 0};
    if (get_header(&hb, h) != 0) {
        snprintf(err, n, "%s is not a worldkv snapshot", path);
        return -1;
    }
    int v2 = head_bytes[7] == '2';
    if ((head_bytes[7] != SNAP_MAGIC[7] && !v2) || (!hb.short_read && h->version != (v2 ? 2u : SNAP_VERSION))) {
        snprintf(err, n, "%s is snapshot format '%c'; this engine reads formats '2' and '%c' (version %d): save "
                 "the world again with this engine", path, head_bytes[7], SNAP_MAGIC[7], SNAP_VERSION);
        return -1;
    }
    if (hb.short_read) {
        snprintf(err, n, "%s is truncated", path);
        return -1;
    }
    if (h->model_fingerprint != want.model_fingerprint || h->image != want.image || h->dim != want.dim ||
        h->layers != want.layers || h->window != want.window || h->tokens != want.tokens) {
        snprintf(err, n, "%s was made with another model than this session's", path);
        return -1;
    }
    if (h->slots != want.slots) {
        snprintf(err, n, "%s has %u memory slots; this session has %u (use the same --memory-slots)", path, h->slots,
                 want.slots);
        return -1;
    }
    if (h->tensor_bytes != want.tensor_bytes) { /* same model and slots: the slots are stored another way */
        snprintf(err, n, "%s keeps its memory slots in another form than this session (%llu bytes, here %llu): "
                         "use the --memory-bits it was saved with", path, (unsigned long long)h->tensor_bytes,
                 (unsigned long long)want.tensor_bytes);
        return -1;
    }
    /* window and slots match this session's, so the host part's size is known and bounded */
    size_t host_size = host_bytes(h);
    uint8_t *host_buf = malloc(host_size);
    *tensors = malloc((size_t)h->tensor_bytes);
    if (!host_buf || !*tensors) {
        free(host_buf);
        snprintf(err, n, "out of memory reading %s", path);
        return -1;
    }
    uint8_t trailer[8];
    if (fread(host_buf, 1, host_size, f) != host_size || fread(*tensors, 1, (size_t)h->tensor_bytes, f) !=
        h->tensor_bytes) {
        free(host_buf);
        snprintf(err, n, "%s is truncated", path);
        return -1;
    }
    uint64_t sum = hash_fnv1a(hash_fnv1a(hash_fnv1a(HASH_FNV_SEED, head_bytes, sizeof head_bytes), host_buf,
                                         host_size),
                              *tensors, (size_t)h->tensor_bytes);
    /* a damaged file may fail the tier's checks before its checksum is reached: say damaged then too */
    char tier_err[512] = "";
    int tier_bad = !v2 && read_tier(s, f, path, &sum, tier, tier_err, sizeof tier_err) != 0;
    if (!tier_bad && fread(trailer, 1, sizeof trailer, f) != sizeof trailer) {
        free(host_buf);
        snprintf(err, n, "%s is truncated", path);
        return -1;
    }
    bytes tb = {trailer, 0, sizeof trailer, 0};
    if (!tier_bad && (get_u64(&tb) != sum || fgetc(f) != EOF)) {
        free(host_buf);
        free(tier->records);
        tier->records = NULL;
        snprintf(err, n, "%s is damaged (its checksum does not match)", path);
        return -1;
    }
    if (tier_bad) {
        free(host_buf);
        snprintf(err, n, "%s", tier_err);
        return -1;
    }
    bytes b = {host_buf, 0, host_size, 0};
    get_host(&b, host, h);
    free(host_buf);
    floats_le(*tensors, (size_t)(h->tensor_bytes / 4));
    char why[256];
    if (session_check_pose(host->pose, "the saved pose", why, sizeof why) != 0 || host->time < 1 ||
        host->frames < 1 || host->frames > host->time) {
        snprintf(err, n, "%s holds an impossible state (%s)", path,
                 host->time < 1 || host->frames < 1 || host->frames > host->time ? "frame counts" : why);
        return -1;
    }
    /* floats must be finite; int8 slots' codes (u32 words) may hold any bits */
    size_t at = 0;
    for (int t = 0; t < kvm_tensor_count(s->mem); t++) {
        const wk_tensor *tensor = kvm_tensor(s->mem, t);
        size_t size = (size_t)wk_nbytes(tensor);
        for (size_t i = 0; tensor->dtype == WK_F32 && i < size / sizeof(float); i++) {
            float v;
            memcpy(&v, *tensors + at + i * sizeof v, sizeof v);
            if (!isfinite(v)) {
                snprintf(err, n, "%s holds NaN or infinity in its memory", path);
                return -1;
            }
        }
        at += size;
    }
    return 0;
}

int worldkv_session_load(worldkv_session *s, const char *path, char *err, size_t n)
{
    if (!s || !path)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_load needs a session and a path");
    FILE *f = fopen(path, "rb");
    if (!f) {
        file_errno_message(err, n, "open snapshot", path, errno);
        return WORLDKV_ERR_FILE;
    }
    snap_header h;
    snap_host host;
    snap_tier tier = {0};
    uint8_t *buf = NULL;
    int rc = WORLDKV_ERR_FILE;
    /* read and check everything before touching the session */
    if (read_snapshot(s, f, path, &h, &host, &tier, &buf, err, n) != 0 ||
        kvm_load_host(s->mem, &host.memory, err, n) != 0)
        goto done;
    restore_tier(s, &tier);
    /* from here only the device can fail */
    rc = WORLDKV_ERR_DEVICE;
    size_t at = 0;
    for (int i = 0; i < kvm_tensor_count(s->mem); i++) {
        wk_tensor *t = kvm_tensor(s->mem, i);
        if (wk_tensor_set(s->be, t, (const float *)(const void *)(buf + at), err, n) != 0) {
            s->broken = WORLDKV_ERR_DEVICE;
            goto done;
        }
        at += (size_t)wk_nbytes(t);
    }
    memcpy(s->pose, host.pose, sizeof s->pose);
    s->time = host.time;
    s->stats.frames = host.frames;
    s->rng = host.rng;
    /* the saved world's last frame, not the start image, is the session's last frame now */
    if ((rc = session_refresh_last_frame(s, err, n)) != 0) {
        s->broken = rc;
        goto done;
    }
    s->broken = 0;
    rc = WORLDKV_OK;
done:
    free(tier.records);
    free(buf);
    fclose(f);
    return rc;
}
