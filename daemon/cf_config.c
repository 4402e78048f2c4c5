/* SPDX-License-Identifier: MIT
 * cf_config: one table drives defaults, the config file, the command line,
 * --help and --check-config (redis config.c style). */
#include "cf_config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <ini.h>
#include <limits.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "cf_http.h"
#include "cf_log.h"
#include "cf_text.h"

typedef enum { OPT_STR, OPT_LONG, OPT_FLAG } opt_type_t;

typedef struct opt {
    const char *name;    /* long option; the config key is this with '-' as '_' */
    opt_type_t type;
    size_t offset;       /* into cf_config_t */
    const char *def;     /* built-in default ("" = computed, NULL = unset) */
    long min, max;       /* for OPT_LONG */
    const char *arg;     /* argument name in usage */
    const char *help;    /* one line */
} opt_t;

#define OFF(f) offsetof(cf_config_t, f)

static const opt_t opts[] = {
    {"config", OPT_STR, OFF(config_file), NULL, 0, 0, "FILE",
     "read settings from FILE (command-line options win)"},
    {"state-dir", OPT_STR, OFF(state_dir), "var", 0, 0, "DIR",
     "archive directory: DIR/cloudfact.db (default ./var, or $STATE_DIRECTORY)"},
    {"ingest", OPT_STR, OFF(ingest), "tcp://127.0.0.1:7701", 0, 0, "EP",
     "ingest ROUTER endpoint for scrapers"},
    {"publish", OPT_STR, OFF(publish), "tcp://127.0.0.1:7702", 0, 0, "EP",
     "PUB endpoint for fact subscribers"},
    {"query", OPT_STR, OFF(query), "tcp://127.0.0.1:7703", 0, 0, "EP",
     "query ROUTER endpoint for article lookups, replays and stats"},
    {"worker-endpoint", OPT_STR, OFF(worker_endpoint), "", 0, 0, "EP",
     "where workers connect (default ipc://RUNTIME_DIR/workers.sock)"},
    {"control", OPT_STR, OFF(control), "", 0, 0, "EP",
     "operator endpoint for quarantine and requeue, ipc:// only (default "
     "ipc://RUNTIME_DIR/control.sock)"},
    {"workers", OPT_LONG, OFF(workers), "", 0, 1024, "N",
     "local workers to spawn, 0 to 1024 (default: usable CPUs; 0: remote workers only)"},
    {"worker-command", OPT_STR, OFF(worker_command), "", 0, 0, "PATH",
     "worker program (default: cloudfact-worker beside cloudfactd)"},
    {"data", OPT_STR, OFF(data), NULL, 0, 0, "DIR", "extractor data directory passed to workers"},
    {"http", OPT_STR, OFF(http), "127.0.0.1:7780", 0, 0, "ADDR:PORT",
     "serve /metrics and /healthz on ADDR:PORT, or off"},
    {"max-attempts", OPT_LONG, OFF(max_attempts), "3", 1, 100, "N",
     "attempts before an article is quarantined as failed"},
    {"job-deadline", OPT_LONG, OFF(job_deadline), "30", 1, 86400, "SECONDS",
     "time a worker may spend on one article"},
    {"max-queue", OPT_LONG, OFF(max_queue), "1000000", 1, 1000000000L, "N",
     "unprocessed articles before ingest answers busy"},
    {"grace", OPT_LONG, OFF(grace), "10", 0, 3600, "SECONDS",
     "on SIGTERM, how long in-flight jobs may finish"},
    {"credit", OPT_LONG, OFF(credit), "8", 1, 64, "N", "jobs in flight per local worker"},
    {"sched", OPT_STR, OFF(sched), "batch", 0, 0, "POLICY",
     "local workers' CPU scheduling: batch for SCHED_BATCH, inherit for the daemon's"},
    {"log-level", OPT_STR, OFF(log_level), "info", 0, 0, "LEVEL",
     "error, warn, notice, info or debug"},
    {"curve-key", OPT_STR, OFF(curve_key), NULL, 0, 0, "FILE",
     "CURVE secret key: every tcp endpoint requires CURVE"},
    {"allow-scrapers", OPT_STR, OFF(allow_scrapers), NULL, 0, 0, "DIR",
     "public keys (.pub files) that may push articles"},
    {"allow-subscribers", OPT_STR, OFF(allow_subscribers), NULL, 0, 0, "DIR",
     "public keys that may subscribe and query"},
    {"allow-workers", OPT_STR, OFF(allow_workers), NULL, 0, 0, "DIR",
     "public keys of remote workers"},
    {"allow-operators", OPT_STR, OFF(allow_operators), NULL, 0, 0, "DIR",
     "public keys that may quarantine and requeue over tcp"},
    {"max-message-size", OPT_LONG, OFF(max_message_size), "5242880", 65536, 1073741824L, "BYTES",
     "largest message on ingest and workers; a larger one disconnects its sender"},
    {"max-frames", OPT_LONG, OFF(max_frames), "6", 2, 6, "N",
     "frames per ingest or query request: routing id, envelope, body"},
    {"max-inflight", OPT_LONG, OFF(max_inflight), "1000", 1, 1000000, "N",
     "unanswered ingest requests per client; more are refused"},
    {"check-config", OPT_FLAG, OFF(check_config), NULL, 0, 0, NULL,
     "check the settings, print them, exit 0 (or 2 on an error)"},
};
#define NOPTS (sizeof opts / sizeof *opts)

struct cf_config_src {
    char *values[NOPTS]; /* what the command line set, or NULL */
    char *config_file;   /* --config */
};

static char **
str_field(cf_config_t *c, const opt_t *o)
{
    return (char **)((char *)c + o->offset);
}

static void
key_of(const opt_t *o, char *out, size_t n)
{
    snprintf(out, n, "%s", o->name);
    for (char *p = out; *p; p++)
        if (*p == '-')
            *p = '_';
}

/* Is val an endpoint the daemon can bind as written? libzmq reads a tcp port
 * loosely (":99999", ":77O1" and ":-5" bind some other port, in silence) and
 * resolves an ipc path against the working directory (/ under systemd). */
static bool
endpoint_ok(const char *val, char *why, size_t n)
{
    if (strncmp(val, "tcp://", 6) == 0) {
        const char *hp = val + 6, *colon = strrchr(hp, ':');
        if (!colon || colon == hp) {
            snprintf(why, n, "expected tcp://ADDR:PORT");
            return false;
        }
        char *end;
        errno = 0;
        long port = strtol(colon + 1, &end, 10);
        if (!isdigit((unsigned char)colon[1]) || errno || *end || port < 1 || port > 65535) {
            snprintf(why, n, "the port must be a number from 1 to 65535");
            return false;
        }
        if ((size_t)(colon - hp) == strlen("localhost") && strncmp(hp, "localhost", 9) == 0) {
            snprintf(why, n, "ZeroMQ binds addresses, not host names: use 127.0.0.1");
            return false;
        }
        return true;
    }
    if (strncmp(val, "ipc://", 6) == 0) {
        if (val[6] == '@') { /* what cf_auth_bind refuses: said here, by --check-config too */
            snprintf(why, n,
                     "an abstract ipc name has no file permissions to guard it: use a path "
                     "(ipc:///run/...)");
            return false;
        }
        if (val[6] != '/') {
            snprintf(why, n, "an ipc endpoint needs an absolute path (ipc:///run/...)");
            return false;
        }
        if (strlen(val + 6) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(why, n, "the path is longer than a Unix socket's %zu bytes",
                     sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
            return false;
        }
        return true;
    }
    snprintf(why, n, "expected tcp://ADDR:PORT or ipc:///PATH");
    return false;
}

static int
set_value(cf_config_t *c, const opt_t *o, const char *val, const char *where, cf_err_t *err)
{
    char key[40];
    key_of(o, key, sizeof key);
    switch (o->type) {
    case OPT_STR: {
        char **f = str_field(c, o);
        free(*f);
        *f = cf_strdup(val);
        if (strcmp(o->name, "log-level") == 0 && cf_log_level_parse(val) < 0)
            return cf_err_set(err, CF_EINVAL, "%s: %s: unknown level '%s'", where, key, val);
        if (strcmp(o->name, "sched") == 0 && strcmp(val, "batch") != 0 &&
            strcmp(val, "inherit") != 0)
            return cf_err_set(err, CF_EINVAL, "%s: %s: '%s' is neither batch nor inherit", where,
                              key, val);
        char bad[96];
        /* the endpoints are the options whose argument is EP */
        if (strcmp(o->arg, "EP") == 0 && *val && !endpoint_ok(val, bad, sizeof bad))
            return cf_err_set(err, CF_EINVAL, "%s: %s: '%s': %s", where, key, val, bad);
        if (strcmp(o->name, "http") == 0 && strcmp(val, "off") != 0) {
            char host[256];
            uint16_t port;
            cf_err_t why;
            if (cf_http_parse_addr(val, host, sizeof host, &port, &why) != CF_OK)
                return cf_err_set(err, CF_EINVAL, "%s: %s: %s", where, key, why.text);
        }
        return CF_OK;
    }
    case OPT_LONG: {
        char *end;
        errno = 0;
        long v = strtol(val, &end, 10);
        if (errno || end == val || *end != '\0')
            return cf_err_set(err, CF_EINVAL, "%s: %s: '%s' is not a number", where, key, val);
        if (v < o->min || v > o->max)
            return cf_err_set(err, CF_EINVAL, "%s: %s: %ld is outside %ld..%ld", where, key, v,
                              o->min, o->max);
        *(long *)((char *)c + o->offset) = v;
        return CF_OK;
    }
    case OPT_FLAG:
        if (strcmp(val, "yes") && strcmp(val, "true") && strcmp(val, "1"))
            return cf_err_set(err, CF_EINVAL, "%s: %s: expected yes", where, key);
        *(bool *)((char *)c + o->offset) = true;
        return CF_OK;
    }
    return CF_OK;
}

static long
usable_cpus(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? n : 1;
}

static void
apply_defaults(cf_config_t *c)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].def && *opts[i].def)
            set_value(c, &opts[i], opts[i].def, "default", NULL);
    c->workers = -1;
    const char *sd = getenv("STATE_DIRECTORY"); /* systemd's StateDirectory= */
    if (sd && *sd) {
        free(c->state_dir);
        /* it may list several directories separated by ':'; the first is ours */
        c->state_dir = cf_strndup(sd, strcspn(sd, ":"));
    }
}

typedef struct file_ctx {
    cf_config_t *cfg;
    const char *path;
    cf_err_t *err;
    bool failed;
    FILE *fp;
    int lineno; /* Debian's inih does not pass line numbers: our reader counts them */
    int too_long; /* the line that did not fit inih's buffer, or 0 */
    int indented; /* an indented line (inih would join it to the value before), or 0 */
    int line_max; /* that buffer's size */
} file_ctx_t;

/* inih's reader: one line at a time, counted. A line longer than inih's buffer
 * (Debian builds it with 200 bytes) would be split into two lines, the rest read as
 * a line of its own: it ends the parse instead (too_long). So does an indented
 * line: Debian's inih reads it as more of the value before ("worker_command = x"
 * then "  log_level = debug" gave worker_command "x log_level = debug"). '#' after
 * a blank starts a comment, as at the start of a line; inih does the same for ';'. */
static char *
read_line(char *str, int num, void *stream)
{
    file_ctx_t *fc = stream;
    char *r = fgets(str, num, fc->fp);
    if (!r)
        return NULL;
    fc->lineno++;
    char *nl = strchr(r, '\n');
    if (!nl && !feof(fc->fp)) {
        int next = fgetc(fc->fp); /* a line of exactly num - 1 bytes ends right here */
        if (next != '\n' && next != EOF) {
            fc->too_long = fc->lineno;
            fc->line_max = num - 1;
            return NULL;
        }
    }
    size_t lead = strspn(r, " \t");
    if (lead > 0 && r[lead] && !strchr("#;\r\n", r[lead])) {
        fc->indented = fc->lineno;
        return NULL;
    }
    for (char *p = r + 1; *p; p++) {
        if (*p == '#' && (p[-1] == ' ' || p[-1] == '\t')) {
            p[0] = nl ? '\n' : '\0';
            p[nl ? 1 : 0] = '\0';
            break;
        }
    }
    return r;
}

static int
on_ini(void *user, const char *section, const char *name, const char *value)
{
    file_ctx_t *fc = user;
    int lineno = fc->lineno;
    char where[PATH_MAX + 32];
    if (fc->failed)
        return 0;
    snprintf(where, sizeof where, "%s:%d", fc->path, lineno);
    if (section && *section) {
        cf_err_set(fc->err, CF_EINVAL, "%s: sections are not used ([%s])", where, section);
        fc->failed = true;
        return 0;
    }
    for (size_t i = 0; i < NOPTS; i++) {
        char key[40];
        key_of(&opts[i], key, sizeof key);
        if (strcmp(key, name) != 0)
            continue;
        if (opts[i].type == OPT_FLAG || opts[i].offset == OFF(config_file))
            break; /* command-line only */
        if (!*value) {
            /* `data =` would hand the workers an empty --data: no default is meant */
            cf_err_set(fc->err, CF_EINVAL,
                       "%s: %s: no value (comment the line out for the default)", where, name);
            fc->failed = true;
            return 0;
        }
        /* `state_dir = "/srv/cloudfact"`: quotes around a whole value are the
         * operator's habit from other files, not part of a path or endpoint */
        char *unquoted = NULL;
        size_t vn = strlen(value);
        if (value[0] == '"' || value[0] == '\'') {
            if (vn < 2 || value[vn - 1] != value[0]) {
                cf_err_set(fc->err, CF_EINVAL,
                           "%s: %s: a quote opens the value but does not close it (quotes are "
                           "optional; a '#' after a blank starts a comment, inside quotes too)",
                           where, name);
                fc->failed = true;
                return 0;
            }
            if (vn == 2) {
                cf_err_set(fc->err, CF_EINVAL,
                           "%s: %s: no value (comment the line out for the default)", where, name);
                fc->failed = true;
                return 0;
            }
            value = unquoted = cf_strndup(value + 1, vn - 2);
        }
        int rc = set_value(fc->cfg, &opts[i], value, where, fc->err);
        free(unquoted);
        if (rc != CF_OK) {
            fc->failed = true;
            return 0;
        }
        return 1;
    }
    cf_err_set(fc->err, CF_EINVAL, "%s: unknown key '%s'", where, name);
    fc->failed = true;
    return 0;
}

static int
finish(cf_config_t *c, cf_err_t *err)
{
    if (c->workers < 0)
        c->workers = usable_cpus();
    /* ipc sockets live in systemd's RuntimeDirectory, else in the state directory */
    const char *rd = getenv("RUNTIME_DIRECTORY");
    char dir[PATH_MAX];
    if (rd && *rd)
        snprintf(dir, sizeof dir, "%.*s", (int)strcspn(rd, ":"), rd);
    else if (c->state_dir[0] == '/' || !getcwd(dir, sizeof dir))
        snprintf(dir, sizeof dir, "%s", c->state_dir);
    else
        snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/%s", c->state_dir);
    if (!c->worker_endpoint || !*c->worker_endpoint) {
        free(c->worker_endpoint);
        size_t n = strlen(dir) + 32;
        c->worker_endpoint = cf_malloc(n);
        snprintf(c->worker_endpoint, n, "ipc://%s/workers.sock", dir);
    }
    if (!c->control || !*c->control) {
        free(c->control);
        size_t n = strlen(dir) + 32;
        c->control = cf_malloc(n);
        snprintf(c->control, n, "ipc://%s/control.sock", dir);
    }
    if (strncmp(c->control, "ipc://", 6) != 0)
        return cf_err_set(err, CF_EINVAL,
                          "control: '%s' is not ipc://: operator ops are for local users",
                          c->control);
    if (!c->worker_command || !*c->worker_command) {
        char self[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 32);
        free(c->worker_command);
        if (n > 0) {
            self[n] = '\0';
            char *slash = strrchr(self, '/');
            strcpy(slash + 1, "cloudfact-worker");
            c->worker_command = cf_strdup(self);
        } else {
            c->worker_command = cf_strdup("cloudfact-worker");
        }
    }
    if (strncmp(c->worker_endpoint, "ipc://", 6) != 0 && strncmp(c->worker_endpoint, "tcp://", 6))
        return cf_err_set(err, CF_EINVAL, "worker_endpoint: '%s' is not ipc:// or tcp://",
                          c->worker_endpoint);
    /* local workers always use ipc: beside a tcp endpoint they get their own */
    free(c->worker_local);
    if (strncmp(c->worker_endpoint, "tcp://", 6) == 0) {
        if (!c->curve_key)
            return cf_err_set(err, CF_EINVAL,
                              "worker_endpoint: a tcp worker endpoint requires curve_key and "
                              "allow_workers (a worker may write facts)");
        size_t n = strlen(dir) + 32;
        c->worker_local = cf_malloc(n);
        snprintf(c->worker_local, n, "ipc://%s/workers.sock", dir);
    } else {
        c->worker_local = cf_strdup(c->worker_endpoint);
    }
    const char *allows[] = {c->allow_scrapers, c->allow_subscribers, c->allow_workers,
                            c->allow_operators};
    const char *akeys[] = {"allow_scrapers", "allow_subscribers", "allow_workers",
                           "allow_operators"};
    for (size_t i = 0; i < 4; i++)
        if (allows[i] && !c->curve_key)
            return cf_err_set(err, CF_EINVAL, "%s: needs curve_key (allowlists are for CURVE)",
                              akeys[i]);
    return CF_OK;
}

static cf_config_t *
build(const cf_config_src_t *src, cf_err_t *err)
{
    cf_config_t *c = cf_calloc(1, sizeof *c);
    apply_defaults(c);
    if (src->config_file) {
        c->config_file = cf_strdup(src->config_file);
        file_ctx_t fc = {.cfg = c, .path = src->config_file, .err = err};
        fc.fp = fopen(src->config_file, "r");
        if (!fc.fp) {
            cf_err_set(err, CF_EINVAL, "%s: cannot read: %s", src->config_file, strerror(errno));
            goto fail;
        }
        int rc = ini_parse_stream(read_line, &fc, on_ini, &fc);
        fclose(fc.fp);
        if (fc.failed)
            goto fail;
        if (fc.indented) {
            cf_err_set(err, CF_EINVAL,
                       "%s:%d: an indented line (it would continue the value before it; "
                       "start every key at the beginning of its line)",
                       src->config_file, fc.indented);
            goto fail;
        }
        if (fc.too_long) {
            cf_err_set(err, CF_EINVAL, "%s:%d: line longer than %d bytes", src->config_file,
                       fc.too_long, fc.line_max);
            goto fail;
        }
        if (rc > 0) {
            cf_err_set(err, CF_EINVAL, "%s:%d: syntax error (expected key = value)",
                       src->config_file, rc);
            goto fail;
        }
    }
    for (size_t i = 0; i < NOPTS; i++) {
        if (!src->values[i] || opts[i].offset == OFF(config_file))
            continue;
        char where[64];
        snprintf(where, sizeof where, "--%s", opts[i].name);
        if (set_value(c, &opts[i], src->values[i], where, err) != CF_OK)
            goto fail;
    }
    if (finish(c, err) != CF_OK)
        goto fail;
    return c;
fail:
    cf_config_destroy(&c);
    return NULL;
}

/* Prints text that starts at column indent, wrapped at width; continuation lines
 * are indented to the same column. */
static void
print_wrapped(FILE *out, const char *text, int indent, int width)
{
    int col = indent;
    const char *p = text;
    bool first = true;
    while (*p) {
        size_t w = strcspn(p, " ");
        if (!first && col + 1 + (int)w > width) {
            fprintf(out, "\n%*s", indent, "");
            col = indent;
        } else if (!first) {
            fputc(' ', out);
            col++;
        }
        fwrite(p, 1, w, out);
        col += (int)w;
        first = false;
        p += w;
        while (*p == ' ')
            p++;
    }
    fputc('\n', out);
}

void
cf_config_usage(FILE *out)
{
    fprintf(out,
            "Usage: cloudfactd [OPTION]...\n"
            "Take news articles from scrapers over ZeroMQ, extract cloud-market facts in\n"
            "worker processes, archive articles and facts in SQLite and publish each fact.\n\n"
            "Options (each also a config-file key, '-' written '_'):\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[48];
        snprintf(left, sizeof left, "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                 opts[i].arg ? opts[i].arg : "");
        fprintf(out, "  %-25s ", left);
        if (strlen(left) > 25)
            fprintf(out, "\n  %-25s ", "");
        /* the default and the range come from the table, so they cannot drift from
         * what the parser takes; a computed default ("") is in the help text */
        char line[320];
        size_t n = (size_t)snprintf(line, sizeof line, "%s", opts[i].help);
        const char *def = opts[i].def && *opts[i].def ? opts[i].def : NULL;
        if (opts[i].type == OPT_LONG && def)
            snprintf(line + n, sizeof line - n, " (%ld to %ld, default %s)", opts[i].min,
                     opts[i].max, def);
        else if (def && !strstr(opts[i].help, "default"))
            snprintf(line + n, sizeof line - n, " (default %s)", def);
        print_wrapped(out, line, 28, 80);
    }
    fprintf(out,
            "  %-25s %s\n  %-25s %s\n\n"
            "Signals: SIGTERM or SIGINT stop taking articles, let in-flight jobs finish\n"
            "(up to --grace seconds), hand back the rest, close the archive and exit 0;\n"
            "a second SIGINT exits at once. SIGHUP re-reads --config and the allowlist\n"
            "directories: log_level, max_queue, max_attempts, job_deadline and\n"
            "max_inflight apply at once, workers reload their data files, other changes\n"
            "are logged and apply at the next restart; a bad file is refused and the\n"
            "running settings stay. A key removed from an allowlist is refused at once:\n"
            "new connections fail, messages of connected peers are answered `denied`,\n"
            "and subscribers are disconnected.\n\n"
            "Security: with --curve-key every tcp endpoint requires CURVE, and a client\n"
            "key is admitted only on its role's endpoints (scrapers: ingest; subscribers:\n"
            "publish and query; workers: the worker endpoint; operators: operator ops on\n"
            "query). ipc endpoints rely on file permissions (0660, the service's group);\n"
            "a socket path another process listens on is refused at start.\n"
            "Without --curve-key tcp endpoints are open to anyone who can reach them:\n"
            "bind them to 127.0.0.1. See SECURITY.md.\n\n"
            "Under systemd (Type=notify) it sends READY=1 once the sockets are bound,\n"
            "the archive is writable and a worker is ready, STATUS= with live counts,\n"
            "WATCHDOG=1 while the loop and the archive's writer make progress,\n"
            "RELOADING=1 on SIGHUP and STOPPING=1 on shutdown.\n\n"
            "Exit status: 0 on success, 1 on a runtime failure, 2 on a usage or\n"
            "configuration error.\n\n"
            "Examples:\n"
            "  cloudfactd                         # defaults: ./var, one worker per CPU\n"
            "  cloudfactd --state-dir /srv/cf --workers 4\n"
            "  cloudfactd --config /etc/cloudfact/cloudfactd.conf --check-config\n",
            "--help", "show this help and exit", "--version", "show the version and exit");
}

cf_config_t *
cf_config_load(int argc, char **argv, cf_config_src_t **src_out, cf_err_t *err)
{
    struct option lopts[NOPTS + 3];
    for (size_t i = 0; i < NOPTS; i++)
        lopts[i] = (struct option){opts[i].name,
                                   opts[i].type == OPT_FLAG ? no_argument : required_argument,
                                   NULL, (int)(256 + i)};
    lopts[NOPTS] = (struct option){"help", no_argument, NULL, 'h'};
    lopts[NOPTS + 1] = (struct option){"version", no_argument, NULL, 'V'};
    lopts[NOPTS + 2] = (struct option){NULL, 0, NULL, 0};

    cf_config_src_t *src = cf_calloc(1, sizeof *src);
    cf_err_clear(err);
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hV", lopts, NULL)) != -1) {
        if (c == 'h') {
            cf_config_usage(stdout);
            goto quit;
        }
        if (c == 'V') {
            printf("cloudfactd %s\n", CF_VERSION);
            goto quit;
        }
        if (c == ':') {
            cf_err_set(err, CF_EINVAL, "option %s needs an argument (see --help)",
                       argv[optind - 1]);
            goto quit;
        }
        if (c < 256 || c >= 256 + (int)NOPTS) {
            cf_err_set(err, CF_EINVAL, "unknown option %s (see --help)", argv[optind - 1]);
            goto quit;
        }
        size_t i = (size_t)(c - 256);
        free(src->values[i]);
        src->values[i] = cf_strdup(opts[i].type == OPT_FLAG ? "yes" : optarg);
        if (opts[i].offset == OFF(config_file)) {
            free(src->config_file);
            src->config_file = cf_strdup(optarg);
        }
    }
    if (optind < argc) {
        cf_err_set(err, CF_EINVAL, "unexpected argument '%s' (see --help)", argv[optind]);
        goto quit;
    }
    cf_config_t *cfg = build(src, err);
    if (!cfg)
        goto quit;
    *src_out = src;
    return cfg;
quit:
    cf_config_src_destroy(&src);
    return NULL;
}

cf_config_t *
cf_config_reload(const cf_config_src_t *src, cf_err_t *err)
{
    return build(src, err);
}

/* The value of setting i as text. */
static void
value_of(const cf_config_t *c, size_t i, char *out, size_t n)
{
    if (opts[i].type == OPT_LONG) {
        snprintf(out, n, "%ld", *(const long *)((const char *)c + opts[i].offset));
    } else if (opts[i].type == OPT_FLAG) {
        snprintf(out, n, "%s", *(const bool *)((const char *)c + opts[i].offset) ? "yes" : "no");
    } else {
        const char *v = *(char *const *)((const char *)c + opts[i].offset);
        snprintf(out, n, "%s", v ? v : "");
    }
}

void
cf_config_print(const cf_config_t *c, FILE *out)
{
    for (size_t i = 0; i < NOPTS; i++) {
        char key[40], val[PATH_MAX + 64];
        if (opts[i].type == OPT_FLAG)
            continue;
        key_of(&opts[i], key, sizeof key);
        value_of(c, i, val, sizeof val);
        /* a config file cloudfactd reads back: the file's own name is no key of it, and
         * a setting left unset shows as a comment */
        if (opts[i].offset == OFF(config_file))
            fprintf(out, "# from %s\n", val[0] ? val : "(no config file)");
        else if (!val[0])
            fprintf(out, "#%s =\n", key);
        else if (val[0] == '"' || val[0] == '\'') /* the reader would take it as quoting */
            fprintf(out, "%s = %c%s%c\n", key, val[0] == '"' ? '\'' : '"', val,
                    val[0] == '"' ? '\'' : '"');
        else
            fprintf(out, "%s = %s\n", key, val);
    }
}

const char *
cf_config_file_key(size_t i)
{
    static char keys[NOPTS][40];
    size_t k = 0;
    for (size_t j = 0; j < NOPTS; j++) {
        if (opts[j].type == OPT_FLAG || opts[j].offset == OFF(config_file))
            continue; /* command-line only */
        if (k++ == i) {
            key_of(&opts[j], keys[j], sizeof keys[j]);
            return keys[j];
        }
    }
    return NULL;
}

size_t
cf_config_diff(const cf_config_t *a, const cf_config_t *b, cf_config_change_cb cb, void *arg)
{
    size_t n = 0;
    for (size_t i = 0; i < NOPTS; i++) {
        char key[40], va[PATH_MAX + 64], vb[PATH_MAX + 64];
        if (opts[i].type == OPT_FLAG)
            continue;
        value_of(a, i, va, sizeof va);
        value_of(b, i, vb, sizeof vb);
        if (strcmp(va, vb) == 0)
            continue;
        key_of(&opts[i], key, sizeof key);
        n++;
        if (cb)
            cb(key, va, vb, arg);
    }
    return n;
}

void
cf_config_destroy(cf_config_t **self_p)
{
    cf_config_t *c = self_p ? *self_p : NULL;
    if (!c)
        return;
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].type == OPT_STR)
            free(*str_field(c, &opts[i]));
    free(c->worker_local);
    free(c);
    *self_p = NULL;
}

void
cf_config_src_destroy(cf_config_src_t **self_p)
{
    cf_config_src_t *s = self_p ? *self_p : NULL;
    if (!s)
        return;
    for (size_t i = 0; i < NOPTS; i++)
        free(s->values[i]);
    free(s->config_file);
    free(s);
    *self_p = NULL;
}
