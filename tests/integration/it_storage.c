/* SPDX-License-Identifier: MIT
 * it_storage: the archive cannot be written, for real. (1) Another connection
 * holds the database's write lock: ingest answers busy naming the lock, never
 * accepted, and accepts again by itself once the lock is gone. (2) The disk
 * fills up (RLIMIT_FSIZE set on the running daemon with prlimit): busy naming
 * the cause, /healthz 503, no acknowledged article lost, accepted again once space
 * is back. (3) A reader's snapshot keeps the close from emptying the log: said.
 * (4) A result the archive refuses alone is an attempt, then quarantined. (5) A
 * damaged page the open does not read: said as damage, naming `cloudfact check`. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zmq.h>

#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

static void *zctx, *dealer;

/* Pushes one article on a raw DEALER and returns its status (error copied out). */
static int
push_one(const char *url, size_t body_len, char *error, size_t errsz)
{
    cf_article_t a = {0};
    a.url = (char *)url;
    a.title = "Storage";
    char *body = malloc(body_len + 1);
    for (size_t i = 0; i < body_len; i++)
        body[i] = "Oracle opened data centers in Madrid. "[i % 38];
    body[body_len] = '\0';
    a.body = body;
    a.body_len = body_len;
    it_send_article(dealer, &a);
    free(body);
    zmq_msg_t m;
    zmq_msg_init(&m);
    CHECK(zmq_msg_recv(&m, dealer, 0) >= 0, "no answer to %s", url);
    cf_msg_t r;
    cf_err_t err;
    CHECK(cf_msg_decode(CF_CHAN_INGEST_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), &r, &err) ==
              CF_OK,
          "bad reply: %s", err.text);
    zmq_msg_close(&m);
    int rc = r.u.reply.rc;
    snprintf(error, errsz, "%s", r.u.reply.error ? r.u.reply.error : "");
    cf_msg_clear(&r);
    return rc;
}

static int64_t
count_url(const it_daemon_t *d, const char *url)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM articles WHERE url = '%s'", url);
    return it_sql_int(d, sql);
}

/* (3) A read-only archive. Linux will not remount a file system read-only while
 * the daemon holds the archive open for writing, so this is the case at start:
 * the daemon must refuse with a clear reason (exit 1), not half-start, and start
 * normally once the file system is writable again. Needs CAP_SYS_ADMIN to mount;
 * without it this part says so and is skipped. */
static void
read_only_archive(const it_daemon_t *d)
{
    char dir[256], cmd[2048];
    snprintf(dir, sizeof dir, "%.200s/ro", d->dir); /* mkdtemp names are short */
    mkdir(dir, 0750);
    if (mount("tmpfs", dir, "tmpfs", 0, "size=32m") != 0) {
        printf("skip read-only archive: cannot mount here (%s)\n", strerror(errno));
        return;
    }
    snprintf(cmd, sizeof cmd,
             "timeout 60 '%s' --state-dir '%s' --workers 0 --http off --ingest %s --publish %s "
             "--query %s --check-config >/dev/null",
             it_bin("cloudfactd"), dir, d->ingest, d->publish, d->query);
    CHECK(system(cmd) == 0, "check-config");
    /* create the archive, then make the file system read-only */
    it_daemon_t r = *d;
    snprintf(r.dir, sizeof r.dir, "%.240s", dir);
    snprintf(r.db, sizeof r.db, "%.240s/cloudfact.db", dir);
    snprintf(r.worker_ep, sizeof r.worker_ep, "ipc://%.240s/workers.sock", d->dir);
    snprintf(r.log, sizeof r.log, "%.240s/ro.log", d->dir);
    const char *extra[] = {"--http", "off", NULL};
    it_daemon_start(&r, 0, extra);
    CHECK(WIFEXITED(it_daemon_stop(&r, SIGTERM, 60)), "stop");
    CHECK(mount(NULL, dir, NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0, "remount ro: %m");
    snprintf(cmd, sizeof cmd,
             "timeout 60 '%s' --state-dir '%s' --workers 0 --http off --ingest %s --publish %s "
             "--query %s --worker-endpoint ipc://%s/w2.sock > '%s/ro-start.log' 2>&1",
             it_bin("cloudfactd"), dir, d->ingest, d->publish, d->query, d->dir, d->dir);
    int st = system(cmd);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1, "on a read-only archive: status 0x%x", st);
    char path[400];
    snprintf(path, sizeof path, "%.300s/ro-start.log", d->dir);
    FILE *f = fopen(path, "r");
    char text[4096] = "";
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = '\0';
    if (f)
        fclose(f);
    CHECK(strstr(text, "read-only") || strstr(text, "readonly") || strstr(text, "Read-only"),
          "the refusal does not say the archive is read-only:\n%s", text);
    CHECK(mount(NULL, dir, NULL, MS_REMOUNT, NULL) == 0, "remount rw: %m");
    it_daemon_start(&r, 0, extra);
    CHECK(WIFEXITED(it_daemon_stop(&r, SIGTERM, 60)), "stop");
    umount(dir);
    printf("ok   read-only archive: the daemon refuses to start, naming it; starts once writable\n");
}

/* (5) A page inside the file is damaged where the open does not read it (the facts'
 * article index, read and written only with facts): the daemon starts, and every
 * batch that stores facts rolls back. The log says the file is damaged and names
 * `cloudfact check`, once per 10 s and not once per retry. */
static void
damaged_page(it_daemon_t *d)
{
    /* (3) left the log in place: fold it into the file first, or its copy of the page
     * would be read instead of the damaged one */
    sqlite3 *db;
    CHECK(sqlite3_open(d->db, &db) == SQLITE_OK &&
              sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) == SQLITE_OK,
          "checkpoint: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    int64_t page = it_sql_int(d, "SELECT rootpage FROM sqlite_master WHERE name = 'facts_article'");
    int64_t size = it_sql_int(d, "PRAGMA page_size");
    CHECK(page > 1 && size >= 512, "facts_article at page %lld of %lld bytes", (long long)page,
          (long long)size);
    FILE *f = fopen(d->db, "r+b");
    CHECK(f && fseek(f, (long)((page - 1) * size), SEEK_SET) == 0, "open %s", d->db);
    for (int64_t i = 0; i < size; i++)
        fputc(0xff, f);
    CHECK(fclose(f) == 0, "write %s", d->db);
    size_t said0 = it_log_count(d, "batch rolled back"); /* the disk-full case's */
    it_daemon_start(d, 1, NULL);
    uint64_t rb0 = it_stat(d, "cloudfact_archive_rollbacks_total");
    it_push_one(d, "https://example.test/s/damaged",
                "Amazon Web Services opened a data center in Oslo.");
    it_wait_log(d,
                "cloudfact.db is damaged (database disk image is malformed): nothing more can "
                "be stored; stop the daemon and see `cloudfact check --state-dir",
                1, 30);
    it_wait_stat(d, "cloudfact_archive_rollbacks_total", rb0 + 3, 30); /* retried each second */
    CHECK(it_log_count(d, "batch rolled back") == said0 + 1,
          "%zu lines for %llu rolled-back batches in a few seconds",
          it_log_count(d, "batch rolled back") - said0,
          (unsigned long long)(it_stat(d, "cloudfact_archive_rollbacks_total") - rb0));
    int ws = it_daemon_stop(d, SIGKILL, 30);
    CHECK(WIFSIGNALED(ws), "cloudfactd: 0x%x", ws);
    printf("ok   a damaged page: said once, naming cloudfact check, not at every retry\n");
}

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    it_daemon_start(&d, 1, NULL);
    zctx = zmq_ctx_new();
    dealer = zmq_socket(zctx, ZMQ_DEALER);
    int timeout = 30000, linger = 0;
    zmq_setsockopt(dealer, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(dealer, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(dealer, d.ingest);
    char why[512];
    CHECK(push_one("https://example.test/s/warm", 200, why, sizeof why) == CF_OK, "warm-up");

    /* (1) a locked database */
    sqlite3 *db;
    CHECK(sqlite3_open(d.db, &db) == SQLITE_OK, "open");
    sqlite3_busy_timeout(db, 10000); /* the daemon's writer may be mid-commit */
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "lock: %s",
          sqlite3_errmsg(db));
    int rc = push_one("https://example.test/s/locked", 200, why, sizeof why);
    CHECK(rc == CF_EBUSY, "with the database locked: %s, expected busy", cf_msg_status_name(rc));
    CHECK(strstr(why, "locked"), "busy does not name the lock: '%s'", why);
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
    CHECK(count_url(&d, "https://example.test/s/locked") == 0, "a busy article was stored");
    rc = push_one("https://example.test/s/locked", 200, why, sizeof why);
    CHECK(rc == CF_OK, "after the lock: %s %s", cf_msg_status_name(rc), why);
    printf("ok   locked database: busy naming the lock, then accepted again by itself\n");

    /* one client cannot fill the queue: with nothing committing (the lock again), its
     * requests beyond CF_MAX_INFLIGHT are refused at once, the rest wait and land */
    CHECK(sqlite3_open(d.db, &db) == SQLITE_OK, "open");
    sqlite3_busy_timeout(db, 10000);
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "lock");
    const int burst = 1100;
    for (int i = 0; i < burst; i++) {
        cf_article_t a = {0};
        char u[96];
        snprintf(u, sizeof u, "https://example.test/s/burst/%d", i);
        a.url = u;
        a.title = "Burst";
        a.body = "IBM opened two data centers in Dallas.";
        a.body_len = strlen(a.body);
        it_send_article(dealer, &a);
    }
    int refused = 0, acked = 0, other = 0;
    for (int i = 0; i < burst; i++) {
        if (i == burst - 1000) { /* the refusals are in: let the rest commit */
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            sqlite3_close(db);
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        CHECK(zmq_msg_recv(&m, dealer, 0) >= 0, "burst: reply %d missing", i);
        cf_msg_t r;
        cf_err_t err;
        CHECK(cf_msg_decode(CF_CHAN_INGEST_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), &r,
                            &err) == CF_OK,
              "burst: %s", err.text);
        if (r.u.reply.rc == CF_EINVAL && r.u.reply.error && strstr(r.u.reply.error, "in flight"))
            refused++;
        else if (r.u.reply.rc == CF_OK)
            acked++;
        else
            other++;
        cf_msg_clear(&r);
        zmq_msg_close(&m);
    }
    CHECK(refused == burst - 1000 && acked == 1000 && other == 0,
          "burst of %d: %d refused for too many in flight, %d accepted, %d other", burst,
          refused, acked, other);
    printf("ok   one client, %d requests while nothing commits: 1000 in flight, %d refused\n",
           burst, refused);

    /* the lock is gone: wait for a write probe to commit again (one a second), so
     * that /healthz below speaks of the full disk, not of the lock before it */
    int hport = atoi(strrchr(d.http, ':') + 1);
    for (int i = 0; i < 100; i++) {
        char *h = NULL;
        it_http_get(hport, "GET", "/healthz", &h);
        bool stale = h && strstr(h, "archive not writable");
        free(h);
        if (!stale)
            break;
        usleep(100 * 1000);
    }

    /* (2) the disk fills up: a file-size limit just above the database file. Not
     * above the WAL: it is 8 MiB of zeros from the start and begins again at its top
     * after each checkpoint, so whether its frames ever reached a limit past its size
     * depended on how often the writer found time to checkpoint; a limit this low
     * is met by the WAL's frames within a few articles, whatever the timing. */
    struct stat st;
    off_t have = 0;
    if (stat(d.db, &st) == 0)
        have = st.st_size;
    struct rlimit small = {(rlim_t)have + 256 * 1024, RLIM_INFINITY}; /* soft only: reversible */
    struct rlimit big = {RLIM_INFINITY, RLIM_INFINITY};
    CHECK(prlimit(d.pid, RLIMIT_FSIZE, &small, NULL) == 0, "prlimit: %m");
    int accepted = 0, busy = 0, sent = 0;
    int status[200];
    char busy_why[512] = "";
    char url[128];
    for (int i = 0; i < 200 && busy < 3; i++, sent++) {
        snprintf(url, sizeof url, "https://example.test/s/full/%d", i);
        rc = status[i] = push_one(url, 60000, why, sizeof why);
        if (rc == CF_OK)
            accepted++;
        else if (rc == CF_EBUSY) {
            busy++;
            snprintf(busy_why, sizeof busy_why, "%s", why);
        } else
            it_fail("disk full: %s %s", cf_msg_status_name(rc), why);
    }
    CHECK(busy > 0, "the file-size limit never made ingest busy (%d accepted)", accepted);
    printf("     disk full after %d accepted: busy '%s'\n", accepted, busy_why);
    /* the health check says so too: its probe writes nothing and commits, but the
     * batches that grow the file roll back */
    char *health = NULL;
    int code = it_http_get(hport, "GET", "/healthz", &health);
    /* the reason: a batch that rolled back, or the probe itself when it shared one;
     * either way the full disk's error, not the lock's before it */
    CHECK(code == 503 &&
              (strstr(health, "archive failed to store a batch") ||
               strstr(health, "archive not writable")) &&
              !strstr(health, "locked"),
          "/healthz with a full disk: %d %s", code, health);
    free(health);
    CHECK(prlimit(d.pid, RLIMIT_FSIZE, &big, NULL) == 0, "prlimit: %m");
    /* every acknowledged article is there; the refused ones are not (an insert may
     * succeed between refusals, e.g. after a checkpoint frees the WAL's space) */
    int last_refused = -1;
    char answers[256] = "";
    for (int i = 0; i < sent && i < 60; i++)
        strcat(answers, status[i] == CF_OK ? "A" : "B");
    for (int i = 0; i < sent; i++) {
        snprintf(url, sizeof url, "https://example.test/s/full/%d", i);
        if (status[i] == CF_OK)
            CHECK(count_url(&d, url) == 1, "acknowledged %s is missing (answers %s)", url,
                  answers);
        else {
            CHECK(count_url(&d, url) == 0, "%s was answered busy but stored (answers %s)", url,
                  answers);
            last_refused = i;
        }
    }
    snprintf(url, sizeof url, "https://example.test/s/full/%d", last_refused);
    /* space is back: ingest resumes by itself */
    rc = CF_EBUSY;
    for (int i = 0; i < 50 && rc == CF_EBUSY; i++)
        rc = push_one(url, 60000, why, sizeof why);
    CHECK(rc == CF_OK, "after space came back: %s %s", cf_msg_status_name(rc), why);
    it_wait_stat(&d, "cloudfact_articles_done", (uint64_t)accepted + 1003, 120);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state <> 'done'") == 0,
          "articles left unfinished");
    printf("ok   disk full: busy naming the cause, nothing acknowledged lost, then resumed\n");

    char *log = NULL;
    size_t cap = 0;
    FILE *f = fopen(d.log, "r");
    CHECK(f && getdelim(&log, &cap, '\0', f) > 0, "no log");
    fclose(f);
    CHECK(strstr(log, "answered busy"), "the daemon did not log why it answered busy");
    free(log);

    /* (4) the archive refuses one article's result for a reason of its own (a
     * trigger here; a constraint the worker's facts break would do the same): each
     * refusal is an attempt, and the article ends quarantined at max_attempts with
     * the archive's reason instead of being retried for ever; the next one is done */
    CHECK(sqlite3_open(d.db, &db) == SQLITE_OK, "open");
    sqlite3_busy_timeout(db, 10000);
    CHECK(sqlite3_exec(db,
                       "CREATE TRIGGER refuse BEFORE INSERT ON facts WHEN NEW.article = "
                       "(SELECT id FROM articles WHERE url = 'https://example.test/s/refused')"
                       " BEGIN SELECT RAISE(ABORT, 'refused by the test'); END",
                       NULL, NULL, NULL) == SQLITE_OK,
          "trigger: %s", sqlite3_errmsg(db));
    uint64_t done0 = it_stat(&d, "cloudfact_articles_done");
    uint64_t failed0 = it_stat(&d, "cloudfact_articles_failed");
    CHECK(push_one("https://example.test/s/refused", 300, why, sizeof why) == CF_OK, "%s", why);
    CHECK(push_one("https://example.test/s/after-refused", 300, why, sizeof why) == CF_OK, "%s",
          why);
    it_wait_stat(&d, "cloudfact_articles_failed", failed0 + 1, 60);
    it_wait_stat(&d, "cloudfact_articles_done", done0 + 1, 60);
    CHECK(it_sql_int(
              &d, "SELECT count(*) FROM articles WHERE url = "
                  "'https://example.test/s/refused' AND state = 'failed' AND attempts = 3"
                  " AND error LIKE 'the archive refused the result: %refused by the test%'") == 1,
          "the refused article is not quarantined after 3 attempts with the archive's reason");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM facts WHERE article = (SELECT id FROM articles"
                         " WHERE url = 'https://example.test/s/refused')") == 0,
          "facts of a refused result were stored");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM facts WHERE article = (SELECT id FROM articles"
                         " WHERE url = 'https://example.test/s/after-refused')") > 0,
          "the article after the refused one has no facts");
    CHECK(sqlite3_exec(db, "DROP TRIGGER refuse", NULL, NULL, NULL) == SQLITE_OK, "drop: %s",
          sqlite3_errmsg(db));
    sqlite3_close(db);
    printf("ok   a result the archive refuses: an attempt each time, then quarantined\n");

    /* (3) a reader holds a snapshot while the daemon stops: the log cannot be
     * emptied, and the daemon says so (the .db file alone is not the archive then) */
    zmq_close(dealer);
    zmq_ctx_term(zctx);
    sqlite3 *reader;
    CHECK(sqlite3_open_v2(d.db, &reader, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open reader");
    CHECK(sqlite3_exec(reader, "BEGIN; SELECT count(*) FROM articles;", NULL, NULL, NULL) ==
              SQLITE_OK,
          "reader: %s", sqlite3_errmsg(reader));
    int64_t stored = it_sql_int(&d, "SELECT count(*) FROM articles");
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    CHECK(it_log_count(&d, "write-ahead log could not be emptied at close") == 1,
          "a close that left the log in place was not logged");
    sqlite3_close(reader);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles") == stored,
          "articles lost with the log left in place");
    printf("ok   a reader's snapshot at close: the log is kept, and the daemon says so\n");
    damaged_page(&d);
    read_only_archive(&d);
    it_daemon_cleanup(&d);
    printf("it_storage: all checks passed\n");
    return 0;
}
