/* SPDX-License-Identifier: MIT
 * Unit tests for libcfextract: sentence -> facts tables (written for these tests,
 * general English constructions), data-file errors, hostile bodies, and the
 * corpora (shared and our own): every fact validates, output is deterministic,
 * and the facts are written as JSON Lines for tools/score-facts. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cf_classify.h"
#include "cf_extract.h"
#include "cf_fact.h"
#include "cf_limits.h"
#include "cf_sentence.h"
#include "cf_steps.h"
#include "cf_test.h"
#include "cf_text.h"
#include "cf_token.h"

#ifndef CF_SOURCE_DATA_DIR
#define CF_SOURCE_DATA_DIR "workers/data"
#endif

static cf_extractor_t *
extractor(void)
{
    static cf_extractor_t *x;
    if (!x) {
        cf_err_t err = {0};
        x = cf_extract_new(cf_extract_data_dir(NULL), &err);
        if (!x) {
            fprintf(stderr, "cf_extract_new: %s\n", err.text);
            exit(1);
        }
    }
    return x;
}

static char *slurp(const char *path, size_t *len);

/* Runs the extractor on body (with published, may be NULL); checks every fact. */
static int
extract(const char *body, size_t len, const char *published, cf_facts_t *facts, cf_class_t *cls)
{
    cf_article_t a = {0};
    a.id = 7;
    a.title = "";
    a.body = (char *)body;
    a.body_len = len;
    a.published = (char *)published;
    cf_err_t err = {0};
    int rc = cf_extract_article(extractor(), &a, facts, cls, &err);
    if (rc != CF_OK)
        return rc;
    uint64_t last = 0;
    for (size_t i = 0; i < facts->n; i++) {
        cf_err_t e2 = {0};
        int vrc = cf_fact_validate(&facts->v[i], body, len, &e2);
        if (vrc != CF_OK)
            fprintf(stderr, "invalid fact %zu: %s\n", i, e2.text);
        CF_CHECK_INT(vrc, CF_OK);
        CF_CHECK(facts->v[i].evidence_start >= last);
        CF_CHECK(facts->v[i].article == 7);
        CF_CHECK(facts->v[i].seq == 0);
        last = facts->v[i].evidence_start;
    }
    CF_CHECK(facts->n <= CF_MAX_FACTS);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* expected-fact tables */

typedef struct want {
    const char *type;
    const char *subject;
    const char *object;  /* NULL: not checked */
    double value;        /* < 0: not checked */
    const char *unit;    /* NULL: not checked */
    const char *period;  /* NULL: not checked; "-" expects nil */
    const char *place;   /* NULL: not checked */
    const char *status;  /* NULL: not checked */
    const char *source;  /* NULL: not checked; "-" expects nil */
    const char *qualifier; /* NULL: not checked; "-" expects nil */
    const char *detail;    /* NULL: not checked; "-" expects nil */
} want_t;

typedef struct row {
    const char *text;
    const char *published;
    want_t want[4];
} row_t;

static bool
str_ok(const char *want, const char *got)
{
    if (!want)
        return true;
    if (strcmp(want, "-") == 0)
        return got == NULL;
    return got && strcmp(want, got) == 0;
}

/* A wanted value of NOV matches any value (or none); every other value, below zero
 * too, must be the fact's. */
#define NOV -1.0

static bool
fact_matches(const want_t *w, const cf_fact_t *f)
{
    if (strcmp(w->type, f->type) != 0 || strcmp(w->subject, f->subject) != 0)
        return false;
    if (w->object && !str_ok(w->object, f->object))
        return false;
    if (w->value != NOV &&
        (!f->has_value || fabs(f->value - w->value) > 1e-6 * (fabs(w->value) + 1)))
        return false;
    return str_ok(w->unit, f->unit) && str_ok(w->period, f->period) && str_ok(w->place, f->place) &&
           str_ok(w->status, f->status) && str_ok(w->source, f->source) &&
           str_ok(w->qualifier, f->qualifier) && str_ok(w->detail, f->detail);
}

static void
dump(const cf_facts_t *facts)
{
    for (size_t i = 0; i < facts->n; i++) {
        const cf_fact_t *f = &facts->v[i];
        fprintf(stderr, "    got %s %s obj=%s val=%g %s per=%s place=%s det=%s q=%s st=%s src=%s "
                        "[%s]\n",
                f->type, f->subject, f->object ? f->object : "-", f->has_value ? f->value : -1,
                f->unit ? f->unit : "-", f->period ? f->period : "-", f->place ? f->place : "-",
                f->detail ? f->detail : "-", f->qualifier ? f->qualifier : "-", f->status,
                f->source ? f->source : "-", f->evidence);
    }
}

static void
check_rows(const row_t *rows, size_t n)
{
    for (size_t r = 0; r < n; r++) {
        cf_facts_t facts = {0};
        cf_class_t cls = {0};
        CF_CHECK_INT(extract(rows[r].text, strlen(rows[r].text), rows[r].published, &facts, &cls),
                     CF_OK);
        for (size_t k = 0; k < 4 && rows[r].want[k].type; k++) {
            bool found = false;
            for (size_t i = 0; i < facts.n && !found; i++)
                found = fact_matches(&rows[r].want[k], &facts.v[i]);
            if (!found) {
                fprintf(stderr, "  missing %s/%s in: %s\n", rows[r].want[k].type,
                        rows[r].want[k].subject, rows[r].text);
                dump(&facts);
            }
            CF_CHECK(found);
        }
        cf_facts_clear(&facts);
        cf_class_clear(&cls);
    }
}

/* Sentences that must give no fact of the given type and subject (NULL: any), with
 * that value (NOV: any). */
static void
check_not(const char *text, const char *type, const char *subject, double value)
{
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    CF_CHECK_INT(extract(text, strlen(text), NULL, &facts, &cls), CF_OK);
    for (size_t i = 0; i < facts.n; i++) {
        const cf_fact_t *f = &facts.v[i];
        if (strcmp(f->type, type) == 0 && (!subject || strcmp(f->subject, subject) == 0) &&
            (value == NOV || (f->has_value && f->value == value))) {
            fprintf(stderr, "  unexpected %s of %s in: %s\n", type, subject ? subject : "anyone",
                    text);
            dump(&facts);
            CF_CHECK(0);
        }
    }
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
}

/* A text that gives a fact of the given type whose evidence quotes `quoted`. */
static void
check_evidence(const char *text, const char *type, const char *quoted)
{
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    CF_CHECK_INT(extract(text, strlen(text), NULL, &facts, &cls), CF_OK);
    bool found = false;
    for (size_t i = 0; i < facts.n && !found; i++)
        found = strcmp(facts.v[i].type, type) == 0 && strstr(facts.v[i].evidence, quoted);
    if (!found) {
        fprintf(stderr, "  no %s quoting \"%s\" in: %s\n", type, quoted, text);
        dump(&facts);
    }
    CF_CHECK(found);
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
}

/* Sentences that must give no fact of the given type. */
static void
check_none(const char *text, const char *type)
{
    check_not(text, type, NULL, NOV);
}

/* Sentences that must give exactly n facts of the given type. */
static void
check_count(const char *text, const char *type, size_t n)
{
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    CF_CHECK_INT(extract(text, strlen(text), NULL, &facts, &cls), CF_OK);
    size_t got = 0;
    for (size_t i = 0; i < facts.n; i++)
        got += strcmp(facts.v[i].type, type) == 0;
    if (got != n) {
        fprintf(stderr, "  %zu %s facts, not %zu, in: %s\n", got, type, n, text);
        dump(&facts);
    }
    CF_CHECK_INT(got, n);
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
}

static void
test_numbers(void)
{
    static const row_t rows[] = {
        {"Tencent took in $3.2B from online services in 2016.",
         NULL,
         {{"revenue", "tencent", NULL, 3.2e9, "USD", "2016", NULL, "reported", "-", "-"}}},
        {"Oracle earned US$2 billion from cloud licenses last year.",
         "2019-05-02",
         {{"revenue", "oracle", NULL, 2e9, "USD", "2018", NULL, NULL, NULL, NULL}}},
        {"Kingsoft Cloud posted revenue of about $410 million in the third quarter of 2021.",
         NULL,
         {{"revenue", "kingsoft-cloud", NULL, 410e6, "USD", "2021-Q3", NULL, NULL, NULL, "about"}}},
        {"Baidu said its cloud revenue reached nearly 4.7 billion yuan in Q2 2022.",
         NULL,
         {{"revenue", "baidu-cloud", NULL, 4.7e9, "CNY", "2022-Q2", NULL, NULL, NULL, "nearly"}}},
        {"SAP generated revenue of EUR 1.2 billion from its cloud unit in fiscal 2020.",
         NULL,
         {{"revenue", "sap", NULL, 1.2e9, "EUR", "FY2020", NULL, NULL, NULL, NULL}}},
        {"Rackspace counts more than 300,000 customers at the end of 2017.",
         NULL,
         {{"customers", "rackspace", NULL, 300000, "count", "2017-12-31", NULL, NULL, NULL,
           "more than"}}},
        {"DigitalOcean now serves 1.2 million paying customers.",
         NULL,
         {{"customers", "digitalocean", NULL, 1.2e6, "count", NULL, NULL, NULL, NULL, NULL}}},
        {"Equinix runs twelve data centers in Japan.",
         NULL,
         {{"datacenter", "equinix", NULL, 12, "count", NULL, "Japan", NULL, NULL, NULL}}},
        {"Google holds 9% of the cloud infrastructure market, according to Canalys.",
         NULL,
         {{"market_share", "google", NULL, 9, "percent", NULL, NULL, NULL, "canalys", NULL}}},
        {"Microsoft's share was 21 percent while IBM came in at 4 percent.",
         NULL,
         {{"market_share", "microsoft", NULL, 21, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "ibm", NULL, 4, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Azure revenue rose 48 percent, and Azure brought in $5 billion in the year ending on "
         "June 30, 2020.",
         NULL,
         {{"revenue_growth", "azure", NULL, 48, "percent", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "azure", NULL, 5e9, "USD", "FY2020", NULL, NULL, NULL, NULL}}},
        {"Shoppers bought $12 billion worth of merchandise on JD.com during the festival.",
         NULL,
         {{"gmv", "jd", NULL, 12e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle will open sixteen new data centers across Europe in 2023.",
         NULL,
         {{"datacenter", "oracle", NULL, 16, "count", "2023", "Europe", "planned", NULL, NULL}}},
        /* a unit's id is its name as written (GUIDELINES "Entities"), an abbreviation
         * its expansion's */
        {"Baidu AI Cloud earned 7.4 billion yuan in the quarter, while OCI revenue grew 61% "
         "to $5.3bn.",
         NULL,
         {{"revenue", "baidu-ai-cloud", NULL, 7.4e9, "CNY", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "oracle-cloud-infrastructure", NULL, 5.3e9, "USD", NULL, NULL, NULL, NULL,
           NULL}}},
        {"Najd Telecom reported revenue of SR 5.9 billion, and Kivu Cloud Ltd took in KSh 3.1 "
         "billion and \xe2\x82\xa6"
         "18.2 billion.",
         NULL,
         {{"revenue", "najd-telecom", NULL, 5.9e9, "SAR", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "kivu-cloud", NULL, 3.1e9, "KES", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "kivu-cloud", NULL, 18.2e9, "NGN", NULL, NULL, NULL, NULL, NULL}}},
        /* a range is its lower end, at least; the unit and scale of its upper end */
        {"Equinix expects sales to grow by 7 to 8 per cent in 2024.",
         NULL,
         {{"revenue_growth", "equinix", NULL, 7, "percent", "2024", NULL, NULL, NULL, "at least"}}},
        {"Equinix expects revenue to grow between 12 and 14 percent.",
         NULL,
         {{"revenue_growth", "equinix", NULL, 12, "percent", NULL, NULL, NULL, NULL, "at least"}}},
        {"Oracle plans to spend $5 to $6 billion on new regions.",
         NULL,
         {{"investment", "oracle", NULL, 5e9, "USD", NULL, NULL, NULL, NULL, "at least"}}},
        {"Oracle plans to spend $5 to 6 billion on new regions.",
         NULL,
         {{"investment", "oracle", NULL, 5e9, "USD", NULL, NULL, NULL, NULL, "at least"}}},
        {"Oracle plans to spend 2 - 3 billion euros on new regions.",
         NULL,
         {{"investment", "oracle", NULL, 2e9, "EUR", NULL, NULL, NULL, NULL, "at least"}}},
        {"Oracle plans to spend $4bn to $5bn on new regions.",
         NULL,
         {{"investment", "oracle", NULL, 4e9, "USD", NULL, NULL, NULL, NULL, "at least"}}},
        /* a change is no range: the new level is the figure */
        {"Oracle said its market share rose from 20 to 24 per cent.",
         NULL,
         {{"market_share", "oracle", NULL, 24, "percent", NULL, NULL, NULL, NULL, "-"}}},
        {"Oracle's market share rose 5 to 21 percent.",
         NULL,
         {{"market_share", "oracle", NULL, 21, "percent", NULL, NULL, NULL, NULL, "-"}}},
        {"AWS revenue rose $2.5 billion to $10.8 billion in the quarter.",
         NULL,
         {{"revenue", "aws", NULL, 10.8e9, "USD", NULL, NULL, NULL, NULL, "-"},
          {"revenue", "aws", NULL, 2.5e9, "USD", NULL, NULL, NULL, NULL, "-"}}},
        {"AWS revenue rose $4 billion to $7 billion in the quarter.",
         NULL,
         {{"revenue", "aws", NULL, 7e9, "USD", NULL, NULL, NULL, NULL, "-"}}},
        {"Oracle's cloud revenue increased by $1.2 billion to $4.5 billion in fiscal 2023.",
         NULL,
         {{"revenue", "oracle-cloud", NULL, 4.5e9, "USD", NULL, NULL, NULL, NULL, "-"}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_not("Oracle said its market share rose from 20 to 24 per cent.", "market_share", "oracle",
              20);
    /* "fell 2 to 31 per cent": far apart, a change */
    check_not("Oracle's market share fell 2 to 31 per cent.", "market_share", "oracle", 2);
}

/* Market shares in the shapes rankings take: lists, possessives, spending. */
static void
test_shares(void)
{
    static const row_t rows[] = {
        /* a ranking in a sentence about a market needs no "share" */
        {"Amazon leads the market, followed by Microsoft at 21% and Google at 8%.",
         NULL,
         {{"market_share", "microsoft", NULL, 21, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "google", NULL, 8, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"The market leader is AWS, at 32 percent. It is followed by Microsoft (23%) and "
         "Google (10%).",
         NULL,
         {{"market_share", "aws", NULL, 32, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "microsoft", NULL, 23, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "google", NULL, 10, "percent", NULL, NULL, NULL, NULL, NULL}}},
        /* lists pair in order */
        {"AWS, Azure and Google Cloud hold 34%, 21% and 10% of the market respectively.",
         NULL,
         {{"market_share", "aws", NULL, 34, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "azure", NULL, 21, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "google-cloud", NULL, 10, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Amazon and Microsoft each hold about 30% of the market.",
         NULL,
         {{"market_share", "amazon", NULL, 30, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "microsoft", NULL, 30, "percent", NULL, NULL, NULL, NULL, NULL}}},
        /* the possessive at the figure names its company */
        {"Oracle's share is about 2 percent, compared with IBM's 3 percent.",
         NULL,
         {{"market_share", "oracle", NULL, 2, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "ibm", NULL, 3, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"With 7.5% of the market, Rackspace remains the largest managed hosting firm.",
         NULL,
         {{"market_share", "rackspace", NULL, 7.5, "percent", NULL, NULL, NULL, NULL, NULL}}},
        /* a part of a market's spending, a slice of it */
        {"Alibaba Cloud accounts for roughly 36 percent of China's public cloud spending.",
         NULL,
         {{"market_share", "alibaba-cloud", NULL, 36, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle now commands a 3% slice of the IaaS market.",
         NULL,
         {{"market_share", "oracle", NULL, 3, "percent", NULL, NULL, NULL, NULL, NULL, "IaaS"}}},
        {"Oracle has captured a 4% portion of the IaaS market.",
         NULL,
         {{"market_share", "oracle", NULL, 4, "percent", NULL, NULL, NULL, NULL, NULL, "IaaS"}}},
        {"Unlike AWS, Microsoft and Google gained market share, reaching 23% and 11%.",
         NULL,
         {{"market_share", "microsoft", NULL, 23, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "google", NULL, 11, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"With 9 percent, Rackspace trails in hosting market share.",
         NULL,
         {{"market_share", "rackspace", NULL, 9, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Microsoft's market share rose 2 percentage points to 23%.",
         NULL,
         {{"market_share", "microsoft", NULL, 23, "percent", NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_not("AWS, Azure and Google Cloud hold 34%, 21% and 10% of the market respectively.",
              "market_share", "aws", 21);
    check_not("AWS, Azure and Google Cloud hold 34%, 21% and 10% of the market respectively.",
              "market_share", "google-cloud", 34);
    check_not("Microsoft's market share rose 2 percentage points to 23%.", "market_share",
              "microsoft", 2);
    check_not("Oracle's share is about 2 percent, compared with IBM's 3 percent.", "market_share",
              "oracle", 3);
    /* a sum is no one's share, nor is its earlier level */
    check_none("Amazon, Microsoft and Google control 66% of the market.", "market_share");
    check_none("Oracle led the quarter. Between them the three accounted for 60 per cent of all "
               "spending, up from 55 per cent.",
               "market_share");
    /* the review's: a market named in passing makes no ranking of it; a figure that
     * measures a change; the opening "With" of anything but the share; one buyer's
     * spending; fewer percents than companies */
    check_none("In the storage market, Dell cut prices by 15%, followed by NetApp at 10%.",
               "market_share");
    check_none("As the market cooled, Snowflake, at 12 percent below its peak, led the decliners.",
               "market_share");
    check_none("In cloud revenue growth Oracle leads the market, followed by Google at 28%.",
               "market_share");
    check_none("Oracle grew fastest and leads the market, followed by Google at 28%.",
               "market_share");
    check_none("With 20% of its staff cut, Rackspace lost market share.", "market_share");
    check_none("With a 40% price cut, Oracle hopes to win market share from AWS.", "market_share");
    check_none("Oracle said AI now accounts for 25% of total spending by its customers.",
               "market_share");
    check_none("Microsoft expects 30% of the bank's cloud spending to go to Azure by 2027.",
               "market_share");
    check_none("Snowflake's 40 percent discount won it market share.", "market_share");
    check_none("AWS cut prices 20 percent below rivals to win market share.", "market_share");
    check_not("With AWS at 32% of the market, Oracle trails far behind.", "market_share", "oracle",
              NOV);
    check_not("Unlike AWS, Microsoft and Google gained market share, reaching 23% and 11%.",
              "market_share", "aws", NOV);
    /* a budget's part; a stock market */
    check_none("Oracle devotes 20 percent of its spending to research.", "market_share");
    check_none("Oracle shares fell on the stock market, with IBM at 3 percent.", "market_share");
}

/* Stakes named without "stake in X": investors in a funding round, a stake the
 * sentence does not place, its size between "stake of" and "in", "X-backed". */
static void
test_stakes(void)
{
    static const row_t rows[] = {
        /* a round's backers, lead and participants, invest in the company that raised
         * it: the subject of the clause, not the backer named before */
        {"Nimbus Compute Ltd. said it had raised $85 million in a funding round led by Harbor "
         "Ventures, with participation from Umoya Capital.",
         NULL,
         {{"stake", "harbor-ventures", "nimbus-compute", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"stake", "umoya-capital", "nimbus-compute", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* money raised from companies: each holds a stake in the raiser */
        {"Vultr raised $333 million from LuminArx Capital and AMD.",
         NULL,
         {{"stake", "luminarx-capital", "vultr", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"stake", "amd", "vultr", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Hetzner grew. Vultr secured $50 million in a new Series C round from SoftBank.",
         NULL,
         {{"stake", "softbank", "vultr", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* money put into another company: a stake in it, not an investment */
        {"SoftBank invested $50 million in Vultr last year.",
         NULL,
         {{"stake", "softbank", "vultr", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"SoftBank made an investment of $50 million into Vultr.",
         NULL,
         {{"stake", "softbank", "vultr", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* ... but into its own unit or a place, an investment */
        {"Google will invest $2 billion in Google Cloud.",
         NULL,
         {{"investment", "google", NULL, 2e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr will invest $2 billion in its cloud unit.",
         NULL,
         {{"investment", "vultr", NULL, 2e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        {"Stratus Digital Ltd. raised $40 million from investors led by Lagos's Okapi Capital.",
         NULL,
         {{"stake", "okapi-capital", "stratus-digital", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* "X-backed": in the company the phrase describes, not the word after it */
        {"Stratus Digital Ltd., the Nvidia-backed GPU cloud operator, raised $40 million.",
         NULL,
         {{"stake", "nvidia", "stratus-digital", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"investment", "stratus-digital", NULL, 4e7, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Salesforce sells cloud software. The Nvidia-backed OVHcloud grew fast.",
         NULL,
         {{"stake", "nvidia", "ovhcloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a stake with a time and no company after it: in the company named before */
        {"Vultr grew quickly last year. Harbor Capital took a minority stake in 2024.",
         NULL,
         {{"stake", "harbor-capital", "vultr", NOV, NULL, "2024", NULL, NULL, NULL, NULL}}},
        {"Vultr grew quickly. Harbor Capital took a minority stake in 2024 in Scaleway.",
         NULL,
         {{"stake", "harbor-capital", "scaleway", NOV, NULL, "2024", NULL, NULL, NULL, NULL}}},
        /* ", in which Y took a stake,": in the company before it */
        {"Vultr grew quickly. Rival Scaleway, in which Harbor Capital took a 12.5 per cent "
         "stake in 2022, is weighing a listing.",
         NULL,
         {{"stake", "harbor-capital", "scaleway", NOV, NULL, "2022", NULL, NULL, NULL, NULL}}},
        /* "the company": the one the sentence before named, not the owner */
        {"OVHcloud said revenue rose. SoftBank, which holds a 22.4 per cent stake in the "
         "company, will sell shares.",
         NULL,
         {{"stake", "softbank", "ovhcloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* ... and a stake taken with no company named */
        {"OVHcloud raised money on Monday. SoftBank also took a minority stake, the company said.",
         NULL,
         {{"stake", "softbank", "ovhcloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Scaleway opened a data center. IMM Private Equity took a 17.2 per cent stake.",
         NULL,
         {{"stake", "imm-private-equity", "scaleway", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* the size between "stake of" and "in" */
        {"Nvidia is in talks to buy a stake of up to 10 per cent in OVHcloud.",
         NULL,
         {{"stake", "nvidia", "ovhcloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a learned company named later by its first word before a preposition */
        {"Voltra Compute filed for an IPO. MGX bought a stake in Voltra last year.",
         NULL,
         {{"stake", "mgx", "voltra-compute", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_evidence("Vultr grew quickly last year. Harbor Capital took a 12.5 per cent stake "
                   "last year.",
                   "stake", "took a 12.5 per cent stake last year");
    /* the company after the time is the stake's, not also the one before */
    check_count("Vultr grew quickly. Harbor Capital took a minority stake in 2024 in Scaleway.",
                "stake", 1);
    check_count("Nimbus Compute Ltd. said it had raised $85 million in a funding round led by "
                "Harbor Ventures, with participation from Umoya Capital.",
                "stake", 2);
    /* the backer in "X-backed" is the subject of nothing else */
    check_not("Stratus Digital Ltd., the Nvidia-backed GPU cloud operator, raised $40 million.",
              "investment", "nvidia", NOV);
    check_not("The Nvidia-backed startup raised $40 million.", "investment", "nvidia", NOV);
    check_count("Stratus Digital Ltd., the Nvidia-backed GPU cloud operator, raised $40 million.",
                "stake", 1);
    /* a part bought is a stake, not a takeover; the rest of a company is one */
    check_none("Voltra Compute filed for an IPO. MGX bought a stake in Voltra last year.",
               "acquisition");
    check_none("SoftBank bought a 5 percent stake in OVHcloud.", "acquisition");
    check_evidence("Microsoft bought the remaining stake in Voltstack Inc.", "acquisition",
                   "remaining stake");
    check_evidence("Microsoft bought a controlling stake in Voltstack Inc.", "acquisition",
                   "controlling stake");
    check_evidence("Microsoft bought the entire stake in Voltstack Inc. that Intel held.",
                   "acquisition", "entire stake");
    /* a bare "stake" that is not one taken, or that names the company after it */
    check_none("OVHcloud raised money. SoftBank said much was at stake.", "stake");
    check_none("OVHcloud raised money. The stake was sold.", "stake");
    check_none("OVHcloud raised money. SoftBank sold its stake, the company said.", "stake");
    check_none("SoftBank took a stake. It was the first deal of the year.", "stake");
    check_none(
        "OVHcloud raised money. SoftBank said on Monday morning in Tokyo that it had quietly "
        "sold its stake.",
        "stake");
    /* a company named later in the clause is the one, not the one before */
    check_none("OVHcloud raised money. SoftBank took a stake worth $1 billion in Scaleway.",
               "stake");
    check_count("OVHcloud raised money. SoftBank took a stake in Scaleway.", "stake", 1);
    check_none("SoftBank invested $50 million in Vultr last year.", "investment");
    check_none("Vultr raised $50 million in new funding.", "investment");
    check_none("Vultr secured $500 million in loans from SoftBank.", "stake");
    check_none("Vultr closed 2024 with revenue from SoftBank.", "stake");
    check_none("Vultr raised $50 million from selling its stake.", "stake");
    check_none("Vultr raised 12 percent from Hetzner in the vote.", "stake");
    check_none("Google will invest $2 billion in Google Cloud.", "stake");
    check_none("Microsoft has pledged $3 billion for cloud services in India, while AWS said it "
               "will invest $12 billion in its Indian regions.",
               "stake");
    check_none("SoftBank said Vultr invested $50 million, in Hetzner's view.", "stake");
}

/* Partnerships that take no "with": a provider picked, a contract won, talks, a venture. */
static void
test_partners(void)
{
    static const row_t rows[] = {
        {"Zoom has selected Oracle as its cloud provider.",
         NULL,
         {{"partnership", "oracle", "zoom", NOV, NULL, NULL, NULL, "reported", NULL, NULL}}},
        {"Netflix chose Google Cloud and Oracle to host its systems.",
         NULL,
         {{"partnership", "google-cloud", "netflix", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"partnership", "oracle", "netflix", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a name may open with a word that usually ends one */
        {"Rackspace won a contract from the Digital Agency to host its systems.",
         NULL,
         {{"partnership", "rackspace", "digital-agency", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Rackspace is in advanced talks with Google Cloud over a partnership.",
         NULL,
         {{"partnership", "rackspace", "google-cloud", NOV, NULL, NULL, NULL, "rumored", NULL,
           NULL}}},
        {"Oracle formed a joint venture with Zoom in May.",
         NULL,
         {{"partnership", "oracle", "zoom", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Baidu and Alibaba Cloud announced a joint venture on Sunday.",
         NULL,
         {{"partnership", "baidu", "alibaba-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a pair's verb without "with"; a memorandum; "co-develop" the pair's */
        {"Nokia and Microsoft have partnered to bring cloud services to carriers.",
         NULL,
         {{"partnership", "nokia", "microsoft", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle and Nvidia joined forces last year to link their clouds.",
         NULL,
         {{"partnership", "oracle", "nvidia", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Huawei signed a memorandum of understanding with Baidu in March.",
         NULL,
         {{"partnership", "huawei", "baidu", NOV, NULL, NULL, NULL, "reported", NULL, NULL}}},
        {"Dell signed an MoU with Rackspace.",
         NULL,
         {{"partnership", "dell", "rackspace", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Intel and Google Cloud will co-develop server chips.",
         NULL,
         {{"partnership", "intel", "google-cloud", NOV, NULL, NULL, NULL, "planned", NULL, NULL}}},
        /* working together, or with a company */
        {"Vultr and Hetzner agreed to work together on edge computing.",
         NULL,
         {{"partnership", "vultr", "hetzner", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Rackspace is working with VMware to manage private clouds for banks.",
         NULL,
         {{"partnership", "rackspace", "vmware", NOV, NULL, NULL, NULL, "reported", NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    /* the pair's verb: not of a pair after a preposition or far before the verb, not
     * one company's, and what follows it is no partner */
    check_none("Like Microsoft and Google, Oracle has partnered to sell chips.", "partnership");
    check_none("Rackspace said it was working with regulators in Texas.", "partnership");
    check_none("Unlike Microsoft and Google, which partnered early, Oracle waited.", "partnership");
    check_none("Oracle has partnered to sell chips to Microsoft.", "partnership");
    check_none("Oracle joined the Linux Foundation with Microsoft in 2019.", "partnership");
    check_none("Microsoft and Google are rivals, and Oracle has teamed up to sell chips.",
               "partnership");
    check_none("Microsoft and Google lead, and the rest have partnered to catch up.",
               "partnership");
    check_none("Microsoft and Google sell chips to big banks in many countries that have "
               "partnered to cut costs.",
               "partnership");
    /* picked for no role a provider plays; picked by a company named after */
    check_none("Zoom picked Oracle as the best stock of the year.", "partnership");
    check_none("Analysts picked Zoom and Oracle as providers to watch.", "partnership");
    check_not("Netflix chose Google Cloud and Oracle to host its systems.", "partnership",
              "netflix", NOV);
    /* talks to buy are the deal's; the company after a bare venture owns it */
    check_none("Oracle is in talks with Zoom to buy the startup.", "partnership");
    check_none("Oracle is in discussions with Zoom about taking a stake in it.", "partnership");
    check_none("Oracle sells Bleu, the joint venture owned by Orange and Capgemini.",
               "partnership");
    check_none("Oracle sells cloud services in Europe, a tie-up that Orange welcomed.",
               "partnership");
    /* the review's: a pick in the passive, or after a comma; a pair that does not make
     * the venture; a contract lost or wanted; talks about anything else */
    check_none("Dell was picked by Rackspace as its hosting partner.", "partnership");
    check_none("AWS is the cloud that most startups chose, with Azure as their second provider.",
               "partnership");
    check_none("Amazon and Microsoft both compete with the joint venture.", "partnership");
    check_none("Like Microsoft and Google, Oracle set up a joint venture in Saudi Arabia.",
               "partnership");
    check_none("Microsoft lost a contract from the Pentagon to AWS.", "partnership");
    check_none("IBM failed to win a contract from the Pentagon.", "partnership");
    check_none("Oracle said it is in talks with Zoom about its pricing.", "partnership");
    /* a word that ends names ("Sahab Digital") names none alone */
    check_none("Oracle signed a deal with Digital in May.", "partnership");
}

/* Entries by starting to sell somewhere or a foothold; exits by ceasing to sell a
 * market's product line; listings as a debut on an exchange. */
/* A period is the fact's own clause's (GUIDELINES decision 3): not a relative
 * clause's, not another predicate's, not a comparison base's; a contrast of figures
 * shares one; a period the evidence ends on is the fact's. */
static void
test_periods_by_clause(void)
{
    static const row_t rows[] = {
        {"Vultr operates 14 data centers and plans to open six more in Chennai by March 2027.",
         NULL,
         {{"datacenter", "vultr", NULL, 14, "count", "-", NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "vultr", NULL, 6, "count", "2027-03", "Chennai", "planned", NULL, NULL,
           NULL}}},
        {"Vultr, which was founded in 2016, operates six data centers in Norway.",
         NULL,
         {{"datacenter", "vultr", NULL, 6, "count", "-", "Norway", NULL, NULL, NULL, NULL}}},
        {"Hetzner, which opened its first region in 2019, has pledged to invest $500 million in "
         "Finland.",
         NULL,
         {{"investment", "hetzner", NULL, 500e6, "USD", "-", "Finland", NULL, NULL, NULL, NULL}}},
        {"Scaleway held a 31% share of the French cloud market, down from 34% in the first "
         "quarter of 2022.",
         NULL,
         {{"market_share", "scaleway", NULL, 31, "percent", "-", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "scaleway", NULL, 34, "percent", "2022-Q1", NULL, NULL, NULL, NULL,
           NULL}}},
        {"Vultr opened a data center in Madrid in 2024, while Hetzner runs data centers in "
         "Helsinki.",
         NULL,
         {{"datacenter", "hetzner", NULL, NOV, NULL, "-", "Helsinki", NULL, NULL, NULL, NULL}}},
        {"Hetzner opened a data center in Helsinki in 2023 and it serves 9,000 customers.",
         NULL,
         {{"datacenter", "hetzner", NULL, NOV, NULL, "2023", "Helsinki", NULL, NULL, NULL, NULL},
          {"customers", "hetzner", NULL, 9000, "count", "-", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr opened a data center in Madrid in 2024, and the company has 9,000 customers.",
         NULL,
         {{"customers", "vultr", NULL, 9000, "count", "-", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr opened a data center in Madrid in 2024, and the unit has 9,000 customers.",
         NULL,
         {{"customers", "vultr", NULL, 9000, "count", "-", NULL, NULL, NULL, NULL, NULL}}},
        {"Hetzner said it had opened a data center in Helsinki and that it would open one in Oslo "
         "in 2027.",
         NULL,
         {{"datacenter", "hetzner", NULL, NOV, NULL, "-", "Helsinki", NULL, NULL, NULL, NULL},
          {"datacenter", "hetzner", NULL, NOV, NULL, "2027", "Oslo", NULL, NULL, NULL, NULL}}},
        {"Vultr, which has 900 customers, doubled its revenue to $50 million in 2024.",
         NULL,
         {{"customers", "vultr", NULL, 900, "count", "-", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "vultr", NULL, 50e6, "USD", "2024", NULL, NULL, NULL, NULL, NULL}}},
        {"Scaleway signed a deal with Hetzner weeks after Vultr opened a region in Madrid in "
         "2024.",
         NULL,
         {{"partnership", "scaleway", "hetzner", NOV, NULL, "-", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr, which has more than 900 customers, was valued at $600 million in a 2024 funding "
         "round.",
         NULL,
         {{"customers", "vultr", NULL, 900, "count", "-", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr, the provider that built one of the first public clouds in 2010, said it will "
         "exit the hosting market.",
         NULL,
         {{"market_exit", "vultr", NULL, NOV, NULL, "-", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr opened a data center in Madrid in 2024; Hetzner runs data centers in Helsinki.",
         NULL,
         {{"datacenter", "hetzner", NULL, NOV, NULL, "-", "Helsinki", NULL, NULL, NULL, NULL}}},
        /* shared: a contrast of figures; an appositive about a figure */
        {"In 2025, AWS held 30 percent of the market, while Azure held 21 percent.",
         NULL,
         {{"market_share", "aws", NULL, 30, "percent", "2025", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "azure", NULL, 21, "percent", "2025", NULL, NULL, NULL, NULL, NULL}}},
        {"AWS held 34% of the market in the first half of 2026; Azure was second, at 21%.",
         NULL,
         {{"market_share", "azure", NULL, 21, "percent", "2026-H1", NULL, NULL, NULL, NULL, NULL}}},
        {"In 2025, Hetzner held 9 percent of the market versus 12 percent for Vultr.",
         NULL,
         {{"market_share", "vultr", NULL, 12, "percent", "2025", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr revenue rose 20 percent to $50 million, a record for 2025.",
         NULL,
         {{"revenue", "vultr", NULL, 50e6, "USD", "2025", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr reported revenue of $50 million for 2025, an increase of 20 percent.",
         NULL,
         {{"revenue_growth", "vultr", NULL, 20, "percent", "2025", NULL, NULL, NULL, NULL, NULL}}},
        /* the period each figure's evidence ends on; two-digit fiscal years */
        {"We model Vultr revenue of $24bn in FY27 and $41bn in FY28.",
         NULL,
         {{"revenue", "vultr", NULL, 24e9, "USD", "FY2027", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "vultr", NULL, 41e9, "USD", "FY2028", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr said on Monday: Vultr invested $435 million in Hetzner in October 2016.",
         NULL,
         {{"stake", "vultr", "hetzner", NOV, NULL, "2016-10", NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
}

static void
test_entries_exits(void)
{
    static const row_t rows[] = {
        {"OVHcloud plans to begin selling managed cloud services in the UAE and Saudi Arabia "
         "from 2028.",
         NULL,
         {{"expansion", "ovhcloud", NULL, NOV, NULL, NULL, "United Arab Emirates", NULL, NULL, NULL,
           NULL}}},
        {"Vultr will establish a presence in Brazil next year.",
         NULL,
         {{"expansion", "vultr", NULL, NOV, NULL, NULL, "Brazil", "planned", NULL, NULL, NULL}}},
        {"The deal gives OVHcloud a foothold in Brazil.",
         NULL,
         {{"expansion", "ovhcloud", NULL, NOV, NULL, NULL, "Brazil", NULL, NULL, NULL, NULL}}},
        {"OVHcloud said it would stop selling public cloud services.",
         NULL,
         {{"market_exit", "ovhcloud", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "public cloud"}}},
        {"OVHcloud said it will wind down its public IaaS platform.",
         NULL,
         {{"market_exit", "ovhcloud", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL, "IaaS"}}},
        /* a country left whole; a business of the subject's own; the market's place */
        {"Vultr pulled out of Russia in 2022.",
         NULL,
         {{"market_exit", "vultr", NULL, NOV, NULL, NULL, "Russia", NULL, NULL, NULL, "Russia"}}},
        {"Scaleway will exit the domain registration market.",
         NULL,
         {{"market_exit", "scaleway", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "domain registration market"}}},
        {"Hetzner will wind down its hosting business.",
         NULL,
         {{"market_exit", "hetzner", NULL, NOV, NULL, NULL, NULL, "planned", NULL, NULL,
           "hosting business"}}},
        {"Hetzner is winding down its cloud business in Russia.",
         NULL,
         {{"market_exit", "hetzner", NULL, NOV, NULL, NULL, "Russia", NULL, NULL, NULL,
           "cloud business"}}},
        {"OVHcloud will exit the public cloud market in Germany.",
         NULL,
         {{"market_exit", "ovhcloud", NULL, NOV, NULL, NULL, "Germany", NULL, NULL, NULL,
           "public cloud"}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_none("Vultr pulled out of India's spectrum auction.", "market_exit");
    check_none("Vultr left London for Paris.", "market_exit");
    check_none("Vultr left its hosting business to its founder.", "market_exit");
    check_none("Vultr will exit its Microsoft business.", "market_exit");
    check_none("Vultr will exit its business.", "market_exit");
    check_none("Vultr will exit its hosting deal.", "market_exit");
    check_none("Vultr will exit a hosting business.", "market_exit");
    check_none("Vultr withdrew from Nasdaq in May.", "market_exit");
    /* customers somewhere are no market entered; a product line that names no market
     * is no market left */
    check_none("OVHcloud started selling servers to banks in London.", "expansion");
    check_none("OVHcloud will shut down its Frankfurt platform.", "market_exit");
    check_none("OVHcloud stopped selling servers to Microsoft.", "market_exit");
    /* a lead to widen over a rival is a goal about it */
    check_evidence("OVHcloud said the goal was to widen the lead over Scaleway.", "target",
                   "widen the lead over Scaleway");
    /* a debut on an exchange is a listing; a product's debut is not */
    check_evidence("Qianhai DataPark Ltd. raised HK$3.2 billion in its debut on the city's stock "
                   "exchange.",
                   "ipo", "debut on the city's stock exchange");
    check_evidence("OVHcloud made its debut on Euronext Paris.", "ipo", "debut on Euronext Paris");
    check_none("Nvidia's new chip made its debut on Monday.", "ipo");
    /* shares that start trading on an exchange have gone public */
    check_evidence("Scaleway shares began trading on Euronext Paris on Friday.", "ipo",
                   "began trading on Euronext Paris");
    /* the market after the line's noun is the phrase's end */
    check_evidence("OVHcloud will exit the cloud infrastructure services market in Malaysia.",
                   "market_exit", "services market");
}

/* The revenue "at" a company is that company's, whoever the topic is; not a client's
 * "from". */
static void
test_revenue_at(void)
{
    static const row_t rows[] = {
        {"Zoom signed a deal to move to DigitalOcean. Revenue at DigitalOcean rose to $36 "
         "billion, the company said.",
         NULL,
         {{"revenue", "digitalocean", NULL, 3.6e10, NULL, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Zoom signed a deal with Oracle. Sales for Oracle's cloud unit rose to $2 billion, the "
         "company said.",
         NULL,
         {{"revenue", "oracle-cloud", NULL, 2e9, NULL, NULL, NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_not("DigitalOcean signed a deal with Zoom. Revenue from Zoom rose to $3 million.",
              "revenue", "zoom", NOV);
}

/* Growth without a "rose": a fall is below zero, a doubling is 100 percent; a fall of
 * a share is no growth and no share. */
static void
test_growth_words(void)
{
    static const row_t rows[] = {
        {"Vultr's revenue fell 18% in 2025.",
         NULL,
         {{"revenue_growth", "vultr", NULL, -18, "percent", "2025", NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr reported sales of $3 billion, down 4% from a year earlier.",
         NULL,
         {{"revenue_growth", "vultr", NULL, -4, "percent", NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Hetzner's revenue posted a 6 percent drop.",
         NULL,
         {{"revenue_growth", "hetzner", NULL, -6, "percent", NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr said its revenue more than doubled in 2025.",
         NULL,
         {{"revenue_growth", "vultr", NULL, 100, "percent", "2025", NULL, NULL, NULL, "more than",
           NULL}}},
        {"Sales at Hetzner tripled.",
         NULL,
         {{"revenue_growth", "hetzner", NULL, 200, "percent", NULL, NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    /* a change of a share: neither a share of -1 nor a growth */
    check_count("Google held 11% of the market, down 1% from a year earlier.", "market_share", 1);
    check_none("Google held 11% of the market, down 1% from a year earlier.", "revenue_growth");
    check_not("Vultr's revenue fell to 18% of its total.", "revenue_growth", "vultr", NOV);
    check_not("Hetzner doubled its data center capacity.", "revenue_growth", "hetzner", 100);
    check_not("Vultr's revenue grew and its staff doubled.", "revenue_growth", "vultr", 100);
    check_not("Vultr's revenue was flat and its headcount doubled.", "revenue_growth", "vultr",
              100);
    check_none("Vultr's revenue growth doubled.", "revenue_growth");
    check_none("Sales teams at Vultr in the big European markets have doubled.", "revenue_growth");
}

/* "We" and "our" in a quote are the speaker's company: the one named after the quote,
 * else the article's topic; outside a quote, or in an analyst's, they are no company's.
 * A goal the company says it does not have is speculative. */
static void
test_quoted_we(void)
{
    static const row_t rows[] = {
        {"Scaleway grew fast. \"We need to beat AWS in every French city hall,\" its chief "
         "executive said.",
         NULL,
         {{"target", "scaleway", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Scaleway grew fast. \u201cOur goal is to overtake AWS in Germany,\u201d said the chief "
         "executive of Hetzner.",
         NULL,
         {{"target", "hetzner", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Nordlicht Rechenzentren GmbH grew fast. \"We need to beat AWS,\" said Nordlicht's "
         "chief executive.",
         NULL,
         {{"target", "nordlicht-rechenzentren", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Scaleway does not want to overtake AWS.",
         NULL,
         {{"target", "scaleway", "aws", NOV, NULL, NULL, NULL, "speculative", NULL, NULL}}},
        {"Scaleway grew. \"We don't need to beat AWS everywhere,\" its chief executive said.",
         NULL,
         {{"target", "scaleway", "aws", NOV, NULL, NULL, NULL, "speculative", NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_none("Scaleway grew fast. We think Europe needs to beat AWS.", "target");
    check_none("Scaleway grew fast. \"We need to beat AWS,\" said Thomas Berg, an analyst at "
               "Gartner.",
               "target");
    check_none("Scaleway grew fast. \"We need to beat AWS,\" said Thomas Berg, an analyst at "
               "Nordwind Research.",
               "target");
}

/* A business unit listed on its own: the unit goes public, in the place after it;
 * "list" goes public only so, on an exchange or in a place. */
static void
test_unit_listing(void)
{
    static const row_t rows[] = {
        {"Alibaba plans to list the cloud unit in Hong Kong next year.",
         NULL,
         {{"ipo", "alibaba-cloud", NULL, NOV, NULL, NULL, "Hong Kong", "planned", NULL, NULL}}},
        {"Alibaba shelved plans to spin off and separately list its cloud business.",
         NULL,
         {{"ipo", "alibaba-cloud", NULL, NOV, NULL, NULL, NULL, "speculative", NULL, NULL}}},
        {"Alibaba said there were no current plans to list the cloud unit separately.",
         NULL,
         {{"ipo", "alibaba-cloud", NULL, NOV, NULL, NULL, NULL, "speculative", NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_evidence("Alibaba plans to list the cloud unit in Hong Kong next year.", "ipo",
                   "list the cloud unit in Hong Kong");
    check_evidence("Alibaba shelved plans to spin off and separately list its cloud business.",
                   "ipo", "separately list its cloud business");
    check_none("Alibaba topped the list of Chinese cloud providers.", "ipo");
    check_none("Vultr will list its prices for each region.", "ipo");
    check_none("Vultr was added to a list of preferred suppliers.", "ipo");
    check_none("Alibaba will separately list prices for its cloud unit.", "ipo");
}

/* Products named after their maker's possessive, and names that start with a place's
 * adjective. */
static void
test_owned_products(void)
{
    static const row_t rows[] = {
        {"OVHcloud said its Nimbus GPU cloud service grew.",
         NULL,
         {{"offering", "ovhcloud", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Nimbus GPU cloud"}}},
        {"Alibaba Cloud's Model Studio platform drew users.",
         NULL,
         {{"offering", "alibaba-cloud", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Model Studio"}}},
        {"OVHcloud said its Nimbus public cloud platform grew.",
         NULL,
         {{"offering", "ovhcloud", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Nimbus public cloud"}}},
        {"Zoom chose Microsoft Power Platform software.",
         NULL,
         {{"offering", "microsoft", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Power Platform"}}},
        {"Scaleway grew. Its Vault product is popular.",
         NULL,
         {{"offering", "scaleway", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL, "Vault"}}},
        {"Amazon Web Services launched its European Sovereign Cloud in Germany.",
         NULL,
         {{"offering", "aws", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "European Sovereign Cloud"}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    /* no name of its own: cloud words, a place, a company, a source's, a division's */
    check_none("OVHcloud said its cloud service grew.", "offering");
    check_none("OVHcloud said its Frankfurt service grew.", "offering");
    check_none("OVHcloud said its AWS service grew.", "offering");
    check_none("Synergy Research's Tracker Pro service said so.", "offering");
    check_none("Zoom uses Vault software.", "offering");
    check_none("OVHcloud launched in European Union markets.", "offering");
    check_none("OVHcloud launched its European operations in May.", "offering");
    /* one fact for one product: a launch names it; nouns in a row are one */
    check_count("OVHcloud announced the release of its Nimbus service.", "offering", 1);
    check_count("OVHcloud said its Nimbus cloud services offerings grew.", "offering", 1);
}

/* Customers named by their weight to the provider: "its largest customer is X", "X,
 * its anchor tenant,", "X accounted for 58% of revenue". */
static void
test_key_clients(void)
{
    static const row_t rows[] = {
        {"OVHcloud said its largest customer is Microsoft.",
         NULL,
         {{"partnership", "ovhcloud", "microsoft", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Scaleway's anchor tenants include Meta and Zoom.",
         NULL,
         {{"partnership", "scaleway", "meta", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"partnership", "scaleway", "zoom", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* before the owner: an apposition, a copula; "its" is then the topic */
        {"OVHcloud grew. Microsoft, its biggest client, renewed its contract.",
         NULL,
         {{"partnership", "ovhcloud", "microsoft", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Microsoft is Scaleway's top customer.",
         NULL,
         {{"partnership", "scaleway", "microsoft", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a share of the provider's revenue */
        {"OVHcloud said Microsoft accounted for 58% of revenue.",
         NULL,
         {{"partnership", "ovhcloud", "microsoft", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Scaleway grew. Zoom made up 30 percent of its sales in 2025.",
         NULL,
         {{"partnership", "scaleway", "zoom", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    /* no company named as the customer, or one lost */
    check_none("Microsoft's largest customer is the US government.", "partnership");
    check_none("OVHcloud lost its biggest customer to Microsoft.", "partnership");
    check_none("Scaleway grew. Microsoft largest customers are Zoom and Meta.", "partnership");
    check_none("OVHcloud grew. Microsoft, its biggest client. Zoom left.", "partnership");
    /* a unit's share of its parent's revenue, a market's, a possessive's */
    check_none("Amazon said AWS accounted for 17% of its revenue.", "partnership");
    check_none("OVHcloud grew. Cloud accounted for 58% of revenue.", "partnership");
    check_none("OVHcloud grew. Microsoft lost 58% of revenue.", "partnership");
    check_none("OVHcloud grew. Microsoft's cloud accounted for 58% of revenue.", "partnership");
    check_none("Scaleway grew. OVHcloud said it accounted for 58% of revenue.", "partnership");
    check_none("OVHcloud grew. Microsoft said prices accounted for 58% of revenue.", "partnership");
}

/* Products set against rivals later in their sentence. */
static void
test_offer_rivals(void)
{
    static const row_t rows[] = {
        {"Huawei Cloud introduced FlexGrid, a serverless inference service that it priced about "
         "30 per cent below comparable AWS offerings.",
         NULL,
         {{"offering", "huawei-cloud", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "FlexGrid"}}},
        {"Oracle began offering Lattice Max, a GPU service it pitches as cheaper than comparable "
         "instances from AWS and CoreWeave.",
         NULL,
         {{"offering", "oracle", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL, NULL},
          {"offering", "oracle", "coreweave", NOV, NULL, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a product without a name, set against a rival's */
        {"OVHcloud launched a range of bare-metal servers for AI training, which it says are "
         "priced below comparable GPU instances from AWS.",
         NULL,
         {{"offering", "ovhcloud", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "bare-metal servers for AI training"}}},
        /* the rival in another clause is not the product's */
        {"Oracle launched Lattice Max in May; Zoom called its own tools comparable to AWS's.",
         NULL,
         {{"offering", "oracle", "-", NOV, NULL, NULL, NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_none("OVHcloud launched a review of its prices on Monday.", "offering");
    check_none("OVHcloud launched a new pricing scheme for students.", "offering");
    check_none("OVHcloud launched a review of its prices, which it calls cheaper than AWS, a "
               "company spokesman said on Monday in Paris.",
               "offering");
}

/* Products without a name: the offer cue's object runs to a product noun. */
static void
test_plain_products(void)
{
    static const row_t rows[] = {
        {"Vultr launched a managed database service for small developers.",
         NULL,
         {{"offering", "vultr", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "managed database service"}}},
        {"Hetzner unveiled a new object storage product aimed at startups.",
         NULL,
         {{"offering", "hetzner", NULL, NOV, NULL, NULL, NULL, "announced", NULL, NULL,
           "object storage product"}}},
        /* a capitalized cloud word in the words: no name, still a product */
        {"Scaleway rolled out a managed Kubernetes service.",
         NULL,
         {{"offering", "scaleway", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "managed Kubernetes service"}}},
        /* ... and with a name word after it, a name */
        {"Vultr launched Kubernetes Engine for small developers.",
         NULL,
         {{"offering", "vultr", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Kubernetes Engine"}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_none("Vultr launched a service.", "offering");
    check_none("Vultr launched a new service.", "offering");
    check_none("Vultr launched a review of its storage service.", "offering");
    check_none("Vultr launched a review of hosted database services.", "offering");
    check_none("Vultr launched 40 database services.", "offering");
    check_none("Vultr launched Kubernetes support.", "offering");
    check_none("Vultr and Hetzner announced a joint venture to offer hosted database services.",
               "offering");
    check_none("Vultr partnered with Hetzner to offer hosted database services.", "offering");
    check_count("Vultr plans to offer hosted database services.", "offering", 1);
}

static void
test_investment(void)
{
    static const row_t rows[] = {
        {"Huawei will invest $1.5 billion in its developer program over five years.", NULL,
         {{"investment", "huawei", NULL, 1.5e9, "USD", NULL, NULL, "planned", NULL, NULL}}},
        {"Salesforce and VMware each committed $500 million to public cloud infrastructure.",
         NULL,
         {{"investment", "salesforce", NULL, 5e8, "USD", NULL, NULL, NULL, NULL, NULL},
          {"investment", "vmware", NULL, 5e8, "USD", NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle announced it was setting aside a billion dollars for new regions.", NULL,
         {{"investment", "oracle", NULL, 1e9, "USD", NULL, NULL, "announced", NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
}

static void
test_datacenter(void)
{
    static const row_t rows[] = {
        {"Tencent plans to build a data center in Frankfurt.",
         NULL,
         {{"datacenter", "tencent", NULL, NOV, NULL, NULL, "Frankfurt", "planned", NULL, NULL}}},
        /* a count of regions with a word between ("37 geographic regions") */
        {"Hetzner runs 40 availability zones in 15 geographic regions.",
         NULL,
         {{"datacenter", "hetzner", NULL, 40, NULL, NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "hetzner", NULL, 15, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* cities listed before the regions their owner names */
        {"Hetzner runs data centers in Germany. Hetzner's Munich and Hamburg regions grew.",
         NULL,
         {{"datacenter", "hetzner", NULL, NOV, NULL, NULL, "Munich", NULL, NULL, NULL,
           "Munich, Hamburg"}}},
        /* a new region named for its city, or for a part of the world and placed */
        {"Vultr runs data centers. Vultr opened its new Madrid region on Tuesday.",
         NULL,
         {{"datacenter", "vultr", NULL, NOV, NULL, NULL, "Madrid", NULL, NULL, NULL, NULL}}},
        {"Vultr runs data centers. Vultr opened its first African region in Johannesburg.",
         NULL,
         {{"datacenter", "vultr", NULL, NOV, NULL, NULL, "Johannesburg", NULL, NULL, NULL, NULL}}},
        {"Microsoft said it would open data centers in Sweden, Spain and Italy.",
         NULL,
         {{"datacenter", "microsoft", NULL, NOV, NULL, NULL, "Sweden", "announced", NULL, NULL}}},
        {"Of its 24 data centers, nine are in Virginia and four in Ireland.", NULL, {{NULL}}},
        {"Vultr runs data centers. Sales grew in the Asia-Pacific region in May.", NULL, {{NULL}}},
        {"Vultr runs data centers. Sales grew in its big Madrid region.", NULL, {{NULL}}},
        {"Vultr runs data centers. Sales rose in a rich European region in May.", NULL, {{NULL}}},
        {"Baidu will open its third data center in the Chinese city of Beijing.",
         NULL,
         {{"datacenter", "baidu", NULL, NOV, NULL, NULL, "Beijing", NULL, NULL, NULL}}},
        /* a place the places list does not know, after describing words */
        {"AWS is building a data center in the northern Lima district of Chorrillos.",
         NULL,
         {{"datacenter", "aws", NULL, NOV, NULL, NULL, "Chorrillos", NULL, NULL, NULL}}},
        /* a city's region its owner names */
        {"Google Cloud opened its Dammam region.",
         NULL,
         {{"datacenter", "google-cloud", NULL, NOV, NULL, NULL, "Dammam", NULL, NULL, NULL}}},
        {"Tencent Cloud said Oracle's Frankfurt region is running.",
         NULL,
         {{"datacenter", "oracle", NULL, NOV, NULL, NULL, "Frankfurt", NULL, NULL, NULL}}},
        {"Zoom said the AWS Osaka region is running.",
         NULL,
         {{"datacenter", "aws", NULL, NOV, NULL, NULL, "Osaka", NULL, NULL, NULL}}},
        /* one built with a company is a partnership with it */
        {"YTL Power Ltd. is building an AI campus in Johor with Nvidia.",
         NULL,
         {{"partnership", "ytl-power", "nvidia", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle is building a data center with Nvidia in Ohio.",
         NULL,
         {{"partnership", "oracle", "nvidia", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    /* built with a company's chips or help, or run (not built) with one */
    check_none("Oracle is building a data center in Ohio with Nvidia chips.", "partnership");
    check_none("Oracle opened a data center in Ohio with Microsoft's help.", "partnership");
    check_none("Oracle runs a data center in Ohio with Nvidia.", "partnership");
    /* a region that is an area, or one a sales team covers */
    check_none("Google Cloud grew in the Mumbai region.", "datacenter");
    check_none("Google Cloud grew in its Asia region, which covers Japan.", "datacenter");
    check_none("Google Cloud opened a data center in Chorrillos, a district of Lima Province.",
               "market_exit");
    static const row_t ctx[] = {
        {"Equinix keeps growing. Of its 24 data centers, nine are in Virginia and four in "
         "Ireland.",
         NULL,
         {{"datacenter", "equinix", NULL, 24, "count", NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "equinix", NULL, 9, "count", NULL, "Virginia", NULL, NULL, NULL},
          {"datacenter", "equinix", NULL, 4, "count", NULL, "Ireland", NULL, NULL, NULL}}},
    };
    check_rows(ctx, sizeof ctx / sizeof *ctx);
    /* an ordinal is not a count */
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    const char *t = "Baidu will open its third data center in Shanghai.";
    extract(t, strlen(t), NULL, &facts, &cls);
    CF_CHECK_INT(facts.n, 1);
    if (facts.n == 1) {
        CF_CHECK(!facts.v[0].has_value);
        CF_CHECK_STR(facts.v[0].detail, "third data center");
    }
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
}

static void
test_objects(void)
{
    static const row_t rows[] = {
        {"Salesforce announced a partnership with Alibaba this month.", "2019-09-20",
         {{"partnership", "salesforce", "alibaba", NOV, NULL, "2019-09", NULL, "announced", NULL,
           NULL}}},
        {"Nutanix has partnered with Fujitsu and Lenovo to sell appliances.", NULL,
         {{"partnership", "nutanix", "fujitsu", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"partnership", "nutanix", "lenovo", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Cisco acquired Acme Networks Inc. in 2016.", NULL,
         {{"acquisition", "cisco", "acme-networks", NOV, NULL, "2016", NULL, "reported", NULL,
           NULL}}},
        {"Tencent is in talks to acquire Zeta Storage, according to Reuters.", NULL,
         {{"acquisition", "tencent", "zeta-storage", NOV, NULL, NULL, NULL, "rumored", "reuters",
           NULL}}},
        {"Google has invested in security startups – Cloudflare, Akamai (a CDN) and Linode.", NULL,
         {{"stake", "google", "cloudflare", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"stake", "google", "akamai", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"stake", "google", "linode", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle has vowed to overtake Google Cloud within three years.", NULL,
         {{"target", "oracle", "google-cloud", NOV, NULL, NULL, NULL, "announced", NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
}

static void
test_places_and_status(void)
{
    static const row_t rows[] = {
        {"Tencent Cloud is entering the U.S. market.",
         NULL,
         {{"expansion", "tencent-cloud", NULL, NOV, NULL, NULL, "United States", "reported", NULL,
           NULL}}},
        {"Naver aims to expand into Southeast Asia next year.",
         "2020-03-01",
         {{"expansion", "naver", NULL, NOV, NULL, "2021", "Southeast Asia", "planned", NULL,
           NULL}}},
        /* a doubt about the sentence before rewrites that fact's status */
        {"Naver aims to expand into Southeast Asia next year. That seems unlikely.",
         "2020-03-01",
         {{"expansion", "naver", NULL, NOV, NULL, "2021", "Southeast Asia", "speculative", NULL,
           NULL}}},
        {"Kingsoft might move into overseas markets.",
         NULL,
         {{"expansion", "kingsoft", NULL, NOV, NULL, NULL, "outside China", "speculative", NULL,
           NULL}}},
        {"Rackspace announced that it will exit the IaaS market.",
         NULL,
         {{"market_exit", "rackspace", NULL, NOV, NULL, NULL, NULL, "announced", NULL, NULL}}},
        {"Dropbox is planning an IPO on the Nasdaq.",
         NULL,
         {{"ipo", "dropbox", NULL, NOV, NULL, NULL, "Nasdaq", "planned", NULL, NULL}}},
        /* talks of any stage are a rumor; a signed deal is done, not only announced */
        {"Salesforce is in advanced talks to acquire Informatica for about $11 billion.",
         NULL,
         {{"acquisition", "salesforce", "informatica", NOV, NULL, NULL, NULL, "rumored", NULL,
           NULL}}},
        {"Hetzner was also said to have bid for Vultr.",
         NULL,
         {{"acquisition", "hetzner", "vultr", NOV, NULL, NULL, NULL, "rumored", NULL, NULL}}},
        {"Vultr, which plans to expand in Asia, signed an agreement with Hetzner.",
         NULL,
         {{"partnership", "vultr", "hetzner", NOV, NULL, NULL, NULL, "reported", NULL, NULL}}},
        {"Vultr struck a deal with Hetzner.",
         NULL,
         {{"partnership", "vultr", "hetzner", NOV, NULL, NULL, NULL, "reported", NULL, NULL}}},
        /* a country by its usual name, and not its neighbour's */
        {"Tencent opened a data center in South Korea.",
         NULL,
         {{"datacenter", "tencent", NULL, NOV, NULL, NULL, "South Korea", NULL, NULL, NULL}}},
        {"Tencent opened a data center in North Korea.",
         NULL,
         {{"datacenter", "tencent", NULL, NOV, NULL, NULL, "North Korea", NULL, NULL, NULL}}},
        {"Tencent opened a data center in the Democratic People's Republic of Korea.",
         NULL,
         {{"datacenter", "tencent", NULL, NOV, NULL, NULL, "North Korea", NULL, NULL, NULL}}},
        {"Tencent opened a data center in the Republic of Korea.",
         NULL,
         {{"datacenter", "tencent", NULL, NOV, NULL, NULL, "South Korea", NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
}

static void
test_references(void)
{
    static const row_t rows[] = {
        /* pronoun and "the company" resolve to the last named company */
        {"Oracle opened a new office. The company said it would spend $2 billion on servers.",
         NULL,
         {{"investment", "oracle", NULL, 2e9, "USD", NULL, NULL, "announced", NULL, NULL}}},
        {"Rackspace grew fast. Its customer count has gone from 5,000 in 2009 to 300,000 today.",
         NULL,
         {{"customers", "rackspace", NULL, 5000, "count", "2009", NULL, NULL, NULL, NULL},
          {"customers", "rackspace", NULL, 300000, "count", "-", NULL, NULL, NULL, NULL}}},
        /* possessive cloud and ticker aliases */
        {"Amazon's cloud brought in $4.6 billion, while MSFT earned $7 billion.",
         NULL,
         {{"revenue", "aws", NULL, 4.6e9, "USD", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "microsoft", NULL, 7e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        /* quoted figures keep the source named before the quotation */
        {"Gartner analysts agreed. \xe2\x80\x9c"
         "Azure holds 20 percent of the market.\xe2\x80\x9d"
         "",
         NULL,
         {{"market_share", "azure", NULL, 20, "percent", NULL, NULL, NULL, "gartner", NULL}}},
        /* no-break spaces and typographic apostrophes */
        {"Huawei\xe2\x80\x99s cloud posted revenue of $1.1\xc2\xa0"
         "billion.",
         NULL,
         {{"revenue", "huawei-cloud", NULL, 1.1e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        /* a plural subject ("X and Y each") is no antecedent: the topic before it stays */
        {"Oracle said cloud revenue rose 20 percent. Oracle holds 3 percent of the market. "
         "SAP and IBM each have about 2 percent. The group also signed a partnership with "
         "Nvidia.",
         NULL,
         {{"partnership", "oracle", "nvidia", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a broker or research firm the gazetteer does not know is a source */
        {"Oracle said cloud revenue rose 20 percent. Brokerage firm Pellham Securities expects "
         "revenue to grow 25 percent next year.",
         NULL,
         {{"revenue_growth", "oracle", NULL, 25, "percent", NULL, NULL, NULL, "pellham-securities",
           NULL}}},
        {"Oracle said cloud revenue rose 20 percent. Analysts at Torvald Research expect "
         "revenue to grow 25 percent next year.",
         NULL,
         {{"revenue_growth", "oracle", NULL, 25, "percent", NULL, NULL, NULL, "torvald-research",
           NULL}}},
        /* "its" after a clause's own subject is that subject's */
        {"AWS committed $1 billion to its Indian business this year, days after Microsoft "
         "opened its fourth cloud region in Osaka.",
         NULL,
         {{"datacenter", "microsoft", NULL, NOV, NULL, NULL, "Osaka", NULL, NULL, NULL}}},
        /* a consultancy or research firm bought is no source */
        {"IBM agreed to buy research firm Kestrel Partners for $500 million.",
         NULL,
         {{"acquisition", "ibm", "kestrel-partners", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a list that goes on with "its partners" is one company */
        {"AWS opened a region in Spain. Oracle and its partners plan to invest $1 billion in "
         "Japan. The company also plans to open 3 data centers in Chile.",
         NULL,
         {{"datacenter", "oracle", NULL, 3, "count", NULL, "Chile", NULL, NULL, NULL}}},
        /* a learned name by its first word, before an adverb */
        {"Brennvik Data AS sells cloud services in Norway. Microsoft opened an office in Oslo. "
         "Brennvik currently operates nine data centres.",
         NULL,
         {{"datacenter", "brennvik-data", NULL, 9, "count", NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_not("AWS committed $1 billion to its Indian business this year, days after Microsoft "
              "opened its fourth cloud region in Osaka.",
              "datacenter", "aws", NOV);
    check_not("AWS grew fast this year, although Microsoft opened its fourth cloud region in "
              "Osaka.",
              "datacenter", "aws", NOV);
    /* the object of the verb is no clause's subject */
    check_not("Equinix counts Microsoft among its largest customers and will open 3 data "
              "centers in Japan.",
              "datacenter", "microsoft", NOV);
    check_not("Google Cloud hired Oracle veterans when its revenue grew 45 percent.",
              "revenue_growth", "oracle", NOV);
    /* agreeing with a view is no partnership */
    check_none("Google said it agrees with Microsoft that regulators should act.", "partnership");
    /* a name after a comma is the same company described, not a list */
    check_not("Oracle said cloud revenue rose 20 percent. Scaleway, the cloud arm of Iliad, "
              "plans to enter Sweden. It signed a partnership with Nvidia.",
              "partnership", "oracle", NOV);
    check_not("Oracle said cloud revenue rose 20 percent. Brokerage firm Pellham Securities "
              "expects revenue to grow 25 percent next year.",
              "revenue_growth", "pellham-securities", NOV);
}

/* Sentence shapes that the corpora did not have, written fresh: names closed by a
 * corporate suffix, rankings that go on without the word share, counterparts after
 * the figure, inflected triggers, denials. */
static void
test_unseen_phrasing(void)
{
    static const row_t rows[] = {
        {"Brennholt Systems AG said it would buy Kestrel Compute Oy for $400 million.",
         NULL,
         {{"acquisition", "brennholt-systems", "kestrel-compute", NOV, NULL, NULL, NULL,
           "announced", NULL, NULL}}},
        {"Quillfeather Inc., a Denver startup that resells Microsoft and Google capacity to "
         "game studios, filed for an initial public offering on the Nasdaq.",
         NULL,
         {{"ipo", "quillfeather", NULL, NOV, NULL, NULL, "Nasdaq", NULL, NULL, NULL}}},
        {"AWS held 30 percent of the market in the quarter. Microsoft took 21 percent. "
         "Behind them came Oracle with three percent and IBM at two percent.",
         NULL,
         {{"market_share", "oracle", NULL, 3, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "ibm", NULL, 2, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Rackspace holds 2 percent of the European market, against 31 percent for Amazon Web "
         "Services.",
         NULL,
         {{"market_share", "rackspace", NULL, 2, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "aws", NULL, 31, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Scaleway has been listed on Euronext Paris since 2021.",
         NULL,
         {{"ipo", "scaleway", NULL, NOV, NULL, NULL, "Euronext Paris", NULL, NULL, NULL}}},
        {"Alibaba is weighing a Hong Kong listing for its logistics arm.",
         NULL,
         {{"ipo", "alibaba", NULL, NOV, NULL, NULL, "Hong Kong", "rumored", NULL, NULL}}},
        {"Huawei Cloud denied a report that it was in talks to buy Linode.",
         NULL,
         {{"acquisition", "huawei-cloud", "linode", NOV, NULL, NULL, NULL, "speculative", NULL,
           NULL}}},
        {"Infosys will invest 4,000 crore rupees in cloud data centers.",
         NULL,
         {{"investment", "infosys", NULL, 4e10, "INR", NULL, NULL, NULL, NULL, NULL}}},
        {"Kaldera, a Danish hosting company, is owned by investment firm Nordvik Partners.",
         NULL,
         {{"stake", "nordvik-partners", "kaldera", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a venture with a company is a partnership */
        {"Capgemini set up a similar venture with Google Cloud last year.",
         NULL,
         {{"partnership", "capgemini", "google-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* stakes held by a fund's name; a majority stake bought is a takeover */
        {"IMM Private Equity took a 17.2 per cent stake in KT Cloud in 2022.",
         NULL,
         {{"stake", "imm-private-equity", "kt-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Microsoft bought a majority stake in Voltstack Inc. for $1 billion.",
         NULL,
         {{"acquisition", "microsoft", "voltstack", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Google agreed to buy venture-backed Wiz Inc. for $32 billion.",
         NULL,
         {{"acquisition", "google", "wiz", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"SoftBank acquired a minority holding in Nimbus Cloud Ltd.",
         NULL,
         {{"stake", "softbank", "nimbus-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Temasek Holdings bought a 30 percent holding in Nimbus Cloud Ltd.",
         NULL,
         {{"stake", "temasek", "nimbus-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* "the company" is the company the article has named most of those in the
         * sentence before, unless that sentence opens with a company */
        {"Brindle Cloud Ltd. rents out servers. Brindle Cloud reported strong demand. "
         "Last year, Oracle supplied most of the chips that Brindle Cloud bought. "
         "The company opened a data center in Ohio.",
         NULL,
         {{"datacenter", "brindle-cloud", NULL, NOV, NULL, NULL, "Ohio", NULL, NULL, NULL}}},
        /* ... and the company owned: not the owner named before it */
        {"Brindle Cloud Ltd. rents out servers. Nvidia, which owns 6 percent of the company, "
         "supplies its chips.",
         NULL,
         {{"stake", "nvidia", "brindle-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* an appositive after an opening phrase; a fund is a company */
        {"In Canada, Larchmont Pension Plan, a fund that manages teachers' savings, owns 9 "
         "percent of Brindle Cloud Ltd.",
         NULL,
         {{"stake", "larchmont-pension-plan", "brindle-cloud", NOV, NULL, NULL, NULL, NULL, NULL,
           NULL}}},
        /* each of two owners holds a stake */
        {"In France, Ardenne, the joint venture owned by Orange and Capgemini, sells cloud "
         "services.",
         NULL,
         {{"stake", "orange", "ardenne", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"stake", "capgemini", "ardenne", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* the partner after "with" is not the subject of what follows */
        {"Digital Realty formed a joint venture with Blackstone to build four data centers in "
         "Virginia.",
         NULL,
         {{"datacenter", "digital-realty", NULL, 4, NULL, NULL, "Virginia", NULL, NULL, NULL}}},
        /* a venture between two companies; two companies that develop jointly */
        {"S3NS is a venture between Thales and Google Cloud.",
         NULL,
         {{"partnership", "thales", "google-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Naver and Samsung are jointly developing chips for AI servers.",
         NULL,
         {{"partnership", "naver", "samsung", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Orange and Capgemini jointly launched Ardenne Ltd., a cloud company.",
         NULL,
         {{"partnership", "orange", "capgemini", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a sentence that opens with a company makes it the topic; the owner is not
         * the company owned */
        {"AWS holds 31 percent of the market. AWS leads in Europe. Zentara Cloud, a rival to "
         "AWS, raised $200 million. The company will open a data center in Frankfurt.",
         NULL,
         {{"datacenter", "zentara-cloud", NULL, NOV, NULL, NULL, "Frankfurt", NULL, NULL, NULL}}},
        {"Zentara Cloud, a startup based in Oslo, buys chips from Nvidia. Nvidia, which owns 4 "
         "percent of the company, also supplies Microsoft.",
         NULL,
         {{"stake", "nvidia", "zentara-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Microsoft invested $10 billion in OpenAI. SoftBank, which owns 11 percent of the "
         "company, also invested.",
         NULL,
         {{"stake", "softbank", "openai", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* the name after "with" governs its own relative clause */
        {"Microsoft competes with Google Cloud, which holds 11 percent of the market.",
         NULL,
         {{"market_share", "google-cloud", NULL, 11, "percent", NULL, NULL, NULL, NULL, NULL}}},
        /* "jointly invest" is the investment's */
        {"SoftBank and OpenAI will jointly invest $19 billion in Stargate.",
         NULL,
         {{"investment", "softbank", NULL, 19e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        /* AI labs are companies the gazetteer knows */
        {"Microsoft-backed OpenAI signed a deal with Oracle.",
         NULL,
         {{"partnership", "openai", "oracle", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"stake", "microsoft", "openai", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a product's name may hold a cloud word; one comparison, one fact */
        {"Oracle unveiled Exadata Cloud Plus, its answer to Amazon Aurora.",
         NULL,
         {{"offering", "oracle", "amazon", NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Exadata Cloud Plus"}}},
        {"Alibaba Cloud launched Qwen Chat Tuesday.",
         NULL,
         {{"offering", "alibaba-cloud", NULL, NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Qwen Chat"}}},
        {"Tencent Cloud launched Hunyuan Turbo, a model service it says costs half as much as "
         "comparable AWS offerings.",
         NULL,
         {{"offering", "tencent-cloud", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL,
           "Hunyuan Turbo"}}},
        /* a region a cloud provider opens or counts is a data center */
        {"Huawei Cloud will open a new region in Lagos next spring.",
         NULL,
         {{"datacenter", "huawei-cloud", NULL, NOV, NULL, NULL, "Lagos", NULL, NULL, NULL}}},
        {"After the closures Alibaba Cloud is left with 27 regions.",
         NULL,
         {{"datacenter", "alibaba-cloud", NULL, 27, "count", NULL, NULL, NULL, NULL, NULL}}},
        /* ... and not a part of the world, which leaves the entry an expansion */
        {"Alibaba Cloud will expand into Vietnam, the fastest-growing cloud market in the "
         "region.",
         NULL,
         {{"expansion", "alibaba-cloud", NULL, NOV, NULL, NULL, "Vietnam", NULL, NULL, NULL}}},
        {"Tencent Cloud will enter Vietnam, the region's fastest-growing cloud market.",
         NULL,
         {{"expansion", "tencent-cloud", NULL, NOV, NULL, NULL, "Vietnam", NULL, NULL, NULL}}},
        {"Huawei Cloud will expand into Vietnam, a market of the ASEAN region.",
         NULL,
         {{"expansion", "huawei-cloud", NULL, NOV, NULL, NULL, "Vietnam", NULL, NULL, NULL}}},
        {"Alibaba Cloud announced four more regions, in Peru and Chile.",
         NULL,
         {{"datacenter", "alibaba-cloud", NULL, 4, "count", NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle runs 48 data centers. It plans to open regions in Bogota and Quito.",
         NULL,
         {{"datacenter", "oracle", NULL, NOV, NULL, NULL, "Bogota", NULL, NULL, NULL}}},
        {"Equinix opened a site in Madrid in 2020, a year after Trellis Networks Inc. arrived. "
         "Trellis now operates nine data centers in Spain.",
         NULL,
         {{"datacenter", "trellis-networks", NULL, 9, "count", NULL, "Spain", NULL, NULL, NULL}}},
        {"Oracle has signed cloud agreements with Microsoft and Google.",
         NULL,
         {{"partnership", "oracle", "microsoft", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"partnership", "oracle", "google", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"ServiceNow is intent on overtaking Salesforce in HR software.",
         NULL,
         {{"target", "servicenow", "salesforce", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Vultr said it would pull out of the Brazilian market.",
         NULL,
         {{"market_exit", "vultr", NULL, NOV, NULL, NULL, "Brazil", NULL, NULL, NULL}}},
        {"Xiaomi owns 30 percent of Kingsoft Cloud.",
         NULL,
         {{"stake", "xiaomi", "kingsoft-cloud", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle is building a 200-megawatt campus in Ohio, next to one in Ashburn.",
         NULL,
         {{"datacenter", "oracle", NULL, NOV, NULL, NULL, "Ohio", NULL, NULL, NULL}}},
        {"Sify Technologies said revenue rose 27 percent to $412 million.",
         NULL,
         {{"revenue", "sify-technologies", NULL, 412e6, "USD", NULL, NULL, NULL, NULL, NULL},
          {"revenue_growth", "sify-technologies", NULL, 27, "percent", NULL, NULL, NULL, NULL,
           NULL}}},
        {"AWS held 30 percent of the market. Next came Alibaba, 4 percent, and Oracle, 3 "
         "percent.",
         NULL,
         {{"market_share", "alibaba", NULL, 4, "percent", NULL, NULL, NULL, NULL, NULL},
          {"market_share", "oracle", NULL, 3, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Naver posted sales of $2.9 billion, a 10 percent increase.",
         NULL,
         {{"revenue_growth", "naver", NULL, 10, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Microsoft pledged $3 billion for cloud infrastructure in India.",
         NULL,
         {{"investment", "microsoft", NULL, 3e9, "USD", NULL, "India", NULL, NULL, NULL}}},
        /* a count takes its own data-center noun, not every one in the sentence */
        {"OVHcloud operates 43 data centers and will open a colocation facility in Mumbai.",
         NULL,
         {{"datacenter", "ovhcloud", NULL, 43, "count", NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "ovhcloud", NULL, NOV, NULL, NULL, "Mumbai", NULL, NULL, NULL}}},
        {"Alibaba Cloud will close its data centers in Australia and India.",
         NULL,
         {{"market_exit", "alibaba-cloud", NULL, NOV, NULL, NULL, "Australia", NULL, NULL, NULL}}},
        {"Sakura Internet forecast sales of ¥47 billion; Naver Cloud had sales of ₩168 billion.",
         NULL,
         {{"revenue", "sakura-internet", NULL, 47e9, "JPY", NULL, NULL, NULL, NULL, NULL},
          {"revenue", "naver-cloud", NULL, 168e9, "KRW", NULL, NULL, NULL, NULL, NULL}}},
        {"Yotta Data Services, which is backed by the Hiranandani Group, opened a data center.",
         NULL,
         {{"stake", "hiranandani", "yotta-data-services", NOV, NULL, NULL, NULL, NULL, NULL,
           NULL}}},
        {"AWS held 31 percent of the cloud market. Baidu's cloud unit trailed in fourth place "
         "with 8 percent.",
         NULL,
         {{"market_share", "baidu-cloud", NULL, 8, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Amazon leads rivals with 33 percent of the cloud market.",
         NULL,
         {{"market_share", "amazon", NULL, 33, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle said revenue and profit rose to $14 billion.",
         NULL,
         {{"revenue", "oracle", NULL, 14e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        {"Yesterday Acme Holdings said it plans to invest $2 billion in Texas.",
         NULL,
         {{"investment", "acme", NULL, 2e9, "USD", NULL, "Texas", NULL, NULL, NULL}}},
        /* "About two years later": the years since a year named before fix the article's */
        {"Amazon entered India in 2014. About two years later, Amazon opened three data centers "
         "there last month.",
         NULL,
         {{"datacenter", "amazon", NULL, 3, "count", "2016", NULL, NULL, NULL, NULL}}},
        /* "the cloud unit" is of the company with one that the article names most */
        {"Google agreed to buy Looker. Google said Looker would keep its name. Looker has "
         "2,600 customers. Thomas Kurian, who runs the cloud unit, has vowed to catch up with "
         "Amazon Web Services.",
         NULL,
         {{"target", "google-cloud", "aws", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a blocked or abandoned deal is a negated claim: speculative */
        {"Oracle's attempt to buy Rackspace was blocked by regulators.",
         NULL,
         {{"acquisition", "oracle", "rackspace", NOV, NULL, NULL, NULL, "speculative", NULL,
           NULL}}},
        /* the negation is the deal's, not the sentence's or the previous one's */
        {"Microsoft will invest $3 billion in Mexico. It has shelved plans to build in Cuba.",
         NULL,
         {{"investment", "microsoft", NULL, 3e9, "USD", NULL, "Mexico", "planned", NULL, NULL}}},
        {"AWS will invest $10 billion in Ohio this year and hire 500 people there, but it has "
         "shelved plans to build in Oregon.",
         NULL,
         {{"investment", "aws", NULL, 10e9, "USD", NULL, "Ohio", "planned", NULL, NULL}}},
        {"Having shelved plans to build in Oregon and cut the team there last year, AWS will "
         "now invest $10 billion in Ohio.",
         NULL,
         {{"investment", "aws", NULL, 10e9, "USD", NULL, "Ohio", "planned", NULL, NULL}}},
        {"AWS bought an abandoned factory in Ohio and will invest $10 billion to turn it into "
         "data centers.",
         NULL,
         {{"investment", "aws", NULL, 10e9, "USD", NULL, NULL, "planned", NULL, NULL}}},
        /* "the cloud unit" of the company just named, when it has one */
        {"Amazon said AWS revenue rose. Amazon also said it would hire. Amazon shares rose 3 "
         "percent. Microsoft reported results on Tuesday. The cloud unit's revenue rose 20 "
         "percent to $25 billion in the second quarter of 2025.",
         NULL,
         {{"revenue", "azure", NULL, 25e9, "USD", NULL, NULL, NULL, NULL, NULL}}},
        /* counted by family: Google and Google Cloud are as many as Amazon, and first */
        {"Google agreed to buy Looker. Google Cloud will run it, and Google Cloud will grow. "
         "Amazon said it was not bidding. Amazon shares fell, and Amazon said more. Looker has "
         "2,600 customers. Thomas Kurian, who runs the cloud unit, has vowed to catch up with "
         "Microsoft Azure.",
         NULL,
         {{"target", "google-cloud", "azure", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"In 2026 Microsoft will invest $3 billion, a year earlier than planned.",
         NULL,
         {{"investment", "microsoft", NULL, 3e9, "USD", "2026", NULL, NULL, NULL, NULL}}},
        {"Oracle said revenue was $1 billion in the three months to June 15, 2025.",
         NULL,
         {{"revenue", "oracle", NULL, 1e9, "USD", "2025-06-15", NULL, NULL, NULL, NULL}}},
        /* periods as results are written: a quarter by its months or its end, a year
         * before the sentence's */
        {"Oracle said revenue was $412 million in Q3 2024, up from $300 million a year earlier.",
         NULL,
         {{"revenue", "oracle", NULL, 412e6, "USD", "2024-Q3", NULL, NULL, NULL, NULL},
          {"revenue", "oracle", NULL, 300e6, "USD", "2023-Q3", NULL, NULL, NULL, NULL}}},
        {"Oracle said revenue was $5 billion in the three months to September 30, 2024.",
         NULL,
         {{"revenue", "oracle", NULL, 5e9, "USD", "2024-Q3", NULL, NULL, NULL, NULL}}},
        {"Oracle said revenue was $9 billion in the six months to June 30, 2025.",
         NULL,
         {{"revenue", "oracle", NULL, 9e9, "USD", "2025-H1", NULL, NULL, NULL, NULL}}},
        {"Oracle said revenue rose 27 percent to $4 billion in the July-to-September quarter "
         "of 2024.",
         NULL,
         {{"revenue", "oracle", NULL, 4e9, "USD", "2024-Q3", NULL, NULL, NULL, NULL}}},
        /* three months that are no calendar quarter: the date */
        {"Oracle said revenue was $2 billion in the three months to August 31, 2025.",
         NULL,
         {{"revenue", "oracle", NULL, 2e9, "USD", "2025-08-31", NULL, NULL, NULL, NULL}}},
        /* the place after a second figure is that figure's */
        {"AWS will invest $5 billion this year, after $3 billion in Japan.",
         NULL,
         {{"investment", "aws", NULL, 5e9, "USD", NULL, "-", NULL, NULL, NULL}}},
        {"Google agreed to buy Leipzig-based hosting company Serverhaus.",
         NULL,
         {{"acquisition", "google", "serverhaus", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* "over three years in": a span, not "three years in" after 2021 (2024) */
        {"Tencent opened a data center in Jakarta in 2021. It will invest $500 million over "
         "three years in Indonesia. Tencent earned $2 billion last year.",
         NULL,
         {{"revenue", "tencent", NULL, 2e9, "USD", "-", NULL, NULL, NULL, NULL}}},
        /* a count broken down by place, "one" included */
        {"OVHcloud will build three data centres: two in Paris and one in Marseille.",
         NULL,
         {{"datacenter", "ovhcloud", NULL, 3, "count", NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "ovhcloud", NULL, 2, "count", NULL, "Paris", NULL, NULL, NULL},
          {"datacenter", "ovhcloud", NULL, 1, "count", NULL, "Marseille", NULL, NULL, NULL}}},
        {"Google opened a data center in Tokyo last year and is now launching one in Osaka.",
         NULL,
         {{"datacenter", "google", NULL, NOV, NULL, NULL, "Tokyo", NULL, NULL, NULL},
          {"datacenter", "google", NULL, NOV, NULL, NULL, "Osaka", NULL, NULL, NULL}}},
        {"Oracle opened two cloud regions in Japan, in Osaka and Tokyo.",
         NULL,
         {{"datacenter", "oracle", NULL, 2, "count", NULL, "Japan", NULL, NULL, NULL}}},
        /* a product's name does not lengthen its company's */
        {"Naver partnered with Amazon Elastic Compute Cloud to host its search engine.",
         NULL,
         {{"partnership", "naver", "amazon", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Alibaba runs 12 data centers; eight are outside of China.",
         NULL,
         {{"datacenter", "alibaba", NULL, 8, "count", NULL, "outside China", NULL, NULL, NULL}}},
        {"Oracle opened a cloud region in the city of Valdivia Monday.",
         NULL,
         {{"datacenter", "oracle", NULL, NOV, NULL, NULL, "Valdivia", NULL, NULL, NULL}}},
        {"Tencent Music Entertainment Group said revenue rose. Tencent opened a data center in "
         "Jakarta.",
         NULL,
         {{"datacenter", "tencent", NULL, NOV, NULL, NULL, "Jakarta", NULL, NULL, NULL}}},
        {"Equinix runs nine data centers in and around Tokyo, six of them near Osaka and "
         "four around Paris.",
         NULL,
         {{"datacenter", "equinix", NULL, 9, "count", NULL, "Tokyo", NULL, NULL, NULL},
          {"datacenter", "equinix", NULL, 6, "count", NULL, "Osaka", NULL, NULL, NULL},
          {"datacenter", "equinix", NULL, 4, "count", NULL, "Paris", NULL, NULL, NULL}}},
        /* a place the places table does not list, named by what kind of place it is */
        {"Oracle will open a cloud region in the coastal city of Valdivia.",
         NULL,
         {{"datacenter", "oracle", NULL, NOV, NULL, NULL, "Valdivia", NULL, NULL, NULL}}},
        {"Equinix is building a data centre in the Mumbai suburb of Airoli.",
         NULL,
         {{"datacenter", "equinix", NULL, NOV, NULL, NULL, "Airoli", NULL, NULL, NULL}}},
        /* "in Germany, in Frankfurt": the narrower place */
        {"DigitalOcean opened its third data center in Germany, in Frankfurt, last year.",
         NULL,
         {{"datacenter", "digitalocean", NULL, NOV, NULL, NULL, "Frankfurt", NULL, NULL, NULL}}},
        /* "site" and "campus" alone, once the article is about data centers */
        {"Vultr opened two data centers in May. It now runs 48 sites and is weighing a "
         "campus in Nevada.",
         NULL,
         {{"datacenter", "vultr", NULL, 48, "count", NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "vultr", NULL, NOV, NULL, NULL, "Nevada", NULL, NULL, NULL}}},
        {"Scaleway runs data centers in Paris. It plans to enter Italy and to power its future "
         "sites with wind.",
         NULL,
         {{"expansion", "scaleway", NULL, NOV, NULL, NULL, "Italy", NULL, NULL, NULL}}},
        /* a company's name written out in full is its id, and stays so in the article */
        {"Vultr Constant LLC opened a data center in Madrid. Vultr and Linode each hold under 1 "
         "percent of the cloud market.",
         NULL,
         {{"datacenter", "vultr-constant", NULL, NOV, NULL, NULL, "Madrid", NULL, NULL, NULL},
          {"market_share", "vultr-constant", NULL, 1, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Naver and Samsung Electronics jointly develop a chip for AI inference.",
         NULL,
         {{"partnership", "naver", "samsung-electronics", NOV, NULL, NULL, NULL, NULL, NULL,
           NULL}}},
        /* a gazetteer company's id is the alias the article first names it by */
        {"Digital Realty opened a data center in Lagos. Digital Realty Trust holds 4 percent "
         "of the colocation market.",
         NULL,
         {{"datacenter", "digital-realty", NULL, NOV, NULL, NULL, "Lagos", NULL, NULL, NULL},
          {"market_share", "digital-realty", NULL, 4, "percent", NULL, NULL, NULL, NULL, NULL}}},
        {"Equinix signed a partnership with Dell Technologies. Dell holds 9 percent of the "
         "server market.",
         NULL,
         {{"partnership", "equinix", "dell-technologies", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"market_share", "dell-technologies", NULL, 9, "percent", NULL, NULL, NULL, NULL, NULL}}},
        /* agreeing with a company to do something together */
        {"Equinix said it had agreed with Nokia to build edge sites in Finland.",
         NULL,
         {{"partnership", "equinix", "nokia", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a cloud region: "a region in", a count before cloud words */
        {"AWS opened a region in Chile.",
         NULL,
         {{"datacenter", "aws", NULL, NOV, NULL, NULL, "Chile", NULL, NULL, NULL}}},
        {"Vultr opened a data center in Texas. Vultr has 31 planned regions and 19 public cloud "
         "regions.",
         NULL,
         {{"datacenter", "vultr", NULL, 31, "count", NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "vultr", NULL, 19, "count", NULL, NULL, NULL, NULL, NULL}}},
        /* a provider's customers, named after the cue or before it */
        {"Vultr's 2,000 customers include Zoom and Netflix.",
         NULL,
         {{"customers", "vultr", NULL, 2000, "count", NULL, NULL, NULL, NULL, NULL},
          {"partnership", "vultr", "zoom", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"partnership", "vultr", "netflix", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Oracle recently signed up Zoom and Netflix as clients.",
         NULL,
         {{"partnership", "oracle", "zoom", NOV, NULL, NULL, NULL, NULL, NULL, NULL},
          {"partnership", "oracle", "netflix", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        {"Equinix runs data centers in Lagos. It counts Netflix among its customers.",
         NULL,
         {{"partnership", "equinix", "netflix", NOV, NULL, NULL, NULL, NULL, NULL, NULL}}},
        /* a city or state right before the cue says where */
        {"Equinix runs data centers in Asia. It trains models at its Osaka campus.",
         NULL,
         {{"datacenter", "equinix", NULL, NOV, NULL, NULL, "Osaka", NULL, NULL, NULL}}},
        {"OVHcloud signed a contract with Leipzig-based Brightfield Software to host its "
         "accounting systems.",
         NULL,
         {{"partnership", "ovhcloud", "brightfield-software", NOV, NULL, NULL, NULL, NULL, NULL,
           NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
    check_evidence("Equinix runs data centers in Asia. It trains models at its Osaka campus.",
                   "datacenter", "its Osaka campus");
    /* a country or region before the cue is a market, not where one stands */
    check_none("Equinix said European data centers are full. It said US data centres are too.",
               "datacenter");
    /* "one" is a count only in a breakdown; a single new one has none */
    check_not("Oracle runs data centers. It is building a campus in Ohio, next to one in "
              "Ashburn.",
              "datacenter", "oracle", 1);
    check_not("Google opened a data center in Tokyo and is now launching one in Osaka.",
              "datacenter", "google", 1);
    check_not("Google opened a data center in Tokyo, its first one in Asia.", "datacenter",
              "google", 1);
    check_not("Microsoft opened a data center in Dublin, the largest one in Europe.", "datacenter",
              "microsoft", 1);
    check_not("Amazon runs 30 data centers, and one in Virginia lost power last year.",
              "datacenter", "amazon", 1);
    check_not("Microsoft runs data centers in Dublin, and no one in Ireland minds.", "datacenter",
              "microsoft", 1);
    /* a list after ", in" is no narrower place (a row expects Japan) */
    check_count("Oracle opened two cloud regions in Japan, in Osaka and Tokyo.", "datacenter", 1);
    /* a place kind without a capitalized name, or a capitalized kind */
    check_none("Google opened a data center in the city of the future.", "datacenter");
    check_none("Microsoft described its data centers in its annual State of Sustainability "
               "report.",
               "datacenter");
    /* other sites and campuses in an article about data centers */
    check_not("Amazon opened a data center in Ohio. Amazon has 1,500 warehouse sites in Ohio.",
              "datacenter", "amazon", 1500);
    check_count("Google opened a data center in Finland. Its engineers work at 30 sites across "
                "Europe.",
                "datacenter", 1);
    /* a facility with a place is the data center an entry builds (decision 8) */
    check_none("Oracle runs data centers in Texas. It will enter India with a new facility in "
               "Mumbai.",
               "expansion");
    /* a subsidiary's full name, or a name given after the short one, renames no one */
    check_not("Intel Capital Corp invested $50 million. Intel reported revenue of $14 billion.",
              "revenue", "intel-capital", NOV);
    check_not("Hetzner opened a data center in Helsinki. Hetzner Online GmbH opened another. "
              "Hetzner holds 2 percent of the cloud market.",
              "market_share", "hetzner-online", NOV);

    /* agreeing with a view, or with no one named, is no partnership */
    check_none("Equinix agreed with Nokia that demand for edge sites is rising.", "partnership");
    check_none("Equinix agreed with Nokia's estimate of the market.", "partnership");
    check_none("Equinix and Nokia agreed with regulators to publish their power use.",
               "partnership");
    /* a part of the world is no cloud region */
    check_none("AWS said demand rose in a region where power is scarce.", "datacenter");
    check_none("AWS sells public cloud services in 12 regions of Europe.", "datacenter");
    /* a region in a place is a data center only where one is made or had */
    check_not("AWS opened a data center in Ohio. Oracle said revenue rose in a region in Asia.",
              "datacenter", "oracle", NOV);
    check_not("AWS opened a data center in Ohio. Vultr hired 40 people in a region in Chile.",
              "datacenter", "vultr", NOV);
    check_not("AWS opened a data center in Ohio. Oracle merged its 12 sales regions into eight.",
              "datacenter", "oracle", 12);
    /* a customer lost, followed or courted is no partnership, nor one the provider serves */
    check_none("Oracle lost Zoom as a customer last year.", "partnership");
    check_none("Netflix followed Zoom as a customer of AWS.", "partnership");
    check_none("Zoom signed up with Oracle as a customer.", "partnership");
    check_none("Oracle is courting customers such as Netflix and Zoom.", "partnership");
    check_not("Vultr signed a contract to supply capacity to Netflix, and counts Zoom among its "
              "customers.",
              "partnership", "netflix", NOV);
    /* "as customers" still counts them */
    {
        const row_t count_rows[] = {
            {"Oracle signed up 500 startups as customers last year.",
             NULL,
             {{"customers", "oracle", NULL, 500, "count", NULL, NULL, NULL, NULL, NULL}}}};
        check_rows(count_rows, 1);
    }
    /* agreeing to undo something is no partnership */
    check_none("Equinix agreed with Nokia to settle their patent lawsuit.", "partnership");
    /* a customer named apart from the cue is none of the sentence's */
    check_none("Microsoft, as a customer of Nvidia, buys many of its chips.", "partnership");
    check_count("Oracle signed up Zoom as a customer.", "partnership", 1);
    check_none("Oracle praised Zoom warmly as a customer-first company.", "partnership");
    /* a suffix is no part of the name, and a name the slug cannot spell keeps its id */
    check_not("Carlyle Group bought a stake in Equinix.", "stake", "carlyle-group", NOV);
    check_not("Telefónica opened a data center in Madrid.", "datacenter", "telef-nica", NOV);
    /* an abbreviation stands for the name: TIM is Telecom Italia */
    check_not("TIM opened a data center in Rome.", "datacenter", "tim", NOV);
    /* ids GUIDELINES lists, and companies with a cloud unit, keep their id */
    check_not("Amazon.com opened a data center in Ohio.", "datacenter", "amazon-com", NOV);
    /* a company's later, other names take its first one's id */
    check_not("Digital Realty Trust opened a data center in Lagos. Digital Realty holds 4 "
              "percent of the colocation market.",
              "market_share", "digital-realty", NOV);
    check_not("Salesforce.com opened a data center in Seoul.", "datacenter", "salesforce-com", NOV);
    check_not("Alibaba Group Holding opened a data center in Seoul.", "datacenter",
              "alibaba-group-holding", NOV);
    /* a suffix after a company with a cloud unit names a sibling once, not the parent */
    check_not("Tencent Music Entertainment Group said revenue rose. Tencent opened a data "
              "center in Jakarta.",
              "datacenter", "tencent-music-entertainment", NOV);
    /* a site is no data center until the article has named one */
    check_none("Salesforce is weighing a site in Nevada for its new offices.", "datacenter");
    check_not("Quillfeather Inc., a Denver startup that resells Microsoft and Google capacity "
              "to game studios, filed for an initial public offering on the Nasdaq.",
              "ipo", "google", NOV);
    check_not("Rackspace holds 2 percent of the European market, against 31 percent for Amazon "
              "Web Services.",
              "market_share", "rackspace", 31);
    /* a ranking goes on, a price cut does not */
    check_not("AWS held 30 percent of the market. Oracle cut its storage prices by 9 percent.",
              "market_share", "oracle", NOV);
    check_none("The combined share of AWS, Azure and Google Cloud reached 65 percent of the "
               "market.",
               "market_share");
    check_none("Voltara Ltd. posted a net loss of $120 million in 2024.", "revenue");
    check_none("Alibaba Cloud will close its data centers in Australia and India.", "datacenter");
    /* words that are only sometimes about data centers, listings, bids and partners */
    check_none("Intel operates four chip facilities in Arizona.", "datacenter");
    check_none("Microsoft models are now listed on AWS Marketplace.", "ipo");
    check_none("Microsoft floated the idea of a cheaper tier.", "ipo");
    check_none("Amazon cut 10,000 jobs at a cost of $1.2 billion.", "investment");
    check_none("Oracle lost its bid for the Pentagon contract.", "acquisition");
    check_none("AWS is in discussions with the Pentagon about a cloud contract.", "partnership");
    check_none("Vodafone said the merger would leave the Indian market with three operators.",
               "market_exit");
    /* a ranking goes on for two sentences, and only for a company's percent */
    static const char ranking[] = "AWS held 31 percent of the cloud market. Oracle's operating "
                                  "margin stood at 42 percent. Discounts of 10 percent for "
                                  "Microsoft customers are common.";
    check_not(ranking, "market_share", "oracle", 42);
    check_not(ranking, "market_share", "microsoft", 10);
    check_not("AWS held 31 percent of the cloud market. IBM ended the year with 40 percent of its "
              "staff working remotely.",
              "market_share", "ibm", 40);
    check_not("AWS held 31 percent of the cloud market. Prices fell. Costs rose. Behind AWS came "
              "Oracle with three percent.",
              "market_share", "oracle", 3);
    /* a first word alone is the company only where it reads as one */
    check_not("Nordic Data AS said it will expand. Nordic countries host 150 data centers.",
              "datacenter", "nordic-data", 150);
    /* a stake is in a company, not in its customers, and not in "the company" */
    check_none("Google owns 20 percent of Amazon's cloud customers.", "stake");
    check_none("Xiaomi sold 12 percent of Kingsoft Cloud in 2024.",
               "stake");
    check_none("Voltstack filed for an IPO. Nvidia owns 6 percent of the company.", "stake");
    check_not("Kingsoft Cloud lost 1.1 billion yuan in 2019 on revenue of 3.9 billion yuan.",
              "revenue", "kingsoft-cloud", 1.1e9);
    /* the plural subject is nobody the article named */
    check_none("AWS opened an office in Spain. It says hyperscale operators run more than 1,000 "
               "large data centers.",
               "datacenter");
    /* megawatts are a campus's capacity, not a count of data centers */
    check_not("Acme Data Inc. opened a 36MW campus in Norway and a 40-megawatt campus in Oslo.",
              "datacenter", "acme-data", 36);
    check_not("Acme Data Inc. opened a 36MW campus in Norway and a 40-megawatt campus in Oslo.",
              "datacenter", "acme-data", 40);
    /* a minority stake bought is no takeover */
    check_none("SoftBank acquired a minority stake in Nimbus Cloud Ltd.", "acquisition");
    /* one product, one fact; a comparison of figures is no product */
    check_count("IBM introduced Granite Cloud, a rival to Microsoft Copilot.", "offering", 1);
    check_none("Tencent Cloud's IaaS revenue is now comparable with Huawei Cloud's.", "offering");
    check_none("Alibaba Cloud cut prices in the cloud storage market to undercut AWS.", "offering");
    /* a region is a part of the world unless a cloud provider opens or counts it */
    check_none("Cloud spending in the region rose. Azure sales in the Asia-Pacific region and "
               "in that region's south grew.",
               "datacenter");
    check_none("Azure revenue grew in 14 of 20 markets. Alibaba Cloud sells in the Gulf region.",
               "datacenter");
    check_none("Acme Foods Inc. opened 12 stores in three regions.", "datacenter");
    check_none("AWS said sales rose in all regions, led by North America.", "datacenter");
    check_none("Huawei Cloud is popular in Africa, a region where Chinese vendors lead.",
               "datacenter");
    check_none("Alibaba Cloud leads in China; outside of that region, it trails AWS in Europe.",
               "datacenter");
    check_none("Oracle Cloud sells in 12 regions of Europe through resellers.", "datacenter");
    check_none("Equinix sees cloud demand in regions such as Africa.", "datacenter");
    check_none("Alibaba Cloud sells in most regions in Asia and in other regions in Europe.",
               "datacenter");
    check_none("Azure opened an office in the Asia-Pacific region in Sydney.", "datacenter");
    /* a place the places list does not know, right after the data centers' "in" */
    static const row_t unlisted[] = {
        {"AWS now has three availability zones in Aragon.",
         NULL,
         {{"datacenter", "aws", NULL, 3, "count", NULL, "Aragon", NULL, NULL, NULL}}},
        {"Equinix opened a data center near Valdora Springs last year.",
         NULL,
         {{"datacenter", "equinix", NULL, NOV, NULL, NULL, "Valdora Springs", NULL, NULL, NULL}}},
    };
    check_rows(unlisted, sizeof unlisted / sizeof *unlisted);
    check_none("Equinix opened a data center in the Valdora hills.", "datacenter");
    check_none("Equinix opened a data center in May.", "datacenter");
    check_not("Equinix operates 260 data centers in three regions: the Americas, EMEA and Asia.",
              "datacenter", "equinix", 3);
    check_none("Equinix opened a data center in Oracle's old office.", "datacenter");
    /* the regions where counted data centers are count too (tests/corpus-fresh's call:
     * a cloud region is a data center) */
    static const row_t regions[] = {
        {"Vultr operates 32 data centers in 19 regions.",
         NULL,
         {{"datacenter", "vultr", NULL, 32, "count", NULL, NULL, NULL, NULL, NULL},
          {"datacenter", "vultr", NULL, 19, "count", NULL, NULL, NULL, NULL, NULL}}},
        {"Amazon Web Services runs data centers across its 33 regions.",
         NULL,
         {{"datacenter", "aws", NULL, 33, "count", NULL, NULL, NULL, NULL, NULL}}},
    };
    check_rows(regions, sizeof regions / sizeof *regions);
    check_none("Microsoft cut 1,000 jobs in the region at a cost of $200 million.", "investment");
    /* a name the extractor does not know is owned, not the company named before */
    check_none("AWS opened an office. Ardenne, which is owned by Orange, sells cloud services.",
               "stake");
    check_not("Digital Realty formed a joint venture with Blackstone to build four data centers "
              "in Virginia.",
              "datacenter", "blackstone", NOV);
    check_none("Oracle and OpenAI were jointly fined by regulators.", "partnership");
    check_not("Oracle, together with OpenAI and SoftBank, will build 10 data centers in Texas.",
              "datacenter", "softbank", NOV);
    check_none("In 2023, Brazil, a key market for cloud providers, got 12 new data centers.",
               "datacenter");
    check_none("In Asia, Singapore, a startup hub, will allow 4 new data centers.", "datacenter");
    check_not("Google Cloud sells AI. On Tuesday, Gemini, the flagship model of the company, "
              "reached 400 million users.",
              "customers", "gemini", NOV);
    check_not("Google Cloud sells AI. On Tuesday, Gemini, the company's flagship model, reached "
              "400 million users.",
              "customers", "gemini", NOV);
    check_not("Quillon, a cloud provider backed by Macquarie and Telstra's former chief, opened a "
              "data center in Perth.",
              "stake", "telstra", NOV);
    check_none("Talks on a deal between Broadcom and VMware dragged on.", "partnership");
    check_none("The chip, jointly developed by TSMC and Broadcom, ships next year.", "partnership");
    check_not("NextDC opened a data center in Macquarie Park, Sydney.", "datacenter", "macquarie",
              NOV);
    /* 30 percent of the market is a share, not a stake in anyone */
    check_none("Xiaomi owns 30 percent of the smartphone market in India.", "stake");
}

static void
test_negatives(void)
{
    check_none("Huawei earned 35 percent of its revenue in Europe.", "market_share");
    check_none("The founder, 52, has 3 children and 2 dogs.", "customers");
    check_none("How could IBM start acquiring Western customers?", "acquisition");
    check_none("The report runs to 120 pages and was written in 2014.", "datacenter");
    check_none("In 2014, prices fell 30 percent.", "revenue_growth");
}

/* ------------------------------------------------------------------------ */
/* hostile input: steps are not timed, but these must finish and stay valid */

static void
test_hostile(void)
{
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    CF_CHECK_INT(extract("abc\xff", 4, NULL, &facts, &cls), CF_EINVAL);
    CF_CHECK_INT(extract("\xc0\xaf", 2, NULL, &facts, &cls), CF_EINVAL);
    CF_CHECK_INT(facts.n, 0);
    CF_CHECK_INT(extract("", 0, NULL, &facts, &cls), CF_OK);
    CF_CHECK_INT(extract(" \n\t\xc2\xa0 ", 6, NULL, &facts, &cls), CF_OK);
    CF_CHECK_INT(extract(".", 1, NULL, &facts, &cls), CF_OK);
    CF_CHECK_INT(extract("AWS\0AWS has 5 data centers", 26, NULL, &facts, &cls), CF_OK);
    CF_CHECK_INT(facts.n, 1);
    cf_facts_clear(&facts);
    /* a detail is a normalized phrase: the text's tab, no-break and em spaces are
     * one space each there (the evidence keeps the text as written) */
    const char *spaced = "Dell opened its fourth\t cloud\xc2\xa0region in Mexico. Microsoft "
                         "vowed to\xe2\x80\x83overtake AWS by 2030.";
    CF_CHECK_INT(extract(spaced, strlen(spaced), NULL, &facts, &cls), CF_OK);
    CF_CHECK_INT(facts.n, 2);
    CF_CHECK_STR(facts.v[0].detail, "fourth cloud region");
    CF_CHECK(strstr(facts.v[0].evidence, "fourth\t cloud\xc2\xa0region") != NULL);
    CF_CHECK_STR(facts.v[1].detail, "overtake");
    cf_facts_clear(&facts);

    const char *scale_env = getenv("CF_TEST_SCALE");
    double scale = scale_env ? atof(scale_env) : 1;
    if (!(scale > 0))
        scale = 1;
    /* a 1 MB line without punctuation */
    size_t n = (size_t)(1024 * 1024 * scale);
    if (n > CF_MAX_BODY)
        n = CF_MAX_BODY;
    char *big = cf_malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        big[i] = "Alibaba cloud data center "[i % 26];
    big[n] = '\0';
    CF_CHECK_INT(extract(big, n, NULL, &facts, &cls), CF_OK);
    cf_facts_clear(&facts);
    /* 10,000 digits, and money with them */
    memset(big, '9', 10000);
    memcpy(big, "AWS earned $", 12);
    big[10000] = '\0';
    CF_CHECK_INT(extract(big, 10000, NULL, &facts, &cls), CF_OK);
    CF_CHECK_INT(facts.n, 0);
    cf_facts_clear(&facts);
    /* deep parentheses */
    n = (size_t)(200000 * scale);
    for (size_t i = 0; i < n; i++)
        big[i] = i < n / 2 ? '(' : ')';
    CF_CHECK_INT(extract(big, n, NULL, &facts, &cls), CF_OK);
    cf_facts_clear(&facts);
    /* many facts: capped */
    const char *s = "AWS has 5 data centers in Japan. ";
    size_t sl = strlen(s);
    n = (size_t)(4u * 1024 * 1024 * scale);
    if (n > CF_MAX_BODY)
        n = CF_MAX_BODY;
    if (n < sl * 2)
        n = sl * 2;
    char *many = cf_malloc(n + 1);
    size_t w = 0;
    for (unsigned k = 0; w + 64 < n; k++)
        w += (size_t)snprintf(many + w, n + 1 - w, "AWS has %u data centers in Japan. ", k + 2);
    CF_CHECK_INT(extract(many, w, NULL, &facts, &cls), CF_OK);
    CF_CHECK(facts.n > 0 && facts.n <= CF_MAX_FACTS);
    cf_facts_clear(&facts);
    /* a body the daemon would not take is refused, not worked on (~50 bytes of
     * memory per byte) */
    char *huge = cf_malloc(CF_MAX_BODY + 1);
    memset(huge, 'a', CF_MAX_BODY + 1);
    CF_CHECK_INT(extract(huge, CF_MAX_BODY + 1, NULL, &facts, &cls), CF_ETOOBIG);
    CF_CHECK_INT(facts.n, 0);
    free(huge);
    /* one fact repeated thousands of times does not use up the cap: the distinct
     * fact after the repeats is found; and the merging on the way leaves the last
     * sentence's facts to the next one, whose doubt still reaches them (the
     * vow is the 1,000th fact: merging runs right after its sentence) */
    for (int doubt = 0; doubt < 2; doubt++) {
        w = 0;
        for (unsigned k = 0; k < (doubt ? 999u : 3000u); k++)
            w += (size_t)snprintf(many + w, n + 1 - w, "HP bought BT. ");
        w += (size_t)snprintf(many + w, n + 1 - w, "%s",
                              doubt ? "Microsoft vowed to overtake AWS by 2030. That seems "
                                      "unlikely."
                                    : "AWS has 5 data centers in Japan.");
        CF_CHECK_INT(extract(many, w, NULL, &facts, &cls), CF_OK);
        CF_CHECK_INT(facts.n, 2);
        CF_CHECK_STR(facts.v[0].type, "acquisition");
        CF_CHECK_STR(facts.v[1].type, doubt ? "target" : "datacenter");
        if (doubt)
            CF_CHECK_STR(facts.v[1].status, "speculative");
        cf_facts_clear(&facts);
    }
    free(many);
    free(big);
    cf_class_clear(&cls);
}

/* ------------------------------------------------------------------------ */
/* the tokenizer's and recognizers' fast paths (ASCII runs, integer digits, month
 * forms by length, cue and gazetteer lookups memoized per token) give what the
 * general paths give */

static void
test_fast_paths(void)
{
    static const row_t rows[] = {
        /* month forms: abbreviation, "Sept", full name */
        {"Amazon invested $2 billion in Germany in Sept 2015.", NULL,
         {{"investment", "amazon", NULL, 2e9, "USD", "2015-09", "Germany", NULL, NULL, NULL}}},
        {"Microsoft invested $1234567890123 in France in Jan 2016.", NULL,
         {{"investment", "microsoft", NULL, 1234567890123.0, "USD", "2016-01", "France", NULL,
           NULL, NULL}}},
        /* more than 15 digits: converted as a decimal string, not as an integer */
        {"Oracle earned $12345678901234567 in fiscal 2017.", NULL,
         {{"revenue", "oracle", NULL, 12345678901234567.0, "USD", "FY2017", NULL, NULL, NULL,
           NULL}}},
        /* digit groups and a decimal point after an ASCII run */
        {"DigitalOcean now serves 1,234,567 customers and Box 2.5 million.", NULL,
         {{"customers", "digitalocean", NULL, 1234567, "count", NULL, NULL, NULL, NULL, NULL}}},
        /* a word longer than a token's normalized text is cut, the sentence goes on */
        {"The Zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
         "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
         "zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz "
         "and IBM invested $5 million in Japan in December 2014.",
         NULL,
         {{"investment", "ibm", NULL, 5e6, "USD", "2014-12", "Japan", NULL, NULL, NULL}}},
        /* typographic apostrophe and quotes around ASCII runs, a hyphenated cue */
        {"\u201cAlibaba\u2019s cloud runs 16 data-centers in China,\u201d it said.", NULL,
         {{"datacenter", "alibaba-cloud", NULL, 16, "count", NULL, "China", NULL, NULL, NULL}}},
    };
    check_rows(rows, sizeof rows / sizeof *rows);
}

/* ------------------------------------------------------------------------ */
/* a sentence longer than CF_SENTENCE_MAX is cut at its last whitespace (when that
 * keeps half the cap), whatever the whitespace and wherever it falls: the splitter
 * reads plain bytes 16 at a time and looks back for the space only at the cut */

/* The end of the first sentence of b[0:len) (no . ! ? or line break in it), code
 * point by code point as the rule reads. */
static size_t
cut_reference(const char *b, size_t len)
{
    size_t i = 0, last = 0, e = len;
    while (i < len) {
        size_t k = i;
        uint32_t cp = cf_token_decode(b, len, &k);
        if (cf_token_is_space(cp))
            last = i;
        if (k > CF_SENTENCE_MAX) {
            e = last > CF_SENTENCE_MAX / 2 ? last : i;
            break;
        }
        i = k;
    }
    while (e > 0) { /* trailing whitespace */
        size_t c = e - 1;
        while (c > 0 && ((unsigned char)b[c] & 0xc0) == 0x80)
            c--;
        size_t k = c;
        if (!cf_token_is_space(cf_token_decode(b, len, &k)))
            break;
        e = c;
    }
    return e;
}

static void
test_sentence_cut(void)
{
    static const char *const seps[] = {" ", " ", "  ", "\t", "\xc2\xa0", "\xe2\x80\x83", "\v"};
    static const char *const letters[] = {"a", "B", "7", "\xc3\xa9", "x"};
    uint32_t seed = 12345;
    char *buf = cf_malloc(4 * CF_SENTENCE_MAX);
    for (int round = 0; round < 400; round++) {
        size_t n = 0, want = CF_SENTENCE_MAX + 1 + (size_t)round % 300;
        int word = 0;
        while (n < want) {
            seed = seed * 1103515245u + 12345u;
            unsigned r = seed >> 16;
            /* long words now and then: the cut may fall in one, or before half the cap */
            const char *piece = n > 0 && r % (round % 5 == 0 ? 200 : 6) == 0
                                    ? seps[(r / 7) % (sizeof seps / sizeof *seps)]
                                    : letters[(r / 7) % (sizeof letters / sizeof *letters)];
            if (n == 0 && word == 0)
                piece = "A";
            size_t pl = strlen(piece);
            memcpy(buf + n, piece, pl);
            n += pl;
            word++;
        }
        size_t pos = 0, start = 0, end = 0;
        CF_CHECK(cf_sentence_next(buf, n, &pos, &start, &end));
        CF_CHECK_INT(start, 0);
        CF_CHECK_INT(end, cut_reference(buf, n));
    }
    free(buf);
}

/* ------------------------------------------------------------------------ */
/* linearity: work is counted (cf_steps), never timed */

static double
test_scale(void)
{
    const char *env = getenv("CF_TEST_SCALE");
    double scale = env ? atof(env) : 1;
    return scale > 0 ? scale : 1;
}

/* Fills buf[0:n) by repeating pat; a last, partial repeat becomes spaces so that
 * no UTF-8 sequence is cut. */
static void
fill(char *buf, size_t n, const char *pat)
{
    size_t pl = strlen(pat);
    size_t whole = n - n % pl;
    for (size_t i = 0; i < n; i++)
        buf[i] = i < whole ? pat[i % pl] : ' ';
}

/* Steps of one extraction of body[0:n); the result code must be want. */
static uint64_t
steps_of(const char *body, size_t n, int want)
{
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    cf_steps_reset();
    int rc = extract(body, n, NULL, &facts, &cls);
    uint64_t steps = cf_steps_read();
    CF_CHECK_INT(rc, want);
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
    return steps;
}

static const char ordinary_text[] =
    "Amazon Web Services brought in $4.6 billion in the third quarter, up 42 percent from a "
    "year earlier, the company said on Thursday. Microsoft, its closest rival, plans to open "
    "two data centers in Germany next year and is in talks to buy a small analytics startup. "
    "According to Synergy Research Group, AWS holds about a third of the cloud infrastructure "
    "market, while Google has 8 percent. The company now has more than 1.2 million "
    "customers.\n";

static void
test_linear(void)
{
    size_t n = (size_t)(1024 * 1024 * test_scale());
    if (n > CF_MAX_BODY)
        n = CF_MAX_BODY;
    char *buf = cf_malloc(n + 1);
    fill(buf, n, ordinary_text);
    uint64_t base = steps_of(buf, n, CF_OK);
    double per_byte = (double)base / (double)n;
    CF_CHECK(per_byte > 0.5 && per_byte < 200);
    /* every hostile body costs at most K times the steps per byte of ordinary text
     * (one-byte tokens such as ".)" cost about 4 times), and doubling it at most
     * doubles the steps */
    const double K = 6;
    static const struct {
        const char *name;
        const char *pat;
    } cases[] = {
        {"digits", "9"},
        {"digit groups", "1,234.5"},
        {"no spaces", "AlibabaCloud,AWS.data-center$5B(28%)"},
        {"one company", "Alibaba "},
        {"one company, possessive", "Alibaba's cloud "},
        {"numbers", "$5 billion, 28% and 16 "},
        {"cue words", "plans to acquire and partner with data centers in "},
        {"places", "Japan, China and "},
        {"quotes and parentheses", "(\"(\u201c"},
        {"dots", ". "},
        {"closers", ".)"},
        {"one word", "a"},
        /* a trigger whose object is every name before it: the subject search passes
         * over each (it once slid back through the whole sentence) */
        {"a company buying itself", "HP buy HP "},
        {"a chain of ranges", "1-"},
        {"a chain of ranges in words", "1 to "},
        {"a chain of amounts", "$1 to "},
        {"acquirer and target alike", "AWS bought AWS, "},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        fill(buf, n, cases[c].pat);
        uint64_t full = steps_of(buf, n, CF_OK);
        uint64_t half = steps_of(buf, n / 2, CF_OK);
        double r = (double)full / (double)n;
        if (getenv("CF_TEST_VERBOSE") || r > K * per_byte || full > 2 * half + half / 4 + 10000)
            fprintf(stderr, "linear: %s: %.2f steps/byte (ordinary text %.2f), %llu vs %llu "
                    "for half\n", cases[c].name, r, per_byte, (unsigned long long)full,
                    (unsigned long long)half);
        CF_CHECK(r <= K * per_byte);
        CF_CHECK(full <= 2 * half + half / 4 + 10000);
    }
    /* invalid UTF-8 is rejected after one pass over the bytes */
    fill(buf, n, ordinary_text);
    buf[n - 1] = (char)0xff;
    uint64_t bad = steps_of(buf, n, CF_EINVAL);
    CF_CHECK(bad <= n + 16);
    buf[0] = (char)0xc0;
    CF_CHECK(steps_of(buf, n, CF_EINVAL) <= n + 16);
    free(buf);
}

static void
test_data_errors(void)
{
    char dir[] = "/tmp/cf_extract_test_XXXXXX";
    CF_CHECK(mkdtemp(dir) != NULL);
    char path[512];
    snprintf(path, sizeof path, "%s/gazetteer.tsv", dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "# a comment\n\naws\tunit\tamazon\tAWS\namazon\tcompany\t-\tAmazon\n"
               "broken\tcompany\n");
    fclose(f);
    cf_err_t err = {0};
    cf_extractor_t *x = cf_extract_new(dir, &err);
    CF_CHECK(x == NULL);
    CF_CHECK(strstr(err.text, "gazetteer.tsv:5:") != NULL);
    CF_CHECK(strstr(err.text, "expected 4 tab-separated fields") != NULL);
    /* a missing file */
    f = fopen(path, "w");
    fprintf(f, "amazon\tcompany\t-\tAmazon\n");
    fclose(f);
    x = cf_extract_new(dir, &err);
    CF_CHECK(x == NULL);
    CF_CHECK(strstr(err.text, "places.tsv") != NULL);
    /* a bad cue category */
    snprintf(path, sizeof path, "%s/places.tsv", dir);
    f = fopen(path, "w");
    fprintf(f, "Japan\tcountry\tJapan\n");
    fclose(f);
    snprintf(path, sizeof path, "%s/cues.tsv", dir);
    f = fopen(path, "w");
    fprintf(f, "share\t-\tmarket share\nbogus\t-\tword\n");
    fclose(f);
    x = cf_extract_new(dir, &err);
    CF_CHECK(x == NULL);
    CF_CHECK(strstr(err.text, "cues.tsv:2:") != NULL);
    /* a good minimal set loads */
    f = fopen(path, "w");
    fprintf(f, "share\t-\tmarket share\n");
    fclose(f);
    x = cf_extract_new(dir, &err);
    CF_CHECK(x != NULL);
    cf_extract_destroy(&x);
    /* refused, with file:line and why, rather than cut, misread or skipped: */
#define NUL_LINE "share\t-\tmarket share\nscale\t1000\tthou\0sand\n"
    static const struct {
        const char *file, *text, *why;
        size_t len; /* 0: strlen(text) */
    } bad[] = {
        /* names the extractor could not carry whole */
        {"gazetteer.tsv",
         "amazon\tcompany\t-\tAmazon\n"
         "a-company-whose-id-runs-on-for-more-than-fifty-bytes\tcompany\t-\tLongco\n",
         "gazetteer.tsv:2: an id longer than 48 bytes", 0},
        {"places.tsv",
         "Japan\tcountry\tJapan\nThe Very Long Named Autonomous Region of Somewhere\tregion\tX\n",
         "places.tsv:2: a place name longer than 48 bytes", 0},
        {"cues.tsv", "market\tcloud infrastructure and platform services for small businesses\tx\n",
         "cues.tsv:1: a market name longer than 48 bytes", 0},
        /* numbers strtod reads but a figure cannot be */
        {"cues.tsv", "scale\tinf\tzillion\n", "cues.tsv:1: expected a positive number", 0},
        {"cues.tsv", "scale\t0x10\tsixteenish\n", "cues.tsv:1: expected a positive number", 0},
        /* a NUL byte would have ended the line in silence */
        {"cues.tsv", NUL_LINE, "cues.tsv:2: a NUL byte", sizeof NUL_LINE - 1},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char saved_path[512];
        snprintf(saved_path, sizeof saved_path, "%s/%s", dir, bad[i].file);
        size_t keep_len = 0;
        char *keep = slurp(saved_path, &keep_len);
        CF_CHECK(keep != NULL);
        f = fopen(saved_path, "w");
        fwrite(bad[i].text, 1, bad[i].len ? bad[i].len : strlen(bad[i].text), f);
        fclose(f);
        x = cf_extract_new(dir, &err);
        CF_CHECK(x == NULL);
        if (!strstr(err.text, bad[i].why))
            fprintf(stderr, "data error %zu: '%s', expected '%s'\n", i, err.text, bad[i].why);
        CF_CHECK(strstr(err.text, bad[i].why) != NULL);
        cf_extract_destroy(&x);
        f = fopen(saved_path, "w");
        fwrite(keep, 1, keep_len, f);
        fclose(f);
        free(keep);
    }
#undef NUL_LINE
    x = cf_extract_new(dir, &err);
    CF_CHECK(x != NULL);
    cf_extract_destroy(&x);
    CF_CHECK(x == NULL);
    cf_extract_destroy(&x);
    const char *files[] = {"gazetteer.tsv", "places.tsv", "cues.tsv"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        unlink(path);
    }
    rmdir(dir);
    /* data directory choice */
    CF_CHECK_STR(cf_extract_data_dir("/x"), "/x");
    const char *old = getenv("CLOUDFACT_DATA");
    char *saved = old ? cf_strdup(old) : NULL;
    setenv("CLOUDFACT_DATA", "/some/where", 1);
    CF_CHECK_STR(cf_extract_data_dir(NULL), "/some/where");
    unsetenv("CLOUDFACT_DATA");
    CF_CHECK(cf_extract_data_dir(NULL) != NULL);
    if (saved)
        setenv("CLOUDFACT_DATA", saved, 1);
    free(saved);
}

/* What the worker does on SIGHUP: a second cf_extract_new on the (edited) data dir.
 * A bad file is refused with file:line and the extractor already loaded keeps
 * working; once fixed, the new data loads and is used. */
static void
test_reload(void)
{
    char dir[] = "/tmp/cf_extract_reload_XXXXXX";
    CF_CHECK(mkdtemp(dir) != NULL);
    const char *files[] = {"gazetteer.tsv", "places.tsv", "cues.tsv"};
    char src[1024], dst[1024];
    for (size_t i = 0; i < 3; i++) {
        snprintf(src, sizeof src, "%s/%s", cf_extract_data_dir(NULL), files[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        size_t len;
        char *text = slurp(src, &len);
        CF_CHECK(text != NULL);
        FILE *f = fopen(dst, "w");
        CF_CHECK(f != NULL);
        if (f && text)
            fwrite(text, 1, len, f);
        if (f)
            fclose(f);
        free(text);
    }
    cf_err_t err = {0};
    cf_extractor_t *old = cf_extract_new(dir, &err);
    CF_CHECK(old != NULL);
    /* an analyst adds a company, with a typo: one field short */
    snprintf(dst, sizeof dst, "%s/gazetteer.tsv", dir);
    FILE *f = fopen(dst, "a");
    fprintf(f, "zephyr-cloud\tcompany\tZephyr Cloud\n");
    fclose(f);
    cf_extractor_t *bad = cf_extract_new(dir, &err);
    CF_CHECK(bad == NULL);
    CF_CHECK(strstr(err.text, "gazetteer.tsv:") != NULL);
    CF_CHECK(strstr(err.text, "expected 4 tab-separated fields") != NULL);
    const char *body = "Zephyr Cloud has 12 data centers in Japan.";
    cf_article_t a = {0};
    a.title = "";
    a.body = (char *)body;
    a.body_len = strlen(body);
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    CF_CHECK_INT(cf_extract_article(old, &a, &facts, &cls, &err), CF_OK); /* old rules */
    cf_facts_clear(&facts);
    /* fixed: the new file loads and names the company */
    char *text = NULL;
    size_t len = 0;
    text = slurp(dst, &len);
    CF_CHECK(text != NULL);
    if (text) {
        char *bad_line = strstr(text, "zephyr-cloud\tcompany\tZephyr Cloud\n");
        CF_CHECK(bad_line != NULL);
        if (bad_line) {
            *bad_line = '\0';
            f = fopen(dst, "w");
            fprintf(f, "%szephyr-cloud\tcompany\t-\tZephyr Cloud\n", text);
            fclose(f);
        }
    }
    free(text);
    cf_extractor_t *fresh = cf_extract_new(dir, &err);
    CF_CHECK(fresh != NULL);
    if (fresh) {
        CF_CHECK_INT(cf_extract_article(fresh, &a, &facts, &cls, &err), CF_OK);
        CF_CHECK(facts.n >= 1);
        if (facts.n >= 1)
            CF_CHECK_STR(facts.v[0].subject, "zephyr-cloud");
        cf_facts_clear(&facts);
    }
    cf_class_clear(&cls);
    cf_extract_destroy(&fresh);
    cf_extract_destroy(&old);
    for (size_t i = 0; i < 3; i++) {
        snprintf(dst, sizeof dst, "%s/%s", dir, files[i]);
        unlink(dst);
    }
    rmdir(dir);
}

static void
test_classify(void)
{
    const char *t = "AWS and Azure lead the cloud market. AWS has 25 data centers in Europe.";
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    CF_CHECK_INT(extract(t, strlen(t), NULL, &facts, &cls), CF_OK);
    CF_CHECK(cls.relevant);
    CF_CHECK(cls.relevance > 0.5 && cls.relevance <= 1);
    CF_CHECK(cls.ncompanies >= 2);
    if (cls.ncompanies >= 1)
        CF_CHECK_STR(cls.companies[0], "aws");
    CF_CHECK(cls.nregions >= 1);
    cf_facts_clear(&facts);
    const char *u = "The weather was mild and the garden party went well.";
    CF_CHECK_INT(extract(u, strlen(u), NULL, &facts, &cls), CF_OK);
    CF_CHECK(!cls.relevant);
    CF_CHECK_INT(facts.n, 0);
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
}

/* The tally itself: more names than it keeps and longer than its first buffer, each
 * read back whole and ranked by weight (ties: first seen), then a reset article. */
static void
test_classify_tally(void)
{
    cf_classify_t *c = cf_classify_new();
    char name[80];
    for (int round = 0; round < 2; round++) {
        for (int k = 0; k < 200; k++) {
            snprintf(name, sizeof name, "company-with-a-rather-long-identifier-number-%03d", k);
            cf_classify_company(c, name, (double)(k % 7));
            if (k % 10 == 0) /* named again: its weight adds up */
                cf_classify_company(c, name, 10.0);
        }
        cf_classify_place(c, "Frankfurt", 1.0);
        cf_classify_place(c, "Sao Paulo", 2.0);
        cf_class_t cls = {0};
        cf_classify_finish(c, 0, &cls);
        CF_CHECK_INT(cls.ncompanies, CF_MAX_CLASS_ITEMS);
        /* 0, 10, ... 120 were named twice (10 + k % 7: 16 for 20 and 90, 15 for 40 and
         * 110); the names past the 128 kept are not there */
        CF_CHECK_STR(cls.companies[0], "company-with-a-rather-long-identifier-number-020");
        CF_CHECK_STR(cls.companies[1], "company-with-a-rather-long-identifier-number-090");
        CF_CHECK_STR(cls.companies[2], "company-with-a-rather-long-identifier-number-040");
        CF_CHECK_STR(cls.companies[3], "company-with-a-rather-long-identifier-number-110");
        for (size_t i = 0; i < cls.ncompanies; i++) {
            int k = -1;
            CF_CHECK(sscanf(cls.companies[i], "company-with-a-rather-long-identifier-number-%d",
                            &k) == 1);
            CF_CHECK(k >= 0 && k < 128);
        }
        CF_CHECK_INT(cls.nregions, 2);
        CF_CHECK_STR(cls.regions[0], "Sao Paulo");
        CF_CHECK_STR(cls.regions[1], "Frankfurt");
        cf_class_clear(&cls);
        cf_classify_reset(c);
        cf_classify_company(c, "aws", 1.0);
        cf_classify_finish(c, 0, &cls);
        CF_CHECK_INT(cls.ncompanies, 1);
        CF_CHECK_STR(cls.companies[0], "aws");
        CF_CHECK_INT(cls.nregions, 0);
        cf_class_clear(&cls);
        cf_classify_reset(c);
    }
    cf_classify_destroy(&c);
}

/* ------------------------------------------------------------------------ */
/* corpora */

static void
json_str(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

static void
json_fact(FILE *out, const char *article, const cf_fact_t *f)
{
    fputs("{\"article\": ", out);
    json_str(out, article);
    fputs(", \"type\": ", out);
    json_str(out, f->type);
    fputs(", \"subject\": ", out);
    json_str(out, f->subject);
    fputs(", \"object\": ", out);
    json_str(out, f->object);
    if (f->has_value) {
        if (f->value == floor(f->value) && fabs(f->value) < 1e15)
            fprintf(out, ", \"value\": %.0f", f->value);
        else
            fprintf(out, ", \"value\": %.17g", f->value);
    } else {
        fputs(", \"value\": null", out);
    }
    const char *names[] = {"unit", "period", "place", "detail", "qualifier", "status", "source"};
    const char *vals[] = {f->unit, f->period, f->place, f->detail, f->qualifier, f->status,
                          f->source};
    for (size_t i = 0; i < 7; i++) {
        fprintf(out, ", \"%s\": ", names[i]);
        json_str(out, vals[i]);
    }
    fprintf(out, ", \"confidence\": %.2f, \"evidence\": ", f->confidence);
    json_str(out, f->evidence);
    fprintf(out, ", \"evidence_start\": %llu, \"evidence_end\": %llu}\n",
            (unsigned long long)f->evidence_start, (unsigned long long)f->evidence_end);
}

static char *
slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = cf_malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n < 2)
            buf = cf_realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Extracts every article of dir/articles into out (JSON Lines); returns facts per
 * type in counts (indexed like types) and the number of articles. */
static size_t
run_corpus(const char *dir, FILE *out, const char *const *types, size_t ntypes, size_t *counts)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/articles", dir);
    DIR *d = opendir(path);
    CF_CHECK(d != NULL);
    if (!d)
        return 0;
    char *names[256];
    size_t nn = 0;
    struct dirent *e;
    while ((e = readdir(d)) && nn < 256)
        if (e->d_name[0] != '.' && strstr(e->d_name, ".txt"))
            names[nn++] = cf_strdup(e->d_name);
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_str);
    for (size_t i = 0; i < nn; i++) {
        snprintf(path, sizeof path, "%s/articles/%s", dir, names[i]);
        size_t len;
        char *text = slurp(path, &len);
        CF_CHECK(text != NULL);
        if (!text)
            continue;
        char *nl = memchr(text, '\n', len);
        char *body = nl ? nl + 1 : text + len;
        if (nl)
            *nl = '\0';
        size_t blen = (size_t)(text + len - body);
        cf_facts_t facts = {0}, again = {0};
        cf_class_t cls = {0};
        CF_CHECK_INT(extract(body, blen, NULL, &facts, &cls), CF_OK);
        if (!cls.relevant)
            fprintf(stderr, "%s: relevance %.2f\n", names[i], cls.relevance);
        CF_CHECK(cls.relevant);
        /* deterministic */
        CF_CHECK_INT(extract(body, blen, NULL, &again, &cls), CF_OK);
        CF_CHECK_INT(again.n, facts.n);
        for (size_t k = 0; k < facts.n && k < again.n; k++) {
            CF_CHECK(facts.v[k].evidence_start == again.v[k].evidence_start);
            CF_CHECK_STR(facts.v[k].type, again.v[k].type);
            CF_CHECK_STR(facts.v[k].subject, again.v[k].subject);
        }
        for (size_t k = 0; k < facts.n; k++) {
            if (out)
                json_fact(out, names[i], &facts.v[k]);
            for (size_t t = 0; t < ntypes; t++)
                if (strcmp(facts.v[k].type, types[t]) == 0)
                    counts[t]++;
        }
        cf_facts_clear(&facts);
        cf_facts_clear(&again);
        cf_class_clear(&cls);
        free(text);
        free(names[i]);
    }
    return nn;
}

static const char *const core_types[] = {"market_share", "revenue",  "investment",
                                         "datacenter",   "customers", "partnership"};
#define NCORE (sizeof core_types / sizeof *core_types)

static void
test_shared_corpus(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/corpus", cf_test_shared_dir());
    const char *pred = getenv("CF_EXTRACT_PRED");
    FILE *out = fopen(pred ? pred : "extract_shared.jsonl", "w");
    CF_CHECK(out != NULL);
    size_t counts[NCORE] = {0};
    size_t n = run_corpus(dir, out, core_types, NCORE, counts);
    if (out)
        fclose(out);
    CF_CHECK(n >= 5);
    /* floors: the shared articles state these facts (see GUIDELINES.md) */
    CF_CHECK(counts[0] >= 4); /* market_share */
    CF_CHECK(counts[1] >= 2); /* revenue */
    CF_CHECK(counts[2] >= 4); /* investment */
    CF_CHECK(counts[3] >= 5); /* datacenter */
    CF_CHECK(counts[4] >= 2); /* customers */
    CF_CHECK(counts[5] >= 1); /* partnership */
}

static void
test_own_corpus(void)
{
    const char *src = getenv("CF_SOURCE_DIR");
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/corpus", src ? src : CF_SOURCE_DATA_DIR "/../..");
    const char *pred = getenv("CF_EXTRACT_OWN_PRED");
    FILE *out = fopen(pred ? pred : "extract_own.jsonl", "w");
    size_t counts[NCORE] = {0};
    size_t n = run_corpus(dir, out, core_types, NCORE, counts);
    if (out)
        fclose(out);
    CF_CHECK(n >= 4);
    for (size_t t = 0; t < NCORE; t++)
        CF_CHECK(counts[t] >= 1);
}

CF_TEST_LIST(CF_TEST(test_numbers), CF_TEST(test_shares), CF_TEST(test_stakes),
             CF_TEST(test_partners), CF_TEST(test_key_clients), CF_TEST(test_owned_products),
             CF_TEST(test_revenue_at), CF_TEST(test_growth_words), CF_TEST(test_quoted_we),
             CF_TEST(test_unit_listing), CF_TEST(test_entries_exits),
             CF_TEST(test_periods_by_clause), CF_TEST(test_offer_rivals),
             CF_TEST(test_plain_products), CF_TEST(test_investment), CF_TEST(test_datacenter),
             CF_TEST(test_objects), CF_TEST(test_places_and_status), CF_TEST(test_references),
             CF_TEST(test_negatives), CF_TEST(test_unseen_phrasing), CF_TEST(test_fast_paths),
             CF_TEST(test_sentence_cut), CF_TEST(test_hostile), CF_TEST(test_linear),
             CF_TEST(test_data_errors), CF_TEST(test_reload), CF_TEST(test_classify),
             CF_TEST(test_classify_tally), CF_TEST(test_shared_corpus), CF_TEST(test_own_corpus))
