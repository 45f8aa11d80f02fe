#include "kv_memory.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera.h"
#include "kv_host_tier.h"
#include "kv_retrieval.h"

struct kv_memory {
    wk_backend *be;
    kvm_params p;
    wk_tensor *k, *v;
    wk_tensor *kp[64], *vp[64];
    wk_tensor images; /* [image * image * 4, 1 + window + slots] */
    /* int8 slots: per layer the codes [qstride, slots] (u32, 4 bytes a word) and scales [sstride, slots] */
    wk_tensor *q, *scales; /* 2 * layers each: k then v of layer 0, then layer 1, ... */
    int64_t qstride, sstride;
    wk_tensor packed;      /* int8 slots: the bank's frames, RGB8 and f16 depth [pstride, slots] */
    int64_t pstride;
    kvh_tier *host;        /* NULL without a host tier */
    size_t slot_bytes;     /* one bank slot as the host keeps it */
    uint8_t *blob[2];      /* two slots' worth of host scratch for swaps */
    kvr_candidate *cand;   /* the bank and the host slots near a pose, ranked together */
    float *cand_score;     /* each candidate's retrieval score, from the same pass that ranks them */
    int *near;
    int fetched, spilled;
    kvm_entry sink;
    kvm_entry window[KVM_MAX_WINDOW];
    int window_head, window_count; /* ring: head is the oldest */
    kvm_entry bank[KVM_MAX_SLOTS];
    int retrieved[KVM_MAX_RETRIEVE], retrieved_count;
    int64_t evictions;
};

static int64_t sink_row(const kv_memory *m)
{
    return m->p.tokens;
}

static int64_t window_row(const kv_memory *m, int i)
{
    return 2 * (int64_t)m->p.tokens + (int64_t)i * m->p.tokens;
}

static int quantized(const kv_memory *m)
{
    return m->p.bits == 8 || m->p.bits == 4;
}

/* Quantized codes a 32-bit word holds: 4 (int8) or 8 (int4). */
static int64_t codes_per_word(const kv_memory *m)
{
    return 32 / m->p.bits;
}

/* Bank slot j's rows in the arenas; with int8 slots, staging slot j's. */
static int64_t bank_row(const kv_memory *m, int j)
{
    return window_row(m, m->p.window) + (int64_t)j * m->p.compressed_tokens;
}

/* A bank of 0 slots still allocates one (tensors have no empty dimension). */
#define SLOTS_AT_LEAST_ONE(n) ((n) > 0 ? (n) : 1)

static int64_t round_up(int64_t x, int64_t to)
{
    return (x + to - 1) / to * to;
}

/* the image store: the sink at 0, then the window, then the bank */
static int image_index_window(const kv_memory *m, int i)
{
    (void)m;
    return 1 + i;
}

/* Bank slot j's frame; with int8 slots, staging slot j's (the bank's own are packed). */
static int image_index_bank(const kv_memory *m, int j)
{
    return 1 + m->p.window + j;
}

/* Device memory comes back holding whatever it held before (a freed tensor's
 * bytes, on Vulkan): zero every tensor, so that slots not yet written (their
 * scales, staging rows) hold defined values a snapshot can save and check. */
static int clear_tensors(kv_memory *m, char *err, size_t n)
{
    size_t most = 0;
    for (int t = 0; t < kvm_tensor_count(m); t++)
        most = (size_t)wk_nbytes(kvm_tensor(m, t)) > most ? (size_t)wk_nbytes(kvm_tensor(m, t)) : most;
    float *zeros = calloc(most / sizeof(float) + 1, sizeof(float));
    if (!zeros) {
        snprintf(err, n, "memory: out of host memory");
        return -1;
    }
    int rc = 0;
    for (int t = 0; t < kvm_tensor_count(m) && rc == 0; t++)
        rc = wk_tensor_set(m->be, kvm_tensor(m, t), zeros, err, n);
    free(zeros);
    return rc;
}

int kvm_create(wk_backend *be, const kvm_params *p, kv_memory **out, char *err, size_t err_size)
{
    *out = NULL;
    if (p->layers < 1 || p->layers > 64 || p->window < 1 || p->window > KVM_MAX_WINDOW || p->slots < 0 ||
        p->slots > KVM_MAX_SLOTS || p->retrieve < 0 || p->retrieve > KVM_MAX_RETRIEVE || p->tokens < 1 ||
        p->compressed_tokens < 1 || p->dim < 1 || p->image < 2 || (p->bits && p->bits != 32 && p->bits != 8 && p->bits != 4) ||
        (p->bits && p->bits != 32 && p->dim % (32 / p->bits))) {
        snprintf(err, err_size, "memory: window 1..%d, slots 0..%d, retrieve 0..%d, layers 1..64, bits 32, 8 or 4 "
                                "(8: dim a multiple of 4, 4: of 8)", KVM_MAX_WINDOW, KVM_MAX_SLOTS, KVM_MAX_RETRIEVE);
        return -1;
    }
    kv_memory *m = calloc(1, sizeof *m);
    if (!m || !(m->k = calloc((size_t)p->layers, sizeof(wk_tensor))) ||
        !(m->v = calloc((size_t)p->layers, sizeof(wk_tensor)))) {
        if (m)
            free(m->k);
        free(m);
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    m->be = be;
    m->p = *p;
    if (p->bits == 32)
        m->p.bits = 0;
    /* int8: the arenas stage the slots a frame reads; views keep the 64-element alignment */
    int64_t rows = bank_row(m, quantized(m) ? p->retrieve : p->slots);
    m->qstride = quantized(m) ? round_up((int64_t)p->compressed_tokens * p->dim / codes_per_word(m), 64) : 0;
    m->sstride = round_up(p->dim, 64);
    if (quantized(m) && (!(m->q = calloc(2 * (size_t)p->layers, sizeof(wk_tensor))) ||
                         !(m->scales = calloc(2 * (size_t)p->layers, sizeof(wk_tensor))))) {
        snprintf(err, err_size, "out of memory");
        kvm_destroy(m);
        return -1;
    }
    for (int i = 0; quantized(m) && i < 2 * p->layers; i++)
        if (wk_tensor_alloc_u32(be, &m->q[i], m->qstride, SLOTS_AT_LEAST_ONE(p->slots), 1, 1, err, err_size) ||
            wk_tensor_alloc(be, &m->scales[i], m->sstride, SLOTS_AT_LEAST_ONE(p->slots), 1, 1, err, err_size)) {
            kvm_destroy(m);
            return -1;
        }
    for (int l = 0; l < p->layers; l++) {
        if (wk_tensor_alloc(be, &m->k[l], p->dim, rows, 1, 1, err, err_size) ||
            wk_tensor_alloc(be, &m->v[l], p->dim, rows, 1, 1, err, err_size)) {
            kvm_destroy(m);
            return -1;
        }
        m->kp[l] = &m->k[l];
        m->vp[l] = &m->v[l];
    }
    int64_t hw = (int64_t)p->image * p->image;
    m->pstride = round_up(hw + hw / 2, 64);
    if (wk_tensor_alloc(be, &m->images, hw * 4, 1 + p->window + (quantized(m) ? p->retrieve : p->slots), 1, 1, err,
                        err_size) ||
        (quantized(m) && (hw % 2 ? (snprintf(err, err_size, "memory: int8 slots need an even frame area"), -1)
                                 : wk_tensor_alloc_u32(be, &m->packed, m->pstride, SLOTS_AT_LEAST_ONE(p->slots), 1,
                                                       1, err, err_size)))) {
        kvm_destroy(m);
        return -1;
    }
    int64_t per_layer = quantized(m) ? 2 * (m->p.compressed_tokens * (int64_t)p->dim / codes_per_word(m) + p->dim)
                                     : 2 * (int64_t)p->compressed_tokens * p->dim;
    m->slot_bytes = (size_t)(4 * (p->layers * per_layer + (quantized(m) ? hw + hw / 2 : 4 * hw)));
    if (p->host_bytes && p->slots > 0 &&
        (kvh_create(m->slot_bytes, p->host_bytes, &m->host, err, err_size) != 0 ||
         !(m->blob[0] = malloc(m->slot_bytes)) || !(m->blob[1] = malloc(m->slot_bytes)) ||
         !(m->cand = malloc(sizeof *m->cand * (KVM_MAX_SLOTS + KVM_HOST_CANDIDATES))) ||
         !(m->cand_score = malloc(sizeof *m->cand_score * (KVM_MAX_SLOTS + KVM_HOST_CANDIDATES))) ||
         !(m->near = malloc(sizeof *m->near * KVM_HOST_CANDIDATES)))) {
        if (m->host)
            snprintf(err, err_size, "out of memory");
        kvm_destroy(m);
        return -1;
    }
    if (clear_tensors(m, err, err_size) != 0) {
        kvm_destroy(m);
        return -1;
    }
    *out = m;
    return 0;
}

void kvm_destroy(kv_memory *m)
{
    if (!m)
        return;
    free(m->near);
    free(m->cand_score);
    free(m->cand);
    free(m->blob[1]);
    free(m->blob[0]);
    kvh_destroy(m->host);
    for (int i = 2 * m->p.layers - 1; m->q && i >= 0; i--) {
        if (m->scales)
            wk_tensor_free(m->be, &m->scales[i]);
        wk_tensor_free(m->be, &m->q[i]);
    }
    free(m->scales);
    free(m->q);
    if (m->packed.ne[0])
        wk_tensor_free(m->be, &m->packed);
    wk_tensor_free(m->be, &m->images);
    for (int l = m->p.layers - 1; l >= 0; l--) {
        wk_tensor_free(m->be, &m->v[l]);
        wk_tensor_free(m->be, &m->k[l]);
    }
    free(m->k);
    free(m->v);
    free(m);
}

wk_tensor *const *kvm_k_arenas(kv_memory *m)
{
    return m->kp;
}

wk_tensor *const *kvm_v_arenas(kv_memory *m)
{
    return m->vp;
}

int kvm_image(kv_memory *m, int i, wk_tensor *view, char *err, size_t err_size)
{
    int64_t hw = (int64_t)m->p.image * m->p.image;
    return wk_tensor_view(m->be, &m->images, (int64_t)i * hw * 4, m->p.image, m->p.image, 4, 1, view, err, err_size);
}

/* One part of bank slot j as a view: part 0..2L-1 its layers' K and V (rows,
 * or int8 codes), then with int8 the scales 2L..4L-1, then its frame. */
static int slot_part(kv_memory *m, int j, int part, wk_tensor *view, char *err, size_t n)
{
    int64_t d = m->p.dim, ct = m->p.compressed_tokens, hw = (int64_t)m->p.image * m->p.image;
    int layers2 = 2 * m->p.layers;
    if (part == (quantized(m) ? 2 * layers2 : layers2))
        return quantized(m) ? wk_tensor_view(m->be, &m->packed, (int64_t)j * m->pstride, hw + hw / 2, 1, 1, 1, view,
                                             err, n)
                            : kvm_image(m, image_index_bank(m, j), view, err, n);
    if (quantized(m))
        return part < layers2
                   ? wk_tensor_view(m->be, &m->q[part], (int64_t)j * m->qstride, d / codes_per_word(m), ct, 1, 1, view,
                                    err, n)
                   : wk_tensor_view(m->be, &m->scales[part - layers2], (int64_t)j * m->sstride, d, 1, 1, 1, view,
                                    err, n);
    wk_tensor *arena = part % 2 ? &m->v[part / 2] : &m->k[part / 2];
    return wk_tensor_view(m->be, arena, bank_row(m, j) * d, d, ct, 1, 1, view, err, n);
}

/* Copies bank slot j to blob (to_device 0) or blob into slot j. */
static int slot_io(kv_memory *m, int j, uint8_t *blob, int to_device, char *err, size_t n)
{
    int parts = (quantized(m) ? 4 : 2) * m->p.layers + 1;
    size_t at = 0;
    for (int part = 0; part < parts; part++) {
        wk_tensor v;
        if (slot_part(m, j, part, &v, err, n) != 0)
            return -1;
        int rc = to_device ? wk_tensor_set(m->be, &v, (const float *)(const void *)(blob + at), err, n)
                           : wk_tensor_get(m->be, &v, (float *)(void *)(blob + at), err, n);
        at += (size_t)wk_nbytes(&v);
        wk_tensor_view_release(m->be, &v);
        if (rc)
            return -1;
    }
    return 0;
}

static int choose_eviction(const kv_memory *m, const kvm_entry *incoming);

/* The bank's valid slots as retrieval candidates (id: the slot index); returns the count. */
static int bank_candidates(const kv_memory *m, kvr_candidate *cand)
{
    int count = 0;
    for (int j = 0; j < m->p.slots; j++)
        if (m->bank[j].valid) {
            memcpy(cand[count].pose, m->bank[j].pose, sizeof cand[0].pose);
            cand[count].time = m->bank[j].time;
            cand[count++].id = j;
        }
    return count;
}

int kvm_fetch(kv_memory *m, const float pose[5], int64_t now, char *err, size_t err_size)
{
    m->fetched = m->spilled = 0;
    if (!m->host)
        return 0;
    /* the bank and the host slots in retrieval range, ranked together */
    kvr_candidate *cand = m->cand;
    int *near = m->near;
    int count = bank_candidates(m, cand);
    int nh = kvh_near(m->host, pose, KVR_MAX_RANGE_M, near, KVM_HOST_CANDIDATES);
    for (int i = 0; i < nh; i++) {
        const kvm_entry *e = kvh_entry(m->host, near[i]);
        memcpy(cand[count].pose, e->pose, sizeof cand[0].pose);
        cand[count].time = e->time;
        cand[count++].id = m->p.slots + near[i];
    }
    int chosen[KVM_MAX_RETRIEVE];
    kvr_view view;
    kvr_view_init(&view, pose);
    /* one scoring pass ranks the candidates and gives each bank slot's score for the eviction
     * targets below (a fetch only replaces unchosen slots, never rescored) */
    float *score = m->cand_score;
    int k = kvr_select_view(&view, cand, count, now, m->p.retrieve, chosen, score);
    float bank_score[KVM_MAX_SLOTS] = {0};
    for (int i = 0; i < count; i++) /* ids below slots are bank slots, wherever they sit in cand */
        if (cand[i].id < m->p.slots)
            bank_score[cand[i].id] = score[i];
    for (int c = 0; c < k; c++) {
        if (chosen[c] < m->p.slots)
            continue;
        /* the target: a free bank slot, else the unchosen one that scores lowest here */
        int target = -1;
        float worst = 0.0f;
        for (int j = 0; j < m->p.slots; j++) {
            int taken = 0;
            for (int d = 0; d < k; d++)
                taken |= chosen[d] == j;
            if (taken)
                continue;
            if (!m->bank[j].valid) {
                target = j;
                break;
            }
            float s = bank_score[j];
            if (target < 0 || s < worst)
                target = j, worst = s;
        }
        if (target < 0)
            continue; /* every bank slot is chosen: cannot happen while retrieve < slots */
        kvm_entry in, out = m->bank[target];
        if (kvh_take(m->host, chosen[c] - m->p.slots, &in, m->blob[0]) != 0 ||
            (out.valid && slot_io(m, target, m->blob[1], 0, err, err_size) != 0) ||
            slot_io(m, target, m->blob[0], 1, err, err_size) != 0)
            return -1;
        m->bank[target] = in;
        if (out.valid)
            kvh_put(m->host, &out, m->blob[1]);
        chosen[c] = target;
        m->fetched++;
    }
    /* the slot this frame's commit gives up goes to the host instead of away */
    if (m->p.slots > 0 && m->window_count == m->p.window) {
        int j = choose_eviction(m, &m->window[m->window_head]);
        if (j >= 0 && j < m->p.slots) {
            if (slot_io(m, j, m->blob[1], 0, err, err_size) != 0)
                return -1;
            kvh_put(m->host, &m->bank[j], m->blob[1]);
            m->spilled++;
        }
    }
    return 0;
}

int kvm_slot_data_finite(const kv_memory *m, const void *data)
{
    /* slot_io's layout: float slots are floats throughout; int8 slots are codes, then scales, then the packed frame */
    int64_t d = m->p.dim, ct = m->p.compressed_tokens, layers2 = 2 * m->p.layers;
    size_t first = quantized(m) ? (size_t)(layers2 * ct * d / codes_per_word(m)) : 0;
    size_t end = quantized(m) ? first + (size_t)(layers2 * d) : m->slot_bytes / 4;
    const uint8_t *p = data;
    for (size_t i = first; i < end; i++) {
        float v;
        memcpy(&v, p + 4 * i, sizeof v);
        if (!isfinite(v))
            return 0;
    }
    return 1;
}

int kvm_compress_first_rows(void *ctx, int layer, const wk_tensor *k, const wk_tensor *v, wk_tensor *k_out,
                            wk_tensor *v_out, char *err, size_t n)
{
    wk_backend *be = ctx;
    (void)layer;
    wk_tensor a, b;
    int rc = wk_tensor_view(be, k, 0, k_out->ne[0], k_out->ne[1], 1, 1, &a, err, n) ||
             wk_tensor_view(be, v, 0, v_out->ne[0], v_out->ne[1], 1, 1, &b, err, n) ||
             wk_copy(be, &a, k_out, err, n) || wk_copy(be, &b, v_out, err, n);
    wk_tensor_view_release(be, &a);
    wk_tensor_view_release(be, &b);
    return rc ? -1 : 0;
}

kvh_tier *kvm_host_tier(const kv_memory *m)
{
    return m->host;
}

int kvm_sources(kv_memory *m, const float pose[5], int64_t now, kvm_source *out, int max)
{
    int n = 0;
    if (m->sink.valid && n < max) {
        out[n] = (kvm_source){{0}, 1, sink_row(m), m->p.tokens, 0, m->sink.frame};
        memcpy(out[n++].pose, m->sink.pose, sizeof m->sink.pose);
    }
    for (int i = m->window_count - 1; i >= 0 && n < max; i--) { /* newest first */
        int slot = (m->window_head + i) % m->p.window;
        out[n] = (kvm_source){{0}, 2, window_row(m, slot), m->p.tokens, image_index_window(m, slot),
                              m->window[slot].frame};
        memcpy(out[n++].pose, m->window[slot].pose, sizeof out[0].pose);
    }
    kvr_candidate cand[KVM_MAX_SLOTS];
    int count = bank_candidates(m, cand);
    m->retrieved_count = kvr_select(cand, count, pose, now, m->p.retrieve, m->retrieved);
    for (int r = 0; r < m->retrieved_count && n < max; r++) {
        int j = m->retrieved[r];
        out[n] = (kvm_source){{0}, 3, bank_row(m, quantized(m) ? r : j), m->p.compressed_tokens,
                              image_index_bank(m, quantized(m) ? r : j), m->bank[j].frame};
        memcpy(out[n++].pose, m->bank[j].pose, sizeof out[0].pose);
    }
    return n;
}

float kvm_pose_distance(const float *a, const float *b)
{
    float dyaw = cam_wrap_deg_f32(a[3] - b[3]);
    return hypotf(a[0] - b[0], a[2] - b[2]) + fabsf(dyaw) / 45.0f;
}

/* Candidates 0..slots-1 are the bank, candidate `slots` the newcomer. */
static const kvm_entry *candidate(const kv_memory *m, const kvm_entry *incoming, int i)
{
    return i < m->p.slots ? &m->bank[i] : incoming;
}

/* Of the two closest poses among the slots and the newcomer, the newer goes
 * (the newcomer itself if it is one of the pair): this keeps the bank spread
 * over space and keeps each place's first view, the one retrieval prefers. */
static int choose_eviction(const kv_memory *m, const kvm_entry *incoming)
{
    float best = 0.0f;
    int drop = -1;
    for (int i = 0; i <= m->p.slots; i++) {
        if (i < m->p.slots && !m->bank[i].valid)
            return -1;
        for (int j = i + 1; j <= m->p.slots; j++) {
            const kvm_entry *a = candidate(m, incoming, i), *b = candidate(m, incoming, j);
            float d = kvm_pose_distance(a->pose, b->pose);
            if (drop < 0 || d < best) {
                best = d;
                drop = a->time < b->time ? j : i;
            }
        }
    }
    return drop;
}

int kvm_eviction_choice(const kv_memory *m)
{
    if (m->p.slots == 0 || m->window_count < m->p.window)
        return -1;
    return choose_eviction(m, &m->window[m->window_head]);
}

const kvm_entry *kvm_bank_entry(const kv_memory *m, int i)
{
    return i >= 0 && i < m->p.slots ? &m->bank[i] : NULL;
}

/* Copies `rows` rows of every layer's arenas (and one image) in the batch. */
static int move_rows(kv_memory *m, int64_t from, int64_t to, int64_t rows, char *err, size_t n)
{
    for (int l = 0; l < m->p.layers; l++) {
        wk_tensor *arenas[2] = {&m->k[l], &m->v[l]};
        for (int a = 0; a < 2; a++) {
            wk_tensor src, dst;
            int rc = wk_tensor_view(m->be, arenas[a], from * m->p.dim, m->p.dim, rows, 1, 1, &src, err, n) ||
                     wk_tensor_view(m->be, arenas[a], to * m->p.dim, m->p.dim, rows, 1, 1, &dst, err, n) ||
                     wk_copy(m->be, &src, &dst, err, n);
            wk_tensor_view_release(m->be, &src);
            wk_tensor_view_release(m->be, &dst);
            if (rc)
                return -1;
        }
    }
    return 0;
}

static int store_image(kv_memory *m, int index, const wk_tensor *rgb, const wk_tensor *depth, char *err, size_t n)
{
    int64_t hw = (int64_t)m->p.image * m->p.image;
    wk_tensor c, d;
    int rc = wk_tensor_view(m->be, &m->images, (int64_t)index * hw * 4, m->p.image, m->p.image, 3, 1, &c, err, n) ||
             wk_tensor_view(m->be, &m->images, (int64_t)index * hw * 4 + 3 * hw, m->p.image, m->p.image, 1, 1, &d,
                            err, n) ||
             wk_copy(m->be, rgb, &c, err, n) || wk_copy(m->be, depth, &d, err, n);
    wk_tensor_view_release(m->be, &c);
    wk_tensor_view_release(m->be, &d);
    return rc ? -1 : 0;
}

static int copy_image(kv_memory *m, int from, int to, char *err, size_t n)
{
    wk_tensor a, b;
    int rc = kvm_image(m, from, &a, err, n) || kvm_image(m, to, &b, err, n) || wk_copy(m->be, &a, &b, err, n);
    wk_tensor_view_release(m->be, &a);
    wk_tensor_view_release(m->be, &b);
    return rc ? -1 : 0;
}

/* int8 slots: quantizes rows (dequant 0) into bank slot j's codes and
 * scales of arena a (2 * layer + 0 for K, + 1 for V), or dequantizes them
 * back into rows (dequant 1). */
static int slot_codes(kv_memory *m, int a, int j, wk_tensor *rows, int dequant, char *err, size_t n)
{
    wk_tensor q, s;
    int64_t d = m->p.dim, ct = m->p.compressed_tokens;
    int rc = wk_tensor_view(m->be, &m->q[a], (int64_t)j * m->qstride, d / codes_per_word(m), ct, 1, 1, &q, err, n) ||
             wk_tensor_view(m->be, &m->scales[a], (int64_t)j * m->sstride, d, 1, 1, 1, &s, err, n) ||
             (dequant ? wk_dequantize(m->be, m->p.bits, &q, &s, rows, err, n)
                      : wk_quantize(m->be, m->p.bits, rows, &q, &s, err, n));
    wk_tensor_view_release(m->be, &s);
    wk_tensor_view_release(m->be, &q);
    return rc ? -1 : 0;
}

/* int8 slots: packs an image-store entry into bank slot j's frame, or
 * unpacks slot j's frame into the entry. */
static int slot_frame(kv_memory *m, int entry, int j, int unpack, char *err, size_t n)
{
    wk_tensor img, packed;
    int64_t hw = (int64_t)m->p.image * m->p.image;
    int rc = kvm_image(m, entry, &img, err, n) ||
             wk_tensor_view(m->be, &m->packed, (int64_t)j * m->pstride, hw + hw / 2, 1, 1, 1, &packed, err, n) ||
             (unpack ? wk_unpack_frame(m->be, &packed, &img, err, n) : wk_pack_frame(m->be, &img, &packed, err, n));
    wk_tensor_view_release(m->be, &packed);
    wk_tensor_view_release(m->be, &img);
    return rc ? -1 : 0;
}

int kvm_stage(kv_memory *m, char *err, size_t err_size)
{
    for (int r = 0; quantized(m) && r < m->retrieved_count; r++) {
        if (slot_frame(m, image_index_bank(m, r), m->retrieved[r], 1, err, err_size) != 0)
            return -1;
        for (int l = 0; l < m->p.layers; l++) {
            wk_tensor *arenas[2] = {&m->k[l], &m->v[l]};
            for (int a = 0; a < 2; a++) {
                wk_tensor rows;
                int rc = wk_tensor_view(m->be, arenas[a], bank_row(m, r) * m->p.dim, m->p.dim,
                                        m->p.compressed_tokens, 1, 1, &rows, err, err_size) ||
                         slot_codes(m, 2 * l + a, m->retrieved[r], &rows, 1, err, err_size);
                wk_tensor_view_release(m->be, &rows);
                if (rc)
                    return -1;
            }
        }
    }
    return 0;
}

/* The window's oldest frame enters the bank: compressed K/V and its image. */
static int remember(kv_memory *m, int wslot, kvm_compress_fn compress, void *ctx, char *err, size_t n)
{
    if (m->p.slots == 0)
        return 0;
    int j = 0;
    while (j < m->p.slots && m->bank[j].valid)
        j++;
    if (j == m->p.slots) {
        j = choose_eviction(m, &m->window[wslot]);
        m->evictions++;
        if (j == m->p.slots)
            return 0; /* the newcomer is the redundant one: the bank keeps the first view */
    }
    for (int l = 0; l < m->p.layers; l++) {
        wk_tensor ks, vs, kd, vd;
        /* int8: compress into staging slot 0 (this frame's passes have read it by now), then quantize */
        int64_t d = m->p.dim, src = window_row(m, wslot), dst = bank_row(m, quantized(m) ? 0 : j);
        int rc = wk_tensor_view(m->be, &m->k[l], src * d, d, m->p.tokens, 1, 1, &ks, err, n) ||
                 wk_tensor_view(m->be, &m->v[l], src * d, d, m->p.tokens, 1, 1, &vs, err, n) ||
                 wk_tensor_view(m->be, &m->k[l], dst * d, d, m->p.compressed_tokens, 1, 1, &kd, err, n) ||
                 wk_tensor_view(m->be, &m->v[l], dst * d, d, m->p.compressed_tokens, 1, 1, &vd, err, n) ||
                 compress(ctx, l, &ks, &vs, &kd, &vd, err, n) ||
                 (quantized(m) && (slot_codes(m, 2 * l, j, &kd, 0, err, n) || slot_codes(m, 2 * l + 1, j, &vd, 0, err, n)));
        wk_tensor_view_release(m->be, &ks), wk_tensor_view_release(m->be, &vs);
        wk_tensor_view_release(m->be, &kd), wk_tensor_view_release(m->be, &vd);
        if (rc)
            return -1;
    }
    if (quantized(m) ? slot_frame(m, image_index_window(m, wslot), j, 0, err, n) != 0
                     : copy_image(m, image_index_window(m, wslot), image_index_bank(m, j), err, n) != 0)
        return -1;
    m->bank[j] = m->window[wslot];
    return 0;
}

int kvm_commit(kv_memory *m, const float pose[5], int64_t time, int64_t frame, const wk_tensor *rgb,
               const wk_tensor *depth, kvm_compress_fn compress, void *ctx, char *err, size_t err_size)
{
    kvm_entry e = {{0}, time, frame, 1};
    memcpy(e.pose, pose, sizeof e.pose);
    if (!m->sink.valid) {
        if (move_rows(m, 0, sink_row(m), m->p.tokens, err, err_size) || store_image(m, 0, rgb, depth, err, err_size))
            return -1;
        m->sink = e;
        return 0;
    }
    int slot;
    if (m->window_count == m->p.window) {
        slot = m->window_head; /* the oldest leaves for the bank */
        if (remember(m, slot, compress, ctx, err, err_size) != 0)
            return -1;
        m->window_head = (m->window_head + 1) % m->p.window;
    } else {
        slot = (m->window_head + m->window_count) % m->p.window;
        m->window_count++;
    }
    if (move_rows(m, 0, window_row(m, slot), m->p.tokens, err, err_size) ||
        store_image(m, image_index_window(m, slot), rgb, depth, err, err_size))
        return -1;
    m->window[slot] = e;
    return 0;
}

void kvm_get_stats(const kv_memory *m, kvm_stats *out)
{
    memset(out, 0, sizeof *out);
    for (int j = 0; j < m->p.slots; j++)
        out->slots_used += m->bank[j].valid;
    out->slots = m->p.slots;
    out->window_used = m->window_count;
    out->arena_bytes = (uint64_t)(2 * m->p.layers) * (uint64_t)wk_nbytes(&m->k[0]);
    for (int i = 0; quantized(m) && i < 2 * m->p.layers; i++)
        out->arena_bytes += (uint64_t)wk_nbytes(&m->q[i]) + (uint64_t)wk_nbytes(&m->scales[i]);
    out->image_bytes = (uint64_t)wk_nbytes(&m->images) + (quantized(m) ? (uint64_t)wk_nbytes(&m->packed) : 0);
    out->retrieved_count = m->retrieved_count;
    for (int r = 0; r < m->retrieved_count; r++) {
        out->retrieved[r] = m->retrieved[r];
        out->retrieved_frames[r] = m->bank[m->retrieved[r]].frame;
    }
    out->evictions = m->evictions;
    if (m->host) {
        out->host_slots = kvh_count(m->host);
        out->host_capacity = kvh_capacity(m->host);
        out->host_bytes = kvh_bytes(m->host);
    }
    out->fetched = m->fetched;
    out->spilled = m->spilled;
}

int kvm_newest_image(const kv_memory *m)
{
    if (m->window_count == 0)
        return 0;
    return image_index_window(m, (m->window_head + m->window_count - 1) % m->p.window);
}

void kvm_save_host(const kv_memory *m, kvm_host_state *out)
{
    memset(out, 0, sizeof *out);
    out->sink = m->sink;
    memcpy(out->window, m->window, sizeof out->window);
    out->window_head = m->window_head;
    out->window_count = m->window_count;
    memcpy(out->bank, m->bank, sizeof out->bank);
    out->evictions = m->evictions;
}

int kvm_load_host(kv_memory *m, const kvm_host_state *in, char *err, size_t err_size)
{
    if (in->window_head < 0 || in->window_head >= m->p.window || in->window_count < 0 ||
        in->window_count > m->p.window || (in->window_count > 0 && !in->sink.valid)) {
        snprintf(err, err_size, "the snapshot's window does not fit this memory (window %d)", m->p.window);
        return -1;
    }
    for (int j = m->p.slots; j < KVM_MAX_SLOTS; j++)
        if (in->bank[j].valid) {
            snprintf(err, err_size, "the snapshot holds more memory slots than this session has (%d)", m->p.slots);
            return -1;
        }
    m->sink = in->sink;
    memcpy(m->window, in->window, sizeof m->window);
    m->window_head = in->window_head;
    m->window_count = in->window_count;
    memcpy(m->bank, in->bank, sizeof m->bank);
    m->evictions = in->evictions;
    m->retrieved_count = 0;
    return 0;
}

int kvm_tensor_count(const kv_memory *m)
{
    return 2 * m->p.layers + 1 + (quantized(m) ? 4 * m->p.layers + 1 : 0);
}

wk_tensor *kvm_tensor(kv_memory *m, int i)
{
    if (i < 0 || i >= kvm_tensor_count(m))
        return NULL;
    if (i == 2 * m->p.layers)
        return &m->images;
    if (i == kvm_tensor_count(m) - 1 && quantized(m))
        return &m->packed;
    if (i > 2 * m->p.layers) { /* kq, vq, ks, vs of each layer */
        int k = i - 2 * m->p.layers - 1, l = k / 4, part = k % 4;
        return part < 2 ? &m->q[2 * l + part] : &m->scales[2 * l + part - 2];
    }
    return i % 2 ? &m->v[i / 2] : &m->k[i / 2];
}

int kvm_slot_count(const kv_memory *m)
{
    return m->p.slots;
}
