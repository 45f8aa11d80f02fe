#include "bench_json.h"

#include <math.h>
#include <stdio.h>

void bench_print_json(cJSON *j)
{
    char *text = cJSON_PrintUnformatted(j);
    if (text)
        printf("%s\n", text);
    cJSON_free(text);
    cJSON_Delete(j);
    fflush(stdout);
}

void bench_add_finite(cJSON *j, const char *key, double v)
{
    if (isfinite(v))
        cJSON_AddNumberToObject(j, key, v);
    else
        cJSON_AddNullToObject(j, key);
}
