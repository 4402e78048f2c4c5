/* SPDX-License-Identifier: MIT
 * cf_publish: topics and bodies on the PUB socket, and the heartbeat. */
#include "cf_publish.h"

#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_log.h"
#include "cf_loop.h"
#include "cf_msg.h"
#include "cf_text.h"

#define PUB_HWM 10000 /* per subscriber (DESIGN.md): it loses messages beyond it */

#define REBIND_TRIES 200   /* a listener closes asynchronously: bind again until free */
#define REBIND_STEP_US 5000

struct cf_publish {
    cf_zsock_t *zs;         /* the XPUB socket */
    cf_auth_t *auth;        /* borrowed, or NULL */
    char endpoint[256];     /* as bound (ZMQ_LAST_ENDPOINT), for cf_publish_cut_subscribers */
    uint64_t subscriptions; /* live topic subscriptions, over all subscribers */
    struct event *tick;     /* sys.heartbeat every second */
    uint64_t last_seq;      /* highest seq published */
    uint64_t published;     /* facts published */
    msgpack_sbuffer buf;    /* reused body buffer */
};

static void
send2(cf_publish_t *self, const char *topic, size_t tlen)
{
    zmq_msg_t f[2];
    zmq_msg_init_size(&f[0], tlen);
    memcpy(zmq_msg_data(&f[0]), topic, tlen);
    zmq_msg_init_size(&f[1], self->buf.size);
    memcpy(zmq_msg_data(&f[1]), self->buf.data, self->buf.size);
    cf_zsock_send_lossy(self->zs, f, 2);
    msgpack_sbuffer_clear(&self->buf);
}

/* XPUB hands us every (un)subscription: byte 1 or 0, then the prefix. They must
 * be read or they pile up; we count them for operators and tests. */
static void
on_subscription(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    (void)overflow;
    cf_publish_t *self = arg;
    if (n != 1 || zmq_msg_size(&frames[0]) < 1)
        return;
    const uint8_t *b = zmq_msg_data(&frames[0]);
    if (b[0] == 1)
        self->subscriptions++;
    else if (b[0] == 0 && self->subscriptions > 0)
        self->subscriptions--;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cf_publish_t *self = arg;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    cf_msg_pack_sys_heartbeat(&self->buf, self->last_seq, tv.tv_sec + tv.tv_usec / 1e6);
    send2(self, "sys.heartbeat", strlen("sys.heartbeat"));
}

cf_publish_t *
cf_publish_new(struct event_base *base, void *zctx, const char *endpoint, cf_auth_t *auth,
               cf_err_t *err)
{
    void *sock = zmq_socket(zctx, ZMQ_XPUB);
    if (!sock) {
        cf_err_set(err, CF_ESYS, "publish: cannot create socket: %s", zmq_strerror(zmq_errno()));
        return NULL;
    }
    /* VERBOSER: every subscribe and unsubscribe reaches us, duplicates included;
     * NODROP: a send refused at a subscriber's high-water mark tells us, so that the
     * overflow is counted (cf_zsock_send_lossy) */
    if (cf_zsock_setopt_int(sock, ZMQ_SNDHWM, PUB_HWM, "ZMQ_SNDHWM", err) != CF_OK ||
        cf_zsock_setopt_int(sock, ZMQ_XPUB_NODROP, 1, "ZMQ_XPUB_NODROP", err) != CF_OK ||
        cf_zsock_setopt_int(sock, ZMQ_XPUB_VERBOSER, 1, "ZMQ_XPUB_VERBOSER", err) != CF_OK ||
        cf_zsock_setopt_int(sock, ZMQ_LINGER, 500, "ZMQ_LINGER", err) != CF_OK) {
        zmq_close(sock);
        return NULL;
    }
    if (cf_auth_bind(auth, sock, CF_AUTH_PUBLISH, NULL, endpoint, err) != CF_OK) {
        zmq_close(sock);
        return NULL;
    }
    cf_publish_t *self = cf_calloc(1, sizeof *self);
    self->auth = auth;
    size_t len = sizeof self->endpoint;
    if (zmq_getsockopt(sock, ZMQ_LAST_ENDPOINT, self->endpoint, &len) != 0)
        snprintf(self->endpoint, sizeof self->endpoint, "%s", endpoint);
    msgpack_sbuffer_init(&self->buf);
    /* every send goes through cf_zsock_send_lossy, which never queues: the out-queue
     * stays empty */
    self->zs = cf_zsock_new(base, sock, "publish", on_subscription, self, 16, err);
    if (!self->zs) {
        zmq_close(sock);
        cf_publish_destroy(&self);
        return NULL;
    }
    self->tick = event_new(base, -1, EV_PERSIST, on_tick, self);
    struct timeval one = {1, 0};
    event_add(self->tick, &one);
    return self;
}

int
cf_publish_cut_subscribers(cf_publish_t *self, cf_err_t *err)
{
    void *sock = cf_zsock_socket(self->zs);
    if (strncmp(self->endpoint, "tcp://", 6) != 0)
        return CF_OK; /* ipc and in-process peers: no keys, nothing to revoke */
    if (zmq_unbind(sock, self->endpoint) != 0)
        return cf_err_set(err, CF_ESYS, "publish: cannot unbind %s: %s", self->endpoint,
                          zmq_strerror(zmq_errno()));
    int rc = CF_ESYS;
    for (int i = 0; i < REBIND_TRIES && rc != CF_OK; i++) {
        if (i)
            usleep(REBIND_STEP_US); /* rare (SIGHUP) and short: the old listener closing */
        rc = cf_auth_bind(self->auth, sock, CF_AUTH_PUBLISH, NULL, self->endpoint, err);
    }
    /* the count stays right: each closed pipe sends its unsubscriptions (VERBOSER) */
    cf_zsock_rearm(self->zs);
    if (rc == CF_OK)
        cf_log_notice("publish: subscribers disconnected after a revocation; allowed ones "
                      "reconnect");
    return rc;
}

void
cf_publish_fact(cf_publish_t *self, const cf_fact_t *f)
{
    /* the topic without snprintf, the body in one pass straight from the strings:
     * byte for byte what cf_msg_pack_fact packs (test_replay_pack.c) */
    char small[256], *topic = small;
    size_t n = cf_msg_topic(f, small, sizeof small);
    if (n == sizeof small - 1) {
        /* maybe cut: the subject as is, however long (SPEC.md 7), on the heap, so that
         * the usual call keeps a small stack frame */
        size_t need = sizeof "fact.." + (f->type ? strlen(f->type) : 0) +
                      (f->subject ? strlen(f->subject) : 0);
        topic = cf_malloc(need);
        n = cf_msg_topic(f, topic, need);
    }
    cf_fact_view_t v;
    cf_fact_view_of(&v, f);
    cf_msg_pack_fact_view(&self->buf, &v);
    send2(self, topic, n);
    if (topic != small)
        free(topic);
    self->published++;
    if (f->seq > self->last_seq)
        self->last_seq = f->seq;
}

void
cf_publish_article_done(cf_publish_t *self, uint64_t id, const char *url, uint64_t nfacts,
                        uint64_t first_seq, uint64_t last_seq)
{
    cf_msg_pack_article_done(&self->buf, id, url, nfacts, first_seq, last_seq);
    send2(self, "article.done", strlen("article.done"));
}

void
cf_publish_article_failed(cf_publish_t *self, uint64_t id, const char *url, unsigned attempts,
                          const char *error)
{
    cf_msg_pack_article_failed(&self->buf, id, url, attempts, error);
    send2(self, "article.failed", strlen("article.failed"));
}

void
cf_publish_sock_stats(const cf_publish_t *self, cf_zsock_stats_t *out)
{
    cf_zsock_stats(self->zs, out);
}

uint64_t
cf_publish_count(const cf_publish_t *self)
{
    return self->published;
}

uint64_t
cf_publish_subscriptions(const cf_publish_t *self)
{
    return self->subscriptions;
}

uint64_t
cf_publish_last_seq(const cf_publish_t *self)
{
    return self->last_seq;
}

void
cf_publish_set_last_seq(cf_publish_t *self, uint64_t seq)
{
    if (seq > self->last_seq)
        self->last_seq = seq;
}

void
cf_publish_destroy(cf_publish_t **self_p)
{
    cf_publish_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->tick)
        event_free(self->tick);
    cf_zsock_destroy(&self->zs);
    cf_auth_unbind_ipc(self->endpoint);
    msgpack_sbuffer_destroy(&self->buf);
    free(self);
    *self_p = NULL;
}
