/* SPDX-License-Identifier: MIT
 * cf_token: tokenizer with body offsets and a normalized form (see cf_token.h).
 * Words keep internal dots of abbreviations and domains ("U.S.", "Aliyun.com"),
 * a possessive 's is its own token, digits with , and . are one number token. */
#include "cf_token.h"

#include <stdlib.h>
#include <string.h>

#include "cf_steps.h"
#include "cf_text.h"

#define MAX_NORM 200 /* longer words are cut; nothing we match is that long */

uint32_t
cf_token_decode_multi(const char *str, size_t len, size_t *i)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t k = *i;
    uint32_t c = s[k];
    int n = c < 0x80 ? 0 : c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
    if (n == 0) {
        *i = k + 1;
        return c;
    }
    c &= n == 1 ? 0x1f : n == 2 ? 0x0f : 0x07;
    k++;
    for (int j = 0; j < n && k < len; j++, k++)
        c = (c << 6) | (s[k] & 0x3f);
    *i = k;
    return c;
}

/* Punctuation and symbols that never belong to a word. */
static bool
is_punct_cp(uint32_t cp)
{
    if (cp < 0x80)
        return !((cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9'));
    return (cp >= 0x80 && cp <= 0xbf) || cp == 0xd7 || cp == 0xf7 ||
           (cp >= 0x2000 && cp <= 0x2bff) || (cp >= 0x3000 && cp <= 0x303f) ||
           (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff01 && cp <= 0xff0f);
}

static bool
is_apos(uint32_t cp)
{
    return cp == '\'' || cp == 0x2019 || cp == 0x2018;
}

static bool
is_alpha_ascii(uint32_t cp)
{
    return (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
}

static bool
is_digit(uint32_t cp)
{
    return cp >= '0' && cp <= '9';
}

static bool
is_wordch(uint32_t cp)
{
    return !cf_token_is_space(cp) && !is_punct_cp(cp) && cp != 0;
}

/* The code point at s[i] without advancing (0 at the end). */
static uint32_t
peek(const char *s, size_t end, size_t i, size_t *next)
{
    size_t k = i;
    if (i >= end) {
        if (next)
            *next = i;
        return 0;
    }
    uint32_t cp = cf_token_decode(s, end, &k);
    if (next)
        *next = k;
    return cp;
}

static void
norm_grow(cf_tokens_t *t, size_t n)
{
    size_t cap = t->tcap ? t->tcap * 2 : 1024;
    while (cap < t->tlen + n + 1)
        cap *= 2;
    t->text = cf_realloc(t->text, cap);
    t->tcap = cap;
}

/* One byte (the common case: ASCII). */
static inline void
norm_put1(cf_tokens_t *t, char c)
{
    if (t->tlen + 2 > t->tcap)
        norm_grow(t, 1);
    t->text[t->tlen++] = c;
    t->text[t->tlen] = '\0';
}

static void
norm_put(cf_tokens_t *t, const char *s, size_t n)
{
    if (t->tlen + n + 1 > t->tcap) {
        size_t cap = t->tcap ? t->tcap * 2 : 1024;
        while (cap < t->tlen + n + 1)
            cap *= 2;
        t->text = cf_realloc(t->text, cap);
        t->tcap = cap;
    }
    memcpy(t->text + t->tlen, s, n);
    t->tlen += n;
    t->text[t->tlen] = '\0';
}

static cf_token_t *
push(cf_tokens_t *t, size_t start, uint16_t flags)
{
    if (t->n == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 64;
        t->v = cf_realloc(t->v, t->cap * sizeof *t->v);
    }
    cf_token_t *k = &t->v[t->n++];
    k->start = (uint32_t)start;
    k->end = (uint32_t)start;
    k->norm = (uint32_t)t->tlen;
    k->len = 0;
    k->flags = flags;
    return k;
}

static void
finish(cf_tokens_t *t, cf_token_t *k, size_t end)
{
    k->end = (uint32_t)end;
    k->len = (uint16_t)(t->tlen - k->norm);
    k->hash = cf_token_hash(t->text + k->norm, k->len);
    norm_put1(t, '\0'); /* keep the NUL */
}

/* Appends the normalized form of cp (lowercase ASCII, typographic marks folded). */
static inline void
norm_cp(cf_tokens_t *t, const char *s, size_t from, size_t to, uint32_t cp)
{
    if (cp < 0x80) {
        norm_put1(t, (char)(cp >= 'A' && cp <= 'Z' ? cp + 32 : cp));
    } else if (cp == 0x2018 || cp == 0x2019) {
        norm_put(t, "'", 1);
    } else if (cp == 0x201c || cp == 0x201d || cp == 0xab || cp == 0xbb) {
        norm_put(t, "\"", 1);
    } else if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212) {
        norm_put(t, "-", 1);
    } else {
        norm_put(t, s + from, to - from);
    }
}

void
cf_token_split(const char *s, size_t start, size_t end, cf_tokens_t *t)
{
    t->n = 0;
    t->tlen = 0;
    cf_token_append(s, start, end, t);
}

void
cf_token_append(const char *s, size_t start, size_t end, cf_tokens_t *t)
{
    if (t->memo)
        t->memo->nlex = 0;
    else
        t->memo = cf_calloc(1, sizeof *t->memo);
    size_t i = start;
    uint16_t pre = CF_TOKEN_SPACE;
    while (i < end) {
        size_t nx;
        CF_STEP();
        uint32_t cp = peek(s, end, i, &nx);
        if (cp == 0 || cf_token_is_space(cp)) {
            pre |= CF_TOKEN_SPACE;
            if (cp == '\n' || cp == '\r' || cp == 0)
                pre |= CF_TOKEN_NL;
            i = nx;
            continue;
        }
        /* a possessive 's (or ’s) not followed by a letter */
        if (is_apos(cp) && t->n > 0 && !(pre & CF_TOKEN_SPACE) &&
            (t->v[t->n - 1].flags & CF_TOKEN_WORD)) {
            size_t n2, n3;
            uint32_t c2 = peek(s, end, nx, &n2);
            uint32_t c3 = peek(s, end, n2, &n3);
            if ((c2 == 's' || c2 == 'S') && !is_wordch(c3)) {
                cf_token_t *k = push(t, i, pre | CF_TOKEN_WORD);
                norm_put(t, "'s", 2);
                finish(t, k, n2);
                i = n2;
                pre = 0;
                continue;
            }
        }
        if (is_punct_cp(cp)) {
            cf_token_t *k = push(t, i, pre | CF_TOKEN_PUNCT);
            norm_cp(t, s, i, nx, cp);
            finish(t, k, nx);
            i = nx;
            pre = 0;
            continue;
        }
        uint16_t flags = pre | CF_TOKEN_WORD;
        cf_token_t *k = push(t, i, flags);
        size_t j = i;
        if (is_digit(cp)) {
            /* digits with internal , or . followed by a digit */
            k->flags |= CF_TOKEN_NUM;
            while (j < end && t->tlen - k->norm < MAX_NORM) {
                uint32_t c = peek(s, end, j, &nx);
                if (is_digit(c)) {
                    norm_cp(t, s, j, nx, c);
                    j = nx;
                    continue;
                }
                if ((c == ',' || c == '.') && is_digit(peek(s, end, nx, NULL)) && j > i) {
                    norm_cp(t, s, j, nx, c);
                    j = nx;
                    continue;
                }
                break;
            }
        } else {
            int letters = 0, upper = 0, seg = 0, segs = 0, oneletter = 1;
            if (cp >= 'A' && cp <= 'Z')
                k->flags |= CF_TOKEN_CAP;
            while (j < end && t->tlen - k->norm < MAX_NORM) {
                uint32_t c = peek(s, end, j, &nx);
                if (is_wordch(c)) {
                    if (is_alpha_ascii(c)) {
                        letters++;
                        if (c <= 'Z')
                            upper++;
                    }
                    seg++;
                    norm_cp(t, s, j, nx, c);
                    j = nx;
                    continue;
                }
                size_t n2;
                uint32_t c2 = peek(s, end, nx, &n2);
                if (c == '.' && is_wordch(c2) && !is_digit(c2) && j > i) {
                    /* "U.S.", "Aliyun.com": a dot between letters */
                    if (seg != 1)
                        oneletter = 0;
                    segs++;
                    seg = 0;
                    norm_cp(t, s, j, nx, c);
                    j = nx;
                    continue;
                }
                if (c == '.' && segs > 0 && oneletter && seg == 1) {
                    /* the final dot of an abbreviation of single letters */
                    norm_cp(t, s, j, nx, c);
                    j = nx;
                    break;
                }
                if ((c == '&' || is_apos(c)) && is_alpha_ascii(c2) && j > i) {
                    /* "AT&T", "don't"; a possessive 's is split above */
                    size_t n3;
                    uint32_t c3 = peek(s, end, n2, &n3);
                    if (is_apos(c) && (c2 == 's' || c2 == 'S') && !is_wordch(c3))
                        break;
                    norm_cp(t, s, j, nx, c);
                    j = nx;
                    continue;
                }
                break;
            }
            if (upper >= 2 && upper == letters)
                k->flags |= CF_TOKEN_UPPER;
        }
        finish(t, k, j);
        i = j;
        pre = 0;
    }
}

void
cf_token_free(cf_tokens_t *t)
{
    free(t->v);
    free(t->text);
    if (t->memo) {
        for (size_t k = 0; k < CF_TOKEN_MEMO_LEX; k++)
            free(t->memo->v[k]);
        free(t->memo);
    }
    memset(t, 0, sizeof *t);
}

const char *
cf_token_norm(const cf_tokens_t *t, size_t i)
{
    return i < t->n ? t->text + t->v[i].norm : "";
}

cf_tokens_t
cf_token_view(const cf_tokens_t *all, size_t a, size_t b)
{
    cf_tokens_t v = *all;
    v.v = all->v ? all->v + a : NULL;
    v.n = b - a;
    v.cap = b - a;
    if (v.memo)
        v.memo->nlex = 0;
    return v;
}
