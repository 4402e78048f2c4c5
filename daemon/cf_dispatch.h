/* SPDX-License-Identifier: MIT
 * cf_dispatch: the workers ROUTER. Workers announce credit with `ready`; queued
 * articles are claimed from the archive only as far as free credit goes and sent
 * as `job`s, each under a fresh lease id. A result is checked (types, UTF-8,
 * evidence equal to the body at its offsets), archived with the article marked
 * done, then published. A worker that dies, or hangs (answers nothing for the job
 * deadline while it has jobs out), loses its jobs back to the queue: its one job out
 * counts as an attempt; several (credit > 1) count none and each runs alone next, on
 * a worker with no other job, so that a death blames one article only. An idle
 * worker that falls silent is forgotten. An article that reaches max_attempts is
 * quarantined and announced as article.failed. Workers that die on 8 different
 * articles in a row with no result between are taken for broken: no job goes out
 * for a pause (10 s, doubling to 5 min), then one at a time until one succeeds. */
#ifndef CF_DISPATCH_H
#define CF_DISPATCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "cf_archive.h"
#include "cf_auth.h"
#include "cf_err.h"
#include "cf_loop.h"
#include "cf_pool.h"
#include "cf_publish.h"

typedef struct cf_dispatch cf_dispatch_t;

/* Called on the loop thread after an article's facts were archived and published
 * (facts carry their seq). For metrics: facts by type, ingest-to-publish latency. */
typedef void (*cf_dispatch_published_cb)(const cf_article_t *a, const cf_facts_t *facts,
                                         void *arg);

typedef struct cf_dispatch_opts {
    unsigned max_attempts;  /* quarantine at this many failed attempts */
    unsigned job_deadline;  /* seconds a worker with jobs out may go without answering */
    cf_dispatch_published_cb published; /* may be NULL */
    void *arg;              /* for published */
    /* Set at creation only: */
    cf_auth_t *auth;        /* CURVE and the workers' allowlist (borrowed), or NULL */
    const char *local;      /* a second, ipc endpoint for local workers, or NULL */
    int64_t max_message_size; /* ZMQ_MAXMSGSIZE; 0: CF_MAX_MSGSIZE */
} cf_dispatch_opts_t;

typedef struct cf_dispatch_stats {
    size_t workers;           /* workers that sent ready and are alive */
    size_t inflight;          /* jobs out */
    uint64_t jobs;            /* jobs sent */
    uint64_t done;            /* articles archived done */
    uint64_t facts;           /* facts archived */
    uint64_t attempts_failed; /* failed attempts (crash, deadline, silence, bad result, error) */
    uint64_t quarantined;     /* articles marked failed */
    uint64_t isolated;        /* jobs sent back uncharged to run alone (several were out) */
    uint64_t overdue;         /* jobs failed unanswered while their worker answered others */
    size_t suspects;          /* articles that run alone until done or quarantined */
    uint64_t bad_messages;    /* undecodable or out-of-place worker messages */
    size_t prefetched;        /* claimed articles waiting for credit */
    uint64_t breaker_trips;   /* times workers dying on every article stopped the jobs */
    unsigned breaker_pause;   /* seconds of the pause in force, 0 when jobs go out */
    bool breaker_probing;     /* after a pause: one job at a time until one succeeds, and
                               * articles wait for it */
    cf_zsock_stats_t sock;    /* the workers socket */
} cf_dispatch_stats_t;

/* Binds the workers ROUTER on endpoint. Borrows archive and publish. */
cf_dispatch_t *cf_dispatch_new(struct event_base *base, void *zctx, const char *endpoint,
                               cf_archive_t *archive, cf_publish_t *publish,
                               const cf_dispatch_opts_t *opts, cf_err_t *err);

/* Lets the dispatcher kill hung local workers through pool (borrowed; may be NULL). */
void cf_dispatch_set_pool(cf_dispatch_t *self, cf_pool_t *pool);

/* New limits (SIGHUP): max_attempts applies to attempts counted from now on,
 * job_deadline from the next check (once a second); the published callback is not
 * changed. */
void cf_dispatch_set_opts(cf_dispatch_t *self, const cf_dispatch_opts_t *opts);

/* The queue may have grown: hand out work if credit allows. */
void cf_dispatch_kick(cf_dispatch_t *self);

/* Articles are on their way into the queue (inserts submitted, not yet committed):
 * kick once the loop is done with the messages at hand, so that one claim, queued
 * behind those inserts, hands them out in the transaction that stores them (claims
 * are delivered after commit: nothing goes out before it is stored). */
void cf_dispatch_kick_soon(cf_dispatch_t *self);

/* A local worker process ended (from cf_pool): its jobs fail, it is forgotten. */
void cf_dispatch_worker_exited(cf_dispatch_t *self, pid_t pid, int status);

/* Tells every ready worker to reload its data files (SIGHUP). A worker finishes
 * the job it is on first; one that cannot load the new files keeps the old ones
 * and says so with an `error`. Ends a pause for broken workers (one job at a time
 * from now on, until one succeeds). Returns how many workers were told. */
size_t cf_dispatch_reload(cf_dispatch_t *self);

/* Shutdown, step 1: claim no more articles; jobs out may still finish. */
void cf_dispatch_drain(cf_dispatch_t *self);

/* Shutdown, step 2: give every job still out back to the queue (no attempt counted)
 * and tell every worker to stop. */
void cf_dispatch_release_all(cf_dispatch_t *self);

/* Archive requests of ours not yet completed, those waiting to be sent again after
 * storage trouble included (shutdown waits for 0). */
size_t cf_dispatch_pending(const cf_dispatch_t *self);

void cf_dispatch_stats(const cf_dispatch_t *self, cf_dispatch_stats_t *out);

/* Frees the dispatcher and its jobs. Close the archive first: requests it still holds
 * call back into the dispatcher (cloudfactd's stop() does so). NULL-safe. */
void cf_dispatch_destroy(cf_dispatch_t **self_p);

#endif
