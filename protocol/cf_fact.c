/* SPDX-License-Identifier: MIT
 * cf_fact: lifetime and validation of articles, facts and classifications. */
#include "cf_fact.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_limits.h"
#include "cf_text.h"

void
cf_article_clear(cf_article_t *a)
{
    if (!a)
        return;
    free(a->url);
    free(a->title);
    free(a->body);
    free(a->source);
    free(a->published);
    free(a->lang);
    memset(a, 0, sizeof *a);
}

void
cf_article_copy(cf_article_t *dst, const cf_article_t *src)
{
    dst->id = src->id;
    dst->url = cf_strdup(src->url);
    dst->title = cf_strdup(src->title);
    dst->body = src->body ? cf_strndup(src->body, src->body_len) : NULL;
    dst->body_len = src->body_len;
    dst->source = cf_strdup(src->source);
    dst->published = cf_strdup(src->published);
    dst->lang = cf_strdup(src->lang);
    dst->received_at = src->received_at;
}

/* The string fields of a fact, in one place for the functions that walk them all
 * (as an array initializer: its length is counted, never written down). */
#define FACT_STRS(f)                                                                        \
    {&(f)->article_name, &(f)->type, &(f)->subject, &(f)->object, &(f)->unit, &(f)->period, \
     &(f)->place, &(f)->detail, &(f)->qualifier, &(f)->status, &(f)->source, &(f)->evidence}
#define NSTRS(s) (sizeof(s) / sizeof *(s))

void
cf_fact_clear(cf_fact_t *f)
{
    if (!f)
        return;
    if (f->strings) {
        free(f->strings);
    } else {
        char **s[] = FACT_STRS(f);
        for (size_t i = 0; i < NSTRS(s); i++)
            free(*s[i]);
    }
    memset(f, 0, sizeof *f);
}

void
cf_fact_adopt_strings(cf_fact_t *f, const char *evidence, size_t evidence_len)
{
    /* fields may point into f's present block: it is freed once they are copied */
    void *old = f->strings;
    char **s[] = FACT_STRS(f);
    size_t len[NSTRS(s)], total = 0;
    for (size_t i = 0; i < NSTRS(s); i++) {
        len[i] = s[i] == &f->evidence && evidence ? evidence_len : *s[i] ? strlen(*s[i]) : 0;
        total += len[i] + 1;
    }
    if (evidence)
        f->evidence = (char *)evidence;
    char *block = cf_malloc(total), *p = block;
    for (size_t i = 0; i < NSTRS(s); i++) {
        if (!*s[i])
            continue;
        memcpy(p, *s[i], len[i]);
        p[len[i]] = '\0';
        *s[i] = p;
        p += len[i] + 1;
    }
    f->strings = block;
    free(old);
}

void
cf_fact_set_str(cf_fact_t *f, char **field, const char *s)
{
    if (!f->strings) {
        char *copy = cf_strdup(s);
        free(*field);
        *field = copy;
        return;
    }
    *field = (char *)s; /* s may lie in the block: adopting copies it before the free */
    cf_fact_adopt_strings(f, NULL, 0);
}

void
cf_fact_copy(cf_fact_t *dst, const cf_fact_t *src)
{
    if (dst == src)
        return;
    *dst = *src;
    dst->strings = NULL;
    cf_fact_adopt_strings(dst, NULL, 0);
}

cf_fact_t *
cf_facts_push(cf_facts_t *list)
{
    if (list->n == list->cap) {
        list->cap = list->cap ? list->cap * 2 : 16;
        list->v = cf_realloc(list->v, list->cap * sizeof *list->v);
    }
    cf_fact_t *f = &list->v[list->n++];
    memset(f, 0, sizeof *f);
    return f;
}

void
cf_facts_remove(cf_facts_t *list, size_t i)
{
    if (i >= list->n)
        return;
    cf_fact_clear(&list->v[i]);
    memmove(&list->v[i], &list->v[i + 1], (list->n - i - 1) * sizeof *list->v);
    list->n--;
}

void
cf_facts_clear(cf_facts_t *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->n; i++)
        cf_fact_clear(&list->v[i]);
    free(list->v);
    memset(list, 0, sizeof *list);
}

static void
free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

static char **
dup_strv(char *const *v, size_t n)
{
    if (n == 0)
        return NULL;
    char **d = cf_calloc(n, sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = cf_strdup(v[i]);
    return d;
}

void
cf_class_clear(cf_class_t *c)
{
    if (!c)
        return;
    free_strv(c->companies, c->ncompanies);
    free_strv(c->regions, c->nregions);
    memset(c, 0, sizeof *c);
}

void
cf_class_copy(cf_class_t *dst, const cf_class_t *src)
{
    dst->relevant = src->relevant;
    dst->relevance = src->relevance;
    dst->companies = dup_strv(src->companies, src->ncompanies);
    dst->ncompanies = src->ncompanies;
    dst->regions = dup_strv(src->regions, src->nregions);
    dst->nregions = src->nregions;
}

static const char *const fact_types[] = {
    "market_share", "revenue",     "revenue_growth", "gmv",      "investment",
    "stake",        "acquisition", "partnership",    "datacenter", "customers",
    "expansion",    "market_exit", "offering",       "target",   "ipo",
};

static const char *const statuses[] = {"reported", "announced", "planned", "rumored",
                                       "speculative"};

static const char *const qualifiers[] = {"about",     "nearly",   "more than",
                                         "less than", "at least", "up to"};

static bool
in_set(const char *s, const char *const *set, size_t n)
{
    if (!s)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[0] == set[i][0] && strcmp(s, set[i]) == 0) /* the first byte rules out most */
            return true;
    return false;
}

_Static_assert(sizeof fact_types / sizeof *fact_types == CF_FACT_TYPES, "CF_FACT_TYPES");

int
cf_fact_type_index(const char *name)
{
    for (int i = 0; name && i < CF_FACT_TYPES; i++)
        if (name[0] == fact_types[i][0] && strcmp(name, fact_types[i]) == 0)
            return i;
    return -1;
}

const char *
cf_fact_type_name(int i)
{
    return i >= 0 && i < CF_FACT_TYPES ? fact_types[i] : NULL;
}

bool
cf_fact_type_is_valid(const char *name)
{
    return cf_fact_type_index(name) >= 0;
}

bool
cf_fact_status_is_valid(const char *name)
{
    return in_set(name, statuses, sizeof statuses / sizeof *statuses);
}

bool
cf_entity_id_is_valid(const char *s)
{
    if (!s || !*s)
        return false;
    bool prev_dash = true; /* forbids a leading dash */
    for (const char *p = s; *p; p++) {
        if (*p == '-') {
            if (prev_dash)
                return false;
            prev_dash = true;
        } else if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9')) {
            prev_dash = false;
        } else {
            return false;
        }
    }
    return !prev_dash;
}

static int
check_text(const char *name, const char *s, cf_err_t *err)
{
    if (!s)
        return CF_OK;
    size_t n = strlen(s);
    if (n > CF_MAX_FACT_TEXT)
        return cf_err_set(err, CF_EINVAL, "fact field '%s': longer than %u bytes", name,
                          CF_MAX_FACT_TEXT);
    if (!cf_utf8_valid(s, n))
        return cf_err_set(err, CF_EINVAL, "fact field '%s': not valid UTF-8", name);
    return CF_OK;
}

static int validate_rest(const cf_fact_t *f, const char *body, size_t body_len, cf_err_t *err);

/* The text checks of cf_fact_validate at once, for a fact whose strings are all in
 * its block as cf_fact_adopt_strings lays them out (NUL-separated, the evidence
 * last): one UTF-8 scan of the block answers for every field (a sequence cannot
 * run across a NUL), and a block within CF_MAX_FACT_TEXT holds no longer field.
 * False when that does not apply or finds a fault: the field by field checks then
 * run (and name the field). The extractor checks every fact it makes this way. */
static bool
texts_ok_in_block(const cf_fact_t *f)
{
    if (!f->strings || !f->evidence)
        return false;
    /* addresses as integers: the fields may point anywhere, and C orders pointers
     * into one object only */
    uintptr_t b = (uintptr_t)f->strings, e = (uintptr_t)f->evidence;
    if (e < b)
        return false;
    uintptr_t n = e - b + strlen(f->evidence) + 1; /* the block up to the evidence's NUL */
    const char *const fields[] = {f->type,  f->subject, f->object,    f->unit,   f->period,
                                  f->place, f->detail,  f->qualifier, f->status, f->source};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
        if (fields[i] && (uintptr_t)fields[i] - b >= n)
            return false; /* a string outside the block (set without cf_fact_set_str) */
    return n <= CF_MAX_FACT_TEXT && cf_utf8_valid(f->strings, (size_t)n);
}

int
cf_fact_validate(const cf_fact_t *f, const char *body, size_t body_len, cf_err_t *err)
{
    if (texts_ok_in_block(f))
        return validate_rest(f, body, body_len, err);
    const struct {
        const char *name;
        const char *val;
    } texts[] = {
        {"type", f->type},     {"subject", f->subject}, {"object", f->object},
        {"unit", f->unit},     {"period", f->period},   {"place", f->place},
        {"detail", f->detail}, {"qualifier", f->qualifier}, {"status", f->status},
        {"source", f->source}, {"evidence", f->evidence},
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        int rc = check_text(texts[i].name, texts[i].val, err);
        if (rc != CF_OK)
            return rc;
    }
    return validate_rest(f, body, body_len, err);
}

int
cf_fact_validate_decoded(const cf_fact_t *f, const char *body, size_t body_len, cf_err_t *err)
{
    return validate_rest(f, body, body_len, err);
}

/* Everything cf_fact_validate checks after the text fields' length and UTF-8. */
static int
validate_rest(const cf_fact_t *f, const char *body, size_t body_len, cf_err_t *err)
{
    if (!cf_fact_type_is_valid(f->type))
        return cf_err_set(err, CF_EINVAL, "fact field 'type': unknown type '%.40s'",
                          f->type ? f->type : "(nil)");
    if (!cf_entity_id_is_valid(f->subject))
        return cf_err_set(err, CF_EINVAL, "fact field 'subject': not an entity id");
    if (f->object && !cf_entity_id_is_valid(f->object))
        return cf_err_set(err, CF_EINVAL, "fact field 'object': not an entity id");
    if (f->source && !cf_entity_id_is_valid(f->source))
        return cf_err_set(err, CF_EINVAL, "fact field 'source': not an entity id");
    if (!cf_fact_status_is_valid(f->status))
        return cf_err_set(err, CF_EINVAL, "fact field 'status': unknown status");
    if (f->qualifier && !in_set(f->qualifier, qualifiers, sizeof qualifiers / sizeof *qualifiers))
        return cf_err_set(err, CF_EINVAL, "fact field 'qualifier': unknown qualifier");
    if (f->has_value && !isfinite(f->value))
        return cf_err_set(err, CF_EINVAL, "fact field 'value': not a finite number");
    if (!isfinite(f->confidence) || f->confidence < 0 || f->confidence > 1)
        return cf_err_set(err, CF_EINVAL, "fact field 'confidence': not in [0, 1]");
    if (f->period) {
        char a[11], b[11];
        if (cf_period_range(f->period, a, b) != CF_OK)
            return cf_err_set(err, CF_EINVAL, "fact field 'period': bad period '%.20s'",
                              f->period);
    }
    if (!f->evidence)
        return cf_err_set(err, CF_EINVAL, "fact field 'evidence': missing");
    size_t elen = strlen(f->evidence);
    if (f->evidence_end < f->evidence_start || f->evidence_end - f->evidence_start != elen)
        return cf_err_set(err, CF_EINVAL, "fact field 'evidence_end': span does not match "
                                          "evidence length");
    if (body) {
        if (f->evidence_end > body_len)
            return cf_err_set(err, CF_EINVAL, "fact field 'evidence_end': past the body");
        if (memcmp(body + f->evidence_start, f->evidence, elen) != 0)
            return cf_err_set(err, CF_EINVAL, "fact field 'evidence': differs from the body at "
                                              "its offsets");
    }
    return CF_OK;
}

static bool
num(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Writes YYYY-MM-DD (y 0..9999, m and d 0..99): by hand, as every validated fact
 * with a period comes through here and snprintf was a visible share of extraction. */
static void
ymd(char *out, int y, int m, int d)
{
    unsigned uy = (unsigned)y % 10000u, um = (unsigned)m % 100u, ud = (unsigned)d % 100u;
    out[0] = (char)('0' + uy / 1000);
    out[1] = (char)('0' + uy / 100 % 10);
    out[2] = (char)('0' + uy / 10 % 10);
    out[3] = (char)('0' + uy % 10);
    out[4] = '-';
    out[5] = (char)('0' + um / 10);
    out[6] = (char)('0' + um % 10);
    out[7] = '-';
    out[8] = (char)('0' + ud / 10);
    out[9] = (char)('0' + ud % 10);
    out[10] = '\0';
}

int
cf_period_range(const char *p, char *start, char *end)
{
    int y, a, b;
    size_t n = p ? strlen(p) : 0;
    /* (FY0001 would start in year 0, which no other form names) */
    if (n == 6 && p[0] == 'F' && p[1] == 'Y' && num(p + 2, 4, &y) && y >= 2) {
        /* fiscal year ending in y: April 1 of y-1 to March 31 of y (SPEC.md) */
        ymd(start, y - 1, 4, 1);
        ymd(end, y, 3, 31);
        return CF_OK;
    }
    if (n < 4 || !num(p, 4, &y) || y < 1)
        return CF_EINVAL;
    if (n == 4) {
        ymd(start, y, 1, 1);
        ymd(end, y, 12, 31);
        return CF_OK;
    }
    if (p[4] != '-')
        return CF_EINVAL;
    if (n == 7 && (p[5] == 'Q' || p[5] == 'H') && num(p + 6, 1, &a)) {
        int months = p[5] == 'Q' ? 3 : 6;
        if (a < 1 || a > 12 / months)
            return CF_EINVAL;
        int m0 = (a - 1) * months + 1, m1 = a * months;
        ymd(start, y, m0, 1);
        ymd(end, y, m1, cf_text_days_in_month(y, m1));
        return CF_OK;
    }
    if ((n == 7 || n == 10) && num(p + 5, 2, &a) && a >= 1 && a <= 12) {
        if (n == 7) {
            ymd(start, y, a, 1);
            ymd(end, y, a, cf_text_days_in_month(y, a));
            return CF_OK;
        }
        if (p[7] == '-' && num(p + 8, 2, &b) && b >= 1 && b <= cf_text_days_in_month(y, a)) {
            ymd(start, y, a, b);
            memcpy(end, start, 11);
            return CF_OK;
        }
    }
    return CF_EINVAL;
}
