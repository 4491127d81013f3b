/* IPv4 header codec (RFC 791): field decoding against tshark, the length
 * checks, fragments, emit/parse round trips and bounds safety. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"

#include "real_packets.h"
#include "wire_test_util.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (uint32_t)(d))

/* A valid 20-byte header with a 12-byte payload to mutate. */
static void make_header(uint8_t *buf, size_t cap)
{
    struct wire_ipv4 h = {.tos = 0, .id = 0x1234, .ttl = 64, .proto = WIRE_IPPROTO_TCP,
                          .src = IP(10, 0, 0, 1), .dst = IP(10, 0, 0, 2)};
    memset(buf, 0xab, cap);
    assert_int_equal(wire_ipv4_emit(buf, cap, &h, cap - WIRE_IPV4_HDR_MIN), WIRE_IPV4_HDR_MIN);
}

static void refresh_csum(uint8_t *buf)
{
    size_t hl = (size_t)(buf[0] & 0x0f) * 4;
    wire_put16(buf + 10, 0);
    wire_put16(buf + 10, wire_csum_fold(wire_csum_add(0, buf, hl)));
}

static void test_parse_real_handshake_syn(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(pkt_hs_syn, sizeof pkt_hs_syn, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
    assert_int_equal(ip.hdr_len, 20);
    assert_int_equal(ip.tos, 0);
    assert_int_equal(ip.total_len, 52);
    assert_int_equal(ip.id, 0x317f);
    assert_true(ip.df);
    assert_false(ip.mf);
    assert_int_equal(ip.frag_off, 0);
    assert_int_equal(ip.ttl, 128);
    assert_int_equal(ip.proto, WIRE_IPPROTO_TCP);
    assert_int_equal(ip.csum, 0x55eb);
    assert_int_equal(ip.src, IP(172, 16, 16, 128));
    assert_int_equal(ip.dst, IP(212, 58, 226, 142));
    assert_int_equal(ip.options_len, 0);
    assert_ptr_equal(ip.payload, pkt_hs_syn + 20);
    assert_int_equal(ip.payload_len, 32);
    assert_false(ip.truncated);
}

static void test_parse_real_handshake_synack(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(pkt_hs_synack, sizeof pkt_hs_synack, WIRE_IPV4_VERIFY_CSUM, &ip),
                     WIRE_OK);
    assert_int_equal(ip.total_len, 52);
    assert_int_equal(ip.id, 0);
    assert_false(ip.df);
    assert_false(ip.mf);
    assert_int_equal(ip.ttl, 49);
    assert_int_equal(ip.csum, 0x166b);
    assert_int_equal(ip.src, IP(212, 58, 226, 142));
    assert_int_equal(ip.dst, IP(172, 16, 16, 128));
}

static void test_parse_real_handshake_ack(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(pkt_hs_ack, sizeof pkt_hs_ack, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
    assert_int_equal(ip.total_len, 40);
    assert_int_equal(ip.id, 0x3180);
    assert_true(ip.df);
    assert_int_equal(ip.ttl, 128);
    assert_int_equal(ip.csum, 0x55f6);
    assert_int_equal(ip.payload_len, 20);
}

static void test_parse_real_tos_byte(void **state)
{
    (void)state;
    /* sack2: DSCP CS4, Not-ECT -> 0x80; ttl 0 and a zeroed checksum too. */
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(pkt_sack2, sizeof pkt_sack2, 0, &ip), WIRE_OK);
    assert_int_equal(ip.tos, 0x80);
    assert_int_equal(ip.ttl, 0);
    assert_int_equal(ip.csum, 0);
    assert_int_equal(wire_ipv4_parse(pkt_sack2, sizeof pkt_sack2, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_ECSUM);
}

static void test_total_len_excludes_ethernet_padding(void **state)
{
    (void)state;
    /* A 60-byte minimum Ethernet frame pads the 40-byte datagram by 6. */
    struct wire_ipv4 ip;
    assert_int_equal(sizeof pkt_teardown_fin, 46);
    assert_int_equal(wire_ipv4_parse(pkt_teardown_fin, sizeof pkt_teardown_fin, WIRE_IPV4_VERIFY_CSUM, &ip),
                     WIRE_OK);
    assert_int_equal(ip.total_len, 40);
    assert_int_equal(ip.payload_len, 20);
    assert_false(ip.truncated);
    assert_int_equal(ip.ttl, 54);
    assert_false(ip.df);
}

static void test_version_not_4_rejected(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(pkt_v6_syn, sizeof pkt_v6_syn, 0, &ip), WIRE_EVERSION);
    uint8_t b[32];
    for (unsigned v = 0; v < 16; v++) {
        make_header(b, sizeof b);
        b[0] = (uint8_t)(v << 4 | 5);
        refresh_csum(b);
        assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), v == 4 ? WIRE_OK : WIRE_EVERSION);
    }
}

static void test_ihl_below_5_rejected(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    uint8_t b[32];
    for (unsigned ihl = 0; ihl < 5; ihl++) {
        make_header(b, sizeof b);
        b[0] = (uint8_t)(0x40 | ihl);
        assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), WIRE_EHDRLEN);
    }
}

static void test_ihl_with_options_sets_payload_after_them(void **state)
{
    (void)state;
    uint8_t b[40];
    make_header(b, sizeof b);
    b[0] = 0x47; /* 28-byte header: 8 bytes of options */
    static const uint8_t opts[8] = {0x94, 0x04, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00}; /* router alert */
    memcpy(b + 20, opts, sizeof opts);
    refresh_csum(b);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(b, sizeof b, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
    assert_int_equal(ip.hdr_len, 28);
    assert_ptr_equal(ip.options, b + 20);
    assert_int_equal(ip.options_len, 8);
    assert_ptr_equal(ip.payload, b + 28);
    assert_int_equal(ip.payload_len, 12);
    /* The checksum covers the options too. */
    b[21] ^= 1;
    assert_int_equal(wire_ipv4_parse(b, sizeof b, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_ECSUM);
}

static void test_ihl_past_buffer_rejected(void **state)
{
    (void)state;
    uint8_t b[24];
    make_header(b, sizeof b);
    b[0] = 0x46; /* 24 bytes: fits exactly */
    wire_put16(b + 2, 24);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_int_equal(ip.payload_len, 0);
    b[0] = 0x47; /* 28 bytes: past the buffer, even for a capture */
    wire_put16(b + 2, 28);
    assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), WIRE_ETRUNC);
    assert_int_equal(wire_ipv4_parse(b, sizeof b, WIRE_IPV4_ALLOW_TRUNC, &ip), WIRE_ETRUNC);
}

static void test_total_len_below_ihl_rejected(void **state)
{
    (void)state;
    uint8_t b[32];
    struct wire_ipv4 ip;
    for (uint16_t total = 0; total < 20; total++) {
        make_header(b, sizeof b);
        wire_put16(b + 2, total);
        refresh_csum(b);
        assert_int_equal(wire_ipv4_parse(b, sizeof b, WIRE_IPV4_ALLOW_TRUNC, &ip), WIRE_ETOTLEN);
    }
    make_header(b, sizeof b);
    b[0] = 0x46;
    wire_put16(b + 2, 22); /* above 20 but inside the 24-byte header */
    assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), WIRE_ETOTLEN);
    wire_put16(b + 2, 24);
    assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), WIRE_OK);
}

static void test_total_len_past_buffer_rejected(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    /* Every proper prefix of a real datagram that still holds the header. */
    for (size_t n = 20; n < sizeof pkt_linux_get; n++)
        assert_int_equal(wire_ipv4_parse(pkt_linux_get, n, 0, &ip), WIRE_ETRUNC);
    assert_int_equal(wire_ipv4_parse(pkt_linux_get, sizeof pkt_linux_get, 0, &ip), WIRE_OK);
    /* tcpdump's heap-overflow regression claims 12336 bytes in 32. */
    assert_int_equal(wire_ipv4_parse(pkt_heap_overflow, sizeof pkt_heap_overflow, 0, &ip), WIRE_ETRUNC);
}

static void test_allow_trunc_marks_capture_truncated(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(pkt_heap_overflow, sizeof pkt_heap_overflow, WIRE_IPV4_ALLOW_TRUNC, &ip),
                     WIRE_OK);
    assert_true(ip.truncated);
    assert_int_equal(ip.total_len, 12336);
    assert_int_equal(ip.payload_len, 12); /* what the buffer holds, not what was claimed */
    assert_int_equal(ip.proto, WIRE_IPPROTO_TCP);
    /* Its header checksum is wrong too (0x3030, tshark: bad). */
    assert_int_equal(
        wire_ipv4_parse(pkt_heap_overflow, sizeof pkt_heap_overflow,
                        WIRE_IPV4_ALLOW_TRUNC | WIRE_IPV4_VERIFY_CSUM, &ip),
        WIRE_ECSUM);

    /* A datagram cut one byte short, as tcpdump's tcp_rst_data-trunc. */
    assert_int_equal(wire_ipv4_parse(pkt_rst_data, sizeof pkt_rst_data - 1, WIRE_IPV4_ALLOW_TRUNC, &ip), WIRE_OK);
    assert_true(ip.truncated);
    assert_int_equal(ip.total_len, 98);
    assert_int_equal(ip.payload_len, 77);
    /* A complete one is not marked. */
    assert_int_equal(wire_ipv4_parse(pkt_rst_data, sizeof pkt_rst_data, WIRE_IPV4_ALLOW_TRUNC, &ip), WIRE_OK);
    assert_false(ip.truncated);
    assert_int_equal(ip.payload_len, 78);
}

static void test_verify_csum_rejects_only_when_asked(void **state)
{
    (void)state;
    uint8_t b[sizeof pkt_hs_syn];
    memcpy(b, pkt_hs_syn, sizeof b);
    b[8] = 127; /* TTL decremented without fixing the checksum */
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(b, sizeof b, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_ECSUM);
    assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_int_equal(ip.ttl, 127);
}

static void test_every_flipped_header_bit_fails_or_is_rejected(void **state)
{
    (void)state;
    uint8_t b[sizeof pkt_hs_syn];
    struct wire_ipv4 ip;
    for (size_t bit = 0; bit < 20 * 8; bit++) {
        memcpy(b, pkt_hs_syn, sizeof b);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(wire_ipv4_parse(b, sizeof b, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
    }
}

static void test_real_header_checksums_match_tshark(void **state)
{
    (void)state;
    struct wire_ipv4 ip;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *p = &real_packets[i];
        if (p->ipv6)
            continue;
        int r = wire_ipv4_parse(p->bytes, p->len, WIRE_IPV4_VERIFY_CSUM | WIRE_IPV4_ALLOW_TRUNC, &ip);
        assert_int_equal(r, p->ip_csum_good ? WIRE_OK : WIRE_ECSUM);
    }
}

static void test_flags_df_mf_and_offset_decoded(void **state)
{
    (void)state;
    static const struct {
        uint16_t field;
        bool df, mf;
        uint16_t off;
    } cases[] = {
        {0x0000, false, false, 0},    {0x4000, true, false, 0},     {0x2000, false, true, 0},
        {0x20b9, false, true, 1480},  {0x00b9, false, false, 1480}, {0x1fff, false, false, 65528},
        {0x6001, true, true, 8},
        /* The reserved ("evil") bit is neither a flag nor part of the offset. */
        {0x8000, false, false, 0},    {0xffff, true, true, 65528},
    };
    uint8_t b[32];
    struct wire_ipv4 ip;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        make_header(b, sizeof b);
        wire_put16(b + 6, cases[i].field);
        refresh_csum(b);
        assert_int_equal(wire_ipv4_parse(b, sizeof b, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
        assert_int_equal(ip.df, cases[i].df);
        assert_int_equal(ip.mf, cases[i].mf);
        assert_int_equal(ip.frag_off, cases[i].off);
    }
}

static void test_ttl_protocol_id_tos_decoded(void **state)
{
    (void)state;
    uint8_t b[32];
    struct wire_ipv4 ip;
    make_header(b, sizeof b);
    b[1] = 0xb9; /* EF + ECT(1) */
    wire_put16(b + 4, 0xbeef);
    b[8] = 255;
    b[9] = WIRE_IPPROTO_UDP;
    assert_int_equal(wire_ipv4_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_int_equal(ip.tos, 0xb9);
    assert_int_equal(ip.id, 0xbeef);
    assert_int_equal(ip.ttl, 255);
    assert_int_equal(ip.proto, WIRE_IPPROTO_UDP);
}

static void test_emit_parse_round_trip(void **state)
{
    (void)state;
    struct test_rng r = {791};
    uint8_t b[64];
    for (int i = 0; i < 2000; i++) {
        struct wire_ipv4 h = {
            .tos = rng_byte(&r),
            .id = (uint16_t)rng_next(&r),
            .df = rng_next(&r) & 1,
            .mf = rng_next(&r) & 1,
            .frag_off = (uint16_t)(rng_below(&r, 8192) * 8),
            .ttl = rng_byte(&r),
            .proto = rng_byte(&r),
            .src = (uint32_t)rng_next(&r),
            .dst = (uint32_t)rng_next(&r),
        };
        size_t plen = rng_below(&r, sizeof b - 20 + 1);
        assert_int_equal(wire_ipv4_emit(b, sizeof b, &h, plen), 20);
        struct wire_ipv4 p;
        assert_int_equal(wire_ipv4_parse(b, 20 + plen, WIRE_IPV4_VERIFY_CSUM, &p), WIRE_OK);
        assert_int_equal(p.hdr_len, 20);
        assert_int_equal(p.total_len, 20 + plen);
        assert_int_equal(p.tos, h.tos);
        assert_int_equal(p.id, h.id);
        assert_int_equal(p.df, h.df);
        assert_int_equal(p.mf, h.mf);
        assert_int_equal(p.frag_off, h.frag_off);
        assert_int_equal(p.ttl, h.ttl);
        assert_int_equal(p.proto, h.proto);
        assert_int_equal(p.src, h.src);
        assert_int_equal(p.dst, h.dst);
        assert_int_equal(p.payload_len, plen);
        assert_false(p.truncated);
    }
}

static void test_emit_reproduces_real_headers(void **state)
{
    (void)state;
    /* Parse each real option-less header and emit it again: same 20 bytes,
     * checksum included. */
    int n = 0;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *p = &real_packets[i];
        struct wire_ipv4 ip;
        if (p->ipv6 || !p->ip_csum_good ||
            wire_ipv4_parse(p->bytes, p->len, WIRE_IPV4_VERIFY_CSUM, &ip) != WIRE_OK || ip.hdr_len != 20)
            continue;
        uint8_t out[20];
        assert_int_equal(wire_ipv4_emit(out, sizeof out, &ip, ip.total_len - 20u), 20);
        assert_memory_equal(out, p->bytes, 20);
        n++;
    }
    assert_true(n >= 10);
}

static void test_emit_rejects_small_buffer_and_oversize_payload(void **state)
{
    (void)state;
    struct wire_ipv4 h = {.ttl = 64, .proto = WIRE_IPPROTO_TCP};
    uint8_t b[20];
    assert_int_equal(wire_ipv4_emit(b, 19, &h, 0), WIRE_ESPACE);
    assert_int_equal(wire_ipv4_emit(b, 20, &h, 65535 - 20), 20);
    assert_int_equal(wire_get16(b + 2), 65535);
    assert_int_equal(wire_ipv4_emit(b, 20, &h, 65535 - 19), WIRE_ESPACE);
}

static void check_view(const uint8_t *buf, size_t n, unsigned flags, int r, const struct wire_ipv4 *ip)
{
    if (r != WIRE_OK) {
        assert_true(r < 0);
        return;
    }
    assert_true(ip->hdr_len >= 20 && ip->hdr_len <= 60 && ip->hdr_len <= n);
    assert_true(view_inside(buf, n, buf, ip->hdr_len));
    assert_true(view_inside(buf, n, ip->options, ip->options_len));
    assert_int_equal(ip->options_len, ip->hdr_len - 20u);
    assert_true(view_inside(buf, n, ip->payload, ip->payload_len));
    assert_ptr_equal(ip->payload, buf + ip->hdr_len);
    assert_true(ip->payload_len <= (size_t)ip->total_len - ip->hdr_len);
    assert_int_equal(ip->truncated, ip->total_len > n);
    if (!(flags & WIRE_IPV4_ALLOW_TRUNC))
        assert_false(ip->truncated);
    if (!ip->truncated)
        assert_int_equal(ip->payload_len, ip->total_len - ip->hdr_len);
}

static void test_truncation_every_length_real_packets(void **state)
{
    (void)state;
    static const unsigned flag_sets[] = {0, WIRE_IPV4_VERIFY_CSUM, WIRE_IPV4_ALLOW_TRUNC,
                                         WIRE_IPV4_ALLOW_TRUNC | WIRE_IPV4_VERIFY_CSUM};
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *p = &real_packets[i];
        for (size_t n = 0; n <= p->len; n++) {
            uint8_t *b = exact_copy(p->bytes, n);
            assert_non_null(b);
            for (size_t f = 0; f < sizeof flag_sets / sizeof flag_sets[0]; f++) {
                struct wire_ipv4 ip;
                int r = wire_ipv4_parse(b, n, flag_sets[f], &ip);
                check_view(b, n, flag_sets[f], r, &ip);
                if (n < 20)
                    assert_int_equal(r, WIRE_ETRUNC);
                if (p->ipv6 && n >= 20)
                    assert_int_equal(r, WIRE_EVERSION);
                /* Without ALLOW_TRUNC only the whole datagram parses. */
                if (!p->ipv6 && n >= 20 && !(flag_sets[f] & WIRE_IPV4_ALLOW_TRUNC) &&
                    n < wire_get16(p->bytes + 2))
                    assert_int_equal(r, WIRE_ETRUNC);
                /* With it, a good header parses as soon as it is whole. */
                if (!p->ipv6 && p->ip_csum_good && n >= 20 && flag_sets[f] & WIRE_IPV4_ALLOW_TRUNC)
                    assert_int_equal(r, WIRE_OK);
            }
            free(b);
        }
    }
}

static void test_random_headers_never_overrun(void **state)
{
    (void)state;
    struct test_rng r = {20240601u};
    size_t ok = 0;
    for (int iter = 0; iter < 50000; iter++) {
        uint8_t src[80];
        size_t n;
        if (iter & 1) {
            /* Mutate a real datagram: a few random bytes, a random length. */
            const struct real_packet *p = &real_packets[rng_below(&r, REAL_PACKET_COUNT)];
            n = p->len < sizeof src ? p->len : sizeof src;
            memcpy(src, p->bytes, n);
            for (uint32_t k = rng_below(&r, 4); k > 0; k--)
                src[rng_below(&r, (uint32_t)n)] = rng_byte(&r);
            n = rng_below(&r, (uint32_t)n + 1);
        } else {
            n = rng_below(&r, sizeof src + 1);
            for (size_t k = 0; k < n; k++)
                src[k] = rng_byte(&r);
            if (n)
                src[0] = (uint8_t)(0x40 | (src[0] & 0x0f)); /* mostly reach past the version check */
            if (n >= 4 && rng_below(&r, 2))
                wire_put16(src + 2, (uint16_t)rng_below(&r, (uint32_t)n + 8));
        }
        uint8_t *b = exact_copy(src, n);
        assert_non_null(b);
        unsigned flags = rng_below(&r, 4);
        struct wire_ipv4 ip;
        int res = wire_ipv4_parse(b, n, flags, &ip);
        check_view(b, n, flags, res, &ip);
        ok += res == WIRE_OK;
        free(b);
    }
    /* The generator must reach the accepting paths, or the invariants above
     * were never exercised. */
    assert_true(ok > 1000);
}

static void test_strerror_names_every_code(void **state)
{
    (void)state;
    static const int codes[] = {WIRE_OK,    WIRE_ETRUNC,  WIRE_EVERSION, WIRE_EHDRLEN, WIRE_ETOTLEN,
                                WIRE_ECSUM, WIRE_EOPTLEN, WIRE_ESPACE,   WIRE_EUNSUPP};
    const char *unknown = wire_strerror(12345);
    assert_non_null(unknown);
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        const char *s = wire_strerror(codes[i]);
        assert_non_null(s);
        assert_string_not_equal(s, unknown);
        for (size_t j = 0; j < i; j++)
            assert_string_not_equal(s, wire_strerror(codes[j]));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_real_handshake_syn),
        cmocka_unit_test(test_parse_real_handshake_synack),
        cmocka_unit_test(test_parse_real_handshake_ack),
        cmocka_unit_test(test_parse_real_tos_byte),
        cmocka_unit_test(test_total_len_excludes_ethernet_padding),
        cmocka_unit_test(test_version_not_4_rejected),
        cmocka_unit_test(test_ihl_below_5_rejected),
        cmocka_unit_test(test_ihl_with_options_sets_payload_after_them),
        cmocka_unit_test(test_ihl_past_buffer_rejected),
        cmocka_unit_test(test_total_len_below_ihl_rejected),
        cmocka_unit_test(test_total_len_past_buffer_rejected),
        cmocka_unit_test(test_allow_trunc_marks_capture_truncated),
        cmocka_unit_test(test_verify_csum_rejects_only_when_asked),
        cmocka_unit_test(test_every_flipped_header_bit_fails_or_is_rejected),
        cmocka_unit_test(test_real_header_checksums_match_tshark),
        cmocka_unit_test(test_flags_df_mf_and_offset_decoded),
        cmocka_unit_test(test_ttl_protocol_id_tos_decoded),
        cmocka_unit_test(test_emit_parse_round_trip),
        cmocka_unit_test(test_emit_reproduces_real_headers),
        cmocka_unit_test(test_emit_rejects_small_buffer_and_oversize_payload),
        cmocka_unit_test(test_truncation_every_length_real_packets),
        cmocka_unit_test(test_random_headers_never_overrun),
        cmocka_unit_test(test_strerror_names_every_code),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
