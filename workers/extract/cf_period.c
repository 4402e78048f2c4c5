/* SPDX-License-Identifier: MIT
 * cf_period: period recognition (see cf_period.h). The words here are English
 * grammar (months, quarters, "end of"), not domain lexicon, so they live in code. */
#include "cf_period.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_fact.h"
#include "cf_text.h"

static const char *const months3[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                      "jul", "aug", "sep", "oct", "nov", "dec"};

static int
month_at(const cf_tokens_t *t, size_t i)
{
    if (i >= t->n || !(t->v[i].flags & CF_TOKEN_CAP))
        return 0;
    const char *w = cf_token_norm(t, i);
    size_t wl = t->v[i].len;
    /* by length, so that every compare has a constant size (no call); a month
     * is its name, its first three letters or "sept" */
    switch (wl) {
    case 3:
        for (int m = 0; m < 12; m++)
            if (memcmp(w, months3[m], 3) == 0)
                return m + 1;
        return 0;
    case 4:
        return memcmp(w, "june", 4) == 0   ? 6
               : memcmp(w, "july", 4) == 0 ? 7
               : memcmp(w, "sept", 4) == 0 ? 9
                                           : 0;
    case 5:
        return memcmp(w, "march", 5) == 0 ? 3 : memcmp(w, "april", 5) == 0 ? 4 : 0;
    case 6:
        return memcmp(w, "august", 6) == 0 ? 8 : 0;
    case 7:
        return memcmp(w, "january", 7) == 0 ? 1 : memcmp(w, "october", 7) == 0 ? 10 : 0;
    case 8:
        return memcmp(w, "february", 8) == 0   ? 2
               : memcmp(w, "november", 8) == 0 ? 11
               : memcmp(w, "december", 8) == 0 ? 12
                                               : 0;
    case 9:
        return memcmp(w, "september", 9) == 0 ? 9 : 0;
    default:
        return 0;
    }
}

/* atoi of token i, a number (CF_TOKEN_NUM) of at most 4 bytes: the value of its
 * leading digits, as atoi reads them, without the call (atoi itself for a token
 * that does not start with a digit, which the tokenizer makes none of). */
static int
num_value(const cf_tokens_t *t, size_t i)
{
    const char *w = cf_token_norm(t, i);
    if (!(w[0] >= '0' && w[0] <= '9'))
        return atoi(w);
    int v = 0;
    for (size_t k = 0; k < t->v[i].len && w[k] >= '0' && w[k] <= '9'; k++)
        v = v * 10 + (w[k] - '0');
    return v;
}

/* A year token: four digits 1900..2100. */
static int
year_at(const cf_tokens_t *t, size_t i)
{
    if (i >= t->n || !(t->v[i].flags & CF_TOKEN_NUM) || t->v[i].len != 4)
        return 0;
    int y = num_value(t, i);
    return y >= 1900 && y <= 2100 ? y : 0;
}

int
cf_period_year_at(const cf_tokens_t *t, size_t i)
{
    return year_at(t, i);
}

/* Days since 1970-01-01 of a civil date (H. Hinnant's days_from_civil). */
static long
days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

static int
weekday_at(const cf_tokens_t *t, size_t i)
{
    static const char *const days[] = {"monday", "tuesday",  "wednesday", "thursday",
                                       "friday", "saturday", "sunday"};
    if (i >= t->n || !(t->v[i].flags & CF_TOKEN_CAP))
        return 0;
    for (int k = 0; k < 7; k++)
        if (cf_token_is(t, i, days[k]))
            return k + 1;
    return 0;
}

static int
day_at(const cf_tokens_t *t, size_t i)
{
    if (i >= t->n || !(t->v[i].flags & CF_TOKEN_NUM) || t->v[i].len > 2)
        return 0;
    int d = num_value(t, i);
    return d >= 1 && d <= 31 ? d : 0;
}

static int
ordinal_at(const cf_tokens_t *t, size_t i)
{
    static const char *const words[][2] = {
        {"first", "1st"}, {"second", "2nd"}, {"third", "3rd"}, {"fourth", "4th"}};
    for (int k = 0; k < 4; k++)
        if (cf_token_is(t, i, words[k][0]) || cf_token_is(t, i, words[k][1]))
            return k + 1;
    return 0;
}

/* s[0:n) are digits; their value in *v. */
static bool
digits(const char *s, int n, int *v)
{
    *v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        *v = *v * 10 + (s[i] - '0');
    }
    return true;
}

/* cf_period_range(p) == CF_OK (the daemon's check), without formatting the range:
 * the same acceptance rules, step for step. */
static bool
valid(const char *p)
{
    int y, a, b;
    size_t n = strlen(p);
    if (n == 6 && p[0] == 'F' && p[1] == 'Y' && digits(p + 2, 4, &y))
        return true;
    if (n < 4 || !digits(p, 4, &y) || y < 1)
        return false;
    if (n == 4)
        return true;
    if (p[4] != '-')
        return false;
    if (n == 7 && (p[5] == 'Q' || p[5] == 'H') && digits(p + 6, 1, &a))
        return a >= 1 && a <= (p[5] == 'Q' ? 4 : 2);
    if ((n == 7 || n == 10) && digits(p + 5, 2, &a) && a >= 1 && a <= 12) {
        if (n == 7)
            return true;
        return p[7] == '-' && digits(p + 8, 2, &b) && b >= 1 && b <= cf_text_days_in_month(y, a);
    }
    return false;
}

cf_period_date_t
cf_period_published(const char *published)
{
    cf_period_date_t d = {0, 0, 0};
    if (!published || strlen(published) < 10)
        return d;
    int y, m, day;
    char tail;
    if (sscanf(published, "%4d-%2d-%2d%c", &y, &m, &day, &tail) >= 3 && y >= 1900 &&
        y <= 2100 && m >= 1 && m <= 12 && day >= 1 && day <= 31) {
        d.y = y;
        d.m = m;
        d.d = day;
    }
    return d;
}

/* Skips "of" / "the" / "," at i. */
static size_t
skip(const cf_tokens_t *t, size_t i, const char *w)
{
    return cf_token_is(t, i, w) ? i + 1 : i;
}

/* The period texts are formatted with these few conversions of snprintf (%04d,
 * %02d, %d, %c and literal bytes), written out by hand: snprintf was the cost of a
 * parsed period. buf must hold the whole text (PERIOD_BUF); set() keeps what
 * snprintf into 16 bytes kept. */
#define PERIOD_BUF 64

static char *
put_int(char *p, int v, int width)
{
    unsigned u = v < 0 ? 0u - (unsigned)v : (unsigned)v;
    char tmp[16];
    int n = 0;
    if (v < 0) {
        *p++ = '-';
        width--; /* the sign counts toward the width */
    }
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    while (n < width)
        tmp[n++] = '0';
    while (n)
        *p++ = tmp[--n];
    return p;
}

static void __attribute__((format(printf, 2, 3)))
pfmt(char *buf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *p = buf;
    for (const char *f = fmt; *f; f++) {
        if (*f != '%') {
            *p++ = *f;
            continue;
        }
        f++;
        if (*f == 'c') {
            *p++ = (char)va_arg(ap, int);
        } else if (*f == 'd') {
            p = put_int(p, va_arg(ap, int), 1);
        } else { /* %0Nd */
            int width = f[1] - '0';
            f += 2;
            p = put_int(p, va_arg(ap, int), width);
        }
    }
    *p = '\0';
    va_end(ap);
}

static bool
set(cf_period_t *out, size_t a, size_t b, const char *text)
{
    size_t n = strnlen(text, sizeof out->text - 1);
    memcpy(out->text, text, n);
    out->text[n] = '\0';
    if (out->text[0] && !valid(out->text))
        return false;
    out->a = a;
    out->b = b;
    return true;
}

static bool
relative(const cf_tokens_t *t, size_t i, cf_period_date_t pub, cf_period_t *out)
{
    char buf[PERIOD_BUF] = "";
    size_t b = i;
    bool known = pub.y != 0;
    out->relative = true;
    bool year_only = known && pub.m == 0;
    if (cf_token_is(t, i, "today") || cf_token_is(t, i, "now") || cf_token_is(t, i, "currently")) {
        b = i + 1;
        if (year_only)
            pfmt(buf, "%04d", pub.y);
        else if (known)
            pfmt(buf, "%04d-%02d-%02d", pub.y, pub.m, pub.d);
        return set(out, i, b, buf);
    }
    /* "on Wednesday": the latest such day up to the publication */
    int wd;
    if (cf_token_is(t, i, "on") && (wd = weekday_at(t, i + 1))) {
        if (year_only) {
            pfmt(buf, "%04d", pub.y);
        } else if (known) {
            long z = days_from_civil(pub.y, pub.m, pub.d);
            int pub_wd = (int)(((z + 3) % 7 + 7) % 7) + 1; /* 1970-01-01 was a Thursday */
            int y2, m2, d2;
            civil_from_days(z - (pub_wd - wd + 7) % 7, &y2, &m2, &d2);
            pfmt(buf, "%04d-%02d-%02d", y2, m2, d2);
        }
        return set(out, i, i + 2, buf);
    }
    /* "(by) the end of the year", "end of this year" */
    if (cf_token_is(t, i, "end") && cf_token_is(t, i + 1, "of") &&
        (cf_token_is(t, i + 2, "the") || cf_token_is(t, i + 2, "this")) &&
        cf_token_is(t, i + 3, "year")) {
        if (known)
            pfmt(buf, "%04d-12-31", pub.y);
        return set(out, i, i + 4, buf);
    }
    /* "in March": the latest March up to the publication */
    int mon0;
    if (i > 0 && cf_token_is(t, i - 1, "in") && (mon0 = month_at(t, i)) &&
        !year_at(t, i + 1) && !day_at(t, i + 1)) {
        if (known)
            pfmt(buf, "%04d-%02d", !year_only && mon0 > pub.m ? pub.y - 1 : pub.y, mon0);
        return set(out, i, i + 1, buf);
    }
    bool this = cf_token_is(t, i, "this"), last = cf_token_is(t, i, "last"),
         next = cf_token_is(t, i, "next");
    if (!this && !last && !next)
        return false;
    int y = pub.y, m = pub.m;
    if (cf_token_is(t, i + 1, "year")) {
        if (known)
            pfmt(buf, "%04d", y + (last ? -1 : next ? 1 : 0));
        return set(out, i, i + 2, buf);
    }
    if (cf_token_is(t, i + 1, "month") || cf_token_is(t, i + 1, "week")) {
        if (cf_token_is(t, i + 1, "month") && (last || next)) {
            m += last ? -1 : 1;
            if (m == 0) {
                m = 12;
                y--;
            } else if (m == 13) {
                m = 1;
                y++;
            }
        }
        if (year_only)
            pfmt(buf, "%04d", pub.y);
        else if (known)
            pfmt(buf, "%04d-%02d", y, m);
        return set(out, i, i + 2, buf);
    }
    int mon = month_at(t, i + 1);
    if (mon && (last || this)) {
        /* "last September": the latest such month before the publication (with only
         * the year known: the previous year's) */
        if (known)
            pfmt(buf, "%04d-%02d", this || (!year_only && mon < pub.m) ? y : y - 1, mon);
        return set(out, i, i + 2, buf);
    }
    return false;
}

/* Every first word of the parses below (keep in step with may_start): quarters,
 * ordinals, "fiscal", "year", "end", "quarter", months (as month_at reads them) and
 * the relative words. A capitalized month and "q1".."q4" are all may_start lets
 * through that can parse; the other two-letter "q" words and "1st".."4th" (numbers
 * of three digits, rejected by may_start) never do. */
const char *const cf_period_start_words[] = {
    "q1", "q2", "q3", "q4", "first", "second", "third", "fourth", "fiscal", "year", "end",
    "three", "six",
    "quarter", "today", "now", "currently", "on", "this", "last", "next",
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    "june", "july", "sept", "march", "april", "august", "january", "october", "february",
    "november", "december", "september", NULL};

/* Is w[0:n) the literal lit? */
#define WORD_IS(w, n, lit) ((n) == sizeof(lit) - 1 && memcmp((w), (lit), sizeof(lit) - 1) == 0)

/* Can a period start at token i? A cheap superset of the first-token tests of
 * cf_period_parse and relative() below (keep the two in step): most tokens are
 * none of these words, and the full parse tries about thirty. */
static inline __attribute__((always_inline)) bool
may_start(const cf_tokens_t *t, size_t i)
{
    const cf_token_t *k = &t->v[i];
    const char *w = t->text + k->norm;
    size_t n = k->len;
    if (k->flags & CF_TOKEN_NUM)
        return n == 4; /* a year */
    if (n < 2)
        return false;
    unsigned c = (unsigned)(unsigned char)w[0] - 'a';
    if (c >= 26) /* no month or word below: 1st .. 4th (ordinal_at) */
        return w[0] >= '0' && w[0] <= '9';
    if (w[0] == 'f' && w[1] == 'y') /* FY2014, FY 2014 */
        return true;
    /* by length and first letter, the words below and (capitalized) the months: one
     * predictable test rejects most words (a switch on the letter mispredicts its
     * jump on every other one) */
#define L(c) (1u << ((c) - 'a'))
    static const uint32_t first_by_len[10] = {
        [2] = L('q') | L('o'),                  /* Q3, on */
        [3] = L('e') | L('n') | L('s'),         /* end, now, six */
        [4] = L('y') | L('t') | L('n') | L('l'), /* year, this, next, last */
        [5] = L('f') | L('t'),                  /* first, third, today */
        [6] = L('f') | L('s'),                  /* fourth, fiscal, second */
        [7] = L('q'),                           /* quarter */
        [9] = L('c'),                           /* currently */
    };
    static const uint32_t month_by_len[10] = {
        [3] = L('j') | L('f') | L('m') | L('a') | L('s') | L('o') | L('n') | L('d'),
        [4] = L('j') | L('s'),         /* june, july, sept */
        [5] = L('m') | L('a'),         /* march, april */
        [6] = L('a'),                  /* august */
        [7] = L('j') | L('o'),         /* january, october */
        [8] = L('f') | L('n') | L('d'), /* february, november, december */
        [9] = L('s'),                  /* september */
    };
#undef L
    if (n > 9)
        return false;
    bool cap = k->flags & CF_TOKEN_CAP;
    if (!((first_by_len[n] | (cap ? month_by_len[n] : 0)) >> c & 1))
        return false;
    if (cap && month_at(t, i))
        return true;
    return (n == 2 && w[0] == 'q') || WORD_IS(w, n, "quarter") || WORD_IS(w, n, "first") ||
           WORD_IS(w, n, "fourth") || WORD_IS(w, n, "fiscal") || WORD_IS(w, n, "second") ||
           WORD_IS(w, n, "third") || WORD_IS(w, n, "today") || WORD_IS(w, n, "this") ||
           WORD_IS(w, n, "year") || WORD_IS(w, n, "end") || WORD_IS(w, n, "now") ||
           WORD_IS(w, n, "next") || WORD_IS(w, n, "currently") || WORD_IS(w, n, "on") ||
           WORD_IS(w, n, "last") || WORD_IS(w, n, "three") || WORD_IS(w, n, "six");
}

void
cf_period_may_start_all(const cf_tokens_t *t, bool *out)
{
    for (size_t i = 0; i < t->n; i++)
        out[i] = may_start(t, i);
}

bool
cf_period_parse(const cf_tokens_t *t, size_t i, cf_period_date_t pub, cf_period_t *out)
{
    char buf[PERIOD_BUF];
    int y, q, m, d;
    memset(out, 0, sizeof *out);
    if (i >= t->n || !may_start(t, i))
        return false;
    const char *w = cf_token_norm(t, i);
    /* Q3 2015, Q3 of 2015 */
    if (t->v[i].len == 2 && w[0] == 'q' && w[1] >= '1' && w[1] <= '4') {
        size_t j = skip(t, skip(t, i + 1, "of"), "fiscal");
        if ((y = year_at(t, j))) {
            pfmt(buf, "%04d-Q%c", y, w[1]);
            return set(out, i, j + 1, buf);
        }
    }
    /* FY2014, FY 2014 */
    if (t->v[i].len >= 2 && w[0] == 'f' && w[1] == 'y') {
        if (t->v[i].len == 6 && (y = atoi(w + 2)) >= 1900 && y <= 2100) {
            pfmt(buf, "FY%04d", y);
            return set(out, i, i + 1, buf);
        }
        if (t->v[i].len == 2 && (y = year_at(t, i + 1))) {
            pfmt(buf, "FY%04d", y);
            return set(out, i, i + 2, buf);
        }
        /* FY27: two digits name a year of this century */
        if (t->v[i].len == 4 && w[2] >= '0' && w[2] <= '9' && w[3] >= '0' && w[3] <= '9') {
            pfmt(buf, "FY%04d", 2000 + (w[2] - '0') * 10 + (w[3] - '0'));
            return set(out, i, i + 1, buf);
        }
    }
    /* the third quarter of 2014, first half of 2014 */
    if ((q = ordinal_at(t, i))) {
        size_t j = skip(t, i + 1, "-");
        bool quarter = cf_token_is(t, j, "quarter"), half = cf_token_is(t, j, "half");
        if ((quarter || (half && q <= 2))) {
            size_t k = skip(t, skip(t, skip(t, j + 1, "of"), "fiscal"), "year");
            if ((y = year_at(t, k))) {
                pfmt(buf, "%04d-%c%d", y, quarter ? 'Q' : 'H', q);
                return set(out, i, k + 1, buf);
            }
        }
    }
    /* fiscal 2014, fiscal year 2014 */
    if (cf_token_is(t, i, "fiscal")) {
        size_t j = skip(t, i + 1, "year");
        if ((y = year_at(t, j))) {
            pfmt(buf, "FY%04d", y);
            return set(out, i, j + 1, buf);
        }
    }
    /* (fiscal) year ending / ended (on) March 31, 2014 */
    if (cf_token_is(t, i, "year") &&
        (cf_token_is(t, i + 1, "ending") || cf_token_is(t, i + 1, "ended"))) {
        size_t j = skip(t, i + 2, "on");
        if ((m = month_at(t, j))) {
            size_t k = j + 1;
            if (day_at(t, k))
                k++;
            k = skip(t, k, ",");
            if ((y = year_at(t, k))) {
                pfmt(buf, "FY%04d", y);
                return set(out, i, k + 1, buf);
            }
        }
    }
    /* end of 2013; end of September 2020 */
    if (cf_token_is(t, i, "end") && cf_token_is(t, i + 1, "of") && (y = year_at(t, i + 2))) {
        pfmt(buf, "%04d-12-31", y);
        return set(out, i, i + 3, buf);
    }
    if (cf_token_is(t, i, "end") && cf_token_is(t, i + 1, "of") && (m = month_at(t, i + 2)) &&
        (y = year_at(t, i + 3))) {
        pfmt(buf, "%04d-%02d-%02d", y, m, cf_text_days_in_month(y, m));
        return set(out, i, i + 4, buf);
    }
    /* the quarter ended (on) September 30, 2019 */
    if (cf_token_is(t, i, "quarter") &&
        (cf_token_is(t, i + 1, "ending") || cf_token_is(t, i + 1, "ended"))) {
        size_t j = skip(t, i + 2, "on");
        if ((m = month_at(t, j))) {
            size_t k = j + 1;
            if (day_at(t, k))
                k++;
            k = skip(t, k, ",");
            if ((y = year_at(t, k))) {
                pfmt(buf, "%04d-Q%c", y, (char)('0' + (m + 2) / 3));
                return set(out, i, k + 1, buf);
            }
        }
    }
    /* the three months to (ended, ending, through) June 30, 2025: 2025-Q2; the six
     * months to June 30: 2025-H1 (a span that is no calendar quarter or half: the date) */
    bool three = cf_token_is(t, i, "three"), six = !three && cf_token_is(t, i, "six");
    if ((three || six) && cf_token_is(t, i + 1, "months") &&
        (cf_token_is(t, i + 2, "to") || cf_token_is(t, i + 2, "ended") ||
         cf_token_is(t, i + 2, "ending") || cf_token_is(t, i + 2, "through"))) {
        size_t j = skip(t, i + 3, "on");
        if ((m = month_at(t, j)) && (three ? m % 3 == 0 : m % 6 == 0)) {
            size_t k = j + 1;
            if ((d = day_at(t, k)))
                k++;
            k = skip(t, k, ",");
            /* to the month's last day (or no day): "to June 15" is the date */
            if ((y = year_at(t, k)) && (!d || d == cf_text_days_in_month(y, m))) {
                pfmt(buf, "%04d-%c%d", y, three ? 'Q' : 'H', three ? m / 3 : m / 6);
                return set(out, i, k + 1, buf);
            }
        }
    }
    /* the July-to-September quarter of 2024, the April-June quarter of 2025 */
    if ((m = month_at(t, i)) && cf_token_is(t, i + 1, "-")) {
        size_t j = i + 2;
        if (cf_token_is(t, j, "to"))
            j = skip(t, j + 1, "-");
        int m2 = month_at(t, j);
        if (m2 == m + 2 && m2 % 3 == 0 && cf_token_is(t, j + 1, "quarter")) {
            size_t k = skip(t, j + 2, "of");
            if ((y = year_at(t, k))) {
                pfmt(buf, "%04d-Q%d", y, m2 / 3);
                return set(out, i, k + 1, buf);
            }
        }
    }
    /* March 31, 2014; March 2015 */
    if ((m = month_at(t, i))) {
        size_t j = skip(t, i + 1, "of");
        if ((d = day_at(t, i + 1))) {
            size_t k = skip(t, i + 2, ",");
            if ((y = year_at(t, k))) {
                pfmt(buf, "%04d-%02d-%02d", y, m, d);
                return set(out, i, k + 1, buf);
            }
        } else if ((y = year_at(t, j))) {
            pfmt(buf, "%04d-%02d", y, m);
            return set(out, i, j + 1, buf);
        }
    }
    if ((y = year_at(t, i))) {
        /* "2013-14" or "2,013" are not plain years; a year followed by an amount
         * sign is part of something else */
        pfmt(buf, "%04d", y);
        return set(out, i, i + 1, buf);
    }
    return relative(t, i, pub, out);
}
