#include "npy.h"

#include <stdio.h>
#include <string.h>

size_t npy_header(uint8_t buf[NPY_MAX_HEADER], const char *descr, const int64_t *shape, int ndim)
{
    char dict[NPY_MAX_HEADER];
    int n = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
    for (int i = 0; i < ndim && n > 0 && (size_t)n < sizeof dict; i++)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "%lld%s", (long long)shape[i],
                      i + 1 < ndim ? ", " : (ndim == 1 ? "," : "")); /* numpy's own spelling */
    if (n > 0 && (size_t)n < sizeof dict)
        n += snprintf(dict + n, sizeof dict - (size_t)n, "), }");
    if (n <= 0 || (size_t)n >= sizeof dict)
        return 0;
    /* magic (6) + version (2) + length (2) + dict + padding + '\n' */
    size_t total = (10 + (size_t)n + 1 + 63) / 64 * 64;
    if (total > NPY_MAX_HEADER)
        return 0;
    size_t dict_len = total - 10;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)(dict_len & 0xff);
    buf[9] = (uint8_t)(dict_len >> 8);
    memcpy(buf + 10, dict, (size_t)n);
    memset(buf + 10 + n, ' ', dict_len - (size_t)n - 1);
    buf[total - 1] = '\n';
    return total;
}
