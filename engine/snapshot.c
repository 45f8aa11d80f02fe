/* Session snapshots (worldkv_session_save / _load). Layout, little-endian:
 *   header   magic "WKVSNAP1", version, model fingerprint, sizes
 *   host     pose, time, RNG state, the memory's bookkeeping
 *   tensors  each device tensor of the memory, as raw floats
 *   trailer  FNV-1a 64 of everything before it */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_util.h"
#include "hash.h"
#include "kv_memory.h"
#include "session_internal.h"

#define SNAP_MAGIC "WKVSNAP1"
#define SNAP_VERSION 1

typedef struct snap_header {
    char magic[8];
    uint32_t version;
    uint32_t image, dim, layers, window, slots, tokens;
    uint64_t model_fingerprint;
    uint64_t tensor_bytes;
} snap_header;

typedef struct snap_host {
    float pose[5];
    int64_t time, frames;
    uint64_t rng;
    kvm_host_state memory;
} snap_host;

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
    memcpy(h->magic, SNAP_MAGIC, 8);
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
    /* a temporary name of its own: two processes saving to one path never collide */
    FILE *f = file_create_temp(path, tmp, sizeof tmp, err, n);
    if (!f)
        return WORLDKV_ERR_IO;
    snap_header h;
    snap_host host;
    fill_header(s, &h);
    memset(&host, 0, sizeof host);
    memcpy(host.pose, s->pose, sizeof host.pose);
    host.time = s->time;
    host.frames = s->stats.frames;
    host.rng = s->rng;
    kvm_save_host(s->mem, &host.memory);
    uint64_t sum = hash_fnv1a(hash_fnv1a(HASH_FNV_SEED, &h, sizeof h), &host, sizeof host);
    int rc = file_write(f, tmp, &h, sizeof h, err, n) || file_write(f, tmp, &host, sizeof host, err, n);
    float *buf = NULL;
    for (int i = 0; !rc && i < kvm_tensor_count(s->mem); i++) {
        wk_tensor *t = kvm_tensor(s->mem, i);
        free(buf);
        buf = malloc((size_t)wk_nbytes(t));
        rc = !buf || wk_tensor_get(s->be, t, buf, err, n) || file_write(f, tmp, buf, (size_t)wk_nbytes(t), err, n);
        if (buf)
            sum = hash_fnv1a(sum, buf, (size_t)wk_nbytes(t));
    }
    free(buf);
    rc = rc || file_write(f, tmp, &sum, sizeof sum, err, n);
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

int worldkv_session_load(worldkv_session *s, const char *path, char *err, size_t n)
{
    if (!s || !path)
        return session_fail(WORLDKV_ERR_ARGUMENT, err, n, "worldkv_session_load needs a session and a path");
    FILE *f = fopen(path, "rb");
    if (!f) {
        file_errno_message(err, n, "open snapshot", path, errno);
        return WORLDKV_ERR_FILE;
    }
    snap_header h, want;
    snap_host host;
    float *buf = NULL;
    int rc = WORLDKV_ERR_FILE;
    fill_header(s, &want);
    if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, SNAP_MAGIC, 8) != 0) {
        snprintf(err, n, "%s is not a worldkv snapshot", path);
        goto done;
    }
    if (h.version != SNAP_VERSION) {
        snprintf(err, n, "%s is snapshot version %u; this engine reads version %u", path, h.version, SNAP_VERSION);
        goto done;
    }
    if (h.model_fingerprint != want.model_fingerprint || h.image != want.image || h.dim != want.dim ||
        h.layers != want.layers || h.window != want.window || h.tokens != want.tokens) {
        snprintf(err, n, "%s was made with another model than this session's", path);
        goto done;
    }
    if (h.slots != want.slots || h.tensor_bytes != want.tensor_bytes) {
        snprintf(err, n, "%s has %u memory slots; this session has %u (use the same --memory-slots)", path, h.slots,
                 want.slots);
        goto done;
    }
    if (fread(&host, sizeof host, 1, f) != 1) {
        snprintf(err, n, "%s is truncated", path);
        goto done;
    }
    uint64_t sum = hash_fnv1a(hash_fnv1a(HASH_FNV_SEED, &h, sizeof h), &host, sizeof host);
    /* read and check everything before touching the session */
    int count = kvm_tensor_count(s->mem);
    buf = malloc((size_t)h.tensor_bytes);
    if (!buf) {
        snprintf(err, n, "out of memory reading %s", path);
        goto done;
    }
    if (fread(buf, 1, (size_t)h.tensor_bytes, f) != h.tensor_bytes) {
        snprintf(err, n, "%s is truncated", path);
        goto done;
    }
    sum = hash_fnv1a(sum, buf, (size_t)h.tensor_bytes);
    uint64_t stored;
    if (fread(&stored, sizeof stored, 1, f) != 1 || stored != sum || fgetc(f) != EOF) {
        snprintf(err, n, "%s is damaged (its checksum does not match)", path);
        goto done;
    }
    char why[256];
    if (session_check_pose(host.pose, "the saved pose", why, sizeof why) != 0 || host.time < 1 ||
        host.frames < 1 || host.frames > host.time) {
        snprintf(err, n, "%s holds an impossible state (%s)", path,
                 host.time < 1 || host.frames < 1 || host.frames > host.time ? "frame counts" : why);
        goto done;
    }
    for (size_t i = 0; i < h.tensor_bytes / sizeof(float); i++) {
        float v;
        memcpy(&v, (const char *)buf + i * sizeof v, sizeof v);
        if (!isfinite(v)) {
            snprintf(err, n, "%s holds NaN or infinity in its memory", path);
            goto done;
        }
    }
    /* everything is checked: from here only the device can fail */
    if (kvm_load_host(s->mem, &host.memory, err, n) != 0)
        goto done;
    rc = WORLDKV_ERR_DEVICE;
    size_t at = 0;
    for (int i = 0; i < count; i++) {
        wk_tensor *t = kvm_tensor(s->mem, i);
        if (wk_tensor_set(s->be, t, (const float *)((const char *)buf + at), err, n) != 0) {
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
    free(buf);
    fclose(f);
    return rc;
}
