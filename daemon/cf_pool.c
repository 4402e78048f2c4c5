/* SPDX-License-Identifier: MIT
 * cf_pool: spawn, reap and respawn the local workers. posix_spawn, never a bare
 * fork: the ZeroMQ context and the event base are not fork-safe (STACK.md 6). */
#include "cf_pool.h"

#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cf_clock.h"
#include "cf_log.h"
#include "cf_msg.h"
#include "cf_text.h"

extern char **environ;

#define BACKOFF_FIRST 1   /* seconds before the first respawn */
#define BACKOFF_MAX 30    /* cap */
#define CONFIG_BACKOFF_MAX 600 /* a worker exiting 2 again and again: 30 s doubling to this */

#define TOKEN_BYTES 16

typedef struct slot {
    pid_t pid;             /* 0: not running */
    char token[2 * TOKEN_BYTES + 1]; /* the running worker's CF_WORKER_TOKEN_ENV (hex) */
    uint64_t started_ms;   /* monotonic */
    int backoff;           /* seconds before the next respawn; 0: none yet, or ready */
    bool config_error;     /* its last worker exited 2: a configuration error */
    struct event *respawn; /* one-shot timer */
    struct cf_pool *pool;  /* back pointer for the timer */
} slot_t;

struct cf_pool {
    struct event_base *base;
    char **argv;           /* owned copy */
    size_t n;              /* slots */
    slot_t *slots;
    struct event *sigchld;
    cf_pool_exit_cb cb;
    void *arg;
    bool stopping;
    bool batch; /* new workers start under SCHED_BATCH */
    cf_pool_stats_t st;
};

/* A fresh token for s, and the environment that hands it to its worker: environ
 * without any CF_WORKER_TOKEN_ENV of its own, plus s's (free the array and its last
 * string). */
static char **
token_env(slot_t *s)
{
    unsigned char raw[TOKEN_BYTES];
    if (getrandom(raw, sizeof raw, 0) != (ssize_t)sizeof raw) {
        /* interrupted: the clock and the slot still tell this spawn from any other */
        uint64_t a = cf_clock_us(), b = (uint64_t)getpid() << 32 | (uint64_t)(s - s->pool->slots);
        memcpy(raw, &a, sizeof a);
        memcpy(raw + sizeof a, &b, sizeof b);
    }
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(s->token + 2 * i, 3, "%02x", raw[i]);
    const char *name = CF_WORKER_TOKEN_ENV "=";
    size_t n = 0;
    while (environ[n])
        n++;
    char **env = cf_calloc(n + 2, sizeof *env);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], name, strlen(name)) != 0)
            env[k++] = environ[i];
    size_t len = strlen(name) + sizeof s->token;
    env[k] = cf_malloc(len);
    snprintf(env[k], len, "%s%s", name, s->token);
    return env;
}

static void
token_env_free(char **env)
{
    size_t k = 0;
    while (env[k + 1])
        k++;
    free(env[k]);
    free(env);
}

static int
spawn(cf_pool_t *self, slot_t *s, cf_err_t *err)
{
    pid_t pid;
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    /* the child starts with default signal dispositions and an empty mask */
    sigset_t all, none;
    sigfillset(&all);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &all);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    /* the child inherits the spawning thread's policy: this thread takes SCHED_BATCH
     * for the call (glibc's posix_spawnattr_setschedpolicy refuses it), then its own */
    int was = sched_getscheduler(0); /* may carry SCHED_RESET_ON_FORK */
    struct sched_param was_sp = {0}, sp = {0};
    bool switched = false;
    if (self->batch && was >= 0 && (was & ~SCHED_RESET_ON_FORK) != SCHED_BATCH) {
        switched = sched_getparam(0, &was_sp) == 0 && sched_setscheduler(0, SCHED_BATCH, &sp) == 0;
        if (!switched) {
            cf_log_warn("pool: cannot start workers under SCHED_BATCH (%s): they run under the "
                        "daemon's policy",
                        strerror(errno));
            self->batch = false; /* said once */
        }
    }
    char **env = token_env(s);
    int rc = posix_spawn(&pid, self->argv[0], NULL, &attr, self->argv, env);
    token_env_free(env);
    if (switched && sched_setscheduler(0, was, &was_sp) != 0) {
        cf_log_error("pool: the loop thread cannot leave SCHED_BATCH (%s); later workers "
                     "inherit it",
                     strerror(errno));
        self->batch = false;
    }
    posix_spawnattr_destroy(&attr);
    if (rc != 0) {
        errno = rc;
        return cf_err_sys(err, "pool: cannot start %s", self->argv[0]);
    }
    s->pid = pid;
    s->started_ms = cf_clock_ms();
    self->st.spawned++;
    self->st.alive++;
    cf_log_info("pool: worker started (pid=%d)", (int)pid);
    return CF_OK;
}

static void
on_respawn(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    slot_t *s = arg;
    cf_err_t err;
    if (s->pool->stopping || s->pid)
        return;
    if (spawn(s->pool, s, &err) != CF_OK) {
        cf_log_error("%s", err.text);
        s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
        struct timeval tv = {s->backoff, 0};
        event_add(s->respawn, &tv);
        return;
    }
    s->pool->st.restarted++;
}

static void
describe(int status, char *out, size_t n)
{
    if (WIFEXITED(status))
        snprintf(out, n, "exit status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(out, n, "signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
    else
        snprintf(out, n, "status 0x%x", status);
}

/* The slot whose worker runs as pid, or NULL. */
static slot_t *
slot_of(const cf_pool_t *self, pid_t pid)
{
    for (size_t i = 0; pid > 0 && i < self->n; i++)
        if (self->slots[i].pid == pid)
            return &self->slots[i];
    return NULL;
}

static void
reaped(cf_pool_t *self, pid_t pid, int status)
{
    slot_t *s = slot_of(self, pid);
    if (!s)
        return; /* not ours (cannot happen: we spawn nothing else) */
    char how[96];
    describe(status, how, sizeof how);
    s->pid = 0;
    self->st.alive--;
    bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (!clean)
        self->st.crashed++;
    if (self->cb)
        self->cb(pid, status, self->arg);
    if (self->stopping) {
        if (clean)
            cf_log_info("pool: worker stopped (pid=%d, %s)", (int)pid, how);
        else
            cf_log_warn("pool: worker ended during shutdown (pid=%d, %s); not restarted", (int)pid,
                        how);
        return;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) {
        /* its data files or keys are wrong: they may be in the middle of a deploy, or
         * fixed by the operator, so try again now and then, and at once on a reload */
        if (!s->config_error)
            s->backoff = BACKOFF_MAX;
        else if ((s->backoff *= 2) > CONFIG_BACKOFF_MAX)
            s->backoff = CONFIG_BACKOFF_MAX;
        s->config_error = true;
        cf_log_error("pool: worker exited with a configuration error (pid=%d; its messages "
                     "above say what): next try in %ds, or at once on a reload (SIGHUP)",
                     (int)pid, s->backoff);
        struct timeval tv = {s->backoff, 0};
        event_add(s->respawn, &tv);
        return;
    }
    s->config_error = false;
    uint64_t lived = (cf_clock_ms() - s->started_ms) / 1000;
    /* doubling only while workers die before they were ever ready */
    if (s->backoff == 0)
        s->backoff = BACKOFF_FIRST;
    else
        s->backoff = s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2;
    cf_log_warn("pool: worker ended (pid=%d, %s, lived %lus); restarting in %ds", (int)pid, how,
                (unsigned long)lived, s->backoff);
    struct timeval tv = {s->backoff, 0};
    event_add(s->respawn, &tv);
}

static void
on_sigchld(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    cf_pool_t *self = arg;
    int status;
    pid_t pid;
    /* signals coalesce: reap everything that ended */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        reaped(self, pid, status);
}

cf_pool_t *
cf_pool_new(struct event_base *base, char *const argv[], size_t nworkers, cf_pool_exit_cb cb,
            void *arg, cf_err_t *err)
{
    cf_pool_t *self = cf_calloc(1, sizeof *self);
    self->base = base;
    size_t argc = 0;
    while (argv[argc])
        argc++;
    self->argv = cf_calloc(argc + 1, sizeof *self->argv);
    for (size_t i = 0; i < argc; i++)
        self->argv[i] = cf_strdup(argv[i]);
    self->n = nworkers;
    self->slots = cf_calloc(nworkers ? nworkers : 1, sizeof *self->slots);
    for (size_t i = 0; i < nworkers; i++) {
        self->slots[i].pool = self;
        self->slots[i].respawn = event_new(base, -1, 0, on_respawn, &self->slots[i]);
    }
    self->cb = cb;
    self->arg = arg;
    self->sigchld = evsignal_new(base, SIGCHLD, on_sigchld, self);
    if (!self->sigchld || event_add(self->sigchld, NULL) != 0) {
        cf_err_set(err, CF_ESYS, "pool: cannot watch SIGCHLD");
        cf_pool_destroy(&self);
        return NULL;
    }
    return self;
}

void
cf_pool_set_batch(cf_pool_t *self, bool on)
{
    self->batch = on;
}

bool
cf_pool_batch(const cf_pool_t *self)
{
    return self->batch;
}

int
cf_pool_start(cf_pool_t *self, cf_err_t *err)
{
    if (self->n && access(self->argv[0], X_OK) != 0)
        return cf_err_sys(err, "pool: worker program %s", self->argv[0]);
    for (size_t i = 0; i < self->n; i++) {
        int rc = spawn(self, &self->slots[i], err);
        if (rc != CF_OK)
            return rc;
    }
    return CF_OK;
}

bool
cf_pool_owns(const cf_pool_t *self, pid_t pid)
{
    return slot_of(self, pid) != NULL;
}

bool
cf_pool_vouch(const cf_pool_t *self, pid_t pid, const char *token)
{
    const slot_t *s = slot_of(self, pid);
    return s && token && strcmp(s->token, token) == 0;
}

void
cf_pool_ready(cf_pool_t *self, pid_t pid)
{
    slot_t *s = slot_of(self, pid);
    if (s) {
        s->backoff = 0;
        s->config_error = false; /* its files load: a later exit 2 starts at 30 s again */
    }
}

void
cf_pool_kill(cf_pool_t *self, pid_t pid)
{
    if (cf_pool_owns(self, pid))
        kill(pid, SIGKILL);
}

void
cf_pool_drain(cf_pool_t *self)
{
    if (!self)
        return;
    self->stopping = true;
    for (size_t i = 0; i < self->n; i++)
        event_del(self->slots[i].respawn);
}

void
cf_pool_stop(cf_pool_t *self)
{
    cf_pool_drain(self);
    for (size_t i = 0; i < self->n; i++)
        if (self->slots[i].pid)
            kill(self->slots[i].pid, SIGTERM);
}

void
cf_pool_retry(cf_pool_t *self)
{
    if (self->stopping)
        return;
    for (size_t i = 0; i < self->n; i++) {
        slot_t *s = &self->slots[i];
        if (s->pid == 0 && evtimer_pending(s->respawn, NULL)) {
            evtimer_del(s->respawn);
            struct timeval now = {0, 0};
            evtimer_add(s->respawn, &now);
        }
    }
}

void
cf_pool_stats(const cf_pool_t *self, cf_pool_stats_t *out)
{
    *out = self->st;
    out->backoff = 0;
    out->config_errors = 0;
    for (size_t i = 0; i < self->n; i++) {
        if ((unsigned)self->slots[i].backoff > out->backoff)
            out->backoff = (unsigned)self->slots[i].backoff;
        if (self->slots[i].pid == 0 && self->slots[i].config_error)
            out->config_errors++;
    }
}

void
cf_pool_destroy(cf_pool_t **self_p)
{
    cf_pool_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    self->stopping = true;
    for (size_t i = 0; i < self->n; i++) {
        slot_t *s = &self->slots[i];
        if (s->pid) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
        }
        if (s->respawn)
            event_free(s->respawn);
    }
    if (self->sigchld)
        event_free(self->sigchld);
    for (size_t i = 0; self->argv[i]; i++)
        free(self->argv[i]);
    free(self->argv);
    free(self->slots);
    free(self);
    *self_p = NULL;
}
