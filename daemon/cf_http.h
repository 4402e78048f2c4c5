/* SPDX-License-Identifier: MIT
 * cf_http: /metrics (Prometheus text) and /healthz over libevent's evhttp, on the
 * loop thread. Handlers render from in-memory counters through the owner's
 * callbacks, never from SQLite (STACK.md section 6). Limits: GET and HEAD only,
 * 8 KiB of headers, no body, 5 s timeouts. */
#ifndef CF_HTTP_H
#define CF_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

#include "cf_err.h"
#include "cf_metrics.h"

typedef struct cf_http cf_http_t;

/* Appends every metric family to out. */
typedef void (*cf_http_metrics_cb)(cf_metrics_t *out, void *arg);

/* True when healthy; otherwise writes the reason (one line) into why. */
typedef bool (*cf_http_health_cb)(char *why, size_t n, void *arg);

typedef struct cf_http_stats {
    uint64_t requests;  /* requests answered, whatever the status */
    uint64_t rejected;  /* answered 404 or 405 */
} cf_http_stats_t;

/* Parses "HOST:PORT" or "[V6]:PORT" (port 1..65535) into host and port. Returns
 * CF_OK or CF_EINVAL with err. */
int cf_http_parse_addr(const char *addr, char *host, size_t hostlen, uint16_t *port,
                       cf_err_t *err);

/* Binds addr ("HOST:PORT") on base. Returns NULL with err when the address is
 * malformed or cannot be bound (in use, no such address). */
cf_http_t *cf_http_new(struct event_base *base, const char *addr, cf_http_metrics_cb metrics,
                       cf_http_health_cb health, void *arg, cf_err_t *err);

void cf_http_stats(const cf_http_t *self, cf_http_stats_t *out);

/* Closes the listener and any open connection. NULL-safe. */
void cf_http_destroy(cf_http_t **self_p);

#endif
