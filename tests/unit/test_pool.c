/* SPDX-License-Identifier: MIT
 * Unit tests for cf_pool: a worker that ends is reported and restarted after the
 * back-off; one that exits 2 (configuration error) waits 30 s, or a reload. Real
 * processes (/bin/sh), a real event loop. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "cf_msg.h"
#include "cf_pool.h"
#include "cf_test.h"

typedef struct seen {
    int exits;
    int last_status;
    int stop_after;
    struct event_base *base;
} seen_t;

static void
on_exit_cb(pid_t pid, int status, void *arg)
{
    (void)pid;
    seen_t *s = arg;
    s->exits++;
    s->last_status = status;
    if (s->exits >= s->stop_after)
        event_base_loopexit(s->base, NULL);
}

static void
on_timeout(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    event_base_loopexit(arg, NULL);
}

static void
run(struct event_base *base, int seconds)
{
    struct event *t = evtimer_new(base, on_timeout, base);
    struct timeval tv = {seconds, 0};
    evtimer_add(t, &tv);
    event_base_dispatch(base);
    event_free(t);
}

static void
test_restarts_crashed_worker(void)
{
    struct event_base *base = event_base_new();
    seen_t s = {0, 0, 3, base};
    char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    cf_err_t err;
    cf_pool_t *pool = cf_pool_new(base, argv, 1, on_exit_cb, &s, &err);
    CF_CHECK(pool != NULL);
    CF_CHECK_INT(cf_pool_start(pool, &err), CF_OK);
    run(base, 15); /* exit, 1 s, exit, 2 s, exit: never ready, so the back-off doubles */
    cf_pool_stats_t st;
    cf_pool_stats(pool, &st);
    CF_CHECK_INT(s.exits, 3);
    CF_CHECK(WIFEXITED(s.last_status) && WEXITSTATUS(s.last_status) == 3);
    CF_CHECK_INT(st.spawned, 3);
    CF_CHECK_INT(st.restarted, 2);
    CF_CHECK_INT(st.crashed, 3);
    CF_CHECK_INT(st.backoff, 4);
    cf_pool_destroy(&pool);
    CF_CHECK(pool == NULL);
    event_base_free(base);
}

/* A worker that was ready and then died (an article killed it) comes back after
 * 1 s, however often that happens: the back-off is for workers that cannot start. */
static void
test_ready_resets_backoff(void)
{
    struct event_base *base = event_base_new();
    seen_t s = {0, 0, 1, base};
    char *argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
    cf_err_t err;
    cf_pool_t *pool = cf_pool_new(base, argv, 1, on_exit_cb, &s, &err);
    CF_CHECK_INT(cf_pool_start(pool, &err), CF_OK);
    for (int round = 0; round < 3; round++) {
        /* find the live worker: the only child of ours that runs */
        pid_t pid = 0;
        for (pid_t p = 1; p < 4194304 && !pid; p++)
            if (cf_pool_owns(pool, p))
                pid = p;
        CF_CHECK(pid > 0);
        cf_pool_ready(pool, pid);
        cf_pool_kill(pool, pid);
        s.exits = 0;
        run(base, 10); /* until the exit is reported */
        cf_pool_stats_t st;
        cf_pool_stats(pool, &st);
        CF_CHECK_INT(st.backoff, 1);
        /* wait for the respawn */
        for (int i = 0; i < 40 && st.alive == 0; i++) {
            struct timeval tv = {0, 100000};
            event_base_loopexit(base, &tv);
            event_base_dispatch(base);
            cf_pool_stats(pool, &st);
        }
        CF_CHECK_INT(st.alive, 1);
    }
    cf_pool_destroy(&pool);
    event_base_free(base);
}

/* A worker that exits 2 (its data files or keys are wrong) waits 30 s, not 1 (then
 * 60, ...), and a reload (cf_pool_retry) starts it again at once: the files may be
 * fixed by then. */
static void
test_config_error_retried(void)
{
    struct event_base *base = event_base_new();
    seen_t s = {0, 0, 99, base};
    char *argv[] = {"/bin/sh", "-c", "exit 2", NULL};
    cf_err_t err;
    cf_pool_t *pool = cf_pool_new(base, argv, 1, on_exit_cb, &s, &err);
    CF_CHECK_INT(cf_pool_start(pool, &err), CF_OK);
    run(base, 3); /* long enough for a 1 s respawn, which must not happen */
    cf_pool_stats_t st;
    cf_pool_stats(pool, &st);
    CF_CHECK_INT(s.exits, 1);
    CF_CHECK_INT(st.spawned, 1);
    CF_CHECK_INT(st.alive, 0);
    CF_CHECK_INT(st.backoff, 30);
    CF_CHECK_INT(st.config_errors, 1);
    cf_pool_retry(pool);
    s.stop_after = 2;
    run(base, 5); /* until the second exit */
    cf_pool_stats(pool, &st);
    CF_CHECK_INT(s.exits, 2);
    CF_CHECK_INT(st.spawned, 2);
    CF_CHECK_INT(st.config_errors, 1);
    CF_CHECK_INT(st.backoff, 60); /* again: it waits longer */
    cf_pool_destroy(&pool);
    event_base_free(base);
}

static void
test_missing_program(void)
{
    struct event_base *base = event_base_new();
    char *argv[] = {"/nonexistent/cloudfact-worker", NULL};
    cf_err_t err;
    cf_pool_t *pool = cf_pool_new(base, argv, 2, NULL, NULL, &err);
    CF_CHECK_INT(cf_pool_start(pool, &err), CF_ESYS);
    CF_CHECK(strstr(err.text, "/nonexistent/cloudfact-worker") != NULL);
    cf_pool_destroy(&pool);
    event_base_free(base);
}

static void
test_stop_and_kill(void)
{
    struct event_base *base = event_base_new();
    seen_t s = {0, 0, 2, base};
    char *argv[] = {"/bin/sh", "-c", "exec sleep 30", NULL};
    cf_err_t err;
    cf_pool_t *pool = cf_pool_new(base, argv, 2, on_exit_cb, &s, &err);
    CF_CHECK_INT(cf_pool_start(pool, &err), CF_OK);
    cf_pool_stop(pool); /* SIGTERM both, no respawn */
    run(base, 10);
    cf_pool_stats_t st;
    cf_pool_stats(pool, &st);
    CF_CHECK_INT(s.exits, 2);
    CF_CHECK_INT(st.alive, 0);
    CF_CHECK_INT(st.spawned, 2);
    cf_pool_destroy(&pool);
    event_base_free(base);
}

/* Reads what the child wrote to path (up to n - 1 bytes), waiting up to 5 s for it. */
static void
read_child_file(const char *path, char *out, size_t n)
{
    out[0] = '\0';
    for (int i = 0; i < 500 && !out[0]; i++) {
        FILE *f = fopen(path, "r");
        if (f) {
            size_t k = fread(out, 1, n - 1, f);
            out[k] = '\0';
            fclose(f);
        }
        if (!out[0])
            usleep(10000);
    }
}

/* Each spawned worker finds a token of its own in CF_WORKER_TOKEN_ENV (the daemon's own
 * value of that variable is not passed on), and the pool vouches for a pid only with
 * that pid's token: what a worker's `ready` must show before its pid is believed. A
 * respawned worker gets a new token. */
static void
test_token_vouches(void)
{
    char dir[] = "/tmp/cf-test-pool-XXXXXX";
    CF_CHECK(mkdtemp(dir) != NULL);
    char script[2048], tokf[128], pidf[128];
    snprintf(tokf, sizeof tokf, "%s/token", dir);
    snprintf(pidf, sizeof pidf, "%s/pid", dir);
    snprintf(script, sizeof script,
             "rm -f %s.new; printf %%s \"$%s\" > %s.new; mv %s.new %s; echo $$ > %s.new;"
             " mv %s.new %s; exec sleep 30",
             tokf, CF_WORKER_TOKEN_ENV, tokf, tokf, tokf, pidf, pidf, pidf);
    setenv(CF_WORKER_TOKEN_ENV, "inherited", 1);
    struct event_base *base = event_base_new();
    seen_t s = {0, 0, 1, base};
    char *argv[] = {"/bin/sh", "-c", script, NULL};
    cf_err_t err;
    cf_pool_t *pool = cf_pool_new(base, argv, 1, on_exit_cb, &s, &err);
    CF_CHECK_INT(cf_pool_start(pool, &err), CF_OK);
    char token[128], first[128], pidtext[32];
    read_child_file(tokf, token, sizeof token);
    read_child_file(pidf, pidtext, sizeof pidtext);
    pid_t pid = (pid_t)atoi(pidtext);
    CF_CHECK(cf_pool_owns(pool, pid));
    CF_CHECK_INT(strlen(token), 32);
    CF_CHECK(cf_pool_vouch(pool, pid, token));
    CF_CHECK(!cf_pool_vouch(pool, pid, "inherited"));
    CF_CHECK(!cf_pool_vouch(pool, pid, NULL));
    CF_CHECK(!cf_pool_vouch(pool, pid, ""));
    CF_CHECK(!cf_pool_vouch(pool, pid + 1, token)); /* another pid with this token */
    snprintf(first, sizeof first, "%s", token);
    /* the respawn's token is new; the old one vouches for nothing */
    remove(tokf);
    remove(pidf);
    cf_pool_kill(pool, pid);
    run(base, 10); /* until the exit is reported */
    cf_pool_stats_t st;
    cf_pool_stats(pool, &st);
    for (int i = 0; i < 40 && st.alive == 0; i++) { /* the respawn, after 1 s */
        struct timeval tv = {0, 100000};
        event_base_loopexit(base, &tv);
        event_base_dispatch(base);
        cf_pool_stats(pool, &st);
    }
    read_child_file(tokf, token, sizeof token);
    read_child_file(pidf, pidtext, sizeof pidtext);
    pid_t again = (pid_t)atoi(pidtext);
    CF_CHECK(again > 0 && again != pid);
    CF_CHECK(cf_pool_vouch(pool, again, token));
    CF_CHECK(strcmp(token, first) != 0);
    CF_CHECK(!cf_pool_vouch(pool, again, first));
    cf_pool_destroy(&pool);
    event_base_free(base);
    unsetenv(CF_WORKER_TOKEN_ENV);
    remove(tokf);
    remove(pidf);
    rmdir(dir);
}

CF_TEST_LIST(CF_TEST(test_restarts_crashed_worker), CF_TEST(test_ready_resets_backoff),
             CF_TEST(test_config_error_retried), CF_TEST(test_missing_program),
             CF_TEST(test_stop_and_kill), CF_TEST(test_token_vouches))
