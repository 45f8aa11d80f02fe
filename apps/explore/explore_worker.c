#include "explore_worker.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "frame_scale.h"
#include "progress.h"
#include "video_encoder.h"

struct explore_worker {
    xw_config c;
    pthread_t thread;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    int thread_started;
    /* requests from the display thread */
    int quit, paused, want_save, want_load, want_record_toggle;
    char record_request[1024];
    int64_t shown_seq;
    /* what the display reads */
    xw_frame front;
    xw_status status;
    /* the generation thread's own */
    xw_frame back;
    venc *recorder;
    uint8_t *scaled;
    int64_t script_index;
    double fps_window_start;
    int fps_window_frames;
};

/* Called with the mutex held. */
__attribute__((format(printf, 2, 3))) static void set_message(explore_worker *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->status.message, sizeof w->status.message, fmt, ap);
    va_end(ap);
    w->status.message_at_s = progress_now_s();
}

int xw_frame_alloc(xw_frame *f, int size)
{
    memset(f, 0, sizeof *f);
    f->size = size;
    f->rgb = calloc((size_t)size * (size_t)size, 3);
    return f->rgb ? 0 : -1;
}

void xw_frame_free(xw_frame *f)
{
    free(f->rgb);
    f->rgb = NULL;
}

static void frame_copy(xw_frame *dst, const xw_frame *src)
{
    uint8_t *keep = dst->rgb;
    *dst = *src;
    dst->rgb = keep;
    memcpy(dst->rgb, src->rgb, (size_t)src->size * (size_t)src->size * 3);
}

/* The generation thread's side: the session is used from this thread only. */
static void fill_back(explore_worker *w)
{
    worldkv_session_get_stats(w->c.session, &w->back.stats);
    worldkv_session_get_pose(w->c.session, w->back.pose);
    w->back.frame = w->back.stats.frames - 1; /* the session counts the start frame: frame 0 here */
    w->back.slot_count = worldkv_session_memory_map(w->c.session, w->back.slots, XW_MAX_SLOTS);
    worldkv_session_host_tier(w->c.session, &w->back.host_slots, &w->back.host_capacity, &w->back.host_bytes, NULL,
                              NULL);
    w->back.stage_count = worldkv_session_stage_times(w->c.session, w->back.stages, 8);
}

static void publish(explore_worker *w)
{
    pthread_mutex_lock(&w->mutex);
    w->back.seq = w->front.seq + 1;
    frame_copy(&w->front, &w->back);
    if (w->c.max_frames && w->back.frame >= w->c.max_frames - 1)
        w->status.finished = 1;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mutex);
}

static void close_recording(explore_worker *w)
{
    if (!w->recorder)
        return;
    char err[512];
    int64_t n = venc_frames(w->recorder);
    int bad = venc_close(w->recorder, err, sizeof err);
    w->recorder = NULL;
    pthread_mutex_lock(&w->mutex);
    w->status.recording = 0;
    if (bad)
        set_message(w, "recording: %s (%lld frames kept)", err, (long long)n);
    else
        set_message(w, "recorded %lld frames to %s", (long long)n, w->status.recording_path);
    pthread_mutex_unlock(&w->mutex);
    fprintf(stderr, "worldkv-explore: %s\n", w->status.message);
}

static int write_recording(explore_worker *w, char *err, size_t n)
{
    frame_blit_nearest(w->scaled, w->back.size * w->c.record_scale, 0, w->back.rgb, w->back.size, w->c.record_scale);
    return venc_write(w->recorder, w->scaled, err, n);
}

static void open_recording(explore_worker *w, const char *path)
{
    char err[512];
    int big = w->back.size * w->c.record_scale;
    /* stream mode: a recording cut short (a crash, a lost device) still plays */
    venc_options vo = {path, big, big, 20, w->c.crf, 1};
    if (venc_open(&vo, &w->recorder, err, sizeof err) != 0) {
        pthread_mutex_lock(&w->mutex);
        set_message(w, "cannot record: %s", err);
        pthread_mutex_unlock(&w->mutex);
        fprintf(stderr, "worldkv-explore: cannot record: %s\n", err);
        return;
    }
    pthread_mutex_lock(&w->mutex);
    w->status.recording = 1;
    snprintf(w->status.recording_path, sizeof w->status.recording_path, "%s", path);
    set_message(w, "recording to %s", path);
    pthread_mutex_unlock(&w->mutex);
    /* the frame on screen is the recording's first */
    if (write_recording(w, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-explore: recording: %s\n", err);
        close_recording(w);
    }
}

static void fail(explore_worker *w, const char *what, const char *err)
{
    fprintf(stderr, "worldkv-explore: %s: %s\n", what, err);
    pthread_mutex_lock(&w->mutex);
    w->status.failed = 1;
    set_message(w, "%s: %s", what, err);
    pthread_mutex_unlock(&w->mutex);
}

static void handle_requests(explore_worker *w, int save, int load, int toggle, const char *record_path)
{
    char err[1024];
    if (toggle) {
        if (w->recorder)
            close_recording(w);
        else
            open_recording(w, record_path);
    }
    if (save) {
        int bad = worldkv_session_save(w->c.session, w->c.snapshot_path, err, sizeof err);
        pthread_mutex_lock(&w->mutex);
        if (bad)
            set_message(w, "snapshot not saved: %s", err);
        else
            set_message(w, "saved the world to %s", w->c.snapshot_path);
        pthread_mutex_unlock(&w->mutex);
        fprintf(stderr, "worldkv-explore: %s\n", w->status.message);
    }
    if (load) {
        /* a failed load leaves the session as it was (the engine checks the file first) */
        int bad = worldkv_session_load(w->c.session, w->c.snapshot_path, err, sizeof err) ||
                  worldkv_session_last_rgb(w->c.session, w->back.rgb, err, sizeof err);
        pthread_mutex_lock(&w->mutex);
        if (bad)
            set_message(w, "snapshot not loaded: %s", err);
        else
            set_message(w, "loaded the world from %s", w->c.snapshot_path);
        pthread_mutex_unlock(&w->mutex);
        fprintf(stderr, "worldkv-explore: %s\n", w->status.message);
        if (!bad) {
            fill_back(w);
            w->back.input_at_s = 0;
            publish(w);
        }
    }
}

static void sleep_until(double t_s)
{
    double now = progress_now_s();
    if (t_s <= now)
        return;
    double d = t_s - now;
    struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
    nanosleep(&ts, NULL);
}

static int step_once(explore_worker *w)
{
    char err[1024];
    float *a = w->back.action;
    if (w->c.script) {
        int total = w->c.script->total_frames ? w->c.script->total_frames : 1;
        cam_action ca = script_action_at(w->c.script, (int)(w->script_index++ % total));
        a[0] = ca.forward, a[1] = ca.strafe, a[2] = ca.turn, a[3] = ca.look, a[4] = ca.run;
        w->back.input_at_s = 0;
    } else {
        xin_take(w->c.input, a, &w->back.input_at_s);
    }
    if (worldkv_session_step(w->c.session, a, w->back.rgb, NULL, err, sizeof err) != 0) {
        fail(w, "the model stopped", err);
        close_recording(w);
        return -1;
    }
    if (w->recorder && write_recording(w, err, sizeof err) != 0) {
        fprintf(stderr, "worldkv-explore: recording stopped: %s\n", err);
        close_recording(w);
    }
    double now = progress_now_s();
    w->fps_window_frames++;
    if (now - w->fps_window_start >= 1.0) {
        w->back.gen_fps = w->fps_window_frames / (now - w->fps_window_start);
        w->fps_window_start = now;
        w->fps_window_frames = 0;
    }
    fill_back(w);
    publish(w);
    return 0;
}

static void *run(void *arg)
{
    explore_worker *w = arg;
    double next_due = progress_now_s();
    w->fps_window_start = next_due;
    pthread_mutex_lock(&w->mutex);
    for (;;) {
        if (w->quit)
            break;
        int save = w->want_save, load = w->want_load, toggle = w->want_record_toggle;
        char path[1024];
        snprintf(path, sizeof path, "%s", w->record_request);
        w->want_save = w->want_load = w->want_record_toggle = 0;
        if (save || load || toggle) {
            pthread_mutex_unlock(&w->mutex);
            handle_requests(w, save, load, toggle, path);
            pthread_mutex_lock(&w->mutex);
            continue;
        }
        int waiting_for_display = w->c.lockstep && w->shown_seq < w->front.seq;
        if (w->paused || w->status.failed || w->status.finished || waiting_for_display) {
            pthread_cond_wait(&w->wake, &w->mutex);
            next_due = progress_now_s();
            continue;
        }
        pthread_mutex_unlock(&w->mutex);
        if (w->c.fps_cap > 0) { /* no faster than the world's clock */
            sleep_until(next_due);
            double now = progress_now_s();
            next_due = (now - next_due > 0.25 ? now : next_due) + 1.0 / w->c.fps_cap;
        }
        step_once(w);
        pthread_mutex_lock(&w->mutex);
    }
    pthread_mutex_unlock(&w->mutex);
    close_recording(w);
    return NULL;
}

int xw_start(const xw_config *c, explore_worker **out, char *err, size_t n)
{
    explore_worker *w = calloc(1, sizeof *w);
    int size = worldkv_session_image_size(c->session);
    if (!w) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    w->c = *c;
    if (w->c.record_scale < 1)
        w->c.record_scale = 4;
    size_t big = (size_t)size * (size_t)w->c.record_scale;
    if (xw_frame_alloc(&w->front, size) || xw_frame_alloc(&w->back, size) || !(w->scaled = malloc(big * big * 3))) {
        snprintf(err, n, "out of memory");
        xw_frame_free(&w->front), xw_frame_free(&w->back), free(w);
        return -1;
    }
    if (worldkv_session_last_rgb(c->session, w->back.rgb, err, n) != 0) {
        xw_frame_free(&w->front), xw_frame_free(&w->back), free(w->scaled), free(w);
        return -1;
    }
    fill_back(w);
    frame_copy(&w->front, &w->back);
    if (w->c.max_frames == 1) /* the start frame alone */
        w->status.finished = 1;
    pthread_mutex_init(&w->mutex, NULL);
    pthread_cond_init(&w->wake, NULL);
    w->shown_seq = -1; /* lockstep: the start frame must be shown first */
    if (c->record_path)
        open_recording(w, c->record_path);
    if (pthread_create(&w->thread, NULL, run, w) != 0) {
        snprintf(err, n, "cannot start the generation thread");
        xw_stop(w);
        return -1;
    }
    w->thread_started = 1;
    *out = w;
    return 0;
}

void xw_stop(explore_worker *w)
{
    if (!w)
        return;
    if (w->thread_started) {
        pthread_mutex_lock(&w->mutex);
        w->quit = 1;
        pthread_cond_broadcast(&w->wake);
        pthread_mutex_unlock(&w->mutex);
        pthread_join(w->thread, NULL);
    }
    close_recording(w);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->mutex);
    free(w->scaled);
    xw_frame_free(&w->back);
    xw_frame_free(&w->front);
    free(w);
}

static void poke(explore_worker *w, int *flag, int value)
{
    pthread_mutex_lock(&w->mutex);
    *flag = value;
    pthread_cond_broadcast(&w->wake);
    pthread_mutex_unlock(&w->mutex);
}

void xw_set_paused(explore_worker *w, int paused)
{
    poke(w, &w->paused, paused);
    pthread_mutex_lock(&w->mutex);
    w->status.paused = paused;
    pthread_mutex_unlock(&w->mutex);
}

void xw_toggle_recording(explore_worker *w, const char *path)
{
    pthread_mutex_lock(&w->mutex);
    snprintf(w->record_request, sizeof w->record_request, "%s", path ? path : "");
    pthread_mutex_unlock(&w->mutex);
    poke(w, &w->want_record_toggle, 1);
}

void xw_request_save(explore_worker *w)
{
    poke(w, &w->want_save, 1);
}

void xw_request_load(explore_worker *w)
{
    poke(w, &w->want_load, 1);
}

int xw_latest(explore_worker *w, xw_frame *dst, int64_t have)
{
    pthread_mutex_lock(&w->mutex);
    int newer = w->front.seq > have || (have < 0);
    if (newer)
        frame_copy(dst, &w->front);
    pthread_mutex_unlock(&w->mutex);
    return newer;
}

void xw_mark_shown(explore_worker *w, int64_t seq)
{
    pthread_mutex_lock(&w->mutex);
    if (seq > w->shown_seq) {
        w->shown_seq = seq;
        pthread_cond_broadcast(&w->wake);
    }
    pthread_mutex_unlock(&w->mutex);
}

void xw_get_status(explore_worker *w, xw_status *out)
{
    pthread_mutex_lock(&w->mutex);
    *out = w->status;
    pthread_mutex_unlock(&w->mutex);
}
