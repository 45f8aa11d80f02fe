/* kv_retrieval: which memory slots a frame reads, on the host, in
 * microseconds, by the rule the model was trained with
 * (tools/train/retrieval.py): a fixed fan of 20 points in the current view
 * (5 bearings x 4 distances on the eye plane); a slot's overlap is the
 * fraction that lie inside its own view (within 33 degrees of its heading,
 * 10 m). Slots overlapping at least 0.25 are read, best score first, where
 * the score is the overlap plus 0.002 per frame of age up to 100 frames;
 * ties go to the older slot. Older first because every later view of a
 * place was generated from a longer chain of the model's own frames: the
 * first view is the faithful one. Poses are {x, y, z, yaw, pitch}. */
#ifndef WORLDKV_KV_RETRIEVAL_H
#define WORLDKV_KV_RETRIEVAL_H

#include <stdint.h>

#define KVR_POINTS 20
#define KVR_HALF_FOV_DEG 33.0f
#define KVR_MAX_RANGE_M 10.0f
#define KVR_AGE_BONUS_MILLI 2 /* 0.002 a frame */
#define KVR_AGE_CAP 100
#define KVR_MIN_POINTS 5 /* an overlap of 0.25 */

typedef struct kvr_candidate {
    float pose[5];
    int64_t time;
    int id; /* the caller's slot index */
} kvr_candidate;

/* The current view's points on the floor plan, worked out once a frame
 * and shared by every candidate's score (the same arithmetic as scoring
 * each candidate from the pose, so the same bits). */
typedef struct kvr_view {
    float x[KVR_POINTS], z[KVR_POINTS];
    float cx, cz, radius; /* a circle holding every point, to turn away slots that see none of them */
} kvr_view;

void kvr_view_init(kvr_view *v, const float pose[5]);
/* How many of the view's points the slot's camera sees (0..KVR_POINTS). */
int kvr_view_inside(const kvr_view *v, const float slot_pose[5]);
/* kvr_score through a prepared view. */
float kvr_view_score(const kvr_view *v, const float slot_pose[5], int64_t slot_time, int64_t now);

/* The share of the current view's points that the slot's camera sees. */
float kvr_overlap(const float slot_pose[5], const float pose[5]);
/* The ranking score: overlap plus the capped age bonus. */
float kvr_score(const float slot_pose[5], int64_t slot_time, const float pose[5], int64_t now);
/* Writes up to k ids, best first; returns how many. */
int kvr_select(const kvr_candidate *c, int count, const float pose[5], int64_t now, int k, int *ids);
/* kvr_select through a prepared view; with scores (count entries) also
 * writes every candidate's kvr_view_score, read or not, so a caller that
 * needs them (kvm_fetch's eviction targets) does not score twice. */
int kvr_select_view(const kvr_view *view, const kvr_candidate *c, int count, int64_t now, int k, int *ids,
                    float *scores);

#endif
