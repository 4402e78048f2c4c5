/* SPDX-License-Identifier: MIT
 * it_sub: `cloudfact sub --from-start --resume FILE` joins history and the live
 * stream without a gap or a duplicate, through the worst moments. (1) The daemon
 * is SIGKILLed in the middle of a push and restarted while the subscriber runs:
 * what it printed is exactly the archive's facts, in seq order, once each. (2) The
 * subscriber is SIGKILLed (no flush at exit: only its once-a-second resume file
 * counts), facts are archived while it is away, it is started again with the same
 * FILE while more are pushed; then SIGTERM: exit 0. The union of both runs'
 * output is exactly the archive's facts, in order, once each. CF_TEST_SCALE
 * scales the pushes. Waits poll the files and the archive, never a sleep. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cf_client.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

extern char **environ;

static const char *const companies[] = {
    "Amazon Web Services", "Microsoft Azure", "Google Cloud", "IBM", "Oracle",
    "Alibaba Cloud",       "Tencent Cloud"};
static const char *const cities[] = {"Frankfurt", "Oslo",   "Sydney", "Toronto",
                                     "Mumbai",    "Dublin", "Seoul",  "Madrid"};

static cf_article_t *
make_batch(const char *name, size_t n)
{
    cf_article_t *v = calloc(n, sizeof *v);
    for (size_t i = 0; i < n; i++) {
        char url[128], body[600];
        snprintf(url, sizeof url, "https://example.test/sub/%s/%zu", name, i);
        snprintf(body, sizeof body,
                 "%s said on Monday that it will open %zu new data centers in %s. The company "
                 "now has %zu,%03zu customers, and its revenue rose %zu percent to $%zu "
                 "million in the quarter.",
                 companies[i % 7], 2 + i % 9, cities[(i / 7) % 8], 10 + i % 90, i % 1000,
                 5 + i % 40, 100 + i);
        v[i].url = cf_strdup(url);
        v[i].title = cf_strdup("Cloud news");
        v[i].body = cf_strdup(body);
        v[i].body_len = strlen(body);
    }
    return v;
}

static void
free_batch(cf_article_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        cf_article_clear(&v[i]);
    free(v);
}

typedef struct push_job {
    const it_daemon_t *d;
    cf_article_t *arts;
    size_t n;
    int *status;
    uint64_t *ids;
} push_job_t;

static void *
push_thread(void *arg)
{
    push_job_t *j = arg;
    it_push_with(j->d, j->arts, j->n, j->status, j->ids, 500,
                 1); /* gives up fast on a dead daemon */
    return NULL;
}

static void
push_all(const it_daemon_t *d, cf_article_t *arts, size_t n)
{
    int *st = calloc(n, sizeof *st);
    uint64_t *ids = calloc(n, sizeof *ids);
    it_push(d, arts, n, st, ids);
    for (size_t i = 0; i < n; i++)
        CHECK(st[i] == CF_OK || st[i] == CF_EDUP, "%s: %s", arts[i].url, cf_msg_status_name(st[i]));
    free(st);
    free(ids);
}

static void
wait_done(it_daemon_t *d, int64_t articles)
{
    for (int i = 0; i < 6000; i++) {
        if (it_sql_int(d, "SELECT count(*) FROM articles WHERE state = 'done'") == articles)
            return;
        usleep(50 * 1000);
    }
    it_fail("articles did not all get done");
}

/* The running subscriber, killed if the test fails (it_fail exits). */
static pid_t sub_pid;

static void
kill_sub(void)
{
    if (sub_pid > 0) {
        kill(sub_pid, SIGKILL);
        waitpid(sub_pid, NULL, 0);
    }
}

static pid_t
start_sub(const it_daemon_t *d, const char *resume, const char *out, const char *errlog)
{
    const char *argv[] = {
        it_bin("cloudfact"), "sub",      "--endpoint", d->publish, "--query", d->query,
        "--from-start",      "--resume", resume,       NULL};
    char *args[16];
    for (size_t i = 0; argv[i]; i++)
        args[i] = cf_strdup(argv[i]);
    args[9] = NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errlog, O_WRONLY | O_CREAT | O_APPEND,
                                     0644);
    pid_t pid;
    int rc = posix_spawn(&pid, args[0], &fa, NULL, args, environ);
    posix_spawn_file_actions_destroy(&fa);
    for (size_t i = 0; args[i]; i++)
        free(args[i]);
    CHECK(rc == 0, "spawn cloudfact sub: %s", strerror(rc));
    sub_pid = pid;
    return pid;
}

/* The seqs of the fact lines of a sub output file, in order (a partial last line,
 * being written, is left out). */
static uint64_t *
read_seqs(const char *path, size_t *n)
{
    FILE *f = fopen(path, "r");
    uint64_t *v = NULL;
    size_t cap = 0;
    *n = 0;
    if (!f)
        return NULL;
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, f)) > 0) {
        if (line[len - 1] != '\n')
            break;
        json_error_t je;
        json_t *o = json_loads(line, 0, &je);
        CHECK(o && json_is_integer(json_object_get(o, "seq")), "%s: not a fact line: %s", path,
              line);
        if (*n == cap) {
            cap = cap ? cap * 2 : 1024;
            v = realloc(v, cap * sizeof *v);
        }
        v[(*n)++] = (uint64_t)json_integer_value(json_object_get(o, "seq"));
        json_decref(o);
    }
    free(line);
    fclose(f);
    return v;
}

static uint64_t
read_resume(const char *path)
{
    FILE *f = fopen(path, "r");
    unsigned long long v = 0;
    if (f) {
        if (fscanf(f, "%llu", &v) != 1)
            v = 0;
        fclose(f);
    }
    return v;
}

/* Waits until the outputs together hold as many facts as the archive. */
static void
wait_printed(it_daemon_t *d, const char *const *outs, size_t nouts, pid_t sub)
{
    int64_t want = 0;
    size_t have = 0;
    for (int i = 0; i < 3000; i++) {
        want = it_sql_int(d, "SELECT count(*) FROM facts");
        have = 0;
        for (size_t k = 0; k < nouts; k++) {
            size_t n;
            free(read_seqs(outs[k], &n));
            have += n;
        }
        if ((int64_t)have >= want)
            return;
        int st;
        CHECK(waitpid(sub, &st, WNOHANG) == 0, "cloudfact sub exited (0x%x)", st);
        usleep(50 * 1000);
    }
    it_fail("the subscriber printed %zu facts, the archive has %lld", have, (long long)want);
}

/* The outputs, concatenated, are exactly the archive's seqs in order, and each fact
 * line agrees with its row. */
static void
check_union(const it_daemon_t *d, const char *const *outs, size_t nouts)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    CHECK(sqlite3_open_v2(d->db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open");
    CHECK(sqlite3_prepare_v2(db, "SELECT seq FROM facts ORDER BY seq", -1, &s, NULL) == SQLITE_OK,
          "prepare");
    size_t k = 0, i = 0, total = 0;
    size_t n = 0;
    uint64_t *v = read_seqs(outs[0], &n);
    while (sqlite3_step(s) == SQLITE_ROW) {
        uint64_t seq = (uint64_t)sqlite3_column_int64(s, 0);
        while (i == n && k + 1 < nouts) {
            free(v);
            v = read_seqs(outs[++k], &n);
            i = 0;
        }
        CHECK(i < n, "archived fact %llu was never printed", (unsigned long long)seq);
        CHECK(v[i] == seq, "printed seq %llu where the archive has %llu (output %zu, line %zu)",
              (unsigned long long)v[i], (unsigned long long)seq, k + 1, i + 1);
        i++;
        total++;
    }
    CHECK(i == n && k + 1 == nouts, "printed more lines than the archive has facts");
    free(v);
    sqlite3_finalize(s);
    sqlite3_close(db);
    printf("     %zu facts printed, in seq order, each once\n", total);
}

int
main(void)
{
    size_t n = (size_t)(2000 * it_scale());
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
    srand(seed);
    printf("seed %u, %zu articles per batch\n", seed, n);
    atexit(kill_sub);
    it_daemon_t d;
    it_daemon_init(&d);
    const char *extra[] = {"--max-attempts", "20", "--log-level", "info", NULL};
    it_daemon_start(&d, 2, extra);
    char resume[320], out1[320], out2[320], errlog[320];
    snprintf(resume, sizeof resume, "%s/sub.seq", d.dir);
    snprintf(out1, sizeof out1, "%s/sub1.jsonl", d.dir);
    snprintf(out2, sizeof out2, "%s/sub2.jsonl", d.dir);
    snprintf(errlog, sizeof errlog, "%s/sub.err", d.dir);

    /* some history before the subscriber starts */
    cf_article_t *h = make_batch("h", n / 4);
    push_all(&d, h, n / 4);
    wait_done(&d, (int64_t)(n / 4));
    pid_t sub = start_sub(&d, resume, out1, errlog);

    /* (1) SIGKILL the daemon mid-push, restart it, push the rest */
    cf_article_t *a = make_batch("a", n);
    int *st = calloc(n, sizeof *st);
    uint64_t *ids = calloc(n, sizeof *ids);
    push_job_t job = {&d, a, n, st, ids};
    pthread_t t;
    /* the count before the push: read after it started, it could already hold most of
     * the batch, and a target above what the push can reach waited forever */
    uint64_t base = it_stat(&d, "cloudfact_articles_accepted_total");
    uint64_t target = base + n / 5 + (uint64_t)rand() % (n / 2); /* < base + n */
    pthread_create(&t, NULL, push_thread, &job);
    for (int i = 0; i < 60000 && it_stat(&d, "cloudfact_articles_accepted_total") < target; i++)
        usleep(2000);
    CHECK(it_stat(&d, "cloudfact_articles_accepted_total") >= target,
          "the push never reached %llu accepted articles", (unsigned long long)target);
    it_daemon_stop(&d, SIGKILL, 30); /* its ports stay held for the restart */
    pthread_join(t, NULL);
    it_daemon_start(&d, 2, extra);
    push_all(&d, a, n);
    wait_done(&d, (int64_t)(n / 4 + n));
    const char *outs1[] = {out1};
    wait_printed(&d, outs1, 1, sub);
    check_union(&d, outs1, 1);
    printf("ok   daemon SIGKILLed mid-push and restarted: the subscriber printed the archive "
           "exactly\n");

    /* (2) SIGKILL the subscriber once its resume file caught up; archive more while
     * it is away; resume it while pushing more */
    uint64_t head = (uint64_t)it_sql_int(&d, "SELECT max(seq) FROM facts");
    for (int i = 0; i < 3000 && read_resume(resume) != head; i++)
        usleep(20 * 1000);
    CHECK(read_resume(resume) == head, "the resume file holds %llu, not the head %llu",
          (unsigned long long)read_resume(resume), (unsigned long long)head);
    kill(sub, SIGKILL);
    waitpid(sub, NULL, 0);
    sub_pid = 0;
    cf_article_t *b = make_batch("b", n / 2);
    push_all(&d, b, n / 2);
    wait_done(&d, (int64_t)(n / 4 + n + n / 2));
    sub = start_sub(&d, resume, out2, errlog);
    cf_article_t *c = make_batch("c", n / 2);
    push_all(&d, c, n / 2);
    wait_done(&d, (int64_t)(n / 4 + 2 * n));
    const char *outs2[] = {out1, out2};
    wait_printed(&d, outs2, 2, sub);
    kill(sub, SIGTERM);
    int ws;
    waitpid(sub, &ws, 0);
    sub_pid = 0;
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfact sub after SIGTERM: 0x%x", ws);
    head = (uint64_t)it_sql_int(&d, "SELECT max(seq) FROM facts");
    CHECK(read_resume(resume) == head, "after SIGTERM the resume file holds %llu, not %llu",
          (unsigned long long)read_resume(resume), (unsigned long long)head);
    check_union(&d, outs2, 2);
    printf("ok   subscriber SIGKILLed and resumed: both runs together printed the archive "
           "exactly; SIGTERM exits 0 with the resume file at the head\n");

    ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "daemon exit 0x%x", ws);
    free_batch(h, n / 4);
    free_batch(a, n);
    free_batch(b, n / 2);
    free_batch(c, n / 2);
    free(st);
    free(ids);
    it_daemon_cleanup(&d);
    printf("it_sub: all checks passed\n");
    return 0;
}
