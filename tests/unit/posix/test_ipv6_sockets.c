/* AF_INET6 sockets answer as Linux's (net/ipv6/af_inet6.c, tcp_ipv6.c,
 * ipv6_sockglue.c): sockaddr_in6 everywhere, IPv4-mapped addresses
 * (RFC 4291 §2.5.5.2) for IPv4 peers of a dual-stack socket, IPV6_V6ONLY,
 * SO_DOMAIN, and the errno of each misuse. */
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>

#include <cmocka.h>

#include "posix_util.h"

static struct sockaddr_in6 sin6_of(const char *text, uint16_t port)
{
    struct sockaddr_in6 s;
    memset(&s, 0, sizeof s);
    s.sin6_family = AF_INET6;
    s.sin6_port = htons(port);
    assert_int_equal(inet_pton(AF_INET6, text, &s.sin6_addr), 1);
    return s;
}

static void assert_sin6(const struct sockaddr_in6 *s, const char *text, uint16_t port)
{
    char buf[INET6_ADDRSTRLEN];
    assert_int_equal(s->sin6_family, AF_INET6);
    assert_non_null(inet_ntop(AF_INET6, &s->sin6_addr, buf, sizeof buf));
    assert_string_equal(buf, text);
    if (port)
        assert_int_equal(ntohs(s->sin6_port), port);
}

static int opt_int(struct sxp *p, int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    assert_int_equal(sxp_getsockopt(p, fd, level, name, &v, &l), 0);
    assert_int_equal(l, sizeof v);
    return v;
}

static void socket_and_options(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET6, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(opt_int(pr.a, fd, SOL_SOCKET, SO_DOMAIN), AF_INET6);
    assert_int_equal(opt_int(pr.a, fd, IPPROTO_IPV6, IPV6_V6ONLY), 0); /* bindv6only 0 */
    int one = 1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
    assert_int_equal(opt_int(pr.a, fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, 2), EINVAL);
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS + 1000, &one, sizeof one), ENOPROTOOPT);
    /* once the socket has a port, the option is frozen (inet_num) */
    struct sockaddr_in6 sa = sin6_of("::", 8080);
    assert_int_equal(sxp_bind(pr.a, fd, SA(sa), sizeof sa), 0);
    int zero = 0;
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero), EINVAL);
    /* an AF_INET socket has no IPv6 level (ip_setsockopt / ip_getsockopt) */
    int v4 = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    assert_int_equal(opt_int(pr.a, v4, SOL_SOCKET, SO_DOMAIN), AF_INET);
    assert_errno(sxp_setsockopt(pr.a, v4, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), ENOPROTOOPT);
    int v = 0;
    socklen_t l = sizeof v;
    assert_errno(sxp_getsockopt(pr.a, v4, IPPROTO_IPV6, IPV6_V6ONLY, &v, &l), ENOPROTOOPT);
    pair_free(&pr);
}

static void bind_rules(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = sin6_of("fd3d:fa7b:d17d::1", 8080);
    /* SIN6_LEN_RFC2133 (24 bytes, no scope id) is the least Linux takes */
    assert_errno(sxp_bind(pr.a, fd, SA(sa), 23), EINVAL);
    struct sockaddr_in sin = sin_of(IP_A, 8080);
    assert_errno(sxp_bind(pr.a, fd, SA(sin), sizeof sin), EINVAL); /* 16 < 24 */
    struct sockaddr_in6 fam = sa;
    fam.sin6_family = AF_INET;
    assert_errno(sxp_bind(pr.a, fd, SA(fam), sizeof fam), EAFNOSUPPORT);
    fam.sin6_family = AF_UNSPEC; /* tolerated by AF_INET only */
    assert_errno(sxp_bind(pr.a, fd, SA(fam), sizeof fam), EAFNOSUPPORT);
    struct sockaddr_in6 mc = sin6_of("ff02::1", 8080);
    assert_errno(sxp_bind(pr.a, fd, SA(mc), sizeof mc), EINVAL);
    struct sockaddr_in6 other = sin6_of("2001:db8::7", 8080);
    assert_errno(sxp_bind(pr.a, fd, SA(other), sizeof other), EADDRNOTAVAIL);
    struct sockaddr_in6 other4 = sin6_of("::ffff:10.1.2.3", 8080);
    assert_errno(sxp_bind(pr.a, fd, SA(other4), sizeof other4), EADDRNOTAVAIL);
    assert_int_equal(sxp_bind(pr.a, fd, SA(sa), 24), 0);
    struct sockaddr_in6 got;
    socklen_t gl = sizeof got;
    assert_int_equal(sxp_getsockname(pr.a, fd, SA(got), &gl), 0);
    assert_int_equal(gl, sizeof(struct sockaddr_in6));
    assert_sin6(&got, "fd3d:fa7b:d17d::1", 8080);
    /* truncated: the real length comes back */
    gl = 8;
    assert_int_equal(sxp_getsockname(pr.a, fd, SA(got), &gl), 0);
    assert_int_equal(gl, sizeof(struct sockaddr_in6));

    /* dual stack: [::]:9000 claims the IPv4 port too; a v6-only one does not */
    int d = sxp_socket(pr.a, AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 any = sin6_of("::", 9000);
    assert_int_equal(sxp_bind(pr.a, d, SA(any), sizeof any), 0);
    int v4 = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a4 = sin_of(0, 9000);
    assert_errno(sxp_bind(pr.a, v4, SA(a4), sizeof a4), EADDRINUSE);
    int o = sxp_socket(pr.a, AF_INET6, SOCK_STREAM, 0);
    int one = 1;
    assert_int_equal(sxp_setsockopt(pr.a, o, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
    struct sockaddr_in6 any2 = sin6_of("::", 9001);
    assert_int_equal(sxp_bind(pr.a, o, SA(any2), sizeof any2), 0);
    struct sockaddr_in a42 = sin_of(0, 9001);
    assert_int_equal(sxp_bind(pr.a, v4, SA(a42), sizeof a42), 0);
    /* a v4-mapped address on a v6-only socket makes no sense */
    int o2 = sxp_socket(pr.a, AF_INET6, SOCK_STREAM, 0);
    assert_int_equal(sxp_setsockopt(pr.a, o2, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
    struct sockaddr_in6 m = sin6_of("::ffff:192.168.0.1", 9002);
    assert_errno(sxp_bind(pr.a, o2, SA(m), sizeof m), EINVAL);
    /* ... and on a dual-stack one it binds the IPv4 address */
    int o3 = sxp_socket(pr.a, AF_INET6, SOCK_STREAM, 0);
    assert_int_equal(sxp_bind(pr.a, o3, SA(m), sizeof m), 0);
    gl = sizeof got;
    assert_int_equal(sxp_getsockname(pr.a, o3, SA(got), &gl), 0);
    assert_sin6(&got, "::ffff:192.168.0.1", 9002);
    pair_free(&pr);
}

/* A (::1) connects to B's [::]:port listener over IPv6. */
static void connect_accept_v6(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int l = sxp_socket(pr.b, AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 any = sin6_of("::", 8080);
    assert_int_equal(sxp_bind(pr.b, l, SA(any), sizeof any), 0);
    assert_int_equal(sxp_listen(pr.b, l, 8), 0);
    int c = sxp_socket(pr.a, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in6 dst = sin6_of("fd3d:fa7b:d17d::2", 8080);
    assert_errno(sxp_connect(pr.a, c, SA(dst), sizeof dst - 1 - 4), EINVAL); /* 23 bytes */
    struct sockaddr_in d4 = sin_of(IP_B, 8080);
    assert_errno(sxp_connect(pr.a, c, SA(d4), sizeof d4), EINVAL); /* too short for AF_INET6 */
    struct sockaddr_in6 fam = dst;
    fam.sin6_family = AF_INET;
    assert_errno(sxp_connect(pr.a, c, SA(fam), sizeof fam), EAFNOSUPPORT);
    assert_errno(sxp_connect(pr.a, c, SA(dst), sizeof dst), EINPROGRESS);
    pump(&pr);
    assert_int_equal(sxp_connect(pr.a, c, SA(dst), sizeof dst), 0);
    struct sockaddr_in6 peer;
    socklen_t pl = sizeof peer;
    int s = sxp_accept(pr.b, l, SA(peer), &pl);
    assert_true(s >= 0);
    assert_int_equal(pl, sizeof peer);
    assert_sin6(&peer, "fd3d:fa7b:d17d::1", 0);
    assert_int_equal(opt_int(pr.b, s, SOL_SOCKET, SO_DOMAIN), AF_INET6);
    pl = sizeof peer;
    assert_int_equal(sxp_getpeername(pr.a, c, SA(peer), &pl), 0);
    assert_sin6(&peer, "fd3d:fa7b:d17d::2", 8080);
    pl = sizeof peer;
    assert_int_equal(sxp_getsockname(pr.b, s, SA(peer), &pl), 0);
    assert_sin6(&peer, "fd3d:fa7b:d17d::2", 8080);
    /* the IPv6 MSS: MTU 1500 - 40 - 20, less 12 for timestamps */
    assert_int_equal(opt_int(pr.a, c, IPPROTO_TCP, TCP_MAXSEG), 1428);
    assert_int_equal(sxp_fcntl(pr.a, c, F_SETFL, 0), 0);
    assert_int_equal(sxp_write(pr.a, c, "hello", 5), 5);
    pump(&pr);
    char buf[8];
    assert_int_equal(sxp_read(pr.b, s, buf, sizeof buf), 5);
    assert_memory_equal(buf, "hello", 5);
    /* recvfrom on TCP reports no address */
    struct iovec v = {.iov_base = buf, .iov_len = sizeof buf};
    struct sockaddr_in6 from;
    struct msghdr m = {.msg_name = &from, .msg_namelen = sizeof from, .msg_iov = &v, .msg_iovlen = 1};
    assert_int_equal(sxp_write(pr.b, s, "ok", 2), 2);
    pump(&pr);
    assert_int_equal(sxp_recvmsg(pr.a, c, &m, 0), 2);
    assert_int_equal(m.msg_namelen, 0);
    pair_free(&pr);
}

/* An IPv4 peer reaches a dual-stack AF_INET6 listener and is seen as
 * ::ffff:a.b.c.d; an AF_INET6 socket connects to a v4-mapped address over
 * IPv4; IPV6_V6ONLY shuts IPv4 out both ways. */
static void v4_mapped(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int l = sxp_socket(pr.b, AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 any = sin6_of("::", 8080);
    assert_int_equal(sxp_bind(pr.b, l, SA(any), sizeof any), 0);
    assert_int_equal(sxp_listen(pr.b, l, 8), 0);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in d4 = sin_of(IP_B, 8080);
    assert_errno(sxp_connect(pr.a, c, SA(d4), sizeof d4), EINPROGRESS);
    pump(&pr);
    assert_int_equal(sxp_connect(pr.a, c, SA(d4), sizeof d4), 0);
    struct sockaddr_in6 peer;
    socklen_t pl = sizeof peer;
    int s = sxp_accept(pr.b, l, SA(peer), &pl);
    assert_true(s >= 0);
    assert_sin6(&peer, "::ffff:192.168.0.1", 0);
    pl = sizeof peer;
    assert_int_equal(sxp_getsockname(pr.b, s, SA(peer), &pl), 0);
    assert_sin6(&peer, "::ffff:192.168.0.2", 8080);
    assert_int_equal(opt_int(pr.b, s, IPPROTO_TCP, TCP_MAXSEG), 1448); /* IPv4: 1460 - 12 (TS) */

    /* AF_INET6 connect to ::ffff:192.168.0.2 goes out as IPv4 */
    int c6 = sxp_socket(pr.a, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in6 m = sin6_of("::ffff:192.168.0.2", 8080);
    assert_errno(sxp_connect(pr.a, c6, SA(m), sizeof m), EINPROGRESS);
    uint8_t pkt[1600];
    size_t n = sizeof pkt;
    long long t;
    assert_int_equal(sxp_output(pr.a, pkt, &n, &t), 0);
    assert_int_equal(pkt[0] >> 4, 4);
    sxp_input(pr.b, pkt, n);
    pump(&pr);
    assert_int_equal(sxp_connect(pr.a, c6, SA(m), sizeof m), 0);
    pl = sizeof peer;
    assert_int_equal(sxp_getsockname(pr.a, c6, SA(peer), &pl), 0);
    assert_sin6(&peer, "::ffff:192.168.0.1", 0);
    pl = sizeof peer;
    assert_int_equal(sxp_getpeername(pr.a, c6, SA(peer), &pl), 0);
    assert_sin6(&peer, "::ffff:192.168.0.2", 8080);

    /* v6-only: connect to a mapped address is ENETUNREACH ... */
    int o = sxp_socket(pr.a, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    assert_int_equal(sxp_setsockopt(pr.a, o, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
    assert_errno(sxp_connect(pr.a, o, SA(m), sizeof m), ENETUNREACH);
    /* ... and a v6-only listener leaves IPv4 SYNs to the closed-port RST */
    int lo = sxp_socket(pr.b, AF_INET6, SOCK_STREAM, 0);
    assert_int_equal(sxp_setsockopt(pr.b, lo, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one), 0);
    struct sockaddr_in6 any2 = sin6_of("::", 8081);
    assert_int_equal(sxp_bind(pr.b, lo, SA(any2), sizeof any2), 0);
    assert_int_equal(sxp_listen(pr.b, lo, 8), 0);
    int c2 = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in d42 = sin_of(IP_B, 8081);
    assert_errno(sxp_connect(pr.a, c2, SA(d42), sizeof d42), EINPROGRESS);
    pump(&pr);
    assert_errno(sxp_connect(pr.a, c2, SA(d42), sizeof d42), ECONNREFUSED);
    /* while IPv6 still reaches it */
    int c3 = sxp_socket(pr.a, AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in6 d6 = sin6_of("fd3d:fa7b:d17d::2", 8081);
    assert_errno(sxp_connect(pr.a, c3, SA(d6), sizeof d6), EINPROGRESS);
    pump(&pr);
    assert_int_equal(sxp_connect(pr.a, c3, SA(d6), sizeof d6), 0);
    /* the accepted socket inherits IPV6_V6ONLY (Linux copies sk_ipv6only) */
    int s3 = sxp_accept(pr.b, lo, NULL, NULL);
    assert_true(s3 >= 0);
    assert_int_equal(opt_int(pr.b, s3, IPPROTO_IPV6, IPV6_V6ONLY), 1);
    assert_int_equal(opt_int(pr.b, s, IPPROTO_IPV6, IPV6_V6ONLY), 0);
    pair_free(&pr);
}

/* listen() on an unbound AF_INET6 socket binds [::] with an ephemeral port,
 * so it takes both families. */
static void listen_unbound_is_dual(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int l = sxp_socket(pr.b, AF_INET6, SOCK_STREAM, 0);
    assert_int_equal(sxp_listen(pr.b, l, 8), 0);
    struct sockaddr_in6 got;
    socklen_t gl = sizeof got;
    assert_int_equal(sxp_getsockname(pr.b, l, SA(got), &gl), 0);
    assert_sin6(&got, "::", 0);
    uint16_t port = ntohs(got.sin6_port);
    assert_true(port >= 32768);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in d4 = sin_of(IP_B, port);
    assert_errno(sxp_connect(pr.a, c, SA(d4), sizeof d4), EINPROGRESS);
    pump(&pr);
    assert_int_equal(sxp_connect(pr.a, c, SA(d4), sizeof d4), 0);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(socket_and_options), cmocka_unit_test(bind_rules),
        cmocka_unit_test(connect_accept_v6),  cmocka_unit_test(v4_mapped),
        cmocka_unit_test(listen_unbound_is_dual),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
