/* SPDX-License-Identifier: MIT
 * cf_busy: the busy share of a thread, now and lately (see cf_busy.h). */
#include "cf_busy.h"

#include <math.h>

void
cf_busy_init(cf_busy_t *b, double now)
{
    b->fast = 0;
    b->slow = 0;
    b->t = now;
}

/* avg after `secs` seconds in state x (0 idle, 1 busy). */
static double
toward(double avg, double x, double secs, double tau)
{
    return x + (avg - x) * exp(-secs / tau);
}

void
cf_busy_add(cf_busy_t *b, double t0, double t1)
{
    if (!(t1 > b->t)) /* also a NaN */
        return;
    if (!(t0 >= b->t))
        t0 = b->t;
    if (t0 > t1)
        t0 = t1;
    b->fast = toward(toward(b->fast, 0, t0 - b->t, CF_BUSY_FAST_TAU), 1, t1 - t0, CF_BUSY_FAST_TAU);
    b->slow = toward(toward(b->slow, 0, t0 - b->t, CF_BUSY_SLOW_TAU), 1, t1 - t0, CF_BUSY_SLOW_TAU);
    b->t = t1;
}

bool
cf_busy_below(const cf_busy_t *b, double now, double limit)
{
    double idle = now > b->t ? now - b->t : 0; /* also a NaN */
    return toward(b->fast, 0, idle, CF_BUSY_FAST_TAU) < limit &&
           toward(b->slow, 0, idle, CF_BUSY_SLOW_TAU) < limit;
}
