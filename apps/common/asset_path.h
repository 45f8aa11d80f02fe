/* asset_path: where the shipped data (the default model, the demo walk) is.
 * A build tree reads the source tree's assets/; an installed copy reads
 * PREFIX/share/worldkv/ next to the installed binary, where `cmake --install`
 * puts the same files. */
#ifndef WORLDKV_ASSET_PATH_H
#define WORLDKV_ASSET_PATH_H

#include <stddef.h>

/* The path of a shipped file, `rel` relative to assets/ (for example
 * "models/student.safetensors"): the source tree's copy if it exists, else
 * the installed one. Writes into buf and returns it. */
const char *asset_path(const char *rel, char *buf, size_t buf_size);

#endif
