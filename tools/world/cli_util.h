/* cli_util: argument parsing shared by the worldkv-world subcommands.
 * Every parse failure prints one line naming the flag and what it wants;
 * the options themselves are read by apps/common/cli_args. */
#ifndef WORLDKV_CLI_UTIL_H
#define WORLDKV_CLI_UTIL_H

#include <stdint.h>

#define CLI_NAME "worldkv-world"

int cli_int(const char *flag, const char *text, long lo, long hi, int *out);
int cli_u64(const char *flag, const char *text, uint64_t *out);
int cli_float(const char *flag, const char *text, float *out);
void cli_error(const char *fmt, ...);

#endif
