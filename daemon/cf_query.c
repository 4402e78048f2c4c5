/* SPDX-License-Identifier: MIT
 * cf_query: lookups over the archive for clients. */
#include "cf_query.h"

#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "cf_log.h"
#include "cf_loop.h"
#include "cf_msg.h"
#include "cf_text.h"

struct cf_query {
    cf_zsock_t *zs;            /* ROUTER */
    cf_archive_t *archive;     /* borrowed */
    cf_query_stats_cb stats;
    void *arg;
    msgpack_sbuffer buf;
};

static void
send_buf(cf_query_t *self, zmq_msg_t *env, size_t nenv)
{
    cf_zsock_send_with(self->zs, env, nenv, self->buf.data, self->buf.size);
    msgpack_sbuffer_clear(&self->buf);
}

static void
on_request(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    cf_query_t *self = arg;
    if (n < 2)
        return;
    size_t nenv = n - 1;
    if (overflow || nenv - 1 > CF_MAX_ENVELOPE) {
        cf_msg_pack_query_error(&self->buf, NULL, 0,
                                "too many frames: at most 4 between the routing id and the body");
        send_buf(self, frames, 1);
        return;
    }
    cf_msg_t msg;
    cf_err_t err;
    zmq_msg_t *body = &frames[n - 1];
    if (cf_msg_decode(CF_CHAN_QUERY, zmq_msg_data(body), zmq_msg_size(body), &msg, &err) !=
        CF_OK) {
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len, err.text);
        send_buf(self, frames, nenv);
        cf_msg_clear(&msg);
        return;
    }
    switch (msg.op) {
    case CF_OP_ARTICLE: {
        cf_article_t a = {0};
        cf_facts_t facts = {0};
        int rc = cf_archive_get_article(self->archive, msg.u.get.id, &a, &facts, &err);
        if (rc == CF_OK) {
            cf_msg_pack_article_reply(&self->buf, msg.ref, msg.ref_len, &a, NULL, &facts);
        } else {
            cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                    rc == CF_ENOTFOUND ? "no such article" : err.text);
        }
        cf_article_clear(&a);
        cf_facts_clear(&facts);
        break;
    }
    case CF_OP_STATS: {
        /* the callback packs key/value pairs; op and ref go in front of them */
        msgpack_sbuffer pairs;
        msgpack_sbuffer_init(&pairs);
        msgpack_packer ppk, pk;
        msgpack_packer_init(&ppk, &pairs, msgpack_sbuffer_write);
        size_t npairs = self->stats(&ppk, self->arg);
        msgpack_packer_init(&pk, &self->buf, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, npairs + 2);
        cf_msg_pack_str(&pk, "op");
        cf_msg_pack_str(&pk, "stats");
        cf_msg_pack_str(&pk, "ref");
        cf_msg_pack_ref(&pk, msg.ref, msg.ref_len);
        msgpack_sbuffer_write(&self->buf, pairs.data, pairs.size);
        msgpack_sbuffer_destroy(&pairs);
        break;
    }
    default:
        cf_msg_pack_query_error(&self->buf, msg.ref, msg.ref_len,
                                "op not supported by this server version");
        break;
    }
    send_buf(self, frames, nenv);
    cf_msg_clear(&msg);
}

cf_query_t *
cf_query_new(struct event_base *base, void *zctx, const char *endpoint, cf_archive_t *archive,
             cf_query_stats_cb stats, void *arg, cf_err_t *err)
{
    void *sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!sock) {
        cf_err_set(err, CF_ESYS, "query: cannot create socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    int64_t maxmsg = 64 * 1024; /* queries are small */
    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    if (zmq_bind(sock, endpoint) != 0) {
        cf_err_set(err, CF_ESYS, "query: cannot bind %s: %s", endpoint,
                   zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    cf_query_t *self = cf_calloc(1, sizeof *self);
    self->archive = archive;
    self->stats = stats;
    self->arg = arg;
    msgpack_sbuffer_init(&self->buf);
    self->zs = cf_zsock_new(base, sock, "query", on_request, self, 10000, err);
    if (!self->zs) {
        zmq_close(sock);
        cf_query_destroy(&self);
        return NULL;
    }
    return self;
}

void
cf_query_destroy(cf_query_t **self_p)
{
    cf_query_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    cf_zsock_destroy(&self->zs);
    msgpack_sbuffer_destroy(&self->buf);
    free(self);
    *self_p = NULL;
}
