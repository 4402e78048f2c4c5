/* SPDX-License-Identifier: MIT
 * cf_err: error codes and the error record. */
#include "cf_err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cf_text.h"

int
cf_err_set(cf_err_t *err, int rc, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
        /* reasons quote input and are cut at a byte count: they go on the wire */
        cf_utf8_scrub(err->text, strlen(err->text));
        err->rc = rc;
        err->sys = 0;
    }
    return rc;
}

int
cf_err_sys(cf_err_t *err, const char *fmt, ...)
{
    int saved = errno;
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(err->text, sizeof err->text, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < sizeof err->text)
            snprintf(err->text + n, sizeof err->text - (size_t)n, ": %s", strerror(saved));
        cf_utf8_scrub(err->text, strlen(err->text));
        err->rc = CF_ESYS;
        err->sys = saved;
    }
    errno = saved;
    return CF_ESYS;
}

void
cf_err_clear(cf_err_t *err)
{
    if (err) {
        err->rc = CF_OK;
        err->sys = 0;
        err->text[0] = '\0';
    }
}

const char *
cf_strerror(int rc)
{
    switch (rc) {
    case CF_OK: return "ok";
    case CF_EDUP: return "duplicate";
    case CF_EINVAL: return "invalid";
    case CF_EBUSY: return "busy";
    case CF_EDENIED: return "denied";
    case CF_ETOOBIG: return "too big";
    case CF_EDB: return "archive error";
    case CF_ESYS: return "system error";
    case CF_ECLOSED: return "closed";
    case CF_ENOTFOUND: return "not found";
    case CF_EREFUSED:
        return "refused";
    }
    return "unknown error";
}
