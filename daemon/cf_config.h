/* SPDX-License-Identifier: MIT
 * cf_config: cloudfactd's settings from one declarative table: built-in defaults,
 * then the --config file (flat `key = value`, `#` comments, read with inih), then
 * the command line, which also wins again after a reload. Keys are the long
 * options with '-' written '_' (DESIGN.md "The command line"). */
#ifndef CF_CONFIG_H
#define CF_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "cf_err.h"

typedef struct cf_config {
    char *config_file;     /* --config FILE, or NULL */
    char *state_dir;       /* archive directory */
    char *ingest;          /* ingest ROUTER endpoint */
    char *publish;         /* PUB endpoint */
    char *query;           /* query ROUTER endpoint */
    char *worker_endpoint; /* workers ROUTER endpoint (ipc by default) */
    char *control;         /* operator ROUTER endpoint (ipc only) */
    long workers;          /* local workers to spawn; 0 = remote only */
    char *worker_command;  /* the worker program to spawn */
    char *data;            /* extractor data directory, or NULL (worker decides) */
    char *http;            /* metrics/health ADDR:PORT or "off" */
    long max_attempts;     /* attempts before an article is quarantined */
    long job_deadline;     /* seconds a job may take */
    long max_queue;        /* unprocessed articles before ingest answers busy */
    long grace;            /* seconds SIGTERM waits for in-flight jobs */
    long credit;           /* jobs in flight per local worker */
    char *sched;           /* "batch" (local workers under SCHED_BATCH) or "inherit"
                            * (they run under the daemon's policy) */
    char *log_level;       /* error, warn, notice, info, debug */
    char *curve_key;       /* the server's CURVE secret key file, or NULL: no CURVE */
    char *allow_scrapers;  /* allowlist directories (public key files), or NULL */
    char *allow_subscribers;
    char *allow_workers;
    char *allow_operators;
    long max_message_size; /* ZMQ_MAXMSGSIZE on ingest and workers, bytes */
    long max_frames;       /* frames per request on ingest and query */
    long max_inflight;     /* ingest requests in flight per client */
    char *worker_local;    /* where local workers connect (ipc; derived, not an option) */
    bool check_config;     /* --check-config: validate, print, exit */
} cf_config_t;

typedef struct cf_config_src cf_config_src_t; /* what the command line set */

/* Parses argv. Returns a new config (caller destroys) and, in *src, what the
 * command line set (for reloads). On --help prints usage to stdout and returns
 * NULL with err->rc CF_OK; on a usage or config error returns NULL with err (exit 2). */
cf_config_t *cf_config_load(int argc, char **argv, cf_config_src_t **src, cf_err_t *err);

/* Re-reads the config file with the same command line on top. Returns a new
 * config, or NULL with err (the caller keeps the old one). */
cf_config_t *cf_config_reload(const cf_config_src_t *src, cf_err_t *err);

/* Prints the effective settings as a config file: `key = value` lines, an unset one as
 * a comment (`#data =`). cloudfactd reads it back unless a value is too long for a
 * line (199 bytes) or holds " #". */
void cf_config_print(const cf_config_t *cfg, FILE *out);

/* Called for a setting whose value differs: key as in the file, values as text. */
typedef void (*cf_config_change_cb)(const char *key, const char *was, const char *now,
                                    void *arg);

/* Calls cb (may be NULL) for every setting that differs between a and b, in table
 * order; returns how many differ. For reloads: say what changed. */
size_t cf_config_diff(const cf_config_t *a, const cf_config_t *b, cf_config_change_cb cb,
                      void *arg);

/* The i-th key a config file may set (0-based), or NULL past the last one. For
 * tests and documentation checks. Borrowed, static. */
const char *cf_config_file_key(size_t i);

void cf_config_destroy(cf_config_t **self_p);
void cf_config_src_destroy(cf_config_src_t **self_p);

/* Usage text (man-page style) to out. */
void cf_config_usage(FILE *out);

#endif
