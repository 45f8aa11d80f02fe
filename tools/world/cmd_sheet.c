/* worldkv-world sheet: a contact sheet of sample episodes. Each row is one
 * dataset episode: a top-down map with its path, then frames along it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_args.h"
#include "cli_util.h"
#include "commands.h"
#include "dataset.h"
#include "image_io.h"
#include "render.h"
#include "trajectory.h"
#include "world.h"

#define GUTTER 2

static void usage(FILE *out)
{
    fprintf(out,
            "usage: " CLI_NAME " sheet -o OUT.png [OPTIONS]\n"
            "\n"
            "Draws episodes exactly as 'dataset' with the same --seed makes them: per row a\n"
            "map (walls dark, open cells in their region's floor colour, landmarks in their\n"
            "emblem colour, the path in white from its red start), then evenly spaced frames.\n"
            "\n"
            "  -o OUT.png        output image\n"
            "  --seed S          dataset seed (default 1)\n"
            "  --episodes N      rows (default 4)\n"
            "  --frames L        episode length (default 64)\n"
            "  --columns C       frames shown per row (default 8)\n"
            "  --size R          frame size (default 96)\n"
            "  -h, --help        this help\n");
}

static void put(uint8_t *img, int stride_px, int x, int y, const uint8_t c[3])
{
    memcpy(img + ((size_t)y * (size_t)stride_px + (size_t)x) * 3u, c, 3);
}

static void draw_map(const world *w, const cam_pose *poses, int frames, uint8_t *img, int stride_px, int ox, int oy,
                     int size)
{
    int scale = size / (w->width > w->depth ? w->width : w->depth);
    if (scale < 1)
        scale = 1;
    static const uint8_t wall[3] = {30, 30, 36}, white[3] = {255, 255, 255}, red[3] = {230, 30, 30};
    for (int cz = 0; cz < w->depth; cz++)
        for (int cx = 0; cx < w->width; cx++) {
            size_t i = (size_t)cz * (size_t)w->width + (size_t)cx;
            const uint8_t *c = wall;
            if (w->landmark[i])
                c = w->landmarks[w->landmark[i] - 1].colour;
            else if (!w->solid[i])
                c = w->styles[w->region[i]].floor_a;
            for (int y = 0; y < scale; y++)
                for (int x = 0; x < scale; x++)
                    if (cx * scale + x < size && cz * scale + y < size)
                        put(img, stride_px, ox + cx * scale + x, oy + cz * scale + y, c);
        }
    for (int t = 0; t < frames; t++) {
        int x = (int)(poses[t].x / w->cell_size * (float)scale), y = (int)(poses[t].z / w->cell_size * (float)scale);
        if (x >= 0 && y >= 0 && x < size && y < size)
            put(img, stride_px, ox + x, oy + y, t == 0 ? red : white);
    }
}

static const cli_option sheet_options[] = {
    {"--help", 'h', 0}, {"--out", 'o', 1},     {"--seed", 0, 1}, {"--episodes", 0, 1},
    {"--frames", 0, 1}, {"--columns", 0, 1},   {"--size", 0, 1},
};

int cmd_sheet(int argc, char **argv)
{
    const char *out = NULL;
    dataset_params p;
    dataset_default_params(&p);
    int rows = 4, columns = 8, size = 96;
    cli_args args;
    cli_args_init(&args, CLI_NAME " sheet", argc, argv, 1, sheet_options,
                  (int)(sizeof sheet_options / sizeof sheet_options[0]));
    const char *a, *v;
    int more;
    while ((more = cli_args_next_named(&args, &a, &v)) != 0) {
        if (more < 0)
            return 2;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--out")) {
            out = v;
        } else if (!strcmp(a, "--seed")) {
            if (cli_u64(a, v, &p.seed))
                return 2;
        } else if (!strcmp(a, "--episodes")) {
            if (cli_int(a, v, 1, 64, &rows))
                return 2;
        } else if (!strcmp(a, "--frames")) {
            if (cli_int(a, v, 1, 100000, &p.frames))
                return 2;
        } else if (!strcmp(a, "--columns")) {
            if (cli_int(a, v, 1, 32, &columns))
                return 2;
        } else if (!strcmp(a, "--size")) {
            if (cli_int(a, v, RENDER_MIN_SIZE, 256, &size))
                return 2;
        }
    }
    if (!out) {
        cli_error("sheet needs -o OUT.png");
        return 2;
    }
    int width = GUTTER + (columns + 1) * (size + GUTTER), height = GUTTER + rows * (size + GUTTER);
    uint8_t *img = calloc((size_t)width * (size_t)height, 3);
    uint8_t *frame = malloc((size_t)size * (size_t)size * 3u);
    cam_pose *poses = malloc(sizeof *poses * (size_t)p.frames);
    cam_action *actions = malloc(sizeof *actions * (size_t)p.frames);
    char err[512];
    int status = 1;
    if (!img || !frame || !poses || !actions) {
        cli_error("out of memory");
        goto done;
    }
    memset(img, 16, (size_t)width * (size_t)height * 3u);
    for (int r = 0; r < rows; r++) {
        world *w = world_create(dataset_world_seed(&p, r), p.world_cells, err, sizeof err);
        if (!w || traj_generate(w, dataset_episode_seed(&p, r), p.frames, poses, actions) != 0) {
            cli_error("%s", w ? "out of memory" : err);
            world_destroy(w);
            goto done;
        }
        int y0 = GUTTER + r * (size + GUTTER);
        draw_map(w, poses, p.frames, img, width, GUTTER, y0, size);
        for (int c = 0; c < columns; c++) {
            int t = columns > 1 ? c * (p.frames - 1) / (columns - 1) : 0;
            world_render(w, poses[t], size, size, frame, NULL);
            int x0 = GUTTER + (c + 1) * (size + GUTTER);
            for (int y = 0; y < size; y++)
                memcpy(img + ((size_t)(y0 + y) * (size_t)width + (size_t)x0) * 3u, frame + (size_t)y * (size_t)size * 3u,
                       (size_t)size * 3u);
        }
        world_destroy(w);
    }
    if (image_write_png(out, img, width, height, err, sizeof err) != 0) {
        cli_error("%s", err);
        goto done;
    }
    fprintf(stderr, "wrote a %dx%d contact sheet of %d episodes to %s\n", width, height, rows, out);
    status = 0;
done:
    free(img);
    free(frame);
    free(poses);
    free(actions);
    return status;
}
