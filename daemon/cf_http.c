/* SPDX-License-Identifier: MIT
 * cf_http: evhttp with the limits libevent 2.1 leaves loose by default (headers and
 * body unlimited, five methods allowed, 50 s timeouts). */
#include "cf_http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "cf_text.h"

#define MAX_HEADERS 8192 /* bytes of request headers */
#define TIMEOUT_S 5      /* read/write timeout per connection */

struct cf_http {
    struct evhttp *http;          /* owned */
    cf_http_metrics_cb metrics;   /* renders /metrics */
    cf_http_health_cb health;     /* decides /healthz */
    void *arg;                    /* for both */
    cf_http_stats_t st;           /* counters */
};

int
cf_http_parse_addr(const char *addr, char *host, size_t hostlen, uint16_t *port, cf_err_t *err)
{
    const char *colon;
    size_t hl;
    const char *h = addr;
    if (addr[0] == '[') {
        const char *close = strchr(addr, ']');
        if (!close || close[1] != ':')
            return cf_err_set(err, CF_EINVAL, "'%s': expected [ADDR]:PORT", addr);
        h = addr + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(addr, ':');
        if (!colon || strchr(addr, ':') != colon)
            return cf_err_set(err, CF_EINVAL, "'%s': expected ADDR:PORT or off", addr);
        hl = (size_t)(colon - addr);
    }
    if (hl == 0 || hl >= hostlen)
        return cf_err_set(err, CF_EINVAL, "'%s': missing or overlong address", addr);
    char *end;
    long p = strtol(colon + 1, &end, 10);
    if (end == colon + 1 || *end || p < 1 || p > 65535)
        return cf_err_set(err, CF_EINVAL, "'%s': port must be 1..65535", addr);
    memcpy(host, h, hl);
    host[hl] = '\0';
    *port = (uint16_t)p;
    return CF_OK;
}

static void
reply(cf_http_t *self, struct evhttp_request *req, int code, const char *reason,
      const char *ctype, struct evbuffer *body)
{
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", ctype);
    evhttp_add_header(h, "Cache-Control", "no-store");
    /* HEAD: GET's headers, no body. libevent 2.1 would send the body, which a client
     * reusing the connection reads as the start of the next reply */
    if (body && evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
        char len[24];
        snprintf(len, sizeof len, "%zu", evbuffer_get_length(body));
        evhttp_add_header(h, "Content-Length", len);
        evbuffer_drain(body, evbuffer_get_length(body));
    }
    self->st.requests++;
    if (code == HTTP_NOTFOUND || code == HTTP_BADMETHOD)
        self->st.rejected++;
    evhttp_send_reply(req, code, reason, body);
}

static bool
method_ok(cf_http_t *self, struct evhttp_request *req)
{
    enum evhttp_cmd_type m = evhttp_request_get_command(req);
    if (m == EVHTTP_REQ_GET || m == EVHTTP_REQ_HEAD)
        return true;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
    reply(self, req, HTTP_BADMETHOD, "Method Not Allowed", "text/plain; charset=utf-8", NULL);
    return false;
}

static void
on_metrics(struct evhttp_request *req, void *arg)
{
    cf_http_t *self = arg;
    if (!method_ok(self, req))
        return;
    cf_metrics_t *m = cf_metrics_new();
    self->metrics(m, self->arg);
    size_t len;
    const char *text = cf_metrics_text(m, &len);
    struct evbuffer *out = evbuffer_new();
    evbuffer_add(out, text, len);
    cf_metrics_destroy(&m);
    reply(self, req, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", out);
    evbuffer_free(out);
}

static void
on_healthz(struct evhttp_request *req, void *arg)
{
    cf_http_t *self = arg;
    if (!method_ok(self, req))
        return;
    char why[256] = "";
    bool ok = self->health(why, sizeof why, self->arg);
    struct evbuffer *out = evbuffer_new();
    if (ok)
        evbuffer_add_printf(out, "ok\n");
    else
        evbuffer_add_printf(out, "unhealthy: %s\n", why);
    reply(self, req, ok ? HTTP_OK : 503, ok ? "OK" : "Service Unavailable",
          "text/plain; charset=utf-8", out);
    evbuffer_free(out);
}

static void
on_other(struct evhttp_request *req, void *arg)
{
    cf_http_t *self = arg;
    if (!method_ok(self, req))
        return;
    struct evbuffer *out = evbuffer_new();
    evbuffer_add_printf(out, "not found: try /metrics or /healthz\n");
    reply(self, req, HTTP_NOTFOUND, "Not Found", "text/plain; charset=utf-8", out);
    evbuffer_free(out);
}

cf_http_t *
cf_http_new(struct event_base *base, const char *addr, cf_http_metrics_cb metrics,
            cf_http_health_cb health, void *arg, cf_err_t *err)
{
    char host[256];
    uint16_t port;
    if (cf_http_parse_addr(addr, host, sizeof host, &port, err) != CF_OK)
        return NULL;
    cf_http_t *self = cf_calloc(1, sizeof *self);
    self->metrics = metrics;
    self->health = health;
    self->arg = arg;
    self->http = evhttp_new(base);
    if (!self->http) {
        cf_err_set(err, CF_ESYS, "http: cannot create the server");
        goto fail;
    }
    evhttp_set_max_headers_size(self->http, MAX_HEADERS);
    evhttp_set_max_body_size(self->http, 0);
    /* every method reaches our callbacks, which answer all but GET and HEAD 405 with
     * Allow (evhttp would answer the ones it was not told of 501, uncounted) */
    evhttp_set_allowed_methods(self->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST |
                                               EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
                                               EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                               EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
    evhttp_set_timeout(self->http, TIMEOUT_S);
    evhttp_set_default_content_type(self->http, "text/plain; charset=utf-8");
    evhttp_set_cb(self->http, "/metrics", on_metrics, self);
    evhttp_set_cb(self->http, "/healthz", on_healthz, self);
    evhttp_set_gencb(self->http, on_other, self);
    errno = 0;
    if (!evhttp_bind_socket_with_handle(self->http, host, port)) {
        /* the socket call's own reason (in use, a port below 1024 without the
         * capability); a name that does not resolve leaves errno alone */
        if (errno)
            cf_err_sys(err, "http: cannot listen on %s", addr);
        else
            cf_err_set(err, CF_EINVAL, "http: cannot listen on %s: no such address", addr);
        goto fail;
    }
    return self;
fail:
    cf_http_destroy(&self);
    return NULL;
}

void
cf_http_stats(const cf_http_t *self, cf_http_stats_t *out)
{
    *out = self->st;
}

void
cf_http_destroy(cf_http_t **self_p)
{
    cf_http_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->http)
        evhttp_free(self->http);
    free(self);
    *self_p = NULL;
}
