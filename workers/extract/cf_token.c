/* SPDX-License-Identifier: MIT
 * cf_token: tokenizer with body offsets and a normalized form (see cf_token.h).
 * Words keep internal dots of abbreviations and domains ("U.S.", "Aliyun.com"),
 * a possessive 's is its own token, digits with , and . are one number token. */
#include "cf_token.h"

#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cf_steps.h"
#include "cf_text.h"

#define MAX_NORM 200 /* longer words are cut; nothing we match is that long */
#define NORM_SLACK 16 /* a last character (<= 4 bytes), "'s" and the NUL past MAX_NORM */

/* word_byte[b]: for an ASCII letter or digit, the normalized byte, plus WB_UP_BIT
 * for an uppercase letter and WB_DIGIT_BIT for a digit; 0 for every other byte.
 * The fast paths below copy such bytes without decoding; the slow paths handle
 * everything else exactly as before. */
#define WB_UP_BIT (1 << 8)
#define WB_DIGIT_BIT (1 << 9)
#define WB_LOW_BIT (1 << 10)
#define WB_UP(c) ((c) + 32 + WB_UP_BIT)
#define WB_DIGIT(c) ((c) + WB_DIGIT_BIT)
#define WB_LOW(c) ((c) + WB_LOW_BIT)
static const unsigned short word_byte[256] = {
    ['0'] = WB_DIGIT('0'), ['1'] = WB_DIGIT('1'), ['2'] = WB_DIGIT('2'), ['3'] = WB_DIGIT('3'),
    ['4'] = WB_DIGIT('4'), ['5'] = WB_DIGIT('5'), ['6'] = WB_DIGIT('6'), ['7'] = WB_DIGIT('7'),
    ['8'] = WB_DIGIT('8'), ['9'] = WB_DIGIT('9'),
    ['a'] = WB_LOW('a'), ['b'] = WB_LOW('b'), ['c'] = WB_LOW('c'), ['d'] = WB_LOW('d'),
    ['e'] = WB_LOW('e'), ['f'] = WB_LOW('f'), ['g'] = WB_LOW('g'), ['h'] = WB_LOW('h'),
    ['i'] = WB_LOW('i'), ['j'] = WB_LOW('j'), ['k'] = WB_LOW('k'), ['l'] = WB_LOW('l'),
    ['m'] = WB_LOW('m'), ['n'] = WB_LOW('n'), ['o'] = WB_LOW('o'), ['p'] = WB_LOW('p'),
    ['q'] = WB_LOW('q'), ['r'] = WB_LOW('r'), ['s'] = WB_LOW('s'), ['t'] = WB_LOW('t'),
    ['u'] = WB_LOW('u'), ['v'] = WB_LOW('v'), ['w'] = WB_LOW('w'), ['x'] = WB_LOW('x'),
    ['y'] = WB_LOW('y'), ['z'] = WB_LOW('z'),
    ['A'] = WB_UP('A'), ['B'] = WB_UP('B'), ['C'] = WB_UP('C'), ['D'] = WB_UP('D'),
    ['E'] = WB_UP('E'), ['F'] = WB_UP('F'), ['G'] = WB_UP('G'), ['H'] = WB_UP('H'),
    ['I'] = WB_UP('I'), ['J'] = WB_UP('J'), ['K'] = WB_UP('K'), ['L'] = WB_UP('L'),
    ['M'] = WB_UP('M'), ['N'] = WB_UP('N'), ['O'] = WB_UP('O'), ['P'] = WB_UP('P'),
    ['Q'] = WB_UP('Q'), ['R'] = WB_UP('R'), ['S'] = WB_UP('S'), ['T'] = WB_UP('T'),
    ['U'] = WB_UP('U'), ['V'] = WB_UP('V'), ['W'] = WB_UP('W'), ['X'] = WB_UP('X'),
    ['Y'] = WB_UP('Y'), ['Z'] = WB_UP('Z')};

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

static inline cf_token_t *
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
    memset(k->memo, 0, sizeof k->memo);
    return k;
}

static inline void
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

#if defined(__SSE2__)
/* Bytes of v in [lo, lo + n): 0xff lanes. */
static inline __m128i
in_range(__m128i v, char lo, char n)
{
    __m128i x = _mm_sub_epi8(v, _mm_set1_epi8(lo));
    return _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8((char)(n - 1))), x);
}

/* cf_token_hash of the first n (<= 16) bytes of v: the other bytes are cleared with
 * a mask of 16 ones then 16 zeros read from 16 - n, then the two halves hashed. */
static inline uint32_t
hash_first(__m128i v, size_t n)
{
    static const unsigned char ones[32] = {255, 255, 255, 255, 255, 255, 255, 255,
                                           255, 255, 255, 255, 255, 255, 255, 255};
    v = _mm_and_si128(v, _mm_loadu_si128((const __m128i *)(const void *)(ones + 16 - n)));
    return cf__token_hash16((uint64_t)_mm_cvtsi128_si64(v),
                            (uint64_t)_mm_cvtsi128_si64(_mm_unpackhi_epi64(v, v)), n);
}

/* The common word when 16 bytes can be read at s (the caller's limit): ASCII letters
 * and digits ending within those 16 bytes or at the span's end, avail bytes on
 * (bytes past it are not looked at). Classifies, lowercases, stores and hashes the
 * word in a few vector operations; returns its length, or 16 when it goes on past
 * the 16 bytes (the scalar loop takes it). Stores 16 bytes at d. For a capitalized
 * word (cap) it also sets *lower, the mask of its lowercase letters, which decides
 * CF_TOKEN_UPPER; a word that starts in lowercase cannot be all capitals. */
static inline __attribute__((always_inline)) size_t
word16(const char *s, size_t avail, bool cap, char *d, unsigned *lower, uint32_t *hash)
{
    const __m128i bit5 = _mm_set1_epi8(0x20);
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)s);
    __m128i alpha = in_range(_mm_or_si128(v, bit5), 'a', 26), dg = in_range(v, '0', 10);
    unsigned wm = (unsigned)_mm_movemask_epi8(_mm_or_si128(alpha, dg));
    if (avail < 16)
        wm &= (1u << avail) - 1; /* the span ends there */
    size_t n = (size_t)__builtin_ctz(~wm); /* bits 16 and up are set: 16 at most */
    if (n == 16)
        return 16; /* the run goes on past the block */
    __m128i low = _mm_or_si128(v, _mm_and_si128(alpha, bit5));
    _mm_storeu_si128((__m128i *)(void *)d, low);
    *hash = hash_first(low, n);
    if (cap) /* a letter's bit 5 (lowercase) moved to bit 7 of its byte */
        *lower = (unsigned)_mm_movemask_epi8(_mm_slli_epi16(_mm_and_si128(alpha, v), 2)) &
                 ((1u << n) - 1);
    return n;
}
#endif

static inline bool
ascii_alpha(unsigned char c)
{
    return (unsigned char)((c | 0x20) - 'a') < 26;
}

static inline bool
ascii_alnum(unsigned char c)
{
    return ascii_alpha(c) || (unsigned char)(c - '0') < 10;
}

/* plain_end[b]: an ASCII byte that ends a word whatever follows (not a letter or
 * digit, nor a joiner . & '), so that ends_word need not look further. */
#define E8(x) [x] = 1, [x + 1] = 1, [x + 2] = 1, [x + 3] = 1, [x + 4] = 1, [x + 5] = 1, \
              [x + 6] = 1, [x + 7] = 1
static const unsigned char plain_end[256] = {
    E8(0x00), E8(0x08), E8(0x10), E8(0x18), [' '] = 1, ['!'] = 1, ['"'] = 1, ['#'] = 1,
    ['$'] = 1, ['%'] = 1, ['('] = 1, [')'] = 1, ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1,
    ['/'] = 1, [':'] = 1, [';'] = 1, ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1, ['@'] = 1,
    ['['] = 1, ['\\'] = 1, [']'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['{'] = 1, ['|'] = 1,
    ['}'] = 1, ['~'] = 1, [0x7f] = 1};
#undef E8

/* At least two capitals in s[i:j) (a word without lowercase letters: then it is
 * CF_TOKEN_UPPER). Rare: only for capitalized words. */
static bool
two_capitals(const char *s, size_t i, size_t j)
{
    int upper = 0;
    for (size_t q = i; q < j; q++)
        upper += s[q] >= 'A' && s[q] <= 'Z';
    return upper >= 2;
}

/* Does a word whose run of ASCII letters and digits stops at s[j] (j < end) end
 * there, by the rules of the loop in slow_token? A '.' joins only a letter after
 * it ("Aliyun.com"), '&' and ' join only a letter ("AT&T", "don't"), and ' s
 * before a non-word character is a possessive the word ends at. False also when a
 * non-ASCII character would decide: the loop takes those. */
static inline __attribute__((always_inline)) bool
ends_word(const char *s, size_t j, size_t end)
{
    unsigned char e = (unsigned char)s[j];
    if (e >= 0x80)
        return false;
    if (e != '.' && e != '&' && e != '\'')
        return true;
    unsigned char c2 = j + 1 < end ? (unsigned char)s[j + 1] : 0; /* 0: the span's end */
    if (c2 >= 0x80)
        return false;
    if (!ascii_alpha(c2))
        return true;
    if (e != '\'' || (c2 != 's' && c2 != 'S'))
        return false;
    unsigned char c3 = j + 2 < end ? (unsigned char)s[j + 2] : 0;
    return c3 < 0x80 && !ascii_alnum(c3);
}

/* Writes the word token k for s[start:end) with its normalized text at d (already
 * there) and the NULs after it. */
static inline __attribute__((always_inline)) void
put_word(cf_token_t *k, size_t start, size_t end, size_t norm, uint16_t flags, uint32_t hash,
         char *d)
{
    k->start = (uint32_t)start;
    k->end = (uint32_t)end;
    k->norm = (uint32_t)norm;
    k->len = (uint16_t)(end - start);
    k->flags = flags;
    k->hash = hash;
    memset(k->memo, 0, sizeof k->memo);
    d[end - start] = '\0';
    d[end - start + 1] = '\0';
}

/* The common word: from an ASCII letter at s[i], a run of ASCII letters and digits
 * shorter than MAX_NORM that ends there (ends_word) or at the span's end. Writes it
 * as slow_token would: the token k (normalized text at d, which is norm bytes into
 * the list's text and has room for MAX_NORM + NORM_SLACK bytes), hashed and flagged
 * in one pass over its bytes. Returns the offset past it, or 0, having made no
 * token, for any other word. s[0:limit) may be read (limit >= end); wide: 16 bytes
 * can be read at any offset before end. */
static inline __attribute__((always_inline)) size_t
word_fast(const char *s, size_t i, size_t end, size_t limit, bool wide, uint16_t pre,
          cf_token_t *k, char *d, size_t norm)
{
    size_t j;
    uint32_t h = 0;
    uint16_t flags = pre | CF_TOKEN_WORD;
#if defined(__SSE2__)
    bool cap = word_byte[(unsigned char)s[i]] & WB_UP_BIT;
    unsigned lower = 1;
    size_t n16;
    if ((wide || limit - i >= 16) &&
        (n16 = word16(s + i, end - i, cap, d, &lower, &h)) < 16) {
        j = i + n16; /* <= end */
        if (j < end && !plain_end[(unsigned char)s[j]] && !ends_word(s, j, end))
            return 0;
        if (cap) {
            flags |= CF_TOKEN_CAP;
            if (!lower && two_capitals(s, i, j))
                flags |= CF_TOKEN_UPPER;
        }
        put_word(k, i, j, norm, flags, h, d);
        return j;
    }
#else
    (void)limit, (void)wide;
#endif
    size_t lim = end - i < MAX_NORM ? end : i + MAX_NORM;
    unsigned acc = 0;
    j = i;
    while (j < lim) {
        unsigned v = word_byte[(unsigned char)s[j]];
        if (!v)
            break;
        d[j - i] = (char)v;
        acc |= v;
        j++;
    }
    if (j - i >= MAX_NORM)
        return 0;
    if (j < end && !plain_end[(unsigned char)s[j]] && !ends_word(s, j, end))
        return 0;
    h = cf_token_hash(d, j - i);
    if (word_byte[(unsigned char)s[i]] & WB_UP_BIT)
        flags |= CF_TOKEN_CAP;
    if (!(acc & WB_LOW_BIT) && (acc & WB_UP_BIT) && two_capitals(s, i, j))
        flags |= CF_TOKEN_UPPER; /* no lowercase letter, at least two capitals */
    put_word(k, i, j, norm, flags, h, d);
    return j;
}

/* The common number: from an ASCII digit at s[i], a run of fewer than 16 digits,
 * when 16 bytes can be read (limit), that the general loop would end where the
 * digits end (no , or . before a digit: "1,234" and "4.6" take the loop). Writes
 * it as word_fast does and returns the offset past it, or 0 with nothing made. */
static inline __attribute__((always_inline)) size_t
num_fast(const char *s, size_t i, size_t end, size_t limit, bool wide, uint16_t pre,
         cf_token_t *k, char *d, size_t norm)
{
#if defined(__SSE2__)
    if (!wide && limit - i < 16)
        return 0;
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
    unsigned dm = (unsigned)_mm_movemask_epi8(in_range(v, '0', 10));
    if (end - i < 16)
        dm &= (1u << (end - i)) - 1; /* the span ends there */
    size_t n = (size_t)__builtin_ctz(~dm), j = i + n;
    if (n == 16)
        return 0;
    if (j + 1 < end && (s[j] == ',' || s[j] == '.') && is_digit((unsigned char)s[j + 1]))
        return 0;
    _mm_storeu_si128((__m128i *)(void *)d, v);
    put_word(k, i, j, norm, pre | CF_TOKEN_WORD | CF_TOKEN_NUM, hash_first(v, n), d);
    return j;
#else
    (void)s, (void)i, (void)end, (void)limit, (void)wide, (void)pre, (void)k, (void)d,
        (void)norm;
    return 0; /* the general loop takes every number */
#endif
}

void
cf_token_split(const char *s, size_t start, size_t end, cf_tokens_t *t)
{
    t->n = 0;
    t->tlen = 0;
    cf_token_append(s, start, end, t);
}

/* ASCII punctuation and symbols (and control bytes that are not whitespace): a
 * one-byte token of its own, normalized to itself, whatever follows. Not ' (a
 * possessive), nor whitespace, NUL, letters or digits. */
#define P8(x) [x] = 1, [x + 1] = 1, [x + 2] = 1, [x + 3] = 1, [x + 4] = 1, [x + 5] = 1, \
              [x + 6] = 1, [x + 7] = 1
static const unsigned char plain_punct[256] = {
    P8(0x01), [0x0e] = 1, [0x0f] = 1, P8(0x10), P8(0x18),
    ['!'] = 1, ['"'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['('] = 1, [')'] = 1,
    ['*'] = 1, ['+'] = 1, [','] = 1, ['-'] = 1, ['.'] = 1, ['/'] = 1, [':'] = 1, [';'] = 1,
    ['<'] = 1, ['='] = 1, ['>'] = 1, ['?'] = 1, ['@'] = 1, ['['] = 1, ['\\'] = 1, [']'] = 1,
    ['^'] = 1, ['_'] = 1, ['`'] = 1, ['{'] = 1, ['|'] = 1, ['}'] = 1, ['~'] = 1, [0x7f] = 1};
#undef P8

/* Writes the one-byte token b at s[i] (plain_punct) as the general loop would: the
 * token k, its text at d (norm bytes into the list's text, room for 3 bytes). */
static inline __attribute__((always_inline)) void
punct_fast(cf_token_t *k, char *d, size_t norm, size_t i, unsigned char b, uint16_t pre)
{
    k->start = (uint32_t)i;
    k->end = (uint32_t)i + 1;
    k->norm = (uint32_t)norm;
    k->len = 1;
    k->flags = pre | CF_TOKEN_PUNCT;
    k->hash = cf__token_hash16(b, 0, 1);
    memset(k->memo, 0, sizeof k->memo);
    d[0] = (char)b;
    d[1] = '\0';
    d[2] = '\0';
}

/* Flags the hyphens among tokens [from, t->n) that join two tokens (CF_TOKEN_SKIP):
 * the tokens on both sides are in this list, and no space is on either side. */
static void
flag_skips(cf_tokens_t *t, size_t from)
{
    for (size_t k = from > 0 ? from : 1; k + 1 < t->n; k++) {
        cf_token_t *x = &t->v[k];
        if (x->len == 1 && t->text[x->norm] == '-' && !(x->flags & CF_TOKEN_SPACE) &&
            !(t->v[k + 1].flags & CF_TOKEN_SPACE))
            x->flags |= CF_TOKEN_SKIP;
    }
}

/* The state of append's loop after slow_token. */
typedef struct step {
    size_t next;  /* offset past what was consumed */
    uint16_t pre; /* CF_TOKEN_SPACE / CF_TOKEN_NL for the next token */
    bool hyphen;  /* a '-' with no space before it was made */
} step_t;

/* Everything at s[i] (i < end) that the fast paths of append do not take: other
 * whitespace and NUL, a possessive, non-ASCII punctuation, and words that start with
 * a digit or a non-ASCII letter or are not the common word (all of this is the
 * loop the tokenizer had before its fast paths, unchanged). Appends at most one
 * token through the checked list functions and returns the loop's new state. Out
 * of line (slow_scan), so that the fast loop stays small. */
static __attribute__((noinline)) step_t
slow_token(const char *s, size_t i, size_t end, uint16_t pre, cf_tokens_t *t)
{
    size_t nx;
    uint32_t cp;
    unsigned char b0 = (unsigned char)s[i];
    if (word_byte[b0] && !(word_byte[b0] & WB_DIGIT_BIT)) {
        /* an ASCII letter starts a word: none of the tests below applies */
        cp = b0;
        nx = i + 1;
    } else {
        cp = peek(s, end, i, &nx);
        if (cp == 0 || cf_token_is_space(cp)) {
            pre |= CF_TOKEN_SPACE;
            if (cp == '\n' || cp == '\r' || cp == 0)
                pre |= CF_TOKEN_NL;
            return (step_t){nx, pre, false};
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
                return (step_t){n2, 0, false};
            }
        }
        if (is_punct_cp(cp)) {
            cf_token_t *k = push(t, i, pre | CF_TOKEN_PUNCT);
            norm_cp(t, s, i, nx, cp);
            finish(t, k, nx);
            return (step_t){nx, 0, !(pre & CF_TOKEN_SPACE) && t->text[k->norm] == '-'};
        }
    }
    uint16_t flags = pre | CF_TOKEN_WORD;
    cf_token_t *k = push(t, i, flags);
    size_t j = i;
    /* room for the longest normalized word, so that the fast paths store bytes
     * without checking */
    if (t->tlen + MAX_NORM + NORM_SLACK > t->tcap)
        norm_grow(t, MAX_NORM + NORM_SLACK);
    if (is_digit(cp)) {
        /* digits with internal , or . followed by a digit */
        k->flags |= CF_TOKEN_NUM;
        while (j < end && t->tlen - k->norm < MAX_NORM) {
            /* fast path: a run of digits */
            char *d = t->text;
            size_t tl = t->tlen, lim = k->norm + MAX_NORM, j0 = j;
            while (j < end && tl < lim && s[j] >= '0' && s[j] <= '9')
                d[tl++] = s[j++];
            t->tlen = tl;
            if (j > j0)
                continue;
            unsigned char e = (unsigned char)s[j];
            if (e < 0x80 && e != ',' && e != '.')
                break; /* no digit, no separator: the number ends */
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
            /* fast path: a run of ASCII letters and digits, lowercased (locals,
             * so that the stores need not reload the list) */
            char *d = t->text;
            size_t j0 = j, off = t->tlen - j0; /* s[j] goes to d[j + off] */
            size_t stop = k->norm + MAX_NORM - t->tlen;
            stop = end - j < stop ? end : j + stop;
            int digits = 0;
            while (j < stop) {
                unsigned v = word_byte[(unsigned char)s[j]];
                if (!v)
                    break;
                d[j + off] = (char)v;
                upper += (v & WB_UP_BIT) != 0;
                digits += (v & WB_DIGIT_BIT) != 0;
                j++;
            }
            if (j > j0) {
                t->tlen += j - j0;
                letters += (int)(j - j0) - digits;
                seg += (int)(j - j0);
                continue;
            }
            unsigned char e = (unsigned char)s[j];
            if (e < 0x80 && e != '.' && e != '&' && e != '\'')
                break; /* ASCII, no letter or digit, none of the joiners below */
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
    return (step_t){j, 0, false};
}

/* Makes room for ntok more tokens and nbytes more normalized text, growing by
 * doubling (amortized linear). */
static void
room(cf_tokens_t *t, size_t ntok, size_t nbytes)
{
    if (t->cap - t->n < ntok) {
        size_t cap = t->cap ? t->cap * 2 : 64;
        while (cap - t->n < ntok)
            cap *= 2;
        t->v = cf_realloc(t->v, cap * sizeof *t->v);
        t->cap = cap;
    }
    if (t->tcap - t->tlen < nbytes) {
        size_t cap = t->tcap ? t->tcap * 2 : 1024;
        while (cap - t->tlen < nbytes)
            cap *= 2;
        t->text = cf_realloc(t->text, cap);
        t->tcap = cap;
    }
}

/* The span is taken in windows of at most WINDOW bytes. A window's tokens start
 * inside it, each on at least one byte, and each adds at most twice its bytes of
 * normalized text (the text is never longer than its source, plus a NUL); only the
 * last one may run past the window, by at most MAX_NORM + NORM_SLACK bytes of text.
 * So the room made once per window holds every token of the fast paths, which then
 * store without a check. */
#define WINDOW 4096

/* The loop state of append, in memory while slow_scan runs. */
typedef struct scan {
    const char *s;
    size_t i;      /* the next byte */
    size_t end;    /* the span's end */
    size_t limit;  /* s[0:limit) may be read */
    size_t wend;   /* the window's end: no token starts at or past it */
    cf_tokens_t *t;
    uint16_t pre;  /* CF_TOKEN_SPACE / CF_TOKEN_NL for the next token */
    bool hyphen;   /* a '-' with no space before it: flag_skips has work */
} scan_t;

/* slow_token at sc->i, updating the state. */
static __attribute__((noinline)) void
slow_scan(scan_t *sc)
{
    step_t st = slow_token(sc->s, sc->i, sc->end, sc->pre, sc->t);
    sc->i = st.next;
    sc->pre = st.pre;
    sc->hyphen |= st.hyphen;
}

/* The tokens that start in [sc->i, sc->wend), room for them made. The fast paths
 * run on locals; every local is reloaded from sc (and the list) after slow_scan, so
 * that none lives across that call. whole: the window is the rest of the span
 * (wend is end) and 16 bytes can be read at any i < end (the usual sentence of a
 * body): two fewer values live in the loop, which then fits in registers. */
static inline __attribute__((always_inline)) void
scan_window(scan_t *sc, const bool whole)
{
    const char *s = sc->s;
    size_t i = sc->i, end = sc->end, limit = sc->limit, wend = whole ? end : sc->wend;
    uint16_t pre = sc->pre;
    bool hyphen = sc->hyphen;
    cf_tokens_t *t = sc->t;
    cf_token_t *k = t->v + t->n; /* the next token */
    char *text = t->text;
    size_t tlen = t->tlen;
    while (i < wend) {
        CF_STEP();
        unsigned char b0 = (unsigned char)s[i];
        if (b0 == ' ') {
            pre |= CF_TOKEN_SPACE;
            i++;
            continue;
        }
        size_t j = 0;
        if (word_byte[b0] & (WB_UP_BIT | WB_LOW_BIT))
            j = word_fast(s, i, end, limit, whole, pre, k, text + tlen, tlen);
        else if (word_byte[b0])
            j = num_fast(s, i, end, limit, whole, pre, k, text + tlen, tlen);
        if (j) {
            k++;
            tlen += j - i + 1;
            i = j;
            pre = 0;
            if (i < end && s[i] == ' ') { /* the usual space after a word */
                CF_STEP();
                pre = CF_TOKEN_SPACE;
                i++;
            }
            continue;
        }
        if (plain_punct[b0]) {
            punct_fast(k, text + tlen, tlen, i, b0, pre);
            k++;
            tlen += 2;
            hyphen |= b0 == '-' && !(pre & CF_TOKEN_SPACE);
            i++;
            pre = 0;
            if (i < end && s[i] == ' ') {
                CF_STEP();
                pre = CF_TOKEN_SPACE;
                i++;
            }
            continue;
        }
        t->n = (size_t)(k - t->v);
        t->tlen = tlen;
        sc->i = i;
        sc->pre = pre;
        sc->hyphen = hyphen;
        slow_scan(sc);
        s = sc->s;
        i = sc->i;
        end = sc->end;
        limit = sc->limit;
        wend = whole ? end : sc->wend;
        pre = sc->pre;
        hyphen = sc->hyphen;
        t = sc->t;
        k = t->v + t->n;
        text = t->text;
        tlen = t->tlen;
    }
    t->n = (size_t)(k - t->v);
    t->tlen = tlen;
    sc->i = i;
    sc->pre = pre;
    sc->hyphen = hyphen;
}

static inline void
append(const char *s, size_t start, size_t end, size_t limit, cf_tokens_t *t)
{
    size_t first = t->n;
    scan_t sc = {s, start, end, limit, start, t, CF_TOKEN_SPACE, false};
    while (sc.i < end) {
        size_t w = end - sc.i < WINDOW ? end - sc.i : WINDOW;
        sc.wend = sc.i + w;
        room(t, w, 2 * w + MAX_NORM + NORM_SLACK);
        if (sc.wend == end && limit - end >= 15)
            scan_window(&sc, true);
        else
            scan_window(&sc, false);
    }
    if (sc.hyphen)
        flag_skips(t, first);
}

void
cf_token_append(const char *s, size_t start, size_t end, cf_tokens_t *t)
{
    append(s, start, end, end, t);
}

void
cf_token_append_in(const char *s, size_t start, size_t end, size_t limit, cf_tokens_t *t)
{
    append(s, start, end, limit < end ? end : limit, t);
}

void
cf_token_reserve(cf_tokens_t *t, size_t ntok, size_t nbytes)
{
    if (t->cap < ntok) {
        t->cap = ntok;
        t->v = cf_realloc(t->v, t->cap * sizeof *t->v);
    }
    if (t->tcap < nbytes) {
        t->tcap = nbytes;
        t->text = cf_realloc(t->text, t->tcap);
    }
}

void
cf_token_free(cf_tokens_t *t)
{
    free(t->v);
    free(t->text);
    memset(t, 0, sizeof *t);
}

const char *
cf_token_norm(const cf_tokens_t *t, size_t i)
{
    return i < t->n ? t->text + t->v[i].norm : "";
}

