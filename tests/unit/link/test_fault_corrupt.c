/* Bit corruption: the chosen fraction of frames arrives with exactly the
 * configured number of bits flipped and nothing else changed; the receiving
 * stack's checksum verification (RFC 791 §3.1 header checksum, RFC 9293
 * §3.1 TCP checksum) drops every corrupted frame and counts it; and a
 * transfer over a corrupting link still arrives byte-exact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"
#include "sim.h"
#include "wire/ipv4.h"
#include "wire/tcp.h"
#include "xfer.h"

#define N 20000

static unsigned bit_diff(const uint8_t *a, const uint8_t *b, size_t len)
{
    unsigned n = 0;
    for (size_t i = 0; i < len; i++)
        n += (unsigned)__builtin_popcount((unsigned)(a[i] ^ b[i]));
    return n;
}

static void flips_exactly_the_bits_asked(void **state)
{
    static const uint32_t nbits[] = {1, 3, 64};
    for (size_t k = 0; k < 3; k++) {
        struct lt t;
        lt_init(&t, SYNACK_MS(1));
        synack_link_faults f = {.seed = k + 1, .corrupt = 0.1, .corrupt_bits = nbits[k]};
        assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
        lt_stream(&t, N, 200, 10);
        assert_int_equal(t.n, N);
        uint8_t want[200];
        uint64_t bad = 0;
        for (size_t i = 0; i < t.n; i++) {
            /* no loss or reordering: the i-th arrival is frame i */
            want[0] = (uint8_t)i;
            want[1] = (uint8_t)(i >> 8);
            want[2] = (uint8_t)(i >> 16);
            want[3] = (uint8_t)(i >> 24);
            for (size_t j = 4; j < 200; j++)
                want[j] = lt_byte((uint32_t)i, j);
            unsigned d = bit_diff(want, t.got[i].data, 200);
            if (d) {
                assert_int_equal(d, nbits[k]);
                bad++;
            }
        }
        synack_link_stats st = lt_stats(&t);
        assert_int_equal(st.corrupted, bad);
        assert_int_equal(st.bits_flipped, bad * nbits[k]);
        assert_true(lt_binomial_ok(bad, N, 0.1, 5));
        lt_free(&t);
    }
}

/* A valid TCP segment from 198.18.0.1 to the receiving stack. */
static size_t make_segment(uint8_t *buf, size_t cap, uint32_t i)
{
    size_t plen = 1000;
    uint8_t *seg = buf + WIRE_IPV4_HDR_MIN;
    struct wire_tcp th = {.sport = 40000, .dport = 9, .seq = 1000 + i * 1000u, .ack = 1, .flags = WIRE_TCP_ACK,
                          .wnd = 1000};
    int hl = wire_tcp_emit(seg, cap - WIRE_IPV4_HDR_MIN, &th);
    assert_int_equal(hl, WIRE_TCP_HDR_MIN);
    for (size_t j = 0; j < plen; j++)
        seg[hl + j] = (uint8_t)(i + j);
    wire_tcp_set_csum_ipv4(seg, (size_t)hl + plen, 0xc6120001u, 0xc6120002u);
    struct wire_ipv4 ih = {.ttl = 64, .proto = WIRE_IPPROTO_TCP, .df = true, .id = (uint16_t)i,
                           .src = 0xc6120001u, .dst = 0xc6120002u};
    assert_int_equal(wire_ipv4_emit(buf, cap, &ih, (size_t)hl + plen), WIRE_IPV4_HDR_MIN);
    return WIRE_IPV4_HDR_MIN + (size_t)hl + plen;
}

static uint64_t csum_drops(synack_stack *s)
{
    return synack_counter(s, "ip_drop_csum") + synack_counter(s, "ip_drop_hdr") +
           synack_counter(s, "tcp_drop_csum");
}

static void the_stack_drops_and_counts_every_corrupted_frame(void **state)
{
    struct lt t;
    lt_init(&t, SYNACK_MS(1));
    assert_int_equal(csum_drops(t.rx), 0);
    synack_link_faults f = {.seed = 5, .corrupt = 0.2};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    synack_link_ops ops = synack_memlink_ops();
    uint8_t buf[1500];
    for (uint32_t i = 0; i < 5000; i++) {
        size_t len = make_segment(buf, sizeof buf, i);
        assert_int_equal(ops.transmit(synack_memlink_end(t.link, 0), buf, len), 0);
        lt_run_until(&t, t.clock.now + 100);
        synack_poll(t.rx); /* lets it answer, so the run stays realistic */
    }
    lt_drain(&t);
    synack_link_stats st = lt_stats(&t);
    assert_true(st.corrupted > 800);
    assert_int_equal(csum_drops(t.rx), st.corrupted);
    /* nearly all flips land in the TCP segment, the rest in the IP header */
    assert_true(synack_counter(t.rx, "tcp_drop_csum") > st.corrupted * 9 / 10);
    lt_free(&t);
}

static void a_transfer_survives_corruption(void **state)
{
    struct sim s;
    sim_init(&s, 3, SYNACK_MS(5), NULL);
    synack_link_faults f = {.seed = 21, .corrupt = 0.03};
    assert_int_equal(synack_memlink_set_faults(s.link, 0, &f), 0);
    f.seed = 22;
    assert_int_equal(synack_memlink_set_faults(s.link, 1, &f), 0);
    static struct xfer x;
    assert_int_equal(xfer_start(&x, &s, 7000, 300000, 200000, 1, SYNACK_SEC(60)), 0);
    assert_true(sim_run(&s, xfer_pump, &x, SYNACK_SEC(600)));
    assert_true(xfer_ok(&x));
    synack_link_stats s0, s1;
    synack_memlink_stats(s.link, 0, &s0);
    synack_memlink_stats(s.link, 1, &s1);
    assert_true(s0.corrupted > 0 && s1.corrupted > 0);
    /* what a sent corrupted, b dropped, and the other way round */
    assert_int_equal(csum_drops(s.b), s0.corrupted);
    assert_int_equal(csum_drops(s.a), s1.corrupted);
    sim_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(flips_exactly_the_bits_asked),
        cmocka_unit_test(the_stack_drops_and_counts_every_corrupted_frame),
        cmocka_unit_test(a_transfer_survives_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
