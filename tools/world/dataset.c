#include "dataset.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "camera.h"
#include "file_util.h"
#include "half.h"
#include "npy.h"
#include "progress.h"
#include "render.h"
#include "revisit.h"
#include "rng.h"
#include "trajectory.h"
#include "world.h"

enum { ARR_FRAMES, ARR_DEPTH, ARR_POSES, ARR_ACTIONS, ARR_REVISIT, ARR_SEEDS, ARR_COUNT };
static const char *const k_array_names[ARR_COUNT] = {"frames", "depth", "poses", "actions", "revisit", "world_seeds"};

typedef struct shard {
    int first_episode, episodes;
    char dir[512];
    int fd[ARR_COUNT];
    uint64_t data_offset[ARR_COUNT]; /* header length */
} shard;

typedef struct job {
    const dataset_params *p;
    shard *shards;
    int shard_count;
    cam_pose *poses;     /* episodes * frames */
    cam_action *actions;
    int32_t *revisit;
    atomic_int next_episode;
    atomic_int done_episodes;
    atomic_int failed;
    pthread_mutex_t error_lock;
    char error[512];
} job;

void dataset_default_params(dataset_params *p)
{
    memset(p, 0, sizeof *p);
    p->episodes = 100;
    p->frames = 64;
    p->size = 64;
    p->seed = 1;
    p->episodes_per_world = 1;
    p->world_cells = WORLD_DEFAULT_CELLS;
    p->shard_episodes = 256;
    p->depth = 1;
}

uint64_t dataset_world_seed(const dataset_params *p, int episode)
{
    if (p->has_world_seed)
        return p->world_seed;
    return rng_derive(p->seed, (uint64_t)(episode / p->episodes_per_world));
}

uint64_t dataset_episode_seed(const dataset_params *p, int episode)
{
    return rng_derive(p->seed ^ 0x45504953u, (uint64_t)episode);
}

static void job_fail(job *j, const char *msg)
{
    pthread_mutex_lock(&j->error_lock);
    if (!atomic_load(&j->failed))
        snprintf(j->error, sizeof j->error, "%s", msg);
    atomic_store(&j->failed, 1);
    pthread_mutex_unlock(&j->error_lock);
}

static uint64_t frame_bytes(const dataset_params *p)
{
    return (uint64_t)p->size * (uint64_t)p->size * 3u;
}

static uint64_t depth_bytes(const dataset_params *p)
{
    return (uint64_t)p->size * (uint64_t)p->size * 2u;
}

/* Renders one episode and writes its frames (and depth) into its shard. */
static int make_episode(job *j, int e, world **cached, uint8_t *rgb, float *depth, uint16_t *half, char *err,
                        size_t err_size)
{
    const dataset_params *p = j->p;
    uint64_t wseed = dataset_world_seed(p, e);
    if (!*cached || (*cached)->seed != wseed) {
        world_destroy(*cached);
        *cached = world_create(wseed, p->world_cells, err, err_size);
        if (!*cached)
            return -1;
    }
    cam_pose *poses = j->poses + (size_t)e * (size_t)p->frames;
    cam_action *actions = j->actions + (size_t)e * (size_t)p->frames;
    if (traj_generate(*cached, dataset_episode_seed(p, e), p->frames, poses, actions) != 0) {
        snprintf(err, err_size, "out of memory while planning episode %d", e);
        return -1;
    }
    revisit_scan(poses, p->frames, j->revisit + (size_t)e * (size_t)p->frames);
    size_t pixels = (size_t)p->size * (size_t)p->size;
    for (int t = 0; t < p->frames; t++) {
        float *d = p->depth ? depth + (size_t)t * pixels : NULL;
        world_render(*cached, poses[t], p->size, p->size, rgb + (size_t)t * pixels * 3u, d);
    }
    shard *s = &j->shards[e / p->shard_episodes];
    uint64_t local = (uint64_t)(e - s->first_episode);
    uint64_t ep_frames = frame_bytes(p) * (uint64_t)p->frames;
    char path[600];
    snprintf(path, sizeof path, "%s/frames.npy", s->dir);
    if (file_pwrite_all(s->fd[ARR_FRAMES], path, rgb, ep_frames, s->data_offset[ARR_FRAMES] + local * ep_frames, err,
                        err_size) != 0)
        return -1;
    if (p->depth) {
        for (size_t i = 0; i < pixels * (size_t)p->frames; i++)
            half[i] = half_from_float(depth[i]);
        uint64_t ep_depth = depth_bytes(p) * (uint64_t)p->frames;
        snprintf(path, sizeof path, "%s/depth.npy", s->dir);
        if (file_pwrite_all(s->fd[ARR_DEPTH], path, half, ep_depth, s->data_offset[ARR_DEPTH] + local * ep_depth, err,
                            err_size) != 0)
            return -1;
    }
    return 0;
}

static void *worker(void *arg)
{
    job *j = arg;
    const dataset_params *p = j->p;
    size_t pixels = (size_t)p->size * (size_t)p->size * (size_t)p->frames;
    uint8_t *rgb = malloc(pixels * 3u);
    float *depth = p->depth ? malloc(pixels * sizeof(float)) : NULL;
    uint16_t *half = p->depth ? malloc(pixels * sizeof(uint16_t)) : NULL;
    world *cached = NULL;
    char err[512];
    if (!rgb || (p->depth && (!depth || !half))) {
        job_fail(j, "out of memory for the episode buffers");
    } else {
        while (!atomic_load(&j->failed)) {
            int e = atomic_fetch_add(&j->next_episode, 1);
            if (e >= p->episodes)
                break;
            if (make_episode(j, e, &cached, rgb, depth, half, err, sizeof err) != 0) {
                job_fail(j, err);
                break;
            }
            atomic_fetch_add(&j->done_episodes, 1);
        }
    }
    world_destroy(cached);
    free(rgb);
    free(depth);
    free(half);
    return NULL;
}

/* Whether dir exists and holds anything. */
static int dir_state(const char *dir, int *exists, int *non_empty, char *err, size_t err_size)
{
    *exists = *non_empty = 0;
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        file_errno_message(err, err_size, "access", dir, errno);
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, err_size, "%s exists and is not a folder", dir);
        return -1;
    }
    *exists = 1;
    DIR *d = opendir(dir);
    if (!d) {
        file_errno_message(err, err_size, "open folder", dir, errno);
        return -1;
    }
    struct dirent *ent;
    while ((ent = readdir(d)))
        if (strcmp(ent->d_name, ".") && strcmp(ent->d_name, ".."))
            *non_empty = 1;
    closedir(d);
    return 0;
}

/* mkdir -p: `dataset --out data/world64` works on a fresh clone, where data/ does not exist yet */
static int make_dir(const char *dir, char *err, size_t err_size)
{
    char path[600];
    int len = snprintf(path, sizeof path, "%s", dir);
    if (len <= 0 || (size_t)len >= sizeof path) {
        snprintf(err, err_size, "folder name too long: %s", dir);
        return -1;
    }
    for (char *p = path + 1; ; p++) {
        int end = *p == 0;
        if (*p != '/' && !end)
            continue;
        *p = 0;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            file_errno_message(err, err_size, "create folder", path, errno);
            return -1;
        }
        if (end)
            break;
        *p = '/';
    }
    return 0;
}

static int open_array(shard *s, int a, const char *descr, const int64_t *shape, int ndim, uint64_t data_bytes,
                      char *err, size_t err_size)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s.npy", s->dir, k_array_names[a]);
    s->fd[a] = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (s->fd[a] < 0) {
        file_errno_message(err, err_size, "create", path, errno);
        return -1;
    }
    uint8_t header[NPY_MAX_HEADER];
    size_t len = npy_header(header, descr, shape, ndim);
    if (len == 0) {
        snprintf(err, err_size, "%s: array header too long", path);
        return -1;
    }
    s->data_offset[a] = len;
    if (file_pwrite_all(s->fd[a], path, header, len, 0, err, err_size) != 0)
        return -1;
    /* Reserve the space now, so that a full disk shows up before hours of
     * rendering rather than after. */
    int rc = posix_fallocate(s->fd[a], 0, (off_t)(len + data_bytes));
    if (rc != 0 && rc != EOPNOTSUPP && rc != EINVAL) {
        file_errno_message(err, err_size, "reserve space for", path, rc);
        return -1;
    }
    return 0;
}

static int open_shard(const dataset_params *p, shard *s, char *err, size_t err_size)
{
    if (make_dir(s->dir, err, err_size) != 0)
        return -1;
    int64_t E = s->episodes, L = p->frames, R = p->size;
    int64_t frames_shape[5] = {E, L, R, R, 3}, depth_shape[4] = {E, L, R, R};
    int64_t vec_shape[3] = {E, L, 5}, rev_shape[2] = {E, L}, seed_shape[1] = {E};
    uint64_t el = (uint64_t)E * (uint64_t)L;
    if (open_array(s, ARR_FRAMES, "|u1", frames_shape, 5, el * frame_bytes(p), err, err_size) != 0)
        return -1;
    if (p->depth && open_array(s, ARR_DEPTH, "<f2", depth_shape, 4, el * depth_bytes(p), err, err_size) != 0)
        return -1;
    if (open_array(s, ARR_POSES, "<f4", vec_shape, 3, el * 20u, err, err_size) != 0 ||
        open_array(s, ARR_ACTIONS, "<f4", vec_shape, 3, el * 20u, err, err_size) != 0 ||
        open_array(s, ARR_REVISIT, "<i4", rev_shape, 2, el * 4u, err, err_size) != 0 ||
        open_array(s, ARR_SEEDS, "<u8", seed_shape, 1, (uint64_t)E * 8u, err, err_size) != 0)
        return -1;
    return 0;
}

/* Writes the small per-episode arrays of one shard (x86 and ARM are both
 * little-endian, which .npy's '<' promises). */
static int write_shard_tables(const job *j, const shard *s, char *err, size_t err_size)
{
    const dataset_params *p = j->p;
    size_t n = (size_t)s->episodes * (size_t)p->frames, first = (size_t)s->first_episode * (size_t)p->frames;
    float *buf = malloc(n * 5u * sizeof(float));
    uint64_t *seeds = malloc((size_t)s->episodes * sizeof(uint64_t));
    int status = -1;
    char path[600];
    if (!buf || !seeds) {
        snprintf(err, err_size, "out of memory while writing %s", s->dir);
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        cam_pose_to_array(j->poses[first + i], buf + i * 5u);
    snprintf(path, sizeof path, "%s/poses.npy", s->dir);
    if (file_pwrite_all(s->fd[ARR_POSES], path, buf, n * 20u, s->data_offset[ARR_POSES], err, err_size) != 0)
        goto done;
    for (size_t i = 0; i < n; i++)
        cam_action_to_array(j->actions[first + i], buf + i * 5u);
    snprintf(path, sizeof path, "%s/actions.npy", s->dir);
    if (file_pwrite_all(s->fd[ARR_ACTIONS], path, buf, n * 20u, s->data_offset[ARR_ACTIONS], err, err_size) != 0)
        goto done;
    snprintf(path, sizeof path, "%s/revisit.npy", s->dir);
    if (file_pwrite_all(s->fd[ARR_REVISIT], path, j->revisit + first, n * 4u, s->data_offset[ARR_REVISIT], err,
                        err_size) != 0)
        goto done;
    for (int e = 0; e < s->episodes; e++)
        seeds[e] = dataset_world_seed(p, s->first_episode + e);
    snprintf(path, sizeof path, "%s/world_seeds.npy", s->dir);
    if (file_pwrite_all(s->fd[ARR_SEEDS], path, seeds, (size_t)s->episodes * 8u, s->data_offset[ARR_SEEDS], err,
                        err_size) != 0)
        goto done;
    status = 0;
done:
    free(buf);
    free(seeds);
    return status;
}

static int close_shard(shard *s, char *err, size_t err_size)
{
    int status = 0;
    for (int a = 0; a < ARR_COUNT; a++) {
        if (s->fd[a] < 0)
            continue;
        /* close can be where a delayed write error (a full disk) surfaces */
        if (fsync(s->fd[a]) != 0 && errno != EINVAL && status == 0) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s.npy", s->dir, k_array_names[a]);
            file_errno_message(err, err_size, "write", path, errno);
            status = -1;
        }
        close(s->fd[a]);
        s->fd[a] = -1;
    }
    return status;
}

/* Float constants as the decimal a person wrote, not 1.6000000238. */
static void add_number(cJSON *o, const char *name, float v)
{
    cJSON_AddNumberToObject(o, name, round((double)v * 1e6) / 1e6);
}

static cJSON *camera_json(void)
{
    cJSON *c = cJSON_CreateObject();
    add_number(c, "hfov_deg", CAM_HFOV_DEG);
    add_number(c, "eye_height_m", CAM_EYE_HEIGHT);
    add_number(c, "frame_dt_s", CAM_FRAME_DT);
    add_number(c, "walk_speed_m_s", CAM_WALK_SPEED);
    add_number(c, "run_factor", CAM_RUN_FACTOR);
    add_number(c, "turn_rate_deg_s", CAM_TURN_RATE);
    add_number(c, "look_rate_deg_s", CAM_LOOK_RATE);
    add_number(c, "pitch_limit_deg", CAM_PITCH_LIMIT);
    add_number(c, "half_size_m", CAM_HALF_SIZE);
    return c;
}

static int write_index(const job *j, const dataset_stats *stats, char *err, size_t err_size)
{
    const dataset_params *p = j->p;
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "format", "worldkv-dataset");
    cJSON_AddNumberToObject(root, "version", DATASET_FORMAT_VERSION);
    cJSON_AddNumberToObject(root, "episodes", p->episodes);
    cJSON_AddNumberToObject(root, "frames_per_episode", p->frames);
    cJSON_AddNumberToObject(root, "width", p->size);
    cJSON_AddNumberToObject(root, "height", p->size);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)p->seed);
    cJSON_AddStringToObject(root, "seed", seed); /* a string: u64 does not fit a JSON double */
    cJSON_AddNumberToObject(root, "episodes_per_world", p->has_world_seed ? p->episodes : p->episodes_per_world);
    cJSON_AddNumberToObject(root, "world_cells", p->world_cells);
    add_number(root, "cell_size_m", WORLD_CELL_SIZE);
    add_number(root, "wall_height_m", WORLD_WALL_HEIGHT);
    cJSON_AddItemToObject(root, "camera", camera_json());
    const char *pose_fields[] = {"x", "y", "z", "yaw", "pitch"};
    const char *action_fields[] = {"forward", "strafe", "turn", "look", "run"};
    cJSON_AddItemToObject(root, "pose_fields", cJSON_CreateStringArray(pose_fields, 5));
    cJSON_AddItemToObject(root, "action_fields", cJSON_CreateStringArray(action_fields, 5));
    cJSON_AddBoolToObject(root, "depth", p->depth != 0);
    cJSON *rev = cJSON_AddObjectToObject(root, "revisit");
    add_number(rev, "max_dist_m", REVISIT_MAX_DIST);
    add_number(rev, "max_angle_deg", REVISIT_MAX_ANGLE);
    cJSON_AddNumberToObject(rev, "long_gap_frames", REVISIT_LONG_GAP);
    cJSON_AddNumberToObject(rev, "episodes_with_long_revisit", stats->episodes_long_revisit);
    cJSON *shards = cJSON_AddArrayToObject(root, "shards");
    for (int i = 0; i < j->shard_count; i++) {
        const shard *s = &j->shards[i];
        cJSON *o = cJSON_CreateObject();
        const char *slash = strrchr(s->dir, '/');
        cJSON_AddStringToObject(o, "dir", slash ? slash + 1 : s->dir);
        cJSON_AddNumberToObject(o, "first_episode", s->first_episode);
        cJSON_AddNumberToObject(o, "episodes", s->episodes);
        cJSON_AddItemToArray(shards, o);
    }
    cJSON_AddStringToObject(root, "generator", "worldkv-world dataset");
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) {
        snprintf(err, err_size, "out of memory while writing index.json");
        return -1;
    }
    char path[600];
    snprintf(path, sizeof path, "%s/index.json", p->out_dir);
    int status = file_write_all(path, text, strlen(text), err, err_size);
    cJSON_free(text);
    return status;
}

static int validate(const dataset_params *p, char *err, size_t err_size)
{
    if (!p->out_dir || !*p->out_dir)
        snprintf(err, err_size, "no output folder given");
    else if (strlen(p->out_dir) > 400)
        snprintf(err, err_size, "output folder path is too long");
    else if (p->episodes < 1 || p->episodes > 10000000)
        snprintf(err, err_size, "episodes must be between 1 and 10000000");
    else if (p->frames < 1 || p->frames > 100000)
        snprintf(err, err_size, "frames per episode must be between 1 and 100000");
    else if (p->size < RENDER_MIN_SIZE || p->size > RENDER_MAX_SIZE)
        snprintf(err, err_size, "size must be between %d and %d", RENDER_MIN_SIZE, RENDER_MAX_SIZE);
    else if (p->episodes_per_world < 1)
        snprintf(err, err_size, "episodes per world must be at least 1");
    else if (p->shard_episodes < 1)
        snprintf(err, err_size, "episodes per shard must be at least 1");
    else if (p->threads < 0 || p->threads > 256)
        snprintf(err, err_size, "threads must be between 0 (one per core) and 256");
    else
        return 0;
    return -1;
}

int dataset_write(const dataset_params *p, dataset_stats *stats, char *err, size_t err_size)
{
    memset(stats, 0, sizeof *stats);
    if (validate(p, err, err_size) != 0)
        return -1;
    char probe[64];
    world *check = world_create(1, p->world_cells, probe, sizeof probe);
    if (!check) {
        snprintf(err, err_size, "%s", probe);
        return -1;
    }
    world_destroy(check);
    int exists, non_empty;
    if (dir_state(p->out_dir, &exists, &non_empty, err, err_size) != 0)
        return -1;
    if (non_empty && !p->force) {
        snprintf(err, err_size, "%s already exists and is not empty; pass --force to overwrite it", p->out_dir);
        return -1;
    }
    if (!exists && make_dir(p->out_dir, err, err_size) != 0)
        return -1;
    char index_path[600];
    snprintf(index_path, sizeof index_path, "%s/index.json", p->out_dir);
    if (unlink(index_path) != 0 && errno != ENOENT) { /* the old dataset is no longer whole */
        file_errno_message(err, err_size, "remove", index_path, errno);
        return -1;
    }

    job j;
    memset(&j, 0, sizeof j);
    j.p = p;
    j.shard_count = (p->episodes + p->shard_episodes - 1) / p->shard_episodes;
    size_t n = (size_t)p->episodes * (size_t)p->frames;
    j.shards = calloc((size_t)j.shard_count, sizeof *j.shards);
    j.poses = calloc(n, sizeof *j.poses);
    j.actions = calloc(n, sizeof *j.actions);
    j.revisit = calloc(n, sizeof *j.revisit);
    for (int i = 0; j.shards && i < j.shard_count; i++)
        for (int a = 0; a < ARR_COUNT; a++)
            j.shards[i].fd[a] = -1;
    pthread_mutex_init(&j.error_lock, NULL);
    int status = -1;
    int threads = p->threads > 0 ? p->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1)
        threads = 1;
    if (threads > p->episodes)
        threads = p->episodes;
    pthread_t tid[256];
    int started = 0;
    if (!j.shards || !j.poses || !j.actions || !j.revisit) {
        snprintf(err, err_size, "out of memory for %d episodes of %d frames", p->episodes, p->frames);
        goto done;
    }
    for (int i = 0; i < j.shard_count; i++) {
        shard *s = &j.shards[i];
        s->first_episode = i * p->shard_episodes;
        s->episodes = p->episodes - s->first_episode < p->shard_episodes ? p->episodes - s->first_episode
                                                                         : p->shard_episodes;
        snprintf(s->dir, sizeof s->dir, "%s/shard-%05d", p->out_dir, i);
    }
    for (int i = 0; i < j.shard_count; i++)
        if (open_shard(p, &j.shards[i], err, err_size) != 0)
            goto done;

    progress bar;
    progress_begin(&bar, "episodes", "ep", p->episodes);
    if (p->quiet)
        bar.enabled = 0;
    double t0 = progress_now_s();
    for (; started < threads; started++)
        if (pthread_create(&tid[started], NULL, worker, &j) != 0) {
            job_fail(&j, "cannot start a worker thread");
            break;
        }
    while (atomic_load(&j.done_episodes) < p->episodes && !atomic_load(&j.failed) && started > 0) {
        progress_update(&bar, atomic_load(&j.done_episodes));
        usleep(50 * 1000);
    }
    for (int i = 0; i < started; i++)
        pthread_join(tid[i], NULL);
    progress_update(&bar, atomic_load(&j.done_episodes));
    progress_end(&bar);
    if (atomic_load(&j.failed) || started == 0) {
        snprintf(err, err_size, "%s", j.error[0] ? j.error : "cannot start a worker thread");
        goto done;
    }
    for (int e = 0; e < p->episodes; e++)
        if (revisit_max_gap(j.revisit + (size_t)e * (size_t)p->frames, p->frames) > REVISIT_LONG_GAP)
            stats->episodes_long_revisit++;
    for (int i = 0; i < j.shard_count; i++)
        if (write_shard_tables(&j, &j.shards[i], err, err_size) != 0 || close_shard(&j.shards[i], err, err_size) != 0)
            goto done;
    stats->seconds = progress_now_s() - t0;
    stats->frames_written = (int64_t)n;
    stats->threads_used = started;
    if (write_index(&j, stats, err, err_size) != 0)
        goto done;
    status = 0;
done:
    if (j.shards)
        for (int i = 0; i < j.shard_count; i++) {
            char ignored[8];
            close_shard(&j.shards[i], ignored, sizeof ignored);
        }
    pthread_mutex_destroy(&j.error_lock);
    free(j.shards);
    free(j.poses);
    free(j.actions);
    free(j.revisit);
    return status;
}
