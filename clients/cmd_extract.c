/* SPDX-License-Identifier: MIT
 * cmd_extract: `cloudfact extract`: facts from text files, without a daemon. */
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
#include "cf_extract.h"

static void
usage_extract(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact extract [OPTION]... FILE...\n"
            "Print the facts of plain-text articles as JSON Lines, without a daemon. Each\n"
            "file's first line is its title, the rest its body; evidence offsets are byte\n"
            "offsets into the body; `article` is the file's base name. Facts come in input\n"
            "order, then by evidence_start. A file that is not UTF-8, or whose body is larger\n"
            "than 4 MiB (cloudfactd's limit), is reported and skipped (exit status 1). When\n"
            "stderr is a terminal and stdout is not, a progress line there counts files and\n"
            "facts each second, and a last line sums them up.\n\n"
            "Options:\n"
            "  --data DIR          extractor data directory (default: $CLOUDFACT_DATA, the\n"
            "                      installed share directory, then the source tree)\n"
            "  --published DATE    publication date for relative dates (ISO 8601)\n"
            "  --help              show this help\n\n"
            "Examples:\n"
            "  cloudfact extract examples/articles/*.txt\n"
            "  cloudfact extract --published 2015-06-01 story.txt | jq -c '{type, subject}'\n");
}

#define OUT_FLUSH 65536

/* The progress line on stderr (at a terminal, while stdout goes elsewhere). */
typedef struct progress {
    bool on;
    bool shown;  /* a line without its newline is on the screen */
    time_t last; /* when it was last drawn */
    int files, total, skipped;
    size_t facts;
} progress_t;

/* Draws the line once a second, and always when final (with its newline). */
static void
show_progress(progress_t *p, bool final)
{
    if (!p->on)
        return;
    time_t now = time(NULL);
    if (!final && (p->last == 0 ? (p->last = now, true) : now == p->last))
        return; /* nothing in the first second: a short run prints only the sum */
    p->last = now;
    fprintf(stderr, "\r%d of %d files done: %zu facts", p->files, p->total, p->facts);
    if (p->skipped)
        fprintf(stderr, ", %d skipped", p->skipped);
    fputs(final ? "\n" : "", stderr);
    p->shown = !final;
}

/* Ends the progress line before another message goes to stderr. */
static void
progress_break(progress_t *p)
{
    if (p->shown)
        fputc('\n', stderr);
    p->shown = false;
}

/* Writes out's lines to stdout and empties it. Returns 0, or the errno of a failed
 * write (EPIPE: the reader is gone, as `| head` does). */
static int
flush_out(cf_json_buf_t *out)
{
    int rc = 0;
    if (out->len && (fwrite(out->data, 1, out->len, stdout) != out->len || fflush(stdout) != 0))
        rc = errno ? errno : EIO;
    out->len = 0;
    return rc;
}

int
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
    cf_json_buf_t out = {0};
    /* At a terminal each file's lines appear as soon as it is done; into a pipe or
     * a file they go in writes of OUT_FLUSH bytes or more (a write per small file
     * cost a tenth of the command's time, most of it in the kernel). */
    bool live = isatty(STDOUT_FILENO), stopped = false;
    progress_t prog = {.on = !live && isatty(STDERR_FILENO), .total = argc - optind};
    /* Each file is read into one buffer, reused, and the article borrows its title
     * and body from there: no copy of either, no allocation per file. */
    char *text = NULL;
    size_t cap = 0;
    for (int i = optind; i < argc; i++) {
        char why[256];
        size_t len, ta, tlen, at;
        prog.files++;
        if (cmd_read_file_into(argv[i], &text, &cap, &len, why, sizeof why) != 0 ||
            cmd_text_split(text, len, &ta, &tlen, &at, why, sizeof why) != 0) {
            progress_break(&prog);
            fprintf(stderr, "cloudfact: extract: %s: %s; skipped\n", argv[i], why);
            prog.skipped++;
            rc = 1;
            continue;
        }
        text[ta + tlen] = '\0'; /* the title's end: its \r or \n, or the body's NUL */
        cf_article_t a = {.title = text + ta,
                          .body = text + at,
                          .body_len = len - at,
                          .published = (char *)published};
        cf_facts_t facts = {0};
        cf_class_t cls = {0};
        if (cf_extract_article(ex, &a, &facts, &cls, &err) != CF_OK) {
            progress_break(&prog);
            fprintf(stderr, "cloudfact: extract: %s: %s; skipped\n", argv[i], err.text);
            prog.skipped++;
            rc = 1;
        }
        prog.facts += facts.n;
        const char *base = strrchr(argv[i], '/');
        base = base ? base + 1 : argv[i];
        /* file names are bytes; JSON is UTF-8: a name in another encoding is written
         * with '?' for its stray bytes (the facts' other strings are UTF-8 already) */
        char name[NAME_MAX + 1];
        snprintf(name, sizeof name, "%s", base);
        cf_utf8_scrub(name, strlen(name));
        for (size_t k = 0; k < facts.n; k++) {
            facts.v[k].article_name = name;
            cf_json_fact_append(&facts.v[k], &out);
            facts.v[k].article_name = NULL; /* borrowed: not the fact's to free */
        }
        int werr = live || out.len >= OUT_FLUSH || i + 1 == argc ? flush_out(&out) : 0;
        cf_facts_clear(&facts);
        cf_class_clear(&cls);
        if (werr) {
            rc = cmd_output_failed("extract", werr, rc);
            stopped = true;
            break;
        }
        show_progress(&prog, false);
    }
    int werr = stopped ? 0 : flush_out(&out); /* what a skipped last file left */
    if (werr) {
        rc = cmd_output_failed("extract", werr, rc);
        stopped = true;
    }
    if (!stopped)
        show_progress(&prog, true);
    free(text);
    cf_json_buf_free(&out);
    cf_extract_destroy(&ex);
    return rc;
}
