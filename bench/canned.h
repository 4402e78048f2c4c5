/* SPDX-License-Identifier: MIT
 * canned: the five facts the benchmark workers return for every article (no
 * extraction): valid facts whose evidence is the first bytes of the body. */
#ifndef BENCH_CANNED_H
#define BENCH_CANNED_H

#include <stddef.h>

#include "cf_fact.h"

#define CANNED_FACTS 5

/* Appends the five canned facts for body (len bytes) to out. */
void canned_facts(const char *body, size_t len, cf_facts_t *out);

#endif
