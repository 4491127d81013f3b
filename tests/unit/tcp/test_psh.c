/* PSH where Linux puts it on the wire (src/tcp/output.c). Observed on Linux
 * 6.18 through a TSO-capable TUN: every packet of two or more MSS carries
 * PSH, inside a MSG_MORE write too (__tcp_transmit_skb forces it when
 * tcp_skb_pcount > 1), and GSO leaves it on the packet's last segment; a
 * packet of one MSS carries it only where a write ended (tcp_push). Linux
 * cuts a burst into packets of tcp_tso_segs segments: 2 (tcp_min_tso_segs)
 * at the rates of these tests, up to half the cwnd while it has no RTT
 * sample (its pacing rate is then unbounded). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define MSS 1000

static const synack_config big = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20};

/* Sends len bytes as one MSG_MORE write and returns, in psh[], whether each
 * data segment the stack sent carried PSH; the count of segments. */
static int more_write(struct xconn *x, size_t len, bool *psh, int max)
{
    static uint8_t d[64 * 1024];
    struct conn *c = &x->c;
    assert_true(len <= sizeof d);
    assert_int_equal(synack_send_flags(c->h.s, c->s, d, len, SYNACK_SEND_MORE), (long)len);
    int n = 0;
    struct wire_tcp t;
    while (h_next(&c->h, &t))
        if (t.payload_len) {
            assert_int_equal(t.payload_len, MSS);
            assert_true(n < max);
            psh[n++] = t.flags & WIRE_TCP_PSH;
        }
    return n;
}

/* SRTT 100 ms, cwnd 10: Linux's pacing rate is 2 * 10 * 1000 B / 100 ms,
 * far below 2 segments per ms, so its GSO packets are 2 segments: PSH on
 * every second one; the ninth, a packet of one segment from a MSG_MORE
 * write, has none. */
static void linux_psh_ends_each_two_segment_gso_packet(void **state)
{
    (void)state;
    struct xconn x;
    x_open_rtt(&x, &big, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7}, SYNACK_MS(100));
    bool psh[16];
    assert_int_equal(more_write(&x, 9 * MSS, psh, 16), 9);
    for (int i = 0; i < 9; i++)
        assert_int_equal(psh[i], i % 2 == 1 && i < 8);
    h_free(&x.c.h);
}

/* No RTT sample yet (the handshake's ACK came at once): Linux's rate is
 * unbounded, a GSO packet is 64 KB cut to half the cwnd: 5 segments. */
static void linux_psh_ends_half_cwnd_packets_without_rtt(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
    bool psh[16];
    assert_int_equal(more_write(&x, 10 * MSS, psh, 16), 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(psh[i], i == 4 || i == 9);
    h_free(&x.c.h);
}

/* A burst the cwnd cuts short ends a GSO packet: three segments go as a
 * packet of two and a packet of one, PSH on the second only. */
static void linux_psh_burst_cut_by_cwnd(void **state)
{
    (void)state;
    struct xconn x;
    x_open_rtt(&x, &big, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7}, SYNACK_MS(100));
    bool psh[16];
    assert_int_equal(more_write(&x, 13 * MSS, psh, 16), 10); /* cwnd 10 */
    h_advance(&x.c.h, SYNACK_MS(100)); /* an RTT like the first: min RTT stays 100 ms */
    x_ack(&x, x.c.ours + 2 * MSS, NULL, 0); /* slow start: 4 more */
    int n = 0;
    struct wire_tcp t;
    while (h_next(&x.c.h, &t))
        if (t.payload_len)
            psh[n++] = t.flags & WIRE_TCP_PSH;
    assert_int_equal(n, 3); /* all that is left */
    assert_false(psh[0]);
    assert_true(psh[1]);
    assert_false(psh[2]); /* one segment, and MSG_MORE: no PSH */
    h_free(&x.c.h);
}

/* net.ipv4.tcp_min_tso_segs=10 (slow-start-after-win-update.pkt): packets
 * of 10 segments, cut to half the cwnd: 5. */
static void linux_min_tso_segs_sets_the_packet_size(void **state)
{
    (void)state;
    struct xconn x;
    synack_config cfg = big;
    cfg.min_tso_segs = 10;
    x_open_rtt(&x, &cfg, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7}, SYNACK_MS(100));
    bool psh[16];
    assert_int_equal(more_write(&x, 10 * MSS, psh, 16), 10);
    for (int i = 0; i < 10; i++)
        assert_int_equal(psh[i], i == 4 || i == 9);
    h_free(&x.c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(linux_psh_ends_each_two_segment_gso_packet),
        cmocka_unit_test(linux_psh_ends_half_cwnd_packets_without_rtt),
        cmocka_unit_test(linux_psh_burst_cut_by_cwnd),
        cmocka_unit_test(linux_min_tso_segs_sets_the_packet_size),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
