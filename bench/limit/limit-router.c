/* SPDX-License-Identifier: MIT
 * cf-limit-router: the "limit" of `make bench`: the least a durable pipeline with
 * cloudfactd's shape must do, written for the benchmark. No validation, no
 * extraction, no leases, no heartbeats to workers, no metrics.
 *
 *   ingest ROUTER  -> article requests (the ingest messages of protocol/SPEC.md)
 *   writer thread  -> one SQLite transaction (WAL, synchronous=FULL) per batch:
 *                     INSERT the new articles, INSERT the facts of the results that
 *                     arrived, mark those articles done; then COMMIT
 *   after commit   -> ack {ref, status: accepted, id}; publish each fact with its seq
 *                     and article.done on a PUB; hand accepted articles to workers
 *   workers ROUTER -> credit-based dispatch (ready {credit}; job {op, job, article};
 *                     result {job, facts}): the workers are cf-bench-worker processes
 *
 * Group commit like the daemon's: the loop fills the next batch while the writer
 * commits the previous one; the writer never waits for a timer. */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <msgpack.h>
#include <sqlite3.h>
#include <zmq.h>

#include "benchutil.h"

#define MAX_WORKERS 64
#define DRAIN 1024          /* messages per socket per loop turn */

typedef struct art {
    zmq_msg_t rid, body;    /* routing id; the request (kept until dispatched) */
    msgpack_object ref;     /* points into body */
    const char *url, *title, *text;
    uint32_t url_len, title_len, text_len;
    uint64_t id;            /* set by the writer; 0: duplicate */
} art_t;

typedef struct res {
    zmq_msg_t body;
    msgpack_unpacked up;    /* owns the fact objects */
    uint64_t job;           /* = article id */
    const msgpack_object *facts;
    uint64_t first_seq;     /* set by the writer */
} res_t;

typedef struct batch {
    art_t *arts;
    size_t narts, cap_arts;
    res_t *res;
    size_t nres, cap_res;
} batch_t;

typedef struct qitem {
    struct qitem *next;
    uint64_t id;
    zmq_msg_t body;         /* the article request, forwarded as the job's article */
} qitem_t;

typedef struct worker {
    uint8_t rid[256];
    size_t rid_len;
    unsigned credit, inflight;
} worker_t;

static volatile sig_atomic_t stop_requested;
static void on_term(int sig) { (void)sig; stop_requested = 1; }

static void
die(const char *what, const char *why)
{
    fprintf(stderr, "cf-limit-router: %s: %s\n", what, why);
    exit(1);
}

/* ---- writer thread ------------------------------------------------------------- */

typedef struct writer {
    sqlite3 *db;
    sqlite3_stmt *begin, *commit, *ins_art, *ins_fact, *done;
    void *ctx;
} writer_t;

static void
step(sqlite3 *db, sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        die("sqlite", sqlite3_errmsg(db));
    sqlite3_reset(s);
}

static void
bind_obj(sqlite3_stmt *s, int i, const msgpack_object *o)
{
    if (!o || o->type == MSGPACK_OBJECT_NIL)
        sqlite3_bind_null(s, i);
    else if (o->type == MSGPACK_OBJECT_STR || o->type == MSGPACK_OBJECT_BIN)
        sqlite3_bind_text(s, i, o->via.str.ptr, (int)o->via.str.size, SQLITE_STATIC);
    else if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER)
        sqlite3_bind_int64(s, i, (sqlite3_int64)o->via.u64);
    else if (o->type == MSGPACK_OBJECT_FLOAT64 || o->type == MSGPACK_OBJECT_FLOAT32)
        sqlite3_bind_double(s, i, o->via.f64);
    else
        sqlite3_bind_null(s, i);
}

static const char *const fact_cols[] = {"type",   "subject",   "object",     "value",
                                        "unit",   "period",    "place",      "detail",
                                        "qualifier", "status", "source",     "confidence",
                                        "evidence", "evidence_start", "evidence_end"};
#define NFACT_COLS (sizeof fact_cols / sizeof *fact_cols)

static void
write_batch(writer_t *w, batch_t *b)
{
    step(w->db, w->begin);
    for (size_t i = 0; i < b->narts; i++) {
        art_t *a = &b->arts[i];
        sqlite3_bind_text(w->ins_art, 1, a->url, (int)a->url_len, SQLITE_STATIC);
        sqlite3_bind_text(w->ins_art, 2, a->title, (int)a->title_len, SQLITE_STATIC);
        sqlite3_bind_text(w->ins_art, 3, a->text, (int)a->text_len, SQLITE_STATIC);
        int rc = sqlite3_step(w->ins_art);
        sqlite3_reset(w->ins_art);
        if (rc == SQLITE_DONE)
            a->id = (uint64_t)sqlite3_last_insert_rowid(w->db);
        else if ((rc & 0xff) == SQLITE_CONSTRAINT)
            a->id = 0;
        else
            die("insert article", sqlite3_errmsg(w->db));
    }
    for (size_t i = 0; i < b->nres; i++) {
        res_t *r = &b->res[i];
        r->first_seq = 0;
        for (uint32_t k = 0; r->facts && k < r->facts->via.array.size; k++) {
            const msgpack_object *f = &r->facts->via.array.ptr[k];
            sqlite3_bind_int64(w->ins_fact, 1, (sqlite3_int64)r->job);
            for (size_t c = 0; c < NFACT_COLS; c++)
                bind_obj(w->ins_fact, (int)c + 2, bu_map_get(f, fact_cols[c]));
            step(w->db, w->ins_fact);
            if (k == 0)
                r->first_seq = (uint64_t)sqlite3_last_insert_rowid(w->db);
        }
        sqlite3_bind_int64(w->done, 1, (sqlite3_int64)r->job);
        step(w->db, w->done);
    }
    step(w->db, w->commit);
}

static void *
writer_main(void *arg)
{
    writer_t *w = arg;
    void *pair = zmq_socket(w->ctx, ZMQ_PAIR);
    zmq_connect(pair, "inproc://limit-writer");
    for (;;) {
        batch_t *b = NULL;
        if (zmq_recv(pair, &b, sizeof b, 0) != (int)sizeof b) {
            if (zmq_errno() == EINTR)
                continue;
            break;
        }
        if (!b)
            break;
        write_batch(w, b);
        zmq_send(pair, &b, sizeof b, 0);
    }
    zmq_close(pair);
    return NULL;
}

static void
prepare(sqlite3 *db, const char *sql, sqlite3_stmt **s)
{
    if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) != SQLITE_OK)
        die(sql, sqlite3_errmsg(db));
}

static void
open_db(writer_t *w, const char *path)
{
    if (sqlite3_open(path, &w->db) != SQLITE_OK)
        die(path, sqlite3_errmsg(w->db));
    char *err = NULL;
    if (sqlite3_exec(w->db,
                     "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                     "CREATE TABLE IF NOT EXISTS articles(id INTEGER PRIMARY KEY AUTOINCREMENT,"
                     " url TEXT UNIQUE NOT NULL, title TEXT, body TEXT,"
                     " state INTEGER NOT NULL DEFAULT 0);"
                     "CREATE TABLE IF NOT EXISTS facts(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                     " article INTEGER NOT NULL, type TEXT, subject TEXT, object TEXT,"
                     " value REAL, unit TEXT, period TEXT, place TEXT, detail TEXT,"
                     " qualifier TEXT, status TEXT, source TEXT, confidence REAL,"
                     " evidence TEXT, evidence_start INTEGER, evidence_end INTEGER);",
                     NULL, NULL, &err) != SQLITE_OK)
        die("schema", err);
    prepare(w->db, "BEGIN IMMEDIATE", &w->begin);
    prepare(w->db, "COMMIT", &w->commit);
    prepare(w->db, "INSERT INTO articles(url, title, body) VALUES(?1, ?2, ?3)", &w->ins_art);
    prepare(w->db,
            "INSERT INTO facts(article, type, subject, object, value, unit, period, place,"
            " detail, qualifier, status, source, confidence, evidence, evidence_start,"
            " evidence_end) VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16)",
            &w->ins_fact);
    prepare(w->db, "UPDATE articles SET state = 2 WHERE id = ?1", &w->done);
}

/* ---- the loop ------------------------------------------------------------------ */

typedef struct router {
    void *ingest, *workers, *pub, *pair;
    batch_t batches[2];
    batch_t *cur;               /* being filled */
    bool writing;               /* the other batch is with the writer */
    qitem_t *qhead, *qtail;     /* accepted, not dispatched */
    worker_t w[MAX_WORKERS];
    size_t nw, rr;
    char **urls;                /* per article id until done (article.done names it) */
    size_t nurls;
    msgpack_sbuffer sb;
    msgpack_unpacked up;        /* scratch for ingest requests */
    uint64_t last_seq;
} router_t;

static void *
grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    *cap = *cap ? *cap * 2 : 256;
    p = realloc(p, *cap * size);
    if (!p)
        die("realloc", "out of memory");
    return p;
}

static bool
str_of(const msgpack_object *o, const char **p, uint32_t *n)
{
    if (!o || (o->type != MSGPACK_OBJECT_STR && o->type != MSGPACK_OBJECT_BIN))
        return false;
    *p = o->via.str.ptr;
    *n = o->via.str.size;
    return true;
}

static void
on_ingest(router_t *r, zmq_msg_t *rid, zmq_msg_t *body)
{
    size_t off = 0;
    if (msgpack_unpack_next(&r->up, zmq_msg_data(body), zmq_msg_size(body), &off) !=
        MSGPACK_UNPACK_SUCCESS)
        return; /* the limit does not answer garbage */
    batch_t *b = r->cur;
    b->arts = grow(b->arts, &b->cap_arts, b->narts, sizeof *b->arts);
    art_t *a = &b->arts[b->narts];
    memset(a, 0, sizeof *a);
    const msgpack_object *ref = bu_map_get(&r->up.data, "ref");
    a->ref.type = MSGPACK_OBJECT_NIL;
    if (ref)
        a->ref = *ref; /* a scalar: a str points into body, which we keep */
    if (!str_of(bu_map_get(&r->up.data, "url"), &a->url, &a->url_len) ||
        !str_of(bu_map_get(&r->up.data, "body"), &a->text, &a->text_len))
        return;
    if (!str_of(bu_map_get(&r->up.data, "title"), &a->title, &a->title_len)) {
        a->title = "";
        a->title_len = 0;
    }
    zmq_msg_init(&a->rid);
    zmq_msg_init(&a->body);
    zmq_msg_move(&a->rid, rid);
    zmq_msg_move(&a->body, body);
    b->narts++;
}

static worker_t *
worker_of(router_t *r, zmq_msg_t *rid)
{
    for (size_t i = 0; i < r->nw; i++)
        if (r->w[i].rid_len == zmq_msg_size(rid) &&
            memcmp(r->w[i].rid, zmq_msg_data(rid), r->w[i].rid_len) == 0)
            return &r->w[i];
    return NULL;
}

static void
on_worker(router_t *r, zmq_msg_t *rid, zmq_msg_t *body)
{
    batch_t *b = r->cur;
    b->res = grow(b->res, &b->cap_res, b->nres, sizeof *b->res);
    res_t *x = &b->res[b->nres];
    msgpack_unpacked_init(&x->up);
    zmq_msg_init(&x->body);
    zmq_msg_move(&x->body, body);
    size_t off = 0;
    if (msgpack_unpack_next(&x->up, zmq_msg_data(&x->body), zmq_msg_size(&x->body), &off) !=
        MSGPACK_UNPACK_SUCCESS)
        goto drop;
    const msgpack_object *op = bu_map_get(&x->up.data, "op");
    worker_t *w = worker_of(r, rid);
    if (bu_str_eq(op, "result")) {
        if (w && w->inflight)
            w->inflight--;
        x->job = bu_uint(bu_map_get(&x->up.data, "job"), 0);
        x->facts = bu_map_get(&x->up.data, "facts");
        if (x->facts && x->facts->type != MSGPACK_OBJECT_ARRAY)
            x->facts = NULL;
        b->nres++;
        return;
    }
    if (bu_str_eq(op, "ready")) {
        if (!w && r->nw < MAX_WORKERS && zmq_msg_size(rid) <= sizeof r->w[0].rid) {
            w = &r->w[r->nw++];
            w->rid_len = zmq_msg_size(rid);
            memcpy(w->rid, zmq_msg_data(rid), w->rid_len);
            w->inflight = 0;
        }
        if (w)
            w->credit = (unsigned)bu_uint(bu_map_get(&x->up.data, "credit"), 1);
    }
drop: /* ready, heartbeat, error, garbage */
    msgpack_unpacked_destroy(&x->up);
    zmq_msg_close(&x->body);
}

static void
dispatch(router_t *r)
{
    while (r->qhead && r->nw) {
        worker_t *w = NULL;
        for (size_t k = 0; k < r->nw; k++) {
            worker_t *c = &r->w[(r->rr + k) % r->nw];
            if (c->inflight < c->credit) {
                w = c;
                r->rr = (r->rr + k + 1) % r->nw;
                break;
            }
        }
        if (!w)
            return;
        qitem_t *q = r->qhead;
        r->qhead = q->next;
        if (!r->qhead)
            r->qtail = NULL;
        msgpack_packer pk;
        msgpack_packer_init(&pk, &r->sb, msgpack_sbuffer_write);
        msgpack_pack_map(&pk, 3);
        msgpack_pack_str_with_body(&pk, "op", 2);
        msgpack_pack_str_with_body(&pk, "job", 3);
        msgpack_pack_str_with_body(&pk, "job", 3);
        msgpack_pack_uint64(&pk, q->id);
        msgpack_pack_str_with_body(&pk, "article", 7);
        msgpack_sbuffer_write(&r->sb, zmq_msg_data(&q->body), zmq_msg_size(&q->body));
        zmq_send(r->workers, w->rid, w->rid_len, ZMQ_SNDMORE);
        zmq_send(r->workers, r->sb.data, r->sb.size, 0);
        msgpack_sbuffer_clear(&r->sb);
        w->inflight++;
        zmq_msg_close(&q->body);
        free(q);
    }
}

static void
publish(router_t *r, const char *topic, size_t tlen)
{
    zmq_send(r->pub, topic, tlen, ZMQ_SNDMORE);
    zmq_send(r->pub, r->sb.data, r->sb.size, 0);
    msgpack_sbuffer_clear(&r->sb);
}

/* The writer committed batch b: answer, publish, queue, dispatch; then recycle b. */
static void
after_commit(router_t *r, batch_t *b)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, &r->sb, msgpack_sbuffer_write);
    for (size_t i = 0; i < b->narts; i++) {
        art_t *a = &b->arts[i];
        msgpack_pack_map(&pk, 3);
        msgpack_pack_str_with_body(&pk, "ref", 3);
        msgpack_pack_object(&pk, a->ref);
        msgpack_pack_str_with_body(&pk, "status", 6);
        if (a->id)
            msgpack_pack_str_with_body(&pk, "accepted", 8);
        else
            msgpack_pack_str_with_body(&pk, "duplicate", 9);
        msgpack_pack_str_with_body(&pk, "id", 2);
        msgpack_pack_uint64(&pk, a->id);
        zmq_msg_send(&a->rid, r->ingest, ZMQ_SNDMORE);
        zmq_send(r->ingest, r->sb.data, r->sb.size, 0);
        msgpack_sbuffer_clear(&r->sb);
        if (!a->id) {
            zmq_msg_close(&a->body);
            continue;
        }
        if (a->id >= r->nurls) {
            size_t n = r->nurls ? r->nurls : 1024;
            while (n <= a->id)
                n *= 2;
            r->urls = realloc(r->urls, n * sizeof *r->urls);
            memset(r->urls + r->nurls, 0, (n - r->nurls) * sizeof *r->urls);
            r->nurls = n;
        }
        r->urls[a->id] = strndup(a->url, a->url_len);
        qitem_t *q = malloc(sizeof *q);
        q->next = NULL;
        q->id = a->id;
        zmq_msg_init(&q->body);
        zmq_msg_move(&q->body, &a->body);
        if (r->qtail)
            r->qtail->next = q;
        else
            r->qhead = q;
        r->qtail = q;
    }
    b->narts = 0;
    for (size_t i = 0; i < b->nres; i++) {
        res_t *x = &b->res[i];
        uint32_t nf = x->facts ? x->facts->via.array.size : 0;
        for (uint32_t k = 0; k < nf; k++) {
            const msgpack_object *f = &x->facts->via.array.ptr[k];
            const msgpack_object *type = bu_map_get(f, "type"), *subj = bu_map_get(f, "subject");
            char topic[600];
            int tl = snprintf(topic, sizeof topic, "fact.%.*s.%.*s",
                              type ? (int)type->via.str.size : 0, type ? type->via.str.ptr : "",
                              subj ? (int)subj->via.str.size : 0, subj ? subj->via.str.ptr : "");
            msgpack_pack_map(&pk, f->via.map.size);
            for (uint32_t j = 0; j < f->via.map.size; j++) {
                const msgpack_object_kv *kv = &f->via.map.ptr[j];
                msgpack_pack_object(&pk, kv->key);
                if (bu_str_eq(&kv->key, "seq"))
                    msgpack_pack_uint64(&pk, x->first_seq + k);
                else if (bu_str_eq(&kv->key, "article"))
                    msgpack_pack_uint64(&pk, x->job);
                else
                    msgpack_pack_object(&pk, kv->val);
            }
            publish(r, topic, (size_t)tl);
        }
        const char *url = x->job < r->nurls && r->urls[x->job] ? r->urls[x->job] : "";
        msgpack_pack_map(&pk, 5);
        msgpack_pack_str_with_body(&pk, "id", 2);
        msgpack_pack_uint64(&pk, x->job);
        msgpack_pack_str_with_body(&pk, "url", 3);
        msgpack_pack_str_with_body(&pk, url, strlen(url));
        msgpack_pack_str_with_body(&pk, "facts", 5);
        msgpack_pack_uint32(&pk, nf);
        msgpack_pack_str_with_body(&pk, "first_seq", 9);
        if (nf)
            msgpack_pack_uint64(&pk, x->first_seq);
        else
            msgpack_pack_nil(&pk);
        msgpack_pack_str_with_body(&pk, "last_seq", 8);
        if (nf)
            msgpack_pack_uint64(&pk, x->first_seq + nf - 1);
        else
            msgpack_pack_nil(&pk);
        publish(r, "article.done", 12);
        if (nf && x->first_seq + nf - 1 > r->last_seq)
            r->last_seq = x->first_seq + nf - 1;
        if (x->job < r->nurls) {
            free(r->urls[x->job]);
            r->urls[x->job] = NULL;
        }
        msgpack_unpacked_destroy(&x->up);
        zmq_msg_close(&x->body);
    }
    b->nres = 0;
    dispatch(r);
}

static void
heartbeat(router_t *r)
{
    msgpack_packer pk;
    msgpack_packer_init(&pk, &r->sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 2);
    msgpack_pack_str_with_body(&pk, "last", 4);
    msgpack_pack_uint64(&pk, r->last_seq);
    msgpack_pack_str_with_body(&pk, "time", 4);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    msgpack_pack_double(&pk, (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
    publish(r, "sys.heartbeat", 13);
}

static void
drain(router_t *r, void *sock, void (*fn)(router_t *, zmq_msg_t *, zmq_msg_t *))
{
    for (int k = 0; k < DRAIN; k++) {
        zmq_msg_t rid, body;
        zmq_msg_init(&rid);
        if (zmq_msg_recv(&rid, sock, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&rid);
            return;
        }
        zmq_msg_init(&body);
        /* the body is the last frame (a REQ client adds an empty delimiter) */
        while (zmq_msg_more(&rid) || zmq_msg_more(&body)) {
            zmq_msg_close(&body);
            zmq_msg_init(&body);
            if (zmq_msg_recv(&body, sock, 0) < 0)
                break;
            if (!zmq_msg_more(&body))
                break;
        }
        fn(r, &rid, &body);
        zmq_msg_close(&rid);
        zmq_msg_close(&body);
    }
}

static void *
bind_sock(void *ctx, int type, const char *ep)
{
    void *s = zmq_socket(ctx, type);
    int hwm = 10000, linger = 0;
    zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    if (zmq_bind(s, ep) != 0)
        die(ep, zmq_strerror(zmq_errno()));
    return s;
}

int
main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"db", required_argument, NULL, 'd'},      {"ingest", required_argument, NULL, 'i'},
        {"publish", required_argument, NULL, 'p'}, {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    const char *db = NULL, *ingest = NULL, *pub = NULL, *wep = NULL;
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': db = optarg; break;
        case 'i': ingest = optarg; break;
        case 'p': pub = optarg; break;
        case 'w': wep = optarg; break;
        default:
            printf("Usage: cf-limit-router --db FILE --ingest EP --publish EP --workers EP\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (!db || !ingest || !pub || !wep) {
        fprintf(stderr, "cf-limit-router: --db, --ingest, --publish and --workers are required\n");
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    static router_t r;
    writer_t w = {0};
    open_db(&w, db);
    void *ctx = zmq_ctx_new();
    w.ctx = ctx;
    r.ingest = bind_sock(ctx, ZMQ_ROUTER, ingest);
    r.workers = bind_sock(ctx, ZMQ_ROUTER, wep);
    r.pub = bind_sock(ctx, ZMQ_PUB, pub);
    r.pair = zmq_socket(ctx, ZMQ_PAIR);
    zmq_bind(r.pair, "inproc://limit-writer");
    pthread_t th;
    pthread_create(&th, NULL, writer_main, &w);
    r.cur = &r.batches[0];
    msgpack_sbuffer_init(&r.sb);
    msgpack_unpacked_init(&r.up);
    double next_hb = 0;
    while (!stop_requested) {
        zmq_pollitem_t items[3] = {{r.ingest, 0, ZMQ_POLLIN, 0},
                                   {r.workers, 0, ZMQ_POLLIN, 0},
                                   {r.pair, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, 3, 100) < 0 && zmq_errno() != EINTR)
            break;
        if (items[2].revents & ZMQ_POLLIN) {
            batch_t *b;
            if (zmq_recv(r.pair, &b, sizeof b, 0) == (int)sizeof b) {
                r.writing = false;
                after_commit(&r, b);
            }
        }
        drain(&r, r.workers, on_worker);
        drain(&r, r.ingest, on_ingest);
        dispatch(&r); /* a result returns its credit at once, before its commit */
        if (!r.writing && (r.cur->narts || r.cur->nres)) {
            batch_t *b = r.cur;
            zmq_send(r.pair, &b, sizeof b, 0);
            r.writing = true;
            r.cur = b == &r.batches[0] ? &r.batches[1] : &r.batches[0];
        }
        double now = bu_now();
        if (now >= next_hb) {
            heartbeat(&r);
            next_hb = now + 0.2;
        }
    }
    batch_t *none = NULL;
    if (r.writing) {
        batch_t *b;
        zmq_recv(r.pair, &b, sizeof b, 0);
    }
    zmq_send(r.pair, &none, sizeof none, 0);
    pthread_join(th, NULL);
    zmq_close(r.pair);
    zmq_close(r.ingest);
    zmq_close(r.workers);
    zmq_close(r.pub);
    zmq_ctx_term(ctx);
    sqlite3_close_v2(w.db);
    return 0;
}
