/* A link that refuses to transmit (local congestion: a TUN write failing
 * with ENOBUFS or EAGAIN, a qdisc that drops everything, Linux's
 * NET_XMIT_DROP), as Linux handles it: the refused segment counts as never
 * sent; the timers retry every TCP_RESOURCE_PROBE_INTERVAL (500 ms) without
 * backoff; persist probes are counted (tcpi_probes); TCP_USER_TIMEOUT ends
 * the connection from the first probe (icsk_probes_tstamp); and once the
 * link takes frames again, backoff is the usual one. Packetdrill's
 * google/net/tcp/user_timeout/user-timeout-probe.pkt is the same story end
 * to end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

static const synack_config no_tlp = {.no_tlp = true};

static synack_time run_gap(struct conn *c)
{
    synack_time before = c->h.clock.now;
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(1000)));
    return c->h.clock.now - before;
}

/* The connection every test here starts from: MSS 1000, no window scaling. */
static struct conn *open_plain(struct xconn *x, const synack_config *cfg, bool sack)
{
    x_open(x, cfg, &(struct xopen){.mss = 1000, .wscale = -1, .sack = sack});
    return &x->c;
}

/* A plain connection whose peer has shut its window, "hello" written. */
static struct conn *open_shut(struct xconn *x)
{
    struct conn *c = open_plain(x, NULL, false);
    x->wnd = 0;
    x_ack(x, c->ours, NULL, 0);
    assert_int_equal(synack_send(c->h.s, c->s, "hello", 5), 5);
    return c;
}

/* The connection ended by a timeout: closed, ETIMEDOUT for the user. */
static void assert_timed_out(struct harness *h, synack_sock s)
{
    assert_int_equal(state_of(h, s), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(h->s, s), -ETIMEDOUT);
}

/* Linux tcp_write_xmit stops at an skb tcp_transmit_skb failed to send
 * (snd_nxt stays); tcp_check_probe_timer arms the probe timer at the RTO;
 * tcp_send_probe0 retries every 500 ms without backoff while the device
 * refuses, counting each probe; tcp_probe_timer gives up when the user
 * timeout has passed since the first probe: 6 probes in 3 s, ETIMEDOUT. */
static void test_linux_refused_new_data_probes_every_500ms_then_user_timeout(void **state)
{
    (void)state;
    struct xconn x;
    struct conn *c = open_plain(&x, NULL, false);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_USER_TIMEOUT, 3000), 0);
    c->h.refuse = ENOBUFS;
    assert_int_equal(synack_send(c->h.s, c->s, "twenty-four bytes of it!", 24), 24);
    expect_none(&c->h);
    assert_true(c->h.refused >= 1);
    h_advance(&c->h, 0); /* the flush setopt asked for: another try, refused too */
    int base = c->h.refused;
    synack_tcp_info i = info_of(&c->h, c->s);
    assert_int_equal(i.snd_nxt, c->ours); /* not sent: SND.NXT stays */
    assert_int_equal(i.unsent, 24);
    assert_int_equal(i.probes, 0);
    assert_int_equal(run_gap(c), i.rto_us); /* tcp_probe0_base: the RTO */
    for (int n = 1; n <= 6; n++) {
        if (n > 1)
            assert_int_equal(run_gap(c), SYNACK_MS(500));
        i = info_of(&c->h, c->s);
        assert_int_equal(c->h.refused, base + n); /* one try per probe */
        assert_int_equal(i.probes, n);
        assert_int_equal(i.backoff, 0);
        assert_int_equal(i.snd_nxt, c->ours);
        assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    }
    /* 3 s after the first probe: the user timeout */
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    assert_timed_out(&c->h, c->s);
    assert_int_equal(ctr(&c->h, "tcp_user_timeouts"), 1);
    assert_true(ctr(&c->h, "tcp_out_refused") >= 8);
    expect_none(&c->h);
    h_free(&c->h);
}

/* The user timeout clamps the 500 ms retry (Linux
 * tcp_clamp_probe0_to_user_timeout): 1200 ms ends after probes at 0, 500
 * and 1000 ms, at 1200 ms, not at 1500. */
static void test_linux_refused_probe_clamped_to_user_timeout(void **state)
{
    (void)state;
    struct xconn x;
    struct conn *c = open_plain(&x, NULL, false);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_USER_TIMEOUT, 1200), 0);
    c->h.refuse = EAGAIN;
    assert_int_equal(synack_send(c->h.s, c->s, "x", 1), 1);
    run_gap(c);
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    assert_int_equal(info_of(&c->h, c->s).probes, 3);
    assert_int_equal(run_gap(c), SYNACK_MS(200));
    assert_timed_out(&c->h, c->s);
    h_free(&c->h);
}

/* Once the link takes frames again, the next probe carries the data
 * (Linux tcp_write_wakeup), the probe count is cleared (packets are out),
 * and unacknowledged data backs off as always: RTO, 2 RTO, 4 RTO. */
static void test_linux_link_accepts_again_backoff_resumes(void **state)
{
    (void)state;
    struct xconn x;
    struct conn *c = open_plain(&x, &no_tlp, false);
    c->h.refuse = ENOBUFS;
    assert_int_equal(synack_send(c->h.s, c->s, "twenty-four bytes of it!", 24), 24);
    run_gap(c);
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    assert_int_equal(info_of(&c->h, c->s).probes, 2);
    c->h.refuse = 0;
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours);
    assert_int_equal(t.payload_len, 24);
    synack_tcp_info i = info_of(&c->h, c->s);
    assert_int_equal(i.probes, 0);
    assert_int_equal(i.snd_nxt, c->ours + 24);
    uint64_t rto = i.rto_us;
    for (unsigned k = 0; k < 3; k++) {
        assert_int_equal(run_gap(c), rto << k);
        t = x_next(&x);
        assert_int_equal(t.seq, c->ours);
        assert_int_equal(t.payload_len, 24);
        assert_int_equal(info_of(&c->h, c->s).backoff, k + 1);
    }
    /* an ACK ends it */
    x_ack(&x, c->ours + 24, NULL, 0);
    assert_int_equal(info_of(&c->h, c->s).backoff, 0);
    h_free(&c->h);
}

/* Linux tcp_retransmit_timer, "local congestion": a retransmission the
 * device refused (tcp_retransmit_skb > 0) is tried again in 500 ms, with
 * no backoff and not counted as a retransmission; when it leaves, backoff
 * starts as usual. */
static void test_linux_refused_retransmission_retries_without_backoff(void **state)
{
    (void)state;
    struct xconn x;
    struct conn *c = open_plain(&x, &no_tlp, false);
    assert_int_equal(synack_send(c->h.s, c->s, "hello", 5), 5);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.payload_len, 5);
    uint64_t rto = info_of(&c->h, c->s).rto_us;
    uint64_t retrans = ctr(&c->h, "tcp_retrans");
    c->h.refuse = ENOMEM;
    assert_int_equal(run_gap(c), rto);
    for (int n = 0; n < 4; n++) {
        if (n)
            assert_int_equal(run_gap(c), SYNACK_MS(500));
        expect_none(&c->h);
        assert_int_equal(info_of(&c->h, c->s).backoff, 0);
        assert_int_equal(ctr(&c->h, "tcp_retrans"), retrans);
        assert_int_equal(info_of(&c->h, c->s).snd_nxt, c->ours + 5);
    }
    c->h.refuse = 0;
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    t = x_next(&x);
    assert_int_equal(t.seq, c->ours);
    assert_int_equal(t.payload_len, 5);
    assert_int_equal(info_of(&c->h, c->s).backoff, 1);
    assert_int_equal(ctr(&c->h, "tcp_retrans"), retrans + 1);
    assert_int_equal(run_gap(c), 2 * rto);
    assert_int_equal(x_next(&x).seq, c->ours);
    assert_int_equal(info_of(&c->h, c->s).backoff, 2);
    h_free(&c->h);
}

/* Linux tcp_send_loss_probe: a tail loss probe the link refused is no
 * probe (not counted, no TLP episode); the RTO follows, and its refused
 * retransmission is retried in 500 ms. */
static void test_linux_refused_tail_loss_probe(void **state)
{
    (void)state;
    struct xconn x;
    struct conn *c = open_plain(&x, NULL, true); /* TLP needs SACK */
    assert_int_equal(synack_send(c->h.s, c->s, "hello", 5), 5);
    assert_int_equal(x_next(&x).payload_len, 5);
    uint64_t probes = ctr(&c->h, "tcp_tlp_probes");
    c->h.refuse = ENOBUFS;
    run_gap(c); /* the probe timer: refused */
    assert_int_equal(c->h.refused, 1);
    assert_int_equal(ctr(&c->h, "tcp_tlp_probes"), probes);
    run_gap(c); /* the RTO: refused too */
    assert_int_equal(c->h.refused, 2);
    assert_int_equal(info_of(&c->h, c->s).backoff, 0);
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    assert_int_equal(c->h.refused, 3);
    h_free(&c->h);
}

/* Only the host's own refusals count as "not sent": ENOBUFS, EAGAIN and
 * ENOMEM. Any other transmit error is a loss like one on the wire: SND.NXT
 * moves and the RTO backs off. */
static void test_refusal_errnos(void **state)
{
    (void)state;
    static const struct {
        int err;
        bool refused;
    } cases[] = {{ENOBUFS, true}, {EAGAIN, true}, {ENOMEM, true}, {EIO, false}, {ENETDOWN, false}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        struct xconn x;
        struct conn *c = open_plain(&x, &no_tlp, false);
        c->h.refuse = cases[k].err;
        assert_int_equal(synack_send(c->h.s, c->s, "hello", 5), 5);
        synack_tcp_info i = info_of(&c->h, c->s);
        assert_int_equal(i.snd_nxt, cases[k].refused ? c->ours : c->ours + 5);
        assert_int_equal(ctr(&c->h, "tcp_out_refused"), cases[k].refused ? 1 : 0);
        run_gap(c);
        run_gap(c);
        i = info_of(&c->h, c->s);
        assert_int_equal(i.backoff, cases[k].refused ? 0 : 2);
        assert_int_equal(i.probes, cases[k].refused ? 2 : 0);
        h_free(&c->h);
    }
}

/* A zero-window probe the link refused is retried in 500 ms, not backed
 * off (Linux tcp_send_probe0: err > 0); answered probes clear the count. */
static void test_linux_refused_zero_window_probe(void **state)
{
    (void)state;
    struct xconn x;
    struct conn *c = open_shut(&x);
    expect_none(&c->h);
    run_gap(c);
    struct wire_tcp t = x_next(&x);
    assert_int_equal(t.seq, c->ours - 1); /* the probe went: backoff 1 */
    assert_int_equal(info_of(&c->h, c->s).backoff, 1);
    assert_int_equal(info_of(&c->h, c->s).probes, 1);
    c->h.refuse = ENOBUFS;
    assert_int_equal(run_gap(c), 2 * info_of(&c->h, c->s).rto_us);
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    assert_int_equal(run_gap(c), SYNACK_MS(500));
    assert_int_equal(info_of(&c->h, c->s).backoff, 1);
    assert_int_equal(info_of(&c->h, c->s).probes, 4);
    c->h.refuse = 0;
    run_gap(c);
    assert_int_equal(x_next(&x).seq, c->ours - 1);
    x_ack(&x, c->ours, NULL, 0); /* answered, still shut */
    assert_int_equal(info_of(&c->h, c->s).probes, 0);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    h_free(&c->h);
}

/* Linux tcp_probe_timer: RFC 1122 §4.2.2.17 keeps a sender probing a shut
 * window forever while the probes are answered, but tcp_retries2 (15)
 * unanswered probes end the connection with ETIMEDOUT. */
static void test_linux_unanswered_persist_probes_give_up(void **state)
{
    (void)state;
    struct xconn x;
    struct conn *c = open_shut(&x);
    int probes = 0;
    for (int guard = 0; guard < 100 && state_of(&c->h, c->s) == SYNACK_ESTABLISHED &&
                        h_run_to_deadline(&c->h, SYNACK_SEC(10000));
         guard++) {
        struct wire_tcp t;
        while (h_next(&c->h, &t))
            if (t.seq == c->ours - 1 && t.payload_len == 0 && !(t.flags & WIRE_TCP_RST))
                probes++;
    }
    assert_int_equal(probes, 15);
    assert_timed_out(&c->h, c->s);
    h_free(&c->h);
}

/* A SYN the link refuses for good is given up, as Linux gives it up under
 * a dropping qdisc: backoff never grows (every try is refused), so the limit
 * is the time TCP_SYNCNT retries would have taken, 1 + 2 + 4 s for 2. Not
 * forever. */
static void test_refused_syn_given_up_after_the_retries_time(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, &no_tlp);
    synack_sock s = synack_socket(h.s);
    assert_int_equal(synack_setopt(h.s, s, SYNACK_OPT_SYNCNT, 2), 0);
    h.refuse = ENOBUFS;
    synack_endpoint r = {.addr = synack_ipv4(H_REMOTE), .port = H_RPORT};
    assert_int_equal(synack_connect(h.s, s, &r), -EINPROGRESS);
    synack_time start = h.clock.now;
    while (state_of(&h, s) == SYNACK_SYN_SENT && h.clock.now - start < SYNACK_SEC(60)) {
        assert_true(h_run_to_deadline(&h, SYNACK_SEC(1000)));
        assert_int_equal(info_of(&h, s).backoff, 0);
    }
    assert_int_equal(state_of(&h, s), SYNACK_CLOSED);
    assert_int_equal(info_of(&h, s).backoff, 0);
    assert_int_equal(synack_sock_error(h.s, s), -ETIMEDOUT);
    synack_time took = h.clock.now - start;
    assert_true(took >= SYNACK_SEC(7) && took <= SYNACK_SEC(7) + SYNACK_MS(500));
    assert_int_equal(ctr(&h, "tcp_timeouts"), 1);
    assert_true(h.refused >= 10);
    expect_none(&h);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linux_refused_new_data_probes_every_500ms_then_user_timeout),
        cmocka_unit_test(test_linux_refused_probe_clamped_to_user_timeout),
        cmocka_unit_test(test_linux_link_accepts_again_backoff_resumes),
        cmocka_unit_test(test_linux_refused_retransmission_retries_without_backoff),
        cmocka_unit_test(test_linux_refused_tail_loss_probe),
        cmocka_unit_test(test_refusal_errnos),
        cmocka_unit_test(test_linux_refused_zero_window_probe),
        cmocka_unit_test(test_linux_unanswered_persist_probes_give_up),
        cmocka_unit_test(test_refused_syn_given_up_after_the_retries_time),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
