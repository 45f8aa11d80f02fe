/* conditioning: the small host-side vectors the student reads, computed
 * exactly as tools/train/model.py and camera.py compute them (float32):
 * the noise-level embedding, the camera motion since the previous frame and
 * each attention source's relative pose. Poses are {x, y, z, yaw, pitch}. */
#ifndef WORLDKV_CONDITIONING_H
#define WORLDKV_CONDITIONING_H

#define COND_SOURCE_FEATURES 11
#define COND_MOTION_FEATURES 8

typedef enum cond_source { COND_SRC_SELF = 0, COND_SRC_SINK = 1, COND_SRC_WINDOW = 2, COND_SRC_MEMORY = 3 } cond_source;

/* cos(t * 1000 * f_i) then sin(...), f_i = 10000^(-i / (dim / 2)). */
void cond_timestep(float t, int dim, float *out);
void cond_motion(const float prev[5], const float pose[5], float out[COND_MOTION_FEATURES]);
void cond_source_features(const float src[5], const float cur[5], cond_source type,
                          float out[COND_SOURCE_FEATURES]);

#endif
