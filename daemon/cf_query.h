/* SPDX-License-Identifier: MIT
 * cf_query: the query ROUTER: `article {id}` (the article, its state and its
 * facts), `stats` (a flat map of counters), and the streams `replay {since,
 * prefix?, limit?}` and `facts {filters...}` (one `fact` message per fact in seq
 * order, then `end {last, head, error?}`), read page by page from a read-only
 * connection of its own (cf_reader) with server-side flow control: the streams
 * take bounded turns (a page read or a batch of messages) round robin within a
 * short slice per loop iteration, and one pauses while its client's pipe is full. On a second
 * ROUTER bound to an ipc:// control endpoint (socket file mode 0660: the service's group), the
 * operator ops `quarantine` (list failed articles) and `requeue {id | all}`. Replies carry `op` and
 * echo `ref`. */
#ifndef CF_QUERY_H
#define CF_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <msgpack.h>

#include "cf_archive.h"
#include "cf_auth.h"
#include "cf_err.h"
#include "cf_metrics.h"

typedef struct cf_query cf_query_t;

/* What the daemon supplies: it knows every module. */
typedef struct cf_query_opts {
    /* Packs the `stats` reply's metric name -> number pairs (keys and values only,
     * no map header) and returns how many pairs it packed. */
    size_t (*stats)(msgpack_packer *pk, void *arg);
    /* Articles went back to the queue (requeue): hand them out. May be NULL. */
    void (*requeued)(void *arg);
    void *arg;
    /* CURVE and allowlists for the query endpoint (borrowed), or NULL: plain. Operator
     * ops are served on control, and on query to keys on the operators list. */
    cf_auth_t *auth;
    size_t max_frames; /* frames per request; 0: CF_MAX_FRAMES */
} cf_query_opts_t;

/* Binds the query ROUTER on endpoint and, when control is not NULL, the operator
 * ROUTER on control (an ipc:// endpoint), and opens a read-only connection to
 * archive's file. Borrows archive; copies opts. */
cf_query_t *cf_query_new(struct event_base *base, void *zctx, const char *endpoint,
                         const char *control, cf_archive_t *archive,
                         const cf_query_opts_t *opts, cf_err_t *err);

/* Writes the query socket's families: cloudfact_query_streams, _streams_total,
 * _streams_aborted_total, _streams_failed_total, _stream_facts_total,
 * _stream_paused_total, _stream_page_max, _replies_dropped_total,
 * _article_bytes_held and _articles_busy_total (zeros when self is NULL: the
 * daemon has not made it yet). The `stats` hook
 * should carry them too: the `stats` reply adds nothing of its own. */
void cf_query_metrics(const cf_query_t *self, cf_metrics_t *m);

/* Shutdown: every stream drops what it holds unsent and ends with `end {error:
 * "busy: shutting down, retry later"}` (its last: the last fact sent), as soon as
 * its client's pipe takes it; new streams are refused the same way. Lookups and
 * operator ops are still served. */
void cf_query_stop(cf_query_t *self);

/* Operator requests waiting for their commit, and after cf_query_stop the streams
 * whose `end` has not gone out yet (shutdown waits for 0, within a bound). */
size_t cf_query_pending(const cf_query_t *self);

/* At stop, before the archive closes: ends what is left of the streams and closes
 * the read connection, so that the archive's writer is the last connection and
 * SQLite removes the WAL and shared-memory files (a read-only one cannot). Nothing
 * may be read after it; operator replies still go out. */
void cf_query_close_reader(cf_query_t *self);

void cf_query_destroy(cf_query_t **self_p);

#endif
