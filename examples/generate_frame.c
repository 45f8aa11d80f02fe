/* generate_frame: the smallest program on the installed libworldkv.
 *
 *   cc generate_frame.c $(pkg-config --cflags --libs worldkv) -o generate_frame
 *   ./generate_frame "$(pkg-config --variable=model worldkv)" start.png frame.ppm
 *
 * Opens a session on a model and a start image, walks forward for a few
 * frames, and writes the last frame as a binary PPM. */
#include <stdio.h>
#include <stdlib.h>

#include <worldkv.h>

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL START_IMAGE OUT.ppm\n", argv[0]);
        return 2;
    }
    char err[512];
    worldkv_options opt;
    worldkv_options_init(&opt);
    opt.model_path = argv[1];
    opt.start_image = argv[2];
    worldkv_session *s = NULL;
    if (worldkv_session_create(&opt, &s, err, sizeof err) != WORLDKV_OK) {
        fprintf(stderr, "generate_frame: %s\n", err);
        return 1;
    }
    int size = worldkv_session_image_size(s);
    unsigned char *rgb = malloc((size_t)size * (size_t)size * 3);
    const float forward[WORLDKV_ACTION_DIM] = {1, 0, 0, 0, 0};
    int rc = rgb ? 0 : 1;
    for (int i = 0; i < 4 && rc == 0; i++) {
        if (worldkv_session_step(s, forward, rgb, NULL, err, sizeof err) != WORLDKV_OK) {
            fprintf(stderr, "generate_frame: %s\n", err);
            rc = 1;
        }
    }
    FILE *f = rc == 0 ? fopen(argv[3], "wb") : NULL;
    if (rc == 0 && (!f || fprintf(f, "P6\n%d %d\n255\n", size, size) < 0 ||
                    fwrite(rgb, 3, (size_t)size * (size_t)size, f) != (size_t)size * (size_t)size)) {
        fprintf(stderr, "generate_frame: cannot write %s\n", argv[3]);
        rc = 1;
    }
    if (f && fclose(f) != 0 && rc == 0) {
        fprintf(stderr, "generate_frame: cannot write %s\n", argv[3]);
        rc = 1;
    }
    if (rc == 0)
        printf("generate_frame: %dx%d frame from libworldkv %s on %s -> %s\n", size, size, worldkv_version(),
               worldkv_session_backend_name(s), argv[3]);
    free(rgb);
    worldkv_session_destroy(s);
    return rc;
}
