/* A link end taken down (synack_memlink_set_down) loses every frame sent
 * from it, counts them in down_drops, leaves the other direction and the
 * frames already on the link alone, and carries traffic again once up. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "synack.h"

static synack_time clk(void *c) { return ((synack_vclock *)c)->now; }

static const uint8_t frame[60] = {0x45};

static void test_down_end_drops_and_counts(void **state)
{
    (void)state;
    synack_vclock v = {.now = 1000};
    synack_memlink *l = synack_memlink_new(SYNACK_MS(1), clk, &v);
    synack_link_ops ops = synack_memlink_ops();
    void *e0 = synack_memlink_end(l, 0), *e1 = synack_memlink_end(l, 1);
    assert_int_equal(ops.transmit(e0, frame, sizeof frame), 0); /* on the link before it goes down */
    synack_memlink_set_down(l, 0, true);
    for (int i = 0; i < 5; i++)
        assert_int_equal(ops.transmit(e0, frame, sizeof frame), 0);
    assert_int_equal(ops.transmit(e1, frame, sizeof frame), 0); /* the other direction still works */
    v.now += SYNACK_MS(2);
    assert_int_equal(synack_memlink_deliver(l, v.now), 2);
    synack_link_stats st;
    synack_memlink_stats(l, 0, &st);
    assert_int_equal(st.frames, 6);
    assert_int_equal(st.down_drops, 5);
    assert_int_equal(st.delivered, 1);
    assert_int_equal(st.lost, 0);
    synack_memlink_set_down(l, 0, false);
    assert_int_equal(ops.transmit(e0, frame, sizeof frame), 0);
    v.now += SYNACK_MS(2);
    assert_int_equal(synack_memlink_deliver(l, v.now), 1);
    synack_memlink_stats(l, 0, &st);
    assert_int_equal(st.down_drops, 5);
    assert_int_equal(st.delivered, 2);
    synack_memlink_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_down_end_drops_and_counts)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
