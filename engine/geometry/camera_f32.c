/* The float32 forms of the camera model, computed as tools/train/camera.py
 * computes them in torch's float32: what the network reads (conditioning,
 * the warp's cameras, retrieval) must match the reference to the last bit
 * that float arithmetic allows. camera.c's double forms (detmath) drive the
 * world, whose bytes must not depend on the platform's libm. */
#include <math.h>

#include "camera.h"

float cam_wrap_deg_f32(float d)
{
    /* torch.remainder(d + 180, 360) - 180: the remainder takes the divisor's sign */
    float r = fmodf(d + 180.0f, 360.0f);
    if (r < 0.0f)
        r += 360.0f;
    return r - 180.0f;
}

void cam_basis_f32(const float pose[5], float forward[3], float right[3], float up[3])
{
    float y = pose[3] * 0.017453292519943295f, t = pose[4] * 0.017453292519943295f;
    forward[0] = sinf(y) * cosf(t), forward[1] = sinf(t), forward[2] = -cosf(y) * cosf(t);
    right[0] = cosf(y), right[1] = 0.0f, right[2] = sinf(y);
    up[0] = -sinf(y) * sinf(t), up[1] = cosf(t), up[2] = cosf(y) * sinf(t);
}

void cam_relative_f32(const float from[5], const float to[5], float r[5])
{
    float yaw = from[3] * 0.017453292519943295f, sy = sinf(yaw), cy = cosf(yaw);
    float dx = to[0] - from[0], dz = to[2] - from[2];
    r[0] = dx * cy + dz * sy;
    r[1] = to[1] - from[1];
    r[2] = dx * sy - dz * cy;
    r[3] = cam_wrap_deg_f32(to[3] - from[3]);
    r[4] = to[4] - from[4];
}
