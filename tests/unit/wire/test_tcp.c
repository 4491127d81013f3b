/* TCP header codec (RFC 9293 §3.1): fields against tshark, every flag bit,
 * data offset checks, checksums with both pseudo-headers, emit round trips
 * and bounds safety. Options have their own file, test_tcp_options.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#include "real_packets.h"
#include "wire_test_util.h"

/* Where a real packet's TCP segment is, and the addresses that go into its
 * pseudo-header. */
struct seg {
    const uint8_t *p;
    size_t len;
    bool v6;
    uint32_t src4, dst4;
    const uint8_t *src6, *dst6;
};

static bool segment_of(const struct real_packet *pk, struct seg *s)
{
    memset(s, 0, sizeof *s);
    if (pk->ipv6) {
        /* None of the embedded IPv6 packets has extension headers. */
        assert_int_equal(pk->bytes[6], WIRE_IPPROTO_TCP);
        s->v6 = true;
        s->src6 = pk->bytes + 8;
        s->dst6 = pk->bytes + 24;
        s->p = pk->bytes + 40;
        s->len = wire_get16(pk->bytes + 4);
        assert_true(40 + s->len <= pk->len);
        return true;
    }
    struct wire_ipv4 ip;
    if (wire_ipv4_parse(pk->bytes, pk->len, WIRE_IPV4_ALLOW_TRUNC, &ip) != WIRE_OK)
        return false;
    s->p = ip.payload;
    s->len = ip.payload_len;
    s->src4 = ip.src;
    s->dst4 = ip.dst;
    return true;
}

static void parse_real(const uint8_t *pkt, size_t len, struct wire_tcp *t)
{
    struct real_packet pk = {"", pkt, len, (pkt[0] >> 4) == 6, 1, 1};
    struct seg s;
    assert_true(segment_of(&pk, &s));
    assert_int_equal(wire_tcp_parse(s.p, s.len, t), WIRE_OK);
}

/* wire_tcp.ecn is no header field: the parser clears it (the IP layer sets
 * it from the TOS or traffic class, RFC 3168 §5) and the emitter never
 * writes it into the header: a segment emitted with ECT(0) asked and one
 * without are the same bytes. */
static void test_ecn_field_not_in_header(void **state)
{
    (void)state;
    uint8_t a[40], b[40];
    struct wire_tcp h;
    memset(&h, 0, sizeof h);
    h.sport = 1;
    h.dport = 2;
    h.flags = WIRE_TCP_ACK | WIRE_TCP_ECE | WIRE_TCP_CWR;
    h.ecn = WIRE_ECN_CE;
    int n = wire_tcp_emit(a, sizeof a, &h);
    h.ecn = WIRE_ECN_NOT_ECT;
    assert_int_equal(wire_tcp_emit(b, sizeof b, &h), n);
    assert_memory_equal(a, b, (size_t)n);
    struct wire_tcp t;
    memset(&t, 0xff, sizeof t);
    assert_int_equal(wire_tcp_parse(a, (size_t)n, &t), WIRE_OK);
    assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
    assert_int_equal(t.flags, WIRE_TCP_ACK | WIRE_TCP_ECE | WIRE_TCP_CWR);
}

static void test_parse_real_handshake_syn(void **state)
{
    (void)state;
    struct wire_tcp t;
    parse_real(pkt_hs_syn, sizeof pkt_hs_syn, &t);
    assert_int_equal(t.sport, 2826);
    assert_int_equal(t.dport, 80);
    assert_int_equal(t.seq, 3691127924u);
    assert_int_equal(t.ack, 0);
    assert_int_equal(t.hdr_len, 32);
    assert_int_equal(t.flags, WIRE_TCP_SYN);
    assert_int_equal(t.wnd, 8192);
    assert_int_equal(t.csum, 0xcfeb);
    assert_int_equal(t.urg, 0);
    assert_int_equal(t.opts_len, 12);
    assert_ptr_equal(t.opts_raw, pkt_hs_syn + 40);
    assert_int_equal(t.payload_len, 0);
    assert_true(t.opt.has_mss);
    assert_int_equal(t.opt.mss, 1460);
    assert_true(t.opt.has_wscale);
    assert_int_equal(t.opt.wscale, 2);
    assert_true(t.opt.sack_perm);
    assert_false(t.opt.has_ts);
}

static void test_parse_real_handshake_synack(void **state)
{
    (void)state;
    struct wire_tcp t;
    parse_real(pkt_hs_synack, sizeof pkt_hs_synack, &t);
    assert_int_equal(t.sport, 80);
    assert_int_equal(t.dport, 2826);
    assert_int_equal(t.seq, 233779340u);
    assert_int_equal(t.ack, 3691127925u);
    assert_int_equal(t.hdr_len, 32);
    assert_int_equal(t.flags, WIRE_TCP_SYN | WIRE_TCP_ACK);
    assert_int_equal(t.wnd, 5840);
    assert_int_equal(t.csum, 0x9ac0);
    assert_int_equal(t.opt.mss, 1406);
    assert_int_equal(t.opt.wscale, 7);
    assert_true(t.opt.sack_perm);
}

static void test_parse_real_handshake_ack(void **state)
{
    (void)state;
    struct wire_tcp t;
    parse_real(pkt_hs_ack, sizeof pkt_hs_ack, &t);
    assert_int_equal(t.sport, 2826);
    assert_int_equal(t.dport, 80);
    assert_int_equal(t.seq, 3691127925u);
    assert_int_equal(t.ack, 233779341u);
    assert_int_equal(t.hdr_len, 20);
    assert_int_equal(t.flags, WIRE_TCP_ACK);
    assert_int_equal(t.wnd, 4218);
    assert_int_equal(t.csum, 0xe1b2);
    assert_int_equal(t.opts_len, 0);
    assert_int_equal(t.opt.nkinds, 0);
    assert_int_equal(t.payload_len, 0);
}

static void test_parse_real_data_segment_payload(void **state)
{
    (void)state;
    struct wire_tcp t;
    parse_real(pkt_linux_get, sizeof pkt_linux_get, &t);
    assert_int_equal(t.sport, 53350);
    assert_int_equal(t.seq, 968533977u);
    assert_int_equal(t.ack, 749528115u);
    assert_int_equal(t.flags, WIRE_TCP_PSH | WIRE_TCP_ACK);
    assert_int_equal(t.wnd, 229);
    assert_int_equal(t.hdr_len, 32);
    assert_int_equal(t.payload_len, 77);
    assert_ptr_equal(t.payload, pkt_linux_get + 20 + 32);
    assert_memory_equal(t.payload, "GET / HTTP/1.1", 14);
}

static void test_parse_real_fin(void **state)
{
    (void)state;
    struct wire_tcp t;
    /* Ethernet padding after the datagram must not become payload. */
    parse_real(pkt_teardown_fin, sizeof pkt_teardown_fin, &t);
    assert_int_equal(t.flags, WIRE_TCP_FIN | WIRE_TCP_ACK);
    assert_int_equal(t.seq, 822643295u);
    assert_int_equal(t.ack, 2079380537u);
    assert_int_equal(t.wnd, 71);
    assert_int_equal(t.payload_len, 0);
}

static void test_parse_real_rst_with_ae_and_reserved_bits(void **state)
{
    (void)state;
    /* tshark: Flags 0x0f14 (Reserved 111, Accurate ECN set, ACK, RST). */
    struct wire_tcp t;
    parse_real(pkt_rst_ae_res, sizeof pkt_rst_ae_res, &t);
    assert_int_equal(t.flags, 0x0f14);
    assert_int_equal(t.flags & WIRE_TCP_RES, WIRE_TCP_RES);
    assert_true(t.flags & WIRE_TCP_AE);
    assert_true(t.flags & WIRE_TCP_RST);
    assert_true(t.flags & WIRE_TCP_ACK);
    assert_int_equal(t.seq, 0);
    assert_int_equal(t.ack, 1569339004u);
    assert_int_equal(t.wnd, 16384);
    assert_int_equal(t.hdr_len, 20);
}

static void test_parse_real_ece_cwr_syn(void **state)
{
    (void)state;
    /* RFC 3168 §6.1.1: an ECN-setup SYN carries ECE and CWR. */
    struct wire_tcp t;
    parse_real(pkt_ecn_syn, sizeof pkt_ecn_syn, &t);
    assert_int_equal(t.flags, WIRE_TCP_SYN | WIRE_TCP_ECE | WIRE_TCP_CWR);
    assert_int_equal(t.sport, 34170);
    assert_int_equal(t.dport, 22);
    assert_int_equal(t.seq, 798232822u);
    assert_int_equal(t.wnd, 32983);
    assert_int_equal(t.csum, 0xefae);
}

static void test_parse_real_urgent_pointer(void **state)
{
    (void)state;
    struct wire_tcp t;
    parse_real(pkt_urgent, sizeof pkt_urgent, &t);
    assert_int_equal(t.flags, WIRE_TCP_URG | WIRE_TCP_ACK | WIRE_TCP_PSH);
    assert_int_equal(t.urg, 1);
    assert_int_equal(t.payload_len, 1);
    assert_int_equal(t.sport, 43950);
    assert_int_equal(t.dport, 9090);
    assert_int_equal(t.wnd, 502);
}

static void test_parse_real_rst_with_data(void **state)
{
    (void)state;
    /* RFC 9293 §3.5.3 allows diagnostic data on an RST. */
    struct wire_tcp t;
    parse_real(pkt_rst_data, sizeof pkt_rst_data, &t);
    assert_int_equal(t.flags, WIRE_TCP_RST | WIRE_TCP_ACK);
    assert_int_equal(t.payload_len, 58);
    assert_int_equal(t.wnd, 5785);
    assert_int_equal(t.csum, 0x8471);
}

static void test_every_flag_bit_decoded_alone(void **state)
{
    (void)state;
    static const uint16_t bits[] = {WIRE_TCP_FIN, WIRE_TCP_SYN, WIRE_TCP_RST, WIRE_TCP_PSH,
                                    WIRE_TCP_ACK, WIRE_TCP_URG, WIRE_TCP_ECE, WIRE_TCP_CWR,
                                    WIRE_TCP_AE,  0x200,        0x400,        0x800};
    uint16_t seen = 0;
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        uint8_t b[20] = {0};
        /* RFC 9293 §3.1 / RFC 9768: bytes 12-13 are DOff(4) Rsvd(3) AE CWR ECE URG ACK PSH RST SYN FIN. */
        unsigned pos = (unsigned)i; /* bit i from the right of the 12-bit field */
        b[12] = (uint8_t)(5 << 4 | (pos >= 8 ? 1u << (pos - 8) : 0));
        b[13] = (uint8_t)(pos < 8 ? 1u << pos : 0);
        struct wire_tcp t;
        assert_int_equal(wire_tcp_parse(b, sizeof b, &t), WIRE_OK);
        assert_int_equal(t.flags, bits[i]);
        assert_int_equal(t.hdr_len, 20);
        seen |= t.flags;
    }
    assert_int_equal(seen, 0x0fff);
    assert_int_equal(WIRE_TCP_RES, 0x0e00);
}

static void test_data_offset_below_5_rejected(void **state)
{
    (void)state;
    uint8_t b[60] = {0};
    struct wire_tcp t;
    for (unsigned off = 0; off < 16; off++) {
        b[12] = (uint8_t)(off << 4);
        int want = off < 5 ? WIRE_EHDRLEN : WIRE_OK;
        assert_int_equal(wire_tcp_parse(b, sizeof b, &t), want);
        if (want == WIRE_OK) {
            assert_int_equal(t.hdr_len, off * 4);
            assert_int_equal(t.opts_len, off * 4 - 20);
            assert_int_equal(t.payload_len, 60 - off * 4);
        }
    }
}

static void test_data_offset_past_buffer_rejected(void **state)
{
    (void)state;
    uint8_t b[60] = {0};
    struct wire_tcp t;
    b[12] = 15 << 4;
    for (size_t n = 0; n < 60; n++)
        assert_int_equal(wire_tcp_parse(b, n, &t), WIRE_ETRUNC);
    /* PcapPlusPlus's tcp-malformed: data offset 28 in a 20-byte segment
     * (tshark: "Short segment ... Malformed Packet"). */
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(pkt_short_seg, sizeof pkt_short_seg, 0, &ip), WIRE_OK);
    assert_int_equal(ip.payload_len, 20);
    assert_int_equal(wire_tcp_parse(ip.payload, ip.payload_len, &t), WIRE_ETRUNC);
    /* tcpdump's heap-overflow regression: 12 bytes of a TCP header. */
    assert_int_equal(wire_ipv4_parse(pkt_heap_overflow, sizeof pkt_heap_overflow, WIRE_IPV4_ALLOW_TRUNC, &ip),
                     WIRE_OK);
    assert_int_equal(wire_tcp_parse(ip.payload, ip.payload_len, &t), WIRE_ETRUNC);
}

static void test_real_checksums_ipv4_match_tshark(void **state)
{
    (void)state;
    int good = 0, bad = 0;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *pk = &real_packets[i];
        struct seg s;
        if (pk->ipv6 || pk->tcp_csum_good < 0)
            continue;
        assert_true(segment_of(pk, &s));
        bool ok = wire_tcp_csum_ok_ipv4(s.p, s.len, s.src4, s.dst4);
        assert_int_equal(ok, pk->tcp_csum_good);
        assert_int_equal(wire_tcp_csum_ipv4(s.p, s.len, s.src4, s.dst4) == 0, pk->tcp_csum_good);
        good += ok;
        bad += !ok;
    }
    assert_true(good >= 10);
    assert_true(bad >= 3);
}

static void test_checksum_odd_length_segment(void **state)
{
    (void)state;
    /* 32-byte header + 77 bytes: the last byte is summed as a padded word. */
    struct seg s;
    struct real_packet pk = {"", pkt_linux_get, sizeof pkt_linux_get, 0, 1, 1};
    assert_true(segment_of(&pk, &s));
    assert_int_equal(s.len % 2, 1);
    assert_true(wire_tcp_csum_ok_ipv4(s.p, s.len, s.src4, s.dst4));
    uint8_t *c = exact_copy(s.p, s.len);
    c[s.len - 1] ^= 0x01;
    assert_false(wire_tcp_csum_ok_ipv4(c, s.len, s.src4, s.dst4));
    free(c);
}

static void test_checksum_flipped_bit_fails(void **state)
{
    (void)state;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *pk = &real_packets[i];
        struct seg s;
        if (pk->tcp_csum_good != 1 || !segment_of(pk, &s))
            continue;
        uint8_t *c = exact_copy(s.p, s.len);
        for (size_t bit = 0; bit < 8 * s.len; bit++) {
            c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            uint16_t v = s.v6 ? wire_tcp_csum_ipv6(c, s.len, s.src6, s.dst6)
                              : wire_tcp_csum_ipv4(c, s.len, s.src4, s.dst4);
            assert_int_not_equal(v, 0);
            c[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        }
        free(c);
    }
}

static void test_checksum_covers_pseudo_header(void **state)
{
    (void)state;
    struct seg s;
    struct real_packet pk = {"", pkt_hs_syn, sizeof pkt_hs_syn, 0, 1, 1};
    assert_true(segment_of(&pk, &s));
    assert_true(wire_tcp_csum_ok_ipv4(s.p, s.len, s.src4, s.dst4));
    assert_false(wire_tcp_csum_ok_ipv4(s.p, s.len, s.src4 ^ 1, s.dst4));
    assert_false(wire_tcp_csum_ok_ipv4(s.p, s.len, s.src4, s.dst4 ^ 0x100));
    /* Swapping the addresses keeps the sum (addition commutes); a length
     * that disagrees with the segment does not. */
    assert_true(wire_tcp_csum_ok_ipv4(s.p, s.len, s.dst4, s.src4));
    assert_false(wire_tcp_csum_ipv4(s.p, s.len, s.src4, s.dst4) ==
                 wire_csum_fold(wire_csum_add(wire_csum_pseudo_ipv4(s.src4, s.dst4, WIRE_IPPROTO_TCP,
                                                                    (uint32_t)s.len + 2),
                                              s.p, s.len)));
}

static void test_checksum_ipv6_pseudo_header_real_packets(void **state)
{
    (void)state;
    int n = 0;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *pk = &real_packets[i];
        struct seg s;
        if (!pk->ipv6)
            continue;
        assert_true(segment_of(pk, &s));
        assert_int_equal(wire_tcp_csum_ipv6(s.p, s.len, s.src6, s.dst6), 0);
        assert_true(wire_tcp_csum_ok_ipv6(s.p, s.len, s.src6, s.dst6));
        uint8_t *c6 = exact_copy(s.p, s.len);
        wire_put16(c6 + 16, 0xdead);
        wire_tcp_set_csum_ipv6(c6, s.len, s.src6, s.dst6);
        assert_int_equal(wire_get16(c6 + 16), wire_get16(s.p + 16));
        free(c6);
        /* The IPv4 pseudo-header over the same bytes does not verify. */
        assert_false(wire_tcp_csum_ok_ipv4(s.p, s.len, wire_get32(s.src6 + 12), wire_get32(s.dst6 + 12)));
        uint8_t other[16];
        memcpy(other, s.dst6, 16);
        other[0] ^= 0x80;
        assert_int_not_equal(wire_tcp_csum_ipv6(s.p, s.len, s.src6, other), 0);
        assert_false(wire_tcp_csum_ok_ipv6(s.p, s.len, s.src6, other));
        n++;
    }
    assert_int_equal(n, 2);
    /* tshark: v6_syn's checksum is 0xe1fa; recompute it from zero. */
    struct wire_tcp t;
    uint8_t *c = exact_copy(pkt_v6_syn + 40, 40);
    wire_put16(c + 16, 0);
    assert_int_equal(wire_tcp_csum_ipv6(c, 40, pkt_v6_syn + 8, pkt_v6_syn + 24), 0xe1fa);
    assert_int_equal(wire_tcp_parse(pkt_v6_syn + 40, 40, &t), WIRE_OK);
    assert_int_equal(t.sport, 35023);
    assert_int_equal(t.seq, 3425944284u);
    assert_int_equal(t.wnd, 28800);
    assert_int_equal(t.opt.mss, 1440);
    free(c);
}

static void test_set_csum_reproduces_real_checksums(void **state)
{
    (void)state;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *pk = &real_packets[i];
        struct seg s;
        if (pk->ipv6 || pk->tcp_csum_good != 1 || !segment_of(pk, &s))
            continue;
        uint8_t *c = exact_copy(s.p, s.len);
        /* Whatever is in the field beforehand must not leak into the sum. */
        wire_put16(c + 16, 0xdead);
        wire_tcp_set_csum_ipv4(c, s.len, s.src4, s.dst4);
        assert_int_equal(wire_get16(c + 16), wire_get16(s.p + 16));
        assert_true(wire_tcp_csum_ok_ipv4(c, s.len, s.src4, s.dst4));
        free(c);
    }
}

static void test_emit_parse_round_trip(void **state)
{
    (void)state;
    struct test_rng r = {9293};
    for (int i = 0; i < 2000; i++) {
        uint8_t opts[40];
        size_t olen = 4 * rng_below(&r, 11);
        for (size_t k = 0; k < olen; k++)
            opts[k] = WIRE_TCPOPT_NOP;
        struct wire_tcp h = {
            .sport = (uint16_t)rng_next(&r),
            .dport = (uint16_t)rng_next(&r),
            .seq = (uint32_t)rng_next(&r),
            .ack = (uint32_t)rng_next(&r),
            .flags = (uint16_t)rng_below(&r, 0x1000),
            .wnd = (uint16_t)rng_next(&r),
            .csum = (uint16_t)rng_next(&r),
            .urg = (uint16_t)rng_next(&r),
            .opts_raw = opts,
            .opts_len = olen,
        };
        uint8_t b[60];
        assert_int_equal(wire_tcp_emit(b, 20 + olen, &h), (int)(20 + olen));
        struct wire_tcp p;
        assert_int_equal(wire_tcp_parse(b, 20 + olen, &p), WIRE_OK);
        assert_int_equal(p.sport, h.sport);
        assert_int_equal(p.dport, h.dport);
        assert_int_equal(p.seq, h.seq);
        assert_int_equal(p.ack, h.ack);
        assert_int_equal(p.hdr_len, 20 + olen);
        assert_int_equal(p.flags, h.flags);
        assert_int_equal(p.wnd, h.wnd);
        assert_int_equal(p.csum, h.csum);
        assert_int_equal(p.urg, h.urg);
        assert_int_equal(p.opts_len, olen);
        assert_memory_equal(p.opts_raw, opts, olen);
        assert_int_equal(p.payload_len, 0);
    }
}

static void test_emit_flags_cannot_spill_into_data_offset(void **state)
{
    (void)state;
    struct wire_tcp h = {.flags = 0xffff};
    uint8_t b[20];
    assert_int_equal(wire_tcp_emit(b, sizeof b, &h), 20);
    assert_int_equal(b[12], 0x5f);
    assert_int_equal(b[13], 0xff);
}

static void test_emit_reproduces_real_headers(void **state)
{
    (void)state;
    int n = 0;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *pk = &real_packets[i];
        struct seg s;
        struct wire_tcp t;
        if (!segment_of(pk, &s) || wire_tcp_parse(s.p, s.len, &t) != WIRE_OK)
            continue;
        uint8_t out[60];
        assert_int_equal(wire_tcp_emit(out, sizeof out, &t), t.hdr_len);
        assert_memory_equal(out, s.p, t.hdr_len);
        n++;
    }
    assert_true(n >= 15);
}

static void test_emit_rejects_bad_option_length_and_small_buffer(void **state)
{
    (void)state;
    uint8_t opts[44] = {0};
    struct wire_tcp h = {.opts_raw = opts};
    uint8_t b[64];
    for (size_t olen = 0; olen <= 44; olen++) {
        h.opts_len = olen;
        int want = olen % 4 || olen > 40 ? WIRE_EHDRLEN : (int)(20 + olen);
        assert_int_equal(wire_tcp_emit(b, sizeof b, &h), want);
        if (want > 0)
            assert_int_equal(wire_tcp_emit(b, (size_t)want - 1, &h), WIRE_ESPACE);
    }
}

/* A parse result is either an error or a view that stays inside the
 * buffer and agrees with itself. */
static void check_view(const uint8_t *b, size_t n, int r, const struct wire_tcp *t)
{
    if (r != WIRE_OK) {
        assert_true(r == WIRE_ETRUNC || r == WIRE_EHDRLEN || r == WIRE_EOPTLEN);
        return;
    }
    assert_true(t->hdr_len >= 20 && t->hdr_len <= 60 && t->hdr_len % 4 == 0 && t->hdr_len <= n);
    assert_int_equal(t->opts_len, t->hdr_len - 20u);
    assert_ptr_equal(t->opts_raw, b + 20);
    assert_true(view_inside(b, n, t->opts_raw, t->opts_len));
    assert_ptr_equal(t->payload, b + t->hdr_len);
    assert_int_equal(t->payload_len, n - t->hdr_len);
    assert_true(view_inside(b, n, t->payload, t->payload_len));
    assert_true(t->opt.nkinds <= t->opts_len);
    assert_true(t->opt.sack_count <= WIRE_TCP_SACK_MAX);
    assert_true(t->opt.sack_count == 0 || 2u + 8u * t->opt.sack_count <= t->opts_len);
}

static void test_truncation_every_length_real_packets(void **state)
{
    (void)state;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *pk = &real_packets[i];
        struct seg s;
        if (!segment_of(pk, &s))
            continue;
        struct wire_tcp full;
        int rfull = wire_tcp_parse(s.p, s.len, &full);
        for (size_t n = 0; n <= s.len; n++) {
            uint8_t *b = exact_copy(s.p, n);
            assert_non_null(b);
            struct wire_tcp t;
            int r = wire_tcp_parse(b, n, &t);
            check_view(b, n, r, &t);
            if (rfull == WIRE_OK) {
                /* Cutting the payload changes nothing else; cutting the
                 * header is always noticed. */
                if (n >= full.hdr_len) {
                    assert_int_equal(r, WIRE_OK);
                    assert_int_equal(t.seq, full.seq);
                    assert_int_equal(t.flags, full.flags);
                    assert_int_equal(t.opt.nkinds, full.opt.nkinds);
                } else {
                    assert_int_equal(r, WIRE_ETRUNC);
                }
            }
            free(b);
        }
        /* The whole path from the IP header, with the capture cut short. */
        for (size_t n = 0; n <= pk->len && !pk->ipv6; n++) {
            uint8_t *b = exact_copy(pk->bytes, n);
            struct wire_ipv4 ip;
            if (wire_ipv4_parse(b, n, WIRE_IPV4_ALLOW_TRUNC, &ip) == WIRE_OK) {
                assert_true(view_inside(b, n, ip.payload, ip.payload_len));
                struct wire_tcp t;
                int r = wire_tcp_parse(ip.payload, ip.payload_len, &t);
                check_view(ip.payload, ip.payload_len, r, &t);
            }
            free(b);
        }
    }
}

static void test_random_segments_never_overrun(void **state)
{
    (void)state;
    struct test_rng r = {0x5eed};
    size_t ok = 0, optlen_err = 0;
    for (int iter = 0; iter < 100000; iter++) {
        uint8_t src[80];
        size_t n;
        if (iter % 3 == 0) {
            /* A real segment with a few bytes changed, often in the options. */
            struct seg s;
            const struct real_packet *pk;
            do
                pk = &real_packets[rng_below(&r, REAL_PACKET_COUNT)];
            while (!segment_of(pk, &s) || s.len < 20);
            n = s.len < sizeof src ? s.len : sizeof src;
            memcpy(src, s.p, n);
            for (uint32_t k = 1 + rng_below(&r, 3); k > 0; k--) {
                size_t at = n > 20 && rng_below(&r, 4) ? 20 + rng_below(&r, (uint32_t)(n - 20))
                                                       : rng_below(&r, (uint32_t)n);
                src[at] = rng_below(&r, 2) ? rng_byte(&r) : (uint8_t)rng_below(&r, 12);
            }
            n = rng_below(&r, 4) ? n : rng_below(&r, (uint32_t)n + 1);
        } else {
            /* A fresh header whose option area is built from plausible
             * kinds and lengths, so the parser's deeper paths are reached. */
            n = 20 + rng_below(&r, 61);
            for (size_t k = 0; k < n; k++)
                src[k] = rng_byte(&r);
            src[12] = (uint8_t)((5 + rng_below(&r, 11)) << 4 | (src[12] & 0x0f));
            for (size_t k = 20; k < n;) {
                src[k] = (uint8_t)rng_below(&r, 10);
                if (k + 1 < n)
                    src[k + 1] = (uint8_t)rng_below(&r, 40);
                k += 1 + rng_below(&r, 10);
            }
        }
        uint8_t *b = exact_copy(src, n);
        assert_non_null(b);
        struct wire_tcp t;
        int res = wire_tcp_parse(b, n, &t);
        check_view(b, n, res, &t);
        ok += res == WIRE_OK;
        optlen_err += res == WIRE_EOPTLEN;
        free(b);
    }
    assert_true(ok > 10000);
    assert_true(optlen_err > 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ecn_field_not_in_header),
        cmocka_unit_test(test_parse_real_handshake_syn),
        cmocka_unit_test(test_parse_real_handshake_synack),
        cmocka_unit_test(test_parse_real_handshake_ack),
        cmocka_unit_test(test_parse_real_data_segment_payload),
        cmocka_unit_test(test_parse_real_fin),
        cmocka_unit_test(test_parse_real_rst_with_ae_and_reserved_bits),
        cmocka_unit_test(test_parse_real_ece_cwr_syn),
        cmocka_unit_test(test_parse_real_urgent_pointer),
        cmocka_unit_test(test_parse_real_rst_with_data),
        cmocka_unit_test(test_every_flag_bit_decoded_alone),
        cmocka_unit_test(test_data_offset_below_5_rejected),
        cmocka_unit_test(test_data_offset_past_buffer_rejected),
        cmocka_unit_test(test_real_checksums_ipv4_match_tshark),
        cmocka_unit_test(test_checksum_odd_length_segment),
        cmocka_unit_test(test_checksum_flipped_bit_fails),
        cmocka_unit_test(test_checksum_covers_pseudo_header),
        cmocka_unit_test(test_checksum_ipv6_pseudo_header_real_packets),
        cmocka_unit_test(test_set_csum_reproduces_real_checksums),
        cmocka_unit_test(test_emit_parse_round_trip),
        cmocka_unit_test(test_emit_flags_cannot_spill_into_data_offset),
        cmocka_unit_test(test_emit_reproduces_real_headers),
        cmocka_unit_test(test_emit_rejects_bad_option_length_and_small_buffer),
        cmocka_unit_test(test_truncation_every_length_real_packets),
        cmocka_unit_test(test_random_segments_never_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
