/* SPDX-License-Identifier: MIT
 * cf_cue: loads cues.tsv (see cf_cue.h). */
#include "cf_cue.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const names[CF_CUE_COUNT_] = {
    [CF_CUE_SHARE] = "share",
    [CF_CUE_REVENUE] = "revenue",
    [CF_CUE_GMV] = "gmv",
    [CF_CUE_INVEST] = "invest",
    [CF_CUE_STAKE] = "stake",
    [CF_CUE_DATACENTER] = "datacenter",
    [CF_CUE_CUSTOMERS] = "customers",
    [CF_CUE_CUSTCOUNT] = "customer_count",
    [CF_CUE_PARTNER] = "partner",
    [CF_CUE_ACQUIRE] = "acquire",
    [CF_CUE_ENTER] = "enter",
    [CF_CUE_EXIT] = "exit",
    [CF_CUE_IPO] = "ipo",
    [CF_CUE_GROWTH] = "growth",
    [CF_CUE_TARGET] = "target",
    [CF_CUE_OFFER] = "offer",
    [CF_CUE_COMPARE] = "compare",
    [CF_CUE_STATUS] = "status",
    [CF_CUE_DOUBT] = "doubt",
    [CF_CUE_ATTRIB] = "attrib",
    [CF_CUE_QUALIFIER] = "qualifier",
    [CF_CUE_CURRENCY] = "currency",
    [CF_CUE_SCALE] = "scale",
    [CF_CUE_SCALEJ] = "scale_joined",
    [CF_CUE_NUMWORD] = "numword",
    [CF_CUE_ARTICLE] = "article",
    [CF_CUE_ORDINAL] = "ordinal",
    [CF_CUE_PERCENT] = "percent",
    [CF_CUE_REF] = "ref",
    [CF_CUE_UNITREF] = "unitref",
    [CF_CUE_SUFFIX] = "suffix",
    [CF_CUE_STOPCAP] = "stopcap",
    [CF_CUE_MARKET] = "market",
    [CF_CUE_CLOUD] = "cloud",
    [CF_CUE_COMPNOUN] = "compnoun",
    [CF_CUE_REVMIX] = "revmix",
    [CF_CUE_ORGNOUN] = "orgnoun",
    [CF_CUE_PERSON] = "person",
    [CF_CUE_DIVEST] = "divest",
    [CF_CUE_BACKED] = "backed_by",
    [CF_CUE_RAISE] = "raise",
    [CF_CUE_YEARFIX] = "yearfix",
    [CF_CUE_FRACTION] = "fraction",
    [CF_CUE_ANAPHOR] = "anaphor",
    [CF_CUE_SAY] = "say",
    [CF_CUE_RUMOR] = "rumor",
    [CF_CUE_NAMEHEAD] = "namehead",
    [CF_CUE_CROWD] = "crowd",
    [CF_CUE_NEGATED] = "negated",
    [CF_CUE_SRCNOUN] = "srcnoun",
    [CF_CUE_CLIENT] = "client",
    [CF_CUE_PICK] = "pick",
    [CF_CUE_KEYCLIENT] = "keyclient",
    [CF_CUE_PRODNOUN] = "prodnoun",
    [CF_CUE_DECLINE] = "decline",
    [CF_CUE_MULTIPLE] = "multiple",
};

static const char *const statuses[] = {"reported", "announced", "planned", "rumored",
                                       "speculative"};
static const char *const qualifiers[] = {"about", "nearly", "more than", "less than",
                                         "at least", "up to"};

const char *
cf_cue_name(int cat)
{
    return cat >= 0 && cat < CF_CUE_COUNT_ ? names[cat] : NULL;
}

static bool
in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return true;
    return false;
}

static int
row(void *ctx, char **f, const char *name, int line, cf_err_t *err)
{
    cf_lexicon_t *lex = ctx;
    int cat = -1;
    for (int c = 0; c < CF_CUE_COUNT_; c++)
        if (strcmp(f[0], names[c]) == 0)
            cat = c;
    if (cat < 0)
        return cf_err_set(err, CF_EINVAL, "%s:%d: unknown category '%.40s'", name, line, f[0]);
    const char *val = strcmp(f[1], "-") == 0 ? NULL : f[1];
    double num = 0;
    unsigned flags = 0;
    switch (cat) {
    case CF_CUE_SCALEJ:
        flags = CF_LEXICON_JOINED;
        /* fall through */
    case CF_CUE_SCALE:
    case CF_CUE_NUMWORD:
    case CF_CUE_ARTICLE:
    case CF_CUE_FRACTION:
    case CF_CUE_MULTIPLE:
    case CF_CUE_ORDINAL: {
        /* digits and a point only: strtod would also take "inf", "nan" and hex */
        num = val && val[strspn(val, "0123456789.")] == '\0' ? strtod(val, NULL) : 0;
        if (!(num > 0) || !isfinite(num))
            return cf_err_set(err, CF_EINVAL, "%s:%d: expected a positive number, got '%.40s'",
                              name, line, f[1]);
        break;
    }
    case CF_CUE_STATUS:
        if (!val || !in_list(val, statuses, sizeof statuses / sizeof *statuses))
            return cf_err_set(err, CF_EINVAL, "%s:%d: unknown status '%.40s'", name, line, f[1]);
        break;
    case CF_CUE_QUALIFIER:
        if (!val || !in_list(val, qualifiers, sizeof qualifiers / sizeof *qualifiers))
            return cf_err_set(err, CF_EINVAL, "%s:%d: unknown qualifier '%.40s'", name, line,
                              f[1]);
        break;
    case CF_CUE_CURRENCY:
        if (!val || strlen(val) != 3 || val[0] < 'A' || val[0] > 'Z' || val[1] < 'A' ||
            val[1] > 'Z' || val[2] < 'A' || val[2] > 'Z')
            return cf_err_set(err, CF_EINVAL, "%s:%d: expected an ISO 4217 code, got '%.40s'",
                              name, line, f[1]);
        break;
    case CF_CUE_MARKET:
        if (!val)
            return cf_err_set(err, CF_EINVAL, "%s:%d: a market needs a normalized name", name,
                              line);
        if (strlen(val) > CF_CUE_VALUE_MAX)
            return cf_err_set(err, CF_EINVAL, "%s:%d: a market name longer than %d bytes", name,
                              line, CF_CUE_VALUE_MAX);
        break;
    default:
        break;
    }
    char *p = f[2];
    for (;;) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        if (!cf_lexicon_add(lex, p, cat, val, num, flags))
            return cf_err_set(err, CF_EINVAL, "%s:%d: bad phrase '%.40s'", name, line, p);
        if (!bar)
            break;
        p = bar + 1;
    }
    return CF_OK;
}

cf_lexicon_t *
cf_cue_load(const char *dir, cf_err_t *err)
{
    cf_lexicon_t *lex = cf_lexicon_new(CF_LEXICON_SLOT_CUES);
    if (cf_lexicon_read_tsv(dir, "cues.tsv", 3, row, lex, err) != CF_OK)
        cf_lexicon_destroy(&lex);
    return lex;
}
