/* Model files: the shipped tiny golden file loads and holds every tensor
 * its config needs; corrupt, truncated and mismatched files give a message
 * naming the tensor and the problem, and random damage never crashes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../test_util.h"
#include "model_config.h"
#include "safetensors.h"
#include "student_weights.h"

static char *g_golden;

/* A safetensors image from a header text and a data size (zeros). */
static uint8_t *make_file(const char *header, size_t data, size_t *size)
{
    size_t h = strlen(header);
    *size = 8 + h + data;
    uint8_t *b = calloc(1, *size);
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b + 8, header, h);
    return b;
}

static void expect_bad(const char *header, size_t data, const char *part)
{
    size_t size;
    uint8_t *b = make_file(header, data, &size);
    st_file *f = NULL;
    char err[512] = "";
    CHECK(st_open_memory(b, size, "m.safetensors", &f, err, sizeof err) == -1 && f == NULL);
    CHECK_CONTAINS(err, part);
    free(b);
}

static void test_corrupt_headers(void)
{
    const char *ok = "{\"a\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]},"
                     "\"__metadata__\":{\"k\":\"v\"}}";
    size_t size;
    uint8_t *b = make_file(ok, 24, &size);
    st_file *f = NULL;
    char err[512] = "";
    CHECK(st_open_memory(b, size, "m", &f, err, sizeof err) == 0);
    if (f) {
        CHECK(st_count(f) == 1 && st_find(f, "a") && st_find(f, "a")->shape[1] == 3);
        CHECK(st_metadata(f, "k") && !strcmp(st_metadata(f, "k"), "v"));
        CHECK(st_find(f, "b") == NULL);
        const st_tensor *t;
        int64_t want[2] = {3, 2};
        CHECK(st_expect(f, "a", ST_F32, 2, want, &t, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "tensor 'a' is F32 [2, 3], expected F32 [3, 2]");
        CHECK(st_expect(f, "zz", ST_F32, 2, want, &t, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "tensor 'zz' is missing");
        st_close(f);
    }
    /* truncated: the data section is short */
    CHECK(st_open_memory(b, size - 4, "m", &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "tensor 'a': data_offsets [0, 24) fall outside the 20 data bytes");
    CHECK(st_open_memory(b, 5, "m", &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "too short");
    b[7] = 0x7f; /* a header length of about 2^63 */
    CHECK(st_open_memory(b, size, "m", &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "the header claims");
    free(b);

    expect_bad("[1,2]", 0, "must start with '{'");
    expect_bad("{\"a\":", 0, "not valid JSON");
    expect_bad("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': unknown dtype 'F33'");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4, "shape[0] is not a non-negative");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4, "shape[0]");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0.5,4]}}", 4, "data_offsets must be two");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4,
               "tensor 'a': 4 bytes of data for a F32 tensor of 2 elements (8 bytes)");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[2,6]}}",
               8, "overlaps");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8, "belong to no tensor");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 12, "the last 8 data bytes");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
               "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
               8, "tensor 'a' appears twice");
    expect_bad("{\"__metadata__\":{\"k\":3}}", 0, "__metadata__['k'] is not a string");
    expect_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,4]}}", 4,
               "overflows");
}

static void test_golden_file(void)
{
    char err[512] = "";
    st_file *f = NULL;
    CHECK(st_open(g_golden, &f, err, sizeof err) == 0);
    if (!f) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    model_config c;
    CHECK(model_config_parse(st_metadata(f, "config"), "tiny", &c, err, sizeof err) == 0);
    CHECK(c.dim == 32 && c.depth == 2 && c.heads == 2 && c.window == 1 && c.tokens == 64 && c.steps == 2);
    CHECK(c.schedule[0] == 1.0f && c.schedule[1] == 0.5f);
    CHECK(student_check_weights(f, &c, "weights.", err, sizeof err) == 0);
    if (err[0])
        fprintf(stderr, "%s\n", err);
    /* the same file read with the wrong prefix or a mismatched config */
    CHECK(student_check_weights(f, &c, "", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "tensor 'embed.weight' is missing");
    model_config wide = c;
    wide.dim = 64;
    CHECK(student_check_weights(f, &wide, "weights.", err, sizeof err) == -1);
    CHECK_CONTAINS(err, "tensor 'weights.embed.weight' is F32 [32, 704], expected F32 [64, 704]");
    const st_tensor *t = st_find(f, "weights.pos");
    CHECK(t && t->ndim == 2 && ((uintptr_t)t->data % 4) == 0);
    st_close(f);

    CHECK(st_open("/nonexistent/model.safetensors", &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot open model /nonexistent/model.safetensors: No such file");
    CHECK(st_open("/tmp", &f, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "not a regular file");
}

static void test_configs(void)
{
    model_config c;
    char err[512];
    CHECK(model_config_parse(NULL, "m", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no config");
    CHECK(model_config_parse("{\"format_version\":2}", "m", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "model format version 2");
#define BASE                                                                                                           \
    "{\"format_version\":1,\"camera\":{\"version\":1},\"model\":{\"image\":64,\"patch\":8,\"dim\":%d,\"depth\":2,"       \
    "\"heads\":%d,\"mlp_ratio\":4,\"head_channels\":8,\"window\":1,\"memory_k\":2,\"compress\":2,\"t_freq\":128,"         \
    "\"schedule\":%s}}"
    char buf[1024];
    snprintf(buf, sizeof buf, BASE, 32, 2, "[1.0,0.5]");
    CHECK(model_config_parse(buf, "m", &c, err, sizeof err) == 0);
    snprintf(buf, sizeof buf, BASE, 30, 4, "[1.0]");
    CHECK(model_config_parse(buf, "m", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "inconsistent sizes");
    snprintf(buf, sizeof buf, BASE, 32, 2, "[0.5,1.0]");
    CHECK(model_config_parse(buf, "m", &c, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "schedule[1]");
    snprintf(buf, sizeof buf, BASE, 32, 2, "[]");
    CHECK(model_config_parse(buf, "m", &c, err, sizeof err) == -1);
    CHECK(model_config_parse("{\"format_version\":1,\"camera\":{\"version\":1},\"model\":{\"image\":64}}", "m", &c, err,
                             sizeof err) == -1);
    CHECK_CONTAINS(err, "config field 'patch'");
    /* numbers far outside int: refused, never converted (UBSan flags such a conversion) */
    const char *huge[] = {"{\"format_version\":1e300}", "{\"format_version\":-1e20}", "{\"format_version\":1.5}"};
    for (int i = 0; i < 3; i++) {
        CHECK(model_config_parse(huge[i], "m", &c, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "'format_version' must be a whole number");
    }
    /* optional keys: absent means what files before them were trained with */
    snprintf(buf, sizeof buf, BASE, 32, 2, "[1.0]");
    CHECK(model_config_parse(buf, "m", &c, err, sizeof err) == 0 && c.head_cond == 4 && c.warp_filter == 0);
    CHECK(c.head_gates == 0);
    const char *extra[] = {",\"head_cond\":8,\"warp_filter\":\"catmull_rom\",\"head_gates\":2", ",\"head_cond\":6",
                           ",\"head_cond\":\"8\"", ",\"warp_filter\":\"cubic\"", ",\"head_cond\":8,\"head_gates\":1",
                           ",\"head_gates\":2"};
    const char *want[] = {NULL, "head_cond must be 4 or 8", "head_cond must be 4 or 8", "warp_filter must be",
                          "head_gates must be 0 or 2", "head_gates needs head_cond 8"};
    for (int i = 0; i < 6; i++) {
        snprintf(buf, sizeof buf, BASE, 32, 2, "[1.0]");
        char tail[128];
        snprintf(tail, sizeof tail, "%s}}", extra[i]);
        memcpy(buf + strlen(buf) - 2, tail, strlen(tail) + 1);
        int rc = model_config_parse(buf, "m", &c, err, sizeof err);
        CHECK(rc == (i == 0 ? 0 : -1));
        if (i == 0)
            CHECK(c.head_cond == 8 && c.warp_filter == 1 && c.head_gates == 2);
        else
            CHECK_CONTAINS(err, want[i]);
    }
}

/* Random damage to a valid file: every outcome is an error or a valid
 * parse whose tensors lie inside the data. */
static void test_mutations(void)
{
    const char *header = "{\"blocks.0.qkv.weight\":{\"dtype\":\"F32\",\"shape\":[3,4],\"data_offsets\":[0,48]},"
                         "\"blocks.0.qkv.bias\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[48,60]},"
                         "\"pos\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[60,68]},"
                         "\"ids\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[68,72]},"
                         "\"__metadata__\":{\"config\":\"{}\",\"x\":\"y\"}}";
    size_t size;
    uint8_t *orig = make_file(header, 72, &size), *b = malloc(size);
    st_file *f = NULL;
    char err[512];
    CHECK(st_open_memory(orig, size, "fuzz", &f, err, sizeof err) == 0);
    st_close(f);
    uint64_t r = 42;
    int parsed = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(b, orig, size);
        for (int m = 0; m < 1 + it % 3; m++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            size_t at = (size_t)(r >> 33) % size;
            /* digits and JSON punctuation make the damage plausible */
            b[at] = (it & 1) ? (uint8_t)(r >> 20) : (uint8_t)"0123456789[]{},:\"-."[(r >> 20) % 19];
        }
        size_t len = it % 5 == 0 ? (size_t)(r >> 40) % size : size;
        f = NULL;
        if (st_open_memory(b, len, "fuzz", &f, err, sizeof err) == 0) {
            parsed++;
            for (int i = 0; i < st_count(f); i++)
                CHECK((const uint8_t *)st_at(f, i)->data + (st_at(f, i)->end - st_at(f, i)->begin) <= b + len);
            st_close(f);
        } else {
            CHECK(strncmp(err, "fuzz", 4) == 0);
        }
    }
    printf("mutations: %d of 20000 still parsed\n", parsed);
    CHECK(parsed > 0); /* the damage sometimes lands where it is harmless */
    free(orig);
    free(b);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: test_model_file GOLDEN.safetensors\n");
        return 2;
    }
    g_golden = argv[1];
    test_corrupt_headers();
    test_golden_file();
    test_configs();
    test_mutations();
    return test_finish("test_model_file");
}
