/* SPDX-License-Identifier: MIT
 * cf_auth: who may connect. CURVE on every tcp endpoint when the daemon has a
 * server key, and a ZAP handler (RFC 27) in the daemon's own ZeroMQ context that
 * admits a client key only on the endpoints of its roles: scrapers on ingest,
 * subscribers on publish and query, workers on the worker endpoint, operators on
 * query (STACK.md section 3). ipc endpoints stay plain: file permissions guard
 * them. Every refusal is counted by endpoint and reason and logged once per key
 * (or, for a failed handshake, once per endpoint and reason). */
#ifndef CF_AUTH_H
#define CF_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <zmq.h>

#include "cf_err.h"
#include "cf_metrics.h"

/* The endpoints, as ZAP domains (one domain per socket: the ZAP request names the
 * domain, not the socket). */
typedef enum cf_auth_domain {
    CF_AUTH_INGEST,
    CF_AUTH_PUBLISH,
    CF_AUTH_QUERY,
    CF_AUTH_WORKERS,
    CF_AUTH_DOMAINS
} cf_auth_domain_t;

/* The roles, one allowlist directory each. */
typedef enum cf_auth_role {
    CF_ROLE_SCRAPERS,
    CF_ROLE_SUBSCRIBERS,
    CF_ROLE_WORKERS,
    CF_ROLE_OPERATORS,
    CF_ROLES
} cf_auth_role_t;

typedef struct cf_auth_opts {
    const char *curve_key;       /* the server's secret key file; NULL: no CURVE */
    const char *allow[CF_ROLES]; /* allowlist directories; NULL: nobody in the role */
} cf_auth_opts_t;

typedef struct cf_auth cf_auth_t;

/* Reads the server key (refusing one others may read) and the allowlists, and with
 * a key binds the ZAP handler in zctx, which must happen before any server socket
 * binds. Without a key only ipc and plain tcp exist and allowlists are an error.
 * Returns NULL with err: CF_EINVAL / CF_EDENIED for a bad key or list (a
 * configuration error), CF_ESYS otherwise. */
cf_auth_t *cf_auth_new(struct event_base *base, void *zctx, const cf_auth_opts_t *opts,
                       cf_err_t *err);

/* What cf_auth_new reads, read and checked without binding anything (for
 * `--check-config`): CF_OK, or CF_EINVAL / CF_EDENIED with err as cf_auth_new's. */
int cf_auth_check_config(const cf_auth_opts_t *opts, cf_err_t *err);

/* True when CURVE is on (a server key was given). NULL-safe. */
bool cf_auth_curve(const cf_auth_t *self);

/* The server's public key (Z85), "" without CURVE. */
const char *cf_auth_public_key(const cf_auth_t *self);

/* Binds sock to endpoint for domain d: a tcp endpoint of a CURVE daemon becomes a
 * CURVE server with the domain's ZAP domain enforced, and its failed handshakes are
 * counted through a socket monitor; anything else is bound plain. A socket with
 * both binds its plain endpoints first (libzmq cannot unset a ZAP domain). A tcp
 * worker endpoint without CURVE is refused (CF_EINVAL). self may be NULL (plain).
 * An ipc endpoint's path is refused when another process listens there, or may
 * (CF_ESYS: libzmq would take the path over), or when it is not a socket
 * (CF_EINVAL: libzmq would delete the file); a socket file that refuses connections
 * (a killed daemon's) is replaced. The bound socket file gets mode 0660: the service's
 * user and group may connect, others may not. The socket's owner re-arms its
 * watcher afterwards. Errors start with name, the setting that named the endpoint
 * (NULL: the domain's name). */
int cf_auth_bind(cf_auth_t *self, void *sock, cf_auth_domain_t d, const char *name,
                 const char *endpoint, cf_err_t *err);

/* Removes the socket file of an ipc endpoint that this process bound (libzmq
 * leaves it behind at close) once nobody listens on it; a file someone listens on,
 * or that is not a socket, is left alone. Call after closing the socket. */
void cf_auth_unbind_ipc(const char *endpoint);

/* Whether the peer that sent msg (any frame it sent) may still use domain d: CF_OK
 * for a plain or ipc peer and for a CURVE peer whose key is on one of the domain's
 * lists (*who: its name, else NULL); CF_EDENIED for a key removed since it
 * connected (counted as `revoked`, logged once per key). who may be NULL. */
int cf_auth_check(cf_auth_t *self, cf_auth_domain_t d, zmq_msg_t *msg, const char **who);

/* Whether the peer that sent msg on the query socket may run operator ops: a CURVE
 * peer whose key is on the operators list. A refusal is counted as `not_operator`. */
bool cf_auth_operator(cf_auth_t *self, zmq_msg_t *msg);

/* Re-reads every allowlist directory (SIGHUP). On an error in any of them
 * (CF_EINVAL with err) nothing is added, but revocations still apply: each old list
 * stays less the keys whose file was removed or changed (cf_allow_prune). Logs who
 * was added and removed; *lost gets one bit (1 << role) per role that lost a key. */
int cf_auth_reload(cf_auth_t *self, unsigned *lost, cf_err_t *err);

/* Keys on the list of role. */
size_t cf_auth_keys(const cf_auth_t *self, cf_auth_role_t role);

/* Handshakes admitted and refusals, for tests and `stats`. */
uint64_t cf_auth_refused(const cf_auth_t *self);

/* Adds the auth families to a metrics exposition. NULL-safe (zeros). */
void cf_auth_metrics(const cf_auth_t *self, cf_metrics_t *m);

/* Closes the ZAP handler and the monitors (before zmq_ctx_term). NULL-safe. */
void cf_auth_destroy(cf_auth_t **self_p);

#endif
