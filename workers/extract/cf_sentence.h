/* SPDX-License-Identifier: MIT
 * cf_sentence: splits an article body into sentences by byte offsets. A sentence
 * ends at . ! ? followed by space and a capital (not after an abbreviation), at
 * every line break and NUL byte, and is cut at CF_SENTENCE_MAX bytes (at a space
 * when possible) so that the work per sentence stays bounded. Linear, no allocation. */
#ifndef CF_SENTENCE_H
#define CF_SENTENCE_H

#include <stdbool.h>
#include <stddef.h>

#define CF_SENTENCE_MAX 1200 /* bytes; longer runs are cut */

/* Finds the next sentence at or after *pos in body[0:len) (valid UTF-8). Returns
 * false when only whitespace is left; else sets [*start, *end) (trimmed, never
 * holding a NUL byte or a line break) and advances *pos past it. */
bool cf_sentence_next(const char *body, size_t len, size_t *pos, size_t *start, size_t *end);

#endif
