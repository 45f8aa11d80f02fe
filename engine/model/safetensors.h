/* safetensors: read-only, validated access to a .safetensors file.
 *
 * Layout: an 8-byte little-endian header length N, N bytes of JSON
 * ({name: {dtype, shape, data_offsets: [begin, end)}, "__metadata__":
 * {string: string}}), then the data, which the tensors must tile exactly
 * (no overlaps, no holes). Everything is checked on open; a bad file gives a
 * message naming the tensor and the problem, never a crash. The file is
 * mapped, not copied. */
#ifndef WORLDKV_SAFETENSORS_H
#define WORLDKV_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#define ST_MAX_DIMS 8
#define ST_MAX_NAME 160
#define ST_MAX_HEADER (100u << 20) /* as the reference implementation */

typedef enum st_dtype { ST_F32, ST_F16, ST_BF16, ST_F64, ST_I32, ST_U32, ST_I64, ST_I8, ST_U8, ST_BOOL } st_dtype;

typedef struct st_tensor {
    char name[ST_MAX_NAME];
    st_dtype dtype;
    int ndim;
    int64_t shape[ST_MAX_DIMS];
    uint64_t begin, end; /* byte range within the data section */
    const void *data;    /* into the mapping (8-byte aligned when the writer aligned the header) */
} st_tensor;

typedef struct st_file st_file;

int st_open(const char *path, st_file **out, char *err, size_t err_size);
/* Parses a file already in memory (the fuzzer's entry); data must outlive
 * the st_file. name labels messages. */
int st_open_memory(const void *data, size_t size, const char *name, st_file **out, char *err, size_t err_size);
void st_close(st_file *f);

int st_count(const st_file *f);
const st_tensor *st_at(const st_file *f, int i);
const st_tensor *st_find(const st_file *f, const char *name);
/* A __metadata__ value, or NULL. */
const char *st_metadata(const st_file *f, const char *key);
const char *st_dtype_name(st_dtype t);
size_t st_dtype_size(st_dtype t);
int64_t st_nelements(const st_tensor *t);
/* FNV-1a 64 of the whole file: which model a snapshot was made with. */
uint64_t st_fingerprint(const st_file *f);

/* Finds name and checks its dtype and shape (ndim values); err names the
 * tensor and what differs. */
int st_expect(const st_file *f, const char *name, st_dtype dtype, int ndim, const int64_t *shape,
              const st_tensor **out, char *err, size_t err_size);

#endif
