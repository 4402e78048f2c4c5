/* SPDX-License-Identifier: MIT
 * cmd_stats: `cloudfact stats`: the daemon's counters from the query socket. A
 * summary for people at a terminal, one JSON object for programs otherwise (or
 * with --json). */
#include <errno.h>
#include <getopt.h>
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

/* A number from the stats object, or -1 when the daemon does not report it. */
static double
num(json_t *v, const char *key)
{
    json_t *x = json_object_get(v, key);
    return json_is_number(x) ? json_number_value(x) : -1;
}

/* Integer text, or "?" for a missing value. */
static const char *
n(json_t *v, const char *key, char *buf, size_t len)
{
    double x = num(v, key);
    if (x < 0)
        snprintf(buf, len, "?");
    else
        snprintf(buf, len, "%.0f", x);
    return buf;
}

static void
human_size(double bytes, char *out, size_t len)
{
    const char *unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    size_t u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(out, len, u ? "%.1f %s" : "%.0f %s", bytes, unit[u]);
}

static void
human_duration(double s, char *out, size_t len)
{
    long t = s < 0 ? 0 : (long)s;
    if (t >= 86400)
        snprintf(out, len, "%ldd %02ldh", t / 86400, t % 86400 / 3600);
    else if (t >= 3600)
        snprintf(out, len, "%ldh %02ldm", t / 3600, t % 3600 / 60);
    else
        snprintf(out, len, "%ldm %02lds", t / 60, t % 60);
}

/* The labeled samples of one family (`family{label="value"}`) as "value N, ...". */
static void
by_label(json_t *v, const char *family, char *out, size_t len)
{
    const char *key;
    json_t *val;
    size_t fl = strlen(family), used = 0;
    out[0] = '\0';
    json_object_foreach(v, key, val)
    {
        if (strncmp(key, family, fl) != 0 || key[fl] != '{' || !json_is_number(val))
            continue;
        const char *q = strchr(key, '"');
        const char *e = q ? strchr(q + 1, '"') : NULL;
        if (!e)
            continue;
        int w = snprintf(out + used, len - used, "%s%.*s %.0f", used ? ", " : "",
                         (int)(e - q - 1), q + 1, json_number_value(val));
        if (w < 0 || (size_t)w >= len - used)
            break;
        used += (size_t)w;
    }
}

/* The security line: keys per role, admitted handshakes, refusals by reason
 * (summed over endpoints). Only when CURVE is in use. */
static void
print_auth(json_t *v, FILE *out)
{
    static const char *const reasons[] = {"unknown_key", "wrong_role",   "no_curve",
                                          "bad_handshake", "revoked", "not_operator"};
    static const char *const roles[] = {"scrapers", "subscribers", "workers", "operators"};
    double keys[4], refused[6] = {0}, total = 0, admitted = 0;
    const char *key;
    json_t *val;
    for (size_t r = 0; r < 4; r++) {
        char k[96];
        snprintf(k, sizeof k, "cloudfact_auth_keys{role=\"%s\"}", roles[r]);
        keys[r] = num(v, k);
        total += keys[r] > 0 ? keys[r] : 0;
    }
    json_object_foreach(v, key, val)
    {
        if (!json_is_number(val))
            continue;
        if (strncmp(key, "cloudfact_auth_accepted_total{", 30) == 0)
            admitted += json_number_value(val);
        if (strncmp(key, "cloudfact_auth_refused_total{", 29) != 0)
            continue;
        for (size_t r = 0; r < 6; r++) {
            char pat[64];
            snprintf(pat, sizeof pat, "reason=\"%s\"", reasons[r]);
            if (strstr(key, pat))
                refused[r] += json_number_value(val);
        }
    }
    double any = 0;
    for (size_t r = 0; r < 6; r++)
        any += refused[r];
    if (total == 0 && any == 0 && admitted == 0)
        return; /* no CURVE */
    fprintf(out,
            "auth      keys: %.0f scrapers, %.0f subscribers, %.0f workers, %.0f operators; "
            "%.0f admitted\n",
            keys[0], keys[1], keys[2], keys[3], admitted);
    fprintf(out, "  refused");
    for (size_t r = 0; r < 6; r++)
        fprintf(out, "%s %s %.0f", r ? "," : "", reasons[r], refused[r]);
    fputc('\n', out);
}

static void
print_human(json_t *v, FILE *out)
{
    char a[32], b[32], c[32], d[32], e[32], f[32], size[32], up[32], types[1024];
    human_duration(num(v, "cloudfact_uptime_seconds"), up, sizeof up);
    fprintf(out, "cloudfactd up %s, %s, %s\n", up,
            num(v, "cloudfact_ready") == 1 ? "ready" : "starting",
            num(v, "cloudfact_healthy") == 1 ? "healthy" : "NOT healthy (see /healthz)");
    fprintf(out, "queue     %s queued, %s processing, %s awaiting commit (busy above %s)\n",
            n(v, "cloudfact_queue_depth", a, sizeof a),
            n(v, "cloudfact_articles_processing", b, sizeof b),
            n(v, "cloudfact_ingest_pending", c, sizeof c), n(v, "cloudfact_max_queue", d, sizeof d));
    fprintf(out, "rates     %.1f accepted/s, %.1f done/s, %.1f facts/s (last 10 s)\n",
            num(v, "cloudfact_accepted_per_second"), num(v, "cloudfact_done_per_second"),
            num(v, "cloudfact_facts_per_second"));
    fprintf(out, "ingest    %s accepted, %s duplicate, %s invalid, %s busy, %s denied\n",
            n(v, "cloudfact_articles_accepted_total", a, sizeof a),
            n(v, "cloudfact_articles_duplicate_total", b, sizeof b),
            n(v, "cloudfact_articles_invalid_total", c, sizeof c),
            n(v, "cloudfact_articles_busy_total", d, sizeof d),
            n(v, "cloudfact_articles_received_total{result=\"denied\"}", e, sizeof e));
    fprintf(out, "workers   %s ready, %s running of %s, %s restarted, %s crashed, %s bad messages\n",
            n(v, "cloudfact_workers_ready", a, sizeof a),
            n(v, "cloudfact_workers_alive", b, sizeof b),
            n(v, "cloudfact_workers_configured", c, sizeof c),
            n(v, "cloudfact_workers_restarted_total", d, sizeof d),
            n(v, "cloudfact_workers_crashed_total", e, sizeof e),
            n(v, "cloudfact_worker_bad_messages_total", f, sizeof f));
    fprintf(out, "jobs      %s in flight, %s sent, %s failed attempts, %s quarantined\n",
            n(v, "cloudfact_jobs_inflight", a, sizeof a), n(v, "cloudfact_jobs_total", b, sizeof b),
            n(v, "cloudfact_attempts_failed_total", c, sizeof c),
            n(v, "cloudfact_articles_quarantined_total", d, sizeof d));
    fprintf(out,
            "facts     %s archived, %s published (this run), last seq %s, %s subscriptions, "
            "%s subscriber overflows\n",
            n(v, "cloudfact_facts_archived_total", a, sizeof a),
            n(v, "cloudfact_facts_published_total", b, sizeof b),
            n(v, "cloudfact_last_seq", c, sizeof c), n(v, "cloudfact_subscriptions", d, sizeof d),
            n(v, "cloudfact_publish_overflows_total", e, sizeof e));
    by_label(v, "cloudfact_facts_total", types, sizeof types);
    if (types[0])
        fprintf(out, "  by type %s\n", types);
    double bytes = num(v, "cloudfact_archive_size_bytes");
    if (bytes >= 0)
        human_size(bytes, size, sizeof size);
    else
        snprintf(size, sizeof size, "?");
    fprintf(out, "archive   %s done, %s failed, %s, %s commits, %s rollbacks\n",
            n(v, "cloudfact_articles_done", a, sizeof a),
            n(v, "cloudfact_articles_failed", b, sizeof b), size,
            n(v, "cloudfact_archive_commits_total", c, sizeof c),
            n(v, "cloudfact_archive_rollbacks_total", d, sizeof d));
    fprintf(out, "search    %s done articles waiting to be indexed for text search\n",
            n(v, "cloudfact_search_backlog", a, sizeof a));
    print_auth(v, out);
}

int
cmd_stats(int argc, char **argv)
{
    static const struct option lopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                          {"json", no_argument, NULL, 'j'},
                                          {"help", no_argument, NULL, 'h'},
                                          CMD_KEY_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_QUERY;
    cmd_keys_t keys = {0};
    cf_curve_client_t curve;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e': endpoint = optarg; break;
        case 'j': json = true; break;
        CMD_KEY_CASES(keys)
        case 'h':
            printf("Usage: cloudfact stats [--endpoint EP] [--json] [--server-key F --key F]\n"
                   "Print the daemon's counters (query endpoint, default " DEFAULT_QUERY ").\n"
                   "At a terminal: a summary (queue, rates, ingest results, workers, jobs,\n"
                   "facts, archive). Otherwise, or with --json: one JSON object with every\n"
                   "counter, named as on /metrics (labeled samples keep their labels in the\n"
                   "key, e.g. cloudfact_articles_received_total{result=\"busy\"}).\n\n"
                   CMD_KEY_USAGE "\n"
                   "Exit status: 0 on success, 1 when the daemon does not answer, 2 on a\n"
                   "usage error.\n\n"
                   "Examples:\n  cloudfact stats\n"
                   "  cloudfact stats | jq .cloudfact_queue_depth\n");
            return 0;
        default: return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "cloudfact: stats: unexpected argument '%s'\n", argv[optind]);
        return 2;
    }
    if (cmd_curve_load("stats", &keys, endpoint, &curve) || cmd_endpoint_check("stats", endpoint))
        return 2;
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    cf_msg_pack_op(&req, "stats", NULL, 0);
    void *reply;
    size_t len;
    cf_err_t err;
    int rc = cf_query_call(endpoint, &curve, req.data, req.size, 5000, &reply, &len, &err);
    msgpack_sbuffer_destroy(&req);
    if (rc != CF_OK) {
        fprintf(stderr, "cloudfact: stats: %s\n", err.text);
        return 1;
    }
    json_t *v = cf_json_from_msgpack(reply, len);
    free(reply);
    if (!v || !json_is_object(v)) {
        fprintf(stderr, "cloudfact: stats: malformed reply\n");
        json_decref(v);
        return 1;
    }
    /* an error reply (a revoked key, the wrong endpoint) is not a set of counters */
    const char *op = json_string_value(json_object_get(v, "op"));
    if (!op || strcmp(op, "stats") != 0) {
        const char *why = json_string_value(json_object_get(v, "error"));
        fprintf(stderr, "cloudfact: stats: %s%s\n", why ? "the daemon answered: " : "",
                why ? why : "not a stats reply (is --endpoint the query endpoint?)");
        json_decref(v);
        return 1;
    }
    json_object_del(v, "op");
    json_object_del(v, "ref");
    int status = 0;
    if (json || !isatty(STDOUT_FILENO)) {
        if (cf_json_print_line(v, stdout) != 0)
            status = cmd_output_failed("stats", errno, 0);
    } else {
        print_human(v, stdout);
        if (fflush(stdout) != 0)
            status = cmd_output_failed("stats", errno, 0);
    }
    json_decref(v);
    return status;
}
