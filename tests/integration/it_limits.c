/* SPDX-License-Identifier: MIT
 * it_limits: issue 8, points 4 and 5, against the real daemon.
 * (A) Per-client limits, all configurable: --max-frames (an envelope too deep is
 * answered `invalid` naming max_frames, on ingest and query), --max-message-size
 * (a larger frame is dropped with its connection by ZeroMQ: no reply, nothing
 * stored, every other client served; also on the worker endpoint), max_inflight
 * (requests beyond it answered `invalid` at once, nothing of them stored, other
 * clients unaffected) and its change by SIGHUP from the --config file.
 * (B) The archive keeps hostile text verbatim (SQL, format strings, control
 * characters, a 1 MiB line), read back byte for byte from the SQLite file and
 * through the query socket; NUL bytes are refused with a clear `invalid`; the
 * state directory is 0750 and the archive 0640 whatever the umask.
 * (C) With the queue full, an article already archived is still answered
 * `duplicate`; only new ones are busy. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <msgpack.h>
#include <sqlite3.h>
#include <zmq.h>

#include "cf_client.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

extern char **environ;

#define MAX_MSG 65536 /* --max-message-size of the limits daemon (the option's minimum) */

static void *zctx;

/* A socket whose every receive gives up after 10 s, so a missing answer fails the
 * test instead of hanging it; our own side takes frames of any size. */
static void *
sock_new(int type)
{
    void *s = zmq_socket(zctx, type);
    int timeout = 10000, linger = 0;
    int64_t max = -1;
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_MAXMSGSIZE, &max, sizeof max);
    return s;
}

static void
sock_connect(void *s, const char *ep)
{
    CHECK(zmq_connect(s, ep) == 0, "connect %s: %s", ep, zmq_strerror(zmq_errno()));
}

static void *
sock_to(int type, const char *ep)
{
    void *s = sock_new(type);
    sock_connect(s, ep);
    return s;
}

/* Watches s for connects and disconnects (read with wait_event); set up before s
 * connects, so that no event is missed. */
static void *
monitor(void *s, const char *name)
{
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://it-limits-%s", name);
    CHECK(zmq_socket_monitor(s, ep, ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED) == 0,
          "monitor: %s", zmq_strerror(zmq_errno()));
    void *pair = zmq_socket(zctx, ZMQ_PAIR);
    int timeout = 10000, linger = 0;
    zmq_setsockopt(pair, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof linger);
    CHECK(zmq_connect(pair, ep) == 0, "monitor connect");
    return pair;
}

/* Waits (up to 10 s) for the monitor to report event; returns false if it does not. */
static bool
wait_event(void *mon, uint16_t event)
{
    for (;;) {
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (zmq_msg_recv(&m, mon, 0) < 0) {
            zmq_msg_close(&m);
            return false;
        }
        uint16_t ev = 0;
        if (zmq_msg_size(&m) >= 6)
            memcpy(&ev, zmq_msg_data(&m), 2);
        zmq_msg_close(&m);
        zmq_msg_init(&m);
        zmq_msg_recv(&m, mon, 0); /* the endpoint frame */
        zmq_msg_close(&m);
        if (ev == event)
            return true;
    }
}

/* Refs are msgpack unsigned integers. (The daemon re-encodes a ref through msgpack-c,
 * so an integer comes back in its shortest form: the value and type survive, not
 * necessarily the width; compare values.) */
static void
ref_enc(unsigned v, uint8_t out[3])
{
    out[0] = 0xcd; /* uint16 */
    out[1] = (uint8_t)(v >> 8);
    out[2] = (uint8_t)v;
}

static int
ref_dec(const cf_msg_t *r)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    int v = -1;
    if (r->ref_len > 0 &&
        msgpack_unpack_next(&up, (const char *)r->ref, r->ref_len, NULL) ==
            MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_POSITIVE_INTEGER && up.data.via.u64 < 65536)
        v = (int)up.data.via.u64;
    msgpack_unpacked_destroy(&up);
    return v;
}

/* An article request with a body of body_len bytes (a repeated sentence). */
static void
pack_article(msgpack_sbuffer *sb, unsigned ref, const char *url, size_t body_len)
{
    uint8_t r[3];
    ref_enc(ref, r);
    char *body = malloc(body_len + 1);
    for (size_t i = 0; i < body_len; i++)
        body[i] = "IBM opened two data centers in Dallas. "[i % 39];
    body[body_len] = '\0';
    cf_article_t a = {0};
    a.url = (char *)url;
    a.title = "Limits";
    a.body = body;
    a.body_len = body_len;
    cf_msg_pack_article(sb, r, sizeof r, &a);
    free(body);
}

/* An article request whose packed body is exactly size bytes. */
static void
pack_sized(msgpack_sbuffer *sb, unsigned ref, const char *url, size_t size)
{
    size_t guess = size - 200;
    pack_article(sb, ref, url, guess);
    size_t body_len = guess + (size - sb->size); /* str16 header either way: same overhead */
    msgpack_sbuffer_clear(sb);
    pack_article(sb, ref, url, body_len);
    CHECK(sb->size == size, "could not pack %zu bytes (got %zu)", size, sb->size);
}

/* Sends envelope frames (may be none) and then body. */
static void
send_with(void *s, const char *const *env, size_t nenv, const msgpack_sbuffer *sb)
{
    for (size_t i = 0; i < nenv; i++)
        CHECK(zmq_send(s, env[i], strlen(env[i]), ZMQ_SNDMORE) >= 0, "send");
    CHECK(zmq_send(s, sb->data, sb->size, 0) >= 0, "send: %s", zmq_strerror(zmq_errno()));
}

static void
send_article(void *s, unsigned ref, const char *url)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_article(&sb, ref, url, 60);
    send_with(s, NULL, 0, &sb);
    msgpack_sbuffer_destroy(&sb);
}

/* Receives one ingest reply: first the expected envelope frames, byte for byte, then
 * the body, which must be the last frame. */
static void
recv_reply(void *s, const char *const *env, size_t nenv, cf_msg_t *r, const char *what)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    for (size_t i = 0; i < nenv; i++) {
        CHECK(zmq_msg_recv(&m, s, 0) >= 0, "%s: no reply", what);
        CHECK(zmq_msg_more(&m) && zmq_msg_size(&m) == strlen(env[i]) &&
                  memcmp(zmq_msg_data(&m), env[i], strlen(env[i])) == 0,
              "%s: envelope frame %zu not echoed", what, i);
    }
    CHECK(zmq_msg_recv(&m, s, 0) >= 0, "%s: no reply", what);
    CHECK(!zmq_msg_more(&m), "%s: the reply has more frames than the envelope sent", what);
    cf_err_t err;
    CHECK(cf_msg_decode(CF_CHAN_INGEST_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), r, &err) ==
              CF_OK,
          "%s: undecodable reply: %s", what, err.text);
    zmq_msg_close(&m);
}

static void
expect_status(void *s, int rc, const char *needle, const char *what)
{
    cf_msg_t r;
    recv_reply(s, NULL, 0, &r, what);
    CHECK(r.u.reply.rc == rc, "%s: %s (%s), expected %s", what,
          cf_msg_status_name(r.u.reply.rc), r.u.reply.error ? r.u.reply.error : "",
          cf_msg_status_name(rc));
    CHECK(!needle || (r.u.reply.error && strstr(r.u.reply.error, needle)),
          "%s: error '%s' lacks '%s'", what, r.u.reply.error ? r.u.reply.error : "", needle);
    cf_msg_clear(&r);
}

static int64_t
count_url(const it_daemon_t *d, const char *url)
{
    char sql[600];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM articles WHERE url = '%s'", url); /* ours */
    return it_sql_int(d, sql);
}

/* Every request the ingest socket decoded was answered and counted under one status. */
static uint64_t
answered(const it_daemon_t *d)
{
    return it_stat(d, "cloudfact_articles_accepted_total") +
           it_stat(d, "cloudfact_articles_duplicate_total") +
           it_stat(d, "cloudfact_articles_invalid_total") +
           it_stat(d, "cloudfact_articles_busy_total");
}

/* The value of key in a msgpack map, or NULL (borrowed from the unpacked reply). */
static const msgpack_object *
map_get(const msgpack_object *map, const char *key)
{
    if (map->type != MSGPACK_OBJECT_MAP)
        return NULL;
    for (uint32_t i = 0; i < map->via.map.size; i++) {
        const msgpack_object *k = &map->via.map.ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(key) &&
            memcmp(k->via.str.ptr, key, k->via.str.size) == 0)
            return &map->via.map.ptr[i].val;
    }
    return NULL;
}

static bool
str_is(const msgpack_object *o, const char *s)
{
    return o && o->type == MSGPACK_OBJECT_STR && o->via.str.size == strlen(s) &&
           memcmp(o->via.str.ptr, s, o->via.str.size) == 0;
}

/* ---- A: limits ------------------------------------------------------------------ */

static void
write_config(const char *path, int max_inflight)
{
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    CHECK(f, "%s: %s", tmp, strerror(errno));
    fprintf(f, "# it_limits: max_inflight comes from here, so SIGHUP can change it\n"
               "max_inflight = %d\n",
            max_inflight);
    fclose(f);
    CHECK(rename(tmp, path) == 0, "rename %s: %s", tmp, strerror(errno));
}

static void
frames_limit(const it_daemon_t *d)
{
    void *s = sock_to(ZMQ_DEALER, d->ingest);
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);

    /* routing id + 2 envelope frames + body = 4 > max_frames 3: refused as a whole,
     * answered without an envelope (the reply goes to the routing id alone) */
    const char *two[] = {"env-1", "env-2"};
    pack_article(&sb, 1, "https://example.test/f/over", 60);
    send_with(s, two, 2, &sb);
    cf_msg_t r;
    recv_reply(s, NULL, 0, &r, "two envelope frames");
    CHECK(r.u.reply.rc == CF_EINVAL && r.u.reply.error &&
              strstr(r.u.reply.error, "max_frames") && strstr(r.u.reply.error, "at most 3"),
          "two envelope frames: %s '%s', expected invalid naming max_frames (3)",
          cf_msg_status_name(r.u.reply.rc), r.u.reply.error ? r.u.reply.error : "");
    cf_msg_clear(&r);

    /* routing id + 1 envelope frame + body = 3: within the limit; the envelope comes back */
    const char *one[] = {"env-1"};
    msgpack_sbuffer_clear(&sb);
    pack_article(&sb, 2, "https://example.test/f/ok", 60);
    send_with(s, one, 1, &sb);
    recv_reply(s, one, 1, &r, "one envelope frame");
    CHECK(r.u.reply.rc == CF_OK && ref_dec(&r) == 2 && r.u.reply.id > 0,
          "one envelope frame: %s ref %d", cf_msg_status_name(r.u.reply.rc), ref_dec(&r));
    cf_msg_clear(&r);
    CHECK(count_url(d, "https://example.test/f/over") == 0, "the refused request was stored");
    CHECK(count_url(d, "https://example.test/f/ok") == 1, "the accepted request is not stored");
    zmq_close(s);

    /* a REQ client (one empty delimiter frame) is within max_frames 3 */
    void *req = sock_to(ZMQ_REQ, d->ingest);
    msgpack_sbuffer_clear(&sb);
    pack_article(&sb, 3, "https://example.test/f/req", 60);
    send_with(req, NULL, 0, &sb);
    expect_status(req, CF_OK, NULL, "REQ client");
    zmq_close(req);

    /* the query socket has the same limit */
    void *q = sock_to(ZMQ_DEALER, d->query);
    msgpack_sbuffer_clear(&sb);
    cf_msg_pack_op(&sb, "stats", NULL, 0);
    for (size_t nenv = 2; nenv >= 1; nenv--) {
        send_with(q, two, nenv, &sb);
        zmq_msg_t m;
        zmq_msg_init(&m);
        if (nenv == 1) /* the echoed envelope; the refusal has none */
            CHECK(zmq_msg_recv(&m, q, 0) >= 0 && zmq_msg_more(&m), "query: no envelope");
        CHECK(zmq_msg_recv(&m, q, 0) >= 0, "query with %zu envelope frames: no reply", nenv);
        CHECK(!zmq_msg_more(&m), "query with %zu envelope frames: extra frames", nenv);
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        CHECK(msgpack_unpack_next(&up, zmq_msg_data(&m), zmq_msg_size(&m), NULL) ==
                  MSGPACK_UNPACK_SUCCESS,
              "query reply undecodable");
        const msgpack_object *op = map_get(&up.data, "op"), *e = map_get(&up.data, "error");
        if (nenv == 2)
            CHECK(str_is(op, "error") && e && e->type == MSGPACK_OBJECT_STR &&
                      memmem(e->via.str.ptr, e->via.str.size, "max_frames", 10),
                  "query with two envelope frames: not an error naming max_frames");
        else
            CHECK(str_is(op, "stats"), "query with one envelope frame: not answered stats");
        msgpack_unpacked_destroy(&up);
        zmq_msg_close(&m);
    }
    zmq_close(q);
    msgpack_sbuffer_destroy(&sb);
    printf("ok   max_frames 3: two envelope frames answered invalid naming max_frames, "
           "nothing stored; one frame (and REQ) accepted; same on query\n");
}

static void
message_size_limit(it_daemon_t *d)
{
    void *a = sock_new(ZMQ_DEALER);
    void *mon = monitor(a, "a");
    sock_connect(a, d->ingest);
    void *b = sock_to(ZMQ_DEALER, d->ingest); /* a bystander, connected all along */
    CHECK(wait_event(mon, ZMQ_EVENT_CONNECTED), "client a never connected");
    send_article(b, 10, "https://example.test/m/b-before");
    expect_status(b, CF_OK, NULL, "bystander before");

    /* exactly max_message_size bytes: taken (the limit is "larger than") */
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    pack_sized(&sb, 20, "https://example.test/m/at-limit", MAX_MSG);
    send_with(a, NULL, 0, &sb);
    expect_status(a, CF_OK, NULL, "a frame of exactly max_message_size");

    /* one byte more: ZeroMQ reads the frame header, sees the size and drops the
     * connection before the daemon gets a byte of it, so there is no reply to wait
     * for; the disconnect is what we wait on */
    uint64_t before = answered(d);
    msgpack_sbuffer_clear(&sb);
    pack_sized(&sb, 21, "https://example.test/m/over", MAX_MSG + 1);
    send_with(a, NULL, 0, &sb);
    CHECK(wait_event(mon, ZMQ_EVENT_DISCONNECTED),
          "a frame over max_message_size did not drop the connection");

    /* the same client reconnects by itself; the first reply it gets is for its next
     * request: nothing ever answered the oversized one */
    send_article(a, 22, "https://example.test/m/a-after");
    cf_msg_t r;
    recv_reply(a, NULL, 0, &r, "after the drop");
    CHECK(r.u.reply.rc == CF_OK && ref_dec(&r) == 22,
          "after the drop the first reply is %s with ref %d, expected accepted ref 22",
          cf_msg_status_name(r.u.reply.rc), ref_dec(&r));
    cf_msg_clear(&r);
    /* and the bystander is served as before */
    send_article(b, 11, "https://example.test/m/b-after");
    expect_status(b, CF_OK, NULL, "bystander after");
    CHECK(answered(d) == before + 2,
          "the daemon answered %llu requests, expected 2 (the oversized one never reaches it)",
          (unsigned long long)(answered(d) - before));
    CHECK(count_url(d, "https://example.test/m/over") == 0, "the oversized article was stored");
    CHECK(count_url(d, "https://example.test/m/at-limit") == 1,
          "the article at the limit is missing");
    zmq_close(b);
    zmq_socket_monitor(a, NULL, 0);
    zmq_close(mon);
    zmq_close(a);

    /* the worker endpoint has the same limit: a frame of max_message_size reaches the
     * daemon (junk: counted as a bad message), one byte more drops the connection */
    void *w = sock_new(ZMQ_DEALER);
    void *wmon = monitor(w, "w");
    sock_connect(w, d->worker_ep);
    CHECK(wait_event(wmon, ZMQ_EVENT_CONNECTED), "worker: never connected");
    uint64_t bad = it_stat(d, "cloudfact_worker_bad_messages_total");
    char *junk = calloc(1, MAX_MSG + 1);
    memset(junk, 0xc1, MAX_MSG + 1); /* 0xc1 is never msgpack */
    CHECK(zmq_send(w, junk, MAX_MSG, 0) == MAX_MSG, "worker send");
    it_wait_stat(d, "cloudfact_worker_bad_messages_total", bad + 1, 30);
    CHECK(zmq_send(w, junk, MAX_MSG + 1, 0) == MAX_MSG + 1, "worker send");
    CHECK(wait_event(wmon, ZMQ_EVENT_DISCONNECTED),
          "worker endpoint: a frame over max_message_size did not drop the connection");
    CHECK(zmq_send(w, junk, 1, 0) == 1, "worker send"); /* on the new connection */
    it_wait_stat(d, "cloudfact_worker_bad_messages_total", bad + 2, 30);
    CHECK(it_stat(d, "cloudfact_worker_bad_messages_total") == bad + 2,
          "the oversized worker frame reached the daemon");
    free(junk);
    zmq_socket_monitor(w, NULL, 0);
    zmq_close(wmon);
    zmq_close(w);
    msgpack_sbuffer_destroy(&sb);
    printf("ok   max_message_size %d: a frame of that size is taken, one byte more drops the "
           "connection unanswered and unstored (ingest and workers); others served\n",
           MAX_MSG);
}

/* Holds the archive's write lock from outside, so nothing commits and no request is
 * answered by a commit while it is held (as in it_storage). The daemon's writer waits
 * for it (its busy timeout, 5 s, is far longer than we hold it). */
static sqlite3 *
lock_archive(const it_daemon_t *d)
{
    sqlite3 *db;
    CHECK(sqlite3_open(d->db, &db) == SQLITE_OK, "open %s", d->db);
    sqlite3_busy_timeout(db, 10000); /* the daemon's writer may be mid-commit */
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "lock: %s",
          sqlite3_errmsg(db));
    return db;
}

static void
unlock_archive(sqlite3 *db)
{
    sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(db);
}

/* Client a sends cap + extra requests back to back while nothing can commit: the
 * first cap wait for their commit, the other extra are refused at once naming the cap.
 * Client b, with one request, is not affected by a's cap. Then the lock goes and
 * exactly the first cap of a (and b's) are accepted and stored, nothing else. */
static void
inflight_burst(it_daemon_t *d, int round, unsigned cap, unsigned extra)
{
    void *a = sock_to(ZMQ_DEALER, d->ingest);
    void *b = sock_to(ZMQ_DEALER, d->ingest);
    char url[128], needle[96];
    snprintf(needle, sizeof needle, "too many requests in flight: at most %u per client", cap);
    uint64_t pending0 = it_stat(d, "cloudfact_ingest_pending");
    CHECK(pending0 == 0, "requests pending before the burst: %llu",
          (unsigned long long)pending0);
    sqlite3 *db = lock_archive(d);
    for (unsigned i = 0; i < cap + extra; i++) {
        snprintf(url, sizeof url, "https://example.test/i/%d/%u", round, i);
        send_article(a, i, url);
    }
    snprintf(url, sizeof url, "https://example.test/i/%d/b", round);
    send_article(b, 1000, url);

    /* ZeroMQ keeps one connection's order: requests cap.. are the refused ones */
    char *seen = calloc(cap + extra, 1);
    for (unsigned k = 0; k < extra; k++) {
        cf_msg_t r;
        recv_reply(a, NULL, 0, &r, "burst refusal");
        int ref = ref_dec(&r);
        CHECK(r.u.reply.rc == CF_EINVAL && r.u.reply.error && strstr(r.u.reply.error, needle),
              "round %d, reply %u (ref %d): %s '%s', expected invalid '%s'", round, k, ref,
              cf_msg_status_name(r.u.reply.rc), r.u.reply.error ? r.u.reply.error : "", needle);
        CHECK(ref >= (int)cap && ref < (int)(cap + extra) && !seen[ref],
              "round %d: request %d refused, expected only requests %u..%u", round, ref, cap,
              cap + extra - 1);
        seen[ref] = 1;
        cf_msg_clear(&r);
    }
    /* a's cap plus b's one are waiting for the commit: b was not refused for a */
    it_wait_stat(d, "cloudfact_ingest_pending", cap + 1, 30);
    CHECK(it_stat(d, "cloudfact_ingest_pending") == cap + 1, "more than cap + 1 pending");
    unlock_archive(db);

    for (unsigned k = 0; k < cap; k++) {
        cf_msg_t r;
        recv_reply(a, NULL, 0, &r, "burst acceptance");
        int ref = ref_dec(&r);
        CHECK(r.u.reply.rc == CF_OK && ref >= 0 && ref < (int)cap && !seen[ref],
              "round %d: after the lock, ref %d answered %s '%s', expected accepted 0..%u",
              round, ref, cf_msg_status_name(r.u.reply.rc), r.u.reply.error ? r.u.reply.error : "",
              cap - 1);
        seen[ref] = 1;
        cf_msg_clear(&r);
    }
    expect_status(b, CF_OK, NULL, "the other client");
    for (unsigned i = 0; i < cap + extra; i++) {
        snprintf(url, sizeof url, "https://example.test/i/%d/%u", round, i);
        CHECK(count_url(d, url) == (i < cap ? 1 : 0), "round %d: %s %s", round, url,
              i < cap ? "accepted but not stored" : "refused but stored");
    }
    snprintf(url, sizeof url, "https://example.test/i/%d/b", round);
    CHECK(count_url(d, url) == 1, "round %d: the other client's article is missing", round);
    free(seen);
    zmq_close(a);
    zmq_close(b);
    printf("ok   max_inflight %u: %u requests back to back while nothing commits: %u wait and "
           "are stored, %u refused at once and not stored; another client unaffected\n",
           cap, cap + extra, cap, extra);
}

/* The start of the file at path (at most n - 1 bytes), "" when it cannot be read. */
static void
read_text(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t k = fread(out, 1, n - 1, f);
    out[k] = '\0';
    fclose(f);
}

static void
limits(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    char conf[400];
    snprintf(conf, sizeof conf, "%s/limits.conf", d.dir);
    write_config(conf, 4);
    char maxmsg[16];
    snprintf(maxmsg, sizeof maxmsg, "%d", MAX_MSG);
    /* max_inflight from the file, not the command line: command-line values survive a
     * SIGHUP, file values are re-read */
    const char *extra[] = {"--config", conf, "--max-frames", "3", "--max-message-size", maxmsg,
                           "--http", "off", NULL};
    it_daemon_start(&d, 0, extra);
    zctx = zmq_ctx_new();

    frames_limit(&d);
    message_size_limit(&d);
    inflight_burst(&d, 1, 4, 12);

    /* SIGHUP: the file now says 8; the new cap applies at once */
    write_config(conf, 8);
    kill(d.pid, SIGHUP);
    it_wait_log(&d, "reload: max_inflight 4 -> 8", 1, 30);
    inflight_burst(&d, 2, 8, 5);
    printf("ok   SIGHUP re-read max_inflight from the config file (4 -> 8, logged) and the new "
           "cap applies\n");

    /* cloudfact push with a window five times the daemon's cap: the requests answered
     * `too many requests in flight` are sent again once answers come, every article
     * is accepted (exit 0) */
    char tree[400], cmd[2400];
    snprintf(tree, sizeof tree, "%s/window", d.dir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && for i in $(seq 40); do printf 'Title %%s\\nBody number %%s.\\n'"
             " $i $i > '%s'/a$i.txt; done && '%s' push --window 40 --quiet --endpoint '%s' '%s'"
             " 2> '%s/window.err'",
             tree, tree, it_bin("cloudfact"), d.ingest, tree, d.dir);
    int st = system(cmd);
    char errpath[400], errtext[512];
    snprintf(errpath, sizeof errpath, "%s/window.err", d.dir);
    read_text(errpath, errtext, sizeof errtext);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0 && strstr(errtext, "accepted 40, duplicate 0"),
          "push with a window over max_inflight: 0x%x %s", st, errtext);
    printf("ok   push with a window over max_inflight sends the crowded-out requests again: "
           "40 of 40 accepted\n");

    /* SIGINT while push waits for more input and crowded-out requests wait to be sent
     * again: they are, and the run still ends interrupted (exit 1), not complete */
    int pfd[2];
    CHECK(pipe(pfd) == 0, "pipe");
    char perr[400];
    snprintf(perr, sizeof perr, "%s/sigint.err", d.dir);
    const char *argv[] = {it_bin("cloudfact"), "push",       "--jsonl", "--window", "40",
                          "--quiet",           "--endpoint", d.ingest,  "-",        NULL};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, pfd[0], STDIN_FILENO);
    posix_spawn_file_actions_addclose(&fa, pfd[1]);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, perr, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pusher;
    CHECK(posix_spawn(&pusher, argv[0], &fa, NULL, (char *const *)argv, environ) == 0,
          "cannot run cloudfact push");
    posix_spawn_file_actions_destroy(&fa);
    close(pfd[0]);
    for (int i = 0; i < 40; i++) {
        char line[200];
        int n = snprintf(line, sizeof line,
                         "{\"url\": \"https://example.test/sigint/%d\", \"title\": \"t\","
                         " \"body\": \"Body %d.\"}\n",
                         i, i);
        CHECK(write(pfd[1], line, (size_t)n) == n, "write to push");
    }
    /* the first answers came: push is back reading its input, the crowded-out requests
     * wait behind that read */
    for (int i = 0; i < 500 && it_sql_int(&d, "SELECT count(*) FROM articles WHERE url LIKE"
                                              " 'https://example.test/sigint/%'") < 8;
         i++)
        usleep(10000);
    usleep(200000);
    kill(pusher, SIGINT);
    int pst = it_wait_exit(pusher, 60, "push after SIGINT");
    close(pfd[1]);
    char ptext[1024];
    read_text(perr, ptext, sizeof ptext);
    CHECK(WIFEXITED(pst) && WEXITSTATUS(pst) == 1 && strstr(ptext, "interrupted"),
          "push interrupted with retries pending exited 0x%x: %s", pst, ptext);
    printf("ok   push interrupted while crowded-out requests wait: they are sent, exit 1\n");

    zmq_ctx_term(zctx);
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    it_daemon_cleanup(&d);
}

/* ---- B: hostile text is stored verbatim ------------------------------------------ */

typedef struct hostile {
    const char *url, *title, *source;
    char *body;
    size_t body_len;
    uint64_t id;
} hostile_t;

/* The field as stored: NULL for SQL NULL. */
static void
check_column(sqlite3_stmt *st, int col, const char *want, size_t want_len, const char *what,
             const char *field)
{
    if (!want) {
        CHECK(sqlite3_column_type(st, col) == SQLITE_NULL, "%s: %s should be NULL", what, field);
        return;
    }
    CHECK(sqlite3_column_type(st, col) == SQLITE_TEXT, "%s: %s is not stored as text (type %d)",
          what, field, sqlite3_column_type(st, col));
    const void *got = sqlite3_column_blob(st, col);
    size_t n = (size_t)sqlite3_column_bytes(st, col);
    CHECK(n == want_len && (n == 0 || memcmp(got, want, n) == 0),
          "%s: %s differs in the archive (%zu bytes, expected %zu)", what, field, n, want_len);
}

static void
check_sql(const it_daemon_t *d, const hostile_t *h, const char *what)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    CHECK(sqlite3_open_v2(d->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open %s",
          d->db);
    CHECK(sqlite3_prepare_v2(db, "SELECT url, title, body, source FROM articles WHERE id = ?1",
                             -1, &st, NULL) == SQLITE_OK,
          "prepare: %s", sqlite3_errmsg(db));
    sqlite3_bind_int64(st, 1, (sqlite3_int64)h->id);
    CHECK(sqlite3_step(st) == SQLITE_ROW, "%s: article %llu is not in the archive", what,
          (unsigned long long)h->id);
    check_column(st, 0, h->url, strlen(h->url), what, "url");
    check_column(st, 1, h->title, strlen(h->title), what, "title");
    check_column(st, 2, h->body, h->body_len, what, "body");
    check_column(st, 3, h->source, h->source ? strlen(h->source) : 0, what, "source");
    sqlite3_finalize(st);
    sqlite3_close(db);
}

static void
check_field(const msgpack_object *art, const char *field, const char *want, size_t want_len,
            const char *what)
{
    const msgpack_object *o = map_get(art, field);
    if (!want) {
        CHECK(!o || o->type == MSGPACK_OBJECT_NIL, "%s: query: %s should be nil", what, field);
        return;
    }
    CHECK(o && o->type == MSGPACK_OBJECT_STR, "%s: query: %s is not a str", what, field);
    CHECK(o->via.str.size == want_len && memcmp(o->via.str.ptr, want, want_len) == 0,
          "%s: query: %s differs (%u bytes, expected %zu)", what, field, o->via.str.size,
          want_len);
}

static void
check_query(const it_daemon_t *d, const hostile_t *h, const char *what)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_get_article(&sb, "\x07", 1, h->id);
    void *reply = NULL;
    size_t len = 0;
    cf_err_t err;
    CHECK(cf_query_call(d->query, &d->curve, sb.data, sb.size, 10000, &reply, &len, &err) ==
              CF_OK,
          "%s: query article %llu: %s", what, (unsigned long long)h->id, err.text);
    msgpack_sbuffer_destroy(&sb);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    CHECK(msgpack_unpack_next(&up, reply, len, NULL) == MSGPACK_UNPACK_SUCCESS,
          "%s: query reply undecodable", what);
    CHECK(str_is(map_get(&up.data, "op"), "article"), "%s: query did not answer an article",
          what);
    const msgpack_object *art = map_get(&up.data, "article");
    CHECK(art && art->type == MSGPACK_OBJECT_MAP, "%s: query reply has no article", what);
    const msgpack_object *id = map_get(art, "id");
    CHECK(id && id->type == MSGPACK_OBJECT_POSITIVE_INTEGER && id->via.u64 == h->id,
          "%s: query answered another article", what);
    check_field(art, "url", h->url, strlen(h->url), what);
    check_field(art, "title", h->title, strlen(h->title), what);
    check_field(art, "body", h->body, h->body_len, what);
    check_field(art, "source", h->source, h->source ? strlen(h->source) : 0, what);
    msgpack_unpacked_destroy(&up);
    free(reply);
}

/* An article map with one field holding a NUL byte (as str, or bin for "body-bin");
 * cf_msg_pack_article would stop at the NUL, so it is packed by hand. */
static void
pack_with_nul(msgpack_sbuffer *sb, const char *field, const char *url)
{
    static const char nul_text[] = "before\0after"; /* 12 bytes, the NUL inside */
    msgpack_packer pk;
    msgpack_packer_init(&pk, sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 5);
    const char *keys[] = {"op", "url", "title", "body", "source"};
    const char *vals[] = {"article", url, "A title", "AWS holds 28 percent of the market.",
                          "feed"};
    for (int i = 0; i < 5; i++) {
        cf_msg_pack_str(&pk, keys[i]);
        if (strcmp(field, keys[i]) == 0) {
            msgpack_pack_str(&pk, sizeof nul_text - 1);
            msgpack_pack_str_body(&pk, nul_text, sizeof nul_text - 1);
        } else if (strcmp(field, "body-bin") == 0 && strcmp(keys[i], "body") == 0) {
            msgpack_pack_bin(&pk, sizeof nul_text - 1);
            msgpack_pack_bin_body(&pk, nul_text, sizeof nul_text - 1);
        } else {
            cf_msg_pack_str(&pk, vals[i]);
        }
    }
}

static void
hostile_archive(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    /* a state directory the daemon creates itself, under a umask that would make it
     * (and the archive) 0700/0600 if the daemon did not set the modes */
    char state[300];
    snprintf(state, sizeof state, "%.200s/state", d.dir);
    snprintf(d.db, sizeof d.db, "%.200s/cloudfact.db", state);
    const char *extra[] = {"--state-dir", state, "--http", "off", NULL};
    mode_t old = umask(077);
    it_daemon_start(&d, 1, extra);
    umask(old);
    zctx = zmq_ctx_new();

    /* facts first, so that a "DELETE FROM facts" that ran would show */
    cf_article_t seed = {0};
    seed.url = "https://example.test/b/seed";
    seed.title = "Seed";
    seed.body = "AWS holds 28 percent of the market. IBM opened two data centers in Dallas.";
    seed.body_len = strlen(seed.body);
    int st;
    uint64_t seed_id;
    it_push(&d, &seed, 1, &st, &seed_id);
    CHECK(st == CF_OK, "seed: %s", cf_msg_status_name(st));
    it_wait_stat(&d, "cloudfact_articles_done", 1, 60);
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM facts WHERE article = %llu",
             (unsigned long long)seed_id);
    int64_t seed_facts = it_sql_int(&d, sql);
    CHECK(seed_facts > 0, "the seed article has no facts: nothing to protect");

    /* one line of 1 MiB, no newline, with quotes, percents and backslashes in it */
    size_t big = 1u << 20;
    char *line = malloc(big + 1);
    static const char unit[] = "AWS holds 28 percent' of \"the\" market; %s %n \\ -- /* ";
    for (size_t i = 0; i < big; i++)
        line[i] = unit[i % (sizeof unit - 1)];
    line[big] = '\0';
    CHECK(!memchr(line, '\n', big), "the long line has a newline");

    hostile_t h[] = {
        {"https://example.test/b/sql?q=');DROP+TABLE+articles;--", "'); DROP TABLE articles; --",
         "x'); DELETE FROM articles WHERE ('1'='1", NULL, 0, 0},
        {"https://example.test/b/%s%n%x%p", "%s%n%x%p %99999999s", "%p%p%p%p%n%n", NULL, 0, 0},
        /* controls, an ANSI escape, a right-to-left override, an emoji and a
         * backslash-x00 spelled out (text, not a NUL); no source: NULL / nil */
        {"https://example.test/b/ctl",
         "\x01\x1b[31mred\x1b[0m\x7f\r\n\t\xe2\x80\xae(RLO) \xf0\x9f\x98\x80 \\x00 '\"`", NULL,
         NULL, 0, 0},
        {"https://example.test/b/long-line", "", "1 MiB, one line", NULL, 0, 0},
    };
    size_t n = sizeof h / sizeof *h;
    h[0].body = (char *)"Robert'); DELETE FROM facts;-- AWS holds 28 percent of the market.";
    h[1].body = (char *)"%n%n%n%n %s%s%s%s %1$s %*.*d %99999999s %lln AWS holds 28 percent.";
    h[2].body =
        (char *)"line\r\nline\x0b\x0c ' \" \\ ` ; -- /* */ \xc3\xa9t\xc3\xa9 \xe2\x80\xa8 end";
    h[3].body = line;
    for (size_t i = 0; i < n; i++)
        h[i].body_len = strlen(h[i].body);
    cf_article_t *arts = calloc(n, sizeof *arts);
    for (size_t i = 0; i < n; i++) {
        arts[i].url = (char *)h[i].url;
        arts[i].title = (char *)h[i].title;
        arts[i].body = h[i].body;
        arts[i].body_len = h[i].body_len;
        arts[i].source = (char *)h[i].source;
    }
    int status[4];
    uint64_t ids[4];
    it_push(&d, arts, n, status, ids);
    for (size_t i = 0; i < n; i++) {
        CHECK(status[i] == CF_OK, "hostile article %zu (%s): %s", i, h[i].url,
              cf_msg_status_name(status[i]));
        h[i].id = ids[i];
    }
    free(arts);

    /* NUL bytes: the protocol's text has none (SPEC section 3, "no NUL byte"; every
     * consumer is a C string), so each field with one is refused, naming the field */
    void *s = sock_to(ZMQ_DEALER, d.ingest);
    const char *fields[] = {"url", "title", "body", "source", "body-bin"};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        char url[96], needle[64];
        snprintf(url, sizeof url, "https://example.test/b/nul/%s", fields[i]);
        snprintf(needle, sizeof needle, "field '%.4s", fields[i]);
        msgpack_sbuffer sb;
        msgpack_sbuffer_init(&sb);
        pack_with_nul(&sb, fields[i], url);
        send_with(s, NULL, 0, &sb);
        msgpack_sbuffer_destroy(&sb);
        cf_msg_t r;
        recv_reply(s, NULL, 0, &r, fields[i]);
        CHECK(r.u.reply.rc == CF_EINVAL && r.u.reply.error && strstr(r.u.reply.error, needle) &&
                  strstr(r.u.reply.error, "contains a NUL character"),
              "NUL in %s: %s '%s', expected invalid naming the field and the NUL", fields[i],
              cf_msg_status_name(r.u.reply.rc), r.u.reply.error ? r.u.reply.error : "");
        cf_msg_clear(&r);
        CHECK(count_url(&d, url) == 0, "the article with a NUL in %s was stored", fields[i]);
    }
    zmq_close(s);

    /* the worker took them too (format strings in its log lines, the 1 MiB line) */
    it_wait_stat(&d, "cloudfact_articles_done", 1 + n, 60);
    CHECK(it_stat(&d, "cloudfact_articles_failed") == 0, "a hostile article failed extraction");

    for (size_t i = 0; i < n; i++) {
        char what[64];
        snprintf(what, sizeof what, "hostile article %zu", i);
        check_sql(&d, &h[i], what);
        check_query(&d, &h[i], what);
    }
    CHECK(it_sql_int(&d, "SELECT count(*) FROM sqlite_master WHERE (type = 'table' AND name IN "
                         "('articles', 'facts')) OR (type = 'view' AND name = 'fact_view')") == 3,
          "a table or view of the archive is gone");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles") == (int64_t)(1 + n),
          "the archive holds %lld articles, expected %zu",
          (long long)it_sql_int(&d, "SELECT count(*) FROM articles"), 1 + n);
    CHECK(it_sql_int(&d, sql) == seed_facts, "the seed article's facts changed");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state <> 'done'") == 0,
          "an article was left unfinished");
    printf("ok   SQL, format strings, control characters and a 1 MiB line stored and read back "
           "byte for byte (SQLite and query); NUL refused naming the field; tables intact\n");

    /* file modes, set by the daemon whatever its umask (DESIGN: directory 0750,
     * archive 0640; SQLite gives its -wal and -shm the archive's mode) */
    struct stat sst;
    CHECK(stat(state, &sst) == 0 && (sst.st_mode & 07777) == 0750,
          "the state directory is %o, expected 750", (unsigned)(sst.st_mode & 07777));
    const char *suffix[] = {"", "-wal", "-shm"};
    for (size_t i = 0; i < 3; i++) {
        char path[400];
        snprintf(path, sizeof path, "%s%s", d.db, suffix[i]);
        CHECK(stat(path, &sst) == 0, "%s: %s", path, strerror(errno));
        CHECK((sst.st_mode & 07777) == 0640, "%s is %o, expected 640", path,
              (unsigned)(sst.st_mode & 07777));
    }
    printf("ok   under umask 077 the daemon made the state directory 0750 and the archive "
           "(with -wal, -shm) 0640\n");

    free(line);
    zmq_ctx_term(zctx);
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    it_daemon_cleanup(&d);
}

/* ---- C: a full queue still answers duplicates -------------------------------------- */

/* Runs `cloudfact push --busy-for 1 DIR` against d; returns its exit status and its
 * stderr in out. */
static int
push_dir(const it_daemon_t *d, const char *dir, char *out, size_t n)
{
    char cmd[2400], errpath[400];
    snprintf(errpath, sizeof errpath, "%s/full.err", d->dir);
    snprintf(cmd, sizeof cmd, "'%s' push --quiet --busy-for 1 --endpoint '%s' '%s' 2> '%s'",
             it_bin("cloudfact"), d->ingest, dir, errpath);
    int st = system(cmd);
    read_text(errpath, out, n);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* DESIGN.md: a URL already archived is a duplicate. With the queue at max_queue
 * (no workers take anything), a scraper re-sending its articles must hear
 * `duplicate` for those stored and `busy` only for the new ones. */
static void
full_queue(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    const char *extra[] = {"--max-queue", "3", "--http", "off", NULL};
    it_daemon_start(&d, 0, extra);
    char tree[400], cmd[1200], text[512];
    uint64_t first = it_push_one(&d, "https://example.test/full/first", "Body first.");
    snprintf(tree, sizeof tree, "%s/full", d.dir);
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && for i in 1 2; do printf 'Title %%s\\nBody %%s.\\n' $i $i >"
             " '%s'/a$i.txt; done",
             tree, tree);
    CHECK(system(cmd) == 0, "cannot write the articles");
    int st = push_dir(&d, tree, text, sizeof text);
    CHECK(st == 0 && strstr(text, "accepted 2, duplicate 0"), "first push: exit %d: %s", st, text);
    /* the queue is full now: two new articles beside the two stored ones */
    snprintf(cmd, sizeof cmd,
             "for i in 3 4; do printf 'Title %%s\\nBody %%s.\\n' $i $i > '%s'/a$i.txt; done", tree);
    CHECK(system(cmd) == 0, "cannot write the articles");
    st = push_dir(&d, tree, text, sizeof text);
    CHECK(st == 1 && strstr(text, "accepted 0, duplicate 2, invalid 0, busy 2"),
          "second push with the queue full: exit %d: %s", st, text);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles") == 3,
          "the archive holds %lld articles, not 3",
          (long long)it_sql_int(&d, "SELECT count(*) FROM articles"));
    /* the duplicate's reply carries the stored article's id */
    cf_article_t again = {.url = "https://example.test/full/first",
                          .title = "Cloud news",
                          .body = "Body first.",
                          .body_len = 11};
    int status = -1;
    uint64_t id = 0;
    it_push_with(&d, &again, 1, &status, &id, 1000, 1);
    CHECK(status == CF_EDUP && id == first,
          "a stored article re-sent to a full queue: status %d id %llu, expected duplicate %llu",
          status, (unsigned long long)id, (unsigned long long)first);
    printf("ok   with the queue full, re-sent articles are answered duplicate (with the stored "
           "id) and only the new ones busy\n");
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    it_daemon_cleanup(&d);
}

int
main(void)
{
    limits();
    full_queue();
    hostile_archive();
    printf("it_limits: all checks passed\n");
    return 0;
}
