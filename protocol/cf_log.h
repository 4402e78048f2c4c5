/* SPDX-License-Identifier: MIT
 * cf_log: one line per event on stderr for the three programs. When stderr is the
 * journal ($JOURNAL_STREAM matches it) lines carry sd-daemon "<N>" priority
 * prefixes; otherwise an ISO time, the pid and the level. Library code (protocol/,
 * workers/extract/, the client API) never logs: it returns errors. */
#ifndef CF_LOG_H
#define CF_LOG_H

#include <stdbool.h>

typedef enum cf_log_level {
    CF_LOG_ERROR = 3, /* syslog priorities, so journald keeps them */
    CF_LOG_WARN = 4,
    CF_LOG_NOTICE = 5,
    CF_LOG_INFO = 6,
    CF_LOG_DEBUG = 7
} cf_log_level_t;

extern int cf_log_level; /* the only global: lines above it are not formatted */

/* Sets the program name shown in lines and detects the journal. */
void cf_log_init(const char *program);

/* On the journal, starts every line (cf_log_fail's too) with "PROGRAM[PID]: ".
 * For a process that writes to another's journal stream (cloudfactd's workers):
 * the journal names the stream's owner, so its lines would read as the owner's. */
void cf_log_tag_journal(void);

/* Parses "error", "warn", "notice", "info", "debug"; returns -1 when unknown. */
int cf_log_level_parse(const char *name);

/* The name of a level. */
const char *cf_log_level_name(int level);

void cf_log_write(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A program's last word before it exits on a failure: "PROGRAM: message" on
 * stderr (the form DESIGN.md gives every program's errors), with the journal's
 * error priority in front when stderr is the journal, so that `journalctl -p err`
 * shows why a service did not start. Written whatever cf_log_level says. */
void cf_log_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A warning that outside input can repeat at will: logged at most once per
 * interval (10 s), with how many calls since the last line were not logged (their
 * texts may differ; the process's counters say more). Zero-initialise. */
typedef struct cf_ratelog {
    long long last;          /* monotonic seconds of the last line written */
    unsigned long long held; /* occurrences since then */
} cf_ratelog_t;

void cf_ratelog(cf_ratelog_t *rl, int level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define cf_log_at(lvl, ...)                                                                   \
    do {                                                                                       \
        if ((lvl) <= cf_log_level)                                                             \
            cf_log_write((lvl), __VA_ARGS__);                                                  \
    } while (0)
#define cf_log_error(...) cf_log_at(CF_LOG_ERROR, __VA_ARGS__)
#define cf_log_warn(...) cf_log_at(CF_LOG_WARN, __VA_ARGS__)
#define cf_log_notice(...) cf_log_at(CF_LOG_NOTICE, __VA_ARGS__)
#define cf_log_info(...) cf_log_at(CF_LOG_INFO, __VA_ARGS__)
#define cf_log_debug(...) cf_log_at(CF_LOG_DEBUG, __VA_ARGS__)

#endif
