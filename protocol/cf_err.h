/* SPDX-License-Identifier: MIT
 * cf_err: return codes shared by every module, and an error record that carries
 * the reason to whoever reports it (a reply's `error` field, a log line). */
#ifndef CF_ERR_H
#define CF_ERR_H

#include <stddef.h>

/* Return codes. CF_OK is 0, failures are negative. The first five map one to
 * one onto the ingest statuses (accepted, duplicate, invalid, busy, denied). */
enum {
    CF_OK = 0,
    CF_EDUP = -1,      /* already stored (a duplicate URL) */
    CF_EINVAL = -2,    /* malformed or out-of-contract input */
    CF_EBUSY = -3,     /* temporarily unable: retry later */
    CF_EDENIED = -4,   /* peer not allowed */
    CF_ETOOBIG = -5,   /* a size limit was exceeded */
    CF_EDB = -6,       /* the archive failed */
    CF_ESYS = -7,      /* a system call failed (errno kept in cf_err_t.sys) */
    CF_ECLOSED = -8,   /* the object is shutting down or closed */
    CF_ENOTFOUND = -9, /* no such record */
    CF_EREFUSED = -10  /* a store refused this one request for a reason of its own (a
                        * constraint): nothing of it is stored, and the same request
                        * would be refused again */
};

#define CF_ERR_TEXT_MAX 192

typedef struct cf_err {
    int rc;                      /* one of the codes above */
    int sys;                     /* errno for CF_ESYS, else 0 */
    char text[CF_ERR_TEXT_MAX];  /* human-readable reason, NUL-terminated */
} cf_err_t;

/* Sets err (if not NULL) to rc and a printf-style reason. Returns rc, so that
 * `return cf_err_set(err, CF_EINVAL, "field 'url': expected string");` reads well. */
int cf_err_set(cf_err_t *err, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* As cf_err_set with rc CF_ESYS, keeping errno and appending strerror(errno). */
int cf_err_sys(cf_err_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Resets err to CF_OK with an empty text. */
void cf_err_clear(cf_err_t *err);

/* The short name of a code ("invalid", "busy", ...); never NULL. */
const char *cf_strerror(int rc);

#endif
