/* Retransmission during the opening (RFC 9293 §3.8.1, RFC 6298 §5, Linux
 * tcp_syn_retries / tcp_synack_retries) and the go-back-N retransmission of
 * data from SND.UNA on RTO (RFC 6298 §5.4). */
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
#define P_ WIRE_TCP_PSH

/* RFC 6298 §5.5 (exponential backoff) with Linux's initial RTO of 1 s and
 * tcp_syn_retries 6: SYNs at 0, 1, 3, 7, 15, 31 and 63 s, all with the
 * same ISS, then ETIMEDOUT at 127 s with no RST. */
static void test_rfc6298_5_5_syn_backoff_then_connect_timeout(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_time t0 = h.clock.now;
    synack_sock c = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
    struct wire_tcp t;
    assert_true(h_next(&h, &t));
    assert_int_equal(t.flags, S_);
    uint32_t iss = t.seq;
    static const unsigned at[] = {1, 3, 7, 15, 31, 63};
    for (int i = 0; i < 6; i++) {
        assert_true(h_run_to_deadline(&h, SYNACK_SEC(200)));
        assert_int_equal(h.clock.now - t0, SYNACK_SEC(at[i]));
        assert_true(h_next(&h, &t));
        assert_int_equal(t.flags, S_);
        assert_int_equal(t.seq, iss);
        assert_true(t.opt.has_mss);
        expect_none(&h);
        assert_int_equal(state_of(&h, c), SYNACK_SYN_SENT);
    }
    assert_true(h_run_to_deadline(&h, SYNACK_SEC(200)));
    assert_int_equal(h.clock.now - t0, SYNACK_SEC(127));
    expect_none(&h); /* no seventh SYN, no RST */
    assert_int_equal(state_of(&h, c), SYNACK_CLOSED);
    assert_true(synack_events(h.s, c) & SYNACK_EV_ERR);
    assert_int_equal(synack_sock_error(h.s, c), -ETIMEDOUT);
    assert_int_equal(ctr(&h, "tcp_attempt_fails"), 1);
    assert_int_equal(ctr(&h, "tcp_retrans"), 6);
    assert_false(h_run_to_deadline(&h, SYNACK_SEC(1000)));
    h_free(&h);
}

/* synack_config.syn_retries sets the number of SYN retransmissions. */
static void test_syn_retries_configurable(void **state)
{
    (void)state;
    synack_config cfg = {.syn_retries = 2};
    struct harness h;
    h_init(&h, &cfg);
    synack_time t0 = h.clock.now;
    synack_sock c = synack_socket(h.s);
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, c, &r), -EINPROGRESS);
    int syns = 0;
    struct wire_tcp t;
    while (state_of(&h, c) == SYNACK_SYN_SENT && h_run_to_deadline(&h, SYNACK_SEC(100)))
        ;
    while (h_next(&h, &t))
        syns += t.flags == S_;
    assert_int_equal(syns, 3);
    assert_int_equal(h.clock.now - t0, SYNACK_SEC(7));
    assert_int_equal(synack_sock_error(h.s, c), -ETIMEDOUT);
    h_free(&h);
}

/* Linux tcp_synack_retries (5) with RFC 6298 backoff: SYN-ACKs at 0, 1, 3,
 * 7, 15 and 31 s, then at 63 s the embryonic connection is dropped, its
 * place in the SYN queue freed, and a late ACK meets the listener. */
static void test_rfc6298_synack_retransmission_then_embryonic_dropped(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    synack_sock l = synack_socket(h.s);
    synack_endpoint e = {.addr = synack_ipv4(H_LOCAL), .port = H_LPORT};
    assert_int_equal(synack_bind(h.s, l, &e), 0);
    assert_int_equal(synack_listen(h.s, l, 1), 0);
    synack_time t0 = h.clock.now;
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 300});
    uint32_t iss = expect_flags(&h, S_ | A_, 301).seq;
    static const unsigned at[] = {1, 3, 7, 15, 31};
    for (int i = 0; i < 5; i++) {
        assert_true(h_run_to_deadline(&h, SYNACK_SEC(200)));
        assert_int_equal(h.clock.now - t0, SYNACK_SEC(at[i]));
        expect_seg(&h, S_ | A_, iss, 301);
        expect_none(&h);
    }
    assert_true(h_run_to_deadline(&h, SYNACK_SEC(200)));
    assert_int_equal(h.clock.now - t0, SYNACK_SEC(63));
    expect_none(&h);
    assert_true(h_logged(&h, "SYN_RECEIVED -> CLOSED (retransmission timeout)"));
    h_inject(&h, &(struct h_seg){.flags = A_, .seq = 301, .ack = iss + 1});
    expect_seg(&h, R_, iss + 1, 0);
    assert_int_equal(synack_accept(h.s, l, NULL), -EAGAIN);
    h_inject(&h, &(struct h_seg){.flags = S_, .seq = 7000, .sport = H_RPORT + 1});
    expect_flags(&h, S_ | A_, 7001);
    assert_int_equal(ctr(&h, "tcp_drop_backlog"), 0);
    h_free(&h);
}

/* RFC 6298 §5.4 and §5.5: on RTO the sender retransmits the earliest
 * unacknowledged segment, and the next timeout is twice as long. RFC 5681
 * §3.1: the window after a timeout is one segment (the loss window), so the
 * rest waits for that segment's ACK, then goes in slow start. */
static void test_rfc6298_5_4_data_rto_resends_snd_una(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, 1000);
    static uint8_t data[1500];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)i;
    assert_int_equal(synack_send(c.h.s, c.s, data, sizeof data), 1500);
    /* the peer sent no MSS option: 536-byte segments (RFC 9293 §3.7.1) */
    static const uint32_t off[] = {0, 536, 1072}, len[] = {536, 536, 428};
    struct wire_tcp t;
    for (int i = 0; i < 3; i++) {
        assert_true(h_next(&c.h, &t));
        assert_int_equal(t.seq, c.ours + off[i]);
        assert_int_equal(t.payload_len, len[i]);
    }
    expect_none(&c.h);
    h_advance(&c.h, SYNACK_MS(50));
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours + 536});
    expect_none(&c.h);
    synack_time acked = c.h.clock.now;
    synack_time rto = info_of(&c.h, c.s).rto_us;
    assert_true(rto >= SYNACK_MS(200));
    uint64_t retrans = ctr(&c.h, "tcp_retrans");
    uint64_t rtos = ctr(&c.h, "tcp_rto");

    /* the timeout: exactly one segment, the one at SND.UNA */
    assert_true(h_run_to_deadline(&c.h, SYNACK_SEC(10)));
    assert_int_equal(c.h.clock.now - acked, rto);
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.seq, c.ours + off[1]);
    assert_int_equal(t.payload_len, len[1]);
    assert_memory_equal(t.payload, data + off[1], len[1]);
    expect_none(&c.h);
    assert_int_equal(ctr(&c.h, "tcp_retrans"), retrans + 1);
    assert_int_equal(ctr(&c.h, "tcp_rto"), rtos + 1);
    assert_int_equal(info_of(&c.h, c.s).snd_una, c.ours + 536);

    /* no answer: the next timeout is twice as long, same segment */
    synack_time first = c.h.clock.now;
    assert_true(h_run_to_deadline(&c.h, SYNACK_SEC(10)));
    assert_int_equal(c.h.clock.now - first, 2 * rto);
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.seq, c.ours + 536);
    expect_none(&c.h);
    /* its ACK lets the last lost segment go */
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours + 1072});
    assert_true(h_next(&c.h, &t));
    assert_int_equal(t.seq, c.ours + 1072);
    assert_int_equal(t.payload_len, 428);
    assert_memory_equal(t.payload, data + 1072, 428);
    h_drain(&c.h);
    /* an ACK of everything stops the timer */
    h_inject(&c.h, &(struct h_seg){.flags = A_, .seq = c.peer, .ack = c.ours + 1500});
    assert_false(h_run_to_deadline(&c.h, SYNACK_SEC(1000)));
    h_free(&c.h);
}

/* RFC 9293 §3.8.3 (R2) with synack_config.data_retries: after that many
 * retransmissions the connection is given up with ETIMEDOUT. */
static void test_rfc9293_3_8_3_data_retries_then_etimedout(void **state)
{
    (void)state;
    synack_config cfg = {.data_retries = 3};
    struct conn c;
    conn_open(&c, &cfg, 1000);
    assert_int_equal(synack_send(c.h.s, c.s, "abc", 3), 3);
    int sent = 0;
    while (state_of(&c.h, c.s) == SYNACK_ESTABLISHED && h_run_to_deadline(&c.h, SYNACK_SEC(1000)))
        ;
    struct wire_tcp t;
    while (h_next(&c.h, &t)) {
        assert_int_equal(t.seq, c.ours);
        assert_int_equal(t.payload_len, 3);
        sent++;
    }
    assert_int_equal(sent, 4);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(c.h.s, c.s), -ETIMEDOUT);
    assert_int_equal(ctr(&c.h, "tcp_timeouts"), 1);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6298_5_5_syn_backoff_then_connect_timeout),
        cmocka_unit_test(test_syn_retries_configurable),
        cmocka_unit_test(test_rfc6298_synack_retransmission_then_embryonic_dropped),
        cmocka_unit_test(test_rfc6298_5_4_data_rto_resends_snd_una),
        cmocka_unit_test(test_rfc9293_3_8_3_data_retries_then_etimedout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
