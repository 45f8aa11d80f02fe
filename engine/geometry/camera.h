/* camera: the pose, action and kinematics that every part of worldkv shares.
 *
 * Conventions (docs/camera.md has the full story):
 *  - World axes are right-handed, in metres: +x east, +y up, +z south.
 *  - yaw is a compass heading in degrees: 0 looks north (-z), 90 looks east
 *    (+x); positive yaw turns right (clockwise seen from above).
 *  - pitch is in degrees, positive looks up, clamped to +-CAM_PITCH_LIMIT.
 *  - One frame is CAM_FRAME_DT = 1/20 s. A unit action held for one frame
 *    walks 7 cm, turns 4.5 degrees, or looks 3 degrees up or down.
 *  - The action for frame t is what moved the camera from pose t-1 to pose t.
 */
#ifndef WORLDKV_CAMERA_H
#define WORLDKV_CAMERA_H

#include <stdint.h>

#define CAM_FRAME_DT (1.0f / 20.0f)
#define CAM_WALK_SPEED 1.4f  /* m/s at forward = 1 */
#define CAM_RUN_FACTOR 2.5f  /* speed multiplier at run = 1 (3.5 m/s) */
#define CAM_TURN_RATE 90.0f  /* deg/s at turn = 1 */
#define CAM_LOOK_RATE 60.0f  /* deg/s at look = 1 */
#define CAM_PITCH_LIMIT 60.0f
#define CAM_HALF_SIZE 0.25f  /* collision footprint: a 0.5 m square */
#define CAM_EYE_HEIGHT 1.6f
#define CAM_HFOV_DEG 66.0f   /* horizontal field of view; pixels are square */

typedef struct cam_pose {
    float x, y, z;  /* metres */
    float yaw;      /* degrees, (-180, 180] */
    float pitch;    /* degrees, [-CAM_PITCH_LIMIT, CAM_PITCH_LIMIT] */
} cam_pose;

/* Components are clamped to [-1, 1] (run to [0, 1]); all zero is the no-op.
 * The order below is the order of the 5-float action vector on disk. */
typedef struct cam_action {
    float forward; /* +1 walks forward, -1 back */
    float strafe;  /* +1 steps right, -1 left */
    float turn;    /* +1 turns right at CAM_TURN_RATE */
    float look;    /* +1 looks up at CAM_LOOK_RATE */
    float run;     /* 0 walks, 1 runs at CAM_RUN_FACTOR times the speed */
} cam_action;
#define CAM_ACTION_DIM 5
#define CAM_POSE_DIM 5

/* Solid cells for collision: cell (cx, cz) covers x in [cx, cx+1) * cell_size
 * and z in [cz, cz+1) * cell_size. Outside the grid counts as solid. */
typedef struct cam_grid {
    int width, depth;
    float cell_size;
    const uint8_t *solid; /* width * depth, row-major by z */
} cam_grid;

/* Pose of `to` seen from `from`: translation in from's heading frame
 * (gravity-aligned, so pitch does not tilt it) and the angle differences. */
typedef struct cam_rel_pose {
    float right, up, forward; /* metres */
    float dyaw;               /* degrees, (-180, 180] */
    float dpitch;             /* degrees */
} cam_rel_pose;

/* Next pose after holding `action` for dt seconds. Turning and looking apply
 * first; the move then follows the new heading. With a grid, the footprint
 * slides along walls and never enters a solid cell; grid may be NULL. */
cam_pose cam_step(cam_pose pose, cam_action action, float dt, const cam_grid *grid);

/* The action that cam_step (with no walls) turns `from` into `to` over dt.
 * Components may exceed the [-1, 1] range when the motion is too fast. */
cam_action cam_action_between(cam_pose from, cam_pose to, float dt);

cam_rel_pose cam_relative(cam_pose from, cam_pose to);

/* Clamps each component into its documented range. */
cam_action cam_action_clamp(cam_action a);

/* Unit basis vectors of the camera: forward, right and up. */
void cam_basis(cam_pose pose, float forward[3], float right[3], float up[3]);

/* Focal length in pixels for an image `width` pixels wide. */
float cam_focal_px(int width);

int cam_grid_solid(const cam_grid *grid, int cx, int cz);

/* float32 forms, as tools/train/camera.py computes them (camera_f32.c):
 * torch.remainder(d + 180, 360) - 180, and the basis of a {x, y, z, yaw,
 * pitch} pose. The network's inputs use these; the world uses the above. */
float cam_wrap_deg_f32(float d);
void cam_basis_f32(const float pose[5], float forward[3], float right[3], float up[3]);
/* camera.relative(from, to): right, up, forward (metres), dyaw, dpitch. */
void cam_relative_f32(const float from[5], const float to[5], float r[5]);

/* Flat float views, in the on-disk order. */
void cam_pose_to_array(cam_pose p, float out[CAM_POSE_DIM]);
void cam_action_to_array(cam_action a, float out[CAM_ACTION_DIM]);

#endif
