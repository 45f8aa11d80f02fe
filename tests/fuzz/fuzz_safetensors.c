/* libFuzzer target for the model-file parser:
 *   cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DWORLDKV_FUZZ=ON
 *   cmake --build build-fuzz --target fuzz_safetensors
 *   build-fuzz/tests/fuzz_safetensors assets/golden -max_total_time=60 */
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
