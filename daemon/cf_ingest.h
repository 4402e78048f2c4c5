/* SPDX-License-Identifier: MIT
 * cf_ingest: the ingest ROUTER. Validates each request, hands articles to the
 * archive (group commit) and replies only after the commit: accepted (with the
 * id), duplicate (with the existing id, also while the queue is full), invalid
 * (with the reason), busy (queue full or storage trouble, with the cause). Every
 * request gets exactly one reply. */
#ifndef CF_INGEST_H
#define CF_INGEST_H

#include <stdint.h>

#include <event2/event.h>

#include "cf_archive.h"
#include "cf_err.h"
#include "cf_auth.h"
#include "cf_loop.h"

typedef struct cf_ingest cf_ingest_t;

/* Called after an article was committed as queued (the dispatcher's cue). */
typedef void (*cf_ingest_accepted_cb)(void *arg);

typedef struct cf_ingest_stats {
    uint64_t accepted, duplicate, invalid, busy, denied; /* replies by status */
    uint64_t pending;                                    /* waiting for their commit */
    cf_zsock_stats_t sock;                               /* the ingest socket */
} cf_ingest_stats_t;

/* Limits and hooks of the ingest endpoint; zero limits take the DESIGN defaults
 * (cf_limits.h). */
typedef struct cf_ingest_opts {
    uint64_t max_queue;        /* unprocessed articles beyond which requests are busy */
    size_t max_inflight;       /* unanswered requests per client; more are invalid */
    size_t max_frames;         /* frames per request (routing id, envelope, body) */
    int64_t max_message_size;  /* ZMQ_MAXMSGSIZE: a larger message drops the connection */
    cf_auth_t *auth;           /* CURVE and allowlists (borrowed), or NULL: plain */
    cf_ingest_accepted_cb on_accepted; /* after each accepted commit, or NULL */
    void *arg;                 /* for on_accepted and on_submitted */
    cf_ingest_accepted_cb on_submitted; /* after each article handed to the archive (not
                                         * yet committed), or NULL */
} cf_ingest_opts_t;

/* Binds a ROUTER on endpoint and opens a read connection to the archive (url
 * lookups). Borrows archive. Returns NULL with err on failure. */
cf_ingest_t *cf_ingest_new(struct event_base *base, void *zctx, const char *endpoint,
                           cf_archive_t *archive, const cf_ingest_opts_t *opts, cf_err_t *err);

/* Changes the queue bound (SIGHUP); requests already waiting are not affected. */
void cf_ingest_set_max_queue(cf_ingest_t *self, uint64_t max_queue);

/* Changes the per-client cap on requests in flight (SIGHUP). */
void cf_ingest_set_max_inflight(cf_ingest_t *self, size_t max_inflight);

/* Shutdown: stores no new article; each request from now on is answered busy
 * "shutting down" (a malformed one invalid, as always), and the replies of those
 * already submitted still go out as their commits complete. */
void cf_ingest_stop(cf_ingest_t *self);

/* At stop, after cf_ingest_stop and before the archive closes: closes the read
 * connection (see cf_query_close_reader). */
void cf_ingest_close_reader(cf_ingest_t *self);

void cf_ingest_stats(const cf_ingest_t *self, cf_ingest_stats_t *out);

/* Requests waiting for their commit (shutdown waits for 0). */
uint64_t cf_ingest_pending(const cf_ingest_t *self);

void cf_ingest_destroy(cf_ingest_t **self_p);

#endif
