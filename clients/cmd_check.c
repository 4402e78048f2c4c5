/* SPDX-License-Identifier: MIT
 * cmd_check: `cloudfact check --state-dir DIR [--repair]`: verifies an archive
 * offline: SQLite integrity, the schema version against the one this release
 * supports, the contract's tables, articles or counters in states no running
 * daemon leaves behind, and the span tables against the facts. Says what it would
 * do; --repair does it in one transaction. Holds the state directory's lock (the
 * daemon's protocol: an OFD write lock on DIR/cloudfactd.lock) for the whole run,
 * so it never runs beside a daemon and no daemon starts beside it. Never deletes
 * an article or a fact (the span tables, an index of the facts, are rebuilt). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cf_archive.h"
#include "cmd.h"

/* The archive schema this release's cloudfactd creates and migrates to. */
#define CHECK_SCHEMA_VERSION CF_ARCHIVE_SCHEMA_VERSION

typedef struct check {
    const char *dir;     /* the state directory */
    char db_path[PATH_MAX];
    sqlite3 *db;         /* the archive */
    bool repair;         /* --repair */
    int fixable;         /* problems --repair fixes */
    int fatal;           /* problems it cannot fix */
    int fixed;           /* problems fixed */
    bool corrupt;        /* integrity_check failed: never write */
    int64_t version;     /* the archive's schema version (check_schema) */
} check_t;

static void
say(const char *what, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
say(const char *what, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("%-9s ", what);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

/* Takes the directory's lock as the daemon does. Returns the fd (kept until exit),
 * -1 after reporting a daemon (or another check) holding it, -2 on other errors. */
static int
take_lock(const char *dir, bool repair)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/cloudfactd.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    bool rdonly = false;
    if (fd < 0 && (errno == EACCES || errno == EROFS) && !repair) {
        fd = open(path, O_RDONLY | O_CLOEXEC); /* enough to see a holder */
        rdonly = true;
    }
    if (fd < 0) {
        fprintf(stderr, "cloudfact: check: cannot open %s: %s\n", path, strerror(errno));
        return -2;
    }
    /* root may have just created it: a lock file the daemon's user cannot open
     * would keep the daemon from starting. It goes to the directory's owner. */
    struct stat dst, lst;
    if (!rdonly && geteuid() == 0 && stat(dir, &dst) == 0 && fstat(fd, &lst) == 0 &&
        (lst.st_uid != dst.st_uid || lst.st_gid != dst.st_gid) &&
        fchown(fd, dst.st_uid, dst.st_gid) != 0)
        fprintf(stderr, "cloudfact: check: cannot give %s to uid %u: %s\n", path,
                (unsigned)dst.st_uid, strerror(errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int rc = rdonly ? fcntl(fd, F_OFD_GETLK, &fl) : fcntl(fd, F_OFD_SETLK, &fl);
    bool held = rdonly ? (rc == 0 && fl.l_type != F_UNLCK)
                       : (rc != 0 && (errno == EAGAIN || errno == EACCES));
    if (held) {
        char buf[32] = {0};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
        if (pid > 0)
            fprintf(stderr,
                    "cloudfact: check: %s is in use by pid %ld (cloudfactd?): stop it first\n",
                    dir, pid);
        else
            fprintf(stderr, "cloudfact: check: %s is locked by another process: stop it first\n",
                    dir);
        close(fd);
        return -1;
    }
    if (rc != 0) {
        fprintf(stderr, "cloudfact: check: cannot lock %s: %s\n", path, strerror(errno));
        close(fd);
        return -2;
    }
    if (!rdonly) {
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
            /* the pid is a courtesy for whoever finds the lock taken */
        }
    }
    return fd;
}

static void
release_lock(int fd)
{
    if (fd >= 0) {
        if (ftruncate(fd, 0) != 0) {
            /* harmless: the next holder rewrites it (read-only fd, or a full disk) */
        }
        close(fd);
    }
}

/* One integer from sql, or -1 on an error (reported). */
static int64_t
one_int(check_t *c, const char *sql)
{
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        say("error", "%s: %s", sql, sqlite3_errmsg(c->db));
        return -1;
    }
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_type(st, 0) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        v = 0;
    else
        say("error", "%s: %s", sql, sqlite3_errmsg(c->db));
    sqlite3_finalize(st);
    return v;
}

/* Each row of sql (one text column), as a line headed what. */
static void
say_rows(check_t *c, const char *sql, const char *what)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, sql, -1, &st, NULL) != SQLITE_OK) {
        say("error", "%s: %s", sql, sqlite3_errmsg(c->db));
        return;
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const unsigned char *text = sqlite3_column_text(st, 0);
        say(what, "%s", text ? (const char *)text : "?");
    }
    if (rc != SQLITE_DONE)
        say("error", "%s: %s", sql, sqlite3_errmsg(c->db));
    sqlite3_finalize(st);
}

/* PRAGMA integrity_check: "ok", or up to 10 problems. Returns false when the file
 * cannot even be read as a database. */
static bool
check_integrity(check_t *c)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(c->db, "PRAGMA integrity_check(10)", -1, &st, NULL) != SQLITE_OK) {
        int ec = sqlite3_errcode(c->db) & 0xff;
        c->fatal++;
        if (ec == SQLITE_READONLY || ec == SQLITE_CANTOPEN || ec == SQLITE_PERM ||
            ec == SQLITE_AUTH) {
            /* not the file's fault: a WAL archive closed cleanly has no -shm, and a
             * reader must be able to create one beside it */
            say("cannot",
                "read %s: %s (no sign of corruption: run check as the daemon's user "
                "or root, who can create its -shm file)",
                c->db_path, sqlite3_errmsg(c->db));
            return false;
        }
        say("corrupt", "%s is not a readable SQLite database: %s", c->db_path,
            sqlite3_errmsg(c->db));
        c->corrupt = true;
        return false;
    }
    int rc, lines = 0;
    bool ok = false;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0);
        if (lines == 0 && t && strcmp(t, "ok") == 0)
            ok = true;
        else
            say("corrupt", "%s", t ? t : "(null)");
        lines++;
    }
    if (rc != SQLITE_DONE) {
        say("corrupt", "integrity check stopped: %s", sqlite3_errmsg(c->db));
        ok = false;
    }
    sqlite3_finalize(st);
    if (ok) {
        say("ok", "integrity: SQLite finds no corruption");
        return true;
    }
    c->fatal++;
    c->corrupt = true;
    return rc == SQLITE_DONE;
}

static bool
has_columns(check_t *c, const char *table, const char *const *cols)
{
    for (size_t i = 0; cols[i]; i++) {
        char sql[200];
        snprintf(sql, sizeof sql,
                 "SELECT count(*) FROM pragma_table_info('%s') WHERE name = '%s'", table,
                 cols[i]);
        if (one_int(c, sql) != 1) {
            say("foreign", "table %s has no column %s", table, cols[i]);
            return false;
        }
    }
    return true;
}

/* user_version against what this release supports; the contract's tables. Returns
 * true when the state checks can run. */
static bool
check_schema(check_t *c)
{
    int64_t version = c->version = one_int(c, "PRAGMA user_version");
    int64_t objects = one_int(c, "SELECT count(*) FROM sqlite_schema");
    if (version < 0 || objects < 0) {
        c->fatal++;
        return false;
    }
    if (version > CHECK_SCHEMA_VERSION) {
        say("newer", "schema version %lld is newer than this release's %d: run a newer "
                     "cloudfact (nothing here will touch it)",
            (long long)version, CHECK_SCHEMA_VERSION);
        c->fatal++;
        return false;
    }
    if (version == 0) {
        if (objects == 0) {
            say("ok", "schema: empty database; cloudfactd creates version %d at start",
                CHECK_SCHEMA_VERSION);
            return false;
        }
        say("foreign", "user_version 0 but %lld schema objects: not a cloudfact archive "
                       "(move it aside; cloudfactd will not start on it)",
            (long long)objects);
        c->fatal++;
        return false;
    }
    static const char *const article_cols[] = {
        "id", "url", "title", "body", "source", "published", "lang", "state", "attempts",
        "error", "received_at", "done_at", NULL};
    static const char *const fact_cols[] = {"seq", "article", "type", "subject", "object",
                                            "value", "evidence", "evidence_start",
                                            "evidence_end", NULL};
    if (!has_columns(c, "articles", article_cols) || !has_columns(c, "facts", fact_cols)) {
        c->fatal++;
        return false;
    }
    if (version < CHECK_SCHEMA_VERSION)
        say("ok", "schema version %lld; cloudfactd migrates it to %d at start",
            (long long)version, CHECK_SCHEMA_VERSION);
    else
        say("ok", "schema version %lld (this release: %d)", (long long)version,
            CHECK_SCHEMA_VERSION);
    return true;
}

typedef struct rule {
    const char *rows_sql;   /* "FROM ... WHERE ...": the rows in the impossible state */
    const char *example;    /* an SQL text expression naming one of those rows: a
                             * finding shows up to EXAMPLES of them */
    bool counted;           /* problem reads after the count ("12 article(s) ...") */
    const char *problem;    /* what is wrong */
    const char *action;     /* what --repair does */
    const char *repair_sql; /* NULL: cannot be repaired; rules may share one (run once) */
    int since;              /* the schema version that brought what it checks (0: all) */
} rule_t;

#define EXAMPLES 3

/* Rebuilding the span tables from the facts repairs any of their problems. */
static const char spans_repair[] = CF_ARCHIVE_SPANS_SQL;
#define SPANS_ACTION "rebuild both span tables and their mark from the facts"

/* The span tables' contract (cf_archive.h), for table T keyed on column K: every fact
 * with a K up to the mark lies in a span of its K; no span reaches above the mark;
 * spans of one K never overlap; no span is reversed or crosses a multiple of SPAN_MAX.
 * The reader answers type and subject queries and exact-type replays from the spans
 * up to the mark (and from the log above it): a fact outside them would be missing
 * from those answers, an overlap or a span above the mark would repeat it. Each test
 * is one seek of the primary key per fact or span, the nearest span starting at or
 * before it (~1 s per million rows here): with spans that do not overlap, that one is
 * the only one that can cover. The mark came with version 4: a version 3 archive's
 * spans are checked once cloudfactd has migrated it. */
#define SPAN_EXAMPLE(K) "'" K " ' || quote(a." K ") || ', span ' || a.first || '-' || a.last"
#define SPAN_RULES(T, K)                                                                       \
    {"FROM facts f WHERE f.seq <= (SELECT seq FROM fact_spans_mark) AND f." K " IS NOT NULL"   \
     " AND coalesce((SELECT s.last FROM " T " s WHERE s." K " = f." K " AND s.first <= f.seq"  \
     " ORDER BY s.first DESC LIMIT 1), 0) < f.seq",                                            \
     "'" K " ' || quote(f." K ") || ', fact ' || f.seq", true,                                 \
     "fact(s) in no span of their " K " (" T ": queries by " K " miss them)", SPANS_ACTION,    \
     spans_repair, 4},                                                                         \
    {"FROM " T " a WHERE a.last > (SELECT seq FROM fact_spans_mark)", SPAN_EXAMPLE(K), true,   \
     "span(s) in " T " above the spans' mark (queries by " K " repeat their facts)",           \
     SPANS_ACTION, spans_repair, 4},                                                           \
    {"FROM " T " a WHERE (SELECT b.last FROM " T " b WHERE b." K " = a." K                     \
     " AND b.first < a.first ORDER BY b.first DESC LIMIT 1) >= a.first",                       \
     SPAN_EXAMPLE(K) " || ', overlapping the one before it'", true,                            \
     "overlapping span(s) in " T, SPANS_ACTION, spans_repair, 4},                             \
    {"FROM " T " a WHERE a.last < a.first OR a.first / " CF_ARCHIVE_SPAN_MAX_SQL              \
     " <> a.last / " CF_ARCHIVE_SPAN_MAX_SQL,                                                  \
     SPAN_EXAMPLE(K), true,                                                                    \
     "span(s) in " T " reversed or across a multiple of " CF_ARCHIVE_SPAN_MAX_SQL,            \
     SPANS_ACTION, spans_repair, 4}

/* States no running daemon leaves behind, checked while nothing holds the lock. */
static const rule_t rules[] = {
    {"FROM articles WHERE state = 'processing'", "'article ' || id", true,
     "article(s) in state processing, yet no daemon holds the lock",
     "requeue them (state queued; attempts kept)",
     "UPDATE articles SET state = 'queued' WHERE state = 'processing'"},
    {"FROM articles WHERE state = 'done' AND done_at IS NULL", "'article ' || id", true,
     "done article(s) without done_at", "set done_at to received_at (or now)",
     "UPDATE articles SET done_at = coalesce(received_at,"
     " strftime('%Y-%m-%dT%H:%M:%fZ','now')) WHERE state = 'done' AND done_at IS NULL"},
    {"FROM articles WHERE state IN ('queued', 'processing') AND"
     " EXISTS (SELECT 1 FROM facts f WHERE f.article = articles.id)",
     "'article ' || id || ' (' || state || ')'", true,
     "unfinished article(s) that already have facts",
     "mark them done (their facts were committed with them)",
     "UPDATE articles SET state = 'done', done_at = coalesce(done_at, received_at,"
     " strftime('%Y-%m-%dT%H:%M:%fZ','now')) WHERE state IN ('queued', 'processing') AND"
     " EXISTS (SELECT 1 FROM facts f WHERE f.article = articles.id)"},
    {"FROM articles WHERE attempts < 0", "'article ' || id || ' (attempts ' || attempts || ')'",
     true, "article(s) with negative attempts", "set attempts to 0",
     "UPDATE articles SET attempts = 0 WHERE attempts < 0"},
    {"FROM sqlite_sequence s WHERE s.name = 'facts' AND s.seq < (SELECT max(seq) FROM facts)",
     "'counter ' || s.seq || ', highest seq ' || (SELECT max(seq) FROM facts)", false,
     "the fact seq counter is behind the highest seq", "raise it, so that a seq is never reused",
     "UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM facts) WHERE name = 'facts'"},
    {"FROM sqlite_sequence s WHERE s.name = 'articles' AND"
     " s.seq < (SELECT max(id) FROM articles)",
     "'counter ' || s.seq || ', highest id ' || (SELECT max(id) FROM articles)", false,
     "the article id counter is behind the highest id", "raise it, so that an id is never reused",
     "UPDATE sqlite_sequence SET seq = (SELECT max(id) FROM articles) WHERE name = 'articles'"},
    {"FROM facts f WHERE NOT EXISTS (SELECT 1 FROM articles a WHERE a.id = f.article)",
     "'fact ' || f.seq || ' (article ' || f.article || ')'", true,
     "fact(s) whose article is missing",
     "nothing: facts are append-only; keep the file and report it", NULL},
    {"FROM (SELECT 1) WHERE NOT EXISTS (SELECT 1 FROM fact_spans_mark)", "'no row'", false,
     "the spans' mark is missing (fact_spans_mark: no row)", SPANS_ACTION, spans_repair, 4},
    {"FROM fact_spans_mark m WHERE m.seq > coalesce((SELECT max(seq) FROM facts), 0)",
     "'mark ' || m.seq || ', highest seq ' || coalesce((SELECT max(seq) FROM facts), 0)", false,
     "the spans' mark is above the highest fact seq (facts to come would be missing from"
     " queries by type and subject)",
     SPANS_ACTION, spans_repair, 4},
    SPAN_RULES("fact_type_spans", "type"),
    SPAN_RULES("fact_subject_spans", "subject"),
};

static void
summary(check_t *c)
{
    int64_t q = one_int(c, "SELECT count(*) FROM articles WHERE state = 'queued'");
    int64_t d = one_int(c, "SELECT count(*) FROM articles WHERE state = 'done'");
    int64_t f = one_int(c, "SELECT count(*) FROM articles WHERE state = 'failed'");
    int64_t p = one_int(c, "SELECT count(*) FROM articles WHERE state = 'processing'");
    int64_t n = one_int(c, "SELECT count(*) FROM facts");
    /* processing only in archives of earlier versions (or a problem said above): named
     * when there are any, so that the counts add up to the articles */
    char proc[48] = "";
    if (p > 0)
        snprintf(proc, sizeof proc, ", %lld processing", (long long)p);
    say("ok", "articles: %lld queued, %lld done, %lld failed%s; %lld facts", (long long)q,
        (long long)d, (long long)f, proc, (long long)n);
}

static void
check_states(check_t *c)
{
    int64_t counts[sizeof rules / sizeof *rules];
    bool any = false;
    for (size_t i = 0; i < sizeof rules / sizeof *rules; i++) {
        counts[i] = 0;
        if (c->version < rules[i].since)
            continue; /* not there yet: cloudfactd's migration builds it */
        char q[2048]; /* the longest rule's example query is ~500 bytes */
        snprintf(q, sizeof q, "SELECT count(*) %s", rules[i].rows_sql);
        counts[i] = one_int(c, q);
        if (counts[i] < 0) {
            c->fatal++;
            continue;
        }
        if (counts[i] == 0)
            continue;
        char what[200];
        if (rules[i].counted)
            snprintf(what, sizeof what, "%lld %s", (long long)counts[i], rules[i].problem);
        else
            snprintf(what, sizeof what, "%s", rules[i].problem);
        if (!rules[i].repair_sql) {
            say("problem", "%s; --repair does %s", what, rules[i].action);
            c->fatal++;
        } else {
            say("problem", "%s; %s %s", what, c->repair ? "repairing:" : "--repair would",
                rules[i].action);
            c->fixable++;
            any = true;
        }
        snprintf(q, sizeof q, "SELECT %s %s LIMIT %d", rules[i].example, rules[i].rows_sql,
                 EXAMPLES);
        say_rows(c, q, "example");
    }
    if (!c->repair || !any)
        return;
    if (c->corrupt) {
        say("refused", "not repairing a file that fails the integrity check: restore it from a "
                       "backup (or sqlite3 .recover) first");
        return;
    }
    char *msg = NULL;
    int rc = sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    int fixed = 0;
    for (size_t i = 0; rc == SQLITE_OK && i < sizeof rules / sizeof *rules; i++) {
        if (counts[i] <= 0 || !rules[i].repair_sql)
            continue;
        bool ran = false; /* a repair shared with an earlier rule that ran: done already */
        for (size_t k = 0; k < i && !ran; k++)
            ran = counts[k] > 0 && rules[k].repair_sql == rules[i].repair_sql;
        if (!ran)
            rc = sqlite3_exec(c->db, rules[i].repair_sql, NULL, NULL, &msg);
        if (rc == SQLITE_OK)
            fixed++;
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(c->db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        say("failed", "repair rolled back, nothing changed: %s",
            msg ? msg : sqlite3_errmsg(c->db));
        sqlite3_free(msg);
        if (!sqlite3_get_autocommit(c->db))
            sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return;
    }
    c->fixed = fixed;
    say("repaired", "%d problem(s), in one transaction", fixed);
}

int
cmd_check(int argc, char **argv)
{
    static const struct option lopts[] = {{"state-dir", required_argument, NULL, 'd'},
                                          {"repair", no_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    check_t c = {0};
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (opt) {
        case 'd': c.dir = optarg; break;
        case 'r': c.repair = true; break;
        case 'h':
            printf(
                "Usage: cloudfact check --state-dir DIR [--repair]\n"
                "Verify a cloudfactd archive (DIR/cloudfact.db) offline: SQLite integrity, the\n"
                "schema version against the one this release supports, the tables the contract\n"
                "names, articles in states no running daemon leaves behind (processing\n"
                "with no daemon, done without done_at, unfinished with facts, counters behind\n"
                "the highest id or seq), and the fact type and subject span tables against\n"
                "the facts (every fact in exactly one span of its type and of its subject;\n"
                "queries by type or subject read them). Each problem is shown with its count\n"
                "and up to three of its rows (example lines). Says what --repair would do;\n"
                "--repair does it in one transaction (spans are rebuilt from the facts). No\n"
                "article or fact is ever deleted, and a corrupt, foreign or newer file is\n"
                "never written to.\n\n"
                "It refuses to run while a daemon holds DIR/cloudfactd.lock, and holds that\n"
                "lock itself, so no daemon starts meanwhile.\n\n"
                "Exit status: 0 when the archive is sound (or every problem was repaired),\n"
                "1 when problems remain, the archive cannot be read or the directory is in\n"
                "use, 2 on a usage error.\n\n"
                "Examples:\n"
                "  cloudfact check --state-dir /var/lib/cloudfactd\n"
                "  systemctl stop cloudfactd && cloudfact check --state-dir /var/lib/cloudfactd "
                "--repair\n");
            return 0;
        default: return 2;
        }
    }
    if (!c.dir || optind < argc) {
        fprintf(stderr, "cloudfact: check: usage: cloudfact check --state-dir DIR [--repair]\n");
        return 2;
    }
    struct stat st;
    if (stat(c.dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cloudfact: check: %s: %s\n", c.dir,
                errno ? strerror(errno) : "not a directory");
        return 1;
    }
    snprintf(c.db_path, sizeof c.db_path, "%s/cloudfact.db", c.dir);
    if (stat(c.db_path, &st) != 0) {
        fprintf(stderr, "cloudfact: check: %s: %s\n", c.db_path, strerror(errno));
        return 1;
    }
    int lock = take_lock(c.dir, c.repair);
    if (lock < 0)
        return 1;
    int flags = c.repair ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY;
    if (sqlite3_open_v2(c.db_path, &c.db, flags, NULL) != SQLITE_OK) {
        fprintf(stderr, "cloudfact: check: cannot open %s: %s\n", c.db_path,
                sqlite3_errmsg(c.db));
        sqlite3_close(c.db);
        release_lock(lock);
        return 1;
    }
    sqlite3_busy_timeout(c.db, 2000);
    printf("checking %s%s\n", c.db_path, c.repair ? " (repairing)" : "");
    if (check_integrity(&c)) {
        if (check_schema(&c)) {
            check_states(&c);
            summary(&c);
        }
    }
    sqlite3_close(c.db);
    release_lock(lock);
    int left = c.fatal + c.fixable - c.fixed;
    if (left == 0)
        printf("result    sound%s\n", c.fixed ? " after repair" : "");
    else if (c.fatal)
        printf("result    %d problem(s) that --repair cannot fix%s\n", c.fatal,
               c.corrupt ? "; restore the archive from a backup" : "");
    else
        printf("result    %d problem(s); run again with --repair to fix them\n", left);
    return left == 0 ? 0 : 1;
}
