/* SPDX-License-Identifier: MIT
 * cf-bench-client: the load generator and meter of `make bench`. One program
 * drives every pipeline the same way:
 *
 *   push    a DEALER pushes N articles to an ingest ROUTER (cloudfactd, the limit
 *           pipeline, the Python pipeline: they all speak protocol/SPEC.md's ingest
 *           and publish messages) with a window of requests in flight; with --sub
 *           a SUB on the same loop counts facts and article.done events, and the run
 *           ends when every article is acknowledged and announced done. With --rate
 *           the sends are paced (open loop) and the push -> first fact/article.done
 *           latency of every article is measured.
 *   redis   the same payloads as XADD commands over RESP, pipelined with the same
 *           window, to a redis-server.
 *   replay  a `replay {since: 0}` on the query socket: facts/s until `end`.
 *
 * Prints one JSON object on stdout. Exit 0 when the run completed, 1 otherwise. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <zmq.h>

#include "benchutil.h"
#include "cf_msg.h"

typedef struct art {
    char *title;
    char *body;
    size_t body_len;
} art_t;

typedef struct opts {
    const char *ingest, *sub, *redis, *replay, *corpus, *prefix, *latency_log;
    long count, window, small;
    double rate, timeout;
} opts_t;

static art_t *arts;
static size_t narts;

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Loads DIR/\*.txt (sorted): title = first line, body = the rest. */
static void
load_corpus(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "cf-bench-client: %s: %s\n", dir, strerror(errno));
        exit(2);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 5 || strcmp(e->d_name + l - 4, ".txt") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 1024;
            names = realloc(names, cap * sizeof *names);
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    qsort(names, n, sizeof *names, cmp_str);
    arts = calloc(n ? n : 1, sizeof *arts);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        size_t len;
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        char *text = bu_read_file(path, &len);
        free(names[i]);
        if (!text)
            continue;
        char *nl = strchr(text, '\n');
        if (!nl || !nl[1]) {
            free(text);
            continue;
        }
        *nl = '\0';
        arts[narts].title = text;
        arts[narts].body = nl + 1;
        arts[narts].body_len = len - (size_t)(nl + 1 - text);
        narts++;
    }
    free(names);
    if (!narts) {
        fprintf(stderr, "cf-bench-client: no articles in %s\n", dir);
        exit(2);
    }
}

/* One small article of about `size` bytes of body (the memory test). */
static void
make_small(long size)
{
    static const char words[] = "AWS holds 28 percent of the public cloud market in 2016. ";
    narts = 1;
    arts = calloc(1, sizeof *arts);
    arts[0].title = strdup("Small article");
    arts[0].body = malloc((size_t)size + 1);
    for (long i = 0; i < size; i++)
        arts[0].body[i] = words[i % (long)(sizeof words - 1)];
    arts[0].body[size] = '\0';
    arts[0].body_len = (size_t)size;
}

static void
url_of(const opts_t *o, long i, char *out, size_t n)
{
    snprintf(out, n, "https://bench.example/%s/%ld", o->prefix, i);
}

/* ---- push over ZeroMQ --------------------------------------------------------- */

typedef struct lat {
    double *sent;     /* per ref: send time */
    uint64_t *id_of;  /* per ref: archive id from the ack */
    uint64_t *keys;   /* open-addressing map archive id -> first fact or article.done */
    double *arrival;
    size_t mask;
} lat_t;

static size_t
lat_slot(const lat_t *l, uint64_t id)
{
    size_t h = (size_t)(id * 0x9E3779B97F4A7C15ull) & l->mask;
    while (l->keys[h] && l->keys[h] != id)
        h = (h + 1) & l->mask;
    return h;
}

static void
note_arrival(lat_t *l, uint64_t id, double t)
{
    if (id == 0 || id == UINT64_MAX)
        return;
    size_t h = lat_slot(l, id);
    if (!l->keys[h]) {
        l->keys[h] = id;
        l->arrival[h] = t;
    }
}

static double
arrival_of(const lat_t *l, uint64_t id)
{
    size_t h = lat_slot(l, id);
    return l->keys[h] == id ? l->arrival[h] : 0;
}

/* The latency of every article as JSON Lines, in send order: "sent" is seconds since
 * the first send, "ms" the latency (null: no fact nor article.done arrived), so that a
 * slow stretch can be placed in time and set beside the daemon's log. */
static int
write_latency_log(const char *path, const lat_t *l, long n, double t0)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (long i = 0; i < n; i++) {
        double t = l->id_of[i] ? arrival_of(l, l->id_of[i]) : 0;
        if (t > 0)
            fprintf(f, "{\"ref\": %ld, \"sent\": %.6f, \"ms\": %.3f}\n", i, l->sent[i] - t0,
                    (t - l->sent[i]) * 1e3);
        else
            fprintf(f, "{\"ref\": %ld, \"sent\": %.6f, \"ms\": null}\n", i, l->sent[i] - t0);
    }
    return fclose(f) == 0 ? 0 : -1;
}

static int
cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double
pct(const double *v, size_t n, double p)
{
    if (!n)
        return 0;
    size_t k = (size_t)(p * (double)(n - 1) + 0.5);
    return v[k < n ? k : n - 1];
}

static int
run_push(const opts_t *o)
{
    void *ctx = zmq_ctx_new();
    void *push = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, linger = 0;
    zmq_setsockopt(push, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(push, ZMQ_SNDHWM, &zero, sizeof zero);
    zmq_setsockopt(push, ZMQ_RCVHWM, &zero, sizeof zero);
    void *sub = NULL;
    if (o->sub) {
        sub = zmq_socket(ctx, ZMQ_SUB);
        zmq_setsockopt(sub, ZMQ_LINGER, &linger, sizeof linger);
        zmq_setsockopt(sub, ZMQ_RCVHWM, &zero, sizeof zero);
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "fact.", 5);
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "article.done", 12);
        zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "sys.heartbeat", 13);
        if (zmq_connect(sub, o->sub) != 0) {
            fprintf(stderr, "cf-bench-client: connect %s: %s\n", o->sub,
                    zmq_strerror(zmq_errno()));
            return 2;
        }
        /* a heartbeat proves the subscription reached the publisher */
        zmq_pollitem_t it = {sub, 0, ZMQ_POLLIN, 0};
        double until = bu_now() + 5;
        bool heard = false;
        while (!heard && bu_now() < until && zmq_poll(&it, 1, 100) >= 0) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            while (zmq_msg_recv(&m, sub, ZMQ_DONTWAIT) >= 0) {
                if (zmq_msg_size(&m) == 13 && memcmp(zmq_msg_data(&m), "sys.heartbeat", 13) == 0)
                    heard = true;
            }
            zmq_msg_close(&m);
        }
        if (!heard)
            fprintf(stderr, "cf-bench-client: no sys.heartbeat within 5 s; going on\n");
    }
    if (zmq_connect(push, o->ingest) != 0) {
        fprintf(stderr, "cf-bench-client: connect %s: %s\n", o->ingest,
                zmq_strerror(zmq_errno()));
        return 2;
    }
    long n = o->count;
    lat_t lat = {0};
    bool measure_lat = o->rate > 0 && sub;
    if (measure_lat) {
        lat.sent = calloc((size_t)n, sizeof *lat.sent);
        lat.id_of = calloc((size_t)n, sizeof *lat.id_of);
        size_t sz = 1024;
        while (sz < (size_t)n * 4)
            sz *= 2;
        lat.mask = sz - 1;
        lat.keys = calloc(sz, sizeof *lat.keys);
        lat.arrival = calloc(sz, sizeof *lat.arrival);
    }
    msgpack_sbuffer buf, refbuf;
    msgpack_sbuffer_init(&buf);
    msgpack_sbuffer_init(&refbuf);
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    long sent = 0, answered = 0, accepted = 0, duplicate = 0, other = 0, done = 0;
    unsigned long long facts = 0;
    double t0 = bu_now(), t_ack = t0, t_done = t0, last_progress = t0;
    bool complete = false;
    while (!complete) {
        double now = bu_now();
        while (sent < n && sent - answered < o->window &&
               (o->rate <= 0 || now >= t0 + (double)sent / o->rate)) {
            const art_t *a = &arts[(size_t)sent % narts];
            char url[256];
            url_of(o, sent, url, sizeof url);
            cf_article_t ca = {0};
            ca.url = url;
            ca.title = a->title;
            ca.body = a->body;
            ca.body_len = a->body_len;
            ca.source = (char *)"bench";
            msgpack_packer rp;
            msgpack_packer_init(&rp, &refbuf, msgpack_sbuffer_write);
            msgpack_pack_uint64(&rp, (uint64_t)sent);
            cf_msg_pack_article(&buf, refbuf.data, refbuf.size, &ca);
            msgpack_sbuffer_clear(&refbuf);
            if (measure_lat)
                lat.sent[sent] = bu_now();
            if (zmq_send(push, buf.data, buf.size, 0) < 0) {
                fprintf(stderr, "cf-bench-client: send: %s\n", zmq_strerror(zmq_errno()));
                return 1;
            }
            msgpack_sbuffer_clear(&buf);
            sent++;
            if (o->rate > 0)
                now = bu_now();
        }
        long wait_ms = 100;
        if (o->rate > 0 && sent < n && sent - answered < o->window) {
            /* zmq_poll waits whole milliseconds: round up. Rounded down, the wait was 0
             * at every rate above 1,000/s and the client spun a vCPU that the pipeline
             * under test needed (bench/README.md, "Ninth pass"); a send up to 1 ms late
             * is timed from when it leaves, and the loop above catches up. */
            double next_ms = (t0 + (double)sent / o->rate - bu_now()) * 1000;
            wait_ms = next_ms <= 0 ? 0 : (long)next_ms + ((double)(long)next_ms < next_ms);
        }
        zmq_pollitem_t items[2] = {{push, 0, ZMQ_POLLIN, 0}, {sub, 0, ZMQ_POLLIN, 0}};
        if (zmq_poll(items, sub ? 2 : 1, wait_ms) < 0 && zmq_errno() != EINTR)
            break;
        now = bu_now();
        for (int k = 0; k < 4096; k++) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, push, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            size_t off = 0;
            if (msgpack_unpack_next(&up, zmq_msg_data(&m), zmq_msg_size(&m), &off) ==
                MSGPACK_UNPACK_SUCCESS) {
                const msgpack_object *st = bu_map_get(&up.data, "status");
                uint64_t ref = bu_uint(bu_map_get(&up.data, "ref"), UINT64_MAX);
                if (bu_str_eq(st, "accepted"))
                    accepted++;
                else if (bu_str_eq(st, "duplicate"))
                    duplicate++;
                else {
                    if (other++ < 5)
                        fprintf(stderr, "cf-bench-client: reply %.*s\n",
                                st && st->type == MSGPACK_OBJECT_STR ? (int)st->via.str.size : 1,
                                st && st->type == MSGPACK_OBJECT_STR ? st->via.str.ptr : "?");
                }
                if (measure_lat && ref < (uint64_t)n)
                    lat.id_of[ref] = bu_uint(bu_map_get(&up.data, "id"), 0);
            }
            zmq_msg_close(&m);
            answered++;
            t_ack = now;
            last_progress = now;
        }
        for (int k = 0; sub && k < 8192; k++) {
            zmq_msg_t topic, body;
            zmq_msg_init(&topic);
            if (zmq_msg_recv(&topic, sub, ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&topic);
                break;
            }
            zmq_msg_init(&body);
            if (zmq_msg_get(&topic, ZMQ_MORE))
                zmq_msg_recv(&body, sub, 0);
            const char *tp = zmq_msg_data(&topic);
            size_t tl = zmq_msg_size(&topic);
            bool is_fact = tl > 5 && memcmp(tp, "fact.", 5) == 0;
            bool is_done = tl == 12 && memcmp(tp, "article.done", 12) == 0;
            if (is_fact)
                facts++;
            if (is_done) {
                done++;
                t_done = now;
            }
            if (is_fact || is_done)
                last_progress = now;
            if (measure_lat && (is_fact || is_done)) {
                size_t off = 0;
                if (msgpack_unpack_next(&up, zmq_msg_data(&body), zmq_msg_size(&body), &off) ==
                    MSGPACK_UNPACK_SUCCESS)
                    note_arrival(&lat, bu_uint(bu_map_get(&up.data, is_fact ? "article" : "id"),
                                               UINT64_MAX),
                                 now);
            }
            zmq_msg_close(&topic);
            zmq_msg_close(&body);
        }
        complete = answered >= n && (!sub || done >= n);
        if (!complete && now - last_progress > o->timeout) {
            fprintf(stderr, "cf-bench-client: no progress for %.0f s: %ld/%ld answered, "
                    "%ld/%ld done\n", o->timeout, answered, n, done, n);
            break;
        }
    }
    double t_end = sub ? (t_done > t_ack ? t_done : t_ack) : t_ack;
    double el = t_end - t0;
    printf("{\"mode\": \"push\", \"count\": %ld, \"window\": %ld, \"complete\": %s, "
           "\"accepted\": %ld, \"duplicate\": %ld, \"other\": %ld, \"done\": %ld, "
           "\"facts\": %llu, \"elapsed_s\": %.6f, \"ack_elapsed_s\": %.6f, "
           "\"articles_per_s\": %.3f, \"acks_per_s\": %.3f, \"facts_per_s\": %.3f",
           n, o->window, complete ? "true" : "false", accepted, duplicate, other, done, facts,
           el, t_ack - t0, el > 0 ? (double)n / el : 0, t_ack > t0 ? (double)n / (t_ack - t0) : 0,
           el > 0 ? (double)facts / el : 0);
    if (measure_lat) {
        double *v = malloc((size_t)n * sizeof *v);
        size_t k = 0;
        for (long i = 0; i < n; i++) {
            double t = lat.id_of[i] ? arrival_of(&lat, lat.id_of[i]) : 0;
            if (t > 0)
                v[k++] = t - lat.sent[i];
        }
        /* the same without the first second of sends: a fresh daemon's workers warm up
         * there, and with a few thousand samples that start sets most of the p99 */
        double *w = malloc((size_t)n * sizeof *w);
        size_t kw = 0;
        for (long i = 0; i < n; i++) {
            double t = lat.id_of[i] ? arrival_of(&lat, lat.id_of[i]) : 0;
            if (t > 0 && lat.sent[i] - t0 >= 1.0)
                w[kw++] = t - lat.sent[i];
        }
        qsort(v, k, sizeof *v, cmp_dbl);
        qsort(w, kw, sizeof *w, cmp_dbl);
        printf(", \"rate\": %.1f, \"latency_n\": %zu, \"latency_p50_ms\": %.3f, "
               "\"latency_p90_ms\": %.3f, \"latency_p99_ms\": %.3f, \"latency_max_ms\": %.3f"
               ", \"latency_after_1s_n\": %zu, \"latency_after_1s_p50_ms\": %.3f"
               ", \"latency_after_1s_p99_ms\": %.3f",
               o->rate, k, pct(v, k, 0.5) * 1e3, pct(v, k, 0.9) * 1e3, pct(v, k, 0.99) * 1e3,
               k ? v[k - 1] * 1e3 : 0.0, kw, pct(w, kw, 0.5) * 1e3, pct(w, kw, 0.99) * 1e3);
        free(v);
        free(w);
        if (o->latency_log && write_latency_log(o->latency_log, &lat, n, t0) < 0)
            fprintf(stderr, "cf-bench-client: %s: %s\n", o->latency_log, strerror(errno));
    }
    printf("}\n");
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&buf);
    msgpack_sbuffer_destroy(&refbuf);
    zmq_close(push);
    if (sub)
        zmq_close(sub);
    zmq_ctx_term(ctx);
    return complete ? 0 : 1;
}

/* ---- XADD over RESP to redis-server --------------------------------------------- */

typedef struct obuf {
    char *p;
    size_t n, cap, off;
} obuf_t;

static void
ob_put(obuf_t *b, const void *d, size_t n)
{
    if (b->n + n > b->cap) {
        while (b->n + n > b->cap)
            b->cap = b->cap ? b->cap * 2 : 65536;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, d, n);
    b->n += n;
}

static void
ob_bulk(obuf_t *b, const char *s, size_t n)
{
    char hdr[32];
    int l = snprintf(hdr, sizeof hdr, "$%zu\r\n", n);
    ob_put(b, hdr, (size_t)l);
    ob_put(b, s, n);
    ob_put(b, "\r\n", 2);
}

/* Counts the complete replies at the start of in[0..n); *used gets their bytes.
 * XADD answers a bulk string ($len) or an error (-...). */
static long
resp_replies(const char *in, size_t n, size_t *used, long *errors)
{
    size_t i = 0;
    long k = 0;
    for (;;) {
        const char *crlf = memmem(in + i, n - i, "\r\n", 2);
        if (!crlf)
            break;
        size_t line = (size_t)(crlf - (in + i));
        if (in[i] == '$') {
            long len = strtol(in + i + 1, NULL, 10);
            size_t need = line + 2 + (len > 0 ? (size_t)len + 2 : 0);
            if (n - i < need)
                break;
            i += need;
        } else {
            if (in[i] == '-')
                (*errors)++;
            i += line + 2;
        }
        k++;
    }
    *used = i;
    return k;
}

static int
run_redis(const opts_t *o)
{
    char host[128];
    int port = 0;
    if (sscanf(o->redis, "%127[^:]:%d", host, &port) != 2) {
        fprintf(stderr, "cf-bench-client: --redis HOST:PORT\n");
        return 2;
    }
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, host, &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "cf-bench-client: connect %s: %s\n", o->redis, strerror(errno));
        return 1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    obuf_t out = {0};
    size_t incap = 1 << 20, inn = 0;
    char *in = malloc(incap);
    long n = o->count, sent = 0, answered = 0, errors = 0;
    double t0 = bu_now(), t_ack = t0, last_progress = t0;
    while (answered < n) {
        while (sent < n && sent - answered < o->window) {
            const art_t *a = &arts[(size_t)sent % narts];
            char url[256];
            url_of(o, sent, url, sizeof url);
            ob_put(&out, "*9\r\n", 4);
            ob_bulk(&out, "XADD", 4);
            ob_bulk(&out, "articles", 8);
            ob_bulk(&out, "*", 1);
            ob_bulk(&out, "url", 3);
            ob_bulk(&out, url, strlen(url));
            ob_bulk(&out, "title", 5);
            ob_bulk(&out, a->title, strlen(a->title));
            ob_bulk(&out, "body", 4);
            ob_bulk(&out, a->body, a->body_len);
            sent++;
        }
        while (out.off < out.n) {
            ssize_t w = send(fd, out.p + out.off, out.n - out.off, MSG_NOSIGNAL);
            if (w <= 0)
                break;
            out.off += (size_t)w;
        }
        if (out.off == out.n)
            out.off = out.n = 0;
        struct pollfd pfd = {fd, (short)(POLLIN | (out.off < out.n ? POLLOUT : 0)), 0};
        if (poll(&pfd, 1, 100) < 0 && errno != EINTR)
            break;
        double now = bu_now();
        for (;;) {
            if (inn == incap)
                in = realloc(in, incap *= 2);
            ssize_t r = recv(fd, in + inn, incap - inn, 0);
            if (r <= 0) {
                if (r == 0) {
                    fprintf(stderr, "cf-bench-client: redis closed the connection\n");
                    return 1;
                }
                break;
            }
            inn += (size_t)r;
        }
        size_t used = 0;
        long k = resp_replies(in, inn, &used, &errors);
        if (k) {
            memmove(in, in + used, inn - used);
            inn -= used;
            answered += k;
            t_ack = last_progress = now;
        }
        if (now - last_progress > o->timeout) {
            fprintf(stderr, "cf-bench-client: redis: no progress for %.0f s\n", o->timeout);
            break;
        }
    }
    double el = t_ack - t0;
    printf("{\"mode\": \"redis\", \"count\": %ld, \"window\": %ld, \"complete\": %s, "
           "\"errors\": %ld, \"elapsed_s\": %.6f, \"acks_per_s\": %.3f, \"articles_per_s\": %.3f}\n",
           n, o->window, answered >= n ? "true" : "false", errors, el,
           el > 0 ? (double)n / el : 0, el > 0 ? (double)n / el : 0);
    close(fd);
    free(in);
    free(out.p);
    return answered >= n && !errors ? 0 : 1;
}

/* ---- replay from the query socket ---------------------------------------------- */

/* The op of a query reply: fast path for the daemon's encoding ({op: ... first}). */
static bool
op_is(const uint8_t *d, size_t n, const char *op)
{
    size_t l = strlen(op);
    return n >= 4 + l && (d[0] & 0xf0) == 0x80 && d[1] == 0xa2 && d[2] == 'o' && d[3] == 'p' &&
           d[4] == (0xa0 | l) && memcmp(d + 5, op, l) == 0;
}

static int
run_replay(const opts_t *o)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int zero = 0, linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVHWM, &zero, sizeof zero);
    if (zmq_connect(s, o->replay) != 0)
        return 2;
    msgpack_sbuffer buf;
    msgpack_sbuffer_init(&buf);
    uint8_t ref = 0x07; /* msgpack uint 7 */
    cf_msg_pack_replay(&buf, &ref, 1, 0, NULL, 0, 0, false);
    double t0 = bu_now(), t_end = t0, last = t0;
    zmq_send(s, buf.data, buf.size, 0);
    unsigned long long facts = 0;
    bool ended = false;
    char error[256] = "";
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    while (!ended) {
        zmq_pollitem_t it = {s, 0, ZMQ_POLLIN, 0};
        zmq_poll(&it, 1, 100);
        double now = bu_now();
        zmq_msg_t m;
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, s, ZMQ_DONTWAIT) >= 0) {
            const uint8_t *d = zmq_msg_data(&m);
            size_t n = zmq_msg_size(&m);
            last = now;
            if (op_is(d, n, "fact")) {
                facts++;
                continue;
            }
            size_t off = 0;
            if (msgpack_unpack_next(&up, (const char *)d, n, &off) != MSGPACK_UNPACK_SUCCESS)
                continue;
            const msgpack_object *op = bu_map_get(&up.data, "op");
            const msgpack_object *err = bu_map_get(&up.data, "error");
            if (bu_str_eq(op, "fact")) {
                facts++;
            } else if (bu_str_eq(op, "end") || bu_str_eq(op, "error")) {
                if (err && err->type == MSGPACK_OBJECT_STR)
                    snprintf(error, sizeof error, "%.*s", (int)err->via.str.size,
                             err->via.str.ptr);
                ended = true;
                t_end = now;
                break;
            }
        }
        zmq_msg_close(&m);
        if (!ended && now - last > o->timeout) {
            snprintf(error, sizeof error, "no reply for %.0f s", o->timeout);
            break;
        }
    }
    double el = t_end - t0;
    for (char *p = error; *p; p++)
        if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
            *p = ' ';
    printf("{\"mode\": \"replay\", \"complete\": %s, \"facts\": %llu, \"elapsed_s\": %.6f, "
           "\"facts_per_s\": %.3f, \"error\": \"%s\"}\n",
           ended && !*error ? "true" : "false", facts, el, el > 0 ? (double)facts / el : 0,
           error);
    msgpack_unpacked_destroy(&up);
    msgpack_sbuffer_destroy(&buf);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return ended && !*error ? 0 : 1;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cf-bench-client (--ingest EP [--sub EP] [--rate R] | --redis HOST:PORT |\n"
            "                        --replay EP) [OPTION]...\n"
            "  --corpus DIR     articles: DIR/*.txt, first line the title (cycled)\n"
            "  --small BYTES    instead: one small article of BYTES, pushed under many URLs\n"
            "  --count N        articles to push (default 1000)\n"
            "  --window W       requests in flight (default 256)\n"
            "  --prefix P       URL prefix, so runs never collide (default run)\n"
            "  --rate R         pace the sends at R articles/s and measure latency (needs --sub)\n"
            "  --latency-log F  with --rate: every article's latency to F, JSON Lines\n"
            "                   ({\"ref\", \"sent\": s since the first send, \"ms\"})\n"
            "  --timeout S      give up after S seconds without progress (default 30)\n");
}

int
main(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"ingest", required_argument, NULL, 'i'}, {"sub", required_argument, NULL, 's'},
        {"redis", required_argument, NULL, 'r'},  {"replay", required_argument, NULL, 'R'},
        {"corpus", required_argument, NULL, 'c'}, {"small", required_argument, NULL, 'S'},
        {"count", required_argument, NULL, 'n'},  {"window", required_argument, NULL, 'w'},
        {"prefix", required_argument, NULL, 'p'}, {"rate", required_argument, NULL, 'a'},
        {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
        {"latency-log", required_argument, NULL, 'L'},
        {NULL, 0, NULL, 0}};
    opts_t o = {.count = 1000, .window = 256, .prefix = "run", .timeout = 30};
    int c;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'i': o.ingest = optarg; break;
        case 's': o.sub = optarg; break;
        case 'r': o.redis = optarg; break;
        case 'R': o.replay = optarg; break;
        case 'c': o.corpus = optarg; break;
        case 'S': o.small = strtol(optarg, NULL, 10); break;
        case 'n': o.count = strtol(optarg, NULL, 10); break;
        case 'w': o.window = strtol(optarg, NULL, 10); break;
        case 'p': o.prefix = optarg; break;
        case 'a': o.rate = strtod(optarg, NULL); break;
        case 't': o.timeout = strtod(optarg, NULL); break;
        case 'L': o.latency_log = optarg; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (o.count < 1 || o.window < 1 || o.timeout <= 0) {
        usage(stderr);
        return 2;
    }
    if (o.replay)
        return run_replay(&o);
    if (o.small > 0)
        make_small(o.small);
    else if (o.corpus)
        load_corpus(o.corpus);
    else {
        usage(stderr);
        return 2;
    }
    if (o.redis)
        return run_redis(&o);
    if (o.ingest)
        return run_push(&o);
    usage(stderr);
    return 2;
}
