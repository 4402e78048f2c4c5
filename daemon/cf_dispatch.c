/* SPDX-License-Identifier: MIT
 * cf_dispatch: credit-based job dispatch with leases (zguide Paranoid Pirate plus
 * a durable queue: a dead worker's jobs are requeued, not lost). */
#include "cf_dispatch.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_clock.h"
#include "cf_log.h"
#include "cf_loop.h"
#include "cf_msg.h"
#include "cf_text.h"

#define HEARTBEAT_MS 1000   /* both ways (DESIGN.md "Workers") */
#define IDLE_DEAD_MS 3000   /* an idle worker silent this long is dead */
#define WORKERS_OUTQ 10000
/* The prefetch buffer's depth (claimed articles kept ready beyond free credit) adapts
 * between these: at least PREFETCH_PER_CREDIT per credit, at most PREFETCH_MAX
 * articles and PREFETCH_BYTES of bodies (see next_depth). */
#define PREFETCH_PER_CREDIT 8
#define PREFETCH_MAX 256
#define PREFETCH_BYTES ((size_t)16 << 20)
/* Articles remembered as suspects (see "Blame"). With the list full, a worker lost
 * with several jobs out charges each job not already a suspect, as before "Blame":
 * the list stays bounded, and every article still moves toward quarantine. */
#define SUSPECTS_MAX 4096

/* Blame. A worker that dies or hangs with one job out is the fault of that job: it
 * counts as an attempt. With several out (credit > 1) the daemon cannot tell which
 * one killed it: charging each would quarantine innocent articles that only shared
 * a worker with a poison one. So none is charged: they go back to the queue as
 * suspects, and a suspect runs alone, on a worker with no other job, which gets
 * none until it ends. A death then blames exactly one article. A suspect stays one
 * until it is done or quarantined (in memory: a restarted daemon forgets them).
 *
 * The job deadline runs per worker, from its last answer (or from the job that ended
 * its idleness): a worker with jobs out that answers none for job_deadline seconds is
 * hung. A job waiting behind others on a worker does not age meanwhile. But a job
 * whose answer never comes (lost by a buggy or multi-threaded worker, or held back
 * by a hostile one) while its worker answers the others would never meet that
 * rule: each job is also due job_deadline x (the jobs ahead of it on its worker
 * + 1) after it was sent, the most a worker in order could take over it, and
 * fails alone then (an attempt; the worker stays: it answers). */

/* Broken workers. Workers that die or hang on BREAKER_LOSSES different articles with
 * no result in between are broken (a bad build, a data file that crashes
 * them, a host out of memory), not the articles: charging on would quarantine the
 * whole queue within seconds, one attempt per death. The breaker then opens: no job
 * goes out for a pause (BREAKER_PAUSE_S, doubling up to BREAKER_PAUSE_MAX_S while it
 * keeps opening), which the log, /healthz and the metrics say. After the pause one job
 * at a time goes out (charged as usual, so a truly poisonous queue still reaches
 * quarantine, one article per pause); its result closes the breaker, its worker's
 * death opens it again. An article that kills its workers again counts once: that is
 * what quarantine is for. */
#define BREAKER_LOSSES 8
#define BREAKER_PAUSE_S 10
#define BREAKER_PAUSE_MAX_S 300

typedef struct worker {
    struct worker *next;
    uint8_t id[256];        /* ROUTER routing id */
    size_t idlen;
    uint64_t pid;           /* as the worker reported it */
    bool local;             /* the pool vouches for pid (its token): ours to kill and reap */
    unsigned credit;        /* most jobs in flight */
    unsigned inflight;      /* jobs out now */
    uint64_t last_seen;     /* ms, monotonic */
    uint64_t busy_since;    /* ms: its last answer, or the job that ended its idleness */
    bool alone;             /* runs a suspect: no other job until it ends */
    bool reserved;          /* gets no job until idle: a suspect waits for it */
} worker_t;

typedef struct job {
    struct job *next;          /* in the in-flight list, or the retry list */
    cf_dispatch_t *owner;
    uint64_t lease;            /* the id the worker echoes; never the article id */
    worker_t *worker;          /* NULL once detached (worker gone or job finished) */
    cf_article_t article;      /* owned: the body checks evidence offsets */
    cf_facts_t facts;          /* the result being archived */
    char *strings;             /* the block holding the strings of facts and cls
                                  (cf_msg_decode_worker), or NULL */
    cf_class_t cls;
    char *error;               /* why the attempt failed */
    cf_archive_req_t req;      /* DONE, FAIL or RELEASE */
    bool alone;                /* a suspect (see "Blame"): runs with no other job */
    bool probe;                /* sent while the breaker was half open (see "Broken workers") */
    uint64_t due_ms;           /* out: answered by then, or failed (see "Blame") */
} job_t;

typedef struct jobq {
    job_t *head, *tail; /* linked by next */
    size_t n;
} jobq_t;

struct cf_dispatch {
    struct event_base *base;
    cf_zsock_t *zs;                /* workers ROUTER */
    cf_archive_t *archive;         /* borrowed */
    cf_publish_t *publish;         /* borrowed */
    cf_pool_t *pool;               /* borrowed, may be NULL */
    cf_dispatch_opts_t opts;
    worker_t *workers;             /* ready workers */
    job_t *inflight;               /* jobs out */
    jobq_t ready;                  /* claimed (processing) articles waiting for credit */
    jobq_t alone;                  /* claimed suspects waiting for an idle worker */
    uint64_t *suspects; /* article ids (see "Blame"), oldest first */
    size_t nsuspects;
    size_t ready_bytes; /* the bodies' bytes of both queues */
    size_t depth;       /* the buffer's depth now (next_depth) */
    size_t low;         /* the fewest ready while the claim was out */
    bool starved;       /* a credit found the buffer empty meanwhile */
    size_t claim_want;  /* what the claim would have taken from a long queue */
    uint64_t next_lease;
    bool claiming;                 /* a CLAIM is outstanding */
    cf_archive_req_t claim;
    bool draining;                 /* shutdown: no new claims */
    size_t pending;                /* archive requests of ours in flight */
    struct event *tick;            /* heartbeats, deadlines */
    struct event *kick;            /* cf_dispatch_kick_soon */
    struct event *retry_ev;        /* sends the retry list again, 1 s after its first */
    job_t *retry;                  /* requests the archive failed on storage trouble */
    msgpack_sbuffer buf;
    char *endpoint[2];             /* as bound (ipc files removed at destroy), or NULL */
    cf_ratelog_t undelivered_log;  /* rate-limited warnings */
    cf_ratelog_t bad_log;
    cf_ratelog_t report_log; /* `error` messages that end no job (reload failures) */
    cf_ratelog_t archive_log; /* results the archive could not store, retried */
    cf_ratelog_t claim_log;   /* claims the archive failed */
    /* the breaker (see "Broken workers") */
    uint64_t lost[BREAKER_LOSSES]; /* the different articles blamed losses had out since
                                    * the last result (one per loss) */
    size_t nlost;
    uint64_t paused_until; /* ms: open, no job before then; 0 when not open */
    unsigned pause_s;      /* its pause; 0 once a result closed it */
    bool probing;          /* half open: one job out at a time */
    cf_dispatch_stats_t st;
};

static void pump(cf_dispatch_t *self);

/* ---- sending --------------------------------------------------------------- */

static int
send_to(cf_dispatch_t *self, const worker_t *w)
{
    zmq_msg_t f[2];
    zmq_msg_init_size(&f[0], w->idlen);
    memcpy(zmq_msg_data(&f[0]), w->id, w->idlen);
    zmq_msg_init_size(&f[1], self->buf.size);
    memcpy(zmq_msg_data(&f[1]), self->buf.data, self->buf.size);
    msgpack_sbuffer_clear(&self->buf);
    return cf_zsock_send(self->zs, f, 2);
}

/* ---- suspects (see "Blame") ------------------------------------------------- */

static bool
suspect_has(const cf_dispatch_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->nsuspects; i++)
        if (self->suspects[i] == id)
            return true;
    return false;
}

/* Returns false, adding nothing, when the list is full (SUSPECTS_MAX). */
static bool
suspect_add(cf_dispatch_t *self, uint64_t id)
{
    if (suspect_has(self, id))
        return true;
    if (self->nsuspects == SUSPECTS_MAX)
        return false;
    if (!self->suspects)
        self->suspects = cf_malloc(SUSPECTS_MAX * sizeof *self->suspects);
    self->suspects[self->nsuspects++] = id;
    return true;
}

static void
suspect_forget(cf_dispatch_t *self, uint64_t id)
{
    for (size_t i = 0; i < self->nsuspects; i++)
        if (self->suspects[i] == id) {
            memmove(self->suspects + i, self->suspects + i + 1,
                    (self->nsuspects - i - 1) * sizeof *self->suspects);
            self->nsuspects--;
            return;
        }
}

/* ---- archive completions ----------------------------------------------------- */

static void
job_free(job_t *j)
{
    cf_article_clear(&j->article);
    if (j->strings) {
        /* the strings and the class's arrays are in the block */
        free(j->facts.v);
        free(j->strings);
    } else {
        cf_facts_clear(&j->facts);
        cf_class_clear(&j->cls);
    }
    free(j->error);
    cf_archive_req_clear(&j->req);
    free(j);
}

static void submit(cf_dispatch_t *self, job_t *j);
static void finish_failed(cf_dispatch_t *self, job_t *j, const char *why);

/* The retry list's requests, sent to the archive again (each is its own: their order
 * does not matter). */
static void
on_retry(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cf_dispatch_t *self = arg;
    while (self->retry) {
        job_t *j = self->retry;
        self->retry = j->next;
        j->next = NULL;
        submit(self, j);
    }
}

static void
on_job_archived(cf_archive_req_t *req, void *arg)
{
    job_t *j = arg;
    cf_dispatch_t *self = j->owner;
    self->pending--;
    if (req->rc == CF_EBUSY || req->rc == CF_EDB) {
        /* storage trouble: nothing was written; try the same request again shortly */
        cf_ratelog(&self->archive_log, CF_LOG_WARN,
                   "dispatch: archiving article %llu failed, retrying in 1 s: %s",
                   (unsigned long long)j->article.id, req->err.text);
        /* kept in a list of ours, not a one-shot event: freed with the dispatcher if
         * it goes first, and counted as pending (shutdown waits for it) */
        j->next = self->retry;
        self->retry = j;
        if (!evtimer_pending(self->retry_ev, NULL)) {
            struct timeval one = {1, 0};
            evtimer_add(self->retry_ev, &one);
        }
        return;
    }
    if (req->rc == CF_EREFUSED && req->kind == CF_ARCHIVE_DONE) {
        /* SQLite refused this result alone (a constraint) and would refuse it again:
         * retried like storage trouble it kept the article `processing` for ever.
         * An invalid result, then: an attempt, and quarantine at max_attempts. */
        char why[CF_ERR_TEXT_MAX + 64];
        snprintf(why, sizeof why, "the archive refused the result: %s", req->err.text);
        finish_failed(self, j, why); /* the facts go with the job (job_free) */
        return;
    }
    if (req->rc == CF_OK &&
        (req->kind == CF_ARCHIVE_DONE || (req->kind == CF_ARCHIVE_FAIL && req->u.fail.failed)))
        suspect_forget(self, j->article.id); /* settled: no longer runs */
    if (req->kind == CF_ARCHIVE_DONE && req->rc == CF_OK) {
        for (size_t i = 0; i < j->facts.n; i++)
            cf_publish_fact(self->publish, &j->facts.v[i]);
        cf_publish_article_done(self->publish, j->article.id, req->u.done.url, j->facts.n,
                                req->u.done.first_seq, req->u.done.last_seq);
        if (self->opts.published)
            self->opts.published(&j->article, &j->facts, self->opts.arg);
        self->st.done++;
        self->st.facts += j->facts.n;
        cf_log_debug("dispatch: article %llu done (%zu facts)",
                     (unsigned long long)j->article.id, j->facts.n);
    } else if (req->kind == CF_ARCHIVE_FAIL && req->rc == CF_OK && req->u.fail.failed) {
        self->st.quarantined++;
        cf_log_notice("dispatch: article %llu quarantined after %u attempts: %s",
                      (unsigned long long)j->article.id, req->u.fail.attempts, j->error);
        cf_publish_article_failed(self->publish, j->article.id, req->u.fail.url,
                                  req->u.fail.attempts, j->error);
    } else if (req->rc == CF_EREFUSED) {
        /* a FAIL or RELEASE that SQLite refuses on its own (a trigger, say): nothing
         * more to try; the claim is given back at the next start */
        cf_log_error("dispatch: article %llu: the archive refused to record the attempt, the "
                     "article stays processing until cloudfactd restarts: %s",
                     (unsigned long long)j->article.id, req->err.text);
    } else if (req->rc != CF_OK) {
        cf_log_warn("dispatch: article %llu: archive refused the update: %s",
                    (unsigned long long)j->article.id, req->err.text);
    }
    job_free(j);
    pump(self);
}

static void
submit(cf_dispatch_t *self, job_t *j)
{
    cf_archive_req_clear(&j->req);
    j->req.rc = CF_OK;
    if (cf_archive_submit(self->archive, &j->req) != CF_OK) {
        job_free(j); /* closing: the article stays `processing` and is requeued at start */
        return;
    }
    self->pending++;
}

/* Takes j out of the in-flight list and off its worker. */
static void
detach(cf_dispatch_t *self, job_t *j)
{
    for (job_t **pp = &self->inflight; *pp; pp = &(*pp)->next)
        if (*pp == j) {
            *pp = j->next;
            break;
        }
    j->next = NULL;
    if (j->worker) {
        j->worker->inflight--;
        if (j->alone)
            j->worker->alone = false;
        j->worker = NULL;
    }
}

static void
finish_failed(cf_dispatch_t *self, job_t *j, const char *why)
{
    detach(self, j);
    self->st.attempts_failed++;
    free(j->error);
    j->error = cf_strdup(why);
    /* why may quote a worker's text cut at a byte count: it is stored and published */
    cf_utf8_scrub(j->error, strlen(j->error));
    cf_log_warn("dispatch: article %llu attempt failed: %s", (unsigned long long)j->article.id,
                why);
    memset(&j->req, 0, sizeof j->req);
    j->req.kind = CF_ARCHIVE_FAIL;
    j->req.cb = on_job_archived;
    j->req.arg = j;
    j->req.u.fail.id = j->article.id;
    j->req.u.fail.error = j->error;
    j->req.u.fail.max_attempts = self->opts.max_attempts;
    submit(self, j);
}

static void
finish_released(cf_dispatch_t *self, job_t *j)
{
    detach(self, j);
    memset(&j->req, 0, sizeof j->req);
    j->req.kind = CF_ARCHIVE_RELEASE;
    j->req.cb = on_job_archived;
    j->req.arg = j;
    j->req.u.release.id = j->article.id;
    submit(self, j);
}

/* ---- workers ------------------------------------------------------------------ */

static worker_t *
worker_find(cf_dispatch_t *self, const void *id, size_t idlen)
{
    for (worker_t *w = self->workers; w; w = w->next)
        if (w->idlen == idlen && memcmp(w->id, id, idlen) == 0)
            return w;
    return NULL;
}

/* Opens the breaker (see "Broken workers"). */
static void
breaker_open(cf_dispatch_t *self, const char *why)
{
    self->pause_s = self->pause_s ? self->pause_s * 2 : BREAKER_PAUSE_S;
    if (self->pause_s > BREAKER_PAUSE_MAX_S)
        self->pause_s = BREAKER_PAUSE_MAX_S;
    self->paused_until = cf_clock_ms() + (uint64_t)self->pause_s * 1000;
    self->probing = false;
    self->nlost = 0;
    self->st.breaker_trips++;
    cf_log_error("dispatch: workers are dying on every article (%s): no job for %u s, then "
                 "one at a time until one succeeds (the articles are not to blame; fix the "
                 "workers, whose log says why, then reload to end the pause)",
                 why, self->pause_s);
}

/* Worker w, about to be forgotten, was lost by its fault (blame) with jobs out. */
static void
breaker_loss(cf_dispatch_t *self, const worker_t *w, const char *why)
{
    uint64_t id = 0;
    bool probe = false;
    for (const job_t *j = self->inflight; j; j = j->next)
        if (j->worker == w) {
            if (!id)
                id = j->article.id; /* one article per loss: several out blame none yet */
            probe |= j->probe;
        }
    if (!id)
        return;
    if (probe) { /* the one job of the half-open breaker */
        breaker_open(self, why);
        return;
    }
    if (self->paused_until || self->probing)
        return; /* a job sent before it opened */
    for (size_t k = 0; k < self->nlost; k++)
        if (self->lost[k] == id)
            return; /* the same article again: quarantine's case, not the workers' */
    self->lost[self->nlost++] = id;
    if (self->nlost >= BREAKER_LOSSES)
        breaker_open(self, why);
}

/* A worker answered a job with a result: the workers work. */
static void
breaker_result(cf_dispatch_t *self)
{
    if (self->pause_s)
        cf_log_notice("dispatch: a worker answered a job again; jobs go out as before");
    self->nlost = 0;
    self->paused_until = 0;
    self->pause_s = 0;
    self->probing = false;
}

/* Forgets w. With blame, its job fails with why (an attempt) when it had one out;
 * several go back to the queue as suspects, none charged (see "Blame"). Without
 * (its key was revoked: no article's doing), they all go back uncharged. */
static void
worker_remove(cf_dispatch_t *self, worker_t *w, const char *why, bool blame)
{
    unsigned out = w->inflight;
    if (blame && out > 0)
        breaker_loss(self, w, why);
    if (blame && out > 1)
        cf_log_notice("dispatch: worker (pid=%llu) lost with %u jobs out (%s): each will run "
                      "alone before one is blamed",
                      (unsigned long long)w->pid, out, why);
    job_t *j = self->inflight;
    while (j) {
        job_t *next = j->next;
        if (j->worker == w) {
            if (blame && (out == 1 || !suspect_add(self, j->article.id))) {
                finish_failed(self, j, why);
            } else {
                if (blame)
                    self->st.isolated++;
                finish_released(self, j);
            }
        }
        j = next;
    }
    for (worker_t **pp = &self->workers; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            break;
        }
    free(w);
}

static job_t *
job_find(cf_dispatch_t *self, uint64_t lease)
{
    for (job_t *j = self->inflight; j; j = j->next)
        if (j->lease == lease)
            return j;
    return NULL;
}

static void
on_result(cf_dispatch_t *self, worker_t *w, cf_msg_t *msg)
{
    job_t *j = job_find(self, msg->u.result.job);
    if (!j || j->worker != w) {
        /* a late result from a worker whose lease was taken back: drop it */
        cf_log_debug("dispatch: result for unknown lease %llu dropped",
                     (unsigned long long)msg->u.result.job);
        return;
    }
    w->busy_since = cf_clock_ms(); /* an answer: the deadline starts again */
    cf_facts_t *facts = &msg->u.result.facts;
    for (size_t i = 0; i < facts->n; i++) {
        cf_err_t err;
        facts->v[i].article = j->article.id;
        facts->v[i].seq = 0;
        /* the decoder checked the text fields (length, UTF-8): the rest is left */
        if (cf_fact_validate_decoded(&facts->v[i], j->article.body, j->article.body_len,
                                     &err) != CF_OK) {
            char why[CF_ERR_TEXT_MAX + 64];
            snprintf(why, sizeof why, "invalid result: fact %zu: %s", i, err.text);
            self->st.bad_messages++;
            finish_failed(self, j, why);
            return;
        }
    }
    breaker_result(self);
    detach(self, j);
    j->facts = *facts; /* take the facts, their strings and the class out of the message */
    memset(facts, 0, sizeof *facts);
    j->strings = msg->u.result.strings;
    msg->u.result.strings = NULL;
    j->cls = msg->u.result.cls;
    memset(&msg->u.result.cls, 0, sizeof msg->u.result.cls);
    memset(&j->req, 0, sizeof j->req);
    j->req.kind = CF_ARCHIVE_DONE;
    j->req.cb = on_job_archived;
    j->req.arg = j;
    j->req.u.done.id = j->article.id;
    j->req.u.done.facts = &j->facts;
    j->req.u.done.cls = &j->cls;
    submit(self, j);
}

static void
on_worker_msg(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    cf_dispatch_t *self = arg;
    if (n != 2 || overflow || zmq_msg_size(&frames[0]) > sizeof ((worker_t *)0)->id) {
        self->st.bad_messages++;
        return; /* workers use DEALER: routing id + body, nothing else */
    }
    const void *id = zmq_msg_data(&frames[0]);
    size_t idlen = zmq_msg_size(&frames[0]);
    cf_msg_t msg;
    cf_err_t err;
    worker_t *w = worker_find(self, id, idlen);
    if (cf_auth_check(self->opts.auth, CF_AUTH_WORKERS, &frames[1], NULL) != CF_OK) {
        /* its key was removed: nothing it sends counts; its jobs go to others */
        if (w)
            worker_remove(self, w, "worker key revoked", false);
        return;
    }
    /* heard from, even when what it said is refused: a worker whose refused result
     * ends its last attempt is not taken for silent at the next tick */
    if (w)
        w->last_seen = cf_clock_ms();
    if (cf_msg_decode_worker(zmq_msg_data(&frames[1]), zmq_msg_size(&frames[1]), &msg, &err) !=
        CF_OK) {
        self->st.bad_messages++;
        /* a result that names its lease but breaks a rule of the decoder (a type, a
         * length, UTF-8) ends that attempt as any invalid result does (SPEC.md 6.4);
         * a job whose result could not be read at all is reclaimed by its deadline */
        job_t *j = w && msg.op == CF_OP_RESULT ? job_find(self, msg.u.result.job) : NULL;
        if (j && j->worker == w) {
            char why[CF_ERR_TEXT_MAX + 32];
            snprintf(why, sizeof why, "invalid result: %s", err.text);
            w->busy_since = cf_clock_ms();
            finish_failed(self, j, why);
        } else {
            cf_ratelog(&self->bad_log, CF_LOG_WARN,
                       "dispatch: bad message from worker (pid=%llu): %s",
                       w ? (unsigned long long)w->pid : 0ULL, err.text);
        }
        cf_msg_clear(&msg);
        pump(self);
        return;
    }
    switch (msg.op) {
    case CF_OP_READY:
        if (!w) {
            w = cf_calloc(1, sizeof *w);
            memcpy(w->id, id, idlen);
            w->idlen = idlen;
            w->next = self->workers;
            self->workers = w;
            w->last_seen = cf_clock_ms();
            cf_log_info("dispatch: worker ready (pid=%llu, credit=%u)",
                        (unsigned long long)msg.u.ready.pid, msg.u.ready.credit);
        }
        if (w->credit && !msg.u.ready.credit)
            cf_log_info("dispatch: worker (pid=%llu) is leaving: it gets no more jobs and "
                        "answers its %u out",
                        (unsigned long long)msg.u.ready.pid, w->inflight);
        w->pid = msg.u.ready.pid;
        w->credit = msg.u.ready.credit;
        /* a pid is a claim: only the token our pool gave that process makes it ours, so
         * that a remote worker saying it has a local worker's pid cannot get that one
         * killed or its exit blamed on itself */
        w->local = self->pool && msg.u.ready.pid <= (uint64_t)INT32_MAX &&
                   cf_pool_vouch(self->pool, (pid_t)msg.u.ready.pid, msg.u.ready.token);
        if (w->local)
            cf_pool_ready(self->pool, (pid_t)w->pid);
        break;
    case CF_OP_HEARTBEAT: break;
    case CF_OP_RESULT:
        if (w)
            on_result(self, w, &msg);
        else
            self->st.bad_messages++;
        break;
    case CF_OP_ERROR: {
        job_t *j = w ? job_find(self, msg.u.error.job) : NULL;
        if (j && j->worker == w) {
            w->busy_since = cf_clock_ms();
            char why[CF_ERR_TEXT_MAX];
            snprintf(why, sizeof why, "worker error: %s", msg.u.error.error);
            finish_failed(self, j, why);
        } else {
            /* rate-limited: a remote worker decides how often this happens */
            cf_ratelog(&self->report_log, CF_LOG_WARN, "dispatch: worker (pid=%llu) reports: %s",
                       w ? (unsigned long long)w->pid : 0ULL, msg.u.error.error);
        }
        break;
    }
    default: self->st.bad_messages++; break;
    }
    cf_msg_clear(&msg);
    pump(self);
}

/* w's connection is gone (a send found no peer for its routing id): forgotten now,
 * not after 3 s of silence or a job deadline, during which every job picked for it
 * would go back and forth through the archive. Its jobs out are lost with it. */
static void
worker_gone(cf_dispatch_t *self, worker_t *w)
{
    cf_log_warn("dispatch: worker (pid=%llu) is gone (its connection closed); forgetting it",
                (unsigned long long)w->pid);
    worker_remove(self, w, "worker connection closed", true);
}

/* ---- claiming and sending jobs --------------------------------------------- */

/* The worker with the most free credit for an ordinary job, or NULL: one running a
 * suspect or held for one gets none. */
static worker_t *
pick_worker(cf_dispatch_t *self)
{
    worker_t *best = NULL;
    for (worker_t *w = self->workers; w; w = w->next)
        if (!w->alone && !w->reserved && w->inflight < w->credit &&
            (!best || w->credit - w->inflight > best->credit - best->inflight))
            best = w;
    return best;
}

/* A worker for a suspect: an idle one (the held one first), or NULL. With none idle,
 * the worker with the fewest jobs out is held (gets no more jobs) until it is; one
 * worker is held at a time. */
static worker_t *
pick_alone(cf_dispatch_t *self)
{
    worker_t *idle = NULL, *held = NULL, *fewest = NULL;
    for (worker_t *w = self->workers; w; w = w->next) {
        if (w->alone || w->credit == 0) /* credit 0: leaving (SPEC.md 6) */
            continue;
        if (w->reserved)
            held = w;
        if (w->inflight == 0 && (!idle || w->reserved))
            idle = w;
        if (!fewest || w->inflight < fewest->inflight)
            fewest = w;
    }
    if (idle) {
        if (held && held != idle)
            held->reserved = false;
        return idle;
    }
    if (!held && fewest)
        fewest->reserved = true;
    return NULL;
}

/* Sends j (from the prefetch buffer) to w under a fresh lease. */
static void
send_job(cf_dispatch_t *self, job_t *j, worker_t *w)
{
    j->lease = ++self->next_lease;
    j->next = self->inflight;
    self->inflight = j;
    j->worker = w;
    uint64_t now = cf_clock_ms();
    if (w->inflight == 0)
        w->busy_since = now; /* idle until now: the deadline starts */
    j->due_ms = now + (uint64_t)self->opts.job_deadline * 1000 * (w->inflight + 1);
    w->inflight++;
    if (j->alone) {
        w->alone = true;
        w->reserved = false;
    }
    cf_msg_pack_job(&self->buf, j->lease, &j->article);
    int rc = send_to(self, w);
    if (rc != CF_OK) {
        /* never delivered: no attempt; the worker is gone or choking */
        cf_ratelog(&self->undelivered_log, CF_LOG_WARN,
                   "dispatch: job for article %llu not delivered to worker (pid=%llu)",
                   (unsigned long long)j->article.id, (unsigned long long)w->pid);
        finish_released(self, j);
        if (rc == CF_ENOTFOUND)
            worker_gone(self, w);
        return;
    }
    self->st.jobs++;
}

/* The prefetch depth after a claim came back. A claim takes a writer's commit or two
 * (an fsync each) to come back; the buffer must feed the workers meanwhile, and how
 * many articles that takes depends on the disk and the workers' speed. So: double
 * the depth when a free credit found the buffer empty while a claim was out that the
 * queue could have filled (full), shrink it by an eighth when the buffer never fell
 * below half of it (low); at most PREFETCH_MAX (pump keeps the floor of 8 per
 * credit). A failed claim leaves it as it is. */
static size_t
next_depth(size_t depth, bool starved, bool full, size_t low)
{
    if (starved && full)
        depth = depth * 2;
    else if (!starved && low > depth / 2)
        depth -= depth / 8;
    return depth < PREFETCH_MAX ? depth : PREFETCH_MAX;
}

/* Appends j to q (one of the prefetch buffer's two queues). */
static void
jobq_push(cf_dispatch_t *self, jobq_t *q, job_t *j)
{
    if (q->tail)
        q->tail->next = j;
    else
        q->head = j;
    q->tail = j;
    q->n++;
    self->ready_bytes += j->article.body_len;
}

static void
on_claimed(cf_archive_req_t *req, void *arg)
{
    cf_dispatch_t *self = arg;
    self->claiming = false;
    self->pending--;
    if (req->rc != CF_OK) {
        /* a lasting cause (a damaged archive) fails every kick and tick */
        cf_ratelog(&self->claim_log, CF_LOG_WARN, "dispatch: claiming articles failed: %s",
                   req->err.text);
        cf_archive_req_clear(req);
        return; /* the next kick or tick tries again */
    }
    size_t bytes = 0;
    for (size_t i = 0; i < req->u.claim.n; i++) {
        job_t *j = cf_calloc(1, sizeof *j);
        j->owner = self;
        j->article = req->u.claim.articles[i]; /* take it */
        memset(&req->u.claim.articles[i], 0, sizeof req->u.claim.articles[i]);
        bytes += j->article.body_len;
        j->alone = suspect_has(self, j->article.id);
        jobq_push(self, j->alone ? &self->alone : &self->ready, j);
    }
    /* full: the claim got all it asked for (articles or bytes), so the queue was not
     * what ran short */
    bool full = req->u.claim.n >= self->claim_want || bytes >= req->u.claim.max_bytes;
    self->depth = next_depth(self->depth, self->starved, full, self->low);
    cf_archive_req_clear(req);
    pump(self);
}

/* The first job of q, or NULL. */
static job_t *
jobq_pop(cf_dispatch_t *self, jobq_t *q)
{
    job_t *j = q->head;
    if (j) {
        q->head = j->next;
        if (!q->head)
            q->tail = NULL;
        j->next = NULL;
        q->n--;
        self->ready_bytes -= j->article.body_len;
    }
    return j;
}

/* Sends the first job of q to w (see pump). */
static void
send_next(cf_dispatch_t *self, jobq_t *q, worker_t *w, size_t *room)
{
    job_t *j = jobq_pop(self, q);
    j->probe = self->probing;
    send_job(self, j, w);
    (*room)--;
}

/* Hands prefetched articles to free credit, then tops the prefetch buffer up to its
 * depth (next_depth) and PREFETCH_BYTES: a returned credit is answered with the next
 * job in the same loop turn, never after a claim's commit. Prefetched articles
 * are `processing` in the archive: released at shutdown, requeued after a crash. */
static void
pump(cf_dispatch_t *self)
{
    if (self->draining)
        return;
    if (self->paused_until) { /* the breaker is open (see "Broken workers") */
        if (cf_clock_ms() < self->paused_until)
            return;
        self->paused_until = 0;
        self->probing = true;
        cf_log_notice("dispatch: sending one job at a time until a worker answers one");
    }
    /* half open: one job out at most, marked; a send that finds its worker gone may
     * open the breaker again (worker_gone): then no further job */
    size_t room = self->probing ? (self->inflight ? 0 : 1) : SIZE_MAX;
    worker_t *w;
    while (room && !self->paused_until && self->alone.head && (w = pick_alone(self)))
        send_next(self, &self->alone, w, &room);
    while (room && !self->paused_until && self->ready.head && (w = pick_worker(self)))
        send_next(self, &self->ready, w, &room);
    if (self->claiming) {
        if (self->ready.n < self->low)
            self->low = self->ready.n;
        if (!self->ready.head && pick_worker(self))
            self->starved = true; /* a credit waits for the claim */
        return;
    }
    size_t free_credit = 0, total_credit = 0;
    for (worker_t *x = self->workers; x; x = x->next) {
        /* a repeated `ready` may lower a credit below the jobs already out */
        if (!x->alone && !x->reserved && x->inflight < x->credit)
            free_credit += x->credit - x->inflight;
        total_credit += x->credit;
    }
    size_t floor = total_credit * PREFETCH_PER_CREDIT;
    if (self->depth < floor)
        self->depth = floor < PREFETCH_MAX ? floor : PREFETCH_MAX;
    size_t want = free_credit + self->depth, have = self->ready.n + self->alone.n;
    want = want > have ? want - have : 0;
    if (self->ready_bytes >= PREFETCH_BYTES)
        want = 0; /* large articles: the buffer holds enough */
    cf_archive_stats_t ast;
    cf_archive_stats(self->archive, &ast);
    /* inserts not yet committed count: the claim runs after them (in their
     * transaction when it can), and takes what is there */
    uint64_t avail = ast.queued + ast.inserting;
    if (want == 0 || avail == 0)
        return;
    memset(&self->claim, 0, sizeof self->claim);
    self->claim.kind = CF_ARCHIVE_CLAIM;
    self->claim.cb = on_claimed;
    self->claim.arg = self;
    self->claim.u.claim.max = want < avail ? want : avail;
    self->claim.u.claim.max_bytes = PREFETCH_BYTES - self->ready_bytes;
    if (cf_archive_submit(self->archive, &self->claim) == CF_OK) {
        self->claiming = true;
        self->pending++;
        self->starved = false;
        self->low = self->ready.n;
        self->claim_want = want;
    }
}

static void
on_kick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    pump(arg);
}

/* ---- timers --------------------------------------------------------------------- */

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cf_dispatch_t *self = arg;
    uint64_t now = cf_clock_ms();
    /* workers that answered nothing for the job deadline with jobs out: hung; killed
     * if they are ours (see "Blame") */
    uint64_t limit = (uint64_t)self->opts.job_deadline * 1000;
    for (worker_t *w = self->workers; w;) {
        worker_t *next = w->next;
        if (w->inflight > 0 && now - w->busy_since > limit) {
            char why[128];
            snprintf(why, sizeof why, "job deadline (%u s) exceeded", self->opts.job_deadline);
            const job_t *j = self->inflight;
            while (j && j->worker != w)
                j = j->next;
            if (w->inflight == 1 && j)
                cf_log_warn("dispatch: worker (pid=%llu) hung on article %llu; %s it",
                            (unsigned long long)w->pid, (unsigned long long)j->article.id,
                            w->local ? "killing" : "forgetting");
            else
                cf_log_warn("dispatch: worker (pid=%llu) hung with %u jobs out; %s it",
                            (unsigned long long)w->pid, w->inflight,
                            w->local ? "killing" : "forgetting");
            if (w->local)
                cf_pool_kill(self->pool, (pid_t)w->pid);
            worker_remove(self, w, why, true);
        }
        w = next;
    }
    /* jobs never answered while their worker answers others (see "Blame") */
    for (job_t *j = self->inflight; j;) {
        job_t *next = j->next;
        if (j->worker && now > j->due_ms) {
            char why[160];
            snprintf(why, sizeof why,
                     "job deadline (%u s) exceeded: no answer for it while worker (pid=%llu) "
                     "answered others",
                     self->opts.job_deadline, (unsigned long long)j->worker->pid);
            self->st.overdue++;
            finish_failed(self, j, why);
        }
        j = next;
    }
    for (worker_t *w = self->workers; w;) {
        worker_t *next = w->next;
        if (w->inflight == 0 && now - w->last_seen > IDLE_DEAD_MS) {
            cf_log_warn("dispatch: worker (pid=%llu) silent for %llu ms; forgetting it",
                        (unsigned long long)w->pid, (unsigned long long)(now - w->last_seen));
            if (w->local)
                cf_pool_kill(self->pool, (pid_t)w->pid);
            worker_remove(self, w, "worker stopped heart-beating", true);
        } else {
            cf_msg_pack_op(&self->buf, "heartbeat", NULL, 0);
            if (send_to(self, w) == CF_ENOTFOUND)
                worker_gone(self, w);
        }
        w = next;
    }
    pump(self);
}

/* ---- public --------------------------------------------------------------------- */

cf_dispatch_t *
cf_dispatch_new(struct event_base *base, void *zctx, const char *endpoint, cf_archive_t *archive,
                cf_publish_t *publish, const cf_dispatch_opts_t *opts, cf_err_t *err)
{
    void *sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!sock) {
        cf_err_set(err, CF_ESYS, "workers: cannot create socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int64_t maxmsg = opts->max_message_size ? opts->max_message_size : CF_MAX_MSGSIZE;
    /* ROUTER_MANDATORY: a send to a gone worker fails at once instead of vanishing */
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg) != 0 ||
        cf_zsock_setopt_int(sock, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY", err) !=
            CF_OK) {
        zmq_close(sock);
        return NULL;
    }
    /* one socket, up to two endpoints: local workers (ipc, plain; bound first, see
     * cf_auth_bind) and remote ones (tcp, CURVE) */
    bool two = opts->local && strcmp(opts->local, endpoint) != 0;
    const char *eps[2] = {two ? opts->local : endpoint, two ? endpoint : NULL};
    for (size_t i = 0; i < 2 && eps[i]; i++) {
        if (cf_auth_bind(opts->auth, sock, CF_AUTH_WORKERS, NULL, eps[i], err) != CF_OK) {
            zmq_close(sock);
            return NULL;
        }
    }
    cf_dispatch_t *self = cf_calloc(1, sizeof *self);
    self->base = base;
    self->archive = archive;
    self->publish = publish;
    self->opts = *opts;
    /* leases start at a random point: a late result from a worker of an earlier
     * daemon run cannot match a lease of this one */
    if (getrandom(&self->next_lease, sizeof self->next_lease, 0) != sizeof self->next_lease)
        self->next_lease = (uint64_t)time(NULL) << 20;
    self->next_lease = (self->next_lease >> 2) + (1ull << 40);
    for (size_t i = 0; i < 2 && eps[i]; i++)
        self->endpoint[i] = cf_strdup(eps[i]);
    self->opts.local = NULL; /* borrowed for the bind only */
    msgpack_sbuffer_init(&self->buf);
    self->zs = cf_zsock_new(base, sock, "workers", on_worker_msg, self, WORKERS_OUTQ, err);
    if (!self->zs) {
        zmq_close(sock);
        cf_dispatch_destroy(&self);
        return NULL;
    }
    self->tick = event_new(base, -1, EV_PERSIST, on_tick, self);
    self->kick = event_new(base, -1, 0, on_kick, self);
    self->retry_ev = evtimer_new(base, on_retry, self);
    struct timeval tv = {HEARTBEAT_MS / 1000, (HEARTBEAT_MS % 1000) * 1000};
    event_add(self->tick, &tv);
    return self;
}

void
cf_dispatch_set_pool(cf_dispatch_t *self, cf_pool_t *pool)
{
    self->pool = pool;
}

void
cf_dispatch_set_opts(cf_dispatch_t *self, const cf_dispatch_opts_t *opts)
{
    /* the limits only: the published callback stays as created */
    self->opts.max_attempts = opts->max_attempts;
    self->opts.job_deadline = opts->job_deadline;
}

void
cf_dispatch_kick(cf_dispatch_t *self)
{
    pump(self);
}

void
cf_dispatch_kick_soon(cf_dispatch_t *self)
{
    /* active events run after the callback at hand (the ingest socket's burst) */
    if (!event_pending(self->kick, EV_READ, NULL))
        event_active(self->kick, EV_READ, 0);
}

void
cf_dispatch_worker_exited(cf_dispatch_t *self, pid_t pid, int status)
{
    for (worker_t *w = self->workers; w; w = w->next) {
        /* (without a pool, the caller reports exits of processes it started itself) */
        if (w->pid != (uint64_t)pid || (self->pool && !w->local))
            continue;
        char why[128];
        if (WIFSIGNALED(status))
            snprintf(why, sizeof why, "worker (pid=%d) killed by signal %d (%s)", (int)pid,
                     WTERMSIG(status), strsignal(WTERMSIG(status)));
        else
            snprintf(why, sizeof why, "worker (pid=%d) exited with status %d", (int)pid,
                     WEXITSTATUS(status));
        /* exit status 0 is a worker that chose to stop (SIGTERM from outside the daemon:
         * it finishes its job and exits): its jobs go back uncharged, and a result it sent
         * last, if it arrives after this, is dropped with the lease */
        bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
        worker_remove(self, w, why, !clean);
        break;
    }
    pump(self);
}

size_t
cf_dispatch_reload(cf_dispatch_t *self)
{
    size_t n = 0;
    for (worker_t *w = self->workers; w; w = w->next) {
        cf_msg_pack_op(&self->buf, "reload", NULL, 0);
        if (send_to(self, w) == CF_OK)
            n++;
    }
    if (self->paused_until) { /* the workers may be fixed: see now, one job at a time */
        self->paused_until = 0;
        self->probing = true;
        cf_log_notice("dispatch: reload: the pause for broken workers ends; one job at a "
                      "time until one succeeds");
        cf_dispatch_kick(self); /* behind the reloads on each worker's pipe */
    }
    return n;
}

void
cf_dispatch_drain(cf_dispatch_t *self)
{
    self->draining = true;
}

void
cf_dispatch_release_all(cf_dispatch_t *self)
{
    self->draining = true;
    while (self->inflight)
        finish_released(self, self->inflight);
    job_t *j;
    while ((j = jobq_pop(self, &self->ready)) || (j = jobq_pop(self, &self->alone)))
        finish_released(self, j);
    for (worker_t *w = self->workers; w; w = w->next) {
        cf_msg_pack_op(&self->buf, "stop", NULL, 0);
        send_to(self, w);
    }
}

size_t
cf_dispatch_pending(const cf_dispatch_t *self)
{
    size_t n = self->pending;
    for (const job_t *j = self->retry; j; j = j->next)
        n++;
    return n;
}

void
cf_dispatch_stats(const cf_dispatch_t *self, cf_dispatch_stats_t *out)
{
    *out = self->st;
    out->workers = 0;
    out->inflight = 0;
    for (const worker_t *w = self->workers; w; w = w->next)
        out->workers++;
    for (const job_t *j = self->inflight; j; j = j->next)
        out->inflight++;
    out->prefetched = self->ready.n + self->alone.n;
    out->suspects = self->nsuspects;
    out->breaker_pause = self->paused_until ? self->pause_s : 0;
    /* half open with nothing to send is no trouble (the queue emptied meanwhile) */
    cf_archive_stats_t ast;
    cf_archive_stats(self->archive, &ast);
    out->breaker_probing =
        self->probing && (out->inflight || out->prefetched || ast.queued || ast.inserting);
    cf_zsock_stats(self->zs, &out->sock);
}

void
cf_dispatch_destroy(cf_dispatch_t **self_p)
{
    cf_dispatch_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    while (self->inflight) {
        job_t *j = self->inflight;
        detach(self, j);
        job_free(j);
    }
    job_t *r;
    while ((r = jobq_pop(self, &self->ready)) || (r = jobq_pop(self, &self->alone)))
        job_free(r);
    free(self->suspects);
    while (self->workers) {
        worker_t *w = self->workers;
        self->workers = w->next;
        free(w);
    }
    if (self->tick)
        event_free(self->tick);
    if (self->kick)
        event_free(self->kick);
    if (self->retry_ev)
        event_free(self->retry_ev);
    while (self->retry) {
        job_t *j = self->retry;
        self->retry = j->next;
        job_free(j);
    }
    cf_zsock_destroy(&self->zs);
    for (size_t i = 0; i < 2; i++) {
        cf_auth_unbind_ipc(self->endpoint[i]); /* ZeroMQ leaves ipc files behind */
        free(self->endpoint[i]);
    }
    msgpack_sbuffer_destroy(&self->buf);
    free(self);
    *self_p = NULL;
}
