/* SPDX-License-Identifier: MIT
 * cf_loop: ZeroMQ sockets inside the libevent loop. ZMQ_FD is an edge-triggered
 * notification fd, not the data socket: a watcher drains the socket until
 * ZMQ_EVENTS says there is nothing to do (with a fairness budget), and every send
 * from outside the watcher's own callback re-arms it (STACK.md section 1). */
#ifndef CF_LOOP_H
#define CF_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <zmq.h>

#include "cf_err.h"
#include "cf_limits.h"

typedef struct cf_zsock cf_zsock_t;

/* Called on the loop thread with one complete multipart message. frames[0..n)
 * are closed after the callback returns (move one out with zmq_msg_move to keep
 * it). overflow: the message had more frames than the socket keeps (CF_MAX_FRAMES
 * unless cf_zsock_set_max_frames said otherwise); the extra frames were dropped.
 * The callback may send on any socket, but must not destroy zs. */
typedef void (*cf_zsock_recv_cb)(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow,
                                 void *arg);

/* Counters of one socket. */
typedef struct cf_zsock_stats {
    uint64_t received;   /* messages received */
    uint64_t sent;       /* messages handed to ZeroMQ */
    uint64_t eagain;     /* sends that met a full pipe and were queued */
    uint64_t dropped;    /* messages dropped: out-queue full or peer gone */
    uint64_t overflows;  /* times a peer's queue was full (cf_zsock_send_lossy) */
    size_t queued;       /* messages waiting in the out-queue now */
} cf_zsock_stats_t;

/* Takes ownership of the ZeroMQ socket sock (closes it in _destroy) and watches it
 * on base; name is used in logs ("ingest"). cb may be NULL for send-only sockets
 * (PUB). outq_max bounds the out-queue used when a send would block. Returns NULL
 * with err when ZMQ_FD cannot be read or the event cannot be added. */
cf_zsock_t *cf_zsock_new(struct event_base *base, void *sock, const char *name,
                         cf_zsock_recv_cb cb, void *arg, size_t outq_max, cf_err_t *err);

/* Stops watching, closes the socket with a bounded linger, frees. NULL-safe. */
void cf_zsock_destroy(cf_zsock_t **self_p);

/* The ZeroMQ socket (borrowed). */
void *cf_zsock_socket(const cf_zsock_t *self);

/* Sends a multipart message of n frames, taking ownership of them (they are
 * closed or moved, whatever happens). Sends at once when ZeroMQ accepts it, else
 * appends to the out-queue, flushed when the socket becomes writable. Returns
 * CF_OK (sent or queued), CF_EBUSY (out-queue full: dropped), CF_ENOTFOUND (a
 * ROUTER_MANDATORY socket has no such peer: dropped) or CF_ESYS. */
int cf_zsock_send(cf_zsock_t *self, zmq_msg_t *frames, size_t n);

/* For an XPUB socket with ZMQ_XPUB_NODROP set: publishes at most once per subscriber
 * as PUB does, but a subscriber's overflow is counted. Sends the n frames (taking
 * ownership) to every subscriber when none is at its high-water mark; when one is,
 * sends them once more without NODROP, so that the subscribers with room get the
 * message, and counts an overflow. The full subscriber loses this message and, as
 * ZeroMQ then stops offering it any (silently), every one after it until ZeroMQ sees
 * it has read half its queue (reads are reported in steps of half the high-water mark);
 * its next overflow is counted again. Never queues: a socket sent to this way must
 * never be given to cf_zsock_send. Returns CF_OK, CF_EBUSY (an overflow) or CF_ESYS
 * (dropped). */
int cf_zsock_send_lossy(cf_zsock_t *self, zmq_msg_t *frames, size_t n);

/* Convenience: sends envelope frames (copied, not consumed) then a body copied from
 * data. Same returns as cf_zsock_send. */
int cf_zsock_send_with(cf_zsock_t *self, const zmq_msg_t *env, size_t nenv, const void *data,
                       size_t len);

/* How many frames of a message are kept (1..8, default CF_MAX_FRAMES); a message
 * with more reaches the callback with overflow set. */
void cf_zsock_set_max_frames(cf_zsock_t *self, size_t n);

/* Re-checks ZMQ_EVENTS and schedules the watcher if anything is actionable. Every
 * zmq call made on the socket outside its callback must end with this. */
void cf_zsock_rearm(cf_zsock_t *self);

void cf_zsock_stats(const cf_zsock_t *self, cf_zsock_stats_t *out);

/* A reply address: the routing id and envelope frames of a ROUTER request, kept
 * so a reply can be sent later (after a commit). */
typedef struct cf_envelope {
    zmq_msg_t frames[1 + CF_MAX_ENVELOPE]; /* routing id, then the envelope */
    size_t n;                              /* frames held */
} cf_envelope_t;

/* Copies frames[0..n) into env (reference-counted, no data copy). n <= 1 + CF_MAX_ENVELOPE. */
void cf_envelope_set(cf_envelope_t *env, zmq_msg_t *frames, size_t n);

/* Closes the frames of env. */
void cf_envelope_clear(cf_envelope_t *env);

/* Sets a socket option and reports failure in err naming the option. */
int cf_zsock_setopt_int(void *sock, int opt, int value, const char *name, cf_err_t *err);

#endif
