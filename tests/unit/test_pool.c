/* SPDX-License-Identifier: MIT
 * Unit tests for cf_pool: a worker that ends is reported and restarted after the
 * back-off; one that exits 2 (configuration error) is not restarted. Real
 * processes (/bin/sh), a real event loop. */
#include <sys/wait.h>

#include <event2/event.h>

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

static void
test_config_error_not_restarted(void)
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

CF_TEST_LIST(CF_TEST(test_restarts_crashed_worker), CF_TEST(test_ready_resets_backoff),
             CF_TEST(test_config_error_not_restarted),
             CF_TEST(test_missing_program), CF_TEST(test_stop_and_kill))
