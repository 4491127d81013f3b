/* IPv6 in the stack (RFC 8200) and ICMPv6 (RFC 4443): TCP over IPv6 between
 * two stacks, the dual-stack listener, echo replies, the errors the stack
 * sends, and the reaction to Packet Too Big. Each test is named after the
 * rule it pins down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../support/sim.h"
#include "wire/bytes.h"
#include "wire/icmpv6.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

#include "capture.h"

struct pair {
    struct sim sim;
    synack_sock lsn, cli, srv;
};

static bool connected(void *ctx)
{
    struct pair *p = ctx;
    if (p->srv < 0)
        p->srv = synack_accept(p->sim.b, p->lsn, NULL);
    synack_tcp_info ti;
    return p->srv >= 0 && synack_tcp_info_get(p->sim.a, p->cli, &ti) == 0 && ti.state == SYNACK_ESTABLISHED;
}

static void pair_open(struct pair *p, const synack_endpoint *bind_ep, const synack_endpoint *to)
{
    memset(p, 0, sizeof *p);
    sim_init(&p->sim, 7, SYNACK_MS(1), NULL);
    p->srv = -1;
    p->lsn = synack_socket(p->sim.b);
    assert_int_equal(synack_bind(p->sim.b, p->lsn, bind_ep), 0);
    assert_int_equal(synack_listen(p->sim.b, p->lsn, 8), 0);
    p->cli = synack_socket(p->sim.a);
    assert_int_equal(synack_connect(p->sim.a, p->cli, to), -EINPROGRESS);
    assert_true(sim_run(&p->sim, connected, p, SYNACK_SEC(2)));
}

/* RFC 8200 §3 and RFC 9293 §3.7.1: segments travel in IPv6 packets, and the
 * MSS a stack announces is its MTU less 40 bytes of IPv6 and 20 of TCP. */
static void rfc8200_tcp_over_ipv6_handshake_data_close(void **state)
{
    (void)state;
    struct capture *cap = calloc(1, sizeof *cap);
    struct pair p;
    synack_endpoint srv = sim_ep6(SIM_ADDR6_B, 7000);
    memset(&p, 0, sizeof p);
    sim_init(&p.sim, 7, SYNACK_MS(1), NULL);
    synack_set_tap(p.sim.a, capture_tap, cap);
    p.srv = -1;
    p.lsn = synack_socket(p.sim.b);
    assert_int_equal(synack_bind(p.sim.b, p.lsn, &srv), 0);
    assert_int_equal(synack_listen(p.sim.b, p.lsn, 8), 0);
    p.cli = synack_socket(p.sim.a);
    assert_int_equal(synack_connect(p.sim.a, p.cli, &srv), -EINPROGRESS);
    assert_true(sim_run(&p.sim, connected, &p, SYNACK_SEC(2)));

    struct wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(cap->f[0], cap->caplen[0], 0, &ip), WIRE_OK);
    assert_int_equal(ip.proto, WIRE_IPPROTO_TCP);
    assert_memory_equal(ip.dst, srv.addr.bytes, 16);
    assert_true(wire_tcp_csum_ok_ipv6(ip.payload, ip.payload_len, ip.src, ip.dst));
    struct wire_tcp syn;
    assert_int_equal(wire_tcp_parse(ip.payload, ip.payload_len, &syn), WIRE_OK);
    assert_true(syn.flags & WIRE_TCP_SYN);
    assert_int_equal(syn.opt.mss, 1500 - 60);

    synack_endpoint re, le;
    assert_int_equal(synack_remote(p.sim.b, p.srv, &re), 0);
    assert_int_equal(re.addr.family, SYNACK_AF_INET6);
    assert_memory_equal(re.addr.bytes, sim_ep6(SIM_ADDR6_A, 0).addr.bytes, 16);
    assert_int_equal(synack_local(p.sim.a, p.cli, &le), 0);
    assert_int_equal(le.addr.family, SYNACK_AF_INET6);

    /* 200 kB each way, byte-exact */
    enum { N = 200000 };
    uint8_t *out = malloc(N), *in_a = malloc(N), *in_b = malloc(N);
    for (int i = 0; i < N; i++)
        out[i] = (uint8_t)(i * 7 + (i >> 8));
    size_t sa = 0, sb = 0, ra = 0, rb = 0;
    for (int round = 0; round < 100000 && (ra < N || rb < N); round++) {
        long n;
        if (sa < N && (n = synack_send(p.sim.a, p.cli, out + sa, N - sa)) > 0)
            sa += (size_t)n;
        if (sb < N && (n = synack_send(p.sim.b, p.srv, out + sb, N - sb)) > 0)
            sb += (size_t)n;
        if ((n = synack_recv(p.sim.b, p.srv, in_b + rb, N - rb)) > 0)
            rb += (size_t)n;
        if ((n = synack_recv(p.sim.a, p.cli, in_a + ra, N - ra)) > 0)
            ra += (size_t)n;
        sim_advance(&p.sim, SYNACK_MS(1));
    }
    assert_int_equal(ra, N);
    assert_int_equal(rb, N);
    assert_memory_equal(in_a, out, N);
    assert_memory_equal(in_b, out, N);
    assert_int_equal(synack_close(p.sim.a, p.cli), 0);
    assert_int_equal(synack_close(p.sim.b, p.srv), 0);
    sim_advance(&p.sim, SYNACK_SEC(1));
    assert_true(strstr(p.sim.log.lines[p.sim.log.n - 1], "CLOSED") ||
                strstr(p.sim.log.lines[p.sim.log.n - 2], "TIME_WAIT"));
    int v6 = 0;
    for (int i = 0; i < cap->n; i++)
        v6 += cap->f[i][0] >> 4 == 6;
    assert_int_equal(v6, cap->n); /* nothing left in IPv4 */
    free(out);
    free(in_a);
    free(in_b);
    free(cap);
    sim_free(&p.sim);
}

/* Linux's default (net.ipv6.bindv6only 0): a listener on the IPv6 wildcard
 * takes IPv4 connections too; a listener on the IPv4 wildcard is
 * preferred for them when both exist. */
static void linux_dual_stack_listener_takes_ipv4(void **state)
{
    (void)state;
    uint8_t any6[16] = {0};
    synack_endpoint w6 = {.addr = synack_ipv6(any6), .port = 7001};
    synack_endpoint to4 = sim_ep(SIM_ADDR_B, 7001);
    struct pair p;
    pair_open(&p, &w6, &to4);
    synack_endpoint re;
    assert_int_equal(synack_remote(p.sim.b, p.srv, &re), 0);
    assert_int_equal(re.addr.family, SYNACK_AF_INET);
    assert_int_equal(synack_addr_ipv4(&re.addr), SIM_ADDR_A);

    synack_sock l4 = synack_socket(p.sim.b);
    synack_endpoint w4 = {.addr = synack_ipv4(0), .port = 7002};
    synack_endpoint w6b = {.addr = synack_ipv6(any6), .port = 7003};
    assert_int_equal(synack_bind(p.sim.b, l4, &w4), 0);
    assert_int_equal(synack_listen(p.sim.b, l4, 4), 0);
    /* an IPv6 client cannot reach the IPv4-only listener */
    synack_sock c6 = synack_socket(p.sim.a);
    synack_endpoint to6 = sim_ep6(SIM_ADDR6_B, 7002);
    assert_int_equal(synack_connect(p.sim.a, c6, &to6), -EINPROGRESS);
    sim_advance(&p.sim, SYNACK_MS(50));
    assert_int_equal(synack_sock_error(p.sim.a, c6), -ECONNREFUSED);
    (void)w6b;
    sim_free(&p.sim);
}

/* RFC 4291 §2.2 text forms; the format is RFC 5952's (inet_ntop). */
static void rfc4291_2_2_address_text(void **state)
{
    (void)state;
    synack_addr a;
    char buf[64];
    assert_int_equal(synack_addr_parse("2001:2::1", &a), 0);
    assert_int_equal(a.family, SYNACK_AF_INET6);
    assert_int_equal(a.bytes[0], 0x20);
    assert_int_equal(a.bytes[15], 1);
    assert_string_equal(synack_addr_format(&a, buf, sizeof buf), "2001:2::1");
    assert_int_equal(synack_addr_parse("2001:2::1::2", &a), -EINVAL);
    assert_int_equal(synack_addr_parse("198.18.0.1", &a), 0);
    assert_int_equal(a.family, SYNACK_AF_INET);
}

/* ---- ICMPv6, with crafted packets into stack b ---------------------------- */

static size_t build6(uint8_t *buf, const uint8_t src[16], const uint8_t dst[16], uint8_t proto,
                     const uint8_t *payload, size_t n)
{
    struct wire_ipv6 ip;
    memset(&ip, 0, sizeof ip);
    ip.hop_limit = 64;
    ip.proto = proto;
    memcpy(ip.src, src, 16);
    memcpy(ip.dst, dst, 16);
    wire_ipv6_emit(buf, 2048, &ip, n);
    memcpy(buf + 40, payload, n);
    return 40 + n;
}

struct one {
    struct sim sim;
    struct capture *cap;
    uint8_t peer[16], us[16];
};

static void one_init(struct one *o)
{
    memset(o, 0, sizeof *o);
    sim_init(&o->sim, 3, SYNACK_MS(1), NULL);
    o->cap = calloc(1, sizeof *o->cap);
    synack_set_tap(o->sim.b, capture_tap, o->cap);
    memcpy(o->peer, sim_ep6(SIM_ADDR6_A, 0).addr.bytes, 16);
    memcpy(o->us, sim_ep6(SIM_ADDR6_B, 0).addr.bytes, 16);
}

static void one_free(struct one *o)
{
    free(o->cap);
    sim_free(&o->sim);
}

/* The ICMPv6 message in captured frame i (checksum verified). */
static void icmp_at(struct one *o, int i, struct wire_ipv6 *ip, struct wire_icmpv6 *m)
{
    assert_true(i < o->cap->n);
    assert_int_equal(wire_ipv6_parse(o->cap->f[i], o->cap->caplen[i], 0, ip), WIRE_OK);
    assert_int_equal(ip->proto, WIRE_IPPROTO_ICMPV6);
    assert_int_equal(wire_icmpv6_parse(ip->payload, ip->payload_len, ip->src, ip->dst, m), WIRE_OK);
}

/* RFC 4443 §4.2: the echo reply carries the request's id, sequence number
 * and data, from the address the request went to. */
static void rfc4443_4_2_echo_reply(void **state)
{
    (void)state;
    struct one o;
    one_init(&o);
    uint8_t msg[128], pkt[2048], data[56];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    int n = wire_icmpv6_emit(msg, sizeof msg, o.peer, o.us, WIRE_ICMPV6_ECHO_REQUEST, 0, 0x12340007u, data,
                             sizeof data, NULL, 0);
    size_t len = build6(pkt, o.peer, o.us, WIRE_IPPROTO_ICMPV6, msg, (size_t)n);
    synack_input(o.sim.b, o.sim.if_b, pkt, len);
    struct wire_ipv6 ip;
    struct wire_icmpv6 m;
    icmp_at(&o, 0, &ip, &m);
    assert_int_equal(m.type, WIRE_ICMPV6_ECHO_REPLY);
    assert_int_equal(m.rest, 0x12340007u);
    assert_int_equal(m.body_len, sizeof data);
    assert_memory_equal(m.body, data, sizeof data);
    assert_memory_equal(ip.src, o.us, 16);
    assert_memory_equal(ip.dst, o.peer, 16);
    /* a bad checksum draws nothing, and is counted */
    msg[10] ^= 1;
    len = build6(pkt, o.peer, o.us, WIRE_IPPROTO_ICMPV6, msg, (size_t)n);
    synack_input(o.sim.b, o.sim.if_b, pkt, len);
    assert_int_equal(o.cap->n, 1);
    assert_int_equal(synack_counter(o.sim.b, "icmp6_drop"), 1);
    one_free(&o);
}

/* RFC 4443 §3.1: UDP to a host with no UDP draws port unreachable; RFC 8200
 * §4: an unknown next header draws parameter problem code 1 pointing at
 * the Next Header field (offset 6); RFC 4443 §2.4 (e): never about an
 * ICMPv6 error. */
static void rfc4443_3_1_and_rfc8200_4_errors_sent(void **state)
{
    (void)state;
    struct one o;
    one_init(&o);
    uint8_t udp[16] = {0x30, 0x39, 0x00, 0x35, 0x00, 0x10}, pkt[2048];
    size_t len = build6(pkt, o.peer, o.us, WIRE_IPPROTO_UDP, udp, sizeof udp);
    synack_input(o.sim.b, o.sim.if_b, pkt, len);
    struct wire_ipv6 ip;
    struct wire_icmpv6 m;
    icmp_at(&o, 0, &ip, &m);
    assert_int_equal(m.type, WIRE_ICMPV6_DEST_UNREACH);
    assert_int_equal(m.code, WIRE_ICMPV6_PORT_UNREACH);
    assert_int_equal(m.body_len, len); /* the whole packet fits in 1280 */
    assert_memory_equal(m.body, pkt, len);

    len = build6(pkt, o.peer, o.us, 253, udp, sizeof udp); /* RFC 3692 experimental */
    synack_input(o.sim.b, o.sim.if_b, pkt, len);
    icmp_at(&o, 1, &ip, &m);
    assert_int_equal(m.type, WIRE_ICMPV6_PARAM_PROBLEM);
    assert_int_equal(m.code, WIRE_ICMPV6_UNK_NEXTHDR);
    assert_int_equal(m.rest, 6);

    uint8_t err[64];
    int n = wire_icmpv6_emit(err, sizeof err, o.peer, o.us, WIRE_ICMPV6_DEST_UNREACH, 4, 0, pkt, 48, NULL, 0);
    len = build6(pkt, o.peer, o.us, WIRE_IPPROTO_ICMPV6, err, (size_t)n);
    synack_input(o.sim.b, o.sim.if_b, pkt, len);
    assert_int_equal(o.cap->n, 2);
    /* a packet for an address not ours is dropped and counted */
    uint8_t other[16];
    memcpy(other, o.us, 16);
    other[15] = 9;
    len = build6(pkt, o.peer, other, WIRE_IPPROTO_UDP, udp, sizeof udp);
    synack_input(o.sim.b, o.sim.if_b, pkt, len);
    assert_int_equal(o.cap->n, 2);
    assert_int_equal(synack_counter(o.sim.b, "ip6_drop_addr"), 1);
    one_free(&o);
}

/* RFC 8201 §4 (Linux tcp_v6_err): Packet Too Big lowers the MSS of the
 * connection it quotes to the MTU less 60; a claim below 1280 counts as
 * 1280 (RFC 8200 §5). */
static void rfc8201_4_packet_too_big_lowers_mss(void **state)
{
    (void)state;
    struct capture *cap = calloc(1, sizeof *cap);
    struct pair p;
    synack_endpoint srv = sim_ep6(SIM_ADDR6_B, 7004);
    pair_open(&p, &srv, &srv);
    synack_set_tap(p.sim.a, capture_tap, cap);
    static uint8_t d[4000];
    assert_int_equal(synack_send(p.sim.a, p.cli, d, sizeof d), (long)sizeof d);
    synack_poll(p.sim.a);
    assert_true(cap->n >= 1);
    synack_tcp_info ti;
    synack_tcp_info_get(p.sim.a, p.cli, &ti);
    /* 1500 - 60, less 12 bytes of timestamp option (RFC 7323) */
    assert_int_equal(ti.mss, 1440 - 12);
    /* a router's PTB about the first data packet, quoting it */
    uint8_t msg[1300], pkt[2048], router[16];
    memcpy(router, sim_ep6(SIM_ADDR6_B, 0).addr.bytes, 16);
    router[15] = 0xfe;
    const uint8_t *a6 = sim_ep6(SIM_ADDR6_A, 0).addr.bytes;
    int n = wire_icmpv6_emit(msg, sizeof msg, router, a6, WIRE_ICMPV6_PKT_TOO_BIG, 0, 1400, cap->f[0], 200,
                             NULL, 0);
    size_t len = build6(pkt, router, a6, WIRE_IPPROTO_ICMPV6, msg, (size_t)n);
    synack_input(p.sim.a, p.sim.if_a, pkt, len);
    synack_tcp_info_get(p.sim.a, p.cli, &ti);
    assert_int_equal(ti.mss, 1400 - 60 - 12);
    assert_int_equal(synack_counter(p.sim.a, "icmp_pmtu_lowered"), 1);
    n = wire_icmpv6_emit(msg, sizeof msg, router, a6, WIRE_ICMPV6_PKT_TOO_BIG, 0, 600, cap->f[0], 200, NULL, 0);
    len = build6(pkt, router, a6, WIRE_IPPROTO_ICMPV6, msg, (size_t)n);
    synack_input(p.sim.a, p.sim.if_a, pkt, len);
    synack_tcp_info_get(p.sim.a, p.cli, &ti);
    assert_int_equal(ti.mss, 1280 - 60 - 12);
    free(cap);
    sim_free(&p.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc8200_tcp_over_ipv6_handshake_data_close),
        cmocka_unit_test(linux_dual_stack_listener_takes_ipv4),
        cmocka_unit_test(rfc4291_2_2_address_text),
        cmocka_unit_test(rfc4443_4_2_echo_reply),
        cmocka_unit_test(rfc4443_3_1_and_rfc8200_4_errors_sent),
        cmocka_unit_test(rfc8201_4_packet_too_big_lowers_mss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
