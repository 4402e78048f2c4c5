/* SPDX-License-Identifier: MIT
 * it_sched: the daemon's CPU scheduling policy (--sched). By default a daemon
 * started under SCHED_OTHER keeps it in every thread (the loop, the archive writer
 * cf-writer, ZeroMQ's) and runs every thread of its local workers, respawned ones
 * too, under SCHED_BATCH, and still does its work; --sched inherit leaves the workers
 * under SCHED_OTHER; a daemon started with a nice value keeps it everywhere.
 * Threads and workers are read from /proc, as an operator would (`ps -eLo
 * pid,tid,cls,ni`). */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include "cf_msg.h"
#include "harness.h"

/* The parent pid of process pid, from /proc/PID/stat (its comm may hold spaces
 * and parentheses: the fields start after the last ')'). -1 when it is gone. */
static long
ppid_of(long pid)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')');
    long ppid = -1;
    if (!p || sscanf(p + 1, " %*c %ld", &ppid) != 1)
        return -1;
    return ppid;
}

/* Checks the policy and nice value of every thread of process pid; returns how
 * many threads it has. */
static size_t
check_threads(long pid, int want, int nice, const char *what)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/task", pid);
    DIR *dir = opendir(path);
    CHECK(dir, "%s: cannot list %s", what, path);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir))) {
        if (e->d_name[0] == '.')
            continue;
        long tid = strtol(e->d_name, NULL, 10);
        int policy = sched_getscheduler((pid_t)tid);
        CHECK(policy == want, "%s: thread %ld of %ld runs under policy %d, not %d", what, tid, pid,
              policy, want);
        errno = 0;
        int ni = getpriority(PRIO_PROCESS, (id_t)tid); /* a thread's own nice value */
        CHECK(errno == 0 && ni == nice, "%s: thread %ld has nice %d, not %d", what, tid, ni, nice);
        n++;
    }
    closedir(dir);
    return n;
}

/* The daemon's children (its local workers): their pids in pids[0, max), and how
 * many there are. */
static size_t
workers_of(const it_daemon_t *d, long *pids, size_t max)
{
    size_t n = 0;
    DIR *proc = opendir("/proc");
    CHECK(proc, "cannot list /proc");
    struct dirent *e;
    while ((e = readdir(proc))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (*end || pid <= 0 || ppid_of(pid) != d->pid)
            continue;
        if (n < max)
            pids[n] = pid;
        n++;
    }
    closedir(proc);
    return n;
}

/* Checks every thread of the daemon (under `daemon`) and of its children, the
 * local workers (under `workers`); returns how many workers there are. */
static size_t
check_tree(const it_daemon_t *d, int daemon, int workers_policy, int nice, const char *what)
{
    size_t threads = check_threads(d->pid, daemon, nice, what);
    /* the loop, the archive writer, ZeroMQ's I/O thread at least */
    CHECK(threads >= 3, "%s: only %zu daemon threads", what, threads);
    long pids[8];
    size_t n = workers_of(d, pids, 8);
    CHECK(n <= 8, "%s: %zu children", what, n);
    for (size_t i = 0; i < n; i++)
        check_threads(pids[i], workers_policy, nice, what);
    return n;
}

static void
push_one(it_daemon_t *d, const char *url, uint64_t done)
{
    it_push_one(d, url, "Quillwave opened four data centers in Oslo this year.");
    it_wait_stat(d, "cloudfact_articles_done", done, 60);
}

typedef struct {
    it_daemon_t *d;
    int nice;
} start_arg_t;

/* Starts the daemon from a thread of a higher nice value (`nice -n 5 cloudfactd`):
 * on Linux the nice value is per thread and a fork copies the forking thread's, so
 * the daemon starts with it while this program's own thread keeps its own. */
static void *
start_nice(void *arg)
{
    start_arg_t *a = arg;
    CHECK(setpriority(PRIO_PROCESS, 0, a->nice) == 0, "cannot renice a thread");
    it_daemon_start(a->d, 1, NULL);
    return NULL;
}

int
main(void)
{
    /* the daemon inherits this program's policy and nice value (a runner may give
     * it any): start from the default policy, and expect that nice value */
    struct sched_param sp = {0};
    if (sched_getscheduler(0) != SCHED_OTHER && sched_setscheduler(0, SCHED_OTHER, &sp) != 0) {
        printf("skip it_sched: this program cannot run under SCHED_OTHER\n");
        return 0;
    }
    errno = 0;
    int n0 = getpriority(PRIO_PROCESS, 0);
    CHECK(errno == 0, "getpriority");

    it_daemon_t d;
    it_daemon_init(&d);
    it_daemon_start(&d, 2, NULL);
    CHECK(check_tree(&d, SCHED_OTHER, SCHED_BATCH, n0, "default") == 2, "default: not 2 workers");
    CHECK(it_log_count(&d, "runs under SCHED_OTHER, its local workers under SCHED_BATCH") == 1,
          "default: the policy is not logged");
    push_one(&d, "https://example.test/s/1", 1);
    /* a worker that replaces a dead one is spawned under the same policy */
    long victim;
    CHECK(workers_of(&d, &victim, 1) >= 1 && kill((pid_t)victim, SIGKILL) == 0,
          "default: no worker to kill");
    it_wait_stat(&d, "cloudfact_workers_restarted_total", 1, 30);
    it_wait_stat(&d, "cloudfact_workers_ready", 2, 30);
    CHECK(check_tree(&d, SCHED_OTHER, SCHED_BATCH, n0, "respawn") == 2, "respawn: not 2 workers");
    CHECK(it_daemon_stop(&d, SIGTERM, 30) == 0, "default: unclean exit");
    printf("ok   by default the workers (respawned ones too) run under SCHED_BATCH, the "
           "daemon's threads not\n");

    const char *inherit[] = {"--sched", "inherit", NULL};
    it_daemon_start(&d, 2, inherit);
    CHECK(check_tree(&d, SCHED_OTHER, SCHED_OTHER, n0, "inherit") == 2, "inherit: not 2 workers");
    CHECK(it_log_count(&d, "runs under SCHED_OTHER, its local workers under SCHED_OTHER") == 1,
          "inherit: the policy is not logged");
    push_one(&d, "https://example.test/s/2", 2);
    CHECK(it_daemon_stop(&d, SIGTERM, 30) == 0, "inherit: unclean exit");
    printf("ok   --sched inherit leaves the daemon and its workers under SCHED_OTHER\n");

    /* the operator's nice value survives the switch (sched_setscheduler keeps it) */
    start_arg_t a = {&d, n0 + 5 > 19 ? 19 : n0 + 5};
    if (a.nice > n0) {
        pthread_t th;
        CHECK(pthread_create(&th, NULL, start_nice, &a) == 0, "pthread_create");
        pthread_join(th, NULL);
        CHECK(check_tree(&d, SCHED_OTHER, SCHED_BATCH, a.nice, "nice") == 1, "nice: not 1 worker");
        push_one(&d, "https://example.test/s/3", 3);
        CHECK(it_daemon_stop(&d, SIGTERM, 30) == 0, "nice: unclean exit");
        printf("ok   a daemon started at nice %d keeps it in every thread and worker\n", a.nice);
    } else {
        printf("skip the nice case: this program runs at nice %d already\n", n0);
    }

    it_daemon_cleanup(&d);
    return 0;
}
