/* IPPROTO_IP and IPPROTO_IPV6 options through the POSIX layer with Linux's
 * lengths and errno (ip_sockglue.c, ipv6_sockglue.c): IP_TOS from one byte
 * (as packetdrill's scripts pass it), a byte back when asked for less than
 * an int, IPV6_TCLASS wanting exactly an int, the IPv4 level on IPv6
 * sockets but not the reverse, IP_MTU only once connected. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "posix_util.h"

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

static int get_int(struct sxp *p, int fd, int level, int name)
{
    int v = -1;
    socklen_t l = sizeof v;
    assert_int_equal(sxp_getsockopt(p, fd, level, name, &v, &l), 0);
    assert_int_equal(l, sizeof v);
    return v;
}

static void ipv4_level_lengths_values_and_errno(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_WANT);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_TTL), 64);
    unsigned char dont = IP_PMTUDISC_DONT, tos = 0x2b;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_IP, IP_MTU_DISCOVER, &dont, 1), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_DONT);
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_IP, IP_TOS, &tos, 1), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_TOS), 0x28); /* ECN bits are TCP's */
    /* fewer bytes than an int: one byte back */
    unsigned char b[4] = {0xee, 0xee, 0xee, 0xee};
    socklen_t l = 2;
    assert_int_equal(sxp_getsockopt(pr.a, fd, IPPROTO_IP, IP_TOS, b, &l), 0);
    assert_int_equal(l, 1);
    assert_int_equal(b[0], 0x28);
    assert_int_equal(b[1], 0xee);
    /* no bytes: value 0, except where a byte is required */
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_IP, IP_TOS, NULL, 0), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_TOS), 0);
    int v = 0;
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_IP, IP_TTL, &v, 0), EINVAL);
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_IP, IP_FREEBIND, &v, 0), EINVAL);
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_IP, IP_TTL, &v, sizeof v), EINVAL); /* 0 */
    v = 6;
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_IP, IP_MTU_DISCOVER, &v, sizeof v), EINVAL);
    v = 1500;
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_IP, IP_MTU, &v, sizeof v), ENOPROTOOPT);
    assert_errno(sxp_setsockopt(pr.a, fd, SOL_IP, IP_PKTINFO, &v, sizeof v), ENOPROTOOPT);
    l = sizeof v;
    assert_errno(sxp_getsockopt(pr.a, fd, IPPROTO_IP, IP_MTU, &v, &l), ENOTCONN);
    l = (socklen_t)-1;
    assert_errno(sxp_getsockopt(pr.a, fd, IPPROTO_IP, IP_TOS, &v, &l), EINVAL);
    /* IP_FREEBIND: bind to an address the stack does not own */
    struct sockaddr_in far = sin_of(IP_A + 77, 9000);
    assert_errno(sxp_bind(pr.a, fd, SA(far), sizeof far), EADDRNOTAVAIL);
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_IP, IP_FREEBIND, &v, sizeof v), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_FREEBIND), 1);
    assert_int_equal(sxp_bind(pr.a, fd, SA(far), sizeof far), 0);
    /* no IPv6 level on an IPv4 socket */
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), ENOPROTOOPT);
    l = sizeof v;
    assert_errno(sxp_getsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, &l), ENOPROTOOPT);
    pair_free(&pr);
}

static void ipv6_level_and_ipv4_level_on_an_ipv6_socket(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int fd = sxp_socket(pr.a, AF_INET6, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    int v = 0x49;
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS), 0x48);
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS, &v, 1), EINVAL);
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS, &v, 8), EINVAL); /* exactly an int */
    v = 256;
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS, &v, sizeof v), EINVAL);
    v = -1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, sizeof v), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS), 64);
    v = 3;
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, &v, 1), EINVAL);
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER, &v, sizeof v), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IPV6, IPV6_MTU_DISCOVER), IPV6_PMTUDISC_PROBE);
    /* the IPv4 level is its own (the socket's IPv4-mapped packets) */
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_MTU_DISCOVER), IP_PMTUDISC_WANT);
    unsigned char tos = 0x10;
    assert_int_equal(sxp_setsockopt(pr.a, fd, SOL_IP, IP_TOS, &tos, 1), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_TOS), 0x10);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IPV6, IPV6_TCLASS), 0x48);
    /* IPV6_FREEBIND and IP_FREEBIND are one switch */
    v = 1;
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_FREEBIND, &v, sizeof v), 0);
    assert_int_equal(get_int(pr.a, fd, IPPROTO_IP, IP_FREEBIND), 1);
    /* IPV6_MTU (a datagram fragment size): at least 1280 or 0 */
    v = 1000;
    assert_errno(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_MTU, &v, sizeof v), EINVAL);
    v = 1280;
    assert_int_equal(sxp_setsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_MTU, &v, sizeof v), 0);
    socklen_t l = sizeof v;
    assert_errno(sxp_getsockopt(pr.a, fd, IPPROTO_IPV6, IPV6_MTU, &v, &l), ENOTCONN);
    pair_free(&pr);
}

/* IP_MTU of a connected socket is its route's MTU; a listener has none. */
static void ip_mtu_once_connected(void **state)
{
    (void)state;
    struct pair pr;
    pair_init(&pr);
    int l = sxp_socket(pr.b, AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sb = sin_of(IP_B, 8080);
    assert_int_equal(sxp_bind(pr.b, l, SA(sb), sizeof sb), 0);
    assert_int_equal(sxp_listen(pr.b, l, 4), 0);
    int v;
    socklen_t len = sizeof v;
    assert_errno(sxp_getsockopt(pr.b, l, IPPROTO_IP, IP_MTU, &v, &len), ENOTCONN);
    int c = sxp_socket(pr.a, AF_INET, SOCK_STREAM, 0);
    sxp_fcntl(pr.a, c, F_SETFL, O_NONBLOCK);
    assert_errno(sxp_connect(pr.a, c, SA(sb), sizeof sb), EINPROGRESS);
    assert_true(get_int(pr.a, c, IPPROTO_IP, IP_MTU) >= 1280);
    pair_free(&pr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ipv4_level_lengths_values_and_errno),
        cmocka_unit_test(ipv6_level_and_ipv4_level_on_an_ipv6_socket),
        cmocka_unit_test(ip_mtu_once_connected),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
