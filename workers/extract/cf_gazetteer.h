/* SPDX-License-Identifier: MIT
 * cf_gazetteer: named entities (companies, cloud units, research firms and
 * outlets) and places, loaded from gazetteer.tsv and places.tsv, matched against
 * tokens (longest match; capitalized and all-caps aliases only match text written
 * so, which keeps "box" and "us" apart from Box and US). */
#ifndef CF_GAZETTEER_H
#define CF_GAZETTEER_H

#include <stdbool.h>
#include <stddef.h>

#include "cf_err.h"
#include "cf_lexicon.h"
#include "cf_token.h"

enum {
    CF_ENTITY_COMPANY, /* a company (the default subject kind) */
    CF_ENTITY_UNIT,    /* a company's cloud unit: parent names the company */
    CF_ENTITY_SOURCE   /* a research firm or outlet figures are attributed to */
};

/* The longest entity id, parent id or normalized place name the data files may
 * give, in bytes: the extractor carries them in fixed buffers (with room for
 * "outside " before a place). Longer ones are refused at load, not cut. */
#define CF_GAZETTEER_NAME_MAX 48

typedef struct cf_entity {
    char *id;     /* canonical id (GUIDELINES.md "Entities") */
    int kind;     /* CF_ENTITY_* */
    char *parent; /* the parent company's id for a unit, else NULL */
    bool aliased; /* a company with no cloud unit, an alias of which slugs to another
                   * id ("Dell Technologies" of dell): an article's naming may rename it */
} cf_entity_t;

typedef struct cf_gazetteer cf_gazetteer_t;

/* Loads dir/gazetteer.tsv (id, kind, parent or "-", aliases separated by |) and
 * dir/places.tsv (normalized name, kind, aliases). Returns a new gazetteer (caller
 * destroys it) or NULL with err naming file:line. */
cf_gazetteer_t *cf_gazetteer_new(const char *dir, cf_err_t *err);

/* Frees the gazetteer and sets *self_p to NULL. NULL-safe. */
void cf_gazetteer_destroy(cf_gazetteer_t **self_p);

enum {
    CF_GAZETTEER_ENTITY = 1 << 0, /* an entity alias may start at the token */
    CF_GAZETTEER_PLACE = 1 << 1   /* a place alias may start at the token */
};

/* The alias tables of entities and places (borrowed), for cf_lexicon_roots_new. */
const cf_lexicon_t *cf_gazetteer_names(const cf_gazetteer_t *self);
const cf_lexicon_t *cf_gazetteer_places(const cf_gazetteer_t *self);

/* bits[i] = the CF_GAZETTEER_* bits of token i, for every token: a clear bit means
 * that cf_gazetteer_entity_at (or _place_at) finds nothing there. One memoized
 * probe per table and token. */
void cf_gazetteer_starts_all(const cf_gazetteer_t *self, const cf_tokens_t *toks,
                             unsigned char *bits);

/* The entity named at token i (longest alias), with *ntok tokens, or NULL. */
const cf_entity_t *cf_gazetteer_entity_at(const cf_gazetteer_t *self, const cf_tokens_t *toks,
                                          size_t i, size_t *ntok);

/* The normalized place named at token i, with *ntok tokens, or NULL. A place kind
 * ("country", "region", "city", "exchange", ...) is stored in *kind when not NULL. */
const char *cf_gazetteer_place_at(const cf_gazetteer_t *self, const cf_tokens_t *toks, size_t i,
                                  size_t *ntok, const char **kind);

/* The entity with this id, or NULL. */
const cf_entity_t *cf_gazetteer_find(const cf_gazetteer_t *self, const char *id);

/* The cloud unit of company id (the unit whose parent it is), or NULL. */
const cf_entity_t *cf_gazetteer_unit_of(const cf_gazetteer_t *self, const char *id);

/* The company of an entity: its parent for a unit, else itself. */
const char *cf_gazetteer_family(const cf_gazetteer_t *self, const char *id);

#endif
