/* SPDX-License-Identifier: MIT
 * harness: integration tests run the real cloudfactd (from $CF_BIN_DIR) with a
 * temporary state directory, OS-picked loopback ports and real workers, and wait
 * on the daemon's answers, never on a sleep. */
#ifndef IT_HARNESS_H
#define IT_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cf_fact.h"
#include "cf_key.h"

typedef struct it_daemon {
    pid_t pid;
    char dir[256];          /* temporary state directory */
    char ingest[64];        /* tcp://127.0.0.1:PORT */
    char publish[64];
    char query[64];
    char http[64];          /* 127.0.0.1:PORT for /metrics and /healthz */
    char worker_ep[300];    /* ipc://DIR/workers.sock */
    char log[300];          /* the daemon's stderr */
    char db[300];           /* DIR/cloudfact.db */
    cf_curve_client_t curve; /* what the harness's own calls (stats, push) use; empty: plain */
    bool bound;             /* a daemon of d has bound its ports once (they stay d's) */
    int held[4];            /* while stopped: sockets keeping its ports from other tests */
    int nheld;
    bool as_init;           /* start it as pid 1 of a new pid namespace (as in a container):
                             * pid is then a forwarder that passes SIGTERM and SIGINT on and
                             * exits with the daemon's status; see it_can_be_init */
} it_daemon_t;

/* Fails the test program (exit 1) with a message. */
void it_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

/* Fails the test with the message when cond is false. */
#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            it_fail(__VA_ARGS__);                                                                  \
    } while (0)

/* A free loopback TCP port (bind to 0, read what the kernel chose). */
int it_free_port(void);

/* Test scale from CF_TEST_SCALE (1 normally, 0.1 under sanitizers). */
double it_scale(void);

/* Sets up d (directory, ports, endpoints) without starting anything. */
void it_daemon_init(it_daemon_t *d);

/* Starts cloudfactd for d with extra arguments (NULL-terminated list) and waits
 * until its query socket answers and `workers` workers are ready. */
void it_daemon_start(it_daemon_t *d, int workers, const char *const *extra);

/* True when this process may make pid namespaces (CLONE_NEWPID: root or
 * CAP_SYS_ADMIN, and not forbidden by a container), which as_init needs. */
bool it_can_be_init(void);

/* Sends sig and waits up to timeout_s for the exit; returns the wait status. The
 * daemon's ports stay held (from other tests) until its next it_daemon_start. */
int it_daemon_stop(it_daemon_t *d, int sig, int timeout_s);

/* Waits up to timeout_s for the child pid to exit and returns its wait status; a
 * child still running then is killed and the test fails naming `what` (a plain
 * waitpid would sit silently until ctest's timeout). */
int it_wait_exit(pid_t pid, int timeout_s, const char *what);

/* Removes the state directory. */
void it_daemon_cleanup(it_daemon_t *d);

/* The daemon's `stats` value for name (exits the test if the daemon does not answer). */
uint64_t it_stat(const it_daemon_t *d, const char *name);

/* Waits until stat name >= value; fails after timeout_s. */
void it_wait_stat(it_daemon_t *d, const char *name, uint64_t value, int timeout_s);

/* Pushes articles (borrowed) and returns their statuses and ids (arrays of n). */
void it_push(const it_daemon_t *d, const cf_article_t *articles, size_t n, int *status,
             uint64_t *ids);

/* Pushes one article (title "Cloud news") and fails the test unless it is accepted;
 * returns its id. */
uint64_t it_push_one(const it_daemon_t *d, const char *url, const char *body);

/* Pushes n articles with one body (borrowed), urls https://example.test/TAG/0.., and
 * fails the test unless each is accepted. */
void it_push_alike(const it_daemon_t *d, const char *tag, const char *body, size_t n);

/* it_push with the client's resend timeout and resend count (a dead daemon makes
 * each unanswered article wait timeout_ms * (retries + 1)). */
void it_push_with(const it_daemon_t *d, const cf_article_t *articles, size_t n, int *status,
                  uint64_t *ids, unsigned timeout_ms, unsigned retries);

/* Reads the corpus articles (title = first line) from $CF_SHARED_DIR/corpus/articles,
 * url file://PATH. Fails the test when the directory is missing. Returns the count. */
size_t it_load_corpus(const char *subdir, cf_article_t **out, char ***names);

/* One integer from a SQL query on the archive (read-only connection). */
int64_t it_sql_int(const it_daemon_t *d, const char *sql);

/* Integer column col (a trusted name) of article id in the archive. */
int64_t it_article_int(const it_daemon_t *d, const char *col, uint64_t id);

/* Lines of the daemon's log that contain needle. */
size_t it_log_count(const it_daemon_t *d, const char *needle);

/* Waits until at least count lines of the log contain needle (the daemon's own
 * word that something happened); fails after timeout_s. */
void it_wait_log(const it_daemon_t *d, const char *needle, size_t count, int timeout_s);

/* Starts argv (argv[0] a path) with stdout to /dev/null and stderr to err_path,
 * appended to or truncated; fails the test when it cannot. Returns the pid. */
pid_t it_spawn(const char *const *argv, const char *err_path, bool append);

/* `method path` over HTTP/1.1 to 127.0.0.1:port; returns the status code and the
 * body in *body (caller frees). Fails the test when the server does not answer
 * HTTP, and when /metrics comes without the exposition's content type. */
int it_http_get(int port, const char *method, const char *path, char **body);

/* The whole of file path, NUL-terminated (caller frees), its size in *len (may be
 * NULL); fails the test when the file cannot be read. */
char *it_slurp(const char *path, size_t *len);

/* Sends article a (borrowed) as an ingest request with a nil ref on the DEALER sock,
 * without waiting for the reply. */
void it_send_article(void *sock, const cf_article_t *a);

/* Path of a program in $CF_BIN_DIR (static buffer). */
const char *it_bin(const char *name);

#endif
