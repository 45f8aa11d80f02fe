/* cli_number: strict parsing of numeric option values, shared by every app.
 * A value is refused (with a message naming the program and the option)
 * unless all of it is a number inside [lo, hi]: no trailing text, no NaN
 * or infinity, no silent truncation of 1e3 or 2.5 where a whole number is
 * wanted. */
#ifndef WORLDKV_CLI_NUMBER_H
#define WORLDKV_CLI_NUMBER_H

/* A whole number (decimal digits, optional sign) in [lo, hi]. */
int cli_whole(const char *prog, const char *opt, const char *value, long long lo, long long hi, long long *out);
/* --memory-bits: 8 (int8 slots) or 32 (float), exactly as written. */
int cli_memory_bits(const char *prog, const char *value, int *out);
/* A finite number in [lo, hi]. */
int cli_real(const char *prog, const char *opt, const char *value, double lo, double hi, double *out);

#endif
