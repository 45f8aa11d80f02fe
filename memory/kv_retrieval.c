#include "kv_retrieval.h"

#include <math.h>
#include <stddef.h>

#include "camera.h"

static const float k_bearings[5] = {-28.0f, -14.0f, 0.0f, 14.0f, 28.0f};
static const float k_distances[4] = {1.0f, 2.5f, 4.5f, 7.0f};
static const float k_cos_half_fov = 0.838670568f; /* cos(KVR_HALF_FOV_DEG), 33 degrees */

#define DEG2RAD 0.017453292519943295f
#define RAD2DEG 57.29577951308232f

void kvr_view_init(kvr_view *v, const float pose[5])
{
    for (int b = 0; b < 5; b++) {
        float yaw = (pose[3] + k_bearings[b]) * DEG2RAD, sy = sinf(yaw), cy = cosf(yaw);
        for (int d = 0; d < 4; d++) {
            v->x[4 * b + d] = pose[0] + k_distances[d] * sy;
            v->z[4 * b + d] = pose[2] - k_distances[d] * cy;
        }
    }
    float sx = 0.0f, sz = 0.0f, r = 0.0f;
    for (int i = 0; i < KVR_POINTS; i++)
        sx += v->x[i], sz += v->z[i];
    v->cx = sx / KVR_POINTS, v->cz = sz / KVR_POINTS;
    for (int i = 0; i < KVR_POINTS; i++)
        r = fmaxf(r, hypotf(v->x[i] - v->cx, v->z[i] - v->cz));
    v->radius = r + 1e-3f;
}

int kvr_view_inside(const kvr_view *v, const float slot_pose[5])
{
    /* the circle alone turns away a slot out of range of every point */
    float cx = v->cx - slot_pose[0], cz = v->cz - slot_pose[2];
    if (sqrtf(cx * cx + cz * cz) - v->radius > KVR_MAX_RANGE_M + 1e-3f)
        return 0;
    /* within the half field of view of the heading h = (sin yaw, -cos yaw), the direction
     * a bearing of atan2(dx, -dz) has: cos(off) = (d . h) / |d|, no arc tangent needed */
    float yaw = slot_pose[3] * DEG2RAD, hx = sinf(yaw), hz = -cosf(yaw);
    int inside = 0;
    for (int i = 0; i < KVR_POINTS; i++) {
        float dx = v->x[i] - slot_pose[0], dz = v->z[i] - slot_pose[2];
        float dist = sqrtf(dx * dx + dz * dz);
        inside += dist <= KVR_MAX_RANGE_M && dx * hx + dz * hz >= k_cos_half_fov * dist;
    }
    return inside;
}

static int points_inside(const float slot_pose[5], const float pose[5])
{
    kvr_view v;
    kvr_view_init(&v, pose);
    return kvr_view_inside(&v, slot_pose);
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

float kvr_view_score(const kvr_view *v, const float slot_pose[5], int64_t slot_time, int64_t now)
{
    return (float)score_milli(kvr_view_inside(v, slot_pose), now - slot_time) / 1000.0f;
}

int kvr_select(const kvr_candidate *c, int count, const float pose[5], int64_t now, int k, int *ids)
{
    kvr_view view;
    kvr_view_init(&view, pose);
    return kvr_select_view(&view, c, count, now, k, ids, NULL);
}

int kvr_select_view(const kvr_view *view, const kvr_candidate *c, int count, int64_t now, int k, int *ids,
                    float *scores)
{
    /* k is small (4): keep the best k by insertion */
    int best_score[32];
    int64_t best_time[32];
    int n = 0;
    if (k > 32)
        k = 32;
    for (int i = 0; i < count; i++) {
        int inside = kvr_view_inside(view, c[i].pose);
        int s = score_milli(inside, now - c[i].time);
        if (scores)
            scores[i] = (float)s / 1000.0f;
        if (inside < KVR_MIN_POINTS)
            continue;
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
