/* SPDX-License-Identifier: MIT
 * it_auth: only the clients we allow get in (issue "Security"). A real daemon with
 * CURVE on every tcp endpoint and one allowlist per role; clients try to get in
 * without a key, with a wrong server key, with a key on no list, with a key of
 * another role, and as a worker that is not on the workers' list. Each is refused,
 * nothing of theirs reaches the archive or the stream, each refusal is counted in
 * the metrics and logged once. An allowed client of each role works end to end,
 * and deleting a key from its list and reloading shuts it out at once. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_client.h"
#include "cf_key.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

static it_daemon_t d;
static char keydir[300];
static int worker_port;

static void
keygen(const char *name)
{
    cf_err_t err;
    CHECK(cf_key_generate(keydir, name, false, NULL, &err) == CF_OK, "keygen %s: %s", name,
          err.text);
}

static void
allow(const char *role, const char *name)
{
    char src[400], dst[400], cmd[900];
    snprintf(src, sizeof src, "%s/%s.pub", keydir, name);
    snprintf(dst, sizeof dst, "%s/%s/%s.pub", d.dir, role, name);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", src, dst);
    CHECK(system(cmd) == 0, "%s", cmd);
}

static void
revoke_key(const char *role, const char *name)
{
    char path[400];
    snprintf(path, sizeof path, "%s/%s/%s.pub", d.dir, role, name);
    CHECK(unlink(path) == 0, "unlink %s: %s", path, strerror(errno));
}

/* Credentials: the daemon's public key (or another one) and a client's key. */
static cf_curve_client_t
creds(const char *server, const char *client)
{
    char s[400], k[400];
    snprintf(s, sizeof s, "%s/%s.pub", keydir, server);
    snprintf(k, sizeof k, "%s/%s.key", keydir, client);
    cf_curve_client_t c;
    cf_err_t err;
    CHECK(cf_curve_client_load(&c, s, k, &err) == CF_OK, "load %s/%s: %s", server, client,
          err.text);
    return c;
}

static uint64_t
refused(const char *endpoint, const char *reason)
{
    char key[160];
    snprintf(key, sizeof key, "cloudfact_auth_refused_total{endpoint=\"%s\",reason=\"%s\"}",
             endpoint, reason);
    return it_stat(&d, key);
}

/* ---- pushing ------------------------------------------------------------------- */

typedef struct one {
    cf_article_t *a;
    bool sent;
    int status;
} one_t;

static int
one_next(void *arg, cf_article_t *a, cf_err_t *err)
{
    (void)err;
    one_t *o = arg;
    if (o->sent)
        return 0;
    o->sent = true;
    a->url = cf_strdup(o->a->url);
    a->title = cf_strdup(o->a->title);
    a->body = cf_strndup(o->a->body, o->a->body_len);
    a->body_len = o->a->body_len;
    return 1;
}

static void
one_done(void *arg, uint64_t seq, const cf_article_t *a, int status, uint64_t id,
         const char *error)
{
    (void)seq;
    (void)a;
    (void)id;
    (void)error;
    ((one_t *)arg)->status = status;
}

static char body[] = "Microsoft opened a data center in Lisbon in March 2026, the company said.";

/* Pushes one article with creds; returns its status (CF_EDENIED when refused). With
 * no_err, cf_push_run gets no error record (the C API lets a caller pass none). */
static int
push_as_with(const cf_curve_client_t *c, const char *url, bool no_err)
{
    cf_article_t a = {0};
    a.url = (char *)url;
    a.title = "Data center";
    a.body = body;
    a.body_len = strlen(body);
    one_t o = {&a, false, CF_ECLOSED};
    cf_push_opts_t opts = {1, 2000, 2, 1000, 100};
    cf_err_t err;
    int rc = cf_push_run(d.ingest, c, &opts, one_next, &o, one_done, &o, no_err ? NULL : &err);
    if (rc == CF_EDENIED)
        return CF_EDENIED;
    return o.status;
}

static int
push_as(const cf_curve_client_t *c, const char *url)
{
    return push_as_with(c, url, false);
}

static int64_t
stored(const char *url)
{
    char sql[512];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM articles WHERE url = '%s'", url);
    return it_sql_int(&d, sql);
}

/* ---- raw DEALERs (a connection that stays open, an impostor worker) ------------- */

static void *
dealer(void *ctx, const char *endpoint, const cf_curve_client_t *c)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    cf_err_t err;
    CHECK(cf_curve_client_apply(c, s, &err) == CF_OK, "curve: %s", err.text);
    CHECK(zmq_connect(s, endpoint) == 0, "connect %s", endpoint);
    return s;
}

static void
send_buf(void *s, msgpack_sbuffer *b)
{
    CHECK(zmq_send(s, b->data, b->size, 0) == (int)b->size, "send: %s",
          zmq_strerror(zmq_errno()));
    msgpack_sbuffer_clear(b);
}

/* The status of the next ingest reply on s, or CF_ECLOSED after 10 s. */
/* The next message on s, decoded as chan, within timeout_ms; false when none came.
 * A message that does not decode fails the test. */
static bool
recv_msg(void *s, cf_chan_t chan, int timeout_ms, cf_msg_t *m)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    if (zmq_poll(&it, 1, timeout_ms) <= 0)
        return false;
    char buf[65536];
    int n = zmq_recv(s, buf, sizeof buf, 0);
    cf_err_t err;
    CHECK(n > 0 && (size_t)n <= sizeof buf && cf_msg_decode(chan, buf, (size_t)n, m, &err) == CF_OK,
          "bad message (channel %d)", (int)chan);
    return true;
}

static int
ingest_reply(void *s)
{
    cf_msg_t m;
    if (!recv_msg(s, CF_CHAN_INGEST_REPLY, 10000, &m))
        return CF_ECLOSED;
    int rc = m.u.reply.rc;
    cf_msg_clear(&m);
    return rc;
}

static void
push_raw(void *s, const char *url)
{
    cf_article_t a = {0};
    a.url = (char *)url;
    a.title = "Data center";
    a.body = body;
    a.body_len = strlen(body);
    msgpack_sbuffer b;
    msgpack_sbuffer_init(&b);
    cf_msg_pack_article(&b, "\x01", 1, &a);
    send_buf(s, &b);
    msgpack_sbuffer_destroy(&b);
}

/* ---- the cases ------------------------------------------------------------------ */

/* A world-readable server key: the daemon refuses to start, exit status 2, before it
 * creates an archive; and `--check-config` with the same options refuses it too (the
 * check SECURITY.md tells operators to run). So does an allowlist others may write. */
static void
refuses_readable_key(void)
{
    char key[400], fresh[400], open_dir[400];
    snprintf(key, sizeof key, "%s/server.key", keydir);
    snprintf(fresh, sizeof fresh, "%s/never-made", d.dir);
    CHECK(chmod(key, 0644) == 0, "chmod");
    const char *argv[] = {
        it_bin("cloudfactd"), "--state-dir", fresh, "--workers", "0", "--http", "off",
        "--curve-key",        key,           NULL};
    pid_t pid = it_spawn(argv, d.log, true);
    int st = it_wait_exit(pid, 30, "cloudfactd with a world-readable key");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "a world-readable key: exit %d, wanted 2",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    CHECK(it_log_count(&d, "secret key is accessible to others") == 1, "no reason logged");
    CHECK(access(fresh, F_OK) != 0, "a start refused for its key made %s", fresh);
    const char *check[] = {it_bin("cloudfactd"), "--state-dir", fresh, "--curve-key", key,
                           "--check-config",     NULL};
    st = it_wait_exit(it_spawn(check, d.log, true), 30, "--check-config");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2 && it_log_count(&d, "configuration: ") == 1 &&
              it_log_count(&d, "secret key is accessible to others") == 2,
          "--check-config with a world-readable key: exit %d",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    CHECK(chmod(key, 0600) == 0, "chmod");
    snprintf(open_dir, sizeof open_dir, "%s/open-list", d.dir);
    CHECK(mkdir(open_dir, 0750) == 0 && chmod(open_dir, 0757) == 0, "mkdir %s", open_dir);
    const char *check2[] = {it_bin("cloudfactd"),
                            "--state-dir",
                            fresh,
                            "--curve-key",
                            key,
                            "--allow-scrapers",
                            open_dir,
                            "--check-config",
                            NULL};
    st = it_wait_exit(it_spawn(check2, d.log, true), 30, "--check-config");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2 && it_log_count(&d, "allow_scrapers: ") == 1,
          "--check-config with an allowlist others may write: exit %d",
          WIFEXITED(st) ? WEXITSTATUS(st) : -1);
    CHECK(rmdir(open_dir) == 0 && access(fresh, F_OK) != 0, "rmdir %s", open_dir);
}

static void
start_daemon(void)
{
    char key[400], dirs[4][400], wep[64];
    const char *roles[4] = {"scrapers", "subscribers", "workers", "operators"};
    for (int i = 0; i < 4; i++) {
        snprintf(dirs[i], sizeof dirs[i], "%s/%s", d.dir, roles[i]);
        CHECK(mkdir(dirs[i], 0750) == 0, "mkdir %s", dirs[i]);
    }
    allow("scrapers", "admin"); /* the harness's own pushes and stats */
    allow("subscribers", "admin");
    allow("scrapers", "scraper1");
    allow("subscribers", "sub1");
    allow("workers", "worker1");
    allow("operators", "op1");
    snprintf(key, sizeof key, "%s/server.key", keydir);
    worker_port = it_free_port();
    snprintf(wep, sizeof wep, "tcp://127.0.0.1:%d", worker_port);
    const char *extra[] = {"--curve-key",   key,     "--allow-scrapers",  dirs[0],
                           "--allow-subscribers", dirs[1], "--allow-workers", dirs[2],
                           "--allow-operators", dirs[3], "--worker-endpoint", wep,
                           NULL};
    d.curve = creds("server", "admin");
    /* no local workers: the only worker is the remote one started below */
    it_daemon_start(&d, 0, extra);
    /* local workers' ipc endpoint beside the tcp one: guarded by its file mode */
    char sock[400];
    snprintf(sock, sizeof sock, "%s/workers.sock", d.dir);
    struct stat st;
    CHECK(stat(sock, &st) == 0 && S_ISSOCK(st.st_mode) && (st.st_mode & 0777) == 0660,
          "%s: mode %o, wanted a 0660 socket", sock, (unsigned)(st.st_mode & 0777));
}

/* Pushes without a key, with a wrong server key, a key on no list and a
 * subscriber's key: all refused, none stored. */
static void
scrapers_only(void)
{
    cf_curve_client_t stranger = creds("server", "stranger");
    cf_curve_client_t wrong_server = creds("stranger", "scraper1");
    cf_curve_client_t sub = creds("server", "sub1");
    CHECK(push_as(NULL, "https://in.example/plain") == CF_EDENIED, "a plain push got in");
    CHECK(push_as(&wrong_server, "https://in.example/wrong-server") == CF_EDENIED,
          "a wrong server key got in");
    /* the handshake refused, with no error record to say why in */
    CHECK(push_as_with(&wrong_server, "https://in.example/wrong-server", true) == CF_EDENIED,
          "a wrong server key got in (no error record)");
    CHECK(push_as(&stranger, "https://in.example/stranger") == CF_EDENIED,
          "an unknown key got in");
    CHECK(push_as(&stranger, "https://in.example/stranger2") == CF_EDENIED,
          "an unknown key got in (twice)");
    CHECK(push_as(&sub, "https://in.example/subscriber") == CF_EDENIED,
          "a subscriber's key could push");
    const char *urls[] = {"https://in.example/plain", "https://in.example/wrong-server",
                          "https://in.example/stranger", "https://in.example/stranger2",
                          "https://in.example/subscriber"};
    for (size_t i = 0; i < 5; i++)
        CHECK(stored(urls[i]) == 0, "%s reached the archive", urls[i]);
    CHECK(refused("ingest", "unknown_key") >= 2, "unknown keys not counted");
    CHECK(refused("ingest", "wrong_role") >= 1, "wrong role not counted");
    CHECK(refused("ingest", "no_curve") + refused("ingest", "bad_handshake") >= 2,
          "failed handshakes not counted");
    /* logged once per key, whatever the number of attempts */
    char z85[CF_KEY_Z85 + 1], path[400];
    snprintf(path, sizeof path, "%s/stranger.pub", keydir);
    cf_err_t err;
    CHECK(cf_key_read_public(path, z85, &err) == CF_OK, "%s", err.text);
    CHECK(it_log_count(&d, z85) == 1, "the unknown key was logged %zu times, wanted once",
          it_log_count(&d, z85));
    CHECK(it_log_count(&d, "key 'sub1' (on the subscribers list)") == 1,
          "the wrong-role key was not logged by name once");
}

/* A scraper's key cannot subscribe or query; a subscriber's can; a subscriber's key
 * cannot run operator ops, an operator's can. */
static void
readers_only(void)
{
    cf_curve_client_t scraper = creds("server", "scraper1");
    cf_curve_client_t sub = creds("server", "sub1");
    cf_curve_client_t op = creds("server", "op1");
    cf_err_t err;
    cf_sub_t *s = cf_sub_new(d.publish, &scraper, NULL, 0, &err);
    CHECK(s, "sub: %s", err.text);
    cf_sub_msg_t m;
    int rc = CF_EBUSY;
    for (int i = 0; i < 20 && rc == CF_EBUSY; i++)
        rc = cf_sub_recv(s, 500, &m, &err);
    CHECK(rc == CF_EDENIED, "a scraper's key could subscribe (rc %d)", rc);
    cf_sub_destroy(&s);
    CHECK(refused("publish", "wrong_role") >= 1, "not counted");
    cf_stream_end_t end;
    rc = cf_replay(d.query, &scraper, 0, NULL, 0, 0, false, 10000, NULL, NULL, &end, &err);
    CHECK(rc == CF_EDENIED, "a scraper's key could replay (rc %d)", rc);
    rc = cf_replay(d.query, &sub, 0, NULL, 0, 0, false, 10000, NULL, NULL, &end, &err);
    CHECK(rc == CF_OK && end.ended, "a subscriber could not replay: %s", err.text);
    /* operator ops over tcp: operators only */
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    cf_msg_pack_quarantine(&req, NULL, 0, 0, 10);
    void *reply;
    size_t len;
    CHECK(cf_query_call(d.query, &sub, req.data, req.size, 10000, &reply, &len, &err) == CF_OK,
          "query: %s", err.text);
    cf_msg_t msg;
    CHECK(cf_msg_decode(CF_CHAN_QUERY_REPLY, reply, len, &msg, &err) == CF_OK, "decode");
    CHECK(msg.op == CF_OP_ERROR && strstr(msg.u.error.error, "denied"),
          "a subscriber ran an operator op");
    cf_msg_clear(&msg);
    free(reply);
    CHECK(refused("query", "not_operator") == 1, "not_operator not counted");
    CHECK(cf_query_call(d.query, &op, req.data, req.size, 10000, &reply, &len, &err) == CF_OK,
          "query: %s", err.text);
    CHECK(cf_msg_decode(CF_CHAN_QUERY_REPLY, reply, len, &msg, &err) == CF_OK, "decode");
    CHECK(msg.op != CF_OP_ERROR, "an operator was refused: %s",
          msg.op == CF_OP_ERROR ? msg.u.error.error : "");
    cf_msg_clear(&msg);
    free(reply);
    msgpack_sbuffer_destroy(&req);
}

static pid_t start_remote_worker(const char *wep, const char *key);
static pid_t remote_worker;

/* A worker whose key is not on the workers' list connects to the tcp worker
 * endpoint and sends ready and a made-up result: refused at the handshake,
 * nothing it sends is read. */
static void
impostor_worker(void *ctx, const char *wep)
{
    cf_curve_client_t fake = creds("server", "stranger");
    void *s = dealer(ctx, wep, &fake);
    msgpack_sbuffer b;
    msgpack_sbuffer_init(&b);
    cf_msg_pack_ready(&b, 4, 4242);
    zmq_send(s, b.data, b.size, ZMQ_DONTWAIT);
    msgpack_sbuffer_clear(&b);
    cf_facts_t facts = {0};
    cf_fact_t *f = cf_facts_push(&facts);
    f->type = cf_strdup("acquisition");
    f->subject = cf_strdup("impostor");
    f->evidence = cf_strdup("Microsoft");
    f->evidence_end = 9;
    cf_msg_pack_result(&b, 1, &facts, NULL);
    zmq_send(s, b.data, b.size, ZMQ_DONTWAIT);
    cf_facts_clear(&facts);
    msgpack_sbuffer_destroy(&b);
    for (int i = 0; i < 500 && refused("workers", "unknown_key") == 0; i++)
        usleep(10 * 1000);
    CHECK(refused("workers", "unknown_key") >= 1, "the impostor worker was not refused");
    CHECK(it_stat(&d, "cloudfact_workers_ready") == 0, "the impostor counts as a worker");
    zmq_close(s);
    /* a subscriber's key is no worker's either */
    cf_curve_client_t sub = creds("server", "sub1");
    s = dealer(ctx, wep, &sub);
    msgpack_sbuffer_init(&b);
    cf_msg_pack_ready(&b, 4, 4243);
    zmq_send(s, b.data, b.size, ZMQ_DONTWAIT);
    msgpack_sbuffer_destroy(&b);
    for (int i = 0; i < 500 && refused("workers", "wrong_role") == 0; i++)
        usleep(10 * 1000);
    CHECK(refused("workers", "wrong_role") >= 1, "a subscriber's key posed as a worker");
    CHECK(it_stat(&d, "cloudfact_workers_ready") == 0, "the impostor counts as a worker");
    zmq_close(s);
    /* the real worker program with a key not on the list says why it cannot get in */
    pid_t w = start_remote_worker(wep, "stranger");
    it_wait_log(&d, "refused this worker's key", 1, 10);
    CHECK(it_stat(&d, "cloudfact_workers_ready") == 0, "a refused worker counts as a worker");
    kill(w, SIGTERM);
    it_wait_exit(w, 30, "the refused remote worker after SIGTERM");
    remote_worker = 0;
}

/* remote_worker: killed at exit, also when a check fails */

static void
kill_remote_worker(void)
{
    if (remote_worker > 0) {
        kill(remote_worker, SIGKILL);
        waitpid(remote_worker, NULL, 0);
        remote_worker = 0;
    }
}

static pid_t
start_remote_worker(const char *wep, const char *key)
{
    char sk[400], k[400];
    snprintf(sk, sizeof sk, "%s/server.pub", keydir);
    snprintf(k, sizeof k, "%s/%s.key", keydir, key);
    const char *argv[] = {it_bin("cloudfact-worker"), "--endpoint", wep, "--server-key", sk,
                          "--key", k, NULL};
    pid_t pid = it_spawn(argv, d.log, true);
    remote_worker = pid;
    atexit(kill_remote_worker);
    return pid;
}

/* Each allowed role end to end: a scraper pushes, the remote worker extracts, a
 * subscriber receives the facts live. */
static void
allowed_end_to_end(const char *wep)
{
    cf_curve_client_t scraper = creds("server", "scraper1");
    cf_curve_client_t sub = creds("server", "sub1");
    pid_t w = start_remote_worker(wep, "worker1");
    it_wait_stat(&d, "cloudfact_workers_ready", 1, 30);
    cf_err_t err;
    const char *pre[] = {"fact.", "sys.heartbeat"};
    cf_sub_t *s = cf_sub_new(d.publish, &sub, pre, 2, &err);
    CHECK(s, "sub: %s", err.text);
    cf_sub_msg_t m;
    int rc;
    do /* the subscription is live once a heartbeat comes */
        rc = cf_sub_recv(s, 5000, &m, &err);
    while (rc == CF_OK && strcmp(m.topic, "sys.heartbeat") != 0);
    CHECK(rc == CF_OK, "no heartbeat for an allowed subscriber: %s", err.text);
    CHECK(push_as(&scraper, "https://in.example/allowed") == CF_OK, "an allowed scraper failed");
    bool got = false;
    for (int i = 0; i < 40 && !got; i++) {
        rc = cf_sub_recv(s, 500, &m, &err);
        got = rc == CF_OK && m.is_fact && strcmp(m.fact.subject, "microsoft") == 0;
    }
    CHECK(got, "the allowed subscriber did not get the allowed scraper's fact");
    cf_sub_destroy(&s);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM facts WHERE subject = 'impostor'") == 0,
          "the impostor's fact reached the archive");
    CHECK(it_stat(&d, "cloudfact_auth_accepted_total{endpoint=\"workers\"}") >= 1,
          "the remote worker's handshake was not counted");
    kill(w, SIGTERM);
    it_wait_exit(w, 30, "the allowed remote worker after SIGTERM");
    remote_worker = 0;
}

/* The jobs of a worker whose key is revoked while it holds them go back to the
 * queue uncharged: losing them is no article's doing. */
static void
revoked_worker_with_jobs(void *ctx, const char *wep)
{
    cf_curve_client_t wk = creds("server", "worker1");
    cf_curve_client_t scraper = creds("server", "scraper1");
    /* the remote worker of the case before is gone once the daemon forgets it */
    for (int i = 0; i < 1000 && it_stat(&d, "cloudfact_workers_ready") != 0; i++)
        usleep(10 * 1000);
    CHECK(it_stat(&d, "cloudfact_workers_ready") == 0, "the stopped worker is not forgotten");
    void *s = dealer(ctx, wep, &wk);
    msgpack_sbuffer b;
    msgpack_sbuffer_init(&b);
    cf_msg_pack_ready(&b, 2, 4244);
    send_buf(s, &b);
    it_wait_stat(&d, "cloudfact_workers_ready", 1, 30);
    uint64_t failed = it_stat(&d, "cloudfact_attempts_failed_total");
    CHECK(push_as(&scraper, "https://in.example/held-1") == CF_OK, "push held-1");
    CHECK(push_as(&scraper, "https://in.example/held-2") == CF_OK, "push held-2");
    uint64_t ids[2];
    int got = 0;
    for (int i = 0; i < 100 && got < 2; i++) {
        cf_msg_t m;
        if (!recv_msg(s, CF_CHAN_TO_WORKER, 100, &m)) {
            cf_msg_pack_op(&b, "heartbeat", NULL, 0); /* an idle worker that stays */
            send_buf(s, &b);
            continue;
        }
        if (m.op == CF_OP_JOB)
            ids[got++] = m.u.job.article.id;
        cf_msg_clear(&m);
    }
    CHECK(got == 2, "the worker got %d jobs, expected 2", got);
    revoke_key("workers", "worker1");
    kill(d.pid, SIGHUP);
    it_wait_log(&d, "auth: workers: removed 'worker1'", 1, 10);
    cf_msg_pack_op(&b, "heartbeat", NULL, 0); /* its next message finds the key gone */
    send_buf(s, &b);
    msgpack_sbuffer_destroy(&b);
    for (int i = 0; i < 500 && it_stat(&d, "cloudfact_jobs_inflight") != 0; i++)
        usleep(10 * 1000);
    CHECK(it_stat(&d, "cloudfact_jobs_inflight") == 0, "the revoked worker's jobs are still out");
    for (int i = 0; i < 2; i++)
        CHECK(it_article_int(&d, "attempts", ids[i]) == 0, "article %llu charged an attempt",
              (unsigned long long)ids[i]);
    CHECK(it_stat(&d, "cloudfact_attempts_failed_total") == failed, "attempts counted");
    CHECK(it_stat(&d, "cloudfact_jobs_isolated_total") == 0, "jobs isolated for a revocation");
    zmq_close(s);
}

/* Revocation: delete the key file, SIGHUP. New connections with it are refused,
 * a connected scraper's next article is answered `denied`, a connected subscriber
 * is cut off; the reload names who was removed. All this although the reload is
 * refused, for a file that is not a key left in another list: a revocation must
 * not wait for an unrelated mistake to be fixed. */
static void
revocation(void *ctx)
{
    cf_curve_client_t scraper = creds("server", "scraper1");
    cf_curve_client_t sub = creds("server", "sub1");
    void *conn = dealer(ctx, d.ingest, &scraper);
    push_raw(conn, "https://in.example/before-revocation");
    CHECK(ingest_reply(conn) == CF_OK, "the connected scraper was refused before revocation");
    cf_err_t err;
    const char *pre[] = {"sys.heartbeat"};
    cf_sub_t *s = cf_sub_new(d.publish, &sub, pre, 1, &err);
    cf_sub_msg_t m;
    CHECK(cf_sub_recv(s, 5000, &m, &err) == CF_OK, "no heartbeat before revocation: %s",
          err.text);
    revoke_key("scrapers", "scraper1");
    revoke_key("subscribers", "sub1");
    char typo[400];
    snprintf(typo, sizeof typo, "%s/workers/typo.pub", d.dir);
    FILE *f = fopen(typo, "w");
    CHECK(f && fputs("not a key\n", f) >= 0 && fclose(f) == 0, "write %s", typo);
    kill(d.pid, SIGHUP);
    it_wait_log(&d, "auth: scrapers: removed 'scraper1'", 1, 10);
    it_wait_log(&d, "auth: subscribers: removed 'sub1'", 1, 10);
    it_wait_log(&d, "reload: allowlists refused, nothing added", 1, 10);
    CHECK(it_log_count(&d, "typo.pub") >= 1, "the refusal does not name the bad file");
    push_raw(conn, "https://in.example/after-revocation");
    CHECK(ingest_reply(conn) == CF_EDENIED, "a revoked scraper's message was not denied");
    CHECK(stored("https://in.example/after-revocation") == 0, "a revoked scraper got in");
    CHECK(refused("ingest", "revoked") >= 1, "not counted");
    zmq_close(conn);
    CHECK(push_as(&scraper, "https://in.example/new-after-revocation") == CF_EDENIED,
          "a new connection with a revoked key got in");
    int rc = CF_OK;
    for (int i = 0; i < 100 && (rc == CF_OK || rc == CF_EBUSY); i++)
        rc = cf_sub_recv(s, 100, &m, &err);
    CHECK(rc == CF_EDENIED, "a revoked subscriber still receives (rc %d)", rc);
    cf_sub_destroy(&s);
    CHECK(it_stat(&d, "cloudfact_auth_keys{role=\"scrapers\"}") == 1, "keys gauge");
}

int
main(void)
{
    it_daemon_init(&d);
    snprintf(keydir, sizeof keydir, "%s/keys", d.dir);
    CHECK(mkdir(keydir, 0700) == 0, "mkdir");
    const char *names[] = {"server", "admin", "scraper1", "sub1", "worker1", "op1", "stranger"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++)
        keygen(names[i]);
    /* one line per phase: a run killed at ctest's timeout shows where it stood */
    printf("it_auth: a world-readable key\n");
    refuses_readable_key();
    printf("it_auth: start the daemon\n");
    start_daemon();
    char wep[64];
    snprintf(wep, sizeof wep, "tcp://127.0.0.1:%d", worker_port);
    void *ctx = zmq_ctx_new();
    printf("it_auth: scrapers only\n");
    scrapers_only();
    printf("it_auth: readers only\n");
    readers_only();
    printf("it_auth: an impostor worker\n");
    impostor_worker(ctx, wep);
    printf("it_auth: allowed end to end\n");
    allowed_end_to_end(wep);
    printf("it_auth: a worker revoked with jobs out\n");
    revoked_worker_with_jobs(ctx, wep);
    printf("it_auth: revocation\n");
    revocation(ctx);
    printf("it_auth: shutdown\n");
    zmq_ctx_term(ctx);
    int st = it_daemon_stop(&d, SIGTERM, 30);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "daemon exit status %d", st);
    it_daemon_cleanup(&d);
    printf("it_auth: ok\n");
    return 0;
}
