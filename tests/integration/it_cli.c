/* SPDX-License-Identifier: MIT
 * it_cli: the command line as a user runs it, against the real daemon.
 * `cloudfact push` of the example articles while `cloudfact sub` prints the
 * stream: the facts printed are the facts `cloudfact extract` finds in the same
 * files (one extractor behind push, worker and extract); exit statuses for
 * duplicates, --strict, bad JSON Lines, an unreachable daemon and a file that
 * is not UTF-8; SIGTERM ends `sub` with status 0. */
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "harness.h"

extern char **environ;

static char dir[256];

/* Runs argv with stdout and stderr to files; returns the pid (wait=false) or the
 * exit status (wait=true). */
static int
run(bool wait, const char *out, const char *err, const char *const *argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    CHECK(rc == 0, "cannot run %s", argv[0]);
    if (!wait)
        return pid;
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status), "%s %s died (status 0x%x)", argv[0], argv[1], status);
    return WEXITSTATUS(status);
}

/* Runs argv with stdin from fd (stdout and stderr to files); returns the pid. */
static pid_t
run_stdin(int fd, const char *out, const char *err, const char *const *argv)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&fa, fd, STDIN_FILENO);
    pid_t pid;
    int rc = posix_spawn(&pid, argv[0], &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    CHECK(rc == 0, "cannot run %s", argv[0]);
    return pid;
}

static char *
tmp(const char *name)
{
    static char paths[16][300];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, 300, "%s/%s", dir, name);
    return p;
}

/* "type|subject|object|value|evidence|start|end" lines, sorted, from JSON Lines. */
static json_t *
fact_keys(const char *jsonl, size_t *count)
{
    json_t *keys = json_array();
    const char *line = jsonl;
    *count = 0;
    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        json_error_t jerr;
        json_t *o = json_loadb(line, len, 0, &jerr);
        CHECK(json_is_object(o), "not a JSON object: %.*s (%s)", (int)len, line, jerr.text);
        char *val = json_dumps(json_object_get(o, "value"), JSON_ENCODE_ANY);
        char key[8192];
        snprintf(key, sizeof key, "%s|%s|%s|%s|%s|%lld|%lld",
                 json_string_value(json_object_get(o, "type")),
                 json_string_value(json_object_get(o, "subject")),
                 json_is_null(json_object_get(o, "object"))
                     ? "-"
                     : json_string_value(json_object_get(o, "object")),
                 val, json_string_value(json_object_get(o, "evidence")),
                 json_integer_value(json_object_get(o, "evidence_start")),
                 json_integer_value(json_object_get(o, "evidence_end")));
        free(val);
        json_array_append_new(keys, json_string(key));
        json_decref(o);
        (*count)++;
        line = nl ? nl + 1 : line + len;
    }
    return keys;
}

static int
cmp_json_str(const void *a, const void *b)
{
    return strcmp(json_string_value(*(json_t *const *)a), json_string_value(*(json_t *const *)b));
}

static void
sorted(json_t *arr, json_t ***out)
{
    size_t n = json_array_size(arr);
    *out = calloc(n ? n : 1, sizeof **out);
    for (size_t i = 0; i < n; i++)
        (*out)[i] = json_array_get(arr, i);
    qsort(*out, n, sizeof **out, cmp_json_str);
}

int
main(void)
{
    const char *src = getenv("CF_SOURCE_DIR");
    CHECK(src, "CF_SOURCE_DIR is not set (run through ctest)");
    char examples[512];
    snprintf(examples, sizeof examples, "%s/examples/articles", src);

    it_daemon_t d;
    it_daemon_init(&d);
    snprintf(dir, sizeof dir, "%s", d.dir);
    it_daemon_start(&d, 1, NULL);
    char cloudfact[512];
    snprintf(cloudfact, sizeof cloudfact, "%s", it_bin("cloudfact"));

    /* what the extractor finds in the examples, without a daemon */
    char glob_cmd[1200];
    snprintf(glob_cmd, sizeof glob_cmd, "'%s' extract '%s'/*.txt > '%s' 2> '%s'", cloudfact,
             examples, tmp("extract.jsonl"), tmp("extract.err"));
    CHECK(system(glob_cmd) == 0, "cloudfact extract failed: %s",
          it_slurp(tmp("extract.err"), NULL));
    size_t nexpected;
    char *expected_text = it_slurp(tmp("extract.jsonl"), NULL);
    json_t *expected = fact_keys(expected_text, &nexpected);
    CHECK(nexpected > 0, "the example articles yield no facts");
    char count[32];
    snprintf(count, sizeof count, "%zu", nexpected);

    /* sub first; wait until the daemon sees its subscription (no slow joiner) */
    uint64_t subs0 = it_stat(&d, "cloudfact_subscriptions");
    const char *sub_argv[] = {cloudfact, "sub", "--endpoint", d.publish, "--count", count, NULL};
    pid_t sub = run(false, tmp("sub.jsonl"), tmp("sub.err"), sub_argv);
    /* and one for the events, named without the dot */
    const char *ev_argv[] = {cloudfact, "sub", "--endpoint", d.publish, "article", NULL};
    pid_t ev_sub = run(false, tmp("events.jsonl"), tmp("events.err"), ev_argv);
    it_wait_stat(&d, "cloudfact_subscriptions", subs0 + 2, 30);

    const char *push_argv[] = {cloudfact, "push", "--endpoint", d.ingest, examples, NULL};
    int rc = run(true, tmp("push.out"), tmp("push.err"), push_argv);
    char *perr = it_slurp(tmp("push.err"), NULL);
    CHECK(rc == 0, "push exited %d: %s", rc, perr);
    CHECK(strstr(perr, "accepted 3, duplicate 0, invalid 0"), "push summary: %s", perr);
    free(perr);

    int status;
    for (int i = 0; i < 600 && waitpid(sub, &status, WNOHANG) == 0; i++)
        usleep(100 * 1000);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sub --count did not finish cleanly");
    size_t ngot;
    char *got_text = it_slurp(tmp("sub.jsonl"), NULL);
    json_t *got = fact_keys(got_text, &ngot);
    CHECK(ngot == nexpected, "sub printed %zu facts, extract %zu", ngot, nexpected);
    json_t **a, **b;
    sorted(expected, &a);
    sorted(got, &b);
    for (size_t i = 0; i < ngot; i++)
        CHECK(strcmp(json_string_value(a[i]), json_string_value(b[i])) == 0,
              "push+sub and extract differ:\n extract: %s\n sub:     %s",
              json_string_value(a[i]), json_string_value(b[i]));
    free(a);
    free(b);
    /* every article's done event, and nothing else */
    char *events = NULL;
    for (int i = 0; i < 600; i++, usleep(50 * 1000)) {
        free(events);
        events = it_slurp(tmp("events.jsonl"), NULL);
        size_t lines = 0;
        for (const char *c = events; (c = strchr(c, '\n')); c++)
            lines++;
        if (lines >= 3)
            break;
    }
    kill(ev_sub, SIGTERM);
    CHECK(WIFEXITED(status = it_wait_exit(ev_sub, 30, "sub article")) && WEXITSTATUS(status) == 0,
          "sub article: status 0x%x", status);
    free(events);
    events = it_slurp(tmp("events.jsonl"), NULL);
    size_t nev = 0, nlines = 0;
    for (const char *c = events; (c = strstr(c, "{\"topic\":\"article.done\",")); c++)
        nev++;
    for (const char *c = events; (c = strchr(c, '\n')); c++)
        nlines++;
    CHECK(nev == 3 && nlines == 3, "sub article printed %zu lines, %zu done events of 3: %s",
          nlines, nev, events);
    free(events);
    printf("ok   push + sub print the facts extract finds (%zu); `sub article` the events\n", ngot);

    /* again: duplicates are safely stored (0); --strict makes them fail (1) */
    rc = run(true, tmp("push2.out"), tmp("push2.err"), push_argv);
    perr = it_slurp(tmp("push2.err"), NULL);
    CHECK(rc == 0 && strstr(perr, "duplicate 3"), "second push: %d %s", rc, perr);
    free(perr);
    const char *strict_argv[] = {cloudfact, "push", "--strict", "--endpoint", d.ingest, examples,
                                 NULL};
    CHECK(run(true, tmp("push3.out"), tmp("push3.err"), strict_argv) == 1,
          "--strict with duplicates should exit 1");
    printf("ok   duplicates exit 0, with --strict 1\n");

    /* JSON Lines: a good line, a broken one, one without a body */
    FILE *f = fopen(tmp("items.jsonl"), "w");
    fprintf(f, "{\"url\": \"https://example.test/j1\", \"title\": \"Stratus\", \"body\": "
               "\"Stratus Cloud opened a data center in Lisbon.\", \"source\": \"feed\"}\n");
    fprintf(f, "{\"url\": \"https://example.test/j2\", \"title\": \n");
    fprintf(f, "{\"url\": \"https://example.test/j3\", \"title\": \"no body\"}\n");
    fclose(f);
    const char *jsonl_argv[] = {cloudfact, "push", "--jsonl", "--endpoint", d.ingest,
                                tmp("items.jsonl"), NULL};
    rc = run(true, tmp("push4.out"), tmp("push4.err"), jsonl_argv);
    perr = it_slurp(tmp("push4.err"), NULL);
    CHECK(rc == 1, "bad JSON Lines should exit 1 (got %d)", rc);
    CHECK(strstr(perr, "items.jsonl:2:") && strstr(perr, "items.jsonl:3:") &&
              strstr(perr, "accepted 1"),
          "bad lines not reported by number: %s", perr);
    free(perr);
    /* a byte order mark (Windows editors write one) opens the input, not the first
     * object or title; a key given twice, a \u0000 and a mark mid-stream are refused
     * in words, not in jansson's flag names or an invisible character */
    f = fopen(tmp("bom.jsonl"), "w");
    fprintf(f, "\xef\xbb\xbf{\"url\": \"https://example.test/b1\", \"title\": \"Marked\", "
               "\"body\": \"Text.\"}\n");
    fprintf(f, "{\"url\": \"https://example.test/b2\", \"title\": \"Twice\", \"body\": \"One.\", "
               "\"body\": \"Two.\"}\n");
    fprintf(
        f, "{\"url\": \"https://example.test/b3\", \"title\": \"Nul\", \"body\": \"a\\u0000b\"}\n");
    fprintf(f, "\xef\xbb\xbf{\"url\": \"https://example.test/b4\", \"title\": \"Late\", "
               "\"body\": \"Text.\"}\n");
    fclose(f);
    const char *bom_argv[] = {cloudfact, "push",           "--jsonl", "--endpoint",
                              d.ingest,  tmp("bom.jsonl"), NULL};
    rc = run(true, tmp("push5.out"), tmp("push5.err"), bom_argv);
    perr = it_slurp(tmp("push5.err"), NULL);
    char bom_want[400];
    snprintf(bom_want, sizeof bom_want, "cloudfact: push: %s:2: not JSON", tmp("bom.jsonl"));
    CHECK(rc == 1 && strstr(perr, "accepted 1,") && strstr(perr, bom_want) &&
              strstr(perr, "bom.jsonl:2: not JSON: duplicate object key") &&
              strstr(perr, "bom.jsonl:3: not JSON: a string holds \\u0000, which no article") &&
              strstr(perr, "bom.jsonl:4: not JSON: a byte order mark (U+FEFF) before the object") &&
              !strstr(perr, "JSON_ALLOW_NUL") && !strstr(perr, ":1:"),
          "JSON Lines with marks, a twice-given key and a NUL: %d %s", rc, perr);
    free(perr);
    f = fopen(tmp("bom.txt"), "w");
    fprintf(f, "\xef\xbb\xbfMarked title\r\nNimbus opened a data center in Bergen.\n");
    fclose(f);
    const char *bomtxt_argv[] = {cloudfact, "push", "--endpoint", d.ingest, tmp("bom.txt"), NULL};
    CHECK(run(true, tmp("push5.out"), tmp("push5.err"), bomtxt_argv) == 0, "push bom.txt: %s",
          it_slurp(tmp("push5.err"), NULL));
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE (url = 'https://example.test/b1'"
                         " AND title = 'Marked') OR (substr(url, -8) = '/bom.txt'"
                         " AND title = 'Marked title')") == 2,
          "a byte order mark stayed in a title");
    printf("ok   bad JSON Lines reported with their line numbers, exit 1; byte order marks\n");

    /* --source and --published fill what a JSON line leaves out */
    f = fopen(tmp("defaults.jsonl"), "w");
    fprintf(f, "{\"url\": \"https://example.test/j4\", \"title\": \"Cirrus\", \"body\": "
               "\"Cirrus Systems opened a data center in Porto.\"}\n");
    fprintf(f, "{\"url\": \"https://example.test/j5\", \"title\": \"Cirrus\", \"body\": "
               "\"Cirrus Systems opened a data center in Faro.\", \"source\": \"own\"}\n");
    fclose(f);
    const char *defaults_argv[] = {
        cloudfact,     "push",       "--jsonl",    "--source", "opt-feed",
        "--published", "2016-03-01", "--endpoint", d.ingest,   tmp("defaults.jsonl"),
        NULL};
    rc = run(true, tmp("push6.out"), tmp("push6.err"), defaults_argv);
    CHECK(rc == 0, "push --jsonl --source: %d %s", rc, it_slurp(tmp("push6.err"), NULL));
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE url = 'https://example.test/j4'"
                         " AND source = 'opt-feed' AND published = '2016-03-01'") == 1,
          "--source/--published not applied to a line without them");
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE url = 'https://example.test/j5'"
                         " AND source = 'own'") == 1,
          "--source overrode a line's own source");
    printf("ok   --source and --published fill what JSON lines leave out\n");

    /* a tree with a space in a file name, a link loop and a link out of the tree: the
     * article is pushed once, under a percent-encoded file:// URL */
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "mkdir -p '%s' && printf 'Nimbus news\\nNimbus opened a data center in Oslo.\\n'"
             " > '%s/my article.txt' && ln -s . '%s/self' && ln -s .. '%s/up'",
             tmp("tree"), tmp("tree"), tmp("tree"), tmp("tree"));
    CHECK(system(cmd) == 0, "cannot make the tree: %s", cmd);
    const char *tree_argv[] = {cloudfact, "push", "--endpoint", d.ingest, tmp("tree"), NULL};
    rc = run(true, tmp("push7.out"), tmp("push7.err"), tree_argv);
    perr = it_slurp(tmp("push7.err"), NULL);
    CHECK(rc == 0 && strstr(perr, "accepted 1, duplicate 0"), "tree push: %d %s", rc, perr);
    CHECK(strstr(perr, "self: a symbolic link to a directory; not followed") &&
              strstr(perr, "up: a symbolic link to a directory; not followed"),
          "links to directories not reported: %s", perr);
    free(perr);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE substr(url, 1, 8) = 'file:///'"
                         " AND substr(url, -22) = '/tree/my%20article.txt'") == 1,
          "no article under a percent-encoded file:// URL");
    printf("ok   a tree with link loops: each article once, file:// URLs percent-encoded\n");

    /* SIGINT while push reads standard input: what was sent is stored, and the run ends
     * with status 1 and says so, not as a complete input */
    int pfd[2];
    CHECK(pipe(pfd) == 0, "pipe");
    const char *stdin_argv[] = {cloudfact, "push", "--jsonl", "--endpoint", d.ingest, "-", NULL};
    pid_t pusher = run_stdin(pfd[0], tmp("push8.out"), tmp("push8.err"), stdin_argv);
    close(pfd[0]);
    const char *line = "{\"url\": \"https://example.test/j6\", \"title\": \"Stratus\", "
                       "\"body\": \"Stratus Cloud opened a data center in Braga.\"}\n";
    CHECK(write(pfd[1], line, strlen(line)) == (ssize_t)strlen(line), "write to push");
    for (int i = 0; i < 300 && it_sql_int(&d, "SELECT count(*) FROM articles WHERE url ="
                                              " 'https://example.test/j6'") == 0;
         i++)
        usleep(20000);
    usleep(100000); /* push is back in its read */
    kill(pusher, SIGINT);
    int pst = it_wait_exit(pusher, 30, "push after SIGINT");
    close(pfd[1]); /* the input never ended */
    perr = it_slurp(tmp("push8.err"), NULL);
    CHECK(WIFEXITED(pst) && WEXITSTATUS(pst) == 1, "interrupted push exited 0x%x: %s", pst, perr);
    CHECK(strstr(perr, "interrupted") && strstr(perr, "accepted 1"), "interrupted push: %s", perr);
    free(perr);
    printf("ok   SIGINT while push reads its input: exit 1, interrupted, what was sent stored\n");

    /* nobody listening: unanswered, exit 1 */
    const char *dead_argv[] = {cloudfact, "push", "--endpoint", "tcp://127.0.0.1:9", "--timeout",
                               "100", examples, NULL};
    rc = run(true, tmp("push5.out"), tmp("push5.err"), dead_argv);
    perr = it_slurp(tmp("push5.err"), NULL);
    CHECK(rc == 1 && strstr(perr, "unanswered 3"), "unreachable daemon: %d %s", rc, perr);
    free(perr);

    /* a 6 MiB body makes a message the daemon drops with the connection: push says
     * invalid at once, naming the limit, instead of resending it unanswered */
    f = fopen(tmp("huge.txt"), "w");
    fputs("A huge article\n", f);
    for (int i = 0; i < 6 * 1024; i++)
        fprintf(f, "%01023d\n", i);
    fclose(f);
    const char *huge_argv[] = {cloudfact,   "push", "--endpoint",    d.ingest,
                               "--timeout", "200",  tmp("huge.txt"), NULL};
    rc = run(true, tmp("push6.out"), tmp("push6.err"), huge_argv);
    perr = it_slurp(tmp("push6.err"), NULL);
    CHECK(rc == 1 && strstr(perr, "over the daemon's message limit of 5242880") &&
              strstr(perr, "invalid 1") && strstr(perr, "unanswered 0"),
          "a 6 MiB body: %d %s", rc, perr);
    free(perr);
    /* pointed at the query endpoint, which answers with its own errors: said */
    const char *wrong_argv[] = {cloudfact,   "push", "--endpoint", d.query,
                                "--timeout", "100",  examples,     NULL};
    rc = run(true, tmp("push7.out"), tmp("push7.err"), wrong_argv);
    perr = it_slurp(tmp("push7.err"), NULL);
    CHECK(rc == 1 && strstr(perr, "is --endpoint the ingest endpoint?"),
          "push to the query endpoint: %d %s", rc, perr);
    free(perr);

    /* extract: a file that is not UTF-8 is reported and skipped, exit 1 */
    f = fopen(tmp("latin1.txt"), "w");
    fprintf(f, "Caf\xe9 news\nThe caf\xe9 opened.\n");
    fclose(f);
    char ex_file[600];
    snprintf(ex_file, sizeof ex_file, "%s/01_azure_region.txt", examples);
    const char *ex_argv[] = {cloudfact, "extract", tmp("latin1.txt"), ex_file, NULL};
    rc = run(true, tmp("ex.out"), tmp("ex.err"), ex_argv);
    char *eerr = it_slurp(tmp("ex.err"), NULL), *eout = it_slurp(tmp("ex.out"), NULL);
    CHECK(rc == 1 && strstr(eerr, "latin1.txt") && strstr(eerr, "UTF-8"),
          "non-UTF-8 file: %d %s", rc, eerr);
    CHECK(strstr(eout, "\"article\":\"01_azure_region.txt\""), "the good file was not extracted");
    free(eerr);
    free(eout);
    printf("ok   unreachable daemon and non-UTF-8 input: exit 1 with the reason\n");

    /* extract reads files of up to 64 MiB: one of exactly that is read (and then
     * refused for its NULs: the files are sparse), one byte more is refused unread */
    const size_t mib64 = (size_t)64 * 1024 * 1024;
    const char *big[] = {tmp("big_at_limit.txt"), tmp("big_over_limit.txt")};
    for (int k = 0; k < 2; k++) {
        int fd = open(big[k], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0 && ftruncate(fd, (off_t)(mib64 + (size_t)k)) == 0, "cannot make %s", big[k]);
        close(fd);
    }
    const char *big_argv[] = {cloudfact, "extract", big[0], ex_file, big[1], NULL};
    rc = run(true, tmp("big.out"), tmp("big.err"), big_argv);
    eerr = it_slurp(tmp("big.err"), NULL);
    eout = it_slurp(tmp("big.out"), NULL);
    CHECK(rc == 1 && strstr(eerr, "big_at_limit.txt: not UTF-8 text; skipped") &&
              strstr(eerr, "big_over_limit.txt: larger than 64 MiB; skipped"),
          "64 MiB limit: %d %s", rc, eerr);
    CHECK(strstr(eout, "\"article\":\"01_azure_region.txt\""),
          "the file between two large ones was not extracted");
    free(eerr);
    free(eout);
    unlink(big[0]);
    unlink(big[1]);
    printf("ok   extract reads files of up to 64 MiB and refuses larger ones\n");

    /* extract into a file: lines are written in blocks of several files, and none
     * is lost around skipped files, at the end or across blocks (the output is far
     * more than one block: 120 copies of one file's facts) */
    const char *one_argv[] = {cloudfact, "extract", ex_file, NULL};
    CHECK(run(true, tmp("one.out"), tmp("one.err"), one_argv) == 0, "extract of one file failed");
    char *one = it_slurp(tmp("one.out"), NULL);
    size_t one_len = strlen(one);
    CHECK(one_len > 0, "extract found no fact in %s", ex_file);
    enum { COPIES = 120 };
    const char *many_argv[COPIES + 6];
    size_t na = 0;
    many_argv[na++] = cloudfact;
    many_argv[na++] = "extract";
    many_argv[na++] = tmp("latin1.txt");
    for (int k = 0; k < COPIES; k++) {
        many_argv[na++] = ex_file;
        if (k == COPIES / 2)
            many_argv[na++] = dir; /* a directory: a read error, skipped */
    }
    many_argv[na++] = tmp("latin1.txt");
    many_argv[na] = NULL;
    rc = run(true, tmp("many.out"), tmp("many.err"), many_argv);
    char *many = it_slurp(tmp("many.out"), NULL), *merr = it_slurp(tmp("many.err"), NULL);
    CHECK(rc == 1 && strstr(merr, "Is a directory"), "skipped files: %d %s", rc, merr);
    CHECK(one_len * COPIES > 65536, "the test output fits in one block (%zu bytes)", one_len);
    bool same = strlen(many) == one_len * COPIES;
    for (size_t k = 0; same && k < COPIES; k++)
        same = memcmp(many + k * one_len, one, one_len) == 0;
    CHECK(same, "extract of %d copies wrote %zu bytes, not %d x %zu in order", COPIES,
          strlen(many), COPIES, one_len);
    CHECK(!strstr(merr, "files done"), "a progress line on a stderr that is not a terminal");
    free(many);
    free(merr);
    printf("ok   extract writes every file's facts in order around skipped files\n");

    /* output that cannot be written is reported (exit 1); options are checked whole;
     * getopt's own messages name the command as every other message does */
    char full_cmd[2048];
    snprintf(full_cmd, sizeof full_cmd, "'%s' extract '%s' > /dev/full 2> '%s'", cloudfact, ex_file,
             tmp("full.err"));
    int fst = system(full_cmd);
    char *ferr = it_slurp(tmp("full.err"), NULL);
    CHECK(WIFEXITED(fst) && WEXITSTATUS(fst) == 1 &&
              strstr(ferr, "cloudfact: extract: cannot write the output: No space left"),
          "extract to a full disk: 0x%x %s", fst, ferr);
    free(ferr);
    /* and so do the commands that print what the daemon sends */
    const char *const to_full[][3] = {
        {"sub", "--count 1 --from-start --query", d.query},
        {"query", "--endpoint", d.query},
        {"stats", "--json --endpoint", d.query},
    };
    for (size_t i = 0; i < sizeof to_full / sizeof *to_full; i++) {
        if (strcmp(to_full[i][0], "sub") == 0)
            snprintf(full_cmd, sizeof full_cmd,
                     "'%s' sub --endpoint '%s' %s '%s' > /dev/full 2> '%s'", cloudfact, d.publish,
                     to_full[i][1], to_full[i][2], tmp("full.err"));
        else
            snprintf(full_cmd, sizeof full_cmd, "'%s' %s %s '%s' > /dev/full 2> '%s'", cloudfact,
                     to_full[i][0], to_full[i][1], to_full[i][2], tmp("full.err"));
        fst = system(full_cmd);
        ferr = it_slurp(tmp("full.err"), NULL);
        char want[96];
        snprintf(want, sizeof want, "cloudfact: %s: cannot write the output: No space left",
                 to_full[i][0]);
        CHECK(WIFEXITED(fst) && WEXITSTATUS(fst) == 1 && strstr(ferr, want),
              "%s to a full disk: 0x%x '%s'", to_full[i][0], fst, ferr);
        free(ferr);
    }
    const char *const bad_opts[][9] = {
        {cloudfact, "push", "--window", "4294967297", "x", NULL},
        {cloudfact, "push", "--timeout", "abc", "x", NULL},
        {cloudfact, "sub", "--count", "-1", NULL},
        {cloudfact, "push", "--bogus", "x", NULL},
        {cloudfact, "stats", "--endpoint", "bogus://x", NULL},
        /* filters the daemon would match to nothing, silently */
        {cloudfact, "query", "--type", "marketshare", "--endpoint", d.query, NULL},
        {cloudfact, "query", "--status", "Reported", "--endpoint", d.query, NULL},
        {cloudfact, "query", "--subject", "AWS", "--endpoint", d.query, NULL},
        {cloudfact, "query", "--object", "google cloud", "--endpoint", d.query, NULL},
        {cloudfact, "query", "--from", "2016", "--to", "2015-12", "--endpoint", d.query},
        /* prefixes that select nothing sub prints */
        {cloudfact, "sub", "--endpoint", d.publish, "fact.ipo", "revenue", NULL},
        {cloudfact, "sub", "--endpoint", d.publish, "fact.revenu.aws", NULL},
        {cloudfact, "sub", "--endpoint", d.publish, "sys.heartbeat", NULL},
        {cloudfact, "sub", "--endpoint", d.publish, "art", NULL},
        {cloudfact, "sub", "--endpoint", d.publish, "--subject", "AWS", NULL},
    };
    const char *const bad_why[] = {
        "cloudfact: push: --window takes an integer from 1 to 1000",
        "cloudfact: push: --timeout takes an integer",
        "cloudfact: sub: --count takes an integer",
        "cloudfact: push: unrecognized option '--bogus'",
        "cloudfact: stats: 'bogus://x' is not an endpoint",
        "--type: 'marketshare' is not a fact type; the types are market_share, revenue,",
        "--status: 'Reported' is not a status",
        "--subject: 'AWS' is not an entity id",
        "--object: 'google cloud' is not an entity id",
        "--from 2016 starts after --to 2015-12 ends (2016-01-01 > 2015-12-31)",
        "cloudfact: sub: prefix 'revenue' selects nothing: did you mean fact.revenue?",
        "cloudfact: sub: prefix 'fact.revenu.aws' selects nothing: no fact type is 'revenu'",
        "cloudfact: sub: prefix 'sys.heartbeat' selects nothing sub prints",
        "cloudfact: sub: prefix 'art' selects nothing sub prints",
        "cloudfact: sub: --subject: 'AWS' is not an entity id"};
    for (size_t i = 0; i < sizeof bad_opts / sizeof *bad_opts; i++) {
        rc = run(true, tmp("opt.out"), tmp("opt.err"), bad_opts[i]);
        char *oerr = it_slurp(tmp("opt.err"), NULL);
        CHECK(rc == 2 && strstr(oerr, bad_why[i]), "%s %s %s: %d %s", bad_opts[i][1],
              bad_opts[i][2], bad_opts[i][3], rc, oerr);
        free(oerr);
    }
    /* a resume file must hold a seq: "-5" is not 2^64 - 5 */
    f = fopen(tmp("resume.seq"), "w");
    fprintf(f, "-5\n");
    fclose(f);
    const char *resume_argv[] = {cloudfact, "sub",   "--endpoint", d.publish,
                                 "--query", d.query, "--resume",   tmp("resume.seq"),
                                 "--count", "1",     NULL};
    rc = run(true, tmp("resume.out"), tmp("resume.err"), resume_argv);
    char *rerr = it_slurp(tmp("resume.err"), NULL);
    CHECK(rc == 1 && strstr(rerr, "not a resume file"), "resume file -5: %d %s", rc, rerr);
    free(rerr);
    printf("ok   write errors reported; options checked whole; a bad resume file refused\n");

    /* stats asked of the wrong endpoint (ingest answers `invalid: unknown op`) prints no
     * counters and exits 1 */
    const char *stats_wrong[] = {cloudfact, "stats", "--json", "--endpoint", d.ingest, NULL};
    rc = run(true, tmp("sw.out"), tmp("sw.err"), stats_wrong);
    char *sw_out = it_slurp(tmp("sw.out"), NULL), *sw_err = it_slurp(tmp("sw.err"), NULL);
    CHECK(rc == 1 && !*sw_out && strstr(sw_err, "unknown op"),
          "stats on the ingest endpoint: exit %d, out %s, err %s", rc, sw_out, sw_err);
    free(sw_out);
    free(sw_err);
    /* and so do quarantine and query: a reply without an op ends the wait, where they
     * used to wait out their 10 s and say "no answer" */
    const char *const on_ingest[][6] = {{cloudfact, "quarantine", "--endpoint", d.ingest, NULL},
                                        {cloudfact, "query", "--endpoint", d.ingest, NULL}};
    for (size_t i = 0; i < 2; i++) {
        rc = run(true, tmp("sw.out"), tmp("sw.err"), on_ingest[i]);
        sw_err = it_slurp(tmp("sw.err"), NULL);
        CHECK(rc == 1 &&
                  strstr(sw_err, "answered with something that is not a query or control reply "
                                 "(\"unknown op") &&
                  strstr(sw_err, "is it the right endpoint?"),
              "%s on the ingest endpoint: exit %d: %s", on_ingest[i][1], rc, sw_err);
        free(sw_err);
    }

    /* --resume with no start point, stopped before any heartbeat told it where the
     * present is: no position to keep (a 0 would replay the whole archive next time) */
    char nowhere[64];
    snprintf(nowhere, sizeof nowhere, "tcp://127.0.0.1:%d", it_free_port());
    const char *fresh_argv[] = {cloudfact, "sub",      "--endpoint",     nowhere, "--query",
                                nowhere,   "--resume", tmp("fresh.seq"), NULL};
    pid_t fresh = run(false, tmp("fresh.out"), tmp("fresh.err"), fresh_argv);
    usleep(300 * 1000);
    kill(fresh, SIGINT);
    waitpid(fresh, &status, 0);
    CHECK(WIFEXITED(status) && access(tmp("fresh.seq"), F_OK) != 0,
          "sub --resume with no position yet left a resume file (status 0x%x)", status);

    /* a resume file that cannot be written is reported once a second, not per fact */
    uint64_t facts_now = it_stat(&d, "cloudfact_last_seq");
    CHECK(facts_now >= 8, "only %llu facts archived", (unsigned long long)facts_now);
    char nfacts[24];
    snprintf(nfacts, sizeof nfacts, "%llu", (unsigned long long)facts_now);
    const char *unwritable_argv[] = {cloudfact,      "sub",      "--endpoint",
                                     d.publish,      "--query",  d.query,
                                     "--from-start", "--resume", "/nonexistent/dir/pos.seq",
                                     "--count",      nfacts,     NULL};
    rc = run(true, tmp("unw.out"), tmp("unw.err"), unwritable_argv);
    char *unw = it_slurp(tmp("unw.err"), NULL);
    size_t reports = 0;
    for (const char *q = unw; (q = strstr(q, "cannot write")); q++)
        reports++;
    CHECK(rc == 1 && reports >= 1 && reports <= 3,
          "an unwritable resume file over %s facts: exit %d, %zu reports", nfacts, rc, reports);
    free(unw);

    /* a file name that is not UTF-8 still gives valid JSON (its stray byte as '?') */
    char latin1[300], copy_cmd[1200];
    snprintf(latin1, sizeof latin1, "%s/caf\xe9.txt", dir);
    snprintf(copy_cmd, sizeof copy_cmd, "cp '%s/01_azure_region.txt' '%s'", examples, latin1);
    CHECK(system(copy_cmd) == 0, "%s", copy_cmd);
    const char *latin1_argv[] = {cloudfact, "extract", latin1, NULL};
    rc = run(true, tmp("l1.out"), tmp("l1.err"), latin1_argv);
    char *l1 = it_slurp(tmp("l1.out"), NULL);
    size_t l1_facts = 0;
    json_t *l1_keys = fact_keys(l1, &l1_facts); /* fails the test on a line that is not JSON */
    CHECK(rc == 0 && l1_facts > 0 && strstr(l1, "\"article\":\"caf?.txt\""),
          "extract of a Latin-1 file name: exit %d: %.200s", rc, l1);
    json_decref(l1_keys);
    free(l1);
    printf("ok   stats refuses an error reply; sub --resume keeps no unknown position and reports"
           " a failing file once a second; a non-UTF-8 file name is valid JSON\n");

    /* extract at a terminal (script(1) gives it one) with stdout in a file: the
     * facts go to the file, the sum of files, facts and skips to the terminal */
    if (system("command -v script > /dev/null 2>&1") != 0) {
        printf("skip extract at a terminal: no script(1) here\n");
    } else {
        size_t one_facts = 0;
        for (const char *q = one; *q; q++)
            one_facts += *q == '\n';
        char pty_cmd[2400];
        snprintf(pty_cmd, sizeof pty_cmd,
                 "script -qec \"'%s' extract '%s' '%s' '%s' > '%s'\" /dev/null > '%s' 2>&1",
                 cloudfact, ex_file, tmp("latin1.txt"), ex_file, tmp("pty.out"), tmp("pty.log"));
        rc = system(pty_cmd);
        char *plog = it_slurp(tmp("pty.log"), NULL), *pout = it_slurp(tmp("pty.out"), NULL);
        char want[128];
        snprintf(want, sizeof want, "3 of 3 files done: %zu facts, 1 skipped", 2 * one_facts);
        CHECK(strstr(plog, want) && strstr(plog, "latin1.txt: not UTF-8 text; skipped"),
              "extract at a terminal (status %d) showed \"%s\", not \"%s\"", rc, plog, want);
        CHECK(strlen(pout) == 2 * one_len && !strstr(pout, "files done"),
              "extract at a terminal wrote %zu bytes to its stdout file, not %zu", strlen(pout),
              2 * one_len);
        free(plog);
        free(pout);
        /* both at the terminal: the facts themselves are the progress */
        snprintf(pty_cmd, sizeof pty_cmd, "script -qec \"'%s' extract '%s'\" /dev/null > '%s' 2>&1",
                 cloudfact, ex_file, tmp("pty2.log"));
        rc = system(pty_cmd);
        plog = it_slurp(tmp("pty2.log"), NULL);
        CHECK(rc == 0 && strstr(plog, "\"article\":\"01_azure_region.txt\"") &&
                  !strstr(plog, "files done"),
              "extract with stdout at a terminal (status %d) showed \"%s\"", rc, plog);
        free(plog);
        printf("ok   extract at a terminal sums up files, facts and skips on stderr\n");
    }
    free(one);

    /* sub ends on SIGTERM with status 0 */
    const char *sub2_argv[] = {cloudfact, "sub", "--endpoint", d.publish, NULL};
    subs0 = it_stat(&d, "cloudfact_subscriptions");
    sub = run(false, tmp("sub2.out"), tmp("sub2.err"), sub2_argv);
    it_wait_stat(&d, "cloudfact_subscriptions", subs0 + 1, 30);
    kill(sub, SIGTERM);
    waitpid(sub, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sub after SIGTERM: 0x%x", status);

    /* a replay the query endpoint refuses is not retried for ever: --query given the
     * ingest endpoint by mistake ends sub with status 1 and one line that says so */
    const char *sub3_argv[] = {cloudfact, "sub",    "--endpoint",   d.publish,
                               "--query", d.ingest, "--from-start", NULL};
    sub = run(false, tmp("sub3.out"), tmp("sub3.err"), sub3_argv);
    status = it_wait_exit(sub, 30, "sub retrying a replay that the ingest endpoint refuses");
    char *sub3_err = it_slurp(tmp("sub3.err"), NULL);
    const char *said = strstr(sub3_err, "replay from seq 0 refused by");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 1 && said && !strstr(said + 1, "replay from"),
          "sub with a wrong --query: status 0x%x, stderr \"%s\"", status, sub3_err);
    free(sub3_err);
    printf("ok   sub stops with 1 when the query endpoint refuses its replay\n");

    /* --help on every command `cloudfact --help` lists, and a paragraph on each in
     * the man page */
    const char *top[] = {cloudfact, "--help", NULL};
    CHECK(run(true, tmp("help.out"), tmp("help.err"), top) == 0, "cloudfact --help");
    char *list = it_slurp(tmp("help.out"), NULL);
    /* and `cloudfact help`, `help help`, `help --help` print the same */
    const char *const top_too[][4] = {{cloudfact, "help", NULL},
                                      {cloudfact, "help", "help", NULL},
                                      {cloudfact, "help", "--help", NULL}};
    for (size_t i = 0; i < 3; i++) {
        CHECK(run(true, tmp("help2.out"), tmp("help.err"), top_too[i]) == 0, "cloudfact help %s",
              top_too[i][2] ? top_too[i][2] : "");
        char *same_list = it_slurp(tmp("help2.out"), NULL);
        CHECK(strcmp(same_list, list) == 0, "`cloudfact help %s` is not `cloudfact --help`",
              top_too[i][2] ? top_too[i][2] : "");
        free(same_list);
    }
    char manpath[600];
    snprintf(manpath, sizeof manpath, "%s/doc/cloudfact.1", src);
    char *man = it_slurp(manpath, NULL);
    size_t ncmds = 0;
    const char *p = strstr(list, "Commands:\n");
    CHECK(p, "cloudfact --help lists no commands");
    for (p = strchr(p, '\n') + 1; strncmp(p, "  ", 2) == 0 && p[2] != ' ';
         p = strchr(p, '\n') + 1) {
        char name[32];
        CHECK(sscanf(p, " %31[a-z]", name) == 1, "cloudfact --help: %.40s", p);
        ncmds++;
        const char *h[] = {cloudfact, name, "--help", NULL};
        CHECK(run(true, tmp("cmd-help.out"), tmp("help.err"), h) == 0, "%s --help", name);
        char *text = it_slurp(tmp("cmd-help.out"), NULL);
        CHECK(strstr(text, "Usage: cloudfact") && strstr(text, "Example"),
              "%s --help lacks usage or examples", name);
        /* `cloudfact help NAME` prints the same text */
        const char *hh[] = {cloudfact, "help", name, NULL};
        CHECK(run(true, tmp("cmd-help2.out"), tmp("help.err"), hh) == 0, "help %s", name);
        char *text2 = it_slurp(tmp("cmd-help2.out"), NULL);
        CHECK(strcmp(text, text2) == 0, "`cloudfact help %s` differs from `%s --help`", name, name);
        free(text2);
        free(text);
        /* ".TP" then ".B name", ".BI cmd ..." or ".BI \"cmd ..." */
        bool described = false;
        for (const char *m = strstr(man, "\n.TP\n."); m && !described;
             m = strstr(m + 1, "\n.TP\n.")) {
            const char *w = m + 5 + strcspn(m + 5, " ");
            w += strspn(w, " \"");
            size_t n = strlen(name);
            described = strncmp(w, name, n) == 0 && strchr(" \"\n\\", w[n]);
        }
        CHECK(described, "doc/cloudfact.1 has no paragraph on `%s`", name);
    }
    CHECK(ncmds >= 8, "cloudfact --help lists %zu commands", ncmds);
    free(list);
    free(man);
    printf("ok   SIGTERM ends sub with 0; --help on every command, each in the man page\n");

    int ws = it_daemon_stop(&d, SIGTERM, 30);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    /* after a clean stop of a daemon that served pushes, queries and streams, the
     * archive is the .db file alone (cloudfactd(8) FILES) */
    char side[320];
    for (int i = 0; i < 2; i++) {
        snprintf(side, sizeof side, "%s%s", d.db, i ? "-shm" : "-wal");
        CHECK(access(side, F_OK) != 0, "%s is left after a clean stop", side);
    }
    printf("ok   a clean stop leaves the archive as one file\n");
    json_decref(expected);
    json_decref(got);
    free(expected_text);
    free(got_text);
    it_daemon_cleanup(&d);
    printf("it_cli: all checks passed\n");
    return 0;
}
