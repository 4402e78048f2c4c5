/* SPDX-License-Identifier: MIT
 * it_overdue: a job whose answer never comes while its worker answers others (a
 * result lost by a buggy worker, held back by a hostile one) is still taken back
 * by the job deadline. One test worker (cloudfact-worker-test: "cf-test:lose"
 * makes it drop that job and go on) with credit 2 and a 2 s deadline, and a steady
 * stream of ordinary articles that keeps it answering: the lost article is charged
 * an attempt each time it is due and ends quarantined after max_attempts, naming
 * the deadline, while the worker is never killed and every other article is done. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cf_client.h"
#include "cf_text.h"
#include "harness.h"

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    char wcmd[512];
    snprintf(wcmd, sizeof wcmd, "%s", it_bin("cloudfact-worker-test"));
    const char *extra[] = {
        "--worker-command", wcmd,  "--credit", "2", "--max-attempts", "2", "--job-deadline", "2",
        "--http",           "off", NULL};
    it_daemon_start(&d, 1, extra);

    uint64_t lost =
        it_push_one(&d, "https://example.test/overdue/lost", "This body carries cf-test:lose.");
    /* ordinary articles, a few a second: the worker is never silent for 2 s */
    size_t pushed = 0;
    for (int i = 0; i < 400 && it_article_int(&d, "attempts", lost) < 2; i++) {
        char url[80], body[96];
        snprintf(url, sizeof url, "https://example.test/overdue/%d", i);
        snprintf(body, sizeof body, "Nimbus Cloud opened %d data centers in Oslo.", i + 2);
        it_push_one(&d, url, body);
        pushed++;
        usleep(100 * 1000);
    }
    it_wait_stat(&d, "cloudfact_articles_failed", 1, 30);
    it_wait_stat(&d, "cloudfact_articles_done", pushed, 60);
    CHECK(it_article_int(&d, "attempts", lost) == 2, "the lost article: attempts %lld, expected 2",
          (long long)it_article_int(&d, "attempts", lost));
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'failed' AND error LIKE"
                         " 'job deadline (2 s) exceeded: no answer for it while worker%'") == 1,
          "the quarantined article does not name the deadline");
    CHECK(it_stat(&d, "cloudfact_jobs_overdue_total") == 2, "overdue jobs: %llu, expected 2",
          (unsigned long long)it_stat(&d, "cloudfact_jobs_overdue_total"));
    /* the worker answered all along: never taken for hung */
    CHECK(it_stat(&d, "cloudfact_workers_spawned_total") == 1,
          "the worker was replaced (%llu spawned)",
          (unsigned long long)it_stat(&d, "cloudfact_workers_spawned_total"));
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'done' AND attempts = 0") ==
              (int64_t)pushed,
          "an ordinary article was charged or not done");
    printf("ok   a job lost while its worker answers others: charged at its deadline, "
           "quarantined; the worker kept\n");

    int st = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cloudfactd exit 0x%x", st);
    it_daemon_cleanup(&d);
    printf("it_overdue: all checks passed\n");
    return 0;
}
