/* SPDX-License-Identifier: MIT
 * cf_sentence: sentence boundaries by byte offsets (see cf_sentence.h). */
#include "cf_sentence.h"

#include <string.h>
#include <strings.h>

#include "cf_steps.h"
#include "cf_token.h"

/* Words after which a dot does not end a sentence. */
static const char *const abbrevs[] = {"mr", "mrs", "ms", "dr", "prof", "inc", "corp", "co",
                                      "ltd", "jr", "sr", "st", "vs", "no", "gen", "gov",
                                      "sen", "rep", "jan", "feb", "mar", "apr", "aug", "sept",
                                      "sep", "oct", "nov", "dec", "approx", "est", "fig"};
#define NABBREV (sizeof abbrevs / sizeof *abbrevs)

/* The ASCII bytes the sentence loop must look at: NUL, whitespace, . ! ? */
static const bool plain_stop[128] = {[0] = true,    ['\t'] = true, ['\n'] = true, ['\v'] = true,
                                     ['\f'] = true, ['\r'] = true, [' '] = true,  ['.'] = true,
                                     ['!'] = true,  ['?'] = true};

static bool
is_abbrev(const char *body, size_t from, size_t dot)
{
    size_t w = dot;
    while (w > from && w - 1 >= from &&
           ((body[w - 1] >= 'a' && body[w - 1] <= 'z') ||
            (body[w - 1] >= 'A' && body[w - 1] <= 'Z')) && dot - w < 8)
        w--;
    size_t n = dot - w;
    if (n == 0)
        return false;
    /* a single letter: an initial or "U.S." */
    if (n == 1)
        return true;
    /* their lengths, once: strlen per word and dot was the cost of this loop */
    static const unsigned char alen[NABBREV] = {2, 3, 2, 2, 4, 3, 4, 2, 3, 2, 2, 2, 2, 2, 3, 3,
                                                3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 3, 3, 6, 3, 3};
    _Static_assert(NABBREV == 31, "alen lists every abbreviation");
    for (size_t i = 0; i < NABBREV; i++)
        if (alen[i] == n && strncasecmp(body + w, abbrevs[i], n) == 0)
            return true;
    return false;
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
        /* fast path: ASCII bytes that end nothing inside the cap; a space is only
         * remembered (as below) */
        size_t lim = s + CF_SENTENCE_MAX < len ? s + CF_SENTENCE_MAX : len, i0 = i;
        while (i < lim) {
            unsigned char b = (unsigned char)body[i];
            if (b >= 0x80 || (plain_stop[b] && b != ' '))
                break;
            if (b == ' ')
                last_space = i;
            i++;
        }
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
