/* SPDX-License-Identifier: MIT
 * cmd_sub: `cloudfact sub`: print the published fact stream as JSON Lines. */
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

int
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
    cmd_catch_signals();
    unsigned long long seen = 0;
    int rc = 0;
    while (!cmd_interrupted && (count == 0 || seen < count)) {
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
