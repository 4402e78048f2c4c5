/* SPDX-License-Identifier: MIT
 * cf_query: the query ROUTER: `article {id}` (the article and its facts) and
 * `stats` (a flat map of counters). Replies carry `op` and echo `ref`. */
#ifndef CF_QUERY_H
#define CF_QUERY_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>
#include <msgpack.h>

#include "cf_archive.h"
#include "cf_err.h"

typedef struct cf_query cf_query_t;

/* Packs the `stats` reply's metric name -> number pairs (keys and values only, no
 * map header) and returns how many pairs it packed. Supplied by the daemon, which
 * knows every module. */
typedef size_t (*cf_query_stats_cb)(msgpack_packer *pk, void *arg);

cf_query_t *cf_query_new(struct event_base *base, void *zctx, const char *endpoint,
                         cf_archive_t *archive, cf_query_stats_cb stats, void *arg,
                         cf_err_t *err);

void cf_query_destroy(cf_query_t **self_p);

#endif
