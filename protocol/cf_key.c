/* SPDX-License-Identifier: MIT
 * cf_key: key files in the Z85 text ZeroMQ uses, read strictly (a key file is
 * configuration: a typo must stop the daemon, not open a door). */
#include "cf_key.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#define KEY_FILE_MAX 256 /* a key file is 41 bytes; anything much larger is not one */

int
cf_key_parse(const char *text, size_t len, uint8_t bin[CF_KEY_BIN], char z85[CF_KEY_Z85 + 1],
             cf_err_t *err)
{
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' ' ||
                   text[len - 1] == '\t'))
        len--;
    while (len && (*text == ' ' || *text == '\t')) {
        text++;
        len--;
    }
    if (len != CF_KEY_Z85)
        return cf_err_set(err, CF_EINVAL, "expected a 40-character Z85 key, found %zu characters",
                          len);
    char buf[CF_KEY_Z85 + 1];
    memcpy(buf, text, CF_KEY_Z85);
    buf[CF_KEY_Z85] = '\0';
    uint8_t tmp[CF_KEY_BIN];
    /* zmq_z85_decode does not reject every character outside the alphabet */
    for (size_t i = 0; i < CF_KEY_Z85; i++)
        if (!strchr("0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                    ".-:+=^!/*?&<>()[]{}@%$#",
                    buf[i]) ||
            buf[i] == '\0')
            return cf_err_set(err, CF_EINVAL, "character %zu is not Z85", i + 1);
    if (!zmq_z85_decode(tmp, buf))
        return cf_err_set(err, CF_EINVAL, "not a Z85 key");
    if (bin)
        memcpy(bin, tmp, CF_KEY_BIN);
    if (z85)
        memcpy(z85, buf, CF_KEY_Z85 + 1);
    return CF_OK;
}

/* Reads a small file whole. Fills st. */
static int
read_small(const char *path, char *buf, size_t cap, size_t *len, struct stat *st, cf_err_t *err)
{
    /* symlinks are followed (LoadCredential's, kubernetes' secrets): the checks are on
     * the file itself, through fstat */
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return cf_err_sys(err, "%s: cannot open", path);
    if (fstat(fd, st) != 0 || !S_ISREG(st->st_mode)) {
        close(fd);
        return cf_err_set(err, CF_EINVAL, "%s: not a regular file", path);
    }
    size_t n = 0;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            cf_err_sys(err, "%s: cannot read", path);
            close(fd);
            return CF_ESYS;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            close(fd);
            return cf_err_set(err, CF_EINVAL, "%s: too large for a key file", path);
        }
    }
    close(fd);
    *len = n;
    return CF_OK;
}

/* Does path end in ext (".pub", ".key")? Both halves of a pair hold 40 Z85
 * characters, so a swapped pair is known by its names alone (cf_key_generate's). */
static bool
named(const char *path, const char *ext)
{
    size_t n = strlen(path), e = strlen(ext);
    return n > e && strcmp(path + n - e, ext) == 0;
}

int
cf_key_read_public(const char *path, char z85[CF_KEY_Z85 + 1], cf_err_t *err)
{
    if (named(path, ".key"))
        return cf_err_set(err, CF_EINVAL,
                          "%s: a secret key file (.key) where a public key (.pub) is wanted", path);
    char buf[KEY_FILE_MAX];
    size_t len;
    struct stat st;
    int rc = read_small(path, buf, sizeof buf, &len, &st, err);
    if (rc != CF_OK)
        return rc;
    cf_err_t why;
    if (cf_key_parse(buf, len, NULL, z85, &why) != CF_OK)
        return cf_err_set(err, CF_EINVAL, "%s: %s", path, why.text);
    return CF_OK;
}

/* Whether path names a file directly inside $CREDENTIALS_DIRECTORY, a directory no
 * one else may enter: systemd's LoadCredential= copy for this service. systemd 254
 * and later make those copies root-owned, mode 0440, readable by the service through
 * an ACL or its group (the directory is the unit's own), so group read is no leak
 * there. */
static bool
in_credentials_dir(const char *path)
{
    const char *env = getenv("CREDENTIALS_DIRECTORY");
    char dir[PATH_MAX], file[PATH_MAX];
    struct stat st;
    if (!env || env[0] != '/' || !realpath(env, dir) || !realpath(path, file))
        return false;
    size_t n = strlen(dir);
    if (strncmp(file, dir, n) != 0 || file[n] != '/' || strchr(file + n + 1, '/'))
        return false;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && !(st.st_mode & 007) &&
           (st.st_uid == 0 || st.st_uid == geteuid());
}

int
cf_key_read_secret(const char *path, char sec[CF_KEY_Z85 + 1], char pub[CF_KEY_Z85 + 1],
                   cf_err_t *err)
{
    if (named(path, ".pub"))
        return cf_err_set(err, CF_EINVAL,
                          "%s: a public key file (.pub) where a secret key (.key) is wanted", path);
    char buf[KEY_FILE_MAX];
    size_t len;
    struct stat st;
    int rc = read_small(path, buf, sizeof buf, &len, &st, err);
    if (rc != CF_OK)
        return rc;
    char z[CF_KEY_Z85 + 1] = "";
    char p[CF_KEY_Z85 + 1];
    cf_err_t why;
    /* group read only in systemd's credentials directory (in_credentials_dir) */
    mode_t denied = (st.st_mode & 070) == 040 && in_credentials_dir(path) ? 037 : 077;
    if (st.st_mode & denied)
        rc = cf_err_set(err, CF_EDENIED,
                        "%s: secret key is accessible to others (mode %04o); "
                        "chmod 600 it (or use systemd's LoadCredential=)",
                        path, (unsigned)(st.st_mode & 07777));
    else if (st.st_uid != geteuid() && st.st_uid != 0)
        /* only root reads another user's 0600 file: that user could swap the key */
        rc = cf_err_set(err, CF_EDENIED,
                        "%s: secret key is owned by uid %u, not by this user (uid %u) or "
                        "root; chown it",
                        path, (unsigned)st.st_uid, (unsigned)geteuid());
    else if (cf_key_parse(buf, len, NULL, z, &why) != CF_OK)
        rc = cf_err_set(err, CF_EINVAL, "%s: %s", path, why.text);
    else if (zmq_curve_public(p, z) != 0)
        rc = cf_err_set(err, CF_EINVAL, "%s: cannot derive the public key: %s", path,
                        zmq_strerror(zmq_errno()));
    if (rc == CF_OK) {
        memcpy(sec, z, sizeof z);
        if (pub)
            memcpy(pub, p, sizeof p);
    }
    /* the secret leaves no copy on our stack, whatever happened */
    explicit_bzero(buf, sizeof buf);
    explicit_bzero(z, sizeof z);
    return rc;
}

bool
cf_key_name_ok(const char *name)
{
    if (!name || !*name || *name == '.' || strlen(name) > 200)
        return false;
    for (const char *p = name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* A key file is written to a temporary file beside it first (key_tmp_write), then
 * put in place (key_tmp_commit): renamed over path, so that a process that has the
 * old file open never reads the new secret and a failure leaves the old file as it
 * was. Without force an existing path is kept (CF_EDUP). */
static int
key_tmp_write(const char *path, const char *text, mode_t mode, char *tmp, size_t tmpsz,
              cf_err_t *err)
{
    snprintf(tmp, tmpsz, "%s.tmp%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
    if (fd < 0)
        return cf_err_sys(err, "%s: cannot create", tmp);
    size_t len = strlen(text);
    bool ok = fchmod(fd, mode) == 0 && write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok) {
        cf_err_sys(err, "%s: cannot write", tmp);
        unlink(tmp);
        return CF_ESYS;
    }
    return CF_OK;
}

/* Puts tmp in place as path (tmp is gone afterwards, whatever happens). */
static int
key_tmp_commit(const char *tmp, const char *path, bool force, cf_err_t *err)
{
    /* link() refuses an existing name: the "not without --force" check, without a race */
    if (!force) {
        if (link(tmp, path) != 0) {
            int e = errno;
            unlink(tmp);
            errno = e;
            if (e == EEXIST)
                return cf_err_set(err, CF_EDUP, "%s exists (--force replaces it)", path);
            return cf_err_sys(err, "%s: cannot create", path);
        }
        unlink(tmp);
        return CF_OK;
    }
    if (rename(tmp, path) != 0) {
        cf_err_sys(err, "%s: cannot replace", path);
        unlink(tmp);
        return CF_ESYS;
    }
    return CF_OK;
}

int
cf_key_generate(const char *dir, const char *name, bool force, char pub_out[CF_KEY_Z85 + 1],
                cf_err_t *err)
{
    if (!cf_key_name_ok(name))
        return cf_err_set(err, CF_EINVAL,
                          "'%s' is not a key name (letters, digits, '.', '_', '-'; not "
                          "starting with '.')",
                          name ? name : "");
    char pub[CF_KEY_Z85 + 1], sec[CF_KEY_Z85 + 1];
    if (zmq_curve_keypair(pub, sec) != 0)
        return cf_err_set(err, CF_ESYS, "cannot make a key pair: %s", zmq_strerror(zmq_errno()));
    char pubpath[4096], secpath[4096], line[CF_KEY_Z85 + 2];
    snprintf(pubpath, sizeof pubpath, "%s/%s.pub", dir, name);
    snprintf(secpath, sizeof secpath, "%s/%s.key", dir, name);
    if (!force) { /* refuse before writing either file */
        struct stat st;
        const char *exists = lstat(secpath, &st) == 0   ? secpath
                             : lstat(pubpath, &st) == 0 ? pubpath
                                                        : NULL;
        if (exists)
            return cf_err_set(err, CF_EDUP, "%s exists (--force replaces it)", exists);
    }
    /* both files written before either is put in place, the public one first: a
     * failure on the way leaves the old pair (or nothing new) rather than a pair
     * with its secret half gone */
    char sectmp[4200], pubtmp[4200];
    snprintf(line, sizeof line, "%s\n", sec);
    int rc = key_tmp_write(secpath, line, 0600, sectmp, sizeof sectmp, err);
    explicit_bzero(line, sizeof line);
    explicit_bzero(sec, sizeof sec);
    if (rc != CF_OK)
        return rc;
    snprintf(line, sizeof line, "%s\n", pub);
    if ((rc = key_tmp_write(pubpath, line, 0644, pubtmp, sizeof pubtmp, err)) != CF_OK) {
        unlink(sectmp);
        return rc;
    }
    if ((rc = key_tmp_commit(pubtmp, pubpath, force, err)) != CF_OK) {
        unlink(sectmp);
        return rc;
    }
    if ((rc = key_tmp_commit(sectmp, secpath, force, err)) != CF_OK) {
        if (!force)
            unlink(pubpath); /* ours, just made: no half pair */
        return rc;
    }
    if (pub_out)
        memcpy(pub_out, pub, sizeof pub);
    return CF_OK;
}

int
cf_curve_client_load(cf_curve_client_t *c, const char *server_key, const char *key,
                     cf_err_t *err)
{
    memset(c, 0, sizeof *c);
    if (!server_key && !key)
        return CF_OK;
    if (!server_key || !key)
        return cf_err_set(err, CF_EINVAL,
                          "CURVE needs both --server-key FILE (the daemon's .pub) and --key "
                          "FILE (your .key)");
    int rc = cf_key_read_public(server_key, c->server, err);
    if (rc == CF_OK)
        rc = cf_key_read_secret(key, c->sec, c->pub, err);
    if (rc != CF_OK)
        memset(c, 0, sizeof *c);
    return rc;
}

bool
cf_curve_client_on(const cf_curve_client_t *c)
{
    return c && c->server[0];
}

int
cf_curve_client_apply(const cf_curve_client_t *c, void *sock, cf_err_t *err)
{
    if (!cf_curve_client_on(c))
        return CF_OK;
    if (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, c->server, CF_KEY_Z85 + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, c->pub, CF_KEY_Z85 + 1) != 0 ||
        zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, c->sec, CF_KEY_Z85 + 1) != 0)
        return cf_err_set(err, CF_ESYS, "cannot set the CURVE keys: %s",
                          zmq_strerror(zmq_errno()));
    return CF_OK;
}
