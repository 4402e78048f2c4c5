/* SPDX-License-Identifier: MIT
 * cf_sentence: sentence boundaries by byte offsets (see cf_sentence.h). */
#include "cf_sentence.h"

#include <stdint.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cf_steps.h"
#include "cf_token.h"

/* Words after which a dot does not end a sentence, by length (no other length has
 * any): a dot compares its word with the few of its length. */
static const char abbrev2[][3] = {"mr", "ms", "dr", "co", "jr", "sr", "st", "vs", "no"};
static const char abbrev3[][4] = {"mrs", "inc", "ltd", "gen", "gov", "sen", "rep", "jan", "feb",
                                  "mar", "apr", "aug", "sep", "oct", "nov", "dec", "est", "fig"};
static const char abbrev4[][5] = {"prof", "corp", "sept"};
static const char abbrev6[][7] = {"approx"};

/* The bytes the sentence loop must look at: NUL, whitespace other than ' ', . ! ?
 * and every non-ASCII byte. A ' ' is not one: the last space before a cut is found
 * by looking back from the cut (rare), not remembered byte by byte. The control
 * bytes 0x01..0x08 are stops too, only so that the vector test is one signed
 * compare (every byte below 0x0e or above 0x7f); the loop passes over them as over
 * any other byte that ends nothing, so they change no result. */
static const bool plain_stop[256] = {
    [0] = true,    [1] = true,    [2] = true,    [3] = true,    [4] = true,    [5] = true,
    [6] = true,    [7] = true,    [8] = true,
    ['\t'] = true, ['\n'] = true, ['\v'] = true, ['\f'] = true, ['\r'] = true,
    ['.'] = true,  ['!'] = true,  ['?'] = true,
#define R8(x) [x] = true, [x + 1] = true, [x + 2] = true, [x + 3] = true, [x + 4] = true, \
              [x + 5] = true, [x + 6] = true, [x + 7] = true
#define R32(x) R8(x), R8(x + 8), R8(x + 16), R8(x + 24)
    R32(0x80), R32(0xa0), R32(0xc0), R32(0xe0)
#undef R32
#undef R8
};

/* The first i in [i, lim) where body[i] is a stop byte (plain_stop), or lim. */
static inline size_t
skip_plain(const char *body, size_t i, size_t lim)
{
#if defined(__SSE2__)
    const __m128i dot = _mm_set1_epi8('.'), bang = _mm_set1_epi8('!'), q = _mm_set1_epi8('?');
    const __m128i low = _mm_set1_epi8(0x0e); /* signed: bytes 0x80..0xff and 0x00..0x0d */
    while (lim - i >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(body + i));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpgt_epi8(low, v), _mm_cmpeq_epi8(v, dot)),
            _mm_or_si128(_mm_cmpeq_epi8(v, bang), _mm_cmpeq_epi8(v, q)));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
        i += 16;
    }
#endif
    while (i < lim && !plain_stop[(unsigned char)body[i]])
        i++;
    return i;
}

/* The last whitespace code point of body[s, i] (valid UTF-8) that is a ' ' or one the
 * loop remembered (slow, at or after s), for a cut. */
static size_t
last_space_before(const char *body, size_t s, size_t i, size_t slow)
{
    for (size_t p = i + 1; p-- > s;) {
        if (p <= slow)
            break;
        if (body[p] == ' ')
            return p;
    }
    return slow;
}

/* How many of the bytes before dot, at most 8 and none before from, are ASCII
 * letters in a row (the word a dot ends). */
static inline size_t
letters_before(const char *body, size_t from, size_t dot)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (dot - from >= 8) {
        /* the 8 bytes at once: body[dot - 1] is the top byte. A byte is a letter when,
         * lowercased, it is in 'a'..'z' and below 0x80; with each byte's top bit set
         * first, the two subtractions cannot borrow from the next byte. */
        const uint64_t h = 0x8080808080808080ull;
        uint64_t x;
        memcpy(&x, body + dot - 8, 8);
        uint64_t l = x | 0x2020202020202020ull | h;
        uint64_t letter = (l - 0x6161616161616161ull) & ~(l - 0x7b7b7b7b7b7b7b7bull) & ~x & h;
        uint64_t other = ~letter & h;
        return other ? (size_t)__builtin_clzll(other) / 8 : 8;
    }
#endif
    size_t w = dot, lo = dot - from > 8 ? dot - 8 : from;
    while (w > lo && (unsigned char)((body[w - 1] | 0x20) - 'a') < 26)
        w--;
    return dot - w;
}

static bool
is_abbrev(const char *body, size_t from, size_t dot)
{
    size_t n = letters_before(body, from, dot), w = dot - n;
    if (n == 0)
        return false;
    /* a single letter: an initial or "U.S." */
    if (n == 1)
        return true;
    /* the word in lowercase (ASCII letters), copied with the list's constant length */
#define IN_LIST(list)                                                                              \
    do {                                                                                           \
        char low[sizeof *list - 1];                                                                \
        for (size_t k = 0; k < sizeof low; k++)                                                    \
            low[k] = (char)(body[w + k] | 0x20);                                                   \
        for (size_t i = 0; i < sizeof list / sizeof *list; i++)                                    \
            if (memcmp(low, list[i], sizeof low) == 0)                                             \
                return true;                                                                       \
        return false;                                                                              \
    } while (0)
    switch (n) {
    case 2:
        IN_LIST(abbrev2);
    case 3:
        IN_LIST(abbrev3);
    case 4:
        IN_LIST(abbrev4);
    case 6:
        IN_LIST(abbrev6);
    default:
        return false;
    }
#undef IN_LIST
}

static bool
is_closer(uint32_t cp)
{
    return cp == '"' || cp == '\'' || cp == ')' || cp == ']' || cp == 0x201d || cp == 0x2019;
}

static bool
is_opener_or_upper(uint32_t cp)
{
    return (cp >= 'A' && cp <= 'Z') || (cp >= '0' && cp <= '9') || cp == '"' || cp == 0x201c ||
           cp == 0x2018 || cp == '(' || cp == '[' || cp > 0x2ff;
}

bool
cf_sentence_next(const char *body, size_t len, size_t *pos, size_t *start, size_t *end)
{
    size_t i = *pos;
    /* skip leading whitespace */
    while (i < len) {
        size_t k = i;
        CF_STEP();
        uint32_t cp = cf_token_decode(body, len, &k);
        if (!(cp == 0 || cf_token_is_space(cp)))
            break;
        i = k;
    }
    if (i >= len) {
        *pos = len;
        return false;
    }
    size_t s = i, last_space = 0, e = len;
    while (i < len) {
        /* fast path: ASCII bytes that end nothing inside the cap, 16 at a time; the
         * loop below remembers only the other whitespace (last_space_before) */
        size_t lim = s + CF_SENTENCE_MAX < len ? s + CF_SENTENCE_MAX : len, i0 = i;
        i = skip_plain(body, i, lim);
        CF_STEPS(i - i0);
        if (i >= len)
            break;
        size_t k = i;
        CF_STEP();
        uint32_t cp = cf_token_decode(body, len, &k);
        if (cp == '\n' || cp == '\r' || cp == 0) {
            e = i;
            *pos = k;
            goto done;
        }
        if (cf_token_is_space(cp))
            last_space = i;
        if (k - s > CF_SENTENCE_MAX) {
            /* cut: at the last space if it keeps half the limit, else here */
            last_space = last_space_before(body, s, i, last_space);
            e = last_space > s + CF_SENTENCE_MAX / 2 ? last_space : i;
            *pos = e;
            goto done;
        }
        if ((cp == '.' || cp == '!' || cp == '?') && !(cp == '.' && is_abbrev(body, s, i))) {
            size_t j = k;
            /* closers stay within the sentence cap */
            while (j < len && j - s < CF_SENTENCE_MAX) {
                size_t m = j;
                CF_STEP();
                uint32_t c = cf_token_decode(body, len, &m);
                if (!is_closer(c))
                    break;
                j = m;
            }
            size_t after = j;
            bool space = false;
            while (after < len) {
                size_t m = after;
                CF_STEP();
                uint32_t c = cf_token_decode(body, len, &m);
                if (c == 0 || !cf_token_is_space(c))
                    break;
                space = true;
                after = m;
            }
            if (after >= len) {
                e = j;
                *pos = len;
                goto done;
            }
            size_t m = after;
            uint32_t c = cf_token_decode(body, len, &m);
            if (space && (is_opener_or_upper(c) || c == 0)) {
                e = j;
                *pos = after;
                goto done;
            }
        }
        i = k;
    }
    e = len;
    *pos = len;
done:
    /* trim trailing whitespace */
    while (e > s) {
        size_t b = e - 1;
        while (b > s && ((unsigned char)body[b] & 0xc0) == 0x80)
            b--;
        size_t k = b;
        uint32_t cp = cf_token_decode(body, len, &k);
        if (!cf_token_is_space(cp) && cp != 0)
            break;
        e = b;
    }
    *start = s;
    *end = e > s ? e : s; /* s is not a space, so e > s: kept as a guard only */
    return true;
}
