#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "hash.h"

struct st_file {
    char name[256];
    void *map;            /* when mapped by st_open */
    size_t map_size;
    const uint8_t *bytes; /* the whole file */
    size_t size;
    st_tensor *tensors;   /* sorted by name */
    int count;
    char **meta_keys, **meta_values;
    int meta_count;
};

static const struct {
    const char *name;
    size_t size;
} k_dtypes[] = {{"F32", 4}, {"F16", 2}, {"BF16", 2}, {"F64", 8}, {"I32", 4},
                {"U32", 4}, {"I64", 8}, {"I8", 1},   {"U8", 1},  {"BOOL", 1}};

const char *st_dtype_name(st_dtype t)
{
    return k_dtypes[t].name;
}

size_t st_dtype_size(st_dtype t)
{
    return k_dtypes[t].size;
}

int64_t st_nelements(const st_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++)
        n *= t->shape[i];
    return n;
}

/* A JSON number that is a whole number in [0, max]: cJSON keeps doubles,
 * exact up to 2^53. */
static int whole_number(const cJSON *item, double max, uint64_t *out)
{
    if (!cJSON_IsNumber(item))
        return -1;
    double v = item->valuedouble;
    if (!(v >= 0.0) || v > max || v != (double)(uint64_t)v)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const st_tensor *)a)->name, ((const st_tensor *)b)->name);
}

static int by_offset(const void *a, const void *b)
{
    const st_tensor *x = *(const st_tensor *const *)a, *y = *(const st_tensor *const *)b;
    return x->begin < y->begin ? -1 : (x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end));
}

static int parse_entry(st_file *f, const cJSON *item, st_tensor *t, uint64_t data_size, char *err, size_t n)
{
    const char *fn = f->name;
    if (strlen(item->string) >= ST_MAX_NAME) {
        snprintf(err, n, "%s: a tensor name is longer than %d bytes", fn, ST_MAX_NAME - 1);
        return -1;
    }
    strcpy(t->name, item->string);
    if (!cJSON_IsObject(item)) {
        snprintf(err, n, "%s: tensor '%s': its entry is not an object", fn, t->name);
        return -1;
    }
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(item, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(item, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(item, "data_offsets");
    if (!cJSON_IsString(dtype)) {
        snprintf(err, n, "%s: tensor '%s': no dtype", fn, t->name);
        return -1;
    }
    size_t d = 0;
    for (; d < sizeof k_dtypes / sizeof k_dtypes[0]; d++)
        if (!strcmp(dtype->valuestring, k_dtypes[d].name))
            break;
    if (d == sizeof k_dtypes / sizeof k_dtypes[0]) {
        snprintf(err, n, "%s: tensor '%s': unknown dtype '%.32s'", fn, t->name, dtype->valuestring);
        return -1;
    }
    t->dtype = (st_dtype)d;
    if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > ST_MAX_DIMS) {
        snprintf(err, n, "%s: tensor '%s': shape must be an array of at most %d sizes", fn, t->name, ST_MAX_DIMS);
        return -1;
    }
    t->ndim = cJSON_GetArraySize(shape);
    uint64_t elems = 1;
    for (int i = 0; i < t->ndim; i++) {
        uint64_t v;
        if (whole_number(cJSON_GetArrayItem(shape, i), 9007199254740992.0, &v) != 0) {
            snprintf(err, n, "%s: tensor '%s': shape[%d] is not a non-negative whole number", fn, t->name, i);
            return -1;
        }
        t->shape[i] = (int64_t)v;
        if (v && elems > UINT64_MAX / v) {
            snprintf(err, n, "%s: tensor '%s': the shape overflows", fn, t->name);
            return -1;
        }
        elems *= v;
    }
    uint64_t begin, end;
    if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
        whole_number(cJSON_GetArrayItem(offs, 0), 9007199254740992.0, &begin) != 0 ||
        whole_number(cJSON_GetArrayItem(offs, 1), 9007199254740992.0, &end) != 0) {
        snprintf(err, n, "%s: tensor '%s': data_offsets must be two whole numbers [begin, end)", fn, t->name);
        return -1;
    }
    if (begin > end || end > data_size) {
        snprintf(err, n, "%s: tensor '%s': data_offsets [%llu, %llu) fall outside the %llu data bytes", fn, t->name,
                 (unsigned long long)begin, (unsigned long long)end, (unsigned long long)data_size);
        return -1;
    }
    if (elems > UINT64_MAX / k_dtypes[d].size || end - begin != elems * k_dtypes[d].size) {
        snprintf(err, n, "%s: tensor '%s': %llu bytes of data for a %s tensor of %llu elements (%llu bytes)", fn,
                 t->name, (unsigned long long)(end - begin), k_dtypes[d].name, (unsigned long long)elems,
                 (unsigned long long)(elems * k_dtypes[d].size));
        return -1;
    }
    t->begin = begin;
    t->end = end;
    return 0;
}

static int parse_metadata(st_file *f, const cJSON *meta, char *err, size_t n)
{
    if (!cJSON_IsObject(meta)) {
        snprintf(err, n, "%s: __metadata__ is not an object", f->name);
        return -1;
    }
    int count = cJSON_GetArraySize(meta);
    f->meta_keys = calloc((size_t)count + 1, sizeof(char *));
    f->meta_values = calloc((size_t)count + 1, sizeof(char *));
    if (!f->meta_keys || !f->meta_values) {
        snprintf(err, n, "%s: out of memory", f->name);
        return -1;
    }
    for (const cJSON *m = meta->child; m; m = m->next) {
        if (!cJSON_IsString(m)) {
            snprintf(err, n, "%s: __metadata__['%.64s'] is not a string", f->name, m->string);
            return -1;
        }
        f->meta_keys[f->meta_count] = strdup(m->string);
        f->meta_values[f->meta_count] = strdup(m->valuestring);
        if (!f->meta_keys[f->meta_count] || !f->meta_values[f->meta_count]) {
            snprintf(err, n, "%s: out of memory", f->name);
            return -1;
        }
        f->meta_count++;
    }
    return 0;
}

static int parse(st_file *f, char *err, size_t n)
{
    if (f->size < 8) {
        snprintf(err, n, "%s: %zu bytes is too short for a safetensors file (no header length)", f->name, f->size);
        return -1;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--)
        hlen = (hlen << 8) | f->bytes[i];
    if (hlen > ST_MAX_HEADER || hlen > f->size - 8) {
        snprintf(err, n, "%s: the header claims %llu bytes but the file holds %zu after the length", f->name,
                 (unsigned long long)hlen, f->size - 8);
        return -1;
    }
    if (hlen < 2 || f->bytes[8] != '{') {
        snprintf(err, n, "%s: the header is not a JSON object (it must start with '{')", f->name);
        return -1;
    }
    uint64_t data_size = f->size - 8 - hlen;
    const uint8_t *data = f->bytes + 8 + hlen;
    cJSON *root = cJSON_ParseWithLength((const char *)f->bytes + 8, (size_t)hlen);
    st_tensor **order = NULL;
    int status = -1;
    if (!root || !cJSON_IsObject(root)) {
        snprintf(err, n, "%s: the header is not valid JSON", f->name);
        goto done;
    }
    int entries = cJSON_GetArraySize(root);
    f->tensors = calloc((size_t)entries + 1, sizeof(st_tensor));
    order = calloc((size_t)entries + 1, sizeof(st_tensor *));
    if (!f->tensors || !order) {
        snprintf(err, n, "%s: out of memory", f->name);
        goto done;
    }
    for (const cJSON *item = root->child; item; item = item->next) {
        if (!strcmp(item->string, "__metadata__")) {
            if (f->meta_keys) {
                snprintf(err, n, "%s: __metadata__ appears twice", f->name);
                goto done;
            }
            if (parse_metadata(f, item, err, n) != 0)
                goto done;
            continue;
        }
        st_tensor *t = &f->tensors[f->count];
        if (parse_entry(f, item, t, data_size, err, n) != 0)
            goto done;
        t->data = data + t->begin;
        order[f->count] = t;
        f->count++;
    }
    /* the data must be tiled exactly: sorted by offset, each starts where
     * the last ended, and the last ends at the end of the file */
    qsort(order, (size_t)f->count, sizeof *order, by_offset);
    uint64_t at = 0;
    for (int i = 0; i < f->count; i++) {
        if (order[i]->begin < at) {
            snprintf(err, n, "%s: tensor '%s' overlaps tensor '%s'", f->name, order[i]->name, order[i - 1]->name);
            goto done;
        }
        if (order[i]->begin > at) {
            snprintf(err, n, "%s: data bytes [%llu, %llu) before tensor '%s' belong to no tensor", f->name,
                     (unsigned long long)at, (unsigned long long)order[i]->begin, order[i]->name);
            goto done;
        }
        at = order[i]->end;
    }
    if (at != data_size) {
        snprintf(err, n, "%s: the last %llu data bytes belong to no tensor", f->name,
                 (unsigned long long)(data_size - at));
        goto done;
    }
    qsort(f->tensors, (size_t)f->count, sizeof *f->tensors, by_name);
    for (int i = 1; i < f->count; i++)
        if (!strcmp(f->tensors[i].name, f->tensors[i - 1].name)) {
            snprintf(err, n, "%s: tensor '%s' appears twice", f->name, f->tensors[i].name);
            goto done;
        }
    status = 0;
done:
    free(order);
    cJSON_Delete(root);
    return status;
}

int st_open_memory(const void *data, size_t size, const char *name, st_file **out, char *err, size_t err_size)
{
    *out = NULL;
    st_file *f = calloc(1, sizeof *f);
    if (!f) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    snprintf(f->name, sizeof f->name, "%s", name);
    f->bytes = data;
    f->size = size;
    if (parse(f, err, err_size) != 0) {
        st_close(f);
        return -1;
    }
    *out = f;
    return 0;
}

int st_open(const char *path, st_file **out, char *err, size_t err_size)
{
    *out = NULL;
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
        snprintf(err, err_size, "cannot open model %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, err_size, "model %s is not a regular file", path);
        close(fd);
        return -1;
    }
    size_t size = (size_t)st.st_size;
    void *map = size ? mmap(NULL, size, PROT_READ, MAP_PRIVATE, fd, 0) : NULL;
    close(fd);
    if (size && map == MAP_FAILED) {
        snprintf(err, err_size, "cannot map model %s: %s", path, strerror(errno));
        return -1;
    }
    static const uint8_t empty[1];
    if (st_open_memory(size ? map : empty, size, path, out, err, err_size) != 0) {
        if (size)
            munmap(map, size);
        return -1;
    }
    (*out)->map = size ? map : NULL;
    (*out)->map_size = size;
    return 0;
}

void st_close(st_file *f)
{
    if (!f)
        return;
    for (int i = 0; i < f->meta_count; i++) {
        free(f->meta_keys[i]);
        free(f->meta_values[i]);
    }
    free(f->meta_keys);
    free(f->meta_values);
    free(f->tensors);
    if (f->map)
        munmap(f->map, f->map_size);
    free(f);
}

int st_count(const st_file *f)
{
    return f->count;
}

const st_tensor *st_at(const st_file *f, int i)
{
    return i >= 0 && i < f->count ? &f->tensors[i] : NULL;
}

const st_tensor *st_find(const st_file *f, const char *name)
{
    st_tensor key;
    snprintf(key.name, sizeof key.name, "%s", name);
    return bsearch(&key, f->tensors, (size_t)f->count, sizeof key, by_name);
}

const char *st_metadata(const st_file *f, const char *key)
{
    for (int i = 0; i < f->meta_count; i++)
        if (!strcmp(f->meta_keys[i], key))
            return f->meta_values[i];
    return NULL;
}

static void shape_text(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t at = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (at < n)
        snprintf(buf + at, n - at, "]");
}

int st_expect(const st_file *f, const char *name, st_dtype dtype, int ndim, const int64_t *shape,
              const st_tensor **out, char *err, size_t err_size)
{
    const st_tensor *t = st_find(f, name);
    *out = NULL;
    if (!t) {
        snprintf(err, err_size, "%s: tensor '%s' is missing", f->name, name);
        return -1;
    }
    int same = t->dtype == dtype && t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char want[96], got[96];
        shape_text(want, sizeof want, ndim, shape);
        shape_text(got, sizeof got, t->ndim, t->shape);
        snprintf(err, err_size, "%s: tensor '%s' is %s %s, expected %s %s", f->name, name, st_dtype_name(t->dtype), got,
                 st_dtype_name(dtype), want);
        return -1;
    }
    *out = t;
    return 0;
}

uint64_t st_fingerprint(const st_file *f)
{
    return hash_fnv1a(HASH_FNV_SEED, f->bytes, f->size);
}
