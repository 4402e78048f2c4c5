/* SPDX-License-Identifier: MIT
 * cf_allow: keys sorted by their 32 bytes, so a lookup per message is a binary
 * search (the ingest path checks every message's key). */
#include "cf_allow.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cf_text.h"

#define MAX_KEYS 100000 /* a directory larger than this is a mistake, not a team */

typedef struct entry {
    uint8_t key[CF_KEY_BIN];
    char z85[CF_KEY_Z85 + 1];
    char *name;
} entry_t;

struct cf_allow {
    entry_t *v; /* sorted by key */
    size_t n;
};

static int
by_key(const void *a, const void *b)
{
    return memcmp(((const entry_t *)a)->key, ((const entry_t *)b)->key, CF_KEY_BIN);
}

static bool
ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Like sshd's StrictModes: whoever can write the directory or a key file can let
 * in a key of their own, so only root or this user may. */
static int
check_owner(const char *path, const struct stat *st, cf_err_t *err)
{
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return cf_err_set(err, CF_EINVAL,
                          "%s: writable by its group or others, who could add keys (chmod "
                          "go-w)",
                          path);
    if (st->st_uid != 0 && st->st_uid != geteuid())
        return cf_err_set(err, CF_EINVAL,
                          "%s: owned by uid %u, neither root nor this user (uid %u), who could "
                          "add keys",
                          path, (unsigned)st->st_uid, (unsigned)geteuid());
    return CF_OK;
}

cf_allow_t *
cf_allow_load(const char *dir, cf_err_t *err)
{
    cf_allow_t *self = cf_calloc(1, sizeof *self);
    if (!dir)
        return self;
    DIR *d = opendir(dir);
    if (!d) {
        cf_err_sys(err, "%s: cannot open the key directory", dir);
        cf_allow_destroy(&self);
        return NULL;
    }
    struct stat dst;
    if (fstat(dirfd(d), &dst) != 0) {
        cf_err_sys(err, "%s: cannot stat the key directory", dir);
        goto fail;
    }
    if (check_owner(dir, &dst, err) != CF_OK)
        goto fail;
    size_t cap = 0;
    struct dirent *de;
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            if (errno) { /* a short list must not pass for the whole one */
                cf_err_sys(err, "%s: cannot read the key directory", dir);
                goto fail;
            }
            break;
        }
        if (de->d_name[0] == '.')
            continue; /* dotfiles, editors' and rsync's temporaries */
        char path[PATH_MAX];
        if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path) {
            cf_err_set(err, CF_EINVAL, "%s: a file name too long for a path", dir);
            goto fail;
        }
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (ends_with(de->d_name, ".key")) {
            cf_err_set(err, CF_EINVAL,
                       "%s: a secret key in an allowlist (copy the .pub, and treat this "
                       "secret as leaked)",
                       path);
            goto fail;
        }
        /* only NAME.pub counts: "alice.pub.revoked", "alice.pub~" and "alice.bak" must
         * not keep a key that was revoked by renaming it */
        if (!ends_with(de->d_name, ".pub"))
            continue;
        if (check_owner(path, &st, err) != CF_OK)
            goto fail;
        if (self->n == MAX_KEYS) {
            cf_err_set(err, CF_EINVAL, "%s: more than %d keys", dir, MAX_KEYS);
            goto fail;
        }
        entry_t e = {0};
        if (cf_key_read_public(path, e.z85, err) != CF_OK)
            goto fail;
        cf_key_parse(e.z85, CF_KEY_Z85, e.key, NULL, NULL);
        size_t len = strlen(de->d_name);
        e.name = cf_strndup(de->d_name, len - 4);
        if (self->n == cap) {
            cap = cap ? cap * 2 : 16;
            self->v = cf_realloc(self->v, cap * sizeof *self->v);
        }
        self->v[self->n++] = e;
    }
    closedir(d);
    d = NULL;
    if (self->n > 1) /* an empty list has no array: qsort's base must not be NULL */
        qsort(self->v, self->n, sizeof *self->v, by_key);
    for (size_t i = 1; i < self->n; i++)
        if (memcmp(self->v[i - 1].key, self->v[i].key, CF_KEY_BIN) == 0) {
            cf_err_set(err, CF_EINVAL, "%s: '%s' and '%s' hold the same key", dir,
                       self->v[i - 1].name, self->v[i].name);
            goto fail;
        }
    return self;
fail:
    if (d)
        closedir(d);
    cf_allow_destroy(&self);
    return NULL;
}

cf_allow_t *
cf_allow_prune(const cf_allow_t *self, const char *dir)
{
    cf_allow_t *kept = cf_calloc(1, sizeof *kept);
    if (!self || !self->n || !dir)
        return kept;
    /* no ownership checks: they guard against keys added by others, and this keeps
     * only keys that were already trusted, each where it was */
    cf_err_t err;
    kept->v = cf_calloc(self->n, sizeof *kept->v);
    for (size_t i = 0; i < self->n; i++) {
        const entry_t *e = &self->v[i];
        char path[PATH_MAX], z85[CF_KEY_Z85 + 1];
        struct stat st;
        if (snprintf(path, sizeof path, "%s/%s.pub", dir, e->name) >= (int)sizeof path ||
            stat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
            cf_key_read_public(path, z85, &err) != CF_OK || strcmp(z85, e->z85) != 0)
            continue;
        entry_t *k = &kept->v[kept->n++];
        *k = *e;
        k->name = cf_strdup(e->name);
    }
    return kept; /* still sorted: a subsequence of self's */
}

const char *
cf_allow_find(const cf_allow_t *self, const uint8_t key[CF_KEY_BIN])
{
    if (!self || !self->n)
        return NULL;
    entry_t probe;
    memcpy(probe.key, key, CF_KEY_BIN);
    const entry_t *e = bsearch(&probe, self->v, self->n, sizeof *self->v, by_key);
    return e ? e->name : NULL;
}

size_t
cf_allow_count(const cf_allow_t *self)
{
    return self ? self->n : 0;
}

static int
by_name(const void *a, const void *b)
{
    return strcmp((*(const entry_t *const *)a)->name, (*(const entry_t *const *)b)->name);
}

size_t
cf_allow_missing(const cf_allow_t *a, const cf_allow_t *b,
                 void (*cb)(const char *name, const char *z85, void *arg), void *arg)
{
    if (!a || !a->n)
        return 0;
    const entry_t **gone = cf_calloc(a->n, sizeof *gone);
    size_t n = 0;
    for (size_t i = 0; i < a->n; i++)
        if (!cf_allow_find(b, a->v[i].key))
            gone[n++] = &a->v[i];
    qsort(gone, n, sizeof *gone, by_name);
    for (size_t i = 0; i < n && cb; i++)
        cb(gone[i]->name, gone[i]->z85, arg);
    free(gone);
    return n;
}

void
cf_allow_destroy(cf_allow_t **self_p)
{
    cf_allow_t *self = self_p ? *self_p : NULL;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        free(self->v[i].name);
    free(self->v);
    free(self);
    *self_p = NULL;
}
