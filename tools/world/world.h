/* world: a seeded procedural maze of rooms and corridors.
 *
 * The world is a grid of square cells, WORLD_CELL_SIZE metres on a side,
 * with full-height walls: a cell is either open or solid. Cell (cx, cz)
 * covers x in [cx, cx+1) * cell size, z in [cz, cz+1) * cell size. Every
 * open cell belongs to a region (a room, or a zone of corridors), and each
 * region has its own colours and bold wall and floor patterns; rooms may be
 * open to the sky. Landmarks (pillars in large rooms, emblem panels on room
 * walls) carry a unique emblem. Generation uses integer arithmetic only, so
 * the same seed gives the same world on every machine. */
#ifndef WORLDKV_WORLD_H
#define WORLDKV_WORLD_H

#include <stddef.h>
#include <stdint.h>

#include "camera.h"

#define WORLD_CELL_SIZE 2.0f
#define WORLD_WALL_HEIGHT 3.0f
#define WORLD_DEFAULT_CELLS 21
#define WORLD_MIN_CELLS 9
#define WORLD_MAX_CELLS 99
#define WORLD_MAX_REGIONS 256
#define WORLD_MAX_LANDMARKS 96
#define WORLD_MAX_ROOMS 24

typedef enum world_wall_pattern {
    WORLD_WALL_BRICKS,
    WORLD_WALL_HSTRIPES,
    WORLD_WALL_VSTRIPES,
    WORLD_WALL_CHECKS,
    WORLD_WALL_PANELS,
    WORLD_WALL_PATTERN_COUNT
} world_wall_pattern;

typedef enum world_floor_pattern {
    WORLD_FLOOR_CHECKS,
    WORLD_FLOOR_PLANKS,
    WORLD_FLOOR_TILES,
    WORLD_FLOOR_PATTERN_COUNT
} world_floor_pattern;

typedef struct world_style {
    uint8_t wall_a[3], wall_b[3];   /* pattern colours */
    uint8_t floor_a[3], floor_b[3];
    uint8_t ceiling[3];
    uint8_t wall_pattern;  /* world_wall_pattern */
    uint8_t floor_pattern; /* world_floor_pattern */
    uint8_t open_sky;      /* rooms only: no ceiling, the sky shows */
} world_style;

typedef struct world_landmark {
    uint8_t colour[3];     /* emblem colour */
    uint8_t background[3];
    uint8_t shape;         /* emblem shape index */
} world_landmark;

typedef struct world_room {
    int x, z, w, d; /* in cells */
} world_room;

typedef struct world {
    uint64_t seed;
    int width, depth;  /* cells */
    float cell_size, wall_height;
    uint8_t *solid;    /* width * depth: 1 where the cell is a wall */
    uint8_t *region;   /* region of an open cell */
    uint8_t *landmark; /* 0, or 1 + landmark index for a solid cell */
    int region_count, landmark_count, room_count;
    world_style styles[WORLD_MAX_REGIONS];
    world_landmark landmarks[WORLD_MAX_LANDMARKS];
    world_room rooms[WORLD_MAX_ROOMS];
} world;

/* Builds the world for `seed` on a cells x cells grid (odd, in
 * [WORLD_MIN_CELLS, WORLD_MAX_CELLS]). Returns NULL and fills err on failure. */
world *world_create(uint64_t seed, int cells, char *err, size_t err_size);
void world_destroy(world *w);

cam_grid world_grid(const world *w);
int world_is_open(const world *w, int cx, int cz);
/* A pose at the centre of an open cell, at eye height, facing yaw. */
cam_pose world_cell_pose(const world *w, int cx, int cz, float yaw);
/* A deterministic default start: the centre of the first room, facing
 * along its longer side. */
cam_pose world_default_start(const world *w);
/* 64-bit FNV-1a hash of the map and styles, for determinism checks. */
uint64_t world_hash(const world *w);

#endif
