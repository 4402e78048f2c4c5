/* SPDX-License-Identifier: MIT
 * cf_assemble: turns one tokenized sentence into facts. It marks mentions
 * (entities, places, numbers, periods, cues), resolves pronouns and "the company"
 * to the last named company, and applies one general pattern per fact type
 * (a trigger cue plus the value, object or place it governs). Keeps the article
 * state (topic company, quoted source) between sentences. Bounded work per token. */
#ifndef CF_ASSEMBLE_H
#define CF_ASSEMBLE_H

#include <stdbool.h>
#include <stddef.h>

#include "cf_fact.h"
#include "cf_gazetteer.h"
#include "cf_lexicon.h"
#include "cf_period.h"
#include "cf_token.h"

typedef struct cf_assemble cf_assemble_t;

/* What a sentence mentions, for the article's classification. */
typedef struct cf_assemble_seen {
    void (*company)(void *ctx, const char *id); /* a company, unit or source named */
    void (*place)(void *ctx, const char *name);  /* a place named */
    void (*cloud)(void *ctx);                    /* a cloud-market word */
    void *ctx;
} cf_assemble_seen_t;

/* A new assembler for one article. Borrows gaz and cues; pub is the publication
 * date (y = 0 when unknown). Caller destroys it. */
cf_assemble_t *cf_assemble_new(const cf_gazetteer_t *gaz, const cf_lexicon_t *cues,
                               cf_period_date_t pub);

/* Frees the assembler and sets *self_p to NULL. NULL-safe. */
void cf_assemble_destroy(cf_assemble_t **self_p);

/* Makes self as cf_assemble_new made it, for a new article with publication date
 * pub, keeping its buffers (an extractor reuses one assembler per article). */
void cf_assemble_reset(cf_assemble_t *self, cf_period_date_t pub);

/* Optional, once per article before its sentences: tags every token of the
 * article (all) with roots (cf_lexicon_roots_tag) and in the same pass notes where
 * cues, aliases, places and periods may start, so that cf_assemble_scan and
 * cf_assemble_sentence on views of all (cf_token_view) skip their per-sentence
 * lookups. roots must index the gazetteer's names, its places and the cue lexicon
 * given to cf_assemble_new, in that order, with cf_period_start_words marked. all
 * must stay unchanged while they run. */
void cf_assemble_gates(cf_assemble_t *self, const cf_lexicon_roots_t *roots,
                       const cf_tokens_t *all);

/* First pass, for every sentence in order before any cf_assemble_sentence: when the
 * publication date is unknown, looks for a year the article's text fixes ("so far
 * in 2020", "later in 2019", "In 2015 ... Two years in") and then resolves relative
 * dates against it (GUIDELINES decision 3). The first such year wins. */
void cf_assemble_scan(cf_assemble_t *self, const cf_tokens_t *toks);

/* Processes the sentence body[toks] (tokens of one sentence, offsets into body):
 * reports mentions to seen (may be NULL) and, when facts is not NULL, appends
 * its facts (article id and confidence set, evidence copied from body). */
void cf_assemble_sentence(cf_assemble_t *self, const char *body, const cf_tokens_t *toks,
                          uint64_t article, cf_facts_t *facts, const cf_assemble_seen_t *seen);

/* Where the facts of the last sentence start in its facts list: the next sentence
 * may still amend them ("That seems unlikely." doubts the vows before it). The
 * caller may merge or reorder the facts before that index between sentences, and
 * then says where the last sentence's facts (kept in order, at the end) start now. */
size_t cf_assemble_last_facts(const cf_assemble_t *self);
void cf_assemble_last_facts_moved(cf_assemble_t *self, size_t from);

#endif
