#include "kv_retrieval.h"

#include <math.h>

#include "camera.h"

static const float k_bearings[5] = {-28.0f, -14.0f, 0.0f, 14.0f, 28.0f};
static const float k_distances[4] = {1.0f, 2.5f, 4.5f, 7.0f};

#define DEG2RAD 0.017453292519943295f
#define RAD2DEG 57.29577951308232f

static int points_inside(const float slot_pose[5], const float pose[5])
{
    int inside = 0;
    for (int b = 0; b < 5; b++) {
        float yaw = (pose[3] + k_bearings[b]) * DEG2RAD, sy = sinf(yaw), cy = cosf(yaw);
        for (int d = 0; d < 4; d++) {
            float px = pose[0] + k_distances[d] * sy, pz = pose[2] - k_distances[d] * cy;
            float dx = px - slot_pose[0], dz = pz - slot_pose[2];
            float dist = sqrtf(dx * dx + dz * dz);
            float bearing = atan2f(dx, -dz) * RAD2DEG;
            float off = cam_wrap_deg_f32(bearing - slot_pose[3]);
            inside += fabsf(off) <= KVR_HALF_FOV_DEG && dist <= KVR_MAX_RANGE_M;
        }
    }
    return inside;
}

float kvr_overlap(const float slot_pose[5], const float pose[5])
{
    return (float)points_inside(slot_pose, pose) / (float)KVR_POINTS;
}

/* The score in exact thousandths (50 a point, 2 a frame of age), so that
 * ranking and ties agree with the float64 reference bit for bit. */
static int score_milli(int inside, int64_t age)
{
    return inside * (1000 / KVR_POINTS) + KVR_AGE_BONUS_MILLI * (int)(age < KVR_AGE_CAP ? age : KVR_AGE_CAP);
}

float kvr_score(const float slot_pose[5], int64_t slot_time, const float pose[5], int64_t now)
{
    return (float)score_milli(points_inside(slot_pose, pose), now - slot_time) / 1000.0f;
}

int kvr_select(const kvr_candidate *c, int count, const float pose[5], int64_t now, int k, int *ids)
{
    /* k is small (4): keep the best k by insertion */
    int best_score[32];
    int64_t best_time[32];
    int n = 0;
    if (k > 32)
        k = 32;
    for (int i = 0; i < count; i++) {
        int inside = points_inside(c[i].pose, pose);
        if (inside < KVR_MIN_POINTS)
            continue;
        int s = score_milli(inside, now - c[i].time);
        int at = n;
        while (at > 0 && (s > best_score[at - 1] || (s == best_score[at - 1] && c[i].time < best_time[at - 1])))
            at--;
        if (at >= k)
            continue;
        int last = n < k ? n : k - 1;
        for (int j = last; j > at; j--) {
            best_score[j] = best_score[j - 1];
            best_time[j] = best_time[j - 1];
            ids[j] = ids[j - 1];
        }
        best_score[at] = s;
        best_time[at] = c[i].time;
        ids[at] = c[i].id;
        if (n < k)
            n++;
    }
    return n;
}
