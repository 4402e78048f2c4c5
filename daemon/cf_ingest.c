/* SPDX-License-Identifier: MIT
 * cf_ingest: request validation, archive submission, replies after commit. */
#include "cf_ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "cf_limits.h"
#include "cf_log.h"
#include "cf_loop.h"
#include "cf_msg.h"
#include "cf_reader.h"
#include "cf_text.h"

#define INGEST_HWM 10000       /* messages per peer pipe, both directions */
#define INGEST_OUTQ 100000     /* replies waiting for a writable socket */

#define CLIENT_BUCKETS 4096     /* routing ids with requests in flight, chained */

/* A client (ROUTER routing id) with requests waiting for their commit. */
typedef struct client {
    struct client *next;       /* in its bucket */
    size_t inflight;           /* requests of this client not answered yet */
    size_t idlen;
    uint8_t id[];              /* the routing id */
} client_t;

/* One request waiting for its commit. */
typedef struct pending {
    cf_ingest_t *owner;        /* back pointer for the archive callback */
    client_t *client;          /* whose: released when answered */
    cf_envelope_t env;         /* where the reply goes */
    uint8_t ref[CF_MAX_REF + 9];
    size_t ref_len;
    cf_article_t article;      /* owned until the commit */
    cf_archive_req_t req;      /* the INSERT */
} pending_t;

struct cf_ingest {
    cf_zsock_t *zs;                    /* ROUTER */
    cf_archive_t *archive;             /* borrowed */
    cf_reader_t *reader;               /* url lookups while the queue is full */
    cf_ingest_opts_t o;                /* limits and hooks */
    cf_ingest_stats_t st;
    client_t *clients[CLIENT_BUCKETS]; /* o.max_inflight per client (DESIGN.md Limits) */
    msgpack_sbuffer buf;               /* reply scratch */
    cf_ratelog_t invalid_log;          /* one warning per interval, with a count */
    cf_ratelog_t busy_log;
    cf_ratelog_t dropped_log;
    cf_ratelog_t lookup_log;
    char *endpoint; /* as bound: an ipc socket file is removed at destroy */
    bool stopping;  /* shutdown: every request is answered busy, none stored */
};

static void
reply(cf_ingest_t *self, const zmq_msg_t *env, size_t nenv, const void *ref, size_t ref_len,
      int rc, uint64_t id, const char *error)
{
    switch (rc) {
    case CF_OK: self->st.accepted++; break;
    case CF_EDUP: self->st.duplicate++; break;
    case CF_EBUSY: self->st.busy++; break;
    case CF_EDENIED: self->st.denied++; break;
    default: self->st.invalid++; break;
    }
    cf_msg_pack_ingest_reply(&self->buf, ref, ref_len, rc, id, error);
    if (cf_zsock_send_with(self->zs, env, nenv, self->buf.data, self->buf.size) != CF_OK)
        cf_ratelog(&self->dropped_log, CF_LOG_WARN, "ingest: reply dropped (status=%s): the "
                   "client's pipe is full or it is gone", cf_msg_status_name(rc));
    msgpack_sbuffer_clear(&self->buf);
}

static size_t
bucket_of(const void *id, size_t len)
{
    const uint8_t *p = id;
    uint32_t h = 2166136261u; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 16777619u;
    return h % CLIENT_BUCKETS;
}

/* The client with this routing id, created when absent. */
static client_t *
client_get(cf_ingest_t *self, const zmq_msg_t *id_frame)
{
    const void *id = zmq_msg_data((zmq_msg_t *)id_frame);
    size_t len = zmq_msg_size((zmq_msg_t *)id_frame);
    client_t **b = &self->clients[bucket_of(id, len)];
    for (client_t *c = *b; c; c = c->next)
        if (c->idlen == len && memcmp(c->id, id, len) == 0)
            return c;
    client_t *c = cf_calloc(1, sizeof *c + len);
    c->idlen = len;
    memcpy(c->id, id, len);
    c->next = *b;
    *b = c;
    return c;
}

/* One request of c was answered; forget c when it has none left. */
static void
client_release(cf_ingest_t *self, client_t *c)
{
    if (--c->inflight > 0)
        return;
    for (client_t **pp = &self->clients[bucket_of(c->id, c->idlen)]; *pp; pp = &(*pp)->next)
        if (*pp == c) {
            *pp = c->next;
            free(c);
            return;
        }
}

static void
on_committed(cf_archive_req_t *req, void *arg)
{
    pending_t *p = arg;
    cf_ingest_t *self = p->owner;
    const char *error = req->rc == CF_OK || req->rc == CF_EDUP ? NULL : req->err.text;
    int rc = req->rc == CF_OK || req->rc == CF_EDUP ? req->rc : CF_EBUSY;
    if (rc == CF_EBUSY)
        cf_ratelog(&self->busy_log, CF_LOG_WARN, "ingest: article not stored, answered busy: %s",
                   req->err.text);
    reply(self, p->env.frames, p->env.n, p->ref, p->ref_len, rc, req->u.insert.id, error);
    self->st.pending--;
    client_release(self, p->client);
    if (rc == CF_OK && self->o.on_accepted)
        self->o.on_accepted(self->o.arg);
    cf_envelope_clear(&p->env);
    cf_article_clear(&p->article);
    free(p);
}

/* The queue is full: an article already archived is still a duplicate (DESIGN.md:
 * a re-pushed URL), answered with its id so that its scraper moves on; any other
 * is busy. The lookup is one indexed read, made only while the queue is full. */
static void
full_queue(cf_ingest_t *self, const zmq_msg_t *frames, size_t nenv, const cf_msg_t *msg)
{
    const cf_article_t *a = &msg->u.article;
    uint64_t id = 0;
    cf_err_t err;
    int rc = cf_reader_article_id(self->reader, a->url, strlen(a->url), &id, &err);
    if (rc == CF_OK) {
        reply(self, frames, nenv, msg->ref, msg->ref_len, CF_EDUP, id, NULL);
        return;
    }
    if (rc != CF_ENOTFOUND)
        cf_ratelog(&self->lookup_log, CF_LOG_WARN,
                   "ingest: queue full and a url lookup failed (answered busy): %s", err.text);
    reply(self, frames, nenv, msg->ref, msg->ref_len, CF_EBUSY, 0,
          "queue full: max_queue unprocessed articles");
}

static void
on_request(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    cf_ingest_t *self = arg;
    cf_err_t err;
    if (n < 2)
        return; /* a ROUTER always gives id + body; nothing to answer with */
    size_t nenv = n - 1; /* routing id + envelope */
    if (overflow) {
        char why[96];
        snprintf(why, sizeof why, "too many frames: at most %zu per request (max_frames)",
                 self->o.max_frames);
        reply(self, frames, 1, NULL, 0, CF_EINVAL, 0, why);
        cf_ratelog(&self->invalid_log, CF_LOG_WARN, "ingest: invalid request answered: %s",
                   why);
        return;
    }
    zmq_msg_t *body = &frames[n - 1];
    cf_msg_t msg;
    const char *who;
    if (cf_auth_check(self->o.auth, CF_AUTH_INGEST, body, &who) != CF_OK) {
        /* the key was removed from the scrapers' list while this client was connected */
        cf_msg_decode(CF_CHAN_INGEST, zmq_msg_data(body), zmq_msg_size(body), &msg, &err);
        reply(self, frames, nenv, msg.ref, msg.ref_len, CF_EDENIED, 0,
              "denied: this key is no longer allowed to push");
        cf_msg_clear(&msg);
        return;
    }
    int rc = cf_msg_decode(CF_CHAN_INGEST, zmq_msg_data(body), zmq_msg_size(body), &msg, &err);
    if (rc != CF_OK) {
        cf_ratelog(&self->invalid_log, CF_LOG_WARN, "ingest: invalid request answered: %s",
                   err.text);
        reply(self, frames, nenv, msg.ref, msg.ref_len, CF_EINVAL, 0, err.text);
        cf_msg_clear(&msg);
        return;
    }
    if (self->stopping) {
        /* answered, not left to the client's timeout (SPEC.md 4): it sends again to
         * the next run, which finds it stored or stores it */
        reply(self, frames, nenv, msg.ref, msg.ref_len, CF_EBUSY, 0, "shutting down");
        cf_msg_clear(&msg);
        return;
    }
    cf_archive_stats_t ast;
    cf_archive_stats(self->archive, &ast);
    if (ast.queued + ast.processing + self->st.pending >= self->o.max_queue) {
        full_queue(self, frames, nenv, &msg);
        cf_msg_clear(&msg);
        return;
    }
    /* one client cannot fill the queue for everyone */
    client_t *c = client_get(self, &frames[0]);
    if (c->inflight >= self->o.max_inflight) {
        cf_ratelog(&self->invalid_log, CF_LOG_WARN,
                   "ingest: invalid request answered: a client has %zu requests in flight",
                   c->inflight);
        char why[128];
        snprintf(why, sizeof why,
                 "too many requests in flight: at most %zu per client; wait for answers",
                 self->o.max_inflight);
        reply(self, frames, nenv, msg.ref, msg.ref_len, CF_EINVAL, 0, why);
        cf_msg_clear(&msg);
        return;
    }
    pending_t *p = cf_calloc(1, sizeof *p);
    p->owner = self;
    p->client = c;
    c->inflight++;
    cf_envelope_set(&p->env, frames, nenv);
    memcpy(p->ref, msg.ref, msg.ref_len);
    p->ref_len = msg.ref_len;
    p->article = msg.u.article; /* take the decoded strings */
    memset(&msg.u.article, 0, sizeof msg.u.article);
    cf_msg_clear(&msg);
    p->req.kind = CF_ARCHIVE_INSERT;
    p->req.cb = on_committed;
    p->req.arg = p;
    p->req.u.insert.article = &p->article;
    if (cf_archive_submit(self->archive, &p->req) != CF_OK) {
        reply(self, p->env.frames, p->env.n, p->ref, p->ref_len, CF_EBUSY, 0,
              "shutting down");
        client_release(self, c);
        cf_envelope_clear(&p->env);
        cf_article_clear(&p->article);
        free(p);
        return;
    }
    self->st.pending++;
    if (self->o.on_submitted)
        self->o.on_submitted(self->o.arg);
}

cf_ingest_t *
cf_ingest_new(struct event_base *base, void *zctx, const char *endpoint, cf_archive_t *archive,
              const cf_ingest_opts_t *opts, cf_err_t *err)
{
    cf_ingest_opts_t o = *opts;
    if (!o.max_inflight)
        o.max_inflight = CF_MAX_INFLIGHT;
    if (!o.max_frames || o.max_frames > CF_MAX_FRAMES)
        o.max_frames = CF_MAX_FRAMES;
    if (!o.max_message_size)
        o.max_message_size = CF_MAX_MSGSIZE;
    void *sock = zmq_socket(zctx, ZMQ_ROUTER);
    if (!sock) {
        cf_err_set(err, CF_ESYS, "ingest: cannot create socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    if (zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &o.max_message_size, sizeof o.max_message_size) !=
            0 ||
        cf_zsock_setopt_int(sock, ZMQ_RCVHWM, INGEST_HWM, "ZMQ_RCVHWM", err) != CF_OK ||
        cf_zsock_setopt_int(sock, ZMQ_SNDHWM, INGEST_HWM, "ZMQ_SNDHWM", err) != CF_OK ||
        cf_zsock_setopt_int(sock, ZMQ_ROUTER_HANDOVER, 1, "ZMQ_ROUTER_HANDOVER", err) != CF_OK) {
        cf_err_set(err, CF_ESYS, "ingest: socket options: %s", zmq_strerror(zmq_errno()));
        zmq_close(sock);
        return NULL;
    }
    if (cf_auth_bind(o.auth, sock, CF_AUTH_INGEST, NULL, endpoint, err) != CF_OK) {
        zmq_close(sock);
        return NULL;
    }
    cf_ingest_t *self = cf_calloc(1, sizeof *self);
    self->endpoint = cf_strdup(endpoint);
    self->archive = archive;
    self->o = o;
    self->reader = cf_reader_open(cf_archive_db_path(archive), err);
    if (!self->reader) {
        zmq_close(sock);
        cf_ingest_destroy(&self);
        return NULL;
    }
    msgpack_sbuffer_init(&self->buf);
    self->zs = cf_zsock_new(base, sock, "ingest", on_request, self, INGEST_OUTQ, err);
    if (!self->zs) {
        zmq_close(sock);
        cf_ingest_destroy(&self);
        return NULL;
    }
    cf_zsock_set_max_frames(self->zs, o.max_frames);
    return self;
}

void
cf_ingest_set_max_queue(cf_ingest_t *self, uint64_t max_queue)
{
    self->o.max_queue = max_queue;
}

void
cf_ingest_set_max_inflight(cf_ingest_t *self, size_t max_inflight)
{
    self->o.max_inflight = max_inflight ? max_inflight : CF_MAX_INFLIGHT;
}

void
cf_ingest_stop(cf_ingest_t *self)
{
    self->stopping = true;
}

void
cf_ingest_close_reader(cf_ingest_t *self)
{
    if (self)
        cf_reader_close(&self->reader);
}

void
cf_ingest_stats(const cf_ingest_t *self, cf_ingest_stats_t *out)
{
    *out = self->st;
    cf_zsock_stats(self->zs, &out->sock);
}

uint64_t
cf_ingest_pending(const cf_ingest_t *self)
{
    return self->st.pending;
}

void
cf_ingest_destroy(cf_ingest_t **self_p)
{
    cf_ingest_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    cf_zsock_destroy(&self->zs);
    cf_auth_unbind_ipc(self->endpoint);
    free(self->endpoint);
    cf_reader_close(&self->reader);
    for (size_t i = 0; i < CLIENT_BUCKETS; i++)
        while (self->clients[i]) {
            client_t *c = self->clients[i];
            self->clients[i] = c->next;
            free(c);
        }
    msgpack_sbuffer_destroy(&self->buf);
    free(self);
    *self_p = NULL;
}
