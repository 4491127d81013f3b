/* Linux's errnos for Fast Open socket calls on sockets already connecting or
 * connected (net/ipv4/tcp.c tcp_sendmsg_fastopen, af_inet.c
 * __inet_stream_connect), TCP_FASTOPEN_CONNECT's deferred SYN, and
 * TCP_SYNCNT: what the fastopen/client errno scripts check. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <netinet/tcp.h>

#include "posix_util.h"

/* sendto through sendmsg, as libc's sendto is */
static ssize_t sxp_sendto(struct sxp *p, int fd, const void *b, size_t n, int flags, const struct sockaddr *a,
                          socklen_t al)
{
    struct iovec v = {.iov_base = (void *)b, .iov_len = n};
    struct msghdr m = {.msg_name = (void *)a, .msg_namelen = al, .msg_iov = &v, .msg_iovlen = 1};
    return sxp_sendmsg(p, fd, &m, flags);
}

static void fo_pair_init(struct pair *pr)
{
    struct sxp_config c;
    sxp_config_default(&c);
    c.recv_nowait = true;
    c.fastopen = SYNACK_FASTOPEN_CLIENT | SYNACK_FASTOPEN_SERVER;
    pr->a = sxp_new(&c);
    c.local_ip = IP_B;
    c.local_ip6[15] = 2;
    c.seed = 2;
    pr->b = sxp_new(&c);
    assert_non_null(pr->a);
    assert_non_null(pr->b);
}

static int fo_listener(struct pair *pr, uint16_t port)
{
    int l = sxp_socket(pr->b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sb = sin_of(IP_B, port);
    int one = 1, q = 8;
    assert_int_equal(sxp_setsockopt(pr->b, l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one), 0);
    assert_int_equal(sxp_bind(pr->b, l, SA(sb), sizeof sb), 0);
    assert_int_equal(sxp_setsockopt(pr->b, l, IPPROTO_TCP, TCP_FASTOPEN, &q, sizeof q), 0);
    assert_int_equal(sxp_listen(pr->b, l, 8), 0);
    return l;
}

/* sendto(MSG_FASTOPEN) connects first: a second one while the handshake
 * runs is EALREADY (non-blocking), one after it completes sends as write()
 * does (the socket becomes connected, as a second connect() makes it), and
 * one on a connected socket is EISCONN. */
static void msg_fastopen_on_a_connecting_then_connected_socket(void **state)
{
    (void)state;
    struct pair pr;
    fo_pair_init(&pr);
    fo_listener(&pr, 80);
    struct sockaddr_in sb = sin_of(IP_B, 80);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_errno(sxp_sendto(pr.a, c, "abc", 3, MSG_FASTOPEN, SA(sb), sizeof sb), EINPROGRESS);
    assert_errno(sxp_sendto(pr.a, c, "abc", 3, MSG_FASTOPEN, SA(sb), sizeof sb), EALREADY);
    pump(&pr);
    assert_int_equal(sxp_sendto(pr.a, c, "abc", 3, MSG_FASTOPEN, SA(sb), sizeof sb), 3);
    assert_errno(sxp_sendto(pr.a, c, "abc", 3, MSG_FASTOPEN, SA(sb), sizeof sb), EISCONN);
    assert_int_equal(sxp_sendto(pr.a, c, "de", 2, 0, SA(sb), sizeof sb), 2); /* address ignored */
    pair_free(&pr);
}

/* TCP_FASTOPEN_CONNECT with a cookie cached: connect() says 0 and holds the
 * SYN; connecting again is EISCONN; a 0-byte send makes the SYN (cookie, no
 * data) and says EINPROGRESS. */
static void fastopen_connect_deferred_calls(void **state)
{
    (void)state;
    struct pair pr;
    fo_pair_init(&pr);
    fo_listener(&pr, 80);
    struct sockaddr_in sb = sin_of(IP_B, 80);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_errno(sxp_sendto(pr.a, c, NULL, 0, MSG_FASTOPEN, SA(sb), sizeof sb), EINPROGRESS);
    pump(&pr); /* the SYN-ACK brings the cookie */
    int one = 1;
    int d = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    assert_int_equal(sxp_setsockopt(pr.a, d, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one), 0);
    assert_int_equal(sxp_connect(pr.a, d, SA(sb), sizeof sb), 0);
    uint8_t buf[2000];
    size_t n = sizeof buf;
    long long t;
    assert_int_equal(sxp_output(pr.a, buf, &n, &t), -1); /* nothing yet */
    run_for(&pr, 5000);
    assert_errno(sxp_connect(pr.a, d, SA(sb), sizeof sb), EISCONN);
    assert_errno(sxp_sendto(pr.a, d, "", 0, 0, SA(sb), sizeof sb), EINPROGRESS);
    n = sizeof buf;
    assert_int_equal(sxp_output(pr.a, buf, &n, &t), 0);
    assert_int_equal(n, 20 + 20 + 20 + 12); /* IPv4, TCP, SYN options, FO with an 8-byte cookie (+2 nop) */
    pair_free(&pr);
}

/* TCP_SYNCNT (Linux: 1..127, else EINVAL; the get falls back to
 * tcp_syn_retries): with 1, a SYN nobody answers is sent twice and connect
 * fails with ETIMEDOUT after 1 s + 2 s. */
static void tcp_syncnt(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int v = 0;
    socklen_t len = sizeof v;
    assert_int_equal(sxp_getsockopt(pr.a, c, IPPROTO_TCP, TCP_SYNCNT, &v, &len), 0);
    assert_int_equal(v, 6);
    v = 0;
    assert_errno(sxp_setsockopt(pr.a, c, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof v), EINVAL);
    v = 128;
    assert_errno(sxp_setsockopt(pr.a, c, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof v), EINVAL);
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, c, IPPROTO_TCP, TCP_SYNCNT, &v, sizeof v), 0);
    assert_int_equal(sxp_getsockopt(pr.a, c, IPPROTO_TCP, TCP_SYNCNT, &v, &len), 0);
    assert_int_equal(v, 1);
    struct sockaddr_in far = sin_of(IP_B, 81);
    assert_errno(sxp_connect(pr.a, c, SA(far), sizeof far), EINPROGRESS);
    uint8_t buf[2000];
    size_t n = sizeof buf;
    long long t;
    int syns = 0;
    for (int ms = 0; ms < 2900; ms++, n = sizeof buf) { /* B never hears it */
        sxp_advance(pr.a, 1000);
        while (sxp_output(pr.a, buf, &n, &t) == 0)
            syns++, n = sizeof buf;
    }
    assert_int_equal(syns, 2);
    int err = 0;
    len = sizeof err;
    assert_int_equal(sxp_getsockopt(pr.a, c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    assert_int_equal(err, 0);
    sxp_advance(pr.a, 200000);
    assert_int_equal(sxp_getsockopt(pr.a, c, SOL_SOCKET, SO_ERROR, &err, &len), 0);
    assert_int_equal(err, ETIMEDOUT);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(msg_fastopen_on_a_connecting_then_connected_socket),
        cmocka_unit_test(fastopen_connect_deferred_calls),
        cmocka_unit_test(tcp_syncnt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
