/* explore_hud: what the explorer draws over the frame: the HUD (frame
 * rates, milliseconds per stage, pose, memory, a top-down map of the
 * memory slots), the help page and status lines, with a built-in font. */
#ifndef WORLDKV_EXPLORE_HUD_H
#define WORLDKV_EXPLORE_HUD_H

#include <SDL.h>

#include "explore_worker.h"

typedef struct hud_info {
    const xw_frame *frame;
    const xw_status *status;
    double display_fps;
    double latency_ms_mean, latency_ms_max; /* input change to the frame on screen */
    double rss_mib;                          /* the process's resident memory */
    const char *device;
    const char *filter;
    double now_s;
} hud_info;

void hud_text(SDL_Renderer *r, int x, int y, int scale, SDL_Color color, const char *text);
int hud_text_width(const char *text, int scale);
/* full: every figure and the memory map; else one compact line (frames/s, memory). */
void hud_draw(SDL_Renderer *r, int width, int height, const hud_info *info, int full);
/* The top-down map: the camera, its view, and the memory bank's slots (read ones highlighted). */
void hud_map(SDL_Renderer *r, SDL_Rect area, const xw_frame *frame);
void hud_help(SDL_Renderer *r, int width, int height);
/* Paused / recording markers and the last status message (always shown). */
void hud_status(SDL_Renderer *r, int width, int height, const hud_info *info);

#endif
