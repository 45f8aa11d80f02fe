/* worldkv-world render: the true video for a seed and a camera path or an
 * action script. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camera.h"
#include "cli_args.h"
#include "cli_util.h"
#include "commands.h"
#include "frame_sink.h"
#include "progress.h"
#include "render.h"
#include "script.h"
#include "world.h"

/* What runs when neither --path nor --actions is given: a short walk. */
static const char k_demo_script[] = "# the built-in demo walk\n"
                                    "30 forward\n"
                                    "40 turn_right\n"
                                    "30 forward=0.8 turn_left=0.3\n"
                                    "20 look_up=0.6\n"
                                    "20 look_down=0.6\n"
                                    "40 turn_left\n"
                                    "20 back\n";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " CLI_NAME " render -o OUT [OPTIONS]\n"
            "\n"
            "Renders the ground-truth video of a world along a camera path or an action\n"
            "script (formats in docs/formats.md). With neither, a short demo walk runs.\n"
            "\n"
            "  -o OUT             NAME%%05d.png (a PNG per frame), NAME.png (one frame),\n"
            "                     NAME.rgb or NAME.raw (raw RGB24), or - (raw RGB24 to stdout)\n"
            "  --seed S           world seed (default 1)\n"
            "  --world-cells C    world size in cells, odd (default %d)\n"
            "  --size R           frame width and height, %d..%d (default 128)\n"
            "  --path FILE        camera path: keyframed poses, no collisions\n"
            "  --actions FILE     action script, applied from the start pose with collisions\n"
            "  --start X,Z,YAW    start pose for --actions (default: the world's default start)\n"
            "  --frames N         number of frames (default: the whole path or script)\n"
            "  --poses FILE       also write every frame's pose, as a camera path\n"
            "  -q, --quiet        no progress bar\n"
            "  -h, --help         this help\n"
            "\n"
            "Watch raw output with: ffplay -f rawvideo -pixel_format rgb24 -video_size RxR -framerate 20 FILE\n",
            WORLD_DEFAULT_CELLS, RENDER_MIN_SIZE, RENDER_MAX_SIZE);
}

typedef struct render_opts {
    const char *out, *path_file, *actions_file, *poses_file, *start;
    uint64_t seed;
    int cells, size, frames, quiet;
} render_opts;

static const cli_option render_options[] = {
    {"--help", 'h', 0},    {"--quiet", 'q', 0}, {"--out", 'o', 1},  {"--path", 0, 1},
    {"--actions", 0, 1},   {"--poses", 0, 1},   {"--start", 0, 1},  {"--seed", 0, 1},
    {"--world-cells", 0, 1}, {"--size", 0, 1},  {"--frames", 0, 1},
};

static int parse(int argc, char **argv, render_opts *o)
{
    cli_args args;
    cli_args_init(&args, CLI_NAME " render", argc, argv, 1, render_options,
                  (int)(sizeof render_options / sizeof render_options[0]));
    const char *a, *v;
    int more;
    while ((more = cli_args_next_named(&args, &a, &v)) != 0) {
        if (more < 0)
            return 2;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--path")) {
            o->path_file = v;
        } else if (!strcmp(a, "--actions")) {
            o->actions_file = v;
        } else if (!strcmp(a, "--poses")) {
            o->poses_file = v;
        } else if (!strcmp(a, "--start")) {
            o->start = v;
        } else if (!strcmp(a, "--seed")) {
            if (cli_u64(a, v, &o->seed))
                return 2;
        } else if (!strcmp(a, "--world-cells")) {
            if (cli_int(a, v, WORLD_MIN_CELLS, WORLD_MAX_CELLS, &o->cells))
                return 2;
        } else if (!strcmp(a, "--size")) {
            if (cli_int(a, v, RENDER_MIN_SIZE, RENDER_MAX_SIZE, &o->size))
                return 2;
        } else if (!strcmp(a, "--frames")) {
            if (cli_int(a, v, 1, SCRIPT_MAX_FRAMES, &o->frames))
                return 2;
        }
    }
    if (!o->out) {
        cli_error("render needs -o OUT");
        usage(stderr);
        return 2;
    }
    if (o->path_file && o->actions_file) {
        cli_error("give --path or --actions, not both");
        return 2;
    }
    if (o->start && o->path_file) {
        cli_error("--start applies to --actions; a camera path sets its own start");
        return 2;
    }
    return 0;
}

static int parse_start(const world *w, const char *text, cam_pose *pose)
{
    float x, z, yaw;
    char tail;
    if (sscanf(text, "%f,%f,%f%c", &x, &z, &yaw, &tail) != 3) {
        cli_error("--start expects X,Z,YAW in metres and degrees, got '%s'", text);
        return -1;
    }
    cam_grid g = world_grid(w);
    int cx = (int)(x / w->cell_size), cz = (int)(z / w->cell_size);
    if (x < 0 || z < 0 || cam_grid_solid(&g, cx, cz)) {
        cli_error("--start %s is inside a wall or outside the world", text);
        return -1;
    }
    *pose = (cam_pose){x, CAM_EYE_HEIGHT, z, yaw, 0.0f};
    return 0;
}

static int write_pose_line(FILE *f, int frame, cam_pose p)
{
    return fprintf(f, "%d %.5f %.5f %.5f %.4f %.4f\n", frame, (double)p.x, (double)p.y, (double)p.z, (double)p.yaw,
                   (double)p.pitch) < 0;
}

int cmd_render(int argc, char **argv)
{
    render_opts o = {0};
    o.seed = 1;
    o.cells = WORLD_DEFAULT_CELLS;
    o.size = 128;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (o.cells % 2 == 0) {
        cli_error("--world-cells must be odd, got %d", o.cells);
        return 2;
    }
    char err[1024];
    action_script script = {0};
    camera_path path = {0};
    if (o.path_file ? script_load_path(o.path_file, &path, err, sizeof err)
                    : (o.actions_file ? script_load_actions(o.actions_file, &script, err, sizeof err)
                                      : script_parse_actions(k_demo_script, "demo", &script, err, sizeof err))) {
        cli_error("%s", err);
        return 1;
    }
    int status = 1;
    world *w = world_create(o.seed, o.cells, err, sizeof err);
    uint8_t *rgb = malloc((size_t)o.size * (size_t)o.size * 3u);
    FILE *poses = NULL;
    frame_sink sink;
    int sink_open = 0;
    if (!w || !rgb) {
        cli_error("%s", w ? "out of memory" : err);
        goto done;
    }
    int frames = o.frames ? o.frames : (o.path_file ? path.total_frames : 1 + script.total_frames);
    cam_pose pose = world_default_start(w);
    if (o.start && parse_start(w, o.start, &pose) != 0)
        goto done;
    if (frame_sink_open(&sink, o.out, frames, err, sizeof err) != 0) {
        cli_error("%s", err);
        goto done;
    }
    sink_open = 1;
    if (o.poses_file && !(poses = fopen(o.poses_file, "w"))) {
        cli_error("cannot create %s", o.poses_file);
        goto done;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed pipe becomes a write error we report */
    cam_grid grid = world_grid(w);
    progress bar;
    progress_begin(&bar, "render", "frames", frames);
    if (o.quiet)
        bar.enabled = 0;
    for (int t = 0; t < frames; t++) {
        if (o.path_file)
            pose = script_path_pose_at(&path, t);
        else if (t > 0)
            pose = cam_step(pose, script_action_at(&script, t - 1), CAM_FRAME_DT, &grid);
        world_render(w, pose, o.size, o.size, rgb, NULL);
        if (frame_sink_write(&sink, t, rgb, o.size, o.size, err, sizeof err) != 0) {
            progress_end(&bar);
            cli_error("%s", err);
            goto done;
        }
        if (poses && write_pose_line(poses, t, pose)) {
            cli_error("cannot write %s", o.poses_file);
            goto done;
        }
        progress_update(&bar, t + 1);
    }
    progress_end(&bar);
    if (frame_sink_close(&sink, err, sizeof err) != 0) {
        sink_open = 0;
        cli_error("%s", err);
        goto done;
    }
    sink_open = 0;
    if (poses) {
        int bad = fclose(poses) != 0;
        poses = NULL;
        if (bad) {
            cli_error("cannot write %s", o.poses_file);
            goto done;
        }
    }
    if (!o.quiet)
        fprintf(stderr, CLI_NAME " render: %d frames of %dx%d from world %llu to %s\n", frames, o.size, o.size,
                (unsigned long long)o.seed, o.out);
    status = 0;
done:
    if (sink_open)
        frame_sink_close(&sink, err, sizeof err);
    if (poses)
        fclose(poses);
    free(rgb);
    world_destroy(w);
    script_free_actions(&script);
    script_free_path(&path);
    return status;
}
