/* SPDX-License-Identifier: MIT
 * cf_assemble: mentions and fact patterns for one sentence (see cf_assemble.h).
 * Every loop below walks the sentence's tokens or mentions with a fixed window,
 * so a sentence of n tokens costs O(n * window); sentences are capped in bytes by
 * cf_sentence, and nothing recurses. */
#include "cf_assemble.h"

#include <ctype.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_cue.h"
#include "cf_limits.h"
#include "cf_number.h"
#include "cf_steps.h"
#include "cf_text.h"

/* Gates skip work that could find nothing: a cue lookup where the token's categories
 * rule it out, a number parse that would not try a cue, a fact pattern without its
 * triggers in the sentence. Debug builds (no NDEBUG: the sanitizer tree, the fuzzer)
 * do the work anyway and abort when it finds something a gate skipped, so that a gate
 * left behind by a change to what it guards fails test_extract, the integration tests
 * and fuzz_extract instead of losing facts in silence. */
#ifdef NDEBUG
#define GATE_CHECKS 0
#else
#define GATE_CHECKS 1
#endif
#define GATE_CHECK(cond)                                                                   \
    do {                                                                                   \
        if (!(cond)) {                                                                     \
            fprintf(stderr, "%s:%d: cf_assemble: a gate skipped a match: %s\n", __FILE__,  \
                    __LINE__, #cond);                                                      \
            abort();                                                                       \
        }                                                                                  \
    } while (0)

#define ID_MAX 64      /* an entity id or place name */
#define NAME_RAW (ID_MAX * 2) /* bytes of an unknown name's words, with spaces */
#define DETAIL_MAX 160 /* a detail phrase */
_Static_assert(ID_MAX > CF_GAZETTEER_NAME_MAX + sizeof "outside ", "a place with 'outside '");
_Static_assert(DETAIL_MAX > CF_CUE_VALUE_MAX, "a market name in a detail");
#define MAX_LIST 8     /* places or objects in one list */
#define MAX_SUBJ 4     /* coordinated subjects ("Cisco and HP") */
#define PAREN_SKIP 40  /* tokens a skipped parenthesis may hold */
#define MAX_LEARNED 32 /* unknown company names learned per article */
#define MAX_CAST 16    /* companies counted per article (topic, focus, "the cloud unit") */
#define LEARNED_WORDS 4
#define MAX_RENAMED 4 /* gazetteer companies an article names in full ("X Online GmbH") */
#define MAX_SETTLED 16 /* companies whose id as_written has settled for the article */

/* Verbs a company is the subject of, or bare after "would ... and": a clause starts
 * at them (clause_starts). Looked up by token hash, as commas and "and" are common. */
static const char *const clause_verb_words[] = {
    "said",     "says",     "has",      "have",   "had",       "is",       "are",       "was",
    "were",     "will",     "would",    "could",  "may",       "can",      "plans",     "planned",
    "aims",     "expects",  "intends",  "wants",  "agreed",    "signed",   "opened",    "operates",
    "runs",     "owns",     "reported", "posted", "announced", "launched", "booked",    "raised",
    "sells",    "offers",   "holds",    "serves", "counts",    "employs",  "pledged",   "committed",
    "invested", "acquired", "bought",   "sold",   "added",     "entered",  "became",    "remains",
    "remained", "won",      "took",     "built",  "started",   "began",    "completed", "hopes",
    "invest",   "open",     "build",    "spend",  "add",       "launch",   "expand",    "enter",
    "buy",      "acquire",  "sell",     "move",   "bring",     "double"};
#define CLAUSE_VERBS (sizeof clause_verb_words / sizeof *clause_verb_words)
_Static_assert(CLAUSE_VERBS < 256, "an index in the low byte");

enum { M_ENT, M_PLACE, M_NUM, M_PER, M_CUE };

_Static_assert(CF_CUE_COUNT_ <= 64, "cue categories are bits of a uint64_t");

typedef struct mention {
    int kind;              /* M_* */
    size_t a, b;           /* tokens [a, b) */
    int ekind;             /* CF_ENTITY_* */
    bool ref;              /* a pronoun or "the company", resolved */
    bool poss;             /* followed by a possessive 's */
    uint64_t cats;         /* M_CUE: bit per CF_CUE_* category */
    const char *status;    /* M_CUE status value */
    const char *market;    /* M_CUE market value */
    double ord;            /* M_CUE ordinal value, or a multiple's (doubled: 2) */
    int depth;             /* parenthesis depth at a */
    bool hard;             /* M_NUM: a fraction of a figure named before */
    bool exchange;         /* M_PLACE: a stock exchange */
    bool counted;          /* M_CUE: a data-center cue a count took ("16 data centers") */
    bool vague;            /* M_CUE: a data-center cue only in context ("facility") */
    /* the rest, three quarters of the size, is not cleared by add_mention: id is
     * read as a string (its first byte is cleared), num only in an M_NUM and per
     * only in an M_PER, which set them whole */
    char id[ID_MAX];       /* entity id (M_ENT) or place name (M_PLACE) */
    cf_number_t num;       /* M_NUM */
    cf_period_t per;       /* M_PER */
} mention_t;

typedef struct cand {
    const char *type;
    char subject[ID_MAX];
    char object[ID_MAX];
    bool has_value;
    double value;
    const char *unit;
    const char *qualifier;
    char place[ID_MAX];
    char detail[DETAIL_MAX];
    double conf;
    size_t a, b;           /* evidence tokens [a, b) */
    size_t ta, tb;         /* trigger tokens, for status and period */
    bool hard;             /* the value is computed from a figure named before */
} cand_t;

typedef struct subjects {
    char id[MAX_SUBJ][ID_MAX];
    size_t a[MAX_SUBJ];    /* first token of each mention */
    bool context[MAX_SUBJ]; /* taken from an earlier sentence */
    int n;
} subjects_t;

struct cf_assemble {
    /* kept by cf_assemble_reset: the tables and the per-token and mention buffers */
    const cf_gazetteer_t *gaz;
    const cf_lexicon_t *cues;
    mention_t *m;              /* this sentence's mentions, in token order */
    size_t mcap;
    int *cover;                /* per token: the mention covering it, or -1 */
    int *depth;                /* per token: parenthesis depth */
    bool *rel;                 /* per token: inside ", which/who ... ," */
    size_t tcap;
    uint64_t *own_cats;        /* tcats, tper and tgaz of a sentence computed alone */
    bool *own_per;
    unsigned char *own_gaz;
    uint64_t *gate_cats;       /* cf_assemble_gates: the same for every token of the */
    bool *gate_per;            /* article, computed once */
    unsigned char *gate_gaz;
    int32_t *gate_one;
    size_t gate_cap;
    uint64_t clause_verbs[CLAUSE_VERBS]; /* hash << 8 | index of clause_verb_words,
                                          * sorted: clause_verb's set */
    /* the article: zeroed by cf_assemble_reset, from pub up to learned */
    cf_period_date_t pub;
    char topic[ID_MAX];        /* what "the company" and pronouns name: count_cast */
    char focus[ID_MAX];        /* what "owns N percent of the company" names: count_cast */
    char prev_source[ID_MAX];  /* the source of the previous sentence */
    char quote_source[ID_MAX]; /* the source of an open quotation */
    bool in_quote;
    bool dc_article;           /* a data-center noun other than a vague one was named */
    int since_share;           /* sentences since one gave market shares (1: the
                                * previous one), 0 when none did */
    size_t nlearned;           /* entries of learned[] and learned_key[] in use */
    size_t nrenamed;           /* entries of renamed[] in use */
    size_t nsettled;           /* entries of settled[] in use */
    size_t ncast;              /* entries of cast[] and cast_count[] in use */
    size_t unit_owner;         /* 1 + the cast entry with a cloud unit named most, 0: none */
    size_t nm;                 /* mentions in m */
    uint64_t *tcats;           /* per token: cue categories that may start there */
    bool *tper;                /* per token: a period may start there (cf_period) */
    unsigned char *tgaz;       /* per token: CF_GAZETTEER_* aliases that may start there */
    const int32_t *tone;       /* per token: the cue match a one-word phrase decides
                                * (cf_lexicon_roots_tag_gates), or NULL when not computed */
    const cf_token_t *gate_v;  /* the tokens gate_* describe, NULL when none */
    size_t gate_n;
    /* the sentence being processed */
    const char *body;
    const cf_tokens_t *t;
    uint64_t article;
    cf_facts_t *facts;
    char source[ID_MAX];
    bool has_quote;            /* annotate: the sentence has a '"' token */
    bool doubt;
    bool doubt_back;           /* the doubt is about the previous sentence ("That seems unlikely") */
    bool rumor;                /* "people familiar with the matter said" */
    bool has_dc_count;
    bool prev_dc_count;        /* the previous sentence counted data centers */
    bool has_share;            /* this sentence gave a market share */
    size_t facts_before;       /* facts before this sentence's */
    size_t prev_from;          /* the previous sentence's facts: [prev_from, facts_before) */
    bool last_money;           /* a money figure was named in this or the last sentences */
    double last_money_value;   /* its value */
    const char *last_money_unit;
    const char *last_money_type; /* the type of the fact it gave, or NULL */
    int last_money_age;        /* sentences since it was named */
    int scan_year;             /* cf_assemble_scan: the last explicit year seen */
    bool year_fixed;           /* cf_assemble_scan found the article's year */
    char last_quarter[16];     /* the last quarter named ("2020-Q3"), for "the quarter" */
    /* last, and not zeroed by cf_assemble_reset (only [0, nlearned), [0, nrenamed) and
     * [0, nsettled) are read): 6 KB
     * that a clear per article and title would cost */
    char learned[MAX_LEARNED][ID_MAX];     /* ids of companies named without a gazetteer entry */
    char learned_key[MAX_LEARNED][ID_MAX * 2]; /* their normalized words */
    bool learned_source[MAX_LEARNED];          /* a research firm or broker: a source */
    char cast[MAX_CAST][ID_MAX];           /* companies named, [0, ncast) */
    unsigned cast_count[MAX_CAST];         /* how often each was named */
    bool cast_unit[MAX_CAST];              /* whether its family has a cloud unit */
    char renamed[MAX_RENAMED][2][ID_MAX];  /* a gazetteer id and the article's full name */
    const cf_entity_t *settled[MAX_SETTLED]; /* as_written has decided their ids */
};

/* ------------------------------------------------------------------------ */
/* small helpers */

static inline bool
has(const mention_t *m, int cat)
{
    CF_STEP();
    return m->kind == M_CUE && (m->cats & (1ull << cat));
}

static bool
tok_is(const cf_assemble_t *self, size_t i, const char *w)
{
    return cf_token_is(self->t, i, w);
}

/* Is token i one of the n words (lowercase, as tok_is compares)? TOK_IN takes an array. */
static bool
tok_in(const cf_assemble_t *self, size_t i, const char *const *words, size_t n)
{
    return cf_token_in(self->t, i, words, n);
}
#define TOK_IN(self, i, words) tok_in((self), (i), (words), sizeof(words) / sizeof *(words))

static bool
clause_end_tok(const cf_assemble_t *self, size_t i)
{
    return tok_is(self, i, ".") || tok_is(self, i, ";") || tok_is(self, i, ":") ||
           tok_is(self, i, "?") || tok_is(self, i, "!");
}

/* Copies src into dst, truncating to n - 1 bytes on purpose (ids are bounded). */
static void
copy(char *dst, size_t n, const char *src)
{
    size_t len = src ? strnlen(src, n - 1) : 0;
    if (len)
        memcpy(dst, src, len);
    dst[len] = '\0';
}

/* The words of tokens [a, b) as a phrase for a detail: the body's text with one
 * space wherever it has white space or anything else between two tokens (a line
 * break, a tab, a no-break space). Returns its length, or 0 when it is empty or
 * does not fit in n bytes (out is then ""). */
static size_t
phrase(const cf_assemble_t *self, size_t a, size_t b, char *out, size_t n)
{
    const cf_token_t *v = self->t->v;
    size_t len = 0;
    out[0] = '\0';
    for (size_t k = a; k < b && k < self->t->n; k++) {
        size_t w = v[k].end - v[k].start, gap = k > a && v[k].start > v[k - 1].end;
        if (len + gap + w >= n) {
            out[0] = '\0';
            return 0;
        }
        if (gap)
            out[len++] = ' ';
        memcpy(out + len, self->body + v[k].start, w);
        len += w;
    }
    out[len] = '\0';
    return len;
}

static const mention_t *
at(const cf_assemble_t *self, size_t tok)
{
    CF_STEP();
    if (tok >= self->t->n || self->cover[tok] < 0)
        return NULL;
    return &self->m[self->cover[tok]];
}

static bool
is_subject_ent(const mention_t *m)
{
    CF_STEP();
    return m->kind == M_ENT && m->ekind != CF_ENTITY_SOURCE && m->id[0];
}

static const char *
family(const cf_assemble_t *self, const char *id)
{
    return cf_gazetteer_family(self->gaz, id);
}

static bool
same_family(const cf_assemble_t *self, const char *a, const char *b)
{
    return strcmp(family(self, a), family(self, b)) == 0;
}

/* ------------------------------------------------------------------------ */
/* mentions */

static mention_t *
add_mention(cf_assemble_t *self, int kind, size_t a, size_t b)
{
    if (self->nm == self->mcap) {
        self->mcap = self->mcap ? self->mcap * 2 : 64;
        self->m = cf_realloc(self->m, self->mcap * sizeof *self->m);
    }
    mention_t *m = &self->m[self->nm];
    memset(m, 0, offsetof(mention_t, id));
    m->id[0] = '\0';
    m->kind = kind;
    m->a = a;
    m->b = b;
    m->depth = self->depth[a];
    for (size_t k = a; k < b && k < self->t->n; k++)
        self->cover[k] = (int)self->nm;
    self->nm++;
    return m;
}

/* "We", "our" in a quote: the speaker's company, named after the quote ("said
 * Hetzner's chief executive"; none when it is an analyst's firm), else the article's
 * topic. Outside a quote they are the writer's: no company. */
static const cf_entity_t *entity_at(const cf_assemble_t *self, size_t i, size_t *n);
static inline int learned_at(const cf_assemble_t *self, size_t i, size_t *n);

static __attribute__((noinline)) const char *
quoted_we(const cf_assemble_t *self, size_t i)
{
    bool in = false;
    for (size_t j = 0; j < i; j++)
        in ^= tok_is(self, j, "\"");
    if (!in)
        return NULL;
    size_t j = i + 1;
    while (j < self->t->n && !tok_is(self, j, "\""))
        j++;
    for (size_t n; j < self->t->n; j++) {
        /* an analyst's firm, a source, is no subject: a learned one is named as none */
        const cf_entity_t *e = entity_at(self, j, &n);
        if (e)
            return e->id;
        int k = learned_at(self, j, &n);
        if (k >= 0)
            return !self->learned_source[k] ? self->learned[k] : NULL;
    }
    return self->topic[0] ? self->topic : NULL;
}

/* The company a pronoun at token i refers to: the subject of its own clause when one
 * comes right before it, after a word that opens a clause ("..., days after Microsoft
 * opened its fourth region": Microsoft, not the company the sentence opened with; but
 * "Oracle beat Microsoft because its revenue grew" is Oracle's), else the first
 * company named earlier in the sentence, else the topic of the previous sentences. */
static const char *
resolve_ref(const cf_assemble_t *self, size_t i)
{
    static const char *const openers[] = {"after",   "before", "as",       "when",  "while",
                                          "because", "since",  "said",     "says",  "where",
                                          "whereas", "though", "although", "until", "once"};
    static const char *const breaks[] = {
        ",",    ";",   ":",  "(",  ")",  "-",  "that", "which", "who", "with", "to",
        "from", "for", "by", "of", "at", "in", "on",   "than",  "and", "or",   "\""};
    if (tok_is(self, i, "we") || tok_is(self, i, "our"))
        return quoted_we(self, i);
    size_t last = self->nm;
    while (last > 0 && self->m[last - 1].kind == M_CUE) /* "opened", "plans to": cues */
        last--;
    if (last > 0) {
        const mention_t *m = &self->m[last - 1];
        bool near = is_subject_ent(m) && !m->poss && m->a > 0 && m->b < i && i - m->b <= 3 &&
                    TOK_IN(self, m->a - 1, openers);
        for (size_t j = m->b; near && j < i; j++)
            near = (self->t->v[j].flags & CF_TOKEN_WORD) && !TOK_IN(self, j, breaks);
        if (near)
            return m->id;
    }
    for (size_t k = 0; k < self->nm; k++)
        if (is_subject_ent(&self->m[k]))
            return self->m[k].id;
    return self->topic[0] ? self->topic : NULL;
}

/* Does token j end a company named by its first word alone: nothing, punctuation, a
 * possessive, a verb companies are the subject of ("Kaldvik said", "Kaldvik, which")
 * or a preposition. */
static bool
short_name_end(const cf_assemble_t *self, size_t j)
{
    static const char *const verbs[] = {
        "'s",       "said",    "says",      "has",      "had",       "is",      "was",
        "will",     "would",   "plans",     "operates", "runs",      "opened",  "owns",
        "reported", "posted",  "expects",   "also",     "which",     "who",     "agreed",
        "declined", "did",     "does",      "now",      "currently", "already", "still",
        "recently", "intends", "announced", "launched", "signed",    "filed",   "raised",
        "sells",    "offers",  "holds",     "serves",   "could",     "may",     "can",
        "aims",     "wants",   "counts",    "employs"};
    /* "a stake in Kaldvik last year", "in Kaldvik before the listing": a preposition or
     * a time after it ("and" is not: "Nordic and Baltic markets") */
    static const char *const after[] = {"before", "after", "last",  "this", "in",    "on",
                                        "at",     "for",   "from",  "to",   "by",    "with",
                                        "as",     "since", "until", "than", "during"};
    const cf_tokens_t *t = self->t;
    if (j >= t->n || !(t->v[j].flags & CF_TOKEN_WORD))
        return j >= t->n || !tok_is(self, j, "-");
    return TOK_IN(self, j, verbs) || TOK_IN(self, j, after);
}

/* A learned company name at token i: returns its index and sets *n, or -1. Inlined
 * into annotate, which calls it on every capitalized token once a name is learned (a
 * call there costs 1 % of the extractor). */
static inline __attribute__((always_inline)) int
learned_at(const cf_assemble_t *self, size_t i, size_t *n)
{
    const cf_tokens_t *t = self->t;
    if (i >= t->n || !(t->v[i].flags & CF_TOKEN_CAP))
        return -1;
    for (size_t k = 0; k < self->nlearned; k++) {
        const char *key = self->learned_key[k];
        CF_STEP();
        size_t j = i, off = 0;
        while (j < t->n && j - i < LEARNED_WORDS) {
            const char *w = cf_token_norm(t, j);
            size_t wl = t->v[j].len;
            if (strncmp(key + off, w, wl) != 0)
                break;
            off += wl;
            j++;
            if (key[off] == '\0') {
                *n = j - i;
                return (int)k;
            }
            if (key[off] != ' ')
                break;
            /* "Kaldvik Data AS ... Kaldvik said": a later mention by the first word, when
             * what follows reads as the company's ("Nordic Data AS ... Nordic countries"
             * and "Green bonds" do not) */
            if (j == i + 1 && short_name_end(self, j)) {
                *n = 1;
                return (int)k;
            }
            off++;
        }
    }
    return -1;
}

/* Remembers an unknown company named at tokens [a, b) under id. */
static void
learn(cf_assemble_t *self, size_t a, size_t b, const char *id)
{
    if (self->nlearned == MAX_LEARNED || b <= a || b - a > LEARNED_WORDS)
        return;
    for (size_t k = 0; k < self->nlearned; k++)
        if (strcmp(self->learned[k], id) == 0)
            return;
    char key[ID_MAX * 2];
    size_t off = 0;
    for (size_t j = a; j < b; j++) {
        size_t wl = self->t->v[j].len;
        if (off + wl + 2 > sizeof key)
            return;
        if (off)
            key[off++] = ' ';
        memcpy(key + off, cf_token_norm(self->t, j), wl);
        off += wl;
    }
    key[off] = '\0';
    copy(self->learned[self->nlearned], ID_MAX, id);
    copy(self->learned_key[self->nlearned], sizeof self->learned_key[0], key);
    self->learned_source[self->nlearned] = false;
    self->nlearned++;
}

static size_t name_run(const cf_assemble_t *self, size_t i, char *raw, size_t *rawlen);
static size_t unknown_name(const cf_assemble_t *self, size_t i, char *id, size_t idsz);

/* cf_gazetteer_entity_at and _place_at at token i < t->n, skipped when the token's
 * bits (tgaz) rule them out. */
static const cf_entity_t *
entity_at(const cf_assemble_t *self, size_t i, size_t *n)
{
    return self->tgaz[i] & CF_GAZETTEER_ENTITY ? cf_gazetteer_entity_at(self->gaz, self->t, i, n)
                                               : NULL;
}

static const char *
place_at(const cf_assemble_t *self, size_t i, size_t *n, const char **kind)
{
    return self->tgaz[i] & CF_GAZETTEER_PLACE
               ? cf_gazetteer_place_at(self->gaz, self->t, i, n, kind)
               : NULL;
}

/* cf_lexicon_match on the cue lexicon at token i < t->n (cat -1: any), skipped when
 * the token's categories (tcats) rule it out. */
static int
cue_match(const cf_assemble_t *self, size_t i, int cat, size_t *n)
{
    if (!(cat < 0 ? self->tcats[i] : self->tcats[i] & (1ull << cat))) {
        if (GATE_CHECKS) {
            size_t dn;
            GATE_CHECK(cf_lexicon_match(self->cues, self->t, i, cat, &dn) < 0);
        }
        return -1;
    }
    return cf_lexicon_match(self->cues, self->t, i, cat, n);
}

/* cue_match(self, i, -1, n), answered from the tagging pass (tone) where the word
 * alone decides it: most cue words start no longer phrase, and their match would
 * only re-read what that pass saw. */
static int
cue_any(const cf_assemble_t *self, size_t i, size_t *n)
{
    /* tone[i] is only written where tcats[i] is not 0 */
    int32_t one = self->tone && self->tcats[i] ? self->tone[i] : CF_LEXICON_WALK;
    if (one == CF_LEXICON_WALK)
        return cue_match(self, i, -1, n);
    if (GATE_CHECKS) {
        size_t dn = 0;
        int k = cf_lexicon_match(self->cues, self->t, i, -1, &dn);
        GATE_CHECK(k == one && (k < 0 || dn == 1));
    }
    if (one >= 0)
        *n = 1;
    return one;
}

/* cf_number_parse at token i of the sentence, matching its cues only where the
 * sentence's categories (tcats) allow. */
static bool
number_at(const cf_assemble_t *self, size_t i, cf_number_t *num)
{
    bool ok = cf_number_parse_cats(self->cues, self->t, i, self->tcats, num);
    if (GATE_CHECKS) {
        cf_number_t all; /* both clear the whole struct first: memcmp is exact */
        bool ok_all = cf_number_parse(self->cues, self->t, i, &all);
        GATE_CHECK(ok == ok_all && (!ok || memcmp(&all, num, sizeof all) == 0));
    }
    return ok;
}

/* cue_at's lexicon lookup, out of line: most tokens never get here. */
static __attribute__((noinline)) bool
cue_match_at(const cf_assemble_t *self, size_t i, int cat, size_t *n)
{
    size_t nc = 0;
    if (cf_lexicon_match(self->cues, self->t, i, cat, &nc) < 0)
        return false;
    if (n)
        *n = nc;
    return true;
}

/* Inline: the category test rejects most tokens without a call. */
static inline bool
cue_at(const cf_assemble_t *self, size_t i, int cat, size_t *n)
{
    return i < self->t->n && (self->tcats[i] & (1ull << cat)) && cue_match_at(self, i, cat, n);
}

/* Is the name at tokens [a, b) a person? "Thomas Kurian, who ...", "Chief Executive
 * Daniel Zhang", "analyst Yi Zhang", "Larry Ellison, Oracle's chairman,". */
static bool
person_name(const cf_assemble_t *self, size_t a, size_t b)
{
    const cf_tokens_t *t = self->t;
    if (tok_is(self, b, ",") && (tok_is(self, b + 1, "who") || tok_is(self, b + 1, "whose")))
        return true;
    /* a title right before the name */
    for (size_t k = a >= 3 ? a - 3 : 0; k < a; k++) {
        size_t nc;
        if (cue_at(self, k, CF_CUE_PERSON, &nc) && k + nc == a)
            return true;
    }
    /* an appositive that is a title: ", the company's chief executive," */
    if (tok_is(self, b, ",")) {
        for (size_t j = b + 1; j < t->n && j < b + 7; j++) {
            if (tok_is(self, j, ",") || clause_end_tok(self, j))
                break;
            if (cue_at(self, j, CF_CUE_PERSON, NULL))
                return true;
        }
    }
    return false;
}

/* The appositive name at token a, if any: "Kaldvik, a Norwegian operator, ...".
 * headed: the name is no place and the company noun heads the appositive ("In 2023,
 * Brazil, a key market for cloud providers," is no company): no preposition,
 * relative pronoun or possessive comes before the noun, nor a possessive after it. */
static void
learn_appositive_at(cf_assemble_t *self, size_t a, bool headed)
{
    static const char *const stops[] = {"of",   "for",  "to",    "in",  "on",    "at", "by", "with",
                                        "from", "that", "which", "who", "whose", "'s", "and"};
    char id[ID_MAX];
    size_t n = name_run(self, a, NULL, NULL), ne;
    if (n == 0 || !tok_is(self, a + n, ","))
        return;
    if (headed && place_at(self, a, &ne, NULL))
        return;
    n = unknown_name(self, a, id, sizeof id);
    if (n == 0 || !tok_is(self, a + n, ",") || person_name(self, a, a + n))
        return;
    for (size_t j = a + n + 1; j < self->t->n && j < a + n + 8; j++) {
        size_t nc;
        if (cue_match(self, j, CF_CUE_COMPNOUN, &nc) >= 0 ||
            tok_is(self, j, "arm") || tok_is(self, j, "unit") || tok_is(self, j, "subsidiary") ||
            tok_is(self, j, "division")) {
            if (!headed || !tok_is(self, j + nc, "'s"))
                learn(self, a, a + n, id);
            return;
        }
        if (tok_is(self, j, ",") || clause_end_tok(self, j) || (headed && TOK_IN(self, j, stops)))
            return;
    }
}

/* "Kaldvik, a Norwegian operator, ...", "In France, Bleu, the joint venture owned
 * by ...": a capitalized name that opens the sentence, or its first clause after an
 * opening phrase, and that a description of a company follows between commas. */
static void
learn_appositive(cf_assemble_t *self)
{
    /* the name takes at most 4 tokens and a comma follows it: most sentences have
     * none in their first 5 tokens, and the name is not spelled out (and slugged)
     * for nothing */
    size_t comma = 0;
    for (size_t j = 1; j <= 4 && !comma; j++)
        if (tok_is(self, j, ","))
            comma = j;
    if (!comma)
        return;
    learn_appositive_at(self, 0, false);
    if (comma + 1 < self->t->n)
        learn_appositive_at(self, comma + 1, true);
}

/* Learns the company named by the capitalized words before token last (up to
 * `before` of them, less an opening word that starts no name: "Yesterday", "The") and
 * through end (last itself when end = last + 1, not when end = last); at least one
 * word must come before last. Nothing when the run names a known company, a place or
 * a person. */
static void
learn_run(cf_assemble_t *self, size_t last, size_t end, size_t before)
{
    const cf_tokens_t *t = self->t;
    size_t a = last, nc, ne;
    while (a > 0 && last - a < before && (t->v[a - 1].flags & CF_TOKEN_WORD) &&
           (t->v[a - 1].flags & CF_TOKEN_CAP) && !(t->v[a - 1].flags & CF_TOKEN_NUM))
        a--;
    while (a < last && cue_match(self, a, CF_CUE_STOPCAP, &nc) >= 0 && nc == 1)
        a++;
    if (a == last || entity_at(self, a, &ne) ||
        place_at(self, a, &ne, NULL))
        return;
    char id[ID_MAX];
    if (unknown_name(self, a, id, sizeof id) == end - a && !person_name(self, a, end))
        learn(self, a, end, id);
}

/* "Kaldvik Data AS", "Voltstack Inc.": a run of capitalized words that a corporate
 * suffix closes names a company, wherever it stands. */
static void
learn_suffixed(cf_assemble_t *self)
{
    size_t nc;
    for (size_t i = 1; i < self->t->n; i++)
        if ((self->tcats[i] & (1ull << CF_CUE_SUFFIX)) &&
            cue_match(self, i, CF_CUE_SUFFIX, &nc) >= 0)
            learn_run(self, i, i, 4);
}

/* "Sify Technologies", "Sakura Internet", "Kestrel Data Centres": a run of capitalized
 * words that ends in a word companies take for their names (cues.tsv namehead; not
 * "Cloud", which products end in too) is one; the word is part of the name, unlike a
 * suffix. */
static void
learn_headnoun(cf_assemble_t *self)
{
    const cf_tokens_t *t = self->t;
    size_t nc;
    for (size_t i = 1; i < t->n; i++)
        if ((self->tcats[i] & (1ull << CF_CUE_NAMEHEAD)) &&
            cue_match(self, i, CF_CUE_NAMEHEAD, &nc) >= 0 &&
            !(i + 1 < t->n && (t->v[i + 1].flags & CF_TOKEN_CAP))) /* else the name goes on */
            learn_run(self, i, i + 1, 3);
}

/* Verbs that make a data center or region: "launching one in Ashburn", "opened a
 * region in Chile". */
static const char *const dc_build[] = {"open",     "opens",     "opened",   "opening", "build",
                                       "builds",   "built",     "building", "launch",  "launches",
                                       "launched", "launching", "add",      "adds",    "added",
                                       "adding",   "plans",     "planned",  "planning"};

/* "a new region in Riyadh", "31 regions", "its first region in": in an article about
 * data centers, or after a cloud word or a cloud unit in the sentence ("Huawei Cloud will
 * open a region"), a region a provider counts, or opens in a place, is one. Not a part of
 * the world: "the region", "all regions", "a region where", "the Asia-Pacific region",
 * "12 regions of Europe". */
static int place_rank(const cf_assemble_t *self, size_t i);

/* "Munich", "Munich and Hamburg", "Munich, Hamburg and Berlin": the cities or states
 * listed right before token end (no exchange, no country: "European data centers" are
 * none). Fills v with at most max of them, the last first; returns how many. */
static int
places_before(const cf_assemble_t *self, size_t end, const mention_t **v, int max)
{
    int n = 0;
    for (size_t e = end; n < max && e > 0;) {
        const mention_t *p = at(self, e - 1);
        if (!p || p->kind != M_PLACE || p->b != e || p->exchange || place_rank(self, p->a) >= 3)
            break;
        v[n++] = p;
        if (p->a < 2 || !(tok_is(self, p->a - 1, "and") || tok_is(self, p->a - 1, ",")))
            break;
        e = p->a - 1;
    }
    return n;
}

/* Is token i "new" or an ordinal ("first", "second"): a region just opened. */
static bool
new_or_nth(const cf_assemble_t *self, size_t i)
{
    const mention_t *x = at(self, i);
    return tok_is(self, i, "new") || (x && x->a == i && has(x, CF_CUE_ORDINAL));
}

static bool
cloud_region(const cf_assemble_t *self, size_t i)
{
    bool cloud = self->dc_article;
    for (size_t k = 0; k < self->nm && !cloud; k++)
        cloud = has(&self->m[k], CF_CUE_CLOUD) ||
                (self->m[k].kind == M_ENT && self->m[k].ekind == CF_ENTITY_UNIT);
    if (!cloud || i == 0 || tok_is(self, i + 1, "of"))
        return false;
    static const char *const more[] = {"more",       "new",          "further",  "additional",
                                       "geographic", "geographical", "separate", "distinct"};
    static const char *const area[] = {
        "the", "that", "this",  "each", "every", "whole", "wider",   "same",  "entire", "broader",
        "all", "most", "other", "both", "many",  "some",  "several", "rural", "-"};
    const mention_t *b = at(self, i - 1);
    /* "opened a region in Chile": after a verb that makes or has one, the article is no
     * mention that says what the region is (not "rose in a region in Asia") */
    static const char *const has_one[] = {"unveiled", "announced", "has",     "have",
                                          "had",      "runs",      "operates"};
    if (b && b->kind == M_CUE && (tok_is(self, i - 1, "a") || tok_is(self, i - 1, "an")) &&
        i >= 2 && (TOK_IN(self, i - 2, dc_build) || TOK_IN(self, i - 2, has_one)))
        b = NULL;
    /* "four more regions", "12 new regions", "37 geographic regions" */
    const mention_t *n2 = i >= 2 ? at(self, i - 2) : NULL;
    if (!b && n2 && n2->kind == M_NUM && TOK_IN(self, i - 1, more))
        b = n2;
    /* "52 public cloud regions", "12 planned regions": cloud words or a status between
     * the count and the cue (not "12 sales regions") */
    uint64_t between = (1ull << CF_CUE_CLOUD) | (1ull << CF_CUE_MARKET) | (1ull << CF_CUE_STATUS);
    if (b && b->kind == M_CUE && !(b->cats & ~between) && b->a > 0 && (n2 = at(self, b->a - 1)) &&
        n2->kind == M_NUM)
        b = n2;
    /* "52 regions"; "94 zones in 29 regions" counts both (tests/corpus-fresh's call, where
     * tests/corpus read "13 data centers in eight regions" as one count); not regions
     * a list names after a colon ("three regions: the Americas, EMEA and Asia") */
    if (b && b->kind == M_NUM)
        return !tok_is(self, i + 1, ":");
    /* "its Dammam region", "our Frankfurt region", "Google's Mumbai region", "the AWS
     * Mumbai region": a city or state the owner has one in (not "its Asia region", a
     * sales region, nor "the Asia-Pacific region", "a region") */
    const mention_t *pv[MAX_LIST];
    int np = places_before(self, i, pv, MAX_LIST);
    if (np > 0 && pv[np - 1]->a > 0) { /* and "its Munich and Hamburg regions" */
        static const char *const owners[] = {"its", "their", "our"};
        size_t a = pv[np - 1]->a;
        if (a > 1 && new_or_nth(self, a - 1))
            a--; /* "its new Madrid region" */
        const mention_t *o = at(self, a - 1);
        return TOK_IN(self, a - 1, owners) || (o && o->kind == M_ENT);
    }
    /* otherwise a place must follow: "a new region in Riyadh", "its first region in" */
    if (!tok_is(self, i + 1, "in"))
        return false;
    /* "its first African region in Johannesburg": a new one, named for a part of the
     * world (not "the Asia-Pacific region in ...") */
    if (b && b->kind == M_PLACE && b->a > 0 && new_or_nth(self, b->a - 1))
        return true;
    if (b) /* an ordinal or a company ("an Azure region"), not a place or another cue */
        return has(b, CF_CUE_ORDINAL) || (b->kind == M_ENT && b->ekind != CF_ENTITY_SOURCE);
    return !(self->t->v[i - 1].flags & CF_TOKEN_CAP) && !TOK_IN(self, i - 1, area);
}

/* May the sentence name a data center: a data-center cue other than "region", which
 * is one only where cloud_region says so ("cut jobs in the region at a cost of"). */
static bool
dc_word_in_sentence(const cf_assemble_t *self, uint64_t cats)
{
    if (!(cats & (1ull << CF_CUE_DATACENTER)))
        return false;
    for (size_t i = 0; i < self->t->n; i++)
        if ((self->tcats[i] & (1ull << CF_CUE_DATACENTER)) && !tok_is(self, i, "region") &&
            !tok_is(self, i, "regions"))
            return true;
    return false;
}

/* "facility", "site" or "campus" alone: a data center only in context */
static bool
vague_dc(const cf_assemble_t *self, const mention_t *m)
{
    /* tok_is on literals, not TOK_IN: inlined, a length compare each (every
     * data-center cue passes here) */
    size_t i = m->a;
    return m->b == i + 1 && (tok_is(self, i, "facility") || tok_is(self, i, "facilities") ||
                             tok_is(self, i, "site") || tok_is(self, i, "sites") ||
                             tok_is(self, i, "campus") || tok_is(self, i, "campuses"));
}

/* A site or campus that is no data center even in an article about them: a kind
 * named before it ("the e-commerce site", "its office campus", "warehouse sites") or
 * people working there ("its engineers work at 30 sites"). */
static bool
other_site(const cf_assemble_t *self, size_t i)
{
    static const char *const kinds[] = {
        "office",   "offices",       "warehouse",    "job",        "commerce", "web",
        "retail",   "corporate",     "headquarters", "university", "school",   "college",
        "research", "manufacturing", "factory",      "mining",     "shopping", "news",
        "media",    "social",        "booking",      "travel",     "video",    "music",
        "review",   "comparison",    "heritage",     "tourist",    "test",     "production",
        "sales",    "support",       "training"};
    static const char *const people[] = {"employees", "staff", "engineers", "workers",  "people",
                                         "work",      "works", "jobs",      "students", "visitors"};
    if (i > 0 && TOK_IN(self, i - 1, kinds))
        return true;
    for (size_t k = 0; k < self->t->n; k++)
        if (TOK_IN(self, k, people))
            return true;
    return false;
}

/* Cues that mean their category only in context: "facility", "site" or "campus" alone
 * is a data center in an article that has named data centers (not "four chip
 * facilities"), and "at a cost of" an investment where data centers are built (not "cut
 * jobs at a cost of"). cats: the cue categories that may start in the sentence. */
static __attribute__((noinline)) void
narrow_cue(cf_assemble_t *self, mention_t *m, uint64_t cats)
{
    if (has(m, CF_CUE_DATACENTER)) {
        m->vague = vague_dc(self, m);
        if (m->vague) {
            if (!self->dc_article || other_site(self, m->a))
                m->cats &= ~(1ull << CF_CUE_DATACENTER);
        } else if (tok_is(self, m->a, "region") || tok_is(self, m->a, "regions")) {
            if (!cloud_region(self, m->a))
                m->cats &= ~(1ull << CF_CUE_DATACENTER);
        } else {
            self->dc_article = true;
        }
    }
    if (has(m, CF_CUE_INVEST) && tok_is(self, m->a, "at") && tok_is(self, m->a + 1, "a") &&
        !dc_word_in_sentence(self, cats))
        m->cats &= ~(1ull << CF_CUE_INVEST);
}

/* Learns the unknown name right after a noun of category cat: "data center operator
 * Switch", "rival JD" (orgnoun: a company); "brokerage firm Kestrel Securities",
 * "analysts at Harbour Research" (srcnoun, source: a source, whose forecasts are of the
 * company it writes about). A source noun may open the sentence capitalized ("Brokerage
 * firm X expects"), and names none right after a deal ("agreed to buy research firm X",
 * "a deal with brokerage firm X": a company bought or partnered with). */
static void
learn_after_noun(cf_assemble_t *self, int cat, bool source)
{
    const cf_tokens_t *t = self->t;
    for (size_t i = 0; i + 1 < t->n; i++) {
        size_t nc, ne;
        if (((t->v[i].flags & CF_TOKEN_CAP) && !(source && i == 0)) || !cue_at(self, i, cat, &nc))
            continue;
        size_t j = i + nc;
        if (j >= t->n || entity_at(self, j, &ne) || place_at(self, j, &ne, NULL))
            continue;
        bool dealt = false;
        for (size_t k = i >= 4 ? i - 4 : 0; source && k < i && !dealt; k++)
            dealt = tok_is(self, k, "with") ||
                    (self->tcats[k] & ((1ull << CF_CUE_ACQUIRE) | (1ull << CF_CUE_PARTNER) |
                                       (1ull << CF_CUE_STAKE)));
        if (dealt)
            continue;
        char id[ID_MAX];
        size_t n = unknown_name(self, j, id, sizeof id), had = self->nlearned;
        if (n && !person_name(self, j, j + n))
            learn(self, j, j + n, id);
        if (self->nlearned > had)
            self->learned_source[had] = source;
        i = j;
    }
}

/* The id a gazetteer company has in this article: the full name it was given. */
static const char *
renamed(const cf_assemble_t *self, const char *id)
{
    for (size_t k = 0; k < self->nrenamed; k++)
        if (strcmp(self->renamed[k][0], id) == 0)
            return self->renamed[k][1];
    return id;
}

/* Records that gazetteer company id is called full in this article; full_name and
 * as_written check that there is room. */
static void
add_renamed(cf_assemble_t *self, const char *id, const char *full)
{
    copy(self->renamed[self->nrenamed][0], ID_MAX, id);
    copy(self->renamed[self->nrenamed][1], ID_MAX, full);
    self->nrenamed++;
}

/* The ids GUIDELINES "Entities" fixes: never renamed by a longer name. */
static bool
listed_id(const char *id)
{
    static const char *const ids[] = {
        "alibaba-cloud", "aws",       "azure",     "google-cloud", "tencent-cloud", "huawei-cloud",
        "alibaba",       "amazon",    "microsoft", "google",       "ibm",           "hp",
        "cisco",         "rackspace", "baidu",     "tencent",      "huawei",        "red-hat",
        "box",           "dropbox",   "gokuai",    "ebay",         "yahoo",         "lyft",
        "quixey",        "tango",     "snapchat",  "oracle",       "salesforce",    "vmware",
        "digitalocean"};
    for (size_t k = 0; k < sizeof ids / sizeof *ids; k++)
        if (strcmp(ids[k], id) == 0)
            return true;
    return false;
}

/* Was company id named in an earlier sentence, or so far in this one? */
static bool
named_before(const cf_assemble_t *self, const char *id)
{
    for (size_t k = 0; k < self->ncast; k++)
        if (strcmp(self->cast[k], id) == 0)
            return true;
    for (size_t k = 0; k < self->nm; k++)
        if (self->m[k].kind == M_ENT && strcmp(self->m[k].id, id) == 0)
            return true;
    return false;
}

/* A gazetteer company e at tokens [i, i + ne), not one GUIDELINES lists, whose name the
 * text writes longer (ids follow the name as written, GUIDELINES "Entities"):
 * capitalized words closed by a corporate suffix ("Hetzner Online GmbH") or ending the
 * name in a word that heads company names ("Samsung Electronics"; not "X Elastic Compute
 * Cloud"). Writes the id to full; returns the words added, 0 when none. The article's
 * later mentions of e take the longer id too when it is e's first naming, closed by a
 * suffix, and not a sibling: e heads no family with a cloud unit, and the added words
 * do not end in a word that heads names ("Intel Capital Corp" is not Intel). */
static __attribute__((noinline)) size_t
full_name(cf_assemble_t *self, const cf_entity_t *e, size_t i, size_t ne, char *full)
{
    const cf_tokens_t *t = self->t;
    size_t j = i + ne, nc, nx;
    bool head = false;
    if (listed_id(e->id))
        return 0;
    while (j < t->n && j - (i + ne) < 3) {
        unsigned f = t->v[j].flags;
        if (!(f & CF_TOKEN_WORD) || !(f & CF_TOKEN_CAP) || (f & CF_TOKEN_NUM) ||
            entity_at(self, j, &nx) || place_at(self, j, &nx, NULL) ||
            cue_match(self, j, CF_CUE_SUFFIX, &nc) >= 0 ||
            cue_match(self, j, CF_CUE_STOPCAP, &nc) >= 0)
            break;
        head = cue_match(self, j, CF_CUE_NAMEHEAD, &nc) >= 0 && nc == 1;
        j++;
    }
    if (j == i + ne)
        return 0;
    bool suffix = j < t->n && cue_match(self, j, CF_CUE_SUFFIX, &nc) >= 0;
    if (!suffix && (!head || (j < t->n && (t->v[j].flags & CF_TOKEN_CAP))))
        return 0;
    char raw[NAME_RAW];
    if (phrase(self, i, j, raw, sizeof raw) == 0 || cf_text_slug(raw, full, ID_MAX) == 0)
        return 0;
    if (suffix && !head && self->nrenamed < MAX_RENAMED &&
        !cf_gazetteer_unit_of(self->gaz, e->id) && !named_before(self, e->id) &&
        renamed(self, e->id) == e->id)
        add_renamed(self, e->id, full);
    return j - (i + ne);
}

/* A gazetteer company e->aliased that GUIDELINES does not list, first named in this
 * article by an alias that is not its id ("Dell Technologies" of dell, "Digital
 * Realty" of digital-realty-trust): ids follow the name as written (GUIDELINES
 * "Entities"), so the article's mentions of e take that name's id. A corporate suffix
 * is no part of it ("Carlyle Group" is carlyle), and an abbreviation or ticker ("TIM")
 * or a name the slug cannot spell ("Telefónica", "e&") keeps the gazetteer's id.
 * Returns the id of the mention at tokens [i, i + ne): full when renamed, else e->id. */
static __attribute__((noinline)) const char *
as_written(cf_assemble_t *self, const cf_entity_t *e, size_t i, size_t ne, char *full)
{
    char raw[NAME_RAW];
    size_t nc;
    for (size_t k = 0; k < self->nsettled; k++)
        if (self->settled[k] == e)
            return e->id; /* its first naming kept its id */
    if (self->nsettled < MAX_SETTLED)
        self->settled[self->nsettled++] = e;
    while (ne > 1 && cue_match(self, i + ne - 1, CF_CUE_SUFFIX, &nc) >= 0)
        ne--;
    if (self->nrenamed == MAX_RENAMED || listed_id(e->id) || named_before(self, e->id) ||
        phrase(self, i, i + ne, raw, sizeof raw) == 0)
        return e->id;
    bool lower = false;
    for (const unsigned char *p = (const unsigned char *)raw; *p; p++) {
        if (*p >= 0x80 || *p == '&')
            return e->id;
        lower |= islower(*p) != 0;
    }
    if ((ne == 1 && !lower) || cf_text_slug(raw, full, ID_MAX) == 0 || strcmp(full, e->id) == 0)
        return e->id;
    add_renamed(self, e->id, full);
    return full;
}

/* "half of that value", "a third (of it)": a fraction of the money figure named
 * just before (this or one of the two sentences before) is a figure of its own, marked
 * hard (GUIDELINES decision 4). Only where the fraction refers back: an anaphor
 * after it, or nothing but the end of the clause or a preposition. */
static void
fraction_number(cf_assemble_t *self, mention_t *m, int ci)
{
    if (!self->last_money || self->last_money_age > 2 || ci < 0)
        return;
    size_t b = m->b, na;
    if (cue_at(self, b, CF_CUE_ANAPHOR, &na))
        b += na;
    else if (!(b >= self->t->n || clause_end_tok(self, b) || tok_is(self, b, ",") ||
               tok_is(self, b, "in") || tok_is(self, b, "to") || tok_is(self, b, "for")))
        return;
    double frac = 0;
    for (int k = ci; k >= 0; k = cf_lexicon_next(self->cues, k, self->t, m->a, -1)) {
        const cf_lexicon_entry_t *en = cf_lexicon_entry(self->cues, k);
        if (en->cat == CF_CUE_FRACTION)
            frac = en->num;
    }
    if (!(frac > 0))
        return;
    for (size_t k = m->b; k < b; k++)
        self->cover[k] = (int)(m - self->m);
    m->kind = M_NUM;
    m->cats = 0;
    m->b = b;
    m->hard = true;
    memset(&m->num, 0, sizeof m->num);
    m->num.kind = CF_NUMBER_MONEY;
    m->num.value = round(frac * self->last_money_value);
    m->num.unit = self->last_money_unit;
    m->num.a = m->a;
    m->num.b = b;
}

/* "the Chinese company", "the Beijing-based company", "the search company": "the",
 * at most three modifiers and a noun of cue category orgnoun. Returns the tokens
 * taken (0: none) and sets *unit when the noun names a unit ("the cloud unit"). */
static size_t
ref_phrase(const cf_assemble_t *self, size_t i, bool *unit)
{
    const cf_tokens_t *t = self->t;
    if (!tok_is(self, i, "the"))
        return 0;
    for (size_t j = i + 1; j < t->n && j <= i + 4; j++) {
        size_t nc, ne;
        int e = cue_match(self, j, CF_CUE_ORGNOUN, &nc);
        if (e >= 0 && j == i + 1)
            return 0; /* "the company" and its kin are cues of their own */
        if (e >= 0) {
            /* a plural or a name after the noun ("the company Gokuai") is not a reference */
            const char *w = cf_token_norm(t, j + nc - 1);
            size_t wl = t->v[j + nc - 1].len;
            if (wl > 1 && w[wl - 1] == 's' && w[wl - 2] != 's')
                return 0;
            *unit = cf_lexicon_entry(self->cues, e)->val != NULL;
            return j + nc - i;
        }
        unsigned f = t->v[j].flags;
        if (f & CF_TOKEN_NUM || entity_at(self, j, &ne))
            return 0;
        if ((f & CF_TOKEN_CAP) && !place_at(self, j, &ne, NULL))
            return 0;
        if (!(f & CF_TOKEN_WORD) && !tok_is(self, j, "-"))
            return 0;
    }
    return 0;
}

static void
annotate(cf_assemble_t *self, const cf_assemble_seen_t *seen)
{
    const cf_tokens_t *t = self->t;
    int depth = 0;
    bool rel = false;
    /* parentheses and relative clauses: the one-byte tokens they need, read once */
    CF_STEPS(4 * t->n);
    memset(self->cover, 0xff, t->n * sizeof *self->cover); /* -1 (all bits set): no mention */
    char prev = 0;
    bool quote = false;
    uint64_t cats = 0; /* every cue category that may start in the sentence */
    for (size_t i = 0; i < t->n; i++) {
        const cf_token_t *k = &t->v[i];
        char c = k->len == 1 ? t->text[k->norm] : 0;
        cats |= self->tcats[i];
        quote |= c == '"';
        if (c == '(' && depth < 1000)
            depth++;
        self->depth[i] = depth;
        if (c == ')' && depth > 0)
            depth--;
        /* ", which ... ,", ", who ... ,": a relative clause (its names are not the
         * subject of the main verb) */
        if (rel) {
            if (c == ',' || c == '.' || c == ';' || c == ':' || c == '?' || c == '!')
                rel = false;
        } else if (prev == ',' && i > 0 &&
                   (tok_is(self, i, "which") || tok_is(self, i, "who") ||
                    tok_is(self, i, "whose") || tok_is(self, i, "a") || tok_is(self, i, "an"))) {
            /* and ", a New Jersey company that rents out Nvidia chips,": an appositive */
            rel = true;
        }
        self->rel[i] = rel;
        prev = c;
    }
    self->has_quote = quote;
    self->nm = 0;
    learn_appositive(self);
    if (GATE_CHECKS || (cats & (1ull << CF_CUE_SRCNOUN))) /* before the company learners */
        learn_after_noun(self, CF_CUE_SRCNOUN, true);
    if (GATE_CHECKS || (cats & (1ull << CF_CUE_SUFFIX)))
        learn_suffixed(self);
    if (GATE_CHECKS || (cats & (1ull << CF_CUE_NAMEHEAD)))
        learn_headnoun(self);
    if (GATE_CHECKS || (cats & (1ull << CF_CUE_ORGNOUN))) /* its cue_at checks each token */
        learn_after_noun(self, CF_CUE_ORGNOUN, false);
    size_t i = 0;
    while (i < t->n) {
        size_t ne = 0, np = 0, nc = 0, nl = 0;
        unsigned gz = self->tgaz[i];
        unsigned tf = t->v[i].flags;
        bool per_ok = self->tper[i];
        /* most tokens start nothing: no alias, cue, number, period, learned name or
         * "the"/"that" (reference phrases, "the quarter") */
        if (!gz && !self->tcats[i] && !(tf & CF_TOKEN_NUM) && !per_ok &&
            !((tf & CF_TOKEN_CAP) && self->nlearned) &&
            (t->v[i].len - 3u > 1u || /* neither of 3 nor 4 bytes: a cheap first test */
             (!tok_is(self, i, "the") && !tok_is(self, i, "that")))) {
            i++;
            continue;
        }
        int li = learned_at(self, i, &nl);
        if (li >= 0 && !entity_at(self, i, &ne)) {
            mention_t *m = add_mention(self, M_ENT, i, i + nl);
            copy(m->id, sizeof m->id, self->learned[li]);
            m->ekind = self->learned_source[li] ? CF_ENTITY_SOURCE : CF_ENTITY_COMPANY;
            if (tok_is(self, i + nl, "'s")) {
                m->poss = true;
                self->cover[i + nl] = (int)(self->nm - 1);
            }
            if (seen && seen->company && m->ekind != CF_ENTITY_SOURCE)
                seen->company(seen->ctx, m->id);
            i += nl + (m->poss ? 1 : 0);
            continue;
        }
        const char *pkind = NULL;
        const cf_entity_t *e = entity_at(self, i, &ne);
        const char *pl = place_at(self, i, &np, &pkind);
        int ci = cue_any(self, i, &nc);
        if (!e)
            ne = 0;
        if (!pl)
            np = 0;
        if (ci < 0)
            nc = 0;
        bool unit_ref = false;
        size_t rn = ref_phrase(self, i, &unit_ref);
        if (rn > nc && rn > ne && rn > np) {
            ci = -2; /* a reference phrase, no lexicon entry */
            nc = rn;
        }
        cf_number_t num;
        cf_period_t per;
        /* a period that starts with a word is read first: "three months to June 30" is
         * one, not the number three (a year, the other kind, is read after the number) */
        bool is_per = !(e && ne >= 2) && per_ok && !(tf & CF_TOKEN_NUM) &&
                      cf_period_parse(t, i, self->pub, &per) && per.b - i >= nc;
        if (!(e && ne >= 2) && ((tf & CF_TOKEN_NUM) || (self->tcats[i] & CF_NUMBER_START_CATS)) &&
            number_at(self, i, &num) && num.b - i >= nc &&
            !(is_per && per.b > num.b)) { /* "three months to June 30": a period */
            /* "268.4 billion yuan ($38.4 billion)": the dollar equivalent is the figure */
            cf_number_t usd;
            size_t end = num.b;
            if (num.kind == CF_NUMBER_MONEY && strcmp(num.unit, "USD") != 0 &&
                tok_is(self, num.b, "(") && number_at(self, num.b + 1, &usd) &&
                usd.kind == CF_NUMBER_MONEY && strcmp(usd.unit, "USD") == 0 &&
                tok_is(self, usd.b, ")")) {
                num.value = usd.value;
                num.unit = usd.unit;
                end = usd.b + 1;
            }
            mention_t *m = add_mention(self, M_NUM, i, end);
            m->num = num;
            m->num.b = end;
            i = end;
            continue;
        }
        if (!is_per && (tf & CF_TOKEN_NUM))
            is_per = !(e && ne >= 2) && per_ok && cf_period_parse(t, i, self->pub, &per) &&
                     per.b - i >= nc;
        if (is_per) {
            mention_t *m = add_mention(self, M_PER, i, per.b);
            m->per = per;
            if (strlen(per.text) == 7 && per.text[5] == 'Q')
                copy(self->last_quarter, sizeof self->last_quarter, per.text);
            i = per.b;
            continue;
        }
        /* "in the quarter", "that quarter": the quarter named before */
        if (self->last_quarter[0] && (tok_is(self, i, "the") || tok_is(self, i, "that")) &&
            tok_is(self, i + 1, "quarter") && !tok_is(self, i + 2, "of") &&
            !tok_is(self, i + 2, "ended") && !tok_is(self, i + 2, "ending")) {
            mention_t *m = add_mention(self, M_PER, i, i + 2);
            copy(m->per.text, sizeof m->per.text, self->last_quarter);
            m->per.a = i;
            m->per.b = i + 2;
            m->per.relative = true;
            i += 2;
            continue;
        }
        if (e && ne >= np && ne >= nc) {
            char full[ID_MAX];
            size_t xn =
                e->kind == CF_ENTITY_COMPANY && i + ne < t->n && (t->v[i + ne].flags & CF_TOKEN_CAP)
                    ? full_name(self, e, i, ne, full)
                    : 0;
            mention_t *m = add_mention(self, M_ENT, i, i + ne + xn);
            if (xn) {
                copy(m->id, sizeof m->id, full);
            } else {
                const char *id = self->nrenamed ? renamed(self, e->id) : e->id;
                if (id == e->id && e->aliased)
                    id = as_written(self, e, i, ne, full);
                copy(m->id, sizeof m->id, id);
            }
            m->ekind = e->kind;
            ne += xn;
            if (tok_is(self, i + ne, "'s")) {
                m->poss = true;
                self->cover[i + ne] = (int)(self->nm - 1);
                /* "Alibaba's cloud ...": the company's cloud unit */
                const cf_entity_t *u;
                if (e->kind == CF_ENTITY_COMPANY && tok_is(self, i + ne + 1, "cloud") &&
                    (u = cf_gazetteer_unit_of(self->gaz, e->id))) {
                    copy(m->id, sizeof m->id, u->id);
                    m->ekind = CF_ENTITY_UNIT;
                }
            }
            if (seen && seen->company && m->ekind != CF_ENTITY_SOURCE)
                seen->company(seen->ctx, m->id);
            /* a cloud unit's name ("Google Cloud") is a cloud-market word too */
            if (seen && seen->cloud && m->ekind == CF_ENTITY_UNIT)
                seen->cloud(seen->ctx);
            i += ne + (m->poss ? 1 : 0);
            continue;
        }
        if (pl && np >= nc) {
            mention_t *m = add_mention(self, M_PLACE, i, i + np);
            /* "outside (of) X", "beyond X" */
            size_t k = i;
            if (k > 0 && tok_is(self, k - 1, "of"))
                k--;
            if (k > 0 && (tok_is(self, k - 1, "outside") || tok_is(self, k - 1, "beyond")) &&
                strncmp(pl, "outside", 7) != 0)
                snprintf(m->id, sizeof m->id, "outside %s", pl);
            else
                copy(m->id, sizeof m->id, pl);
            m->exchange = pkind && strcmp(pkind, "exchange") == 0;
            if (seen && seen->place)
                seen->place(seen->ctx, m->id);
            i += np;
            continue;
        }
        if (ci == -2) {
            mention_t *m = add_mention(self, M_CUE, i, i + nc);
            m->cats = 1ull << (unit_ref ? CF_CUE_UNITREF : CF_CUE_REF);
        }
        if (ci >= 0 || ci == -2) {
            mention_t *m = ci >= 0 ? add_mention(self, M_CUE, i, i + nc) : &self->m[self->nm - 1];
            /* (a phrase's only entry has no next: most cues need no cf_lexicon_next) */
            for (int k = ci; k >= 0;) {
                const cf_lexicon_entry_t *en = cf_lexicon_entry(self->cues, k);
                k = en->next < 0 ? -1 : cf_lexicon_next(self->cues, k, t, i, -1);
                m->cats |= 1ull << en->cat;
                if (en->cat == CF_CUE_STATUS && !m->status)
                    m->status = en->val;
                if (en->cat == CF_CUE_MARKET && !m->market)
                    m->market = en->val;
                if (en->cat == CF_CUE_ORDINAL || en->cat == CF_CUE_MULTIPLE)
                    m->ord = en->num;
            }
            if (m->cats & ((1ull << CF_CUE_DATACENTER) | (1ull << CF_CUE_INVEST)))
                narrow_cue(self, m, cats);
            if (has(m, CF_CUE_FRACTION) && m->kind == M_CUE) {
                fraction_number(self, m, ci);
                if (m->kind == M_NUM)
                    nc = m->b - i;
            }
            if ((has(m, CF_CUE_CLOUD) || has(m, CF_CUE_DATACENTER) || has(m, CF_CUE_MARKET) ||
                 has(m, CF_CUE_UNITREF)) && seen && seen->cloud)
                seen->cloud(seen->ctx);
            if (has(m, CF_CUE_REF) || has(m, CF_CUE_UNITREF)) {
                const char *id = resolve_ref(self, i);
                /* "the cloud unit", with no company before it in the sentence, and the
                 * topic has none: of the company with one that the article
                 * names most ("Thomas Kurian, who runs the cloud unit" in a story about
                 * Google buying Looker) */
                if (has(m, CF_CUE_UNITREF) && tok_is(self, i, "the") && id == self->topic &&
                    self->unit_owner && !cf_gazetteer_unit_of(self->gaz, family(self, id)))
                    id = self->cast[self->unit_owner - 1];
                const cf_entity_t *u;
                if (id) {
                    if (has(m, CF_CUE_UNITREF) &&
                        (u = cf_gazetteer_unit_of(self->gaz, family(self, id))))
                        id = u->id;
                    const cf_entity_t *en = cf_gazetteer_find(self->gaz, id);
                    char buf[ID_MAX];
                    copy(buf, sizeof buf, id);
                    m->kind = M_ENT;
                    m->ref = true;
                    copy(m->id, sizeof m->id, buf);
                    m->ekind = en ? en->kind : CF_ENTITY_COMPANY;
                    bool poss = tok_is(self, i + nc - 1, "its") || tok_is(self, i + nc - 1, "'s");
                    if (tok_is(self, i + nc, "'s")) {
                        m->poss = poss = true;
                        self->cover[i + nc] = (int)(self->nm - 1);
                        nc++;
                    }
                    /* "its cloud revenue": the company's cloud unit */
                    if (poss && m->ekind == CF_ENTITY_COMPANY && tok_is(self, i + nc, "cloud") &&
                        (u = cf_gazetteer_unit_of(self->gaz, m->id))) {
                        copy(m->id, sizeof m->id, u->id);
                        m->ekind = CF_ENTITY_UNIT;
                    }
                }
            }
            i += nc;
            continue;
        }
        i++;
    }
}

/* ------------------------------------------------------------------------ */
/* sentence-level context: source, doubt */

static void
sentence_context(cf_assemble_t *self)
{
    self->source[0] = '\0';
    self->doubt = false;
    self->doubt_back = false;
    self->rumor = false;
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (m->kind == M_ENT && m->ekind == CF_ENTITY_SOURCE && !self->source[0])
            copy(self->source, sizeof self->source, m->id);
        if (has(m, CF_CUE_DOUBT)) {
            self->doubt = true;
            /* "That doesn't seem likely", "Two years in that doesn't seem likely" */
            for (size_t j = m->a >= 3 ? m->a - 3 : 0; j < m->a; j++)
                if (tok_is(self, j, "that") || tok_is(self, j, "this") || tok_is(self, j, "it"))
                    self->doubt_back = true;
        }
        if (has(m, CF_CUE_RUMOR))
            self->rumor = true;
    }
    /* a quotation inherits the source named just before it */
    const cf_tokens_t *t = self->t;
    bool opens = t->n > 0 && tok_is(self, 0, "\"");
    if (!self->source[0]) {
        if (self->in_quote && self->quote_source[0])
            copy(self->source, sizeof self->source, self->quote_source);
        else if (opens && self->prev_source[0])
            copy(self->source, sizeof self->source, self->prev_source);
    }
    bool was_in = self->in_quote;
    for (size_t i = 0; self->has_quote && i < t->n; i++) {
        if (!tok_is(self, i, "\""))
            continue;
        unsigned char c0 = (unsigned char)self->body[t->v[i].start];
        unsigned char c2 = (unsigned char)self->body[t->v[i].start + (c0 == 0xe2 ? 2 : 0)];
        if (c0 == 0xe2 && c2 == 0x9c)
            self->in_quote = true; /* U+201C */
        else if (c0 == 0xe2 && c2 == 0x9d)
            self->in_quote = false; /* U+201D */
        else
            self->in_quote = !self->in_quote;
    }
    if (self->in_quote && (!was_in || !self->quote_source[0]))
        copy(self->quote_source, sizeof self->quote_source, self->source);
    if (!self->in_quote)
        self->quote_source[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* subjects, status, period, emission */

/* The number of mentions that start before token tok. annotate adds mentions left to
 * right, so they are in token order. */
static size_t
mentions_before(const cf_assemble_t *self, size_t tok)
{
    size_t lo = 0, hi = self->nm;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->m[mid].a < tok)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static bool coordinated(const cf_assemble_t *self, const mention_t *x, const mention_t *y);

/* The first mention of the list of companies that mention k ends ("OpenAI and
 * SoftBank"): k itself when it ends none. */
static size_t
list_start(const cf_assemble_t *self, size_t k)
{
    while (k > 0 && is_subject_ent(&self->m[k - 1]) &&
           coordinated(self, &self->m[k - 1], &self->m[k]))
        k--;
    return k;
}

/* Is mention k the object of "with", alone or in a list ("together with OpenAI and
 * SoftBank")? */
static bool
after_with(const cf_assemble_t *self, size_t k)
{
    k = list_start(self, k);
    return self->m[k].a > 0 && tok_is(self, self->m[k].a - 1, "with");
}

/* Is mention m the first half of a hyphenated modifier ("the Nvidia-backed operator",
 * "a Google-owned site"): a description of something else, never a subject? */
static bool
modifier(const cf_assemble_t *self, const mention_t *m)
{
    return !m->poss && tok_is(self, m->b, "-") && m->b + 1 < self->t->n &&
           (self->t->v[m->b + 1].flags & (CF_TOKEN_WORD | CF_TOKEN_CAP)) == CF_TOKEN_WORD;
}

/* The nearest subject-like entity mention among the first `end` mentions (all
 * before tok), at the same or a lower parenthesis depth, within `window` tokens of
 * tok; -1 when none. */
static int
subject_left(const cf_assemble_t *self, size_t end, size_t tok, size_t window, int depth)
{
    /* the window does not count a relative clause or appositive the trigger is not in:
     * "Voltstack, a company that rents out Nvidia chips to ..., filed for an IPO" */
    bool in_rel = tok > 0 && self->rel[tok - 1];
    size_t j = tok, skipped = 0;
    for (size_t k = end; k-- > 0;) {
        const mention_t *m = &self->m[k];
        CF_STEP();
        for (; !in_rel && j > m->a; j--)
            skipped += self->rel[j - 1];
        if (tok - m->a - skipped > window)
            break;
        /* a name inside ", which ... ," does not govern a trigger outside it, nor
         * does the partner of "formed a venture with Blackstone to build" (but "a deal
         * with CoreWeave, which operates 32 data centers" is CoreWeave's) */
        if (is_subject_ent(m) && m->depth <= depth && (!self->rel[m->a] || in_rel) &&
            (in_rel || !after_with(self, k)) && !modifier(self, m))
            return (int)k;
    }
    /* unless nothing else does: "Thomas Kurian, who runs the cloud unit, vowed" */
    for (size_t k = end; k-- > 0;) {
        const mention_t *m = &self->m[k];
        CF_STEP();
        if (tok - m->a > window)
            break;
        if (is_subject_ent(m) && m->depth <= depth && !modifier(self, m))
            return (int)k;
    }
    return -1;
}

/* Is the gap between mentions x (left) and y one of ",", "and", ", and", "&"? */
static bool
coordinated(const cf_assemble_t *self, const mention_t *x, const mention_t *y)
{
    size_t from = x->b + (x->poss ? 1 : 0);
    if (y->a <= from || y->a - from > 2)
        return false;
    for (size_t i = from; i < y->a; i++)
        if (!tok_is(self, i, ",") && !tok_is(self, i, "and") && !tok_is(self, i, "&"))
            return false;
    return true;
}

static void
subjects_add(subjects_t *s, const char *id, size_t a, bool context)
{
    for (int k = 0; k < s->n; k++)
        if (strcmp(s->id[k], id) == 0)
            return;
    if (s->n == MAX_SUBJ)
        return;
    copy(s->id[s->n], ID_MAX, id);
    s->a[s->n] = a;
    s->context[s->n] = context;
    s->n++;
}

/* "hyperscale operators run 1,100 data centers", "European providers hold 15 percent":
 * the clause before tok names its own, plural, subject, which is no company of the
 * article: neither the topic nor a company named before it stands in for it. Returns
 * the token after that noun, or 0. */
static size_t
generic_subject(const cf_assemble_t *self, size_t tok)
{
    size_t noun = 0, nc;
    for (size_t j = tok; j > 0 && tok - j < 8; j--) {
        /* the clause starts at a comma, "that" or a verb of saying */
        if (clause_end_tok(self, j - 1) || tok_is(self, j - 1, ",") ||
            tok_is(self, j - 1, "that") || tok_is(self, j - 1, "said") ||
            tok_is(self, j - 1, "says") || tok_is(self, j - 1, "estimates"))
            break;
        const mention_t *m = at(self, j - 1);
        if (m && m->kind == M_ENT)
            return 0; /* "Amazon leads rivals with": the company is the subject */
        if (!noun && (self->tcats[j - 1] & (1ull << CF_CUE_CROWD)) &&
            cue_match(self, j - 1, CF_CUE_CROWD, &nc) >= 0)
            noun = j; /* the token after the noun (cues.tsv crowd) */
    }
    return noun;
}

/* The subjects of a trigger at [ta, tb): the nearest entity before it (and those
 * coordinated with it), else one right after the trigger, else the topic. */
static bool
pick_subjects(const cf_assemble_t *self, size_t anchor, size_t tb, size_t window,
              const char *exclude, subjects_t *s)
{
    memset(s, 0, sizeof *s);
    int depth = anchor < self->t->n ? self->depth[anchor] : 0;
    /* the window is the anchor's: measured from the mention passed over, it slid back
     * through a sentence of "X buys X buys X ..." at a cost cubic in its mentions */
    int k = subject_left(self, mentions_before(self, anchor), anchor, window, depth);
    while (k >= 0 && exclude && same_family(self, self->m[k].id, exclude))
        k = subject_left(self, (size_t)k, anchor, window, depth);
    size_t generic = generic_subject(self, anchor);
    if (k >= 0 && generic && self->m[k].a < generic)
        return false;
    if (k >= 0) {
        subjects_add(s, self->m[k].id, self->m[k].a, false);
        for (int j = k - 1; j >= 0 && s->n < MAX_SUBJ; j--) {
            if (!is_subject_ent(&self->m[j]) || !coordinated(self, &self->m[j], &self->m[j + 1]))
                break;
            subjects_add(s, self->m[j].id, self->m[j].a, false);
        }
        return true;
    }
    for (size_t j = mentions_before(self, tb); j < self->nm; j++) {
        const mention_t *m = &self->m[j];
        CF_STEP();
        if (m->a > tb + 2)
            break;
        if (!is_subject_ent(m))
            break;
        subjects_add(s, m->id, m->a, false);
        for (size_t q = j + 1; q < self->nm && s->n < MAX_SUBJ; q++) {
            if (!is_subject_ent(&self->m[q]) || !coordinated(self, &self->m[q - 1], &self->m[q]))
                break;
            subjects_add(s, self->m[q].id, self->m[q].a, false);
        }
        return true;
    }
    if (self->topic[0] && !(exclude && same_family(self, self->topic, exclude)) && !generic) {
        subjects_add(s, self->topic, 0, true);
        return true;
    }
    return false;
}

static const char *
status_for(const cf_assemble_t *self, size_t ta, size_t tb)
{
    if (self->doubt)
        return "speculative";
    /* "the deal was blocked by regulators", "walked away from a bid for X": this fact
     * is negated, not the others of the sentence */
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (m->a > tb + 8)
            break;
        if (m->b + 8 >= ta && has(m, CF_CUE_NEGATED))
            return "speculative";
    }
    if (self->rumor)
        return "rumored";
    const mention_t *best = NULL;
    bool announced_before = false;
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (m->a >= tb)
            break;
        if (has(m, CF_CUE_SAY) && !has(m, CF_CUE_STATUS))
            announced_before = true;
        if (!has(m, CF_CUE_STATUS))
            continue;
        if (ta > m->a && ta - m->a > 15) {
            if (strcmp(m->status, "announced") == 0)
                announced_before = true;
            continue;
        }
        if (best && strcmp(best->status, "announced") == 0)
            announced_before = true;
        best = m;
    }
    if (!best)
        return "reported";
    if (strcmp(best->status, "planned") == 0 && announced_before)
        return "announced";
    return best->status;
}

/* Is token i one of clause_verb_words? */
static bool
clause_verb(const cf_assemble_t *self, size_t i)
{
    if (i >= self->t->n)
        return false;
    uint64_t h = (uint64_t)self->t->v[i].hash << 8;
    size_t lo = 0, hi = CLAUSE_VERBS;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        CF_STEP();
        if ((self->clause_verbs[mid] & ~(uint64_t)0xff) < h)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < CLAUSE_VERBS && (self->clause_verbs[lo] & ~(uint64_t)0xff) == h; lo++)
        if (tok_is(self, i, clause_verb_words[self->clause_verbs[lo] & 0xff]))
            return true;
    return false;
}

/* Does token i start a clause of its own after "and", "but", a comma or a word such
 * as "after": a clause verb ("and plans to", ", has set", "and would move", "and
 * invest $300 million"), "that", or a company before one: named, a pronoun or "the
 * company" resolved to one, or "the group" ("and Google has operated", "and it
 * serves", "days after Microsoft opened")? */
static bool
clause_starts(const cf_assemble_t *self, size_t i)
{
    static const char *const nouns[] = {"company", "firm", "group", "unit", "provider"};
    if (clause_verb(self, i) || tok_is(self, i, "that"))
        return true;
    const mention_t *m = at(self, i);
    if (m && m->kind == M_ENT && m->a == i)
        return clause_verb(self, m->b);
    /* "the group", "the provider": not always resolved to a company */
    return tok_is(self, i, "the") && TOK_IN(self, i + 1, nouns) && clause_verb(self, i + 2);
}

/* The first token of the ", which/who ..." or ", a/an ..." clause (self->rel) that
 * holds token i, or (size_t)-1 when none does. */
static size_t
rel_start(const cf_assemble_t *self, size_t i)
{
    if (i >= self->t->n || !self->rel[i])
        return (size_t)-1;
    while (i > 0 && self->rel[i - 1])
        i--;
    return i;
}

/* Does the clause starting at token s (rel_start) hang off a company ("Kaldvik, which
 * was founded in 2016,"), not off a figure ("$5 billion in 2025, which was ...")? */
static bool
company_clause(const cf_assemble_t *self, size_t s)
{
    const mention_t *m = s >= 2 ? at(self, s - 2) : NULL; /* s - 1 is the comma */
    return m && m->kind == M_ENT;
}

/* A revenue, revenue growth or market share: a figure of a period. */
static bool
is_figure(const char *type)
{
    return strncmp(type, "revenue", 7) == 0 || strcmp(type, "market_share") == 0;
}

/* Does the comparison word at j (GAP_COMPARE) start a figure's comparison base:
 * "up/down from", "compared with/to", "versus", "vs"? */
static bool
compared_to(const cf_assemble_t *self, size_t j)
{
    if (tok_is(self, j, "up") || tok_is(self, j, "down"))
        return tok_is(self, j + 1, "from");
    if (tok_is(self, j, "compared"))
        return tok_is(self, j + 1, "with") || tok_is(self, j + 1, "to");
    return true; /* versus, vs */
}

enum { GAP_NONE, GAP_CONTRAST, GAP_JOIN, GAP_COMPARE };

/* What a word between a period and a fact's trigger may do to them: "while",
 * "whereas" contrast two clauses; "and", "but" may join two and "after", "since" ...
 * open one (GAP_JOIN, when a clause starts after them); "up/down (from)", "compared (with/to)",
 * "versus", "vs" open a figure's comparison base. By length first: most words are none of them. */
static int
gap_word(const cf_assemble_t *self, size_t j)
{
    const cf_token_t *k = &self->t->v[j];
    const char *w = self->t->text + k->norm;
#define GW(s) (memcmp(w, s, sizeof s - 1) == 0)
    switch (k->len) {
    case 2:
        return GW("as") ? GAP_JOIN : GW("up") || GW("vs") ? GAP_COMPARE : GAP_NONE;
    case 3:
        return GW("and") || GW("but") ? GAP_JOIN : GAP_NONE;
    case 4:
        return GW("when") || GW("once") ? GAP_JOIN : GW("down") ? GAP_COMPARE : GAP_NONE;
    case 5:
        return GW("while") ? GAP_CONTRAST : GW("after") || GW("since") ? GAP_JOIN : GAP_NONE;
    case 6:
        return GW("before") || GW("though") ? GAP_JOIN : GW("versus") ? GAP_COMPARE : GAP_NONE;
    case 7:
        return GW("whereas") ? GAP_CONTRAST : GAP_NONE;
    case 8:
        return GW("although") ? GAP_JOIN : GW("compared") ? GAP_COMPARE : GAP_NONE;
    default:
        return GAP_NONE;
    }
#undef GW
}

/* Do a period mention and a fact's trigger [a, b) belong to different clauses, so
 * that the period is not the fact's (GUIDELINES decision 3: "in their own sentence",
 * read as their own clause)? "Sify operates 14 data centres and plans to bring six
 * more online by March 2027": March 2027 is the plan's; "AWS, which opened its
 * Bahrain region in 2019, has pledged ...": 2019 is the region's; "a 31% share, down
 * from 34% in 2022": 2022 is the 34 percent's. A contrast of figures shares one
 * ("AWS had 34 percent in 2024, while Azure's slipped to 21 percent"; "... 15
 * percent; Oracle was fifth, at 3 percent") when the fact's type is a figure's. */
static bool
period_apart(const cf_assemble_t *self, const mention_t *m, size_t a, size_t b, const char *type)
{
    size_t g0, g1;
    if (m->b <= a)
        g0 = m->b, g1 = a;
    else if (m->a >= b)
        g0 = b, g1 = m->a;
    else
        return false;
    /* a relative clause keeps its period, and so does an appositive about a company
     * (one about a figure, "$5 billion, a rise of 9 percent in 2025", shares it);
     * a fact in either about a company does not take the sentence's ("Meterline,
     * which has 900 customers, was valued ... in a 2024 round") */
    const size_t none = (size_t)-1;
    size_t fp = rel_start(self, m->a), ft = rel_start(self, a);
    bool appositive = fp != none && (tok_is(self, fp, "a") || tok_is(self, fp, "an"));
    if (fp != ft && ((fp != none && (!appositive || company_clause(self, fp))) ||
                     (ft != none && company_clause(self, ft))))
        return true;
    for (size_t j = g0; j < g1; j++) {
        CF_STEP();
        const cf_token_t *k = &self->t->v[j];
        if (k->len == 1) {
            char c = self->t->text[k->norm];
            if ((c == ';' && !is_figure(type)) || (c == ',' && clause_starts(self, j + 1)))
                return true;
            continue;
        }
        switch (gap_word(self, j)) {
        case GAP_CONTRAST:
            if (!is_figure(type))
                return true;
            break;
        case GAP_JOIN:
            if (clause_starts(self, j + 1))
                return true;
            break;
        case GAP_COMPARE: /* the period after a comparison base is the base's */
            if (g0 == b && compared_to(self, j))
                return true;
            break;
        }
    }
    return false;
}

/* The fact's period: the one its evidence ends on ("$24bn in FY27 and $41bn in
 * FY28"), else the one nearest to its trigger [a, b) in the same clause; "" (null)
 * when none or unresolved. */
static void
period_for(const cf_assemble_t *self, const cand_t *c, char *out, size_t outsz)
{
    size_t a = c->ta, b = c->tb, best = (size_t)-1;
    out[0] = '\0';
    const mention_t *after = at(self, c->b);
    if (!after || after->kind != M_PER)
        after = at(self, c->b + 1); /* "in", "for", "since" ... before it */
    if (after && after->kind == M_PER && after->a >= c->b && after->per.text[0]) {
        copy(out, outsz, after->per.text);
        return;
    }
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        CF_STEP();
        if (m->kind != M_PER)
            continue;
        size_t d = m->b <= a ? 2 * (a - m->b) + 1 : m->a >= b ? 2 * (m->a - b) : 0;
        if (d < best && !period_apart(self, m, a, b, c->type)) {
            best = d;
            copy(out, outsz, m->per.text);
        }
    }
}

/* "$300 million a year earlier", "up from 12 percent a year ago", "the year before":
 * the figure at tok is the one of the year before the sentence's period. */
static bool
year_earlier(const cf_assemble_t *self, size_t tok)
{
    size_t j = tok_is(self, tok, ",") ? tok + 1 : tok;
    if (!(tok_is(self, j, "a") || tok_is(self, j, "one") || tok_is(self, j, "the")) ||
        !tok_is(self, j + 1, "year"))
        return false;
    /* not "a year earlier than planned", not "the year before last" */
    if (tok_is(self, j + 3, "than") || tok_is(self, j + 3, "last"))
        return false;
    return tok_is(self, j + 2, "earlier") || tok_is(self, j + 2, "ago") ||
           tok_is(self, j + 2, "before");
}

/* The same period a year before ("2025-Q2" -> "2024-Q2", "FY2025" -> "FY2024"); ""
 * when there is none (no period, or a 29 February). */
static void
year_before(char *period)
{
    char *y = period[0] == 'F' ? period + 2 : period;
    if (strlen(y) < 4 || !isdigit((unsigned char)y[0]) || !isdigit((unsigned char)y[3]))
        return; /* nothing to move */
    int v = (y[0] - '0') * 1000 + (y[1] - '0') * 100 + (y[2] - '0') * 10 + (y[3] - '0') - 1;
    if (strcmp(y + 4, "-02-29") == 0 || v < 1900) {
        period[0] = '\0';
        return;
    }
    for (int k = 3; k >= 0; k--, v /= 10)
        y[k] = (char)('0' + v % 10);
}

/* s as a borrowed fact field (cf_fact_adopt_strings copies it): an empty string is nil. */
static char *
borrow(const char *s)
{
    return s && *s ? (char *)s : NULL;
}

static void
emit(cf_assemble_t *self, const cand_t *c)
{
    const cf_tokens_t *t = self->t;
    if (!self->facts || c->a >= c->b || c->b > t->n || !c->subject[0])
        return;
    if (!cf_entity_id_is_valid(c->subject) || (c->object[0] && !cf_entity_id_is_valid(c->object)))
        return;
    if (c->object[0] && strcmp(c->object, c->subject) == 0)
        return;
    if (self->facts->n >= CF_MAX_FACTS * 2)
        return;
    /* the figure a later "half of that value" divides */
    if (c->has_value && c->unit && !c->hard && strcmp(c->unit, "percent") != 0 &&
        strcmp(c->unit, "count") != 0) {
        self->last_money = true;
        self->last_money_value = c->value;
        self->last_money_unit = c->unit;
        self->last_money_type = c->type;
        self->last_money_age = 0;
    }
    cf_fact_t *f = cf_facts_push(self->facts);
    f->article = self->article;
    /* the fields borrow until cf_fact_adopt_strings copies them into one block */
    f->type = (char *)c->type;
    f->subject = (char *)c->subject;
    f->object = borrow(c->object);
    f->has_value = c->has_value;
    f->value = c->has_value ? c->value : 0;
    f->unit = c->has_value ? borrow(c->unit) : NULL;
    char period[16];
    period_for(self, c, period, sizeof period);
    if (year_earlier(self, c->tb))
        year_before(period);
    f->period = borrow(period);
    f->place = borrow(c->place);
    f->detail = borrow(c->detail);
    f->qualifier = c->has_value ? borrow(c->qualifier) : NULL;
    f->status = (char *)status_for(self, c->ta, c->tb);
    /* a market-share figure in a sentence that names no source leans on the report
     * the previous sentence attributed (GUIDELINES decision 6) */
    if (!self->source[0] && strcmp(c->type, "market_share") == 0)
        f->source = borrow(self->prev_source);
    else
        f->source = borrow(self->source);
    f->confidence = c->conf;
    f->evidence_start = t->v[c->a].start;
    f->evidence_end = t->v[c->b - 1].end;
    cf_fact_adopt_strings(f, self->body + f->evidence_start,
                          (size_t)(f->evidence_end - f->evidence_start));
}

/* Emits c once per subject, with the evidence widened to the subject's mention. */
static void
emit_subjects(cf_assemble_t *self, cand_t *c, const subjects_t *s)
{
    size_t a = c->a;
    for (int k = 0; k < s->n; k++) {
        cand_t x = *c;
        copy(x.subject, sizeof x.subject, s->id[k]);
        if (!s->context[k] && s->a[k] < x.a && x.a - s->a[k] <= 40)
            x.a = s->a[k];
        else if (!s->context[k] && s->a[k] >= x.b && s->a[k] - x.b <= 4)
            x.b = s->a[k] + 1;
        if (s->context[k])
            x.conf -= 0.15;
        (void)a;
        emit(self, &x);
    }
}

static void
cand_init(cand_t *c, const char *type, size_t a, size_t b, double conf)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    c->a = c->ta = a;
    c->b = c->tb = b;
    c->conf = conf;
}

static void
widen(cand_t *c, size_t a, size_t b)
{
    if (a < c->a)
        c->a = a;
    if (b > c->b)
        c->b = b;
}

/* ------------------------------------------------------------------------ */
/* lists of places and objects after a trigger */

typedef struct item {
    char id[ID_MAX];
    size_t a, b;
} item_t;

static bool
clause_end(const cf_assemble_t *self, size_t i)
{
    return tok_is(self, i, ".") || tok_is(self, i, ";") || tok_is(self, i, ":") ||
           tok_is(self, i, "?") || tok_is(self, i, "!");
}

static bool
list_sep(const cf_assemble_t *self, size_t i)
{
    return tok_is(self, i, ",") || tok_is(self, i, "and") || tok_is(self, i, "or") ||
           tok_is(self, i, "the") || tok_is(self, i, "&");
}

/* A name the places do not list at token i ("the coastal city of Valdivia"): up to
 * three capitalized words that start no mention, stop word or cue ("Valdivia Monday"
 * is Valdivia), and no person's. Writes it to id (ID_MAX bytes); returns its words. */
static size_t
unknown_place(const cf_assemble_t *self, size_t i, char *id)
{
    const cf_tokens_t *t = self->t;
    size_t j = i, nc;
    while (j < t->n && j - i < 3) {
        unsigned f = t->v[j].flags;
        if (!(f & CF_TOKEN_WORD) || !(f & CF_TOKEN_CAP) || (f & CF_TOKEN_NUM) || at(self, j) ||
            cue_match(self, j, CF_CUE_STOPCAP, &nc) >= 0 || cue_any(self, j, &nc) >= 0)
            break;
        j++;
    }
    return j > i && !person_name(self, i, j) && phrase(self, i, j, id, ID_MAX) ? j - i : 0;
}

/* How wide the place at token i is: a city 1, a state 2, a country or region 3. */
static int
place_rank(const cf_assemble_t *self, size_t i)
{
    size_t n;
    const char *kind = NULL;
    if (!place_at(self, i, &n, &kind) || !kind)
        return 3;
    return strcmp(kind, "city") == 0 ? 1 : strcmp(kind, "state") == 0 ? 2 : 3;
}

/* Words that name a kind of place before "of" and its name: "the city of X" */
static const char *const place_nouns[] = {"city",   "town",   "province",    "state",
                                          "region", "county", "district",    "prefecture",
                                          "suburb", "port",   "municipality"};

/* Places after token `from`: skips up to `budget` other tokens before the first,
 * then takes a list joined by , and or. "the Chinese city of Shenzhen" gives
 * Shenzhen. Stops at a number or the end of the clause. */
static int collect_places_k(const cf_assemble_t *self, size_t from, size_t budget,
                            item_t *out, bool exchanges);

static int
collect_places(const cf_assemble_t *self, size_t from, size_t budget, item_t *out)
{
    return collect_places_k(self, from, budget, out, false);
}

/* Does "the" open the noun phrase that ends before token k, with at most three
 * describing tokens between ("the southern city", "the northern Santiago district",
 * "the Red Sea port city")? */
static bool
the_before(const cf_assemble_t *self, size_t k)
{
    for (size_t j = k; j > 0 && k - j < 4; j--)
        if (tok_is(self, j - 1, "the"))
            return true;
    return false;
}

/* The same, taking stock exchanges as places when `exchanges` (an IPO's). */
static int
collect_places_k(const cf_assemble_t *self, size_t from, size_t budget, item_t *out,
                 bool exchanges)
{
    int n = 0;
    size_t skipped = 0;
    size_t i = from;
    while (i < self->t->n && n < MAX_LIST) {
        const mention_t *m = at(self, i);
        if (clause_end(self, i))
            break;
        if (m && m->kind == M_PLACE && m->a == i && m->exchange && !exchanges)
            break;
        /* "the southern city of Concepción": a name the places do not list is one
         * after these words */
        if (!m && n == 0 && i >= 3 && tok_is(self, i - 1, "of") &&
            TOK_IN(self, i - 2, place_nouns) && !(self->t->v[i - 2].flags & CF_TOKEN_CAP) &&
            the_before(self, i - 2)) {
            size_t k = unknown_place(self, i, out[n].id);
            if (k) {
                out[n].a = i;
                out[n].b = i + k;
                n++;
                break;
            }
        }
        if (m && m->kind == M_PLACE && m->a == i) {
            /* "the Chinese city of Shenzhen", "the Santiago district of Quilicura" */
            size_t j = m->b;
            if (TOK_IN(self, j, place_nouns) && tok_is(self, j + 1, "of")) {
                i = j + 2;
                continue;
            }
            copy(out[n].id, ID_MAX, m->id);
            out[n].a = m->a;
            out[n].b = m->b;
            n++;
            i = m->b;
            /* the list goes on only through separators */
            size_t j2 = i;
            while (j2 < self->t->n && j2 - i < 3 && list_sep(self, j2))
                j2++;
            const mention_t *nx = at(self, j2);
            if (j2 == i || !nx || nx->kind != M_PLACE) {
                /* "in the United States, in Hillsboro, Oregon": the narrower place says
                 * where; not "in Japan, in Osaka and Tokyo", a list */
                const mention_t *in = at(self, i + 2), *nx2 = NULL;
                size_t j3 = in ? in->b : 0;
                while (in && j3 < self->t->n && j3 - in->b < 3 && list_sep(self, j3))
                    j3++;
                if (in && j3 > in->b)
                    nx2 = at(self, j3);
                if (n == 1 && tok_is(self, i, ",") && tok_is(self, i + 1, "in") && in &&
                    in->kind == M_PLACE && in->a == i + 2 && !in->exchange &&
                    place_rank(self, in->a) < place_rank(self, m->a) &&
                    !(nx2 && nx2->kind == M_PLACE && nx2->a == j3 &&
                      place_rank(self, nx2->a) <= place_rank(self, in->a))) {
                    copy(out[0].id, ID_MAX, in->id);
                    out[0].a = in->a;
                    out[0].b = in->b;
                }
                break;
            }
            i = j2;
            continue;
        }
        if (n > 0 || (m && m->kind == M_NUM))
            break;
        if (++skipped > budget)
            break;
        i = m ? m->b : i + 1;
    }
    return n;
}

/* Skips a parenthesis opening at i; returns the token after it (bounded). */
static size_t
skip_paren(const cf_assemble_t *self, size_t i)
{
    size_t j = i + 1;
    while (j < self->t->n && j - i < PAREN_SKIP && !tok_is(self, j, ")"))
        j++;
    return j < self->t->n && tok_is(self, j, ")") ? j + 1 : i + 1;
}

/* Is m a single word that only ends company names ("Digital", "Systems")? */
static bool
namehead_word(const mention_t *m)
{
    return m->kind == M_CUE && m->b == m->a + 1 && !(m->cats & ~(1ull << CF_CUE_NAMEHEAD));
}

/* The run of capitalized words at i that unknown_name takes: returns its tokens
 * and, when raw is not NULL, writes their text there (NAME_RAW bytes, not
 * terminated) and its length in *rawlen. */
static size_t
name_run(const cf_assemble_t *self, size_t i, char *raw, size_t *rawlen)
{
    const cf_tokens_t *t = self->t;
    size_t j = i, nc;
    size_t rn = 0;
    /* a word that ends names may open one too, not alone: "the Digital Agency" */
    const mention_t *lead = at(self, i);
    bool led = lead && namehead_word(lead);
    while (j < t->n && j - i < 4) {
        unsigned f = t->v[j].flags;
        const mention_t *m = at(self, j);
        if (!(f & CF_TOKEN_WORD) || !(f & CF_TOKEN_CAP) || (f & CF_TOKEN_NUM) ||
            (m && !((j > i || led) && m->kind == M_CUE)))
            break;
        if (j == i && cue_match(self, j, CF_CUE_STOPCAP, &nc) >= 0 && nc == 1)
            break;
        if (j > i && cue_match(self, j, CF_CUE_SUFFIX, &nc) >= 0)
            break;
        size_t len = t->v[j].end - t->v[j].start;
        if (rn + len + 2 > NAME_RAW)
            break;
        if (rn) {
            if (raw)
                raw[rn] = ' ';
            rn++;
        }
        if (raw)
            memcpy(raw + rn, self->body + t->v[j].start, len);
        rn += len;
        j++;
    }
    if (led && j == i + 1)
        j = i, rn = 0;
    if (rawlen)
        *rawlen = rn;
    return j - i;
}

/* An unknown company name at i: a run of capitalized words not otherwise
 * recognized; corporate suffixes are dropped. Returns the tokens taken (0: none). */
static size_t
unknown_name(const cf_assemble_t *self, size_t i, char *id, size_t idsz)
{
    char raw[NAME_RAW];
    size_t rn;
    size_t n = name_run(self, i, raw, &rn);
    if (n == 0)
        return 0;
    raw[rn] = '\0';
    /* "Quixey.com": the domain is not part of the name */
    char *dot = strstr(raw, ".com");
    if (dot && dot > raw)
        *dot = '\0';
    if (cf_text_slug(raw, id, idsz) == 0)
        return 0;
    return n;
}

/* How collect_objects takes a capitalized name it does not know: not at all, always,
 * or only when the name ends its noun phrase. */
enum { UNKNOWN_NO, UNKNOWN_ANY, UNKNOWN_ENDS };

/* Objects (companies) after token `from`: skips descriptions ("US startups -",
 * "file-sharing company") and parentheses, then takes a list. */
static int
collect_objects(const cf_assemble_t *self, size_t from, size_t budget, int unknown_ok,
                item_t *out)
{
    int n = 0;
    size_t skipped = 0, i = from;
    while (i < self->t->n && n < MAX_LIST) {
        if (clause_end(self, i))
            break;
        if (tok_is(self, i, "(")) {
            i = skip_paren(self, i);
            continue;
        }
        const mention_t *m = at(self, i);
        size_t took = 0;
        char id[ID_MAX];
        if (m && m->a == i && m->kind == M_ENT && m->ref && n == 0)
            break; /* "took over the cloud unit": an object we cannot name */
        if (m && m->a == i && is_subject_ent(m) && !m->ref) {
            copy(id, sizeof id, m->id);
            took = m->b - i + (m->poss ? 1 : 0);
        } else if ((!m || (m->a == i && namehead_word(m))) && unknown_ok &&
                   (took = unknown_name(self, i, id, sizeof id)) > 0) {
            if (tok_is(self, i + took, "-") && tok_is(self, i + took + 1, "based")) {
                i += took + 2; /* "Leipzig-based hosting company X": a description */
                continue;
            }
            /* UNKNOWN_ENDS: "bid for the Pentagon contract" names no company */
            if (unknown_ok == UNKNOWN_ENDS && i + took < self->t->n &&
                (self->t->v[i + took].flags & CF_TOKEN_WORD) &&
                !(self->t->v[i + took].flags & CF_TOKEN_CAP) && !tok_is(self, i + took, "and"))
                break;
            if (person_name(self, i, i + took))
                break;
            learn((cf_assemble_t *)self, i, i + took, id);
        }
        if (took) {
            copy(out[n].id, ID_MAX, id);
            out[n].a = i;
            out[n].b = i + took;
            n++;
            i += took;
            /* list continuation: separators and parentheses only */
            size_t j = i, seps = 0;
            while (j < self->t->n && j - i < 40) {
                if (tok_is(self, j, "(")) {
                    j = skip_paren(self, j);
                    continue;
                }
                if (tok_is(self, j, ",") || tok_is(self, j, "and") || tok_is(self, j, "or")) {
                    seps++;
                    j++;
                    continue;
                }
                break;
            }
            if (!seps)
                break;
            const mention_t *nx = at(self, j);
            char tmp[ID_MAX];
            if (!(nx && is_subject_ent(nx) && !nx->ref) &&
                !(unknown_ok && !nx && unknown_name(self, j, tmp, sizeof tmp)))
                break;
            i = j;
            continue;
        }
        if (m && m->kind == M_NUM)
            break;
        if (++skipped > budget)
            break;
        i = m ? m->b + (m->poss ? 1 : 0) : i + 1;
    }
    return n;
}

/* The normalized market named nearest before token tok (within the sentence). */
static const char *
market_before(const cf_assemble_t *self, size_t tok)
{
    const char *best = NULL;
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (m->a >= tok)
            break;
        if (has(m, CF_CUE_MARKET))
            best = m->market;
    }
    return best;
}

static const char *
market_between(const cf_assemble_t *self, size_t a, size_t b)
{
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (m->a >= a && m->b <= b && has(m, CF_CUE_MARKET))
            return m->market;
    }
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* patterns: numbers */

/* The nearest cue with one of the money categories within `window` tokens. */
static const mention_t *
money_trigger(const cf_assemble_t *self, const mention_t *n, int *type)
{
    static const int cats[] = {CF_CUE_REVENUE, CF_CUE_GMV, CF_CUE_INVEST, CF_CUE_STAKE};
    const mention_t *best = NULL;
    size_t bestd = 30;
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (m->kind != M_CUE)
            continue;
        size_t d;
        if (m->b <= n->a)
            d = 2 * (n->a - m->b);
        else if (m->a >= n->b)
            d = 3 * (m->a - n->b);
        else
            continue;
        for (size_t c = 0; c < sizeof cats / sizeof *cats; c++) {
            if (has(m, cats[c]) && d < bestd) {
                bestd = d;
                best = m;
                *type = cats[c];
            }
        }
    }
    return best;
}

/* Where counted data centers are: "in", "across", "near", "around", "in and around",
 * "outside (of)" at i. Returns where their place starts, or 0: the token after the
 * words, but the word "outside" itself, which places.tsv and annotate read as part of
 * the place ("outside China"). Collect the places with a budget of 2 from there. */
static size_t
dc_where(const cf_assemble_t *self, size_t i)
{
    static const char *const preps[] = {"in", "across", "near", "around"};
    if (tok_is(self, i, "outside"))
        return i;
    if (!TOK_IN(self, i, preps))
        return 0;
    if (tok_is(self, i, "in") && tok_is(self, i + 1, "and") && TOK_IN(self, i + 2, preps))
        return i + 3;
    return i + 1;
}

/* The places of data centers from token `from` (collect_places with budget), the
 * cue ending at `end`: those the places list knows, else a name it does not right
 * after the cue's "in", "near" or "across" ("three zones in Aragon", "a campus near
 * Talavera de la Reina"), the only thing a capitalized name there can be. */
static int
dc_places(const cf_assemble_t *self, size_t end, size_t from, size_t budget, item_t *out)
{
    int np = collect_places(self, from, budget, out);
    size_t w = dc_where(self, end), k;
    if (np == 0 && w > end && (k = unknown_place(self, w, out[0].id))) {
        out[0].a = w;
        out[0].b = w + k;
        np = 1;
    }
    return np;
}

/* The word one with a place after a data-center cue: a count of one in a breakdown
 * ("two campuses, one in Pune and one in Chennai": after the counted cue, or after a
 * place and a separator; not ", and one in Virginia lost power" after a cue), or a
 * single new one (*single: "launching one in Ashburn", after a verb of building).
 * Not "its first one in", "the largest one in", "next to one in". */
static bool
one_more_dc(const cf_assemble_t *self, const mention_t *n, bool *single)
{
    *single = false;
    if (n->a == 0 || !dc_where(self, n->b))
        return false;
    size_t p = n->a - 1;
    if (TOK_IN(self, p, dc_build)) {
        *single = true;
        return true;
    }
    if (!(tok_is(self, p, ",") || tok_is(self, p, ":") || tok_is(self, p, "and")))
        return false;
    bool comma_and = tok_is(self, p, "and") && p > 0 && tok_is(self, p - 1, ",");
    if (comma_and)
        p--;
    const mention_t *x = p > 0 ? at(self, p - 1) : NULL;
    if (!x || x->b != p)
        return false;
    return x->kind == M_PLACE || (has(x, CF_CUE_DATACENTER) && x->counted && !comma_and);
}

/* "300 megawatts", "300-megawatt", "36MW" (two tokens), "1 GW": a power figure (a data
 * center's capacity), not a count of anything. */
static bool
power_after(const cf_assemble_t *self, const mention_t *n)
{
    static const char *const units[] = {"mw",       "megawatt",  "megawatts", "gw",
                                        "gigawatt", "gigawatts", "kw",        "kilowatts"};
    return TOK_IN(self, tok_is(self, n->b, "-") ? n->b + 1 : n->b, units);
}

/* "Alibaba with four percent", "Oracle at three percent", "IBM held two percent": a
 * percent that a ranking gives a company (not "cut prices by 9 percent"). */
static bool
ranking_percent(const cf_assemble_t *self, const mention_t *n)
{
    static const char *const words[] = {"with",  "at",   "held",     "holds",   "hold",
                                        "have",  "took", "takes",    "captured", "claimed"};
    static const char *const adverbs[] = {"each", "also", "now", "only"};
    if (n->a < 2 || tok_is(self, n->b, "of"))
        return false; /* "40 percent of its staff": a part of something else */
    /* "Alibaba, 4 percent; Oracle, 3 percent", "Microsoft (23%)" */
    size_t j = n->a - 1;
    if (!tok_is(self, j, ",") && !(tok_is(self, j, "(") && tok_is(self, n->b, ")"))) {
        if (!TOK_IN(self, j, words))
            return false;
        /* "IBM and Tencent each held", "Oracle at": the company right before */
        while (j > 0 && TOK_IN(self, j - 1, adverbs))
            j--;
        /* "AWS, at 32 percent", "Microsoft, with 22%" */
        if (j > 1 && tok_is(self, j - 1, ",") && (tok_is(self, j, "at") || tok_is(self, j, "with")))
            j--;
    }
    const mention_t *e = j > 0 ? at(self, j - 1) : NULL;
    if (e && is_subject_ent(e) && !e->ref && e->b == j)
        return true;
    /* "Baidu's cloud unit trailed in fourth place with 8 percent": with, after its
     * company's clause */
    if (!tok_is(self, n->a - 1, "with"))
        return false;
    for (size_t q = n->a - 1; q > 0 && n->a - q < 9; q--) {
        if (tok_is(self, q - 1, ",") || clause_end_tok(self, q - 1))
            break;
        e = at(self, q - 1);
        if (e && is_subject_ent(e))
            return true;
    }
    return false;
}

/* "a net loss of $863 million", "lost 1.1 billion yuan", "operating profit of $2
 * billion": the figure is the earnings the word names, not revenue ("revenue and
 * profit rose to $14 billion" still is). */
static bool
loss_before(const cf_assemble_t *self, const mention_t *n)
{
    static const char *const words[] = {"loss",    "losses", "profit", "profits",
                                        "deficit", "ebitda", "income"};
    if (n->a > 0 && tok_is(self, n->a - 1, "lost"))
        return true;
    size_t j = n->a > 0 && (tok_is(self, n->a - 1, "of") || tok_is(self, n->a - 1, "to") ||
                            tok_is(self, n->a - 1, "at") || tok_is(self, n->a - 1, "was"))
                   ? n->a - 1
                   : n->a;
    return j > 0 && TOK_IN(self, j - 1, words);
}

static bool
sentence_has(const cf_assemble_t *self, int cat)
{
    for (size_t k = 0; k < self->nm; k++)
        if (has(&self->m[k], cat))
            return true;
    return false;
}

/* "35 percent of its revenue": a share of one company's revenue, not a fact. */
static bool
revenue_mix(const cf_assemble_t *self, const mention_t *n)
{
    const mention_t *m = at(self, n->b);
    if (m && has(m, CF_CUE_REVMIX))
        return true;
    if (!tok_is(self, n->b, "of"))
        return false;
    for (size_t j = n->b + 1; j < self->t->n && j <= n->b + 6; j++) {
        const mention_t *x = at(self, j);
        if (x && has(x, CF_CUE_REVENUE))
            return true;
    }
    return false;
}

/* "of the bank's cloud spending", "of total spending by its customers": the spending
 * [a, b) is one buyer's, not a market's (a place's is: "China's cloud spending"). */
static bool
one_spender(const cf_assemble_t *self, size_t a, size_t b)
{
    static const char *const by[] = {"by", "at", "from"};
    for (size_t j = a; j < b; j++) {
        const mention_t *x = at(self, j);
        if (tok_is(self, j, "'s") && !(x && x->kind == M_PLACE) &&
            !(j > 0 && (x = at(self, j - 1)) && x->kind == M_PLACE))
            return true;
    }
    return TOK_IN(self, b + 1, by);
}

/* "of the (European) cloud infrastructure market": the token past "market(s)" when
 * an "of" at i leads to it within 8 words (hyphens not counted), else 0. */
static size_t
of_market_end(const cf_assemble_t *self, size_t i)
{
    static const char *const parts[] = {"slice", "piece", "portion", "chunk"};
    static const char *const owners[] = {"its", "their", "his", "her", "our", "your"};
    /* "a 3% slice of the IaaS market" */
    if (TOK_IN(self, i, parts))
        i++;
    if (!tok_is(self, i, "of"))
        return 0;
    size_t words = 0;
    for (size_t j = i + 1; j < self->t->n && words < 8; j++) {
        if (tok_is(self, j, "market") || tok_is(self, j, "markets"))
            return j + 1;
        /* "36 percent of China's cloud spending" is the market's; "of its IT
         * spending" a budget's part */
        if ((tok_is(self, j, "spending") || tok_is(self, j, "spend")) &&
            !TOK_IN(self, i + 1, owners) && !one_spender(self, i + 1, j))
            return j + 1;
        if (clause_end(self, j) || tok_is(self, j, ","))
            return 0;
        if (!tok_is(self, j, "-"))
            words++;
    }
    return 0;
}

/* The company that an owner named before token `owner` holds when the sentence does
 * not name it ("took a minority stake."): the focus of the sentence before, or its
 * topic when the owner is that focus; NULL when nothing is in focus. */
static const char *
owned_meant(const cf_assemble_t *self, size_t owner)
{
    if (!self->focus[0])
        return NULL;
    int o = subject_left(self, mentions_before(self, owner), owner, 15, self->depth[owner]);
    return o >= 0 && same_family(self, self->m[o].id, self->focus) ? self->topic : self->focus;
}

/* The company a reference x ("the company") names as the thing an owner named before
 * token `owner` holds (owned_meant), not the owner named before it in this sentence;
 * NULL for references that are no "the ..." phrase. */
static const char *
owned_ref(const cf_assemble_t *self, const mention_t *x, size_t owner)
{
    return tok_is(self, x->a, "the") ? owned_meant(self, owner) : NULL;
}

/* "Nvidia, which owns about 6 percent of Voltstack", "Xiaomi holds 30 percent of
 * Kingsoft Cloud": a stake (its size is not the fact's value: the corpus's gold).
 * Emits it and returns true; false when n is no such percent. */
static bool
owned_share(cf_assemble_t *self, const mention_t *n, cand_t *c)
{
    static const char *const verbs[] = {"owns",     "own",     "owned",     "holds", "held",
                                        "controls", "control", "controlled"};
    if (n->a == 0 || !TOK_IN(self, n->a - 1, verbs) || !tok_is(self, n->b, "of"))
        return false;
    /* the company owned, named, or "the company": the focus of the sentence before
     * (its topic when the owner is the focus), not the owner named before it in
     * this one */
    const mention_t *x = at(self, n->b + 1);
    if (!x || x->kind != M_ENT || x->a != n->b + 1)
        return false;
    const char *object = x->ref ? owned_ref(self, x, n->a) : x->id;
    if (!object)
        return false;
    size_t end = x->b;
    /* the company ends the phrase: not "20 percent of Amazon customers" */
    if (end < self->t->n && (self->t->v[end].flags & CF_TOKEN_WORD) &&
        !(self->t->v[end].flags & CF_TOKEN_CAP) && !tok_is(self, end, "and") &&
        !tok_is(self, end, "in") && !tok_is(self, end, "since") && !tok_is(self, end, "after"))
        return false;
    subjects_t s;
    if (!pick_subjects(self, n->a, n->b, 15, object, &s))
        return false;
    cand_t st = *c;
    st.type = "stake";
    st.has_value = false;
    st.unit = NULL;
    st.qualifier = NULL;
    copy(st.object, sizeof st.object, object);
    widen(&st, n->a - 1, end);
    emit_subjects(self, &st, &s);
    return true;
}

/* Are percents x and y (x first) neighbours in a list: "34%, 21% and 10%"? */
static bool
percents_listed(const cf_assemble_t *self, const mention_t *x, const mention_t *y)
{
    if (x->kind != M_NUM || y->kind != M_NUM || x->num.kind != CF_NUMBER_PERCENT ||
        y->num.kind != CF_NUMBER_PERCENT || y->a <= x->b || y->a - x->b > 2)
        return false;
    for (size_t i = x->b; i < y->a; i++)
        if (!tok_is(self, i, ",") && !tok_is(self, i, "and"))
            return false;
    return true;
}

/* "Amazon leads the market, followed by Microsoft at 21%": a sentence that ranks a
 * market names shares without the word (not "In the storage market, Dell cut prices
 * by 15%, followed by NetApp at 10%", nor a stock market). Scans the sentence: call it
 * only for a percent a ranking gives. */
static bool
ranks_market(const cf_assemble_t *self)
{
    static const char *const leads[] = {"leads",   "led",       "leader",   "leaders", "lead",
                                        "trails",  "trail",     "behind",   "ranked",  "ranks",
                                        "ranking", "dominates", "dominated"};
    bool market = false, lead = false;
    for (size_t i = 0; i < self->t->n && !(market && lead); i++) {
        market |= (tok_is(self, i, "market") || tok_is(self, i, "markets")) &&
                  !(i > 0 && (tok_is(self, i - 1, "stock") || tok_is(self, i - 1, "capital")));
        lead |= TOK_IN(self, i, leads);
    }
    return market && lead;
}

/* "at 4% lower", "at 12 percent below its peak", "a 40 percent discount": a percent
 * that measures a change or a gap, not a part of a market. */
static bool
compared_after(const cf_assemble_t *self, size_t i)
{
    static const char *const words[] = {"lower",    "higher",    "below", "above", "less",
                                        "more",     "cheaper",   "off",   "down",  "up",
                                        "discount", "discounts", "cut",   "cuts",  "increase",
                                        "drop",     "rise",      "fall",  "gain"};
    return TOK_IN(self, i, words);
}

/* The company whose share the percent n is, named right at it: "IBM's 3 percent"
 * (not the subject of the clause: "Oracle's is 2 percent, against IBM's 3
 * percent"), or after a sentence that opens with the figure alone, "With 7.5% of the
 * market," ("..., Rackspace remains"). NULL when neither. */
static const mention_t *
share_holder(const cf_assemble_t *self, const mention_t *n)
{
    size_t k = mentions_before(self, n->a);
    const mention_t *p = k > 0 ? &self->m[k - 1] : NULL;
    if (p && p->poss && p->b + 1 == n->a && is_subject_ent(p) && !p->ref)
        return p;
    /* "With 7.5% of the market,", "With 9 percent,": nothing but the figure before it,
     * a market or the comma after (not "With 20% of its staff cut,") */
    const mention_t *sh = at(self, n->b);
    if (!tok_is(self, 0, "with") ||
        !(of_market_end(self, n->b) || tok_is(self, n->b, ",") || (sh && has(sh, CF_CUE_SHARE))))
        return NULL;
    static const char *const about[] = {"about", "nearly", "almost", "roughly",
                                        "just",  "over",   "a"};
    for (size_t i = 1; i < n->a; i++)
        if (!TOK_IN(self, i, about))
            return NULL;
    for (size_t i = n->b; i < self->t->n && i < n->b + 10; i++) {
        if (clause_end_tok(self, i))
            return NULL;
        if (tok_is(self, i, ",")) {
            const mention_t *x = at(self, i + 1);
            return x && x->a == i + 1 && is_subject_ent(x) && !x->ref ? x : NULL;
        }
    }
    return NULL;
}

/* "AWS, Azure and Google Cloud hold 34%, 21% and 10%": a list of companies and a
 * list of percents pair in order; s keeps n's own. A single percent for several
 * companies is their sum ("Amazon, Microsoft and Google control 66%") unless each
 * holds it ("each", "apiece", "both"). False when n is no one's share. */
static bool
pair_shares(const cf_assemble_t *self, const mention_t *n, subjects_t *s)
{
    if (s->n < 2 || s->context[0])
        return true;
    size_t k = (size_t)(n - self->m), first = k, last = k;
    while (first > 0 && percents_listed(self, &self->m[first - 1], &self->m[first]))
        first--;
    while (last + 1 < self->nm && percents_listed(self, &self->m[last], &self->m[last + 1]))
        last++;
    size_t len = last - first + 1, from = s->a[0];
    for (int q = 1; q < s->n; q++)
        from = s->a[q] < from ? s->a[q] : from;
    if (len == 1) {
        static const char *const each[] = {"each", "apiece", "both"};
        for (size_t j = from; j < self->t->n && j <= n->b + 2; j++)
            if (TOK_IN(self, j, each))
                return true;
        return false;
    }
    /* a list longer than MAX_SUBJ keeps its last companies; more companies than
     * percents leave out the first ("Unlike AWS, Microsoft and Google gained,
     * reaching 23% and 11%") */
    size_t cut = len > (size_t)s->n && s->n == MAX_SUBJ ? len - MAX_SUBJ : 0;
    if ((len - cut > (size_t)s->n) || k - first < cut)
        return false;
    size_t rank = k - first - cut + ((size_t)s->n - (len - cut));
    for (int q = 0; q < s->n; q++) {
        size_t before = 0;
        for (int r = 0; r < s->n; r++)
            before += s->a[r] < s->a[q];
        if (before == rank) {
            copy(s->id[0], ID_MAX, s->id[q]);
            s->a[0] = s->a[q];
            s->n = 1;
            return true;
        }
    }
    return false;
}

/* "Revenue more than doubled", "sales at X tripled": a growth of 100 (200) percent,
 * the revenue's named in the eight words before the verb, in its clause ("revenue grew
 * and its staff doubled" is not one); a qualifier right before it ("more than",
 * "nearly") is the fact's. */
static void
multiple_growth(cf_assemble_t *self, const mention_t *n)
{
    static const char *const joins[] = {"and", "but", "while", "as", "whereas", ",", ";"};
    const mention_t *rv = NULL;
    for (size_t j = 0; j < self->nm && self->m[j].b <= n->a; j++)
        if (has(&self->m[j], CF_CUE_REVENUE) && n->a - self->m[j].b <= 8)
            rv = &self->m[j];
    if (!rv)
        return;
    for (size_t j = rv->b; j < n->a; j++) {
        const mention_t *x = at(self, j);
        if (TOK_IN(self, j, joins) || (x && (has(x, CF_CUE_GROWTH) || has(x, CF_CUE_DECLINE))))
            return; /* "revenue growth doubled": the rate, not the revenue */
    }
    cand_t c;
    cand_init(&c, "revenue_growth", rv->a, n->b, 0.8);
    c.has_value = true;
    c.value = (n->ord - 1) * 100;
    c.unit = "percent";
    for (size_t j = n->a > 3 ? n->a - 3 : 0; j < n->a; j++) {
        size_t nq;
        int e = cue_match(self, j, CF_CUE_QUALIFIER, &nq);
        if (e >= 0 && j + nq == n->a) {
            c.qualifier = cf_lexicon_entry(self->cues, e)->val;
            break;
        }
    }
    subjects_t s;
    if (pick_subjects(self, rv->a, rv->b, 25, NULL, &s))
        emit_subjects(self, &c, &s);
}

/* "SoftBank invested $50 million in Vultr", "an investment of $50 million into
 * Vultr": money an investor puts into another company (the name right after the
 * figure) buys a stake in it; c, an investment of money n by subjects s, becomes that
 * stake. Money for the investor's own business or its family's ("in Google Cloud",
 * said of Google) stays an investment. Returns false for money raised ("raised $85
 * million in funding"), which is no investment at all. Kept out of number_facts,
 * whose loop it would make dearer inline. */
static __attribute__((noinline)) bool
funded_stake(const cf_assemble_t *self, cand_t *c, const subjects_t *s, const mention_t *n)
{
    const mention_t *raised = n->a > 0 ? at(self, n->a - 1) : NULL;
    if (raised && has(raised, CF_CUE_RAISE))
        return false; /* "raised $85 million in funding": money in, not spent */
    size_t j = n->b;
    if (!(tok_is(self, j, "in") || tok_is(self, j, "into")))
        return true;
    const mention_t *x = at(self, j + 1);
    if (!x || x->ref || !is_subject_ent(x))
        return true; /* "in its regions" is the investor's own */
    for (int r = 0; r < s->n; r++)
        if (same_family(self, s->id[r], x->id))
            return true;
    c->type = "stake";
    c->has_value = false;
    c->value = 0;
    c->unit = NULL;
    c->detail[0] = c->place[0] = '\0';
    copy(c->object, sizeof c->object, x->id);
    widen(c, x->a, x->b);
    return true;
}

static void
number_facts(cf_assemble_t *self)
{
    bool share = sentence_has(self, CF_CUE_SHARE);
    for (size_t k = 0; k < self->nm && !share; k++) {
        const mention_t *n = &self->m[k];
        if (n->kind != M_NUM || n->num.kind != CF_NUMBER_PERCENT)
            continue;
        if (of_market_end(self, n->b))
            share = true;
    }
    bool revenue = sentence_has(self, CF_CUE_REVENUE);
    bool growth = sentence_has(self, CF_CUE_GROWTH);
    /* "... 31 percent of the market. Alibaba followed with four percent": a ranking
     * goes on without the word share (in the next two sentences), as long as each
     * percent has its company */
    bool carry = !share && self->since_share > 0 && self->since_share <= 2 && !revenue && !growth;
    const mention_t *dc = NULL;
    bool summed = false; /* the last share seen was a sum of several companies' */
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *n = &self->m[k];
        if (has(n, CF_CUE_DATACENTER) && !dc)
            dc = n;
        if (has(n, CF_CUE_MULTIPLE) && revenue)
            multiple_growth(self, n);
        if (n->kind != M_NUM)
            continue;
        cand_t c;
        subjects_t s;
        cand_init(&c, NULL, n->a, n->b, 0.8);
        c.has_value = true;
        c.value = n->num.value;
        c.unit = n->num.unit;
        c.qualifier = n->num.qualifier;
        c.hard = n->hard;
        if (n->num.kind == CF_NUMBER_PERCENT) {
            /* "rose 2 percentage points": a change of a share, not one */
            if (revenue_mix(self, n) || tok_is(self, n->b - 1, "points"))
                continue;
            if (owned_share(self, n, &c))
                continue;
            const mention_t *g = NULL;
            bool fell = false;
            for (size_t j = n->a; j > 0 && n->a - j < 3; j--) {
                const mention_t *x = at(self, j - 1);
                if (x && has(x, CF_CUE_GROWTH)) {
                    g = x;
                    break;
                }
                /* "fell 18 percent", "down by 7%": only right before the figure */
                if (x && has(x, CF_CUE_DECLINE) &&
                    (x->b == n->a || (x->b + 1 == n->a && tok_is(self, x->b, "by")))) {
                    g = x;
                    fell = true;
                    break;
                }
            }
            /* "a 15 percent increase", "an 18 percent decline" */
            const mention_t *ga = at(self, n->b);
            if (!g && ga && ga->a == n->b && has(ga, CF_CUE_GROWTH) &&
                (tok_is(self, n->b, "increase") || tok_is(self, n->b, "rise") ||
                 tok_is(self, n->b, "growth") || tok_is(self, n->b, "jump") ||
                 tok_is(self, n->b, "gain")))
                g = ga;
            if (!g && ga && ga->a == n->b && has(ga, CF_CUE_DECLINE) &&
                (tok_is(self, n->b, "decline") || tok_is(self, n->b, "drop") ||
                 tok_is(self, n->b, "fall") || tok_is(self, n->b, "decrease"))) {
                g = ga;
                fell = true;
            }
            /* "holds 9% of the cloud market" */
            size_t of_market = of_market_end(self, n->b);
            if (g && revenue) {
                c.type = "revenue_growth";
                if (fell)
                    c.value = -c.value;
                widen(&c, g->a, g->b);
                /* the subject is the revenue's: "X earned $5 billion in ..., up 9 percent" */
                const mention_t *rv = NULL;
                for (size_t j = 0; j < self->nm && self->m[j].a < n->a; j++)
                    if (has(&self->m[j], CF_CUE_REVENUE) || (self->m[j].kind == M_NUM &&
                                                             self->m[j].num.kind ==
                                                                 CF_NUMBER_MONEY))
                        rv = &self->m[j];
                if (rv && pick_subjects(self, rv->a, rv->b, 25, NULL, &s)) {
                    emit_subjects(self, &c, &s);
                    continue;
                }
            } else if (!fell &&
                       (share || of_market || carry ||
                        (!revenue && !growth && ranking_percent(self, n) && ranks_market(self))) &&
                       !compared_after(self, n->b)) {
                /* "the combined share of A, B and C", "together they hold": no one's */
                /* "..., up from 58 per cent": the sum's earlier level */
                bool aggregate = summed && n->a > 0 && tok_is(self, n->a - 1, "from");
                for (size_t j = n->a > 10 ? n->a - 10 : 0; j < n->a && !aggregate; j++)
                    aggregate = tok_is(self, j, "combined") || tok_is(self, j, "together") ||
                                tok_is(self, j, "collectively") || tok_is(self, j, "jointly") ||
                                (tok_is(self, j, "between") && tok_is(self, j + 1, "them"));
                summed = aggregate;
                if (aggregate)
                    continue;
                c.type = "market_share";
                const char *mk = market_before(self, self->t->n);
                if (mk)
                    copy(c.detail, sizeof c.detail, mk);
                /* "28 percent market share": the cue right after joins the evidence */
                const mention_t *x = at(self, n->b);
                if (x && has(x, CF_CUE_SHARE))
                    widen(&c, x->a, x->b);
                if (of_market) {
                    widen(&c, n->b, of_market);
                    const char *mk2 = market_between(self, n->b, of_market);
                    if (mk2)
                        copy(c.detail, sizeof c.detail, mk2);
                }
            } else {
                continue;
            }
            /* "33 percent for AWS": the company named right after */
            size_t fb = n->b;
            const mention_t *sx = at(self, fb);
            if (sx && has(sx, CF_CUE_SHARE))
                fb = sx->b;
            const mention_t *fx = tok_is(self, fb, "for") ? at(self, fb + 1) : NULL;
            bool share_fact = strcmp(c.type, "market_share") == 0;
            const mention_t *own = share_fact ? share_holder(self, n) : NULL;
            if (own) {
                memset(&s, 0, sizeof s);
                subjects_add(&s, own->id, own->a, false);
            } else if (share_fact && (share || of_market) && fx && is_subject_ent(fx)) {
                memset(&s, 0, sizeof s);
                subjects_add(&s, fx->id, fx->a, false);
                widen(&c, fb, fx->b);
            } else if (!pick_subjects(self, n->a, n->b, 15, NULL, &s) ||
                       (carry && !share && !of_market &&
                        (s.context[0] || !ranking_percent(self, n)))) {
                continue;
            } else if (share_fact && !pair_shares(self, n, &s)) {
                continue;
            }
            emit_subjects(self, &c, &s);
            self->has_share |= share_fact;
            continue;
        }
        if (n->num.kind == CF_NUMBER_MONEY) {
            int cat = -1;
            const mention_t *tr = money_trigger(self, n, &cat);
            if (!tr && n->hard && self->last_money_type) {
                /* "AMZN sold half of that value": the type of the figure divided */
                c.type = self->last_money_type;
                c.conf = 0.5;
                cat = strcmp(c.type, "investment") == 0 ? CF_CUE_INVEST : -1;
                tr = n;
            } else if (!tr) {
                continue;
            } else if (cat == CF_CUE_REVENUE && loss_before(self, n)) {
                continue;
            } else {
                c.type = cat == CF_CUE_REVENUE ? "revenue"
                         : cat == CF_CUE_GMV   ? "gmv"
                                               : "investment";
            }
            widen(&c, tr->a, tr->b);
            c.ta = tr->a < n->a ? tr->a : n->a;
            c.tb = tr->b > n->b ? tr->b : n->b;
            if (cat == CF_CUE_INVEST || cat == CF_CUE_STAKE) {
                const char *mk = market_between(self, c.tb, c.tb + 8);
                if (mk)
                    copy(c.detail, sizeof c.detail, mk);
                /* "invest $1 billion in Germany": the place after, in its clause ("$3
                 * billion for cloud infrastructure in India"), before another figure */
                item_t pl[MAX_LIST];
                for (size_t j = n->b; j < self->t->n && j < n->b + 8 && !clause_end(self, j);
                     j++) {
                    if (tok_is(self, j, "in") && collect_places(self, j, 1, pl) > 0) {
                        copy(c.place, sizeof c.place, pl[0].id);
                        widen(&c, pl[0].a, pl[0].b);
                        break;
                    }
                    if (at(self, j) && at(self, j)->kind == M_NUM)
                        break; /* another figure's place */
                }
            }
            size_t anchor = tr->a < n->a ? tr->a : n->a;
            /* "Revenue at DigitalOcean rose to $36 billion": the company the revenue is
             * said to be at, before the figure (not "revenue from Zoom", a client's) */
            const mention_t *rx = at(self, tr->b + 1);
            if (cat == CF_CUE_REVENUE && tr->b < n->a &&
                (tok_is(self, tr->b, "at") || tok_is(self, tr->b, "for")) && rx &&
                rx->a == tr->b + 1 && rx->b <= n->a && is_subject_ent(rx)) {
                memset(&s, 0, sizeof s);
                subjects_add(&s, rx->id, rx->a, false);
                emit_subjects(self, &c, &s);
                continue;
            }
            if (!pick_subjects(self, anchor, c.tb, 25, NULL, &s))
                continue;
            if (cat == CF_CUE_INVEST && !funded_stake(self, &c, &s, n))
                continue;
            emit_subjects(self, &c, &s);
            continue;
        }
        /* counts; "one of", "a" are none, but "two in Pune and one in Chennai" after a
         * data-center cue breaks the count down by place */
        bool one = n->num.word && n->num.value == 1 && !n->num.scaled, single = false;
        if (one && !(dc && dc->b <= n->a && one_more_dc(self, n, &single)))
            continue;
        if (power_after(self, n))
            continue; /* "a 300-megawatt campus": capacity, not a count */
        c.unit = "count";
        /* "16 (operational) data centers", "1.4 million (paying) customers" */
        const mention_t *after = NULL;
        for (size_t j = n->b; j < self->t->n && j < n->b + 3; j++) {
            const mention_t *x = at(self, j);
            if (x && (x->kind == M_NUM || x->kind == M_ENT))
                break;
            if (x && (has(x, CF_CUE_DATACENTER) || has(x, CF_CUE_CUSTOMERS))) {
                after = x;
                break;
            }
        }
        if (after && has(after, CF_CUE_DATACENTER) && !one) {
            c.type = "datacenter";
            widen(&c, after->a, after->b);
            self->m[after - self->m].counted = true;
            item_t pl[MAX_LIST];
            size_t w = dc_where(self, after->b);
            if (w && dc_places(self, after->b, w, 2, pl) > 0) {
                copy(c.place, sizeof c.place, pl[0].id);
                widen(&c, pl[0].a, pl[0].b);
            }
            self->has_dc_count = true;
        } else if (after && !one) {
            c.type = "customers";
            widen(&c, after->a, after->b);
        } else if ((dc && dc->b <= n->a) || (!dc && self->prev_dc_count)) {
            /* after a data-center cue: "seven are in China", "eight outside of X" */
            item_t pl[MAX_LIST];
            size_t j = n->b;
            if (tok_is(self, j, "of") && (tok_is(self, j + 1, "them") ||
                                          tok_is(self, j + 1, "these") ||
                                          tok_is(self, j + 1, "those") ||
                                          tok_is(self, j + 1, "which")))
                j += 2;
            if (tok_is(self, j, "are") || tok_is(self, j, "is") || tok_is(self, j, "were"))
                j++;
            if (tok_is(self, j, "more") || tok_is(self, j, "additional") ||
                tok_is(self, j, "new") || tok_is(self, j, "others"))
                j++;
            size_t w = dc_where(self, j);
            if (!w || collect_places(self, w, 2, pl) == 0)
                continue;
            c.type = "datacenter";
            copy(c.place, sizeof c.place, pl[0].id);
            widen(&c, pl[0].a, pl[0].b);
            self->has_dc_count = true;
            if (single) { /* one data center, as "a data center in X" gives: no count */
                c.has_value = false;
                c.unit = NULL;
            }
        } else {
            /* "customer count has gone from 980,000 ... to 1.4 million" */
            const mention_t *cc = NULL;
            for (size_t j = k; j-- > 0;) {
                const mention_t *x = &self->m[j];
                if (n->a - x->b > 16)
                    break;
                if (has(x, CF_CUE_CUSTCOUNT)) {
                    cc = x;
                    break;
                }
            }
            if (!cc)
                continue;
            c.type = "customers";
            widen(&c, cc->a, cc->b);
        }
        if (pick_subjects(self, c.a, c.b, 25, NULL, &s))
            emit_subjects(self, &c, &s);
    }
}

/* ------------------------------------------------------------------------ */
/* patterns: triggers with places, objects, details */

/* "close", "shut down", "closing its": a verb of closing within the three words before
 * tok (skipping a determiner). Returns its token + 1, or 0. */
static size_t
closing_before(const cf_assemble_t *self, size_t tok)
{
    static const char *const verbs[] = {"close", "closes", "closed", "closing", "shut",
                                        "shuts", "shutting", "exit",  "exits",  "exiting"};
    for (size_t j = tok; j > 0 && tok - j < 3; j--)
        if (TOK_IN(self, j - 1, verbs))
            return j;
    return 0;
}

/* "is building an AI campus in Johor with Nvidia": a data center (cue m) built, opened
 * or planned with a company named right after the cue or its places (from: "with"),
 * the company ending its phrase (not "with Nvidia chips", "with Microsoft's help"), is
 * a partnership of the builders s with it. */
static void
built_with(cf_assemble_t *self, const mention_t *m, size_t from, const subjects_t *s)
{
    const mention_t *x = at(self, from + 1);
    if (!tok_is(self, from, "with") || !x || x->a != from + 1 || !is_subject_ent(x) || x->ref ||
        modifier(self, x))
        return;
    if (x->b < self->t->n &&
        (self->t->v[x->b].flags & (CF_TOKEN_WORD | CF_TOKEN_CAP)) == CF_TOKEN_WORD &&
        !tok_is(self, x->b, "in") && !tok_is(self, x->b, "and") && !tok_is(self, x->b, "to") &&
        !tok_is(self, x->b, "by") && !tok_is(self, x->b, "for"))
        return;
    /* a verb of making within six words before the cue ("runs a data center in Ohio
     * with Nvidia": no) */
    bool made = false;
    for (size_t j = m->a; j > 0 && m->a - j < 6 && !made; j--)
        made = TOK_IN(self, j - 1, dc_build);
    if (!made)
        return;
    cand_t c;
    cand_init(&c, "partnership", m->a, x->b, 0.55);
    copy(c.object, sizeof c.object, x->id);
    emit_subjects(self, &c, s);
}

static void
place_facts(cf_assemble_t *self)
{
    /* "enter India with a data center (or a facility) in Mumbai" is the data center's
     * (GUIDELINES decision 8); "enter Sweden ... for its future Nordic sites", with a
     * vague cue that names no place, still an entry */
    bool dc_sentence = false;
    for (size_t k = 0; k < self->nm && !dc_sentence; k++) {
        item_t pv[MAX_LIST];
        const mention_t *x = &self->m[k];
        dc_sentence =
            has(x, CF_CUE_DATACENTER) && (!x->vague || collect_places(self, x->b, 8, pv) > 0);
    }
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        cand_t c;
        subjects_t s;
        item_t pl[MAX_LIST];
        int np;
        /* a cue a count took has its fact; another one in the sentence may name a place:
         * "runs 43 data centers and will open a facility in Mumbai" */
        if (has(m, CF_CUE_DATACENTER) && !m->counted) {
            np = dc_places(self, m->b, m->b, 8, pl);
            /* "its Navi Mumbai campus", "a Frankfurt data center", "its Munich and
             * Hamburg regions": cities or states right before (not "European data
             * centers") */
            if (np == 0) {
                const mention_t *pv[MAX_LIST];
                np = places_before(self, m->a, pv, MAX_LIST);
                for (int q = 0; q < np; q++) {
                    copy(pl[q].id, ID_MAX, pv[np - 1 - q]->id);
                    pl[q].a = pv[np - 1 - q]->a;
                    pl[q].b = pv[np - 1 - q]->b;
                }
            }
            if (np == 0)
                continue;
            /* "will close its data centers in Australia": leaving, not building */
            size_t cl = closing_before(self, m->a);
            size_t ea = cl ? cl - 1 : m->a, eb = pl[0].b;
            if (eb <= m->a) { /* the place before the cue */
                ea = ea < pl[0].a ? ea : pl[0].a;
                eb = m->b;
            }
            cand_init(&c, cl ? "market_exit" : "datacenter", ea, eb, 0.7);
            copy(c.place, sizeof c.place, pl[0].id);
            if (np > 1) {
                size_t len = 0;
                for (int q = 0; q < np && len + 2 < sizeof c.detail; q++)
                    len += (size_t)snprintf(c.detail + len, sizeof c.detail - len, "%s%s",
                                            q ? ", " : "", pl[q].id);
            }
            /* "its fifth data center": an ordinal is a detail, not a count */
            const mention_t *o = m->a > 0 ? at(self, m->a - 1) : NULL;
            if (o && has(o, CF_CUE_ORDINAL) && !c.detail[0]) {
                phrase(self, o->a, m->b, c.detail, sizeof c.detail);
                widen(&c, o->a, o->b);
            }
            if (!pick_subjects(self, c.a, m->b, 25, NULL, &s))
                continue;
            emit_subjects(self, &c, &s);
            if (!cl) /* "with X" after the cue or after its places */
                built_with(self, m, tok_is(self, m->b, "with") ? m->b : pl[np - 1].b, &s);
            continue;
        }
        if (has(m, CF_CUE_ENTER) && !dc_sentence) {
            np = collect_places(self, m->b, 8, pl);
            if (np == 0)
                continue;
            /* "started selling servers to banks in London": where its customers are */
            bool selling = tok_is(self, m->b - 1, "selling") || tok_is(self, m->b - 1, "offering"),
                 to = false;
            for (size_t j = m->b; selling && j < pl[0].a && !to; j++)
                to = tok_is(self, j, "to");
            if (to)
                continue;
            cand_init(&c, "expansion", m->a, pl[0].b, 0.6);
            copy(c.place, sizeof c.place, pl[0].id);
            if (np > 1) {
                size_t len = 0;
                for (int q = 0; q < np && len + 2 < sizeof c.detail; q++)
                    len += (size_t)snprintf(c.detail + len, sizeof c.detail - len, "%s%s",
                                            q ? ", " : "", pl[q].id);
            } else {
                const char *mk = market_between(self, pl[0].b, pl[0].b + 3);
                if (mk)
                    copy(c.detail, sizeof c.detail, mk);
            }
            if (!pick_subjects(self, m->a, m->b, 25, NULL, &s))
                continue;
            /* "X makes inroads with its unit Y in ...": the unit is the subject */
            for (size_t j = m->b; j < pl[0].a; j++) {
                const mention_t *u = at(self, j);
                if (u && u->kind == M_ENT && u->ekind == CF_ENTITY_UNIT && s.n == 1 &&
                    same_family(self, u->id, s.id[0]) && j > 0 && tok_is(self, j - 1, "with"))
                    copy(s.id[0], ID_MAX, u->id);
            }
            emit_subjects(self, &c, &s);
            continue;
        }
        if (has(m, CF_CUE_IPO)) {
            /* "its debut on the city's stock exchange", not "made its debut on Monday"
             * (a product's) */
            static const char *const debut[] = {"debut", "debuts", "debuted"};
            size_t bourse = 0; /* past the exchange's word */
            if (TOK_IN(self, m->a, debut) && tok_is(self, m->b - 1, "on")) {
                for (size_t j = m->b; j < self->t->n && j < m->b + 6 && !bourse; j++) {
                    const mention_t *x = at(self, j);
                    if (tok_is(self, j, "exchange") || tok_is(self, j, "bourse") ||
                        (x && x->kind == M_PLACE && x->exchange))
                        bourse = x ? x->b : j + 1;
                }
                if (!bourse)
                    continue;
            }
            cand_init(&c, "ipo", m->a, bourse ? bourse : m->b, 0.6);
            /* "list the cloud unit (in Hong Kong)": the unit listed, then the place (not
             * "listed on AWS Marketplace": a unit by its name is no listing's) */
            const mention_t *unit = at(self, m->b);
            if (unit && (unit->a != m->b || unit->kind != M_ENT || unit->ekind != CF_ENTITY_UNIT ||
                         !unit->ref))
                unit = NULL;
            if (unit)
                widen(&c, unit->a, unit->b);
            size_t j = unit ? unit->b : m->b;
            /* "listed on": the cue ends with the preposition */
            if (j > m->a + 1 && (tok_is(self, j - 1, "on") || tok_is(self, j - 1, "in")))
                j--;
            if (tok_is(self, j, "on") || tok_is(self, j, "in")) {
                np = collect_places_k(self, j, 2, pl, true);
                if (np > 0) {
                    copy(c.place, sizeof c.place, pl[0].id);
                    widen(&c, pl[0].a, pl[0].b);
                }
            }
            /* "a Hong Kong listing": the place right before the cue */
            const mention_t *pb = m->a > 0 ? at(self, m->a - 1) : NULL;
            if (!c.place[0] && pb && pb->kind == M_PLACE && pb->b == m->a) {
                copy(c.place, sizeof c.place, pb->id);
                widen(&c, pb->a, pb->b);
            }
            /* "prices listed on its website", "floated the idea", "a list of": these
             * words go public only on an exchange, in a place ("floated in London") or
             * said of a business unit ("list the cloud unit separately") */
            if ((tok_is(self, m->a, "listed") || tok_is(self, m->a, "list") ||
                 tok_is(self, m->a, "separately") || tok_is(self, m->a, "floated")) &&
                !c.place[0] && !unit)
                continue;
            /* "IPO-bound Box": the company right after the cue comes first */
            const mention_t *r = at(self, m->b);
            if (r && is_subject_ent(r) && r->a == m->b) {
                if (pick_subjects(self, m->b, m->b, 0, NULL, &s))
                    emit_subjects(self, &c, &s);
            } else if (pick_subjects(self, m->a, m->b, 15, NULL, &s)) {
                emit_subjects(self, &c, &s);
            }
            continue;
        }
        if (has(m, CF_CUE_EXIT)) {
            static const char *const leaves[] = {"leave", "leaves", "left"};
            bool leave = TOK_IN(self, m->a, leaves);
            /* "pulled out of Russia", "withdrew from India": a country's whole market
             * (not "left London for Paris", "pulled out of India's auction") */
            const mention_t *px = at(self, m->b);
            if (px && px->a == m->b && px->kind == M_PLACE && !px->exchange && !leave &&
                !tok_is(self, px->b, "'s")) {
                cand_init(&c, "market_exit", m->a, px->b, 0.6);
                copy(c.place, sizeof c.place, px->id);
                phrase(self, px->a, px->b, c.detail, sizeof c.detail);
                if (pick_subjects(self, m->a, m->b, 25, NULL, &s))
                    emit_subjects(self, &c, &s);
                continue;
            }
            /* "its public IaaS platform", "public cloud services": a market's product
             * line, when a market names it (not "shut down its Frankfurt platform") */
            static const char *const lines[] = {"services",  "service",  "platform",
                                                "platforms", "offering", "offerings"};
            size_t j = m->b, end = m->b + 5;
            while (j < self->t->n && j < end && !tok_is(self, j, "market") &&
                   !tok_is(self, j, "business") && !TOK_IN(self, j, lines) && !clause_end(self, j))
                j++;
            if (j >= self->t->n || j >= end || clause_end(self, j))
                continue;
            bool line = TOK_IN(self, j, lines);
            if (line && (tok_is(self, j + 1, "market") || tok_is(self, j + 1, "business"))) {
                j++; /* "the cloud services market" */
                line = false;
            }
            const char *mk = market_between(self, m->b, j + 1);
            if (line && !mk)
                continue;
            if (!mk)
                mk = market_before(self, m->a);
            /* "pull out of the Indian market": a country's market, not a product's */
            const mention_t *where = NULL;
            for (size_t q = m->b; !mk && !where && q < j; q++) {
                const mention_t *x = at(self, q);
                if (x && x->kind == M_PLACE && !x->exchange)
                    where = x;
            }
            /* "wind down its hosting business", "exit the domain registration
             * market": words that name no company, place or figure */
            static const char *const dets[] = {"its", "their", "the"};
            size_t own = 0;
            if (!mk && !where && TOK_IN(self, m->b, dets)) {
                const mention_t *r = at(self, m->b); /* "its", or "its cloud business" */
                own = m->b + 1;
                for (size_t q = own; q < j && own; q++) {
                    const mention_t *x = at(self, q);
                    if (x && x != r && x->kind != M_CUE)
                        own = 0;
                }
                if (own == j)
                    own = 0;
            }
            /* "would leave the Indian market with three operators": not an exit */
            if (!mk && (leave || (!where && !own)))
                continue;
            cand_init(&c, "market_exit", m->a, j + 1, 0.6);
            if (mk) {
                copy(c.detail, sizeof c.detail, mk);
            } else if (where) {
                copy(c.place, sizeof c.place, where->id);
                phrase(self, where->a, j + 1, c.detail, sizeof c.detail);
            } else if (!phrase(self, own, j + 1, c.detail, sizeof c.detail)) {
                continue;
            }
            /* "... its cloud business in Russia": the market's place */
            if (!c.place[0] && tok_is(self, j + 1, "in") &&
                collect_places(self, j + 1, 1, pl) > 0) {
                copy(c.place, sizeof c.place, pl[0].id);
                widen(&c, pl[0].a, pl[0].b);
            }
            if (pick_subjects(self, m->a, m->b, 25, NULL, &s))
                emit_subjects(self, &c, &s);
            continue;
        }
    }
}

/* "X agreed to sell its hosting business to Y": Y acquires X. */
static void
divest_fact(cf_assemble_t *self, const mention_t *m)
{
    const mention_t *buyer = NULL;
    for (size_t j = m->b; j < self->t->n && j < m->b + 12; j++) {
        if (clause_end(self, j))
            return;
        if (tok_is(self, j, "to")) {
            const mention_t *x = at(self, j + 1);
            if (x && x->a == j + 1 && is_subject_ent(x) && !x->ref)
                buyer = x;
            break;
        }
    }
    subjects_t s;
    if (!buyer || !pick_subjects(self, m->a, m->b, 25, buyer->id, &s))
        return;
    cand_t c;
    cand_init(&c, "acquisition", m->a, buyer->b, 0.6);
    copy(c.subject, sizeof c.subject, buyer->id);
    copy(c.object, sizeof c.object, s.id[0]);
    if (!s.context[0] && s.a[0] < c.a)
        c.a = s.a[0];
    emit(self, &c);
}

/* Is a part of a company named in tokens [a, b): "a stake in", "a minority holding
 * in", "a stake of 10 percent in"? Not "a majority stake", "the remaining stake",
 * "venture-backed". (With a size before it, "a 30 percent stake in", the number
 * already ends the object search.) */
static bool
partial_stake_between(const cf_assemble_t *self, size_t a, size_t b)
{
    static const char *const whole[] = {"majority", "remaining", "controlling", "entire"};
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *x = &self->m[k];
        if (x->a < a || x->a >= b || !has(x, CF_CUE_STAKE) || tok_is(self, x->a, "backed"))
            continue;
        if (TOK_IN(self, x->a, whole) || (x->a > 0 && TOK_IN(self, x->a - 1, whole)))
            continue;
        return true;
    }
    return false;
}

/* The token after "in" that ends a stake's size after "stake of": "of up to 10
 * percent in" (a percent: its qualifier is part of it); 0 when no such size follows. */
static size_t
stake_size_end(const cf_assemble_t *self, size_t i)
{
    const mention_t *x = at(self, i);
    if (!x || x->a != i || x->kind != M_NUM || x->num.kind != CF_NUMBER_PERCENT ||
        !tok_is(self, x->b, "in"))
        return 0;
    return x->b + 1;
}

/* "Vultr raised $333 million from LuminArx Capital and AMD", "secured $50 million in
 * new funding from SoftBank": each company the money came from holds a stake in the
 * company that raised it (a round "led by" them is backed_fact's). */
static void
raise_fact(cf_assemble_t *self, const mention_t *m)
{
    const mention_t *n = at(self, m->b);
    if (!n || n->kind != M_NUM || n->num.kind != CF_NUMBER_MONEY)
        return;
    /* "in (new) funding from", "in a Series C round from": equity's words only, not
     * a loan's or a contract's ("$500 million in loans from") */
    static const char *const equity[] = {
        "a",       "an",     "new",     "fresh",     "its",     "latest",     "seed",  "growth",
        "venture", "equity", "funding", "financing", "capital", "investment", "round", "series"};
    size_t j = n->b;
    if (tok_is(self, j, "in")) {
        j++;
        while (j < self->t->n && j < n->b + 7 &&
               (TOK_IN(self, j, equity) || self->t->v[j].len == 1))
            j++; /* one letter: "Series C" */
    }
    item_t ob[MAX_LIST];
    int no = tok_is(self, j, "from") ? collect_objects(self, j + 1, 0, UNKNOWN_ENDS, ob) : 0;
    subjects_t s;
    if (no <= 0 || !pick_subjects(self, m->a, m->b, 25, ob[0].id, &s))
        return;
    for (int q = 0; q < no; q++) {
        cand_t c;
        cand_init(&c, "stake", m->a, ob[q].b, 0.6);
        if (!s.context[0]) /* the raiser named in this sentence */
            widen(&c, s.a[0], m->b);
        copy(c.subject, sizeof c.subject, ob[q].id);
        copy(c.object, sizeof c.object, s.id[0]);
        emit(self, &c);
    }
}

/* "X, which is backed by Y": Y holds a stake in X. */
static void
backed_fact(cf_assemble_t *self, const mention_t *m)
{
    /* "owned by Fjellstad", "owned by private-equity firm Fjellstad": the words that
     * say what the owner is come before its name */
    size_t j = m->b;
    while (j < self->t->n && j < m->b + 6) {
        const mention_t *x = at(self, j);
        if ((!x || x->kind == M_CUE) &&
            ((self->t->v[j].flags & (CF_TOKEN_WORD | CF_TOKEN_CAP)) == CF_TOKEN_WORD ||
             tok_is(self, j, "-")))
            j++;
        else if (x && x->a == j && x->kind == M_PLACE && tok_is(self, x->b, "'s"))
            j = x->b + 1; /* "led by Lagos's Okapi Capital" */
        else
            break;
    }
    const mention_t *backer = at(self, j);
    if (!backer || backer->a != j || !is_subject_ent(backer) || backer->ref)
        return;
    /* "raised $85 million in a round led by Y", "with participation from Y": the
     * company that raised the money, the subject of the clause, not the company
     * named nearest */
    static const char *const rounds[] = {"round",     "funding", "financing",
                                         "investors", "with",    "participation"};
    bool round = TOK_IN(self, m->a, rounds);
    const mention_t *owned = NULL;
    if (round) {
        /* before the round's first backer: "led by X, with participation from Y" */
        size_t first = m->a;
        for (size_t k = 0; k < self->nm && self->m[k].a < first; k++)
            if (has(&self->m[k], CF_CUE_BACKED))
                first = self->m[k].a;
        int k = subject_left(self, mentions_before(self, first), first, 40, self->depth[first]);
        owned = k >= 0 ? &self->m[k] : NULL;
    } else {
        for (size_t k = 0; k < self->nm && self->m[k].a < m->a; k++)
            if (is_subject_ent(&self->m[k]) && m->a - self->m[k].b <= 8)
                owned = &self->m[k];
    }
    /* "Bleu, the venture owned by": a name that is not a company we know owns it,
     * not the topic */
    if (!owned && m->a >= 2) {
        size_t w = m->a;
        while (w > 0 && m->a - w < 8 && !tok_is(self, w - 1, ","))
            w--;
        if (w >= 2 && tok_is(self, w - 1, ",") && (self->t->v[w - 2].flags & CF_TOKEN_CAP) &&
            !at(self, w - 2))
            return;
    }
    /* "owned by Orange and Capgemini": each holds a stake */
    const mention_t *backers[MAX_SUBJ];
    size_t nb = 0;
    backers[nb++] = backer;
    for (size_t k = (size_t)(backer - self->m) + 1; k < self->nm && nb < MAX_SUBJ; k++) {
        /* not "Telstra's former chief" */
        if (!is_subject_ent(&self->m[k]) || self->m[k].ref || self->m[k].poss ||
            !coordinated(self, &self->m[k - 1], &self->m[k]))
            break;
        backers[nb++] = &self->m[k];
    }
    const char *object = owned ? owned->id : self->topic;
    if (!object[0])
        return;
    for (size_t b = 0; b < nb; b++) {
        cand_t c;
        cand_init(&c, "stake", owned ? owned->a : m->a, backers[b]->b, owned ? 0.6 : 0.5);
        copy(c.object, sizeof c.object, object);
        c.ta = m->a;
        copy(c.subject, sizeof c.subject, backers[b]->id);
        emit(self, &c);
    }
}

/* A stake named with no company after it ("took a 17.2 percent stake."): taken (a verb
 * before it), ending its clause (a time may follow: "in 2024", "last year"), held by
 * the sentence's subject in the company the sentence before was about. Returns false
 * when the stake does not end its clause (a company may follow the time). */
static bool
bare_stake(cf_assemble_t *self, const mention_t *m)
{
    static const char *const takes[] = {"took",    "take",     "takes", "taken",  "taking",
                                        "bought",  "buy",      "buys",  "buying", "acquired",
                                        "acquire", "acquires", "holds", "hold",   "held",
                                        "owns",    "own",      "built", "raised", "increased"};
    size_t e = m->b;
    const mention_t *p = at(self, e);
    if (p && p->kind == M_PER && p->a == e)
        e = p->b; /* "stake last year", "stake in 2024" (the cue "stake in" took the "in") */
    if (e < self->t->n && !clause_end(self, e) && !tok_is(self, e, "and") && !tok_is(self, e, ","))
        return false;
    size_t v = m->a;
    while (v > 0 && m->a - v < 8 && !TOK_IN(self, v - 1, takes) && !clause_end(self, v - 1))
        v--;
    if (v == 0 || !TOK_IN(self, v - 1, takes))
        return true;
    /* "KT Cloud, in which IMM took a stake in 2022": the company before "in which" */
    const char *object = NULL;
    for (size_t j = v - 1; j >= 3 && v - 1 - j < 6 && !object; j--) {
        const mention_t *x = at(self, j - 3);
        if (tok_is(self, j, "which") && tok_is(self, j - 1, "in") && tok_is(self, j - 2, ",") &&
            x && x->kind == M_ENT && x->b == j - 2)
            object = x->id;
    }
    if (!object)
        object = owned_meant(self, v - 1);
    subjects_t s;
    if (!object || !pick_subjects(self, v - 1, m->b, 15, object, &s))
        return true;
    cand_t c;
    cand_init(&c, "stake", v - 1, e, 0.5);
    copy(c.object, sizeof c.object, object);
    emit_subjects(self, &c, &s);
    return true;
}

/* "Corvane, the Nvidia-backed GPU operator", "the Nvidia-backed Corvane": the company
 * before the hyphen holds a stake in the one the phrase describes, the name right
 * after it or, in an apposition, the name before the comma. */
static void
modifier_backed(cf_assemble_t *self, const mention_t *m)
{
    const mention_t *backer = at(self, m->a - 2);
    if (!backer || backer->b != m->a - 1 || !is_subject_ent(backer) || backer->ref)
        return;
    const mention_t *owned = at(self, m->b);
    size_t b = m->b;
    if (owned && owned->a == m->b && is_subject_ent(owned)) {
        b = owned->b;
    } else {
        /* ", the Nvidia-backed": the word before the backer is an article after a comma */
        size_t art = backer->a;
        owned = NULL;
        if (art >= 2 &&
            (tok_is(self, art - 1, "the") || tok_is(self, art - 1, "a") ||
             tok_is(self, art - 1, "an")) &&
            tok_is(self, art - 2, ",")) {
            /* the name ends at the comma, or its suffix does ("Corvane Inc.,") */
            size_t k = mentions_before(self, art - 2), end = art - 2;
            while (k > 0 && self->m[k - 1].kind == M_CUE && has(&self->m[k - 1], CF_CUE_SUFFIX))
                end = self->m[--k].a;
            owned = k > 0 && self->m[k - 1].b + 1 >= end ? &self->m[k - 1] : NULL;
        }
        if (owned && !is_subject_ent(owned))
            owned = NULL;
    }
    if (!owned)
        return;
    cand_t c;
    cand_init(&c, "stake", owned->a < backer->a ? owned->a : backer->a, b, 0.6);
    c.ta = backer->a;
    copy(c.subject, sizeof c.subject, backer->id);
    copy(c.object, sizeof c.object, owned->id);
    emit(self, &c);
}

/* "counts OpenAI among its customers", "signed up OpenAI and Zoom as customers": the
 * companies right before the cue, after a verb that wins or counts them, are clients
 * of the subject before them: a partnership with the provider as its subject
 * (GUIDELINES "partnership": the two work together; the fresh sets' writers count
 * customer wins so). Not "lost Zoom as a customer", "followed Zoom as a customer of",
 * and no subject that is itself an object ("supply capacity to Netflix, and counts
 * Zoom among its customers": not Netflix's). */
static void
client_fact(cf_assemble_t *self, const mention_t *m)
{
    static const char *const wins[] = {"signed",   "signs",    "signing",  "won",     "wins",
                                       "winning",  "added",    "adds",     "adding",  "counts",
                                       "count",    "landed",   "lands",    "secured", "secures",
                                       "welcomed", "welcomes", "onboarded"};
    static const char *const preps[] = {"to", "with", "for", "from", "of", "by", "at", "on"};
    const mention_t *x = m > self->m ? m - 1 : NULL;
    if (!x || x->b + (x->poss ? 1 : 0) != m->a || !is_subject_ent(x))
        return;
    const mention_t *first = &self->m[list_start(self, (size_t)(x - self->m))];
    size_t v = first->a;
    if (v > 0 && tok_is(self, v - 1, "up")) /* "signed up" */
        v--;
    if (v == 0 || !TOK_IN(self, v - 1, wins))
        return;
    subjects_t s;
    if (!pick_subjects(self, first->a, first->a, 25, x->id, &s))
        return;
    if (!s.context[0] && s.a[0] > 0 && TOK_IN(self, s.a[0] - 1, preps))
        return;
    for (const mention_t *o = first; o <= x; o++) {
        cand_t c;
        cand_init(&c, "partnership", first->a, m->b, 0.6);
        copy(c.object, sizeof c.object, o->id);
        emit_subjects(self, &c, &s);
    }
}

/* "OVHcloud's largest customer is Microsoft", "its anchor tenants include Meta and
 * Zoom", "Microsoft, its biggest client,", "Microsoft is the company's top customer":
 * the companies said to be the customer are the owner's clients, a partnership with
 * the owner (the provider) as subject. The owner is the possessive right before the
 * cue; "its" that the sentence's first company would take is the topic when that
 * company is the customer. */
static void
key_client_fact(cf_assemble_t *self, const mention_t *m)
{
    static const char *const is[] = {"is",      "was",     "are",      "were",
                                     "remains", "remain",  "include",  "includes",
                                     "became",  "becomes", "included", "including"};
    static const char *const be[] = {"is", "was", "remains", "became", "becomes"};
    const mention_t *owner = m->a > 0 ? at(self, m->a - 1) : NULL;
    if (!owner || owner->kind != M_ENT ||
        !(owner->poss || tok_is(self, m->a - 1, "its") || tok_is(self, m->a - 1, "their")))
        return;
    item_t ob[MAX_LIST];
    int no = 0;
    /* the customers after it: "is Microsoft", "include Meta and Zoom" */
    if (TOK_IN(self, m->b, is))
        no = collect_objects(self, m->b + 1, 1, UNKNOWN_ENDS, ob);
    /* ... or before the owner: "Microsoft, its biggest client,", "Microsoft is its" */
    size_t o = owner->a;
    const mention_t *x = NULL;
    if (no == 0 && o >= 2 && tok_is(self, o - 1, ",")) {
        x = at(self, o - 2);
        if (x && !tok_is(self, m->b, ","))
            x = NULL;
    } else if (no == 0 && o >= 2 && TOK_IN(self, o - 1, be)) {
        x = at(self, o - 2);
    }
    if (x && x->b == o - 1 && is_subject_ent(x)) {
        copy(ob[0].id, ID_MAX, x->id);
        ob[0].a = x->a;
        ob[0].b = x->b;
        no = 1;
    }
    for (int q = 0; q < no; q++) {
        const char *provider = owner->id;
        if (owner->ref && same_family(self, provider, ob[q].id))
            provider = self->topic;
        if (!provider[0] || same_family(self, provider, ob[q].id))
            continue;
        cand_t c;
        cand_init(&c, "partnership", ob[q].a < owner->a ? ob[q].a : owner->a,
                  ob[q].b > m->b ? ob[q].b : m->b, 0.6);
        copy(c.subject, sizeof c.subject, provider);
        copy(c.object, sizeof c.object, ob[q].id);
        emit(self, &c);
    }
}

/* "Microsoft accounted for 58% of revenue", "Meta made up 30 percent of its sales":
 * a company that brings the sentence's subject (else the topic) that share of its
 * revenue is its customer, a partnership with the provider as subject. Not a unit of
 * the provider ("AWS accounted for 17% of revenue" at Amazon). */
static void
revenue_client_fact(cf_assemble_t *self, const mention_t *m)
{
    static const char *const makes[] = {"accounted", "accounts", "account",     "made",
                                        "makes",     "make",     "represented", "represents",
                                        "brought",   "brings",   "contributed", "contributes"};
    static const char *const fors[] = {"for", "up", "in"};
    const mention_t *n = m > self->m ? m - 1 : NULL;
    if (!n || n->b != m->a || n->kind != M_NUM || n->num.kind != CF_NUMBER_PERCENT)
        return;
    size_t v = n->a;
    if (v > 0 && TOK_IN(self, v - 1, fors))
        v--;
    if (v < 2 || !TOK_IN(self, v - 1, makes))
        return;
    const mention_t *x = at(self, v - 2);
    if (!x || x->b != v - 1 || !is_subject_ent(x) || x->ref || x->poss)
        return;
    subjects_t s;
    if (!pick_subjects(self, x->a, m->b, 25, x->id, &s))
        return;
    cand_t c;
    cand_init(&c, "partnership", x->a, m->b, 0.55);
    copy(c.object, sizeof c.object, x->id);
    emit_subjects(self, &c, &s);
}

/* "The agency picked AWS, Google Cloud and Oracle as its cloud providers", "Walmart
 * chose Azure to host its stores' systems": the companies picked serve the picker, a
 * partnership with the provider as subject (as client_fact's). The list must go on to
 * the role they are picked for: not "analysts picked Oracle as the stock to own". */
static void
pick_fact(cf_assemble_t *self, const mention_t *m)
{
    static const char *const roles[] = {"provider", "providers", "partner",  "partners",
                                        "supplier", "suppliers", "vendor",   "vendors",
                                        "host",     "hosts",     "platform", "platforms"};
    static const char *const serve[] = {"host", "run", "power", "supply", "provide", "operate"};
    static const char *const be[] = {"was", "were", "is", "are", "be", "been", "being"};
    /* "Dell was picked by Rackspace": the roles turn round; leave it */
    if (tok_is(self, m->b, "by") || (m->a > 0 && TOK_IN(self, m->a - 1, be)))
        return;
    item_t ob[MAX_LIST];
    int no = collect_objects(self, m->b, 2, UNKNOWN_ENDS, ob);
    /* the companies picked follow the verb ("the" aside): not "that startups chose,
     * with Azure as their second provider" */
    if (no == 0 || ob[0].a > m->b + 1)
        return;
    size_t end = ob[no - 1].b, role = 0;
    if (tok_is(self, end, "as")) {
        for (size_t j = end + 1; j < self->t->n && j <= end + 5 && !role; j++) {
            if (clause_end(self, j) || tok_is(self, j, ","))
                break;
            if (TOK_IN(self, j, roles))
                role = j + 1;
        }
    } else if (tok_is(self, end, "to") && TOK_IN(self, end + 1, serve)) {
        role = end + 2;
    }
    subjects_t s;
    if (!role || !pick_subjects(self, m->a, m->b, 15, ob[0].id, &s))
        return;
    for (int q = 0; q < no; q++)
        for (int r = 0; r < s.n; r++) {
            /* the picker is no company picked */
            bool picked = false;
            for (int x = 0; x < no && !picked; x++)
                picked = same_family(self, s.id[r], ob[x].id);
            if (picked)
                continue;
            cand_t c;
            cand_init(&c, "partnership", m->a, role, 0.6);
            copy(c.subject, sizeof c.subject, ob[q].id);
            copy(c.object, sizeof c.object, s.id[r]);
            if (!s.context[r] && s.a[r] < c.a)
                c.a = s.a[r];
            emit(self, &c);
        }
}

/* "its customers include", "Vultr's 2,000 clients such as": customers the cue's
 * provider owns, not "courting customers such as". */
static bool
owned_customers(const cf_assemble_t *self, size_t a)
{
    static const char *const owners[] = {"its", "their", "our", "whose", "'s"};
    for (size_t k = a; k > 0 && a - k < 3; k--) {
        const mention_t *x = at(self, k - 1);
        if (TOK_IN(self, k - 1, owners) || (x && x->kind == M_NUM) || (x && x->poss))
            return true;
        if ((self->t->v[k - 1].flags & (CF_TOKEN_WORD | CF_TOKEN_CAP)) != CF_TOKEN_WORD)
            return false;
    }
    return false;
}

/* Does a noun of working together follow token i in its clause ("in talks with X over a
 * partnership")? */
static bool
partner_noun_after(const cf_assemble_t *self, size_t i)
{
    /* "tie-up" is three tokens: its "tie" stands for it */
    static const char *const nouns[] = {"partnership", "partnerships",  "alliance",    "venture",
                                        "tie",         "collaboration", "cooperation", "agreement"};
    for (size_t j = i; j < self->t->n && j < i + 12 && !clause_end(self, j); j++)
        if (TOK_IN(self, j, nouns))
            return true;
    return false;
}

/* "won a contract from", "secured a $40 million contract from": a verb of winning
 * before the contract at token c, not after "to" ("failed to win a contract"). */
static bool
contract_won(const cf_assemble_t *self, size_t c)
{
    static const char *const wins[] = {"won",     "wins",   "win",    "winning",  "secured",
                                       "secures", "landed", "lands",  "received", "receives",
                                       "awarded", "bagged", "signed", "signs",    "clinched"};
    for (size_t j = c; j > 0 && c - j < 6; j--) {
        if (TOK_IN(self, j - 1, wins))
            return !(j >= 2 && tok_is(self, j - 2, "to"));
        if (clause_end(self, j - 1) || tok_is(self, j - 1, ","))
            break;
    }
    return false;
}

/* Is the pair s (from pick_subjects) the subject of what follows it: no context word
 * and no preposition before the first ("Like Microsoft and Google, ..."). *last: the
 * start of the last of them. */
static bool
pair_leads(const cf_assemble_t *self, const subjects_t *s, size_t *last)
{
    static const char *const preps[] = {"like", "unlike", "with",    "than", "of",
                                        "by",   "from",   "against", "to",   "for"};
    size_t first = s->a[0];
    *last = s->a[0];
    for (int q = 1; q < s->n; q++) {
        first = s->a[q] < first ? s->a[q] : first;
        *last = s->a[q] > *last ? s->a[q] : *last;
    }
    return !s->context[0] && !(first > 0 && TOK_IN(self, first - 1, preps));
}

/* Does the pair s make what the cue at tok names: pair_leads, and a verb of making
 * between the last of them and the cue ("announced", "formed", "set up"). */
static bool
pair_makes(const cf_assemble_t *self, const subjects_t *s, size_t tok)
{
    static const char *const makes[] = {"announced",   "announce", "announces", "formed",
                                        "form",        "forms",    "set",       "sets",
                                        "created",     "create",   "launched",  "launch",
                                        "established", "unveiled", "signed",    "agreed"};
    size_t last;
    if (!pair_leads(self, s, &last))
        return false;
    for (size_t j = last; j < tok; j++) {
        if (tok_is(self, j, ","))
            return false;
        if (TOK_IN(self, j, makes))
            return true;
    }
    return false;
}

/* Is the pair s the subject of the verb at tok ("Nokia and Microsoft have partnered"):
 * pair_leads, and the verb a few words after the last of them. */
static bool
pair_acts(const cf_assemble_t *self, const subjects_t *s, size_t tok)
{
    size_t last;
    return pair_leads(self, s, &last) && tok >= last && tok - last <= 6;
}

static void
object_facts(cf_assemble_t *self)
{
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        const char *type = NULL;
        int unknown_ok = UNKNOWN_ANY;
        if (has(m, CF_CUE_DIVEST))
            divest_fact(self, m);
        if (has(m, CF_CUE_BACKED)) {
            backed_fact(self, m);
            continue;
        }
        if (has(m, CF_CUE_RAISE)) {
            raise_fact(self, m);
            continue;
        }
        if (has(m, CF_CUE_CLIENT)) {
            client_fact(self, m);
            continue;
        }
        if (has(m, CF_CUE_PICK)) {
            pick_fact(self, m);
            continue;
        }
        if (has(m, CF_CUE_KEYCLIENT)) {
            key_client_fact(self, m);
            continue;
        }
        if (has(m, CF_CUE_REVMIX)) {
            revenue_client_fact(self, m);
            continue;
        }
        if (has(m, CF_CUE_PARTNER)) {
            if (has(m, CF_CUE_CUSTOMERS) && !owned_customers(self, m->a))
                continue;
            type = "partnership";
            /* "in discussions with the Pentagon about": talks are about many things,
             * and talks to buy or invest are the deal's; "in talks with" is a
             * partnership only when they are about one ("over a partnership") */
            if (tok_is(self, m->a, "in")) {
                if (sentence_has(self, CF_CUE_ACQUIRE) || sentence_has(self, CF_CUE_STAKE))
                    continue;
                if (!tok_is(self, m->a + 1, "discussions") && !partner_noun_after(self, m->b))
                    continue;
                unknown_ok = UNKNOWN_ENDS;
            }
            /* "won a contract from the agency", not "lost" or "failed to win" one */
            if (tok_is(self, m->a + 1, "from") && !contract_won(self, m->a))
                continue;
        } else if (has(m, CF_CUE_ACQUIRE)) {
            type = "acquisition";
            /* "lost its bid for the Pentagon contract": a bid is not always for a company */
            if (tok_is(self, m->a, "bid") || tok_is(self, m->a, "bids"))
                unknown_ok = UNKNOWN_ENDS;
        } else if (has(m, CF_CUE_STAKE)) {
            if (tok_is(self, m->a, "backed") && m->a > 0 && tok_is(self, m->a - 1, "-")) {
                modifier_backed(self, m);
                continue;
            }
            type = "stake";
            /* "IMM took a 17.2 percent stake.", "also bought a minority stake, it said":
             * a stake the sentence does not place is in the company the sentence before
             * was about; a bare "stake" has no other use ("at stake", "the stake was") */
            if (m->b - m->a == 1 && (tok_is(self, m->a, "stake") || tok_is(self, m->a, "stakes"))) {
                bare_stake(self, m);
                continue;
            }
            /* "a minority stake in 2024.": the "in" is the time's */
            const mention_t *p = at(self, m->b);
            if (tok_is(self, m->b - 1, "in") && p && p->kind == M_PER && p->a == m->b &&
                bare_stake(self, m))
                continue;
        } else if (has(m, CF_CUE_TARGET)) {
            type = "target";
            unknown_ok = UNKNOWN_NO;
        }
        if (!type)
            continue;
        item_t ob[MAX_LIST];
        /* "X and Y are jointly developing chips": the pair, whatever they develop */
        bool jointly = tok_is(self, m->a, "jointly");
        if (jointly && tok_is(self, m->b, "by"))
            continue; /* "a chip jointly developed by X and Y": no subject to take */
        /* "Nokia and Microsoft have partnered", "teamed up", "joined forces": a verb
         * without "with" is the pair's, and what follows it is no partner */
        static const char *const pair_verbs[] = {"partnered", "teamed", "joined", "join"};
        bool acts = TOK_IN(self, m->a, pair_verbs) && !tok_is(self, m->b - 1, "with");
        /* "X and Y announced a joint venture", "a tie-up": the pair too; the company
         * after the bare noun is no partner ("the joint venture owned by Orange") */
        bool bare = (tok_is(self, m->a, "joint") || tok_is(self, m->a, "tie")) &&
                    !tok_is(self, m->b - 1, "with") && !tok_is(self, m->b - 1, "between");
        size_t from = m->b;
        /* "a stake of up to 10 percent in X": the objects come after the size */
        if (strcmp(type, "stake") == 0 && tok_is(self, m->b - 1, "of") &&
            !(from = stake_size_end(self, m->b)))
            continue;
        int no = jointly || bare || acts ? 0 : collect_objects(self, from, 10, unknown_ok, ob);
        /* "which holds a stake in the company": the company the sentence before named */
        const mention_t *ref;
        const char *owned;
        if (no == 0 && strcmp(type, "stake") == 0 && (ref = at(self, from)) && ref->a == from &&
            ref->kind == M_ENT && ref->ref && (owned = owned_ref(self, ref, m->a))) {
            copy(ob[0].id, ID_MAX, owned);
            ob[0].a = ref->a;
            ob[0].b = ref->b;
            no = 1;
        }
        subjects_t s;
        /* "a venture between Thales and Google Cloud": the first and each other */
        if (no >= 2 && tok_is(self, m->b - 1, "between")) {
            for (int q = 1; q < no; q++) {
                cand_t c;
                cand_init(&c, type, m->a, ob[q].b, 0.6);
                copy(c.subject, sizeof c.subject, ob[0].id);
                copy(c.object, sizeof c.object, ob[q].id);
                emit(self, &c);
            }
            continue;
        }
        /* "agreed with KDDI to build": agreeing with a view ("agreed with Microsoft's
         * estimate") is no partnership, so the objects must go on to "to", and not to
         * undo something ("to settle their lawsuit") */
        static const char *const undo[] = {"settle",  "end",       "resolve", "drop",
                                           "dismiss", "terminate", "unwind",  "pause"};
        if ((tok_is(self, m->a, "agreed") || tok_is(self, m->a, "agrees") ||
             tok_is(self, m->a, "agree")) &&
            (no == 0 || !tok_is(self, ob[no - 1].b, "to") || TOK_IN(self, ob[no - 1].b + 1, undo)))
            continue;
        /* "bought a stake in X": the stake's fact, not a takeover */
        if (no > 0 && strcmp(type, "acquisition") == 0 &&
            partial_stake_between(self, m->b, ob[0].a))
            continue;
        if (no == 0) {
            /* "X and Y announced a partnership": the coordinated pair; for a bare
             * venture, the pair that makes it ("Amazon and Microsoft both compete with
             * the joint venture", "Like Microsoft and Google, Oracle set up one": no) */
            if (strcmp(type, "partnership") != 0 ||
                !pick_subjects(self, m->a, m->b, 12, NULL, &s) || s.n < 2 ||
                (bare && !pair_makes(self, &s, m->a)) || (acts && !pair_acts(self, &s, m->a)))
                continue;
            cand_t c;
            cand_init(&c, type, m->a, m->b, 0.6);
            copy(c.subject, sizeof c.subject, s.id[s.n - 1]);
            copy(c.object, sizeof c.object, s.id[0]);
            widen(&c, s.a[s.n - 1], m->b);
            emit(self, &c);
            continue;
        }
        if (!pick_subjects(self, m->a, m->b, 25, ob[0].id, &s))
            continue;
        for (int q = 0; q < no; q++) {
            cand_t c;
            cand_init(&c, type, m->a, ob[q].b, 0.7);
            copy(c.object, sizeof c.object, ob[q].id);
            if (strcmp(type, "target") == 0)
                phrase(self, m->a, m->b, c.detail, sizeof c.detail);
            subjects_t s2 = s;
            int w = 0;
            for (int r = 0; r < s.n; r++) {
                /* an object of this very trigger is never its subject */
                bool is_obj = false;
                for (int x = 0; x < no; x++)
                    if (same_family(self, s.id[r], ob[x].id))
                        is_obj = true;
                if (is_obj)
                    continue;
                {
                    s2.a[w] = s.a[r];
                    s2.context[w] = s.context[r];
                    copy(s2.id[w++], ID_MAX, s.id[r]);
                }
            }
            s2.n = w;
            emit_subjects(self, &c, &s2);
        }
    }
}

/* Compare cues that name a launched product's rival but make no product of a market
 * alone ("revenue comparable with Huawei's", "cut prices to undercut AWS"). */
static bool
rival_only(const cf_assemble_t *self, const mention_t *m)
{
    return (tok_is(self, m->a, "comparable") && !tok_is(self, m->a + 1, "to")) ||
           tok_is(self, m->a, "cheaper") || tok_is(self, m->a, "undercut") ||
           tok_is(self, m->a, "undercuts") || tok_is(self, m->a, "undercutting");
}

/* Does token i go on a product's name: a capitalized word that is nothing else, or a
 * cloud or market word written as part of the name ("Exadata Cloud Plus"). */
static bool
name_word(const cf_assemble_t *self, size_t i)
{
    if (i >= self->t->n || !(self->t->v[i].flags & CF_TOKEN_CAP))
        return false;
    const mention_t *x = at(self, i);
    uint64_t cloud = (1ull << CF_CUE_CLOUD) | (1ull << CF_CUE_MARKET);
    return !x || (x->kind == M_CUE && x->a == i && x->b == i + 1 && (x->cats & cloud) &&
                  !(x->cats & ~(cloud | (1ull << CF_CUE_STOPCAP))));
}

/* "its Koukaryoku GPU cloud service", "Alibaba Cloud's Model Studio platform",
 * "Microsoft Teams software": a product named between its maker (a possessive, "its",
 * or the brand) and a product noun (m) is one the maker offers. Its name has a
 * capitalized word that is nothing else, and may have cloud and market words ("GPU
 * cloud") and product nouns ("Power Platform software"); one of such words alone
 * ("its Cloud service") is none. The noun is the name's when capitalized ("Power
 * Platform"); the cue may hold a cloud word ("cloud service", also a market's name). */
static void
owned_product(cf_assemble_t *self, const mention_t *m)
{
    /* words a name goes on with; a noun before the last is the name's */
    uint64_t cloud = (1ull << CF_CUE_CLOUD) | (1ull << CF_CUE_MARKET) | (1ull << CF_CUE_PRODNOUN);
    size_t a = m->a;
    bool proper = false;
    while (a > 0 && m->a - a < 5) {
        const mention_t *x = at(self, a - 1);
        if (name_word(self, a - 1) && !x) {
            proper = true;
            a--;
        } else if (x && x->kind == M_CUE && (x->cats & cloud) && x->b == a) {
            a = x->a; /* "GPU cloud" */
        } else {
            break;
        }
    }
    const mention_t *owner = a > 0 ? at(self, a - 1) : NULL;
    if (!proper || !owner || owner->kind != M_ENT || owner->ekind == CF_ENTITY_SOURCE)
        return;
    cand_t c;
    cand_init(&c, "offering", owner->a, m->b, 0.5);
    c.ta = a;
    c.tb = m->b;
    size_t end = self->t->v[m->a].flags & CF_TOKEN_CAP ? m->b : m->b - 1;
    if (!phrase(self, a, end, c.detail, sizeof c.detail))
        return;
    copy(c.subject, sizeof c.subject, owner->id);
    emit(self, &c);
}

/* A product name ending just before token `end`: capitalized words, at most 5. */
static size_t
product_before(const cf_assemble_t *self, size_t end, char *out, size_t outsz)
{
    size_t a = end;
    while (a > 0 && end - a < 5) {
        unsigned f = self->t->v[a - 1].flags;
        if (!(f & CF_TOKEN_WORD) || !(f & (CF_TOKEN_CAP | CF_TOKEN_NUM)) || at(self, a - 1))
            break;
        a--;
    }
    if (a == end || !phrase(self, a, end, out, outsz))
        return end;
    return a;
}

/* "launched a managed database service", "unveiled a new object storage product": a
 * product without a name is one when its words run straight from the offer cue's
 * object (after "a", "its", "new") to a product noun, with one word before the noun
 * at least and none a company, place, figure or function word ("a review of our
 * service" is no product). off is the cue's first token, j its end. Returns the
 * noun's end and the words' start in *start, or 0. */
static size_t
plain_product(const cf_assemble_t *self, size_t off, size_t j, size_t *start)
{
    static const char *const lead[] = {"a", "an", "its", "their", "new"};
    static const char *const stops[] = {"of",   "for",  "to",  "in",  "on",    "at",
                                        "with", "by",   "and", "or",  "the",   "that",
                                        "from", "into", "as",  "its", "their", "across"};
    static const char *const deals[] = {"venture",   "partnership",   "alliance",
                                        "agreement", "deal",          "pact",
                                        "contract",  "collaboration", "consortium"};
    const cf_tokens_t *t = self->t;
    /* "a joint venture to offer AI services", "partnered with Dell to offer ...": a
     * deal's purpose, not yet anyone's product */
    const mention_t *partner = off > 1 ? at(self, off - 2) : NULL;
    if (off > 1 && tok_is(self, off - 1, "to") &&
        (TOK_IN(self, off - 2, deals) || (partner && partner->kind == M_ENT)))
        return 0;
    while (j < t->n && TOK_IN(self, j, lead))
        j++;
    *start = j;
    for (size_t e = j; e < t->n && e < j + 6; e++) {
        const mention_t *x = at(self, e);
        if (x && x->kind == M_CUE && x->a == e && has(x, CF_CUE_PRODNOUN) && e > j)
            return x->b;
        if (!(t->v[e].flags & (CF_TOKEN_WORD | CF_TOKEN_SKIP)) || (x && x->kind != M_CUE) ||
            TOK_IN(self, e, stops))
            return 0;
    }
    return 0;
}

/* The rivals a product is set against after token `from`, in its clause: "comparable
 * to Amazon's Redshift", "cheaper than comparable instances from AWS and CoreWeave",
 * "30 per cent below comparable AWS offerings". Returns how many (out holds them) and
 * the comparison's first token in *cue. */
static int
rivals_after(const cf_assemble_t *self, size_t from, item_t *out, size_t *cue)
{
    const cf_tokens_t *t = self->t;
    for (size_t q = from; q < t->n && q < from + 30 && !clause_end(self, q); q++) {
        const mention_t *x = at(self, q);
        if (!x || !has(x, CF_CUE_COMPARE))
            continue;
        for (size_t r = x->b; r < t->n && r < x->b + 4 && !clause_end(self, r); r++) {
            const mention_t *o = at(self, r);
            if (o && is_subject_ent(o) && !o->ref) {
                *cue = x->a;
                return collect_objects(self, r, 0, UNKNOWN_NO, out);
            }
        }
        return 0;
    }
    return 0;
}

static void
offering_facts(cf_assemble_t *self)
{
    const cf_tokens_t *t = self->t;
    size_t rival_cue = SIZE_MAX; /* a comparison a launched product took */
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        cand_t c;
        subjects_t s;
        if (m->a == rival_cue)
            continue;
        if ((has(m, CF_CUE_COMPARE) && !rival_only(self, m)) ||
            (m->depth > 0 && m->a > 0 && tok_is(self, m->a - 1, "(") && is_subject_ent(m) &&
             tok_is(self, m->b, "has"))) {
            /* "Product (comparable to Rival's X)", "Product (Rival has X)" */
            const mention_t *obj = NULL;
            size_t open = m->a;
            if (m->kind == M_ENT) {
                obj = m;
            } else {
                for (size_t j = m->b; j < t->n && j < m->b + 4; j++) {
                    const mention_t *x = at(self, j);
                    if (x && is_subject_ent(x)) {
                        obj = x;
                        break;
                    }
                }
            }
            if (!obj)
                continue;
            while (open > 0 && m->a - open < 3 && !tok_is(self, open - 1, "("))
                open--;
            cand_init(&c, "offering", m->a, obj->b, 0.5);
            copy(c.object, sizeof c.object, obj->id);
            size_t pa;
            if (open > 1 && tok_is(self, open - 1, "(") &&
                (pa = product_before(self, open - 1, c.detail, sizeof c.detail)) < open - 1) {
                c.a = c.ta = pa;
                c.b = obj->b;
                /* include the rival's product and the closing parenthesis */
                size_t j = obj->b;
                while (j < t->n && j - obj->b < 6 && !tok_is(self, j, ")"))
                    j++;
                if (j < t->n && tok_is(self, j, ")"))
                    c.b = j + 1;
            } else if (m->kind == M_CUE) {
                const mention_t *mk = NULL;
                for (size_t j = k; j-- > 0;) {
                    if (m->a - self->m[j].b > 12)
                        break;
                    if (has(&self->m[j], CF_CUE_MARKET)) {
                        mk = &self->m[j];
                        break;
                    }
                }
                if (!mk)
                    continue;
                /* the market's own words, with a capitalized modifier ("B2B") */
                size_t a = mk->a;
                if (a > 0 && (t->v[a - 1].flags & (CF_TOKEN_UPPER | CF_TOKEN_NUM)) &&
                    !at(self, a - 1))
                    a--;
                if (!phrase(self, a, mk->b, c.detail, sizeof c.detail))
                    continue;
                c.a = c.ta = a;
            } else {
                continue;
            }
            if (pick_subjects(self, c.a, c.a, 40, obj->id, &s))
                emit_subjects(self, &c, &s);
            continue;
        }
        if (has(m, CF_CUE_PRODNOUN)) {
            /* a launch or a comparison names the sentence's products (the branches
             * below); of nouns in a row, the last ("cloud services offerings") */
            if (!sentence_has(self, CF_CUE_OFFER) && !sentence_has(self, CF_CUE_COMPARE) &&
                !(k + 1 < self->nm && self->m[k + 1].a == m->b &&
                  has(&self->m[k + 1], CF_CUE_PRODNOUN)))
                owned_product(self, m);
            continue;
        }
        if (has(m, CF_CUE_OFFER)) {
            /* "the release of its Zocalo service", "unveiled Azure Arc" */
            if (m->a > 0 && (t->v[m->a].flags & CF_TOKEN_CAP))
                continue; /* a capitalized cue mid-sentence: a headline or a menu */
            item_t rv[MAX_LIST];
            size_t rc = 0, j = m->b;
            int nr = -1; /* rivals_after's answer, once asked */
            while (j < t->n && j < m->b + 3 && !(t->v[j].flags & CF_TOKEN_CAP))
                j++;
            size_t e;
            if (j >= t->n || !(t->v[j].flags & CF_TOKEN_CAP)) {
                /* "launched a range of bare-metal servers for AI training, which it
                 * prices below comparable instances from AWS": a product without a name
                 * is one when the sentence sets it against a rival's */
                static const char *const sets[] = {"range",  "line",  "family",
                                                   "series", "suite", "set"};
                j = m->b;
                if (j < t->n && (tok_is(self, j, "a") || tok_is(self, j, "an") ||
                                 tok_is(self, j, "its") || tok_is(self, j, "their")))
                    j++;
                if (TOK_IN(self, j, sets) && tok_is(self, j + 1, "of"))
                    j += 2; /* "a range of": the products' own words */
                /* the product's words run to the comma or "which" that describes
                 * it; a company, place or figure among them makes them something
                 * else ("a review of its prices") */
                bool named = false;
                for (e = j;
                     e < t->n && e < j + 10 && !clause_end(self, e) && !tok_is(self, e, ",") &&
                     !tok_is(self, e, "which") && !tok_is(self, e, "that") && !named;
                     e++) {
                    const mention_t *x = at(self, e);
                    named = x && x->kind != M_CUE;
                }
                if (named || e == j || (nr = rivals_after(self, e, rv, &rc)) == 0) {
                    /* ... or one whose words end in a product noun */
                    if (!(e = plain_product(self, m->a, m->b, &j)))
                        continue;
                }
            } else {
                /* a product named after its maker's brand: "Azure Arc", "Google
                 * Kubernetes Engine" (the brand alone is no product) */
                const mention_t *brand = at(self, j);
                /* ... or led by a place's adjective ("its European Sovereign
                 * Cloud") or a capitalized cloud word with a plain name word after it
                 * ("Kubernetes Engine", not "Kubernetes" alone) */
                bool led =
                    brand && brand->kind == M_PLACE && brand->a == j && name_word(self, brand->b);
                led |= brand && brand->kind == M_CUE && name_word(self, j) &&
                       name_word(self, brand->b) && !at(self, brand->b);
                if (brand && !led &&
                    !(brand->kind == M_ENT && !brand->ref && brand->a == j &&
                      brand->ekind != CF_ENTITY_SOURCE && brand->b < t->n &&
                      (t->v[brand->b].flags & CF_TOKEN_CAP) && !at(self, brand->b))) {
                    /* no name, but maybe a product: "a managed Kubernetes service" */
                    if (!(e = plain_product(self, m->a, m->b, &j)))
                        continue;
                } else {
                    e = brand ? brand->b : j;
                    while (e - j < 5 && name_word(self, e))
                        e++;
                    size_t nc;
                    if (!brand && cue_match(self, j, CF_CUE_STOPCAP, &nc) >= 0)
                        continue;
                    if (e < t->n && (tok_is(self, e, "service") || tok_is(self, e, "platform")))
                        e++;
                }
            }
            cand_init(&c, "offering", m->a, e, 0.5);
            size_t len = phrase(self, j, e, c.detail, sizeof c.detail - 40);
            if (!len)
                continue;
            const char *mk = NULL; /* the sentence's last market, not a word of the name */
            for (size_t q = 0; q < self->nm; q++)
                if (has(&self->m[q], CF_CUE_MARKET) && !(self->m[q].a >= j && self->m[q].a < e))
                    mk = self->m[q].market;
            if (mk)
                snprintf(c.detail + len, sizeof c.detail - len, " (%s)", mk);
            /* "..., a data warehouse comparable to Amazon's Redshift": the rivals */
            if (nr < 0)
                nr = rivals_after(self, e, rv, &rc);
            if (nr > 0)
                rival_cue = rc;
            for (int q = 0; q < (nr > 0 ? nr : 1); q++) {
                cand_t x = c;
                if (nr > 0) {
                    copy(x.object, sizeof x.object, rv[q].id);
                    widen(&x, rv[q].a, rv[q].b);
                }
                if (pick_subjects(self, m->a, m->b, 25, x.object[0] ? x.object : NULL, &s))
                    emit_subjects(self, &x, &s);
            }
        }
    }
}

/* The cue categories whose mentions start the patterns of place_facts,
 * object_facts and offering_facts: each of them does nothing in a sentence
 * without one (offering_facts also starts at a company in parentheses). */
#define CUE_BIT(c) (1ull << (c))
#define PLACE_TRIGGERS                                                                   \
    (CUE_BIT(CF_CUE_DATACENTER) | CUE_BIT(CF_CUE_ENTER) | CUE_BIT(CF_CUE_IPO) |               \
     CUE_BIT(CF_CUE_EXIT))
#define OBJECT_TRIGGERS                                                                            \
    (CUE_BIT(CF_CUE_DIVEST) | CUE_BIT(CF_CUE_BACKED) | CUE_BIT(CF_CUE_RAISE) |                     \
     CUE_BIT(CF_CUE_CLIENT) | CUE_BIT(CF_CUE_KEYCLIENT) | CUE_BIT(CF_CUE_REVMIX) |                 \
     CUE_BIT(CF_CUE_PICK) | CUE_BIT(CF_CUE_PARTNER) | CUE_BIT(CF_CUE_ACQUIRE) |                    \
     CUE_BIT(CF_CUE_STAKE) | CUE_BIT(CF_CUE_TARGET))
#define OFFERING_TRIGGERS                                                                          \
    (CUE_BIT(CF_CUE_COMPARE) | CUE_BIT(CF_CUE_OFFER) | CUE_BIT(CF_CUE_PRODNOUN))

/* Runs pattern when the sentence has its triggers; Debug builds run it either way and
 * check that without them it adds no fact and changes nothing a later pattern or
 * sentence reads (see GATE_CHECKS). */
static void
run_pattern(cf_assemble_t *self, void (*pattern)(cf_assemble_t *), bool triggered)
{
    if (triggered) {
        pattern(self);
    } else if (GATE_CHECKS) {
        size_t n = self->facts->n;
        bool dc = self->has_dc_count, money = self->last_money;
        int age = self->last_money_age;
        pattern(self);
        GATE_CHECK(self->facts->n == n && self->has_dc_count == dc &&
                   self->last_money == money && self->last_money_age == age);
    }
}

/* Runs the fact patterns whose triggers the sentence mentions. Most sentences
 * have none of a pattern's triggers, and its loop over the mentions would find
 * nothing: number_facts works only from numbers (M_NUM), the others from the
 * cue categories above. A branch added to a pattern must add its trigger here. */
static void
find_facts(cf_assemble_t *self)
{
    uint64_t cats = 0;
    bool num = false, paren_ent = false;
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (m->kind == M_CUE)
            cats |= m->cats;
        else if (m->kind == M_NUM)
            num = true;
        else if (m->kind == M_ENT && m->depth > 0)
            paren_ent = true;
    }
    run_pattern(self, number_facts, num || (cats & CUE_BIT(CF_CUE_MULTIPLE)));
    run_pattern(self, place_facts, cats & PLACE_TRIGGERS);
    run_pattern(self, object_facts, cats & OBJECT_TRIGGERS);
    run_pattern(self, offering_facts, (cats & OFFERING_TRIGGERS) || paren_ent);
}

/* ------------------------------------------------------------------------ */
/* public */

static int
by_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

cf_assemble_t *
cf_assemble_new(const cf_gazetteer_t *gaz, const cf_lexicon_t *cues, cf_period_date_t pub)
{
    cf_assemble_t *self = cf_malloc(sizeof *self);
    memset(self, 0, offsetof(cf_assemble_t, pub));
    self->gaz = gaz;
    self->cues = cues;
    for (size_t k = 0; k < CLAUSE_VERBS; k++) {
        const char *w = clause_verb_words[k];
        self->clause_verbs[k] = (uint64_t)cf_token_hash(w, strlen(w)) << 8 | k;
    }
    qsort(self->clause_verbs, CLAUSE_VERBS, sizeof *self->clause_verbs, by_u64);
    cf_assemble_reset(self, pub);
    return self;
}

void
cf_assemble_reset(cf_assemble_t *self, cf_period_date_t pub)
{
    memset(&self->pub, 0, offsetof(cf_assemble_t, learned) - offsetof(cf_assemble_t, pub));
    self->pub = pub;
}

void
cf_assemble_destroy(cf_assemble_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_assemble_t *self = *self_p;
    free(self->m);
    free(self->cover);
    free(self->depth);
    free(self->rel);
    free(self->own_cats);
    free(self->own_gaz);
    free(self->own_per);
    free(self->gate_cats);
    free(self->gate_gaz);
    free(self->gate_per);
    free(self->gate_one);
    free(self);
    *self_p = NULL;
}

void
cf_assemble_gates(cf_assemble_t *self, const cf_lexicon_roots_t *roots, const cf_tokens_t *all)
{
    if (all->n > self->gate_cap) {
        self->gate_cap = all->n + 64;
        self->gate_cats = cf_realloc(self->gate_cats, self->gate_cap * sizeof *self->gate_cats);
        self->gate_gaz = cf_realloc(self->gate_gaz, self->gate_cap * sizeof *self->gate_gaz);
        self->gate_per = cf_realloc(self->gate_per, self->gate_cap * sizeof *self->gate_per);
        self->gate_one = cf_realloc(self->gate_one, self->gate_cap * sizeof *self->gate_one);
    }
    _Static_assert(CF_GAZETTEER_ENTITY == 1 << 0 && CF_GAZETTEER_PLACE == 1 << 1,
                   "the gazetteer's bits are the roots' tables 0 and 1");
    cf_lexicon_roots_tag_gates(roots, all, 2,
                               CF_GAZETTEER_ENTITY | CF_GAZETTEER_PLACE | CF_LEXICON_MARKED,
                               self->gate_cats, self->gate_gaz, self->gate_one);
    /* roots marks cf_period_start_words (cf_extract_new): periods need no probe of
     * their own */
    for (size_t i = 0; i < all->n; i++) {
        self->gate_per[i] = cf_period_may_start_marked(all, i, self->gate_gaz[i] & CF_LEXICON_MARKED);
        self->gate_gaz[i] &= CF_GAZETTEER_ENTITY | CF_GAZETTEER_PLACE;
    }
    self->gate_v = all->v;
    self->gate_n = all->n;
}

/* Sizes the per-token arrays for toks, makes toks the current sentence and looks
 * each token up once in the cue lexicon (and with gaz, the gazetteer), so that the
 * recognizers below skip the tokens where nothing of theirs starts. A sentence of
 * the article given to cf_assemble_gates reads that pass's arrays instead: every
 * answer is one of the token alone (a sentence's first token follows a space, so
 * no hyphen at a sentence bound is skipped either way). */
static void
prepare(cf_assemble_t *self, const cf_tokens_t *toks, bool gaz)
{
    if (toks->n + 1 > self->tcap) {
        self->tcap = toks->n + 64;
        self->cover = cf_realloc(self->cover, self->tcap * sizeof *self->cover);
        self->depth = cf_realloc(self->depth, self->tcap * sizeof *self->depth);
        self->rel = cf_realloc(self->rel, self->tcap * sizeof *self->rel);
        self->own_cats = cf_realloc(self->own_cats, self->tcap * sizeof *self->own_cats);
        self->own_gaz = cf_realloc(self->own_gaz, self->tcap * sizeof *self->own_gaz);
        self->own_per = cf_realloc(self->own_per, self->tcap * sizeof *self->own_per);
    }
    self->t = toks;
    if (self->gate_v && toks->v >= self->gate_v &&
        toks->v + toks->n <= self->gate_v + self->gate_n) {
        size_t off = (size_t)(toks->v - self->gate_v);
        self->tcats = self->gate_cats + off;
        self->tgaz = self->gate_gaz + off;
        self->tper = self->gate_per + off;
        self->tone = self->gate_one + off;
        return;
    }
    self->tone = NULL;
    self->tcats = self->own_cats;
    self->tgaz = self->own_gaz;
    self->tper = self->own_per;
    if (gaz) {
        cf_gazetteer_starts_all(self->gaz, toks, self->tgaz);
        cf_period_may_start_all(toks, self->tper);
    }
    cf_lexicon_cats_all(self->cues, toks, self->tcats);
}

/* "over five years in the region", "for two years on AWS": a span of time, not the
 * years elapsed since a year named before ("Two years in, ..."). */
static bool
duration_before(const cf_assemble_t *self, size_t i)
{
    static const char *const words[] = {"over", "for",   "within", "next",
                                        "past", "last",  "spend",  "spent", "during"};
    /* the word before the count, or the count's own qualifier ("over three years") */
    return (i > 0 && TOK_IN(self, i - 1, words)) || TOK_IN(self, i, words);
}

void
cf_assemble_scan(cf_assemble_t *self, const cf_tokens_t *toks)
{
    if (self->pub.y != 0 || self->year_fixed)
        return;
    prepare(self, toks, false);
    /* a count of years needs a "years" token at or after it: found the first time a
     * count could matter (a year seen, a number here), not in every sentence */
    size_t years_end = SIZE_MAX;
    for (size_t i = 0; i < toks->n; i++) {
        size_t nc;
        int y;
        /* everything below starts at digits, a year-fixing cue or a number's cue */
        if (!(toks->v[i].flags & CF_TOKEN_NUM) &&
            !(self->tcats[i] & ((1ull << CF_CUE_YEARFIX) | CF_NUMBER_START_CATS)))
            continue;
        if (cue_at(self, i, CF_CUE_YEARFIX, &nc) && (y = cf_period_year_at(toks, i + nc))) {
            self->pub.y = y;
            self->year_fixed = true;
            return;
        }
        /* "In 2015 ... Two years in": a count of years after a year named before */
        cf_number_t num;
        if (self->scan_year && years_end == SIZE_MAX) {
            years_end = 0;
            for (size_t k = 0; k < toks->n; k++)
                if (tok_is(self, k, "years"))
                    years_end = k + 1;
        }
        if (self->scan_year && i < years_end &&
            ((toks->v[i].flags & CF_TOKEN_NUM) || (self->tcats[i] & CF_NUMBER_START_CATS)) &&
            number_at(self, i, &num) && num.kind == CF_NUMBER_COUNT && num.value >= 1 &&
            num.value <= 20 && !duration_before(self, i) && tok_is(self, num.b, "years") &&
            (tok_is(self, num.b + 1, "in") || tok_is(self, num.b + 1, "later") ||
             tok_is(self, num.b + 1, "on")) &&
            !cf_period_year_at(toks, num.b + 2)) {
            self->pub.y = self->scan_year + (int)num.value;
            self->year_fixed = true;
            return;
        }
        if ((toks->v[i].flags & CF_TOKEN_NUM) && toks->v[i].len == 4 && /* cheap first */
            (y = cf_period_year_at(toks, i)))
            self->scan_year = y;
    }
    self->t = NULL;
}

/* Do the first mentions pm[0..np) open with a list of companies: "X and Y", "X, Y and
 * Z", "X & Y"? Only a list that reaches an "and": "Scaleway, the cloud arm of Iliad"
 * is one company named twice. */
static bool
plural_subject(const cf_assemble_t *self, const mention_t *const *pm, size_t np)
{
    /* not "Oracle and its partners", "Alibaba and Alibaba Cloud": one company */
    for (size_t q = 0; q + 1 < np && !same_family(self, pm[q]->id, pm[q + 1]->id) &&
                       coordinated(self, pm[q], pm[q + 1]);
         q++) {
        for (size_t i = pm[q]->b; i < pm[q + 1]->a; i++)
            if (tok_is(self, i, "and") || tok_is(self, i, "&"))
                return true;
    }
    return false;
}

/* Counts the companies the sentence names (not its pronouns); the one with a cloud
 * unit named most so far (the first on a tie) is whose unit "the cloud unit" is. Of
 * the companies the sentence names, the later sentences read:
 * - topic, for pronouns and "the company": the one that opens the sentence, else the
 *   one the article has named most so far, the first on a tie; a sentence that opens
 *   with a list of companies (plural_subject) leaves the topic as it was;
 * - focus, for "owns N percent of the company": the most named, the last on a tie
 *   ("Microsoft accounted for 62 percent of revenue, making Voltstack dependent" in a
 *   story about Voltstack: Voltstack; "Microsoft invested in OpenAI": OpenAI). */
static void
count_cast(cf_assemble_t *self)
{
    enum { PICK = 16 }; /* subject mentions weighed per sentence: the first ones */
    const mention_t *pm[PICK];
    size_t pc[PICK], np = 0;
    for (size_t k = 0; k < self->nm; k++) {
        const mention_t *m = &self->m[k];
        if (!is_subject_ent(m))
            continue;
        /* by family: Google, Alphabet and Google Cloud are one company here */
        const char *id = family(self, m->id);
        size_t c = 0;
        while (c < self->ncast && strcmp(self->cast[c], id) != 0)
            c++;
        if (np < PICK) {
            pm[np] = m;
            /* a pronoun for a company not counted has no count (a company added
             * later in this loop may take index c) */
            pc[np++] = m->ref && c == self->ncast ? SIZE_MAX : c;
        }
        if (m->ref) /* a pronoun is no new naming */
            continue;
        if (c == self->ncast) {
            if (c == MAX_CAST)
                continue;
            copy(self->cast[c], ID_MAX, id);
            self->cast_count[c] = 0;
            self->cast_unit[c] = cf_gazetteer_unit_of(self->gaz, id) != NULL;
            self->ncast++;
        }
        self->cast_count[c]++;
        /* only companies with a unit can own "the cloud unit" */
        if (!self->cast_unit[c])
            continue;
        if (!self->unit_owner || self->cast_count[c] > self->cast_count[self->unit_owner - 1])
            self->unit_owner = c + 1;
    }
    size_t first = 0, last = 0; /* the most named: the first one, the last one */
    unsigned most = 0;
    for (size_t q = 0; q < np; q++) {
        unsigned n = pc[q] < self->ncast ? self->cast_count[pc[q]] : 0;
        if (q == 0 || n > most) {
            first = q;
            most = n;
        }
        if (n == most)
            last = q;
    }
    if (np) {
        bool opens = pm[0]->a == 0 && !pm[0]->ref;
        /* "SAP and Deutsche Telekom each have 2 per cent.": a plural subject is no
         * antecedent of "it" or "the group", which go on naming the topic before */
        bool plural = opens && plural_subject(self, pm, np);
        if (!(plural && self->topic[0]))
            copy(self->topic, sizeof self->topic, opens ? pm[0]->id : pm[first]->id);
        copy(self->focus, sizeof self->focus, pm[last]->id);
    }
}

void
cf_assemble_sentence(cf_assemble_t *self, const char *body, const cf_tokens_t *toks,
                     uint64_t article, cf_facts_t *facts, const cf_assemble_seen_t *seen)
{
    if (toks->n == 0)
        return;
    prepare(self, toks, true);
    self->body = body;
    self->article = article;
    self->facts = facts;
    self->has_dc_count = false;
    self->has_share = false;
    self->facts_before = facts ? facts->n : 0;
    if (self->last_money_age < 1000)
        self->last_money_age++;
    annotate(self, seen);
    sentence_context(self);
    /* "Microsoft vowed to overtake AWS. That seems unlikely.": the writer doubts the
     * previous sentence's vows and plans */
    if (facts && self->doubt_back) {
        for (size_t k = self->prev_from; k < self->facts_before && k < facts->n; k++) {
            cf_fact_t *f = &facts->v[k];
            if (f->status &&
                (strcmp(f->status, "announced") == 0 || strcmp(f->status, "planned") == 0)) {
                cf_fact_set_str(f, &f->status, "speculative");
            }
        }
    }
    if (facts)
        find_facts(self);
    count_cast(self);
    copy(self->prev_source, sizeof self->prev_source, self->source);
    self->prev_dc_count = self->has_dc_count;
    if (self->has_share)
        self->since_share = 1;
    else if (self->since_share > 0 && self->since_share < 100)
        self->since_share++;
    self->prev_from = self->facts_before;
    self->facts = NULL;
}

size_t
cf_assemble_last_facts(const cf_assemble_t *self)
{
    return self->prev_from;
}

void
cf_assemble_last_facts_moved(cf_assemble_t *self, size_t from)
{
    self->prev_from = from;
}
