/* SPDX-License-Identifier: MIT
 * cloudfactd: options and config, start order (archive, sockets, workers), the
 * signal handlers and the shutdown drain, destruction in reverse order. One
 * libevent loop owns every socket; the archive's writer thread owns SQLite. */
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <zmq.h>

#include "cf_archive.h"
#include "cf_auth.h"
#include "cf_clock.h"
#include "cf_config.h"
#include "cf_dispatch.h"
#include "cf_http.h"
#include "cf_ingest.h"
#include "cf_log.h"
#include "cf_metrics.h"
#include "cf_msg.h"
#include "cf_notify.h"
#include "cf_pool.h"
#include "cf_publish.h"
#include "cf_query.h"
#include "cf_text.h"

#define RELEASE_WAIT_MS 5000 /* after the grace: how long hand-backs may take to commit */
#define STOP_WAIT_MS 3000    /* how long workers get to exit after `stop` and SIGTERM */

typedef enum phase { RUNNING, DRAINING, RELEASING, STOPPING } phase_t;

#define TICK_MS 250           /* the service tick: READY check, probe, rates, STATUS */
#define PROBE_EVERY_MS 1000   /* a no-op write through the archive's writer */
#define PROBE_STUCK_MS 10000  /* an unanswered probe this old: the writer is stuck */
#define ROLLBACK_SICK_MS 10000 /* health is 503 this long after a batch rolled back */
#define STATUS_EVERY_MS 5000  /* STATUS= refresh */
#define LOOP_LATE_MS 3000     /* a tick this late: the loop is not turning */
#define RATE_SLOTS 11         /* rates over the last 10 s, one slot per second */

/* Counters sampled once a second for the rates `cloudfact stats` shows. */
typedef struct rate_slot {
    uint64_t ms;       /* when */
    uint64_t accepted; /* ingest accepted */
    uint64_t done;     /* articles done */
    uint64_t facts;    /* facts archived */
} rate_slot_t;

/* The daemon as a service: notifications, the watchdog, health and metrics. */
typedef struct svc {
    cf_notify_t *notify;          /* sd_notify sender */
    cf_http_t *http;              /* /metrics and /healthz, or NULL (off) */
    struct event *tick;           /* every TICK_MS */
    struct event *watchdog;       /* every WATCHDOG_USEC / 2, or NULL */
    uint64_t watchdog_ms;         /* the watchdog interval, 0: none */
    uint64_t watchdog_pings;      /* WATCHDOG=1 sent */
    bool watchdog_withheld;       /* a ping was withheld (logged once per episode) */
    bool ready;                   /* READY=1 sent */
    uint64_t started_ms;          /* monotonic, at start */
    time_t started_at;            /* wall clock, at start */
    uint64_t last_tick_ms;        /* when the tick last ran: the loop turns */
    uint64_t last_status_ms;      /* when STATUS= last went out */
    cf_archive_req_t probe;       /* the writer probe (RELEASE of article 0: a no-op) */
    bool probe_out;               /* submitted, not completed */
    uint64_t probe_sent_ms;       /* when submitted */
    uint64_t probe_sent_us;       /* the same, finer, for the histogram */
    uint64_t probe_done_ms;       /* when the last one completed (0: never) */
    bool probe_ok;                /* the last one committed */
    char probe_error[CF_ERR_TEXT_MAX]; /* why the last one failed */
    uint64_t probe_failures;           /* probes that did not commit */
    cf_metrics_hist_t commit_hist; /* probe submit -> commit, seconds */
    cf_metrics_hist_t publish_hist; /* archive acceptance -> facts published, seconds */
    uint64_t facts_by_type[CF_FACT_TYPES]; /* facts published this run, by type */
    uint64_t reloads;             /* SIGHUP reloads applied */
    uint64_t reloads_refused;     /* SIGHUP with a bad file */
    bool last_reload_ok;          /* the last reload was applied (true before any) */
    rate_slot_t rates[RATE_SLOTS]; /* ring of per-second samples */
    size_t rate_next;             /* next slot to write */
    size_t rate_n;                /* slots filled */
    uint64_t last_rate_ms;        /* when the last slot was written */
} svc_t;

typedef struct daemon {
    struct event_base *base;
    void *zctx;
    cf_config_t *cfg;
    cf_config_src_t *src;
    cf_archive_t *archive;
    cf_auth_t *auth;
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
    svc_t svc;                  /* systemd, health, metrics: see "The service" */
} daemon_t;

static void
set_phase(daemon_t *d, phase_t p)
{
    d->phase = p;
    d->phase_since = cf_clock_ms();
}

/* ------------------------------------------------------------------------ */
/* The service: sd_notify, the watchdog, health, metrics, reload             */
/* ------------------------------------------------------------------------ */

static void
notify(daemon_t *d, const char *msg)
{
    cf_err_t err;
    if (cf_notify_send(d->svc.notify, msg, &err) != CF_OK)
        cf_log_warn("notify: %s", err.text);
}

static double
rate_of(const svc_t *s, size_t field)
{
    if (s->rate_n < 2)
        return 0;
    const rate_slot_t *newest = &s->rates[(s->rate_next + RATE_SLOTS - 1) % RATE_SLOTS];
    const rate_slot_t *oldest = &s->rates[(s->rate_next + RATE_SLOTS - s->rate_n) % RATE_SLOTS];
    if (newest->ms <= oldest->ms)
        return 0;
    uint64_t a = field == 0 ? oldest->accepted : field == 1 ? oldest->done : oldest->facts;
    uint64_t b = field == 0 ? newest->accepted : field == 1 ? newest->done : newest->facts;
    return (double)(b - a) * 1000.0 / (double)(newest->ms - oldest->ms);
}

/* One line for STATUS= and the logs: live counts. */
static void
status_line(daemon_t *d, char *out, size_t n)
{
    cf_archive_stats_t as;
    cf_dispatch_stats_t ds;
    cf_archive_stats(d->archive, &as);
    cf_dispatch_stats(d->dispatch, &ds);
    snprintf(out, n,
             "%s: queued %llu, in flight %zu, workers %zu ready; %llu done, %llu failed, "
             "%llu facts; %.1f articles/s",
             d->phase == RUNNING ? (d->svc.ready ? "serving" : "starting") : "stopping",
             (unsigned long long)as.queued, ds.inflight, ds.workers,
             (unsigned long long)as.done, (unsigned long long)as.failed,
             (unsigned long long)as.last_seq, rate_of(&d->svc, 1));
}

static void
send_status(daemon_t *d, const char *prefix)
{
    char line[512], msg[600];
    status_line(d, line, sizeof line);
    snprintf(msg, sizeof msg, "%sSTATUS=%s", prefix, line);
    notify(d, msg);
    d->svc.last_status_ms = cf_clock_ms();
}

/* READY=1: every socket bound (start() did that before the first tick), the
 * archive open and its first write committed, and a worker ready (unless
 * --workers 0). */
static void
check_ready(daemon_t *d)
{
    svc_t *s = &d->svc;
    if (s->ready || d->phase != RUNNING || !s->probe_done_ms || !s->probe_ok)
        return;
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(d->dispatch, &ds);
    size_t ready = ds.workers; /* a copy: gcc 12 -O3 warns (wrongly) of a dangling &ds */
    if (d->cfg->workers > 0 && ready == 0)
        return;
    s->ready = true;
    cf_log_info("service: ready (%zu worker(s) ready)", ready);
    send_status(d, "READY=1\n");
}

static void
on_probe(cf_archive_req_t *req, void *arg)
{
    daemon_t *d = arg;
    svc_t *s = &d->svc;
    uint64_t now = cf_clock_ms();
    s->probe_out = false;
    s->probe_done_ms = now;
    /* article 0 never exists: CF_EINVAL means the empty transaction committed */
    bool ok = req->rc == CF_OK || req->rc == CF_EINVAL;
    if (ok) {
        cf_metrics_hist_observe(&s->commit_hist, (double)(cf_clock_us() - s->probe_sent_us) / 1e6);
        if (!s->probe_ok)
            cf_log_notice("archive: writable again");
    } else {
        s->probe_failures++;
        snprintf(s->probe_error, sizeof s->probe_error, "%s", req->err.text);
        if (s->probe_ok)
            cf_log_warn("archive: a write probe failed (health is 503 until one succeeds): %s",
                        req->err.text);
    }
    s->probe_ok = ok;
    check_ready(d);
}

static void
send_probe(daemon_t *d)
{
    svc_t *s = &d->svc;
    if (s->probe_out || !d->archive)
        return;
    memset(&s->probe, 0, sizeof s->probe);
    s->probe.kind = CF_ARCHIVE_RELEASE;
    s->probe.cb = on_probe;
    s->probe.arg = d;
    s->probe.u.release.id = 0;
    s->probe_sent_us = cf_clock_us();
    s->probe_sent_ms = s->probe_sent_us / 1000;
    if (cf_archive_submit(d->archive, &s->probe) == CF_OK)
        s->probe_out = true;
}

/* Why the archive's writer is not healthy, or NULL. */
static const char *
writer_trouble(const daemon_t *d, char *buf, size_t n)
{
    const svc_t *s = &d->svc;
    uint64_t now = cf_clock_ms();
    if (s->probe_out && now - s->probe_sent_ms >= PROBE_STUCK_MS) {
        snprintf(buf, n, "archive writer has not answered for %llu s",
                 (unsigned long long)((now - s->probe_sent_ms) / 1000));
        return buf;
    }
    if (s->probe_done_ms == 0) {
        snprintf(buf, n, "archive not checked yet");
        return buf;
    }
    if (!s->probe_ok) {
        snprintf(buf, n, "archive not writable: %s", s->probe_error);
        return buf;
    }
    /* the probe writes nothing: on a full disk it commits while every batch that
     * grows the file rolls back */
    cf_archive_stats_t ast;
    cf_archive_stats(d->archive, &ast);
    if (ast.rollback_ms && now - ast.rollback_ms < ROLLBACK_SICK_MS) {
        snprintf(buf, n, "archive failed to store a batch %.1f s ago: %s",
                 (double)(now - ast.rollback_ms) / 1000, ast.rollback_error);
        return buf;
    }
    return NULL;
}

static bool
health(char *why, size_t n, void *arg)
{
    daemon_t *d = arg;
    char buf[256];
    cf_dispatch_stats_t ds;
    cf_dispatch_stats(d->dispatch, &ds);
    uint64_t late = cf_clock_ms() - d->svc.last_tick_ms;
    const char *trouble;
    if (d->phase != RUNNING)
        snprintf(why, n, "shutting down");
    else if (late > LOOP_LATE_MS)
        snprintf(why, n, "event loop stalled: tick %llu ms late", (unsigned long long)late);
    else if ((trouble = writer_trouble(d, buf, sizeof buf)))
        snprintf(why, n, "%s", trouble);
    else if (ds.breaker_pause || ds.breaker_probing) /* before: they are respawning */
        snprintf(why, n, "workers are dying on every article: jobs %s",
                 ds.breaker_pause ? "paused" : "go out one at a time");
    else if (ds.workers == 0)
        snprintf(why, n, "no worker ready (%ld local configured)", d->cfg->workers);
    else
        return true;
    return false;
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_t *d = arg;
    svc_t *s = &d->svc;
    uint64_t now = cf_clock_ms();
    s->last_tick_ms = now;
    if (d->phase != RUNNING)
        return;
    if (now - s->probe_sent_ms >= PROBE_EVERY_MS)
        send_probe(d);
    if (now - s->last_rate_ms >= 1000) {
        cf_ingest_stats_t is;
        cf_dispatch_stats_t ds;
        cf_ingest_stats(d->ingest, &is);
        cf_dispatch_stats(d->dispatch, &ds);
        s->rates[s->rate_next] = (rate_slot_t){now, is.accepted, ds.done, ds.facts};
        s->rate_next = (s->rate_next + 1) % RATE_SLOTS;
        if (s->rate_n < RATE_SLOTS)
            s->rate_n++;
        s->last_rate_ms = now;
    }
    if (!s->ready)
        check_ready(d);
    else if (now - s->last_status_ms >= STATUS_EVERY_MS)
        send_status(d, "");
}

/* WATCHDOG=1 from the loop itself, and only while the writer makes progress: a
 * stuck loop or a stuck writer gets the service restarted (WatchdogSignal). */
static void
on_watchdog(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    daemon_t *d = arg;
    svc_t *s = &d->svc;
    if (!s->ready)
        return; /* systemd arms the watchdog once start-up is complete */
    uint64_t now = cf_clock_ms();
    bool stuck = s->probe_out && now - s->probe_sent_ms >= s->watchdog_ms;
    if (stuck) {
        if (!s->watchdog_withheld)
            cf_log_error("watchdog: archive writer silent for %llu ms; withholding WATCHDOG=1",
                         (unsigned long long)(now - s->probe_sent_ms));
        s->watchdog_withheld = true;
        return;
    }
    if (s->watchdog_withheld)
        cf_log_notice("watchdog: archive writer answers again; pinging");
    s->watchdog_withheld = false;
    notify(d, "WATCHDOG=1");
    s->watchdog_pings++;
}

static void
archive_size(const daemon_t *d, uint64_t *bytes)
{
    char path[4200];
    struct stat st;
    *bytes = 0;
    const char *suffix[] = {"", "-wal"};
    for (size_t i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/cloudfact.db%s", d->cfg->state_dir, suffix[i]);
        if (stat(path, &st) == 0)
            *bytes += (uint64_t)st.st_size;
    }
}

/* Every metric, in the Prometheus text format; `stats` carries the same samples. */
static void
collect(cf_metrics_t *m, void *arg)
{
    daemon_t *d = arg;
    svc_t *s = &d->svc;
    cf_archive_stats_t as;
    cf_ingest_stats_t is;
    cf_dispatch_stats_t ds;
    cf_pool_stats_t ps = {0};
    cf_http_stats_t hs = {0};
    cf_archive_stats(d->archive, &as);
    cf_ingest_stats(d->ingest, &is);
    cf_dispatch_stats(d->dispatch, &ds);
    if (d->pool)
        cf_pool_stats(d->pool, &ps);
    if (s->http)
        cf_http_stats(s->http, &hs);
    char why[256];

    cf_metrics_family(m, "cloudfact_build_info", CF_METRICS_GAUGE, "The running version.");
    cf_metrics_sample(m, "version", CF_VERSION, 1);
    cf_metrics_gauge(m, "cloudfact_start_time_seconds", "Start time, seconds since the epoch.",
                     (double)s->started_at);
    cf_metrics_gauge(m, "cloudfact_uptime_seconds", "Seconds since start.",
                     (double)(cf_clock_ms() - s->started_ms) / 1000.0);
    cf_metrics_gauge(m, "cloudfact_ready", "1 once READY=1 was sent (sockets, archive, worker).",
                     s->ready);
    cf_metrics_gauge(m, "cloudfact_healthy", "1 when /healthz answers 200.",
                     health(why, sizeof why, d));

    cf_metrics_family(m, "cloudfact_articles_received_total", CF_METRICS_COUNTER,
                      "Ingest requests answered, by result.");
    cf_metrics_sample(m, "result", "accepted", (double)is.accepted);
    cf_metrics_sample(m, "result", "duplicate", (double)is.duplicate);
    cf_metrics_sample(m, "result", "invalid", (double)is.invalid);
    cf_metrics_sample(m, "result", "busy", (double)is.busy);
    cf_metrics_sample(m, "result", "denied", (double)is.denied);
    cf_metrics_gauge(m, "cloudfact_ingest_pending", "Ingest requests waiting for their commit.",
                     (double)is.pending);
    cf_metrics_gauge(m, "cloudfact_queue_depth", "Articles queued for extraction.",
                     (double)as.queued);
    cf_metrics_family(m, "cloudfact_articles", CF_METRICS_GAUGE,
                      "Articles in the archive by state.");
    cf_metrics_sample(m, "state", "queued", (double)as.queued);
    cf_metrics_sample(m, "state", "processing", (double)as.processing);
    cf_metrics_sample(m, "state", "done", (double)as.done);
    cf_metrics_sample(m, "state", "failed", (double)as.failed);

    cf_metrics_gauge(m, "cloudfact_jobs_inflight", "Jobs out at workers.", (double)ds.inflight);
    cf_metrics_counter(m, "cloudfact_jobs_total", "Jobs sent to workers.", ds.jobs);
    cf_metrics_counter(m, "cloudfact_articles_done_total", "Articles archived done this run.",
                       ds.done);
    cf_metrics_counter(m, "cloudfact_attempts_failed_total",
                       "Failed attempts: worker crash, deadline, silence, bad result, error.",
                       ds.attempts_failed);
    cf_metrics_counter(m, "cloudfact_articles_quarantined_total",
                       "Articles quarantined (failed) after max_attempts this run.",
                       ds.quarantined);
    cf_metrics_counter(m, "cloudfact_jobs_isolated_total",
                       "Jobs sent back uncharged to run alone: their worker was lost with "
                       "several jobs out.",
                       ds.isolated);
    cf_metrics_counter(m, "cloudfact_jobs_overdue_total",
                       "Jobs failed for the job deadline with no answer while their worker "
                       "answered others (a lost or held-back result).",
                       ds.overdue);
    cf_metrics_counter(m, "cloudfact_workers_broken_total",
                       "Times workers died on 8 different articles with no result between, "
                       "and jobs were paused (then sent one at a time).",
                       ds.breaker_trips);
    cf_metrics_gauge(m, "cloudfact_jobs_paused_seconds",
                     "The pause in force because workers die on every article, 0 when none.",
                     ds.breaker_pause);
    cf_metrics_gauge(m, "cloudfact_suspect_articles",
                     "Articles that run alone on a worker until done or quarantined.",
                     (double)ds.suspects);
    cf_metrics_counter(m, "cloudfact_worker_bad_messages_total",
                       "Undecodable or out-of-place messages from workers.", ds.bad_messages);
    cf_metrics_counter(m, "cloudfact_facts_archived_total", "Facts archived this run.", ds.facts);
    cf_metrics_family(m, "cloudfact_facts_total", CF_METRICS_COUNTER,
                      "Facts archived and published this run, by type.");
    for (int t = 0; t < CF_FACT_TYPES; t++)
        cf_metrics_sample(m, "type", cf_fact_type_name(t), (double)s->facts_by_type[t]);
    cf_metrics_histogram(m, "cloudfact_publish_latency_seconds",
                         "From the commit that accepted an article to the publication of its "
                         "facts (queue wait, extraction, archiving).",
                         &s->publish_hist);
    cf_metrics_gauge(m, "cloudfact_jobs_prefetched",
                     "Claimed articles waiting for worker credit.", (double)ds.prefetched);
    cf_zsock_stats_t ps_sock;
    cf_publish_sock_stats(d->publish, &ps_sock);
    const struct {
        const char *name;
        const cf_zsock_stats_t *st;
    } socks[] = {{"ingest", &is.sock}, {"workers", &ds.sock}, {"publish", &ps_sock}};
    cf_metrics_family(m, "cloudfact_zmq_send_eagain_total", CF_METRICS_COUNTER,
                      "Sends that met a full pipe and waited in the out-queue, by socket.");
    for (size_t k = 0; k < 3; k++)
        cf_metrics_sample(m, "socket", socks[k].name, (double)socks[k].st->eagain);
    cf_metrics_family(m, "cloudfact_zmq_send_dropped_total", CF_METRICS_COUNTER,
                      "Messages dropped: out-queue full or peer gone, by socket.");
    for (size_t k = 0; k < 3; k++)
        cf_metrics_sample(m, "socket", socks[k].name, (double)socks[k].st->dropped);
    cf_metrics_counter(m, "cloudfact_publish_overflows_total",
                       "Times a subscriber's queue reached its 10,000-message high-water "
                       "mark (ZeroMQ's count, which lags its reads by up to half of that): "
                       "it lost the next message and every one after it until it had read "
                       "half its queue, up to ~5,000 (the others lost nothing because of "
                       "it). It fills the gap by replay.",
                       ps_sock.overflows);
    cf_metrics_family(m, "cloudfact_zmq_out_queue", CF_METRICS_GAUGE,
                      "Messages waiting in the out-queue now, by socket.");
    for (size_t k = 0; k < 3; k++)
        cf_metrics_sample(m, "socket", socks[k].name, (double)socks[k].st->queued);
    cf_metrics_counter(m, "cloudfact_facts_published_total", "Facts handed to the PUB socket.",
                       cf_publish_count(d->publish));
    cf_metrics_gauge(m, "cloudfact_last_seq", "Highest fact seq archived.", (double)as.last_seq);
    cf_metrics_gauge(m, "cloudfact_subscriptions", "Live topic subscriptions (XPUB).",
                     (double)cf_publish_subscriptions(d->publish));

    cf_metrics_gauge(m, "cloudfact_workers_configured", "Local workers configured.",
                     (double)d->cfg->workers);
    cf_metrics_gauge(m, "cloudfact_workers_ready", "Workers that said ready and are alive.",
                     (double)ds.workers);
    cf_metrics_gauge(m, "cloudfact_workers_alive", "Local worker processes running.",
                     (double)ps.alive);
    cf_metrics_counter(m, "cloudfact_workers_spawned_total", "Local worker processes started.",
                       ps.spawned);
    cf_metrics_gauge(m, "cloudfact_workers_config_error",
                     "Local worker slots waiting because their worker exited 2 (its data files "
                     "or keys): retried after 30 s (doubling to 10 min) and on a reload.",
                     (double)ps.config_errors);
    cf_metrics_counter(m, "cloudfact_workers_restarted_total",
                       "Local workers started to replace one that ended.", ps.restarted);
    cf_metrics_counter(m, "cloudfact_workers_crashed_total",
                       "Local workers that ended by a signal or a non-zero status.", ps.crashed);

    uint64_t bytes;
    archive_size(d, &bytes);
    cf_metrics_gauge(m, "cloudfact_archive_size_bytes", "Size of cloudfact.db plus its WAL.",
                     (double)bytes);
    cf_metrics_counter(m, "cloudfact_archive_commits_total",
                       "Archive transactions committed (write probes included).", as.commits);
    cf_metrics_counter(m, "cloudfact_archive_requests_total",
                       "Requests carried by committed transactions.", as.batched);
    cf_metrics_counter(m, "cloudfact_archive_rollbacks_total",
                       "Batches rolled back (storage trouble); their requests failed.",
                       as.rollbacks);
    cf_metrics_counter(m, "cloudfact_archive_checkpoints_total",
                       "WAL checkpoints (copies of the WAL into cloudfact.db) run.",
                       as.checkpoints);
    cf_metrics_counter(m, "cloudfact_archive_checkpoint_failures_total",
                       "WAL checkpoints that failed (storage trouble): the WAL grows meanwhile.",
                       as.checkpoint_failures);
    cf_metrics_gauge(m, "cloudfact_search_backlog",
                     "Done articles not yet indexed for text search (a text query does not "
                     "find them yet; indexed when the writer is idle or lightly loaded).",
                     (double)as.search_backlog);
    cf_metrics_counter(m, "cloudfact_archive_probe_failures_total",
                       "Write probes that did not commit.", s->probe_failures);
    cf_metrics_histogram(m, "cloudfact_archive_commit_seconds",
                         "Submit to commit of a no-op write sent every second: queue wait, "
                         "group commit and COMMIT as any request sees them.",
                         &s->commit_hist);

    cf_metrics_family(m, "cloudfact_reloads_total", CF_METRICS_COUNTER,
                      "SIGHUP reloads of the configuration file, by result.");
    cf_metrics_sample(m, "result", "applied", (double)s->reloads);
    cf_metrics_sample(m, "result", "refused", (double)s->reloads_refused);
    cf_metrics_gauge(m, "cloudfact_config_last_reload_successful",
                     "0 when the last reload was refused (bad file or allowlist).",
                     s->last_reload_ok);
    cf_auth_metrics(d->auth, m);
    cf_query_metrics(d->query, m);
    cf_metrics_gauge(m, "cloudfact_log_level", "Log level in force (syslog priority, 3-7).",
                     cf_log_level);
    cf_metrics_gauge(m, "cloudfact_max_queue", "max_queue in force.", (double)d->cfg->max_queue);
    cf_metrics_gauge(m, "cloudfact_max_attempts", "max_attempts in force.",
                     (double)d->cfg->max_attempts);
    cf_metrics_gauge(m, "cloudfact_job_deadline_seconds", "job_deadline in force.",
                     (double)d->cfg->job_deadline);
    cf_metrics_counter(m, "cloudfact_watchdog_pings_total", "WATCHDOG=1 notifications sent.",
                       s->watchdog_pings);
    cf_metrics_counter(m, "cloudfact_http_requests_total", "HTTP requests answered.",
                       hs.requests);
    cf_metrics_counter(m, "cloudfact_http_rejected_total",
                       "HTTP requests answered 404 (no such path) or 405 (not GET or HEAD).",
                       hs.rejected);
}

/* SIGHUP: RELOADING=1, re-read the file (the command line stays on top), apply what
 * can change while running, say what changed, workers reload their data files,
 * READY=1. A bad file is refused whole and the running configuration stays. */
static void
on_changed(const char *key, const char *was, const char *now, void *arg)
{
    daemon_t *d = arg;
    if (strcmp(key, "log_level") == 0) {
        cf_log_level = cf_log_level_parse(now);
        free(d->cfg->log_level);
        d->cfg->log_level = cf_strdup(now);
        cf_log_notice("reload: log_level %s -> %s", was, now);
        return;
    }
    long v = strtol(now, NULL, 10); /* validated by cf_config */
    if (strcmp(key, "max_queue") == 0) {
        d->cfg->max_queue = v;
        cf_ingest_set_max_queue(d->ingest, (uint64_t)v);
    } else if (strcmp(key, "max_inflight") == 0) {
        d->cfg->max_inflight = v;
        cf_ingest_set_max_inflight(d->ingest, (size_t)v);
    } else if (strcmp(key, "max_attempts") == 0 || strcmp(key, "job_deadline") == 0) {
        *(strcmp(key, "max_attempts") == 0 ? &d->cfg->max_attempts : &d->cfg->job_deadline) = v;
        cf_dispatch_opts_t o = {(unsigned)d->cfg->max_attempts, (unsigned)d->cfg->job_deadline};
        cf_dispatch_set_opts(d->dispatch, &o);
    } else {
        cf_log_notice("reload: %s %s -> %s: not applied until the next restart", key, was, now);
        return;
    }
    cf_log_notice("reload: %s %s -> %s", key, was, now);
}

static void
reload(daemon_t *d)
{
    svc_t *s = &d->svc;
    cf_err_t err;
    if (d->phase != RUNNING) {
        /* after STOPPING=1 a READY=1 would tell systemd the service runs again */
        cf_log_notice("reload: ignored, the daemon is stopping");
        return;
    }
    notify(d, "RELOADING=1");
    cf_config_t *fresh = cf_config_reload(d->src, &err);
    bool config_ok = fresh != NULL;
    if (!fresh) {
        cf_log_error("reload: refused, keeping the running configuration: %s", err.text);
    } else {
        size_t changed = cf_config_diff(d->cfg, fresh, on_changed, d);
        cf_config_destroy(&fresh);
        size_t told = cf_dispatch_reload(d->dispatch);
        if (d->pool)
            cf_pool_retry(d->pool); /* workers that failed on their files try them again */
        cf_log_notice("reload: done (%zu setting(s) changed; %zu worker(s) reloading their data "
                      "files)",
                      changed, told);
    }
    /* the allowlists whatever became of the file: a typo in it must not keep a
     * revoked key in */
    unsigned lost = 0;
    bool keys_ok = cf_auth_reload(d->auth, &lost, &err) == CF_OK;
    if (!keys_ok)
        cf_log_error("reload: allowlists refused, nothing added (keys whose file was removed or "
                     "changed are revoked all the same): %s",
                     err.text);
    /* ingest, query and workers check each message's key; XPUB cannot, so a revoked
     * subscriber is cut off by disconnecting every subscriber */
    if (lost & (1u << CF_ROLE_SUBSCRIBERS) && cf_publish_cut_subscribers(d->publish, &err) != CF_OK)
        cf_log_error("reload: %s", err.text);
    if (config_ok && keys_ok)
        s->reloads++;
    else
        s->reloads_refused++;
    s->last_reload_ok = config_ok && keys_ok;
    if (s->ready)
        send_status(d, "READY=1\n");
}

static int
svc_start(daemon_t *d, cf_err_t *err)
{
    svc_t *s = &d->svc;
    const double commit_le[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                0.1,    0.25,  0.5,    1,     2.5,  5,     10};
    cf_metrics_hist_init(&s->commit_hist, commit_le, sizeof commit_le / sizeof *commit_le);
    const double publish_le[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                 0.25,  0.5,    1,     2.5,  5,     10,   30};
    cf_metrics_hist_init(&s->publish_hist, publish_le, sizeof publish_le / sizeof *publish_le);
    s->last_reload_ok = true;
    s->probe_ok = true;
    s->started_ms = s->last_tick_ms = cf_clock_ms();
    s->started_at = time(NULL);
    if (strcmp(d->cfg->http, "off") != 0) {
        /* an operator who finds no metrics should learn why at start, not later */
        s->http = cf_http_new(d->base, d->cfg->http, collect, health, d, err);
        if (!s->http)
            return err->rc;
    }
    s->tick = event_new(d->base, -1, EV_PERSIST, on_tick, d);
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(s->tick, &tv);
    uint64_t usec = cf_notify_watchdog_usec(s->notify);
    if (usec) {
        s->watchdog_ms = usec / 1000 ? usec / 1000 : 1;
        s->watchdog = event_new(d->base, -1, EV_PERSIST, on_watchdog, d);
        struct timeval wtv = {(time_t)(usec / 2 / 1000000), (suseconds_t)(usec / 2 % 1000000)};
        event_add(s->watchdog, &wtv);
        cf_log_info("service: watchdog every %llu ms (WATCHDOG_USEC=%llu)",
                    (unsigned long long)(usec / 2000), (unsigned long long)usec);
    }
    send_probe(d);
    on_tick(-1, 0, d); /* READY at once with --workers 0 */
    return CF_OK;
}

static void
svc_stop(daemon_t *d)
{
    svc_t *s = &d->svc;
    cf_http_destroy(&s->http);
    if (s->tick)
        event_free(s->tick);
    if (s->watchdog)
        event_free(s->watchdog);
    s->tick = s->watchdog = NULL;
}

/* The keys pack_stats wrote by name, so the metric samples added after them never
 * repeat a key (a map with a key twice is malformed). */
static const char *stats_keys[128];

/* After the named keys: every sample of /metrics (histogram buckets aside), keyed
 * as in the exposition (`name{label="value"}`), integers as integers. */
static void
pack_metric_samples(msgpack_packer *pk, void *arg, size_t *n)
{
    size_t named = *n < sizeof stats_keys / sizeof *stats_keys ? *n : 0;
    cf_metrics_t *m = cf_metrics_new();
    collect(m, arg);
    const char *key;
    double v;
    for (size_t i = 0; cf_metrics_sample_at(m, i, &key, &v); i++) {
        if (strstr(key, "_bucket{"))
            continue;
        bool dup = false;
        for (size_t k = 0; k < named && !dup; k++)
            dup = strcmp(stats_keys[k], key) == 0;
        if (dup)
            continue;
        cf_msg_pack_str(pk, key);
        if (v >= 0 && v < 18446744073709551616.0 && (double)(uint64_t)v == v)
            msgpack_pack_uint64(pk, (uint64_t)v);
        else
            msgpack_pack_double(pk, v);
        (*n)++;
    }
    cf_metrics_destroy(&m);
    /* rates for people (Prometheus computes its own with rate()) */
    const char *rk[] = {"cloudfact_accepted_per_second", "cloudfact_done_per_second",
                        "cloudfact_facts_per_second"};
    daemon_t *d = arg;
    for (size_t f = 0; f < 3; f++) {
        cf_msg_pack_str(pk, rk[f]);
        msgpack_pack_double(pk, rate_of(&d->svc, f));
        (*n)++;
    }
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
    uint64_t waited = cf_clock_ms() - d->phase_since;
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
    cf_query_stop(d->query);
    cf_dispatch_drain(d->dispatch);
    cf_pool_drain(d->pool);
    set_phase(d, DRAINING);
    /* the whole stop may take the grace, the hand-backs, the workers' exit and the
     * archive's close (its search-index flush is bounded at 5 s): tell systemd, so that
     * a grace above what TimeoutStopSec leaves is not cut by SIGKILL (STACK.md 7) */
    char stopping[96];
    uint64_t budget_ms = (uint64_t)d->cfg->grace * 1000 + RELEASE_WAIT_MS + STOP_WAIT_MS + 10000;
    snprintf(stopping, sizeof stopping, "STOPPING=1\nEXTEND_TIMEOUT_USEC=%" PRIu64 "\n",
             budget_ms * 1000);
    send_status(d, stopping);
    struct timeval tv = {0, 50 * 1000};
    event_add(d->shutdown_tick, &tv);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    daemon_t *d = arg;
    if (sig == SIGHUP) {
        reload(d);
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
on_submitted(void *arg)
{
    daemon_t *d = arg;
    cf_dispatch_kick_soon(d->dispatch);
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
    if (*n < sizeof stats_keys / sizeof *stats_keys)
        stats_keys[*n] = k;
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
    pair_u(pk, "cloudfact_archive_checkpoints_total", as.checkpoints, &n);
    pair_u(pk, "cloudfact_archive_checkpoint_failures_total", as.checkpoint_failures, &n);
    pair_u(pk, "cloudfact_search_backlog", as.search_backlog, &n);
    pair_u(pk, "cloudfact_jobs_inflight", ds.inflight, &n);
    pair_u(pk, "cloudfact_jobs_total", ds.jobs, &n);
    pair_u(pk, "cloudfact_attempts_failed_total", ds.attempts_failed, &n);
    pair_u(pk, "cloudfact_facts_published_total", cf_publish_count(d->publish), &n);
    pair_u(pk, "cloudfact_subscriptions", cf_publish_subscriptions(d->publish), &n);
    pair_u(pk, "cloudfact_workers_ready", ds.workers, &n);
    pair_u(pk, "cloudfact_workers_alive", ps.alive, &n);
    pair_u(pk, "cloudfact_workers_restarted_total", ps.restarted, &n);
    pair_u(pk, "cloudfact_worker_bad_messages_total", ds.bad_messages, &n);
    pack_metric_samples(pk, d, &n);
    return n;
}

/* An article's facts went out: count them by type, and time acceptance -> publish. */
static void
on_published(const cf_article_t *a, const cf_facts_t *facts, void *arg)
{
    daemon_t *d = arg;
    for (size_t i = 0; i < facts->n; i++) {
        int t = cf_fact_type_index(facts->v[i].type);
        if (t >= 0)
            d->svc.facts_by_type[t]++;
    }
    if (a->received_at > 0) {
        double lat = cf_clock_s(CLOCK_REALTIME) - a->received_at;
        cf_metrics_hist_observe(&d->svc.publish_hist, lat > 0 ? lat : 0);
    }
}

static const char *
policy_name(int policy)
{
    switch (policy & ~SCHED_RESET_ON_FORK) {
    case SCHED_OTHER:
        return "SCHED_OTHER";
    case SCHED_BATCH:
        return "SCHED_BATCH";
    case SCHED_IDLE:
        return "SCHED_IDLE";
    case SCHED_FIFO:
        return "SCHED_FIFO";
    case SCHED_RR:
        return "SCHED_RR";
    default:
        return "an unknown policy";
    }
}

/* sched = batch (the default): in a daemon started under the default policy
 * (SCHED_OTHER), the local workers run under SCHED_BATCH. They are CPU-bound batch
 * work: a worker that wakes for a job does not preempt a running thread (it waits
 * for the tick or a free CPU), while the daemon's threads, which carry every message,
 * preempt the workers as they would any SCHED_OTHER thread; extraction is cut into
 * fewer slices (bench/README.md, "Eighteenth pass"). A daemon started under another
 * policy (chrt, the unit's CPUSchedulingPolicy=) was configured by its operator: its
 * workers inherit that, as they do with sched = inherit. */
static bool
workers_batch(const cf_config_t *c)
{
    return strcmp(c->sched, "batch") == 0 &&
           (sched_getscheduler(0) & ~SCHED_RESET_ON_FORK) == SCHED_OTHER;
}

/* A long archive open (a migration, a big archive's recovery, a lock another
 * connection holds) tells systemd it is working, each second, so that
 * TimeoutStartSec= does not kill it: each message asks for OPEN_EXTEND_USEC more
 * from now (systemd never shortens the timeout). Said in the log once per step. */
#define OPEN_EXTEND_USEC 10000000ull

typedef struct open_watch {
    daemon_t *d;
    uint64_t since_ms;
    char said[160]; /* the step last logged */
} open_watch_t;

static void
on_open_progress(void *ctx, const char *doing)
{
    open_watch_t *w = ctx;
    double s = (double)(cf_clock_ms() - w->since_ms) / 1000.0;
    char msg[320];
    snprintf(msg, sizeof msg, "EXTEND_TIMEOUT_USEC=%llu\nSTATUS=opening the archive: %s (%.0f s)",
             OPEN_EXTEND_USEC, doing, s);
    notify(w->d, msg);
    if (strncmp(w->said, doing, sizeof w->said - 1) != 0) {
        snprintf(w->said, sizeof w->said, "%s", doing);
        cf_log_notice("archive: still opening after %.0f s: %s", s, doing);
    }
}

static cf_auth_opts_t
auth_opts(const cf_config_t *c)
{
    return (cf_auth_opts_t){
        c->curve_key,
        {c->allow_scrapers, c->allow_subscribers, c->allow_workers, c->allow_operators}};
}

static int
start(daemon_t *d, cf_err_t *err)
{
    const cf_config_t *c = d->cfg;
    d->zctx = zmq_ctx_new();
    if (!d->zctx)
        return cf_err_set(err, CF_ESYS, "cannot create the ZeroMQ context");
    /* the ZAP handler binds before any server socket (STACK.md 3); and a bad key or
     * allowlist is refused before the archive is created or opened */
    cf_auth_opts_t aopts = auth_opts(c);
    d->auth = cf_auth_new(d->base, d->zctx, &aopts, err);
    if (!d->auth)
        return err->rc;
    open_watch_t watch = {d, cf_clock_ms(), ""};
    cf_archive_progress_t progress = {on_open_progress, &watch, 0};
    d->archive = cf_archive_open(c->state_dir, d->base, &progress, err);
    if (!d->archive)
        return err->rc ? err->rc : CF_EDB;
    cf_archive_stats_t as;
    cf_archive_stats(d->archive, &as);
    d->publish = cf_publish_new(d->base, d->zctx, c->publish, d->auth, err);
    if (!d->publish)
        return err->rc;
    cf_publish_set_last_seq(d->publish, as.last_seq);
    cf_dispatch_opts_t dopts = {(unsigned)c->max_attempts,
                                (unsigned)c->job_deadline,
                                on_published,
                                d,
                                d->auth,
                                c->worker_local,
                                c->max_message_size};
    d->dispatch = cf_dispatch_new(d->base, d->zctx, c->worker_endpoint, d->archive, d->publish,
                                  &dopts, err);
    if (!d->dispatch)
        return err->rc;
    cf_ingest_opts_t iopts = {(uint64_t)c->max_queue,  (size_t)c->max_inflight,
                              (size_t)c->max_frames,   c->max_message_size,
                              d->auth,                 on_accepted,
                              d,                       on_submitted};
    d->ingest = cf_ingest_new(d->base, d->zctx, c->ingest, d->archive, &iopts, err);
    if (!d->ingest)
        return err->rc;
    cf_query_opts_t qopts = {pack_stats, on_accepted, d, d->auth, (size_t)c->max_frames};
    d->query = cf_query_new(d->base, d->zctx, c->query, c->control, d->archive, &qopts, err);
    if (!d->query)
        return err->rc;
    int src = svc_start(d, err); /* /metrics and /healthz bound before workers start */
    if (src != CF_OK)
        return src;
    if (c->workers > 0) {
        char credit[16], parent[48];
        snprintf(credit, sizeof credit, "%ld", c->credit);
        /* our pid, so that a worker can tell us from a reaper even when we are pid 1 */
        snprintf(parent, sizeof parent, "--die-with-parent=%ld", (long)getpid());
        char *argv[] = {c->worker_command,
                        "--endpoint",
                        c->worker_local,
                        "--credit",
                        credit,
                        parent,
                        c->data ? "--data" : NULL,
                        c->data,
                        NULL};
        d->pool = cf_pool_new(d->base, argv, (size_t)c->workers, on_worker_exit, d, err);
        if (!d->pool)
            return CF_ESYS;
        cf_dispatch_set_pool(d->dispatch, d->pool);
        cf_pool_set_batch(d->pool, workers_batch(c));
        int rc = cf_pool_start(d->pool, err);
        if (rc != CF_OK)
            return rc;
        const char *own = policy_name(sched_getscheduler(0));
        cf_log_info("sched: the daemon runs under %s, its local workers under %s", own,
                    cf_pool_batch(d->pool) ? "SCHED_BATCH" : own);
    }
    cf_log_notice("listening: ingest %s, publish %s, query %s, http %s, workers %s (%ld local), "
                  "CURVE %s%s, archive "
                  "%s/cloudfact.db (queued=%llu done=%llu failed=%llu last_seq=%llu)",
                  c->ingest, c->publish, c->query, c->http, c->worker_endpoint, c->workers,
                  cf_auth_curve(d->auth) ? "on, server key " : "off",
                  cf_auth_public_key(d->auth), c->state_dir,
                  (unsigned long long)as.queued, (unsigned long long)as.done,
                  (unsigned long long)as.failed, (unsigned long long)as.last_seq);
    cf_dispatch_kick(d->dispatch);
    return CF_OK;
}

static void
stop(daemon_t *d)
{
    /* reverse of start; the archive closes before the modules whose callbacks it runs */
    svc_stop(d);
    if (d->dispatch)
        cf_dispatch_set_pool(d->dispatch, NULL);
    cf_pool_destroy(&d->pool);
    /* the writer must be the last connection to go, or the WAL and -shm files stay */
    cf_ingest_close_reader(d->ingest);
    cf_query_close_reader(d->query);
    cf_archive_close(&d->archive); /* runs the last completions: replies still go out */
    cf_query_destroy(&d->query);
    cf_ingest_destroy(&d->ingest);
    cf_dispatch_destroy(&d->dispatch);
    cf_publish_destroy(&d->publish);
    cf_auth_destroy(&d->auth); /* after the sockets it watches, before the context */
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
    cf_notify_destroy(&d->svc.notify);
}

/* libzmq (4.3.4) names a ROUTER's peers that bring no routing id from a counter
 * that starts at rand(), and aborts when a peer has already taken the name it
 * gives (socket_base.cpp, "ok"). Nothing seeds rand(): every run would hand out
 * the same names, which anyone able to connect to ingest could take first to kill
 * the daemon (it_hostile). Seeded from the kernel, the names cannot be guessed. */
static void
seed_routing_ids(void)
{
    unsigned seed = 0;
    if (getrandom(&seed, sizeof seed, GRND_NONBLOCK) != (ssize_t)sizeof seed)
        seed = (unsigned)(cf_clock_us() ^ ((uint64_t)getpid() << 16) ^ (uint64_t)time(NULL));
    srand(seed);
}

int
main(int argc, char **argv)
{
    daemon_t d = {0};
    cf_err_t err;
    cf_log_init("cloudfactd");
    seed_routing_ids(); /* before any ZeroMQ socket */
    d.cfg = cf_config_load(argc, argv, &d.src, &err);
    if (!d.cfg) {
        if (err.rc == CF_OK)
            return 0; /* --help, --version */
        cf_log_fail("configuration: %s", err.text);
        return 2;
    }
    if (d.cfg->check_config) {
        /* the key and the allowlists as a start reads them: the check an operator runs
         * with the unit's options must refuse what the start would */
        cf_auth_opts_t aopts = auth_opts(d.cfg);
        int rc = cf_auth_check_config(&aopts, &err);
        if (rc == CF_OK)
            cf_config_print(d.cfg, stdout);
        else
            cf_log_fail("configuration: %s", err.text);
        cf_config_destroy(&d.cfg);
        cf_config_src_destroy(&d.src);
        return rc == CF_OK ? 0 : 2;
    }
    cf_log_level = cf_log_level_parse(d.cfg->log_level);
    signal(SIGPIPE, SIG_IGN);
    /* a file-size limit must surface as a write error the archive reports, not kill us */
    signal(SIGXFSZ, SIG_IGN);
    /* the archive's writer thread wakes the loop with event_active */
    if (evthread_use_pthreads() != 0) {
        cf_log_fail("libevent: no thread support");
        return 1;
    }
    d.base = event_base_new();
    if (!d.base) {
        cf_log_fail("libevent: cannot create the event base");
        return 1;
    }
    const int signums[3] = {SIGTERM, SIGINT, SIGHUP};
    for (size_t i = 0; i < 3; i++) {
        d.sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
        event_add(d.sigs[i], NULL);
    }
    d.shutdown_tick = event_new(d.base, -1, EV_PERSIST, on_shutdown_tick, &d);
    /* before any worker is spawned: cf_notify_new unsets NOTIFY_SOCKET for them */
    d.svc.notify = cf_notify_new(&err);
    if (!d.svc.notify)
        cf_log_warn("notify: %s; not notifying systemd", err.text);
    int rc = start(&d, &err);
    if (rc != CF_OK) {
        cf_log_fail("%s", err.text);
        /* a bad key file or allowlist is configuration: restarting cannot help */
        bool config = rc == CF_EINVAL || rc == CF_EDENIED;
        char msg[CF_ERR_TEXT_MAX + 16];
        snprintf(msg, sizeof msg, "STATUS=failed: %s", err.text);
        notify(&d, msg);
        if (d.ingest)
            cf_ingest_stop(d.ingest);
        stop(&d);
        return config ? 2 : 1;
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
