/* SPDX-License-Identifier: MIT
 * cf_fact: the records that travel between programs: an article, a fact, an
 * article's classification, and growable lists of facts. Transparent structs
 * with DESIGN.md's field names; every char * is an owned, NUL-terminated,
 * valid UTF-8 string or NULL (nil on the wire). A fact owns its strings one by one,
 * or all in one block (cf_fact_t.strings): change a string field of such a fact only
 * through cf_fact_set_str, which knows which. (Facts whose strings live elsewhere,
 * such as cf_msg's decoded results in their message's arena, are read-only.) */
#ifndef CF_FACT_H
#define CF_FACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf_err.h"

typedef struct cf_article {
    uint64_t id;       /* archive id; 0 until archived */
    char *url;         /* absolute URL, unique key */
    char *title;       /* may be empty, never NULL once valid */
    char *body;        /* non-empty text; evidence offsets index into it */
    size_t body_len;   /* strlen(body) */
    char *source;      /* feed label, or NULL */
    char *published;   /* ISO 8601 date or RFC 3339 time as sent, or NULL */
    char *lang;        /* BCP 47 tag, or NULL (means "en") */
    double received_at; /* when the archive accepted it, seconds since the epoch; 0 when
                         * unknown. Local bookkeeping: never sent on the wire. */
} cf_article_t;

typedef struct cf_fact {
    uint64_t seq;           /* archive sequence number; 0 = none yet (nil) */
    uint64_t article;       /* article id; 0 = none (nil) */
    char *article_name;     /* `cloudfact extract` only: the file's base name */
    char *type;             /* one of the fact types (cf_fact_type_is_valid) */
    char *subject;          /* entity id */
    char *object;           /* entity id, or NULL */
    double value;           /* meaningful only when has_value */
    bool has_value;         /* false: value is nil */
    char *unit;             /* USD, percent, count, ISO 4217 code, or NULL */
    char *period;           /* YYYY, YYYY-Qn, YYYY-Hn, YYYY-MM, YYYY-MM-DD, FYYYYY, or NULL */
    char *place;            /* a place name, or NULL */
    char *detail;           /* short normalized phrase, or NULL */
    char *qualifier;        /* about, nearly, more than, less than, at least, up to, or NULL */
    char *status;           /* reported, announced, planned, rumored, speculative */
    char *source;           /* entity id the figure is attributed to, or NULL */
    double confidence;      /* 0..1 */
    char *evidence;         /* body[evidence_start:evidence_end] */
    uint64_t evidence_start; /* half-open byte offsets into the article body */
    uint64_t evidence_end;
    void *strings;          /* NULL: each string field is its own allocation; else the
                             * one allocation they all point into (cf_fact_adopt_strings) */
} cf_fact_t;

/* A growable array of facts; owns the facts and their strings. Zero-initialise. */
typedef struct cf_facts {
    cf_fact_t *v;   /* facts */
    size_t n;       /* used */
    size_t cap;     /* allocated */
} cf_facts_t;

/* The article-level classification a worker returns with its facts. */
typedef struct cf_class {
    bool relevant;        /* about the cloud market */
    double relevance;     /* 0..1 score behind `relevant` */
    char **companies;     /* entity ids the article is about */
    size_t ncompanies;
    char **regions;       /* regions or countries it is about */
    size_t nregions;
} cf_class_t;

/* Frees the strings of a (the struct itself is the caller's) and zeroes it. */
void cf_article_clear(cf_article_t *a);

/* Deep copy of src into dst (dst is overwritten, not freed first). Aborts on OOM. */
void cf_article_copy(cf_article_t *dst, const cf_article_t *src);

/* Frees the strings of f and zeroes it. */
void cf_fact_clear(cf_fact_t *f);

/* Deep copy of src into dst (its strings in one block). Aborts on OOM. */
void cf_fact_copy(cf_fact_t *dst, const cf_fact_t *src);

/* Makes f own copies of its string fields, all in one allocation (one malloc and
 * one free per fact instead of one per field: the extractor's emission). On entry
 * each field is borrowed or lies in f's present block (which is then freed), never
 * owned on its own (it would leak); NUL-terminated or NULL, except the evidence:
 * when evidence is not NULL it is taken from evidence[0:evidence_len) (a slice of
 * the body, which has no terminator there) and f->evidence is ignored. Every
 * pointer into f's former block is void afterwards. Aborts on OOM. */
void cf_fact_adopt_strings(cf_fact_t *f, const char *evidence, size_t evidence_len);

/* Sets the string field *field of f (e.g. &f->status) to a copy of s (NULL: nil),
 * whichever way f owns its strings. For a fact whose strings are a block this makes
 * a new block: pointers saved to any of f's string fields are void afterwards. */
void cf_fact_set_str(cf_fact_t *f, char **field, const char *s);

/* Appends a zeroed fact to list and returns it (owned by the list). Aborts on OOM. */
cf_fact_t *cf_facts_push(cf_facts_t *list);

/* Removes the fact at index i (clearing it), keeping order. */
void cf_facts_remove(cf_facts_t *list, size_t i);

/* Frees every fact and the array; list is left empty and reusable. */
void cf_facts_clear(cf_facts_t *list);

/* Frees the arrays of c and zeroes it. */
void cf_class_clear(cf_class_t *c);

/* Deep copy. */
void cf_class_copy(cf_class_t *dst, const cf_class_t *src);

#define CF_FACT_TYPES 15 /* fact types of GUIDELINES.md */

/* The index (0..CF_FACT_TYPES-1) of a fact type, or -1 when name is not one. */
int cf_fact_type_index(const char *name);

/* The name of fact type i, or NULL when i is out of range. */
const char *cf_fact_type_name(int i);

/* True when name is one of the 15 fact types of GUIDELINES.md. */
bool cf_fact_type_is_valid(const char *name);

/* True when name is one of reported, announced, planned, rumored, speculative. */
bool cf_fact_status_is_valid(const char *name);

/* True when s matches [a-z0-9]+(-[a-z0-9]+)*. */
bool cf_entity_id_is_valid(const char *s);

/* Checks a fact as the daemon must before archiving it (DESIGN.md "Workers"): type,
 * status, entity ids, period format, finite value/confidence, UTF-8, and, when body
 * is not NULL, that evidence equals body[evidence_start:evidence_end]. Returns CF_OK
 * or CF_EINVAL with err naming the field. */
int cf_fact_validate(const cf_fact_t *f, const char *body, size_t body_len, cf_err_t *err);

/* cf_fact_validate without the text fields' length and UTF-8 checks, for a fact that
 * cf_msg_decode / cf_msg_decode_worker produced (they made the same checks, with the
 * same limit): the same answer for such a fact, one pass over its strings fewer. */
int cf_fact_validate_decoded(const cf_fact_t *f, const char *body, size_t body_len,
                             cf_err_t *err);

/* Converts a period (YYYY, YYYY-Qn, YYYY-Hn, YYYY-MM, YYYY-MM-DD, FYYYYY) into the
 * first and last day it covers, as YYYY-MM-DD (start and end need 11 bytes each).
 * A fiscal year FYn is taken as the twelve months ending on March 31 of year n
 * unless nothing better is known (documented in SPEC.md). Returns CF_OK or CF_EINVAL. */
int cf_period_range(const char *period, char *start, char *end);

#endif
