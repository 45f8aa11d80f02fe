/* Action scripts and camera paths: what parses, and line-numbered errors
 * (never a crash) for what does not. */
#include <stdlib.h>

#include "../test_util.h"
#include "rng.h"
#include "script.h"

static void expect_action_error(const char *text, const char *part)
{
    action_script s;
    char err[512] = "";
    CHECK(script_parse_actions(text, "a.txt", &s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, part);
    CHECK(s.steps == NULL);
}

static void expect_path_error(const char *text, const char *part)
{
    camera_path p;
    char err[512] = "";
    CHECK(script_parse_path(text, "p.txt", &p, err, sizeof err) == -1);
    CHECK_CONTAINS(err, part);
    CHECK(p.keys == NULL);
}

static void test_actions(void)
{
    action_script s;
    char err[512];
    const char *text = "# demo\n"
                       "20 forward\n"
                       "\n"
                       "10 turn_left=0.5 forward=0.25 run   # comment\n"
                       "5 noop\r\n"
                       "3 look_up look_down=0.5 left right=0.2\n";
    CHECK(script_parse_actions(text, "a.txt", &s, err, sizeof err) == 0);
    CHECK(s.count == 4);
    CHECK(s.total_frames == 38);
    CHECK(script_action_at(&s, 0).forward == 1.0f);
    CHECK(script_action_at(&s, 19).forward == 1.0f);
    cam_action a = script_action_at(&s, 20);
    CHECK(a.turn == -0.5f && a.forward == 0.25f && a.run == 1.0f);
    a = script_action_at(&s, 30);
    CHECK(a.forward == 0 && a.turn == 0 && a.strafe == 0 && a.look == 0 && a.run == 0);
    a = script_action_at(&s, 37);
    CHECK_NEAR(a.look, 0.5, 1e-6);
    CHECK_NEAR(a.strafe, -0.8, 1e-6);
    a = script_action_at(&s, 38); /* past the end: the no-op */
    CHECK(a.forward == 0 && a.turn == 0);
    script_free_actions(&s);

    expect_action_error("10 forward\n5 jump\n", "a.txt:2: unknown action 'jump'");
    expect_action_error("10 forward\n\n# x\nforward 10\n", "a.txt:4: expected a frame count");
    expect_action_error("0 forward\n", "a.txt:1: expected a frame count");
    expect_action_error("-3 forward\n", "a.txt:1:");
    expect_action_error("5\n", "a.txt:1: expected at least one action");
    expect_action_error("5 forward=2\n", "a.txt:1: value of 'forward' must be a number in [0, 1]");
    expect_action_error("5 forward=abc\n", "a.txt:1: value of 'forward'");
    expect_action_error("5 forward=nan\n", "a.txt:1:");
    expect_action_error("5 noop=1\n", "a.txt:1: noop takes no value");
    expect_action_error("5 =1\n", "a.txt:1: unknown action");
    expect_action_error("# nothing\n\n", "a.txt: the action script holds no actions");
    expect_action_error("1 forward\n2 forward\x01\n", "a.txt:2: line is longer");
    expect_action_error("99999999999 forward\n", "a.txt:1:");
    expect_action_error("9000000 forward\n9000000 forward\n", "a.txt:2: the script is longer");
    char long_line[2100];
    memset(long_line, 'x', sizeof long_line - 1);
    long_line[sizeof long_line - 1] = 0;
    expect_action_error(long_line, "a.txt:1: line is longer");
    expect_action_error("1 a b c d e f g h i j k l m n o p q\n", "a.txt:1: too many fields");
}

static void test_path(void)
{
    camera_path p;
    char err[512];
    const char *text = "# frame x y z yaw pitch\n"
                       "0   1 1.6 1   170  0\n"
                       "10  2 1.6 1  -170  10\n"
                       "20  2 1.6 3  -170  10\n";
    CHECK(script_parse_path(text, "p.txt", &p, err, sizeof err) == 0);
    CHECK(p.count == 3 && p.total_frames == 21);
    cam_pose q = script_path_pose_at(&p, 5);
    CHECK_NEAR(q.x, 1.5, 1e-6);
    CHECK_NEAR(q.yaw, 180.0, 1e-4); /* 170 to -170 goes through 180 */
    CHECK_NEAR(script_path_pose_at(&p, 2).yaw, 174.0, 1e-4);
    CHECK_NEAR(q.pitch, 5.0, 1e-6);
    q = script_path_pose_at(&p, 15);
    CHECK_NEAR(q.z, 2.0, 1e-6);
    q = script_path_pose_at(&p, 100);
    CHECK_NEAR(q.z, 3.0, 1e-6);
    script_free_path(&p);

    expect_path_error("0 1 2 3 4\n", "p.txt:1: expected 6 fields (frame x y z yaw pitch), got 5");
    expect_path_error("5 1 1.6 1 0 0\n", "p.txt:1: the first keyframe must be frame 0");
    expect_path_error("0 1 1.6 1 0 0\n10 1 1.6 1 0 0\n10 1 1.6 1 0 0\n", "p.txt:3: frame 10 does not come after frame 10");
    expect_path_error("0 1 1.6 1 0 0\n4 1 1.6 zz 0 0\n", "p.txt:2: z must be a number, got 'zz'");
    expect_path_error("0 1 1.6 1 0 80\n", "p.txt:1: pitch 80 is outside");
    expect_path_error("0 1 1.6 1 inf 0\n", "p.txt:1: yaw must be a number");
    expect_path_error("x 1 1.6 1 0 0\n", "p.txt:1: frame must be a whole number");
    expect_path_error("", "p.txt: the camera path holds no keyframes");
}

/* Random bytes and mutated scripts must give an error or a parse, never a
 * crash (AddressSanitizer builds of this test catch overruns). */
static void test_garbage(void)
{
    rng_state r = {1234};
    char buf[512];
    const char *seeds[] = {"10 forward turn_left=0.5\n", "0 1 1.6 1 0 0\n10 2 1.6 1 90 0\n"};
    for (int i = 0; i < 4000; i++) {
        size_t n = rng_below(&r, sizeof buf - 1);
        if (i % 2) {
            for (size_t k = 0; k < n; k++)
                buf[k] = (char)(1 + rng_below(&r, 255));
        } else {
            const char *s = seeds[i % 4 / 2];
            size_t len = strlen(s);
            n = len;
            memcpy(buf, s, len);
            for (int m = 0; m < 3; m++)
                buf[rng_below(&r, (uint32_t)len)] = "0123456789.=-# \nabcxyz"[rng_below(&r, 22)];
        }
        buf[n] = 0;
        action_script s;
        camera_path p;
        char err[512];
        if (script_parse_actions(buf, "g", &s, err, sizeof err) == 0)
            script_free_actions(&s);
        else
            CHECK(err[0] == 'g');
        if (script_parse_path(buf, "g", &p, err, sizeof err) == 0)
            script_free_path(&p);
        else
            CHECK(err[0] == 'g');
    }
}

int main(void)
{
    test_actions();
    test_path();
    test_garbage();
    return test_finish("test_script");
}
