/* SPDX-License-Identifier: MIT
 * cmd_quarantine: `cloudfact quarantine`: list the articles cloudfactd gave up
 * on (max_attempts failed attempts) with why, or hand them back to the queue.
 * An operator command: it talks to the daemon's ipc control endpoint. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <msgpack.h>

#include "cf_client.h"
#include "cf_json.h"
#include "cf_msg.h"
#include "cmd.h"

#define PAGE 500

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact quarantine [OPTION]...\n"
            "List the articles cloudfactd quarantined (their worker failed max_attempts times:\n"
            "a crash, a hang past the job deadline, an invalid result) with the last reason and\n"
            "the attempts; or hand them back to the queue, e.g. after a rules fix. Attempts\n"
            "start again from zero.\n\n"
            "Options:\n"
            "  --state-dir DIR    the daemon's state directory: talk to ipc://DIR/control.sock\n"
            "                     (default var, as `make run` uses)\n"
            "  --endpoint EP      the control endpoint itself (under systemd:\n"
            "                     ipc:///run/cloudfactd/control.sock), or the daemon's query\n"
            "                     endpoint with an operator key (--server-key, --key)\n"
            "  --requeue ID       hand article ID back to the queue\n"
            "  --all              hand every quarantined article back to the queue\n"
            "  --json             JSON Lines even at a terminal\n"
            "  --help             show this help\n"
            CMD_KEY_USAGE "\n"
            "The list is a table at a terminal, else JSON Lines: one object per article,\n"
            "{id, url, title, attempts, error, received_at}.\n"
            "Exit status: 0 on success, 1 when the daemon cannot be reached or refuses\n"
            "(e.g. --requeue of an article that is not quarantined), 2 on a usage error.\n\n"
            "Examples:\n"
            "  cloudfact quarantine\n"
            "  cloudfact quarantine --requeue 1042\n"
            "  cloudfact quarantine --all --endpoint ipc:///run/cloudfactd/control.sock\n"
            "  cloudfact quarantine --endpoint tcp://cf1:7703 --server-key cf1.pub --key me.key\n");
}

typedef struct listing {
    bool table;
    size_t page;      /* articles in this page */
    size_t total;
    uint64_t last;    /* id to continue after */
    char error[256];
} listing_t;

static const char *
str_or(json_t *o, const char *k, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, k));
    return s ? s : dflt;
}

static int
on_reply(const char *op, const void *body, size_t len, void *arg)
{
    listing_t *l = arg;
    json_t *v = cf_json_from_msgpack(body, len);
    if (strcmp(op, "quarantined") == 0) {
        json_t *a = json_object_get(v, "article");
        l->page++;
        l->total++;
        l->last = (uint64_t)json_integer_value(json_object_get(a, "id"));
        if (l->table)
            printf("%-8llu %-8lld %-40.40s %s\n", (unsigned long long)l->last,
                   (long long)json_integer_value(json_object_get(a, "attempts")),
                   str_or(a, "url", "-"), str_or(a, "error", "-"));
        else
            cf_json_print_line(a, stdout);
    } else if (strcmp(op, "error") == 0 || (strcmp(op, "end") == 0 && json_object_get(v, "error"))) {
        snprintf(l->error, sizeof l->error, "%s", str_or(v, "error", "unknown error"));
    }
    json_decref(v);
    return 0;
}

static int
on_requeue(const char *op, const void *body, size_t len, void *arg)
{
    listing_t *l = arg;
    json_t *v = cf_json_from_msgpack(body, len);
    if (strcmp(op, "requeue") == 0)
        l->total = (size_t)json_integer_value(json_object_get(v, "requeued"));
    else
        snprintf(l->error, sizeof l->error, "%s", str_or(v, "error", "unexpected reply"));
    json_decref(v);
    return 1; /* one reply */
}

int
cmd_quarantine(int argc, char **argv)
{
    static const struct option lopts[] = {
        {"state-dir", required_argument, NULL, 's'}, {"endpoint", required_argument, NULL, 'e'},
        {"requeue", required_argument, NULL, 'r'},   {"all", no_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},            {"help", no_argument, NULL, 'h'},
        CMD_KEY_OPTIONS,                             {NULL, 0, NULL, 0}};
    cmd_keys_t keys = {0};
    cf_curve_client_t curve;
    const char *state_dir = "var", *endpoint = NULL;
    uint64_t requeue_id = 0;
    bool all = false, json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 's': state_dir = optarg; break;
        case 'e': endpoint = optarg; break;
        case 'r':
            if (cmd_parse_u64("quarantine", "requeue", optarg, 1, UINT64_MAX, &requeue_id))
                return 2;
            break;
        case 'a': all = true; break;
        case 'j': json = true; break;
        CMD_KEY_CASES(keys)
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc || (all && requeue_id)) {
        fprintf(stderr, "cloudfact: quarantine: give --requeue ID or --all, not both "
                        "(see --help)\n");
        return 2;
    }
    char ep[4200];
    if (endpoint)
        snprintf(ep, sizeof ep, "%s", endpoint);
    else
        snprintf(ep, sizeof ep, "ipc://%s/control.sock", state_dir);
    if (cmd_curve_load("quarantine", &keys, ep, &curve))
        return 2;
    if (cmd_endpoint_check("quarantine", ep))
        return 2;
    listing_t l = {0};
    l.table = !json && isatty(STDOUT_FILENO);
    msgpack_sbuffer req;
    msgpack_sbuffer_init(&req);
    cf_err_t err;
    int rc;
    if (all || requeue_id) {
        cf_msg_pack_requeue(&req, NULL, 0, requeue_id, all);
        rc = cf_query_stream(ep, &curve, req.data, req.size, 10000, on_requeue, &l, &err);
        msgpack_sbuffer_destroy(&req);
        if (rc != CF_OK || l.error[0]) {
            fprintf(stderr, "cloudfact: quarantine: %s\n", rc != CF_OK ? err.text : l.error);
            return 1;
        }
        fprintf(stderr, "requeued %zu article(s)\n", l.total);
        return 0;
    }
    if (l.table)
        printf("%-8s %-8s %-40s %s\n", "ID", "ATTEMPTS", "URL", "LAST ERROR");
    do {
        l.page = 0;
        cf_msg_pack_quarantine(&req, NULL, 0, l.last, PAGE);
        rc = cf_query_stream(ep, &curve, req.data, req.size, 10000, on_reply, &l, &err);
        msgpack_sbuffer_clear(&req);
    } while (rc == CF_OK && !l.error[0] && l.page == PAGE);
    msgpack_sbuffer_destroy(&req);
    if (rc != CF_OK || l.error[0]) {
        fprintf(stderr, "cloudfact: quarantine: %s\n", rc != CF_OK ? err.text : l.error);
        return 1;
    }
    if (l.table)
        printf("%zu quarantined article(s)\n", l.total);
    if (fflush(stdout) != 0 || ferror(stdout))
        return cmd_output_failed("quarantine", errno, 0);
    return 0;
}
