/* SPDX-License-Identifier: MIT
 * harness: start, probe and stop the real daemon for integration tests. */
#include "harness.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <msgpack.h>
#include <zmq.h>
#include <sqlite3.h>

#include "cf_client.h"
#include "cf_msg.h"
#include "cf_text.h"

extern char **environ;

/* The daemon of the running test, so a failure never leaves it behind. */
static it_daemon_t *current;

static void
print_log_tail(const char *log)
{
    char cmd[400];
    fprintf(stderr, "--- last lines of the daemon's log (%s) ---\n", log);
    snprintf(cmd, sizeof cmd, "tail -n 40 '%s' >&2", log);
    if (system(cmd) != 0)
        fprintf(stderr, "(no log)\n");
}

void
it_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "FAIL: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (current && current->pid > 0) {
        kill(current->pid, SIGKILL);
        waitpid(current->pid, NULL, 0);
        current->pid = 0;
        print_log_tail(current->log);
    }
    exit(1);
}

double
it_scale(void)
{
    const char *s = getenv("CF_TEST_SCALE");
    double v = s ? atof(s) : 1.0;
    return v > 0 ? v : 1.0;
}

const char *
it_bin(const char *name)
{
    static char path[512];
    const char *dir = getenv("CF_BIN_DIR");
    if (!dir)
        it_fail("CF_BIN_DIR is not set (run the tests through ctest)");
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

/* A loopback socket bound to a port the kernel chose: returns the port, *fd the
 * socket (the caller closes it once it no longer needs the port held). */
static int
hold_port(int *fd)
{
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    if (*fd < 0 || bind(*fd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
        getsockname(*fd, (struct sockaddr *)&sa, &len) != 0)
        it_fail("cannot find a free port: %s", strerror(errno));
    return ntohs(sa.sin_port);
}

/* A free loopback port: bind to port 0 and read what the kernel chose. */
int
it_free_port(void)
{
    int fd;
    int port = hold_port(&fd);
    close(fd);
    return port;
}

/* Four free loopback ports for d's endpoints, distinct: each socket stays bound until
 * all four are chosen (a port closed at once could come back as the next one). */
static void
pick_ports(it_daemon_t *d)
{
    int fds[4], ports[4];
    for (int i = 0; i < 4; i++)
        ports[i] = hold_port(&fds[i]);
    for (int i = 0; i < 4; i++)
        close(fds[i]);
    snprintf(d->ingest, sizeof d->ingest, "tcp://127.0.0.1:%d", ports[0]);
    snprintf(d->publish, sizeof d->publish, "tcp://127.0.0.1:%d", ports[1]);
    snprintf(d->query, sizeof d->query, "tcp://127.0.0.1:%d", ports[2]);
    snprintf(d->http, sizeof d->http, "127.0.0.1:%d", ports[3]);
}

/* d's ports while no daemon of d runs: bound here (SO_REUSEADDR: the stopped daemon's
 * connections may linger in TIME_WAIT) so that no other test's bind to port 0 or
 * outgoing connection takes one before d's next start, which must bind the same ones
 * (clients of the test stay connected to them). A port already taken is left. */
static void
hold_ports(it_daemon_t *d)
{
    const char *eps[4] = {d->ingest, d->publish, d->query, d->http};
    for (int i = 0; i < 4 && d->nheld < 4; i++) {
        const char *colon = strrchr(eps[i], ':');
        struct sockaddr_in sa = {0};
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)atoi(colon ? colon + 1 : "0"));
        int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
        if (fd < 0)
            continue;
        if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
            bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            d->held[d->nheld++] = fd;
        else
            close(fd);
    }
}

/* Lets d's ports go, right before its daemon binds them. */
static void
release_ports(it_daemon_t *d)
{
    while (d->nheld > 0)
        close(d->held[--d->nheld]);
}

void
it_daemon_init(it_daemon_t *d)
{
    /* ctest reads a pipe: line by line, so that a test killed at its timeout still
     * shows the last step it passed */
    setvbuf(stdout, NULL, _IOLBF, 0);
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/cf-it-XXXXXX");
    if (!mkdtemp(d->dir))
        it_fail("mkdtemp: %s", strerror(errno));
    pick_ports(d);
    snprintf(d->worker_ep, sizeof d->worker_ep, "ipc://%s/workers.sock", d->dir);
    snprintf(d->log, sizeof d->log, "%s/daemon.log", d->dir);
    snprintf(d->db, sizeof d->db, "%s/cloudfact.db", d->dir);
}

/* Asks for stats; *keep holds the reply bytes the unpacked objects point into
 * (msgpack-c strings are views into the input): the caller frees it after use. */
static char stats_error[CF_ERR_TEXT_MAX]; /* why the last query_stats failed */

static bool
query_stats(const it_daemon_t *d, msgpack_unpacked *up, int timeout_ms, void **keep)
{
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    cf_msg_pack_op(&req, "stats", NULL, 0);
    void *reply = NULL;
    size_t len = 0;
    cf_err_t err;
    int rc = cf_query_call(d->query, &d->curve, req.data, req.size, timeout_ms, &reply, &len, &err);
    msgpack_sbuffer_destroy(&req);
    if (rc != CF_OK) {
        snprintf(stats_error, sizeof stats_error, "%s", err.text);
        return false;
    }
    size_t off = 0;
    bool ok = msgpack_unpack_next(up, reply, len, &off) == MSGPACK_UNPACK_SUCCESS &&
              up->data.type == MSGPACK_OBJECT_MAP;
    *keep = reply;
    return ok;
}

static bool
stat_from(const msgpack_unpacked *up, const char *name, uint64_t *out)
{
    const msgpack_object_map *m = &up->data.via.map;
    for (uint32_t i = 0; i < m->size; i++) {
        const msgpack_object *k = &m->ptr[i].key;
        if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == strlen(name) &&
            memcmp(k->via.str.ptr, name, k->via.str.size) == 0 &&
            m->ptr[i].val.type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
            *out = m->ptr[i].val.via.u64;
            return true;
        }
    }
    return false;
}

uint64_t
it_stat(const it_daemon_t *d, const char *name)
{
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    uint64_t v = 0;
    void *keep = NULL;
    if (!query_stats(d, &up, 10000, &keep))
        it_fail("the daemon does not answer stats on %s: %s", d->query, stats_error);
    if (!stat_from(&up, name, &v))
        it_fail("stats has no %s", name);
    msgpack_unpacked_destroy(&up);
    free(keep);
    return v;
}

/* Whether the log holds text after byte from (a daemon's own lines since then). */
static bool
log_has(const it_daemon_t *d, long from, const char *text)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return false;
    bool found = false;
    char line[1024];
    if (fseek(f, from, SEEK_SET) == 0)
        while (!found && fgets(line, sizeof line, f))
            found = strstr(line, text) != NULL;
    fclose(f);
    return found;
}

static long
log_size(const it_daemon_t *d)
{
    struct stat st;
    return stat(d->log, &st) == 0 ? (long)st.st_size : 0;
}

static void
check_alive(it_daemon_t *d)
{
    int status;
    if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
        d->pid = 0;
        char cmd[400];
        snprintf(cmd, sizeof cmd, "tail -n 30 %s >&2", d->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
        it_fail("cloudfactd exited early (status 0x%x)", status);
    }
}

void
it_wait_stat(it_daemon_t *d, const char *name, uint64_t value, int timeout_s)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t v = 0;
    for (;;) {
        check_alive(d);
        v = it_stat(d, name);
        if (v >= value)
            return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > timeout_s)
            it_fail("%s stayed at %llu, expected %llu within %d s", name, (unsigned long long)v,
                    (unsigned long long)value, timeout_s);
        usleep(20 * 1000); /* polling an answer, not hoping: the loop ends on the value */
    }
}

static void start_once(it_daemon_t *d, int workers, const char *const *extra);

/* Another test may take a port between pick_ports and the daemon's bind (tests run
 * in parallel): a first start that fails on a port in use tries new ports. */
void
it_daemon_start(it_daemon_t *d, int workers, const char *const *extra)
{
    for (int attempt = 1;; attempt++) {
        long from = log_size(d);
        start_once(d, workers, extra);
        if (d->pid > 0) {
            d->bound = true;
            return;
        }
        if (d->bound || attempt == 5 || !log_has(d, from, "Address already in use")) {
            char cmd[400];
            snprintf(cmd, sizeof cmd, "tail -n 30 %s >&2", d->log);
            if (system(cmd) != 0)
                fprintf(stderr, "(no log)\n");
            it_fail("cloudfactd exited early (log: %s)", d->log);
        }
        fprintf(stderr, "it: a port of %s was taken meanwhile: new ports\n", d->ingest);
        pick_ports(d);
    }
}

pid_t
it_spawn(const char *const *argv, const char *err_path, bool append)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err_path,
                                     O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        it_fail("cannot start %s: %s", argv[0], strerror(rc));
    return pid;
}

bool
it_can_be_init(void)
{
    pid_t pid = fork();
    if (pid == 0)
        _exit(unshare(CLONE_NEWPID) == 0 ? 0 : 1);
    int status = 1;
    return pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
           WEXITSTATUS(status) == 0;
}

static volatile pid_t init_pid; /* in the forwarder: the daemon, pid 1 of its namespace */

static void
forward_signal(int sig)
{
    kill(init_pid, sig);
}

/* d->as_init: a forwarder in a new pid namespace whose first child, pid 1 there,
 * execs the daemon. Only async-signal-safe calls after fork: the test has threads. */
static pid_t
spawn_as_init(const it_daemon_t *d, char *const *args)
{
    pid_t fwd = fork();
    if (fwd != 0)
        return fwd;
    int log = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
    int null = open("/dev/null", O_WRONLY);
    if (log < 0 || null < 0 || dup2(log, STDERR_FILENO) < 0 || dup2(null, STDOUT_FILENO) < 0 ||
        unshare(CLONE_NEWPID) != 0)
        _exit(127);
    pid_t pid = fork();
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a test killing the forwarder kills it too */
        execv(args[0], args);
        _exit(127);
    }
    if (pid < 0)
        _exit(127);
    init_pid = pid;
    struct sigaction sa = {0};
    sa.sa_handler = forward_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            _exit(127);
    _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

/* Starts the daemon and waits until it is ready; d->pid is 0 when it exited first. */
static void
start_once(it_daemon_t *d, int workers, const char *const *extra)
{
    char nworkers[16];
    snprintf(nworkers, sizeof nworkers, "%d", workers);
    const char *argv[64] = {it_bin("cloudfactd"), "--state-dir", d->dir, "--ingest", d->ingest,
                            "--publish", d->publish, "--query", d->query,
                            "--worker-endpoint", d->worker_ep, "--workers", nworkers,
                            "--http", d->http, "--log-level", "debug"};
    size_t n = 17; /* extra comes after: a test's own --http or --log-level wins */
    for (size_t i = 0; extra && extra[i] && n < 62; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, d->log, O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    char *const *args = (char *const *)argv;
    release_ports(d);
    current = d;
    int rc = 0;
    if (d->as_init)
        rc = (d->pid = spawn_as_init(d, args)) < 0 ? errno : 0;
    else
        rc = posix_spawn(&d->pid, argv[0], &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0)
        it_fail("cannot start %s: %s", argv[0], strerror(rc));
    /* ready means: the query socket answers and the workers said ready */
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        int status;
        if (waitpid(d->pid, &status, WNOHANG) == d->pid) {
            d->pid = 0; /* it_daemon_start decides */
            return;
        }
        msgpack_unpacked up;
        msgpack_unpacked_init(&up);
        uint64_t ready = 0;
        void *keep = NULL;
        bool ok = query_stats(d, &up, 500, &keep) &&
                  stat_from(&up, "cloudfact_workers_ready", &ready) && ready >= (uint64_t)workers;
        msgpack_unpacked_destroy(&up);
        free(keep);
        if (ok)
            return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > 60)
            it_fail("cloudfactd did not become ready within 60 s (log: %s)", d->log);
        usleep(20 * 1000);
    }
}

/* Waits up to timeout_s for pid to exit (its status in *status): 0, or -1 after
 * killing it when it did not. */
static int
wait_or_kill(pid_t pid, int timeout_s, int *status)
{
    for (int i = 0; i < timeout_s * 100; i++) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return 0;
        usleep(10 * 1000);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    return -1;
}

int
it_wait_exit(pid_t pid, int timeout_s, const char *what)
{
    int status = 0;
    if (wait_or_kill(pid, timeout_s, &status) != 0)
        it_fail("%s (pid %d) did not exit within %d s", what, (int)pid, timeout_s);
    return status;
}

int
it_daemon_stop(it_daemon_t *d, int sig, int timeout_s)
{
    if (d->pid <= 0)
        return 0;
    pid_t pid = d->pid;
    /* it_fail kills the current daemon: not this one twice */
    d->pid = 0;
    kill(pid, sig);
    int status = 0;
    if (wait_or_kill(pid, timeout_s, &status) != 0) {
        /* why it hung is in its log; it_fail shows only the current daemon's, and this
         * one is no longer it (pid cleared above) */
        print_log_tail(d->log);
        it_fail("cloudfactd (pid %d) did not exit within %d s of signal %d", (int)pid, timeout_s,
                sig);
    }
    if (d->bound)
        hold_ports(d);
    return status;
}

void
it_daemon_cleanup(it_daemon_t *d)
{
    char cmd[400];
    if (d->pid > 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, NULL, 0);
    }
    release_ports(d);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "warning: could not remove %s\n", d->dir);
}

typedef struct push_ctx {
    const cf_article_t *articles;
    size_t n, next;
    int *status;
    uint64_t *ids;
} push_ctx_t;

static int
push_next(void *arg, cf_article_t *a, cf_err_t *err)
{
    (void)err;
    push_ctx_t *p = arg;
    if (p->next >= p->n)
        return 0;
    cf_article_copy(a, &p->articles[p->next++]);
    return 1;
}

static void
push_done(void *arg, uint64_t seq, const cf_article_t *a, int status, uint64_t id,
          const char *error)
{
    (void)a;
    (void)error;
    push_ctx_t *p = arg;
    p->status[seq] = status;
    p->ids[seq] = id;
}

void
it_push(const it_daemon_t *d, const cf_article_t *articles, size_t n, int *status, uint64_t *ids)
{
    it_push_with(d, articles, n, status, ids, 10000, 5);
}

void
it_push_with(const it_daemon_t *d, const cf_article_t *articles, size_t n, int *status,
             uint64_t *ids, unsigned timeout_ms, unsigned retries)
{
    push_ctx_t p = {articles, n, 0, status, ids};
    cf_err_t err;
    cf_push_opts_t o = {256, timeout_ms, retries, 600000, 2000};
    for (size_t i = 0; i < n; i++)
        status[i] = CF_ECLOSED;
    if (cf_push_run(d->ingest, &d->curve, &o, push_next, &p, push_done, &p, &err) != CF_OK)
        it_fail("push: %s", err.text);
}

uint64_t
it_push_one(const it_daemon_t *d, const char *url, const char *body)
{
    cf_article_t a = {.url = (char *)url, .title = "Cloud news", .body = (char *)body};
    a.body_len = strlen(body);
    int st;
    uint64_t id;
    it_push(d, &a, 1, &st, &id);
    if (st != CF_OK)
        it_fail("push %s: %s", url, cf_msg_status_name(st));
    return id;
}

void
it_push_alike(const it_daemon_t *d, const char *tag, const char *body, size_t n)
{
    cf_article_t *a = cf_calloc(n, sizeof *a);
    char(*urls)[96] = cf_calloc(n, sizeof *urls);
    int *st = cf_calloc(n, sizeof *st);
    uint64_t *ids = cf_calloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        snprintf(urls[i], sizeof urls[i], "https://example.test/%s/%zu", tag, i);
        a[i] = (cf_article_t){.url = urls[i], .title = "Cloud news", .body = (char *)body};
        a[i].body_len = strlen(body);
    }
    it_push(d, a, n, st, ids);
    for (size_t i = 0; i < n; i++)
        if (st[i] != CF_OK)
            it_fail("%s: %s", urls[i], cf_msg_status_name(st[i]));
    free(a);
    free(urls);
    free(st);
    free(ids);
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

size_t
it_load_corpus(const char *subdir, cf_article_t **out, char ***names)
{
    const char *shared = getenv("CF_SHARED_DIR");
    char dir[512];
    if (!shared)
        it_fail("CF_SHARED_DIR is not set");
    snprintf(dir, sizeof dir, "%s/%s", shared, subdir);
    struct dirent **ents;
    int n = scandir(dir, &ents, NULL, by_name);
    if (n < 0)
        it_fail("corpus %s: %s", dir, strerror(errno));
    cf_article_t *v = cf_calloc((size_t)n, sizeof *v);
    char **nm = cf_calloc((size_t)n, sizeof *nm);
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        if (ents[i]->d_name[0] != '.') {
            char path[1024];
            snprintf(path, sizeof path, "%s/%s", dir, ents[i]->d_name);
            FILE *f = fopen(path, "rb");
            if (!f)
                it_fail("%s: %s", path, strerror(errno));
            char *buf = cf_malloc(1 << 22);
            size_t len = fread(buf, 1, (1 << 22) - 1, f);
            fclose(f);
            buf[len] = '\0';
            char *nl = strchr(buf, '\n');
            if (!nl)
                it_fail("%s: no title line", path);
            v[k].title = cf_strndup(buf, (size_t)(nl - buf));
            v[k].body = cf_strdup(nl + 1);
            v[k].body_len = strlen(v[k].body);
            char url[1100];
            snprintf(url, sizeof url, "file://%s", path);
            v[k].url = cf_strdup(url);
            nm[k] = cf_strdup(ents[i]->d_name);
            free(buf);
            k++;
        }
        free(ents[i]);
    }
    free(ents);
    if (k == 0)
        it_fail("corpus %s is empty", dir);
    *out = v;
    *names = nm;
    return k;
}

int64_t
it_sql_int(const it_daemon_t *d, const char *sql)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int64_t v = -1;
    if (sqlite3_open_v2(d->db, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK)
        it_fail("open %s: %s", d->db, sqlite3_errmsg(db));
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        it_fail("%s: %s", sql, sqlite3_errmsg(db));
    if (sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

int64_t
it_article_int(const it_daemon_t *d, const char *col, uint64_t id)
{
    char sql[200];
    snprintf(sql, sizeof sql, "SELECT %s FROM articles WHERE id = %llu", col,
             (unsigned long long)id);
    return it_sql_int(d, sql);
}

size_t
it_log_count(const it_daemon_t *d, const char *needle)
{
    FILE *f = fopen(d->log, "r");
    char line[8192];
    size_t n = 0;
    while (f && fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    if (f)
        fclose(f);
    return n;
}

void
it_wait_log(const it_daemon_t *d, const char *needle, size_t count, int timeout_s)
{
    for (int i = 0; i < timeout_s * 100 && it_log_count(d, needle) < count; i++)
        usleep(10 * 1000);
    if (it_log_count(d, needle) < count)
        it_fail("the log never said '%s' (%zu times) within %d s", needle, count, timeout_s);
}

char *
it_slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        it_fail("cannot read %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    char *buf = cf_malloc(cap);
    while ((got = fread(buf + n, 1, cap - 1 - n, f)) > 0)
        if ((n += got) == cap - 1)
            buf = cf_realloc(buf, cap *= 2);
    bool failed = ferror(f);
    fclose(f);
    if (failed)
        it_fail("cannot read %s: read error", path);
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}

/* ---- HTTP ------------------------------------------------------------------- */

int
it_http_get(int port, const char *method, const char *path, char **body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        it_fail("connect to :%d: %s", port, strerror(errno));
    char req[256];
    int n =
        snprintf(req, sizeof req, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n",
                 method, path);
    if (write(fd, req, (size_t)n) != n)
        it_fail("write: %s", strerror(errno));
    size_t cap = 65536, len = 0;
    char *buf = cf_malloc(cap);
    ssize_t r;
    while ((r = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)r;
        if (len + 1 == cap) {
            cap *= 2;
            buf = cf_realloc(buf, cap);
        }
    }
    close(fd);
    buf[len] = '\0';
    int code = 0;
    if (sscanf(buf, "HTTP/1.%*d %d", &code) != 1)
        it_fail("not an HTTP reply: %.80s", buf);
    char *start = strstr(buf, "\r\n\r\n");
    *body = cf_strdup(start ? start + 4 : "");
    if (strstr(buf, "chunked"))
        it_fail("unexpected chunked reply");
    if (code == 200 && strcmp(path, "/metrics") == 0 &&
        !strstr(buf, "Content-Type: text/plain; version=0.0.4"))
        it_fail("/metrics content type");
    free(buf);
    return code;
}

void
it_send_article(void *sock, const cf_article_t *a)
{
    msgpack_sbuffer sb;
    msgpack_sbuffer_init(&sb);
    cf_msg_pack_article(&sb, NULL, 0, a);
    zmq_send(sock, sb.data, sb.size, 0);
    msgpack_sbuffer_destroy(&sb);
}
