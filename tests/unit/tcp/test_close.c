/* Closing: RFC 9293 §3.6 and Figure 5, TIME-WAIT (2*MSL), half-close,
 * abortive close (RFC 1122 §4.2.2.13, SO_LINGER 0), orphaned FIN_WAIT_2
 * (Linux), and simultaneous close between two stacks. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "harness.h"
#include "sim.h"
#include "tcp_util.h"
#include "wire/tcp.h"

#define A_ WIRE_TCP_ACK
#define R_ WIRE_TCP_RST
#define F_ WIRE_TCP_FIN
#define P_ WIRE_TCP_PSH

#define PEER_ISN 5000u

static void inject_at(struct conn *c, uint16_t flags, uint32_t seq, uint32_t ack, const void *d, size_t n)
{
    h_inject(&c->h, &(struct h_seg){.flags = flags, .seq = seq, .ack = ack, .data = d, .len = n});
}

/* Our FIN out by shutdown(SHUT_WR) (handle kept) or close() (orphan). */
static void our_fin(struct conn *c, bool orphan)
{
    if (orphan)
        assert_int_equal(synack_close(c->h.s, c->s), 0);
    else
        assert_int_equal(synack_shutdown(c->h.s, c->s, SYNACK_SHUT_WR), 0);
    expect_seg(&c->h, A_ | F_, c->ours, c->peer);
    expect_none(&c->h);
}

/* Drives an established connection into TIME_WAIT through FIN_WAIT_2. */
static void to_time_wait(struct conn *c)
{
    our_fin(c, false);
    inject_at(c, A_, c->peer, c->ours + 1, NULL, 0);
    inject_at(c, A_ | F_, c->peer, c->ours + 1, NULL, 0);
    expect_seg(&c->h, A_, c->ours + 1, c->peer + 1);
    expect_none(&c->h);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_TIME_WAIT);
}

/* RFC 9293 §3.6, Figure 5: ESTABLISHED -> FIN_WAIT_1 (our FIN) ->
 * FIN_WAIT_2 (its ACK) -> TIME_WAIT (the peer's FIN, ACKed). */
static void test_rfc9293_3_6_fin_wait_1_fin_wait_2_time_wait(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    our_fin(&c, false);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_FIN_WAIT_1);
    inject_at(&c, A_, c.peer, c.ours + 1, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_FIN_WAIT_2);
    inject_at(&c, A_ | F_, c.peer, c.ours + 1, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer + 1);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    assert_true(h_logged(&c.h, "ESTABLISHED -> FIN_WAIT_1"));
    assert_true(h_logged(&c.h, "FIN_WAIT_1 -> FIN_WAIT_2"));
    assert_true(h_logged(&c.h, "FIN_WAIT_2 -> TIME_WAIT"));
    h_free(&c.h);
}

/* RFC 9293 §3.10.7.4 fifth and eighth, FIN-WAIT-1: a FIN that also
 * acknowledges our FIN enters FIN-WAIT-2 ("continue processing in that
 * state") and then TIME_WAIT, never CLOSING. */
static void test_rfc9293_3_10_7_4_fin_wait_1_fin_and_ack_to_time_wait(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    our_fin(&c, false);
    inject_at(&c, A_ | F_, c.peer, c.ours + 1, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer + 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    assert_true(h_logged(&c.h, "FIN_WAIT_1 -> FIN_WAIT_2"));
    assert_true(h_logged(&c.h, "FIN_WAIT_2 -> TIME_WAIT"));
    assert_false(h_logged(&c.h, "CLOSING"));
    h_free(&c.h);
}

/* RFC 9293 §3.6 Figure 13 (simultaneous close): the peer's FIN arrives
 * before our FIN is acknowledged: FIN_WAIT_1 -> CLOSING, then the ACK of
 * our FIN -> TIME_WAIT. */
static void test_rfc9293_3_6_fin_wait_1_closing_time_wait(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    our_fin(&c, false);
    inject_at(&c, A_ | F_, c.peer, c.ours, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer + 1);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSING);
    assert_true(h_logged(&c.h, "FIN_WAIT_1 -> CLOSING"));
    inject_at(&c, A_, c.peer + 1, c.ours + 1, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    assert_true(h_logged(&c.h, "CLOSING -> TIME_WAIT"));
    h_free(&c.h);
}

/* RFC 9293 §3.6: passive close: the peer's FIN -> CLOSE_WAIT (EOF to the
 * reader), our FIN -> LAST_ACK, its ACK -> CLOSED. No data came before
 * the FIN, so its ACK goes at once (Linux: no delayed-ACK time yet). */
static void test_rfc9293_3_6_close_wait_last_ack_closed(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    inject_at(&c, A_ | F_, c.peer, c.ours, NULL, 0);
    expect_seg(&c.h, A_, c.ours, c.peer + 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSE_WAIT);
    assert_true(synack_events(c.h.s, c.s) & SYNACK_EV_RDHUP);
    char b[4];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 0);
    /* the seed's case: sending still works after the peer's FIN */
    assert_int_equal(synack_send(c.h.s, c.s, "late", 4), 4);
    struct wire_tcp t = expect_seg(&c.h, A_ | P_, c.ours, c.peer + 1);
    assert_int_equal(t.payload_len, 4);
    assert_int_equal(synack_shutdown(c.h.s, c.s, SYNACK_SHUT_WR), 0);
    expect_seg(&c.h, A_ | F_, c.ours + 4, c.peer + 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_LAST_ACK);
    /* an ACK of the data but not the FIN keeps LAST_ACK */
    inject_at(&c, A_, c.peer + 1, c.ours + 4, NULL, 0);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_LAST_ACK);
    inject_at(&c, A_, c.peer + 1, c.ours + 5, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    assert_true(h_logged(&c.h, "CLOSE_WAIT -> LAST_ACK"));
    assert_true(h_logged(&c.h, "LAST_ACK -> CLOSED"));
    assert_int_equal(synack_sock_error(c.h.s, c.s), 0);
    h_free(&c.h);
}

/* RFC 9293 §3.3.2 and §3.10.7.4: TIME-WAIT lasts 2*MSL, Linux's 60 s by
 * default: still there a microsecond before, gone at 2*MSL. */
static void test_rfc9293_time_wait_lasts_2msl_default_60s(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    to_time_wait(&c);
    h_advance(&c.h, SYNACK_SEC(60) - 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    assert_false(h_logged(&c.h, "TIME_WAIT -> CLOSED"));
    h_advance(&c.h, 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    assert_true(h_logged(&c.h, "TIME_WAIT -> CLOSED (2MSL timeout)"));
    h_free(&c.h);
}

/* The same with synack_config.time_wait set to 5 s. */
static void test_rfc9293_time_wait_length_configurable(void **state)
{
    (void)state;
    synack_config cfg = {.time_wait = SYNACK_SEC(5)};
    struct conn c;
    conn_open(&c, &cfg, PEER_ISN);
    to_time_wait(&c);
    h_advance(&c.h, SYNACK_SEC(5) - 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    h_advance(&c.h, 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    h_free(&c.h);
}

/* RFC 9293 §3.10.7.4 eighth, TIME-WAIT: a retransmitted FIN is
 * acknowledged again and restarts the 2*MSL timeout. */
static void test_rfc9293_time_wait_retransmitted_fin_reacked_restarts_timer(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    to_time_wait(&c);
    h_advance(&c.h, SYNACK_SEC(30));
    inject_at(&c, A_ | F_, c.peer, c.ours + 1, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer + 1);
    expect_none(&c.h);
    h_advance(&c.h, SYNACK_SEC(60) - 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    h_advance(&c.h, 1);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    h_free(&c.h);
}

/* RFC 9293 §3.6 (half-close; the seed's case): after shutdown(SHUT_WR) the
 * connection still receives data, in FIN_WAIT_1 and FIN_WAIT_2, and
 * acknowledges it. */
static void test_rfc9293_3_6_half_close_still_receives_and_acks(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    our_fin(&c, false);
    assert_int_equal(synack_send(c.h.s, c.s, "x", 1), -EPIPE);
    inject_at(&c, A_ | P_, c.peer, c.ours, "hello", 5); /* FIN_WAIT_1 */
    h_advance(&c.h, SYNACK_MS(100));
    expect_seg(&c.h, A_, c.ours + 1, c.peer + 5);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_FIN_WAIT_1);
    inject_at(&c, A_ | P_, c.peer + 5, c.ours + 1, " world", 6); /* FIN_WAIT_2 */
    h_advance(&c.h, SYNACK_MS(100));
    expect_seg(&c.h, A_, c.ours + 1, c.peer + 11);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_FIN_WAIT_2);
    char b[16];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 11);
    assert_memory_equal(b, "hello world", 11);
    inject_at(&c, A_ | F_, c.peer + 11, c.ours + 1, NULL, 0);
    expect_seg(&c.h, A_, c.ours + 1, c.peer + 12);
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 0);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_TIME_WAIT);
    h_free(&c.h);
}

/* RFC 1122 §4.2.2.13: close() with received data unread sends RST
 * <SEQ=SND.NXT><ACK=RCV.NXT><CTL=RST,ACK>, not a FIN. */
static void test_rfc1122_4_2_2_13_close_with_unread_data_sends_rst(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    inject_at(&c, A_ | P_, c.peer, c.ours, "unread", 6);
    h_advance(&c.h, SYNACK_MS(100));
    h_drain(&c.h);
    assert_int_equal(synack_close(c.h.s, c.s), 0);
    expect_seg(&c.h, R_ | A_, c.ours, c.peer + 6);
    expect_none(&c.h);
    assert_int_equal(ctr(&c.h, "tcp_abort_on_close"), 1);
    assert_true(h_logged(&c.h, "ESTABLISHED -> CLOSED (close() with unread data)"));
    /* nothing is left of the connection: no FIN, no retransmission */
    assert_false(h_run_to_deadline(&c.h, SYNACK_SEC(600)));
    expect_none(&c.h);
    h_free(&c.h);
}

/* Linux (tcp_reset -> tcp_done keeps sk_receive_queue; tcp_recvmsg hands
 * out queued bytes before sock_error): data received and acknowledged before
 * a RST stays readable, then the reset is reported once, then EOF. RFC 9293
 * §3.10.7.4 would flush it; synack keeps what the peer was told arrived.
 * Out-of-order data beyond a hole can never be read and is not. */
static void test_linux_rst_leaves_queued_data_readable(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    inject_at(&c, A_ | P_, c.peer, c.ours, "0123456789", 10);
    inject_at(&c, A_ | P_, c.peer + 20, c.ours, "ooo", 3); /* a hole at +10 */
    h_drain(&c.h);
    inject_at(&c, R_, c.peer + 10, 0, NULL, 0);
    expect_none(&c.h);
    assert_int_equal(state_of(&c.h, c.s), SYNACK_CLOSED);
    char b[64];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 10);
    assert_memory_equal(b, "0123456789", 10);
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), -ECONNRESET);
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 0);
    assert_int_equal(synack_close(c.h.s, c.s), 0);
    expect_none(&c.h);
    h_free(&c.h);
}

/* SO_LINGER on with a zero timeout: close() aborts with RST. */
static void test_so_linger_zero_close_sends_rst(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    assert_int_equal(synack_set_linger(c.h.s, c.s, true, 0), 0);
    assert_int_equal(synack_close(c.h.s, c.s), 0);
    expect_seg(&c.h, R_ | A_, c.ours, c.peer);
    expect_none(&c.h);
    assert_int_equal(ctr(&c.h, "tcp_abort_on_linger"), 1);
    assert_int_equal(ctr(&c.h, "tcp_abort_on_close"), 0);
    /* linger on with a timeout is a graceful close */
    struct conn d;
    conn_open(&d, NULL, PEER_ISN);
    assert_int_equal(synack_set_linger(d.h.s, d.s, true, 5), 0);
    assert_int_equal(synack_close(d.h.s, d.s), 0);
    expect_seg(&d.h, A_ | F_, d.ours, d.peer);
    h_free(&d.h);
    h_free(&c.h);
}

/* Linux (tcp_rcv_state_process, TCPAbortOnData): data arriving for an
 * orphaned connection in FIN_WAIT_2, which nobody can read, draws the RST
 * that answers a segment, <SEQ=SEG.ACK><CTL=RST> (tcp_v4_send_reset). */
static void test_linux_orphan_fin_wait_2_data_draws_rst(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    our_fin(&c, true);
    inject_at(&c, A_, c.peer, c.ours + 1, NULL, 0);
    expect_none(&c.h);
    assert_true(h_logged(&c.h, "FIN_WAIT_1 -> FIN_WAIT_2"));
    inject_at(&c, A_ | P_, c.peer, c.ours + 1, "data", 4);
    expect_seg(&c.h, R_, c.ours + 1, 0);
    expect_none(&c.h);
    assert_int_equal(ctr(&c.h, "tcp_abort_on_data"), 1);
    assert_true(h_logged(&c.h, "FIN_WAIT_2 -> CLOSED"));
    h_free(&c.h);
}

/* Linux tcp_fin_timeout: an orphaned FIN_WAIT_2 lasts 60 s; one the user
 * still holds (shutdown) waits for the peer's FIN indefinitely. */
static void test_linux_orphan_fin_wait_2_times_out_after_60s(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    our_fin(&c, true);
    inject_at(&c, A_, c.peer, c.ours + 1, NULL, 0);
    h_advance(&c.h, SYNACK_SEC(60) - 1);
    assert_false(h_logged(&c.h, "FIN_WAIT_2 -> CLOSED"));
    h_advance(&c.h, 1);
    assert_true(h_logged(&c.h, "FIN_WAIT_2 -> CLOSED (FIN_WAIT_2 timeout)"));
    expect_none(&c.h);
    /* gone: a late FIN meets the listener, which resets it */
    inject_at(&c, A_ | F_, c.peer, c.ours + 1, NULL, 0);
    expect_seg(&c.h, R_, c.ours + 1, 0);
    h_free(&c.h);

    struct conn d;
    conn_open(&d, NULL, PEER_ISN);
    our_fin(&d, false);
    inject_at(&d, A_, d.peer, d.ours + 1, NULL, 0);
    h_advance(&d.h, SYNACK_SEC(600));
    assert_int_equal(state_of(&d.h, d.s), SYNACK_FIN_WAIT_2);
    h_free(&d.h);
}

/* RFC 9293 §3.6 Figure 13, two stacks: both close at the same instant; the
 * FINs cross, both go FIN_WAIT_1 -> CLOSING -> TIME_WAIT, and 2*MSL later
 * both are gone. */
struct pair {
    struct sim sim;
    synack_sock lsn, srv, cli;
};

static bool pair_up(void *ctx)
{
    struct pair *p = ctx;
    if (p->srv < 0)
        p->srv = synack_accept(p->sim.b, p->lsn, NULL);
    return p->srv >= 0 && (synack_events(p->sim.a, p->cli) & SYNACK_EV_OUT);
}

static int count_log(const struct sim *s, const char *text)
{
    int n = 0;
    for (int i = 0; i < s->log.n; i++)
        n += strstr(s->log.lines[i], text) != NULL;
    return n;
}

static void test_rfc9293_3_6_simultaneous_close_two_stacks(void **state)
{
    (void)state;
    struct pair p;
    memset(&p, 0, sizeof p);
    sim_init(&p.sim, 5, SYNACK_MS(5), NULL);
    p.srv = -1;
    p.lsn = synack_socket(p.sim.b);
    synack_endpoint le = sim_ep(SIM_ADDR_B, 6000);
    assert_int_equal(synack_bind(p.sim.b, p.lsn, &le), 0);
    assert_int_equal(synack_listen(p.sim.b, p.lsn, 4), 0);
    p.cli = synack_socket(p.sim.a);
    assert_int_equal(synack_connect(p.sim.a, p.cli, &le), -EINPROGRESS);
    assert_true(sim_run(&p.sim, pair_up, &p, SYNACK_SEC(2)));
    sim_advance(&p.sim, SYNACK_MS(100));
    assert_int_equal(synack_close(p.sim.a, p.cli), 0);
    assert_int_equal(synack_close(p.sim.b, p.srv), 0);
    sim_advance(&p.sim, SYNACK_SEC(1));
    for (int i = 0; i < p.sim.log.n; i++)
        print_message("%s\n", p.sim.log.lines[i]);
    assert_int_equal(count_log(&p.sim, "ESTABLISHED -> FIN_WAIT_1 (close())"), 2);
    assert_int_equal(count_log(&p.sim, "FIN_WAIT_1 -> CLOSING"), 2);
    assert_int_equal(count_log(&p.sim, "CLOSING -> TIME_WAIT"), 2);
    assert_int_equal(count_log(&p.sim, "TIME_WAIT -> CLOSED"), 0);
    assert_int_equal(synack_counter(p.sim.a, "tcp_rst_out") + synack_counter(p.sim.b, "tcp_rst_out"), 0);
    sim_advance(&p.sim, SYNACK_SEC(60));
    assert_int_equal(count_log(&p.sim, "TIME_WAIT -> CLOSED (2MSL timeout)"), 2);
    sim_free(&p.sim);
}

/* Linux (tcp_fin enters pingpong mode; RFC 1122 §4.2.3.2 allows it): once
 * data has flowed, the ACK of the peer's FIN waits the delayed-ACK time,
 * and when the application closes within it our FIN carries the ACK. */
static void test_linux_fin_carries_delayed_ack_of_fin(void **state)
{
    (void)state;
    struct conn c;
    conn_open(&c, NULL, PEER_ISN);
    inject_at(&c, A_, c.peer, c.ours, "data", 4);
    expect_seg(&c.h, A_, c.ours, c.peer + 4); /* quick-ACK mode */
    inject_at(&c, A_ | F_, c.peer + 4, c.ours, NULL, 0);
    expect_none(&c.h);
    h_advance(&c.h, SYNACK_MS(5));
    char b[8];
    assert_int_equal(synack_recv(c.h.s, c.s, b, sizeof b), 4);
    assert_int_equal(synack_close(c.h.s, c.s), 0);
    expect_seg(&c.h, A_ | F_, c.ours, c.peer + 5);
    expect_none(&c.h);
    /* without the close, the ACK would have gone alone at 40 ms */
    struct conn d;
    conn_open(&d, NULL, PEER_ISN);
    inject_at(&d, A_, d.peer, d.ours, "data", 4);
    expect_seg(&d.h, A_, d.ours, d.peer + 4);
    inject_at(&d, A_ | F_, d.peer + 4, d.ours, NULL, 0);
    h_advance(&d.h, SYNACK_MS(39));
    expect_none(&d.h);
    h_advance(&d.h, SYNACK_MS(1));
    expect_seg(&d.h, A_, d.ours, d.peer + 5);
    h_free(&d.h);
    h_free(&c.h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc9293_3_6_fin_wait_1_fin_wait_2_time_wait),
        cmocka_unit_test(test_rfc9293_3_10_7_4_fin_wait_1_fin_and_ack_to_time_wait),
        cmocka_unit_test(test_rfc9293_3_6_fin_wait_1_closing_time_wait),
        cmocka_unit_test(test_rfc9293_3_6_close_wait_last_ack_closed),
        cmocka_unit_test(test_linux_fin_carries_delayed_ack_of_fin),
        cmocka_unit_test(test_rfc9293_time_wait_lasts_2msl_default_60s),
        cmocka_unit_test(test_rfc9293_time_wait_length_configurable),
        cmocka_unit_test(test_rfc9293_time_wait_retransmitted_fin_reacked_restarts_timer),
        cmocka_unit_test(test_rfc9293_3_6_half_close_still_receives_and_acks),
        cmocka_unit_test(test_rfc1122_4_2_2_13_close_with_unread_data_sends_rst),
        cmocka_unit_test(test_linux_rst_leaves_queued_data_readable),
        cmocka_unit_test(test_so_linger_zero_close_sends_rst),
        cmocka_unit_test(test_linux_orphan_fin_wait_2_data_draws_rst),
        cmocka_unit_test(test_linux_orphan_fin_wait_2_times_out_after_60s),
        cmocka_unit_test(test_rfc9293_3_6_simultaneous_close_two_stacks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
