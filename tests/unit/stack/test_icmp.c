/* ICMP in the stack: echo replies, destination-unreachable generation and
 * its limits, and the reaction of a connection to ICMP errors about it.
 * Each test is named after the rule it pins down. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "../tcp/tcp_util.h"
#include "wire/bytes.h"
#include "wire/icmp.h"
#include "wire/ipv4.h"

#define ROUTER 0xc61200feu /* 198.18.0.254: a router on the path */

/* The next ICMP message the stack sent, with its IP header. */
static bool next_icmp(struct harness *h, struct wire_ipv4 *ip, struct wire_icmp *m)
{
    while (h->rd < h->nout) {
        h->cur = h->out[h->rd++];
        if (wire_ipv4_parse(h->cur.data, h->cur.len, WIRE_IPV4_VERIFY_CSUM, ip) != WIRE_OK ||
            ip->proto != WIRE_IPPROTO_ICMP)
            continue;
        assert_int_equal(wire_icmp_parse(ip->payload, ip->payload_len, m), WIRE_OK);
        return true;
    }
    return false;
}

static int count_icmp(struct harness *h)
{
    struct wire_ipv4 ip;
    struct wire_icmp m;
    int n = 0;
    while (next_icmp(h, &ip, &m))
        n++;
    return n;
}

/* Sends an IP datagram src -> the stack with protocol proto. */
static void inject_ip(struct harness *h, uint32_t src, uint8_t proto, const uint8_t *payload, size_t len)
{
    uint8_t buf[2048];
    struct wire_ipv4 ip = {.ttl = 64, .proto = proto, .src = src, .dst = H_LOCAL};
    wire_ipv4_emit(buf, sizeof buf, &ip, len);
    memcpy(buf + WIRE_IPV4_HDR_MIN, payload, len);
    h_inject_raw(h, buf, WIRE_IPV4_HDR_MIN + len);
}

static void inject_icmp(struct harness *h, uint32_t src, uint8_t type, uint8_t code, uint32_t rest,
                        const uint8_t *body, size_t n)
{
    uint8_t msg[2048];
    int len = wire_icmp_emit(msg, sizeof msg, type, code, rest, body, n, NULL, 0);
    assert_true(len > 0);
    inject_ip(h, src, WIRE_IPPROTO_ICMP, msg, (size_t)len);
}

/* A router's error about the datagram the stack sent (as the router saw it:
 * the IP header and the first 8 bytes of TCP, RFC 792), with the quoted
 * sequence number replaced by seq. */
static void icmp_about(struct harness *h, const struct h_frame *sent, uint8_t type, uint8_t code,
                       uint32_t rest, uint32_t seq)
{
    uint8_t quote[28];
    memcpy(quote, sent->data, sizeof quote);
    wire_put32(quote + 20 + 4, seq);
    inject_icmp(h, ROUTER, type, code, rest, quote, sizeof quote);
}

/* ---- echo --------------------------------------------------------------- */

static void rfc792_echo_request_draws_reply_with_same_id_seq_data(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint8_t data[56];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    inject_icmp(&h, H_REMOTE, WIRE_ICMP_ECHO, 0, 0x12340007u, data, sizeof data);
    struct wire_ipv4 ip;
    struct wire_icmp m;
    assert_true(next_icmp(&h, &ip, &m));
    assert_int_equal(m.type, WIRE_ICMP_ECHO_REPLY);
    assert_int_equal(m.code, 0);
    assert_int_equal(wire_icmp_echo_id(&m), 0x1234);
    assert_int_equal(wire_icmp_echo_seq(&m), 7);
    assert_int_equal(m.body_len, sizeof data);
    assert_memory_equal(m.body, data, sizeof data);
    /* RFC 1122 §3.2.2.6: from the address the request went to */
    assert_int_equal(ip.src, H_LOCAL);
    assert_int_equal(ip.dst, H_REMOTE);
    assert_int_equal(ctr(&h, "icmp_echo_replies"), 1);
    h_free(&h);
}

static void rfc792_bad_checksum_dropped_and_counted(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint8_t msg[16];
    int len = wire_icmp_emit(msg, sizeof msg, WIRE_ICMP_ECHO, 0, 1, (const uint8_t *)"abcdefgh", 8, NULL, 0);
    msg[9] ^= 1;
    inject_ip(&h, H_REMOTE, WIRE_IPPROTO_ICMP, msg, (size_t)len);
    assert_int_equal(count_icmp(&h), 0);
    assert_int_equal(ctr(&h, "icmp_drop_hdr"), 1);
    /* a message shorter than the ICMP header */
    inject_ip(&h, H_REMOTE, WIRE_IPPROTO_ICMP, msg, 4);
    assert_int_equal(count_icmp(&h), 0);
    assert_int_equal(ctr(&h, "icmp_drop_hdr"), 2);
    h_free(&h);
}

/* ---- destination unreachable generation --------------------------------- */

static void rfc1122_3_2_2_1_unknown_protocol_draws_protocol_unreachable(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    const uint8_t gre[12] = {0, 0, 0x08, 0, 1, 2, 3, 4, 5, 6, 7, 8};
    inject_ip(&h, H_REMOTE, 47, gre, sizeof gre);
    struct wire_ipv4 ip;
    struct wire_icmp m;
    assert_true(next_icmp(&h, &ip, &m));
    assert_int_equal(m.type, WIRE_ICMP_DEST_UNREACH);
    assert_int_equal(m.code, WIRE_ICMP_PROT_UNREACH);
    assert_int_equal(ip.dst, H_REMOTE);
    /* the offending datagram comes back whole (it is under 576 bytes) */
    struct wire_icmp_quote q;
    assert_int_equal(wire_icmp_quote_parse(&m, &q), WIRE_OK);
    assert_int_equal(q.proto, 47);
    assert_int_equal(q.src, H_REMOTE);
    assert_int_equal(q.payload_len, sizeof gre);
    assert_memory_equal(q.payload, gre, sizeof gre);
    assert_int_equal(ctr(&h, "icmp_unreach_out"), 1);
    h_free(&h);
}

static void rfc1122_3_2_2_1_udp_without_udp_draws_port_unreachable(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    const uint8_t udp[12] = {0x30, 0x39, 0x00, 0x35, 0, 12, 0, 0, 'h', 'i', '!', '\n'};
    inject_ip(&h, H_REMOTE, WIRE_IPPROTO_UDP, udp, sizeof udp);
    struct wire_ipv4 ip;
    struct wire_icmp m;
    assert_true(next_icmp(&h, &ip, &m));
    assert_int_equal(m.type, WIRE_ICMP_DEST_UNREACH);
    assert_int_equal(m.code, WIRE_ICMP_PORT_UNREACH);
    h_free(&h);
}

static void rfc1812_4_3_2_3_quote_keeps_error_within_576_bytes(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint8_t big[1400];
    memset(big, 0xab, sizeof big);
    inject_ip(&h, H_REMOTE, WIRE_IPPROTO_UDP, big, sizeof big);
    struct wire_ipv4 ip;
    struct wire_icmp m;
    assert_true(next_icmp(&h, &ip, &m));
    assert_int_equal(ip.total_len, 576);
    h_free(&h);
}

static void rfc1122_3_2_2_no_error_about_an_icmp_error(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    /* an ICMP error about a UDP datagram we never sent: ignored, no reply */
    uint8_t quote[28] = {0x45, 0, 0, 28, 0, 0, 0, 0, 64, 17, 0, 0, 198, 18, 0, 9, 198, 18, 0, 1};
    inject_icmp(&h, H_REMOTE, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0, quote, sizeof quote);
    assert_int_equal(count_icmp(&h), 0);
    /* an unknown ICMP type draws nothing either */
    inject_icmp(&h, H_REMOTE, 42, 0, 0, NULL, 0);
    assert_int_equal(count_icmp(&h), 0);
    assert_int_equal(ctr(&h, "icmp_unreach_out"), 0);
    h_free(&h);
}

static void rfc1122_3_2_2_no_error_to_a_source_that_is_not_one_host(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    const uint8_t x[8] = {0};
    const uint32_t bad[] = {0, 0xffffffffu, 0xe0000001u, 0x7f000001u, 0xc61200ffu /* subnet broadcast */};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        inject_ip(&h, bad[i], 47, x, sizeof x);
    assert_int_equal(count_icmp(&h), 0);
    assert_int_equal(ctr(&h, "ip_drop_proto"), 5);
    h_free(&h);
}

static void linux_icmp_ratelimit_per_destination_burst_6_then_1_per_second(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    const uint8_t x[8] = {0};
    for (int i = 0; i < 10; i++)
        inject_ip(&h, H_REMOTE, 47, x, sizeof x);
    assert_int_equal(count_icmp(&h), 6);
    assert_int_equal(ctr(&h, "icmp_ratelimited"), 4);
    /* another destination has a bucket of its own */
    inject_ip(&h, H_REMOTE + 5, 47, x, sizeof x);
    assert_int_equal(count_icmp(&h), 1);
    /* half a second earns nothing; a full second earns one */
    h_advance(&h, SYNACK_MS(500));
    inject_ip(&h, H_REMOTE, 47, x, sizeof x);
    assert_int_equal(count_icmp(&h), 0);
    h_advance(&h, SYNACK_MS(500));
    inject_ip(&h, H_REMOTE, 47, x, sizeof x);
    inject_ip(&h, H_REMOTE, 47, x, sizeof x);
    assert_int_equal(count_icmp(&h), 1);
    /* echo replies are outside icmp_ratemask */
    for (int i = 0; i < 20; i++)
        inject_icmp(&h, H_REMOTE, WIRE_ICMP_ECHO, 0, (uint32_t)i, NULL, 0);
    assert_int_equal(count_icmp(&h), 20);
    h_free(&h);
}

static void linux_icmp_msgs_burst_50_across_destinations(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    const uint8_t x[8] = {0};
    for (uint32_t i = 0; i < 60; i++)
        inject_ip(&h, 0xc6130000u + i, 47, x, sizeof x);
    assert_int_equal(count_icmp(&h), 50);
    /* 1000 per second: 10 ms later, ten more may go */
    h_advance(&h, SYNACK_MS(10));
    for (uint32_t i = 0; i < 20; i++)
        inject_ip(&h, 0xc6130100u + i, 47, x, sizeof x);
    assert_int_equal(count_icmp(&h), 10);
    h_free(&h);
}

/* ---- errors about our connections ------------------------------------------ */

/* An established connection with `len` bytes of data in flight; *sent is the
 * data segment as it left. */
static void conn_with_data(struct conn *c, size_t len, struct h_frame *sent)
{
    /* a passive open whose SYN offers MSS 1460, as Linux's on Ethernet */
    memset(c, 0, sizeof *c);
    h_init(&c->h, NULL);
    c->peer_isn = 1000;
    c->l = synack_socket(c->h.s);
    synack_endpoint le = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(c->h.s, c->l, &le), 0);
    assert_int_equal(synack_listen(c->h.s, c->l, 8), 0);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460};
    h_inject(&c->h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = 1000, .opts = &o});
    struct wire_tcp sa;
    assert_true(h_next(&c->h, &sa));
    c->iss = sa.seq;
    h_inject(&c->h, &(struct h_seg){.flags = WIRE_TCP_ACK, .seq = 1001, .ack = sa.seq + 1});
    c->s = synack_accept(c->h.s, c->l, NULL);
    assert_true(c->s >= 0);
    c->peer = 1001;
    c->ours = c->iss + 1;
    static uint8_t data[4000];
    assert_int_equal(synack_send(c->h.s, c->s, data, len), (long)len);
    synack_poll(c->h.s);
    struct wire_tcp t;
    assert_true(h_next(&c->h, &t));
    assert_int_equal(t.seq, c->ours);
    *sent = c->h.cur;
    h_drain(&c->h);
}

static void rfc5927_4_1_error_quoting_seq_outside_snd_una_snd_nxt_is_ignored(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 1000, &sent);
    uint16_t mss = info_of(&c.h, c.s).mss;
    /* below SND.UNA, and beyond SND.NXT */
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 600, c.ours - 1);
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 600, c.ours + 1001);
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_HOST_UNREACH, 0, c.ours + 5000);
    assert_int_equal(ctr(&c.h, "icmp_err_outofwindow"), 3);
    assert_int_equal(info_of(&c.h, c.s).mss, mss);
    assert_int_equal(ctr(&c.h, "icmp_err_soft"), 0);
    /* the same error inside the window is believed */
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 600, c.ours + 50);
    assert_int_equal(info_of(&c.h, c.s).mss, 560);
    h_free(&c.h);
}

static void rfc5927_5_2_hard_error_in_established_does_not_abort(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 100, &sent);
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0, c.ours);
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PROT_UNREACH, 0, c.ours);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    assert_int_equal(synack_sock_error(c.h.s, c.s), 0);
    assert_int_equal(synack_events(c.h.s, c.s) & SYNACK_EV_ERR, 0);
    assert_int_equal(ctr(&c.h, "icmp_err_soft"), 2);
    expect_none(&c.h); /* no RST */
    h_free(&c.h);
}

static void rfc1122_4_2_3_9_soft_error_never_aborts_and_explains_timeout(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg = {.syn_retries = 2};
    h_init(&h, &cfg);
    synack_sock s = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, s, &r), -EINPROGRESS);
    struct wire_tcp syn;
    assert_true(h_next(&h, &syn));
    struct h_frame sent = h.cur;
    const uint8_t soft[][2] = {{WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_NET_UNREACH},
                               {WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_HOST_UNREACH},
                               {WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_SR_FAILED},
                               {WIRE_ICMP_PARAM_PROBLEM, 0},
                               {WIRE_ICMP_TIME_EXCEEDED, 0}};
    for (size_t i = 0; i < sizeof soft / sizeof soft[0]; i++)
        icmp_about(&h, &sent, soft[i][0], soft[i][1], 0, syn.seq);
    assert_int_equal(state_of(&h, s), SYNACK_SYN_SENT);
    assert_int_equal(synack_events(h.s, s) & SYNACK_EV_ERR, 0);
    assert_int_equal(ctr(&h, "icmp_err_soft"), 5);
    /* Linux tcp_write_err: the timeout reports the last soft error */
    while (h_run_to_deadline(&h, SYNACK_SEC(60)) && state_of(&h, s) != SYNACK_CLOSED)
        ;
    assert_int_equal(state_of(&h, s), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(h.s, s), -EHOSTUNREACH);
    h_free(&h);
}

static void rfc1122_4_2_3_9_hard_error_aborts_syn_sent(void **state)
{
    (void)state;
    const uint8_t codes[] = {WIRE_ICMP_PORT_UNREACH, WIRE_ICMP_PROT_UNREACH, WIRE_ICMP_PKT_FILTERED};
    const int errs[] = {-ECONNREFUSED, -ENOPROTOOPT, -EHOSTUNREACH};
    for (size_t i = 0; i < 3; i++) {
        struct harness h;
        h_init(&h, NULL);
        synack_sock s = synack_socket(h.s);
        synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
        assert_int_equal(synack_connect(h.s, s, &r), -EINPROGRESS);
        struct wire_tcp syn;
        assert_true(h_next(&h, &syn));
        struct h_frame sent = h.cur;
        /* a quoted sequence number other than the SYN's is not believed */
        icmp_about(&h, &sent, WIRE_ICMP_DEST_UNREACH, codes[i], 0, syn.seq + 1000);
        assert_int_equal(state_of(&h, s), SYNACK_SYN_SENT);
        icmp_about(&h, &sent, WIRE_ICMP_DEST_UNREACH, codes[i], 0, syn.seq);
        assert_int_equal(state_of(&h, s), SYNACK_CLOSED);
        assert_true(synack_events(h.s, s) & SYNACK_EV_ERR);
        assert_int_equal(synack_sock_error(h.s, s), errs[i]);
        expect_none(&h); /* nothing to reset: the peer never synchronized */
        assert_int_equal(ctr(&h, "icmp_err_abort"), 1);
        assert_int_equal(synack_close(h.s, s), 0);
        h_free(&h);
    }
}

/* Linux tcp_req_err: net or host unreachable (and time exceeded, parameter
 * problem) about our SYN-ACK drop the embryonic passive connection, with
 * no RST (the peer cannot be reached); its later ACK finds no connection.
 * A hard error drops it the same way, also without a RST. */
static void linux_unreachable_drops_syn_received_silently(void **state)
{
    (void)state;
    const uint8_t codes[] = {WIRE_ICMP_HOST_UNREACH, WIRE_ICMP_NET_UNREACH, WIRE_ICMP_PORT_UNREACH};
    for (size_t i = 0; i < sizeof codes; i++) {
        struct harness h;
        h_init(&h, NULL);
        synack_sock l = synack_socket(h.s);
        synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
        assert_int_equal(synack_bind(h.s, l, &e), 0);
        assert_int_equal(synack_listen(h.s, l, 4), 0);
        h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = 5000});
        struct wire_tcp sa;
        assert_true(h_next(&h, &sa));
        assert_int_equal(sa.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
        struct h_frame sent = h.cur;
        icmp_about(&h, &sent, WIRE_ICMP_DEST_UNREACH, codes[i], 0, sa.seq);
        expect_none(&h); /* no RST */
        assert_int_equal(ctr(&h, "icmp_err_abort"), 1);
        h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_ACK, .seq = 5001, .ack = sa.seq + 1});
        expect_seg(&h, WIRE_TCP_RST, sa.seq + 1, 0);
        assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
        h_free(&h);
    }
}

static void rfc1191_frag_needed_lowers_mss_to_next_hop_mtu(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 1460, &sent);
    assert_int_equal(info_of(&c.h, c.s).mss, 1460);
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 1280, c.ours);
    assert_int_equal(info_of(&c.h, c.s).mss, 1240);
    assert_int_equal(ctr(&c.h, "icmp_pmtu_lowered"), 1);
    /* RFC 1191 §6.1: never raised by a later message */
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 1400, c.ours);
    assert_int_equal(info_of(&c.h, c.s).mss, 1240);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    /* new data goes out in segments that fit */
    c.ours += 1460;
    conn_send(&c, WIRE_TCP_ACK, NULL, 0);
    static uint8_t more[3000];
    assert_int_equal(synack_send(c.h.s, c.s, more, sizeof more), (long)sizeof more);
    synack_poll(c.h.s);
    struct wire_tcp t;
    int n = 0;
    while (h_next(&c.h, &t)) {
        assert_true(t.payload_len <= 1240);
        n++;
    }
    assert_true(n >= 2);
    h_free(&c.h);
}

/* Linux tcp_v4_mtu_reduced in SYN_SENT (tcp_simple_retransmit, Linux
 * c31b70c9968f): a SYN whose Fast Open data the path cannot carry draws
 * "fragmentation needed"; the SYN goes again at once without the data,
 * announcing the MSS the path allows, and the data follows the handshake
 * in segments that fit. */
static void linux_frag_needed_on_syn_data_resends_the_syn_alone(void **state)
{
    (void)state;
    struct harness h;
    synack_config cfg = {.fastopen = SYNACK_FASTOPEN_CLIENT};
    h_init(&h, &cfg);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    synack_sock s = synack_socket(h.s);
    assert_int_equal(synack_connect_fastopen(h.s, s, &r, "", 0, 0), 0); /* a cookie request */
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .fo_kind = WIRE_TCPOPT_FASTOPEN, .fo_len = 4,
                              .fo_cookie = {1, 2, 3, 4}};
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = WIRE_TCP_SYN | WIRE_TCP_ACK,
                                 .seq = 5000, .ack = t.seq + 1, .opts = &o});
    h_drain(&h);

    static uint8_t data[1000];
    s = synack_socket(h.s);
    assert_int_equal(synack_connect_fastopen(h.s, s, &r, data, sizeof data, 0), 1000);
    assert_true(h_next(&h, &t));
    assert_int_equal(t.payload_len, 1000);
    struct h_frame sent = h.cur;
    icmp_about(&h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 840, t.seq);
    struct wire_tcp again;
    assert_true(h_next(&h, &again));
    assert_int_equal(again.flags, WIRE_TCP_SYN);
    assert_int_equal(again.seq, t.seq);
    assert_int_equal(again.payload_len, 0);
    assert_int_equal(again.opt.mss, 800);
    expect_none(&h);
    /* the SYN-ACK takes only the SYN: the data goes now, 800 bytes at most */
    struct wire_tcp_opts plain = {.has_mss = true, .mss = 1040};
    h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = WIRE_TCP_SYN | WIRE_TCP_ACK,
                                 .seq = 7000, .ack = t.seq + 1, .opts = &plain});
    assert_int_equal(state_of(&h, s), SYNACK_ESTABLISHED);
    uint32_t got = 0;
    for (int round = 0; round < 3 && got < 1000; round++) {
        while (h_next(&h, &t)) {
            assert_true(t.payload_len <= 800);
            got += t.payload_len;
        }
        h_inject(&h, &(struct h_seg){.sport = H_RPORT, .dport = t.sport, .flags = WIRE_TCP_ACK,
                                     .seq = 7001, .ack = again.seq + 1 + got});
    }
    assert_int_equal(got, 1000);
    h_free(&h);
}

static void rfc1191_5_zero_mtu_uses_plateau_below_the_datagram(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 1460, &sent); /* a 1500-byte datagram */
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 0, c.ours);
    assert_int_equal(info_of(&c.h, c.s).mss, 1492 - 40);
    h_free(&c.h);
}

static void linux_min_pmtu_552_bounds_a_tiny_next_hop_mtu(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 1460, &sent);
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 68, c.ours);
    assert_int_equal(info_of(&c.h, c.s).mss, 552 - 40);
    h_free(&c.h);
}

static void rfc1191_mtu_not_below_the_datagram_is_bogus(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 100, &sent); /* a 140-byte datagram */
    icmp_about(&c.h, &sent, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_FRAG_NEEDED, 1000, c.ours);
    assert_int_equal(info_of(&c.h, c.s).mss, 1460);
    assert_int_equal(ctr(&c.h, "icmp_ignored"), 1);
    h_free(&c.h);
}

static void rfc6633_source_quench_is_ignored(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 100, &sent);
    icmp_about(&c.h, &sent, WIRE_ICMP_SOURCE_QUENCH, 0, 0, c.ours);
    assert_int_equal(ctr(&c.h, "icmp_ignored"), 1);
    assert_int_equal(ctr(&c.h, "icmp_err_soft"), 0);
    h_free(&c.h);
}

static void error_about_no_connection_or_foreign_source_changes_nothing(void **state)
{
    (void)state;
    struct conn c;
    struct h_frame sent;
    conn_with_data(&c, 100, &sent);
    struct h_frame other = sent;
    wire_put16(other.data + 20, 1); /* another source port */
    icmp_about(&c.h, &other, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0, c.ours);
    assert_int_equal(ctr(&c.h, "icmp_err_noconn"), 1);
    other = sent;
    wire_put32(other.data + 12, 0xc6120063u); /* not our address */
    icmp_about(&c.h, &other, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0, c.ours);
    assert_int_equal(ctr(&c.h, "icmp_err_drop_quote"), 1);
    /* a quote cut shorter than 8 bytes of TCP */
    inject_icmp(&c.h, ROUTER, WIRE_ICMP_DEST_UNREACH, WIRE_ICMP_PORT_UNREACH, 0, sent.data, 24);
    assert_int_equal(ctr(&c.h, "icmp_err_drop_quote"), 2);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc792_echo_request_draws_reply_with_same_id_seq_data),
        cmocka_unit_test(rfc792_bad_checksum_dropped_and_counted),
        cmocka_unit_test(rfc1122_3_2_2_1_unknown_protocol_draws_protocol_unreachable),
        cmocka_unit_test(rfc1122_3_2_2_1_udp_without_udp_draws_port_unreachable),
        cmocka_unit_test(rfc1812_4_3_2_3_quote_keeps_error_within_576_bytes),
        cmocka_unit_test(rfc1122_3_2_2_no_error_about_an_icmp_error),
        cmocka_unit_test(rfc1122_3_2_2_no_error_to_a_source_that_is_not_one_host),
        cmocka_unit_test(linux_icmp_ratelimit_per_destination_burst_6_then_1_per_second),
        cmocka_unit_test(linux_icmp_msgs_burst_50_across_destinations),
        cmocka_unit_test(rfc5927_4_1_error_quoting_seq_outside_snd_una_snd_nxt_is_ignored),
        cmocka_unit_test(rfc5927_5_2_hard_error_in_established_does_not_abort),
        cmocka_unit_test(rfc1122_4_2_3_9_soft_error_never_aborts_and_explains_timeout),
        cmocka_unit_test(rfc1122_4_2_3_9_hard_error_aborts_syn_sent),
        cmocka_unit_test(rfc1191_frag_needed_lowers_mss_to_next_hop_mtu),
        cmocka_unit_test(linux_frag_needed_on_syn_data_resends_the_syn_alone),
        cmocka_unit_test(linux_unreachable_drops_syn_received_silently),
        cmocka_unit_test(rfc1191_5_zero_mtu_uses_plateau_below_the_datagram),
        cmocka_unit_test(linux_min_pmtu_552_bounds_a_tiny_next_hop_mtu),
        cmocka_unit_test(rfc1191_mtu_not_below_the_datagram_is_bogus),
        cmocka_unit_test(rfc6633_source_quench_is_ignored),
        cmocka_unit_test(error_about_no_connection_or_foreign_source_changes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
