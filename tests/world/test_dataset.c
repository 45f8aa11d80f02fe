/* The dataset writer: layout, content that replays, independence from the
 * thread count, and clear errors for an existing, unwritable or full
 * destination. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "../test_util.h"
#include "camera.h"
#include "dataset.h"
#include "render.h"
#include "script.h"
#include "world.h"

static char g_tmp[256];

static char *slurp(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = 0;
        *size = (size_t)n;
    }
    return buf;
}

/* Returns the data offset of a .npy file and checks its header text. */
static size_t npy_check(const char *path, const char *descr, const char *shape)
{
    size_t size;
    char *buf = slurp(path, &size);
    CHECK(buf != NULL);
    if (!buf)
        return 0;
    CHECK(memcmp(buf, "\x93NUMPY\x01\x00", 8) == 0);
    size_t header = 10 + (size_t)(unsigned char)buf[8] + 256u * (size_t)(unsigned char)buf[9];
    CHECK(header % 64 == 0);
    char text[300] = {0};
    memcpy(text, buf + 10, header - 10 < sizeof text - 1 ? header - 10 : sizeof text - 1);
    CHECK_CONTAINS(text, descr);
    CHECK_CONTAINS(text, shape);
    free(buf);
    return header;
}

static int files_equal(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int eq = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return eq;
}

static dataset_params small_params(const char *dir)
{
    dataset_params p;
    dataset_default_params(&p);
    p.out_dir = dir;
    p.episodes = 6;
    p.frames = 10;
    p.size = 32;
    p.seed = 42;
    p.episodes_per_world = 2;
    p.shard_episodes = 4;
    p.threads = 2;
    p.quiet = 1;
    return p;
}

static void test_layout_and_content(void)
{
    char dir[300], path[400], err[512];
    snprintf(dir, sizeof dir, "%s/ds", g_tmp);
    dataset_params p = small_params(dir);
    dataset_stats st;
    CHECK(dataset_write(&p, &st, err, sizeof err) == 0);
    CHECK(st.frames_written == 60);

    snprintf(path, sizeof path, "%s/index.json", dir);
    size_t n;
    char *text = slurp(path, &n);
    cJSON *root = text ? cJSON_Parse(text) : NULL;
    CHECK(root != NULL);
    if (root) {
        CHECK(cJSON_GetObjectItem(root, "episodes")->valueint == 6);
        CHECK(cJSON_GetArraySize(cJSON_GetObjectItem(root, "shards")) == 2);
        CHECK(!strcmp(cJSON_GetObjectItem(root, "seed")->valuestring, "42"));
        CHECK(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "camera"), "hfov_deg")->valuedouble == CAM_HFOV_DEG);
    }
    cJSON_Delete(root);
    free(text);

    snprintf(path, sizeof path, "%s/shard-00001/frames.npy", dir);
    npy_check(path, "'|u1'", "(2, 10, 32, 32, 3)");
    snprintf(path, sizeof path, "%s/shard-00000/depth.npy", dir);
    npy_check(path, "'<f2'", "(4, 10, 32, 32)");
    snprintf(path, sizeof path, "%s/shard-00000/revisit.npy", dir);
    npy_check(path, "'<i4'", "(4, 10)");
    snprintf(path, sizeof path, "%s/shard-00000/world_seeds.npy", dir);
    npy_check(path, "'<u8'", "(4,)");

    /* episode 1: replay its actions and re-render its frames */
    char pp[400], ap[400], fp[400], sp[400];
    snprintf(pp, sizeof pp, "%s/shard-00000/poses.npy", dir);
    snprintf(ap, sizeof ap, "%s/shard-00000/actions.npy", dir);
    snprintf(fp, sizeof fp, "%s/shard-00000/frames.npy", dir);
    snprintf(sp, sizeof sp, "%s/shard-00000/world_seeds.npy", dir);
    size_t ph = npy_check(pp, "'<f4'", "(4, 10, 5)"), ah = npy_check(ap, "'<f4'", "(4, 10, 5)");
    size_t fh = npy_check(fp, "'|u1'", "(4, 10, 32, 32, 3)"), sh = npy_check(sp, "'<u8'", "(4,)");
    size_t pn, an, fn, sn;
    char *poses = slurp(pp, &pn), *actions = slurp(ap, &an), *frames = slurp(fp, &fn), *seeds = slurp(sp, &sn);
    CHECK(poses && actions && frames && seeds);
    if (poses && actions && frames && seeds) {
        CHECK(fn == fh + 4u * 10u * 32u * 32u * 3u);
        uint64_t wseed;
        memcpy(&wseed, seeds + sh + 8, 8);
        CHECK(wseed == dataset_world_seed(&p, 1));
        uint64_t wseed0;
        memcpy(&wseed0, seeds + sh, 8);
        CHECK(wseed0 == wseed); /* episodes_per_world = 2 */
        world *w = world_create(wseed, p.world_cells, err, sizeof err);
        cam_grid g = world_grid(w);
        const float *pf = (const float *)(poses + ph) + 10 * 5, *af = (const float *)(actions + ah) + 10 * 5;
        cam_pose cur = {pf[0], pf[1], pf[2], pf[3], pf[4]};
        static uint8_t rgb[32 * 32 * 3];
        int bad_pose = 0, bad_frame = 0;
        for (int t = 0; t < 10; t++) {
            if (t > 0) {
                cam_action a = {af[t * 5], af[t * 5 + 1], af[t * 5 + 2], af[t * 5 + 3], af[t * 5 + 4]};
                cur = cam_step(cur, a, CAM_FRAME_DT, &g);
            }
            const float *q = pf + t * 5;
            bad_pose += cur.x != q[0] || cur.y != q[1] || cur.z != q[2] || cur.yaw != q[3] || cur.pitch != q[4];
            world_render(w, cur, 32, 32, rgb, NULL);
            bad_frame += memcmp(rgb, frames + fh + (size_t)(10 + t) * sizeof rgb, sizeof rgb) != 0;
        }
        CHECK(bad_pose == 0);
        CHECK(bad_frame == 0);
        world_destroy(w);
    }
    free(poses);
    free(actions);
    free(frames);
    free(seeds);

    /* one thread writes the very same bytes */
    char dir1[300];
    snprintf(dir1, sizeof dir1, "%s/ds1", g_tmp);
    dataset_params p1 = small_params(dir1);
    p1.threads = 1;
    CHECK(dataset_write(&p1, &st, err, sizeof err) == 0);
    const char *names[] = {"frames", "depth", "poses", "actions", "revisit", "world_seeds"};
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 6; k++) {
            char a[400], b[400];
            snprintf(a, sizeof a, "%s/shard-%05d/%s.npy", dir, s, names[k]);
            snprintf(b, sizeof b, "%s/shard-%05d/%s.npy", dir1, s, names[k]);
            CHECK(files_equal(a, b));
        }
}

static void test_refusals(void)
{
    char dir[300], err[512] = "";
    dataset_stats st;
    snprintf(dir, sizeof dir, "%s/ds", g_tmp);
    dataset_params p = small_params(dir);
    CHECK(dataset_write(&p, &st, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "--force");
    p.force = 1;
    CHECK(dataset_write(&p, &st, err, sizeof err) == 0);

    char file[300], under[400];
    snprintf(file, sizeof file, "%s/plain-file", g_tmp);
    FILE *f = fopen(file, "w");
    fputs("x", f);
    fclose(f);
    snprintf(under, sizeof under, "%s/sub", file);
    p = small_params(under);
    CHECK(dataset_write(&p, &st, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "Not a directory");
    p = small_params(file);
    CHECK(dataset_write(&p, &st, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "is not a folder");

    p = small_params(dir);
    p.size = 20;
    CHECK(dataset_write(&p, &st, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "size must be between");
}

/* A file-size limit makes writes fail as a full disk does (EFBIG). */
static void test_full_disk(void)
{
    char dir[300], err[512] = "", index[400];
    dataset_stats st;
    snprintf(dir, sizeof dir, "%s/full", g_tmp);
    struct rlimit old, small;
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    small = old;
    small.rlim_cur = 64 * 1024;
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &small) == 0);
    dataset_params p = small_params(dir);
    p.size = 64;
    int rc = dataset_write(&p, &st, err, sizeof err);
    setrlimit(RLIMIT_FSIZE, &old);
    CHECK(rc == -1);
    CHECK_CONTAINS(err, "the disk is full");
    CHECK_CONTAINS(err, "frames.npy");
    snprintf(index, sizeof index, "%s/index.json", dir);
    CHECK(access(index, F_OK) != 0); /* no index: not mistaken for a dataset */
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "%s/worldkv-test-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (!mkdtemp(g_tmp)) {
        perror("mkdtemp");
        return 1;
    }
    test_layout_and_content();
    test_refusals();
    test_full_disk();
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", g_tmp);
    return test_finish("test_dataset");
}
