/* SPDX-License-Identifier: MIT
 * cf-bench-worker: a worker for the benchmark. It speaks the real worker protocol
 * (protocol/SPEC.md section 6: ready with credit, heartbeat, job -> result) and
 * returns five canned, valid facts per article instead of extracting any. Started
 * by cloudfactd through --worker-command (it accepts the options the daemon passes:
 * --endpoint, --credit, --die-with-parent, --data), and by the limit pipeline.
 * No reconnect logic: benchmark runs are short and the daemon stays up. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <zmq.h>

#include "benchutil.h"
#include "canned.h"
#include "cf_msg.h"

static volatile sig_atomic_t stop_requested;

static void
on_term(int sig)
{
    (void)sig;
    stop_requested = 1;
}

typedef struct bw {
    void *sock;
    msgpack_sbuffer buf;
    msgpack_unpacked up;
    cf_facts_t facts;
    double last_sent;
    unsigned long jobs;
} bw_t;

static void
send_buf(bw_t *w)
{
    while (zmq_send(w->sock, w->buf.data, w->buf.size, 0) < 0 && zmq_errno() == EINTR &&
           !stop_requested)
        ;
    msgpack_sbuffer_clear(&w->buf);
    w->last_sent = bu_now();
}

/* One message from the daemon. Returns false on `stop`. */
static bool
handle(bw_t *w, const void *data, size_t len)
{
    size_t off = 0;
    if (msgpack_unpack_next(&w->up, data, len, &off) != MSGPACK_UNPACK_SUCCESS)
        return true;
    const msgpack_object *m = &w->up.data;
    const msgpack_object *op = bu_map_get(m, "op");
    if (bu_str_eq(op, "stop"))
        return false;
    if (!bu_str_eq(op, "job"))
        return true; /* heartbeat, reload: nothing to do */
    uint64_t job = bu_uint(bu_map_get(m, "job"), 0);
    const msgpack_object *body = bu_map_get(bu_map_get(m, "article"), "body");
    const char *b = "";
    size_t blen = 0;
    if (body && (body->type == MSGPACK_OBJECT_STR || body->type == MSGPACK_OBJECT_BIN)) {
        b = body->via.str.ptr;
        blen = body->via.str.size;
    }
    canned_facts(b, blen, &w->facts);
    cf_msg_pack_result(&w->buf, job, &w->facts, NULL);
    cf_facts_clear(&w->facts);
    send_buf(w);
    w->jobs++;
    return true;
}

int
main(int argc, char **argv)
{
    static const struct option lopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                          {"credit", required_argument, NULL, 'c'},
                                          {"die-with-parent", optional_argument, NULL, 'p'},
                                          {"data", required_argument, NULL, 'd'},
                                          {"log-level", required_argument, NULL, 'l'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *endpoint = NULL;
    long credit = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'c': credit = strtol(optarg, NULL, 10); break;
        case 'p': prctl(PR_SET_PDEATHSIG, SIGTERM); break;
        case 'd':
        case 'l': break;
        case 'h':
            printf("Usage: cf-bench-worker --endpoint EP [--credit N] [--die-with-parent[=PID]]\n"
                   "A benchmark worker: five canned facts per job, no extraction.\n");
            return 0;
        default: return 2;
        }
    }
    if (!endpoint || credit < 1 || credit > (long)CF_MAX_CREDIT) {
        fprintf(stderr, "cf-bench-worker: usage: --endpoint EP [--credit 1..64]\n");
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    bw_t w = {0};
    msgpack_sbuffer_init(&w.buf);
    msgpack_unpacked_init(&w.up);
    void *ctx = zmq_ctx_new();
    w.sock = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 500, hwm = 0;
    zmq_setsockopt(w.sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(w.sock, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(w.sock, ZMQ_SNDHWM, &hwm, sizeof hwm);
    if (zmq_connect(w.sock, endpoint) != 0) {
        fprintf(stderr, "cf-bench-worker: connect %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
        return 1;
    }
    cf_msg_pack_ready(&w.buf, (unsigned)credit, (uint64_t)getpid());
    send_buf(&w);
    bool running = true;
    while (running && !stop_requested) {
        zmq_pollitem_t item = {w.sock, 0, ZMQ_POLLIN, 0};
        int n = zmq_poll(&item, 1, 1000);
        if (n < 0 && zmq_errno() != EINTR)
            break;
        for (int k = 0; n > 0 && running && k < 256; k++) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, w.sock, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            running = handle(&w, zmq_msg_data(&m), zmq_msg_size(&m));
            zmq_msg_close(&m);
        }
        if (running && bu_now() - w.last_sent >= 1.0) {
            cf_msg_pack_op(&w.buf, "heartbeat", NULL, 0);
            send_buf(&w);
        }
    }
    zmq_close(w.sock);
    zmq_ctx_term(ctx);
    msgpack_unpacked_destroy(&w.up);
    msgpack_sbuffer_destroy(&w.buf);
    return 0;
}
