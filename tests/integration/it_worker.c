/* SPDX-License-Identifier: MIT
 * it_worker: cloudfact-worker's own contract, with the real worker program.
 * - A daemon that is pid 1 (a container without an init) gets working workers:
 *   --die-with-parent=PID tells a worker its parent, so pid 1 is no longer taken
 *   for "the parent is gone" (run when this machine allows pid namespaces).
 * - A worker started by hand that gets SIGTERM with jobs in hand leaves without
 *   losing one: `ready` with credit 0, every job answered, exit 0, nothing charged.
 * - A job the worker cannot decode is answered with `error` at once, not left to
 *   the job deadline; a worker told a parent it does not have exits at once.
 * - Usage errors name the offending word and exit 2. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>
#include <zmq.h>

#include "cf_msg.h"
#include "harness.h"

static pid_t spawned; /* a worker this test started: killed at exit, also when a check fails */

static void
kill_spawned(void)
{
    if (spawned > 0) {
        kill(spawned, SIGKILL);
        waitpid(spawned, NULL, 0);
        spawned = 0;
    }
}

/* Starts cloudfact-worker with args (NULL-terminated, after the program), its stderr
 * into err_path. */
static pid_t
start_worker(const char *const *args, const char *err_path)
{
    const char *argv[16] = {it_bin("cloudfact-worker")};
    size_t n = 1;
    for (size_t i = 0; args[i] && n < 15; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    spawned = it_spawn(argv, err_path, false);
    return spawned;
}

static char *
read_file(const char *path)
{
    static char buf[65536];
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (f) {
        buf[fread(buf, 1, sizeof buf - 1, f)] = '\0';
        fclose(f);
    }
    return buf;
}

/* A daemon's worker socket played by the test. */
typedef struct fake {
    void *ctx, *sock;
    char ep[300];
    uint8_t peer[256]; /* the worker's routing id */
    size_t peer_len;
} fake_t;

static void
fake_open(fake_t *f, const char *dir)
{
    f->ctx = zmq_ctx_new();
    f->sock = zmq_socket(f->ctx, ZMQ_ROUTER);
    int linger = 0;
    zmq_setsockopt(f->sock, ZMQ_LINGER, &linger, sizeof linger);
    snprintf(f->ep, sizeof f->ep, "ipc://%s/fake-workers.sock", dir);
    CHECK(zmq_bind(f->sock, f->ep) == 0, "bind %s: %s", f->ep, zmq_strerror(zmq_errno()));
}

static void
fake_close(fake_t *f)
{
    zmq_close(f->sock);
    zmq_ctx_term(f->ctx);
}

/* The next worker message within timeout_ms, decoded into msg; false on none. */
static bool
fake_recv(fake_t *f, int timeout_ms, cf_msg_t *msg)
{
    zmq_pollitem_t it = {f->sock, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return false;
    zmq_msg_t id, body;
    zmq_msg_init(&id);
    zmq_msg_init(&body);
    CHECK(zmq_msg_recv(&id, f->sock, 0) >= 0 && zmq_msg_recv(&body, f->sock, 0) >= 0, "recv");
    f->peer_len = zmq_msg_size(&id) < sizeof f->peer ? zmq_msg_size(&id) : sizeof f->peer;
    memcpy(f->peer, zmq_msg_data(&id), f->peer_len);
    cf_err_t err;
    int rc = cf_msg_decode(CF_CHAN_TO_DAEMON, zmq_msg_data(&body), zmq_msg_size(&body), msg, &err);
    zmq_msg_close(&id);
    zmq_msg_close(&body);
    CHECK(rc == CF_OK, "the worker sent a message the daemon cannot read: %s", err.text);
    return true;
}

static void
fake_send(fake_t *f, const msgpack_sbuffer *sb)
{
    zmq_send(f->sock, f->peer, f->peer_len, ZMQ_SNDMORE);
    zmq_send(f->sock, sb->data, sb->size, 0);
}

static void
pack_str(msgpack_packer *pk, const char *s)
{
    msgpack_pack_str(pk, strlen(s));
    msgpack_pack_str_body(pk, s, strlen(s));
}

/* A job whose article breaks the decoder's rules in its last field (lang). */
static void
pack_bad_job(msgpack_sbuffer *sb, uint64_t lease)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 3);
    pack_str(&pk, "op");
    pack_str(&pk, "job");
    pack_str(&pk, "job");
    msgpack_pack_uint64(&pk, lease);
    pack_str(&pk, "article");
    msgpack_pack_map(&pk, 7);
    const char *kv[] = {"url",  "https://example.test/bad-job", "title", "t",
                        "body", "Nimbus opened a data center."};
    pack_str(&pk, "id");
    msgpack_pack_uint64(&pk, 1);
    for (int i = 0; i < 6; i += 2) {
        pack_str(&pk, kv[i]);
        pack_str(&pk, kv[i + 1]);
    }
    pack_str(&pk, "source");
    msgpack_pack_nil(&pk);
    pack_str(&pk, "published");
    msgpack_pack_nil(&pk);
    /* 7 keys: id, url, title, body, source, published and this one */
    pack_str(&pk, "lang");
    pack_str(&pk, "!!");
}

/* A worker told its parent by pid: our pid works; any other pid means that parent
 * is gone, and the worker exits 0 before connecting. A job it cannot decode is
 * answered with an error naming its lease. */
static void
test_parent_and_bad_job(const char *dir)
{
    fake_t f;
    fake_open(&f, dir);
    char errp[400], mine[48], other[48];
    snprintf(errp, sizeof errp, "%s/worker.err", dir);
    snprintf(mine, sizeof mine, "--die-with-parent=%d", (int)getpid());
    snprintf(other, sizeof other, "--die-with-parent=%d", (int)getppid());

    const char *gone[] = {"--endpoint", f.ep, other, NULL};
    pid_t w = start_worker(gone, errp);
    int ws = it_wait_exit(w, 10, "a worker whose parent is not the pid it was given");
    spawned = 0;
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "exit status %d", ws);
    cf_msg_t msg;
    CHECK(!fake_recv(&f, 200, &msg), "a worker without its parent said something");

    const char *ours[] = {"--endpoint", f.ep, mine, NULL};
    w = start_worker(ours, errp);
    CHECK(fake_recv(&f, 10000, &msg) && msg.op == CF_OP_READY,
          "a worker given its parent's pid did not say ready (stderr: %s)", read_file(errp));
    cf_msg_clear(&msg);
    printf("ok   --die-with-parent=PID: the parent's pid runs, another pid exits 0\n");

    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_bad_job(&sb, 77);
    fake_send(&f, &sb);
    msgpack_sbuffer_destroy(&sb);
    bool answered = false;
    while (!answered && fake_recv(&f, 5000, &msg)) {
        if (msg.op == CF_OP_ERROR) {
            CHECK(msg.u.error.job == 77, "the error names job %llu, not 77",
                  (unsigned long long)msg.u.error.job);
            CHECK(strstr(msg.u.error.error, "cannot read the job") &&
                      strstr(msg.u.error.error, "lang"),
                  "error text: %s", msg.u.error.error);
            answered = true;
        }
        cf_msg_clear(&msg);
    }
    CHECK(answered, "a job the worker cannot decode got no error within 5 s");
    printf("ok   a job the worker cannot decode is answered with an error naming its lease\n");

    kill(w, SIGKILL);
    waitpid(w, NULL, 0);
    spawned = 0;
    fake_close(&f);
}

/* A worker started by hand, holding four jobs when SIGTERM comes, answers them all
 * and exits 0; the daemon charges nothing and sends it nothing more. */
static void
test_remote_worker_leaves(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    it_daemon_start(&d, 0, NULL);
    char errp[400];
    snprintf(errp, sizeof errp, "%s/remote.err", d.dir);
    const char *args[] = {"--endpoint", d.worker_ep, "--credit", "4", NULL};
    pid_t w = start_worker(args, errp);
    it_wait_stat(&d, "cloudfact_workers_ready", 1, 30);

    /* stopped, so that the jobs wait in its socket when the signal comes */
    CHECK(kill(w, SIGSTOP) == 0, "SIGSTOP");
    enum { N = 6 };
    it_push_alike(&d, "leaving", "Nimbus opened a data center in Oslo in 2024.", N);
    it_wait_stat(&d, "cloudfact_jobs_inflight", 4, 30);
    CHECK(kill(w, SIGTERM) == 0 && kill(w, SIGCONT) == 0, "SIGTERM, SIGCONT");
    int ws = it_wait_exit(w, 30, "the remote worker after SIGTERM");
    spawned = 0;
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "remote worker exit status %d (stderr: %s)", ws,
          read_file(errp));
    it_wait_stat(&d, "cloudfact_articles_done", 4, 30);
    CHECK(it_stat(&d, "cloudfact_attempts_failed_total") == 0,
          "a leaving worker's jobs were charged");
    CHECK(it_stat(&d, "cloudfact_articles_done") == 4, "more than its four jobs were done");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'queued' AND attempts = 0") ==
              N - 4,
          "the articles it never got are not back in the queue, uncharged");
    CHECK(it_log_count(&d, "is leaving") == 1, "the daemon did not log the worker leaving");
    printf("ok   a worker started by hand leaves on SIGTERM: its 4 jobs answered, none charged\n");

    ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "daemon exit status %d", ws);
    it_daemon_cleanup(&d);
}

/* The daemon as pid 1 of its pid namespace: its worker must become ready and work. */
static void
test_daemon_as_pid1(void)
{
    if (!it_can_be_init()) {
        printf("skip a daemon that is pid 1: this machine does not allow pid namespaces here\n");
        return;
    }
    it_daemon_t d;
    it_daemon_init(&d);
    d.as_init = true;
    it_daemon_start(&d, 1, NULL); /* waits until the worker said ready */
    cf_article_t a = {.url = "https://example.test/pid1",
                      .title = "Cloud news",
                      .body = "Nimbus opened a data center in Oslo in 2024."};
    a.body_len = strlen(a.body);
    int st;
    uint64_t id;
    it_push(&d, &a, 1, &st, &id);
    CHECK(st == CF_OK, "push: %s", cf_msg_status_name(st));
    it_wait_stat(&d, "cloudfact_articles_done", 1, 30);
    CHECK(it_stat(&d, "cloudfact_workers_restarted_total") == 0, "the worker was restarted");
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "daemon exit status %d", ws);
    it_daemon_cleanup(&d);
    printf("ok   a daemon that is pid 1 runs its workers\n");
}

/* Runs the worker with args; its exit status must be 2 and stderr must hold want. */
static void
check_usage(const char *dir, const char *const *args, const char *want)
{
    char errp[400];
    snprintf(errp, sizeof errp, "%s/usage.err", dir);
    pid_t w = start_worker(args, errp);
    int ws = it_wait_exit(w, 10, "a worker given bad arguments");
    spawned = 0;
    const char *err = read_file(errp);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 2, "%s ...: exit status %d", args[0], ws);
    CHECK(strstr(err, want), "%s ...: stderr lacks \"%s\": %s", args[0], want, err);
}

static void
test_usage_errors(const char *dir)
{
    const char *a1[] = {"-xy", NULL};
    check_usage(dir, a1, "unknown option -x");
    const char *a2[] = {"--endpoint", "ipc:///nonexistent/w.sock", "extra", NULL};
    check_usage(dir, a2, "unexpected argument 'extra'");
    const char *a3[] = {"--endpoint", NULL};
    check_usage(dir, a3, "option --endpoint needs an argument");
    const char *a4[] = {"--endpoint", "tcp://127.0.0.1:9", NULL};
    check_usage(dir, a4, "needs --server-key and --key");
    const char *a5[] = {"--endpoint", "ipc:///nonexistent/w.sock", "--die-with-parent=x", NULL};
    check_usage(dir, a5, "not a pid");
    printf("ok   usage errors name the word at fault and exit 2\n");
}

int
main(void)
{
    atexit(kill_spawned);
    char dir[] = "/tmp/cf-it-worker-XXXXXX";
    CHECK(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
    test_usage_errors(dir);
    test_parent_and_bad_job(dir);
    test_remote_worker_leaves();
    test_daemon_as_pid1();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    return 0;
}
