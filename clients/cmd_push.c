/* SPDX-License-Identifier: MIT
 * cmd_push: `cloudfact push`: push articles and wait for every answer. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cf_client.h"
#include "cf_json.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "cmd.h"

typedef struct push_src {
    char **files;        /* plain-text inputs */
    size_t nfiles, next;
    FILE *jsonl;         /* --jsonl input */
    const char *jsonl_name;
    size_t lineno;
    bool stdin_text;     /* `-` without --jsonl: one article from stdin */
    const char *url;     /* --url */
    const char *source;  /* --source */
    const char *published;
    size_t read_errors;  /* inputs skipped before sending */
} push_src_t;

typedef struct push_tally {
    uint64_t counts[16]; /* by -status */
    uint64_t total;
    bool progress;       /* stderr is a terminal */
    bool quiet;
    time_t last_progress;
} push_tally_t;

/* Why reading stopped: -1 with err for a signal or a read error, 0 at the end. */
static int
input_end(FILE *f, const char *name, cf_err_t *err)
{
    if (cmd_interrupted)
        return cf_err_set(err, CF_ECLOSED, "interrupted"), -1;
    if (ferror(f))
        return cf_err_set(err, CF_ESYS, "%s: read error: %s", name, strerror(errno)), -1;
    return 0;
}

static int
next_article(void *arg, cf_article_t *a, cf_err_t *err)
{
    push_src_t *s = arg;
    char why[256];
    /* a signal stops the input (SIGINT and SIGTERM do not restart reads): what was
     * sent is still waited for, and the run ends as interrupted, never as complete */
    if (cmd_interrupted)
        return cf_err_set(err, CF_ECLOSED, "interrupted"), -1;
    if (s->jsonl) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, s->jsonl)) >= 0) {
            s->lineno++;
            if (n == 0 || line[0] == '\n')
                continue;
            /* a byte order mark opens the stream, not the first object */
            size_t skip = s->lineno == 1 && n >= 3 && memcmp(line, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
            json_error_t jerr;
            /* a key given twice ("body" twice) would keep one silently */
            json_t *obj = json_loadb(line + skip, (size_t)n - skip, JSON_REJECT_DUPLICATES, &jerr);
            cf_err_t aerr;
            if (!obj) {
                /* jansson names its own flag for a \u0000: say what is wrong instead */
                const char *what = jerr.text;
                if (strstr(jerr.text, "JSON_ALLOW_NUL"))
                    what = "a string holds \\u0000, which no article field may";
                else if ((size_t)n - skip >= 3 && memcmp(line + skip, "\xef\xbb\xbf", 3) == 0)
                    what = "a byte order mark (U+FEFF) before the object: only the input's "
                           "first line may start with one";
                fprintf(stderr, "cloudfact: push: %s:%zu: not JSON: %s\n", s->jsonl_name, s->lineno,
                        what);
                s->read_errors++;
                continue;
            }
            int rc = cf_json_to_article(obj, a, &aerr);
            json_decref(obj);
            if (rc != CF_OK) {
                fprintf(stderr, "cloudfact: push: %s:%zu: %s\n", s->jsonl_name, s->lineno,
                        aerr.text);
                s->read_errors++;
                continue;
            }
            /* the options fill what a line leaves out */
            if (!a->source && s->source)
                a->source = cf_strdup(s->source);
            if (!a->published && s->published)
                a->published = cf_strdup(s->published);
            free(line);
            return 1;
        }
        free(line);
        return input_end(s->jsonl, s->jsonl_name, err);
    }
    if (s->stdin_text) {
        s->stdin_text = false;
        char *buf = NULL;
        size_t len = 0, cap = 0;
        int rc = cmd_read_fd_into(STDIN_FILENO, &buf, &cap, &len, why, sizeof why);
        if (rc != 0 && cmd_interrupted) {
            free(buf);
            return cf_err_set(err, CF_ECLOSED, "interrupted"), -1;
        }
        if (rc == 0)
            rc = cmd_text_to_article(buf, len, a, why, sizeof why);
        free(buf);
        if (rc != 0) {
            fprintf(stderr, "cloudfact: push: standard input: %s\n", why);
            s->read_errors++;
            return 0;
        }
        a->url = cf_strdup(s->url);
        a->source = cf_strdup(s->source);
        a->published = cf_strdup(s->published);
        return 1;
    }
    while (s->next < s->nfiles) {
        const char *path = s->files[s->next++];
        size_t len;
        char *data = cmd_read_file(path, &len, why, sizeof why);
        if (!data || cmd_text_to_article(data, len, a, why, sizeof why) != 0) {
            fprintf(stderr, "cloudfact: push: %s: %s; skipped\n", path, why);
            free(data);
            cf_article_clear(a);
            s->read_errors++;
            continue;
        }
        free(data);
        if (s->url) {
            a->url = cf_strdup(s->url);
        } else {
            char abs[PATH_MAX], url[3 * PATH_MAX + 8];
            if (!realpath(path, abs))
                snprintf(abs, sizeof abs, "%s", path);
            cmd_file_url(abs, url, sizeof url);
            a->url = cf_strdup(url);
        }
        a->source = cf_strdup(s->source);
        a->published = cf_strdup(s->published);
        return 1;
    }
    return 0;
}

static void
show_progress(push_tally_t *t, bool final)
{
    if (!t->progress)
        return;
    time_t now = time(NULL);
    if (!final && now == t->last_progress)
        return;
    t->last_progress = now;
    fprintf(stderr, "\rpushed %llu: %llu accepted, %llu duplicate, %llu invalid%s",
            (unsigned long long)t->total, (unsigned long long)t->counts[-CF_OK],
            (unsigned long long)t->counts[-CF_EDUP], (unsigned long long)t->counts[-CF_EINVAL],
            final ? "\n" : "");
}

static void
push_done(void *arg, uint64_t seq, const cf_article_t *a, int status, uint64_t id,
          const char *error)
{
    (void)seq;
    push_tally_t *t = arg;
    t->total++;
    if (status <= 0 && -status < 16)
        t->counts[-status]++;
    if (status != CF_OK && status != CF_EDUP && !t->quiet) {
        if (t->progress)
            fputc('\n', stderr);
        fprintf(stderr, "cloudfact: push %s: %s%s%s\n", a->url ? a->url : "(no url)",
                status == CF_ECLOSED ? "unanswered" : cf_msg_status_name(status),
                error ? ": " : "", error ? error : "");
    }
    (void)id;
    show_progress(t, false);
}

static void
usage_push(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact push [OPTION]... FILE|DIR|-...\n"
            "Push articles to cloudfactd and wait until each one is answered.\n\n"
            "A plain-text file is one article: its first line is the title, the rest the body;\n"
            "its URL is file:// and its absolute path (percent-encoded) unless --url is given.\n"
            "A directory is read recursively (regular files, no dotfiles, sorted; links to\n"
            "directories are not followed). `-` reads one article from standard input (give\n"
            "--url), or JSON Lines with --jsonl: one object per line, {\"url\", \"title\",\n"
            "\"body\", \"source\", \"published\"}, as Scrapy's feed export writes them; a bad\n"
            "line is reported with its number and skipped. SIGINT or SIGTERM stops reading\n"
            "input; the articles already sent are still waited for (a second signal stops\n"
            "that too), and the run ends with status 1.\n\n"
            "Options:\n"
            "  --endpoint EP      ingest endpoint (default " DEFAULT_INGEST ")\n"
            "  --jsonl            the input is one JSON Lines file (or - for standard input)\n"
            "  --url URL          the URL of a single article\n"
            "  --source LABEL     the feed's label, stored with each article (with --jsonl:\n"
            "                     with each line that has none)\n"
            "  --published DATE   publication date (ISO 8601 or RFC 3339) of the articles\n"
            "                     (with --jsonl: of each line that has none)\n"
            "  --window N         requests in flight, 1..1000 (default 256)\n"
            "  --timeout MS       resend an unanswered request after MS, 1..3600000\n"
            "                     (default 10000)\n"
            "  --busy-for S       keep retrying articles the daemon answers busy (queue full,\n"
            "                     storage trouble) for S seconds, 1..86400, backing off\n"
            "                     (default 600)\n"
            "  --strict           count duplicates as failures\n"
            "  --quiet            no per-article messages, only the summary\n"
            "  --help             show this help\n" CMD_KEY_USAGE "\n"
            "Prints `accepted N, duplicate N, invalid N, busy N, denied N, unanswered N` on\n"
            "stderr. Exit status: 0 when every article was accepted or a duplicate (already\n"
            "stored), 1 when any was invalid, still busy after retries, denied or unanswered,\n"
            "when an input could not be read, or when interrupted; 2 on a usage error.\n\n"
            "Examples:\n"
            "  cloudfact push examples/articles/\n"
            "  cloudfact push --url https://example.com/a1 - < article.txt\n"
            "  cloudfact push --jsonl items.jsonl\n"
            "  cloudfact push --endpoint tcp://cf1:7701 --server-key cf1.pub --key scraper.key "
            "new/\n");
}

int
cmd_push(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"jsonl", no_argument, NULL, 'j'},
        {"url", required_argument, NULL, 'u'},      {"source", required_argument, NULL, 's'},
        {"published", required_argument, NULL, 'p'}, {"window", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},  {"strict", no_argument, NULL, 'S'},
        {"busy-for", required_argument, NULL, 'b'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        CMD_KEY_OPTIONS,                            {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_INGEST;
    cmd_keys_t keys = {0};
    cf_curve_client_t curve;
    bool jsonl = false, strict = false;
    push_src_t src = {0};
    push_tally_t tally = {0};
    cf_push_opts_t opts = {256, 10000, 5, 600000, 5000};
    int c;
    uint64_t v;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'j': jsonl = true; break;
        case 'u': src.url = optarg; break;
        case 's': src.source = optarg; break;
        case 'p': src.published = optarg; break;
        case 'w':
            if (cmd_parse_u64("push", "window", optarg, 1, CF_MAX_INFLIGHT, &v))
                return 2;
            opts.window = (unsigned)v;
            break;
        case 't':
            if (cmd_parse_u64("push", "timeout", optarg, 1, 3600000, &v))
                return 2;
            opts.timeout_ms = (unsigned)v;
            break;
        case 'b':
            if (cmd_parse_u64("push", "busy-for", optarg, 1, 86400, &v))
                return 2;
            opts.busy_for_ms = (unsigned)v * 1000;
            break;
        case 'S': strict = true; break;
        case 'q': tally.quiet = true; break;
        CMD_KEY_CASES(keys)
        case 'h': usage_push(stdout); return 0;
        default: usage_push(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "cloudfact: push: no input (see cloudfact push --help)\n");
        return 2;
    }
    if (cmd_curve_load("push", &keys, endpoint, &curve) || cmd_endpoint_check("push", endpoint))
        return 2;
    size_t cap = 0;
    int rc = 0;
    if (jsonl) {
        if (argc - optind != 1) {
            fprintf(stderr, "cloudfact: push: --jsonl takes one file (or -)\n");
            return 2;
        }
        src.jsonl_name = strcmp(argv[optind], "-") == 0 ? "standard input" : argv[optind];
        src.jsonl = strcmp(argv[optind], "-") == 0 ? stdin : fopen(argv[optind], "r");
        if (!src.jsonl) {
            fprintf(stderr, "cloudfact: push: %s: %s\n", argv[optind], strerror(errno));
            return 1;
        }
    } else if (strcmp(argv[optind], "-") == 0) {
        if (!src.url) {
            fprintf(stderr, "cloudfact: push: standard input needs --url (or --jsonl)\n");
            return 2;
        }
        src.stdin_text = true;
    } else {
        for (int i = optind; i < argc; i++)
            if (cmd_collect(argv[i], &src.files, &src.nfiles, &cap) != 0)
                rc = 1;
        if (src.url && src.nfiles > 1) {
            fprintf(stderr, "cloudfact: push: --url names one article, not %zu\n", src.nfiles);
            rc = 2;
            goto out;
        }
    }
    tally.progress = isatty(STDERR_FILENO) && !tally.quiet;
    cmd_catch_signals();
    cf_err_t err;
    if (cf_push_run(endpoint, &curve, &opts, next_article, &src, push_done, &tally, &err) != CF_OK) {
        fprintf(stderr, "cloudfact: push: %s\n", err.text);
        rc = 1;
    }
    show_progress(&tally, true);
    fprintf(stderr, "accepted %llu, duplicate %llu, invalid %llu, busy %llu, denied %llu, "
                    "unanswered %llu\n",
            (unsigned long long)tally.counts[-CF_OK], (unsigned long long)tally.counts[-CF_EDUP],
            (unsigned long long)tally.counts[-CF_EINVAL],
            (unsigned long long)tally.counts[-CF_EBUSY],
            (unsigned long long)tally.counts[-CF_EDENIED],
            (unsigned long long)tally.counts[-CF_ECLOSED]);
    if (tally.total != tally.counts[-CF_OK] + tally.counts[-CF_EDUP] ||
        (strict && tally.counts[-CF_EDUP]) || src.read_errors)
        rc = rc ? rc : 1;
out:
    if (src.jsonl && src.jsonl != stdin)
        fclose(src.jsonl);
    for (size_t i = 0; i < src.nfiles; i++)
        free(src.files[i]);
    free(src.files);
    return rc;
}
