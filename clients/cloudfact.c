/* SPDX-License-Identifier: MIT
 * cloudfact: the command line for people and scripts. push articles, sub to the
 * fact stream, extract facts from files without a daemon, ask for stats. Output
 * for other tools is JSON Lines on stdout; errors go to stderr as
 * `cloudfact: what failed: why`. Exit 0 success, 1 runtime failure, 2 usage.
 * One file per subcommand (cmd_*.c); this one only dispatches. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"

static void
usage_main(FILE *out)
{
    fprintf(out, "Usage: cloudfact COMMAND [OPTION]... [ARG]...\n"
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
                 "Run `cloudfact help COMMAND` (or `cloudfact COMMAND --help`) for a\n"
                 "command's options and examples.\n"
                 "Exit status: 0 on success, 1 on a runtime failure, 2 on a usage error.\n");
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"push", cmd_push},       {"sub", cmd_sub},       {"query", cmd_query},
    {"extract", cmd_extract}, {"stats", cmd_stats},   {"quarantine", cmd_quarantine},
    {"check", cmd_check},     {"keygen", cmd_keygen},
};

static int (*find_command(const char *name))(int, char **)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return commands[i].run;
    return NULL;
}

static int
unknown_command(const char *name)
{
    fprintf(stderr, "cloudfact: unknown command '%s' (see cloudfact --help)\n", name);
    return 2;
}

/* `cloudfact --help`, and `cloudfact help help` or `help --help` */
static bool
is_help(const char *arg)
{
    return strcmp(arg, "help") == 0 || strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int
main(int argc, char **argv)
{
    if (argc < 2) {
        usage_main(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0) {
        printf("cloudfact %s\n", CF_VERSION);
        return 0;
    }
    /* `cloudfact help push` is `cloudfact push --help` */
    bool help = strcmp(cmd, "help") == 0;
    if (help && argc >= 3 && !is_help(argv[2]))
        cmd = argv[2];
    else if (help || is_help(cmd)) {
        usage_main(stdout);
        return 0;
    }
    int (*run)(int, char **) = find_command(cmd);
    if (!run)
        return unknown_command(cmd);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is EPIPE, handled where we write */
    /* getopt names argv[0] in its messages: `cloudfact: push: unrecognized option` */
    char prog[64];
    snprintf(prog, sizeof prog, "cloudfact: %s", cmd);
    if (help) {
        char opt[] = "--help";
        char *args[] = {prog, opt, NULL};
        return run(2, args);
    }
    argv[1] = prog;
    return run(argc - 1, argv + 1);
}
