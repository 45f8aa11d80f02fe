#include "cli_args.h"

#include <stdio.h>
#include <string.h>

void cli_args_init(cli_args *p, const char *prog, int argc, char **argv, int first, const cli_option *options,
                   int count)
{
    *p = (cli_args){prog, argc, argv, options, count, first, NULL, 0};
}

const char *cli_args_name(const cli_args *p, int k)
{
    static _Thread_local char short_form[3];
    if (p->options[k].name)
        return p->options[k].name;
    short_form[0] = '-', short_form[1] = p->options[k].short_name, short_form[2] = 0;
    return short_form;
}

static int error(const cli_args *p, const char *what, const char *arg, int len)
{
    fprintf(stderr, "%s: %s '%.*s' (see %s --help)\n", p->prog, what, len, arg, p->prog);
    return CLI_ERROR;
}

/* The value of option k: the rest of its argument, else the next argument. */
static int take_value(cli_args *p, int k, const char *rest, const char **value)
{
    if (rest && *rest) {
        *value = rest;
        return k;
    }
    if (p->index >= p->argc) {
        fprintf(stderr, "%s: %s needs a value (see %s --help)\n", p->prog, cli_args_name(p, k), p->prog);
        return CLI_ERROR;
    }
    *value = p->argv[p->index++];
    return k;
}

static int next_short(cli_args *p, const char **value)
{
    char c = *p->cluster++;
    for (int k = 0; k < p->count; k++) {
        if (p->options[k].short_name != c)
            continue;
        if (!p->options[k].takes_value)
            return k;
        const char *rest = p->cluster;
        p->cluster = NULL;
        return take_value(p, k, rest, value);
    }
    char text[2] = {c, 0};
    fprintf(stderr, "%s: unknown option '-%s' (see %s --help)\n", p->prog, text, p->prog);
    return CLI_ERROR;
}

int cli_args_next(cli_args *p, const char **value)
{
    *value = NULL;
    if (p->cluster && *p->cluster)
        return next_short(p, value);
    p->cluster = NULL;
    if (p->index >= p->argc)
        return CLI_END;
    const char *a = p->argv[p->index++];
    if (p->operands_only || a[0] != '-' || !a[1]) { /* "-" alone names stdin or stdout */
        *value = a;
        return CLI_OPERAND;
    }
    if (!strcmp(a, "--")) {
        p->operands_only = 1;
        return cli_args_next(p, value);
    }
    if (a[1] != '-') {
        p->cluster = a + 1;
        return next_short(p, value);
    }
    const char *eq = strchr(a, '=');
    int len = eq ? (int)(eq - a) : (int)strlen(a);
    for (int k = 0; k < p->count; k++) {
        const char *name = p->options[k].name;
        if (!name || (int)strlen(name) != len || strncmp(name, a, (size_t)len))
            continue;
        if (!p->options[k].takes_value) {
            if (eq)
                return error(p, "this option takes no value:", a, (int)strlen(a));
            return k;
        }
        if (eq) {
            *value = eq + 1; /* "--crf=" gives an empty value, which its parser refuses */
            return k;
        }
        return take_value(p, k, NULL, value);
    }
    return error(p, "unknown option", a, len);
}

int cli_args_next_named(cli_args *p, const char **name, const char **value)
{
    int k = cli_args_next(p, value);
    if (k == CLI_END)
        return 0;
    if (k == CLI_OPERAND)
        fprintf(stderr, "%s: unexpected argument '%s' (see %s --help)\n", p->prog, *value, p->prog);
    if (k < 0)
        return -1;
    *name = cli_args_name(p, k);
    return 1;
}
