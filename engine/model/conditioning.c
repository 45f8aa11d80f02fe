#include "conditioning.h"

#include <math.h>

#include "camera.h"

#define DEG2RAD 0.017453292519943295f

void cond_timestep(float t, int dim, float *out)
{
    int half = dim / 2;
    for (int i = 0; i < half; i++) {
        float freq = expf(-logf(10000.0f) * (float)i / (float)half);
        float arg = t * 1000.0f * freq;
        out[i] = cosf(arg);
        out[half + i] = sinf(arg);
    }
}

void cond_motion(const float prev[5], const float pose[5], float out[COND_MOTION_FEATURES])
{
    float r[5];
    cam_relative_f32(prev, pose, r);
    float dyaw = r[3] * DEG2RAD, dpitch = r[4] * DEG2RAD;
    out[0] = r[0] * 10.0f;
    out[1] = r[1] * 10.0f;
    out[2] = r[2] * 10.0f;
    out[3] = sinf(dyaw) * 10.0f;
    out[4] = cosf(dyaw) - 1.0f;
    out[5] = sinf(dpitch) * 10.0f;
    out[6] = cosf(dpitch) - 1.0f;
    out[7] = pose[4] * DEG2RAD;
}

void cond_source_features(const float src[5], const float cur[5], cond_source type, float out[COND_SOURCE_FEATURES])
{
    float r[5];
    cam_relative_f32(cur, src, r);
    for (int i = 0; i < 3; i++) {
        float v = r[i] * 0.5f;
        out[i] = v < -4.0f ? -4.0f : (v > 4.0f ? 4.0f : v);
    }
    float dyaw = r[3] * DEG2RAD, dpitch = r[4] * DEG2RAD;
    out[3] = sinf(dyaw);
    out[4] = cosf(dyaw) - 1.0f;
    out[5] = sinf(dpitch);
    out[6] = cosf(dpitch) - 1.0f;
    for (int i = 0; i < 4; i++)
        out[7 + i] = (int)type == i ? 1.0f : 0.0f;
}
