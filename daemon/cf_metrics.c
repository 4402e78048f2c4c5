/* SPDX-License-Identifier: MIT
 * cf_metrics: Prometheus text exposition (prometheus.io exposition_formats and
 * naming practices): HELP and TYPE once per family, counters end in _total,
 * cumulative histogram buckets ending with +Inf, a final newline. */
#include "cf_metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_text.h"

typedef struct sample_rec {
    char *key;   /* `name{label="value"}` as written */
    double v;    /* the value */
} sample_rec_t;

/* Our invariants (a metric name we wrote wrong): checked in every build, as STYLE.md
 * asks of asserts, even where NDEBUG is defined. */
#define MUST(x)                                                                                \
    do {                                                                                       \
        if (!(x)) {                                                                            \
            fprintf(stderr, "%s:%d: cf_metrics: %s\n", __FILE__, __LINE__, #x);                 \
            abort();                                                                           \
        }                                                                                      \
    } while (0)

struct cf_metrics {
    char *buf;          /* the text, NUL-terminated */
    size_t len, cap;    /* bytes used (without the NUL), allocated */
    char family[128];   /* the current family's name */
    sample_rec_t *recs; /* every sample, in order */
    size_t nrecs, caprecs;
};

void
cf_metrics_hist_init(cf_metrics_hist_t *h, const double *le, size_t nle)
{
    MUST(nle <= CF_METRICS_HIST_MAX);
    memset(h, 0, sizeof *h);
    for (size_t i = 0; i < nle; i++) {
        MUST(i == 0 || le[i] > le[i - 1]);
        h->le[i] = le[i];
    }
    h->nle = nle;
}

void
cf_metrics_hist_observe(cf_metrics_hist_t *h, double v)
{
    if (isnan(v))
        return;
    for (size_t i = 0; i < h->nle; i++) {
        if (v <= h->le[i]) {
            h->counts[i]++;
            break;
        }
    }
    h->count++;
    h->sum += v;
}

cf_metrics_t *
cf_metrics_new(void)
{
    cf_metrics_t *self = cf_calloc(1, sizeof *self);
    self->cap = 4096;
    self->buf = cf_malloc(self->cap);
    self->buf[0] = '\0';
    return self;
}

static void
put(cf_metrics_t *self, const char *s, size_t n)
{
    if (self->len + n + 1 > self->cap) {
        while (self->len + n + 1 > self->cap)
            self->cap *= 2;
        self->buf = cf_realloc(self->buf, self->cap);
    }
    memcpy(self->buf + self->len, s, n);
    self->len += n;
    self->buf[self->len] = '\0';
}

static void
puts_(cf_metrics_t *self, const char *s)
{
    put(self, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
putf(cf_metrics_t *self, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    MUST(n >= 0 && (size_t)n < sizeof tmp);
    put(self, tmp, (size_t)n);
}

/* Escapes for HELP (\\ and \n) or, with quote, for label values (also \"). */
static void
put_escaped(cf_metrics_t *self, const char *s, bool quote)
{
    for (; *s; s++) {
        if (*s == '\\')
            puts_(self, "\\\\");
        else if (*s == '\n')
            puts_(self, "\\n");
        else if (quote && *s == '"')
            puts_(self, "\\\"");
        else
            put(self, s, 1);
    }
}

static bool
valid_name(const char *s, bool label)
{
    if (!*s || (*s >= '0' && *s <= '9'))
        return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '_' || (!label && c == ':');
        if (!ok)
            return false;
    }
    return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Numbers: integers exactly (counters can pass 2^53 only after years), others %.17g. */
static void
put_value(cf_metrics_t *self, double v)
{
    if (isnan(v))
        puts_(self, "NaN");
    else if (isinf(v))
        puts_(self, v > 0 ? "+Inf" : "-Inf");
    else if (v > -9007199254740992.0 && v < 9007199254740992.0 && (double)(int64_t)v == v)
        putf(self, "%lld", (long long)v); /* no libm needed */
    else {
        /* the shortest text that reads back as the same double */
        char tmp[32];
        snprintf(tmp, sizeof tmp, "%.15g", v);
        if (strtod(tmp, NULL) != v)
            snprintf(tmp, sizeof tmp, "%.17g", v);
        puts_(self, tmp);
    }
}

void
cf_metrics_family(cf_metrics_t *self, const char *name, cf_metrics_type_t type, const char *help)
{
    static const char *const types[] = {"", "counter", "gauge", "histogram"};
    MUST(valid_name(name, false) && strlen(name) < sizeof self->family);
    MUST(type != CF_METRICS_COUNTER || ends_with(name, "_total"));
    MUST(type == CF_METRICS_COUNTER || !ends_with(name, "_total"));
    snprintf(self->family, sizeof self->family, "%s", name);
    putf(self, "# HELP %s ", name);
    put_escaped(self, help, false);
    putf(self, "\n# TYPE %s %s\n", name, types[type]);
}

/* label2 (with value2) is a second label, or NULL. */
static void
sample_labels(cf_metrics_t *self, const char *suffix, const char *label, const char *value,
              const char *label2, const char *value2, double v)
{
    size_t start = self->len;
    puts_(self, self->family);
    puts_(self, suffix);
    if (label) {
        MUST(valid_name(label, true));
        putf(self, "{%s=\"", label);
        put_escaped(self, value ? value : "", true);
        if (label2) {
            MUST(valid_name(label2, true));
            putf(self, "\",%s=\"", label2);
            put_escaped(self, value2 ? value2 : "", true);
        }
        puts_(self, "\"}");
    }
    if (self->nrecs == self->caprecs) {
        self->caprecs = self->caprecs ? self->caprecs * 2 : 64;
        self->recs = cf_realloc(self->recs, self->caprecs * sizeof *self->recs);
    }
    self->recs[self->nrecs++] = (sample_rec_t){cf_strndup(self->buf + start, self->len - start), v};
    puts_(self, " ");
    put_value(self, v);
    puts_(self, "\n");
}

static void
sample(cf_metrics_t *self, const char *suffix, const char *label, const char *value, double v)
{
    sample_labels(self, suffix, label, value, NULL, NULL, v);
}

void
cf_metrics_sample(cf_metrics_t *self, const char *label, const char *value, double v)
{
    sample(self, "", label, value, v);
}

void
cf_metrics_sample2(cf_metrics_t *self, const char *label, const char *value, const char *label2,
                   const char *value2, double v)
{
    sample_labels(self, "", label, value, label2, value2, v);
}

void
cf_metrics_counter(cf_metrics_t *self, const char *name, const char *help, uint64_t v)
{
    cf_metrics_family(self, name, CF_METRICS_COUNTER, help);
    cf_metrics_sample(self, NULL, NULL, (double)v);
}

void
cf_metrics_gauge(cf_metrics_t *self, const char *name, const char *help, double v)
{
    cf_metrics_family(self, name, CF_METRICS_GAUGE, help);
    cf_metrics_sample(self, NULL, NULL, v);
}

void
cf_metrics_histogram(cf_metrics_t *self, const char *name, const char *help,
                     const cf_metrics_hist_t *h)
{
    cf_metrics_family(self, name, CF_METRICS_HISTOGRAM, help);
    uint64_t cum = 0;
    for (size_t i = 0; i < h->nle; i++) {
        char le[32];
        cum += h->counts[i];
        snprintf(le, sizeof le, "%g", h->le[i]);
        sample(self, "_bucket", "le", le, (double)cum);
    }
    sample(self, "_bucket", "le", "+Inf", (double)h->count);
    sample(self, "_sum", NULL, NULL, h->sum);
    sample(self, "_count", NULL, NULL, (double)h->count);
}

const char *
cf_metrics_text(const cf_metrics_t *self, size_t *len)
{
    if (len)
        *len = self->len;
    return self->buf;
}

bool
cf_metrics_sample_at(const cf_metrics_t *self, size_t i, const char **key, double *v)
{
    if (i >= self->nrecs)
        return false;
    *key = self->recs[i].key;
    *v = self->recs[i].v;
    return true;
}

void
cf_metrics_destroy(cf_metrics_t **self_p)
{
    cf_metrics_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->nrecs; i++)
        free(self->recs[i].key);
    free(self->recs);
    free(self->buf);
    free(self);
    *self_p = NULL;
}
