/* SPDX-License-Identifier: MIT
 * cf_notify: a hand-rolled sd_notify sender (sanctioned by STACK.md section 7):
 * the protocol is one datagram of newline-separated VAR=value assignments. */
#include "cf_notify.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cf_text.h"

struct cf_notify {
    int fd;                  /* AF_UNIX SOCK_DGRAM, or -1 when disabled */
    struct sockaddr_un addr; /* where to send */
    socklen_t addrlen;       /* without the trailing NUL of an abstract name */
    uint64_t watchdog_usec;  /* 0: no watchdog */
    uint64_t sent;           /* messages delivered */
};

static uint64_t
watchdog_from_env(void)
{
    const char *us = getenv("WATCHDOG_USEC");
    const char *pid = getenv("WATCHDOG_PID");
    if (!us || !*us)
        return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(us, &end, 10);
    if (errno || *end || v == 0)
        return 0;
    if (pid && *pid) {
        errno = 0;
        long p = strtol(pid, &end, 10);
        if (errno || *end || p != (long)getpid())
            return 0; /* meant for another process */
    }
    return (uint64_t)v;
}

cf_notify_t *
cf_notify_new(cf_err_t *err)
{
    cf_notify_t *self = cf_calloc(1, sizeof *self);
    self->fd = -1;
    self->watchdog_usec = watchdog_from_env();
    const char *path = getenv("NOTIFY_SOCKET");
    if (path && *path) {
        size_t len = strlen(path);
        if ((path[0] != '/' && path[0] != '@') || len >= sizeof self->addr.sun_path) {
            cf_err_set(err, CF_EINVAL, "NOTIFY_SOCKET '%s' is not an absolute or @abstract path",
                       path);
            free(self);
            return NULL;
        }
        self->addr.sun_family = AF_UNIX;
        memcpy(self->addr.sun_path, path, len);
        if (path[0] == '@')
            self->addr.sun_path[0] = '\0'; /* abstract: no trailing NUL counted */
        self->addrlen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
        self->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (self->fd < 0) {
            cf_err_sys(err, "notify: socket");
            free(self);
            return NULL;
        }
    }
    /* our workers are not the main process: keep these to ourselves */
    unsetenv("NOTIFY_SOCKET");
    unsetenv("WATCHDOG_USEC");
    unsetenv("WATCHDOG_PID");
    return self;
}

bool
cf_notify_enabled(const cf_notify_t *self)
{
    return self && self->fd >= 0;
}

uint64_t
cf_notify_watchdog_usec(const cf_notify_t *self)
{
    return self ? self->watchdog_usec : 0;
}

int
cf_notify_send(cf_notify_t *self, const char *msg, cf_err_t *err)
{
    if (!cf_notify_enabled(self))
        return CF_OK;
    ssize_t n = sendto(self->fd, msg, strlen(msg), MSG_NOSIGNAL,
                       (const struct sockaddr *)&self->addr, self->addrlen);
    if (n < 0)
        return cf_err_sys(err, "notify: send to NOTIFY_SOCKET");
    self->sent++;
    return CF_OK;
}

int
cf_notify_sendf(cf_notify_t *self, cf_err_t *err, const char *fmt, ...)
{
    if (!cf_notify_enabled(self))
        return CF_OK;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cf_notify_send(self, msg, err);
}

uint64_t
cf_notify_sent(const cf_notify_t *self)
{
    return self ? self->sent : 0;
}

void
cf_notify_destroy(cf_notify_t **self_p)
{
    cf_notify_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    if (self->fd >= 0)
        close(self->fd);
    free(self);
    *self_p = NULL;
}
