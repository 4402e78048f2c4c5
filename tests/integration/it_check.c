/* SPDX-License-Identifier: MIT
 * it_check: `cloudfact check` and the daemon's refusals. check refuses while a
 * daemon holds the state directory; finds articles stuck in impossible states and
 * says what it would do; --repair does it; the daemon refuses a corrupt, foreign
 * or newer archive naming the check command and leaves the file as it was; the
 * span tables are checked against the facts and rebuilt by --repair; and
 * `cloudfact stats` is a summary at a terminal, JSON otherwise. */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cf_archive.h"
#include "cf_text.h"
#include "harness.h"

/* Runs a shell command line; returns its exit status and its output (stdout and
 * stderr) in *out (caller frees). */
static int
run(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
run(char **out, const char *fmt, ...)
{
    char cmd[4096], path[] = "/tmp/cf-it-check-out-XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0, "mkstemp: %s", strerror(errno));
    close(fd);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(cmd, sizeof cmd - 400, fmt, ap);
    va_end(ap);
    CHECK(n > 0 && (size_t)n < sizeof cmd - 400, "command too long");
    snprintf(cmd + n, sizeof cmd - (size_t)n, " >'%s' 2>&1", path);
    int status = system(cmd);
    FILE *f = fopen(path, "r");
    CHECK(f, "open %s", path);
    char *buf = cf_calloc(1, 65536);
    size_t len = fread(buf, 1, 65535, f);
    buf[len] = '\0';
    fclose(f);
    unlink(path);
    *out = buf;
    CHECK(WIFEXITED(status), "%s: did not exit", cmd);
    return WEXITSTATUS(status);
}

static void
sql(const char *db_path, const char *stmt)
{
    sqlite3 *db;
    char *msg = NULL;
    CHECK(sqlite3_open(db_path, &db) == SQLITE_OK, "open %s", db_path);
    CHECK(sqlite3_exec(db, stmt, NULL, NULL, &msg) == SQLITE_OK, "%s: %s", stmt,
          msg ? msg : "?");
    sqlite3_close(db);
}

/* The daemon must refuse the archive with exit 1, naming `cloudfact check`, and
 * leave the file byte for byte as it was (exact), or at least keep its size: today
 * cf_archive switches a foreign file to WAL (header bytes 18-19) before it sees the
 * foreign tables; the rows stay (checked by the caller). */
static void
expect_refused(const char *dir, const char *what, bool exact)
{
    char db[400];
    snprintf(db, sizeof db, "%s/cloudfact.db", dir);
    size_t before_len, after_len;
    char *before = it_slurp(db, &before_len);
    it_daemon_t d;
    it_daemon_init(&d); /* only for free ports */
    char *out;
    int rc = run(&out,
                 "'%s' --state-dir '%s' --workers 0 --http off --ingest %s --publish %s "
                 "--query %s --worker-endpoint ipc://%s/w.sock",
                 it_bin("cloudfactd"), dir, d.ingest, d.publish, d.query, dir);
    CHECK(rc == 1, "%s archive: cloudfactd exited %d, expected 1: %s", what, rc, out);
    char needle[400];
    snprintf(needle, sizeof needle, "cloudfact check --state-dir %s", dir);
    CHECK(strstr(out, needle), "%s archive: the refusal does not name `%s`: %s", what, needle,
          out);
    free(out);
    char *after = it_slurp(db, &after_len);
    CHECK(before_len == after_len && (!exact || memcmp(before, after, before_len) == 0),
          "%s archive: the daemon changed the file", what);
    free(before);
    free(after);
    rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), dir);
    CHECK(rc == 1, "%s archive: check exited %d: %s", what, rc, out);
    CHECK(strstr(out, "cannot fix"), "%s archive: check output: %s", what, out);
    free(out);
    rc = run(&out, "'%s' check --state-dir '%s' --repair", it_bin("cloudfact"), dir);
    CHECK(rc == 1, "%s archive: check --repair exited %d: %s", what, rc, out);
    free(out);
    after = it_slurp(db, &after_len);
    CHECK(before_len == after_len, "%s archive: check --repair changed the file", what);
    free(after);
    it_daemon_cleanup(&d);
}

/* check run by root must leave the lock file to the directory's owner (the daemon's
 * user could not open one of root's and would not start); check run by a user who
 * can read the archive but not write beside it says so, and calls nothing corrupt.
 * Both need root (to give files away); setpriv runs check as that other user. */
static void
check_as_others(it_daemon_t *d)
{
    if (geteuid() != 0 || system("command -v setpriv >/dev/null 2>&1") != 0) {
        printf("skip check as root for another user's directory (not root, or no setpriv)\n");
        return;
    }
    char lock[600], cmd[2400];
    snprintf(lock, sizeof lock, "%s/cloudfactd.lock", d->dir);
    unlink(lock);
    snprintf(cmd, sizeof cmd, "chown -R 4242:4242 '%s'", d->dir);
    CHECK(system(cmd) == 0, "%s", cmd);
    char *out;
    int rc = run(&out, "'%s' check --state-dir '%s' --repair", it_bin("cloudfact"), d->dir);
    struct stat st;
    CHECK(rc == 0 && stat(lock, &st) == 0 && st.st_uid == 4242 && st.st_gid == 4242,
          "check as root left the lock file to uid %u (status %d): %s", (unsigned)st.st_uid, rc,
          out);
    free(out);
    /* a reader who cannot create the -shm file beside a cleanly closed archive */
    snprintf(cmd, sizeof cmd, "chown -R 0:0 '%s' && chmod 0755 '%s' && chmod 0644 '%s' '%s'",
             d->dir, d->dir, d->db, lock);
    CHECK(system(cmd) == 0, "%s", cmd);
    rc = run(&out, "setpriv --reuid=4242 --regid=4242 --clear-groups '%s' check --state-dir '%s'",
             it_bin("cloudfact"), d->dir);
    CHECK(rc == 1 && strstr(out, "no sign of corruption") && !strstr(out, "corrupt ") &&
              !strstr(out, "backup"),
          "check by a reader who cannot write there: %d %s", rc, out);
    free(out);
    printf("ok   check as root leaves the lock to the directory's owner; a reader without "
           "write access is told why, not 'corrupt'\n");
}

static void
test_check_and_repair(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    it_daemon_start(&d, 1, NULL);
    cf_article_t a = {0};
    a.url = cf_strdup("https://example.com/check/1");
    a.title = cf_strdup("Check");
    a.body = cf_strdup("AWS opened a data center in Frankfurt in 2015.");
    a.body_len = strlen(a.body);
    int status;
    uint64_t id;
    it_push(&d, &a, 1, &status, &id);
    CHECK(status == CF_OK, "push: %d", status);
    it_wait_stat(&d, "cloudfact_articles_done", 1, 60);

    /* a running daemon holds the directory: check refuses */
    char *out;
    int rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), d.dir);
    CHECK(rc == 1 && strstr(out, "in use by pid"), "check beside a daemon: %d %s", rc, out);
    free(out);

    /* stats: JSON when piped, a summary at a terminal (script(1) gives it one) */
    rc = run(&out, "'%s' stats --endpoint %s", it_bin("cloudfact"), d.query);
    CHECK(rc == 0 && out[0] == '{' && strstr(out, "\"cloudfact_queue_depth\":0") &&
              strstr(out, "\"cloudfact_search_backlog\":") &&
              strstr(out, "\"cloudfact_archive_checkpoint_failures_total\":0"),
          "stats piped: %s", out);
    free(out);
    if (system("command -v script >/dev/null 2>&1") == 0) {
        rc = run(&out, "script -qec \"'%s' stats --endpoint %s\" /dev/null",
                 it_bin("cloudfact"), d.query);
        CHECK(rc == 0 && strstr(out, "queue ") && strstr(out, "workers ") &&
                  strstr(out, "archive ") && strstr(out, "waiting to be indexed for text search") &&
                  !strchr(out, '{'),
              "stats at a terminal: %s", out);
        free(out);
    }

    status = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "daemon exit 0x%x", status);

    /* a clean archive */
    rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), d.dir);
    CHECK(rc == 0 && strstr(out, "result    sound"), "clean archive: %d %s", rc, out);
    free(out);

    /* impossible states, as a crash or a hand edit leaves them */
    sql(d.db, "UPDATE articles SET state = 'processing' WHERE state = 'done'");
    sql(d.db, "INSERT INTO articles(url, title, body, state, attempts, received_at)"
              " VALUES('https://example.com/check/2', 't', 'b', 'done', 1, '2024-01-01T00:00:00Z')");
    rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), d.dir);
    CHECK(rc == 1, "check found nothing: %s", out);
    CHECK(strstr(out, "unfinished article(s) that already have facts; --repair would mark them"),
          "no unfinished-with-facts finding: %s", out);
    CHECK(strstr(out, "1 done article(s) without done_at; --repair would set done_at"),
          "no done-without-done_at finding: %s", out);
    CHECK(strstr(out, " failed, 1 processing; "), "the summary leaves out processing: %s", out);
    {
        /* each finding names its rows: the article just inserted by hand */
        char line[64];
        snprintf(line, sizeof line, "\nexample   article %lld\n",
                 (long long)it_sql_int(&d, "SELECT id FROM articles"
                                           " WHERE url = 'https://example.com/check/2'"));
        CHECK(strstr(out, line), "no \"%s\" after the done_at finding: %s", line + 1, out);
    }
    free(out);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'processing'") == 1,
          "check without --repair changed the archive");
    sql(d.db, "INSERT INTO articles(url, title, body, state, attempts)"
              " VALUES('https://example.com/check/3', 't', 'b', 'processing', 1)");
    rc = run(&out, "'%s' check --state-dir '%s' --repair", it_bin("cloudfact"), d.dir);
    CHECK(rc == 0 && strstr(out, "sound after repair"), "repair: %d %s", rc, out);
    free(out);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'processing'") == 0,
          "still processing after repair");
    CHECK(it_sql_int(&d, "SELECT state = 'queued' FROM articles"
                         " WHERE url = 'https://example.com/check/3'") == 1,
          "the stuck article was not requeued");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'done' AND done_at IS NULL") ==
              0,
          "done_at still missing");
    rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), d.dir);
    CHECK(rc == 0, "after repair: %d %s", rc, out);
    free(out);

    check_as_others(&d);

    /* a newer schema: the daemon refuses, check cannot fix it, nothing is written */
    sql(d.db, "PRAGMA user_version = 99");
    expect_refused(d.dir, "newer", true);
    cf_article_clear(&a);
    it_daemon_cleanup(&d);
}

/* One text from db (group_concat of a query), caller frees. */
static char *
sql_text(const char *db_path, const char *query)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open(db_path, &db) == SQLITE_OK, "open %s", db_path);
    CHECK(sqlite3_prepare_v2(db, query, -1, &st, NULL) == SQLITE_OK, "%s: %s", query,
          sqlite3_errmsg(db));
    CHECK(sqlite3_step(st) == SQLITE_ROW, "%s: no row", query);
    const char *t = (const char *)sqlite3_column_text(st, 0);
    char *out = cf_strdup(t ? t : "");
    sqlite3_finalize(st);
    sqlite3_close(db);
    return out;
}

#define SPANS_OF_BOTH                                                                          \
    "SELECT (SELECT group_concat(type || ':' || first || '-' || last, ' ') FROM"              \
    " fact_type_spans) || ' | ' || (SELECT group_concat(subject || ':' || first || '-' ||"    \
    " last, ' ') FROM fact_subject_spans)"

/* A hand edit of the span tables: check names the problem (and nothing else that is
 * not there) with an example line starting with example, --repair rebuilds the tables
 * as the writer wrote them. */
static void
spoil_spans(const it_daemon_t *d, const char *edit, const char *finding, const char *example,
            const char *spans)
{
    sql(d->db, edit);
    char *out;
    int rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), d->dir);
    CHECK(rc == 1 && strstr(out, finding), "after \"%s\": no \"%s\" (exit %d):\n%s", edit,
          finding, rc, out);
    char line[256];
    snprintf(line, sizeof line, "\nexample   %s", example);
    CHECK(strstr(out, line), "after \"%s\": no example \"%s\":\n%s", edit, example, out);
    /* one problem, one finding: the rules do not overlap for these edits */
    const char *first = strstr(out, "\nproblem "),
               *second = first ? strstr(first + 1, "\nproblem ") : NULL;
    CHECK(first && !second, "after \"%s\": more than one finding:\n%s", edit, out);
    free(out);
    rc = run(&out, "'%s' check --state-dir '%s' --repair", it_bin("cloudfact"), d->dir);
    CHECK(rc == 0 && strstr(out, "sound after repair") && strstr(out, "rebuild both span tables"),
          "repair after \"%s\": %d %s", edit, rc, out);
    free(out);
    char *now = sql_text(d->db, SPANS_OF_BOTH);
    CHECK(strcmp(now, spans) == 0, "after \"%s\" and --repair the spans are\n %s\nnot\n %s",
          edit, now, spans);
    free(now);
    rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), d->dir);
    CHECK(rc == 0 && strstr(out, "result    sound"), "after the repair: %d %s", rc, out);
    free(out);
}

/* The span tables (schema 3) and their mark (schema 4) are checked against the facts
 * (the daemon added the spans when idle or at its stop). The facts' seqs start at
 * 1,018, so that the first article's spans are cut at 1,024 as the contract says. */
static void
test_spans(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    it_daemon_start(&d, 1, NULL);
    sql(d.db, "DELETE FROM sqlite_sequence WHERE name = 'facts';"
              " INSERT INTO sqlite_sequence(name, seq) VALUES('facts', 1017)");
    static const char *const bodies[] = {
        "AWS opened a data center in Frankfurt in 2015. Microsoft opened a data center in Paris"
        " in 2016. AWS opened a data center in Tokyo in 2017. Google opened a data center in"
        " Sydney in 2018. AWS opened a data center in Mumbai in 2019. AWS opened a data center"
        " in Seoul in 2014. Microsoft opened a data center in Dublin in 2013. AWS opened a data"
        " center in Madrid in 2012. AWS opened a data center in Milan in 2011. Google opened a"
        " data center in Zurich in 2010. AWS opened a data center in Oslo in 2020. AWS opened a"
        " data center in Lisbon in 2021.",
        "AWS opened a data center in Cairo in 2022. Google opened a data center in Lima in 2023."};
    for (size_t k = 0; k < 2; k++) {
        cf_article_t a = {0};
        char url[64];
        snprintf(url, sizeof url, "https://example.com/spans/%zu", k);
        a.url = cf_strdup(url);
        a.title = cf_strdup("Data centers");
        a.body = cf_strdup(bodies[k]);
        a.body_len = strlen(a.body);
        int status;
        uint64_t id;
        it_push(&d, &a, 1, &status, &id);
        CHECK(status == CF_OK, "push: %d", status);
        it_wait_stat(&d, "cloudfact_articles_done", k + 1, 60);
        cf_article_clear(&a);
    }
    int status = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "daemon exit 0x%x", status);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM facts WHERE seq < 1024") == 6 &&
              it_sql_int(&d, "SELECT count(*) FROM facts WHERE type = 'datacenter'") == 14,
          "the extractor's facts changed: this test needs 14 data centers from seq 1,018");
    char *out;
    int rc = run(&out, "'%s' check --state-dir '%s'", it_bin("cloudfact"), d.dir);
    CHECK(rc == 0 && strstr(out, "result    sound"), "spans as written: %d %s", rc, out);
    free(out);
    /* the spans as one rebuild cuts them (the daemon added them in one go or two, so
     * some may not be merged), which a repair gives back */
    sql(d.db, CF_ARCHIVE_SPANS_SQL);
    char *spans = sql_text(d.db, SPANS_OF_BOTH);
    CHECK(strcmp(spans, "datacenter:1018-1023 datacenter:1024-1031 | aws:1018-1023 aws:1025-1030"
                        " google:1021-1021 google:1027-1031 microsoft:1019-1019"
                        " microsoft:1024-1024") == 0,
          "the extractor's facts changed: this test needs other spans than %s", spans);

    spoil_spans(&d, "DELETE FROM fact_type_spans WHERE first = 1024",
                "8 fact(s) in no span of their type", "type 'datacenter', fact 1024\n", spans);
    spoil_spans(&d,
                "INSERT INTO fact_subject_spans(subject, first, last) VALUES('aws', 1030, 1030)",
                "1 overlapping span(s) in fact_subject_spans",
                "subject 'aws', span 1030-1030,"
                " overlapping the one before it\n",
                spans);
    spoil_spans(&d,
                "DELETE FROM fact_type_spans WHERE first = 1024;"
                " UPDATE fact_type_spans SET last = 1031 WHERE first = 1018",
                "1 span(s) in fact_type_spans reversed or across a multiple of 1024",
                "type 'datacenter', span 1018-1031\n", spans);
    spoil_spans(&d, "UPDATE fact_subject_spans SET subject = 'ibm' WHERE subject = 'google'",
                "3 fact(s) in no span of their subject", "subject 'google', fact ", spans);
    /* the mark (schema 4): below a span, missing, or above the log's end */
    spoil_spans(&d,
                "UPDATE fact_subject_spans SET last = 1027 WHERE subject = 'google' AND"
                " first = 1027; UPDATE fact_spans_mark SET seq = 1030",
                "1 span(s) in fact_type_spans above the spans' mark",
                "type 'datacenter', span 1024-1031\n", spans);
    spoil_spans(&d, "DELETE FROM fact_spans_mark", "the spans' mark is missing", "no row\n", spans);
    spoil_spans(&d, "UPDATE fact_spans_mark SET seq = 5000",
                "the spans' mark is above the highest fact seq", "mark 5000, highest seq 10",
                spans);
    free(spans);
    it_daemon_cleanup(&d);
}

static void
test_foreign_and_corrupt(void)
{
    char dir[] = "/tmp/cf-it-check-XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp");
    char db[300];
    snprintf(db, sizeof db, "%s/cloudfact.db", dir);
    sql(db, "CREATE TABLE inventory(id INTEGER PRIMARY KEY, item TEXT);"
            "INSERT INTO inventory(item) VALUES('not ours')");
    expect_refused(dir, "foreign", false);
    it_daemon_t fd = {0};
    snprintf(fd.db, sizeof fd.db, "%s", db);
    CHECK(it_sql_int(&fd, "SELECT count(*) FROM inventory WHERE item = 'not ours'") == 1,
          "the foreign table lost its row");

    FILE *f = fopen(db, "wb");
    CHECK(f, "open %s", db);
    for (int i = 0; i < 4096; i++)
        fputc((i * 131 + 7) & 0xff, f);
    fclose(f);
    expect_refused(dir, "corrupt", true);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "rm");
}

int
main(void)
{
    test_check_and_repair();
    test_spans();
    test_foreign_and_corrupt();
    printf("it_check: ok\n");
    return 0;
}
