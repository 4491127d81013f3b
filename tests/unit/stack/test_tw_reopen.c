/* A new SYN that reuses a 4-tuple in TIME_WAIT (RFC 6191, Linux) while the
 * application still holds the old connection's handle: the old connection
 * must end in CLOSED, the new one must open, and close() on the old handle
 * must release it (found by fuzz/fuzz_stack: it stayed in TIME_WAIT, out of
 * every table, and leaked). ASan and valgrind watch for the leak. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../tcp/tcp_util.h"

static void held_handle_released_after_reopen(void **state)
{
    (void)state;
    struct harness h;
    h_init(&h, NULL);
    uint32_t iss;
    synack_sock lst;
    synack_sock c = h_passive_open(&h, 1000, &iss, &lst);
    assert_true(c >= 0);
    /* we close first: FIN_WAIT_1, the peer's FIN+ACK takes us to TIME_WAIT */
    assert_int_equal(synack_shutdown(h.s, c, SYNACK_SHUT_RDWR), 0);
    h_advance(&h, 0);
    expect_seg(&h, WIRE_TCP_FIN | WIRE_TCP_ACK, iss + 1, 1001);
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_FIN | WIRE_TCP_ACK, .seq = 1001, .ack = iss + 2});
    assert_int_equal(state_of(&h, c), SYNACK_TIME_WAIT);
    h_drain(&h);

    /* a new SYN above the old sequence space */
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_SYN, .seq = 500000});
    struct wire_tcp t = expect_flags(&h, WIRE_TCP_SYN | WIRE_TCP_ACK, 500001);
    assert_true(h_logged(&h, "TIME_WAIT -> CLOSED"));
    assert_int_equal(state_of(&h, c), SYNACK_CLOSED);
    assert_int_equal(synack_counter(h.s, "tcp_tw_reopened"), 1);

    /* the new connection completes and is accepted */
    h_inject(&h, &(struct h_seg){.flags = WIRE_TCP_ACK, .seq = 500001, .ack = t.seq + 1});
    synack_sock n = synack_accept(h.s, lst, NULL);
    assert_true(n >= 0);
    assert_int_equal(state_of(&h, n), SYNACK_ESTABLISHED);

    assert_int_equal(synack_close(h.s, c), 0); /* releases the old one */
    assert_int_equal(state_of(&h, n), SYNACK_ESTABLISHED);
    h_free(&h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(held_handle_released_after_reopen)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
