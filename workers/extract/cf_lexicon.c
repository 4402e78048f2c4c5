/* SPDX-License-Identifier: MIT
 * cf_lexicon: phrase table (open addressing on the normalized phrase, with every
 * prefix stored so that a lookup stops at the first token no phrase continues
 * with) and the TSV reader. */
#include "cf_lexicon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_steps.h"
#include "cf_text.h"

#define KEY_MAX 256 /* bytes of a normalized phrase */
#define LINE_MAX_BYTES 8192

typedef struct slot {
    char *key;  /* normalized phrase, NULL = empty slot */
    int head;   /* first entry, -1 when only a prefix */
} slot_t;

struct cf_lexicon {
    slot_t *slots;              /* hash table */
    size_t nslots;              /* power of two */
    size_t used;                /* occupied slots */
    cf_lexicon_entry_t *ent;    /* entries */
    size_t nent;
    size_t cap;
    unsigned *needs;            /* per entry: flags plus number of tokens in bits 8.. */
};

static uint32_t
hash(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static slot_t *
lookup(const cf_lexicon_t *self, const char *key, size_t n)
{
    if (!self->nslots)
        return NULL;
    size_t m = self->nslots - 1;
    for (size_t i = hash(key, n) & m;; i = (i + 1) & m) {
        slot_t *s = &self->slots[i];
        if (!s->key)
            return NULL;
        if (strlen(s->key) == n && memcmp(s->key, key, n) == 0)
            return s;
    }
}

static void grow(cf_lexicon_t *self);

static slot_t *
insert(cf_lexicon_t *self, const char *key, size_t n)
{
    slot_t *s = lookup(self, key, n);
    if (s)
        return s;
    if ((self->used + 1) * 2 > self->nslots)
        grow(self);
    size_t m = self->nslots - 1;
    size_t i = hash(key, n) & m;
    while (self->slots[i].key)
        i = (i + 1) & m;
    self->slots[i].key = cf_strndup(key, n);
    self->slots[i].head = -1;
    self->used++;
    return &self->slots[i];
}

static void
grow(cf_lexicon_t *self)
{
    size_t old = self->nslots;
    slot_t *slots = self->slots;
    self->nslots = old ? old * 2 : 256;
    self->slots = cf_calloc(self->nslots, sizeof *self->slots);
    size_t m = self->nslots - 1;
    for (size_t k = 0; k < old; k++) {
        if (!slots[k].key)
            continue;
        size_t i = hash(slots[k].key, strlen(slots[k].key)) & m;
        while (self->slots[i].key)
            i = (i + 1) & m;
        self->slots[i] = slots[k];
    }
    free(slots);
}

cf_lexicon_t *
cf_lexicon_new(void)
{
    return cf_calloc(1, sizeof(cf_lexicon_t));
}

void
cf_lexicon_destroy(cf_lexicon_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_lexicon_t *self = *self_p;
    for (size_t i = 0; i < self->nslots; i++)
        free(self->slots[i].key);
    for (size_t i = 0; i < self->nent; i++)
        free(self->ent[i].val);
    free(self->slots);
    free(self->ent);
    free(self->needs);
    free(self);
    *self_p = NULL;
}

/* A hyphen inside a word ("data-center") is skipped so that it matches "data center". */
static bool
skippable(const cf_tokens_t *t, size_t i)
{
    return cf_token_is(t, i, "-") && !(t->v[i].flags & CF_TOKEN_SPACE) && i + 1 < t->n &&
           !(t->v[i + 1].flags & CF_TOKEN_SPACE) && i > 0;
}

bool
cf_lexicon_add(cf_lexicon_t *self, const char *phrase, int cat, const char *val, double num,
               unsigned extra_flags)
{
    cf_tokens_t t = {0};
    size_t plen = strlen(phrase);
    cf_token_split(phrase, 0, plen, &t);
    char key[KEY_MAX];
    size_t n = 0, words = 0;
    bool ok = t.n > 0;
    unsigned flags = extra_flags;
    int letters = 0, upper = 0;
    for (size_t i = 0; i < plen; i++) {
        if ((phrase[i] >= 'a' && phrase[i] <= 'z') || (phrase[i] >= 'A' && phrase[i] <= 'Z'))
            letters++;
        if (phrase[i] >= 'A' && phrase[i] <= 'Z')
            upper++;
    }
    if (t.n && (t.v[0].flags & CF_TOKEN_CAP))
        flags |= CF_LEXICON_CAP;
    if (letters >= 2 && upper == letters)
        flags |= CF_LEXICON_UPPER;
    for (size_t i = 0; ok && i < t.n; i++) {
        if (skippable(&t, i))
            continue;
        const char *w = cf_token_norm(&t, i);
        size_t wl = strlen(w);
        if (n + wl + 2 > sizeof key || ++words > CF_LEXICON_MAX_WORDS) {
            ok = false;
            break;
        }
        if (n)
            key[n++] = ' ';
        memcpy(key + n, w, wl);
        n += wl;
        if (i + 1 < t.n)
            insert(self, key, n); /* a prefix */
    }
    cf_token_free(&t);
    if (!ok)
        return false;
    slot_t *s = insert(self, key, n);
    if (self->nent == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 256;
        self->ent = cf_realloc(self->ent, self->cap * sizeof *self->ent);
        self->needs = cf_realloc(self->needs, self->cap * sizeof *self->needs);
    }
    cf_lexicon_entry_t *e = &self->ent[self->nent];
    e->cat = cat;
    e->val = cf_strdup(val);
    e->num = num;
    e->flags = flags;
    e->next = -1;
    self->needs[self->nent] = (unsigned)words;
    /* append to the phrase's chain, keeping file order */
    if (s->head < 0) {
        s->head = (int)self->nent;
    } else {
        int k = s->head;
        while (self->ent[k].next >= 0)
            k = self->ent[k].next;
        self->ent[k].next = (int)self->nent;
    }
    self->nent++;
    return true;
}

/* Do the case rules of entry idx hold for the text tokens i..j)? */
static bool
passes(const cf_lexicon_t *self, int idx, const cf_tokens_t *t, size_t i, size_t j, int cat)
{
    const cf_lexicon_entry_t *e = &self->ent[idx];
    if (cat >= 0 && e->cat != cat)
        return false;
    if ((e->flags & CF_LEXICON_CAP) && !(t->v[i].flags & (CF_TOKEN_CAP | CF_TOKEN_NUM)))
        return false;
    if ((e->flags & CF_LEXICON_JOINED) && (i == 0 || (t->v[i].flags & CF_TOKEN_SPACE)))
        return false;
    if (e->flags & CF_LEXICON_UPPER) {
        for (size_t k = i; k < j; k++) {
            unsigned f = t->v[k].flags;
            if ((f & CF_TOKEN_WORD) && !(f & CF_TOKEN_NUM) && !(f & CF_TOKEN_UPPER) &&
                t->v[k].len > 1 && strcmp(cf_token_norm(t, k), "'s") != 0)
                return false;
            if ((f & CF_TOKEN_WORD) && t->v[k].len == 1 && !(f & CF_TOKEN_CAP))
                return false;
        }
    }
    return true;
}

int
cf_lexicon_match(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i, int cat, size_t *ntok)
{
    char key[KEY_MAX];
    size_t n = 0, words = 0;
    int best = -1;
    if (i >= t->n || !self->nslots || skippable(t, i))
        return -1;
    for (size_t j = i; j < t->n && words < CF_LEXICON_MAX_WORDS; j++) {
        if (j > i && skippable(t, j))
            continue;
        const char *w = cf_token_norm(t, j);
        size_t wl = t->v[j].len;
        if (n + wl + 2 > sizeof key)
            break;
        if (n)
            key[n++] = ' ';
        memcpy(key + n, w, wl);
        n += wl;
        words++;
        CF_STEP();
        const slot_t *s = lookup(self, key, n);
        if (!s)
            break;
        for (int k = s->head; k >= 0; k = self->ent[k].next) {
            CF_STEP();
            if (passes(self, k, t, i, j + 1, cat)) {
                best = k;
                *ntok = j + 1 - i;
                break;
            }
        }
    }
    return best;
}

int
cf_lexicon_next(const cf_lexicon_t *self, int idx, const cf_tokens_t *t, size_t i, int cat)
{
    unsigned words = self->needs[idx];
    /* find j: the token end that covers `words` words from i */
    size_t j = i, w = 0;
    while (j < t->n && w < words) {
        if (!(j > i && skippable(t, j)))
            w++;
        j++;
    }
    for (int k = self->ent[idx].next; k >= 0; k = self->ent[k].next)
        if (passes(self, k, t, i, j, cat))
            return k;
    return -1;
}

const cf_lexicon_entry_t *
cf_lexicon_entry(const cf_lexicon_t *self, int idx)
{
    return idx >= 0 && (size_t)idx < self->nent ? &self->ent[idx] : NULL;
}

int
cf_lexicon_read_tsv(const char *dir, const char *name, size_t nfields, cf_lexicon_row_cb cb,
                    void *ctx, cf_err_t *err)
{
    char path[4096];
    if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, name) >= sizeof path)
        return cf_err_set(err, CF_EINVAL, "%s: data directory path too long", name);
    FILE *f = fopen(path, "r");
    if (!f)
        return cf_err_sys(err, "%s: cannot open %s", name, path);
    char *line = cf_malloc(LINE_MAX_BYTES);
    char *fields[16];
    int rc = CF_OK, lineno = 0;
    while (fgets(line, LINE_MAX_BYTES, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == LINE_MAX_BYTES - 1 && line[len - 1] != '\n') {
            rc = cf_err_set(err, CF_EINVAL, "%s:%d: line too long", name, lineno);
            break;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        size_t k = 0;
        while (line[k] == ' ')
            k++;
        if (line[k] == '\0' || line[k] == '#')
            continue;
        if (!cf_utf8_valid(line, len)) {
            rc = cf_err_set(err, CF_EINVAL, "%s:%d: not valid UTF-8", name, lineno);
            break;
        }
        size_t nf = 0;
        char *p = line;
        for (;;) {
            if (nf < sizeof fields / sizeof *fields)
                fields[nf] = p;
            nf++;
            char *tab = strchr(p, '\t');
            if (!tab)
                break;
            *tab = '\0';
            p = tab + 1;
        }
        if (nf != nfields) {
            rc = cf_err_set(err, CF_EINVAL, "%s:%d: expected %zu tab-separated fields, got %zu",
                            name, lineno, nfields, nf);
            break;
        }
        for (size_t i = 0; i < nf; i++) {
            if (fields[i][0] == '\0') {
                rc = cf_err_set(err, CF_EINVAL, "%s:%d: field %zu is empty", name, lineno,
                                i + 1);
                break;
            }
        }
        if (rc != CF_OK)
            break;
        rc = cb(ctx, fields, name, lineno, err);
        if (rc != CF_OK)
            break;
    }
    if (rc == CF_OK && ferror(f))
        rc = cf_err_sys(err, "%s: read error", name);
    free(line);
    fclose(f);
    return rc;
}
