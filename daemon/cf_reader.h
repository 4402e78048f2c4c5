/* SPDX-License-Identifier: MIT
 * cf_reader: read-only access to the archive for the query socket: a SQLite
 * connection of its own (never the writer's), article lookups, and paged cursors
 * over the fact log for `replay` and `facts`. Every page is one short read
 * transaction (`WHERE seq > ? AND seq <= ? ... ORDER BY seq LIMIT ?`), so a cursor
 * holds no transaction between pages and a slow client never starves the WAL
 * checkpoints (STACK.md section 5). Loop thread only; nothing here touches ZeroMQ. */
#ifndef CF_READER_H
#define CF_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cf_err.h"
#include "cf_fact.h"
#include "cf_msg.h"

typedef struct cf_reader cf_reader_t;
typedef struct cf_cursor cf_cursor_t;

/* Opens db_path read-only (the archive must exist: the daemon opens cf_archive
 * first). Returns NULL with err on failure. */
cf_reader_t *cf_reader_open(const char *db_path, cf_err_t *err);

/* Closes the connection. Destroy the reader's cursors first. NULL-safe. */
void cf_reader_close(cf_reader_t **self_p);

/* The highest archived seq (0 when none). Returns CF_OK or CF_EDB. */
int cf_reader_head(cf_reader_t *self, uint64_t *head, cf_err_t *err);

/* The id of the archived article whose url is url[0:url_len) (compared byte for
 * byte, as the archive's UNIQUE url does), in one short read. Returns CF_OK,
 * CF_ENOTFOUND or CF_EDB. */
int cf_reader_article_id(cf_reader_t *self, const char *url, size_t url_len, uint64_t *id,
                         cf_err_t *err);

/* The article with this id, its state (caller frees *state) and its facts in seq
 * order, read in one transaction. Returns CF_OK, CF_ENOTFOUND or CF_EDB. The
 * caller clears *out and *facts. */
int cf_reader_article(cf_reader_t *self, uint64_t id, cf_article_t *out, char **state,
                      cf_facts_t *facts, cf_err_t *err);

/* A cursor over the facts with seq > since whose topic fact.<type>.<subject>
 * starts with one of prefixes (all facts when nprefixes is 0), at most limit of
 * them when has_limit. Borrows prefixes (copied). Returns NULL with err. */
cf_cursor_t *cf_reader_replay(cf_reader_t *self, uint64_t since, const char *const *prefixes,
                              size_t nprefixes, uint64_t limit, bool has_limit, cf_err_t *err);

/* A cursor over the facts matching q (DESIGN.md `facts`: exact type, subject,
 * object, status, place, article; period range overlap; text an FTS5 query over the
 * article's title and body; since; limit). Borrows q (copied). Returns NULL with
 * err (CF_EINVAL for a bad period). */
cf_cursor_t *cf_reader_facts(cf_reader_t *self, const cf_msg_facts_t *q, cf_err_t *err);

/* Reads the next page in one read transaction: clears page, then appends at most
 * max facts (max >= 1) in seq order. A page may come back empty while the cursor
 * is not done: a call examines a bounded stretch of the log (at most 4 spans of
 * 16,384 seqs, no further span after 4 ms), so a selective filter takes many.
 * *done is set when nothing is left up to the head of this read. Returns CF_OK or
 * CF_EDB (e.g. an FTS5 syntax error: err says why; the cursor is then done). */
int cf_cursor_next(cf_cursor_t *c, cf_facts_t *page, size_t max, bool *done, cf_err_t *err);

/* Called for each fact of a page, in seq order; row points into SQLite's column
 * memory and is valid during the call only. */
typedef void (*cf_cursor_row_fn)(const cf_fact_view_t *row, void *arg);

/* As cf_cursor_next, without copying: hands each fact of the next page to fn as
 * it is read (no cf_fact_t, no allocation) and sets *n to how many. On CF_EDB the
 * rows already handed over must be discarded (the cursor is then done). */
int cf_cursor_next_rows(cf_cursor_t *c, size_t max, cf_cursor_row_fn fn, void *arg, size_t *n,
                        bool *done, cf_err_t *err);

/* The seq of the last fact returned, or since when none yet. */
uint64_t cf_cursor_last(const cf_cursor_t *c);

/* The highest archived seq seen by the last page read (or at creation). */
uint64_t cf_cursor_head(const cf_cursor_t *c);

/* The SQLite VM steps c's page reads have run so far: their work, as a count. */
uint64_t cf_cursor_steps(const cf_cursor_t *c);

void cf_cursor_destroy(cf_cursor_t **c_p);

#endif
