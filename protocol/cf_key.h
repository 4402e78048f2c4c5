/* SPDX-License-Identifier: MIT
 * cf_key: CURVE key files and the client side of CURVE (SPEC.md "Security").
 * A public key file holds the 40-character Z85 public key and a newline; a secret
 * key file the 40-character Z85 secret key and a newline, mode 0600. The public
 * half of a secret key is derived, never read from a second file. */
#ifndef CF_KEY_H
#define CF_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "cf_err.h"

#define CF_KEY_Z85 40  /* characters of a Z85 key */
#define CF_KEY_BIN 32  /* bytes of a binary key */

/* Reads a public key file. CF_OK with z85 (NUL-terminated), else CF_EINVAL or
 * CF_ESYS with err naming the file and what is wrong with it. A path ending in
 * ".key" is refused (CF_EINVAL) unread: the secret half of a pair, given by mistake. */
int cf_key_read_public(const char *path, char z85[CF_KEY_Z85 + 1], cf_err_t *err);

/* Reads a secret key file and derives its public half (pub may be NULL). Refuses a
 * file that group or others may read or write, or that belongs to a user other than
 * this one or root (CF_EDENIED), as ssh does: a secret readable by others is no
 * longer a secret, and one that another user owns is theirs to replace. One
 * exception: group read is allowed for a file directly inside $CREDENTIALS_DIRECTORY
 * when that directory is closed to others (systemd 254 and later hand LoadCredential=
 * files to the service as root-owned mode 0440). A path ending in ".pub" is refused
 * (CF_EINVAL) unread: the public half of a pair, given by mistake. */
int cf_key_read_secret(const char *path, char sec[CF_KEY_Z85 + 1], char pub[CF_KEY_Z85 + 1],
                       cf_err_t *err);

/* Parses one key from text: optional surrounding blanks and a final newline around
 * 40 Z85 characters. Returns CF_OK with the binary key in bin (may be NULL) and the
 * canonical text in z85 (may be NULL), else CF_EINVAL with why. */
int cf_key_parse(const char *text, size_t len, uint8_t bin[CF_KEY_BIN],
                 char z85[CF_KEY_Z85 + 1], cf_err_t *err);

/* Writes a new key pair: DIR/NAME.pub (0644) and DIR/NAME.key (0600), each created
 * exclusively unless force. name: letters, digits, '.', '_', '-' (not leading '.').
 * Returns CF_OK with the public key in pub (may be NULL), CF_EDUP when a file
 * exists (without force), CF_EINVAL for a bad name, CF_ESYS otherwise. Nothing is
 * left behind on failure. */
int cf_key_generate(const char *dir, const char *name, bool force, char pub[CF_KEY_Z85 + 1],
                    cf_err_t *err);

/* True when name is usable as a key's file name (see cf_key_generate). */
bool cf_key_name_ok(const char *name);

/* The CURVE credentials of a client: the server's public key and the client's own
 * key pair, all Z85. An all-empty struct means plain (no CURVE). */
typedef struct cf_curve_client {
    char server[CF_KEY_Z85 + 1];
    char pub[CF_KEY_Z85 + 1];
    char sec[CF_KEY_Z85 + 1];
} cf_curve_client_t;

/* Loads server_key (a .pub) and key (a .key) into c. Both NULL: c is cleared
 * (plain). Only one of them: CF_EINVAL (CURVE needs both). */
int cf_curve_client_load(cf_curve_client_t *c, const char *server_key, const char *key,
                         cf_err_t *err);

/* True when c holds credentials (CURVE is on). NULL-safe. */
bool cf_curve_client_on(const cf_curve_client_t *c);

/* Sets the CURVE client options on a ZeroMQ socket before it connects. A NULL or
 * empty c leaves the socket plain. */
int cf_curve_client_apply(const cf_curve_client_t *c, void *sock, cf_err_t *err);

#endif
