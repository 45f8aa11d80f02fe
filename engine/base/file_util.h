/* file_util: whole-file and positioned writes that report every failure
 * (a missing folder, no permission, a full disk) as a readable message. */
#ifndef WORLDKV_FILE_UTIL_H
#define WORLDKV_FILE_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Writes data to path (created or truncated). Returns 0 or -1 with err. */
int file_write_all(const char *path, const void *data, size_t size, char *err, size_t err_size);

/* fwrite that turns a short write into a message naming path. */
int file_write(FILE *f, const char *path, const void *data, size_t size, char *err, size_t err_size);

/* pwrite all of data at offset of fd, retrying short writes. */
int file_pwrite_all(int fd, const char *path, const void *data, size_t size, uint64_t offset, char *err,
                    size_t err_size);

/* Creates a new file next to path, named path.XXXXXX, that no other process
 * shares (mkstemp): two writers of one path never collide. Writes the name
 * to tmp; returns the open stream, or NULL with err. */
FILE *file_create_temp(const char *path, char *tmp, size_t tmp_size, char *err, size_t err_size);

/* Checks, before long work, that path can later be created or replaced:
 * its folder exists and takes new files, and an existing file is writable.
 * Leaves nothing behind. Returns 0 or -1 with err. */
int file_check_writable(const char *path, char *err, size_t err_size);

/* Describes errno for an operation on path, naming a full disk plainly. */
void file_errno_message(char *err, size_t err_size, const char *action, const char *path, int code);

#endif
