/* CE marking on the fault-injecting link (mark_ce), an AQM router's part of
 * RFC 3168 §5: only ECN-capable packets (ECT(0), ECT(1)) are marked, the
 * IPv4 header checksum stays right (RFC 1624), nothing else changes, and
 * IPv6 carries the mark in its traffic class. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"
#include "wire/ipv4.h"
#include "wire/ipv6.h"
#include "wire/tcp.h"

/* A valid TCP segment to the receiving stack, in IPv4 with this TOS. */
static size_t make_v4(uint8_t *buf, size_t cap, uint32_t i, uint8_t tos)
{
    uint8_t *seg = buf + WIRE_IPV4_HDR_MIN;
    struct wire_tcp th = {.sport = 40000, .dport = 9, .seq = 1000 + i, .ack = 1, .flags = WIRE_TCP_ACK, .wnd = 1000};
    int hl = wire_tcp_emit(seg, cap - WIRE_IPV4_HDR_MIN, &th);
    assert_int_equal(hl, WIRE_TCP_HDR_MIN);
    wire_tcp_set_csum_ipv4(seg, (size_t)hl, 0xc6120001u, 0xc6120002u);
    struct wire_ipv4 ih = {.tos = tos, .ttl = 64, .proto = WIRE_IPPROTO_TCP, .df = true, .id = (uint16_t)i,
                           .src = 0xc6120001u, .dst = 0xc6120002u};
    assert_int_equal(wire_ipv4_emit(buf, cap, &ih, (size_t)hl), WIRE_IPV4_HDR_MIN);
    return WIRE_IPV4_HDR_MIN + (size_t)hl;
}

static void marks_ect_only_and_keeps_the_ipv4_checksum(void **state)
{
    (void)state;
    struct lt t;
    lt_init(&t, SYNACK_MS(1));
    synack_link_faults f = {.seed = 1, .mark_ce = 1.0};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    synack_link_ops ops = synack_memlink_ops();
    /* DSCP bits beside the ECN field must survive the mark */
    static const uint8_t tos[] = {0x00, 0x01, 0x02, 0x03, 0xb8, 0xb9, 0xba, 0xbb};
    uint8_t sent[8][64];
    for (uint32_t i = 0; i < 8; i++) {
        size_t n = make_v4(sent[i], sizeof sent[i], i, tos[i]);
        assert_int_equal(ops.transmit(synack_memlink_end(t.link, 0), sent[i], n), 0);
    }
    lt_drain(&t);
    assert_int_equal(t.n, 8);
    for (uint32_t i = 0; i < 8; i++) {
        struct wire_ipv4 ip;
        assert_int_equal(wire_ipv4_parse(t.got[i].data, t.got[i].len, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
        uint8_t ecn = tos[i] & 3;
        uint8_t want = ecn == 1 || ecn == 2 ? (uint8_t)(tos[i] | 3) : tos[i];
        assert_int_equal(ip.tos, want);
        /* the rest of the datagram is as sent */
        assert_memory_equal(t.got[i].data + 2, sent[i] + 2, 8);
        assert_memory_equal(t.got[i].data + 12, sent[i] + 12, t.got[i].len - 12);
    }
    assert_int_equal(lt_stats(&t).ce_marked, 4);
    assert_int_equal(synack_counter(t.rx, "ip_drop_csum"), 0);
    lt_free(&t);
}

static void marks_the_ipv6_traffic_class(void **state)
{
    (void)state;
    struct lt t;
    lt_init(&t, SYNACK_MS(1));
    synack_link_faults f = {.seed = 1, .mark_ce = 1.0};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    synack_link_ops ops = synack_memlink_ops();
    for (uint8_t ecn = 0; ecn < 4; ecn++) {
        uint8_t b[60];
        memset(b, 0, sizeof b);
        struct wire_ipv6 h = {.tclass = (uint8_t)(0xa0 | ecn), .flow = 0x12345, .hop_limit = 9, .proto = 59};
        b[15] = 1;
        assert_int_equal(wire_ipv6_emit(b, sizeof b, &h, 20), 40);
        assert_int_equal(ops.transmit(synack_memlink_end(t.link, 0), b, 60), 0);
    }
    lt_drain(&t);
    assert_int_equal(t.n, 4);
    for (uint8_t ecn = 0; ecn < 4; ecn++) {
        struct wire_ipv6 ip;
        assert_int_equal(wire_ipv6_parse(t.got[ecn].data, t.got[ecn].len, 0, &ip), WIRE_OK);
        assert_int_equal(ip.tclass, 0xa0 | (ecn == 1 || ecn == 2 ? 3 : ecn));
        assert_int_equal(ip.flow, 0x12345);
    }
    assert_int_equal(lt_stats(&t).ce_marked, 2);
    lt_free(&t);
}

/* The fraction asked for, and no draw at all for packets it cannot mark, so
 * the other faults' patterns do not move when mark_ce is set. */
static void marks_the_fraction_asked(void **state)
{
    (void)state;
    struct lt t;
    lt_init(&t, SYNACK_MS(1));
    synack_link_faults f = {.seed = 3, .mark_ce = 0.25};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    synack_link_ops ops = synack_memlink_ops();
    enum { N = 8000 };
    for (uint32_t i = 0; i < N; i++) {
        uint8_t b[64];
        size_t n = make_v4(b, sizeof b, i, WIRE_ECN_ECT0);
        assert_int_equal(ops.transmit(synack_memlink_end(t.link, 0), b, n), 0);
        lt_run_until(&t, t.clock.now + 10);
    }
    lt_drain(&t);
    assert_true(lt_binomial_ok(lt_stats(&t).ce_marked, N, 0.25, 5));
    synack_link_faults bad = {.mark_ce = 1.5};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &bad), -EINVAL);
    lt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(marks_ect_only_and_keeps_the_ipv4_checksum),
        cmocka_unit_test(marks_the_ipv6_traffic_class),
        cmocka_unit_test(marks_the_fraction_asked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
