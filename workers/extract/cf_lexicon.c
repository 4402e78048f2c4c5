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

/* A trie of words: node (parent, word) is found through one hash table keyed by
 * the parent's index and the word's hash (cf_token_t.hash), so that a lookup
 * per token compares integers and, on a hit, one word. */
typedef struct node {
    char *word;     /* normalized word (owned) */
    uint32_t hash;  /* cf_token_hash of word */
    uint32_t wlen;  /* bytes of word */
    int parent;     /* parent node, -1 for the root */
    int head;       /* first entry, -1 when only a prefix */
    uint64_t cats;  /* categories of the entries at this node and below (bit 63: >= 63) */
} node_t;

typedef struct slot {
    uint32_t key;   /* mixed (parent, word hash) */
    int node;       /* node index, -1 = empty slot */
} slot_t;

struct cf_lexicon {
    slot_t *slots;              /* hash table over nodes */
    size_t nslots;              /* power of two */
    node_t *nodes;              /* trie nodes */
    size_t nnodes;
    size_t ncap;
    cf_lexicon_entry_t *ent;    /* entries */
    size_t nent;
    size_t cap;
    unsigned *needs;            /* per entry: number of words */
};

static inline uint32_t
mix(int parent, uint32_t h)
{
    uint32_t x = h ^ ((uint32_t)(parent + 1) * 0x9e3779b1u);
    x ^= x >> 15;
    x *= 0x85ebca6bu;
    x ^= x >> 13;
    return x;
}

static inline int
lookup(const cf_lexicon_t *self, int parent, const char *w, size_t wl, uint32_t wh)
{
    size_t m = self->nslots - 1;
    uint32_t key = mix(parent, wh);
    for (size_t i = key & m;; i = (i + 1) & m) {
        const slot_t *s = &self->slots[i];
        if (s->node < 0)
            return -1;
        if (s->key == key) {
            const node_t *nd = &self->nodes[s->node];
            if (nd->parent == parent && nd->wlen == wl && memcmp(nd->word, w, wl) == 0)
                return s->node;
        }
    }
}

static void
grow(cf_lexicon_t *self)
{
    size_t old = self->nslots;
    slot_t *slots = self->slots;
    self->nslots = old ? old * 2 : 256;
    self->slots = cf_malloc(self->nslots * sizeof *self->slots);
    for (size_t k = 0; k < self->nslots; k++)
        self->slots[k].node = -1;
    size_t m = self->nslots - 1;
    for (size_t k = 0; k < old; k++) {
        if (slots[k].node < 0)
            continue;
        size_t i = slots[k].key & m;
        while (self->slots[i].node >= 0)
            i = (i + 1) & m;
        self->slots[i] = slots[k];
    }
    free(slots);
}

static int
insert(cf_lexicon_t *self, int parent, const char *w, size_t wl)
{
    uint32_t wh = cf_token_hash(w, wl);
    if (self->nslots) {
        int k = lookup(self, parent, w, wl, wh);
        if (k >= 0)
            return k;
    }
    if ((self->nnodes + 1) * 2 > self->nslots)
        grow(self);
    if (self->nnodes == self->ncap) {
        self->ncap = self->ncap ? self->ncap * 2 : 256;
        self->nodes = cf_realloc(self->nodes, self->ncap * sizeof *self->nodes);
    }
    node_t *nd = &self->nodes[self->nnodes];
    nd->word = cf_strndup(w, wl);
    nd->hash = wh;
    nd->wlen = (uint32_t)wl;
    nd->parent = parent;
    nd->head = -1;
    nd->cats = 0;
    uint32_t key = mix(parent, wh);
    size_t m = self->nslots - 1;
    size_t i = key & m;
    while (self->slots[i].node >= 0)
        i = (i + 1) & m;
    self->slots[i].key = key;
    self->slots[i].node = (int)self->nnodes;
    return (int)self->nnodes++;
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
    for (size_t i = 0; i < self->nnodes; i++)
        free(self->nodes[i].word);
    for (size_t i = 0; i < self->nent; i++)
        free(self->ent[i].val);
    free(self->slots);
    free(self->nodes);
    free(self->ent);
    free(self->needs);
    free(self);
    *self_p = NULL;
}

/* The bit of category cat in node_t.cats. */
static inline uint64_t
cat_bit(int cat)
{
    return cat >= 0 && cat < 63 ? 1ull << cat : 1ull << 63;
}

/* A hyphen inside a word ("data-center") is skipped so that it matches "data center". */
static inline bool
skippable(const cf_tokens_t *t, size_t i)
{
    const cf_token_t *k = &t->v[i];
    return k->len == 1 && t->text[k->norm] == '-' && !(k->flags & CF_TOKEN_SPACE) &&
           i + 1 < t->n && !(t->v[i + 1].flags & CF_TOKEN_SPACE) && i > 0;
}

bool
cf_lexicon_add(cf_lexicon_t *self, const char *phrase, int cat, const char *val, double num,
               unsigned extra_flags)
{
    cf_tokens_t t = {0};
    size_t plen = strlen(phrase);
    cf_token_split(phrase, 0, plen, &t);
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
    /* check the limits first (a rejected phrase adds nothing) */
    for (size_t i = 0; ok && i < t.n; i++) {
        if (skippable(&t, i))
            continue;
        size_t wl = t.v[i].len;
        if (n + wl + 2 > KEY_MAX || ++words > CF_LEXICON_MAX_WORDS) {
            ok = false;
            break;
        }
        if (n)
            n++;
        n += wl;
    }
    int node = -1;
    uint64_t bit = cat_bit(cat);
    for (size_t i = 0; ok && i < t.n; i++) {
        if (skippable(&t, i))
            continue;
        node = insert(self, node, cf_token_norm(&t, i), t.v[i].len);
        self->nodes[node].cats |= bit;
    }
    cf_token_free(&t);
    if (!ok)
        return false;
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
    node_t *nd = &self->nodes[node];
    if (nd->head < 0) {
        nd->head = (int)self->nent;
    } else {
        int k = nd->head;
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

/* The trie node of token i's word under the root, or -1; remembered in toks->memo
 * so that the many lookups at one token (one per cue category tried) cost one. */
static int
first_node(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    cf_token_memo_t *mm = t->memo;
    int32_t *v = NULL;
    if (mm) {
        size_t s = 0;
        while (s < mm->nlex && mm->lex[s] != self)
            s++;
        if (s == mm->nlex && s < CF_TOKEN_MEMO_LEX) {
            if (mm->cap[s] < t->n) {
                free(mm->v[s]);
                mm->cap[s] = t->n * 2;
                mm->v[s] = cf_malloc(mm->cap[s] * sizeof *mm->v[s]);
            }
            memset(mm->v[s], 0, t->n * sizeof *mm->v[s]);
            mm->lex[s] = self;
            mm->nlex++;
        }
        if (s < mm->nlex) {
            v = mm->v[s];
            if (v[i])
                return v[i] < 0 ? -1 : v[i] - 1;
        }
    }
    const cf_token_t *tk = &t->v[i];
    int node = lookup(self, -1, t->text + tk->norm, tk->len, tk->hash);
    if (v)
        v[i] = node < 0 ? -1 : node + 1;
    return node;
}

uint64_t
cf_lexicon_cats_at(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    if (i >= t->n || !self->nslots || skippable(t, i))
        return 0;
    CF_STEP();
    int node = first_node(self, t, i);
    return node < 0 ? 0 : self->nodes[node].cats;
}

int
cf_lexicon_match(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i, int cat, size_t *ntok)
{
    int best = -1;
    if (i >= t->n || !self->nslots || skippable(t, i))
        return -1;
    CF_STEP();
    int node = first_node(self, t, i);
    uint64_t want = cat >= 0 ? cat_bit(cat) : ~0ull;
    if (node < 0 || !(self->nodes[node].cats & want))
        return -1;
    size_t n = t->v[i].len, words = 1;
    for (size_t j = i;;) {
        for (int k = self->nodes[node].head; k >= 0; k = self->ent[k].next) {
            CF_STEP();
            if (passes(self, k, t, i, j + 1, cat)) {
                best = k;
                *ntok = j + 1 - i;
                break;
            }
        }
        /* the next word */
        do
            j++;
        while (j < t->n && skippable(t, j));
        if (j >= t->n || words >= CF_LEXICON_MAX_WORDS)
            break;
        const cf_token_t *tk = &t->v[j];
        size_t wl = tk->len;
        if (n + wl + 2 > KEY_MAX)
            break;
        n += wl + 1;
        words++;
        CF_STEP();
        node = lookup(self, node, t->text + tk->norm, wl, tk->hash);
        if (node < 0 || !(self->nodes[node].cats & want))
            break;
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
