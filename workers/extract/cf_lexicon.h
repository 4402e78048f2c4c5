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

/* The memo slots of the extractor's tables (cf_lexicon_new): one place keeps them apart. */
enum { CF_LEXICON_SLOT_NAMES, CF_LEXICON_SLOT_PLACES, CF_LEXICON_SLOT_CUES };
_Static_assert(CF_LEXICON_SLOT_CUES < CF_TOKEN_MEMO_LEX, "a memo slot per table");

typedef struct cf_lexicon_entry {
    int cat;        /* caller-defined category */
    char *val;      /* caller-defined value (owned), or NULL */
    double num;     /* caller-defined number */
    unsigned flags; /* CF_LEXICON_* */
    int next;       /* next entry of the same phrase, or -1 */
} cf_lexicon_entry_t;

typedef struct cf_lexicon cf_lexicon_t;

/* A new empty table (caller destroys it). memo_slot, 0 .. CF_TOKEN_MEMO_LEX - 1,
 * is where tokens remember this table's lookup of their word (cf_token_t.memo), so
 * that each token is probed once per table however often it is matched; tables
 * matched against the same tokens need different slots. -1: no memo. */
cf_lexicon_t *cf_lexicon_new(int memo_slot);

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

/* cats[i] = cf_lexicon_cats_at(self, toks, i) for every token, in one pass. */
void cf_lexicon_cats_all(const cf_lexicon_t *self, const cf_tokens_t *toks, uint64_t *cats);

/* Or-s bit into out[i] for every token i where cf_lexicon_cats_at(self, toks, i)
 * is not 0 (some phrase may start there), without reading the categories. */
void cf_lexicon_starts_all(const cf_lexicon_t *self, const cf_tokens_t *toks, unsigned char *out,
                           unsigned char bit);

/* The words of several tables in one hash: tagging a token list with it fills
 * every table's memo slot of every token with one probe per token (and marks the
 * words no phrase of a table holds, so that matches stop at them unprobed). */
typedef struct cf_lexicon_roots cf_lexicon_roots_t;

/* The bit of cf_lexicon_roots_tag_gates' starts[i] for a token whose word is one of
 * the marked words of cf_lexicon_roots_new. */
#define CF_LEXICON_MARKED (1u << 7)

/* cf_lexicon_roots_tag_gates' one[i] where the match at token i must be walked. */
#define CF_LEXICON_WALK (-2)

/* A new index over the words of lex[0..n) (borrowed; each with its own memo slot,
 * none changed afterwards), plus the normalized words of `marked` (a NULL-terminated
 * list, copied; may be NULL), which tag_gates reports with CF_LEXICON_MARKED so
 * that a caller can gate its own word lists with the same probe. Caller destroys it. */
cf_lexicon_roots_t *cf_lexicon_roots_new(const cf_lexicon_t *const *lex, size_t n,
                                         const char *const *marked);

/* Frees the index and sets *self_p to NULL. NULL-safe. */
void cf_lexicon_roots_destroy(cf_lexicon_roots_t **self_p);

/* Fills the memo slots of the index's tables in every token of toks, as their
 * first lookups would: later matches at those tokens probe nothing. */
void cf_lexicon_roots_tag(const cf_lexicon_roots_t *self, const cf_tokens_t *toks);

/* cf_lexicon_roots_tag, and in the same pass, for every token i: cats[i] = the
 * categories of T = lex[cats_of] of cf_lexicon_roots_new whose entries can match
 * at token i, and bit s of starts[i] (for s < 7 in starts_of) set when a phrase
 * of lex[s] may start at token i (as cf_lexicon_starts_all), plus
 * CF_LEXICON_MARKED (when in starts_of) for a marked word. A hyphen that joins
 * two words (CF_TOKEN_SKIP) gets 0 in both.
 * cats[i] is cf_lexicon_cats_at(T, toks, i) narrowed to the entries at the root
 * that pass their case rules on token i alone and the phrases that continue with
 * the next word not skipped. That is still every category cf_lexicon_match(T, v,
 * i', c, ..) can find for any view v of toks (cf_token_view) holding token i at
 * i': a view ends no later and passes no case rule that toks fails. Most "in",
 * "the", "for" get 0 ("In" and "The" are capitalized cues).
 * one (may be NULL): where cats[i] != 0 (one[i] is not written elsewhere), one[i] =
 * what cf_lexicon_match(T, v, i', -1, &n) returns (an entry with n = 1, or -1) when
 * the word of token i decides it: no phrase of T longer than one word can start
 * there and its entries' case rules read only the token's CAP and NUM flags; else
 * CF_LEXICON_WALK. The same for every view, as above. */
void cf_lexicon_roots_tag_gates(const cf_lexicon_roots_t *self, const cf_tokens_t *toks,
                                size_t cats_of, unsigned starts_of, uint64_t *cats,
                                unsigned char *starts, int32_t *one);

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
