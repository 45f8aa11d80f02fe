/* libFuzzer target: action scripts (tools/world/script.c), and the first
 * and last action a parsed one gives. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "script.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_text(data, size), err[512];
    if (!text)
        return 0;
    action_script s;
    if (script_parse_actions(text, "fuzz", &s, err, sizeof err) == 0) {
        if (s.total_frames < 0 || s.total_frames > SCRIPT_MAX_FRAMES)
            abort();
        if (s.total_frames > 0) {
            cam_action a = script_action_at(&s, 0), b = script_action_at(&s, s.total_frames - 1);
            if (!isfinite(a.forward + a.strafe + a.turn + a.look + a.run) ||
                !isfinite(b.forward + b.strafe + b.turn + b.look + b.run))
                abort();
        }
        script_free_actions(&s);
    }
    free(text);
    return 0;
}
