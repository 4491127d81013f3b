/* The Internet checksum (RFC 1071) and the pseudo-headers TCP sums over. */
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

/* The obvious 16-bit loop, to hold the word-at-a-time code against. */
static uint16_t ref_sum(uint32_t acc, const uint8_t *p, size_t len)
{
    uint64_t s = acc;
    for (size_t i = 0; i + 1 < len; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (len & 1)
        s += (uint32_t)p[len - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)s;
}

static void test_rfc1071_worked_example(void **state)
{
    (void)state;
    /* RFC 1071 §3: these bytes sum to ddf2, so the checksum is 220d. */
    static const uint8_t b[] = {0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7};
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, sizeof b)), 0x220d);
}

static void test_odd_length_pads_with_zero_byte(void **state)
{
    (void)state;
    static const uint8_t odd[] = {0x12, 0x34, 0x56};
    static const uint8_t even[] = {0x12, 0x34, 0x56, 0x00};
    assert_int_equal(wire_csum_fold(wire_csum_add(0, odd, 3)), wire_csum_fold(wire_csum_add(0, even, 4)));
    assert_int_equal(wire_csum_fold(wire_csum_add(0, odd, 3)), (uint16_t) ~(0x1234 + 0x5600));
}

static void test_end_around_carry(void **state)
{
    (void)state;
    /* 0xffff + 0x0001 is 0x10000, which folds to 0x0001, not 0. */
    static const uint8_t b[] = {0xff, 0xff, 0x00, 0x01};
    assert_int_equal(wire_csum_fold(wire_csum_add(0, b, sizeof b)), 0xfffe);
    /* Many all-ones words keep the sum at 0xffff (negative zero). */
    uint8_t ones[1000];
    memset(ones, 0xff, sizeof ones);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, ones, sizeof ones)), 0);
}

static void test_fold_of_empty_sum_is_all_ones(void **state)
{
    (void)state;
    assert_int_equal(wire_csum_fold(0), 0xffff);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, "", 0)), 0xffff);
}

static void test_fold_handles_full_32_bit_accumulator(void **state)
{
    (void)state;
    /* 0xffffffff = 0xffff + 0xffff = 0x1fffe -> 0xffff, complement 0. */
    assert_int_equal(wire_csum_fold(0xffffffffu), 0);
    assert_int_equal(wire_csum_fold(0x0001fffeu), 0);
    assert_int_equal(wire_csum_fold(0x00010000u), 0xfffe);
}

static void test_sum_matches_reference_for_every_length(void **state)
{
    (void)state;
    struct test_rng r = {1071};
    uint8_t buf[300];
    for (size_t len = 0; len <= sizeof buf; len++) {
        for (int round = 0; round < 4; round++) {
            for (size_t i = 0; i < len; i++)
                buf[i] = round == 3 ? 0xff : rng_byte(&r);
            uint32_t acc = round == 0 ? 0 : (uint32_t)rng_next(&r);
            uint16_t want = (uint16_t)~ref_sum(acc, buf, len);
            assert_int_equal(wire_csum_fold(wire_csum_add(acc, buf, len)), want);
        }
    }
}

static void test_incremental_sum_equals_one_shot(void **state)
{
    (void)state;
    struct test_rng r = {9293};
    uint8_t buf[257];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = rng_byte(&r);
    uint16_t whole = wire_csum_fold(wire_csum_add(0, buf, sizeof buf));
    /* Any even split point is allowed; only the last piece may be odd. */
    for (size_t cut = 0; cut <= sizeof buf; cut += 2) {
        uint32_t acc = wire_csum_add(0, buf, cut);
        acc = wire_csum_add(acc, buf + cut, sizeof buf - cut);
        assert_int_equal(wire_csum_fold(acc), whole);
    }
}

static void test_pseudo_ipv4_matches_explicit_header(void **state)
{
    (void)state;
    struct test_rng r = {791};
    for (int i = 0; i < 1000; i++) {
        uint32_t src = (uint32_t)rng_next(&r), dst = (uint32_t)rng_next(&r);
        uint8_t proto = rng_byte(&r);
        uint32_t len = i == 0 ? 0xffff : rng_below(&r, 0x10000);
        /* RFC 9293 §3.1: src, dst, zero, PTCL, TCP length. */
        uint8_t ph[12] = {0};
        wire_put32(ph, src);
        wire_put32(ph + 4, dst);
        ph[9] = proto;
        wire_put16(ph + 10, (uint16_t)len);
        assert_int_equal(wire_csum_fold(wire_csum_pseudo_ipv4(src, dst, proto, len)),
                         wire_csum_fold(wire_csum_add(0, ph, sizeof ph)));
    }
}

static void test_pseudo_ipv6_matches_explicit_header(void **state)
{
    (void)state;
    struct test_rng r = {8200};
    for (int i = 0; i < 1000; i++) {
        uint8_t src[16], dst[16];
        for (int k = 0; k < 16; k++) {
            src[k] = rng_byte(&r);
            dst[k] = rng_byte(&r);
        }
        uint8_t nh = rng_byte(&r);
        /* Jumbograms (RFC 2675) are why the length is 32 bits wide. */
        uint32_t len = i == 0 ? 0x12345678u : (uint32_t)rng_next(&r);
        /* RFC 8200 §8.1: src, dst, 32-bit length, 3 zero bytes, next header. */
        uint8_t ph[40] = {0};
        memcpy(ph, src, 16);
        memcpy(ph + 16, dst, 16);
        wire_put32(ph + 32, len);
        ph[39] = nh;
        assert_int_equal(wire_csum_fold(wire_csum_pseudo_ipv6(src, dst, nh, len)),
                         wire_csum_fold(wire_csum_add(0, ph, sizeof ph)));
    }
}

static void test_real_ipv4_header_checksums_verify(void **state)
{
    (void)state;
    int checked = 0;
    for (size_t i = 0; i < REAL_PACKET_COUNT; i++) {
        const struct real_packet *p = &real_packets[i];
        if (p->ip_csum_good < 0)
            continue;
        size_t hl = (size_t)(p->bytes[0] & 0x0f) * 4;
        uint16_t v = wire_csum_fold(wire_csum_add(0, p->bytes, hl));
        if (p->ip_csum_good)
            assert_int_equal(v, 0);
        else
            assert_int_not_equal(v, 0);
        checked++;
    }
    assert_true(checked > 10);
}

static void test_real_ipv4_header_checksum_recomputed(void **state)
{
    (void)state;
    /* tshark: Header Checksum 0x55eb. */
    uint8_t h[20];
    memcpy(h, pkt_hs_syn, sizeof h);
    wire_put16(h + 10, 0);
    assert_int_equal(wire_csum_fold(wire_csum_add(0, h, sizeof h)), 0x55eb);
}

static void test_flipped_bit_fails_verification(void **state)
{
    (void)state;
    uint8_t h[20];
    for (size_t bit = 0; bit < 8 * sizeof h; bit++) {
        memcpy(h, pkt_hs_syn, sizeof h);
        h[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        assert_int_not_equal(wire_csum_fold(wire_csum_add(0, h, sizeof h)), 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1071_worked_example),
        cmocka_unit_test(test_odd_length_pads_with_zero_byte),
        cmocka_unit_test(test_end_around_carry),
        cmocka_unit_test(test_fold_of_empty_sum_is_all_ones),
        cmocka_unit_test(test_fold_handles_full_32_bit_accumulator),
        cmocka_unit_test(test_sum_matches_reference_for_every_length),
        cmocka_unit_test(test_incremental_sum_equals_one_shot),
        cmocka_unit_test(test_pseudo_ipv4_matches_explicit_header),
        cmocka_unit_test(test_pseudo_ipv6_matches_explicit_header),
        cmocka_unit_test(test_real_ipv4_header_checksums_verify),
        cmocka_unit_test(test_real_ipv4_header_checksum_recomputed),
        cmocka_unit_test(test_flipped_bit_fails_verification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
