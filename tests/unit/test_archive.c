/* SPDX-License-Identifier: MIT
 * Unit tests for cf_archive: a real SQLite file in a temporary directory, a real
 * event_base with pthreads enabled, and a second sqlite3 connection that checks
 * what is on disk. Waits count loop iterations, never time. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sqlite3.h>

#include "cf_archive.h"
#include "cf_clock.h"
#include "cf_fact.h"
#include "cf_limits.h"
#include "cf_log.h"
#include "cf_test.h"
#include "cf_test_sql.h"
#include "cf_test_vfs.h"
#include "cf_text.h"

/* ------------------------------------------------------------------------ */
/* Fixture                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct fixture {
    char tmp[64]; /* mkdtemp directory, removed at the end */
    char dir[96]; /* the state directory inside it (created by the archive) */
    char db[128]; /* dir/cloudfact.db */
    struct event_base *base;
    cf_archive_t *a;
    int completed; /* callbacks run */
} fixture_t;

static void
on_done(cf_archive_req_t *req, void *arg)
{
    (void)req;
    (*(int *)arg)++;
}

static void
noop_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    (void)arg;
}

/* Runs the loop until *count reaches target; bounded by iterations (10 ms timer each). */
static bool
run_until(struct event_base *base, int *count, int target)
{
    struct event *t = evtimer_new(base, noop_cb, NULL);
    for (int i = 0; i < 3000 && *count < target; i++) {
        struct timeval tv = {0, 10000};
        evtimer_add(t, &tv);
        event_base_loop(base, EVLOOP_ONCE);
    }
    event_free(t);
    return *count >= target;
}

static void
setup(fixture_t *fx, bool open)
{
    static bool threads;
    if (!threads) {
        evthread_use_pthreads();
        threads = true;
        cf_log_level = CF_LOG_WARN; /* opened/closed notices are noise here */
        /* the default VFS, and so under cf_walbuf (registered at the first open): a
         * test may fill the disk (test_checkpoint_full_disk) */
        cf_test_vfs_register();
    }
    memset(fx, 0, sizeof *fx);
    snprintf(fx->tmp, sizeof fx->tmp, "/tmp/cf-archive-XXXXXX");
    if (!mkdtemp(fx->tmp)) {
        perror("mkdtemp");
        abort();
    }
    snprintf(fx->dir, sizeof fx->dir, "%s/state", fx->tmp);
    snprintf(fx->db, sizeof fx->db, "%s/cloudfact.db", fx->dir);
    fx->base = event_base_new();
    if (open) {
        cf_err_t err;
        fx->a = cf_archive_open(fx->dir, fx->base, NULL, &err);
        if (!fx->a)
            fprintf(stderr, "open: %s\n", err.text);
        CF_CHECK(fx->a != NULL);
    }
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
    cf_archive_close(&fx->a);
    event_base_free(fx->base);
    nftw(fx->tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void
reopen(fixture_t *fx)
{
    cf_err_t err;
    cf_archive_close(&fx->a);
    fx->a = cf_archive_open(fx->dir, fx->base, NULL, &err);
    if (!fx->a)
        fprintf(stderr, "reopen: %s\n", err.text);
    CF_CHECK(fx->a != NULL);
}

static void
article(cf_article_t *a, const char *url, const char *title, const char *body)
{
    memset(a, 0, sizeof *a);
    a->url = cf_strdup(url);
    a->title = cf_strdup(title);
    a->body = cf_strdup(body);
    a->body_len = strlen(body);
    a->source = cf_strdup("test-feed");
    a->published = cf_strdup("2015-07-04");
}

static void
insert_req(cf_archive_req_t *r, cf_article_t *a, int *counter)
{
    memset(r, 0, sizeof *r);
    r->kind = CF_ARCHIVE_INSERT;
    r->cb = on_done;
    r->arg = counter;
    r->u.insert.article = a;
}

/* Submits one request and waits for its callback. */
static void
run1(fixture_t *fx, cf_archive_req_t *r)
{
    int before = fx->completed;
    r->cb = on_done;
    r->arg = &fx->completed;
    CF_CHECK_INT(cf_archive_submit(fx->a, r), CF_OK);
    CF_CHECK(run_until(fx->base, &fx->completed, before + 1));
}

static uint64_t
insert1(fixture_t *fx, const char *url, const char *body)
{
    cf_article_t a;
    article(&a, url, "A title", body);
    cf_archive_req_t r;
    insert_req(&r, &a, &fx->completed);
    run1(fx, &r);
    CF_CHECK_INT(r.rc, CF_OK);
    uint64_t id = r.u.insert.id;
    cf_article_clear(&a);
    return id;
}

/* Inserts n articles with body, at "https://example.com/<prefix><i>", one request
 * each; their ids go to id (may be NULL). */
static void
insert_many(fixture_t *fx, const char *prefix, const char *body, int n, uint64_t *id)
{
    for (int i = 0; i < n; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.com/%s%d", prefix, i);
        uint64_t v = insert1(fx, url, body);
        if (id)
            id[i] = v;
    }
}

/* A claim of at most max articles and max_bytes of bodies (0: no byte bound). */
static void
claim_bytes(fixture_t *fx, cf_archive_req_t *r, size_t max, size_t max_bytes)
{
    memset(r, 0, sizeof *r);
    r->kind = CF_ARCHIVE_CLAIM;
    r->u.claim.max = max;
    r->u.claim.max_bytes = max_bytes;
    run1(fx, r);
    CF_CHECK_INT(r->rc, CF_OK);
}

static void
claim(fixture_t *fx, cf_archive_req_t *r, size_t max)
{
    claim_bytes(fx, r, max, 0);
}

/* Claims at most max articles, checks that n were handed out, and lets them go from
 * the request (they stay processing in the archive). */
static void
claim_n(fixture_t *fx, size_t max, size_t n)
{
    cf_archive_req_t c;
    claim(fx, &c, max);
    CF_CHECK_INT(c.u.claim.n, n);
    cf_archive_req_clear(&c);
}

/* The on-disk view, through a connection of our own. */
static sqlite3 *
peek_open(const fixture_t *fx)
{
    sqlite3 *db = NULL;
    CF_CHECK_INT(sqlite3_open_v2(fx->db, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
    return db;
}

/* Returns a static copy of the first column of the first row ("(null)" for NULL). */
static const char *
q_text(sqlite3 *db, const char *sql)
{
    static char buf[512];
    sqlite3_stmt *s = NULL;
    snprintf(buf, sizeof buf, "(no row)");
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(buf, sizeof buf, "(error: %s)", sqlite3_errmsg(db));
        return buf;
    }
    if (sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(buf, sizeof buf, "%s", t ? (const char *)t : "(null)");
    }
    sqlite3_finalize(s);
    return buf;
}

/* The query plan of sql: each step's detail, joined by " | " (static copy). */
static const char *
q_plan(sqlite3 *db, const char *sql)
{
    static char buf[512];
    char eqp[512];
    snprintf(eqp, sizeof eqp, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *s = NULL;
    buf[0] = '\0';
    if (sqlite3_prepare_v2(db, eqp, -1, &s, NULL) != SQLITE_OK) {
        snprintf(buf, sizeof buf, "(error: %s)", sqlite3_errmsg(db));
        return buf;
    }
    while (sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 3);
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof buf - len, "%s%s", len ? " | " : "", t ? (const char *)t : "");
    }
    sqlite3_finalize(s);
    return buf;
}

/* As cf_test_sql_int and q_text, with id bound to ?1. */
static sqlite3_stmt *
q_prep(sqlite3 *db, const char *sql, uint64_t id)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        fprintf(stderr, "query (%s): %s\n", sql, sqlite3_errmsg(db));
        return NULL;
    }
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    return s;
}

static int64_t
q_intf(sqlite3 *db, const char *sql, uint64_t id)
{
    sqlite3_stmt *s = q_prep(db, sql, id);
    int64_t v = s ? -1 : -999;
    if (s && sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

static const char *
q_textf(sqlite3 *db, const char *sql, uint64_t id)
{
    static char buf[512];
    sqlite3_stmt *s = q_prep(db, sql, id);
    snprintf(buf, sizeof buf, s ? "(no row)" : "(error)");
    if (s && sqlite3_step(s) == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(s, 0);
        snprintf(buf, sizeof buf, "%s", t ? (const char *)t : "(null)");
    }
    sqlite3_finalize(s);
    return buf;
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */
/* ------------------------------------------------------------------------ */

static void
test_create_and_reopen(void)
{
    fixture_t fx;
    mode_t old = umask(077); /* modes must not depend on the umask */
    setup(&fx, true);
    umask(old);
    if (!fx.a)
        goto out;
    struct stat st;
    CF_CHECK(stat(fx.dir, &st) == 0);
    CF_CHECK_INT(st.st_mode & 07777, 0750);
    CF_CHECK(stat(fx.db, &st) == 0);
    CF_CHECK_INT(st.st_mode & 07777, 0640);

    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "PRAGMA user_version"), CF_ARCHIVE_SCHEMA_VERSION);
    CF_CHECK_STR(q_text(db, "PRAGMA journal_mode"), "wal");
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='table'"
                                     " AND name IN ('articles','facts','article_fts')"),
                 3);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='view'"
                                     " AND name='fact_view'"),
                 1);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type='index'"
                                     " AND tbl_name='facts' AND sql LIKE '%(article)%'"),
                 1);
    /* the contract's columns, by name */
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM pragma_table_info('articles') WHERE name IN"
                            " ('id','url','title','body','source','published','lang','state',"
                            "'attempts','error','received_at','done_at','relevant','relevance',"
                            "'class')"),
        15);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM pragma_table_info('facts') WHERE name IN"
                            " ('seq','article','type','subject','object','value','unit','period',"
                            "'period_start','period_end','place','detail','qualifier','status',"
                            "'source','confidence','evidence','evidence_start','evidence_end')"),
        19);
    CF_CHECK_INT(cf_test_sql_int(db,
                                 "SELECT count(*) FROM pragma_table_info('fact_view') WHERE name IN"
                                 " ('seq','url','title','published','article_source')"),
                 5);
    /* ingest writes the row and the url index (DESIGN.md): the indexes on state are
     * partial, of the quarantine and of the done articles */
    CF_CHECK_STR(q_text(db, "SELECT group_concat(name || ': ' || sql) FROM sqlite_schema"
                            " WHERE type='index' AND tbl_name='articles' AND sql IS NOT NULL"),
                 "articles_failed: CREATE INDEX articles_failed ON articles(id) WHERE state = "
                 "'failed',articles_done: CREATE INDEX articles_done ON articles(id) WHERE "
                 "state = 'done'");
    sqlite3_close(db);

    char lock[160], buf[32] = {0};
    snprintf(lock, sizeof lock, "%s/cloudfactd.lock", fx.dir);
    FILE *f = fopen(lock, "r");
    CF_CHECK(f != NULL);
    if (f) {
        CF_CHECK(fgets(buf, sizeof buf, f) != NULL);
        fclose(f);
        CF_CHECK_INT(atol(buf), getpid());
    }

    insert1(&fx, "https://example.com/a", "Body one.");
    reopen(&fx);
    if (fx.a) {
        cf_archive_stats_t s;
        cf_archive_stats(fx.a, &s);
        CF_CHECK_INT(s.queued, 1);
        CF_CHECK_INT(s.commits, 0);
    }
    char *p = cf_archive_path("/var/lib/x");
    CF_CHECK_STR(p, "/var/lib/x/cloudfact.db");
    free(p);
out:
    teardown(&fx);
}

static void
test_insert_and_duplicates(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id1 = insert1(&fx, "https://example.com/1", "one");
    uint64_t id2 = insert1(&fx, "https://example.com/2", "two");
    CF_CHECK(id1 > 0);
    CF_CHECK(id2 > id1);

    /* across batches: the existing id */
    cf_article_t a;
    article(&a, "https://example.com/1", "again", "other body");
    cf_archive_req_t r;
    insert_req(&r, &a, &fx.completed);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EDUP);
    CF_CHECK_INT(r.u.insert.id, id1);
    CF_CHECK_INT(a.id, 0);
    cf_article_clear(&a);

    /* within one batch (submitted back to back): the first one's id */
    cf_article_t b[3];
    cf_archive_req_t rb[3];
    article(&b[0], "https://example.com/3", "t", "three");
    article(&b[1], "https://example.com/3", "t", "three again");
    article(&b[2], "https://example.com/2", "t", "two again");
    int n = 0;
    for (int i = 0; i < 3; i++) {
        insert_req(&rb[i], &b[i], &n);
        CF_CHECK_INT(cf_archive_submit(fx.a, &rb[i]), CF_OK);
    }
    CF_CHECK(run_until(fx.base, &n, 3));
    CF_CHECK_INT(rb[0].rc, CF_OK);
    CF_CHECK(rb[0].u.insert.id > id2);
    CF_CHECK_INT(b[0].id, rb[0].u.insert.id);
    CF_CHECK_INT(rb[1].rc, CF_EDUP);
    CF_CHECK_INT(rb[1].u.insert.id, rb[0].u.insert.id);
    CF_CHECK_INT(rb[2].rc, CF_EDUP);
    CF_CHECK_INT(rb[2].u.insert.id, id2);
    for (int i = 0; i < 3; i++)
        cf_article_clear(&b[i]);

    /* a failure specific to one request (NOT NULL url) fails that request only */
    article(&b[0], "https://example.com/4", "t", "four");
    article(&b[1], "https://example.com/5", "t", "five");
    free(b[1].url);
    b[1].url = NULL;
    article(&b[2], "https://example.com/6", "t", "six");
    n = 0;
    for (int i = 0; i < 3; i++) {
        insert_req(&rb[i], &b[i], &n);
        CF_CHECK_INT(cf_archive_submit(fx.a, &rb[i]), CF_OK);
    }
    CF_CHECK(run_until(fx.base, &n, 3));
    CF_CHECK_INT(rb[0].rc, CF_OK);
    CF_CHECK_INT(rb[1].rc, CF_EREFUSED);
    CF_CHECK(strstr(rb[1].err.text, "NOT NULL") != NULL);
    CF_CHECK_INT(rb[2].rc, CF_OK);
    for (int i = 0; i < 3; i++)
        cf_article_clear(&b[i]);

    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK_INT(s.queued, 5);

    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), 5);
    CF_CHECK_STR(q_textf(db, "SELECT body FROM articles WHERE id=?1", id1), "one");
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id1), "queued");
    CF_CHECK_INT(q_intf(db, "SELECT attempts FROM articles WHERE id=?1", id1), 0);
    CF_CHECK_STR(q_textf(db, "SELECT lang FROM articles WHERE id=?1", id1), "en");
    CF_CHECK_STR(q_textf(db, "SELECT source FROM articles WHERE id=?1", id1), "test-feed");
    CF_CHECK_INT(q_intf(db,
                        "SELECT received_at GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T"
                        "[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z' FROM articles"
                        " WHERE id=?1",
                        id1),
                 1);
    /* not indexed for search at ingest */
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'one'"), 0);
    sqlite3_close(db);
out:
    teardown(&fx);
}

static void
test_group_commit(void)
{
    enum { N = 300 };
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    static cf_article_t a[N];
    static cf_archive_req_t r[N];
    int n = 0;
    for (int i = 0; i < N; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.com/gc/%d", i);
        article(&a[i], url, "t", "body");
        insert_req(&r[i], &a[i], &n);
        CF_CHECK_INT(cf_archive_submit(fx.a, &r[i]), CF_OK);
    }
    CF_CHECK(run_until(fx.base, &n, N));
    for (int i = 0; i < N; i++) {
        CF_CHECK_INT(r[i].rc, CF_OK);
        if (i)
            CF_CHECK(r[i].u.insert.id > r[i - 1].u.insert.id); /* submission order */
        cf_article_clear(&a[i]);
    }
    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK(s.commits >= 1);
    CF_CHECK(s.commits < N); /* group commit: fewer transactions than requests */
    CF_CHECK_INT(s.batched, N);
    CF_CHECK_INT(s.queued, N);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), N);
    sqlite3_close(db);
out:
    teardown(&fx);
}

static void
set_fact(cf_fact_t *f, const char *type, const char *subject, const char *period, bool value)
{
    f->type = cf_strdup(type);
    f->subject = cf_strdup(subject);
    f->period = period ? cf_strdup(period) : NULL;
    f->has_value = value;
    f->value = value ? 28.5 : 0;
    f->unit = value ? cf_strdup("percent") : NULL;
    f->status = cf_strdup("reported");
    f->confidence = 0.75;
    f->evidence = cf_strdup("AWS held");
    f->evidence_start = 0;
    f->evidence_end = 8;
}

/* A transaction carries at most 4,096 facts (BATCH_FACTS_MAX, plus one per DONE; past its
 * first request): a batch's completions publish all its facts at once, and more than the
 * publish socket's high-water mark would be lost. 120 DONEs of 100 facts (12,120 by the
 * bound's count) queue up behind a write lock held here: at least three transactions
 * however many the writer took first (at most two without the bound). */
static void
test_done_batch_facts_bound(void)
{
    enum { N = 120, F = 100 };
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id[N];
    insert_many(&fx, "bound", "AWS held", N, id);
    claim_n(&fx, N, N);
    static cf_facts_t facts[N];
    static cf_archive_req_t d[N];
    cf_class_t cls = {.relevant = true, .relevance = 0.5};
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < F; k++)
            set_fact(cf_facts_push(&facts[i]), "revenue", "aws", NULL, false);
        memset(&d[i], 0, sizeof d[i]);
        d[i].kind = CF_ARCHIVE_DONE;
        d[i].u.done.id = id[i];
        d[i].u.done.facts = &facts[i];
        d[i].u.done.cls = &cls;
        d[i].cb = on_done;
        d[i].arg = &fx.completed;
    }
    cf_archive_stats_t before, after;
    cf_archive_stats(fx.a, &before);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    int done0 = fx.completed;
    CF_CHECK_INT(cf_archive_submit(fx.a, &d[0]), CF_OK);
    usleep(50000); /* likely taken alone, waiting for the lock (the count holds either way) */
    for (int i = 1; i < N; i++)
        CF_CHECK_INT(cf_archive_submit(fx.a, &d[i]), CF_OK);
    usleep(50000); /* all queued behind it */
    CF_CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    CF_CHECK(run_until(fx.base, &fx.completed, done0 + N));
    cf_archive_stats(fx.a, &after);
    for (int i = 0; i < N; i++)
        CF_CHECK_INT(d[i].rc, CF_OK);
    CF_CHECK((int64_t)(after.commits - before.commits) >= 3);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), N * F);
    sqlite3_close(db);
    for (int i = 0; i < N; i++)
        cf_facts_clear(&facts[i]);
out:
    teardown(&fx);
}

/* A claim's byte bound: it stops once its bodies reach max_bytes (taking at least one
 * article), and the articles it left are the next claim's, in order. */
static void
test_claim_bytes(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    char body[101];
    memset(body, 'x', 100);
    body[100] = '\0';
    uint64_t id[5];
    insert_many(&fx, "b", body, 5, id);
    cf_archive_req_t c;
    claim_bytes(&fx, &c, 10, 250); /* 100, 200: room; 300: the bound */
    CF_CHECK_INT(c.u.claim.n, 3);
    if (c.u.claim.n == 3)
        CF_CHECK_INT(c.u.claim.articles[2].id, id[2]);
    cf_archive_req_clear(&c);
    claim_bytes(&fx, &c, 10, 1); /* smaller than any body: still one article */
    CF_CHECK_INT(c.u.claim.n, 1);
    if (c.u.claim.n == 1)
        CF_CHECK_INT(c.u.claim.articles[0].id, id[3]);
    cf_archive_req_clear(&c);
    claim(&fx, &c, 10); /* no byte bound */
    CF_CHECK_INT(c.u.claim.n, 1);
    if (c.u.claim.n == 1)
        CF_CHECK_INT(c.u.claim.articles[0].id, id[4]);
    cf_archive_req_clear(&c);
out:
    teardown(&fx);
}

/* The archive's search backlog once it reached 0, or as it stood after tries polls 10 ms
 * apart (stats show it as of the writer's last transaction). */
static uint64_t
search_backlog_drained(fixture_t *fx, int tries)
{
    cf_archive_stats_t st;
    cf_archive_stats(fx->a, &st);
    for (int i = 0; i < tries && st.search_backlog != 0; i++) {
        usleep(10000);
        cf_archive_stats(fx->a, &st);
    }
    return st.search_backlog;
}

static void
test_claim_done_search(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id1 = insert1(&fx, "https://example.com/c1", "AWS held zanzibarite share.");
    uint64_t id2 = insert1(&fx, "https://example.com/c2", "Second body.");
    uint64_t id3 = insert1(&fx, "https://example.com/c3", "Third body quokkas.");

    cf_archive_req_t c;
    claim(&fx, &c, 2);
    CF_CHECK_INT(c.u.claim.n, 2);
    if (c.u.claim.n == 2) {
        CF_CHECK_INT(c.u.claim.articles[0].id, id1);
        CF_CHECK_INT(c.u.claim.articles[1].id, id2);
        CF_CHECK_STR(c.u.claim.articles[0].body, "AWS held zanzibarite share.");
        CF_CHECK_INT(c.u.claim.articles[0].body_len, strlen("AWS held zanzibarite share."));
        CF_CHECK_STR(c.u.claim.articles[0].url, "https://example.com/c1");
        CF_CHECK_STR(c.u.claim.articles[0].title, "A title");
        CF_CHECK_STR(c.u.claim.articles[0].published, "2015-07-04");
        CF_CHECK_STR(c.u.claim.articles[0].lang, "en");
    }
    cf_archive_req_clear(&c);
    CF_CHECK(c.u.claim.articles == NULL);

    sqlite3 *db = peek_open(&fx);
    /* a claim writes nothing: processing is the writer's memory, the row stays queued */
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id1), "queued");
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id3), "queued");
    {
        cf_archive_stats_t cs;
        cf_archive_stats(fx.a, &cs);
        CF_CHECK_INT(cs.processing, 2); /* id1, id2 */
    }

    cf_facts_t facts = {0};
    set_fact(cf_facts_push(&facts), "market_share", "aws", "2014-Q3", true);
    set_fact(cf_facts_push(&facts), "revenue", "aws", NULL, false);
    set_fact(cf_facts_push(&facts), "market_share", "google", "2014", true);
    cf_class_t cls = {.relevant = true, .relevance = 0.9};
    char *companies[] = {"aws", "go\"og\\le"};
    char *regions[] = {"eu"};
    cls.companies = companies;
    cls.ncompanies = 2;
    cls.regions = regions;
    cls.nregions = 1;

    cf_archive_req_t d;
    memset(&d, 0, sizeof d);
    d.kind = CF_ARCHIVE_DONE;
    d.u.done.id = id1;
    d.u.done.facts = &facts;
    d.u.done.cls = &cls;
    run1(&fx, &d);
    CF_CHECK_INT(d.rc, CF_OK);
    CF_CHECK(d.u.done.first_seq > 0);
    CF_CHECK_INT(d.u.done.last_seq, d.u.done.first_seq + 2);
    CF_CHECK_STR(d.u.done.url, "https://example.com/c1");
    CF_CHECK_INT(facts.v[0].seq, d.u.done.first_seq);
    CF_CHECK(facts.v[1].seq > facts.v[0].seq && facts.v[2].seq > facts.v[1].seq);
    CF_CHECK_INT(facts.v[2].article, id1);
    uint64_t last = d.u.done.last_seq;
    cf_archive_req_clear(&d);

    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id1), "done");
    CF_CHECK_INT(q_intf(db, "SELECT done_at IS NOT NULL FROM articles WHERE id=?1", id1), 1);
    CF_CHECK_INT(q_intf(db, "SELECT relevant FROM articles WHERE id=?1", id1), 1);
    CF_CHECK_STR(q_textf(db,
                         "SELECT json_extract(class, '$.companies[1]') FROM articles"
                         " WHERE id=?1",
                         id1),
                 "go\"og\\le");
    CF_CHECK_STR(q_textf(db,
                         "SELECT json_extract(class, '$.regions[0]') FROM articles"
                         " WHERE id=?1",
                         id1),
                 "eu");
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), 3);
    CF_CHECK_STR(q_text(db, "SELECT period_start || '/' || period_end FROM facts ORDER BY seq"),
                 "2014-07-01/2014-09-30");
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts WHERE period IS NULL"
                                     " AND period_start IS NULL AND value IS NULL"),
                 1);
    CF_CHECK_STR(q_text(db, "SELECT url || ' ' || article_source || ' ' || published"
                            " FROM fact_view WHERE subject='google'"),
                 "https://example.com/c1 test-feed 2015-07-04");
    /* searchable once done (in the DONE transaction under a light load, else when the
     * writer idles: a loaded test machine made it a race); queued articles are not */
    CF_CHECK_INT(search_backlog_drained(&fx, 500), 0);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT rowid FROM article_fts WHERE article_fts MATCH 'zanzibarite'"),
        (int64_t)id1);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'quokkas'"),
        0);
    /* facts are append-only */
    CF_CHECK(sqlite3_exec(db, "DELETE FROM facts", NULL, NULL, NULL) != SQLITE_OK);

    /* done twice: refused, nothing written */
    cf_facts_t more = {0};
    set_fact(cf_facts_push(&more), "revenue", "ibm", NULL, true);
    memset(&d, 0, sizeof d);
    d.kind = CF_ARCHIVE_DONE;
    d.u.done.id = id1;
    d.u.done.facts = &more;
    run1(&fx, &d);
    CF_CHECK_INT(d.rc, CF_EINVAL);
    CF_CHECK(strstr(d.err.text, "done") != NULL);
    CF_CHECK_INT(more.v[0].seq, 0);
    cf_archive_req_clear(&d);
    /* done on a queued article: refused */
    memset(&d, 0, sizeof d);
    d.kind = CF_ARCHIVE_DONE;
    d.u.done.id = id3;
    d.u.done.facts = &more;
    run1(&fx, &d);
    CF_CHECK_INT(d.rc, CF_EINVAL);
    cf_archive_req_clear(&d);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), 3);

    /* zero facts, no class: done, NULL class */
    memset(&d, 0, sizeof d);
    d.kind = CF_ARCHIVE_DONE;
    d.u.done.id = id2;
    run1(&fx, &d);
    CF_CHECK_INT(d.rc, CF_OK);
    CF_CHECK_INT(d.u.done.first_seq, 0);
    CF_CHECK_INT(d.u.done.last_seq, 0);
    cf_archive_req_clear(&d);
    CF_CHECK_INT(q_intf(db,
                        "SELECT class IS NULL AND relevant IS NULL FROM articles"
                        " WHERE id=?1",
                        id2),
                 1);
    sqlite3_close(db);

    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK_INT(s.done, 2);
    CF_CHECK_INT(s.processing, 0);
    CF_CHECK_INT(s.queued, 1);
    CF_CHECK_INT(s.last_seq, last);

    /* what DONE stored, read back as an analyst would */
    sqlite3 *rdb;
    sqlite3_stmt *q;
    CF_CHECK(sqlite3_open_v2(fx.db, &rdb, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CF_CHECK(sqlite3_prepare_v2(rdb,
                                "SELECT seq, period, value, subject, evidence_end FROM facts"
                                " WHERE article = ?1 ORDER BY seq",
                                -1, &q, NULL) == SQLITE_OK);
    sqlite3_bind_int64(q, 1, (sqlite3_int64)id1);
    int row = 0;
    while (sqlite3_step(q) == SQLITE_ROW) {
        if (row == 0) {
            CF_CHECK_INT(sqlite3_column_int64(q, 0), last - 2);
            CF_CHECK_STR((const char *)sqlite3_column_text(q, 1), "2014-Q3");
            CF_CHECK(sqlite3_column_double(q, 2) == 28.5);
        } else if (row == 1) {
            CF_CHECK(sqlite3_column_type(q, 2) == SQLITE_NULL);
        } else if (row == 2) {
            CF_CHECK_STR((const char *)sqlite3_column_text(q, 3), "google");
            CF_CHECK_INT(sqlite3_column_int64(q, 4), 8);
        }
        row++;
    }
    CF_CHECK_INT(row, 3);
    sqlite3_finalize(q);
    sqlite3_close(rdb);
    cf_facts_clear(&facts);
    cf_facts_clear(&more);

    /* reopen: last_seq and counts come back */
    reopen(&fx);
    if (fx.a) {
        cf_archive_stats(fx.a, &s);
        CF_CHECK_INT(s.last_seq, last);
        CF_CHECK_INT(s.done, 2);
        CF_CHECK_INT(s.queued, 1);
    }
out:
    teardown(&fx);
}

static void
fail_req(cf_archive_req_t *r, uint64_t id, unsigned max)
{
    memset(r, 0, sizeof *r);
    r->kind = CF_ARCHIVE_FAIL;
    r->u.fail.id = id;
    r->u.fail.error = "worker crashed (signal 11)";
    r->u.fail.max_attempts = max;
}

static void
release_req(cf_archive_req_t *r, uint64_t id)
{
    memset(r, 0, sizeof *r);
    r->kind = CF_ARCHIVE_RELEASE;
    r->u.release.id = id;
}

static void
test_fail_and_release(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id[4];
    insert_many(&fx, "f", "body", 4, id);
    cf_archive_req_t c, r;
    claim_n(&fx, 3, 3);

    fail_req(&r, id[0], 2);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_OK);
    CF_CHECK_INT(r.u.fail.attempts, 1);
    CF_CHECK(!r.u.fail.failed);
    CF_CHECK_STR(r.u.fail.url, "https://example.com/f0");
    cf_archive_req_clear(&r);

    release_req(&r, id[1]);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_OK);

    sqlite3 *db = peek_open(&fx);
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id[0]), "queued");
    CF_CHECK_INT(q_intf(db, "SELECT attempts FROM articles WHERE id=?1", id[0]), 1);
    CF_CHECK_STR(q_textf(db, "SELECT error FROM articles WHERE id=?1", id[0]),
                 "worker crashed (signal 11)");
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id[1]), "queued");
    CF_CHECK_INT(q_intf(db, "SELECT attempts FROM articles WHERE id=?1", id[1]), 0);

    /* given-back ids come first, then the cursor goes on */
    claim(&fx, &c, 10);
    CF_CHECK_INT(c.u.claim.n, 3);
    if (c.u.claim.n == 3) {
        CF_CHECK_INT(c.u.claim.articles[0].id, id[0]);
        CF_CHECK_INT(c.u.claim.articles[1].id, id[1]);
        CF_CHECK_INT(c.u.claim.articles[2].id, id[3]);
    }
    cf_archive_req_clear(&c);
    claim_n(&fx, 10, 0);

    /* second failure reaches max_attempts: quarantined */
    fail_req(&r, id[0], 2);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_OK);
    CF_CHECK_INT(r.u.fail.attempts, 2);
    CF_CHECK(r.u.fail.failed);
    cf_archive_req_clear(&r);
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id[0]), "failed");

    /* not processing any more: fail and release are refused */
    fail_req(&r, id[0], 2);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EINVAL);
    CF_CHECK(r.u.fail.url == NULL);
    release_req(&r, id[0]);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EINVAL);
    CF_CHECK(strstr(r.err.text, "failed") != NULL);
    release_req(&r, 424242);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EINVAL);
    CF_CHECK_INT(q_intf(db, "SELECT attempts FROM articles WHERE id=?1", id[0]), 2);

    /* a quarantined article is never handed out again */
    release_req(&r, id[1]);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_OK);
    claim(&fx, &c, 10);
    CF_CHECK_INT(c.u.claim.n, 1);
    if (c.u.claim.n == 1)
        CF_CHECK_INT(c.u.claim.articles[0].id, id[1]);
    cf_archive_req_clear(&c);
    sqlite3_close(db);

    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK_INT(s.failed, 1);
    CF_CHECK_INT(s.queued, 0);
    CF_CHECK_INT(s.processing, 3); /* id1, id2, id3 */
out:
    teardown(&fx);
}

static void
test_reopen_requeues_processing(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id[4];
    insert_many(&fx, "r", "body", 4, id);
    cf_archive_req_t c, d;
    claim_n(&fx, 3, 3);
    memset(&d, 0, sizeof d);
    d.kind = CF_ARCHIVE_DONE;
    d.u.done.id = id[0];
    run1(&fx, &d);
    CF_CHECK_INT(d.rc, CF_OK);
    cf_archive_req_clear(&d);

    reopen(&fx); /* id1, id2 were processing: back to queued */
    if (!fx.a)
        goto out;
    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK_INT(s.queued, 3);
    CF_CHECK_INT(s.processing, 0);
    CF_CHECK_INT(s.done, 1);
    claim(&fx, &c, 10);
    CF_CHECK_INT(c.u.claim.n, 3);
    if (c.u.claim.n == 3) {
        CF_CHECK_INT(c.u.claim.articles[0].id, id[1]);
        CF_CHECK_INT(c.u.claim.articles[1].id, id[2]);
        CF_CHECK_INT(c.u.claim.articles[2].id, id[3]);
    }
    cf_archive_req_clear(&c);
    uint64_t id5 = insert1(&fx, "https://example.com/r5", "body");
    claim(&fx, &c, 10);
    CF_CHECK_INT(c.u.claim.n, 1);
    if (c.u.claim.n == 1)
        CF_CHECK_INT(c.u.claim.articles[0].id, id5);
    cf_archive_req_clear(&c);
out:
    teardown(&fx);
}

/* Close with requests still queued: all are committed and their callbacks run; a
 * callback that submits more during close is refused. */
static cf_archive_t *closing_archive;
static cf_archive_req_t late_req;
static int late_rc = 1;

static void
on_done_submit(cf_archive_req_t *req, void *arg)
{
    (void)req;
    fixture_t *fx = arg;
    if (fx->completed++ == 0) {
        late_req.kind = CF_ARCHIVE_CLAIM;
        late_req.cb = on_done;
        late_req.arg = &fx->completed;
        late_req.u.claim.max = 1;
        late_rc = cf_archive_submit(closing_archive, &late_req);
    }
}

static void
test_close_flushes(void)
{
    enum { N = 50 };
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    static cf_article_t a[N];
    static cf_archive_req_t r[N];
    for (int i = 0; i < N; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.com/cl/%d", i);
        article(&a[i], url, "t", "body");
        insert_req(&r[i], &a[i], NULL);
        r[i].cb = on_done_submit;
        r[i].arg = &fx;
        CF_CHECK_INT(cf_archive_submit(fx.a, &r[i]), CF_OK);
    }
    closing_archive = fx.a;
    cf_archive_close(&fx.a); /* the loop never ran: close delivers */
    CF_CHECK_INT(late_rc, CF_ECLOSED);
    CF_CHECK(fx.a == NULL);
    CF_CHECK_INT(fx.completed, N);
    for (int i = 0; i < N; i++) {
        CF_CHECK_INT(r[i].rc, CF_OK);
        cf_article_clear(&a[i]);
    }
    reopen(&fx);
    if (fx.a) {
        cf_archive_stats_t s;
        cf_archive_stats(fx.a, &s);
        CF_CHECK_INT(s.queued, N);
    }
out:
    teardown(&fx);
}

static void
test_lock(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    cf_err_t err;
    cf_archive_t *b = cf_archive_open(fx.dir, fx.base, NULL, &err);
    CF_CHECK(b == NULL);
    CF_CHECK_INT(err.rc, CF_EBUSY);
    char want[64];
    snprintf(want, sizeof want, "locked by pid %d", (int)getpid());
    CF_CHECK(strstr(err.text, want) != NULL);
    CF_CHECK(strstr(err.text, fx.dir) != NULL);
    if (getenv("CF_TEST_VERBOSE"))
        fprintf(stderr, "error text: %s\n", err.text);
    cf_archive_close(&b);
    reopen(&fx); /* released at close */
out:
    teardown(&fx);
}

static void
make_db(const fixture_t *fx, const char *sql)
{
    mkdir(fx->dir, 0750);
    sqlite3 *db = NULL;
    CF_CHECK_INT(sqlite3_open(fx->db, &db), SQLITE_OK);
    CF_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
}

static void
expect_check_error(fixture_t *fx, const char *what)
{
    cf_err_t err;
    cf_archive_t *a = cf_archive_open(fx->dir, fx->base, NULL, &err);
    CF_CHECK(a == NULL);
    CF_CHECK_INT(err.rc, CF_EDB);
    CF_CHECK(strstr(err.text, "cloudfact check --state-dir") != NULL);
    if (getenv("CF_TEST_VERBOSE") || (what && !strstr(err.text, what)))
        fprintf(stderr, "error text: %s\n", err.text);
    CF_CHECK(!what || strstr(err.text, what) != NULL);
    cf_archive_close(&a);
}

static void
test_newer_foreign_corrupt(void)
{
    fixture_t fx;
    setup(&fx, false);
    make_db(&fx, "CREATE TABLE articles(id); CREATE TABLE facts(seq); PRAGMA user_version=7;");
    expect_check_error(&fx, "newer");
    teardown(&fx);

    setup(&fx, false);
    make_db(&fx, "CREATE TABLE recipes(name TEXT);");
    expect_check_error(&fx, "foreign");
    teardown(&fx);

    setup(&fx, false);
    make_db(&fx, "CREATE TABLE recipes(name TEXT); PRAGMA user_version=1;");
    expect_check_error(&fx, "missing");
    teardown(&fx);

    setup(&fx, false);
    mkdir(fx.dir, 0750);
    FILE *f = fopen(fx.db, "w");
    CF_CHECK(f != NULL);
    if (f) {
        for (int i = 0; i < 200; i++)
            fputs("this is not a database, just text. ", f);
        fclose(f);
    }
    expect_check_error(&fx, NULL);
    /* the failed opens left the directory unlocked: a fresh archive elsewhere still works,
     * and this one's lock is free (open fails for the file, not the lock) */
    cf_err_t err;
    cf_archive_t *a = cf_archive_open(fx.dir, fx.base, NULL, &err);
    CF_CHECK(a == NULL);
    CF_CHECK_INT(err.rc, CF_EDB);
    teardown(&fx);
}

static void
test_full_disk(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id1 = insert1(&fx, "https://example.com/full1", "body");
    insert1(&fx, "https://example.com/full2", "body");
    claim_n(&fx, 1, 1);

    sqlite3 *db = peek_open(&fx);
    int64_t pages = cf_test_sql_int(db, "PRAGMA page_count");
    CF_CHECK_INT(cf_archive_set_max_pages(fx.a, 1), CF_OK); /* clamped to the current size */

    /* big inserts need new pages: every one fails busy, nothing stored */
    enum { N = 4 };
    cf_article_t a[N];
    cf_archive_req_t r[N];
    char *big = cf_malloc(20001);
    memset(big, 'x', 20000);
    big[20000] = '\0';
    int n = 0;
    for (int i = 0; i < N; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.com/big%d", i);
        article(&a[i], url, "t", big);
        insert_req(&r[i], &a[i], &n);
        CF_CHECK_INT(cf_archive_submit(fx.a, &r[i]), CF_OK);
    }
    CF_CHECK(run_until(fx.base, &n, N));
    for (int i = 0; i < N; i++) {
        CF_CHECK_INT(r[i].rc, CF_EBUSY);
        CF_CHECK(strstr(r[i].err.text, "full") != NULL);
        CF_CHECK_INT(r[i].u.insert.id, 0);
        CF_CHECK_INT(a[i].id, 0);
    }

    /* a DONE too big for the space left: rolled back whole, article still processing */
    cf_facts_t facts = {0};
    for (int i = 0; i < 300; i++) {
        cf_fact_t *f = cf_facts_push(&facts);
        set_fact(f, "revenue", "aws", "2015", true);
        free(f->evidence);
        f->evidence = cf_strndup(big, 1000);
    }
    cf_archive_req_t d;
    memset(&d, 0, sizeof d);
    d.kind = CF_ARCHIVE_DONE;
    d.u.done.id = id1;
    d.u.done.facts = &facts;
    run1(&fx, &d);
    CF_CHECK_INT(d.rc, CF_EBUSY);
    CF_CHECK(d.u.done.url == NULL);
    CF_CHECK_INT(d.u.done.first_seq, 0);
    CF_CHECK_INT(facts.v[0].seq, 0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), 0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), 2);
    /* still handed out (processing in memory), still queued in the table */
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id1), "queued");
    CF_CHECK(cf_test_sql_int(db, "PRAGMA page_count") <= pages + 1);
    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK(s.rollbacks >= 2);
    CF_CHECK_INT(s.queued, 1);
    CF_CHECK_INT(s.processing, 1);

    /* space again: the same requests go through */
    CF_CHECK_INT(cf_archive_set_max_pages(fx.a, 0), CF_OK);
    run1(&fx, &d);
    CF_CHECK_INT(d.rc, CF_OK);
    CF_CHECK(facts.v[299].seq > facts.v[0].seq);
    cf_archive_req_clear(&d);
    n = 0;
    for (int i = 0; i < N; i++)
        CF_CHECK_INT(cf_archive_submit(fx.a, &r[i]), CF_OK);
    CF_CHECK(run_until(fx.base, &n, N));
    for (int i = 0; i < N; i++) {
        CF_CHECK_INT(r[i].rc, CF_OK);
        cf_article_clear(&a[i]);
    }
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), 300);
    /* the claim cursor survived the rollbacks */
    claim_n(&fx, 10, 1 + N);
    sqlite3_close(db);
    cf_facts_clear(&facts);
    free(big);
out:
    teardown(&fx);
}

static void
test_locked_database(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    CF_CHECK_INT(cf_archive_set_busy_timeout(fx.a, 50), CF_OK);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);

    cf_article_t a;
    article(&a, "https://example.com/locked", "t", "body");
    cf_archive_req_t r;
    insert_req(&r, &a, &fx.completed);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EBUSY);
    CF_CHECK(strstr(r.err.text, "locked") != NULL);
    CF_CHECK_INT(a.id, 0);
    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK_INT(s.rollbacks, 1);
    CF_CHECK_INT(s.queued, 0);

    CF_CHECK_INT(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    run1(&fx, &r); /* later it succeeds */
    CF_CHECK_INT(r.rc, CF_OK);
    CF_CHECK(a.id > 0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), 1);
    sqlite3_close(db);
    cf_article_clear(&a);
out:
    teardown(&fx);
}

/* The version 1 schema exactly as cloudfact 1 created it (cf_archive.c's first
 * migration, copied here on purpose: a later edit of the code must not change what
 * an old file looks like). */
static const char v1_schema[] =
    "CREATE TABLE articles("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " url TEXT UNIQUE NOT NULL,"
    " title TEXT,"
    " body TEXT,"
    " source TEXT,"
    " published TEXT,"
    " lang TEXT,"
    " state TEXT NOT NULL DEFAULT 'queued'"
    "  CHECK(state IN ('queued','processing','done','failed')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " error TEXT,"
    " received_at TEXT,"
    " done_at TEXT,"
    " relevant INTEGER,"
    " relevance REAL,"
    " class TEXT);"
    "CREATE TABLE facts("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " article INTEGER NOT NULL REFERENCES articles(id),"
    " type TEXT, subject TEXT, object TEXT, value REAL, unit TEXT,"
    " period TEXT, period_start TEXT, period_end TEXT,"
    " place TEXT, detail TEXT, qualifier TEXT, status TEXT, source TEXT,"
    " confidence REAL, evidence TEXT, evidence_start INTEGER, evidence_end INTEGER);"
    "CREATE INDEX facts_article ON facts(article);"
    "CREATE TRIGGER facts_no_update BEFORE UPDATE ON facts"
    " BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;"
    "CREATE TRIGGER facts_no_delete BEFORE DELETE ON facts"
    " BEGIN SELECT RAISE(ABORT, 'facts are append-only'); END;"
    "CREATE VIEW fact_view AS SELECT f.*, a.url AS url, a.title AS title,"
    " a.published AS published, a.source AS article_source"
    " FROM facts f JOIN articles a ON a.id = f.article;"
    "CREATE VIRTUAL TABLE article_fts USING fts5(title, body,"
    " content='articles', content_rowid='id');"
    "PRAGMA user_version=1;";

/* A version 1 archive with data, built by hand, opens, upgrades to the current
 * version in place, keeps every row, and then works as a new one does. */
static void
test_migrate_from_v1(void)
{
    fixture_t fx;
    setup(&fx, false);
    make_db(&fx, v1_schema);
    make_db(&fx, "PRAGMA journal_mode=WAL;"
                 "INSERT INTO articles(url, title, body, state, attempts, received_at, done_at)"
                 " VALUES('https://old.example/1', 'Old news', 'AWS holds 30 percent.', 'done', 1,"
                 " '2015-01-01T00:00:00Z', '2015-01-01T00:00:01Z');"
                 "INSERT INTO articles(url, title, body, state, attempts, error, received_at)"
                 " VALUES('https://old.example/2', 'Poison', 'x', 'failed', 3, 'worker crashed',"
                 " '2015-01-02T00:00:00Z');"
                 "INSERT INTO articles(url, title, body, state, attempts, received_at)"
                 " VALUES('https://old.example/3', 'Left out', 'y', 'processing', 1,"
                 " '2015-01-03T00:00:00Z');"
                 "INSERT INTO article_fts(rowid, title, body) SELECT id, title, body FROM articles"
                 " WHERE id = 1;"
                 "INSERT INTO facts(article, type, subject, value, unit, period, period_start,"
                 " period_end, status, confidence, evidence, evidence_start, evidence_end)"
                 " VALUES(1, 'market_share', 'aws', 30, 'percent', '2014', '2014-01-01',"
                 " '2014-12-31', 'reported', 0.9, 'AWS holds 30 percent', 0, 20),"
                 " (1, 'market_share', 'azure', 10, 'percent', '2014', '2014-01-01',"
                 " '2014-12-31', 'reported', 0.8, 'AWS holds 30 percent', 0, 20);");
    cf_err_t err;
    fx.a = cf_archive_open(fx.dir, fx.base, NULL, &err);
    if (!fx.a)
        fprintf(stderr, "open v1: %s\n", err.text);
    CF_CHECK(fx.a != NULL);
    if (!fx.a) {
        teardown(&fx);
        return;
    }
    CF_CHECK_STR(cf_archive_db_path(fx.a), fx.db);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "PRAGMA user_version"), CF_ARCHIVE_SCHEMA_VERSION);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), 3);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), 2);
    /* version 3: the type and subject indexes became span tables, filled from the facts */
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name IN"
                            " ('facts_type', 'facts_subject')"),
        0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM fact_type_spans"), 1);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT first * 10 + last FROM fact_type_spans"
                                     " WHERE type = 'market_share'"),
                 12);
    CF_CHECK_STR(q_text(db, "SELECT group_concat(subject || ':' || first || '-' || last, ' ') FROM"
                            " (SELECT * FROM fact_subject_spans ORDER BY first)"),
                 "aws:1-1 azure:2-2");
    /* version 4: the spans cover every fact the archive had */
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT seq FROM fact_spans_mark"), 2);
    /* version 5: listing the quarantine reads its index, not every article */
    CF_CHECK_STR(q_plan(db, "SELECT id, url FROM articles WHERE state = 'failed' AND id > 0"
                            " ORDER BY id LIMIT 10"),
                 "SEARCH articles USING INDEX articles_failed (id>?)");
    CF_CHECK_STR(q_text(db, "SELECT group_concat(id) FROM quarantine_view"), "2");
    /* version 6: the done articles are an index too, and what an old version left
     * processing is queued again */
    CF_CHECK_STR(q_plan(db, "SELECT count(*) FROM articles WHERE state = 'done'"),
                 "SCAN articles USING INDEX articles_done");
    CF_CHECK_STR(q_text(db, "SELECT group_concat(id) FROM articles WHERE state = 'queued'"), "3");
    cf_archive_stats_t st;
    cf_archive_stats(fx.a, &st);
    CF_CHECK_INT(st.queued, 1);
    CF_CHECK_INT(st.done, 1);
    CF_CHECK_INT(st.failed, 1);
    /* the documented views answer over the old rows */
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT facts FROM article_view WHERE id = 1"), 2);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT body_bytes FROM article_view WHERE id = 1"), 21);
    CF_CHECK_STR(q_text(db, "SELECT error FROM quarantine_view"), "worker crashed");
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM quarantine_view"), 1);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT facts FROM facts_by_type WHERE type = 'market_share'"),
                 2);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT subjects FROM facts_by_type WHERE type = 'market_share'"), 2);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT last_seq FROM facts_by_subject WHERE subject = 'azure'"), 2);
    CF_CHECK_STR(q_text(db, "SELECT url FROM fact_view WHERE seq = 1"), "https://old.example/1");
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'percent'"),
        1);
    sqlite3_close(db);
    /* the upgraded archive takes new work and keeps seq going */
    uint64_t id = insert1(&fx, "https://new.example/4", "Azure grew 90 percent.");
    CF_CHECK_INT(id, 4);
    reopen(&fx); /* already current: opens without migrating again */
    db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "PRAGMA user_version"), CF_ARCHIVE_SCHEMA_VERSION);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), 4);
    sqlite3_close(db);
    teardown(&fx);
}

static uint64_t search_backlog_drained(fixture_t *fx, int tries);

/* Opening a big archive reads index entries, not its articles: 404 articles of 6 KB
 * (their bodies in overflow pages), done but for one failed (100) and four queued (200,
 * 402-404); the search index holds the done ones up to 400 and, as a 'rebuild' by hand
 * would leave, documents of 100 and 403. The counts, the first queued article and the
 * search backlog (401 alone) come out right while the open reads under a quarter of
 * the bodies' bytes (four scans of the table read them all, four times over, before
 * version 6). */
static void
test_open_reads_little(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    cf_archive_close(&fx.a);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(
        sqlite3_exec(db,
                     "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 404)"
                     " INSERT INTO articles(url, title, body, state) SELECT"
                     " 'https://example.com/big' || i, 'Big', 'Quokkas ' || i || ' '"
                     " || replace(printf('%.1000c', 'x'), 'x', 'lorem '),"
                     " CASE WHEN i = 100 THEN 'failed' WHEN i = 200 OR i > 401 THEN 'queued'"
                     " ELSE 'done' END FROM n;"
                     "INSERT INTO article_fts(rowid, title, body) SELECT id, title, body"
                     " FROM articles WHERE (state = 'done' AND id <= 400) OR id IN (100, 403);",
                     NULL, NULL, NULL),
        SQLITE_OK);
    int64_t bytes = cf_test_sql_int(db, "SELECT sum(length(body)) FROM articles");
    sqlite3_close(db);
    cf_test_vfs_db_read = 0;
    cf_err_t err;
    fx.a = cf_archive_open(fx.dir, fx.base, NULL, &err);
    unsigned long long read = cf_test_vfs_db_read;
    CF_CHECK(fx.a != NULL);
    if (!fx.a)
        goto out;
    cf_archive_stats_t st;
    cf_archive_stats(fx.a, &st);
    CF_CHECK_INT(st.queued, 4);
    CF_CHECK_INT(st.done, 399);
    CF_CHECK_INT(st.failed, 1);
    CF_CHECK_INT(st.search_backlog, 1);
    if (read >= (unsigned long long)bytes / 4)
        fprintf(stderr, "the open read %llu bytes of %lld in the articles' bodies\n", read,
                (long long)bytes);
    CF_CHECK(read < (unsigned long long)bytes / 4);
    /* the first queued article is the first handed out; the one not indexed gets indexed */
    cf_archive_req_t c;
    claim(&fx, &c, 1);
    CF_CHECK_INT(c.u.claim.n, 1);
    if (c.u.claim.n == 1)
        CF_CHECK_INT(c.u.claim.articles[0].id, 200);
    cf_archive_req_clear(&c);
    CF_CHECK_INT(search_backlog_drained(&fx, 500), 0);
    db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT rowid FROM article_fts WHERE article_fts MATCH"
                                     " 'quokkas AND 401'"),
                 401);
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* What a long open told its progress function. */
typedef struct progress_log {
    int calls;
    bool migrating;  /* a call named the migration */
    bool waited;     /* a call said it waited for a lock, naming the step */
    sqlite3 *holder; /* holds the write lock until the open says it waits for it */
} progress_log_t;

static void
on_progress(void *ctx, const char *doing)
{
    progress_log_t *p = ctx;
    p->calls++;
    if (strstr(doing, "migrating the schema from version 1 to "))
        p->migrating = true;
    /* the wait names the step that waits (the first to write: preparing the WAL) */
    if (strcmp(doing, "preparing the WAL (waiting for a lock another connection holds)") == 0)
        p->waited = true;
    if (p->holder && strstr(doing, "(waiting for a lock")) {
        /* the analyst's shell lets go: the open goes on */
        CF_CHECK_INT(sqlite3_exec(p->holder, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(p->holder);
        p->holder = NULL;
    }
}

/* A long open says what it does while it works (cloudfactd extends systemd's start
 * timeout with it): a migration over many facts, and a wait for a write lock another
 * connection holds, named with the step that waits; once opened, never again. */
static void
test_open_progress(void)
{
    fixture_t fx;
    setup(&fx, false);
    make_db(&fx, v1_schema);
    /* 200,000 facts over 10,000 articles: the span rebuild takes well over 1 ms */
    make_db(&fx,
            "PRAGMA journal_mode=WAL;"
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)"
            " INSERT INTO articles(url, title, body, state) SELECT 'https://old.example/' || i,"
            " 't', 'b', 'done' FROM n;"
            "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 199999)"
            " INSERT INTO facts(article, type, subject) SELECT i / 20 + 1,"
            " 'type' || (i % 7), 'co' || (i % 3) FROM n;");
    progress_log_t log = {0};
    cf_archive_progress_t progress = {on_progress, &log, 1};
    cf_err_t err;
    fx.a = cf_archive_open(fx.dir, fx.base, &progress, &err);
    CF_CHECK(fx.a != NULL);
    if (!fx.a) {
        fprintf(stderr, "open: %s\n", err.text);
        goto out;
    }
    CF_CHECK(log.migrating);

    /* opened: work on the writer does not call it */
    int calls = log.calls;
    uint64_t ids[200];
    insert_many(&fx, "after", "Opened already.", 200, ids);
    CF_CHECK_INT(log.calls, calls);

    /* another connection holds the write lock as the archive opens */
    cf_archive_close(&fx.a);
    log.holder = peek_open(&fx);
    CF_CHECK_INT(sqlite3_exec(log.holder, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    fx.a = cf_archive_open(fx.dir, fx.base, &progress, &err);
    CF_CHECK(fx.a != NULL);
    if (!fx.a)
        fprintf(stderr, "open while locked: %s\n", err.text);
    CF_CHECK(log.waited);
    CF_CHECK(log.holder == NULL);
    if (log.holder)
        sqlite3_close(log.holder);
out:
    teardown(&fx);
}

/* Claimed articles stay `queued` in the table: after a rolled-back batch makes the
 * writer rebuild its claim cursor from the table, the articles still out are not
 * handed out a second time, and a claim, release and claim again of many articles in
 * any order hands each out exactly once. */
static void
test_claimed_not_handed_out_twice(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    enum { M = 200 };
    uint64_t id[M];
    insert_many(&fx, "twice", "body", M, id);
    cf_archive_req_t c, r;
    claim_n(&fx, 150, 150);

    /* a batch rolled back (no space for a big insert): the cursor is rebuilt */
    CF_CHECK_INT(cf_archive_set_max_pages(fx.a, 1), CF_OK);
    char *big = cf_malloc(200001);
    memset(big, 'x', 200000);
    big[200000] = '\0';
    cf_article_t a;
    article(&a, "https://example.com/twice-big", "t", big);
    insert_req(&r, &a, &fx.completed);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EBUSY);
    cf_article_clear(&a);
    free(big);
    CF_CHECK_INT(cf_archive_set_max_pages(fx.a, 0), CF_OK);

    /* release every third one, in reverse order: they come back, nothing else */
    int released = 0;
    for (int i = 149; i >= 0; i -= 3) {
        release_req(&r, id[i]);
        run1(&fx, &r);
        CF_CHECK_INT(r.rc, CF_OK);
        released++;
        release_req(&r, 0); /* the daemon's write probe: refused, changes nothing */
        run1(&fx, &r);
        CF_CHECK_INT(r.rc, CF_EINVAL);
    }
    release_req(&r, id[149]); /* twice: refused */
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EINVAL);
    CF_CHECK(strstr(r.err.text, "queued") != NULL);

    bool seen[M] = {false};
    int got = 0;
    claim(&fx, &c, 1000);
    CF_CHECK_INT(c.u.claim.n, (size_t)(released + M - 150));
    for (size_t i = 0; i < c.u.claim.n; i++) {
        uint64_t x = c.u.claim.articles[i].id;
        CF_CHECK(x >= id[0] && x <= id[M - 1]);
        if (x >= id[0] && x <= id[M - 1]) {
            size_t k = (size_t)(x - id[0]);
            CF_CHECK(!seen[k]);
            seen[k] = true;
            CF_CHECK(k >= 150 || (149 - k) % 3 == 0);
            got++;
        }
    }
    cf_archive_req_clear(&c);
    CF_CHECK_INT(got, released + M - 150);
    claim_n(&fx, 1000, 0);

    /* every article is out now: done and fail work on each, once */
    for (int i = 0; i < M; i++) {
        cf_archive_req_t d;
        memset(&d, 0, sizeof d);
        d.kind = CF_ARCHIVE_DONE;
        d.u.done.id = id[i];
        run1(&fx, &d);
        CF_CHECK_INT(d.rc, CF_OK);
        cf_archive_req_clear(&d);
    }
    fail_req(&r, id[0], 3);
    run1(&fx, &r);
    CF_CHECK_INT(r.rc, CF_EINVAL);
    cf_archive_req_clear(&r);
    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK_INT(s.processing, 0);
    CF_CHECK_INT(s.done, M);
    CF_CHECK_INT(s.queued, 0);
out:
    teardown(&fx);
}

/* Search indexing is off the done path: a done article the index lacks (a daemon
 * killed before indexing its backlog) is found and indexed at the next open. */
static void
test_search_backlog_recovered(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id1 = insert1(&fx, "https://example.com/s1", "Wombats built a data center.");
    uint64_t id2 = insert1(&fx, "https://example.com/s2", "Numbats leased a campus.");
    claim_n(&fx, 2, 2);
    for (int i = 0; i < 2; i++) {
        cf_archive_req_t d;
        memset(&d, 0, sizeof d);
        d.kind = CF_ARCHIVE_DONE;
        d.u.done.id = i ? id2 : id1;
        run1(&fx, &d);
        CF_CHECK_INT(d.rc, CF_OK);
        cf_archive_req_clear(&d);
    }
    cf_archive_close(&fx.a); /* a clean close indexes whatever is left */
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'wombats'"),
        1);
    /* as if the daemon had been killed before indexing id1 */
    CF_CHECK_INT(sqlite3_exec(db,
                              "INSERT INTO article_fts(article_fts, rowid, title, body)"
                              " SELECT 'delete', id, title, body FROM articles"
                              " WHERE url = 'https://example.com/s1'",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'wombats'"),
        0);
    sqlite3_close(db);
    reopen(&fx); /* finds the backlog */
    reopen(&fx); /* and a clean close has indexed it */
    db = peek_open(&fx);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT rowid FROM article_fts WHERE article_fts MATCH 'wombats'"),
        (int64_t)id1);
    CF_CHECK_INT(
        cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH 'numbats'"),
        1);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM article_fts"), 2);
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* DONE runs without a savepoint of its own; one that fails half-way for a reason of
 * its own (here a trigger refusing its second fact) makes the writer run the batch
 * again with savepoints: that request alone is refused (CF_EREFUSED), nothing of it
 * is stored, the others of the batch are. */
static void
test_done_fails_half_way(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id1 = insert1(&fx, "https://example.com/h1", "AWS held a share.");
    uint64_t id2 = insert1(&fx, "https://example.com/h2", "AWS held a share again.");
    claim_n(&fx, 2, 2);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(sqlite3_exec(db,
                              "CREATE TRIGGER poison BEFORE INSERT ON facts"
                              " WHEN NEW.subject = 'poison'"
                              " BEGIN SELECT RAISE(ABORT, 'poison fact'); END",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    cf_facts_t bad = {0}, good = {0};
    set_fact(cf_facts_push(&bad), "revenue", "aws", NULL, true);
    set_fact(cf_facts_push(&bad), "revenue", "poison", NULL, true);
    set_fact(cf_facts_push(&good), "revenue", "aws", NULL, true);
    cf_archive_req_t d[2];
    memset(d, 0, sizeof d);
    int n = 0;
    for (int i = 0; i < 2; i++) {
        d[i].kind = CF_ARCHIVE_DONE;
        d[i].cb = on_done;
        d[i].arg = &n;
        d[i].u.done.id = i ? id2 : id1;
        d[i].u.done.facts = i ? &good : &bad;
    }
    CF_CHECK_INT(cf_archive_submit(fx.a, &d[0]), CF_OK);
    CF_CHECK_INT(cf_archive_submit(fx.a, &d[1]), CF_OK);
    CF_CHECK(run_until(fx.base, &n, 2));
    CF_CHECK_INT(d[0].rc, CF_EREFUSED);
    CF_CHECK(strstr(d[0].err.text, "poison") != NULL);
    CF_CHECK_INT(bad.v[0].seq, 0);
    CF_CHECK_INT(d[1].rc, CF_OK);
    CF_CHECK(good.v[0].seq > 0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), 1);
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id1), "queued");
    CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id2), "done");
    cf_archive_req_clear(&d[0]);
    cf_archive_req_clear(&d[1]);
    /* still handed out: once the trigger is gone it can be done */
    CF_CHECK_INT(sqlite3_exec(db, "DROP TRIGGER poison", NULL, NULL, NULL), SQLITE_OK);
    memset(&d[0], 0, sizeof d[0]);
    d[0].kind = CF_ARCHIVE_DONE;
    d[0].u.done.id = id1;
    d[0].u.done.facts = &good;
    run1(&fx, &d[0]);
    CF_CHECK_INT(d[0].rc, CF_OK);
    cf_archive_req_clear(&d[0]);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), 2);
    sqlite3_close(db);
    cf_facts_clear(&bad);
    cf_facts_clear(&good);
    cf_archive_stats_t s;
    cf_archive_stats(fx.a, &s);
    CF_CHECK_INT(s.done, 2);
    CF_CHECK_INT(s.processing, 0);
    CF_CHECK_INT(s.rollbacks, 0);
out:
    teardown(&fx);
}

/* A DONE's facts go in by multi-row INSERTs of up to 32 rows (cf_archive.c, insert_facts):
 * 70 facts are three statements (32 + 32 + 6). Every fact gets its own row, in order,
 * with consecutive seqs, its own values (period range, value or NULL), and the seqs
 * written back into the request match the rows; a second DONE in the same batch and a
 * single-fact DONE continue the sequence. */
static void
test_done_many_facts(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id[3];
    insert_many(&fx, "many", "AWS held a share.", 3, id);
    claim_n(&fx, 3, 3);
    enum { MANY = 70 };
    static const char *const periods[] = {"2015", "2015-Q3", NULL, "2014-07", "FY2016"};
    cf_facts_t f[3] = {{0}};
    for (int i = 0; i < MANY; i++) {
        char subject[32];
        snprintf(subject, sizeof subject, "s%d", i);
        set_fact(cf_facts_push(&f[0]), i % 2 ? "revenue" : "market_share", subject, periods[i % 5],
                 i % 3 != 0);
    }
    set_fact(cf_facts_push(&f[1]), "revenue", "second", "2015", true);
    set_fact(cf_facts_push(&f[1]), "revenue", "second2", NULL, false);
    set_fact(cf_facts_push(&f[2]), "ipo", "third", NULL, false);
    cf_archive_req_t d[3];
    memset(d, 0, sizeof d);
    int n = 0;
    for (int i = 0; i < 3; i++) {
        d[i].kind = CF_ARCHIVE_DONE;
        d[i].cb = on_done;
        d[i].arg = &n;
        d[i].u.done.id = id[i];
        d[i].u.done.facts = &f[i];
    }
    /* 0 and 1 most likely in one batch; 2 alone, after them */
    CF_CHECK_INT(cf_archive_submit(fx.a, &d[0]), CF_OK);
    CF_CHECK_INT(cf_archive_submit(fx.a, &d[1]), CF_OK);
    CF_CHECK(run_until(fx.base, &n, 2));
    CF_CHECK_INT(cf_archive_submit(fx.a, &d[2]), CF_OK);
    CF_CHECK(run_until(fx.base, &n, 3));
    for (int i = 0; i < 3; i++)
        CF_CHECK_INT(d[i].rc, CF_OK);
    CF_CHECK_INT(d[0].u.done.first_seq, 1);
    CF_CHECK_INT(d[0].u.done.last_seq, MANY);
    CF_CHECK_INT(d[1].u.done.first_seq, MANY + 1);
    CF_CHECK_INT(d[1].u.done.last_seq, MANY + 2);
    CF_CHECK_INT(d[2].u.done.first_seq, MANY + 3);
    CF_CHECK_INT(d[2].u.done.last_seq, MANY + 3);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM facts"), MANY + 3);
    for (int k = 0; k < 3; k++) {
        for (size_t i = 0; i < f[k].n; i++) {
            const cf_fact_t *x = &f[k].v[i];
            CF_CHECK_INT(x->seq, d[k].u.done.first_seq + i);
            CF_CHECK_INT(x->article, id[k]);
            CF_CHECK_INT(q_intf(db, "SELECT article FROM facts WHERE seq=?1", x->seq),
                         (int64_t)id[k]);
            CF_CHECK_STR(q_textf(db, "SELECT subject FROM facts WHERE seq=?1", x->seq), x->subject);
            CF_CHECK_STR(q_textf(db, "SELECT type FROM facts WHERE seq=?1", x->seq), x->type);
            CF_CHECK_STR(
                q_textf(db, "SELECT coalesce(period, '-') FROM facts WHERE seq=?1", x->seq),
                x->period ? x->period : "-");
            CF_CHECK_INT(q_intf(db, "SELECT value IS NULL FROM facts WHERE seq=?1", x->seq),
                         x->has_value ? 0 : 1);
            char ps[11], pe[11];
            if (x->period && cf_period_range(x->period, ps, pe) == CF_OK) {
                CF_CHECK_STR(q_textf(db, "SELECT period_start FROM facts WHERE seq=?1", x->seq),
                             ps);
                CF_CHECK_STR(q_textf(db, "SELECT period_end FROM facts WHERE seq=?1", x->seq), pe);
            } else {
                CF_CHECK_INT(q_intf(db,
                                    "SELECT period_start IS NULL AND period_end IS NULL"
                                    " FROM facts WHERE seq=?1",
                                    x->seq),
                             1);
            }
        }
        CF_CHECK_STR(q_textf(db, "SELECT state FROM articles WHERE id=?1", id[k]), "done");
        cf_archive_req_clear(&d[k]);
    }
    /* the writer's connection does not enforce the foreign key, the schema still says it */
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM pragma_foreign_key_list('facts')"
                                     " WHERE \"table\" = 'articles'"),
                 1);
    sqlite3_close(db);
    for (int k = 0; k < 3; k++)
        cf_facts_clear(&f[k]);
out:
    teardown(&fx);
}

/* A fresh archive's WAL is written once up to twice its checkpoint cycle, so that
 * commits overwrite it instead of growing it (a growing file costs a filesystem
 * journal commit per fdatasync); a WAL that holds frames at open (a daemon killed
 * before its checkpoint) is read, never overwritten. */
static void
test_wal_prepared(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    char wal[sizeof fx.db + 8];
    snprintf(wal, sizeof wal, "%s-wal", fx.db);
    struct stat st;
    CF_CHECK_INT(stat(wal, &st), 0);
    off_t prepared = st.st_size;
    sqlite3 *pdb = peek_open(&fx);
    int64_t page = cf_test_sql_int(pdb, "PRAGMA page_size");
    sqlite3_close(pdb);
    CF_CHECK(prepared >= 2048 * (page + 24));
    insert1(&fx, "https://example.com/w1", "Quolls opened a region.");
    CF_CHECK_INT(stat(wal, &st), 0);
    CF_CHECK_INT(st.st_size, prepared); /* the commit overwrote, the file did not grow */
    /* ~10 MB of articles, more than the WAL holds: the writer's checkpoints copy it
     * into the database file as it goes, and the WAL never outgrows what was prepared */
    static char big[64 * 1024 + 1];
    memset(big, 'q', sizeof big - 1);
    insert_many(&fx, "big", big, 160, NULL);
    CF_CHECK_INT(stat(wal, &st), 0);
    CF_CHECK_INT(st.st_size, prepared);
    CF_CHECK_INT(stat(fx.db, &st), 0);
    CF_CHECK(st.st_size > 4 * 1024 * 1024);
    cf_archive_close(&fx.a); /* a clean close empties the WAL */

    /* another connection commits and dies before any checkpoint: its frames stay */
    pid_t pid = fork();
    if (pid == 0) {
        sqlite3 *db = NULL;
        int ok = sqlite3_open(fx.db, &db) == SQLITE_OK &&
                 sqlite3_exec(db,
                              "INSERT INTO articles(url, title, body)"
                              " VALUES('https://example.com/w2', 'T', 'Dunnarts left a market.')",
                              NULL, NULL, NULL) == SQLITE_OK;
        _exit(ok ? 0 : 1); /* no sqlite3_close: nothing checkpointed */
    }
    int status = 0;
    CF_CHECK_INT(waitpid(pid, &status, 0), pid);
    CF_CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CF_CHECK_INT(stat(wal, &st), 0);
    CF_CHECK(st.st_size > 0 && st.st_size < prepared);
    reopen(&fx);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(
                     db, "SELECT count(*) FROM articles WHERE url LIKE 'https://example.com/w_'"),
                 2);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), 162);
    CF_CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
    sqlite3_close(db);
    cf_archive_close(&fx.a); /* checkpoints the frames into the database file */
    db = peek_open(&fx);
    CF_CHECK_STR(q_text(db, "SELECT body FROM articles WHERE url = 'https://example.com/w2'"),
                 "Dunnarts left a market.");
    CF_CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* A disk too full for the database file's pages, while the WAL still takes commits:
 * every checkpoint fails, which the log says once (not once per commit) and the
 * stats count; nothing committed is lost, and once there is room again the next
 * checkpoint copies it all. */
static void
test_checkpoint_full_disk(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    static char big[64 * 1024 + 1];
    memset(big, 'k', sizeof big - 1);
    char logpath[sizeof fx.tmp + 8];
    snprintf(logpath, sizeof logpath, "%s/log", fx.tmp);
    fflush(stderr);
    int saved = dup(2), logfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CF_CHECK(saved >= 0 && logfd >= 0 && dup2(logfd, 2) == 2);
    cf_test_vfs_full = CF_TEST_FULL_DB;
    int n = 0;
    for (; n < 120; n++) { /* ~17 frames each: checkpoints are due from about the 60th */
        char url[64];
        snprintf(url, sizeof url, "https://example.com/full%d", n);
        insert1(&fx, url, big);
    }
    cf_test_vfs_full = 0;
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(logfd);
    cf_archive_stats_t as;
    cf_archive_stats(fx.a, &as);
    CF_CHECK(as.checkpoint_failures >= 10); /* one per commit past the mark */
    CF_CHECK_INT(as.checkpoints, as.checkpoint_failures);
    FILE *log = fopen(logpath, "r");
    int said = 0;
    char line[512];
    while (log && fgets(line, sizeof line, log))
        said += strstr(line, "checkpoint of") && strstr(line, "failed") ? 1 : 0;
    if (log)
        fclose(log);
    CF_CHECK_INT(said, 1);
    /* room again: the next commits' checkpoint succeeds and copies everything */
    insert1(&fx, "https://example.com/room1", "Numbats found space.");
    insert1(&fx, "https://example.com/room2", "Bilbies found space.");
    cf_archive_stats(fx.a, &as);
    CF_CHECK(as.checkpoints > as.checkpoint_failures);
    struct stat st;
    CF_CHECK_INT(stat(fx.db, &st), 0);
    CF_CHECK(st.st_size > 120 * 64 * 1024);
    reopen(&fx);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles WHERE length(body) = 65536"),
                 n);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles"), n + 2);
    CF_CHECK_STR(q_text(db, "PRAGMA integrity_check"), "ok");
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* Closes the archive, adds n done articles that the search index lacks (a backlog, as
 * a killed daemon leaves), each with title word and body "<word> <i>" then the SQL
 * expression rest (of i), and reopens it. */
static void
add_search_backlog(fixture_t *fx, int n, const char *word, const char *rest)
{
    cf_archive_close(&fx->a);
    sqlite3 *db = peek_open(fx);
    char sql[512];
    snprintf(sql, sizeof sql,
             "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)"
             " INSERT INTO articles(url, title, body, state) SELECT 'https://example.com/%s'"
             " || i, '%s', '%s ' || i || %s, 'done' FROM n",
             n, word, word, word, rest);
    CF_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    reopen(fx);
}

/* A search backlog left by busier moments (here: done articles the index lacks, found
 * at open) shrinks under a steady light load that never leaves the writer idle long
 * enough for its idle indexing (10 ms): each light batch catches up a few. A pause of
 * three times the last request's commit (at least 4 ms; a slow or shared disk's fsync
 * takes longer) after each request keeps the writer under half busy. */
static void
test_search_backlog_light_load(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    enum { BACKLOG = 800 };
    add_search_backlog(&fx, BACKLOG, "Bilbies", "''"); /* the reopen finds it */
    cf_archive_stats_t st;
    cf_archive_stats(fx.a, &st);
    CF_CHECK_INT((int64_t)st.search_backlog, BACKLOG); /* operators see it */
    sqlite3 *db = peek_open(&fx);
    int64_t indexed = 0;
    for (int i = 0; i < 2000 && indexed < BACKLOG; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.com/light%d", i);
        double t0 = cf_clock_s(CLOCK_MONOTONIC);
        insert1(&fx, url, "Light load.");
        double commit_s = cf_clock_s(CLOCK_MONOTONIC) - t0; /* this disk's commit, now */
        usleep(commit_s * 3 > 0.004 ? (useconds_t)(commit_s * 3e6) : 4000);
        if (i % 10 == 9)
            indexed = cf_test_sql_int(db, "SELECT count(*) FROM article_fts_docsize");
    }
    CF_CHECK_INT(indexed, BACKLOG);
    /* shown once the writer is past the transaction that indexed the last of them */
    CF_CHECK_INT((int64_t)search_backlog_drained(&fx, 100), 0);
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* Whether FTS5's 'merge' would still find work in the archive (tried in a transaction
 * of db's, rolled back): more than one row changed. */
static bool
merge_work_left(sqlite3 *db)
{
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        return true;
    sqlite3_int64 before = sqlite3_total_changes64(db);
    int rc = sqlite3_exec(db, "INSERT INTO article_fts(article_fts, rank) VALUES('merge', 16)",
                          NULL, NULL, NULL);
    bool left = rc != SQLITE_OK || sqlite3_total_changes64(db) - before >= 2;
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    return left;
}

/* The search index's segments are merged while the writer is idle (cf_archive.c,
 * "Merging"): a backlog indexed in idle chunks of 64 makes 21 segments, of which FTS5 at
 * automerge 16 merges 16 and leaves 5, more than one 128-page merge step's worth (a long
 * unique word per article); the idle writer merges them to the end before any close (a
 * budget of 0: the close merges nothing), and every article is found. */
static void
test_search_merged_when_idle(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    enum { BACKLOG = 1300 };
    add_search_backlog(&fx, BACKLOG, "Quolls", "' hunt at night ' || hex(randomblob(2000))");
    CF_CHECK_INT(cf_archive_set_close_budget(fx.a, 0), CF_OK);
    /* idle: the writer indexes the backlog */
    CF_CHECK_INT((int64_t)search_backlog_drained(&fx, 1500), 0);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT v FROM article_fts_config WHERE k = 'automerge'"), 16);
    bool left = true;
    for (int i = 0; i < 500 && left; i++) { /* then merges, a step at a time */
        left = merge_work_left(db);
        if (left)
            usleep(20000);
    }
    CF_CHECK(!left);
    sqlite3_close(db);
    cf_archive_close(&fx.a);
    db = peek_open(&fx);
    CF_CHECK(!merge_work_left(db));
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH"
                                     " 'quolls AND night'"),
                 BACKLOG);
    CF_CHECK_INT(sqlite3_exec(db, "INSERT INTO article_fts(article_fts) VALUES('integrity-check')",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* A close spends at most its budget on the search backlog (cf_archive_set_close_budget):
 * with none, it leaves the backlog unindexed, and the next open finds and indexes it. */
static void
test_search_close_budget(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    enum { BACKLOG = 2000 };
    add_search_backlog(&fx, BACKLOG, "Dunnarts", "' store fat in their tails'");
    CF_CHECK_INT(cf_archive_set_close_budget(fx.a, 0), CF_OK);
    cf_archive_close(&fx.a); /* right away: the idle writer had ~10 ms at most */
    sqlite3 *db = peek_open(&fx);
    int64_t indexed = cf_test_sql_int(db, "SELECT count(*) FROM article_fts_docsize");
    CF_CHECK(indexed < BACKLOG);
    sqlite3_close(db);
    reopen(&fx);
    cf_archive_stats_t st;
    cf_archive_stats(fx.a, &st);
    /* all it left, less what the idle writer may have indexed since (a chunk of 64) */
    CF_CHECK((int64_t)st.search_backlog <= BACKLOG - indexed);
    CF_CHECK((int64_t)st.search_backlog >= BACKLOG - indexed - 64);
    cf_archive_close(&fx.a); /* the default budget indexes these 2,000 in well under 5 s */
    db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM article_fts WHERE article_fts MATCH"
                                     " 'dunnarts AND tails'"),
                 BACKLOG);
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* The span tables' contract (cf_archive.h): every fact up to the mark lies in exactly one
 * span of its type and of its subject, no span reaches above the mark or crosses a
 * multiple of CF_ARCHIVE_SPAN_MAX, and the mark is the last fact's seq. */
static void
check_spans_sound(sqlite3 *db)
{
    static const char *const tables[][2] = {{"fact_type_spans", "type"},
                                            {"fact_subject_spans", "subject"}};
    for (size_t t = 0; t < 2; t++) {
        const char *T = tables[t][0], *K = tables[t][1];
        char sql[512];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM facts f WHERE f.%s IS NOT NULL AND (SELECT count(*)"
                 " FROM %s s WHERE s.%s = f.%s AND f.seq BETWEEN s.first AND s.last) <> 1",
                 K, T, K, K);
        CF_CHECK_INT(cf_test_sql_int(db, sql), 0);
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM %s WHERE last < first OR first / %d <> last / %d OR last >"
                 " (SELECT seq FROM fact_spans_mark)",
                 T, CF_ARCHIVE_SPAN_MAX, CF_ARCHIVE_SPAN_MAX);
        CF_CHECK_INT(cf_test_sql_int(db, sql), 0);
    }
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT seq FROM fact_spans_mark"),
                 cf_test_sql_int(db, "SELECT coalesce(max(seq), 0) FROM facts"));
}

/* The span tables as the writer left them equal what CF_ARCHIVE_SPANS_SQL computes from
 * the facts (run and rolled back on a connection of our own): true when the writer
 * added them all at once (spans of two flushes are not merged). */
static void
check_spans_recomputed(sqlite3 *db)
{
    char *msg = NULL;
    int rc = sqlite3_exec(db,
                          "BEGIN;"
                          "CREATE TEMP TABLE w_type AS SELECT * FROM fact_type_spans;"
                          "CREATE TEMP TABLE w_subject AS SELECT * FROM fact_subject_spans;"
                          CF_ARCHIVE_SPANS_SQL,
                          NULL, NULL, &msg);
    if (rc != SQLITE_OK)
        fprintf(stderr, "recomputing spans: %s\n", msg);
    CF_CHECK_INT(rc, SQLITE_OK);
    sqlite3_free(msg);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM (SELECT * FROM w_type EXCEPT"
                                     " SELECT * FROM fact_type_spans)"),
                 0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM (SELECT * FROM fact_type_spans EXCEPT"
                                     " SELECT * FROM w_type)"),
                 0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM (SELECT * FROM w_subject EXCEPT"
                                     " SELECT * FROM fact_subject_spans)"),
                 0);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM (SELECT * FROM fact_subject_spans EXCEPT"
                                     " SELECT * FROM w_subject)"),
                 0);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Waits (up to 5 s) until the spans' mark reaches want: the writer adds spans once it
 * has been idle a moment. */
static bool
wait_mark(sqlite3 *db, int64_t want)
{
    for (int i = 0; i < 500; i++) {
        if (cf_test_sql_int(db, "SELECT seq FROM fact_spans_mark") == want)
            return true;
        usleep(10000);
    }
    fprintf(stderr, "spans' mark %lld, expected %lld\n",
            (long long)cf_test_sql_int(db, "SELECT seq FROM fact_spans_mark"), (long long)want);
    return false;
}

/* Done articles' facts get spans per type and subject: one per article, merged with the
 * next one of its key when less than CF_ARCHIVE_SPAN_GAP seqs apart, cut where the seqs
 * cross a multiple of CF_ARCHIVE_SPAN_MAX; added by the idle writer (or at close, at
 * the latest): the same rows CF_ARCHIVE_SPANS_SQL makes. */
static void
test_spans_written(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    static const char *const types[] = {"revenue", "market_share", "datacenter"};
    enum { NART = 3 };
    static const size_t nfacts[NART] = {CF_MAX_FACTS, 40, CF_MAX_FACTS};
    uint64_t id[NART];
    insert_many(&fx, "spans", "AWS held a share.", NART, id);
    claim_n(&fx, NART, NART);
    cf_facts_t f[NART] = {{0}};
    cf_archive_req_t d[NART];
    memset(d, 0, sizeof d);
    int n = 0;
    /* the writer waits for this lock while the dones queue up: it runs them without a
     * pause, so that their spans go in together (exactly the rows below) */
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    for (int a = 0; a < NART; a++) {
        for (size_t i = 0; i < nfacts[a]; i++) {
            char subject[32];
            /* article 1: 40 subjects, more than one INSERT's rows */
            snprintf(subject, sizeof subject, "s%zu", a == 1 ? i : i % 5);
            set_fact(cf_facts_push(&f[a]), types[i % 3], subject, NULL, true);
        }
        d[a].kind = CF_ARCHIVE_DONE;
        d[a].cb = on_done;
        d[a].arg = &n;
        d[a].u.done.id = id[a];
        d[a].u.done.facts = &f[a];
        CF_CHECK_INT(cf_archive_submit(fx.a, &d[a]), CF_OK);
    }
    CF_CHECK_INT(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    CF_CHECK(run_until(fx.base, &n, NART));
    CF_CHECK(wait_mark(db, 2 * CF_MAX_FACTS + 40));
    /* seqs 1..1000, 1001..1040 (across 1024: its types cut in two), 1041..2040 */
    CF_CHECK_INT(d[1].u.done.first_seq, CF_MAX_FACTS + 1);
    /* each type: one span per block of 1,024 seqs (the articles' spans merge) */
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM fact_type_spans"), 3 * 2);
    /* article 1's revenue facts are seqs 1001, 1004, ..., 1040: cut at 1024 */
    CF_CHECK_STR(q_text(db, "SELECT group_concat(first || '-' || last, ' ') FROM (SELECT * FROM"
                            " fact_type_spans WHERE type = 'revenue' ORDER BY first)"),
                 "1-1022 1025-2040");
    /* s0..s4, in every article, merge like the types; s5..s39, only in article 1's 40
     * facts (one each), are 35 spans */
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM fact_subject_spans"), 5 * 2 + 35);
    CF_CHECK_STR(q_text(db, "SELECT group_concat(first || '-' || last, ' ') FROM (SELECT * FROM"
                            " fact_subject_spans WHERE subject = 's0' ORDER BY first)"),
                 "1-1001 1041-2036");
    check_spans_sound(db);
    check_spans_recomputed(db);
    sqlite3_close(db);
    for (int a = 0; a < NART; a++) {
        cf_archive_req_clear(&d[a]);
        cf_facts_clear(&f[a]);
    }
out:
    teardown(&fx);
}

/* Facts above the spans' mark: close adds their spans before it returns; those a crash
 * left there (written here by hand) get theirs at open. */
static void
test_spans_deferred(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    uint64_t id0 = insert1(&fx, "https://example.com/deferred0", "AWS held a share.");
    uint64_t id1 = insert1(&fx, "https://example.com/deferred1", "Azure held a share.");
    claim_n(&fx, 2, 2);
    cf_facts_t f = {0};
    static const char *const types[] = {"revenue", "market_share", "datacenter"};
    for (int i = 0; i < 30; i++)
        set_fact(cf_facts_push(&f), types[i % 3], i % 2 ? "aws" : "azure", NULL, true);
    cf_archive_req_t d = {.kind = CF_ARCHIVE_DONE, .cb = on_done, .arg = &fx.completed};
    d.u.done.id = id0;
    d.u.done.facts = &f;
    CF_CHECK_INT(cf_archive_submit(fx.a, &d), CF_OK);
    cf_archive_close(&fx.a); /* right away: the writer is never idle long enough */
    CF_CHECK_INT(d.rc, CF_OK);
    cf_archive_req_clear(&d);
    cf_facts_clear(&f);
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT seq FROM fact_spans_mark"), 30);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM fact_type_spans"), 3);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM fact_subject_spans"), 2);
    char sql[512];
    snprintf(sql, sizeof sql,
             "UPDATE articles SET state = 'done' WHERE id = %" PRIu64 ";"
             "INSERT INTO facts(article, type, subject, status, confidence, evidence,"
             " evidence_start, evidence_end) WITH RECURSIVE k(i) AS (SELECT 1 UNION ALL"
             " SELECT i + 1 FROM k WHERE i < 5) SELECT %" PRIu64 ", 'revenue', 'oracle',"
             " 'reported', 0.5, 'x', 0, 1 FROM k",
             id1, id1);
    CF_CHECK_INT(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    reopen(&fx);
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT seq FROM fact_spans_mark"), 35);
    /* not merged with the span of article 0's revenue (1-28): added apart */
    CF_CHECK_STR(q_text(db, "SELECT group_concat(type || ':' || first || '-' || last, ' ') FROM"
                            " (SELECT * FROM fact_type_spans WHERE first > 30)"),
                 "revenue:31-35");
    check_spans_sound(db);
    sqlite3_close(db);
out:
    teardown(&fx);
}

/* A damaged search index (its data table dropped under the running archive: every
 * indexing statement fails) costs ingest nothing: each done adds its article to the
 * search backlog, and under light load its batch would index it there and then; that
 * batch fails in its indexing, is run again without, and is stored. The index is
 * damaged before any article is done, so no idle indexing can come first. */
static void
test_search_failure_spares_requests(void)
{
    fixture_t fx;
    setup(&fx, true);
    if (!fx.a)
        goto out;
    sqlite3 *db = peek_open(&fx);
    CF_CHECK_INT(sqlite3_exec(db, "DROP TABLE article_fts_data", NULL, NULL, NULL), SQLITE_OK);
    enum { N = 5 };
    uint64_t ids[N];
    insert_many(&fx, "spared", "Stored whatever the index says.", N, ids); /* CF_OK each */
    claim_n(&fx, N, N);
    for (int i = 0; i < N; i++) {
        cf_facts_t facts = {0};
        cf_class_t cls = {0};
        cf_archive_req_t d;
        memset(&d, 0, sizeof d);
        d.kind = CF_ARCHIVE_DONE;
        d.u.done.id = ids[i];
        d.u.done.facts = &facts;
        d.u.done.cls = &cls;
        run1(&fx, &d);
        CF_CHECK_INT(d.rc, CF_OK);
        cf_archive_req_clear(&d);
        usleep(5000); /* light load: every batch catches the backlog up */
    }
    CF_CHECK_INT(cf_test_sql_int(db, "SELECT count(*) FROM articles WHERE state = 'done'"), N);
    cf_archive_stats_t st;
    cf_archive_stats(fx.a, &st);
    CF_CHECK_INT((int64_t)st.search_backlog, N); /* kept for when the index works again */
    sqlite3_close(db);
out:
    teardown(&fx);
}

CF_TEST_LIST(CF_TEST(test_create_and_reopen), CF_TEST(test_migrate_from_v1),
             CF_TEST(test_open_reads_little), CF_TEST(test_insert_and_duplicates),
             CF_TEST(test_group_commit), CF_TEST(test_done_batch_facts_bound),
             CF_TEST(test_claim_done_search), CF_TEST(test_claim_bytes),
             CF_TEST(test_fail_and_release), CF_TEST(test_reopen_requeues_processing),
             CF_TEST(test_close_flushes), CF_TEST(test_lock), CF_TEST(test_newer_foreign_corrupt),
             CF_TEST(test_full_disk), CF_TEST(test_locked_database),
             CF_TEST(test_claimed_not_handed_out_twice), CF_TEST(test_search_backlog_recovered),
             CF_TEST(test_done_fails_half_way), CF_TEST(test_done_many_facts),
             CF_TEST(test_wal_prepared), CF_TEST(test_search_backlog_light_load),
             CF_TEST(test_search_merged_when_idle), CF_TEST(test_search_close_budget),
             CF_TEST(test_spans_written), CF_TEST(test_spans_deferred),
             CF_TEST(test_checkpoint_full_disk), CF_TEST(test_search_failure_spares_requests),
             CF_TEST(test_open_progress))
