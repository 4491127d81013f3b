/* The receiving side: the out-of-order queue (RFC 9293 §3.10.7.4), SACK
 * (RFC 2018) and D-SACK (RFC 2883) generation, PAWS and TS.Recent (RFC
 * 7323), delayed ACKs (RFC 1122 §4.2.3.2, RFC 5681 §4.2). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define A_ WIRE_TCP_ACK

static void fill(uint8_t *b, size_t n, uint32_t base)
{
    for (size_t i = 0; i < n; i++)
        b[i] = (uint8_t)((base + i) * 7 + 3);
}

/* RFC 9293 §3.10.7.4 seventh: segments beyond RCV.NXT are held and joined
 * once the hole is filled; each out-of-order arrival and the filling
 * segment are acknowledged at once (RFC 5681 §4.2). */
static void test_rfc9293_3_10_7_4_out_of_order_held_and_joined(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .wscale = -1});
    struct conn *c = &x.c;
    uint8_t d[300];
    fill(d, sizeof d, 0);
    uint64_t q = ctr(&c->h, "tcp_ooo_queued");
    /* 200..300 first, then 100..200: both out of order, each ACKed at once */
    x_send(&x, A_, c->peer + 200, c->ours, d + 200, 100, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer);
    x_send(&x, A_, c->peer + 100, c->ours, d + 100, 100, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer);
    assert_int_equal(ctr(&c->h, "tcp_ooo_queued"), q + 2);
    assert_int_equal(info_of(&c->h, c->s).unread, 0);
    /* 0..150 fills the hole and overlaps what is held: one ACK of all 300 */
    x_send(&x, A_, c->peer, c->ours, d, 150, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer + 300);
    expect_none(&c->h);
    uint8_t got[400];
    assert_int_equal(synack_recv(c->h.s, c->s, got, sizeof got), 300);
    assert_memory_equal(got, d, 300);
    h_free(&c->h);
}

/* The out-of-order FIN: it takes effect when the data before it arrives. */
static void test_rfc9293_3_10_7_4_out_of_order_fin(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .wscale = -1});
    struct conn *c = &x.c;
    uint8_t d[20];
    fill(d, sizeof d, 0);
    x_send(&x, A_ | WIRE_TCP_FIN, c->peer + 10, c->ours, d + 10, 10, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    x_send(&x, A_, c->peer, c->ours, d, 10, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer + 21);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_CLOSE_WAIT);
    uint8_t got[40];
    assert_int_equal(synack_recv(c->h.s, c->s, got, sizeof got), 20);
    assert_memory_equal(got, d, 20);
    assert_int_equal(synack_recv(c->h.s, c->s, got, sizeof got), 0);
    h_free(&c->h);
}

/* RFC 9293 §3.10.7.4 eighth: a FIN ends the stream; nothing after it is
 * data. What was held out of order beyond an in-order FIN is dropped (Linux
 * tcp_fin purges its out-of-order queue), and data held past an
 * out-of-order FIN never joins the stream when the hole fills (the fuzzer
 * found the first: the held bytes were delivered after the FIN, shifted). */
static void test_rfc9293_3_10_7_4_nothing_after_the_fin(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .wscale = -1});
    struct conn *c = &x.c;
    uint8_t d[40];
    fill(d, sizeof d, 0);
    x_send(&x, A_, c->peer + 1, c->ours, d + 1, 20, NULL, 0); /* held out of order */
    expect_seg(&c->h, A_, c->ours, c->peer);
    x_send(&x, A_ | WIRE_TCP_FIN, c->peer, c->ours, NULL, 0, NULL, 0); /* the FIN at RCV.NXT */
    expect_seg(&c->h, A_, c->ours, c->peer + 1);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_CLOSE_WAIT);
    x_send(&x, A_, c->peer + 1, c->ours, NULL, 0, NULL, 0); /* any later segment */
    h_drain(&c->h);
    uint8_t got[64];
    assert_int_equal(synack_recv(c->h.s, c->s, got, sizeof got), 0); /* end of stream, no data */
    assert_int_equal(info_of(&c->h, c->s).unread, 0);
    h_free(&c->h);

    /* an out-of-order FIN at 10, then data at 10..30 held beyond it: when
     * 0..10 arrives, the stream is 10 bytes and the FIN */
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .wscale = -1});
    c = &x.c;
    x_send(&x, A_ | WIRE_TCP_FIN, c->peer + 5, c->ours, d + 5, 5, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer);
    x_send(&x, A_, c->peer + 10, c->ours, d + 10, 20, NULL, 0);
    h_drain(&c->h);
    x_send(&x, A_, c->peer, c->ours, d, 5, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer + 11);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_CLOSE_WAIT);
    assert_int_equal(synack_recv(c->h.s, c->s, got, sizeof got), 10);
    assert_memory_equal(got, d, 10);
    assert_int_equal(synack_recv(c->h.s, c->s, got, sizeof got), 0);
    h_free(&c->h);
}

/* RFC 2018 §4: SACK blocks describe what is held; the first block holds the
 * most recently received segment, the rest follow newest first. */
static void test_rfc2018_4_sack_blocks_newest_first(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .sack = true, .wscale = -1});
    struct conn *c = &x.c;
    uint8_t d[100] = {0};
    uint32_t p = c->peer;
    x_send(&x, A_, p + 100, c->ours, d, 100, NULL, 0); /* block [100,200) */
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.ack, p);
    assert_int_equal(t.opt.sack_count, 1);
    assert_int_equal(t.opt.sack[0].left, p + 100);
    assert_int_equal(t.opt.sack[0].right, p + 200);
    x_send(&x, A_, p + 300, c->ours, d, 100, NULL, 0); /* block [300,400) */
    t = x_next(&x);
    assert_int_equal(t.opt.sack_count, 2);
    assert_int_equal(t.opt.sack[0].left, p + 300);
    assert_int_equal(t.opt.sack[1].left, p + 100);
    x_send(&x, A_, p + 200, c->ours, d, 50, NULL, 0); /* grows the first: [100,250) */
    t = x_next(&x);
    assert_int_equal(t.opt.sack_count, 2);
    assert_int_equal(t.opt.sack[0].left, p + 100);
    assert_int_equal(t.opt.sack[0].right, p + 250);
    assert_int_equal(t.opt.sack[1].left, p + 300);
    /* filling [0,100) delivers up to 250; [300,400) is still reported */
    x_send(&x, A_, p, c->ours, d, 100, NULL, 0);
    t = x_next(&x);
    assert_int_equal(t.ack, p + 250);
    assert_int_equal(t.opt.sack_count, 1);
    assert_int_equal(t.opt.sack[0].left, p + 300);
    assert_int_equal(t.opt.sack[0].right, p + 400);
    h_free(&c->h);
}

/* RFC 2018 §3: without SACK-permitted in both SYNs, no SACK option is sent. */
static void test_rfc2018_3_no_sack_unless_permitted(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .wscale = -1});
    uint8_t d[100] = {0};
    x_send(&x, A_, x.c.peer + 100, x.c.ours, d, 100, NULL, 0);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.ack, x.c.peer);
    assert_int_equal(t.opt.sack_count, 0);
    h_free(&x.c.h);
}

/* RFC 2883 §4: a duplicate segment is reported as the first SACK block of
 * the ACK it draws (D-SACK), once. */
static void test_rfc2883_4_dsack_reports_duplicate(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .sack = true, .wscale = -1});
    struct conn *c = &x.c;
    uint8_t d[100] = {0};
    x_send(&x, A_, c->peer, c->ours, d, 100, NULL, 0);
    h_advance(&c->h, SYNACK_MS(50)); /* the delayed ACK */
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.ack, c->peer + 100);
    assert_int_equal(t.opt.sack_count, 0);
    uint64_t before = ctr(&c->h, "tcp_dsack_out");
    x_send(&x, A_, c->peer, c->ours, d, 100, NULL, 0); /* again */
    t = x_next(&x);
    assert_int_equal(t.ack, c->peer + 100);
    assert_int_equal(t.opt.sack_count, 1);
    assert_int_equal(t.opt.sack[0].left, c->peer);
    assert_int_equal(t.opt.sack[0].right, c->peer + 100);
    assert_int_equal(ctr(&c->h, "tcp_dsack_out"), before + 1);
    /* a duplicate of held out-of-order data: D-SACK first, then the block */
    x_send(&x, A_, c->peer + 200, c->ours, d, 100, NULL, 0);
    t = x_next(&x);
    x_send(&x, A_, c->peer + 200, c->ours, d, 100, NULL, 0);
    t = x_next(&x);
    assert_int_equal(t.opt.sack_count, 2);
    assert_int_equal(t.opt.sack[0].left, c->peer + 200);
    assert_int_equal(t.opt.sack[0].right, c->peer + 300);
    assert_int_equal(t.opt.sack[1].left, c->peer + 200);
    h_free(&c->h);
}

/* RFC 7323 §5.3 R1 (PAWS): a segment whose TSval is older than TS.Recent is
 * an old duplicate: not delivered, answered with an ACK, counted. */
static void test_rfc7323_5_3_paws_drops_old_duplicate(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1460, .ts = true, .wscale = -1});
    struct conn *c = &x.c;
    uint8_t d[10] = "0123456789";
    x.tsval = 6000;
    x_send(&x, A_, c->peer, c->ours, d, 10, NULL, 0);
    h_advance(&c->h, SYNACK_MS(50));
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.ack, c->peer + 10);
    assert_int_equal(t.opt.ts_ecr, 6000); /* TS.Recent follows (RFC 7323 §4.3) */
    /* an old duplicate of the next data, stamped before TS.Recent */
    uint64_t before = ctr(&c->h, "tcp_paws_drop");
    x.tsval = 5500;
    x_send(&x, A_, c->peer + 10, c->ours, "old", 3, NULL, 0);
    t = x_next(&x);
    assert_int_equal(t.ack, c->peer + 10);
    assert_int_equal(ctr(&c->h, "tcp_paws_drop"), before + 1);
    assert_int_equal(info_of(&c->h, c->s).unread, 10);
    /* the same bytes with a fresh TSval are taken */
    x.tsval = 6001;
    x_send(&x, A_, c->peer + 10, c->ours, "new", 3, NULL, 0);
    assert_int_equal(info_of(&c->h, c->s).unread, 13);
    h_free(&c->h);
}

/* RFC 7323 §3.2: timestamps go on every segment once agreed, echoing
 * TS.Recent; the MSS drops by the option's 12 bytes (RFC 6691). */
static void test_rfc7323_3_2_timestamps_on_every_segment(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .ts = true, .wscale = -1});
    struct conn *c = &x.c;
    static uint8_t d[2000];
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), 2000);
    struct wire_tcp t = x_next(&x);
    assert_true(t.opt.has_ts);
    assert_int_equal(t.opt.ts_ecr, 5000);
    assert_int_equal(t.payload_len, 988);
    assert_int_equal(info_of(&c->h, c->s).mss, 988);
    h_free(&c->h);
}

/* Linux's quick-ACK mode: the first data of a connection is acknowledged
 * at once, segment by segment, for min(16, window / (2 * MSS)) ACKs, so
 * the sender's slow start is not slowed by delayed ACKs. Then RFC 5681
 * §4.2 / RFC 1122 §4.2.3.2: an ACK at least every second full-sized
 * segment, and a single one waits for the delayed-ACK timer (40 ms). */
static void test_rfc5681_4_2_quickack_then_every_second_segment(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    static uint8_t d[1000];
    uint32_t seq = c->peer;
    for (int i = 0; i < 16; i++, seq += 1000) {
        x_send(&x, A_, seq, c->ours, d, 1000, NULL, 0);
        expect_seg(&c->h, A_, c->ours, seq + 1000);
    }
    x_send(&x, A_, seq, c->ours, d, 1000, NULL, 0);
    expect_none(&c->h);
    seq += 1000;
    x_send(&x, A_, seq, c->ours, d, 1000, NULL, 0);
    seq += 1000;
    expect_seg(&c->h, A_, c->ours, seq);
    x_send(&x, A_, seq, c->ours, d, 1000, NULL, 0);
    seq += 1000;
    expect_none(&c->h);
    h_advance(&c->h, SYNACK_MS(39));
    expect_none(&c->h);
    h_advance(&c->h, SYNACK_MS(1));
    expect_seg(&c->h, A_, c->ours, seq);
    h_free(&c->h);
}

/* Linux's pingpong mode: when the application answers within the
 * delayed-ACK time, the ACK rides on the answer instead of going alone. */
static void test_linux_pingpong_ack_rides_on_reply(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    x_send(&x, A_ | WIRE_TCP_PSH, c->peer, c->ours, "ping", 4, NULL, 0);
    expect_seg(&c->h, A_, c->ours, c->peer + 4); /* quick-ACK mode */
    assert_int_equal(synack_send(c->h.s, c->s, "pong", 4), 4);
    expect_seg(&c->h, A_ | WIRE_TCP_PSH, c->ours, c->peer + 4);
    /* now interactive: the next request's ACK waits for the reply */
    x_send(&x, A_ | WIRE_TCP_PSH, c->peer + 4, c->ours + 4, "ping", 4, NULL, 0);
    expect_none(&c->h);
    h_advance(&c->h, SYNACK_MS(10));
    assert_int_equal(synack_send(c->h.s, c->s, "pong", 4), 4);
    expect_seg(&c->h, A_ | WIRE_TCP_PSH, c->ours + 4, c->peer + 8);
    expect_none(&c->h);
    h_free(&c->h);
}

/* RFC 9293 §3.8.6.2.2 (receiver SWS avoidance): as the application reads a
 * full buffer a little at a time, the window stays shut until it can open
 * by min(buffer / 2, MSS). */
static void test_rfc9293_3_8_6_2_2_receiver_sws_avoidance(void **state)
{
    (void)state;
    synack_config cfg = {.rcvbuf = 4096};
    struct xconn x;
    x_open(&x, &cfg, &(struct xopen){.mss = 1024, .wscale = -1});
    struct conn *c = &x.c;
    static uint8_t d[1024];
    uint32_t seq = c->peer;
    for (int i = 0; i < 4; i++, seq += 1024)
        x_send(&x, A_, seq, c->ours, d, 1024, NULL, 0);
    h_advance(&c->h, SYNACK_MS(50));
    struct wire_tcp t;
    uint16_t last = 1;
    while (h_next(&c->h, &t))
        last = t.wnd;
    assert_int_equal(last, 0);
    /* reading 100 bytes must not advertise a 100-byte window */
    uint8_t b[100];
    assert_int_equal(synack_recv(c->h.s, c->s, b, 100), 100);
    x_send(&x, A_, seq, c->ours, NULL, 0, NULL, 0); /* a probe-like ACK draws no window */
    while (h_next(&c->h, &t))
        assert_int_equal(t.wnd, 0);
    static uint8_t big[2048];
    assert_int_equal(synack_recv(c->h.s, c->s, big, sizeof big), 2048);
    /* now min(4096/2, 1024) can be offered: the read sends a window update */
    bool opened = false;
    while (h_next(&c->h, &t))
        opened |= t.wnd >= 1024;
    assert_true(opened);
    h_free(&c->h);
}

/* The first read of a connection whose window is still the SYN's (at most
 * 64 KiB unscaled, under a larger buffer) draws no window update: the
 * read freed almost nothing (Linux tcp_cleanup_rbuf, whose window is held
 * by rcv_ssthresh), and the ACK the data owes waits for the reply the
 * application sends in the same turn, which carries it. */
static void test_first_read_under_the_syn_window_sends_no_update(void **state)
{
    (void)state;
    synack_config cfg = {.rcvbuf = 1 << 20};
    struct xconn x;
    x_open(&x, &cfg, &(struct xopen){.mss = 1000, .wscale = 7});
    struct conn *c = &x.c;
    struct wire_tcp_opts o;
    x_opts(&x, &o);
    uint8_t f[256];
    size_t n = h_build(&(struct h_seg){.flags = A_ | WIRE_TCP_PSH, .seq = c->peer, .ack = c->ours,
                                       .data = "hello", .len = 5, .wnd = x.wnd, .opts = &o},
                       f, sizeof f);
    synack_input(c->h.s, c->h.ifx, f, n); /* in, no poll yet */
    uint8_t b[16];
    assert_int_equal(synack_recv(c->h.s, c->s, b, sizeof b), 5);
    expect_none(&c->h);
    assert_int_equal(synack_send(c->h.s, c->s, "world", 5), 5);
    struct wire_tcp t = expect_seg(&c->h, A_ | WIRE_TCP_PSH, c->ours, c->peer + 5);
    assert_int_equal(t.payload_len, 5);
    synack_poll(c->h.s);
    expect_none(&c->h); /* the reply carried the ACK: nothing is owed */
    h_free(&c->h);
}

/* RFC 1122 §4.2.3.2: the delayed-ACK time is the stack's ack_delay (Linux's
 * 40 ms when 0), and it must be under 500 ms. */
static synack_time delayed_ack_after(synack_time ack_delay)
{
    synack_config cfg = {.ack_delay = ack_delay};
    struct xconn x;
    x_open(&x, &cfg, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_QUICKACK, 0), 0);
    synack_time t0 = c->h.clock.now;
    x_send(&x, A_, c->peer, c->ours, "hello", 5, NULL, 0);
    expect_none(&c->h);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(1)));
    expect_seg(&c->h, A_, c->ours, c->peer + 5);
    synack_time waited = c->h.clock.now - t0;
    h_free(&c->h);
    return waited;
}

static void test_rfc1122_4_2_3_2_ack_delay_is_configurable(void **state)
{
    (void)state;
    synack_time d40 = delayed_ack_after(0), d5 = delayed_ack_after(SYNACK_MS(5));
    assert_true(d40 >= SYNACK_MS(40) && d40 <= SYNACK_MS(42));
    assert_true(d5 >= SYNACK_MS(5) && d5 <= SYNACK_MS(7)); /* 1 ms timer ticks */
    synack_vclock clk = {0};
    synack_config bad = {.clock = synack_vclock_read, .clock_ctx = &clk, .ack_delay = SYNACK_MS(500)};
    assert_null(synack_stack_new(&bad));
    bad.ack_delay = SYNACK_MS(499);
    synack_stack *s = synack_stack_new(&bad);
    assert_non_null(s);
    synack_stack_free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_read_under_the_syn_window_sends_no_update),
        cmocka_unit_test(test_rfc1122_4_2_3_2_ack_delay_is_configurable),
        cmocka_unit_test(test_rfc9293_3_10_7_4_out_of_order_held_and_joined),
        cmocka_unit_test(test_rfc9293_3_10_7_4_out_of_order_fin),
        cmocka_unit_test(test_rfc9293_3_10_7_4_nothing_after_the_fin),
        cmocka_unit_test(test_rfc2018_4_sack_blocks_newest_first),
        cmocka_unit_test(test_rfc2018_3_no_sack_unless_permitted),
        cmocka_unit_test(test_rfc2883_4_dsack_reports_duplicate),
        cmocka_unit_test(test_rfc7323_5_3_paws_drops_old_duplicate),
        cmocka_unit_test(test_rfc7323_3_2_timestamps_on_every_segment),
        cmocka_unit_test(test_rfc5681_4_2_quickack_then_every_second_segment),
        cmocka_unit_test(test_linux_pingpong_ack_rides_on_reply),
        cmocka_unit_test(test_rfc9293_3_8_6_2_2_receiver_sws_avoidance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
