/* SPDX-License-Identifier: MIT
 * cf_query: lookups over the archive for clients, operator ops over ipc, and the
 * streaming ops `replay` and `facts`: each stream is a cursor (cf_reader); one pump
 * gives the streams bounded turns, round robin, for a short slice per loop
 * iteration, and a stream pauses while its client's pipe is full. */
#include "cf_query.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_clock.h"
#include "cf_log.h"
#include "cf_loop.h"
#include "cf_msg.h"
#include "cf_reader.h"
#include "cf_text.h"

/* Replies (not stream messages) that find a client's pipe full are dropped, never
 * queued: the out-queue is one per socket, so a reply waiting there for a client
 * that stopped reading held up every later reply to every client, and the queue's
 * memory grew with each request that client sent. Its pipe (QUERY_SNDHWM messages)
 * is all it holds; it retries what it missed, as after any lost reply (SPEC.md 9). */
#define QUERY_OUTQ 0
/* Messages ZeroMQ queues towards one client before a stream pauses (the default is
 * 1,000). A stream that meets a full pipe polls it again after 1 ms or more, and on
 * two vCPUs shared with the client that pause came 40-80 times per 150,000 replayed
 * facts at 1,000 and cut the rate to a third (bench/README.md, fifteenth pass). The
 * price is memory: a client that stops reading holds up to this many messages
 * (~2 MB of facts) until it is dropped (STREAM_STALL_MS); STREAM_MAX of them, ~0.5 GB
 * (SPEC.md says so). */
#define QUERY_SNDHWM 4000
/* `article` replies (up to ~5 MiB each: a body and its facts) that ZeroMQ holds, not
 * yet written to their clients: a new one beyond this is answered busy. Without it, a
 * client that asks for a large article again and again without reading held a copy
 * per request (1,000 requests for a 4 MB article: 4 GB). */
#define ARTICLE_HELD_MAX (64u << 20)
/* ... and per client (routing id), so that one client that reads nothing cannot take
 * the whole budget */
#define ARTICLE_HELD_PEER_MAX (16u << 20)
/* Clients with `article` replies held at once; one more is answered busy. Each has a
 * slot of its own: counters shared by a hash let a client that reads nothing make
 * busy another that happened to land in its bucket. */
#define HELD_PEERS 256
#define QUARANTINE_PAGE 500     /* failed articles per `quarantine` stream */
#define STREAM_PAGE 512         /* facts one cursor holds at most (one page) */
#define STREAM_TURN 256         /* messages one stream sends per turn */
#define STREAM_MAX 256          /* streams in progress at once */
#define STREAM_PER_PEER 16      /* of them from one client connection (routing id) */
#define STR_(x) #x
#define STR(x) STR_(x)
#define STREAM_RETRY_MAX_MS 8   /* a paused stream retries after 1, 2, 4, 8, 8 ... ms */
#define STREAM_IDLE_MS 1000     /* ... and every STREAM_IDLE_RETRY_MS once its client has */
#define STREAM_IDLE_RETRY_MS 64 /* taken nothing for this long: 256 such cost ~2 % of a core */
#define STREAM_STALL_MS 60000   /* a client that takes nothing this long is dropped */
/* The streams take turns in one pump, round robin: one turn each per loop iteration,
 * for at most STREAM_SLICE_US in all; then the loop serves its sockets (ingest,
 * workers) before the next round, however many streams there are. While the archive
 * is committing (live ingest) a round is a single turn, and the pump then waits
 * STREAM_YIELD x its time (at most STREAM_YIELD_MAX_US): all streams together take
 * at most 1 / (1 + STREAM_YIELD) of the loop thread from ingest. With no commit for
 * STREAM_LIVE_US, the pump runs a round every iteration. */
#define STREAM_SLICE_US 4000
#define STREAM_YIELD 4
#define STREAM_LIVE_US 200000   /* a commit counts as live ingest for this long */
#define STREAM_YIELD_MAX_US 20000

typedef struct side {
    struct cf_query *owner;
    cf_zsock_t *zs;             /* a ROUTER */
    bool operator;              /* the ipc control socket: operator ops allowed */
    char *endpoint;             /* as bound: an ipc socket file is removed at destroy */
} side_t;

/* A requeue waiting for its commit. */
typedef struct pending {
    side_t *side;
    cf_envelope_t env;
    uint8_t ref[CF_MAX_REF + 9];
    size_t ref_len;
    cf_archive_req_t req;
} pending_t;

/* A `replay` or `facts` answer in progress. Flow control is ours, not the client's
 * (DESIGN.md): messages go straight to ZeroMQ with ZMQ_DONTWAIT; the query ROUTER is
 * ROUTER_MANDATORY, so a full pipe to this client says EAGAIN and the stream keeps
 * that one message and pauses, while streams to other clients go on. (Through
 * cf_zsock's out-queue, one client that stops reading would hold up every reply
 * behind it: that queue is one per socket, first in first out.) */
typedef struct stream {
    struct stream *prev, *next; /* every stream in progress */
    struct stream *run_next;    /* the pump's run queue */
    bool queued;                /* in the run queue */
    cf_query_t *owner;
    side_t *side;
    cf_envelope_t env;          /* the client's address */
    zmq_msg_t req;              /* the request body (a reference): its peer's key, checked
                                 * again before each page so a revocation ends the stream */
    uint8_t ref[CF_MAX_REF + 9];
    size_t ref_len;
    const char *what;           /* "replay" or "facts", for logs */
    cf_cursor_t *cur;           /* owned */
    msgpack_sbuffer pk;         /* the current page, packed: `fact` bodies back to back,
                                 * written straight from the rows (no cf_fact_t) */
    size_t offs[STREAM_PAGE + 1]; /* body i is pk.data[offs[i] .. offs[i + 1]) */
    uint64_t seqs[STREAM_PAGE];   /* body i's seq */
    size_t npk;                 /* bodies in pk (at most STREAM_PAGE) */
    size_t at;                  /* next body of pk to send */
    uint64_t last;              /* seq of the last fact sent, or since: the `end`'s last */
    bool cursor_done;           /* the cursor has nothing more: `end` comes next */
    char error[CF_ERR_TEXT_MAX];  /* why the stream stopped early, "" if it did not */
    zmq_msg_t out[CF_MAX_FRAMES]; /* the `end`, staged (kept if it met a full pipe) */
    size_t nout;                /* its frames; 0: none waiting */
    uint64_t sent;              /* facts sent */
    struct event *ev;           /* the retry of a paused stream */
    unsigned retry_ms;          /* current pause */
    uint64_t blocked_since;     /* ms, 0 when not paused */
} stream_t;

/* The bytes of `article` replies handed to ZeroMQ and not released yet. ZeroMQ
 * releases a reply on its I/O thread, possibly after cf_query_destroy (linger): the
 * count is shared, and freed by whichever lets go of it last. */
typedef struct held_peer {
    atomic_size_t bytes;  /* 0: the slot is free (only the loop's thread adds) */
    unsigned char id_len; /* the client's routing id: the loop's thread only */
    unsigned char id[255];
} held_peer_t;

typedef struct held {
    atomic_size_t bytes;
    atomic_size_t refs; /* the query's, and one per reply not released */
    held_peer_t peer[HELD_PEERS]; /* the same by client */
} held_t;

/* In front of a reply's bytes, in the same allocation. */
typedef struct held_reply {
    held_t *held;
    size_t n;
    unsigned peer; /* its client's slot */
} held_reply_t;

static void
held_unref(held_t *h)
{
    if (atomic_fetch_sub(&h->refs, 1) == 1)
        free(h);
}

/* zmq_free_fn: ZeroMQ is done with a reply (on its I/O thread). */
static void
held_release(void *data, void *hint)
{
    (void)data;
    held_reply_t *r = hint;
    atomic_fetch_sub(&r->held->peer[r->peer].bytes, r->n);
    atomic_fetch_sub(&r->held->bytes, r->n);
    held_unref(r->held);
    free(r);
}

/* The query socket's counters (cf_query_metrics). */
typedef struct stream_stats {
    uint64_t started;           /* streams begun */
    uint64_t aborted;           /* ended without `end`: client gone or stalled */
    uint64_t errors;            /* ended with `end {error}` */
    uint64_t facts;             /* fact messages handed to ZeroMQ */
    uint64_t paused;            /* times a stream met a full pipe */
    uint64_t page_max;          /* most facts one cursor held */
    uint64_t articles_busy;     /* `article` requests answered busy (ARTICLE_HELD_MAX) */
} stream_stats_t;

struct cf_query {
    side_t pub;                 /* the query endpoint */
    side_t ctl;                 /* the control endpoint (zs NULL when none) */
    struct event_base *base;    /* borrowed */
    cf_archive_t *archive;      /* borrowed */
    cf_reader_t *reader;        /* read-only connection for lookups and streams */
    cf_query_opts_t hooks;
    size_t pending;             /* requeues in flight */
    stream_t *streams;          /* in progress */
    size_t nstreams;
    stream_t *run_head, *run_tail; /* streams with work to do, in turn order */
    struct event *pump;            /* runs a slice of turns (a timer: 0 now, or a yield) */
    uint64_t commits_seen;         /* the archive's commit count at the last slice */
    uint64_t checked_us;           /* when it was read */
    uint64_t live_until;           /* us: ingest counts as live until then */
    bool stopping;                 /* cf_query_stop: streams end, none begins */
    stream_stats_t ss;
    held_t *held; /* `article` replies ZeroMQ holds */
    msgpack_sbuffer buf;
    cf_ratelog_t drop_log; /* dropped replies: a client decides how many */
    cf_ratelog_t stream_log; /* streams ended early (gone, stalled, a bad text query):
                              * clients decide how many too */
};

static void
send_buf(cf_query_t *self, side_t *side, const zmq_msg_t *env, size_t nenv)
{
    if (cf_zsock_send_with(side->zs, env, nenv, self->buf.data, self->buf.size) != CF_OK)
        cf_ratelog(&self->drop_log, CF_LOG_WARN,
                   "query: reply dropped: the client's pipe is full (it does not read) or it "
                   "is gone");
    msgpack_sbuffer_clear(&self->buf);
}

/* The slot of the client whose routing id is id: the one it has while replies are
 * held for it, else a free one (claimed for it); -1 when none is free. A slot whose
 * count is 0 is free: no release of ZeroMQ's refers to it any more. */
static int
held_peer(held_t *h, zmq_msg_t *id)
{
    size_t len = zmq_msg_size(id);
    int free_slot = -1;
    if (len > sizeof h->peer[0].id)
        return -1; /* cannot happen: libzmq caps routing ids at 255 bytes */
    for (int i = 0; i < HELD_PEERS; i++) {
        held_peer_t *p = &h->peer[i];
        if (atomic_load(&p->bytes) == 0) {
            if (free_slot < 0)
                free_slot = i;
        } else if (p->id_len == len && memcmp(p->id, zmq_msg_data(id), len) == 0)
            return i;
    }
    if (free_slot >= 0) {
        h->peer[free_slot].id_len = (unsigned char)len;
        memcpy(h->peer[free_slot].id, zmq_msg_data(id), len);
    }
    return free_slot;
}

/* Sends self->buf, an `article` reply, in a buffer that ZeroMQ releases to us
 * (counted in self->held); busy instead when replies already hold ARTICLE_HELD_MAX. */
static void
send_article(cf_query_t *self, side_t *side, zmq_msg_t *env, size_t nenv, const cf_msg_t *msg)
{
    size_t n = self->buf.size;
    int peer = held_peer(self->held, &env[0]);
    if (peer < 0 || atomic_load(&self->held->bytes) + n > ARTICLE_HELD_MAX ||
        atomic_load(&self->held->peer[peer].bytes) + n > ARTICLE_HELD_PEER_MAX) {
        msgpack_sbuffer_clear(&self->buf);
        self->ss.articles_busy++;
        cf_msg_pack_query_error(&self->buf, msg->ref, msg->ref_len,
                                "busy: too many article replies waiting for their clients "
                                "(yours or all), retry later");
        send_buf(self, side, env, nenv);
        return;
    }
    held_reply_t *r = cf_malloc(sizeof *r + n);
    r->held = self->held;
    r->n = n;
    r->peer = (unsigned)peer;
    memcpy(r + 1, self->buf.data, n);
    msgpack_sbuffer_clear(&self->buf);
    atomic_fetch_add(&self->held->peer[peer].bytes, n);
    atomic_fetch_add(&self->held->bytes, n);
    atomic_fetch_add(&self->held->refs, 1);
    zmq_msg_t frames[CF_MAX_FRAMES];
    for (size_t i = 0; i < nenv; i++) {
        zmq_msg_init(&frames[i]);
        zmq_msg_copy(&frames[i], &env[i]);
    }
    if (zmq_msg_init_data(&frames[nenv], r + 1, n, held_release, r) != 0) {
        held_release(r + 1, r); /* cannot happen (no allocation failure is survivable) */
        for (size_t i = 0; i < nenv; i++)
            zmq_msg_close(&frames[i]);
        return;
    }
    /* the frames are the socket's now, sent or closed (held_release either way) */
    if (cf_zsock_send(side->zs, frames, nenv + 1) != CF_OK)
        cf_ratelog(&self->drop_log, CF_LOG_WARN,
                   "query: reply dropped: the client's pipe is full (it does not read) or it "
                   "is gone");
}

static void
on_requeued(cf_archive_req_t *req, void *arg)
{
    pending_t *p = arg;
    cf_query_t *self = p->side->owner;
    if (req->rc == CF_OK) {
        cf_msg_pack_requeue_reply(&self->buf, p->ref, p->ref_len, req->u.requeue.count);
        cf_log_notice("query: operator requeued %llu quarantined article(s)%s",
                      (unsigned long long)req->u.requeue.count,
                      req->u.requeue.id ? "" : " (all)");
        if (req->u.requeue.count && self->hooks.requeued)
            self->hooks.requeued(self->hooks.arg);
    } else {
        cf_msg_pack_query_error(&self->buf, p->ref, p->ref_len, req->err.text);
    }
    send_buf(self, p->side, p->env.frames, p->env.n);
    self->pending--;
    cf_envelope_clear(&p->env);
    free(p);
}

static void
do_quarantine(cf_query_t *self, side_t *side, const cf_msg_t *msg, zmq_msg_t *env, size_t nenv)
{
    uint64_t limit = msg->u.quarantine.limit;
    if (limit == 0 || limit > QUARANTINE_PAGE)
        limit = QUARANTINE_PAGE;
    cf_archive_failed_t *v = cf_calloc(limit, sizeof *v);
    size_t n = 0;
    cf_err_t err;
    if (cf_archive_list_failed(self->archive, msg->u.quarantine.since, limit, v, &n, &err) !=
        CF_OK) {
        cf_msg_pack_end(&self->buf, msg->ref, msg->ref_len, msg->u.quarantine.since, 0, err.text);
        send_buf(self, side, env, nenv);
        free(v);
        return;
    }
    uint64_t last = msg->u.quarantine.since;
    for (size_t i = 0; i < n; i++) {
        cf_msg_pack_quarantined(&self->buf, msg->ref, msg->ref_len, v[i].id, v[i].url,
                                v[i].title, v[i].attempts, v[i].error, v[i].received_at);
        send_buf(self, side, env, nenv);
        last = v[i].id;
        cf_archive_failed_clear(&v[i]);
    }
    free(v);
    cf_archive_stats_t st;
    cf_archive_stats(self->archive, &st);
    /* `last` is the id to continue after; `head` how many are quarantined now */
    cf_msg_pack_end(&self->buf, msg->ref, msg->ref_len, last, st.failed, NULL);
    send_buf(self, side, env, nenv);
}

static void
do_requeue(cf_query_t *self, side_t *side, const cf_msg_t *msg, zmq_msg_t *frames, size_t nenv)
{
    pending_t *p = cf_calloc(1, sizeof *p);
    p->side = side;
    cf_envelope_set(&p->env, frames, nenv);
    memcpy(p->ref, msg->ref, msg->ref_len);
    p->ref_len = msg->ref_len;
    p->req.kind = CF_ARCHIVE_REQUEUE;
    p->req.cb = on_requeued;
    p->req.arg = p;
    p->req.u.requeue.id = msg->u.requeue.all ? 0 : msg->u.requeue.id;
    if (cf_archive_submit(self->archive, &p->req) != CF_OK) {
        cf_msg_pack_query_error(&self->buf, msg->ref, msg->ref_len, "shutting down");
        send_buf(self, side, frames, nenv);
        cf_envelope_clear(&p->env);
        free(p);
        return;
    }
    self->pending++;
}

static void
do_stats(cf_query_t *self, const cf_msg_t *msg)
{
    /* the hook packs key/value pairs (cf_query_metrics' among them); op and ref go in
     * front of them */
    msgpack_sbuffer pairs;
    msgpack_sbuffer_init(&pairs);
    msgpack_packer ppk, pk;
    msgpack_packer_init(&ppk, &pairs, msgpack_sbuffer_write);
    size_t npairs = self->hooks.stats(&ppk, self->hooks.arg);
    msgpack_packer_init(&pk, &self->buf, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, npairs + 2);
    cf_msg_pack_str(&pk, "op");
    cf_msg_pack_str(&pk, "stats");
    cf_msg_pack_str(&pk, "ref");
    cf_msg_pack_ref(&pk, msg->ref, msg->ref_len);
    msgpack_sbuffer_write(&self->buf, pairs.data, pairs.size);
    msgpack_sbuffer_destroy(&pairs);
}

/* ------------------------------------------------------------------------ */
/* Streams: replay and facts                                                 */
/* ------------------------------------------------------------------------ */

/* The pump's run queue: streams with a turn to take, first in first out. */
static void
run_push(cf_query_t *self, stream_t *st)
{
    if (st->queued)
        return;
    st->queued = true;
    st->run_next = NULL;
    if (self->run_tail)
        self->run_tail->run_next = st;
    else
        self->run_head = st;
    self->run_tail = st;
}

static stream_t *
run_pop(cf_query_t *self)
{
    stream_t *st = self->run_head;
    if (!st)
        return NULL;
    self->run_head = st->run_next;
    if (!self->run_head)
        self->run_tail = NULL;
    st->queued = false;
    return st;
}

/* Runs the pump on the next loop iteration unless it is due already (a yield's
 * delay stands). */
static void
pump_soon(cf_query_t *self)
{
    if (!evtimer_pending(self->pump, NULL)) {
        struct timeval now = {0, 0};
        evtimer_add(self->pump, &now);
    }
}

static void
stream_destroy(stream_t *st)
{
    cf_query_t *self = st->owner;
    if (st->queued) { /* out of the run queue (at most STREAM_MAX long) */
        stream_t **pp = &self->run_head, *before = NULL;
        while (*pp != st) {
            before = *pp;
            pp = &(*pp)->run_next;
        }
        *pp = st->run_next;
        if (self->run_tail == st)
            self->run_tail = before;
    }
    if (st->prev)
        st->prev->next = st->next;
    else
        self->streams = st->next;
    if (st->next)
        st->next->prev = st->prev;
    self->nstreams--;
    event_free(st->ev);
    for (size_t i = 0; i < st->nout; i++)
        zmq_msg_close(&st->out[i]);
    zmq_msg_close(&st->req);
    cf_envelope_clear(&st->env);
    cf_cursor_destroy(&st->cur);
    msgpack_sbuffer_destroy(&st->pk);
    free(st);
}

/* Puts the `end` body in self->buf behind the client's envelope, as the waiting
 * message. */
static void
stream_stage_end(stream_t *st)
{
    msgpack_sbuffer *b = &st->owner->buf;
    for (size_t i = 0; i < st->env.n; i++) {
        zmq_msg_init(&st->out[i]);
        zmq_msg_copy(&st->out[i], &st->env.frames[i]);
    }
    zmq_msg_init_size(&st->out[st->env.n], b->size);
    memcpy(zmq_msg_data(&st->out[st->env.n]), b->data, b->size);
    st->nout = st->env.n + 1;
    msgpack_sbuffer_clear(b);
}

/* Hands the waiting message to ZeroMQ. Returns 0 (sent), EAGAIN (the client's pipe
 * is full: kept), or another errno (EHOSTUNREACH: the client is gone). */
static int
stream_push(stream_t *st)
{
    void *sock = cf_zsock_socket(st->side->zs);
    for (size_t i = 0; i < st->nout; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < st->nout ? ZMQ_SNDMORE : 0);
        while (zmq_msg_send(&st->out[i], sock, flags) < 0) {
            int e = zmq_errno();
            if (e == EINTR)
                continue;
            if (i == 0)
                return e; /* nothing went: the frames are still ours */
            /* a multipart message is atomic once its first frame went: unreachable */
            for (size_t k = i; k < st->nout; k++)
                zmq_msg_close(&st->out[k]);
            st->nout = 0;
            return 0;
        }
    }
    st->nout = 0;
    return 0;
}

/* Sends body i of the packed page behind the client's envelope: each frame is
 * copied once by zmq_send, nothing else is allocated. Returns as stream_push. */
static int
stream_send_fact(stream_t *st, size_t i)
{
    void *sock = cf_zsock_socket(st->side->zs);
    size_t nf = st->env.n + 1;
    for (size_t k = 0; k < nf; k++) {
        const void *data;
        size_t len;
        if (k < st->env.n) {
            data = zmq_msg_data(&st->env.frames[k]);
            len = zmq_msg_size(&st->env.frames[k]);
        } else {
            data = st->pk.data + st->offs[i];
            len = st->offs[i + 1] - st->offs[i];
        }
        int flags = ZMQ_DONTWAIT | (k + 1 < nf ? ZMQ_SNDMORE : 0);
        while (zmq_send(sock, data, len, flags) < 0) {
            int e = zmq_errno();
            if (e == EINTR)
                continue;
            /* nothing went (k == 0): retry later; a multipart message is atomic once
             * its first frame went: unreachable, the rest is dropped */
            return k == 0 ? e : 0;
        }
    }
    return 0;
}

/* cf_cursor_row_fn: packs one row as a `fact` body at the end of the page. */
static void
stream_pack_row(const cf_fact_view_t *row, void *arg)
{
    stream_t *st = arg;
    if (st->npk >= STREAM_PAGE)
        return; /* cannot happen: pages are read with max STREAM_PAGE */
    cf_msg_pack_query_fact_view(&st->pk, st->ref, st->ref_len, row);
    st->seqs[st->npk] = row->seq;
    st->offs[++st->npk] = st->pk.size;
}

/* The stream ends without `end`: the client is gone (or errno e). */
static void
stream_drop(stream_t *st, int e)
{
    cf_ratelog(&st->owner->stream_log, CF_LOG_INFO,
               "query: %s stream dropped after %" PRIu64 " facts: %s", st->what, st->sent,
               e == EHOSTUNREACH ? "the client is gone" : zmq_strerror(e));
    st->owner->ss.aborted++;
    stream_destroy(st);
}

/* Ends the stream early with `end {error: why}` (its last is the last fact sent):
 * what it holds unsent is dropped. */
static void
stream_cut(stream_t *st, const char *why)
{
    if (st->nout || (st->cursor_done && st->at >= st->npk))
        return; /* its `end` is staged or next */
    snprintf(st->error, sizeof st->error, "%s", why);
    st->npk = st->at = 0;
    st->cursor_done = true;
    st->owner->ss.errors++;
}

enum { TURN_MORE, TURN_PAUSED, TURN_GONE };

/* One turn of a stream: at most STREAM_TURN messages or one page read (one short
 * transaction), or its `end`. Returns TURN_MORE (it has more to do), TURN_PAUSED
 * (its client's pipe is full: its retry timer is set) or TURN_GONE (destroyed). */
static int
stream_turn(stream_t *st)
{
    cf_query_t *self = st->owner;
    int sent = 0;
    bool paged = false;
    for (;;) {
        if (st->nout) { /* the `end` */
            int e = stream_push(st);
            if (e == EAGAIN)
                break;
            if (e != 0) {
                stream_drop(st, e);
                return TURN_GONE;
            }
            cf_log_debug("query: %s stream done (facts=%" PRIu64 ", last=%" PRIu64 ")", st->what,
                         st->sent, st->last);
            stream_destroy(st);
            return TURN_GONE;
        }
        if (st->at < st->npk) {
            int e = stream_send_fact(st, st->at);
            if (e == EAGAIN)
                break;
            if (e != 0) {
                stream_drop(st, e);
                return TURN_GONE;
            }
            st->blocked_since = 0;
            st->retry_ms = 0;
            st->last = st->seqs[st->at];
            st->at++;
            st->sent++;
            self->ss.facts++;
            if (++sent >= STREAM_TURN)
                return TURN_MORE; /* fairness: the other streams' turns */
        } else if (!st->cursor_done) {
            if (paged)
                return TURN_MORE; /* one page read (one short transaction) per turn */
            paged = true;
            if (!st->side->operator &&
                cf_auth_check(self->hooks.auth, CF_AUTH_QUERY, &st->req, NULL) != CF_OK) {
                stream_cut(st, "denied: this key is no longer allowed to query");
                continue; /* the `end` with the reason comes next */
            }
            bool done = false;
            cf_err_t err;
            size_t n = 0;
            msgpack_sbuffer_clear(&st->pk);
            st->at = st->npk = 0;
            st->offs[0] = 0;
            if (cf_cursor_next_rows(st->cur, STREAM_PAGE, stream_pack_row, st, &n, &done,
                                    &err) != CF_OK) {
                snprintf(st->error, sizeof st->error, "%s", err.text);
                cf_ratelog(&self->stream_log, CF_LOG_WARN,
                           "query: %s stream stopped after %" PRIu64 " facts: %s", st->what,
                           st->sent, err.text);
                self->ss.errors++;
                st->npk = 0; /* rows of a failed read are not sent */
                done = true;
            }
            st->cursor_done = done;
            if (st->npk > self->ss.page_max)
                self->ss.page_max = st->npk;
        } else {
            uint64_t head = cf_cursor_head(st->cur);
            if (head == 0) /* cut before its first page: no read said it */
                cf_reader_head(self->reader, &head, NULL);
            cf_msg_pack_end(&self->buf, st->ref, st->ref_len, st->last, head,
                            st->error[0] ? st->error : NULL);
            stream_stage_end(st);
        }
    }
    /* the client's pipe is full */
    uint64_t now = cf_clock_ms();
    if (!st->blocked_since) {
        st->blocked_since = now;
        self->ss.paused++;
    } else if (now - st->blocked_since > STREAM_STALL_MS) {
        cf_ratelog(&self->stream_log, CF_LOG_WARN,
                   "query: %s stream dropped after %" PRIu64 " facts: the client took "
                   "nothing for %d s",
                   st->what, st->sent, STREAM_STALL_MS / 1000);
        self->ss.aborted++;
        stream_destroy(st);
        return TURN_GONE;
    }
    /* ZeroMQ does not say when one peer's pipe drains: poll it, backing off */
    st->retry_ms = st->retry_ms ? st->retry_ms * 2 : 1;
    if (st->retry_ms > STREAM_RETRY_MAX_MS)
        st->retry_ms = STREAM_RETRY_MAX_MS;
    if (now - st->blocked_since > STREAM_IDLE_MS)
        st->retry_ms = STREAM_IDLE_RETRY_MS;
    struct timeval tv = {0, (suseconds_t)st->retry_ms * 1000};
    evtimer_add(st->ev, &tv);
    return TURN_PAUSED;
}

/* A paused stream's retry: back in the run queue. */
static void
stream_wake(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    stream_t *st = arg;
    run_push(st->owner, st);
    pump_soon(st->owner);
}

/* The pump: turns of the queued streams, round robin, for one slice. */
static void
pump(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cf_query_t *self = arg;
    uint64_t t0 = cf_clock_us(), t1 = t0;
    cf_archive_stats_t as;
    cf_archive_stats(self->archive, &as);
    /* commits since the last slice are live ingest, unless that slice was long ago
     * (no stream ran meanwhile: they may be old) */
    if (as.commits != self->commits_seen) {
        if (t0 - self->checked_us <= STREAM_LIVE_US)
            self->live_until = t0 + STREAM_LIVE_US;
        self->commits_seen = as.commits;
    }
    self->checked_us = t0;
    bool live = t0 < self->live_until;
    /* one round at most, up to the stream queued last now: each stream one turn. A
     * stream given several turns in a row fills its client's pipe faster than ZeroMQ's
     * I/O thread drains it, and then pauses for milliseconds (0.82x the replay rate
     * measured so) */
    const stream_t *last = self->run_tail;
    stream_t *st;
    bool round_done = false;
    while (!round_done && (st = run_pop(self))) {
        round_done = st == last; /* compared before the turn, which may free st */
        if (stream_turn(st) == TURN_MORE)
            run_push(self, st);
        t1 = cf_clock_us();
        if (live || t1 - t0 >= STREAM_SLICE_US)
            break;
    }
    if (self->run_head) {
        /* a zero timeout runs on the next loop iteration, after pending I/O (ingest) */
        uint64_t wait = live ? (t1 - t0) * STREAM_YIELD : 0;
        struct timeval tv = {
            0, (suseconds_t)(wait < STREAM_YIELD_MAX_US ? wait : STREAM_YIELD_MAX_US)};
        evtimer_add(self->pump, &tv);
    }
    /* STACK.md 1: zmq calls outside a socket's callback */
    cf_zsock_rearm(self->pub.zs);
    if (self->ctl.zs)
        cf_zsock_rearm(self->ctl.zs);
}

/* Answers a stream request that cannot start with `end {error}`. */
static void
stream_refuse(cf_query_t *self, side_t *side, const cf_msg_t *msg, uint64_t since,
              const char *why, zmq_msg_t *frames, size_t nenv)
{
    uint64_t head = 0;
    cf_reader_head(self->reader, &head, NULL);
    cf_msg_pack_end(&self->buf, msg->ref, msg->ref_len, since, head, why);
    send_buf(self, side, frames, nenv);
}

/* Streams in progress for the client whose routing id is frames[0] on side. */
static size_t
peer_streams(const cf_query_t *self, const side_t *side, zmq_msg_t *id)
{
    size_t n = 0;
    size_t len = zmq_msg_size(id);
    for (stream_t *st = self->streams; st; st = st->next)
        if (st->side == side && zmq_msg_size(&st->env.frames[0]) == len &&
            memcmp(zmq_msg_data(&st->env.frames[0]), zmq_msg_data(id), len) == 0)
            n++;
    return n;
}

static void
stream_start(cf_query_t *self, side_t *side, const cf_msg_t *msg, zmq_msg_t *frames,
             size_t nenv)
{
    bool replay = msg->op == CF_OP_REPLAY;
    uint64_t since = replay ? msg->u.replay.since : msg->u.facts.since;
    if (self->stopping) {
        stream_refuse(self, side, msg, since, "busy: shutting down, retry later", frames, nenv);
        return;
    }
    if (self->nstreams >= STREAM_MAX) {
        stream_refuse(self, side, msg, since, "busy: too many streams in progress, retry later",
                      frames, nenv);
        return;
    }
    if (peer_streams(self, side, &frames[0]) >= STREAM_PER_PEER) {
        stream_refuse(self, side, msg, since,
                      "busy: too many streams from this client (at most " STR(
                          STREAM_PER_PEER) " at once), retry when one has ended",
                      frames, nenv);
        return;
    }
    cf_err_t err;
    cf_cursor_t *cur =
        replay ? cf_reader_replay(self->reader, since,
                                  (const char *const *)msg->u.replay.prefixes,
                                  msg->u.replay.nprefixes, msg->u.replay.limit,
                                  msg->u.replay.has_limit, &err)
               : cf_reader_facts(self->reader, &msg->u.facts, &err);
    if (!cur) {
        stream_refuse(self, side, msg, since, err.text, frames, nenv);
        return;
    }
    stream_t *st = cf_calloc(1, sizeof *st);
    st->owner = self;
    st->side = side;
    st->what = replay ? "replay" : "facts";
    st->cur = cur;
    st->last = since;
    msgpack_sbuffer_init(&st->pk);
    cf_envelope_set(&st->env, frames, nenv);
    zmq_msg_init(&st->req);
    zmq_msg_copy(&st->req, &frames[nenv]);
    memcpy(st->ref, msg->ref, msg->ref_len);
    st->ref_len = msg->ref_len;
    st->ev = evtimer_new(self->base, stream_wake, st);
    st->next = self->streams;
    if (self->streams)
        self->streams->prev = st;
    self->streams = st;
    self->nstreams++;
    self->ss.started++;
    cf_log_debug("query: %s stream from seq %" PRIu64 " started (%zu in progress)", st->what,
                 since, self->nstreams);
    run_push(self, st);
    pump_soon(self);
}

static void
on_request(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    side_t *side = arg;
    cf_query_t *self = side->owner;
    if (n < 2)
        return;
    size_t nenv = n - 1;
    if (overflow) {
        char why[96];
        snprintf(why, sizeof why, "too many frames: at most %zu per request (max_frames)",
                 self->hooks.max_frames);
        cf_msg_pack_query_error(&self->buf, NULL, 0, why);
        send_buf(self, side, frames, 1);
        return;
    }
    cf_msg_t msg;
    cf_err_t err;
    zmq_msg_t *body = &frames[n - 1];
    int rc = cf_msg_decode(CF_CHAN_QUERY, zmq_msg_data(body), zmq_msg_size(body), &msg, &err);
    if (!side->operator && cf_auth_check(self->hooks.auth, CF_AUTH_QUERY, body, NULL) != CF_OK) {
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                "denied: this key is no longer allowed to query");
        send_buf(self, side, frames, nenv);
        cf_msg_clear(&msg);
        return;
    }
    if (rc != CF_OK) {
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len, err.text);
        send_buf(self, side, frames, nenv);
        cf_msg_clear(&msg);
        return;
    }
    bool operator_op = msg.op == CF_OP_QUARANTINE || msg.op == CF_OP_REQUEUE;
    if (operator_op && !side->operator && !cf_auth_operator(self->hooks.auth, body)) {
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                "denied: operator ops are served on the control endpoint, or "
                                "to keys on the operators list");
        send_buf(self, side, frames, nenv);
        cf_msg_clear(&msg);
        return;
    }
    switch (msg.op) {
    case CF_OP_ARTICLE: {
        cf_article_t a = {0};
        cf_facts_t facts = {0};
        char *state = NULL;
        rc = cf_reader_article(self->reader, msg.u.get.id, &a, &state, &facts, &err);
        if (rc == CF_OK)
            cf_msg_pack_article_reply(&self->buf, msg.ref, msg.ref_len, &a, state, &facts);
        else
            cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                    rc == CF_ENOTFOUND ? "no such article" : err.text);
        cf_article_clear(&a);
        cf_facts_clear(&facts);
        free(state);
        if (rc == CF_OK) {
            send_article(self, side, frames, nenv, &msg);
            cf_msg_clear(&msg);
            return;
        }
        break;
    }
    case CF_OP_REPLAY:
    case CF_OP_FACTS:
        stream_start(self, side, &msg, frames, nenv);
        cf_msg_clear(&msg);
        return;
    case CF_OP_STATS: do_stats(self, &msg); break;
    case CF_OP_QUARANTINE:
        do_quarantine(self, side, &msg, frames, nenv);
        cf_msg_clear(&msg);
        return;
    case CF_OP_REQUEUE:
        do_requeue(self, side, &msg, frames, nenv);
        cf_msg_clear(&msg);
        return;
    default:
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                "op not supported by this server version");
        break;
    }
    send_buf(self, side, frames, nenv);
    cf_msg_clear(&msg);
}

static int
bind_side(cf_query_t *self, side_t *side, struct event_base *base, void *zctx,
          const char *endpoint, bool operator, cf_err_t *err)
{
    void *sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!sock)
        return cf_err_set(err, CF_ESYS, "query: cannot create socket: %s",
                          zmq_strerror(zmq_errno()));
    int64_t maxmsg = 64 * 1024; /* queries are small */
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (cf_zsock_setopt_int(sock, ZMQ_SNDHWM, QUERY_SNDHWM, "ZMQ_SNDHWM", err) != CF_OK) {
        zmq_close(sock);
        return CF_ESYS;
    }
    /* MANDATORY: a full pipe says EAGAIN (a stream pauses; a reply is dropped and
     * counted, QUERY_OUTQ) instead of the message vanishing; a gone peer says
     * EHOSTUNREACH */
    if (cf_zsock_setopt_int(sock, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY", err) != CF_OK) {
        zmq_close(sock);
        return CF_ESYS;
    }
    /* the control socket is ipc only (cf_config): plain, guarded by its file mode */
    int rc = cf_auth_bind(operator? NULL : self->hooks.auth, sock,
                          CF_AUTH_QUERY, operator? "control" : "query", endpoint, err);
    if (rc != CF_OK) {
        zmq_close(sock);
        return rc;
    }
    side->endpoint = cf_strdup(endpoint);
    side->owner = self;
    side->operator = operator;
    side->zs = cf_zsock_new(base, sock, operator ? "control" : "query", on_request, side,
                            QUERY_OUTQ, err);
    if (!side->zs) {
        zmq_close(sock);
        return CF_ESYS;
    }
    cf_zsock_set_max_frames(side->zs, self->hooks.max_frames);
    return CF_OK;
}

cf_query_t *
cf_query_new(struct event_base *base, void *zctx, const char *endpoint, const char *control,
             cf_archive_t *archive, const cf_query_opts_t *opts, cf_err_t *err)
{
    cf_query_t *self = cf_calloc(1, sizeof *self);
    self->base = base;
    self->archive = archive;
    self->hooks = *opts;
    if (!self->hooks.max_frames || self->hooks.max_frames > CF_MAX_FRAMES)
        self->hooks.max_frames = CF_MAX_FRAMES;
    msgpack_sbuffer_init(&self->buf);
    self->pump = evtimer_new(base, pump, self);
    self->held = cf_calloc(1, sizeof *self->held);
    atomic_init(&self->held->bytes, 0);
    for (size_t i = 0; i < HELD_PEERS; i++)
        atomic_init(&self->held->peer[i].bytes, 0);
    atomic_init(&self->held->refs, 1);
    /* readers on their own connection (STACK.md 5); the archive exists by now */
    self->reader = cf_reader_open(cf_archive_db_path(archive), err);
    if (!self->reader) {
        cf_query_destroy(&self);
        return NULL;
    }
    if (bind_side(self, &self->pub, base, zctx, endpoint, false, err) != CF_OK ||
        (control && bind_side(self, &self->ctl, base, zctx, control, true, err) != CF_OK)) {
        cf_query_destroy(&self);
        return NULL;
    }
    return self;
}

void
cf_query_metrics(const cf_query_t *self, cf_metrics_t *m)
{
    static const stream_stats_t none;
    const stream_stats_t *ss = self ? &self->ss : &none;
    cf_zsock_stats_t zst = {0};
    if (self && self->pub.zs)
        cf_zsock_stats(self->pub.zs, &zst);
    cf_metrics_gauge(m, "cloudfact_query_streams", "Query streams (replay, facts) in progress.",
                     self ? (double)self->nstreams : 0);
    cf_metrics_counter(m, "cloudfact_query_streams_total", "Query streams begun.", ss->started);
    cf_metrics_counter(m, "cloudfact_query_streams_aborted_total",
                       "Query streams ended without `end`: the client left or read nothing "
                       "for 60 s.",
                       ss->aborted);
    cf_metrics_counter(m, "cloudfact_query_streams_failed_total",
                       "Query streams ended with an error in their `end`.", ss->errors);
    cf_metrics_counter(m, "cloudfact_query_stream_facts_total", "Facts sent by query streams.",
                       ss->facts);
    cf_metrics_counter(m, "cloudfact_query_stream_paused_total",
                       "Times a query stream met its client's full pipe and paused.", ss->paused);
    cf_metrics_gauge(m, "cloudfact_query_stream_page_max",
                     "Most facts one stream's cursor held at once (a page).", (double)ss->page_max);
    cf_metrics_counter(m, "cloudfact_query_replies_dropped_total",
                       "Query replies dropped because the client's pipe was full.", zst.dropped);
    cf_metrics_gauge(m, "cloudfact_query_article_bytes_held",
                     "Bytes of `article` replies that ZeroMQ holds for their clients.",
                     self ? (double)atomic_load(&self->held->bytes) : 0);
    cf_metrics_counter(m, "cloudfact_query_articles_busy_total",
                       "`article` requests answered busy: replies held reached 16 MiB for "
                       "the client or 64 MiB in all, or 256 clients had replies held.",
                       ss->articles_busy);
}

void
cf_query_stop(cf_query_t *self)
{
    if (self->stopping)
        return;
    self->stopping = true;
    for (stream_t *st = self->streams; st; st = st->next) {
        stream_cut(st, "busy: shutting down, retry later");
        if (!evtimer_pending(st->ev, NULL))
            run_push(self, st); /* a paused one goes on at its retry */
    }
    if (self->run_head)
        pump_soon(self);
}

size_t
cf_query_pending(const cf_query_t *self)
{
    return self->pending + (self->stopping ? self->nstreams : 0);
}

static void
side_destroy(side_t *side)
{
    cf_zsock_destroy(&side->zs);
    cf_auth_unbind_ipc(side->endpoint);
    free(side->endpoint);
}

void
cf_query_close_reader(cf_query_t *self)
{
    if (!self)
        return;
    if (self->nstreams)
        cf_log_info("query: %zu stream(s) cut short by shutdown", self->nstreams);
    while (self->streams)
        stream_destroy(self->streams);
    cf_reader_close(&self->reader);
}

void
cf_query_destroy(cf_query_t **self_p)
{
    cf_query_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    cf_query_close_reader(self);
    if (self->pump)
        event_free(self->pump);
    if (self->held)
        held_unref(self->held); /* replies ZeroMQ still holds keep it until released */
    cf_reader_close(&self->reader);
    side_destroy(&self->pub);
    side_destroy(&self->ctl);
    msgpack_sbuffer_destroy(&self->buf);
    free(self);
    *self_p = NULL;
}
