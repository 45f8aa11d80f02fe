#include "explore_hud.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "font3x5.h"

#define HUD_SCALE 2
#define LINE_H ((FONT_H + 2) * HUD_SCALE)
#define TEXT_MAX 160

static const SDL_Color white = {235, 235, 235, 255}, yellow = {255, 214, 64, 255}, red = {255, 80, 64, 255},
                       grey = {150, 150, 150, 255}, blue = {80, 130, 220, 255};

int hud_text_width(const char *text, int scale)
{
    return (int)strlen(text) * (FONT_W + 1) * scale;
}

void hud_text(SDL_Renderer *r, int x, int y, int scale, SDL_Color color, const char *text)
{
    SDL_Rect rects[TEXT_MAX * FONT_W * FONT_H];
    int n = 0;
    for (int i = 0; text[i] && i < TEXT_MAX; i++) {
        const unsigned char *g = font_glyph(text[i]);
        for (int gy = 0; gy < FONT_H; gy++)
            for (int gx = 0; gx < FONT_W; gx++)
                if (g[gy] >> (FONT_W - 1 - gx) & 1)
                    rects[n++] = (SDL_Rect){x + (i * (FONT_W + 1) + gx) * scale, y + gy * scale, scale, scale};
    }
    SDL_SetRenderDrawColor(r, color.r, color.g, color.b, color.a);
    SDL_RenderFillRects(r, rects, n);
}

static void panel(SDL_Renderer *r, SDL_Rect box)
{
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_BLEND);
    SDL_SetRenderDrawColor(r, 0, 0, 0, 160);
    SDL_RenderFillRect(r, &box);
}

static void lines(SDL_Renderer *r, int x, int y, char text[][TEXT_MAX], int count, SDL_Color color)
{
    int w = 0;
    for (int i = 0; i < count; i++)
        w = SDL_max(w, hud_text_width(text[i], HUD_SCALE));
    panel(r, (SDL_Rect){x - 4, y - 4, w + 8, count * LINE_H + 6});
    for (int i = 0; i < count; i++)
        hud_text(r, x, y + i * LINE_H, HUD_SCALE, color, text[i]);
}

/* The map's square in the bottom right corner, above the status line. */
static SDL_Rect map_area(int width, int height)
{
    int side = SDL_min(160, SDL_min(width, height) / 3);
    return (SDL_Rect){width - side - 10, height - side - LINE_H - 18, side, side};
}

void hud_draw(SDL_Renderer *r, int width, int height, const hud_info *in, int full)
{
    const xw_frame *f = in->frame;
    const worldkv_stats *st = &f->stats;
    char t[13][TEXT_MAX];
    int n = 0;
    double mib = (double)st->memory_bytes / (1024.0 * 1024.0);
    if (!full) { /* the compact default: frames/s and memory, one line, no map */
        snprintf(t[n++], TEXT_MAX, "%.1f fps  memory %d/%d slots %.1f MiB  Tab: more", f->gen_fps,
                 st->memory_slots_used, st->memory_slots, mib);
        lines(r, 10, 10, t, n, white);
        return;
    }
    double no_readback = st->last_step_ms - st->last_readback_ms;
    snprintf(t[n++], TEXT_MAX, "generated %.1f fps  redraw %.0f fps  frame %lld", f->gen_fps, in->display_fps,
             (long long)f->frame);
    snprintf(t[n++], TEXT_MAX, "step %.1f ms (%.1f without readback)", st->last_step_ms, no_readback);
    snprintf(t[n++], TEXT_MAX, "device %.1f ms  %u dispatches", st->last_submit_ms, st->dispatches);
    snprintf(t[n++], TEXT_MAX, "readback %.2f ms  retrieval %.0f us  fetch %.0f us", st->last_readback_ms,
             st->last_retrieval_us, st->last_fetch_us);
    if (f->stage_count) { /* --profile: the device's stages */
        int len = snprintf(t[n], TEXT_MAX, "stages (ms)");
        for (int i = 0; i < f->stage_count && len < TEXT_MAX; i++)
            len += snprintf(t[n] + len, (size_t)(TEXT_MAX - len), " %.10s %.0f", f->stages[i].name, f->stages[i].ms);
        n++;
    }
    snprintf(t[n++], TEXT_MAX, "x %.2f z %.2f  yaw %.0f  pitch %.0f", f->pose[0], f->pose[2], f->pose[3], f->pose[4]);
    snprintf(t[n++], TEXT_MAX, "memory %d/%d slots, %d read, %.1f MiB", st->memory_slots_used, st->memory_slots,
             st->retrieved_count, mib);
    if (f->host_capacity)
        snprintf(t[n++], TEXT_MAX, "host tier %d/%d slots, %.1f MiB", f->host_slots, f->host_capacity,
                 (double)f->host_bytes / (1024.0 * 1024.0));
    snprintf(t[n++], TEXT_MAX, "process %.0f MiB resident", in->rss_mib);
    snprintf(t[n++], TEXT_MAX, "input to screen %.0f ms (max %.0f)", in->latency_ms_mean, in->latency_ms_max);
    snprintf(t[n++], TEXT_MAX, "%.40s  %s  F1 help", in->device ? in->device : "", in->filter);
    lines(r, 10, 10, t, n, white);
    /* the map only where the text panel leaves room for it */
    SDL_Rect map = map_area(width, height);
    if (map.y > 10 + n * LINE_H + 6 || map.x > 10 + hud_text_width(t[0], HUD_SCALE) + 8)
        hud_map(r, map, f);
}

void hud_map(SDL_Renderer *r, SDL_Rect area, const xw_frame *f)
{
    panel(r, area);
    /* fit the camera and every slot, at least 8 m across, north up */
    float cx = f->pose[0], cz = f->pose[2], half = 4.0f;
    for (int i = 0; i < f->slot_count; i++) {
        half = fmaxf(half, fabsf(f->slots[i].pose[0] - cx) + 1.0f);
        half = fmaxf(half, fabsf(f->slots[i].pose[2] - cz) + 1.0f);
    }
    float k = (float)(area.w / 2 - 6) / half;
    int ox = area.x + area.w / 2, oy = area.y + area.h / 2;
    /* host tier slots first (small, blue), then the bank's (grey), then the slots read (yellow) on top */
    int host = 0;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; i < f->slot_count; i++) {
            const worldkv_slot *s = &f->slots[i];
            int layer = s->tier == WORLDKV_TIER_HOST ? 0 : 1 + s->retrieved;
            if (layer != pass)
                continue;
            host += layer == 0;
            int sx = ox + (int)lroundf((s->pose[0] - cx) * k), sy = oy + (int)lroundf((s->pose[2] - cz) * k);
            float yaw = s->pose[3] * (float)M_PI / 180.0f;
            SDL_Color c = layer == 0 ? blue : layer == 2 ? yellow : grey;
            int len = layer == 0 ? 4 : 7, size = layer == 0 ? 3 : 5;
            SDL_SetRenderDrawColor(r, c.r, c.g, c.b, 255);
            SDL_RenderDrawLine(r, sx, sy, sx + (int)lroundf((float)len * sinf(yaw)),
                               sy - (int)lroundf((float)len * cosf(yaw)));
            SDL_Rect dot = {sx - size / 2, sy - size / 2, size, size};
            SDL_RenderFillRect(r, &dot);
        }
    /* the camera and its field of view */
    float yaw = f->pose[3] * (float)M_PI / 180.0f, half_fov = 33.0f * (float)M_PI / 180.0f;
    SDL_SetRenderDrawColor(r, 255, 255, 255, 255);
    for (int e = -1; e <= 1; e += 2) {
        float a = yaw + (float)e * half_fov;
        SDL_RenderDrawLine(r, ox, oy, ox + (int)lroundf(16 * sinf(a)), oy - (int)lroundf(16 * cosf(a)));
    }
    SDL_Rect me = {ox - 3, oy - 3, 7, 7};
    SDL_RenderFillRect(r, &me);
    char label[64];
    snprintf(label, sizeof label, host ? "memory map  %d host" : "memory map", host);
    hud_text(r, area.x + 4, area.y + area.h - 12, 2, grey, label);
}

void hud_help(SDL_Renderer *r, int width, int height)
{
    static const char *help[] = {
        "worldkv-explore",
        "",
        "W S        walk forward / back",
        "A D        step left / right",
        "Left Right turn     Up Down  look",
        "mouse      turn and look (click or M)",
        "Shift      run",
        "Space      pause",
        "R          record on / off",
        "P          screenshot (PNG)",
        "F5 / F9    save / load the world",
        "F          nearest / smooth scaling",
        "Tab        HUD: compact, full, off",
        "F1         this help      Esc  quit",
    };
    char t[16][TEXT_MAX];
    int n = (int)(sizeof help / sizeof help[0]);
    for (int i = 0; i < n; i++)
        snprintf(t[i], TEXT_MAX, "%s", help[i]);
    int w = hud_text_width(help[5], HUD_SCALE);
    lines(r, SDL_max(10, (width - w) / 2), SDL_max(10, (height - n * LINE_H) / 2), t, n, white);
}

void hud_status(SDL_Renderer *r, int width, int height, const hud_info *in)
{
    char t[1][TEXT_MAX];
    int y = height - LINE_H - 8;
    if (in->status->recording) {
        SDL_Rect dot = {width - 24, 10, 14, 14};
        SDL_SetRenderDrawColor(r, red.r, red.g, red.b, 255);
        SDL_RenderFillRect(r, &dot);
        hud_text(r, dot.x - hud_text_width("rec", HUD_SCALE) - 6, dot.y + 2, HUD_SCALE, red, "rec");
    }
    if (in->status->paused) {
        snprintf(t[0], TEXT_MAX, "paused (Space)");
        lines(r, (width - hud_text_width(t[0], HUD_SCALE)) / 2, (height - LINE_H) / 2, t, 1, yellow);
    }
    if (in->status->message[0] && (in->status->failed || in->now_s - in->status->message_at_s < 4.0)) {
        /* as much of the message as the window holds; a cut is marked */
        int fit = SDL_max(4, (width - 28) / ((FONT_W + 1) * HUD_SCALE));
        int len = (int)strlen(in->status->message);
        if (len <= fit)
            snprintf(t[0], TEXT_MAX, "%.*s", TEXT_MAX - 1, in->status->message);
        else
            snprintf(t[0], TEXT_MAX, "%.*s...", SDL_min(fit, TEXT_MAX - 4) - 3, in->status->message);
        lines(r, 10, y, t, 1, in->status->failed ? red : yellow);
    }
}
