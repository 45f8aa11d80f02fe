/* worldkv-world bench: renderer speed on one core. Prints a table, or one
 * JSON object per line with --json (op, shape, ms, gflops, device). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli_args.h"
#include "cli_util.h"
#include "commands.h"
#include "progress.h"
#include "render.h"
#include "trajectory.h"
#include "world.h"

#define BENCH_POSES 256
#define BENCH_MAX_SIZES 8

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " CLI_NAME " bench [OPTIONS]\n"
            "\n"
            "Renders a %d-frame exploration path of world 1 again and again on one thread\n"
            "and reports milliseconds per frame and frames per second for each size.\n"
            "\n"
            "  --sizes A,B,...   frame sizes (default 64,128,256)\n"
            "  --seconds T       time spent on each size (default 1.0)\n"
            "  --json            one JSON object per line instead of a table\n"
            "  -h, --help        this help\n",
            BENCH_POSES);
}

static int parse_sizes(const char *text, int *sizes, int *count)
{
    *count = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < RENDER_MIN_SIZE || v > RENDER_MAX_SIZE || *count == BENCH_MAX_SIZES ||
            (*end && *end != ',')) {
            cli_error("--sizes expects up to %d sizes from %d to %d separated by commas, got '%s'", BENCH_MAX_SIZES,
                      RENDER_MIN_SIZE, RENDER_MAX_SIZE, text);
            return -1;
        }
        sizes[(*count)++] = (int)v;
        p = *end ? end + 1 : end;
    }
    return *count ? 0 : -1;
}

static const cli_option bench_options[] = {
    {"--help", 'h', 0}, {"--json", 0, 0}, {"--sizes", 0, 1}, {"--seconds", 0, 1},
};

/* One result as a JSON object on one line (cJSON: escaped, no NaN). */
static int print_json_line(int size, int frames, double ms, const char *device)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "op", "render");
    cJSON *shape = cJSON_AddArrayToObject(j, "shape");
    int dims[3] = {size, size, 3};
    for (int i = 0; shape && i < 3; i++)
        cJSON_AddItemToArray(shape, cJSON_CreateNumber(dims[i]));
    cJSON_AddNumberToObject(j, "frames", frames);
    cJSON_AddNumberToObject(j, "ms", ms);
    cJSON_AddNumberToObject(j, "fps", 1000.0 / ms);
    cJSON_AddNullToObject(j, "gflops");
    cJSON_AddStringToObject(j, "device", device);
    char *text = shape ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    if (!text)
        return -1;
    puts(text);
    cJSON_free(text);
    return 0;
}

int cmd_bench(int argc, char **argv)
{
    int sizes[BENCH_MAX_SIZES] = {64, 128, 256}, count = 3, json = 0;
    float seconds = 1.0f;
    cli_args args;
    cli_args_init(&args, CLI_NAME " bench", argc, argv, 1, bench_options,
                  (int)(sizeof bench_options / sizeof bench_options[0]));
    const char *a, *v;
    int more;
    while ((more = cli_args_next_named(&args, &a, &v)) != 0) {
        if (more < 0)
            return 2;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--sizes")) {
            if (parse_sizes(v, sizes, &count))
                return 2;
        } else if (!strcmp(a, "--seconds")) {
            if (cli_float(a, v, &seconds))
                return 2;
            if (seconds <= 0.0f || seconds > 600.0f) {
                cli_error("--seconds must be in (0, 600]");
                return 2;
            }
        }
    }
    char err[256];
    world *w = world_create(1, WORLD_DEFAULT_CELLS, err, sizeof err);
    cam_pose *poses = malloc(sizeof *poses * BENCH_POSES);
    cam_action *actions = malloc(sizeof *actions * BENCH_POSES);
    int max_size = 0;
    for (int i = 0; i < count; i++)
        max_size = sizes[i] > max_size ? sizes[i] : max_size;
    uint8_t *rgb = malloc((size_t)max_size * (size_t)max_size * 3u);
    int status = 1;
    if (!w || !poses || !actions || !rgb || traj_generate(w, 7, BENCH_POSES, poses, actions) != 0) {
        cli_error("%s", w ? "out of memory" : err);
        goto done;
    }
    const char *device = "cpu-1-thread";
    if (!json)
        printf("device: %s (C ray caster, the world's %d-frame exploration path)\n%-8s %-9s %8s %10s %10s\n", device,
               BENCH_POSES, "op", "shape", "frames", "ms/frame", "frames/s");
    for (int s = 0; s < count; s++) {
        int n = 0;
        world_render(w, poses[0], sizes[s], sizes[s], rgb, NULL); /* warm the caches */
        double t0 = progress_now_s(), elapsed = 0.0;
        do {
            for (int k = 0; k < 16; k++, n++)
                world_render(w, poses[n % BENCH_POSES], sizes[s], sizes[s], rgb, NULL);
            elapsed = progress_now_s() - t0;
        } while (elapsed < seconds);
        double ms = 1000.0 * elapsed / n;
        if (json) {
            if (print_json_line(sizes[s], n, ms, device) != 0) {
                cli_error("out of memory");
                goto done;
            }
        } else
            printf("%-8s %4dx%-4d %8d %10.4f %10.1f\n", "render", sizes[s], sizes[s], n, ms, 1000.0 / ms);
        fflush(stdout);
    }
    status = 0;
done:
    free(rgb);
    free(poses);
    free(actions);
    world_destroy(w);
    return status;
}
