/* SPDX-License-Identifier: MIT
 * cf_allow: one role's allowlist, read from a directory of public key files (one
 * file per client, named after it, like ssh's authorized_keys): `alice.pub` holds
 * alice's Z85 public key. Immutable once loaded; a reload loads a new one. */
#ifndef CF_ALLOW_H
#define CF_ALLOW_H

#include <stddef.h>
#include <stdint.h>

#include "cf_err.h"
#include "cf_key.h"

typedef struct cf_allow cf_allow_t;

/* Loads every regular, non-hidden NAME.pub file of dir as a public key named NAME;
 * other files are ignored (a renamed "alice.pub.old" is not a key). The whole
 * directory is refused (NULL, err naming the file) when a .pub is not a key, when a
 * file is a secret key (".key": copied by mistake), when two files hold the same
 * key, when the directory cannot be read whole, or when it or a .pub is writable
 * by its group or others or owned by neither root nor this user (like sshd's
 * StrictModes: whoever can write there can add a key). dir NULL: an empty list. */
cf_allow_t *cf_allow_load(const char *dir, cf_err_t *err);

/* A copy of self without the keys dir no longer vouches for: a key stays only if
 * dir/NAME.pub is still a regular file holding that same key. For a reload that
 * cf_allow_load refuses (a bad file in dir or another role's): revocations must not
 * wait for the mistake to be fixed, and nothing new gets in. Never fails: a key
 * whose file cannot be read is dropped (fail closed). self NULL or dir NULL: an
 * empty list. */
cf_allow_t *cf_allow_prune(const cf_allow_t *self, const char *dir);

/* The name of key (32 bytes) in the list, or NULL. Borrowed from self. */
const char *cf_allow_find(const cf_allow_t *self, const uint8_t key[CF_KEY_BIN]);

/* Keys in the list. NULL-safe (0). */
size_t cf_allow_count(const cf_allow_t *self);

/* Calls cb for every key of a that b lacks (a NULL: none; b NULL: all of a), in
 * name order; returns how many. For reloads: who was removed, who was added. */
size_t cf_allow_missing(const cf_allow_t *a, const cf_allow_t *b,
                        void (*cb)(const char *name, const char *z85, void *arg), void *arg);

void cf_allow_destroy(cf_allow_t **self_p);

#endif
