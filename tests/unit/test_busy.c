/* SPDX-License-Identifier: MIT
 * test_busy: the busy share, now and lately, on made-up timelines (no clock is
 * read). A burst after an idle spell must stop looking light within a few of its
 * intervals, a steady light load must stay light, a short lull in a busy period must
 * not look light, and an idle spell must make the next interval light again. */
#include <stdbool.h>

#include "cf_busy.h"
#include "cf_test.h"

/* Feeds n intervals of `busy` seconds, each after `gap` seconds idle, from *t on. */
static void
feed(cf_busy_t *b, double *t, int n, double gap, double busy)
{
    for (int i = 0; i < n; i++) {
        *t += gap;
        cf_busy_add(b, *t, *t + busy);
        *t += busy;
    }
}

/* How many intervals of a burst (1 ms busy, 0.1 ms apart) it takes to stop looking
 * light below limit, after `idle` seconds with nothing; n + 1 when n were not enough. */
static int
burst_until_busy(double idle, double limit, int n)
{
    cf_busy_t b;
    cf_busy_init(&b, 100.0);
    double t = 100.0 + idle;
    for (int i = 1; i <= n; i++) {
        feed(&b, &t, 1, 0.0001, 0.001);
        if (!cf_busy_below(&b, limit))
            return i;
    }
    return n + 1;
}

static void
test_fresh_is_light(void)
{
    cf_busy_t b;
    cf_busy_init(&b, 5.0);
    CF_CHECK(cf_busy_below(&b, 0.5));
    /* a first short interval after a start: a fresh daemon's first article is light */
    cf_busy_add(&b, 5.2, 5.201);
    CF_CHECK(cf_busy_below(&b, 0.5));
}

static void
test_burst_after_idle(void)
{
    /* the quarter-second average alone takes 183 such intervals (0.2 s) */
    int fresh = burst_until_busy(0.05, 0.5, 1000);
    int rested = burst_until_busy(30.0, 0.5, 1000);
    CF_CHECK(fresh <= 8);
    CF_CHECK(rested <= 8);
}

static void
test_steady_light_load(void)
{
    /* 1.3 ms busy every 5.3 ms (test_archive's light load), for two seconds */
    cf_busy_t b;
    double t = 0;
    cf_busy_init(&b, t);
    bool light = true;
    for (int i = 0; i < 400; i++) {
        feed(&b, &t, 1, 0.004, 0.0013);
        light = light && cf_busy_below(&b, 0.5);
    }
    CF_CHECK(light);
    CF_CHECK(b.slow > 0.2 && b.slow < 0.3); /* the share itself: 1.3 / 5.3 */
    CF_CHECK(b.fast > 0.2 && b.fast < 0.3);
}

static void
test_lull_in_busy_period(void)
{
    /* a second at 90 % busy, then a 20 ms lull and one short interval */
    cf_busy_t b;
    double t = 0;
    cf_busy_init(&b, t);
    feed(&b, &t, 1000, 0.0001, 0.0009);
    CF_CHECK(!cf_busy_below(&b, 0.5));
    feed(&b, &t, 1, 0.02, 0.0005);
    CF_CHECK(b.fast < 0.5);            /* now, it looks idle... */
    CF_CHECK(!cf_busy_below(&b, 0.5)); /* ...but not lately */
    /* after a second of nothing, the next interval is light */
    feed(&b, &t, 1, 1.0, 0.0005);
    CF_CHECK(cf_busy_below(&b, 0.5));
}

static void
test_time_runs_forward(void)
{
    cf_busy_t b;
    cf_busy_init(&b, 10.0);
    cf_busy_add(&b, 10.0, 10.001);
    double fast = b.fast, slow = b.slow;
    cf_busy_add(&b, 9.0, 9.5); /* ends before the last one: ignored */
    CF_CHECK(b.fast == fast && b.slow == slow && b.t == 10.001);
    cf_busy_add(&b, 9.0, 10.002); /* starts before it: counted from 10.001, all busy */
    CF_CHECK(b.fast > fast && b.slow > slow && b.t == 10.002);
    CF_CHECK(b.fast <= 1.0 && b.slow <= 1.0);
    cf_busy_add(&b, 10.01, 10.005); /* t0 after t1: an empty interval, idle */
    CF_CHECK(b.t == 10.005 && b.fast >= 0);
}

CF_TEST_LIST(CF_TEST(test_fresh_is_light), CF_TEST(test_burst_after_idle),
             CF_TEST(test_steady_light_load), CF_TEST(test_lull_in_busy_period),
             CF_TEST(test_time_runs_forward));
