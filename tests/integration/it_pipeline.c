/* SPDX-License-Identifier: MIT
 * it_pipeline: the whole path with every part real. The built cloudfactd with
 * two real workers on free ports and a temporary state directory; a subscriber;
 * the shared corpus pushed; then: every article accepted, a second push all
 * duplicates with the same ids, the facts the subscriber got exactly the facts in
 * the SQLite file, malformed messages answered `invalid` while the daemon goes on
 * serving, a killed worker replaced, SIGTERM a clean exit 0. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>
#include <sqlite3.h>
#include <zmq.h>

#include "cf_client.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

/* Facts received live, kept as (seq -> a canonical text line) for comparison. */
typedef struct seen {
    char **lines; /* indexed by seq */
    size_t cap;
    size_t count;
} seen_t;

static char *
fact_line(uint64_t seq, uint64_t article, const char *type, const char *subject,
          const char *object, bool has_value, double value, const char *unit, const char *period,
          const char *place, const char *detail, const char *status, const char *source,
          const char *evidence, uint64_t es, uint64_t ee)
{
    char *s = NULL;
    char val[64] = "nil";
    if (has_value)
        snprintf(val, sizeof val, "%.6f", value);
#define N(x) ((x) ? (x) : "nil")
    if (asprintf(&s, "%llu|%llu|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%s|%llu|%llu",
                 (unsigned long long)seq, (unsigned long long)article, N(type), N(subject),
                 N(object), val, N(unit), N(period), N(place), N(detail), N(status), N(source),
                 N(evidence), (unsigned long long)es, (unsigned long long)ee) < 0)
        it_fail("asprintf");
#undef N
    return s;
}

static void
seen_add(seen_t *s, const cf_fact_t *f)
{
    if (f->seq >= s->cap) {
        size_t cap = (f->seq + 1) * 2;
        s->lines = realloc(s->lines, cap * sizeof *s->lines);
        memset(s->lines + s->cap, 0, (cap - s->cap) * sizeof *s->lines);
        s->cap = cap;
    }
    CHECK(s->lines[f->seq] == NULL, "fact seq %llu published twice",
          (unsigned long long)f->seq);
    s->lines[f->seq] = fact_line(f->seq, f->article, f->type, f->subject, f->object,
                                 f->has_value, f->value, f->unit, f->period, f->place, f->detail,
                                 f->status, f->source, f->evidence, f->evidence_start,
                                 f->evidence_end);
    s->count++;
}

static const char *
col(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

/* Every archived fact must equal the one received with its seq, and vice versa. */
static void
compare_with_archive(const it_daemon_t *d, const seen_t *seen)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open_v2(d->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open db");
    const char *sql = "SELECT seq, article, type, subject, object, value, unit, period, place, "
                      "detail, status, source, evidence, evidence_start, evidence_end "
                      "FROM facts ORDER BY seq";
    CHECK(sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK, "prepare: %s",
          sqlite3_errmsg(db));
    size_t rows = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(st, 0);
        bool has_value = sqlite3_column_type(st, 5) != SQLITE_NULL;
        char *want = fact_line(seq, (uint64_t)sqlite3_column_int64(st, 1), col(st, 2),
                               col(st, 3), col(st, 4), has_value, sqlite3_column_double(st, 5),
                               col(st, 6), col(st, 7), col(st, 8), col(st, 9), col(st, 10),
                               col(st, 11), col(st, 12), (uint64_t)sqlite3_column_int64(st, 13),
                               (uint64_t)sqlite3_column_int64(st, 14));
        CHECK(seq < seen->cap && seen->lines[seq], "archived fact %llu was never published",
              (unsigned long long)seq);
        CHECK(strcmp(want, seen->lines[seq]) == 0,
              "fact %llu differs:\n archive:   %s\n published: %s", (unsigned long long)seq,
              want, seen->lines[seq]);
        free(want);
        rows++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    CHECK(rows == seen->count, "archive has %zu facts, the subscriber got %zu", rows,
          seen->count);
}

/* Sends one raw body on a DEALER to the ingest socket and returns the decoded reply. */
static void
raw_request(const it_daemon_t *d, const void *body, size_t len, cf_msg_t *reply)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, timeout = 10000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_connect(s, d->ingest);
    zmq_send(s, body, len, 0);
    zmq_msg_t m;
    zmq_msg_init(&m);
    CHECK(zmq_msg_recv(&m, s, 0) >= 0, "no reply to a malformed request (%zu bytes)", len);
    cf_err_t err;
    CHECK(cf_msg_decode(CF_CHAN_INGEST_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), reply, &err) ==
              CF_OK,
          "undecodable reply: %s", err.text);
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
}

static void
expect_invalid(const it_daemon_t *d, const void *body, size_t len, const char *what,
               const char *needle)
{
    cf_msg_t reply;
    raw_request(d, body, len, &reply);
    CHECK(reply.u.reply.rc == CF_EINVAL, "%s: status %s, expected invalid", what,
          cf_msg_status_name(reply.u.reply.rc));
    CHECK(reply.u.reply.error && strstr(reply.u.reply.error, needle),
          "%s: error '%s' does not mention '%s'", what,
          reply.u.reply.error ? reply.u.reply.error : "(none)", needle);
    cf_msg_clear(&reply);
}

static void
malformed_requests(const it_daemon_t *d)
{
    expect_invalid(d, "\xc1\xc1\xc1", 3, "garbage bytes", "malformed");
    expect_invalid(d, "\x93\x01\x02\x03", 4, "an array", "map");
    /* {"op": "article", "title": "t", "body": "b"}: no url */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    msgpack_packer pk;
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 4);
    cf_msg_pack_str(&pk, "op");
    cf_msg_pack_str(&pk, "article");
    cf_msg_pack_str(&pk, "title");
    cf_msg_pack_str(&pk, "t");
    cf_msg_pack_str(&pk, "body");
    cf_msg_pack_str(&pk, "b");
    cf_msg_pack_str(&pk, "ref");
    msgpack_pack_uint32(&pk, 77);
    expect_invalid(d, sb.data, sb.size, "no url", "url");
    msgpack_sbuffer_clear(&sb);
    /* unknown op */
    msgpack_pack_map(&pk, 1);
    cf_msg_pack_str(&pk, "op");
    cf_msg_pack_str(&pk, "launch");
    expect_invalid(d, sb.data, sb.size, "unknown op", "op");
    msgpack_sbuffer_clear(&sb);
    /* a body that is not UTF-8 */
    cf_article_t bad = {0};
    bad.url = "https://example.test/bad-utf8";
    bad.title = "t";
    bad.body = "caf\xe9";
    cf_msg_pack_article(&sb, NULL, 0, &bad);
    expect_invalid(d, sb.data, sb.size, "latin-1 body", "UTF-8");
    msgpack_sbuffer_destroy(&sb);
}

static void
receive_until(cf_sub_t *sub, seen_t *seen, size_t want, int timeout_s)
{
    for (int idle = 0; seen->count < want;) {
        cf_sub_msg_t m;
        cf_err_t err;
        int rc = cf_sub_recv(sub, 1000, &m, &err);
        if (rc == CF_EBUSY) {
            CHECK(++idle < timeout_s, "subscriber got %zu facts, expected %zu", seen->count, want);
            continue;
        }
        CHECK(rc == CF_OK, "subscriber: %s", err.text);
        if (m.is_fact)
            seen_add(seen, &m.fact);
    }
}

/* Waits for a sys.heartbeat so the subscription is known to be live (no slow joiner). */
static void
wait_heartbeat(cf_sub_t *sub)
{
    for (int i = 0; i < 10; i++) {
        cf_sub_msg_t m;
        cf_err_t err;
        if (cf_sub_recv(sub, 1500, &m, &err) == CF_OK && strcmp(m.topic, "sys.heartbeat") == 0)
            return;
    }
    it_fail("no sys.heartbeat within 15 s");
}

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    it_daemon_start(&d, 2, NULL);

    const char *prefixes[] = {"fact.", "sys.heartbeat"};
    cf_err_t err;
    cf_sub_t *sub = cf_sub_new(d.publish, NULL, prefixes, 2, &err);
    CHECK(sub, "sub: %s", err.text);
    wait_heartbeat(sub);

    /* 1. every corpus article accepted */
    cf_article_t *arts;
    char **names;
    size_t n = it_load_corpus("corpus/articles", &arts, &names);
    int *status = calloc(n, sizeof *status);
    uint64_t *ids = calloc(n, sizeof *ids), *ids2 = calloc(n, sizeof *ids2);
    it_push(&d, arts, n, status, ids);
    for (size_t i = 0; i < n; i++)
        CHECK(status[i] == CF_OK && ids[i] > 0, "%s: status %s", names[i],
              cf_msg_status_name(status[i]));
    printf("ok   %zu corpus articles accepted\n", n);

    /* 2. processed, archived and published: the subscriber has exactly the archive */
    it_wait_stat(&d, "cloudfact_articles_done", n, 120);
    int64_t nfacts = it_sql_int(&d, "SELECT count(*) FROM facts");
    CHECK(nfacts > 0, "the extractor found no facts in the corpus");
    seen_t seen = {0};
    receive_until(sub, &seen, (size_t)nfacts, 15);
    compare_with_archive(&d, &seen);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'done'") == (int64_t)n,
          "not every article is done in the archive");
    printf("ok   %lld facts published, identical to the archive\n", (long long)nfacts);
    CHECK(it_stat(&d, "cloudfact_publish_overflows_total") == 0,
          "a subscriber whose queue never filled was counted as overflowing (%llu)",
          (unsigned long long)it_stat(&d, "cloudfact_publish_overflows_total"));

    /* the metrics count the same: facts by type, one latency sample per article */
    for (int t = 0; t < CF_FACT_TYPES; t++) {
        char name[128], sql[200];
        snprintf(name, sizeof name, "cloudfact_facts_total{type=\"%s\"}", cf_fact_type_name(t));
        snprintf(sql, sizeof sql, "SELECT count(*) FROM facts WHERE type = '%s'",
                 cf_fact_type_name(t));
        CHECK((int64_t)it_stat(&d, name) == it_sql_int(&d, sql), "%s is %llu, the archive has %lld",
              name, (unsigned long long)it_stat(&d, name), (long long)it_sql_int(&d, sql));
    }
    CHECK(it_stat(&d, "cloudfact_publish_latency_seconds_count") == n,
          "latency observed for %llu articles, expected %zu",
          (unsigned long long)it_stat(&d, "cloudfact_publish_latency_seconds_count"), n);
    printf("ok   metrics: facts by type match the archive; one latency sample per article\n");

    /* 3. pushing them again: duplicates, with the ids of the first push */
    it_push(&d, arts, n, status, ids2);
    for (size_t i = 0; i < n; i++)
        CHECK(status[i] == CF_EDUP && ids2[i] == ids[i], "%s: second push gave %s (id %llu)",
              names[i], cf_msg_status_name(status[i]), (unsigned long long)ids2[i]);
    printf("ok   a second push: all duplicates with the same ids\n");

    /* 4. malformed messages get `invalid`, and the daemon goes on serving */
    malformed_requests(&d);
    cf_article_t fresh = {0};
    fresh.url = "https://example.test/after-garbage";
    fresh.title = "Nimbus adds a region";
    fresh.body = "Nimbus Cloud said on Monday it will open two data centers in Norway.";
    fresh.body_len = strlen(fresh.body);
    int st1;
    uint64_t id1;
    it_push(&d, &fresh, 1, &st1, &id1);
    CHECK(st1 == CF_OK, "a valid article after the garbage: %s", cf_msg_status_name(st1));
    it_wait_stat(&d, "cloudfact_articles_done", n + 1, 60);
    printf("ok   malformed requests answered invalid; the daemon goes on\n");

    /* 5. a worker killed with SIGKILL is replaced */
    int64_t before = (int64_t)it_stat(&d, "cloudfact_workers_restarted_total");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "pkill -KILL -P %d -f cloudfact-worker", (int)d.pid);
    CHECK(system(cmd) == 0, "no worker process to kill");
    it_wait_stat(&d, "cloudfact_workers_restarted_total", (uint64_t)before + 1, 30);
    it_wait_stat(&d, "cloudfact_workers_ready", 2, 30);
    printf("ok   a killed worker was replaced\n");

    /* 6. SIGTERM: a clean exit 0, and an intact archive */
    cf_sub_destroy(&sub);
    int ws = it_daemon_stop(&d, SIGTERM, 30);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit status 0x%x after SIGTERM",
          ws);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state <> 'done'") == 0,
          "articles left unfinished after SIGTERM");
    printf("ok   SIGTERM: exit 0\n");

    for (size_t i = 0; i < seen.cap; i++)
        free(seen.lines[i]);
    free(seen.lines);
    for (size_t i = 0; i < n; i++) {
        cf_article_clear(&arts[i]);
        free(names[i]);
    }
    free(arts);
    free(names);
    free(status);
    free(ids);
    free(ids2);
    it_daemon_cleanup(&d);
    printf("it_pipeline: all checks passed\n");
    return 0;
}
