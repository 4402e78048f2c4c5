/* SPDX-License-Identifier: MIT
 * Unit tests for cf_http: the ADDR:PORT parser (the config validates --http with
 * it), and a bind on a port that is taken fails with a message naming it. The
 * handlers are exercised end to end by it_service. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cf_http.h"
#include "cf_test.h"

static void
test_parse(void)
{
    char host[64];
    uint16_t port = 0;
    cf_err_t err;
    CF_CHECK(cf_http_parse_addr("127.0.0.1:7780", host, sizeof host, &port, &err) == CF_OK);
    CF_CHECK_STR(host, "127.0.0.1");
    CF_CHECK_INT(port, 7780);
    CF_CHECK(cf_http_parse_addr("[::1]:9100", host, sizeof host, &port, &err) == CF_OK);
    CF_CHECK_STR(host, "::1");
    CF_CHECK_INT(port, 9100);
    CF_CHECK(cf_http_parse_addr("localhost:1", host, sizeof host, &port, &err) == CF_OK);
    const char *bad[] = {"7780", ":7780", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
                         "127.0.0.1:80x", "::1:80", "[::1]80", NULL};
    for (size_t i = 0; bad[i]; i++) {
        int rc = cf_http_parse_addr(bad[i], host, sizeof host, &port, &err);
        if (rc != CF_EINVAL)
            fprintf(stderr, "accepted '%s'\n", bad[i]);
        CF_CHECK(rc == CF_EINVAL);
    }
}

static void
test_port_in_use(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof sa;
    CF_CHECK(bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 1) == 0);
    getsockname(fd, (struct sockaddr *)&sa, &len);
    char addr[64];
    snprintf(addr, sizeof addr, "127.0.0.1:%d", ntohs(sa.sin_port));
    struct event_base *base = event_base_new();
    cf_err_t err;
    cf_http_t *h = cf_http_new(base, addr, NULL, NULL, NULL, &err);
    CF_CHECK(h == NULL);
    CF_CHECK(strstr(err.text, addr) != NULL);
    close(fd);
    h = cf_http_new(base, addr, NULL, NULL, NULL, &err); /* free now */
    CF_CHECK(h != NULL);
    cf_http_stats_t st;
    if (h)
        cf_http_stats(h, &st);
    CF_CHECK(!h || st.requests == 0);
    cf_http_destroy(&h);
    CF_CHECK(h == NULL);
    event_base_free(base);
}

CF_TEST_LIST(CF_TEST(test_parse), CF_TEST(test_port_in_use))
