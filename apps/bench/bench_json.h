/* bench_json: how every worldkv-bench command prints a record. */
#ifndef WORLDKV_BENCH_JSON_H
#define WORLDKV_BENCH_JSON_H

#include <cjson/cJSON.h>

/* Prints j on one line of stdout, flushes, and frees j. */
void bench_print_json(cJSON *j);
/* JSON numbers must be finite: NaN or infinity becomes null. */
void bench_add_finite(cJSON *j, const char *key, double v);

#endif
