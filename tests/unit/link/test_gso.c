/* Software GSO for the TUN link (src/link/gso.c): which segments join, and
 * the datagram and virtio-net header a joined batch becomes. The rules are
 * the kernel's GSO rules (net/ipv4/tcp_offload.c): all segments but the last
 * exactly gso_size long, headers equal but for the sequence number, PSH only
 * on the last. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "link/link.h"
#include "wire/bytes.h"
#include "wire/checksum.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"

#define SRC 0xc6120002u
#define DST 0xc6120001u

/* A segment as the stack emits it: IPv4 + TCP with a timestamp option. */
static size_t seg(uint8_t *buf, uint32_t seq, uint16_t flags, size_t paylen, uint32_t tsval, uint32_t ack)
{
    uint8_t opt[12] = {1, 1, 8, 10};
    wire_put32(opt + 4, tsval);
    wire_put32(opt + 8, 77);
    struct wire_tcp t = {.sport = 40000, .dport = 5000, .seq = seq, .ack = ack, .flags = flags, .wnd = 500,
                         .opts_raw = opt, .opts_len = sizeof opt};
    int hl = wire_tcp_emit(buf + 20, 2000, &t);
    for (size_t i = 0; i < paylen; i++)
        buf[20 + (size_t)hl + i] = (uint8_t)(seq + i);
    wire_tcp_set_csum_ipv4(buf + 20, (size_t)hl + paylen, SRC, DST);
    struct wire_ipv4 ip = {.id = 7, .df = true, .ttl = 64, .proto = WIRE_IPPROTO_TCP, .src = SRC, .dst = DST};
    wire_ipv4_emit(buf, 20, &ip, (size_t)hl + paylen);
    return 20 + (size_t)hl + paylen;
}

#define ACK WIRE_TCP_ACK
#define PSH WIRE_TCP_PSH

static void joins_full_segments_and_a_short_last_into_one_gso_datagram(void **state)
{
    (void)state;
    struct gso_batch *b = calloc(1, sizeof *b);
    uint8_t f[2100];
    assert_true(gso_start(b, f, seg(f, 1000, ACK, 1448, 5, 1)));
    assert_true(gso_append(b, f, seg(f, 2448, ACK, 1448, 5, 1)));
    assert_true(gso_append(b, f, seg(f, 3896, ACK | PSH, 100, 5, 1)));
    /* the short (and PSH) segment ended the batch */
    assert_false(gso_append(b, f, seg(f, 3996, ACK, 1448, 5, 1)));
    uint8_t vh[GSO_VNET_HDR];
    size_t len = gso_finish(b, vh);
    size_t hl = 20 + 32;
    assert_int_equal(len, hl + 1448 + 1448 + 100);
    assert_int_equal(vh[0], 1); /* NEEDS_CSUM */
    assert_int_equal(vh[1], 1); /* GSO_TCPV4 */
    assert_int_equal(vh[2] | vh[3] << 8, hl);
    assert_int_equal(vh[4] | vh[5] << 8, 1448);
    assert_int_equal(vh[6] | vh[7] << 8, 20);
    assert_int_equal(vh[8] | vh[9] << 8, 16);
    struct wire_ipv4 ip;
    assert_int_equal(wire_ipv4_parse(b->pkt, len, WIRE_IPV4_VERIFY_CSUM, &ip), WIRE_OK);
    assert_int_equal(ip.total_len, len);
    /* PSH on the joined header: the kernel leaves it on the last piece only */
    assert_true(b->pkt[33] & PSH);
    /* the TCP checksum field holds the pseudo-header sum, not complemented */
    uint16_t want = (uint16_t)~wire_csum_fold(wire_csum_pseudo_ipv4(SRC, DST, 6, (uint32_t)(len - 20)));
    assert_int_equal(wire_get16(b->pkt + 36), want);
    /* the payload is the three payloads in order */
    for (size_t i = 0; i < 1448 + 1448 + 100; i++)
        assert_int_equal(b->pkt[hl + i], (uint8_t)(1000 + i));
    assert_int_equal(b->nseg, 0);
    free(b);
}

static void one_segment_leaves_unchanged_with_a_plain_header(void **state)
{
    (void)state;
    struct gso_batch *b = calloc(1, sizeof *b);
    uint8_t f[2100], orig[2100];
    size_t n = seg(f, 1, ACK, 1448, 5, 1);
    memcpy(orig, f, n);
    assert_true(gso_start(b, f, n));
    uint8_t vh[GSO_VNET_HDR];
    assert_int_equal(gso_finish(b, vh), n);
    static const uint8_t zero[GSO_VNET_HDR];
    assert_memory_equal(vh, zero, sizeof zero);
    assert_memory_equal(b->pkt, orig, n);
    free(b);
}

static void only_contiguous_segments_with_equal_headers_join(void **state)
{
    (void)state;
    struct gso_batch *b = calloc(1, sizeof *b);
    uint8_t f[2100];
    assert_true(gso_start(b, f, seg(f, 1000, ACK, 1448, 5, 1)));
    assert_false(gso_append(b, f, seg(f, 9999, ACK, 1448, 5, 1)));  /* a gap */
    assert_false(gso_append(b, f, seg(f, 2448, ACK, 1448, 6, 1)));  /* another timestamp */
    assert_false(gso_append(b, f, seg(f, 2448, ACK, 1448, 5, 2)));  /* another ACK */
    assert_false(gso_append(b, f, seg(f, 2448, ACK, 1500, 5, 1)));  /* longer than gso_size */
    assert_false(gso_append(b, f, seg(f, 2448, ACK | WIRE_TCP_FIN, 10, 5, 1)));
    assert_true(gso_append(b, f, seg(f, 2448, ACK, 1448, 5, 1)));
    free(b);
}

static void control_segments_never_start_a_batch(void **state)
{
    (void)state;
    struct gso_batch *b = calloc(1, sizeof *b);
    uint8_t f[2100];
    assert_false(gso_start(b, f, seg(f, 1, ACK, 0, 5, 1)));              /* a bare ACK */
    assert_false(gso_start(b, f, seg(f, 1, WIRE_TCP_SYN, 0, 5, 0)));
    assert_false(gso_start(b, f, seg(f, 1, ACK | WIRE_TCP_FIN, 10, 5, 1)));
    assert_false(gso_start(b, f, seg(f, 1, ACK | WIRE_TCP_RST, 10, 5, 1)));
    size_t n = seg(f, 1, ACK, 100, 5, 1);
    f[9] = 17; /* not TCP */
    assert_false(gso_start(b, f, n));
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(joins_full_segments_and_a_short_last_into_one_gso_datagram),
        cmocka_unit_test(one_segment_leaves_unchanged_with_a_plain_header),
        cmocka_unit_test(only_contiguous_segments_with_equal_headers_join),
        cmocka_unit_test(control_segments_never_start_a_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
