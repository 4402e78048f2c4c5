/* SPDX-License-Identifier: MIT
 * cf_query: lookups over the archive for clients, operator ops over ipc. */
#include "cf_query.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_log.h"
#include "cf_loop.h"
#include "cf_msg.h"
#include "cf_text.h"

#define QUERY_OUTQ 100000       /* replies waiting for a writable peer */
#define QUARANTINE_PAGE 500     /* failed articles per `quarantine` stream */

typedef struct side {
    struct cf_query *owner;
    cf_zsock_t *zs;             /* a ROUTER */
    bool operator;              /* the ipc control socket: operator ops allowed */
    char *ipc_path;             /* its socket file, removed at destroy */
} side_t;

/* A requeue waiting for its commit. */
typedef struct pending {
    side_t *side;
    cf_envelope_t env;
    uint8_t ref[CF_MAX_REF + 9];
    size_t ref_len;
    cf_archive_req_t req;
} pending_t;

struct cf_query {
    side_t pub;                 /* the query endpoint */
    side_t ctl;                 /* the control endpoint (zs NULL when none) */
    cf_archive_t *archive;      /* borrowed */
    cf_query_hooks_t hooks;
    size_t pending;             /* requeues in flight */
    msgpack_sbuffer buf;
};

static void
send_buf(cf_query_t *self, side_t *side, const zmq_msg_t *env, size_t nenv)
{
    if (cf_zsock_send_with(side->zs, env, nenv, self->buf.data, self->buf.size) != CF_OK)
        cf_log_warn("query: reply dropped: the client's pipe is full or it is gone");
    msgpack_sbuffer_clear(&self->buf);
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
    /* the hook packs key/value pairs; op and ref go in front of them */
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

static void
on_request(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    side_t *side = arg;
    cf_query_t *self = side->owner;
    if (n < 2)
        return;
    size_t nenv = n - 1;
    if (overflow || nenv - 1 > CF_MAX_ENVELOPE) {
        cf_msg_pack_query_error(&self->buf, NULL, 0,
                                "too many frames: at most 4 between the routing id and the body");
        send_buf(self, side, frames, 1);
        return;
    }
    cf_msg_t msg;
    cf_err_t err;
    zmq_msg_t *body = &frames[n - 1];
    if (cf_msg_decode(CF_CHAN_QUERY, zmq_msg_data(body), zmq_msg_size(body), &msg, &err) !=
        CF_OK) {
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len, err.text);
        send_buf(self, side, frames, nenv);
        cf_msg_clear(&msg);
        return;
    }
    bool operator_op = msg.op == CF_OP_QUARANTINE || msg.op == CF_OP_REQUEUE;
    if (operator_op && !side->operator) {
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                "denied: operator ops are served on the control endpoint only");
        send_buf(self, side, frames, nenv);
        cf_msg_clear(&msg);
        return;
    }
    switch (msg.op) {
    case CF_OP_ARTICLE: {
        cf_article_t a = {0};
        cf_facts_t facts = {0};
        int rc = cf_archive_get_article(self->archive, msg.u.get.id, &a, &facts, &err);
        if (rc == CF_OK)
            cf_msg_pack_article_reply(&self->buf, msg.ref, msg.ref_len, &a, NULL, &facts);
        else
            cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                    rc == CF_ENOTFOUND ? "no such article" : err.text);
        cf_article_clear(&a);
        cf_facts_clear(&facts);
        break;
    }
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
    /* MANDATORY: a full pipe says EAGAIN (the reply waits in the out-queue) instead of
     * the reply vanishing; a gone peer says EHOSTUNREACH */
    if (cf_zsock_setopt_int(sock, ZMQ_ROUTER_MANDATORY, 1, "ZMQ_ROUTER_MANDATORY", err) != CF_OK) {
        zmq_close(sock);
        return CF_ESYS;
    }
    bool ipc = strncmp(endpoint, "ipc://", 6) == 0;
    if (ipc)
        unlink(endpoint + 6); /* a stale socket file from a killed daemon */
    if (zmq_bind(sock, endpoint) != 0) {
        int rc = cf_err_set(err, CF_ESYS, "query: cannot bind %s: %s", endpoint,
                            zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return rc;
    }
    if (ipc) {
        side->ipc_path = cf_strdup(endpoint + 6);
        chmod(side->ipc_path, 0660); /* the service's group may operate; others may not */
    }
    side->owner = self;
    side->operator = operator;
    side->zs = cf_zsock_new(base, sock, operator ? "control" : "query", on_request, side,
                            QUERY_OUTQ, err);
    if (!side->zs) {
        zmq_close(sock);
        return CF_ESYS;
    }
    return CF_OK;
}

cf_query_t *
cf_query_new(struct event_base *base, void *zctx, const char *endpoint, const char *control,
             cf_archive_t *archive, const cf_query_hooks_t *hooks, cf_err_t *err)
{
    cf_query_t *self = cf_calloc(1, sizeof *self);
    self->archive = archive;
    self->hooks = *hooks;
    msgpack_sbuffer_init(&self->buf);
    if (bind_side(self, &self->pub, base, zctx, endpoint, false, err) != CF_OK ||
        (control && bind_side(self, &self->ctl, base, zctx, control, true, err) != CF_OK)) {
        cf_query_destroy(&self);
        return NULL;
    }
    return self;
}

size_t
cf_query_pending(const cf_query_t *self)
{
    return self->pending;
}

static void
side_destroy(side_t *side)
{
    cf_zsock_destroy(&side->zs);
    if (side->ipc_path)
        unlink(side->ipc_path);
    free(side->ipc_path);
}

void
cf_query_destroy(cf_query_t **self_p)
{
    cf_query_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    side_destroy(&self->pub);
    side_destroy(&self->ctl);
    msgpack_sbuffer_destroy(&self->buf);
    free(self);
    *self_p = NULL;
}
