/* SPDX-License-Identifier: MIT
 * Fuzz target for cf_msg: every channel's decoder and the published-fact decoder
 * run on the input. When a decode succeeds and the op has an encoder, the message
 * is encoded, decoded again on the same channel (which must succeed with the same
 * op) and encoded once more: the two encodings must be identical. Any failure of
 * those round trips aborts, so the fuzzer reports it. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cf_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fail(const char *what, cf_chan_t chan, const cf_err_t *err)
{
    fprintf(stderr, "fuzz_msg: %s (channel %d): %s\n", what, (int)chan, err ? err->text : "");
    abort();
}

/* Encodes m as it arrived on chan; false when the op has no encoder. */
static bool
encode(cf_chan_t chan, const cf_msg_t *m, msgpack_sbuffer *buf)
{
    switch (m->op) {
    case CF_OP_ARTICLE:
        if (chan == CF_CHAN_INGEST)
            cf_msg_pack_article(buf, m->ref, m->ref_len, &m->u.article);
        else if (chan == CF_CHAN_QUERY)
            cf_msg_pack_get_article(buf, m->ref, m->ref_len, m->u.get.id);
        else
            return false; /* an article reply: clients read it generically */
        return true;
    case CF_OP_INGEST_REPLY:
        cf_msg_pack_ingest_reply(buf, m->ref, m->ref_len, m->u.reply.rc, m->u.reply.id,
                                 m->u.reply.error);
        return true;
    case CF_OP_READY: cf_msg_pack_ready(buf, m->u.ready.credit, m->u.ready.pid); return true;
    case CF_OP_HEARTBEAT: cf_msg_pack_op(buf, "heartbeat", m->ref, m->ref_len); return true;
    case CF_OP_RELOAD: cf_msg_pack_op(buf, "reload", m->ref, m->ref_len); return true;
    case CF_OP_STOP: cf_msg_pack_op(buf, "stop", m->ref, m->ref_len); return true;
    case CF_OP_STATS: cf_msg_pack_op(buf, "stats", m->ref, m->ref_len); return true;
    case CF_OP_QUARANTINE: cf_msg_pack_op(buf, "quarantine", m->ref, m->ref_len); return true;
    case CF_OP_RESULT:
        cf_msg_pack_result(buf, m->u.result.job, &m->u.result.facts, &m->u.result.cls);
        return true;
    case CF_OP_ERROR:
        if (chan == CF_CHAN_TO_DAEMON)
            cf_msg_pack_worker_error(buf, m->u.error.job, m->u.error.error);
        else
            cf_msg_pack_query_error(buf, m->ref, m->ref_len, m->u.error.error);
        return true;
    case CF_OP_JOB: cf_msg_pack_job(buf, m->u.job.job, &m->u.job.article); return true;
    case CF_OP_REPLAY:
        cf_msg_pack_replay(buf, m->ref, m->ref_len, m->u.replay.since,
                           (const char *const *)m->u.replay.prefixes, m->u.replay.nprefixes,
                           m->u.replay.limit, m->u.replay.has_limit);
        return true;
    case CF_OP_FACTS: cf_msg_pack_facts(buf, m->ref, m->ref_len, &m->u.facts); return true;
    case CF_OP_FACT: cf_msg_pack_query_fact(buf, m->ref, m->ref_len, &m->u.fact.fact); return true;
    case CF_OP_END:
        cf_msg_pack_end(buf, m->ref, m->ref_len, m->u.end.last, m->u.end.head, m->u.end.error);
        return true;
    case CF_OP_REQUEUE: /* no encoder: clients build it by hand */
    case CF_OP_NONE: return false;
    }
    return false;
}

static void
round_trip(cf_chan_t chan, const cf_msg_t *m)
{
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    if (encode(chan, m, &a)) {
        cf_msg_t again;
        cf_err_t err;
        if (cf_msg_decode(chan, a.data, a.size, &again, &err) != CF_OK)
            fail("re-encoded message does not decode", chan, &err);
        if (again.op != m->op)
            fail("re-decoded op differs", chan, NULL);
        if (again.ref_len != m->ref_len || memcmp(again.ref, m->ref, m->ref_len) != 0) {
            /* the worker-channel encoders take no ref */
            if (m->op != CF_OP_READY && !(m->op == CF_OP_ERROR && chan == CF_CHAN_TO_DAEMON) &&
                m->op != CF_OP_JOB && m->op != CF_OP_RESULT)
                fail("ref not preserved", chan, NULL);
        }
        if (!encode(chan, &again, &b) || a.size != b.size || memcmp(a.data, b.data, a.size) != 0)
            fail("second encoding differs from the first", chan, NULL);
        cf_msg_clear(&again);
    }
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const cf_chan_t chans[] = {CF_CHAN_INGEST,    CF_CHAN_INGEST_REPLY, CF_CHAN_TO_DAEMON,
                                      CF_CHAN_TO_WORKER, CF_CHAN_QUERY,        CF_CHAN_QUERY_REPLY};
    for (size_t i = 0; i < sizeof chans / sizeof *chans; i++) {
        cf_msg_t msg;
        cf_err_t err;
        if (cf_msg_decode(chans[i], data, size, &msg, &err) == CF_OK)
            round_trip(chans[i], &msg);
        else if (err.text[0] == '\0' || msg.ref_len > sizeof msg.ref)
            fail("a failed decode must say why", chans[i], &err);
        cf_msg_clear(&msg);
    }

    /* the daemon's worker decoder (a one-pass fast path, else the full decoder) must
     * answer exactly as the full decoder does */
    {
        cf_msg_t full, fast;
        cf_err_t e1, e2;
        int r1 = cf_msg_decode(CF_CHAN_TO_DAEMON, data, size, &full, &e1);
        int r2 = cf_msg_decode_worker(data, size, &fast, &e2);
        if (r1 != r2 || (r1 != CF_OK && strcmp(e1.text, e2.text) != 0))
            fail("cf_msg_decode_worker disagrees with cf_msg_decode", CF_CHAN_TO_DAEMON, &e2);
        if (r2 == CF_OK)
            round_trip(CF_CHAN_TO_DAEMON, &fast);
        cf_msg_clear(&full);
        cf_msg_clear(&fast);
    }

    cf_fact_t f;
    cf_err_t err;
    if (cf_msg_decode_fact(data, size, &f, &err) == CF_OK) {
        msgpack_sbuffer a, b;
        msgpack_sbuffer_init(&a);
        msgpack_sbuffer_init(&b);
        cf_msg_pack_fact(&a, &f);
        cf_fact_t g;
        if (cf_msg_decode_fact(a.data, a.size, &g, &err) != CF_OK)
            fail("re-encoded fact does not decode", 0, &err);
        cf_msg_pack_fact(&b, &g);
        if (a.size != b.size || memcmp(a.data, b.data, a.size) != 0)
            fail("second fact encoding differs from the first", 0, NULL);
        char topic[512];
        (void)cf_msg_topic(&g, topic, sizeof topic);
        cf_fact_clear(&g);
        msgpack_sbuffer_destroy(&a);
        msgpack_sbuffer_destroy(&b);
    }
    cf_fact_clear(&f);
    (void)cf_msg_scan(data, size, &err);
    return 0;
}
