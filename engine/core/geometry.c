/* Camera geometry shared by the engine (the warp's cameras). Axes and
 * angles as docs/camera.md; tools/train/camera.py computes the same. */
#include <math.h>

#include "backend.h"

wk_camera wk_camera_from_pose(const float pose[5])
{
    float y = pose[3] * 0.017453292519943295f, t = pose[4] * 0.017453292519943295f;
    wk_camera c = {{pose[0], pose[1], pose[2]},
                   {sinf(y) * cosf(t), sinf(t), -cosf(y) * cosf(t)},
                   {cosf(y), 0.0f, sinf(y)},
                   {-sinf(y) * sinf(t), cosf(t), cosf(y) * sinf(t)}};
    return c;
}
