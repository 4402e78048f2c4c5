/* SPDX-License-Identifier: MIT
 * it_blame: with credit > 1 a worker holds several jobs; one poison article that
 * kills or hangs it must not cost the articles it shared the worker with an
 * attempt. The daemon runs two test workers (cloudfact-worker-test: "cf-test:crash"
 * aborts it, "cf-test:hang" hangs it) with credit 4. The crash and hang articles
 * end quarantined after exactly max_attempts, each innocent article is done with
 * no attempt counted, the lost jobs were sent back to run alone
 * (cloudfact_jobs_isolated_total), and nothing is left suspect afterwards. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "cf_client.h"
#include "cf_text.h"
#include "harness.h"

#define N_ARTICLES 24
#define CRASH_AT 2
#define HANG_AT 13

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    char wcmd[512];
    snprintf(wcmd, sizeof wcmd, "%s", it_bin("cloudfact-worker-test"));
    const char *extra[] = {"--worker-command", wcmd, "--credit", "4", "--max-attempts", "3",
                           "--job-deadline",   "2",  NULL};
    it_daemon_start(&d, 2, extra);

    static char urls[N_ARTICLES][64], bodies[N_ARTICLES][128];
    cf_article_t arts[N_ARTICLES];
    for (int i = 0; i < N_ARTICLES; i++) {
        snprintf(urls[i], sizeof urls[i], "https://example.test/blame-%d", i);
        if (i == CRASH_AT)
            snprintf(bodies[i], sizeof bodies[i], "This body carries cf-test:crash.");
        else if (i == HANG_AT)
            snprintf(bodies[i], sizeof bodies[i], "This body carries cf-test:hang.");
        else
            snprintf(bodies[i], sizeof bodies[i], "Nimbus Cloud opened %d data centers in Oslo.",
                     i + 2);
        memset(&arts[i], 0, sizeof arts[i]);
        arts[i].url = urls[i];
        arts[i].title = "Blame";
        arts[i].body = bodies[i];
        arts[i].body_len = strlen(bodies[i]);
    }
    int status[N_ARTICLES];
    uint64_t ids[N_ARTICLES];
    it_push(&d, arts, N_ARTICLES, status, ids);
    for (int i = 0; i < N_ARTICLES; i++)
        CHECK(status[i] == CF_OK, "%s not accepted", urls[i]);

    it_wait_stat(&d, "cloudfact_articles_done", N_ARTICLES - 2, 180);
    it_wait_stat(&d, "cloudfact_articles_failed", 2, 180);
    CHECK(it_article_int(&d, "attempts", ids[CRASH_AT]) == 3,
          "crash article: attempts %lld, expected 3",
          (long long)it_article_int(&d, "attempts", ids[CRASH_AT]));
    CHECK(it_article_int(&d, "attempts", ids[HANG_AT]) == 3,
          "hang article: attempts %lld, expected 3",
          (long long)it_article_int(&d, "attempts", ids[HANG_AT]));
    for (int i = 0; i < N_ARTICLES; i++) {
        if (i == CRASH_AT || i == HANG_AT)
            continue;
        CHECK(it_article_int(&d, "attempts", ids[i]) == 0,
              "innocent article %d: attempts %lld, expected 0", i,
              (long long)it_article_int(&d, "attempts", ids[i]));
    }
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state = 'done'") == N_ARTICLES - 2,
          "not every innocent article is done");
    printf("ok   poison articles quarantined after 3 attempts; no innocent one charged\n");

    /* the lost workers held several jobs: those went back uncharged, to run alone */
    CHECK(it_stat(&d, "cloudfact_jobs_isolated_total") > 0,
          "no job was isolated: the poison articles did not share a worker");
    CHECK(it_stat(&d, "cloudfact_attempts_failed_total") == 6,
          "failed attempts %llu, expected the 6 of the poison articles",
          (unsigned long long)it_stat(&d, "cloudfact_attempts_failed_total"));
    it_wait_stat(&d, "cloudfact_suspect_articles", 0, 10);
    CHECK(it_log_count(&d, "each will run alone") > 0, "the shared loss was not logged");
    printf("ok   jobs lost together were sent back to run alone; none suspect now\n");

    /* dispatch goes on at full credit afterwards */
    cf_article_t more = {.url = "https://example.test/blame-after",
                         .title = "Blame",
                         .body = "Stratus Cloud has 12,000 customers.",
                         .body_len = strlen("Stratus Cloud has 12,000 customers.")};
    it_push(&d, &more, 1, status, ids);
    CHECK(status[0] == CF_OK, "the last article was not accepted");
    it_wait_stat(&d, "cloudfact_articles_done", N_ARTICLES - 1, 60);
    printf("ok   later articles run as before\n");

    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    it_daemon_cleanup(&d);
    printf("it_blame: all checks passed\n");
    return 0;
}
