/* SPDX-License-Identifier: MIT
 * cf_busy: how busy a thread is, now and lately. Two moving averages of the share of
 * its time spent busy, one over a few milliseconds (CF_BUSY_FAST_TAU) and one over a
 * quarter second (CF_BUSY_SLOW_TAU), fed with each busy interval as it ends. The
 * archive's writer asks it whether the load is light enough to index done articles
 * for search in the batch that marked them done (cf_archive.c, "Search index").
 *
 * Why two: the quarter second alone remembers an idle spell for a tenth of a second
 * and more, so the first batches of a burst looked light and paid for indexing while
 * requests queued behind them (bench/README.md, "Twentieth pass"); the few
 * milliseconds alone would call a short lull inside a busy period light.
 *
 * A value type: no allocation, nothing to destroy. Not thread-safe (one owner). */
#ifndef CF_BUSY_H
#define CF_BUSY_H

#include <stdbool.h>

#define CF_BUSY_FAST_TAU 0.005 /* seconds: a few of the writer's batches */
#define CF_BUSY_SLOW_TAU 0.25  /* seconds */

typedef struct cf_busy {
    double fast, slow; /* moving averages of the busy share, 0..1 */
    double t;          /* the end of the last interval (or the start), in seconds */
} cf_busy_t;

/* Starts idle at time now (seconds of one monotonic clock). */
void cf_busy_init(cf_busy_t *b, double now);

/* Busy from t0 to t1, idle since the end of the previous interval (or the start).
 * Times run forward: an interval that ends before the previous one is ignored, and
 * one that starts before it counts from there. */
void cf_busy_add(cf_busy_t *b, double t0, double t1);

/* Whether the busy share is below limit both now and lately. */
bool cf_busy_below(const cf_busy_t *b, double limit);

#endif
