#include "revisit.h"

#include <math.h>

#include "detmath.h"

int revisit_same_view(cam_pose a, cam_pose b)
{
    float dx = a.x - b.x, dy = a.y - b.y, dz = a.z - b.z;
    if (dx * dx + dy * dy + dz * dz > REVISIT_MAX_DIST * REVISIT_MAX_DIST)
        return 0;
    if (fabs(dm_wrap_deg((double)a.yaw - (double)b.yaw)) > REVISIT_MAX_ANGLE)
        return 0;
    return fabsf(a.pitch - b.pitch) <= REVISIT_MAX_ANGLE;
}

void revisit_scan(const cam_pose *poses, int frames, int32_t *earlier)
{
    for (int j = 0; j < frames; j++) {
        earlier[j] = -1;
        int left = 0; /* seen a frame with another view, walking back from j */
        for (int i = j - 1; i >= 0; i--) {
            int same = revisit_same_view(poses[i], poses[j]);
            if (!same) {
                left = 1;
            } else if (left) {
                earlier[j] = i;
                break;
            }
        }
    }
}

int revisit_max_gap(const int32_t *earlier, int frames)
{
    int best = 0;
    for (int j = 0; j < frames; j++)
        if (earlier[j] >= 0 && j - earlier[j] > best)
            best = j - earlier[j];
    return best;
}
