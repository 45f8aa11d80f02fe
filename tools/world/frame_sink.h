/* frame_sink: where rendered RGB frames go: a PNG per frame (a pattern
 * such as out/%05d.png), a raw RGB24 stream (a .rgb/.raw file, or '-' for
 * stdout), or a single PNG. */
#ifndef WORLDKV_FRAME_SINK_H
#define WORLDKV_FRAME_SINK_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum frame_sink_kind { FRAME_SINK_PNG_PATTERN, FRAME_SINK_PNG_SINGLE, FRAME_SINK_RAW } frame_sink_kind;

typedef struct frame_sink {
    frame_sink_kind kind;
    char path[1024];
    /* pattern split around its one %0Nd */
    char prefix[1024], suffix[256];
    int digits;
    FILE *raw;
    int raw_is_stdout;
} frame_sink;

/* Chooses the kind from the name. Fails (with err) on a pattern with other
 * '%' conversions, a single PNG for several frames, or an unopenable file. */
int frame_sink_open(frame_sink *s, const char *path, int frames, char *err, size_t err_size);
int frame_sink_write(frame_sink *s, int index, const uint8_t *rgb, int width, int height, char *err,
                     size_t err_size);
/* Flushes and closes; reports a late write error. */
int frame_sink_close(frame_sink *s, char *err, size_t err_size);

#endif
