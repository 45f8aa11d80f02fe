#include "trajectory.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "detmath.h"
#include "rng.h"

#define ACCEL 0.25f          /* largest change of an action component per frame */
#define AIM_GAIN (1.0f / 12.0f) /* turn rate per degree of heading error */
#define AIM_DONE_DEG 0.4f
#define ARRIVE_DIST 0.06f    /* metres: close enough to a final target */
#define WAYPOINT_DIST 0.4f   /* metres: close enough to a corner waypoint */
#define MAX_BOOKMARKS 32

typedef struct agent {
    const world *w;
    cam_grid grid;
    rng_state rng;
    cam_pose pose;
    cam_action act;
    cam_pose *poses;
    cam_action *actions;
    int t, frames;
    int *bfs_prev; /* per cell, for path finding */
    int *bfs_queue;
    cam_pose bookmarks[MAX_BOOKMARKS];
    int bookmark_frame[MAX_BOOKMARKS];
    int bookmark_count;
} agent;

static float approach(float current, float target)
{
    float d = target - current;
    if (d > ACCEL)
        d = ACCEL;
    else if (d < -ACCEL)
        d = -ACCEL;
    return current + d;
}

static float clamp_abs(float v, float limit)
{
    return v > limit ? limit : (v < -limit ? -limit : v);
}

/* Eases the held action towards `want` and advances one frame. Returns 0
 * once the episode is full. */
static int tick(agent *a, cam_action want)
{
    if (a->t + 1 >= a->frames)
        return 0;
    a->act.forward = approach(a->act.forward, want.forward);
    a->act.strafe = approach(a->act.strafe, want.strafe);
    a->act.turn = approach(a->act.turn, want.turn);
    a->act.look = approach(a->act.look, want.look);
    a->act.run = approach(a->act.run, want.run);
    /* snap tiny residues to zero so that resting frames are exact no-ops */
    float *c = &a->act.forward;
    for (int i = 0; i < CAM_ACTION_DIM; i++)
        if (fabsf(c[i]) < 1e-3f)
            c[i] = 0.0f;
    a->pose = cam_step(a->pose, a->act, CAM_FRAME_DT, &a->grid);
    a->t++;
    a->poses[a->t] = a->pose;
    a->actions[a->t] = a->act;
    return 1;
}

static int at_rest(const agent *a)
{
    return fabsf(a->act.forward) + fabsf(a->act.strafe) + fabsf(a->act.turn) + fabsf(a->act.look) < 0.05f;
}

/* Turns (and tilts) to face yaw/pitch at up to `speed`, then settles. */
static int aim(agent *a, float yaw, float pitch, float speed)
{
    for (int guard = 0; guard < 400; guard++) {
        float eyaw = (float)dm_wrap_deg((double)yaw - (double)a->pose.yaw);
        float epitch = pitch - a->pose.pitch;
        if (fabsf(eyaw) < AIM_DONE_DEG && fabsf(epitch) < AIM_DONE_DEG && at_rest(a))
            return 1;
        cam_action want = {0};
        want.turn = clamp_abs(eyaw * AIM_GAIN, speed);
        want.look = clamp_abs(epitch * AIM_GAIN * 1.5f, speed);
        if (!tick(a, want))
            return 0;
    }
    return 1;
}

static int pause_frames(agent *a, int n)
{
    cam_action rest = {0};
    for (int i = 0; i < n; i++)
        if (!tick(a, rest))
            return 0;
    return 1;
}

static int cell_of(const agent *a, float x, float z)
{
    int cx = (int)floorf(x / a->w->cell_size), cz = (int)floorf(z / a->w->cell_size);
    return cz * a->w->width + cx;
}

/* Breadth-first search over open cells from `from`. Fills bfs_prev (-1 where
 * unreached) and returns the cells in visiting order in bfs_queue. */
static int bfs(agent *a, int from)
{
    const world *w = a->w;
    int n = w->width * w->depth, head = 0, tail = 0;
    for (int i = 0; i < n; i++)
        a->bfs_prev[i] = -1;
    a->bfs_prev[from] = from;
    a->bfs_queue[tail++] = from;
    static const int dx[4] = {1, -1, 0, 0}, dz[4] = {0, 0, 1, -1};
    while (head < tail) {
        int c = a->bfs_queue[head++], cx = c % w->width, cz = c / w->width;
        for (int k = 0; k < 4; k++) {
            int nx = cx + dx[k], nz = cz + dz[k];
            if (!world_is_open(w, nx, nz))
                continue;
            int nc = nz * w->width + nx;
            if (a->bfs_prev[nc] < 0) {
                a->bfs_prev[nc] = c;
                a->bfs_queue[tail++] = nc;
            }
        }
    }
    return tail;
}

/* Walks to (x, z) along the shortest cell path, at forward speed `speed`,
 * turning on the spot where the heading is far off. */
static int go_to(agent *a, float x, float z, float speed, float run)
{
    const world *w = a->w;
    int start = cell_of(a, a->pose.x, a->pose.z), goal = cell_of(a, x, z);
    bfs(a, start);
    if (a->bfs_prev[goal] < 0)
        return 1;
    int path[256], len = 0; /* cells from the goal back to the start */
    for (int c = goal; c != start && len < 256; c = a->bfs_prev[c])
        path[len++] = c;
    int next = len - 1; /* index of the next waypoint, walking back down */
    float best_dist = 1e30f;
    int since_progress = 0;
    for (int guard = 0; guard < 600; guard++) {
        int final = next < 1;
        float tx = x, tz = z;
        if (!final) {
            tx = ((float)(path[next] % w->width) + 0.5f) * w->cell_size;
            tz = ((float)(path[next] / w->width) + 0.5f) * w->cell_size;
        }
        float dx = tx - a->pose.x, dz = tz - a->pose.z;
        float dist = sqrtf(dx * dx + dz * dz);
        if (!final && dist < WAYPOINT_DIST) {
            next--;
            continue;
        }
        if (final && dist < ARRIVE_DIST)
            break;
        float fx = x - a->pose.x, fz = z - a->pose.z, to_goal = sqrtf(fx * fx + fz * fz);
        if (to_goal < best_dist - 0.02f) {
            best_dist = to_goal;
            since_progress = 0;
        } else if (++since_progress > 40) {
            break; /* stuck on a corner: give up on this target */
        }
        float heading = (float)dm_atan2_deg((double)dx, (double)-dz);
        float err = (float)dm_wrap_deg((double)heading - (double)a->pose.yaw);
        cam_action want = {0};
        want.turn = clamp_abs(err * AIM_GAIN, 1.0f);
        float ahead = fabsf(err) < 50.0f ? (float)dm_cos_deg((double)err) : 0.0f;
        want.forward = speed * ahead * ahead;
        want.run = run;
        if (final) {
            /* slow down to arrive without overshooting */
            float step = CAM_WALK_SPEED * CAM_FRAME_DT;
            float limit = 0.5f * dist / step;
            if (want.forward > limit) {
                want.forward = limit;
                want.run = 0.0f;
            }
        }
        if (!tick(a, want))
            return 0;
    }
    cam_action rest = {0};
    while (!at_rest(a))
        if (!tick(a, rest))
            return 0;
    return 1;
}

static void bookmark(agent *a)
{
    int i = a->bookmark_count < MAX_BOOKMARKS ? a->bookmark_count++ : (int)rng_below(&a->rng, MAX_BOOKMARKS);
    a->bookmarks[i] = a->pose;
    a->bookmark_frame[i] = a->t;
}

static int walk_somewhere(agent *a)
{
    int reached = bfs(a, cell_of(a, a->pose.x, a->pose.z));
    /* prefer cells one to five steps away: the queue is in distance order */
    int limit = reached < 40 ? reached : 40;
    int pick_index = limit > 1 ? 1 + (int)rng_below(&a->rng, (uint32_t)(limit - 1)) : 0;
    int c = a->bfs_queue[pick_index];
    float cs = a->w->cell_size;
    float x = ((float)(c % a->w->width) + 0.25f + 0.5f * rng_unit(&a->rng)) * cs;
    float z = ((float)(c / a->w->width) + 0.25f + 0.5f * rng_unit(&a->rng)) * cs;
    float run = rng_below(&a->rng, 6) == 0 ? 1.0f : 0.0f;
    return go_to(a, x, z, 0.6f + 0.4f * rng_unit(&a->rng), run);
}

static int turn_in_place(agent *a)
{
    static const float angles[] = {45.0f, 90.0f, 90.0f, 180.0f, 180.0f, 360.0f};
    float angle = angles[rng_below(&a->rng, 6)] * (rng_below(&a->rng, 2) ? 1.0f : -1.0f);
    float speed = 0.6f + 0.4f * rng_unit(&a->rng);
    if (fabsf(angle) >= 360.0f) /* a full circle, in two halves */
        return aim(a, a->pose.yaw + 0.5f * angle, a->pose.pitch, speed) &&
               aim(a, a->pose.yaw + 0.5f * angle, a->pose.pitch, speed);
    return aim(a, a->pose.yaw + angle, a->pose.pitch, speed);
}

static int look_around(agent *a)
{
    cam_pose home = a->pose;
    float speed = 0.5f + 0.5f * rng_unit(&a->rng);
    if (rng_below(&a->rng, 3) == 0) {
        float pitch = (15.0f + 25.0f * rng_unit(&a->rng)) * (rng_below(&a->rng, 2) ? 1.0f : -1.0f);
        return aim(a, home.yaw, pitch, speed) && pause_frames(a, (int)rng_below(&a->rng, 6)) &&
               aim(a, home.yaw, 0.0f, speed);
    }
    float side = rng_below(&a->rng, 2) ? 1.0f : -1.0f;
    float out = (30.0f + 60.0f * rng_unit(&a->rng)) * side;
    if (!aim(a, home.yaw + out, home.pitch, speed) || !pause_frames(a, (int)rng_below(&a->rng, 5)))
        return 0;
    if (rng_below(&a->rng, 2)) { /* glance to the other side too */
        float other = -(30.0f + 40.0f * rng_unit(&a->rng)) * side;
        if (!aim(a, home.yaw + other, home.pitch, speed) || !pause_frames(a, (int)rng_below(&a->rng, 4)))
            return 0;
    }
    return aim(a, home.yaw, home.pitch, speed);
}

static int strafe(agent *a)
{
    cam_action want = {0};
    want.strafe = (0.6f + 0.4f * rng_unit(&a->rng)) * (rng_below(&a->rng, 2) ? 1.0f : -1.0f);
    int n = 6 + (int)rng_below(&a->rng, 12);
    for (int i = 0; i < n; i++)
        if (!tick(a, want))
            return 0;
    return pause_frames(a, 2);
}

/* Goes back to an earlier spot and faces the way it faced then. */
static int return_to_bookmark(agent *a)
{
    if (a->bookmark_count == 0)
        return look_around(a);
    int choice = -1;
    for (int tries = 0; tries < 8 && choice < 0; tries++) {
        int i = (int)rng_below(&a->rng, (uint32_t)a->bookmark_count);
        if (a->t - a->bookmark_frame[i] > 8)
            choice = i;
    }
    if (choice < 0)
        return look_around(a);
    cam_pose target = a->bookmarks[choice];
    return go_to(a, target.x, target.z, 0.7f + 0.3f * rng_unit(&a->rng), 0.0f) &&
           aim(a, target.yaw, target.pitch, 0.8f);
}

/* Metres of open floor straight ahead of (x, z) along yaw, up to `limit`. */
static float free_distance(const world *w, float x, float z, float yaw, float limit)
{
    cam_grid g = world_grid(w);
    float dx = (float)dm_sin_deg(yaw), dz = -(float)dm_cos_deg(yaw);
    float d = 0.0f;
    for (; d < limit; d += 0.1f) {
        float px = x + dx * d, pz = z + dz * d;
        if (px < 0.0f || pz < 0.0f || cam_grid_solid(&g, (int)(px / w->cell_size), (int)(pz / w->cell_size)))
            break;
    }
    return d;
}

/* A random open spot, half the time in a room, facing the most open of
 * eight headings, so that episodes rarely open with a wall in the face. */
static cam_pose random_start(const world *w, rng_state *r)
{
    int cx, cz;
    if (w->room_count > 0 && rng_below(r, 2)) {
        const world_room *room = &w->rooms[rng_below(r, (uint32_t)w->room_count)];
        cx = room->x + (int)rng_below(r, (uint32_t)room->w);
        cz = room->z + (int)rng_below(r, (uint32_t)room->d);
    } else {
        cx = (int)rng_below(r, (uint32_t)w->width);
        cz = (int)rng_below(r, (uint32_t)w->depth);
    }
    while (!world_is_open(w, cx, cz)) { /* scan on to the next open cell */
        cx++;
        if (cx >= w->width) {
            cx = 0;
            cz = (cz + 1) % w->depth;
        }
    }
    cam_pose p = world_cell_pose(w, cx, cz, 0.0f);
    p.x += (rng_unit(r) - 0.5f) * 0.4f * w->cell_size;
    p.z += (rng_unit(r) - 0.5f) * 0.4f * w->cell_size;
    float base = 45.0f * rng_unit(r), best = -1.0f;
    for (int k = 0; k < 8; k++) {
        float yaw = base + 45.0f * (float)k;
        float d = free_distance(w, p.x, p.z, yaw, 12.0f);
        if (d > best) {
            best = d;
            p.yaw = (float)dm_wrap_deg(yaw);
        }
    }
    return p;
}

/* An agent at a random open start, poses[0] and the no-op actions[0] filled; -1 when out of memory. */
static int agent_init(agent *a, const world *w, uint64_t rng_seed, int frames, cam_pose *poses, cam_action *actions)
{
    memset(a, 0, sizeof *a);
    int cells = w->width * w->depth;
    a->bfs_prev = malloc(sizeof(int) * (size_t)cells);
    a->bfs_queue = malloc(sizeof(int) * (size_t)cells);
    if (!a->bfs_prev || !a->bfs_queue) {
        free(a->bfs_prev);
        free(a->bfs_queue);
        return -1;
    }
    a->w = w;
    a->grid = world_grid(w);
    a->rng.s = rng_seed;
    a->pose = random_start(w, &a->rng);
    a->poses = poses;
    a->actions = actions;
    a->frames = frames;
    poses[0] = a->pose;
    memset(&actions[0], 0, sizeof actions[0]);
    return 0;
}

static void agent_free(agent *a)
{
    free(a->bfs_prev);
    free(a->bfs_queue);
}

int traj_generate(const world *w, uint64_t seed, int frames, cam_pose *poses, cam_action *actions)
{
    if (frames <= 0)
        return 0;
    agent a;
    if (agent_init(&a, w, rng_derive(seed, 0x54524a), frames, poses, actions) != 0)
        return -1;
    while (a.t + 1 < frames) {
        bookmark(&a);
        uint32_t roll = rng_below(&a.rng, 100);
        if (roll < 30)
            walk_somewhere(&a);
        else if (roll < 44)
            turn_in_place(&a);
        else if (roll < 64)
            look_around(&a);
        else if (roll < 84)
            return_to_bookmark(&a);
        else if (roll < 92)
            pause_frames(&a, 3 + (int)rng_below(&a.rng, 12));
        else
            strafe(&a);
    }
    agent_free(&a);
    return 0;
}

/* Marks the cells the poses since frame `from` stood in. */
static void mark_visited(const agent *a, int from, uint8_t *visited)
{
    for (int t = from; t <= a->t; t++)
        visited[cell_of(a, a->poses[t].x, a->poses[t].z)] = 1;
}

int traj_explore(const world *w, uint64_t seed, int out, int max, cam_pose *poses, cam_action *actions, int *used)
{
    *used = 0;
    if (out <= 0 || max <= out)
        return 0;
    agent a;
    uint8_t *visited = calloc((size_t)(w->width * w->depth), 1);
    if (!visited || agent_init(&a, w, rng_derive(seed, 0x45585052), out + 1, poses, actions) != 0) {
        free(visited);
        return -1;
    }
    int alive = 1;
    while (alive && a.t + 1 < a.frames) {
        int from = a.t;
        int reached = bfs(&a, cell_of(&a, a.pose.x, a.pose.z)), target = -1;
        for (int i = 1; i < reached && target < 0; i++) /* the queue is in distance order */
            if (!visited[a.bfs_queue[i]])
                target = a.bfs_queue[i];
        if (target < 0) /* all seen: wander on to a random reachable cell */
            target = a.bfs_queue[reached > 1 ? 1 + (int)rng_below(&a.rng, (uint32_t)(reached - 1)) : 0];
        float cs = w->cell_size;
        float x = ((float)(target % w->width) + 0.3f + 0.4f * rng_unit(&a.rng)) * cs;
        float z = ((float)(target / w->width) + 0.3f + 0.4f * rng_unit(&a.rng)) * cs;
        float run = rng_below(&a.rng, 2) == 0 ? 1.0f : 0.0f;
        alive = go_to(&a, x, z, 0.8f + 0.2f * rng_unit(&a.rng), run);
        if (alive && rng_below(&a.rng, 8) == 0)
            alive = look_around(&a);
        mark_visited(&a, from, visited);
    }
    /* home: the start spot, facing the start view */
    a.frames = max;
    alive = 1;
    for (int leg = 0; alive && leg < 64; leg++) { /* go_to gives up on long paths: go on from where it stopped */
        float dx = poses[0].x - a.pose.x, dz = poses[0].z - a.pose.z;
        if (dx * dx + dz * dz < 4 * ARRIVE_DIST * ARRIVE_DIST)
            break;
        alive = go_to(&a, poses[0].x, poses[0].z, 0.9f, 0.0f);
    }
    if (alive)
        aim(&a, poses[0].yaw, poses[0].pitch, 0.8f);
    *used = a.t + 1;
    agent_free(&a);
    free(visited);
    return 0;
}
