/* IPv6 fixed header and extension-header walk (RFC 8200), atomic fragments
 * (RFC 6946). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "wire/bytes.h"
#include "wire/ipv6.h"

/* Builds a header with payload length plen and first next-header nh. */
static void hdr(uint8_t *b, uint16_t plen, uint8_t nh)
{
    memset(b, 0, 40);
    b[0] = 0x60;
    b[1] = 0x0a; /* traffic class 0x00, flow label 0xa1234 */
    b[2] = 0x12;
    b[3] = 0x34;
    wire_put16(b + 4, plen);
    b[6] = nh;
    b[7] = 64;
    b[8] = 0x20;
    b[9] = 0x01;
    b[23] = 1;
    b[24] = 0x20;
    b[25] = 0x01;
    b[39] = 2;
}

static void test_plain_tcp(void **state)
{
    (void)state;
    uint8_t b[60];
    hdr(b, 20, 6);
    struct wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_int_equal(ip.proto, 6);
    assert_int_equal(ip.flow, 0xa1234);
    assert_int_equal(ip.hop_limit, 64);
    assert_int_equal(ip.src[15], 1);
    assert_int_equal(ip.dst[15], 2);
    assert_ptr_equal(ip.payload, b + 40);
    assert_int_equal(ip.payload_len, 20);
    assert_int_equal(ip.upper_len, 20);
    assert_false(ip.has_frag);
}

static void test_hop_by_hop_then_atomic_fragment(void **state)
{
    (void)state;
    uint8_t b[40 + 8 + 8 + 20];
    hdr(b, 8 + 8 + 20, WIRE_IPV6_HOPOPTS);
    memset(b + 40, 0, 16);
    b[40] = WIRE_IPV6_FRAGMENT; /* hop-by-hop, length 0 = 8 bytes */
    b[48] = 6;                  /* fragment header: next TCP, offset 0, M=0 */
    wire_put32(b + 52, 0xdeadbeef);
    struct wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_int_equal(ip.n_ext, 2);
    assert_true(ip.has_frag);
    assert_true(ip.atomic);
    assert_int_equal(ip.frag_id, 0xdeadbeef);
    assert_int_equal(ip.proto, 6);
    assert_ptr_equal(ip.payload, b + 56);
    assert_int_equal(ip.upper_len, 20);
}

static void test_real_fragment_is_not_atomic(void **state)
{
    (void)state;
    uint8_t b[40 + 8 + 16];
    hdr(b, 8 + 16, WIRE_IPV6_FRAGMENT);
    memset(b + 40, 0, 8);
    b[40] = 6;
    wire_put16(b + 42, 0x0001); /* offset 0, M=1 */
    struct wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_true(ip.has_frag);
    assert_false(ip.atomic);
    assert_true(ip.mf);
    wire_put16(b + 42, 0x00b8); /* offset 23*8, M=0 */
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_false(ip.atomic);
    assert_int_equal(ip.frag_off, 184);
}

static void test_truncated_and_bad(void **state)
{
    (void)state;
    uint8_t b[40 + 8 + 20];
    hdr(b, 8 + 20, WIRE_IPV6_DSTOPTS);
    memset(b + 40, 0, 8);
    b[40] = 6;
    struct wire_ipv6 ip;
    for (size_t len = 0; len < 40; len++)
        assert_int_equal(wire_ipv6_parse(b, len, WIRE_IPV6_ALLOW_TRUNC, &ip), WIRE_ETRUNC);
    /* Without ALLOW_TRUNC a short buffer is an error; with it the payload
     * is what was captured. */
    assert_int_equal(wire_ipv6_parse(b, 50, 0, &ip), WIRE_ETRUNC);
    assert_int_equal(wire_ipv6_parse(b, 50, WIRE_IPV6_ALLOW_TRUNC, &ip), WIRE_OK);
    assert_true(ip.truncated);
    assert_int_equal(ip.payload_len, 2);
    assert_int_equal(ip.upper_len, 20);
    /* The extension header itself cut off. */
    assert_int_equal(wire_ipv6_parse(b, 44, WIRE_IPV6_ALLOW_TRUNC, &ip), WIRE_ETRUNC);
    /* An extension length running past the payload length. */
    b[41] = 10;
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_ETRUNC);
    b[41] = 0;
    b[0] = 0x45;
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_EVERSION);
    b[0] = 0x60;
    wire_put16(b + 4, 0);
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_EUNSUPP);
}

static void test_emit_then_parse(void **state)
{
    (void)state;
    struct wire_ipv6 h = {.tclass = 0xb8, .flow = 0x12345, .hop_limit = 9, .proto = 6};
    h.src[0] = 0xfe;
    h.dst[15] = 7;
    uint8_t b[40 + 4];
    assert_int_equal(wire_ipv6_emit(b, 39, &h, 4), WIRE_ESPACE);
    assert_int_equal(wire_ipv6_emit(b, sizeof b, &h, 4), 40);
    struct wire_ipv6 ip;
    assert_int_equal(wire_ipv6_parse(b, sizeof b, 0, &ip), WIRE_OK);
    assert_int_equal(ip.tclass, 0xb8);
    assert_int_equal(ip.flow, 0x12345);
    assert_int_equal(ip.plen, 4);
    assert_int_equal(ip.proto, 6);
    assert_memory_equal(ip.src, h.src, 16);
    assert_memory_equal(ip.dst, h.dst, 16);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_tcp),           cmocka_unit_test(test_hop_by_hop_then_atomic_fragment),
        cmocka_unit_test(test_real_fragment_is_not_atomic), cmocka_unit_test(test_truncated_and_bad),
        cmocka_unit_test(test_emit_then_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
