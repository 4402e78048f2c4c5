/* SPDX-License-Identifier: MIT
 * cf_number: number recognition (see cf_number.h). */
#include "cf_number.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf_cue.h"

#define MAX_DIGITS 20

/* The categories that may start at one token, asked once per token: most tokens
 * start no cue, and a number is tried with several categories at one position. */
typedef struct cats_cache {
    size_t pos;          /* token, or SIZE_MAX */
    uint64_t cats;       /* the categories that may start at pos */
    const uint64_t *all; /* the caller's categories per token, or NULL */
} cats_cache_t;

/* The categories that may start at token i: the caller's when given (narrower),
 * else cf_lexicon_cats_at. */
static uint64_t
cats_of(const cf_lexicon_t *cues, const cf_tokens_t *t, size_t i, const uint64_t *all)
{
    if (all)
        return i < t->n ? all[i] : 0;
    return cf_lexicon_cats_at(cues, t, i);
}

/* The cue of category cat at token i, or NULL (sets *n). */
static const cf_lexicon_entry_t *
cue_c(const cf_lexicon_t *cues, const cf_tokens_t *t, size_t i, int cat, size_t *n,
      cats_cache_t *cc)
{
    if (cc->pos != i) {
        cc->pos = i;
        cc->cats = cats_of(cues, t, i, cc->all);
    }
    if (!(cc->cats & (1ull << cat)))
        return NULL;
    int k = cf_lexicon_match(cues, t, i, cat, n);
    return k < 0 ? NULL : cf_lexicon_entry(cues, k);
}

_Static_assert(CF_CUE_COUNT_ <= 63, "cue categories must fit cf_lexicon_cats_at bits");

#define cue(cues, t, i, cat, n) cue_c(cues, t, i, cat, n, &cc)

/* Digits with commas and one dot into a double; false when not a plain number. */
static bool
digits_value(const char *s, size_t len, double *v, bool *comma)
{
    char buf[MAX_DIGITS + 1];
    size_t n = 0, dots = 0;
    *comma = false;
    if (len > MAX_DIGITS + 6)
        return false;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ',') {
            *comma = true;
            continue;
        }
        if (s[i] == '.')
            dots++;
        if (n >= MAX_DIGITS)
            return false;
        buf[n++] = s[i];
    }
    if (dots > 1 || n == 0)
        return false;
    if (dots == 0 && n <= 15) {
        /* an integer below 2^53 converts exactly: strtod would give the same */
        uint64_t u = 0;
        for (size_t i = 0; i < n; i++)
            u = u * 10 + (uint64_t)(buf[i] - '0');
        *v = (double)u;
        return true;
    }
    buf[n] = '\0';
    char *end;
    *v = strtod(buf, &end);
    return *end == '\0' && isfinite(*v);
}

/* Is token i a word that joins a range's ends: "to", "-" (the tokenizer makes every
 * dash one) or "and" (*conj)? */
static bool
range_word(const cf_tokens_t *t, size_t i, bool *conj)
{
    /* most numbers are followed by a longer word: one length test rejects them */
    if (i >= t->n || t->v[i].len > 3)
        return false;
    *conj = cf_token_is(t, i, "and");
    return *conj || cf_token_is(t, i, "to") || cf_token_is(t, i, "-");
}

/* Is token i the word of a range that the number at [a, i) opens: "7 to 8 per cent",
 * "between 5 and 6 billion", "25 - 30%"? Not "from 5 to 8 per cent": a change. */
static bool
range_to(const cf_tokens_t *t, size_t a, size_t i)
{
    bool conj, next;
    if (i + 1 >= t->n || !range_word(t, i, &conj))
        return false;
    /* "1-2-3", "1 to 2 to 3": a chain, no range (and not read twice per number) */
    if ((t->v[i + 1].flags & CF_TOKEN_NUM) && (i + 2 >= t->n || range_word(t, i + 2, &next)))
        return false;
    if (a > 0 && cf_token_is(t, a - 1, "from"))
        return false;
    return !conj || (a > 0 && cf_token_is(t, a - 1, "between"));
}

/* Does a verb of change come right before the number at a ("rose", "fell by")? Then
 * "rose $2.5 billion to $10.8 billion" is a change and a level, not a range. */
static bool
change_before(const cf_tokens_t *t, size_t a)
{
    static const char *const verbs[] = {
        "rose",      "rise",      "rises",  "risen",   "grew",    "grow",      "grows",
        "grown",     "fell",      "fall",   "falls",   "fallen",  "increased", "increase",
        "increases", "decreased", "jumped", "climbed", "dropped", "declined",  "slipped",
        "gained",    "surged",    "soared", "slumped", "plunged", "expanded",  "shrank",
        "up",        "down",      "added",  "lost",    "cut",     "raised",    "lifted"};
    if (a > 0 && cf_token_is(t, a - 1, "by"))
        a--;
    return a > 0 && cf_token_in(t, a - 1, verbs, sizeof verbs / sizeof *verbs);
}

static bool parse(const cf_lexicon_t *cues, const cf_tokens_t *t, size_t i, const uint64_t *cats,
                  bool ranges, cf_number_t *out);

/* The range's upper end at token i, for a first number worth v (its currency, if it
 * was written with one): a number with a unit or a scale, at most five times as
 * large (twice after a verb of change: "rose 5 to 21 percent" is a change), which
 * the first shares when it has none ("5 to 6 billion dollars": 5 billion). Fills
 * out with the lower end, qualified "at least" (DESIGN.md's word for a lower bound),
 * through the upper end's last token. The upper end is read as no range itself, so
 * that "1 - 2 - 3 ..." is read once, not once per number. */
static bool
range_end(const cf_lexicon_t *cues, const cf_tokens_t *t, size_t i, const uint64_t *cats,
          const char *currency, double v, cf_number_t *out)
{
    bool change = change_before(t, out->a);
    /* "rose $2.5 billion to $10.8 billion": the change has its own unit */
    if (change && (currency || out->scaled))
        return false;
    cf_number_t hi;
    if (!parse(cues, t, i, cats, false, &hi) || hi.qualifier ||
        !(hi.kind != CF_NUMBER_COUNT || hi.scaled))
        return false;
    /* "$5 to 6 billion": dollars both; not "$5 to 8 percent", nor "$5 to €6 billion" */
    if (currency && (hi.kind == CF_NUMBER_PERCENT ||
                     (hi.kind == CF_NUMBER_MONEY && strcmp(currency, hi.unit) != 0)))
        return false;
    double scale = out->scaled ? out->scale : hi.scaled ? hi.scale : 0;
    if (!out->scaled && hi.scaled)
        v *= hi.scale;
    /* "from 2 to 31 per cent", "rose 5 to 21 percent": a change and a level */
    if (!(v < hi.value && hi.value <= (change ? 2 : 5) * v) || !isfinite(v))
        return false;
    if (hi.kind != CF_NUMBER_PERCENT && (out->scaled || hi.scaled) && fabs(v) < 1e15)
        v = round(v);
    out->kind = currency ? CF_NUMBER_MONEY : hi.kind;
    out->unit = currency ? currency : hi.unit;
    out->scaled = out->scaled || hi.scaled;
    out->scale = scale;
    out->value = v;
    if (!out->qualifier)
        out->qualifier = "at least";
    out->b = hi.b;
    return true;
}

bool
cf_number_parse(const cf_lexicon_t *cues, const cf_tokens_t *t, size_t i, cf_number_t *out)
{
    return cf_number_parse_cats(cues, t, i, NULL, out);
}

bool
cf_number_parse_cats(const cf_lexicon_t *cues, const cf_tokens_t *t, size_t i,
                     const uint64_t *cats, cf_number_t *out)
{
    return parse(cues, t, i, cats, true, out);
}

static bool
parse(const cf_lexicon_t *cues, const cf_tokens_t *t, size_t i, const uint64_t *cats, bool ranges,
      cf_number_t *out)
{
    size_t n;
    cats_cache_t cc = {SIZE_MAX, 0, cats};
    memset(out, 0, sizeof *out);
    out->a = i;
    /* every number starts with digits or one of these cues at i: most tokens are
     * rejected by one lexicon probe instead of six */
    if (i >= t->n)
        return false;
    if (!(t->v[i].flags & CF_TOKEN_NUM)) {
        cc.pos = i;
        cc.cats = cats_of(cues, t, i, cats);
        if (!(cc.cats & CF_NUMBER_START_CATS))
            return false;
    }
    const cf_lexicon_entry_t *e = cue(cues, t, i, CF_CUE_QUALIFIER, &n);
    if (e) {
        out->qualifier = e->val;
        i += n;
    }
    const char *currency = NULL;
    e = cue(cues, t, i, CF_CUE_CURRENCY, &n);
    if (e && i + n < t->n) {
        currency = e->val;
        i += n;
    }
    double v = 0;
    bool have = false, comma = false, dot = false;
    if (i < t->n && (t->v[i].flags & CF_TOKEN_NUM)) {
        const char *s = cf_token_norm(t, i);
        if (!digits_value(s, t->v[i].len, &v, &comma))
            return false;
        dot = strchr(s, '.') != NULL;
        /* "2014-03" or "10/12": part of a date or code, not an amount */
        have = true;
        i++;
    } else if ((e = cue(cues, t, i, CF_CUE_NUMWORD, &n))) {
        v = e->num;
        out->word = true;
        have = true;
        i += n;
    } else if ((e = cue(cues, t, i, CF_CUE_ARTICLE, &n))) {
        size_t m;
        if (!cue(cues, t, i + n, CF_CUE_SCALE, &m))
            return false;
        v = e->num;
        out->word = true;
        have = true;
        i += n;
    } else if (cue(cues, t, i, CF_CUE_SCALE, &n)) {
        /* "a billion dollar bet": a bare scale counts only with a currency */
        size_t m, k;
        if (!currency && !cue(cues, t, i + n, CF_CUE_CURRENCY, &m) &&
            !(i > 0 && cue(cues, t, i - 1, CF_CUE_ARTICLE, &k)))
            return false;
        v = 1;
        out->word = true;
        have = true;
    }
    if (!have)
        return false;
    /* scale: "billion", or "B" joined to the digits */
    if ((e = cue(cues, t, i, CF_CUE_SCALE, &n)) ||
        (!out->word && (e = cue(cues, t, i, CF_CUE_SCALEJ, &n)))) {
        v *= e->num;
        out->scale = e->num;
        out->scaled = true;
        i += n;
    }
    if (ranges && range_to(t, out->a, i) && range_end(cues, t, i + 1, cats, currency, v, out))
        return true;
    if (!isfinite(v))
        return false;
    if ((e = cue(cues, t, i, CF_CUE_PERCENT, &n)) && !currency) {
        out->kind = CF_NUMBER_PERCENT;
        out->unit = "percent";
        i += n;
    } else {
        if (!currency && (e = cue(cues, t, i, CF_CUE_CURRENCY, &n))) {
            /* "5 billion dollars", "2 billion yuan"; a sign after digits ("5 $") is not one */
            if (e->val && t->v[i].flags & CF_TOKEN_WORD) {
                currency = e->val;
                i += n;
            }
        }
        if (currency) {
            out->kind = CF_NUMBER_MONEY;
            out->unit = currency;
        } else {
            out->kind = CF_NUMBER_COUNT;
            out->unit = "count";
            /* a year alone is a period, not a count */
            if (!out->scaled && !comma && !dot && !out->word && v >= 1900 && v <= 2100 &&
                t->v[i - 1].len == 4)
                return false;
        }
    }
    if (out->kind != CF_NUMBER_PERCENT && out->scaled &&
        fabs(v) < 1e15)
        v = round(v);
    out->value = v;
    out->b = i;
    return true;
}
