#include "frame_sink.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "file_util.h"
#include "image_io.h"

static int ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), m = strlen(tail);
    return n >= m && strcmp(s + n - m, tail) == 0;
}

/* Accepts exactly one %d or %0Nd (N <= 9) and no other '%'. */
static int split_pattern(frame_sink *s, const char *path, char *err, size_t err_size)
{
    const char *pct = strchr(path, '%');
    const char *p = pct + 1;
    int digits = 0;
    if (*p == '0') {
        p++;
        if (*p < '1' || *p > '9')
            goto bad;
        digits = *p++ - '0';
    }
    if (*p != 'd' || strchr(p + 1, '%'))
        goto bad;
    size_t pre = (size_t)(pct - path);
    if (pre >= sizeof s->prefix || strlen(p + 1) >= sizeof s->suffix)
        goto bad;
    memcpy(s->prefix, path, pre);
    s->prefix[pre] = 0;
    strcpy(s->suffix, p + 1);
    s->digits = digits;
    return 0;
bad:
    snprintf(err, err_size, "output pattern '%s' must hold one %%d or %%0Nd (N from 1 to 9) and no other '%%'", path);
    return -1;
}

int frame_sink_open(frame_sink *s, const char *path, int frames, char *err, size_t err_size)
{
    memset(s, 0, sizeof *s);
    if (strlen(path) >= sizeof s->path) {
        snprintf(err, err_size, "output path is too long");
        return -1;
    }
    strcpy(s->path, path);
    if (strchr(path, '%')) {
        s->kind = FRAME_SINK_PNG_PATTERN;
        return split_pattern(s, path, err, err_size);
    }
    if (ends_with(path, ".png")) {
        if (frames > 1) {
            snprintf(err, err_size, "'%s' names one PNG but %d frames are rendered; use a pattern such as out_%%05d.png",
                     path, frames);
            return -1;
        }
        s->kind = FRAME_SINK_PNG_SINGLE;
        return 0;
    }
    s->kind = FRAME_SINK_RAW;
    if (strcmp(path, "-") == 0) {
        if (isatty(STDOUT_FILENO)) {
            snprintf(err, err_size, "refusing to write raw video to a terminal; pipe it (| ffplay ...) or redirect it");
            return -1;
        }
        s->raw = stdout;
        s->raw_is_stdout = 1;
        return 0;
    }
    if (!ends_with(path, ".rgb") && !ends_with(path, ".raw")) {
        snprintf(err, err_size, "cannot tell the output format of '%s': use NAME%%05d.png, NAME.png, NAME.rgb or -",
                 path);
        return -1;
    }
    s->raw = fopen(path, "wb");
    if (!s->raw) {
        file_errno_message(err, err_size, "create", path, errno);
        return -1;
    }
    return 0;
}

int frame_sink_write(frame_sink *s, int index, const uint8_t *rgb, int width, int height, char *err,
                     size_t err_size)
{
    if (s->kind == FRAME_SINK_RAW) {
        const char *name = s->raw_is_stdout ? "standard output" : s->path;
        if (file_write(s->raw, name, rgb, (size_t)width * (size_t)height * 3u, err, err_size) != 0)
            return -1;
        return 0;
    }
    char name[1400];
    if (s->kind == FRAME_SINK_PNG_SINGLE)
        snprintf(name, sizeof name, "%s", s->path);
    else
        snprintf(name, sizeof name, "%s%0*d%s", s->prefix, s->digits, index, s->suffix);
    return image_write_png(name, rgb, width, height, err, err_size);
}

int frame_sink_close(frame_sink *s, char *err, size_t err_size)
{
    if (!s->raw)
        return 0;
    int status = 0;
    errno = 0;
    if (fflush(s->raw) != 0) {
        file_errno_message(err, err_size, "write", s->raw_is_stdout ? "standard output" : s->path, errno);
        status = -1;
    }
    if (!s->raw_is_stdout && fclose(s->raw) != 0 && status == 0) {
        file_errno_message(err, err_size, "write", s->path, errno);
        status = -1;
    }
    s->raw = NULL;
    return status;
}
