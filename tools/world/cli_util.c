#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, CLI_NAME ": ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_int(const char *flag, const char *text, long lo, long hi, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (end == text || *end || errno || v < lo || v > hi) {
        cli_error("%s expects a whole number from %ld to %ld, got '%s'", flag, lo, hi, text);
        return -1;
    }
    *out = (int)v;
    return 0;
}

int cli_u64(const char *flag, const char *text, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (end == text || *end || errno || text[0] == '-') {
        cli_error("%s expects a non-negative whole number, got '%s'", flag, text);
        return -1;
    }
    *out = (uint64_t)v;
    return 0;
}

int cli_float(const char *flag, const char *text, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end || errno || !isfinite(v)) {
        cli_error("%s expects a number, got '%s'", flag, text);
        return -1;
    }
    *out = (float)v;
    return 0;
}
