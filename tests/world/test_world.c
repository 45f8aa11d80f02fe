/* The world: the same seed gives the same bytes (here and, through the
 * golden hashes, on any machine), every open cell is reachable, and the
 * renderer rejects sizes it does not support. */
#include <stdlib.h>

#include "../test_util.h"
#include "hash.h"
#include "render.h"
#include "world.h"

/* Golden values for seed 1 at the default size. They change only when the
 * world's design changes on purpose; then update them and say so. */
#define GOLDEN_WORLD_HASH 0x5fd4243e5eee0aa2ull
#define GOLDEN_FRAME_HASH 0xa96f7f4ec4d83330ull

static int reachable_open_cells(const world *w, int *open_total)
{
    int n = w->width * w->depth, head = 0, tail = 0, start = -1;
    int *queue = malloc(sizeof(int) * (size_t)n);
    char *seen = calloc((size_t)n, 1);
    *open_total = 0;
    for (int i = 0; i < n; i++)
        if (!w->solid[i]) {
            (*open_total)++;
            if (start < 0)
                start = i;
        }
    queue[tail++] = start;
    seen[start] = 1;
    while (head < tail) {
        int c = queue[head++], cx = c % w->width, cz = c / w->width;
        int nb[4][2] = {{cx + 1, cz}, {cx - 1, cz}, {cx, cz + 1}, {cx, cz - 1}};
        for (int k = 0; k < 4; k++)
            if (world_is_open(w, nb[k][0], nb[k][1]) && !seen[nb[k][1] * w->width + nb[k][0]]) {
                seen[nb[k][1] * w->width + nb[k][0]] = 1;
                queue[tail++] = nb[k][1] * w->width + nb[k][0];
            }
    }
    free(queue);
    free(seen);
    return tail;
}

static void test_determinism(void)
{
    char err[128];
    world *a = world_create(1, WORLD_DEFAULT_CELLS, err, sizeof err);
    world *b = world_create(1, WORLD_DEFAULT_CELLS, err, sizeof err);
    world *c = world_create(2, WORLD_DEFAULT_CELLS, err, sizeof err);
    CHECK(a && b && c);
    if (!a || !b || !c)
        return;
    CHECK(world_hash(a) == world_hash(b));
    CHECK(world_hash(a) != world_hash(c));
    enum { R = 96 };
    static uint8_t fa[R * R * 3], fb[R * R * 3], fc[R * R * 3];
    cam_pose p = world_default_start(a);
    CHECK(world_render(a, p, R, R, fa, NULL) == 0);
    CHECK(world_render(b, p, R, R, fb, NULL) == 0);
    CHECK(world_render(c, world_default_start(c), R, R, fc, NULL) == 0);
    CHECK(memcmp(fa, fb, sizeof fa) == 0);
    CHECK(memcmp(fa, fc, sizeof fa) != 0);
    printf("world hash 0x%016llxull, frame hash 0x%016llxull\n", (unsigned long long)world_hash(a),
           (unsigned long long)hash_fnv1a(HASH_FNV_SEED, fa, sizeof fa));
    CHECK(world_hash(a) == GOLDEN_WORLD_HASH);
    CHECK(hash_fnv1a(HASH_FNV_SEED, fa, sizeof fa) == GOLDEN_FRAME_HASH);
    world_destroy(a);
    world_destroy(b);
    world_destroy(c);
}

static void test_structure(void)
{
    char err[128];
    for (uint64_t seed = 0; seed < 40; seed++) {
        int cells = 9 + 2 * (int)(seed % 20);
        world *w = world_create(seed, cells, err, sizeof err);
        CHECK(w != NULL);
        if (!w)
            continue;
        int open_total;
        CHECK(reachable_open_cells(w, &open_total) == open_total);
        for (int i = 0; i < cells; i++) { /* a closed border */
            CHECK(w->solid[i] && w->solid[(size_t)(cells - 1) * (size_t)cells + (size_t)i]);
            CHECK(w->solid[(size_t)i * (size_t)cells] && w->solid[(size_t)i * (size_t)cells + (size_t)cells - 1]);
        }
        if (cells >= 21) {
            CHECK(w->room_count >= 3);
            CHECK(w->landmark_count >= 3);
        }
        for (int i = 0; i < cells * cells; i++)
            if (!w->solid[i])
                CHECK(w->region[i] < w->region_count);
        world_destroy(w);
    }
}

static void test_errors(void)
{
    char err[128] = "";
    CHECK(world_create(1, 10, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "odd");
    CHECK(world_create(1, 7, err, sizeof err) == NULL);
    CHECK(world_create(1, 101, err, sizeof err) == NULL);
    world *w = world_create(1, 21, err, sizeof err);
    static uint8_t buf[600 * 600 * 3];
    cam_pose p = world_default_start(w);
    CHECK(world_render(w, p, 31, 64, buf, NULL) == -1);
    CHECK(world_render(w, p, 64, 513, buf, NULL) == -1);
    CHECK(world_render(w, p, 32, 32, buf, NULL) == 0);
    CHECK(world_render(w, p, 512, 512, buf, NULL) == 0);
    CHECK(world_render(w, p, 100, 37, buf, NULL) == 0); /* not square is fine */
    world_destroy(w);
}

int main(void)
{
    test_determinism();
    test_structure();
    test_errors();
    return test_finish("test_world");
}
