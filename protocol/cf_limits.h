/* SPDX-License-Identifier: MIT
 * cf_limits: every size limit that outside input is held to, in one place
 * (DESIGN.md "Limits"). Decoders and the daemon read them from here only. */
#ifndef CF_LIMITS_H
#define CF_LIMITS_H

#define CF_MAX_BODY (4u * 1024 * 1024)      /* article body, bytes */
#define CF_MAX_TITLE (16u * 1024)           /* article title, bytes */
#define CF_MAX_URL (4u * 1024)              /* article url, bytes */
#define CF_MAX_REF 256u                     /* a request's ref, packed scalar bytes */
#define CF_MAX_SOURCE 256u                  /* article source label, bytes */
#define CF_MAX_LANG 64u                     /* BCP 47 tag, bytes */
#define CF_MAX_PUBLISHED 64u                /* published date text, bytes */
#define CF_MAX_FACTS 1000u                  /* facts per article */
#define CF_MAX_FACT_TEXT (8u * 1024)        /* any one text field of a fact, bytes */
#define CF_MAX_INFLIGHT 1000u               /* requests in flight per client */
#define CF_MAX_MSGSIZE (5ll * 1024 * 1024)  /* ZMQ_MAXMSGSIZE: last resort, above all others */
#define CF_MAX_FRAMES 6                     /* routing id + at most 4 envelope frames + body */
#define CF_MAX_ENVELOPE 4                   /* frames between routing id and body */
#define CF_MAX_PREFIXES 64u                 /* replay prefixes per request */
#define CF_MAX_PREFIX 256u                  /* one replay/subscription prefix, bytes */
#define CF_MAX_CLASS_ITEMS 64u              /* companies or regions in an article class */
#define CF_MAX_ERROR_TEXT 1024u             /* a worker's error text, bytes */
#define CF_MAX_CREDIT 64u                   /* most jobs one worker may ask for */
#define CF_MAX_TOKEN 64u                    /* a worker's `ready` token, bytes */

#endif
