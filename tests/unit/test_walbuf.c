/* SPDX-License-Identifier: MIT
 * test_walbuf: the VFS that gathers WAL writes keeps SQLite's guarantees. What a
 * connection of it commits, a connection of the default VFS reads at once; a
 * transaction that spills pages into the WAL reads them back; a writer killed with
 * SIGKILL loses nothing it had committed; and its commits take far fewer write
 * calls than the same commits without it (counted, not timed). */
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cf_test.h"
#include "cf_test_sql.h"
#include "cf_test_vfs.h"
#include "cf_walbuf.h"

static char dir[64];

static const char *
path_of(const char *name)
{
    static char p[4][128];
    static int k;
    char *out = p[k++ % 4];
    snprintf(out, sizeof p[0], "%s/%s", dir, name);
    return out;
}

static sqlite3 *
open_db(const char *path, bool walbuf)
{
    sqlite3 *db = NULL;
    CF_CHECK_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                                 walbuf ? CF_WALBUF_VFS : NULL),
                 SQLITE_OK);
    CF_CHECK_INT(sqlite3_exec(db,
                              "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              " CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, body TEXT);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    return db;
}

/* A connection of the default VFS to DIR/name, whose file must pass
 * integrity_check: what any other reader of the file finds. Caller closes it. */
static sqlite3 *
open_sound(const char *name)
{
    sqlite3 *db = open_db(path_of(name), false);
    sqlite3_stmt *st;
    const char *first = NULL;
    if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &st, NULL) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        first = (const char *)sqlite3_column_text(st, 0);
    CF_CHECK_STR(first ? first : "(no answer)", "ok");
    sqlite3_finalize(st);
    return db;
}

/* 1,000 bytes of one letter, which the row's id decides: checkable in SQL. */
#define BODY(id) "replace(hex(zeroblob(1000)), '00', char(65 + (" id ") % 26))"
#define GOOD_ROWS "SELECT count(*) FROM t WHERE body = " BODY("id") /* rows as written */

static int
insert(sqlite3 *db, int64_t id)
{
    sqlite3_stmt *st;
    int rc =
        sqlite3_prepare_v2(db, "INSERT INTO t(id, body) VALUES(?1, " BODY("?1") ")", -1, &st, NULL);
    if (rc != SQLITE_OK)
        return rc;
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static void
setup(void)
{
    cf_test_vfs_register(); /* the default VFS when cf_walbuf registers over it */
    CF_CHECK_INT(cf_walbuf_register(), SQLITE_OK);
    CF_CHECK_INT(cf_walbuf_register(), SQLITE_OK); /* again: nothing changes */
    snprintf(dir, sizeof dir, "/tmp/cf-walbuf-XXXXXX");
    CF_CHECK(mkdtemp(dir) != NULL);
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

/* Every commit is there for another connection as soon as it returns. */
static void
test_visible(void)
{
    sqlite3 *w = open_db(path_of("visible.db"), true);
    sqlite3 *r = open_db(path_of("visible.db"), false);
    for (int64_t id = 1; id <= 60; id++) {
        CF_CHECK_INT(insert(w, id), SQLITE_OK);
        CF_CHECK_INT(cf_test_sql_int(r, GOOD_ROWS), id);
    }
    /* a checkpoint copies the gathered frames into the database file */
    CF_CHECK_INT(sqlite3_wal_checkpoint_v2(w, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
                 SQLITE_OK);
    CF_CHECK_INT(insert(w, 61), SQLITE_OK); /* the WAL restarts from its top */
    CF_CHECK_INT(cf_test_sql_int(r, GOOD_ROWS), 61);
    sqlite3_close(w);
    sqlite3_close(r);
    sqlite3 *again = open_sound("visible.db");
    CF_CHECK_INT(cf_test_sql_int(again, GOOD_ROWS), 61);
    sqlite3_close(again);
}

/* A transaction larger than the page cache writes pages into the WAL before its
 * commit and reads them back: they must come back as written. */
static void
test_spill(void)
{
    sqlite3 *w = open_db(path_of("spill.db"), true);
    CF_CHECK_INT(sqlite3_exec(w, "PRAGMA cache_size = 8; BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int64_t id = 1; id <= 600; id++)
        CF_CHECK_INT(insert(w, id), SQLITE_OK);
    CF_CHECK_INT(cf_test_sql_int(w, GOOD_ROWS), 600);
    CF_CHECK_INT(sqlite3_exec(w, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3 *r = open_db(path_of("spill.db"), false);
    CF_CHECK_INT(cf_test_sql_int(r, GOOD_ROWS), 600);
    sqlite3_close(r);
    sqlite3_close(w);
}

/* A transaction that spilled frames and rolled back leaves nothing behind that
 * could later land on another writer's frames: that writer commits at the same
 * offsets, and everything stays readable and sound. */
static void
test_rollback_then_other_writer(void)
{
    sqlite3 *a = open_db(path_of("rollback.db"), true);
    for (int64_t id = 1; id <= 20; id++)
        CF_CHECK_INT(insert(a, id), SQLITE_OK);
    CF_CHECK_INT(sqlite3_wal_checkpoint_v2(a, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL),
                 SQLITE_OK);
    sqlite3 *b = open_db(path_of("rollback.db"), false);
    CF_CHECK_INT(sqlite3_exec(a, "PRAGMA cache_size = 5; BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int64_t id = 1000; id < 1300; id++) /* spills, then goes */
        CF_CHECK_INT(insert(a, id), SQLITE_OK);
    CF_CHECK_INT(sqlite3_exec(a, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    CF_CHECK_INT(sqlite3_exec(b, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
    for (int64_t id = 21; id <= 80; id++)
        CF_CHECK_INT(insert(b, id), SQLITE_OK);
    CF_CHECK_INT(sqlite3_exec(b, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    /* a's next use of its WAL (a read, then a write) */
    CF_CHECK_INT(cf_test_sql_int(a, GOOD_ROWS), 80);
    CF_CHECK_INT(insert(a, 81), SQLITE_OK);
    sqlite3 *c = open_sound("rollback.db");
    CF_CHECK_INT(cf_test_sql_int(c, GOOD_ROWS), 81);
    sqlite3_close(c);
    sqlite3_close(b);
    sqlite3_close(a);
}

/* A write-out that fails (a full disk) while a statement only reads the spilled
 * pages: the transaction must not commit over the frames it lost. The failure
 * sticks until the write lock goes, so the commit fails and the file stays sound. */
static void
test_lost_frames_never_commit(void)
{
    sqlite3 *a = open_db(path_of("full.db"), true);
    /* a UNIQUE column: a multi-row UPDATE of it keeps a statement journal, so an
     * error in it ends only the statement, not the transaction */
    CF_CHECK_INT(
        sqlite3_exec(a,
                     "CREATE TABLE v(id INTEGER PRIMARY KEY, u INTEGER UNIQUE, body BLOB);"
                     " PRAGMA cache_size = 5; BEGIN;"
                     " WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n"
                     " WHERE i < 60) INSERT INTO v(u, body) SELECT i, zeroblob(2000) FROM n",
                     NULL, NULL, NULL),
        SQLITE_OK);
    cf_test_vfs_full = CF_TEST_FULL_WAL; /* the gathered (spilled) frames cannot be written now */
    int rc = sqlite3_exec(a, "UPDATE v SET u = u + 1000", NULL, NULL, NULL);
    cf_test_vfs_full = 0;
    CF_CHECK(rc != SQLITE_OK);
    if (!sqlite3_get_autocommit(a)) { /* only the statement ended: the commit must fail */
        rc = sqlite3_exec(a, "INSERT INTO v(u, body) VALUES(-1, x'00')", NULL, NULL, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_exec(a, "COMMIT", NULL, NULL, NULL);
        CF_CHECK(rc != SQLITE_OK);
        sqlite3_exec(a, "ROLLBACK", NULL, NULL, NULL);
    }
    CF_CHECK_INT(insert(a, 1000), SQLITE_OK); /* usable again once the lock went */
    sqlite3 *c = open_sound("full.db");
    CF_CHECK_INT(cf_test_sql_int(c, "SELECT count(*) FROM v"), 0);
    CF_CHECK_INT(cf_test_sql_int(c, GOOD_ROWS), 1);
    sqlite3_close(c);
    sqlite3_close(a);
}

/* A writer killed at any moment: every commit it reported is there, the database is
 * sound, and at most the one transaction in flight is missing. */
static void
test_killed_writer(void)
{
    int fds[2];
    CF_CHECK_INT(pipe(fds), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        sqlite3 *w = open_db(path_of("killed.db"), true);
        for (int64_t id = 1;; id++) {
            int rc = insert(w, id);
            if (rc != SQLITE_OK) {
                fprintf(stderr, "killed writer: insert %lld: %s\n", (long long)id,
                        sqlite3_errstr(rc));
                _exit(2);
            }
            if (write(fds[1], &id, sizeof id) != sizeof id)
                _exit(3);
        }
    }
    close(fds[1]);
    int64_t acked = 0, id;
    while (acked < 300 && read(fds[0], &id, sizeof id) == sizeof id)
        acked = id;
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    while (read(fds[0], &id, sizeof id) == sizeof id) /* reported before the kill */
        acked = id;
    close(fds[0]);
    if (!WIFSIGNALED(status)) /* an exit: an insert failed (2) or the pipe did (3) */
        fprintf(stderr, "killed writer: exited with status %d after %lld rows\n",
                WIFEXITED(status) ? WEXITSTATUS(status) : -1, (long long)acked);
    CF_CHECK(WIFSIGNALED(status));
    sqlite3 *r = open_sound("killed.db");
    int64_t n = cf_test_sql_int(r, GOOD_ROWS);
    if (!(n >= acked && n <= acked + 1))
        fprintf(stderr, "killed writer: %lld rows, %lld reported committed\n", (long long)n,
                (long long)acked);
    CF_CHECK(n >= acked && n <= acked + 1);
    CF_CHECK_INT(cf_test_sql_int(r, "SELECT max(id) FROM t"), n);
    sqlite3_close(r);
}

/* write(2)-family calls of this process so far (/proc/self/io syscw). */
static int64_t
write_calls(void)
{
    FILE *f = fopen("/proc/self/io", "r");
    if (!f)
        return -1;
    char line[128];
    int64_t v = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "syscw: %lld", (long long *)&v) == 1)
            break;
    fclose(f);
    return v;
}

static int64_t
commit_calls(bool walbuf, const char *name)
{
    char uri[200];
    /* psow=0: SQLite pads each commit to a sector and syncs part-way (see
     * cf_walbuf.h), so such a WAL is not gathered */
    bool psow = strncmp(name, "nopsow", 6) != 0;
    snprintf(uri, sizeof uri, "file:%s%s", path_of(name), psow ? "" : "?psow=0");
    sqlite3 *w = NULL;
    CF_CHECK_INT(sqlite3_open_v2(uri, &w,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                 walbuf ? CF_WALBUF_VFS : NULL),
                 SQLITE_OK);
    CF_CHECK_INT(sqlite3_exec(w,
                              "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                              " CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, body TEXT);",
                              NULL, NULL, NULL),
                 SQLITE_OK);
    int64_t before = write_calls(), id = 1;
    for (int c = 0; c < 20; c++) {
        CF_CHECK_INT(sqlite3_exec(w, "BEGIN", NULL, NULL, NULL), SQLITE_OK);
        for (int k = 0; k < 40; k++, id++)
            CF_CHECK_INT(insert(w, id), SQLITE_OK);
        CF_CHECK_INT(sqlite3_exec(w, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    }
    int64_t calls = write_calls() - before;
    if (!psow) { /* what a reader sees of the padded commits */
        sqlite3 *r = open_db(path_of(name), false);
        CF_CHECK_INT(cf_test_sql_int(r, GOOD_ROWS), id - 1);
        sqlite3_close(r);
    }
    sqlite3_close(w);
    return calls;
}

/* 20 commits of 40 rows (~11 pages each): two calls per WAL frame without the VFS,
 * about one per commit with it. */
static void
test_fewer_writes(void)
{
    if (write_calls() < 0) {
        printf("test_walbuf: no /proc/self/io: write calls not counted\n");
        return;
    }
    int64_t plain = commit_calls(false, "plain.db");
    int64_t gathered = commit_calls(true, "gathered.db");
    printf("test_walbuf: 20 commits: %lld write calls plain, %lld gathered\n", (long long)plain,
           (long long)gathered);
    CF_CHECK(plain >= 20 * 10 * 2);
    CF_CHECK(gathered * 10 < plain);
    int64_t padded = commit_calls(true, "nopsow.db");
    printf("test_walbuf: 20 padded commits (psow=0) through it: %lld write calls\n",
           (long long)padded);
    CF_CHECK(padded >= plain); /* passed through, padding frames included */
}

static void
test_all(void)
{
    setup();
    test_visible();
    test_spill();
    test_rollback_then_other_writer();
    test_lost_frames_never_commit();
    test_killed_writer();
    test_fewer_writes();
    teardown();
}

CF_TEST_LIST(CF_TEST(test_all));
