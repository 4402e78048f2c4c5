/* SPDX-License-Identifier: MIT
 * cf_idq: a FIFO queue of article ids in one growable array. The archive's writer
 * keeps its search backlog in one (done articles not yet indexed, oldest first):
 * it appends each article it marks done, takes a chunk off the head after every
 * commit that indexed one, and forgets what a rolled-back batch appended.
 *
 * Every operation is amortized O(1): a drop moves the head, and an append that
 * finds the array full slides the live ids to the front when the dropped head is
 * at least half of it, else doubles it. The array stays below four times the
 * longest the queue has been (or CF_IDQ_MIN). A memmove of the rest after every
 * drop made each batch O(backlog) once the backlog sat at its cap.
 *
 * A value type: zero-initialise, cf_idq_free when done. Not thread-safe. */
#ifndef CF_IDQ_H
#define CF_IDQ_H

#include <stddef.h>
#include <stdint.h>

#define CF_IDQ_MIN 64 /* the first array's length */

typedef struct cf_idq {
    uint64_t *v; /* v[head .. head + n): the queue, oldest first */
    size_t head;
    size_t n;
    size_t cap;
} cf_idq_t;

/* Appends id at the tail. Aborts on OOM (cf_realloc). */
void cf_idq_push(cf_idq_t *q, uint64_t id);

/* Removes the k oldest ids (all of them when k > q->n). */
void cf_idq_drop(cf_idq_t *q, size_t k);

/* Keeps the n oldest ids, forgetting those appended after them (nothing when
 * n >= q->n). */
void cf_idq_truncate(cf_idq_t *q, size_t n);

/* The i-th oldest id (i < q->n). */
static inline uint64_t
cf_idq_at(const cf_idq_t *q, size_t i)
{
    return q->v[q->head + i];
}

/* Frees the array; q is empty and reusable. */
void cf_idq_free(cf_idq_t *q);

#endif
