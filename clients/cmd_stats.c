/* SPDX-License-Identifier: MIT
 * cmd_stats: `cloudfact stats`: the daemon's counters. */
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

int
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
