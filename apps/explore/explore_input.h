/* explore_input: keyboard and mouse state, turned into one camera action
 * per generated frame. The main thread feeds events in; the generation
 * thread takes an action when a frame starts. A key tapped between two
 * frames still counts for the next one, and the time of the first input
 * change not yet taken rides along, so the display can measure latency. */
#ifndef WORLDKV_EXPLORE_INPUT_H
#define WORLDKV_EXPLORE_INPUT_H

#include <pthread.h>

typedef enum xin_key {
    XIN_FORWARD,
    XIN_BACK,
    XIN_STRAFE_LEFT,
    XIN_STRAFE_RIGHT,
    XIN_TURN_LEFT,
    XIN_TURN_RIGHT,
    XIN_LOOK_UP,
    XIN_LOOK_DOWN,
    XIN_RUN,
    XIN_KEY_COUNT
} xin_key_id;

typedef struct xin_state {
    pthread_mutex_t mutex;
    unsigned held;          /* bit per xin_key */
    unsigned tapped;        /* pressed since the last take */
    float mouse_dx, mouse_dy;
    float degrees_per_pixel;
    double pending_since;   /* seconds; 0: nothing new since the last take */
} xin_state;

int xin_init(xin_state *in, float degrees_per_pixel);
void xin_destroy(xin_state *in);
/* The movement key for an SDL scancode, or -1. */
int xin_key_for_scancode(int scancode);
void xin_key(xin_state *in, xin_key_id key, int down, double now_s);
void xin_mouse(xin_state *in, float dx, float dy, double now_s);
/* Releases everything (the window lost focus). */
void xin_release_all(xin_state *in, double now_s);
/* The action for the frame starting now (forward, strafe, turn, look, run;
 * docs/camera.md), and when the input it reflects first changed (0: no
 * change since the last take). Clears taps and mouse motion. */
void xin_take(xin_state *in, float action[5], double *changed_at_s);

#endif
