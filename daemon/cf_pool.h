/* SPDX-License-Identifier: MIT
 * cf_pool: the local worker processes (nginx master/worker). Spawns N
 * cloudfact-worker processes with posix_spawn, reaps them on SIGCHLD, tells the
 * owner which pid ended and how, and respawns with back-off: 1 s, doubling to
 * 30 s while workers keep dying before they are ready (a broken install), back to
 * 1 s once a worker was ready (a worker killed by an article is not the pool's
 * problem: quarantine is). A worker exiting 2 (configuration error: its data files
 * or keys) is respawned after 30 s (doubling to 10 min while it keeps exiting 2), or
 * at once by cf_pool_retry (a reload). */
#ifndef CF_POOL_H
#define CF_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <event2/event.h>

#include "cf_err.h"

typedef struct cf_pool cf_pool_t;

/* A worker process ended; status as from waitpid. Runs on the loop thread. */
typedef void (*cf_pool_exit_cb)(pid_t pid, int status, void *arg);

typedef struct cf_pool_stats {
    size_t alive;        /* processes running */
    uint64_t spawned;    /* processes started */
    uint64_t restarted;  /* processes started to replace one that ended */
    uint64_t crashed;    /* ends by a signal or a non-zero status */
    unsigned backoff;    /* the longest respawn delay a slot would use now, seconds */
    size_t config_errors; /* slots waiting because their worker exited 2 */
} cf_pool_stats_t;

/* argv: the worker command line (argv[0] the program), NULL-terminated, copied.
 * Does not spawn yet. */
cf_pool_t *cf_pool_new(struct event_base *base, char *const argv[], size_t nworkers,
                       cf_pool_exit_cb cb, void *arg, cf_err_t *err);

/* on: workers spawned from now on start under SCHED_BATCH (sched(7)); the calling
 * thread (the loop's) takes that policy for each spawn and returns to its own. off
 * (the default): they inherit the spawning thread's policy. A refusal by the system
 * is warned once and turns it off. */
void cf_pool_set_batch(cf_pool_t *self, bool on);

/* Whether workers start under SCHED_BATCH (false after a refusal). */
bool cf_pool_batch(const cf_pool_t *self);

/* Spawns the workers. Returns CF_OK, or CF_ESYS when the program cannot be started
 * at all (err names it). */
int cf_pool_start(cf_pool_t *self, cf_err_t *err);

/* True when pid is one of ours and alive. */
bool cf_pool_owns(const cf_pool_t *self, pid_t pid);

/* True when pid is one of ours, alive, and was spawned with token (NULL: false). Each
 * spawn gets a fresh token in its environment (CF_WORKER_TOKEN_ENV), which the worker
 * sends back in its `ready`: a pid is only believed with its token, so that a remote
 * worker that says it has a local worker's pid cannot get that one killed. */
bool cf_pool_vouch(const cf_pool_t *self, pid_t pid, const char *token);

/* The worker pid said it is ready: its slot's back-off starts again from 1 s. */
void cf_pool_ready(cf_pool_t *self, pid_t pid);

/* Kills a hung worker with SIGKILL; it is reaped and replaced as usual. */
void cf_pool_kill(cf_pool_t *self, pid_t pid);

/* Respawns now every slot that waits for its back-off (a reload: the files a worker
 * failed on may be fixed). */
void cf_pool_retry(cf_pool_t *self);

/* Shutdown has begun: no more respawns, and a worker that leaves (as one does when
 * SIGTERM reaches the whole process group) is logged as stopped, not as a crash to
 * be restarted. The workers are not signalled. NULL-safe. */
void cf_pool_drain(cf_pool_t *self);

/* No more respawns; sends SIGTERM to every worker. */
void cf_pool_stop(cf_pool_t *self);

void cf_pool_stats(const cf_pool_t *self, cf_pool_stats_t *out);

/* SIGKILLs and reaps whatever still runs, then frees. NULL-safe. */
void cf_pool_destroy(cf_pool_t **self_p);

#endif
