/* SPDX-License-Identifier: MIT
 * Unit tests for cf_reader: an archive created by cf_archive (so the schema is
 * the real one), facts written straight into it through a second connection, and
 * cursors read in small pages. Work is bounded by counting calls, never time. */
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sqlite3.h>

#include "cf_archive.h"
#include "cf_log.h"
#include "cf_reader.h"
#include "cf_test.h"
#include "cf_test_sql.h"

typedef struct fixture {
    char tmp[64];
    char dir[96];
    struct event_base *base;
    cf_archive_t *a;
    sqlite3 *w; /* a writer of our own */
    cf_reader_t *r;
} fixture_t;

static const char *const types[] = {"market_share", "revenue", "revenue_growth", "datacenter"};
static const char *const subjects[] = {"aws", "azure", "hp", "hpe", "ibm"};
static const char *const statuses[] = {"reported", "rumored"};
static const char *const periods[] = {"2014", "2015-Q2", "2016-03", NULL};

static void
setup(fixture_t *fx)
{
    static bool threads;
    if (!threads) {
        evthread_use_pthreads();
        cf_log_level = CF_LOG_WARN;
        threads = true;
    }
    memset(fx, 0, sizeof *fx);
    snprintf(fx->tmp, sizeof fx->tmp, "/tmp/cf-reader-XXXXXX");
    if (!mkdtemp(fx->tmp))
        abort();
    snprintf(fx->dir, sizeof fx->dir, "%s/state", fx->tmp);
    fx->base = event_base_new();
    cf_err_t err;
    fx->a = cf_archive_open(fx->dir, fx->base, NULL, &err);
    if (!fx->a) {
        fprintf(stderr, "open: %s\n", err.text);
        abort();
    }
    CF_CHECK_INT(sqlite3_open(cf_archive_db_path(fx->a), &fx->w), SQLITE_OK);
    sqlite3_busy_timeout(fx->w, 5000);
    fx->r = cf_reader_open(cf_archive_db_path(fx->a), &err);
    if (!fx->r)
        fprintf(stderr, "reader: %s\n", err.text);
    CF_CHECK(fx->r != NULL);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void
teardown(fixture_t *fx)
{
    cf_reader_close(&fx->r);
    sqlite3_close(fx->w);
    cf_archive_close(&fx->a);
    event_base_free(fx->base);
    nftw(fx->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
exec(fixture_t *fx, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(fx->w, sql, NULL, NULL, &msg) != SQLITE_OK) {
        fprintf(stderr, "%s: %s\n", sql, msg);
        cf_test_failures++;
    }
    sqlite3_free(msg);
}

/* n facts over articles 1..3; fact i (seq i + 1 on a fresh archive) cycles through
 * the tables above. */
static void
fill(fixture_t *fx, size_t n)
{
    exec(fx, "BEGIN");
    exec(fx, "INSERT OR IGNORE INTO articles(id, url, title, body, state) VALUES"
             " (1, 'https://t/1', 'Frankfurt region', 'AWS opens a region in Frankfurt.', 'done'),"
             " (2, 'https://t/2', 'Results', 'Azure revenue grew.', 'done'),"
             " (3, 'https://t/3', 'Rumour', 'IBM may buy a rival.', 'processing')");
    exec(fx, "INSERT INTO article_fts(article_fts) VALUES('rebuild')");
    sqlite3_stmt *s;
    sqlite3_prepare_v2(fx->w,
                       "INSERT INTO facts(article, type, subject, object, value, period,"
                       " period_start, period_end, place, status, confidence, evidence,"
                       " evidence_start, evidence_end) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8,"
                       " ?9, ?10, 0.5, 'x', 0, 1)",
                       -1, &s, NULL);
    static const char *const starts[] = {"2014-01-01", "2015-04-01", "2016-03-01"};
    static const char *const ends[] = {"2014-12-31", "2015-06-30", "2016-03-31"};
    for (size_t i = 0; i < n; i++) {
        sqlite3_bind_int(s, 1, (int)(i % 3) + 1);
        sqlite3_bind_text(s, 2, types[i % 4], -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, subjects[i % 5], -1, SQLITE_STATIC);
        if (i % 7 == 0)
            sqlite3_bind_text(s, 4, "ibm", -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 4);
        sqlite3_bind_double(s, 5, (double)i);
        const char *p = periods[i % 4];
        if (p) {
            sqlite3_bind_text(s, 6, p, -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 7, starts[i % 4], -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 8, ends[i % 4], -1, SQLITE_STATIC);
        } else {
            sqlite3_bind_null(s, 6);
            sqlite3_bind_null(s, 7);
            sqlite3_bind_null(s, 8);
        }
        if (i % 11 == 0)
            sqlite3_bind_text(s, 9, "Frankfurt", -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 9);
        sqlite3_bind_text(s, 10, statuses[i % 13 == 0], -1, SQLITE_STATIC);
        if (sqlite3_step(s) != SQLITE_DONE)
            cf_test_failures++;
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    exec(fx, CF_ARCHIVE_SPANS_SQL); /* what the archive's writer keeps beside its facts */
    exec(fx, "COMMIT");
}

/* Runs a cursor to the end in pages of max; returns the seqs (caller frees) and
 * checks order, page bounds and that the cursor ends. */
static uint64_t *
drain(cf_cursor_t *c, size_t max, size_t *n, size_t *calls)
{
    uint64_t *v = NULL;
    size_t cap = 0;
    cf_facts_t page = {0};
    bool done = false;
    cf_err_t err;
    *n = 0;
    *calls = 0;
    while (!done && *calls < 100000) {
        CF_CHECK_INT(cf_cursor_next(c, &page, max, &done, &err), CF_OK);
        (*calls)++;
        CF_CHECK(page.n <= max);
        for (size_t i = 0; i < page.n; i++) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 64;
                v = realloc(v, cap * sizeof *v);
            }
            CF_CHECK(*n == 0 || page.v[i].seq > v[*n - 1]);
            v[(*n)++] = page.v[i].seq;
        }
        if (page.n)
            CF_CHECK_INT(cf_cursor_last(c), page.v[page.n - 1].seq);
    }
    CF_CHECK(done);
    cf_facts_clear(&page);
    return v;
}

/* The seqs (of fill's facts, seq = i + 1) for which keep(i) holds. */
static size_t
expect(size_t total, uint64_t since, bool (*keep)(size_t i), uint64_t *out)
{
    size_t n = 0;
    for (size_t i = since; i < total; i++)
        if (keep(i))
            out[n++] = i + 1;
    return n;
}

static void
check_same(const uint64_t *got, size_t ngot, const uint64_t *want, size_t nwant, const char *what)
{
    if (ngot != nwant || (nwant && memcmp(got, want, nwant * sizeof *want) != 0)) {
        fprintf(stderr, "%s: got %zu facts, expected %zu\n", what, ngot, nwant);
        cf_test_failures++;
    }
}

static bool
keep_all(size_t i)
{
    (void)i;
    return true;
}

static bool
keep_ms_or_revenue_az(size_t i)
{
    /* fact.market_share. or fact.revenue.az (revenue only, not revenue_growth) */
    return strcmp(types[i % 4], "market_share") == 0 ||
           (strcmp(types[i % 4], "revenue") == 0 && strncmp(subjects[i % 5], "az", 2) == 0);
}

static bool
keep_hp_prefix(size_t i)
{
    /* fact.revenue (type prefix: revenue and revenue_growth), subject hp* */
    return strncmp(types[i % 4], "revenue", 7) == 0 && strncmp(subjects[i % 5], "hp", 2) == 0;
}

static void
test_replay(void)
{
    fixture_t fx;
    setup(&fx);
    const size_t total = 1000;
    fill(&fx, total);
    uint64_t *want = calloc(total, sizeof *want);
    cf_err_t err;
    size_t n, calls;

    cf_cursor_t *c = cf_reader_replay(fx.r, 0, NULL, 0, 0, false, &err);
    CF_CHECK(c != NULL);
    uint64_t *got = drain(c, 7, &n, &calls);
    check_same(got, n, want, expect(total, 0, keep_all, want), "replay all");
    CF_CHECK_INT(cf_cursor_last(c), total);
    CF_CHECK_INT(cf_cursor_head(c), total);
    free(got);
    cf_cursor_destroy(&c);

    /* since and limit: exactly limit facts after since, then done */
    c = cf_reader_replay(fx.r, 990, NULL, 0, 0, false, &err);
    got = drain(c, 512, &n, &calls);
    CF_CHECK_INT(n, 10);
    CF_CHECK_INT(got[0], 991);
    free(got);
    cf_cursor_destroy(&c);
    c = cf_reader_replay(fx.r, 100, NULL, 0, 25, true, &err);
    got = drain(c, 10, &n, &calls);
    CF_CHECK_INT(n, 25);
    CF_CHECK_INT(calls, 3);
    CF_CHECK_INT(cf_cursor_last(c), 125);
    free(got);
    cf_cursor_destroy(&c);

    /* prefixes: a type, a type and a subject prefix, a type prefix; "fact." means all */
    const char *p1[] = {"fact.market_share.", "fact.revenue.az"};
    c = cf_reader_replay(fx.r, 0, p1, 2, 0, false, &err);
    got = drain(c, 16, &n, &calls);
    check_same(got, n, want, expect(total, 0, keep_ms_or_revenue_az, want), "two prefixes");
    free(got);
    cf_cursor_destroy(&c);
    const char *p2[] = {"fact.revenue", "article.done"};
    c = cf_reader_replay(fx.r, 0, p2, 2, 0, false, &err);
    got = drain(c, 16, &n, &calls);
    CF_CHECK_INT(n, total / 2); /* a type prefix: revenue and revenue_growth */
    free(got);
    cf_cursor_destroy(&c);
    const char *p3[] = {"fact.revenue_growth.hp", "fact.revenue.hp"};
    c = cf_reader_replay(fx.r, 0, p3, 2, 0, false, &err);
    got = drain(c, 16, &n, &calls);
    check_same(got, n, want, expect(total, 0, keep_hp_prefix, want), "subject prefix hp");
    free(got);
    cf_cursor_destroy(&c);
    const char *p4[] = {"article.", "sys.heartbeat"};
    c = cf_reader_replay(fx.r, 5, p4, 2, 0, false, &err);
    got = drain(c, 16, &n, &calls);
    CF_CHECK_INT(n, 0);
    CF_CHECK_INT(cf_cursor_last(c), 5);
    CF_CHECK_INT(cf_cursor_head(c), total);
    free(got);
    cf_cursor_destroy(&c);
    const char *p5[] = {"fact.nothing.", "fact"};
    c = cf_reader_replay(fx.r, 0, p5, 2, 0, false, &err);
    got = drain(c, 100, &n, &calls);
    CF_CHECK_INT(n, total);
    free(got);
    cf_cursor_destroy(&c);
    /* limit 0: no fact, and `end` still tells the head (SPEC.md: highest archived seq),
     * for a replay and a facts query alike */
    c = cf_reader_replay(fx.r, 40, NULL, 0, 0, true, &err);
    got = drain(c, 100, &n, &calls);
    CF_CHECK_INT(n, 0);
    CF_CHECK_INT(cf_cursor_last(c), 40);
    CF_CHECK_INT(cf_cursor_head(c), total);
    free(got);
    cf_cursor_destroy(&c);
    cf_msg_facts_t q0 = {.type = "revenue", .since = 40, .limit = 0, .has_limit = true};
    c = cf_reader_facts(fx.r, &q0, &err);
    got = drain(c, 100, &n, &calls);
    CF_CHECK_INT(n, 0);
    CF_CHECK_INT(cf_cursor_last(c), 40);
    CF_CHECK_INT(cf_cursor_head(c), total);
    free(got);
    cf_cursor_destroy(&c);
    /* a since beyond every seq, and one beyond int64 */
    c = cf_reader_replay(fx.r, UINT64_MAX, NULL, 0, 0, false, &err);
    got = drain(c, 100, &n, &calls);
    CF_CHECK_INT(n, 0);
    free(got);
    cf_cursor_destroy(&c);
    free(want);
    teardown(&fx);
}

/* A selective filter over a long log: each call examines a bounded span, so the
 * work per call is bounded whatever the log's length; the cursor still finds the
 * one match at the end. Facts appended between pages are seen (head moves). */
static void
test_bounded_pages(void)
{
    fixture_t fx;
    setup(&fx);
    const size_t total = 200000;
    fill(&fx, total);
    exec(&fx, "INSERT INTO facts(article, type, subject, status, confidence, evidence,"
              " evidence_start, evidence_end) VALUES(1, 'ipo', 'kingsoft', 'reported', 1, 'x',"
              " 0, 1)");
    exec(&fx, CF_ARCHIVE_SPANS_SQL);
    cf_err_t err;
    const char *p[] = {"fact.ipo."};
    cf_cursor_t *c = cf_reader_replay(fx.r, 0, p, 1, 0, false, &err);
    size_t n, calls;
    uint64_t *got = drain(c, 512, &n, &calls);
    CF_CHECK_INT(n, 1);
    CF_CHECK_INT(got[0], total + 1);
    /* 16384 seqs per span, 4 spans per call */
    CF_CHECK(calls <= (total + 1) / (16384 * 4) + 2);
    free(got);
    cf_cursor_destroy(&c);

    /* no read transaction between pages: a TRUNCATE checkpoint succeeds mid-cursor,
     * and facts appended meanwhile are part of the stream */
    c = cf_reader_replay(fx.r, total - 10, NULL, 0, 0, false, &err);
    cf_facts_t page = {0};
    bool done;
    CF_CHECK_INT(cf_cursor_next(c, &page, 4, &done, &err), CF_OK);
    CF_CHECK_INT(page.n, 4);
    CF_CHECK(!done);
    int busy = -1, logn = -1, ckpt = -1;
    CF_CHECK_INT(sqlite3_wal_checkpoint_v2(fx.w, NULL, SQLITE_CHECKPOINT_TRUNCATE, &logn, &ckpt),
                 SQLITE_OK);
    sqlite3_stmt *s;
    sqlite3_prepare_v2(fx.w, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &s, NULL);
    if (sqlite3_step(s) == SQLITE_ROW)
        busy = sqlite3_column_int(s, 0);
    sqlite3_finalize(s);
    CF_CHECK_INT(busy, 0);
    fill(&fx, 3);
    size_t rest = 0;
    while (!done) {
        CF_CHECK_INT(cf_cursor_next(c, &page, 4, &done, &err), CF_OK);
        rest += page.n;
    }
    CF_CHECK_INT(rest, 7 + 3);
    CF_CHECK_INT(cf_cursor_head(c), total + 4);
    cf_facts_clear(&page);
    cf_cursor_destroy(&c);
    teardown(&fx);
}

static bool
keep_q1(size_t i)
{
    /* type market_share, subject aws: i % 4 == 0 && i % 5 == 0 */
    return i % 20 == 0;
}

static bool
keep_q2(size_t i)
{
    /* object ibm, status rumored, place Frankfurt */
    return i % 7 == 0 && i % 13 == 0 && i % 11 == 0;
}

static bool
keep_q3(size_t i)
{
    /* periods overlapping 2015-05-01 .. 2016-01-31: 2015-Q2 only */
    return i % 4 == 1;
}

static bool
keep_q4(size_t i)
{
    /* periods overlapping FY2016 (2015-04-01 .. 2016-03-31), article 2, hp */
    return (i % 4 == 1 || i % 4 == 2) && i % 3 == 1 && i % 5 == 2;
}

static bool
keep_q5(size_t i)
{
    /* text "frankfurt": article 1 */
    return i % 3 == 0;
}

static void
test_facts(void)
{
    fixture_t fx;
    setup(&fx);
    const size_t total = 3000;
    fill(&fx, total);
    uint64_t *want = calloc(total, sizeof *want);
    cf_err_t err;
    size_t n, calls;
    static const struct {
        cf_msg_facts_t q;
        bool (*keep)(size_t i);
        const char *what;
    } cases[] = {
        {{.type = "market_share", .subject = "aws"}, keep_q1, "type and subject"},
        {{.object = "ibm", .status = "rumored", .place = "Frankfurt"}, keep_q2, "object"},
        {{.period_from = "2015-05-01", .period_to = "2016-01"}, keep_q3, "period"},
        {{.period_from = "FY2016",
          .period_to = "FY2016",
          .article = 2,
          .has_article = true,
          .subject = "hp"},
         keep_q4,
         "fiscal year, article"},
        {{.text = "frankfurt"}, keep_q5, "text"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        cf_cursor_t *c = cf_reader_facts(fx.r, &cases[k].q, &err);
        CF_CHECK(c != NULL);
        if (!c) {
            fprintf(stderr, "%s: %s\n", cases[k].what, err.text);
            continue;
        }
        uint64_t *got = drain(c, 64, &n, &calls);
        check_same(got, n, want, expect(total, 0, cases[k].keep, want), cases[k].what);
        free(got);
        cf_cursor_destroy(&c);
    }
    /* since and limit */
    cf_msg_facts_t q = {
        .type = "market_share", .subject = "aws", .since = 1000, .limit = 3, .has_limit = true};
    cf_cursor_t *c = cf_reader_facts(fx.r, &q, &err);
    uint64_t *got = drain(c, 64, &n, &calls);
    CF_CHECK_INT(n, 3);
    if (n == 3) {
        CF_CHECK_INT(got[0], 1001);
        CF_CHECK_INT(got[2], 1041);
    }
    free(got);
    cf_cursor_destroy(&c);
    /* an FTS5 syntax error ends the cursor with the reason */
    cf_msg_facts_t bad = {.text = "AND AND ("};
    c = cf_reader_facts(fx.r, &bad, &err);
    cf_facts_t page = {0};
    bool done = false;
    CF_CHECK(c != NULL);
    CF_CHECK_INT(cf_cursor_next(c, &page, 10, &done, &err), CF_EDB);
    CF_CHECK(done);
    CF_CHECK(strstr(err.text, "syntax") != NULL);
    cf_cursor_destroy(&c);
    /* an unreadable period is refused at creation */
    cf_msg_facts_t badp = {.period_to = "2015-13"};
    CF_CHECK(cf_reader_facts(fx.r, &badp, &err) == NULL);
    CF_CHECK_INT(err.rc, CF_EINVAL);
    free(want);
    teardown(&fx);
}

static void
test_article(void)
{
    fixture_t fx;
    setup(&fx);
    fill(&fx, 30);
    cf_article_t a;
    cf_facts_t facts = {0};
    char *state = NULL;
    cf_err_t err;
    CF_CHECK_INT(cf_reader_article(fx.r, 3, &a, &state, &facts, &err), CF_OK);
    CF_CHECK_STR(a.url, "https://t/3");
    CF_CHECK_STR(state, "processing");
    CF_CHECK_INT(facts.n, 10);
    CF_CHECK_INT(facts.v[0].seq, 3);
    cf_article_clear(&a);
    cf_facts_clear(&facts);
    free(state);
    CF_CHECK_INT(cf_reader_article(fx.r, 99, &a, &state, &facts, &err), CF_ENOTFOUND);
    CF_CHECK(state == NULL);
    /* by url, byte for byte: case and a prefix do not match */
    uint64_t id = 0;
    CF_CHECK_INT(cf_reader_article_id(fx.r, "https://t/3", 11, &id, &err), CF_OK);
    CF_CHECK_INT(id, 3);
    CF_CHECK_INT(cf_reader_article_id(fx.r, "https://t/3x", 11, &id, &err), CF_OK);
    CF_CHECK_INT(cf_reader_article_id(fx.r, "HTTPS://t/3", 11, &id, &err), CF_ENOTFOUND);
    CF_CHECK_INT(cf_reader_article_id(fx.r, "https://t/", 10, &id, &err), CF_ENOTFOUND);
    CF_CHECK_INT(id, 0);
    uint64_t head = 0;
    CF_CHECK_INT(cf_reader_head(fx.r, &head, &err), CF_OK);
    CF_CHECK_INT(head, 30);
    teardown(&fx);
}

/* The seqs the log holds for a condition, by a plain scan: the oracle. */
static uint64_t *
scan(fixture_t *fx, const char *where, size_t *n)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT seq FROM facts WHERE %s ORDER BY seq", where);
    sqlite3_stmt *s;
    CF_CHECK_INT(sqlite3_prepare_v2(fx->w, sql, -1, &s, NULL), SQLITE_OK);
    uint64_t *v = NULL;
    size_t cap = 0;
    *n = 0;
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 256;
            v = realloc(v, cap * sizeof *v);
        }
        v[(*n)++] = (uint64_t)sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    return v;
}

/* Type and subject queries and exact-type replays from every since find exactly what a
 * scan of the log finds, in order. */
static void
check_key_queries(fixture_t *fx, const char *label)
{
    cf_err_t err;
    size_t n, nwant, calls;
    static const uint64_t sinces[] = {0, 1023, 1024, 16383, 16384 + 511, 19990, 30000, 39990};
    for (size_t si = 0; si < sizeof sinces / sizeof *sinces; si++) {
        char where[256], what[300];
        uint64_t since = sinces[si];
        /* a type, a subject, both */
        cf_msg_facts_t qs[] = {{.type = "revenue"}, {.subject = "hpe"},
                               {.type = "datacenter", .subject = "aws"}};
        const char *wheres[] = {"type = 'revenue'", "subject = 'hpe'",
                                "type = 'datacenter' AND subject = 'aws'"};
        for (size_t k = 0; k < 3; k++) {
            qs[k].since = since;
            cf_cursor_t *c = cf_reader_facts(fx->r, &qs[k], &err);
            uint64_t *got = drain(c, 100, &n, &calls);
            snprintf(where, sizeof where, "seq > %" PRIu64 " AND %s", since, wheres[k]);
            snprintf(what, sizeof what, "%s, %s", label, where);
            uint64_t *want = scan(fx, where, &nwant);
            check_same(got, n, want, nwant, what);
            free(got);
            free(want);
            cf_cursor_destroy(&c);
        }
        /* replays: one exact type with a subject prefix; two types */
        const char *p1[] = {"fact.market_share.az"};
        const char *p2[] = {"fact.revenue.", "fact.datacenter.hp", "sys.heartbeat"};
        struct {
            const char *const *p;
            size_t n;
            const char *where;
        } rs[] = {{p1, 1, "type = 'market_share' AND subject LIKE 'az%'"},
                  {p2, 3, "(type = 'revenue' OR (type = 'datacenter' AND subject LIKE 'hp%'))"}};
        for (size_t k = 0; k < 2; k++) {
            cf_cursor_t *c = cf_reader_replay(fx->r, since, rs[k].p, rs[k].n, 0, false, &err);
            uint64_t *got = drain(c, 64, &n, &calls);
            snprintf(where, sizeof where, "seq > %" PRIu64 " AND %s", since, rs[k].where);
            snprintf(what, sizeof what, "%s, %s", label, where);
            uint64_t *want = scan(fx, where, &nwant);
            check_same(got, n, want, nwant, what);
            free(got);
            free(want);
            cf_cursor_destroy(&c);
        }
    }
}

/* Facts as the daemon writes them, one block of seqs per article (1 to 60 facts, the
 * types and subjects of each block repeating), over several page windows and many
 * CF_ARCHIVE_SPAN_MAX boundaries. Queries read the spans up to the mark and the log
 * above it: the answers are the same with the mark in the middle of the log (the
 * facts of the last articles not in spans yet), at its end, and at 0. */
static void
test_spans(void)
{
    fixture_t fx;
    setup(&fx);
    exec(&fx, "BEGIN");
    sqlite3_stmt *s;
    sqlite3_prepare_v2(fx.w,
                       "INSERT INTO facts(article, type, subject, status, confidence, evidence,"
                       " evidence_start, evidence_end) VALUES(?1, ?2, ?3, 'reported', 0.5, 'x', 0,"
                       " 1)",
                       -1, &s, NULL);
    size_t seq = 0;
    bool marked = false;
    for (int art = 1; seq < 40000; art++) {
        int nf = 1 + (art * 37) % 60;
        for (int k = 0; k < nf; k++, seq++) {
            sqlite3_bind_int(s, 1, art);
            sqlite3_bind_text(s, 2, types[(art + k) % 4], -1, SQLITE_STATIC);
            sqlite3_bind_text(s, 3, subjects[(art * 3 + k / 7) % 5], -1, SQLITE_STATIC);
            if (sqlite3_step(s) != SQLITE_DONE)
                cf_test_failures++;
            sqlite3_reset(s);
        }
        if (!marked && seq >= 20000) { /* the writer moves the mark to an article's end */
            exec(&fx, CF_ARCHIVE_SPANS_SQL);
            marked = true;
        }
    }
    sqlite3_finalize(s);
    exec(&fx, "COMMIT");
    CF_CHECK(cf_test_sql_int(fx.w, "SELECT seq FROM fact_spans_mark") >= 20000);
    CF_CHECK(cf_test_sql_int(fx.w, "SELECT seq FROM fact_spans_mark") < 20060);
    CF_CHECK_INT(cf_test_sql_int(fx.w, "SELECT count(*) FROM fact_type_spans WHERE last > 20060"),
                 0);
    check_key_queries(&fx, "mark in the middle");
    exec(&fx, CF_ARCHIVE_SPANS_SQL);
    CF_CHECK_INT(cf_test_sql_int(fx.w, "SELECT seq FROM fact_spans_mark"), (int64_t)seq);
    check_key_queries(&fx, "mark at the end");
    exec(&fx, "DELETE FROM fact_type_spans; DELETE FROM fact_subject_spans;"
              " UPDATE fact_spans_mark SET seq = 0");
    check_key_queries(&fx, "mark at 0");
    teardown(&fx);
}

/* The work a cursor does follows what it returns, not the size of the archive:
 * a text filter lists the matches of the span it reads, not of every article, for
 * each page; a bare type prefix reads the spans of the types it reaches, not every
 * fact. Counted in SQLite VM steps (cf_cursor_steps), the same on every machine. */
static void
test_bounded_work(void)
{
    fixture_t fx;
    setup(&fx);
    enum { N = 30000, RARE = 1000 };
    exec(&fx, "BEGIN");
    sqlite3_stmt *a, *f;
    sqlite3_prepare_v2(fx.w,
                       "INSERT INTO articles(id, url, title, body, state) VALUES(?1, 'https://w/'"
                       " || ?1, 'Nimbus', 'Nimbus filed report ' || ?1 || '.', 'done')",
                       -1, &a, NULL);
    sqlite3_prepare_v2(fx.w,
                       "INSERT INTO facts(article, type, subject, status, confidence, evidence,"
                       " evidence_start, evidence_end) VALUES(?1, ?2, 'aws', 'reported', 0.5,"
                       " 'x', 0, 1)",
                       -1, &f, NULL);
    for (int i = 1; i <= N; i++) {
        sqlite3_bind_int(a, 1, i);
        sqlite3_bind_int(f, 1, i);
        sqlite3_bind_text(f, 2, i % RARE ? "revenue" : "ipo", -1, SQLITE_STATIC);
        if (sqlite3_step(a) != SQLITE_DONE || sqlite3_step(f) != SQLITE_DONE)
            cf_test_failures++;
        sqlite3_reset(a);
        sqlite3_reset(f);
    }
    sqlite3_finalize(a);
    sqlite3_finalize(f);
    exec(&fx, "INSERT INTO article_fts(article_fts) VALUES('rebuild')");
    exec(&fx, CF_ARCHIVE_SPANS_SQL);
    exec(&fx, "COMMIT");

    cf_err_t err;
    size_t n, calls;
    cf_msg_facts_t q = {.text = "nimbus"};
    cf_cursor_t *c = cf_reader_facts(fx.r, &q, &err);
    CF_CHECK(c != NULL);
    free(drain(c, 512, &n, &calls));
    CF_CHECK_INT(n, N);
    uint64_t per_fact = cf_cursor_steps(c) / N;
    printf("text filter: %" PRIu64 " steps per fact over %zu calls\n", per_fact, calls);
    CF_CHECK(per_fact < 300); /* ~140; listing every match per page: ~940 here, growing */
    cf_cursor_destroy(&c);

    const char *p[] = {"fact.ip"}; /* a bare type prefix: ipo */
    c = cf_reader_replay(fx.r, 0, p, 1, 0, false, &err);
    CF_CHECK(c != NULL);
    free(drain(c, 512, &n, &calls));
    CF_CHECK_INT(n, N / RARE);
    per_fact = cf_cursor_steps(c) / (N / RARE);
    printf("type prefix: %" PRIu64 " steps per fact over %zu calls\n", per_fact, calls);
    CF_CHECK(per_fact < 1000); /* ~50; scanning the log: ~7,000 here, growing */
    cf_cursor_destroy(&c);
    teardown(&fx);
}

CF_TEST_LIST(CF_TEST(test_replay), CF_TEST(test_spans), CF_TEST(test_bounded_pages),
             CF_TEST(test_facts), CF_TEST(test_article), CF_TEST(test_bounded_work))
