/* Bad input (RFC 9293 §3.1, RFC 1122 §3.2.1.1/§3.2.1.2, RFC 791): a segment
 * with a bad checksum, a bad data offset or a malformed option length, and
 * a bad IPv4 header, is dropped and counted, draws no reply, and never
 * changes the connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "tcp_util.h"
#include "wire/bytes.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK
#define R_ WIRE_TCP_RST
#define F_ WIRE_TCP_FIN

#define PEER_ISN 40000u

/* Builds seg with opts_raw bytes of raw options (a multiple of 4). */
static size_t build_raw_opts(const struct h_seg *seg, const uint8_t *opts, size_t olen, uint8_t *buf, size_t cap)
{
    struct wire_tcp t;
    memset(&t, 0, sizeof t);
    t.sport = H_RPORT;
    t.dport = H_LPORT;
    t.seq = seg->seq;
    t.ack = seg->ack;
    t.flags = seg->flags;
    t.wnd = 65535;
    t.opts_raw = opts;
    t.opts_len = olen;
    uint8_t *tcp = buf + WIRE_IPV4_HDR_MIN;
    int hl = wire_tcp_emit(tcp, cap - WIRE_IPV4_HDR_MIN, &t);
    assert_true(hl > 0);
    if (seg->len)
        memcpy(tcp + hl, seg->data, seg->len);
    size_t seglen = (size_t)hl + seg->len;
    wire_tcp_set_csum_ipv4(tcp, seglen, H_REMOTE, H_LOCAL);
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = H_REMOTE, .dst = H_LOCAL, .df = true};
    assert_int_equal(wire_ipv4_emit(buf, cap, &ip, seglen), WIRE_IPV4_HDR_MIN);
    return WIRE_IPV4_HDR_MIN + seglen;
}

/* Everything about the connection that a bad segment must not touch. */
static void expect_unchanged(struct conn *c, const synack_tcp_info *before)
{
    expect_none(&c->h);
    synack_tcp_info i = info_of(&c->h, c->s);
    assert_int_equal(i.state, before->state);
    assert_int_equal(i.rcv_nxt, before->rcv_nxt);
    assert_int_equal(i.snd_nxt, before->snd_nxt);
    assert_int_equal(i.snd_una, before->snd_una);
    assert_int_equal(i.snd_wnd, before->snd_wnd);
    assert_int_equal(i.unread, before->unread);
    assert_int_equal(synack_sock_error(c->h.s, c->s), 0);
}

/* RFC 9293 §3.1 (checksum), RFC 1122 §4.2.2.7: a segment whose checksum
 * fails is dropped silently and counted: data, FIN, and an RST at RCV.NXT
 * alike. */
static void test_rfc9293_3_1_bad_checksum_dropped_counted(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    synack_tcp_info before = info_of(&c.h, c.s);
    const uint16_t flags[] = {A_, A_ | F_, R_, R_ | A_, S_};
    for (int i = 0; i < 5; i++) {
        h_inject(&c.h, &(struct h_seg){.flags = flags[i], .seq = c.peer, .ack = c.ours, .data = "data",
                                       .len = (flags[i] & (R_ | S_)) ? 0 : 4, .bad_csum = true});
        expect_unchanged(&c, &before);
    }
    assert_int_equal(ctr(&c.h, "tcp_drop_csum"), 5);
    /* the same segment with a good checksum is taken */
    conn_send(&c, A_, "data", 4);
    assert_int_equal(info_of(&c.h, c.s).rcv_nxt, c.peer + 4);
    h_free(&c.h);
}

/* A link that vouches for the TCP checksum (SYNACK_RX_CSUM_OK, Linux's
 * CHECKSUM_UNNECESSARY) is believed: the stack skips its own check, so a
 * frame it would drop is taken. Without the flag, the same frame is
 * dropped. The IPv4 header checksum is checked either way, as in Linux. */
static void rx_csum_ok_skips_the_tcp_checksum_only(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    uint8_t buf[256];
    size_t n = h_build(&(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .data = "data", .len = 4,
                                       .bad_csum = true},
                       buf, sizeof buf);
    synack_input_at(c.h.s, c.h.ifx, buf, n, c.h.clock.now, 0);
    assert_int_equal(ctr(&c.h, "tcp_drop_csum"), 1);
    assert_int_equal(info_of(&c.h, c.s).rcv_nxt, c.peer);
    synack_input_at(c.h.s, c.h.ifx, buf, n, c.h.clock.now, SYNACK_RX_CSUM_OK);
    assert_int_equal(ctr(&c.h, "tcp_drop_csum"), 1);
    assert_int_equal(info_of(&c.h, c.s).rcv_nxt, c.peer + 4);
    /* a broken IPv4 header checksum is still caught */
    n = h_build(&(struct h_seg){.flags = A_, .seq = c.peer + 4, .ack = c.ours, .data = "more", .len = 4}, buf,
                sizeof buf);
    buf[10] ^= 0x55;
    uint64_t ip_bad = ctr(&c.h, "ip_drop_csum");
    synack_input_at(c.h.s, c.h.ifx, buf, n, c.h.clock.now, SYNACK_RX_CSUM_OK);
    assert_int_equal(ctr(&c.h, "ip_drop_csum"), ip_bad + 1);
    assert_int_equal(info_of(&c.h, c.s).rcv_nxt, c.peer + 4);
    h_free(&c.h);
}

/* RFC 9293 §3.1: a data offset below 5 words, or pointing past the end of
 * the segment, makes the header unusable: dropped, counted in tcp_drop_hdr. */
static void test_rfc9293_3_1_bad_data_offset_dropped_counted(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    synack_tcp_info before = info_of(&c.h, c.s);
    const uint8_t offs[] = {0, 1, 4, 7, 15};
    for (int i = 0; i < 5; i++) {
        uint8_t buf[256];
        size_t n = h_build(&(struct h_seg){.flags = R_, .seq = c.peer, .data = "abcd", .len = 4}, buf, sizeof buf);
        assert_int_equal(n, 20 + 20 + 4);
        uint8_t *tcp = buf + WIRE_IPV4_HDR_MIN;
        tcp[12] = (uint8_t)(offs[i] << 4);
        wire_tcp_set_csum_ipv4(tcp, n - WIRE_IPV4_HDR_MIN, H_REMOTE, H_LOCAL);
        h_inject_raw(&c.h, buf, n);
        expect_unchanged(&c, &before);
    }
    assert_int_equal(ctr(&c.h, "tcp_drop_hdr"), 5);
    /* a TCP header shorter than 20 bytes */
    uint8_t buf[256];
    size_t n = h_build(&(struct h_seg){.flags = R_, .seq = c.peer}, buf, sizeof buf);
    struct wire_ipv4 ip = {.ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = H_REMOTE, .dst = H_LOCAL};
    wire_ipv4_emit(buf, sizeof buf, &ip, 12);
    h_inject_raw(&c.h, buf, WIRE_IPV4_HDR_MIN + 12);
    expect_unchanged(&c, &before);
    assert_int_equal(ctr(&c.h, "tcp_drop_hdr"), 6);
    (void)n;
    h_free(&c.h);
}

/* RFC 9293 §3.1 (options), RFC 1122 §4.2.2.5: an option length of 0 or 1,
 * or one that runs past the header, rejects the segment (tcp_drop_opts). */
static void test_rfc9293_3_1_bad_option_lengths_dropped_counted(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    synack_tcp_info before = info_of(&c.h, c.s);
    static const uint8_t bad[][8] = {
        {WIRE_TCPOPT_MSS, 0, 0, 0},                        /* length 0 */
        {WIRE_TCPOPT_TS, 1, 1, 1},                         /* length 1 */
        {WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_TS, 10}, /* past the header */
        {WIRE_TCPOPT_NOP, 99, 40, 0},                      /* unknown kind, past the header */
        {WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, 200, 0, 0, 0, 0}, /* last, length 0 */
    };
    static const size_t lens[] = {4, 4, 4, 4, 8};
    for (int i = 0; i < 5; i++) {
        uint8_t buf[256];
        /* an RST at RCV.NXT and data: either would change the connection */
        size_t n = build_raw_opts(&(struct h_seg){.flags = R_, .seq = c.peer}, bad[i], lens[i], buf, sizeof buf);
        h_inject_raw(&c.h, buf, n);
        expect_unchanged(&c, &before);
        n = build_raw_opts(&(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours, .data = "xy", .len = 2}, bad[i],
                           lens[i], buf, sizeof buf);
        h_inject_raw(&c.h, buf, n);
        expect_unchanged(&c, &before);
    }
    assert_int_equal(ctr(&c.h, "tcp_drop_opts"), 10);
    /* well-formed options with an RST at RCV.NXT do reset: the check above
     * could have failed */
    static const uint8_t good[4] = {WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_NOP, WIRE_TCPOPT_EOL};
    uint8_t buf[256];
    size_t n = build_raw_opts(&(struct h_seg){.flags = R_, .seq = c.peer}, good, 4, buf, sizeof buf);
    h_inject_raw(&c.h, buf, n);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    h_free(&c.h);
}

/* A listener is not touched by bad segments either: no SYN-ACK, no child. */
static void test_rfc9293_3_1_bad_syn_to_listener_opens_nothing(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    h_inject(&c.h, &(struct h_seg){.flags = S_, .seq = 1, .sport = 50000, .bad_csum = true});
    static const uint8_t bad[4] = {WIRE_TCPOPT_MSS, 1, 0, 0};
    uint8_t buf[256];
    size_t n = build_raw_opts(&(struct h_seg){.flags = S_, .seq = 1}, bad, 4, buf, sizeof buf);
    wire_put16(buf + WIRE_IPV4_HDR_MIN, 50001); /* source port */
    wire_tcp_set_csum_ipv4(buf + WIRE_IPV4_HDR_MIN, n - WIRE_IPV4_HDR_MIN, H_REMOTE, H_LOCAL);
    h_inject_raw(&c.h, buf, n);
    expect_none(&c.h);
    assert_int_equal(ctr(&c.h, "tcp_passive_opens"), 1);
    assert_int_equal(synack_accept(c.h.s, c.l, NULL), -EAGAIN);
    h_free(&c.h);
}

/* RFC 791, RFC 1122 §3.2.1.1/§3.2.1.2: a truncated IPv4 header, an IHL
 * below 5 or past the datagram, a total length past the frame, or a bad
 * header checksum: dropped and counted (ip_drop_hdr, ip_drop_csum). */
static void test_rfc1122_3_2_1_bad_ip_header_dropped_counted(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    synack_tcp_info before = info_of(&c.h, c.s);
    uint8_t good[256];
    size_t n = h_build(&(struct h_seg){.flags = R_, .seq = c.peer}, good, sizeof good);
    uint64_t hdr0 = ctr(&c.h, "ip_drop_hdr");
    uint8_t buf[256];

    for (size_t cut = 0; cut < WIRE_IPV4_HDR_MIN; cut++) { /* truncated header */
        memcpy(buf, good, n);
        h_inject_raw(&c.h, buf, cut);
        expect_unchanged(&c, &before);
    }
    assert_int_equal(ctr(&c.h, "ip_drop_hdr"), hdr0 + WIRE_IPV4_HDR_MIN);

    const uint8_t ihl[] = {0x40, 0x44, 0x4f};
    for (int i = 0; i < 3; i++) { /* IHL 0, 4, 15 (past this datagram), checksum fixed up */
        memcpy(buf, good, n);
        buf[0] = ihl[i];
        wire_put16(buf + 10, 0);
        h_inject_raw(&c.h, buf, n);
        expect_unchanged(&c, &before);
    }
    memcpy(buf, good, n); /* total length past the frame */
    wire_put16(buf + 2, (uint16_t)(n + 10));
    h_inject_raw(&c.h, buf, n);
    expect_unchanged(&c, &before);
    memcpy(buf, good, n); /* version 6 on an IPv4 datagram: the IPv6 path drops it */
    buf[0] = 0x65;
    h_inject_raw(&c.h, buf, n);
    expect_unchanged(&c, &before);
    assert_int_equal(ctr(&c.h, "ip6_drop_hdr") + ctr(&c.h, "ip6_drop_addr"), 1);
    uint64_t hdr = ctr(&c.h, "ip_drop_hdr") - hdr0 - WIRE_IPV4_HDR_MIN;
    uint64_t csum = ctr(&c.h, "ip_drop_csum");
    assert_int_equal(hdr + csum, 4); /* each counted once, as one or the other */
    assert_true(hdr >= 2);

    memcpy(buf, good, n); /* bad header checksum */
    buf[10] ^= 0x5a;
    h_inject_raw(&c.h, buf, n);
    expect_unchanged(&c, &before);
    assert_int_equal(ctr(&c.h, "ip_drop_csum"), csum + 1);

    /* the pristine datagram does reset: the checks above could fail */
    h_inject_raw(&c.h, good, n);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    h_free(&c.h);
}

/* Never crashes, never changes state: every truncation, and every single
 * byte flipped (by several masks), of a datagram that would change the
 * connection if taken (data and FIN at RCV.NXT). */
static void test_bad_input_truncations_and_flips_never_change_state(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    synack_tcp_info before = info_of(&c.h, c.s);
    uint8_t good[256];
    struct wire_tcp_opts o = {.has_ts = true, .ts_val = 1, .ts_ecr = 2};
    size_t n = h_build(&(struct h_seg){.flags = A_ | F_, .seq = c.peer, .ack = c.ours, .data = "payload!",
                                       .len = 8, .opts = &o},
                       good, sizeof good);
    uint8_t buf[256];
    for (size_t cut = 0; cut < n; cut++) {
        memcpy(buf, good, n);
        h_inject_raw(&c.h, buf, cut);
        expect_unchanged(&c, &before);
    }
    static const uint8_t masks[] = {0x01, 0x80, 0xff, 0x5a};
    for (size_t at = 0; at < n; at++)
        for (int m = 0; m < 4; m++) {
            memcpy(buf, good, n);
            buf[at] ^= masks[m];
            h_inject_raw(&c.h, buf, n);
            expect_unchanged(&c, &before);
        }
    /* and the datagram itself is taken */
    h_inject_raw(&c.h, good, n);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer + 9);
    assert_int_equal(i.state, SYNACK_CLOSE_WAIT);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9293_3_1_bad_checksum_dropped_counted),
        cmocka_unit_test(rx_csum_ok_skips_the_tcp_checksum_only),
        cmocka_unit_test(test_rfc9293_3_1_bad_data_offset_dropped_counted),
        cmocka_unit_test(test_rfc9293_3_1_bad_option_lengths_dropped_counted),
        cmocka_unit_test(test_rfc9293_3_1_bad_syn_to_listener_opens_nothing),
        cmocka_unit_test(test_rfc1122_3_2_1_bad_ip_header_dropped_counted),
        cmocka_unit_test(test_bad_input_truncations_and_flips_never_change_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
