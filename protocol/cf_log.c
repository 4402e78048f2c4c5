/* SPDX-License-Identifier: MIT
 * cf_log: stderr logging with journald priorities. */
#include "cf_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int cf_log_level = CF_LOG_INFO;

static const char *prog = "cloudfact";
static bool to_journal;
static bool tag; /* cf_log_tag_journal */

void
cf_log_init(const char *program)
{
    prog = program;
    /* JOURNAL_STREAM is "dev:ino" of the journal's socket; trust it only if it is our stderr. */
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    to_journal = js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(STDERR_FILENO, &st) == 0 &&
                 (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void
cf_log_tag_journal(void)
{
    tag = true;
}

/* The journal's prefix of a line at level: its priority, then the tag if any. */
static int
journal_prefix(char *line, size_t size, int level)
{
    if (tag)
        return snprintf(line, size, "<%d>%s[%d]: ", level, prog, (int)getpid());
    return snprintf(line, size, "<%d>", level);
}

static const char *const names[] = {"emerg", "alert", "crit", "error",
                                    "warn",  "notice", "info", "debug"};

int
cf_log_level_parse(const char *name)
{
    for (int i = CF_LOG_ERROR; i <= CF_LOG_DEBUG; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    if (strcmp(name, "warning") == 0)
        return CF_LOG_WARN;
    return -1;
}

const char *
cf_log_level_name(int level)
{
    return level >= 0 && level <= CF_LOG_DEBUG ? names[level] : "?";
}

/* Completes line (its first n bytes written: the prefix) with fmt and writes it. */
static void emit(char *line, size_t size, int n, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static void
emit(char *line, size_t size, int n, const char *fmt, va_list ap)
{
    if (n >= 0 && (size_t)n < size)
        vsnprintf(line + n, size - (size_t)n, fmt, ap);
    /* one write per line keeps lines whole when several processes share stderr */
    size_t len = strnlen(line, size - 2);
    line[len] = '\n';
    fwrite(line, 1, len + 1, stderr);
    fflush(stderr);
}

void
cf_log_write(int level, const char *fmt, ...)
{
    char line[2048];
    int n;
    if (to_journal) {
        n = journal_prefix(line, sizeof line, level);
    } else {
        struct timespec ts;
        struct tm tm;
        clock_gettime(CLOCK_REALTIME, &ts);
        gmtime_r(&ts.tv_sec, &tm);
        n = snprintf(line, sizeof line, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %s[%d] %s: ",
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, ts.tv_nsec / 1000000, prog, (int)getpid(),
                     cf_log_level_name(level));
    }
    va_list ap;
    va_start(ap, fmt);
    emit(line, sizeof line, n, fmt, ap);
    va_end(ap);
}

void
cf_log_fail(const char *fmt, ...)
{
    char line[2048];
    int n = to_journal && tag
                ? journal_prefix(line, sizeof line, CF_LOG_ERROR)
                : snprintf(line, sizeof line, "%s%s: ", to_journal ? "<3>" : "", prog);
    va_list ap;
    va_start(ap, fmt);
    emit(line, sizeof line, n, fmt, ap);
    va_end(ap);
}

void
cf_ratelog(cf_ratelog_t *rl, int level, const char *fmt, ...)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    rl->held++;
    if (level > cf_log_level || (rl->last && ts.tv_sec - rl->last < 10))
        return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* the ones held back may have had other texts: counted, not described */
    if (rl->held > 1 && rl->last)
        cf_log_write(level, "%s (and %llu more such lines in the last %lld s, not logged)", line,
                     rl->held - 1, (long long)ts.tv_sec - rl->last);
    else if (rl->held > 1)
        cf_log_write(level, "%s (and %llu more such lines before it, not logged)", line,
                     rl->held - 1);
    else
        cf_log_write(level, "%s", line);
    rl->last = ts.tv_sec ? ts.tv_sec : 1;
    rl->held = 0;
}
