/* The shared video encoder: MP4, MKV and WebM come out with the right frame
 * count, size and rate (checked with ffprobe); a stream-mode file copied
 * mid-write still decodes; a full disk, a missing folder and an unknown
 * extension give clear errors. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../test_util.h"
#include "video_encoder.h"

static char g_tmp[256];

static void frame(uint8_t *rgb, int w, int h, int t)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = rgb + (y * w + x) * 3;
            p[0] = (uint8_t)(x * 4 + t * 3);
            p[1] = (uint8_t)(y * 5);
            p[2] = (uint8_t)((x ^ y) * 8 + t);
        }
}

/* ffprobe's "frames,width,height,rate" for the first video stream. */
static int probe(const char *path, char *out, size_t n)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "ffprobe -v error -count_frames -select_streams v:0 -show_entries "
             "stream=nb_read_frames,width,height,r_frame_rate -of csv=p=0 '%s' 2>/dev/null",
             path);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    out[0] = 0;
    if (!fgets(out, (int)n, p))
        out[0] = 0;
    out[strcspn(out, "\n")] = 0;
    return pclose(p);
}

static void write_video(const char *name, int stream, int frames)
{
    char path[400], err[512], got[128], want[128];
    snprintf(path, sizeof path, "%s/%s", g_tmp, name);
    venc_options o = {path, 64, 48, 20, 0, stream};
    venc *v = NULL;
    CHECK(venc_open(&o, &v, err, sizeof err) == 0);
    if (!v) {
        fprintf(stderr, "%s: %s\n", name, err);
        return;
    }
    uint8_t rgb[64 * 48 * 3];
    for (int t = 0; t < frames; t++) {
        frame(rgb, 64, 48, t);
        CHECK(venc_write(v, rgb, err, sizeof err) == 0);
    }
    CHECK(venc_frames(v) == frames);
    CHECK(venc_close(v, err, sizeof err) == 0);
    probe(path, got, sizeof got);
    snprintf(want, sizeof want, "64,48,20/1,%d", frames);
    printf("  %-14s ffprobe: %s\n", name, got);
    CHECK_CONTAINS(got, want);
}

/* A stream-mode file copied while it is still being written decodes. */
static void test_stream_copy(const char *name)
{
    char path[400], copy[420], err[512], got[128], cmd[900];
    snprintf(path, sizeof path, "%s/%s", g_tmp, name);
    snprintf(copy, sizeof copy, "%s/copy-%s", g_tmp, name);
    venc_options o = {path, 64, 48, 20, 0, 1};
    venc *v = NULL;
    CHECK(venc_open(&o, &v, err, sizeof err) == 0);
    if (!v)
        return;
    uint8_t rgb[64 * 48 * 3];
    for (int t = 0; t < 40; t++) {
        frame(rgb, 64, 48, t);
        CHECK(venc_write(v, rgb, err, sizeof err) == 0);
        if (t == 29) {
            snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, copy);
            CHECK(system(cmd) == 0);
        }
    }
    CHECK(venc_close(v, err, sizeof err) == 0);
    probe(copy, got, sizeof got);
    int frames = atoi(strrchr(got, ',') ? strrchr(got, ',') + 1 : "0");
    printf("  copy of %s at frame 30 decodes %d frames\n", name, frames);
    CHECK(frames >= 10); /* up to the last closed half-second fragment */
}

static void test_errors(void)
{
    char err[512] = "", path[400];
    venc *v = NULL;
    venc_options o = {"/nonexistent/dir/x.mp4", 64, 48, 20, 0, 0};
    CHECK(venc_open(&o, &v, err, sizeof err) == -1 && v == NULL);
    CHECK_CONTAINS(err, "cannot create /nonexistent/dir/x.mp4");
    o.path = "out.avi";
    CHECK(venc_open(&o, &v, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "cannot tell the video format of 'out.avi'");
    o.path = "x.mp4";
    o.width = 63;
    CHECK(venc_open(&o, &v, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "even width and height");

    /* a full disk: everything fails cleanly, with the cause named */
    snprintf(path, sizeof path, "%s/full.mkv", g_tmp);
    CHECK(symlink("/dev/full", path) == 0);
    venc_options f = {path, 64, 48, 20, 0, 1};
    int failed = venc_open(&f, &v, err, sizeof err) != 0;
    uint8_t rgb[64 * 48 * 3] = {0};
    for (int t = 0; !failed && t < 200; t++)
        failed = venc_write(v, rgb, err, sizeof err) != 0;
    if (v)
        failed = venc_close(v, failed ? NULL : err, failed ? 0 : sizeof err) != 0 || failed;
    CHECK(failed);
    printf("  full disk: %s\n", err);
    CHECK_CONTAINS(err, "the disk is full");
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "%s/worldkv-enc-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_tmp))
        return 1;
    write_video("out.mp4", 0, 30);
    write_video("out.mkv", 0, 30);
    write_video("out.webm", 0, 30);
    write_video("stream.mp4", 1, 30);
    test_stream_copy("live.mp4");
    test_stream_copy("live.mkv");
    test_errors();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    return test_finish("test_encoder");
}
