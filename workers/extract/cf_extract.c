/* SPDX-License-Identifier: MIT
 * cf_extract: the pipeline. Loads the data files once; per article: check UTF-8,
 * split sentences, tokenize, assemble facts, check each fact as the daemon will,
 * sort by evidence_start, merge facts with one key, cap at CF_MAX_FACTS, and
 * classify the article. Nothing here keeps per-article state in the extractor,
 * so one extractor may serve several threads. */
#include "cf_extract.h"

#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf_assemble.h"
#include "cf_classify.h"
#include "cf_cue.h"
#include "cf_gazetteer.h"
#include "cf_limits.h"
#include "cf_period.h"
#include "cf_sentence.h"
#include "cf_steps.h"
#include "cf_text.h"
#include "cf_token.h"

#ifndef CF_SOURCE_DATA_DIR
#define CF_SOURCE_DATA_DIR "workers/data"
#endif
#ifndef CF_INSTALL_DATA_DIR
#define CF_INSTALL_DATA_DIR "/usr/local/share/cloudfact"
#endif

#define MAIN_DATA_FILE "gazetteer.tsv"
#define SORT_SMALL 64 /* facts sorted by insertion (bounded: quadratic above) */
#define WORK_KEEP_TOKENS 65536 /* largest token array a kept work area may hold (~2 MB) */

/* The scratch one article needs, kept between articles so that its arrays are
 * allocated once (large blocks per article cost glibc a consolidation each): it
 * holds no result, only buffers and objects that are reset before use. */
typedef struct work {
    cf_tokens_t toks;     /* the body's tokens (or one title sentence's) */
    size_t *bound;        /* sentence k: tokens [bound[k], bound[k + 1]) */
    size_t cb;            /* allocated bounds */
    cf_assemble_t *body;  /* the body's assembler */
    cf_assemble_t *title; /* the title's (classification only) */
    cf_classify_t *tally;
    cf_facts_t found;     /* facts before checks, ordering and merging (n = 0 between) */
    cf_fact_t *tmp;       /* sort_facts' output, as many as found can hold */
    size_t ntmp;
    void *order;          /* sort_facts: order_t[norder] */
    size_t norder;
    void *keys;           /* dedupe: keyed_t[nkeys] */
    size_t nkeys;
    size_t *slots;        /* dedupe's hash table of key indices (nslots, a power of 2) */
    size_t nslots;
} work_t;

struct cf_extractor {
    cf_gazetteer_t *gaz;        /* entities and places */
    cf_lexicon_t *cues;         /* cue lexicon */
    cf_lexicon_roots_t *roots;  /* the words of the three tables, to tag tokens with */
    _Atomic(work_t *) spare;    /* an idle work area, or NULL: threads that find it
                                 * taken make their own (see take_work) */
};

const char *
cf_extract_data_dir(const char *opt)
{
    if (opt)
        return opt;
    const char *env = getenv("CLOUDFACT_DATA");
    if (env && *env)
        return env;
    if (access(CF_INSTALL_DATA_DIR "/" MAIN_DATA_FILE, R_OK) == 0)
        return CF_INSTALL_DATA_DIR;
    return CF_SOURCE_DATA_DIR;
}

cf_extractor_t *
cf_extract_new(const char *data_dir, cf_err_t *err)
{
    const char *dir = data_dir ? data_dir : cf_extract_data_dir(NULL);
    cf_extractor_t *self = cf_calloc(1, sizeof *self);
    atomic_init(&self->spare, NULL);
    self->gaz = cf_gazetteer_new(dir, err);
    if (self->gaz)
        self->cues = cf_cue_load(dir, err);
    if (!self->gaz || !self->cues) {
        cf_extract_destroy(&self);
        return NULL;
    }
    const cf_lexicon_t *tables[] = {cf_gazetteer_names(self->gaz),
                                    cf_gazetteer_places(self->gaz), self->cues};
    /* the period's first words ride along: one probe per token gates both */
    self->roots = cf_lexicon_roots_new(tables, sizeof tables / sizeof *tables,
                                       cf_period_start_words);
    return self;
}

static void
work_free(work_t *w)
{
    if (!w)
        return;
    cf_token_free(&w->toks);
    free(w->bound);
    cf_assemble_destroy(&w->body);
    cf_assemble_destroy(&w->title);
    cf_classify_destroy(&w->tally);
    cf_facts_clear(&w->found);
    free(w->tmp);
    free(w->order);
    free(w->keys);
    free(w->slots);
    free(w);
}

/* A work area for one article: the extractor's idle one, or a new one when another
 * thread holds it. Lock-free: one exchange each way. */
static work_t *
take_work(cf_extractor_t *self, cf_period_date_t pub)
{
    work_t *w = atomic_exchange(&self->spare, NULL);
    if (!w) {
        w = cf_calloc(1, sizeof *w);
        w->body = cf_assemble_new(self->gaz, self->cues, pub);
        w->title = cf_assemble_new(self->gaz, self->cues, pub);
        w->tally = cf_classify_new();
        return w;
    }
    cf_assemble_reset(w->body, pub);
    cf_assemble_reset(w->title, pub);
    cf_classify_reset(w->tally);
    return w;
}

/* Gives w back to the extractor (freeing the one already there, if any). An area
 * grown for a long article is freed instead, so that a worker does not keep tens of
 * megabytes after one body near CF_MAX_BODY. */
static void
give_work(cf_extractor_t *self, work_t *w)
{
    if (w->toks.cap > WORK_KEEP_TOKENS) {
        work_free(w);
        return;
    }
    work_free(atomic_exchange(&self->spare, w));
}

void
cf_extract_destroy(cf_extractor_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    work_free(atomic_exchange(&(*self_p)->spare, NULL));
    cf_gazetteer_destroy(&(*self_p)->gaz);
    cf_lexicon_destroy(&(*self_p)->cues);
    cf_lexicon_roots_destroy(&(*self_p)->roots);
    free(*self_p);
    *self_p = NULL;
}

/* ------------------------------------------------------------------------ */
/* classification tallies through the assembler's callbacks */

typedef struct seen_ctx {
    cf_classify_t *cls;
    double weight;
} seen_ctx_t;

static void
seen_company(void *ctx, const char *id)
{
    seen_ctx_t *s = ctx;
    cf_classify_company(s->cls, id, s->weight);
}

static void
seen_place(void *ctx, const char *name)
{
    seen_ctx_t *s = ctx;
    cf_classify_place(s->cls, name, s->weight);
}

static void
seen_cloud(void *ctx)
{
    seen_ctx_t *s = ctx;
    cf_classify_cloud(s->cls, s->weight);
}

static void settle(work_t *w, cf_facts_t *found, const char *body, size_t len);

/* Runs the assembler over every sentence of text[0:len), with w's tokens. */
static void
run(const cf_extractor_t *self, work_t *w, cf_assemble_t *as, const char *text, size_t len,
    uint64_t article, cf_facts_t *facts, cf_classify_t *cls, double weight)
{
    cf_tokens_t *toks = &w->toks;
    seen_ctx_t ctx = {cls, weight};
    cf_assemble_seen_t seen = {seen_company, seen_place, seen_cloud, &ctx};
    size_t pos = 0, s, e;
    if (!facts) {
        while (cf_sentence_next(text, len, &pos, &s, &e)) {
            cf_token_split(text, s, e, toks);
            cf_lexicon_roots_tag(self->roots, toks);
            cf_classify_words(cls, toks->n);
            cf_assemble_sentence(as, text, toks, article, facts, &seen);
        }
        return;
    }
    /* the text is split and tokenized once; both passes read the tokens (about one
     * token per five bytes of English: reserved, not to grow by doubling) */
    toks->n = 0;
    toks->tlen = 0;
    cf_token_reserve(toks, len / 4 + 64, len + len / 4 + 1024);
    size_t nb = 0;
    for (;;) {
        if (nb == w->cb) {
            w->cb = w->cb ? w->cb * 2 : 64;
            w->bound = cf_realloc(w->bound, w->cb * sizeof *w->bound);
        }
        w->bound[nb++] = toks->n;
        if (!cf_sentence_next(text, len, &pos, &s, &e))
            break;
        cf_token_append_in(text, s, e, len, toks);
    }
    const size_t *bound = w->bound;
    /* every token's word, looked up once for all three tables */
    cf_assemble_gates(as, self->roots, toks);
    /* first pass: a year the text fixes, for relative dates */
    for (size_t k = 0; k + 1 < nb; k++) {
        cf_tokens_t view = cf_token_view(toks, bound[k], bound[k + 1]);
        cf_assemble_scan(as, &view);
    }
    /* the assembler stops at 2 * CF_MAX_FACTS facts found: merged on the way (once
     * the list doubles, so O(log n) per fact), repeats of one fact do not fill it
     * and hide the distinct ones after them */
    size_t settle_at = CF_MAX_FACTS;
    for (size_t k = 0; k + 1 < nb; k++) {
        cf_tokens_t view = cf_token_view(toks, bound[k], bound[k + 1]);
        cf_classify_words(cls, view.n);
        cf_assemble_sentence(as, text, &view, article, facts, &seen);
        if (facts->n >= settle_at) {
            /* the last sentence's facts stay as they are, after the others */
            size_t from = cf_assemble_last_facts(as), last = facts->n - from;
            cf_facts_t before = *facts;
            before.n = from;
            settle(w, &before, text, len);
            memmove(facts->v + before.n, facts->v + from, last * sizeof *facts->v);
            facts->n = before.n + last;
            cf_assemble_last_facts_moved(as, before.n);
            settle_at = 2 * facts->n > CF_MAX_FACTS ? 2 * facts->n : CF_MAX_FACTS;
        }
    }
}

/* ------------------------------------------------------------------------ */
/* ordering and merging */

typedef struct order {
    uint64_t start; /* evidence_start */
    size_t idx;     /* emission order: ties keep it */
} order_t;

static int
by_start(const void *x, const void *y)
{
    const order_t *a = x, *b = y;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

/* Sorts list by evidence_start, keeping emission order for ties (w->tmp is the
 * scratch it permutes into). A list already in order (the usual case after the
 * first sort) is left as it is: a stable sort would not move anything. */
static void
sort_facts(work_t *w, cf_facts_t *list)
{
    size_t k = 1;
    while (k < list->n && list->v[k - 1].evidence_start <= list->v[k].evidence_start)
        k++;
    if (k >= list->n)
        return;
    if (w->norder < list->n) {
        free(w->order);
        w->norder = list->cap;
        w->order = cf_malloc(w->norder * sizeof(order_t));
    }
    order_t *o = w->order;
    for (size_t i = 0; i < list->n; i++) {
        o[i].start = list->v[i].evidence_start;
        o[i].idx = i;
    }
    if (list->n <= SORT_SMALL) {
        /* facts come nearly in evidence order: an insertion sort does a pass */
        for (size_t i = 1; i < list->n; i++) {
            order_t x = o[i];
            size_t j = i;
            for (; j > 0 && by_start(&o[j - 1], &x) > 0; j--)
                o[j] = o[j - 1];
            o[j] = x;
        }
    } else {
        qsort(o, list->n, sizeof *o, by_start);
    }
    if (w->ntmp < list->n) {
        free(w->tmp);
        w->ntmp = list->cap;
        w->tmp = cf_malloc(w->ntmp * sizeof *w->tmp);
    }
    for (size_t i = 0; i < list->n; i++)
        w->tmp[i] = list->v[o[i].idx];
    memcpy(list->v, w->tmp, list->n * sizeof *list->v);
}

/* The merge key of a fact: type, subject, object, value, place, period (and the
 * detail of an offering); an IPO is one per subject. Compared field by field, with
 * nil equal to "", and the value by its bits (NaN by its sign alone), which tells
 * values apart exactly as "%.17g" would: no key string is built. */
static bool
is_ipo(const cf_fact_t *f)
{
    return strcmp(f->type, "ipo") == 0;
}

static int
field_cmp(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "");
}

/* The value as the key sees it: class 0 nil, 1 a number (its bits), 2 NaN (its sign). */
static void
value_key(const cf_fact_t *f, int *cls, uint64_t *bits)
{
    *bits = 0;
    if (!f->has_value) {
        *cls = 0;
    } else if (isnan(f->value)) {
        *cls = 2;
        *bits = signbit(f->value) ? 1 : 0;
    } else {
        *cls = 1;
        memcpy(bits, &f->value, sizeof *bits);
    }
}

/* A total order of merge keys: 0 exactly when f and g merge. */
static int
key_cmp(const cf_fact_t *f, const cf_fact_t *g)
{
    bool fi = is_ipo(f), gi = is_ipo(g);
    if (fi != gi)
        return fi ? 1 : -1;
    if (fi)
        return field_cmp(f->subject, g->subject);
    int c;
    if ((c = strcmp(f->type, g->type)) || (c = field_cmp(f->subject, g->subject)) ||
        (c = field_cmp(f->object, g->object)))
        return c;
    int fc, gc;
    uint64_t fb, gb;
    value_key(f, &fc, &fb);
    value_key(g, &gc, &gb);
    if (fc != gc)
        return fc < gc ? -1 : 1;
    if (fb != gb)
        return fb < gb ? -1 : 1;
    if ((c = field_cmp(f->place, g->place)) || (c = field_cmp(f->period, g->period)))
        return c;
    return strcmp(f->type, "offering") == 0 ? field_cmp(f->detail, g->detail) : 0;
}

/* FNV-1a over s (nil: ""), then a separator byte, so that fields cannot run into
 * each other. */
static uint64_t
mix_field(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 0x100000001b3ull;
    return (h ^ 0xff) * 0x100000001b3ull;
}

/* A hash of the fields key_cmp compares: facts that merge hash alike. */
static uint64_t
key_hash(const cf_fact_t *f)
{
    uint64_t h = 0xcbf29ce484222325ull;
    if (is_ipo(f))
        return mix_field(mix_field(h, "ipo"), f->subject);
    int cls;
    uint64_t bits;
    value_key(f, &cls, &bits);
    h = mix_field(mix_field(mix_field(h, f->type), f->subject), f->object);
    h = (h ^ (bits + (uint64_t)cls)) * 0x100000001b3ull;
    h = mix_field(mix_field(h, f->place), f->period);
    if (strcmp(f->type, "offering") == 0)
        h = mix_field(h, f->detail);
    return h ^ (h >> 29);
}

typedef struct keyed {
    uint64_t hash; /* key_hash */
    size_t head;   /* the first fact (lowest index) with this key: its own index for itself */
} keyed_t;

typedef struct by_key {
    const cf_fact_t *f;
    size_t idx; /* position in the list (evidence order): ties keep it */
} by_key_t;

static int
by_key_cmp(const void *x, const void *y)
{
    const by_key_t *a = x, *b = y;
    int c = key_cmp(a->f, b->f);
    if (c)
        return c;
    return a->idx < b->idx ? -1 : a->idx > b->idx ? 1 : 0;
}

#define PROBE_MAX 32 /* a longer probe in dedupe's table: group by sorting instead */

/* Debug builds (no NDEBUG: the sanitizer tree, the fuzzer) group every article both
 * ways and abort when the two differ, so that the fallback, which real text never
 * reaches, is checked by every test that extracts. */
#ifdef NDEBUG
#define DEDUPE_CHECKS 0
#else
#define DEDUPE_CHECKS 1
#endif

/* Sets keys[i].head for the n facts of list by sorting them by key (O(n log n)
 * whatever the keys: the fallback of group_hashed). */
static void
group_sorted(keyed_t *keys, const cf_facts_t *list, size_t n)
{
    by_key_t *by = cf_malloc(n * sizeof *by);
    for (size_t i = 0; i < n; i++)
        by[i] = (by_key_t){&list->v[i], i};
    qsort(by, n, sizeof *by, by_key_cmp);
    for (size_t g = 0; g < n;) {
        size_t e = g;
        while (e < n && key_cmp(by[g].f, by[e].f) == 0)
            keys[by[e++].idx].head = by[g].idx;
        g = e;
    }
    free(by);
}

/* Sets keys[i].head for the n facts of list through an open-addressing table of the
 * first fact of each key (w->slots), in one pass in list order. Returns false, with
 * heads unset, when a probe runs longer than PROBE_MAX (keys made to collide): the
 * caller then sorts, so that the work stays O(n log n) on any input. */
static bool
group_hashed(work_t *w, keyed_t *keys, const cf_facts_t *list, size_t n)
{
    size_t ns = 16;
    while (ns < 2 * n)
        ns *= 2;
    if (w->nslots < ns) {
        free(w->slots);
        w->nslots = ns;
        w->slots = cf_malloc(ns * sizeof *w->slots);
    }
    size_t *slot = w->slots, mask = ns - 1;
    memset(slot, 0xff, ns * sizeof *slot); /* SIZE_MAX: empty */
    for (size_t i = 0; i < n; i++) {
        size_t h = (size_t)keys[i].hash & mask, probes = 0;
        for (;; h = (h + 1) & mask) {
            size_t j = slot[h];
            if (j == SIZE_MAX) {
                slot[h] = i;
                keys[i].head = i;
                break;
            }
            if (keys[j].hash == keys[i].hash && key_cmp(&list->v[j], &list->v[i]) == 0) {
                keys[i].head = j;
                break;
            }
            if (++probes > PROBE_MAX)
                return false;
        }
    }
    return true;
}

/* Merges facts with one key, keeping the first (an IPO without a place gives way
 * to a later mention that names the exchange or country). The facts of a key are
 * visited in list order, as sorting by (key, position) visited them: hashing
 * finds each key's first fact in O(1) expected, with sorting as the fallback. */
static void
dedupe(work_t *w, cf_facts_t *list)
{
    size_t n = list->n;
    if (n == 0)
        return;
    if (w->nkeys < n) {
        free(w->keys);
        w->nkeys = list->cap;
        w->keys = cf_malloc(w->nkeys * sizeof(keyed_t));
    }
    keyed_t *keys = w->keys;
    for (size_t i = 0; i < n; i++)
        keys[i].hash = key_hash(&list->v[i]);
    CF_STEPS(n);
    if (!group_hashed(w, keys, list, n)) {
        group_sorted(keys, list, n);
    } else if (DEDUPE_CHECKS) {
        /* the fallback must group exactly as the table did */
        keyed_t *alt = cf_malloc(n * sizeof *alt);
        group_sorted(alt, list, n);
        for (size_t i = 0; i < n; i++)
            if (alt[i].head != keys[i].head) {
                fprintf(stderr, "cf_extract: dedupe: fact %zu: head %zu hashed, %zu sorted\n", i,
                        keys[i].head, alt[i].head);
                abort();
            }
        free(alt);
    }
    for (size_t i = 0; i < n; i++) {
        size_t first = keys[i].head;
        if (first != i && !list->v[first].place && list->v[i].place) {
            cf_fact_t tmp = list->v[first];
            list->v[first] = list->v[i];
            list->v[i] = tmp;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        if (keys[i].head != i) {
            cf_fact_clear(&list->v[i]);
            continue;
        }
        if (kept != i) /* a fact is moved only once one before it is gone */
            list->v[kept] = list->v[i];
        kept++;
    }
    list->n = kept;
}

/* Checks, orders and merges the facts found in body: those that fail the daemon's
 * check (a bug) are dropped. Settling a settled list changes nothing. */
static void
settle(work_t *w, cf_facts_t *found, const char *body, size_t len)
{
    size_t kept = 0;
    for (size_t i = 0; i < found->n; i++) {
        if (cf_fact_validate(&found->v[i], body, len, NULL) != CF_OK) {
            cf_fact_clear(&found->v[i]);
            continue;
        }
        if (kept != i)
            found->v[kept] = found->v[i];
        kept++;
    }
    found->n = kept;
    sort_facts(w, found);
    dedupe(w, found);
    sort_facts(w, found);
}

int
cf_extract_article(cf_extractor_t *self, const cf_article_t *a, cf_facts_t *facts,
                   cf_class_t *cls, cf_err_t *err)
{
    if (!self || !a || !facts || !cls)
        return cf_err_set(err, CF_EINVAL, "extract: missing argument");
    cf_class_clear(cls);
    const char *body = a->body ? a->body : "";
    size_t len = a->body ? a->body_len : 0;
    /* the work area takes ~50 bytes per body byte: the daemon's limit bounds it */
    if (len > CF_MAX_BODY)
        return cf_err_set(err, CF_ETOOBIG, "article body larger than %u MiB (cloudfactd's limit)",
                          CF_MAX_BODY >> 20);
    CF_STEPS(len); /* the UTF-8 check reads every byte */
    if (!cf_utf8_valid(body, len))
        return cf_err_set(err, CF_EINVAL, "article body is not valid UTF-8");
    cf_period_date_t pub = cf_period_published(a->published);
    work_t *w = take_work(self, pub);
    cf_classify_t *tally = w->tally;
    if (a->title && cf_utf8_valid(a->title, strlen(a->title))) {
        size_t tl = strlen(a->title);
        run(self, w, w->title, a->title, tl < CF_MAX_TITLE ? tl : CF_MAX_TITLE, a->id, NULL, tally,
            3.0);
    }
    cf_facts_t *found = &w->found;
    run(self, w, w->body, body, len, a->id, found, tally, 1.0);
    settle(w, found, body, len);
    size_t keep = found->n < CF_MAX_FACTS ? found->n : CF_MAX_FACTS;
    for (size_t i = 0; i < found->n; i++) {
        if (i < keep)
            *cf_facts_push(facts) = found->v[i];
        else
            cf_fact_clear(&found->v[i]);
    }
    found->n = 0;
    cf_classify_finish(tally, keep, cls);
    give_work(self, w);
    return CF_OK;
}
