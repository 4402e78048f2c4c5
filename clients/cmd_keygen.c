/* SPDX-License-Identifier: MIT
 * cmd_keygen: `cloudfact keygen NAME`: a CURVE key pair for a daemon, a scraper,
 * a subscriber, a worker or an operator (libzmq ships no keygen program). */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cf_key.h"
#include "cmd.h"

static void
usage(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact keygen [--dir DIR] [--force] NAME\n"
            "Make a CURVE key pair: DIR/NAME.pub holds the public key (40 Z85 characters\n"
            "and a newline), DIR/NAME.key the secret key (the same format, mode 0600).\n"
            "The public half of a .key is derived from it, so only the .key is needed\n"
            "beside the daemon's .pub to connect.\n\n"
            "Give the daemon its own pair (cloudfactd --curve-key NAME.key) and publish its\n"
            ".pub to clients (--server-key). Give each client its own pair and copy its\n"
            ".pub into the allowlist directory of its role on the daemon's host\n"
            "(--allow-scrapers, --allow-subscribers, --allow-workers, --allow-operators),\n"
            "then reload the daemon (SIGHUP). The file name, without .pub, is the name the\n"
            "daemon logs. Revoke a key by deleting its file there and reloading.\n\n"
            "Options:\n"
            "  --dir DIR     where to write the files (default: the current directory)\n"
            "  --force       replace existing files (default: refuse)\n"
            "  --help        show this help\n\n"
            "NAME: letters, digits, '.', '_' and '-', not starting with '.'.\n"
            "Prints the public key on stdout.\n"
            "Exit status: 0 on success, 1 when the files cannot be written (or exist),\n"
            "2 on a usage error.\n\n"
            "Examples:\n"
            "  cloudfact keygen --dir /etc/cloudfact cloudfactd\n"
            "  cloudfact keygen scraper-eu1 && scp scraper-eu1.pub cf1:/etc/cloudfact/scrapers/\n");
}

int
cmd_keygen(int argc, char **argv)
{
    static const struct option lopts[] = {{"dir", required_argument, NULL, 'd'},
                                          {"force", no_argument, NULL, 'f'},
                                          {"help", no_argument, NULL, 'h'},
                                          {NULL, 0, NULL, 0}};
    const char *dir = ".";
    bool force = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'd': dir = optarg; break;
        case 'f': force = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "cloudfact: keygen: give one NAME (see --help)\n");
        return 2;
    }
    const char *name = argv[optind];
    if (!cf_key_name_ok(name)) {
        fprintf(stderr,
                "cloudfact: keygen: '%s' is not a key name (letters, digits, '.', '_', '-'; "
                "not starting with '.')\n",
                name);
        return 2;
    }
    char pub[CF_KEY_Z85 + 1];
    cf_err_t err;
    if (cf_key_generate(dir, name, force, pub, &err) != CF_OK) {
        fprintf(stderr, "cloudfact: keygen: %s\n", err.text);
        return 1;
    }
    printf("%s\n", pub);
    fprintf(stderr, "wrote %s/%s.pub and %s/%s.key (mode 0600)\n", dir, name, dir, name);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "cloudfact: keygen: cannot write the public key to the output: %s\n",
                strerror(errno));
        return 1;
    }
    return 0;
}
