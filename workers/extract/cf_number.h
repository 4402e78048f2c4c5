/* SPDX-License-Identifier: MIT
 * cf_number: amounts, percents and counts at a token position: "$248B",
 * "US$1 billion", "a billion dollars", "28 percent", "28%", "1.4 million",
 * "980,000", "sixteen", with a qualifier ("more than", "nearly") and the currency
 * of the cue lexicon; a range ("7 to 8 per cent", "between $5 and $6 billion") is
 * its lower end, qualified "at least". Years (1900..2100 alone) are left to
 * cf_period. */
#ifndef CF_NUMBER_H
#define CF_NUMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf_cue.h"
#include "cf_lexicon.h"
#include "cf_token.h"

enum { CF_NUMBER_MONEY, CF_NUMBER_PERCENT, CF_NUMBER_COUNT };

typedef struct cf_number {
    int kind;              /* CF_NUMBER_* */
    double value;          /* normalized: plain units, percent as 28 */
    const char *unit;      /* "USD" or another ISO code, "percent", "count" (static or cues) */
    const char *qualifier; /* about, nearly, more than, less than, at least, up to, or NULL */
    size_t a;              /* first token (the qualifier's when there is one) */
    size_t b;              /* token past the number */
    bool word;             /* written as a word ("seven") */
    bool scaled;           /* has a scale word ("million") */
    double scale;          /* its multiplier (1e6), when scaled */
} cf_number_t;

/* The cue categories (bits of cf_lexicon_cats_at) a number may start with; a
 * token that is not digits and starts none of them starts no number. */
#define CF_NUMBER_START_CATS                                                                \
    ((1ull << CF_CUE_QUALIFIER) | (1ull << CF_CUE_CURRENCY) | (1ull << CF_CUE_NUMWORD) |      \
     (1ull << CF_CUE_ARTICLE) | (1ull << CF_CUE_SCALE))

/* Parses a number starting at token i (a qualifier, a currency sign or the
 * number itself). Returns true and fills out, or false. Bounded work: digit runs
 * longer than 20 characters are not numbers. */
bool cf_number_parse(const cf_lexicon_t *cues, const cf_tokens_t *toks, size_t i,
                     cf_number_t *out);

/* cf_number_parse with the cue categories that may start at each token of toks
 * given (cats[k] for token k: every category cf_lexicon_match can find there, such
 * as cf_lexicon_roots_tag_gates gives; NULL: looked up with cf_lexicon_cats_at):
 * the cues a number is made of are matched only where their category may start. */
bool cf_number_parse_cats(const cf_lexicon_t *cues, const cf_tokens_t *toks, size_t i,
                          const uint64_t *cats, cf_number_t *out);

#endif
