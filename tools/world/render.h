/* render: the ground-truth image of a world from a camera pose.
 *
 * A pinhole camera (CAM_HFOV_DEG across the width, square pixels, pixel
 * centres at +0.5) casts one ray per pixel through the cell grid. The
 * image is exact for the pose: a pure rotation of the camera is an exact
 * homography of the image, whatever the depth. */
#ifndef WORLDKV_RENDER_H
#define WORLDKV_RENDER_H

#include <stdint.h>

#include "camera.h"
#include "world.h"

#define RENDER_MIN_SIZE 32
#define RENDER_MAX_SIZE 512
#define RENDER_SKY_DEPTH 1000.0f /* depth written where the sky shows */

/* Renders width x height RGB8 (row-major, top row first) into rgb. If depth
 * is not NULL it receives each pixel's z-depth in metres: the distance along
 * the camera's forward axis. Sizes outside [RENDER_MIN_SIZE, RENDER_MAX_SIZE]
 * return -1 and draw nothing. */
int world_render(const world *w, cam_pose pose, int width, int height, uint8_t *rgb, float *depth);

#endif
