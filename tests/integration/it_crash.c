/* SPDX-License-Identifier: MIT
 * it_crash: the damage done for real. (1) SIGKILL to cloudfactd at a random
 * moment of a 10,000-article push (CF_TEST_SCALE scales it): after a restart
 * on the same state directory every acknowledged article is there and ends done
 * with exactly its facts, nothing is stored twice, re-pushing everything is
 * safe, integrity_check is ok. (2) SIGKILL to workers while they work: the run
 * still ends with the same facts as the extractor gives. (3) SIGTERM during a
 * full-speed push: exit 0, and the next start finishes the rest. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cf_client.h"
#include "cf_extract.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

static const char *const companies[] = {"Amazon Web Services", "Microsoft Azure", "Google Cloud",
                                        "IBM", "Oracle", "Alibaba Cloud", "Tencent Cloud"};
static const char *const cities[] = {"Frankfurt", "Oslo", "Sydney", "Toronto", "Mumbai",
                                     "Dublin", "Seoul", "Madrid"};

/* Article i of a batch: distinct url and body, facts of several types. */
static void
make_article(cf_article_t *a, const char *batch, size_t i)
{
    char url[128], body[600];
    snprintf(url, sizeof url, "https://example.test/%s/%zu", batch, i);
    const char *c = companies[i % 7], *city = cities[(i / 7) % 8];
    snprintf(body, sizeof body,
             "%s said on Monday that it will open %zu new data centers in %s. The company "
             "now has %zu,%03zu customers, and its revenue rose %zu percent to $%zu million "
             "in the quarter.",
             c, 2 + i % 9, city, 10 + i % 90, i % 1000, 5 + i % 40, 100 + i);
    memset(a, 0, sizeof *a);
    a->url = cf_strdup(url);
    a->title = cf_strdup("Cloud news");
    a->body = cf_strdup(body);
    a->body_len = strlen(body);
}

/* "type|subject|value|start|end" of each fact, sorted, one string per article. */
static char *
fact_signature(const cf_facts_t *facts)
{
    size_t n = facts->n, len = 1;
    char **lines = calloc(n ? n : 1, sizeof *lines);
    for (size_t i = 0; i < n; i++) {
        const cf_fact_t *f = &facts->v[i];
        if (asprintf(&lines[i], "%s|%s|%.3f|%llu|%llu;", f->type, f->subject,
                     f->has_value ? f->value : -1.0, (unsigned long long)f->evidence_start,
                     (unsigned long long)f->evidence_end) < 0)
            it_fail("asprintf");
        len += strlen(lines[i]);
    }
    for (size_t i = 1; i < n; i++) /* insertion sort: a handful per article */
        for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
            char *t = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = t;
        }
    char *sig = calloc(1, len);
    for (size_t i = 0; i < n; i++) {
        strcat(sig, lines[i]);
        free(lines[i]);
    }
    free(lines);
    return sig;
}

typedef struct batch {
    const char *name;
    size_t n;
    cf_article_t *arts;
    char **expected;   /* fact signature per article, from the extractor in-process */
    int *status;       /* last push's statuses */
    uint64_t *ids;
} batch_t;

static void
batch_make(batch_t *b, const char *name, size_t n, cf_extractor_t *ex)
{
    b->name = name;
    b->n = n;
    b->arts = calloc(n, sizeof *b->arts);
    b->expected = calloc(n, sizeof *b->expected);
    b->status = calloc(n, sizeof *b->status);
    b->ids = calloc(n, sizeof *b->ids);
    size_t with_facts = 0;
    for (size_t i = 0; i < n; i++) {
        make_article(&b->arts[i], name, i);
        cf_facts_t facts = {0};
        cf_class_t cls = {0};
        cf_err_t err;
        CHECK(cf_extract_article(ex, &b->arts[i], &facts, &cls, &err) == CF_OK, "extract: %s",
              err.text);
        with_facts += facts.n > 0;
        b->expected[i] = fact_signature(&facts);
        cf_facts_clear(&facts);
        cf_class_clear(&cls);
    }
    CHECK(with_facts == n, "only %zu of %zu generated articles have facts", with_facts, n);
}

typedef struct push_job {
    const it_daemon_t *d;
    batch_t *b;
} push_job_t;

/* A push that gives up quickly on a dead daemon: 500 ms, one resend. */
static void *
push_thread(void *arg)
{
    push_job_t *j = arg;
    it_push_with(j->d, j->b->arts, j->b->n, j->b->status, j->b->ids, 500, 1);
    return NULL;
}

static void
batch_free(batch_t *b)
{
    for (size_t i = 0; i < b->n; i++) {
        cf_article_clear(&b->arts[i]);
        free(b->expected[i]);
    }
    free(b->arts);
    free(b->expected);
    free(b->status);
    free(b->ids);
}

/* Every article of b is done in the archive with exactly the expected facts. */
static void
check_archive(const it_daemon_t *d, const batch_t *b)
{
    sqlite3 *db;
    sqlite3_stmt *art, *fs;
    CHECK(sqlite3_open_v2(d->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open db");
    CHECK(sqlite3_prepare_v2(db, "SELECT id, state FROM articles WHERE url = ?1", -1, &art,
                             NULL) == SQLITE_OK,
          "prepare");
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT type, subject, value, evidence_start, evidence_end FROM "
                             "facts WHERE article = ?1",
                             -1, &fs, NULL) == SQLITE_OK,
          "prepare");
    for (size_t i = 0; i < b->n; i++) {
        sqlite3_bind_text(art, 1, b->arts[i].url, -1, SQLITE_STATIC);
        CHECK(sqlite3_step(art) == SQLITE_ROW, "%s is not in the archive", b->arts[i].url);
        int64_t id = sqlite3_column_int64(art, 0);
        CHECK(strcmp((const char *)sqlite3_column_text(art, 1), "done") == 0, "%s is %s",
              b->arts[i].url, sqlite3_column_text(art, 1));
        sqlite3_reset(art);
        cf_facts_t got = {0};
        sqlite3_bind_int64(fs, 1, id);
        while (sqlite3_step(fs) == SQLITE_ROW) {
            cf_fact_t *f = cf_facts_push(&got);
            f->type = cf_strdup((const char *)sqlite3_column_text(fs, 0));
            f->subject = cf_strdup((const char *)sqlite3_column_text(fs, 1));
            f->has_value = sqlite3_column_type(fs, 2) != SQLITE_NULL;
            f->value = sqlite3_column_double(fs, 2);
            f->evidence_start = (uint64_t)sqlite3_column_int64(fs, 3);
            f->evidence_end = (uint64_t)sqlite3_column_int64(fs, 4);
        }
        sqlite3_reset(fs);
        char *sig = fact_signature(&got);
        CHECK(strcmp(sig, b->expected[i]) == 0, "%s: facts differ\n archive:   %s\n expected:  %s",
              b->arts[i].url, sig, b->expected[i]);
        free(sig);
        cf_facts_clear(&got);
    }
    sqlite3_finalize(art);
    sqlite3_finalize(fs);
    sqlite3_close(db);
}

static void
check_integrity(const it_daemon_t *d)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open_v2(d->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open db");
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL);
    CHECK(sqlite3_step(st) == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 0),
                                                   "ok") == 0,
          "integrity_check: %s", sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void
repush_all_safe(const it_daemon_t *d, batch_t *b, const int *first)
{
    it_push(d, b->arts, b->n, b->status, b->ids);
    for (size_t i = 0; i < b->n; i++) {
        CHECK(b->status[i] == CF_OK || b->status[i] == CF_EDUP, "%s: re-push gave %s",
              b->arts[i].url, cf_msg_status_name(b->status[i]));
        if (first && first[i] == CF_OK)
            CHECK(b->status[i] == CF_EDUP, "%s was acknowledged, but the re-push stored it again",
                  b->arts[i].url);
    }
}

int
main(void)
{
    size_t n = (size_t)(10000 * it_scale());
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    printf("seed %u, %zu articles per batch\n", seed, n);
    cf_err_t err;
    cf_extractor_t *ex = cf_extract_new(cf_extract_data_dir(NULL), &err);
    CHECK(ex, "extractor: %s", err.text);

    it_daemon_t d;
    it_daemon_init(&d);
    const char *extra[] = {"--max-attempts", "20", "--log-level", "info", NULL};
    it_daemon_start(&d, 2, extra);

    /* (1) SIGKILL at a random moment of the push, taken from the daemon's own count of
     * acknowledgements. The kill follows the first count read at or past the target;
     * a fast push (the sanitizer tree's 1,000 articles) can finish within that read's
     * round trip and leave nothing at stake: the step then runs again on a fresh
     * state directory with an earlier target, three times at most. */
    batch_t a;
    batch_make(&a, "a", n, ex);
    pthread_t t;
    uint64_t target;
    int *first = calloc(n, sizeof *first);
    size_t acked = n;
    for (int attempt = 0; attempt < 3 && acked == n; attempt++) {
        if (attempt > 0) {
            printf("the push finished before the kill; again on a fresh archive\n");
            it_daemon_cleanup(&d);
            it_daemon_init(&d);
            it_daemon_start(&d, 2, extra);
        }
        memset(a.status, 0, n * sizeof *a.status);
        memset(a.ids, 0, n * sizeof *a.ids);
        push_job_t job = {&d, &a};
        pthread_create(&t, NULL, push_thread, &job);
        size_t span = (n * 7 / 10) >> attempt;
        target = n / 10 + (uint64_t)rand() % (span ? span : 1);
        while (it_stat(&d, "cloudfact_articles_accepted_total") < target)
            usleep(2000);
        it_daemon_stop(&d, SIGKILL, 30); /* its ports stay held for the restart */
        pthread_join(t, NULL);
        acked = 0;
        for (size_t i = 0; i < n; i++) {
            first[i] = a.status[i];
            acked += a.status[i] == CF_OK;
        }
        printf("killed the daemon with %zu of %zu articles acknowledged\n", acked, n);
    }
    CHECK(acked < n, "the push finished before the kill three times: nothing was at stake");
    /* acknowledged means stored, before any restart */
    for (size_t i = 0; i < n; i++) {
        if (first[i] != CF_OK)
            continue;
        char sql[200];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM articles WHERE id = %llu",
                 (unsigned long long)a.ids[i]);
        CHECK(it_sql_int(&d, sql) == 1, "acknowledged article %llu is not in the archive",
              (unsigned long long)a.ids[i]);
    }
    it_daemon_start(&d, 2, extra);
    repush_all_safe(&d, &a, first);
    for (int i = 0; i < 6000; i++) {
        if (it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'done'") == (int64_t)n)
            break;
        usleep(50 * 1000);
    }
    check_archive(&d, &a);
    check_integrity(&d);
    printf("ok   SIGKILL mid-push: every acknowledged article done with its facts, none twice\n");

    /* (2) SIGKILL to workers while they work */
    batch_t b;
    batch_make(&b, "b", n, ex);
    pthread_create(&t, NULL, push_thread, &(push_job_t){&d, &b});
    uint64_t restarted = it_stat(&d, "cloudfact_workers_restarted_total");
    int kills = 0;
    for (int round = 0; round < 6; round++) {
        usleep(300 * 1000);
        char cmd[200];
        snprintf(cmd, sizeof cmd, "pkill -KILL -P %d -f cloudfact-worker", (int)d.pid);
        kills += system(cmd) == 0;
    }
    pthread_join(t, NULL);
    for (size_t i = 0; i < n; i++)
        CHECK(b.status[i] == CF_OK, "%s: %s", b.arts[i].url, cf_msg_status_name(b.status[i]));
    for (int i = 0; i < 6000; i++) {
        if (it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'done'") ==
            (int64_t)(2 * n))
            break;
        usleep(50 * 1000);
    }
    CHECK(kills > 0, "no worker was there to kill");
    CHECK(it_stat(&d, "cloudfact_workers_restarted_total") > restarted, "no worker restarted");
    check_archive(&d, &b);
    printf("ok   %d rounds of worker kills: the same facts as without them\n", kills);

    /* (3) SIGTERM during a full-speed push: exit 0; the next start finishes */
    batch_t c;
    batch_make(&c, "c", n, ex);
    pthread_create(&t, NULL, push_thread, &(push_job_t){&d, &c});
    uint64_t before = it_stat(&d, "cloudfact_articles_accepted_total");
    target = before + n / 10 + (uint64_t)rand() % (n * 7 / 10);
    while (it_stat(&d, "cloudfact_articles_accepted_total") < target)
        usleep(2000);
    int ws = it_daemon_stop(&d, SIGTERM, 30);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "exit status 0x%x after SIGTERM mid-push", ws);
    pthread_join(t, NULL);
    it_daemon_start(&d, 2, extra);
    int *firstc = calloc(n, sizeof *firstc);
    memcpy(firstc, c.status, n * sizeof *firstc);
    repush_all_safe(&d, &c, firstc);
    for (int i = 0; i < 6000; i++) {
        if (it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'done'") ==
            (int64_t)(3 * n))
            break;
        usleep(50 * 1000);
    }
    check_archive(&d, &c);
    check_integrity(&d);
    printf("ok   SIGTERM mid-push: exit 0; the next start finished every article\n");

    ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "final exit 0x%x", ws);
    batch_free(&a);
    batch_free(&b);
    batch_free(&c);
    free(first);
    free(firstc);
    it_daemon_cleanup(&d);
    cf_extract_destroy(&ex);
    printf("it_crash: all checks passed\n");
    return 0;
}
