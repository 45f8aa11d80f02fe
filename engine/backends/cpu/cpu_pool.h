/* cpu_pool: a small fixed thread pool for the CPU backend. One job at a
 * time: the caller splits a range over all threads (itself included) and
 * waits. Workers spin briefly between jobs (ops come back to back within a
 * frame), then sleep on a condition variable. */
#ifndef WORLDKV_CPU_POOL_H
#define WORLDKV_CPU_POOL_H

#include <stddef.h>
#include <stdint.h>

typedef struct cpu_pool cpu_pool;

/* fn runs [begin, end) of the job's range on thread tid (0 is the caller). */
typedef void (*cpu_task_fn)(void *arg, int64_t begin, int64_t end, int tid);

/* threads 0: one per online core. */
int cpu_pool_create(int threads, cpu_pool **out, char *err, size_t err_size);
void cpu_pool_destroy(cpu_pool *p);
int cpu_pool_threads(const cpu_pool *p);
/* Runs fn over [0, n) in contiguous pieces of whole `grain`s, one piece a
 * thread, and returns when all are done. Small jobs run on the caller alone. */
void cpu_pool_run(cpu_pool *p, int64_t n, int64_t grain, cpu_task_fn fn, void *arg);
/* Per-thread scratch of at least `bytes` (64-byte aligned), grown and kept:
 * no allocation once the largest op has run. NULL when out of memory. */
void *cpu_pool_scratch(cpu_pool *p, int tid, size_t bytes);

#endif
