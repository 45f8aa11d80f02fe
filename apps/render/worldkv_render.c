/* worldkv-render: the offline CLI. A start (an image, or a world seed whose
 * true first frame is rendered), an action script or camera path, and the
 * model give a video (MP4, MKV, WebM, a PNG per frame, or Matroska on
 * stdout), encoded as frames are made. Ctrl-C or a write error finishes the
 * file cleanly: what was written plays. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "app_start.h"
#include "camera.h"
#include "cli_args.h"
#include "cli_number.h"
#include "file_util.h"
#include "frame_scale.h"
#include "asset_path.h"
#include "image_io.h"
#include "progress.h"
#include "render.h"
#include "script.h"
#include "video_encoder.h"
#include "world.h"
#include "worldkv.h"

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* A PNG sequence name: one %d or %0Nd (N up to 9), no other '%' but %%. */
typedef struct png_pattern {
    int prefix_len, width;
    const char *suffix;
} png_pattern;

typedef struct opts {
    const char *out, *model, *start, *actions, *path, *save, *load, *backend;
    uint64_t world_seed, seed;
    int frames, fps, steps, crf, stream, side_by_side, scale, quiet, memory_slots, memory_bits, memory_host_mb;
    int png;         /* -o is a PNG sequence, named by png_name */
    png_pattern png_name;
} opts;

static int png_pattern_parse(const char *out, png_pattern *p)
{
    const char *pct = NULL;
    for (const char *c = out; *c; c++) {
        if (*c != '%')
            continue;
        if (c[1] == '%') {
            c++;
            continue;
        }
        if (pct)
            return -1;
        pct = c;
    }
    if (!pct)
        return -1;
    const char *c = pct + 1;
    int width = 0;
    if (*c == '0' && c[1] >= '1' && c[1] <= '9' && c[2] == 'd')
        width = c[1] - '0', c += 2;
    else if (*c >= '1' && *c <= '9' && c[1] == 'd')
        width = *c - '0', c += 1;
    if (*c != 'd')
        return -1;
    *p = (png_pattern){(int)(pct - out), width, c + 1};
    return 0;
}

/* Appends text[0, len) to name at *at, each %% as one %. */
static void append_unescaped(char *name, size_t size, size_t *at, const char *text, size_t len)
{
    for (size_t i = 0; i < len && *at + 1 < size; i++) {
        name[(*at)++] = text[i];
        if (text[i] == '%' && i + 1 < len && text[i + 1] == '%')
            i++;
    }
    name[*at] = 0;
}

/* The name of frame t under the pattern. */
static void png_pattern_name(const char *out, const png_pattern *p, int t, char *name, size_t size)
{
    char number[32];
    snprintf(number, sizeof number, "%0*d", p->width, t);
    size_t at = 0;
    name[0] = 0;
    append_unescaped(name, size, &at, out, (size_t)p->prefix_len);
    append_unescaped(name, size, &at, number, strlen(number));
    append_unescaped(name, size, &at, p->suffix, strlen(p->suffix));
}

static void usage(FILE *f)
{
    char model_default[1024];
    fprintf(f,
            "usage: worldkv-render [-o OUT] [OPTIONS]\n"
            "\n"
            "Generates a video with the world model, frame by frame, along an action script or\n"
            "camera path. With no options: world 1's start, the demo walk, worldkv.mp4.\n"
            "\n"
            "  -o, --out OUT        NAME.mp4, NAME.mkv, NAME.webm, NAME%%05d.png, or - (Matroska to\n"
            "                       stdout: worldkv-render -o - | ffplay -)   (default worldkv.mp4)\n"
            "                       MP4 is written fragmented, index first: a killed render still plays\n"
            "  --model FILE         model (default %s)\n"
            "  --start IMAGE        start from this image (any format FFmpeg reads)\n"
            "  --world-seed N       or from world N's true first frame (default 1)\n"
            "  --actions FILE       action script (docs/formats.md; default assets/paths/demo_walk.txt)\n"
            "  --path FILE          or a camera path (poses relative to the start)\n"
            "  --frames N           frames in the video, the start frame included (default: the script's\n"
            "                       actions + 1, or the path's keyframe span + 1; --stream: until Ctrl-C)\n"
            "  --fps N              frame rate of the video (default 20, the model's)\n"
            "  --seed S             noise seed (default 0): the same seed and actions give the same video\n"
            "  --steps N            denoising steps (default: the model's schedule; fewer is faster)\n"
            "  --crf N              quality (lower is better; default 23 for H.264, 32 for VP9)\n"
            "  --scale N            enlarge frames N times, nearest (default 4)\n"
            "  --side-by-side       the true render (from --world-seed) left of the model's frames\n"
            "  --stream             a file that plays while it grows; runs until Ctrl-C without --frames\n"
            "  --memory-slots M     size of the KV memory bank (default 32)\n"
            "  --memory-bits B      the bank's keys and values: 32 (float, default), 8 (int8) or 4 (int4):\n"
            "                       a slot in a third or a quarter of the bytes\n"
            "  --memory-host-mb N   a host memory tier of N MiB: slots the bank gives up wait there and\n"
            "                       come back when the camera returns (default 0: none; --save-world\n"
            "                       keeps it)\n"
            "  --backend B          auto, cpu or vulkan (default: $WORLDKV_BACKEND, else auto: a Vulkan GPU\n"
            "                       if there is one, else the native CPU kernels)\n"
            "  --save-world FILE    save the world (memory, pose, noise state) at the end\n"
            "  --load-world FILE    continue a saved world (same model and --memory-slots)\n"
            "  -q, --quiet          print nothing but errors\n"
            "  -h, --help           this help\n",
            asset_path("models/student.safetensors", model_default, sizeof model_default));
}

static const cli_option render_options[] = {
    {"--help", 'h', 0},  {"--version", 0, 0},      {"--quiet", 'q', 0},      {"--stream", 0, 0},
    {"--side-by-side", 0, 0}, {"--out", 'o', 1},   {"--model", 0, 1},        {"--start", 0, 1},
    {"--actions", 0, 1}, {"--path", 0, 1},         {"--save-world", 0, 1},   {"--load-world", 0, 1},
    {"--backend", 0, 1}, {"--frames", 0, 1},       {"--fps", 0, 1},          {"--steps", 0, 1},
    {"--crf", 0, 1},     {"--scale", 0, 1},        {"--memory-slots", 0, 1}, {"--seed", 0, 1},
    {"--world-seed", 0, 1}, {"--memory-bits", 0, 1}, {"--memory-host-mb", 0, 1},
};

static int parse(int argc, char **argv, opts *o)
{
    cli_args p;
    cli_args_init(&p, "worldkv-render", argc, argv, 1, render_options,
                  (int)(sizeof render_options / sizeof render_options[0]));
    const char *a, *v;
    int more;
    while ((more = cli_args_next_named(&p, &a, &v)) != 0) {
        if (more < 0)
            return 2;
        if (!strcmp(a, "--help")) {
            usage(stdout);
            return 1;
        } else if (!strcmp(a, "--version")) {
            printf("worldkv-render %s\n", WORLDKV_VERSION_STRING);
            return 1;
        } else if (!strcmp(a, "--quiet")) {
            o->quiet = 1;
        } else if (!strcmp(a, "--stream")) {
            o->stream = 1;
        } else if (!strcmp(a, "--side-by-side")) {
            o->side_by_side = 1;
        } else if (!strcmp(a, "--out")) {
            o->out = v;
        } else if (!strcmp(a, "--model")) {
            o->model = v;
        } else if (!strcmp(a, "--start")) {
            o->start = v;
        } else if (!strcmp(a, "--actions")) {
            o->actions = v;
        } else if (!strcmp(a, "--path")) {
            o->path = v;
        } else if (!strcmp(a, "--save-world")) {
            o->save = v;
        } else if (!strcmp(a, "--load-world")) {
            o->load = v;
        } else if (!strcmp(a, "--backend")) {
            if (!worldkv_backend_name_valid(v)) {
                fprintf(stderr, "worldkv-render: --backend expects auto, cpu or vulkan, got '%s'\n", v);
                return 2;
            }
            o->backend = v;
        } else {
            static const char *ints[] = {"--frames", "--fps",          "--steps",       "--crf",
                                         "--scale",  "--memory-slots", "--memory-bits", "--memory-host-mb"};
            int *dst[] = {&o->frames, &o->fps,          &o->steps,       &o->crf,
                          &o->scale,  &o->memory_slots, &o->memory_bits, &o->memory_host_mb};
            static const long long lo[] = {1, 1, 0, 0, 1, 1, 8, 0}, hi[] = {100000000, 240, 8, 63, 16, 256, 32, 1 << 20};
            long long x;
            int j = 0;
            while (j < 8 && strcmp(a, ints[j]))
                j++;
            if (j == 6 && cli_memory_bits("worldkv-render", v, &o->memory_bits) != 0)
                return 2;
            if (j < 8) {
                if (cli_whole("worldkv-render", a, v, lo[j], hi[j], &x) != 0)
                    return 2;
                *dst[j] = (int)x;
            } else {
                if (cli_whole("worldkv-render", a, v, 0, 1000000000000000000LL, &x) != 0)
                    return 2;
                *(!strcmp(a, "--seed") ? &o->seed : &o->world_seed) = (uint64_t)x;
            }
        }
    }
    if (o->actions && o->path) {
        fprintf(stderr, "worldkv-render: give --actions or --path, not both\n");
        return 2;
    }
    if (o->side_by_side && o->start) {
        fprintf(stderr, "worldkv-render: --side-by-side needs a world start (--world-seed), not --start\n");
        return 2;
    }
    o->png = o->out && png_pattern_parse(o->out, &o->png_name) == 0;
    if (o->out && strchr(o->out, '%') && !o->png) {
        fprintf(stderr, "worldkv-render: -o '%s': a PNG sequence needs one frame number, %%d or %%0Nd "
                        "(as in frame%%05d.png), and %%%% for a literal %%\n", o->out);
        return 2;
    }
    return 0;
}

int main(int argc, char **argv)
{
    opts o = {0};
    o.world_seed = 1;
    o.fps = 20;
    o.scale = 4;
    int rc = parse(argc, argv, &o);
    if (rc)
        return rc == 1 ? 0 : rc;
    /* before anything slow: a Ctrl-C during set-up must not be lost (shells
     * start background jobs with SIGINT ignored until a handler is set) */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    signal(SIGPIPE, SIG_IGN); /* a closed pipe is a write error we report */
    char err[1024], script_default[1024];
    asset_path("paths/demo_walk.txt", script_default, sizeof script_default);
    if (!o.out)
        o.out = "worldkv.mp4";
    action_script script = {0};
    camera_path cpath = {0};
    if (o.path ? script_load_path(o.path, &cpath, err, sizeof err)
               : script_load_actions(o.actions ? o.actions : script_default, &script, err, sizeof err)) {
        fprintf(stderr, "worldkv-render: %s\n", err);
        return 1;
    }
    if (o.path && cpath.total_frames == 1 && !o.frames && !o.stream) {
        fprintf(stderr, "worldkv-render: %s holds one keyframe (frame 0), which makes no video: add a later "
                        "keyframe, or give --frames N to hold that pose for N frames\n", o.path);
        return 1;
    }
    /* frames in the file, the start frame included (as ffmpeg's -frames:v counts); 0: until a signal */
    int frames = o.frames ? o.frames : (o.stream ? 0 : (o.path ? cpath.total_frames : script.total_frames + 1));
    int status = 1, png = o.png;
    /* before the model loads and the frames are made: outputs that cannot be
     * written fail now, not after a long run */
    char first_png[1200];
    if (png)
        png_pattern_name(o.out, &o.png_name, 0, first_png, sizeof first_png);
    if ((!png && venc_check_path(o.out, 1, err, sizeof err) != 0) ||
        (strcmp(o.out, "-") && file_check_writable(png ? first_png : o.out, err, sizeof err) != 0) ||
        (o.save && file_check_writable(o.save, err, sizeof err) != 0)) {
        fprintf(stderr, "worldkv-render: %s\n", err);
        return 1;
    }
    if (o.load && access(o.load, R_OK) != 0) {
        fprintf(stderr, "worldkv-render: cannot read snapshot %s: %s\n", o.load, strerror(errno));
        return 1;
    }
    app_start st = {0};
    worldkv_session *s = NULL;
    venc *v = NULL;
    uint8_t *gen = NULL, *truth = NULL, *canvas = NULL;
    worldkv_options wo;
    worldkv_options_init(&wo);
    wo.seed = o.seed;
    wo.steps = o.steps;
    wo.memory_slots = o.memory_slots;
    wo.memory_bits = o.memory_bits;
    wo.memory_host_mb = o.memory_host_mb;
    wo.backend = o.backend;
    if (app_start_prepare(o.model, o.start, o.world_seed, &st, &wo, err, sizeof err) != 0)
        goto fail_msg;
    world *w = st.world;
    int size = st.size;
    if (worldkv_session_create(&wo, &s, err, sizeof err) != 0)
        goto fail_msg;
    if (!o.quiet)
        fprintf(stderr, "worldkv-render: %s backend on %s (%s)\n", worldkv_session_backend_name(s),
                worldkv_session_device_name(s), worldkv_session_backend_reason(s));
    if (o.load && worldkv_session_load(s, o.load, err, sizeof err) != 0)
        goto fail_msg;
    int tile = size * o.scale, width = o.side_by_side ? 2 * tile : tile;
    gen = malloc((size_t)size * (size_t)size * 3);
    truth = malloc((size_t)size * (size_t)size * 3);
    canvas = malloc((size_t)width * (size_t)tile * 3);
    if (!gen || !truth || !canvas) {
        snprintf(err, sizeof err, "out of memory");
        goto fail_msg;
    }
    if (!png) {
        venc_options vo = {o.out, width, tile, o.fps, o.crf, o.stream || !strcmp(o.out, "-")};
        if (venc_open(&vo, &v, err, sizeof err) != 0)
            goto fail_msg;
    }
    progress bar;
    progress_begin(&bar, "render", "frames", frames ? frames : 1);
    if (o.quiet || !frames)
        bar.enabled = 0;
    float pose[5];
    memcpy(pose, wo.start_pose, sizeof pose);
    int written = 0;
    double t0 = progress_now_s(), status_shown = 0;
    /* an unlimited stream has no bar to fill: a live status line instead, on a terminal */
    int live_status = !frames && !o.quiet && isatty(STDERR_FILENO);
    /* a signal during set-up still writes the start frame: the file plays */
    for (int t = 0; (frames == 0 || t < frames) && (t == 0 || !g_stop); t++) {
        if (t == 0) {
            if (worldkv_session_last_rgb(s, gen, err, sizeof err) != 0)
                goto fail_msg;
        } else if (o.path) {
            cam_pose p = script_path_pose_at(&cpath, t);
            float rel[5] = {wo.start_pose[0] + p.x, p.y, wo.start_pose[2] + p.z, p.yaw, p.pitch};
            memcpy(pose, rel, sizeof pose);
            if (worldkv_session_step_to(s, pose, gen, err, sizeof err) != 0)
                goto fail_msg;
        } else {
            cam_action a = script_action_at(&script, (t - 1) % (script.total_frames ? script.total_frames : 1));
            float act[5] = {a.forward, a.strafe, a.turn, a.look, a.run};
            if (worldkv_session_step(s, act, gen, pose, err, sizeof err) != 0)
                goto fail_msg;
        }
        frame_blit_nearest(canvas, width, o.side_by_side ? tile : 0, gen, size, o.scale);
        if (o.side_by_side) {
            cam_pose p = {pose[0], pose[1], pose[2], pose[3], pose[4]};
            world_render(w, p, size, size, truth, NULL);
            frame_blit_nearest(canvas, width, 0, truth, size, o.scale);
        }
        if (png) {
            char name[1200];
            png_pattern_name(o.out, &o.png_name, t, name, sizeof name);
            if (image_write_png(name, canvas, width, tile, err, sizeof err) != 0)
                goto fail_msg;
        } else if (venc_write(v, canvas, err, sizeof err) != 0) {
            goto fail_msg;
        }
        written++;
        progress_update(&bar, t + 1);
        double now = progress_now_s();
        if (live_status && now - status_shown >= 0.5) {
            fprintf(stderr, "\rworldkv-render: %d frames in %.0f s (%.1f frames/s) to %s; Ctrl-C stops  ", written,
                    now - t0, written / (now - t0), o.out);
            status_shown = now;
        }
    }
    progress_end(&bar);
    if (status_shown > 0)
        fputc('\n', stderr);
    if (v) {
        int bad = venc_close(v, err, sizeof err);
        v = NULL;
        if (bad)
            goto fail_msg;
    }
    if (o.save && worldkv_session_save(s, o.save, err, sizeof err) != 0)
        goto fail_msg;
    double secs = progress_now_s() - t0;
    if (!o.quiet)
        fprintf(stderr, "worldkv-render: %d frames to %s in %.1f s (%.1f frames/s)%s\n", written, o.out, secs,
                secs > 0 ? written / secs : 0.0, g_stop ? ", stopped by a signal; the file is complete" : "");
    status = 0;
    goto done;
fail_msg:
    fprintf(stderr, "worldkv-render: %s\n", err);
    if (v) { /* finish what was written, so that it plays */
        char ignored[256];
        venc_close(v, ignored, sizeof ignored);
        v = NULL;
    }
done:
    venc_close(v, err, sizeof err);
    worldkv_session_destroy(s);
    app_start_free(&st);
    script_free_actions(&script);
    script_free_path(&cpath);
    free(gen), free(truth), free(canvas);
    return status;
}
