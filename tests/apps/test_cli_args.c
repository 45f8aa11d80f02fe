/* The shared option parser (apps/common/cli_args) and the HUD font: the
 * forms getopt_long users expect, the errors, and a glyph for every
 * printable character with lower case distinct from upper case. */
#include <string.h>

#include "../../apps/explore/font3x5.h"
#include "cli_args.h"
#include "../test_util.h"

static const cli_option options[] = {
    {"--quiet", 'q', 0}, {"--out", 'o', 1}, {"--frames", 0, 1}, {"--stream", 0, 0},
};

/* Parses argv; writes "name=value" / "@operand" / "!" items, space-separated, into got. */
static void parse(int argc, char **argv, char *got, size_t n)
{
    cli_args p;
    cli_args_init(&p, "test", argc, argv, 1, options, 4);
    got[0] = 0;
    const char *v;
    int k;
    while ((k = cli_args_next(&p, &v)) != CLI_END) {
        char item[128];
        if (k == CLI_ERROR) {
            strncat(got, "! ", n - strlen(got) - 1);
            break;
        }
        if (k == CLI_OPERAND)
            snprintf(item, sizeof item, "@%s ", v);
        else
            snprintf(item, sizeof item, "%s=%s ", cli_args_name(&p, k), v ? v : "");
        strncat(got, item, n - strlen(got) - 1);
    }
}

#define PARSE(want, ...)                                                                                               \
    do {                                                                                                               \
        char *argv[] = {"test", __VA_ARGS__, NULL};                                                                    \
        char got[512];                                                                                                 \
        parse((int)(sizeof argv / sizeof argv[0]) - 1, argv, got, sizeof got);                                        \
        CHECK(strcmp(got, want) == 0);                                                                                 \
        if (strcmp(got, want))                                                                                         \
            fprintf(stderr, "  got '%s', want '%s'\n", got, want);                                                     \
    } while (0)

int main(void)
{
    PARSE("--frames=3 ", "--frames", "3");
    PARSE("--frames=3 ", "--frames=3");
    PARSE("--frames= ", "--frames=");                 /* an empty value reaches the value's own check */
    PARSE("--quiet= --out=x.mp4 ", "-qo", "x.mp4");    /* clustered, the value after */
    PARSE("--quiet= --out=x.mp4 ", "-qox.mp4");        /* clustered, the value joined */
    PARSE("--out=- ", "-o", "-");                     /* "-" is a value (stdout) */
    PARSE("@- ", "-");                                /* and an operand on its own */
    PARSE("--quiet= @-q @--frames ", "-q", "--", "-q", "--frames");
    PARSE("! ", "--bogus");
    PARSE("! ", "--fr", "1");                         /* no abbreviations: a prefix is unknown */
    PARSE("! ", "--stream=1");                        /* a flag takes no value */
    PARSE("! ", "--frames");                          /* a value is missing */
    PARSE("--quiet= ! ", "-qz");
    PARSE("--out=--frames ", "-o", "--frames");       /* a value may look like an option */

    for (int c = 33; c < 127; c++) {
        static const unsigned char box[FONT_H] = {7, 5, 5, 5, 7};
        const unsigned char *g = font_glyph((char)c);
        CHECK(memcmp(g, box, FONT_H) != 0 || c == '0'); /* the box is also the zero */
        if (c >= 'a' && c <= 'z')
            CHECK(memcmp(g, font_glyph((char)(c - 'a' + 'A')), FONT_H) != 0);
    }
    return test_finish("test_cli_args");
}
