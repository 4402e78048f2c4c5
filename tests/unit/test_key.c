/* SPDX-License-Identifier: MIT
 * Unit tests for cf_key and cf_allow: key files are read strictly, a secret key
 * others may read is refused, keygen never overwrites by accident, an allowlist
 * directory is all or nothing and tells who was added and removed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "cf_allow.h"
#include "cf_auth.h"
#include "cf_key.h"
#include "cf_test.h"

static char dir[64];

static const char *
path_of(const char *name)
{
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return path;
}

static void
test_parse(void)
{
    char pub[41], sec[41];
    CF_CHECK(zmq_curve_keypair(pub, sec) == 0);
    uint8_t bin[32];
    char z[41];
    cf_err_t err;
    CF_CHECK(cf_key_parse(pub, 40, bin, z, &err) == CF_OK && strcmp(z, pub) == 0);
    char line[64];
    snprintf(line, sizeof line, "  %s\r\n", pub); /* blanks and a CRLF are tolerated */
    CF_CHECK(cf_key_parse(line, strlen(line), NULL, z, &err) == CF_OK && strcmp(z, pub) == 0);
    CF_CHECK(cf_key_parse(pub, 39, NULL, NULL, &err) == CF_EINVAL); /* one short */
    snprintf(line, sizeof line, "%.39s~", pub); /* '~' is not Z85 */
    CF_CHECK(cf_key_parse(line, 40, NULL, NULL, &err) == CF_EINVAL);
    CF_CHECK(strstr(err.text, "character 40") != NULL);
    snprintf(line, sizeof line, "%.20s%c%.19s", pub, '\0', pub + 21);
    CF_CHECK(cf_key_parse(line, 40, NULL, NULL, &err) == CF_EINVAL); /* a NUL inside */
    CF_CHECK(cf_key_parse("", 0, NULL, NULL, &err) == CF_EINVAL);
}

static void
test_generate_and_read(void)
{
    char pub[41], sec[41], derived[41];
    cf_err_t err;
    CF_CHECK(cf_key_generate(dir, "alice", false, pub, &err) == CF_OK);
    struct stat st;
    CF_CHECK(stat(path_of("alice.key"), &st) == 0 && (st.st_mode & 0777) == 0600);
    CF_CHECK(stat(path_of("alice.pub"), &st) == 0 && st.st_size == 41);
    char z[41];
    CF_CHECK(cf_key_read_public(path_of("alice.pub"), z, &err) == CF_OK && strcmp(z, pub) == 0);
    CF_CHECK(cf_key_read_secret(path_of("alice.key"), sec, derived, &err) == CF_OK);
    CF_CHECK(strcmp(derived, pub) == 0); /* the public half comes from the secret */
    /* the halves swapped: both hold 40 Z85 characters, so the names tell (a secret
     * key given as a server's public key would be sent nowhere, but is refused) */
    chmod(path_of("alice.pub"), 0600);
    CF_CHECK(cf_key_read_secret(path_of("alice.pub"), sec, NULL, &err) == CF_EINVAL);
    CF_CHECK(strstr(err.text, "alice.pub: a public key file (.pub) where a secret key") != NULL);
    chmod(path_of("alice.pub"), 0644);
    CF_CHECK(cf_key_read_public(path_of("alice.key"), z, &err) == CF_EINVAL);
    CF_CHECK(strstr(err.text, "alice.key: a secret key file (.key) where a public key") != NULL);
    /* never overwritten by accident; --force replaces both */
    CF_CHECK(cf_key_generate(dir, "alice", false, NULL, &err) == CF_EDUP);
    CF_CHECK(strstr(err.text, "exists") != NULL);
    char pub2[41];
    CF_CHECK(cf_key_generate(dir, "alice", true, pub2, &err) == CF_OK && strcmp(pub, pub2) != 0);
    /* a secret others may read is no secret */
    chmod(path_of("alice.key"), 0640);
    CF_CHECK(cf_key_read_secret(path_of("alice.key"), sec, NULL, &err) == CF_EDENIED);
    CF_CHECK(strstr(err.text, "0640") != NULL);
    chmod(path_of("alice.key"), 0400);
    CF_CHECK(cf_key_read_secret(path_of("alice.key"), sec, NULL, &err) == CF_OK);
    /* another user's key (only root can read one at mode 0400, so only root can
     * test it): refused; root's own key is fine */
    if (geteuid() == 0) {
        CF_CHECK(chown(path_of("alice.key"), 65534, 65534) == 0);
        CF_CHECK(cf_key_read_secret(path_of("alice.key"), sec, NULL, &err) == CF_EDENIED);
        CF_CHECK(strstr(err.text, "owned by uid 65534") != NULL);
        CF_CHECK(chown(path_of("alice.key"), 0, 0) == 0);
        CF_CHECK(cf_key_read_secret(path_of("alice.key"), sec, NULL, &err) == CF_OK);
    } else {
        printf("test_key: not root: the check of another user's key is not run\n");
    }
    /* systemd 254+: LoadCredential= files are 0440 in the service's credentials
     * directory; group read is allowed there and only there */
    char creds[300], key[400];
    snprintf(creds, sizeof creds, "%s/creds", dir);
    CF_CHECK(mkdir(creds, 0750) == 0);
    snprintf(key, sizeof key, "%s/curve-server.secret", creds);
    CF_CHECK(rename(path_of("alice.key"), key) == 0);
    chmod(key, 0440);
    unsetenv("CREDENTIALS_DIRECTORY");
    CF_CHECK(cf_key_read_secret(key, sec, NULL, &err) == CF_EDENIED); /* not a credential */
    setenv("CREDENTIALS_DIRECTORY", creds, 1);
    CF_CHECK(cf_key_read_secret(key, sec, NULL, &err) == CF_OK);
    chmod(key, 0460); /* group may write: refused anywhere */
    CF_CHECK(cf_key_read_secret(key, sec, NULL, &err) == CF_EDENIED);
    chmod(key, 0444); /* world-readable: refused anywhere */
    CF_CHECK(cf_key_read_secret(key, sec, NULL, &err) == CF_EDENIED);
    chmod(key, 0440);
    chmod(creds, 0755); /* a directory others may enter is no credentials directory */
    CF_CHECK(cf_key_read_secret(key, sec, NULL, &err) == CF_EDENIED);
    chmod(creds, 0750);
    setenv("CREDENTIALS_DIRECTORY", dir, 1); /* the file is not directly inside it */
    CF_CHECK(cf_key_read_secret(key, sec, NULL, &err) == CF_EDENIED);
    unsetenv("CREDENTIALS_DIRECTORY");
    chmod(key, 0600);
    CF_CHECK(rename(key, path_of("alice.key")) == 0);
    CF_CHECK(rmdir(creds) == 0);
    CF_CHECK(cf_key_read_public(path_of("nobody.pub"), z, &err) == CF_ESYS);
    /* --force that fails on the way keeps the old pair: here its .pub cannot be
     * replaced (a directory took its place), and the secret half must survive */
    char bob[41], bobsec[41], left[41];
    CF_CHECK(cf_key_generate(dir, "bob", false, bob, &err) == CF_OK);
    CF_CHECK(unlink(path_of("bob.pub")) == 0 && mkdir(path_of("bob.pub"), 0700) == 0);
    CF_CHECK(cf_key_generate(dir, "bob", true, NULL, &err) == CF_ESYS);
    CF_CHECK(cf_key_read_secret(path_of("bob.key"), bobsec, left, &err) == CF_OK &&
             strcmp(left, bob) == 0);
    CF_CHECK(rmdir(path_of("bob.pub")) == 0 && unlink(path_of("bob.key")) == 0);
    CF_CHECK(cf_key_generate(dir, "../evil", false, NULL, &err) == CF_EINVAL);
    CF_CHECK(cf_key_generate(dir, ".hidden", false, NULL, &err) == CF_EINVAL);
    CF_CHECK(!cf_key_name_ok("") && !cf_key_name_ok("a b") && cf_key_name_ok("scraper-eu1.x"));
}

static void
test_client(void)
{
    cf_curve_client_t c;
    cf_err_t err;
    CF_CHECK(cf_curve_client_load(&c, NULL, NULL, &err) == CF_OK && !cf_curve_client_on(&c));
    CF_CHECK(cf_curve_client_load(&c, path_of("alice.pub"), NULL, &err) == CF_EINVAL);
    char pub[256];
    snprintf(pub, sizeof pub, "%s", path_of("alice.pub")); /* path_of's buffer is reused */
    CF_CHECK(cf_curve_client_load(&c, pub, path_of("alice.key"), &err) == CF_OK);
    CF_CHECK(cf_curve_client_on(&c) && strlen(c.pub) == 40);
}

static size_t removed;
static char last_removed[64];

static void
on_removed(const char *name, const char *z85, void *arg)
{
    (void)arg;
    CF_CHECK(strlen(z85) == 40);
    removed++;
    snprintf(last_removed, sizeof last_removed, "%s", name);
}

static void
test_allow(void)
{
    char list[128];
    snprintf(list, sizeof list, "%s/list", dir);
    CF_CHECK(mkdir(list, 0750) == 0);
    cf_err_t err;
    char pa[41], pb[41];
    CF_CHECK(cf_key_generate(list, "a", false, pa, &err) == CF_OK);
    CF_CHECK(cf_key_generate(list, "b", false, pb, &err) == CF_OK);
    /* the .key files are secrets copied by mistake: the whole list is refused */
    CF_CHECK(cf_allow_load(list, &err) == NULL && strstr(err.text, "secret key") != NULL);
    char p[256];
    snprintf(p, sizeof p, "%s/a.key", list);
    unlink(p);
    snprintf(p, sizeof p, "%s/b.key", list);
    unlink(p);
    snprintf(p, sizeof p, "%s/.b.pub.swp", list); /* editors' leftovers are skipped */
    FILE *f = fopen(p, "w");
    fputs("junk", f);
    fclose(f);
    cf_allow_t *l1 = cf_allow_load(list, &err);
    CF_CHECK(l1 != NULL && cf_allow_count(l1) == 2);
    uint8_t ka[32], kb[32], kx[32] = {0};
    cf_key_parse(pa, 40, ka, NULL, NULL);
    cf_key_parse(pb, 40, kb, NULL, NULL);
    CF_CHECK(strcmp(cf_allow_find(l1, ka), "a") == 0 && strcmp(cf_allow_find(l1, kb), "b") == 0);
    CF_CHECK(cf_allow_find(l1, kx) == NULL);
    /* revoke b: the difference names it */
    snprintf(p, sizeof p, "%s/b.pub", list);
    unlink(p);
    cf_allow_t *l2 = cf_allow_load(list, &err);
    CF_CHECK(l2 != NULL && cf_allow_count(l2) == 1 && cf_allow_find(l2, kb) == NULL);
    CF_CHECK(cf_allow_missing(l1, l2, on_removed, NULL) == 1 && removed == 1);
    CF_CHECK(strcmp(last_removed, "b") == 0);
    CF_CHECK(cf_allow_missing(l2, l1, NULL, NULL) == 0);
    /* revoking by renaming works: only NAME.pub files are keys */
    snprintf(p, sizeof p, "%s/b.pub.revoked", list);
    f = fopen(p, "w");
    fprintf(f, "%s\n", pb);
    fclose(f);
    cf_allow_t *l3 = cf_allow_load(list, &err);
    CF_CHECK(l3 != NULL && cf_allow_count(l3) == 1 && cf_allow_find(l3, kb) == NULL);
    cf_allow_destroy(&l3);
    unlink(p);
    /* the same key twice, or a file that is not a key: refused, naming the file */
    snprintf(p, sizeof p, "%s/a-again.pub", list);
    f = fopen(p, "w");
    fprintf(f, "%s\n", pa);
    fclose(f);
    CF_CHECK(cf_allow_load(list, &err) == NULL && strstr(err.text, "same key") != NULL);
    unlink(p);
    snprintf(p, sizeof p, "%s/broken.pub", list);
    f = fopen(p, "w");
    fputs("not a key\n", f);
    fclose(f);
    CF_CHECK(cf_allow_load(list, &err) == NULL && strstr(err.text, "broken.pub") != NULL);
    unlink(p);
    /* who can write the list or a key in it can let in a key of their own (sshd's
     * StrictModes): group- or world-writable is refused, and so is another owner */
    snprintf(p, sizeof p, "%s/a.pub", list);
    CF_CHECK(chmod(p, 0664) == 0);
    CF_CHECK(cf_allow_load(list, &err) == NULL && strstr(err.text, "a.pub: writable by its group"));
    CF_CHECK(chmod(p, 0644) == 0);
    CF_CHECK(chmod(list, 0757) == 0);
    CF_CHECK(cf_allow_load(list, &err) == NULL && strstr(err.text, "list: writable by its group"));
    CF_CHECK(chmod(list, 0750) == 0);
    if (geteuid() == 0) { /* only root can give a file away */
        CF_CHECK(chown(p, 4242, (gid_t)-1) == 0);
        CF_CHECK(cf_allow_load(list, &err) == NULL && strstr(err.text, "owned by uid 4242"));
        CF_CHECK(chown(p, 0, (gid_t)-1) == 0);
    }
    cf_allow_t *fine = cf_allow_load(list, &err);
    CF_CHECK(fine != NULL && cf_allow_count(fine) == 1);
    cf_allow_destroy(&fine);
    /* every key revoked: an empty list (no array behind it), the last key named gone */
    snprintf(p, sizeof p, "%s/a.pub", list);
    unlink(p);
    cf_allow_t *empty = cf_allow_load(list, &err);
    CF_CHECK(empty != NULL && cf_allow_count(empty) == 0 && cf_allow_find(empty, ka) == NULL);
    CF_CHECK(cf_allow_missing(l2, empty, NULL, NULL) == 1);
    cf_allow_destroy(&empty);
    CF_CHECK(cf_allow_load("/nonexistent/keys", &err) == NULL);
    cf_allow_t *none = cf_allow_load(NULL, &err);
    CF_CHECK(none != NULL && cf_allow_count(none) == 0 && cf_allow_find(none, ka) == NULL);
    cf_allow_destroy(&none);
    cf_allow_destroy(&l1);
    cf_allow_destroy(&l2);
    CF_CHECK(system("rm -rf /tmp/cf-test-key-*") == 0);
}

static void
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CF_CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

/* A reload refused for a bad file still revokes: cf_allow_prune keeps a running key
 * only where its own file still holds it; nothing new gets in. */
static void
test_allow_prune(void)
{
    char list[128], p[256], key[48];
    snprintf(list, sizeof list, "%s/prune", dir);
    CF_CHECK(mkdir(list, 0750) == 0);
    cf_err_t err;
    const char *names[] = {"keep", "gone", "changed", "moved"};
    char z[4][41];
    for (int i = 0; i < 4; i++) {
        CF_CHECK(cf_key_generate(list, names[i], false, z[i], &err) == CF_OK);
        snprintf(p, sizeof p, "%s/%s.key", list, names[i]);
        unlink(p);
    }
    cf_allow_t *running = cf_allow_load(list, &err);
    CF_CHECK(running != NULL && cf_allow_count(running) == 4);
    /* the operator revokes two keys, moves one, adds one, and leaves a typo behind */
    snprintf(p, sizeof p, "%s/gone.pub", list);
    unlink(p);
    char newz[41];
    CF_CHECK(cf_key_generate(dir, "other", false, newz, &err) == CF_OK);
    snprintf(p, sizeof p, "%s/changed.pub", list);
    snprintf(key, sizeof key, "%s\n", newz);
    write_text(p, key); /* another key under the old name */
    char from[256];
    snprintf(from, sizeof from, "%s/moved.pub", list);
    snprintf(p, sizeof p, "%s/moved-elsewhere.pub", list);
    CF_CHECK(rename(from, p) == 0);
    snprintf(p, sizeof p, "%s/typo.pub", list);
    write_text(p, "not a key\n");
    CF_CHECK(cf_allow_load(list, &err) == NULL && strstr(err.text, "typo.pub") != NULL);
    cf_allow_t *kept = cf_allow_prune(running, list);
    CF_CHECK(cf_allow_count(kept) == 1);
    uint8_t k[32];
    cf_key_parse(z[0], 40, k, NULL, NULL);
    CF_CHECK(cf_allow_find(kept, k) && strcmp(cf_allow_find(kept, k), "keep") == 0);
    for (int i = 1; i < 4; i++) {
        cf_key_parse(z[i], 40, k, NULL, NULL);
        CF_CHECK(cf_allow_find(kept, k) == NULL);
    }
    cf_key_parse(newz, 40, k, NULL, NULL);
    CF_CHECK(cf_allow_find(kept, k) == NULL); /* nothing added */
    CF_CHECK(cf_allow_missing(running, kept, NULL, NULL) == 3);
    cf_allow_destroy(&kept);
    /* the directory gone: nothing vouches for any key */
    kept = cf_allow_prune(running, "/nonexistent/keys");
    CF_CHECK(kept != NULL && cf_allow_count(kept) == 0);
    cf_allow_destroy(&kept);
    kept = cf_allow_prune(NULL, list);
    CF_CHECK(kept != NULL && cf_allow_count(kept) == 0);
    cf_allow_destroy(&kept);
    cf_allow_destroy(&running);
}

/* Only endpoints something guards: tcp (CURVE when configured), ipc paths (file
 * permissions), inproc. */
static void
test_endpoints(void)
{
    void *ctx = zmq_ctx_new();
    cf_err_t err;
    const char *bad[] = {"ipc://@abstract", "ipc://relative.sock", "epgm://eth0;239.1.1.1:5555",
                         "tipc://{5560,0,0}", "udp://127.0.0.1:5555"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        void *s = zmq_socket(ctx, ZMQ_ROUTER);
        CF_CHECK(cf_auth_bind(NULL, s, CF_AUTH_QUERY, NULL, bad[i], &err) == CF_EINVAL);
        zmq_close(s);
    }
    void *s = zmq_socket(ctx, ZMQ_ROUTER);
    CF_CHECK(cf_auth_bind(NULL, s, CF_AUTH_QUERY, NULL, "inproc://fine", &err) == CF_OK);
    /* a tcp worker endpoint without CURVE: anyone could pose as a worker */
    void *w = zmq_socket(ctx, ZMQ_ROUTER);
    CF_CHECK(cf_auth_bind(NULL, w, CF_AUTH_WORKERS, NULL, "tcp://127.0.0.1:0", &err) == CF_EINVAL);
    int linger = 0;
    zmq_setsockopt(s, ZMQ_LINGER, &linger, sizeof linger);
    zmq_close(s);
    zmq_close(w);
    zmq_ctx_term(ctx);
}

static void
setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/cf-test-key-XXXXXX");
    CF_CHECK(mkdtemp(dir) != NULL);
}

static void
test_all(void)
{
    setup();
    test_parse();
    test_generate_and_read();
    test_client();
    test_allow_prune(); /* before test_allow, which removes the directory */
    test_allow();
    test_endpoints();
}

CF_TEST_LIST(CF_TEST(test_all));
