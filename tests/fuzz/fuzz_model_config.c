/* libFuzzer target: the model config (JSON in the file's metadata).
 * tools/fuzz.sh builds and runs every target. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "model_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), err[512];
    if (!text)
        return 0;
    model_config c;
    if (model_config_parse(text, "fuzz", &c, err, sizeof err) == 0) {
        /* a config that parses is one the engine can size itself by */
        if (c.tokens <= 0 || c.image % c.patch || c.dim % c.heads || c.steps < 1)
            abort();
    }
    free(text);
    return 0;
}
