/* SPDX-License-Identifier: MIT
 * cf_busy: how busy a thread is, now and lately. Two moving averages of the share of
 * its time spent busy, one over a few milliseconds (CF_BUSY_FAST_TAU) and one over a
 * quarter second (CF_BUSY_SLOW_TAU), fed with each busy interval as it ends and read
 * as of any later time (the time since the last interval counts as idle). The
 * archive's writer asks it whether the load is light enough to index done articles
 * for search in the batch that marked them done (cf_archive.c, "Search index").
 *
 * Why two: the quarter second alone remembers an idle spell for a tenth of a second
 * and more, so the first batches of a burst looked light and paid for indexing while
 * requests queued behind them (bench/README.md, "Twentieth pass"); the few
 * milliseconds alone would call a short lull inside a busy period light.
 *
 * Each average is exact for a thread that is busy (1) or idle (0) piecewise: over t
 * seconds it moves towards the state of those seconds by 1 - exp(-t / tau).
 *
 * A value type: no allocation, nothing to destroy. Not thread-safe (one owner). */
#ifndef CF_BUSY_H
#define CF_BUSY_H

#include <stdbool.h>

#define CF_BUSY_FAST_TAU 0.005 /* seconds */
#define CF_BUSY_SLOW_TAU 0.25  /* seconds */

typedef struct cf_busy {
    double fast, slow; /* the averages as of t, 0..1 */
    double t;          /* the end of the last interval (or the start), in seconds */
} cf_busy_t;

/* Starts idle at time now (seconds of one monotonic clock). */
void cf_busy_init(cf_busy_t *b, double now);

/* Idle from the end of the previous interval (or the start) to t0, then busy to t1.
 * Times run forward: an interval that does not end after the previous one (or a NaN)
 * is ignored, one that starts before it counts from there, and one with t0 > t1 is
 * all idle, up to t1. */
void cf_busy_add(cf_busy_t *b, double t0, double t1);

/* Whether both averages, as of time now (idle since the last interval; a now before
 * it reads as of its end), are below limit. */
bool cf_busy_below(const cf_busy_t *b, double now, double limit);

#endif
