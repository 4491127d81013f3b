/* Ethernet II, 802.1Q/802.1ad tags and 802.3 LLC/SNAP framing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "wire/ethernet.h"

static const uint8_t mac_a[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t mac_b[6] = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};

static size_t frame(uint8_t *b, const uint8_t *after_macs, size_t n)
{
    memcpy(b, mac_a, 6);
    memcpy(b + 6, mac_b, 6);
    memcpy(b + 12, after_macs, n);
    return 12 + n;
}

static void test_ethernet_ii_ipv4(void **state)
{
    (void)state;
    uint8_t b[64];
    static const uint8_t rest[] = {0x08, 0x00, 0x45, 0x00};
    size_t n = frame(b, rest, sizeof rest);
    struct wire_eth e;
    assert_int_equal(wire_eth_parse(b, n, &e), WIRE_OK);
    assert_int_equal(e.type, WIRE_ETHERTYPE_IPV4);
    assert_int_equal(e.nvlan, 0);
    assert_memory_equal(e.dst, mac_a, 6);
    assert_memory_equal(e.src, mac_b, 6);
    assert_ptr_equal(e.payload, b + 14);
    assert_int_equal(e.payload_len, 2);
}

static void test_vlan_id_zero_and_qinq(void **state)
{
    (void)state;
    uint8_t b[64];
    /* 802.1ad S-tag VID 100, then 802.1Q C-tag VID 0 (priority tag), then IPv6. */
    static const uint8_t rest[] = {0x88, 0xa8, 0x20, 0x64, 0x81, 0x00, 0xe0, 0x00, 0x86, 0xdd, 0x60};
    size_t n = frame(b, rest, sizeof rest);
    struct wire_eth e;
    assert_int_equal(wire_eth_parse(b, n, &e), WIRE_OK);
    assert_int_equal(e.nvlan, 2);
    assert_int_equal(e.vlan[0], 100);
    assert_int_equal(e.vlan[1], 0);
    assert_int_equal(e.type, WIRE_ETHERTYPE_IPV6);
    assert_int_equal(e.payload_len, 1);
}

static void test_llc_snap_carries_ipv4(void **state)
{
    (void)state;
    uint8_t b[64];
    /* 802.3 length 10, LLC AA AA 03, OUI 000000, type 0800, 2 bytes of IP,
     * then padding the length field excludes. */
    static const uint8_t rest[] = {0x00, 0x0a, 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00, 0x45, 0x00, 0xee, 0xee};
    size_t n = frame(b, rest, sizeof rest);
    struct wire_eth e;
    assert_int_equal(wire_eth_parse(b, n, &e), WIRE_OK);
    assert_int_equal(e.llc_snap, 1);
    assert_int_equal(e.type, WIRE_ETHERTYPE_IPV4);
    assert_int_equal(e.payload_len, 2);
}

static void test_llc_without_snap_is_unsupported(void **state)
{
    (void)state;
    uint8_t b[64];
    static const uint8_t stp[] = {0x00, 0x26, 0x42, 0x42, 0x03, 0x00, 0x00, 0x00, 0x00};
    size_t n = frame(b, stp, sizeof stp);
    struct wire_eth e;
    assert_int_equal(wire_eth_parse(b, n, &e), WIRE_EUNSUPP);
}

static void test_truncation_never_reads_past(void **state)
{
    (void)state;
    uint8_t b[64];
    static const uint8_t rest[] = {0x81, 0x00, 0x00, 0x05, 0x08, 0x00, 0x45};
    size_t n = frame(b, rest, sizeof rest);
    struct wire_eth e;
    for (size_t len = 0; len < 18; len++)
        assert_int_equal(wire_eth_parse(b, len, &e), WIRE_ETRUNC);
    assert_int_equal(wire_eth_parse(b, n, &e), WIRE_OK);
    assert_int_equal(e.vlan[0], 5);
}

static void test_too_many_tags_rejected(void **state)
{
    (void)state;
    uint8_t b[64];
    uint8_t rest[5 * 4 + 2];
    for (int i = 0; i < 5; i++) {
        rest[4 * i] = 0x81;
        rest[4 * i + 1] = 0x00;
        rest[4 * i + 2] = 0;
        rest[4 * i + 3] = (uint8_t)i;
    }
    rest[20] = 0x08;
    rest[21] = 0x00;
    size_t n = frame(b, rest, sizeof rest);
    struct wire_eth e;
    assert_int_equal(wire_eth_parse(b, n, &e), WIRE_EUNSUPP);
}

static void test_emit_round_trip(void **state)
{
    (void)state;
    uint8_t b[14];
    assert_int_equal(wire_eth_emit(b, 13, mac_a, mac_b, WIRE_ETHERTYPE_IPV6), WIRE_ESPACE);
    assert_int_equal(wire_eth_emit(b, sizeof b, mac_a, mac_b, WIRE_ETHERTYPE_IPV6), 14);
    struct wire_eth e;
    assert_int_equal(wire_eth_parse(b, sizeof b, &e), WIRE_OK);
    assert_int_equal(e.type, WIRE_ETHERTYPE_IPV6);
    assert_int_equal(e.payload_len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ethernet_ii_ipv4),        cmocka_unit_test(test_vlan_id_zero_and_qinq),
        cmocka_unit_test(test_llc_snap_carries_ipv4),   cmocka_unit_test(test_llc_without_snap_is_unsupported),
        cmocka_unit_test(test_truncation_never_reads_past), cmocka_unit_test(test_too_many_tags_rejected),
        cmocka_unit_test(test_emit_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
