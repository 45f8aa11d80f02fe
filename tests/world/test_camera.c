/* Kinematics: unit actions, collisions, pitch clamping, relative poses and
 * the inverse of cam_step. */
#include <math.h>
#include <stdlib.h>

#include "../test_util.h"
#include "camera.h"
#include "detmath.h"
#include "rng.h"
#include "trajectory.h"
#include "world.h"

static int footprint_overlaps_wall(const cam_grid *g, cam_pose p)
{
    float h = CAM_HALF_SIZE, cs = g->cell_size;
    for (int cz = (int)floorf((p.z - h) / cs); cz <= (int)floorf((p.z + h) / cs); cz++)
        for (int cx = (int)floorf((p.x - h) / cs); cx <= (int)floorf((p.x + h) / cs); cx++)
            if (cam_grid_solid(g, cx, cz))
                return 1;
    return 0;
}

static void test_unit_actions(void)
{
    cam_pose p = {10.0f, CAM_EYE_HEIGHT, 10.0f, 0.0f, 0.0f};
    cam_action fwd = {1, 0, 0, 0, 0}, right = {0, 1, 0, 0, 0}, turn = {0, 0, 1, 0, 0}, look = {0, 0, 0, 1, 0};
    cam_pose q = cam_step(p, fwd, CAM_FRAME_DT, NULL);
    CHECK_NEAR(q.z, 10.0f - 0.07f, 1e-5); /* yaw 0 looks north, -z */
    CHECK_NEAR(q.x, 10.0f, 1e-6);
    q = cam_step(p, right, CAM_FRAME_DT, NULL);
    CHECK_NEAR(q.x, 10.07f, 1e-5); /* right of north is east, +x */
    q = cam_step(p, turn, CAM_FRAME_DT, NULL);
    CHECK(q.yaw == 4.5f);
    q = cam_step(p, look, CAM_FRAME_DT, NULL);
    CHECK_NEAR(q.pitch, 3.0f, 1e-6);
    cam_action run = {1, 0, 0, 0, 1};
    p.yaw = 90.0f;
    q = cam_step(p, run, CAM_FRAME_DT, NULL);
    CHECK_NEAR(q.x, 10.0f + 0.175f, 1e-5); /* yaw 90 looks east */
    /* diagonal moves are no faster than straight ones */
    cam_action diag = {1, 1, 0, 0, 0};
    q = cam_step(p, diag, CAM_FRAME_DT, NULL);
    CHECK_NEAR(hypotf(q.x - p.x, q.z - p.z), 0.07f, 1e-5);
    /* out-of-range components are clamped, not extrapolated */
    cam_action big = {5, 0, -9, 0, 3};
    q = cam_step(p, big, CAM_FRAME_DT, NULL);
    CHECK_NEAR(q.yaw, 85.5f, 1e-5);
}

static void test_pitch_and_yaw_limits(void)
{
    cam_pose p = {0, CAM_EYE_HEIGHT, 0, 170.0f, 0.0f};
    cam_action up = {0, 0, 1, 1, 0};
    for (int i = 0; i < 100; i++) {
        p = cam_step(p, up, CAM_FRAME_DT, NULL);
        CHECK(p.pitch <= CAM_PITCH_LIMIT);
        CHECK(p.yaw > -180.0f && p.yaw <= 180.0f);
    }
    CHECK(p.pitch == CAM_PITCH_LIMIT);
    cam_action down = {0, 0, 0, -1, 0};
    for (int i = 0; i < 100; i++)
        p = cam_step(p, down, CAM_FRAME_DT, NULL);
    CHECK(p.pitch == -CAM_PITCH_LIMIT);
}

static void test_collisions(void)
{
    char err[128];
    world *w = world_create(11, 21, err, sizeof err);
    CHECK(w != NULL);
    if (!w)
        return;
    cam_grid g = world_grid(w);
    rng_state r = {99};
    cam_pose p = world_default_start(w);
    CHECK(!footprint_overlaps_wall(&g, p));
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        cam_action a = {rng_unit(&r) * 2 - 1, rng_unit(&r) * 2 - 1, rng_unit(&r) * 2 - 1, 0, (float)(i % 3 == 0)};
        for (int k = 0; k < 10; k++) {
            p = cam_step(p, a, CAM_FRAME_DT, &g);
            bad += footprint_overlaps_wall(&g, p);
        }
        /* a long step (a slow frame) must not tunnel through a wall either */
        p = cam_step(p, a, 1.0f, &g);
        bad += footprint_overlaps_wall(&g, p);
    }
    CHECK(bad == 0);

    /* walk north into the wall: stop flush, a hair off the face */
    cam_pose s = world_default_start(w);
    s.yaw = 0.0f;
    cam_action fwd = {1, 0, 0, 0, 0};
    for (int i = 0; i < 2000; i++)
        s = cam_step(s, fwd, CAM_FRAME_DT, &g);
    int cz = (int)floorf(s.z / g.cell_size);
    CHECK(cam_grid_solid(&g, (int)floorf(s.x / g.cell_size), cz - 1));
    CHECK_NEAR(s.z - (float)cz * g.cell_size, CAM_HALF_SIZE, 2e-3);
    world_destroy(w);
}

static void test_replay_reproduces_poses(void)
{
    char err[128];
    world *w = world_create(5, 21, err, sizeof err);
    enum { N = 400 };
    cam_pose poses[N];
    cam_action actions[N];
    CHECK(traj_generate(w, 77, N, poses, actions) == 0);
    cam_grid g = world_grid(w);
    cam_pose p = poses[0];
    int mismatches = 0;
    CHECK(actions[0].forward == 0 && actions[0].turn == 0 && actions[0].strafe == 0 && actions[0].look == 0);
    for (int t = 1; t < N; t++) {
        p = cam_step(p, actions[t], CAM_FRAME_DT, &g);
        mismatches += memcmp(&p, &poses[t], sizeof p) != 0;
        /* every step is the motion a person makes in 1/20 s */
        float moved = hypotf(poses[t].x - poses[t - 1].x, poses[t].z - poses[t - 1].z);
        CHECK(moved <= 0.07f * CAM_RUN_FACTOR + 1e-4f);
        CHECK(fabs(dm_wrap_deg(poses[t].yaw - poses[t - 1].yaw)) <= 4.5 + 1e-4);
        CHECK(!footprint_overlaps_wall(&g, poses[t]));
    }
    CHECK(mismatches == 0);
    world_destroy(w);
}

/* The long-return path: it explores (many distinct cells), every step is a
 * replayable person-sized motion, and it ends home at the start view. */
static void test_explore_goes_far_and_comes_home(void)
{
    char err[128];
    enum { OUT = 3000, MAX = 12000 };
    static cam_pose poses[MAX];
    static cam_action actions[MAX];
    static uint8_t seen[WORLD_MAX_CELLS * WORLD_MAX_CELLS];
    for (uint64_t seed = 9001; seed <= 9004; seed++) {
        world *w = world_create(seed, 21, err, sizeof err);
        int used = 0;
        CHECK(traj_explore(w, seed * 7919 + 1, OUT, MAX, poses, actions, &used) == 0);
        CHECK(used > OUT + 1 && used < MAX);
        cam_grid g = world_grid(w);
        cam_pose p = poses[0];
        int mismatches = 0, places = 0;
        memset(seen, 0, sizeof seen);
        for (int t = 1; t < used; t++) {
            p = cam_step(p, actions[t], CAM_FRAME_DT, &g);
            mismatches += memcmp(&p, &poses[t], sizeof p) != 0;
            CHECK(hypotf(poses[t].x - poses[t - 1].x, poses[t].z - poses[t - 1].z) <= 0.07f * CAM_RUN_FACTOR + 1e-4f);
            int c = (int)floorf(poses[t].z / w->cell_size) * w->width + (int)floorf(poses[t].x / w->cell_size);
            if (t <= OUT && !seen[c])
                seen[c] = 1, places++;
        }
        CHECK(mismatches == 0);
        CHECK(places >= 50);
        cam_pose home = poses[used - 1];
        CHECK(hypotf(home.x - poses[0].x, home.z - poses[0].z) < 0.15f);
        CHECK(fabs(dm_wrap_deg(home.yaw - poses[0].yaw)) < 1.0 && fabsf(home.pitch - poses[0].pitch) < 1.0f);
        printf("explore, world %llu: %d places in %d frames out, %d frames home\n", (unsigned long long)seed, places,
               OUT, used - 1 - OUT);
        world_destroy(w);
    }
}

static void test_relative_and_inverse(void)
{
    cam_pose a = {1, CAM_EYE_HEIGHT, 1, 90.0f, 10.0f}, b = {1, CAM_EYE_HEIGHT, 3, 180.0f, -5.0f};
    cam_rel_pose r = cam_relative(a, b);
    /* facing east, +z (south) is to the right */
    CHECK_NEAR(r.right, 2.0f, 1e-6);
    CHECK_NEAR(r.forward, 0.0f, 1e-6);
    CHECK_NEAR(r.dyaw, 90.0f, 1e-6);
    CHECK_NEAR(r.dpitch, -15.0f, 1e-6);
    r = cam_relative(a, a);
    CHECK(r.right == 0 && r.forward == 0 && r.up == 0 && r.dyaw == 0 && r.dpitch == 0);
    cam_pose c = {0, CAM_EYE_HEIGHT, 0, 179.0f, 0}, d = {0, CAM_EYE_HEIGHT, 0, -179.0f, 0};
    CHECK_NEAR(cam_relative(c, d).dyaw, 2.0f, 1e-4); /* the short way round */

    rng_state rs = {3};
    for (int i = 0; i < 1000; i++) {
        cam_pose p = {rng_unit(&rs) * 20, CAM_EYE_HEIGHT, rng_unit(&rs) * 20, rng_unit(&rs) * 360 - 180,
                      rng_unit(&rs) * 80 - 40};
        cam_action a0 = {rng_unit(&rs) * 2 - 1, rng_unit(&rs) * 2 - 1, rng_unit(&rs) * 2 - 1, rng_unit(&rs) * 2 - 1,
                         rng_unit(&rs)};
        cam_pose q = cam_step(p, a0, CAM_FRAME_DT, NULL);
        cam_action inv = cam_action_between(p, q, CAM_FRAME_DT);
        cam_pose q2 = cam_step(p, inv, CAM_FRAME_DT, NULL);
        CHECK_NEAR(q2.x, q.x, 1e-4);
        CHECK_NEAR(q2.z, q.z, 1e-4);
        CHECK_NEAR(dm_wrap_deg(q2.yaw - q.yaw), 0.0, 1e-3);
        CHECK_NEAR(q2.pitch, q.pitch, 1e-3);
    }
}

static void test_basis(void)
{
    cam_pose p = {0, 0, 0, 37.0f, -21.0f};
    float f[3], r[3], u[3];
    cam_basis(p, f, r, u);
    CHECK_NEAR(f[0] * f[0] + f[1] * f[1] + f[2] * f[2], 1.0, 1e-6);
    CHECK_NEAR(f[0] * r[0] + f[1] * r[1] + f[2] * r[2], 0.0, 1e-6);
    CHECK_NEAR(f[0] * u[0] + f[1] * u[1] + f[2] * u[2], 0.0, 1e-6);
    CHECK_NEAR(r[0] * u[0] + r[1] * u[1] + r[2] * u[2], 0.0, 1e-6);
    /* right x up = -forward: a right-handed camera looking down its -z */
    float cx = r[1] * u[2] - r[2] * u[1], cy = r[2] * u[0] - r[0] * u[2], cz = r[0] * u[1] - r[1] * u[0];
    CHECK_NEAR(cx, -f[0], 1e-6);
    CHECK_NEAR(cy, -f[1], 1e-6);
    CHECK_NEAR(cz, -f[2], 1e-6);
    CHECK_NEAR(cam_focal_px(64), 32.0 / tan(33.0 * DM_PI / 180.0), 1e-4);
}

int main(void)
{
    test_unit_actions();
    test_pitch_and_yaw_limits();
    test_collisions();
    test_replay_reproduces_poses();
    test_explore_goes_far_and_comes_home();
    test_relative_and_inverse();
    test_basis();
    return test_finish("test_camera");
}
