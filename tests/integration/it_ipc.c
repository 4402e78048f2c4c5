/* SPDX-License-Identifier: MIT
 * it_ipc: the daemon's ipc endpoints, all five (ingest, publish, query, control,
 * workers). A stale socket file (a killed daemon's) is replaced at start; every
 * socket file is mode 0660 (the service's group may connect, others may not); a
 * second daemon given a path that the running one listens on refuses to start
 * (exit 1, naming the path) and the running one keeps it, as is a live socket of
 * another kind; a path that is not a socket is refused (exit 2) and left as it is;
 * a clean stop removes the files. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

enum { EPS = 5 };
static const char *const names[EPS] = {"ingest", "publish", "query", "control", "workers"};

/* A socket file with nobody listening on it, as a killed daemon leaves one. */
static void
stale_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.107s", path);
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    CHECK(fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0, "stale socket %s: %s", path,
          strerror(errno));
    close(fd); /* the file stays */
}

/* Runs a second daemon with the endpoints eps (its own state directory) until it
 * exits: its exit status; its stderr in log. */
static int
run_second(const char *dir, char eps[EPS][300], const char *log)
{
    const char *argv[] = {it_bin("cloudfactd"),
                          "--state-dir",
                          dir,
                          "--ingest",
                          eps[0],
                          "--publish",
                          eps[1],
                          "--query",
                          eps[2],
                          "--control",
                          eps[3],
                          "--worker-endpoint",
                          eps[4],
                          "--workers",
                          "0",
                          "--http",
                          "off",
                          NULL};
    pid_t pid = it_spawn(argv, log, false);
    int st = it_wait_exit(pid, 60, "the second cloudfactd");
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int
main(void)
{
    it_daemon_t a;
    it_daemon_init(&a);
    char path[EPS][300], ep[EPS][300];
    const char *file[EPS] = {"in.sock", "pub.sock", "q.sock", "control.sock", "workers.sock"};
    for (int i = 0; i < EPS; i++) {
        snprintf(path[i], sizeof path[i], "%.200s/%s", a.dir, file[i]);
        snprintf(ep[i], sizeof ep[i], "ipc://%.290s", path[i]);
    }
    snprintf(a.ingest, sizeof a.ingest, "%.63s", ep[0]);
    snprintf(a.publish, sizeof a.publish, "%.63s", ep[1]);
    snprintf(a.query, sizeof a.query, "%.63s", ep[2]);
    snprintf(a.worker_ep, sizeof a.worker_ep, "%s", ep[4]);
    CHECK(strcmp(a.ingest, ep[0]) == 0 && strcmp(a.query, ep[2]) == 0, "paths too long: %s", a.dir);

    /* a killed daemon's socket files: replaced */
    for (int i = 0; i < EPS; i++)
        stale_socket(path[i]);
    const char *extra[] = {"--control", ep[3], NULL};
    it_daemon_start(&a, 0, extra);
    uint64_t id1 = it_push_one(&a, "https://example.test/ipc/1", "Nimbus Cloud opened a region.");
    CHECK(id1 > 0, "not accepted over ipc");
    printf("ok   stale socket files replaced; the daemon answers on them\n");

    for (int i = 0; i < EPS; i++) {
        struct stat st;
        CHECK(lstat(path[i], &st) == 0 && S_ISSOCK(st.st_mode), "%s: no socket file", names[i]);
        CHECK((st.st_mode & 07777) == 0660, "%s: mode %04o, expected 0660", names[i],
              (unsigned)(st.st_mode & 07777));
    }
    printf("ok   every socket file is mode 0660\n");

    /* a second daemon, its own state directory, one of the first one's paths */
    char bdir[] = "/tmp/cf-it-XXXXXX";
    CHECK(mkdtemp(bdir), "mkdtemp: %s", strerror(errno));
    char log[400];
    snprintf(log, sizeof log, "%s/second.log", bdir);
    for (int k = 0; k < EPS; k++) {
        char eps[EPS][300];
        for (int i = 0; i < EPS; i++)
            snprintf(eps[i], sizeof eps[i], "ipc://%s/%s", bdir, file[i]);
        snprintf(eps[k], sizeof eps[k], "%s", ep[k]);
        int st = run_second(bdir, eps, log);
        char *text = it_slurp(log, NULL);
        CHECK(st == 1, "a second daemon on the running one's %s path: exit %d\n%s", names[k], st,
              text);
        char setting[64];
        snprintf(setting, sizeof setting, "cloudfactd: %s: cannot bind", names[k]);
        CHECK(strstr(text, "another process is listening") && strstr(text, path[k]) &&
                  strstr(text, setting),
              "the refusal does not name the %s setting and path:\n%s", names[k], text);
        free(text);
        struct stat sst;
        CHECK(lstat(path[k], &sst) == 0 && S_ISSOCK(sst.st_mode), "%s: the file is gone", names[k]);
    }
    uint64_t id2 =
        it_push_one(&a, "https://example.test/ipc/2", "Stratus Cloud has 900 customers.");
    CHECK(id2 > id1, "the first daemon no longer takes articles");
    it_wait_stat(&a, "cloudfact_articles_accepted_total", 2, 10); /* its query socket answers */
    printf("ok   a second daemon on any of its paths refuses to start; the first keeps them\n");

    /* a path that is not a socket: refused, the file kept */
    char eps[EPS][300], plain[300];
    for (int i = 0; i < EPS; i++)
        snprintf(eps[i], sizeof eps[i], "ipc://%s/%s", bdir, file[i]);
    snprintf(plain, sizeof plain, "%s/notes.txt", bdir);
    FILE *f = fopen(plain, "w");
    CHECK(f && fputs("keep me\n", f) >= 0 && fclose(f) == 0, "write %s", plain);
    snprintf(eps[0], sizeof eps[0], "ipc://%.280s", plain);
    int st = run_second(bdir, eps, log);
    char *text = it_slurp(log, NULL);
    CHECK(st == 2 && strstr(text, "is not a socket"), "a regular file as ingest path: exit %d\n%s",
          st, text);
    free(text);
    text = it_slurp(plain, NULL);
    CHECK(strcmp(text, "keep me\n") == 0, "the file at the path was changed: '%s'", text);
    free(text);
    printf("ok   a path that is not a socket: refused, the file left as it is\n");

    /* a live socket of another kind (datagram): no stream connect can tell whether
     * it is in use, and libzmq would unlink it: refused, left in place */
    char dgram_path[300];
    snprintf(dgram_path, sizeof dgram_path, "%.200s/dgram.sock", bdir);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%.107s", dgram_path);
    int dfd = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(dfd >= 0 && bind(dfd, (struct sockaddr *)&sa, sizeof sa) == 0, "dgram: %s",
          strerror(errno));
    snprintf(eps[0], sizeof eps[0], "ipc://%.280s", dgram_path);
    st = run_second(bdir, eps, log);
    text = it_slurp(log, NULL);
    CHECK(st == 1 && strstr(text, "cannot be told"),
          "a datagram socket as ingest path: exit %d\n%s", st, text);
    free(text);
    struct stat dst;
    CHECK(lstat(dgram_path, &dst) == 0 && S_ISSOCK(dst.st_mode),
          "the datagram socket file is gone");
    close(dfd);
    printf("ok   a live socket of another kind: refused, left in place\n");

    int ws = it_daemon_stop(&a, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    for (int i = 0; i < EPS; i++)
        CHECK(access(path[i], F_OK) != 0 && errno == ENOENT, "%s: %s left after the stop", names[i],
              path[i]);
    printf("ok   a clean stop removes every socket file\n");

    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", bdir);
    CHECK(system(cmd) == 0, "%s", cmd);
    it_daemon_cleanup(&a);
    printf("it_ipc: all checks passed\n");
    return 0;
}
