/* SPDX-License-Identifier: MIT
 * cf_idq: a FIFO queue of ids in one array (see cf_idq.h). */
#include "cf_idq.h"

#include <stdlib.h>
#include <string.h>

#include "cf_text.h"

void
cf_idq_push(cf_idq_t *q, uint64_t id)
{
    if (q->head + q->n == q->cap) {
        if (q->head > 0 && q->head >= q->cap / 2) {
            /* the live ids are at most half: sliding them costs what the drops saved */
            memmove(q->v, q->v + q->head, q->n * sizeof *q->v);
            q->head = 0;
        } else {
            q->cap = q->cap ? q->cap * 2 : CF_IDQ_MIN;
            q->v = cf_realloc(q->v, q->cap * sizeof *q->v);
        }
    }
    q->v[q->head + q->n++] = id;
}

void
cf_idq_drop(cf_idq_t *q, size_t k)
{
    if (k > q->n)
        k = q->n;
    q->head += k;
    q->n -= k;
    if (q->n == 0)
        q->head = 0;
}

void
cf_idq_truncate(cf_idq_t *q, size_t n)
{
    if (n < q->n)
        q->n = n;
    if (q->n == 0)
        q->head = 0;
}

void
cf_idq_free(cf_idq_t *q)
{
    free(q->v);
    memset(q, 0, sizeof *q);
}
