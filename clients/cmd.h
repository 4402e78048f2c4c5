/* SPDX-License-Identifier: MIT
 * cmd: the `cloudfact` subcommands (one cmd_<name>.c each) and what they share.
 * Each cmd_<name>(argc, argv) gets argv[0] = its own name and returns the exit
 * status: 0 success, 1 runtime failure, 2 usage error. */
#ifndef CF_CMD_H
#define CF_CMD_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "cf_fact.h"
#include "cf_key.h"

#define DEFAULT_INGEST "tcp://127.0.0.1:7701"
#define DEFAULT_PUBLISH "tcp://127.0.0.1:7702"
#define DEFAULT_QUERY "tcp://127.0.0.1:7703"

int cmd_push(int argc, char **argv);
int cmd_sub(int argc, char **argv);
int cmd_query(int argc, char **argv);
int cmd_extract(int argc, char **argv);
int cmd_stats(int argc, char **argv);
int cmd_quarantine(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_keygen(int argc, char **argv);

/* --server-key FILE and --key FILE: every command that talks to the daemon takes
 * them (CURVE). Put CMD_KEY_OPTIONS in the getopt_long table, CMD_KEY_CASES in the
 * switch, CMD_KEY_USAGE in --help, then call cmd_curve_load. */
typedef struct cmd_keys {
    const char *server_key; /* the daemon's .pub */
    const char *key;        /* our .key */
} cmd_keys_t;

#define CMD_KEY_OPTIONS                                                                        \
    {"server-key", required_argument, NULL, 0x100}, {"key", required_argument, NULL, 0x101}
#define CMD_KEY_CASES(keys)                                                                    \
    case 0x100: (keys).server_key = optarg; break;                                             \
    case 0x101: (keys).key = optarg; break;
#define CMD_KEY_USAGE                                                                              \
    "  --server-key FILE  the daemon's public key (a .pub): connect with CURVE\n"                  \
    "  --key FILE         your secret key (a .key, mode 0600), its public half on the\n"           \
    "                     daemon's allowlist for this command's role (defaults:\n"                 \
    "                     $CLOUDFACT_SERVER_KEY, $CLOUDFACT_KEY); a .key given as\n"               \
    "                     --server-key or a .pub as --key is refused by its name.\n"               \
    "                     CURVE is for tcp endpoints: ipc ones are plain, and the\n"               \
    "                     variables are not read for them\n"

/* Loads the keys named by options or, failing those and when endpoint is tcp://, by
 * $CLOUDFACT_SERVER_KEY and $CLOUDFACT_KEY into curve (cleared: plain, when neither
 * is set). Returns 0, or 2 after printing `cloudfact: CMD: why` (a usage error). The
 * client connects with CURVE to tcp endpoints only (the daemon's ipc ones are plain). */
int cmd_curve_load(const char *cmd, const cmd_keys_t *keys, const char *endpoint,
                   cf_curve_client_t *curve);

/* `cloudfact: CMD: OPT: 'VAL' is not an entity id (...)` on stderr and 2 when val is
 * not an entity id (the daemon matches ids exactly: "AWS" would find nothing), else
 * 0. val may be NULL (not given: 0). */
int cmd_entity_id_check(const char *cmd, const char *opt, const char *val);

/* Prints " market_share, revenue, ..." (every fact type, comma-separated, a blank
 * before each) and a newline: the end of a message naming an unknown type. */
void cmd_print_fact_types(FILE *out);

/* Set by SIGINT/SIGTERM once cmd_catch_signals() ran. */
extern volatile sig_atomic_t cmd_interrupted;

/* Installs SIGINT/SIGTERM handlers that set cmd_interrupted without SA_RESTART,
 * so blocking ZeroMQ calls return EINTR. */
void cmd_catch_signals(void);

/* Reads a whole file (at most 64 MiB); NULL with why on failure. Caller frees. */
char *cmd_read_file(const char *path, size_t *len, char *why, size_t whylen);

/* The exit status once writing the output failed with errno e: a reader that left
 * (EPIPE, as `| head` does) ends the run quietly with rc_so_far; any other failure
 * (a full disk, an I/O error) prints "cloudfact: CMD: cannot write the output: why"
 * and is 1. */
int cmd_output_failed(const char *cmd, int e, int rc_so_far);

/* cmd_read_file_into from an open descriptor (standard input, say), which it leaves
 * open. A signal that set cmd_interrupted ends the read with why "interrupted". */
int cmd_read_fd_into(int fd, char **buf, size_t *cap, size_t *len, char *why, size_t whylen);

/* cmd_read_file into *buf, a buffer of *cap bytes reused from file to file (grown as
 * needed; NULL and 0 at first; the caller frees *buf), NUL-terminated after *len
 * bytes. Returns 0, or -1 with why; then *len is unset and the contents of *buf are
 * undefined, but *buf and *cap stay valid for the next file. */
int cmd_read_file_into(const char *path, char **buf, size_t *cap, size_t *len, char *why,
                       size_t whylen);

/* A text file's parts as offsets into data: the title is the first line, without its
 * line break and a leading byte order mark, *title_len bytes at data + *title_at; the
 * body data[*body_at:len). Returns 0, or -1 with why when the text is not UTF-8 or
 * holds a NUL. */
int cmd_text_split(const char *data, size_t len, size_t *title_at, size_t *title_len,
                   size_t *body_at, char *why, size_t whylen);

/* A text file as an article: the first line is the title, the rest the body.
 * Returns 0, or -1 with why when the text is not UTF-8 or holds a NUL. Fills title,
 * body (copies). */
int cmd_text_to_article(char *data, size_t len, cf_article_t *a, char *why, size_t whylen);

#define CMD_READ_MAX ((size_t)64 * 1024 * 1024) /* a text input's bytes, at most */

/* 0 when ep is an endpoint ZeroMQ can connect to, else 2 (a usage error) after saying
 * why on stderr: a malformed endpoint is the user's to fix, not a runtime failure. */
int cmd_endpoint_check(const char *cmd, const char *ep);

/* Parses arg, the value of option --opt of command cmd, as an integer in [min, max]
 * into *out. Returns 0, or 2 (a usage error) after saying on stderr what --opt
 * takes: no sign, no trailing characters, no silent wrap. */
int cmd_parse_u64(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
                  uint64_t *out);

/* Appends the inputs path names: path itself when it is not a directory (a file, a
 * pipe), else the regular files under it (recursively, no dotfiles, sorted; links to
 * files followed, links to directories not: they could loop or leave the tree).
 * Returns 0, or -1 after reporting on stderr a path it could not read or an entry of
 * a directory that is not a regular file. */
int cmd_collect(const char *path, char ***files, size_t *n, size_t *cap);

/* The file:// URL of absolute path abs (RFC 8089: bytes other than the path's own
 * characters percent-encoded) into out (cut to outsz - 1 bytes); returns its length. */
size_t cmd_file_url(const char *abs, char *out, size_t outsz);

#endif
