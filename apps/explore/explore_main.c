/* worldkv-explore: walk through a generated world live, with the keyboard
 * and mouse. The model runs on its own thread (explore_worker); this thread
 * handles input and draws, so the window never freezes. Headless runs
 * (--script, --frames, --screenshot-at) drive it for tests and demos. */
#include <SDL.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "app_start.h"
#include "cli_args.h"
#include "cli_number.h"
#include "explore_hud.h"
#include "explore_input.h"
#include "explore_worker.h"
#include "image_io.h"
#include "proc_memory.h"
#include "progress.h"
#include "script.h"
#include "video_encoder.h"
#include "worldkv.h"

#define MAX_SHOTS 512

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

typedef struct opts {
    const char *model, *start, *script, *record, *out_dir, *snapshot, *filter, *device, *backend;
    uint64_t world_seed, noise_seed;
    int steps, frames, width, height, memory_slots, memory_bits, memory_host_mb, record_scale, crf, no_hud, full_hud, help_at_start, profile;
    double fps, mouse;
    int64_t shots[MAX_SHOTS];
    int shot_count;
} opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: worldkv-explore [OPTIONS]\n"
            "\n"
            "Walk through a world the model generates as you go. With no options: the shipped\n"
            "model, world 1's start, a 512x512 window.\n"
            "\n"
            "Keys: W/S walk, A/D step sideways, Left/Right turn, Up/Down look, mouse turns and\n"
            "looks (click the window or press M to capture it), Shift runs, Space pauses,\n"
            "R records, P takes a screenshot, F5/F9 save/load the world, F switches nearest or\n"
            "smooth scaling, Tab the HUD (compact, full, off), F1 help, Esc quits.\n"
            "\n"
            "  --model FILE          model (default: the shipped assets/models/student.safetensors)\n"
            "  --start IMAGE         start from this image (any format FFmpeg reads)\n"
            "  --seed N              or from world N's true first frame (default 1; also --world-seed)\n"
            "  --noise-seed S        the sampler's seed (default 0)\n"
            "  --steps N             denoising steps (default: the model's schedule; fewer is faster)\n"
            "  --size WxH            window size (default 512x512; the model makes 64x64 frames)\n"
            "  --filter MODE         nearest or linear scaling of the frame (default nearest)\n"
            "  --fps N               at most N frames a second, the world's clock (default 20; 0: no limit)\n"
            "  --mouse DEG           degrees of turn per pixel of mouse motion (default 0.15)\n"
            "  --memory-slots M      size of the KV memory bank (default 32)\n"
            "  --memory-bits B       the bank's keys and values: 32 (float, default), 8 or 4\n"
            "  --memory-host-mb N    a host memory tier of N MiB for slots the bank gives up (default 0)\n"
            "  --record FILE         record from the start (.mp4, .mkv or .webm; R stops and starts)\n"
            "  --record-scale N      recordings enlarge frames N times (default 4)\n"
            "  --crf N               recording quality, lower is better (default 23)\n"
            "  --out-dir DIR         where R, P and F5 write (default: the current directory)\n"
            "  --snapshot FILE       the world snapshot F5 writes and F9 reads (default OUT-DIR/worldkv.world)\n"
            "  --device NAME         Vulkan device index or name (default: the best one)\n"
            "  --backend B           auto, cpu or vulkan (default: $WORLDKV_BACKEND, else auto: a Vulkan GPU\n"
            "                        if there is one, else the native CPU kernels)\n"
            "  --script FILE         headless: actions from this script (docs/formats.md), not the keys\n"
            "  --frames N            quit when N frames, the start frame included, have been shown (with\n"
            "                        --script: default the script's actions + 1)\n"
            "  --screenshot-at LIST  PNG screenshots when frames N,M,... are on screen\n"
            "  --no-hud              start with the HUD hidden (Tab cycles: compact, full, off)\n"
            "  --full-hud            start with the full HUD (every figure and the memory map)\n"
            "  --help-at-start       start with the help page shown\n"
            "  --profile             time the device's stages for the HUD (costs about 13%% speed)\n"
            "  -h, --help            this help\n");
}

static int parse_number(const char *opt, const char *v, double lo, double hi, double *out)
{
    return cli_real("worldkv-explore", opt, v, lo, hi, out);
}

/* Options that count (seeds, steps, frames) take whole numbers only. */
static int parse_whole(const char *opt, const char *v, long long lo, long long hi, double *out)
{
    long long x;
    if (cli_whole("worldkv-explore", opt, v, lo, hi, &x) != 0)
        return -1;
    *out = (double)x;
    return 0;
}

static int parse_shots(const char *v, opts *o)
{
    const char *p = v;
    while (*p) {
        char *end;
        long long x = strtoll(p, &end, 10);
        if (end == p || x < 0 || (*end && *end != ',') || o->shot_count == MAX_SHOTS) {
            fprintf(stderr, "worldkv-explore: --screenshot-at expects up to %d frame numbers like 0,10,40, got '%s'\n",
                    MAX_SHOTS, v);
            return -1;
        }
        o->shots[o->shot_count++] = x;
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* The flags first, then the options with values in the order parse() switches on. */
static const cli_option explore_options[] = {
    {"--help", 'h', 0},     {"--version", 0, 0},  {"--no-hud", 0, 0},       {"--profile", 0, 0},
    {"--help-at-start", 0, 0}, {"--full-hud", 0, 0},
    {"--model", 0, 1},      {"--start", 0, 1},    {"--seed", 0, 1},         {"--world-seed", 0, 1},
    {"--noise-seed", 0, 1}, {"--steps", 0, 1},    {"--size", 0, 1},         {"--filter", 0, 1},
    {"--fps", 0, 1},        {"--mouse", 0, 1},    {"--memory-slots", 0, 1}, {"--record", 0, 1},
    {"--record-scale", 0, 1}, {"--crf", 0, 1},    {"--out-dir", 0, 1},      {"--snapshot", 0, 1},
    {"--device", 0, 1},     {"--script", 0, 1},   {"--frames", 0, 1},       {"--screenshot-at", 0, 1},
    {"--backend", 0, 1},    {"--memory-bits", 0, 1}, {"--memory-host-mb", 0, 1},
};
enum { EXPLORE_FLAGS = 6 };
enum { HUD_OFF, HUD_COMPACT, HUD_FULL };

static int parse(int argc, char **argv, opts *o)
{
    cli_args p;
    cli_args_init(&p, "worldkv-explore", argc, argv, 1, explore_options,
                  (int)(sizeof explore_options / sizeof explore_options[0]));
    const char *a, *v;
    int more;
    while ((more = cli_args_next_named(&p, &a, &v)) != 0) {
        if (more < 0)
            return 2;
        int k = 0;
        while (strcmp(explore_options[k].name, a))
            k++;
        if (k == 0) {
            usage(stdout);
            return 1;
        }
        if (k == 1) {
            printf("worldkv-explore %s\n", WORLDKV_VERSION_STRING);
            return 1;
        }
        if (k >= 2 && k < EXPLORE_FLAGS) {
            *(k == 2 ? &o->no_hud : k == 3 ? &o->profile : k == 4 ? &o->help_at_start : &o->full_hud) = 1;
            continue;
        }
        k -= EXPLORE_FLAGS;
        double x = 0;
        int bad = 0;
        switch (k) {
        case 0: o->model = v; break;
        case 1: o->start = v; break;
        case 2:
        case 3: bad = parse_whole(a, v, 0, 1000000000000000LL, &x), o->world_seed = (uint64_t)x; break;
        case 4: bad = parse_whole(a, v, 0, 1000000000000000LL, &x), o->noise_seed = (uint64_t)x; break;
        case 5: bad = parse_whole(a, v, 0, 8, &x), o->steps = (int)x; break;
        case 6:
            if (sscanf(v, "%dx%d", &o->width, &o->height) != 2 || o->width < 64 || o->height < 64 ||
                o->width > 8192 || o->height > 8192) {
                fprintf(stderr, "worldkv-explore: --size expects WIDTHxHEIGHT from 64x64 to 8192x8192, got '%s'\n", v);
                bad = 1;
            }
            break;
        case 7:
            if (strcmp(v, "nearest") && strcmp(v, "linear")) {
                fprintf(stderr, "worldkv-explore: --filter expects nearest or linear, got '%s'\n", v);
                bad = 1;
            }
            o->filter = v;
            break;
        case 8: bad = parse_number(a, v, 0, 1000, &o->fps); break;
        case 9: bad = parse_number(a, v, 0.001, 10, &o->mouse); break;
        case 10: bad = parse_whole(a, v, 1, 256, &x), o->memory_slots = (int)x; break;
        case 11: o->record = v; break;
        case 12: bad = parse_whole(a, v, 1, 16, &x), o->record_scale = (int)x; break;
        case 13: bad = parse_whole(a, v, 0, 63, &x), o->crf = (int)x; break;
        case 14: o->out_dir = v; break;
        case 15: o->snapshot = v; break;
        case 16: o->device = v; break;
        case 17: o->script = v; break;
        case 18: bad = parse_whole(a, v, 1, 1000000000, &x), o->frames = (int)x; break;
        case 19: bad = parse_shots(v, o); break;
        case 20:
            if (!worldkv_backend_name_valid(v)) {
                fprintf(stderr, "worldkv-explore: --backend expects auto, cpu or vulkan, got '%s'\n", v);
                bad = 1;
            }
            o->backend = v;
            break;
        case 21:
            bad = cli_memory_bits("worldkv-explore", v, &o->memory_bits);
            break;
        case 22: bad = parse_whole(a, v, 0, 1 << 20, &x), o->memory_host_mb = (int)x; break;
        }
        if (bad)
            return 2;
    }
    return 0;
}

/* A name in the output folder that does not exist yet: PREFIX-YYYYmmdd-HHMMSS[-n].EXT */
static void fresh_name(const opts *o, const char *prefix, const char *ext, char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tmv;
    localtime_r(&now, &tmv);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tmv);
    struct stat sb;
    for (int i = 0; i < 1000; i++) {
        if (i == 0)
            snprintf(out, n, "%s/%s-%s.%s", o->out_dir, prefix, stamp, ext);
        else
            snprintf(out, n, "%s/%s-%s-%d.%s", o->out_dir, prefix, stamp, i, ext);
        if (stat(out, &sb) != 0)
            return;
    }
}

typedef struct app {
    opts o;
    SDL_Window *window;
    SDL_Renderer *renderer;
    SDL_Texture *texture;
    xin_state input;
    int input_ready;
    explore_worker *worker;
    xw_frame shown;
    int hud, help, nearest, mouse_captured, want_shot; /* hud: HUD_OFF, HUD_COMPACT or HUD_FULL */
    double latency_sum_ms, latency_max_ms, rss_mib, resumed_at;
    int64_t latency_count, displayed, shots_written;
    char device[128]; /* "backend: device" for the HUD */
} app;

static int screenshot(app *ap, const char *path)
{
    int w, h;
    char err[512];
    SDL_GetRendererOutputSize(ap->renderer, &w, &h);
    uint8_t *px = malloc((size_t)w * (size_t)h * 3);
    if (!px || SDL_RenderReadPixels(ap->renderer, NULL, SDL_PIXELFORMAT_RGB24, px, w * 3) != 0) {
        fprintf(stderr, "worldkv-explore: screenshot failed: %s\n", px ? SDL_GetError() : "out of memory");
        free(px);
        return -1;
    }
    int bad = image_write_png(path, px, w, h, err, sizeof err);
    free(px);
    if (bad) {
        fprintf(stderr, "worldkv-explore: screenshot: %s\n", err);
        return -1;
    }
    const float *q = ap->shown.pose;
    fprintf(stderr, "worldkv-explore: screenshot %s (frame %lld, pose x %.3f z %.3f yaw %.2f pitch %.2f)\n", path,
            (long long)ap->shown.frame, q[0], q[2], q[3], q[4]);
    ap->shots_written++;
    return 0;
}

static void draw(app *ap, const xw_status *st, double display_fps, int new_frame)
{
    int w, h;
    SDL_GetRendererOutputSize(ap->renderer, &w, &h);
    SDL_SetRenderDrawColor(ap->renderer, 0, 0, 0, 255);
    SDL_RenderClear(ap->renderer);
    int side = SDL_min(w, h);
    SDL_Rect dst = {(w - side) / 2, (h - side) / 2, side, side};
    SDL_RenderCopy(ap->renderer, ap->texture, NULL, &dst);
    hud_info info = {&ap->shown, st, display_fps,
                     ap->latency_count ? ap->latency_sum_ms / (double)ap->latency_count : 0, ap->latency_max_ms,
                     ap->rss_mib, ap->device, ap->nearest ? "nearest" : "smooth", progress_now_s()};
    if (ap->help) /* the help page alone: nothing under it */
        hud_help(ap->renderer, w, h);
    else if (ap->hud)
        hud_draw(ap->renderer, w, h, &info, ap->hud == HUD_FULL);
    hud_status(ap->renderer, w, h, &info);
    /* screenshots read the drawn picture, before it is presented */
    int at_frame = 0;
    for (int i = 0; new_frame && i < ap->o.shot_count; i++)
        at_frame |= ap->o.shots[i] == ap->shown.frame;
    if (ap->want_shot || at_frame) {
        char path[1200];
        if (at_frame)
            snprintf(path, sizeof path, "%s/shot-%05lld.png", ap->o.out_dir, (long long)ap->shown.frame);
        else
            fresh_name(&ap->o, "worldkv-shot", "png", path, sizeof path);
        screenshot(ap, path);
        ap->want_shot = 0;
    }
    SDL_RenderPresent(ap->renderer);
}

static void set_capture(app *ap, int on)
{
    ap->mouse_captured = on && SDL_SetRelativeMouseMode(on ? SDL_TRUE : SDL_FALSE) == 0;
    if (!on)
        SDL_SetRelativeMouseMode(SDL_FALSE);
}

static int handle_event(app *ap, const SDL_Event *e, double now)
{
    switch (e->type) {
    case SDL_QUIT: return 1;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_FOCUS_LOST) {
            xin_release_all(&ap->input, now);
            set_capture(ap, 0);
        } else if (e->window.event == SDL_WINDOWEVENT_CLOSE) {
            return 1;
        }
        break;
    case SDL_MOUSEBUTTONDOWN:
        if (!ap->mouse_captured && e->button.button == SDL_BUTTON_LEFT)
            set_capture(ap, 1);
        break;
    case SDL_MOUSEMOTION:
        if (ap->mouse_captured)
            xin_mouse(&ap->input, (float)e->motion.xrel, (float)e->motion.yrel, now);
        break;
    case SDL_KEYUP:
    case SDL_KEYDOWN: {
        int key = xin_key_for_scancode(e->key.keysym.scancode);
        if (key >= 0) {
            xin_key(&ap->input, (xin_key_id)key, e->type == SDL_KEYDOWN, now);
            break;
        }
        if (e->type != SDL_KEYDOWN || e->key.repeat)
            break;
        xw_status st;
        xw_get_status(ap->worker, &st);
        switch (e->key.keysym.scancode) {
        case SDL_SCANCODE_ESCAPE: return 1;
        case SDL_SCANCODE_SPACE:
            xw_set_paused(ap->worker, !st.paused);
            ap->resumed_at = now; /* time spent paused is not latency */
            break;
        case SDL_SCANCODE_TAB: ap->hud = (ap->hud + 1) % 3; break; /* compact, full, off */
        case SDL_SCANCODE_F1: ap->help = !ap->help; break;
        case SDL_SCANCODE_P: ap->want_shot = 1; break;
        case SDL_SCANCODE_F5: xw_request_save(ap->worker); break;
        case SDL_SCANCODE_F9: xw_request_load(ap->worker); break;
        case SDL_SCANCODE_M: set_capture(ap, !ap->mouse_captured); break;
        case SDL_SCANCODE_F:
            ap->nearest = !ap->nearest;
            SDL_SetTextureScaleMode(ap->texture, ap->nearest ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
            break;
        case SDL_SCANCODE_R: {
            char path[1200];
            fresh_name(&ap->o, "worldkv-rec", "mp4", path, sizeof path);
            xw_toggle_recording(ap->worker, path);
            break;
        }
        default: break;
        }
        break;
    }
    default: break;
    }
    return 0;
}

static int run_loop(app *ap)
{
    double fps_t0 = progress_now_s(), display_fps = 0;
    int fps_frames = 0, status = 0;
    xw_status st;
    for (;;) {
        double now = progress_now_s();
        SDL_Event e;
        int quit = 0;
        while (SDL_PollEvent(&e))
            quit |= handle_event(ap, &e, now);
        if (quit || g_stop)
            break;
        int new_frame = xw_latest(ap->worker, &ap->shown, ap->shown.seq);
        if (new_frame)
            SDL_UpdateTexture(ap->texture, NULL, ap->shown.rgb, ap->shown.size * 3);
        xw_get_status(ap->worker, &st);
        draw(ap, &st, display_fps, new_frame);
        now = progress_now_s();
        if (new_frame) {
            ap->displayed++;
            if (ap->shown.input_at_s > ap->resumed_at) { /* input change to the photon, as near as software sees it */
                double ms = (now - ap->shown.input_at_s) * 1000.0;
                ap->latency_sum_ms += ms;
                ap->latency_max_ms = SDL_max(ap->latency_max_ms, ms);
                ap->latency_count++;
            }
            xw_mark_shown(ap->worker, ap->shown.seq);
        }
        fps_frames++;
        if (now - fps_t0 >= 1.0) {
            display_fps = fps_frames / (now - fps_t0);
            long rss_kb;
            proc_memory_kb(&rss_kb, NULL);
            ap->rss_mib = rss_kb > 0 ? (double)rss_kb / 1024.0 : 0;
            fps_t0 = now, fps_frames = 0;
        }
        if (st.finished && ap->o.frames && ap->shown.frame >= ap->o.frames - 1)
            break;
        if (st.failed && ap->o.script) { /* headless: nobody to read the message */
            status = 1;
            break;
        }
        SDL_Delay(8); /* about 100 redraws a second at most, without vsync */
    }
    return status;
}

static int check_out_dir(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(stderr, "worldkv-explore: --out-dir %s: not a folder\n", dir);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    app ap = {0};
    opts *o = &ap.o;
    o->world_seed = 1;
    o->width = o->height = 512;
    o->fps = 20;
    o->mouse = 0.15;
    o->record_scale = 4;
    o->out_dir = ".";
    o->filter = "nearest";
    int rc = parse(argc, argv, o);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (check_out_dir(o->out_dir))
        return 2;
    char err[1024], snapshot_default[1200];
    if (o->record && venc_check_path(o->record, 0, err, sizeof err) != 0) { /* before a window opens */
        fprintf(stderr, "worldkv-explore: --record %s\n", err);
        return 2;
    }
    snprintf(snapshot_default, sizeof snapshot_default, "%s/worldkv.world", o->out_dir);
    action_script script = {0};
    if (o->script && script_load_actions(o->script, &script, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-explore: %s\n", err);
        return 1;
    }
    int status = 1;
    app_start start = {0};
    worldkv_session *session = NULL;
    worldkv_options wo;
    worldkv_options_init(&wo);
    wo.seed = o->noise_seed;
    wo.steps = o->steps;
    wo.memory_slots = o->memory_slots;
    wo.memory_bits = o->memory_bits;
    wo.memory_host_mb = o->memory_host_mb;
    wo.device = o->device;
    wo.backend = o->backend;
    wo.profile = o->profile;
    /* our own handlers, before anything slow: shells start background jobs
     * with SIGINT ignored, and SDL then leaves it ignored */
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    SDL_SetHint(SDL_HINT_NO_SIGNAL_HANDLERS, "1");
    if (SDL_Init(SDL_INIT_VIDEO) != 0) {
        fprintf(stderr, "worldkv-explore: cannot open a window: %s (is DISPLAY set? under no display, run it "
                        "with xvfb-run)\n", SDL_GetError());
        script_free_actions(&script);
        return 1;
    }
    const char *driver = SDL_GetCurrentVideoDriver();
    if (driver && (!strcmp(driver, "offscreen") || !strcmp(driver, "dummy"))) {
        if (!o->script && !o->frames) { /* an invisible window nobody can quit */
            fprintf(stderr, "worldkv-explore: no display to open a window on (SDL fell back to its '%s' driver): "
                            "set DISPLAY, run it under xvfb-run, or run headless with --script or --frames\n", driver);
            SDL_Quit();
            script_free_actions(&script);
            return 1;
        }
        fprintf(stderr, "worldkv-explore: no display: running headless on SDL's '%s' driver\n", driver);
    }
    ap.window = SDL_CreateWindow("worldkv-explore", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, o->width,
                                 o->height, SDL_WINDOW_RESIZABLE);
    if (ap.window)
        ap.renderer = SDL_CreateRenderer(ap.window, -1, 0);
    if (!ap.renderer) {
        snprintf(err, sizeof err, "cannot open a window: %s", SDL_GetError());
        goto fail;
    }
    /* show something while the model loads */
    SDL_SetRenderDrawColor(ap.renderer, 0, 0, 0, 255);
    SDL_RenderClear(ap.renderer);
    hud_text(ap.renderer, 20, o->height / 2, 3, (SDL_Color){235, 235, 235, 255}, "LOADING THE MODEL...");
    SDL_RenderPresent(ap.renderer);
    if (app_start_prepare(o->model, o->start, o->world_seed, &start, &wo, err, sizeof err) != 0 ||
        worldkv_session_create(&wo, &session, err, sizeof err) != 0)
        goto fail;
    snprintf(ap.device, sizeof ap.device, "%s: %s", worldkv_session_backend_name(session),
             worldkv_session_device_name(session));
    fprintf(stderr, "worldkv-explore: %s backend on %s (%s)\n", worldkv_session_backend_name(session),
            worldkv_session_device_name(session), worldkv_session_backend_reason(session));
    ap.texture = SDL_CreateTexture(ap.renderer, SDL_PIXELFORMAT_RGB24, SDL_TEXTUREACCESS_STREAMING, start.size,
                                   start.size);
    if (!ap.texture || xw_frame_alloc(&ap.shown, start.size) != 0) {
        snprintf(err, sizeof err, "cannot make the frame texture: %s", SDL_GetError());
        goto fail;
    }
    ap.nearest = !strcmp(o->filter, "nearest");
    SDL_SetTextureScaleMode(ap.texture, ap.nearest ? SDL_ScaleModeNearest : SDL_ScaleModeLinear);
    ap.hud = o->no_hud ? HUD_OFF : o->full_hud ? HUD_FULL : HUD_COMPACT;
    ap.help = o->help_at_start;
    ap.shown.seq = -1;
    if (xin_init(&ap.input, (float)o->mouse) != 0) {
        snprintf(err, sizeof err, "cannot set up input");
        goto fail;
    }
    ap.input_ready = 1;
    if (o->script && !o->frames) /* a script run ends with the script */
        o->frames = script.total_frames + 1;
    xw_config c = {session, &ap.input, o->script ? &script : NULL, o->frames, o->fps, o->script != NULL,
                   o->record_scale, o->crf, o->snapshot ? o->snapshot : snapshot_default, o->record};
    if (xw_start(&c, &ap.worker, err, sizeof err) != 0)
        goto fail;
    double t0 = progress_now_s();
    status = run_loop(&ap);
    double secs = progress_now_s() - t0;
    xw_stop(ap.worker); /* finishes the recording */
    ap.worker = NULL;
    fprintf(stderr,
            "worldkv-explore: %lld frames in %.1f s (%.2f frames/s generated and shown); input to screen %.0f ms "
            "mean, %.0f ms max over %lld inputs; %lld screenshots\n",
            (long long)ap.shown.frame + 1, secs, secs > 0 ? (double)ap.displayed / secs : 0.0,
            ap.latency_count ? ap.latency_sum_ms / (double)ap.latency_count : 0.0, ap.latency_max_ms,
            (long long)ap.latency_count, (long long)ap.shots_written);
    if (ap.o.shot_count && ap.shots_written < ap.o.shot_count) {
        fprintf(stderr, "worldkv-explore: %lld of %d screenshots were not written\n", (long long)ap.shots_written,
                ap.o.shot_count);
        status = 1;
    }
    goto done;
fail:
    fprintf(stderr, "worldkv-explore: %s\n", err);
    status = 1;
done:
    xw_stop(ap.worker);
    if (ap.input_ready)
        xin_destroy(&ap.input);
    xw_frame_free(&ap.shown);
    if (ap.texture)
        SDL_DestroyTexture(ap.texture);
    worldkv_session_destroy(session);
    app_start_free(&start);
    if (ap.renderer)
        SDL_DestroyRenderer(ap.renderer);
    if (ap.window)
        SDL_DestroyWindow(ap.window);
    SDL_Quit();
    script_free_actions(&script);
    return status;
}
