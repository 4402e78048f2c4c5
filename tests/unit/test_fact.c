/* SPDX-License-Identifier: MIT
 * Unit tests for cf_fact and cf_text: validation a daemon relies on. */
#include <string.h>

#include "cf_fact.h"
#include "cf_limits.h"
#include "cf_test.h"
#include "cf_text.h"

static void
test_utf8(void)
{
    CF_CHECK(cf_utf8_valid("plain", 5));
    CF_CHECK(cf_utf8_valid("caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80", 14));
    CF_CHECK(!cf_utf8_valid("\xc3", 1));              /* truncated */
    CF_CHECK(!cf_utf8_valid("\xc0\xaf", 2));          /* overlong */
    CF_CHECK(!cf_utf8_valid("\xed\xa0\x80", 3));      /* surrogate */
    CF_CHECK(!cf_utf8_valid("\xf4\x90\x80\x80", 4));  /* past U+10FFFF */
    CF_CHECK(!cf_utf8_valid("\xff", 1));
    /* one non-ASCII byte at every offset of strings of every short length: the ASCII
     * scan's 64-, 16- and 1-byte steps each meet one */
    char buf[48];
    for (size_t n = 1; n <= 40; n++) {
        for (size_t at = 0; at < n; at++) {
            memset(buf, 'a', n);
            buf[at] = (char)0x80; /* a continuation byte alone */
            CF_CHECK(!cf_utf8_valid(buf, n));
            if (at + 1 < n) {
                memcpy(buf + at, "\xc3\xa9", 2);
                CF_CHECK(cf_utf8_valid(buf, n));
            }
        }
        memset(buf, 'a', n);
        CF_CHECK(cf_utf8_valid(buf, n));
        buf[n] = (char)0xff; /* a byte past the length is not read as part of it */
        CF_CHECK(cf_utf8_valid(buf, n));
    }
}

/* cf_utf8_scrub leaves well-formed text alone and turns every byte of a broken
 * sequence into '?': a character cut at a byte limit, a stray byte, an overlong. */
static void
test_utf8_scrub(void)
{
    char a[] = "caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80";
    CF_CHECK_INT(cf_utf8_scrub(a, strlen(a)), 0);
    CF_CHECK_STR(a, "caf\xc3\xa9 \xe2\x80\x99 \xf0\x9f\x98\x80");
    char b[] = "ab\xe2\x80"; /* U+2019 cut after two of its three bytes */
    CF_CHECK_INT(cf_utf8_scrub(b, strlen(b)), 2);
    CF_CHECK_STR(b, "ab??");
    char c[] = "\xff-\xc0\xaf_\x80x\xc3\xa9";
    CF_CHECK_INT(cf_utf8_scrub(c, strlen(c)), 4);
    CF_CHECK_STR(c, "?-??_?x\xc3\xa9");
    /* a reason cut at CF_ERR_TEXT_MAX inside a character is still valid UTF-8 */
    char word[3 * CF_ERR_TEXT_MAX + 1];
    for (size_t i = 0; i < CF_ERR_TEXT_MAX; i++)
        memcpy(word + 3 * i, "\xe2\x82\xac", 3); /* U+20AC */
    word[3 * CF_ERR_TEXT_MAX] = '\0';
    for (size_t lead = 0; lead < 3; lead++) {
        cf_err_t err;
        cf_err_set(&err, CF_EINVAL, "%.*sfield 'x': %s", (int)lead, "ab", word);
        CF_CHECK_INT(strlen(err.text), CF_ERR_TEXT_MAX - 1);
        CF_CHECK(cf_utf8_valid(err.text, strlen(err.text)));
    }
}

static void
test_slug(void)
{
    char out[64];
    CF_CHECK_INT(cf_text_slug("Digital Realty Trust", out, sizeof out), 20);
    CF_CHECK_STR(out, "digital-realty-trust");
    cf_text_slug("  Hewlett-Packard Co. ", out, sizeof out);
    CF_CHECK_STR(out, "hewlett-packard-co");
    cf_text_slug("Macy's", out, sizeof out);
    CF_CHECK_STR(out, "macys");
    CF_CHECK_INT(cf_text_slug("!!!", out, sizeof out), 0);
    /* cut short to fit, it is still an id: never a trailing dash, whatever the size */
    for (size_t sz = 1; sz <= 12; sz++) {
        char small[12];
        size_t n = cf_text_slug("Ab Cd-Ef  Gh", small, sz);
        CF_CHECK(n < sz && strlen(small) == n);
        CF_CHECK(n == 0 || cf_entity_id_is_valid(small));
        CF_CHECK(strncmp("ab-cd-ef-gh", small, n) == 0);
    }
    CF_CHECK(cf_entity_id_is_valid("alibaba-cloud"));
    CF_CHECK(!cf_entity_id_is_valid("-aws"));
    CF_CHECK(!cf_entity_id_is_valid("aws-"));
    CF_CHECK(!cf_entity_id_is_valid("a--b"));
    CF_CHECK(!cf_entity_id_is_valid("AWS"));
    CF_CHECK(cf_entity_id_is_valid("a"));
    CF_CHECK(cf_entity_id_is_valid("9"));
    CF_CHECK(cf_entity_id_is_valid("a-b-0-z9"));
    CF_CHECK(!cf_entity_id_is_valid(""));
    CF_CHECK(!cf_entity_id_is_valid("-"));
    CF_CHECK(!cf_entity_id_is_valid(NULL));
    CF_CHECK(!cf_entity_id_is_valid("a_b"));
    CF_CHECK(!cf_entity_id_is_valid("a b"));
    CF_CHECK(!cf_entity_id_is_valid("caf\xc3\xa9"));
    CF_CHECK(!cf_entity_id_is_valid("a/b"));
    CF_CHECK(!cf_entity_id_is_valid("a:b")); /* the bytes beside each range */
    CF_CHECK(!cf_entity_id_is_valid("a`b"));
    CF_CHECK(!cf_entity_id_is_valid("a{b"));
}

static void
test_datetime_and_url(void)
{
    CF_CHECK(cf_text_is_datetime("2015-07-04"));
    CF_CHECK(cf_text_is_datetime("2015-07-04T10:20:30Z"));
    CF_CHECK(cf_text_is_datetime("2015-07-04T10:20:30.125+08:00"));
    CF_CHECK(cf_text_is_datetime("2015-07-04T10:20:30"));
    CF_CHECK(!cf_text_is_datetime("2015-13-04"));
    CF_CHECK(!cf_text_is_datetime("July 4, 2015"));
    CF_CHECK(!cf_text_is_datetime("2015-07-04T25:00:00Z"));
    /* a day its month has; an offset a clock can show */
    CF_CHECK(!cf_text_is_datetime("2015-02-29"));
    CF_CHECK(cf_text_is_datetime("2016-02-29"));
    CF_CHECK(!cf_text_is_datetime("1900-02-29"));
    CF_CHECK(cf_text_is_datetime("2000-02-29"));
    CF_CHECK(!cf_text_is_datetime("2015-04-31"));
    CF_CHECK(cf_text_is_datetime("2015-12-31T23:59:60-23:59"));
    CF_CHECK(!cf_text_is_datetime("2015-07-04T10:20:30+99:99"));
    CF_CHECK(!cf_text_is_datetime("2015-07-04T10:20:30+24:00"));
    CF_CHECK(!cf_text_is_datetime("2015-07-04T10:20:30+05:60"));
    CF_CHECK(cf_text_is_url("https://example.com/a?b=c"));
    CF_CHECK(cf_text_is_url("file:///tmp/a.txt"));
    CF_CHECK(!cf_text_is_url("example.com/a"));
    CF_CHECK(!cf_text_is_url("http://exa mple.com"));
    CF_CHECK(!cf_text_is_url("http://example.com/\n"));
}

static void
test_period_range(void)
{
    char a[11], b[11];
    CF_CHECK_INT(cf_period_range("2014", a, b), CF_OK);
    CF_CHECK_STR(a, "2014-01-01");
    CF_CHECK_STR(b, "2014-12-31");
    CF_CHECK_INT(cf_period_range("2014-Q3", a, b), CF_OK);
    CF_CHECK_STR(a, "2014-07-01");
    CF_CHECK_STR(b, "2014-09-30");
    CF_CHECK_INT(cf_period_range("2016-02", a, b), CF_OK);
    CF_CHECK_STR(b, "2016-02-29");
    CF_CHECK_INT(cf_period_range("FY2014", a, b), CF_OK);
    CF_CHECK_STR(a, "2013-04-01");
    CF_CHECK_STR(b, "2014-03-31");
    CF_CHECK_INT(cf_period_range("2013-12-31", a, b), CF_OK);
    CF_CHECK_STR(a, "2013-12-31");
    CF_CHECK_INT(cf_period_range("2014-Q5", a, b), CF_EINVAL);
    /* a fiscal year starts in the year before: year 0 is no year here */
    CF_CHECK_INT(cf_period_range("FY0000", a, b), CF_EINVAL);
    CF_CHECK_INT(cf_period_range("FY0001", a, b), CF_EINVAL);
    CF_CHECK_INT(cf_period_range("FY0002", a, b), CF_OK);
    CF_CHECK_STR(a, "0001-04-01");
    CF_CHECK_INT(cf_period_range("2015-02-30", a, b), CF_EINVAL);
    CF_CHECK_INT(cf_period_range("last year", a, b), CF_EINVAL);
}

static void
test_validate(void)
{
    const char *body = "AWS holds 28 percent of the market.";
    cf_fact_t f = {0};
    cf_err_t err;
    f.type = cf_strdup("market_share");
    f.subject = cf_strdup("aws");
    f.status = cf_strdup("reported");
    f.has_value = true;
    f.value = 28;
    f.confidence = 0.9;
    f.evidence = cf_strdup("AWS holds 28 percent");
    f.evidence_start = 0;
    f.evidence_end = 20;
    CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), &err), CF_OK);
    f.evidence_start = 1;
    f.evidence_end = 21;
    CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), &err), CF_EINVAL);
    CF_CHECK(strstr(err.text, "evidence") != NULL);
    f.evidence_start = 0;
    f.evidence_end = 20;
    free(f.status);
    f.status = cf_strdup("certain");
    CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), &err), CF_EINVAL);
    CF_CHECK(strstr(err.text, "status") != NULL);
    free(f.status);
    f.status = cf_strdup("reported");
    f.value = NAN;
    CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), &err), CF_EINVAL);
    cf_fact_clear(&f);
}

/* A fact whose strings are in one block (cf_fact_adopt_strings: how the extractor
 * makes every fact) is checked as one, with the same answers as field by field: a
 * bad sequence in any field, a field past the limit, a block past it whose fields are
 * not, a field set around the block. */
static void
test_validate_block(void)
{
    const char *body = "Cloudy Co opened a data center in Lisbon.";
    cf_err_t err;
    char big[6000], huge[CF_MAX_FACT_TEXT + 2];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    memset(huge, 'y', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    const struct {
        const char *place, *detail;
        int rc;
        const char *field; /* named in the error */
    } cases[] = {
        {"Lisbon", NULL, CF_OK, NULL},
        {"Lisb\xc3", NULL, CF_EINVAL, "place"}, /* a sequence cut before the NUL */
        {"Lisbon", "caf\xc3\xa9 \xff", CF_EINVAL, "detail"},
        {"S\xc3\xa3o Paulo", "caf\xc3\xa9", CF_OK, NULL},
        {big, big, CF_OK, NULL},               /* each within the limit, the block past it */
        {"Lisbon", huge, CF_EINVAL, "detail"}, /* one field past the limit */
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        cf_fact_t f = {.type = "datacenter",
                       .subject = "cloudy-co",
                       .status = "announced",
                       .place = (char *)cases[k].place,
                       .detail = (char *)cases[k].detail,
                       .confidence = 0.8,
                       .evidence_start = 0,
                       .evidence_end = 40};
        cf_fact_adopt_strings(&f, body, 40);
        memset(&err, 0, sizeof err);
        CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), &err), cases[k].rc);
        if (cases[k].field)
            CF_CHECK(strstr(err.text, cases[k].field) != NULL);
        cf_fact_clear(&f);
    }
    /* a field pointed outside the block (not through cf_fact_set_str) is still read */
    cf_fact_t f = {.type = "datacenter",
                   .subject = "cloudy-co",
                   .status = "announced",
                   .place = "Lisbon",
                   .confidence = 0.8,
                   .evidence_end = 40};
    cf_fact_adopt_strings(&f, body, 40);
    char *inside = f.place;
    f.place = "Lisb\xc3";
    CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), &err), CF_EINVAL);
    CF_CHECK(strstr(err.text, "place") != NULL);
    f.place = inside;
    CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), &err), CF_OK);
    cf_fact_clear(&f);
}

/* cf_fact_validate_decoded answers as cf_fact_validate for facts whose text fields
 * are within the limit and valid UTF-8 (what the decoders guarantee), over faults of
 * every other kind. */
static void
test_validate_decoded(void)
{
    const char *body = "AWS holds 28 percent of the market, up from 2014-Q3.";
    static const struct {
        int field;
        const char *val;
    } cases[] = {
        {-1, NULL},           {0, "market_share"},   {0, "revenue"},      {0, "bogus"},
        {0, NULL},            {1, "aws"},            {1, "AWS"},          {1, "-aws"},
        {1, NULL},            {2, "microsoft"},      {2, "Micro soft"},   {3, "reported"},
        {3, "planned"},       {3, "sure"},           {3, NULL},           {4, "about"},
        {4, "roughly"},       {5, "synergy-research"}, {5, "x--y"},       {6, "2014-Q3"},
        {6, "2014-Q5"},       {6, "FY2015"},         {7, "AWS holds 28 percent"},
        {7, "AWS holds 28 percenT"}, {7, NULL},      {7, "holds"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        for (int num = 0; num < 6; num++) {
            cf_fact_t f = {.type = "market_share", .subject = "aws", .status = "reported",
                           .has_value = true, .value = 28, .confidence = 0.9,
                           .evidence = "AWS holds 28 percent", .evidence_start = 0,
                           .evidence_end = 20};
            char **fields[] = {&f.type, &f.subject, &f.object, &f.status,
                               &f.qualifier, &f.source, &f.period, &f.evidence};
            if (cases[i].field >= 0)
                *fields[cases[i].field] = (char *)cases[i].val;
            switch (num) {
            case 1: f.value = NAN; break;
            case 2: f.confidence = 1.5; break;
            case 3: f.evidence_start = 4, f.evidence_end = 24; break;
            case 4: f.evidence_start = 40, f.evidence_end = 60; break;
            case 5: f.has_value = false, f.value = INFINITY; break;
            default: break;
            }
            for (int withbody = 0; withbody < 2; withbody++) {
                cf_err_t e1 = {0}, e2 = {0};
                const char *b = withbody ? body : NULL;
                int r1 = cf_fact_validate(&f, b, b ? strlen(b) : 0, &e1);
                int r2 = cf_fact_validate_decoded(&f, b, b ? strlen(b) : 0, &e2);
                CF_CHECK_INT(r2, r1);
                CF_CHECK_STR(e2.text, e1.text);
            }
        }
}

/* A fact whose strings are one block: built from borrowed fields (the evidence a
 * slice of a body with no terminator), changed with cf_fact_set_str, copied and
 * cleared; ASan reports any field freed on its own or left behind. */
static void
test_string_block(void)
{
    const char *body = "Cloudy Co said sales rose 12 percent in 2025.";
    char subject[] = "cloudy-co";
    cf_fact_t f = {.type = "revenue_growth", .subject = subject, .status = "announced",
                   .has_value = true, .value = 12, .unit = "percent", .evidence_start = 10,
                   .evidence_end = 36};
    cf_fact_adopt_strings(&f, body + 10, 26);
    CF_CHECK(f.strings != NULL);
    subject[0] = 'X'; /* the fact holds copies, not the borrowed fields */
    CF_CHECK_STR(f.subject, "cloudy-co");
    CF_CHECK_STR(f.evidence, "said sales rose 12 percent");
    CF_CHECK(f.object == NULL && f.place == NULL);
    CF_CHECK_INT(cf_fact_validate(&f, body, strlen(body), NULL), CF_OK);

    cf_fact_set_str(&f, &f.status, "speculative"); /* longer than the old value */
    cf_fact_set_str(&f, &f.place, "Lisbon");
    cf_fact_set_str(&f, &f.unit, NULL);
    cf_fact_set_str(&f, &f.detail, f.subject); /* from the block it replaces */
    CF_CHECK_STR(f.status, "speculative");
    CF_CHECK_STR(f.place, "Lisbon");
    CF_CHECK(f.unit == NULL);
    CF_CHECK_STR(f.detail, "cloudy-co");
    CF_CHECK_STR(f.type, "revenue_growth");
    CF_CHECK_STR(f.evidence, "said sales rose 12 percent");

    /* adopting again (fields in the block) makes a fresh block and frees the old */
    cf_fact_adopt_strings(&f, NULL, 0);
    CF_CHECK_STR(f.place, "Lisbon");
    cf_fact_copy(&f, &f); /* a copy onto itself changes nothing */
    CF_CHECK_STR(f.evidence, "said sales rose 12 percent");

    cf_fact_t g;
    cf_fact_copy(&g, &f);
    cf_fact_clear(&f);
    CF_CHECK(f.type == NULL && f.strings == NULL);
    CF_CHECK_STR(g.status, "speculative");
    CF_CHECK_STR(g.evidence, "said sales rose 12 percent");
    CF_CHECK_INT(cf_fact_validate(&g, body, strlen(body), NULL), CF_OK);
    cf_fact_clear(&g);

    /* a fact that owns its fields one by one keeps doing so */
    cf_fact_t h = {.status = cf_strdup("planned")};
    cf_fact_set_str(&h, &h.status, "rumored");
    CF_CHECK_STR(h.status, "rumored");
    CF_CHECK(h.strings == NULL);
    cf_fact_clear(&h);
}

CF_TEST_LIST(CF_TEST(test_utf8), CF_TEST(test_utf8_scrub), CF_TEST(test_slug),
             CF_TEST(test_datetime_and_url), CF_TEST(test_period_range), CF_TEST(test_validate),
             CF_TEST(test_validate_block), CF_TEST(test_validate_decoded),
             CF_TEST(test_string_block))
