/* worldkv-world dataset: training episodes to a folder. */
#include <stdio.h>
#include <string.h>

#include "cli_args.h"
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

static const cli_option dataset_options[] = {
    {"--help", 'h', 0},        {"--force", 0, 0},          {"--no-depth", 0, 0},      {"--quiet", 'q', 0},
    {"--out", 'o', 1},         {"--episodes", 0, 1},       {"--frames", 0, 1},        {"--size", 0, 1},
    {"--seed", 0, 1},          {"--world-seed", 0, 1},     {"--episodes-per-world", 0, 1},
    {"--world-cells", 0, 1},   {"--shard-episodes", 0, 1}, {"--threads", 'j', 1},
};

int cmd_dataset(int argc, char **argv)
{
    dataset_params p;
    dataset_default_params(&p);
    cli_args args;
    cli_args_init(&args, CLI_NAME " dataset", argc, argv, 1, dataset_options,
                  (int)(sizeof dataset_options / sizeof dataset_options[0]));
    const char *a, *v;
    int more;
    while ((more = cli_args_next_named(&args, &a, &v)) != 0) {
        if (more < 0)
            return 2;
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
            p.out_dir = v;
        } else if (!strcmp(a, "--episodes")) {
            if (cli_int(a, v, 1, 10000000, &p.episodes))
                return 2;
        } else if (!strcmp(a, "--frames")) {
            if (cli_int(a, v, 1, 100000, &p.frames))
                return 2;
        } else if (!strcmp(a, "--size")) {
            if (cli_int(a, v, RENDER_MIN_SIZE, RENDER_MAX_SIZE, &p.size))
                return 2;
        } else if (!strcmp(a, "--seed")) {
            if (cli_u64(a, v, &p.seed))
                return 2;
        } else if (!strcmp(a, "--world-seed")) {
            if (cli_u64(a, v, &p.world_seed))
                return 2;
            p.has_world_seed = 1;
        } else if (!strcmp(a, "--episodes-per-world")) {
            if (cli_int(a, v, 1, 1000000, &p.episodes_per_world))
                return 2;
        } else if (!strcmp(a, "--world-cells")) {
            if (cli_int(a, v, WORLD_MIN_CELLS, WORLD_MAX_CELLS, &p.world_cells))
                return 2;
        } else if (!strcmp(a, "--shard-episodes")) {
            if (cli_int(a, v, 1, 1000000, &p.shard_episodes))
                return 2;
        } else if (!strcmp(a, "-j") || !strcmp(a, "--threads")) {
            if (cli_int(a, v, 0, 256, &p.threads))
                return 2;
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
