/* SPDX-License-Identifier: MIT
 * Unit tests for cf_log's rate-limited warnings: one line per interval, and the
 * count it gives is of the calls not logged, which may have had other texts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cf_log.h"
#include "cf_test.h"

/* What the calls in between write on stderr. */
static FILE *capture_file;
static int saved_stderr = -1;

static void
capture_start(void)
{
    fflush(stderr);
    capture_file = tmpfile();
    saved_stderr = dup(STDERR_FILENO);
    dup2(fileno(capture_file), STDERR_FILENO);
}

static char *
capture_end(void)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    long n = ftell(capture_file);
    char *text = calloc(1, (size_t)n + 1);
    rewind(capture_file);
    CF_CHECK(fread(text, 1, (size_t)n, capture_file) == (size_t)n);
    fclose(capture_file);
    return text;
}

/* cf_ratelog's clock, in its unit */
static long long
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec;
}

static size_t
count_lines(const char *s)
{
    size_t n = 0;
    for (; (s = strchr(s, '\n')); s++)
        n++;
    return n;
}

static void
test_one_line_per_interval(void)
{
    cf_ratelog_t rl = {0};
    capture_start();
    cf_ratelog(&rl, CF_LOG_WARN, "bad request: %s", "first");
    cf_ratelog(&rl, CF_LOG_WARN, "bad request: %s", "second");
    cf_ratelog(&rl, CF_LOG_WARN, "bad request: %s", "third");
    char *out = capture_end();
    CF_CHECK_INT(count_lines(out), 1);
    CF_CHECK(strstr(out, "bad request: first\n") != NULL);
    free(out);

    /* 11 s later (the last line's time set back by hand, not waited for): the next
     * call is logged with the two held back, not as "3 times" of its own text; 12 s
     * when the clock's second turns between here and the call */
    capture_start();
    rl.last = now_s() - 11;
    cf_ratelog(&rl, CF_LOG_WARN, "bad request: %s", "fourth");
    out = capture_end();
    CF_CHECK_INT(count_lines(out), 1);
    CF_CHECK(strstr(out, "bad request: fourth (and 2 more such lines in the last 11 s, not "
                         "logged)\n") != NULL ||
             strstr(out, "bad request: fourth (and 2 more such lines in the last 12 s, not "
                         "logged)\n") != NULL);
    free(out);

    /* and then the count starts again */
    rl.last = now_s() - 11;
    capture_start();
    cf_ratelog(&rl, CF_LOG_WARN, "bad request: %s", "fifth");
    out = capture_end();
    CF_CHECK(strstr(out, "bad request: fifth\n") != NULL);
    free(out);
}

static void
test_below_the_level_is_counted(void)
{
    cf_ratelog_t rl = {0};
    int saved = cf_log_level;
    cf_log_level = CF_LOG_WARN;
    capture_start();
    cf_ratelog(&rl, CF_LOG_INFO, "stream ended: %d", 1);
    cf_ratelog(&rl, CF_LOG_INFO, "stream ended: %d", 2);
    cf_log_level = CF_LOG_INFO;
    cf_ratelog(&rl, CF_LOG_INFO, "stream ended: %d", 3);
    char *out = capture_end();
    cf_log_level = saved;
    CF_CHECK_INT(count_lines(out), 1);
    CF_CHECK(strstr(out, "stream ended: 3 (and 2 more such lines before it, not logged)\n") !=
             NULL);
    free(out);
}

CF_TEST_LIST(CF_TEST(test_one_line_per_interval), CF_TEST(test_below_the_level_is_counted));
