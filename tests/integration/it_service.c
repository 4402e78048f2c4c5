/* SPDX-License-Identifier: MIT
 * it_service: cloudfactd as a systemd service, without systemd. The test listens
 * on its own NOTIFY_SOCKET (abstract and path forms) and checks that READY (with
 * STATUS), WATCHDOG, RELOADING/READY and STOPPING arrive in that order; scrapes
 * /metrics and /healthz while the daemon works and checks the exposition format;
 * reloads a changed and then a bad configuration file with SIGHUP; counts the
 * log lines a batch of articles produces at the default level (none per article);
 * and sees a start that waits for the archive ask systemd for more time. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

extern char **environ;

static it_daemon_t *running; /* killed at exit if a check fails */

static void
kill_running(void)
{
    if (running && running->pid > 0) {
        kill(running->pid, SIGKILL);
        waitpid(running->pid, NULL, 0);
        fprintf(stderr, "--- daemon log (%s) ---\n", running->log);
        char cmd[400];
        snprintf(cmd, sizeof cmd, "tail -n 40 '%s' >&2", running->log);
        if (system(cmd) != 0)
            fprintf(stderr, "(no log)\n");
        running->pid = 0;
    }
}

/* ---- the notify listener ---------------------------------------------------- */

typedef struct listener {
    int fd;
    char env[120]; /* the NOTIFY_SOCKET value */
    char path[110];
} listener_t;

static void
listener_open(listener_t *l, bool abstract, const char *dir)
{
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    socklen_t len;
    l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    CHECK(l->fd >= 0, "socket: %s", strerror(errno));
    l->path[0] = '\0';
    if (abstract) {
        snprintf(l->env, sizeof l->env, "@cf-it-notify-%d", (int)getpid());
        size_t n = strlen(l->env);
        memcpy(sa.sun_path, l->env, n);
        sa.sun_path[0] = '\0';
        len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    } else {
        int n = snprintf(l->path, sizeof l->path, "%s/notify.sock", dir);
        CHECK(n > 0 && (size_t)n < sizeof l->path && (size_t)n < sizeof sa.sun_path,
              "path too long: %s/notify.sock", dir);
        snprintf(l->env, sizeof l->env, "%s", l->path);
        memcpy(sa.sun_path, l->path, strlen(l->path) + 1);
        len = sizeof sa;
    }
    CHECK(bind(l->fd, (struct sockaddr *)&sa, len) == 0, "bind %s: %s", l->env,
          strerror(errno));
}

/* Next datagram within timeout_s, or fails the test. */
static void
listener_recv(listener_t *l, char *buf, size_t n, int timeout_s, const char *waiting_for)
{
    struct timeval tv = {timeout_s, 0};
    setsockopt(l->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t r = recv(l->fd, buf, n - 1, 0);
    CHECK(r >= 0, "no notification within %d s while waiting for %s", timeout_s, waiting_for);
    buf[r] = '\0';
}

/* Reads datagrams until one starts with want; every one seen before must start
 * with one of allowed (a '|'-separated list), else the order is wrong. */
static void
expect_msg(listener_t *l, const char *want, const char *allowed, char *out, size_t n)
{
    char buf[2048];
    for (int i = 0; i < 1000; i++) {
        listener_recv(l, buf, sizeof buf, 60, want);
        if (strncmp(buf, want, strlen(want)) == 0) {
            if (out)
                snprintf(out, n, "%s", buf);
            return;
        }
        bool ok = false;
        char list[200];
        snprintf(list, sizeof list, "%s", allowed);
        for (char *save, *t = strtok_r(list, "|", &save); t && !ok;
             t = strtok_r(NULL, "|", &save))
            ok = strncmp(buf, t, strlen(t)) == 0;
        CHECK(ok, "notification '%s' arrived while waiting for %s (allowed before it: %s)", buf,
              want, allowed);
    }
    it_fail("too many notifications while waiting for %s", want);
}

/* HEAD then GET on one kept-alive connection: the HEAD reply has GET's length and
 * no body, so the second reply starts right after its headers. */
static void
head_then_get(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    CHECK(connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect: %s", strerror(errno));
    const char req[] = "HEAD /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
                       "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    CHECK(write(fd, req, sizeof req - 1) == (ssize_t)(sizeof req - 1), "write");
    char buf[4096];
    size_t len = 0;
    ssize_t r;
    while (len < sizeof buf - 1 && (r = read(fd, buf + len, sizeof buf - 1 - len)) > 0)
        len += (size_t)r;
    close(fd);
    buf[len] = '\0';
    const char *end = strstr(buf, "\r\n\r\n");
    CHECK(strncmp(buf, "HTTP/1.1 200", 12) == 0 && strstr(buf, "Content-Length: 3\r\n") && end &&
              strncmp(end + 4, "HTTP/1.1 200", 12) == 0 && strstr(end + 4, "\r\n\r\nok\n"),
          "HEAD then GET on one connection read:\n%s", buf);
}

/* The value of the sample named exactly key (`name` or `name{l="v"}`) in an
 * exposition; fails when missing. */
static double
metric(const char *text, const char *key)
{
    size_t kl = strlen(key);
    for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
        if (strncmp(p, key, kl) == 0 && p[kl] == ' ')
            return strtod(p + kl + 1, NULL);
    }
    it_fail("/metrics has no sample %s", key);
}

static bool
valid_name(const char *s, size_t n)
{
    if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == ':'))
            return false;
    }
    return true;
}

/* The text format's rules (STACK.md section 8): final newline; HELP and TYPE once
 * per family, before its samples, which are contiguous; counters end in _total;
 * names valid; label values quoted; histogram +Inf equal to _count. */
static void
check_exposition(const char *text)
{
    size_t len = strlen(text);
    CHECK(len > 0 && text[len - 1] == '\n', "/metrics does not end with a newline");
    char families[256][128];
    char types[256][16];
    size_t nf = 0;
    char current[128] = "";
    char *copy = cf_strdup(text);
    size_t samples = 0;
    for (char *save, *line = strtok_r(copy, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "# HELP ", 7) == 0) {
            char name[128];
            CHECK(sscanf(line + 7, "%127s", name) == 1, "bad HELP: %s", line);
            for (size_t i = 0; i < nf; i++)
                CHECK(strcmp(families[i], name) != 0, "family %s described twice", name);
            CHECK(nf < 256, "too many families");
            snprintf(families[nf], sizeof families[nf], "%s", name);
            types[nf][0] = '\0';
            nf++;
            snprintf(current, sizeof current, "%s", name);
            continue;
        }
        if (strncmp(line, "# TYPE ", 7) == 0) {
            char name[128], type[16];
            CHECK(sscanf(line + 7, "%127s %15s", name, type) == 2, "bad TYPE: %s", line);
            CHECK(strcmp(name, current) == 0, "TYPE %s not right after its HELP", name);
            CHECK(!strcmp(type, "counter") || !strcmp(type, "gauge") ||
                      !strcmp(type, "histogram"),
                  "unexpected type %s", type);
            size_t nl = strlen(name);
            if (!strcmp(type, "counter"))
                CHECK(nl > 6 && strcmp(name + nl - 6, "_total") == 0,
                      "counter %s does not end in _total", name);
            snprintf(types[nf - 1], sizeof types[nf - 1], "%s", type);
            continue;
        }
        CHECK(line[0] != '#', "unexpected comment: %s", line);
        size_t nl = strcspn(line, "{ ");
        CHECK(valid_name(line, nl), "bad sample name: %s", line);
        CHECK(current[0] && strncmp(line, current, strlen(current)) == 0,
              "sample %s outside its family %s", line, current);
        const char *rest = line + nl;
        if (*rest == '{') {
            const char *close = strstr(rest, "\"}");
            CHECK(close && strchr(rest, '=') && rest[strcspn(rest, "=") + 1] == '"',
                  "bad labels: %s", line);
            rest = close + 2;
        }
        CHECK(*rest == ' ' && rest[1], "no value: %s", line);
        char *end;
        strtod(rest + 1, &end);
        CHECK(*end == '\0' || strcmp(rest + 1, "+Inf") == 0, "bad value: %s", line);
        samples++;
    }
    free(copy);
    CHECK(samples > 20, "only %zu samples", samples);
    for (size_t i = 0; i < nf; i++) {
        if (strcmp(types[i], "histogram") != 0)
            continue;
        char key[200];
        snprintf(key, sizeof key, "%s_bucket{le=\"+Inf\"}", families[i]);
        double inf = metric(text, key);
        snprintf(key, sizeof key, "%s_count", families[i]);
        CHECK(inf == metric(text, key), "%s: +Inf bucket differs from _count", families[i]);
        snprintf(key, sizeof key, "%s_sum", families[i]);
        (void)metric(text, key);
    }
}

/* ---- the daemon --------------------------------------------------------------- */

/* Starts cloudfactd through sh so WATCHDOG_PID can name its own pid ($$ survives
 * exec), with NOTIFY_SOCKET and WATCHDOG_USEC set. No --log-level: the file's
 * level applies, so that a reload can change it. */
static void
spawn_daemon(it_daemon_t *d, const char *notify_env, int http_port, const char *conf,
             int workers)
{
    char http[32], nworkers[16];
    snprintf(http, sizeof http, "127.0.0.1:%d", http_port);
    snprintf(nworkers, sizeof nworkers, "%d", workers);
    char daemon_path[512];
    snprintf(daemon_path, sizeof daemon_path, "%s", it_bin("cloudfactd"));
    const char *argv[] = {"/bin/sh", "-c", "WATCHDOG_PID=$$ exec \"$0\" \"$@\"", daemon_path,
                          "--config", conf, "--state-dir", d->dir, "--ingest", d->ingest,
                          "--publish", d->publish, "--query", d->query, "--worker-endpoint",
                          d->worker_ep, "--workers", nworkers, "--http", http,
                          "--worker-command", it_bin("cloudfact-worker"), NULL};
    setenv("NOTIFY_SOCKET", notify_env, 1);
    setenv("WATCHDOG_USEC", "1000000", 1);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, d->log, O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    int rc = posix_spawn(&d->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    CHECK(rc == 0, "cannot start cloudfactd: %s", strerror(rc));
    running = d;
}

static void
write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CHECK(f && fputs(text, f) >= 0 && fclose(f) == 0, "write %s", path);
}

static size_t
count_lines(const char *path, const char *needle)
{
    FILE *f = fopen(path, "r");
    CHECK(f, "open %s", path);
    char line[4096];
    size_t n = 0;
    while (fgets(line, sizeof line, f))
        if (!needle || strstr(line, needle))
            n++;
    fclose(f);
    return n;
}

static void
wait_metric(int port, const char *key, double at_least)
{
    for (int i = 0; i < 3000; i++) {
        char *body;
        int code = it_http_get(port, "GET", "/metrics", &body);
        CHECK(code == 200, "/metrics answered %d", code);
        double v = metric(body, key);
        free(body);
        if (v >= at_least)
            return;
        usleep(20 * 1000); /* polling an answer: the loop ends on the value */
    }
    it_fail("%s stayed below %g", key, at_least);
}

/* Articles: the shared corpus, each under k different URLs. */
static size_t
articles(cf_article_t **out, size_t k, const char *tag)
{
    cf_article_t *base;
    char **names;
    size_t n = it_load_corpus("corpus/articles", &base, &names);
    cf_article_t *v = cf_calloc(n * k, sizeof *v);
    for (size_t i = 0; i < n * k; i++) {
        const cf_article_t *b = &base[i % n];
        char url[1200];
        snprintf(url, sizeof url, "%s?%s=%zu", b->url, tag, i);
        v[i].url = cf_strdup(url);
        v[i].title = cf_strdup(b->title);
        v[i].body = cf_strdup(b->body);
        v[i].body_len = b->body_len;
    }
    for (size_t i = 0; i < n; i++) {
        cf_article_clear(&base[i]);
        free(names[i]);
    }
    free(base);
    free(names);
    *out = v;
    return n * k;
}

static void
push_all(it_daemon_t *d, cf_article_t *v, size_t n)
{
    int *status = cf_calloc(n, sizeof *status);
    uint64_t *ids = cf_calloc(n, sizeof *ids);
    it_push(d, v, n, status, ids);
    for (size_t i = 0; i < n; i++)
        CHECK(status[i] == CF_OK, "article %zu: status %d", i, status[i]);
    free(status);
    free(ids);
}

/* A daemon run as systemd would run it: the socket that hears its notifications,
 * its HTTP port and its configuration file. */
typedef struct service {
    it_daemon_t d;
    listener_t l;
    int port;
    char conf[300];
} service_t;

static void
service_init(service_t *s, bool abstract, const char *conf_text)
{
    it_daemon_init(&s->d);
    listener_open(&s->l, abstract, s->d.dir);
    s->port = it_free_port();
    snprintf(s->conf, sizeof s->conf, "%s/cloudfactd.conf", s->d.dir);
    write_file(s->conf, conf_text);
}

/* Waits for the daemon's exit after a SIGTERM (sent again) and checks it is clean. */
static void
service_exit(service_t *s)
{
    int status = it_daemon_stop(&s->d, SIGTERM, 60);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status 0x%x", status);
    running = NULL;
}

static void
service_cleanup(service_t *s)
{
    close(s->l.fd);
    it_daemon_cleanup(&s->d);
}

/* The full service life: READY, work while scraped, reloads, STOPPING. */
static void
test_service(bool abstract)
{
    service_t sv;
    service_init(&sv, abstract, "# test\nlog_level = info\nmax_attempts = 3\n");
    it_daemon_t *const d = &sv.d;
    listener_t *const l = &sv.l;
    const int port = sv.port;
    const char *const conf = sv.conf;
    spawn_daemon(d, l->env, port, conf, 2);

    char msg[2048];
    /* READY comes first (nothing else may precede it), with STATUS in the same message */
    expect_msg(l, "READY=1", "", msg, sizeof msg);
    CHECK(strstr(msg, "\nSTATUS=serving:") != NULL, "READY without STATUS: %s", msg);
    CHECK(strstr(msg, "workers ") != NULL, "STATUS without counts: %s", msg);
    expect_msg(l, "WATCHDOG=1", "STATUS=", NULL, 0);

    char *body;
    CHECK(it_http_get(port, "GET", "/healthz", &body) == 200, "/healthz not 200: %s", body);
    CHECK(strcmp(body, "ok\n") == 0, "/healthz body %s", body);
    free(body);
    CHECK(it_http_get(port, "GET", "/nowhere", &body) == 404, "no 404");
    free(body);
    /* methods other than GET and HEAD: 405 (counted as rejected), not evhttp's 501 */
    uint64_t rejected = 0;
    CHECK(it_http_get(port, "GET", "/metrics", &body) == 200, "no /metrics");
    rejected = (uint64_t)metric(body, "cloudfact_http_rejected_total");
    free(body);
    CHECK(it_http_get(port, "POST", "/metrics", &body) == 405, "POST /metrics not 405");
    free(body);
    CHECK(it_http_get(port, "DELETE", "/healthz", &body) == 405, "DELETE /healthz not 405");
    free(body);
    head_then_get(port);
    CHECK(it_http_get(port, "GET", "/metrics", &body) == 200, "no /metrics");
    CHECK((uint64_t)metric(body, "cloudfact_http_rejected_total") == rejected + 2,
          "the 405s were not counted as rejected");
    free(body);

    /* work while scraping: the log must not grow per article at the default level */
    size_t lines_before = count_lines(d->log, NULL);
    cf_article_t *v;
    size_t k = (size_t)(8 * it_scale()) + 1;
    size_t n = articles(&v, k, abstract ? "a" : "p");
    push_all(d, v, n);
    CHECK(it_http_get(port, "GET", "/metrics", &body) == 200, "/metrics not 200");
    check_exposition(body);
    CHECK(metric(body, "cloudfact_articles_received_total{result=\"accepted\"}") == (double)n,
          "accepted count");
    free(body);
    wait_metric(port, "cloudfact_articles{state=\"done\"}", (double)n);
    CHECK(it_http_get(port, "GET", "/metrics", &body) == 200, "/metrics not 200");
    check_exposition(body);
    CHECK(metric(body, "cloudfact_articles_done_total") == (double)n, "done_total");
    CHECK(metric(body, "cloudfact_workers_ready") == 2, "workers_ready");
    CHECK(metric(body, "cloudfact_workers_alive") == 2, "workers_alive");
    CHECK(metric(body, "cloudfact_queue_depth") == 0, "queue_depth");
    CHECK(metric(body, "cloudfact_archive_checkpoint_failures_total") == 0, "checkpoint failures");
    CHECK(metric(body, "cloudfact_archive_commit_seconds_count") >= 1, "no commit probe");
    CHECK(metric(body, "cloudfact_healthy") == 1, "healthy");
    CHECK(metric(body, "cloudfact_watchdog_pings_total") >= 1, "watchdog pings");
    CHECK(metric(body, "cloudfact_facts_archived_total") ==
              metric(body, "cloudfact_facts_published_total"),
          "archived and published facts differ");
    free(body);
    /* the same samples over the query socket */
    CHECK(it_stat(d, "cloudfact_articles_done_total") == n, "stats: done_total");
    CHECK(it_stat(d, "cloudfact_articles_received_total{result=\"accepted\"}") == n,
          "stats: received accepted");
    /* the query socket's own counters are on the metrics page too (SPEC.md: `stats`
     * names them as the page does), with the values `stats` gives */
    static const char *const query_counters[] = {
        "cloudfact_query_streams",
        "cloudfact_query_streams_total",
        "cloudfact_query_streams_aborted_total",
        "cloudfact_query_streams_failed_total",
        "cloudfact_query_stream_facts_total",
        "cloudfact_query_stream_paused_total",
        "cloudfact_query_stream_page_max",
        "cloudfact_query_replies_dropped_total",
    };
    CHECK(it_http_get(port, "GET", "/metrics", &body) == 200, "/metrics not 200");
    for (size_t i = 0; i < sizeof query_counters / sizeof *query_counters; i++)
        CHECK(metric(body, query_counters[i]) == (double)it_stat(d, query_counters[i]),
              "%s differs between /metrics and stats", query_counters[i]);
    free(body);
    size_t per_article = count_lines(d->log, NULL) - lines_before;
    CHECK(per_article < 5, "%zu log lines for %zu articles at level info", per_article, n);
    for (size_t i = 0; i < n; i++)
        cf_article_clear(&v[i]);
    free(v);

    /* reload: a changed file is applied and said; RELOADING then READY */
    write_file(conf, "log_level = debug\nmax_attempts = 3\n");
    kill(d->pid, SIGHUP);
    expect_msg(l, "RELOADING=1", "WATCHDOG=1|STATUS=", NULL, 0);
    expect_msg(l, "READY=1", "", NULL, 0);
    CHECK(it_stat(d, "cloudfact_log_level") == 7, "log level not reloaded");
    CHECK(it_stat(d, "cloudfact_reloads_total{result=\"applied\"}") == 1, "reload count");
    CHECK(count_lines(d->log, "reload: log_level info -> debug") == 1, "reload not logged");

    /* a bad file is refused whole; the running configuration stays; still serving */
    write_file(conf, "log_level = info\nmax_attempts = lots\n");
    kill(d->pid, SIGHUP);
    expect_msg(l, "RELOADING=1", "WATCHDOG=1|STATUS=", NULL, 0);
    expect_msg(l, "READY=1", "", NULL, 0);
    CHECK(it_stat(d, "cloudfact_reloads_total{result=\"refused\"}") == 1, "refusal count");
    CHECK(it_stat(d, "cloudfact_config_last_reload_successful") == 0, "last reload flag");
    CHECK(it_stat(d, "cloudfact_log_level") == 7, "a refused file changed the log level");
    char needle[400];
    snprintf(needle, sizeof needle, "%s:2: max_attempts: 'lots' is not a number", conf);
    CHECK(count_lines(d->log, needle) == 1, "the refusal does not name file:line and key");
    CHECK(it_http_get(port, "GET", "/healthz", &body) == 200, "/healthz after refusal");
    free(body);
    n = articles(&v, 1, abstract ? "a2" : "p2");
    push_all(d, v, 1);
    for (size_t i = 0; i < n; i++)
        cf_article_clear(&v[i]);
    free(v);

    /* SIGTERM: STOPPING, with room for the whole stop (the grace, 10 s by default, and
     * ~18 s for the hand-backs, the workers' exit and the archive's close), then a
     * clean exit */
    kill(d->pid, SIGTERM);
    char stop[2048];
    expect_msg(l, "STOPPING=1", "WATCHDOG=1|STATUS=", stop, sizeof stop);
    const char *ext = strstr(stop, "EXTEND_TIMEOUT_USEC=");
    CHECK(ext && strtoull(ext + strlen("EXTEND_TIMEOUT_USEC="), NULL, 10) == 28000000ull,
          "STOPPING=1 without the stop's time: %s", stop);
    service_exit(&sv);
    service_cleanup(&sv);
}

/* --workers 0: READY at once; /healthz says why it is not healthy (no worker). */
static void
test_no_workers(void)
{
    service_t sv;
    service_init(&sv, false, "log_level = notice\n");
    spawn_daemon(&sv.d, sv.l.env, sv.port, sv.conf, 0);
    expect_msg(&sv.l, "READY=1", "", NULL, 0);
    char *body;
    int code = it_http_get(sv.port, "GET", "/healthz", &body);
    CHECK(code == 503, "/healthz with no worker answered %d", code);
    CHECK(strstr(body, "no worker ready") != NULL, "503 without its reason: %s", body);
    free(body);
    code = it_http_get(sv.port, "GET", "/metrics", &body);
    CHECK(code == 200, "/metrics with no worker answered %d", code);
    check_exposition(body);
    CHECK(metric(body, "cloudfact_healthy") == 0, "healthy with no worker");
    free(body);
    kill(sv.d.pid, SIGTERM);
    expect_msg(&sv.l, "STOPPING=1", "WATCHDOG=1|STATUS=", NULL, 0);
    service_exit(&sv);
    service_cleanup(&sv);
}

/* An archive another connection holds locked as the daemon starts (an analyst's
 * sqlite3 shell in a transaction): while the open waits, systemd hears each second
 * that the start is working, with the step that waits, and more time for it
 * (EXTEND_TIMEOUT_USEC), and the log says it once; when the lock goes, READY. */
static void
test_slow_open(void)
{
    service_t sv;
    service_init(&sv, false, "log_level = notice\n");
    /* a first run makes the archive */
    spawn_daemon(&sv.d, sv.l.env, sv.port, sv.conf, 0);
    expect_msg(&sv.l, "READY=1", "", NULL, 0);
    kill(sv.d.pid, SIGTERM);
    service_exit(&sv);
    char buf[2048];
    struct timeval drain = {0, 1000}; /* the first run's STOPPING and STATUS */
    setsockopt(sv.l.fd, SOL_SOCKET, SO_RCVTIMEO, &drain, sizeof drain);
    while (recv(sv.l.fd, buf, sizeof buf, 0) > 0)
        ;

    char db_path[400];
    snprintf(db_path, sizeof db_path, "%s/cloudfact.db", sv.d.dir);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(db_path, &db) == SQLITE_OK, "open %s", db_path);
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK, "lock");
    spawn_daemon(&sv.d, sv.l.env, sv.port, sv.conf, 0);
    char msg[2048];
    expect_msg(&sv.l, "EXTEND_TIMEOUT_USEC=10000000\n", "", msg, sizeof msg);
    CHECK(strstr(msg, "\nSTATUS=opening the archive: preparing the WAL (waiting for a lock"
                      " another connection holds)") != NULL,
          "the start's status does not say what it waits for: %s", msg);
    expect_msg(&sv.l, "EXTEND_TIMEOUT_USEC=10000000\n", "", NULL, 0); /* and again */
    CHECK(sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL) == SQLITE_OK, "unlock");
    sqlite3_close(db);
    expect_msg(&sv.l, "READY=1", "EXTEND_TIMEOUT_USEC=", NULL, 0);
    CHECK(count_lines(sv.d.log, "archive: still opening after ") == 1,
          "the slow step is not logged once");
    kill(sv.d.pid, SIGTERM);
    service_exit(&sv);
    service_cleanup(&sv);
}

/* Runs cloudfactd with args, its stderr a file that JOURNAL_STREAM names (as
 * systemd sets it); returns the exit status, the file's text in out. */
static int
run_on_journal(const char *prog, const char *const *args, const char *err_path, char *out, size_t n)
{
    write_file(err_path, ""); /* the inode it_spawn then writes to, named beforehand */
    struct stat st;
    CHECK(stat(err_path, &st) == 0, "stat %s", err_path);
    char js[64];
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    const char *argv[16] = {it_bin(prog)};
    for (size_t i = 0; i < 14 && args[i]; i++)
        argv[i + 1] = args[i];
    setenv("JOURNAL_STREAM", js, 1);
    pid_t pid = it_spawn(argv, err_path, false);
    unsetenv("JOURNAL_STREAM");
    int status = it_wait_exit(pid, 60, "a program on the journal");
    FILE *f = fopen(err_path, "r");
    CHECK(f, "open %s", err_path);
    size_t len = fread(out, 1, n - 1, f);
    out[len] = '\0';
    fclose(f);
    return status;
}

/* On the journal, the reason a start failed has the error priority (journalctl
 * -p err shows it), in DESIGN.md's "program: what failed: why" form. */
static void
test_journal_priorities(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    char err_path[400], out[4096];
    snprintf(err_path, sizeof err_path, "%s/stderr", d.dir);
    const char *bad_config[] = {"--ingest", "tcp://127.0.0.1:0", "--check-config", NULL};
    int st = run_on_journal("cloudfactd", bad_config, err_path, out, sizeof out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "bad configuration: status 0x%x", st);
    CHECK(strncmp(out, "<3>cloudfactd: configuration: --ingest: ", 40) == 0,
          "a configuration error on the journal: %s", out);
    /* a start that fails at run time: the state directory cannot be made */
    char blocker[400];
    snprintf(blocker, sizeof blocker, "%s/file", d.dir);
    int fd = open(blocker, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0, "create %s", blocker);
    close(fd);
    char state[440];
    snprintf(state, sizeof state, "%s/state", blocker);
    const char *bad_start[] = {
        "--state-dir",       state,       "--workers", "0",       "--http",  "off",
        "--ingest",          d.ingest,    "--publish", d.publish, "--query", d.query,
        "--worker-endpoint", d.worker_ep, NULL};
    st = run_on_journal("cloudfactd", bad_start, err_path, out, sizeof out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 1, "failed start: status 0x%x", st);
    char want[600];
    snprintf(want, sizeof want, "<3>cloudfactd: archive: cannot create state directory %s", state);
    const char *at = strstr(out, want);
    CHECK(at && (at == out || at[-1] == '\n'), "the start's failure on the journal: %s", out);
    /* a worker that cannot load its data files (the daemon's stderr is its stderr) */
    const char *bad_worker[] = {"--endpoint", d.worker_ep, "--data", state, NULL};
    st = run_on_journal("cloudfact-worker", bad_worker, err_path, out, sizeof out);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "worker without data: status 0x%x", st);
    snprintf(want, sizeof want, "<3>cloudfact-worker: data files in %s: ", state);
    CHECK(strncmp(out, want, strlen(want)) == 0, "the worker's failure on the journal: %s", out);
    /* spawned by the daemon (a token in its environment), it writes to the daemon's
     * stream, which the journal names after the daemon: its lines carry its own name
     * and pid */
    setenv(CF_WORKER_TOKEN_ENV, "00", 1);
    st = run_on_journal("cloudfact-worker", bad_worker, err_path, out, sizeof out);
    unsetenv(CF_WORKER_TOKEN_ENV);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2, "spawned worker without data: status 0x%x", st);
    char *pid_end = NULL;
    long pid = strncmp(out, "<3>cloudfact-worker[", 20) == 0 ? strtol(out + 20, &pid_end, 10) : 0;
    snprintf(want, sizeof want, "]: data files in %s: ", state);
    CHECK(pid > 0 && pid_end && strncmp(pid_end, want, strlen(want)) == 0,
          "a spawned worker's failure on the journal, without its name and pid: %s", out);
    printf("ok   on the journal, a worker the daemon spawned names itself and its pid\n");
    it_daemon_cleanup(&d);
}

int
main(void)
{
    atexit(kill_running);
    test_journal_priorities();
    test_slow_open();
    test_service(true);
    test_service(false);
    test_no_workers();
    printf("it_service: ok\n");
    return 0;
}
