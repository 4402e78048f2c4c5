/* SPDX-License-Identifier: MIT
 * cf_json: JSON Lines output and input for the command line (jansson). Facts
 * print with DESIGN.md's field names in a fixed order; integral numbers print as
 * integers, never in %g notation. */
#ifndef CF_JSON_H
#define CF_JSON_H

#include <stdio.h>

#include <jansson.h>

#include "cf_err.h"
#include "cf_fact.h"

/* A fact as a JSON object (caller decrefs). article_name, when not NULL, is
 * written as `article` instead of the numeric id (`cloudfact extract`). */
json_t *cf_json_fact(const cf_fact_t *f);

/* A growing text buffer for lines written without jansson. */
typedef struct cf_json_buf {
    char *data;
    size_t len, cap;
} cf_json_buf_t;

/* Appends f as one JSON line (ending in '\n') to b, byte for byte what
 * cf_json_print_line(cf_json_fact(f)) prints, without building a jansson tree
 * (`cloudfact extract` writes millions: the tree cost more than extracting). The
 * fact's strings must be UTF-8 (they are: the decoder and the extractor ensure it). */
void cf_json_fact_append(const cf_fact_t *f, cf_json_buf_t *b);

void cf_json_buf_free(cf_json_buf_t *b);

/* Any msgpack body as JSON (maps with string keys become objects). NULL when the
 * body is not one well-formed msgpack value. */
json_t *cf_json_from_msgpack(const void *data, size_t len);

/* Writes v compactly on one line to out and flushes. Returns 0 or -1 (EPIPE...). */
int cf_json_print_line(json_t *v, FILE *out);

/* Fills a from a JSON object {url, title, body, source?, published?, lang?}, the
 * shape of Scrapy's JSON Lines feed export. Returns CF_OK or CF_EINVAL with err. */
int cf_json_to_article(const json_t *obj, cf_article_t *a, cf_err_t *err);

#endif
