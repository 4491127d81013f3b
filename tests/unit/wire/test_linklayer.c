/* Capture pseudo link layers: Linux cooked v1/v2, BSD null/loopback, NFLOG,
 * IP over InfiniBand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "wire/bytes.h"
#include "wire/linklayer.h"

static void test_sll_v1(void **state)
{
    (void)state;
    uint8_t b[18] = {0, 4, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x86, 0xdd, 0x60, 0};
    struct wire_link l;
    assert_int_equal(wire_sll_parse(b, sizeof b, &l), WIRE_OK);
    assert_int_equal(l.type, 0x86dd);
    assert_ptr_equal(l.payload, b + 16);
    assert_int_equal(l.payload_len, 2);
    assert_int_equal(wire_sll_parse(b, 15, &l), WIRE_ETRUNC);
}

static void test_sll_v2(void **state)
{
    (void)state;
    uint8_t b[21] = {0x08, 0x00, 0, 0, 0, 0, 0, 3, 0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 0, 0, 0x45};
    struct wire_link l;
    assert_int_equal(wire_sll2_parse(b, sizeof b, &l), WIRE_OK);
    assert_int_equal(l.type, 0x0800);
    assert_int_equal(l.payload_len, 1);
    assert_int_equal(wire_sll2_parse(b, 19, &l), WIRE_ETRUNC);
}

static void test_null_both_byte_orders(void **state)
{
    (void)state;
    uint8_t le4[5] = {2, 0, 0, 0, 0x45}, be4[5] = {0, 0, 0, 2, 0x45};
    uint8_t le6[5] = {30, 0, 0, 0, 0x60}, be6_24[5] = {0, 0, 0, 24, 0x60}, bad[5] = {7, 0, 0, 0, 0};
    struct wire_link l;
    assert_int_equal(wire_null_parse(le4, sizeof le4, &l), WIRE_OK);
    assert_int_equal(l.type, 0x0800);
    assert_int_equal(wire_null_parse(be4, sizeof be4, &l), WIRE_OK);
    assert_int_equal(l.type, 0x0800);
    assert_int_equal(wire_null_parse(le6, sizeof le6, &l), WIRE_OK);
    assert_int_equal(l.type, 0x86dd);
    assert_int_equal(wire_null_parse(be6_24, sizeof be6_24, &l), WIRE_OK);
    assert_int_equal(l.type, 0x86dd);
    assert_int_equal(wire_null_parse(bad, sizeof bad, &l), WIRE_EUNSUPP);
    assert_int_equal(wire_null_parse(le4, 3, &l), WIRE_ETRUNC);
}

static size_t tlv(uint8_t *b, uint16_t type, const uint8_t *v, uint16_t vlen)
{
    uint16_t len = (uint16_t)(4 + vlen);
    b[0] = (uint8_t)len; /* little-endian, as written on x86 hosts */
    b[1] = (uint8_t)(len >> 8);
    b[2] = (uint8_t)type;
    b[3] = (uint8_t)(type >> 8);
    memcpy(b + 4, v, vlen);
    size_t padded = ((size_t)len + 3) & ~(size_t)3;
    memset(b + len, 0, padded - len);
    return padded;
}

static void test_nflog_finds_payload_tlv(void **state)
{
    (void)state;
    uint8_t b[64] = {10, 0, 0, 0}; /* AF_INET6, version 0, resource id 0 */
    size_t n = 4;
    static const uint8_t prefix[] = {'x', 0}, ip[] = {0x60, 0, 0, 0, 0};
    n += tlv(b + n, 10, prefix, sizeof prefix); /* NFULA_PREFIX */
    n += tlv(b + n, 9, ip, sizeof ip);          /* NFULA_PAYLOAD */
    struct wire_link l;
    assert_int_equal(wire_nflog_parse(b, n, &l), WIRE_OK);
    assert_int_equal(l.type, 0x86dd);
    assert_int_equal(l.payload_len, sizeof ip);
    assert_memory_equal(l.payload, ip, sizeof ip);
    /* Every cut is a clean error, never a read past the end. */
    for (size_t len = 0; len < 12 + 4 + sizeof ip; len++)
        assert_int_not_equal(wire_nflog_parse(b, len, &l), WIRE_OK);
    b[0] = 7;
    assert_int_equal(wire_nflog_parse(b, n, &l), WIRE_EUNSUPP);
}

static void test_nflog_zero_length_tlv_rejected(void **state)
{
    (void)state;
    uint8_t b[12] = {2, 0, 0, 0, 0, 0, 9, 0, 0, 0, 0, 0};
    struct wire_link l;
    assert_int_equal(wire_nflog_parse(b, sizeof b, &l), WIRE_ETRUNC);
}

static void test_ipoib(void **state)
{
    (void)state;
    uint8_t b[46];
    memset(b, 0, sizeof b);
    wire_put16(b + 40, 0x0800);
    b[44] = 0x45;
    struct wire_link l;
    assert_int_equal(wire_ipoib_parse(b, sizeof b, &l), WIRE_OK);
    assert_int_equal(l.type, 0x0800);
    assert_int_equal(l.payload_len, 2);
    assert_int_equal(wire_ipoib_parse(b, 43, &l), WIRE_ETRUNC);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sll_v1),
        cmocka_unit_test(test_sll_v2),
        cmocka_unit_test(test_null_both_byte_orders),
        cmocka_unit_test(test_nflog_finds_payload_tlv),
        cmocka_unit_test(test_nflog_zero_length_tlv_rejected),
        cmocka_unit_test(test_ipoib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
