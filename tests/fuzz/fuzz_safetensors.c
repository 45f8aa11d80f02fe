/* libFuzzer target: the safetensors container (engine/model/safetensors.c).
 * tools/fuzz.sh builds and runs every target. */
#include <stddef.h>
#include <stdint.h>

#include "safetensors.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    st_file *f = NULL;
    char err[512];
    if (st_open_memory(data, size, "fuzz", &f, err, sizeof err) == 0) {
        for (int i = 0; i < st_count(f); i++)
            (void)st_find(f, st_at(f, i)->name);
        st_close(f);
    }
    return 0;
}
