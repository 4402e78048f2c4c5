/* SPDX-License-Identifier: MIT
 * cf_test: the unit-test harness. A test file defines `static void test_x(void)`
 * functions and lists them in CF_TEST_LIST; CF_CHECK records a failure with
 * file:line and goes on. `test_foo [NAME]` runs all tests or one. Exit 1 on failure. */
#ifndef CF_TEST_H
#define CF_TEST_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cf_test_failures;

#define CF_CHECK(cond)                                                                         \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);           \
            cf_test_failures++;                                                                \
        }                                                                                      \
    } while (0)

#define CF_CHECK_STR(a, b)                                                                     \
    do {                                                                                       \
        const char *cf_a_ = (a), *cf_b_ = (b);                                                 \
        if (!((cf_a_ == NULL && cf_b_ == NULL) ||                                              \
              (cf_a_ && cf_b_ && strcmp(cf_a_, cf_b_) == 0))) {                                \
            fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, __LINE__, #a,  \
                    cf_a_ ? cf_a_ : "(null)", cf_b_ ? cf_b_ : "(null)");                       \
            cf_test_failures++;                                                                \
        }                                                                                      \
    } while (0)

#define CF_CHECK_INT(a, b)                                                                     \
    do {                                                                                       \
        long long cf_a_ = (long long)(a), cf_b_ = (long long)(b);                              \
        if (cf_a_ != cf_b_) {                                                                  \
            fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", __FILE__, __LINE__, #a,      \
                    cf_a_, cf_b_);                                                             \
            cf_test_failures++;                                                                \
        }                                                                                      \
    } while (0)

typedef struct cf_test_case {
    const char *name;
    void (*fn)(void);
} cf_test_case_t;

#define CF_TEST(fn) {#fn, fn}

#define CF_TEST_LIST(...)                                                                      \
    static const cf_test_case_t cf_tests_[] = {__VA_ARGS__};                                   \
    int main(int argc, char **argv)                                                            \
    {                                                                                          \
        int ran = 0;                                                                           \
        for (size_t i = 0; i < sizeof cf_tests_ / sizeof *cf_tests_; i++) {                    \
            if (argc > 1 && strcmp(argv[1], cf_tests_[i].name) != 0)                           \
                continue;                                                                      \
            int before = cf_test_failures;                                                     \
            cf_tests_[i].fn();                                                                 \
            ran++;                                                                             \
            printf("%s %s\n", cf_test_failures == before ? "ok  " : "FAIL", cf_tests_[i].name); \
        }                                                                                      \
        if (ran == 0) {                                                                        \
            fprintf(stderr, "no test named %s\n", argc > 1 ? argv[1] : "(any)");               \
            return 1;                                                                          \
        }                                                                                      \
        return cf_test_failures ? 1 : 0;                                                       \
    }

/* The shared corpus (../shared), from CF_SHARED_DIR; missing is a failure, not a skip. */
static inline const char *
cf_test_shared_dir(void)
{
    const char *d = getenv("CF_SHARED_DIR");
    return d && *d ? d : CF_DEFAULT_SHARED_DIR;
}

#endif
