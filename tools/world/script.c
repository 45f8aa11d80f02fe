#include "script.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detmath.h"
#include "file_util.h"

#define MAX_TOKENS 16
#define MAX_LINE 1024

/* Splits the next line of *cursor into tokens, dropping comments.
 * Returns the token count, or -1 for a line too long or with a NUL/control
 * byte, -2 for too many tokens. Advances *cursor past the line. */
static int next_line(const char **cursor, char *buf, char **tokens)
{
    const char *p = *cursor;
    size_t len = 0;
    int bad = 0;
    while (*p && *p != '\n') {
        unsigned char c = (unsigned char)*p;
        if (c < 0x20 && c != '\t' && c != '\r')
            bad = 1;
        if (len < MAX_LINE - 1)
            buf[len] = (char)c;
        len++;
        p++;
    }
    *cursor = *p ? p + 1 : p;
    if (len >= MAX_LINE || bad)
        return -1;
    buf[len] = 0;
    char *hash = strchr(buf, '#');
    if (hash)
        *hash = 0;
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, " \t\r", &save); tok; tok = strtok_r(NULL, " \t\r", &save)) {
        if (n == MAX_TOKENS)
            return -2;
        tokens[n++] = tok;
    }
    return n;
}

/* Room for one more element in a doubling array: returns the (possibly
 * moved) array, or NULL with the old one left as it was. */
static void *grow(void *items, int count, int *capacity, size_t item_size)
{
    if (count < *capacity)
        return items;
    int next = *capacity ? 2 * *capacity : 16;
    void *grown = realloc(items, item_size * (size_t)next);
    if (grown)
        *capacity = next;
    return grown;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

static int parse_frame_count(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE || v < 0 || v > SCRIPT_MAX_FRAMES)
        return -1;
    *out = (int)v;
    return 0;
}

static int line_error(char *err, size_t n, const char *name, int line, int kind)
{
    if (kind == -1)
        snprintf(err, n, "%s:%d: line is longer than %d bytes or holds control characters", name, line, MAX_LINE - 1);
    else
        snprintf(err, n, "%s:%d: too many fields (at most %d)", name, line, MAX_TOKENS);
    return -1;
}

/* Adds one term such as "turn_left=0.5" to the action. */
static int apply_term(const char *term, cam_action *a, char *why, size_t why_size)
{
    static const struct {
        const char *name;
        int component; /* index into the action as floats */
        float sign;
    } terms[] = {
        {"forward", 0, 1.0f},   {"back", 0, -1.0f},     {"right", 1, 1.0f},    {"left", 1, -1.0f},
        {"turn_right", 2, 1.0f}, {"turn_left", 2, -1.0f}, {"look_up", 3, 1.0f}, {"look_down", 3, -1.0f},
        {"run", 4, 1.0f},
    };
    char name[32];
    const char *eq = strchr(term, '=');
    size_t len = eq ? (size_t)(eq - term) : strlen(term);
    if (len == 0 || len >= sizeof name) {
        snprintf(why, why_size, "unknown action '%s'", term);
        return -1;
    }
    memcpy(name, term, len);
    name[len] = 0;
    if (strcmp(name, "noop") == 0) {
        if (eq) {
            snprintf(why, why_size, "noop takes no value");
            return -1;
        }
        return 0;
    }
    for (size_t i = 0; i < sizeof terms / sizeof terms[0]; i++) {
        if (strcmp(name, terms[i].name) != 0)
            continue;
        double value = 1.0;
        if (eq && (parse_number(eq + 1, &value) != 0 || value < 0.0 || value > 1.0)) {
            snprintf(why, why_size, "value of '%s' must be a number in [0, 1], got '%s'", name, eq + 1);
            return -1;
        }
        float *c = &a->forward;
        c[terms[i].component] += terms[i].sign * (float)value;
        return 0;
    }
    snprintf(why, why_size,
             "unknown action '%s' (expected noop, forward, back, left, right, turn_left, turn_right, look_up, "
             "look_down or run)",
             name);
    return -1;
}

int script_parse_actions(const char *text, const char *name, action_script *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    int capacity = 0, line = 0;
    const char *cursor = text;
    char buf[MAX_LINE], why[256];
    char *tokens[MAX_TOKENS];
    while (*cursor) {
        line++;
        int n = next_line(&cursor, buf, tokens);
        if (n < 0) {
            script_free_actions(out);
            return line_error(err, err_size, name, line, n);
        }
        if (n == 0)
            continue;
        script_step step = {0};
        if (parse_frame_count(tokens[0], &step.frames) != 0 || step.frames == 0) {
            snprintf(err, err_size, "%s:%d: expected a frame count (1 to %d) first, got '%s'", name, line,
                     SCRIPT_MAX_FRAMES, tokens[0]);
            script_free_actions(out);
            return -1;
        }
        if (n == 1) {
            snprintf(err, err_size, "%s:%d: expected at least one action after the frame count", name, line);
            script_free_actions(out);
            return -1;
        }
        for (int i = 1; i < n; i++)
            if (apply_term(tokens[i], &step.action, why, sizeof why) != 0) {
                snprintf(err, err_size, "%s:%d: %s", name, line, why);
                script_free_actions(out);
                return -1;
            }
        if (step.frames > SCRIPT_MAX_FRAMES - out->total_frames) {
            snprintf(err, err_size, "%s:%d: the script is longer than %d frames", name, line, SCRIPT_MAX_FRAMES);
            script_free_actions(out);
            return -1;
        }
        step.action = cam_action_clamp(step.action);
        script_step *steps = grow(out->steps, out->count, &capacity, sizeof *steps);
        if (!steps) {
            snprintf(err, err_size, "%s: out of memory", name);
            script_free_actions(out);
            return -1;
        }
        out->steps = steps;
        step.first_frame = out->total_frames;
        out->steps[out->count++] = step;
        out->total_frames += step.frames;
    }
    if (out->count == 0) {
        snprintf(err, err_size, "%s: the action script holds no actions", name);
        return -1;
    }
    return 0;
}

void script_free_actions(action_script *s)
{
    free(s->steps);
    memset(s, 0, sizeof *s);
}

cam_action script_action_at(const action_script *s, int index)
{
    cam_action none = {0};
    if (index < 0 || index >= s->total_frames)
        return none;
    int lo = 0, hi = s->count - 1;
    while (lo < hi) { /* last step whose first frame <= index */
        int mid = (lo + hi + 1) / 2;
        if (s->steps[mid].first_frame <= index)
            lo = mid;
        else
            hi = mid - 1;
    }
    return s->steps[lo].action;
}

int script_parse_path(const char *text, const char *name, camera_path *out, char *err, size_t err_size)
{
    memset(out, 0, sizeof *out);
    int capacity = 0, line = 0;
    const char *cursor = text;
    char buf[MAX_LINE];
    char *tokens[MAX_TOKENS];
    while (*cursor) {
        line++;
        int n = next_line(&cursor, buf, tokens);
        if (n < 0) {
            script_free_path(out);
            return line_error(err, err_size, name, line, n);
        }
        if (n == 0)
            continue;
        if (n != 6) {
            snprintf(err, err_size, "%s:%d: expected 6 fields (frame x y z yaw pitch), got %d", name, line, n);
            script_free_path(out);
            return -1;
        }
        path_key key;
        double v[5];
        if (parse_frame_count(tokens[0], &key.frame) != 0) {
            snprintf(err, err_size, "%s:%d: frame must be a whole number from 0 to %d, got '%s'", name, line,
                     SCRIPT_MAX_FRAMES, tokens[0]);
            script_free_path(out);
            return -1;
        }
        for (int i = 0; i < 5; i++)
            if (parse_number(tokens[i + 1], &v[i]) != 0 || fabs(v[i]) > 1e6) {
                static const char *fields[] = {"x", "y", "z", "yaw", "pitch"};
                snprintf(err, err_size, "%s:%d: %s must be a number, got '%s'", name, line, fields[i], tokens[i + 1]);
                script_free_path(out);
                return -1;
            }
        if (fabs(v[4]) > CAM_PITCH_LIMIT) {
            snprintf(err, err_size, "%s:%d: pitch %g is outside [-%g, %g] degrees", name, line, v[4],
                     (double)CAM_PITCH_LIMIT, (double)CAM_PITCH_LIMIT);
            script_free_path(out);
            return -1;
        }
        int expected_first = out->count == 0;
        if (expected_first && key.frame != 0) {
            snprintf(err, err_size, "%s:%d: the first keyframe must be frame 0, got %d", name, line, key.frame);
            script_free_path(out);
            return -1;
        }
        if (!expected_first && key.frame <= out->keys[out->count - 1].frame) {
            snprintf(err, err_size, "%s:%d: frame %d does not come after frame %d", name, line, key.frame,
                     out->keys[out->count - 1].frame);
            script_free_path(out);
            return -1;
        }
        key.pose = (cam_pose){(float)v[0], (float)v[1], (float)v[2], (float)dm_wrap_deg(v[3]), (float)v[4]};
        path_key *keys = grow(out->keys, out->count, &capacity, sizeof *keys);
        if (!keys) {
            snprintf(err, err_size, "%s: out of memory", name);
            script_free_path(out);
            return -1;
        }
        out->keys = keys;
        out->keys[out->count++] = key;
        out->total_frames = key.frame + 1;
    }
    if (out->count == 0) {
        snprintf(err, err_size, "%s: the camera path holds no keyframes", name);
        return -1;
    }
    return 0;
}

void script_free_path(camera_path *p)
{
    free(p->keys);
    memset(p, 0, sizeof *p);
}

cam_pose script_path_pose_at(const camera_path *p, int frame)
{
    if (frame <= 0 || p->count == 1)
        return p->keys[0].pose;
    if (frame >= p->keys[p->count - 1].frame)
        return p->keys[p->count - 1].pose;
    int k = 0;
    while (p->keys[k + 1].frame < frame)
        k++;
    const path_key *a = &p->keys[k], *b = &p->keys[k + 1];
    float t = (float)(frame - a->frame) / (float)(b->frame - a->frame);
    cam_pose r;
    r.x = a->pose.x + (b->pose.x - a->pose.x) * t;
    r.y = a->pose.y + (b->pose.y - a->pose.y) * t;
    r.z = a->pose.z + (b->pose.z - a->pose.z) * t;
    r.pitch = a->pose.pitch + (b->pose.pitch - a->pose.pitch) * t;
    float dyaw = (float)dm_wrap_deg((double)b->pose.yaw - (double)a->pose.yaw);
    r.yaw = (float)dm_wrap_deg((double)(a->pose.yaw + dyaw * t));
    return r;
}

char *script_read_file(const char *path, char *err, size_t err_size)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        file_errno_message(err, err_size, "open", path, errno);
        return NULL;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            if (cap >= SCRIPT_MAX_FILE_BYTES) {
                snprintf(err, err_size, "%s: file is larger than %u MiB", path, SCRIPT_MAX_FILE_BYTES >> 20);
                free(buf);
                fclose(f);
                return NULL;
            }
            char *grown = realloc(buf, cap * 2);
            if (!grown)
                break;
            buf = grown;
            cap *= 2;
        }
        size_t n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                file_errno_message(err, err_size, "read", path, errno ? errno : EIO);
                free(buf);
                fclose(f);
                return NULL;
            }
            buf[len] = 0;
            fclose(f);
            if (strlen(buf) != len) {
                snprintf(err, err_size, "%s: not a text file (holds a NUL byte)", path);
                free(buf);
                return NULL;
            }
            return buf;
        }
    }
    snprintf(err, err_size, "%s: out of memory", path);
    free(buf);
    fclose(f);
    return NULL;
}

int script_load_actions(const char *path, action_script *out, char *err, size_t err_size)
{
    char *text = script_read_file(path, err, err_size);
    if (!text) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    int status = script_parse_actions(text, path, out, err, err_size);
    free(text);
    return status;
}

int script_load_path(const char *path, camera_path *out, char *err, size_t err_size)
{
    char *text = script_read_file(path, err, err_size);
    if (!text) {
        memset(out, 0, sizeof *out);
        return -1;
    }
    int status = script_parse_path(text, path, out, err, err_size);
    free(text);
    return status;
}
