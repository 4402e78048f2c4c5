/* SPDX-License-Identifier: MIT
 * cf_text: UTF-8 validation, entity slugs, date and URL checks, allocation helpers. */
#include "cf_text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

static void
oom(size_t n)
{
    fprintf(stderr, "cloudfact: out of memory (%zu bytes)\n", n);
    abort();
}

void *
cf_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *
cf_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *
cf_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *
cf_strndup(const char *s, size_t len)
{
    char *d = cf_malloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *
cf_strdup(const char *s)
{
    return s ? cf_strndup(s, strlen(s)) : NULL;
}

/* The index of the first byte of s[i, len) with its high bit set, or len: most of
 * a body is ASCII, skipped 64 or 16 bytes per step with SSE2, else 8. */
static size_t
ascii_run(const unsigned char *s, size_t i, size_t len)
{
#if defined(__SSE2__)
    for (; len - i >= 64; i += 64) {
        const __m128i *p = (const __m128i *)(const void *)(s + i);
        __m128i v = _mm_or_si128(_mm_or_si128(_mm_loadu_si128(p), _mm_loadu_si128(p + 1)),
                                 _mm_or_si128(_mm_loadu_si128(p + 2), _mm_loadu_si128(p + 3)));
        if (_mm_movemask_epi8(v))
            break;
    }
    for (; len - i >= 16; i += 16) {
        unsigned m = (unsigned)_mm_movemask_epi8(
            _mm_loadu_si128((const __m128i *)(const void *)(s + i)));
        if (m)
            return i + (size_t)__builtin_ctz(m);
    }
#else
    for (; len - i >= 8; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & 0x8080808080808080ull)
            break;
    }
#endif
    while (i < len && s[i] < 0x80)
        i++;
    return i;
}

/* The length of the well-formed sequence of 2 to 4 bytes that starts at s[i] (i < len,
 * s[i] >= 0x80), or 0 when none does: no overlongs, no surrogates, nothing past
 * U+10FFFF, no sequence cut by len. */
static inline size_t
utf8_multi(const unsigned char *s, size_t i, size_t len)
{
    unsigned c = s[i];
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 1;
        cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        n = 2;
        cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 3;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (len - i <= n)
        return 0;
    for (size_t k = 1; k <= n; k++) {
        if ((s[i + k] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i + k] & 0x3f);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n + 1;
}

bool
cf_utf8_valid(const char *str, size_t len)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        i = ascii_run(s, i, len);
        if (i >= len)
            break;
        size_t n = utf8_multi(s, i, len);
        if (!n)
            return false;
        i += n;
    }
    return true;
}

size_t
cf_utf8_scrub(char *str, size_t len)
{
    unsigned char *s = (unsigned char *)str;
    size_t i = 0, replaced = 0;
    while (i < len) {
        i = ascii_run(s, i, len);
        if (i >= len)
            break;
        size_t n = utf8_multi(s, i, len);
        if (n) {
            i += n;
        } else {
            s[i++] = '?';
            replaced++;
        }
    }
    return replaced;
}

size_t
cf_text_slug(const char *name, char *out, size_t outsz)
{
    size_t n = 0;
    bool dash = false;
    if (outsz == 0)
        return 0;
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
        if (isalnum(*p) && *p < 0x80) {
            /* out of room: end at the last character that fits, never on a dash */
            if (n + 1 + (dash && n > 0) >= outsz)
                break;
            if (dash && n > 0)
                out[n++] = '-';
            dash = false;
            out[n++] = (char)tolower(*p);
        } else if (*p == '\'' || (p[0] == 0xe2 && p[1] == 0x80 && p[2] == 0x99)) {
            /* apostrophes join: "McDonald's" -> mcdonalds */
            if (*p != '\'')
                p += 2;
        } else {
            dash = true;
        }
    }
    out[n] = '\0';
    return n;
}

static bool
digits(const char *s, int n)
{
    for (int i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

int
cf_text_days_in_month(int y, int mon)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mon == 2 && leap ? 29 : days[mon - 1];
}

bool
cf_text_is_datetime(const char *s)
{
    /* YYYY-MM-DD */
    if (strlen(s) < 10 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
        !digits(s + 8, 2))
        return false;
    int year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
    int mon = (s[5] - '0') * 10 + (s[6] - '0');
    int day = (s[8] - '0') * 10 + (s[9] - '0');
    if (mon < 1 || mon > 12 || day < 1 || day > cf_text_days_in_month(year, mon))
        return false;
    const char *p = s + 10;
    if (*p == '\0')
        return true;
    /* RFC 3339: T hh:mm:ss[.frac](Z|+hh:mm|-hh:mm); "no offset means UTC" (DESIGN.md) */
    if (*p != 'T' && *p != 't' && *p != ' ')
        return false;
    p++;
    if (!digits(p, 2) || p[2] != ':' || !digits(p + 3, 2))
        return false;
    if ((p[0] - '0') * 10 + (p[1] - '0') > 23 || (p[3] - '0') * 10 + (p[4] - '0') > 59)
        return false;
    p += 5;
    if (*p == ':') {
        if (!digits(p + 1, 2) || (p[1] - '0') * 10 + (p[2] - '0') > 60)
            return false;
        p += 3;
        if (*p == '.') {
            p++;
            if (!isdigit((unsigned char)*p))
                return false;
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    if (*p == '\0' || ((*p == 'Z' || *p == 'z') && p[1] == '\0'))
        return true;
    /* an offset of at most 23:59 */
    if ((*p == '+' || *p == '-') && digits(p + 1, 2) && p[3] == ':' && digits(p + 4, 2) &&
        p[6] == '\0')
        return (p[1] - '0') * 10 + (p[2] - '0') <= 23 && (p[4] - '0') * 10 + (p[5] - '0') <= 59;
    return false;
}

bool
cf_text_is_url(const char *url)
{
    const char *p = url;
    if (!isalpha((unsigned char)*p))
        return false;
    while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' || *p == '.')
        p++;
    if (*p != ':' || p[1] == '\0')
        return false;
    for (p = url; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return false;
    return true;
}
