#include "camera.h"

#include <math.h>
#include <stddef.h>

#include "detmath.h"

static float clampf(float v, float lo, float hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

cam_action cam_action_clamp(cam_action a)
{
    a.forward = clampf(a.forward, -1.0f, 1.0f);
    a.strafe = clampf(a.strafe, -1.0f, 1.0f);
    a.turn = clampf(a.turn, -1.0f, 1.0f);
    a.look = clampf(a.look, -1.0f, 1.0f);
    a.run = clampf(a.run, 0.0f, 1.0f);
    return a;
}

int cam_grid_solid(const cam_grid *grid, int cx, int cz)
{
    if (cx < 0 || cz < 0 || cx >= grid->width || cz >= grid->depth)
        return 1;
    return grid->solid[(size_t)cz * (size_t)grid->width + (size_t)cx] != 0;
}

/* Whether the footprint centred at (x, z) overlaps a solid cell. */
static int footprint_blocked(const cam_grid *grid, float x, float z)
{
    float cs = grid->cell_size, h = CAM_HALF_SIZE;
    int x0 = (int)floorf((x - h) / cs), x1 = (int)floorf((x + h) / cs);
    int z0 = (int)floorf((z - h) / cs), z1 = (int)floorf((z + h) / cs);
    for (int cz = z0; cz <= z1; cz++)
        for (int cx = x0; cx <= x1; cx++)
            if (cam_grid_solid(grid, cx, cz))
                return 1;
    return 0;
}

/* Moves one axis by d, stopping flush against the first solid cell. The
 * footprint stays a hair (1 mm) off the wall so that it never touches it. */
static float slide_axis(const cam_grid *grid, float pos, float other, float d, int axis_is_x)
{
    const float gap = 1e-3f, h = CAM_HALF_SIZE, cs = grid->cell_size;
    float next = pos + d;
    int blocked = axis_is_x ? footprint_blocked(grid, next, other) : footprint_blocked(grid, other, next);
    if (!blocked)
        return next;
    if (d > 0.0f) {
        float edge = floorf((next + h) / cs) * cs; /* west/north face of the blocking cell */
        next = edge - h - gap;
        return next > pos ? next : pos;
    }
    float edge = (floorf((next - h) / cs) + 1.0f) * cs;
    next = edge + h + gap;
    return next < pos ? next : pos;
}

cam_pose cam_step(cam_pose pose, cam_action action, float dt, const cam_grid *grid)
{
    cam_action a = cam_action_clamp(action);
    cam_pose p = pose;
    p.yaw = (float)dm_wrap_deg((double)p.yaw + (double)(a.turn * CAM_TURN_RATE * dt));
    p.pitch = clampf(p.pitch + a.look * CAM_LOOK_RATE * dt, -CAM_PITCH_LIMIT, CAM_PITCH_LIMIT);

    float norm = sqrtf(a.forward * a.forward + a.strafe * a.strafe);
    float scale = norm > 1.0f ? 1.0f / norm : 1.0f;
    float speed = CAM_WALK_SPEED * (1.0f + (CAM_RUN_FACTOR - 1.0f) * a.run) * dt * scale;
    float f = a.forward * speed, s = a.strafe * speed;
    if (f == 0.0f && s == 0.0f)
        return p;
    float sy = (float)dm_sin_deg(p.yaw), cy = (float)dm_cos_deg(p.yaw);
    /* forward = (sin yaw, 0, -cos yaw), right = (cos yaw, 0, sin yaw) */
    float dx = f * sy + s * cy, dz = -f * cy + s * sy;
    if (!grid) {
        p.x += dx;
        p.z += dz;
        return p;
    }
    /* Sub-steps shorter than the half-size keep thin corners from being skipped. */
    float longest = fmaxf(fabsf(dx), fabsf(dz));
    int n = (int)ceilf(longest / (0.5f * CAM_HALF_SIZE));
    if (n < 1)
        n = 1;
    for (int i = 0; i < n; i++) {
        p.x = slide_axis(grid, p.x, p.z, dx / (float)n, 1);
        p.z = slide_axis(grid, p.z, p.x, dz / (float)n, 0);
    }
    return p;
}

cam_action cam_action_between(cam_pose from, cam_pose to, float dt)
{
    cam_action a = {0};
    float dyaw = (float)dm_wrap_deg((double)to.yaw - (double)from.yaw);
    a.turn = dyaw / (CAM_TURN_RATE * dt);
    a.look = (to.pitch - from.pitch) / (CAM_LOOK_RATE * dt);
    /* cam_step moves along the heading it has after turning. */
    float sy = (float)dm_sin_deg(to.yaw), cy = (float)dm_cos_deg(to.yaw);
    float dx = to.x - from.x, dz = to.z - from.z;
    float step = CAM_WALK_SPEED * dt;
    a.forward = (dx * sy - dz * cy) / step;
    a.strafe = (dx * cy + dz * sy) / step;
    float norm = sqrtf(a.forward * a.forward + a.strafe * a.strafe);
    if (norm > 1.0f) {
        /* Faster than walking: express the extra speed as running. */
        float run = (norm - 1.0f) / (CAM_RUN_FACTOR - 1.0f);
        a.run = run > 1.0f ? 1.0f : run;
        float speedup = 1.0f + (CAM_RUN_FACTOR - 1.0f) * a.run;
        a.forward /= speedup;
        a.strafe /= speedup;
    }
    return a;
}

cam_rel_pose cam_relative(cam_pose from, cam_pose to)
{
    cam_rel_pose r;
    float sy = (float)dm_sin_deg(from.yaw), cy = (float)dm_cos_deg(from.yaw);
    float dx = to.x - from.x, dz = to.z - from.z;
    r.right = dx * cy + dz * sy;
    r.forward = dx * sy - dz * cy;
    r.up = to.y - from.y;
    r.dyaw = (float)dm_wrap_deg((double)to.yaw - (double)from.yaw);
    r.dpitch = to.pitch - from.pitch;
    return r;
}

void cam_basis(cam_pose pose, float forward[3], float right[3], float up[3])
{
    float sy = (float)dm_sin_deg(pose.yaw), cy = (float)dm_cos_deg(pose.yaw);
    float sp = (float)dm_sin_deg(pose.pitch), cp = (float)dm_cos_deg(pose.pitch);
    forward[0] = sy * cp;
    forward[1] = sp;
    forward[2] = -cy * cp;
    right[0] = cy;
    right[1] = 0.0f;
    right[2] = sy;
    up[0] = -sy * sp;
    up[1] = cp;
    up[2] = cy * sp;
}

float cam_focal_px(int width)
{
    return 0.5f * (float)width / (float)(dm_sin_deg(0.5 * CAM_HFOV_DEG) / dm_cos_deg(0.5 * CAM_HFOV_DEG));
}

void cam_pose_to_array(cam_pose p, float out[CAM_POSE_DIM])
{
    out[0] = p.x;
    out[1] = p.y;
    out[2] = p.z;
    out[3] = p.yaw;
    out[4] = p.pitch;
}

void cam_action_to_array(cam_action a, float out[CAM_ACTION_DIM])
{
    out[0] = a.forward;
    out[1] = a.strafe;
    out[2] = a.turn;
    out[3] = a.look;
    out[4] = a.run;
}
