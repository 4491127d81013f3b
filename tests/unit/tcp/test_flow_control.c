/* Flow control and small segments: the peer's window and its scale (RFC
 * 7323 §2), zero-window probing (RFC 9293 §3.8.6.1), sender SWS avoidance
 * (§3.8.6.2.1), Nagle (RFC 896) and TCP_NODELAY / TCP_CORK. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define A_ WIRE_TCP_ACK
#define P_ WIRE_TCP_PSH

static synack_config big = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20};

/* RFC 7323 §2.3: the window field of every non-SYN segment is shifted left
 * by the scale the peer announced; the sender fills exactly that much. */
static void test_rfc7323_2_3_peer_window_is_scaled(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = 2, .wnd = 65535});
    /* the handshake's ACK said 65535 << 2; shrink it to 3000 << 2 = 12 segs,
     * but cwnd (10 segments) binds first; then 1500 << 2 = 6000 bytes */
    x.wnd = 1500;
    x_ack(&x, x.c.ours, NULL, 0);
    static uint8_t d[100000];
    assert_int_equal(synack_send(x.c.h.s, x.c.s, d, sizeof d), (long)sizeof d);
    uint32_t seqs[32];
    assert_int_equal(x_data_segs(&x, seqs, 32), 6);
    assert_int_equal(info_of(&x.c.h, x.c.s).snd_wnd, 6000);
    h_free(&x.c.h);
}

/* RFC 7323 §2.2/§2.3: our SYN-ACK offers a scale, and our windows are the
 * buffer shifted right by it. */
static void test_rfc7323_2_2_our_window_is_scaled(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = 7});
    synack_tcp_info i = info_of(&x.c.h, x.c.s);
    assert_true(i.rcv_wscale >= 4); /* a 1 MiB buffer needs at least 4 */
    uint8_t b[10] = {0};
    x_send(&x, A_, x.c.peer, x.c.ours, b, 10, NULL, 0);
    h_advance(&x.c.h, SYNACK_MS(50));
    struct wire_tcp t = x_next(&x);
    assert_int_equal((uint32_t)t.wnd << i.rcv_wscale, (1u << 20) - (1u << i.rcv_wscale));
    h_free(&x.c.h);
}

/* RFC 9293 §3.8.6.1: a zero window stalls the sender, which probes it on
 * the persist timer with exponential backoff and never gives up while the
 * probes are answered; when the window opens, the data flows again. */
static void test_rfc9293_3_8_6_1_zero_window_stall_and_recovery(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    static uint8_t d[5000];
    for (size_t i = 0; i < sizeof d; i++)
        d[i] = (uint8_t)(i * 13);
    /* the receiver is full: window 0 */
    x.wnd = 0;
    x_ack(&x, c->ours, NULL, 0);
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), (long)sizeof d);
    expect_none(&c->h); /* nothing goes into a closed window */
    uint64_t probes0 = ctr(&c->h, "tcp_persist_probes");
    synack_time last = c->h.clock.now, gap = 0;
    for (int i = 0; i < 6; i++) {
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(200)));
        struct wire_tcp t = x_next(&x);
        assert_int_equal(t.payload_len, 0);
        assert_int_equal(t.seq, c->ours - 1); /* Linux's probe: SND.UNA - 1 */
        synack_time g = c->h.clock.now - last;
        if (i > 0)
            assert_int_equal(g, 2 * gap); /* backoff */
        gap = g;
        last = c->h.clock.now;
        x_ack(&x, c->ours, NULL, 0); /* still zero: the probe is answered */
        expect_none(&c->h);
    }
    assert_int_equal(ctr(&c->h, "tcp_persist_probes"), probes0 + 6);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    /* the window opens: all 5000 bytes go, byte-exact */
    x.wnd = 65535;
    x_ack(&x, c->ours, NULL, 0);
    struct wire_tcp t;
    uint32_t off = 0;
    while (h_next(&c->h, &t)) {
        assert_int_equal(t.seq, c->ours + off);
        assert_memory_equal(t.payload, d + off, t.payload_len);
        off += (uint32_t)t.payload_len;
    }
    assert_int_equal(off, 5000);
    h_free(&c->h);
}

/* RFC 9293 §3.8.6.2.1 (sender SWS avoidance, as Linux): a window smaller
 * than a segment is not filled by a tiny segment at once; the persist
 * timer sends what fits when nothing else would move. */
static void test_rfc9293_3_8_6_2_1_sender_sws_avoidance(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    x.wnd = 300;
    x_ack(&x, c->ours, NULL, 0);
    static uint8_t d[3000];
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), 3000);
    expect_none(&c->h);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(5)));
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours);
    assert_int_equal(t.payload_len, 300);
    h_free(&c->h);
}

/* RFC 896, Linux's Minshall variant: while a small segment is
 * unacknowledged, further small writes wait and are coalesced. */
static void test_rfc896_nagle_coalesces_small_writes(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_send(c->h.s, c->s, "a", 1), 1);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.payload_len, 1);
    assert_int_equal(synack_send(c->h.s, c->s, "bc", 2), 2);
    assert_int_equal(synack_send(c->h.s, c->s, "de", 2), 2);
    expect_none(&c->h);
    x_ack(&x, c->ours + 1, NULL, 0);
    t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 1);
    assert_int_equal(t.payload_len, 4);
    assert_memory_equal(t.payload, "bcde", 4);
    h_free(&c->h);
}

/* Linux tcp_minshall_check: a partial segment waits only for an earlier
 * partial one, and none is in flight before the first is sent, wherever
 * the ISS lies. A first write of two full segments and a partial one goes
 * whole at once, for ISSs in both halves of the sequence space (a marker
 * of zero once read as a partial segment in flight for ISSs from 2^31 up,
 * and held the tail for an ACK). */
static void test_rfc896_minshall_first_partial_goes_any_iss(void **state)
{
    (void)state;
    bool upper = false, lower = false;
    static uint8_t d[1500];
    for (uint64_t seed = 1; seed <= 16; seed++) {
        struct conn c;
        conn_open(&c, &(synack_config){.seed = seed}, 1000);
        upper |= c.ours >= 0x80000000u;
        lower |= c.ours < 0x80000000u;
        assert_int_equal(synack_send(c.h.s, c.s, d, sizeof d), 1500);
        /* the peer sent no MSS option: 536-byte segments */
        static const uint32_t off[] = {0, 536, 1072}, len[] = {536, 536, 428};
        for (int i = 0; i < 3; i++) {
            struct wire_tcp t;
            assert_true(h_next(&c.h, &t));
            assert_int_equal(t.seq, c.ours + off[i]);
            assert_int_equal(t.payload_len, len[i]);
        }
        h_free(&c.h);
    }
    assert_true(upper && lower); /* both halves were covered */
}

/* TCP_NODELAY turns Nagle off: every write goes at once. */
static void test_tcp_nodelay_sends_each_write(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    int v = 0;
    assert_int_equal(synack_getopt(c->h.s, c->s, SYNACK_OPT_NODELAY, &v), 0);
    assert_int_equal(v, 1);
    for (int i = 0; i < 3; i++)
        assert_int_equal(synack_send(c->h.s, c->s, "xy", 2), 2);
    uint32_t seqs[8];
    assert_int_equal(x_data_segs(&x, seqs, 8), 3);
    h_free(&c->h);
}

/* Linux tcp_push: PSH marks the end of a write, unless MSG_MORE said more
 * follows; the next plain write's end carries it again. */
static void test_msg_more_write_end_carries_no_psh(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    assert_int_equal(synack_send_flags(c->h.s, c->s, "abcd", 4, SYNACK_SEND_MORE), 4);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.payload_len, 4);
    assert_int_equal(t.flags & P_, 0);
    x_ack(&x, c->ours + 4, NULL, 0);
    assert_int_equal(synack_send_flags(c->h.s, c->s, "efgh", 4, 0), 4);
    t = x_next(&x);
    assert_int_equal(t.payload_len, 4);
    assert_int_equal(t.flags & P_, P_);
    assert_int_equal(synack_send_flags(c->h.s, c->s, "x", 1, 0x100), -EINVAL); /* no such flag */
    h_free(&c->h);
}

/* TCP_CORK holds partial segments until the cork comes out; full ones go. */
static void test_tcp_cork_holds_partial_segments(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_CORK, 1), 0);
    static uint8_t d[1500];
    assert_int_equal(synack_send(c->h.s, c->s, d, 1500), 1500);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.payload_len, 1000);
    expect_none(&c->h);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_CORK, 0), 0);
    h_advance(&c->h, 0);
    t = x_next(&x);
    assert_int_equal(t.payload_len, 500);
    h_free(&c->h);
}

/* TCP_CORK's ceiling (tcp(7): "a 200 millisecond ceiling on the time for
 * which output is corked"): with nothing in flight, a partial segment held
 * by the cork goes when the probe timer fires, an RTO later, as Linux's
 * tcp_check_probe_timer and tcp_write_wakeup do. It was held forever: a
 * corked client whose peer's RST was lost then sent nothing, so keepalive
 * never probed and the application waited for good (found by `synack sim
 * --seed 809 --stacks 3 --time 60 --loss 0.3 --reorder 0.1 --dup 0.05
 * --corrupt 0.05 --vary --flaps`). */
static void test_tcp_cork_ceiling_sends_a_held_partial_segment(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_CORK, 1), 0);
    static uint8_t d[500];
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), (long)sizeof d);
    expect_none(&c->h);
    h_advance(&c->h, SYNACK_MS(150));
    expect_none(&c->h); /* held for a while... */
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(3)));
    struct wire_tcp t = x_next(&x); /* ...but not for ever */
    assert_int_equal(t.payload_len, 500);
    h_free(&c->h);
}

/* RFC 9293 §3.10.7.4: with our window at zero, a segment at RCV.NXT still
 * has its ACK processed (the known gap of the foundation). */
static void test_rfc9293_3_10_7_4_zero_window_still_takes_acks(void **state)
{
    (void)state;
    synack_config cfg = {.rcvbuf = 2048, .sndbuf = 1 << 16};
    struct xconn x;
    x_open(&x, &cfg, &(struct xopen){.mss = 1024, .wscale = -1});
    struct conn *c = &x.c;
    static uint8_t d[1024];
    x_send(&x, A_, c->peer, c->ours, d, 1024, NULL, 0);
    x_send(&x, A_, c->peer + 1024, c->ours, d, 1024, NULL, 0);
    h_drain(&c->h);
    assert_int_equal(synack_send(c->h.s, c->s, "hello", 5), 5);
    h_drain(&c->h);
    /* our window is zero; the peer sends more data acking our 5 bytes */
    x_send(&x, A_, c->peer + 2048, c->ours + 5, "zz", 2, NULL, 0);
    assert_int_equal(info_of(&c->h, c->s).snd_una, c->ours + 5);
    assert_int_equal(info_of(&c->h, c->s).unread, 2048);
    h_free(&c->h);
}

/* A FIN that arrives while our window is zero is taken and acknowledged at
 * once (Linux tcp_data_queue; linux-selftests tcp_rcv_zero_wnd_fin.pkt):
 * the same FIN into an open window after data waits the delayed-ACK time
 * (pingpong, so our own FIN may carry the ACK). */
static void fin_after_full_window(bool fill, bool expect_at_once)
{
    synack_config cfg = {.rcvbuf = 2048, .sndbuf = 1 << 16};
    struct xconn x;
    x_open(&x, &cfg, &(struct xopen){.mss = 1024, .wscale = -1});
    struct conn *c = &x.c;
    static uint8_t d[1024];
    uint32_t n = fill ? 2048 : 1024;
    for (uint32_t off = 0; off < n; off += 1024)
        x_send(&x, A_, c->peer + off, c->ours, d, 1024, NULL, 0);
    h_advance(&c->h, SYNACK_MS(200)); /* every byte acknowledged first */
    h_drain(&c->h);
    assert_int_equal(info_of(&c->h, c->s).unread, n);
    x_send(&x, A_ | WIRE_TCP_FIN, c->peer + n, c->ours, NULL, 0, NULL, 0);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_CLOSE_WAIT);
    if (expect_at_once) {
        struct wire_tcp t = expect_seg(&c->h, A_, c->ours, c->peer + n + 1);
        assert_int_equal(t.wnd, 0);
    } else {
        expect_none(&c->h);
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(1)));
        expect_seg(&c->h, A_, c->ours, c->peer + n + 1);
    }
    h_free(&c->h);
}

static void test_fin_into_zero_window_is_acked_at_once(void **state)
{
    (void)state;
    fin_after_full_window(true, true);
    fin_after_full_window(false, false);
}

/* Socket options are checked and inherited from the listener (Linux). */
static void test_setopt_ranges_and_inheritance(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock s = synack_socket(h.s);
    assert_int_equal(synack_setopt(h.s, s, SYNACK_OPT_MAXSEG, 10), -EINVAL);
    assert_int_equal(synack_setopt(h.s, s, SYNACK_OPT_KEEPIDLE, 0), -EINVAL);
    assert_int_equal(synack_setopt(h.s, s, SYNACK_OPT_KEEPCNT, 128), -EINVAL);
    assert_int_equal(synack_setopt(h.s, s, SYNACK_OPT_CONGESTION, 99), -ENOENT);
    assert_int_equal(synack_setopt(h.s, s, (synack_opt)999, 1), -ENOPROTOOPT);
    assert_int_equal(synack_setopt(h.s, 12345, SYNACK_OPT_NODELAY, 1), -EBADF);
    int v = -1;
    assert_int_equal(synack_getopt(h.s, s, SYNACK_OPT_CONGESTION, &v), 0);
    assert_int_equal(v, SYNACK_CC_CUBIC); /* Linux's default */
    assert_int_equal(synack_getopt(h.s, s, SYNACK_OPT_KEEPIDLE, &v), 0);
    assert_int_equal(v, 7200);
    synack_close(h.s, s);
    h_free(&h);

    struct conn c;
    h_init(&c.h, NULL);
    synack_sock l = synack_socket(c.h.s);
    assert_int_equal(synack_setopt(c.h.s, l, SYNACK_OPT_NODELAY, 1), 0);
    assert_int_equal(synack_setopt(c.h.s, l, SYNACK_OPT_CONGESTION, SYNACK_CC_NEWRENO), 0);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(c.h.s, l, &e), 0);
    assert_int_equal(synack_listen(c.h.s, l, 4), 0);
    h_inject(&c.h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = 1});
    struct wire_tcp t;
    assert_true(h_next(&c.h, &t));
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = 2, .ack = t.seq + 1});
    synack_sock a = synack_accept(c.h.s, l, NULL);
    assert_true(a >= 0);
    assert_int_equal(synack_getopt(c.h.s, a, SYNACK_OPT_NODELAY, &v), 0);
    assert_int_equal(v, 1);
    assert_int_equal(synack_getopt(c.h.s, a, SYNACK_OPT_CONGESTION, &v), 0);
    assert_int_equal(v, SYNACK_CC_NEWRENO);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7323_2_3_peer_window_is_scaled),
        cmocka_unit_test(test_rfc7323_2_2_our_window_is_scaled),
        cmocka_unit_test(test_rfc9293_3_8_6_1_zero_window_stall_and_recovery),
        cmocka_unit_test(test_rfc9293_3_8_6_2_1_sender_sws_avoidance),
        cmocka_unit_test(test_rfc896_nagle_coalesces_small_writes),
        cmocka_unit_test(test_rfc896_minshall_first_partial_goes_any_iss),
        cmocka_unit_test(test_tcp_nodelay_sends_each_write),
        cmocka_unit_test(test_msg_more_write_end_carries_no_psh),
        cmocka_unit_test(test_tcp_cork_holds_partial_segments),
        cmocka_unit_test(test_tcp_cork_ceiling_sends_a_held_partial_segment),
        cmocka_unit_test(test_rfc9293_3_10_7_4_zero_window_still_takes_acks),
        cmocka_unit_test(test_fin_into_zero_window_is_acked_at_once),
        cmocka_unit_test(test_setopt_ranges_and_inheritance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
