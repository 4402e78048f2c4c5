/* SPDX-License-Identifier: MIT
 * Unit tests for cf_json: the fast fact writer prints byte for byte what the
 * jansson path prints (cloudfact extract uses the first, sub and query the
 * second, and a script must not see the difference). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_json.h"
#include "cf_test.h"

/* What cf_json_print_line(cf_json_fact(f)) writes. */
static char *
via_jansson(const cf_fact_t *f, size_t *len)
{
    char *text = NULL;
    FILE *mem = open_memstream(&text, len);
    json_t *o = cf_json_fact(f);
    CF_CHECK(cf_json_print_line(o, mem) == 0);
    json_decref(o);
    fclose(mem);
    return text;
}

static void
same(const cf_fact_t *f)
{
    size_t len;
    char *want = via_jansson(f, &len);
    cf_json_buf_t b = {0};
    cf_json_fact_append(f, &b);
    if (b.len != len || memcmp(b.data, want, len) != 0) {
        fprintf(stderr, "want: %s got:  %.*s", want, (int)b.len, b.data);
        CF_CHECK(false);
    }
    free(want);
    cf_json_buf_free(&b);
}

static void
test_fixed(void)
{
    cf_fact_t f = {0};
    same(&f); /* every field null or zero */
    f.seq = 18446744073709551615ull / 4;
    f.article = 42;
    f.type = "market_share";
    f.subject = "aws";
    f.object = "microsoft";
    f.has_value = true;
    f.unit = "%";
    f.period = "2026-Q3";
    f.place = "São Paulo";
    f.detail = "a \"quoted\" detail\\with backslash\tand tab\nnewline\r\b\f\x01\x1f end";
    f.qualifier = "about";
    f.status = "reported";
    f.source = "Synergy Research Group";
    f.evidence = "AWS held 31% — €, 中文, emoji \xf0\x9f\x98\x80 and / slash";
    f.evidence_start = 12;
    f.evidence_end = 4096;
    const double values[] = {0,       31,        0.7,     -3,       1e20,   1.5e-5,
                             123456789.25, 1e300, -2.5e-300, 9007199254740994.0,
                             0.1 + 0.2, 1.0 / 3, 99.99999999999999, 12e9};
    for (size_t i = 0; i < sizeof values / sizeof *values; i++) {
        f.value = values[i];
        f.confidence = values[i] / 7;
        same(&f);
    }
    f.article_name = "article one.txt";
    same(&f);
    /* a peer's value past INT64_MAX (no archive makes one) is never printed negative */
    cf_fact_t big = {0};
    big.seq = UINT64_MAX;
    big.article = (uint64_t)INT64_MAX + 1;
    size_t len;
    char *line = via_jansson(&big, &len);
    CF_CHECK(strstr(line, "\"seq\": -") == NULL && strstr(line, "\"seq\":-") == NULL);
    CF_CHECK(strstr(line, "\"article\": -") == NULL && strstr(line, "\"article\":-") == NULL);
    CF_CHECK(strstr(line, "e+19") != NULL || strstr(line, "e19") != NULL);
    free(line);
}

static void
test_random(void)
{
    srand(7);
    char buf[6][64];
    for (int round = 0; round < 2000; round++) {
        for (int k = 0; k < 6; k++) {
            int n = rand() % 40, i = 0;
            while (i < n) {
                int r = rand() % 10;
                /* ASCII with every control character, quotes, backslashes; UTF-8 (bytes
                 * >= 0x80 beside escapes: the escape scan must let them through) */
                if (r == 3 && i + 2 <= n) {
                    memcpy(&buf[k][i], "\xc3\xa9", 2);
                    i += 2;
                    continue;
                }
                buf[k][i++] = r < 2   ? (char)(1 + rand() % 31)
                              : r < 3 ? "\"\\/"[rand() % 3]
                                      : (char)(32 + rand() % 95);
            }
            buf[k][n] = '\0';
        }
        cf_fact_t f = {0};
        f.seq = (uint64_t)rand();
        f.article = (uint64_t)(rand() % 3);
        f.type = buf[0];
        f.subject = buf[1];
        f.object = rand() % 2 ? buf[2] : NULL;
        f.detail = buf[3];
        f.evidence = buf[4];
        f.source = rand() % 2 ? buf[5] : NULL;
        f.has_value = rand() % 2;
        f.value = (rand() - RAND_MAX / 2) / (double)(1 + rand() % 1000);
        f.confidence = rand() % 100 / 100.0;
        f.evidence_start = (size_t)rand();
        f.evidence_end = f.evidence_start + (size_t)(rand() % 500);
        same(&f);
    }
}

CF_TEST_LIST(CF_TEST(test_fixed), CF_TEST(test_random));
