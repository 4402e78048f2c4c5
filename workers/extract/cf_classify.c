/* SPDX-License-Identifier: MIT
 * cf_classify: article relevance and the companies and regions it is about. */
#include "cf_classify.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cf_limits.h"
#include "cf_text.h"

#define MAX_KEYS 128 /* distinct names kept per list: bounds time and memory */

typedef struct tally {
    size_t name[MAX_KEYS];   /* offsets of the names (NUL-terminated) in text */
    double weight[MAX_KEYS]; /* summed weights */
    size_t n;
    char *text; /* the names, one after another: one buffer kept across
                 * articles instead of an allocation per name */
    size_t tlen, tcap;
} tally_t;

struct cf_classify {
    tally_t companies; /* entity ids */
    tally_t places;    /* place names */
    double cloud;      /* weighted cloud-market words */
    size_t words;      /* tokens read */
};

static void
tally_add(tally_t *t, const char *name, double w)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *k = t->text + t->name[i];
        if (k[0] == name[0] && strcmp(k, name) == 0) {
            t->weight[i] += w;
            return;
        }
    }
    if (t->n == MAX_KEYS)
        return;
    size_t len = strlen(name) + 1;
    if (t->tcap - t->tlen < len) {
        size_t cap = t->tcap ? t->tcap * 2 : 1024;
        while (cap - t->tlen < len)
            cap *= 2;
        t->text = cf_realloc(t->text, cap);
        t->tcap = cap;
    }
    memcpy(t->text + t->tlen, name, len);
    t->name[t->n] = t->tlen;
    t->tlen += len;
    t->weight[t->n++] = w;
}

/* Empties t, keeping its buffer. */
static void
tally_reset(tally_t *t)
{
    t->n = 0;
    t->tlen = 0;
}

cf_classify_t *
cf_classify_new(void)
{
    /* not calloc: only [0, n) of a tally is read, and zeroing 4 KB per article showed */
    cf_classify_t *self = cf_malloc(sizeof *self);
    self->companies.text = self->places.text = NULL;
    self->companies.tcap = self->places.tcap = 0;
    cf_classify_reset(self);
    return self;
}

void
cf_classify_reset(cf_classify_t *self)
{
    tally_reset(&self->companies);
    tally_reset(&self->places);
    self->cloud = 0;
    self->words = 0;
}

void
cf_classify_destroy(cf_classify_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->companies.text);
    free((*self_p)->places.text);
    free(*self_p);
    *self_p = NULL;
}

void
cf_classify_company(cf_classify_t *self, const char *id, double weight)
{
    tally_add(&self->companies, id, weight);
}

void
cf_classify_place(cf_classify_t *self, const char *name, double weight)
{
    tally_add(&self->places, name, weight);
}

void
cf_classify_cloud(cf_classify_t *self, double weight)
{
    self->cloud += weight;
}

void
cf_classify_words(cf_classify_t *self, size_t n)
{
    self->words += n;
}

/* Names by weight (ties: first seen), at most CF_MAX_CLASS_ITEMS. */
static char **
ranked(const tally_t *t, size_t *n)
{
    size_t idx[MAX_KEYS];
    for (size_t i = 0; i < t->n; i++)
        idx[i] = i;
    /* insertion sort: n <= MAX_KEYS, stable */
    for (size_t i = 1; i < t->n; i++) {
        size_t x = idx[i], j = i;
        while (j > 0 && t->weight[idx[j - 1]] < t->weight[x]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = x;
    }
    *n = t->n < CF_MAX_CLASS_ITEMS ? t->n : CF_MAX_CLASS_ITEMS;
    if (*n == 0)
        return NULL;
    char **v = cf_calloc(*n, sizeof *v);
    for (size_t i = 0; i < *n; i++)
        v[i] = cf_strdup(t->text + t->name[idx[i]]);
    return v;
}

void
cf_classify_finish(const cf_classify_t *self, size_t nfacts, cf_class_t *cls)
{
    cf_class_clear(cls);
    /* evidence adds up: cloud words (more when dense), facts, companies named */
    double density = self->words ? self->cloud * 100.0 / (double)self->words : 0;
    double x = 0.12 * self->cloud + 0.25 * density + 0.35 * (double)nfacts +
               0.05 * (double)self->companies.n;
    cls->relevance = 1.0 - exp(-x / 2.0);
    if (!(cls->relevance >= 0))
        cls->relevance = 0;
    if (cls->relevance > 1)
        cls->relevance = 1;
    cls->relevant = cls->relevance >= 0.5;
    cls->companies = ranked(&self->companies, &cls->ncompanies);
    cls->regions = ranked(&self->places, &cls->nregions);
}
