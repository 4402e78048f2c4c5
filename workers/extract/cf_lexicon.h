/* SPDX-License-Identifier: MIT
 * cf_lexicon: a phrase table matched against tokens (longest match, case rules
 * taken from how the phrase is written) and the reader of the TSV data files
 * (`#` comments, blank lines skipped, file:line in every error). */
#ifndef CF_LEXICON_H
#define CF_LEXICON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf_err.h"
#include "cf_token.h"

#define CF_LEXICON_MAX_WORDS 8 /* tokens in one phrase */

enum {
    CF_LEXICON_CAP = 1 << 0,   /* written capitalized: the first text token must be too */
    CF_LEXICON_UPPER = 1 << 1, /* written in capitals ("AWS", "US"): every word token too */
    CF_LEXICON_JOINED = 1 << 2 /* must follow the previous token without space ("248B") */
};

typedef struct cf_lexicon_entry {
    int cat;        /* caller-defined category */
    char *val;      /* caller-defined value (owned), or NULL */
    double num;     /* caller-defined number */
    unsigned flags; /* CF_LEXICON_* */
    int next;       /* next entry of the same phrase, or -1 */
} cf_lexicon_entry_t;

typedef struct cf_lexicon cf_lexicon_t;

/* A new empty table (caller destroys it). */
cf_lexicon_t *cf_lexicon_new(void);

/* Frees the table and sets *self_p to NULL. NULL-safe. */
void cf_lexicon_destroy(cf_lexicon_t **self_p);

/* Adds phrase with an entry (val is copied; extra_flags is or-ed into the flags
 * derived from the phrase's case). Returns false when the phrase has no word or
 * more than CF_LEXICON_MAX_WORDS tokens. */
bool cf_lexicon_add(cf_lexicon_t *self, const char *phrase, int cat, const char *val, double num,
                    unsigned extra_flags);

/* The longest phrase starting at token i whose entries pass their case rules and,
 * when cat >= 0, have category cat. Returns the first such entry's index (walk
 * the rest with cf_lexicon_next) and sets *ntok, or returns -1. */
int cf_lexicon_match(const cf_lexicon_t *self, const cf_tokens_t *toks, size_t i, int cat,
                     size_t *ntok);

/* The categories (bit c for category c < 63, bit 63 for the rest) of the phrases
 * that may start at token i: 0 means cf_lexicon_match(self, toks, i, c, ..) finds
 * nothing for any c with its bit clear. One lookup per token (memoized). */
uint64_t cf_lexicon_cats_at(const cf_lexicon_t *self, const cf_tokens_t *toks, size_t i);

/* The next entry after idx of the same phrase that passes the rules at toks[i..]
 * (and has category cat when cat >= 0), or -1. */
int cf_lexicon_next(const cf_lexicon_t *self, int idx, const cf_tokens_t *toks, size_t i,
                    int cat);

/* Entry idx (borrowed). */
const cf_lexicon_entry_t *cf_lexicon_entry(const cf_lexicon_t *self, int idx);

/* Called for each data row: fields[0..nfields), the file's base name and line. Returns
 * CF_OK or an error code after setting err (say name:line). */
typedef int (*cf_lexicon_row_cb)(void *ctx, char **fields, const char *name, int line,
                                 cf_err_t *err);

/* Reads dir/name: every line that is not blank or a `#` comment must have exactly
 * nfields tab-separated, non-empty fields. Returns CF_OK, CF_ESYS (cannot read) or
 * CF_EINVAL with err like "gazetteer.tsv:12: expected 4 tab-separated fields". */
int cf_lexicon_read_tsv(const char *dir, const char *name, size_t nfields, cf_lexicon_row_cb cb,
                        void *ctx, cf_err_t *err);

#endif
