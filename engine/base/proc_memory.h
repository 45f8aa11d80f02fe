/* proc_memory: this process's resident memory, from Linux /proc. */
#ifndef WORLDKV_PROC_MEMORY_H
#define WORLDKV_PROC_MEMORY_H

/* Current and peak resident set size in kB (VmRSS, VmHWM); -1 where
 * unknown. Either pointer may be NULL. */
void proc_memory_kb(long *rss_kb, long *peak_kb);

#endif
