/* kv_retrieval: which memory slots a frame reads, on the host, in
 * microseconds, by the rule the model was trained with
 * (tools/train/retrieval.py): a fixed fan of 20 points in the current view
 * (5 bearings x 4 distances on the eye plane); a slot scores the fraction
 * that lie inside its own view (within 33 degrees of its heading, 10 m),
 * minus 0.002 per frame of age. Slots scoring at least 0.25 are read, best
 * first; ties go to the newer slot. Poses are {x, y, z, yaw, pitch}. */
#ifndef WORLDKV_KV_RETRIEVAL_H
#define WORLDKV_KV_RETRIEVAL_H

#include <stdint.h>

#define KVR_POINTS 20
#define KVR_HALF_FOV_DEG 33.0f
#define KVR_MAX_RANGE_M 10.0f
#define KVR_AGE_PENALTY 0.002f
#define KVR_MIN_SCORE 0.25f

typedef struct kvr_candidate {
    float pose[5];
    int64_t time;
    int id; /* the caller's slot index */
} kvr_candidate;

float kvr_score(const float slot_pose[5], int64_t slot_time, const float pose[5], int64_t now);
/* Writes up to k ids, best first; returns how many. */
int kvr_select(const kvr_candidate *c, int count, const float pose[5], int64_t now, int k, int *ids);

#endif
