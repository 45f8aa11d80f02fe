/* shaders: the embedded SPIR-V of every compute shader in this folder. */
#ifndef WORLDKV_SHADERS_H
#define WORLDKV_SHADERS_H

#include <stddef.h>
#include <stdint.h>

typedef struct shader_blob {
    const char *name;
    const uint32_t *code;
    size_t bytes;
} shader_blob;

/* The shader compiled from NAME.comp, or NULL. */
const shader_blob *shader_find(const char *name);

#endif
