/* revisit: when does a camera path come back to a view it had before?
 *
 * Two poses show the same view when they stand within REVISIT_MAX_DIST
 * metres and look within REVISIT_MAX_ANGLE degrees in yaw and in pitch.
 * Frame j revisits frame i < j when the two show the same view and some
 * frame between them does not (the camera left and came back). */
#ifndef WORLDKV_REVISIT_H
#define WORLDKV_REVISIT_H

#include <stdint.h>

#include "camera.h"

#define REVISIT_MAX_DIST 0.35f
#define REVISIT_MAX_ANGLE 10.0f
#define REVISIT_LONG_GAP 16 /* frames: beyond a short attention window */

int revisit_same_view(cam_pose a, cam_pose b);

/* For each frame j, earlier[j] is the latest frame i that j revisits, or
 * -1. The gap j - earlier[j] is the number of frames between the visits. */
void revisit_scan(const cam_pose *poses, int frames, int32_t *earlier);

/* The largest gap in an episode (0 when it never revisits). */
int revisit_max_gap(const int32_t *earlier, int frames);

#endif
