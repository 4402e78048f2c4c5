/* SPDX-License-Identifier: MIT
 * cf_archive: the SQLite archive (DESIGN.md "The archive"): schema, migrations,
 * the durable article queue and the fact log. One writer thread owns the write
 * connection and runs requests in batched transactions (adaptive group commit);
 * completions come back on the libevent loop thread, after COMMIT, through each
 * request's callback. Nothing here touches ZeroMQ. */
#ifndef CF_ARCHIVE_H
#define CF_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "cf_err.h"
#include "cf_fact.h"

typedef struct cf_archive cf_archive_t;

/* The schema version (PRAGMA user_version) cf_archive_open migrates every archive
 * to. Version 1: tables articles, facts, article_fts, view fact_view. Version 2:
 * indexes on facts(type) and facts(subject); views article_view,
 * quarantine_view, facts_by_type, facts_by_subject. Version 3: the span tables
 * below in place of those two indexes. Version 4: the spans' mark, fact_spans_mark.
 * Version 5: articles_failed, a partial index of the quarantined articles.
 * Version 6: articles_queued, a partial index of the queue (documented in
 * cf_archive.c and README.md). */
#define CF_ARCHIVE_SCHEMA_VERSION 6

/* The span tables: fact_type_spans(type, first, last) and fact_subject_spans(subject,
 * first, last), WITHOUT ROWID, keyed (type, first) and (subject, first). A span says
 * "facts of this type (subject) lie in seqs first..last", with facts of other keys
 * between them. The spans cover the facts up to the mark, the one row of
 * fact_spans_mark(one, seq): every fact with a type (subject) and a seq <= mark lies in
 * exactly one span of its key, no span reaches above the mark, and spans of one key
 * never overlap. The facts above the mark (a few thousand, plus at most one batch's:
 * the writer adds their spans in bulk, cf_archive.c "Spans") are read from the log. A span never
 * crosses a multiple of CF_ARCHIVE_SPAN_MAX, so last - first < CF_ARCHIVE_SPAN_MAX: the
 * spans that reach into seqs (lo, hi] are those with first in
 * (lo - CF_ARCHIVE_SPAN_MAX, hi], one range of the key. A span may cover facts of other
 * keys in between: readers join on the key as well as the range. */
#define CF_ARCHIVE_SPAN_MAX 1024
#define CF_ARCHIVE_SPAN_MAX_SQL CF_ARCHIVE_STR_(CF_ARCHIVE_SPAN_MAX) /* the same, as SQL text */
#define CF_ARCHIVE_STR_(x) CF_ARCHIVE_STR2_(x)
#define CF_ARCHIVE_STR2_(x) #x

/* How the writer cuts spans (a choice, not part of the contract above): the facts of a
 * key in one run of one article's facts (a maximal block of consecutive seqs of one
 * article) make a span; spans of one key less than CF_ARCHIVE_SPAN_GAP seqs apart
 * merge (a reader then steps over at most that many other facts, and a frequent key
 * costs a row per few hundred facts instead of one per article); no span crosses a
 * multiple of CF_ARCHIVE_SPAN_MAX. */
#define CF_ARCHIVE_SPAN_GAP 32
#define CF_ARCHIVE_SPAN_GAP_SQL CF_ARCHIVE_STR_(CF_ARCHIVE_SPAN_GAP)

/* Adds the spans of table T (key column K) for the facts above the mark, cut as the
 * writer cuts them. */
#define CF_ARCHIVE_SPANS_ADD_SQL_(T, K)                                                            \
    "INSERT OR IGNORE INTO " T "(" K ", first, last) SELECT " K ", min(first), max(last) FROM"     \
    " (SELECT " K ", first, last, blk, sum(brk) OVER (PARTITION BY " K ", blk ORDER BY first)"     \
    " AS grp FROM (SELECT " K ", first, last, blk, coalesce(first - lag(last) OVER"                \
    " (PARTITION BY " K ", blk ORDER BY first) >= " CF_ARCHIVE_SPAN_GAP_SQL ", 1) AS brk FROM"     \
    " (SELECT " K ", min(seq) AS first, max(seq) AS last, seq / " CF_ARCHIVE_SPAN_MAX_SQL          \
    " AS blk FROM (SELECT seq, " K ", sum(new_run) OVER (ORDER BY seq) AS run FROM"                \
    " (SELECT seq, " K ", article IS NOT lag(article) OVER (ORDER BY seq) AS new_run"              \
    " FROM facts WHERE seq > (SELECT seq FROM fact_spans_mark)))"                                  \
    " WHERE " K " IS NOT NULL GROUP BY run, " K ", blk)))"                                         \
    " GROUP BY " K ", blk, grp"
#define CF_ARCHIVE_SPANS_ADD_TYPE_SQL CF_ARCHIVE_SPANS_ADD_SQL_("fact_type_spans", "type")
#define CF_ARCHIVE_SPANS_ADD_SUBJECT_SQL CF_ARCHIVE_SPANS_ADD_SQL_("fact_subject_spans", "subject")
/* After both adds: the mark at the last fact. */
#define CF_ARCHIVE_SPANS_MARK_SQL                                                                  \
    "UPDATE fact_spans_mark SET seq = coalesce((SELECT max(seq) FROM facts), seq)"

/* Rebuilds both span tables and the mark from the facts table, in SQL (the same rows
 * the writer writes). Tests that write facts by hand run it after them; `cloudfact
 * check --repair` runs it. */
#define CF_ARCHIVE_SPANS_SQL                                                                       \
    "DELETE FROM fact_type_spans;"                                                                 \
    "DELETE FROM fact_subject_spans;"                                                              \
    "INSERT OR IGNORE INTO fact_spans_mark(one, seq) VALUES(1, 0);"                                \
    "UPDATE fact_spans_mark SET seq = 0;" CF_ARCHIVE_SPANS_ADD_TYPE_SQL                            \
    ";" CF_ARCHIVE_SPANS_ADD_SUBJECT_SQL ";" CF_ARCHIVE_SPANS_MARK_SQL ";"

typedef enum cf_archive_kind {
    CF_ARCHIVE_INSERT = 1, /* store a new article as `queued` */
    CF_ARCHIVE_CLAIM,      /* hand out queued articles: `processing` (writer memory only:
                              the row stays `queued`, nothing is written) */
    CF_ARCHIVE_DONE,       /* store an article's facts and mark it `done`, one transaction;
                              indexed for search then or soon after (cf_archive.c) */
    CF_ARCHIVE_FAIL,       /* an attempt failed: requeue, or quarantine at max_attempts */
    CF_ARCHIVE_RELEASE,    /* give a `processing` article back to the queue, no attempt
                              counted (writes nothing) */
    CF_ARCHIVE_REQUEUE     /* operator: hand quarantined (`failed`) articles back to the queue */
} cf_archive_kind_t;

typedef struct cf_archive_req cf_archive_req_t;

/* Runs on the loop thread after the request's transaction committed (or failed). */
typedef void (*cf_archive_cb)(cf_archive_req_t *req, void *arg);

struct cf_archive_req {
    cf_archive_kind_t kind;  /* what to do */
    cf_archive_cb cb;        /* completion; required */
    void *arg;               /* passed to cb */
    int rc;                  /* out: CF_OK, CF_EDUP (insert), CF_EINVAL (done, fail or release
                                of an article that is not processing: nothing written),
                                CF_EBUSY/CF_EDB (storage trouble: the whole batch was
                                rolled back, nothing of this request is stored; the
                                same request may succeed later), CF_EREFUSED (SQLite
                                refused this request alone, e.g. a constraint: nothing
                                of it is stored, the rest of its batch is; sending it
                                again would be refused again) */
    cf_err_t err;            /* out: why, when rc != CF_OK */
    union {
        struct {
            cf_article_t *article; /* in, borrowed until cb; out: article->id set on CF_OK */
            uint64_t id;           /* out: new id, or the existing id on CF_EDUP */
        } insert;
        struct {
            size_t max;             /* in: most articles to hand out */
            size_t max_bytes;       /* in: stop once the articles handed out hold this
                                       many body bytes (always at least one); 0: none */
            cf_article_t *articles; /* out: array of n articles (with ids), owned by req */
            size_t n;               /* out */
        } claim;
        struct {
            uint64_t id;           /* in: the article */
            cf_facts_t *facts;     /* in, borrowed until cb; out: each fact's seq is set */
            const cf_class_t *cls; /* in, borrowed until cb; may be NULL */
            uint64_t first_seq;    /* out: seq of the first fact, 0 if none */
            uint64_t last_seq;     /* out: seq of the last fact, 0 if none */
            char *url;             /* out: the article's url, owned by req */
        } done;
        struct {
            uint64_t id;           /* in */
            const char *error;     /* in, borrowed: why the attempt failed */
            unsigned max_attempts; /* in: quarantine when attempts reach this */
            unsigned attempts;     /* out: attempts so far, this one included */
            bool failed;           /* out: true if now `failed` (quarantined) */
            char *url;             /* out: the article's url, owned by req */
        } fail;
        struct {
            uint64_t id;           /* in */
        } release;
        struct {
            uint64_t id;           /* in: the article, or 0 for every failed article */
            uint64_t count;        /* out: articles requeued (attempts and error reset) */
        } requeue;                 /* rc CF_ENOTFOUND: id is not a failed article */
    } u;
    cf_archive_req_t *next_;  /* private to cf_archive */
};

/* Counts kept by the archive, read on the loop thread. */
typedef struct cf_archive_stats {
    uint64_t queued;       /* articles waiting (state queued), exact */
    uint64_t inserting;    /* inserts submitted, not yet answered: queued once committed */
    uint64_t processing;   /* articles handed out and not yet back (`queued` in the table) */
    uint64_t done;         /* articles done (since open, plus those found at open) */
    uint64_t failed;       /* articles quarantined */
    uint64_t last_seq;     /* highest fact seq archived */
    uint64_t commits;      /* transactions committed since open */
    uint64_t batched;      /* requests carried by those transactions */
    uint64_t rollbacks;    /* batches rolled back (storage trouble): all their requests failed */
    uint64_t rollback_ms;  /* when the last one was delivered (cf_clock_ms; 0: none yet) */
    char rollback_error[CF_ERR_TEXT_MAX]; /* why the last one was ("" before any) */
    uint64_t search_backlog; /* done articles not yet indexed for text search, as of the
                              * writer's last transaction (they are found by every query
                              * but a `text` one) */
    uint64_t checkpoints;    /* WAL checkpoints run by the writer, as of the last delivery */
    uint64_t checkpoint_failures; /* of them, failed: the WAL grows until one succeeds */
} cf_archive_stats_t;

/* What a long cf_archive_open is doing, told every interval_ms (0: 1000) while it
 * works: a migration, the recovery scans of a big archive, a wait for a lock
 * another connection holds ("... (waiting for a lock another connection holds)").
 * For a service manager's start timeout. Called on the opening thread, never
 * after cf_archive_open returns; doing is valid during the call only. */
typedef struct cf_archive_progress {
    void (*fn)(void *ctx, const char *doing);
    void *ctx;
    unsigned interval_ms;
} cf_archive_progress_t;

/* Opens (creating if needed, mode 0750) state_dir and state_dir/cloudfact.db
 * (mode 0640), takes the directory's lock file (a second daemon gets CF_EBUSY
 * naming the holder's pid), migrates the schema to the current version (a newer,
 * foreign or corrupt file gives CF_EDB naming `cloudfact check --state-dir DIR`),
 * resets `processing` articles (older versions wrote them) to `queued`, finds done
 * articles not yet indexed for search, starts the writer thread (named cf-writer; it
 * inherits the calling thread's scheduling policy and nice value). A lock another
 * connection holds is waited for up to 5 s. progress (NULL: none) hears how a long
 * open goes. Completions are delivered on base's loop thread
 * (evthread_use_pthreads() must have been called before base was created).
 * Returns NULL with err on failure. */
cf_archive_t *cf_archive_open(const char *state_dir, struct event_base *base,
                              const cf_archive_progress_t *progress, cf_err_t *err);

/* Queues req for the writer. Requests are carried out in submission order, many
 * per transaction; req->cb runs on the loop thread after the commit. The caller
 * owns req and must keep it alive until cb has run; cb may free it (after
 * cf_archive_req_clear). Returns CF_OK, or CF_ECLOSED after cf_archive_close
 * began (cb is then never called). */
int cf_archive_submit(cf_archive_t *self, cf_archive_req_t *req);

/* Caps the database at n pages (PRAGMA max_page_count on the write connection; a cap
 * below the current size becomes the current size; 0 lifts the cap). Applied by the
 * writer before the next batch; a batch that needs more space then fails with
 * CF_EBUSY "database or disk is full". For operators and tests (a full disk on
 * demand). Returns CF_OK or CF_ECLOSED. */
int cf_archive_set_max_pages(cf_archive_t *self, uint64_t n);

/* How long the writer waits for a write lock held by another connection (sqlite3
 * shell, `cloudfact check`) before the batch fails with CF_EBUSY "database is
 * locked"; default 5000 ms. Applied before the next batch. Returns CF_OK or CF_ECLOSED. */
int cf_archive_set_busy_timeout(cf_archive_t *self, unsigned ms);

/* How long a close may spend indexing the search backlog and merging the index
 * (default 5 s; 0: none); the articles left are indexed after the next open. For tests.
 * Returns CF_OK or CF_ECLOSED. */
int cf_archive_set_close_budget(cf_archive_t *self, double seconds);

/* Frees what the archive allocated in req (claim.articles, done.url, fail.url).
 * Call it before resubmitting a req: outputs are overwritten at execution. */
void cf_archive_req_clear(cf_archive_req_t *req);

/* The current counters. Loop thread only: they are updated as completions are
 * delivered, so they agree with the callbacks already run (search_backlog, the
 * writer's own, may be a transaction ahead of them). */
void cf_archive_stats(const cf_archive_t *self, cf_archive_stats_t *out);

/* Stops accepting requests, lets the writer finish and commit what it has, runs
 * the remaining callbacks on the calling (loop) thread, joins the thread, closes
 * the database and releases the lock (the lock file stays, emptied). *self_p is set
 * to NULL. NULL-safe. Not from inside a completion callback. */
void cf_archive_close(cf_archive_t **self_p);

/* One quarantined article, as `cloudfact quarantine` lists it. */
typedef struct cf_archive_failed {
    uint64_t id;
    char *url;          /* owned */
    char *title;        /* owned */
    unsigned attempts;  /* attempts made */
    char *error;        /* why the last attempt failed, owned, may be NULL */
    char *received_at;  /* ISO 8601 UTC, owned */
} cf_archive_failed_t;

/* Reads up to max failed articles with id > after, in id order, into out (an
 * array of max), on the read-only connection. *n is how many. Free each with
 * cf_archive_failed_clear. Returns CF_OK or CF_EDB. Blocking; operator use. */
int cf_archive_list_failed(cf_archive_t *self, uint64_t after, size_t max,
                           cf_archive_failed_t *out, size_t *n, cf_err_t *err);

void cf_archive_failed_clear(cf_archive_failed_t *f);

/* The database file of an open archive (borrowed, valid until close): for
 * read-only connections of other modules (cf_reader). */
const char *cf_archive_db_path(const cf_archive_t *self);

/* Path of the database file inside state_dir (caller frees). */
char *cf_archive_path(const char *state_dir);

#endif
