/* SPDX-License-Identifier: MIT
 * Fuzz target: arbitrary bytes as an article body (title empty, published NULL).
 * The extractor is loaded once from cf_extract_data_dir(NULL). Every fact must
 * validate against the body; a non-UTF-8 body must give CF_EINVAL. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf_extract.h"
#include "cf_fact.h"
#include "cf_limits.h"
#include "cf_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static cf_extractor_t *x;
    if (!x) {
        cf_err_t err = {0};
        x = cf_extract_new(cf_extract_data_dir(NULL), &err);
        if (!x)
            abort();
    }
    if (size > CF_MAX_BODY)
        return 0;
    char *body = cf_malloc(size + 1);
    memcpy(body, data, size);
    body[size] = '\0';
    cf_article_t a = {0};
    a.title = "";
    a.body = body;
    a.body_len = size;
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    cf_err_t err = {0};
    int rc = cf_extract_article(x, &a, &facts, &cls, &err);
    if (rc != CF_OK && (rc != CF_EINVAL || cf_utf8_valid(body, size)))
        abort();
    if (facts.n > CF_MAX_FACTS)
        abort();
    for (size_t i = 0; i < facts.n; i++)
        if (cf_fact_validate(&facts.v[i], body, size, &err) != CF_OK)
            abort();
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
    free(body);
    return 0;
}
