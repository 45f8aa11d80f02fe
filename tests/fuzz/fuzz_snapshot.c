/* libFuzzer target: world snapshots, loaded into a small session on the CPU
 * backend (the tiny test model, WORLDKV_FUZZ_MODEL), as --load-world does.
 * A failed load must leave the session able to step, and a successful one
 * must give a session that steps. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "worldkv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static worldkv_session *g_session;
static char g_path[256];

static worldkv_session *session(void)
{
    if (g_session)
        return g_session;
    const char *model = getenv("WORLDKV_FUZZ_MODEL");
    static uint8_t start[64 * 64 * 3];
    worldkv_options o;
    worldkv_options_init(&o);
    o.model_path = model ? model : "assets/models/tiny-test.safetensors";
    o.start_rgb = start;
    o.backend = "cpu";
    o.threads = 1;
    o.memory_slots = 4;
    char err[512];
    if (worldkv_session_create(&o, &g_session, err, sizeof err) != 0) {
        fprintf(stderr, "fuzz_snapshot: %s\n", err);
        abort();
    }
    snprintf(g_path, sizeof g_path, "%s/fuzz-snapshot-%d.bin", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp",
             (int)getpid());
    return g_session;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    worldkv_session *s = session();
    FILE *f = fopen(g_path, "wb");
    if (!f)
        return 0;
    fwrite(data, 1, size, f);
    fclose(f);
    char err[512];
    static const float still[5] = {0};
    static uint8_t rgb[64 * 64 * 3];
    int loaded = worldkv_session_load(s, g_path, err, sizeof err);
    int stepped = worldkv_session_step(s, still, rgb, NULL, err, sizeof err);
    if (stepped == WORLDKV_ERR_NONFINITE) { /* a loaded memory (finite, checksummed) can still overflow */
        worldkv_session_destroy(s);
        g_session = NULL;
    } else if (stepped != 0) {
        fprintf(stderr, "fuzz_snapshot: load %d, then a step failed: %s\n", loaded, err);
        abort();
    }
    remove(g_path);
    return 0;
}
