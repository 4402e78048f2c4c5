/* SPDX-License-Identifier: MIT
 * cf_lexicon: phrase table (a trie of words: each distinct word of the table has an
 * id, and a node is found by its parent and its word's id, so that a phrase walk
 * compares integers), the per-token memo of word lookups, the index that fills the
 * memos of several tables with one probe per token, and the TSV reader. */
#include "cf_lexicon.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_steps.h"
#include "cf_text.h"

#define KEY_MAX 256 /* bytes of a normalized phrase */
#define LINE_MAX_BYTES 8192
#define WORD_BITS 65536 /* filter over a table's words: most tokens are in none */
#define ROOT_BITS 16384 /* the roots' filter: small enough to stay cached */

/* The memo of a token for one table (cf_token_t.memo): 0 = not looked up;
 * k > 0 = its word starts a phrase, at root node k - 1; MEMO_ABSENT = no phrase of
 * the table has the word; -(w + 2) = the table's word w, which starts no phrase (a
 * walk continues with it). Negative: no phrase starts here. */
#define MEMO_ABSENT (-1)
#define MEMO_WORD(w) (-((int32_t)(w) + 2))

/* A distinct word of the table's phrases. */
typedef struct word {
    char *text;    /* normalized (owned) */
    uint32_t hash; /* cf_token_hash of text */
    uint32_t len;  /* bytes of text */
    int root;      /* the node of phrases starting with it, or -1 */
} word_t;

/* A trie node: the phrase prefix ending with word `wid` under `parent`. One cache
 * line (aligned): a token's lookup reads its fields together. */
typedef struct node {
    _Alignas(64) uint64_t cats; /* categories of the entries at this node and below
                                 * (bit 63: >= 63) */
    uint64_t kidwords; /* bit (wid % 64) of every child's word: most next words are
                        * ruled out without a probe */
    uint64_t hplain; /* categories of its entries without a case rule */
    uint64_t hcap;   /* categories of its entries whose only rule is CF_LEXICON_CAP */
    uint64_t hother; /* categories of its entries with another rule (UPPER, JOINED) */
    int head;        /* first entry, -1 when only a prefix */
    int head_plain;  /* first entry without a case rule, or -1 */
    int wid;         /* its word */
    int parent;      /* parent node, -1 for a root */
    bool kids;       /* some phrase continues after this node */
    bool plain;      /* its first entry has no case rule (CF_LEXICON_* flags) */
} node_t;

/* Open addressing over (parent, word id) for nodes below a root. */
typedef struct kid {
    int32_t parent; /* -1: empty slot */
    int32_t wid;
    int32_t node;
} kid_t;

struct cf_lexicon {
    word_t *words;              /* distinct words, by id */
    size_t nwords, wcap;
    int32_t *wslots;            /* open addressing on word hash: word id, -1 = empty */
    size_t nwslots;             /* power of two */
    kid_t *kids;                /* child nodes by (parent, word id) */
    size_t nkids, nkslots;      /* used; power of two */
    node_t *nodes;              /* trie nodes */
    size_t nnodes;
    size_t ncap;
    cf_lexicon_entry_t *ent;    /* entries */
    size_t nent;
    size_t cap;
    unsigned *needs;            /* per entry: number of words */
    int slot;                   /* cf_token_t.memo slot, or -1 */
    uint64_t wbits[WORD_BITS / 64]; /* bit (word hash % WORD_BITS) of every word */
};

static inline uint64_t
load64(const char *p)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint32_t
load32(const char *p)
{
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline uint16_t
load16(const char *p)
{
    uint16_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* a == b for n bytes: words are short, and inline loads beat a call to memcmp.
 * Every load stays inside [0, n): a short word is compared as its first and last
 * 2, 4 or 8 bytes, which overlap and together cover it. */
static inline bool
same_bytes(const char *a, const char *b, size_t n)
{
    if (n >= 8) {
        for (size_t k = 0; k + 8 < n; k += 8)
            if (load64(a + k) != load64(b + k))
                return false;
        return load64(a + n - 8) == load64(b + n - 8);
    }
    if (n >= 4)
        return load32(a) == load32(b) && load32(a + n - 4) == load32(b + n - 4);
    if (n >= 2)
        return load16(a) == load16(b) && load16(a + n - 2) == load16(b + n - 2);
    return n == 0 || a[0] == b[0];
}

static inline uint32_t
kid_hash(int parent, int wid)
{
    uint32_t x = (uint32_t)wid * 0x9e3779b1u ^ (uint32_t)(parent + 1) * 0x85ebca6bu;
    x ^= x >> 15;
    return x;
}

/* The word id of w[0:wl) (hash wh), or -1. */
static int
word_find(const cf_lexicon_t *self, const char *w, size_t wl, uint32_t wh)
{
    if (!self->nwslots || !(self->wbits[(wh % WORD_BITS) / 64] & (1ull << (wh % 64))))
        return -1;
    size_t m = self->nwslots - 1;
    for (size_t i = wh & m;; i = (i + 1) & m) {
        int32_t k = self->wslots[i];
        if (k < 0)
            return -1;
        const word_t *x = &self->words[k];
        if (x->hash == wh && x->len == wl && same_bytes(x->text, w, wl))
            return k;
    }
}

/* The node below parent (>= 0, a node with kids) whose word is wid, or -1. */
static inline int
kid_find(const cf_lexicon_t *self, int parent, int wid)
{
    size_t m = self->nkslots - 1;
    for (size_t i = kid_hash(parent, wid) & m;; i = (i + 1) & m) {
        const kid_t *k = &self->kids[i];
        if (k->parent < 0)
            return -1;
        if (k->parent == parent && k->wid == wid)
            return k->node;
    }
}

static void
word_slots_grow(cf_lexicon_t *self)
{
    free(self->wslots);
    self->nwslots = self->nwslots ? self->nwslots * 2 : 256;
    self->wslots = cf_malloc(self->nwslots * sizeof *self->wslots);
    for (size_t k = 0; k < self->nwslots; k++)
        self->wslots[k] = -1;
    size_t m = self->nwslots - 1;
    for (size_t w = 0; w < self->nwords; w++) {
        size_t i = self->words[w].hash & m;
        while (self->wslots[i] >= 0)
            i = (i + 1) & m;
        self->wslots[i] = (int32_t)w;
    }
}

/* The id of word w[0:wl), added when new. */
static int
word_add(cf_lexicon_t *self, const char *w, size_t wl)
{
    uint32_t wh = cf_token_hash(w, wl);
    int k = word_find(self, w, wl, wh);
    if (k >= 0)
        return k;
    if ((self->nwords + 1) * 2 > self->nwslots)
        word_slots_grow(self);
    if (self->nwords == self->wcap) {
        self->wcap = self->wcap ? self->wcap * 2 : 256;
        self->words = cf_realloc(self->words, self->wcap * sizeof *self->words);
    }
    word_t *x = &self->words[self->nwords];
    x->text = cf_strndup(w, wl);
    x->hash = wh;
    x->len = (uint32_t)wl;
    x->root = -1;
    self->wbits[(wh % WORD_BITS) / 64] |= 1ull << (wh % 64);
    size_t m = self->nwslots - 1;
    size_t i = wh & m;
    while (self->wslots[i] >= 0)
        i = (i + 1) & m;
    self->wslots[i] = (int32_t)self->nwords;
    return (int)self->nwords++;
}

static void
kid_slots_grow(cf_lexicon_t *self)
{
    size_t old = self->nkslots;
    kid_t *slots = self->kids;
    self->nkslots = old ? old * 2 : 256;
    self->kids = cf_malloc(self->nkslots * sizeof *self->kids);
    for (size_t k = 0; k < self->nkslots; k++)
        self->kids[k].parent = -1;
    size_t m = self->nkslots - 1;
    for (size_t k = 0; k < old; k++) {
        if (slots[k].parent < 0)
            continue;
        size_t i = kid_hash(slots[k].parent, slots[k].wid) & m;
        while (self->kids[i].parent >= 0)
            i = (i + 1) & m;
        self->kids[i] = slots[k];
    }
    free(slots);
}

/* nodes[0..n) moved to a new array of cap nodes (realloc does not keep their
 * alignment). */
static node_t *
nodes_grow(node_t *nodes, size_t n, size_t cap)
{
    node_t *v = aligned_alloc(_Alignof(node_t), cap * sizeof *v);
    if (!v) {
        fprintf(stderr, "cloudfact: out of memory (%zu bytes)\n", cap * sizeof *v);
        abort();
    }
    if (n)
        memcpy(v, nodes, n * sizeof *v);
    free(nodes);
    return v;
}

/* The node of word w[0:wl) under parent (-1: a root), added when new. */
static int
insert(cf_lexicon_t *self, int parent, const char *w, size_t wl)
{
    int wid = word_add(self, w, wl);
    int k = parent < 0                 ? self->words[wid].root
            : self->nodes[parent].kids ? kid_find(self, parent, wid)
                                       : -1;
    if (k >= 0)
        return k;
    if (self->nnodes == self->ncap) {
        self->ncap = self->ncap ? self->ncap * 2 : 256;
        self->nodes = nodes_grow(self->nodes, self->nnodes, self->ncap);
    }
    node_t *nd = &self->nodes[self->nnodes];
    nd->cats = 0;
    nd->kidwords = 0;
    nd->hplain = 0;
    nd->hcap = 0;
    nd->hother = 0;
    nd->head = -1;
    nd->head_plain = -1;
    nd->wid = wid;
    nd->parent = parent;
    nd->kids = false;
    nd->plain = false;
    if (parent < 0) {
        self->words[wid].root = (int)self->nnodes;
    } else {
        self->nodes[parent].kids = true;
        self->nodes[parent].kidwords |= 1ull << (wid % 64);
        if ((self->nkids + 1) * 2 > self->nkslots)
            kid_slots_grow(self);
        size_t m = self->nkslots - 1;
        size_t i = kid_hash(parent, wid) & m;
        while (self->kids[i].parent >= 0)
            i = (i + 1) & m;
        self->kids[i].parent = parent;
        self->kids[i].wid = wid;
        self->kids[i].node = (int32_t)self->nnodes;
        self->nkids++;
    }
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
    for (size_t i = 0; i < self->nwords; i++)
        free(self->words[i].text);
    for (size_t i = 0; i < self->nent; i++)
        free(self->ent[i].val);
    free(self->words);
    free(self->wslots);
    free(self->kids);
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
    return t->v[i].flags & CF_TOKEN_SKIP;
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
    if (flags == 0)
        nd->hplain |= bit;
    else if (flags == CF_LEXICON_CAP)
        nd->hcap |= bit;
    else
        nd->hother |= bit;
    if (flags == 0 && nd->head_plain < 0)
        nd->head_plain = (int)self->nent;
    if (nd->head < 0) {
        nd->head = (int)self->nent;
        nd->plain = flags == 0;
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

/* The memo value of token i's word for this table, looked up by its bytes and
 * remembered (out of line: tagged tokens never get here). */
static __attribute__((noinline)) int32_t
probe(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    cf_token_t *tk = &t->v[i];
    int w = word_find(self, t->text + tk->norm, tk->len, tk->hash);
    int32_t m = w < 0 ? MEMO_ABSENT : self->words[w].root >= 0 ? self->words[w].root + 1
                                                                : MEMO_WORD(w);
    if (self->slot >= 0)
        tk->memo[self->slot] = m;
    return m;
}

/* Token i's memo for this table (probed when not yet known). */
static inline int32_t
memo_of(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    int32_t m = self->slot >= 0 ? t->v[i].memo[self->slot] : 0;
    return m ? m : probe(self, t, i);
}

/* The root node of token i's word, or -1 (no phrase starts with it). */
static inline int
first_node(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i)
{
    int32_t m = memo_of(self, t, i);
    return m > 0 ? m - 1 : -1;
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
    if (i >= t->n || memo_none(self, t, i) || !self->nnodes || skippable(t, i))
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
        if (memo_none(self, t, i) || !self->nnodes || skippable(t, i) ||
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
        if (!memo_none(self, t, i) && self->nnodes && !skippable(t, i) &&
            first_node(self, t, i) >= 0)
            out[i] |= bit;
}

/* The walk needs no byte budget or word count: a child node exists only where an
 * added phrase passed both limits (cf_lexicon_add) with the same words, and a node
 * at the last word allowed has no kids. */
int
cf_lexicon_match(const cf_lexicon_t *self, const cf_tokens_t *t, size_t i, int cat, size_t *ntok)
{
    if (i >= t->n)
        return -1;
    const cf_token_t *v = t->v;
    if (v[i].flags & CF_TOKEN_SKIP)
        return -1;
    int32_t m = self->slot >= 0 ? v[i].memo[self->slot] : 0;
    if (m == 0)
        m = probe(self, t, i);
    if (m <= 0)
        return -1;
    CF_STEP();
    const node_t *nodes = self->nodes;
    const node_t *nd = &nodes[m - 1];
    uint64_t want = cat >= 0 ? cat_bit(cat) : ~0ull;
    if (!(nd->cats & want))
        return -1;
    int best = -1;
    size_t j = i, bj = i;
    for (;;) {
        if (nd->head >= 0) {
            if (cat < 0 && nd->plain) {
                /* the first entry has no rule to check: it is the one */
                CF_STEP();
                best = nd->head;
                bj = j;
            } else {
                for (int k = nd->head; k >= 0; k = self->ent[k].next) {
                    CF_STEP();
                    if (passes(self, k, t, i, j + 1, cat)) {
                        best = k;
                        bj = j;
                        break;
                    }
                }
            }
        }
        /* the next word (none continues a leaf) */
        if (!nd->kids)
            break;
        do
            j++;
        while (j < t->n && (v[j].flags & CF_TOKEN_SKIP));
        if (j >= t->n)
            break;
        CF_STEP();
        int32_t mj = self->slot >= 0 ? v[j].memo[self->slot] : 0;
        if (mj == 0)
            mj = probe(self, t, j);
        if (mj == MEMO_ABSENT)
            break; /* a word of no phrase */
        int wid = mj > 0 ? nodes[mj - 1].wid : -mj - 2;
        if (!(nd->kidwords >> (wid % 64) & 1))
            break;
        int node = kid_find(self, (int)(nd - nodes), wid);
        if (node < 0)
            break;
        nd = &nodes[node];
        if (!(nd->cats & want))
            break;
    }
    if (best >= 0)
        *ntok = bj + 1 - i;
    return best;
}

/* The categories of the entries at node nd that pass their case rules as a
 * one-token match at token i. Entries with a rule other than CAP are tried one by
 * one, and only when they could add a category of want. */
static inline uint64_t
head_cats(const cf_lexicon_t *self, const node_t *nd, const cf_tokens_t *t, size_t i,
          uint64_t want)
{
    uint64_t c = nd->hplain;
    if (nd->hcap && (t->v[i].flags & (CF_TOKEN_CAP | CF_TOKEN_NUM)))
        c |= nd->hcap;
    if (nd->hother & want & ~c)
        for (int k = nd->head; k >= 0; k = self->ent[k].next)
            if (passes(self, k, t, i, i + 1, -1))
                c |= cat_bit(self->ent[k].cat);
    return c;
}

/* The categories of the phrases below node nd (a root) that continue with the
 * word whose memo for this table is mj, or 0. */
static inline uint64_t
next_cats(const cf_lexicon_t *self, const node_t *nd, int32_t mj)
{
    if (mj == MEMO_ABSENT || mj == 0)
        return 0;
    int wid = mj > 0 ? self->nodes[mj - 1].wid : -mj - 2;
    if (!(nd->kidwords >> (wid % 64) & 1))
        return 0;
    int node = kid_find(self, (int)(nd - self->nodes), wid);
    return node < 0 ? 0 : self->nodes[node].cats;
}

/* ------------------------------------------------------------------------ */
/* the words of several tables */

#define ROOT_KEY 12 /* bytes of a word kept in its root entry */

/* A word of the tables: one cache line, everything a token's probe reads (the
 * word's bytes too, when it is short, as most are). */
typedef struct root {
    const char *word;                /* its bytes: key, or (longer) borrowed from a
                                      * table's words; NULL = empty slot */
    uint32_t hash;                   /* cf_token_hash of word */
    uint16_t wlen;                   /* bytes of word (KEY_MAX at most) */
    uint8_t starts;                  /* bit s: a phrase of table s starts with word;
                                      * CF_LEXICON_MARKED: one of the marked words */
    int32_t row[CF_TOKEN_MEMO_LEX];  /* by memo slot: the memo value of the word in the
                                      * slot's table */
    char key[ROOT_KEY];              /* the word, when at most ROOT_KEY bytes */
    uint64_t cats[CF_TOKEN_MEMO_LEX]; /* per table: the categories of its root node */
} root_t;
_Static_assert(CF_TOKEN_MEMO_LEX != 3 || sizeof(root_t) == 64, "a root is one cache line");
_Static_assert(KEY_MAX <= UINT16_MAX && CF_LEXICON_MARKED <= UINT8_MAX, "root field widths");

struct cf_lexicon_roots {
    const cf_lexicon_t *lex[CF_TOKEN_MEMO_LEX]; /* the tables (borrowed) */
    int slots[CF_TOKEN_MEMO_LEX];   /* memo slots of the tables */
    size_t nlex;
    bool full;                      /* every memo slot has a table: rows are copied whole */
    int32_t absent[CF_TOKEN_MEMO_LEX]; /* the row of a word of no table */
    root_t *v;                      /* open addressing on hash, cache-line aligned */
    void *mem;                      /* the allocation v lies in */
    size_t cap;                     /* power of two, at least twice the words */
    char **own;                     /* marked words of no table (owned copies) */
    size_t nown;
    uint64_t bits[ROOT_BITS / 64];  /* bit (hash % ROOT_BITS) of every word */
};

static inline __attribute__((always_inline)) root_t *
root_find(const cf_lexicon_roots_t *r, const char *w, size_t wl, uint32_t h)
{
    size_t m = r->cap - 1;
    for (size_t i = h & m;; i = (i + 1) & m) {
        root_t *x = &r->v[i];
        if (!x->word || (x->hash == h && x->wlen == wl && same_bytes(x->word, w, wl)))
            return x;
    }
}

/* The entry of word w[0:wl) in r, made (with every table's memo MEMO_ABSENT) when
 * new; w must outlive r. */
static root_t *
root_add(cf_lexicon_roots_t *r, const char *w, size_t wl, uint32_t h)
{
    root_t *x = root_find(r, w, wl, h);
    if (!x->word) {
        x->word = w;
        if (wl <= ROOT_KEY) {
            /* the entry's own copy: a probe reads no other line (entries never move) */
            memcpy(x->key, w, wl);
            x->word = x->key;
        }
        x->hash = h;
        x->wlen = (uint16_t)wl;
        for (size_t q = 0; q < CF_TOKEN_MEMO_LEX; q++)
            x->row[q] = MEMO_ABSENT;
        r->bits[(h % ROOT_BITS) / 64] |= 1ull << (h % 64);
    }
    return x;
}

cf_lexicon_roots_t *
cf_lexicon_roots_new(const cf_lexicon_t *const *lex, size_t n, const char *const *marked)
{
    cf_lexicon_roots_t *r = cf_calloc(1, sizeof *r);
    size_t words = 0, nmarked = 0;
    for (size_t k = 0; k < n && r->nlex < CF_TOKEN_MEMO_LEX; k++) {
        if (lex[k]->slot < 0)
            continue;
        r->lex[r->nlex] = lex[k];
        r->slots[r->nlex++] = lex[k]->slot;
        words += lex[k]->nwords;
    }
    while (marked && marked[nmarked])
        nmarked++;
    r->cap = 64;
    while (r->cap < 2 * (words + nmarked))
        r->cap *= 2;
    r->mem = cf_calloc(r->cap + 1, sizeof *r->v);
    r->v = (root_t *)(((uintptr_t)r->mem + 63) & ~(uintptr_t)63);
    for (size_t k = 0, s = 0; k < n && s < r->nlex; k++) {
        const cf_lexicon_t *lx = lex[k];
        if (lx->slot < 0)
            continue;
        for (size_t w = 0; w < lx->nwords; w++) {
            const word_t *wd = &lx->words[w];
            root_t *x = root_add(r, wd->text, wd->len, wd->hash);
            if (wd->root >= 0) {
                x->row[r->slots[s]] = (int32_t)wd->root + 1;
                x->starts |= (uint8_t)(1u << s);
                x->cats[s] = lx->nodes[wd->root].cats;
            } else {
                x->row[r->slots[s]] = MEMO_WORD(w);
            }
        }
        s++;
    }
    r->own = cf_calloc(nmarked ? nmarked : 1, sizeof *r->own);
    for (size_t k = 0; k < nmarked; k++) {
        size_t wl = strlen(marked[k]);
        uint32_t h = cf_token_hash(marked[k], wl);
        root_t *x = root_find(r, marked[k], wl, h);
        if (!x->word) {
            r->own[r->nown] = cf_strdup(marked[k]);
            x = root_add(r, r->own[r->nown++], wl, h);
        }
        x->starts |= CF_LEXICON_MARKED;
    }
    unsigned covered = 0;
    for (size_t q = 0; q < r->nlex; q++)
        covered |= 1u << r->slots[q];
    r->full = covered == (1u << CF_TOKEN_MEMO_LEX) - 1;
    for (size_t q = 0; q < CF_TOKEN_MEMO_LEX; q++)
        r->absent[q] = MEMO_ABSENT;
    return r;
}

void
cf_lexicon_roots_destroy(cf_lexicon_roots_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    for (size_t k = 0; k < (*self_p)->nown; k++)
        free((*self_p)->own[k]);
    free((*self_p)->own);
    free((*self_p)->mem);
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
        tk->memo[r->slots[s]] = x ? x->row[r->slots[s]] : MEMO_ABSENT;
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

/* The categories of table lx whose entries can match at token i (not skipped),
 * whose word's root node in lx is node (-1: none), among want: those at the root
 * that pass their case rules on token i alone. Sets *more when some of want can
 * only come from a phrase that goes on, which the next word decides (next_cats). */
static inline uint64_t
first_cats(const cf_lexicon_t *lx, int node, const cf_tokens_t *t, size_t i, uint64_t want,
           bool *more)
{
    *more = false;
    if (node < 0 || !want)
        return 0;
    const node_t *nd = &lx->nodes[node];
    uint64_t c = head_cats(lx, nd, t, i, want) & want;
    *more = nd->kids && (want & ~c);
    return c;
}

/* What cf_lexicon_match(lx, .., i, -1, ..) returns at token i, whose word's root
 * node is nd, when the phrase ends there: the first entry at nd that passes its case
 * rule on token i alone. CF_LEXICON_WALK when an entry has a rule other than CAP
 * (UPPER and JOINED read more than the token's own flags). */
static inline int32_t
one_word(const node_t *nd, const cf_tokens_t *t, size_t i)
{
    if (nd->hother)
        return CF_LEXICON_WALK;
    /* every entry is plain or CAP-only: a capitalized token (or digits) passes the
     * first, any other the first plain one */
    return t->v[i].flags & (CF_TOKEN_CAP | CF_TOKEN_NUM) ? nd->head : nd->head_plain;
}

void
cf_lexicon_roots_tag_gates(const cf_lexicon_roots_t *r, const cf_tokens_t *t, size_t cats_of,
                           unsigned starts_of, uint64_t *cats, unsigned char *starts,
                           int32_t *one)
{
    CF_STEPS(t->n);
    const cf_lexicon_t *lx = cats_of < r->nlex ? r->lex[cats_of] : NULL;
    size_t cslot = lx ? (size_t)r->slots[cats_of] : 0; /* its memo slot: x->row[cslot] */
    /* the token whose categories wait for the next word, its root node and the
     * categories that only a longer phrase can add */
    size_t wait = SIZE_MAX;
    int wait_node = -1;
    uint64_t wait_want = 0;
    for (size_t i = 0; i < t->n; i++) {
        cf_token_t *tk = &t->v[i];
        const root_t *x = root_of(r, t, tk);
        set_memo(r, tk, x);
        if (skippable(t, i)) {
            cats[i] = 0;
            starts[i] = 0;
            continue;
        }
        if (wait != SIZE_MAX) {
            /* token i is the next word of the waiting one */
            int32_t mj = x ? x->row[cslot] : MEMO_ABSENT;
            uint64_t longer = next_cats(lx, &lx->nodes[wait_node], mj);
            cats[wait] |= wait_want & longer;
            if (one && longer)
                one[wait] = CF_LEXICON_WALK; /* a phrase goes on: walk it */
            wait = SIZE_MAX;
        }
        if (!x) {
            cats[i] = 0;
            starts[i] = 0;
            continue;
        }
        starts[i] = (unsigned char)(x->starts & starts_of);
        if (!lx) {
            cats[i] = 0;
            continue;
        }
        int node = x->row[cslot] > 0 ? x->row[cslot] - 1 : -1;
        bool more;
        uint64_t want = x->cats[cats_of];
        cats[i] = first_cats(lx, node, t, i, want, &more);
        if (more) {
            wait = i;
            wait_node = node;
            wait_want = want & ~cats[i];
        }
        /* the answer of a one-word phrase, when no longer one can start here: a
         * root without kids, or (more) one whose next word continues none (the
         * wait above). Only where a category may start: nothing reads the rest. */
        if (one && cats[i]) {
            const node_t *nd = &lx->nodes[node];
            one[i] = !nd->kids || more ? one_word(nd, t, i) : CF_LEXICON_WALK;
        }
    }
}

int
cf_lexicon_next(const cf_lexicon_t *self, int idx, const cf_tokens_t *t, size_t i, int cat)
{
    if (self->ent[idx].next < 0)
        return -1; /* the phrase's only entry: no need to find its end */
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
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    char *fields[16];
    int rc = CF_OK, lineno = 0;
    while ((got = getline(&line, &cap, f)) >= 0) {
        lineno++;
        size_t len = (size_t)got;
        if (len >= LINE_MAX_BYTES) {
            rc = cf_err_set(err, CF_EINVAL, "%s:%d: line too long (at most %d bytes)", name, lineno,
                            LINE_MAX_BYTES - 1);
            break;
        }
        /* a NUL would end the line early, in silence */
        if (memchr(line, '\0', len)) {
            rc = cf_err_set(err, CF_EINVAL, "%s:%d: a NUL byte in the line", name, lineno);
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
