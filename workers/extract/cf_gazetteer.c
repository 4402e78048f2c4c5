/* SPDX-License-Identifier: MIT
 * cf_gazetteer: entity and place tables (see cf_gazetteer.h). */
#include "cf_gazetteer.h"

#include <stdlib.h>
#include <string.h>

#include "cf_fact.h"
#include "cf_lexicon.h"
#include "cf_text.h"

struct cf_gazetteer {
    cf_entity_t *ent;      /* entities in file order */
    size_t nent;
    size_t cap;
    cf_lexicon_t *names;   /* alias -> entity index (entry num) */
    cf_lexicon_t *places;  /* alias -> place (entry val = name, cat = kind index) */
    char **kinds;          /* place kinds seen, indexed by entry cat */
    size_t nkinds;
    int *ids;              /* open addressing on the id: entity index, -1 = empty */
    size_t nids;           /* power of two, at least twice nent */
    int *unit;             /* per entity: its first cloud unit (by file order), or -1 */
};

/* The slot of id in g->ids: its entity's, or the empty one where it would go. */
static size_t
id_slot(const cf_gazetteer_t *g, const char *id)
{
    size_t m = g->nids - 1;
    for (size_t i = cf_token_hash(id, strlen(id)) & m;; i = (i + 1) & m)
        if (g->ids[i] < 0 || strcmp(g->ent[g->ids[i]].id, id) == 0)
            return i;
}

/* Builds the id index and the units of companies: lookups by id are one probe. */
static void
index_ids(cf_gazetteer_t *g)
{
    free(g->ids);
    free(g->unit);
    g->nids = 64;
    while (g->nids < 2 * g->nent)
        g->nids *= 2;
    g->ids = cf_malloc(g->nids * sizeof *g->ids);
    for (size_t i = 0; i < g->nids; i++)
        g->ids[i] = -1;
    g->unit = cf_malloc((g->nent ? g->nent : 1) * sizeof *g->unit);
    for (size_t i = 0; i < g->nent; i++) {
        g->unit[i] = -1;
        size_t k = id_slot(g, g->ent[i].id);
        if (g->ids[k] < 0) /* ids are unique (entity_row): the first would win */
            g->ids[k] = (int)i;
    }
    for (size_t i = 0; i < g->nent; i++) {
        if (g->ent[i].kind != CF_ENTITY_UNIT)
            continue;
        int p = g->ids[id_slot(g, g->ent[i].parent)];
        if (p >= 0 && g->unit[p] < 0)
            g->unit[p] = (int)i;
        if (p >= 0)
            g->ent[p].aliased = false; /* a family's ids are the gazetteer's */
    }
}

/* Adds each alias of a row; for an entity (e not NULL) also sets e->aliased when an
 * alias slugs to another id than e's. */
static int
add_aliases(cf_lexicon_t *lex, char *aliases, int cat, const char *val, double num, cf_entity_t *e,
            const char *name, int line, cf_err_t *err)
{
    char *p = aliases;
    for (;;) {
        char *bar = strchr(p, '|');
        if (bar)
            *bar = '\0';
        if (!cf_lexicon_add(lex, p, cat, val, num, 0))
            return cf_err_set(err, CF_EINVAL, "%s:%d: bad alias '%.40s'", name, line, p);
        char slug[CF_GAZETTEER_NAME_MAX + 1];
        if (e && e->kind == CF_ENTITY_COMPANY && cf_text_slug(p, slug, sizeof slug) > 0 &&
            strcmp(slug, e->id) != 0)
            e->aliased = true;
        if (!bar)
            break;
        p = bar + 1;
    }
    return CF_OK;
}

static int
entity_row(void *ctx, char **f, const char *name, int line, cf_err_t *err)
{
    cf_gazetteer_t *g = ctx;
    int kind;
    if (strcmp(f[1], "company") == 0)
        kind = CF_ENTITY_COMPANY;
    else if (strcmp(f[1], "unit") == 0)
        kind = CF_ENTITY_UNIT;
    else if (strcmp(f[1], "source") == 0)
        kind = CF_ENTITY_SOURCE;
    else
        return cf_err_set(err, CF_EINVAL, "%s:%d: kind must be company, unit or source, not "
                          "'%.40s'", name, line, f[1]);
    if (!cf_entity_id_is_valid(f[0]))
        return cf_err_set(err, CF_EINVAL, "%s:%d: '%.60s' is not an entity id", name, line, f[0]);
    if (strlen(f[0]) > CF_GAZETTEER_NAME_MAX || strlen(f[2]) > CF_GAZETTEER_NAME_MAX)
        return cf_err_set(err, CF_EINVAL, "%s:%d: an id longer than %d bytes", name, line,
                          CF_GAZETTEER_NAME_MAX);
    bool has_parent = strcmp(f[2], "-") != 0;
    if (has_parent && !cf_entity_id_is_valid(f[2]))
        return cf_err_set(err, CF_EINVAL, "%s:%d: parent '%.60s' is not an entity id", name,
                          line, f[2]);
    if (kind == CF_ENTITY_UNIT && !has_parent)
        return cf_err_set(err, CF_EINVAL, "%s:%d: a unit needs a parent", name, line);
    if (cf_gazetteer_find(g, f[0]))
        return cf_err_set(err, CF_EINVAL, "%s:%d: duplicate id '%.60s'", name, line, f[0]);
    if (g->nent == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->ent = cf_realloc(g->ent, g->cap * sizeof *g->ent);
    }
    cf_entity_t *e = &g->ent[g->nent];
    e->id = cf_strdup(f[0]);
    e->kind = kind;
    e->parent = has_parent ? cf_strdup(f[2]) : NULL;
    e->aliased = false;
    g->nent++;
    return add_aliases(g->names, f[3], kind, NULL, (double)(g->nent - 1), e, name, line, err);
}

static int
place_row(void *ctx, char **f, const char *name, int line, cf_err_t *err)
{
    cf_gazetteer_t *g = ctx;
    if (strlen(f[0]) > CF_GAZETTEER_NAME_MAX)
        return cf_err_set(err, CF_EINVAL, "%s:%d: a place name longer than %d bytes", name, line,
                          CF_GAZETTEER_NAME_MAX);
    size_t k;
    for (k = 0; k < g->nkinds; k++)
        if (strcmp(g->kinds[k], f[1]) == 0)
            break;
    if (k == g->nkinds) {
        g->kinds = cf_realloc(g->kinds, (g->nkinds + 1) * sizeof *g->kinds);
        g->kinds[g->nkinds++] = cf_strdup(f[1]);
    }
    return add_aliases(g->places, f[2], (int)k, f[0], 0, NULL, name, line, err);
}

cf_gazetteer_t *
cf_gazetteer_new(const char *dir, cf_err_t *err)
{
    cf_gazetteer_t *g = cf_calloc(1, sizeof *g);
    g->names = cf_lexicon_new(CF_LEXICON_SLOT_NAMES);
    g->places = cf_lexicon_new(CF_LEXICON_SLOT_PLACES);
    if (cf_lexicon_read_tsv(dir, "gazetteer.tsv", 4, entity_row, g, err) != CF_OK ||
        cf_lexicon_read_tsv(dir, "places.tsv", 3, place_row, g, err) != CF_OK) {
        cf_gazetteer_destroy(&g);
        return NULL;
    }
    index_ids(g);
    for (size_t i = 0; i < g->nent; i++) {
        if (g->ent[i].parent && !cf_gazetteer_find(g, g->ent[i].parent)) {
            cf_err_set(err, CF_EINVAL, "gazetteer.tsv: parent '%.60s' of '%.60s' is not listed",
                       g->ent[i].parent, g->ent[i].id);
            cf_gazetteer_destroy(&g);
            return NULL;
        }
    }
    return g;
}

void
cf_gazetteer_destroy(cf_gazetteer_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_gazetteer_t *g = *self_p;
    for (size_t i = 0; i < g->nent; i++) {
        free(g->ent[i].id);
        free(g->ent[i].parent);
    }
    for (size_t i = 0; i < g->nkinds; i++)
        free(g->kinds[i]);
    free(g->kinds);
    free(g->ent);
    free(g->ids);
    free(g->unit);
    cf_lexicon_destroy(&g->names);
    cf_lexicon_destroy(&g->places);
    free(g);
    *self_p = NULL;
}

const cf_lexicon_t *
cf_gazetteer_names(const cf_gazetteer_t *g)
{
    return g->names;
}

const cf_lexicon_t *
cf_gazetteer_places(const cf_gazetteer_t *g)
{
    return g->places;
}

void
cf_gazetteer_starts_all(const cf_gazetteer_t *g, const cf_tokens_t *t, unsigned char *bits)
{
    memset(bits, 0, t->n);
    cf_lexicon_starts_all(g->names, t, bits, CF_GAZETTEER_ENTITY);
    cf_lexicon_starts_all(g->places, t, bits, CF_GAZETTEER_PLACE);
}

const cf_entity_t *
cf_gazetteer_entity_at(const cf_gazetteer_t *g, const cf_tokens_t *t, size_t i, size_t *ntok)
{
    int k = cf_lexicon_match(g->names, t, i, -1, ntok);
    if (k < 0)
        return NULL;
    return &g->ent[(size_t)cf_lexicon_entry(g->names, k)->num];
}

const char *
cf_gazetteer_place_at(const cf_gazetteer_t *g, const cf_tokens_t *t, size_t i, size_t *ntok,
                      const char **kind)
{
    int k = cf_lexicon_match(g->places, t, i, -1, ntok);
    if (k < 0)
        return NULL;
    const cf_lexicon_entry_t *e = cf_lexicon_entry(g->places, k);
    if (kind)
        *kind = g->kinds[e->cat];
    return e->val;
}

const cf_entity_t *
cf_gazetteer_find(const cf_gazetteer_t *g, const char *id)
{
    if (!g->ids) { /* still loading: entity_row checks for duplicates */
        for (size_t i = 0; i < g->nent; i++)
            if (strcmp(g->ent[i].id, id) == 0)
                return &g->ent[i];
        return NULL;
    }
    int k = g->ids[id_slot(g, id)];
    return k < 0 ? NULL : &g->ent[k];
}

const cf_entity_t *
cf_gazetteer_unit_of(const cf_gazetteer_t *g, const char *id)
{
    /* every unit's parent is an entity (checked at load), so an id that is none
     * has no unit */
    const cf_entity_t *e = cf_gazetteer_find(g, id);
    return e && g->unit[e - g->ent] >= 0 ? &g->ent[g->unit[e - g->ent]] : NULL;
}

const char *
cf_gazetteer_family(const cf_gazetteer_t *g, const char *id)
{
    const cf_entity_t *e = cf_gazetteer_find(g, id);
    return e && e->parent ? e->parent : id;
}
