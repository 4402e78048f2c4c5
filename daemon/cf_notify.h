/* SPDX-License-Identifier: MIT
 * cf_notify: the sd_notify(3) protocol without libsystemd (STACK.md section 7):
 * one AF_UNIX datagram per message to $NOTIFY_SOCKET ("@..." is the abstract
 * namespace), and the watchdog interval from $WATCHDOG_USEC / $WATCHDOG_PID.
 * Without NOTIFY_SOCKET every call does nothing. */
#ifndef CF_NOTIFY_H
#define CF_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>

#include "cf_err.h"

typedef struct cf_notify cf_notify_t;

/* Reads NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID, then unsets them so the
 * worker processes we spawn do not inherit them (sd_notify's unset_environment).
 * Always returns an object (caller destroys); cf_notify_enabled() says whether
 * messages go anywhere. An unusable NOTIFY_SOCKET gives NULL with err. */
cf_notify_t *cf_notify_new(cf_err_t *err);

/* True when NOTIFY_SOCKET was set. */
bool cf_notify_enabled(const cf_notify_t *self);

/* The watchdog interval in microseconds, or 0 when there is no watchdog for us
 * (WATCHDOG_USEC unset or invalid, or WATCHDOG_PID names another process). */
uint64_t cf_notify_watchdog_usec(const cf_notify_t *self);

/* Sends one message ("READY=1\nSTATUS=..."). Returns CF_OK, also when disabled,
 * or CF_ESYS with err (the caller logs; systemd may be restarting). */
int cf_notify_send(cf_notify_t *self, const char *msg, cf_err_t *err);

/* printf-style cf_notify_send; the message is cut at 1024 bytes. */
int cf_notify_sendf(cf_notify_t *self, cf_err_t *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Messages sent since new (for tests and metrics). */
uint64_t cf_notify_sent(const cf_notify_t *self);

void cf_notify_destroy(cf_notify_t **self_p);

#endif
