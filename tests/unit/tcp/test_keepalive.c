/* Keepalive (RFC 1122 §4.2.3.6, Linux's TCP_KEEPIDLE/INTVL/CNT) and the
 * user timeout (RFC 5482, Linux's TCP_USER_TIMEOUT). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "xfer_util.h"

#define A_ WIRE_TCP_ACK

static void keep(struct conn *c, int idle, int intvl, int cnt)
{
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_KEEPIDLE, idle), 0);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_KEEPINTVL, intvl), 0);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_KEEPCNT, cnt), 0);
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_KEEPALIVE, 1), 0);
}

/* RFC 1122 §4.2.3.6: after the idle time a probe (Linux: an ACK at
 * SND.UNA - 1) goes every interval; after cnt unanswered probes the
 * connection is dropped with ETIMEDOUT (and a RST, as Linux). */
static void test_rfc1122_4_2_3_6_keepalive_probes_then_timeout(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    keep(c, 10, 2, 3);
    synack_time t0 = c->h.clock.now;
    for (int i = 0; i < 3; i++) {
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(100)));
        expect_seg(&c->h, A_, c->ours - 1, c->peer);
        assert_int_equal(c->h.clock.now - t0, SYNACK_SEC(10) + (synack_time)i * SYNACK_SEC(2));
    }
    assert_int_equal(ctr(&c->h, "tcp_keepalive_probes"), 3);
    assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(100)));
    struct wire_tcp t = x_next(&x);
    assert_true(t.flags & WIRE_TCP_RST);
    assert_int_equal(c->h.clock.now - t0, SYNACK_SEC(16));
    assert_int_equal(state_of(&c->h, c->s), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(c->h.s, c->s), -ETIMEDOUT);
    assert_int_equal(ctr(&c->h, "tcp_keepalive_timeouts"), 1);
    h_free(&c->h);
}

/* An answered probe keeps the connection, and the idle time restarts from
 * the answer. */
static void test_rfc1122_4_2_3_6_answered_probe_keeps_connection(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    keep(c, 10, 2, 1);
    for (int i = 0; i < 5; i++) {
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(100)));
        expect_seg(&c->h, A_, c->ours - 1, c->peer);
        synack_time at = c->h.clock.now;
        x_ack(&x, c->ours, NULL, 0);
        assert_true(h_run_to_deadline(&c->h, SYNACK_SEC(100)));
        expect_seg(&c->h, A_, c->ours - 1, c->peer);
        assert_int_equal(c->h.clock.now - at, SYNACK_SEC(10));
        x_ack(&x, c->ours, NULL, 0);
    }
    assert_int_equal(state_of(&c->h, c->s), SYNACK_ESTABLISHED);
    h_free(&c->h);
}

/* Without SO_KEEPALIVE an idle connection sends nothing, ever. */
static void test_rfc1122_4_2_3_6_keepalive_off_by_default(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .wscale = -1});
    assert_false(h_run_to_deadline(&x.c.h, SYNACK_SEC(100000)));
    expect_none(&x.c.h);
    h_free(&x.c.h);
}

/* RFC 5482 / TCP_USER_TIMEOUT: data unacknowledged for longer than the
 * user timeout ends the connection with ETIMEDOUT, long before the retry
 * count would. */
static void test_rfc5482_user_timeout_aborts(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_USER_TIMEOUT, 3000), 0);
    synack_time t0 = c->h.clock.now;
    assert_int_equal(synack_send(c->h.s, c->s, "never acked", 11), 11);
    while (state_of(&c->h, c->s) == SYNACK_ESTABLISHED && h_run_to_deadline(&c->h, SYNACK_SEC(1000)))
        ;
    assert_int_equal(state_of(&c->h, c->s), SYNACK_CLOSED);
    synack_time took = c->h.clock.now - t0;
    assert_true(took >= SYNACK_SEC(3));
    assert_true(took < SYNACK_SEC(10)); /* 15 retries would take minutes */
    assert_int_equal(synack_sock_error(c->h.s, c->s), -ETIMEDOUT);
    assert_int_equal(ctr(&c->h, "tcp_user_timeouts"), 1);
    h_free(&c->h);
}

/* RFC 5482 with a window that stays shut: the probes are answered, but the
 * user timeout still ends it (Linux tcp_probe_timer). */
static void test_rfc5482_user_timeout_on_zero_window(void **state)
{
    (void)state;
    struct xconn x;
    x_open(&x, NULL, &(struct xopen){.mss = 1000, .wscale = -1});
    struct conn *c = &x.c;
    assert_int_equal(synack_setopt(c->h.s, c->s, SYNACK_OPT_USER_TIMEOUT, 5000), 0);
    x.wnd = 0;
    x_ack(&x, c->ours, NULL, 0);
    assert_int_equal(synack_send(c->h.s, c->s, "x", 1), 1);
    int probes = 0;
    while (state_of(&c->h, c->s) == SYNACK_ESTABLISHED && h_run_to_deadline(&c->h, SYNACK_SEC(1000))) {
        struct wire_tcp t;
        while (h_next(&c->h, &t))
            probes++;
        x_ack(&x, c->ours, NULL, 0);
    }
    assert_true(probes >= 2);
    assert_int_equal(state_of(&c->h, c->s), SYNACK_CLOSED);
    assert_int_equal(synack_sock_error(c->h.s, c->s), -ETIMEDOUT);
    h_free(&c->h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc1122_4_2_3_6_keepalive_probes_then_timeout),
        cmocka_unit_test(test_rfc1122_4_2_3_6_answered_probe_keeps_connection),
        cmocka_unit_test(test_rfc1122_4_2_3_6_keepalive_off_by_default),
        cmocka_unit_test(test_rfc5482_user_timeout_aborts),
        cmocka_unit_test(test_rfc5482_user_timeout_on_zero_window),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
