/* SPDX-License-Identifier: MIT
 * Unit tests for cf_dispatch with a real archive (temp SQLite file), a real
 * publish socket and a fake worker on a DEALER over inproc: credit is never
 * exceeded, a valid result is archived then published, a late lease is
 * dropped, a bad result or a worker error costs an attempt, max_attempts
 * quarantines (article.failed), a job past its deadline is taken back; a worker
 * lost with several jobs out charges none, and each then runs alone. */
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <zmq.h>

#include "cf_archive.h"
#include "cf_clock.h"
#include "cf_dispatch.h"
#include "cf_msg.h"
#include "cf_publish.h"
#include "cf_test.h"
#include "cf_text.h"

typedef struct env {
    char dir[64];
    struct event_base *base;
    void *zctx;
    cf_archive_t *archive;
    cf_publish_t *publish;
    cf_dispatch_t *dispatch;
    void *worker;  /* the fake worker's DEALER */
    void *sub;     /* a subscriber to everything published */
    int inserted;
} env_t;

static void
spin(env_t *e, int ms)
{
    uint64_t end = cf_clock_ms() + (uint64_t)ms;
    while (cf_clock_ms() < end) {
        event_base_loop(e->base, EVLOOP_NONBLOCK);
        usleep(1000);
    }
}

/* Runs the loop until the dispatcher has no archive request out (a done, a fail, a
 * claim) twice in a row 5 ms apart, or 10 s pass: what it does with an answer has then
 * happened, however slow the disk (a fixed spin is not enough on a loaded machine). */
static void
settle(env_t *e)
{
    int quiet = 0;
    for (int i = 0; i < 2000 && quiet < 2; i++) {
        spin(e, 5);
        quiet = cf_dispatch_pending(e->dispatch) == 0 ? quiet + 1 : 0;
    }
}

static void
inserted_cb(cf_archive_req_t *req, void *arg)
{
    env_t *e = arg;
    CF_CHECK_INT(req->rc, CF_OK);
    e->inserted++;
    cf_article_clear(req->u.insert.article);
    free(req->u.insert.article);
    free(req);
}

static void
insert(env_t *e, const char *url, const char *body)
{
    cf_article_t *a = cf_calloc(1, sizeof *a);
    a->url = cf_strdup(url);
    a->title = cf_strdup("t");
    a->body = cf_strdup(body);
    a->body_len = strlen(body);
    cf_archive_req_t *r = cf_calloc(1, sizeof *r);
    r->kind = CF_ARCHIVE_INSERT;
    r->cb = inserted_cb;
    r->arg = e;
    r->u.insert.article = a;
    int before = e->inserted;
    CF_CHECK_INT(cf_archive_submit(e->archive, r), CF_OK);
    for (int i = 0; i < 2000 && e->inserted == before; i++)
        spin(e, 1);
    cf_dispatch_kick(e->dispatch);
}

/* n articles, https://example.test/<name>-<i>, each with the same short body. */
static void
insert_n(env_t *e, const char *name, int n)
{
    for (int i = 0; i < n; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.test/%s-%d", name, i);
        insert(e, url, "Nimbus opened a data center.");
    }
}

static void
setup(env_t *e, unsigned max_attempts, unsigned deadline)
{
    memset(e, 0, sizeof *e);
    evthread_use_pthreads(); /* the archive's writer thread wakes the loop */
    snprintf(e->dir, sizeof e->dir, "/tmp/cf-test-dispatch-XXXXXX");
    CF_CHECK(mkdtemp(e->dir) != NULL);
    e->base = event_base_new();
    cf_err_t err;
    e->archive = cf_archive_open(e->dir, e->base, NULL, &err);
    CF_CHECK(e->archive != NULL);
    e->zctx = zmq_ctx_new();
    e->publish = cf_publish_new(e->base, e->zctx, "inproc://pub", NULL, &err);
    CF_CHECK(e->publish != NULL);
    cf_dispatch_opts_t o = {max_attempts, deadline};
    e->dispatch = cf_dispatch_new(e->base, e->zctx, "inproc://workers", e->archive, e->publish,
                                  &o, &err);
    CF_CHECK(e->dispatch != NULL);
    e->sub = zmq_socket(e->zctx, ZMQ_SUB);
    zmq_setsockopt(e->sub, ZMQ_SUBSCRIBE, "", 0);
    zmq_connect(e->sub, "inproc://pub");
    e->worker = zmq_socket(e->zctx, ZMQ_DEALER);
    zmq_connect(e->worker, "inproc://workers");
    int linger = 0;
    zmq_setsockopt(e->sub, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(e->worker, ZMQ_LINGER, &linger, sizeof linger);
    spin(e, 20);
}

static void
teardown(env_t *e)
{
    zmq_close(e->worker);
    zmq_close(e->sub);
    /* the daemon's order: the archive's last completions still reach the dispatcher */
    cf_archive_close(&e->archive);
    cf_dispatch_destroy(&e->dispatch);
    cf_publish_destroy(&e->publish);
    zmq_ctx_term(e->zctx);
    event_base_free(e->base);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", e->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", e->dir);
}

static void
send_on(env_t *e, void *sock, msgpack_sbuffer *sb)
{
    zmq_send(sock, sb->data, sb->size, 0);
    msgpack_sbuffer_clear(sb);
    spin(e, 30);
    settle(e); /* a result's done goes through the archive's thread */
}

static void
worker_send(env_t *e, msgpack_sbuffer *sb)
{
    send_on(e, e->worker, sb);
}

/* `ready` from the fake worker on sock, which says its pid is pid. */
static void
ready_on(env_t *e, void *sock, unsigned credit, uint64_t pid)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_ready(&sb, credit, pid);
    send_on(e, sock, &sb);
    msgpack_sbuffer_destroy(&sb);
}

static void
ready(env_t *e, unsigned credit)
{
    ready_on(e, e->worker, credit, 4242);
}

/* Jobs waiting for the fake worker on sock (heartbeats skipped). Returns how many
 * were read. */
static int
take_jobs_on(void *sock, cf_msg_t *jobs, int max)
{
    int n = 0;
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (n < max && zmq_msg_recv(&m, sock, ZMQ_DONTWAIT) >= 0) {
        cf_err_t err;
        cf_msg_t msg;
        CF_CHECK_INT(cf_msg_decode(CF_CHAN_TO_WORKER, zmq_msg_data(&m), zmq_msg_size(&m), &msg,
                                   &err),
                     CF_OK);
        if (msg.op == CF_OP_JOB)
            jobs[n++] = msg;
        else
            cf_msg_clear(&msg);
    }
    zmq_msg_close(&m);
    return n;
}

static int
take_jobs(env_t *e, cf_msg_t *jobs, int max)
{
    return take_jobs_on(e->worker, jobs, max);
}

/* Runs the loop until `want` jobs reached the fake worker on sock (or 10 s pass), and
 * 20 ms more for any job beyond them, and takes them, up to max: a claim goes through
 * the archive's thread, which a loaded machine (ASan, ctest -j2) can hold longer than
 * any fixed spin. Returns how many it took. */
static int
wait_jobs_on(env_t *e, void *sock, cf_msg_t *jobs, int max, int want)
{
    int n = 0;
    for (int i = 0; i < 2000 && n < want; i++) {
        spin(e, 5);
        n += take_jobs_on(sock, jobs + n, max - n);
    }
    spin(e, 20);
    return n + take_jobs_on(sock, jobs + n, max - n);
}

static int
wait_jobs(env_t *e, cf_msg_t *jobs, int max, int want)
{
    return wait_jobs_on(e, e->worker, jobs, max, want);
}

/* A result holding one fact whose evidence is body[start:end] (or a lie), from the
 * fake worker on sock. */
static void
send_result_on(env_t *e, void *sock, const cf_msg_t *job, bool honest)
{
    const cf_article_t *a = &job->u.job.article;
    cf_facts_t facts = {0};
    cf_fact_t *f = cf_facts_push(&facts);
    f->type = cf_strdup("datacenter");
    f->subject = cf_strdup("nimbus");
    f->status = cf_strdup("reported");
    f->confidence = 0.5;
    f->evidence_start = 0;
    f->evidence_end = 6;
    f->evidence = honest ? cf_strndup(a->body, 6) : cf_strdup("absent");
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_result(&sb, job->u.job.job, &facts, NULL);
    send_on(e, sock, &sb);
    msgpack_sbuffer_destroy(&sb);
    cf_facts_clear(&facts);
}

static void
send_result(env_t *e, const cf_msg_t *job, bool honest)
{
    send_result_on(e, e->worker, job, honest);
}

/* A result holding facts (cleared after) for job, from the fake worker. */
static void
send_facts(env_t *e, const cf_msg_t *job, cf_facts_t *facts)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_result(&sb, job->u.job.job, facts, NULL);
    worker_send(e, &sb);
    msgpack_sbuffer_destroy(&sb);
    cf_facts_clear(facts);
}

/* A result with one datacenter fact about subject from the fake worker: its evidence
 * the body's first 6 bytes (evidence_len 0), or evidence_len bytes of 'x' (over
 * 8 KiB: a result the decoder refuses). */
static void
send_one_fact(env_t *e, const cf_msg_t *job, const char *subject, size_t evidence_len)
{
    cf_facts_t facts = {0};
    cf_fact_t *f = cf_facts_push(&facts);
    f->type = cf_strdup("datacenter");
    f->subject = cf_strdup(subject);
    f->status = cf_strdup("reported");
    f->confidence = 0.5;
    if (evidence_len) {
        f->evidence = cf_malloc(evidence_len + 1);
        memset(f->evidence, 'x', evidence_len);
        f->evidence[evidence_len] = '\0';
        f->evidence_end = evidence_len;
    } else {
        f->evidence = cf_strndup(job->u.job.article.body, 6);
        f->evidence_end = 6;
    }
    send_facts(e, job, &facts);
}

/* Topics published so far, concatenated with '\n'. */
static void
topics(env_t *e, char *out, size_t n)
{
    out[0] = '\0';
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, e->sub, ZMQ_DONTWAIT) >= 0) {
        bool more = zmq_msg_more(&m);
        size_t len = strlen(out);
        if (len + zmq_msg_size(&m) + 2 < n) {
            memcpy(out + len, zmq_msg_data(&m), zmq_msg_size(&m));
            out[len + zmq_msg_size(&m)] = '\n';
            out[len + zmq_msg_size(&m) + 1] = '\0';
        }
        if (more) /* skip the body */
            zmq_msg_recv(&m, e->sub, ZMQ_DONTWAIT);
    }
    zmq_msg_close(&m);
}

static void
test_credit_and_results(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "credit", 5);
    ready(&e, 2);
    spin(&e, 50);
    cf_msg_t jobs[8];
    int n = take_jobs(&e, jobs, 8);
    CF_CHECK_INT(n, 2); /* never more than the credit */
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.inflight, 2);
    /* leases are not article ids (and not reused across daemon runs) */
    CF_CHECK(jobs[0].u.job.job != jobs[0].u.job.article.id);
    CF_CHECK(jobs[1].u.job.job != jobs[0].u.job.job);
    /* a result returns one credit: exactly one more job comes */
    send_result(&e, &jobs[0], true);
    cf_msg_t more[8];
    CF_CHECK_INT(wait_jobs(&e, more, 8, 1), 1);
    /* a second result for the same lease is dropped */
    send_result(&e, &jobs[0], true);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.done, 1);
    CF_CHECK_INT(ds.facts, 1);
    char t[4096];
    spin(&e, 20);
    topics(&e, t, sizeof t);
    CF_CHECK(strstr(t, "fact.datacenter.nimbus\n") != NULL);
    CF_CHECK(strstr(t, "article.done\n") != NULL);
    cf_msg_clear(&jobs[0]);
    cf_msg_clear(&jobs[1]);
    cf_msg_clear(&more[0]);
    teardown(&e);
}

static void
test_bad_results_quarantine(void)
{
    env_t e;
    setup(&e, 2, 30);
    insert(&e, "https://example.test/poison", "Nimbus opened a data center.");
    ready(&e, 1);
    for (int attempt = 1; attempt <= 2; attempt++) {
        cf_msg_t jobs[2];
        CF_CHECK_INT(wait_jobs(&e, jobs, 2, 1), 1);
        send_result(&e, &jobs[0], false); /* evidence not in the body */
        cf_msg_clear(&jobs[0]);
    }
    spin(&e, 100);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 2);
    CF_CHECK_INT(ds.quarantined, 1);
    CF_CHECK_INT(ds.done, 0);
    char t[4096];
    topics(&e, t, sizeof t);
    CF_CHECK(strstr(t, "article.failed\n") != NULL);
    CF_CHECK(strstr(t, "fact.") == NULL); /* nothing from a bad result is published */
    cf_msg_t none[2];
    CF_CHECK_INT(take_jobs(&e, none, 2), 0); /* not retried forever */
    teardown(&e);
}

static void
test_worker_error_and_deadline(void)
{
    env_t e;
    setup(&e, 3, 1); /* a one-second job deadline */
    insert(&e, "https://example.test/slow", "Nimbus opened a data center.");
    ready(&e, 1);
    cf_msg_t jobs[2];
    if (wait_jobs(&e, jobs, 2, 1) != 1) {
        CF_CHECK(!"the job reached the worker");
        teardown(&e);
        return;
    }
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_worker_error(&sb, jobs[0].u.job.job, "extractor ran out of patience");
    worker_send(&e, &sb);
    cf_msg_clear(&jobs[0]);
    /* the error cost one attempt; the article comes back and this time we sit on it */
    CF_CHECK_INT(wait_jobs(&e, jobs, 2, 1), 1);
    cf_msg_clear(&jobs[0]);
    spin(&e, 2600); /* past the deadline and a tick */
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 2);
    CF_CHECK_INT(ds.inflight, 0);
    CF_CHECK_INT(ds.workers, 0); /* a hung worker is forgotten */
    /* a fresh ready (the replacement) gets the article again */
    ready(&e, 1);
    if (wait_jobs(&e, jobs, 2, 1) == 1) {
        send_result(&e, &jobs[0], true);
        cf_msg_clear(&jobs[0]);
    } else {
        CF_CHECK(!"the replacement got the article");
    }
    settle(&e);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.done, 1);
    msgpack_sbuffer_destroy(&sb);
    teardown(&e);
}

static void *
dealer(env_t *e)
{
    void *s = zmq_socket(e->zctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_connect(s, "inproc://workers");
    return s;
}

static bool
is_one_of(uint64_t id, const uint64_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        if (ids[i] == id)
            return true;
    return false;
}

/* Answers the one job on sock, which must be a suspect (one of ids), then expects
 * none (the worker ran it alone). */
static void
run_suspect_alone(env_t *e, void *sock, const uint64_t *ids, int n)
{
    cf_msg_t j[4];
    CF_CHECK_INT(take_jobs_on(sock, j, 4), 1);
    CF_CHECK(is_one_of(j[0].u.job.article.id, ids, n));
    send_result_on(e, sock, &j[0], true);
    cf_msg_clear(&j[0]);
    spin(e, 50);
}

static void
test_lost_with_several_jobs(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "shared", 8);
    void *b = dealer(&e), *c = dealer(&e);
    ready_on(&e, b, 2, 5001); /* b: 2 ordinary jobs */
    spin(&e, 50);
    cf_msg_t bj[4], aj[4];
    CF_CHECK_INT(take_jobs_on(b, bj, 4), 2);
    ready_on(&e, e.worker, 3, 5002); /* a: 3 jobs, then it dies */
    CF_CHECK_INT(wait_jobs(&e, aj, 4, 3), 3);
    uint64_t sus[3];
    for (int i = 0; i < 3; i++)
        sus[i] = aj[i].u.job.article.id;
    cf_dispatch_worker_exited(e.dispatch, 5002, SIGABRT); /* killed by signal 6 */
    spin(&e, 100);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 0); /* none of the three is charged */
    CF_CHECK_INT(ds.isolated, 3);
    CF_CHECK_INT(ds.suspects, 3);
    CF_CHECK_INT(ds.workers, 1);
    /* b is held for the suspects: its freed credit gets no ordinary job */
    cf_msg_t none[4];
    send_result_on(&e, b, &bj[0], true);
    spin(&e, 50);
    CF_CHECK_INT(take_jobs_on(b, none, 4), 0);
    /* once idle, it runs a suspect alone, and nothing else while it does */
    send_result_on(&e, b, &bj[1], true);
    spin(&e, 50);
    cf_msg_t sj[4];
    CF_CHECK_INT(take_jobs_on(b, sj, 4), 1);
    CF_CHECK(is_one_of(sj[0].u.job.article.id, sus, 3));
    /* it dies running it alone: that one article, and only it, is charged */
    cf_dispatch_worker_exited(e.dispatch, 5001, SIGABRT);
    spin(&e, 100);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 1);
    CF_CHECK_INT(ds.isolated, 3);
    CF_CHECK_INT(ds.suspects, 3); /* still a suspect: it was not quarantined */
    cf_msg_clear(&sj[0]);
    /* a new worker runs the three suspects one at a time, then ordinary jobs */
    ready_on(&e, c, 2, 5003);
    spin(&e, 50);
    for (int k = 0; k < 3; k++)
        run_suspect_alone(&e, c, sus, 3);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.suspects, 0);
    CF_CHECK_INT(ds.done, 5);
    CF_CHECK_INT(take_jobs_on(c, none, 4), 2); /* full credit again */
    for (int i = 0; i < 2; i++)
        cf_msg_clear(&none[i]);
    for (int i = 0; i < 3; i++)
        cf_msg_clear(&aj[i]);
    cf_msg_clear(&bj[0]);
    cf_msg_clear(&bj[1]);
    zmq_close(b);
    zmq_close(c);
    teardown(&e);
}

/* A worker at credit 2 answers its first job after 1.5 s and its second 1.5 s later,
 * with a 2 s deadline: the second job waited behind the first, and its time counts
 * from the first answer, not from when it was sent. */
static void
test_deadline_from_last_answer(void)
{
    env_t e;
    setup(&e, 3, 2);
    insert(&e, "https://example.test/first", "Nimbus opened a data center.");
    insert(&e, "https://example.test/second", "Nimbus opened two data centers.");
    ready(&e, 2);
    cf_msg_t jobs[4];
    CF_CHECK_INT(wait_jobs(&e, jobs, 4, 2), 2);
    spin(&e, 1500);
    send_result(&e, &jobs[0], true);
    spin(&e, 1500);
    send_result(&e, &jobs[1], true);
    spin(&e, 1200); /* a tick after the answer */
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 0);
    CF_CHECK_INT(ds.done, 2);
    CF_CHECK_INT(ds.workers, 1); /* not taken for hung */
    cf_msg_clear(&jobs[0]);
    cf_msg_clear(&jobs[1]);
    teardown(&e);
}

/* Two busy workers, two suspects: one worker is held for them. When the other one is
 * idle first and takes the suspects, the held one is let go: new articles go to it
 * at once, instead of waiting for it to be idle for a suspect that went elsewhere. */
static void
test_suspect_hand_off(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "hand-off", 7); /* 6 jobs out, 1 waiting */
    void *w[2] = {dealer(&e), dealer(&e)};
    cf_msg_t first[2][4];
    for (int k = 0; k < 2; k++) {
        ready_on(&e, w[k], 2, 6001 + (uint64_t)k);
        spin(&e, 50);
        CF_CHECK_INT(take_jobs_on(w[k], first[k], 4), 2);
    }
    cf_msg_t aj[4];
    ready_on(&e, e.worker, 2, 6003);
    CF_CHECK_INT(wait_jobs(&e, aj, 4, 2), 2);
    uint64_t sus[2] = {aj[0].u.job.article.id, aj[1].u.job.article.id};
    cf_dispatch_worker_exited(e.dispatch, 6003, SIGABRT);
    spin(&e, 100);
    /* one answer each: the held worker gets nothing back, the other the last
     * ordinary article */
    cf_msg_t more[2][4];
    int got[2];
    for (int k = 0; k < 2; k++)
        send_result_on(&e, w[k], &first[k][0], true);
    spin(&e, 50);
    for (int k = 0; k < 2; k++)
        got[k] = take_jobs_on(w[k], more[k], 4);
    CF_CHECK((got[0] == 0 && got[1] == 1) || (got[0] == 1 && got[1] == 0));
    int h = got[0] == 0 ? 0 : 1, o = 1 - h;
    /* the other one empties and takes both suspects, one after the other */
    send_result_on(&e, w[o], &first[o][1], true);
    send_result_on(&e, w[o], &more[o][0], true);
    spin(&e, 50);
    run_suspect_alone(&e, w[o], sus, 2);
    cf_msg_t last[4];
    CF_CHECK_INT(take_jobs_on(w[o], last, 4), 1);
    CF_CHECK(is_one_of(last[0].u.job.article.id, sus, 2));
    /* no suspect waits: the held worker, one job still out, takes new articles */
    insert(&e, "https://example.test/hand-off-new-1", "Nimbus opened a data center.");
    insert(&e, "https://example.test/hand-off-new-2", "Nimbus opened a data center.");
    spin(&e, 50);
    cf_msg_t after[4];
    CF_CHECK_INT(take_jobs_on(w[h], after, 4), 1);
    send_result_on(&e, w[o], &last[0], true);
    send_result_on(&e, w[h], &first[h][1], true);
    send_result_on(&e, w[h], &after[0], true);
    spin(&e, 100);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 0);
    CF_CHECK_INT(ds.suspects, 0);
    for (int k = 0; k < 2; k++)
        for (int i = 0; i < 2; i++)
            cf_msg_clear(&first[k][i]);
    cf_msg_clear(&more[o][0]);
    cf_msg_clear(&last[0]);
    cf_msg_clear(&after[0]);
    cf_msg_clear(&aj[0]);
    cf_msg_clear(&aj[1]);
    for (int k = 0; k < 2; k++) {
        cf_msg_t rest[4];
        int n = take_jobs_on(w[k], rest, 4); /* the last new article, whoever got it */
        for (int i = 0; i < n; i++)
            cf_msg_clear(&rest[i]);
        zmq_close(w[k]);
    }
    teardown(&e);
}

/* A worker whose connection closed is forgotten at the first send that finds it
 * gone, not 3 s later; the job goes to another worker, uncharged. */
static void
test_gone_worker(void)
{
    env_t e;
    setup(&e, 3, 30);
    void *x = dealer(&e), *y = dealer(&e);
    ready_on(&e, x, 2, 7001);
    spin(&e, 50);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.workers, 1);
    zmq_close(x);
    spin(&e, 50);
    insert(&e, "https://example.test/gone", "Nimbus opened a data center.");
    spin(&e, 100);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.workers, 0); /* forgotten at the failed send */
    CF_CHECK_INT(ds.attempts_failed, 0);
    ready_on(&e, y, 1, 7002);
    cf_msg_t jobs[2];
    int got = wait_jobs_on(&e, y, jobs, 2, 1);
    CF_CHECK_INT(got, 1);
    if (got == 1) {
        send_result_on(&e, y, &jobs[0], true);
        cf_msg_clear(&jobs[0]);
    }
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.done, 1);
    zmq_close(y);
    teardown(&e);
}

/* The `error` of the first article.failed published so far, or "" (NUL-terminated,
 * cut to n - 1 bytes). */
static void
failed_error(env_t *e, char *out, size_t n)
{
    out[0] = '\0';
    zmq_msg_t m;
    zmq_msg_init(&m);
    while (zmq_msg_recv(&m, e->sub, ZMQ_DONTWAIT) >= 0) {
        bool failed = zmq_msg_size(&m) == strlen("article.failed") &&
                      memcmp(zmq_msg_data(&m), "article.failed", zmq_msg_size(&m)) == 0;
        if (!zmq_msg_more(&m) || zmq_msg_recv(&m, e->sub, ZMQ_DONTWAIT) < 0 || !failed || out[0])
            continue;
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        CF_CHECK(msgpack_unpack_next(&up, zmq_msg_data(&m), zmq_msg_size(&m), NULL) ==
                 MSGPACK_UNPACK_SUCCESS);
        const msgpack_object *o = &up.data;
        for (uint32_t i = 0; o->type == MSGPACK_OBJECT_MAP && i < o->via.map.size; i++) {
            const msgpack_object_kv *kv = &o->via.map.ptr[i];
            if (kv->key.type == MSGPACK_OBJECT_STR && kv->key.via.str.size == 5 &&
                memcmp(kv->key.via.str.ptr, "error", 5) == 0 &&
                kv->val.type == MSGPACK_OBJECT_STR) {
                size_t len = kv->val.via.str.size < n - 1 ? kv->val.via.str.size : n - 1;
                memcpy(out, kv->val.via.str.ptr, len);
                out[len] = '\0';
            }
        }
        msgpack_unpacked_destroy(&up);
    }
    zmq_msg_close(&m);
}

/* A dispatcher with max_attempts, one article (at url) and one worker of credit 1
 * holding its job, in *job. */
static void
setup_one_job(env_t *e, unsigned max_attempts, const char *url, cf_msg_t *job)
{
    setup(e, max_attempts, 30);
    insert(e, url, "Nimbus opened a data center.");
    ready(e, 1);
    settle(e);
    CF_CHECK_INT(take_jobs(e, job, 1), 1);
}

/* A result the decoder refuses but whose lease it read (a fact's evidence over
 * 8 KiB) ends that attempt at once, as SPEC.md 6.4 says, instead of waiting for the
 * deadline; a worker error longer than the error field, in two-byte characters, is
 * cut, and the half character at the cut becomes '?': what is published is valid
 * UTF-8. */
static void
test_refused_result_and_long_error(void)
{
    env_t e;
    cf_msg_t jobs[2];
    setup_one_job(&e, 2, "https://example.test/refused", jobs);
    send_one_fact(&e, &jobs[0], "nimbus", 9000);
    cf_msg_clear(&jobs[0]);
    settle(&e);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 1); /* now, not at the 30 s deadline */
    CF_CHECK_INT(ds.bad_messages, 1);
    /* the credit came back: the article is offered again at once */
    CF_CHECK_INT(ds.inflight, 1);
    CF_CHECK_INT(take_jobs(&e, jobs, 2), 1);
    char text[CF_MAX_ERROR_TEXT];
    size_t k = 0;
    while (k + 2 < sizeof text - 1) {
        memcpy(text + k, "\xc3\xa9", 2); /* U+00E9 */
        k += 2;
    }
    text[k] = '\0';
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_worker_error(&sb, jobs[0].u.job.job, text);
    worker_send(&e, &sb);
    cf_msg_clear(&jobs[0]);
    settle(&e);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.quarantined, 1);
    char why[1024];
    failed_error(&e, why, sizeof why);
    CF_CHECK(strncmp(why, "worker error: \xc3\xa9\xc3\xa9", 18) == 0);
    CF_CHECK(strlen(why) > 100);
    CF_CHECK(cf_utf8_valid(why, strlen(why)));
    msgpack_sbuffer_destroy(&sb);
    teardown(&e);
}

/* A `ready` that lowers a worker's credit below the jobs it already holds leaves
 * it no free credit: the dispatcher does not claim the whole queue for it. */
static void
test_credit_lowered(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "lowered", 300);
    ready(&e, 4);
    settle(&e);
    cf_msg_t jobs[8];
    int n = take_jobs(&e, jobs, 8);
    CF_CHECK_INT(n, 4);
    ready(&e, 1);
    cf_dispatch_kick(e.dispatch);
    settle(&e);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.inflight, 4);
    CF_CHECK(ds.prefetched <= 40); /* 8 per credit, not the 296 still queued */
    cf_msg_t none[2];
    CF_CHECK_INT(take_jobs(&e, none, 2), 0);
    for (int i = 0; i < n; i++)
        cf_msg_clear(&jobs[i]);
    teardown(&e);
}

/* A fact is published under "fact.<type>.<subject>" with the subject whole, however
 * long (SPEC.md 7: subscribers filter on it): 600 bytes here, over the 511 the topic
 * buffer once held. */
static void
test_long_subject_topic(void)
{
    env_t e;
    cf_msg_t jobs[2];
    setup_one_job(&e, 3, "https://example.test/long-subject", jobs);
    char subject[601];
    memset(subject, 'q', 600);
    subject[600] = '\0';
    send_one_fact(&e, &jobs[0], subject, 0);
    settle(&e);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.done, 1);
    char want[700];
    snprintf(want, sizeof want, "fact.datacenter.%s\n", subject);
    char t[4096];
    topics(&e, t, sizeof t);
    CF_CHECK(strstr(t, want) != NULL);
    cf_msg_clear(&jobs[0]);
    teardown(&e);
}

/* A worker that exits with status 0 chose to stop (SIGTERM from outside: it finishes
 * its job and exits): the job it had out goes back uncharged; one that exits with a
 * failure status is charged. */
static void
test_clean_exit_uncharged(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert(&e, "https://example.test/clean-exit", "Nimbus opened a data center.");
    void *x = dealer(&e), *y = dealer(&e);
    ready_on(&e, x, 1, 8001);
    settle(&e);
    cf_msg_t jobs[2];
    CF_CHECK_INT(take_jobs_on(x, jobs, 2), 1);
    cf_msg_clear(&jobs[0]);
    cf_dispatch_worker_exited(e.dispatch, 8001, 0); /* exit(0) */
    zmq_close(x);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 0);
    CF_CHECK_INT(ds.suspects, 0);
    ready_on(&e, y, 1, 8002);
    settle(&e);
    CF_CHECK_INT(take_jobs_on(y, jobs, 2), 1); /* the article again */
    cf_msg_clear(&jobs[0]);
    cf_dispatch_worker_exited(e.dispatch, 8002, 1 << 8); /* exit(1) */
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.attempts_failed, 1);
    zmq_close(y);
    teardown(&e);
}

/* A worker that answers a long job with a result the decoder refuses was heard from:
 * the next tick does not forget it as silent (workers send no heartbeat during a job). */
static void
test_refused_result_is_heard(void)
{
    env_t e;
    cf_msg_t jobs[2];
    setup_one_job(&e, 1, "https://example.test/slow-refused", jobs); /* idle once it fails */
    spin(&e, 3300); /* longer than an idle worker may stay silent */
    send_one_fact(&e, &jobs[0], "nimbus", 9000); /* over 8 KiB: the decoder refuses it */
    settle(&e);
    spin(&e, 1200); /* a tick */
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.quarantined, 1);
    CF_CHECK_INT(ds.inflight, 0);
    CF_CHECK_INT(ds.workers, 1);
    cf_msg_clear(&jobs[0]);
    teardown(&e);
}

/* A result with one datacenter fact whose detail is 7 KiB: room the archive must find. */
static void
send_big_result(env_t *e, const cf_msg_t *job)
{
    cf_facts_t facts = {0};
    for (int i = 0; i < 6; i++) {
        cf_fact_t *f = cf_facts_push(&facts);
        f->type = cf_strdup("datacenter");
        f->subject = cf_strdup("nimbus");
        f->status = cf_strdup("reported");
        f->detail = cf_malloc(7001);
        memset(f->detail, 'a' + i, 7000);
        f->detail[7000] = '\0';
        f->evidence = cf_strndup(job->u.job.article.body, 6);
        f->evidence_end = 6;
    }
    send_facts(e, job, &facts);
}

/* A done the archive cannot store (the disk full) is kept and sent again every second,
 * counted as pending meanwhile, and stored once there is room; one still waiting when
 * the dispatcher goes is freed with it (ASan's leak check). */
static void
test_retry_after_storage_trouble(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "full", 2);
    ready(&e, 2);
    settle(&e);
    cf_msg_t jobs[2];
    CF_CHECK_INT(take_jobs(&e, jobs, 2), 2);
    CF_CHECK_INT(cf_archive_set_max_pages(e.archive, 1), CF_OK); /* no room left */
    send_big_result(&e, &jobs[0]);
    spin(&e, 300);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.done, 0);
    CF_CHECK_INT(cf_dispatch_pending(e.dispatch), 1); /* kept for another try */
    CF_CHECK_INT(cf_archive_set_max_pages(e.archive, 0), CF_OK);
    for (int i = 0; i < 300 && ds.done == 0; i++) {
        spin(&e, 10);
        cf_dispatch_stats(e.dispatch, &ds);
    }
    CF_CHECK_INT(ds.done, 1);
    settle(&e);
    CF_CHECK_INT(cf_dispatch_pending(e.dispatch), 0);
    /* the second waits for room when the dispatcher goes */
    CF_CHECK_INT(cf_archive_set_max_pages(e.archive, 1), CF_OK);
    send_big_result(&e, &jobs[1]);
    spin(&e, 300);
    CF_CHECK_INT(cf_dispatch_pending(e.dispatch), 1);
    cf_msg_clear(&jobs[0]);
    cf_msg_clear(&jobs[1]);
    teardown(&e);
}

/* The fake worker on the default socket dies (SIGSEGV) on each of n jobs in turn, a
 * fresh one (credit 1) taking its place each time; the articles' ids in order. */
static void
die_on_jobs(env_t *e, int n, uint64_t *ids)
{
    for (int k = 0; k < n; k++) {
        ready(e, 1);
        cf_msg_t j[2];
        CF_CHECK_INT(take_jobs(e, j, 2), 1);
        ids[k] = j[0].u.job.article.id;
        cf_msg_clear(&j[0]);
        cf_dispatch_worker_exited(e->dispatch, 4242, SIGSEGV);
        settle(e);
    }
}

/* Waits (heart-beating, as a worker does) for the jobs that end the breaker's pause;
 * none may come while the stats say the pause is on. Returns how many came. */
static int
wait_out_pause(env_t *e, cf_msg_t *j, int max)
{
    msgpack_sbuffer hb;
    msgpack_sbuffer_init(&hb);
    int got = 0;
    for (int i = 0; i < 40 && got == 0; i++) {
        cf_dispatch_stats_t ds;
        cf_dispatch_stats(e->dispatch, &ds);
        bool paused = ds.breaker_pause > 0;
        cf_msg_pack_op(&hb, "heartbeat", NULL, 0);
        worker_send(e, &hb);
        got = take_jobs(e, j, max);
        if (paused && got) { /* sent in the spin after the check: the pause must be over */
            cf_dispatch_stats(e->dispatch, &ds);
            CF_CHECK_INT(ds.breaker_pause, 0);
        }
        if (!got)
            spin(e, 500);
    }
    msgpack_sbuffer_destroy(&hb);
    return got;
}

/* Workers that die on 8 different articles in a row, with no result between, stop
 * the jobs (the articles are not charged further): nothing goes out during the
 * pause (10 s), then one job at a time whatever the credit; a result ends it. */
static void
test_broken_workers(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "broken", 12);
    uint64_t seen[8];
    die_on_jobs(&e, 7, seen);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.breaker_trips, 0);
    die_on_jobs(&e, 1, seen + 7);
    for (int k = 0; k < 8; k++)
        for (int i = 0; i < k; i++)
            CF_CHECK(seen[i] != seen[k]); /* a different article each time */
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.breaker_trips, 1);
    CF_CHECK_INT(ds.breaker_pause, 10);
    CF_CHECK_INT(ds.attempts_failed, 8);
    CF_CHECK_INT(ds.quarantined, 0);
    /* paused: a worker with credit 4 gets nothing until the pause is over, then one */
    ready(&e, 4);
    cf_msg_t j[4];
    CF_CHECK_INT(wait_out_pause(&e, j, 4), 1);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK(ds.breaker_probing);
    msgpack_sbuffer hb;
    msgpack_sbuffer_init(&hb);
    cf_msg_pack_op(&hb, "heartbeat", NULL, 0);
    worker_send(&e, &hb);
    msgpack_sbuffer_destroy(&hb);
    spin(&e, 1200); /* a tick: still only the one */
    CF_CHECK_INT(take_jobs(&e, j + 1, 3), 0);
    /* its result ends it: the credit fills again */
    send_result(&e, &j[0], true);
    cf_msg_clear(&j[0]);
    settle(&e);
    spin(&e, 100);
    CF_CHECK_INT(take_jobs(&e, j, 4), 4);
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK(!ds.breaker_probing);
    CF_CHECK_INT(ds.breaker_trips, 1);
    for (int i = 0; i < 4; i++)
        cf_msg_clear(&j[i]);
    teardown(&e);
}

/* Three poison articles, retried in turn (A B C A B C ...), are three articles, not
 * nine: they reach quarantine as before and the breaker stays closed. */
static void
test_poison_in_turn_not_broken(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "poison", 3);
    uint64_t ids[9];
    die_on_jobs(&e, 9, ids);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.breaker_trips, 0);
    CF_CHECK_INT(ds.quarantined, 3);
    teardown(&e);
}

/* A reload (the operator fixed the workers) ends the pause at once: one job goes out
 * without waiting for the 10 s. */
static void
test_reload_ends_pause(void)
{
    env_t e;
    setup(&e, 3, 30);
    insert_n(&e, "fixed", 10);
    uint64_t ids[8];
    die_on_jobs(&e, 8, ids);
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.breaker_pause, 10);
    ready(&e, 4);
    cf_msg_t j[4];
    CF_CHECK_INT(take_jobs(&e, j, 4), 0);
    cf_dispatch_reload(e.dispatch);
    spin(&e, 50);
    CF_CHECK_INT(take_jobs(&e, j, 4), 1); /* the reload message is not a job */
    cf_dispatch_stats(e.dispatch, &ds);
    CF_CHECK_INT(ds.breaker_pause, 0);
    CF_CHECK(ds.breaker_probing);
    cf_msg_clear(&j[0]);
    teardown(&e);
}

CF_TEST_LIST(CF_TEST(test_credit_and_results), CF_TEST(test_bad_results_quarantine),
             CF_TEST(test_worker_error_and_deadline), CF_TEST(test_lost_with_several_jobs),
             CF_TEST(test_deadline_from_last_answer), CF_TEST(test_suspect_hand_off),
             CF_TEST(test_gone_worker), CF_TEST(test_refused_result_and_long_error),
             CF_TEST(test_credit_lowered), CF_TEST(test_long_subject_topic),
             CF_TEST(test_clean_exit_uncharged), CF_TEST(test_refused_result_is_heard),
             CF_TEST(test_retry_after_storage_trouble), CF_TEST(test_broken_workers),
             CF_TEST(test_poison_in_turn_not_broken), CF_TEST(test_reload_ends_pause))
