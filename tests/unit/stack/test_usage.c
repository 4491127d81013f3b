/* synack_stack_usage: sockets, buffer bytes and the timer list counted where
 * they are allocated and freed, back to zero when every connection is gone. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "sim.h"

static void test_usage_follows_a_connection_and_returns_to_zero(void **state)
{
    (void)state;
    struct sim s;
    synack_config c = {.sndbuf = 8192, .rcvbuf = 16384, .time_wait = SYNACK_SEC(1)};
    sim_init(&s, 5, SYNACK_MS(1), &c);
    synack_stack_usage u;
    synack_stack_usage_get(s.b, &u);
    assert_int_equal(u.socks, 0);
    assert_int_equal(u.bytes, 0);
    synack_sock l = synack_socket(s.b);
    synack_endpoint e = sim_ep(SIM_ADDR_B, 80);
    assert_int_equal(synack_bind(s.b, l, &e), 0);
    assert_int_equal(synack_listen(s.b, l, 4), 0);
    synack_sock a = synack_socket(s.a);
    assert_int_equal(synack_connect(s.a, a, &e), -EINPROGRESS);
    sim_advance(&s, SYNACK_MS(10));
    synack_sock b = synack_accept(s.b, l, NULL);
    assert_true(b >= 0);
    synack_stack_usage_get(s.b, &u);
    assert_int_equal(u.socks, 2); /* the listener and the connection */
    assert_int_equal(u.handles, 2);
    assert_int_equal(u.conns, 1);
    assert_int_equal(u.buf_bytes, 0); /* an idle connection holds no ring storage */
    assert_int_equal(u.closed_armed, 0);
    /* unread data holds the receiver's ring; reading it gives it back */
    assert_int_equal(synack_send(s.a, a, "seed", 4), 4);
    sim_advance(&s, SYNACK_MS(10));
    synack_stack_usage_get(s.b, &u);
    assert_int_equal(u.buf_bytes, 16384);
    assert_true(u.exts >= 1);
    char got[8];
    assert_int_equal(synack_recv(s.b, b, got, sizeof got), 4);
    sim_advance(&s, SYNACK_MS(100));
    synack_stack_usage_get(s.b, &u);
    assert_int_equal(u.buf_bytes, 0);
    synack_stack_usage_get(s.a, &u);
    assert_int_equal(u.socks, 1);
    assert_int_equal(u.conns, 1);
    assert_true(u.bytes > u.buf_bytes);
    synack_close(s.a, a);
    sim_advance(&s, SYNACK_MS(10));
    synack_close(s.b, b);
    synack_close(s.b, l);
    sim_advance(&s, SYNACK_MS(10));
    synack_stack_usage_get(s.a, &u); /* the active closer, orphaned in TIME_WAIT: a record */
    assert_int_equal(u.socks, 0);
    assert_int_equal(u.timewait, 1);
    assert_int_equal(u.conns, 1);
    assert_int_equal(u.timers_armed, 1);
    sim_advance(&s, SYNACK_SEC(2)); /* past TIME_WAIT */
    for (int i = 0; i < 2; i++) {
        synack_stack_usage_get(i ? s.b : s.a, &u);
        assert_int_equal(u.socks, 0);
        assert_int_equal(u.conns, 0);
        assert_int_equal(u.bytes, 0);
        assert_int_equal(u.timers_armed, 0);
        assert_int_equal(u.timewait, 0);
        assert_int_equal(u.exts, 0);
    }
    sim_free(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_usage_follows_a_connection_and_returns_to_zero)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
