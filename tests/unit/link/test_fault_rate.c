/* The bandwidth limit: each frame takes len*8/rate to serialize, frames sent
 * together queue behind each other, fractions of a microsecond do not add
 * up to drift, and a frame sent to an idle link waits for nobody. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "link_util.h"

static struct lt *with_rate(uint64_t bps, synack_time delay)
{
    struct lt *t = malloc(sizeof *t);
    assert_non_null(t);
    lt_init(t, delay);
    synack_link_faults f = {.rate_bps = bps};
    assert_int_equal(synack_memlink_set_faults(t->link, 0, &f), 0);
    return t;
}

static void done(struct lt *t)
{
    lt_free(t);
    free(t);
}

static void a_burst_serializes_back_to_back(void **state)
{
    /* 1250 bytes at 10 Mbit/s: 1 ms each */
    struct lt *t = with_rate(10000000, SYNACK_MS(5));
    synack_time t0 = t->clock.now;
    lt_stream(t, 10, 1250, 0);
    assert_int_equal(t->n, 10);
    for (size_t i = 0; i < t->n; i++) {
        assert_int_equal(t->got[i].id, i);
        assert_int_equal(t->got[i].at, t0 + SYNACK_MS(5) + SYNACK_MS(i + 1));
    }
    done(t);
}

static void an_idle_link_adds_only_the_frame_time(void **state)
{
    struct lt *t = with_rate(10000000, SYNACK_MS(5));
    synack_time t0 = t->clock.now;
    lt_stream(t, 10, 1250, SYNACK_MS(2));
    for (size_t i = 0; i < t->n; i++)
        assert_int_equal(t->got[i].at, t0 + SYNACK_MS(2) * i + SYNACK_MS(6));
    done(t);
}

static void no_drift_from_rounding(void **state)
{
    /* 1000 bytes at 3 Gbit/s: 2.667 us each; 3000 frames take 8 ms exactly */
    struct lt *t = with_rate(3000000000u, 0);
    synack_time t0 = t->clock.now;
    lt_stream(t, 3000, 1000, 0);
    assert_int_equal(t->n, 3000);
    assert_int_equal(t->got[2999].at, t0 + SYNACK_MS(8));
    assert_int_equal(t->got[0].at, t0 + 3); /* 2.667 rounds up */
    done(t);
}

static void throughput_matches_the_rate(void **state)
{
    /* offered faster than the rate: arrivals pace at exactly the rate */
    struct lt *t = with_rate(100000000, SYNACK_MS(10));
    synack_time t0 = t->clock.now;
    lt_stream(t, 5000, 1500, 60); /* 1500 B every 60 us = 200 Mbit/s offered */
    assert_int_equal(t->n, 5000);
    /* 5000 * 120 us of serialization after the first frame's start */
    assert_int_equal(t->got[4999].at, t0 + SYNACK_MS(10) + 5000 * 120u);
    for (size_t i = 1; i < t->n; i++)
        assert_int_equal(t->got[i].at - t->got[i - 1].at, 120);
    synack_link_stats st = lt_stats(t);
    assert_true(st.queue_peak_frames >= 2000); /* half the offered load waits */
    done(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_burst_serializes_back_to_back),
        cmocka_unit_test(an_idle_link_adds_only_the_frame_time),
        cmocka_unit_test(no_drift_from_rounding),
        cmocka_unit_test(throughput_matches_the_rate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
