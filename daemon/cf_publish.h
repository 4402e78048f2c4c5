/* SPDX-License-Identifier: MIT
 * cf_publish: the publish socket (XPUB, so that subscriptions and overflows can be
 * counted). Facts go out as two frames, the topic "fact.<type>.<subject>" as raw
 * ASCII and the fact map with its seq, only after their commit; events as
 * "article.done" / "article.failed"; a "sys.heartbeat" each second carrying the
 * last seq (DESIGN.md "Publish and query"). Live publishing is at-most-once: a
 * subscriber whose queue reaches 10,000 messages (ZeroMQ's count) loses the next ones
 * (the others do not), and each such overflow is counted (cf_zsock_stats_t
 * overflows). */
#ifndef CF_PUBLISH_H
#define CF_PUBLISH_H

#include <stdint.h>

#include <event2/event.h>

#include "cf_auth.h"
#include "cf_err.h"
#include "cf_fact.h"
#include "cf_loop.h"

typedef struct cf_publish cf_publish_t;

/* Binds a PUB socket on endpoint in zctx (through auth, which may be NULL: plain;
 * borrowed) and starts the heartbeat timer on base. Returns NULL with err naming the
 * endpoint on failure. */
cf_publish_t *cf_publish_new(struct event_base *base, void *zctx, const char *endpoint,
                             cf_auth_t *auth, cf_err_t *err);

/* Disconnects every subscriber by unbinding and binding the endpoint again: a
 * subscriber whose key was revoked cannot reconnect, the others reconnect and
 * resubscribe on their own (ZeroMQ does both). XPUB cannot close one peer, and
 * ZAP is only asked at the handshake. Live facts published meanwhile are lost to
 * subscribers, as at any reconnect (replay fills the gap). */
int cf_publish_cut_subscribers(cf_publish_t *self, cf_err_t *err);

/* Publishes one archived fact (f->seq set). Borrows f. */
void cf_publish_fact(cf_publish_t *self, const cf_fact_t *f);

/* article.done {id, url, facts, first_seq, last_seq}. */
void cf_publish_article_done(cf_publish_t *self, uint64_t id, const char *url, uint64_t nfacts,
                             uint64_t first_seq, uint64_t last_seq);

/* article.failed {id, url, attempts, error}. */
void cf_publish_article_failed(cf_publish_t *self, uint64_t id, const char *url,
                               unsigned attempts, const char *error);

/* The publish socket's counters: overflows counts the times a subscriber's queue
 * was full (cf_zsock_send_lossy). */
void cf_publish_sock_stats(const cf_publish_t *self, cf_zsock_stats_t *out);

/* Facts published since start. */
uint64_t cf_publish_count(const cf_publish_t *self);

/* Live topic subscriptions over all subscribers (XPUB tells us each one). */
uint64_t cf_publish_subscriptions(const cf_publish_t *self);

/* The highest seq published (what sys.heartbeat carries). */
uint64_t cf_publish_last_seq(const cf_publish_t *self);

/* Sets the seq the heartbeat reports before any fact went out (the archive's head). */
void cf_publish_set_last_seq(cf_publish_t *self, uint64_t seq);

void cf_publish_destroy(cf_publish_t **self_p);

#endif
