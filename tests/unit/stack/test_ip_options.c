/* IP-level socket options on the wire (src/stack/ipopt.c), as Linux's
 * ip(7) and ipv6(7): IP_TOS / IPV6_TCLASS in every packet a socket sends
 * (its ECN bits left to TCP, RFC 3168 §5), IP_TTL / IPV6_UNICAST_HOPS,
 * IP_MTU_DISCOVER's DF bit and whether ICMP may lower the MSS, a
 * listener's values passed to the SYN-ACK and to what it accepts, a
 * TIME_WAIT record's ACKs keeping the DS field (Linux tw_tos), an IPv6
 * socket's IPv4-mapped packets taking the IPv4 options, IP_FREEBIND, and
 * the range checks. Each test reads the bytes of the IP header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../../support/sim.h"
#include "../tcp/tcp_util.h"
#include "stack/stack.h"
#include "capture.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define A_ WIRE_TCP_ACK
#define S_ WIRE_TCP_SYN
#define F_ WIRE_TCP_FIN
#define ROUTER 0xc61200feu

/* The IPv4 header fields of the frame h_next returned last. */
struct v4f {
    uint8_t tos, ttl;
    bool df;
};
static struct v4f v4_of(const struct harness *h)
{
    const uint8_t *d = h->cur.data;
    assert_int_equal(d[0] >> 4, 4);
    return (struct v4f){.tos = d[1], .ttl = d[8], .df = (d[6] & 0x40) != 0};
}

static void expect_v4(const struct harness *h, uint8_t tos, uint8_t ttl, bool df)
{
    struct v4f f = v4_of(h);
    assert_int_equal(f.tos, tos);
    assert_int_equal(f.ttl, ttl);
    assert_int_equal(f.df, df);
}

static int getopt_(synack_stack *s, synack_sock k, synack_opt o)
{
    int v = -12345;
    assert_int_equal(synack_getopt(s, k, o, &v), 0);
    return v;
}

/* An active open whose socket sets IP_TOS (ECN bits in it too), IP_TTL
 * and IP_PMTUDISC_DONT: the SYN, the ACK of the SYN-ACK, data, a pure
 * ACK and the RST of an abortive close all carry them; DONT clears DF. */
static void ip_tos_ttl_df_on_every_segment_of_a_connection(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock c = synack_socket(h.s);
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_IP_TOS, 0xb8 | 3), 0);
    assert_int_equal(getopt_(h.s, c, SYNACK_OPT_IP_TOS), 0xb8); /* ECN is TCP's */
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_IP_TTL, 33), 0);
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_IP_MTU_DISCOVER, SYNACK_PMTUDISC_DONT), 0);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, S_);
    expect_v4(&h, 0xb8, 33, false);
    uint32_t ours = t.seq + 1, peer = 5000;
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = S_ | A_, .seq = peer, .ack = ours});
    peer++;
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, A_);
    expect_v4(&h, 0xb8, 33, false);
    assert_int_equal(synack_send(h.s, c, "hello", 5), 5);
    synack_poll(h.s);
    assert_true(h_next(&h, &t));
    assert_int_equal(t.payload_len, 5);
    expect_v4(&h, 0xb8, 33, false);
    /* a change applies to the next packet (Linux resets the route) */
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_IP_TOS, 0x10), 0);
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_IP_TTL, -1), 0);
    assert_int_equal(getopt_(h.s, c, SYNACK_OPT_IP_TTL), 64);
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_IP_MTU_DISCOVER, SYNACK_PMTUDISC_DO), 0);
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = A_, .seq = peer, .ack = ours + 5,
                                 .data = "abcd", .len = 4});
    h_advance(&h, SYNACK_MS(200)); /* the delayed ACK */
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.ack, peer + 4);
    expect_v4(&h, 0x10, 64, true);
    /* an abortive close: the socket's RST */
    assert_int_equal(synack_set_linger(h.s, c, true, 0), 0);
    assert_int_equal(synack_setopt(h.s, c, SYNACK_OPT_IP_TOS, 0x20), 0);
    uint8_t buf[8];
    assert_int_equal(synack_recv(h.s, c, buf, sizeof buf), 4);
    assert_int_equal(synack_close(h.s, c), 0);
    synack_poll(h.s);
    assert_true(h_next(&h, &t));
    assert_true(t.flags & WIRE_TCP_RST);
    expect_v4(&h, 0x20, 64, true);
    h_free(&h);
}

/* Linux tcp_v4_send_synack and inet_csk_clone_lock (tcp_reflect_tos 0):
 * the SYN-ACK and the accepted socket take the listener's values. */
static void listener_values_reach_syn_ack_and_accepted_socket(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s);
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_IP_TOS, 0x28), 0);
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_IP_TTL, 100), 0);
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_IP_MTU_DISCOVER, SYNACK_PMTUDISC_PROBE), 0);
    synack_endpoint le = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &le), 0);
    assert_int_equal(synack_listen(h.s, l, 8), 0);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000});
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, S_ | A_);
    expect_v4(&h, 0x28, 100, false); /* PROBE: no DF on a TCP segment (ip_dont_fragment) */
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1});
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    assert_int_equal(getopt_(h.s, c, SYNACK_OPT_IP_TOS), 0x28);
    assert_int_equal(getopt_(h.s, c, SYNACK_OPT_IP_TTL), 100);
    assert_int_equal(getopt_(h.s, c, SYNACK_OPT_IP_MTU_DISCOVER), SYNACK_PMTUDISC_PROBE);
    assert_int_equal(synack_send(h.s, c, "x", 1), 1);
    synack_poll(h.s);
    assert_true(h_next(&h, &t));
    assert_int_equal(t.payload_len, 1);
    expect_v4(&h, 0x28, 100, false);
    /* the listener's later change is its own */
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_IP_TOS, 0x44), 0);
    assert_int_equal(getopt_(h.s, c, SYNACK_OPT_IP_TOS), 0x28);
    /* a socket with no options: DS 0, TTL 64, DF (IP_PMTUDISC_WANT) */
    synack_sock d = synack_socket(h.s);
    assert_int_equal(getopt_(h.s, d, SYNACK_OPT_IP_MTU_DISCOVER), SYNACK_PMTUDISC_WANT);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT + 1};
    assert_int_equal(synack_connect(h.s, d, &r), -EINPROGRESS);
    while (h_next(&h, &t) && t.flags != S_)
        ;
    assert_int_equal(t.flags, S_);
    expect_v4(&h, 0, 64, true);
    h_free(&h);
}

/* Linux inet_twsk_alloc keeps tw_tos; tcp_v4_timewait_ack sends with it,
 * from the control socket (default TTL, DF). */
static void time_wait_record_acks_keep_the_tos(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, 7000);
    assert_int_equal(synack_setopt(c.h.s, c.s, SYNACK_OPT_IP_TOS, 0x60), 0);
    assert_int_equal(synack_setopt(c.h.s, c.s, SYNACK_OPT_IP_TTL, 9), 0);
    assert_int_equal(synack_close(c.h.s, c.s), 0);
    h_advance(&c.h, 0);
    struct wire_tcp t;
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.flags, A_ | F_);
    expect_v4(&c.h, 0x60, 9, true);
    c.ours++;
    conn_send(&c, A_ | F_, NULL, 0);
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.flags, A_);
    synack_poll(c.h.s);
    assert_int_equal(c.h.s->n_tw, 1); /* the sock is gone, a record answers */
    /* the peer's FIN again: the record's ACK */
    conn_send(&c, A_ | F_, NULL, 0);
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.flags, A_);
    assert_int_equal(t.ack, c.peer + 1);
    expect_v4(&c.h, 0x60, 64, true);
    h_free(&c.h);
}

/* Injects seg with the IP header's TOS byte set to tos. */
static void inject_tos(struct harness *h, const struct h_seg *seg, uint8_t tos)
{
    uint8_t buf[256];
    size_t n = h_build(seg, buf, sizeof buf);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(buf, n, 0, &ip), WIRE_OK);
    ip.tos = tos;
    wire_ipv4_emit(buf, sizeof buf, &ip, ip.payload_len);
    h_inject_raw(h, buf, n);
}

/* Linux tcp_v4_send_reset (ip_send_unicast_reply): a RST answering a
 * segment goes from the control socket with that segment's DSCP, the
 * default TTL and DF, whatever the sockets around set. */
static void rst_to_no_one_reflects_the_segments_dscp(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s); /* a listener elsewhere changes nothing */
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_IP_TOS, 0x28), 0);
    synack_endpoint le = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT + 1};
    assert_int_equal(synack_bind(h.s, l, &le), 0);
    assert_int_equal(synack_listen(h.s, l, 8), 0);
    inject_tos(&h, &(struct h_seg){.flags = S_, .seq = 1000}, 0xb8 | WIRE_ECN_ECT0);
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    assert_true(t.flags & WIRE_TCP_RST);
    expect_v4(&h, 0xb8, 64, true);
    /* and the next one takes its own segment's */
    inject_tos(&h, &(struct h_seg){.flags = A_, .seq = 1000, .ack = 5}, 0);
    assert_true(h_next(&h, &t));
    assert_true(t.flags & WIRE_TCP_RST);
    expect_v4(&h, 0, 64, true);
    h_free(&h);
}

/* Linux tcp_v4_send_synack with the listener for a cookie SYN-ACK too. */
static void syn_cookie_syn_ack_takes_the_listeners_values(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s);
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_IP_TOS, 0x68), 0);
    assert_int_equal(synack_setopt(h.s, l, SYNACK_OPT_IP_TTL, 77), 0);
    synack_endpoint le = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &le), 0);
    assert_int_equal(synack_listen(h.s, l, 1), 0);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 7, .sport = 39999}); /* the SYN queue's one */
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, S_ | A_);
    expect_v4(&h, 0x68, 77, true);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000});
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, S_ | A_);
    assert_int_equal(ctr(&h, "tcp_syncookies_sent"), 1);
    expect_v4(&h, 0x68, 77, true);
    h_free(&h);
}

/* ICMP fragmentation needed about a data segment, quoting seq. */
static void frag_needed(struct harness *h, const struct h_frame *sent, uint32_t seq, uint16_t mtu)
{
    uint8_t quote[28];
    memcpy(quote, sent->data, sizeof quote);
    wire_put32(quote + 20 + 4, seq);
    uint8_t msg[64];
    int n = wire_icmp_emit(msg, sizeof msg, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, mtu, quote, sizeof quote,
                           NULL, 0);
    assert_true(n > 0);
    uint8_t buf[128];
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_ICMP, .src = ROUTER, .dst = H_LOCAL};
    wire_ipv4_emit(buf, sizeof buf, &ip, (size_t)n);
    memcpy(buf + WIRE_IPV4_HDR_MIN, msg, (size_t)n);
    h_inject_raw(h, buf, WIRE_IPV4_HDR_MIN + (size_t)n);
}

/* The MSS after a fragmentation-needed (MTU 1280) with mode pmtud. */
static uint16_t mss_after_frag_needed(int pmtud)
{
    struct conn c;
    memset(&c, 0, sizeof c);
    h_init(&c.h, NULL);
    c.l = synack_socket(c.h.s);
    synack_endpoint le = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(c.h.s, c.l, &le), 0);
    assert_int_equal(synack_listen(c.h.s, c.l, 8), 0);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460}; /* as Linux's on Ethernet */
    h_inject(&c.h, &(struct h_seg){.flags = S_, .seq = 1000, .opts = &o});
    struct wire_tcp sa;
    assert_true(h_next(&c.h, &sa));
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = sa.seq + 1});
    c.s = synack_accept(c.h.s, c.l, NULL);
    assert_true(c.s >= 0);
    c.ours = sa.seq + 1;
    assert_int_equal(synack_setopt(c.h.s, c.s, SYNACK_OPT_IP_MTU_DISCOVER, pmtud), 0);
    static uint8_t data[1460]; /* a full segment: the claimed MTU is below it (RFC 1191) */
    assert_int_equal(synack_send(c.h.s, c.s, data, sizeof data), (long)sizeof data);
    synack_poll(c.h.s);
    struct wire_tcp t;
    assert_true(h_next(&c.h, &t));
    assert_int_equal(getopt_(c.h.s, c.s, SYNACK_OPT_MTU), 1500);
    frag_needed(&c.h, &c.h.cur, c.ours, 1280);
    uint16_t mss = info_of(&c.h, c.s).mss;
    h_free(&c.h);
    return mss;
}

/* Linux tcp_v4_mtu_reduced: the MSS follows the path MTU unless the
 * socket said IP_PMTUDISC_DONT, INTERFACE or OMIT (ip_sk_accept_pmtu). */
static void ip_mtu_discover_decides_whether_frag_needed_lowers_the_mss(void **state)
{
    (void)state;
    assert_int_equal(mss_after_frag_needed(SYNACK_PMTUDISC_WANT), 1240);
    assert_int_equal(mss_after_frag_needed(SYNACK_PMTUDISC_DO), 1240);
    assert_int_equal(mss_after_frag_needed(SYNACK_PMTUDISC_PROBE), 1240);
    assert_int_equal(mss_after_frag_needed(SYNACK_PMTUDISC_DONT), 1460);
    assert_int_equal(mss_after_frag_needed(SYNACK_PMTUDISC_INTERFACE), 1460);
    assert_int_equal(mss_after_frag_needed(SYNACK_PMTUDISC_OMIT), 1460);
}

/* ip(7), ipv6(7): the ranges, -1 for the defaults, IP_MTU only once
 * connected, IP_FREEBIND for an address no interface has. */
static void ranges_defaults_mtu_and_freebind(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock k = synack_socket(h.s);
    int bad[][2] = {
        {SYNACK_OPT_IP_TTL, 0},        {SYNACK_OPT_IP_TTL, 256},          {SYNACK_OPT_IP_TTL, -2},
        {SYNACK_OPT_IPV6_TCLASS, -2},  {SYNACK_OPT_IPV6_TCLASS, 256},     {SYNACK_OPT_IPV6_UNICAST_HOPS, -2},
        {SYNACK_OPT_IPV6_UNICAST_HOPS, 256}, {SYNACK_OPT_IP_MTU_DISCOVER, -1}, {SYNACK_OPT_IP_MTU_DISCOVER, 6},
        {SYNACK_OPT_IPV6_MTU_DISCOVER, 6},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(synack_setopt(h.s, k, (synack_opt)bad[i][0], bad[i][1]), -EINVAL);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IP_TTL), 64);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IPV6_UNICAST_HOPS), 64);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IPV6_MTU_DISCOVER), SYNACK_PMTUDISC_WANT);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IP_TOS), 0);
    assert_int_equal(synack_setopt(h.s, k, SYNACK_OPT_IP_TOS, 0x1ff), 0); /* a byte, as Linux's u8 */
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IP_TOS), 0xfc);
    assert_int_equal(synack_setopt(h.s, k, SYNACK_OPT_IPV6_TCLASS, 0x45), 0);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IPV6_TCLASS), 0x44);
    assert_int_equal(synack_setopt(h.s, k, SYNACK_OPT_IPV6_TCLASS, -1), 0);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IPV6_TCLASS), 0);
    assert_int_equal(synack_setopt(h.s, k, SYNACK_OPT_IPV6_UNICAST_HOPS, 0), 0);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_IPV6_UNICAST_HOPS), 0);
    /* IP_MTU: the route's, from connect() on (Linux sk_dst_get) */
    int v;
    assert_int_equal(synack_getopt(h.s, k, SYNACK_OPT_MTU, &v), -ENOTCONN);
    assert_int_equal(synack_setopt(h.s, k, SYNACK_OPT_MTU, 1400), -ENOPROTOOPT);
    /* IP_FREEBIND */
    synack_endpoint far = {.addr = synack_ipv4(0xc6120077u), .port = 9000};
    assert_int_equal(synack_bind(h.s, k, &far), -EADDRNOTAVAIL);
    assert_int_equal(synack_setopt(h.s, k, SYNACK_OPT_FREEBIND, 1), 0);
    assert_int_equal(getopt_(h.s, k, SYNACK_OPT_FREEBIND), 1);
    assert_int_equal(synack_bind(h.s, k, &far), 0);
    assert_int_equal(synack_listen(h.s, k, 4), 0);
    assert_int_equal(synack_getopt(h.s, k, SYNACK_OPT_MTU, &v), -ENOTCONN);
    synack_sock c = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
    assert_int_equal(getopt_(h.s, c, SYNACK_OPT_MTU), 1500);
    h_free(&h);
}

/* ---- IPv6 and IPv4-mapped: two stacks over the memory link ---- */

struct xfer {
    synack_stack *a, *b;
    synack_sock lsn, cli, srv;
    bool sent, got, back;
};

static bool step(void *ctx)
{
    struct xfer *x = ctx;
    if (x->srv < 0)
        x->srv = synack_accept(x->b, x->lsn, NULL);
    if (!x->sent && synack_send(x->a, x->cli, "ping", 4) == 4)
        x->sent = true;
    char buf[8];
    if (x->srv >= 0 && !x->got && synack_recv(x->b, x->srv, buf, sizeof buf) == 4) {
        x->got = true;
        assert_int_equal(synack_send(x->b, x->srv, "pong", 4), 4);
    }
    if (x->got && !x->back && synack_recv(x->a, x->cli, buf, sizeof buf) == 4)
        x->back = true;
    return x->back;
}

/* Checks every frame in c: IP version, DS field without ECN, TTL or hop
 * limit; and that a SYN or SYN-ACK, data and a pure ACK were among them. */
static void check_frames(const struct capture *c, int version, uint8_t ds, uint8_t ttl)
{
    bool syn = false, data = false, ack = false;
    assert_true(c->n > 2);
    for (int i = 0; i < c->n; i++) {
        const uint8_t *p = c->f[i];
        assert_int_equal(p[0] >> 4, version);
        const uint8_t *tcp;
        uint16_t iplen;
        if (version == 6) {
            assert_int_equal(((p[0] & 15) << 4 | p[1] >> 4) & 0xfc, ds);
            assert_int_equal(p[7], ttl);
            tcp = p + 40;
            iplen = (uint16_t)(wire_get16(p + 4) + 40);
        } else {
            assert_int_equal(p[1] & 0xfc, ds);
            assert_int_equal(p[8], ttl);
            tcp = p + 20;
            iplen = wire_get16(p + 2);
        }
        size_t hdrs = (size_t)(tcp - p) + (size_t)(tcp[12] >> 4) * 4;
        syn |= (tcp[13] & 0x02) != 0;
        data |= iplen > hdrs;
        ack |= iplen == hdrs && tcp[13] == 0x10;
    }
    assert_true(syn && data && ack);
}

/* family: 6, or 4 to an IPv6 listener on the wildcard (IPv4-mapped) */
static void run_pair(int family, void (*setup)(synack_stack *a, synack_sock cli, synack_stack *b, synack_sock lsn),
                     struct capture *ca, struct capture *cb)
{
    struct sim s;
    sim_init(&s, 5, SYNACK_MS(2), NULL);
    synack_set_tap(s.a, capture_tap, ca);
    synack_set_tap(s.b, capture_tap, cb);
    struct xfer x = {.a = s.a, .b = s.b, .srv = -1};
    x.lsn = synack_socket(s.b);
    x.cli = synack_socket(s.a);
    setup(s.a, x.cli, s.b, x.lsn);
    synack_endpoint any6 = sim_ep6(0, 7200);
    memset(any6.addr.bytes, 0, 16);
    assert_int_equal(synack_bind(s.b, x.lsn, &any6), 0);
    assert_int_equal(synack_listen(s.b, x.lsn, 4), 0);
    synack_endpoint to = family == 6 ? sim_ep6(SIM_ADDR6_B, 7200) : sim_ep(SIM_ADDR_B, 7200);
    assert_int_equal(synack_connect(s.a, x.cli, &to), -EINPROGRESS);
    assert_true(sim_run(&s, step, &x, SYNACK_SEC(10)));
    sim_free(&s);
}

static void both_families(synack_stack *a, synack_sock cli, synack_stack *b, synack_sock lsn)
{
    /* each family its own: IP_ values must not reach IPv6 packets, nor IPV6_ ones IPv4 */
    assert_int_equal(synack_setopt(a, cli, SYNACK_OPT_IPV6_TCLASS, 0x48), 0);
    assert_int_equal(synack_setopt(a, cli, SYNACK_OPT_IPV6_UNICAST_HOPS, 7), 0);
    assert_int_equal(synack_setopt(a, cli, SYNACK_OPT_IP_TOS, 0x20), 0);
    assert_int_equal(synack_setopt(a, cli, SYNACK_OPT_IP_TTL, 21), 0);
    assert_int_equal(synack_setopt(b, lsn, SYNACK_OPT_IPV6_TCLASS, 0x88), 0);
    assert_int_equal(synack_setopt(b, lsn, SYNACK_OPT_IPV6_UNICAST_HOPS, 200), 0);
    assert_int_equal(synack_setopt(b, lsn, SYNACK_OPT_IP_TOS, 0x30), 0);
    assert_int_equal(synack_setopt(b, lsn, SYNACK_OPT_IP_TTL, 99), 0);
}

static void ipv6_tclass_and_hop_limit_on_every_segment(void **state)
{
    (void)state;
    struct capture *ca = calloc(1, sizeof *ca), *cb = calloc(1, sizeof *cb);
    run_pair(6, both_families, ca, cb);
    check_frames(ca, 6, 0x48, 7);
    check_frames(cb, 6, 0x88, 200); /* SYN-ACK and child: the listener's */
    free(ca);
    free(cb);
}

/* Linux: an IPv6 socket's IPv4 packets go through ip_queue_xmit with
 * inet->tos and uc_ttl: IP_TOS and IP_TTL, never IPV6_TCLASS. */
static void ipv4_mapped_packets_take_ip_tos_and_ttl(void **state)
{
    (void)state;
    struct capture *ca = calloc(1, sizeof *ca), *cb = calloc(1, sizeof *cb);
    run_pair(4, both_families, ca, cb);
    check_frames(ca, 4, 0x20, 21);
    check_frames(cb, 4, 0x30, 99);
    free(ca);
    free(cb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ip_tos_ttl_df_on_every_segment_of_a_connection),
        cmocka_unit_test(listener_values_reach_syn_ack_and_accepted_socket),
        cmocka_unit_test(time_wait_record_acks_keep_the_tos),
        cmocka_unit_test(rst_to_no_one_reflects_the_segments_dscp),
        cmocka_unit_test(syn_cookie_syn_ack_takes_the_listeners_values),
        cmocka_unit_test(ip_mtu_discover_decides_whether_frag_needed_lowers_the_mss),
        cmocka_unit_test(ranges_defaults_mtu_and_freebind),
        cmocka_unit_test(ipv6_tclass_and_hop_limit_on_every_segment),
        cmocka_unit_test(ipv4_mapped_packets_take_ip_tos_and_ttl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
