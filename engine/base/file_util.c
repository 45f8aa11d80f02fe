#include "file_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A new file named path.XXXXXX that no other process shares (mkstemp); the
 * name goes to tmp. Returns its descriptor, or -1 with err. */
static int create_unique(const char *path, char *tmp, size_t tmp_size, char *err, size_t err_size)
{
    if ((size_t)snprintf(tmp, tmp_size, "%s.XXXXXX", path) >= tmp_size) {
        snprintf(err, err_size, "the path is too long: %s", path);
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        file_errno_message(err, err_size, "create", path, errno);
    return fd;
}

/* The process umask, read without changing it: umask() can only be read by
 * setting it, which would race with other threads creating files. */
static mode_t current_umask(void)
{
    unsigned mask = 022;
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &mask) == 1)
            break;
    if (f)
        fclose(f);
    return (mode_t)mask;
}

FILE *file_create_temp(const char *path, char *tmp, size_t tmp_size, char *err, size_t err_size)
{
    int fd = create_unique(path, tmp, tmp_size, err, err_size);
    if (fd < 0)
        return NULL;
    /* mkstemp makes 0600; a saved file gets the usual umask-governed mode */
    fchmod(fd, 0666 & ~current_umask());
    FILE *f = fdopen(fd, "wb");
    if (!f) {
        file_errno_message(err, err_size, "open", tmp, errno);
        close(fd);
        remove(tmp);
    }
    return f;
}

int file_check_writable(const char *path, char *err, size_t err_size)
{
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            snprintf(err, err_size, "cannot write %s: it is a folder", path);
            return -1;
        }
        if (access(path, W_OK) != 0) {
            file_errno_message(err, err_size, "write", path, errno);
            return -1;
        }
        return 0;
    }
    /* a probe file of a unique name in the same folder: the real file is not created early */
    char tmp[4200];
    int fd = create_unique(path, tmp, sizeof tmp, err, err_size);
    if (fd < 0)
        return -1;
    close(fd);
    remove(tmp);
    return 0;
}

void file_errno_message(char *err, size_t err_size, const char *action, const char *path, int code)
{
    if (code == ENOSPC || code == EFBIG || code == EDQUOT)
        snprintf(err, err_size, "cannot %s %s: the disk is full (%s)", action, path, strerror(code));
    else
        snprintf(err, err_size, "cannot %s %s: %s", action, path, strerror(code));
}

int file_write(FILE *f, const char *path, const void *data, size_t size, char *err, size_t err_size)
{
    if (size == 0)
        return 0;
    errno = 0;
    if (fwrite(data, 1, size, f) != size) {
        file_errno_message(err, err_size, "write", path, errno ? errno : EIO);
        return -1;
    }
    return 0;
}

int file_write_all(const char *path, const void *data, size_t size, char *err, size_t err_size)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        file_errno_message(err, err_size, "create", path, errno);
        return -1;
    }
    int status = file_write(f, path, data, size, err, err_size);
    /* fclose flushes: a full disk often shows up only here */
    errno = 0;
    if (fclose(f) != 0 && status == 0) {
        file_errno_message(err, err_size, "write", path, errno ? errno : EIO);
        status = -1;
    }
    return status;
}

int file_pwrite_all(int fd, const char *path, const void *data, size_t size, uint64_t offset, char *err,
                    size_t err_size)
{
    const uint8_t *p = data;
    while (size > 0) {
        ssize_t n = pwrite(fd, p, size, (off_t)offset);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            file_errno_message(err, err_size, "write", path, errno);
            return -1;
        }
        if (n == 0) {
            file_errno_message(err, err_size, "write", path, ENOSPC);
            return -1;
        }
        p += n;
        size -= (size_t)n;
        offset += (uint64_t)n;
    }
    return 0;
}
