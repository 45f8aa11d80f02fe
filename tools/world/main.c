/* worldkv-world: the ground-truth world on the command line. */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "worldkv.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " CLI_NAME " COMMAND [OPTIONS]\n"
            "\n"
            "The procedural ground-truth world that worldkv learns from and is scored against.\n"
            "\n"
            "commands:\n"
            "  dataset   render training episodes (frames, poses, actions) to a folder\n"
            "  render    render the true video for a world seed and a camera path or action script\n"
            "  sheet     draw a contact sheet of sample episodes, with a map of each, to a PNG\n"
            "  bench     measure the renderer's speed on one core\n"
            "\n"
            "'" CLI_NAME " COMMAND --help' describes each. Formats: docs/formats.md; camera: docs/camera.md.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) {
        printf(CLI_NAME " %s\n", WORLDKV_VERSION_STRING);
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "dataset"))
        return cmd_dataset(argc - 1, argv + 1);
    if (!strcmp(cmd, "render"))
        return cmd_render(argc - 1, argv + 1);
    if (!strcmp(cmd, "sheet"))
        return cmd_sheet(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return cmd_bench(argc - 1, argv + 1);
    cli_error("unknown command '%s'", cmd);
    usage(stderr);
    return 2;
}
