/* trajectory: camera paths that look like a person exploring.
 *
 * A walker chains manoeuvres: walk to a nearby place (sometimes running),
 * turn in place (45 to 360 degrees), look around and back, pause, strafe,
 * and often return to a place it stood earlier and face the way it faced
 * then, which makes revisits. Actions ease in and out (at most 0.25 change
 * per frame per component), so every next frame is predictable. */
#ifndef WORLDKV_TRAJECTORY_H
#define WORLDKV_TRAJECTORY_H

#include <stdint.h>

#include "camera.h"
#include "world.h"

/* Fills poses[0..frames) and actions[0..frames) for one episode. poses[0]
 * is a random open spot; actions[0] is the no-op and actions[t] moves
 * poses[t-1] to poses[t] through cam_step with the world's walls, so
 * replaying the actions reproduces the poses bit for bit. Returns 0, or -1
 * when out of memory. */
int traj_generate(const world *w, uint64_t seed, int frames, cam_pose *poses, cam_action *actions);

#endif
