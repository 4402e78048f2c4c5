/* SPDX-License-Identifier: MIT
 * cf_lexicon: phrase table (open addressing on the normalized phrase, with every
 * prefix stored so that a lookup stops at the first token no phrase continues
 * with), the per-token memo of first-word lookups, the index that fills the memos
 * of several tables with one probe per token, and the TSV reader. */
#include "cf_lexicon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_steps.h"
#include "cf_text.h"

#define KEY_MAX 256 /* bytes of a normalized phrase */
#define LINE_MAX_BYTES 8192
#define ROOT_BITS 65536 /* filter over first words: most tokens start no phrase */

/* Negative memo values (cf_token_t.memo): the word starts no phrase of the table;
 * MEMO_ABSENT (known from cf_lexicon_roots_tag only) says it is in none at all, so
 * that no phrase continues with it either. */
#define MEMO_NOT_FIRST (-2)
#define MEMO_ABSENT (-1)

/* A trie of words: node (parent, word) is found through one hash table keyed by
 * the parent's index and the word's hash (cf_token_t.hash), so that a lookup
 * per token compares integers and, on a hit, one word. */
typedef struct node {
    char *word;     /* normalized word (owned) */
    uint32_t hash;  /* cf_token_hash of word */
    uint32_t wlen;  /* bytes of word */
    int parent;     /* parent node, -1 for the root */
    int head;       /* first entry, -1 when only a prefix */
    bool kids;      /* some phrase continues after this node */
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
    int slot;                   /* cf_token_t.memo slot, or -1 */
    uint64_t roots[ROOT_BITS / 64]; /* bit (word hash % ROOT_BITS) of every first word */
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

/* a == b for n bytes: words are short, and a loop beats a call to memcmp */
static inline bool
same_bytes(const char *a, const char *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (a[k] != b[k])
            return false;
    return true;
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
            if (nd->parent == parent && nd->wlen == wl && same_bytes(nd->word, w, wl))
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
    nd->kids = false;
    nd->cats = 0;
    if (parent >= 0)
        self->nodes[parent].kids = true;
    if (parent < 0)
        self->roots[(wh % ROOT_BITS) / 64] |= 1ull << (wh % 64);
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
cf_lexicon_new(int memo_slot)
{
    cf_lexicon_t *self = cf_calloc(1, sizeof(cf_lexicon_t));
    self->slot = memo_slot >= 0 && memo_slot < CF_TOKEN_MEMO_LEX ? memo_slot : -1;
    return self;
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

/* Do the case rules of entry idx hold for the text tokens i..j)? (Inline: most
 * entries have no rule to check.) */
static inline __attribute__((always_inline)) bool
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

/* The trie node of token i's word under the root, or -1, probed and remembered
 * (out of line: the memo answers most calls, which then need no stack frame). */
static __attribute__((noinline)) int
probe_first(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    cf_token_t *tk = &t->v[i];
    uint32_t h = tk->hash;
    int node = -1;
    if (self->roots[(h % ROOT_BITS) / 64] & (1ull << (h % 64)))
        node = lookup(self, -1, t->text + tk->norm, tk->len, h);
    if (self->slot >= 0)
        tk->memo[self->slot] = node < 0 ? MEMO_NOT_FIRST : node + 1;
    return node;
}

/* The trie node of token i's word under the root, or -1; remembered in the token
 * (slot self->slot) so that the many lookups at one token, one per category and
 * pass, cost one probe. */
static inline int
first_node(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    if (self->slot >= 0) {
        int32_t m = t->v[i].memo[self->slot];
        if (m)
            return m < 0 ? -1 : m - 1;
    }
    return probe_first(self, t, i);
}

/* True when token i's memo says that no phrase starts with its word: the common
 * answer, given before anything else is looked at. */
static inline bool
memo_none(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    return self->slot >= 0 && t->v[i].memo[self->slot] < 0;
}

uint64_t
cf_lexicon_cats_at(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    if (i >= t->n || memo_none(self, t, i) || !self->nslots || skippable(t, i))
        return 0;
    CF_STEP();
    int node = first_node(self, t, i);
    return node < 0 ? 0 : self->nodes[node].cats;
}

void
cf_lexicon_cats_all(const cf_lexicon_t *self, const cf_tokens_t *t, uint64_t *cats)
{
    CF_STEPS(t->n);
    for (size_t i = 0; i < t->n; i++) {
        int node;
        if (memo_none(self, t, i) || !self->nslots || skippable(t, i) ||
            (node = first_node(self, t, i)) < 0)
            cats[i] = 0;
        else
            cats[i] = self->nodes[node].cats;
    }
}

void
cf_lexicon_starts_all(const cf_lexicon_t *self, const cf_tokens_t *t, unsigned char *out,
                      unsigned char bit)
{
    CF_STEPS(t->n);
    /* a node exists only on the path of a phrase, which gave it a category */
    for (size_t i = 0; i < t->n; i++)
        if (!memo_none(self, t, i) && self->nslots && !skippable(t, i) &&
            first_node(self, t, i) >= 0)
            out[i] |= bit;
}

int
cf_lexicon_match(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i, int cat, size_t *ntok)
{
    int best = -1;
    if (i >= t->n || memo_none(self, t, i) || !self->nslots || skippable(t, i))
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
        /* the next word (none continues a leaf) */
        if (!self->nodes[node].kids)
            break;
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
        if (self->slot >= 0 && tk->memo[self->slot] == MEMO_ABSENT)
            break; /* a word of no phrase */
        node = lookup(self, node, t->text + tk->norm, wl, tk->hash);
        if (node < 0 || !(self->nodes[node].cats & want))
            break;
    }
    return best;
}

/* ------------------------------------------------------------------------ */
/* the words of several tables */

typedef struct root {
    const char *word;                /* borrowed from a table's node, NULL = empty */
    uint32_t hash;                   /* cf_token_hash of word */
    uint32_t wlen;                   /* bytes of word */
    int32_t node[CF_TOKEN_MEMO_LEX]; /* per memo slot: the memo value (root node + 1,
                                      * MEMO_NOT_FIRST or MEMO_ABSENT) */
    int32_t row[CF_TOKEN_MEMO_LEX];  /* node[] by memo slot (when every slot has a table) */
    unsigned starts;                 /* bit s: a phrase of table s starts with word */
    uint64_t cats[CF_TOKEN_MEMO_LEX]; /* per table: the categories of its root node */
} root_t;

struct cf_lexicon_roots {
    int slots[CF_TOKEN_MEMO_LEX];   /* memo slots of the tables */
    size_t nlex;
    bool full;                      /* every memo slot has a table: rows are copied whole */
    int32_t absent[CF_TOKEN_MEMO_LEX]; /* the row of a word of no table */
    root_t *v;                      /* open addressing on hash */
    size_t cap;                     /* power of two, at least twice the words */
    uint64_t bits[ROOT_BITS / 64];  /* bit (hash % ROOT_BITS) of every word */
};

static root_t *
root_find(const cf_lexicon_roots_t *r, const char *w, size_t wl, uint32_t h)
{
    size_t m = r->cap - 1;
    for (size_t i = h & m;; i = (i + 1) & m) {
        root_t *x = &r->v[i];
        if (!x->word || (x->hash == h && x->wlen == wl && same_bytes(x->word, w, wl)))
            return x;
    }
}

cf_lexicon_roots_t *
cf_lexicon_roots_new(const cf_lexicon_t *const *lex, size_t n)
{
    cf_lexicon_roots_t *r = cf_calloc(1, sizeof *r);
    size_t words = 0;
    for (size_t k = 0; k < n && r->nlex < CF_TOKEN_MEMO_LEX; k++) {
        if (lex[k]->slot < 0)
            continue;
        r->slots[r->nlex++] = lex[k]->slot;
        words += lex[k]->nnodes;
    }
    r->cap = 64;
    while (r->cap < 2 * words)
        r->cap *= 2;
    r->v = cf_calloc(r->cap, sizeof *r->v);
    for (size_t k = 0, s = 0; k < n && s < r->nlex; k++) {
        const cf_lexicon_t *lx = lex[k];
        if (lx->slot < 0)
            continue;
        for (size_t j = 0; j < lx->nnodes; j++) {
            const node_t *nd = &lx->nodes[j];
            root_t *x = root_find(r, nd->word, nd->wlen, nd->hash);
            if (!x->word) {
                x->word = nd->word;
                x->hash = nd->hash;
                x->wlen = nd->wlen;
                for (size_t q = 0; q < CF_TOKEN_MEMO_LEX; q++)
                    x->node[q] = MEMO_ABSENT;
                r->bits[(nd->hash % ROOT_BITS) / 64] |= 1ull << (nd->hash % 64);
            }
            if (nd->parent < 0) {
                x->node[s] = (int32_t)j + 1;
                x->starts |= 1u << s;
                x->cats[s] = nd->cats;
            } else if (x->node[s] == MEMO_ABSENT) {
                x->node[s] = MEMO_NOT_FIRST;
            }
        }
        s++;
    }
    unsigned covered = 0;
    for (size_t q = 0; q < r->nlex; q++)
        covered |= 1u << r->slots[q];
    r->full = covered == (1u << CF_TOKEN_MEMO_LEX) - 1;
    for (size_t q = 0; q < CF_TOKEN_MEMO_LEX; q++)
        r->absent[q] = MEMO_ABSENT;
    for (size_t i = 0; i < r->cap; i++)
        for (size_t q = 0; q < r->nlex; q++)
            r->v[i].row[r->slots[q]] = r->v[i].node[q];
    return r;
}

void
cf_lexicon_roots_destroy(cf_lexicon_roots_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    free((*self_p)->v);
    free(*self_p);
    *self_p = NULL;
}

/* Token tk's memo slots of r's tables: those of word x (NULL: a word of none). */
static inline void
set_memo(const cf_lexicon_roots_t *r, cf_token_t *tk, const root_t *x)
{
    if (r->full) {
        memcpy(tk->memo, x ? x->row : r->absent, sizeof tk->memo);
        return;
    }
    for (size_t s = 0; s < r->nlex; s++)
        tk->memo[r->slots[s]] = x ? x->node[s] : MEMO_ABSENT;
}

/* The root word of token tk, or NULL when no table has it (the bit filter first). */
static inline const root_t *
root_of(const cf_lexicon_roots_t *r, const cf_tokens_t *t, const cf_token_t *tk)
{
    uint32_t h = tk->hash;
    if (!(r->bits[(h % ROOT_BITS) / 64] & (1ull << (h % 64))))
        return NULL;
    const root_t *x = root_find(r, t->text + tk->norm, tk->len, h);
    return x->word ? x : NULL;
}

void
cf_lexicon_roots_tag(const cf_lexicon_roots_t *r, const cf_tokens_t *t)
{
    CF_STEPS(t->n);
    for (size_t i = 0; i < t->n; i++)
        set_memo(r, &t->v[i], root_of(r, t, &t->v[i]));
}

void
cf_lexicon_roots_tag_gates(const cf_lexicon_roots_t *r, const cf_tokens_t *t, size_t cats_of,
                           unsigned starts_of, uint64_t *cats, unsigned char *starts)
{
    CF_STEPS(t->n);
    for (size_t i = 0; i < t->n; i++) {
        cf_token_t *tk = &t->v[i];
        const root_t *x = root_of(r, t, tk);
        set_memo(r, tk, x);
        if (!x || skippable(t, i)) {
            cats[i] = 0;
            starts[i] = 0;
            continue;
        }
        cats[i] = cats_of < r->nlex ? x->cats[cats_of] : 0;
        starts[i] = (unsigned char)(x->starts & starts_of);
    }
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
