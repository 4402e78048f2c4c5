/* SPDX-License-Identifier: MIT
 * cmd_common: what the subcommands share: reading text articles and directories,
 * signal handling. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_client.h"
#include "cf_json.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "cmd.h"
#include <dirent.h>

volatile sig_atomic_t cmd_interrupted;

static void
on_signal(int sig)
{
    (void)sig;
    cmd_interrupted = 1;
}

void
cmd_catch_signals(void)
{
    struct sigaction sa = {0};
    sa.sa_handler = on_signal; /* no SA_RESTART: a blocking poll returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* Plain read(2) rather than stdio: a file is read whole into one buffer, so a
 * stream's buffer, its fstat and its copy would be all overhead (`cloudfact
 * extract` reads thousands of small files). */

int
cmd_read_fd_into(int fd, char **buf, size_t *cap, size_t *len, char *why, size_t whylen)
{
    if (*cap < 65536) {
        *cap = 65536;
        *buf = cf_realloc(*buf, *cap);
    }
    /* room for CMD_READ_MAX bytes, one more to tell a larger file, and the NUL */
    size_t n = 0;
    for (;;) {
        if (n + 1 == *cap) {
            *cap = *cap < (CMD_READ_MAX + 2) / 2 ? *cap * 2 : CMD_READ_MAX + 2;
            *buf = cf_realloc(*buf, *cap);
        }
        ssize_t r = read(fd, *buf + n, *cap - n - 1);
        if (r < 0 && errno == EINTR && !cmd_interrupted)
            continue;
        if (r < 0 && errno == EINTR) {
            snprintf(why, whylen, "interrupted"); /* SIGINT or SIGTERM (cmd_catch_signals) */
            return -1;
        }
        if (r < 0) {
            snprintf(why, whylen, "read error: %s", strerror(errno));
            return -1;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n > CMD_READ_MAX) {
            snprintf(why, whylen, "larger than 64 MiB");
            return -1;
        }
    }
    (*buf)[n] = '\0';
    *len = n;
    return 0;
}

int
cmd_read_file_into(const char *path, char **buf, size_t *cap, size_t *len, char *why, size_t whylen)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        return -1;
    }
    int rc = cmd_read_fd_into(fd, buf, cap, len, why, whylen);
    close(fd);
    return rc;
}

char *
cmd_read_file(const char *path, size_t *len, char *why, size_t whylen)
{
    char *buf = NULL;
    size_t cap = 0;
    if (cmd_read_file_into(path, &buf, &cap, len, why, whylen) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

int
cmd_output_failed(const char *cmd, int e, int rc_so_far)
{
    if (e == EPIPE)
        return rc_so_far;
    fprintf(stderr, "cloudfact: %s: cannot write the output: %s\n", cmd, strerror(e ? e : EIO));
    return 1;
}

int
cmd_text_split(const char *data, size_t len, size_t *title_at, size_t *title_len, size_t *body_at,
               char *why, size_t whylen)
{
    if (!cf_utf8_valid(data, len) || memchr(data, '\0', len)) {
        snprintf(why, whylen, "not UTF-8 text");
        return -1;
    }
    /* a byte order mark (as some editors write) is not part of the title */
    size_t a = len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    const char *nl = memchr(data + a, '\n', len - a);
    size_t t = nl ? (size_t)(nl - data) : len;
    *body_at = nl ? t + 1 : len;
    if (t > a && data[t - 1] == '\r')
        t--;
    *title_at = a;
    *title_len = t - a;
    return 0;
}

/* A text file: the first line is the title, everything after it the body. */
int
cmd_text_to_article(char *data, size_t len, cf_article_t *a, char *why, size_t whylen)
{
    size_t ta, tlen, at;
    if (cmd_text_split(data, len, &ta, &tlen, &at, why, whylen) != 0)
        return -1;
    a->title = cf_strndup(data + ta, tlen);
    a->body = cf_strndup(data + at, len - at);
    a->body_len = len - at;
    return 0;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
add_file(const char *path, char ***files, size_t *n, size_t *cap)
{
    if (*n == *cap) {
        *cap = *cap ? *cap * 2 : 64;
        *files = cf_realloc(*files, *cap * sizeof **files);
    }
    (*files)[(*n)++] = cf_strdup(path);
}

/* cmd_collect's walk; top: path was named by the user, not found in a directory. */
static int
collect(const char *path, char ***files, size_t *n, size_t *cap, bool top)
{
    struct stat st, lst;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "cloudfact: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (S_ISDIR(st.st_mode) && !top && lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode)) {
        /* a link to a directory inside the walk: a loop (`self -> .`), or a way out of
         * the tree the user named (`up -> ..`) */
        fprintf(stderr, "cloudfact: %s: a symbolic link to a directory; not followed\n", path);
        return 0;
    }
    if (S_ISREG(st.st_mode) || (top && !S_ISDIR(st.st_mode))) {
        /* named by the user, anything readable is an input: a pipe, <(...) */
        add_file(path, files, n, cap);
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        fprintf(stderr, "cloudfact: %s: not a regular file; skipped\n", path);
        return -1;
    }
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "cloudfact: %s: %s\n", path, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0, nc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (nn == nc) {
            nc = nc ? nc * 2 : 64;
            names = cf_realloc(names, nc * sizeof *names);
        }
        names[nn++] = cf_strdup(e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_names);
    int rc = 0;
    for (size_t i = 0; i < nn; i++) {
        char sub[PATH_MAX];
        if ((size_t)snprintf(sub, sizeof sub, "%s/%s", path, names[i]) >= sizeof sub) {
            fprintf(stderr, "cloudfact: %s/%s: path too long; skipped\n", path, names[i]);
            rc = -1;
        } else if (collect(sub, files, n, cap, false) != 0) {
            rc = -1;
        }
        free(names[i]);
    }
    free(names);
    return rc;
}

int
cmd_collect(const char *path, char ***files, size_t *n, size_t *cap)
{
    return collect(path, files, n, cap, true);
}

size_t
cmd_file_url(const char *abs, char *out, size_t outsz)
{
    /* RFC 8089: file:// and the path, every byte but the path's own characters
     * percent-encoded (a space, '%', '?', '#', UTF-8 sequences) */
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    const char *pre = "file://";
    for (const char *p = pre; *p && o + 1 < outsz; p++)
        out[o++] = *p;
    for (const unsigned char *p = (const unsigned char *)abs; *p; p++) {
        bool plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || strchr("-._~/!$&'()*+,;=:@", *p);
        if (plain && o + 1 < outsz) {
            out[o++] = (char)*p;
        } else if (!plain && o + 3 < outsz) {
            out[o++] = '%';
            out[o++] = hex[*p >> 4];
            out[o++] = hex[*p & 15];
        } else {
            break;
        }
    }
    if (outsz)
        out[o < outsz ? o : outsz - 1] = '\0';
    return o;
}

int
cmd_endpoint_check(const char *cmd, const char *ep)
{
    /* zmq_connect refuses only what it cannot parse (it connects, and resolves names,
     * in the background): a throw-away socket says so before any work */
    void *ctx = zmq_ctx_new();
    void *s = ctx ? zmq_socket(ctx, ZMQ_DEALER) : NULL;
    int linger = 0, rc = -1, e = zmq_errno();
    if (s) {
        zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
        rc = zmq_connect(s, ep);
        e = zmq_errno();
        zmq_close(s);
    }
    if (ctx)
        zmq_ctx_term(ctx);
    if (rc != 0 && s) {
        fprintf(stderr, "cloudfact: %s: '%s' is not an endpoint: %s\n", cmd, ep, zmq_strerror(e));
        return 2;
    }
    return 0; /* no socket to try it with: the command's own connect will say why */
}

int
cmd_parse_u64(const char *cmd, const char *opt, const char *arg, uint64_t min, uint64_t max,
              uint64_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = arg[0] >= '0' && arg[0] <= '9' ? strtoull(arg, &end, 10) : 0;
    if (!end || *end || errno || v < min || v > max) {
        fprintf(stderr,
                "cloudfact: %s: --%s takes an integer from %" PRIu64 " to %" PRIu64 ", not '%s'\n",
                cmd, opt, min, max, arg);
        return 2;
    }
    *out = v;
    return 0;
}

int
cmd_entity_id_check(const char *cmd, const char *opt, const char *val)
{
    if (!val || cf_entity_id_is_valid(val))
        return 0;
    fprintf(stderr,
            "cloudfact: %s: %s: '%s' is not an entity id (lowercase letters, digits and single "
            "hyphens, as in 'aws' or 'google-cloud')\n",
            cmd, opt, val);
    return 2;
}

void
cmd_print_fact_types(FILE *out)
{
    for (int i = 0; i < CF_FACT_TYPES; i++)
        fprintf(out, "%s %s", i ? "," : "", cf_fact_type_name(i));
    fputc('\n', out);
}

int
cmd_curve_load(const char *cmd, const cmd_keys_t *keys, const char *endpoint,
               cf_curve_client_t *curve)
{
    const char *server = keys->server_key, *key = keys->key;
    /* the environment's keys are for tcp endpoints: an ipc one is plain (its file mode
     * guards it), and one variable set alone must not stop a local command */
    if (!server && !key && strncmp(endpoint, "tcp://", 6) == 0) {
        const char *es = getenv("CLOUDFACT_SERVER_KEY"), *ek = getenv("CLOUDFACT_KEY");
        server = es && *es ? es : NULL;
        key = ek && *ek ? ek : NULL;
    }
    cf_err_t err;
    if (cf_curve_client_load(curve, server, key, &err) != CF_OK) {
        fprintf(stderr, "cloudfact: %s: %s\n", cmd, err.text);
        return 2;
    }
    return 0;
}
