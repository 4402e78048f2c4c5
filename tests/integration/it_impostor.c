/* SPDX-License-Identifier: MIT
 * it_impostor: a remote worker whose `ready` gives the pid of a local worker (by
 * accident where pids repeat, as in containers, or on purpose) is not taken for it.
 * When the impostor sits on its job past the deadline, the daemon forgets it and
 * the local worker with that pid lives on: the daemon believes a pid only with the
 * token it gave the process it spawned (SPEC.md 6). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_msg.h"
#include "harness.h"

/* The daemon's log so far (caller frees). */
static char *
read_log(const it_daemon_t *d)
{
    FILE *f = fopen(d->log, "rb");
    CHECK(f, "cannot read %s", d->log);
    char *buf = calloc(1, 1 << 22);
    size_t n = fread(buf, 1, (1 << 22) - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* The pid of the last worker the pool started, from the log. */
static pid_t
local_worker_pid(const it_daemon_t *d)
{
    char *log = read_log(d);
    const char *at = NULL;
    for (const char *p = log; (p = strstr(p, "pool: worker started (pid=")); p++)
        at = p;
    CHECK(at, "no worker start in the log");
    pid_t pid = (pid_t)atoi(at + strlen("pool: worker started (pid="));
    free(log);
    return pid;
}

static void
send_ready(void *w, uint64_t pid)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_ready(&sb, 1, pid); /* no token: a remote worker's ready */
    zmq_send(w, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
}

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    /* credit 1 for the local worker too: a tie, which the impostor (the newer worker,
     * first in the dispatcher's list) wins, so it gets a job whatever the batches */
    const char *extra[] = {"--job-deadline", "1", "--credit", "1", NULL};
    it_daemon_start(&d, 1, extra);
    pid_t local = local_worker_pid(&d);
    CHECK(local > 0 && kill(local, 0) == 0, "the local worker (pid=%d) is not running", (int)local);

    void *zctx = zmq_ctx_new();
    void *w = zmq_socket(zctx, ZMQ_DEALER);
    int linger = 0, timeout = 500;
    zmq_setsockopt(w, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(w, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    CHECK(zmq_connect(w, d.worker_ep) == 0, "connect %s", d.worker_ep);
    send_ready(w, (uint64_t)local);
    it_wait_stat(&d, "cloudfact_workers_ready", 2, 30);

    enum { N = 16 };
    it_push_alike(&d, "impostor", "Nimbus opened a data center.", N);

    /* the impostor takes one job and sits on it */
    bool got = false;
    for (int tries = 0; tries < 40 && !got; tries++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, w, 0) >= 0) {
            cf_msg_t msg;
            cf_err_t err;
            if (cf_msg_decode(CF_CHAN_TO_WORKER, zmq_msg_data(&m), zmq_msg_size(&m), &msg, &err) ==
                CF_OK) {
                got = msg.op == CF_OP_JOB;
                cf_msg_clear(&msg);
            }
        } else {
            send_ready(w, (uint64_t)local); /* stays known while it waits */
        }
        zmq_msg_close(&m);
    }
    CHECK(got, "the impostor got no job");

    /* past the deadline it is forgotten, not killed through the local worker's pid */
    char *log = NULL;
    for (int i = 0; i < 100; i++) {
        free(log);
        log = read_log(&d);
        if (strstr(log, "; forgetting it"))
            break;
        usleep(100000);
    }
    CHECK(strstr(log, "; forgetting it"), "the hung impostor was not forgotten");
    CHECK(!strstr(log, "; killing it"), "the daemon killed a worker for the impostor's hang");
    free(log);
    it_wait_stat(&d, "cloudfact_articles_done", N, 60); /* its job went to the local worker */
    CHECK(kill(local, 0) == 0, "the local worker (pid=%d) was killed", (int)local);
    CHECK(it_stat(&d, "cloudfact_workers_restarted_total") == 0, "a local worker was restarted");
    printf("ok   an impostor of a local worker's pid is forgotten; the local worker lives\n");

    zmq_close(w);
    zmq_ctx_term(zctx);
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "daemon exit status %d", ws);
    it_daemon_cleanup(&d);
    return 0;
}
