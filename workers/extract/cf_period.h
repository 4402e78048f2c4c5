/* SPDX-License-Identifier: MIT
 * cf_period: periods at a token position, normalized to DESIGN.md's formats:
 * "2013", "Q3 2015" / "the third quarter of 2014" (2014-Q3), "first half of 2014"
 * (2014-H1), "end of 2013" (2013-12-31), "fiscal 2014" / "FY2014" / "year ending
 * on March 31, 2014" (FY2014), "the three months to June 30, 2025" (2025-Q2), "the
 * six months to June 30" (H1), "the July-to-September quarter of 2024" (2024-Q3),
 * "March 2015" (2015-03), "March 31, 2014", and
 * relative dates ("today", "last year", "last September") resolved against the
 * article's published date when known. */
#ifndef CF_PERIOD_H
#define CF_PERIOD_H

#include <stdbool.h>
#include <stddef.h>

#include "cf_token.h"

typedef struct cf_period {
    char text[16]; /* normalized period, "" when relative and unresolved */
    size_t a;      /* first token */
    size_t b;      /* token past the period */
    bool relative; /* written relative to the publication date */
} cf_period_t;

/* A publication date: year 0 when unknown; month and day 0 when only the year is
 * known (a year the article's own text fixes: GUIDELINES decision 3). */
typedef struct cf_period_date {
    int y, m, d; /* year, month 1..12 (0: unknown), day 1..31 (0: unknown) */
} cf_period_date_t;

/* Reads the date at the start of published (YYYY-MM-DD, then anything). Returns a
 * date with y = 0 when published is NULL or not a date. */
cf_period_date_t cf_period_published(const char *published);

/* The year a four-digit token i holds (1900..2100), else 0. */
int cf_period_year_at(const cf_tokens_t *toks, size_t i);

/* out[i] = false for every token i where no period can start (cf_period_parse
 * fails there), true where one may: a few comparisons per token. */
void cf_period_may_start_all(const cf_tokens_t *toks, bool *out);

/* The normalized words a period may start with (NULL-terminated): with a
 * four-digit number and a word starting with "fy", a superset of where
 * cf_period_parse can succeed. For cf_lexicon_roots_new's marked words. */
extern const char *const cf_period_start_words[];

/* Can a period start at token i, given whether its word is one of
 * cf_period_start_words? A superset of cf_period_parse's successes, like
 * cf_period_may_start_all, for tokens tagged through a marked index. */
static inline bool
cf_period_may_start_marked(const cf_tokens_t *toks, size_t i, bool marked)
{
    const cf_token_t *k = &toks->v[i];
    if (k->flags & CF_TOKEN_NUM)
        return k->len == 4; /* a year */
    const char *w = toks->text + k->norm;
    return marked || (k->len >= 2 && w[0] == 'f' && w[1] == 'y'); /* FY2014, FY 2014 */
}

/* Parses a period starting at token i. Returns true and fills out, or false. With
 * only pub's year known, relative dates give that year ("this week", "now", "last
 * month": YYYY; "last year": YYYY-1; "last September": YYYY-1-09). */
bool cf_period_parse(const cf_tokens_t *toks, size_t i, cf_period_date_t pub, cf_period_t *out);

#endif
