/* SPDX-License-Identifier: MIT
 * canned: five valid facts per article, evidence = body[0:n] (n <= 20, cut on a
 * UTF-8 character boundary), so the daemon's checks pass. */
#include "canned.h"

#include <string.h>

#include "cf_text.h"

static const struct {
    const char *type, *subject, *object, *unit, *period, *place, *detail, *status, *source;
    double value;
    int has_value;
} canned[CANNED_FACTS] = {
    {"market_share", "bench-cloud", NULL, "percent", "2016", NULL, "public cloud", "reported",
     "synergy-research", 28, 1},
    {"revenue", "bench-cloud", NULL, "USD", "2016-Q3", NULL, NULL, "reported", NULL, 1.5e9, 1},
    {"datacenter", "bench-cloud", NULL, "count", "2017", "Frankfurt", NULL, "announced", NULL,
     2, 1},
    {"customers", "bench-cloud", NULL, "count", "2016", "Germany", NULL, "reported", NULL, 1e6,
     1},
    {"partnership", "bench-cloud", "bench-partner", NULL, NULL, NULL, "storage", "announced",
     NULL, 0, 0},
};

static char *
dup_or_null(const char *s)
{
    return s ? cf_strdup(s) : NULL;
}

void
canned_facts(const char *body, size_t len, cf_facts_t *out)
{
    size_t n = len < 20 ? len : 20;
    while (n > 0 && n < len && ((unsigned char)body[n] & 0xC0) == 0x80)
        n--; /* do not cut a character in two */
    for (size_t i = 0; i < CANNED_FACTS; i++) {
        cf_fact_t *f = cf_facts_push(out);
        f->type = cf_strdup(canned[i].type);
        f->subject = cf_strdup(canned[i].subject);
        f->object = dup_or_null(canned[i].object);
        f->unit = dup_or_null(canned[i].unit);
        f->period = dup_or_null(canned[i].period);
        f->place = dup_or_null(canned[i].place);
        f->detail = dup_or_null(canned[i].detail);
        f->status = cf_strdup(canned[i].status);
        f->source = dup_or_null(canned[i].source);
        f->value = canned[i].value;
        f->has_value = canned[i].has_value != 0;
        f->confidence = 0.9;
        f->evidence = cf_strndup(body, n);
        f->evidence_start = 0;
        f->evidence_end = n;
    }
}
