/* SPDX-License-Identifier: MIT
 * cmd_query: `cloudfact query`: the archived facts matching filters, streamed by
 * the daemon's `facts` op; JSON Lines when stdout is not a terminal, an aligned
 * table when it is. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cf_client.h"
#include "cf_json.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "cmd.h"

#define TABLE_CHUNK 1000 /* rows a table buffers to size its columns */
#define COL_MAX 28       /* widest column but evidence */
#define EVIDENCE_MAX 60  /* evidence is cut here (a table is for reading) */

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact query [OPTION]...\n"
            "Print the archived facts that match every given filter, in seq order: JSON Lines\n"
            "(one fact object per line, the fields of `cloudfact sub`) when stdout is not a\n"
            "terminal, an aligned table when it is.\n\n"
            "Filters (all optional; several means all of them):\n"
            "  --type TYPE        fact type (market_share, revenue, datacenter, ...)\n"
            "  --subject ID       entity id the fact is about (aws, microsoft, ...)\n"
            "  --object ID        entity id of the counterpart (partner, target, rival)\n"
            "  --status WORD      reported, announced, planned, rumored or speculative\n"
            "  --place NAME       place, as normalized (Frankfurt, United States)\n"
            "  --from PERIOD      facts whose period ends on or after the start of PERIOD\n"
            "  --to PERIOD        facts whose period starts on or before the end of PERIOD\n"
            "                     (PERIOD: YYYY, YYYY-Qn, YYYY-Hn, YYYY-MM, YYYY-MM-DD, FYyyyy;\n"
            "                     a range means overlap)\n"
            "  --article ID       facts of one article\n"
            "  --text QUERY       full-text search over article titles and bodies (SQLite FTS5\n"
            "                     syntax: words, \"a phrase\", OR, NOT, prefix*)\n"
            "  --since SEQ        facts after SEQ\n"
            "  --limit N          at most N facts\n\n"
            "Options:\n"
            "  --endpoint EP      query endpoint (default " DEFAULT_QUERY ")\n"
            "  --json             JSON Lines even at a terminal\n"
            "  --table            a table even when piped\n"
            "  --help             show this help\n" CMD_KEY_USAGE "\n"
            "Exit status: 0 on success (also when nothing matches), 1 when the daemon cannot\n"
            "be reached, the query fails or a signal cuts the answer short, 2 on a usage\n"
            "error, a filter no fact can match (an unknown type or status, a subject or\n"
            "object that is not an entity id) or a --from after --to.\n\n"
            "Examples:\n"
            "  cloudfact query --type market_share --subject aws --from 2014 --to 2015\n"
            "  cloudfact query --text 'Frankfurt AND region' --type datacenter\n"
            "  cloudfact query --status rumored --limit 20 | jq -c '[.seq, .subject, .object]'\n");
}

typedef struct out {
    bool table;
    char **rows; /* buffered table rows: cells separated by '\t' */
    size_t nrows;
    int widths[11]; /* fixed once the first chunk printed */
    bool sized;
    int rc;
    bool stop;
} out_t;

static const char *const headers[] = {"SEQ",  "ARTICLE", "TYPE",  "SUBJECT", "OBJECT",  "VALUE",
                                      "UNIT", "PERIOD",  "PLACE", "STATUS",  "EVIDENCE"};
#define NCOLS (sizeof headers / sizeof *headers)

/* A cell: no tabs or newlines (they would break the row), at most max bytes, cut on
 * a UTF-8 boundary. */
static void
cell(char *buf, size_t bufsz, const char *s, size_t max)
{
    size_t n = 0;
    if (!s)
        s = "-";
    for (const char *p = s; *p && n + 1 < bufsz && n < max; p++)
        buf[n++] = (*p == '\t' || *p == '\n' || *p == '\r') ? ' ' : *p;
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--; /* cut before the character that did not fit whole */
    buf[n] = '\0';
}

/* Display width of UTF-8 text: one column per character. */
static int
width(const char *s, int upto)
{
    int w = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p && (upto < 0 || w < upto); p++)
        w += (*p & 0xc0) != 0x80;
    return w;
}

static char *
row_of(const cf_fact_t *f)
{
    char c[NCOLS][512];
    snprintf(c[0], sizeof c[0], "%" PRIu64, f->seq);
    snprintf(c[1], sizeof c[1], "%" PRIu64, f->article);
    cell(c[2], sizeof c[2], f->type, COL_MAX);
    cell(c[3], sizeof c[3], f->subject, COL_MAX);
    cell(c[4], sizeof c[4], f->object, COL_MAX);
    if (!f->has_value)
        snprintf(c[5], sizeof c[5], "-");
    else if (f->value == (double)(long long)f->value && f->value < 1e15 && f->value > -1e15)
        snprintf(c[5], sizeof c[5], "%lld", (long long)f->value);
    else
        snprintf(c[5], sizeof c[5], "%.6f", f->value);
    cell(c[6], sizeof c[6], f->unit, COL_MAX);
    cell(c[7], sizeof c[7], f->period, COL_MAX);
    cell(c[8], sizeof c[8], f->place, COL_MAX);
    cell(c[9], sizeof c[9], f->status, COL_MAX);
    cell(c[10], sizeof c[10], f->evidence, EVIDENCE_MAX);
    size_t len = 0;
    for (size_t i = 0; i < NCOLS; i++)
        len += strlen(c[i]) + 1;
    char *row = cf_malloc(len);
    row[0] = '\0';
    for (size_t i = 0; i < NCOLS; i++) {
        strcat(row, c[i]);
        if (i + 1 < NCOLS)
            strcat(row, "\t");
    }
    return row;
}

static void
print_cells(out_t *o, char *row)
{
    char *save = NULL;
    size_t i = 0;
    for (char *t = strtok_r(row, "\t", &save); t && i < NCOLS;
         t = strtok_r(NULL, "\t", &save), i++) {
        if (i + 1 < NCOLS)
            printf("%s%*s  ", t, o->widths[i] - width(t, -1), "");
        else
            printf("%s", t);
    }
    printf("\n");
}

static void
flush_table(out_t *o)
{
    if (!o->sized) {
        for (size_t i = 0; i < NCOLS; i++)
            o->widths[i] = width(headers[i], -1);
        for (size_t r = 0; r < o->nrows; r++) {
            char *copy = cf_strdup(o->rows[r]), *save = NULL;
            size_t i = 0;
            for (char *t = strtok_r(copy, "\t", &save); t && i < NCOLS;
                 t = strtok_r(NULL, "\t", &save), i++)
                if (width(t, -1) > o->widths[i])
                    o->widths[i] = width(t, -1);
            free(copy);
        }
        o->sized = true;
        char hdr[256] = "";
        for (size_t i = 0; i < NCOLS; i++) {
            strcat(hdr, headers[i]);
            if (i + 1 < NCOLS)
                strcat(hdr, "\t");
        }
        print_cells(o, hdr);
    }
    for (size_t r = 0; r < o->nrows; r++) {
        print_cells(o, o->rows[r]);
        free(o->rows[r]);
    }
    o->nrows = 0;
    if (fflush(stdout) != 0) {
        o->rc = cmd_output_failed("query", errno, o->rc);
        o->stop = true;
    }
}

static int
on_fact(void *arg, const cf_fact_t *f)
{
    out_t *o = arg;
    if (o->table) {
        o->rows[o->nrows++] = row_of(f);
        if (o->nrows == TABLE_CHUNK)
            flush_table(o);
        return o->stop;
    }
    json_t *line = cf_json_fact(f);
    if (cf_json_print_line(line, stdout) != 0) {
        o->rc = cmd_output_failed("query", errno, o->rc);
        o->stop = true;
    }
    json_decref(line);
    return o->stop || cmd_interrupted;
}

/* The daemon matches filters exactly, so a misspelt one ("--type marketshare",
 * "--status Reported", "--subject AWS") or an empty range would print nothing and
 * exit 0: refused here, where the user can be told. Returns 0 or 2 (usage). */
static int
check_filters(const cf_msg_facts_t *q)
{
    if (q->type && !cf_fact_type_is_valid(q->type)) {
        fprintf(stderr, "cloudfact: query: --type: '%s' is not a fact type; the types are",
                q->type);
        cmd_print_fact_types(stderr);
        return 2;
    }
    if (q->status && !cf_fact_status_is_valid(q->status)) {
        fprintf(stderr,
                "cloudfact: query: --status: '%s' is not a status; the statuses are reported, "
                "announced, planned, rumored and speculative\n",
                q->status);
        return 2;
    }
    if (cmd_entity_id_check("query", "--subject", q->subject) ||
        cmd_entity_id_check("query", "--object", q->object))
        return 2;
    char from_a[11], from_b[11], to_a[11], to_b[11];
    if ((q->period_from && cf_period_range(q->period_from, from_a, from_b) != CF_OK) ||
        (q->period_to && cf_period_range(q->period_to, to_a, to_b) != CF_OK)) {
        fprintf(stderr, "cloudfact: query: --from and --to take a period: YYYY, YYYY-Qn, "
                        "YYYY-Hn, YYYY-MM, YYYY-MM-DD or FYyyyy\n");
        return 2;
    }
    /* YYYY-MM-DD compares as text */
    if (q->period_from && q->period_to && strcmp(from_a, to_b) > 0) {
        fprintf(stderr,
                "cloudfact: query: --from %s starts after --to %s ends (%s > %s): no fact "
                "can match\n",
                q->period_from, q->period_to, from_a, to_b);
        return 2;
    }
    return 0;
}

int
cmd_query(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"endpoint", required_argument, NULL, 'e'}, {"type", required_argument, NULL, 't'},
        {"subject", required_argument, NULL, 's'},  {"object", required_argument, NULL, 'o'},
        {"status", required_argument, NULL, 'S'},   {"place", required_argument, NULL, 'p'},
        {"from", required_argument, NULL, 'f'},     {"to", required_argument, NULL, 'T'},
        {"article", required_argument, NULL, 'a'},  {"text", required_argument, NULL, 'x'},
        {"since", required_argument, NULL, 'n'},    {"limit", required_argument, NULL, 'l'},
        {"json", no_argument, NULL, 'j'},           {"table", no_argument, NULL, 'b'},
        {"help", no_argument, NULL, 'h'},           CMD_KEY_OPTIONS,
        {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_QUERY;
    cmd_keys_t keys = {0};
    cf_curve_client_t curve;
    cf_msg_facts_t q = {0};
    int force = 0; /* 1 json, 2 table */
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            endpoint = optarg;
            break;
        CMD_KEY_CASES(keys)
        case 't':
            q.type = optarg;
            break;
        case 's':
            q.subject = optarg;
            break;
        case 'o':
            q.object = optarg;
            break;
        case 'S':
            q.status = optarg;
            break;
        case 'p':
            q.place = optarg;
            break;
        case 'f':
            q.period_from = optarg;
            break;
        case 'T':
            q.period_to = optarg;
            break;
        case 'x':
            q.text = optarg;
            break;
        case 'a':
            if (cmd_parse_u64("query", "article", optarg, 0, UINT64_MAX, &q.article))
                return 2;
            q.has_article = true;
            break;
        case 'n':
            if (cmd_parse_u64("query", "since", optarg, 0, UINT64_MAX, &q.since))
                return 2;
            break;
        case 'l':
            if (cmd_parse_u64("query", "limit", optarg, 0, UINT64_MAX, &q.limit))
                return 2;
            q.has_limit = true;
            break;
        case 'j':
            force = 1;
            break;
        case 'b':
            force = 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cloudfact: query: unexpected argument '%s' (see --help)\n", argv[optind]);
        return 2;
    }
    if (check_filters(&q))
        return 2;
    if (cmd_curve_load("query", &keys, endpoint, &curve) || cmd_endpoint_check("query", endpoint))
        return 2;
    out_t o = {0};
    o.table = force ? force == 2 : isatty(STDOUT_FILENO);
    if (o.table)
        o.rows = cf_calloc(TABLE_CHUNK, sizeof *o.rows);
    cmd_catch_signals();
    cf_stream_end_t end;
    cf_err_t err;
    int rc = cf_facts_query(endpoint, &curve, &q, 10000, on_fact, &o, &end, &err);
    if (o.table) {
        if (!o.stop)
            flush_table(&o);
        for (size_t r = 0; r < o.nrows; r++)
            free(o.rows[r]);
        free(o.rows);
        if (rc == CF_OK && !o.stop)
            printf("%" PRIu64 " fact(s)\n", end.facts);
    }
    if (cmd_interrupted && !o.stop) {
        /* the answer is cut short: a script must not take it for the whole one */
        fprintf(stderr, "cloudfact: query: interrupted\n");
        return 1;
    }
    if (rc != CF_OK && !o.stop) {
        fprintf(stderr, "cloudfact: query: %s\n", err.text);
        return 1;
    }
    return o.rc;
}
