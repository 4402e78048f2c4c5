/* SPDX-License-Identifier: MIT
 * cf_metrics: the Prometheus text exposition format 0.0.4 (STACK.md section 8)
 * written into a growing buffer, and fixed-bucket histograms updated with plain
 * integer increments on the loop thread. No I/O, no libevent: cf_http serves
 * the text, the daemon decides what goes in it. */
#ifndef CF_METRICS_H
#define CF_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cf_metrics cf_metrics_t;

typedef enum cf_metrics_type {
    CF_METRICS_COUNTER = 1, /* name must end in _total */
    CF_METRICS_GAUGE,
    CF_METRICS_HISTOGRAM
} cf_metrics_type_t;

#define CF_METRICS_HIST_MAX 16 /* buckets per histogram, +Inf not counted */

/* A histogram with fixed upper bounds (seconds, bytes, ...). Transparent so it can
 * live inside any struct; cf_metrics_hist_init sets the bounds. */
typedef struct cf_metrics_hist {
    double le[CF_METRICS_HIST_MAX];        /* upper bounds, ascending */
    size_t nle;                            /* bounds used */
    uint64_t counts[CF_METRICS_HIST_MAX];  /* observations <= le[i] (not cumulative) */
    uint64_t count;                        /* all observations (the +Inf bucket) */
    double sum;                            /* sum of the observed values */
} cf_metrics_hist_t;

/* Sets the bounds (ascending, at most CF_METRICS_HIST_MAX) and zeroes the counts. */
void cf_metrics_hist_init(cf_metrics_hist_t *h, const double *le, size_t nle);

/* Counts one observation. */
void cf_metrics_hist_observe(cf_metrics_hist_t *h, double v);

/* An empty exposition. Caller destroys. */
cf_metrics_t *cf_metrics_new(void);

/* Starts a family: `# HELP` (help escaped) and `# TYPE` lines. Each family once, its
 * samples right after it. Asserts on a name that breaks the naming rules (our bug). */
void cf_metrics_family(cf_metrics_t *self, const char *name, cf_metrics_type_t type,
                       const char *help);

/* One sample of the current family: `name{label="value"} v`. label may be NULL
 * (no labels); the value is escaped (\\, \" and \n). Integers print as integers. */
void cf_metrics_sample(cf_metrics_t *self, const char *label, const char *value, double v);

/* The same with two labels: `name{label="value",label2="value2"} v`. */
void cf_metrics_sample2(cf_metrics_t *self, const char *label, const char *value,
                        const char *label2, const char *value2, double v);

/* Shorthands: a family with one unlabeled sample. */
void cf_metrics_counter(cf_metrics_t *self, const char *name, const char *help, uint64_t v);
void cf_metrics_gauge(cf_metrics_t *self, const char *name, const char *help, double v);

/* A histogram family: cumulative _bucket lines through le="+Inf", _sum, _count. */
void cf_metrics_histogram(cf_metrics_t *self, const char *name, const char *help,
                          const cf_metrics_hist_t *h);

/* The text so far (NUL-terminated; every line ends in \n), borrowed until the next
 * call. */
const char *cf_metrics_text(const cf_metrics_t *self, size_t *len);

/* The i-th sample so far (0-based): its key as written in the exposition
 * (`name_suffix{label="value"}`) and value. Returns false past the last one. Key
 * borrowed until the next call that adds to self. */
bool cf_metrics_sample_at(const cf_metrics_t *self, size_t i, const char **key, double *v);

void cf_metrics_destroy(cf_metrics_t **self_p);

#endif
