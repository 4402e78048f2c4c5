/* SPDX-License-Identifier: MIT
 * cf_msg: the wire format (protocol/SPEC.md). Every message body is one msgpack
 * map with string keys; this module decodes untrusted bodies into cf_msg_t with
 * full validation (structure, types, limits of cf_limits.h, UTF-8) and encodes
 * every message into a msgpack_sbuffer. No sockets, no logging. */
#ifndef CF_MSG_H
#define CF_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <msgpack.h>

#include "cf_err.h"
#include "cf_fact.h"
#include "cf_limits.h"

#define CF_PROTOCOL_VERSION 1

/* Which socket a body arrived on: the same op name means different things on
 * different sockets ("article" is a push on ingest, a lookup on query). */
typedef enum cf_chan {
    CF_CHAN_INGEST = 1,   /* client -> daemon ingest requests */
    CF_CHAN_INGEST_REPLY, /* daemon -> client ingest replies (no op) */
    CF_CHAN_TO_DAEMON,    /* worker -> daemon */
    CF_CHAN_TO_WORKER,    /* daemon -> worker */
    CF_CHAN_QUERY,        /* client -> daemon query requests */
    CF_CHAN_QUERY_REPLY   /* daemon -> client query replies */
} cf_chan_t;

typedef enum cf_op {
    CF_OP_NONE = 0,     /* unknown or undecodable */
    CF_OP_ARTICLE,      /* ingest: push an article; query: look one up by id */
    CF_OP_INGEST_REPLY, /* ingest reply {ref, status, id?, error?} */
    CF_OP_READY,        /* worker: ready {credit, pid, version} */
    CF_OP_HEARTBEAT,    /* worker <-> daemon */
    CF_OP_RESULT,       /* worker: result {job, facts, class} */
    CF_OP_ERROR,        /* worker: error {job, error}; query reply: error {ref, error} */
    CF_OP_JOB,          /* daemon -> worker: job {job, article} */
    CF_OP_RELOAD,       /* daemon -> worker: reload data files */
    CF_OP_STOP,         /* daemon -> worker: finish and exit */
    CF_OP_REPLAY,       /* query: replay {since, prefix?, limit?} */
    CF_OP_STATS,        /* query: stats; reply: stats {ref, ...metrics} */
    CF_OP_QUARANTINE,   /* query (operator): list failed articles */
    CF_OP_REQUEUE,      /* query (operator): requeue {id | all} */
    CF_OP_FACT,         /* query reply: {op: fact, ref, fact} */
    CF_OP_END,          /* query reply: {op: end, ref, last, head, error?} */
    CF_OP_FACTS         /* query: facts {type?, subject?, ..., since?, limit?} */
} cf_op_t;

/* The filters of a `facts` query; NULL (or has_* false) means "any". Owned by the
 * cf_msg_t that holds it. period_from / period_to are periods or dates in the
 * grammar of SPEC.md section 8, checked by the decoder; a range means overlap. */
typedef struct cf_msg_facts {
    char *type;             /* exact fact type */
    char *subject;          /* exact entity id */
    char *object;           /* exact entity id */
    char *status;           /* exact status word */
    char *place;            /* exact place name */
    char *period_from;      /* the range starts on the first day of this period */
    char *period_to;        /* and ends on the last day of this one */
    char *text;             /* an FTS5 query over article titles and bodies */
    uint64_t article;       /* the article id, when has_article */
    bool has_article;
    uint64_t since;         /* facts with seq > since */
    uint64_t limit;         /* most facts, when has_limit */
    bool has_limit;
} cf_msg_facts_t;

/* A decoded message. Owns everything it points to; cf_msg_clear frees it. */
typedef struct cf_msg {
    cf_op_t op;                     /* what it is */
    uint8_t ref[CF_MAX_REF + 9];    /* the request's ref, msgpack-encoded, echoed verbatim */
    size_t ref_len;                 /* 0: no ref (replies carry nil) */
    union {
        cf_article_t article;       /* CF_OP_ARTICLE on ingest */
        struct {
            unsigned credit;        /* most jobs in flight, 0..CF_MAX_CREDIT (0: leaving) */
            uint64_t pid;           /* the worker's process id */
            unsigned version;       /* protocol version, CF_PROTOCOL_VERSION */
            char *token;            /* or NULL: what the daemon gave a worker it spawned,
                                       which vouches for its pid (SPEC.md 6) */
        } ready;
        struct {
            uint64_t job;           /* lease id */
            cf_article_t article;   /* with its id */
        } job;
        struct {
            uint64_t job;           /* lease id */
            cf_facts_t facts;       /* without seq */
            cf_class_t cls;         /* article classification */
            char *strings;          /* NULL, or (cf_msg_decode_worker) the block holding
                                       every string of facts and cls and cls's arrays:
                                       free facts.v and it, nothing else */
        } result;
        struct {
            uint64_t job;           /* lease id, 0 when nil */
            char *error;            /* why */
        } error;
        struct {
            uint64_t since;         /* facts with seq > since */
            char **prefixes;        /* topic prefixes; none means all */
            size_t nprefixes;
            uint64_t limit;         /* most facts; 0 with has_limit false: no limit */
            bool has_limit;
        } replay;
        cf_msg_facts_t facts;       /* CF_OP_FACTS */
        struct {
            uint64_t id;            /* CF_OP_ARTICLE on query */
        } get;
        struct {
            uint64_t id;            /* the article, when !all */
            bool all;               /* every failed article */
        } requeue;
        struct {
            uint64_t since;         /* articles with id > since */
            uint64_t limit;         /* most per reply stream; 0: the server's page size */
        } quarantine;
        struct {
            int rc;                 /* CF_OK (accepted), CF_EDUP, CF_EINVAL, CF_EBUSY, CF_EDENIED */
            uint64_t id;            /* 0 when absent */
            char *error;            /* or NULL */
        } reply;                    /* CF_OP_INGEST_REPLY */
        struct {
            cf_fact_t fact;         /* CF_OP_FACT */
        } fact;
        struct {
            uint64_t last;          /* seq of the last fact sent, or since */
            uint64_t head;          /* highest archived seq */
            char *error;            /* an aborted stream says why, else NULL */
        } end;
    } u;
} cf_msg_t;

/* Decodes one body that arrived on chan into msg (overwritten; clear it after).
 * On CF_OK msg->op is set and its fields valid. On CF_EINVAL or CF_ETOOBIG, err
 * says which field and why, and msg->ref / msg->op are still set when they could
 * be read, so the reply can echo them; so is the job (lease) of a result or a job
 * (else 0), so that the daemon can end the attempt the bad result answers and a
 * worker can answer a job it cannot read. A map's unknown keys are ignored. */
int cf_msg_decode(cf_chan_t chan, const void *data, size_t len, cf_msg_t *msg, cf_err_t *err);

/* As cf_msg_decode(CF_CHAN_TO_DAEMON, ...), same checks, errors and decoded message,
 * except that a result's strings (facts and class) and the class's two arrays are not
 * allocated one by one but live in one block, msg->u.result.strings (each string
 * NUL-terminated). cf_msg_clear frees it; whoever takes the facts and class out of
 * msg takes the block too and frees facts.v and the block only (never
 * cf_facts_clear / cf_class_clear on them). */
int cf_msg_decode_worker(const void *data, size_t len, cf_msg_t *msg, cf_err_t *err);

/* Frees what msg owns and zeroes it. */
void cf_msg_clear(cf_msg_t *msg);

/* Decodes a published fact body (topic fact.*) into f (caller clears it). */
int cf_msg_decode_fact(const void *data, size_t len, cf_fact_t *f, cf_err_t *err);

/* Checks a body is one well-formed msgpack value within the decoder's bounds (at
 * most 16 levels deep, a bounded number of objects, no count larger than the bytes
 * left) without allocating. Every decoder runs it first: msgpack-c reserves memory
 * for a container's declared count before reading it. */
int cf_msg_scan(const void *data, size_t len, cf_err_t *err);

/* The ingest status word for a return code: accepted, duplicate, invalid, busy, denied. */
const char *cf_msg_status_name(int rc);

/* Room for the topic of any fact that passes cf_fact_validate (a type and a subject
 * of at most CF_MAX_FACT_TEXT bytes each), the NUL included. */
#define CF_MSG_TOPIC_MAX (sizeof "fact.." + 2 * (size_t)CF_MAX_FACT_TEXT)

/* Writes the topic "fact.<type>.<subject>" for f into out, cut to outsz - 1 bytes
 * (CF_MSG_TOPIC_MAX: never for a valid fact); returns its length. */
size_t cf_msg_topic(const cf_fact_t *f, char *out, size_t outsz);

/* ---- encoders: each appends one complete body to buf (a msgpack_sbuffer). ---- */

/* Ingest request {op: article, ref, url, title, body, source?, published?, lang?}. */
void cf_msg_pack_article(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                         const cf_article_t *a);

/* Ingest reply {ref, status, id?, error?}; id is sent when not 0, error when not NULL. */
void cf_msg_pack_ingest_reply(msgpack_sbuffer *buf, const void *ref, size_t ref_len, int rc,
                              uint64_t id, const char *error);

/* {op} alone: heartbeat, reload, stop, stats. */
void cf_msg_pack_op(msgpack_sbuffer *buf, const char *op, const void *ref, size_t ref_len);

/* Worker messages. */

/* The environment variable in which the daemon gives each worker it spawns the token
 * that worker sends in its `ready` (SPEC.md 6). */
#define CF_WORKER_TOKEN_ENV "CLOUDFACT_WORKER_TOKEN"

void cf_msg_pack_ready(msgpack_sbuffer *buf, unsigned credit, uint64_t pid);
/* The same with `token` (NULL: none, as cf_msg_pack_ready). */
void cf_msg_pack_ready_token(msgpack_sbuffer *buf, unsigned credit, uint64_t pid,
                             const char *token);
void cf_msg_pack_job(msgpack_sbuffer *buf, uint64_t job, const cf_article_t *a);
void cf_msg_pack_result(msgpack_sbuffer *buf, uint64_t job, const cf_facts_t *facts,
                        const cf_class_t *cls);
void cf_msg_pack_worker_error(msgpack_sbuffer *buf, uint64_t job, const char *error);

/* A fact map, every field present (nil when unknown); seq and article nil when 0. */
void cf_msg_pack_fact_map(msgpack_packer *pk, const cf_fact_t *f);
/* A published fact body (the map alone). */
void cf_msg_pack_fact(msgpack_sbuffer *buf, const cf_fact_t *f);

/* Published events. */
void cf_msg_pack_article_done(msgpack_sbuffer *buf, uint64_t id, const char *url,
                              uint64_t nfacts, uint64_t first_seq, uint64_t last_seq);
void cf_msg_pack_article_failed(msgpack_sbuffer *buf, uint64_t id, const char *url,
                                unsigned attempts, const char *error);
void cf_msg_pack_sys_heartbeat(msgpack_sbuffer *buf, uint64_t last, double time);

/* Query requests and replies. */
void cf_msg_pack_replay(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t since,
                        const char *const *prefixes, size_t nprefixes, uint64_t limit,
                        bool has_limit);
/* facts {filters...}: every non-NULL filter of q is sent, since always. */
void cf_msg_pack_facts(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                       const cf_msg_facts_t *q);
void cf_msg_pack_get_article(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                             uint64_t id);
void cf_msg_pack_query_fact(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                            const cf_fact_t *f);
void cf_msg_pack_end(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t last,
                     uint64_t head, const char *error);
void cf_msg_pack_query_error(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                             const char *error);
/* {op: article, ref, article: {id, url, title, body, source, published, lang}, facts: [...]} */
void cf_msg_pack_article_reply(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                               const cf_article_t *a, const char *state, const cf_facts_t *facts);

/* Operator ops. quarantine {since, limit?}; one quarantined article
 * {op: quarantined, ref, article: {id, url, title, attempts, error, received_at}};
 * requeue {id} or {all: true}; its reply {op: requeue, ref, requeued}. */
void cf_msg_pack_quarantine(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                            uint64_t since, uint64_t limit);
void cf_msg_pack_quarantined(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t id,
                             const char *url, const char *title, unsigned attempts,
                             const char *error, const char *received_at);
void cf_msg_pack_requeue(msgpack_sbuffer *buf, const void *ref, size_t ref_len, uint64_t id,
                         bool all);
void cf_msg_pack_requeue_reply(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                               uint64_t requeued);

/* Packs a ref value (already msgpack-encoded) or nil when ref_len is 0. */
void cf_msg_pack_ref(msgpack_packer *pk, const void *ref, size_t ref_len);

/* Packs a C string as str, or nil when s is NULL. */
void cf_msg_pack_str(msgpack_packer *pk, const char *s);

/* A fact read in place (e.g. straight from SQLite's columns): each string is a
 * pointer and a length, p NULL for nil; nothing is owned. */
typedef struct cf_strv {
    const char *p;
    size_t n;
} cf_strv_t;

typedef struct cf_fact_view {
    uint64_t seq, article;          /* 0: nil */
    cf_strv_t type, subject, object;
    bool has_value;
    double value;
    cf_strv_t unit, period, place, detail, qualifier, status, source;
    double confidence;
    cf_strv_t evidence;
    uint64_t evidence_start, evidence_end;
} cf_fact_view_t;

/* {op: fact, ref, fact} from a view, appended to buf: byte for byte what
 * cf_msg_pack_query_fact packs for the same fact (its strings without NUL bytes),
 * written directly (one capacity check per message). Returns the bytes appended. */
size_t cf_msg_pack_query_fact_view(msgpack_sbuffer *buf, const void *ref, size_t ref_len,
                                   const cf_fact_view_t *v);

/* A published fact body (the map alone) from a view, appended to buf: byte for byte
 * what cf_msg_pack_fact packs for the same fact (strings without NUL bytes), in one
 * pass with one capacity check. Returns the bytes appended. */
size_t cf_msg_pack_fact_view(msgpack_sbuffer *buf, const cf_fact_view_t *v);

/* The view of f: its strings borrowed (lengths by strlen), seq, article and numbers copied. */
void cf_fact_view_of(cf_fact_view_t *v, const cf_fact_t *f);

#endif
