/* kv_memory: the engine's constant-size, camera-pose-tagged KV memory.
 *
 *   sink    the start frame's keys and values, always read
 *   window  the last W frames, whole (a ring)
 *   bank    M slots of older frames, compressed by the model's ConvKV conv
 *           and tagged with camera pose, time and source frame id
 *
 * Everything lives in per-layer KV arenas allocated once, with rows laid out
 * [current frame | sink | window 0..W-1 | bank 0..M-1]: nothing grows with
 * the rollout. Each entry also keeps its frame's RGB and depth (the warps
 * read them). Retrieval (kv_retrieval.h) runs on the host; when the bank
 * is full, of the two closest poses (position plus yaw / 45 degrees) among
 * the slots and the frame coming in, the newer is given up, which keeps
 * the bank spread over space and keeps each place's first view.
 *
 * int8 slots (bits 8): the bank's keys and values are kept as signed bytes
 * with one scale per channel (wk_quantize_i8), a quarter of the bytes, and
 * the arenas hold only `retrieve` float staging slots in the bank's place:
 * kvm_stage dequantizes the slots a frame reads into them at the start of
 * its batch. The bank's frames are packed the same way (RGB8 and binary16
 * depth, wk_pack_frame) and unpacked into `retrieve` float staging frames. */
#ifndef WORLDKV_KV_MEMORY_H
#define WORLDKV_KV_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "backend.h"

#define KVM_MAX_WINDOW 16
#define KVM_MAX_SLOTS 256
#define KVM_MAX_RETRIEVE 8
#define KVM_HOST_CANDIDATES 4096 /* host slots ranked a frame, at most (those within 10 m) */

typedef struct kvm_params {
    int layers, dim, tokens, compressed_tokens;
    int window, slots, retrieve;
    int image; /* frames are image x image */
    int bits;  /* the bank's K and V: 0 (or 32) float, 8 int8 (dim a multiple of 4) */
    uint64_t host_bytes; /* 0: no host tier; else its byte budget (kv_host_tier.h) */
} kvm_params;

typedef struct kvm_entry {
    float pose[5];
    int64_t time, frame;
    int valid;
} kvm_entry;

/* What a pass reads: an entry's rows in the arenas, and its kind. */
typedef struct kvm_source {
    float pose[5];
    int kind; /* 1 sink, 2 window, 3 memory (the model's source types) */
    int64_t row, rows;
    int image; /* index into the image store */
    int64_t frame;
} kvm_source;

/* ConvKV: compress one frame's keys and values of one layer. */
typedef int (*kvm_compress_fn)(void *ctx, int layer, const wk_tensor *k, const wk_tensor *v, wk_tensor *k_out,
                               wk_tensor *v_out, char *err, size_t err_size);
/* A stand-in for ConvKV where the model is left out (tests, the tiers
 * soak): keeps the frame's first compressed rows. ctx is the wk_backend. */
int kvm_compress_first_rows(void *ctx, int layer, const wk_tensor *k, const wk_tensor *v, wk_tensor *k_out,
                            wk_tensor *v_out, char *err, size_t err_size);

typedef struct kvm_stats {
    int slots_used, slots, window_used;
    uint64_t arena_bytes, image_bytes; /* arena_bytes includes the int8 bank */
    int retrieved[KVM_MAX_RETRIEVE];
    int64_t retrieved_frames[KVM_MAX_RETRIEVE];
    int retrieved_count;
    int64_t evictions;
    int host_slots, host_capacity; /* the host tier (0 and 0 without one) */
    uint64_t host_bytes;
    int fetched, spilled;          /* slots the last kvm_fetch brought in from the host, and sent there */
} kvm_stats;

typedef struct kv_memory kv_memory;

/* How far apart two camera poses are for eviction and retention: metres on
 * the floor plan plus yaw difference / 45 degrees. */
float kvm_pose_distance(const float *a, const float *b);

int kvm_create(wk_backend *be, const kvm_params *p, kv_memory **out, char *err, size_t err_size);
void kvm_destroy(kv_memory *m);

/* Per-layer arenas for student_pass. */
wk_tensor *const *kvm_k_arenas(kv_memory *m);
wk_tensor *const *kvm_v_arenas(kv_memory *m);
/* Image store entry i: [image, image, 4] = RGB then depth. */
int kvm_image(kv_memory *m, int i, wk_tensor *view, char *err, size_t err_size);

/* The sources a frame at pose reads at time now: the sink, the window
 * (newest first), then up to `retrieve` bank slots, best first. Returns
 * the count. The newest frame (for the warp) is sources[1] when the window
 * is not empty, else the sink. */
int kvm_sources(kv_memory *m, const float pose[5], int64_t now, kvm_source *out, int max);

/* With a host tier, before a frame's batch (outside any batch: it copies
 * between host and device): ranks the bank and the host slots near pose by
 * the retrieval rule, brings the chosen host slots into the bank in place
 * of the bank's least relevant unchosen slots (which go to the host), and
 * sends to the host the slot this frame's commit will give up. Then
 * kvm_sources picks the same slots from the bank. Without a tier: nothing. */
int kvm_fetch(kv_memory *m, const float pose[5], int64_t now, char *err, size_t err_size);

/* Records, into the open batch, what the last kvm_sources chose to read:
 * with int8 slots, their dequantization into the staging rows (nothing to
 * do for float slots). Call it after wk_begin, before the passes. */
int kvm_stage(kv_memory *m, char *err, size_t err_size);

/* Records, into the open batch, the commit of the frame whose keys and
 * values a clean pass just wrote to rows [0, tokens): the first becomes the
 * sink; later ones enter the window, and the frame leaving the window is
 * compressed into the bank. rgb [image, image, 3] and depth [image, image, 1]
 * go to the image store. */
int kvm_commit(kv_memory *m, const float pose[5], int64_t time, int64_t frame, const wk_tensor *rgb,
               const wk_tensor *depth, kvm_compress_fn compress, void *ctx, char *err, size_t err_size);

void kvm_get_stats(const kv_memory *m, kvm_stats *out);

typedef struct kvh_tier kvh_tier;
/* The host tier (kv_host_tier.h), or NULL without one: for maps and
 * snapshots. Its slots' data is what slot_bytes of a bank slot hold. */
kvh_tier *kvm_host_tier(const kv_memory *m);
/* 1 if the float parts of a slot's data (kv_host_tier's layout) are finite. */
int kvm_slot_data_finite(const kv_memory *m, const void *data);

/* Snapshots: the host-side bookkeeping as plain bytes, and the device
 * tensors (per-layer arenas, then the image store) to copy. */
typedef struct kvm_host_state {
    kvm_entry sink;
    kvm_entry window[KVM_MAX_WINDOW];
    int32_t window_head, window_count;
    kvm_entry bank[KVM_MAX_SLOTS];
    int64_t evictions;
} kvm_host_state;
void kvm_save_host(const kv_memory *m, kvm_host_state *out);
/* The image-store entry of the newest frame committed (the sink's before any other). */
int kvm_newest_image(const kv_memory *m);
/* Restores bookkeeping; fails if it cannot belong to this memory. */
int kvm_load_host(kv_memory *m, const kvm_host_state *in, char *err, size_t err_size);
/* The device tensors in a fixed order: k0, v0, k1, v1, ..., images, then
 * with int8 slots the bank's codes and scales: kq0, vq0, ks0, vs0, kq1, ...,
 * and the bank's packed frames last. */
int kvm_tensor_count(const kv_memory *m);
int kvm_slot_count(const kv_memory *m);
wk_tensor *kvm_tensor(kv_memory *m, int i);
/* What the next commit's full bank gives up (for tests): a slot index, or
 * the slot count when the frame leaving the window is the one given up;
 * -1 if the bank is not full or no frame leaves the window. */
int kvm_eviction_choice(const kv_memory *m);
const kvm_entry *kvm_bank_entry(const kv_memory *m, int i);

#endif
