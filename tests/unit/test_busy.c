/* SPDX-License-Identifier: MIT
 * test_busy: the busy share, now and lately, on made-up timelines (no clock is
 * read), asked as the archive's writer asks it: at the start of each batch. A burst
 * after an idle spell must stop looking light within a few of its batches, a steady
 * light load must stay light, the last milliseconds must be remembered over a short
 * gap, a short lull in a busy period must not look light, and an idle spell must
 * make the next batch light again. */
#include <math.h>
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

/* How many batches of a burst (1 ms busy, 0.1 ms apart) start before the next one
 * no longer looks light below limit, after `idle` seconds with nothing; n + 1 when n
 * were not enough. */
static int
burst_until_busy(double idle, double limit, int n)
{
    cf_busy_t b;
    cf_busy_init(&b, 100.0);
    double t = 100.0 + idle;
    for (int i = 1; i <= n; i++) {
        feed(&b, &t, 1, 0.0001, 0.001);
        if (!cf_busy_below(&b, t + 0.0001, limit))
            return i;
    }
    return n + 1;
}

static void
test_fresh_is_light(void)
{
    cf_busy_t b;
    cf_busy_init(&b, 5.0);
    CF_CHECK(cf_busy_below(&b, 5.2, 0.5));
    /* a fresh daemon's first batch, then its second right after: still light */
    cf_busy_add(&b, 5.2, 5.201);
    CF_CHECK(cf_busy_below(&b, 5.202, 0.5));
}

static void
test_burst_after_idle(void)
{
    /* 4 each; the quarter-second average alone takes 182 such batches (0.2 s) */
    CF_CHECK(burst_until_busy(0.05, 0.5, 1000) <= 6);
    CF_CHECK(burst_until_busy(30.0, 0.5, 1000) <= 6);
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
        light = light && cf_busy_below(&b, t + 0.004, 0.5);
        feed(&b, &t, 1, 0.004, 0.0013);
    }
    CF_CHECK(light);
    CF_CHECK(b.slow > 0.2 && b.slow < 0.3); /* lately: the share itself, 1.3 / 5.3 */
    CF_CHECK(b.fast > 0.3 && b.fast < 0.4); /* now: just after a busy 1.3 ms */
}

static void
test_fast_remembers(void)
{
    /* a light second, then 20 batches at 90 % busy: 2 ms later it is still busy now
     * (0.90 fading to 0.60), though not lately */
    cf_busy_t b;
    double t = 0;
    cf_busy_init(&b, t);
    feed(&b, &t, 190, 0.004, 0.0013);
    feed(&b, &t, 20, 0.0001, 0.0009);
    CF_CHECK(b.slow < 0.5);
    CF_CHECK(!cf_busy_below(&b, t + 0.002, 0.5));
    CF_CHECK(cf_busy_below(&b, t + 0.02, 0.5)); /* 20 ms later it is light */
}

static void
test_lull_in_busy_period(void)
{
    /* a second at 90 % busy, then a 20 ms lull */
    cf_busy_t b;
    double t = 0;
    cf_busy_init(&b, t);
    feed(&b, &t, 1000, 0.0001, 0.0009);
    CF_CHECK(!cf_busy_below(&b, t, 0.5));
    CF_CHECK(b.fast * exp(-0.02 / CF_BUSY_FAST_TAU) < 0.5); /* now, it looks idle... */
    CF_CHECK(!cf_busy_below(&b, t + 0.02, 0.5));            /* ...but not lately */
    /* after a second of nothing, the next batch is light */
    CF_CHECK(cf_busy_below(&b, t + 1.0, 0.5));
}

static void
test_time_runs_forward(void)
{
    cf_busy_t b;
    cf_busy_init(&b, 10.0);
    cf_busy_add(&b, 10.0, 10.001);
    double fast = b.fast, slow = b.slow;
    cf_busy_add(&b, 9.0, 9.5); /* ends before the last one: ignored */
    cf_busy_add(&b, 9.0, NAN); /* a NaN: ignored */
    CF_CHECK(b.fast == fast && b.slow == slow && b.t == 10.001);
    cf_busy_add(&b, 9.0, 10.002); /* starts before it: counted from 10.001, all busy */
    CF_CHECK(b.fast > fast && b.slow > slow && b.t == 10.002);
    CF_CHECK(b.fast <= 1.0 && b.slow <= 1.0);
    fast = b.fast;
    cf_busy_add(&b, 10.01, 10.005); /* t0 after t1: all idle, up to t1 */
    CF_CHECK(b.t == 10.005 && b.fast < fast && b.fast > 0);
    /* read before the last interval's end: as of that end */
    CF_CHECK(cf_busy_below(&b, 0.0, 0.5) == cf_busy_below(&b, 10.005, 0.5));
}

CF_TEST_LIST(CF_TEST(test_fresh_is_light), CF_TEST(test_burst_after_idle),
             CF_TEST(test_steady_light_load), CF_TEST(test_fast_remembers),
             CF_TEST(test_lull_in_busy_period), CF_TEST(test_time_runs_forward));
