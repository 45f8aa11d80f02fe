#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double progress_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void progress_begin(progress *p, const char *label, const char *unit, int64_t total)
{
    p->label = label;
    p->unit = unit;
    p->total = total > 0 ? total : 1;
    p->start_s = progress_now_s();
    p->last_draw_s = 0.0;
    p->enabled = isatty(STDERR_FILENO);
}

void progress_update(progress *p, int64_t done)
{
    if (!p->enabled)
        return;
    double now = progress_now_s();
    if (done < p->total && now - p->last_draw_s < 0.1)
        return;
    p->last_draw_s = now;
    double elapsed = now - p->start_s;
    double rate = elapsed > 0.0 ? (double)done / elapsed : 0.0;
    double eta = rate > 0.0 ? (double)(p->total - done) / rate : 0.0;
    enum { BAR = 30 };
    int filled = (int)((double)BAR * (double)done / (double)p->total);
    char bar[BAR + 1];
    for (int i = 0; i < BAR; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[BAR] = 0;
    fprintf(stderr, "\r%s [%s] %lld/%lld %.1f %s/s ETA %ds ", p->label, bar, (long long)done, (long long)p->total,
            rate, p->unit, (int)(eta + 0.5));
    fflush(stderr);
}

void progress_end(progress *p)
{
    if (p->enabled)
        fputc('\n', stderr);
}
