/* SPDX-License-Identifier: MIT
 * cf_client: the C client API behind the `cloudfact` command line: push articles
 * with many requests in flight, subscribe to facts, ask the query socket. Never
 * logs; errors come back in cf_err_t. Every call takes the daemon's endpoint and
 * the CURVE credentials to use there (NULL: plain). A handshake the daemon refuses
 * (key not allowed, CURVE expected, wrong server key) fails the call at once with
 * CF_EDENIED and the reason, rather than waiting for a timeout. */
#ifndef CF_CLIENT_H
#define CF_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf_err.h"
#include "cf_fact.h"
#include "cf_key.h"
#include "cf_msg.h"

/* ---- push ------------------------------------------------------------------ */

/* Yields the next article to push into *a (the library clears it after sending).
 * Returns 1 for an article, 0 at the end, -1 to stop with an error (in err). */
typedef int (*cf_push_next_fn)(void *arg, cf_article_t *a, cf_err_t *err);

/* Called once per article with its final status: CF_OK (accepted), CF_EDUP,
 * CF_EINVAL, CF_EBUSY (still busy after the retries), CF_EDENIED, or CF_ECLOSED
 * (never answered). seq is the article's position in the input (0-based). */
typedef void (*cf_push_done_fn)(void *arg, uint64_t seq, const cf_article_t *a, int status,
                                uint64_t id, const char *error);

typedef struct cf_push_opts {
    unsigned window;          /* requests in flight, 1..1000 (default 256) */
    unsigned timeout_ms;      /* resend an unanswered request after this (default 10000) */
    unsigned retries;         /* resends of an unanswered request (opts NULL: 5; 0: none) */
    unsigned busy_for_ms;     /* keep retrying a `busy` article this long (default 600000) */
    unsigned busy_max_ms;     /* back-off cap for `busy` (default 5000) */
} cf_push_opts_t;

/* Pushes every article next() yields to the ingest endpoint and waits for all
 * answers, calling done() for each. An unanswered request is resent with the same
 * ref; `busy` is retried with capped exponential back-off. Returns CF_OK when
 * every article got a final answer (whatever it was), else CF_ESYS / the error
 * next() returned. opts may be NULL (every default); in opts, zero fields take
 * their defaults except retries, where 0 means never resend. err may be NULL.
 * `busy` is final only after busy_for_ms of retries: backpressure delays, it does
 * not lose. An article whose request would be over CF_MAX_MSGSIZE is not sent (the
 * daemon would drop the message unanswered): done() gets CF_EINVAL for it at once. */
int cf_push_run(const char *endpoint, const cf_curve_client_t *curve, const cf_push_opts_t *opts,
                cf_push_next_fn next, void *next_arg, cf_push_done_fn done, void *done_arg,
                cf_err_t *err);

/* ---- subscribe ------------------------------------------------------------- */

typedef struct cf_sub cf_sub_t;

/* Connects a SUB socket to endpoint, subscribed to each prefix (none: "fact."),
 * with a receive high-water mark of 200,000 messages (room for the live stream
 * while a subscriber replays history). */
cf_sub_t *cf_sub_new(const char *endpoint, const cf_curve_client_t *curve,
                     const char *const *prefixes, size_t nprefixes, cf_err_t *err);

/* One published message. */
typedef struct cf_sub_msg {
    char topic[256];        /* the topic frame */
    bool is_fact;           /* topic fact.*: fact is decoded and valid */
    cf_fact_t fact;         /* owned; cleared by the next recv or destroy */
    const void *body;       /* the raw body, valid until the next recv */
    size_t body_len;
} cf_sub_msg_t;

/* Waits up to timeout_ms (-1: forever) for a message. Returns CF_OK with *msg,
 * CF_EBUSY on timeout, CF_EINVAL for a malformed message (err says why; the
 * stream goes on), CF_ECLOSED when interrupted by a signal. */
int cf_sub_recv(cf_sub_t *self, int timeout_ms, cf_sub_msg_t *msg, cf_err_t *err);

void cf_sub_destroy(cf_sub_t **self_p);

/* ---- query ----------------------------------------------------------------- */

/* Sends one query body (msgpack) to the query endpoint and waits up to timeout_ms
 * for its reply; *reply (malloc'd, caller frees) holds the raw msgpack body. */
int cf_query_call(const char *endpoint, const cf_curve_client_t *curve, const void *req,
                  size_t len, int timeout_ms, void **reply, size_t *reply_len, cf_err_t *err);

/* Sends one request to a query or control endpoint and passes every reply body
 * to each() (with its op, "" when unreadable) until a reply whose op is "end" or
 * "error", which is passed too. each() returns 0 to go on, non-zero to stop.
 * Gives up when no reply comes for timeout_ms. Returns CF_OK, CF_EBUSY (timeout),
 * CF_ECLOSED (interrupted) or CF_EINVAL (cannot connect). */
int cf_query_stream(const char *endpoint, const cf_curve_client_t *curve, const void *req,
                    size_t len, int timeout_ms,
                    int (*each)(const char *op, const void *body, size_t len, void *arg),
                    void *arg, cf_err_t *err);

/* ---- replay and facts: history from the archive ------------------------------ */

/* How a `replay` or `facts` stream ended. */
typedef struct cf_stream_end {
    bool ended;               /* an `end` arrived */
    uint64_t last;            /* its `last`: seq of the last fact sent, or since */
    uint64_t head;            /* its `head`: the highest archived seq then */
    uint64_t facts;           /* fact messages received */
    char error[CF_ERR_TEXT_MAX]; /* the daemon's reason when it refused or cut short */
} cf_stream_end_t;

/* Called once per fact, in seq order. Return 0 to go on, non-zero to stop. */
typedef int (*cf_fact_fn)(void *arg, const cf_fact_t *f);

/* Asks the query endpoint for `replay {since, prefix, limit}` (nprefixes 0: every
 * fact; has_limit false: no limit) over a DEALER of its own and passes each fact
 * to each(). Flow control is the daemon's: this only reads. Returns CF_OK when the
 * stream ended complete (*end filled), CF_EDB when it ended with an error (in err
 * and end->error: worth a retry), CF_EINVAL when the daemon refused the request or
 * its reply is not one (a retry gets the same), CF_EDENIED when the handshake or
 * the request was refused for this key, CF_EBUSY when nothing came for timeout_ms,
 * CF_ECLOSED when interrupted by a signal or stopped by each(). end may be NULL. */
int cf_replay(const char *endpoint, const cf_curve_client_t *curve, uint64_t since,
              const char *const *prefixes, size_t nprefixes, uint64_t limit, bool has_limit,
              int timeout_ms, cf_fact_fn each, void *arg, cf_stream_end_t *end, cf_err_t *err);

/* The same for `facts {filters}` (cloudfact query). Borrows q. */
int cf_facts_query(const char *endpoint, const cf_curve_client_t *curve, const cf_msg_facts_t *q,
                   int timeout_ms, cf_fact_fn each, void *arg, cf_stream_end_t *end,
                   cf_err_t *err);

#endif
