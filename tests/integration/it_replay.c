/* SPDX-License-Identifier: MIT
 * it_replay: the query socket's streams against the real daemon and a large
 * archive (300,000 facts, CF_TEST_SCALE scales it, written straight into the
 * file while the daemon is stopped). A full replay arrives complete, in seq order,
 * with end {last, head}; prefixes, limits and `facts` filters give exactly what
 * SQL gives; a client that stops reading pauses its stream (counters: the cursor
 * never holds more than one page, nothing piles up in the daemon's out-queue, its
 * memory stays flat) while ingest and other streams go on; a client that leaves
 * ends its stream; several streams at once all complete; errors end with `end`
 * carrying `error`. Nothing here times anything. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>
#include <sqlite3.h>
#include <zmq.h>

#include "cf_archive.h"
#include "cf_client.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

static const char *const types[] = {"market_share", "revenue", "datacenter", "customers",
                                    "partnership"};
static const char *const subjects[] = {"aws", "azure", "google-cloud", "hp",
                                       "hpe", "ibm",   "oracle"};

/* n facts (seq 1..n on a fresh archive) over 10 done articles, a block of seqs each as
 * the daemon writes them, with the span tables it keeps beside them. */
static void
fill(const it_daemon_t *d, size_t n)
{
    sqlite3 *db;
    CHECK(sqlite3_open(d->db, &db) == SQLITE_OK, "open %s", d->db);
    sqlite3_busy_timeout(db, 5000);
    CHECK(sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK, "begin");
    for (int a = 1; a <= 10; a++) {
        char sql[300];
        snprintf(sql, sizeof sql,
                 "INSERT INTO articles(id, url, title, body, state, received_at, done_at)"
                 " VALUES(%d, 'https://replay.test/%d', 'Cloud %s', 'A body about %s.',"
                 " 'done', '2015-01-01T00:00:00Z', '2015-01-01T00:00:01Z')",
                 a, a, a % 2 ? "Frankfurt" : "Sydney", a % 2 ? "Frankfurt" : "Sydney");
        CHECK(sqlite3_exec(db, sql, NULL, NULL, NULL) == SQLITE_OK, "%s", sqlite3_errmsg(db));
    }
    CHECK(sqlite3_exec(db, "INSERT INTO article_fts(article_fts) VALUES('rebuild')", NULL, NULL,
                       NULL) == SQLITE_OK,
          "fts rebuild");
    sqlite3_stmt *s;
    CHECK(sqlite3_prepare_v2(db,
                             "INSERT INTO facts(article, type, subject, value, unit, period,"
                             " period_start, period_end, status, confidence, evidence,"
                             " evidence_start, evidence_end) VALUES(?1, ?2, ?3, ?4, 'percent',"
                             " '2014', '2014-01-01', '2014-12-31', ?5, 0.9, ?6, 0, ?7)",
                             -1, &s, NULL) == SQLITE_OK,
          "prepare: %s", sqlite3_errmsg(db));
    for (size_t i = 0; i < n; i++) {
        char ev[200];
        int len = snprintf(ev, sizeof ev,
                           "Fact number %zu of the replay test says %s holds %zu percent of "
                           "the market in 2014.",
                           i + 1, subjects[i % 7], i % 50);
        sqlite3_bind_int(s, 1, (int)(i * 10 / n) + 1);
        sqlite3_bind_text(s, 2, types[i % 5], -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, subjects[i % 7], -1, SQLITE_STATIC);
        sqlite3_bind_double(s, 4, (double)(i % 50));
        sqlite3_bind_text(s, 5, i % 3 ? "reported" : "rumored", -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, ev, len, SQLITE_TRANSIENT);
        sqlite3_bind_int(s, 7, len);
        CHECK(sqlite3_step(s) == SQLITE_DONE, "insert: %s", sqlite3_errmsg(db));
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    CHECK(sqlite3_exec(db, CF_ARCHIVE_SPANS_SQL, NULL, NULL, NULL) == SQLITE_OK, "spans: %s",
          sqlite3_errmsg(db));
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK, "commit");
    sqlite3_close(db);
}

/* A replay or facts stream read through the public client API. */
typedef struct got {
    uint64_t n;
    uint64_t prev;
    bool ordered;
} got_t;

static int
count_fact(void *arg, const cf_fact_t *f)
{
    got_t *g = arg;
    if (f->seq <= g->prev || !f->type || !f->evidence)
        g->ordered = false;
    g->prev = f->seq;
    g->n++;
    return 0;
}

static uint64_t
replay_count(const it_daemon_t *d, uint64_t since, const char *const *p, size_t np, uint64_t limit,
             bool has_limit, cf_stream_end_t *end)
{
    got_t g = {0, since, true};
    cf_err_t err;
    int rc = cf_replay(d->query, NULL, since, p, np, limit, has_limit, 30000, count_fact, &g, end, &err);
    CHECK(rc == CF_OK, "replay from %llu: %s", (unsigned long long)since, err.text);
    CHECK(g.ordered, "replay from %llu: facts out of seq order", (unsigned long long)since);
    CHECK(end->facts == g.n, "end counted %llu facts, callback %llu",
          (unsigned long long)end->facts, (unsigned long long)g.n);
    return g.n;
}

static uint64_t
facts_count(const it_daemon_t *d, const cf_msg_facts_t *q, cf_stream_end_t *end)
{
    got_t g = {0, q->since, true};
    cf_err_t err;
    int rc = cf_facts_query(d->query, NULL, q, 30000, count_fact, &g, end, &err);
    CHECK(rc == CF_OK, "facts: %s", err.text);
    CHECK(g.ordered, "facts: out of seq order");
    return g.n;
}

static long
rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long kb = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    return kb;
}

/* A raw DEALER: what a plain pyzmq client would do. */
static void *
dealer(void *ctx, const it_daemon_t *d)
{
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    CHECK(zmq_connect(s, d->query) == 0, "connect");
    return s;
}

static void
send_replay(void *s, uint64_t since, uint64_t ref)
{
    msgpack_sbuffer b;
    msgpack_sbuffer_init(&b);
    uint8_t r[9];
    msgpack_sbuffer rb;
    msgpack_sbuffer_init(&rb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &rb, msgpack_sbuffer_write);
    msgpack_pack_uint64(&pk, ref);
    memcpy(r, rb.data, rb.size);
    cf_msg_pack_replay(&b, r, rb.size, since, NULL, 0, 0, false);
    CHECK(zmq_send(s, b.data, b.size, 0) == (int)b.size, "send");
    msgpack_sbuffer_destroy(&rb);
    msgpack_sbuffer_destroy(&b);
}

/* Receives one stream message; returns its op (CF_OP_FACT / CF_OP_END) and seq or last,
 * and an end's error in why ("" when none). */
static uint64_t last_ref; /* the ref of the message recv_msg received last */

static cf_op_t
recv_msg(void *s, uint64_t *seq, int timeout_ms, char *why, size_t whysz)
{
    zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
    CHECK(zmq_poll(&it, 1, timeout_ms) == 1, "no stream message within %d ms", timeout_ms);
    zmq_msg_t m;
    zmq_msg_init(&m);
    CHECK(zmq_msg_recv(&m, s, 0) >= 0, "recv");
    cf_msg_t msg;
    cf_err_t err;
    CHECK(cf_msg_decode(CF_CHAN_QUERY_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), &msg, &err) ==
              CF_OK,
          "decode: %s", err.text);
    zmq_msg_close(&m);
    cf_op_t op = msg.op;
    *seq = op == CF_OP_FACT ? msg.u.fact.fact.seq : op == CF_OP_END ? msg.u.end.last : 0;
    snprintf(why, whysz, "%s", op == CF_OP_END && msg.u.end.error ? msg.u.end.error : "");
    msgpack_unpacked ur; /* refs here are the uints send_replay packs */
    msgpack_unpacked_init(&ur);
    last_ref = msgpack_unpack_next(&ur, (const char *)msg.ref, msg.ref_len, NULL) ==
                           MSGPACK_UNPACK_SUCCESS &&
                       ur.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER
                   ? ur.data.via.u64
                   : UINT64_MAX;
    msgpack_unpacked_destroy(&ur);
    cf_msg_clear(&msg);
    return op;
}

/* recv_msg for a stream that must not end with an error. */
static cf_op_t
recv_one(void *s, uint64_t *seq, int timeout_ms)
{
    char why[CF_ERR_TEXT_MAX];
    cf_op_t op = recv_msg(s, seq, timeout_ms, why, sizeof why);
    if (why[0])
        it_fail("stream ended with error: %s", why);
    return op;
}

int
main(void)
{
    double scale = it_scale();
    size_t n = (size_t)(300000 * scale);
    printf("%zu facts\n", n);
    it_daemon_t d;
    it_daemon_init(&d);
    const char *extra[] = {"--log-level", "info", NULL};
    it_daemon_start(&d, 0, extra);
    int ws = it_daemon_stop(&d, SIGTERM, 30);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "first stop 0x%x", ws);
    /* while it is down (the fill takes seconds), no other test takes its port: the
     * restart binds the same one (CI once lost this race to a parallel test) */
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((uint16_t)atoi(strrchr(d.ingest, ':') + 1));
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(probe >= 0 && bind(probe, (struct sockaddr *)&sa, sizeof sa) != 0 && errno == EADDRINUSE,
          "the stopped daemon's port %s could be taken", d.ingest);
    close(probe);
    fill(&d, n);
    it_daemon_start(&d, 0, extra);
    CHECK(it_stat(&d, "cloudfact_last_seq") == n, "the daemon sees head %llu",
          (unsigned long long)it_stat(&d, "cloudfact_last_seq"));

    /* (1) everything, in order, once; end {last, head} */
    cf_stream_end_t end;
    uint64_t got = replay_count(&d, 0, NULL, 0, 0, false, &end);
    CHECK(got == n && end.last == n && end.head == n && end.ended,
          "full replay: %llu facts, last %llu, head %llu", (unsigned long long)got,
          (unsigned long long)end.last, (unsigned long long)end.head);
    CHECK(it_stat(&d, "cloudfact_query_stream_page_max") <= 512, "a cursor held more than a page");
    printf("ok   full replay: %zu facts in seq order, end {last %llu, head %llu}\n", n,
           (unsigned long long)end.last, (unsigned long long)end.head);

    /* (2) since, limit, prefixes: exactly what SQL says */
    got = replay_count(&d, n - 100, NULL, 0, 0, false, &end);
    CHECK(got == 100 && end.last == n, "since n-100: %llu", (unsigned long long)got);
    got = replay_count(&d, 1000, NULL, 0, 777, true, &end);
    CHECK(got == 777 && end.last == 1777, "limit 777: %llu, last %llu", (unsigned long long)got,
          (unsigned long long)end.last);
    const char *p1[] = {"fact.market_share.hp", "fact.datacenter.aws"}; /* hp also matches hpe */
    got = replay_count(&d, 0, p1, 2, 0, false, &end);
    int64_t want = it_sql_int(&d, "SELECT count(*) FROM facts WHERE (type = 'market_share' AND"
                                  " subject IN ('hp', 'hpe')) OR (type = 'datacenter' AND"
                                  " subject = 'aws')");
    CHECK((int64_t)got == want, "prefixes: %llu facts, SQL says %lld", (unsigned long long)got,
          (long long)want);
    const char *p2[] = {"article.", "sys.heartbeat"};
    got = replay_count(&d, 0, p2, 2, 0, false, &end);
    CHECK(got == 0 && end.last == 0 && end.head == n, "event prefixes gave %llu facts",
          (unsigned long long)got);
    printf("ok   since, limit and prefixes agree with SQL (%lld facts for two prefixes)\n",
           (long long)want);

    /* (3) facts filters */
    cf_msg_facts_t q = {.type = "revenue", .subject = "ibm", .status = "rumored"};
    got = facts_count(&d, &q, &end);
    want = it_sql_int(&d, "SELECT count(*) FROM facts WHERE type = 'revenue' AND subject = 'ibm'"
                          " AND status = 'rumored'");
    CHECK((int64_t)got == want, "facts type/subject/status: %llu, SQL %lld",
          (unsigned long long)got, (long long)want);
    cf_msg_facts_t q2 = {.text = "frankfurt",
                         .period_from = "2014-Q4",
                         .period_to = "2015",
                         .subject = "oracle",
                         .limit = 50,
                         .has_limit = true};
    got = facts_count(&d, &q2, &end);
    want = it_sql_int(&d, "SELECT count(*) FROM (SELECT 1 FROM facts WHERE subject = 'oracle'"
                          " AND article % 2 = 1 LIMIT 50)");
    CHECK((int64_t)got == want, "facts text/period/limit: %llu, SQL %lld", (unsigned long long)got,
          (long long)want);
    cf_msg_facts_t q3 = {.period_from = "2015", .type = "revenue"};
    CHECK(facts_count(&d, &q3, &end) == 0, "no fact of 2014 overlaps 2015");
    cf_msg_facts_t bad = {.text = "\"unbalanced"};
    cf_err_t err;
    int rc = cf_facts_query(d.query, NULL, &bad, 30000, NULL, NULL, &end, &err);
    CHECK(rc == CF_EDB && end.ended && end.error[0], "a bad FTS query: rc %d (%s)", rc, err.text);
    /* each such query costs its client an end {error}, not the log a line: a client
     * decides how many it sends */
    size_t bad_lines = it_log_count(&d, "stream stopped after");
    for (int i = 0; i < 20; i++) {
        rc = cf_facts_query(d.query, NULL, &bad, 30000, NULL, NULL, &end, &err);
        CHECK(rc == CF_EDB && end.error[0], "bad FTS query %d: rc %d", i, rc);
    }
    CHECK(it_log_count(&d, "stream stopped after") <= bad_lines + 1,
          "20 bad text queries wrote %zu log lines",
          it_log_count(&d, "stream stopped after") - bad_lines);
    printf("ok   facts filters agree with SQL; a bad text query ends with end {error: %s}, "
           "and many of them do not flood the log\n",
           end.error);

    /* (4) a client that stops reading: its stream pauses, bounded, while ingest and
     * another stream go on; then it reads everything, in order */
    void *ctx = zmq_ctx_new();
    void *slow = dealer(ctx, &d);
    long rss0 = rss_kb(d.pid);
    uint64_t paused0 = it_stat(&d, "cloudfact_query_stream_paused_total");
    send_replay(slow, 0, 1);
    uint64_t seq, prev = 0;
    for (int i = 0; i < 10; i++) {
        CHECK(recv_one(slow, &seq, 10000) == CF_OP_FACT && seq == prev + 1, "slow: first facts");
        prev = seq;
    }
    it_wait_stat(&d, "cloudfact_query_stream_paused_total", paused0 + 1, 60);
    it_push_one(&d, "https://replay.test/live", "Oracle opened a data center in Madrid.");
    got = replay_count(&d, n - 1000, NULL, 0, 0, false, &end);
    CHECK(got == 1000, "a second stream while the first is paused: %llu", (unsigned long long)got);
    CHECK(it_stat(&d, "cloudfact_query_streams") == 1, "the paused stream is still there");
    CHECK(it_stat(&d, "cloudfact_query_stream_page_max") <= 512, "a cursor held more than a page");
    CHECK(it_stat(&d, "cloudfact_query_replies_dropped_total") == 0,
          "replies to clients that read were dropped");
    long rss1 = rss_kb(d.pid);
    printf("     cloudfactd RSS %ld kB before, %ld kB with a stalled %zu-fact stream\n", rss0, rss1,
           n);
    if (scale >= 1) /* memory bounds only without sanitizers (DESIGN.md Tests) */
        CHECK(rss1 - rss0 < 48 * 1024, "RSS grew by %ld kB for a stalled stream", rss1 - rss0);
    for (;;) {
        cf_op_t op = recv_one(slow, &seq, 10000);
        if (op == CF_OP_END) {
            CHECK(seq == n, "slow: end.last %llu", (unsigned long long)seq);
            break;
        }
        CHECK(op == CF_OP_FACT && seq == prev + 1, "slow: seq %llu after %llu",
              (unsigned long long)seq, (unsigned long long)prev);
        prev = seq;
    }
    CHECK(prev == n, "slow: got up to %llu", (unsigned long long)prev);
    printf("ok   a stalled client pauses its stream (one page held, out-queue empty); ingest "
           "and another stream go on; then all %zu facts arrive in order\n",
           n);

    /* (5) a client that leaves ends its stream */
    uint64_t aborted0 = it_stat(&d, "cloudfact_query_streams_aborted_total");
    void *gone = dealer(ctx, &d);
    send_replay(gone, 0, 2);
    CHECK(recv_one(gone, &seq, 10000) == CF_OP_FACT, "gone: a first fact");
    zmq_close(gone);
    it_wait_stat(&d, "cloudfact_query_streams_aborted_total", aborted0 + 1, 60);
    CHECK(it_stat(&d, "cloudfact_query_streams") == 0, "the stream of a gone client remains");
    printf("ok   a client that disconnects ends its stream\n");

    /* (6) four streams at once, read in turns: all complete and in order */
    enum { K = 4 };
    void *s[K];
    uint64_t last[K] = {0};
    bool done[K] = {false};
    for (int k = 0; k < K; k++) {
        s[k] = dealer(ctx, &d);
        send_replay(s[k], 0, (uint64_t)k + 10);
    }
    int left = K;
    while (left) {
        for (int k = 0; k < K; k++) {
            if (done[k])
                continue;
            for (int i = 0; i < 100 && !done[k]; i++) {
                cf_op_t op = recv_one(s[k], &seq, 10000);
                if (op == CF_OP_END) {
                    CHECK(last[k] == n, "stream %d ended at %llu", k, (unsigned long long)last[k]);
                    done[k] = true;
                    left--;
                } else {
                    CHECK(seq == last[k] + 1, "stream %d: seq %llu after %llu", k,
                          (unsigned long long)seq, (unsigned long long)last[k]);
                    last[k] = seq;
                }
            }
        }
    }
    for (int k = 0; k < K; k++)
        zmq_close(s[k]);
    zmq_close(slow);
    printf("ok   %d concurrent streams complete, each in order\n", K);

    /* (7) one client cannot take every stream: at most 16 of its own at once (its 17th
     * is refused, and its reply dropped, as its pipe is full), while others start */
    uint64_t started0 = it_stat(&d, "cloudfact_query_streams_total");
    uint64_t dropped0 = it_stat(&d, "cloudfact_query_replies_dropped_total");
    char why[CF_ERR_TEXT_MAX];
    uint64_t paused1 = it_stat(&d, "cloudfact_query_stream_paused_total");
    void *hog = dealer(ctx, &d);
    for (uint64_t k = 0; k < 16; k++)
        send_replay(hog, 0, 100 + k);
    it_wait_stat(&d, "cloudfact_query_streams_total", started0 + 16, 60);
    /* its pipe is full from the first pause on: it reads nothing */
    it_wait_stat(&d, "cloudfact_query_stream_paused_total", paused1 + 1, 60);
    send_replay(hog, 0, 116);
    /* its refusal is in its pipe, or was dropped if the pipe was full just then */
    bool refused = false;
    while (!refused && it_stat(&d, "cloudfact_query_replies_dropped_total") == dropped0) {
        for (int i = 0; i < 2000 && !refused; i++) {
            cf_op_t op = recv_msg(hog, &seq, 10000, why, sizeof why);
            CHECK(last_ref == 116 ? op == CF_OP_END : op == CF_OP_FACT,
                  "a 17th stream of one client was started, or one of its 16 ended");
            refused = last_ref == 116;
        }
    }
    CHECK(!refused || strstr(why, "too many streams from this client"), "refused with: %s", why);
    CHECK(it_stat(&d, "cloudfact_query_streams_total") == started0 + 16 &&
              it_stat(&d, "cloudfact_query_streams") == 16,
          "a 17th stream of one client was started");
    got = replay_count(&d, n - 100, NULL, 0, 0, false, &end);
    CHECK(got == 100, "another client's stream beside the 16: %llu", (unsigned long long)got);
    zmq_close(hog);
    it_wait_stat(&d, "cloudfact_query_streams_aborted_total", aborted0 + 1 + 16, 60);
    printf("ok   a client's 17th stream is refused while another client's runs\n");

    /* (8) the command line: cloudfact query (JSON Lines when piped, --table forced) and
     * cloudfact sub --since with --count */
    char cmd[1024], line[4096];
    snprintf(cmd, sizeof cmd,
             "'%s' query --endpoint %s --type revenue --subject ibm --status rumored "
             "--from 2014-Q2 --to 2014-Q2",
             it_bin("cloudfact"), d.query);
    FILE *p = popen(cmd, "r");
    CHECK(p, "popen");
    int64_t lines = 0;
    uint64_t prevseq = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned long long sq;
        CHECK(sscanf(line, "{\"seq\":%llu,", &sq) == 1, "query: not a fact line: %s", line);
        CHECK(sq > prevseq, "query: out of order");
        prevseq = sq;
        lines++;
    }
    CHECK(pclose(p) == 0, "cloudfact query failed");
    want = it_sql_int(&d, "SELECT count(*) FROM facts WHERE type = 'revenue' AND subject = 'ibm'"
                          " AND status = 'rumored'");
    CHECK(lines == want, "cloudfact query printed %lld lines, SQL %lld", (long long)lines,
          (long long)want);
    snprintf(cmd, sizeof cmd, "'%s' query --endpoint %s --subject hpe --limit 3 --table",
             it_bin("cloudfact"), d.query);
    p = popen(cmd, "r");
    lines = 0;
    bool header = false, trailer = false;
    while (fgets(line, sizeof line, p)) {
        header |= lines == 0 && strncmp(line, "SEQ", 3) == 0 && strstr(line, "EVIDENCE");
        trailer |= strcmp(line, "3 fact(s)\n") == 0;
        lines++;
    }
    CHECK(pclose(p) == 0 && header && trailer && lines == 5, "cloudfact query --table: %lld lines",
          (long long)lines);
    snprintf(cmd, sizeof cmd, "'%s' query --endpoint %s --from someday", it_bin("cloudfact"),
             d.query);
    ws = system(cmd);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 2, "a bad --from: exit 0x%x", ws);
    snprintf(cmd, sizeof cmd, "'%s' sub --endpoint %s --query %s --since %zu --count 5 fact.",
             it_bin("cloudfact"), d.publish, d.query, n - 10);
    p = popen(cmd, "r");
    lines = 0;
    while (fgets(line, sizeof line, p)) {
        unsigned long long sq;
        CHECK(sscanf(line, "{\"seq\":%llu,", &sq) == 1 && sq == n - 10 + (size_t)lines + 1,
              "sub --since: %s", line);
        lines++;
    }
    CHECK(pclose(p) == 0 && lines == 5, "cloudfact sub --since --count 5: %lld lines",
          (long long)lines);
    printf("ok   cloudfact query (JSON Lines, --table, a bad period exits 2) and sub --since\n");

    /* (9) a stream cut by shutdown ends with `end {error}`, its last the last fact sent */
    void *cut = dealer(ctx, &d);
    send_replay(cut, 0, 200);
    prev = 0;
    for (int i = 0; i < 10; i++) {
        CHECK(recv_one(cut, &seq, 10000) == CF_OP_FACT && seq == prev + 1, "cut: first facts");
        prev = seq;
    }
    CHECK(kill(d.pid, SIGTERM) == 0, "kill");
    for (;;) {
        cf_op_t op = recv_msg(cut, &seq, 10000, why, sizeof why);
        if (op == CF_OP_END)
            break;
        CHECK(op == CF_OP_FACT && seq == prev + 1, "cut: seq %llu after %llu",
              (unsigned long long)seq, (unsigned long long)prev);
        prev = seq;
    }
    CHECK(strstr(why, "shutting down") && seq == prev && prev < n,
          "cut: end {last %llu, error '%s'} after fact %llu", (unsigned long long)seq, why,
          (unsigned long long)prev);
    zmq_close(cut);
    zmq_ctx_term(ctx);
    ws = it_daemon_stop(&d, SIGTERM, 30);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "exit status 0x%x", ws);
    printf("ok   shutdown ends a stream with end {last %llu, error: %s}\n", (unsigned long long)seq,
           why);
    it_daemon_cleanup(&d);
    printf("it_replay: all checks passed\n");
    return 0;
}
