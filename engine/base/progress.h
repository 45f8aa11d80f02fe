/* progress: a one-line progress bar on stderr with rate and ETA. It draws
 * only when stderr is a terminal, so logs and pipes stay clean. */
#ifndef WORLDKV_PROGRESS_H
#define WORLDKV_PROGRESS_H

#include <stdint.h>

typedef struct progress {
    const char *label;
    const char *unit;
    int64_t total;
    double start_s;
    double last_draw_s;
    int enabled;
} progress;

void progress_begin(progress *p, const char *label, const char *unit, int64_t total);
/* Redraws at most ten times a second, and always when done == total. */
void progress_update(progress *p, int64_t done);
void progress_end(progress *p);
double progress_now_s(void);

#endif
