/* SPDX-License-Identifier: MIT
 * Unit tests for cf_notify: messages reach a listener on an abstract and on a
 * path socket; WATCHDOG_USEC counts only for our own WATCHDOG_PID; the variables
 * are unset for children; nothing happens without NOTIFY_SOCKET. */
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cf_notify.h"
#include "cf_test.h"

static int
listen_on(const char *name)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {0};
    sa.sun_family = AF_UNIX;
    size_t n = strlen(name);
    memcpy(sa.sun_path, name, n);
    socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
    if (name[0] == '@')
        sa.sun_path[0] = '\0';
    else
        unlink(name);
    if (bind(fd, (struct sockaddr *)&sa, len) != 0)
        abort();
    struct timeval tv = {5, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static void
roundtrip(const char *name)
{
    int fd = listen_on(name);
    setenv("NOTIFY_SOCKET", name, 1);
    cf_err_t err;
    cf_notify_t *n = cf_notify_new(&err);
    CF_CHECK(n != NULL && cf_notify_enabled(n));
    CF_CHECK(getenv("NOTIFY_SOCKET") == NULL); /* not for our children */
    CF_CHECK(cf_notify_send(n, "READY=1\nSTATUS=up", &err) == CF_OK);
    CF_CHECK(cf_notify_sendf(n, &err, "STATUS=%d queued", 7) == CF_OK);
    char buf[256];
    ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
    CF_CHECK(r > 0);
    buf[r > 0 ? r : 0] = '\0';
    CF_CHECK_STR(buf, "READY=1\nSTATUS=up");
    r = recv(fd, buf, sizeof buf - 1, 0);
    buf[r > 0 ? r : 0] = '\0';
    CF_CHECK_STR(buf, "STATUS=7 queued");
    CF_CHECK_INT(cf_notify_sent(n), 2);
    cf_notify_destroy(&n);
    CF_CHECK(n == NULL);
    close(fd);
    if (name[0] != '@')
        unlink(name);
}

static void
test_abstract(void)
{
    char name[64];
    snprintf(name, sizeof name, "@cf-test-notify-%d", (int)getpid());
    roundtrip(name);
}

static void
test_path(void)
{
    char name[64];
    snprintf(name, sizeof name, "/tmp/cf-test-notify-%d.sock", (int)getpid());
    roundtrip(name);
}

static void
test_disabled_and_bad(void)
{
    unsetenv("NOTIFY_SOCKET");
    cf_err_t err;
    cf_notify_t *n = cf_notify_new(&err);
    CF_CHECK(n != NULL && !cf_notify_enabled(n));
    CF_CHECK(cf_notify_send(n, "READY=1", &err) == CF_OK);
    CF_CHECK_INT(cf_notify_sent(n), 0);
    cf_notify_destroy(&n);
    setenv("NOTIFY_SOCKET", "relative/path", 1);
    CF_CHECK(cf_notify_new(&err) == NULL && err.rc == CF_EINVAL);
    unsetenv("NOTIFY_SOCKET");
}

static void
test_watchdog(void)
{
    cf_err_t err;
    char pid[32];
    snprintf(pid, sizeof pid, "%d", (int)getpid());
    setenv("WATCHDOG_USEC", "30000000", 1);
    setenv("WATCHDOG_PID", pid, 1);
    cf_notify_t *n = cf_notify_new(&err);
    CF_CHECK_INT(cf_notify_watchdog_usec(n), 30000000);
    CF_CHECK(getenv("WATCHDOG_USEC") == NULL && getenv("WATCHDOG_PID") == NULL);
    cf_notify_destroy(&n);
    setenv("WATCHDOG_USEC", "30000000", 1);
    setenv("WATCHDOG_PID", "1", 1); /* another process's watchdog */
    n = cf_notify_new(&err);
    CF_CHECK_INT(cf_notify_watchdog_usec(n), 0);
    cf_notify_destroy(&n);
    setenv("WATCHDOG_USEC", "soon", 1);
    n = cf_notify_new(&err);
    CF_CHECK_INT(cf_notify_watchdog_usec(n), 0);
    cf_notify_destroy(&n);
    setenv("WATCHDOG_USEC", "2000000", 1); /* no WATCHDOG_PID: ours */
    n = cf_notify_new(&err);
    CF_CHECK_INT(cf_notify_watchdog_usec(n), 2000000);
    cf_notify_destroy(&n);
}

CF_TEST_LIST(CF_TEST(test_abstract), CF_TEST(test_path), CF_TEST(test_disabled_and_bad),
             CF_TEST(test_watchdog))
