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

enum {
    CF_TOKEN_WORD = 1 << 0,  /* letters and digits */
    CF_TOKEN_NUM = 1 << 1,   /* starts with a digit: digits with internal , or . */
    CF_TOKEN_PUNCT = 1 << 2, /* one punctuation or symbol character */
    CF_TOKEN_CAP = 1 << 3,   /* first character is an uppercase ASCII letter */
    CF_TOKEN_UPPER = 1 << 4, /* at least two letters, all uppercase */
    CF_TOKEN_SPACE = 1 << 5, /* whitespace (or the span start) precedes the token */
    CF_TOKEN_NL = 1 << 6     /* a line break precedes the token */
};

typedef struct cf_token {
    uint32_t start; /* body byte offset of the first byte */
    uint32_t end;   /* body byte offset past the last byte */
    uint32_t norm;  /* offset of the normalized text in cf_tokens_t.text */
    uint16_t len;   /* length of the normalized text */
    uint16_t flags; /* CF_TOKEN_* */
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

/* Frees the arrays of toks and zeroes it. */
void cf_token_free(cf_tokens_t *toks);

/* The normalized text of token i (NUL-terminated, owned by toks). */
const char *cf_token_norm(const cf_tokens_t *toks, size_t i);

/* True when token i exists and its normalized text equals word. */
bool cf_token_is(const cf_tokens_t *toks, size_t i, const char *word);

/* Decodes the code point at s[*i] (valid UTF-8 assumed, len bounds it) and advances *i. */
uint32_t cf_token_decode(const char *s, size_t len, size_t *i);

/* True when cp is whitespace for matching (ASCII space, tab, line breaks, U+00A0,
 * U+2000..U+200B, U+202F, U+205F, U+3000, U+FEFF). */
bool cf_token_is_space(uint32_t cp);

#endif
