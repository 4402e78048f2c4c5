/* SPDX-License-Identifier: MIT
 * it_hostile: every malformed message we can think of, from clients and from a
 * fake worker, against the real daemon (no local workers: the fake one is the
 * only worker). Each gets an error reply or a logged drop; the daemon never
 * crashes, keeps serving, and stores nothing that did not validate. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>
#include <zmq.h>

#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

static void *zctx;

/* A client named id (libzmq names it when NULL) that queues at most rcvhwm replies
 * (0: libzmq's default); both must be set before it connects. */
static void *
dealer_as(const char *ep, const char *id, int rcvhwm)
{
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    int timeout = 10000, linger = 0;
    int64_t max = -1;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    if (id)
        zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id));
    if (rcvhwm)
        zmq_setsockopt(s, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    CHECK(zmq_connect(s, ep) == 0, "connect %s: %s", ep, zmq_strerror(zmq_errno()));
    return s;
}

static void *
dealer(const char *ep)
{
    return dealer_as(ep, NULL, 0);
}

/* Sends frames and expects one `invalid` reply whose error contains needle. */
static void
expect_invalid(void *s, const void *const *frames, const size_t *lens, size_t n,
               const char *what, const char *needle)
{
    for (size_t i = 0; i < n; i++)
        zmq_send(s, frames[i], lens[i], i + 1 < n ? ZMQ_SNDMORE : 0);
    zmq_msg_t m;
    zmq_msg_init(&m);
    CHECK(zmq_msg_recv(&m, s, 0) >= 0, "%s: no reply", what);
    while (zmq_msg_more(&m)) /* envelope frames come back first */
        zmq_msg_recv(&m, s, 0);
    cf_msg_t r;
    cf_err_t err;
    CHECK(cf_msg_decode(CF_CHAN_INGEST_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), &r, &err) ==
              CF_OK,
          "%s: undecodable reply: %s", what, err.text);
    CHECK(r.u.reply.rc == CF_EINVAL, "%s: %s, expected invalid", what,
          cf_msg_status_name(r.u.reply.rc));
    CHECK(r.u.reply.error && strstr(r.u.reply.error, needle), "%s: error '%s' lacks '%s'", what,
          r.u.reply.error ? r.u.reply.error : "", needle);
    cf_msg_clear(&r);
    zmq_msg_close(&m);
}

static void
one(void *s, const void *body, size_t len, const char *what, const char *needle)
{
    const void *f[] = {body};
    size_t l[] = {len};
    expect_invalid(s, f, l, 1, what, needle);
}

static void
packed(void *s, void (*build)(msgpack_packer *), const char *what, const char *needle)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    build(&pk);
    one(s, sb.data, sb.size, what, needle);
    msgpack_sbuffer_destroy(&sb);
}

static void
kv(msgpack_packer *pk, const char *k, const char *v)
{
    cf_msg_pack_str(pk, k);
    cf_msg_pack_str(pk, v);
}

static void
b_wrong_type(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 4);
    kv(pk, "op", "article");
    kv(pk, "url", "https://example.test/h/1");
    kv(pk, "title", "t");
    cf_msg_pack_str(pk, "body");
    msgpack_pack_int(pk, 42);
}

static void
b_missing_body(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 3);
    kv(pk, "op", "article");
    kv(pk, "url", "https://example.test/h/2");
    kv(pk, "title", "t");
}

static void
b_unknown_op(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 1);
    kv(pk, "op", "result"); /* a worker op on the ingest socket */
}

static void
b_bad_utf8(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 4);
    kv(pk, "op", "article");
    kv(pk, "url", "https://example.test/h/3");
    kv(pk, "title", "t");
    cf_msg_pack_str(pk, "body");
    msgpack_pack_str(pk, 4);
    msgpack_pack_str_body(pk, "\xff\xfe\xfd\xfc", 4);
}

static void
b_huge_map(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 100000);
    for (int i = 0; i < 100000; i++) {
        char k[16];
        snprintf(k, sizeof k, "k%d", i);
        cf_msg_pack_str(pk, k);
        msgpack_pack_nil(pk);
    }
}

static void
b_deep(msgpack_packer *pk)
{
    msgpack_pack_map(pk, 2);
    kv(pk, "op", "article");
    cf_msg_pack_str(pk, "title");
    for (int i = 0; i < 100; i++)
        msgpack_pack_array(pk, 1);
    msgpack_pack_nil(pk);
}

static void
hostile_clients(const it_daemon_t *d)
{
    void *s = dealer(d->ingest);
    one(s, "\x85\xa2op", 4, "truncated msgpack", "truncated");
    one(s, "\xdd\xff\xff\xff\xff", 5, "an array32 header claiming 4 billion items", "truncated");
    packed(s, b_wrong_type, "body as an integer", "body");
    packed(s, b_missing_body, "no body", "body");
    packed(s, b_unknown_op, "a worker op on ingest", "op");
    packed(s, b_bad_utf8, "invalid UTF-8", "UTF-8");
    packed(s, b_huge_map, "a 100,000-key map", "objects");
    packed(s, b_deep, "nesting 100 deep", "nested");
    /* six envelope frames, then a body */
    const void *f[] = {"a", "b", "c", "d", "e", "\x80"};
    size_t l[] = {1, 1, 1, 1, 1, 1};
    expect_invalid(s, f, l, 6, "too many frames", "frames");
    /* a REQ client gets its reply through its envelope */
    void *req = zmq_socket(zctx, ZMQ_REQ);
    int timeout = 10000, linger = 0;
    zmq_setsockopt(req, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(req, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(req, d->ingest);
    one(req, "\xc1", 1, "REQ client, garbage", "malformed");
    zmq_close(req);
    /* a frame over ZMQ_MAXMSGSIZE: ZeroMQ drops that connection, the daemon goes on */
    void *big = dealer(d->ingest);
    size_t n = 6u * 1024 * 1024;
    char *blob = calloc(1, n);
    zmq_send(big, blob, n, 0);
    free(blob);
    int short_timeout = 1000;
    zmq_setsockopt(big, ZMQ_RCVTIMEO, &short_timeout, sizeof short_timeout);
    char tmp[16];
    CHECK(zmq_recv(big, tmp, sizeof tmp, 0) < 0, "an oversized frame got a reply");
    zmq_close(big);
    zmq_close(s);
}

/* The fake worker: ready with credit 1, then whatever the test says. */
static void
worker_send(void *w, msgpack_sbuffer *sb)
{
    zmq_send(w, sb->data, sb->size, 0);
    msgpack_sbuffer_clear(sb);
}

/* Waits for a job; `ready` every second doubles as the heartbeat that keeps an
 * idle worker known (the daemon forgets one silent for 3 s). */
static int
next_job(void *w, cf_msg_t *job)
{
    int one_s = 1000;
    zmq_setsockopt(w, ZMQ_RCVTIMEO, &one_s, sizeof one_s);
    for (int waited = 0;;) {
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        cf_msg_pack_ready(&sb, 1, 99999);
        zmq_send(w, sb.data, sb.size, 0);
        msgpack_sbuffer_destroy(&sb);
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, w, 0) < 0) {
            zmq_msg_close(&m);
            if (++waited > 30)
                return -1;
            continue;
        }
        cf_err_t err;
        int rc = cf_msg_decode(CF_CHAN_TO_WORKER, zmq_msg_data(&m), zmq_msg_size(&m), job, &err);
        zmq_msg_close(&m);
        CHECK(rc == CF_OK, "the daemon sent something undecodable: %s", err.text);
        if (job->op == CF_OP_JOB)
            return 0;
        cf_msg_clear(job);
    }
}

static void
lying_result(void *w, uint64_t lease, const cf_article_t *a, int how)
{
    cf_facts_t facts = {0};
    cf_fact_t *f = cf_facts_push(&facts);
    f->type = cf_strdup(how == 1 ? "horoscope" : "revenue");
    f->subject = cf_strdup("oracle");
    f->status = cf_strdup("reported");
    f->confidence = 0.5;
    f->evidence_start = 0;
    f->evidence_end = 6;
    f->evidence = how == 0 ? cf_strdup("absent") : cf_strndup(a->body, 6);
    if (how == 2) { /* offsets past the body */
        f->evidence_start = a->body_len + 10;
        f->evidence_end = a->body_len + 16;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_result(&sb, lease, &facts, NULL);
    worker_send(w, &sb);
    msgpack_sbuffer_destroy(&sb);
    cf_facts_clear(&facts);
}

static void
hostile_worker(it_daemon_t *d)
{
    void *w = dealer(d->worker_ep);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    zmq_send(w, "\xc1\xc1", 2, 0);                  /* junk */
    zmq_send(w, "a", 1, ZMQ_SNDMORE);                /* two frames */
    zmq_send(w, "b", 1, 0);
    cf_msg_pack_result(&sb, 777777, &(cf_facts_t){0}, NULL); /* before ready, never given */
    worker_send(w, &sb);
    cf_msg_pack_ready(&sb, 1, 99999);
    worker_send(w, &sb);
    it_wait_stat(d, "cloudfact_workers_ready", 1, 30);
    cf_msg_pack_result(&sb, 123456, &(cf_facts_t){0}, NULL); /* a lease never given */
    worker_send(w, &sb);

    /* one article: three lying results, then quarantine */
    cf_article_t a = {0};
    a.url = "https://example.test/h/poisoned-by-worker";
    a.title = "t";
    a.body = "Oracle opened two data centers in Madrid.";
    a.body_len = strlen(a.body);
    int st;
    uint64_t id;
    it_push(d, &a, 1, &st, &id);
    CHECK(st == CF_OK, "push: %s", cf_msg_status_name(st));
    uint64_t old_lease = 0;
    for (int how = 0; how < 3; how++) {
        cf_msg_t job;
        CHECK(next_job(w, &job) == 0, "no job %d for the fake worker", how);
        CHECK(job.u.job.article.id == id, "job for article %llu",
              (unsigned long long)job.u.job.article.id);
        lying_result(w, job.u.job.job, &job.u.job.article, how);
        old_lease = job.u.job.job;
        cf_msg_clear(&job);
    }
    it_wait_stat(d, "cloudfact_articles_failed", 1, 30);
    /* a late result for the old lease changes nothing */
    lying_result(w, old_lease, &a, 1);
    CHECK(it_sql_int(d, "SELECT count(*) FROM facts") == 0, "garbage facts were stored");

    /* an honest result after all that is archived */
    a.url = "https://example.test/h/honest";
    it_push(d, &a, 1, &st, &id);
    cf_msg_t job;
    CHECK(next_job(w, &job) == 0, "no job for the honest article");
    cf_facts_t facts = {0};
    cf_fact_t *f = cf_facts_push(&facts);
    f->type = cf_strdup("datacenter");
    f->subject = cf_strdup("oracle");
    f->status = cf_strdup("reported");
    f->confidence = 0.9;
    f->has_value = true;
    f->value = 2;
    f->unit = cf_strdup("count");
    f->evidence_start = 0;
    f->evidence_end = 33;
    f->evidence = cf_strndup(job.u.job.article.body, 33);
    cf_msg_pack_result(&sb, job.u.job.job, &facts, NULL);
    worker_send(w, &sb);
    cf_facts_clear(&facts);
    cf_msg_clear(&job);
    it_wait_stat(d, "cloudfact_articles_done", 1, 30);
    CHECK(it_sql_int(d, "SELECT count(*) FROM facts") == 1, "the honest fact was not stored");
    CHECK(it_stat(d, "cloudfact_worker_bad_messages_total") >= 3, "bad messages not counted");
    msgpack_sbuffer_destroy(&sb);
    zmq_close(w);
}

/* A client that sends requests and never reads its replies fills its own pipe; its
 * later replies are dropped (counted), and other clients are answered as before:
 * nothing of its waits in a queue ahead of theirs or grows the daemon's memory. */
static void
reader_that_never_reads(it_daemon_t *d)
{
    void *a = dealer(d->query);
    int sndtimeo = 2000;
    zmq_setsockopt(a, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_op(&sb, "stats", NULL, 0); /* a reply of a few kB each */
    size_t sent = 0;
    for (int i = 0; i < 12000 && zmq_send(a, sb.data, sb.size, 0) >= 0; i++)
        sent++;
    msgpack_sbuffer_destroy(&sb);
    CHECK(sent > 5000, "only %zu requests could be sent", sent);
    /* it_stat asks on a connection of its own, and fails the test if no answer comes */
    uint64_t dropped = 0;
    for (int i = 0; i < 200 && !dropped; i++) {
        dropped = it_stat(d, "cloudfact_query_replies_dropped_total");
        if (!dropped)
            usleep(50 * 1000);
    }
    CHECK(dropped > 0, "no reply to the client that does not read was dropped");
    CHECK(it_stat(d, "cloudfact_query_streams") == 0, "a stream is left");
    zmq_close(a);
}

static uint32_t
fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* A client that asks for a large article again and again and reads nothing: the
 * replies ZeroMQ holds for it are bounded in bytes (16 MiB per client, 64 MiB in all),
 * the requests beyond them are answered busy, another client is served meanwhile,
 * and every request gets its answer once it reads. */
static void
article_hoarder(it_daemon_t *d)
{
    enum { ASKS = 128 };
    size_t len = 4u * 1024 * 1024 - 64;
    char *body = cf_malloc(len + 1);
    for (size_t i = 0; i < len; i++)
        body[i] = "Nimbus leases more racks. "[i % 26];
    body[len] = '\0';
    uint64_t id = it_push_one(d, "https://example.test/h/large", body);
    free(body);

    uint64_t busy0 = it_stat(d, "cloudfact_query_articles_busy_total");
    /* the two clients' names fall in one bucket of a 256-way hash (FNV-1a): what each
     * may hold must be its own, not its bucket's */
    static const char hoarder_id[] = "hoarder";
    char other_id[32];
    for (unsigned k = 0;; k++) {
        snprintf(other_id, sizeof other_id, "other-%u", k);
        if (fnv1a(other_id) % 256 == fnv1a(hoarder_id) % 256)
            break;
    }
    void *c = dealer_as(d->query, hoarder_id, 1); /* it takes (almost) nothing in */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_get_article(&sb, NULL, 0, id);
    for (int i = 0; i < ASKS; i++)
        CHECK(zmq_send(c, sb.data, sb.size, 0) == (int)sb.size, "send");
    msgpack_sbuffer_destroy(&sb);
    /* 16 MiB (its share) hold 3 replies; its socket and TCP buffers take a few more
     * (up to 10 here): at least half of the requests are answered busy */
    it_wait_stat(d, "cloudfact_query_articles_busy_total", busy0 + ASKS / 2, 60);
    CHECK(it_stat(d, "cloudfact_query_article_bytes_held") <= 16u << 20,
          "more than its 16 MiB held for one client");
    /* another client is served meanwhile: the hoarder holds only its own share */
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_get_article(&sb, NULL, 0, id);
    void *other = dealer_as(d->query, other_id, 0);
    CHECK(zmq_send(other, sb.data, sb.size, 0) == (int)sb.size, "send");
    msgpack_sbuffer_destroy(&sb);
    zmq_msg_t om;
    zmq_msg_init(&om);
    CHECK(zmq_msg_recv(&om, other, 0) >= 0, "the other client: %s", zmq_strerror(zmq_errno()));
    cf_msg_t orep;
    cf_err_t oerr;
    CHECK(cf_msg_decode(CF_CHAN_QUERY_REPLY, zmq_msg_data(&om), zmq_msg_size(&om), &orep, &oerr) ==
                  CF_OK &&
              orep.op == CF_OP_ARTICLE,
          "the other client was not served the article");
    cf_msg_clear(&orep);
    zmq_msg_close(&om);
    zmq_close(other);
    int articles = 0, busy = 0;
    for (int i = 0; i < ASKS; i++) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        CHECK(zmq_msg_recv(&m, c, 0) >= 0, "reply %d of %d: %s", i, ASKS,
              zmq_strerror(zmq_errno()));
        cf_msg_t r;
        cf_err_t err;
        CHECK(cf_msg_decode(CF_CHAN_QUERY_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), &r, &err) ==
                  CF_OK,
              "decode: %s", err.text);
        if (r.op == CF_OP_ARTICLE)
            articles++;
        else if (r.op == CF_OP_ERROR && strncmp(r.u.error.error, "busy: ", 6) == 0)
            busy++;
        cf_msg_clear(&r);
        zmq_msg_close(&m);
    }
    CHECK(articles >= 3 && busy >= ASKS / 2 && articles + busy == ASKS,
          "%d article replies and %d busy for %d requests", articles, busy, ASKS);
    CHECK(it_stat(d, "cloudfact_query_article_bytes_held") == 0, "replies still held");
    printf("     %d of %d large article requests answered, %d busy\n", articles, ASKS, busy);
    zmq_close(c);
}

/* libzmq names a ROUTER's peers that bring no routing id "\0" + a 32-bit counter
 * whose start comes from rand(), and aborts the process (socket_base.cpp: "ok")
 * when that name is already taken by a peer that chose it. Unseeded, rand() gives
 * the same start in every run, so anyone who can connect could take the next
 * names and kill the daemon with the next ordinary connection. These peers take
 * the names an unseeded rand() would give each socket, on ingest and on the
 * workers' endpoint; then ordinary peers connect, and the daemon must live on. */
static void
routing_id_squatters(it_daemon_t *d)
{
    srand(1); /* what a program that never seeds gets */
    uint32_t start[24];
    for (size_t k = 0; k < sizeof start / sizeof *start; k++) {
        uint32_t low = (uint32_t)rand(), high = (uint32_t)rand();
        start[k] = (high << 31) | low; /* libzmq's generate_random() */
    }
    const char *eps[] = {d->ingest, d->worker_ep};
    void *socks[2 * 24 * 4 + 2];
    size_t n = 0;
    for (size_t e = 0; e < 2; e++)
        for (size_t k = 0; k < sizeof start / sizeof *start; k++)
            for (uint32_t off = 0; off < 4; off++) {
                uint32_t v = start[k] + off;
                unsigned char id[5] = {0, (unsigned char)(v >> 24), (unsigned char)(v >> 16),
                                       (unsigned char)(v >> 8), (unsigned char)v};
                void *s = zmq_socket(zctx, ZMQ_DEALER);
                int zero = 0;
                zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
                zmq_setsockopt(s, ZMQ_ROUTING_ID, id, sizeof id);
                CHECK(zmq_connect(s, eps[e]) == 0, "connect %s", eps[e]);
                socks[n++] = s;
            }
    usleep(300 * 1000);
    for (size_t e = 0; e < 2; e++) { /* ordinary peers: libzmq names them */
        void *s = zmq_socket(zctx, ZMQ_DEALER);
        int zero = 0;
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
        CHECK(zmq_connect(s, eps[e]) == 0, "connect %s", eps[e]);
        socks[n++] = s;
    }
    usleep(300 * 1000);
    int status;
    CHECK(waitpid(d->pid, &status, WNOHANG) == 0,
          "the daemon died (status 0x%x) of a routing id taken first: see %s", status, d->log);
    for (size_t i = 0; i < n; i++)
        zmq_close(socks[i]);
}

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    const char *extra[] = {"--http", "off", NULL};
    it_daemon_start(&d, 0, extra);
    zctx = zmq_ctx_new();

    hostile_clients(&d);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles") == 0, "garbage reached the archive");
    printf("ok   hostile clients: each answered invalid or dropped; nothing stored\n");

    hostile_worker(&d);
    printf("ok   a hostile worker: junk dropped, lies cost attempts, nothing false stored\n");

    reader_that_never_reads(&d);
    printf("ok   a client that never reads loses its own replies, not other clients'\n");

    article_hoarder(&d);
    printf("ok   a client that asks for a large article without reading: replies held "
           "for it stay under 16 MiB, the rest answered busy, others served\n");

    routing_id_squatters(&d);
    printf("ok   peers that take the routing ids libzmq would give others do not kill it\n");

    it_push_one(&d, "https://example.test/h/after", "IBM has 3,000 customers."); /* still serving */
    zmq_ctx_term(zctx);
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x (crashed?)", ws);
    it_daemon_cleanup(&d);
    printf("it_hostile: all checks passed\n");
    return 0;
}
