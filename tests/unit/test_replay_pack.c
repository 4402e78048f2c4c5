/* SPDX-License-Identifier: MIT
 * Unit tests for the replay hot path: cf_msg_pack_query_fact_view (a `fact` body
 * packed straight from borrowed strings) must be byte for byte what
 * cf_msg_pack_query_fact packs for the same fact, and cf_cursor_next_rows (rows
 * viewed in SQLite's memory) must pack, page after page, exactly the bytes of
 * cf_cursor_next's copied facts. */
#include <ftw.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <sqlite3.h>

#include "cf_archive.h"
#include "cf_log.h"
#include "cf_msg.h"
#include "cf_reader.h"
#include "cf_test.h"

static cf_strv_t
sv(const char *s)
{
    return (cf_strv_t){s, s ? strlen(s) : 0};
}

static cf_fact_view_t
view_of(const cf_fact_t *f)
{
    return (cf_fact_view_t){
        .seq = f->seq, .article = f->article, .type = sv(f->type), .subject = sv(f->subject),
        .object = sv(f->object), .has_value = f->has_value, .value = f->value,
        .unit = sv(f->unit), .period = sv(f->period), .place = sv(f->place),
        .detail = sv(f->detail), .qualifier = sv(f->qualifier), .status = sv(f->status),
        .source = sv(f->source), .confidence = f->confidence, .evidence = sv(f->evidence),
        .evidence_start = f->evidence_start, .evidence_end = f->evidence_end};
}

static void
check_bytes(const msgpack_sbuffer *a, const msgpack_sbuffer *b, const char *what)
{
    if (a->size != b->size || memcmp(a->data, b->data, a->size) != 0) {
        size_t i = 0;
        while (i < a->size && i < b->size && a->data[i] == b->data[i])
            i++;
        fprintf(stderr, "%s: %zu vs %zu bytes, first difference at %zu\n", what, a->size,
                b->size, i);
        cf_test_failures++;
    }
}

static char *
filled(size_t n)
{
    char *s = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = (char)('a' + i % 26);
    s[n] = 0;
    return s;
}

/* Every width of every field, nil and not, three kinds of ref. */
static void
test_view_matches_fact(void)
{
    static const size_t lens[] = {0, 1, 31, 32, 255, 256, 65535, 65536, 70000};
    static const uint64_t nums[] = {0,      1,          127,           128,
                                    255,    256,        65535,         65536,
                                    UINT32_MAX, (uint64_t)UINT32_MAX + 1, UINT64_MAX};
    static const double dbls[] = {0.0, -0.0, 0.5, 1e300, -3.25, 123456789.0};
    static const uint8_t refs[][4] = {{0}, {0x07}, {0xa2, 'a', 'b'}, {0xcd, 0x12, 0x34}};
    static const size_t ref_lens[] = {0, 1, 3, 3};
    char *strs[sizeof lens / sizeof *lens];
    for (size_t i = 0; i < sizeof lens / sizeof *lens; i++)
        strs[i] = filled(lens[i]);
    msgpack_sbuffer a, b;
    msgpack_sbuffer_init(&a);
    msgpack_sbuffer_init(&b);
    size_t nl = sizeof lens / sizeof *lens, nn = sizeof nums / sizeof *nums;
    size_t nd = sizeof dbls / sizeof *dbls;
    for (size_t k = 0; k < 64; k++) {
        /* field j of fact k takes length (k + j) % nl, nil every 5th */
#define S(j) ((k + (j)) % 5 == 4 ? NULL : strs[(k + (j)) % nl])
        cf_fact_t f = {
            .seq = nums[k % nn], .article = nums[(k + 3) % nn], .type = S(0),
            .subject = S(1), .object = S(2), .has_value = k % 3 != 0, .value = dbls[k % nd],
            .unit = S(3), .period = S(4), .place = S(5), .detail = S(6), .qualifier = S(7),
            .status = S(8), .source = S(9), .confidence = dbls[(k + 1) % nd],
            .evidence = S(10), .evidence_start = nums[(k + 5) % nn],
            .evidence_end = nums[(k + 7) % nn]};
#undef S
        if (k == 63)
            f.value = NAN;
        const void *ref = refs[k % 4];
        size_t ref_len = ref_lens[k % 4];
        cf_fact_view_t v = view_of(&f);
        /* appended behind what is already there, as a page does */
        size_t before = a.size;
        cf_msg_pack_query_fact(&b, ref, ref_len, &f);
        size_t n = cf_msg_pack_query_fact_view(&a, ref, ref_len, &v);
        CF_CHECK_INT(n, a.size - before);
        char what[32];
        snprintf(what, sizeof what, "fact %zu", k);
        check_bytes(&a, &b, what);
        /* the published body: cf_msg_pack_fact_view (the daemon's view through
         * cf_fact_view_of) against cf_msg_pack_fact, in fresh and in used buffers */
        cf_fact_view_t pv;
        cf_fact_view_of(&pv, &f);
        msgpack_sbuffer pa, pb;
        msgpack_sbuffer_init(&pa);
        msgpack_sbuffer_init(&pb);
        for (int rep = 0; rep < 2; rep++) {
            cf_msg_pack_fact(&pb, &f);
            before = pa.size;
            n = cf_msg_pack_fact_view(&pa, &pv);
            CF_CHECK_INT(n, pa.size - before);
            snprintf(what, sizeof what, "published fact %zu/%d", k, rep);
            check_bytes(&pa, &pb, what);
        }
        msgpack_sbuffer_destroy(&pa);
        msgpack_sbuffer_destroy(&pb);
    }
    /* the body decodes as a `fact` reply with the same fact */
    msgpack_sbuffer_clear(&a);
    cf_fact_t f = {.seq = 42, .article = 7, .type = "revenue", .subject = "aws",
                   .has_value = true, .value = 1.5e9, .unit = "USD", .period = "2016-Q2",
                   .status = "reported", .confidence = 0.9, .evidence = "AWS revenue",
                   .evidence_start = 3, .evidence_end = 14};
    cf_fact_view_t v = view_of(&f);
    uint8_t ref = 0x07;
    cf_msg_pack_query_fact_view(&a, &ref, 1, &v);
    cf_msg_t msg;
    cf_err_t err;
    CF_CHECK_INT(cf_msg_decode(CF_CHAN_QUERY_REPLY, a.data, a.size, &msg, &err), CF_OK);
    CF_CHECK_INT(msg.op, CF_OP_FACT);
    CF_CHECK_INT(msg.u.fact.fact.seq, 42);
    CF_CHECK_STR(msg.u.fact.fact.subject, "aws");
    cf_msg_clear(&msg);
    for (size_t i = 0; i < nl; i++)
        free(strs[i]);
    msgpack_sbuffer_destroy(&a);
    msgpack_sbuffer_destroy(&b);
}

/* cf_msg_topic (by hand) gives what snprintf gave, truncation included. */
static void
test_topic_matches_snprintf(void)
{
    static const char *types[] = {NULL, "", "revenue", "market_share"};
    static const char *subjects[] = {NULL, "", "aws", "a-very-long-entity-id-0123456789"};
    static const size_t sizes[] = {1, 2, 5, 6, 7, 12, 20, 45, 512};
    for (size_t t = 0; t < 4; t++)
        for (size_t u = 0; u < 4; u++)
            for (size_t z = 0; z < sizeof sizes / sizeof *sizes; z++) {
                cf_fact_t f = {.type = (char *)types[t], .subject = (char *)subjects[u]};
                char want[512], got[512];
                memset(got, 'x', sizeof got);
                int w = snprintf(want, sizes[z], "fact.%s.%s", types[t] ? types[t] : "",
                                 subjects[u] ? subjects[u] : "");
                size_t wn = (size_t)w < sizes[z] ? (size_t)w : sizes[z] - 1;
                CF_CHECK_INT(cf_msg_topic(&f, got, sizes[z]), wn);
                CF_CHECK_STR(got, want);
            }
}

/* ---- through the reader -------------------------------------------------------- */

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

typedef struct sink {
    msgpack_sbuffer buf;
    size_t rows;
} sink_t;

static void
on_row(const cf_fact_view_t *row, void *arg)
{
    sink_t *s = arg;
    static const uint8_t ref[] = {0xa3, 'r', 'e', 'f'};
    cf_msg_pack_query_fact_view(&s->buf, ref, sizeof ref, row);
    s->rows++;
}

static void
test_rows_match_pages(void)
{
    evthread_use_pthreads();
    cf_log_level = CF_LOG_WARN;
    char tmp[64], dir[96];
    snprintf(tmp, sizeof tmp, "/tmp/cf-rpack-XXXXXX");
    if (!mkdtemp(tmp))
        abort();
    snprintf(dir, sizeof dir, "%s/state", tmp);
    struct event_base *base = event_base_new();
    cf_err_t err;
    cf_archive_t *a = cf_archive_open(dir, base, NULL, &err);
    CF_CHECK(a != NULL);
    if (!a)
        return;
    sqlite3 *w;
    CF_CHECK_INT(sqlite3_open(cf_archive_db_path(a), &w), SQLITE_OK);
    sqlite3_busy_timeout(w, 5000);
    sqlite3_exec(w,
                 "INSERT INTO articles(id, url, title, body, state) VALUES"
                 " (1, 'https://t/1', 'T', 'AWS opens a region.', 'done'),"
                 " (300, 'https://t/300', 'U', 'Azure grew.', 'done')",
                 NULL, NULL, NULL);
    sqlite3_stmt *s;
    CF_CHECK_INT(sqlite3_prepare_v2(w,
                                    "INSERT INTO facts(article, type, subject, object, value,"
                                    " unit, period, place, detail, qualifier, status, source,"
                                    " confidence, evidence, evidence_start, evidence_end)"
                                    " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
                                    " ?12, ?13, ?14, ?15, ?16)",
                                    -1, &s, NULL),
                 SQLITE_OK);
    char *long_text = filled(300);
    sqlite3_exec(w, "BEGIN", NULL, NULL, NULL);
    for (int i = 0; i < 1000; i++) {
        sqlite3_bind_int(s, 1, i % 2 ? 300 : 1);
        for (int c = 2; c <= 12; c++) {
            if (c == 5) {
                if (i % 3)
                    sqlite3_bind_double(s, 5, i * 1234.5);
                else
                    sqlite3_bind_null(s, 5);
            } else if ((i + c) % 4 == 0) {
                sqlite3_bind_null(s, c);
            } else {
                sqlite3_bind_text(s, c, long_text + (i * 7 + c) % 300, -1, SQLITE_STATIC);
            }
        }
        if (i % 10 == 9)
            sqlite3_bind_null(s, 13);
        else
            sqlite3_bind_double(s, 13, (i % 100) / 100.0);
        if (i % 6 == 5)
            sqlite3_bind_null(s, 14);
        else
            sqlite3_bind_text(s, 14, long_text, (i * 13) % 300, SQLITE_STATIC);
        sqlite3_bind_int64(s, 15, (sqlite3_int64)i * 1000);
        sqlite3_bind_int64(s, 16, (sqlite3_int64)i * 100000);
        CF_CHECK_INT(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
    }
    sqlite3_exec(w, "COMMIT", NULL, NULL, NULL);
    sqlite3_finalize(s);
    free(long_text);

    cf_reader_t *r = cf_reader_open(cf_archive_db_path(a), &err);
    CF_CHECK(r != NULL);
    static const uint8_t ref[] = {0xa3, 'r', 'e', 'f'};
    const char *prefixes[] = {"fact."};
    cf_cursor_t *c1 = cf_reader_replay(r, 5, prefixes, 1, 0, false, &err);
    cf_cursor_t *c2 = cf_reader_replay(r, 5, prefixes, 1, 0, false, &err);
    msgpack_sbuffer want;
    msgpack_sbuffer_init(&want);
    sink_t got = {0};
    msgpack_sbuffer_init(&got.buf);
    cf_facts_t page = {0};
    bool d1 = false, d2 = false;
    size_t pages = 0;
    while ((!d1 || !d2) && pages < 1000) {
        size_t n = 0;
        CF_CHECK_INT(cf_cursor_next(c1, &page, 64, &d1, &err), CF_OK);
        for (size_t i = 0; i < page.n; i++)
            cf_msg_pack_query_fact(&want, ref, sizeof ref, &page.v[i]);
        size_t before = got.rows;
        CF_CHECK_INT(cf_cursor_next_rows(c2, 64, on_row, &got, &n, &d2, &err), CF_OK);
        CF_CHECK_INT(n, got.rows - before);
        CF_CHECK_INT(n, page.n);
        CF_CHECK_INT(d1, d2);
        CF_CHECK_INT(cf_cursor_last(c1), cf_cursor_last(c2));
        pages++;
    }
    CF_CHECK_INT(got.rows, 995);
    check_bytes(&got.buf, &want, "replay pages");
    cf_facts_clear(&page);
    cf_cursor_destroy(&c1);
    cf_cursor_destroy(&c2);
    msgpack_sbuffer_destroy(&want);
    msgpack_sbuffer_destroy(&got.buf);
    cf_reader_close(&r);
    sqlite3_close(w);
    cf_archive_close(&a);
    event_base_free(base);
    nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

CF_TEST_LIST(CF_TEST(test_view_matches_fact), CF_TEST(test_topic_matches_snprintf),
             CF_TEST(test_rows_match_pages))
