/* SPDX-License-Identifier: MIT
 * cloudfact: the command line for people and scripts. push articles, sub to the
 * fact stream, extract facts from files without a daemon, ask for stats. Output
 * for other tools is JSON Lines on stdout; errors go to stderr as
 * `cloudfact: what failed: why`. Exit 0 success, 1 runtime failure, 2 usage. */
#include <dirent.h>
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
#include "cf_extract.h"
#include "cf_json.h"
#include "cf_msg.h"
#include "cf_text.h"

#define DEFAULT_INGEST "tcp://127.0.0.1:7701"
#define DEFAULT_PUBLISH "tcp://127.0.0.1:7702"
#define DEFAULT_QUERY "tcp://127.0.0.1:7703"

static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void
catch_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocking poll returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void
usage_main(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact COMMAND [OPTION]... [ARG]...\n"
            "The command line for cloudfactd: push news articles, follow the fact stream,\n"
            "extract facts from files.\n\n"
            "Commands:\n"
            "  push FILE|DIR|-    push articles to the daemon's ingest endpoint\n"
            "  sub [PREFIX]...    print published facts as JSON Lines\n"
            "  extract FILE...    print the facts of text files as JSON Lines (no daemon)\n"
            "  stats              print the daemon's counters as JSON\n\n"
            "Run `cloudfact COMMAND --help` for a command's options and examples.\n"
            "Exit status: 0 on success, 1 on a runtime failure, 2 on a usage error.\n");
}

/* ---- reading articles ------------------------------------------------------ */

static char *
read_file(const char *path, size_t *len, char *why, size_t whylen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, whylen, "%s", strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = cf_malloc(cap);
    size_t r;
    while ((r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (n + 1 == cap) {
            if (cap > (size_t)64 * 1024 * 1024) {
                snprintf(why, whylen, "larger than 64 MiB");
                free(buf);
                fclose(f);
                return NULL;
            }
            cap *= 2;
            buf = cf_realloc(buf, cap);
        }
    }
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        snprintf(why, whylen, "read error");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* A text file: the first line is the title, everything after it the body. */
static int
text_to_article(char *data, size_t len, cf_article_t *a, char *why, size_t whylen)
{
    if (!cf_utf8_valid(data, len) || memchr(data, '\0', len)) {
        snprintf(why, whylen, "not UTF-8 text");
        return -1;
    }
    char *nl = memchr(data, '\n', len);
    size_t tlen = nl ? (size_t)(nl - data) : len;
    size_t t = tlen;
    if (t > 0 && data[t - 1] == '\r')
        t--;
    a->title = cf_strndup(data, t);
    const char *body = nl ? nl + 1 : data + len;
    a->body = cf_strdup(body);
    a->body_len = strlen(a->body);
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the regular files under path (recursively, no dotfiles, sorted). */
static int
collect(const char *path, char ***files, size_t *n, size_t *cap)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "cloudfact: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISREG(st.st_mode)) {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *files = cf_realloc(*files, *cap * sizeof **files);
        }
        (*files)[(*n)++] = cf_strdup(path);
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return 0;
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "cloudfact: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0, nc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == nc) {
            nc = nc ? nc * 2 : 64;
            names = cf_realloc(names, nc * sizeof *names);
        }
        names[nn++] = cf_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < nn; i++) {
        char sub[PATH_MAX];
        snprintf(sub, sizeof sub, "%s/%s", path, names[i]);
        if (collect(sub, files, n, cap) != 0)
            rc = -1;
        free(names[i]);
    }
    free(names);
    return rc;
}

/* ---- push ------------------------------------------------------------------- */

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

static int
next_article(void *arg, cf_article_t *a, cf_err_t *err)
{
    push_src_t *s = arg;
    char why[256];
    (void)err;
    if (s->jsonl) {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        while ((n = getline(&line, &cap, s->jsonl)) >= 0) {
            s->lineno++;
            if (n == 0 || line[0] == '\n')
                continue;
            json_error_t jerr;
            json_t *obj = json_loadb(line, (size_t)n, 0, &jerr);
            cf_err_t aerr;
            if (!obj) {
                fprintf(stderr, "cloudfact: %s:%zu: not JSON: %s\n", s->jsonl_name, s->lineno,
                        jerr.text);
                s->read_errors++;
                continue;
            }
            int rc = cf_json_to_article(obj, a, &aerr);
            json_decref(obj);
            if (rc != CF_OK) {
                fprintf(stderr, "cloudfact: %s:%zu: %s\n", s->jsonl_name, s->lineno, aerr.text);
                s->read_errors++;
                continue;
            }
            free(line);
            return 1;
        }
        free(line);
        return 0;
    }
    if (s->stdin_text) {
        s->stdin_text = false;
        size_t len = 0, cap = 65536;
        char *buf = cf_malloc(cap);
        size_t r;
        while ((r = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
            len += r;
            if (len + 1 == cap)
                buf = cf_realloc(buf, cap *= 2);
        }
        buf[len] = '\0';
        int rc = text_to_article(buf, len, a, why, sizeof why);
        free(buf);
        if (rc != 0) {
            fprintf(stderr, "cloudfact: standard input: %s\n", why);
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
        char *data = read_file(path, &len, why, sizeof why);
        if (!data || text_to_article(data, len, a, why, sizeof why) != 0) {
            fprintf(stderr, "cloudfact: %s: %s; skipped\n", path, why);
            free(data);
            cf_article_clear(a);
            s->read_errors++;
            continue;
        }
        free(data);
        if (s->url) {
            a->url = cf_strdup(s->url);
        } else {
            char abs[PATH_MAX], url[PATH_MAX + 8];
            if (!realpath(path, abs))
                snprintf(abs, sizeof abs, "%s", path);
            snprintf(url, sizeof url, "file://%s", abs);
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
            "its URL is file:// and its absolute path unless --url is given. A directory is\n"
            "read recursively (regular files, no dotfiles, sorted). `-` reads one article from\n"
            "standard input (give --url), or JSON Lines with --jsonl: one object per line,\n"
            "{\"url\", \"title\", \"body\", \"source\", \"published\"}, as Scrapy's feed export\n"
            "writes them; a bad line is reported with its number and skipped.\n\n"
            "Options:\n"
            "  --endpoint EP      ingest endpoint (default " DEFAULT_INGEST ")\n"
            "  --jsonl            inputs are JSON Lines files (or - for standard input)\n"
            "  --url URL          the URL of a single article\n"
            "  --source LABEL     the feed's label, stored with each article\n"
            "  --published DATE   publication date (ISO 8601 or RFC 3339) for text inputs\n"
            "  --window N         requests in flight, 1..1000 (default 256)\n"
            "  --timeout MS       resend an unanswered request after MS (default 10000)\n"
            "  --strict           count duplicates as failures\n"
            "  --quiet            no per-article messages, only the summary\n"
            "  --help             show this help\n\n"
            "Prints `accepted N, duplicate N, invalid N, busy N, unanswered N` on stderr.\n"
            "Exit status: 0 when every article was accepted or a duplicate (already stored),\n"
            "1 when any was invalid, still busy after retries, denied or unanswered,\n"
            "2 on a usage error.\n\n"
            "Examples:\n"
            "  cloudfact push examples/articles/\n"
            "  cloudfact push --url https://example.com/a1 - < article.txt\n"
            "  cloudfact push --jsonl items.jsonl\n");
}

static int
cmd_push(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"jsonl", no_argument, NULL, 'j'},
        {"url", required_argument, NULL, 'u'},      {"source", required_argument, NULL, 's'},
        {"published", required_argument, NULL, 'p'}, {"window", required_argument, NULL, 'w'},
        {"timeout", required_argument, NULL, 't'},  {"strict", no_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},          {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_INGEST;
    bool jsonl = false, strict = false;
    push_src_t src = {0};
    push_tally_t tally = {0};
    cf_push_opts_t opts = {256, 10000, 5, 20, 5000};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'j': jsonl = true; break;
        case 'u': src.url = optarg; break;
        case 's': src.source = optarg; break;
        case 'p': src.published = optarg; break;
        case 'w': opts.window = (unsigned)strtoul(optarg, NULL, 10); break;
        case 't': opts.timeout_ms = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'S': strict = true; break;
        case 'q': tally.quiet = true; break;
        case 'h': usage_push(stdout); return 0;
        default: usage_push(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "cloudfact: push: no input (see cloudfact push --help)\n");
        return 2;
    }
    if (opts.window < 1 || opts.window > CF_MAX_INFLIGHT) {
        fprintf(stderr, "cloudfact: push: --window must be 1..%u\n", CF_MAX_INFLIGHT);
        return 2;
    }
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
            if (collect(argv[i], &src.files, &src.nfiles, &cap) != 0)
                rc = 1;
        if (src.url && src.nfiles > 1) {
            fprintf(stderr, "cloudfact: push: --url names one article, not %zu\n", src.nfiles);
            rc = 2;
            goto out;
        }
    }
    tally.progress = isatty(STDERR_FILENO) && !tally.quiet;
    catch_signals();
    cf_err_t err;
    if (cf_push_run(endpoint, &opts, next_article, &src, push_done, &tally, &err) != CF_OK) {
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

/* ---- sub --------------------------------------------------------------------- */

static void
usage_sub(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact sub [OPTION]... [PREFIX]...\n"
            "Print the facts cloudfactd publishes, one JSON object per line (flushed per line),\n"
            "with the fields seq, article, type, subject, object, value, unit, period, place,\n"
            "detail, qualifier, status, source, confidence, evidence, evidence_start,\n"
            "evidence_end. PREFIX selects topics: fact.<type>.<subject> (default: fact.).\n"
            "article.done and article.failed events print only when subscribed to by name;\n"
            "heartbeats never print. SIGINT or SIGTERM stop it with exit status 0.\n\n"
            "Options:\n"
            "  --endpoint EP     publish endpoint (default " DEFAULT_PUBLISH ")\n"
            "  --subject ID      only facts about exactly this entity (a prefix subscription\n"
            "                    fact.market_share.hp would also match hpe)\n"
            "  --count N         exit after N facts\n"
            "  --help            show this help\n\n"
            "Examples:\n"
            "  cloudfact sub\n"
            "  cloudfact sub fact.market_share fact.revenue\n"
            "  cloudfact sub --subject aws fact.datacenter.aws\n"
            "  cloudfact sub article.done | jq .\n");
}

static int
cmd_sub(int argc, char **argv)
{
    static const struct option lopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                          {"subject", required_argument, NULL, 's'},
                                          {"count", required_argument, NULL, 'n'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_PUBLISH, *subject = NULL;
    unsigned long long count = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 's': subject = optarg; break;
        case 'n': count = strtoull(optarg, NULL, 10); break;
        case 'h': usage_sub(stdout); return 0;
        default: usage_sub(stderr); return 2;
        }
    }
    const char *const *prefixes = (const char *const *)argv + optind;
    size_t nprefixes = (size_t)(argc - optind);
    cf_err_t err;
    cf_sub_t *sub = cf_sub_new(endpoint, prefixes, nprefixes, &err);
    if (!sub) {
        fprintf(stderr, "cloudfact: sub: %s\n", err.text);
        return 1;
    }
    catch_signals();
    unsigned long long seen = 0;
    int rc = 0;
    while (!interrupted && (count == 0 || seen < count)) {
        cf_sub_msg_t m;
        int r = cf_sub_recv(sub, 1000, &m, &err);
        if (r == CF_EBUSY)
            continue;
        if (r == CF_ECLOSED)
            break;
        if (r != CF_OK) {
            fprintf(stderr, "cloudfact: sub: skipped a malformed message: %s\n", err.text);
            continue;
        }
        json_t *line = NULL;
        if (m.is_fact) {
            if (subject && strcmp(subject, m.fact.subject) != 0)
                continue;
            line = cf_json_fact(&m.fact);
            seen++;
        } else if (strncmp(m.topic, "article.", 8) == 0) {
            bool named = false;
            for (size_t i = 0; i < nprefixes; i++)
                if (strncmp(prefixes[i], "article.", 8) == 0 &&
                    strncmp(m.topic, prefixes[i], strlen(prefixes[i])) == 0)
                    named = true;
            if (!named)
                continue;
            json_t *body = cf_json_from_msgpack(m.body, m.body_len);
            line = json_object();
            json_object_set_new(line, "topic", json_string(m.topic));
            if (json_is_object(body))
                json_object_update(line, body);
            json_decref(body);
        } else {
            continue; /* heartbeats and anything else */
        }
        if (cf_json_print_line(line, stdout) != 0) {
            json_decref(line);
            rc = errno == EPIPE ? 0 : 1;
            break;
        }
        json_decref(line);
    }
    cf_sub_destroy(&sub);
    return rc;
}

/* ---- extract ----------------------------------------------------------------- */

static void
usage_extract(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact extract [OPTION]... FILE...\n"
            "Print the facts of plain-text articles as JSON Lines, without a daemon. Each\n"
            "file's first line is its title, the rest its body; evidence offsets are byte\n"
            "offsets into the body; `article` is the file's base name. Facts come in input\n"
            "order, then by evidence_start. A file that is not UTF-8 is reported and skipped\n"
            "(exit status 1).\n\n"
            "Options:\n"
            "  --data DIR          extractor data directory (default: $CLOUDFACT_DATA, the\n"
            "                      installed share directory, then the source tree)\n"
            "  --published DATE    publication date for relative dates (ISO 8601)\n"
            "  --help              show this help\n\n"
            "Examples:\n"
            "  cloudfact extract examples/articles/*.txt\n"
            "  cloudfact extract --published 2015-06-01 story.txt | jq -c '{type, subject}'\n");
}

static int
cmd_extract(int argc, char **argv)
{
    static const struct option lopts[] = {{"data", required_argument, NULL, 'd'},
                                          {"published", required_argument, NULL, 'p'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *data = NULL, *published = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'p': published = optarg; break;
        case 'h': usage_extract(stdout); return 0;
        default: usage_extract(stderr); return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "cloudfact: extract: no files (see cloudfact extract --help)\n");
        return 2;
    }
    if (published && !cf_text_is_datetime(published)) {
        fprintf(stderr, "cloudfact: extract: --published: not an ISO 8601 date\n");
        return 2;
    }
    cf_err_t err;
    const char *dir = cf_extract_data_dir(data);
    cf_extractor_t *ex = cf_extract_new(dir, &err);
    if (!ex) {
        fprintf(stderr, "cloudfact: extract: data files in %s: %s\n", dir, err.text);
        return 2;
    }
    int rc = 0;
    for (int i = optind; i < argc; i++) {
        char why[256];
        size_t len;
        cf_article_t a = {0};
        char *text = read_file(argv[i], &len, why, sizeof why);
        if (!text || text_to_article(text, len, &a, why, sizeof why) != 0) {
            fprintf(stderr, "cloudfact: extract: %s: %s; skipped\n", argv[i], why);
            free(text);
            cf_article_clear(&a);
            rc = 1;
            continue;
        }
        free(text);
        a.published = cf_strdup(published);
        cf_facts_t facts = {0};
        cf_class_t cls = {0};
        if (cf_extract_article(ex, &a, &facts, &cls, &err) != CF_OK) {
            fprintf(stderr, "cloudfact: extract: %s: %s; skipped\n", argv[i], err.text);
            rc = 1;
        }
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        for (size_t k = 0; k < facts.n && rc != 3; k++) {
            facts.v[k].article_name = cf_strdup(base);
            json_t *line = cf_json_fact(&facts.v[k]);
            if (cf_json_print_line(line, stdout) != 0)
                rc = 3; /* stdout closed: stop quietly */
            json_decref(line);
        }
        cf_facts_clear(&facts);
        cf_class_clear(&cls);
        cf_article_clear(&a);
        if (rc == 3)
            break;
    }
    cf_extract_destroy(&ex);
    return rc == 3 ? 1 : rc;
}

/* ---- stats -------------------------------------------------------------------- */

static int
cmd_stats(int argc, char **argv)
{
    static const struct option lopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_QUERY;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'h':
            printf("Usage: cloudfact stats [--endpoint EP]\n"
                   "Print the daemon's counters as one JSON object (query endpoint, default "
                   DEFAULT_QUERY ").\n\nExample:\n  cloudfact stats | jq .cloudfact_queue_depth\n");
            return 0;
        default: return 2;
        }
    }
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    cf_msg_pack_op(&req, "stats", NULL, 0);
    void *reply;
    size_t len;
    cf_err_t err;
    int rc = cf_query_call(endpoint, req.data, req.size, 5000, &reply, &len, &err);
    msgpack_sbuffer_destroy(&req);
    if (rc != CF_OK) {
        fprintf(stderr, "cloudfact: stats: %s\n", err.text);
        return 1;
    }
    json_t *v = cf_json_from_msgpack(reply, len);
    free(reply);
    if (!v) {
        fprintf(stderr, "cloudfact: stats: malformed reply\n");
        return 1;
    }
    json_object_del(v, "op");
    json_object_del(v, "ref");
    cf_json_print_line(v, stdout);
    json_decref(v);
    return 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        usage_main(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("cloudfact %s\n", CF_VERSION);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is EPIPE, handled where we write */
    if (strcmp(cmd, "push") == 0)
        return cmd_push(argc - 1, argv + 1);
    if (strcmp(cmd, "sub") == 0)
        return cmd_sub(argc - 1, argv + 1);
    if (strcmp(cmd, "extract") == 0)
        return cmd_extract(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(argc - 1, argv + 1);
    fprintf(stderr, "cloudfact: unknown command '%s' (see cloudfact --help)\n", cmd);
    return 2;
}
