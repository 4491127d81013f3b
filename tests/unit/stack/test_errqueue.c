/* The error queue (src/stack/errqueue.c) as Linux fills it: MSG_ZEROCOPY
 * completions (net/core/skbuff.c __msg_zerocopy_callback) and SO_TIMESTAMPING
 * transmit stamps (tcp_tx_timestamp, __skb_tstamp_tx, tcp_ack_tstamp),
 * between two stacks over a memory link with a 10 ms one-way delay. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sim.h"

#define DELAY SYNACK_MS(10)

struct conn {
    struct sim sim;
    synack_sock lsn, srv, cli;
};

static bool up(void *ctx)
{
    struct conn *c = ctx;
    if (c->srv < 0)
        c->srv = synack_accept(c->sim.b, c->lsn, NULL);
    return c->srv >= 0 && (synack_events(c->sim.a, c->cli) & SYNACK_EV_OUT);
}

/* A connected pair; zerocopy on the listener when zc_listener (the
 * accepted socket inherits it), on the client when zc_client. */
static void conn_up(struct conn *c, bool zc_listener, bool zc_client)
{
    memset(c, 0, sizeof *c);
    sim_init(&c->sim, 11, DELAY, NULL);
    c->srv = -1;
    c->lsn = synack_socket(c->sim.b);
    synack_endpoint le = sim_ep(SIM_ADDR_B, 7001);
    assert_int_equal(synack_bind(c->sim.b, c->lsn, &le), 0);
    assert_int_equal(synack_listen(c->sim.b, c->lsn, 4), 0);
    if (zc_listener)
        assert_int_equal(synack_set_zerocopy(c->sim.b, c->lsn, true), 0);
    c->cli = synack_socket(c->sim.a);
    if (zc_client)
        assert_int_equal(synack_set_zerocopy(c->sim.a, c->cli, true), 0);
    assert_int_equal(synack_connect(c->sim.a, c->cli, &le), -EINPROGRESS);
    assert_true(sim_run(&c->sim, up, c, SYNACK_SEC(2)));
}

static void expect_zc(synack_stack *s, synack_sock h, uint32_t lo, uint32_t hi)
{
    synack_errmsg m;
    assert_int_equal(synack_errqueue_pop(s, h, &m), 0);
    assert_int_equal(m.origin, SYNACK_EE_ORIGIN_ZEROCOPY);
    assert_int_equal(m.err, 0);
    assert_int_equal(m.code, SYNACK_EE_CODE_ZEROCOPY_COPIED);
    assert_int_equal(m.info, lo);
    assert_int_equal(m.data, hi);
}

static void expect_empty(synack_stack *s, synack_sock h)
{
    synack_errmsg m;
    assert_int_equal(synack_errqueue_pop(s, h, &m), -EAGAIN);
    assert_false(synack_events(s, h) & SYNACK_EV_ERRQUEUE);
}

static const uint8_t data[4000];

/* Ids are consecutive from 0, one per send; a completion comes when the
 * peer's ACK covers the send, not when the data leaves; the queue shows
 * in the events (POLLERR) until read; SO_ERROR is left alone. */
static void completion_after_ack_with_consecutive_ids(void **state)
{
    (void)state;
    struct conn c;
    conn_up(&c, false, true);
    bool on = false;
    assert_int_equal(synack_get_zerocopy(c.sim.a, c.cli, &on), 0);
    assert_true(on);
    for (uint32_t id = 0; id < 3; id++) {
        assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 1000, SYNACK_SEND_ZEROCOPY), 1000);
        expect_empty(c.sim.a, c.cli); /* sent, not acknowledged */
        sim_advance(&c.sim, DELAY + SYNACK_MS(5)); /* at the peer, its ACK on the way */
        expect_empty(c.sim.a, c.cli);
        sim_advance(&c.sim, SYNACK_MS(100));
        assert_true(synack_events(c.sim.a, c.cli) & SYNACK_EV_ERRQUEUE);
        assert_false(synack_events(c.sim.a, c.cli) & SYNACK_EV_ERR);
        assert_int_equal(synack_sock_error(c.sim.a, c.cli), 0);
        expect_zc(c.sim.a, c.cli, id, id);
        expect_empty(c.sim.a, c.cli);
    }
    sim_free(&c.sim);
}

/* skb_zerocopy_notify_extend: a completion that continues the unread one
 * at the tail widens it; once the tail was read, a new one starts. A send
 * of nothing takes no id (msg_zerocopy_put_abort), and without SO_ZEROCOPY
 * the flag is a plain send that takes none either. */
static void merged_while_unread_and_empty_send_takes_no_id(void **state)
{
    (void)state;
    struct conn c;
    conn_up(&c, false, true);
    uint32_t rep0 = synack_errqueue_reports(c.sim.a, c.cli);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 0, SYNACK_SEND_ZEROCOPY), 0);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 500, SYNACK_SEND_ZEROCOPY), 500);
    sim_advance(&c.sim, SYNACK_MS(100));
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 500, SYNACK_SEND_ZEROCOPY), 500);
    sim_advance(&c.sim, SYNACK_MS(100));
    assert_int_equal(synack_errqueue_reports(c.sim.a, c.cli), rep0 + 2); /* a wakeup for each */
    expect_zc(c.sim.a, c.cli, 0, 1);
    expect_empty(c.sim.a, c.cli);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 500, SYNACK_SEND_ZEROCOPY), 500);
    sim_advance(&c.sim, SYNACK_MS(100));
    expect_zc(c.sim.a, c.cli, 2, 2);
    /* SO_ZEROCOPY off: MSG_ZEROCOPY is ignored, no id is used */
    assert_int_equal(synack_set_zerocopy(c.sim.a, c.cli, false), 0);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 500, SYNACK_SEND_ZEROCOPY), 500);
    sim_advance(&c.sim, SYNACK_MS(100));
    expect_empty(c.sim.a, c.cli);
    assert_int_equal(synack_set_zerocopy(c.sim.a, c.cli, true), 0);
    /* one user call of several writes is one send, one id */
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 300, SYNACK_SEND_ZEROCOPY | SYNACK_SEND_PART), 300);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 300, SYNACK_SEND_ZEROCOPY | SYNACK_SEND_PART), 300);
    synack_send_end(c.sim.a, c.cli);
    sim_advance(&c.sim, SYNACK_MS(100));
    expect_zc(c.sim.a, c.cli, 3, 3);
    expect_empty(c.sim.a, c.cli);
    sim_free(&c.sim);
}

/* At most SYNACK_ZEROCOPY_MAX sends await completion or a read: one more
 * is ENOBUFS (Linux: optmem_max), and takes no id; room comes back when
 * the completions are acknowledged (they merge into one) and read. */
static void enobufs_past_the_limit(void **state)
{
    (void)state;
    struct conn c;
    conn_up(&c, false, true);
    for (int i = 0; i < SYNACK_ZEROCOPY_MAX; i++)
        assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 1, SYNACK_SEND_ZEROCOPY), 1);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 1, SYNACK_SEND_ZEROCOPY), -ENOBUFS);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 1, 0), 1); /* a plain send is fine */
    sim_advance(&c.sim, SYNACK_SEC(1));
    expect_zc(c.sim.a, c.cli, 0, SYNACK_ZEROCOPY_MAX - 1);
    expect_empty(c.sim.a, c.cli);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 1, SYNACK_SEND_ZEROCOPY), 1);
    sim_advance(&c.sim, SYNACK_SEC(1));
    expect_zc(c.sim.a, c.cli, SYNACK_ZEROCOPY_MAX, SYNACK_ZEROCOPY_MAX);
    sim_free(&c.sim);
}

/* A connection reset with the data unacknowledged frees it: the send
 * completes then (tcp_write_queue_purge), never acknowledged. */
static void completion_when_connection_dies(void **state)
{
    (void)state;
    struct conn c;
    conn_up(&c, false, true);
    synack_memlink_drop_next(c.sim.link, 0, 1); /* the data never arrives */
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 1000, SYNACK_SEND_ZEROCOPY), 1000);
    sim_advance(&c.sim, SYNACK_MS(5));
    expect_empty(c.sim.a, c.cli);
    assert_int_equal(synack_set_linger(c.sim.b, c.srv, true, 0), 0);
    assert_int_equal(synack_close(c.sim.b, c.srv), 0); /* RST */
    sim_advance(&c.sim, SYNACK_MS(30));
    synack_tcp_info ti;
    assert_int_equal(synack_tcp_info_get(c.sim.a, c.cli, &ti), 0);
    assert_int_equal(ti.state, SYNACK_CLOSED);
    assert_int_not_equal(ti.snd_una, ti.snd_nxt); /* never acknowledged */
    expect_zc(c.sim.a, c.cli, 0, 0);
    expect_empty(c.sim.a, c.cli);
    sim_free(&c.sim);
}

/* SO_ZEROCOPY is inherited by the accepted socket (sk_clone_lock). */
static void accepted_socket_inherits_zerocopy(void **state)
{
    (void)state;
    struct conn c;
    conn_up(&c, true, false);
    bool on = false;
    assert_int_equal(synack_get_zerocopy(c.sim.b, c.srv, &on), 0);
    assert_true(on);
    assert_int_equal(synack_send_flags(c.sim.b, c.srv, data, 2000, SYNACK_SEND_ZEROCOPY), 2000);
    sim_advance(&c.sim, SYNACK_MS(100));
    expect_zc(c.sim.b, c.srv, 0, 0);
    sim_free(&c.sim);
}

static void expect_ts(synack_stack *s, synack_sock h, uint32_t what, uint32_t key, synack_time when)
{
    synack_errmsg m;
    assert_int_equal(synack_errqueue_pop(s, h, &m), 0);
    assert_int_equal(m.origin, SYNACK_EE_ORIGIN_TIMESTAMPING);
    assert_int_equal(m.err, ENOMSG);
    assert_int_equal(m.info, what);
    assert_int_equal(m.data, key);
    assert_int_equal(m.when, when);
}

/* SO_TIMESTAMPING with OPT_ID: the last byte of each write is keyed by its
 * offset from SND.UNA when the option was set; SCHED and SND when it is
 * sent, ACK at the ACK's arrival, stamped with the stack's clock. OPT_ID
 * needs a connection (EINVAL in CLOSED and LISTEN), OPT_ID_TCP needs
 * OPT_ID. */
static void timestamps_for_the_last_byte_of_each_write(void **state)
{
    (void)state;
    struct conn c;
    uint32_t fl = SYNACK_TS_TX_SCHED | SYNACK_TS_TX_SOFTWARE | SYNACK_TS_TX_ACK | SYNACK_TS_SOFTWARE | SYNACK_TS_OPT_ID;
    conn_up(&c, false, false);
    synack_sock fresh = synack_socket(c.sim.a);
    assert_int_equal(synack_set_timestamping(c.sim.a, fresh, fl), -EINVAL);
    assert_int_equal(synack_set_timestamping(c.sim.b, c.lsn, fl), -EINVAL);
    assert_int_equal(synack_set_timestamping(c.sim.a, c.cli, SYNACK_TS_OPT_ID_TCP), -EINVAL);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 100, 0), 100); /* before: keyed from here on */
    sim_advance(&c.sim, SYNACK_MS(100));
    assert_int_equal(synack_set_timestamping(c.sim.a, c.cli, fl), 0);
    uint32_t got = 0;
    assert_int_equal(synack_get_timestamping(c.sim.a, c.cli, &got), 0);
    assert_int_equal(got, fl);
    assert_int_equal(synack_setopt(c.sim.a, c.cli, SYNACK_OPT_NODELAY, 1), 0);
    synack_time t0 = c.sim.clock.now;
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 300, 0), 300);
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 200, 0), 200);
    sim_advance(&c.sim, SYNACK_MS(1)); /* the stack sends at its next poll, at t0 */
    /* both writes left at once (no Nagle, the window open): SCHED, SND each */
    expect_ts(c.sim.a, c.cli, SYNACK_TSTAMP_SCHED, 299, t0);
    expect_ts(c.sim.a, c.cli, SYNACK_TSTAMP_SND, 299, t0);
    expect_ts(c.sim.a, c.cli, SYNACK_TSTAMP_SCHED, 499, t0);
    expect_ts(c.sim.a, c.cli, SYNACK_TSTAMP_SND, 499, t0);
    expect_empty(c.sim.a, c.cli);
    sim_advance(&c.sim, SYNACK_MS(100));
    synack_errmsg m;
    assert_int_equal(synack_errqueue_pop(c.sim.a, c.cli, &m), 0);
    assert_int_equal(m.info, SYNACK_TSTAMP_ACK);
    assert_true(m.when >= t0 + 2 * DELAY); /* a round trip later, not at send */
    assert_true(m.data == 299 || m.data == 499);
    if (m.data == 299)
        assert_int_equal(synack_errqueue_pop(c.sim.a, c.cli, &m), 0);
    assert_int_equal(m.data, 499);
    expect_empty(c.sim.a, c.cli);
    /* TX_ACK alone: no SCHED, no SND */
    assert_int_equal(synack_set_timestamping(c.sim.a, c.cli, SYNACK_TS_TX_ACK | SYNACK_TS_OPT_ID), 0);
    synack_time t1 = c.sim.clock.now;
    assert_int_equal(synack_send_flags(c.sim.a, c.cli, data, 10, 0), 10);
    expect_empty(c.sim.a, c.cli);
    sim_advance(&c.sim, SYNACK_MS(100));
    assert_int_equal(synack_errqueue_pop(c.sim.a, c.cli, &m), 0);
    assert_int_equal(m.info, SYNACK_TSTAMP_ACK);
    assert_int_equal(m.data, 509);
    assert_true(m.when >= t1 + 2 * DELAY);
    expect_empty(c.sim.a, c.cli);
    synack_close(c.sim.a, fresh);
    sim_free(&c.sim);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(completion_after_ack_with_consecutive_ids),
        cmocka_unit_test(merged_while_unread_and_empty_send_takes_no_id),
        cmocka_unit_test(enobufs_past_the_limit),
        cmocka_unit_test(completion_when_connection_dies),
        cmocka_unit_test(accepted_socket_inherits_zerocopy),
        cmocka_unit_test(timestamps_for_the_last_byte_of_each_write),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
