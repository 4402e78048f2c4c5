/* SPDX-License-Identifier: MIT
 * cmd_sub: `cloudfact sub`: print the published fact stream as JSON Lines; with
 * --since, --from-start or --resume, history from the archive first and then the
 * live stream, with no gap and no duplicate (DESIGN.md "The command line"). */
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

#include <msgpack.h>

#include "cf_client.h"
#include "cf_json.h"
#include "cf_msg.h"
#include "cf_text.h"
#include "cmd.h"

#define REPLAY_TIMEOUT_MS 10000 /* silence from the query socket before a replay is retried */

static void
usage_sub(FILE *out)
{
    fprintf(out,
            "Usage: cloudfact sub [OPTION]... [PREFIX]...\n"
            "Print the facts cloudfactd publishes, one JSON object per line (flushed per line),\n"
            "with the fields seq, article, type, subject, object, value, unit, period, place,\n"
            "detail, qualifier, status, source, confidence, evidence, evidence_start,\n"
            "evidence_end. PREFIX selects topics: fact.<type>.<subject> (default: fact.).\n"
            "article.done and article.failed events print only when a PREFIX names them\n"
            "(article, article.done, ...); heartbeats never print; a PREFIX that selects\n"
            "nothing sub prints (a misspelt type) is refused. SIGINT or SIGTERM stop it\n"
            "with exit status 0.\n\n"
            "Joining history and live: with --since, --from-start or --resume, sub subscribes,\n"
            "waits for the daemon's heartbeat (the subscription is live), replays the archive\n"
            "from the start point over the query endpoint, then follows the live stream,\n"
            "dropping what the replay already printed: every matching fact prints once, in\n"
            "seq order. It watches seq (it receives every fact and filters locally) and the\n"
            "heartbeat's last seq; a gap (a slow moment, a daemon restart) is filled by\n"
            "another replay. A replay with no answer, or cut short, is retried at the next\n"
            "heartbeat; one the query endpoint refuses (this key denied, or not a cloudfactd\n"
            "query endpoint) ends sub with exit status 1, the position kept in --resume FILE.\n"
            "Without them, sub prints the live stream only, as it comes.\n\n"
            "Options:\n"
            "  --endpoint EP     publish endpoint (default " DEFAULT_PUBLISH ")\n"
            "  --query EP        query endpoint for the replays (default " DEFAULT_QUERY ")\n"
            "  --since SEQ       print the facts after SEQ, then follow\n"
            "  --from-start      print every archived fact, then follow (--since 0)\n"
            "  --resume FILE     continue after the seq kept in FILE, and keep it there\n"
            "                    (written atomically and synced each second and at exit;\n"
            "                    exit status 1 when the last write fails). A missing\n"
            "                    FILE starts at --since / --from-start, else at the present.\n"
            "  --subject ID      only facts about exactly this entity (a prefix subscription\n"
            "                    fact.market_share.hp would also match hpe)\n"
            "  --count N         exit after N facts\n"
            "  --help            show this help\n" CMD_KEY_USAGE "\n"
            "Examples:\n"
            "  cloudfact sub\n"
            "  cloudfact sub fact.market_share fact.revenue\n"
            "  cloudfact sub --subject aws fact.datacenter.aws\n"
            "  cloudfact sub --from-start --resume ~/.cloudfact-seq fact.ipo.\n"
            "  cloudfact sub article.done | jq .\n");
}

/* What sub prints and where it stands. */
typedef struct follow {
    const char *query;           /* query endpoint */
    cf_curve_client_t curve;     /* credentials for both endpoints */
    const char *const *prefixes; /* the user's prefixes (none: every fact) */
    size_t nprefixes;
    const char *subject;      /* exact subject, or NULL */
    unsigned long long count; /* stop after this many facts (0: never) */
    unsigned long long seen;  /* facts printed */
    uint64_t covered;         /* every matching fact with seq <= covered was printed */
    uint64_t printed;         /* the highest seq printed */
    const char *resume;       /* --resume FILE, or NULL */
    uint64_t saved;           /* what FILE holds */
    time_t saved_at;          /* when it was written */
    unsigned failures;        /* replays failed in a row */
    time_t failed_said;       /* when that was last said */
    bool stop;                /* --count reached, stdout closed or a replay refused */
    int rc;                   /* exit status so far */
} follow_t;

/* Topic t is selected by a user prefix (none given: every fact). */
static bool
selected(const follow_t *fl, const char *t)
{
    if (fl->nprefixes == 0)
        return strncmp(t, "fact.", 5) == 0;
    for (size_t i = 0; i < fl->nprefixes; i++)
        if (strncmp(t, fl->prefixes[i], strlen(fl->prefixes[i])) == 0)
            return true;
    return false;
}

static void
print_line(follow_t *fl, json_t *line)
{
    if (cf_json_print_line(line, stdout) != 0) {
        fl->rc = cmd_output_failed("sub", errno, fl->rc);
        fl->stop = true;
    }
    json_decref(line);
}

/* Prints f once, if it matches and is newer than anything printed. */
static void
print_fact(follow_t *fl, const cf_fact_t *f)
{
    char topic[600];
    if (f->seq <= fl->printed)
        return;
    cf_msg_topic(f, topic, sizeof topic);
    if (!selected(fl, topic) || (fl->subject && strcmp(fl->subject, f->subject) != 0))
        return;
    print_line(fl, cf_json_fact(f));
    fl->printed = f->seq;
    if (fl->count && ++fl->seen >= fl->count)
        fl->stop = true;
}

/* --resume FILE: the seq, written to FILE.tmp and renamed over FILE (atomic). */
static int
save_resume(follow_t *fl, bool force)
{
    time_t now = time(NULL);
    if (!fl->resume || (!force && (now == fl->saved_at || fl->saved == fl->covered)))
        return 0;
    size_t len = strlen(fl->resume) + 5;
    char *tmp = cf_malloc(len);
    snprintf(tmp, len, "%s.tmp", fl->resume);
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRIu64 "\n", fl->covered);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    /* on disk before the rename: a crash leaves the old position or the new one,
     * never an empty file */
    bool ok = fd >= 0 && write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    if (fd >= 0 && close(fd) != 0)
        ok = false;
    if (ok && rename(tmp, fl->resume) != 0)
        ok = false;
    if (!ok) {
        fprintf(stderr, "cloudfact: sub: cannot write %s: %s\n", fl->resume, strerror(errno));
        unlink(tmp);
    } else {
        fl->saved = fl->covered;
    }
    fl->saved_at = now; /* a failing write too is tried (and reported) once a second */
    free(tmp);
    return ok ? 0 : -1;
}

/* Reads FILE: 1 with the seq, 0 when it does not exist, -1 when unreadable. */
static int
load_resume(const char *path, uint64_t *seq)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return errno == ENOENT ? 0 : -1;
    char line[64] = "";
    bool ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    char *end = line;
    errno = 0;
    /* digits only: strtoull would take "-5" as 2^64 - 5 */
    unsigned long long v = ok && line[0] >= '0' && line[0] <= '9' ? strtoull(line, &end, 10) : 0;
    if (!ok || errno || end == line || (*end != '\n' && *end != '\0'))
        return -1;
    *seq = v;
    return 1;
}

static int
on_replayed(void *arg, const cf_fact_t *f)
{
    follow_t *fl = arg;
    print_fact(fl, f);
    /* the replay is in seq order: every matching fact up to here is printed */
    if (f->seq > fl->covered)
        fl->covered = f->seq;
    save_resume(fl, false);
    return fl->stop || cmd_interrupted;
}

/* Prints the archived facts after fl->covered. Returns true when the replay got to
 * the archive's head (then everything up to it is covered). A refusal that a retry
 * would meet again (this key denied, a request or reply the other side does not
 * take: a --query that is not a cloudfactd query endpoint) stops sub with status 1;
 * anything else (no answer, a stream cut short) is retried at the next heartbeat,
 * said on the first failure of a run of them and then once a minute. */
static bool
catch_up(follow_t *fl)
{
    const char *const *p = NULL;
    size_t np = 0;
    if (fl->nprefixes) { /* the daemon filters the same prefixes */
        p = fl->prefixes;
        np = fl->nprefixes;
    }
    cf_stream_end_t end;
    cf_err_t err;
    int rc = cf_replay(fl->query, &fl->curve, fl->covered, p, np, 0, false, REPLAY_TIMEOUT_MS,
                       on_replayed, fl, &end, &err);
    if (rc == CF_OK) {
        if (end.head > fl->covered)
            fl->covered = end.head;
        if (fl->failures > 1)
            fprintf(stderr, "cloudfact: sub: replay from seq %" PRIu64 " done after %u failures\n",
                    fl->covered, fl->failures);
        fl->failures = 0;
        return true;
    }
    if (fl->stop || cmd_interrupted)
        return false;
    if (rc == CF_EDENIED || rc == CF_EINVAL) {
        fprintf(stderr, "cloudfact: sub: replay from seq %" PRIu64 " refused by %s: %s\n",
                fl->covered, fl->query, err.text);
        fl->rc = 1;
        fl->stop = true;
        return false;
    }
    time_t now = time(NULL);
    if (fl->failures++ == 0 || now - fl->failed_said >= 60) {
        fprintf(stderr,
                "cloudfact: sub: replay from seq %" PRIu64 " failed (retrying at each "
                "heartbeat): %s\n",
                fl->covered, err.text);
        fl->failed_said = now;
    }
    return false;
}

/* The heartbeat's `last`, or false when the body does not say. */
static bool
heartbeat_last(const void *body, size_t len, uint64_t *last)
{
    bool ok = false;
    if (cf_msg_scan(body, len, NULL) != CF_OK)
        return false;
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    size_t off = 0;
    if (msgpack_unpack_next(&up, body, len, &off) == MSGPACK_UNPACK_SUCCESS &&
        up.data.type == MSGPACK_OBJECT_MAP) {
        for (uint32_t i = 0; i < up.data.via.map.size; i++) {
            const msgpack_object *k = &up.data.via.map.ptr[i].key;
            const msgpack_object *v = &up.data.via.map.ptr[i].val;
            if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == 4 &&
                memcmp(k->via.str.ptr, "last", 4) == 0 &&
                v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                *last = v->via.u64;
                ok = true;
            }
        }
    }
    msgpack_unpacked_destroy(&up);
    return ok;
}

/* Does prefix p name events: "article.done", "article." or "article", but not "" or
 * "fact." (a prefix that selects every fact does not print events too)? */
static bool
event_prefix(const char *p)
{
    size_t n = strlen(p);
    return n >= strlen("article") && strncmp(p, "article.", n < 8 ? n : 8) == 0;
}

static bool
event_named(const follow_t *fl, const char *topic)
{
    for (size_t i = 0; i < fl->nprefixes; i++)
        if (event_prefix(fl->prefixes[i]) &&
            strncmp(topic, fl->prefixes[i], strlen(fl->prefixes[i])) == 0)
            return true;
    return false;
}

/* Is p a prefix of a topic that a word of `what` starts (what: "a|b|c")? */
static bool
prefix_of_any(const char *p, const char *what)
{
    size_t n = strlen(p);
    for (const char *w = what; *w;) {
        size_t len = strcspn(w, "|");
        if (n <= len && strncmp(w, p, n) == 0)
            return true;
        w += len + (w[len] == '|');
    }
    return false;
}

/* Can prefix p select anything sub prints (fact.<type>.<subject>, article.done,
 * article.failed)? A prefix that cannot ("market_share" without "fact.", a misspelt
 * type, "sys.heartbeat") would print nothing for ever: said here, with a hint. */
static bool
prefix_ok(const char *p)
{
    /* "fact", "fact.", "article", "article.d": "art" would select the events at
     * the daemon, but sub prints them only for a prefix that names them */
    if (prefix_of_any(p, "fact.") ||
        (event_prefix(p) && prefix_of_any(p, "article.done|article.failed")))
        return true;
    if (strncmp(p, "fact.", 5) != 0) {
        if (cf_fact_type_is_valid(p))
            fprintf(stderr, "cloudfact: sub: prefix '%s' selects nothing: did you mean fact.%s?\n",
                    p, p);
        else
            fprintf(stderr,
                    "cloudfact: sub: prefix '%s' selects nothing sub prints; topics are "
                    "fact.<type>.<subject>, article.done and article.failed (heartbeats never "
                    "print)\n",
                    p);
        return false;
    }
    /* "fact.TYPE." and more: TYPE must be a type; "fact.TY": the start of one */
    const char *type = p + 5, *dot = strchr(type, '.');
    size_t tn = dot ? (size_t)(dot - type) : strlen(type);
    bool ok = false;
    for (int i = 0; i < CF_FACT_TYPES && !ok; i++) {
        const char *t = cf_fact_type_name(i);
        ok = strncmp(t, type, tn) == 0 && (!dot || t[tn] == '\0');
    }
    if (!ok) {
        fprintf(stderr,
                "cloudfact: sub: prefix '%s' selects nothing: no fact type is '%.*s'; "
                "the types are",
                p, (int)tn, type);
        cmd_print_fact_types(stderr);
        return false;
    }
    if (dot && dot[1 + strspn(dot + 1, "abcdefghijklmnopqrstuvwxyz0123456789-")]) {
        fprintf(stderr,
                "cloudfact: sub: prefix '%s' selects nothing: entity ids are lowercase letters, "
                "digits and hyphens (fact.%.*s.aws)\n",
                p, (int)tn, type);
        return false;
    }
    return true;
}

static void
print_event(follow_t *fl, const cf_sub_msg_t *m)
{
    json_t *body = cf_json_from_msgpack(m->body, m->body_len);
    json_t *line = json_object();
    json_object_set_new(line, "topic", json_string(m->topic));
    if (json_is_object(body))
        json_object_update(line, body);
    json_decref(body);
    print_line(fl, line);
}

/* The next message of sub: 1 a message in *m; 0 nothing this second, or a malformed
 * message (said; the stream goes on); -1 stop: interrupted, or the daemon refused
 * our handshake (said; waiting cannot help). */
static int
next_message(follow_t *fl, cf_sub_t *sub, cf_sub_msg_t *m)
{
    cf_err_t err;
    int r = cf_sub_recv(sub, 1000, m, &err);
    if (r == CF_OK)
        return 1;
    if (r == CF_EBUSY)
        return 0;
    if (r == CF_ECLOSED)
        return -1;
    if (r == CF_EDENIED) {
        fprintf(stderr, "cloudfact: sub: %s\n", err.text);
        fl->rc = 1;
        return -1;
    }
    fprintf(stderr, "cloudfact: sub: skipped a malformed message: %s\n", err.text);
    return 0;
}

/* The live stream only, at most once (no start point given). */
static int
follow_live(follow_t *fl, const char *endpoint)
{
    cf_err_t err;
    cf_sub_t *sub = cf_sub_new(endpoint, &fl->curve, fl->prefixes, fl->nprefixes, &err);
    if (!sub) {
        fprintf(stderr, "cloudfact: sub: %s\n", err.text);
        return 1;
    }
    cmd_catch_signals();
    while (!cmd_interrupted && !fl->stop) {
        cf_sub_msg_t m;
        int r = next_message(fl, sub, &m);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        if (m.is_fact) {
            if (!fl->subject || strcmp(fl->subject, m.fact.subject) == 0) {
                print_line(fl, cf_json_fact(&m.fact));
                if (fl->count && ++fl->seen >= fl->count)
                    fl->stop = true;
            }
        } else if (event_named(fl, m.topic)) {
            print_event(fl, &m);
        } /* heartbeats and anything else: never printed */
    }
    cf_sub_destroy(&sub);
    return fl->rc;
}

/* History, then live, gap-free. Invariant: every matching fact with seq <=
 * fl->covered has been printed, in order. The SUB socket receives every fact
 * ("fact.") so that seq must go up by exactly one; anything else, or a heartbeat
 * whose `last` is beyond covered, means messages were lost (the daemon's PUB
 * dropped them, or it restarted): replay from covered. Facts are published after
 * their commit, so whatever the live stream carries, a replay started later finds. */
static int
follow_joined(follow_t *fl, const char *endpoint, bool from_now)
{
    const char *subs[2 + CF_MAX_PREFIXES];
    size_t nsubs = 0;
    subs[nsubs++] = "fact.";
    subs[nsubs++] = "sys.heartbeat";
    for (size_t i = 0; i < fl->nprefixes && nsubs < 2 + CF_MAX_PREFIXES; i++)
        if (event_prefix(fl->prefixes[i]))
            subs[nsubs++] = fl->prefixes[i];
    cf_err_t err;
    cf_sub_t *sub = cf_sub_new(endpoint, &fl->curve, subs, nsubs, &err);
    if (!sub) {
        fprintf(stderr, "cloudfact: sub: %s\n", err.text);
        return 1;
    }
    cmd_catch_signals();
    bool synced = false;  /* a replay reached the head since the last gap */
    bool started = false; /* a heartbeat came: the subscription is live */
    while (!cmd_interrupted && !fl->stop) {
        cf_sub_msg_t m;
        int r = next_message(fl, sub, &m);
        save_resume(fl, false);
        if (r < 0)
            break;
        if (r == 0)
            continue;
        if (strcmp(m.topic, "sys.heartbeat") == 0) {
            uint64_t last = 0;
            if (!heartbeat_last(m.body, m.body_len, &last))
                continue;
            if (!started && from_now) { /* no start point: the present is one */
                fl->covered = fl->printed = last;
                synced = true;
            }
            started = true;
            if (!synced || last > fl->covered)
                synced = catch_up(fl);
            continue;
        }
        if (!synced)
            continue; /* before the (next) replay: it will carry this too */
        if (m.is_fact) {
            if (m.fact.seq <= fl->covered)
                continue; /* printed by a replay already */
            if (m.fact.seq != fl->covered + 1) {
                synced = catch_up(fl); /* a gap: this fact and the missing ones are archived */
                continue;
            }
            fl->covered = m.fact.seq;
            print_fact(fl, &m.fact);
        } else if (event_named(fl, m.topic)) {
            print_event(fl, &m);
        }
    }
    /* with no start point but the present, and no heartbeat yet to say where that
     * is, there is no position: 0 would make the next run replay the whole archive */
    if (!(from_now && !started) && save_resume(fl, true) != 0)
        fl->rc = 1; /* the position is lost: say so in the status too */
    cf_sub_destroy(&sub);
    return fl->rc;
}

int
cmd_sub(int argc, char **argv)
{
    static const struct option lopts[] = {{"endpoint", required_argument, NULL, 'e'},
                                          {"query", required_argument, NULL, 'q'},
                                          {"subject", required_argument, NULL, 's'},
                                          {"count", required_argument, NULL, 'n'},
                                          {"since", required_argument, NULL, 'S'},
                                          {"from-start", no_argument, NULL, 'F'},
                                          {"resume", required_argument, NULL, 'r'},
                                          {"help", no_argument, NULL, 'h'},
                                          CMD_KEY_OPTIONS,
                                          {NULL, 0, NULL, 0}};
    const char *endpoint = DEFAULT_PUBLISH;
    cmd_keys_t keys = {0};
    follow_t fl = {0};
    fl.query = DEFAULT_QUERY;
    bool has_since = false;
    uint64_t since = 0;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", lopts, NULL)) != -1) {
        switch (c) {
        case 'e':
            endpoint = optarg;
            break;
        case 'q':
            fl.query = optarg;
            break;
        case 's':
            fl.subject = optarg;
            break;
        case 'n': {
            uint64_t v;
            if (cmd_parse_u64("sub", "count", optarg, 1, UINT64_MAX, &v))
                return 2;
            fl.count = v;
            break;
        }
        case 'S': {
            if (cmd_parse_u64("sub", "since", optarg, 0, UINT64_MAX, &since))
                return 2;
            if (has_since) {
                fprintf(stderr, "cloudfact: sub: give --since or --from-start, not both\n");
                return 2;
            }
            has_since = true;
            break;
        }
        case 'F':
            if (has_since && since != 0) {
                fprintf(stderr, "cloudfact: sub: give --since or --from-start, not both\n");
                return 2;
            }
            has_since = true;
            since = 0;
            break;
        case 'r':
            fl.resume = optarg;
            break;
        CMD_KEY_CASES(keys)
        case 'h':
            usage_sub(stdout);
            return 0;
        default:
            usage_sub(stderr);
            return 2;
        }
    }
    if (cmd_curve_load("sub", &keys, strncmp(endpoint, "tcp://", 6) == 0 ? endpoint : fl.query,
                       &fl.curve) ||
        cmd_endpoint_check("sub", endpoint) || cmd_endpoint_check("sub", fl.query))
        return 2;
    if (cmd_entity_id_check("sub", "--subject", fl.subject))
        return 2;
    fl.prefixes = (const char *const *)argv + optind;
    fl.nprefixes = (size_t)(argc - optind);
    if (fl.nprefixes > CF_MAX_PREFIXES) {
        fprintf(stderr, "cloudfact: sub: at most %u prefixes\n", CF_MAX_PREFIXES);
        return 2;
    }
    for (size_t i = 0; i < fl.nprefixes; i++) {
        if (strlen(fl.prefixes[i]) > CF_MAX_PREFIX) {
            fprintf(stderr, "cloudfact: sub: a prefix is longer than %u bytes\n", CF_MAX_PREFIX);
            return 2;
        }
        if (!prefix_ok(fl.prefixes[i]))
            return 2;
    }
    if (!has_since && !fl.resume)
        return follow_live(&fl, endpoint);
    bool from_now = !has_since;
    if (fl.resume) {
        uint64_t seq = 0;
        int r = load_resume(fl.resume, &seq);
        if (r < 0) {
            fprintf(stderr, "cloudfact: sub: %s: not a resume file (one seq on one line)\n",
                    fl.resume);
            return 1;
        }
        if (r > 0) {
            since = seq;
            from_now = false;
        }
    }
    fl.covered = fl.printed = fl.saved = since;
    return follow_joined(&fl, endpoint, from_now);
}
