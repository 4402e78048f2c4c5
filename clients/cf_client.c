/* SPDX-License-Identifier: MIT
 * cf_client: push with a window of requests in flight (DEALER, one ref each),
 * resend on silence, back off on busy; SUB with decoded facts; one-shot queries. */
#include "cf_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <msgpack.h>
#include <zmq.h>

#include "cf_clock.h"
#include "cf_key.h"
#include "cf_limits.h"
#include "cf_msg.h"
#include "cf_text.h"

/* ---- connections -------------------------------------------------------------- */

/* A client socket in a context of its own, with CURVE credentials applied and a
 * monitor that turns a refused handshake into an error at once (ZeroMQ itself
 * would retry silently for ever, and the user would only see a timeout). */
typedef struct conn {
    void *ctx;
    void *sock;
    void *mon;              /* PAIR reading the socket's handshake events */
    const char *endpoint;   /* borrowed, for messages */
    bool curve;             /* credentials were given */
    bool shook;             /* a handshake succeeded once */
    unsigned cut;           /* connections closed before any handshake succeeded */
} conn_t;

/* A CURVE server that cannot open our HELLO (we hold a wrong server key), or one
 * that refuses a plain client before its greeting was read, just closes the
 * connection, and libzmq reconnects for ever: after this many closes before any
 * handshake succeeded we say so. */
#define CONN_CUT_MAX 3

#define CONN_MONITOR "inproc://cf-client-monitor"

static void
conn_close(conn_t *c)
{
    /* the monitor is stopped before its reader goes: a reader closed first could
     * leave ZeroMQ's I/O thread blocked on an event nobody reads (libzmq #3575) */
    if (c->mon) {
        if (c->sock)
            zmq_socket_monitor(c->sock, NULL, 0);
        zmq_close(c->mon);
    }
    if (c->sock)
        zmq_close(c->sock);
    if (c->ctx)
        zmq_ctx_term(c->ctx);
    memset(c, 0, sizeof *c);
}

/* Creates the socket (not connected yet: the caller sets its options, then calls
 * conn_connect). */
static int
conn_open(conn_t *c, int type, const char *endpoint, const cf_curve_client_t *curve,
          cf_err_t *err)
{
    memset(c, 0, sizeof *c);
    c->endpoint = endpoint;
    if (strncmp(endpoint, "tcp://", 6) != 0)
        curve = NULL; /* the daemon serves CURVE on tcp endpoints only */
    c->curve = cf_curve_client_on(curve);
    c->ctx = zmq_ctx_new();
    c->sock = c->ctx ? zmq_socket(c->ctx, type) : NULL;
    if (!c->sock) {
        conn_close(c);
        return cf_err_set(err, CF_ESYS, "cannot create a ZeroMQ socket: %s",
                          zmq_strerror(zmq_errno()));
    }
    int linger = 0;
    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof linger);
    int rc = cf_curve_client_apply(curve, c->sock, err);
    if (rc != CF_OK) {
        conn_close(c);
        return rc;
    }
    if (zmq_socket_monitor(c->sock, CONN_MONITOR,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED) == 0) {
        c->mon = zmq_socket(c->ctx, ZMQ_PAIR);
        if (!c->mon || zmq_connect(c->mon, CONN_MONITOR) != 0) {
            zmq_socket_monitor(c->sock, NULL, 0); /* no reader: no monitor */
            if (c->mon)
                zmq_close(c->mon);
            c->mon = NULL;
        }
    }
    return CF_OK;
}

static int
conn_connect(conn_t *c, cf_err_t *err)
{
    if (zmq_connect(c->sock, c->endpoint) != 0)
        return cf_err_set(err, CF_EINVAL, "cannot connect to %s: %s", c->endpoint,
                          zmq_strerror(zmq_errno()));
    return CF_OK;
}

/* A request to an ipc endpoint whose socket file does not exist would wait out its
 * whole timeout for nothing (libzmq retries the connect quietly): CF_EBUSY with why,
 * at once. A file that is there, or any other transport: CF_OK. */
static int
ipc_missing(const char *endpoint, cf_err_t *err)
{
    struct stat st;
    if (strncmp(endpoint, "ipc://", 6) != 0 || stat(endpoint + 6, &st) == 0 || errno != ENOENT)
        return CF_OK;
    return cf_err_set(err, CF_EBUSY,
                      "%s: no such socket file (is cloudfactd running, with this endpoint?)",
                      endpoint);
}

/* Reads one monitor event: CF_EDENIED with the reason when a handshake failed. */
static int
conn_event(conn_t *c, cf_err_t *err)
{
    zmq_msg_t ev, ep;
    zmq_msg_init(&ev);
    zmq_msg_init(&ep);
    int got = zmq_msg_recv(&ev, c->mon, ZMQ_DONTWAIT) >= 6;
    if (got && zmq_msg_more(&ev))
        zmq_msg_recv(&ep, c->mon, 0);
    uint16_t event = 0;
    uint32_t value = 0;
    if (got) {
        memcpy(&event, zmq_msg_data(&ev), 2);
        memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
    }
    zmq_msg_close(&ev);
    zmq_msg_close(&ep);
    if (!got)
        return CF_OK;
    if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
        c->shook = true;
        c->cut = 0;
        return CF_OK;
    }
    if (event == ZMQ_EVENT_DISCONNECTED) {
        /* a server that refuses the handshake may hang up before its greeting is read
         * (a reset loses it): then a close is all this side sees, CURVE or not */
        if (!c->shook && ++c->cut >= CONN_CUT_MAX)
            return cf_err_set(err, CF_EDENIED,
                              c->curve ? "%s closed the CURVE handshake %u times: is "
                                         "--server-key the daemon's public key?"
                                       : "%s closed the connection %u times before the "
                                         "handshake: does it require CURVE (--server-key "
                                         "FILE, --key FILE)?",
                              c->endpoint, c->cut);
        return CF_OK;
    }
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
        return cf_err_set(err, CF_EDENIED,
                          "%s refused this key (status %u): it is not on the allowlist of "
                          "this endpoint's role",
                          c->endpoint, (unsigned)value);
    if (value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        return cf_err_set(err, CF_EDENIED,
                          c->curve ? "%s does not use CURVE: drop --server-key and --key"
                                   : "%s requires CURVE: give --server-key FILE (the daemon's "
                                     ".pub) and --key FILE (your .key)",
                          c->endpoint);
    return cf_err_set(err, CF_EDENIED,
                      "the CURVE handshake with %s failed (error 0x%x): is --server-key the "
                      "daemon's public key?",
                      c->endpoint, (unsigned)value);
}

/* Waits up to timeout_ms for the socket to be readable: 1 readable, 0 timeout, or a
 * negative code with err (CF_EDENIED: the handshake was refused; CF_ECLOSED:
 * interrupted by a signal). */
static int
conn_wait(conn_t *c, int timeout_ms, cf_err_t *err)
{
    uint64_t deadline = timeout_ms < 0 ? UINT64_MAX : cf_clock_ms() + (uint64_t)timeout_ms;
    for (;;) {
        zmq_pollitem_t items[2] = {{c->sock, 0, ZMQ_POLLIN, 0}, {c->mon, 0, ZMQ_POLLIN, 0}};
        uint64_t now = cf_clock_ms();
        long left = deadline == UINT64_MAX ? -1 : deadline > now ? (long)(deadline - now) : 0;
        int n = zmq_poll(items, c->mon ? 2 : 1, left);
        if (n < 0)
            return cf_err_set(err, CF_ECLOSED, "interrupted");
        if (items[0].revents & ZMQ_POLLIN)
            return 1;
        if (n == 0)
            return 0;
        int rc = conn_event(c, err); /* only the monitor spoke: say why, or wait on */
        if (rc != CF_OK)
            return rc;
    }
}

/* ---- push ------------------------------------------------------------------ */

typedef struct slot {
    bool used;
    uint64_t seq;          /* position in the input; also the ref */
    cf_article_t article;
    uint64_t due;          /* ms: resend (unanswered) or retry (busy) at */
    bool waiting_reply;    /* sent, no answer yet */
    unsigned resends;
    unsigned busy;         /* busy answers so far */
    uint64_t busy_since;   /* ms of the first busy answer */
} slot_t;

typedef struct push {
    void *sock;
    const cf_push_opts_t *o;
    slot_t *slots;
    size_t nslots;
    msgpack_sbuffer buf;
    char foreign[CF_ERR_TEXT_MAX + 128]; /* why the last reply that is no ingest reply was
                                          * not: said with the unanswered ones */
} push_t;

static int
push_send(push_t *p, slot_t *s, cf_err_t *err)
{
    msgpack_sbuffer ref;
    msgpack_packer pk;
    msgpack_sbuffer_init(&ref);
    msgpack_packer_init(&pk, &ref, msgpack_sbuffer_write);
    msgpack_pack_uint64(&pk, s->seq);
    cf_msg_pack_article(&p->buf, ref.data, ref.size, &s->article);
    msgpack_sbuffer_destroy(&ref);
    if (p->buf.size > (size_t)CF_MAX_MSGSIZE) {
        /* over the daemon's ZMQ_MAXMSGSIZE, which drops it with the connection:
         * never answered, so not sent (the caller answers it) */
        size_t n = p->buf.size;
        msgpack_sbuffer_clear(&p->buf);
        return cf_err_set(err, CF_ETOOBIG,
                          "the request is %zu bytes, over the daemon's message limit of %lld "
                          "(body %zu bytes, title %zu): not sent, it would be dropped unanswered",
                          n, CF_MAX_MSGSIZE, s->article.body_len,
                          s->article.title ? strlen(s->article.title) : 0);
    }
    int rc;
    while ((rc = zmq_send(p->sock, p->buf.data, p->buf.size, 0)) < 0 && zmq_errno() == EINTR)
        ;
    msgpack_sbuffer_clear(&p->buf);
    if (rc < 0)
        return cf_err_set(err, CF_ESYS, "sending: %s", zmq_strerror(zmq_errno()));
    s->waiting_reply = true;
    s->due = cf_clock_ms() + p->o->timeout_ms;
    return CF_OK;
}

static slot_t *
find_slot(push_t *p, uint64_t seq)
{
    for (size_t i = 0; i < p->nslots; i++)
        if (p->slots[i].used && p->slots[i].seq == seq)
            return &p->slots[i];
    return NULL;
}

static void
finish(slot_t *s, int status, uint64_t id, const char *error, cf_push_done_fn done, void *arg)
{
    done(arg, s->seq, &s->article, status, id, error);
    cf_article_clear(&s->article);
    s->used = false;
}

int
cf_push_run(const char *endpoint, const cf_curve_client_t *curve, const cf_push_opts_t *opts,
            cf_push_next_fn next, void *next_arg, cf_push_done_fn done, void *done_arg,
            cf_err_t *err)
{
    cf_err_t own; /* err is optional; the denied answers below quote its text */
    if (!err)
        err = &own;
    int input_rc = CF_OK; /* why next() stopped early: kept apart, as sends reset rc */
    cf_err_t input_err = {0};
    cf_push_opts_t o = {256, 10000, 5, 600000, 5000};
    if (opts) {
        if (opts->window)
            o.window = opts->window > CF_MAX_INFLIGHT ? CF_MAX_INFLIGHT : opts->window;
        if (opts->timeout_ms)
            o.timeout_ms = opts->timeout_ms;
        o.retries = opts->retries;
        if (opts->busy_for_ms)
            o.busy_for_ms = opts->busy_for_ms;
        if (opts->busy_max_ms)
            o.busy_max_ms = opts->busy_max_ms;
    }
    push_t p = {0};
    p.o = &o;
    p.nslots = o.window;
    p.slots = cf_calloc(p.nslots, sizeof *p.slots);
    msgpack_sbuffer_init(&p.buf);
    conn_t conn;
    int rc = conn_open(&conn, ZMQ_DEALER, endpoint, curve, err);
    if (rc != CF_OK) {
        free(p.slots);
        msgpack_sbuffer_destroy(&p.buf);
        return rc;
    }
    p.sock = conn.sock;
    int hwm = 0;
    zmq_setsockopt(p.sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(p.sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    if ((rc = conn_connect(&conn, err)) != CF_OK)
        goto out;
    bool input_done = false;
    uint64_t seq = 0;
    size_t used = 0;
    for (;;) {
        /* fill the window */
        while (!input_done && used < p.nslots) {
            slot_t *s = NULL;
            for (size_t i = 0; i < p.nslots && !s; i++)
                if (!p.slots[i].used)
                    s = &p.slots[i];
            memset(s, 0, sizeof *s);
            int n = next(next_arg, &s->article, &input_err);
            if (n < 0) {
                input_rc = input_err.rc ? input_err.rc : CF_EINVAL;
                input_done = true;
                break;
            }
            if (n == 0) {
                input_done = true;
                break;
            }
            s->used = true;
            s->seq = seq++;
            cf_err_t serr;
            if ((rc = push_send(&p, s, &serr)) == CF_ETOOBIG) {
                finish(s, CF_EINVAL, 0, serr.text, done, done_arg); /* `invalid`, said here */
                rc = CF_OK;
                continue;
            }
            used++;
            if (rc != CF_OK) {
                *err = serr;
                goto out;
            }
        }
        if (used == 0)
            break;
        /* wait for replies until the earliest due time */
        uint64_t now = cf_clock_ms(), due = UINT64_MAX;
        for (size_t i = 0; i < p.nslots; i++)
            if (p.slots[i].used && p.slots[i].due < due)
                due = p.slots[i].due;
        int wait = due > now ? (int)(due - now) : 0;
        int n = conn_wait(&conn, wait, err);
        if (n < 0) {
            rc = n;
            goto out;
        }
        while (n > 0) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, p.sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            cf_msg_t reply;
            cf_err_t derr;
            if (cf_msg_decode(CF_CHAN_INGEST_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), &reply,
                              &derr) == CF_OK) {
                /* our refs are unsigned integers: decode the echoed one */
                msgpack_unpacked up;
                msgpack_unpacked_init(&up);
                size_t off = 0;
                slot_t *s = NULL;
                if (reply.ref_len &&
                    msgpack_unpack_next(&up, (const char *)reply.ref, reply.ref_len, &off) ==
                        MSGPACK_UNPACK_SUCCESS &&
                    up.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER)
                    s = find_slot(&p, up.data.via.u64);
                msgpack_unpacked_destroy(&up);
                /* a slot backing off (busy, crowded) still takes a final answer to an
                 * earlier copy: its resend would only be answered duplicate */
                bool settles = s && !s->waiting_reply && s->busy &&
                               (reply.u.reply.rc == CF_OK || reply.u.reply.rc == CF_EDUP);
                if (s && (s->waiting_reply || settles)) {
                    s->waiting_reply = false;
                    uint64_t t = cf_clock_ms();
                    /* `invalid: too many requests in flight` stored nothing, and it is our
                     * own doing: our earlier copies of resent requests count as in flight
                     * too, or the daemon's --max-inflight is below our window. Like busy:
                     * back off and send again (SPEC.md 5) */
                    bool crowded = reply.u.reply.rc == CF_EINVAL && reply.u.reply.error &&
                                   strncmp(reply.u.reply.error, "too many requests in flight",
                                           strlen("too many requests in flight")) == 0;
                    bool retry = reply.u.reply.rc == CF_EBUSY || crowded;
                    if (retry && s->busy == 0)
                        s->busy_since = t;
                    if (retry && t - s->busy_since < o.busy_for_ms) {
                        /* capped exponential back-off with jitter: 50 ms, 100 ms, ... */
                        uint64_t back = 50ull << (s->busy < 10 ? s->busy : 10);
                        if (back > o.busy_max_ms)
                            back = o.busy_max_ms;
                        back = back / 2 + (uint64_t)rand() % (back / 2 + 1);
                        s->busy++;
                        s->due = t + back;
                        /* the last try falls at the end of --busy-for, not a back-off
                         * past it (--busy-for 3 took up to 6 s) */
                        if (s->due > s->busy_since + o.busy_for_ms)
                            s->due = s->busy_since + o.busy_for_ms;
                    } else {
                        finish(s, reply.u.reply.rc, reply.u.reply.id, reply.u.reply.error, done,
                               done_arg);
                        used--;
                    }
                }
            } else {
                /* another socket's answer (a query endpoint's `error`, say): the
                 * requests stay unanswered, and the summary says why */
                snprintf(p.foreign, sizeof p.foreign,
                         "no answer from the daemon that reads as an ingest reply (one was "
                         "not: %s); is --endpoint the ingest endpoint?",
                         derr.text);
            }
            cf_msg_clear(&reply);
            zmq_msg_close(&m);
        }
        /* resend the unanswered, retry the busy */
        now = cf_clock_ms();
        for (size_t i = 0; i < p.nslots; i++) {
            slot_t *s = &p.slots[i];
            if (!s->used || s->due > now)
                continue;
            if (s->waiting_reply) {
                if (s->resends >= o.retries) {
                    finish(s, CF_ECLOSED, 0, p.foreign[0] ? p.foreign : "no answer from the daemon",
                           done, done_arg);
                    used--;
                    continue;
                }
                s->resends++;
            }
            if ((rc = push_send(&p, s, err)) != CF_OK)
                goto out;
        }
    }
out:
    for (size_t i = 0; i < p.nslots; i++)
        if (p.slots[i].used)
            finish(&p.slots[i], rc == CF_EDENIED ? CF_EDENIED : CF_ECLOSED, 0,
                   rc == CF_EDENIED                              ? err->text
                   : p.slots[i].waiting_reply || p.slots[i].busy ? "sent, no final answer"
                                                                 : "not sent",
                   done, done_arg);
    conn_close(&conn);
    msgpack_sbuffer_destroy(&p.buf);
    free(p.slots);
    if (rc == CF_OK &&
        input_rc != CF_OK) { /* everything sent was answered; the input was not all read */
        if (err)
            *err = input_err;
        rc = input_rc;
    }
    return rc;
}

/* ---- subscribe ------------------------------------------------------------- */

#define CF_SUB_RCVHWM 200000 /* messages a SUB socket queues before ZeroMQ drops */

struct cf_sub {
    conn_t conn;
    void *sock;             /* conn.sock */
    zmq_msg_t body;        /* the last body, kept for msg->body */
    cf_fact_t fact;        /* the last decoded fact */
};

cf_sub_t *
cf_sub_new(const char *endpoint, const cf_curve_client_t *curve, const char *const *prefixes,
           size_t nprefixes, cf_err_t *err)
{
    cf_sub_t *self = cf_calloc(1, sizeof *self);
    zmq_msg_init(&self->body);
    if (conn_open(&self->conn, ZMQ_SUB, endpoint, curve, err) != CF_OK) {
        cf_sub_destroy(&self);
        return NULL;
    }
    self->sock = self->conn.sock;
    int64_t maxmsg = CF_MAX_MSGSIZE;
    zmq_setsockopt(self->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* a subscriber joining history leaves the live stream queued while it replays: room
     * for it (a gap past this is seen in seq and filled by another replay) */
    int rcvhwm = CF_SUB_RCVHWM;
    zmq_setsockopt(self->sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    if (nprefixes == 0)
        zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, "fact.", 5);
    for (size_t i = 0; i < nprefixes; i++)
        zmq_setsockopt(self->sock, ZMQ_SUBSCRIBE, prefixes[i], strlen(prefixes[i]));
    if (conn_connect(&self->conn, err) != CF_OK) {
        cf_sub_destroy(&self);
        return NULL;
    }
    return self;
}

int
cf_sub_recv(cf_sub_t *self, int timeout_ms, cf_sub_msg_t *msg, cf_err_t *err)
{
    cf_fact_clear(&self->fact);
    memset(msg, 0, sizeof *msg);
    int n = conn_wait(&self->conn, timeout_ms, err);
    if (n < 0)
        return n;
    if (n == 0)
        return CF_EBUSY;
    zmq_msg_t topic;
    zmq_msg_init(&topic);
    if (zmq_msg_recv(&topic, self->sock, 0) < 0) {
        zmq_msg_close(&topic);
        return cf_err_set(err, CF_ECLOSED, "interrupted");
    }
    bool more = zmq_msg_more(&topic);
    size_t tlen = zmq_msg_size(&topic);
    snprintf(msg->topic, sizeof msg->topic, "%.*s", (int)(tlen < 255 ? tlen : 255),
             (const char *)zmq_msg_data(&topic));
    zmq_msg_close(&topic);
    if (!more)
        return cf_err_set(err, CF_EINVAL, "message with a topic and no body");
    zmq_msg_close(&self->body);
    zmq_msg_init(&self->body);
    zmq_msg_recv(&self->body, self->sock, 0);
    while (zmq_msg_more(&self->body)) { /* extra frames: not ours; drop them */
        zmq_msg_t extra;
        zmq_msg_init(&extra);
        zmq_msg_recv(&extra, self->sock, 0);
        int again = zmq_msg_more(&extra);
        zmq_msg_close(&extra);
        if (!again)
            break;
    }
    msg->body = zmq_msg_data(&self->body);
    msg->body_len = zmq_msg_size(&self->body);
    if (strncmp(msg->topic, "fact.", 5) == 0) {
        int rc = cf_msg_decode_fact(msg->body, msg->body_len, &self->fact, err);
        if (rc != CF_OK)
            return rc;
        msg->is_fact = true;
        msg->fact = self->fact;
    }
    return CF_OK;
}

void
cf_sub_destroy(cf_sub_t **self_p)
{
    cf_sub_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    cf_fact_clear(&self->fact);
    zmq_msg_close(&self->body);
    conn_close(&self->conn);
    free(self);
    *self_p = NULL;
}

/* ---- query ----------------------------------------------------------------- */

int
cf_query_call(const char *endpoint, const cf_curve_client_t *curve, const void *req, size_t len,
              int timeout_ms, void **reply, size_t *reply_len, cf_err_t *err)
{
    *reply = NULL;
    conn_t c;
    if (ipc_missing(endpoint, err) != CF_OK)
        return err->rc;
    int rc = conn_open(&c, ZMQ_DEALER, endpoint, curve, err);
    if (rc != CF_OK)
        return rc;
    if ((rc = conn_connect(&c, err)) != CF_OK)
        goto out;
    if (zmq_send(c.sock, req, len, 0) < 0) {
        rc = cf_err_set(err, CF_ESYS, "sending: %s", zmq_strerror(zmq_errno()));
        goto out;
    }
    int n = conn_wait(&c, timeout_ms, err);
    if (n <= 0) {
        rc = n < 0 ? n
                   : cf_err_set(err, CF_EBUSY, "no answer from %s within %d ms", endpoint,
                                timeout_ms);
        goto out;
    }
    zmq_msg_t m;
    zmq_msg_init(&m);
    zmq_msg_recv(&m, c.sock, 0);
    *reply_len = zmq_msg_size(&m);
    *reply = cf_malloc(*reply_len);
    memcpy(*reply, zmq_msg_data(&m), *reply_len);
    zmq_msg_close(&m);
out:
    conn_close(&c);
    return rc;
}

#define CF_STREAM_RCVHWM 20000 /* stream messages queued on the client side */

/* The text field `key` of a reply body (its `op`, its `error`), or "" when it has
 * none. */
static void
reply_text(const void *body, size_t len, const char *key, char *op, size_t opsz)
{
    size_t klen = strlen(key);
    op[0] = '\0';
    if (cf_msg_scan(body, len, NULL) != CF_OK)
        return;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key;
            const msgpack_object *v = &up.data.via.map.ptr[i].val;
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
                memcmp(k->via.str.ptr, key, klen) == 0 && v->type == MSGPACK_OBJECT_STR) {
                snprintf(op, opsz, "%.*s", (int)v->via.str.size, v->via.str.ptr);
                break;
            }
        }
    }
    msgpack_unpacked_destroy(&up);
}

int
cf_query_stream(const char *endpoint, const cf_curve_client_t *curve, const void *req, size_t len,
                int timeout_ms,
                int (*each)(const char *op, const void *body, size_t len, void *arg), void *arg,
                cf_err_t *err)
{
    conn_t c;
    if (ipc_missing(endpoint, err) != CF_OK)
        return err->rc;
    int rc = conn_open(&c, ZMQ_DEALER, endpoint, curve, err);
    if (rc != CF_OK)
        return rc;
    void *sock = c.sock;
    int64_t maxmsg = CF_MAX_MSGSIZE;
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    /* room on our side: the daemon pauses a stream when the pipe is full, so a deeper
     * queue here keeps it sending while we are busy (our memory, not the daemon's) */
    int rcvhwm = CF_STREAM_RCVHWM;
    zmq_setsockopt(sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    if ((rc = conn_connect(&c, err)) != CF_OK)
        goto out;
    if (zmq_send(sock, req, len, 0) < 0) {
        rc = cf_err_set(err, CF_ESYS, "sending: %s", zmq_strerror(zmq_errno()));
        goto out;
    }
    for (;;) {
        int n = conn_wait(&c, timeout_ms, err);
        if (n < 0) {
            rc = n;
            break;
        }
        if (n == 0) {
            rc = cf_err_set(err, CF_EBUSY, "no answer from %s within %d ms", endpoint,
                            timeout_ms);
            break;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, sock, 0) < 0) {
            zmq_msg_close(&m);
            rc = cf_err_set(err, CF_ECLOSED, "interrupted");
            break;
        }
        char op[32];
        reply_text(zmq_msg_data(&m), zmq_msg_size(&m), "op", op, sizeof op);
        if (!op[0]) {
            /* every query and control reply has one: this peer is something else (an
             * ingest endpoint answers `invalid: unknown op`), and waiting cannot help */
            char why[256];
            reply_text(zmq_msg_data(&m), zmq_msg_size(&m), "error", why, sizeof why);
            zmq_msg_close(&m);
            rc =
                cf_err_set(err, CF_EINVAL,
                           "%s answered with something that is not a query or control reply%s%s%s; "
                           "is it the right endpoint?",
                           endpoint, why[0] ? " (\"" : "", why, why[0] ? "\")" : "");
            break;
        }
        int stop = each(op, zmq_msg_data(&m), zmq_msg_size(&m), arg);
        zmq_msg_close(&m);
        if (stop || strcmp(op, "end") == 0 || strcmp(op, "error") == 0)
            break;
    }
out:
    conn_close(&c);
    return rc;
}

/* ---- replay and facts ------------------------------------------------------ */


typedef struct stream_ctx {
    cf_fact_fn each;
    void *arg;
    cf_stream_end_t *end;
    int rc;          /* how the stream ended, beyond transport trouble */
    cf_err_t *err;
} stream_ctx_t;

/* The daemon's refusals of a key start with "denied" (SPEC.md, "Revocation"). */
static bool
denied(const char *text)
{
    return strncmp(text, "denied", 6) == 0;
}

/* One reply of a replay or facts stream: facts go to each(), end/error close it. */
static int
on_stream_reply(const char *op, const void *body, size_t len, void *arg)
{
    (void)op;
    stream_ctx_t *c = arg;
    cf_msg_t msg;
    cf_err_t derr;
    if (cf_msg_decode(CF_CHAN_QUERY_REPLY, body, len, &msg, &derr) != CF_OK) {
        cf_msg_clear(&msg);
        c->rc =
            cf_err_set(c->err, CF_EINVAL,
                       "not a query reply (is this a cloudfactd query endpoint?): %s", derr.text);
        return 1;
    }
    int stop = 1;
    if (msg.op == CF_OP_FACT) {
        c->end->facts++;
        stop = c->each ? c->each(c->arg, &msg.u.fact.fact) : 0;
        if (stop)
            c->rc = cf_err_set(c->err, CF_ECLOSED, "stopped");
    } else if (msg.op == CF_OP_END) {
        c->end->ended = true;
        c->end->last = msg.u.end.last;
        c->end->head = msg.u.end.head;
        if (msg.u.end.error) {
            snprintf(c->end->error, sizeof c->end->error, "%s", msg.u.end.error);
            c->rc = cf_err_set(c->err, denied(msg.u.end.error) ? CF_EDENIED : CF_EDB, "%s",
                               msg.u.end.error);
        }
    } else if (msg.op == CF_OP_ERROR) {
        snprintf(c->end->error, sizeof c->end->error, "%s", msg.u.error.error);
        c->rc = cf_err_set(c->err, denied(msg.u.error.error) ? CF_EDENIED : CF_EINVAL, "%s",
                           msg.u.error.error);
    } else {
        c->rc = cf_err_set(c->err, CF_EINVAL, "unexpected reply to a stream request");
    }
    cf_msg_clear(&msg);
    return stop;
}

/* Sends one streaming request and reads fact* end. */
static int
run_stream(const char *endpoint, const cf_curve_client_t *curve, const void *req, size_t len,
           int timeout_ms, cf_fact_fn each, void *arg, cf_stream_end_t *end, cf_err_t *err)
{
    cf_stream_end_t local;
    if (!end)
        end = &local;
    memset(end, 0, sizeof *end);
    stream_ctx_t c = {each, arg, end, CF_OK, err};
    int rc = cf_query_stream(endpoint, curve, req, len, timeout_ms, on_stream_reply, &c, err);
    if (rc == CF_EBUSY && err) {
        size_t n = strlen(err->text);
        snprintf(err->text + n, sizeof err->text - n, " (after %llu facts)",
                 (unsigned long long)end->facts);
    }
    return rc != CF_OK ? rc : c.rc;
}

int
cf_replay(const char *endpoint, const cf_curve_client_t *curve, uint64_t since, const char *const *prefixes, size_t nprefixes,
          uint64_t limit, bool has_limit, int timeout_ms, cf_fact_fn each, void *arg,
          cf_stream_end_t *end, cf_err_t *err)
{
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    cf_msg_pack_replay(&req, NULL, 0, since, prefixes, nprefixes, limit, has_limit);
    int rc = run_stream(endpoint, curve, req.data, req.size, timeout_ms, each, arg, end, err);
    msgpack_sbuffer_destroy(&req);
    return rc;
}

int
cf_facts_query(const char *endpoint, const cf_curve_client_t *curve, const cf_msg_facts_t *q, int timeout_ms, cf_fact_fn each,
               void *arg, cf_stream_end_t *end, cf_err_t *err)
{
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    cf_msg_pack_facts(&req, NULL, 0, q);
    int rc = run_stream(endpoint, curve, req.data, req.size, timeout_ms, each, arg, end, err);
    msgpack_sbuffer_destroy(&req);
    return rc;
}
