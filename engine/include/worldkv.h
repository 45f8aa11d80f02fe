/* worldkv: the public C API. A session holds a model, its KV memory and a
 * camera; each step takes an action and returns the next generated frame.
 *
 * Errors. Every call that can fail returns 0 (WORLDKV_OK) or a negative
 * worldkv_status that says what kind of failure it was, and writes one
 * line for people into err (err may be NULL when err_size is 0).
 *
 * Failure leaves things as they were (the strong guarantee): a failed
 * create makes nothing; a step refused for its arguments, or failing
 * before the device ran it, leaves the session exactly as before the call
 * (pose, frame count, memory, noise state); a failed load leaves the
 * session as it was (the file is read and checked whole before anything
 * changes). Two failures end a session's usefulness instead:
 * WORLDKV_ERR_DEVICE (the device was lost mid-step) and
 * WORLDKV_ERR_NONFINITE (the model made NaN or infinity, which the step
 * has already written into the memory). The session then refuses to step
 * until a snapshot is loaded into it, or it is destroyed.
 *
 * Threads. Sessions are independent: any number may run at once, one per
 * thread (each has its own device context and memory). One session must
 * not be used from two threads at once; calls on it need the caller's own
 * lock. The functions that take no session are thread-safe.
 *
 * Ownership. The caller owns every buffer it passes in and out; the
 * library copies what it needs during the call (the options, the start
 * image and the paths are not kept after worldkv_session_create returns).
 * Strings the library returns (names, reasons, versions) live as long as
 * the session (or forever, for those that take no session). */
#ifndef WORLDKV_H
#define WORLDKV_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* The version of this header; worldkv_version() gives the library's. */
#define WORLDKV_VERSION_MAJOR 0
#define WORLDKV_VERSION_MINOR 3
#define WORLDKV_VERSION_PATCH 0
#define WORLDKV_VERSION_STRING "0.3.0"
#define WORLDKV_VERSION_NUMBER (WORLDKV_VERSION_MAJOR * 10000 + WORLDKV_VERSION_MINOR * 100 + WORLDKV_VERSION_PATCH)
/* "MAJOR.MINOR.PATCH" of the library linked in. */
const char *worldkv_version(void);
/* MAJOR * 10000 + MINOR * 100 + PATCH of the library linked in. */
int worldkv_version_number(void);

typedef enum worldkv_status {
    WORLDKV_OK = 0,
    WORLDKV_ERR_ARGUMENT = -1,  /* a bad argument: NULL, NaN, pitch beyond its limit, an unknown option */
    WORLDKV_ERR_FILE = -2,      /* a file that is missing, unreadable, damaged, or of another model */
    WORLDKV_ERR_DEVICE = -3,    /* no usable compute device, or the device failed or was lost */
    WORLDKV_ERR_MEMORY = -4,    /* out of host or device memory */
    WORLDKV_ERR_IO = -5,        /* a write failed: a full disk, no permission, a missing folder */
    WORLDKV_ERR_NONFINITE = -6, /* the model produced NaN or infinity (damaged or unsuitable weights) */
    WORLDKV_ERR_STATE = -7      /* the session cannot do this now (it failed earlier: load a snapshot) */
} worldkv_status;
/* "ok", "bad argument", "bad file", ... for a status; "unknown" otherwise. */
const char *worldkv_status_name(int status);

#define WORLDKV_ACTION_DIM 5 /* forward, strafe, turn, look, run (docs/camera.md) */
#define WORLDKV_POSE_DIM 5   /* x, y, z (metres), yaw, pitch (degrees) */

typedef struct worldkv_session worldkv_session;

/* Noise for frame `frame`, step `step` (3 x size x size floats); replaces
 * the session's own seeded generator (tests replay golden noise with it). */
typedef void (*worldkv_noise_fn)(void *user, int64_t frame, int step, float *out, size_t count);

/* Fill with worldkv_options_init, then set fields: struct_size lets a
 * later library with more fields accept a caller compiled against this
 * header. */
typedef struct worldkv_options {
    size_t struct_size;          /* sizeof(worldkv_options), set by worldkv_options_init */
    const char *model_path;      /* .safetensors written by tools/train/export.py */
    const char *weights_prefix;  /* NULL, or "weights." for golden-vector files */
    const uint8_t *start_rgb;    /* size x size RGB8, top row first (size: the model's image) */
    const float *start_chw;      /* or the start frame as [3, size, size] floats in [-1, 1] */
    const char *start_image;     /* or an image file (PNG, JPEG, ...), scaled to size x size */
    float start_pose[WORLDKV_POSE_DIM];
    uint64_t seed;               /* same seed + same actions = same frames */
    int steps;                   /* sampling steps; 0: the model's schedule */
    int memory_slots;            /* the bank's size M; 0: 32 */
    int memory_off;              /* 1: never read or fill the bank (for comparisons) */
    const char *device;          /* Vulkan device index or name; NULL: best */
    int validation;              /* Vulkan validation layers (tests) */
    int profile;                 /* time every stage on the device (worldkv_session_print_profile) */
    worldkv_noise_fn noise_fn;
    void *noise_user;
    const char *backend;         /* "auto" (or NULL), "cpu" or "vulkan"; auto reads WORLDKV_BACKEND first */
    int threads;                 /* CPU backend threads; 0: one per core */
    int memory_bits;             /* the bank's keys and values: 0 or 32 float, 8 int8, 4 int4 (a slot
                                    takes a third or a quarter of the bytes, frame included;
                                    docs/engine.md "Quantized memory slots") */
    int memory_host_mb;          /* 0: no host tier; else slots the bank gives up wait in host memory
                                    within this budget and come back when retrieval ranks them again
                                    (snapshots carry the tier; loading one needs a budget that holds
                                    its slots) */
} worldkv_options;

typedef struct worldkv_stats {
    int64_t frames;
    int image_size;
    int memory_slots_used, memory_slots;
    uint64_t memory_bytes;       /* KV arenas and the frame store: fixed at creation */
    int retrieved_count;
    int64_t retrieved_frames[8]; /* source frame ids the last step read from memory */
    uint32_t dispatches;         /* in the last step's single submit */
    double last_step_ms;         /* the whole step, readback and RGB8 conversion included */
    double last_submit_ms;       /* the device's part: submit to fence (CPU backend: the ops themselves) */
    double last_retrieval_us;    /* host-side choice of the slots the frame reads (from the bank) */
    double last_readback_ms;     /* copy back and conversion to RGB8 */
    uint64_t device_bytes;       /* memory the backend holds (device blocks, or host tensors and scratch) */
    int device_blocks;
    double last_fetch_us;        /* with a host tier: ranking the bank and the host slots near the camera
                                    together, and swapping the chosen ones into the bank (0 without) */
} worldkv_stats;

/* Zeroes opt (the defaults) and sets its struct_size. */
void worldkv_options_init(worldkv_options *opt);

/* The frame size a model makes (reads the file's config only). */
int worldkv_model_image_size(const char *model_path, int *size, char *err, size_t err_size);
int worldkv_session_create(const worldkv_options *opt, worldkv_session **out, char *err, size_t err_size);
void worldkv_session_destroy(worldkv_session *s);
/* Moves the camera by one frame of action (no walls) and generates the
 * frame there: rgb receives size x size RGB8, pose the new pose (either
 * may be NULL). Action components are clamped to [-1, 1] (run to [0, 1]);
 * NaN or infinite ones are WORLDKV_ERR_ARGUMENT. */
int worldkv_session_step(worldkv_session *s, const float action[WORLDKV_ACTION_DIM], uint8_t *rgb,
                         float pose[WORLDKV_POSE_DIM], char *err, size_t err_size);
/* Generates the frame at an explicit pose (camera paths, golden tests).
 * The pose must be finite, with |x|, |y|, |z|, |yaw| at most 1e6 and the
 * pitch within +-60 degrees, else WORLDKV_ERR_ARGUMENT. */
int worldkv_session_step_to(worldkv_session *s, const float pose[WORLDKV_POSE_DIM], uint8_t *rgb, char *err,
                            size_t err_size);
/* The last frame as size x size RGB8 (after create: the start frame; after
 * a load: the saved world's last frame). */
int worldkv_session_last_rgb(worldkv_session *s, uint8_t *rgb, char *err, size_t err_size);
/* The last frame as floats in [-1, 1], [3, size, size], and its depth. */
int worldkv_session_last_frame(worldkv_session *s, float *chw, float *depth, char *err, size_t err_size);
void worldkv_session_get_stats(const worldkv_session *s, worldkv_stats *out);
/* Snapshots: the whole world state (memory, pose, frame count, noise
 * generator) to a file and back, so that a world can be continued later.
 * Save writes a temporary file and renames it, so a failure (a full disk)
 * never leaves half a snapshot. The host tier's slots are part of it.
 * Load checks the magic, the version, that the snapshot was made with this
 * model and memory size, and a checksum. */
int worldkv_session_save(worldkv_session *s, const char *path, char *err, size_t err_size);
int worldkv_session_load(worldkv_session *s, const char *path, char *err, size_t err_size);
int worldkv_session_image_size(const worldkv_session *s);
/* The camera pose of the last frame (after create: the start pose). */
void worldkv_session_get_pose(const worldkv_session *s, float pose[WORLDKV_POSE_DIM]);

/* One occupied memory slot. */
typedef struct worldkv_slot {
    float pose[WORLDKV_POSE_DIM]; /* the camera of the frame it holds */
    int64_t frame;                /* that frame's number */
    int retrieved;                /* 1: the last step read it */
    int tier;                     /* WORLDKV_TIER_DEVICE (the bank) or WORLDKV_TIER_HOST */
} worldkv_slot;
#define WORLDKV_TIER_DEVICE 0
#define WORLDKV_TIER_HOST 1

/* With options.profile: the device milliseconds of each stage (warp,
 * denoise, kv_pass, memory) in the last step. Returns the count written. */
typedef struct worldkv_stage_time {
    char name[48];
    double ms;
} worldkv_stage_time;
int worldkv_session_stage_times(const worldkv_session *s, worldkv_stage_time *out, int max);

/* The occupied memory slots, for maps and logs: the bank's first, then the
 * host tier's; writes at most max, returns the count. */
int worldkv_session_memory_map(const worldkv_session *s, worldkv_slot *out, int max);
/* The host memory tier (options.memory_host_mb): slots held, how many fit,
 * bytes held, and slots the last step fetched into the bank and sent out of
 * it. All 0 without a tier. Any pointer may be NULL. */
void worldkv_session_host_tier(const worldkv_session *s, int *slots, int *capacity, uint64_t *bytes, int *fetched,
                               int *spilled);
const char *worldkv_session_device_name(const worldkv_session *s);
/* 1 if name is a backend worldkv_options.backend takes: auto, cpu, vulkan. */
int worldkv_backend_name_valid(const char *name);
/* "cpu" or "vulkan", and why it was chosen (one line, for start-up and the HUD). */
const char *worldkv_session_backend_name(const worldkv_session *s);
const char *worldkv_session_backend_reason(const worldkv_session *s);
/* Multiply-adds x 2 of one frame at the session's step count (all passes,
 * compression included), from the model config. */
double worldkv_session_gflop_per_frame(const worldkv_session *s);
/* With options.profile: prints device milliseconds per stage (warp,
 * denoise, kv_pass, memory), summed over the frames since the last call,
 * then resets. */
void worldkv_session_print_profile(worldkv_session *s, FILE *out, int64_t frames);

#endif
