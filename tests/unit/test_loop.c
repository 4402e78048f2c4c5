/* SPDX-License-Identifier: MIT
 * Unit tests for cf_loop, the ZeroMQ watcher: every queued message is drained
 * (ZMQ_FD is edge-triggered), sends from outside a callback are re-armed, and
 * sends that meet a full pipe wait in the out-queue instead of being lost. */
#include <event2/event.h>
#include <zmq.h>

#include "cf_loop.h"
#include "cf_test.h"

typedef struct counter {
    int received;
    int want;
    struct event_base *base;
} counter_t;

static void
count_cb(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    (void)frames;
    (void)n;
    (void)overflow;
    counter_t *c = arg;
    if (++c->received == c->want)
        event_base_loopexit(c->base, NULL);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopexit(arg, NULL);
}

/* 20,000 messages queued before the loop runs: a one-recv-per-wakeup watcher
 * gets a handful (STACK.md measured 1 of 20,000); ours must get all. */
static void
test_drains_everything(void)
{
    void *ctx = zmq_ctx_new();
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    int hwm = 0;
    zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_bind(pull, "inproc://drain");
    zmq_connect(push, "inproc://drain");
    const int n = 20000;
    for (int i = 0; i < n; i++)
        zmq_send(push, "x", 1, 0);
    struct event_base *base = event_base_new();
    counter_t c = {0, n, base};
    cf_err_t err;
    cf_zsock_t *zs = cf_zsock_new(base, pull, "test", count_cb, &c, 16, &err);
    CF_CHECK(zs != NULL);
    struct event *t = evtimer_new(base, on_timeout, base);
    struct timeval tv = {10, 0};
    evtimer_add(t, &tv);
    event_base_dispatch(base);
    CF_CHECK_INT(c.received, n);
    event_free(t);
    cf_zsock_destroy(&zs);
    zmq_close(push);
    event_base_free(base);
    zmq_ctx_term(ctx);
}

typedef struct echo {
    cf_zsock_t *server;
    struct event_base *base;
    int replies;
} echo_t;

/* Replies are sent from a timer, outside the socket's callback (the deferred ack
 * after a commit): the client must get every one. */
static void
later_cb(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    echo_t *e = arg;
    zmq_msg_t frames[2];
    zmq_msg_init_size(&frames[0], 1);
    memcpy(zmq_msg_data(&frames[0]), "c", 1);
    zmq_msg_init_size(&frames[1], 2);
    memcpy(zmq_msg_data(&frames[1]), "ok", 2);
    CF_CHECK_INT(cf_zsock_send(e->server, frames, 2), CF_OK);
}

static void
request_cb(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    (void)frames;
    (void)overflow;
    echo_t *e = arg;
    CF_CHECK_INT(n, 2);
    struct timeval now = {0, 1000};
    event_base_once(e->base, -1, EV_TIMEOUT, later_cb, e, &now);
}

static void
test_deferred_replies(void)
{
    void *ctx = zmq_ctx_new();
    void *router = zmq_socket(ctx, ZMQ_ROUTER);
    void *dealer = zmq_socket(ctx, ZMQ_DEALER);
    zmq_setsockopt(dealer, ZMQ_ROUTING_ID, "c", 1);
    zmq_bind(router, "inproc://echo");
    zmq_connect(dealer, "inproc://echo");
    struct event_base *base = event_base_new();
    echo_t e = {NULL, base, 0};
    cf_err_t err;
    e.server = cf_zsock_new(base, router, "echo", request_cb, &e, 1000, &err);
    const int n = 500;
    for (int i = 0; i < n; i++)
        zmq_send(dealer, "req", 3, 0);
    /* run the loop until the replies are in, bounded by a timer */
    struct event *t = evtimer_new(base, on_timeout, base);
    struct timeval tv = {10, 0};
    evtimer_add(t, &tv);
    int got = 0;
    while (got < n) {
        if (event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK) < 0)
            break;
        char buf[8];
        while (zmq_recv(dealer, buf, sizeof buf, ZMQ_DONTWAIT) == 2)
            got++;
        if (!evtimer_pending(t, NULL))
            break;
    }
    CF_CHECK_INT(got, n);
    event_free(t);
    cf_zsock_destroy(&e.server);
    zmq_close(dealer);
    event_base_free(base);
    zmq_ctx_term(ctx);
}

/* A full pipe: sends wait in the out-queue, bounded, and go out once the peer reads. */
static void
test_outq(void)
{
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_PUSH);
    void *pull = zmq_socket(ctx, ZMQ_PULL);
    int hwm = 10;
    zmq_setsockopt(push, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(pull, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_bind(pull, "inproc://outq");
    zmq_connect(push, "inproc://outq");
    struct event_base *base = event_base_new();
    cf_err_t err;
    cf_zsock_t *zs = cf_zsock_new(base, push, "outq", NULL, NULL, 50, &err);
    int busy = 0;
    for (int i = 0; i < 100; i++) {
        zmq_msg_t m;
        zmq_msg_init_size(&m, 4);
        memcpy(zmq_msg_data(&m), &i, 4);
        if (cf_zsock_send(zs, &m, 1) == CF_EBUSY)
            busy++;
    }
    cf_zsock_stats_t st;
    cf_zsock_stats(zs, &st);
    CF_CHECK(st.queued == 50);       /* the bound held */
    CF_CHECK(busy > 0 && st.dropped == (uint64_t)busy);
    /* the reader drains; the loop flushes the out-queue in order */
    int got = 0, last = -1;
    bool ordered = true;
    for (int spins = 0; spins < 100000 && got < 100 - busy; spins++) {
        event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
        int v;
        while (zmq_recv(pull, &v, sizeof v, ZMQ_DONTWAIT) == 4) {
            ordered &= v > last;
            last = v;
            got++;
        }
    }
    CF_CHECK_INT(got, 100 - busy);
    CF_CHECK(ordered);
    cf_zsock_destroy(&zs);
    zmq_close(pull);
    event_base_free(base);
    zmq_ctx_term(ctx);
}

CF_TEST_LIST(CF_TEST(test_drains_everything), CF_TEST(test_deferred_replies),
             CF_TEST(test_outq))
