#include "proc_memory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void proc_memory_kb(long *rss_kb, long *peak_kb)
{
    long rss = -1, peak = -1;
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "VmRSS:", 6))
            rss = atol(line + 6);
        else if (!strncmp(line, "VmHWM:", 6))
            peak = atol(line + 6);
    }
    if (f)
        fclose(f);
    if (rss_kb)
        *rss_kb = rss;
    if (peak_kb)
        *peak_kb = peak;
}
