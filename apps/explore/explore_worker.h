/* explore_worker: the generation thread. It owns the session and the
 * recording: it takes an action when a frame starts (from the keyboard and
 * mouse, or from a script), steps the model, writes the frame to the
 * recording, and publishes it for the display. The display thread never
 * waits on the model, so input and the window never freeze. */
#ifndef WORLDKV_EXPLORE_WORKER_H
#define WORLDKV_EXPLORE_WORKER_H

#include <stddef.h>
#include <stdint.h>

#include "explore_input.h"
#include "script.h"
#include "worldkv.h"

#define XW_MAX_SLOTS 4096 /* bank and host tier slots the map shows */

typedef struct xw_config {
    worldkv_session *session;
    xin_state *input;
    const action_script *script; /* non-NULL: actions come from here, not the input */
    int64_t max_frames;          /* frames in all, the start frame (0) included; 0: run until quit */
    double fps_cap;              /* 0: as fast as the model runs */
    int lockstep;                /* wait until each frame is shown (headless runs: every frame shown once) */
    int record_scale;            /* recordings enlarge frames this many times */
    int crf;
    const char *snapshot_path;   /* F5 / F9 */
    const char *record_path;     /* non-NULL: record from the start frame on */
} xw_config;

/* One published frame and what the HUD shows about it. */
typedef struct xw_frame {
    int64_t seq;          /* increases with every publish (a snapshot load may lower `frame`) */
    int64_t frame;
    int size;
    uint8_t *rgb;         /* size x size RGB8 */
    float pose[5];
    float action[5];
    double input_at_s;    /* when the input this frame answers first changed; 0: none */
    worldkv_stats stats;
    worldkv_slot slots[XW_MAX_SLOTS];
    int slot_count;
    int host_slots, host_capacity; /* the host tier (0 and 0 without one) */
    uint64_t host_bytes;
    worldkv_stage_time stages[8];  /* device ms per stage (--profile) */
    int stage_count;
    double gen_fps;       /* generated frames per second over the last second */
} xw_frame;

typedef struct xw_status {
    int paused, recording, failed, finished;
    char recording_path[1024];
    char message[512];    /* the last event worth showing (saved, loaded, an error) */
    double message_at_s;
} xw_status;

typedef struct explore_worker explore_worker;

int xw_start(const xw_config *c, explore_worker **out, char *err, size_t err_size);
/* Stops the thread and finishes the recording (the file plays). */
void xw_stop(explore_worker *w);
void xw_set_paused(explore_worker *w, int paused);
/* Starts recording to path, or stops the recording that is running. */
void xw_toggle_recording(explore_worker *w, const char *path);
void xw_request_save(explore_worker *w);
void xw_request_load(explore_worker *w);
/* Copies the newest frame into dst if its seq is above have; returns 1 if it did. */
int xw_latest(explore_worker *w, xw_frame *dst, int64_t have);
/* The display has shown seq (lockstep runs go on from here). */
void xw_mark_shown(explore_worker *w, int64_t seq);
void xw_get_status(explore_worker *w, xw_status *out);
int xw_frame_alloc(xw_frame *f, int size);
void xw_frame_free(xw_frame *f);

#endif
