/* SPDX-License-Identifier: MIT
 * cf_busy: the busy share of a thread, now and lately (see cf_busy.h). */
#include "cf_busy.h"

void
cf_busy_init(cf_busy_t *b, double now)
{
    b->fast = 0;
    b->slow = 0;
    b->t = now;
}

/* One step of an exponential moving average in continuous time: an interval of dt
 * seconds whose busy share was x weighs dt / (dt + tau), so that many short intervals
 * move the average about as far as one long one. */
static double
step(double avg, double x, double dt, double tau)
{
    return avg + dt / (dt + tau) * (x - avg);
}

void
cf_busy_add(cf_busy_t *b, double t0, double t1)
{
    if (t1 <= b->t)
        return;
    if (t0 < b->t)
        t0 = b->t;
    if (t0 > t1)
        t0 = t1;
    double dt = t1 - b->t, x = (t1 - t0) / dt;
    b->fast = step(b->fast, x, dt, CF_BUSY_FAST_TAU);
    b->slow = step(b->slow, x, dt, CF_BUSY_SLOW_TAU);
    b->t = t1;
}

bool
cf_busy_below(const cf_busy_t *b, double limit)
{
    return b->fast < limit && b->slow < limit;
}
