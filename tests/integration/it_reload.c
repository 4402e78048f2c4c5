/* SPDX-License-Identifier: MIT
 * it_reload: the extractor's rules are data, reloaded on SIGHUP. The daemon runs
 * on a copy of workers/data; an alias added to the gazetteer is used by the
 * workers after a SIGHUP, without a restart; a broken data file is refused and
 * the loaded rules stay in force; a SIGHUP in the middle of a batch loses no job; a
 * worker that cannot load the files exits 2 and starts again on the reload after a
 * fix. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cf_msg.h"
#include "cf_text.h"
#include "harness.h"

static const char *body = "Quillwave opened four data centers in Oslo this year.";

static int64_t
subject_count(const it_daemon_t *d, const char *subject)
{
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT count(*) FROM facts WHERE subject = '%s'", subject);
    return it_sql_int(d, sql);
}

/* Sends SIGHUP and waits until `workers` workers logged `needle` once more. */
static void
hup_and_wait(it_daemon_t *d, const char *needle, size_t workers)
{
    size_t before = it_log_count(d, needle);
    kill(d->pid, SIGHUP);
    for (int i = 0; i < 300 && it_log_count(d, needle) < before + workers; i++)
        usleep(50 * 1000);
    CHECK(it_log_count(d, needle) >= before + workers, "no '%s' after SIGHUP", needle);
}

int
main(void)
{
    it_daemon_t d;
    it_daemon_init(&d);
    const char *src = getenv("CF_SOURCE_DIR");
    CHECK(src, "CF_SOURCE_DIR is not set");
    char data[400], cmd[1200], gaz[450];
    snprintf(data, sizeof data, "%s/data", d.dir);
    snprintf(cmd, sizeof cmd, "cp -r '%s/workers/data' '%s'", src, data);
    CHECK(system(cmd) == 0, "copy the data files");
    snprintf(gaz, sizeof gaz, "%s/gazetteer.tsv", data);
    const char *extra[] = {"--data", data, NULL};
    it_daemon_start(&d, 2, extra);

    /* before: the extractor does not know Quillwave */
    it_push_one(&d, "https://example.test/r/1", body);
    it_wait_stat(&d, "cloudfact_articles_done", 1, 60);
    CHECK(subject_count(&d, "quillwave") == 0, "the alias is known before it exists");

    /* an analyst adds the company: no recompile, no restart */
    FILE *f = fopen(gaz, "a");
    fprintf(f, "quillwave\tcompany\t-\tQuillwave|Quillwave Cloud\n");
    fclose(f);
    hup_and_wait(&d, "data files reloaded", 2);
    it_push_one(&d, "https://example.test/r/2", body);
    it_wait_stat(&d, "cloudfact_articles_done", 2, 60);
    CHECK(subject_count(&d, "quillwave") >= 1, "the reloaded alias was not used");
    printf("ok   an alias added to gazetteer.tsv is used after SIGHUP, without a restart\n");

    /* a broken file is refused; the loaded rules stay */
    f = fopen(gaz, "a");
    fprintf(f, "this line has no tabs\n");
    fclose(f);
    hup_and_wait(&d, "reload refused, keeping the loaded rules", 2);
    CHECK(it_log_count(&d, "gazetteer.tsv:") >= 1, "the refusal does not name file:line");
    int64_t before = subject_count(&d, "quillwave");
    it_push_one(&d, "https://example.test/r/3", body);
    it_wait_stat(&d, "cloudfact_articles_done", 3, 60);
    CHECK(subject_count(&d, "quillwave") > before, "the old rules were lost");
    printf("ok   a broken data file is refused with file:line; the loaded rules stay\n");

    /* SIGHUP in the middle of a batch: every job completes */
    size_t n = (size_t)(400 * it_scale());
    cf_article_t *arts = calloc(n, sizeof *arts);
    int *st = calloc(n, sizeof *st);
    uint64_t *ids = calloc(n, sizeof *ids);
    for (size_t i = 0; i < n; i++) {
        char url[64];
        snprintf(url, sizeof url, "https://example.test/r/batch/%zu", i);
        arts[i].url = cf_strdup(url);
        arts[i].title = cf_strdup("t");
        arts[i].body = cf_strdup(body);
        arts[i].body_len = strlen(body);
    }
    it_push(&d, arts, n, st, ids);
    kill(d.pid, SIGHUP);
    it_wait_stat(&d, "cloudfact_articles_done", 3 + n, 120);
    CHECK(it_sql_int(&d, "SELECT count(*) FROM articles WHERE state <> 'done'") == 0,
          "a job was lost across the reload");
    CHECK(it_stat(&d, "cloudfact_attempts_failed_total") == 0, "the reload cost attempts");
    printf("ok   SIGHUP mid-batch: every article done, no failed attempt\n");
    for (size_t i = 0; i < n; i++)
        cf_article_clear(&arts[i]);
    free(arts);
    free(st);
    free(ids);

    /* a worker that cannot load its files (the broken line is still there) exits 2:
     * its slot waits 30 s, or starts again at once on the reload that follows a fix */
    snprintf(cmd, sizeof cmd, "pkill -KILL -n -P %d -f cloudfact-worker", (int)d.pid);
    CHECK(system(cmd) == 0, "no worker to kill");
    it_wait_stat(&d, "cloudfact_workers_config_error", 1, 30);
    CHECK(it_stat(&d, "cloudfact_workers_ready") == 1, "the worker that failed is counted ready");
    snprintf(cmd, sizeof cmd, "sed -i '$d' '%s'", gaz); /* the analyst removes the bad line */
    CHECK(system(cmd) == 0, "fix the file");
    kill(d.pid, SIGHUP);
    it_wait_stat(&d, "cloudfact_workers_ready", 2, 10); /* not the 30 s back-off */
    CHECK(it_stat(&d, "cloudfact_workers_config_error") == 0, "a slot still waits");
    printf("ok   a worker that cannot load its files waits, and starts on the reload after a "
           "fix\n");

    int ws = it_daemon_stop(&d, SIGTERM, 60);
    CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0, "cloudfactd exit 0x%x", ws);
    it_daemon_cleanup(&d);
    printf("it_reload: all checks passed\n");
    return 0;
}
