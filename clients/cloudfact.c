/* SPDX-License-Identifier: MIT
 * cloudfact: the command line for people and scripts. push articles, sub to the
 * fact stream, extract facts from files without a daemon, ask for stats. Output
 * for other tools is JSON Lines on stdout; errors go to stderr as
 * `cloudfact: what failed: why`. Exit 0 success, 1 runtime failure, 2 usage.
 * One file per subcommand (cmd_*.c); this one only dispatches. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

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
            "  query              archived facts by type, company, period, text ...\n"
            "  extract FILE...    print the facts of text files as JSON Lines (no daemon)\n"
            "  stats              the daemon's counters: a summary, or JSON when piped\n"
            "  quarantine         list failed articles, or hand them back to the queue\n"
            "  check              verify an archive offline (--repair fixes what it can)\n"
            "  keygen NAME        make a CURVE key pair: NAME.pub and NAME.key\n\n"
            "Run `cloudfact COMMAND --help` for a command's options and examples.\n"
            "Exit status: 0 on success, 1 on a runtime failure, 2 on a usage error.\n");
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
    /* getopt names argv[0] in its messages: `cloudfact: push: unrecognized option` */
    char prog[64];
    snprintf(prog, sizeof prog, "cloudfact: %s", cmd);
    argv[1] = prog;
    if (strcmp(cmd, "push") == 0)
        return cmd_push(argc - 1, argv + 1);
    if (strcmp(cmd, "sub") == 0)
        return cmd_sub(argc - 1, argv + 1);
    if (strcmp(cmd, "query") == 0)
        return cmd_query(argc - 1, argv + 1);
    if (strcmp(cmd, "extract") == 0)
        return cmd_extract(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0)
        return cmd_stats(argc - 1, argv + 1);
    if (strcmp(cmd, "quarantine") == 0)
        return cmd_quarantine(argc - 1, argv + 1);
    if (strcmp(cmd, "keygen") == 0)
        return cmd_keygen(argc - 1, argv + 1);
    if (strcmp(cmd, "check") == 0)
        return cmd_check(argc - 1, argv + 1);
    fprintf(stderr, "cloudfact: unknown command '%s' (see cloudfact --help)\n", cmd);
    return 2;
}
