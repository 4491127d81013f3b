/* LISTEN (RFC 9293 §3.10.7.2), segments to a closed port (§3.10.7.1), the
 * SYN and accept queues, and SYN_RECEIVED of a passive open. */
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
#define F_ WIRE_TCP_FIN

static synack_sock listener(struct harness *h, int backlog)
{
    synack_sock l = synack_socket(h->s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h->s, l, &e), 0);
    assert_int_equal(synack_listen(h->s, l, backlog), 0);
    return l;
}

/* RFC 9293 §3.10.7.2 second: any ACK to a listener draws <SEQ=SEG.ACK><CTL=RST>. */
static void test_rfc9293_3_10_7_2_listen_ack_draws_rst_seq_seg_ack(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 4);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 100, .ack = 0xdeadbeef});
    struct wire_tcp t = expect_seg(&h, R_, 0xdeadbeef, 0);
    assert_int_equal(t.sport, H_LPORT);
    assert_int_equal(t.dport, H_RPORT);
    expect_none(&h);
    /* also with data, and a SYN-ACK */
    h_inject(&h, &(struct h_seg){.flags = A_ | WIRE_TCP_PSH, .seq = 100, .ack = 42, .data = "abc", .len = 3});
    expect_seg(&h, R_, 42, 0);
    h_inject(&h, &(struct h_seg){.flags = S_ | A_, .seq = 100, .ack = 7});
    expect_seg(&h, R_, 7, 0);
    expect_none(&h);
    assert_int_equal(ctr(&h, "tcp_drop_listen"), 3);
    assert_int_equal(state_of(&h, l), SYNACK_LISTEN);
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    h_free(&h);
}

/* RFC 9293 §3.10.7.2 first: an RST to a listener is ignored. */
static void test_rfc9293_3_10_7_2_listen_rst_ignored(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 4);
    h_inject(&h, &(struct h_seg){.flags = R_, .seq = 100});
    h_inject(&h, &(struct h_seg){.flags = R_ | A_, .seq = 100, .ack = 5});
    expect_none(&h);
    assert_int_equal(ctr(&h, "tcp_drop_listen"), 2);
    assert_int_equal(ctr(&h, "tcp_rst_out"), 0);
    assert_int_equal(state_of(&h, l), SYNACK_LISTEN);
    h_free(&h);
}

/* RFC 9293 §3.10.7.2 (RST checked first) and Linux: SYN+RST and SYN+FIN
 * open nothing and draw nothing. */
static void test_rfc9293_3_10_7_2_listen_syn_rst_and_syn_fin_dropped(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 4);
    h_inject(&h, &(struct h_seg){.flags = S_ | R_, .seq = 100});
    expect_none(&h);
    h_inject(&h, &(struct h_seg){.flags = S_ | F_, .seq = 200});
    expect_none(&h);
    assert_int_equal(ctr(&h, "tcp_drop_listen"), 2);
    assert_int_equal(ctr(&h, "tcp_passive_opens"), 0);
    /* no embryonic connection was made: an ACK for it meets the listener */
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 201, .ack = 99});
    expect_seg(&h, R_, 99, 0);
    /* and a bare FIN or a segment with no flags is dropped silently */
    h_inject(&h, &(struct h_seg){.flags = F_, .seq = 300});
    h_inject(&h, &(struct h_seg){.flags = 0, .seq = 300, .data = "x", .len = 1});
    expect_none(&h);
    assert_int_equal(state_of(&h, l), SYNACK_LISTEN);
    h_free(&h);
}

/* RFC 9293 §3.10.7.1: to a closed port, a segment with ACK draws
 * <SEQ=SEG.ACK><CTL=RST>; without ACK, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>;
 * an RST draws nothing. */
static void test_rfc9293_3_10_7_1_closed_port_rst_rules(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1000, .ack = 5555});
    expect_seg(&h, R_, 5555, 0);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000});
    expect_seg(&h, R_ | A_, 0, 1001);
    h_inject(&h, &(struct h_seg){.flags = 0, .seq = 1000, .data = "hello", .len = 5});
    expect_seg(&h, R_ | A_, 0, 1005);
    h_inject(&h, &(struct h_seg){.flags = F_, .seq = 1000, .data = "hello", .len = 5});
    expect_seg(&h, R_ | A_, 0, 1006);
    h_inject(&h, &(struct h_seg){.flags = S_ | F_, .seq = 1000});
    expect_seg(&h, R_ | A_, 0, 1002);
    h_inject(&h, &(struct h_seg){.flags = R_, .seq = 1000});
    h_inject(&h, &(struct h_seg){.flags = R_ | A_, .seq = 1000, .ack = 9});
    expect_none(&h);
    assert_int_equal(ctr(&h, "tcp_drop_noport"), 7);
    assert_int_equal(ctr(&h, "tcp_rst_out"), 5);
    h_free(&h);
}

/* The listen backlog bounds the SYN queue (Linux): a SYN beyond it makes no
 * child; it is answered statelessly with a SYN cookie (RFC 4987 §3.6, Linux
 * tcp_syncookies=1; the cookie rules are in tests/unit/tcp/test_syncookie.c). */
static void test_listen_backlog_limits_syn_queue(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    listener(&h, 2);
    for (int i = 0; i < 3; i++)
        h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000u * (unsigned)i, .sport = (uint16_t)(40000 + i)});
    expect_flags(&h, S_ | A_, 1);
    expect_flags(&h, S_ | A_, 1001);
    expect_flags(&h, S_ | A_, 2001); /* the cookie */
    expect_none(&h);
    assert_int_equal(ctr(&h, "tcp_syncookies_sent"), 1);
    assert_int_equal(ctr(&h, "tcp_drop_backlog"), 0);
    assert_int_equal(ctr(&h, "tcp_passive_opens"), 2);
    h_free(&h);
}

/* The listen backlog bounds the accept queue: with it full of established
 * connections nobody accepted, a new SYN is dropped; after one accept() a
 * SYN is answered again. */
static void test_listen_backlog_limits_accept_queue(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 2);
    for (int i = 0; i < 2; i++) {
        uint16_t port = (uint16_t)(40000 + i);
        h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .sport = port});
        uint32_t iss = expect_flags(&h, S_ | A_, 1001).seq;
        h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = iss + 1, .sport = port});
        expect_none(&h);
    }
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .sport = 40002});
    expect_none(&h);
    assert_int_equal(ctr(&h, "tcp_drop_backlog"), 1);
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    assert_int_equal(state_of(&h, c), SYNACK_ESTABLISHED);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000, .sport = 40002});
    expect_flags(&h, S_ | A_, 1001);
    assert_int_equal(ctr(&h, "tcp_drop_backlog"), 1);
    h_free(&h);
}

/* Linux tcp_check_req (RFC 9293 §3.10.7.4 leaves it open): a retransmitted
 * SYN in SYN_RECEIVED draws the same SYN-ACK again, and nothing changes. */
static void test_rfc9293_syn_received_retransmitted_syn_redraws_synack(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 4);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 500});
    uint32_t iss = expect_flags(&h, S_ | A_, 501).seq;
    h_advance(&h, SYNACK_MS(300));
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 500});
    expect_seg(&h, S_ | A_, iss, 501);
    expect_none(&h);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 501, .ack = iss + 1});
    expect_none(&h);
    synack_sock c = synack_accept(h.s, l, NULL);
    assert_true(c >= 0);
    assert_int_equal(info_of(&h, c).iss, iss);
    assert_int_equal(ctr(&h, "tcp_passive_opens"), 1);
    h_free(&h);
}

/* RFC 9293 §3.10.7.4 second, SYN-RECEIVED: an RST (at RCV.NXT) on a
 * passively opened connection returns it to LISTEN: the embryonic
 * connection goes, and so does its place in the SYN queue. */
static void test_rfc9293_3_10_7_4_syn_received_rst_removes_embryonic(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 1);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 500});
    uint32_t iss = expect_flags(&h, S_ | A_, 501).seq;
    h_inject(&h, &(struct h_seg){.flags = R_, .seq = 501});
    expect_none(&h);
    assert_true(h_logged(&h, "SYN_RECEIVED -> CLOSED"));
    /* the ACK that would have completed it now meets the listener */
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 501, .ack = iss + 1});
    expect_seg(&h, R_, iss + 1, 0);
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    assert_int_equal(state_of(&h, l), SYNACK_LISTEN);
    /* the SYN queue (backlog 1) has room again */
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 9000});
    expect_flags(&h, S_ | A_, 9001);
    assert_int_equal(ctr(&h, "tcp_drop_backlog"), 0);
    /* no retransmission of the first SYN-ACK follows */
    h_advance(&h, SYNACK_MS(1100));
    struct wire_tcp t;
    while (h_next(&h, &t))
        assert_int_equal(t.ack, 9001);
    h_free(&h);
}

/* RFC 9293 §3.10.7.4 fifth, SYN-RECEIVED: an ACK that does not acknowledge
 * our SYN draws <SEQ=SEG.ACK><CTL=RST> and the connection stays. */
static void test_rfc9293_3_10_7_4_syn_received_bad_ack_draws_rst(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 4);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 500});
    uint32_t iss = expect_flags(&h, S_ | A_, 501).seq;
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 501, .ack = iss + 10});
    expect_seg(&h, R_, iss + 10, 0);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 501, .ack = iss});
    expect_seg(&h, R_, iss, 0);
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 501, .ack = iss + 1});
    assert_true(synack_accept(h.s, l, NULL) >= 0);
    h_free(&h);
}

/* Closing a listener takes its SYN queue with it, as Linux
 * (inet_csk_listen_stop; a request sock whose listener is gone is dropped and
 * the peer's next segment draws a RST): a child still in SYN_RECEIVED is
 * reset, never left to complete the handshake as an ESTABLISHED orphan that
 * nobody can accept, which the peer would wait on forever (found by
 * `synack sim --seed 170 --stacks 3 --time 30`). */
static void test_listener_close_resets_its_syn_queue(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = listener(&h, 4);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 1000});
    uint32_t iss = expect_flags(&h, S_ | A_, 1001).seq;
    assert_int_equal(synack_close(h.s, l), 0);
    synack_poll(h.s);
    struct wire_tcp rst;
    assert_true(h_next(&h, &rst));
    assert_true(rst.flags & R_);
    assert_int_equal(rst.seq, iss + 1);
    /* the handshake's ACK finds nothing: a RST again, no connection */
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 1001, .ack = iss + 1});
    assert_true(h_next(&h, &rst));
    assert_true(rst.flags & R_);
    synack_stack_usage u;
    synack_stack_usage_get(h.s, &u);
    assert_int_equal(u.socks, 0);
    assert_int_equal(u.conns, 0);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9293_3_10_7_2_listen_ack_draws_rst_seq_seg_ack),
        cmocka_unit_test(test_rfc9293_3_10_7_2_listen_rst_ignored),
        cmocka_unit_test(test_rfc9293_3_10_7_2_listen_syn_rst_and_syn_fin_dropped),
        cmocka_unit_test(test_rfc9293_3_10_7_1_closed_port_rst_rules),
        cmocka_unit_test(test_listen_backlog_limits_syn_queue),
        cmocka_unit_test(test_listen_backlog_limits_accept_queue),
        cmocka_unit_test(test_rfc9293_syn_received_retransmitted_syn_redraws_synack),
        cmocka_unit_test(test_rfc9293_3_10_7_4_syn_received_rst_removes_embryonic),
        cmocka_unit_test(test_rfc9293_3_10_7_4_syn_received_bad_ack_draws_rst),
        cmocka_unit_test(test_listener_close_resets_its_syn_queue),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
