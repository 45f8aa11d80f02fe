/* libFuzzer target: camera paths (tools/world/script.c), and the poses a
 * parsed one gives at its start, middle and past its end. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_pose(cam_pose p)
{
    if (!isfinite(p.x) || !isfinite(p.y) || !isfinite(p.z) || !isfinite(p.yaw) || !isfinite(p.pitch) ||
        fabsf(p.pitch) > CAM_PITCH_LIMIT)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), err[512];
    if (!text)
        return 0;
    camera_path p;
    if (script_parse_path(text, "fuzz", &p, err, sizeof err) == 0) {
        if (p.count < 1 || p.total_frames < 1)
            abort();
        check_pose(script_path_pose_at(&p, 0));
        check_pose(script_path_pose_at(&p, p.total_frames / 2));
        check_pose(script_path_pose_at(&p, p.total_frames + 5));
        script_free_path(&p);
    }
    free(text);
    return 0;
}
