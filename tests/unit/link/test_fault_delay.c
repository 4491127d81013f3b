/* Delay and jitter: every frame takes the link's delay plus the fault's,
 * plus a jitter spread over [0, jitter]; jitter never lets a frame overtake
 * one sent before it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"

#define N 20000

static void fixed_delay_adds_up(void **state)
{
    struct lt t;
    lt_init(&t, SYNACK_MS(3));
    synack_link_faults f = {.delay = SYNACK_MS(7)};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    synack_time t0 = t.clock.now;
    lt_stream(&t, 100, 64, 1000);
    assert_int_equal(t.n, 100);
    for (size_t i = 0; i < t.n; i++)
        assert_int_equal(t.got[i].at - (t0 + t.got[i].id * 1000u), SYNACK_MS(10));
    lt_free(&t);
}

static void jitter_spreads_and_keeps_order(void **state)
{
    struct lt t;
    lt_init(&t, SYNACK_MS(10));
    synack_link_faults f = {.seed = 3, .jitter = SYNACK_MS(4)};
    assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
    synack_time t0 = t.clock.now;
    /* 5 ms apart: jitter alone cannot reorder, so every delay is its own */
    lt_stream(&t, N, 64, SYNACK_MS(5));
    assert_int_equal(t.n, N);
    synack_time lo = SYNACK_TIME_NEVER, hi = 0;
    double sum = 0;
    for (size_t i = 0; i < t.n; i++) {
        assert_int_equal(t.got[i].id, i);
        synack_time d = t.got[i].at - (t0 + i * SYNACK_MS(5));
        assert_true(d >= SYNACK_MS(10) && d <= SYNACK_MS(14));
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
        sum += (double)d;
    }
    /* uniform over 4000 us: the extremes are reached, the mean is central */
    assert_true(lo < SYNACK_MS(10) + 20 && hi > SYNACK_MS(14) - 20);
    double mean = sum / N;
    assert_true(mean > SYNACK_MS(12) - 50 && mean < SYNACK_MS(12) + 50);

    /* sent back to back, jitter would reorder; the link holds them in order */
    lt_stream(&t, 1000, 64, 10);
    for (size_t i = N; i < t.n; i++) {
        assert_int_equal(t.got[i].id, i - N);
        assert_true(t.got[i].at >= t.got[i - 1].at);
    }
    lt_free(&t);
}

static void same_seed_same_jitter(void **state)
{
    synack_time at[2][500];
    for (int k = 0; k < 2; k++) {
        struct lt t;
        lt_init(&t, SYNACK_MS(1));
        synack_link_faults f = {.seed = 8, .jitter = SYNACK_MS(2)};
        assert_int_equal(synack_memlink_set_faults(t.link, 0, &f), 0);
        lt_stream(&t, 500, 64, SYNACK_MS(3));
        for (size_t i = 0; i < 500; i++)
            at[k][i] = t.got[i].at;
        lt_free(&t);
    }
    assert_memory_equal(at[0], at[1], sizeof at[0]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fixed_delay_adds_up),
        cmocka_unit_test(jitter_spreads_and_keeps_order),
        cmocka_unit_test(same_seed_same_jitter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
