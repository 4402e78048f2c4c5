/* SPDX-License-Identifier: MIT
 * cloudfact-worker: one extraction process. Connects a DEALER to the daemon's
 * worker endpoint, announces its credit with `ready`, turns each `job` into a
 * `result` (or an `error`), heart-beats every second and reconnects with back-off
 * when the daemon falls silent (zguide Paranoid Pirate worker). */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#ifdef CF_WORKER_TIMING
#include <sys/resource.h>
#endif
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_clock.h"
#include "cf_extract.h"
#include "cf_key.h"
#include "cf_log.h"
#include "cf_msg.h"

#define HEARTBEAT_MS 1000
#define LIVENESS 3            /* silent intervals before reconnecting */
#define RECONNECT_MAX_MS 32000
#define DRAIN_EXTRA 4         /* messages beyond the credit handled per poll (control ops) */

#ifdef CF_WORKER_TIMING
/* Bench build only (cloudfact-worker-timed, -DCF_BENCH=ON): where a worker's CPU goes
 * inside the pipeline, which no isolated benchmark shows. The daemon's threads, the
 * other worker and the kernel share its CPUs and its caches, and the extractor runs
 * slower there than alone (bench/README.md, "Twenty-first pass"). Thread CPU time
 * of cf_extract_article per job, and apart the jobs taken right after the worker
 * slept in zmq_poll (its caches the coldest). At exit, one JSON line is appended to
 * $CF_WORKER_TIMING_FILE; bench/cpu_per_article.py --worker-timing reads it. Other
 * builds get the empty hooks after this block. */
static struct {
    unsigned long jobs, woke_jobs; /* all jobs; those right after a sleep */
    double bytes, woke_bytes;      /* their body bytes */
    double extract_s, woke_extract_s;
    double first_job, last_job; /* CLOCK_MONOTONIC: the span of the worker's jobs */
    double sleep_s;             /* slept since the last job (> 0: the next one woke it) */
    double slept_s;             /* the sleeps that a job ended (within the span) */
    long poll_sleeps;           /* the thread's voluntary switches before a poll */
    double poll_t0;             /* when that poll began */
} timing;

static long
timing_sleeps(void)
{
    struct rusage ru;
    return getrusage(RUSAGE_THREAD, &ru) == 0 ? ru.ru_nvcsw : 0;
}

static void
timing_poll_begin(void)
{
    timing.poll_sleeps = timing_sleeps();
    timing.poll_t0 = cf_clock_s(CLOCK_MONOTONIC);
}

static void
timing_poll_end(void)
{
    if (timing_sleeps() != timing.poll_sleeps) /* it blocked: a voluntary switch */
        timing.sleep_s += cf_clock_s(CLOCK_MONOTONIC) - timing.poll_t0;
}

/* Returns the thread's CPU time, for timing_job_end. */
static double
timing_job_begin(void)
{
    if (timing.jobs == 0)
        timing.first_job = cf_clock_s(CLOCK_MONOTONIC);
    else
        timing.slept_s += timing.sleep_s; /* a sleep between two jobs */
    return cf_clock_s(CLOCK_THREAD_CPUTIME_ID);
}

static void
timing_job_end(double t0, size_t body_len)
{
    double dt = cf_clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
    timing.jobs++;
    timing.bytes += (double)body_len;
    timing.extract_s += dt;
    if (timing.sleep_s > 0) {
        timing.woke_jobs++;
        timing.woke_bytes += (double)body_len;
        timing.woke_extract_s += dt;
    }
    timing.sleep_s = 0;
    timing.last_job = cf_clock_s(CLOCK_MONOTONIC);
}

/* Called last, after zmq_ctx_term: the process's CPU then includes its I/O thread's. */
static void
timing_write(void)
{
    const char *path = getenv("CF_WORKER_TIMING_FILE");
    if (!path || !*path)
        return;
    FILE *f = fopen(path, "a");
    if (!f) {
        fprintf(stderr, "cloudfact-worker: %s: %s\n", path, strerror(errno));
        return;
    }
    fprintf(f,
            "{\"pid\": %d, \"jobs\": %lu, \"body_bytes\": %.0f, \"extract_cpu_s\": %.6f,"
            " \"woke_jobs\": %lu, \"woke_body_bytes\": %.0f, \"woke_extract_cpu_s\": %.6f,"
            " \"main_thread_cpu_s\": %.6f, \"process_cpu_s\": %.6f, \"jobs_span_s\": %.6f,"
            " \"slept_in_span_s\": %.6f}\n",
            (int)getpid(), timing.jobs, timing.bytes, timing.extract_s, timing.woke_jobs,
            timing.woke_bytes, timing.woke_extract_s, cf_clock_s(CLOCK_THREAD_CPUTIME_ID),
            cf_clock_s(CLOCK_PROCESS_CPUTIME_ID), timing.last_job - timing.first_job,
            timing.slept_s);
    if (fclose(f) != 0)
        fprintf(stderr, "cloudfact-worker: %s: %s\n", path, strerror(errno));
}
#else
static void
timing_poll_begin(void)
{
}
static void
timing_poll_end(void)
{
}
static double
timing_job_begin(void)
{
    return 0;
}
static void
timing_job_end(double t0, size_t body_len)
{
    (void)t0;
    (void)body_len;
}
static void
timing_write(void)
{
}
#endif

static volatile sig_atomic_t signals; /* SIGTERM and SIGINT received */

static void
on_term(int sig)
{
    (void)sig;
    signals = signals + 1;
}

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact-worker --endpoint EP [OPTION]...\n"
            "Extract cloud-market facts for cloudfactd: connect to its worker endpoint, take\n"
            "jobs, return facts. cloudfactd starts these itself (--workers N); start one by\n"
            "hand to add a remote worker.\n\n"
            "Options:\n"
            "  --endpoint EP        the daemon's worker endpoint (ipc://PATH or tcp://HOST:PORT)\n"
            "  --data DIR           extractor data directory (default: $CLOUDFACT_DATA, the\n"
            "                       installed share directory, then the source tree)\n"
            "  --credit N           jobs to accept at once, 1..64 (default 8)\n"
            "  --die-with-parent[=PID]\n"
            "                       exit when the process that started this one (PID, when\n"
            "                       given) exits, and leave SIGINT to it (the daemon passes\n"
            "                       this option with its pid; with PID given the exit is a\n"
            "                       SIGKILL, without it a SIGTERM, which finishes the job)\n"
            "  --log-level LEVEL    error, warn, notice, info or debug (default info)\n"
            "  --server-key FILE    the daemon's public key (a .pub): connect with CURVE,\n"
            "                       as a tcp worker endpoint requires\n"
            "  --key FILE           this worker's secret key (a .key, mode 0600); its .pub\n"
            "                       must be in the daemon's --allow-workers directory\n"
            "  --help               show this help and exit\n"
            "  --version            print the version and exit\n\n"
            "SIGTERM or SIGINT: a worker started by hand leaves without losing a job: it\n"
            "tells the daemon to send no more (`ready` with credit 0), answers every job it\n"
            "holds and exits 0 (a second signal exits at once). A worker the daemon started\n"
            "finishes its job and exits 0; the daemon requeues the others uncharged.\n\n"
            "Exit status: 0 after `stop` or SIGTERM, 1 on a runtime failure, 2 on a usage\n"
            "or configuration error (bad data files): the daemon does not restart those.\n\n"
            "Examples:\n"
            "  cloudfact-worker --endpoint ipc:///run/cloudfactd/workers.sock\n"
            "  cloudfact-worker --endpoint tcp://cf1:7704 --server-key cf1.pub --key w7.key\n");
}

typedef struct worker {
    void *ctx;
    void *sock;
    const char *endpoint;
    cf_curve_client_t curve;    /* empty: plain (ipc) */
    void *mon;                  /* the socket's handshake failures (CURVE only), or NULL */
    unsigned sockets;           /* sockets made so far: names their monitors */
    cf_ratelog_t refused_log;   /* a refused handshake, said at most every 10 s */
    cf_ratelog_t bad_log;       /* messages that cannot be decoded, likewise */
    const char *data_dir;
    unsigned credit;
    bool die_with_parent; /* started by the daemon (--die-with-parent) */
    bool stop_op;         /* the daemon sent `stop` */
    bool leaving;         /* sent `ready` with credit 0 after a signal */
    unsigned leave_beats; /* the daemon's heartbeats heard since */
    cf_extractor_t *ex;
    msgpack_sbuffer buf;
    uint64_t last_sent;
    uint64_t last_heard;
} worker_t;

/* True when the worker must exit now: the daemon said `stop`; a signal reached a
 * worker the daemon started (which requeues its jobs uncharged) or came twice; or a
 * leaving worker heard two heartbeats since its credit-0 `ready`. The second was sent
 * a second after the first, after the daemon had read that `ready` on any sane link:
 * no job can follow it. */
static bool
quitting(const worker_t *w)
{
    return w->stop_op || (signals && (w->die_with_parent || signals > 1)) ||
           (w->leaving && w->leave_beats >= 2);
}

static void
send_buf(worker_t *w)
{
    /* bounded by ZMQ_SNDTIMEO: a daemon that is not there must not freeze us; a
     * lost result is reclaimed by the daemon's job deadline */
    int rc;
    while ((rc = zmq_send(w->sock, w->buf.data, w->buf.size, 0)) < 0 && zmq_errno() == EINTR &&
           !quitting(w))
        ;
    if (rc < 0)
        cf_log_warn("worker: send to the daemon failed: %s", zmq_strerror(zmq_errno()));
    msgpack_sbuffer_clear(&w->buf);
    w->last_sent = cf_clock_ms();
}

/* Stops the socket's monitor, then closes its reader: a reader closed first could
 * leave ZeroMQ's I/O thread blocked on an event nobody reads (libzmq #3575), and
 * zmq_ctx_term waiting for it. */
static void
close_monitor(worker_t *w)
{
    if (!w->mon)
        return;
    if (w->sock)
        zmq_socket_monitor(w->sock, NULL, 0);
    zmq_close(w->mon);
    w->mon = NULL;
}

/* A CURVE handshake the daemon refuses is silent at the socket (ZeroMQ retries for
 * ever): a monitor lets the operator read why in the log. */
static void
watch_handshake(worker_t *w)
{
    close_monitor(w);
    if (!cf_curve_client_on(&w->curve))
        return;
    char ep[64];
    snprintf(ep, sizeof ep, "inproc://cf-worker-monitor-%u", w->sockets);
    if (zmq_socket_monitor(w->sock, ep,
                           ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL) !=
        0)
        return;
    w->mon = zmq_socket(w->ctx, ZMQ_PAIR);
    if (!w->mon || zmq_connect(w->mon, ep) != 0) {
        zmq_socket_monitor(w->sock, NULL, 0); /* no reader: no monitor */
        if (w->mon)
            zmq_close(w->mon);
        w->mon = NULL;
    }
}

static void
on_monitor(worker_t *w)
{
    zmq_msg_t ev;
    zmq_msg_init(&ev);
    while (zmq_msg_recv(&ev, w->mon, ZMQ_DONTWAIT) >= 0) {
        bool more = zmq_msg_more(&ev);
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&ev) >= 6) {
            memcpy(&event, zmq_msg_data(&ev), 2);
            memcpy(&value, (const char *)zmq_msg_data(&ev) + 2, 4);
        }
        if (more) /* the endpoint frame */
            zmq_msg_recv(&ev, w->mon, 0);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            cf_ratelog(&w->refused_log, CF_LOG_ERROR,
                       "worker: %s refused this worker's key (status %u): its .pub must be in "
                       "the daemon's --allow-workers directory",
                       w->endpoint, (unsigned)value);
        else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL)
            cf_ratelog(&w->refused_log, CF_LOG_ERROR,
                       "worker: the CURVE handshake with %s failed (error 0x%x): does the "
                       "daemon use CURVE, and is --server-key its public key?",
                       w->endpoint, (unsigned)value);
    }
    zmq_msg_close(&ev);
}

static void
send_ready(worker_t *w, unsigned credit)
{
    /* spawned by the daemon: the token that vouches for our pid (a remote worker has none) */
    const char *token = getenv(CF_WORKER_TOKEN_ENV);
    cf_msg_pack_ready_token(&w->buf, credit, (uint64_t)getpid(),
                            token && *token && strlen(token) <= CF_MAX_TOKEN ? token : NULL);
    send_buf(w);
}

/* A signal to a worker started by hand: no more jobs, please (credit 0); the jobs
 * already sent are answered as they come, until quitting() says none can follow. */
static void
start_leaving(worker_t *w)
{
    w->leaving = true;
    w->leave_beats = 0;
    send_ready(w, 0);
    cf_log_info("worker: leaving: answering the jobs already sent, then exiting");
}

static int
connect_daemon(worker_t *w)
{
    close_monitor(w);
    if (w->sock)
        zmq_close(w->sock);
    w->sockets++;
    w->sock = zmq_socket(w->ctx, ZMQ_DEALER);
    /* the daemon sends at most `credit` jobs, and a heartbeat a second while one runs
     * (up to the job deadline): a peer that ignores credit fills its own queue, not our
     * memory */
    int linger = 1000, immediate = 1, sndtimeo = 5000, rcvhwm = (int)w->credit + 64;
    int64_t maxmsg = CF_MAX_MSGSIZE;
    zmq_setsockopt(w->sock, ZMQ_RCVHWM, &rcvhwm, sizeof rcvhwm);
    zmq_setsockopt(w->sock, ZMQ_LINGER, &linger, sizeof linger);
    zmq_setsockopt(w->sock, ZMQ_IMMEDIATE, &immediate, sizeof immediate);
    zmq_setsockopt(w->sock, ZMQ_SNDTIMEO, &sndtimeo, sizeof sndtimeo);
    zmq_setsockopt(w->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    cf_err_t err;
    if (cf_curve_client_apply(&w->curve, w->sock, &err) != CF_OK) {
        cf_log_error("worker: %s", err.text);
        return -1;
    }
    watch_handshake(w);
    if (zmq_connect(w->sock, w->endpoint) != 0) {
        cf_log_error("worker: cannot connect to %s: %s", w->endpoint, zmq_strerror(zmq_errno()));
        return -1;
    }
    send_ready(w, w->credit);
    w->last_heard = cf_clock_ms();
    return 0;
}

#ifdef CF_WORKER_TEST_HOOKS
/* Test build only (cloudfact-worker-test): markers in an article body make this
 * worker crash, hang, lose a job or lie, so tests can do the damage for real. */
static bool
test_hooks(worker_t *w, const cf_msg_t *msg)
{
    const char *body = msg->u.job.article.body;
    if (strstr(body, "cf-test:crash"))
        abort();
    if (strstr(body, "cf-test:hang"))
        for (;;)
            pause();
    if (strstr(body, "cf-test:lose"))
        return true; /* no answer for this job; the others are answered */
    if (strstr(body, "cf-test:bad-evidence")) {
        cf_facts_t facts = {0};
        cf_fact_t *f = cf_facts_push(&facts);
        f->type = strdup("revenue");
        f->subject = strdup("example");
        f->status = strdup("reported");
        f->evidence = strdup("not in the body at all");
        f->evidence_start = 0;
        f->evidence_end = strlen(f->evidence);
        f->confidence = 0.5;
        cf_msg_pack_result(&w->buf, msg->u.job.job, &facts, NULL);
        cf_facts_clear(&facts);
        send_buf(w);
        return true;
    }
    return false;
}
#endif

static void
do_job(worker_t *w, cf_msg_t *msg)
{
#ifdef CF_WORKER_TEST_HOOKS
    if (test_hooks(w, msg))
        return;
#endif
    cf_facts_t facts = {0};
    cf_class_t cls = {0};
    cf_err_t err;
    double t0 = timing_job_begin();
    int rc = cf_extract_article(w->ex, &msg->u.job.article, &facts, &cls, &err);
    timing_job_end(t0, msg->u.job.article.body_len);
    if (rc == CF_OK) {
        cf_msg_pack_result(&w->buf, msg->u.job.job, &facts, &cls);
        cf_log_debug("worker: article %llu: %zu facts",
                     (unsigned long long)msg->u.job.article.id, facts.n);
    } else {
        cf_msg_pack_worker_error(&w->buf, msg->u.job.job, err.text);
    }
    send_buf(w);
    cf_facts_clear(&facts);
    cf_class_clear(&cls);
}

static void
do_reload(worker_t *w)
{
    cf_err_t err;
    cf_extractor_t *fresh = cf_extract_new(w->data_dir, &err);
    if (!fresh) {
        cf_log_error("worker: reload refused, keeping the loaded rules: %s", err.text);
        cf_msg_pack_worker_error(&w->buf, 0, err.text);
        send_buf(w);
        return;
    }
    cf_extract_destroy(&w->ex);
    w->ex = fresh;
    cf_log_info("worker: data files reloaded from %s", w->data_dir);
}

/* Receives and handles one message from the daemon, if one is queued: false when
 * none was. */
static bool
handle_one(worker_t *w)
{
    zmq_msg_t m;
    zmq_msg_init(&m);
    if (zmq_msg_recv(&m, w->sock, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&m);
        return false;
    }
    w->last_heard = cf_clock_ms();
    cf_msg_t msg;
    cf_err_t err;
    if (cf_msg_decode(CF_CHAN_TO_WORKER, zmq_msg_data(&m), zmq_msg_size(&m), &msg, &err) !=
        CF_OK) {
        /* the sender decides how often: rate-limited */
        cf_ratelog(&w->bad_log, CF_LOG_WARN, "worker: bad message from the daemon: %s", err.text);
        if (msg.op == CF_OP_JOB && msg.u.job.job) {
            /* answered at once: the daemon would otherwise wait out the job deadline */
            char why[CF_ERR_TEXT_MAX + 32];
            snprintf(why, sizeof why, "cannot read the job: %s", err.text);
            cf_msg_pack_worker_error(&w->buf, msg.u.job.job, why);
            send_buf(w);
        }
    } else if (msg.op == CF_OP_JOB) {
        do_job(w, &msg);
    } else if (msg.op == CF_OP_RELOAD) {
        do_reload(w);
    } else if (msg.op == CF_OP_STOP) {
        w->stop_op = true;
    } else if (msg.op == CF_OP_HEARTBEAT && w->leaving) {
        w->leave_beats++;
    }
    cf_msg_clear(&msg);
    zmq_msg_close(&m);
    return true;
}

int
main(int argc, char **argv)
{
    static const struct option lopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                          {"data", required_argument, NULL, 'd'},
                                          {"credit", required_argument, NULL, 'c'},
                                          {"die-with-parent", optional_argument, NULL, 'p'},
                                          {"log-level", required_argument, NULL, 'l'},
                                          {"help", no_argument, NULL, 'h'},
                                          {"version", no_argument, NULL, 'V'},
                                          {"server-key", required_argument, NULL, 'K'},
                                          {"key", required_argument, NULL, 'k'},
                                          {NULL, 0, NULL, 0}};
    worker_t w = {0};
    const char *server_key = NULL, *key = NULL;
    const char *data_opt = NULL;
    long credit = 8;
    long parent_pid = 0; /* --die-with-parent=PID: the parent we must have */
    /* lines read "cloudfact-worker[PID] level: ..."; a failure to start, in the form
     * "cloudfact-worker: what: why", has the error priority on the journal (and there
     * reads "cloudfact-worker[PID]: what: why" when the daemon spawned us) */
    cf_log_init("cloudfact-worker");
    /* spawned by cloudfactd (its token in our environment): its stderr is ours, and
     * on the journal our lines would read as the daemon's without a tag */
    if (getenv(CF_WORKER_TOKEN_ENV))
        cf_log_tag_journal();
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e': w.endpoint = optarg; break;
        case 'd': data_opt = optarg; break;
        case 'c': {
            char *end;
            credit = strtol(optarg, &end, 10);
            if (*end || credit < 1 || credit > (long)CF_MAX_CREDIT) {
                cf_log_fail("--credit: must be 1..%u", CF_MAX_CREDIT);
                return 2;
            }
            break;
        }
        case 'p': {
            char *end = NULL;
            w.die_with_parent = true;
            if (optarg && ((parent_pid = strtol(optarg, &end, 10)) < 1 || *end)) {
                cf_log_fail("--die-with-parent: '%s' is not a pid", optarg);
                return 2;
            }
            break;
        }
        case 'K': server_key = optarg; break;
        case 'k': key = optarg; break;
        case 'l':
            if ((cf_log_level = cf_log_level_parse(optarg)) < 0) {
                cf_log_fail("--log-level: unknown level '%s'", optarg);
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        case 'V':
            printf("cloudfact-worker %s\n", CF_VERSION);
            return 0;
        case ':':
            cf_log_fail("option %s needs an argument (see --help)", argv[optind - 1]);
            return 2;
        default:
            /* a short option is named by optopt ("-xy": x), a long one by its word */
            if (strncmp(argv[optind - 1], "--", 2) != 0)
                cf_log_fail("unknown option -%c (see --help)", optopt);
            else
                cf_log_fail("invalid option %s (see --help)", argv[optind - 1]);
            return 2;
        }
    }
    if (optind < argc) {
        cf_log_fail("unexpected argument '%s' (see --help)", argv[optind]);
        return 2;
    }
    if (!w.endpoint) {
        cf_log_fail("--endpoint EP is required (see --help)");
        return 2;
    }
    cf_err_t kerr;
    if (cf_curve_client_load(&w.curve, server_key, key, &kerr) != CF_OK) {
        cf_log_fail("%s", kerr.text);
        return 2;
    }
    /* the daemon takes tcp workers only with CURVE: without keys this one would retry a
     * refused handshake for ever, silently */
    if (strncmp(w.endpoint, "tcp://", 6) == 0 && !cf_curve_client_on(&w.curve)) {
        cf_log_fail("%s: a tcp endpoint needs --server-key and --key "
                    "(the daemon requires CURVE on tcp)",
                    w.endpoint);
        return 2;
    }
    if (w.die_with_parent) {
        /* a parent that died before prctl took effect left us to a reaper: our parent
         * is then no longer the one we were given (or saw just before). Not "is pid 1":
         * a daemon that is pid 1 (in a container) is a parent like any other. */
        pid_t parent = parent_pid ? (pid_t)parent_pid : getppid();
        /* The daemon's form (=PID: the daemon is the parent): SIGKILL, since a worker
         * stuck in a job never returns to the loop that reads the flag SIGTERM sets,
         * and a dead daemon's jobs have no one to go to (a second SIGINT, or the
         * daemon killed, left such a one behind). Under another parent (a shell, a
         * supervisor) the daemon lives on: SIGTERM, so that the job in hand is
         * finished and answered. */
        prctl(PR_SET_PDEATHSIG, parent_pid ? SIGKILL : SIGTERM);
        if (getppid() != parent)
            return 0; /* the parent is already gone */
    }
    w.credit = (unsigned)credit;
    w.data_dir = cf_extract_data_dir(data_opt);
    cf_err_t err;
    w.ex = cf_extract_new(w.data_dir, &err);
    if (!w.ex) {
        cf_log_fail("data files in %s: %s", w.data_dir, err.text);
        return 2;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_term;
    sigaction(SIGTERM, &sa, NULL);
    /* a Ctrl-C at the terminal reaches the whole process group: a worker the daemon
     * started leaves its shutdown to the daemon (which lets jobs in flight finish),
     * instead of dying mid-job and being restarted during the drain */
    if (w.die_with_parent)
        signal(SIGINT, SIG_IGN);
    else
        sigaction(SIGINT, &sa, NULL);

    msgpack_sbuffer_init(&w.buf);
    w.ctx = zmq_ctx_new();
    int rc = 0;
    uint64_t backoff = 1000;
    if (connect_daemon(&w) != 0) {
        rc = 2;
        goto out;
    }
    while (!quitting(&w)) {
        if (signals && !w.leaving)
            start_leaving(&w);
        zmq_pollitem_t items[2] = {{w.sock, 0, ZMQ_POLLIN, 0}, {w.mon, 0, ZMQ_POLLIN, 0}};
        zmq_pollitem_t item;
        timing_poll_begin();
        int n = zmq_poll(items, w.mon ? 2 : 1, HEARTBEAT_MS);
        timing_poll_end();
        item = items[0];
        if (n > 0 && w.mon && (items[1].revents & ZMQ_POLLIN)) {
            on_monitor(&w);
            n = (item.revents & ZMQ_POLLIN) ? 1 : 0; /* nothing from the daemon itself */
        }
        if (n < 0) {
            if (zmq_errno() == EINTR)
                continue;
            cf_log_error("worker: poll failed: %s", zmq_strerror(zmq_errno()));
            rc = 1;
            break;
        }
        /* every message already queued, not only the first: with credit N the daemon
         * sends up to N jobs at once, and each zmq_poll costs a system call. Bounded,
         * so that heartbeats still go out under a stream of messages. */
        for (unsigned k = 0;
             n > 0 && (item.revents & ZMQ_POLLIN) && !quitting(&w) && k < w.credit + DRAIN_EXTRA;
             k++) {
            if (!handle_one(&w))
                break;
            backoff = 1000;
        }
        uint64_t now = cf_clock_ms();
        /* judge liveness only after waiting with nothing to read: messages the daemon
         * sent while we were busy with a long job are still queued, unread */
        if (n == 0 && now - w.last_heard > (uint64_t)HEARTBEAT_MS * LIVENESS) {
            if (w.leaving) { /* nothing to answer: no daemon to answer it to */
                cf_log_warn("worker: daemon silent for %llu ms while leaving; exiting",
                            (unsigned long long)(now - w.last_heard));
                break;
            }
            /* a restarted daemon does not know us: a fresh socket re-registers */
            cf_log_warn("worker: daemon silent for %llu ms; reconnecting in %llu ms",
                        (unsigned long long)(now - w.last_heard), (unsigned long long)backoff);
            usleep((useconds_t)backoff * 1000);
            backoff = backoff * 2 > RECONNECT_MAX_MS ? RECONNECT_MAX_MS : backoff * 2;
            if (connect_daemon(&w) != 0) {
                rc = 1;
                break;
            }
        } else if (now - w.last_sent >= HEARTBEAT_MS) {
            cf_msg_pack_op(&w.buf, "heartbeat", NULL, 0);
            send_buf(&w);
        }
    }
out:
    close_monitor(&w);
    if (w.sock)
        zmq_close(w.sock);
    zmq_ctx_term(w.ctx);
    msgpack_sbuffer_destroy(&w.buf);
    cf_extract_destroy(&w.ex);
    timing_write();
    return rc;
}
