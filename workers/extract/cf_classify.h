/* SPDX-License-Identifier: MIT
 * cf_classify: the article-level classification (relevant, relevance, companies,
 * regions) from what the title and body mention: companies and places named,
 * cloud-market words, and the number of facts found. Bounded memory. */
#ifndef CF_CLASSIFY_H
#define CF_CLASSIFY_H

#include <stddef.h>

#include "cf_fact.h"

typedef struct cf_classify cf_classify_t;

/* A new, empty tally (caller destroys it). */
cf_classify_t *cf_classify_new(void);

/* Frees the tally and sets *self_p to NULL. NULL-safe. */
void cf_classify_destroy(cf_classify_t **self_p);

/* Empties the tally, as cf_classify_new made it. */
void cf_classify_reset(cf_classify_t *self);

/* Counts one mention of a company (entity id) or a place, weighted (the title
 * counts more than a body sentence). */
void cf_classify_company(cf_classify_t *self, const char *id, double weight);
void cf_classify_place(cf_classify_t *self, const char *name, double weight);

/* Counts one cloud-market word and the words read (for the density). */
void cf_classify_cloud(cf_classify_t *self, double weight);
void cf_classify_words(cf_classify_t *self, size_t n);

/* Fills cls (cleared first): companies and regions by weight, then first mention,
 * at most CF_MAX_CLASS_ITEMS each; relevance in [0, 1]; relevant when >= 0.5. */
void cf_classify_finish(const cf_classify_t *self, size_t nfacts, cf_class_t *cls);

#endif
