/* The KV memory: retrieval picks the right slots for synthetic poses; the
 * sink, window ring and bank hold the right frames as a rollout goes on;
 * a full bank stays at M by the documented eviction rule; the arenas never
 * grow. Runs on the Vulkan device with validation on. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../test_util.h"
#include "backend.h"
#include "kv_memory.h"
#include "kv_retrieval.h"

static void test_retrieval(void)
{
    float here[5] = {5, 1.6f, 5, 90, 0};
    kvr_candidate c[5] = {
        {{5, 1.6f, 5, 90, 0}, 80, 10},      /* same view, 20 frames old */
        {{5, 1.6f, 5, -90, 0}, 95, 11},     /* looking the other way */
        {{30, 1.6f, 30, 90, 0}, 95, 12},    /* far away */
        {{5, 1.6f, 5, 90, 0}, 0, 13},       /* same view, 100 frames old */
        {{4.5f, 1.6f, 5.2f, 100, 0}, 90, 14} /* close and nearly the same view */
    };
    int ids[4];
    int n = kvr_select(c, 5, here, 100, 4, ids);
    CHECK(n == 3); /* the opposite view and the far camera are left out */
    int seen = 0;
    for (int i = 0; i < n; i++)
        seen |= (ids[i] == 10) << 0 | (ids[i] == 13) << 1 | (ids[i] == 14) << 2;
    CHECK(seen == 7);
    for (int i = 1; i < n; i++) /* best first */
        CHECK(kvr_score(c[ids[i - 1] - 10].pose, c[ids[i - 1] - 10].time, here, 100) >=
              kvr_score(c[ids[i] - 10].pose, c[ids[i] - 10].time, here, 100));
    /* the identical views first, the older one best: a later view of a place
     * was generated from a longer chain of the model's own frames */
    CHECK(ids[0] == 13 && ids[1] == 10);
    CHECK(kvr_select(c, 5, here, 100, 1, ids) == 1 && ids[0] == 13);
    CHECK_NEAR(kvr_score(c[3].pose, c[3].time, here, 100), 1.0 + 0.2, 1e-6);
    CHECK_NEAR(kvr_score(c[0].pose, c[0].time, here, 100), 1.0 + 0.04, 1e-6);
    CHECK(kvr_overlap(c[1].pose, here) == 0.0f && kvr_overlap(c[2].pose, here) == 0.0f);
    /* the age bonus stops at 100 frames: overlap decides among old slots,
     * and equal scores go to the older slot */
    kvr_candidate old[3] = {
        {{5, 1.6f, 5, 123, 0}, -2000, 20}, /* half the view, very old */
        {{5, 1.6f, 5, 90, 0}, -150, 21},   /* the whole view, 250 frames old */
        {{5, 1.6f, 5, 90, 0}, -400, 22},   /* the whole view, 500 frames old: the same capped score */
    };
    CHECK(kvr_select(old, 3, here, 100, 3, ids) == 3);
    CHECK(ids[0] == 22 && ids[1] == 21 && ids[2] == 20);
    CHECK(kvr_score(old[1].pose, old[1].time, here, 100) == kvr_score(old[2].pose, old[2].time, here, 100));
    /* half the view shared: a camera turned 33 degrees sees about half */
    float turned[5] = {5, 1.6f, 5, 123, 0};
    float s = kvr_score(turned, 100, here, 100);
    CHECK(s > 0.3f && s < 0.7f);

    /* speed, reported not asserted: a full bank of 256 slots */
    kvr_candidate bank[256];
    for (int i = 0; i < 256; i++)
        bank[i] = (kvr_candidate){{(float)(i % 16), 1.6f, (float)(i / 16), (float)(i * 37 % 360) - 180, 0}, i, i};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int r = 0; r < 200; r++)
        kvr_select(bank, 256, here, 300, 4, ids);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3) / 200;
    printf("retrieval over 256 slots: %.1f us\n", us);
}

/* The overlap rule as tools/train/retrieval.py states it, in double: a
 * point is seen when its bearing atan2(dx, -dz) lies within 33 degrees of
 * the slot's heading and it is within 10 m. *borderline is set when a point
 * lies within 1e-3 degrees or 1e-4 m of either edge, where float rounding
 * may decide either way. */
static int bearing_rule_points(const float slot[5], const float pose[5], int *borderline)
{
    static const double bearings[5] = {-28, -14, 0, 14, 28}, distances[4] = {1, 2.5, 4.5, 7};
    const double pi = 3.14159265358979323846;
    int inside = 0;
    for (int b = 0; b < 5; b++)
        for (int d = 0; d < 4; d++) {
            double yaw = (pose[3] + bearings[b]) * pi / 180;
            double dx = pose[0] + distances[d] * sin(yaw) - slot[0], dz = pose[2] - distances[d] * cos(yaw) - slot[2];
            double dist = sqrt(dx * dx + dz * dz), off = atan2(dx, -dz) * 180 / pi - slot[3];
            off = fmod(fmod(off + 180, 360) + 360, 360) - 180;
            *borderline |= fabs(fabs(off) - KVR_HALF_FOV_DEG) < 1e-3 || fabs(dist - KVR_MAX_RANGE_M) < 1e-4;
            inside += fabs(off) <= KVR_HALF_FOV_DEG && dist <= KVR_MAX_RANGE_M;
        }
    return inside;
}

/* kvr_view_inside tests the field of view by a dot product, not an arc
 * tangent, and turns away far slots from a bounding circle: on random pose
 * pairs it counts the points the bearing rule counts, borderline pairs
 * aside (which must be rare). */
static void test_retrieval_matches_bearing_rule(void)
{
    srand(7);
    int agree = 0, borderline_pairs = 0, pairs = 200000;
    for (int i = 0; i < pairs; i++) {
        float pose[5] = {30.0f * rand() / RAND_MAX, 1.6f, 30.0f * rand() / RAND_MAX, 720.0f * rand() / RAND_MAX - 360, 0};
        float slot[5] = {pose[0] + 24.0f * rand() / RAND_MAX - 12, 1.6f, pose[2] + 24.0f * rand() / RAND_MAX - 12,
                         720.0f * rand() / RAND_MAX - 360, 0};
        int borderline = 0, want = bearing_rule_points(slot, pose, &borderline);
        int got = (int)lroundf(kvr_overlap(slot, pose) * KVR_POINTS);
        borderline_pairs += borderline;
        agree += got == want || borderline;
    }
    printf("retrieval vs the bearing rule: %d of %d pose pairs agree (%d borderline)\n", agree, pairs,
           borderline_pairs);
    CHECK(agree == pairs);
    CHECK(borderline_pairs < pairs / 1000);
}

static float row_value(wk_backend *be, const wk_tensor *arena, int64_t row, int dim)
{
    char err[256];
    float *all = malloc(sizeof(float) * (size_t)wk_nelements(arena));
    CHECK(wk_tensor_get(be, arena, all, err, sizeof err) == 0);
    float v = all[row * dim];
    free(all);
    return v;
}

/* The first n floats of an arena, as a clean pass would write them. */
static int write_front(wk_backend *be, const wk_tensor *arena, const float *data, int64_t n)
{
    char err[256];
    wk_tensor v;
    if (wk_tensor_view(be, arena, 0, n, 1, 1, 1, &v, err, sizeof err) != 0)
        return -1;
    int rc = wk_tensor_set(be, &v, data, err, sizeof err);
    wk_tensor_view_release(be, &v);
    return rc;
}

/* bits 8 or 4: the bank in int8 or int4; the slots a frame reads come
 * back, dequantized, into the staging rows that kvm_sources names (after
 * kvm_stage). */
static void test_rollout(wk_backend *be, int bits, uint64_t *arena_bytes)
{
    char err[512] = "";
    kvm_params p = {2, 16, 16, 4, 2, 3, 2, 4, bits, 0};
    kv_memory *m = NULL;
    CHECK(kvm_create(be, &p, &m, err, sizeof err) == 0);
    if (!m) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    wk_tensor rgb, depth;
    CHECK(wk_tensor_alloc(be, &rgb, 4, 4, 3, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(be, &depth, 4, 4, 1, 1, err, sizeof err) == 0);
    kvm_stats st0;
    kvm_get_stats(m, &st0);
    float cur[16 * 16];
    for (int f = 0; f < 12; f++) {
        /* the "clean pass": frame f's keys are all f, values all -f */
        float pose[5] = {1.0f + 0.5f * (float)(f % 6), 1.6f, 2.0f, (float)(f * 30 % 360) - 180.0f, 0};
        for (int l = 0; l < 2; l++) {
            for (int i = 0; i < 16 * 16; i++)
                cur[i] = (float)f;
            CHECK(write_front(be, kvm_k_arenas(m)[l], cur, 16 * 16) == 0);
            for (int i = 0; i < 16 * 16; i++)
                cur[i] = -(float)f;
            CHECK(write_front(be, kvm_v_arenas(m)[l], cur, 16 * 16) == 0);
        }
        int expected_drop = kvm_eviction_choice(m);
        /* frame f - 2 leaves the window of 2 at this commit */
        int64_t dropped_frame = expected_drop == p.slots ? f - 2
                                : expected_drop >= 0     ? kvm_bank_entry(m, expected_drop)->frame
                                                         : -1;
        int ok = wk_begin(be, err, sizeof err) == 0 &&
                 kvm_commit(m, pose, f, f, &rgb, &depth, kvm_compress_first_rows, be, err, sizeof err) == 0 &&
                 wk_end(be, err, sizeof err) == 0;
        if (!ok)
            fprintf(stderr, "commit %d: %s\n", f, err);
        CHECK(ok);
        kvm_stats st;
        kvm_get_stats(m, &st);
        CHECK(st.arena_bytes == st0.arena_bytes && st.image_bytes == st0.image_bytes); /* nothing grows */
        CHECK(st.slots_used == (f - 3 < 0 ? 0 : (f - 2 < 3 ? f - 2 : 3)));
        CHECK(st.window_used == (f < 2 ? f : 2));
        if (expected_drop >= 0 && f >= 3) {
            /* the frame given up (the newer of the closest pair) is gone; the
             * one leaving the window is in the bank unless it was given up */
            int still = 0, entered = 0;
            for (int j = 0; j < 3; j++) {
                still += kvm_bank_entry(m, j)->frame == dropped_frame;
                entered += kvm_bank_entry(m, j)->frame == f - 2;
            }
            CHECK(still == 0);
            CHECK(entered == (dropped_frame != f - 2));
        }
        kvm_source src[8];
        int n = kvm_sources(m, pose, f + 1, src, 8);
        CHECK(wk_begin(be, err, sizeof err) == 0 && kvm_stage(m, err, sizeof err) == 0 &&
              wk_end(be, err, sizeof err) == 0);
        CHECK(n >= 1 && src[0].kind == 1 && src[0].frame == 0);
        if (f >= 2) {
            CHECK(src[1].kind == 2 && src[1].frame == f && src[2].kind == 2 && src[2].frame == f - 1);
            /* window rows hold their frames' keys; bank rows hold compressed (first-row) keys */
            CHECK(row_value(be, kvm_k_arenas(m)[1], src[1].row, 16) == (float)f);
            CHECK(row_value(be, kvm_v_arenas(m)[0], src[2].row, 16) == -(float)(f - 1));
        }
        for (int i = 3; i < n; i++) {
            CHECK(src[i].kind == 3 && src[i].rows == 4);
            /* int8 (int4): a constant channel is 127 (7) codes of value / 127 (/ 7): back within float
             * rounding */
            CHECK_NEAR(row_value(be, kvm_k_arenas(m)[0], src[i].row, 16), (float)src[i].frame,
                       bits ? 1e-5 * src[i].frame : 0);
            CHECK_NEAR(row_value(be, kvm_v_arenas(m)[1], src[i].row, 16), -(float)src[i].frame,
                       bits ? 1e-5 * src[i].frame : 0);
            if (bits) /* the staging rows, not the bank slot's own */
                CHECK(src[i].row == 16 + 16 + 2 * 16 + (i - 3) * 4);
        }
    }
    CHECK(row_value(be, kvm_k_arenas(m)[0], 16, 16) == 0.0f); /* the sink is still frame 0 */
    kvm_stats st;
    kvm_get_stats(m, &st);
    /* frames 1..11 passed through a window of 2: 9 left it for a bank of 3 */
    CHECK(st.evictions == 9 - 3);
    printf("memory (bits %d) after 12 frames: %d/%d slots, %lld evictions, %llu arena bytes\n", bits, st.slots_used,
           st.slots, (long long)st.evictions, (unsigned long long)st.arena_bytes);
    *arena_bytes = st.arena_bytes;
    wk_tensor_free(be, &depth);
    wk_tensor_free(be, &rgb);
    kvm_destroy(m);

    kvm_params bad = p;
    bad.window = 0;
    CHECK(kvm_create(be, &bad, &m, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "window 1..");
    bad = p;
    bad.bits = 5;
    CHECK(kvm_create(be, &bad, &m, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "bits 32, 8 or 4");
}

/* Commits frames at the given poses into a window of 1 and a bank of 2;
 * returns what the bank holds (frame ids) after the last. */
static void commit_poses(wk_backend *be, const float (*poses)[5], int count, int64_t bank_frames[2])
{
    char err[512] = "";
    kvm_params p = {1, 16, 16, 4, 1, 2, 1, 4, 0, 0};
    kv_memory *m = NULL;
    wk_tensor rgb, depth;
    CHECK(kvm_create(be, &p, &m, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(be, &rgb, 4, 4, 3, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(be, &depth, 4, 4, 1, 1, err, sizeof err) == 0);
    for (int f = 0; m && f < count; f++) {
        int ok = wk_begin(be, err, sizeof err) == 0 &&
                 kvm_commit(m, poses[f], f, f, &rgb, &depth, kvm_compress_first_rows, be, err, sizeof err) == 0 &&
                 wk_end(be, err, sizeof err) == 0;
        CHECK(ok);
    }
    for (int j = 0; m && j < 2; j++)
        bank_frames[j] = kvm_bank_entry(m, j)->valid ? kvm_bank_entry(m, j)->frame : -1;
    wk_tensor_free(be, &depth);
    wk_tensor_free(be, &rgb);
    kvm_destroy(m);
}

static void test_eviction_keeps_first_view(wk_backend *be)
{
    int64_t bank[2];
    /* frame 3 (the last to leave the window) returns to frame 1's pose:
     * the bank keeps frame 1, the first view, and gives up frame 3 */
    const float back[5][5] = {{0, 1.6f, 0, 0, 0}, {0, 1.6f, 0, 0, 0}, {8, 1.6f, 0, 90, 0}, {0, 1.6f, 0, 0, 0},
                              {20, 1.6f, 0, 0, 0}};
    commit_poses(be, back, 5, bank);
    CHECK(bank[0] == 1 && bank[1] == 2);
    /* frames 1 and 2 are close, frame 3 far: the newer of the pair (2) goes */
    const float apart[5][5] = {{0, 1.6f, 0, 0, 0}, {0, 1.6f, 0, 0, 0}, {0.5f, 1.6f, 0, 10, 0},
                               {9, 1.6f, 9, 180, 0}, {20, 1.6f, 0, 0, 0}};
    commit_poses(be, apart, 5, bank);
    CHECK(bank[0] == 1 && bank[1] == 3);
}

/* A bank of 2 along a straight walk of 12 m steps (every view a new
 * place): the slots the bank gives up go to the host tier (or are lost
 * without one); standing again where frame 2 was, kvm_fetch brings frame
 * 2's slot back into the bank and kvm_sources reads it, with its keys. */
static int64_t walk_and_return(wk_backend *be, int bits, uint64_t host_bytes, kvm_stats *after)
{
    char err[512] = "";
    kvm_params p = {1, 16, 16, 4, 1, 2, 1, 4, bits, host_bytes};
    kv_memory *m = NULL;
    CHECK(kvm_create(be, &p, &m, err, sizeof err) == 0);
    if (!m) {
        fprintf(stderr, "%s\n", err);
        return -2;
    }
    wk_tensor rgb, depth;
    CHECK(wk_tensor_alloc(be, &rgb, 4, 4, 3, 1, err, sizeof err) == 0);
    CHECK(wk_tensor_alloc(be, &depth, 4, 4, 1, 1, err, sizeof err) == 0);
    float cur[16 * 16];
    int64_t read = -1;
    for (int f = 0; f < 12; f++) {
        int back = f == 11; /* the last frame stands where frame 2 stood */
        float pose[5] = {back ? 24.0f : 12.0f * (float)f, 1.6f, 0, 90, 0};
        for (int i = 0; i < 16 * 16; i++)
            cur[i] = (float)f;
        CHECK(write_front(be, kvm_k_arenas(m)[0], cur, 16 * 16) == 0);
        CHECK(write_front(be, kvm_v_arenas(m)[0], cur, 16 * 16) == 0);
        kvm_source src[8];
        CHECK(kvm_fetch(m, pose, f, err, sizeof err) == 0);
        int n = kvm_sources(m, pose, f, src, 8);
        /* the rows a frame's passes read, staged in a batch of their own so that they can be
         * checked before the commit reuses them */
        CHECK(wk_begin(be, err, sizeof err) == 0 && kvm_stage(m, err, sizeof err) == 0 &&
              wk_end(be, err, sizeof err) == 0);
        if (back)
            for (int i = 0; i < n; i++)
                if (src[i].kind == 3) {
                    read = src[i].frame;
                    CHECK_NEAR(row_value(be, kvm_k_arenas(m)[0], src[i].row, 16), (float)src[i].frame,
                               1e-5 * src[i].frame);
                }
        int ok = wk_begin(be, err, sizeof err) == 0 &&
                 kvm_commit(m, pose, f, f, &rgb, &depth, kvm_compress_first_rows, be, err, sizeof err) == 0 &&
                 wk_end(be, err, sizeof err) == 0;
        CHECK(ok);
        if (back)
            kvm_get_stats(m, after);
    }
    wk_tensor_free(be, &depth);
    wk_tensor_free(be, &rgb);
    kvm_destroy(m);
    return read;
}

static void test_host_tier_returns(wk_backend *be)
{
    static const int bit_widths[3] = {0, 8, 4};
    for (int b = 0; b < 3; b++) {
        int bits = bit_widths[b];
        kvm_stats with, without;
        int64_t got = walk_and_return(be, bits, 1 << 20, &with);
        int64_t lost = walk_and_return(be, bits, 0, &without);
        printf("bits %d: standing where frame 2 was, the memory reads frame %lld with a host tier "
               "(%d host slots, %llu bytes, %d fetched), frame %lld without\n", bits, (long long)got,
               with.host_slots, (unsigned long long)with.host_bytes, with.fetched, (long long)lost);
        CHECK(got == 2 && with.fetched == 1 && with.host_slots >= 1 && with.host_bytes <= (1 << 20));
        CHECK(lost != 2 && without.host_slots == 0 && without.fetched == 0);
    }
}

/* At the student's sizes (4 layers, 256 channels, 16 compressed tokens a
 * slot, a bank of 32 read 4 at a time) an int8 slot's K and V take a
 * quarter of the bytes and int4's an eighth, plus their scales, and no
 * padding; the frame packed takes 24 KiB instead of 64. A whole slot as
 * the host tier keeps it: 192 KiB float, 64 int8, 48 int4 (a quarter). */
static void test_student_sized_bank(wk_backend *be)
{
    char err[512];
    static const int bit_widths[3] = {0, 8, 4};
    uint64_t bytes[3] = {0}, images[3] = {0}, slot[3] = {0};
    for (int i = 0; i < 3; i++) {
        kvm_params p = {4, 256, 64, 16, 4, 32, 4, 64, bit_widths[i], 1 << 20};
        kv_memory *m = NULL;
        CHECK(kvm_create(be, &p, &m, err, sizeof err) == 0);
        kvm_stats st;
        if (m) {
            kvm_get_stats(m, &st), bytes[i] = st.arena_bytes, images[i] = st.image_bytes;
            slot[i] = (uint64_t)(1 << 20) / (uint64_t)st.host_capacity;
        }
        kvm_destroy(m);
    }
    uint64_t fixed = 4ull * 2 * 256 * (64 + 64 + 4 * 64) * 4, slot_f32 = 4ull * 2 * 256 * 16 * 4;
    uint64_t scales = 4ull * 2 * 256 * 4;
    CHECK(bytes[0] == fixed + 32 * slot_f32);
    CHECK(bytes[1] == fixed + 4 * slot_f32 + 32 * (slot_f32 / 4 + scales));
    CHECK(bytes[2] == fixed + 4 * slot_f32 + 32 * (slot_f32 / 8 + scales));
    /* frames: float [64 x 64 x 4] each for sink, window and bank; quantized: float for sink, window and
     * 4 staging frames, the bank's packed (RGB8 and f16 depth: 6144 words) */
    uint64_t frame = 64ull * 64 * 4 * 4;
    CHECK(images[0] == (1 + 4 + 32) * frame && images[1] == (1 + 4 + 4) * frame + 32ull * 6144 * 4);
    CHECK(images[2] == images[1]);
    /* the host tier's capacity in a 1 MiB budget gives the slot size (rounded down, so within one slot) */
    CHECK(slot[0] >= 192 * 1024 && slot[0] < 192 * 1024 * 6 / 5 && slot[1] >= 64 * 1024 &&
          slot[1] < 64 * 1024 * 17 / 16 && slot[2] >= 48 * 1024 && slot[2] < 48 * 1024 * 22 / 21);
    printf("student-sized bank of 32: %.2f MiB float, %.2f MiB int8, %.2f MiB int4 (KV arenas); frames %.2f and "
           "%.2f MiB\n", (double)bytes[0] / 1048576.0, (double)bytes[1] / 1048576.0, (double)bytes[2] / 1048576.0,
           (double)images[0] / 1048576.0, (double)images[1] / 1048576.0);
}

int main(void)
{
    char err[512];
    test_retrieval();
    test_retrieval_matches_bearing_rule();
    wk_backend *be = NULL;
    wk_backend_options opt = {1, 0, NULL, WK_BACKEND_AUTO, 0};
    if (wk_backend_create(&opt, &be, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("backend: %s (%s)\n", wk_backend_name(be), wk_backend_reason(be));
    uint64_t float_bytes = 0, int8_bytes = 0, int4_bytes = 0;
    test_rollout(be, 0, &float_bytes);
    test_rollout(be, 8, &int8_bytes);
    test_rollout(be, 4, &int4_bytes);
    CHECK(int4_bytes == int8_bytes); /* at this tiny size both pad their codes to 64 words */
    /* int8: 2 staging slots for the 3-slot bank, and per slot and arena 64
     * words of codes and 64 scales (views pad to 64 elements at this tiny
     * size: 16 words of codes and 16 scales are used) */
    CHECK(int8_bytes == float_bytes - 2 * 2 * 16 * 4 * 4 + 2 * 2 * 3 * (64 + 64) * 4);
    test_student_sized_bank(be);
    test_host_tier_returns(be);
    test_eviction_keeps_first_view(be);
    uint32_t messages = wk_backend_validation_messages(be);
    wk_backend_destroy(be);
    printf("validation messages: %u\n", messages);
    CHECK(messages == 0);
    return test_finish("test_memory");
}
