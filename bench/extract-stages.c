/* SPDX-License-Identifier: MIT
 * cf-bench-stages: the extractor's time, stage by stage, over a corpus in memory.
 *
 * Instructions stopped predicting the extractor's time (bench/README.md, seventeenth
 * pass), so this measures CPU time: each stage runs over every article of the corpus
 * --reps times per round, the best of ROUNDS rounds is kept, and each stage includes
 * the ones before it:
 *   split      cf_sentence_next over the body
 *   tokenize   + cf_token_append_in per sentence (the article's token list)
 *   tag        + cf_lexicon_roots_tag (every token looked up in the three tables)
 *   tag_gates  cf_lexicon_roots_tag_gates instead (what cf_extract_article runs)
 *   gates      cf_assemble_gates instead (tag_gates and the period gates)
 *   scan       + cf_assemble_scan per sentence (the publication year from the text)
 *   annotate   + cf_assemble_sentence per sentence without a fact list (mentions,
 *              references, sentence context; no patterns, no classification)
 *   patterns   the same with a fact list (the fact patterns and emission)
 *   extract    cf_extract_article as a whole (no JSON): patterns + the checks, the
 *              order and merge of facts, and the classification
 *   gated      patterns, but cf_assemble_sentence only on the sentences that the
 *              facts of cf_extract_article touch: what a perfect sentence gate would
 *              leave (a ceiling: the skipped sentences' side effects are lost too)
 * One JSON line per stage: MB/s per core of body bytes, and ns per body byte. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cf_assemble.h"
#include "cf_cue.h"
#include "cf_extract.h"
#include "cf_fact.h"
#include "cf_gazetteer.h"
#include "cf_lexicon.h"
#include "cf_period.h"
#include "cf_sentence.h"
#include "cf_text.h"
#include "cf_token.h"
#include "cmd.h"

#define ROUNDS 5

typedef struct corpus {
    char **body;
    size_t *len;
    size_t n;
    size_t bytes;
} corpus_t;

static void
usage(FILE *out)
{
    fprintf(out,
            "usage: cf-bench-stages [--reps N] [--only STAGE] [--data DIR] CORPUS_DIR\n"
            "\n"
            "CPU time of the extractor's stages over every file of CORPUS_DIR (bench/run.py's\n"
            "corpus: a title line, then the body), each stage including the ones before it:\n"
            "split, tokenize, tag, tag_gates, gates, scan, annotate, patterns, extract\n"
            "(cf_extract_article); then gated: patterns on only the sentences that the\n"
            "extractor's facts touch (the ceiling of a sentence gate). Prints one JSON line\n"
            "per stage: {\"stage\", \"mb_per_s\", \"ns_per_byte\"}, the best of %d rounds\n"
            "(gated adds \"kept_bytes\": the share of body bytes in the sentences it runs).\n"
            "\n"
            "  --reps N      passes over the corpus per round (default 4)\n"
            "  --only STAGE  run that stage alone (e.g. under perf record)\n"
            "  --data DIR    the extractor's data directory (default: as cloudfact-worker)\n"
            "  -h, --help    this text\n",
            ROUNDS);
}

static double
cpu_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* Every article under dir, read as `cloudfact extract` reads a file (the client's
 * cmd_collect, cmd_read_file and cmd_text_to_article); those without a body are left
 * out. */
static int
load(const char *dir, corpus_t *c)
{
    char **files = NULL;
    size_t nfiles = 0, cap = 0;
    if (cmd_collect(dir, &files, &nfiles, &cap) != 0)
        return -1;
    c->body = cf_calloc(nfiles ? nfiles : 1, sizeof *c->body);
    c->len = cf_calloc(nfiles ? nfiles : 1, sizeof *c->len);
    for (size_t i = 0; i < nfiles; i++) {
        char why[256];
        size_t len;
        cf_article_t a = {0};
        char *text = cmd_read_file(files[i], &len, why, sizeof why);
        if (!text || cmd_text_to_article(text, len, &a, why, sizeof why) != 0)
            fprintf(stderr, "cf-bench-stages: %s: %s; skipped\n", files[i], why);
        else if (a.body_len > 0) {
            c->body[c->n] = a.body; /* taken from a */
            c->len[c->n] = a.body_len;
            c->bytes += a.body_len;
            c->n++;
            a.body = NULL;
        }
        free(text);
        cf_article_clear(&a);
        free(files[i]);
    }
    free(files);
    if (c->n == 0) {
        fprintf(stderr, "cf-bench-stages: %s: no article (a title line, then a body)\n", dir);
        return -1;
    }
    return 0;
}

enum { SPLIT, TOKENIZE, TAG, TAG_GATES, GATES, SCAN, ANNOTATE, PATTERNS, EXTRACT, GATED, STAGES };
static const char *const stage_name[STAGES] = {"split",   "tokenize", "tag",      "tag_gates",
                                               "gates",   "scan",     "annotate", "patterns",
                                               "extract", "gated"};

/* keep[a][k]: sentence k of article a (cf_sentence_next's order) holds bytes of the
 * evidence of a fact that cf_extract_article gives for the article. Returns the
 * share of body bytes in those sentences. */
static double
touched_sentences(cf_extractor_t *ex, const corpus_t *c, unsigned char **keep)
{
    cf_facts_t facts = {0};
    size_t kept = 0;
    for (size_t a = 0; a < c->n; a++) {
        cf_article_t art = {.id = 1, .title = "", .body = c->body[a], .body_len = c->len[a]};
        cf_class_t cls = {0};
        cf_err_t err;
        if (cf_extract_article(ex, &art, &facts, &cls, &err) != CF_OK)
            facts.n = 0;
        size_t pos = 0, s, e, nsent = 0;
        while (cf_sentence_next(c->body[a], c->len[a], &pos, &s, &e))
            nsent++;
        keep[a] = cf_calloc(nsent + 1, 1);
        pos = 0;
        for (size_t k = 0; cf_sentence_next(c->body[a], c->len[a], &pos, &s, &e); k++) {
            for (size_t f = 0; f < facts.n && !keep[a][k]; f++)
                keep[a][k] = facts.v[f].evidence_start < e && facts.v[f].evidence_end > s;
            if (keep[a][k])
                kept += e - s;
        }
        cf_facts_clear(&facts);
        cf_class_clear(&cls);
    }
    return c->bytes ? (double)kept / (double)c->bytes : 0;
}

int
main(int argc, char **argv)
{
    static const struct option lopts[] = {{"reps", required_argument, NULL, 'r'},
                                          {"data", required_argument, NULL, 'd'},
                                          {"only", required_argument, NULL, 'o'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    long reps = 4;
    const char *data = NULL;
    int only = -1;
    int o;
    while ((o = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (o) {
        case 'r': {
            char *end;
            reps = strtol(optarg, &end, 10);
            if (*end || reps < 1 || reps > 10000) {
                fprintf(stderr, "cf-bench-stages: --reps: must be 1..10000\n");
                return 2;
            }
            break;
        }
        case 'd':
            data = optarg;
            break;
        case 'o':
            for (only = 0; only < STAGES && strcmp(optarg, stage_name[only]) != 0; only++)
                ;
            if (only == STAGES) {
                fprintf(stderr, "cf-bench-stages: --only: unknown stage '%s'\n", optarg);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind + 1 != argc) {
        usage(stderr);
        return 2;
    }
    corpus_t c = {0};
    if (load(argv[optind], &c) != 0)
        return 1;
    const char *dir = cf_extract_data_dir(data);
    cf_err_t err;
    cf_extractor_t *ex = cf_extract_new(dir, &err);
    cf_gazetteer_t *gaz = ex ? cf_gazetteer_new(dir, &err) : NULL;
    cf_lexicon_t *cues = gaz ? cf_cue_load(dir, &err) : NULL;
    if (!cues) {
        fprintf(stderr, "cf-bench-stages: data files in %s: %s\n", dir, err.text);
        return 1;
    }
    /* the tables as cf_extract_new indexes them */
    const cf_lexicon_t *tables[] = {cf_gazetteer_names(gaz), cf_gazetteer_places(gaz), cues};
    cf_lexicon_roots_t *roots = cf_lexicon_roots_new(tables, 3, cf_period_start_words);
    cf_assemble_t *as = cf_assemble_new(gaz, cues, (cf_period_date_t){0});
    cf_tokens_t toks = {0};
    size_t *bound = NULL, bcap = 0;
    cf_facts_t facts = {0};
    uint64_t *cats = NULL;
    unsigned char *starts = NULL;
    int32_t *one = NULL;
    size_t gcap = 0;
    unsigned char **keep = cf_calloc(c.n ? c.n : 1, sizeof *keep);
    double kept_share = only < 0 || only == GATED ? touched_sentences(ex, &c, keep) : 0;
    volatile size_t sink = 0; /* keeps every stage's work alive */
    for (int st = 0; st < STAGES; st++) {
        if (only >= 0 && st != only)
            continue;
        double best = -1;
        for (int round = 0; round < ROUNDS; round++) {
            double t0 = cpu_s();
            for (long r = 0; r < reps; r++) {
                for (size_t a = 0; a < c.n; a++) {
                    const char *text = c.body[a];
                    size_t len = c.len[a];
                    if (st == EXTRACT) {
                        cf_article_t art = {
                            .id = 1, .title = "", .body = c.body[a], .body_len = len};
                        cf_class_t cls = {0};
                        if (cf_extract_article(ex, &art, &facts, &cls, &err) == CF_OK)
                            sink += facts.n;
                        cf_facts_clear(&facts);
                        cf_class_clear(&cls);
                        continue;
                    }
                    size_t pos = 0, s, e, nb = 0;
                    toks.n = 0;
                    toks.tlen = 0;
                    for (;;) {
                        if (nb == bcap) {
                            bcap = bcap ? 2 * bcap : 256;
                            bound = cf_realloc(bound, bcap * sizeof *bound);
                        }
                        bound[nb++] = toks.n; /* sentence k: tokens [bound[k], bound[k + 1]) */
                        if (!cf_sentence_next(text, len, &pos, &s, &e))
                            break;
                        if (st == SPLIT)
                            sink += e - s;
                        else
                            cf_token_append_in(text, s, e, len, &toks);
                    }
                    if (st >= GATES && st != EXTRACT) {
                        /* as cf_extract_article runs them (cf_extract.c, run) */
                        cf_assemble_reset(as, (cf_period_date_t){0});
                        cf_assemble_gates(as, roots, &toks);
                        for (size_t k = 0; st >= SCAN && k + 1 < nb; k++) {
                            cf_tokens_t view = cf_token_view(&toks, bound[k], bound[k + 1]);
                            cf_assemble_scan(as, &view);
                        }
                        for (size_t k = 0; st >= ANNOTATE && k + 1 < nb; k++) {
                            if (st == GATED && !keep[a][k])
                                continue;
                            cf_tokens_t view = cf_token_view(&toks, bound[k], bound[k + 1]);
                            cf_assemble_sentence(as, text, &view, 1, st >= PATTERNS ? &facts : NULL,
                                                 NULL);
                        }
                        sink += facts.n;
                        cf_facts_clear(&facts);
                    }
                    if (st == TAG)
                        cf_lexicon_roots_tag(roots, &toks);
                    if (st == TAG_GATES) {
                        if (toks.n > gcap) {
                            gcap = toks.n;
                            cats = cf_realloc(cats, gcap * sizeof *cats);
                            starts = cf_realloc(starts, gcap);
                            one = cf_realloc(one, gcap * sizeof *one);
                        }
                        /* as cf_assemble_gates asks: the cue table's categories, the
                         * gazetteer's starts and the marked (period) words */
                        cf_lexicon_roots_tag_gates(roots, &toks, 2,
                                                   CF_GAZETTEER_ENTITY | CF_GAZETTEER_PLACE |
                                                       CF_LEXICON_MARKED,
                                                   cats, starts, one);
                    }
                    sink += toks.n;
                }
            }
            double dt = cpu_s() - t0;
            if (best < 0 || dt < best)
                best = dt;
        }
        double bytes = (double)c.bytes * (double)reps;
        printf("{\"stage\": \"%s\", \"mb_per_s\": %.1f, \"ns_per_byte\": %.3f, \"articles\": %zu,"
               " \"reps\": %ld",
               stage_name[st], bytes / 1e6 / best, best * 1e9 / bytes, c.n, reps);
        if (st == GATED)
            printf(", \"kept_bytes\": %.3f", kept_share);
        printf("}\n");
        fflush(stdout);
    }
    (void)sink;
    cf_token_free(&toks);
    free(bound);
    cf_assemble_destroy(&as);
    free(cats);
    free(starts);
    free(one);
    cf_lexicon_roots_destroy(&roots);
    cf_lexicon_destroy(&cues);
    cf_gazetteer_destroy(&gaz);
    cf_extract_destroy(&ex);
    for (size_t a = 0; a < c.n; a++) {
        free(c.body[a]);
        free(keep[a]);
    }
    free(keep);
    free(c.body);
    free(c.len);
    return 0;
}
