#include "world.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "rng.h"

/* Bold, well separated hues: a region is recognised by its colours. */
static const uint8_t k_hues[][3] = {
    {200, 60, 50},   {230, 140, 40},  {225, 200, 60},  {120, 180, 60},
    {50, 150, 90},   {40, 170, 170},  {60, 120, 200},  {90, 80, 190},
    {160, 80, 180},  {210, 90, 140},  {150, 100, 60},  {110, 140, 150},
};
#define HUE_COUNT ((int)(sizeof k_hues / sizeof k_hues[0]))

static const uint8_t k_neutrals[][3] = {
    {235, 230, 215}, {190, 185, 175}, {120, 115, 110}, {60, 58, 62}, {215, 205, 180}, {150, 160, 165},
};
#define NEUTRAL_COUNT ((int)(sizeof k_neutrals / sizeof k_neutrals[0]))

#define EMBLEM_SHAPES 8
#define CORRIDOR_ZONE 7 /* corridor regions are zones of 7 x 7 cells */

static void set_error(char *err, size_t n, const char *msg)
{
    if (err && n)
        snprintf(err, n, "%s", msg);
}

static void copy_rgb(uint8_t dst[3], const uint8_t src[3])
{
    memcpy(dst, src, 3);
}

/* c * num / 256, per channel, in integers. */
static void scale_rgb(uint8_t dst[3], const uint8_t src[3], int num)
{
    for (int i = 0; i < 3; i++) {
        int v = (src[i] * num) >> 8;
        dst[i] = (uint8_t)(v > 255 ? 255 : v);
    }
}

static void mix_rgb(uint8_t dst[3], const uint8_t a[3], const uint8_t b[3], int b_weight_256)
{
    for (int i = 0; i < 3; i++)
        dst[i] = (uint8_t)((a[i] * (256 - b_weight_256) + b[i] * b_weight_256) >> 8);
}

static size_t cell_index(const world *w, int cx, int cz)
{
    return (size_t)cz * (size_t)w->width + (size_t)cx;
}

int world_is_open(const world *w, int cx, int cz)
{
    if (cx < 0 || cz < 0 || cx >= w->width || cz >= w->depth)
        return 0;
    return !w->solid[cell_index(w, cx, cz)];
}

static void make_style(world_style *s, rng_state *r, int is_room)
{
    int hue = (int)rng_below(r, HUE_COUNT);
    int second = (hue + 3 + (int)rng_below(r, HUE_COUNT - 5)) % HUE_COUNT;
    copy_rgb(s->wall_a, k_hues[hue]);
    if (rng_below(r, 2))
        copy_rgb(s->wall_b, k_neutrals[rng_below(r, NEUTRAL_COUNT)]);
    else
        copy_rgb(s->wall_b, k_hues[second]);
    s->wall_pattern = (uint8_t)rng_below(r, WORLD_WALL_PATTERN_COUNT);
    const uint8_t *fa = k_neutrals[rng_below(r, NEUTRAL_COUNT)];
    mix_rgb(s->floor_a, fa, k_hues[hue], 60);
    scale_rgb(s->floor_b, s->floor_a, 150);
    s->floor_pattern = (uint8_t)rng_below(r, WORLD_FLOOR_PATTERN_COUNT);
    mix_rgb(s->ceiling, k_neutrals[rng_below(r, NEUTRAL_COUNT)], k_hues[second], 40);
    s->open_sky = (uint8_t)(is_room && rng_below(r, 2));
}

static void make_landmark(world_landmark *l, rng_state *r, int index)
{
    l->shape = (uint8_t)(index % EMBLEM_SHAPES);
    copy_rgb(l->colour, k_hues[rng_below(r, HUE_COUNT)]);
    copy_rgb(l->background, rng_below(r, 2) ? k_neutrals[0] : k_neutrals[3]);
}

static int room_fits(const world *w, int x, int z, int rw, int rd)
{
    if (x < 1 || z < 1 || x + rw > w->width - 1 || z + rd > w->depth - 1)
        return 0;
    for (int i = 0; i < w->room_count; i++) {
        const world_room *o = &w->rooms[i];
        /* keep at least one wall cell between rooms */
        if (x < o->x + o->w + 1 && o->x < x + rw + 1 && z < o->z + o->d + 1 && o->z < z + rd + 1)
            return 0;
    }
    return 1;
}

static void place_rooms(world *w, rng_state *r)
{
    int target = (w->width * w->depth) / 60;
    if (target > WORLD_MAX_ROOMS)
        target = WORLD_MAX_ROOMS;
    for (int attempt = 0; attempt < 200 && w->room_count < target; attempt++) {
        int rw = 3 + 2 * (int)rng_below(r, 3), rd = 3 + 2 * (int)rng_below(r, 3);
        int x = 1 + 2 * (int)rng_below(r, (uint32_t)((w->width - rw) / 2));
        int z = 1 + 2 * (int)rng_below(r, (uint32_t)((w->depth - rd) / 2));
        if (!room_fits(w, x, z, rw, rd))
            continue;
        world_room *room = &w->rooms[w->room_count];
        *room = (world_room){x, z, rw, rd};
        for (int cz = z; cz < z + rd; cz++)
            for (int cx = x; cx < x + rw; cx++) {
                w->solid[cell_index(w, cx, cz)] = 0;
                w->region[cell_index(w, cx, cz)] = (uint8_t)w->room_count;
            }
        w->room_count++;
    }
}

/* Carves corridors through every untouched odd cell: a depth-first maze. */
static int carve_mazes(world *w, rng_state *r, int *component, int *components)
{
    int cells = w->width * w->depth;
    int *stack = malloc(sizeof(int) * (size_t)cells);
    if (!stack)
        return -1;
    static const int dx[4] = {2, -2, 0, 0}, dz[4] = {0, 0, 2, -2};
    for (int z = 1; z < w->depth - 1; z += 2)
        for (int x = 1; x < w->width - 1; x += 2) {
            if (!w->solid[cell_index(w, x, z)])
                continue;
            int id = (*components)++;
            int top = 0;
            stack[top++] = (int)cell_index(w, x, z);
            w->solid[cell_index(w, x, z)] = 0;
            component[cell_index(w, x, z)] = id;
            while (top > 0) {
                int cur = stack[top - 1], cx = cur % w->width, cz = cur / w->width;
                int options[4], n = 0;
                for (int k = 0; k < 4; k++) {
                    int nx = cx + dx[k], nz = cz + dz[k];
                    if (nx > 0 && nz > 0 && nx < w->width - 1 && nz < w->depth - 1 && w->solid[cell_index(w, nx, nz)])
                        options[n++] = k;
                }
                if (n == 0) {
                    top--;
                    continue;
                }
                int k = options[rng_below(r, (uint32_t)n)];
                int nx = cx + dx[k], nz = cz + dz[k], mx = cx + dx[k] / 2, mz = cz + dz[k] / 2;
                w->solid[cell_index(w, mx, mz)] = 0;
                w->solid[cell_index(w, nx, nz)] = 0;
                component[cell_index(w, mx, mz)] = id;
                component[cell_index(w, nx, nz)] = id;
                stack[top++] = (int)cell_index(w, nx, nz);
            }
        }
    free(stack);
    return 0;
}

static int uf_find(int *parent, int a)
{
    while (parent[a] != a) {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    return a;
}

/* Opens wall cells between different components until all are joined, and
 * a few more, so that the maze has loops a walker can come back around. */
static int connect_components(world *w, rng_state *r, int *component, int components)
{
    int cells = w->width * w->depth;
    int *candidates = malloc(sizeof(int) * (size_t)cells);
    int *parent = malloc(sizeof(int) * (size_t)components);
    if (!candidates || !parent) {
        free(candidates);
        free(parent);
        return -1;
    }
    for (int i = 0; i < components; i++)
        parent[i] = i;
    int n = 0;
    for (int z = 1; z < w->depth - 1; z++)
        for (int x = 1; x < w->width - 1; x++) {
            if (!w->solid[cell_index(w, x, z)])
                continue;
            int horizontal = world_is_open(w, x - 1, z) && world_is_open(w, x + 1, z);
            int vertical = world_is_open(w, x, z - 1) && world_is_open(w, x, z + 1);
            if (horizontal != vertical)
                candidates[n++] = (int)cell_index(w, x, z);
        }
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)rng_below(r, (uint32_t)(i + 1)), t = candidates[i];
        candidates[i] = candidates[j];
        candidates[j] = t;
    }
    for (int i = 0; i < n; i++) {
        int c = candidates[i], x = c % w->width, z = c / w->width;
        int a, b;
        if (world_is_open(w, x - 1, z) && world_is_open(w, x + 1, z)) {
            a = component[cell_index(w, x - 1, z)];
            b = component[cell_index(w, x + 1, z)];
        } else {
            a = component[cell_index(w, x, z - 1)];
            b = component[cell_index(w, x, z + 1)];
        }
        int ra = uf_find(parent, a), rb = uf_find(parent, b);
        if (ra != rb) {
            parent[ra] = rb;
            w->solid[c] = 0;
            component[c] = a;
        } else if (rng_below(r, 14) == 0) {
            w->solid[c] = 0;
            component[c] = a;
        }
    }
    free(candidates);
    free(parent);
    return 0;
}

/* Rooms keep their own region; each corridor cell takes its zone's region,
 * as does each door cell opened between two areas. */
static void assign_regions(world *w)
{
    int zones_x = (w->width + CORRIDOR_ZONE - 1) / CORRIDOR_ZONE;
    for (int z = 0; z < w->depth; z++)
        for (int x = 0; x < w->width; x++) {
            size_t i = cell_index(w, x, z);
            int in_room = 0;
            for (int k = 0; k < w->room_count; k++) {
                const world_room *room = &w->rooms[k];
                if (x >= room->x && x < room->x + room->w && z >= room->z && z < room->z + room->d)
                    in_room = 1;
            }
            if (!in_room)
                w->region[i] = (uint8_t)(w->room_count + (z / CORRIDOR_ZONE) * zones_x + x / CORRIDOR_ZONE);
        }
    int zones_z = (w->depth + CORRIDOR_ZONE - 1) / CORRIDOR_ZONE;
    w->region_count = w->room_count + zones_x * zones_z;
}

static int add_landmark(world *w, rng_state *r, int cx, int cz)
{
    if (w->landmark_count >= WORLD_MAX_LANDMARKS)
        return 0;
    make_landmark(&w->landmarks[w->landmark_count], r, w->landmark_count);
    w->solid[cell_index(w, cx, cz)] = 1;
    w->landmark[cell_index(w, cx, cz)] = (uint8_t)(1 + w->landmark_count);
    w->landmark_count++;
    return 1;
}

/* A wall cell on the room's rim that faces into the room, for a panel. */
static int pick_rim_cell(const world *w, rng_state *r, const world_room *room, int *cx, int *cz)
{
    for (int attempt = 0; attempt < 16; attempt++) {
        int side = (int)rng_below(r, 4);
        int along = (int)rng_below(r, (uint32_t)(side < 2 ? room->w : room->d));
        int x, z;
        switch (side) {
        case 0: x = room->x + along; z = room->z - 1; break;
        case 1: x = room->x + along; z = room->z + room->d; break;
        case 2: x = room->x - 1; z = room->z + along; break;
        default: x = room->x + room->w; z = room->z + along; break;
        }
        if (x <= 0 || z <= 0 || x >= w->width - 1 || z >= w->depth - 1)
            continue;
        if (w->solid[cell_index(w, x, z)] && !w->landmark[cell_index(w, x, z)]) {
            *cx = x;
            *cz = z;
            return 1;
        }
    }
    return 0;
}

static void place_landmarks(world *w, rng_state *r)
{
    for (int k = 0; k < w->room_count; k++) {
        const world_room *room = &w->rooms[k];
        /* a pillar in the middle of any room at least 5 x 5 leaves a ring
         * around it, so the room stays connected */
        if (room->w >= 5 && room->d >= 5)
            add_landmark(w, r, room->x + room->w / 2, room->z + room->d / 2);
        int cx, cz;
        if (pick_rim_cell(w, r, room, &cx, &cz))
            add_landmark(w, r, cx, cz);
    }
}

world *world_create(uint64_t seed, int cells, char *err, size_t err_size)
{
    if (cells < WORLD_MIN_CELLS || cells > WORLD_MAX_CELLS || cells % 2 == 0) {
        set_error(err, err_size, "world size must be an odd number of cells between 9 and 99");
        return NULL;
    }
    world *w = calloc(1, sizeof *w);
    size_t n = (size_t)cells * (size_t)cells;
    int *component = w ? malloc(sizeof(int) * n) : NULL;
    if (w) {
        w->solid = malloc(n);
        w->region = calloc(n, 1);
        w->landmark = calloc(n, 1);
    }
    if (!w || !component || !w->solid || !w->region || !w->landmark) {
        free(component);
        world_destroy(w);
        set_error(err, err_size, "out of memory while building the world");
        return NULL;
    }
    memset(w->solid, 1, n);
    w->seed = seed;
    w->width = w->depth = cells;
    w->cell_size = WORLD_CELL_SIZE;
    w->wall_height = WORLD_WALL_HEIGHT;
    rng_state r = {rng_derive(seed, 0x574f524cu)};

    place_rooms(w, &r);
    for (size_t i = 0; i < n; i++)
        component[i] = w->solid[i] ? -1 : w->region[i];
    int components = w->room_count;
    int status = carve_mazes(w, &r, component, &components);
    if (status == 0)
        status = connect_components(w, &r, component, components);
    free(component);
    if (status != 0) {
        world_destroy(w);
        set_error(err, err_size, "out of memory while building the world");
        return NULL;
    }
    assign_regions(w);
    for (int i = 0; i < w->region_count; i++)
        make_style(&w->styles[i], &r, i < w->room_count);
    place_landmarks(w, &r);
    return w;
}

void world_destroy(world *w)
{
    if (!w)
        return;
    free(w->solid);
    free(w->region);
    free(w->landmark);
    free(w);
}

cam_grid world_grid(const world *w)
{
    cam_grid g = {w->width, w->depth, w->cell_size, w->solid};
    return g;
}

cam_pose world_cell_pose(const world *w, int cx, int cz, float yaw)
{
    cam_pose p = {((float)cx + 0.5f) * w->cell_size, CAM_EYE_HEIGHT, ((float)cz + 0.5f) * w->cell_size, yaw, 0.0f};
    return p;
}

cam_pose world_default_start(const world *w)
{
    if (w->room_count > 0) {
        const world_room *room = &w->rooms[0];
        /* stand a cell in from the west or south wall, looking along the
         * room, one row off its middle so that a pillar stands aside */
        if (room->w >= room->d) {
            int row = room->z + room->d / 2 - (room->d >= 5 ? 1 : 0);
            return world_cell_pose(w, room->x, row, 90.0f);
        }
        int column = room->x + room->w / 2 - (room->w >= 5 ? 1 : 0);
        return world_cell_pose(w, column, room->z + room->d - 1, 0.0f);
    }
    for (int z = 0; z < w->depth; z++)
        for (int x = 0; x < w->width; x++)
            if (world_is_open(w, x, z))
                return world_cell_pose(w, x, z, 0.0f);
    return world_cell_pose(w, 1, 1, 0.0f);
}

uint64_t world_hash(const world *w)
{
    size_t n = (size_t)w->width * (size_t)w->depth;
    uint64_t h = hash_fnv1a(HASH_FNV_SEED, w->solid, n);
    h = hash_fnv1a(h, w->region, n);
    h = hash_fnv1a(h, w->landmark, n);
    h = hash_fnv1a(h, w->styles, sizeof(world_style) * (size_t)w->region_count);
    h = hash_fnv1a(h, w->landmarks, sizeof(world_landmark) * (size_t)w->landmark_count);
    return h;
}
