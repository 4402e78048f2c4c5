/* SPDX-License-Identifier: MIT
 * cf_token: splits one span of an article body into word and punctuation tokens
 * with byte offsets into the body and a normalized (ASCII-lowercased) form in which
 * no-break spaces are spaces, typographic quotes are ' and ", and dashes are '-'.
 * Linear in the span; no recursion. The token list owns its arrays. */
#ifndef CF_TOKEN_H
#define CF_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cf_steps.h"

enum {
    CF_TOKEN_WORD = 1 << 0,  /* letters and digits */
    CF_TOKEN_NUM = 1 << 1,   /* starts with a digit: digits with internal , or . */
    CF_TOKEN_PUNCT = 1 << 2, /* one punctuation or symbol character */
    CF_TOKEN_CAP = 1 << 3,   /* first character is an uppercase ASCII letter */
    CF_TOKEN_UPPER = 1 << 4, /* at least two letters, all uppercase */
    CF_TOKEN_SPACE = 1 << 5, /* whitespace (or the span start) precedes the token */
    CF_TOKEN_NL = 1 << 6,    /* a line break precedes the token */
    CF_TOKEN_SKIP = 1 << 7   /* a hyphen inside a word ("data-center"): no space on either
                              * side, a token on both; phrase matches step over it */
};

#define CF_TOKEN_MEMO_LEX 3 /* lexicons whose lookups a token remembers */

typedef struct cf_token {
    uint32_t start; /* body byte offset of the first byte */
    uint32_t end;   /* body byte offset past the last byte */
    uint32_t norm;  /* offset of the normalized text in cf_tokens_t.text */
    uint16_t len;   /* length of the normalized text */
    uint16_t flags; /* CF_TOKEN_* */
    uint32_t hash;  /* cf_token_hash of the normalized text */
    int32_t memo[CF_TOKEN_MEMO_LEX]; /* per lexicon memo slot (cf_lexicon.c): 0 = not
                                      * looked up, < 0 = no phrase starts with this
                                      * word, k > 0 = trie node k - 1; 0 after a split */
} cf_token_t;

typedef struct cf_tokens {
    cf_token_t *v; /* tokens in text order */
    size_t n;      /* used */
    size_t cap;    /* allocated */
    char *text;    /* normalized texts, each NUL-terminated */
    size_t tlen;   /* used bytes of text */
    size_t tcap;   /* allocated bytes of text */
} cf_tokens_t;

/* Replaces the contents of out with the tokens of body[start:end). The span must be
 * valid UTF-8 (the caller checked the body) and short enough that a token fits in
 * 16 bits of normalized length (longer words are cut into pieces). */
void cf_token_split(const char *body, size_t start, size_t end, cf_tokens_t *out);

/* Like cf_token_split but appends to out (which keeps its tokens); a token's norm
 * offset is into out->text as always. The span starts a new token list as far as
 * the rules go (a span start counts as whitespace). */
void cf_token_append(const char *body, size_t start, size_t end, cf_tokens_t *out);

/* cf_token_append(body, start, end, out), the same tokens, when body[0:limit) may
 * be read (limit >= end, e.g. the body's length for a sentence of it): the word
 * path then reads 16 bytes at a time up to the span's end, not only up to 16
 * bytes before it. No byte at or past end decides anything. */
void cf_token_append_in(const char *body, size_t start, size_t end, size_t limit,
                        cf_tokens_t *out);

/* A borrowed list of the tokens all->v[a..b) (sharing all's arrays, and so the
 * tokens' lookup memos). Never pass a view to cf_token_free; it is void once all
 * changes. */
static inline cf_tokens_t
cf_token_view(const cf_tokens_t *all, size_t a, size_t b)
{
    cf_tokens_t v = *all;
    v.v = all->v ? all->v + a : NULL;
    v.n = b - a;
    v.cap = b - a;
    return v;
}

/* Makes room for ntok tokens and nbytes of normalized text in toks (a hint: the
 * lists grow as needed anyway). */
void cf_token_reserve(cf_tokens_t *toks, size_t ntok, size_t nbytes);

/* Frees the arrays of toks and zeroes it. */
void cf_token_free(cf_tokens_t *toks);

/* The normalized text of token i (NUL-terminated, owned by toks). */
const char *cf_token_norm(const cf_tokens_t *toks, size_t i);

/* The hash of a normalized word, as kept in cf_token_t.hash: 16 bytes at a time
 * (two 64-bit halves, the last chunk zero-padded) so that the tokenizer can hash a
 * short word from the register it lowercased it in (cf__token_hash16). Any hash
 * works as long as every table and token uses this one. */
static inline uint64_t
cf__token_hash_chunk(uint64_t h, uint64_t a, uint64_t b)
{
    h = (h ^ a) * 0x9e3779b97f4a7c15ull;
    h = ((h << 31) | (h >> 33)) ^ b;
    return h * 0xc2b2ae3d27d4eb4full;
}

static inline uint32_t
cf__token_hash_final(uint64_t h)
{
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* The hash of a word of n <= 16 bytes held as its two halves a, b (as memcpy
 * loads them) with the bytes past n zero. */
static inline uint32_t
cf__token_hash16(uint64_t a, uint64_t b, size_t n)
{
    return cf__token_hash_final(cf__token_hash_chunk(0x243f6a8885a308d3ull ^ n, a, b));
}

static inline uint32_t
cf_token_hash(const char *s, size_t n)
{
    uint64_t h = 0x243f6a8885a308d3ull ^ n, a, b;
    size_t k = 0;
    for (; n - k > 16; k += 16) {
        memcpy(&a, s + k, 8);
        memcpy(&b, s + k + 8, 8);
        h = cf__token_hash_chunk(h, a, b);
    }
    size_t r = n - k;
    a = b = 0;
    memcpy(&a, s + k, r < 8 ? r : 8);
    if (r > 8)
        memcpy(&b, s + k + 8, r - 8);
    return cf__token_hash_final(cf__token_hash_chunk(h, a, b));
}

/* True when token i exists and its normalized text equals word. Inline: with a
 * literal word the length test and the compare fold to a few instructions. */
static inline bool
cf_token_is(const cf_tokens_t *toks, size_t i, const char *word)
{
    CF_STEP();
    if (i >= toks->n)
        return false;
    size_t wl = strlen(word);
    return toks->v[i].len == wl && memcmp(toks->text + toks->v[i].norm, word, wl) == 0;
}

/* True when token i is one of the n words (cf_token_is on each). */
static inline bool
cf_token_in(const cf_tokens_t *toks, size_t i, const char *const *words, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (cf_token_is(toks, i, words[k]))
            return true;
    return false;
}

/* Decodes the code point at s[*i] (valid UTF-8 assumed, len bounds it) and advances *i.
 * Inline: ASCII, most of every text, costs a load and a compare. */
uint32_t cf_token_decode_multi(const char *s, size_t len, size_t *i);

static inline uint32_t
cf_token_decode(const char *s, size_t len, size_t *i)
{
    unsigned char c = (unsigned char)s[*i];
    if (c < 0x80) {
        (*i)++;
        return c;
    }
    return cf_token_decode_multi(s, len, i);
}

/* True when cp is whitespace for matching (ASCII space, tab, line breaks, U+00A0,
 * U+2000..U+200B, U+202F, U+205F, U+3000, U+FEFF). */
static inline bool
cf_token_is_space(uint32_t cp)
{
    if (cp < 0x80)
        return cp == ' ' || (cp >= '\t' && cp <= '\r'); /* \t \n \v \f \r */
    return cp == 0xa0 || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000 || cp == 0xfeff;
}

#endif
