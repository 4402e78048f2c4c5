/* SPDX-License-Identifier: MIT
 * cf_extract: the extraction library's entry point. Text in, facts out, no I/O
 * after cf_extract_new has loaded the data files (gazetteer, lexicons). Used by
 * cloudfact-worker and by `cloudfact extract`; never logs, returns errors. */
#ifndef CF_EXTRACT_H
#define CF_EXTRACT_H

#include <stddef.h>

#include "cf_err.h"
#include "cf_fact.h"

typedef struct cf_extractor cf_extractor_t;

/* Loads the data files from data_dir (see cf_extract_data_dir). Returns a new
 * extractor (caller destroys it) or NULL with err naming file:line and why. */
cf_extractor_t *cf_extract_new(const char *data_dir, cf_err_t *err);

/* Frees the extractor and sets *self_p to NULL. NULL-safe. */
void cf_extract_destroy(cf_extractor_t **self_p);

/* Extracts the facts of one article. Reads a->body (facts, evidence offsets into
 * it), a->title (classification only) and a->published (relative dates). Appends
 * facts to `facts` with article = a->id, seq = 0, every field set per GUIDELINES.md,
 * in order of evidence_start; fills cls (cleared first). Borrows a. Returns CF_OK,
 * CF_EINVAL when the body is not valid UTF-8, or CF_ETOOBIG when it is larger than
 * CF_MAX_BODY, as cloudfactd takes none. At most CF_MAX_FACTS facts. */
int cf_extract_article(cf_extractor_t *self, const cf_article_t *a, cf_facts_t *facts,
                       cf_class_t *cls, cf_err_t *err);

/* Picks the data directory: opt if not NULL, else $CLOUDFACT_DATA, else the
 * installed share directory if it holds the data, else the source tree's
 * workers/data. Returns a pointer to a static or borrowed string. */
const char *cf_extract_data_dir(const char *opt);

#endif
