/* Revisits look the same, a pure rotation is an exact homography, and the
 * revisit scan finds the frames where the camera came back. */
#include <stdlib.h>

#include "../test_util.h"
#include "camera.h"
#include "render.h"
#include "revisit.h"
#include "world.h"

enum { R = 64 };

static void render(const world *w, cam_pose p, uint8_t *rgb)
{
    world_render(w, p, R, R, rgb, NULL);
}

static double fraction_differing(const uint8_t *a, const uint8_t *b, int tolerance)
{
    int differ = 0;
    for (int i = 0; i < R * R; i++) {
        int d = 0;
        for (int c = 0; c < 3; c++)
            d = abs(a[i * 3 + c] - b[i * 3 + c]) > d ? abs(a[i * 3 + c] - b[i * 3 + c]) : d;
        differ += d > tolerance;
    }
    return (double)differ / (R * R);
}

static void test_return_by_actions(const world *w)
{
    static uint8_t first[R * R * 3], away[R * R * 3], back[R * R * 3];
    cam_grid g = world_grid(w);
    cam_pose start = world_default_start(w), p = start;
    render(w, p, first);
    /* turn right 90 degrees, look up, then undo both: yaw steps of 4.5 and
     * pitch steps of 3 are exact in binary, so the pose returns exactly */
    cam_action right = {0, 0, 1, 0, 0}, left = {0, 0, -1, 0, 0}, up = {0, 0, 0, 1, 0}, down = {0, 0, 0, -1, 0};
    for (int i = 0; i < 20; i++)
        p = cam_step(p, right, CAM_FRAME_DT, &g);
    for (int i = 0; i < 5; i++)
        p = cam_step(p, up, CAM_FRAME_DT, &g);
    render(w, p, away);
    CHECK(fraction_differing(first, away, 8) > 0.3);
    for (int i = 0; i < 5; i++)
        p = cam_step(p, down, CAM_FRAME_DT, &g);
    for (int i = 0; i < 20; i++)
        p = cam_step(p, left, CAM_FRAME_DT, &g);
    CHECK(memcmp(&p, &start, sizeof p) == 0);
    render(w, p, back);
    CHECK(memcmp(first, back, sizeof first) == 0);

    /* walk forward and back: 7 cm steps round a little, so the pose comes
     * back to within a micrometre and the image to within a few edge pixels */
    cam_action fwd = {1, 0, 0, 0, 0}, bwd = {-1, 0, 0, 0, 0};
    p = start;
    for (int i = 0; i < 12; i++)
        p = cam_step(p, fwd, CAM_FRAME_DT, &g);
    render(w, p, away);
    CHECK(fraction_differing(first, away, 8) > 0.1);
    for (int i = 0; i < 12; i++)
        p = cam_step(p, bwd, CAM_FRAME_DT, &g);
    CHECK_NEAR(p.x, start.x, 1e-5);
    CHECK_NEAR(p.z, start.z, 1e-5);
    render(w, p, back);
    CHECK(fraction_differing(first, back, 8) < 0.01);
}

/* Maps each pixel of the view at pose b through the rotation into the view
 * at pose a (same position), and compares the colours there. */
static void test_rotation_is_homography(const world *w)
{
    static uint8_t ia[R * R * 3], ib[R * R * 3];
    cam_pose a = world_default_start(w), b = a;
    b.yaw += 4.5f;
    b.pitch = 3.0f;
    render(w, a, ia);
    render(w, b, ib);
    float fa[3], ra[3], ua[3], fb[3], rb[3], ub[3];
    cam_basis(a, fa, ra, ua);
    cam_basis(b, fb, rb, ub);
    float f = cam_focal_px(R);
    int compared = 0, equal = 0;
    for (int y = 0; y < R; y++)
        for (int x = 0; x < R; x++) {
            float u = ((float)x + 0.5f - R / 2.0f) / f, v = (R / 2.0f - ((float)y + 0.5f)) / f;
            float d[3];
            for (int k = 0; k < 3; k++)
                d[k] = fb[k] + rb[k] * u + ub[k] * v;
            float za = d[0] * fa[0] + d[1] * fa[1] + d[2] * fa[2];
            float xa = (d[0] * ra[0] + d[1] * ra[1] + d[2] * ra[2]) / za * f + R / 2.0f - 0.5f;
            float ya = R / 2.0f - 0.5f - (d[0] * ua[0] + d[1] * ua[1] + d[2] * ua[2]) / za * f;
            int px = (int)lroundf(xa), py = (int)lroundf(ya);
            if (px < 0 || py < 0 || px >= R || py >= R)
                continue;
            compared++;
            /* the sky is a smooth gradient, so allow a few levels */
            const uint8_t *cb = ib + (y * R + x) * 3, *ca = ia + (py * R + px) * 3;
            equal += abs(cb[0] - ca[0]) <= 6 && abs(cb[1] - ca[1]) <= 6 && abs(cb[2] - ca[2]) <= 6;
        }
    /* nearest-pixel resampling differs only along edges */
    CHECK(compared > R * R * 8 / 10);
    CHECK((double)equal / compared > 0.85);
    printf("rotation homography: %d of %d pixels within 6 levels\n", equal, compared);
}

static void test_scan(void)
{
    enum { N = 60 };
    cam_pose poses[N];
    for (int t = 0; t < N; t++) {
        /* look right 60 degrees and back, twice */
        float phase = (float)(t % 30);
        poses[t] = (cam_pose){5, CAM_EYE_HEIGHT, 5, phase < 15 ? 4.0f * phase : 4.0f * (30 - phase), 0};
    }
    int32_t earlier[N];
    revisit_scan(poses, N, earlier);
    CHECK(earlier[0] == -1 && earlier[1] == -1 && earlier[2] == -1);
    CHECK(earlier[29] >= 0 && earlier[29] <= 3); /* back at yaw 4 after leaving */
    CHECK(earlier[30] >= 0 && 30 - earlier[30] <= 30 && 30 - earlier[30] > 16);
    CHECK(revisit_max_gap(earlier, N) > REVISIT_LONG_GAP);
    cam_pose still[10];
    for (int t = 0; t < 10; t++)
        still[t] = poses[0];
    int32_t none[10];
    revisit_scan(still, 10, none);
    CHECK(revisit_max_gap(none, 10) == 0); /* standing still is not a revisit */
    CHECK(revisit_same_view(poses[0], poses[0]));
    cam_pose moved = poses[0];
    moved.x += 0.5f;
    CHECK(!revisit_same_view(poses[0], moved));
}

int main(void)
{
    char err[128];
    world *w = world_create(3, 21, err, sizeof err);
    CHECK(w != NULL);
    if (w) {
        test_return_by_actions(w);
        test_rotation_is_homography(w);
        world_destroy(w);
    }
    test_scan();
    return test_finish("test_revisit");
}
