/* SPDX-License-Identifier: MIT
 * cf_text: small text checks and conversions shared by decoders, the extractor
 * and the command line. No allocation unless stated. */
#ifndef CF_TEXT_H
#define CF_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool cf_utf8_valid(const char *s, size_t len);

/* Makes s[0..len) well-formed UTF-8 in place: every byte that does not belong to a
 * well-formed sequence (a character cut by a byte limit, a stray byte) becomes '?'.
 * Returns the bytes replaced. For texts built from outside input that go on the wire,
 * where every string must be valid UTF-8 (SPEC.md section 3). */
size_t cf_utf8_scrub(char *s, size_t len);

/* Writes an entity id for name into out (size outsz): ASCII-folded lowercase, every
 * run of other characters one '-', no leading or trailing '-' (cut short to fit,
 * too). Returns the length, 0 when nothing is left (out is then ""). */
size_t cf_text_slug(const char *name, char *out, size_t outsz);

/* Days of month mon (1-12) in year y of the proleptic Gregorian calendar. */
int cf_text_days_in_month(int y, int mon);

/* True when s is an ISO 8601 date (YYYY-MM-DD) or an RFC 3339 date-time: a day that
 * exists in its month, hours to 23, minutes to 59, an offset of at most 23:59. */
bool cf_text_is_datetime(const char *s);

/* True when url is absolute (scheme ":" rest), with no control characters or spaces. */
bool cf_text_is_url(const char *url);

/* Duplicates s[0..len) as a NUL-terminated string. Aborts on OOM. */
char *cf_strndup(const char *s, size_t len);

/* Duplicates s (NULL gives NULL). Aborts on OOM. */
char *cf_strdup(const char *s);

/* malloc/calloc/realloc that abort with a message on OOM (sizes are bounded by cf_limits.h). */
void *cf_malloc(size_t n);
void *cf_calloc(size_t n, size_t size);
void *cf_realloc(void *p, size_t n);

#endif
