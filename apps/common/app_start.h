/* app_start: what every app does before it creates a session: find the
 * model (the shipped one by default) and make the start frame, either from
 * an image file or as a world seed's true first frame at the model's size. */
#ifndef WORLDKV_APP_START_H
#define WORLDKV_APP_START_H

#include <stddef.h>
#include <stdint.h>

#include "world.h"
#include "worldkv.h"

typedef struct app_start {
    world *world;     /* NULL when the start is an image */
    uint8_t *rgb;     /* the world's first frame, size x size RGB8 */
    int size;         /* the model's frame size */
    char model[1024]; /* the model path in use */
} app_start;

/* Fills opt's model_path (model if given, else $WORLDKV_MODEL, else the
 * shipped one), start and start_pose from an image (image != NULL) or from
 * world world_seed. st owns what opt points to until app_start_free. */
int app_start_prepare(const char *model, const char *image, uint64_t world_seed, app_start *st, worldkv_options *opt,
                      char *err, size_t err_size);
void app_start_free(app_start *st);

#endif
