/* SPDX-License-Identifier: MIT
 * test_idq: the archive's search backlog queue. Ids come out in the order they went
 * in through any mix of appends, drops from the head and truncations from the tail
 * (checked against a plain array after every step); a queue that drains at its head
 * while it fills at its tail reuses its array instead of growing, yet a full array
 * with little dropped doubles rather than slide; the array stays below four times
 * the longest the queue has been. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cf_idq.h"
#include "cf_test.h"

/* The queue holds exactly want[0..n), oldest first. */
static bool
same(const cf_idq_t *q, const uint64_t *want, size_t n)
{
    if (q->n != n || q->head + q->n > q->cap)
        return false;
    for (size_t i = 0; i < n; i++)
        if (cf_idq_at(q, i) != want[i])
            return false;
    return true;
}

static void
test_fifo_order(void)
{
    cf_idq_t q = {0};
    CF_CHECK(same(&q, NULL, 0));
    for (uint64_t id = 1; id <= 100; id++)
        cf_idq_push(&q, id);
    cf_idq_drop(&q, 30);
    CF_CHECK_INT((int64_t)q.n, 70);
    CF_CHECK_INT((int64_t)cf_idq_at(&q, 0), 31);
    CF_CHECK_INT((int64_t)cf_idq_at(&q, 69), 100);
    cf_idq_truncate(&q, 10); /* a rolled-back batch's appends forgotten */
    CF_CHECK_INT((int64_t)q.n, 10);
    CF_CHECK_INT((int64_t)cf_idq_at(&q, 9), 40);
    cf_idq_push(&q, 500);
    CF_CHECK_INT((int64_t)cf_idq_at(&q, 10), 500);
    cf_idq_drop(&q, 11); /* empty: the head starts over */
    CF_CHECK_INT((int64_t)q.n, 0);
    CF_CHECK_INT((int64_t)q.head, 0);
    cf_idq_free(&q);
    CF_CHECK(q.v == NULL && q.cap == 0);
}

/* The backlog's life under a steady load: chunks leave at the head as the burst
 * refills it at the tail, 1,000 ids long for 200 rounds. The array settles after a
 * doubling or so and then slides instead of growing. */
static void
test_head_space_reused(void)
{
    cf_idq_t q = {0};
    uint64_t next = 1;
    for (int i = 0; i < 1000; i++)
        cf_idq_push(&q, next++);
    size_t cap = 0;
    for (int round = 0; round < 200; round++) {
        if (round == 10)
            cap = q.cap;
        cf_idq_drop(&q, 300);
        for (int i = 0; i < 300; i++)
            cf_idq_push(&q, next++);
        CF_CHECK_INT((int64_t)q.n, 1000);
        CF_CHECK_INT((int64_t)cf_idq_at(&q, 0), (int64_t)(next - 1000));
        CF_CHECK_INT((int64_t)cf_idq_at(&q, 999), (int64_t)(next - 1));
    }
    CF_CHECK_INT((int64_t)q.cap, (int64_t)cap);
    CF_CHECK(q.cap < 4 * 1000);
    cf_idq_free(&q);
}

/* A full array whose dropped head is less than half of it doubles: sliding the live
 * ids there would cost O(queue) for every few appends while it drains and fills. */
static void
test_small_head_not_slid(void)
{
    cf_idq_t q = {0};
    for (uint64_t id = 1; id <= CF_IDQ_MIN; id++)
        cf_idq_push(&q, id);
    CF_CHECK_INT((int64_t)q.cap, CF_IDQ_MIN);
    cf_idq_drop(&q, 1);
    cf_idq_push(&q, 1000);
    CF_CHECK_INT((int64_t)q.head, 1);
    CF_CHECK_INT((int64_t)q.cap, 2 * CF_IDQ_MIN);
    /* half of it dropped: the next full array slides instead */
    cf_idq_drop(&q, CF_IDQ_MIN - 1);
    while (q.head + q.n < q.cap)
        cf_idq_push(&q, 2000);
    cf_idq_push(&q, 3000);
    CF_CHECK_INT((int64_t)q.head, 0);
    CF_CHECK_INT((int64_t)q.cap, 2 * CF_IDQ_MIN);
    CF_CHECK_INT((int64_t)cf_idq_at(&q, 0), 1000);
    CF_CHECK_INT((int64_t)cf_idq_at(&q, q.n - 1), 3000);
    cf_idq_free(&q);
}

/* Random appends, drops and truncations against a plain array. */
static void
test_against_array(void)
{
    enum { STEPS = 20000, MAX = 5000 };
    uint64_t *ref = malloc(MAX * sizeof *ref);
    size_t n = 0, longest = 0;
    uint64_t next = 1;
    cf_idq_t q = {0};
    srand(7);
    bool ok = true;
    for (int step = 0; step < STEPS && ok; step++) {
        int op = rand() % 10;
        if (op < 6 && n < MAX) { /* a run of appends */
            size_t k = (size_t)(rand() % 40);
            for (size_t i = 0; i < k && n < MAX; i++) {
                cf_idq_push(&q, next);
                ref[n++] = next++;
            }
        } else if (op < 9) {
            size_t k = n ? (size_t)rand() % (n + 1) : 0;
            cf_idq_drop(&q, k);
            memmove(ref, ref + k, (n - k) * sizeof *ref);
            n -= k;
        } else {
            size_t keep = n ? (size_t)rand() % (n + 1) : 0;
            cf_idq_truncate(&q, keep);
            n = keep;
        }
        if (n > longest)
            longest = n;
        ok = same(&q, ref, n) && (q.cap <= CF_IDQ_MIN || q.cap < 4 * longest);
    }
    CF_CHECK(ok);
    cf_idq_free(&q);
    free(ref);
}

CF_TEST_LIST(CF_TEST(test_fifo_order), CF_TEST(test_head_space_reused),
             CF_TEST(test_small_head_not_slid), CF_TEST(test_against_array));
