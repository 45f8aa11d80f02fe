/* test_util: tiny assertion helpers. A failed check prints file:line and
 * the values, and the test's exit status counts the failures. */
#ifndef WORLDKV_TEST_UTIL_H
#define WORLDKV_TEST_UTIL_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int test_failures;
static int test_checks;

#define CHECK(cond)                                                                                                    \
    do {                                                                                                               \
        test_checks++;                                                                                                 \
        if (!(cond)) {                                                                                                 \
            test_failures++;                                                                                           \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);                                   \
        }                                                                                                              \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                          \
    do {                                                                                                               \
        double check_a_ = (double)(a), check_b_ = (double)(b);                                                         \
        test_checks++;                                                                                                 \
        if (!(fabs(check_a_ - check_b_) <= (tol))) {                                                                   \
            test_failures++;                                                                                           \
            fprintf(stderr, "%s:%d: %s = %.9g, expected %s = %.9g within %g\n", __FILE__, __LINE__, #a, check_a_, #b,   \
                    check_b_, (double)(tol));                                                                          \
        }                                                                                                              \
    } while (0)

#define CHECK_CONTAINS(text, part)                                                                                     \
    do {                                                                                                               \
        test_checks++;                                                                                                 \
        if (!strstr((text), (part))) {                                                                                 \
            test_failures++;                                                                                           \
            fprintf(stderr, "%s:%d: '%s' does not contain '%s'\n", __FILE__, __LINE__, (text), (part));               \
        }                                                                                                              \
    } while (0)

static inline int test_finish(const char *name)
{
    printf("%s: %d checks, %d failed\n", name, test_checks, test_failures);
    return test_failures ? 1 : 0;
}

#endif
