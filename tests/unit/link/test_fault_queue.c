/* The queue limit: tail drop when the frames waiting for the transmitter
 * (with a rate) or on the link (without one) reach the limit in frames or
 * bytes; room comes back as frames leave. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"

static void tail_drop_in_frames(void **state)
{
    struct lt t;
    lt_init(&t, SYNACK_MS(5));
    /* 1000 bytes at 8 Mbit/s: 1 ms each */
    synack_link_faults f = {.rate_bps = 8000000, .queue_frames = 5};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    for (uint32_t i = 0; i < 20; i++)
        lt_send(&t, i, 1000);
    synack_link_stats st = lt_stats(&t);
    assert_int_equal(st.queue_drops, 15);
    assert_int_equal(st.queue_peak_frames, 5);
    /* 2.5 ms later two have left the transmitter: two more fit, not three */
    lt_run_until(&t, t.clock.now + 2500);
    for (uint32_t i = 20; i < 23; i++)
        lt_send(&t, i, 1000);
    st = lt_stats(&t);
    assert_int_equal(st.queue_drops, 16);
    lt_drain(&t);
    assert_int_equal(t.n, 7);
    /* the tail was dropped: the first five, then 20 and 21 */
    static const uint32_t want[] = {0, 1, 2, 3, 4, 20, 21};
    for (size_t i = 0; i < 7; i++)
        assert_int_equal(t.got[i].id, want[i]);
    lt_free(&t);
}

static void tail_drop_in_bytes(void **state)
{
    struct lt t;
    lt_init(&t, 0);
    synack_link_faults f = {.rate_bps = 8000000, .queue_bytes = 3500};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    for (uint32_t i = 0; i < 10; i++)
        lt_send(&t, i, 1000);
    lt_send(&t, 10, 400); /* a small frame still fits in what is left */
    lt_send(&t, 11, 200);
    synack_link_stats st = lt_stats(&t);
    assert_int_equal(st.queue_drops, 8);
    assert_int_equal(st.queue_peak_bytes, 3400);
    lt_drain(&t);
    assert_int_equal(t.n, 4);
    assert_int_equal(t.got[3].id, 10);
    lt_free(&t);
}

static void without_a_rate_the_link_is_the_queue(void **state)
{
    struct lt t;
    lt_init(&t, SYNACK_MS(10));
    synack_link_faults f = {.queue_frames = 4};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    for (uint32_t i = 0; i < 10; i++)
        lt_send(&t, i, 100);
    assert_int_equal(lt_stats(&t).queue_drops, 6);
    lt_drain(&t);
    for (uint32_t i = 10; i < 14; i++)
        lt_send(&t, i, 100);
    assert_int_equal(lt_stats(&t).queue_drops, 6);
    lt_drain(&t);
    assert_int_equal(t.n, 8);
    lt_free(&t);
}

static void unlimited_by_default(void **state)
{
    struct lt t;
    lt_init(&t, SYNACK_MS(1));
    synack_link_faults f = {.rate_bps = 1000000};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    for (uint32_t i = 0; i < 10000; i++)
        lt_send(&t, i, 1500);
    lt_drain(&t);
    assert_int_equal(t.n, 10000);
    assert_int_equal(lt_stats(&t).queue_drops, 0);
    lt_free(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tail_drop_in_frames),
        cmocka_unit_test(tail_drop_in_bytes),
        cmocka_unit_test(without_a_rate_the_link_is_the_queue),
        cmocka_unit_test(unlimited_by_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
