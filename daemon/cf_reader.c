/* SPDX-License-Identifier: MIT
 * cf_reader: the query side of the archive. One read-only connection; every
 * cursor owns one prepared statement built from fixed SQL fragments (values are
 * always bound, never spliced) and walks the fact log by seq in bounded steps. */
#include "cf_reader.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "cf_archive.h"
#include "cf_clock.h"
#include "cf_text.h"

#define BUSY_TIMEOUT_MS 5000 /* a checkpoint or recovery holding the WAL index */
#define WINDOW 16384         /* seq span one statement run may examine */
#define WINDOW_MIN 1024      /* ... at least (the span shrinks for dense matches) */
#define WINDOWS_PER_PAGE 4   /* spans per cf_cursor_next: bounds one call's work */
#define PAGE_BUDGET_US 4000  /* ... and no further span once a call has taken this long */

/* of facts f (every statement names the table f: pages join it with a span table) */
#define FACT_COLUMNS                                                                               \
    "f.seq, f.article, f.type, f.subject, f.object, f.value, f.unit, f.period, f.place,"           \
    " f.detail, f.qualifier, f.status, f.source, f.confidence, f.evidence, f.evidence_start,"      \
    " f.evidence_end"

struct cf_reader {
    char *path;             /* the database file */
    sqlite3 *db;            /* read-only connection */
    sqlite3_stmt *head;     /* max(seq), the spans' mark */
    sqlite3_stmt *article;  /* one article by id */
    sqlite3_stmt *facts_of; /* its facts */
    sqlite3_stmt *by_url;   /* an article's id by url */
    sqlite3_stmt *begin;    /* BEGIN (deferred: a read transaction) */
    sqlite3_stmt *commit;   /* COMMIT */
};

/* One bound value of a cursor's filter, in parameter order from ?4 on. */
typedef struct bindv {
    char *text;  /* a text value, or NULL for an integer */
    int64_t num; /* the integer when text is NULL */
} bindv_t;

struct cf_cursor {
    cf_reader_t *reader; /* borrowed */
    sqlite3_stmt *stmt;  /* the page query: ?1 after, ?2 up to, ?3 limit, ?4... filter */
    sqlite3_stmt *tail;  /* a type or subject query's page above the spans' mark (the
                          * same parameters, read from the log), or NULL */
    bindv_t *binds;      /* filter values */
    size_t nbinds;
    bool none;          /* the filter can match no fact (e.g. prefix "article.") */
    int64_t pos;        /* every seq <= pos has been examined */
    int64_t window;     /* the span the next statement run examines: about twice what
                         * the last full page took, so a dense match reads (and a text
                         * filter lists) little beyond its page */
    uint64_t last;      /* seq of the last fact returned, or since */
    uint64_t head;      /* max(seq) at the last read */
    uint64_t remaining; /* facts still allowed by limit */
    bool limited;       /* limit given */
    bool done;          /* nothing left */
    uint64_t steps;     /* SQLite VM steps its page statements ran (cf_cursor_steps) */
};

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */

static char *
col_strdup(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? cf_strndup((const char *)t, (size_t)sqlite3_column_bytes(s, i)) : NULL;
}


static void read_fact(sqlite3_stmt *s, cf_fact_t *f);

static int
db_err(cf_reader_t *self, cf_err_t *err, const char *what)
{
    return cf_err_set(err, CF_EDB, "archive: %s: %s", what, sqlite3_errmsg(self->db));
}

static int
run_simple(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? SQLITE_OK : rc;
}

/* Ends a read transaction whatever happened inside it. */
static void
end_read(cf_reader_t *self)
{
    if (!sqlite3_get_autocommit(self->db) && run_simple(self->commit) != SQLITE_OK)
        sqlite3_exec(self->db, "ROLLBACK", NULL, NULL, NULL);
}

/* The last seq and the spans' mark (cf_archive.h); mark may be NULL. */
static int
read_head(cf_reader_t *self, uint64_t *head, uint64_t *mark)
{
    int rc = sqlite3_step(self->head);
    if (rc == SQLITE_ROW) {
        *head = (uint64_t)sqlite3_column_int64(self->head, 0);
        if (mark)
            *mark = (uint64_t)sqlite3_column_int64(self->head, 1);
        rc = SQLITE_OK;
    }
    sqlite3_reset(self->head);
    return rc;
}

/* A growable SQL text made of fixed fragments only. */
typedef struct sql {
    char *p;
    size_t n, cap;
} sql_t;

static void
sql_add(sql_t *b, const char *frag)
{
    size_t len = strlen(frag);
    if (b->n + len + 1 > b->cap) {
        while (b->n + len + 1 > b->cap)
            b->cap = b->cap ? b->cap * 2 : 512;
        b->p = cf_realloc(b->p, b->cap);
    }
    memcpy(b->p + b->n, frag, len + 1);
    b->n += len;
}

/* Appends parameter n ("?n"). */
static void
sql_param(sql_t *b, size_t n)
{
    char param[24];
    snprintf(param, sizeof param, "?%zu", n);
    sql_add(b, param);
}

/* Appends "?N" for the next filter value and records it. */
static void
bind_next(sql_t *b, cf_cursor_t *c, const char *text, int64_t num)
{
    c->binds = cf_realloc(c->binds, (c->nbinds + 1) * sizeof *c->binds);
    c->binds[c->nbinds].text = text ? cf_strdup(text) : NULL;
    c->binds[c->nbinds].num = num;
    c->nbinds++;
    sql_param(b, c->nbinds + 3);
}

/* ------------------------------------------------------------------------ */
/* The reader                                                                */

cf_reader_t *
cf_reader_open(const char *db_path, cf_err_t *err)
{
    cf_reader_t *self = cf_calloc(1, sizeof *self);
    self->path = cf_strdup(db_path);
    if (sqlite3_open_v2(db_path, &self->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        cf_err_set(err, CF_EDB, "archive %s: cannot open for reading: %s", db_path,
                   self->db ? sqlite3_errmsg(self->db) : "out of memory");
        cf_reader_close(&self);
        return NULL;
    }
    sqlite3_busy_timeout(self->db, BUSY_TIMEOUT_MS);
    static const struct {
        size_t off;
        const char *sql;
    } stmts[] = {
        {offsetof(cf_reader_t, head),
         "SELECT coalesce(max(seq), 0), (SELECT seq FROM fact_spans_mark) FROM facts"},
        {offsetof(cf_reader_t, article),
         "SELECT id, url, title, body, source, published, lang, state FROM articles"
         " WHERE id = ?1"},
        {offsetof(cf_reader_t, facts_of),
         "SELECT " FACT_COLUMNS " FROM facts f WHERE f.article = ?1 ORDER BY f.seq"},
        {offsetof(cf_reader_t, by_url), "SELECT id FROM articles WHERE url = ?1"},
        {offsetof(cf_reader_t, begin), "BEGIN"},
        {offsetof(cf_reader_t, commit), "COMMIT"},
    };
    for (size_t i = 0; i < sizeof stmts / sizeof *stmts; i++) {
        sqlite3_stmt **s = (sqlite3_stmt **)((char *)self + stmts[i].off);
        if (sqlite3_prepare_v3(self->db, stmts[i].sql, -1, SQLITE_PREPARE_PERSISTENT, s, NULL) !=
            SQLITE_OK) {
            cf_err_set(err, CF_EDB, "archive %s: cannot prepare a read statement: %s", db_path,
                       sqlite3_errmsg(self->db));
            cf_reader_close(&self);
            return NULL;
        }
    }
    return self;
}

void
cf_reader_close(cf_reader_t **self_p)
{
    cf_reader_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    sqlite3_finalize(self->head);
    sqlite3_finalize(self->article);
    sqlite3_finalize(self->facts_of);
    sqlite3_finalize(self->by_url);
    sqlite3_finalize(self->begin);
    sqlite3_finalize(self->commit);
    /* close_v2: a cursor still alive keeps the connection until it is destroyed */
    sqlite3_close_v2(self->db);
    free(self->path);
    free(self);
    *self_p = NULL;
}

int
cf_reader_head(cf_reader_t *self, uint64_t *head, cf_err_t *err)
{
    *head = 0;
    if (read_head(self, head, NULL) != SQLITE_OK)
        return db_err(self, err, "reading the last seq");
    return CF_OK;
}

int
cf_reader_article_id(cf_reader_t *self, const char *url, size_t url_len, uint64_t *id,
                     cf_err_t *err)
{
    *id = 0;
    sqlite3_stmt *s = self->by_url;
    if (url_len > INT_MAX)
        return cf_err_set(err, CF_ENOTFOUND, "no such article");
    sqlite3_bind_text(s, 1, url, (int)url_len, SQLITE_STATIC);
    int step = sqlite3_step(s);
    if (step == SQLITE_ROW)
        *id = (uint64_t)sqlite3_column_int64(s, 0);
    int rc = step == SQLITE_ROW    ? CF_OK
             : step == SQLITE_DONE ? cf_err_set(err, CF_ENOTFOUND, "no such article")
                                   : db_err(self, err, "looking up an article's url");
    sqlite3_reset(s); /* ends the read: no snapshot held between requests */
    sqlite3_clear_bindings(s);
    return rc;
}

int
cf_reader_article(cf_reader_t *self, uint64_t id, cf_article_t *out, char **state,
                  cf_facts_t *facts, cf_err_t *err)
{
    memset(out, 0, sizeof *out);
    *state = NULL;
    int rc = CF_OK;
    /* one read transaction: the article and its facts from the same snapshot */
    if (run_simple(self->begin) != SQLITE_OK)
        return db_err(self, err, "reading an article");
    sqlite3_stmt *s = self->article;
    sqlite3_bind_int64(s, 1, id > INT64_MAX ? INT64_MAX : (sqlite3_int64)id);
    int step = sqlite3_step(s);
    if (step == SQLITE_DONE) {
        rc = cf_err_set(err, CF_ENOTFOUND, "no such article");
        goto out;
    }
    if (step != SQLITE_ROW)
        goto dberr;
    out->id = (uint64_t)sqlite3_column_int64(s, 0);
    out->url = col_strdup(s, 1);
    out->title = col_strdup(s, 2);
    out->body = col_strdup(s, 3);
    out->body_len = out->body ? (size_t)sqlite3_column_bytes(s, 3) : 0;
    out->source = col_strdup(s, 4);
    out->published = col_strdup(s, 5);
    out->lang = col_strdup(s, 6);
    *state = col_strdup(s, 7);
    s = self->facts_of;
    sqlite3_bind_int64(s, 1, (sqlite3_int64)out->id);
    while ((step = sqlite3_step(s)) == SQLITE_ROW)
        read_fact(s, cf_facts_push(facts));
    if (step != SQLITE_DONE)
        goto dberr;
    goto out;
dberr:
    rc = db_err(self, err, "reading an article");
    cf_article_clear(out);
    cf_facts_clear(facts);
    free(*state);
    *state = NULL;
out:
    sqlite3_reset(self->article);
    sqlite3_reset(self->facts_of);
    end_read(self);
    return rc;
}

/* ------------------------------------------------------------------------ */
/* Cursors                                                                   */

static cf_cursor_t *
cursor_new(cf_reader_t *self, uint64_t since, uint64_t limit, bool has_limit)
{
    cf_cursor_t *c = cf_calloc(1, sizeof *c);
    c->reader = self;
    c->last = since;
    c->pos = since > INT64_MAX ? INT64_MAX : (int64_t)since;
    c->window = WINDOW;
    c->limited = has_limit;
    c->remaining = limit; /* limit 0: the first read reads the head only, for `end` */
    return c;
}

/* A page is the facts in seqs (?1, ?2], at most ?3, in seq order: either a range of the
 * log, filtered, or (a type or subject given) the spans of that key reaching into the
 * range (cf_archive.h), then the facts they cover, filtered the same way. Each page
 * statement ends with ORDER_LOG or, on one key's spans (which never overlap), ORDER_SPANS:
 * seq order again, without a sort. */
static const char *const select_page =
    "SELECT " FACT_COLUMNS " FROM facts f WHERE f.seq > ?1 AND f.seq <= ?2";
/* Opens a page statement with a text filter: win, the span's lowest and highest article
 * (computed once per run). */
#define WITH_WINDOW_ARTICLES                                                                       \
    "WITH win AS MATERIALIZED (SELECT min(article) AS lo, max(article) AS hi FROM facts"           \
    " WHERE seq > ?1 AND seq <= ?2) "
#define ORDER_LOG " ORDER BY f.seq"
#define ORDER_SPANS " ORDER BY s.first, f.seq"

static bool
prepare_page(cf_cursor_t *c, const char *sql, sqlite3_stmt **out, cf_err_t *err)
{
    if (sqlite3_prepare_v3(c->reader->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out, NULL) ==
        SQLITE_OK)
        return true;
    db_err(c->reader, err, "preparing a fact query");
    return false;
}

/* Ends b with the order (and the page's limit) and prepares it as c's statement. With a
 * tail (span_page's), the filter b has after its first head bytes goes on the tail too,
 * which becomes c's statement above the spans' mark. Frees b's and tail's texts. */
static cf_cursor_t *
cursor_prepare(cf_cursor_t *c, sql_t *b, size_t head, sql_t *tail, const char *order, cf_err_t *err)
{
    bool ok = true;
    if (tail && tail->p && !c->none) {
        sql_add(tail, b->p + head);
        sql_add(tail, ORDER_LOG " LIMIT ?3");
        ok = prepare_page(c, tail->p, &c->tail, err);
    }
    if (tail)
        free(tail->p);
    sql_add(b, order);
    sql_add(b, " LIMIT ?3");
    ok = ok && prepare_page(c, b->p, &c->stmt, err);
    free(b->p);
    if (!ok)
        cf_cursor_destroy(&c);
    return c;
}

/* The start of a page over the spans of table (type or subject) whose key is one of
 * keys[0..n) (bound as filter values): s outer (CROSS JOIN keeps that order), f read by
 * seq inside each span, joined on the key too (spans cover other keys' facts). The
 * spans cover the facts up to the mark; the start of the page above it goes in tail:
 * the log, filtered on the key (the same parameters). */
static void
span_page(sql_t *b, sql_t *tail, cf_cursor_t *c, const char *col, const char *const *keys, size_t n)
{
    sql_add(tail, select_page);
    sql_add(tail, " AND f.");
    sql_add(tail, col);
    sql_add(tail, " IN (");
    sql_add(b, "SELECT " FACT_COLUMNS " FROM fact_");
    sql_add(b, col);
    sql_add(b, "_spans s CROSS JOIN facts f ON f.seq BETWEEN s.first AND s.last AND f.");
    sql_add(b, col);
    sql_add(b, " = s.");
    sql_add(b, col);
    sql_add(b, " WHERE s.");
    sql_add(b, col);
    sql_add(b, n == 1 ? " = " : " IN (");
    for (size_t i = 0; i < n; i++) {
        sql_add(b, i ? ", " : "");
        sql_add(tail, i ? ", " : "");
        bind_next(b, c, keys[i], 0);
        sql_param(tail, c->nbinds + 3); /* the same value */
    }
    sql_add(tail, ")");
    sql_add(b, n == 1 ? "" : ")");
    sql_add(b, " AND s.first > ?1 - " CF_ARCHIVE_SPAN_MAX_SQL " AND s.first <= ?2 AND s.last > ?1"
               " AND f.seq > ?1 AND f.seq <= ?2");
}

/* Topic prefix p as a condition on (type, subject): the topic is
 * "fact." type "." subject, and types never contain a dot. */
typedef enum { P_NONE, P_ALL, P_TYPE_PREFIX, P_TYPE, P_TYPE_SUBJECT } pkind_t;

static pkind_t
classify_prefix(const char *p, const char **type_end)
{
    size_t len = strlen(p);
    if (len <= 5) /* "", "f", ..., "fact.": every fact */
        return strncmp("fact.", p, len) == 0 ? P_ALL : P_NONE;
    if (strncmp(p, "fact.", 5) != 0)
        return P_NONE; /* "article.", "sys.": never a fact */
    const char *dot = strchr(p + 5, '.');
    if (!dot)
        return P_TYPE_PREFIX;
    *type_end = dot;
    return dot[1] ? P_TYPE_SUBJECT : P_TYPE;
}

/* Adds type (len bytes) to v[0..*m) unless it is there. */
static void
add_type(char **v, size_t *m, const char *type, size_t len)
{
    for (size_t j = 0; j < *m; j++)
        if (strlen(v[j]) == len && memcmp(v[j], type, len) == 0)
            return;
    v[(*m)++] = cf_strndup(type, len);
}

/* The fact types the prefixes can reach, distinct, in *types (caller frees each and
 * the array): the type a "fact.TYPE." or "fact.TYPE.SUBJ" prefix names, and every
 * type of GUIDELINES.md that a bare type prefix ("fact.reve") starts (the archive holds
 * no other: each fact is validated before it is stored), so that the page reads those
 * types' spans rather than every fact of the log. */
static void
reachable_types(const char *const *prefixes, size_t nprefixes, char ***types, size_t *n)
{
    char **v = cf_calloc(nprefixes * CF_FACT_TYPES + 1, sizeof *v);
    size_t m = 0;
    for (size_t i = 0; i < nprefixes; i++) {
        const char *dot = NULL;
        pkind_t k = classify_prefix(prefixes[i], &dot);
        if (k == P_TYPE || k == P_TYPE_SUBJECT) {
            add_type(v, &m, prefixes[i] + 5, (size_t)(dot - prefixes[i] - 5));
        } else if (k == P_TYPE_PREFIX) {
            size_t pl = strlen(prefixes[i] + 5);
            for (int t = 0; t < CF_FACT_TYPES; t++) {
                const char *name = cf_fact_type_name(t);
                if (strncmp(name, prefixes[i] + 5, pl) == 0)
                    add_type(v, &m, name, strlen(name));
            }
        }
    }
    *types = v;
    *n = m;
}

cf_cursor_t *
cf_reader_replay(cf_reader_t *self, uint64_t since, const char *const *prefixes, size_t nprefixes,
                 uint64_t limit, bool has_limit, cf_err_t *err)
{
    cf_cursor_t *c = cursor_new(self, since, limit, has_limit);
    sql_t b = {0}, tail = {0};
    const char *order = ORDER_LOG;
    bool all = nprefixes == 0, any = false;
    for (size_t i = 0; i < nprefixes; i++)
        if (classify_prefix(prefixes[i], &(const char *){NULL}) == P_ALL)
            all = true;
    char **types = NULL;
    size_t ntypes = 0;
    if (!all)
        reachable_types(prefixes, nprefixes, &types, &ntypes);
    if (ntypes > 0) {
        /* the spans of the types the prefixes reach (spans of several types overlap,
         * so then the page is sorted); the prefixes filter them below */
        span_page(&b, &tail, c, "type", (const char *const *)types, ntypes);
        order = ntypes == 1 ? ORDER_SPANS : ORDER_LOG;
    } else {
        sql_add(&b, select_page);
    }
    size_t head = b.n;
    for (size_t i = 0; i < ntypes; i++)
        free(types[i]);
    free(types);
    if (!all) {
        sql_add(&b, " AND (");
        for (size_t i = 0; i < nprefixes; i++) {
            const char *dot = NULL;
            pkind_t k = classify_prefix(prefixes[i], &dot);
            if (k == P_NONE)
                continue;
            sql_add(&b, any ? " OR " : "");
            any = true;
            if (k == P_TYPE_PREFIX) {
                sql_add(&b, "substr(f.type, 1, length(");
                bind_next(&b, c, prefixes[i] + 5, 0);
                sql_add(&b, ")) = ");
                bind_next(&b, c, prefixes[i] + 5, 0);
                continue;
            }
            char *type = cf_strndup(prefixes[i] + 5, (size_t)(dot - prefixes[i] - 5));
            sql_add(&b, "(f.type = ");
            bind_next(&b, c, type, 0);
            free(type);
            if (k == P_TYPE_SUBJECT) {
                sql_add(&b, " AND substr(f.subject, 1, length(");
                bind_next(&b, c, dot + 1, 0);
                sql_add(&b, ")) = ");
                bind_next(&b, c, dot + 1, 0);
            }
            sql_add(&b, ")");
        }
        sql_add(&b, ")");
        if (ntypes == 0) { /* only prefixes no fact can match (none reaches a type) */
            c->none = true;
            free(b.p);
            b = (sql_t){0};
            sql_add(&b, select_page);
            order = ORDER_LOG;
            head = b.n;
        }
    }
    return cursor_prepare(c, &b, head, &tail, order, err);
}

cf_cursor_t *
cf_reader_facts(cf_reader_t *self, const cf_msg_facts_t *q, cf_err_t *err)
{
    char from[11], to[11], unused[11];
    if (q->period_from && cf_period_range(q->period_from, from, unused) != CF_OK) {
        cf_err_set(err, CF_EINVAL, "field 'period_from': not a period or date");
        return NULL;
    }
    if (q->period_to && cf_period_range(q->period_to, unused, to) != CF_OK) {
        cf_err_set(err, CF_EINVAL, "field 'period_to': not a period or date");
        return NULL;
    }
    cf_cursor_t *c = cursor_new(self, q->since, q->limit, q->has_limit);
    sql_t b = {0}, tail = {0};
    /* a subject is the narrower key (a few facts of an article against ~half of them
     * for a type) */
    const char *key = q->subject ? q->subject : q->type;
    if (q->text) { /* the articles of the span's facts: see the text filter below */
        sql_add(&b, WITH_WINDOW_ARTICLES);
        if (key) /* the page above the spans' mark */
            sql_add(&tail, WITH_WINDOW_ARTICLES);
    }
    if (key)
        span_page(&b, &tail, c, q->subject ? "subject" : "type", &key, 1);
    else
        sql_add(&b, select_page);
    size_t head = b.n;
    const struct {
        const char *frag;
        const char *val;
    } eq[] = {
        {" AND f.type = ", q->type},
        {" AND f.subject = ", q->subject},
        {" AND f.object = ", q->object},
        {" AND f.status = ", q->status},
        {" AND f.place = ", q->place},
        /* a range means overlap: the fact's period ends on or after the range's start
         * and starts on or before its end (ISO dates compare as text) */
        {" AND f.period_end >= ", q->period_from ? from : NULL},
        {" AND f.period_start <= ", q->period_to ? to : NULL},
    };
    for (size_t i = 0; i < sizeof eq / sizeof *eq; i++) {
        if (eq[i].val) {
            sql_add(&b, eq[i].frag);
            bind_next(&b, c, eq[i].val, 0);
        }
    }
    if (q->has_article) {
        sql_add(&b, " AND f.article = ");
        bind_next(&b, c, NULL, q->article > INT64_MAX ? INT64_MAX : (int64_t)q->article);
    }
    if (q->text) {
        /* the match set of the span's articles only: unbounded, FTS5 lists every match
         * in the archive again for each statement run (100 ms and more per page on a
         * large archive, the loop blocked meanwhile); bounded, its rowid range lets it
         * seek, and the work follows the span */
        sql_add(&b, " AND f.article IN (SELECT rowid FROM article_fts WHERE article_fts MATCH ");
        bind_next(&b, c, q->text, 0);
        sql_add(&b, " AND rowid BETWEEN (SELECT lo FROM win) AND (SELECT hi FROM win))");
    }
    return cursor_prepare(c, &b, head, &tail, key ? ORDER_SPANS : ORDER_LOG, err);
}

/* A text column in place: NULL (nil) for SQL NULL. */
static inline cf_strv_t
col_view(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return (cf_strv_t){(const char *)t, t ? (size_t)sqlite3_column_bytes(s, i) : 0};
}

/* Views a row of FACT_COLUMNS (column 0 on) without copying. */
static void
view_fact(sqlite3_stmt *s, cf_fact_view_t *v)
{
    v->seq = (uint64_t)sqlite3_column_int64(s, 0);
    v->article = (uint64_t)sqlite3_column_int64(s, 1);
    v->type = col_view(s, 2);
    v->subject = col_view(s, 3);
    v->object = col_view(s, 4);
    v->has_value = sqlite3_column_type(s, 5) != SQLITE_NULL;
    v->value = v->has_value ? sqlite3_column_double(s, 5) : 0;
    v->unit = col_view(s, 6);
    v->period = col_view(s, 7);
    v->place = col_view(s, 8);
    v->detail = col_view(s, 9);
    v->qualifier = col_view(s, 10);
    v->status = col_view(s, 11);
    v->source = col_view(s, 12);
    v->confidence = sqlite3_column_double(s, 13);
    v->evidence = col_view(s, 14);
    v->evidence_start = (uint64_t)sqlite3_column_int64(s, 15);
    v->evidence_end = (uint64_t)sqlite3_column_int64(s, 16);
}

static char *
view_dup(cf_strv_t v)
{
    return v.p ? cf_strndup(v.p, v.n) : NULL;
}

/* Fills f (owned copies) from a row: the view is the one place that knows the columns. */
static void
read_fact(sqlite3_stmt *s, cf_fact_t *f)
{
    cf_fact_view_t v;
    view_fact(s, &v);
    f->seq = v.seq;
    f->article = v.article;
    f->type = view_dup(v.type);
    f->subject = view_dup(v.subject);
    f->object = view_dup(v.object);
    f->has_value = v.has_value;
    f->value = v.value;
    f->unit = view_dup(v.unit);
    f->period = view_dup(v.period);
    f->place = view_dup(v.place);
    f->detail = view_dup(v.detail);
    f->qualifier = view_dup(v.qualifier);
    f->status = view_dup(v.status);
    f->source = view_dup(v.source);
    f->confidence = v.confidence;
    f->evidence = view_dup(v.evidence);
    f->evidence_start = v.evidence_start;
    f->evidence_end = v.evidence_end;
}

/* One page: each row goes to page (copied) or, when page is NULL, to fn (viewed). */
static int
cursor_read(cf_cursor_t *c, size_t max, cf_facts_t *page, cf_cursor_row_fn fn, void *arg,
            size_t *nout, bool *done, cf_err_t *err)
{
    cf_reader_t *r = c->reader;
    size_t n = 0;
    uint64_t last_seq = 0;
    *nout = 0;
    *done = c->done;
    if (c->done)
        return CF_OK;
    int rc = CF_OK;
    /* SPEC/STACK: one short read transaction per page, nothing held in between */
    uint64_t mark = 0;
    if (run_simple(r->begin) != SQLITE_OK || read_head(r, &c->head, &mark) != SQLITE_OK) {
        rc = db_err(r, err, "reading facts");
        goto out;
    }
    if (c->none)
        c->pos = (int64_t)c->head;
    bool spent = c->limited && c->remaining == 0;
    uint64_t t0 = cf_clock_us();
    for (int w = 0; w < WINDOWS_PER_PAGE && !spent && c->pos < (int64_t)c->head && n == 0 &&
                    (w == 0 || cf_clock_us() - t0 < PAGE_BUDGET_US);
         w++) {
        int64_t hi = c->pos > INT64_MAX - c->window ? INT64_MAX : c->pos + c->window;
        size_t want = max;
        if (c->limited && c->remaining < want)
            want = (size_t)c->remaining;
        sqlite3_stmt *s = c->stmt;
        if (c->tail && (uint64_t)c->pos >= mark) /* above the spans: the log */
            s = c->tail;
        else if (c->tail && (uint64_t)hi > mark) /* the spans up to the mark, then the log */
            hi = (int64_t)mark;
        sqlite3_bind_int64(s, 1, c->pos);
        sqlite3_bind_int64(s, 2, hi);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)want);
        for (size_t i = 0; i < c->nbinds; i++) {
            if (c->binds[i].text)
                sqlite3_bind_text(s, (int)i + 4, c->binds[i].text, -1, SQLITE_STATIC);
            else
                sqlite3_bind_int64(s, (int)i + 4, c->binds[i].num);
        }
        int step;
        while ((step = sqlite3_step(s)) == SQLITE_ROW) {
            if (page) {
                read_fact(s, cf_facts_push(page));
                last_seq = page->v[page->n - 1].seq;
            } else {
                cf_fact_view_t v;
                view_fact(s, &v);
                fn(&v, arg);
                last_seq = v.seq;
            }
            n++;
        }
        c->steps += (uint64_t)sqlite3_stmt_status(s, SQLITE_STMTSTATUS_VM_STEP, 1);
        sqlite3_reset(s);
        if (step != SQLITE_DONE) {
            rc = db_err(r, err, "reading facts");
            if (page)
                cf_facts_clear(page);
            n = 0;
            c->done = true;
            goto out;
        }
        if (n == want) { /* a full page: continue right after its last fact */
            int64_t used = (int64_t)last_seq - c->pos;
            c->window = used < WINDOW_MIN / 2 ? WINDOW_MIN : used > WINDOW / 2 ? WINDOW : 2 * used;
            c->pos = (int64_t)last_seq;
        } else { /* the whole span was examined (nothing lies above head in this read) */
            c->pos = hi < (int64_t)c->head ? hi : (int64_t)c->head;
            c->window = c->window > WINDOW / 4 ? WINDOW : 4 * c->window;
        }
    }
    if (n) {
        c->last = last_seq;
        if (c->limited)
            c->remaining -= n;
    }
    c->done = (c->limited && c->remaining == 0) || c->pos >= (int64_t)c->head;
out:
    end_read(r);
    *nout = n;
    *done = c->done;
    return rc;
}

int
cf_cursor_next(cf_cursor_t *c, cf_facts_t *page, size_t max, bool *done, cf_err_t *err)
{
    size_t n;
    cf_facts_clear(page);
    return cursor_read(c, max, page, NULL, NULL, &n, done, err);
}

int
cf_cursor_next_rows(cf_cursor_t *c, size_t max, cf_cursor_row_fn fn, void *arg, size_t *n,
                    bool *done, cf_err_t *err)
{
    return cursor_read(c, max, NULL, fn, arg, n, done, err);
}

uint64_t
cf_cursor_last(const cf_cursor_t *c)
{
    return c->last;
}

uint64_t
cf_cursor_head(const cf_cursor_t *c)
{
    return c->head;
}

uint64_t
cf_cursor_steps(const cf_cursor_t *c)
{
    return c->steps;
}

void
cf_cursor_destroy(cf_cursor_t **c_p)
{
    cf_cursor_t *c = c_p ? *c_p : NULL;
    if (!c)
        return;
    sqlite3_finalize(c->stmt);
    sqlite3_finalize(c->tail);
    for (size_t i = 0; i < c->nbinds; i++)
        free(c->binds[i].text);
    free(c->binds);
    free(c);
    *c_p = NULL;
}
