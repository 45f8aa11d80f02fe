#include "render.h"

#include <math.h>
#include <string.h>

#include "detmath.h"

#define BASEBOARD_HEIGHT 0.18f
#define FOG_DISTANCE 26.0f /* z-depth at which the fog is full */
#define FOG_MAX 0.65f

static const float k_fog_rgb[3] = {46.0f, 48.0f, 58.0f};
static const float k_sky_horizon[3] = {205.0f, 222.0f, 236.0f};
static const float k_sky_zenith[3] = {72.0f, 122.0f, 205.0f};
static const float k_sun_rgb[3] = {255.0f, 244.0f, 190.0f};

typedef struct ray_setup {
    const world *w;
    float ox, oy, oz;
    float sun[3];
} ray_setup;

/* Parity of the cell of v on a grid of period `size`, as 0 or 1. */
static int band(float v, float size)
{
    return (int)floorf(v / size) & 1;
}

static float frac(float v)
{
    return v - floorf(v);
}

static void pick(float out[3], const uint8_t c[3], float shade)
{
    out[0] = c[0] * shade;
    out[1] = c[1] * shade;
    out[2] = c[2] * shade;
}

/* Emblem coverage on a landmark face: (u, y) in metres on a 2 x 3 m face. */
static int emblem_hit(int shape, float u, float y)
{
    float dx = u - 1.0f, dy = y - 1.55f;
    float ax = fabsf(dx), ay = fabsf(dy);
    switch (shape) {
    case 0: return dx * dx + dy * dy < 0.42f;                          /* disc */
    case 1: return ax < 0.55f && ay < 0.55f;                            /* square */
    case 2: return ax + ay < 0.75f;                                     /* diamond */
    case 3: return (ax < 0.18f && ay < 0.7f) || (ay < 0.18f && ax < 0.7f); /* plus */
    case 4: { float r2 = dx * dx + dy * dy; return r2 < 0.49f && r2 > 0.16f; } /* ring */
    case 5: return dy > -0.55f && dy < 0.6f && ax < 0.5f * (0.6f - dy); /* triangle */
    case 6: return ax < 0.7f && (fabsf(dy - 0.3f) < 0.14f || fabsf(dy + 0.3f) < 0.14f); /* bars */
    default: return fabsf(ax - ay) < 0.16f && ax < 0.65f;              /* cross */
    }
}

static void wall_colour(const ray_setup *rs, float out[3], int wall_cell, int open_cell, float s, float u, float y, float shade)
{
    const world *w = rs->w;
    int lm = w->landmark[wall_cell];
    if (lm) {
        const world_landmark *l = &w->landmarks[lm - 1];
        pick(out, emblem_hit(l->shape, u, y) ? l->colour : l->background, shade);
        return;
    }
    const world_style *st = &w->styles[w->region[open_cell]];
    if (y < BASEBOARD_HEIGHT) {
        pick(out, st->wall_a, 0.45f * shade);
        return;
    }
    int use_b;
    switch (st->wall_pattern) {
    case WORLD_WALL_BRICKS: {
        float row = floorf(y / 0.5f);
        float offset = ((int)row & 1) ? 0.5f : 0.0f;
        use_b = frac(y / 0.5f) < 0.12f || frac((s + offset) / 1.0f) < 0.06f;
        break;
    }
    case WORLD_WALL_HSTRIPES: use_b = band(y, 0.5f); break;
    case WORLD_WALL_VSTRIPES: use_b = band(s, 0.5f); break;
    case WORLD_WALL_CHECKS: use_b = band(s, 0.75f) ^ band(y, 0.75f); break;
    default: use_b = frac(s / 1.0f) < 0.1f || (y > 1.9f && y < 2.1f); break; /* panels */
    }
    pick(out, use_b ? st->wall_b : st->wall_a, shade);
}

static void floor_colour(const world *w, float out[3], int cell, float x, float z)
{
    const world_style *st = &w->styles[w->region[cell]];
    int use_b;
    switch (st->floor_pattern) {
    case WORLD_FLOOR_CHECKS: use_b = band(x, 1.0f) ^ band(z, 1.0f); break;
    case WORLD_FLOOR_PLANKS: use_b = band(x, 0.5f); break;
    default: use_b = frac(x / 1.0f) < 0.08f || frac(z / 1.0f) < 0.08f; break; /* tiles */
    }
    pick(out, use_b ? st->floor_b : st->floor_a, 1.0f);
}

static void sky_colour(const ray_setup *rs, float out[3], float dx, float dy, float dz)
{
    float inv = 1.0f / sqrtf(dx * dx + dy * dy + dz * dz);
    float e = dy * inv;
    float sun = (dx * rs->sun[0] + dy * rs->sun[1] + dz * rs->sun[2]) * inv;
    if (sun > 0.9975f) {
        memcpy(out, k_sun_rgb, sizeof k_sun_rgb);
        return;
    }
    float t = e < 0.0f ? 0.0f : (e > 1.0f ? 1.0f : e);
    for (int i = 0; i < 3; i++)
        out[i] = k_sky_horizon[i] + (k_sky_zenith[i] - k_sky_horizon[i]) * t;
}

/* Casts one ray with direction d (not normalised; d . forward = 1, so the
 * ray parameter is the z-depth). Returns the z-depth and writes the colour. */
static float cast(const ray_setup *rs, float dx, float dy, float dz, float out[3])
{
    const world *w = rs->w;
    const float cs = w->cell_size;
    /* distance to the floor or ceiling plane, the farthest a wall can be */
    float t_plane = 1e30f;
    if (dy < -1e-6f)
        t_plane = -rs->oy / dy;
    else if (dy > 1e-6f)
        t_plane = (w->wall_height - rs->oy) / dy;

    int cx = (int)floorf(rs->ox / cs), cz = (int)floorf(rs->oz / cs);
    int step_x = dx > 0.0f ? 1 : -1, step_z = dz > 0.0f ? 1 : -1;
    float inv_dx = dx != 0.0f ? 1.0f / dx : 1e30f, inv_dz = dz != 0.0f ? 1.0f / dz : 1e30f;
    float delta_x = fabsf(cs * inv_dx), delta_z = fabsf(cs * inv_dz);
    float next_x = dx != 0.0f ? ((float)(cx + (dx > 0.0f)) * cs - rs->ox) * inv_dx : 1e30f;
    float next_z = dz != 0.0f ? ((float)(cz + (dz > 0.0f)) * cs - rs->oz) * inv_dz : 1e30f;
    const int width = w->width, depth = w->depth;
    const uint8_t *solid = w->solid;
    int prev = cz * width + cx;

    for (;;) {
        float t;
        int side_x = next_x < next_z;
        if (side_x) {
            t = next_x;
            cx += step_x;
            next_x += delta_x;
        } else {
            t = next_z;
            cz += step_z;
            next_z += delta_z;
        }
        if (t >= t_plane)
            break;
        if (cx < 0 || cz < 0 || cx >= width || cz >= depth)
            break; /* cannot happen inside a walled world; draw the plane */
        int cell = cz * width + cx;
        if (solid[cell]) {
            float y = rs->oy + t * dy;
            float s, face_origin;
            if (side_x) {
                s = rs->oz + t * dz;
                face_origin = (float)cz * cs;
            } else {
                s = rs->ox + t * dx;
                face_origin = (float)cx * cs;
            }
            float u = s - face_origin;
            /* faces towards -x and -z read left to right when seen */
            if ((side_x && step_x < 0) || (!side_x && step_z > 0))
                u = cs - u;
            wall_colour(rs, out, cell, prev, s, u, y, side_x ? 0.78f : 1.0f);
            return t;
        }
        prev = cell;
    }
    if (t_plane >= 1e30f) {
        sky_colour(rs, out, dx, dy, dz);
        return RENDER_SKY_DEPTH;
    }
    float hx = rs->ox + t_plane * dx, hz = rs->oz + t_plane * dz;
    int hcx = (int)floorf(hx / cs), hcz = (int)floorf(hz / cs);
    if (hcx < 0) hcx = 0;
    if (hcz < 0) hcz = 0;
    if (hcx >= width) hcx = width - 1;
    if (hcz >= depth) hcz = depth - 1;
    int cell = hcz * width + hcx;
    if (dy < 0.0f) {
        floor_colour(w, out, cell, hx, hz);
        return t_plane;
    }
    const world_style *st = &w->styles[w->region[cell]];
    if (st->open_sky) {
        sky_colour(rs, out, dx, dy, dz);
        return RENDER_SKY_DEPTH;
    }
    /* ceiling beams every 1 m along x give the eye a cue when looking up */
    pick(out, st->ceiling, frac(hx / 1.0f) < 0.12f ? 0.7f : 1.0f);
    return t_plane;
}

static uint8_t to_u8(float v)
{
    v += 0.5f;
    return (uint8_t)(v <= 0.0f ? 0.0f : (v >= 255.0f ? 255.0f : v));
}

int world_render(const world *w, cam_pose pose, int width, int height, uint8_t *rgb, float *depth)
{
    if (width < RENDER_MIN_SIZE || height < RENDER_MIN_SIZE || width > RENDER_MAX_SIZE || height > RENDER_MAX_SIZE)
        return -1;
    ray_setup rs = {w, pose.x, pose.y, pose.z, {0}};
    /* sun to the south-east, 35 degrees up */
    rs.sun[0] = (float)(dm_cos_deg(35.0) * dm_sin_deg(135.0));
    rs.sun[1] = (float)dm_sin_deg(35.0);
    rs.sun[2] = (float)(-dm_cos_deg(35.0) * dm_cos_deg(135.0));
    float fwd[3], right[3], up[3];
    cam_basis(pose, fwd, right, up);
    float inv_f = 1.0f / cam_focal_px(width);
    for (int py = 0; py < height; py++) {
        float v = (0.5f * (float)height - ((float)py + 0.5f)) * inv_f;
        float row[3] = {fwd[0] + up[0] * v, fwd[1] + up[1] * v, fwd[2] + up[2] * v};
        for (int px = 0; px < width; px++) {
            float u = ((float)px + 0.5f - 0.5f * (float)width) * inv_f;
            float c[3];
            float t = cast(&rs, row[0] + right[0] * u, row[1] + right[1] * u, row[2] + right[2] * u, c);
            float fog = t >= RENDER_SKY_DEPTH ? 0.0f : t * (FOG_MAX / FOG_DISTANCE);
            if (fog > FOG_MAX)
                fog = FOG_MAX;
            uint8_t *o = rgb + ((size_t)py * (size_t)width + (size_t)px) * 3;
            for (int i = 0; i < 3; i++)
                o[i] = to_u8(c[i] + (k_fog_rgb[i] - c[i]) * fog);
            if (depth)
                depth[(size_t)py * (size_t)width + (size_t)px] = t;
        }
    }
    return 0;
}
