/* SPDX-License-Identifier: MIT
 * Unit tests for cf_config: defaults, file, command line over file, errors that
 * name file:line:key, reload keeping command-line values. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cf_config.h"
#include "cf_test.h"

static char *
write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/cf-test-config-XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
        abort();
    close(fd);
    return path;
}

static cf_config_t *
load(int argc, char **argv, cf_config_src_t **src, cf_err_t *err)
{
    unsetenv("STATE_DIRECTORY");
    unsetenv("RUNTIME_DIRECTORY");
    return cf_config_load(argc, argv, src, err);
}

/* load of `--config FILE`, FILE holding text (removed again once read). */
static cf_config_t *
load_text(const char *text, cf_config_src_t **src, cf_err_t *err)
{
    char *path = write_tmp(text);
    char *argv[] = {"cloudfactd", "--config", path, NULL};
    cf_config_t *c = load(3, argv, src, err);
    unlink(path);
    return c;
}

static void
test_defaults(void)
{
    char *argv[] = {"cloudfactd", NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load(1, argv, &src, &err);
    CF_CHECK(c != NULL);
    if (!c)
        return;
    CF_CHECK_STR(c->state_dir, "var");
    CF_CHECK_STR(c->ingest, "tcp://127.0.0.1:7701");
    CF_CHECK_STR(c->publish, "tcp://127.0.0.1:7702");
    CF_CHECK_STR(c->query, "tcp://127.0.0.1:7703");
    CF_CHECK_INT(c->max_attempts, 3);
    CF_CHECK_INT(c->job_deadline, 30);
    CF_CHECK_INT(c->max_queue, 1000000);
    CF_CHECK_INT(c->grace, 10);
    CF_CHECK_STR(c->sched, "batch");
    CF_CHECK(c->workers >= 1);
    CF_CHECK(strncmp(c->worker_endpoint, "ipc://", 6) == 0);
    CF_CHECK(strstr(c->worker_endpoint, "/var/workers.sock") != NULL);
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
    CF_CHECK(c == NULL && src == NULL);
}

static void
test_file_and_command_line(void)
{
    char *path = write_tmp("# settings\nworkers = 3\nmax_queue = 500\nlog_level = debug\n"
                           "max_attempts=5\nsched = inherit\n");
    char *argv[] = {"cloudfactd", "--config", path, "--workers", "7", NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load(5, argv, &src, &err);
    CF_CHECK(c != NULL);
    if (!c)
        return;
    CF_CHECK_INT(c->workers, 7);        /* the command line wins */
    CF_CHECK_INT(c->max_queue, 500);    /* the file over the default */
    CF_CHECK_INT(c->max_attempts, 5);
    CF_CHECK_STR(c->log_level, "debug");
    CF_CHECK_STR(c->sched, "inherit");
    /* a reload re-reads the file and keeps the command line on top */
    FILE *f = fopen(path, "w");
    fputs("workers = 4\nmax_queue = 900\n", f);
    fclose(f);
    cf_config_t *r = cf_config_reload(src, &err);
    CF_CHECK(r != NULL);
    if (r) {
        CF_CHECK_INT(r->workers, 7);
        CF_CHECK_INT(r->max_queue, 900);
        CF_CHECK_STR(r->log_level, "info");
    }
    cf_config_destroy(&r);
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
    unlink(path);
}

static void
expect_error(const char *text, const char *needle)
{
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load_text(text, &src, &err);
    CF_CHECK(c == NULL);
    CF_CHECK(err.rc == CF_EINVAL);
    if (!strstr(err.text, needle)) {
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err.text, needle);
        cf_test_failures++;
    }
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
}

static void
test_file_errors(void)
{
    expect_error("workers = 2\nbogus = 1\n", ":2: unknown key 'bogus'");
    expect_error("\n\nmax_attempts = 0\n", ":3: max_attempts: 0 is outside 1..100");
    expect_error("job_deadline = soon\n", ":1: job_deadline: 'soon' is not a number");
    expect_error("log_level = loud\n", ":1: log_level: unknown level 'loud'");
    expect_error("sched = fifo\n", ":1: sched: 'fifo' is neither batch nor inherit");
    expect_error("[daemon]\nworkers = 1\n", "sections are not used");
    expect_error("workers\n", "syntax error");
    /* an empty value is no way to ask for the default (`data =` gave workers --data "") */
    expect_error("grace = 5\ndata =\n", ":2: data: no value");
    expect_error("workers = \n", ":1: workers: no value");
    /* a line inih would split in two (its buffer is 200 bytes) */
    char longline[400];
    snprintf(longline, sizeof longline, "grace = 5\ndata = /%0250d\ngrace = 4\n", 0);
    expect_error(longline, ":2: line longer than 199 bytes");
    /* inih would read an indented key as more of the value before it */
    expect_error("worker_command = /opt/cf/worker\n\tlog_level = debug\n", ":2: an indented line");
    expect_error("grace = 5\n  # an indented comment is fine\n   \n  workers = 2\n",
                 ":4: an indented line");
    /* quotes must close, and enclose a value */
    expect_error("data = \"/srv/cf\n", ":1: data: a quote opens the value but does not close");
    expect_error("data = '/srv/cf\"\n", ":1: data: a quote opens the value but does not close");
    expect_error("grace = 5\ndata = \"\"\n", ":2: data: no value");
    expect_error("workers = \"two\"\n", ":1: workers: 'two' is not a number");
    /* endpoints libzmq would bind as something else, or not at all */
    expect_error("ingest = tcp://127.0.0.1:99999\n",
                 ":1: ingest: 'tcp://127.0.0.1:99999': the port must be a number from 1 to 65535");
    expect_error("publish = tcp://127.0.0.1:77O2\n",
                 ":1: publish: 'tcp://127.0.0.1:77O2': the port");
    expect_error("query = tcp://127.0.0.1:-5\n", ":1: query: 'tcp://127.0.0.1:-5': the port");
    expect_error("ingest = tcp://127.0.0.1\n", "expected tcp://ADDR:PORT");
    expect_error("ingest = tcp://localhost:7701\n", "not host names: use 127.0.0.1");
    expect_error("control = ipc://cf.sock\n", ":1: control: 'ipc://cf.sock': an ipc endpoint "
                                              "needs an absolute path");
    expect_error("worker_endpoint = udp://1.2.3.4:5\n", "expected tcp://ADDR:PORT or ipc:///PATH");
    /* the daemon would refuse it at bind (cf_auth_bind): --check-config must say so */
    expect_error(
        "worker_endpoint = ipc://@cloudfact-workers\n",
        ":1: worker_endpoint: 'ipc://@cloudfact-workers': an abstract ipc name has no file "
        "permissions");
}

/* Quotes around a whole value are removed (an operator's habit from other files);
 * one inside a value is kept. */
static void
test_quoted_values(void)
{
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load_text("state_dir = \"/srv/cloud fact\"\ndata = '/srv/cf data'\n"
                               "workers = \"3\"\nworker_command = /opt/it's/worker\n"
                               "ingest = \"tcp://127.0.0.1:7801\" # quoted, then a comment\n",
                               &src, &err);
    CF_CHECK(c != NULL);
    if (c) {
        CF_CHECK_STR(c->state_dir, "/srv/cloud fact");
        CF_CHECK_STR(c->data, "/srv/cf data");
        CF_CHECK_INT(c->workers, 3);
        CF_CHECK_STR(c->worker_command, "/opt/it's/worker");
        CF_CHECK_STR(c->ingest, "tcp://127.0.0.1:7801");
    }
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
}

/* '#' after a blank starts a comment, as the shipped file says; one inside a word
 * does not. */
static void
test_inline_comments(void)
{
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load_text("# a comment line\ngrace = 20 # twenty seconds\n"
                               "data = /srv/cf#data\t# the data files\nworkers = 3\t#three\n"
                               "; inih's comment\nsched = inherit ;its inline one too\n"
                               "  # an indented comment\n"
                               "ingest = tcp://*:7701\nquery = tcp://[::1]:7703\n",
                               &src, &err);
    CF_CHECK(c != NULL);
    if (c) {
        CF_CHECK_INT(c->grace, 20);
        CF_CHECK_STR(c->data, "/srv/cf#data");
        CF_CHECK_INT(c->workers, 3);
        CF_CHECK_STR(c->sched, "inherit");
        CF_CHECK_STR(c->ingest, "tcp://*:7701");
        CF_CHECK_STR(c->query, "tcp://[::1]:7703");
    }
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
}

static void
other_than_config(const char *key, const char *was, const char *now, void *arg)
{
    (void)was;
    (void)now;
    if (strcmp(key, "config") != 0)
        (*(int *)arg)++;
}

/* A line of exactly 199 bytes (inih's buffer less its NUL) is read whole, with or
 * without its newline. */
static void
test_longest_line(void)
{
    for (int nl = 0; nl < 2; nl++) {
        char text[256], value[200];
        memset(value, 'd', 192);
        value[0] = '/';
        value[192] = '\0';
        snprintf(text, sizeof text, "data = %s%s", value, nl ? "\n" : "");
        CF_CHECK_INT(strlen(text) - (size_t)nl, 199);
        char *path = write_tmp(text);
        char *argv[] = {"cloudfactd", "--config", path, NULL};
        cf_config_src_t *src = NULL;
        cf_err_t err;
        cf_config_t *c = load(3, argv, &src, &err);
        if (!c)
            fprintf(stderr, "a 199-byte line refused: %s\n", err.text);
        CF_CHECK(c != NULL);
        if (c)
            CF_CHECK_STR(c->data, value);
        cf_config_destroy(&c);
        cf_config_src_destroy(&src);
        unlink(path);
    }
}

/* What --check-config prints is a config file that loads back to the same settings
 * (but the name of the file they came from). */
static void
test_print_reads_back(void)
{
    /* values that start with a quote are printed so that they read back */
    char *path = write_tmp("grace = 7\nhttp = off\nworkers = 2\ndata = '\"quoted'\n"
                           "worker_command = \"'worker\"\n");
    char *argv[] = {"cloudfactd", "--config", path, NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load(3, argv, &src, &err);
    CF_CHECK(c != NULL);
    if (c) {
        CF_CHECK_STR(c->data, "\"quoted");
        CF_CHECK_STR(c->worker_command, "'worker");
    }
    char printed[] = "/tmp/cf-test-config-print-XXXXXX";
    int fd = mkstemp(printed);
    FILE *f = fdopen(fd, "w");
    cf_config_print(c, f);
    fclose(f);
    char *argv2[] = {"cloudfactd", "--config", printed, NULL};
    cf_config_src_t *src2 = NULL;
    cf_config_t *c2 = load(3, argv2, &src2, &err);
    if (!c2)
        fprintf(stderr, "printed config does not load: %s\n", err.text);
    CF_CHECK(c2 != NULL);
    if (c && c2) {
        CF_CHECK_INT(c2->grace, 7);
        CF_CHECK_INT(c2->workers, 2);
        int others = 0;
        cf_config_diff(c, c2, other_than_config, &others);
        CF_CHECK_INT(others, 0);
    }
    cf_config_destroy(&c);
    cf_config_destroy(&c2);
    cf_config_src_destroy(&src);
    cf_config_src_destroy(&src2);
    unlink(path);
    unlink(printed);
}

static void
test_command_line_errors(void)
{
    cf_config_src_t *src = NULL;
    cf_err_t err;
    char *a1[] = {"cloudfactd", "--no-such-option", NULL};
    CF_CHECK(load(2, a1, &src, &err) == NULL && err.rc == CF_EINVAL);
    CF_CHECK(strstr(err.text, "--no-such-option") != NULL);
    char *a2[] = {"cloudfactd", "--workers", NULL};
    CF_CHECK(load(2, a2, &src, &err) == NULL && err.rc == CF_EINVAL);
    char *a3[] = {"cloudfactd", "--config", "/nonexistent/cloudfactd.conf", NULL};
    CF_CHECK(load(3, a3, &src, &err) == NULL && strstr(err.text, "/nonexistent") != NULL);
    /* a tcp worker endpoint without CURVE: anyone could pose as a worker */
    char *a4[] = {"cloudfactd", "--worker-endpoint", "tcp://127.0.0.1:9", "--workers", "2",
                  NULL};
    CF_CHECK(load(5, a4, &src, &err) == NULL && strstr(err.text, "curve_key") != NULL);
    char *a5[] = {"cloudfactd", "--allow-scrapers", "/etc/cloudfact/scrapers", NULL};
    CF_CHECK(load(3, a5, &src, &err) == NULL && strstr(err.text, "curve_key") != NULL);
    char *a6[] = {"cloudfactd", "--max-frames", "7", NULL};
    CF_CHECK(load(3, a6, &src, &err) == NULL && strstr(err.text, "max_frames") != NULL);
    char *a7[] = {"cloudfactd", "--max-message-size", "100", NULL};
    CF_CHECK(load(3, a7, &src, &err) == NULL && strstr(err.text, "max_message_size") != NULL);
    /* with CURVE, local workers get an ipc endpoint of their own beside the tcp one */
    char *a8[] = {"cloudfactd", "--worker-endpoint", "tcp://127.0.0.1:9", "--workers", "2",
                  "--curve-key", "/etc/cloudfact/cloudfactd.key", NULL};
    cf_config_t *c = load(7, a8, &src, &err);
    CF_CHECK(c != NULL && strncmp(c->worker_local, "ipc://", 6) == 0 &&
             strcmp(c->worker_endpoint, "tcp://127.0.0.1:9") == 0);
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
}

static void
test_systemd_directories(void)
{
    char *argv[] = {"cloudfactd", NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    setenv("STATE_DIRECTORY", "/var/lib/cloudfactd", 1);
    setenv("RUNTIME_DIRECTORY", "/run/cloudfactd", 1);
    cf_config_t *c = cf_config_load(1, argv, &src, &err);
    CF_CHECK(c != NULL);
    if (c) {
        CF_CHECK_STR(c->state_dir, "/var/lib/cloudfactd");
        CF_CHECK_STR(c->worker_endpoint, "ipc:///run/cloudfactd/workers.sock");
    }
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
    unsetenv("STATE_DIRECTORY");
    unsetenv("RUNTIME_DIRECTORY");
}

static void
test_http_values(void)
{
    expect_error("workers = 1\nhttp = 7780\n", ":2: http: '7780': expected ADDR:PORT or off");
    expect_error("http = 127.0.0.1:99999\n", "http: '127.0.0.1:99999': port must be 1..65535");
    char *path = write_tmp("http = off\n");
    char *argv[] = {"cloudfactd", "--config", path, "--http", "[::1]:9100", NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load(5, argv, &src, &err);
    CF_CHECK(c != NULL);
    if (c)
        CF_CHECK_STR(c->http, "[::1]:9100");
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
    char *argv2[] = {"cloudfactd", NULL};
    c = load(1, argv2, &src, &err);
    CF_CHECK(c != NULL && strcmp(c->http, "127.0.0.1:7780") == 0);
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
    unlink(path);
}

typedef struct changes {
    char text[512];
} changes_t;

static void
on_change(const char *key, const char *was, const char *now, void *arg)
{
    changes_t *ch = arg;
    size_t n = strlen(ch->text);
    snprintf(ch->text + n, sizeof ch->text - n, "%s:%s->%s;", key, was, now);
}

/* What a SIGHUP reports: each changed key with both values, in table order. */
static void
test_diff(void)
{
    char *path = write_tmp("max_queue = 10\nlog_level = info\n");
    char *argv[] = {"cloudfactd", "--config", path, "--workers", "2", NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *a = load(5, argv, &src, &err);
    CF_CHECK(a != NULL);
    FILE *f = fopen(path, "w");
    fputs("max_queue = 20\nlog_level = debug\nworkers = 9\n", f);
    fclose(f);
    cf_config_t *b = a ? cf_config_reload(src, &err) : NULL;
    CF_CHECK(b != NULL);
    if (a && b) {
        changes_t ch = {""};
        CF_CHECK_INT(cf_config_diff(a, b, on_change, &ch), 2); /* workers: command line wins */
        CF_CHECK_STR(ch.text, "max_queue:10->20;log_level:info->debug;");
        CF_CHECK_INT(cf_config_diff(a, a, NULL, NULL), 0);
    }
    cf_config_destroy(&a);
    cf_config_destroy(&b);
    cf_config_src_destroy(&src);
    unlink(path);
}

/* Every key a file may set is documented in the shipped default file, as a
 * commented-out `#key =` line (or set), and the shipped file is valid as shipped. */
static void
test_shipped_file_documents_every_key(void)
{
    const char *srcdir = getenv("CF_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/systemd/cloudfactd.conf", srcdir ? srcdir : ".");
    FILE *f = fopen(path, "r");
    CF_CHECK(f != NULL);
    if (!f)
        return;
    static char text[65536];
    size_t len = fread(text, 1, sizeof text - 1, f);
    text[len] = '\0';
    fclose(f);
    size_t keys = 0;
    for (size_t i = 0; cf_config_file_key(i); i++, keys++) {
        const char *k = cf_config_file_key(i);
        char a[64], b[64];
        snprintf(a, sizeof a, "\n#%s =", k);
        snprintf(b, sizeof b, "\n%s =", k);
        if (!strstr(text, a) && !strstr(text, b)) {
            fprintf(stderr, "%s does not document key '%s'\n", path, k);
            cf_test_failures++;
        }
    }
    CF_CHECK(keys >= 16);
    CF_CHECK(cf_config_file_key(keys) == NULL);
    char *argv[] = {"cloudfactd", "--config", path, NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load(3, argv, &src, &err);
    if (!c)
        fprintf(stderr, "shipped file rejected: %s\n", err.text);
    CF_CHECK(c != NULL);
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
}

/* Reads a source file of the project into a static buffer ("" when missing). */
static const char *
read_source(const char *rel)
{
    const char *srcdir = getenv("CF_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", srcdir ? srcdir : ".", rel);
    static char text[131072];
    text[0] = '\0';
    FILE *f = fopen(path, "r");
    CF_CHECK(f != NULL);
    if (f) {
        text[fread(text, 1, sizeof text - 1, f)] = '\0';
        fclose(f);
    }
    return text;
}

/* s with every run of blanks and line breaks as one space, in out. */
static void
squeeze(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && s[i] && o + 1 < cap; i++) {
        bool blank = s[i] == ' ' || s[i] == '\n';
        if (!blank || (o > 0 && out[o - 1] != ' '))
            out[o++] = blank ? ' ' : s[i];
    }
    out[o] = '\0';
}

/* Every numeric option's range, as --help states it, is the parser's (its bounds are
 * taken and one past them refused) and is in the man page's paragraph on it. */
static void
test_documented_ranges(void)
{
    char *help = NULL;
    size_t hlen = 0;
    FILE *out = open_memstream(&help, &hlen);
    cf_config_usage(out);
    fclose(out);
    const char *man = read_source("doc/cloudfactd.8");
    int ranges = 0;
    for (const char *p = strstr(help, "\n  --"); p; p = strstr(p + 1, "\n  --")) {
        const char *next = strstr(p + 1, "\n  --");
        char entry[512], name[64];
        squeeze(p + 1, next ? (size_t)(next - p - 1) : strlen(p + 1), entry, sizeof entry);
        if (sscanf(entry, " --%63[a-z-]", name) != 1)
            continue;
        long lo = 0, hi = 0;
        const char *r = NULL;
        for (const char *q = entry + 1; *q && !r; q++)
            if ((q[-1] == ' ' || q[-1] == '(') && sscanf(q, "%ld to %ld", &lo, &hi) == 2)
                r = q;
        if (!r)
            continue;
        ranges++;
        char arg[32], opt[80];
        snprintf(opt, sizeof opt, "--%s", name);
        long values[] = {lo, hi, lo - 1, hi + 1};
        for (int k = 0; k < 4; k++) {
            snprintf(arg, sizeof arg, "%ld", values[k]);
            char *argv[] = {"cloudfactd", opt, arg, NULL};
            cf_config_src_t *src = NULL;
            cf_err_t err;
            cf_config_t *c = load(3, argv, &src, &err);
            if ((c != NULL) != (k < 2)) {
                fprintf(stderr, "%s %s: %s, but --help says %ld to %ld\n", opt, arg,
                        c ? "taken" : err.text, lo, hi);
                cf_test_failures++;
            }
            cf_config_destroy(&c);
            cf_config_src_destroy(&src);
        }
        /* the option's paragraph: ".BI \-\-max\-queue" */
        char troff[128], want[64], para[2048];
        size_t t = (size_t)snprintf(troff, sizeof troff, "\n.BI ");
        for (const char *q = opt; *q && t + 3 < sizeof troff; q++) {
            if (*q == '-')
                troff[t++] = '\\';
            troff[t++] = *q;
        }
        troff[t] = '\0';
        const char *m = strstr(man, troff);
        const char *end = m ? strstr(m, "\n.TP") : NULL;
        squeeze(m ? m : "", m ? (end ? (size_t)(end - m) : strlen(m)) : 0, para, sizeof para);
        snprintf(want, sizeof want, "%ld to %ld", lo, hi);
        if (!strstr(para, want)) {
            fprintf(stderr, "doc/cloudfactd.8 does not give %s's range, %s\n", opt, want);
            cf_test_failures++;
        }
    }
    CF_CHECK(ranges >= 9); /* workers, attempts, deadline, queue, grace, credit, sizes */
    free(help);
}

CF_TEST_LIST(CF_TEST(test_defaults), CF_TEST(test_file_and_command_line),
             CF_TEST(test_inline_comments), CF_TEST(test_quoted_values), CF_TEST(test_longest_line),
             CF_TEST(test_print_reads_back), CF_TEST(test_file_errors),
             CF_TEST(test_command_line_errors), CF_TEST(test_systemd_directories),
             CF_TEST(test_http_values), CF_TEST(test_diff),
             CF_TEST(test_shipped_file_documents_every_key), CF_TEST(test_documented_ranges))
