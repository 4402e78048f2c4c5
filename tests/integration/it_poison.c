/* SPDX-License-Identifier: MIT
 * it_poison: articles that kill or hang their worker. The daemon runs the
 * test-only worker (cloudfact-worker-test, whose hooks production binaries lack):
 * a body with "cf-test:crash" aborts it, "cf-test:hang" hangs it. Each such
 * article is tried max_attempts times, quarantined with the reason, announced as
 * article.failed, and never blocks the articles behind it; dead and hung workers
 * are replaced after a logged 1 s back-off; `cloudfact quarantine` lists
 * and requeues; a worker that stops heart-beating is killed and replaced. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>
#include <zmq.h>

#include "cf_client.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

/* One ingest request on a DEALER of its own; returns the reply's status and copies its
 * error text to why (or fails the test after 10 s without a reply). */
static int
push_raw(const it_daemon_t *d, const char *url, char *why, size_t whysz)
{
    void *ctx = zmq_ctx_new();
    void *s = zmq_socket(ctx, ZMQ_DEALER);
    int linger = 0, tmo = 10000;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &tmo, sizeof tmo);
    if (zmq_connect(s, d->ingest) != 0)
        it_fail("connect %s: %s", d->ingest, zmq_strerror(zmq_errno()));
    cf_article_t a = {.url = (char *)url, .title = "Cloud news", .body = "Late news."};
    a.body_len = strlen(a.body);
    it_send_article(s, &a);
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, s, 0) < 0)
        it_fail("%s: no reply in 10 s while shutting down", url);
    cf_msg_t r;
    cf_err_t err;
    if (cf_msg_decode(CF_CHAN_INGEST_REPLY, zmq_msg_data(&m), zmq_msg_size(&m), &r, &err) != CF_OK)
        it_fail("%s: reply: %s", url, err.text);
    snprintf(why, whysz, "%s", r.u.reply.error ? r.u.reply.error : "");
    int rc = r.u.reply.rc;
    cf_msg_clear(&r);
    zmq_msg_close(&m);
    zmq_close(s);
    zmq_ctx_term(ctx);
    return rc;
}

static cf_article_t
article(const char *url, const char *body)
{
    cf_article_t a = {0};
    a.url = (char *)url;
    a.title = "Test";
    a.body = (char *)body;
    a.body_len = strlen(body);
    return a;
}

static char *
run_capture(const char *cmd, int *status)
{
    FILE *p = popen(cmd, "r");
    CHECK(p, "popen %s", cmd);
    char *buf = calloc(1, 1 << 20);
    size_t n = fread(buf, 1, (1 << 20) - 1, p);
    buf[n] = '\0';
    int st = pclose(p);
    *status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return buf;
}

/* Is pid running? A zombie is not (its new parent may be slow to reap it). */
static bool
alive(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *end = strrchr(buf, ')');
    return end && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

/* The first n children of process pid (its workers), or the test fails. */
static void
children_of(pid_t pid, pid_t *out, size_t n)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid, (int)pid);
    char *kids = it_slurp(path, NULL), *k = kids;
    for (size_t i = 0; i < n; i++) {
        out[i] = (pid_t)strtol(k, &k, 10);
        k += strspn(k, " \n");
        CHECK(out[i] > 0, "cloudfactd (pid %d) has %zu worker(s), not %zu", (int)pid, i, n);
    }
    free(kids);
}

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    char control[320], wcmd[512];
    snprintf(control, sizeof control, "ipc://%s/control.sock", d.dir);
    snprintf(wcmd, sizeof wcmd, "%s", it_bin("cloudfact-worker-test"));
    const char *extra[] = {"--worker-command", wcmd, "--max-attempts", "3", "--job-deadline",
                           "2", "--control", control, NULL};
    it_daemon_start(&d, 2, extra);

    const char *pre[] = {"article.failed"};
    cf_err_t err;
    cf_sub_t *sub = cf_sub_new(d.publish, NULL, pre, 1, &err);
    CHECK(sub, "sub: %s", err.text);
    it_wait_stat(&d, "cloudfact_subscriptions", 1, 30);

    cf_article_t arts[] = {
        article("https://example.test/before", "Nimbus Cloud opened two data centers in Oslo."),
        article("https://example.test/crash", "This body carries cf-test:crash for the worker."),
        article("https://example.test/hang", "This body carries cf-test:hang for the worker."),
        article("https://example.test/after-1", "Stratus Cloud has 12,000 customers."),
        article("https://example.test/after-2", "Cirrus Systems said its revenue was $40 million."),
    };
    const size_t n = sizeof arts / sizeof *arts;
    int status[5];
    uint64_t ids[5];
    it_push(&d, arts, n, status, ids);
    for (size_t i = 0; i < n; i++)
        CHECK(status[i] == CF_OK, "%s not accepted", arts[i].url);

    /* the good ones are not held up; the bad ones end quarantined after 3 attempts */
    it_wait_stat(&d, "cloudfact_articles_done", 3, 120);
    it_wait_stat(&d, "cloudfact_articles_failed", 2, 120);
    CHECK(it_article_int(&d, "attempts", ids[1]) == 3, "crash article: attempts %lld",
          (long long)it_article_int(&d, "attempts", ids[1]));
    CHECK(it_article_int(&d, "attempts", ids[2]) == 3, "hang article: attempts %lld",
          (long long)it_article_int(&d, "attempts", ids[2]));
    char sql[256];
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM articles WHERE id = %llu AND state = 'failed' AND error LIKE "
             "'%%signal 6%%'",
             (unsigned long long)ids[1]);
    CHECK(it_sql_int(&d, sql) == 1, "the crash article's reason does not name the signal");
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM articles WHERE id = %llu AND state = 'failed' AND error LIKE "
             "'%%deadline%%'",
             (unsigned long long)ids[2]);
    CHECK(it_sql_int(&d, sql) == 1, "the hang article's reason does not name the deadline");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM facts WHERE article IN (SELECT id FROM articles "
                         "WHERE state = 'failed')") == 0,
          "facts stored for a quarantined article");
    printf("ok   crash and hang articles quarantined after 3 attempts; the rest done\n");

    /* article.failed announced for both */
    int failed_events = 0;
    for (int i = 0; i < 20 && failed_events < 2; i++) {
        cf_sub_msg_t m;
        if (cf_sub_recv(sub, 500, &m, &err) == CF_OK && strcmp(m.topic, "article.failed") == 0)
            failed_events++;
    }
    CHECK(failed_events == 2, "article.failed published %d times, expected 2", failed_events);

    /* replaced workers, logged; a worker that was ready comes back after 1 s (the
     * doubling back-off for workers that cannot start is test_pool's) */
    char *log = it_slurp(d.log, NULL);
    CHECK(strstr(log, "restarting in 1s"), "no respawn in the log");
    CHECK(!strstr(log, "restarting in 2s"), "an article's crashes escalated the back-off");
    CHECK(strstr(log, "hung on article"), "the hung worker was not reported");
    free(log);
    printf("ok   article.failed published; dead and hung workers replaced with back-off\n");

    /* cloudfact quarantine lists them; the public query socket refuses operator ops */
    char cmd[1024];
    int st;
    snprintf(cmd, sizeof cmd, "'%s' quarantine --json --endpoint '%s'", it_bin("cloudfact"),
             control);
    char *out = run_capture(cmd, &st);
    CHECK(st == 0, "cloudfact quarantine exited %d", st);
    size_t lines = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        CHECK(o, "not JSON: %s", line);
        CHECK(json_integer_value(json_object_get(o, "attempts")) == 3, "attempts in listing");
        CHECK(json_string_value(json_object_get(o, "error")), "no error in listing");
        json_decref(o);
        lines++;
    }
    CHECK(lines == 2, "quarantine listed %zu articles, expected 2", lines);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' quarantine --json --endpoint '%s' 2>&1", it_bin("cloudfact"),
             d.query);
    out = run_capture(cmd, &st);
    CHECK(st == 1 && strstr(out, "denied"), "operator op over tcp: %d %s", st, out);
    free(out);
    /* keys in the environment (for tcp endpoints) do not stop a command on the plain
     * ipc control socket, even one variable set alone */
    snprintf(cmd, sizeof cmd,
             "CLOUDFACT_SERVER_KEY=/nowhere/cf.pub '%s' quarantine --json --endpoint '%s' 2>&1",
             it_bin("cloudfact"), control);
    out = run_capture(cmd, &st);
    CHECK(st == 0 && strstr(out, "\"attempts\""), "quarantine with a key in the environment: %d %s",
          st, out);
    free(out);
    /* a socket file that is not there is said at once, not after a 10 s wait */
    snprintf(cmd, sizeof cmd, "'%s' quarantine --endpoint 'ipc://%s/no-such.sock' 2>&1",
             it_bin("cloudfact"), d.dir);
    out = run_capture(cmd, &st);
    CHECK(st == 1 && strstr(out, "no-such.sock: no such socket file (is cloudfactd running"),
          "quarantine on a missing socket: %d %s", st, out);
    free(out);

    /* requeue one: attempts start again, it runs (and fails) again */
    snprintf(cmd, sizeof cmd, "'%s' quarantine --endpoint '%s' --requeue %llu 2>&1",
             it_bin("cloudfact"), control, (unsigned long long)ids[1]);
    out = run_capture(cmd, &st);
    CHECK(st == 0 && strstr(out, "requeued 1"), "requeue: %d %s", st, out);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' quarantine --endpoint '%s' --requeue %llu 2>&1",
             it_bin("cloudfact"), control, (unsigned long long)ids[0]);
    out = run_capture(cmd, &st);
    CHECK(st == 1 && strstr(out, "not quarantined"), "requeue of a done article: %d %s", st, out);
    free(out);
    it_wait_stat(&d, "cloudfact_workers_restarted_total", 1, 10);
    /* it goes back to failed after three fresh attempts */
    for (int i = 0; i < 600; i++) {
        if (it_article_int(&d, "attempts", ids[1]) == 3 &&
            it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'failed'") == 2)
            break;
        usleep(100 * 1000);
    }
    CHECK(it_article_int(&d, "attempts", ids[1]) == 3, "requeued article: attempts %lld",
          (long long)it_article_int(&d, "attempts", ids[1]));
    snprintf(cmd, sizeof cmd, "'%s' quarantine --endpoint '%s' --all 2>&1", it_bin("cloudfact"),
             control);
    out = run_capture(cmd, &st);
    CHECK(st == 0 && strstr(out, "requeued 2"), "requeue --all: %d %s", st, out);
    free(out);
    printf("ok   cloudfact quarantine lists, requeues one and all; tcp is denied\n");

    /* a worker that stops heart-beating while idle is killed and replaced */
    it_wait_stat(&d, "cloudfact_articles_failed", 2, 180); /* the requeued ones fail again */
    it_wait_stat(&d, "cloudfact_workers_ready", 2, 60);
    uint64_t restarted = it_stat(&d, "cloudfact_workers_restarted_total");
    snprintf(cmd, sizeof cmd, "pkill -STOP -n -P %d -f cloudfact-worker-test", (int)d.pid);
    CHECK(system(cmd) == 0, "no worker to stop");
    it_wait_stat(&d, "cloudfact_workers_restarted_total", restarted + 1, 30);
    log = it_slurp(d.log, NULL);
    CHECK(strstr(log, "silent for"), "the silent worker was not reported");
    free(log);
    printf("ok   a silent worker is killed and replaced\n");

    /* workers that die on every article (here: every article kills them) are taken
     * for broken after 8 different ones: jobs pause, /healthz and the log say so, and
     * the queue is not quarantined whole, one attempt per death */
    enum { BROKEN = 16 };
    cf_article_t bad[BROKEN];
    char urls[BROKEN][64], bodies[BROKEN][96];
    for (int k = 0; k < BROKEN; k++) {
        snprintf(urls[k], sizeof urls[k], "https://example.test/broken-%d", k);
        snprintf(bodies[k], sizeof bodies[k], "Report %d: cf-test:crash makes the worker abort.",
                 k);
        bad[k] = article(urls[k], bodies[k]);
    }
    int bst[BROKEN];
    uint64_t bids[BROKEN];
    it_push(&d, bad, BROKEN, bst, bids);
    for (int k = 0; k < BROKEN; k++)
        CHECK(bst[k] == CF_OK, "%s not accepted", urls[k]);
    it_wait_stat(&d, "cloudfact_workers_broken_total", 1, 120);
    char *body = NULL;
    int port = atoi(strrchr(d.http, ':') + 1);
    CHECK(it_http_get(port, "GET", "/healthz", &body) == 503 &&
              strstr(body, "dying on every article"),
          "/healthz while jobs are paused: %s", body ? body : "(none)");
    free(body);
    it_wait_log(&d, "workers are dying on every article", 1, 10);
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM articles WHERE url LIKE 'https://example.test/broken-%%' AND"
             " state = 'failed'");
    int64_t failed = it_sql_int(&d, sql);
    CHECK(failed < BROKEN / 2, "%lld of %d articles quarantined before jobs paused",
          (long long)failed, BROKEN);
    printf("ok   workers dying on every article pause the jobs (%lld of %d quarantined)\n",
           (long long)failed, BROKEN);

    cf_sub_destroy(&sub);
    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    it_daemon_cleanup(&d);

    /* Shutdown with a job in flight that no worker will answer ("cf-test:lose"; its
     * deadline, 600 s, and the grace, 60 s, outlast the test): SIGTERM to the workers
     * too, as `kill -TERM -PGID` or `timeout` send it, makes them leave during the
     * grace; each is logged as stopped, none as a crash to restart (the first exit
     * always comes while the job is still in flight, so before the pool is stopped). */
    it_daemon_t d2;
    it_daemon_init(&d2);
    const char *extra2[] = {
        "--worker-command", wcmd, "--job-deadline", "600", "--grace", "60", NULL};
    it_daemon_start(&d2, 2, extra2);
    it_wait_stat(&d2, "cloudfact_workers_ready", 2, 30);
    it_push_one(&d2, "https://example.test/lost-at-exit", "This one has cf-test:lose in it.");
    it_wait_stat(&d2, "cloudfact_jobs_inflight", 1, 30);
    pid_t workers[2];
    children_of(d2.pid, workers, 2);
    kill(d2.pid, SIGINT);
    it_wait_log(&d2, "shutdown: SIGINT", 1, 10);
    /* the grace is open (the lost job): a request now is answered, busy, not left to
     * the client's timeout, and nothing is stored */
    char why[128];
    int late = push_raw(&d2, "https://example.test/during-shutdown", why, sizeof why);
    CHECK(late == CF_EBUSY && strcmp(why, "shutting down") == 0,
          "a push during the grace got %s (%s), not busy (shutting down)", cf_msg_status_name(late),
          why);
    kill(workers[0], SIGTERM);
    kill(workers[1], SIGTERM);
    ws = it_wait_exit(d2.pid, 60, "cloudfactd shutting down");
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "SIGINT with the workers leaving: exit 0x%x", ws);
    CHECK(it_log_count(&d2, "restarting in") == 0 && it_log_count(&d2, "pool: worker started") == 2,
          "a worker that left during the grace was taken for a crash and restarted");
    CHECK(it_sql_int(&d2, "SELECT count(*) FROM articles WHERE url LIKE '%during-shutdown'") == 0,
          "an article pushed during the shutdown was stored");
    d2.pid = 0;
    it_daemon_cleanup(&d2);
    printf("ok   workers leaving during the grace are stopped, not restarted; a push then is "
           "answered busy\n");

    /* A second SIGINT exits at once (status 1), and a worker hung in its job goes
     * with the daemon instead of ignoring the SIGTERM of its parent's death, as an
     * orphan that never returns to its loop. (The second SIGINT comes well within
     * the 3 s after which the daemon would kill the silent worker itself.) */
    it_daemon_t d3;
    it_daemon_init(&d3);
    it_daemon_start(&d3, 1, extra2);
    it_push_one(&d3, "https://example.test/hang-at-exit", "This one has cf-test:hang in it.");
    it_wait_stat(&d3, "cloudfact_jobs_inflight", 1, 30);
    pid_t hung;
    children_of(d3.pid, &hung, 1);
    kill(d3.pid, SIGINT);
    it_wait_log(&d3, "shutdown: SIGINT", 1, 10);
    kill(d3.pid, SIGINT);
    ws = it_wait_exit(d3.pid, 30, "cloudfactd after a second SIGINT");
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 1, "second SIGINT: exit 0x%x", ws);
    int tries = 0;
    while (alive(hung) && tries++ < 1000)
        usleep(10 * 1000);
    CHECK(!alive(hung), "the hung worker (pid %d) outlived its daemon", (int)hung);
    d3.pid = 0;
    it_daemon_cleanup(&d3);
    printf("ok   a second SIGINT exits at once and takes a hung worker with it\n");
    printf("it_poison: all checks passed\n");
    return 0;
}
