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

/* The long-return path (worldkv-bench return): an explorer that walks on
 * to the nearest cell it has not stood in, breadth first over open cells,
 * sometimes running, sometimes looking around, for `out` frames (3,000
 * frames pass 57 to 78 distinct cells in worlds 9001-9004); then goes
 * straight back to the start spot along the shortest path and faces the
 * start view again. Fills poses[0..*used) and actions[0..*used), *used at
 * most max (max > out). Returns 0, or -1 when out of memory. */
int traj_explore(const world *w, uint64_t seed, int out, int max, cam_pose *poses, cam_action *actions, int *used);

#endif
