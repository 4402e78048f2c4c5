/* SPDX-License-Identifier: MIT
 * cloudfactd: options and config, start order (archive, sockets, workers), the
 * signal handlers and the shutdown drain, destruction in reverse order. One
 * libevent loop owns every socket; the archive's writer thread owns SQLite. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <zmq.h>

#include "cf_archive.h"
#include "cf_config.h"
#include "cf_dispatch.h"
#include "cf_ingest.h"
#include "cf_log.h"
#include "cf_msg.h"
#include "cf_pool.h"
#include "cf_publish.h"
#include "cf_query.h"

#define RELEASE_WAIT_MS 5000 /* after the grace: how long hand-backs may take to commit */
#define STOP_WAIT_MS 3000    /* how long workers get to exit after `stop` and SIGTERM */

typedef enum phase { RUNNING, DRAINING, RELEASING, STOPPING } phase_t;

typedef struct daemon {
    struct event_base *base;
    void *zctx;
    cf_config_t *cfg;
    cf_config_src_t *src;
    cf_archive_t *archive;
    cf_publish_t *publish;
    cf_ingest_t *ingest;
    cf_query_t *query;
    cf_dispatch_t *dispatch;
    cf_pool_t *pool;
    struct event *sigs[3];      /* SIGTERM, SIGINT, SIGHUP */
    struct event *shutdown_tick;
    phase_t phase;
    uint64_t phase_since;       /* ms */
    int sigints;
} daemon_t;

static uint64_t
now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
set_phase(daemon_t *d, phase_t p)
{
    d->phase = p;
    d->phase_since = now_ms();
}

/* The shutdown drain, one step per tick: stop intake, let jobs finish within the
 * grace, hand back the rest, let every commit land and its reply go out, stop the
 * workers, leave the loop. */
static void
on_shutdown_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_t *d = arg;
    uint64_t waited = now_ms() - d->phase_since;
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(d->dispatch, &ds);
    switch (d->phase) {
    case DRAINING:
        if (ds.inflight == 0 || waited >= (uint64_t)d->cfg->grace * 1000) {
            if (ds.inflight)
                cf_log_notice("shutdown: grace over, handing back %zu jobs", ds.inflight);
            if (d->pool)
                cf_pool_stop(d->pool); /* no respawns from here on */
            cf_dispatch_release_all(d->dispatch);
            set_phase(d, RELEASING);
        }
        break;
    case RELEASING:
        if ((cf_dispatch_pending(d->dispatch) == 0 && cf_ingest_pending(d->ingest) == 0 &&
             cf_query_pending(d->query) == 0) ||
            waited >= RELEASE_WAIT_MS) {
            set_phase(d, STOPPING);
        }
        break;
    case STOPPING: {
        cf_pool_stats_t ps = {0};
        if (d->pool)
            cf_pool_stats(d->pool, &ps);
        if (ps.alive == 0 || waited >= STOP_WAIT_MS)
            event_base_loopexit(d->base, NULL);
        break;
    }
    case RUNNING: break;
    }
}

static void
begin_shutdown(daemon_t *d, const char *why)
{
    if (d->phase != RUNNING)
        return;
    cf_ingest_stats_t is;
    cf_ingest_stats(d->ingest, &is);
    cf_log_notice("shutdown: %s; no new articles, waiting up to %ld s for jobs in flight", why,
                  d->cfg->grace);
    cf_ingest_stop(d->ingest);
    cf_dispatch_drain(d->dispatch);
    set_phase(d, DRAINING);
    struct timeval tv = {0, 50 * 1000};
    event_add(d->shutdown_tick, &tv);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    daemon_t *d = arg;
    if (sig == SIGHUP) {
        cf_err_t err;
        cf_config_t *fresh = cf_config_reload(d->src, &err);
        if (!fresh) {
            cf_log_error("reload: refused, keeping the running configuration: %s", err.text);
            return;
        }
        int level = cf_log_level_parse(fresh->log_level);
        if (level != cf_log_level)
            cf_log_notice("reload: log_level %s -> %s", cf_log_level_name(cf_log_level),
                          fresh->log_level);
        cf_log_level = level;
        cf_log_notice("reload: done (log_level is the only setting applied without a restart)");
        cf_config_destroy(&fresh);
        return;
    }
    if (sig == SIGINT && ++d->sigints > 1) {
        cf_log_warn("shutdown: second SIGINT, exiting at once (acknowledged articles are safe)");
        _exit(1);
    }
    begin_shutdown(d, sig == SIGINT ? "SIGINT" : "SIGTERM");
}

static void
on_accepted(void *arg)
{
    daemon_t *d = arg;
    cf_dispatch_kick(d->dispatch);
}

static void
on_worker_exit(pid_t pid, int status, void *arg)
{
    daemon_t *d = arg;
    cf_dispatch_worker_exited(d->dispatch, pid, status);
}

static void
pair_u(msgpack_packer *pk, const char *k, uint64_t v, size_t *n)
{
    cf_msg_pack_str(pk, k);
    msgpack_pack_uint64(pk, v);
    (*n)++;
}

static size_t
pack_stats(msgpack_packer *pk, void *arg)
{
    daemon_t *d = arg;
    size_t n = 0;
    cf_archive_stats_t as;
    cf_ingest_stats_t is;
    cf_dispatch_stats_t ds;
    cf_pool_stats_t ps = {0};
    cf_archive_stats(d->archive, &as);
    cf_ingest_stats(d->ingest, &is);
    cf_dispatch_stats(d->dispatch, &ds);
    if (d->pool)
        cf_pool_stats(d->pool, &ps);
    pair_u(pk, "cloudfact_articles_accepted_total", is.accepted, &n);
    pair_u(pk, "cloudfact_articles_duplicate_total", is.duplicate, &n);
    pair_u(pk, "cloudfact_articles_invalid_total", is.invalid, &n);
    pair_u(pk, "cloudfact_articles_busy_total", is.busy, &n);
    pair_u(pk, "cloudfact_queue_depth", as.queued, &n);
    pair_u(pk, "cloudfact_articles_processing", as.processing, &n);
    pair_u(pk, "cloudfact_articles_done", as.done, &n);
    pair_u(pk, "cloudfact_articles_failed", as.failed, &n);
    pair_u(pk, "cloudfact_last_seq", as.last_seq, &n);
    pair_u(pk, "cloudfact_archive_commits_total", as.commits, &n);
    pair_u(pk, "cloudfact_jobs_inflight", ds.inflight, &n);
    pair_u(pk, "cloudfact_jobs_total", ds.jobs, &n);
    pair_u(pk, "cloudfact_attempts_failed_total", ds.attempts_failed, &n);
    pair_u(pk, "cloudfact_facts_published_total", cf_publish_count(d->publish), &n);
    pair_u(pk, "cloudfact_subscriptions", cf_publish_subscriptions(d->publish), &n);
    pair_u(pk, "cloudfact_workers_ready", ds.workers, &n);
    pair_u(pk, "cloudfact_workers_alive", ps.alive, &n);
    pair_u(pk, "cloudfact_workers_restarted_total", ps.restarted, &n);
    pair_u(pk, "cloudfact_worker_bad_messages_total", ds.bad_messages, &n);
    return n;
}

static int
start(daemon_t *d, cf_err_t *err)
{
    const cf_config_t *c = d->cfg;
    d->archive = cf_archive_open(c->state_dir, d->base, err);
    if (!d->archive)
        return err->rc ? err->rc : CF_EDB;
    cf_archive_stats_t as;
    cf_archive_stats(d->archive, &as);
    d->zctx = zmq_ctx_new();
    if (!d->zctx)
        return cf_err_set(err, CF_ESYS, "cannot create the ZeroMQ context");
    d->publish = cf_publish_new(d->base, d->zctx, c->publish, err);
    if (!d->publish)
        return CF_ESYS;
    cf_publish_set_last_seq(d->publish, as.last_seq);
    cf_dispatch_opts_t dopts = {(unsigned)c->max_attempts, (unsigned)c->job_deadline};
    d->dispatch = cf_dispatch_new(d->base, d->zctx, c->worker_endpoint, d->archive, d->publish,
                                  &dopts, err);
    if (!d->dispatch)
        return CF_ESYS;
    d->ingest = cf_ingest_new(d->base, d->zctx, c->ingest, d->archive, (uint64_t)c->max_queue,
                              on_accepted, d, err);
    if (!d->ingest)
        return CF_ESYS;
    cf_query_hooks_t qhooks = {pack_stats, on_accepted, d};
    d->query = cf_query_new(d->base, d->zctx, c->query, c->control, d->archive, &qhooks, err);
    if (!d->query)
        return CF_ESYS;
    if (c->workers > 0) {
        char credit[16];
        snprintf(credit, sizeof credit, "%ld", c->credit);
        char *argv[] = {c->worker_command, "--endpoint", c->worker_endpoint, "--credit", credit,
                        "--die-with-parent", c->data ? "--data" : NULL, c->data, NULL};
        d->pool = cf_pool_new(d->base, argv, (size_t)c->workers, on_worker_exit, d, err);
        if (!d->pool)
            return CF_ESYS;
        cf_dispatch_set_pool(d->dispatch, d->pool);
        int rc = cf_pool_start(d->pool, err);
        if (rc != CF_OK)
            return rc;
    }
    cf_log_notice("ready: ingest %s, publish %s, query %s, workers %s (%ld local), archive "
                  "%s/cloudfact.db (queued=%llu done=%llu failed=%llu last_seq=%llu)",
                  c->ingest, c->publish, c->query, c->worker_endpoint, c->workers, c->state_dir,
                  (unsigned long long)as.queued, (unsigned long long)as.done,
                  (unsigned long long)as.failed, (unsigned long long)as.last_seq);
    cf_dispatch_kick(d->dispatch);
    return CF_OK;
}

static void
stop(daemon_t *d)
{
    /* reverse of start; the archive closes before the modules whose callbacks it runs */
    if (d->dispatch)
        cf_dispatch_set_pool(d->dispatch, NULL);
    cf_pool_destroy(&d->pool);
    cf_archive_close(&d->archive); /* runs the last completions: replies still go out */
    cf_query_destroy(&d->query);
    cf_ingest_destroy(&d->ingest);
    cf_dispatch_destroy(&d->dispatch);
    cf_publish_destroy(&d->publish);
    if (d->zctx)
        zmq_ctx_term(d->zctx);
    for (size_t i = 0; i < 3; i++)
        if (d->sigs[i])
            event_free(d->sigs[i]);
    if (d->shutdown_tick)
        event_free(d->shutdown_tick);
    event_base_free(d->base);
    cf_config_destroy(&d->cfg);
    cf_config_src_destroy(&d->src);
}

int
main(int argc, char **argv)
{
    daemon_t d = {0};
    cf_err_t err;
    cf_log_init("cloudfactd");
    d.cfg = cf_config_load(argc, argv, &d.src, &err);
    if (!d.cfg) {
        if (err.rc == CF_OK)
            return 0; /* --help, --version */
        fprintf(stderr, "cloudfactd: configuration: %s\n", err.text);
        return 2;
    }
    if (d.cfg->check_config) {
        cf_config_print(d.cfg, stdout);
        cf_config_destroy(&d.cfg);
        cf_config_src_destroy(&d.src);
        return 0;
    }
    cf_log_level = cf_log_level_parse(d.cfg->log_level);
    signal(SIGPIPE, SIG_IGN);
    /* the archive's writer thread wakes the loop with event_active */
    if (evthread_use_pthreads() != 0) {
        fprintf(stderr, "cloudfactd: libevent: no thread support\n");
        return 1;
    }
    d.base = event_base_new();
    if (!d.base) {
        fprintf(stderr, "cloudfactd: libevent: cannot create the event base\n");
        return 1;
    }
    const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        d.sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
        event_add(d.sigs[i], NULL);
    }
    d.shutdown_tick = event_new(d.base, -1, EV_PERSIST, on_shutdown_tick, &d);
    int rc = start(&d, &err);
    if (rc != CF_OK) {
        fprintf(stderr, "cloudfactd: %s\n", err.text);
        if (d.ingest)
            cf_ingest_stop(d.ingest);
        stop(&d);
        return 1;
    }
    event_base_dispatch(d.base);
    cf_ingest_stats_t is;
    cf_dispatch_stats_t ds;
    cf_ingest_stats(d.ingest, &is);
    cf_dispatch_stats(d.dispatch, &ds);
    stop(&d);
    cf_log_notice("stopped: %llu articles accepted, %llu done, %llu facts published this run",
                  (unsigned long long)is.accepted, (unsigned long long)ds.done,
                  (unsigned long long)ds.facts);
    return 0;
}
