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
    seen_t s = {0, 0, 2, base};
    char *argv[] = {"/bin/sh", "-c", "exit 3", NULL};
    cf_err_t err;
    cf_pool_t *pool = cf_pool_new(base, argv, 1, on_exit_cb, &s, &err);
    CF_CHECK(pool != NULL);
    CF_CHECK_INT(cf_pool_start(pool, &err), CF_OK);
    run(base, 10); /* the first exit, a 1 s back-off, the second exit */
    cf_pool_stats_t st;
    cf_pool_stats(pool, &st);
    CF_CHECK_INT(s.exits, 2);
    CF_CHECK(WIFEXITED(s.last_status) && WEXITSTATUS(s.last_status) == 3);
    CF_CHECK(st.spawned >= 2);
    CF_CHECK(st.restarted >= 1);
    CF_CHECK(st.crashed >= 2);
    cf_pool_destroy(&pool);
    CF_CHECK(pool == NULL);
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

CF_TEST_LIST(CF_TEST(test_restarts_crashed_worker), CF_TEST(test_config_error_not_restarted),
             CF_TEST(test_missing_program), CF_TEST(test_stop_and_kill))
