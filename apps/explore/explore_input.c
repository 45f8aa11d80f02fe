#include "explore_input.h"

#include <SDL.h>
#include <math.h>

#include "camera.h"

int xin_init(xin_state *in, float degrees_per_pixel)
{
    in->held = in->tapped = 0;
    in->mouse_dx = in->mouse_dy = 0;
    in->degrees_per_pixel = degrees_per_pixel;
    in->pending_since = 0;
    return pthread_mutex_init(&in->mutex, NULL) ? -1 : 0;
}

void xin_destroy(xin_state *in)
{
    pthread_mutex_destroy(&in->mutex);
}

int xin_key_for_scancode(int scancode)
{
    switch (scancode) {
    case SDL_SCANCODE_W: return XIN_FORWARD;
    case SDL_SCANCODE_S: return XIN_BACK;
    case SDL_SCANCODE_A: return XIN_STRAFE_LEFT;
    case SDL_SCANCODE_D: return XIN_STRAFE_RIGHT;
    case SDL_SCANCODE_LEFT: return XIN_TURN_LEFT;
    case SDL_SCANCODE_RIGHT: return XIN_TURN_RIGHT;
    case SDL_SCANCODE_UP: return XIN_LOOK_UP;
    case SDL_SCANCODE_DOWN: return XIN_LOOK_DOWN;
    case SDL_SCANCODE_LSHIFT:
    case SDL_SCANCODE_RSHIFT: return XIN_RUN;
    default: return -1;
    }
}

static void mark_changed(xin_state *in, double now_s)
{
    if (in->pending_since == 0)
        in->pending_since = now_s;
}

void xin_key(xin_state *in, xin_key_id key, int down, double now_s)
{
    unsigned bit = 1u << key;
    pthread_mutex_lock(&in->mutex);
    if (down && !(in->held & bit)) {
        in->held |= bit;
        in->tapped |= bit;
        mark_changed(in, now_s);
    } else if (!down && (in->held & bit)) {
        in->held &= ~bit;
        mark_changed(in, now_s);
    }
    pthread_mutex_unlock(&in->mutex);
}

void xin_mouse(xin_state *in, float dx, float dy, double now_s)
{
    pthread_mutex_lock(&in->mutex);
    in->mouse_dx += dx;
    in->mouse_dy += dy;
    mark_changed(in, now_s);
    pthread_mutex_unlock(&in->mutex);
}

void xin_release_all(xin_state *in, double now_s)
{
    pthread_mutex_lock(&in->mutex);
    if (in->held)
        mark_changed(in, now_s);
    in->held = 0;
    pthread_mutex_unlock(&in->mutex);
}

static float clamp1(float v)
{
    return v < -1 ? -1 : v > 1 ? 1 : v;
}

void xin_take(xin_state *in, float action[5], double *changed_at_s)
{
    pthread_mutex_lock(&in->mutex);
    unsigned on = in->held | in->tapped;
#define ON(k) ((on >> (k)) & 1u)
    action[0] = (float)ON(XIN_FORWARD) - (float)ON(XIN_BACK);
    action[1] = (float)ON(XIN_STRAFE_RIGHT) - (float)ON(XIN_STRAFE_LEFT);
    /* the mouse in degrees, as a share of one frame's full turn or look;
     * kept within what the model was trained on */
    float turn = (float)ON(XIN_TURN_RIGHT) - (float)ON(XIN_TURN_LEFT) +
                 in->mouse_dx * in->degrees_per_pixel / (CAM_TURN_RATE * CAM_FRAME_DT);
    float look = (float)ON(XIN_LOOK_UP) - (float)ON(XIN_LOOK_DOWN) -
                 in->mouse_dy * in->degrees_per_pixel / (CAM_LOOK_RATE * CAM_FRAME_DT);
    action[2] = clamp1(turn);
    action[3] = clamp1(look);
    action[4] = (float)ON(XIN_RUN);
#undef ON
    *changed_at_s = in->pending_since;
    in->pending_since = 0;
    in->tapped = 0;
    in->mouse_dx = in->mouse_dy = 0;
    pthread_mutex_unlock(&in->mutex);
}
