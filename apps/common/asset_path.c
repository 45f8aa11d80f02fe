#include "asset_path.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef WORLDKV_SOURCE_DIR
#define WORLDKV_SOURCE_DIR "."
#endif
#ifndef WORLDKV_BIN_TO_DATA
#define WORLDKV_BIN_TO_DATA "../share/worldkv"
#endif

/* PREFIX/share/worldkv/rel from PREFIX/bin/worldkv-*: installs under any --prefix work */
static int installed_path(const char *rel, char *buf, size_t buf_size)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return -1;
    exe[n] = 0;
    char *slash = strrchr(exe, '/');
    if (!slash)
        return -1;
    *slash = 0;
    int len = snprintf(buf, buf_size, "%s/%s/%s", exe, WORLDKV_BIN_TO_DATA, rel);
    return len > 0 && (size_t)len < buf_size ? 0 : -1;
}

const char *asset_path(const char *rel, char *buf, size_t buf_size)
{
    snprintf(buf, buf_size, "%s/assets/%s", WORLDKV_SOURCE_DIR, rel);
    if (access(buf, R_OK) == 0)
        return buf;
    /* if the installed copy is missing too, the caller's open names the path tried
     * (the source tree's, when the binary's own path cannot be read) */
    char installed[PATH_MAX];
    if (installed_path(rel, installed, sizeof installed) == 0)
        snprintf(buf, buf_size, "%s", installed);
    return buf;
}
