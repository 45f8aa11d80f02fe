/* The worldkv-world subcommands. Each returns the process exit status:
 * 0 on success, 1 on a runtime error, 2 on a usage error. */
#ifndef WORLDKV_COMMANDS_H
#define WORLDKV_COMMANDS_H

int cmd_dataset(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_sheet(int argc, char **argv);

#endif
