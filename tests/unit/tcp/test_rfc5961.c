/* RFC 5961: blind RST (§3), SYN (§4) and data (§5) injection defences, and
 * the rate limit on challenge ACKs (§7), on an established connection. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "tcp_util.h"
#include "wire/tcp.h"

#define S_ WIRE_TCP_SYN
#define A_ WIRE_TCP_ACK
#define R_ WIRE_TCP_RST

#define PEER_ISN 1000u
#define WND 65535u /* the stack's window: no window scale was negotiated */

static void inject_at(struct conn *c, uint16_t flags, uint32_t seq, uint32_t ack, const void *d, size_t n)
{
    h_inject(&c->h, &(struct h_seg){.flags = flags, .seq = seq, .ack = ack, .data = d, .len = n});
}

/* RFC 5961 §3.2: an RST whose sequence number is exactly RCV.NXT resets
 * the connection (ECONNRESET), with no reply. */
static void test_rfc5961_3_rst_at_rcv_nxt_resets(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    assert_int_equal(info_of(&c.h, c.s).rcv_wnd, WND);
    inject_at(&c, R_, c.peer, 0, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    assert_true(synack_events(c.h.s, c.s) & SYNACK_EV_ERR);
    char b[4];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), -ECONNRESET);
    assert_int_equal(ctr(&c.h, "tcp_rst_in"), 1);
    assert_int_equal(ctr(&c.h, "tcp_estab_resets"), 1);
    assert_true(h_logged(&c.h, "ESTABLISHED -> CLOSED (rcv RST)"));
    h_free(&c.h);
}

/* RFC 5961 §3.2: an RST inside the window but not at RCV.NXT draws a
 * challenge ACK <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK> and does not reset. */
static void test_rfc5961_3_rst_in_window_draws_challenge_ack(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    const uint32_t seqs[] = {c.peer + 1, c.peer + 1000, c.peer + WND - 1};
    for (int i = 0; i < 3; i++) {
        inject_at(&c, i == 1 ? (R_ | A_) : R_, seqs[i], c.ours, NULL, 0);
        expect_seg(&c.h, A_, c.ours, c.peer);
        expect_none(&c.h);
        assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    }
    assert_int_equal(ctr(&c.h, "tcp_drop_rst_window"), 3);
    assert_int_equal(ctr(&c.h, "tcp_challenge_ack"), 3);
    assert_int_equal(ctr(&c.h, "tcp_rst_in"), 0);
    assert_int_equal(synack_sock_error(c.h.s, c.s), 0);
    /* the peer answering the challenge with an exact RST does reset */
    inject_at(&c, R_, c.peer, 0, NULL, 0);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    h_free(&c.h);
}

/* RFC 5961 §3.2 (and RFC 9293 §3.10.7.4 first): an RST outside the window
 * is dropped silently. */
static void test_rfc5961_3_rst_outside_window_dropped_silently(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    const uint32_t seqs[] = {c.peer - 1, c.peer + WND, c.peer + 0x40000000u, c.peer - 0x40000000u};
    for (int i = 0; i < 4; i++) {
        inject_at(&c, R_, seqs[i], 0, NULL, 0);
        expect_none(&c.h);
        assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    }
    assert_int_equal(ctr(&c.h, "tcp_drop_unacceptable"), 4);
    assert_int_equal(ctr(&c.h, "tcp_challenge_ack"), 0);
    assert_int_equal(ctr(&c.h, "tcp_rst_in"), 0);
    h_free(&c.h);
}

/* RFC 5961 §4.2: a SYN in a synchronized state, in the window or not,
 * draws a challenge ACK and never resets the connection. */
static void test_rfc5961_4_syn_in_established_draws_challenge_ack(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    const uint32_t seqs[] = {c.peer, c.peer + 10, c.peer + WND + 10, c.peer - 500, PEER_ISN};
    for (int i = 0; i < 5; i++) {
        inject_at(&c, i == 4 ? (S_ | A_) : S_, seqs[i], c.ours, NULL, 0);
        expect_seg(&c.h, A_, c.ours, c.peer);
        expect_none(&c.h);
        assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    }
    assert_int_equal(ctr(&c.h, "tcp_drop_syn_sync"), 5);
    assert_int_equal(ctr(&c.h, "tcp_challenge_ack"), 5);
    assert_int_equal(ctr(&c.h, "tcp_rst_out"), 0);
    assert_int_equal(info_of(&c.h, c.s).rcv_nxt, c.peer);
    /* the connection still works */
    inject_at(&c, A_, c.peer, c.ours, "ok", 2);
    char b[4];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 2);
    h_free(&c.h);
}

/* RFC 5961 §5.2: SND.UNA - MAX.SND.WND <= SEG.ACK <= SND.NXT, else the
 * segment is discarded (its data too) and an ACK sent. Above SND.NXT: */
static void test_rfc5961_5_ack_above_snd_nxt_draws_ack_and_drops(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    inject_at(&c, A_, c.peer, c.ours + 1, "evil", 4);
    expect_seg(&c.h, A_, c.ours, c.peer);
    expect_none(&c.h);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer);
    assert_int_equal(i.unread, 0);
    assert_int_equal(i.snd_una, c.ours);
    assert_int_equal(ctr(&c.h, "tcp_drop_badack"), 1);
    /* also with data of our own in flight: an ACK beyond it */
    assert_int_equal(synack_send(c.h.s, c.s, "abc", 3), 3);
    expect_seg(&c.h, A_ | WIRE_TCP_PSH, c.ours, c.peer);
    inject_at(&c, A_, c.peer, c.ours + 4, "evil", 4);
    expect_seg(&c.h, A_, c.ours + 3, c.peer);
    i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, 0);
    assert_int_equal(i.snd_una, c.ours);
    /* the right ACK is taken */
    inject_at(&c, A_, c.peer, c.ours + 3, "good", 4);
    i = info_of(&c.h, c.s);
    assert_int_equal(i.unread, 4);
    assert_int_equal(i.snd_una, c.ours + 3);
    h_free(&c.h);
}

/* RFC 5961 §5.2, the lower edge: an ACK below SND.UNA - MAX.SND.WND is
 * discarded with an ACK; one at the edge is an old duplicate, and its data
 * is accepted. */
static void test_rfc5961_5_ack_below_snd_una_minus_max_wnd_draws_ack_and_drops(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    assert_int_equal(info_of(&c.h, c.s).snd_wnd, 65535);
    inject_at(&c, A_, c.peer, c.ours - 65535 - 1, "evil", 4);
    expect_seg(&c.h, A_, c.ours, c.peer);
    expect_none(&c.h);
    synack_tcp_info i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer);
    assert_int_equal(i.unread, 0);
    assert_int_equal(ctr(&c.h, "tcp_drop_badack"), 1);
    inject_at(&c, A_, c.peer, c.ours - 65535, "good", 4);
    i = info_of(&c.h, c.s);
    assert_int_equal(i.rcv_nxt, c.peer + 4);
    assert_int_equal(i.unread, 4);
    assert_int_equal(i.snd_una, c.ours);
    assert_int_equal(ctr(&c.h, "tcp_drop_badack"), 1);
    h_free(&c.h);
}

/* RFC 5961 §7: challenge ACKs are rate limited (challenge_ack_limit per
 * second, stack-wide as in Linux): with a limit of 5 the sixth within a
 * second is suppressed and counted; a second later they flow again. */
static void test_rfc5961_7_challenge_acks_rate_limited(void **state)
{
    (void)state;
    synack_config cfg = {.challenge_ack_limit = 5};
    struct conn c;
    conn_open(&c, &cfg, PEER_ISN);
    for (int i = 0; i < 5; i++) {
        inject_at(&c, R_, c.peer + 1 + (uint32_t)i, 0, NULL, 0);
        expect_seg(&c.h, A_, c.ours, c.peer);
        h_advance(&c.h, SYNACK_MS(10));
    }
    inject_at(&c, R_, c.peer + 100, 0, NULL, 0);
    expect_none(&c.h);
    /* SYNs share the same budget */
    inject_at(&c, S_, c.peer + 100, 0, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(ctr(&c.h, "tcp_challenge_ack"), 5);
    assert_int_equal(ctr(&c.h, "tcp_challenge_ack_limited"), 2);
    /* still inside the second that began with the first challenge */
    h_advance(&c.h, SYNACK_MS(940));
    inject_at(&c, R_, c.peer + 100, 0, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(ctr(&c.h, "tcp_challenge_ack_limited"), 3);
    /* a new second */
    h_advance(&c.h, SYNACK_MS(20));
    inject_at(&c, R_, c.peer + 100, 0, NULL, 0);
    expect_seg(&c.h, A_, c.ours, c.peer);
    assert_int_equal(ctr(&c.h, "tcp_challenge_ack"), 6);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_ESTABLISHED);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc5961_3_rst_at_rcv_nxt_resets),
        cmocka_unit_test(test_rfc5961_3_rst_in_window_draws_challenge_ack),
        cmocka_unit_test(test_rfc5961_3_rst_outside_window_dropped_silently),
        cmocka_unit_test(test_rfc5961_4_syn_in_established_draws_challenge_ack),
        cmocka_unit_test(test_rfc5961_5_ack_above_snd_nxt_draws_ack_and_drops),
        cmocka_unit_test(test_rfc5961_5_ack_below_snd_una_minus_max_wnd_draws_ack_and_drops),
        cmocka_unit_test(test_rfc5961_7_challenge_acks_rate_limited),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
