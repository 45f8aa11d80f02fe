/* cli_args: the one option parser every worldkv tool uses, in the spirit of
 * getopt_long: "--name value" and "--name=value", short options that may be
 * clustered ("-qo x.mp4", "-ox.mp4"), and "--" to end the options. Errors
 * are printed once, as "PROG: message (see PROG --help)". */
#ifndef WORLDKV_CLI_ARGS_H
#define WORLDKV_CLI_ARGS_H

typedef struct cli_option {
    const char *name; /* "--frames", or NULL for a short-only option */
    char short_name;  /* 'o', or 0 */
    int takes_value;
} cli_option;

typedef struct cli_args {
    const char *prog;
    int argc;
    char **argv;
    const cli_option *options;
    int count;
    int index;           /* the next argv element to read */
    const char *cluster; /* the rest of a cluster of short options */
    int operands_only;   /* after "--" */
} cli_args;

enum { CLI_END = -1, CLI_OPERAND = -2, CLI_ERROR = -3 };

/* Reads argv[first..argc). */
void cli_args_init(cli_args *p, const char *prog, int argc, char **argv, int first, const cli_option *options,
                   int count);
/* The next option: its index in options, with *value its value (NULL for a
 * flag); CLI_OPERAND with *value the argument; CLI_END; or CLI_ERROR after
 * printing what was wrong. */
int cli_args_next(cli_args *p, const char **value);
/* For tools that take no operands: 1 with *name (as cli_args_name) and
 * *value set, 0 at the end, -1 after printing an error (an operand too). */
int cli_args_next_named(cli_args *p, const char **name, const char **value);
/* The option's name as users write it ("--frames", or "-o"). */
const char *cli_args_name(const cli_args *p, int k);

#endif
