/* SPDX-License-Identifier: MIT
 * cf_loop: the ZeroMQ socket watcher for libevent (STACK.md section 1: drain until
 * ZMQ_EVENTS is quiet, a budget for fairness, event_active to come back, a bounded
 * out-queue for sends that would block). */
#include "cf_loop.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_log.h"
#include "cf_text.h"

#define SERVICE_BUDGET 128 /* messages per wakeup before yielding to timers and peers */
#define LINGER_MS 500      /* bounded linger so zmq_ctx_term cannot hang */
#define FRAMES_CAP 8       /* frames recv_one can hold (a ZAP request has 7) */

typedef struct outmsg {
    struct outmsg *next;
    size_t n;
    zmq_msg_t frames[];
} outmsg_t;

struct cf_zsock {
    void *sock;            /* the ZeroMQ socket, owned */
    struct event *ev;      /* EV_READ|EV_PERSIST on ZMQ_FD */
    char name[24];         /* for logs */
    cf_zsock_recv_cb cb;   /* NULL: send-only */
    void *arg;             /* for cb */
    bool kicked;           /* ev was made active and has not run since */
    bool nodrop_err;       /* ZMQ_XPUB_NODROP could not be set (logged once) */
    outmsg_t *outq_head;   /* sends that met EAGAIN, in order */
    outmsg_t *outq_tail;
    size_t outq_max;       /* bound on the out-queue */
    size_t max_frames;     /* frames kept per message; more set `overflow` */
    cf_zsock_stats_t st;   /* counters */
};

int
cf_zsock_setopt_int(void *sock, int opt, int value, const char *name, cf_err_t *err)
{
    if (zmq_setsockopt(sock, opt, &value, sizeof value) != 0)
        return cf_err_set(err, CF_ESYS, "setting %s: %s", name, zmq_strerror(zmq_errno()));
    return CF_OK;
}

static void
close_frames(zmq_msg_t *frames, size_t n)
{
    for (size_t i = 0; i < n; i++)
        zmq_msg_close(&frames[i]);
}

/* One attempt to hand a whole message to ZeroMQ. Returns 0, EAGAIN, or another errno.
 * Multipart sends are atomic: if the first frame is accepted, the rest are too. */
static int
try_send(cf_zsock_t *self, zmq_msg_t *frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        while (zmq_msg_send(&frames[i], self->sock, flags) < 0) {
            int e = zmq_errno();
            if (e == EINTR)
                continue;
            if (i == 0)
                return e;
            /* cannot happen after the first frame went; drop the rest */
            cf_log_error("%s: send failed mid-message (frame %zu): %s", self->name, i,
                         zmq_strerror(e));
            close_frames(frames + i, n - i);
            return 0;
        }
    }
    return 0;
}

/* Sends queued messages while ZeroMQ takes them. Returns true if any went. */
static bool
flush_outq(cf_zsock_t *self)
{
    bool any = false;
    while (self->outq_head) {
        outmsg_t *m = self->outq_head;
        int e = try_send(self, m->frames, m->n);
        if (e == EAGAIN)
            break;
        if (e != 0) {
            self->st.dropped++;
            close_frames(m->frames, m->n);
        } else {
            self->st.sent++;
        }
        self->outq_head = m->next;
        if (!self->outq_head)
            self->outq_tail = NULL;
        self->st.queued--;
        free(m);
        any = true;
    }
    return any;
}

/* Receives one whole message and dispatches it. Returns false when nothing was there. */
static bool
recv_one(cf_zsock_t *self)
{
    zmq_msg_t frames[FRAMES_CAP];
    size_t n = 0;
    bool overflow = false;
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, self->sock, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&m);
            if (e == EINTR)
                continue;
            if (n == 0)
                return false; /* EAGAIN: nothing; ETERM: shutting down */
            /* frames of one message arrive together: a failure here is ZeroMQ's bug */
            cf_log_error("%s: receive failed mid-message: %s", self->name, zmq_strerror(e));
            close_frames(frames, n);
            return false;
        }
        bool more = zmq_msg_more(&m);
        if (n < self->max_frames)
            frames[n++] = m;
        else {
            zmq_msg_close(&m);
            overflow = true;
        }
        if (!more)
            break;
    }
    self->st.received++;
    if (self->cb)
        self->cb(self, frames, n, overflow, self->arg);
    close_frames(frames, n);
    return true;
}

static int
zevents(cf_zsock_t *self)
{
    int ev = 0;
    size_t sz = sizeof ev;
    if (zmq_getsockopt(self->sock, ZMQ_EVENTS, &ev, &sz) != 0)
        return 0;
    return ev;
}

static bool
actionable(cf_zsock_t *self, int ev)
{
    return ((ev & ZMQ_POLLIN) && self->cb) ||
           ((ev & ZMQ_POLLOUT) && self->outq_head);
}

static void
service(cf_zsock_t *self)
{
    int budget = SERVICE_BUDGET;
    for (;;) {
        int ev = zevents(self);
        bool did = false;
        if ((ev & ZMQ_POLLOUT) && self->outq_head)
            did |= flush_outq(self);
        if ((ev & ZMQ_POLLIN) && self->cb && budget > 0) {
            if (recv_one(self)) {
                budget--;
                did = true;
            }
        }
        if (!did)
            break;
    }
    /* data already queued will not raise the fd again: come back after others ran */
    if (budget == 0 && actionable(self, zevents(self)))
        event_active(self->ev, EV_READ, 0);
}

static void
on_fd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    cf_zsock_t *self = arg;
    self->kicked = false;
    service(self);
}

/* The re-arm of a send from outside the callback, deferred: the watcher runs once
 * after the current callback (ZMQ_EVENTS read there, STACK.md rule 4), however many
 * messages were sent meanwhile. Reading ZMQ_EVENTS after every send cost a poll()
 * and a getpid() inside libzmq per message (22 per article on the publish socket). */
static void
kick(cf_zsock_t *self)
{
    if (!self->kicked) {
        self->kicked = true;
        event_active(self->ev, EV_READ, 0);
    }
}

cf_zsock_t *
cf_zsock_new(struct event_base *base, void *sock, const char *name, cf_zsock_recv_cb cb,
             void *arg, size_t outq_max, cf_err_t *err)
{
    int fd;
    size_t sz = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &sz) != 0) {
        cf_err_set(err, CF_ESYS, "%s: reading ZMQ_FD: %s", name, zmq_strerror(zmq_errno()));
        return NULL;
    }
    cf_zsock_t *self = cf_calloc(1, sizeof *self);
    self->sock = sock;
    snprintf(self->name, sizeof self->name, "%s", name);
    self->cb = cb;
    self->arg = arg;
    self->outq_max = outq_max;
    self->max_frames = CF_MAX_FRAMES;
    /* level-triggered on purpose: reading ZMQ_EVENTS clears the fd (STACK.md 1) */
    self->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_fd, self);
    if (!self->ev || event_add(self->ev, NULL) != 0) {
        cf_err_set(err, CF_ESYS, "%s: cannot watch the socket", name);
        if (self->ev)
            event_free(self->ev);
        free(self);
        return NULL;
    }
    cf_zsock_setopt_int(sock, ZMQ_LINGER, LINGER_MS, "ZMQ_LINGER", NULL);
    /* whatever arrived before registration will not raise the fd again */
    event_active(self->ev, EV_READ, 0);
    return self;
}

void
cf_zsock_destroy(cf_zsock_t **self_p)
{
    cf_zsock_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    event_free(self->ev);
    while (self->outq_head) {
        outmsg_t *m = self->outq_head;
        self->outq_head = m->next;
        close_frames(m->frames, m->n);
        free(m);
    }
    zmq_close(self->sock);
    free(self);
    *self_p = NULL;
}

void *
cf_zsock_socket(const cf_zsock_t *self)
{
    return self->sock;
}

int
cf_zsock_send(cf_zsock_t *self, zmq_msg_t *frames, size_t n)
{
    int rc = CF_OK;
    /* keep order: nothing jumps the out-queue */
    int e = self->outq_head ? EAGAIN : try_send(self, frames, n);
    if (e == 0) {
        self->st.sent++;
    } else if (e == EAGAIN) {
        if (self->st.queued >= self->outq_max) {
            self->st.dropped++;
            close_frames(frames, n);
            rc = CF_EBUSY;
        } else {
            outmsg_t *m = cf_malloc(sizeof *m + n * sizeof(zmq_msg_t));
            m->next = NULL;
            m->n = n;
            for (size_t i = 0; i < n; i++) {
                zmq_msg_init(&m->frames[i]);
                zmq_msg_move(&m->frames[i], &frames[i]);
            }
            if (self->outq_tail)
                self->outq_tail->next = m;
            else
                self->outq_head = m;
            self->outq_tail = m;
            self->st.queued++;
            self->st.eagain++;
        }
    } else {
        self->st.dropped++;
        close_frames(frames, n);
        rc = e == EHOSTUNREACH ? CF_ENOTFOUND : CF_ESYS;
    }
    kick(self);
    return rc;
}

/* Only a terminated context makes it fail: then the socket stays as it is (lossy:
 * overflows go uncounted, messages still go out), said once. */
static void
set_nodrop(cf_zsock_t *self, int on)
{
    if (zmq_setsockopt(self->sock, ZMQ_XPUB_NODROP, &on, sizeof on) != 0 && !self->nodrop_err) {
        self->nodrop_err = true;
        cf_log_error("%s: cannot set ZMQ_XPUB_NODROP (overflows are no longer counted): %s",
                     self->name, zmq_strerror(zmq_errno()));
    }
}

int
cf_zsock_send_lossy(cf_zsock_t *self, zmq_msg_t *frames, size_t n)
{
    int rc = CF_OK;
    int e = try_send(self, frames, n); /* never queued: the out-queue stays empty */
    if (e == EAGAIN) {
        /* XPUB refused it to everyone for the one full subscriber: as PUB, the others
         * get it (the frames are still ours: a refused first frame consumes nothing) */
        set_nodrop(self, 0);
        e = try_send(self, frames, n);
        set_nodrop(self, 1);
        self->st.overflows++;
        rc = CF_EBUSY;
    }
    if (e == 0) {
        self->st.sent++;
    } else {
        self->st.dropped++;
        close_frames(frames, n);
        rc = CF_ESYS;
    }
    kick(self);
    return rc;
}

int
cf_zsock_send_with(cf_zsock_t *self, const zmq_msg_t *env, size_t nenv, const void *data,
                   size_t len)
{
    zmq_msg_t frames[CF_MAX_FRAMES];
    if (nenv + 1 > CF_MAX_FRAMES)
        return CF_EINVAL;
    for (size_t i = 0; i < nenv; i++) {
        zmq_msg_init(&frames[i]);
        zmq_msg_copy(&frames[i], (zmq_msg_t *)&env[i]);
    }
    zmq_msg_init_size(&frames[nenv], len);
    memcpy(zmq_msg_data(&frames[nenv]), data, len);
    return cf_zsock_send(self, frames, nenv + 1);
}

void
cf_zsock_set_max_frames(cf_zsock_t *self, size_t n)
{
    self->max_frames = n < 1 ? 1 : n > FRAMES_CAP ? FRAMES_CAP : n;
}

void
cf_zsock_rearm(cf_zsock_t *self)
{
    if (actionable(self, zevents(self)))
        event_active(self->ev, EV_READ, 0);
}

void
cf_zsock_stats(const cf_zsock_t *self, cf_zsock_stats_t *out)
{
    *out = self->st;
}

void
cf_envelope_set(cf_envelope_t *env, zmq_msg_t *frames, size_t n)
{
    if (n > 1 + CF_MAX_ENVELOPE)
        n = 1 + CF_MAX_ENVELOPE;
    for (size_t i = 0; i < n; i++) {
        zmq_msg_init(&env->frames[i]);
        zmq_msg_copy(&env->frames[i], &frames[i]);
    }
    env->n = n;
}

void
cf_envelope_clear(cf_envelope_t *env)
{
    close_frames(env->frames, env->n);
    env->n = 0;
}
