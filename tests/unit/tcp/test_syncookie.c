/* SYN cookies (RFC 4987 §3.6, as Linux does them; src/tcp/syncookie.c),
 * rule by rule: when they are sent, what a good cookie gives back (MSS
 * index, and window scale and SACK through the timestamp), what makes a
 * cookie bad (any bit of the ACK or the peer's ISN changed, another 4-tuple,
 * older than the 2-minute counter window), and what the stack does then. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stack/stack.h"
#include "tcp/syncookie.h"
#include "wire/bytes.h"
#include "tcp_util.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK
#define R_ WIRE_TCP_RST

static synack_sock listener(struct harness *h, int backlog)
{
    synack_sock l = synack_socket(h->s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h->s, l, &e), 0);
    assert_int_equal(synack_listen(h->s, l, backlog), 0);
    return l;
}

/* Listener with backlog 1 whose SYN queue is already full (one half-open
 * connection from port 39999). */
static synack_sock full_listener(struct harness *h)
{
    synack_sock l = listener(h, 1);
    h_inject(h, &(struct h_seg){.flags = S_, .seq = 7, .sport = 39999});
    expect_flags(h, S_ | A_, 8);
    return l;
}

/* A SYN from port 40000 with these options; returns the cookie SYN-ACK. */
static struct wire_tcp cookie_synack(struct harness *h, uint32_t isn, const struct wire_tcp_opts *o)
{
    h_inject(h, &(struct h_seg){.flags = S_, .seq = isn, .opts = o});
    return expect_flags(h, S_ | A_, isn + 1);
}

static void rfc4987_cookie_sent_only_when_syn_queue_full(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    full_listener(&h);
    uint64_t opens = ctr(&h, "tcp_passive_opens");
    struct wire_tcp t = cookie_synack(&h, 1000, NULL);
    assert_int_equal(ctr(&h, "tcp_syncookies_sent"), 1);
    assert_int_equal(ctr(&h, "tcp_passive_opens"), opens); /* no child, no state */
    /* the ISN is the cookie of this 4-tuple, ISN and MSS (536 without option) */
    struct tcp_tuple tu = {.family = SYNACK_AF_INET, .lport = H_LPORT, .rport = H_RPORT};
    wire_put32(tu.laddr, H_LOCAL);
    wire_put32(tu.raddr, H_REMOTE);
    assert_int_equal(t.seq, tcp_syncookie_make(&h.s->tcp, &tu, 1000, 536));
    /* the cookie SYN-ACK is not retransmitted: nothing is kept to do it */
    h_advance(&h, SYNACK_SEC(1) + 1);
    struct wire_tcp r;
    while (h_next(&h, &r))
        assert_int_not_equal(r.ack, 1001);
    h_free(&h);
}

static void rfc4987_good_cookie_ack_makes_connection_with_table_mss(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = full_listener(&h);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1400};
    struct wire_tcp t = cookie_synack(&h, 1000, &o);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1, .data = "hello", .len = 5});
    assert_int_equal(ctr(&h, "tcp_syncookies_recv"), 1);
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    synack_tcp_info i = info_of(&h, c);
    assert_int_equal(i.state, SYNACK_ESTABLISHED);
    assert_int_equal(i.iss, t.seq);
    assert_int_equal(i.irs, 1000);
    assert_int_equal(i.mss, 1300); /* 1400 rounds down to Linux's table entry */
    assert_false(i.ts_ok);
    assert_false(i.sack_ok);
    assert_int_equal(i.snd_wscale, 0);
    assert_int_equal(i.rcv_wscale, 0);
    char buf[8];
    assert_int_equal(synack_recv(h.s, c, buf, sizeof buf), 5); /* data on the ACK is kept */
    assert_memory_equal(buf, "hello", 5);
    assert_true(h_logged(&h, "LISTEN -> SYN_RECEIVED (rcv ACK of SYN cookie)"));
    h_free(&h);
}

static void rfc4987_any_changed_bit_fails_and_draws_rst(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    full_listener(&h);
    struct wire_tcp t = cookie_synack(&h, 1000, NULL);
    /* (the lowest two bits are the MSS index: flipped, they give another
     * valid MSS, as in Linux, so they are left alone) */
    uint32_t bits[] = {2, 5, 23, 24, 31};
    for (size_t i = 0; i < sizeof bits / sizeof bits[0]; i++) {
        uint32_t ack = (t.seq + 1) ^ (1u << bits[i]);
        h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = ack});
        expect_seg(&h, R_, ack, 0); /* RFC 9293 §3.10.7.2: <SEQ=SEG.ACK><CTL=RST> */
    }
    /* the right cookie for another ISN (the peer's sequence number is in it) */
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1002, .ack = t.seq + 1});
    expect_seg(&h, R_, t.seq + 1, 0);
    /* and from another port (the 4-tuple is in it) */
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1, .sport = 40001});
    expect_seg(&h, R_, t.seq + 1, 0);
    assert_int_equal(ctr(&h, "tcp_syncookies_failed"), 7);
    assert_int_equal(ctr(&h, "tcp_syncookies_recv"), 0);
    h_free(&h);
}

static void rfc4987_cookie_good_for_two_minute_counter_window_only(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    /* start just past a counter step */
    h.clock.now = (h.clock.now / TCP_SYNCOOKIE_PERIOD + 1) * TCP_SYNCOOKIE_PERIOD + SYNACK_SEC(1);
    full_listener(&h);
    struct wire_tcp t = cookie_synack(&h, 1000, NULL);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 5000, .sport = 40001});
    struct wire_tcp t2 = expect_flags(&h, S_ | A_, 5001);
    /* 119 s later (the next counter step): still good */
    h_advance(&h, SYNACK_SEC(59));
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 9, .sport = 50000}); /* keeps cookies on */
    h_drain(&h);
    h_advance(&h, SYNACK_SEC(59));
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 5001, .ack = t2.seq + 1, .sport = 40001});
    assert_int_equal(ctr(&h, "tcp_syncookies_recv"), 1);
    /* 119 s after it was made, two counter steps later: bad */
    h_advance(&h, SYNACK_SEC(1));
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1, .sport = H_RPORT});
    assert_int_equal(ctr(&h, "tcp_syncookies_failed"), 1);
    h_free(&h);
}

static void rfc4987_no_cookie_checked_without_recent_overflow(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    full_listener(&h);
    struct wire_tcp t = cookie_synack(&h, 1000, NULL);
    /* Linux tcp_synq_no_recent_overflow: 2 minutes after the last cookie, a
     * stray ACK is just an ACK to a listener */
    h_advance(&h, SYNACK_SEC(121));
    h_drain(&h);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1});
    expect_seg(&h, R_, t.seq + 1, 0);
    assert_int_equal(ctr(&h, "tcp_syncookies_failed"), 0);
    assert_int_equal(ctr(&h, "tcp_syncookies_recv"), 0);
    h_free(&h);
}

static void linux_cookie_timestamp_carries_wscale_and_sack(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = full_listener(&h);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .has_ts = true, .ts_val = 4242, .sack_perm = true,
                              .has_wscale = true, .wscale = 7};
    struct wire_tcp t = cookie_synack(&h, 1000, &o);
    assert_true(t.opt.has_ts && t.opt.has_wscale && t.opt.sack_perm);
    assert_int_equal(t.opt.ts_ecr, 4242);
    assert_int_equal(t.opt.ts_val & 0x3f, 7 | 0x10); /* wscale 7, SACK */
    struct wire_tcp_opts a = {.has_ts = true, .ts_val = 4243, .ts_ecr = t.opt.ts_val};
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1, .opts = &a, .wnd = 100});
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    synack_tcp_info i = info_of(&h, c);
    assert_true(i.ts_ok);
    assert_true(i.sack_ok);
    assert_int_equal(i.snd_wscale, 7);
    assert_int_equal(i.rcv_wscale, t.opt.wscale);
    assert_int_equal(i.snd_wnd, 100u << 7);
    assert_int_equal(i.mss, 1460 - 12);
    /* the connection's timestamps go on from the cookie's, never back */
    assert_int_equal(synack_send(h.s, c, "x", 1), 1);
    h_advance(&h, 0);
    struct wire_tcp d;
    assert_true(h_next(&h, &d));
    assert_true(d.opt.has_ts);
    assert_true((int32_t)(d.opt.ts_val - t.opt.ts_val) >= 0);
    assert_int_equal(d.opt.ts_ecr, 4243);
    h_free(&h);
}

/* RFC 3168 §6.1.1 with cookies, as Linux (cookie_init_timestamp,
 * cookie_ecn_ok): the cookie SYN-ACK agrees with ECE like any SYN-ACK, and
 * the agreement rides in the TSval (bit 5) to come back in the ACK's
 * TSecr; without timestamps nothing brings it back, so no ECN. */
static void linux_cookie_timestamp_carries_ecn(void **state)
{
    (void)state;
    for (int ts = 0; ts < 2; ts++) {
        struct harness h;
        h_init(&h, NULL);
        synack_sock l = full_listener(&h);
        struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .has_ts = ts, .ts_val = 4242};
        h_inject(&h, &(struct h_seg){.flags = S_ | WIRE_TCP_ECE | WIRE_TCP_CWR, .seq = 1000, .opts = &o});
        struct wire_tcp t = expect_flags(&h, S_ | A_ | WIRE_TCP_ECE, 1001);
        assert_int_equal(t.ecn, WIRE_ECN_NOT_ECT);
        struct wire_tcp_opts a = {.has_ts = ts, .ts_val = 4243, .ts_ecr = t.opt.ts_val};
        if (ts)
            assert_int_equal(t.opt.ts_val & 0x20, 0x20);
        h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1, .opts = &a});
        assert_int_equal(ctr(&h, "tcp_syncookies_recv"), 1);
        synack_sock c = synack_accept(h.s, l, NULL);
        assert_true(c >= 0);
        assert_int_equal(ctr(&h, "tcp_ecn_estab"), ts ? 1 : 0);
        assert_int_equal(synack_send(h.s, c, "x", 1), 1);
        h_advance(&h, 0);
        struct wire_tcp d;
        assert_true(h_next(&h, &d));
        assert_int_equal(d.payload_len, 1);
        assert_int_equal(d.ecn, ts ? WIRE_ECN_ECT0 : WIRE_ECN_NOT_ECT);
        h_free(&h);
    }
}

static void linux_cookie_without_timestamp_offers_no_wscale_or_sack(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = full_listener(&h);
    struct wire_tcp_opts o = {.has_mss = true, .mss = 1460, .sack_perm = true, .has_wscale = true, .wscale = 7};
    struct wire_tcp t = cookie_synack(&h, 1000, &o);
    assert_false(t.opt.has_ts);
    assert_false(t.opt.has_wscale);
    assert_false(t.opt.sack_perm);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1, .wnd = 100});
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    synack_tcp_info i = info_of(&h, c);
    assert_false(i.ts_ok);
    assert_false(i.sack_ok);
    assert_int_equal(i.snd_wscale, 0);
    assert_int_equal(i.snd_wnd, 100);
    assert_int_equal(i.mss, 1460);
    h_free(&h);
}

static void linux_full_accept_queue_drops_syn_and_cookie_ack(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = full_listener(&h);
    struct wire_tcp t = cookie_synack(&h, 1000, NULL);
    /* the half-open one completes: the accept queue (backlog 1) is full */
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 7, .sport = 39999});
    struct wire_tcp s1 = expect_flags(&h, S_ | A_, 8);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 8, .ack = s1.seq + 1, .sport = 39999});
    uint64_t drops = ctr(&h, "tcp_drop_backlog");
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1});
    expect_none(&h); /* dropped, not reset: the peer will retry */
    assert_int_equal(ctr(&h, "tcp_drop_backlog"), drops + 1);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 3000, .sport = 40005});
    expect_none(&h);
    assert_int_equal(ctr(&h, "tcp_drop_backlog"), drops + 2);
    /* after accept(), the retried ACK gets in */
    synack_sock a = synack_accept(h.s, l, NULL);
    assert_true(a >= 0);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = t.seq + 1});
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc4987_cookie_sent_only_when_syn_queue_full),
        cmocka_unit_test(rfc4987_good_cookie_ack_makes_connection_with_table_mss),
        cmocka_unit_test(rfc4987_any_changed_bit_fails_and_draws_rst),
        cmocka_unit_test(rfc4987_cookie_good_for_two_minute_counter_window_only),
        cmocka_unit_test(rfc4987_no_cookie_checked_without_recent_overflow),
        cmocka_unit_test(linux_cookie_timestamp_carries_wscale_and_sack),
        cmocka_unit_test(linux_cookie_timestamp_carries_ecn),
        cmocka_unit_test(linux_cookie_without_timestamp_offers_no_wscale_or_sack),
        cmocka_unit_test(linux_full_accept_queue_drops_syn_and_cookie_ack),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
