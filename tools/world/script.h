/* script: the two small text formats that drive a camera (docs/formats.md).
 *
 * Action script, one line per held action:
 *     # frames  terms
 *     20  forward
 *     40  turn_right=0.5 forward=0.3
 *     10  noop
 * Terms: noop, forward, back, left, right, turn_left, turn_right, look_up,
 * look_down, run; each may take =VALUE in [0, 1] (default 1).
 *
 * Camera path, one keyframe per line (poses between keyframes are linear,
 * yaw the short way round):
 *     # frame  x    y    z    yaw  pitch
 *     0        3.0  1.6  3.0  0    0
 *     40       3.0  1.6  0.2  90   0
 *
 * '#' starts a comment; blank lines are ignored. Errors name the line. */
#ifndef WORLDKV_SCRIPT_H
#define WORLDKV_SCRIPT_H

#include <stddef.h>

#include "camera.h"

#define SCRIPT_MAX_FRAMES 10000000 /* about 139 hours at 20 frames a second */
#define SCRIPT_MAX_FILE_BYTES (16u << 20)

typedef struct script_step {
    int first_frame; /* index of the step's first action */
    int frames;
    cam_action action;
} script_step;

typedef struct action_script {
    script_step *steps;
    int count;
    int total_frames; /* number of actions, one per frame after the start */
} action_script;

typedef struct path_key {
    int frame;
    cam_pose pose;
} path_key;

typedef struct camera_path {
    path_key *keys;
    int count;
    int total_frames; /* last keyframe + 1 */
} camera_path;

/* Parsers take the text and a name for messages ("file.txt:3: ..."). They
 * return 0, or -1 with err filled and nothing allocated. */
int script_parse_actions(const char *text, const char *name, action_script *out, char *err, size_t err_size);
int script_load_actions(const char *path, action_script *out, char *err, size_t err_size);
void script_free_actions(action_script *s);
/* The action of frame index in [0, total_frames). */
cam_action script_action_at(const action_script *s, int index);

int script_parse_path(const char *text, const char *name, camera_path *out, char *err, size_t err_size);
int script_load_path(const char *path, camera_path *out, char *err, size_t err_size);
void script_free_path(camera_path *p);
/* The pose at frame in [0, total_frames); later frames hold the last key. */
cam_pose script_path_pose_at(const camera_path *p, int frame);

/* Reads a whole text file (at most SCRIPT_MAX_FILE_BYTES). Caller frees. */
char *script_read_file(const char *path, char *err, size_t err_size);

#endif
