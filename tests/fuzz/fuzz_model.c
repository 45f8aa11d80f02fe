/* libFuzzer target: a model file as a whole, as a session opens it: the
 * safetensors container, the config in its metadata, and the weight check
 * (every tensor present, shaped and finite). */
#include <stdint.h>

#include "model_config.h"
#include "safetensors.h"
#include "student_weights.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file *f = NULL;
    char err[512];
    model_config c;
    if (st_open_memory(data, size, "fuzz", &f, err, sizeof err) == 0) {
        if (model_config_parse(st_metadata(f, "config"), "fuzz", &c, err, sizeof err) == 0) {
            (void)student_check_weights(f, &c, "", err, sizeof err);
            (void)student_check_weights(f, &c, "weights.", err, sizeof err);
        }
        st_close(f);
    }
    return 0;
}
