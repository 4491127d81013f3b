/* Tail loss probe (RFC 8985 §7), as Linux sends it: a loss at the tail of a
 * flight is found by a probe after about two round trips, not by the RTO. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define A_ WIRE_TCP_ACK
#define MSS 1000

static synack_config big = {.sndbuf = 1 << 20, .rcvbuf = 1 << 20};

/* Three segments out, the first two acknowledged at once. */
static void tail_of_three(struct xconn *x, bool sack, synack_config *cfg)
{
    x_open(x, cfg, &(struct xopen){.mss = MSS, .sack = sack, .wscale = 7});
    struct conn *c = &x->c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_NODELAY, 1), 0);
    static uint8_t d[3 * MSS];
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), (long)sizeof d);
    uint32_t seqs[4];
    assert_int_equal(x_data_segs(x, seqs, 4), 3);
    x_ack(x, c->ours + 2 * MSS, NULL, 0);
    expect_none(&c->h);
}

/* §7.2/§7.3: with no new data to send, the probe resends the last segment,
 * before the RTO would have fired; §7.4.2: an ACK beyond it, without a
 * D-SACK, shows the probe repaired a loss, and the window is reduced once. */
static void test_rfc8985_7_3_probe_resends_the_tail(void **state)
{
    (void)state;
    struct xconn x;
    tail_of_three(&x, true, &big);
    struct conn *c = &x.c;
    synack_tcp_info before = info_of(&c->h, c->s);
    synack_time t0 = c->h.clock.now;
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 2 * MSS);
    assert_int_equal(t.payload_len, MSS);
    assert_true(c->h.clock.now - t0 <= before.rto_us);
    assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), 1);
    assert_int_equal(ctr(&c->h, "tcp_rto"), 0);
    /* An ACK of exactly the probe decides nothing yet (Linux
     * tcp_process_tlp_ack); the first ACK beyond it without a D-SACK does. */
    x_ack(&x, c->ours + 3 * MSS, NULL, 0);
    assert_int_equal(ctr(&c->h, "tcp_tlp_recoveries"), 0);
    static uint8_t more[MSS];
    assert_int_equal(synack_send(c->h.s, c->s, more, MSS), MSS);
    (void)x_next(&x);
    x_ack(&x, c->ours + 4 * MSS, NULL, 0);
    assert_int_equal(ctr(&c->h, "tcp_tlp_recoveries"), 1);
    synack_tcp_info after = info_of(&c->h, c->s);
    assert_true(after.cwnd < before.cwnd);
    h_free(&c->h);
}

/* §7.4.2: a D-SACK for the probe says the original arrived too: no loss,
 * no reduction. */
static void test_rfc8985_7_4_dsack_of_probe_means_no_loss(void **state)
{
    (void)state;
    struct xconn x;
    tail_of_three(&x, true, &big);
    struct conn *c = &x.c;
    synack_tcp_info before = info_of(&c->h, c->s);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
    (void)x_next(&x);
    uint32_t dsack[2] = {c->ours + 2 * MSS, c->ours + 3 * MSS};
    x_ack(&x, c->ours + 3 * MSS, dsack, 1);
    assert_int_equal(ctr(&c->h, "tcp_tlp_recoveries"), 0);
    assert_int_equal(info_of(&c->h, c->s).cwnd, before.cwnd);
    h_free(&c->h);
}

/* §7.3: new data goes as the probe when the peer's window allows it, even
 * beyond cwnd; its ACK ends the episode without a reduction. */
static void test_rfc8985_7_3_probe_sends_new_data_first(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
    struct conn *c = &x.c;
    static uint8_t d[11 * MSS];
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), (long)sizeof d);
    uint32_t seqs[12];
    assert_int_equal(x_data_segs(&x, seqs, 12), 10); /* IW10 (RFC 6928) */
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 10 * MSS);
    assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), 1);
    assert_int_equal(ctr(&c->h, "tcp_retrans"), 0);
    x_ack(&x, c->ours + 11 * MSS, NULL, 0);
    assert_int_equal(ctr(&c->h, "tcp_tlp_recoveries"), 0);
    h_free(&c->h);
}

/* §7.3: "If a previously unsent segment exists": a FIN that cwnd held back
 * is one, so the probe is the FIN, not the last data again (Linux
 * tcp_send_loss_probe sends the FIN skb at the send head). */
static void test_rfc8985_7_3_probe_sends_a_held_fin(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, &big, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7});
    struct conn *c = &x.c;
    static uint8_t d[10 * MSS];
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), (long)sizeof d);
    uint32_t seqs[11];
    assert_int_equal(x_data_segs(&x, seqs, 11), 10); /* IW10: cwnd full */
    assert_int_equal(synack_shutdown(c->h.s, c->s, SYNACK_SHUT_WR), 0);
    expect_none(&c->h); /* the FIN waits for cwnd */
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours + 10 * MSS);
    assert_int_equal(t.payload_len, 0);
    assert_true(t.flags & WIRE_TCP_FIN);
    assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), 1);
    assert_int_equal(ctr(&c->h, "tcp_retrans"), 0);
    x_ack(&x, c->ours + 10 * MSS + 1, NULL, 0);
    assert_int_equal(ctr(&c->h, "tcp_tlp_recoveries"), 0);
    assert_int_equal(info_of(&c->h, c->s).state, SYNACK_FIN_WAIT_2);
    h_free(&c->h);
}

/* Linux tcp_rearm_rto: when an ACK takes the probe timer's place back for
 * the RTO (here a SACK of one byte puts the connection in Disorder, where
 * no probe is scheduled), the RTO counts from the last send of the oldest
 * outstanding segment (tcp_rto_delta_us), as RFC 6298 §5.1 started it, not
 * from the ACK. */
static void test_rto_after_the_probe_timer_counts_from_the_send(void **state)
{
    (void)state;
    struct xconn x;
    x_open_rtt(&x, &big, &(struct xopen){.mss = MSS, .sack = true, .wscale = 7}, SYNACK_MS(100));
    struct conn *c = &x.c;
    static uint8_t d[4 * MSS];
    synack_time sent = c->h.clock.now;
    assert_int_equal(synack_send(c->h.s, c->s, d, sizeof d), (long)sizeof d);
    uint32_t seqs[5];
    assert_int_equal(x_data_segs(&x, seqs, 5), 4);
    h_advance(&c->h, SYNACK_MS(100));
    uint32_t sack[2] = {c->ours + 4 * MSS - 1, c->ours + 4 * MSS};
    x_ack(&x, c->ours, sack, 1);
    synack_time rto = info_of(&c->h, c->s).rto_us;
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours);
    assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), 0);
    assert_int_equal(ctr(&c->h, "tcp_rto"), 1);
    assert_int_equal(c->h.clock.now, sent + rto);
    h_free(&c->h);
}

/* §7.3: one probe per episode: if it draws no ACK, the RTO comes next. */
static void test_rfc8985_7_3_one_probe_then_rto(void **state)
{
    (void)state;
    struct xconn x;
    tail_of_three(&x, true, &big);
    struct conn *c = &x.c;
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
    (void)x_next(&x);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
    (void)x_next(&x);
    assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), 1);
    assert_int_equal(ctr(&c->h, "tcp_rto"), 1);
    h_free(&c->h);
}

/* Linux schedules probes only when SACK is on, and not at all with
 * tcp_early_retrans 0 (synack_config.no_tlp): there the RTO finds the loss. */
static void test_rfc8985_no_probe_without_sack_or_when_off(void **state)
{
    (void)state;
    for (int i = 0; i < 2; i++) {
        struct xconn x;
        synack_config cfg = big;
        cfg.no_tlp = i == 1;
        tail_of_three(&x, i == 1, &cfg);
        struct conn *c = &x.c;
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(10)));
        struct wire_tcp t = x_next(&x);
        assert_int_equal(t.seq, c->ours + 2 * MSS);
        assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), 0);
        assert_int_equal(ctr(&c->h, "tcp_rto"), 1);
        h_free(&c->h);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc8985_7_3_probe_resends_the_tail),
        cmocka_unit_test(test_rfc8985_7_4_dsack_of_probe_means_no_loss),
        cmocka_unit_test(test_rfc8985_7_3_probe_sends_new_data_first),
        cmocka_unit_test(test_rfc8985_7_3_probe_sends_a_held_fin),
        cmocka_unit_test(test_rto_after_the_probe_timer_counts_from_the_send),
        cmocka_unit_test(test_rfc8985_7_3_one_probe_then_rto),
        cmocka_unit_test(test_rfc8985_no_probe_without_sack_or_when_off),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
