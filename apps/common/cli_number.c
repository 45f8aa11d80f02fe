#include "cli_number.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_whole(const char *prog, const char *opt, const char *value, long long lo, long long hi, long long *out)
{
    char *end = NULL;
    errno = 0;
    long long x = value && !isspace((unsigned char)value[0]) ? strtoll(value, &end, 10) : 0;
    if (!value || end == value || !end || *end || errno || x < lo || x > hi) {
        fprintf(stderr, "%s: %s expects a whole number from %lld to %lld, got '%s'\n", prog, opt, lo, hi,
                value ? value : "");
        return -1;
    }
    *out = x;
    return 0;
}

int cli_real(const char *prog, const char *opt, const char *value, double lo, double hi, double *out)
{
    char *end = NULL;
    errno = 0;
    double x = value && !isspace((unsigned char)value[0]) ? strtod(value, &end) : 0;
    /* !(x >= lo && x <= hi) also refuses NaN, which every comparison fails */
    if (!value || end == value || !end || *end || errno || !(x >= lo && x <= hi)) {
        fprintf(stderr, "%s: %s expects a number from %g to %g, got '%s'\n", prog, opt, lo, hi, value ? value : "");
        return -1;
    }
    *out = x;
    return 0;
}

int cli_memory_bits(const char *prog, const char *value, int *out)
{
    if (!value || (strcmp(value, "4") && strcmp(value, "8") && strcmp(value, "32"))) {
        fprintf(stderr, "%s: --memory-bits expects 4, 8 or 32, got '%s'\n", prog, value ? value : "");
        return -1;
    }
    *out = atoi(value);
    return 0;
}
