/* worldkv-world dataset: training episodes to a folder. */
#include <stdio.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "dataset.h"
#include "render.h"
#include "world.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " CLI_NAME " dataset --out DIR [OPTIONS]\n"
            "\n"
            "Renders N episodes of L frames of a person exploring procedural worlds, with\n"
            "poses, actions, depth and revisit marks, as .npy shards plus index.json.\n"
            "\n"
            "  --out DIR              output folder (created; must be empty unless --force)\n"
            "  --episodes N           number of episodes (default 100)\n"
            "  --frames L             frames per episode (default 64)\n"
            "  --size R               frame width and height in pixels, %d..%d (default 64)\n"
            "  --seed S               master seed (default 1)\n"
            "  --episodes-per-world K consecutive episodes that share a world (default 1)\n"
            "  --world-seed W         put every episode in world W (for evaluation on chosen worlds)\n"
            "  --world-cells C        world size in cells, odd, %d..%d (default %d)\n"
            "  --shard-episodes N     episodes per shard (default 256)\n"
            "  --no-depth             do not write depth.npy\n"
            "  -j, --threads N        worker threads (default: one per core)\n"
            "  --force                overwrite an existing dataset in DIR\n"
            "  -q, --quiet            no progress bar\n"
            "  -h, --help             this help\n",
            RENDER_MIN_SIZE, RENDER_MAX_SIZE, WORLD_MIN_CELLS, WORLD_MAX_CELLS, WORLD_DEFAULT_CELLS);
}

int cmd_dataset(int argc, char **argv)
{
    dataset_params p;
    dataset_default_params(&p);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--force")) {
            p.force = 1;
        } else if (!strcmp(a, "--no-depth")) {
            p.depth = 0;
        } else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
            p.quiet = 1;
        } else if (!strcmp(a, "--out") || !strcmp(a, "-o")) {
            if (!(v = cli_value(argc, argv, &i)))
                return 2;
            p.out_dir = v;
        } else if (!strcmp(a, "--episodes")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_int(a, v, 1, 10000000, &p.episodes))
                return 2;
        } else if (!strcmp(a, "--frames")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_int(a, v, 1, 100000, &p.frames))
                return 2;
        } else if (!strcmp(a, "--size")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_int(a, v, RENDER_MIN_SIZE, RENDER_MAX_SIZE, &p.size))
                return 2;
        } else if (!strcmp(a, "--seed")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_u64(a, v, &p.seed))
                return 2;
        } else if (!strcmp(a, "--world-seed")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_u64(a, v, &p.world_seed))
                return 2;
            p.has_world_seed = 1;
        } else if (!strcmp(a, "--episodes-per-world")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_int(a, v, 1, 1000000, &p.episodes_per_world))
                return 2;
        } else if (!strcmp(a, "--world-cells")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_int(a, v, WORLD_MIN_CELLS, WORLD_MAX_CELLS, &p.world_cells))
                return 2;
        } else if (!strcmp(a, "--shard-episodes")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_int(a, v, 1, 1000000, &p.shard_episodes))
                return 2;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--threads")) {
            if (!(v = cli_value(argc, argv, &i)) || cli_int(a, v, 0, 256, &p.threads))
                return 2;
        } else {
            return cli_unknown("dataset", a);
        }
    }
    if (!p.out_dir) {
        cli_error("dataset needs --out DIR");
        usage(stderr);
        return 2;
    }
    if (p.world_cells % 2 == 0) {
        cli_error("--world-cells must be odd, got %d", p.world_cells);
        return 2;
    }
    dataset_stats stats;
    char err[512];
    if (dataset_write(&p, &stats, err, sizeof err) != 0) {
        cli_error("%s", err);
        return 1;
    }
    fprintf(stderr,
            "wrote %d episodes x %d frames at %dx%d to %s in %.1f s (%.0f frames/s on %d threads); "
            "%d episodes (%.0f%%) revisit a view more than 16 frames later\n",
            p.episodes, p.frames, p.size, p.size, p.out_dir, stats.seconds,
            stats.seconds > 0 ? (double)stats.frames_written / stats.seconds : 0.0, stats.threads_used,
            stats.episodes_long_revisit, 100.0 * stats.episodes_long_revisit / p.episodes);
    return 0;
}
