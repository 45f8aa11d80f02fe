/* cli_util: argument parsing shared by the worldkv-world subcommands.
 * Every parse failure prints one line naming the flag and what it wants. */
#ifndef WORLDKV_CLI_UTIL_H
#define WORLDKV_CLI_UTIL_H

#include <stdint.h>

#define CLI_NAME "worldkv-world"

/* The value after argv[*i] for flag argv[*i]; NULL (with a message) if none. */
const char *cli_value(int argc, char **argv, int *i);
int cli_int(const char *flag, const char *text, long lo, long hi, int *out);
int cli_u64(const char *flag, const char *text, uint64_t *out);
int cli_float(const char *flag, const char *text, float *out);
/* Reports an unknown flag and points at --help. Returns 2 (usage error). */
int cli_unknown(const char *command, const char *arg);
void cli_error(const char *fmt, ...);

#endif
