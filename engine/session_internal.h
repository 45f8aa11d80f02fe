/* The session's state, shared by session.c and snapshot.c. */
#ifndef WORLDKV_SESSION_INTERNAL_H
#define WORLDKV_SESSION_INTERNAL_H

#include "backend.h"
#include "kv_memory.h"
#include "model_config.h"
#include "safetensors.h"
#include "student.h"
#include "worldkv.h"

#define WORLDKV_MAX_STAGES 16

/* Writes the message and returns status (a worldkv_status). */
int session_fail(int status, char *err, size_t err_size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* Checks a pose the API is given (finite, in range, pitch within its limit). */
int session_check_pose(const float pose[5], const char *what, char *err, size_t err_size);
/* Copies the newest frame in the memory into the readout (after a load). */
int session_refresh_last_frame(worldkv_session *s, char *err, size_t err_size);

struct worldkv_session {
    wk_backend *be;
    st_file *file;
    model_config cfg;
    student *net;
    kv_memory *mem;
    int steps, memory_off;
    wk_tensor image, x0, logd, depth, zeros4;
    /* readout: the clamped frame x0c, then the non-finite flag, read back
     * together (one transfer a frame); zero1 clears the flag */
    wk_tensor readout, x0c, flag, zero1;
    int broken; /* a step failed on the device or made NaN: refuse to step until a load */
    wk_tensor noise[MODEL_MAX_STEPS];
    float pose[5];
    int64_t time;
    uint64_t rng;
    worldkv_noise_fn noise_fn;
    void *noise_user;
    float *host; /* 3 * size * size */
    worldkv_stats stats;
    uint64_t model_fingerprint; /* FNV-1a of the model file: snapshots must match it */
    int64_t fault_at_frame;     /* test hook: WORLDKV_FAULT_AT_FRAME (0: off) */
    /* with profiling: the profiler's totals after the previous step, and the last step's share */
    double stage_seen_ms[WORLDKV_MAX_STAGES];
    worldkv_stage_time stages[WORLDKV_MAX_STAGES];
    int stage_count;
};


#endif
