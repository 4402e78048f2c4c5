/* SPDX-License-Identifier: MIT
 * cf_auth: the ZAP handler and the allowlists. The handler is a REP socket on
 * inproc://zeromq.zap.01 watched by the loop like any other socket: libzmq runs
 * the CURVE handshake in its I/O thread and waits for our reply, so no thread of
 * ours is needed. ZMQ_ZAP_ENFORCE_DOMAIN makes a missing handler fail closed
 * (without it libzmq 4.3 admits any client that knows the server key). */
#include "cf_auth.h"

#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cf_allow.h"
#include "cf_key.h"
#include "cf_log.h"
#include "cf_loop.h"
#include "cf_text.h"

#ifndef ZMQ_ZAP_ENFORCE_DOMAIN /* a draft name in 4.3's header; the option works (STACK.md 3) */
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define MAX_MONITORS 8
#define LOGGED_SLOTS 4096 /* distinct refusals logged once each; beyond, rate-limited */

typedef enum reason {
    R_UNKNOWN_KEY,  /* ZAP: the key is on no list */
    R_WRONG_ROLE,   /* ZAP: the key is on another role's list */
    R_NO_CURVE,     /* handshake: the client did not speak CURVE */
    R_BAD_HANDSHAKE, /* handshake: wrong server key, garbage, a protocol error */
    R_REVOKED,      /* a message from a key removed since it connected */
    R_NOT_OPERATOR, /* an operator op from a key not on the operators list */
    R_COUNT
} reason_t;

static const char *const reason_names[R_COUNT] = {"unknown_key", "wrong_role",  "no_curve",
                                                   "bad_handshake", "revoked", "not_operator"};
static const char *const domain_names[CF_AUTH_DOMAINS] = {"ingest", "publish", "query",
                                                          "workers"};
static const char *const role_names[CF_ROLES] = {"scrapers", "subscribers", "workers",
                                                 "operators"};
/* The roles admitted on each domain (bit 1 << role). */
static const unsigned domain_roles[CF_AUTH_DOMAINS] = {
    1u << CF_ROLE_SCRAPERS,
    1u << CF_ROLE_SUBSCRIBERS,
    (1u << CF_ROLE_SUBSCRIBERS) | (1u << CF_ROLE_OPERATORS),
    1u << CF_ROLE_WORKERS,
};

typedef struct monitor {
    cf_auth_t *auth;
    void *watched;           /* the server socket (borrowed) */
    cf_auth_domain_t domain;
    cf_zsock_t *zs;          /* the PAIR receiving its events */
} monitor_t;

struct cf_auth {
    struct event_base *base;
    void *zctx;
    bool curve;
    char sec[CF_KEY_Z85 + 1];
    char pub[CF_KEY_Z85 + 1];
    /* "cf-<random hex>:": the User-Id the ZAP handler gives starts with it. A plain
     * peer can announce any User-Id property in its ZMTP READY; it cannot know this. */
    char uid_prefix[40];
    char *dirs[CF_ROLES];
    cf_allow_t *allow[CF_ROLES];
    cf_allow_t *prev[CF_ROLES];  /* the lists before the last reload: names of revoked keys */
    cf_zsock_t *zap;             /* the ZAP handler, or NULL without CURVE */
    monitor_t mon[MAX_MONITORS];
    size_t nmon;
    uint64_t accepted[CF_AUTH_DOMAINS];
    uint64_t refused[CF_AUTH_DOMAINS][R_COUNT];
    uint64_t logged[LOGGED_SLOTS]; /* hashes of refusals already logged (0: free) */
    size_t nlogged;
    cf_ratelog_t overflow_log;
};

/* ---- logging each refusal once ----------------------------------------------- */

static uint64_t
fnv(const char *a, const char *b, const char *c)
{
    uint64_t h = 1469598103934665603ull;
    const char *parts[3] = {a, b, c};
    for (size_t i = 0; i < 3; i++) {
        for (const char *p = parts[i]; p && *p; p++)
            h = (h ^ (uint8_t)*p) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull;
    }
    return h ? h : 1;
}

/* True the first time (domain, reason, who) is seen: log it then. Past the table's
 * capacity every refusal goes through one rate-limited line instead. */
static bool
first_time(cf_auth_t *self, cf_auth_domain_t d, reason_t r, const char *who)
{
    uint64_t h = fnv(domain_names[d], reason_names[r], who);
    size_t i = (size_t)(h % LOGGED_SLOTS);
    for (size_t k = 0; k < LOGGED_SLOTS; k++, i = (i + 1) % LOGGED_SLOTS) {
        if (self->logged[i] == h)
            return false;
        if (self->logged[i] == 0) {
            if (self->nlogged >= LOGGED_SLOTS * 3 / 4)
                break;
            self->logged[i] = h;
            self->nlogged++;
            return true;
        }
    }
    cf_ratelog(&self->overflow_log, CF_LOG_WARN,
               "auth: refusing connections on %s (%s); too many distinct refusals to log each",
               domain_names[d], reason_names[r]);
    return false;
}

static void
refuse(cf_auth_t *self, cf_auth_domain_t d, reason_t r, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void
refuse(cf_auth_t *self, cf_auth_domain_t d, reason_t r, const char *who, const char *fmt, ...)
{
    self->refused[d][r]++;
    if (!first_time(self, d, r, who))
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cf_log_warn("auth: %s: refused (%s): %s (logged once; counted in "
                "cloudfact_auth_refused_total)",
                domain_names[d], reason_names[r], line);
}

/* ---- the ZAP handler ------------------------------------------------------------ */

/* The role lists that hold key, as bits, and the first name found. */
static unsigned
roles_of(const cf_auth_t *self, const uint8_t *key, const char **name)
{
    unsigned roles = 0;
    *name = NULL;
    for (int r = 0; r < CF_ROLES; r++) {
        const char *n = cf_allow_find(self->allow[r], key);
        if (n) {
            roles |= 1u << r;
            if (!*name)
                *name = n;
        }
    }
    return roles;
}

static void
zap_reply(cf_auth_t *self, zmq_msg_t *request_id, const char *status, const char *text,
          const char *user)
{
    zmq_msg_t f[6];
    const char *parts[6] = {"1.0", NULL, status, text, user, ""};
    for (size_t i = 0; i < 6; i++) {
        if (i == 1) {
            zmq_msg_init(&f[1]);
            zmq_msg_copy(&f[1], request_id);
            continue;
        }
        size_t n = strlen(parts[i]);
        zmq_msg_init_size(&f[i], n);
        memcpy(zmq_msg_data(&f[i]), parts[i], n);
    }
    cf_zsock_send(self->zap, f, 6);
}

static bool
frame_is(zmq_msg_t *m, const char *s)
{
    size_t n = strlen(s);
    return zmq_msg_size(m) == n && memcmp(zmq_msg_data(m), s, n) == 0;
}

static void
on_zap(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    cf_auth_t *self = arg;
    /* RFC 27: version, request id, domain, address, identity, mechanism, credentials */
    if (n < 2) {
        zmq_msg_t empty;
        zmq_msg_init(&empty);
        zap_reply(self, &empty, "500", "malformed request", "");
        zmq_msg_close(&empty);
        return;
    }
    if (n != 7 || overflow || !frame_is(&frames[0], "1.0")) {
        zap_reply(self, &frames[1], "500", "malformed request", "");
        return;
    }
    int d = -1;
    for (int i = 0; i < CF_AUTH_DOMAINS; i++)
        if (frame_is(&frames[2], domain_names[i]))
            d = i;
    char addr[64];
    snprintf(addr, sizeof addr, "%.*s", (int)(zmq_msg_size(&frames[3]) < 63 ? zmq_msg_size(&frames[3]) : 63),
             (const char *)zmq_msg_data(&frames[3]));
    if (d < 0 || !frame_is(&frames[5], "CURVE") || zmq_msg_size(&frames[6]) != CF_KEY_BIN) {
        /* only our own sockets ask, and only for CURVE: anything else is a bug */
        cf_log_error("auth: unexpected ZAP request (domain '%.*s', mechanism '%.*s')",
                     (int)(zmq_msg_size(&frames[2]) < 32 ? zmq_msg_size(&frames[2]) : 32),
                     (const char *)zmq_msg_data(&frames[2]),
                     (int)(zmq_msg_size(&frames[5]) < 16 ? zmq_msg_size(&frames[5]) : 16),
                     (const char *)zmq_msg_data(&frames[5]));
        zap_reply(self, &frames[1], "400", "not allowed", "");
        return;
    }
    const uint8_t *key = zmq_msg_data(&frames[6]);
    char z85[CF_KEY_Z85 + 1];
    zmq_z85_encode(z85, key, CF_KEY_BIN);
    const char *name;
    unsigned roles = roles_of(self, key, &name);
    if (roles & domain_roles[d]) {
        self->accepted[d]++;
        cf_log_debug("auth: %s: admitted '%s' from %s", domain_names[d], name, addr);
        /* the user id every message of this peer carries: its key, so a revocation
         * can be checked per message (cf_auth_check) */
        char uid[sizeof self->uid_prefix + CF_KEY_Z85];
        snprintf(uid, sizeof uid, "%s%s", self->uid_prefix, z85);
        zap_reply(self, &frames[1], "200", "OK", uid);
        return;
    }
    if (roles) {
        const char *role = "";
        for (int r = 0; r < CF_ROLES; r++)
            if (roles & (1u << r)) {
                role = role_names[r];
                break;
            }
        refuse(self, (cf_auth_domain_t)d, R_WRONG_ROLE, z85,
               "key '%s' (on the %s list) from %s is not allowed here", name, role, addr);
    } else {
        refuse(self, (cf_auth_domain_t)d, R_UNKNOWN_KEY, z85,
               "unknown key %s from %s (add its .pub to an allowlist to let it in)", z85,
               addr);
    }
    zap_reply(self, &frames[1], "400", "not allowed", "");
}

/* ---- handshake failures, through socket monitors -------------------------------- */

static void
on_monitor(cf_zsock_t *zs, zmq_msg_t *frames, size_t n, bool overflow, void *arg)
{
    (void)zs;
    (void)overflow;
    monitor_t *m = arg;
    if (n < 1 || zmq_msg_size(&frames[0]) < 6)
        return;
    uint16_t event;
    uint32_t value;
    memcpy(&event, zmq_msg_data(&frames[0]), 2);
    memcpy(&value, (const char *)zmq_msg_data(&frames[0]) + 2, 4);
    char ep[128] = "";
    if (n >= 2)
        snprintf(ep, sizeof ep, "%.*s",
                 (int)(zmq_msg_size(&frames[1]) < 127 ? zmq_msg_size(&frames[1]) : 127),
                 (const char *)zmq_msg_data(&frames[1]));
    if (strncmp(ep, "tcp://", 6) != 0)
        return; /* ipc peers of the same socket are not ours to judge */
    if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL &&
        value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
        refuse(m->auth, m->domain, R_NO_CURVE, ep,
               "a client without CURVE keys connected to %s (it needs --server-key and --key)",
               ep);
    else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL ||
             event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL)
        refuse(m->auth, m->domain, R_BAD_HANDSHAKE, ep,
               "a CURVE handshake on %s failed (error 0x%x: a wrong server key, or not "
               "ZeroMQ)",
               ep, (unsigned)value);
}

static int
watch_handshakes(cf_auth_t *self, void *sock, cf_auth_domain_t d, cf_err_t *err)
{
    for (size_t i = 0; i < self->nmon; i++)
        if (self->mon[i].watched == sock)
            return CF_OK;
    if (self->nmon == MAX_MONITORS)
        return cf_err_set(err, CF_ESYS, "auth: too many CURVE sockets to monitor");
    monitor_t *m = &self->mon[self->nmon];
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://cf-auth-monitor-%zu", self->nmon);
    /* AUTH failures are not asked for: the ZAP handler counted them, with the key */
    if (zmq_socket_monitor(sock, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                               ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) != 0)
        return cf_err_set(err, CF_ESYS, "auth: cannot monitor %s: %s", domain_names[d],
                          zmq_strerror(zmq_errno()));
    void *pair = zmq_socket(self->zctx, ZMQ_PAIR);
    if (!pair || zmq_connect(pair, ep) != 0) {
        if (pair)
            zmq_close(pair);
        return cf_err_set(err, CF_ESYS, "auth: cannot read the monitor of %s: %s",
                          domain_names[d], zmq_strerror(zmq_errno()));
    }
    m->auth = self;
    m->watched = sock;
    m->domain = d;
    m->zs = cf_zsock_new(self->base, pair, "auth-monitor", on_monitor, m, 16, err);
    if (!m->zs) {
        zmq_close(pair);
        return CF_ESYS;
    }
    self->nmon++;
    return CF_OK;
}

/* ---- public ------------------------------------------------------------------------ */

static int
load_lists(const char *const dirs[CF_ROLES], cf_allow_t *out[CF_ROLES], cf_err_t *err)
{
    for (int r = 0; r < CF_ROLES; r++) {
        out[r] = cf_allow_load(dirs[r], err);
        if (!out[r]) {
            char why[CF_ERR_TEXT_MAX];
            snprintf(why, sizeof why, "%s", err->text);
            cf_err_set(err, CF_EINVAL, "allow_%s: %s", role_names[r], why);
            for (int k = 0; k < r; k++)
                cf_allow_destroy(&out[k]);
            return CF_EINVAL;
        }
    }
    return CF_OK;
}

/* What the options name, read and checked: the server key (sec, pub) and the
 * allowlists (lists, all NULL without a key). CF_OK, or CF_EINVAL / CF_EDENIED: a
 * configuration error (a missing key file too: restarting cannot help). */
static int
read_setup(const cf_auth_opts_t *opts, char sec[CF_KEY_Z85 + 1], char pub[CF_KEY_Z85 + 1],
           cf_allow_t *lists[CF_ROLES], cf_err_t *err)
{
    for (int r = 0; r < CF_ROLES; r++)
        lists[r] = NULL;
    if (!opts->curve_key) {
        for (int r = 0; r < CF_ROLES; r++)
            if (opts->allow[r])
                return cf_err_set(err, CF_EINVAL,
                                  "allow_%s needs curve_key (allowlists are for CURVE)",
                                  role_names[r]);
        return CF_OK;
    }
    int rc = cf_key_read_secret(opts->curve_key, sec, pub, err);
    if (rc != CF_OK)
        return rc == CF_ESYS ? (err->rc = CF_EINVAL) : rc;
    return load_lists(opts->allow, lists, err);
}

int
cf_auth_check_config(const cf_auth_opts_t *opts, cf_err_t *err)
{
    char sec[CF_KEY_Z85 + 1], pub[CF_KEY_Z85 + 1];
    cf_allow_t *lists[CF_ROLES];
    int rc = read_setup(opts, sec, pub, lists, err);
    explicit_bzero(sec, sizeof sec);
    for (int r = 0; r < CF_ROLES; r++)
        cf_allow_destroy(&lists[r]);
    return rc;
}

cf_auth_t *
cf_auth_new(struct event_base *base, void *zctx, const cf_auth_opts_t *opts, cf_err_t *err)
{
    cf_auth_t *self = cf_calloc(1, sizeof *self);
    self->base = base;
    self->zctx = zctx;
    if (read_setup(opts, self->sec, self->pub, self->allow, err) != CF_OK)
        goto fail;
    if (!opts->curve_key)
        return self; /* plain: every list empty, no handler */
    self->curve = true;
    uint8_t nonce[16];
    if (getrandom(nonce, sizeof nonce, 0) != (ssize_t)sizeof nonce) {
        cf_err_set(err, CF_ESYS, "auth: no random bytes for the user-id prefix");
        goto fail;
    }
    int k = snprintf(self->uid_prefix, sizeof self->uid_prefix, "cf-");
    for (size_t i = 0; i < sizeof nonce; i++)
        k += snprintf(self->uid_prefix + k, sizeof self->uid_prefix - (size_t)k, "%02x",
                      nonce[i]);
    snprintf(self->uid_prefix + k, sizeof self->uid_prefix - (size_t)k, ":");
    for (int r = 0; r < CF_ROLES; r++)
        self->dirs[r] = opts->allow[r] ? cf_strdup(opts->allow[r]) : NULL;
    void *zap = zmq_socket(zctx, ZMQ_REP);
    if (!zap || zmq_bind(zap, ZAP_ENDPOINT) != 0) {
        cf_err_set(err, CF_ESYS, "auth: cannot bind the ZAP handler: %s",
                   zmq_strerror(zmq_errno()));
        if (zap)
            zmq_close(zap);
        goto fail;
    }
    self->zap = cf_zsock_new(base, zap, "zap", on_zap, self, 256, err);
    if (!self->zap) {
        zmq_close(zap);
        goto fail;
    }
    cf_zsock_set_max_frames(self->zap, 7);
    for (int r = 0; r < CF_ROLES; r++)
        cf_log_info("auth: %s: %zu key(s) from %s", role_names[r],
                    cf_allow_count(self->allow[r]),
                    self->dirs[r] ? self->dirs[r] : "nowhere (no allowlist: nobody over tcp)");
    return self;
fail:
    cf_auth_destroy(&self);
    return NULL;
}

bool
cf_auth_curve(const cf_auth_t *self)
{
    return self && self->curve;
}

const char *
cf_auth_public_key(const cf_auth_t *self)
{
    return self && self->curve ? self->pub : "";
}

/* Whether a process listens on the socket file at path: 1 yes (a full backlog
 * counts), 0 no (the connection is refused: a killed daemon's file, or ours after
 * its close), -1 cannot tell (errno says why: another user's socket we may not
 * write, another socket type, a path too long for a socket address). */
static int
listening(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(path);
    if (n >= sizeof sa.sun_path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    memcpy(sa.sun_path, path, n + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    int rc = connect(fd, (const struct sockaddr *)&sa, sizeof sa);
    int e = errno;
    close(fd);
    errno = e;
    if (rc == 0 || e == EAGAIN)
        return 1;
    return e == ECONNREFUSED ? 0 : -1;
}

/* Makes path free for an ipc bind, or says why not. libzmq unlinks the path before
 * it binds, so a second daemon given the same path would silently take it over from
 * a running one (and remove it when it stops), and a regular file there would be
 * deleted: only a socket file that refuses connections (a killed daemon's) is
 * removed; anything else there is refused. */
static int
claim_ipc(const char *dom, const char *path, cf_err_t *err)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return CF_OK; /* nothing there (or not reachable: zmq_bind says why) */
    if (!S_ISSOCK(st.st_mode))
        return cf_err_set(err, CF_EINVAL, "%s: cannot bind ipc://%s: it exists and is not a socket",
                          dom, path);
    int l = listening(path);
    if (l > 0)
        return cf_err_set(err, CF_ESYS,
                          "%s: cannot bind ipc://%s: another process is listening on it "
                          "(another cloudfactd?)",
                          dom, path);
    if (l < 0)
        return cf_err_sys(err,
                          "%s: cannot bind ipc://%s: a socket file is there and whether a "
                          "process listens on it cannot be told",
                          dom, path);
    if (unlink(path) != 0 && errno != ENOENT)
        return cf_err_sys(err, "%s: cannot remove the stale socket file %s", dom, path);
    return CF_OK;
}

void
cf_auth_unbind_ipc(const char *endpoint)
{
    if (!endpoint || strncmp(endpoint, "ipc://", 6) != 0 || endpoint[6] != '/')
        return;
    /* by path: only a socket file nobody listens on any more. libzmq closes our
     * listener in its I/O thread, a moment after zmq_close: one that still answers
     * after 100 ms is not ours (a daemon that started on the path after our file
     * was removed, or since our listener closed). Runs once, at stop. */
    const char *path = endpoint + 6;
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return;
    int l;
    for (int i = 0; (l = listening(path)) == 1 && i < 20; i++)
        usleep(5000);
    if (l == 0)
        unlink(path);
}

int
cf_auth_bind(cf_auth_t *self, void *sock, cf_auth_domain_t d, const char *name,
             const char *endpoint, cf_err_t *err)
{
    if (!name)
        name = domain_names[d];
    bool tcp = strncmp(endpoint, "tcp://", 6) == 0;
    bool curve = tcp && cf_auth_curve(self);
    /* ipc must be a path in the file system (an abstract "@name" has no permissions
     * to guard it) and no other network transport gets CURVE here (pgm, tipc...) */
    if (!tcp && strncmp(endpoint, "inproc://", 9) != 0 &&
        !(strncmp(endpoint, "ipc://", 6) == 0 && endpoint[6] == '/'))
        return cf_err_set(err, CF_EINVAL,
                          "%s: '%s': endpoints are tcp://, ipc:///absolute/path or inproc://", name,
                          endpoint);
    if (tcp && !curve && d == CF_AUTH_WORKERS)
        return cf_err_set(err, CF_EINVAL,
                          "workers: a tcp worker endpoint needs CURVE (--curve-key and "
                          "--allow-workers): a worker may write facts");
    /* options are copied into each endpoint at bind time: set them per endpoint */
    if (curve) {
        const char *dom = domain_names[d]; /* the ZAP domain */
        if (cf_zsock_setopt_int(sock, ZMQ_CURVE_SERVER, 1, "ZMQ_CURVE_SERVER", err) != CF_OK ||
            zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, self->sec, CF_KEY_Z85 + 1) != 0 ||
            zmq_setsockopt(sock, ZMQ_ZAP_DOMAIN, dom, strlen(dom)) != 0 ||
            cf_zsock_setopt_int(sock, ZMQ_ZAP_ENFORCE_DOMAIN, 1, "ZMQ_ZAP_ENFORCE_DOMAIN", err) !=
                CF_OK)
            return cf_err_set(err, CF_ESYS, "%s: cannot set up CURVE: %s", name,
                              zmq_strerror(zmq_errno()));
    } else if (cf_auth_curve(self)) {
        /* a plain endpoint beside CURVE ones: libzmq cannot clear a ZAP domain, and
         * with one set even plain peers would be asked about: bind plain ones first */
        char dom[64] = "";
        size_t len = sizeof dom;
        if (zmq_getsockopt(sock, ZMQ_ZAP_DOMAIN, dom, &len) == 0 && dom[0])
            return cf_err_set(err, CF_EINVAL, "%s: bind %s before the CURVE endpoints", name,
                              endpoint);
        if (cf_zsock_setopt_int(sock, ZMQ_CURVE_SERVER, 0, "ZMQ_CURVE_SERVER", err) != CF_OK)
            return err->rc;
    }
    bool ipc = strncmp(endpoint, "ipc://", 6) == 0;
    if (ipc && claim_ipc(name, endpoint + 6, err) != CF_OK)
        return err->rc;
    if (zmq_bind(sock, endpoint) != 0)
        return cf_err_set(err, CF_ESYS, "%s: cannot bind %s: %s", name, endpoint,
                          zmq_strerror(zmq_errno()));
    /* the umask's mode would lock out the service's group (UMask=0027: 0750) */
    if (ipc && chmod(endpoint + 6, 0660) != 0)
        return cf_err_sys(err, "%s: cannot set the mode of %s", name, endpoint + 6);
    if (curve)
        return watch_handshakes(self, sock, d, err);
    return CF_OK;
}

/* The key of the peer that sent msg, when it came through CURVE and our ZAP
 * handler: only a User-Id with this process's secret prefix counts. */
static bool
peer_key(const cf_auth_t *self, zmq_msg_t *msg, uint8_t key[CF_KEY_BIN])
{
    const char *uid = zmq_msg_gets(msg, "User-Id");
    size_t n = strlen(self->uid_prefix);
    if (!uid || strncmp(uid, self->uid_prefix, n) != 0)
        return false;
    uid += n;
    return strlen(uid) == CF_KEY_Z85 && zmq_z85_decode(key, uid);
}

int
cf_auth_check(cf_auth_t *self, cf_auth_domain_t d, zmq_msg_t *msg, const char **who)
{
    if (who)
        *who = NULL;
    uint8_t key[CF_KEY_BIN];
    if (!cf_auth_curve(self) || !peer_key(self, msg, key))
        return CF_OK; /* plain or ipc: no key to check */
    for (int r = 0; r < CF_ROLES; r++) {
        if (!(domain_roles[d] & (1u << r)))
            continue;
        const char *name = cf_allow_find(self->allow[r], key);
        if (name) {
            if (who)
                *who = name;
            return CF_OK;
        }
    }
    char z85[CF_KEY_Z85 + 1];
    zmq_z85_encode(z85, key, CF_KEY_BIN);
    const char *was = NULL;
    for (int r = 0; r < CF_ROLES && !was; r++)
        was = cf_allow_find(self->prev[r], key);
    refuse(self, d, R_REVOKED, z85, "key '%s' (%s) was removed; its messages are refused",
           was ? was : "?", z85);
    return CF_EDENIED;
}

bool
cf_auth_operator(cf_auth_t *self, zmq_msg_t *msg)
{
    uint8_t key[CF_KEY_BIN];
    if (cf_auth_curve(self) && peer_key(self, msg, key) &&
        cf_allow_find(self->allow[CF_ROLE_OPERATORS], key))
        return true;
    char who[CF_KEY_Z85 + 1] = "a plain peer";
    if (cf_auth_curve(self) && peer_key(self, msg, key))
        zmq_z85_encode(who, key, CF_KEY_BIN);
    if (self)
        refuse(self, CF_AUTH_QUERY, R_NOT_OPERATOR, who,
               "%s asked for an operator op (use the ipc control socket, or allow_operators)",
               who);
    return false;
}

typedef struct diff_ctx {
    const char *role;
    const char *what;
} diff_ctx_t;

static void
log_diff(const char *name, const char *z85, void *arg)
{
    const diff_ctx_t *c = arg;
    cf_log_notice("auth: %s: %s '%s' (%s)", c->role, c->what, name, z85);
}

int
cf_auth_reload(cf_auth_t *self, unsigned *lost, cf_err_t *err)
{
    *lost = 0;
    if (!cf_auth_curve(self))
        return CF_OK;
    cf_allow_t *fresh[CF_ROLES];
    int rc = load_lists((const char *const *)self->dirs, fresh, err);
    if (rc != CF_OK) /* refused: the old lists stay, less the keys no longer vouched for */
        for (int r = 0; r < CF_ROLES; r++)
            fresh[r] = cf_allow_prune(self->allow[r], self->dirs[r]);
    for (int r = 0; r < CF_ROLES; r++) {
        diff_ctx_t gone = {role_names[r], "removed"}, added = {role_names[r], "added"};
        if (cf_allow_missing(self->allow[r], fresh[r], log_diff, &gone))
            *lost |= 1u << r;
        cf_allow_missing(fresh[r], self->allow[r], log_diff, &added);
        cf_allow_destroy(&self->prev[r]);
        self->prev[r] = self->allow[r];
        self->allow[r] = fresh[r];
    }
    return rc;
}

size_t
cf_auth_keys(const cf_auth_t *self, cf_auth_role_t role)
{
    return self ? cf_allow_count(self->allow[role]) : 0;
}

uint64_t
cf_auth_refused(const cf_auth_t *self)
{
    uint64_t n = 0;
    for (int d = 0; self && d < CF_AUTH_DOMAINS; d++)
        for (int r = 0; r < R_COUNT; r++)
            n += self->refused[d][r];
    return n;
}

void
cf_auth_metrics(const cf_auth_t *self, cf_metrics_t *m)
{
    cf_metrics_family(m, "cloudfact_auth_accepted_total", CF_METRICS_COUNTER,
                      "CURVE handshakes admitted by the allowlists, by endpoint.");
    for (int d = 0; d < CF_AUTH_DOMAINS; d++)
        cf_metrics_sample(m, "endpoint", domain_names[d], self ? (double)self->accepted[d] : 0);
    cf_metrics_family(m, "cloudfact_auth_refused_total", CF_METRICS_COUNTER,
                      "Connections and messages refused, by endpoint and reason: unknown_key, "
                      "wrong_role (a key of another role), no_curve, bad_handshake (e.g. a "
                      "wrong server key), revoked (a key removed while connected), "
                      "not_operator.");
    for (int d = 0; d < CF_AUTH_DOMAINS; d++)
        for (int r = 0; r < R_COUNT; r++)
            cf_metrics_sample2(m, "endpoint", domain_names[d], "reason", reason_names[r],
                               self ? (double)self->refused[d][r] : 0);
    cf_metrics_family(m, "cloudfact_auth_keys", CF_METRICS_GAUGE,
                      "Public keys on each role's allowlist.");
    for (int r = 0; r < CF_ROLES; r++)
        cf_metrics_sample(m, "role", role_names[r], (double)cf_auth_keys(self, (cf_auth_role_t)r));
}

void
cf_auth_destroy(cf_auth_t **self_p)
{
    cf_auth_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->nmon; i++)
        cf_zsock_destroy(&self->mon[i].zs);
    cf_zsock_destroy(&self->zap);
    for (int r = 0; r < CF_ROLES; r++) {
        cf_allow_destroy(&self->allow[r]);
        cf_allow_destroy(&self->prev[r]);
        free(self->dirs[r]);
    }
    explicit_bzero(self->sec, sizeof self->sec);
    free(self);
    *self_p = NULL;
}
