/* SPDX-License-Identifier: MIT
 * cf_archive: the SQLite archive. The loop thread queues requests; one writer
 * thread owns the write connection and runs whatever is queued (up to BATCH_MAX)
 * in one BEGIN IMMEDIATE ... COMMIT, then hands the batch back to the loop thread
 * through event_active(); callbacks run there, in submission order. A read-only
 * connection, opened lazily on the loop thread, serves the quarantine listing. */
#include "cf_archive.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cf_busy.h"
#include "cf_clock.h"
#include "cf_idq.h"
#include "cf_log.h"
#include "cf_text.h"
#include "cf_walbuf.h"

#define BATCH_MAX 1024         /* requests per transaction: bounds one commit's latency */
/* facts (plus one per DONE) per transaction, past its first request: a batch's completions
 * publish all its facts in one go, and a burst beyond the publish socket's high-water mark
 * (10,000 per subscriber) is lost even for a subscriber that reads as fast as it can; a
 * writer held up by indexing gathered 1,000 DONEs (~22,000 messages) in bench runs. It
 * bounds one transaction, not one delivery: a loop thread behind by several commits
 * still publishes their completions together (deliver) */
#define BATCH_FACTS_MAX 4096
#define BUSY_TIMEOUT_MS 5000   /* default wait for a lock held by another connection */
#define NO_PAGE_CAP 1073741823 /* SQLITE_MAX_PAGE_COUNT of 3.40: "no cap" */

/* Search index (article_fts). FTS5 tokenizing costs more writer time than everything
 * else a done article needs (~0.35 ms for 4 KiB, bench/README.md), so done articles
 * are indexed off the done path: their ids wait in a backlog (writer memory; rebuilt
 * from the archive at open, see fts_recover) and are indexed
 * - in the batch that marked them done when the load is light (the writer busy less
 *   than FTS_LIGHT_UTIL of the time both lately and in its last few milliseconds,
 *   see cf_busy.h, and no other request waiting: searchable as soon as done), as
 *   many as the batch marked done plus FTS_CATCHUP (oldest first): a backlog that
 *   busier moments left shrinks under a steady light load that never leaves the
 *   writer idle, a few articles per batch, never a whole chunk that would delay the
 *   requests arriving meanwhile (bench/README.md, "fifth pass"; the last few
 *   milliseconds count since the twentieth: a burst after an idle spell, a fresh
 *   daemon's first one too, no longer pays for indexing while requests queue);
 * - in transactions of their own (which add the pending spans too, see "Spans"),
 *   FTS_CHUNK at a time, once the writer has had no request for FTS_IDLE_WAIT
 *   seconds: each such transaction is followed by a pause of
 *   FTS_IDLE_PAUSE times its own length, cut short by the next request, so that a
 *   drain takes at most about a fifth of a core from readers (replay) and never
 *   delays a request by more than one chunk (~10 ms);
 * - and once the backlog holds FTS_BACKLOG_MAX articles (a sustained overload),
 *   in every batch: the batch's own done articles plus FTS_CHUNK, so the backlog
 *   shrinks again and search never lags by more than that.
 * At close the backlog is indexed (and merged), FTS_CLOSE_CHUNK at a time, for
 * FTS_CLOSE_SECONDS at most, checked between transactions (a full backlog took 11 s
 * here; systemd's TimeoutStopSec is 30 s after a 10 s grace); what is left then, the
 * next open finds (fts_recover). Spans, checkpoints and lock waits are not counted.
 * Merging: every indexing statement writes a new FTS5 segment, and FTS5 merges a level's
 * segments inline once it holds `automerge` of them. At FTS5's default of 4 the merges
 * were ~30 % of indexing's cost; the archive sets FTS_AUTOMERGE (16) at open and does the
 * rest of the merging in idle transactions instead (FTS5's 'merge' command, FTS_MERGE_PAGES
 * at a time, on levels of at least 4 segments), after the backlog, and at close: the
 * segments a query reads are as few as before once the writer has been idle a moment.
 * bench/README.md, "Sixteenth pass". */
#define FTS_CHUNK 64 /* ~4 ms; 32 cost 1.3x per article (bench/README.md, "Sixteenth pass") */
/* After search indexing fails (a damaged index, a full disk), the writer indexes nothing
 * for this long, and then only after a commit: a batch that indexed and failed is run
 * again without indexing, so that the failure costs ingest one extra transaction per
 * pause, not every request (DESIGN.md: search is indexed off the ingest path). */
#define FTS_RETRY_SECONDS 5.0
#define FTS_CATCHUP 8 /* ~1 ms of indexing */
#define FTS_LIGHT_UTIL 0.5
#define FTS_IDLE_WAIT 0.01
#define FTS_IDLE_PAUSE 4
/* How far search may trail a burst: ~5 s of the pipeline's peak on 2 vCPUs (canned
 * results; ~11 s to index here, after the burst or, FTS_CLOSE_SECONDS of it, at close).
 * 16,384 was ~1.5 s of that peak by 2026-11-25, and a burst of a few seconds then paid
 * for indexing in every batch (bench/README.md, "Sixteenth pass"). */
#define FTS_BACKLOG_MAX 65536
#define FTS_CLOSE_CHUNK 256 /* a transaction's frames stay well inside the prepared WAL */
#define FTS_CLOSE_SECONDS 5.0 /* a full backlog took ~11 s here (bench/README.md) */
#define FTS_AUTOMERGE 16
#define FTS_MERGE_PAGES 128 /* ~5 ms of merging per idle transaction */
#define STR_(x) #x
#define STR(x) STR_(x)

/* Checkpoints (copying the WAL back into the database file) are the writer's, not
 * SQLite's: its automatic checkpoint runs inside the COMMIT that crosses 1,000 frames,
 * so that batch's requests, and every request queued behind it, waited for it too
 * (2.5-5.6 ms every 50-100 ms at 1,000 articles/s, bench/README.md, "fifth pass").
 * Here the writer checkpoints once the WAL holds WAL_CKPT_FRAMES and no request is
 * waiting (or it is closing), after the batch's answers are on their way; under a
 * sustained load that leaves no idle moment, at WAL_CKPT_FORCE whatever waits, so the
 * WAL stays within what presize_wal prepared (checkpoint_due). */
#define WAL_CKPT_FRAMES 1000
#define WAL_CKPT_FORCE 1800

/* ------------------------------------------------------------------------ */
/* Schema and migrations                                                     */
/* ------------------------------------------------------------------------ */

/* migrations[i] takes an archive from user_version i to i + 1. All pending steps and
 * the new user_version run in one transaction. Append only: never edit a released step.
 *
 * Version 1:
 * - articles: the durable queue and the record. No index on state, so an ingest
 *   writes the row and the url index only; the writer finds queued rows by a
 *   cursor on id instead (see "Claim" below).
 * - facts: append-only (triggers refuse UPDATE and DELETE), seq never reused
 *   (AUTOINCREMENT). Indexed on article for `article {id}` and the view.
 * - fact_view: facts with the article's url, title, published and source.
 * - article_fts: FTS5 over title and body as an external-content table on
 *   articles (content_rowid = id), so the text is stored once. Rows are NOT kept in
 *   sync by triggers: the writer indexes done articles itself, off the ingest and
 *   the done path (see "Search index" below). Only done articles are indexed;
 *   `INSERT INTO article_fts(article_fts) VALUES('rebuild')` would index every
 *   article.
 *
 * Version 2 (queries over the archive; README "The archive for analysts"):
 * - indexes facts(type) and facts(subject): `facts` filters on a type or a subject
 *   read an index range already in seq order (every SQLite index ends with the rowid,
 *   here seq: `type = ? AND seq > ?` is one range) instead of scanning the log.
 * - article_view: articles without their bodies (body_bytes instead), with the
 *   number of facts each produced.
 * - quarantine_view: the failed articles, as `cloudfact quarantine` lists them.
 * - facts_by_type: per fact type, how many facts, subjects and articles, and the
 *   first and last seq.
 * - facts_by_subject: per entity and fact type, how many facts and the last seq.
 *
 * Version 3 (bench/README.md, "Seventh pass"):
 * - fact_type_spans and fact_subject_spans (cf_archive.h) replace the indexes
 *   facts(type) and facts(subject). An article's facts go in as one block of seqs, so
 *   one row per type (subject) of the article covers them: an article of ~21 facts has
 *   ~10 types and ~2.5 subjects, 12 rows in place of 42 index entries, and the index
 *   inserts were a third of the writer's work per fact. `type = ?` and `subject = ?`
 *   read the key's spans in the seq window, then those facts by seq: still no scan of
 *   the log. The step keeps the views; SPANS_V3_SQL fills the tables from the facts
 *   already there.
 *
 * Version 4 (bench/README.md, "Eleventh pass"):
 * - fact_spans_mark(one, seq), one row: the spans cover the facts up to seq (see
 *   "Spans" below). The spans of version 3 covered every fact: the mark starts at the
 *   last one.
 *
 * Version 5:
 * - articles_failed, a partial index of the quarantined articles: listing them
 *   (`cloudfact quarantine`, quarantine_view) read every article before, bodies'
 *   overflow pages included, since state comes after body in the row; now it reads
 *   the few failed ones. Only quarantines and requeues touch it: no cost per
 *   article on the way to done.
 *
 * Version 6:
 * - articles_done, a partial index of the done articles. Opening an archive counted,
 *   requeued and searched the articles by state, four scans that read every row with
 *   its body's overflow pages (1.8 s for 300,000 articles, 1.4 GB, with a warm page
 *   cache). Now the counts come from the partial indexes and the url index, the first
 *   queued id from runs of the done index (first_queued), the search backlog from the
 *   done index (fts_recover): an open reads index entries, not rows. DESIGN.md keeps
 *   ingest to the row and the url index, so the index is of the done articles, not of
 *   the queue: a done adds one entry, at the index's right edge as ids finish in
 *   about the order they came (bench/README.md, "Twenty-eighth pass").
 * - `processing` rows (written by versions before the claimed set was kept in memory)
 *   are reset to `queued` here, once, rather than by a scan at every open. */

/* Step 2 -> 3's span rebuild, as released (CF_ARCHIVE_SPANS_SQL has changed since). */
#define SPANS_V3_SQL                                                                               \
    "DELETE FROM fact_type_spans;"                                                                 \
    "DELETE FROM fact_subject_spans;"                                                              \
    "CREATE TEMP TABLE cf_fact_runs AS SELECT seq, type, subject,"                                 \
    " sum(new_run) OVER (ORDER BY seq) AS run FROM (SELECT seq, type, subject,"                    \
    " article IS NOT lag(article) OVER (ORDER BY seq) AS new_run FROM facts);"                     \
    "INSERT INTO fact_type_spans(type, first, last) SELECT type, min(seq), max(seq)"               \
    " FROM temp.cf_fact_runs WHERE type IS NOT NULL GROUP BY run, type, seq / 1024;"               \
    "INSERT INTO fact_subject_spans(subject, first, last) SELECT subject, min(seq), max(seq)"      \
    " FROM temp.cf_fact_runs WHERE subject IS NOT NULL GROUP BY run, subject, seq / 1024;"         \
    "DROP TABLE temp.cf_fact_runs;"

static const char *const migrations[] = {
    /* 0 -> 1 */
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
    " content='articles', content_rowid='id');",
    /* 1 -> 2 */
    "CREATE INDEX facts_type ON facts(type);"
    "CREATE INDEX facts_subject ON facts(subject);"
    "CREATE VIEW article_view AS SELECT a.id, a.url, a.title, a.source, a.published, a.lang,"
    " a.state, a.attempts, a.error, a.received_at, a.done_at, a.relevant, a.relevance,"
    " a.class, length(CAST(a.body AS BLOB)) AS body_bytes,"
    " (SELECT count(*) FROM facts f WHERE f.article = a.id) AS facts"
    " FROM articles a;"
    "CREATE VIEW quarantine_view AS SELECT id, url, title, attempts, error, received_at"
    " FROM articles WHERE state = 'failed';"
    "CREATE VIEW facts_by_type AS SELECT type, count(*) AS facts,"
    " count(DISTINCT subject) AS subjects, count(DISTINCT article) AS articles,"
    " min(seq) AS first_seq, max(seq) AS last_seq FROM facts GROUP BY type;"
    "CREATE VIEW facts_by_subject AS SELECT subject, type, count(*) AS facts,"
    " max(seq) AS last_seq FROM facts GROUP BY subject, type;",
    /* 2 -> 3 */
    "DROP INDEX facts_type;"
    "DROP INDEX facts_subject;"
    "CREATE TABLE fact_type_spans(type TEXT NOT NULL, first INTEGER NOT NULL,"
    " last INTEGER NOT NULL, PRIMARY KEY(type, first)) WITHOUT ROWID;"
    "CREATE TABLE fact_subject_spans(subject TEXT NOT NULL, first INTEGER NOT NULL,"
    " last INTEGER NOT NULL, PRIMARY KEY(subject, first)) WITHOUT ROWID;" SPANS_V3_SQL,
    /* 3 -> 4 */
    "CREATE TABLE fact_spans_mark(one INTEGER PRIMARY KEY CHECK(one = 1),"
    " seq INTEGER NOT NULL);"
    "INSERT INTO fact_spans_mark(one, seq) VALUES(1, coalesce((SELECT max(seq) FROM facts), 0));",
    /* 4 -> 5 */
    "CREATE INDEX articles_failed ON articles(id) WHERE state = 'failed';",
    /* 5 -> 6 (parenthesized: one element, two statements) */
    ("UPDATE articles SET state = 'queued' WHERE state = 'processing';"
     "CREATE INDEX articles_done ON articles(id) WHERE state = 'done';"),
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof *migrations))
_Static_assert(SCHEMA_VERSION == CF_ARCHIVE_SCHEMA_VERSION,
               "cf_archive.h's CF_ARCHIVE_SCHEMA_VERSION is the number of migrations");

/* A fact row: FACT_COLS values, in this order (see insert_facts). OR FAIL: no constraint
 * of the table needs ABORT's statement rollback (a DONE that fails half-way is rerun with
 * a savepoint, see run_batch), and without it SQLite opens a statement journal for every
 * multi-row INSERT (a copy of each page the statement touches). */
#define FACT_INSERT_SQL                                                                            \
    "INSERT OR FAIL INTO facts(article, type, subject, object, value, unit, period, period_start," \
    " period_end, place, detail, qualifier, status, source, confidence, evidence,"                 \
    " evidence_start, evidence_end) VALUES"
#define FACT_COLS 18
#define FACT_ROWS 32 /* rows per INSERT statement (statements prepared on first use) */

/* Spans (cf_archive.h). Written with each article, the span tables were 38 % of the
 * WAL's frames: each table is keyed (key, first), so an article's ~10 types put a row
 * on ~10 leaves, each rewritten whole for a 20-byte row (bench/README.md, "Tenth
 * pass"). The writer computes an article's rows when it is done but keeps them in
 * memory (pending), and inserts them in bulk, sorted by key, then moves the mark:
 * - in the batch that takes the facts above the mark to SPANS_FLUSH or more;
 * - in each transaction that indexes the search backlog while the writer is idle
 *   (no commit of their own), and at close;
 * - in a transaction of their own once the writer has had no request for
 *   SPANS_IDLE_WAIT seconds and there is nothing to index: a light load, whose batches
 *   index as they go, pays that commit once per pause, not once per article.
 * Meanwhile the reader reads the facts above the mark from the log. What a crash lost
 * is rebuilt at open from the facts above the mark, in SQL (CF_ARCHIVE_SPANS_ADD_*:
 * the same rows; measured too slow for every flush, bench/README.md "Eleventh pass"). */
#define SPANS_FLUSH 4096
#define SPANS_IDLE_WAIT 1.0
#define SPAN_ROWS 32 /* rows per INSERT into a span table (statements prepared on first use) */

/* The span tables, in the writer's arrays' order. OR IGNORE: only a hand edit can leave
 * a row where a new one starts (above the mark); failing would fail every batch from
 * then on, ignoring leaves facts that `cloudfact check` reports and --repair mends. */
enum { SPAN_TYPE, SPAN_SUBJECT, SPAN_TABLES };
static const char *const span_insert_sql[SPAN_TABLES] = {
    "INSERT OR IGNORE INTO fact_type_spans(type, first, last) VALUES",
    "INSERT OR IGNORE INTO fact_subject_spans(subject, first, last) VALUES",
};

#define NOW_SQL "strftime('%Y-%m-%dT%H:%M:%fZ','now')"

/* The writer's statements, prepared once (SQLITE_PREPARE_PERSISTENT). */
enum {
    S_BEGIN,
    S_COMMIT,
    S_ROLLBACK,
    S_SAVEPOINT,
    S_RELEASE_SP,
    S_ROLLBACK_SP,
    S_INSERT,
    S_FIND_URL,
    S_CLAIM_SCAN,
    S_CLAIM_TAKE,
    S_DONE_MARK,
    S_URL_OF,
    S_FTS,
    S_STATE_OF,
    S_FAIL,
    S_NEXT_ID,
    S_IS_DONE,
    S_DONE_RUN,
    S_IS_FAILED,
    S_MAX_ID,
    S_REQUEUE,
    S_SPANS_MARK,
    S_FTS_MERGE,
    S_COUNT
};

static const char *const stmt_sql[S_COUNT] = {
    [S_BEGIN] = "BEGIN IMMEDIATE",
    [S_COMMIT] = "COMMIT",
    [S_ROLLBACK] = "ROLLBACK",
    [S_SAVEPOINT] = "SAVEPOINT req",
    [S_RELEASE_SP] = "RELEASE req",
    [S_ROLLBACK_SP] = "ROLLBACK TO req",
    /* SPEC: ingest writes one row and the url index, nothing more. No RETURNING on the
     * two statements of every article (this and S_DONE_MARK): SQLite gathers its rows
     * in an ephemeral b-tree, opened and closed per statement (bench/README.md,
     * "Thirteenth pass"); sqlite3_changes, the last rowid and S_URL_OF instead */
    [S_INSERT] = "INSERT INTO articles(url, title, body, source, published, lang, state,"
                 " attempts, received_at)"
                 " VALUES(?1, ?2, ?3, ?4, ?5, coalesce(?6, 'en'), 'queued', 0, " NOW_SQL ")"
                 " ON CONFLICT(url) DO NOTHING",
    [S_FIND_URL] = "SELECT id FROM articles WHERE url = ?1",
    [S_CLAIM_SCAN] = "SELECT id FROM articles WHERE id > ?1 AND state = 'queued'"
                     " ORDER BY id LIMIT ?2",
    /* a claim writes nothing (see "Processing" below) */
    [S_CLAIM_TAKE] = "SELECT id, url, title, body, source, published, lang,"
                     " (julianday(received_at) - 2440587.5) * 86400.0"
                     " FROM articles WHERE id = ?1 AND state = 'queued'",
    [S_DONE_MARK] = "UPDATE articles SET state = 'done', done_at = " NOW_SQL ","
                    " relevant = ?2, relevance = ?3, class = json(?4)"
                    " WHERE id = ?1 AND state = 'queued'",
    [S_URL_OF] = "SELECT url FROM articles WHERE id = ?1",
    /* every article of a chunk in one statement: FTS5 writes its pending terms out as
     * a new segment at the end of each statement (its savepoint release), so one
     * statement per article made a segment per article, and merging them cost ~5x the
     * tokenizing (bench/README.md, "fifth pass") */
    [S_FTS] = "INSERT INTO article_fts(rowid, title, body)"
              " SELECT a.id, a.title, a.body FROM json_each(?1) j JOIN articles a"
              " ON a.id = j.value",
    [S_STATE_OF] = "SELECT state FROM articles WHERE id = ?1",
    /* a bounded step of merging (see "Merging" above); does nothing, changing fewer than
     * two rows, once no level holds 4 segments */
    [S_FTS_MERGE] = "INSERT INTO article_fts(article_fts, rank)"
                    " VALUES('merge', " STR(FTS_MERGE_PAGES) ")",
    [S_FAIL] = "UPDATE articles SET attempts = attempts + 1, error = ?2,"
               " state = CASE WHEN attempts + 1 >= ?3 THEN 'failed' ELSE 'queued' END"
               " WHERE id = ?1 AND state = 'queued' RETURNING attempts, state, url",
    /* operator requeue: a fresh start, attempts and error forgotten */
    [S_REQUEUE] = "UPDATE articles SET state = 'queued', attempts = 0, error = NULL"
                  " WHERE state = 'failed' AND (?1 = 0 OR id = ?1) RETURNING id",
    [S_NEXT_ID] = "SELECT id FROM articles WHERE id >= ?1 ORDER BY id LIMIT 1",
    /* INDEXED BY: by id alone SQLite reads the row, and state comes after the body */
    [S_IS_DONE] = "SELECT 1 FROM articles INDEXED BY articles_done WHERE state = 'done'"
                  " AND id = ?1",
    /* the last id of the run of consecutive done ids from ?1 on */
    [S_DONE_RUN] = "SELECT d.id FROM articles d INDEXED BY articles_done WHERE d.state = 'done'"
                   " AND d.id >= ?1 AND NOT EXISTS (SELECT 1 FROM articles e INDEXED BY"
                   " articles_done WHERE e.state = 'done' AND e.id = d.id + 1)"
                   " ORDER BY d.id LIMIT 1",
    [S_IS_FAILED] = "SELECT 1 FROM articles INDEXED BY articles_failed WHERE state = 'failed'"
                    " AND id = ?1",
    [S_MAX_ID] = "SELECT coalesce(max(id), 0) FROM articles",
    [S_SPANS_MARK] = CF_ARCHIVE_SPANS_MARK_SQL, /* the writer appends every fact */
};

/* ------------------------------------------------------------------------ */
/* The object                                                                */
/* ------------------------------------------------------------------------ */

/* One span row (cf_archive.h) while sorted; while an article's are computed, one fact:
 * first = last = seq. */
typedef struct span {
    const char *key;
    uint64_t first, last;
} span_t;

/* A span row kept for later: its key is an offset into span_rows_t.keys. */
typedef struct span_row {
    size_t key;
    uint64_t first, last;
} span_row_t;

/* The span rows of one table not yet inserted (see "Spans"), in the order their
 * articles were done; keys holds their keys, NUL-terminated. */
typedef struct span_rows {
    span_row_t *v;
    size_t n, cap;
    char *keys;
    size_t klen, kcap;
} span_rows_t;

/* A min-heap of article ids given back (FAIL, RELEASE) below the claim cursor. */
typedef struct idheap {
    uint64_t *v;
    size_t n, cap;
} idheap_t;

/* Processing. A claimed article stays `queued` in the archive: the set of articles
 * handed out and not yet back (done, failed or released) is writer memory only, so a
 * claim and a release write nothing and the article's row (4 KiB of body and its
 * overflow pages) is rewritten once, when it is done or failed, instead of three
 * times. Nothing durable is lost: `processing` was reset to `queued` at every start
 * anyway. The counters (cf_archive_stats: processing) still count them; archives
 * written by older versions may hold `processing` rows: the migration to version 6
 * resets them (one set by hand is reported by `cloudfact check`). */
typedef struct idset {
    uint64_t *v; /* open addressing, linear probing; 0 is an empty slot (ids start at 1) */
    size_t n, cap;
} idset_t;

/* One change to the set in the current batch, undone if the batch rolls back. */
typedef struct idlog {
    uint64_t id;
    bool added;
} idlog_t;

struct cf_archive {
    char *dir;               /* state directory */
    char *path;              /* DIR/cloudfact.db */
    int lock_fd;             /* DIR/cloudfactd.lock, OFD write-locked; -1 if none */
    struct event_base *base; /* borrowed */
    struct event *done_ev;   /* activated by the writer; runs callbacks on the loop */
    sqlite3 *db;             /* write connection: the writer thread's once it runs */
    sqlite3 *rdb;            /* read-only connection for list_failed (loop thread) */
    sqlite3_stmt *r_failed;  /* its statement (the quarantine listing) */
    sqlite3_stmt *st[S_COUNT]; /* the writer's statements */
    /* INSERT of k facts at [k - 1], prepared on first use */
    sqlite3_stmt *st_facts[FACT_ROWS];
    /* INSERT of k spans into span table t at [t][k - 1], likewise */
    sqlite3_stmt *st_spans[SPAN_TABLES][SPAN_ROWS];

    pthread_t thread; /* the writer */
    bool thread_started;
    pthread_mutex_t mu;                      /* guards everything down to w_lasterr */
    pthread_cond_t cv;                       /* signalled on submit, control and stop */
    cf_archive_req_t *q_head, *q_tail;       /* submitted, not yet taken */
    cf_archive_req_t *done_head, *done_tail; /* finished, callbacks not yet run */
    bool closing;                            /* no more submits */
    int64_t ctl_max_pages;                   /* pending PRAGMA max_page_count, -1 none */
    int ctl_busy_ms;                         /* pending busy timeout, -1 none */
    double close_budget;                     /* seconds of search indexing at close (mu) */
    uint64_t w_commits;                      /* counted by the writer, copied into st on delivery */
    uint64_t w_batched;
    uint64_t w_rollbacks;
    uint64_t w_checkpoints;          /* checkpoints run (counted by the writer) */
    uint64_t w_checkpoint_failures;  /* of them, failed (not merely busy) */
    char w_lasterr[CF_ERR_TEXT_MAX]; /* why the last batch was rolled back */
    cf_ratelog_t rollback_log;       /* loop thread: rolled-back batches, said */
    cf_ratelog_t damage_log;         /* of them, those a damaged file caused: not held
                                      * back by a passing rollback's line */

    /* writer-owned (the thread that opens, then the writer, then close after join) */
    uint64_t cursor;            /* highest id handed out by the cursor scan */
    idheap_t requeued;          /* ids given back at or below the cursor */
    bool need_rescan;           /* cursor and heap must be rebuilt from the table */
    idset_t claimed;            /* articles handed out and not back: `processing` */
    idlog_t *claim_log;         /* changes to claimed in the current batch */
    size_t claim_log_n, claim_log_cap;
    cf_idq_t fts;               /* the search backlog: done articles not yet indexed, oldest
                                 * first */
    uint64_t spans_pending;     /* facts above the spans' mark (see "Spans") */
    span_rows_t pending[SPAN_TABLES]; /* their span rows, per table */
    struct span *scratch;             /* rows being sorted (per article, then per flush) */
    size_t scratch_cap;
    bool spans_stalled;         /* adding them while idle failed: wait for a request */
    char *fts_list;             /* the ids of one S_FTS as a JSON array (reused) */
    size_t fts_list_cap;
    _Atomic uint64_t fts_shown; /* fts.n after the writer's last transaction (stats) */
    bool fts_stalled;           /* indexing failed: none until a commit past fts_retry_at */
    double fts_retry_at;        /* see FTS_RETRY_SECONDS (CLOCK_MONOTONIC, s) */
    bool fts_failed;            /* run_batch_once failed in index_backlog */
    bool fts_merge_due;         /* opened or indexed since the last merge step that found nothing */
    bool careful;               /* a savepoint around each DONE (see run_batch) */
    bool halfway;               /* a DONE failed after writing part of itself */
    cf_busy_t busy;             /* the writer's busy share (batches; CLOCK_MONOTONIC) */
    double batch_t0;            /* when the batch being run began (CLOCK_MONOTONIC, s) */
    int wal_frames;             /* frames in the WAL after the last commit (wal_hook) */
    bool ckpt_failing;          /* the last checkpoint failed: said once, and once more
                                 * when one works again */
    char werr[CF_ERR_TEXT_MAX]; /* sqlite's message for a batch failure */

    /* the opening thread's, until cf_archive_open returns (see "Opening") */
    cf_archive_progress_t progress; /* fn NULL: none */
    const char *step;               /* what opening is doing (a literal) */
    char step_buf[96];              /* a step with numbers in it */
    uint64_t progress_last_ms;      /* when progress.fn last ran (or opening began) */
    uint64_t busy_since_ms;         /* when the current wait for a lock began */

    /* loop-thread-owned */
    cf_archive_stats_t st_; /* the counters cf_archive_stats returns */
};

/* ------------------------------------------------------------------------ */
/* Small helpers                                                             */
/* ------------------------------------------------------------------------ */

static void
heap_push(idheap_t *h, uint64_t id)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 64;
        h->v = cf_realloc(h->v, h->cap * sizeof *h->v);
    }
    size_t i = h->n++;
    while (i > 0 && h->v[(i - 1) / 2] > id) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = id;
}

static uint64_t
heap_pop(idheap_t *h)
{
    uint64_t top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->v[c + 1] < h->v[c])
            c++;
        if (h->v[c] >= last)
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

static size_t
idset_slot(const idset_t *s, uint64_t id)
{
    uint64_t h = id * 0x9E3779B97F4A7C15ull;
    return (size_t)(h ^ (h >> 29)) & (s->cap - 1);
}

static bool
idset_has(const idset_t *s, uint64_t id)
{
    if (!s->n || id == 0) /* 0 marks an empty slot: never a member */
        return false;
    for (size_t i = idset_slot(s, id);; i = (i + 1) & (s->cap - 1)) {
        if (s->v[i] == id)
            return true;
        if (s->v[i] == 0)
            return false;
    }
}

static void
idset_add(idset_t *s, uint64_t id)
{
    if (2 * (s->n + 1) > s->cap) {
        idset_t g = {.cap = s->cap ? s->cap * 2 : 64};
        g.v = cf_calloc(g.cap, sizeof *g.v);
        for (size_t i = 0; i < s->cap; i++)
            if (s->v[i])
                idset_add(&g, s->v[i]);
        free(s->v);
        *s = g;
    }
    if (id == 0)
        return;
    size_t i = idset_slot(s, id);
    while (s->v[i] && s->v[i] != id)
        i = (i + 1) & (s->cap - 1);
    if (!s->v[i]) {
        s->v[i] = id;
        s->n++;
    }
}

/* Removes id (backward-shift deletion: no tombstones); false if it was not there. */
static bool
idset_del(idset_t *s, uint64_t id)
{
    if (!s->n || id == 0) /* e.g. the daemon's write probe: RELEASE of article 0 */
        return false;
    size_t mask = s->cap - 1, i = idset_slot(s, id);
    while (s->v[i] != id) {
        if (s->v[i] == 0)
            return false;
        i = (i + 1) & mask;
    }
    for (size_t j = (i + 1) & mask; s->v[j]; j = (j + 1) & mask) {
        size_t home = idset_slot(s, s->v[j]);
        /* v[j] may move to the hole at i if its home is not in (i, j] (cyclically) */
        if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
            s->v[i] = s->v[j];
            i = j;
        }
    }
    s->v[i] = 0;
    s->n--;
    return true;
}

/* Errors after which the transaction cannot go on: the whole batch is rolled back
 * and every request of it answered busy (or db for a damaged file). */
static bool
is_batch_error(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_NOMEM:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_IOERR:
    case SQLITE_CORRUPT:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_NOTADB:
        return true;
    default:
        return false;
    }
}

static int
batch_error_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
        return CF_EDB;
    default:
        return CF_EBUSY;
    }
}

/* Resets s after use and drops its bindings (they may point at borrowed strings). */
static int
stmt_done(sqlite3_stmt *s)
{
    int rc = sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    return rc;
}

/* Steps s once and resets it, keeping its bindings (the multi-row INSERTs rebind every
 * parameter before each use); SQLITE_OK or the error (message kept in werr). */
static int
step_once(cf_archive_t *self, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW)
        rc = SQLITE_OK;
    else
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
    sqlite3_reset(s);
    return rc;
}

/* Runs a statement without results; SQLITE_OK or the error (message kept in werr). */
static int
exec_stmt(cf_archive_t *self, sqlite3_stmt *s)
{
    int rc = step_once(self, s);
    sqlite3_clear_bindings(s);
    return rc;
}

static char *
col_strdup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? cf_strndup((const char *)t, (size_t)sqlite3_column_bytes(s, i)) : NULL;
}

static void
bind_text(sqlite3_stmt *s, int i, const char *t)
{
    if (t)
        sqlite3_bind_text(s, i, t, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

/* A growable string for the class JSON. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf_t;

static void
sbuf_add(sbuf_t *b, const char *s, size_t len)
{
    if (b->n + len + 1 > b->cap) {
        while (b->n + len + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 128;
        b->p = cf_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void
sbuf_json_array(sbuf_t *b, char *const *items, size_t n)
{
    sbuf_add(b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            sbuf_add(b, ",", 1);
        sbuf_add(b, "\"", 1);
        for (const unsigned char *c = (const unsigned char *)(items[i] ? items[i] : ""); *c; c++) {
            char esc[8];
            if (*c == '"' || *c == '\\') {
                esc[0] = '\\';
                esc[1] = (char)*c;
                sbuf_add(b, esc, 2);
            } else if (*c < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *c);
                sbuf_add(b, esc, 6);
            } else {
                sbuf_add(b, (const char *)c, 1); /* UTF-8 passes through */
            }
        }
        sbuf_add(b, "\"", 1);
    }
    sbuf_add(b, "]", 1);
}

/* {"companies":[...],"regions":[...]}; caller frees. */
static char *
class_json(const cf_class_t *c)
{
    sbuf_t b = {0};
    sbuf_add(&b, "{\"companies\":", 13);
    sbuf_json_array(&b, c->companies, c->ncompanies);
    sbuf_add(&b, ",\"regions\":", 11);
    sbuf_json_array(&b, c->regions, c->nregions);
    sbuf_add(&b, "}", 1);
    return b.p;
}

/* ------------------------------------------------------------------------ */
/* Requests (writer thread, inside the batch transaction)                    */
/* ------------------------------------------------------------------------ */

/* Each exec_* returns SQLITE_OK (the request's own outcome is in req->rc) or a batch
 * error: then the caller rolls back the whole batch. */

/* A statement failed in a way specific to this request. */
static int
req_sql_error(cf_archive_t *self, cf_archive_req_t *req, int rc)
{
    if (is_batch_error(rc) || sqlite3_get_autocommit(self->db))
        return rc ? rc : SQLITE_ERROR; /* the transaction is gone: the batch fails */
    cf_err_set(&req->err, CF_EREFUSED, "archive: %s", self->werr);
    req->rc = CF_EREFUSED;
    return SQLITE_OK;
}

static int
exec_insert(cf_archive_t *self, cf_archive_req_t *req)
{
    cf_article_t *a = req->u.insert.article;
    sqlite3_stmt *s = self->st[S_INSERT];
    bind_text(s, 1, a->url);
    bind_text(s, 2, a->title);
    bind_text(s, 3, a->body);
    bind_text(s, 4, a->source);
    bind_text(s, 5, a->published);
    bind_text(s, 6, a->lang);
    uint64_t id = 0;
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE) {
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
        stmt_done(s);
        return req_sql_error(self, req, rc);
    }
    stmt_done(s);
    if (sqlite3_changes(self->db) > 0) /* else ON CONFLICT DO NOTHING */
        id = (uint64_t)sqlite3_last_insert_rowid(self->db);
    if (id) {
        req->u.insert.id = id;
        a->id = id;
        return SQLITE_OK;
    }
    /* ON CONFLICT DO NOTHING: the url is already archived, maybe earlier in this batch */
    s = self->st[S_FIND_URL];
    bind_text(s, 1, a->url);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        id = (uint64_t)sqlite3_column_int64(s, 0);
    else
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
    stmt_done(s);
    if (rc != SQLITE_ROW)
        return req_sql_error(self, req, rc == SQLITE_DONE ? SQLITE_ERROR : rc);
    req->u.insert.id = id;
    req->rc =
        cf_err_set(&req->err, CF_EDUP, "duplicate: url already archived as article %" PRIu64, id);
    return SQLITE_OK;
}

/* A request's savepoint, only in a careful batch: a savepoint makes SQLite copy every
 * page the request touches into a statement journal (4 KiB memcpy and malloc each),
 * and a DONE practically never fails half-way (see run_batch). */
static int
savepoint(cf_archive_t *self)
{
    if (!self->careful)
        return SQLITE_OK;
    return exec_stmt(self, self->st[S_SAVEPOINT]);
}

/* Ends the request's savepoint; undo drops what it wrote. */
static int
savepoint_end(cf_archive_t *self, bool undo)
{
    int rc = SQLITE_OK;
    if (!self->careful)
        return SQLITE_OK;
    if (undo)
        rc = exec_stmt(self, self->st[S_ROLLBACK_SP]);
    if (rc == SQLITE_OK)
        rc = exec_stmt(self, self->st[S_RELEASE_SP]);
    return rc;
}

/* Changes to the set of claimed articles, logged so that a rolled-back batch (or a
 * failed claim) can undo them. */
static void
claimed_log(cf_archive_t *self, uint64_t id, bool added)
{
    if (self->claim_log_n == self->claim_log_cap) {
        self->claim_log_cap = self->claim_log_cap ? self->claim_log_cap * 2 : 256;
        self->claim_log =
            cf_realloc(self->claim_log, self->claim_log_cap * sizeof *self->claim_log);
    }
    self->claim_log[self->claim_log_n++] = (idlog_t){.id = id, .added = added};
}

static bool
claimed_del(cf_archive_t *self, uint64_t id)
{
    if (!idset_del(&self->claimed, id))
        return false;
    claimed_log(self, id, false);
    return true;
}

/* Undoes the changes logged after mark, newest first. */
static void
claimed_undo(cf_archive_t *self, size_t mark)
{
    while (self->claim_log_n > mark) {
        idlog_t *l = &self->claim_log[--self->claim_log_n];
        if (l->added)
            idset_del(&self->claimed, l->id);
        else
            idset_add(&self->claimed, l->id);
    }
}

/* Whether a claim that holds bytes of bodies may take one more article. */
static bool
claim_room(const cf_archive_req_t *req, size_t bytes)
{
    return !req->u.claim.max_bytes || bytes < req->u.claim.max_bytes;
}

/* Hands out one queued article (into the claimed set) and appends it to the claim,
 * adding its body's length to *bytes;
 * SQLITE_OK also when the id is no longer queued or already out (a stale entry). */
static int
claim_take(cf_archive_t *self, cf_archive_req_t *req, uint64_t id, size_t *cap, size_t *bytes)
{
    if (idset_has(&self->claimed, id))
        return SQLITE_OK;
    sqlite3_stmt *s = self->st[S_CLAIM_TAKE];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if (req->u.claim.n == *cap) {
            *cap = *cap ? *cap * 2 : 16;
            req->u.claim.articles =
                cf_realloc(req->u.claim.articles, *cap * sizeof *req->u.claim.articles);
        }
        cf_article_t *a = &req->u.claim.articles[req->u.claim.n++];
        memset(a, 0, sizeof *a);
        a->id = (uint64_t)sqlite3_column_int64(s, 0);
        a->url = col_strdup(s, 1);
        a->title = col_strdup(s, 2);
        a->body = col_strdup(s, 3);
        a->body_len = a->body ? (size_t)sqlite3_column_bytes(s, 3) : 0;
        *bytes += a->body_len;
        a->source = col_strdup(s, 4);
        a->published = col_strdup(s, 5);
        a->lang = col_strdup(s, 6);
        a->received_at = sqlite3_column_double(s, 7);
        idset_add(&self->claimed, a->id);
        claimed_log(self, a->id, true);
        rc = sqlite3_step(s);
    }
    if (rc != SQLITE_DONE) {
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
        stmt_done(s);
        return rc;
    }
    stmt_done(s);
    return SQLITE_OK;
}

static void
claim_free(cf_archive_req_t *req)
{
    for (size_t i = 0; i < req->u.claim.n; i++)
        cf_article_clear(&req->u.claim.articles[i]);
    free(req->u.claim.articles);
    req->u.claim.articles = NULL;
    req->u.claim.n = 0;
}

/* Claim: ids given back first (smallest first), then the cursor scan, which needs no
 * index on state: every queued row at or below the cursor is in the heap or claimed.
 * Reads only (see "Processing"): no savepoint needed. */
static int
exec_claim(cf_archive_t *self, cf_archive_req_t *req)
{
    size_t max = req->u.claim.max, cap = 0, mark = self->claim_log_n, bytes = 0;
    if (max == 0)
        return SQLITE_OK;
    int rc = SQLITE_OK;
    while (rc == SQLITE_OK && req->u.claim.n < max && self->requeued.n && claim_room(req, bytes))
        rc = claim_take(self, req, heap_pop(&self->requeued), &cap, &bytes);
    uint64_t ids[256];
    while (rc == SQLITE_OK && req->u.claim.n < max && claim_room(req, bytes)) {
        size_t want = max - req->u.claim.n, got = 0;
        if (want > sizeof ids / sizeof *ids)
            want = sizeof ids / sizeof *ids;
        sqlite3_stmt *s = self->st[S_CLAIM_SCAN];
        sqlite3_bind_int64(s, 1, (sqlite3_int64)self->cursor);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)want);
        while ((rc = sqlite3_step(s)) == SQLITE_ROW)
            ids[got++] = (uint64_t)sqlite3_column_int64(s, 0);
        if (rc != SQLITE_DONE) {
            snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
            stmt_done(s);
            break;
        }
        stmt_done(s);
        rc = SQLITE_OK;
        size_t i = 0;
        for (; i < got && rc == SQLITE_OK && claim_room(req, bytes); i++) {
            rc = claim_take(self, req, ids[i], &cap, &bytes);
            if (ids[i] > self->cursor)
                self->cursor = ids[i];
        }
        if (got < want || i < got)
            break; /* the queue's end, or the byte bound (the cursor stops at the last
                    * article taken: the rest are found by the next claim) */
    }
    if (rc != SQLITE_OK) {
        /* the heap and cursor moved: rebuild them from the table after this batch */
        self->need_rescan = true;
        claimed_undo(self, mark);
        claim_free(req);
        return req_sql_error(self, req, rc);
    }
    return SQLITE_OK;
}

/* Sets req to CF_EINVAL naming why id is not processing. */
static int
not_processing(cf_archive_t *self, cf_archive_req_t *req, uint64_t id)
{
    sqlite3_stmt *s = self->st[S_STATE_OF];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        cf_err_set(&req->err, CF_EINVAL, "article %" PRIu64 " is %s, not processing", id,
                   (const char *)sqlite3_column_text(s, 0));
    else if (rc == SQLITE_DONE)
        cf_err_set(&req->err, CF_EINVAL, "no article %" PRIu64, id);
    else
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
    stmt_done(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return req_sql_error(self, req, rc);
    req->rc = CF_EINVAL;
    return SQLITE_OK;
}

static void
done_reset(cf_archive_req_t *req)
{
    cf_facts_t *f = req->u.done.facts;
    for (size_t i = 0; f && i < f->n; i++)
        f->v[i].seq = 0;
    req->u.done.first_seq = req->u.done.last_seq = 0;
    free(req->u.done.url);
    req->u.done.url = NULL;
}

/* The facts of a DONE go in by multi-row INSERTs of up to FACT_ROWS rows: one statement
 * per chunk instead of one per fact (each statement has a fixed cost: the AUTOINCREMENT
 * bookkeeping in sqlite_sequence, opening the table's and the indexes' cursors, bind,
 * reset): ~10 % of the writer's instructions at 21 facts per article. The rows of one
 * statement get consecutive seqs (one writer, inside our transaction: AUTOINCREMENT gives
 * each row the previous one plus 1; nothing else inserts into facts meanwhile, as no
 * trigger of ours does), so the chunk's seqs are last_insert_rowid() - k + 1 ...
 * last_insert_rowid(). The statements keep their last bindings (SQLITE_STATIC pointers
 * into a finished request) until the next use rebinds every parameter: they are never
 * stepped in between. */
/* The INSERT of k rows of ncols values each: head, then "(?1,...,?ncols),(...)", in
 * *slot, prepared on first use. */
static int
rows_stmt(cf_archive_t *self, sqlite3_stmt **slot, const char *head, int ncols, size_t k)
{
    if (*slot)
        return SQLITE_OK;
    sbuf_t b = {0};
    sbuf_add(&b, head, strlen(head));
    for (size_t i = 0; i < k; i++) {
        char row[160];
        int n = 0;
        for (int c = 0; c < ncols; c++)
            n += snprintf(row + n, sizeof row - (size_t)n, "%s?%zu%s", c ? "," : (i ? ",(" : "("),
                          i * (size_t)ncols + (size_t)c + 1, c == ncols - 1 ? ")" : "");
        sbuf_add(&b, row, (size_t)n);
    }
    int rc = sqlite3_prepare_v3(self->db, b.p, -1, SQLITE_PREPARE_PERSISTENT, slot, NULL);
    if (rc != SQLITE_OK) {
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
        *slot = NULL;
    }
    free(b.p);
    return rc;
}

static int
insert_facts(cf_archive_t *self, uint64_t article, cf_fact_t *v, size_t n)
{
    int rc = SQLITE_OK;
    while (rc == SQLITE_OK && n > 0) {
        size_t k = n < FACT_ROWS ? n : FACT_ROWS;
        rc = rows_stmt(self, &self->st_facts[k - 1], FACT_INSERT_SQL, FACT_COLS, k);
        if (rc != SQLITE_OK)
            return rc;
        sqlite3_stmt *s = self->st_facts[k - 1];
        char ps[FACT_ROWS][11], pe[FACT_ROWS][11];
        for (size_t i = 0; i < k; i++) {
            const cf_fact_t *f = &v[i];
            int o = (int)(i * FACT_COLS);
            bool period = f->period && cf_period_range(f->period, ps[i], pe[i]) == CF_OK;
            sqlite3_bind_int64(s, o + 1, (sqlite3_int64)article);
            bind_text(s, o + 2, f->type);
            bind_text(s, o + 3, f->subject);
            bind_text(s, o + 4, f->object);
            if (f->has_value)
                sqlite3_bind_double(s, o + 5, f->value);
            else
                sqlite3_bind_null(s, o + 5);
            bind_text(s, o + 6, f->unit);
            bind_text(s, o + 7, f->period);
            bind_text(s, o + 8, period ? ps[i] : NULL);
            bind_text(s, o + 9, period ? pe[i] : NULL);
            bind_text(s, o + 10, f->place);
            bind_text(s, o + 11, f->detail);
            bind_text(s, o + 12, f->qualifier);
            bind_text(s, o + 13, f->status);
            bind_text(s, o + 14, f->source);
            sqlite3_bind_double(s, o + 15, f->confidence);
            bind_text(s, o + 16, f->evidence);
            sqlite3_bind_int64(s, o + 17, (sqlite3_int64)f->evidence_start);
            sqlite3_bind_int64(s, o + 18, (sqlite3_int64)f->evidence_end);
        }
        rc = step_once(self, s);
        if (rc == SQLITE_OK) {
            uint64_t last = (uint64_t)sqlite3_last_insert_rowid(self->db);
            for (size_t i = 0; i < k; i++) {
                v[i].seq = last - (k - 1 - i);
                v[i].article = article;
            }
        }
        v += k;
        n -= k;
    }
    return rc;
}

static int
span_cmp(const void *a, const void *b)
{
    const span_t *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->first > y->first) - (x->first < y->first);
}

/* Sorts sp[0..n) by key and seq and merges, in place, each row into the one before it
 * when they have one key, lie in one block of CF_ARCHIVE_SPAN_MAX seqs and are less
 * than gap seqs apart (cf_archive.h). Returns the rows left. */
static size_t
merge_spans(span_t *sp, size_t n, uint64_t gap)
{
    qsort(sp, n, sizeof *sp, span_cmp);
    size_t rows = 0; /* row r never passes the one it reads */
    for (size_t i = 0; i < n; i++) {
        span_t *last = rows ? &sp[rows - 1] : NULL;
        if (last && strcmp(last->key, sp[i].key) == 0 &&
            last->first / CF_ARCHIVE_SPAN_MAX == sp[i].first / CF_ARCHIVE_SPAN_MAX &&
            sp[i].first - last->last < gap)
            last->last = sp[i].last;
        else
            sp[rows++] = sp[i];
    }
    return rows;
}

static span_t *
scratch(cf_archive_t *self, size_t n)
{
    if (n > self->scratch_cap) {
        self->scratch_cap = n < 64 ? 64 : n;
        self->scratch = cf_realloc(self->scratch, self->scratch_cap * sizeof *self->scratch);
    }
    return self->scratch;
}

/* Keeps the span rows of table t for the facts v[0..n) just inserted (seqs set, one block
 * of one article): per key, the first and last seq of its facts, cut where a seq crosses
 * a multiple of CF_ARCHIVE_SPAN_MAX (add_spans merges them, as CF_ARCHIVE_SPANS_ADD_*
 * would for the same facts). */
static void
keep_spans(cf_archive_t *self, int t, const cf_fact_t *v, size_t n)
{
    span_t *sp = scratch(self, n);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *key = t == SPAN_TYPE ? v[i].type : v[i].subject;
        if (key)
            sp[m++] = (span_t){key, v[i].seq, v[i].seq};
    }
    size_t rows = merge_spans(sp, m, CF_ARCHIVE_SPAN_MAX); /* one run: any gap */
    span_rows_t *p = &self->pending[t];
    for (size_t i = 0; i < rows; i++) {
        size_t kl = strlen(sp[i].key) + 1;
        if (p->klen + kl > p->kcap) {
            p->kcap = p->kcap ? p->kcap * 2 : 4096;
            while (p->klen + kl > p->kcap)
                p->kcap *= 2;
            p->keys = cf_realloc(p->keys, p->kcap);
        }
        if (p->n == p->cap) {
            p->cap = p->cap ? p->cap * 2 : 1024;
            p->v = cf_realloc(p->v, p->cap * sizeof *p->v);
        }
        memcpy(p->keys + p->klen, sp[i].key, kl);
        p->v[p->n].key = p->klen;
        p->v[p->n].first = sp[i].first;
        p->v[p->n].last = sp[i].last;
        p->n++;
        p->klen += kl;
    }
}

/* Inserts the pending rows of every table, sorted by key (each key's new rows go on its
 * leaf together) and merged (CF_ARCHIVE_SPAN_GAP), and moves the mark, in the current
 * transaction. The caller forgets the rows (spans_forget) once it committed. */
static int
add_spans(cf_archive_t *self)
{
    int rc = SQLITE_OK;
    for (int t = 0; rc == SQLITE_OK && t < SPAN_TABLES; t++) {
        const span_rows_t *p = &self->pending[t];
        span_t *sp = scratch(self, p->n);
        for (size_t i = 0; i < p->n; i++)
            sp[i] = (span_t){p->keys + p->v[i].key, p->v[i].first, p->v[i].last};
        size_t rows = merge_spans(sp, p->n, CF_ARCHIVE_SPAN_GAP);
        for (size_t i = 0; rc == SQLITE_OK && i < rows;) {
            size_t k = rows - i < SPAN_ROWS ? rows - i : SPAN_ROWS;
            rc = rows_stmt(self, &self->st_spans[t][k - 1], span_insert_sql[t], 3, k);
            if (rc != SQLITE_OK)
                break;
            sqlite3_stmt *s = self->st_spans[t][k - 1];
            for (size_t j = 0; j < k; j++, i++) {
                int o = (int)(3 * j);
                sqlite3_bind_text(s, o + 1, sp[i].key, -1, SQLITE_STATIC);
                sqlite3_bind_int64(s, o + 2, (sqlite3_int64)sp[i].first);
                sqlite3_bind_int64(s, o + 3, (sqlite3_int64)sp[i].last);
            }
            rc = step_once(self, s);
        }
    }
    if (rc == SQLITE_OK)
        rc = exec_stmt(self, self->st[S_SPANS_MARK]);
    return rc;
}

/* After the commit that inserted them: no span row is pending. */
static void
spans_forget(cf_archive_t *self)
{
    for (int t = 0; t < SPAN_TABLES; t++)
        self->pending[t].n = self->pending[t].klen = 0;
    self->spans_pending = 0;
}

/* Done: mark the article, append its facts, index it for search; all or nothing. */
static int
exec_done(cf_archive_t *self, cf_archive_req_t *req)
{
    uint64_t id = req->u.done.id;
    const cf_class_t *cls = req->u.done.cls;
    if (!idset_has(&self->claimed, id))
        return not_processing(self, req, id);
    int rc = savepoint(self);
    if (rc != SQLITE_OK)
        return req_sql_error(self, req, rc);
    sqlite3_stmt *s = self->st[S_DONE_MARK];
    char *cjson = cls ? class_json(cls) : NULL;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    if (cls) {
        sqlite3_bind_int(s, 2, cls->relevant ? 1 : 0);
        sqlite3_bind_double(s, 3, cls->relevance);
    }
    bind_text(s, 4, cjson);
    bool marked = false;
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) {
        rc = SQLITE_OK;
        marked = sqlite3_changes(self->db) > 0;
    } else {
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
    }
    stmt_done(s);
    free(cjson);
    if (rc == SQLITE_OK && marked) {
        s = self->st[S_URL_OF];
        sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            free(req->u.done.url);
            req->u.done.url = col_strdup(s, 0);
            rc = SQLITE_OK;
        } else {
            snprintf(self->werr, sizeof self->werr, "%s",
                     rc == SQLITE_DONE ? "article row gone" : sqlite3_errmsg(self->db));
            rc = rc == SQLITE_DONE ? SQLITE_ERROR : rc;
        }
        stmt_done(s);
    }
    if (rc == SQLITE_OK && !marked) {
        rc = savepoint_end(self, true); /* nothing was written; just close it */
        if (rc != SQLITE_OK)
            return rc;
        claimed_del(self, id); /* not queued any more: changed behind our back */
        return not_processing(self, req, id);
    }
    cf_facts_t *facts = req->u.done.facts;
    if (rc == SQLITE_OK && facts && facts->n)
        rc = insert_facts(self, id, facts->v, facts->n);
    if (rc == SQLITE_OK)
        rc = savepoint_end(self, false);
    if (rc == SQLITE_OK) {
        claimed_del(self, id);
        if (facts && facts->n) { /* spans later (see "Spans") */
            for (int t = 0; t < SPAN_TABLES; t++)
                keep_spans(self, t, facts->v, facts->n);
            self->spans_pending += facts->n;
        }
        /* indexed for search later (see "Search index") */
        cf_idq_push(&self->fts, id);
    }
    if (rc != SQLITE_OK) {
        done_reset(req);
        if (is_batch_error(rc))
            return rc;
        if (!self->careful) { /* maybe half-written: the batch runs again, carefully */
            self->halfway = true;
            return rc;
        }
        int rc2 = savepoint_end(self, true);
        if (rc2 != SQLITE_OK)
            return rc2;
        return req_sql_error(self, req, rc);
    }
    if (facts && facts->n) {
        req->u.done.first_seq = facts->v[0].seq;
        req->u.done.last_seq = facts->v[facts->n - 1].seq;
    }
    return SQLITE_OK;
}

static int
exec_fail(cf_archive_t *self, cf_archive_req_t *req)
{
    uint64_t id = req->u.fail.id;
    if (!idset_has(&self->claimed, id))
        return not_processing(self, req, id);
    sqlite3_stmt *s = self->st[S_FAIL];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)id);
    bind_text(s, 2, req->u.fail.error);
    sqlite3_bind_int64(s, 3, (sqlite3_int64)req->u.fail.max_attempts);
    bool marked = false;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        marked = true;
        req->u.fail.attempts = (unsigned)sqlite3_column_int64(s, 0);
        req->u.fail.failed = strcmp((const char *)sqlite3_column_text(s, 1), "failed") == 0;
        free(req->u.fail.url);
        req->u.fail.url = col_strdup(s, 2);
    }
    if (rc != SQLITE_DONE)
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
    stmt_done(s);
    if (rc != SQLITE_DONE) {
        free(req->u.fail.url);
        req->u.fail.url = NULL;
        req->u.fail.attempts = 0;
        req->u.fail.failed = false;
        return req_sql_error(self, req, rc);
    }
    claimed_del(self, id);
    if (!marked)
        return not_processing(self, req, id); /* not queued: changed behind our back */
    if (!req->u.fail.failed)
        heap_push(&self->requeued, id);
    return SQLITE_OK;
}

static int
exec_release(cf_archive_t *self, cf_archive_req_t *req)
{
    uint64_t id = req->u.release.id;
    if (!claimed_del(self, id)) /* writes nothing: the row is still `queued` */
        return not_processing(self, req, id);
    heap_push(&self->requeued, id);
    return SQLITE_OK;
}

static int
exec_requeue(cf_archive_t *self, cf_archive_req_t *req)
{
    sqlite3_stmt *s = self->st[S_REQUEUE];
    sqlite3_bind_int64(s, 1, (sqlite3_int64)req->u.requeue.id);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        heap_push(&self->requeued, (uint64_t)sqlite3_column_int64(s, 0));
        req->u.requeue.count++;
    }
    if (rc != SQLITE_DONE)
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
    stmt_done(s);
    if (rc != SQLITE_DONE) {
        req->u.requeue.count = 0;
        return req_sql_error(self, req, rc);
    }
    if (req->u.requeue.id && req->u.requeue.count == 0)
        req->rc = cf_err_set(&req->err, CF_ENOTFOUND, "article %" PRIu64 " is not quarantined",
                             req->u.requeue.id);
    return SQLITE_OK;
}

/* ------------------------------------------------------------------------ */
/* The writer thread                                                         */
/* ------------------------------------------------------------------------ */

/* Steps the id statement s (bound to id) once: SQLITE_ROW with *out set, SQLITE_DONE, or
 * an error. */
static int
step_id(sqlite3_stmt *s, uint64_t id, uint64_t *out)
{
    sqlite3_bind_int64(s, 1, id > INT64_MAX ? INT64_MAX : (sqlite3_int64)id);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        *out = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    return rc;
}

/* The first queued article's id, 0 when none, read from the indexes and the ids alone
 * (never a row: state comes after the body). From the lowest id up, a run of done ids
 * is skipped in one statement on the done index, a failed id on the failed index, a
 * gap in the ids by the next id; the first id that is none of these is queued. Costs a
 * statement per run and per failed article, and the done index's entries below the
 * queue. */
static int
first_queued(cf_archive_t *self, uint64_t *first)
{
    uint64_t pos = 1, id = 0, one;
    *first = 0;
    for (;;) {
        int rc = step_id(self->st[S_NEXT_ID], pos, &id);
        if (rc != SQLITE_ROW)
            return rc == SQLITE_DONE ? SQLITE_OK : rc;
        if ((rc = step_id(self->st[S_IS_DONE], id, &one)) == SQLITE_ROW) {
            if ((rc = step_id(self->st[S_DONE_RUN], id, &pos)) != SQLITE_ROW)
                return rc == SQLITE_DONE ? SQLITE_CORRUPT : rc; /* id itself ends a run */
            pos++;
            continue;
        }
        if (rc != SQLITE_DONE)
            return rc;
        if ((rc = step_id(self->st[S_IS_FAILED], id, &one)) == SQLITE_ROW) {
            pos = id + 1;
            continue;
        }
        if (rc != SQLITE_DONE)
            return rc;
        *first = id;
        return SQLITE_OK;
    }
}

/* Rebuilds the claim cursor (just below the first queued article, else the highest id)
 * and empties the requeue heap (at open, after a rollback). */
static int
rescan(cf_archive_t *self)
{
    uint64_t first = 0, top = 0;
    int rc = first_queued(self, &first);
    if (rc == SQLITE_OK && !first) {
        sqlite3_stmt *s = self->st[S_MAX_ID];
        if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            top = (uint64_t)sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        }
        sqlite3_reset(s);
    }
    if (rc == SQLITE_OK) {
        self->cursor = first ? first - 1 : top;
        self->requeued.n = 0;
        self->need_rescan = false;
    } else {
        snprintf(self->werr, sizeof self->werr, "%s", sqlite3_errmsg(self->db));
        self->need_rescan = true;
    }
    return rc;
}

static void
req_reset_out(cf_archive_req_t *req)
{
    req->rc = CF_OK;
    cf_err_clear(&req->err);
    switch (req->kind) {
    case CF_ARCHIVE_INSERT:
        req->u.insert.id = 0;
        break;
    case CF_ARCHIVE_CLAIM:
        req->u.claim.articles = NULL;
        req->u.claim.n = 0;
        break;
    case CF_ARCHIVE_DONE:
        req->u.done.first_seq = req->u.done.last_seq = 0;
        req->u.done.url = NULL;
        break;
    case CF_ARCHIVE_FAIL:
        req->u.fail.attempts = 0;
        req->u.fail.failed = false;
        req->u.fail.url = NULL;
        break;
    case CF_ARCHIVE_RELEASE:
        break;
    case CF_ARCHIVE_REQUEUE:
        req->u.requeue.count = 0;
        break;
    }
}

/* The batch was rolled back: no request of it happened. */
static void
req_undo(cf_archive_req_t *req, int rc, const char *why)
{
    switch (req->kind) {
    case CF_ARCHIVE_INSERT:
        if (req->rc == CF_OK)
            req->u.insert.article->id = 0;
        req->u.insert.id = 0;
        break;
    case CF_ARCHIVE_DONE:
        done_reset(req);
        break;
    default:
        cf_archive_req_clear(req);
        break;
    }
    if (req->kind == CF_ARCHIVE_FAIL) {
        req->u.fail.attempts = 0;
        req->u.fail.failed = false;
    }
    req->rc = cf_err_set(&req->err, rc, "archive: %s", why);
}

static int
exec_req(cf_archive_t *self, cf_archive_req_t *req)
{
    switch (req->kind) {
    case CF_ARCHIVE_INSERT:
        return exec_insert(self, req);
    case CF_ARCHIVE_CLAIM:
        return exec_claim(self, req);
    case CF_ARCHIVE_DONE:
        return exec_done(self, req);
    case CF_ARCHIVE_FAIL:
        return exec_fail(self, req);
    case CF_ARCHIVE_RELEASE:
        return exec_release(self, req);
    case CF_ARCHIVE_REQUEUE:
        return exec_requeue(self, req);
    }
    req->rc = cf_err_set(&req->err, CF_EINVAL, "archive: unknown request kind %d", (int)req->kind);
    return SQLITE_OK;
}

/* Indexes the k oldest articles of the search backlog in one statement, outside any
 * savepoint: FTS5 writes its pending terms out as a new segment whenever a savepoint
 * holding index changes is released, and every statement ends with one, so a request's
 * savepoint or a statement per article made a segment per article. A failure here
 * fails the transaction like any storage trouble. The caller drops them from the
 * backlog (fts_drop) once the transaction committed. */
static int
index_backlog(cf_archive_t *self, size_t k)
{
    if (k == 0)
        return SQLITE_OK;
    size_t need = 3 + k * 21; /* "[" + up to 20 digits and "," per id + "]" + NUL */
    if (need > self->fts_list_cap) {
        self->fts_list_cap = need * 2;
        self->fts_list = cf_realloc(self->fts_list, self->fts_list_cap);
    }
    char *p = self->fts_list;
    *p++ = '[';
    for (size_t i = 0; i < k; i++)
        p += sprintf(p, i ? ",%" PRIu64 : "%" PRIu64, cf_idq_at(&self->fts, i));
    *p++ = ']';
    sqlite3_stmt *s = self->st[S_FTS];
    sqlite3_bind_text(s, 1, self->fts_list, (int)(p - self->fts_list), SQLITE_STATIC);
    return exec_stmt(self, s);
}

/* Shows the backlog to cf_archive_stats (loop thread), after a transaction ended. */
static void
fts_show(cf_archive_t *self)
{
    atomic_store_explicit(&self->fts_shown, self->fts.n, memory_order_relaxed);
}

static void
fts_drop(cf_archive_t *self, size_t k)
{
    if (k) {
        cf_idq_drop(&self->fts, k);
        self->fts_merge_due = true;
    }
    fts_show(self); /* every drop follows a commit */
}

/* Search indexing failed: none until a commit at least FTS_RETRY_SECONDS from now. */
static void
fts_pause(cf_archive_t *self)
{
    self->fts_stalled = true;
    self->fts_retry_at = cf_clock_s(CLOCK_MONOTONIC) + FTS_RETRY_SECONDS;
}

/* How many backlog articles a batch indexes; added is how many it marked done. */
static size_t
fts_quota(cf_archive_t *self, size_t added)
{
    size_t k = 0;
    if (self->fts_stalled)
        return 0;
    if (self->fts.n >= FTS_BACKLOG_MAX) {
        k = added + FTS_CHUNK; /* overload: index more than the batch added */
    } else if (cf_busy_below(&self->busy, self->batch_t0, FTS_LIGHT_UTIL)) {
        pthread_mutex_lock(&self->mu);
        bool idle = self->q_head == NULL;
        pthread_mutex_unlock(&self->mu);
        if (idle)
            k = added + FTS_CATCHUP;
    }
    return k < self->fts.n ? k : self->fts.n;
}

/* A transaction of the idle (or closing) writer: the spans of every fact above the mark,
 * and up to chunk articles of the search backlog, together (one commit, one fsync); with
 * neither left, a step of merging the search index's segments. Returns false on failure:
 * nothing is lost, all wait for the next request (spans_stalled, fts_stalled). */
static bool
idle_txn(cf_archive_t *self, size_t chunk)
{
    size_t k = self->fts_stalled ? 0 : self->fts.n < chunk ? self->fts.n : chunk;
    bool spans = self->spans_pending && !self->spans_stalled;
    bool merge = !spans && k == 0 && self->fts_merge_due && !self->fts_stalled;
    sqlite3_int64 changes = sqlite3_total_changes64(self->db);
    int rc = exec_stmt(self, self->st[S_BEGIN]);
    if (rc == SQLITE_OK && spans)
        rc = add_spans(self);
    if (rc == SQLITE_OK)
        rc = index_backlog(self, k);
    if (rc == SQLITE_OK && merge)
        rc = exec_stmt(self, self->st[S_FTS_MERGE]);
    if (rc == SQLITE_OK)
        rc = exec_stmt(self, self->st[S_COMMIT]);
    if (rc == SQLITE_OK) {
        if (spans)
            spans_forget(self);
        fts_drop(self, k);
        /* FTS5's test for a merge that found nothing left to do */
        if (merge && sqlite3_total_changes64(self->db) - changes < 2)
            self->fts_merge_due = false;
        return true;
    }
    if (!sqlite3_get_autocommit(self->db))
        exec_stmt(self, self->st[S_ROLLBACK]);
    cf_log_warn(
        "archive: indexing or merging while idle failed (retried with the next request; queries"
        " find every fact meanwhile, text search not the newest articles): %s",
        self->werr);
    fts_pause(self);
    self->spans_stalled = true;
    return false;
}

/* Whether an idle writer has work: spans to add, articles to index or segments to merge
 * (mu held). */
static bool
idle_work(const cf_archive_t *self)
{
    return (self->spans_pending && !self->spans_stalled) ||
           ((self->fts.n || self->fts_merge_due) && !self->fts_stalled);
}

/* Runs the batch in one transaction. Returns true if it committed. */
static bool
run_batch_once(cf_archive_t *self, cf_archive_req_t *batch)
{
    for (cf_archive_req_t *r = batch; r; r = r->next_)
        req_reset_out(r);
    size_t fts_before = self->fts.n, fts_k = 0; /* the batch's dones are appended */
    uint64_t spans_before = self->spans_pending;
    size_t rows_before[SPAN_TABLES], keys_before[SPAN_TABLES];
    for (int t = 0; t < SPAN_TABLES; t++) {
        rows_before[t] = self->pending[t].n;
        keys_before[t] = self->pending[t].klen;
    }
    bool spans_added = false;
    self->claim_log_n = 0;
    int rc = SQLITE_OK;
    if (self->need_rescan)
        rc = rescan(self);
    if (rc == SQLITE_OK)
        rc = exec_stmt(self, self->st[S_BEGIN]);
    for (cf_archive_req_t *r = batch; rc == SQLITE_OK && r; r = r->next_)
        rc = exec_req(self, r);
    if (rc == SQLITE_OK && self->spans_pending >= SPANS_FLUSH) {
        rc = add_spans(self);
        spans_added = true;
    }
    self->fts_failed = false;
    if (rc == SQLITE_OK) {
        fts_k = fts_quota(self, self->fts.n - fts_before);
        rc = index_backlog(self, fts_k);
        self->fts_failed = rc != SQLITE_OK;
    }
    if (rc == SQLITE_OK)
        rc = exec_stmt(self, self->st[S_COMMIT]);
    if (rc == SQLITE_OK) {
        fts_drop(self, fts_k);
        if (self->fts_stalled && cf_clock_s(CLOCK_MONOTONIC) >= self->fts_retry_at)
            self->fts_stalled = false;
        if (spans_added)
            spans_forget(self);
        self->spans_stalled = false;
        self->claim_log_n = 0;
        return true;
    }
    /* nothing of the batch happened, nothing was indexed */
    cf_idq_truncate(&self->fts, fts_before);
    self->spans_pending = spans_before; /* the batch's rows are forgotten */
    for (int t = 0; t < SPAN_TABLES; t++) {
        self->pending[t].n = rows_before[t];
        self->pending[t].klen = keys_before[t];
    }
    claimed_undo(self, 0);
    /* SPEC: nothing half-written; every request of the batch is answered busy */
    if (!sqlite3_get_autocommit(self->db)) {
        char keep[sizeof self->werr];
        memcpy(keep, self->werr, sizeof keep);
        exec_stmt(self, self->st[S_ROLLBACK]);
        memcpy(self->werr, keep, sizeof keep);
    }
    int code = batch_error_code(rc);
    for (cf_archive_req_t *r = batch; r; r = r->next_)
        req_undo(r, code, self->werr);
    self->need_rescan = true;
    rescan(self); /* may fail again (disk trouble): then it is retried before the next batch */
    return false;
}

/* Runs the batch; DONE requests without a savepoint each. Every statement is atomic and
 * a DONE is validated before it is submitted, so only storage trouble (a batch error:
 * all of it is rolled back anyway) can stop one after its first write. Should anything
 * else ever do (halfway), the batch is rolled back and run once more, carefully, with
 * a savepoint around each DONE, so that the one failing request is answered alone
 * (CF_EREFUSED) and the others are stored as before. */
static bool
run_batch(cf_archive_t *self, cf_archive_req_t *batch)
{
    self->careful = false;
    self->halfway = false;
    bool committed = run_batch_once(self, batch);
    if (!committed && self->fts_failed) {
        /* the search index failed, not the batch's own work: run it again without */
        cf_log_warn("archive: indexing for text search failed (retried in %.0f s; requests go"
                    " on without it, text search misses the newest articles): %s",
                    FTS_RETRY_SECONDS, self->werr);
        fts_pause(self);
        committed = run_batch_once(self, batch);
    }
    if (!committed && self->halfway) {
        self->careful = true;
        committed = run_batch_once(self, batch);
        self->careful = false;
    }
    return committed;
}

/* Applies control settings; runs on the writer between batches. */
static void
apply_ctl(cf_archive_t *self, int64_t max_pages, int busy_ms)
{
    if (busy_ms >= 0)
        sqlite3_busy_timeout(self->db, busy_ms);
    if (max_pages >= 0) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA max_page_count=%" PRId64,
                 max_pages ? max_pages : (int64_t)NO_PAGE_CAP);
        sqlite3_exec(self->db, sql, NULL, NULL, NULL);
    }
}

/* The writer has no request: add the spans above the mark and index a chunk of the
 * search backlog, then pause (on cv, so that a request ends the pause) FTS_IDLE_PAUSE
 * times as long as that took. Called and returns with mu held. */
static void
index_while_idle(cf_archive_t *self, double *pause_until)
{
    double now = cf_clock_s(CLOCK_REALTIME);
    if (*pause_until - now > 1.0) /* the wall clock stepped back: no long pause */
        *pause_until = now;
    if (now < *pause_until) {
        struct timespec ts;
        ts.tv_sec = (time_t)*pause_until;
        ts.tv_nsec = (long)((*pause_until - (double)ts.tv_sec) * 1e9);
        pthread_cond_timedwait(&self->cv, &self->mu, &ts);
        return;
    }
    pthread_mutex_unlock(&self->mu);
    idle_txn(self, FTS_CHUNK);
    double end = cf_clock_s(CLOCK_REALTIME);
    *pause_until = end + FTS_IDLE_PAUSE * (end - now);
    pthread_mutex_lock(&self->mu);
}

static int
wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    (void)db;
    (void)name;
    ((cf_archive_t *)arg)->wal_frames = frames;
    return SQLITE_OK;
}

/* Whether the writer checkpoints now (mu held): see WAL_CKPT_FRAMES. */
static bool
checkpoint_due(const cf_archive_t *self)
{
    if (self->wal_frames >= WAL_CKPT_FORCE)
        return true;
    return self->wal_frames >= WAL_CKPT_FRAMES && (!self->q_head || self->closing);
}

/* Called with mu held; releases it while checkpointing. */
static void
checkpoint(cf_archive_t *self)
{
    pthread_mutex_unlock(&self->mu);
    int frames = 0, copied = 0;
    int rc = sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
    /* the next commit reports the WAL again: retried after it, not in a loop (a reader
     * may pin part of the WAL for a while) */
    self->wal_frames = 0;
    /* BUSY: another connection's checkpoint holds the lock; not a failure */
    bool failed = rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY;
    if (failed && !self->ckpt_failing) /* e.g. a full disk: retried after each commit */
        cf_log_warn("archive: checkpoint of %s failed: %s (the WAL grows until one succeeds)",
                    self->path, sqlite3_errmsg(self->db));
    else if (!failed && self->ckpt_failing)
        cf_log_notice("archive: checkpoints of %s work again", self->path);
    else if (!failed)
        cf_log_debug("archive: checkpoint: %d of %d frames copied", copied, frames);
    self->ckpt_failing = failed;
    pthread_mutex_lock(&self->mu);
    self->w_checkpoints++;
    self->w_checkpoint_failures += failed;
}

static void *
writer_main(void *arg)
{
    cf_archive_t *self = arg;
    pthread_setname_np(pthread_self(), "cf-writer"); /* top -H, ps -L, perf */
    double pause_until = 0; /* of backlog indexing while idle (CLOCK_REALTIME, for cv) */
    double close_from = 0;  /* when the close's own work began (CLOCK_MONOTONIC) */
    pthread_mutex_lock(&self->mu);
    for (;;) {
        /* every commit passes here (the idle loop below checks after its own) */
        if (checkpoint_due(self))
            checkpoint(self);
        if ((self->fts.n || self->fts_merge_due || self->spans_pending) && !self->q_head) {
            double idle_from =
                cf_clock_s(CLOCK_REALTIME) +
                (self->fts.n || self->fts_merge_due ? FTS_IDLE_WAIT : SPANS_IDLE_WAIT);
            if (pause_until < idle_from)
                pause_until = idle_from;
        }
        while (!self->q_head && !self->closing && self->ctl_max_pages < 0 &&
               self->ctl_busy_ms < 0) {
            if (checkpoint_due(self))
                checkpoint(self); /* no request waits (one arriving now waits for it) */
            else if (idle_work(self))
                index_while_idle(self, &pause_until);
            else
                pthread_cond_wait(&self->cv, &self->mu);
        }
        int64_t max_pages = self->ctl_max_pages;
        int busy_ms = self->ctl_busy_ms;
        self->ctl_max_pages = -1;
        self->ctl_busy_ms = -1;
        /* adaptive group commit: take everything that arrived, up to BATCH_MAX
         * requests and BATCH_FACTS_MAX facts */
        cf_archive_req_t *batch = self->q_head, *last = NULL;
        size_t n = 0, facts = 0;
        for (cf_archive_req_t *r = batch; r && n < BATCH_MAX; r = r->next_) {
            if (r->kind == CF_ARCHIVE_DONE) {
                facts += 1 + (r->u.done.facts ? r->u.done.facts->n : 0);
                if (n > 0 && facts > BATCH_FACTS_MAX)
                    break;
            }
            last = r;
            n++;
        }
        if (last) {
            self->q_head = last->next_;
            if (!self->q_head)
                self->q_tail = NULL;
            last->next_ = NULL;
        }
        if (!batch && max_pages < 0 && busy_ms < 0) {
            /* closing and no request left: add the spans above the mark, index the
             * search backlog and merge (checkpointing as it goes, at the top of the
             * loop) within the close budget, then stop */
            double now = cf_clock_s(CLOCK_MONOTONIC);
            if (close_from == 0)
                close_from = now;
            if ((self->fts.n || self->fts_merge_due) && !self->fts_stalled &&
                now - close_from >= self->close_budget) {
                if (self->fts.n)
                    cf_log_notice("archive: %zu articles not indexed for text search at close;"
                                  " the next start indexes them",
                                  self->fts.n);
                self->fts_stalled = true; /* ends indexing and merging; the spans go on */
            }
            if (idle_work(self)) {
                pthread_mutex_unlock(&self->mu);
                idle_txn(self, FTS_CLOSE_CHUNK); /* nobody waits: fewer, larger segments */
                pthread_mutex_lock(&self->mu);
                continue;
            }
            break;
        }
        pthread_mutex_unlock(&self->mu);

        apply_ctl(self, max_pages, busy_ms);
        self->batch_t0 = cf_clock_s(CLOCK_MONOTONIC);
        bool committed = batch ? run_batch(self, batch) : false;
        if (batch)
            cf_busy_add(&self->busy, self->batch_t0, cf_clock_s(CLOCK_MONOTONIC));

        pthread_mutex_lock(&self->mu);
        if (batch) {
            if (self->done_tail)
                self->done_tail->next_ = batch;
            else
                self->done_head = batch;
            self->done_tail = last;
            if (committed) {
                self->w_commits++;
                self->w_batched += n;
            } else {
                self->w_rollbacks++;
                memcpy(self->w_lasterr, self->werr, sizeof self->w_lasterr);
            }
            pthread_mutex_unlock(&self->mu);
            event_active(self->done_ev, EV_READ, 0);
            pthread_mutex_lock(&self->mu);
        }
    }
    pthread_mutex_unlock(&self->mu);
    return NULL;
}

/* ------------------------------------------------------------------------ */
/* Completions (loop thread)                                                 */
/* ------------------------------------------------------------------------ */

static void
dec(uint64_t *v)
{
    if (*v)
        (*v)--;
}

static void
account(cf_archive_stats_t *st, const cf_archive_req_t *req)
{
    if (req->kind == CF_ARCHIVE_INSERT)
        dec(&st->inserting);
    if (req->rc != CF_OK)
        return;
    switch (req->kind) {
    case CF_ARCHIVE_INSERT:
        st->queued++;
        break;
    case CF_ARCHIVE_CLAIM:
        st->queued = st->queued >= req->u.claim.n ? st->queued - req->u.claim.n : 0;
        st->processing += req->u.claim.n;
        break;
    case CF_ARCHIVE_DONE:
        dec(&st->processing);
        st->done++;
        if (req->u.done.last_seq > st->last_seq)
            st->last_seq = req->u.done.last_seq;
        break;
    case CF_ARCHIVE_FAIL:
        dec(&st->processing);
        if (req->u.fail.failed)
            st->failed++;
        else
            st->queued++;
        break;
    case CF_ARCHIVE_RELEASE:
        dec(&st->processing);
        st->queued++;
        break;
    case CF_ARCHIVE_REQUEUE:
        st->queued += req->u.requeue.count;
        st->failed = st->failed >= req->u.requeue.count ? st->failed - req->u.requeue.count : 0;
        break;
    }
}

/* Delivers finished requests: counters first, then each callback, in order. */
static void
deliver(cf_archive_t *self)
{
    pthread_mutex_lock(&self->mu);
    cf_archive_req_t *r = self->done_head;
    self->done_head = self->done_tail = NULL;
    uint64_t rollbacks = self->w_rollbacks;
    char why[CF_ERR_TEXT_MAX];
    memcpy(why, self->w_lasterr, sizeof why);
    self->st_.commits = self->w_commits;
    self->st_.batched = self->w_batched;
    self->st_.checkpoints = self->w_checkpoints;
    self->st_.checkpoint_failures = self->w_checkpoint_failures;
    pthread_mutex_unlock(&self->mu);
    /* logged here, on the loop thread, at most once per 10 s while batches roll back
     * (a lasting cause rolls back every batch); a damaged file is said as such, with
     * the way out, as the open says it (SQLite's own texts for the two codes) */
    if (rollbacks > self->st_.rollbacks) {
        if (strstr(why, sqlite3_errstr(SQLITE_CORRUPT)) ||
            strstr(why, sqlite3_errstr(SQLITE_NOTADB)))
            cf_ratelog(&self->damage_log, CF_LOG_ERROR,
                       "archive: batch rolled back, cloudfact.db is damaged (%s): nothing more "
                       "can be stored; stop the daemon and see `cloudfact check --state-dir %s` "
                       "(rollbacks=%" PRIu64 ")",
                       why, self->dir, rollbacks);
        else
            cf_ratelog(&self->rollback_log, CF_LOG_WARN,
                       "archive: batch rolled back, nothing of it stored: new articles are "
                       "answered busy, results retried (rollbacks=%" PRIu64 "): %s",
                       rollbacks, why);
        memcpy(self->st_.rollback_error, why, sizeof self->st_.rollback_error);
        self->st_.rollback_ms = cf_clock_ms();
    }
    self->st_.rollbacks = rollbacks;
    while (r) {
        cf_archive_req_t *next = r->next_; /* cb may free r */
        r->next_ = NULL;
        account(&self->st_, r);
        r->cb(r, r->arg);
        r = next;
    }
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    deliver(arg);
}

/* ------------------------------------------------------------------------ */
/* Open and close                                                            */
/* ------------------------------------------------------------------------ */

static int
check_hint(cf_archive_t *self, cf_err_t *err, const char *what)
{
    return cf_err_set(err, CF_EDB, "archive cloudfact.db: %s; see `cloudfact check --state-dir %s`",
                      what, self->dir);
}

/* One daemon per state directory: an open-file-description lock (so a second open in
 * the same process is refused too) on DIR/cloudfactd.lock, which holds our pid. The
 * file is left in place at close: unlinking it would let two daemons lock two
 * different inodes. */
static int
take_lock(cf_archive_t *self, cf_err_t *err)
{
    size_t len = strlen(self->dir) + sizeof "/cloudfactd.lock";
    char *lp = cf_malloc(len);
    snprintf(lp, len, "%s/cloudfactd.lock", self->dir);
    int fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
    if (fd < 0) {
        cf_err_sys(err, "archive: cannot open %s", lp);
        free(lp);
        return CF_ESYS;
    }
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_OFD_SETLK, &fl) != 0) {
        int e = errno;
        if (e == EAGAIN || e == EACCES) {
            char buf[32] = {0};
            ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
            long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
            if (pid > 0)
                cf_err_set(err, CF_EBUSY, "state directory %s is locked by pid %ld", self->dir,
                           pid);
            else
                cf_err_set(err, CF_EBUSY, "state directory %s is locked by another process",
                           self->dir);
        } else {
            cf_err_sys(err, "archive: cannot lock %s", lp);
        }
        close(fd);
        free(lp);
        return err ? err->rc : CF_EBUSY;
    }
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
        cf_err_sys(err, "archive: cannot write %s", lp);
        close(fd);
        free(lp);
        return CF_ESYS;
    }
    free(lp);
    self->lock_fd = fd;
    return CF_OK;
}

static void
release_lock(cf_archive_t *self)
{
    if (self->lock_fd >= 0) {
        if (ftruncate(self->lock_fd, 0) != 0) {
            /* harmless: the next holder rewrites it */
        }
        close(self->lock_fd); /* drops the OFD lock */
        self->lock_fd = -1;
    }
}

static int
db_error(cf_archive_t *self, sqlite3 *db, cf_err_t *err, const char *what)
{
    int rc = sqlite3_errcode(db) & 0xff;
    if (rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT)
        return check_hint(self, err, sqlite3_errmsg(db));
    return cf_err_set(err, CF_EDB, "archive %s: %s: %s", self->path, what, sqlite3_errmsg(db));
}

/* Runs a query returning one integer. */
static int
query_int(sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int64(s, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    sqlite3_finalize(s);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Opening                                                                   */
/* ------------------------------------------------------------------------ */

/* A big archive can take long to open: a migration rewrites tables, the recovery
 * statements scan every article, another connection (an analyst's sqlite3 shell)
 * can hold the write lock. The caller's progress function hears about it every
 * interval, so that a service manager's start timeout can be extended rather than
 * kill a start that is working (STACK.md 7, EXTEND_TIMEOUT_USEC). SQLite's
 * progress handler runs every PROGRESS_OPS virtual-machine instructions; the
 * clock is read there, not per row. */
#define PROGRESS_OPS 4096
#define PROGRESS_DEFAULT_MS 1000
#define BUSY_SLEEP_MS 10 /* between tries for a lock while opening */

static void
open_tick(cf_archive_t *self, bool waiting)
{
    if (!self->progress.fn)
        return;
    uint64_t now = cf_clock_ms();
    unsigned every = self->progress.interval_ms ? self->progress.interval_ms : PROGRESS_DEFAULT_MS;
    if (now - self->progress_last_ms < every)
        return;
    self->progress_last_ms = now;
    char doing[sizeof self->step_buf + 64];
    snprintf(doing, sizeof doing, "%s%s", self->step ? self->step : "opening",
             waiting ? " (waiting for a lock another connection holds)" : "");
    self->progress.fn(self->progress.ctx, doing);
}

static int
open_progress(void *arg)
{
    open_tick(arg, false);
    return 0; /* never interrupts */
}

/* sqlite3_busy_timeout's wait, with progress: tries again every BUSY_SLEEP_MS for
 * BUSY_TIMEOUT_MS, then SQLITE_BUSY ("database is locked"). */
static int
open_busy(void *arg, int count)
{
    cf_archive_t *self = arg;
    uint64_t now = cf_clock_ms();
    if (count == 0)
        self->busy_since_ms = now;
    if (now - self->busy_since_ms >= BUSY_TIMEOUT_MS)
        return 0;
    open_tick(self, true);
    struct timespec ts = {0, BUSY_SLEEP_MS * 1000000L};
    nanosleep(&ts, NULL);
    return 1;
}

static int
migrate(cf_archive_t *self, cf_err_t *err)
{
    sqlite3 *db = self->db;
    int64_t version = 0, objects = 0, ours = 0;
    if (query_int(db, "PRAGMA user_version", &version) != SQLITE_OK ||
        query_int(db, "SELECT count(*) FROM sqlite_schema", &objects) != SQLITE_OK ||
        query_int(db,
                  "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
                  " AND name IN ('articles', 'facts')",
                  &ours) != SQLITE_OK)
        return db_error(self, db, err, "cannot read the schema");
    if (version > SCHEMA_VERSION) {
        char what[96];
        snprintf(what, sizeof what, "schema version %" PRId64 " is newer than this program's %d",
                 version, SCHEMA_VERSION);
        return check_hint(self, err, what);
    }
    if (version < 0 || (version == 0 && objects > 0))
        return check_hint(self, err, "not a cloudfact archive (foreign tables)");
    if (version > 0 && ours != 2)
        return check_hint(self, err, "tables articles or facts are missing");
    if (version == SCHEMA_VERSION)
        return CF_OK;
    char *msg = NULL;
    snprintf(self->step_buf, sizeof self->step_buf,
             "migrating the schema from version %" PRId64 " to %d", version, SCHEMA_VERSION);
    self->step = self->step_buf;
    int rc = sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, &msg);
    for (int64_t v = version; rc == SQLITE_OK && v < SCHEMA_VERSION; v++)
        rc = sqlite3_exec(db, migrations[v], NULL, NULL, &msg);
    if (rc == SQLITE_OK) {
        char sql[48];
        snprintf(sql, sizeof sql, "PRAGMA user_version=%d", SCHEMA_VERSION);
        rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_exec(db, "COMMIT", NULL, NULL, &msg);
    if (rc != SQLITE_OK) {
        cf_err_set(err, CF_EDB, "archive %s: migration from version %" PRId64 " failed: %s",
                   self->path, version, msg ? msg : sqlite3_errmsg(db));
        sqlite3_free(msg);
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return CF_EDB;
    }
    if (version > 0)
        cf_log_notice("archive: migrated %s from schema version %" PRId64 " to %d", self->path,
                      version, SCHEMA_VERSION);
    return CF_OK;
}

/* A WAL that starts empty grows with every commit, and on ext4 an fdatasync that
 * extends a file also commits the filesystem journal: a fresh daemon's commits took
 * 2-7 ms instead of ~1 until the WAL had grown to its checkpoint cycle, and requests
 * queued behind them (bench/README.md, "fifth pass"). So an empty WAL gets its first
 * WAL_PRESIZE_FRAMES frames written as zeros once, before any commit: later commits
 * overwrite. SQLite reads a WAL whose header is not valid as empty and writes its
 * header at offset 0 with the first frame, so zeros are an empty WAL, like the stale
 * frames it leaves after a restart itself. Done under the write lock (BEGIN
 * IMMEDIATE), through SQLite's own handle of the WAL file: no other connection can
 * write a frame meanwhile, and a WAL holding frames (a crash) is never touched. This
 * writes the file's bytes directly, so it assumes SQLite's default VFS (a plain
 * file; no checksum or encryption shim), which is all cloudfactd opens. A clean
 * close empties the WAL (TRUNCATE checkpoint): each start prepares it again.
 * WAL_PRESIZE_FRAMES is above WAL_CKPT_FORCE with room for a batch of usual size;
 * a larger transaction, or a reader holding an old snapshot (the WAL cannot restart
 * under it), grows the file as before: slower commits, nothing else. Capped at
 * journal_size_limit, above which SQLite would cut it back at the first commit. */
#define WAL_PRESIZE_FRAMES 2048
#define WAL_SIZE_LIMIT 67108864 /* PRAGMA journal_size_limit, set in open_db */

static void
presize_wal(cf_archive_t *self)
{
    sqlite3_file *wal = NULL;
    sqlite3_int64 size = -1;
    int64_t page = 0;
    int rc = sqlite3_exec(self->db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_file_control(self->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc == SQLITE_OK && wal && wal->pMethods)
        rc = wal->pMethods->xFileSize(wal, &size);
    if (rc == SQLITE_OK && size == 0)
        rc = query_int(self->db, "PRAGMA page_size", &page);
    if (rc == SQLITE_OK && size == 0 && page > 0) {
        static const char zeros[65536];
        sqlite3_int64 total = WAL_PRESIZE_FRAMES * (page + 24) + 32; /* frame and file headers */
        if (total > WAL_SIZE_LIMIT)
            total = WAL_SIZE_LIMIT;
        for (sqlite3_int64 off = 0; rc == SQLITE_OK && off < total; off += sizeof zeros) {
            sqlite3_int64 left = total - off;
            int n = left < (sqlite3_int64)sizeof zeros ? (int)left : (int)sizeof zeros;
            rc = wal->pMethods->xWrite(wal, zeros, n, off);
        }
        if (rc == SQLITE_OK)
            rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    }
    if (sqlite3_get_autocommit(self->db) == 0)
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
    if (rc != SQLITE_OK) /* the archive works without it: only a fresh start is slower */
        cf_log_warn("archive: %s: cannot prepare the WAL (%s): the first commits will be slower",
                    self->path, sqlite3_errstr(rc));
}

static int
open_db(cf_archive_t *self, cf_err_t *err)
{
    /* create the file ourselves so its mode is 0640 whatever the umask */
    int fd = open(self->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
    if (fd >= 0) {
        if (fchmod(fd, 0640) != 0) {
            cf_err_sys(err, "archive: chmod %s", self->path);
            close(fd);
            return CF_ESYS;
        }
        close(fd);
    } else if (errno != EEXIST) {
        return cf_err_sys(err, "archive: cannot create %s", self->path);
    }
    /* the write connection gathers its WAL writes (cf_walbuf.h): safe because its
     * every commit syncs the WAL (synchronous=FULL, set right after opening and
     * checked once configured); bench/README.md, "Eighth pass" */
    int rc = cf_walbuf_register();
    if (rc == SQLITE_OK)
        rc = sqlite3_open_v2(self->path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                             CF_WALBUF_VFS);
    if (rc == SQLITE_OK) /* before the migrations commit anything, whatever the build's default */
        rc = sqlite3_exec(self->db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_error(self, self->db, err, "cannot open");
    sqlite3_extended_result_codes(self->db, 1);
    /* until cf_archive_open ends; then sqlite3_busy_timeout (see "Opening") */
    sqlite3_busy_handler(self->db, open_busy, self);
    sqlite3_progress_handler(self->db, PROGRESS_OPS, open_progress, self);
    self->step = "reading the schema";
    /* schema first: a foreign, newer or corrupt file is refused before anything
     * (even the switch to WAL, which rewrites header bytes) writes to it */
    if (migrate(self, err) != CF_OK)
        return err ? err->rc : CF_EDB;
    self->step = "switching to WAL mode";
    char *mode = NULL;
    sqlite3_stmt *s = NULL;
    rc = sqlite3_prepare_v2(self->db, "PRAGMA journal_mode=WAL", -1, &s, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        mode = col_strdup(s, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_OK) {
        free(mode);
        return db_error(self, self->db, err, "cannot set WAL mode");
    }
    bool wal = mode && strcmp(mode, "wal") == 0;
    free(mode);
    if (!wal)
        return cf_err_set(err, CF_EDB, "archive %s: cannot switch to WAL mode", self->path);
    /* foreign_keys stays off (SQLite's default) on the write connection: the writer inserts
     * facts only for an article its DONE has just marked in the same transaction, and never
     * deletes or renumbers articles, so the check could never fail; enforced, it cost a
     * cursor open, a rowid seek and a close on articles for every fact (~5 % of the
     * writer's instructions, bench/README.md). The schema still declares the reference. */
    rc = sqlite3_exec(self->db,
                      "PRAGMA foreign_keys=OFF;"
                      " PRAGMA temp_store=MEMORY;" /* savepoint journals: no temp files */
                      " PRAGMA journal_size_limit=" STR(WAL_SIZE_LIMIT) ";",
                      NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return db_error(self, self->db, err, "cannot configure");
    int64_t sync = 0; /* cf_walbuf's condition, checked rather than assumed */
    if (query_int(self->db, "PRAGMA synchronous", &sync) != SQLITE_OK || sync < 2)
        return cf_err_set(err, CF_EDB, "archive %s: commits would not sync the WAL", self->path);
    self->step = "preparing the WAL";
    presize_wal(self);
    sqlite3_wal_hook(self->db, wal_hook, self); /* replaces SQLite's automatic checkpoint */
    return CF_OK;
}

static int
prepare_all(cf_archive_t *self, cf_err_t *err)
{
    for (int i = 0; i < S_COUNT; i++) {
        if (sqlite3_prepare_v3(self->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &self->st[i],
                               NULL) != SQLITE_OK)
            return db_error(self, self->db, err, "cannot prepare a statement");
    }
    return CF_OK;
}

/* At open: the search backlog a previous run left (killed before its backlog was
 * indexed): the done articles FTS5 has no document for (article_fts_docsize holds one
 * row per indexed document). How many: done, less the documents of done articles,
 * which are all documents but those of failed articles and of articles above the
 * claim cursor that are not done (none of which the writer indexes; a 'rebuild' of
 * the index makes them): both counted on an index or a range. They are mostly the
 * newest done ones, so they are looked for on the done index from the highest id
 * down, and the search stops when all are found: no row is read. */
static int
fts_recover(cf_archive_t *self, cf_err_t *err)
{
    sqlite3 *db = self->db;
    sqlite3_stmt *s = NULL;
    int64_t docs = 0, stray_failed = 0, stray_high = 0;
    if (query_int(db, "SELECT count(*) FROM article_fts_docsize", &docs) != SQLITE_OK ||
        query_int(db,
                  "SELECT count(*) FROM articles a INDEXED BY articles_failed WHERE"
                  " a.state = 'failed' AND EXISTS (SELECT 1 FROM article_fts_docsize d"
                  " WHERE d.id = a.id)",
                  &stray_failed) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM article_fts_docsize d WHERE d.id > ?1 AND NOT"
                           " EXISTS (SELECT 1 FROM articles a INDEXED BY articles_done WHERE"
                           " a.state = 'done' AND a.id = d.id) AND NOT EXISTS (SELECT 1 FROM"
                           " articles f INDEXED BY articles_failed WHERE f.state = 'failed'"
                           " AND f.id = d.id)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_error(self, db, err, "cannot count the articles indexed for search");
    sqlite3_bind_int64(s, 1, (sqlite3_int64)self->cursor);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        stray_high = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    if (rc != SQLITE_ROW)
        return db_error(self, db, err, "cannot count the articles indexed for search");
    int64_t indexed_done = docs - stray_failed - stray_high;
    uint64_t missing = self->st_.done > (uint64_t)indexed_done && indexed_done >= 0
                           ? self->st_.done - (uint64_t)indexed_done
                           : 0;
    if (missing &&
        sqlite3_prepare_v2(db,
                           "SELECT id FROM articles a INDEXED BY articles_done WHERE"
                           " a.state = 'done' AND NOT EXISTS (SELECT 1 FROM article_fts_docsize d"
                           " WHERE d.id = a.id) ORDER BY id DESC",
                           -1, &s, NULL) != SQLITE_OK)
        return db_error(self, db, err, "cannot find done articles to index");
    uint64_t *found = missing ? cf_malloc(missing * sizeof *found) : NULL;
    size_t n = 0;
    rc = SQLITE_DONE;
    while (n < missing && (rc = sqlite3_step(s)) == SQLITE_ROW)
        found[n++] = (uint64_t)sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
        free(found);
        return db_error(self, db, err, "cannot find done articles to index");
    }
    if (n < missing) /* documents of articles in no state above: indexed by hand */
        cf_log_warn("archive: the search index holds %" PRIu64 " documents of articles that "
                    "are not done (a rebuild by hand?); text search may list them",
                    missing - n);
    while (n) /* oldest first */
        cf_idq_push(&self->fts, found[--n]);
    free(found);
    if (self->fts.n)
        cf_log_notice("archive: %zu done articles are not indexed for search yet; indexing them",
                      self->fts.n);
    fts_show(self);
    return CF_OK;
}

/* At open: count the articles by state, in one read: the done and the failed on their
 * partial indexes, all of them on the smallest index (the urls'); queued is the rest.
 * No row is read (see "Version 6"). */
static int
recover(cf_archive_t *self, cf_err_t *err)
{
    sqlite3 *db = self->db;
    self->step = "counting the articles";
    int64_t all = 0, done = 0, failed = 0;
    if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK ||
        query_int(db, "SELECT count(*) FROM articles", &all) != SQLITE_OK ||
        query_int(db, "SELECT count(*) FROM articles WHERE state = 'done'", &done) != SQLITE_OK ||
        query_int(db, "SELECT count(*) FROM articles WHERE state = 'failed'", &failed) !=
            SQLITE_OK ||
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        int code = db_error(self, db, err, "cannot count articles");
        if (!sqlite3_get_autocommit(db))
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
        return code;
    }
    self->st_.done = (uint64_t)done;
    self->st_.failed = (uint64_t)failed;
    self->st_.queued = all > done + failed ? (uint64_t)(all - done - failed) : 0;
    int64_t last = 0;
    if (query_int(db, "SELECT coalesce(max(seq), 0) FROM facts", &last) != SQLITE_OK)
        return db_error(self, db, err, "cannot read the last seq");
    self->st_.last_seq = (uint64_t)last;
    self->step = "finding the first queued article";
    if (rescan(self) != SQLITE_OK)
        return db_error(self, db, err, "cannot find the first queued article");
    /* the span rows a previous run kept in memory and never inserted (see "Spans") */
    int64_t pending = 0;
    self->step = "adding the spans of the last facts";
    if (query_int(db, "SELECT count(*) FROM facts WHERE seq > (SELECT seq FROM fact_spans_mark)",
                  &pending) != SQLITE_OK)
        return db_error(self, db, err, "cannot count the facts above the spans' mark");
    if (pending > 0) {
        if (sqlite3_exec(db,
                         "BEGIN IMMEDIATE;" CF_ARCHIVE_SPANS_ADD_TYPE_SQL
                         ";" CF_ARCHIVE_SPANS_ADD_SUBJECT_SQL ";" CF_ARCHIVE_SPANS_MARK_SQL
                         ";COMMIT",
                         NULL, NULL, NULL) != SQLITE_OK) {
            int code = db_error(self, db, err, "cannot add the spans of the last facts");
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            return code;
        }
        cf_log_notice("archive: added the spans of %" PRId64 " facts the last run left", pending);
    }
    /* FTS5 keeps the setting in the archive (article_fts_config); set at every open, so
     * that archives made before it get it too. See "Merging". */
    if (sqlite3_exec(db,
                     "INSERT INTO article_fts(article_fts, rank)"
                     " VALUES('automerge', " STR(FTS_AUTOMERGE) ")",
                     NULL, NULL, NULL) != SQLITE_OK)
        return db_error(self, db, err, "cannot configure the search index's merging");
    self->fts_merge_due = true; /* whatever the last run left unmerged */
    self->step = "finding the articles not yet indexed for search";
    return fts_recover(self, err);
}

/* Folds the WAL back into the file at a clean close. A reader holding a snapshot
 * (an analyst's sqlite3 shell) makes it fail after the busy timeout: nothing is
 * lost (the WAL holds the commits and the next open replays it), but the .db file
 * alone is then not the whole archive, which whoever copies it must know. */
static void
close_checkpoint(cf_archive_t *self)
{
    int log_frames = -1, done_frames = -1;
    int rc = sqlite3_wal_checkpoint_v2(self->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, &log_frames,
                                       &done_frames);
    if (rc == SQLITE_OK)
        return;
    cf_log_warn("archive: the write-ahead log could not be emptied at close (%s, %d of %d "
                "pages copied; does another program hold a read transaction?): %s-wal keeps "
                "the latest commits until the next start folds it back; copy the .db, -wal "
                "and -shm files together, or back up with VACUUM INTO",
                sqlite3_errmsg(self->db), done_frames, log_frames, self->path);
}

static void
destroy(cf_archive_t *self)
{
    for (int i = 0; i < S_COUNT; i++)
        sqlite3_finalize(self->st[i]);
    for (int i = 0; i < FACT_ROWS; i++)
        sqlite3_finalize(self->st_facts[i]);
    for (int t = 0; t < SPAN_TABLES; t++) {
        for (int i = 0; i < SPAN_ROWS; i++)
            sqlite3_finalize(self->st_spans[t][i]);
        free(self->pending[t].v);
        free(self->pending[t].keys);
    }
    free(self->scratch);
    sqlite3_finalize(self->r_failed);
    /* sqlite3_close refuses (and leaks) while a statement is unfinalized: say so */
    if (self->rdb && sqlite3_close(self->rdb) != SQLITE_OK)
        cf_log_error("archive: read connection not closed: %s", sqlite3_errmsg(self->rdb));
    if (self->db) {
        if (self->thread_started) /* a clean close: fold the WAL back into the file */
            close_checkpoint(self);
        if (sqlite3_close(self->db) != SQLITE_OK)
            cf_log_error("archive: write connection not closed: %s", sqlite3_errmsg(self->db));
    }
    release_lock(self);
    if (self->done_ev)
        event_free(self->done_ev);
    pthread_cond_destroy(&self->cv);
    pthread_mutex_destroy(&self->mu);
    free(self->requeued.v);
    free(self->claimed.v);
    free(self->claim_log);
    cf_idq_free(&self->fts);
    free(self->fts_list);
    free(self->dir);
    free(self->path);
    free(self);
}

const char *
cf_archive_db_path(const cf_archive_t *self)
{
    return self->path;
}

char *
cf_archive_path(const char *state_dir)
{
    size_t len = strlen(state_dir) + sizeof "/cloudfact.db";
    char *p = cf_malloc(len);
    snprintf(p, len, "%s/cloudfact.db", state_dir);
    return p;
}

/* SQLite's memory statistics (SQLITE_CONFIG_MEMSTATUS, on in Debian's build) take a
 * global mutex on every malloc and free: ~9 % of the writer's instructions for nothing,
 * since no part of cloudfact reads them. The setting only takes before SQLite is
 * initialized, i.e. when the archive is the process's first SQLite user (cloudfactd);
 * otherwise sqlite3_config refuses it harmlessly. Tried once per process. */
static pthread_once_t memstatus_once = PTHREAD_ONCE_INIT;

static void
memstatus_off(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

cf_archive_t *
cf_archive_open(const char *state_dir, struct event_base *base,
                const cf_archive_progress_t *progress, cf_err_t *err)
{
    pthread_once(&memstatus_once, memstatus_off);
    cf_archive_t *self = cf_calloc(1, sizeof *self);
    self->lock_fd = -1;
    self->base = base;
    self->dir = cf_strdup(state_dir);
    self->path = cf_archive_path(state_dir);
    self->ctl_max_pages = -1;
    self->ctl_busy_ms = -1;
    self->close_budget = FTS_CLOSE_SECONDS;
    if (progress)
        self->progress = *progress;
    self->progress_last_ms = cf_clock_ms();
    pthread_mutex_init(&self->mu, NULL);
    pthread_cond_init(&self->cv, NULL);
    if (mkdir(state_dir, 0750) == 0) {
        if (chmod(state_dir, 0750) != 0) { /* umask-independent */
            cf_err_sys(err, "archive: chmod %s", state_dir);
            goto fail;
        }
    } else if (errno != EEXIST) {
        cf_err_sys(err, "archive: cannot create state directory %s", state_dir);
        goto fail;
    }
    if (take_lock(self, err) != CF_OK)
        goto fail;
    if (open_db(self, err) != CF_OK || prepare_all(self, err) != CF_OK ||
        recover(self, err) != CF_OK)
        goto fail;
    /* opened: the writer's connection waits for locks like any other (see "Opening") */
    sqlite3_progress_handler(self->db, 0, NULL, NULL);
    sqlite3_busy_timeout(self->db, BUSY_TIMEOUT_MS);
    self->progress.fn = NULL;
    self->done_ev = event_new(base, -1, 0, done_cb, self);
    if (!self->done_ev) {
        cf_err_set(err, CF_ESYS, "archive: event_new failed");
        goto fail;
    }
    cf_busy_init(&self->busy, cf_clock_s(CLOCK_MONOTONIC));
    if (pthread_create(&self->thread, NULL, writer_main, self) != 0) {
        cf_err_set(err, CF_ESYS, "archive: cannot start the writer thread");
        goto fail;
    }
    self->thread_started = true;
    cf_log_notice("archive: opened %s (schema=%d queued=%" PRIu64 " done=%" PRIu64
                  " failed=%" PRIu64 " last_seq=%" PRIu64 ")",
                  self->path, SCHEMA_VERSION, self->st_.queued, self->st_.done, self->st_.failed,
                  self->st_.last_seq);
    return self;
fail:
    destroy(self);
    return NULL;
}

int
cf_archive_submit(cf_archive_t *self, cf_archive_req_t *req)
{
    if (!req->cb) {
        fprintf(stderr, "cf_archive_submit: request without a callback\n");
        abort(); /* API misuse */
    }
    pthread_mutex_lock(&self->mu);
    if (self->closing) {
        pthread_mutex_unlock(&self->mu);
        return CF_ECLOSED;
    }
    req->next_ = NULL;
    if (self->q_tail)
        self->q_tail->next_ = req;
    else
        self->q_head = req;
    self->q_tail = req;
    pthread_cond_signal(&self->cv);
    if (req->kind == CF_ARCHIVE_INSERT)
        self->st_.inserting++; /* loop thread only, like every counter of st_ */
    pthread_mutex_unlock(&self->mu);
    return CF_OK;
}

static int
set_ctl(cf_archive_t *self, int64_t max_pages, int busy_ms)
{
    pthread_mutex_lock(&self->mu);
    if (self->closing) {
        pthread_mutex_unlock(&self->mu);
        return CF_ECLOSED;
    }
    if (max_pages >= 0)
        self->ctl_max_pages = max_pages;
    if (busy_ms >= 0)
        self->ctl_busy_ms = busy_ms;
    pthread_cond_signal(&self->cv);
    pthread_mutex_unlock(&self->mu);
    return CF_OK;
}

int
cf_archive_set_max_pages(cf_archive_t *self, uint64_t pages)
{
    if (pages > NO_PAGE_CAP)
        pages = 0;
    return set_ctl(self, (int64_t)pages, -1);
}

int
cf_archive_set_busy_timeout(cf_archive_t *self, unsigned ms)
{
    return set_ctl(self, -1, ms > 3600000u ? 3600000 : (int)ms);
}

int
cf_archive_set_close_budget(cf_archive_t *self, double seconds)
{
    pthread_mutex_lock(&self->mu);
    int rc = self->closing ? CF_ECLOSED : CF_OK;
    if (rc == CF_OK)
        self->close_budget = seconds > 0 ? seconds : 0;
    pthread_mutex_unlock(&self->mu);
    return rc;
}

void
cf_archive_req_clear(cf_archive_req_t *req)
{
    if (!req)
        return;
    switch (req->kind) {
    case CF_ARCHIVE_CLAIM:
        claim_free(req);
        break;
    case CF_ARCHIVE_DONE:
        free(req->u.done.url);
        req->u.done.url = NULL;
        break;
    case CF_ARCHIVE_FAIL:
        free(req->u.fail.url);
        req->u.fail.url = NULL;
        break;
    default:
        break;
    }
}

void
cf_archive_stats(const cf_archive_t *self, cf_archive_stats_t *out)
{
    *out = self->st_;
    out->search_backlog = atomic_load_explicit(&self->fts_shown, memory_order_relaxed);
}

void
cf_archive_close(cf_archive_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    cf_archive_t *self = *self_p;
    *self_p = NULL;
    pthread_mutex_lock(&self->mu);
    self->closing = true;
    pthread_cond_signal(&self->cv);
    pthread_mutex_unlock(&self->mu);
    uint64_t left = 0;
    if (self->thread_started) {
        pthread_join(self->thread, NULL);
        pthread_mutex_lock(&self->mu);
        for (cf_archive_req_t *r = self->done_head; r; r = r->next_)
            left++;
        pthread_mutex_unlock(&self->mu);
        deliver(self); /* SPEC: callbacks still run, on the calling thread */
    }
    cf_log_notice("archive: closed %s (commits=%" PRIu64 " requests=%" PRIu64
                  " delivered_at_close=%" PRIu64 " queued=%" PRIu64 " last_seq=%" PRIu64 ")",
                  self->path, self->st_.commits, self->st_.batched, left, self->st_.queued,
                  self->st_.last_seq);
    destroy(self);
}

/* ------------------------------------------------------------------------ */
/* Reads                                                                     */
/* ------------------------------------------------------------------------ */

/* Opens the read-only connection and its statements on first use. */
static int
reader(cf_archive_t *self, cf_err_t *err)
{
    if (self->rdb)
        return CF_OK;
    int orc = sqlite3_open_v2(self->path, &self->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX,
                              NULL);
    if (orc == SQLITE_OK)
        orc = sqlite3_prepare_v3(self->rdb,
                                 "SELECT id, url, title, attempts, error, received_at"
                                 " FROM articles WHERE state = 'failed' AND id > ?1"
                                 " ORDER BY id LIMIT ?2",
                                 -1, SQLITE_PREPARE_PERSISTENT, &self->r_failed, NULL);
    if (orc != SQLITE_OK) {
        cf_err_set(err, CF_EDB, "archive %s: cannot open for reading: %s", self->path,
                   sqlite3_errmsg(self->rdb));
        sqlite3_finalize(self->r_failed);
        self->r_failed = NULL;
        sqlite3_close(self->rdb);
        self->rdb = NULL;
        return CF_EDB;
    }
    sqlite3_busy_timeout(self->rdb, BUSY_TIMEOUT_MS);
    return CF_OK;
}

int
cf_archive_list_failed(cf_archive_t *self, uint64_t after, size_t max, cf_archive_failed_t *out,
                       size_t *n, cf_err_t *err)
{
    *n = 0;
    if (reader(self, err) != CF_OK)
        return CF_EDB;
    sqlite3_stmt *s = self->r_failed;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)after);
    sqlite3_bind_int64(s, 2, (sqlite3_int64)max);
    int step;
    while (*n < max && (step = sqlite3_step(s)) == SQLITE_ROW) {
        cf_archive_failed_t *f = &out[(*n)++];
        f->id = (uint64_t)sqlite3_column_int64(s, 0);
        f->url = col_strdup(s, 1);
        f->title = col_strdup(s, 2);
        f->attempts = (unsigned)sqlite3_column_int64(s, 3);
        f->error = col_strdup(s, 4);
        f->received_at = col_strdup(s, 5);
    }
    if (*n < max && step != SQLITE_DONE) {
        cf_err_set(err, CF_EDB, "archive: listing failed articles: %s", sqlite3_errmsg(self->rdb));
        sqlite3_reset(s);
        for (size_t i = 0; i < *n; i++)
            cf_archive_failed_clear(&out[i]);
        *n = 0;
        return CF_EDB;
    }
    sqlite3_reset(s);
    return CF_OK;
}

void
cf_archive_failed_clear(cf_archive_failed_t *f)
{
    free(f->url);
    free(f->title);
    free(f->error);
    free(f->received_at);
    memset(f, 0, sizeof *f);
}

