/* SPDX-License-Identifier: MIT
 * Unit tests for cf_config: defaults, file, command line over file, errors that
 * name file:line:key, reload keeping command-line values. */
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
                           "max_attempts=5\n");
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
    char *path = write_tmp(text);
    char *argv[] = {"cloudfactd", "--config", path, NULL};
    cf_config_src_t *src = NULL;
    cf_err_t err;
    cf_config_t *c = load(3, argv, &src, &err);
    CF_CHECK(c == NULL);
    CF_CHECK(err.rc == CF_EINVAL);
    if (!strstr(err.text, needle)) {
        fprintf(stderr, "error \"%s\" lacks \"%s\"\n", err.text, needle);
        cf_test_failures++;
    }
    cf_config_destroy(&c);
    cf_config_src_destroy(&src);
    unlink(path);
}

static void
test_file_errors(void)
{
    expect_error("workers = 2\nbogus = 1\n", ":2: unknown key 'bogus'");
    expect_error("\n\nmax_attempts = 0\n", ":3: max_attempts: 0 is outside 1..100");
    expect_error("job_deadline = soon\n", ":1: job_deadline: 'soon' is not a number");
    expect_error("log_level = loud\n", ":1: log_level: unknown level 'loud'");
    expect_error("[daemon]\nworkers = 1\n", "sections are not used");
    expect_error("workers\n", "syntax error");
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
    char *a4[] = {"cloudfactd", "--worker-endpoint", "tcp://127.0.0.1:9", "--workers", "2",
                  NULL};
    CF_CHECK(load(5, a4, &src, &err) == NULL && strstr(err.text, "ipc://") != NULL);
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

CF_TEST_LIST(CF_TEST(test_defaults), CF_TEST(test_file_and_command_line),
             CF_TEST(test_file_errors), CF_TEST(test_command_line_errors),
             CF_TEST(test_systemd_directories))
