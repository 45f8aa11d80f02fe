/* The CPU backend's thread pool (see cpu_pool.h). */
#include "cpu_pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

enum { MAX_THREADS = 64, SPIN_ROUNDS = 4000 };

typedef struct worker {
    cpu_pool *pool;
    int tid;
    pthread_t thread;
} worker;

struct cpu_pool {
    int threads;
    worker workers[MAX_THREADS];
    int started;
    atomic_uint generation; /* bumped once per job */
    atomic_int done;        /* workers finished with this job */
    atomic_int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int sleepers; /* under mu */
    /* the job */
    cpu_task_fn fn;
    void *arg;
    int64_t n, grain;
    void *scratch[MAX_THREADS];
    size_t scratch_bytes[MAX_THREADS];
};

static void run_piece(cpu_pool *p, int tid)
{
    int64_t chunks = (p->n + p->grain - 1) / p->grain;
    int64_t c0 = chunks * tid / p->threads, c1 = chunks * (tid + 1) / p->threads;
    int64_t b = c0 * p->grain, e = c1 * p->grain < p->n ? c1 * p->grain : p->n;
    if (b < e)
        p->fn(p->arg, b, e, tid);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    cpu_pool *p = w->pool;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen && !atomic_load(&p->stop)) {
            if (++spins < SPIN_ROUNDS) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&p->mu);
            p->sleepers++;
            while (atomic_load(&p->generation) == seen && !atomic_load(&p->stop))
                pthread_cond_wait(&p->cv, &p->mu);
            p->sleepers--;
            pthread_mutex_unlock(&p->mu);
            spins = 0;
        }
        if (atomic_load(&p->stop))
            return NULL;
        seen = g;
        run_piece(p, w->tid);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

int cpu_pool_create(int threads, cpu_pool **out, char *err, size_t err_size)
{
    *out = NULL;
    if (threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n > 0 ? (int)n : 1;
    }
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    cpu_pool *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, err_size, "out of memory");
        return -1;
    }
    p->threads = threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (int i = 1; i < threads; i++) {
        p->workers[i].pool = p;
        p->workers[i].tid = i;
        if (pthread_create(&p->workers[i].thread, NULL, worker_main, &p->workers[i]) != 0) {
            snprintf(err, err_size, "cannot start CPU worker thread %d", i);
            cpu_pool_destroy(p);
            return -1;
        }
        p->started = i;
    }
    *out = p;
    return 0;
}

void cpu_pool_destroy(cpu_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stop, 1);
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = p->started; i >= 1; i--)
        pthread_join(p->workers[i].thread, NULL);
    for (int i = MAX_THREADS - 1; i >= 0; i--)
        free(p->scratch[i]);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int cpu_pool_threads(const cpu_pool *p)
{
    return p->threads;
}

void cpu_pool_run(cpu_pool *p, int64_t n, int64_t grain, cpu_task_fn fn, void *arg)
{
    if (n <= 0)
        return;
    if (grain < 1)
        grain = 1;
    if (p->threads == 1 || n <= grain) {
        fn(arg, 0, n, 0);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    p->n = n;
    p->grain = grain;
    atomic_store_explicit(&p->done, 0, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    if (p->sleepers)
        pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    run_piece(p, 0);
    while (atomic_load_explicit(&p->done, memory_order_acquire) < p->threads - 1)
        cpu_relax();
}

void *cpu_pool_scratch(cpu_pool *p, int tid, size_t bytes)
{
    if (p->scratch_bytes[tid] >= bytes)
        return p->scratch[tid];
    size_t want = (bytes + 63) / 64 * 64;
    void *mem = NULL;
    if (posix_memalign(&mem, 64, want) != 0)
        return NULL;
    free(p->scratch[tid]);
    p->scratch[tid] = mem;
    p->scratch_bytes[tid] = want;
    return mem;
}
